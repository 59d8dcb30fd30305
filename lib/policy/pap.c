/*
 * PAP marking definitions (the OASIS PAP extension, extension-definition--f8d78575-...)
 * and the one pass over an object's markings that the gate makes.
 *
 * The pass takes TLP from the stix module's table (cp_stix_tlp_of_marking_id) and
 * counts object and granular markings as cp_stix_object_tlp_max() does; it does not
 * call that function because the gate must read the same arrays anyway, to refuse
 * what it cannot interpret and to find the PAP, and reading them twice would double
 * the cost of the cheapest decisions.
 *
 * The extension permits only its own published marking-definition objects, so a PAP
 * marking is recognised by id, like TLP. The ids are those of the OASIS
 * cti-stix-common-objects repository (extension-definition-specifications/
 * pap-marking-definition-f8d) and of the OASIS cti-python-stix2-extensions package;
 * docs/POLICY.md lists them.
 */
#include <strings.h>

#include "internal.h"
#include "common.h"

#define MD_PREFIX "marking-definition--"
#define MD_PREFIX_LEN (sizeof(MD_PREFIX) - 1)
#define UUID_LEN 36

struct pap_marking {
	enum cp_pap pap;
	const char *id;
	const char *name;
};

/* PAP:CLEAR first so that the id written for CLEAR is the current one, not WHITE */
static const struct pap_marking paps[] = {
        {CP_PAP_CLEAR, MD_PREFIX "ad15a0cd-55b6-4588-a14c-a66105329b92", "PAP:CLEAR"},
        {CP_PAP_GREEN, MD_PREFIX "c43594d1-4b11-4c59-93ab-1c9b14d53ce9", "PAP:GREEN"},
        {CP_PAP_AMBER, MD_PREFIX "60f8932b-e51e-4458-b265-a2e8be9a80ab", "PAP:AMBER"},
        {CP_PAP_RED, MD_PREFIX "740d36e5-7714-4c30-961a-3ae632ceee0e", "PAP:RED"},
        /* legacy PAP:WHITE, still written by older MISP exports */
        {CP_PAP_CLEAR, MD_PREFIX "a3bea94c-b469-41dc-9cfe-d6e7daba7730", "PAP:WHITE"},
};

/* what each character of a UUID may be: 1 hex digit, 2 hyphen; a table because this
 * runs for every marking of every object that leaves */
static const unsigned char uuid_char[256] = {
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
        ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
        ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['-'] = 2,
};

bool cp__policy_is_marking_id(const char *s)
{
	if (strncmp(s, MD_PREFIX, MD_PREFIX_LEN) != 0)
		return false;
	s += MD_PREFIX_LEN;
	for (size_t i = 0; i < UUID_LEN; i++) {
		unsigned want = i == 8 || i == 13 || i == 18 || i == 23 ? 2 : 1;

		if (uuid_char[(unsigned char)s[i]] != want)
			return false;
	}
	return s[UUID_LEN] == '\0';
}

static enum cp_pap pap_of_uuid(const char *uuid)
{
	/* case-insensitive for the same reason as TLP ids (lib/stix/marking.c): an
	 * uppercase spelling of PAP:RED must not pass as unmarked */
	for (size_t i = 0; i < CP_ARRAY_LEN(paps); i++)
		if (strcasecmp(uuid, paps[i].id + MD_PREFIX_LEN) == 0)
			return paps[i].pap;
	return CP_PAP_NONE;
}

enum cp_pap cp_policy_pap_of_marking_id(const char *marking_id)
{
	if (!marking_id || strncmp(marking_id, MD_PREFIX, MD_PREFIX_LEN) != 0)
		return CP_PAP_NONE;
	return pap_of_uuid(marking_id + MD_PREFIX_LEN);
}

const char *cp_policy_pap_marking_id(enum cp_pap pap)
{
	for (size_t i = 0; i < CP_ARRAY_LEN(paps); i++)
		if (paps[i].pap == pap)
			return paps[i].id;
	return NULL;
}

