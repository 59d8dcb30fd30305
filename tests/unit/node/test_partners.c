/*
 * lib/node/partners.c: a full file read back field by field, every check the loader
 * makes (with its key path and line), collection references resolved against a
 * configuration, the format/load round trip and atomic saves, token issue and
 * verification (good, wrong secret, unknown id, revoked, expired, malformed), client
 * certificate lookup, the changing functions, the policy built for the egress gate,
 * and allocation failure.
 *
 * Token hashes and texts written into the fixtures below were computed outside the
 * code under test (Python's hashlib.blake2b(digest_size=32) and base64).
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "cyberpact/config.h"
#include "cyberpact/partners.h"
#include "cyberpact/policy.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define ID1 "9ee8a8b4-3e5e-4b7e-9cde-7c7f6a2d9a10"
#define ID2 "2f3c5a1e-8b7d-4c6e-a1f0-3d2e1c0b9a87"
#define ID3 "5b7a3c8e-1f2d-4e6a-9b0c-3d4e5f6a7b8c"
#define ID4 "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
#define ID5 "f0e1d2c3-b4a5-4968-8776-655443322110"
#define IDENT "identity--0b3c2f1e-7d6a-4c5b-9e8f-1a2b3c4d5e6f"
#define FP_A "sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
#define FP_A_LOWER "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
#define FP_B "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define FP_C "sha256:2222222222222222222222222222222222222222222222222222222222222222"

/* secret = 32 zero bytes */
#define HASH_ZERO "89eb0d6a8a691dae2cd15ed0369931ce0a949ecafa5c3f93f8121833646e15c3"
#define TOKEN_ZERO "cpt_0123abcd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
/* secret = bytes 0, 1, ..., 31 */
#define HASH_SEQ "cb2f5160fc1f7e05a55ef49d340b48da2e5a78099d53393351cd579dd42503d6"
#define TOKEN_SEQ "cpt_0123abce_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

#define T2_GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define T2_AMBER "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define T2_AMBER_STRICT "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define T2_RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

/* Two API roots; "shared" is an alias in both (for different collections). */
static const char cfg_text[] = "api_roots:\n"
                               "  - name: api1\n"
                               "    title: A\n"
                               "    collections:\n"
                               "      - {id: " ID1 ", title: Indicators, alias: indicators}\n"
                               "      - {id: " ID2 ", title: Sightings, alias: sightings}\n"
                               "      - {id: " ID3 ", title: Shared, alias: shared}\n"
                               "  - name: api2\n"
                               "    title: B\n"
                               "    collections:\n"
                               "      - {id: " ID4 ", title: Other, alias: shared}\n"
                               "      - {id: " ID5 ", title: Red room, alias: red-room}\n"
                               "      - {id: " ID1 ", title: Indicators again, alias: iocs}\n";

/* Every key, with line numbers the tests below rely on. */
static const char full_text[] = "# partners of this node\n"                          /* 1 */
                                "partners:\n"                                        /* 2 */
                                "  - name: jp-mod\n"                                 /* 3 */
                                "    identity: " IDENT "\n"                          /* 4 */
                                "    title: \"Japan Ministry of Defense\"\n"         /* 5 */
                                "    community: pacific\n"                           /* 6 */
                                "    certificates:\n"                                /* 7 */
                                "      - fingerprint: \"" FP_A "\"\n"                /* 8 */
                                "      - subject: \"CN=jp-node,O=JMOD\"\n"           /* 9 */
                                "      - fingerprint: \"" FP_B "\"\n"                /* 10 */
                                "        subject: \"CN=jp-backup,O=JMOD\"\n"         /* 11 */
                                "    tokens:\n"                                      /* 12 */
                                "      - id: 0123abcd\n"                             /* 13 */
                                "        hash: \"" HASH_ZERO "\"\n"                  /* 14 */
                                "        created: 2026-11-26T10:00:00Z\n"            /* 15 */
                                "        expires: 2027-02-24T10:00:00Z\n"            /* 16 */
                                "      - id: 0123ABCE\n"                             /* 17 */
                                "        hash: \"" HASH_SEQ "\"\n"                   /* 18 */
                                "        created: 2026-11-26T10:00:00.5Z\n"          /* 19 */
                                "        revoked: 2026-12-01T00:00:00Z\n"            /* 20 */
                                "    agreement:\n"                                   /* 21 */
                                "      read: [\"*\"]\n"                              /* 22 */
                                "      write: [sightings]\n"                         /* 23 */
                                "      tlp_ceiling: red\n"                           /* 24 */
                                "      pap_ceiling: amber\n"                         /* 25 */
                                "      default_tlp: green\n"                         /* 26 */
                                "      red: [red-room]\n"                            /* 27 */
                                "      types_allowed: []\n"                          /* 28 */
                                "      types_excluded: [identity]\n"                 /* 29 */
                                "      third_party: true\n"                          /* 30 */
                                "      sightings: true\n"                            /* 31 */
                                "      consultations: True\n"                        /* 32 */
                                "      no_redistribution: false\n"                   /* 33 */
                                "      anonymise: true\n"                            /* 34 */
                                "  - name: au.asd\n"                                 /* 35 */
                                "    community: pacific\n"                           /* 36 */
                                "    agreement:\n"                                   /* 37 */
                                "      read: [indicators, " ID2 "]\n"                /* 38 */
                                "      tlp_ceiling: TLP:GREEN\n"                     /* 39 */
                                "      types_allowed: [indicator, x-custom-thing]\n" /* 40 */
                                "  - name: minimal_1\n";                             /* 41 */

static struct cp_time at(const char *s)
{
	struct cp_time t;

	if (cp_time_parse(s, strlen(s), &t, NULL))
		fail_msg("bad test timestamp %s", s);
	return t;
}

static void load_cfg(struct cp_config *c)
{
	struct cp_diag d;

	cp_diag_init(&d);
	if (cp_config_load_text(cfg_text, strlen(cfg_text), "cfg.yaml", c, &d)) {
		tu_dump(&d);
		fail_msg("test configuration does not load");
	}
	cp_diag_release(&d);
}

static struct cp_partners *load_ok(const char *text, const struct cp_config *cfg)
{
	struct cp_partners *p = NULL;
	struct cp_diag d;
	enum cp_err err;

	cp_diag_init(&d);
	err = cp_partners_load_text(text, strlen(text), "p.yaml", cfg, &p, &d);
	if (err || d.errors) {
		tu_dump(&d);
		fail_msg("expected success, got %s for:\n%s", cp_err_name(err), text);
	}
	cp_diag_release(&d);
	return p;
}

/* A "partners" error whose message starts with "<path>: " and contains part, at line. */
static const struct cp_finding *find_err(const struct cp_diag *d, enum cp_severity sev,
                                         const char *path, unsigned line, const char *part)
{
	size_t plen = strlen(path);

	for (size_t i = 0; i < d->count; i++) {
		const struct cp_finding *f = &d->items[i];
		if (f->severity != sev || strcmp(f->code, "partners") != 0)
			continue;
		if (plen && (strncmp(f->message, path, plen) != 0 ||
		             strncmp(f->message + plen, ": ", 2) != 0))
			continue;
		if (line && f->line != line)
			continue;
		if (part && !strstr(f->message, part))
			continue;
		return f;
	}
	return NULL;
}

#define assert_err(d, path, line, part)                                                            \
	do {                                                                                       \
		if (!find_err((d), CP_SEV_ERROR, (path), (line), (part))) {                        \
			tu_dump(d);                                                                \
			fail_msg("expected error '%s: ...%s...' at line %u", (path),               \
			         (part) ? (const char *)(part) : "", (unsigned)(line));            \
		}                                                                                  \
	} while (0)

/* text must fail with want and (at least) the described finding. */
static void expect_error(const char *text, const struct cp_config *cfg, enum cp_err want,
                         const char *path, unsigned line, const char *part)
{
	struct cp_partners *p = (struct cp_partners *)0x1; /* must stay untouched */
	struct cp_diag d;
	enum cp_err err;

	cp_diag_init(&d);
	err = cp_partners_load_text(text, strlen(text), "p.yaml", cfg, &p, &d);
	if (err != want) {
		tu_dump(&d);
		fail_msg("expected %s, got %s for:\n%s", cp_err_name(want), cp_err_name(err), text);
	}
	assert_ptr_equal(p, (struct cp_partners *)0x1);
	assert_err(&d, path, line, part);
	cp_diag_release(&d);
}

