/*
 * Identifiers (spec 2.9): type--UUID syntax, random UUIDv4, and the deterministic
 * UUIDv5 of SCOs over the RFC 8785 (JCS) serialization of their id-contributing
 * properties.
 */
#include <nettle/sha1.h>
#include <sys/random.h>

#include "internal.h"

/* RFC 4122: 8-4-4-4-12 hex digits, variant bits 10xx. */
bool cp__stix_uuid_ok(const char *s, size_t len)
{
	if (len != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (cp_hex_digit((unsigned char)s[i]) < 0) {
			return false;
		}
	}
	return (cp_hex_digit((unsigned char)s[19]) & 0xc) == 0x8;
}

unsigned cp__stix_uuid_version(const char *s)
{
	return (unsigned)cp_hex_digit((unsigned char)s[14]);
}

bool cp_stix_id_is_valid(const char *id, size_t *type_len)
{
	const char *sep = strstr(id, "--");
	size_t tlen;
	char type[CP_LIMIT_TYPE_LEN + 1];
	const char *why;

	if (!sep)
		return false;
	tlen = (size_t)(sep - id);
	if (tlen < CP_LIMIT_TYPE_MIN || tlen > CP_LIMIT_TYPE_LEN)
		return false;
	memcpy(type, id, tlen);
	type[tlen] = '\0';
	if (!cp__stix_type_name_ok(type, &why))
		return false;
	if (!cp__stix_uuid_ok(sep + 2, strlen(sep + 2)))
		return false;
	if (type_len)
		*type_len = tlen;
	return true;
}

static void format_uuid(const uint8_t u[16], char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 15];
	}
	out[o] = '\0';
}

enum cp_err cp_stix_id_new(const char *type, char out[CP_STIX_ID_MAX])
{
	uint8_t u[16];
	size_t tlen = strlen(type);
	const char *why;

	if (!cp__stix_type_name_ok(type, &why))
		return CP_EINVAL;
	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
		return CP_EIO;
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	memcpy(out, type, tlen);
	out[tlen] = '-';
	out[tlen + 1] = '-';
	format_uuid(u, out + tlen + 2);
	return CP_OK;
}

/* ------------------------------------------------------------ RFC 8785 JCS */

static void jcs_string(struct cp_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	cp_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"':
			cp_buf_append(b, "\\\"", 2);
			break;
		case '\\':
			cp_buf_append(b, "\\\\", 2);
			break;
		case '\b':
			cp_buf_append(b, "\\b", 2);
			break;
		case '\f':
			cp_buf_append(b, "\\f", 2);
			break;
		case '\n':
			cp_buf_append(b, "\\n", 2);
			break;
		case '\r':
			cp_buf_append(b, "\\r", 2);
			break;
		case '\t':
			cp_buf_append(b, "\\t", 2);
			break;
		default:
			if (c < 0x20) {
				char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
				cp_buf_append(b, e, 6);
			} else {
				cp_buf_putc(b, (char)c);
			}
		}
	}
	cp_buf_putc(b, '"');
}

/* ECMAScript Number.prototype.toString for finite doubles (RFC 8785 3.2.2.3). */
static void jcs_number(struct cp_buf *b, double d)
{
	char tmp[40], digits[20];
	int prec, exp10, nd;
	char *e;

	if (d == 0) {
		cp_buf_putc(b, '0');
		return;
	}
	if (d < 0) {
		cp_buf_putc(b, '-');
		d = -d;
	}
	/* shortest round-tripping precision */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* tmp is d.ddde[+-]xx: split into digits and exponent */
	nd = 0;
	for (char *p = tmp; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	e = strchr(tmp, 'e');
	exp10 = (int)strtol(e + 1, NULL, 10) + 1; /* value = 0.digits * 10^exp10 */
	if (nd <= exp10 && exp10 <= 21) {
		cp_buf_append(b, digits, (size_t)nd);
		for (int i = nd; i < exp10; i++)
			cp_buf_putc(b, '0');
	} else if (0 < exp10 && exp10 <= 21) {
		cp_buf_append(b, digits, (size_t)exp10);
		cp_buf_putc(b, '.');
		cp_buf_append(b, digits + exp10, (size_t)(nd - exp10));
	} else if (-6 < exp10 && exp10 <= 0) {
		cp_buf_append(b, "0.", 2);
		for (int i = 0; i < -exp10; i++)
			cp_buf_putc(b, '0');
		cp_buf_append(b, digits, (size_t)nd);
	} else {
		cp_buf_putc(b, digits[0]);
		if (nd > 1) {
			cp_buf_putc(b, '.');
			cp_buf_append(b, digits + 1, (size_t)(nd - 1));
		}
		cp_buf_printf(b, "e%c%d", exp10 - 1 < 0 ? '-' : '+', abs(exp10 - 1));
	}
}

static int cmp_keys(const void *a, const void *b)
{
	/* byte order of UTF-8 equals code point order; RFC 8785 sorts by UTF-16 code
	 * units, which differs only for keys mixing U+E000..U+FFFF with astral code
	 * points, which STIX property names (ASCII) never do */
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void jcs_value(struct cp_buf *b, const json_t *j, unsigned depth);

static void jcs_object(struct cp_buf *b, const json_t *j, unsigned depth)
{
	size_t n = json_object_size(j), k = 0;
	const char **keys;
	const char *key;
	json_t *val;

	if (depth > CP_LIMIT_JSON_DEPTH) {
		b->err = CP_ETOOBIG;
		return;
	}
	keys = cp_calloc(n ? n : 1, sizeof(*keys));
	if (!keys) {
		b->err = CP_ENOMEM;
		return;
	}
	json_object_foreach((json_t *)j, key, val)
		keys[k++] = key;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	cp_buf_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			cp_buf_putc(b, ',');
		jcs_string(b, keys[i], strlen(keys[i]));
		cp_buf_putc(b, ':');
		jcs_value(b, json_object_get(j, keys[i]), depth + 1);
	}
	cp_buf_putc(b, '}');
	cp_free(keys);
}

static void jcs_value(struct cp_buf *b, const json_t *j, unsigned depth)
{
	size_t i;
	const json_t *e;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		jcs_object(b, j, depth);
		break;
	case JSON_ARRAY:
		cp_buf_putc(b, '[');
		json_array_foreach(j, i, e)
		{
			if (i)
				cp_buf_putc(b, ',');
			jcs_value(b, e, depth + 1);
		}
		cp_buf_putc(b, ']');
		break;
	case JSON_STRING:
		jcs_string(b, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		cp_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case JSON_REAL:
		jcs_number(b, json_real_value(j));
		break;
	case JSON_TRUE:
		cp_buf_puts(b, "true");
		break;
	case JSON_FALSE:
		cp_buf_puts(b, "false");
		break;
	case JSON_NULL:
		cp_buf_puts(b, "null");
		break;
	}
}

/* ------------------------------------------------------------- SCO ids */

/* STIX namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 */
static const uint8_t stix_ns[16] = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
				    0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};

