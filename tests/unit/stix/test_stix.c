/*
 * lib/stix foundation: JSON input limits and garbage, the common-property rules of the
 * validator engine (spec 3.x, 2.5, 2.7, 7.2.3, 7.3), custom content (spec 11),
 * allocation failure, identifiers and the object model.
 *
 * Only indicator, identity, relationship and ipv4-addr are relied on; other helpers'
 * types are tested in test_sdo.c, test_sco.c and test_meta.c.
 */
#include "testutil.h"
#include "cyberpact/stix.h"

#define UUID1 "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define UUID2 "023d105b-752e-4e3c-941c-7d3f3cb15e9e"
#define UUID3 "44af6c39-c09b-49c5-9de2-394224b04982"
#define UUID4 "c6d1ec1e-2a3b-4e4c-9a2d-5bb1b3a5d0f3"
#define UUID5 "9c8b0fd1-f1a1-4f0b-8f6d-2e5a8c1f3b7e"
#define TLP_WHITE "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define EXTDEF "extension-definition--" UUID5

#define IND_ID "indicator--" UUID1
#define IDN_ID "identity--" UUID2
#define REL_ID "relationship--" UUID3
/* deterministic (UUIDv5) id of {"value":"198.51.100.3"}, as in spec 6.4 */
#define IP4_ID "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"

#define IND_JSON                                                                                   \
	"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND_ID "\","                  \
	"\"created_by_ref\":\"" IDN_ID "\","                                                       \
	"\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\","      \
	"\"name\":\"C2 address\",\"indicator_types\":[\"malicious-activity\"],"                    \
	"\"pattern\":\"[ipv4-addr:value = '198.51.100.3']\",\"pattern_type\":\"stix\","            \
	"\"valid_from\":\"2016-01-01T00:00:00Z\"}"
#define IDN_JSON                                                                                   \
	"{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"" IDN_ID "\","                   \
	"\"created\":\"2015-01-01T00:00:00.000Z\",\"modified\":\"2015-01-01T00:00:00.000Z\","      \
	"\"name\":\"ACME CERT\",\"identity_class\":\"organization\"}"
#define REL_JSON                                                                                   \
	"{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"" REL_ID "\","               \
	"\"created\":\"2016-04-06T20:06:37.000Z\",\"modified\":\"2016-04-06T20:06:37.000Z\","      \
	"\"relationship_type\":\"related-to\",\"source_ref\":\"" IND_ID "\","                      \
	"\"target_ref\":\"" IP4_ID "\"}"
#define IP4_JSON                                                                                   \
	"{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"" IP4_ID "\","                  \
	"\"value\":\"198.51.100.3\"}"

/* A representative bundle, pretty-printed over several lines like real files. */
static const char bundle_text[] = "{\n"
                                  "  \"type\": \"bundle\",\n"
                                  "  \"id\": \"bundle--" UUID4 "\",\n"
                                  "  \"objects\": [\n"
                                  "    " IDN_JSON ",\n"
                                  "    " IND_JSON ",\n"
                                  "    " REL_JSON ",\n"
                                  "    " IP4_JSON "\n"
                                  "  ]\n"
                                  "}\n";

static void bundle_is_clean(void **state)
{
	struct cp_diag d;
	(void)state;

	cp_diag_init(&d);
	tu_validate_text(bundle_text, sizeof(bundle_text) - 1, 0, &d);
	assert_clean(&d);
	cp_diag_clear(&d);
	/* a plain JSON array of the same objects, and each object on its own */
	{
		static const char arr[] = "[" IDN_JSON "," IND_JSON "," REL_JSON "," IP4_JSON "]";
		static const char *const one[] = {IDN_JSON, IND_JSON, REL_JSON, IP4_JSON};
		tu_validate_text(arr, sizeof(arr) - 1, 0, &d);
		assert_clean(&d);
		for (size_t i = 0; i < 4; i++) {
			tu_validate_text(one[i], strlen(one[i]), 0, &d);
			assert_clean(&d);
		}
	}
	cp_diag_release(&d);
}

/* ------------------------------------------------------- garbage input */

static void truncated_at_every_length(void **state)
{
	size_t len = sizeof(bundle_text) - 1;
	(void)state;

	for (size_t n = 0; n < len; n++) {
		struct cp_diag d;
		json_t *j = NULL;
		enum cp_err err;

		cp_diag_init(&d);
		err = cp_stix_json_parse(bundle_text, n, &j, &d);
		if (err == CP_OK) {
			/* only possible if the prefix is a complete document */
			assert_int_equal(cp_stix_validate(j, 0, &d), CP_OK);
			json_decref(j);
		} else {
			assert_int_equal(err, CP_EPARSE);
			assert_null(j);
			assert_int_equal(d.count, 1);
			assert_string_equal(d.items[0].code, "json-syntax");
			assert_int_equal(d.items[0].severity, CP_SEV_ERROR);
			assert_true(d.items[0].line >= 1);
			assert_true(d.items[0].line <= 11);
			assert_non_null(d.items[0].message);
		}
		cp_diag_release(&d);
	}
	/* the closing brace makes it whole; anything after it is garbage */
	{
		struct cp_diag d;
		json_t *j = NULL;
		static const char tail[] = "{\"type\":\"bundle\"} x";
		cp_diag_init(&d);
		assert_int_equal(cp_stix_json_parse(tail, sizeof(tail) - 1, &j, &d), CP_EPARSE);
		assert_finding(&d, CP_SEV_ERROR, "json-syntax", "");
		cp_diag_release(&d);
	}
}

static void syntax_error_position(void **state)
{
	static const char text[] = "{\n  \"type\": \"indicator\",\n  \"id\": ,\n}";
	struct cp_diag d;
	json_t *j = NULL;
	(void)state;

	cp_diag_init(&d);
	assert_int_equal(cp_stix_json_parse(text, sizeof(text) - 1, &j, &d), CP_EPARSE);
	assert_null(j);
	assert_only_finding(&d, CP_SEV_ERROR, "json-syntax", "");
	assert_int_equal(d.items[0].line, 3);
	assert_true(d.items[0].column >= 8);
	assert_non_null(strstr(d.items[0].message, "invalid JSON"));
	cp_diag_release(&d);
}

static char *nested(size_t depth, bool objects, bool closed)
{
	size_t cap = depth * 8 + 16, n = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	for (size_t i = 0; i < depth; i++) {
		if (objects) {
			memcpy(s + n, "{\"a\":", 5);
			n += 5;
		} else {
			s[n++] = '[';
		}
	}
	s[n++] = '1';
	for (size_t i = 0; closed && i < depth; i++)
		s[n++] = objects ? '}' : ']';
	s[n] = '\0';
	return s;
}

static void expect_parse(const char *text, enum cp_err want, const char *code)
{
	struct cp_diag d;
	json_t *j = NULL;
	enum cp_err err;

	cp_diag_init(&d);
	err = cp_stix_json_parse(text, strlen(text), &j, &d);
	if (err != want) {
		tu_dump(&d);
		fail_msg("parse gave %s, expected %s", cp_err_name(err), cp_err_name(want));
	}
	if (code)
		assert_finding(&d, CP_SEV_ERROR, code, "");
	if (!err) {
		assert_int_equal(cp_stix_validate(j, 0, &d), CP_OK);
		json_decref(j);
	} else {
		assert_null(j);
	}
	cp_diag_release(&d);
}

static void nesting_limit(void **state)
{
	char *s;
	(void)state;

	s = nested(CP_LIMIT_JSON_DEPTH, false, true);
	expect_parse(s, CP_OK, NULL);
	free(s);
	s = nested(CP_LIMIT_JSON_DEPTH + 1, false, true);
	expect_parse(s, CP_ETOOBIG, "too-deep");
	free(s);
	s = nested(CP_LIMIT_JSON_DEPTH + 1, true, true);
	expect_parse(s, CP_ETOOBIG, "too-deep");
	free(s);
	s = nested(CP_LIMIT_JSON_DEPTH, true, true);
	expect_parse(s, CP_OK, NULL);
	free(s);

	/* deep inside a STIX object of a bundle: bundle 1, objects 2, object 3, x_deep 4.. */
	{
		struct cp_buf b = CP_BUF_INIT(0);
		for (size_t k = CP_LIMIT_JSON_DEPTH - 3; k <= CP_LIMIT_JSON_DEPTH - 2; k++) {
			char *inner = nested(k, false, true);
			cp_buf_reset(&b);
			cp_buf_puts(&b, "{\"type\":\"bundle\",\"id\":\"bundle--" UUID4
			                "\",\"objects\":[");
			cp_buf_puts(&b, IP4_JSON);
			cp_buf_truncate(&b, b.len - 1);
			cp_buf_puts(&b, ",\"x_deep\":");
			cp_buf_puts(&b, inner);
			cp_buf_puts(&b, "}]}");
			assert_int_equal(cp_buf_finish(&b), CP_OK);
			free(inner);
			/* the deepest array is at depth 3 + k */
			if (3 + k <= CP_LIMIT_JSON_DEPTH)
				expect_parse(b.ptr, CP_OK, NULL);
			else
				expect_parse(b.ptr, CP_ETOOBIG, "too-deep");
		}
		cp_buf_release(&b);
	}
}

/* Parse text of length len; returns the tree (or NULL) and the first finding's code. */
static json_t *scan(const char *text, size_t len, enum cp_err want, const char *code,
		    unsigned line, unsigned column)
{
	struct cp_diag d;
	json_t *j = NULL;
	enum cp_err err;

	cp_diag_init(&d);
	err = cp_stix_json_parse(text, len, &j, &d);
	if (err != want) {
		tu_dump(&d);
		fail_msg("'%.*s': %s, expected %s", (int)len, text, cp_err_name(err),
			 cp_err_name(want));
	}
	if (code) {
		assert_int_equal(d.count, 1);
		assert_string_equal(d.items[0].code, code);
		if (line) {
			assert_int_equal(d.items[0].line, line);
			assert_int_equal(d.items[0].column, column);
		}
	}
	cp_diag_release(&d);
	return j;
}

#define SCAN_OK(t) scan((t), sizeof(t) - 1, CP_OK, NULL, 0, 0)
#define SCAN_BAD(t, l, c) json_decref(scan((t), sizeof(t) - 1, CP_EPARSE, "json-syntax", (l), (c)))

