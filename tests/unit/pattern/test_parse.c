#include "testutil.h"
#include "cyberpact/limits.h"
#include "cyberpact/pattern.h"

/* Parse p; on success print it canonically into *canon (malloc'd). */
static enum cp_err parse(const char *p, char **canon, struct cp_diag *d)
{
	struct cp_pattern *pat = NULL;
	enum cp_err err = cp_pattern_parse(p, strlen(p), &pat, d);

	if (!err && canon) {
		struct cp_buf b = CP_BUF_INIT(0);
		assert_int_equal(cp_pattern_print(pat, &b), CP_OK);
		*canon = cp_buf_take(&b);
	}
	cp_pattern_free(pat);
	return err;
}

/* p parses, prints as want (or p when want is NULL), and the print parses to an equal tree. */
static void roundtrip(const char *p, const char *want)
{
	struct cp_diag d;
	struct cp_pattern *a = NULL, *b = NULL;
	struct cp_buf out = CP_BUF_INIT(0);

	cp_diag_init(&d);
	if (cp_pattern_parse(p, strlen(p), &a, &d) != CP_OK) {
		tu_dump(&d);
		fail_msg("does not parse: %s", p);
	}
	assert_int_equal(cp_pattern_print(a, &out), CP_OK);
	assert_string_equal(out.ptr, want ? want : p);
	assert_int_equal(cp_pattern_parse(out.ptr, out.len, &b, &d), CP_OK);
	assert_true(cp_pattern_equal(a, b));
	cp_pattern_free(a);
	cp_pattern_free(b);
	cp_buf_release(&out);
	cp_diag_release(&d);
}

/* p fails with an error of this code at this column (1-based, code points). */
static void fails(const char *p, const char *code, unsigned column, const char *msg_part)
{
	struct cp_diag d;
	const struct cp_finding *f;

	cp_diag_init(&d);
	assert_int_not_equal(parse(p, NULL, &d), CP_OK);
	f = tu_find(&d, CP_SEV_ERROR, code, NULL);
	if (!f) {
		tu_dump(&d);
		fail_msg("expected error [%s] for: %s", code, p);
	}
	if (f->column != column) {
		tu_dump(&d);
		fail_msg("expected column %u, got %u for: %s", column, f->column, p);
	}
	if (msg_part && !strstr(f->message, msg_part))
		fail_msg("message '%s' lacks '%s'", f->message, msg_part);
	assert_int_equal(f->line, 1);
	cp_diag_release(&d);
}

static void warns(const char *p, const char *code)
{
	struct cp_diag d;

	cp_diag_init(&d);
	assert_int_equal(parse(p, NULL, &d), CP_OK);
	assert_finding(&d, CP_SEV_WARNING, code, "");
	cp_diag_release(&d);
}

static void spec_examples(void **state)
{
	size_t len;
	char *text = tu_read_shared("stix21/patterns/spec_examples.txt", &len);
	char *line, *save = NULL;
	int n = 0;

	(void)state;
	if (!text)
		skip();
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct cp_diag d;
		struct cp_pattern *a = NULL, *b = NULL;
		struct cp_buf out = CP_BUF_INIT(0);
		if (!*line)
			continue;
		cp_diag_init(&d);
		if (cp_pattern_parse(line, strlen(line), &a, &d) != CP_OK) {
			tu_dump(&d);
			fail_msg("spec example does not parse: %s", line);
		}
		assert_int_equal(cp_pattern_print(a, &out), CP_OK);
		assert_int_equal(cp_pattern_parse(out.ptr, out.len, &b, &d), CP_OK);
		assert_true(cp_pattern_equal(a, b));
		cp_pattern_free(a);
		cp_pattern_free(b);
		cp_buf_release(&out);
		cp_diag_release(&d);
		n++;
	}
	assert_int_equal(n, 23);
	free(text);
}

