/*
 * lib/policy: the egress gate.
 *
 * The centre is a matrix: seven partners (plus one without an agreement) as recipients,
 * every provenance (our own objects, each partner's, an unknown source's), every TLP
 * marking form, every PAP level, three collections and three kinds of object. The
 * expected decision of each cell comes from an oracle in this file, built from its own
 * description of the partners and explicit tables of the TLP and PAP rules, never
 * from the implementation. The other tests cover what the matrix does not: building
 * agreements, malformed markings in more forms, type lists, reason texts, deep
 * copies, allocation failure and the no-allocation promise of cp_policy_decide().
 */
#include "testutil.h"
#include "cyberpact/policy.h"
#include "cyberpact/stix-marking.h"

#define CP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* published marking definition ids, written out here rather than taken from the
 * code under test */
#define T1_WHITE "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define T1_GREEN "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define T1_AMBER "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
#define T1_RED "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
#define T2_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define T2_GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define T2_AMBER "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define T2_AMBER_STRICT "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define T2_RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define T2_RED_UPPER "marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1"
#define PAP_CLEAR "marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92"
#define PAP_WHITE "marking-definition--a3bea94c-b469-41dc-9cfe-d6e7daba7730"
#define PAP_GREEN "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9"
#define PAP_AMBER "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab"
#define PAP_RED "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e"
/* a statement marking of our own: not TLP, not PAP */
#define STATEMENT "marking-definition--0c9e4f6a-3d51-4e8b-9a4f-7d2b1c6e5a10"

#define C_MAIN "5b7a3c8e-1f2d-4e6a-9b0c-3d4e5f6a7b8c"
#define C_RED "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
#define C_OTHER "f0e1d2c3-b4a5-4968-8776-655443322110"

#define IND_ID "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"

/* ------------------------------------------------------------ the partners */

static const char *const read_main_red[] = {C_MAIN, C_RED};
static const char *const read_main[] = {C_MAIN};
static const char *const read_all[] = {"*"};
static const char *const red_red[] = {C_RED};

static const struct cp_policy_agreement matrix_agreements[] = {
        /* an ally whose ceiling stops at AMBER+STRICT although it is named for RED */
        {.partner = "north",
         .community = "allies",
         .tlp_ceiling = CP_TLP_AMBER_STRICT,
         .pap_ceiling = CP_PAP_AMBER,
         .read = read_main_red,
         .read_count = 2,
         .red = red_red,
         .red_count = 1,
         .third_party = true,
         .sightings = true,
         .consultations = true},
        /* an ally with full RED rights on the RED collection */
        {.partner = "west",
         .community = "allies",
         .tlp_ceiling = CP_TLP_RED,
         .read = read_main_red,
         .read_count = 2,
         .red = red_red,
         .red_count = 1,
         .third_party = true,
         .sightings = true},
        /* a regional partner at GREEN that reads unmarked objects as GREEN */
        {.partner = "south",
         .community = "region",
         .tlp_ceiling = CP_TLP_GREEN,
         .pap_ceiling = CP_PAP_GREEN,
         .default_tlp = CP_TLP_GREEN,
         .read = read_main,
         .read_count = 1,
         .third_party = true},
        /* a community member at CLEAR that reads every collection */
        {.partner = "isle",
         .community = "region",
         .tlp_ceiling = CP_TLP_CLEAR,
         .pap_ceiling = CP_PAP_CLEAR,
         .default_tlp = CP_TLP_CLEAR,
         .read = read_all,
         .read_count = 1,
         .third_party = true,
         .sightings = true},
        /* a partner whose data must not go on, and which takes no third-party data */
        {.partner = "east",
         .community = "region",
         .tlp_ceiling = CP_TLP_AMBER,
         .pap_ceiling = CP_PAP_RED,
         .read = read_main,
         .read_count = 1,
         .consultations = true,
         .no_redistribution = true},
        /* a partner whose agreement never set a ceiling: CLEAR only */
        {.partner = "quiet",
         .community = "region",
         .read = read_main,
         .read_count = 1,
         .third_party = true,
         .sightings = true,
         .consultations = true},
        /* a partner in no community */
        {.partner = "far",
         .tlp_ceiling = CP_TLP_GREEN,
         .default_tlp = CP_TLP_GREEN,
         .read = read_main,
         .read_count = 1,
         .third_party = true,
         .sightings = true,
         .consultations = true},
};

/* The oracle's own description of the same partners. */
enum { COLL_MAIN = 1, COLL_RED = 2, COLL_OTHER = 4 };
struct opartner {
	const char *name;
	const char *community;
	int ceiling;        /* 0 none .. 5 RED, as TLP levels go */
	int pap_ceiling;    /* 0 none .. 4 RED */
	int dflt;           /* 0 = AMBER */
	unsigned read, red; /* COLL_* bits */
	bool third_party, sightings, consultations, no_redist;
};

enum { NONE_ = 0, CLEAR_ = 1, GREEN_ = 2, AMBER_ = 3, STRICT_ = 4, RED_ = 5 };
enum { P_NONE = 0, P_CLEAR = 1, P_GREEN = 2, P_AMBER = 3, P_RED = 4 };

static const struct opartner opartners[] = {
        {"north", "allies", STRICT_, P_AMBER, 0, COLL_MAIN | COLL_RED, COLL_RED, true, true, true,
         false},
        {"west", "allies", RED_, P_NONE, 0, COLL_MAIN | COLL_RED, COLL_RED, true, true, false,
         false},
        {"south", "region", GREEN_, P_GREEN, GREEN_, COLL_MAIN, 0, true, false, false, false},
        {"isle", "region", CLEAR_, P_CLEAR, CLEAR_, COLL_MAIN | COLL_RED | COLL_OTHER, 0, true,
         true, false, false},
        {"east", "region", AMBER_, P_RED, 0, COLL_MAIN, 0, false, false, true, true},
        {"quiet", "region", NONE_, P_NONE, 0, COLL_MAIN, 0, true, true, true, false},
        {"far", NULL, GREEN_, P_NONE, GREEN_, COLL_MAIN, 0, true, true, true, false},
};
#define N_PARTNERS ((int)CP_ARRAY_LEN(opartners))
#define GHOST N_PARTNERS /* a name with no agreement */
#define OWN (-1)

static const char *oname(int i)
{
	return i == GHOST ? "ghost" : opartners[i].name;
}

/* ------------------------------------------------------------ the objects */

struct tlpvar {
	const char *name;
	const char *omr; /* JSON of object_marking_refs, NULL = absent */
	const char *gm;  /* JSON of granular_markings, NULL = absent */
	int tlp;         /* what the markings say (NONE_ when unmarked) */
	bool bad;        /* markings the gate must refuse to read */
};