/* lib/stix's JSON scanner (json-load.c): values, escapes and the errors it names. */
static void json_scanner(void **state)
{
	json_t *j;
	(void)state;

	j = SCAN_OK("{\"a\":[1,-0,2.5,-1e-3,1E+2,true,false,null,{},[]],\"b\":\"\"}");
	assert_true(json_is_integer(json_array_get(json_object_get(j, "a"), 0)));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "a"), 1)), 0);
	assert_true(json_is_real(json_array_get(json_object_get(j, "a"), 2)));
	assert_true(json_real_value(json_array_get(json_object_get(j, "a"), 4)) == 100.0);
	assert_true(json_is_null(json_array_get(json_object_get(j, "a"), 7)));
	json_decref(j);
	/* escapes, a surrogate pair, raw UTF-8, an escaped key */
	j = SCAN_OK("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"\\u00e9\\u20ac\\ud83d\\ude00\","
		    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",{\"k\\u00e9\":1}]");
	assert_string_equal(json_string_value(json_array_get(j, 0)), "\"\\/\b\f\n\r\t");
	assert_string_equal(json_string_value(json_array_get(j, 1)),
			    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	assert_string_equal(json_string_value(json_array_get(j, 2)),
			    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	assert_non_null(json_object_get(json_array_get(j, 3), "k\xc3\xa9"));
	json_decref(j);
	j = SCAN_OK("[9223372036854775807,-9223372036854775808,1e-400]");
	assert_true(json_integer_value(json_array_get(j, 0)) == INT64_MAX);
	assert_true(json_integer_value(json_array_get(j, 1)) == INT64_MIN);
	json_decref(j);

	/* the errors, with line and column (bytes, from 1) */
	SCAN_BAD("{\"a\":1,\n \"a\":2}", 2, 2);              /* duplicate key */
	SCAN_BAD("{\"a\":1,\"\\u0061\":2}", 1, 8);           /* the same key, escaped */
	SCAN_BAD("[\"\\ud83d\"]", 1, 3);                     /* lone high surrogate */
	SCAN_BAD("[\"\\ude00\"]", 1, 3);                     /* lone low surrogate */
	SCAN_BAD("[\"\\u0000\"]", 1, 3);
	SCAN_BAD("[\"a\x01\"]", 1, 4);                       /* control character */
	SCAN_BAD("[\"\xc0\xaf\"]", 1, 3);                    /* overlong */
	SCAN_BAD("[\"\xed\xa0\x80\"]", 1, 3);                /* a surrogate in UTF-8 */
	SCAN_BAD("[\"\xf4\x90\x80\x80\"]", 1, 3);            /* above U+10FFFF */
	SCAN_BAD("[\"\xe2\x82\"]", 1, 3);                    /* truncated */
	SCAN_BAD("[9223372036854775808]", 1, 2);
	SCAN_BAD("[-9223372036854775809]", 1, 2);
	SCAN_BAD("[1e400]", 1, 2);
	SCAN_BAD("[01]", 1, 3);
	SCAN_BAD("[1.]", 1, 2);
	SCAN_BAD("[1,]", 1, 4);
	SCAN_BAD("{\"a\" 1}", 1, 6);
	SCAN_BAD("[tru]", 1, 2);
	SCAN_BAD("[\"\\x\"]", 1, 3);
	SCAN_BAD("[\"\\u12\"]", 1, 3);
	SCAN_BAD("\xef\xbb\xbf{}", 1, 1);                    /* a byte order mark */
	SCAN_BAD("{} {}", 1, 4);
	/* NUL bytes anywhere, even where jansson would skip them */
	json_decref(scan("[1,\0 2]", 7, CP_EPARSE, "json-syntax", 1, 4));
	json_decref(scan("[\"a\0\"]", 6, CP_EPARSE, "json-syntax", 1, 4));
	/* a string value over the limit is too big; its key is not a value */
	{
		size_t n = CP_LIMIT_STRING_BYTES + 2; /* + 1 after the escape below */
		char *t = malloc(n + 16);
		memcpy(t, "[\"", 2);
		memset(t + 2, 'x', n);
		memcpy(t + 2 + n, "\"]", 2);
		json_decref(scan(t, n + 4, CP_ETOOBIG, "too-big", 0, 0));
		/* with an escape, so that the text goes through the scratch buffer */
		t[5] = '\\';
		t[6] = 'n';
		json_decref(scan(t, n + 4, CP_ETOOBIG, "too-big", 0, 0));
		free(t);
	}
}

static void nesting_ten_thousand(void **state)
{
	char *s;
	(void)state;

	/* far beyond any limit: must fail cleanly, not overflow the stack; the parser
	 * stops at the limit, so even an unbalanced text is "too deep" */
	s = nested(10000, false, true);
	expect_parse(s, CP_ETOOBIG, "too-deep");
	free(s);
	s = nested(10000, true, true);
	expect_parse(s, CP_ETOOBIG, "too-deep");
	free(s);
	s = nested(10000, false, false); /* unbalanced */
	expect_parse(s, CP_ETOOBIG, "too-deep");
	free(s);
}

static char *with_big_value(const char *prop, size_t big, char fill)
{
	struct cp_buf b = CP_BUF_INIT(0);
	char *chunk = malloc(65536);

	assert_non_null(chunk);
	memset(chunk, fill, 65536);
	cp_buf_puts(&b, IND_JSON);
	cp_buf_truncate(&b, b.len - 1);
	cp_buf_printf(&b, ",\"%s\":\"", prop);
	for (size_t left = big; left;) {
		size_t n = left < 65536 ? left : 65536;
		cp_buf_append(&b, chunk, n);
		left -= n;
	}
	cp_buf_puts(&b, "\"}");
	free(chunk);
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	return cp_buf_take(&b);
}

static void twenty_megabyte_string(void **state)
{
	char *text = with_big_value("description", 20u << 20, 'a');
	struct cp_diag d;
	json_t *j = NULL;
	enum cp_err err;
	(void)state;

	cp_diag_init(&d);
	err = cp_stix_json_parse(text, strlen(text), &j, &d);
	cp_free(text);
	assert_int_equal(err, CP_ETOOBIG);
	assert_null(j);
	assert_only_finding(&d, CP_SEV_ERROR, "too-big", "");
	cp_diag_release(&d);

	/* a string of exactly the limit is accepted and validates */
	text = with_big_value("description", CP_LIMIT_STRING_BYTES, 'b');
	cp_diag_init(&d);
	assert_int_equal(cp_stix_json_parse(text, strlen(text), &j, &d), CP_OK);
	cp_free(text);
	assert_int_equal(json_string_length(json_object_get(j, "description")),
	                 CP_LIMIT_STRING_BYTES);
	assert_int_equal(cp_stix_validate(j, 0, &d), CP_OK);
	assert_clean(&d);
	json_decref(j);
	cp_diag_release(&d);
}

static void long_bad_value_is_reported(void **state)
{
	/* an invalid 5000-byte timestamp: the finding quotes the value */
	struct cp_diag d;
	json_t *j = NULL;
	enum cp_err err;
	struct cp_buf b = CP_BUF_INIT(0);
	(void)state;

	cp_buf_puts(&b, "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"" IDN_ID
	                "\",\"modified\":\"2015-01-01T00:00:00.000Z\",\"name\":\"n\","
	                "\"created\":\"2015-01-01T00:00:00.000Z");
	for (int i = 0; i < 5000; i++)
		cp_buf_putc(&b, 'x');
	cp_buf_puts(&b, "\"}");
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	cp_diag_init(&d);
	assert_int_equal(cp_stix_json_parse(b.ptr, b.len, &j, &d), CP_OK);
	cp_buf_release(&b);
	err = cp_stix_validate(j, 0, &d);
	json_decref(j);
	assert_int_equal(err, CP_OK);
	assert_only_finding(&d, CP_SEV_ERROR, "timestamp-format", "/created");
	assert_true(strlen(d.items[0].message) < 5000); /* cut, not lost */
	cp_diag_release(&d);
}

static void nul_and_bad_utf8(void **state)
{
	static const struct {
		const char *text;
		size_t len;
	} bad[] = {
	        {"{\"type\":\"indi\0cator\"}", 21},      /* raw NUL inside a string */
	        {"{\"type\":\"indicator\"}\0", 21},      /* raw NUL after the document */
	        {"\0{\"type\":\"indicator\"}", 21},      /* raw NUL before it */
	        {"{\"type\":\"a\\u0000b\"}", 19},        /* NUL escape */
	        {"{\"x_\\u0000\":\"v\"}", 16},           /* NUL escape in a key */
	        {"{\"type\":\"\xff\"}", 12},             /* invalid byte */
	        {"{\"type\":\"\xc0\xaf\"}", 13},         /* overlong encoding of '/' */
	        {"{\"type\":\"\xed\xa0\x80\"}", 14},     /* UTF-16 surrogate as UTF-8 */
	        {"{\"type\":\"\xe2\x82\"}", 13},         /* truncated sequence */
	        {"{\"type\":\"\xf4\x90\x80\x80\"}", 15}, /* above U+10FFFF */
	        {"{\"\xff\":1}", 8},                     /* invalid key */
	        {"{\"type\":\"\\ud800\"}", 17},          /* lone surrogate escape */
	        {"{\"type\":'indicator'}", 20},          /* not JSON at all */
	        {"{\"type\":\"x\",}", 13},               /* trailing comma */
	        {"{\"confidence\":NaN}", 18},
	        {"{\"confidence\":01}", 17},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cp_diag d;
		json_t *j = NULL;
		enum cp_err err;

		cp_diag_init(&d);
		err = cp_stix_json_parse(bad[i].text, bad[i].len, &j, &d);
		if (err != CP_EPARSE) {
			json_decref(j);
			cp_diag_release(&d);
			fail_msg("case %zu was not rejected (%s)", i, cp_err_name(err));
		}
		assert_null(j);
		assert_only_finding(&d, CP_SEV_ERROR, "json-syntax", "");
		assert_true(d.items[0].line >= 1);
		cp_diag_release(&d);
	}
	/* valid UTF-8 and escapes of non-ASCII are fine */
	expect_parse("{\"x_name\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\u00e9 "
	             "\\ud83d\\ude00\"}",
	             CP_OK, NULL);
}

static void duplicate_keys(void **state)
{
	(void)state;
	expect_parse("{\"type\":\"indicator\",\"type\":\"indicator\"}", CP_EPARSE, "json-syntax");
	expect_parse("{\"type\":\"bundle\",\"objects\":[{\"a\":1,\"b\":2,\"a\":1}]}", CP_EPARSE,
	             "json-syntax");
	/* same key in different objects is fine */
	expect_parse("{\"a\":{\"a\":1},\"b\":{\"a\":1}}", CP_OK, NULL);
}

static void non_object_entries(void **state)
{
	static const char text[] = "{\"type\":\"bundle\",\"id\":\"bundle--" UUID4 "\","
	                           "\"objects\":[1,\"s\",null,true,[],{}," IP4_JSON "]}";
	static const char arr[] = "[3.5,{}]";
	struct cp_diag d;
	(void)state;

	cp_diag_init(&d);
	tu_validate_text(text, sizeof(text) - 1, 0, &d);
	assert_finding(&d, CP_SEV_ERROR, "not-object", "/objects/0");
	assert_finding(&d, CP_SEV_ERROR, "not-object", "/objects/1");
	assert_finding(&d, CP_SEV_ERROR, "not-object", "/objects/2");
	assert_finding(&d, CP_SEV_ERROR, "not-object", "/objects/3");
	assert_finding(&d, CP_SEV_ERROR, "not-object", "/objects/4");
	assert_finding(&d, CP_SEV_ERROR, "missing-property", "/objects/5/type");
	assert_int_equal(d.count, 6); /* the ipv4-addr at 6 is fine */
	cp_diag_clear(&d);

	tu_validate_text(arr, sizeof(arr) - 1, 0, &d);
	assert_finding(&d, CP_SEV_ERROR, "not-object", "/0");
	assert_finding(&d, CP_SEV_ERROR, "missing-property", "/1/type");
	assert_int_equal(d.count, 2);
	cp_diag_clear(&d);

	/* scalars are not documents: the parser refuses them, the validator names them */
	expect_parse("42", CP_EPARSE, "json-syntax");
	expect_parse("\"indicator\"", CP_EPARSE, "json-syntax");
	{
		json_t *j = json_integer(42);
		assert_int_equal(cp_stix_validate(j, 0, &d), CP_OK);
		assert_only_finding(&d, CP_SEV_ERROR, "not-object", "");
		json_decref(j);
	}
	cp_diag_release(&d);
}

static void empty_things(void **state)
{
	struct cp_diag d;
	(void)state;

	cp_diag_init(&d);
	tu_validate_text("{}", 2, 0, &d);
	assert_only_finding(&d, CP_SEV_ERROR, "missing-property", "/type");
	cp_diag_clear(&d);
	tu_validate_text("[]", 2, 0, &d);
	assert_clean(&d);
	tu_validate_text("[{}]", 4, 0, &d);
	assert_only_finding(&d, CP_SEV_ERROR, "missing-property", "/0/type");
	cp_diag_clear(&d);
	{
		static const char b[] =
		        "{\"type\":\"bundle\",\"id\":\"bundle--" UUID4 "\",\"objects\":[]}";
		tu_validate_text(b, sizeof(b) - 1, 0, &d);
		assert_only_finding(&d, CP_SEV_ERROR, "empty-list", "/objects");
		cp_diag_clear(&d);
	}
	{
		static const char b[] =
		        "{\"type\":\"bundle\",\"id\":\"bundle--" UUID4 "\",\"objects\":[{}]}";
		tu_validate_text(b, sizeof(b) - 1, 0, &d);
		assert_only_finding(&d, CP_SEV_ERROR, "missing-property", "/objects/0/type");
		cp_diag_clear(&d);
	}
	{
		/* objects is optional in a 2.1 bundle */
		static const char b[] = "{\"type\":\"bundle\",\"id\":\"bundle--" UUID4 "\"}";
		tu_validate_text(b, sizeof(b) - 1, 0, &d);
		assert_clean(&d);
	}
	expect_parse("", CP_EPARSE, "json-syntax");
	expect_parse("   \n ", CP_EPARSE, "json-syntax");
	cp_diag_release(&d);
}

/* --------------------------------------------------------- rule tables */

struct rule_case {
	const char *label;
	const char *base;
	const char *patch;  /* members set on base, or NULL */
	const char *remove; /* comma-separated members deleted from base, or NULL */
	/* expected: NULL code means "no findings at all" */
	enum cp_severity sev;
	const char *code;
	const char *pointer;
	bool only; /* and no other finding */
};

#define E CP_SEV_ERROR
#define W CP_SEV_WARNING
#define PASS(label, base, patch)                                                                   \
	{                                                                                          \
		label, base, patch, NULL, E, NULL, NULL, true                                      \
	}

static void run_cases(const struct rule_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct rule_case *c = &cases[i];
		struct cp_diag d;

		cp_diag_init(&d);
		tu_validate_patched(c->base, c->patch, c->remove, 0, &d);
		if (!c->code) {
			if (d.count) {
				tu_dump(&d);
				fail_msg("%s: expected no findings, got %zu", c->label, d.count);
			}
		} else if (!tu_find(&d, c->sev, c->code, c->pointer) || (c->only && d.count != 1)) {
			tu_dump(&d);
			fail_msg("%s: expected %s%s [%s] at %s", c->label, c->only ? "only " : "",
			         cp_severity_name(c->sev), c->code, c->pointer);
		}
		cp_diag_release(&d);
	}
}