static void canonical_forms(void **state)
{
	(void)state;
	roundtrip("[ipv4-addr:value = '10.0.0.1']", NULL);
	/* whitespace, == and <> spellings, comments */
	roundtrip("  [ ipv4-addr:value=='10.0.0.1' ]  ", "[ipv4-addr:value = '10.0.0.1']");
	roundtrip("[ipv4-addr:value <> '10.0.0.1']", "[ipv4-addr:value != '10.0.0.1']");
	roundtrip("/* c */ [ipv4-addr:value = 'a'] // trailing\n", "[ipv4-addr:value = 'a']");
	roundtrip("[ipv4-addr:value\t=\r\n'a']", "[ipv4-addr:value = 'a']");
	/* unicode white space U+00A0 and U+3000 */
	roundtrip("[ipv4-addr:value\xc2\xa0=\xe3\x80\x80'a']", "[ipv4-addr:value = 'a']");
	/* escapes survive */
	roundtrip("[file:name = 'it\\'s \\\\ here']", NULL);
	/* keys: quoted only when needed */
	roundtrip("[file:'name' = 'a']", "[file:name = 'a']");
	roundtrip("[file:hashes.'SHA-256' = 'a']", NULL);
	roundtrip("[file:hashes.'a.b' = 'a']", NULL);
	roundtrip("[x-thing:'x-y'[0].z[*] = 1]", NULL);
	/* minimal parentheses, left associativity */
	roundtrip("[a-b:c = 1 AND (a-b:d = 2 OR a-b:e = 3)]", NULL);
	roundtrip("[(a-b:c = 1 AND a-b:d = 2) OR a-b:e = 3]", "[a-b:c = 1 AND a-b:d = 2 OR a-b:e = 3]");
	roundtrip("[a-b:c = 1 OR (a-b:d = 2 OR a-b:e = 3)]", NULL);
	roundtrip("([a-b:c = 1] AND [a-b:d = 2]) OR [a-b:e = 3]", "[a-b:c = 1] AND [a-b:d = 2] OR [a-b:e = 3]");
	roundtrip("[a-b:c = 1] AND ([a-b:d = 2] OR [a-b:e = 3])", NULL);
	roundtrip("[a-b:c = 1] FOLLOWEDBY ([a-b:d = 2] FOLLOWEDBY [a-b:e = 3])", NULL);
	/* qualifiers bind to the expression just before them */
	roundtrip("[a-b:c = 1] AND [a-b:d = 2] WITHIN 5 SECONDS", NULL);
	roundtrip("([a-b:c = 1] AND [a-b:d = 2]) WITHIN 5.5 SECONDS", NULL);
	roundtrip("[a-b:c = 1] REPEATS 3 TIMES WITHIN 10 SECONDS", NULL);
	roundtrip("[a-b:c = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.000Z'", NULL);
	/* literal kinds */
	roundtrip("[a-b:c = -5 OR a-b:c = 0 OR a-b:c = 3.25 OR a-b:c = -.5]", NULL);
	roundtrip("[a-b:c = +3]", "[a-b:c = 3]");
	roundtrip("[a-b:c = true OR a-b:c != false]", NULL);
	roundtrip("[a-b:c_hex = h'DEADbeef']", "[a-b:c_hex = h'deadbeef']");
	roundtrip("[a-b:c_bin = b'aGVsbG8=']", NULL);
	roundtrip("[a-b:c_bin = b'aGVs\nbG8=']", "[a-b:c_bin = b'aGVsbG8=']");
	roundtrip("[a-b:c = t'2016-06-01T01:02:03.120Z']", NULL);
	roundtrip("[a-b:c IN ('a', 'b', 'c')]", NULL);
	roundtrip("[a-b:c IN (1, 2.5)]", NULL);
	roundtrip("[a-b:c IN ()]", NULL);
	roundtrip("[a-b:c NOT IN ('a')]", NULL);
	roundtrip("[a-b:c LIKE 'a%_b' AND a-b:c NOT MATCHES '^x.*$']", NULL);
	roundtrip("[ipv4-addr:value ISSUBSET '10.0.0.0/8' OR ipv6-addr:value ISSUPERSET '2001:db8::1']", NULL);
	roundtrip("[EXISTS a-b:c AND NOT EXISTS a-b:d]", NULL);
	roundtrip("[a-b:c NOT = 1 AND a-b:d NOT >= 2]", NULL);
	/* keywords as property names */
	roundtrip("[a-b:AND = 1]", NULL);
	roundtrip("[a-b:values[-1] = 1]", NULL);
}

