/*
 * TLP marking definitions: the nine published ids (four of TLP 1.0 from STIX 2.1
 * section 7.2.1.4, five of the OASIS TLP 2.0 extension) and the TLP of an object.
 */
#include <strings.h>

#include "cyberpact/stix-marking.h"
#include "common.h"

#define MD_PREFIX "marking-definition--"
#define MD_PREFIX_LEN (sizeof(MD_PREFIX) - 1)

#define TLP1_CREATED "2017-01-20T00:00:00.000Z"
#define TLP2_CREATED "2022-10-01T00:00:00.000Z"

static const struct cp_stix_tlp_marking markings[] = {
	{CP_TLP_CLEAR, 1, MD_PREFIX "613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", "white",
	 TLP1_CREATED},
	{CP_TLP_GREEN, 1, MD_PREFIX "34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", "green",
	 TLP1_CREATED},
	{CP_TLP_AMBER, 1, MD_PREFIX "f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber",
	 TLP1_CREATED},
	{CP_TLP_RED, 1, MD_PREFIX "5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", "red",
	 TLP1_CREATED},
	{CP_TLP_CLEAR, 2, MD_PREFIX "94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear",
	 TLP2_CREATED},
	{CP_TLP_GREEN, 2, MD_PREFIX "bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green",
	 TLP2_CREATED},
	{CP_TLP_AMBER, 2, MD_PREFIX "55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber",
	 TLP2_CREATED},
	{CP_TLP_AMBER_STRICT, 2, MD_PREFIX "939a9414-2ddd-4d32-a0cd-375ea402b003",
	 "TLP:AMBER+STRICT", "amber+strict", TLP2_CREATED},
	{CP_TLP_RED, 2, MD_PREFIX "e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red",
	 TLP2_CREATED},
};

const struct cp_stix_tlp_marking *cp_stix_tlp_marking_find(const char *marking_id)
{
	if (!marking_id || strncmp(marking_id, MD_PREFIX, MD_PREFIX_LEN) != 0)
		return NULL;
	/* a reference written with an uppercase UUID still names the same marking, and
	 * missing it would let a RED object pass as unmarked */
	for (size_t i = 0; i < CP_ARRAY_LEN(markings); i++)
		if (strcasecmp(marking_id + MD_PREFIX_LEN, markings[i].id + MD_PREFIX_LEN) == 0)
			return &markings[i];
	return NULL;
}

enum cp_tlp cp_stix_tlp_of_marking_id(const char *marking_id)
{
	const struct cp_stix_tlp_marking *m = cp_stix_tlp_marking_find(marking_id);

	return m ? m->tlp : CP_TLP_NONE;
}

static const struct cp_stix_tlp_marking *tlp2_of(enum cp_tlp tlp)
{
	for (size_t i = 0; i < CP_ARRAY_LEN(markings); i++)
		if (markings[i].tlp_version == 2 && markings[i].tlp == tlp)
			return &markings[i];
	return NULL;
}

const char *cp_stix_tlp_marking_id(enum cp_tlp tlp)
{
	const struct cp_stix_tlp_marking *m = tlp2_of(tlp);

	return m ? m->id : NULL;
}

const char *cp_stix_tlp_name(enum cp_tlp tlp)
{
	const struct cp_stix_tlp_marking *m = tlp2_of(tlp);

	return m ? m->name : NULL;
}

static enum cp_tlp stricter(enum cp_tlp a, const json_t *ref)
{
	enum cp_tlp b;

	if (!json_is_string(ref))
		return a;
	b = cp_stix_tlp_of_marking_id(json_string_value(ref));
	return b > a ? b : a;
}

enum cp_tlp cp_stix_object_tlp(const json_t *obj)
{
	const json_t *refs = json_object_get(obj, "object_marking_refs");
	enum cp_tlp tlp = CP_TLP_NONE;
	size_t i;
	const json_t *r;

	if (!json_is_array(refs))
		return CP_TLP_NONE;
	json_array_foreach(refs, i, r)
	{
		tlp = stricter(tlp, r);
	}
	return tlp;
}

enum cp_tlp cp_stix_object_tlp_max(const json_t *obj)
{
	const json_t *gm = json_object_get(obj, "granular_markings");
	enum cp_tlp tlp = cp_stix_object_tlp(obj);
	size_t i;
	const json_t *g;

	if (!json_is_array(gm))
		return tlp;
	json_array_foreach(gm, i, g)
	{
		tlp = stricter(tlp, json_object_get(g, "marking_ref"));
	}
	return tlp;
}