#define RUN(cases) run_cases((cases), sizeof(cases) / sizeof((cases)[0]))

static void wrong_json_types(void **state)
{
	static const struct rule_case cases[] = {
	        {"type number", IND_JSON, "{\"type\":5}", NULL, E, "type-mismatch", "/type", true},
	        {"type null", IND_JSON, "{\"type\":null}", NULL, E, "type-mismatch", "/type", true},
	        {"type list", IND_JSON, "{\"type\":[\"indicator\"]}", NULL, E, "type-mismatch",
	         "/type", true},
	        {"id number", IND_JSON, "{\"id\":1}", NULL, E, "type-mismatch", "/id", true},
	        {"id object", IND_JSON, "{\"id\":{}}", NULL, E, "type-mismatch", "/id", true},
	        {"spec_version number", IND_JSON, "{\"spec_version\":2.1}", NULL, E,
	         "type-mismatch", "/spec_version", true},
	        {"created number", IND_JSON, "{\"created\":1459972428}", NULL, E, "type-mismatch",
	         "/created", true},
	        {"modified bool", IND_JSON, "{\"modified\":true}", NULL, E, "type-mismatch",
	         "/modified", true},
	        {"created_by_ref list", IND_JSON, "{\"created_by_ref\":[\"" IDN_ID "\"]}", NULL, E,
	         "type-mismatch", "/created_by_ref", true},
	        {"revoked string", IND_JSON, "{\"revoked\":\"true\"}", NULL, E, "type-mismatch",
	         "/revoked", true},
	        {"revoked number", IND_JSON, "{\"revoked\":1}", NULL, E, "type-mismatch",
	         "/revoked", true},
	        {"labels string", IND_JSON, "{\"labels\":\"a\"}", NULL, E, "type-mismatch",
	         "/labels", true},
	        {"labels of numbers", IND_JSON, "{\"labels\":[\"a\",7]}", NULL, E, "type-mismatch",
	         "/labels/1", true},
	        {"confidence string", IND_JSON, "{\"confidence\":\"50\"}", NULL, E, "type-mismatch",
	         "/confidence", true},
	        {"confidence real", IND_JSON, "{\"confidence\":50.5}", NULL, E, "type-mismatch",
	         "/confidence", true},
	        {"lang number", IND_JSON, "{\"lang\":5}", NULL, E, "type-mismatch", "/lang", true},
	        {"lang empty", IND_JSON, "{\"lang\":\"\"}", NULL, E, "empty-string", "/lang", true},
	        {"external_references object", IND_JSON,
	         "{\"external_references\":{\"source_name\":\"x\"}}", NULL, E, "type-mismatch",
	         "/external_references", true},
	        {"external_references of strings", IND_JSON, "{\"external_references\":[\"x\"]}",
	         NULL, E, "type-mismatch", "/external_references/0", true},
	        {"external_references url number", IND_JSON,
	         "{\"external_references\":[{\"source_name\":\"x\",\"url\":5}]}", NULL, E,
	         "type-mismatch", "/external_references/0/url", true},
	        {"object_marking_refs string", IND_JSON,
	         "{\"object_marking_refs\":\"" TLP_WHITE "\"}", NULL, E, "type-mismatch",
	         "/object_marking_refs", true},
	        {"object_marking_refs of numbers", IND_JSON, "{\"object_marking_refs\":[1]}", NULL,
	         E, "type-mismatch", "/object_marking_refs/0", true},
	        {"granular_markings object", IND_JSON, "{\"granular_markings\":{}}", NULL, E,
	         "type-mismatch", "/granular_markings", true},
	        {"granular_markings of strings", IND_JSON, "{\"granular_markings\":[\"x\"]}", NULL,
	         E, "type-mismatch", "/granular_markings/0", true},
	        {"granular selectors string", IND_JSON,
	         "{\"granular_markings\":[{\"marking_ref\":\"" TLP_WHITE
	         "\",\"selectors\":\"name\"}]}",
	         NULL, E, "type-mismatch", "/granular_markings/0/selectors", true},
	        {"extensions list", IND_JSON, "{\"extensions\":[]}", NULL, E, "type-mismatch",
	         "/extensions", true},
	        {"extension string", IND_JSON, "{\"extensions\":{\"" EXTDEF "\":\"x\"}}", NULL, E,
	         "type-mismatch", "/extensions/" EXTDEF, true},
	        {"SCO id number", IP4_JSON, "{\"type\":\"ipv4-addr\",\"id\":7}", NULL, E,
	         "type-mismatch", "/id", false},
	        {"SCO defanged string", IP4_JSON, "{\"defanged\":\"yes\"}", NULL, E,
	         "type-mismatch", "/defanged", true},
	};
	(void)state;
	RUN(cases);
}