static void syntax_errors(void **state)
{
	(void)state;
	fails("", "pattern-syntax", 1, "starting an observation");
	fails("ipv4-addr:value = 'a'", "pattern-syntax", 1, "'['");
	fails("[ipv4-addr:value = 'a'", "pattern-syntax", 23, "']'");
	fails("[ipv4-addr:value = 'a'] AND", "pattern-syntax", 28, NULL);
	fails("[ipv4-addr:value = 'a'] [ipv4-addr:value = 'b']", "pattern-syntax", 25, NULL);
	fails("[ipv4-addr:value 'a']", "pattern-syntax", 18, "comparison operator");
	fails("[ipv4-addr = 'a']", "pattern-syntax", 12, "':'");
	fails("[ipv4-addr:value = ]", "pattern-syntax", 20, "constant");
	fails("[ipv4-addr:value = 'a]", "pattern-syntax", 20, "unterminated");
	fails("[file:name = 'a\\q']", "pattern-syntax", 16, "escape");
	fails("[file:hashes.SHA-256 = 'a']", "pattern-syntax", 14, "quoted");
	fails("[file:size = 007]", "pattern-syntax", 14, "leading zeros");
	fails("[file:size = 1.]", "pattern-syntax", 14, "digits");
	fails("[file:size = 1e5]", "pattern-syntax", 15, NULL);
	fails("[file:x_hex = h'abc']", "pattern-syntax", 15, "even");
	fails("[file:x_hex = h'zz']", "pattern-syntax", 17, "0-9");
	fails("[file:x_bin = b'abc']", "pattern-syntax", 15, "base64");
	fails("[file:x_bin = b'ab=c']", "pattern-syntax", 20, "base64");
	fails("[file:x = t'2016-13-01T00:00:00Z']", "pattern-syntax", 13, "timestamp");
	fails("[file:x = t'2016-02-30T00:00:00Z']", "pattern-syntax", 13, "timestamp");
	fails("[file:x = t'2016-01-01 00:00:00Z']", "pattern-syntax", 13, "timestamp");
	fails("[file:x = 1] WITHIN 5 MINUTES", "pattern-syntax", 23, "SECONDS");
	fails("[file:x = 1] WITHIN SECONDS", "pattern-syntax", 21, "number");
	fails("[file:x = 1] REPEATS 1.5 TIMES", "pattern-syntax", 22, "integer");
	fails("[file:x = 1] START '2016' STOP t'2016-01-01T00:00:00Z'", "pattern-syntax", 20, "timestamp");
	fails("[file:x = 1] @", "pattern-syntax", 14, "'@'");
	fails("[file:x = 1 /* open", "pattern-syntax", 13, "comment");
	fails("[file:x = 'caf\xc3']", "pattern-syntax", 15, "UTF-8");
	fails("[file:x[a] = 1]", "pattern-syntax", 9, "list index");
	fails("[NOT file:x = 1]", "pattern-syntax", 6, "EXISTS");
	fails("[file:x < true]", "pattern-semantic", 11, "booleans");
	fails("[file:x IN 'a']", "pattern-syntax", 12, "'('");
	fails("[file:x IN ('a' 'b')]", "pattern-syntax", 17, NULL);
	fails("[file:x LIKE 5]", "pattern-syntax", 14, "string");
}

