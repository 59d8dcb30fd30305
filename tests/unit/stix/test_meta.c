/*
 * STIX Meta Objects (spec section 7), the bundle rules (section 8) and the TLP helpers
 * of cyberpact/stix-marking.h.
 *
 * Most rule tests are tables: a base document, one edit at a JSON pointer, and the
 * finding the edit must (or must not) cause.
 */
#include "testutil.h"
#include "cyberpact/stix.h"
#include "cyberpact/stix-marking.h"

/* ------------------------------------------------------------------ documents */

#define TLP2_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

/* STIX 2.1 section 7.2.1.4, verbatim */
static const char tlp1_white[] = "{\n"
	"  \"type\": \"marking-definition\",\n"
	"  \"spec_version\": \"2.1\",\n"
	"  \"id\": \"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9\",\n"
	"  \"created\": \"2017-01-20T00:00:00.000Z\",\n"
	"  \"definition_type\": \"tlp\",\n"
	"  \"name\": \"TLP:WHITE\",\n"
	"  \"definition\": {\n"
	"    \"tlp\": \"white\"\n"
	"  }\n"
	"}";
static const char tlp1_green[] = "{\n"
	"  \"type\": \"marking-definition\",\n"
	"  \"spec_version\": \"2.1\",\n"
	"  \"id\": \"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da\",\n"
	"  \"created\": \"2017-01-20T00:00:00.000Z\",\n"
	"  \"definition_type\": \"tlp\",\n"
	"  \"name\": \"TLP:GREEN\",\n"
	"  \"definition\": {\n"
	"    \"tlp\": \"green\"\n"
	"  }\n"
	"}";
static const char tlp1_amber[] = "{\n"
	"  \"type\": \"marking-definition\",\n"
	"  \"spec_version\": \"2.1\",\n"
	"  \"id\": \"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\",\n"
	"  \"created\": \"2017-01-20T00:00:00.000Z\",\n"
	"  \"definition_type\": \"tlp\",\n"
	"  \"name\": \"TLP:AMBER\",\n"
	"  \"definition\": {\n"
	"    \"tlp\": \"amber\"\n"
	"  }\n"
	"}";
static const char tlp1_red[] = "{\n"
	"  \"type\": \"marking-definition\",\n"
	"  \"spec_version\": \"2.1\",\n"
	"  \"id\": \"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed\",\n"
	"  \"created\": \"2017-01-20T00:00:00.000Z\",\n"
	"  \"definition_type\": \"tlp\",\n"
	"  \"name\": \"TLP:RED\",\n"
	"  \"definition\": {\n"
	"    \"tlp\": \"red\"\n"
	"  }\n"
	"}";

/* OASIS cti-stix-common-objects, extension-definition-specifications/tlp-2.0 */
static const char tlp2_clear[] = "{\n"
	"  \"type\": \"marking-definition\",\n"
	"  \"spec_version\": \"2.1\",\n"
	"  \"id\": \"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487\",\n"
	"  \"created\": \"2022-10-01T00:00:00.000Z\",\n"
	"  \"name\": \"TLP:CLEAR\",\n"
	"  \"extensions\": {\n"
	"    \"" TLP2_EXT "\": {\n"
	"      \"extension_type\": \"property-extension\",\n"
	"      \"tlp_2_0\": \"clear\"\n"
	"    }\n"
	"  }\n"
	"}";
static const char tlp2_green[] = "{\n"
	"  \"type\": \"marking-definition\",\n"
	"  \"spec_version\": \"2.1\",\n"
	"  \"id\": \"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\",\n"
	"  \"created\": \"2022-10-01T00:00:00.000Z\",\n"
	"  \"name\": \"TLP:GREEN\",\n"
	"  \"extensions\": {\n"
	"    \"" TLP2_EXT "\": {\n"
	"      \"extension_type\": \"property-extension\",\n"
	"      \"tlp_2_0\": \"green\"\n"
	"    }\n"
	"  }\n"
	"}";
static const char tlp2_amber[] = "{\n"
	"  \"type\": \"marking-definition\",\n"
	"  \"spec_version\": \"2.1\",\n"
	"  \"id\": \"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\",\n"
	"  \"created\": \"2022-10-01T00:00:00.000Z\",\n"
	"  \"name\": \"TLP:AMBER\",\n"
	"  \"extensions\": {\n"
	"    \"" TLP2_EXT "\": {\n"
	"      \"extension_type\": \"property-extension\",\n"
	"      \"tlp_2_0\": \"amber\"\n"
	"    }\n"
	"  }\n"
	"}";
static const char tlp2_amber_strict[] = "{\n"
	"  \"type\": \"marking-definition\",\n"
	"  \"spec_version\": \"2.1\",\n"
	"  \"id\": \"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003\",\n"
	"  \"created\": \"2022-10-01T00:00:00.000Z\",\n"
	"  \"name\": \"TLP:AMBER+STRICT\",\n"
	"  \"extensions\": {\n"
	"    \"" TLP2_EXT "\": {\n"
	"      \"extension_type\": \"property-extension\",\n"
	"      \"tlp_2_0\": \"amber+strict\"\n"
	"    }\n"
	"  }\n"
	"}";
static const char tlp2_red[] = "{\n"
	"  \"type\": \"marking-definition\",\n"
	"  \"spec_version\": \"2.1\",\n"
	"  \"id\": \"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\",\n"
	"  \"created\": \"2022-10-01T00:00:00.000Z\",\n"
	"  \"name\": \"TLP:RED\",\n"
	"  \"extensions\": {\n"
	"    \"" TLP2_EXT "\": {\n"
	"      \"extension_type\": \"property-extension\",\n"
	"      \"tlp_2_0\": \"red\"\n"
	"    }\n"
	"  }\n"
	"}";

/* the extension definition the TLP 2.0 markings use (OASIS cti-stix-common-objects) */
static const char tlp2_extdef[] = "{\n"
	"  \"id\": \"" TLP2_EXT "\",\n"
	"  \"type\": \"extension-definition\",\n"
	"  \"spec_version\": \"2.1\",\n"
	"  \"name\": \"TLP 2.0\",\n"
	"  \"description\": \"This defines TLP 2.0 as a STIX extension\",\n"
	"  \"created\": \"2022-10-01T00:00:00.000Z\",\n"
	"  \"modified\": \"2022-10-01T00:00:00.000Z\",\n"
	"  \"created_by_ref\": \"identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01\",\n"
	"  \"schema\": \"https://github.com/oasis-open/cti-stix-common-objects/tree/master/"
	"extension-definition-specifications/tlp-2.0\",\n"
	"  \"version\": \"1.0.0\",\n"
	"  \"extension_types\": [\"property-extension\"]\n"
	"}";