static void type_and_id_rules(void **state)
{
	static const struct rule_case cases[] = {
	        PASS("indicator", IND_JSON, NULL),
	        PASS("identity", IDN_JSON, NULL),
	        PASS("relationship", REL_JSON, NULL),
	        PASS("ipv4-addr", IP4_JSON, NULL),
	        PASS("uppercase uuid", IND_JSON,
	             "{\"id\":\"indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F\"}"),
	        {"missing type", IND_JSON, NULL, "type", E, "missing-property", "/type", true},
	        {"missing id", IND_JSON, NULL, "id", E, "missing-property", "/id", true},
	        {"type too short", IND_JSON, "{\"type\":\"ab\",\"id\":\"ab--" UUID1 "\"}", NULL, E,
	         "type-name", "/type", true},
	        {"type uppercase", IND_JSON,
	         "{\"type\":\"Indicator\",\"id\":\"Indicator--" UUID1 "\"}", NULL, E, "type-name",
	         "/type", true},
	        {"type with --", IND_JSON, "{\"type\":\"my--type\"}", NULL, E, "type-name", "/type",
	         true},
	        {"type ends with -", IND_JSON, "{\"type\":\"my-type-\"}", NULL, E, "type-name",
	         "/type", true},
	        {"type starts with digit", IND_JSON, "{\"type\":\"1type\"}", NULL, E, "type-name",
	         "/type", true},
	        {"type with underscore", IND_JSON, "{\"type\":\"my_type\"}", NULL, E, "type-name",
	         "/type", true},
	        {"type empty", IND_JSON, "{\"type\":\"\"}", NULL, E, "type-name", "/type", true},
	        {"id without uuid", IND_JSON, "{\"id\":\"indicator--1234\"}", NULL, E, "id-format",
	         "/id", true},
	        {"id single dash", IND_JSON, "{\"id\":\"indicator-" UUID1 "\"}", NULL, E,
	         "id-format", "/id", true},
	        {"id no dashes in uuid", IND_JSON,
	         "{\"id\":\"indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f\"}", NULL, E, "id-format",
	         "/id", true},
	        {"id bad variant", IND_JSON,
	         "{\"id\":\"indicator--8e2e2d2b-17d4-4cbf-738f-98ee46b3cd3f\"}", NULL, E,
	         "id-format", "/id", true},
	        {"id trailing space", IND_JSON, "{\"id\":\"" IND_ID " \"}", NULL, E, "id-format",
	         "/id", true},
	        {"id empty", IND_JSON, "{\"id\":\"\"}", NULL, E, "id-format", "/id", true},
	        {"id of another type", IND_JSON, "{\"id\":\"" IDN_ID "\"}", NULL, E, "id-type",
	         "/id", true},
	        {"id type prefix only", IND_JSON, "{\"id\":\"indicatorx--" UUID1 "\"}", NULL, E,
	         "id-type", "/id", true},
	        {"SCO id of another type", IP4_JSON,
	         "{\"id\":\"ipv6-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4\"}", NULL, E, "id-type",
	         "/id", false},
	        {"SCO wrong deterministic id", IP4_JSON, "{\"id\":\"ipv4-addr--" UUID1 "\"}", NULL,
	         W, "sco-id", "/id", true},
	};
	(void)state;
	RUN(cases);
}

static void common_property_rules(void **state)
{
	static const struct rule_case cases[] = {
	        /* spec_version */
	        {"spec_version 2.0", IND_JSON, "{\"spec_version\":\"2.0\"}", NULL, E,
	         "spec-version", "/spec_version", true},
	        {"spec_version 2.10", IND_JSON, "{\"spec_version\":\"2.10\"}", NULL, E,
	         "spec-version", "/spec_version", true},
	        {"spec_version missing", IND_JSON, NULL, "spec_version", E, "missing-property",
	         "/spec_version", true},
	        PASS("SCO without spec_version", IP4_JSON, NULL),
	        /* created / modified */
	        {"created missing", IND_JSON, NULL, "created", E, "missing-property", "/created",
	         true},
	        {"modified missing", IND_JSON, NULL, "modified", E, "missing-property", "/modified",
	         true},
	        {"modified before created", IND_JSON, "{\"modified\":\"2016-04-06T20:03:47.999Z\"}",
	         NULL, E, "time-order", "/modified", true},
	        PASS("modified after created", IND_JSON,
	             "{\"modified\":\"2016-04-06T20:03:48.001Z\"}"),
	        PASS("modified equals created, other precision", IND_JSON,
	             "{\"modified\":\"2016-04-06T20:03:48.000000Z\"}"),
	        {"created not a timestamp", IND_JSON, "{\"created\":\"2016-04-06 20:03:48.000Z\"}",
	         NULL, E, "timestamp-format", "/created", true},
	        {"created with offset", IND_JSON, "{\"created\":\"2016-04-06T20:03:48.000+00:00\"}",
	         NULL, E, "timestamp-format", "/created", true},
	        {"created in seconds", IND_JSON, "{\"created\":\"2016-04-06T20:03:48Z\"}", NULL, E,
	         "timestamp-precision", "/created", true},
	        {"modified in centiseconds", IND_JSON, "{\"modified\":\"2016-04-06T20:03:48.12Z\"}",
	         NULL, E, "timestamp-precision", "/modified", true},
	        PASS("created in microseconds", IND_JSON,
	             "{\"created\":\"2016-04-06T20:03:48.000001Z\","
	             "\"modified\":\"2016-04-06T20:03:48.000001Z\"}"),
	        /* created_by_ref */
	        {"created_by_ref not identity", IND_JSON, "{\"created_by_ref\":\"" IND_ID "\"}",
	         NULL, E, "ref-type", "/created_by_ref", true},
	        {"created_by_ref not an id", IND_JSON, "{\"created_by_ref\":\"ACME\"}", NULL, E,
	         "id-format", "/created_by_ref", true},
	        /* revoked */
	        PASS("revoked true", IND_JSON, "{\"revoked\":true}"),
	        /* confidence */
	        PASS("confidence 0", IND_JSON, "{\"confidence\":0}"),
	        PASS("confidence 100", IND_JSON, "{\"confidence\":100}"),
	        {"confidence 101", IND_JSON, "{\"confidence\":101}", NULL, E, "out-of-range",
	         "/confidence", true},
	        {"confidence -1", IND_JSON, "{\"confidence\":-1}", NULL, E, "out-of-range",
	         "/confidence", true},
	        /* labels */
	        PASS("labels", IND_JSON, "{\"labels\":[\"a\",\"b\"]}"),
	        {"labels empty", IND_JSON, "{\"labels\":[]}", NULL, E, "empty-list", "/labels",
	         true},
	        /* lang */
	        PASS("lang", IND_JSON, "{\"lang\":\"en\"}"),
	        /* object_marking_refs */
	        PASS("object_marking_refs", IND_JSON,
	             "{\"object_marking_refs\":[\"" TLP_WHITE "\"]}"),
	        PASS("object_marking_refs on SCO", IP4_JSON,
	             "{\"object_marking_refs\":[\"" TLP_WHITE "\"]}"),
	        {"object_marking_refs empty", IND_JSON, "{\"object_marking_refs\":[]}", NULL, E,
	         "empty-list", "/object_marking_refs", true},
	        {"object_marking_refs to identity", IND_JSON,
	         "{\"object_marking_refs\":[\"" TLP_WHITE "\",\"" IDN_ID "\"]}", NULL, E,
	         "ref-type", "/object_marking_refs/1", true},
	        /* SDO-only and SCO-only properties */
	        {"defanged on an SDO", IND_JSON, "{\"defanged\":true}", NULL, E,
	         "property-not-allowed", "/defanged", true},
	        {"defanged on an SRO", REL_JSON, "{\"defanged\":false}", NULL, E,
	         "property-not-allowed", "/defanged", true},
	        PASS("defanged on an SCO", IP4_JSON, "{\"defanged\":true}"),
	        {"SCO with created", IP4_JSON, "{\"created\":\"2016-04-06T20:03:48.000Z\"}", NULL,
	         E, "property-not-allowed", "/created", true},
	        {"SCO with modified", IP4_JSON, "{\"modified\":\"2016-04-06T20:03:48.000Z\"}", NULL,
	         E, "property-not-allowed", "/modified", true},
	        {"SCO with labels", IP4_JSON, "{\"labels\":[\"x\"]}", NULL, E,
	         "property-not-allowed", "/labels", true},
	        {"SCO with created_by_ref", IP4_JSON, "{\"created_by_ref\":\"" IDN_ID "\"}", NULL,
	         E, "property-not-allowed", "/created_by_ref", true},
	        {"SCO with confidence", IP4_JSON, "{\"confidence\":5}", NULL, E,
	         "property-not-allowed", "/confidence", true},
	};
	(void)state;
	RUN(cases);
}

#define ER(members) "{\"external_references\":[{" members "}]}"

