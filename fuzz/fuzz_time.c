/*
 * Fuzz target: STIX timestamps (cp_time_parse, cp_time_format, cp_time_cmp).
 * Properties checked beyond "no crash, no UB":
 *  - a rejected text has a reason (`why`) and leaves the output untouched;
 *  - an accepted text formats back to exactly the same bytes (the parser accepts one
 *    spelling per instant and precision; leap seconds included), and that text parses
 *    to an equal time with the same number of fraction digits (parse-format-parse);
 *  - nsec is below 1e9, or in [1e9, 2e9) exactly for a leap second;
 *  - cp_time_format_digits with fewer digits truncates (never later than the original),
 *    with as many or more digits gives the same instant, and always parses back;
 *  - cp_time_cmp is reflexive and antisymmetric.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cyberpact/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 23:59:60[.f] is kept as second :59 with nsec 1e9 + f (see struct cp_time) */
static bool is_leap_second(const char *s, size_t n)
{
	return n >= 19 && s[17] == '6' && s[18] == '0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct cp_time t = {-42, 42, 42}, back, cut;
	char out[CP_TIME_TEXT_MAX], out2[CP_TIME_TEXT_MAX];
	const char *why = NULL;
	size_t n;

	if (cp_time_parse(s, size, &t, &why) != CP_OK) {
		if (!why || !why[0])
			abort();
		if (t.sec != -42 || t.nsec != 42 || t.frac_digits != 42)
			abort(); /* out-parameters are written only on success */
		return 0;
	}
	if (t.frac_digits > 9)
		abort();
	if (is_leap_second(s, size) ? t.nsec < 1000000000u || t.nsec >= 2000000000u
	                            : t.nsec >= 1000000000u)
		abort();
	if (cp_time_cmp(&t, &t) != 0)
		abort();

	cp_time_format(&t, out);
	n = strlen(out);
	if (n >= CP_TIME_TEXT_MAX)
		abort();
	if (n != size || memcmp(out, s, n) != 0)
		abort();
	why = NULL;
	if (cp_time_parse(out, n, &back, &why) != CP_OK)
		abort();
	if (back.frac_digits != t.frac_digits)
		abort();
	if (cp_time_cmp(&back, &t) != 0)
		abort();
	/* a second format is a fixed point */
	cp_time_format(&back, out2);
	if (strcmp(out, out2) != 0)
		abort();

	for (unsigned digits = 0; digits <= 9; digits++) {
		int c;
		cp_time_format_digits(&t, digits, out2);
		if (cp_time_parse(out2, strlen(out2), &cut, NULL) != CP_OK)
			abort();
		if (cut.frac_digits != digits)
			abort();
		c = cp_time_cmp(&cut, &t);
		if (c > 0)
			abort(); /* truncation never moves later */
		if (digits >= t.frac_digits && c != 0)
			abort();
		if (cp_time_cmp(&t, &cut) != -c)
			abort();
	}
	return 0;
}