static void semantic_errors(void **state)
{
	(void)state;
	fails("[ipv4-addr:value = 'a' AND domain-name:value = 'b']", "pattern-semantic", 28,
	      "same object");
	fails("[(ipv4-addr:value = 'a' OR domain-name:value = 'b') AND url:value = 'c']",
	      "pattern-semantic", 57, "same object");
	fails("[file:x = 1] WITHIN 0 SECONDS", "pattern-semantic", 21, "positive");
	fails("[file:x = 1] WITHIN -5 SECONDS", "pattern-semantic", 21, "positive");
	fails("[file:x = 1] REPEATS 0 TIMES", "pattern-semantic", 22, "positive");
	fails("[file:x = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", "pattern-semantic", 31, "only one");
	fails("[file:x = 1] REPEATS 2 TIMES REPEATS 3 TIMES", "pattern-semantic", 30, "only one");
	fails("[file:x = 1] START t'2016-01-01T00:00:00Z' STOP t'2016-02-01T00:00:00Z' "
	      "START t'2016-01-01T00:00:00Z' STOP t'2016-02-01T00:00:00Z'",
	      "pattern-semantic", 73, "only one");
	fails("[file:name MATCHES '(']", "pattern-semantic", 20, "PCRE");
	fails("[ipv4-addr:value ISSUBSET '10.0.0.0/33']", "pattern-semantic", 27, "CIDR");
	fails("[ipv4-addr:value ISSUBSET '10.0.0'] ", "pattern-semantic", 27, "CIDR");
	fails("[ipv6-addr:value ISSUPERSET 'fe80::/129']", "pattern-semantic", 29, "CIDR");
	fails("[file:x IN ('a', 1)]", "pattern-semantic", 12, "same type");
	fails("[File:name = 'a']", "pattern-semantic", 2, "object type");
	fails("[fi:name = 'a']", "pattern-semantic", 2, "object type");
	fails("[file_x:name = 'a']", "pattern-semantic", 2, "object type");
}

static void warnings(void **state)
{
	(void)state;
	warns("[file:size = +5]", "pattern-style");
	warns("[file:x[-1] = 5]", "pattern-style");
	warns("[file:x = 1] START t'2016-02-01T00:00:00Z' STOP t'2016-01-01T00:00:00Z'",
	      "pattern-style");
}

static void same_type_and_is_fine(void **state)
{
	struct cp_diag d;
	(void)state;
	cp_diag_init(&d);
	/* OR across types, AND on the common type of an OR */
	assert_int_equal(parse("[ipv4-addr:value = 'a' OR domain-name:value = 'b']", NULL, &d), CP_OK);
	assert_int_equal(parse("[(ipv4-addr:value = 'a' OR domain-name:value = 'b') AND "
			       "domain-name:resolves_to_refs[*].value = 'c']",
			       NULL, &d),
			 CP_OK);
	assert_clean(&d);
	cp_diag_release(&d);
}

static void multiline_location(void **state)
{
	struct cp_diag d;
	(void)state;
	cp_diag_init(&d);
	assert_int_equal(parse("[file:name = 'a']\nAND\n  [file:name = ]", NULL, &d), CP_EPARSE);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.items[0].line, 3);
	assert_int_equal(d.items[0].column, 16);
	cp_diag_release(&d);
}