static void expect_invalid(const char *text, const char *path, unsigned line, const char *part)
{
	expect_error(text, NULL, CP_EINVAL, path, line, part);
}

/* ------------------------------------------------------------ loading */

static void empty_texts(void **state)
{
	static const char *const texts[] = {
	        "",    "# nothing\n", "---\n",          "{}\n",
	        "~\n", "partners:\n", "partners: []\n", "partners: ~\n",
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		struct cp_partners *p = load_ok(texts[i], NULL);
		assert_int_equal(cp_partners_count(p), 0);
		assert_null(cp_partners_at(p, 0));
		assert_null(cp_partners_find(p, "x"));
		cp_partners_free(p);
	}
	cp_partners_free(NULL);
}

static void full_example(void **state)
{
	struct cp_partners *p = load_ok(full_text, NULL);
	const struct cp_partner *jp, *au, *min;
	const struct cp_partner_agreement *a;
	char ts[CP_TIME_TEXT_MAX];
	(void)state;

	assert_int_equal(cp_partners_count(p), 3);
	jp = cp_partners_at(p, 0);
	assert_ptr_equal(jp, cp_partners_find(p, "jp-mod"));
	assert_string_equal(jp->name, "jp-mod");
	assert_int_equal(jp->line, 3);
	assert_int_equal(jp->column, 11);
	assert_string_equal(jp->identity, IDENT);
	assert_string_equal(jp->title, "Japan Ministry of Defense");
	assert_string_equal(jp->community, "pacific");
	assert_int_equal(jp->cert_count, 3);
	assert_string_equal(jp->certs[0].fingerprint, FP_A_LOWER); /* stored lowercase */
	assert_null(jp->certs[0].subject);
	assert_int_equal(jp->certs[0].line, 8);
	assert_null(jp->certs[1].fingerprint);
	assert_string_equal(jp->certs[1].subject, "CN=jp-node,O=JMOD");
	assert_string_equal(jp->certs[2].fingerprint, FP_B);
	assert_string_equal(jp->certs[2].subject, "CN=jp-backup,O=JMOD");
	assert_int_equal(jp->token_count, 2);
	assert_string_equal(jp->tokens[0].id, "0123abcd");
	assert_int_equal(jp->tokens[0].hash[0], 0x89);
	assert_int_equal(jp->tokens[0].hash[31], 0xc3);
	cp_time_format(&jp->tokens[0].created, ts);
	assert_string_equal(ts, "2026-11-26T10:00:00Z");
	assert_true(jp->tokens[0].has_expires);
	cp_time_format(&jp->tokens[0].expires, ts);
	assert_string_equal(ts, "2027-02-24T10:00:00Z");
	assert_false(jp->tokens[0].is_revoked);
	assert_string_equal(jp->tokens[1].id, "0123abce"); /* stored lowercase */
	assert_false(jp->tokens[1].has_expires);
	assert_true(jp->tokens[1].is_revoked);
	cp_time_format(&jp->tokens[1].created, ts);
	assert_string_equal(ts, "2026-11-26T10:00:00.5Z");
	a = &jp->agreement;
	assert_int_equal(a->read.count, 1);
	assert_string_equal(a->read.names[0], "*");
	assert_string_equal(a->read.ids[0], "*");
	assert_int_equal(a->write.count, 1);
	assert_string_equal(a->write.names[0], "sightings");
	assert_string_equal(a->write.ids[0], "sightings"); /* no configuration: as written */
	assert_int_equal(a->tlp_ceiling, CP_TLP_RED);
	assert_int_equal(a->pap_ceiling, CP_PAP_AMBER);
	assert_int_equal(a->default_tlp, CP_TLP_GREEN);
	assert_int_equal(a->red.count, 1);
	assert_string_equal(a->red.names[0], "red-room");
	assert_int_equal(a->types_allowed_count, 0);
	assert_int_equal(a->types_excluded_count, 1);
	assert_string_equal(a->types_excluded[0], "identity");
	assert_true(a->third_party && a->sightings && a->consultations && a->anonymise);
	assert_false(a->no_redistribution);

	au = cp_partners_find(p, "au.asd");
	assert_non_null(au);
	assert_null(au->identity);
	assert_null(au->title);
	assert_int_equal(au->cert_count, 0);
	assert_int_equal(au->token_count, 0);
	assert_int_equal(au->agreement.tlp_ceiling, CP_TLP_GREEN);
	assert_int_equal(au->agreement.default_tlp, CP_TLP_AMBER); /* default */
	assert_int_equal(au->agreement.pap_ceiling, CP_PAP_NONE);
	assert_int_equal(au->agreement.read.count, 2);
	assert_int_equal(au->agreement.types_allowed_count, 2);

	/* no agreement at all: default deny */
	min = cp_partners_find(p, "minimal_1");
	assert_non_null(min);
	assert_int_equal(min->agreement.read.count, 0);
	assert_int_equal(min->agreement.tlp_ceiling, CP_TLP_CLEAR);
	assert_int_equal(min->agreement.default_tlp, CP_TLP_AMBER);
	assert_false(min->agreement.sightings || min->agreement.third_party);
	assert_false(cp_partner_may_read(min, ID1));
	assert_null(cp_partners_find(p, "JP-MOD")); /* names are exact */
	cp_partners_free(p);
}

/* A type that is neither STIX 2.1 nor "x-": a warning, not an error. */
static void type_warnings(void **state)
{
	static const char text[] = "partners:\n"
	                           "  - name: a\n"
	                           "    agreement:\n"
	                           "      types_excluded: [indicatr, x-mine, malware]\n";
	struct cp_partners *p = NULL;
	struct cp_diag d;
	(void)state;

	cp_diag_init(&d);
	assert_int_equal(cp_partners_load_text(text, strlen(text), "p.yaml", NULL, &p, &d), CP_OK);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	assert_non_null(find_err(&d, CP_SEV_WARNING, "partners[0].agreement.types_excluded[0]", 4,
	                         "'indicatr' is not a STIX 2.1 object type"));
	assert_int_equal(cp_partners_at(p, 0)->agreement.types_excluded_count, 3);
	cp_partners_free(p);
	cp_diag_release(&d);
}

#define P1 "partners:\n  - name: a\n"

static void structure_errors(void **state)
{
	(void)state;
	expect_invalid("bogus: 1\n", "bogus", 1, "unknown key (expected one of: partners)");
	expect_invalid("partners: []\n---\npartners: []\n", "", 2, "a second YAML document");
	expect_invalid("partners: {a: 1}\n", "partners", 1, "expected a list, got a mapping");
	expect_invalid("partners:\n  - title: x\n", "partners[0]", 2,
	               "missing required key 'name'");
	expect_invalid("partners:\n  - 7\n", "partners[0]", 2, "expected a mapping, got a scalar");
	expect_invalid(P1 "    name: b\n", "partners[0].name", 3, "duplicate key");
	expect_invalid(P1 "    colour: red\n", "partners[0].colour", 3, "unknown key");
	expect_invalid("partners:\n  - name: [a]\n", "partners[0].name", 2,
	               "expected a string, got a list");
	expect_invalid(P1 "    agreement: 5\n", "partners[0].agreement", 3,
	               "expected a mapping, got a scalar");
	expect_invalid(P1 "    agreement:\n      sightings: yes\n",
	               "partners[0].agreement.sightings", 4, "expected true or false, got 'yes'");
	expect_invalid(P1 "    agreement:\n      anonymise: \"true\"\n",
	               "partners[0].agreement.anonymise", 4, "expected true or false");
	expect_invalid(P1 "    agreement:\n      read: indicators\n", "partners[0].agreement.read",
	               4, "expected a list, got a scalar");
	expect_invalid(P1 "    agreement:\n      read: [[x]]\n", "partners[0].agreement.read[0]", 4,
	               "expected a string, got a list");
	expect_invalid(P1 "    title: \"\"\n", "partners[0].title", 3, "must not be empty");
	expect_invalid(P1 "    title: \"a\\0b\"\n", "partners[0].title", 3,
	               "must not contain NUL characters");
	expect_invalid(P1 "    title: \"a\\tb\"\n", "partners[0].title", 3,
	               "must not contain control characters");
	expect_invalid(P1 "    tokens: [{id: 01234567}]\n", "partners[0].tokens[0]", 3,
	               "missing required key 'hash'");
	expect_invalid(P1 "    certificates: [{}]\n", "partners[0].certificates[0]", 3,
	               "needs a fingerprint or a subject");
	expect_invalid(P1 "    certificates: [{serial: 5}]\n", "partners[0].certificates[0].serial",
	               3, "unknown key");
}