/* The one hash that contributes (spec 6.1, 6.7, 6.17): first of MD5, SHA-1, SHA-256,
 * SHA-512 present; otherwise the first key in code point order. */
static json_t *pick_hash(const json_t *hashes)
{
	static const char *const pref[] = {"MD5", "SHA-1", "SHA-256", "SHA-512"};
	const char *key, *best = NULL;
	json_t *val, *out;

	for (size_t i = 0; i < CP_ARRAY_LEN(pref) && !best; i++)
		if (json_object_get(hashes, pref[i]))
			best = pref[i];
	if (!best)
		json_object_foreach((json_t *)hashes, key, val)
			if (!best || strcmp(key, best) < 0)
				best = key;
	if (!best)
		return NULL;
	out = json_object();
	if (out && json_object_set(out, best, json_object_get(hashes, best))) {
		json_decref(out);
		return NULL;
	}
	return out;
}

enum cp_err cp_stix_sco_id(const json_t *obj, char out[CP_STIX_ID_MAX])
{
	const json_t *tj = json_object_get(obj, "type");
	const struct cp__stix_type *t;
	json_t *contrib = NULL;
	struct cp_buf b = CP_BUF_INIT(CP_LIMIT_DOC_BYTES);
	struct sha1_ctx ctx;
	uint8_t digest[SHA1_DIGEST_SIZE];
	enum cp_err err = CP_OK;
	size_t tlen;

	if (!json_is_string(tj))
		return CP_EINVAL;
	t = cp__stix_find_type(json_string_value(tj));
	if (!t || t->kind != CP_STIX_SCO || !t->id_contrib)
		return CP_ENOTFOUND;
	contrib = json_object();
	if (!contrib)
		return CP_ENOMEM;
	for (const char *const *p = t->id_contrib; *p; p++) {
		json_t *val = json_object_get(obj, *p);
		int rc;
		if (!val)
			continue;
		if (strcmp(*p, "hashes") == 0 && json_is_object(val)) {
			json_t *one = pick_hash(val);
			if (!one) {
				if (json_object_size(val) == 0)
					continue;
				err = CP_ENOMEM;
				goto out;
			}
			rc = json_object_set_new(contrib, *p, one);
		} else {
			rc = json_object_set(contrib, *p, val);
		}
		if (rc) {
			err = CP_ENOMEM;
			goto out;
		}
	}
	if (json_object_size(contrib) == 0) {
		err = CP_ENOTFOUND;
		goto out;
	}
	jcs_value(&b, contrib, 0);
	err = cp_buf_finish(&b);
	if (err)
		goto out;
	sha1_init(&ctx);
	sha1_update(&ctx, sizeof(stix_ns), stix_ns);
	sha1_update(&ctx, b.len, (const uint8_t *)b.ptr);
	sha1_digest(&ctx, sizeof(digest), digest);
	digest[6] = (uint8_t)((digest[6] & 0x0f) | 0x50);
	digest[8] = (uint8_t)((digest[8] & 0x3f) | 0x80);
	tlen = json_string_length(tj);
	memcpy(out, json_string_value(tj), tlen);
	out[tlen] = '-';
	out[tlen + 1] = '-';
	format_uuid(digest, out + tlen + 2);
out:
	cp_buf_release(&b);
	json_decref(contrib);
	return err;
}
