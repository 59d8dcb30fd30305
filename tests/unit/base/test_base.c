/*
 * lib/base: RFC 3339 timestamps, bounded buffers, JSON pointers, allocation failure
 * injection, diagnostics, error names and the logging hook.
 */
#include <jansson.h>
#include <time.h>

#include "testutil.h"
#include "cyberpact/limits.h"

/* ------------------------------------------------------------ timestamps */

static struct cp_time parse_ok(const char *s)
{
	struct cp_time t = {0, 0, 0};
	const char *why = NULL;

	if (cp_time_parse(s, strlen(s), &t, &why) != CP_OK)
		fail_msg("'%s' should parse: %s", s, why ? why : "(no reason)");
	return t;
}

static void assert_time_text(const char *in, const char *want)
{
	struct cp_time t = parse_ok(in);
	char out[CP_TIME_TEXT_MAX];

	cp_time_format(&t, out);
	assert_string_equal(out, want);
}

static void time_fraction_digits_preserved(void **state)
{
	static const char *const forms[] = {
	        "2016-04-06T20:03:48Z",
	        "2016-04-06T20:03:48.1Z",
	        "2016-04-06T20:03:48.12Z",
	        "2016-04-06T20:03:48.123Z",
	        "2016-04-06T20:03:48.1234Z",
	        "2016-04-06T20:03:48.12345Z",
	        "2016-04-06T20:03:48.123456Z",
	        "2016-04-06T20:03:48.1234567Z",
	        "2016-04-06T20:03:48.12345678Z",
	        "2016-04-06T20:03:48.123456789Z",
	        /* trailing zeros are digits too and must survive */
	        "2016-04-06T20:03:48.000Z",
	        "2016-04-06T20:03:48.100Z",
	        "2016-04-06T20:03:48.000000000Z",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct cp_time t = parse_ok(forms[i]);
		const char *dot = strchr(forms[i], '.');
		size_t nd = dot ? strlen(dot) - 2 : 0;
		assert_int_equal(t.frac_digits, nd);
		assert_time_text(forms[i], forms[i]);
	}
}

static void time_values(void **state)
{
	struct cp_time t;
	(void)state;

	t = parse_ok("1970-01-01T00:00:00Z");
	assert_int_equal(t.sec, 0);
	assert_int_equal(t.nsec, 0);
	t = parse_ok("2016-04-06T20:03:48.123Z");
	assert_int_equal(t.sec, 1459973028);
	assert_int_equal(t.nsec, 123000000);
	t = parse_ok("2016-04-06T20:03:48.000000007Z");
	assert_int_equal(t.nsec, 7);
	/* negative epoch: one second before 1970 */
	t = parse_ok("1969-12-31T23:59:59Z");
	assert_true(t.sec == -1);
	assert_int_equal(t.nsec, 0);
	t = parse_ok("1969-12-31T23:59:59.5Z");
	assert_true(t.sec == -1);
	assert_int_equal(t.nsec, 500000000);
	assert_time_text("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.5Z");
	assert_time_text("1900-01-01T00:00:00Z", "1900-01-01T00:00:00Z");
	t = parse_ok("1969-12-31T00:00:00Z");
	assert_true(t.sec == -86400);
	assert_time_text("1969-12-31T00:00:00Z", "1969-12-31T00:00:00Z");
}

static void time_year_range(void **state)
{
	struct cp_time lo, hi;
	(void)state;

	lo = parse_ok("0000-01-01T00:00:00Z");
	hi = parse_ok("9999-12-31T23:59:59.999999999Z");
	/* 719528 days from 0000-01-01 to 1970-01-01 (proleptic Gregorian) */
	assert_true(lo.sec == -719528LL * 86400);
	assert_true(hi.sec == 253402300799LL);
	assert_int_equal(hi.nsec, 999999999);
	assert_true(cp_time_cmp(&lo, &hi) < 0);
	assert_time_text("0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z");
	assert_time_text("0000-02-29T12:00:00.5Z", "0000-02-29T12:00:00.5Z"); /* year 0 is leap */
	assert_time_text("9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999Z");
}

static void time_leap_years(void **state)
{
	struct cp_time t;
	(void)state;

	assert_time_text("2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"); /* div. by 400 */
	assert_time_text("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z");
	assert_time_text("1600-02-29T00:00:00Z", "1600-02-29T00:00:00Z");
	/* 1900 and 2100 are divisible by 100 but not 400; 2023 not by 4 */
	assert_int_equal(cp_time_parse("1900-02-29T00:00:00Z", 20, &t, NULL), CP_EPARSE);
	assert_int_equal(cp_time_parse("2100-02-29T00:00:00Z", 20, &t, NULL), CP_EPARSE);
	assert_int_equal(cp_time_parse("2023-02-29T00:00:00Z", 20, &t, NULL), CP_EPARSE);
	assert_int_equal(cp_time_parse("2024-02-30T00:00:00Z", 20, &t, NULL), CP_EPARSE);
	/* months of 30 days */
	assert_int_equal(cp_time_parse("2024-04-31T00:00:00Z", 20, &t, NULL), CP_EPARSE);
	assert_int_equal(cp_time_parse("2024-11-31T00:00:00Z", 20, &t, NULL), CP_EPARSE);
	assert_time_text("2024-12-31T00:00:00Z", "2024-12-31T00:00:00Z");
	/* the day after Feb 29 is Mar 1 */
	{
		struct cp_time a = parse_ok("2000-02-29T00:00:00Z");
		struct cp_time b = parse_ok("2000-03-01T00:00:00Z");
		assert_true(b.sec - a.sec == 86400);
	}
}