static void external_reference_rules(void **state)
{
	static const struct rule_case cases[] = {
	        PASS("source_name and url", IND_JSON,
	             ER("\"source_name\":\"acme\",\"url\":\"https://x\"")),
	        PASS("source_name and description", IND_JSON,
	             ER("\"source_name\":\"acme\",\"description\":\"d\"")),
	        PASS("source_name and external_id", IND_JSON,
	             ER("\"source_name\":\"acme\",\"external_id\":\"A-1\"")),
	        {"no source_name", IND_JSON, ER("\"url\":\"https://x\""), NULL, E,
	         "missing-property", "/external_references/0/source_name", true},
	        {"empty source_name", IND_JSON, ER("\"source_name\":\"\",\"url\":\"https://x\""),
	         NULL, E, "empty-string", "/external_references/0/source_name", true},
	        {"only source_name", IND_JSON, ER("\"source_name\":\"acme\""), NULL, E,
	         "external-reference", "/external_references/0", true},
	        {"empty list", IND_JSON, "{\"external_references\":[]}", NULL, E, "empty-list",
	         "/external_references", true},
	        {"second entry", IND_JSON,
	         "{\"external_references\":[{\"source_name\":\"a\",\"url\":\"u\"},"
	         "{\"source_name\":\"b\"}]}",
	         NULL, E, "external-reference", "/external_references/1", true},
	        /* CAPEC and CVE ids */
	        PASS("capec id", IND_JSON,
	             ER("\"source_name\":\"capec\",\"external_id\":\"CAPEC-163\"")),
	        {"capec id without prefix", IND_JSON,
	         ER("\"source_name\":\"capec\",\"external_id\":\"163\""), NULL, E,
	         "external-id-format", "/external_references/0/external_id", true},
	        {"capec id lowercase", IND_JSON,
	         ER("\"source_name\":\"capec\",\"external_id\":\"capec-163\""), NULL, E,
	         "external-id-format", "/external_references/0/external_id", true},
	        {"capec id no number", IND_JSON,
	         ER("\"source_name\":\"capec\",\"external_id\":\"CAPEC-\""), NULL, E,
	         "external-id-format", "/external_references/0/external_id", true},
	        PASS("cve id", IND_JSON,
	             ER("\"source_name\":\"cve\",\"external_id\":\"CVE-2016-1234\"")),
	        {"cve id without prefix", IND_JSON,
	         ER("\"source_name\":\"cve\",\"external_id\":\"2016-1234\""), NULL, E,
	         "external-id-format", "/external_references/0/external_id", true},
	        {"cve id with letters", IND_JSON,
	         ER("\"source_name\":\"cve\",\"external_id\":\"CVE-2016-12x4\""), NULL, E,
	         "external-id-format", "/external_references/0/external_id", true},
	        /* hashes (spec 2.7) */
	        PASS("hashes MD5 SHA-256", IND_JSON,
	             ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{"
	                "\"MD5\":\"d41d8cd98f00b204e9800998ecf8427e\","
	                "\"SHA-256\":"
	                "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}")),
	        {"MD5 too short", IND_JSON,
	         ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"MD5\":"
	            "\"d41d8cd98f00b204\"}"),
	         NULL, E, "hash-value", "/external_references/0/hashes/MD5", true},
	        {"MD5 not hex", IND_JSON,
	         ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{"
	            "\"MD5\":\"z41d8cd98f00b204e9800998ecf8427e\"}"),
	         NULL, E, "hash-value", "/external_references/0/hashes/MD5", true},
	        {"SHA-1 too long", IND_JSON,
	         ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{"
	            "\"SHA-1\":\"da39a3ee5e6b4b0d3255bfef95601890afd807090\"}"),
	         NULL, E, "hash-value", "/external_references/0/hashes/SHA-1", true},
	        {"sha256 spelling", IND_JSON,
	         ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"sha256\":"
	            "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}"),
	         NULL, W, "hash-algorithm", "/external_references/0/hashes/sha256", true},
	        {"unknown algorithm", IND_JSON,
	         ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"WHIRLPOOL\":\"abcd\"}"),
	         NULL, W, "hash-algorithm", "/external_references/0/hashes/WHIRLPOOL", true},
	        PASS("x_ custom hash", IND_JSON,
	             ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"x_acme_hash\":"
	                "\"anything\"}")),
	        PASS("SSDEEP", IND_JSON,
	             ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"SSDEEP\":"
	                "\"96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:"
	                "sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO\"}")),
	        {"SSDEEP malformed", IND_JSON,
	         ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"SSDEEP\":\"96-abc-def\"}"),
	         NULL, E, "hash-value", "/external_references/0/hashes/SSDEEP", true},
	        {"SSDEEP without blocksize", IND_JSON,
	         ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"SSDEEP\":\":abc:def\"}"),
	         NULL, E, "hash-value", "/external_references/0/hashes/SSDEEP", true},
	        PASS("TLSH", IND_JSON,
	             ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"TLSH\":"
	                "\"8D21A44BA27C80A47347124322C65F7D4C1BA71D5732B6C0C6FA434C1D29DBF2AB9B72\""
	                "}")),
	        PASS("TLSH with T1 prefix", IND_JSON,
	             ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"TLSH\":"
	                "\"T18D21A44BA27C80A47347124322C65F7D4C1BA71D5732B6C0C6FA434C1D29DBF2AB9B72"
	                "\"}")),
	        {"TLSH short", IND_JSON,
	         ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"TLSH\":\"8D21A44BA27C\"}"),
	         NULL, E, "hash-value", "/external_references/0/hashes/TLSH", true},
	        {"hashes empty", IND_JSON, ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{}"),
	         NULL, E, "empty-dictionary", "/external_references/0/hashes", true},
	        {"hash value number", IND_JSON,
	         ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"MD5\":5}"), NULL, E,
	         "type-mismatch", "/external_references/0/hashes/MD5", true},
	        {"hash key too short", IND_JSON,
	         ER("\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"md\":\"00\"}"), NULL, E,
	         "hash-key", "/external_references/0/hashes/md", true},
	};
	(void)state;
	RUN(cases);
}

#define GM(members) "{\"labels\":[\"l0\"],\"granular_markings\":[{" members "}]}"
#define GM_REF "\"marking_ref\":\"" TLP_WHITE "\""

static void granular_marking_rules(void **state)
{
	static const struct rule_case cases[] = {
	        PASS("marking_ref on name", IND_JSON, GM(GM_REF ",\"selectors\":[\"name\"]")),
	        PASS("lang on name", IND_JSON, GM("\"lang\":\"en\",\"selectors\":[\"name\"]")),
	        PASS("list index", IND_JSON, GM(GM_REF ",\"selectors\":[\"labels.[0]\"]")),
	        PASS("whole list", IND_JSON, GM(GM_REF ",\"selectors\":[\"labels\",\"pattern\"]")),
	        PASS("into a list of objects", IND_JSON,
	             "{\"external_references\":[{\"source_name\":\"a\",\"url\":\"u\"}],"
	             "\"granular_markings\":[{" GM_REF
	             ",\"selectors\":[\"external_references.[0].source_name\"]}]}"),
	        {"both lang and marking_ref", IND_JSON,
	         GM(GM_REF ",\"lang\":\"en\",\"selectors\":[\"name\"]"), NULL, E,
	         "granular-marking", "/granular_markings/0", true},
	        {"neither lang nor marking_ref", IND_JSON, GM("\"selectors\":[\"name\"]"), NULL, E,
	         "granular-marking", "/granular_markings/0", true},
	        {"no selectors", IND_JSON, GM(GM_REF), NULL, E, "missing-property",
	         "/granular_markings/0/selectors", true},
	        {"empty selectors", IND_JSON, GM(GM_REF ",\"selectors\":[]"), NULL, E, "empty-list",
	         "/granular_markings/0/selectors", true},
	        {"selector to an absent property", IND_JSON,
	         GM(GM_REF ",\"selectors\":[\"name\",\"description\"]"), NULL, E,
	         "granular-selector", "/granular_markings/0/selectors/1", true},
	        {"index past the end", IND_JSON, GM(GM_REF ",\"selectors\":[\"labels.[1]\"]"), NULL,
	         E, "granular-selector", "/granular_markings/0/selectors/0", true},
	        {"index on a string", IND_JSON, GM(GM_REF ",\"selectors\":[\"name.[0]\"]"), NULL, E,
	         "granular-selector", "/granular_markings/0/selectors/0", true},
	        {"malformed index", IND_JSON, GM(GM_REF ",\"selectors\":[\"labels.[x]\"]"), NULL, E,
	         "granular-selector", "/granular_markings/0/selectors/0", true},
	        {"trailing dot", IND_JSON, GM(GM_REF ",\"selectors\":[\"labels.\"]"), NULL, E,
	         "granular-selector", "/granular_markings/0/selectors/0", true},
	        {"empty selector", IND_JSON, GM(GM_REF ",\"selectors\":[\"\"]"), NULL, E,
	         "granular-selector", "/granular_markings/0/selectors/0", true},
	        {"marking_ref to identity", IND_JSON,
	         GM("\"marking_ref\":\"" IDN_ID "\",\"selectors\":[\"name\"]"), NULL, E, "ref-type",
	         "/granular_markings/0/marking_ref", true},
	        {"on an SCO", IP4_JSON,
	         "{\"granular_markings\":[{" GM_REF ",\"selectors\":[\"nope\"]}]}", NULL, E,
	         "granular-selector", "/granular_markings/0/selectors/0", true},
	};
	(void)state;
	RUN(cases);
}

static void marking_self_reference(void **state)
{
	struct cp_diag d;
	static const char self[] =
	        "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
	        "\"id\":\"marking-definition--" UUID5 "\",\"created\":\"2016-08-01T00:00:00.000Z\","
	        "\"name\":\"self\",\"object_marking_refs\":[\"" TLP_WHITE "\","
	        "\"marking-definition--" UUID5 "\"]}";
	(void)state;

	cp_diag_init(&d);
	tu_validate_text(self, sizeof(self) - 1, 0, &d);
	assert_finding(&d, CP_SEV_ERROR, "circular-marking", "/object_marking_refs/1");
	assert_int_equal(tu_find(&d, CP_SEV_ERROR, "circular-marking", "/object_marking_refs/0"),
	                 NULL);
	cp_diag_release(&d);
	/* an ordinary marking reference is not circular */
	cp_diag_init(&d);
	tu_validate_patched(IND_JSON, "{\"object_marking_refs\":[\"" TLP_WHITE "\"]}", NULL, 0, &d);
	assert_no_finding(&d, CP_SEV_ERROR, "circular-marking");
	cp_diag_release(&d);
}

#define EXT(key, body) "{\"extensions\":{\"" key "\":" body "}}"

static void extension_rules(void **state)
{
	static const struct rule_case cases[] = {
	        PASS("property-extension", IND_JSON,
	             EXT(EXTDEF, "{\"extension_type\":\"property-extension\",\"rank\":5}")),
	        PASS("toplevel-property-extension with its properties", IND_JSON,
	             "{\"extensions\":{\"" EXTDEF "\":{\"extension_type\":"
	             "\"toplevel-property-extension\"}},\"rank\":5,\"toxicity\":\"high\"}"),
	        {"unknown property without toplevel extension", IND_JSON, "{\"toxicity\":\"high\"}",
	         NULL, W, "unknown-property", "/toxicity", true},
	        {"extension-definition key without extension_type", IND_JSON,
	         EXT(EXTDEF, "{\"rank\":5}"), NULL, E, "extension-type", "/extensions/" EXTDEF,
	         true},
	        {"bad extension_type", IND_JSON, EXT(EXTDEF, "{\"extension_type\":\"new-thing\"}"),
	         NULL, E, "enum-value", "/extensions/" EXTDEF "/extension_type", true},
	        {"extension_type not a string", IND_JSON, EXT(EXTDEF, "{\"extension_type\":1}"),
	         NULL, E, "enum-value", "/extensions/" EXTDEF "/extension_type", true},
	        {"empty extension", IND_JSON, EXT(EXTDEF, "{}"), NULL, E, "empty-dictionary",
	         "/extensions/" EXTDEF, true},
	        {"empty extensions", IND_JSON, "{\"extensions\":{}}", NULL, E, "empty-dictionary",
	         "/extensions", true},
	        {"bad extension-definition id", IND_JSON,
	         EXT("extension-definition--1234", "{\"extension_type\":\"property-extension\"}"),
	         NULL, E, "id-format", "/extensions/extension-definition--1234", true},
	        {"extension_type under another key", IND_JSON,
	         EXT("acme-ext", "{\"extension_type\":\"property-extension\",\"rank\":5}"), NULL, W,
	         "extension-key", "/extensions/acme-ext", true},
	        {"custom extension", IND_JSON, EXT("x-acme-ext", "{\"rank\":5}"), NULL, W,
	         "custom-extension", "/extensions/x-acme-ext", true},
	        {"extension key with bad characters", IND_JSON, EXT("a b", "{\"rank\":5}"), NULL, E,
	         "dictionary-key", "/extensions/a b", false},
	};
	(void)state;
	RUN(cases);
}