static void limits(void **state)
{
	struct cp_diag d;
	char *deep, *big;
	size_t n = 5000, i;
	struct cp_pattern *p = NULL;

	(void)state;
	cp_diag_init(&d);
	/* deep parentheses: an error, not a stack overflow */
	deep = malloc(2 * n + 64);
	for (i = 0; i < n; i++)
		deep[i] = '(';
	memcpy(deep + n, "[file:x = 1]", 12);
	for (i = 0; i < n; i++)
		deep[n + 12 + i] = ')';
	assert_int_equal(cp_pattern_parse(deep, 2 * n + 12, &p, &d), CP_ETOOBIG);
	assert_finding(&d, CP_SEV_ERROR, "pattern-limit", "");
	/* deep inside brackets too */
	cp_diag_clear(&d);
	deep[0] = '[';
	memcpy(deep + 1, "file:x = 1", 10);
	assert_int_not_equal(cp_pattern_parse(deep, 11, &p, &d), CP_OK);
	free(deep);
	cp_diag_clear(&d);
	{
		struct cp_buf b = CP_BUF_INIT(0);
		cp_buf_putc(&b, '[');
		for (i = 0; i < 1000; i++)
			cp_buf_putc(&b, '(');
		cp_buf_puts(&b, "file:x = 1");
		for (i = 0; i < 1000; i++)
			cp_buf_putc(&b, ')');
		cp_buf_putc(&b, ']');
		assert_int_equal(cp_pattern_parse(b.ptr, b.len, &p, &d), CP_ETOOBIG);
		cp_buf_release(&b);
	}
	/* over the byte limit */
	cp_diag_clear(&d);
	big = malloc(CP_LIMIT_PATTERN_BYTES + 2);
	memset(big, ' ', CP_LIMIT_PATTERN_BYTES + 1);
	assert_int_equal(cp_pattern_parse(big, CP_LIMIT_PATTERN_BYTES + 1, &p, &d), CP_ETOOBIG);
	free(big);
	/* embedded NUL */
	cp_diag_clear(&d);
	assert_int_equal(cp_pattern_parse("[file:x = 'a\0b']", 16, &p, &d), CP_EPARSE);
	cp_diag_release(&d);
}

static void long_and_chain_is_linear(void **state)
{
	/* thousands of comparisons joined by OR parse without deep recursion */
	struct cp_buf b = CP_BUF_INIT(0);
	struct cp_pattern *p = NULL;
	struct cp_diag d;

	(void)state;
	cp_diag_init(&d);
	cp_buf_putc(&b, '[');
	for (int i = 0; i < 1500; i++)
		cp_buf_printf(&b, "%sipv4-addr:value = '10.0.%d.%d'", i ? " OR " : "", i / 256, i % 256);
	cp_buf_putc(&b, ']');
	assert_int_equal(cp_pattern_parse(b.ptr, b.len, &p, &d), CP_OK);
	assert_int_equal(cp_pattern_observation_count(p), 1);
	cp_pattern_free(p);
	cp_buf_release(&b);
	cp_diag_release(&d);
}

static void alloc_failures(void **state)
{
	const char *pat = "([file:hashes.'SHA-256' = 'ab' AND file:name MATCHES '^a.*$'] FOLLOWEDBY "
			  "[ipv4-addr:value ISSUBSET '10.0.0.0/8']) WITHIN 60 SECONDS";
	(void)state;
	for (unsigned long n = 1;; n++) {
		struct cp_pattern *p = NULL;
		struct cp_diag d;
		enum cp_err err;
		cp_diag_init(&d);
		cp_alloc_fail_after(n, true);
		err = cp_pattern_parse(pat, strlen(pat), &p, &d);
		cp_alloc_fail_after(0, false);
		cp_pattern_free(p);
		cp_diag_release(&d);
		if (err == CP_OK)
			break;
		/* pcre2 allocates with its own allocator, so only our allocations fail */
		assert_int_equal(err, CP_ENOMEM);
		assert_true(n < 10000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spec_examples),
		cmocka_unit_test(canonical_forms),
		cmocka_unit_test(syntax_errors),
		cmocka_unit_test(semantic_errors),
		cmocka_unit_test(warnings),
		cmocka_unit_test(same_type_and_is_fine),
		cmocka_unit_test(multiline_location),
		cmocka_unit_test(limits),
		cmocka_unit_test(long_and_chain_is_linear),
		cmocka_unit_test(alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