static void time_compare(void **state)
{
	struct cp_time a, b, c;
	(void)state;

	a = parse_ok("2016-04-06T20:03:00.1Z");
	b = parse_ok("2016-04-06T20:03:00.100Z");
	c = parse_ok("2016-04-06T20:03:00.100000000Z");
	assert_int_equal(cp_time_cmp(&a, &b), 0);
	assert_int_equal(cp_time_cmp(&b, &c), 0);
	assert_int_equal(a.frac_digits, 1);
	assert_int_equal(b.frac_digits, 3);
	a = parse_ok("2016-04-06T20:03:00Z");
	b = parse_ok("2016-04-06T20:03:00.000000001Z");
	assert_true(cp_time_cmp(&a, &b) < 0);
	assert_true(cp_time_cmp(&b, &a) > 0);
	a = parse_ok("2016-04-06T20:03:00.999Z");
	b = parse_ok("2016-04-06T20:03:01Z");
	assert_true(cp_time_cmp(&a, &b) < 0);
	a = parse_ok("1969-12-31T23:59:59.999Z");
	b = parse_ok("1970-01-01T00:00:00Z");
	assert_true(cp_time_cmp(&a, &b) < 0);
	assert_int_equal(cp_time_cmp(&a, &a), 0);
}

static void time_leap_second(void **state)
{
	struct cp_time leap, before, next, last_ns;
	(void)state;

	leap = parse_ok("2016-12-31T23:59:60Z");
	before = parse_ok("2016-12-31T23:59:59Z");
	next = parse_ok("2017-01-01T00:00:00Z");
	last_ns = parse_ok("2016-12-31T23:59:59.999999999Z");
	parse_ok("2016-12-31T23:59:60.5Z");
	assert_true(cp_time_cmp(&leap, &before) > 0);
	assert_true(cp_time_cmp(&leap, &next) < 0);
	/* only 23:59 may have a 60th second */
	assert_int_equal(cp_time_parse("2016-12-31T23:58:60Z", 20, &leap, NULL), CP_EPARSE);
	assert_int_equal(cp_time_parse("2016-12-31T12:59:60Z", 20, &leap, NULL), CP_EPARSE);
	/* strictly after the last nanosecond of 23:59:59, and keeps its text */
	leap = parse_ok("2016-12-31T23:59:60Z");
	assert_true(cp_time_cmp(&leap, &last_ns) > 0);
	assert_time_text("2016-12-31T23:59:60Z", "2016-12-31T23:59:60Z");
	assert_time_text("2016-12-31T23:59:60.5Z", "2016-12-31T23:59:60.5Z");
	assert_time_text("2016-12-31T23:59:60.999999999Z", "2016-12-31T23:59:60.999999999Z");
	{
		struct cp_time a = parse_ok("2016-12-31T23:59:60.1Z");
		struct cp_time b = parse_ok("2016-12-31T23:59:60.100Z");
		struct cp_time c = parse_ok("2016-12-31T23:59:60.999999999Z");
		char out[CP_TIME_TEXT_MAX];
		assert_int_equal(cp_time_cmp(&a, &b), 0);
		assert_true(cp_time_cmp(&leap, &a) < 0);
		assert_true(cp_time_cmp(&c, &next) < 0);
		cp_time_format_digits(&c, 3, out);
		assert_string_equal(out, "2016-12-31T23:59:60.999Z");
		cp_time_format_digits(&leap, 0, out);
		assert_string_equal(out, "2016-12-31T23:59:60Z");
	}
	/* any day may carry one in the text (RFC 3339 leaves the table to the reader) */
	assert_time_text("2015-06-30T23:59:60.000Z", "2015-06-30T23:59:60.000Z");
}

/* Formatting agrees with the C library's gmtime_r and strftime at random instants of
 * years 0001-9999 and every number of fraction digits, and a year outside that range
 * still formats. */
static void time_format_matches_libc(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	(void)state;

	for (int i = 0; i < 20000; i++) {
		struct cp_time t;
		struct tm tm;
		time_t sec;
		char want[64], got[CP_TIME_TEXT_MAX], frac[16];
		unsigned nd = (unsigned)i % 10;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* 0001-01-01 to 9999-12-31 */
		t.sec = -62135596800 + (int64_t)(x % 315537897600ull);
		t.nsec = (uint32_t)(x >> 34) % 1000000000u;
		t.frac_digits = (uint8_t)nd;
		sec = (time_t)t.sec;
		assert_non_null(gmtime_r(&sec, &tm));
		/* %Y does not pad years below 1000 everywhere: pad it by hand */
		snprintf(want, sizeof(want), "%04d", tm.tm_year + 1900);
		strftime(want + 4, sizeof(want) - 4, "-%m-%dT%H:%M:%S", &tm);
		snprintf(frac, sizeof(frac), "%09u", t.nsec);
		if (nd)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), ".%.*s", (int)nd,
				 frac);
		strcat(want, "Z");
		cp_time_format(&t, got);
		assert_string_equal(got, want);
	}
	{
		struct cp_time far = {253402300800, 5, 1}; /* 10000-01-01 */
		char out[CP_TIME_TEXT_MAX];
		cp_time_format(&far, out);
		assert_true(strncmp(out, "10000-01-01T00:00:00", 20) == 0);
	}
}