static void custom_content_rules(void **state)
{
	static const struct rule_case cases[] = {
	        PASS("x_ property", IND_JSON, "{\"x_acme_score\":5,\"x_acme_tags\":[\"a\"]}"),
	        PASS("x_ property on an SCO", IP4_JSON, "{\"x_acme_seen\":true}"),
	        {"uppercase property name", IND_JSON, "{\"x_Acme\":1}", NULL, E,
	         "custom-property-name", "/x_Acme", true},
	        {"dash in property name", IND_JSON, "{\"x-acme\":1}", NULL, E,
	         "custom-property-name", "/x-acme", true},
	        {"property name too short", IND_JSON, "{\"ab\":1}", NULL, E, "custom-property-name",
	         "/ab", true},
	        {"property name with a slash", IND_JSON, "{\"x_a/b\":1}", NULL, E,
	         "custom-property-name", "/x_a~1b", true},
	        {"property name with a tilde", IND_JSON, "{\"x_a~b\":1}", NULL, E,
	         "custom-property-name", "/x_a~0b", true},
	        {"property name starting with a digit", IND_JSON, "{\"1_acme\":1}", NULL, E,
	         "custom-property-name", "/1_acme", true},
	        {"unknown non-x_ property", IND_JSON, "{\"toxicity\":\"high\"}", NULL, W,
	         "unknown-property", "/toxicity", true},
	        {"unknown property on an SCO", IP4_JSON, "{\"toxicity\":\"high\"}", NULL, W,
	         "unknown-property", "/toxicity", true},
	        /* spec 3.8: reserved names MUST NOT be used */
	        {"reserved severity", IND_JSON, "{\"severity\":\"high\"}", NULL, E,
	         "reserved-property", "/severity", true},
	        {"reserved action", IP4_JSON, "{\"action\":\"block\"}", NULL, E,
	         "reserved-property", "/action", true},
	        /* value suffix rules of spec 3.1 */
	        PASS("_ref with an id", IND_JSON, "{\"x_owner_ref\":\"" IDN_ID "\"}"),
	        PASS("_refs with ids", IND_JSON,
	             "{\"x_owner_refs\":[\"" IDN_ID "\",\"" IND_ID "\"]}"),
	        {"_ref with text", IND_JSON, "{\"x_owner_ref\":\"ACME\"}", NULL, E, "id-format",
	         "/x_owner_ref", true},
	        {"_ref with a number", IND_JSON, "{\"x_owner_ref\":5}", NULL, E, "type-mismatch",
	         "/x_owner_ref", true},
	        {"_refs with text", IND_JSON, "{\"x_owner_refs\":[\"" IDN_ID "\",\"ACME\"]}", NULL,
	         E, "id-format", "/x_owner_refs/1", true},
	        {"_refs empty", IND_JSON, "{\"x_owner_refs\":[]}", NULL, E, "empty-list",
	         "/x_owner_refs", true},
	        PASS("_hex", IND_JSON, "{\"x_magic_hex\":\"cafeBABE\"}"),
	        {"_hex odd", IND_JSON, "{\"x_magic_hex\":\"cafeBAB\"}", NULL, E, "hex-format",
	         "/x_magic_hex", true},
	        {"_hex not hex", IND_JSON, "{\"x_magic_hex\":\"xyz0\"}", NULL, E, "hex-format",
	         "/x_magic_hex", true},
	        PASS("_bin", IND_JSON, "{\"x_blob_bin\":\"aGVsbG8=\"}"),
	        {"_bin not base64", IND_JSON, "{\"x_blob_bin\":\"aGVsbG8\"}", NULL, E,
	         "binary-format", "/x_blob_bin", true},
	        /* custom object types (spec 11.2) */
	        {"custom SDO-like object", IND_JSON,
	         "{\"type\":\"x-acme-case\",\"id\":\"x-acme-case--" UUID1 "\"}", NULL, W,
	         "custom-object", "/type", false},
	        {"custom object with a bad id", IND_JSON,
	         "{\"type\":\"x-acme-case\",\"id\":\"x-acme-cases--" UUID1 "\"}", NULL, E,
	         "id-type", "/id", false},
	};
	(void)state;
	RUN(cases);

	/* a whole custom object: only the custom-object warning, its properties are its own */
	{
		static const char obj[] =
		        "{\"type\":\"x-acme-case\",\"spec_version\":\"2.1\",\"id\":\"x-acme-case-"
		        "-" UUID1 "\",\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":"
		        "\"2020-01-01T00:00:00.000Z\",\"priority\":\"high\",\"case_number\":12}";
		static const char sco[] = "{\"type\":\"x-acme-host\",\"id\":\"x-acme-host--" UUID1
		                          "\",\"hostname\":\"h\"}";
		struct cp_diag d;
		cp_diag_init(&d);
		tu_validate_text(obj, sizeof(obj) - 1, 0, &d);
		assert_only_finding(&d, CP_SEV_WARNING, "custom-object", "/type");
		cp_diag_clear(&d);
		tu_validate_text(sco, sizeof(sco) - 1, 0, &d);
		assert_only_finding(&d, CP_SEV_WARNING, "custom-object", "/type");
		cp_diag_release(&d);
	}
}

static void missing_id_reported_once(void **state)
{
	struct cp_diag d;
	(void)state;

	cp_diag_init(&d);
	tu_validate_patched(IND_JSON, NULL, "id", 0, &d);
	assert_finding(&d, CP_SEV_ERROR, "missing-property", "/id");
	assert_int_equal(d.count, 1);
	cp_diag_release(&d);
}

static void bundle_rules(void **state)
{
	static const char *const bad_id = "{\"type\":\"bundle\",\"id\":\"" IND_ID "\"}";
	static const char *const sv =
	        "{\"type\":\"bundle\",\"id\":\"bundle--" UUID4 "\",\"spec_version\":\"2.0\"}";
	static const char *const extra =
	        "{\"type\":\"bundle\",\"id\":\"bundle--" UUID4 "\",\"x_note\":1}";
	static const char *const objs =
	        "{\"type\":\"bundle\",\"id\":\"bundle--" UUID4 "\",\"objects\":{}}";
	static const char *const nested_b = "{\"type\":\"bundle\",\"id\":\"bundle--" UUID4
	                                    "\",\"objects\":[{\"type\":\"bundle\",\"id\":"
	                                    "\"bundle--" UUID4 "\"}]}";
	static const char *const no_id = "{\"type\":\"bundle\",\"objects\":[" IP4_JSON "]}";
	struct cp_diag d;
	(void)state;

	cp_diag_init(&d);
	tu_validate_text(bad_id, strlen(bad_id), 0, &d);
	assert_only_finding(&d, CP_SEV_ERROR, "id-type", "/id");
	cp_diag_clear(&d);
	tu_validate_text(sv, strlen(sv), 0, &d);
	assert_only_finding(&d, CP_SEV_WARNING, "bundle-spec-version", "/spec_version");
	cp_diag_clear(&d);
	tu_validate_text(extra, strlen(extra), 0, &d);
	assert_only_finding(&d, CP_SEV_WARNING, "unknown-property", "/x_note");
	cp_diag_clear(&d);
	tu_validate_text(objs, strlen(objs), 0, &d);
	assert_only_finding(&d, CP_SEV_ERROR, "type-mismatch", "/objects");
	cp_diag_clear(&d);
	tu_validate_text(nested_b, strlen(nested_b), 0, &d);
	assert_only_finding(&d, CP_SEV_ERROR, "nested-bundle", "/objects/0/type");
	cp_diag_clear(&d);
	tu_validate_text(no_id, strlen(no_id), 0, &d);
	assert_only_finding(&d, CP_SEV_ERROR, "missing-property", "/id");
	cp_diag_clear(&d);
	tu_validate_text("[{\"type\":\"bundle\"}]", 19, 0, &d);
	assert_only_finding(&d, CP_SEV_ERROR, "nested-bundle", "/0/type");
	cp_diag_release(&d);
}

static void findings_of_many_objects(void **state)
{
	/* pointers name the right object in a bundle; validation does not stop early */
	static const char text[] =
	        "{\"type\":\"bundle\",\"id\":\"bundle--" UUID4 "\",\"objects\":[" IP4_JSON
	        "," IDN_JSON ","
	        "{\"type\":\"identity\",\"spec_version\":\"2.0\",\"id\":\"" IDN_ID "\","
	        "\"created\":\"2015-01-01T00:00:00.000Z\",\"modified\":\"2014-01-01T00:00:00."
	        "000Z\","
	        "\"name\":\"x\",\"confidence\":200}]}";
	struct cp_diag d;
	(void)state;

	cp_diag_init(&d);
	tu_validate_text(text, sizeof(text) - 1, 0, &d);
	assert_finding(&d, CP_SEV_ERROR, "spec-version", "/objects/2/spec_version");
	assert_finding(&d, CP_SEV_ERROR, "time-order", "/objects/2/modified");
	assert_finding(&d, CP_SEV_ERROR, "out-of-range", "/objects/2/confidence");
	assert_int_equal(d.count, 3);
	assert_int_equal(d.errors, 3);
	cp_diag_release(&d);
}

/* -------------------------------------------------- allocation failure */

/*
 * Fail the n-th allocation and all after it, for n = 1, 2, ... until the call succeeds
 * under injection: each run must end in CP_OK or CP_ENOMEM, with no crash and no leak
 * (ASan), and success must mean nothing was lost (same findings as without injection).
 */
static void torture_validate(const char *text, size_t len)
{
	struct cp_diag base;
	json_t *doc = NULL;
	unsigned long n;
	bool done = false;

	cp_diag_init(&base);
	assert_int_equal(cp_stix_json_parse(text, len, &doc, &base), CP_OK);
	assert_int_equal(cp_stix_validate(doc, 0, &base), CP_OK);
	for (n = 1; !done && n < 100000; n++) {
		struct cp_diag d;
		enum cp_err err;

		cp_diag_init(&d);
		cp_alloc_fail_after(n, true);
		err = cp_stix_validate(doc, 0, &d);
		cp_alloc_fail_after(0, false);
		if (err != CP_OK && err != CP_ENOMEM) {
			tu_dump(&d);
			fail_msg("allocation %lu failing gave %s", n, cp_err_name(err));
		}
		if (err == CP_OK) {
			if (d.count != base.count) {
				tu_dump(&d);
				fail_msg("allocation %lu failing: CP_OK with %zu findings, not %zu",
				         n, d.count, base.count);
			}
			assert_int_equal(d.errors, base.errors);
			assert_int_equal(d.warnings, base.warnings);
			for (size_t i = 0; i < d.count; i++) {
				assert_string_equal(d.items[i].code, base.items[i].code);
				assert_string_equal(d.items[i].pointer, base.items[i].pointer);
				assert_string_equal(d.items[i].message, base.items[i].message);
			}
			done = true;
		}
		cp_diag_release(&d);
	}
	assert_true(done);
	json_decref(doc);
	cp_diag_release(&base);
}