static void value_errors(void **state)
{
	char long_name[100];
	(void)state;

	expect_invalid("partners:\n  - name: 'a b'\n", "partners[0].name", 2,
	               "'a b' is not a valid partner name");
	expect_invalid("partners:\n  - name: a/b\n", "partners[0].name", 2,
	               "is not a valid partner name");
	snprintf(long_name, sizeof(long_name), "partners:\n  - name: %065d\n", 0);
	expect_invalid(long_name, "partners[0].name", 2, "longer than 64 characters");
	snprintf(long_name, sizeof(long_name), "partners:\n  - name: %064d\n", 0);
	cp_partners_free(load_ok(long_name, NULL));
	expect_invalid(P1 "    identity: indicator--0b3c2f1e-7d6a-4c5b-9e8f-1a2b3c4d5e6f\n",
	               "partners[0].identity", 3, "is not a STIX identity id");
	expect_invalid(P1 "    identity: identity--nope\n", "partners[0].identity", 3,
	               "is not a STIX identity id");
	expect_invalid(P1 "    certificates:\n      - fingerprint: sha1:abcd\n",
	               "partners[0].certificates[0].fingerprint", 4,
	               "is not \"sha256:\" followed by 64 hex digits");
	expect_invalid(P1 "    certificates:\n      - fingerprint: \"" FP_B "0\"\n",
	               "partners[0].certificates[0].fingerprint", 4, "64 hex digits");
	expect_invalid(P1 "    tokens:\n      - {id: 0123abcg, hash: " HASH_ZERO
	                  ", created: 2026-01-01T00:00:00Z}\n",
	               "partners[0].tokens[0].id", 4, "'0123abcg' is not 8 hex digits");
	expect_invalid(P1 "    tokens:\n      - {id: 0123abc, hash: " HASH_ZERO
	                  ", created: 2026-01-01T00:00:00Z}\n",
	               "partners[0].tokens[0].id", 4, "is not 8 hex digits");
	expect_invalid(P1 "    tokens:\n      - {id: 0123abcd, hash: abcd, "
	                  "created: 2026-01-01T00:00:00Z}\n",
	               "partners[0].tokens[0].hash", 4, "not 64 hex digits");
	expect_invalid(P1 "    tokens:\n      - {id: 0123abcd, hash: " HASH_ZERO
	                  ", created: 2026-01-01}\n",
	               "partners[0].tokens[0].created", 4, "'2026-01-01' is not an RFC 3339");
	expect_invalid(P1 "    tokens:\n      - id: 0123abcd\n        hash: " HASH_ZERO "\n"
	                  "        created: 2026-01-01T00:00:00Z\n"
	                  "        expires: 2026-01-01T00:00:00Z\n",
	               "partners[0].tokens[0]", 4, "expires must be after created");
	expect_invalid(P1 "    agreement:\n      tlp_ceiling: purple\n",
	               "partners[0].agreement.tlp_ceiling", 4, "'purple' is not a TLP level");
	expect_invalid(P1 "    agreement:\n      default_tlp: white\n",
	               "partners[0].agreement.default_tlp", 4, "is not a TLP level");
	expect_invalid(P1 "    agreement:\n      pap_ceiling: amber+strict\n",
	               "partners[0].agreement.pap_ceiling", 4, "is not a PAP level");
	expect_invalid(P1 "    agreement:\n      red: [x, \"*\"]\n", "partners[0].agreement.red[1]",
	               4, "\"*\" is not allowed: TLP:RED recipients are named per collection");
	expect_invalid(P1 "    agreement:\n      types_allowed: [Indicator]\n",
	               "partners[0].agreement.types_allowed[0]", 4, "is not a STIX type name");
	expect_invalid(P1 "    agreement:\n      types_excluded: [ab]\n",
	               "partners[0].agreement.types_excluded[0]", 4, "3 to 250 characters");
}

static void duplicates(void **state)
{
	(void)state;
	expect_invalid("partners:\n  - name: a\n  - name: b\n  - name: a\n", "partners[2].name", 4,
	               "duplicate partner name 'a' (first at line 2)");
	expect_invalid("partners:\n"
	               "  - name: a\n"
	               "    certificates: [{fingerprint: \"" FP_A_LOWER "\"}]\n"
	               "  - name: b\n"
	               "    certificates:\n"
	               "      - fingerprint: \"" FP_A "\"\n",
	               "partners[1].certificates[0].fingerprint", 6,
	               "is already used by partner 'a' (partners[0].certificates[0].fingerprint, "
	               "line 3)");
	expect_invalid("partners:\n"
	               "  - name: a\n"
	               "    certificates:\n"
	               "      - subject: CN=x\n"
	               "      - subject: CN=x\n",
	               "partners[0].certificates[1].subject", 5,
	               "'CN=x' is already used by partner 'a'");
	expect_invalid(
	        "partners:\n"
	        "  - name: a\n"
	        "    tokens: [{id: 0123abcd, hash: " HASH_ZERO ", created: 2026-01-01T00:00:00Z}]\n"
	        "  - name: b\n"
	        "    tokens: [{id: 0123ABCD, hash: " HASH_SEQ ", created: 2026-01-01T00:00:00Z}]\n",
	        "partners[1].tokens[0].id", 5,
	        "token id '0123abcd' is already used by partner 'a'");
}

/* The same subject with different fingerprints, or pinned and unpinned, is fine. */
static void subjects_with_fingerprints(void **state)
{
	struct cp_partners *p = load_ok("partners:\n"
	                                "  - name: a\n"
	                                "    certificates:\n"
	                                "      - {fingerprint: \"" FP_B "\", subject: CN=x}\n"
	                                "      - {fingerprint: \"" FP_C "\", subject: CN=x}\n"
	                                "  - name: b\n"
	                                "    certificates: [{subject: CN=x}]\n",
	                                NULL);
	(void)state;
	assert_int_equal(cp_partners_count(p), 2);
	cp_partners_free(p);
}

static void hostile_yaml(void **state)
{
	struct cp_buf b = CP_BUF_INIT(0);
	char *big;
	(void)state;

	expect_invalid("partners:\n  - &x {name: a}\n  - *x\n", "partners[0]", 2,
	               "anchors are not allowed (&x)");
	expect_invalid("partners:\n  - &x {name: a}\n  - *x\n", "partners[1]", 3,
	               "aliases are not allowed (*x)");
	expect_invalid("partners:\n  - name: !!str a\n", "partners[0].name", 2,
	               "tags are not allowed");
	expect_invalid("partners: []\n---\npartners: []\n", "", 2, "a second YAML document");
	expect_error("partners: [\n", NULL, CP_EPARSE, "", 2, "invalid YAML");
	expect_error("partners:\n  - name: a\n bad: [\n", NULL, CP_EPARSE, "", 0, "invalid YAML");
	expect_error("partners:\n  - name: \"\xff\"\n", NULL, CP_EPARSE, "", 2, "invalid YAML");

	cp_buf_puts(&b, "partners: ");
	for (int i = 0; i < 100; i++)
		cp_buf_putc(&b, '[');
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	expect_invalid(b.ptr, "", 1, "nesting deeper than 64 levels");
	cp_buf_release(&b);

	big = malloc(CP_PARTNERS_MAX_BYTES + 2);
	assert_non_null(big);
	memset(big, '\n', CP_PARTNERS_MAX_BYTES + 1);
	big[CP_PARTNERS_MAX_BYTES + 1] = '\0';
	expect_error(big, NULL, CP_ETOOBIG, "", 0, "is larger than");
	big[CP_PARTNERS_MAX_BYTES] = '\0'; /* exactly at the limit: fine */
	cp_partners_free(load_ok(big, NULL));
	free(big);
}