static void assert_time_rejected(const char *s, size_t len)
{
	struct cp_time t = {42, 7, 3};
	const char *why = NULL;

	if (cp_time_parse(s, len, &t, &why) != CP_EPARSE)
		fail_msg("'%.*s' (len %zu) should be rejected", (int)len, s, len);
	assert_non_null(why);
	assert_true(strlen(why) > 0);
	/* out-parameters are written only on success */
	assert_true(t.sec == 42);
	assert_int_equal(t.nsec, 7);
	assert_int_equal(t.frac_digits, 3);
}

#define REJECT(s) assert_time_rejected((s), strlen(s))

static void time_rejections(void **state)
{
	(void)state;
	REJECT("2016-04-06t20:03:48Z");      /* lowercase t */
	REJECT("2016-04-06T20:03:48z");      /* lowercase z */
	REJECT("2016-04-06T20:03:48+00:00"); /* offsets are not STIX */
	REJECT("2016-04-06T20:03:48.123+00:00");
	REJECT("2016-04-06T20:03:48-05:00");
	REJECT("2016-04-06T20:03:48"); /* missing Z */
	REJECT("2016-04-06T20:03:48.123");
	REJECT("2016-04-06T20:03:48.1234567890Z"); /* 10 fraction digits */
	REJECT("2016-04-06T20:03:48.Z");           /* '.' without digits */
	REJECT("2016-04-06T20:03:48.");
	REJECT("2016-13-06T20:03:48Z"); /* month 13 */
	REJECT("2016-00-06T20:03:48Z"); /* month 0 */
	REJECT("2016-04-32T20:03:48Z"); /* day 32 */
	REJECT("2016-01-32T20:03:48Z");
	REJECT("2016-04-00T20:03:48Z"); /* day 0 */
	REJECT("2016-04-06T24:00:00Z"); /* hour 24 */
	REJECT("2016-04-06T20:60:48Z"); /* minute 60 */
	REJECT("2016-04-06T20:03:61Z"); /* second 61 */
	REJECT("2016-04-06T23:59:61Z");
	REJECT("2016-04-06T20:03:48ZZ"); /* trailing garbage */
	REJECT("2016-04-06T20:03:48Z ");
	REJECT("2016-04-06T20:03:48.123Zx");
	REJECT(" 2016-04-06T20:03:48Z"); /* leading garbage */
	REJECT("");                      /* empty */
	REJECT("Z");
	REJECT("2016-04-06 20:03:48Z"); /* space separator */
	REJECT("2016-4-06T20:03:48Z");  /* unpadded fields */
	REJECT("2016-04-06T20:3:48Z");
	REJECT("16-04-06T20:03:48Z");
	REJECT("+2016-04-06T20:03:48Z");
	REJECT("12016-04-06T20:03:48Z"); /* five-digit year */
	REJECT("2016-04-06T20:03:48.12a4Z");
	REJECT("2016/04/06T20:03:48Z");
	REJECT("2016-04-06T20-03-48Z");
	REJECT("2016-04-06T-1:03:48Z");
	REJECT("2016-04-06T20:03:48,123Z"); /* comma fraction */
	REJECT("2016-04-06T20:03:48.123 Z");
	REJECT("2016-04-06T20:03Z"); /* no seconds */
	REJECT("2016-04-06");
	REJECT("not a timestamp at all");
	/* embedded NUL: explicit length covers text after it */
	assert_time_rejected("2016-04-06T20:03:48Z\0", 21);
	assert_time_rejected("2016-04-06T20:03:48\0Z", 21);
	assert_time_rejected("2016-04-06T20:03:48.1\0"
	                     "2Z",
	                     24);
	assert_time_rejected("2016-04\0-06T20:03:48Z", 21);
	/* a prefix of a valid timestamp, cut by len */
	assert_time_rejected("2016-04-06T20:03:48.123Z", 23);
	assert_time_rejected("2016-04-06T20:03:48.123Z", 0);
	{
		struct cp_time t;
		/* and the same text with len covering exactly the timestamp parses */
		assert_int_equal(cp_time_parse("2016-04-06T20:03:48Zjunk", 20, &t, NULL), CP_OK);
		/* why may be NULL */
		assert_int_equal(cp_time_parse("garbage", 7, &t, NULL), CP_EPARSE);
	}
}

