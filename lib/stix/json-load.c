/*
 * JSON text -> jansson tree, in place of json_loadb() on lib/stix's input path.
 *
 * jansson stays the tree: values are made with its API (json_object(),
 * json_stringn_nocheck(), json_object_setn_new_nocheck(), ...), so everything that
 * reads the tree is unchanged. What is replaced is jansson's lexer, which reads its
 * input a character at a time through a stream and copies every token through a
 * growing buffer: it was a third of a POST's parsing time (docs/PERFORMANCE.md).
 * This scanner works on the buffer directly, copies a string only when it has
 * escapes, and checks the limits STIX input needs (nesting depth, string size)
 * while it parses instead of in a second walk.
 *
 * The language accepted is exactly what json_loadb(JSON_REJECT_DUPLICATES) accepts:
 * RFC 8259 with an object or array at the top, UTF-8 checked (no overlong forms, no
 * surrogates, nothing above U+10FFFF), no control characters and no \u0000 in
 * strings, \u escapes of surrogates only as pairs, duplicate keys rejected, integers
 * that do not fit json_int_t and reals that overflow rejected. fuzz/fuzz_json_load.c
 * parses every input both ways and requires the same verdict and equal trees.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"

struct loader {
	const unsigned char *start, *p, *end;
	unsigned depth;
	struct cp_buf scratch; /* strings with escapes, long numbers */
	/* the first error: its kind, finding code, position and message */
	enum cp_err err;
	const char *code;
	const unsigned char *at;
	char msg[128];
};

static void fail(struct loader *l, const unsigned char *at, enum cp_err err, const char *code,
		 const char *fmt, ...) CP_PRINTF(5, 6);

static void fail(struct loader *l, const unsigned char *at, enum cp_err err, const char *code,
		 const char *fmt, ...)
{
	va_list ap;

	if (l->err)
		return;
	l->err = err;
	l->code = code;
	l->at = at;
	va_start(ap, fmt);
	vsnprintf(l->msg, sizeof(l->msg), fmt, ap);
	va_end(ap);
}

#define SYNTAX(l, at, ...) fail((l), (at), CP_EPARSE, "json-syntax", __VA_ARGS__)

static void *oom(struct loader *l)
{
	fail(l, l->p, CP_ENOMEM, "out-of-memory", "out of memory");
	return NULL;
}

/* the scratch buffer's error: only a string longer than any document can be is */
static void *scratch_failed(struct loader *l, const unsigned char *at)
{
	if (l->scratch.err == CP_ETOOBIG) {
		fail(l, at, CP_ETOOBIG, "too-big", "a string exceeds the limit of %u bytes",
		     CP_LIMIT_STRING_BYTES);
		return NULL;
	}
	return oom(l);
}

static void skip_ws(struct loader *l)
{
	while (l->p < l->end &&
	       (*l->p == ' ' || *l->p == '\n' || *l->p == '\r' || *l->p == '\t'))
		l->p++;
}

/*
 * The length of the UTF-8 sequence at p (at least 2 bytes, first byte >= 0x80), or 0
 * if it is not valid: RFC 3629, no overlong forms, no surrogates, at most U+10FFFF.
 */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n, avail = (size_t)(end - p);
	uint32_t v;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, v = c & 0x07;
	else
		return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return n;
}