/* spec 7.2.1.3 example */
static const char md_statement[] = "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
	"\"id\":\"marking-definition--4a0042fe-8b88-40fe-9600-dfa128ce6fbd\","
	"\"created\":\"2016-08-01T00:00:00.000Z\",\"definition_type\":\"statement\","
	"\"definition\":{\"statement\":\"Copyright 2019, Example Corp\"}}";

/* a marking defined by an extension that is not TLP 2.0 */
#define ACME_EXT "extension-definition--3a7d1c40-9d5e-4a8b-8f6e-5b1e0d2c9a11"
static const char md_ext[] = "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
	"\"id\":\"marking-definition--0b3f2a31-5c86-4b61-9c4e-2d62a6d1e1f0\","
	"\"created\":\"2023-01-01T00:00:00.000Z\",\"name\":\"ACME:INTERNAL\","
	"\"extensions\":{\"" ACME_EXT "\":{\"extension_type\":\"property-extension\","
	"\"acme_level\":\"internal\"}}}";

/* spec 7.1.2 examples */
static const char lc_campaign[] = "{\"type\":\"language-content\","
	"\"id\":\"language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d\",\"spec_version\":\"2.1\","
	"\"created\":\"2017-02-08T21:31:22.007Z\",\"modified\":\"2017-02-08T21:31:22.007Z\","
	"\"object_ref\":\"campaign--12a111f0-b824-4baf-a224-83b80237a094\","
	"\"object_modified\":\"2017-02-08T21:31:22.007Z\",\"contents\":{"
	"\"de\":{\"name\":\"Bank Angriff\",\"description\":\"Weitere Informationen \xc3\xbc"
	"ber Bank\xc3\xbc" "berfall\"},"
	"\"fr\":{\"name\":\"Attaque Bank\",\"description\":\"Plus d'informations sur la crise "
	"bancaire\"}}}";
static const char lc_goals[] = "{\"type\":\"language-content\","
	"\"id\":\"language-content--0911f616-727f-48cb-a4c5-9420299562a4\",\"spec_version\":\"2.1\","
	"\"created\":\"2019-06-08T21:31:22.007Z\",\"modified\":\"2019-07-08T21:31:22.007Z\","
	"\"object_ref\":\"threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"contents\":{"
	"\"de\":{\"goals\":[\"Bankgeld stehlen\",\"Kreditkarten stehlen\"]},"
	"\"fr\":{\"goals\":[\"Voler de l'argent en banque\",\"\"]}}}";

/* spec 7.3.2 examples */
static const char ed_new_sdo[] = "{\"id\":\"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62\","
	"\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"name\":\"New SDO 1\","
	"\"description\":\"This schema creates a new object type called my-favorite-sdo-1\","
	"\"created\":\"2014-02-20T09:16:08.989000Z\",\"modified\":\"2014-02-20T09:16:08.989000Z\","
	"\"created_by_ref\":\"identity--11b76a96-5d2b-45e0-8a5a-f6994f370731\","
	"\"schema\":\"https://www.example.com/schema-my-favorite-sdo-1/v1/\",\"version\":\"1.2.1\","
	"\"extension_types\":[\"new-sdo\"]}";
static const char ed_toplevel[] = "{\"id\":\"extension-definition--71736db5-10db-43d3-b0e3-65cf81601fe1\","
	"\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"name\":\"Extension Foo 1a\","
	"\"description\":\"This schema adds two properties to a STIX object at the toplevel\","
	"\"created\":\"2014-02-20T09:16:08.989000Z\",\"modified\":\"2014-02-20T09:16:08.989000Z\","
	"\"created_by_ref\":\"identity--11b76a96-5d2b-45e0-8a5a-f6994f370731\","
	"\"schema\":\"https://www.example.com/schema-foo-1a/v1/\",\"version\":\"1.2.1\","
	"\"extension_types\":[\"toplevel-property-extension\"],"
	"\"extension_properties\":[\"toxicity\",\"rank\"]}";

static const char bundle[] = "{\"type\":\"bundle\","
	"\"id\":\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\",\"objects\":[{"
	"\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
	"\"id\":\"marking-definition--4a0042fe-8b88-40fe-9600-dfa128ce6fbd\","
	"\"created\":\"2016-08-01T00:00:00.000Z\",\"definition_type\":\"statement\","
	"\"definition\":{\"statement\":\"Copyright 2019, Example Corp\"}}]}";

/* -------------------------------------------------------------------- helpers */

static json_t *parse(const char *text)
{
	json_t *j = NULL;
	struct cp_diag d;

	cp_diag_init(&d);
	if (cp_stix_json_parse(text, strlen(text), &j, &d) != CP_OK) {
		tu_dump(&d);
		fail_msg("test document does not parse: %s", text);
	}
	cp_diag_release(&d);
	return j;
}

static void validate(const json_t *doc, struct cp_diag *d)
{
	cp_diag_init(d);
	assert_int_equal(cp_stix_validate(doc, 0, d), CP_OK);
}

/* Put the JSON text value at the pointer ptr of doc (delete it when value is NULL). */
static void patch(json_t *doc, const char *ptr, const char *value)
{
	char buf[512];
	char *tok, *slash;
	json_t *cur = doc, *val = NULL;

	assert_true(ptr[0] == '/' && strlen(ptr) < sizeof(buf));
	snprintf(buf, sizeof(buf), "%s", ptr + 1);
	tok = buf;
	while ((slash = strchr(tok, '/'))) {
		*slash = '\0';
		cur = json_is_array(cur) ? json_array_get(cur, strtoul(tok, NULL, 10))
					 : json_object_get(cur, tok);
		assert_non_null(cur);
		tok = slash + 1;
	}
	if (value) {
		val = json_loads(value, JSON_DECODE_ANY, NULL);
		if (!val)
			fail_msg("patch value does not parse: %s", value);
	}
	if (json_is_array(cur)) {
		size_t i = strtoul(tok, NULL, 10);
		assert_int_equal(val ? json_array_set_new(cur, i, val) : json_array_remove(cur, i), 0);
	} else {
		assert_int_equal(val ? json_object_set_new(cur, tok, val) : json_object_del(cur, tok),
				 0);
	}
}