/* Stops after 100 errors, with a final finding that says so. */
static void too_many_errors(void **state)
{
	struct cp_buf b = CP_BUF_INIT(0);
	struct cp_partners *p = NULL;
	struct cp_diag d;
	(void)state;

	cp_buf_puts(&b, "partners:\n");
	for (int i = 0; i < 150; i++)
		cp_buf_printf(&b, "  - name: 'bad name %d'\n", i);
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	cp_diag_init(&d);
	assert_int_equal(cp_partners_load_text(b.ptr, b.len, "many.yaml", NULL, &p, &d), CP_EINVAL);
	assert_int_equal(d.errors, 101);
	assert_non_null(find_err(&d, CP_SEV_ERROR, "", 0, "too many errors in many.yaml"));
	cp_diag_release(&d);
	cp_buf_release(&b);
}

/* ------------------------------------------------------------ collections */

static void collection_resolution(void **state)
{
	static const char text[] = "partners:\n"
	                           "  - name: a\n"
	                           "    agreement:\n"
	                           "      read: [indicators, " ID3 ", \"*\", iocs]\n"
	                           "      write: [sightings]\n"
	                           "      red: [red-room]\n";
	struct cp_config cfg;
	struct cp_partners *p;
	const struct cp_partner *a;
	const char *id = NULL;
	(void)state;

	load_cfg(&cfg);
	p = load_ok(text, &cfg);
	a = cp_partners_find(p, "a");
	assert_int_equal(a->agreement.read.count, 4);
	assert_string_equal(a->agreement.read.names[0], "indicators"); /* kept as written */
	assert_string_equal(a->agreement.read.ids[0], ID1);
	assert_string_equal(a->agreement.read.ids[1], ID3);
	assert_string_equal(a->agreement.read.ids[2], "*");
	/* "iocs" in api2 names ID1 too: the same collection, not ambiguous */
	assert_string_equal(a->agreement.read.ids[3], ID1);
	assert_string_equal(a->agreement.write.ids[0], ID2);
	assert_string_equal(a->agreement.red.ids[0], ID5);
	assert_true(cp_partner_may_read(a, ID4)); /* "*" */
	assert_true(cp_partner_may_write(a, ID2));
	assert_false(cp_partner_may_write(a, ID1));
	assert_false(cp_partner_may_write(a, "sightings")); /* ids, not aliases */
	assert_false(cp_partner_may_read(NULL, ID1));
	assert_false(cp_partner_may_read(a, NULL));
	cp_partners_free(p);

	expect_error(P1 "    agreement:\n      read: [indicators, nope]\n", &cfg, CP_EINVAL,
	             "partners[0].agreement.read[1]", 4,
	             "'nope' is neither \"*\" nor the id or alias of a configured collection");
	expect_error(P1 "    agreement:\n      write:\n        - shared\n", &cfg, CP_EINVAL,
	             "partners[0].agreement.write[0]", 5,
	             "'shared' is ambiguous: it names collection " ID3 " in API root 'api1' and "
	             "collection " ID4 " in API root 'api2'");
	expect_error(P1 "    agreement:\n      red: [" ID2 "0]\n", &cfg, CP_EINVAL,
	             "partners[0].agreement.red[0]", 4, "is neither");
	/* without a configuration the same file loads */
	cp_partners_free(load_ok(P1 "    agreement:\n      read: [nope, shared]\n", NULL));

	assert_int_equal(cp_partners_resolve_collection(&cfg, "red-room", &id), CP_OK);
	assert_string_equal(id, ID5);
	assert_int_equal(cp_partners_resolve_collection(&cfg, ID4, &id), CP_OK);
	assert_string_equal(id, ID4);
	assert_int_equal(cp_partners_resolve_collection(&cfg, "shared", &id), CP_ECONFLICT);
	assert_int_equal(cp_partners_resolve_collection(&cfg, "Indicators", &id), CP_ENOTFOUND);
	assert_int_equal(cp_partners_resolve_collection(&cfg, "*", &id), CP_EINVAL);
	assert_int_equal(cp_partners_resolve_collection(NULL, "x", &id), CP_EINVAL);
	cp_config_release(&cfg);
}

/* ------------------------------------------------------------ round trip */

static void assert_colls_equal(const struct cp_partner_colls *a, const struct cp_partner_colls *b)
{
	assert_int_equal(a->count, b->count);
	for (size_t i = 0; i < a->count; i++) {
		assert_string_equal(a->names[i], b->names[i]);
		assert_string_equal(a->ids[i], b->ids[i]);
	}
}

static void assert_opt_equal(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_sets_equal(const struct cp_partners *x, const struct cp_partners *y)
{
	assert_int_equal(cp_partners_count(x), cp_partners_count(y));
	for (size_t i = 0; i < cp_partners_count(x); i++) {
		const struct cp_partner *a = cp_partners_at(x, i), *b = cp_partners_at(y, i);
		const struct cp_partner_agreement *aa = &a->agreement, *ba = &b->agreement;

		assert_string_equal(a->name, b->name);
		assert_opt_equal(a->identity, b->identity);
		assert_opt_equal(a->title, b->title);
		assert_opt_equal(a->community, b->community);
		assert_int_equal(a->cert_count, b->cert_count);
		for (size_t j = 0; j < a->cert_count; j++) {
			assert_opt_equal(a->certs[j].fingerprint, b->certs[j].fingerprint);
			assert_opt_equal(a->certs[j].subject, b->certs[j].subject);
		}
		assert_int_equal(a->token_count, b->token_count);
		for (size_t j = 0; j < a->token_count; j++) {
			const struct cp_partner_token *s = &a->tokens[j], *t = &b->tokens[j];
			assert_string_equal(s->id, t->id);
			assert_memory_equal(s->hash, t->hash, sizeof(s->hash));
			assert_int_equal(cp_time_cmp(&s->created, &t->created), 0);
			assert_int_equal(s->created.frac_digits, t->created.frac_digits);
			assert_int_equal(s->has_expires, t->has_expires);
			if (s->has_expires)
				assert_int_equal(cp_time_cmp(&s->expires, &t->expires), 0);
			assert_int_equal(s->is_revoked, t->is_revoked);
			if (s->is_revoked)
				assert_int_equal(cp_time_cmp(&s->revoked, &t->revoked), 0);
		}
		assert_colls_equal(&aa->read, &ba->read);
		assert_colls_equal(&aa->write, &ba->write);
		assert_colls_equal(&aa->red, &ba->red);
		assert_int_equal(aa->types_allowed_count, ba->types_allowed_count);
		for (size_t j = 0; j < aa->types_allowed_count; j++)
			assert_string_equal(aa->types_allowed[j], ba->types_allowed[j]);
		assert_int_equal(aa->types_excluded_count, ba->types_excluded_count);
		for (size_t j = 0; j < aa->types_excluded_count; j++)
			assert_string_equal(aa->types_excluded[j], ba->types_excluded[j]);
		assert_int_equal(aa->tlp_ceiling, ba->tlp_ceiling);
		assert_int_equal(aa->default_tlp, ba->default_tlp);
		assert_int_equal(aa->pap_ceiling, ba->pap_ceiling);
		assert_int_equal(aa->third_party, ba->third_party);
		assert_int_equal(aa->sightings, ba->sightings);
		assert_int_equal(aa->consultations, ba->consultations);
		assert_int_equal(aa->no_redistribution, ba->no_redistribution);
		assert_int_equal(aa->anonymise, ba->anonymise);
	}
}

/* Strings that YAML could misread: the writer must quote them so that they come back. */
static const char tricky_text[] =
        "partners:\n"
        "  - name: '1.5'\n"
        "    title: \"null\"\n"
        "    community: \"~\"\n"
        "    certificates:\n"
        "      - subject: \"CN=a: b, O=#x, OU=[y]\"\n"
        "      - subject: \"*star\"\n"
        "      - subject: \"'quoted' and \\\"double\\\"\"\n"
        "      - subject: \" padded \"\n"
        "      - subject: \"true\"\n"
        "      - subject: \"CN=Tōkyō,O=防衛省\"\n"
        "  - name: \"-\"\n"
        "    title: \"- a list? no\"\n"
        "    agreement: {read: [\"*\", \"&x\", \"!y\", \"%z\", \"@w\", \"`v\"], "
        "red: [\"NULL\", \"\\u00e9\"]}\n";

static void round_trip(void **state)
{
	struct cp_config cfg;
	const char *texts[] = {full_text, tricky_text, "partners: []\n"};
	(void)state;

	load_cfg(&cfg);
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		struct cp_partners *a = load_ok(texts[i], NULL), *b;
		char *t1 = NULL, *t2 = NULL;
		size_t n1 = 0, n2 = 0;

		assert_int_equal(cp_partners_format(a, &t1, &n1), CP_OK);
		assert_int_equal(strlen(t1), n1);
		b = load_ok(t1, NULL);
		assert_sets_equal(a, b);
		assert_int_equal(cp_partners_format(b, &t2, &n2), CP_OK);
		assert_string_equal(t1, t2); /* a fixed point */
		assert_non_null(strstr(t1, "# cyberpact partners"));
		cp_partners_free(a);
		cp_partners_free(b);
		cp_free(t1);
		cp_free(t2);
	}

	/* with a configuration, names are written as they were given, not as ids */
	{
		struct cp_partners *a = load_ok(full_text, &cfg), *b;
		char *t = NULL;
		size_t n = 0;

		assert_int_equal(cp_partners_format(a, &t, &n), CP_OK);
		assert_non_null(strstr(t, "red-room"));
		assert_null(strstr(t, ID5));
		b = load_ok(t, &cfg);
		assert_sets_equal(a, b);
		assert_string_equal(cp_partners_at(b, 0)->agreement.red.ids[0], ID5);
		/* hashes are written, secrets never exist in the file */
		assert_non_null(strstr(t, HASH_ZERO));
		cp_partners_free(a);
		cp_partners_free(b);
		cp_free(t);
	}
	cp_config_release(&cfg);
}