static void time_format_digits(void **state)
{
	struct cp_time t = parse_ok("2016-04-06T20:03:48.123Z");
	char out[CP_TIME_TEXT_MAX];
	(void)state;

	cp_time_format_digits(&t, 6, out);
	assert_string_equal(out, "2016-04-06T20:03:48.123000Z");
	cp_time_format_digits(&t, 0, out);
	assert_string_equal(out, "2016-04-06T20:03:48Z");
	cp_time_format_digits(&t, 1, out);
	assert_string_equal(out, "2016-04-06T20:03:48.1Z"); /* truncates, never rounds */
	cp_time_format_digits(&t, 9, out);
	assert_string_equal(out, "2016-04-06T20:03:48.123000000Z");
	cp_time_format_digits(&t, 12, out); /* clamped to 9 */
	assert_string_equal(out, "2016-04-06T20:03:48.123000000Z");
	t = parse_ok("2016-04-06T20:03:48.999999999Z");
	cp_time_format_digits(&t, 3, out);
	assert_string_equal(out, "2016-04-06T20:03:48.999Z");
	t = parse_ok("1969-12-31T23:59:59.25Z");
	cp_time_format_digits(&t, 3, out);
	assert_string_equal(out, "1969-12-31T23:59:59.250Z");
	/* format output parses back to the same instant */
	{
		struct cp_time back = parse_ok(out);
		assert_int_equal(cp_time_cmp(&back, &t), 0);
		assert_int_equal(back.frac_digits, 3);
	}
}

static void time_now(void **state)
{
	struct cp_time now = cp_time_now(), back;
	struct cp_time y2020 = parse_ok("2020-01-01T00:00:00Z");
	char out[CP_TIME_TEXT_MAX];
	const char *dot;
	(void)state;

	assert_int_equal(now.frac_digits, 6);
	assert_int_equal(now.nsec % 1000, 0);
	assert_true(now.nsec < 1000000000u);
	assert_true(cp_time_cmp(&now, &y2020) > 0);
	cp_time_format(&now, out);
	assert_int_equal(strlen(out), 27); /* YYYY-MM-DDTHH:MM:SS.ffffffZ */
	dot = strchr(out, '.');
	assert_non_null(dot);
	assert_int_equal(strlen(dot), 8);
	back = parse_ok(out);
	assert_int_equal(cp_time_cmp(&back, &now), 0);
}

/* --------------------------------------------------------------- cp_buf */

static void buf_basics(void **state)
{
	struct cp_buf b = CP_BUF_INIT(0);
	char *s;
	(void)state;

	assert_null(b.ptr);
	cp_buf_append(&b, "abc", 3);
	cp_buf_puts(&b, "def");
	cp_buf_putc(&b, 'g');
	cp_buf_printf(&b, "-%d-%s", 42, "x");
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	assert_string_equal(b.ptr, "abcdefg-42-x");
	assert_int_equal(b.len, 12);
	cp_buf_truncate(&b, 3);
	assert_string_equal(b.ptr, "abc");
	assert_int_equal(b.len, 3);
	cp_buf_truncate(&b, 10); /* longer than len: no change */
	assert_string_equal(b.ptr, "abc");
	cp_buf_append(&b, "", 0);
	assert_int_equal(b.len, 3);
	s = cp_buf_take(&b);
	assert_string_equal(s, "abc");
	cp_free(s);
	/* take resets the buffer */
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
	/* an empty buffer gives "" */
	s = cp_buf_take(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	cp_free(s);
	cp_buf_release(&b);
}

static void buf_growth(void **state)
{
	struct cp_buf b;
	char *s;
	(void)state;

	cp_buf_init(&b, 0);
	for (int i = 0; i < 10000; i++)
		cp_buf_printf(&b, "%04d", i);
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	assert_int_equal(b.len, 40000);
	assert_true(b.cap > b.len);
	assert_int_equal(memcmp(b.ptr, "000000010002", 12), 0);
	assert_int_equal(memcmp(b.ptr + 39996, "9999", 4), 0);
	assert_int_equal(b.ptr[40000], '\0');
	/* reset keeps the storage and clears the content */
	cp_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.ptr, "");
	cp_buf_puts(&b, "again");
	s = cp_buf_take(&b);
	assert_string_equal(s, "again");
	cp_free(s);
	cp_buf_release(&b);
}

static void buf_cap(void **state)
{
	struct cp_buf b = CP_BUF_INIT(8);
	(void)state;

	cp_buf_puts(&b, "abcdef");
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	cp_buf_puts(&b, "xyz"); /* 9 > 8 */
	assert_int_equal(cp_buf_finish(&b), CP_ETOOBIG);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.ptr, "abcdef");
	/* sticky: later appends that would fit are ignored */
	cp_buf_putc(&b, 'g');
	cp_buf_printf(&b, "%s", "h");
	cp_buf_append(&b, "i", 1);
	assert_int_equal(cp_buf_finish(&b), CP_ETOOBIG);
	assert_string_equal(b.ptr, "abcdef");
	/* take on error gives NULL and resets, error included */
	assert_null(cp_buf_take(&b));
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	assert_int_equal(b.len, 0);
	/* exactly max_len bytes fit */
	cp_buf_puts(&b, "12345678");
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	assert_string_equal(b.ptr, "12345678");
	cp_buf_putc(&b, '9');
	assert_int_equal(cp_buf_finish(&b), CP_ETOOBIG);
	/* reset clears the sticky error */
	cp_buf_reset(&b);
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	cp_buf_printf(&b, "%d", 123456789); /* 9 bytes in one go */
	assert_int_equal(cp_buf_finish(&b), CP_ETOOBIG);
	assert_int_equal(b.len, 0);
	cp_buf_release(&b);
}