struct tcase {
	const char *doc;
	const char *ptr;   /* where to edit doc, NULL for no edit */
	const char *value; /* JSON text to put there, NULL to delete */
	enum cp_severity sev;
	const char *code; /* NULL: no findings at all */
	const char *at;   /* pointer of the finding; NULL: no finding of sev and code */
};

#define ERR(doc, ptr, val, code, at) {doc, ptr, val, CP_SEV_ERROR, code, at}
#define WARN(doc, ptr, val, code, at) {doc, ptr, val, CP_SEV_WARNING, code, at}
#define NO_ERR(doc, ptr, val, code) {doc, ptr, val, CP_SEV_ERROR, code, NULL}
#define NO_WARN(doc, ptr, val, code) {doc, ptr, val, CP_SEV_WARNING, code, NULL}
#define CLEAN(doc, ptr, val) {doc, ptr, val, CP_SEV_ERROR, NULL, NULL}

static void run_cases(const struct tcase *cases, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct tcase *c = &cases[i];
		json_t *doc = parse(c->doc);
		struct cp_diag d;
		bool ok;

		if (c->ptr)
			patch(doc, c->ptr, c->value);
		validate(doc, &d);
		if (!c->code)
			ok = d.count == 0;
		else if (c->at)
			ok = tu_find(&d, c->sev, c->code, c->at) != NULL;
		else
			ok = tu_find(&d, c->sev, c->code, NULL) == NULL;
		if (!ok) {
			tu_dump(&d);
			fail_msg("case %zu (edit %s = %s): expected %s%s [%s] at %s", i,
				 c->ptr ? c->ptr : "-", c->value ? c->value : "(deleted)",
				 c->code && !c->at ? "no " : "", cp_severity_name(c->sev),
				 c->code ? c->code : "no findings", c->at ? c->at : "-");
		}
		json_decref(doc);
		cp_diag_release(&d);
	}
}

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

/* ----------------------------------------------------------- canonical TLP */

static void tlp_canonical_clean(void **state)
{
	static const char *const docs[] = {tlp1_white, tlp1_green, tlp1_amber, tlp1_red,
					   tlp2_clear, tlp2_green, tlp2_amber, tlp2_amber_strict,
					   tlp2_red, tlp2_extdef};
	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_t *doc = parse(docs[i]);
		struct cp_diag d;
		validate(doc, &d);
		if (d.count) {
			tu_dump(&d);
			fail_msg("canonical object %zu is not clean", i);
		}
		json_decref(doc);
		cp_diag_release(&d);
	}
}

/* All nine in one bundle with an indicator marked by every one of them. */
static void tlp_canonical_bundle_clean(void **state)
{
	static const char *const docs[] = {tlp1_white, tlp1_green, tlp1_amber, tlp1_red,
					   tlp2_clear, tlp2_green, tlp2_amber, tlp2_amber_strict,
					   tlp2_red};
	json_t *b = parse("{\"type\":\"bundle\",\"id\":\"bundle--0b6fa1d2-7d9c-4b3e-8a41-"
			  "2f5e6c7d8e9f\",\"objects\":[]}");
	json_t *objs = json_object_get(b, "objects");
	json_t *ind = parse("{\"type\":\"indicator\",\"spec_version\":\"2.1\","
			    "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
			    "\"created\":\"2016-04-06T20:03:48.000Z\","
			    "\"modified\":\"2016-04-06T20:03:48.000Z\","
			    "\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\","
			    "\"valid_from\":\"2016-01-01T00:00:00Z\",\"object_marking_refs\":[]}");
	json_t *refs = json_object_get(ind, "object_marking_refs");
	struct cp_diag d;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_t *m = parse(docs[i]);
		json_array_append(refs, json_object_get(m, "id"));
		json_array_append_new(objs, m);
	}
	json_array_append_new(objs, ind);
	validate(b, &d);
	assert_clean(&d);
	assert_int_equal(cp_stix_object_tlp(ind), CP_TLP_RED);
	json_decref(b);
	cp_diag_release(&d);
}

#define W_ID "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define AS_ID "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define OTHER_MD "\"marking-definition--7b4d9c6e-2f1a-4e8b-9c3d-5a6b7c8d9e0f\""
#define IDENT "\"identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01\""

static void tlp1_tampered(void **state)
{
	static const struct tcase cases[] = {
		ERR(tlp1_white, "/name", "\"TLP:CLEAR\"", "tlp-marking", "/name"),
		ERR(tlp1_white, "/name", NULL, "tlp-marking", "/name"),
		ERR(tlp1_white, "/created", "\"2017-01-21T00:00:00.000Z\"", "tlp-marking",
		    "/created"),
		/* the same instant written with more digits is the same object */
		CLEAN(tlp1_white, "/created", "\"2017-01-20T00:00:00.000000Z\""),
		ERR(tlp1_white, "/definition/tlp", "\"red\"", "tlp-marking", "/definition/tlp"),
		ERR(tlp1_white, "/definition/tlp", "\"purple\"", "enum-value", "/definition/tlp"),
		NO_ERR(tlp1_white, "/definition/tlp", "\"purple\"", "tlp-marking"),
		ERR(tlp1_white, "/definition/tlp", "1", "type-mismatch", "/definition/tlp"),
		ERR(tlp1_white, "/definition/x_note", "\"hi\"", "tlp-marking", "/definition/x_note"),
		ERR(tlp1_white, "/definition_type", "\"statement\"", "tlp-marking",
		    "/definition_type"),
		ERR(tlp1_white, "/created_by_ref", IDENT, "tlp-marking", "/created_by_ref"),
		ERR(tlp1_white, "/object_marking_refs", "[" OTHER_MD "]", "tlp-marking",
		    "/object_marking_refs"),
		ERR(tlp1_white, "/external_references",
		    "[{\"source_name\":\"first\",\"url\":\"https://www.first.org/tlp/\"}]",
		    "tlp-marking", "/external_references"),
		ERR(tlp1_white, "/id", "\"" "marking-definition--613F2E26-407D-48C7-9ECA-B8E91DF99DC9"
		    "\"", "tlp-marking", "/id"),
		ERR(tlp1_white, "/extensions",
		    "{\"" TLP2_EXT "\":{\"extension_type\":\"property-extension\","
		    "\"tlp_2_0\":\"clear\"}}",
		    "tlp-marking", "/extensions"),
		/* a missing required property is reported once, as missing */
		ERR(tlp1_white, "/definition", NULL, "missing-property", "/definition"),
		NO_ERR(tlp1_white, "/definition", NULL, "tlp-marking"),
		ERR(tlp1_white, "/created", NULL, "missing-property", "/created"),
		NO_ERR(tlp1_white, "/created", NULL, "tlp-marking"),
		/* spec 7.2.1.4: no TLP 1.0 marking under another id */
		ERR(tlp1_white, "/id", OTHER_MD, "tlp-marking", "/id"),
		ERR(tlp1_red, "/id", OTHER_MD, "tlp-marking", "/id"),
		/* an id of one level with the content of another */
		ERR(tlp1_green, "/id", "\"" W_ID "\"", "tlp-marking", "/name"),
		ERR(tlp1_green, "/id", "\"" W_ID "\"", "tlp-marking", "/definition/tlp"),
	};
	(void)state;
	RUN(cases);
}