static void alloc_torture_validate(void **state)
{
	static const char with_findings[] =
	        "{\"type\":\"bundle\",\"id\":\"bundle--" UUID4 "\",\"spec_version\":\"2.1\","
	        "\"objects\":[" IND_JSON ","
	        "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--" UUID1 "\",\"value\":\"10.0.0.1\","
	        "\"created\":\"2016-04-06T20:03:48.000Z\",\"x_a/b\":1},"
	        "{\"type\":\"identity\",\"spec_version\":\"2.0\",\"id\":\"" IND_ID "\","
	        "\"created\":\"2015-01-01T00:00:00Z\",\"modified\":\"2014-01-01T00:00:00.000Z\","
	        "\"name\":\"x\",\"confidence\":200,\"labels\":[],\"created_by_ref\":\"" IND_ID "\","
	        "\"external_references\":[{\"source_name\":\"capec\",\"external_id\":\"1\","
	        "\"hashes\":{\"sha256\":\"00\",\"MD5\":\"0\"}}],"
	        "\"granular_markings\":[{\"selectors\":[\"nope\"]}],"
	        "\"extensions\":{\"" EXTDEF "\":{\"rank\":1}},\"x_bad_ref\":\"no\"}]}";
	(void)state;

	torture_validate(bundle_text, sizeof(bundle_text) - 1);
	torture_validate(with_findings, sizeof(with_findings) - 1);
}

static void alloc_torture_parse(void **state)
{
	unsigned long n;
	bool done = false, misreported = false;
	(void)state;

	for (n = 1; !done && n < 100000; n++) {
		struct cp_diag d;
		json_t *j = NULL;
		enum cp_err err;

		cp_diag_init(&d);
		cp_alloc_fail_after(n, true);
		err = cp_stix_json_parse(bundle_text, sizeof(bundle_text) - 1, &j, &d);
		if (!err)
			err = cp_stix_validate(j, 0, &d);
		cp_alloc_fail_after(0, false);
		json_decref(j);
		if (err == CP_EPARSE)
			misreported = true;
		else if (err != CP_OK && err != CP_ENOMEM)
			fail_msg("allocation %lu failing gave %s", n, cp_err_name(err));
		done = err == CP_OK;
		if (done)
			assert_int_equal(d.count, 0);
		cp_diag_release(&d);
	}
	assert_true(done);
	assert_true(n > 100); /* the loop really failed allocations inside jansson */
	/* jansson reports many allocation failures as syntax errors; cp_stix_json_parse
	 * must still say CP_ENOMEM (it counts the thread's failed allocations) */
	assert_false(misreported);
}

static void alloc_torture_object_new(void **state)
{
	json_t *j = json_loads(IND_JSON, 0, NULL);
	bool done = false;
	(void)state;

	assert_non_null(j);
	for (unsigned long n = 1; !done && n < 10000; n++) {
		struct cp_stix_object *o = NULL;
		struct cp_diag d;
		enum cp_err err;

		cp_diag_init(&d);
		cp_alloc_fail_after(n, true);
		err = cp_stix_object_new(j, 0, &d, &o);
		cp_alloc_fail_after(0, false);
		if (err == CP_OK) {
			assert_non_null(o);
			assert_string_equal(cp_stix_object_id(o), IND_ID);
			cp_stix_object_unref(o);
			done = true;
		} else {
			assert_int_equal(err, CP_ENOMEM);
			assert_null(o);
		}
		cp_diag_release(&d);
	}
	assert_true(done);
	json_decref(j);
}

/* ----------------------------------------------------- the object model */

static struct cp_stix_object *make(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	struct cp_stix_object *o = NULL;
	struct cp_diag d;
	enum cp_err err;

	assert_non_null(j);
	cp_diag_init(&d);
	err = cp_stix_object_new(j, 0, &d, &o);
	if (err) {
		tu_dump(&d);
		fail_msg("cp_stix_object_new: %s", cp_err_name(err));
	}
	cp_diag_release(&d);
	json_decref(j); /* the object holds its own reference */
	return o;
}

static void object_accessors(void **state)
{
	struct cp_stix_object *o = make(IND_JSON), *s = make(IP4_JSON), *r;
	struct cp_time t;
	char out[CP_TIME_TEXT_MAX];
	(void)state;

	assert_string_equal(cp_stix_object_id(o), IND_ID);
	assert_string_equal(cp_stix_object_type(o), "indicator");
	assert_int_equal(cp_stix_object_kind(o), CP_STIX_SDO);
	assert_string_equal(cp_stix_object_spec_version(o), "2.1");
	assert_true(cp_stix_object_created(o, &t));
	cp_time_format(&t, out);
	assert_string_equal(out, "2016-04-06T20:03:48.000Z");
	assert_true(cp_stix_object_modified(o, &t));
	assert_false(cp_stix_object_is_revoked(o));
	assert_string_equal(json_string_value(json_object_get(cp_stix_object_json(o), "name")),
	                    "C2 address");

	assert_string_equal(cp_stix_object_type(s), "ipv4-addr");
	assert_int_equal(cp_stix_object_kind(s), CP_STIX_SCO);
	assert_false(cp_stix_object_created(s, &t));
	assert_false(cp_stix_object_modified(s, &t));

	/* ref/unref: the object lives until the last reference goes */
	r = cp_stix_object_ref(o);
	assert_ptr_equal(r, o);
	cp_stix_object_unref(o);
	assert_string_equal(cp_stix_object_id(r), IND_ID);
	cp_stix_object_unref(r);
	cp_stix_object_unref(s);
	cp_stix_object_unref(NULL);
	assert_null(cp_stix_object_ref(NULL));

	/* revoked, SRO kind, spec_version default for SCOs without one */
	{
		static const char rev[] =
		        "{\"type\":\"relationship\",\"spec_version\":\"2.1\","
		        "\"id\":\"" REL_ID "\",\"created\":\"2016-04-06T20:06:37.000Z\","
		        "\"modified\":\"2016-04-06T20:06:37.000Z\",\"revoked\":true,"
		        "\"relationship_type\":\"related-to\",\"source_ref\":\"" IND_ID
		        "\",\"target_ref\":\"" IP4_ID "\"}";
		static const char nosv[] =
		        "{\"type\":\"ipv4-addr\",\"id\":\"" IP4_ID "\",\"value\":\"198.51.100.3\"}";
		o = make(rev);
		assert_true(cp_stix_object_is_revoked(o));
		assert_int_equal(cp_stix_object_kind(o), CP_STIX_SRO);
		cp_stix_object_unref(o);
		o = make(nosv);
		assert_string_equal(cp_stix_object_spec_version(o), "2.1");
		cp_stix_object_unref(o);
	}
}

static void object_new_rejects(void **state)
{
	struct cp_stix_object *o = (struct cp_stix_object *)&o; /* must stay untouched */
	struct cp_stix_object *const sentinel = o;
	json_t *bad = json_loads("{\"type\":\"indicator\",\"id\":\"x\"}", 0, NULL);
	json_t *arr = json_loads("[1]", 0, NULL);
	json_t *bundle = json_loads(bundle_text, 0, NULL);
	struct cp_diag d;
	(void)state;

	cp_diag_init(&d);
	assert_int_equal(cp_stix_object_new(bad, 0, &d, &o), CP_EINVAL);
	assert_ptr_equal(o, sentinel);
	assert_true(d.errors > 0);
	assert_finding(&d, CP_SEV_ERROR, "id-format", "/id");
	/* without a diag */
	assert_int_equal(cp_stix_object_new(bad, 0, NULL, &o), CP_EINVAL);
	assert_int_equal(cp_stix_object_new(arr, 0, NULL, &o), CP_EINVAL);
	/* a bundle is not a single object */
	cp_diag_clear(&d);
	assert_int_equal(cp_stix_object_new(bundle, 0, &d, &o), CP_EINVAL);
	assert_finding(&d, CP_SEV_ERROR, "nested-bundle", "/type");
	assert_ptr_equal(o, sentinel);
	/* warnings alone do not stop it */
	cp_diag_clear(&d);
	{
		json_t *w = json_loads(IND_JSON, 0, NULL);
		json_object_set_new(w, "toxicity", json_string("high"));
		o = NULL;
		assert_int_equal(cp_stix_object_new(w, 0, &d, &o), CP_OK);
		assert_finding(&d, CP_SEV_WARNING, "unknown-property", "/toxicity");
		/* it shares, not copies, the JSON */
		assert_ptr_equal(cp_stix_object_json(o), w);
		json_decref(w);
		cp_stix_object_unref(o);
	}
	cp_diag_release(&d);
	json_decref(bad);
	json_decref(arr);
	json_decref(bundle);
}

static struct cp_stix_object *ind_version(const char *created, const char *modified)
{
	char text[2048];
	snprintf(text, sizeof(text),
	         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND_ID "\","
	         "\"created\":\"%s\",\"modified\":\"%s\",\"pattern\":\"[ipv4-addr:value = "
	         "'198.51.100.3']\",\"pattern_type\":\"stix\",\"valid_from\":"
	         "\"2016-01-01T00:00:00Z\"}",
	         created, modified);
	return make(text);
}