static int hex4(const unsigned char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int d = cp_hex_digit(p[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static void put_utf8(struct cp_buf *b, uint32_t v)
{
	char u[4];
	size_t n;

	if (v < 0x80) {
		u[0] = (char)v;
		n = 1;
	} else if (v < 0x800) {
		u[0] = (char)(0xc0 | (v >> 6));
		u[1] = (char)(0x80 | (v & 0x3f));
		n = 2;
	} else if (v < 0x10000) {
		u[0] = (char)(0xe0 | (v >> 12));
		u[1] = (char)(0x80 | ((v >> 6) & 0x3f));
		u[2] = (char)(0x80 | (v & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (v >> 18));
		u[1] = (char)(0x80 | ((v >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((v >> 6) & 0x3f));
		u[3] = (char)(0x80 | (v & 0x3f));
		n = 4;
	}
	cp_buf_append(b, u, n);
}

/* One escape after the backslash at p[-1]; returns the position after it, or NULL. */
static const unsigned char *unescape(struct loader *l, const unsigned char *p)
{
	static const char plain[] = "\"\\/bfnrt", meant[] = "\"\\/\b\f\n\r\t";
	const char *k;
	int v, lo;

	if (p >= l->end) {
		SYNTAX(l, p, "premature end of input in a string");
		return NULL;
	}
	if (*p != 'u') {
		k = *p ? strchr(plain, *p) : NULL;
		if (!k) {
			SYNTAX(l, p - 1, "invalid escape in a string");
			return NULL;
		}
		cp_buf_putc(&l->scratch, meant[k - plain]);
		return p + 1;
	}
	if (l->end - p < 5 || (v = hex4(p + 1)) < 0) {
		SYNTAX(l, p - 1, "invalid \\u escape in a string");
		return NULL;
	}
	p += 5;
	if (v >= 0xd800 && v <= 0xdbff) {
		/* a high surrogate must be followed by an escaped low one */
		if (l->end - p < 6 || p[0] != '\\' || p[1] != 'u' || (lo = hex4(p + 2)) < 0 ||
		    lo < 0xdc00 || lo > 0xdfff) {
			SYNTAX(l, p - 6, "invalid Unicode escape (a lone surrogate)");
			return NULL;
		}
		v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	} else if (v >= 0xdc00 && v <= 0xdfff) {
		SYNTAX(l, p - 6, "invalid Unicode escape (a lone surrogate)");
		return NULL;
	} else if (v == 0) {
		SYNTAX(l, p - 6, "\\u0000 is not allowed in a string");
		return NULL;
	}
	put_utf8(&l->scratch, (uint32_t)v);
	return p;
}

/*
 * The string at l->p (which is '"'): its text and length, pointing into the input
 * when it has no escapes and into l->scratch otherwise (valid until the next string).
 */
static bool scan_string(struct loader *l, const char **text, size_t *len)
{
	const unsigned char *p = l->p + 1, *run = p;
	bool copied = false;

	for (;;) {
		/* the common case: printable ASCII */
		while (p < l->end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (p >= l->end) {
			SYNTAX(l, l->p, "premature end of input in a string");
			return false;
		}
		if (*p == '"')
			break;
		if (*p == '\\') {
			if (!copied) {
				cp_buf_truncate(&l->scratch, 0);
				copied = true;
			}
			cp_buf_append(&l->scratch, run, (size_t)(p - run));
			if (!(p = unescape(l, p + 1)))
				return false;
			run = p;
			continue;
		}
		if (*p < 0x20) {
			SYNTAX(l, p, "control character 0x%x in a string", *p);
			return false;
		}
		{
			size_t n = utf8_len(p, l->end);
			if (!n) {
				SYNTAX(l, p, "invalid UTF-8 in a string");
				return false;
			}
			p += n;
		}
	}
	if (copied) {
		cp_buf_append(&l->scratch, run, (size_t)(p - run));
		if (cp_buf_finish(&l->scratch)) {
			scratch_failed(l, l->p);
			return false;
		}
		*text = l->scratch.ptr;
		*len = l->scratch.len;
	} else {
		*text = (const char *)run;
		*len = (size_t)(p - run);
	}
	l->p = p + 1;
	return true;
}

static json_t *parse_number(struct loader *l)
{
	const unsigned char *s = l->p, *p = l->p;
	bool real = false;
	char small[64], *text;
	size_t n;
	json_t *j;

	if (p < l->end && *p == '-')
		p++;
	if (p < l->end && *p == '0') {
		p++;
	} else if (p < l->end && *p >= '1' && *p <= '9') {
		while (p < l->end && *p >= '0' && *p <= '9')
			p++;
	} else {
		SYNTAX(l, s, "invalid token");
		return NULL;
	}
	if (p < l->end && *p == '.') {
		real = true;
		if (++p >= l->end || *p < '0' || *p > '9') {
			SYNTAX(l, s, "invalid token");
			return NULL;
		}
		while (p < l->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < l->end && (*p == 'e' || *p == 'E')) {
		real = true;
		p++;
		if (p < l->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= l->end || *p < '0' || *p > '9') {
			SYNTAX(l, s, "invalid token");
			return NULL;
		}
		while (p < l->end && *p >= '0' && *p <= '9')
			p++;
	}
	/* strtoll/strtod want a terminated string */
	n = (size_t)(p - s);
	if (n < sizeof(small)) {
		memcpy(small, s, n);
		small[n] = '\0';
		text = small;
	} else {
		cp_buf_truncate(&l->scratch, 0);
		cp_buf_append(&l->scratch, s, n);
		if (cp_buf_finish(&l->scratch))
			return scratch_failed(l, s);
		text = l->scratch.ptr;
	}
	errno = 0;
	if (!real) {
		long long v = strtoll(text, NULL, 10);
		if (errno == ERANGE) {
			SYNTAX(l, s, "too big %sinteger", *s == '-' ? "negative " : "");
			return NULL;
		}
		j = json_integer((json_int_t)v);
	} else {
		double v = strtod(text, NULL);
		if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)) {
			SYNTAX(l, s, "real number overflow");
			return NULL;
		}
		j = json_real(v);
	}
	if (!j)
		return oom(l);
	l->p = p;
	return j;
}

static json_t *parse_value(struct loader *l);

static bool enter(struct loader *l)
{
	if (++l->depth <= CP_LIMIT_JSON_DEPTH)
		return true;
	fail(l, l->p, CP_ETOOBIG, "too-deep", "JSON nesting deeper than %d levels",
	     CP_LIMIT_JSON_DEPTH);
	return false;
}

static json_t *parse_object(struct loader *l)
{
	json_t *obj;

	if (!enter(l))
		return NULL;
	if (!(obj = json_object()))
		return oom(l);
	l->p++;
	skip_ws(l);
	if (l->p < l->end && *l->p == '}') {
		l->p++;
		l->depth--;
		return obj;
	}
	for (;;) {
		const unsigned char *at;
		const char *key;
		size_t klen;
		char *kcopy = NULL, kbuf[128];
		json_t *v;

		if (l->p >= l->end || *l->p != '"') {
			SYNTAX(l, l->p, "string or '}' expected");
			goto bad;
		}
		at = l->p;
		if (!scan_string(l, &key, &klen))
			goto bad;
		/* the key may live in the scratch buffer, which the value can reuse */
		if (key == l->scratch.ptr) {
			kcopy = klen < sizeof(kbuf) ? kbuf : cp_malloc(klen + 1);
			if (!kcopy) {
				oom(l);
				goto bad;
			}
			memcpy(kcopy, key, klen);
			key = kcopy;
		}
		if (json_object_getn(obj, key, klen)) {
			SYNTAX(l, at, "duplicate object key");
			goto bad_key;
		}
		skip_ws(l);
		if (l->p >= l->end || *l->p != ':') {
			SYNTAX(l, l->p, "':' expected");
			goto bad_key;
		}
		l->p++;
		skip_ws(l);
		if (!(v = parse_value(l)))
			goto bad_key;
		if (json_object_setn_new_nocheck(obj, key, klen, v)) {
			oom(l);
			goto bad_key;
		}
		if (kcopy && kcopy != kbuf)
			cp_free(kcopy);
		skip_ws(l);
		if (l->p < l->end && *l->p == ',') {
			l->p++;
			skip_ws(l);
			continue;
		}
		if (l->p < l->end && *l->p == '}') {
			l->p++;
			l->depth--;
			return obj;
		}
		SYNTAX(l, l->p, "',' or '}' expected");
		goto bad;
bad_key:
		if (kcopy && kcopy != kbuf)
			cp_free(kcopy);
		goto bad;
	}
bad:
	json_decref(obj);
	return NULL;
}

static json_t *parse_array(struct loader *l)
{
	json_t *arr;

	if (!enter(l))
		return NULL;
	if (!(arr = json_array()))
		return oom(l);
	l->p++;
	skip_ws(l);
	if (l->p < l->end && *l->p == ']') {
		l->p++;
		l->depth--;
		return arr;
	}
	for (;;) {
		json_t *v = parse_value(l);
		if (!v)
			goto bad;
		if (json_array_append_new(arr, v)) {
			oom(l);
			goto bad;
		}
		skip_ws(l);
		if (l->p < l->end && *l->p == ',') {
			l->p++;
			skip_ws(l);
			continue;
		}
		if (l->p < l->end && *l->p == ']') {
			l->p++;
			l->depth--;
			return arr;
		}
		SYNTAX(l, l->p, "',' or ']' expected");
		goto bad;
	}
bad:
	json_decref(arr);
	return NULL;
}

static json_t *literal(struct loader *l, const char *word, json_t *value)
{
	size_t n = strlen(word);
	if ((size_t)(l->end - l->p) < n || memcmp(l->p, word, n) != 0) {
		SYNTAX(l, l->p, "invalid token");
		return NULL;
	}
	l->p += n;
	return value;
}

static json_t *parse_value(struct loader *l)
{
	if (l->p >= l->end) {
		SYNTAX(l, l->p, "premature end of input");
		return NULL;
	}
	switch (*l->p) {
	case '{':
		return parse_object(l);
	case '[':
		return parse_array(l);
	case '"': {
		const unsigned char *at = l->p;
		const char *text;
		size_t len;
		json_t *s;
		if (!scan_string(l, &text, &len))
			return NULL;
		if (len > CP_LIMIT_STRING_BYTES) {
			fail(l, at, CP_ETOOBIG, "too-big",
			     "a string value of %zu bytes exceeds the limit of %u bytes", len,
			     CP_LIMIT_STRING_BYTES);
			return NULL;
		}
		if (!(s = json_stringn_nocheck(text, len)))
			return oom(l);
		return s;
	}
	case 't':
		return literal(l, "true", json_true());
	case 'f':
		return literal(l, "false", json_false());
	case 'n':
		return literal(l, "null", json_null());
	default:
		return parse_number(l);
	}
}

/* line and column (in bytes, from 1) of a position, for error messages */
static void position(const struct loader *l, const unsigned char *at, unsigned *line,
		     unsigned *column)
{
	const unsigned char *bol = l->start;

	*line = 1;
	for (const unsigned char *p = l->start; p < at; p++)
		if (*p == '\n') {
			(*line)++;
			bol = p + 1;
		}
	*column = (unsigned)(at - bol) + 1;
}

enum cp_err cp__stix_json_load(const char *text, size_t len, json_t **out, struct cp_diag *diag)
{
	struct loader l;
	json_t *j = NULL;

	memset(&l, 0, sizeof(l));
	l.start = l.p = (const unsigned char *)text;
	l.end = l.start + len;
	cp_buf_init(&l.scratch, CP_LIMIT_DOC_BYTES);
	skip_ws(&l);
	if (l.p < l.end && (*l.p == '{' || *l.p == '['))
		j = parse_value(&l);
	else
		SYNTAX(&l, l.p, "'[' or '{' expected");
	if (j) {
		skip_ws(&l);
		if (l.p < l.end) {
			SYNTAX(&l, l.p, "end of file expected");
			json_decref(j);
			j = NULL;
		}
	}
	cp_buf_release(&l.scratch);
	if (j) {
		*out = j;
		return CP_OK;
	}
	if (l.err == CP_EPARSE) {
		unsigned line, column;
		position(&l, l.at, &line, &column);
		cp_diag_add_at(diag, CP_SEV_ERROR, l.code, line, column, "invalid JSON: %s",
			       l.msg);
	} else {
		cp_diag_add(diag, CP_SEV_ERROR, l.code, "", "%s", l.msg);
	}
	return l.err;
}