#define EXT_PTR "/extensions/" TLP2_EXT

static void tlp2_tampered(void **state)
{
	static const struct tcase cases[] = {
		ERR(tlp2_amber_strict, EXT_PTR "/tlp_2_0", "\"amber\"", "tlp-marking",
		    EXT_PTR "/tlp_2_0"),
		ERR(tlp2_amber_strict, EXT_PTR "/tlp_2_0", "\"purple\"", "enum-value",
		    EXT_PTR "/tlp_2_0"),
		NO_ERR(tlp2_amber_strict, EXT_PTR "/tlp_2_0", "\"purple\"", "tlp-marking"),
		ERR(tlp2_amber_strict, EXT_PTR "/tlp_2_0", NULL, "tlp-marking", EXT_PTR "/tlp_2_0"),
		ERR(tlp2_amber_strict, EXT_PTR "/tlp_2_0", "[\"red\"]", "type-mismatch",
		    EXT_PTR "/tlp_2_0"),
		ERR(tlp2_amber_strict, EXT_PTR "/extension_type", "\"toplevel-property-extension\"",
		    "tlp-marking", EXT_PTR "/extension_type"),
		ERR(tlp2_amber_strict, EXT_PTR "/x_note", "\"hi\"", "tlp-marking", EXT_PTR "/x_note"),
		ERR(tlp2_amber_strict, "/extensions/" ACME_EXT,
		    "{\"extension_type\":\"property-extension\",\"acme_level\":\"internal\"}",
		    "tlp-marking", "/extensions/" ACME_EXT),
		ERR(tlp2_amber_strict, EXT_PTR, NULL, "tlp-marking", "/extensions"),
		ERR(tlp2_amber_strict, "/name", "\"TLP:AMBER\"", "tlp-marking", "/name"),
		ERR(tlp2_amber_strict, "/name", NULL, "tlp-marking", "/name"),
		ERR(tlp2_amber_strict, "/created", "\"2022-09-01T00:00:00.000Z\"", "tlp-marking",
		    "/created"),
		ERR(tlp2_amber_strict, "/created_by_ref", IDENT, "tlp-marking", "/created_by_ref"),
		ERR(tlp2_amber_strict, "/granular_markings",
		    "[{\"marking_ref\":" OTHER_MD ",\"selectors\":[\"name\"]}]", "tlp-marking",
		    "/granular_markings"),
		ERR(tlp2_amber_strict, "/id", "\"marking-definition--939A9414-2DDD-4D32-A0CD-"
		    "375EA402B003\"", "tlp-marking", "/id"),
		/* written in the TLP 1.0 style under a TLP 2.0 id */
		ERR(tlp2_amber_strict, "/definition_type", "\"tlp\"", "tlp-marking",
		    "/definition_type"),
		ERR(tlp2_amber_strict, "/definition_type", "\"tlp\"", "tlp-marking", "/id"),
		ERR(tlp2_amber_strict, "/definition", "{\"tlp\":\"amber\"}", "tlp-marking",
		    "/definition"),
		/* the TLP 2.0 extension under another id */
		ERR(tlp2_amber_strict, "/id", OTHER_MD, "tlp-marking", "/id"),
		ERR(tlp2_red, "/id", "\"" AS_ID "\"", "tlp-marking", "/name"),
		ERR(tlp2_red, "/id", "\"" AS_ID "\"", "tlp-marking", EXT_PTR "/tlp_2_0"),
		/* the TLP 1.0 white id with TLP 2.0 content */
		ERR(tlp2_clear, "/id", "\"" W_ID "\"", "tlp-marking", "/extensions"),
		ERR(tlp2_clear, "/id", "\"" W_ID "\"", "tlp-marking", "/id"),
	};
	(void)state;
	RUN(cases);
}

/* ---------------------------------------------------------- marking-definition */