static char *temp_dir(void)
{
	char tmpl[] = "/tmp/cp_partners_XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static void save_and_load_file(void **state)
{
	char *dir = temp_dir(), path[512], tmp[520];
	struct cp_partners *a = load_ok(full_text, NULL), *b = NULL, *e = NULL;
	struct cp_diag d;
	struct stat st;
	FILE *f;
	(void)state;

	snprintf(path, sizeof(path), "%s/partners.yaml", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cp_diag_init(&d);

	/* a missing file is an empty set */
	assert_int_equal(cp_partners_load(path, NULL, &e, &d), CP_OK);
	assert_int_equal(cp_partners_count(e), 0);

	assert_int_equal(cp_partners_save(a, path), CP_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(tmp, &st), -1); /* renamed away */
	assert_int_equal(cp_partners_load(path, NULL, &b, &d), CP_OK);
	assert_sets_equal(a, b);
	cp_partners_free(b);

	/* a stale temporary file with a loose mode does not leak into the result */
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("junk", f);
	fclose(f);
	assert_int_equal(chmod(tmp, 0644), 0);
	assert_int_equal(cp_partners_save(e, path), CP_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(cp_partners_load(path, NULL, &b, &d), CP_OK);
	assert_int_equal(cp_partners_count(b), 0);
	cp_partners_free(b);
	assert_clean(&d);

	/* unwritable places fail with CP_EIO and leave nothing behind */
	snprintf(tmp, sizeof(tmp), "%s/no/such/dir/partners.yaml", dir);
	assert_int_equal(cp_partners_save(a, tmp), CP_EIO);
	assert_int_equal(errno, ENOENT);
	/* a directory is not a partners file */
	assert_int_equal(cp_partners_load(dir, NULL, &b, &d), CP_EIO);
	assert_err(&d, "", 0, "cannot read");

	unlink(path);
	rmdir(dir);
	free(dir);
	cp_partners_free(a);
	cp_partners_free(e);
	cp_diag_release(&d);
}

/* ------------------------------------------------------------ tokens */

static void check(const struct cp_partners *p, const char *text, const char *when, enum cp_err want,
                  const char *reason, const char *owner)
{
	struct cp_partners_token_check r;
	enum cp_err err = cp_partners_check_token(p, text, at(when), &r);

	if (err != want || strcmp(r.reason, reason) != 0)
		fail_msg("token '%.60s' at %s: got %s/%s, want %s/%s", text ? text : "(null)", when,
		         cp_err_name(err), r.reason, cp_err_name(want), reason);
	if (owner)
		assert_string_equal(r.owner->name, owner);
	else
		assert_null(r.owner);
	if (err == CP_OK)
		assert_ptr_equal(r.partner, r.owner);
	else
		assert_null(r.partner);
}

static void token_checks(void **state)
{
	struct cp_partners *p = load_ok(full_text, NULL);
	char *huge;
	struct cp_partners_token_check r;
	(void)state;

	/* the fixtures: secrets computed outside the code under test */
	check(p, TOKEN_ZERO, "2026-12-01T00:00:00Z", CP_OK, "ok", "jp-mod");
	check(p, TOKEN_ZERO, "2027-02-24T09:59:59.999Z", CP_OK, "ok", "jp-mod");
	check(p, TOKEN_ZERO, "2027-02-24T10:00:00Z", CP_EDENIED, "expired-token", "jp-mod");
	check(p, TOKEN_SEQ, "2026-11-27T00:00:00Z", CP_EDENIED, "revoked-token", "jp-mod");
	/* a revocation time in the future does not postpone it */
	check(p, TOKEN_SEQ, "2020-01-01T00:00:00Z", CP_EDENIED, "revoked-token", "jp-mod");
	/* the wrong secret for a known id: bad-secret, whatever the token's state */
	check(p, "cpt_0123abcd_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "2026-12-01T00:00:00Z",
	      CP_EDENIED, "bad-secret", "jp-mod");
	check(p, "cpt_0123abce_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "2026-12-01T00:00:00Z",
	      CP_EDENIED, "bad-secret", "jp-mod");
	check(p, "cpt_0123abcf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "2026-12-01T00:00:00Z",
	      CP_EDENIED, "unknown-token", NULL);

	static const char *const malformed[] = {
	        "",
	        "cpt_",
	        "cpt_zz_",
	        "cpt_0123abcd_",
	        "cpt_0123abcd",
	        "Bearer " TOKEN_ZERO,
	        "CPT_0123abcd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	        "cpt_0123ABCD_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* ids are lowercase */
	        "cpt_0123abcdXAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	        "cpt_0123abcd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* 42 */
	        "cpt_0123abcd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 44 */
	        "cpt_0123abcd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  /* padding */
	        "cpt_0123abcd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",  /* not URL-safe */
	        "cpt_0123abcd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA A",
	        /* the same bytes as TOKEN_SEQ with a non-zero padding bit: one spelling only */
	        "cpt_0123abce_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9",
	        TOKEN_ZERO "\n",
	};
	for (size_t i = 0; i < ARRAY_LEN(malformed); i++)
		check(p, malformed[i], "2026-12-01T00:00:00Z", CP_EDENIED, "malformed-token", NULL);
	check(p, NULL, "2026-12-01T00:00:00Z", CP_EDENIED, "malformed-token", NULL);

	huge = malloc(1 << 20);
	assert_non_null(huge);
	memset(huge, 'A', (1 << 20) - 1);
	huge[(1 << 20) - 1] = '\0';
	memcpy(huge, TOKEN_ZERO, strlen(TOKEN_ZERO));
	check(p, huge, "2026-12-01T00:00:00Z", CP_EDENIED, "malformed-token", NULL);
	free(huge);

	assert_int_equal(cp_partners_check_token(NULL, TOKEN_ZERO, at("2026-12-01T00:00:00Z"), &r),
	                 CP_EINVAL);
	cp_partners_free(p);
}

static void token_issue(void **state)
{
	struct cp_partners *p = load_ok(full_text, NULL), *q;
	char text[CP_PARTNER_TOKEN_TEXT_MAX], text2[CP_PARTNER_TOKEN_TEXT_MAX], id[9], id2[9];
	struct cp_time created = at("2026-11-26T10:00:00.123456Z");
	struct cp_time expires = at("2026-12-26T10:00:00Z");
	const struct cp_partner *au;
	char *yaml = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(cp_partners_issue_token(p, "au.asd", created, &expires, text, id), CP_OK);
	assert_int_equal(strlen(text), CP_PARTNER_TOKEN_TEXT_LEN);
	assert_int_equal(strncmp(text, "cpt_", 4), 0);
	assert_int_equal(strncmp(text + 4, id, 8), 0);
	assert_int_equal(text[12], '_');
	for (size_t i = 13; i < CP_PARTNER_TOKEN_TEXT_LEN; i++)
		assert_non_null(
		        strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		               text[i]));
	au = cp_partners_find(p, "au.asd");
	assert_int_equal(au->token_count, 1);
	assert_string_equal(au->tokens[0].id, id);
	assert_int_equal(au->tokens[0].created.nsec, 0); /* whole seconds */
	check(p, text, "2026-11-26T10:00:01Z", CP_OK, "ok", "au.asd");
	check(p, text, "2026-12-26T10:00:00Z", CP_EDENIED, "expired-token", "au.asd");

	/* a second token, no expiry; both stay valid and differ */
	assert_int_equal(cp_partners_issue_token(p, "au.asd", created, NULL, text2, id2), CP_OK);
	assert_string_not_equal(text, text2);
	assert_string_not_equal(id, id2);
	check(p, text2, "2099-01-01T00:00:00Z", CP_OK, "ok", "au.asd");

	/* only the hash is written; the token still verifies after a reload */
	assert_int_equal(cp_partners_format(p, &yaml, &len), CP_OK);
	assert_null(strstr(yaml, text2 + 13));
	q = load_ok(yaml, NULL);
	check(q, text2, "2030-01-01T00:00:00Z", CP_OK, "ok", "au.asd");
	cp_partners_free(q);
	cp_free(yaml);

	/* revoke the first */
	assert_int_equal(cp_partners_revoke_token(p, "au.asd", id, at("2026-11-27T00:00:00.9Z")),
	                 CP_OK);
	check(p, text, "2026-11-27T00:00:00Z", CP_EDENIED, "revoked-token", "au.asd");
	check(p, text2, "2026-11-27T00:00:00Z", CP_OK, "ok", "au.asd");
	assert_int_equal(au->tokens[0].revoked.nsec, 0);
	assert_int_equal(cp_partners_revoke_token(p, "au.asd", id, at("2026-11-28T00:00:00Z")),
	                 CP_ECONFLICT);
	assert_int_equal(au->tokens[0].revoked.sec, at("2026-11-27T00:00:00Z").sec);
	assert_int_equal(cp_partners_revoke_token(p, "jp-mod", id, at("2026-11-28T00:00:00Z")),
	                 CP_ENOTFOUND); /* another partner's token */
	assert_int_equal(cp_partners_revoke_token(p, "nobody", id, at("2026-11-28T00:00:00Z")),
	                 CP_ENOTFOUND);

	assert_int_equal(cp_partners_issue_token(p, "nobody", created, NULL, text, id),
	                 CP_ENOTFOUND);
	assert_int_equal(cp_partners_issue_token(p, "au.asd", created, &created, text, id),
	                 CP_EINVAL); /* expires == created */
	assert_int_equal(au->token_count, 2);
	cp_partners_free(p);
}

/* ------------------------------------------------------------ certificates */

static void cert_lookup(void **state)
{
	struct cp_partners *p = load_ok(full_text, NULL);
	const struct cp_partner *jp = cp_partners_find(p, "jp-mod");
	(void)state;

	assert_ptr_equal(cp_partners_find_cert(p, FP_A_LOWER, NULL), jp);
	assert_ptr_equal(cp_partners_find_cert(p, FP_A, "CN=whatever"), jp);
	assert_ptr_equal(cp_partners_find_cert(p, NULL, "CN=jp-node,O=JMOD"), jp);
	assert_ptr_equal(cp_partners_find_cert(p, FP_C, "CN=jp-node,O=JMOD"), jp);
	assert_null(cp_partners_find_cert(p, NULL, "cn=jp-node,o=jmod")); /* exact */
	assert_null(cp_partners_find_cert(p, FP_C, NULL));
	/* FP_B is pinned together with a subject: both must match */
	assert_ptr_equal(cp_partners_find_cert(p, FP_B, "CN=jp-backup,O=JMOD"), jp);
	assert_null(cp_partners_find_cert(p, FP_B, "CN=other"));
	assert_null(cp_partners_find_cert(p, FP_B, NULL));
	/* a pinned key never falls back to a subject-only entry */
	assert_null(cp_partners_find_cert(p, FP_B, "CN=jp-node,O=JMOD"));
	assert_null(cp_partners_find_cert(p, NULL, NULL));
	assert_null(cp_partners_find_cert(NULL, FP_A, NULL));
	cp_partners_free(p);
}

/* ------------------------------------------------------------ changes */

static void add_update_remove(void **state)
{
	struct cp_config cfg;
	struct cp_partners *p = load_ok(full_text, NULL);
	struct cp_partner draft, copy;
	struct cp_partner_cert certs[2];
	char *read[] = {(char *)"indicators", (char *)ID3};
	char *red[] = {(char *)"*"};
	char *types[] = {(char *)"Indicator"};
	char *unknown[] = {(char *)"nope"};
	const struct cp_partner *nz, *jp;
	struct cp_diag d;
	(void)state;

	load_cfg(&cfg);
	cp_diag_init(&d);
	memset(&draft, 0, sizeof(draft));
	memset(certs, 0, sizeof(certs));
	draft.name = (char *)"nz";
	draft.title = (char *)"New Zealand";
	certs[0].fingerprint = (char *)FP_C;
	certs[1].subject = (char *)"CN=nz";
	draft.certs = certs;
	draft.cert_count = 2;
	draft.agreement.read.names = read;
	draft.agreement.read.count = 2;
	draft.agreement.tlp_ceiling = CP_TLP_AMBER;
	draft.agreement.default_tlp = CP_TLP_AMBER;
	draft.agreement.sightings = true;
	assert_int_equal(cp_partners_add(p, &draft, &cfg, &d), CP_OK);
	assert_clean(&d);
	assert_int_equal(cp_partners_count(p), 4);
	nz = cp_partners_find(p, "nz");
	assert_ptr_equal(nz, cp_partners_at(p, 3));
	assert_ptr_not_equal(nz->name, draft.name); /* copied */
	assert_string_equal(nz->agreement.read.names[0], "indicators");
	assert_string_equal(nz->agreement.read.ids[0], ID1);
	assert_int_equal(nz->line, 0);
	assert_ptr_equal(cp_partners_find_cert(p, FP_C, NULL), nz);
	assert_ptr_equal(cp_partners_find_cert(p, NULL, "CN=nz"), nz);

	/* the same name again */
	assert_int_equal(cp_partners_add(p, &draft, &cfg, &d), CP_ECONFLICT);
	assert_err(&d, "", 0, "a partner named 'nz' already exists");
	cp_diag_clear(&d);

	/* another partner's fingerprint: refused, set unchanged */
	draft.name = (char *)"nz2";
	certs[0].fingerprint = (char *)FP_A;
	certs[1].subject = (char *)"CN=nz2";
	assert_int_equal(cp_partners_add(p, &draft, &cfg, &d), CP_ECONFLICT);
	assert_err(&d, "partners[4].certificates[0].fingerprint", 0,
	           "is already used by partner 'jp-mod' (partners[0].certificates[0].fingerprint, "
	           "line 8)");
	assert_int_equal(cp_partners_count(p), 4);
	assert_null(cp_partners_find(p, "nz2"));
	cp_diag_clear(&d);

	/* bad values: every one reported, by key path */
	certs[0].fingerprint = (char *)"sha256:xyz";
	draft.name = (char *)"n z";
	draft.identity = (char *)"identity--1";
	draft.agreement.red.names = red;
	draft.agreement.red.count = 1;
	draft.agreement.types_allowed = types;
	draft.agreement.types_allowed_count = 1;
	draft.agreement.tlp_ceiling = (enum cp_tlp)42;
	assert_int_equal(cp_partners_add(p, &draft, NULL, &d), CP_EINVAL);
	assert_err(&d, "name", 0, "'n z' is not a valid partner name");
	assert_err(&d, "identity", 0, "is not a STIX identity id");
	assert_err(&d, "certificates[0].fingerprint", 0, "64 hex digits");
	assert_err(&d, "agreement.red[0]", 0, "\"*\" is not allowed");
	assert_err(&d, "agreement.types_allowed[0]", 0, "is not a STIX type name");
	assert_err(&d, "agreement", 0, "tlp_ceiling is not a TLP level");
	assert_int_equal(cp_partners_count(p), 4);
	cp_diag_clear(&d);

	/* collection names are checked against the configuration */
	memset(&draft.agreement, 0, sizeof(draft.agreement));
	draft.name = (char *)"nz3";
	draft.identity = NULL;
	draft.cert_count = 0;
	draft.agreement.default_tlp = CP_TLP_AMBER;
	draft.agreement.tlp_ceiling = CP_TLP_CLEAR;
	draft.agreement.write.names = unknown;
	draft.agreement.write.count = 1;
	assert_int_equal(cp_partners_add(p, &draft, &cfg, &d), CP_EINVAL);
	assert_err(&d, "agreement.write[0]", 0, "'nope' is neither");
	cp_diag_clear(&d);
	/* and kept as written without one */
	assert_int_equal(cp_partners_add(p, &draft, NULL, &d), CP_OK);
	assert_string_equal(cp_partners_find(p, "nz3")->agreement.write.ids[0], "nope");
	assert_int_equal(cp_partners_remove(p, "nz3"), CP_OK);

	/* update from a copy of the partner itself: tokens stay, fields change */
	jp = cp_partners_find(p, "jp-mod");
	copy = *jp;
	copy.title = (char *)"MOD Japan";
	copy.agreement.tlp_ceiling = CP_TLP_AMBER;
	copy.cert_count = 1;
	assert_int_equal(cp_partners_update(p, &copy, &cfg, &d), CP_OK);
	assert_clean(&d);
	jp = cp_partners_find(p, "jp-mod");
	assert_string_equal(jp->title, "MOD Japan");
	assert_string_equal(jp->identity, IDENT);
	assert_int_equal(jp->agreement.tlp_ceiling, CP_TLP_AMBER);
	assert_string_equal(jp->agreement.red.ids[0], ID5); /* resolved now */
	assert_int_equal(jp->cert_count, 1);
	assert_int_equal(jp->token_count, 2);
	assert_int_equal(jp->line, 3);
	check(p, TOKEN_ZERO, "2026-12-01T00:00:00Z", CP_OK, "ok", "jp-mod");
	/* the dropped certificates no longer authenticate */
	assert_null(cp_partners_find_cert(p, NULL, "CN=jp-node,O=JMOD"));

	/* an update that would collide is refused and changes nothing */
	copy = *cp_partners_find(p, "nz");
	certs[0].fingerprint = (char *)FP_A;
	copy.certs = certs;
	copy.cert_count = 1;
	copy.title = (char *)"changed";
	assert_int_equal(cp_partners_update(p, &copy, NULL, &d), CP_ECONFLICT);
	assert_string_equal(cp_partners_find(p, "nz")->title, "New Zealand");
	assert_ptr_equal(cp_partners_find_cert(p, FP_A, NULL), jp);
	cp_diag_clear(&d);

	copy.name = (char *)"ghost";
	assert_int_equal(cp_partners_update(p, &copy, NULL, &d), CP_ENOTFOUND);

	assert_int_equal(cp_partners_remove(p, "jp-mod"), CP_OK);
	assert_null(cp_partners_find(p, "jp-mod"));
	assert_null(cp_partners_find_cert(p, FP_A, NULL));
	check(p, TOKEN_ZERO, "2026-12-01T00:00:00Z", CP_EDENIED, "unknown-token", NULL);
	assert_int_equal(cp_partners_remove(p, "jp-mod"), CP_ENOTFOUND);
	assert_int_equal(cp_partners_count(p), 3);
	assert_string_equal(cp_partners_at(p, 0)->name, "au.asd");

	cp_diag_release(&d);
	cp_partners_free(p);
	cp_config_release(&cfg);
}

/* An empty set from scratch, filled through the API, saved and loaded back. */
static void build_from_scratch(void **state)
{
	struct cp_partners *p = NULL, *q;
	struct cp_partner draft;
	char text[CP_PARTNER_TOKEN_TEXT_MAX], id[9], *yaml = NULL;
	size_t len;
	(void)state;

	assert_int_equal(cp_partners_new(&p), CP_OK);
	memset(&draft, 0, sizeof(draft));
	draft.name = (char *)"solo";
	draft.agreement.tlp_ceiling = CP_TLP_GREEN;
	draft.agreement.default_tlp = CP_TLP_RED;
	draft.agreement.pap_ceiling = CP_PAP_CLEAR;
	assert_int_equal(cp_partners_add(p, &draft, NULL, NULL), CP_OK);
	assert_int_equal(
	        cp_partners_issue_token(p, "solo", at("2026-01-01T00:00:00Z"), NULL, text, id),
	        CP_OK);
	assert_int_equal(cp_partners_format(p, &yaml, &len), CP_OK);
	q = load_ok(yaml, NULL);
	assert_sets_equal(p, q);
	check(q, text, "2026-06-01T00:00:00Z", CP_OK, "ok", "solo");
	cp_partners_free(q);
	cp_partners_free(p);
	cp_free(yaml);
}

/* ------------------------------------------------------------ policy */

static json_t *object(const char *type, const char *marking)
{
	json_t *o = json_pack("{s:s, s:s}", "type", type, "id",
	                      "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");

	assert_non_null(o);
	if (marking)
		json_object_set_new(o, "object_marking_refs", json_pack("[s]", marking));
	return o;
}

static enum cp_policy_reason_code decide(const struct cp_policy *pol, const char *partner,
                                         const char *type, const char *marking,
                                         const char *collection)
{
	json_t *o = object(type, marking);
	struct cp_policy_object po = {.obj = o, .collection_id = collection};
	struct cp_policy_reason why;
	enum cp_policy_decision dec = cp_policy_decide(pol, partner, &po, &why);

	json_decref(o);
	assert_int_equal(dec == CP_POLICY_RELEASE, why.code == CP_POLICY_OK);
	return why.code;
}

static void policy_from_agreements(void **state)
{
	static const char text[] = "partners:\n"
	                           "  - name: strict\n"
	                           "    agreement: {read: [\"*\"], tlp_ceiling: amber+strict}\n"
	                           "  - name: amber\n"
	                           "    agreement:\n"
	                           "      read: [indicators]\n"
	                           "      tlp_ceiling: amber\n"
	                           "      red: [red-room]\n"
	                           "  - name: reds\n"
	                           "    agreement:\n"
	                           "      read: [indicators, red-room]\n"
	                           "      tlp_ceiling: red\n"
	                           "      red: [red-room]\n"
	                           "      types_excluded: [identity]\n";
	struct cp_config cfg;
	struct cp_partners *p;
	struct cp_policy *pol = NULL;
	struct cp_diag d;
	(void)state;

	load_cfg(&cfg);
	p = load_ok(text, &cfg);
	cp_diag_init(&d);
	assert_int_equal(cp_partners_policy(p, &pol, &d), CP_OK);
	/* 'amber' names a RED collection but has an AMBER ceiling, and cannot read it */
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 2);
	assert_finding(&d, CP_SEV_WARNING, "red-without-red-ceiling", NULL);
	assert_finding(&d, CP_SEV_WARNING, "red-not-readable", NULL);
	assert_int_equal(d.items[0].line, 4);
	assert_int_equal(strncmp(d.items[0].message, "partners[1] (amber): ", 21), 0);

	assert_int_equal(decide(pol, "strict", "indicator", T2_AMBER_STRICT, ID1), CP_POLICY_OK);
	assert_int_equal(decide(pol, "strict", "indicator", T2_AMBER, ID4), CP_POLICY_OK);
	assert_int_equal(decide(pol, "amber", "indicator", T2_AMBER_STRICT, ID1),
	                 CP_POLICY_TLP_STRICT);
	assert_int_equal(decide(pol, "amber", "indicator", T2_GREEN, ID1), CP_POLICY_OK);
	/* resolved ids: the alias is not a collection id */
	assert_int_equal(decide(pol, "amber", "indicator", T2_GREEN, "indicators"),
	                 CP_POLICY_COLLECTION);
	assert_int_equal(decide(pol, "amber", "indicator", T2_GREEN, ID2), CP_POLICY_COLLECTION);
	assert_int_equal(decide(pol, "reds", "indicator", T2_RED, ID5), CP_POLICY_OK);
	assert_int_equal(decide(pol, "reds", "indicator", T2_RED, ID1), CP_POLICY_TLP_RED);
	assert_int_equal(decide(pol, "reds", "identity", T2_GREEN, ID1), CP_POLICY_TYPE);
	assert_int_equal(decide(pol, "nobody", "indicator", T2_GREEN, ID1), CP_POLICY_NO_AGREEMENT);
	cp_policy_free(pol);
	cp_diag_release(&d);
	cp_partners_free(p);

	/* an empty set: a policy that withholds everything */
	assert_int_equal(cp_partners_new(&p), CP_OK);
	assert_int_equal(cp_partners_policy(p, &pol, NULL), CP_OK);
	assert_int_equal(decide(pol, "strict", "indicator", T2_GREEN, ID1), CP_POLICY_NO_AGREEMENT);
	cp_policy_free(pol);
	cp_partners_free(p);
	cp_config_release(&cfg);
}

/* ------------------------------------------------------------ names */

static void level_names(void **state)
{
	enum cp_tlp t;
	enum cp_pap a;
	(void)state;

	assert_true(cp_partners_parse_tlp("amber+strict", &t));
	assert_int_equal(t, CP_TLP_AMBER_STRICT);
	assert_true(cp_partners_parse_tlp("TLP:AMBER+STRICT", &t));
	assert_int_equal(t, CP_TLP_AMBER_STRICT);
	assert_true(cp_partners_parse_tlp("Clear", &t));
	assert_int_equal(t, CP_TLP_CLEAR);
	assert_false(cp_partners_parse_tlp("white", &t));
	assert_false(cp_partners_parse_tlp("tlp:", &t));
	assert_false(cp_partners_parse_tlp("", &t));
	assert_false(cp_partners_parse_tlp(NULL, &t));
	assert_true(cp_partners_parse_pap("pap:red", &a));
	assert_int_equal(a, CP_PAP_RED);
	assert_false(cp_partners_parse_pap("amber+strict", &a));
	assert_string_equal(cp_partners_tlp_name(CP_TLP_AMBER_STRICT), "amber+strict");
	assert_null(cp_partners_tlp_name(CP_TLP_NONE));
	assert_null(cp_partners_tlp_name((enum cp_tlp)99));
	assert_string_equal(cp_partners_pap_name(CP_PAP_GREEN), "green");
	assert_null(cp_partners_pap_name(CP_PAP_NONE));
}

/* ------------------------------------------------------------ allocation failure */

/* Fail the n-th allocation and every later one, for n = 1, 2, ... until it loads. */
static void torture_load(const char *text, const struct cp_config *cfg, enum cp_err final)
{
	struct cp_partners *p;
	struct cp_diag d;
	enum cp_err err;
	unsigned long n;

	for (n = 1;; n++) {
		p = NULL;
		cp_diag_init(&d);
		cp_alloc_fail_after(n, true);
		err = cp_partners_load_text(text, strlen(text), "t.yaml", cfg, &p, &d);
		cp_alloc_fail_after(0, false);
		if (err == final && d.err == CP_OK)
			break;
		if (err != CP_ENOMEM)
			fail_msg("allocation %lu failed: got %s, want CP_ENOMEM", n,
			         cp_err_name(err));
		assert_null(p);
		cp_diag_release(&d);
		assert_true(n < 100000);
	}
	if (final == CP_OK) {
		assert_int_equal(d.errors, 0);
		assert_non_null(p);
		cp_partners_free(p);
	} else {
		assert_true(d.count >= 1);
	}
	cp_diag_release(&d);
	assert_true(n > 1);
}

static void alloc_failure(void **state)
{
	struct cp_config cfg;
	(void)state;

	load_cfg(&cfg);
	torture_load(full_text, NULL, CP_OK);
	torture_load(full_text, &cfg, CP_OK);
	torture_load(tricky_text, NULL, CP_OK);
	torture_load("partners:\n  - name: a\n  - name: a\n  - {name: 'b c', bogus: 1}\n"
	             "  - name: d\n    agreement: {read: [nope], red: ['*']}\n",
	             &cfg, CP_EINVAL);
	torture_load("partners: [\n", NULL, CP_EPARSE);
	cp_config_release(&cfg);
}

/* The file variant: its buffer, then everything after it. */
static void alloc_failure_file(void **state)
{
	char *dir = temp_dir(), path[512];
	struct cp_partners *a = load_ok(full_text, NULL), *b;
	enum cp_err err;
	unsigned long n;
	(void)state;

	snprintf(path, sizeof(path), "%s/partners.yaml", dir);
	assert_int_equal(cp_partners_save(a, path), CP_OK);
	for (n = 1;; n++) {
		b = NULL;
		cp_alloc_fail_after(n, true);
		err = cp_partners_load(path, NULL, &b, NULL);
		cp_alloc_fail_after(0, false);
		if (!err)
			break;
		assert_int_equal(err, CP_ENOMEM);
		assert_null(b);
	}
	assert_true(n > 1);
	assert_sets_equal(a, b);
	cp_partners_free(a);
	cp_partners_free(b);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* Formatting, adding and issuing under allocation failure: ENOMEM, nothing changed. */
static void alloc_failure_changes(void **state)
{
	struct cp_partners *p = load_ok(full_text, NULL);
	struct cp_partner draft;
	char *read[] = {(char *)"a", (char *)"b"};
	char text[CP_PARTNER_TOKEN_TEXT_MAX], id[9], *yaml;
	enum cp_err err;
	size_t len;
	unsigned long n;
	(void)state;

	for (n = 1;; n++) {
		yaml = NULL;
		cp_alloc_fail_after(n, true);
		err = cp_partners_format(p, &yaml, &len);
		cp_alloc_fail_after(0, false);
		if (!err)
			break;
		assert_int_equal(err, CP_ENOMEM);
		assert_null(yaml);
	}
	cp_free(yaml);

	memset(&draft, 0, sizeof(draft));
	draft.name = (char *)"new";
	draft.title = (char *)"t";
	draft.agreement.read.names = read;
	draft.agreement.read.count = 2;
	draft.agreement.tlp_ceiling = CP_TLP_CLEAR;
	draft.agreement.default_tlp = CP_TLP_AMBER;
	for (n = 1;; n++) {
		cp_alloc_fail_after(n, true);
		err = cp_partners_add(p, &draft, NULL, NULL);
		cp_alloc_fail_after(0, false);
		if (!err)
			break;
		assert_int_equal(err, CP_ENOMEM);
		assert_int_equal(cp_partners_count(p), 3);
	}
	assert_int_equal(cp_partners_count(p), 4);

	cp_alloc_fail_after(1, true);
	err = cp_partners_issue_token(p, "new", at("2026-01-01T00:00:00Z"), NULL, text, id);
	cp_alloc_fail_after(0, false);
	assert_int_equal(err, CP_ENOMEM);
	assert_int_equal(cp_partners_find(p, "new")->token_count, 0);
	cp_partners_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(empty_texts),
	        cmocka_unit_test(full_example),
	        cmocka_unit_test(type_warnings),
	        cmocka_unit_test(structure_errors),
	        cmocka_unit_test(value_errors),
	        cmocka_unit_test(duplicates),
	        cmocka_unit_test(subjects_with_fingerprints),
	        cmocka_unit_test(hostile_yaml),
	        cmocka_unit_test(too_many_errors),
	        cmocka_unit_test(collection_resolution),
	        cmocka_unit_test(round_trip),
	        cmocka_unit_test(save_and_load_file),
	        cmocka_unit_test(token_checks),
	        cmocka_unit_test(token_issue),
	        cmocka_unit_test(cert_lookup),
	        cmocka_unit_test(add_update_remove),
	        cmocka_unit_test(build_from_scratch),
	        cmocka_unit_test(policy_from_agreements),
	        cmocka_unit_test(level_names),
	        cmocka_unit_test(alloc_failure),
	        cmocka_unit_test(alloc_failure_file),
	        cmocka_unit_test(alloc_failure_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