#define SEL "{\"selectors\":[\"description\"],\"marking_ref\":\""
static const struct tlpvar tlpvars[] = {
        {"unmarked", NULL, NULL, NONE_, false},
        {"TLP2 CLEAR", "[\"" T2_CLEAR "\"]", NULL, CLEAR_, false},
        {"TLP2 GREEN", "[\"" T2_GREEN "\"]", NULL, GREEN_, false},
        {"TLP2 AMBER", "[\"" T2_AMBER "\"]", NULL, AMBER_, false},
        {"TLP2 AMBER+STRICT", "[\"" T2_AMBER_STRICT "\"]", NULL, STRICT_, false},
        {"TLP2 RED", "[\"" T2_RED "\"]", NULL, RED_, false},
        {"TLP1 WHITE", "[\"" T1_WHITE "\"]", NULL, CLEAR_, false},
        {"TLP1 GREEN", "[\"" T1_GREEN "\"]", NULL, GREEN_, false},
        {"TLP1 AMBER", "[\"" T1_AMBER "\"]", NULL, AMBER_, false},
        {"TLP1 RED", "[\"" T1_RED "\"]", NULL, RED_, false},
        {"granular GREEN only", NULL, "[" SEL T2_GREEN "\"}]", GREEN_, false},
        {"granular AMBER+STRICT only", NULL, "[" SEL T2_AMBER_STRICT "\"}]", STRICT_, false},
        {"granular TLP1 AMBER only", NULL, "[" SEL T1_AMBER "\"}]", AMBER_, false},
        {"CLEAR with a granular TLP1 RED part", "[\"" T2_CLEAR "\"]", "[" SEL T1_RED "\"}]", RED_,
         false},
        {"GREEN and AMBER", "[\"" T2_GREEN "\",\"" T2_AMBER "\"]", NULL, AMBER_, false},
        {"TLP2 RED, uppercase UUID", "[\"" T2_RED_UPPER "\"]", NULL, RED_, false},
        {"statement and GREEN", "[\"" STATEMENT "\",\"" T2_GREEN "\"]", NULL, GREEN_, false},
        {"statement only", "[\"" STATEMENT "\"]", NULL, NONE_, false},
        {"granular lang only", NULL, "[{\"selectors\":[\"name\"],\"lang\":\"fr\"}]", NONE_, false},
        {"refs a string", "\"" T2_CLEAR "\"", NULL, NONE_, true},
        {"refs null", "null", NULL, NONE_, true},
        {"ref written as text TLP:CLEAR", "[\"TLP:CLEAR\"]", NULL, NONE_, true},
        {"ref null among refs", "[\"" T2_CLEAR "\",null]", NULL, NONE_, true},
        {"granular marking_ref a number", NULL, "[{\"selectors\":[\"name\"],\"marking_ref\":3}]",
         NONE_, true},
        {"granular not an array", NULL, "{\"marking_ref\":\"" T2_CLEAR "\"}", NONE_, true},
};

struct papvar {
	const char *name;
	const char *id; /* NULL = no PAP */
	int pap;
};

static const struct papvar papvars[] = {
        {"no PAP", NULL, P_NONE},          {"PAP:CLEAR", PAP_CLEAR, P_CLEAR},
        {"PAP:WHITE", PAP_WHITE, P_CLEAR}, {"PAP:GREEN", PAP_GREEN, P_GREEN},
        {"PAP:AMBER", PAP_AMBER, P_AMBER}, {"PAP:RED", PAP_RED, P_RED},
};

enum { K_INDICATOR, K_SIGHTING, K_CONSULT, K_COUNT };
static const char *const kind_names[] = {"indicator", "sighting", "consultation note"};

static const struct {
	const char *id;
	unsigned bit;
} collections[] = {{C_MAIN, COLL_MAIN}, {C_RED, COLL_RED}, {C_OTHER, COLL_OTHER}};

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &e);

	if (!j)
		fail_msg("bad JSON in test table: %s: %s", e.text, text);
	return j;
}

/* Append the PAP marking to object_marking_refs, or to granular_markings when
 * in_granular asks for it; a property that a variant broke on purpose is left alone. */
static void add_pap(json_t *o, const char *pap_id, bool in_granular)
{
	json_t *refs = json_object_get(o, "object_marking_refs");
	json_t *gm = json_object_get(o, "granular_markings");
	bool refs_ok = !refs || json_is_array(refs), gm_ok = !gm || json_is_array(gm);

	if (refs_ok && (!in_granular || !gm_ok)) {
		if (!refs) {
			refs = json_array();
			json_object_set_new(o, "object_marking_refs", refs);
		}
		json_array_append_new(refs, json_string(pap_id));
		return;
	}
	if (!gm) {
		gm = json_array();
		json_object_set_new(o, "granular_markings", gm);
	}
	json_array_append_new(gm,
	                      json_pack("{s:[s],s:s}", "selectors", "name", "marking_ref", pap_id));
}

static json_t *make_object(int kind, const struct tlpvar *t, const struct papvar *pv,
                           unsigned serial, bool pap_in_granular)
{
	static const char *const types[] = {"indicator", "sighting", "note"};
	json_t *o = json_object();
	char id[96];

	snprintf(id, sizeof(id), "%s--%08x-1111-4222-8333-%012x", types[kind], serial, serial);
	json_object_set_new(o, "type", json_string(types[kind]));
	json_object_set_new(o, "spec_version", json_string("2.1"));
	json_object_set_new(o, "id", json_string(id));
	if (kind == K_CONSULT)
		json_object_set_new(o, "x_cyberpact_consultation_id",
		                    json_string("consultation-2024-017"));
	if (t->omr)
		json_object_set_new(o, "object_marking_refs", parse(t->omr));
	if (t->gm)
		json_object_set_new(o, "granular_markings", parse(t->gm));
	if (pv->id)
		add_pap(o, pv->id, pap_in_granular);
	return o;
}

/* ------------------------------------------------------------ the oracle */

#define OK_ CP_POLICY_OK
#define CEIL CP_POLICY_TLP_CEILING
#define REDX CP_POLICY_TLP_RED
#define STRX CP_POLICY_TLP_STRICT
#define PAPX CP_POLICY_PAP_CEILING

/* own objects: [ceiling][tlp - 1], partner not a named RED recipient here */
static const enum cp_policy_reason_code own_tlp[6][5] = {
        /*            CLEAR GREEN AMBER A+S   RED */
        /* unset */ {OK_, CEIL, CEIL, CEIL, REDX},
        /* CLEAR */ {OK_, CEIL, CEIL, CEIL, REDX},
        /* GREEN */ {OK_, OK_, CEIL, CEIL, REDX},
        /* AMBER */ {OK_, OK_, OK_, STRX, REDX},
        /* A+S   */ {OK_, OK_, OK_, OK_, REDX},
        /* RED   */ {OK_, OK_, OK_, OK_, REDX},
};
/* the same where the partner is a named RED recipient of the collection */
static const enum cp_policy_reason_code own_tlp_named[6][5] = {
        {OK_, CEIL, CEIL, CEIL, REDX}, {OK_, CEIL, CEIL, CEIL, REDX}, {OK_, OK_, CEIL, CEIL, REDX},
        {OK_, OK_, OK_, STRX, REDX},   {OK_, OK_, OK_, OK_, REDX},    {OK_, OK_, OK_, OK_, OK_},
};
/* [pap ceiling][object pap] */
static const enum cp_policy_reason_code pap_table[5][5] = {
        /*            none CLEAR GREEN AMBER RED */
        /* none  */ {OK_, OK_, OK_, OK_, OK_},
        /* CLEAR */ {OK_, OK_, PAPX, PAPX, PAPX},
        /* GREEN */ {OK_, OK_, OK_, PAPX, PAPX},
        /* AMBER */ {OK_, OK_, OK_, OK_, PAPX},
        /* RED   */ {OK_, OK_, OK_, OK_, OK_},
};