static void marking_rules(void **state)
{
	static const struct tcase cases[] = {
		CLEAN(md_statement, NULL, NULL),
		CLEAN(md_ext, NULL, NULL),
		/* 7.2.1: definition_type and definition required without extensions */
		ERR(md_statement, "/definition_type", NULL, "missing-property", "/definition_type"),
		ERR(md_statement, "/definition", NULL, "missing-property", "/definition"),
		ERR(md_ext, "/extensions", NULL, "missing-property", "/definition_type"),
		ERR(md_ext, "/extensions", NULL, "missing-property", "/definition"),
		NO_ERR(md_ext, NULL, NULL, "missing-property"),
		/* with extensions, the two belong together */
		WARN(md_ext, "/definition_type", "\"statement\"", "missing-property", "/definition"),
		WARN(md_ext, "/definition", "{\"statement\":\"Internal use only\"}",
		     "missing-property", "/definition_type"),
		/* a marking defined by an extension should have a name */
		WARN(md_ext, "/name", NULL, "missing-property", "/name"),
		NO_WARN(md_statement, NULL, NULL, "missing-property"),
		ERR(md_statement, "/name", "5", "type-mismatch", "/name"),
		CLEAN(md_statement, "/name", "\"Example Corp copyright\""),
		/* statement marking object type */
		ERR(md_statement, "/definition/statement", NULL, "missing-property",
		    "/definition/statement"),
		ERR(md_statement, "/definition/statement", "42", "type-mismatch",
		    "/definition/statement"),
		WARN(md_statement, "/definition/x_extra", "\"a\"", "unknown-property",
		     "/definition/x_extra"),
		ERR(md_statement, "/definition", "\"Copyright 2019\"", "type-mismatch",
		    "/definition"),
		/* definition_type is an open vocabulary */
		WARN(md_statement, "/definition_type", "\"iep\"", "vocab-value", "/definition_type"),
		NO_ERR(md_statement, "/definition_type", "\"iep\"", "missing-property"),
		/* not applicable common properties */
		ERR(md_statement, "/modified", "\"2016-08-01T00:00:00.000Z\"",
		    "property-not-allowed", "/modified"),
		ERR(md_statement, "/revoked", "false", "property-not-allowed", "/revoked"),
		ERR(md_statement, "/labels", "[\"copyright\"]", "property-not-allowed", "/labels"),
		ERR(md_statement, "/confidence", "50", "property-not-allowed", "/confidence"),
		ERR(md_statement, "/lang", "\"en\"", "property-not-allowed", "/lang"),
		ERR(md_statement, "/defanged", "false", "property-not-allowed", "/defanged"),
		/* required common properties */
		ERR(md_statement, "/spec_version", NULL, "missing-property", "/spec_version"),
		ERR(md_statement, "/created", NULL, "missing-property", "/created"),
		ERR(md_statement, "/created", "\"2016-08-01T00:00:00Z\"", "timestamp-precision",
		    "/created"),
		ERR(md_statement, "/id", "\"identity--4a0042fe-8b88-40fe-9600-dfa128ce6fbd\"",
		    "id-type", "/id"),
		/* optional common properties */
		CLEAN(md_statement, "/created_by_ref", IDENT),
		ERR(md_statement, "/created_by_ref",
		    "\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"", "ref-type",
		    "/created_by_ref"),
		CLEAN(md_statement, "/object_marking_refs", "[" OTHER_MD "]"),
		ERR(md_statement, "/object_marking_refs", "[" IDENT "]", "ref-type",
		    "/object_marking_refs/0"),
		ERR(md_statement, "/object_marking_refs",
		    "[\"marking-definition--4a0042fe-8b88-40fe-9600-dfa128ce6fbd\"]",
		    "circular-marking", "/object_marking_refs/0"),
		CLEAN(md_statement, "/granular_markings",
		      "[{\"marking_ref\":" OTHER_MD ",\"selectors\":[\"definition.statement\"]}]"),
		ERR(md_statement, "/granular_markings",
		    "[{\"marking_ref\":" OTHER_MD ",\"selectors\":[\"definition.tlp\"]}]",
		    "granular-selector", "/granular_markings/0/selectors/0"),
		ERR(md_statement, "/granular_markings", "[{\"selectors\":[\"definition\"]}]",
		    "granular-marking", "/granular_markings/0"),
		CLEAN(md_statement, "/external_references",
		      "[{\"source_name\":\"example\",\"url\":\"https://example.com/terms\"}]"),
		ERR(md_statement, "/external_references", "[{\"source_name\":\"example\"}]",
		    "external-reference", "/external_references/0"),
		/* definition_type tlp is reserved for the published TLP 1.0 ids */
		ERR(md_statement, "/definition_type", "\"tlp\"", "tlp-marking", "/id"),
		ERR(md_statement, "/definition", "{\"tlp\":\"green\"}", "missing-property",
		    "/definition/statement"),
		/* the TLP 2.0 extension is reserved for the published TLP 2.0 ids */
		ERR(md_ext, "/extensions/" TLP2_EXT,
		    "{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"red\"}",
		    "tlp-marking", "/id"),
		ERR(md_ext, "/extensions/" TLP2_EXT,
		    "{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"pink\"}",
		    "enum-value", EXT_PTR "/tlp_2_0"),
	};
	(void)state;
	RUN(cases);
}

/* ------------------------------------------------------------ language-content */

static void language_content_rules(void **state)
{
	static const struct tcase cases[] = {
		CLEAN(lc_campaign, NULL, NULL),
		CLEAN(lc_goals, NULL, NULL),
		/* required */
		ERR(lc_goals, "/object_ref", NULL, "missing-property", "/object_ref"),
		ERR(lc_goals, "/contents", NULL, "missing-property", "/contents"),
		ERR(lc_goals, "/created", NULL, "missing-property", "/created"),
		ERR(lc_goals, "/modified", NULL, "missing-property", "/modified"),
		ERR(lc_goals, "/spec_version", NULL, "missing-property", "/spec_version"),
		ERR(lc_goals, "/id", "\"language-content--1234\"", "id-format", "/id"),
		/* object_ref: any STIX Object, custom ones included, but not a bundle */
		ERR(lc_goals, "/object_ref", "\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\"",
		    "ref-type", "/object_ref"),
		CLEAN(lc_goals, "/object_ref", "\"x-acme-widget--5d0092c5-5f74-4287-9642-33f4c354e56d\""),
		CLEAN(lc_goals, "/object_ref", "\"ipv4-addr--5d0092c5-5f74-4287-9642-33f4c354e56d\""),
		ERR(lc_goals, "/object_ref", "\"threat-actor\"", "id-format", "/object_ref"),
		ERR(lc_goals, "/object_ref", "7", "type-mismatch", "/object_ref"),
		/* object_modified */
		ERR(lc_campaign, "/object_modified", "\"yesterday\"", "timestamp-format",
		    "/object_modified"),
		/* contents: a dictionary of language tag -> dictionary */
		ERR(lc_goals, "/contents", "{}", "empty-dictionary", "/contents"),
		ERR(lc_goals, "/contents", "[]", "type-mismatch", "/contents"),
		ERR(lc_goals, "/contents/de", "\"Bankgeld stehlen\"", "type-mismatch",
		    "/contents/de"),
		ERR(lc_goals, "/contents/de", "{}", "empty-dictionary", "/contents/de"),
		ERR(lc_goals, "/contents/en_US", "{\"goals\":[\"x\"]}", "language-tag",
		    "/contents/en_US"),
		ERR(lc_goals, "/contents/de.DE", "{\"goals\":[\"x\"]}", "dictionary-key",
		    "/contents/de.DE"),
		/* common properties: lang and defanged do not apply */
		ERR(lc_goals, "/lang", "\"en\"", "property-not-allowed", "/lang"),
		ERR(lc_goals, "/defanged", "true", "property-not-allowed", "/defanged"),
		CLEAN(lc_goals, "/confidence", "50"),
		ERR(lc_goals, "/confidence", "101", "out-of-range", "/confidence"),
		CLEAN(lc_goals, "/revoked", "false"),
		ERR(lc_goals, "/revoked", "\"no\"", "type-mismatch", "/revoked"),
		CLEAN(lc_goals, "/labels", "[\"translation\"]"),
		CLEAN(lc_goals, "/created_by_ref", IDENT),
		ERR(lc_goals, "/created_by_ref", OTHER_MD, "ref-type", "/created_by_ref"),
		ERR(lc_goals, "/modified", "\"2019-06-01T00:00:00.000Z\"", "time-order",
		    "/modified"),
	};
	(void)state;
	RUN(cases);
}