static void object_versions(void **state)
{
	struct cp_stix_object *v1 =
	        ind_version("2016-04-06T20:03:48.000Z", "2016-04-06T20:03:48.000Z");
	struct cp_stix_object *v2 =
	        ind_version("2016-04-06T20:03:48.000Z", "2017-01-01T00:00:00.000Z");
	struct cp_stix_object *v2b =
	        ind_version("2016-04-06T20:03:48.000Z", "2017-01-01T00:00:00.000000Z");
	struct cp_stix_object *v1b =
	        ind_version("2016-04-06T20:03:48.000Z", "2016-04-06T20:03:48.000Z");
	struct cp_stix_object *other = make(IDN_JSON);
	struct cp_stix_object *sco = make(IP4_JSON);
	(void)state;

	/* same id, different modified */
	assert_true(cp_stix_version_cmp(v1, v2) < 0);
	assert_true(cp_stix_version_cmp(v2, v1) > 0);
	assert_false(cp_stix_same_version(v1, v2));
	/* equal */
	assert_int_equal(cp_stix_version_cmp(v1, v1b), 0);
	assert_true(cp_stix_same_version(v1, v1b));
	assert_true(cp_stix_same_version(v1, v1));
	/* different precision, same instant */
	assert_int_equal(cp_stix_version_cmp(v2, v2b), 0);
	assert_true(cp_stix_same_version(v2, v2b));
	/* different ids are never the same version, and order consistently */
	assert_false(cp_stix_same_version(v1, other));
	assert_true(cp_stix_version_cmp(v1, other) != 0);
	assert_true((cp_stix_version_cmp(v1, other) > 0) == (cp_stix_version_cmp(other, v1) < 0));
	/* objects without created/modified have a single version */
	assert_true(cp_stix_same_version(sco, sco));
	cp_stix_object_unref(v1);
	cp_stix_object_unref(v2);
	cp_stix_object_unref(v2b);
	cp_stix_object_unref(v1b);
	cp_stix_object_unref(other);
	cp_stix_object_unref(sco);
}

/* ---------------------------------------------------------- identifiers */

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void id_new(void **state)
{
	char a[CP_STIX_ID_MAX], b[CP_STIX_ID_MAX];
	size_t tlen = 0;
	(void)state;

	assert_int_equal(cp_stix_id_new("indicator", a), CP_OK);
	assert_int_equal(cp_stix_id_new("indicator", b), CP_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(strlen(a), strlen("indicator--") + 36);
	assert_int_equal(strncmp(a, "indicator--", 11), 0);
	assert_true(cp_stix_id_is_valid(a, &tlen));
	assert_int_equal(tlen, 9);
	{
		const char *u = a + 11;
		for (size_t i = 0; i < 36; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				assert_int_equal(u[i], '-');
			else
				assert_true(is_lower_hex(u[i]));
		}
		assert_int_equal(u[14], '4');           /* version 4 */
		assert_non_null(strchr("89ab", u[19])); /* RFC 4122 variant */
	}
	/* a long custom type fits CP_STIX_ID_MAX */
	{
		char type[CP_LIMIT_TYPE_LEN + 1];
		char id[CP_STIX_ID_MAX];
		memset(type, 'a', CP_LIMIT_TYPE_LEN);
		type[CP_LIMIT_TYPE_LEN] = '\0';
		assert_int_equal(cp_stix_id_new(type, id), CP_OK);
		assert_true(cp_stix_id_is_valid(id, NULL));
	}
	assert_int_equal(cp_stix_id_new("Bad", a), CP_EINVAL);
	assert_int_equal(cp_stix_id_new("my--type", a), CP_EINVAL);
	assert_int_equal(cp_stix_id_new("", a), CP_EINVAL);
}

static void id_is_valid(void **state)
{
	size_t tlen = 99;
	(void)state;

	assert_true(cp_stix_id_is_valid(IND_ID, &tlen));
	assert_int_equal(tlen, 9);
	assert_true(cp_stix_id_is_valid("x-acme-case--" UUID1, &tlen));
	assert_int_equal(tlen, 11);
	assert_true(cp_stix_id_is_valid("indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F", NULL));
	assert_true(cp_stix_id_is_valid("indicator--8e2e2d2b-17d4-4cbf-A38f-98ee46b3cd3f", NULL));
	/* UUIDv5 and other versions are fine; the variant must be RFC 4122's */
	assert_true(cp_stix_id_is_valid(IP4_ID, NULL));
	tlen = 99;
	assert_false(cp_stix_id_is_valid("indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f", &tlen));
	assert_int_equal(tlen, 99); /* untouched on failure */
	assert_false(cp_stix_id_is_valid("indicator--8e2e2d2b-17d4-4cbf-738f-98ee46b3cd3f", NULL));
	assert_false(cp_stix_id_is_valid("indicator--8e2e2d2b-17d4-4cbf-f38f-98ee46b3cd3f", NULL));
	/* dashes */
	assert_false(cp_stix_id_is_valid("indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f", NULL));
	assert_false(cp_stix_id_is_valid("indicator--8e2e2d2b-17d4-4cbf-938f98ee46b3cd3f-", NULL));
	assert_false(cp_stix_id_is_valid("indicator--8e2e2d2b-17d44-cbf-938f-98ee46b3cd3f", NULL));
	assert_false(cp_stix_id_is_valid("indicator-" UUID1, NULL));
	assert_false(cp_stix_id_is_valid("indicator---" UUID1, NULL));
	assert_false(cp_stix_id_is_valid("indicator" UUID1, NULL));
	/* type with '--' */
	assert_false(cp_stix_id_is_valid("attack--pattern--" UUID1, NULL));
	assert_false(cp_stix_id_is_valid("my--type--" UUID1, NULL));
	/* type rules */
	assert_false(cp_stix_id_is_valid("Indicator--" UUID1, NULL));
	assert_false(cp_stix_id_is_valid("ab--" UUID1, NULL));
	assert_false(cp_stix_id_is_valid("--" UUID1, NULL));
	assert_false(cp_stix_id_is_valid("in_dicator--" UUID1, NULL));
	assert_false(cp_stix_id_is_valid("indicator---" UUID1, NULL));
	/* UUID length and characters */
	assert_false(cp_stix_id_is_valid("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3", NULL));
	assert_false(cp_stix_id_is_valid("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f0", NULL));
	assert_false(cp_stix_id_is_valid("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3g", NULL));
	assert_false(
	        cp_stix_id_is_valid("indicator--{8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f}", NULL));
	assert_false(cp_stix_id_is_valid("indicator--", NULL));
	assert_false(cp_stix_id_is_valid("", NULL));
	assert_false(cp_stix_id_is_valid(UUID1, NULL));
	/* a 251-character type */
	{
		char id[400];
		memset(id, 'a', 251);
		snprintf(id + 251, sizeof(id) - 251, "--%s", UUID1);
		assert_false(cp_stix_id_is_valid(id, NULL));
		snprintf(id + 250, sizeof(id) - 250, "--%s", UUID1);
		assert_true(cp_stix_id_is_valid(id, NULL));
	}
}

static void kinds(void **state)
{
	(void)state;
	assert_int_equal(cp_stix_kind_of("bundle"), CP_STIX_BUNDLE);
	assert_int_equal(cp_stix_kind_of("indicator"), CP_STIX_SDO);
	assert_int_equal(cp_stix_kind_of("identity"), CP_STIX_SDO);
	assert_int_equal(cp_stix_kind_of("relationship"), CP_STIX_SRO);
	assert_int_equal(cp_stix_kind_of("ipv4-addr"), CP_STIX_SCO);
	assert_int_equal(cp_stix_kind_of("x-acme-case"), CP_STIX_CUSTOM);
	assert_string_equal(cp_stix_kind_name(CP_STIX_SDO), "sdo");
	assert_string_equal(cp_stix_kind_name(CP_STIX_SRO), "sro");
	assert_string_equal(cp_stix_kind_name(CP_STIX_SCO), "sco");
	assert_string_equal(cp_stix_kind_name(CP_STIX_META), "meta");
	assert_string_equal(cp_stix_kind_name(CP_STIX_BUNDLE), "bundle");
	assert_string_equal(cp_stix_kind_name(CP_STIX_CUSTOM), "custom");
	assert_string_equal(cp_stix_kind_name(CP_STIX_KIND_UNKNOWN), "unknown");
}

static void sco_id(void **state)
{
	json_t *j = json_loads(IP4_JSON, 0, NULL);
	json_t *ind = json_loads(IND_JSON, 0, NULL);
	json_t *empty = json_loads("{\"type\":\"ipv4-addr\"}", 0, NULL);
	json_t *notype = json_loads("{\"value\":\"1.2.3.4\"}", 0, NULL);
	char out[CP_STIX_ID_MAX];
	(void)state;

	assert_int_equal(cp_stix_sco_id(j, out), CP_OK);
	assert_string_equal(out, IP4_ID);
	assert_int_equal(cp_stix_sco_id(ind, out), CP_ENOTFOUND);
	assert_int_equal(cp_stix_sco_id(empty, out), CP_ENOTFOUND);
	assert_int_equal(cp_stix_sco_id(notype, out), CP_EINVAL);
	/* the flag turns the check off */
	{
		struct cp_diag d;
		cp_diag_init(&d);
		tu_validate_patched(IP4_JSON, "{\"id\":\"ipv4-addr--" UUID1 "\"}", NULL,
		                    CP_STIX_NO_SCO_ID, &d);
		assert_clean(&d);
		cp_diag_release(&d);
	}
	json_decref(j);
	json_decref(ind);
	json_decref(empty);
	json_decref(notype);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(bundle_is_clean),
	        cmocka_unit_test(truncated_at_every_length),
	        cmocka_unit_test(syntax_error_position),
	        cmocka_unit_test(nesting_limit),
	        cmocka_unit_test(nesting_ten_thousand),
	        cmocka_unit_test(json_scanner),
	        cmocka_unit_test(twenty_megabyte_string),
	        cmocka_unit_test(long_bad_value_is_reported),
	        cmocka_unit_test(nul_and_bad_utf8),
	        cmocka_unit_test(duplicate_keys),
	        cmocka_unit_test(non_object_entries),
	        cmocka_unit_test(empty_things),
	        cmocka_unit_test(wrong_json_types),
	        cmocka_unit_test(type_and_id_rules),
	        cmocka_unit_test(common_property_rules),
	        cmocka_unit_test(external_reference_rules),
	        cmocka_unit_test(granular_marking_rules),
	        cmocka_unit_test(marking_self_reference),
	        cmocka_unit_test(extension_rules),
	        cmocka_unit_test(custom_content_rules),
	        cmocka_unit_test(missing_id_reported_once),
	        cmocka_unit_test(bundle_rules),
	        cmocka_unit_test(findings_of_many_objects),
	        cmocka_unit_test(alloc_torture_validate),
	        cmocka_unit_test(alloc_torture_parse),
	        cmocka_unit_test(alloc_torture_object_new),
	        cmocka_unit_test(object_accessors),
	        cmocka_unit_test(object_new_rejects),
	        cmocka_unit_test(object_versions),
	        cmocka_unit_test(id_new),
	        cmocka_unit_test(id_is_valid),
	        cmocka_unit_test(kinds),
	        cmocka_unit_test(sco_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