static void buf_reserve(void **state)
{
	struct cp_buf b = CP_BUF_INIT(100);
	char *p;
	(void)state;

	/* room made once: appends up to it move nothing */
	cp_buf_reserve(&b, 50);
	assert_true(b.cap >= 51);
	assert_string_equal(b.ptr, "");
	p = b.ptr;
	for (int i = 0; i < 50; i++)
		cp_buf_putc(&b, 'a');
	assert_ptr_equal(b.ptr, p);
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	/* never beyond the cap, and the cap still holds */
	cp_buf_reserve(&b, 1000);
	assert_true(b.cap <= 101);
	cp_buf_reserve(&b, 10); /* smaller than what is there: nothing */
	assert_int_equal(b.len, 50);
	for (int i = 0; i < 50; i++)
		cp_buf_putc(&b, 'b');
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	cp_buf_putc(&b, 'c');
	assert_int_equal(cp_buf_finish(&b), CP_ETOOBIG);
	cp_buf_release(&b);
	/* a failed reservation is no error: the appends grow the buffer themselves */
	cp_buf_init(&b, 0);
	cp_alloc_fail_after(1, false);
	cp_buf_reserve(&b, 4096);
	cp_alloc_fail_after(0, false);
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	cp_buf_puts(&b, "fine");
	assert_string_equal(b.ptr, "fine");
	cp_buf_release(&b);
}

static void buf_enomem(void **state)
{
	struct cp_buf b = CP_BUF_INIT(0);
	(void)state;

	cp_buf_puts(&b, "keep");
	/* fill the first allocation so the next append must grow */
	while (b.len < b.cap - 1)
		cp_buf_putc(&b, '.');
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	cp_alloc_fail_after(1, false);
	cp_buf_puts(&b, "more");
	cp_alloc_fail_after(0, false);
	assert_int_equal(cp_buf_finish(&b), CP_ENOMEM);
	assert_int_equal(memcmp(b.ptr, "keep", 4), 0);
	cp_buf_puts(&b, "x"); /* sticky even though allocation works again */
	assert_int_equal(cp_buf_finish(&b), CP_ENOMEM);
	assert_null(cp_buf_take(&b));
	cp_buf_release(&b);
}

static void buf_pointer(void **state)
{
	struct cp_buf b = CP_BUF_INIT(0);
	(void)state;

	cp_buf_pointer_push(&b, "objects");
	cp_buf_pointer_push_index(&b, 12);
	cp_buf_pointer_push(&b, "a/b~c");
	cp_buf_pointer_push(&b, "~~//");
	cp_buf_pointer_push(&b, "");
	cp_buf_pointer_push(&b, "~01");
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	assert_string_equal(b.ptr, "/objects/12/a~1b~0c/~0~0~1~1//~001");
	cp_buf_reset(&b);
	cp_buf_pointer_push_index(&b, 0);
	assert_string_equal(b.ptr, "/0");
	cp_buf_release(&b);
}

static void str_helpers(void **state)
{
	struct cp_str s = cp_str_from("indicator");
	struct cp_str lit = CP_STR_LIT("bundle");
	struct cp_str part = {"identity--x", 8};
	(void)state;

	assert_int_equal(s.len, 9);
	assert_true(cp_str_eq(s, "indicator"));
	assert_false(cp_str_eq(s, "indicato"));
	assert_false(cp_str_eq(s, "indicators"));
	assert_int_equal(lit.len, 6);
	assert_true(cp_str_eq(lit, "bundle"));
	assert_true(cp_str_eq(part, "identity"));
	assert_int_equal(cp_str_from(NULL).len, 0);
	assert_true(cp_str_eq(cp_str_from(""), ""));
}

/* ----------------------------------------------------------- allocation */

static void alloc_fail_once(void **state)
{
	void *a, *b, *c;
	unsigned long before;
	(void)state;

	before = cp_alloc_count();
	cp_alloc_fail_after(1, false);
	a = cp_malloc(16);
	b = cp_malloc(16);
	c = cp_malloc(16);
	cp_alloc_fail_after(0, false);
	assert_null(a);
	assert_non_null(b);
	assert_non_null(c);
	/* failed allocations are counted too */
	assert_int_equal(cp_alloc_count() - before, 3);
	cp_free(b);
	cp_free(c);
	cp_free(NULL);

	/* n = 3: the third allocation from now fails, only that one */
	cp_alloc_fail_after(3, false);
	a = cp_malloc(8);
	b = cp_calloc(2, 8);
	c = cp_malloc(8);
	{
		void *d = cp_malloc(8);
		cp_alloc_fail_after(0, false);
		assert_non_null(a);
		assert_non_null(b);
		assert_null(c);
		assert_non_null(d);
		cp_free(d);
	}
	assert_int_equal(((unsigned char *)b)[15], 0); /* calloc zeroes */
	cp_free(a);
	cp_free(b);
}