/* contents keys are RFC 5646 language tags (well-formed per section 2.1) */
static void language_tags(void **state)
{
	static const char *const good[] = {
		"de", "fr", "zh-Hant-TW", "zh-cmn-Hans-CN", "yue-HK", "sr-Latn-RS", "es-419",
		"de-CH-1901", "sl-rozaj-biske", "de-DE-u-co-phonebk", "en-a-bbb-x-a-ccc",
		"x-whatever", "qaa-Qaaa-QM-x-southern", "i-klingon", "en-GB-oed", "zh-min-nan",
		"art-lojban", "hy-Latn-IT-arevela", "EN-us", "ast", "tlh",
	};
	static const char *const bad[] = {
		"en--US", "en-", "e", "toolongtag", "en-a", "en-x", "12", "en-US-a-b", "i-foo",
		"x", "en-US-toolongvar", "en_US", "de-123456789", "a-DE",
	};
	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		const char *const *tags = pass ? bad : good;
		size_t n = pass ? sizeof(bad) / sizeof(bad[0]) : sizeof(good) / sizeof(good[0]);
		for (size_t i = 0; i < n; i++) {
			json_t *doc = parse(lc_goals);
			struct cp_diag d;
			char ptr[64];
			json_object_set_new(json_object_get(doc, "contents"), tags[i],
					    json_pack("{s:s}", "name", "x"));
			validate(doc, &d);
			snprintf(ptr, sizeof(ptr), "/contents/%s", tags[i]);
			if (!tu_find(&d, CP_SEV_ERROR, "language-tag", ptr) != !pass) {
				tu_dump(&d);
				fail_msg("'%s' should %sbe a well-formed language tag", tags[i],
					 pass ? "not " : "");
			}
			json_decref(doc);
			cp_diag_release(&d);
		}
	}
}

/* --------------------------------------------------------- extension-definition */

static void extension_definition_rules(void **state)
{
	static const struct tcase cases[] = {
		CLEAN(ed_new_sdo, NULL, NULL),
		CLEAN(ed_toplevel, NULL, NULL),
		/* required */
		ERR(ed_new_sdo, "/created_by_ref", NULL, "missing-property", "/created_by_ref"),
		ERR(ed_new_sdo, "/name", NULL, "missing-property", "/name"),
		ERR(ed_new_sdo, "/schema", NULL, "missing-property", "/schema"),
		ERR(ed_new_sdo, "/version", NULL, "missing-property", "/version"),
		ERR(ed_new_sdo, "/extension_types", NULL, "missing-property", "/extension_types"),
		ERR(ed_new_sdo, "/created", NULL, "missing-property", "/created"),
		ERR(ed_new_sdo, "/modified", NULL, "missing-property", "/modified"),
		ERR(ed_new_sdo, "/spec_version", NULL, "missing-property", "/spec_version"),
		ERR(ed_new_sdo, "/created_by_ref", OTHER_MD, "ref-type", "/created_by_ref"),
		ERR(ed_new_sdo, "/schema", "[\"https://example.com\"]", "type-mismatch", "/schema"),
		/* extension_types: a non-empty list from extension-type-enum */
		ERR(ed_new_sdo, "/extension_types", "[]", "empty-list", "/extension_types"),
		ERR(ed_new_sdo, "/extension_types", "\"new-sdo\"", "type-mismatch",
		    "/extension_types"),
		ERR(ed_new_sdo, "/extension_types", "[\"new-sdo\",\"new-thing\"]", "enum-value",
		    "/extension_types/1"),
		CLEAN(ed_new_sdo, "/extension_types",
		      "[\"new-sdo\",\"new-sco\",\"new-sro\",\"property-extension\"]"),
		/* extension_properties only with toplevel-property-extension (MUST) */
		ERR(ed_new_sdo, "/extension_properties", "[\"rank\"]", "property-not-allowed",
		    "/extension_properties"),
		ERR(ed_toplevel, "/extension_types", "[\"property-extension\"]",
		    "property-not-allowed", "/extension_properties"),
		CLEAN(ed_toplevel, "/extension_types",
		      "[\"new-sdo\",\"toplevel-property-extension\"]"),
		/* ... and it should be there then (SHOULD) */
		WARN(ed_toplevel, "/extension_properties", NULL, "missing-property",
		     "/extension_properties"),
		ERR(ed_toplevel, "/extension_properties", "[]", "empty-list",
		    "/extension_properties"),
		ERR(ed_toplevel, "/extension_properties", "[\"rank\",\"Toxicity\"]",
		    "custom-property-name", "/extension_properties/1"),
		ERR(ed_toplevel, "/extension_properties", "[\"rk\"]", "custom-property-name",
		    "/extension_properties/0"),
		ERR(ed_toplevel, "/extension_properties", "[5]", "type-mismatch",
		    "/extension_properties/0"),
		/* description should be populated */
		WARN(ed_new_sdo, "/description", NULL, "missing-property", "/description"),
		/* not applicable common properties */
		ERR(ed_new_sdo, "/extensions",
		    "{\"" ACME_EXT "\":{\"extension_type\":\"property-extension\",\"x\":1}}",
		    "property-not-allowed", "/extensions"),
		ERR(ed_new_sdo, "/confidence", "10", "property-not-allowed", "/confidence"),
		ERR(ed_new_sdo, "/lang", "\"en\"", "property-not-allowed", "/lang"),
		ERR(ed_new_sdo, "/defanged", "false", "property-not-allowed", "/defanged"),
		/* optional common properties */
		CLEAN(ed_new_sdo, "/revoked", "true"),
		CLEAN(ed_new_sdo, "/labels", "[\"extension\"]"),
		CLEAN(ed_new_sdo, "/object_marking_refs", "[" OTHER_MD "]"),
		ERR(ed_new_sdo, "/modified", "\"2014-02-19T09:16:08.989Z\"", "time-order",
		    "/modified"),
	};
	(void)state;
	RUN(cases);
}

