/* JSON text -> jansson tree with the limits STIX input needs. */
#include "internal.h"

enum cp_err cp_stix_json_parse(const char *text, size_t len, json_t **out, struct cp_diag *diag)
{
	cp_json_use_cp_alloc();
	if (len > CP_LIMIT_DOC_BYTES) {
		cp_diag_add(diag, CP_SEV_ERROR, "too-big", "",
			    "document is %zu bytes; the limit is %u", len, CP_LIMIT_DOC_BYTES);
		return CP_ETOOBIG;
	}
	return cp__stix_json_load(text, len, out, diag);
}

/* ------------------------------------------------- member element texts */

static size_t skip_ws(const char *t, size_t len, size_t i)
{
	while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	return i;
}

/* t[i] is '"': the index after the closing quote, or len if there is none. */
static size_t skip_string(const char *t, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (t[i] == '\\')
			i++;
		else if (t[i] == '"')
			return i + 1;
	}
	return len;
}

/* The index after the value that starts at i (valid JSON assumed; len on trouble). */
static size_t skip_value(const char *t, size_t len, size_t i)
{
	size_t depth = 0;

	if (i >= len)
		return len;
	if (t[i] == '"')
		return skip_string(t, len, i);
	if (t[i] != '{' && t[i] != '[') {
		while (i < len && !strchr(",]} \t\r\n", t[i]))
			i++;
		return i;
	}
	while (i < len) {
		char ch = t[i];
		if (ch == '"') {
			i = skip_string(t, len, i);
			continue;
		}
		if (ch == '{' || ch == '[')
			depth++;
		else if ((ch == '}' || ch == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return len;
}

static int hex4(const char *t)
{
	int v = 0;

	for (int k = 0; k < 4; k++) {
		int d = cp_hex_digit(t[k]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * Does the string at t[i] (a quote) decode to key? Escapes count: "\u006fbjects" is
 * "objects" to the parser, so it must be here too.
 */
static bool string_is(const char *t, size_t len, size_t i, const char *key)
{
	size_t k = 0, n = strlen(key);

	for (i++; i < len && t[i] != '"'; i++) {
		int ch = (unsigned char)t[i];
		if (ch == '\\') {
			if (++i >= len)
				return false;
			switch (t[i]) {
			case 'u':
				if (i + 4 >= len || (ch = hex4(t + i + 1)) < 0 || ch > 0x7f)
					return false; /* the keys looked for are ASCII */
				i += 4;
				break;
			case '"': case '\\': case '/':
				ch = t[i];
				break;
			default:
				return false; /* \b \f \n \r \t: not in the keys looked for */
			}
		}
		if (k >= n || key[k] != ch)
			return false;
		k++;
	}
	return i < len && k == n;
}

/* Copy t[a, b) without white space outside strings. */
static void put_compact(struct cp_buf *out, const char *t, size_t a, size_t b)
{
	size_t run = a;

	for (size_t i = a; i < b;) {
		char ch = t[i];
		if (ch == '"') {
			i = skip_string(t, b, i);
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
			cp_buf_append(out, t + run, i - run);
			while (i < b && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
				i++;
			run = i;
			continue;
		}
		i++;
	}
	cp_buf_append(out, t + run, b - run);
}

void cp_stix_json_texts_release(struct cp_stix_json_texts *t)
{
	if (!t)
		return;
	cp_free(t->buf);
	cp_free(t->offsets);
	memset(t, 0, sizeof(*t));
}

enum cp_err cp_stix_json_member_texts(const char *text, size_t len, const char *key,
				      struct cp_stix_json_texts *out)
{
	struct cp_buf buf = CP_BUF_INIT(0);
	size_t *offsets = NULL, count = 0, cap = 0, i;
	bool found = false;
	enum cp_err err = CP_EPARSE;

	memset(out, 0, sizeof(*out));
	/* no NUL byte belongs in JSON text; the parser may stop at one, so this scanner
	 * declines (the caller serialises instead) */
	if (memchr(text, '\0', len))
		goto out;
	i = skip_ws(text, len, 0);
	if (i >= len || text[i] != '{')
		goto out;
	i = skip_ws(text, len, i + 1);
	while (i < len && text[i] != '}') {
		bool match;
		if (text[i] != '"')
			goto out;
		match = string_is(text, len, i, key);
		i = skip_ws(text, len, skip_string(text, len, i));
		if (i >= len || text[i] != ':')
			goto out;
		i = skip_ws(text, len, i + 1);
		if (match) {
			if (found || i >= len || text[i] != '[')
				goto out;
			found = true;
			i = skip_ws(text, len, i + 1);
			while (i < len && text[i] != ']') {
				size_t end = skip_value(text, len, i);
				if (end >= len)
					goto out;
				if (count == cap &&
				    !cp_array_grow((void **)&offsets, &cap, count + 1, sizeof(*offsets))) {
					err = CP_ENOMEM;
					goto out;
				}
				offsets[count++] = buf.len;
				put_compact(&buf, text, i, end);
				cp_buf_putc(&buf, '\0');
				i = skip_ws(text, len, end);
				if (i < len && text[i] == ',')
					i = skip_ws(text, len, i + 1);
			}
			if (i >= len)
				goto out;
			i++;
		} else {
			i = skip_value(text, len, i);
		}
		i = skip_ws(text, len, i);
		if (i < len && text[i] == ',')
			i = skip_ws(text, len, i + 1);
	}
	if (!found || i >= len) {
		err = found ? CP_EPARSE : CP_ENOTFOUND;
		goto out;
	}
	if ((err = cp_buf_finish(&buf)))
		goto out;
	out->buf = cp_buf_take(&buf);
	if (!out->buf && count) {
		err = CP_ENOMEM;
		goto out;
	}
	out->offsets = offsets;
	out->count = count;
	offsets = NULL;
	err = CP_OK;
out:
	cp_free(offsets);
	cp_buf_release(&buf);
	return err;
}