static int dflt_of(const struct opartner *p)
{
	return p->dflt ? p->dflt : AMBER_;
}

static enum cp_policy_reason_code oracle(int rcpt, int origin, const struct tlpvar *t, int pap,
                                         int coll, int kind)
{
	const struct opartner *r, *src = NULL;
	int tlp;
	enum cp_policy_reason_code c;

	if (rcpt == GHOST)
		return CP_POLICY_NO_AGREEMENT;
	r = &opartners[rcpt];
	if (!(r->read & collections[coll].bit))
		return CP_POLICY_COLLECTION;
	if (kind == K_SIGHTING && !r->sightings)
		return CP_POLICY_SIGHTING;
	if (kind == K_CONSULT && !r->consultations)
		return CP_POLICY_CONSULTATION;
	if (origin == rcpt)
		return CP_POLICY_OK;
	if (t->bad)
		return CP_POLICY_BAD_MARKING;
	if (origin != OWN) {
		if (!r->third_party)
			return CP_POLICY_THIRD_PARTY;
		if (origin == GHOST)
			return CP_POLICY_UNKNOWN_ORIGIN;
		src = &opartners[origin];
		if (src->no_redist)
			return CP_POLICY_NO_REDISTRIBUTION;
	}
	tlp = t->tlp;
	if (tlp == NONE_) {
		tlp = dflt_of(r);
		if (src && dflt_of(src) > tlp)
			tlp = dflt_of(src);
	}
	if (src) {
		if (tlp >= AMBER_)
			return CP_POLICY_THIRD_PARTY_TLP;
		if (tlp == GREEN_ &&
		    !(r->community && src->community && strcmp(r->community, src->community) == 0))
			return CP_POLICY_COMMUNITY;
	}
	c = (r->red & collections[coll].bit) ? own_tlp_named[r->ceiling][tlp - 1]
	                                     : own_tlp[r->ceiling][tlp - 1];
	if (c != CP_POLICY_OK)
		return c;
	return pap_table[r->pap_ceiling][pap];
}

/* ------------------------------------------------------------ the matrix */

struct cell {
	const struct tlpvar *t;
	const struct papvar *pv;
	int kind, rcpt, origin, coll;
};

struct tally {
	size_t cells, released;
	size_t by_code[CP_POLICY_UNKNOWN_ORIGIN + 1];
};

static void check_cell(const struct cp_policy *p, const json_t *obj, const struct cell *c,
                       struct tally *tl)
{
	const char *id = json_string_value(json_object_get(obj, "id"));
	const char *rname = oname(c->rcpt);
	struct cp_policy_object o = {obj, collections[c->coll].id,
	                             c->origin == OWN ? NULL : oname(c->origin), NULL};
	enum cp_policy_reason_code want =
	        oracle(c->rcpt, c->origin, c->t, c->pv->pap, c->coll, c->kind);
	enum cp_policy_decision dec, want_dec;
	struct cp_policy_reason why;
	char quoted[64];

	want_dec = want == CP_POLICY_OK ? CP_POLICY_RELEASE : CP_POLICY_WITHHOLD;
	memset(&why, 0xA5, sizeof(why));
	dec = cp_policy_decide(p, rname, &o, &why);
	if (why.code != want || dec != want_dec)
		fail_msg("cell: to %s, from %s, %s, %s, %s, collection %d: want %s, got %s/%s: "
		         "%s",
		         rname, c->origin == OWN ? "us" : oname(c->origin), c->t->name, c->pv->name,
		         kind_names[c->kind], c->coll, cp_policy_reason_name(want),
		         dec ? "release" : "withhold", cp_policy_reason_name(why.code), why.text);
	/* the same decision from the precomputed facts a store keeps (no parsing) */
	{
		struct cp_policy_facts f;
		struct cp_policy_object fo = o;
		struct cp_policy_reason fwhy;
		cp_policy_facts_of(obj, &f);
		fo.facts = &f;
		fo.obj = NULL;
		if (cp_policy_decide(p, rname, &fo, &fwhy) != dec || fwhy.code != why.code)
			fail_msg("facts decide differently for %s to %s: %s vs %s", id, rname,
			         cp_policy_reason_name(fwhy.code), cp_policy_reason_name(why.code));
	}
	/* the audit text names the partner and the object */
	snprintf(quoted, sizeof(quoted), "'%s'", rname);
	if (!strstr(why.text, quoted) || !strstr(why.text, id))
		fail_msg("reason text lacks %s or %s: %s", quoted, id, why.text);
	/* the text is optional, the decision is not */
	assert_int_equal(cp_policy_decide(p, rname, &o, NULL), dec);
	tl->cells++;
	tl->by_code[want]++;
	tl->released += dec == CP_POLICY_RELEASE;
}

/* every recipient, provenance and collection for one object */
static void check_object(const struct cp_policy *p, struct cell *c, struct tally *tl,
                         unsigned serial)
{
	json_t *obj = make_object(c->kind, c->t, c->pv, serial, serial % 2);

	/* the fixture says what it means to say */
	assert_int_equal(cp_policy_object_pap(obj), c->pv->pap);
	if (!c->t->bad)
		assert_int_equal(cp_stix_object_tlp_max(obj), c->t->tlp);
	for (c->rcpt = 0; c->rcpt <= GHOST; c->rcpt++)
		for (c->origin = OWN; c->origin <= GHOST; c->origin++)
			for (c->coll = 0; c->coll < 3; c->coll++)
				check_cell(p, obj, c, tl);
	json_decref(obj);
}