/* ---------------------------------------------------------------------- bundle */

static void bundle_rules(void **state)
{
	static const struct tcase cases[] = {
		CLEAN(bundle, NULL, NULL),
		/* objects is optional */
		CLEAN(bundle, "/objects", NULL),
		/* id: bundle--UUID */
		ERR(bundle, "/id", NULL, "missing-property", "/id"),
		ERR(bundle, "/id", "\"report--5d0092c5-5f74-4287-9642-33f4c354e56d\"", "id-type",
		    "/id"),
		ERR(bundle, "/id", "\"bundle--5d0092c5\"", "id-format", "/id"),
		ERR(bundle, "/id", "42", "type-mismatch", "/id"),
		/* objects: a non-empty list */
		ERR(bundle, "/objects", "[]", "empty-list", "/objects"),
		ERR(bundle, "/objects", "{}", "type-mismatch", "/objects"),
		/* no bundle in a bundle */
		ERR(bundle, "/objects/0",
		    "{\"type\":\"bundle\",\"id\":\"bundle--0b6fa1d2-7d9c-4b3e-8a41-2f5e6c7d8e9f\"}",
		    "nested-bundle", "/objects/0/type"),
		/* STIX 2.1 bundles have no spec_version */
		WARN(bundle, "/spec_version", "\"2.1\"", "bundle-spec-version", "/spec_version"),
		NO_ERR(bundle, "/spec_version", "\"2.1\"", "bundle-spec-version"),
		WARN(bundle, "/x_source", "\"feed\"", "unknown-property", "/x_source"),
		/* findings inside are located under /objects/N */
		ERR(bundle, "/objects/0/definition", NULL, "missing-property",
		    "/objects/0/definition"),
		ERR(bundle, "/objects/0", "\"marking-definition\"", "not-object", "/objects/0"),
	};
	(void)state;
	RUN(cases);
}

/* -------------------------------------------------------------- TLP helpers */

static const struct {
	const char *id;
	enum cp_tlp tlp;
	unsigned version;
	const char *name;
	const char *level;
} published[] = {
	{"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", CP_TLP_CLEAR, 1, "TLP:WHITE",
	 "white"},
	{"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", CP_TLP_GREEN, 1, "TLP:GREEN",
	 "green"},
	{"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", CP_TLP_AMBER, 1, "TLP:AMBER",
	 "amber"},
	{"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", CP_TLP_RED, 1, "TLP:RED",
	 "red"},
	{"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", CP_TLP_CLEAR, 2, "TLP:CLEAR",
	 "clear"},
	{"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", CP_TLP_GREEN, 2, "TLP:GREEN",
	 "green"},
	{"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", CP_TLP_AMBER, 2, "TLP:AMBER",
	 "amber"},
	{"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", CP_TLP_AMBER_STRICT, 2,
	 "TLP:AMBER+STRICT", "amber+strict"},
	{"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", CP_TLP_RED, 2, "TLP:RED",
	 "red"},
};

static void tlp_of_marking_id(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(published) / sizeof(published[0]); i++) {
		char upper[CP_STIX_ID_MAX];
		const struct cp_stix_tlp_marking *m;

		assert_int_equal(cp_stix_tlp_of_marking_id(published[i].id), published[i].tlp);
		m = cp_stix_tlp_marking_find(published[i].id);
		assert_non_null(m);
		assert_string_equal(m->id, published[i].id);
		assert_int_equal(m->tlp, published[i].tlp);
		assert_int_equal(m->tlp_version, published[i].version);
		assert_string_equal(m->name, published[i].name);
		assert_string_equal(m->level, published[i].level);
		assert_string_equal(m->created, published[i].version == 1
							? "2017-01-20T00:00:00.000Z"
							: "2022-10-01T00:00:00.000Z");
		/* an uppercase UUID names the same marking (RFC 4122) */
		snprintf(upper, sizeof(upper), "%s", published[i].id);
		for (char *p = upper + strlen("marking-definition--"); *p; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 'a' + 'A');
		assert_int_equal(cp_stix_tlp_of_marking_id(upper), published[i].tlp);
		assert_ptr_equal(cp_stix_tlp_marking_find(upper), m);
	}
	/* anything else is no TLP */
	assert_int_equal(cp_stix_tlp_of_marking_id(NULL), CP_TLP_NONE);
	assert_null(cp_stix_tlp_marking_find(NULL));
	assert_int_equal(cp_stix_tlp_of_marking_id(""), CP_TLP_NONE);
	assert_int_equal(cp_stix_tlp_of_marking_id(
				 "marking-definition--4a0042fe-8b88-40fe-9600-dfa128ce6fbd"),
			 CP_TLP_NONE);
	/* the right UUID under another type, an uppercase type, a truncated or longer id */
	assert_int_equal(cp_stix_tlp_of_marking_id("identity--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
			 CP_TLP_NONE);
	assert_int_equal(cp_stix_tlp_of_marking_id(
				 "MARKING-DEFINITION--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
			 CP_TLP_NONE);
	assert_int_equal(cp_stix_tlp_of_marking_id(
				 "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5e"),
			 CP_TLP_NONE);
	assert_int_equal(cp_stix_tlp_of_marking_id(
				 "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed0"),
			 CP_TLP_NONE);
	assert_int_equal(cp_stix_tlp_of_marking_id("marking-definition--"), CP_TLP_NONE);
	assert_int_equal(cp_stix_tlp_of_marking_id("TLP:RED"), CP_TLP_NONE);
}

static void tlp_ids_and_names(void **state)
{
	static const struct {
		enum cp_tlp tlp;
		const char *id;
		const char *name;
	} v2[] = {
		{CP_TLP_CLEAR, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
		 "TLP:CLEAR"},
		{CP_TLP_GREEN, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
		 "TLP:GREEN"},
		{CP_TLP_AMBER, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
		 "TLP:AMBER"},
		{CP_TLP_AMBER_STRICT, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
		 "TLP:AMBER+STRICT"},
		{CP_TLP_RED, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v2) / sizeof(v2[0]); i++) {
		assert_string_equal(cp_stix_tlp_marking_id(v2[i].tlp), v2[i].id);
		assert_string_equal(cp_stix_tlp_name(v2[i].tlp), v2[i].name);
		assert_int_equal(cp_stix_tlp_of_marking_id(cp_stix_tlp_marking_id(v2[i].tlp)),
				 v2[i].tlp);
	}
	assert_null(cp_stix_tlp_marking_id(CP_TLP_NONE));
	assert_null(cp_stix_tlp_name(CP_TLP_NONE));
	assert_null(cp_stix_tlp_marking_id((enum cp_tlp)42));
	assert_null(cp_stix_tlp_name((enum cp_tlp)-1));
	/* the order is the order of restriction */
	assert_true(CP_TLP_NONE < CP_TLP_CLEAR && CP_TLP_CLEAR < CP_TLP_GREEN &&
		    CP_TLP_GREEN < CP_TLP_AMBER && CP_TLP_AMBER < CP_TLP_AMBER_STRICT &&
		    CP_TLP_AMBER_STRICT < CP_TLP_RED);
	assert_string_equal(CP_STIX_TLP2_EXTENSION_ID, TLP2_EXT);
}

#define TLP1_WHITE "\"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9\""
#define TLP1_GREEN "\"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da\""
#define TLP1_AMBER "\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\""
#define TLP2_CLEAR "\"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487\""
#define TLP2_AMBER "\"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\""
#define TLP2_AS "\"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003\""
#define TLP2_RED "\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\""
#define STMT "\"marking-definition--4a0042fe-8b88-40fe-9600-dfa128ce6fbd\""

static enum cp_tlp tlp_of(const char *text, bool with_granular)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
	enum cp_tlp t;

	if (!j)
		fail_msg("does not parse: %s", text);
	t = with_granular ? cp_stix_object_tlp_max(j) : cp_stix_object_tlp(j);
	json_decref(j);
	return t;
}