const char *cp_policy_pap_name(enum cp_pap pap)
{
	for (size_t i = 0; i < CP_ARRAY_LEN(paps); i++)
		if (paps[i].pap == pap)
			return paps[i].name;
	return NULL;
}

static void set_bad(struct cp__policy_markings *m, const char *prop, size_t index, const char *what,
                    const json_t *value)
{
	m->bad = what;
	m->bad_prop = prop;
	m->bad_index = index;
	m->bad_value = json_string_value(value);
}

/* false when ref cannot be read (and m says why) */
static bool scan_ref(struct cp__policy_markings *m, const char *prop, size_t index,
                     const json_t *ref)
{
	const char *s = json_string_value(ref);
	enum cp_tlp tlp;
	enum cp_pap pap;

	if (!s) {
		set_bad(m, prop, index, "is not a string", NULL);
		return false;
	}
	/* an unknown marking-definition id is some other marking (a statement, a
	 * national caveat) and binds nothing the gate knows; anything else, "TLP:RED"
	 * written as text for instance, could be a TLP the gate would miss */
	if (!cp__policy_is_marking_id(s)) {
		set_bad(m, prop, index, "is not a marking-definition id", ref);
		return false;
	}
	tlp = cp_stix_tlp_of_marking_id(s);
	if (tlp != CP_TLP_NONE) {
		if (tlp > m->tlp)
			m->tlp = tlp;
		return true;
	}
	pap = pap_of_uuid(s + MD_PREFIX_LEN);
	if (pap > m->pap)
		m->pap = pap;
	return true;
}

void cp__policy_scan_markings(const json_t *obj, struct cp__policy_markings *m)
{
	const json_t *refs = json_object_get(obj, "object_marking_refs");
	const json_t *gm = json_object_get(obj, "granular_markings");
	const json_t *v;
	size_t i;

	m->tlp = CP_TLP_NONE;
	m->pap = CP_PAP_NONE;
	m->bad = NULL;
	m->bad_prop = NULL;
	m->bad_index = SIZE_MAX;
	m->bad_value = NULL;

	/* present but null counts as wrong: a producer that nulls its markings has not
	 * said "unmarked" */
	if (refs) {
		if (!json_is_array(refs)) {
			set_bad(m, "object_marking_refs", SIZE_MAX, "is not an array", NULL);
			return;
		}
		json_array_foreach (refs, i, v) {
			if (!scan_ref(m, "object_marking_refs", i, v))
				return;
		}
	}
	if (!gm)
		return;
	if (!json_is_array(gm)) {
		set_bad(m, "granular_markings", SIZE_MAX, "is not an array", NULL);
		return;
	}
	json_array_foreach (gm, i, v) {
		const json_t *ref;

		if (!json_is_object(v)) {
			set_bad(m, "granular_markings", i, "is not an object", NULL);
			return;
		}
		ref = json_object_get(v, "marking_ref");
		if (ref) {
			if (!scan_ref(m, "granular_markings", i, ref))
				return;
		} else if (!json_is_string(json_object_get(v, "lang"))) {
			set_bad(m, "granular_markings", i, "has neither marking_ref nor lang",
			        NULL);
			return;
		}
	}
}

enum cp_pap cp_policy_object_pap(const json_t *obj)
{
	const json_t *refs = json_object_get(obj, "object_marking_refs");
	const json_t *gm = json_object_get(obj, "granular_markings");
	enum cp_pap pap = CP_PAP_NONE, p;
	const json_t *v;
	size_t i;

	json_array_foreach (refs, i, v) {
		p = cp_policy_pap_of_marking_id(json_string_value(v));
		if (p > pap)
			pap = p;
	}
	json_array_foreach (gm, i, v) {
		p = cp_policy_pap_of_marking_id(
		        json_string_value(json_object_get(v, "marking_ref")));
		if (p > pap)
			pap = p;
	}
	return pap;
}