static void matrix(void **state)
{
	struct cp_policy *p = NULL;
	struct cp_diag d;
	struct tally tl = {0};
	struct cell c;
	unsigned serial = 0;

	cp_diag_init(&d);
	assert_int_equal(cp_policy_new(matrix_agreements, CP_ARRAY_LEN(matrix_agreements), &p, &d),
	                 CP_OK);
	/* north is named for RED under an AMBER+STRICT ceiling: allowed, but said */
	assert_only_finding(&d, CP_SEV_WARNING, "red-without-red-ceiling", "/0/red");
	cp_diag_release(&d);

	for (size_t ti = 0; ti < CP_ARRAY_LEN(tlpvars); ti++) {
		for (size_t pi = 0; pi < CP_ARRAY_LEN(papvars); pi++) {
			for (c.kind = 0; c.kind < K_COUNT; c.kind++) {
				c.t = &tlpvars[ti];
				c.pv = &papvars[pi];
				/* serial also alternates where the PAP marking goes */
				check_object(p, &c, &tl, ++serial);
			}
		}
	}
	print_message("policy matrix: %zu cells, %zu released\n", tl.cells, tl.released);
	for (size_t k = 0; k < CP_ARRAY_LEN(tl.by_code); k++) {
		print_message("  %-18s %zu\n", cp_policy_reason_name((enum cp_policy_reason_code)k),
		              tl.by_code[k]);
		/* every reason but the type lists (tested below) has cells */
		if (k != CP_POLICY_TYPE && !tl.by_code[k])
			fail_msg("no matrix cell has reason %s",
			         cp_policy_reason_name((enum cp_policy_reason_code)k));
	}
	assert_int_equal(tl.cells, CP_ARRAY_LEN(tlpvars) * CP_ARRAY_LEN(papvars) * K_COUNT *
	                                   (N_PARTNERS + 1) * (N_PARTNERS + 2) * 3);
	cp_policy_free(p);
}

/* ------------------------------------------------------------ helpers */

static struct cp_policy *policy_of(const struct cp_policy_agreement *a, size_t n)
{
	struct cp_policy *p = NULL;
	struct cp_diag d;

	cp_diag_init(&d);
	if (cp_policy_new(a, n, &p, &d) != CP_OK) {
		tu_dump(&d);
		fail_msg("cp_policy_new failed");
	}
	cp_diag_release(&d);
	return p;
}

/* Decide on JSON text; check the decision against the code. */
static enum cp_policy_reason_code decide_text(const struct cp_policy *p, const char *partner,
                                              const char *json, const char *coll,
                                              const char *origin, struct cp_policy_reason *why)
{
	json_t *obj = parse(json);
	struct cp_policy_object o = {obj, coll, origin, NULL};
	enum cp_policy_decision dec = cp_policy_decide(p, partner, &o, why);

	json_decref(obj);
	assert_int_equal(dec, why->code == CP_POLICY_OK ? CP_POLICY_RELEASE : CP_POLICY_WITHHOLD);
	return why->code;
}

#define OBJ(type, extra)                                                                           \
	"{\"type\":\"" type "\",\"spec_version\":\"2.1\",\"id\":\"" type                           \
	"--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"" extra "}"

static const struct cp_policy_agreement open_partner = {.partner = "open",
                                                        .community = "c",
                                                        .tlp_ceiling = CP_TLP_RED,
                                                        .read = read_all,
                                                        .read_count = 1,
                                                        .third_party = true,
                                                        .sightings = true,
                                                        .consultations = true};

/* ------------------------------------------------------------ gate edges */

static void unknown_partner(void **state)
{
	struct cp_policy *p = policy_of(&open_partner, 1);
	json_t *obj = parse(OBJ("indicator", ",\"object_marking_refs\":[\"" T2_CLEAR "\"]"));
	struct cp_policy_object o = {obj, C_MAIN, NULL, NULL};
	struct cp_policy_reason why;

	assert_int_equal(cp_policy_decide(p, "open", &o, &why), CP_POLICY_RELEASE);
	assert_int_equal(cp_policy_decide(p, "nobody", &o, &why), CP_POLICY_WITHHOLD);
	assert_int_equal(why.code, CP_POLICY_NO_AGREEMENT);
	assert_string_equal(why.text, "no agreement with partner 'nobody': object " IND_ID
	                              " is withheld (default deny)");
	/* names compare exactly */
	assert_int_equal(cp_policy_decide(p, "Open", &o, &why), CP_POLICY_WITHHOLD);
	assert_int_equal(why.code, CP_POLICY_NO_AGREEMENT);
	assert_int_equal(cp_policy_decide(p, "", &o, &why), CP_POLICY_WITHHOLD);
	assert_int_equal(why.code, CP_POLICY_NO_AGREEMENT);
	assert_int_equal(cp_policy_decide(p, NULL, &o, &why), CP_POLICY_WITHHOLD);
	assert_int_equal(why.code, CP_POLICY_NO_AGREEMENT);
	assert_int_equal(cp_policy_decide(NULL, "open", &o, &why), CP_POLICY_WITHHOLD);
	assert_int_equal(why.code, CP_POLICY_NO_AGREEMENT);
	/* no object, no collection, no type */
	assert_int_equal(cp_policy_decide(p, "open", NULL, &why), CP_POLICY_WITHHOLD);
	assert_int_equal(why.code, CP_POLICY_COLLECTION);
	o.collection_id = NULL;
	assert_int_equal(cp_policy_decide(p, "open", &o, &why), CP_POLICY_WITHHOLD);
	assert_int_equal(why.code, CP_POLICY_COLLECTION);
	o.collection_id = C_MAIN;
	o.obj = NULL;
	assert_int_equal(cp_policy_decide(p, "open", &o, &why), CP_POLICY_WITHHOLD);
	assert_int_equal(why.code, CP_POLICY_TYPE);
	assert_non_null(strstr(why.text, "(without id)"));
	json_decref(obj);
	cp_policy_free(p);
}