static void alloc_fail_sticky(void **state)
{
	void *a, *b, *r;
	char *s;
	(void)state;

	cp_alloc_fail_after(2, true);
	a = cp_malloc(4);
	b = cp_malloc(4);
	assert_non_null(a);
	assert_null(b);
	assert_null(cp_malloc(1));
	assert_null(cp_calloc(1, 1));
	assert_null(cp_strdup("x"));
	assert_null(cp_strndup("xyz", 2));
	/* a failed realloc leaves the block alone */
	r = cp_realloc(a, 4096);
	assert_null(r);
	cp_alloc_fail_after(0, false);
	memcpy(a, "abc", 4);
	r = cp_realloc(a, 4096);
	assert_non_null(r);
	assert_string_equal(r, "abc");
	cp_free(r);
	/* after switching off everything works */
	s = cp_strndup("hello world", 5);
	assert_string_equal(s, "hello");
	cp_free(s);
	s = cp_strdup("");
	assert_string_equal(s, "");
	cp_free(s);
	/* zero-size requests return a freeable block */
	a = cp_malloc(0);
	assert_non_null(a);
	cp_free(a);
	a = cp_calloc(0, 8);
	assert_non_null(a);
	cp_free(a);
}

static void alloc_count_increments(void **state)
{
	unsigned long c0, c1;
	void *p;
	(void)state;

	c0 = cp_alloc_count();
	p = cp_malloc(1);
	p = cp_realloc(p, 100);
	cp_free(p); /* frees are not counted */
	c1 = cp_alloc_count();
	assert_int_equal(c1 - c0, 2);
}

static void alloc_jansson_routed(void **state)
{
	json_t *j;
	unsigned long c0;
	(void)state;

	cp_json_use_cp_alloc();
	cp_json_use_cp_alloc(); /* idempotent */
	c0 = cp_alloc_count();
	j = json_loads("{\"a\":[1,2,3],\"b\":\"text\"}", 0, NULL);
	assert_non_null(j);
	assert_true(cp_alloc_count() > c0);
	json_decref(j);

	cp_alloc_fail_after(1, true);
	j = json_loads("{\"a\":[1,2,3],\"b\":\"text\"}", 0, NULL);
	cp_alloc_fail_after(0, false);
	assert_null(j);

	/* failing later inside the parse is cleaned up (ASan checks the leak) */
	for (unsigned long n = 1; n < 64; n++) {
		json_error_t err;
		cp_alloc_fail_after(n, true);
		j = json_loads("{\"a\":[1,2,{\"c\":\"d\"}],\"b\":\"text\"}", 0, &err);
		cp_alloc_fail_after(0, false);
		if (j) {
			json_decref(j);
			break;
		}
	}
	j = json_loads("[true]", 0, NULL);
	assert_non_null(j);
	json_decref(j);
}

/* ---------------------------------------------------------- diagnostics */

static void diag_add_and_counts(void **state)
{
	struct cp_diag d;
	(void)state;

	cp_diag_init(&d);
	assert_int_equal(d.count, 0);
	cp_diag_add(&d, CP_SEV_ERROR, "id-format", "/objects/0/id", "bad id '%s'", "x--y");
	cp_diag_add(&d, CP_SEV_WARNING, "vocab-value", "/objects/1/sectors/0", "%d", 7);
	cp_diag_add(&d, CP_SEV_ERROR, "root", NULL, "no pointer");
	cp_diag_add_at(&d, CP_SEV_ERROR, "json-syntax", 3, 14, "invalid JSON: %s", "oops");
	assert_int_equal(d.count, 4);
	assert_int_equal(d.errors, 3);
	assert_int_equal(d.warnings, 1);
	assert_int_equal(cp_diag_count(&d, CP_SEV_ERROR), 3);
	assert_int_equal(cp_diag_count(&d, CP_SEV_WARNING), 1);
	assert_int_equal(d.err, CP_OK);

	assert_int_equal(d.items[0].severity, CP_SEV_ERROR);
	assert_string_equal(d.items[0].code, "id-format");
	assert_string_equal(d.items[0].pointer, "/objects/0/id");
	assert_string_equal(d.items[0].message, "bad id 'x--y'");
	assert_int_equal(d.items[0].line, 0);
	assert_int_equal(d.items[0].column, 0);
	assert_string_equal(d.items[1].message, "7");
	assert_string_equal(d.items[2].pointer, "");
	assert_string_equal(d.items[3].pointer, "");
	assert_int_equal(d.items[3].line, 3);
	assert_int_equal(d.items[3].column, 14);
	assert_string_equal(d.items[3].message, "invalid JSON: oops");
	assert_finding(&d, CP_SEV_WARNING, "vocab-value", "/objects/1/sectors/0");

	assert_string_equal(cp_severity_name(CP_SEV_ERROR), "error");
	assert_string_equal(cp_severity_name(CP_SEV_WARNING), "warning");

	/* NULL diag: nothing happens */
	cp_diag_add(NULL, CP_SEV_ERROR, "x", "/", "ignored");
	cp_diag_add_at(NULL, CP_SEV_ERROR, "x", 1, 1, "ignored");

	/* clear forgets findings and counts, keeps the storage */
	{
		struct cp_finding *items = d.items;
		size_t cap = d.cap;
		cp_diag_clear(&d);
		assert_int_equal(d.count, 0);
		assert_int_equal(d.errors, 0);
		assert_int_equal(d.warnings, 0);
		assert_ptr_equal(d.items, items);
		assert_int_equal(d.cap, cap);
	}
	cp_diag_add(&d, CP_SEV_WARNING, "again", "/x", "after clear");
	assert_int_equal(d.count, 1);
	assert_int_equal(d.warnings, 1);
	cp_diag_release(&d);
	assert_null(d.items);
	assert_int_equal(d.count, 0);
	cp_diag_release(&d); /* twice is fine */
	cp_diag_release(NULL);
}