static void object_tlp(void **state)
{
	static const struct {
		const char *obj;
		enum cp_tlp tlp, tlp_max;
	} cases[] = {
		/* unmarked, and things that are not marked objects */
		{"{\"type\":\"indicator\"}", CP_TLP_NONE, CP_TLP_NONE},
		{"[" TLP2_RED "]", CP_TLP_NONE, CP_TLP_NONE},
		{"\"x\"", CP_TLP_NONE, CP_TLP_NONE},
		{"{\"object_marking_refs\":" TLP2_RED "}", CP_TLP_NONE, CP_TLP_NONE},
		{"{\"object_marking_refs\":[]}", CP_TLP_NONE, CP_TLP_NONE},
		{"{\"object_marking_refs\":[" STMT "]}", CP_TLP_NONE, CP_TLP_NONE},
		{"{\"object_marking_refs\":[null, 5, {}]}", CP_TLP_NONE, CP_TLP_NONE},
		/* one marking of each generation */
		{"{\"object_marking_refs\":[" TLP1_WHITE "]}", CP_TLP_CLEAR, CP_TLP_CLEAR},
		{"{\"object_marking_refs\":[" TLP2_CLEAR "]}", CP_TLP_CLEAR, CP_TLP_CLEAR},
		{"{\"object_marking_refs\":[" TLP1_GREEN "]}", CP_TLP_GREEN, CP_TLP_GREEN},
		{"{\"object_marking_refs\":[" TLP2_AS "]}", CP_TLP_AMBER_STRICT, CP_TLP_AMBER_STRICT},
		/* several: the most restrictive, in any order, mixed with other markings */
		{"{\"object_marking_refs\":[" TLP2_AS "," TLP2_AMBER "]}", CP_TLP_AMBER_STRICT,
		 CP_TLP_AMBER_STRICT},
		{"{\"object_marking_refs\":[" TLP2_AMBER "," TLP2_AS "]}", CP_TLP_AMBER_STRICT,
		 CP_TLP_AMBER_STRICT},
		{"{\"object_marking_refs\":[" TLP1_AMBER "," STMT "," TLP1_GREEN "]}", CP_TLP_AMBER,
		 CP_TLP_AMBER},
		{"{\"object_marking_refs\":[" TLP2_RED "," TLP1_WHITE "," TLP2_AS "]}", CP_TLP_RED,
		 CP_TLP_RED},
		{"{\"object_marking_refs\":[7," TLP1_GREEN ",null]}", CP_TLP_GREEN, CP_TLP_GREEN},
		/* granular markings count only for the _max variant */
		{"{\"object_marking_refs\":[" TLP1_GREEN "],\"granular_markings\":[{\"marking_ref\":"
		 TLP2_RED ",\"selectors\":[\"description\"]}]}",
		 CP_TLP_GREEN, CP_TLP_RED},
		{"{\"granular_markings\":[{\"lang\":\"de\",\"selectors\":[\"name\"]},"
		 "{\"marking_ref\":" TLP2_AMBER ",\"selectors\":[\"name\"]}]}",
		 CP_TLP_NONE, CP_TLP_AMBER},
		{"{\"object_marking_refs\":[" TLP2_RED "],\"granular_markings\":[{\"marking_ref\":"
		 TLP2_CLEAR ",\"selectors\":[\"name\"]}]}",
		 CP_TLP_RED, CP_TLP_RED},
		{"{\"object_marking_refs\":[" TLP2_AMBER "],\"granular_markings\":{\"marking_ref\":"
		 TLP2_RED "}}",
		 CP_TLP_AMBER, CP_TLP_AMBER},
		{"{\"granular_markings\":[5, {\"marking_ref\": 3}]}", CP_TLP_NONE, CP_TLP_NONE},
	};
	(void)state;
	assert_int_equal(cp_stix_object_tlp(NULL), CP_TLP_NONE);
	assert_int_equal(cp_stix_object_tlp_max(NULL), CP_TLP_NONE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum cp_tlp t = tlp_of(cases[i].obj, false), tm = tlp_of(cases[i].obj, true);
		if (t != cases[i].tlp || tm != cases[i].tlp_max)
			fail_msg("case %zu %s: got %d/%d, expected %d/%d", i, cases[i].obj, t, tm,
				 cases[i].tlp, cases[i].tlp_max);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tlp_canonical_clean),
		cmocka_unit_test(tlp_canonical_bundle_clean),
		cmocka_unit_test(tlp1_tampered),
		cmocka_unit_test(tlp2_tampered),
		cmocka_unit_test(marking_rules),
		cmocka_unit_test(language_content_rules),
		cmocka_unit_test(language_tags),
		cmocka_unit_test(extension_definition_rules),
		cmocka_unit_test(bundle_rules),
		cmocka_unit_test(tlp_of_marking_id),
		cmocka_unit_test(tlp_ids_and_names),
		cmocka_unit_test(object_tlp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