static void empty_policy(void **state)
{
	struct cp_policy *p = NULL;
	struct cp_policy_reason why;

	assert_int_equal(cp_policy_new(NULL, 0, &p, NULL), CP_OK);
	assert_int_equal(decide_text(p, "open", OBJ("indicator", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_NO_AGREEMENT);
	cp_policy_free(p);
	cp_policy_free(NULL);
}

#define LONG70 "0123456789012345678901234567890123456789012345678901234567890123456789"

static void malformed_markings(void **state)
{
	static const struct {
		const char *extra;
		const char *text; /* expected in the reason */
	} cases[] = {
	        {",\"object_marking_refs\":{\"0\":\"" T2_RED "\"}",
	         "object_marking_refs is not an array"},
	        {",\"object_marking_refs\":[\"" T2_CLEAR "\",7]",
	         "object_marking_refs[1] is not a string"},
	        {",\"object_marking_refs\":[{\"id\":\"" T2_RED "\"}]",
	         "object_marking_refs[0] is not a string"},
	        {",\"object_marking_refs\":[\"TLP:RED\"]",
	         "object_marking_refs[0] 'TLP:RED' is not a marking-definition id"},
	        {",\"object_marking_refs\":[\"marking-definition--tlp-red\"]",
	         "is not a marking-definition id"},
	        {",\"object_marking_refs\":[\"" T2_RED " \"]", "is not a marking-definition id"},
	        {",\"object_marking_refs\":[\"marking-definition--g828b379-4e03-4974-9ac4-"
	         "e53a884c97c1\"]",
	         "is not a marking-definition id"},
	        {",\"object_marking_refs\":[\"marking-definition--e828b379_4e03-4974-9ac4-"
	         "e53a884c97c1\"]",
	         "is not a marking-definition id"},
	        {",\"object_marking_refs\":[\"identity--e828b379-4e03-4974-9ac4-e53a884c97c1\"]",
	         "is not a marking-definition id"},
	        {",\"object_marking_refs\":[\"marking-definition--e828b379-4e03-4974-9ac4-"
	         "e53a884c97c\"]",
	         "is not a marking-definition id"},
	        /* a long value is quoted up to 64 characters */
	        {",\"object_marking_refs\":[\"marking-definition--" LONG70 "\"]",
	         "object_marking_refs[0] 'marking-definition--01234567890123456789012345678901"
	         "234567890123' is not a marking-definition id"},
	        {",\"granular_markings\":\"" T2_RED "\"", "granular_markings is not an array"},
	        {",\"granular_markings\":[\"" T2_RED "\"]",
	         "granular_markings[0] is not an object"},
	        {",\"granular_markings\":[{\"selectors\":[\"name\"]}]",
	         "granular_markings[0] has neither marking_ref nor lang"},
	        {",\"granular_markings\":[{\"selectors\":[\"name\"],\"lang\":\"en\"},"
	         "{\"selectors\":[\"name\"],\"marking_ref\":[\"" T2_RED "\"]}]",
	         "granular_markings[1] is not a string"},
	};
	struct cp_policy *p = policy_of(&open_partner, 1);
	struct cp_policy_reason why;
	char json[512];

	for (size_t i = 0; i < CP_ARRAY_LEN(cases); i++) {
		snprintf(json, sizeof(json), OBJ("indicator", "%s"), cases[i].extra);
		if (decide_text(p, "open", json, C_MAIN, NULL, &why) != CP_POLICY_BAD_MARKING)
			fail_msg("case %zu: want bad-marking, got %s: %s", i,
			         cp_policy_reason_name(why.code), why.text);
		if (!strstr(why.text, cases[i].text) || !strstr(why.text, "'open'"))
			fail_msg("case %zu: reason lacks '%s': %s", i, cases[i].text, why.text);
		/* the partner the object came from gets it back as it is */
		assert_int_equal(decide_text(p, "open", json, C_MAIN, "open", &why), CP_POLICY_OK);
	}
	/* an unknown, well-formed marking definition is not TLP: unmarked, the default
	 * AMBER, released under a RED ceiling */
	assert_int_equal(
	        decide_text(p, "open",
	                    OBJ("indicator", ",\"object_marking_refs\":[\"" STATEMENT "\"]"),
	                    C_MAIN, NULL, &why),
	        CP_POLICY_OK);
	cp_policy_free(p);
}

static void type_lists(void **state)
{
	static const char *const allowed[] = {"malware", "indicator", "sighting", "malware"};
	static const char *const excluded[] = {"malware"};
	struct cp_policy_agreement a[2] = {open_partner, open_partner};
	struct cp_policy *p;
	struct cp_policy_reason why;

	a[0].types_allowed = allowed;
	a[0].types_allowed_count = CP_ARRAY_LEN(allowed);
	a[0].types_excluded = excluded;
	a[0].types_excluded_count = 1;
	a[1].partner = "noexcl";
	a[1].types_excluded = excluded;
	a[1].types_excluded_count = 1;
	p = policy_of(a, 2);

	assert_int_equal(decide_text(p, "open", OBJ("indicator", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_OK);
	/* excluded wins over allowed */
	assert_int_equal(decide_text(p, "open", OBJ("malware", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_TYPE);
	assert_non_null(strstr(why.text, "'malware', which the agreement with partner 'open' "
	                                 "excludes"));
	assert_int_equal(decide_text(p, "open", OBJ("report", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_TYPE);
	assert_non_null(strstr(why.text, "'report', which is not among the types"));
	/* an empty allowed list allows every type */
	assert_int_equal(decide_text(p, "noexcl", OBJ("report", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_OK);
	assert_int_equal(decide_text(p, "noexcl", OBJ("malware", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_TYPE);
	/* no type, or a type that is not a string */
	assert_int_equal(decide_text(p, "noexcl", "{\"id\":\"x--1\"}", C_MAIN, NULL, &why),
	                 CP_POLICY_TYPE);
	assert_int_equal(
	        decide_text(p, "noexcl", "{\"type\":7,\"id\":\"x--1\"}", C_MAIN, NULL, &why),
	        CP_POLICY_TYPE);
	assert_int_equal(decide_text(p, "noexcl", "[1,2]", C_MAIN, NULL, &why), CP_POLICY_TYPE);
	/* type rules bind the partner's own objects too */
	assert_int_equal(decide_text(p, "open", OBJ("report", ""), C_MAIN, "open", &why),
	                 CP_POLICY_TYPE);
	cp_policy_free(p);
}

static void sightings(void **state)
{
	static const char *const no_sighting_type[] = {"indicator"};
	struct cp_policy_agreement a[3] = {open_partner, open_partner, open_partner};
	struct cp_policy *p;
	struct cp_policy_reason why;

	a[0].partner = "yes";
	a[1].partner = "no";
	a[1].sightings = false;
	a[2].partner = "typed";
	a[2].types_allowed = no_sighting_type;
	a[2].types_allowed_count = 1;
	p = policy_of(a, 3);
	assert_int_equal(decide_text(p, "yes", OBJ("sighting", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_OK);
	assert_int_equal(decide_text(p, "no", OBJ("sighting", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_SIGHTING);
	assert_string_equal(why.text, "object sighting--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f is "
	                              "a sighting; the agreement with partner 'no' does not share "
	                              "sightings");
	/* also for sightings that partner sent us */
	assert_int_equal(decide_text(p, "no", OBJ("sighting", ""), C_MAIN, "no", &why),
	                 CP_POLICY_SIGHTING);
	assert_int_equal(decide_text(p, "no", OBJ("indicator", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_OK);
	/* a type list that leaves sightings out says so first */
	assert_int_equal(decide_text(p, "typed", OBJ("sighting", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_TYPE);
	cp_policy_free(p);
}

static void consultations(void **state)
{
	struct cp_policy_agreement a[2] = {open_partner, open_partner};
	struct cp_policy *p;
	struct cp_policy_reason why;

	a[0].partner = "yes";
	a[1].partner = "no";
	a[1].consultations = false;
	p = policy_of(a, 2);
	/* any type carrying the property is a consultation object; its value does not
	 * matter, not even null */
	assert_int_equal(decide_text(p, "no",
	                             OBJ("note", ",\"x_cyberpact_consultation_id\":\"c1\""), C_MAIN,
	                             NULL, &why),
	                 CP_POLICY_CONSULTATION);
	assert_non_null(strstr(why.text, "consultation object (x_cyberpact_consultation_id)"));
	assert_int_equal(decide_text(p, "no",
	                             OBJ("indicator", ",\"x_cyberpact_consultation_id\":null"),
	                             C_MAIN, NULL, &why),
	                 CP_POLICY_CONSULTATION);
	assert_int_equal(decide_text(p, "no",
	                             OBJ("course-of-action", ",\"x_cyberpact_consultation_id\":{}"),
	                             C_MAIN, NULL, &why),
	                 CP_POLICY_CONSULTATION);
	assert_int_equal(decide_text(p, "yes",
	                             OBJ("note", ",\"x_cyberpact_consultation_id\":\"c1\""), C_MAIN,
	                             NULL, &why),
	                 CP_POLICY_OK);
	/* notes, opinions, groupings without the property are ordinary objects */
	assert_int_equal(decide_text(p, "no", OBJ("note", ""), C_MAIN, NULL, &why), CP_POLICY_OK);
	assert_int_equal(decide_text(p, "no", OBJ("grouping", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_OK);
	/* the property inside an extension is not the convention */
	assert_int_equal(decide_text(p, "no",
	                             OBJ("note", ",\"extensions\":{\"x\":{"
	                                         "\"x_cyberpact_consultation_id\":\"c1\"}}"),
	                             C_MAIN, NULL, &why),
	                 CP_POLICY_OK);
	cp_policy_free(p);
}

static void red_and_strict(void **state)
{
	static const char *const red_main[] = {C_MAIN};
	struct cp_policy_agreement a[3] = {open_partner, open_partner, open_partner};
	struct cp_policy *p;
	struct cp_policy_reason why;
	struct cp_diag d;

	a[0].partner = "north";
	a[0].tlp_ceiling = CP_TLP_AMBER;
	a[1].partner = "west";
	a[1].red = red_main;
	a[1].red_count = 1;
	a[2].partner = "unset";
	a[2].tlp_ceiling = CP_TLP_NONE;
	cp_diag_init(&d);
	p = NULL;
	assert_int_equal(cp_policy_new(a, 3, &p, &d), CP_OK);
	assert_clean(&d);
	cp_diag_release(&d);

	assert_int_equal(
	        decide_text(p, "north",
	                    OBJ("indicator", ",\"object_marking_refs\":[\"" T2_AMBER_STRICT "\"]"),
	                    C_MAIN, NULL, &why),
	        CP_POLICY_TLP_STRICT);
	assert_string_equal(why.text, "object " IND_ID " is TLP:AMBER+STRICT; partner 'north' has "
	                              "an AMBER ceiling, which does not include AMBER+STRICT");
	assert_int_equal(decide_text(p, "west",
	                             OBJ("indicator", ",\"object_marking_refs\":[\"" T2_RED "\"]"),
	                             C_MAIN, NULL, &why),
	                 CP_POLICY_OK);
	assert_int_equal(decide_text(p, "west",
	                             OBJ("indicator", ",\"object_marking_refs\":[\"" T2_RED "\"]"),
	                             C_OTHER, NULL, &why),
	                 CP_POLICY_TLP_RED);
	assert_string_equal(why.text, "object " IND_ID " is TLP:RED; partner 'west' is not a "
	                              "named TLP:RED recipient for collection '" C_OTHER "'");
	/* unmarked is AMBER by default */
	assert_int_equal(decide_text(p, "north", OBJ("indicator", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_OK);
	assert_int_equal(decide_text(p, "unset", OBJ("indicator", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_TLP_CEILING);
	assert_string_equal(why.text, "object " IND_ID " is TLP:AMBER (unmarked: the agreement's "
	                              "default); partner 'unset' has a TLP:CLEAR ceiling (none "
	                              "set)");
	/* a ceiling never set still lets TLP:CLEAR out */
	assert_int_equal(
	        decide_text(p, "unset",
	                    OBJ("indicator", ",\"object_marking_refs\":[\"" T1_WHITE "\"]"), C_MAIN,
	                    NULL, &why),
	        CP_POLICY_OK);
	cp_policy_free(p);
}

static void third_party_texts(void **state)
{
	struct cp_policy *p = policy_of(matrix_agreements, CP_ARRAY_LEN(matrix_agreements));
	struct cp_policy_reason why;

	assert_int_equal(
	        decide_text(p, "far",
	                    OBJ("indicator", ",\"object_marking_refs\":[\"" T2_GREEN "\"]"), C_MAIN,
	                    "south", &why),
	        CP_POLICY_COMMUNITY);
	assert_string_equal(why.text, "object " IND_ID " came from partner 'south' (community "
	                              "'region') and is TLP:GREEN; partner 'far' (no community) is "
	                              "not in the same community");
	assert_int_equal(
	        decide_text(p, "isle",
	                    OBJ("indicator", ",\"object_marking_refs\":[\"" T2_GREEN "\"]"), C_MAIN,
	                    "east", &why),
	        CP_POLICY_NO_REDISTRIBUTION);
	assert_string_equal(why.text, "object " IND_ID " came from partner 'east', whose "
	                              "agreement forbids redistribution; not passed to partner "
	                              "'isle'");
	assert_int_equal(
	        decide_text(p, "west",
	                    OBJ("indicator", ",\"object_marking_refs\":[\"" T2_AMBER "\"]"), C_MAIN,
	                    "north", &why),
	        CP_POLICY_THIRD_PARTY_TLP);
	assert_int_equal(decide_text(p, "east", OBJ("indicator", ""), C_MAIN, "north", &why),
	                 CP_POLICY_THIRD_PARTY);
	assert_int_equal(decide_text(p, "west", OBJ("indicator", ""), C_MAIN, "mallory", &why),
	                 CP_POLICY_UNKNOWN_ORIGIN);
	assert_non_null(strstr(why.text, "'mallory', which has no agreement"));
	/* unmarked from south (default GREEN) to isle (default CLEAR): the stricter,
	 * GREEN, same community, but isle's ceiling is CLEAR */
	assert_int_equal(decide_text(p, "isle", OBJ("indicator", ""), C_MAIN, "south", &why),
	                 CP_POLICY_TLP_CEILING);
	assert_non_null(strstr(why.text, "TLP:GREEN (unmarked: the stricter default"));
	/* unmarked from isle (default CLEAR) to south (default GREEN): GREEN, released */
	assert_int_equal(decide_text(p, "south", OBJ("indicator", ""), C_MAIN, "isle", &why),
	                 CP_POLICY_OK);
	assert_int_equal(decide_text(p, "north",
	                             OBJ("indicator", ",\"object_marking_refs\":[\"" PAP_RED "\"]"),
	                             C_MAIN, NULL, &why),
	                 CP_POLICY_PAP_CEILING);
	assert_string_equal(why.text, "object " IND_ID " is PAP:RED; partner 'north' has a "
	                              "PAP:AMBER ceiling");
	cp_policy_free(p);
}

/* ------------------------------------------------------------ building */

static void duplicate_partner(void **state)
{
	struct cp_policy_agreement a[3] = {open_partner, open_partner, open_partner};
	struct cp_policy *p = (struct cp_policy *)&a; /* must stay untouched */
	struct cp_diag d;

	a[1].partner = "other";
	cp_diag_init(&d);
	assert_int_equal(cp_policy_new(a, 3, &p, &d), CP_EINVAL);
	assert_ptr_equal(p, (struct cp_policy *)&a);
	assert_only_finding(&d, CP_SEV_ERROR, "partner-duplicate", "/2/partner");
	assert_string_equal(d.items[0].message, "partner 'open' already has an agreement (/0)");
	cp_diag_release(&d);
	/* without a diag too */
	assert_int_equal(cp_policy_new(a, 3, &p, NULL), CP_EINVAL);
	assert_ptr_equal(p, (struct cp_policy *)&a);
}

static void invalid_agreements(void **state)
{
	static const char *const with_null[] = {C_MAIN, NULL};
	static const char *const with_empty[] = {""};
	static const char *const red_star[] = {"*"};
	struct cp_policy_agreement a[7] = {open_partner, open_partner, open_partner, open_partner,
	                                   open_partner, open_partner, open_partner};
	struct cp_policy *p = NULL;
	struct cp_diag d;

	a[0].partner = NULL;
	a[1].partner = "";
	a[2].partner = "enums";
	a[2].tlp_ceiling = (enum cp_tlp)6;
	a[2].default_tlp = (enum cp_tlp) - 1;
	a[2].pap_ceiling = (enum cp_pap)9;
	a[3].partner = "lists";
	a[3].read = with_null;
	a[3].read_count = 2;
	a[3].types_excluded = with_empty;
	a[3].types_excluded_count = 1;
	a[4].partner = "nullarray";
	a[4].types_allowed = NULL;
	a[4].types_allowed_count = 3;
	a[5].partner = "redstar";
	a[5].red = red_star;
	a[5].red_count = 1;
	a[6].partner = "fine";
	cp_diag_init(&d);
	assert_int_equal(cp_policy_new(a, 7, &p, &d), CP_EINVAL);
	assert_null(p);
	assert_finding(&d, CP_SEV_ERROR, "partner-name", "/0/partner");
	assert_finding(&d, CP_SEV_ERROR, "partner-name", "/1/partner");
	assert_finding(&d, CP_SEV_ERROR, "out-of-range", "/2/tlp_ceiling");
	assert_finding(&d, CP_SEV_ERROR, "out-of-range", "/2/default_tlp");
	assert_finding(&d, CP_SEV_ERROR, "out-of-range", "/2/pap_ceiling");
	assert_finding(&d, CP_SEV_ERROR, "null-entry", "/3/read");
	assert_finding(&d, CP_SEV_ERROR, "empty-string", "/3/types_excluded");
	assert_finding(&d, CP_SEV_ERROR, "null-entry", "/4/types_allowed");
	assert_finding(&d, CP_SEV_ERROR, "red-wildcard", "/5/red");
	assert_int_equal(d.errors, 9);
	assert_int_equal(d.warnings, 0);
	cp_diag_release(&d);
	assert_int_equal(cp_policy_new(a, 1, NULL, NULL), CP_EINVAL);
	assert_int_equal(cp_policy_new(NULL, 1, &p, NULL), CP_EINVAL);
}

static void warnings(void **state)
{
	static const char *const red_other[] = {C_OTHER};
	struct cp_policy_agreement a[2] = {open_partner, open_partner};
	struct cp_policy *p = NULL;
	struct cp_diag d;

	a[0].partner = "low";
	a[0].tlp_ceiling = CP_TLP_GREEN;
	a[0].red = red_other;
	a[0].red_count = 1;
	a[1].partner = "narrow";
	a[1].read = read_main;
	a[1].read_count = 1;
	a[1].red = red_other;
	a[1].red_count = 1;
	cp_diag_init(&d);
	assert_int_equal(cp_policy_new(a, 2, &p, &d), CP_OK);
	assert_finding(&d, CP_SEV_WARNING, "red-without-red-ceiling", "/0/red");
	assert_finding(&d, CP_SEV_WARNING, "red-not-readable", "/1/red");
	assert_int_equal(d.count, 2);
	assert_int_equal(d.errors, 0);
	cp_diag_release(&d);
	cp_policy_free(p);
}

static char **dup_list(const char *const *v, size_t n)
{
	char **out = malloc(n * sizeof(*out));

	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(v[i]);
		assert_non_null(out[i]);
	}
	return out;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(v[i], 'X', strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

static void deep_copy(void **state)
{
	static const char *const types[] = {"indicator", "sighting", "note"};
	static const char *const excl[] = {"note"};
	struct cp_policy_agreement *a = calloc(2, sizeof(*a));
	char *names[2], *communities[2];
	char **reads[2], **reds[2], **allowed, **excluded;
	struct cp_policy *p = NULL;
	struct cp_policy_reason why;
	const char *red_obj = OBJ("indicator", ",\"object_marking_refs\":[\"" T2_RED "\"]");
	const char *green_obj = OBJ("indicator", ",\"object_marking_refs\":[\"" T2_GREEN "\"]");

	assert_non_null(a);
	for (int i = 0; i < 2; i++) {
		names[i] = strdup(i ? "second" : "first");
		communities[i] = strdup("shared");
		reads[i] = dup_list(read_main_red, 2);
		reds[i] = dup_list(red_red, 1);
		a[i].partner = names[i];
		a[i].community = communities[i];
		a[i].tlp_ceiling = CP_TLP_RED;
		a[i].read = (const char *const *)reads[i];
		a[i].read_count = 2;
		a[i].red = (const char *const *)reds[i];
		a[i].red_count = 1;
		a[i].third_party = true;
	}
	allowed = dup_list(types, 3);
	excluded = dup_list(excl, 1);
	a[0].types_allowed = (const char *const *)allowed;
	a[0].types_allowed_count = 3;
	a[0].types_excluded = (const char *const *)excluded;
	a[0].types_excluded_count = 1;
	assert_int_equal(cp_policy_new(a, 2, &p, NULL), CP_OK);

	/* scribble over everything the caller owned, then free it */
	for (int i = 0; i < 2; i++) {
		memset(names[i], 'X', strlen(names[i]));
		free(names[i]);
		memset(communities[i], 'X', strlen(communities[i]));
		free(communities[i]);
		free_list(reads[i], 2);
		free_list(reds[i], 1);
	}
	free_list(allowed, 3);
	free_list(excluded, 1);
	memset(a, 0, 2 * sizeof(*a));
	free(a);

	assert_int_equal(decide_text(p, "first", red_obj, C_RED, NULL, &why), CP_POLICY_OK);
	assert_int_equal(decide_text(p, "second", red_obj, C_RED, NULL, &why), CP_POLICY_OK);
	assert_int_equal(decide_text(p, "first", red_obj, C_MAIN, NULL, &why), CP_POLICY_TLP_RED);
	assert_int_equal(decide_text(p, "first", OBJ("note", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_TYPE);
	assert_int_equal(decide_text(p, "first", OBJ("malware", ""), C_MAIN, NULL, &why),
	                 CP_POLICY_TYPE);
	assert_int_equal(decide_text(p, "first", OBJ("indicator", ""), C_OTHER, NULL, &why),
	                 CP_POLICY_COLLECTION);
	/* the communities were copied: GREEN from second goes to first */
	assert_int_equal(decide_text(p, "first", green_obj, C_MAIN, "second", &why), CP_POLICY_OK);
	cp_policy_free(p);
}

static void alloc_failure(void **state)
{
	static const char *const types[] = {"indicator", "malware", "tool"};
	struct cp_policy_agreement a[CP_ARRAY_LEN(matrix_agreements) + 1];
	struct cp_policy *p;
	enum cp_err err = CP_ENOMEM;
	unsigned long n;

	memcpy(a, matrix_agreements, sizeof(matrix_agreements));
	a[CP_ARRAY_LEN(matrix_agreements)] = open_partner;
	a[0].types_allowed = types;
	a[0].types_allowed_count = 3;
	a[1].types_excluded = types;
	a[1].types_excluded_count = 3;
	for (n = 1; err == CP_ENOMEM && n < 1000; n++) {
		p = NULL;
		cp_alloc_fail_after(n, false);
		err = cp_policy_new(a, CP_ARRAY_LEN(a), &p, NULL);
		cp_alloc_fail_after(0, false);
		if (err == CP_ENOMEM)
			assert_null(p);
	}
	assert_int_equal(err, CP_OK);
	assert_true(n > 10);
	cp_policy_free(p);
}

static void no_allocation(void **state)
{
	struct cp_policy *p = policy_of(matrix_agreements, CP_ARRAY_LEN(matrix_agreements));
	json_t *obj =
	        parse(OBJ("indicator", ",\"object_marking_refs\":[\"" T2_GREEN "\",\"" PAP_GREEN
	                               "\"],\"granular_markings\":[" SEL T1_AMBER "\"}]"));
	struct cp_policy_object o = {obj, C_MAIN, NULL, NULL};
	struct cp_policy_reason why;
	unsigned long before = cp_alloc_count();

	for (int i = 0; i < 1000; i++) {
		o.origin = i % 3 == 0 ? NULL : i % 3 == 1 ? "south" : "isle";
		(void)cp_policy_decide(p, opartners[i % N_PARTNERS].name, &o, &why);
		(void)cp_policy_decide(p, "ghost", &o, NULL);
	}
	assert_int_equal(cp_alloc_count(), before);
	json_decref(obj);
	cp_policy_free(p);
}

static void long_names(void **state)
{
	char name[400];
	struct cp_policy_agreement a = open_partner;
	struct cp_policy *p;
	struct cp_policy_reason why;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	a.partner = name;
	p = policy_of(&a, 1);
	assert_int_equal(decide_text(p, name, OBJ("sighting", ""), C_OTHER, NULL, &why),
	                 CP_POLICY_OK);
	assert_true(strlen(why.text) == sizeof(why.text) - 1);
	cp_policy_free(p);
}

/* ------------------------------------------------------------ names and ids */

static void names_and_ids(void **state)
{
	static const struct {
		const char *id;
		enum cp_pap pap;
	} ids[] = {
	        {PAP_CLEAR, CP_PAP_CLEAR},
	        {PAP_WHITE, CP_PAP_CLEAR},
	        {PAP_GREEN, CP_PAP_GREEN},
	        {PAP_AMBER, CP_PAP_AMBER},
	        {PAP_RED, CP_PAP_RED},
	        {"marking-definition--740D36E5-7714-4C30-961A-3AE632CEEE0E", CP_PAP_RED},
	        {T2_RED, CP_PAP_NONE},
	        {"740d36e5-7714-4c30-961a-3ae632ceee0e", CP_PAP_NONE},
	        {"", CP_PAP_NONE},
	        {NULL, CP_PAP_NONE},
	};
	const char *seen[CP_POLICY_UNKNOWN_ORIGIN + 1];
	json_t *obj;

	for (size_t i = 0; i < CP_ARRAY_LEN(ids); i++)
		assert_int_equal(cp_policy_pap_of_marking_id(ids[i].id), ids[i].pap);
	assert_string_equal(cp_policy_pap_marking_id(CP_PAP_CLEAR), PAP_CLEAR);
	assert_string_equal(cp_policy_pap_marking_id(CP_PAP_GREEN), PAP_GREEN);
	assert_string_equal(cp_policy_pap_marking_id(CP_PAP_AMBER), PAP_AMBER);
	assert_string_equal(cp_policy_pap_marking_id(CP_PAP_RED), PAP_RED);
	assert_null(cp_policy_pap_marking_id(CP_PAP_NONE));
	assert_string_equal(cp_policy_pap_name(CP_PAP_CLEAR), "PAP:CLEAR");
	assert_string_equal(cp_policy_pap_name(CP_PAP_RED), "PAP:RED");
	assert_null(cp_policy_pap_name((enum cp_pap)17));

	/* the strictest PAP of object and granular markings */
	obj = parse(OBJ("indicator", ",\"object_marking_refs\":[\"" PAP_GREEN "\",5],"
	                             "\"granular_markings\":[" SEL PAP_AMBER "\"}]"));
	assert_int_equal(cp_policy_object_pap(obj), CP_PAP_AMBER);
	json_decref(obj);
	assert_int_equal(cp_policy_object_pap(NULL), CP_PAP_NONE);

	for (int c = 0; c <= CP_POLICY_UNKNOWN_ORIGIN; c++) {
		seen[c] = cp_policy_reason_name((enum cp_policy_reason_code)c);
		assert_string_not_equal(seen[c], "unknown");
		for (int k = 0; k < c; k++)
			assert_string_not_equal(seen[k], seen[c]);
	}
	assert_string_equal(cp_policy_reason_name(CP_POLICY_TLP_STRICT), "tlp-strict");
	assert_string_equal(cp_policy_reason_name((enum cp_policy_reason_code)99), "unknown");
	assert_string_equal(cp_policy_reason_name((enum cp_policy_reason_code) - 1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(matrix),
	        cmocka_unit_test(unknown_partner),
	        cmocka_unit_test(empty_policy),
	        cmocka_unit_test(malformed_markings),
	        cmocka_unit_test(type_lists),
	        cmocka_unit_test(sightings),
	        cmocka_unit_test(consultations),
	        cmocka_unit_test(red_and_strict),
	        cmocka_unit_test(third_party_texts),
	        cmocka_unit_test(duplicate_partner),
	        cmocka_unit_test(invalid_agreements),
	        cmocka_unit_test(warnings),
	        cmocka_unit_test(deep_copy),
	        cmocka_unit_test(alloc_failure),
	        cmocka_unit_test(no_allocation),
	        cmocka_unit_test(long_names),
	        cmocka_unit_test(names_and_ids),
	};

	cp_json_use_cp_alloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