static void diag_long_message(void **state)
{
	struct cp_diag d;
	char big[10000];
	(void)state;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cp_diag_init(&d);
	cp_diag_add(&d, CP_SEV_ERROR, "long", "/p", "%s", big);
	assert_int_equal(d.errors, 1);
	/* a message quoting a huge value is cut, not lost: it is not out of memory */
	assert_int_equal(d.err, CP_OK);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.dropped, 0);
	assert_true(strlen(d.items[0].message) > 0);
	assert_true(strlen(d.items[0].message) <= 4096);
	assert_int_equal(d.items[0].message[0], 'a');
	cp_diag_release(&d);
}

static void diag_merge(void **state)
{
	struct cp_diag src, dst;
	(void)state;

	cp_diag_init(&src);
	cp_diag_init(&dst);
	cp_diag_add(&dst, CP_SEV_WARNING, "first", "/a", "already here");
	cp_diag_add(&src, CP_SEV_ERROR, "id-format", "/id", "bad");
	cp_diag_add(&src, CP_SEV_WARNING, "vocab-value", "", "root");
	cp_diag_add_at(&src, CP_SEV_ERROR, "json-syntax", 2, 5, "syntax");
	src.dropped = 2;
	cp_diag_merge(&dst, &src, "/objects/7");
	assert_int_equal(dst.count, 4);
	assert_int_equal(dst.errors, 2);
	assert_int_equal(dst.warnings, 2);
	assert_int_equal(dst.dropped, 2);
	assert_finding(&dst, CP_SEV_ERROR, "id-format", "/objects/7/id");
	assert_finding(&dst, CP_SEV_WARNING, "vocab-value", "/objects/7");
	assert_finding(&dst, CP_SEV_ERROR, "json-syntax", "/objects/7");
	assert_int_equal(dst.items[3].line, 2);
	assert_int_equal(dst.items[3].column, 5);
	assert_string_equal(dst.items[1].message, "bad");
	/* NULL prefix keeps pointers */
	cp_diag_clear(&dst);
	cp_diag_merge(&dst, &src, NULL);
	assert_finding(&dst, CP_SEV_ERROR, "id-format", "/id");
	/* the source is untouched */
	assert_int_equal(src.count, 3);
	assert_string_equal(src.items[0].pointer, "/id");
	cp_diag_release(&src);
	cp_diag_release(&dst);
}

static void diag_cap(void **state)
{
	struct cp_diag d;
	(void)state;

	cp_diag_init(&d);
	for (size_t i = 0; i < CP_LIMIT_FINDINGS + 5; i++)
		cp_diag_add(&d, i % 2 ? CP_SEV_WARNING : CP_SEV_ERROR, "c", "", "m");
	assert_int_equal(d.count, CP_LIMIT_FINDINGS);
	assert_int_equal(d.dropped, 5);
	assert_int_equal(d.errors + d.warnings, CP_LIMIT_FINDINGS + 5);
	assert_int_equal(d.errors, (CP_LIMIT_FINDINGS + 5 + 1) / 2);
	assert_int_equal(d.err, CP_OK);
	cp_diag_release(&d);
}

static void diag_enomem(void **state)
{
	struct cp_diag d;
	(void)state;

	cp_diag_init(&d);
	cp_diag_add(&d, CP_SEV_ERROR, "ok", "/a", "fine");
	cp_alloc_fail_after(1, true);
	cp_diag_add(&d, CP_SEV_ERROR, "lost", "/b", "no memory for me");
	cp_alloc_fail_after(0, false);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.errors, 2); /* still counted for the verdict */
	assert_int_equal(d.dropped, 1);
	assert_int_equal(d.err, CP_ENOMEM);
	/* every single allocation of an add failing leaks nothing */
	for (unsigned long n = 1; n <= 4; n++) {
		cp_alloc_fail_after(n, false);
		cp_diag_add(&d, CP_SEV_WARNING, "w", "/c", "%s", "x");
		cp_alloc_fail_after(0, false);
	}
	assert_int_equal(d.warnings, 4);
	assert_int_equal(d.count + d.dropped, 6);
	cp_diag_release(&d);
}

/* --------------------------------------------------------------- errors */

