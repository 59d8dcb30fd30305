#include <time.h>

#include "common.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static bool digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

enum cp_err cp_time_parse(const char *s, size_t len, struct cp_time *out, const char **why)
{
	unsigned y, mo, d, h, mi, se, nsec = 0, nd = 0;
	const char *msg = NULL;
	size_t i;

	/* YYYY-MM-DDTHH:MM:SS = 19 chars, then optional .f{1,9}, then Z */
	if (len < 20) {
		msg = "too short for YYYY-MM-DDTHH:MM:SSZ";
		goto bad;
	}
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d)) {
		msg = "date is not YYYY-MM-DD";
		goto bad;
	}
	if (s[10] != 'T') {
		msg = "date and time must be separated by 'T'";
		goto bad;
	}
	if (!digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &se)) {
		msg = "time is not HH:MM:SS";
		goto bad;
	}
	i = 19;
	if (s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (nd == 9) {
				msg = "more than 9 fraction digits";
				goto bad;
			}
			nsec = nsec * 10 + (unsigned)(s[i] - '0');
			nd++;
			i++;
		}
		if (nd == 0) {
			msg = "'.' must be followed by fraction digits";
			goto bad;
		}
	}
	if (i != len - 1 || s[i] != 'Z') {
		msg = "must end in 'Z' (UTC)";
		goto bad;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
		msg = "no such date";
		goto bad;
	}
	if (h > 23 || mi > 59 || se > 60 || (se == 60 && (h != 23 || mi != 59))) {
		msg = "no such time of day";
		goto bad;
	}
	for (unsigned k = nd; k < 9; k++)
		nsec *= 10;
	out->sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se);
	/* a leap second 23:59:60.f is second :59 with nsec 1e9 + f: it orders after
	 * :59.999999999 and before the next day, and formats back exactly */
	out->nsec = se == 60 ? 1000000000u + nsec : nsec;
	out->frac_digits = (uint8_t)nd;
	return CP_OK;
bad:
	if (why)
		*why = msg;
	return CP_EPARSE;
}

/* v as exactly n decimal digits (the low ones), zero-padded; returns the end */
static char *put_digits(char *p, uint32_t v, unsigned n)
{
	for (unsigned i = n; i-- > 0; v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

void cp_time_format_digits(const struct cp_time *t, unsigned nd, char out[CP_TIME_TEXT_MAX])
{
	int64_t days = t->sec >= 0 ? t->sec / 86400 : -((-t->sec + 86399) / 86400);
	int64_t rem = t->sec - days * 86400, y;
	unsigned m, d;
	int n;

	civil_from_days(days, &y, &m, &d);
	bool leap = t->nsec >= 1000000000u;
	uint32_t nsec = leap ? t->nsec - 1000000000u : t->nsec;

	if (nsec > 999999999u)
		nsec = 999999999u;
	if (nd > 9)
		nd = 9;
	if (y >= 0 && y <= 9999) {
		/* digit by digit: the store formats several timestamps per object it adds,
		 * and snprintf was 3% of a POST's CPU */
		unsigned hh = (unsigned)(rem / 3600), mm = (unsigned)(rem / 60 % 60),
			 ss = (unsigned)(rem % 60) + (leap ? 1 : 0);
		char *p = out;
		p = put_digits(p, (uint32_t)y, 4);
		*p++ = '-';
		p = put_digits(p, m, 2);
		*p++ = '-';
		p = put_digits(p, d, 2);
		*p++ = 'T';
		p = put_digits(p, hh, 2);
		*p++ = ':';
		p = put_digits(p, mm, 2);
		*p++ = ':';
		p = put_digits(p, ss, 2);
		if (nd) {
			char frac[9];
			put_digits(frac, nsec, 9);
			*p++ = '.';
			memcpy(p, frac, nd);
			p += nd;
		}
		*p++ = 'Z';
		*p = '\0';
		return;
	}
	n = snprintf(out, CP_TIME_TEXT_MAX, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u", y, m, d,
		     (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
		     (unsigned)(rem % 60) + (leap ? 1 : 0));
	if (nd && n > 0 && n < CP_TIME_TEXT_MAX - 12) {
		char frac[10];
		snprintf(frac, sizeof(frac), "%09u", nsec);
		out[n++] = '.';
		memcpy(out + n, frac, nd);
		n += (int)nd;
	}
	if (n > 0 && n < CP_TIME_TEXT_MAX - 1) {
		out[n++] = 'Z';
		out[n] = '\0';
	}
}

void cp_time_format(const struct cp_time *t, char out[CP_TIME_TEXT_MAX])
{
	cp_time_format_digits(t, t->frac_digits, out);
}

int cp_time_cmp(const struct cp_time *a, const struct cp_time *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->nsec != b->nsec)
		return a->nsec < b->nsec ? -1 : 1;
	return 0;
}

struct cp_time cp_time_now(void)
{
	struct timespec ts;
	struct cp_time t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t.sec = ts.tv_sec;
	t.nsec = (uint32_t)(ts.tv_nsec / 1000 * 1000);
	t.frac_digits = 6;
	return t;
}