static void err_names(void **state)
{
	(void)state;

	for (int e = 0; e < CP_ERR_COUNT_; e++) {
		const char *name = cp_err_name((enum cp_err)e);
		const char *msg = cp_strerror((enum cp_err)e);
		assert_non_null(name);
		assert_non_null(msg);
		assert_int_equal(strncmp(name, "CP_", 3), 0);
		assert_true(strlen(msg) > 0);
		assert_string_not_equal(msg, "unknown error");
		for (int k = 0; k < e; k++) {
			assert_string_not_equal(cp_err_name((enum cp_err)k), name);
			assert_string_not_equal(cp_strerror((enum cp_err)k), msg);
		}
	}
	assert_string_equal(cp_err_name(CP_OK), "CP_OK");
	assert_string_equal(cp_err_name(CP_ENOMEM), "CP_ENOMEM");
	assert_string_equal(cp_err_name(CP_EINVAL), "CP_EINVAL");
	assert_string_equal(cp_err_name(CP_EPARSE), "CP_EPARSE");
	assert_string_equal(cp_err_name(CP_ENOTFOUND), "CP_ENOTFOUND");
	assert_string_equal(cp_err_name(CP_ECONFLICT), "CP_ECONFLICT");
	assert_string_equal(cp_err_name(CP_EDENIED), "CP_EDENIED");
	assert_string_equal(cp_err_name(CP_ETOOBIG), "CP_ETOOBIG");
	assert_string_equal(cp_err_name(CP_EBACKEND), "CP_EBACKEND");
	assert_string_equal(cp_err_name(CP_EIO), "CP_EIO");
	assert_string_equal(cp_err_name(CP_ETIMEOUT), "CP_ETIMEOUT");
	assert_string_equal(cp_err_name(CP_EUNSUPPORTED), "CP_EUNSUPPORTED");
	assert_string_equal(cp_strerror(CP_OK), "success");
	assert_string_equal(cp_strerror(CP_ENOMEM), "out of memory");
	/* out of range */
	assert_string_equal(cp_strerror(CP_ERR_COUNT_), "unknown error");
	assert_string_equal(cp_strerror((enum cp_err)1000), "unknown error");
	assert_string_equal(cp_err_name(CP_ERR_COUNT_), "CP_E?");
	assert_string_equal(cp_err_name((enum cp_err)1000), "CP_E?");
	assert_string_equal(cp_err_name((enum cp_err) - 1), "CP_E?");
}

/* -------------------------------------------------------------- logging */

struct log_capture {
	int calls;
	enum cp_log_level level;
	char module[32];
	char msg[1100];
	int line;
};

static void capture_log(enum cp_log_level level, const char *module, const char *file, int line,
                        const char *msg, void *ctx)
{
	struct log_capture *c = ctx;
	(void)file;
	c->calls++;
	c->level = level;
	c->line = line;
	snprintf(c->module, sizeof(c->module), "%s", module);
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

static void log_hook(void **state)
{
	struct log_capture c;
	char big[2000];
	(void)state;

	memset(&c, 0, sizeof(c));
	CP_LOG_INF("stix", "dropped before a handler exists");
	cp_log_set_handler(capture_log, &c, CP_LOG_INFO);
	CP_LOG_ERR("store", "cannot open store '%s'", "x.db");
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.level, CP_LOG_ERROR);
	assert_string_equal(c.module, "store");
	assert_string_equal(c.msg, "cannot open store 'x.db'");
	assert_true(c.line > 0);
	CP_LOG_DBG("store", "above max level: dropped");
	assert_int_equal(c.calls, 1);
	CP_LOG_WRN("taxii", "w");
	CP_LOG_INF("taxii", "i");
	assert_int_equal(c.calls, 3);
	assert_int_equal(c.level, CP_LOG_INFO);
	/* long messages are cut, not overflowed */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CP_LOG_ERR("x", "%s", big);
	assert_true(strlen(c.msg) < sizeof(big) - 1);
	cp_log_set_handler(NULL, NULL, CP_LOG_INFO);
	CP_LOG_ERR("x", "no handler");
	assert_int_equal(c.calls, 4);
	assert_string_equal(cp_log_level_name(CP_LOG_ERROR), "error");
	assert_string_equal(cp_log_level_name(CP_LOG_WARN), "warning");
	assert_string_equal(cp_log_level_name(CP_LOG_INFO), "info");
	assert_string_equal(cp_log_level_name(CP_LOG_DEBUG), "debug");
	assert_string_equal(cp_log_level_name((enum cp_log_level)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(time_fraction_digits_preserved),
	        cmocka_unit_test(time_values),
	        cmocka_unit_test(time_year_range),
	        cmocka_unit_test(time_leap_years),
	        cmocka_unit_test(time_compare),
	        cmocka_unit_test(time_leap_second),
	        cmocka_unit_test(time_rejections),
	        cmocka_unit_test(time_format_digits),
	        cmocka_unit_test(time_format_matches_libc),
	        cmocka_unit_test(time_now),
	        cmocka_unit_test(buf_basics),
	        cmocka_unit_test(buf_growth),
	        cmocka_unit_test(buf_cap),
	        cmocka_unit_test(buf_reserve),
	        cmocka_unit_test(buf_enomem),
	        cmocka_unit_test(buf_pointer),
	        cmocka_unit_test(str_helpers),
	        cmocka_unit_test(alloc_fail_once),
	        cmocka_unit_test(alloc_fail_sticky),
	        cmocka_unit_test(alloc_count_increments),
	        cmocka_unit_test(alloc_jansson_routed),
	        cmocka_unit_test(diag_add_and_counts),
	        cmocka_unit_test(diag_long_message),
	        cmocka_unit_test(diag_merge),
	        cmocka_unit_test(diag_cap),
	        cmocka_unit_test(diag_enomem),
	        cmocka_unit_test(err_names),
	        cmocka_unit_test(log_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
