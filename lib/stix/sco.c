/*
 * STIX Cyber-observable Objects (spec section 6) with their predefined extensions
 * and id-contributing properties (for deterministic UUIDv5 ids).
 *
 * The tables say what each property is; the check functions hold the rules that
 * span properties or look inside values (address syntax, "at least one of", the
 * value types of dictionaries). Properties of sub-objects (MIME parts, registry
 * values, PE sections, ...) are checked by the engine through `sub` tables; their
 * unknown keys and "at least one property" rules are checked here, since the
 * engine ignores unknown keys inside sub-objects.
 *
 * No SCO property is marked deprecated: the drafts deprecated the embedded
 * resolves_to_refs/belongs_to_refs, but STIX 2.1 as published (and its errata)
 * lists them as ordinary optional properties.
 */
#include <arpa/inet.h>
#include <strings.h>

#include "internal.h"

/* spec 2.10: integers are signed 54-bit values unless stated otherwise */
#define INT54_MAX 9007199254740991.0

#define END {NULL, 0, 0, NULL, NULL, 0, 0, NULL}
#define P(name, kind, flags) {name, kind, flags, NULL, NULL, 0, 0, NULL}
#define V(name, kind, flags, vocab) {name, kind, flags, vocab, NULL, 0, 0, NULL}
#define R(name, kind, flags, refs) {name, kind, flags, NULL, refs, 0, 0, NULL}
#define S(name, kind, flags, sub) {name, kind, flags, NULL, NULL, 0, 0, sub}
/* any integer / a non-negative integer / an integer in [lo, hi] */
#define I(name, flags)                                                                             \
	{name, PK_INTEGER, (flags) | PF_RANGE, NULL, NULL, -INT54_MAX, INT54_MAX, NULL}
#define U(name, flags) {name, PK_INTEGER, (flags) | PF_RANGE, NULL, NULL, 0, INT54_MAX, NULL}
#define RANGE(name, kind, lo, hi) {name, kind, PF_RANGE, NULL, NULL, lo, hi, NULL}

static const char *const refs_artifact[] = {"artifact", NULL};
static const char *const refs_artifact_file[] = {"artifact", "file", NULL};
static const char *const refs_as[] = {"autonomous-system", NULL};
static const char *const refs_directory[] = {"directory", NULL};
static const char *const refs_email_addr[] = {"email-addr", NULL};
static const char *const refs_file[] = {"file", NULL};
static const char *const refs_file_dir[] = {"file", "directory", NULL};
static const char *const refs_mac[] = {"mac-addr", NULL};
static const char *const refs_net_traffic[] = {"network-traffic", NULL};
static const char *const refs_process[] = {"process", NULL};
static const char *const refs_resolves[] = {"ipv4-addr", "ipv6-addr", "domain-name", NULL};
static const char *const refs_endpoint[] = {"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name",
					    NULL};
static const char *const refs_user_account[] = {"user-account", NULL};

/* ------------------------------------------------------------------ helpers */

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static const struct cp__stix_prop *find_in(const struct cp__stix_prop *props, const char *name)
{
	for (; props && props->name; props++)
		if (strcmp(props->name, name) == 0)
			return props;
	return NULL;
}

/* The string value of obj[prop], or NULL when absent or not a string. */
static const char *str_of(const json_t *obj, const char *prop, size_t *len)
{
	const json_t *j = json_object_get(obj, prop);

	if (!json_is_string(j))
		return NULL;
	if (len)
		*len = json_string_length(j);
	return json_string_value(j);
}

static bool is_true(const json_t *obj, const char *prop)
{
	return json_is_true(json_object_get(obj, prop));
}

/*
 * Unknown keys inside a sub-object (MIME part, registry value, ...): the engine skips
 * them, but a misspelt property there is as likely as at the top level. x_ is the
 * custom-property prefix.
 */
static void unknown_keys(struct cp__stix_vctx *v, const json_t *obj,
			 const struct cp__stix_prop *props, const char *what)
{
	const char *key;
	const json_t *val;

	json_object_foreach((json_t *)obj, key, val)
	{
		(void)val;
		if (!find_in(props, key) && strncmp(key, "x_", 2) != 0)
			cp__stix_warn_at(v, key, "unknown-property", "'%s' is not a property of %s",
					 key, what);
	}
}

/*
 * "MUST contain at least one property from this type/extension"; skip names one that
 * does not count (the required pe_type of windows-pebinary-ext).
 */
static void require_any(struct cp__stix_vctx *v, const json_t *obj,
			const struct cp__stix_prop *props, const char *skip, const char *what)
{
	for (const struct cp__stix_prop *p = props; p->name; p++)
		if ((!skip || strcmp(p->name, skip) != 0) && json_object_get(obj, p->name))
			return;
	cp__stix_err(v, "missing-property", "%s must contain at least one of its properties%s%s",
		     what, skip ? " besides " : "", skip ? skip : "");
}

/*
 * Call fn for obj[prop] if it is an object, or for each object in it if it is a list,
 * with the pointer at that object.
 */
typedef void (*sub_fn)(struct cp__stix_vctx *v, const json_t *item);

static void each_sub(struct cp__stix_vctx *v, const json_t *obj, const char *prop, sub_fn fn)
{
	const json_t *j = json_object_get(obj, prop);
	size_t mark, i;
	const json_t *e;

	if (!json_is_object(j) && !json_is_array(j))
		return;
	mark = cp__stix_push(v, prop);
	if (json_is_object(j)) {
		fn(v, j);
	} else {
		json_array_foreach(j, i, e)
		{
			size_t m2;
			if (!json_is_object(e))
				continue;
			m2 = cp__stix_push_index(v, i);
			fn(v, e);
			cp__stix_pop(v, m2);
		}
	}
	cp__stix_pop(v, mark);
}

/* What the values of a dictionary property MUST be. */
enum dict_value {
	DV_STRING,
	DV_INTEGER,
	DV_INT_OR_STRING,
	DV_STRING_LIST,
};

static void check_dict_values(struct cp__stix_vctx *v, const json_t *obj, const char *prop,
			      enum dict_value want)
{
	static const char *const what[] = {"a string", "an integer", "an integer or a string",
					   "a list of strings"};
	const json_t *d = json_object_get(obj, prop);
	const char *key;
	const json_t *val;
	size_t mark;

	if (!json_is_object(d))
		return; /* the table check reported it */
	mark = cp__stix_push(v, prop);
	json_object_foreach((json_t *)d, key, val)
	{
		bool ok = false;
		switch (want) {
		case DV_STRING:
			ok = json_is_string(val);
			break;
		case DV_INTEGER:
			ok = json_is_integer(val);
			break;
		case DV_INT_OR_STRING:
			ok = json_is_integer(val) || json_is_string(val);
			break;
		case DV_STRING_LIST:
			ok = json_is_array(val);
			if (ok && json_array_size(val) == 0) {
				cp__stix_err_at(v, key, "empty-list",
						"lists must not be empty; omit the key instead");
				continue;
			}
			for (size_t i = 0; ok && i < json_array_size(val); i++)
				ok = json_is_string(json_array_get(val, i));
			break;
		}
		if (!ok)
			cp__stix_err_at(v, key, "type-mismatch", "the values of '%s' must be %s",
					prop, what[want]);
	}
	cp__stix_pop(v, mark);
}

/* A CIDR suffix "/n", 0 <= n <= max, without leading zeros. */
static bool cidr_ok(const char *s, unsigned max)
{
	unsigned n = 0;
	size_t i;

	if (!*s)
		return false;
	for (i = 0; s[i]; i++) {
		if (!is_digit(s[i]) || i >= 3)
			return false;
		n = n * 10 + (unsigned)(s[i] - '0');
	}
	if (i > 1 && s[0] == '0')
		return false;
	return n <= max;
}

/* An address accepted by inet_pton, optionally followed by a CIDR prefix. */
static bool ip_ok(int af, const char *s, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;

	if (strlen(s) != len || alen == 0 || alen >= sizeof(addr))
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(af, addr, bin) != 1)
		return false;
	return !slash || cidr_ok(slash + 1, af == AF_INET ? 32 : 128);
}

/* ----------------------------------------------------------------- artifact */

static const struct cp__stix_prop artifact_props[] = {
	P("mime_type", PK_STRING, 0),
	P("payload_bin", PK_BINARY, 0),
	P("url", PK_STRING, 0),
	P("hashes", PK_HASHES, 0),
	V("encryption_algorithm", PK_ENUM, 0, cp__stix_vocab_encryption_algorithm),
	P("decryption_key", PK_STRING, 0),
	END,
};

/* RFC 6838 4.2 restricted-name: 1-127 of ALPHA DIGIT !#$&-^_.+, starting alnum. */
static bool restricted_name(const char *s, size_t n)
{
	if (n == 0 || n > 127 || !is_alnum(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(s[i]) && !strchr("!#$&-^_.+", s[i]))
			return false;
	return true;
}

/* mime_type SHOULD be a template of the IANA media type registry: type/subtype. */
static void check_mime_type(struct cp__stix_vctx *v, const json_t *obj)
{
	size_t n;
	const char *s = str_of(obj, "mime_type", &n);
	const char *slash;

	if (!s)
		return;
	slash = memchr(s, '/', n);
	if (!slash || !restricted_name(s, (size_t)(slash - s)) ||
	    !restricted_name(slash + 1, n - (size_t)(slash - s) - 1))
		cp__stix_warn_at(v, "mime_type", "mime-type-format",
				 "'%s' is not a media type of the form type/subtype (IANA "
				 "registry template)",
				 s);
}

/* RFC 3986: scheme ":" hier-part, no spaces or control characters. */
static bool url_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (strlen(s) != n || n == 0 || !is_alpha(s[0]))
		return false;
	while (i < n && (is_alnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
		i++;
	if (i == n || s[i] != ':' || i + 1 == n)
		return false;
	for (; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void check_url_value(struct cp__stix_vctx *v, const json_t *obj, const char *prop)
{
	size_t n;
	const char *s = str_of(obj, prop, &n);

	if (s && !url_ok(s, n))
		cp__stix_err_at(v, prop, "url-format",
				"'%s' is not a URL (RFC 3986: scheme \":\" followed by the rest, "
				"without spaces or control characters)",
				s);
}

static void artifact_check(struct cp__stix_vctx *v, const json_t *obj)
{
	bool has_payload = json_object_get(obj, "payload_bin") != NULL;
	bool has_url = json_object_get(obj, "url") != NULL;

	if (!has_payload && !has_url)
		cp__stix_err(v, "missing-property",
			     "an artifact must have one of 'payload_bin' and 'url'");
	if (has_payload && has_url)
		cp__stix_err_at(v, "url", "property-not-allowed",
				"'url' must not be present when 'payload_bin' is provided");
	if (has_url && !json_object_get(obj, "hashes"))
		cp__stix_err_at(v, "hashes", "missing-property",
				"'hashes' must be present when 'url' is present");
	if (json_object_get(obj, "decryption_key") && !json_object_get(obj, "encryption_algorithm"))
		cp__stix_err_at(v, "decryption_key", "property-not-allowed",
				"'decryption_key' must not be present without "
				"'encryption_algorithm'");
	check_url_value(v, obj, "url");
	check_mime_type(v, obj);
}

static const char *const artifact_contrib[] = {"hashes", "payload_bin", NULL};

static const struct cp__stix_type artifact_type = {
	"artifact", CP_STIX_SCO, artifact_props, artifact_check, artifact_contrib, NULL};

/* -------------------------------------------------------- autonomous-system */

static const struct cp__stix_prop as_props[] = {
	I("number", PF_REQUIRED),
	P("name", PK_STRING, 0),
	P("rir", PK_STRING, 0),
	END,
};

static const char *const as_contrib[] = {"number", NULL};

static const struct cp__stix_type as_type = {"autonomous-system", CP_STIX_SCO, as_props, NULL,
					     as_contrib, NULL};

/* ---------------------------------------------------------------- directory */

static const struct cp__stix_prop directory_props[] = {
	P("path", PK_STRING, PF_REQUIRED),
	P("path_enc", PK_STRING, 0),
	P("ctime", PK_TIMESTAMP, 0),
	P("mtime", PK_TIMESTAMP, 0),
	P("atime", PK_TIMESTAMP, 0),
	R("contains_refs", PK_REF_LIST, 0, refs_file_dir),
	END,
};

static const char *const directory_contrib[] = {"path", NULL};

static const struct cp__stix_type directory_type = {"directory", CP_STIX_SCO, directory_props,
						    NULL, directory_contrib, NULL};

/* -------------------------------------------------------------- domain-name */

static const struct cp__stix_prop domain_props[] = {
	P("value", PK_STRING, PF_REQUIRED | PF_NONEMPTY),
	R("resolves_to_refs", PK_REF_LIST, 0, refs_resolves),
	END,
};

/*
 * RFC 1034 names: dot-separated labels of 1-63 octets, 253 in all, an optional final
 * dot. Letters, digits and '-' (not first or last), plus '_' (service labels) and any
 * non-ASCII octet (RFC 5890 U-labels). A warning only: the MUST cites two RFCs whose
 * full rules (IDNA2008 tables) are beyond a structural check.
 */
static const char *hostname_problem(const char *s, size_t n)
{
	size_t label = 0;

	if (strlen(s) != n)
		return "contains a NUL character";
	if (n > 254 || (n == 254 && s[n - 1] != '.'))
		return "is longer than 253 characters";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return "has an empty label";
			if (s[i - 1] == '-')
				return "has a label that ends with '-'";
			label = 0;
			continue;
		}
		if (c == ' ' || c == '\t')
			return "contains a space";
		if (!(c >= 0x80 || is_alnum((char)c) || c == '-' || c == '_'))
			return "contains a character not allowed in host names";
		if (c == '-' && label == 0)
			return "has a label that starts with '-'";
		if (++label > 63)
			return "has a label longer than 63 characters";
	}
	if (n && s[n - 1] == '-')
		return "has a label that ends with '-'";
	return NULL;
}

static void domain_check(struct cp__stix_vctx *v, const json_t *obj)
{
	size_t n;
	const char *s = str_of(obj, "value", &n);
	const char *why;

	if (s && n && (why = hostname_problem(s, n)))
		cp__stix_warn_at(v, "value", "domain-name-format",
				 "'%s' does not look like a domain name (RFC 1034): it %s", s, why);
}

static const char *const value_contrib[] = {"value", NULL};

static const struct cp__stix_type domain_type = {"domain-name", CP_STIX_SCO, domain_props,
						 domain_check, value_contrib, NULL};

/* --------------------------------------------------------------- email-addr */

static const struct cp__stix_prop email_addr_props[] = {
	P("value", PK_STRING, PF_REQUIRED | PF_NONEMPTY),
	P("display_name", PK_STRING, 0),
	R("belongs_to_ref", PK_REF, 0, refs_user_account),
	END,
};

static void email_addr_check(struct cp__stix_vctx *v, const json_t *obj)
{
	size_t n;
	const char *s = str_of(obj, "value", &n);
	const char *lt, *at;

	if (!s || n == 0)
		return;
	lt = strchr(s, '<');
	if (lt && strchr(lt, '>')) {
		cp__stix_err_at(v, "value", "email-addr-format",
				"'%s' must be the bare address (RFC 5322 addr-spec) without a "
				"display name or angle brackets; use 'display_name'",
				s);
		return;
	}
	at = strrchr(s, '@');
	if (!at || at == s || at[1] == '\0')
		cp__stix_warn_at(v, "value", "email-addr-format",
				 "'%s' is not an addr-spec of the form local-part@domain", s);
}

static const struct cp__stix_type email_addr_type = {
	"email-addr", CP_STIX_SCO, email_addr_props, email_addr_check, value_contrib, NULL};

/* ------------------------------------------------------------ email-message */

static const struct cp__stix_prop mime_part_props[] = {
	P("body", PK_STRING, 0),
	R("body_raw_ref", PK_REF, 0, refs_artifact_file),
	P("content_type", PK_STRING, 0),
	P("content_disposition", PK_STRING, 0),
	END,
};

static const struct cp__stix_prop email_message_props[] = {
	P("is_multipart", PK_BOOL, PF_REQUIRED),
	P("date", PK_TIMESTAMP, 0),
	P("content_type", PK_STRING, 0),
	R("from_ref", PK_REF, 0, refs_email_addr),
	R("sender_ref", PK_REF, 0, refs_email_addr),
	R("to_refs", PK_REF_LIST, 0, refs_email_addr),
	R("cc_refs", PK_REF_LIST, 0, refs_email_addr),
	R("bcc_refs", PK_REF_LIST, 0, refs_email_addr),
	P("message_id", PK_STRING, 0),
	P("subject", PK_STRING, 0),
	P("received_lines", PK_STRING_LIST, 0),
	P("additional_header_fields", PK_DICT, 0),
	P("body", PK_STRING, 0),
	S("body_multipart", PK_OBJECT_LIST, 0, mime_part_props),
	R("raw_email_ref", PK_REF, 0, refs_artifact),
	END,
};

/* An RFC 2047 encoded-word: "=?" charset "?" B|Q "?" encoded-text "?=". */
static bool has_encoded_word(const char *s)
{
	for (const char *p = strstr(s, "=?"); p; p = strstr(p + 2, "=?")) {
		const char *q = p + 2;
		size_t n = 0;
		while (q[n] && q[n] != '?' && (unsigned char)q[n] > 0x20)
			n++;
		if (n == 0 || q[n] != '?' || !strchr("BbQq", q[n + 1]) || !q[n + 1] ||
		    q[n + 2] != '?')
			continue;
		q += n + 3;
		while (*q && *q != '?' && (unsigned char)*q > 0x20)
			q++;
		if (q[0] == '?' && q[1] == '=')
			return true;
	}
	return false;
}

/*
 * 6.6: header values encoded per RFC 2047 MUST be decoded before inclusion. val is
 * at v->ptr + "/" + prop, or at v->ptr itself when prop is NULL.
 */
static void check_decoded(struct cp__stix_vctx *v, const json_t *val, const char *prop)
{
	size_t mark;

	if (!json_is_string(val) || !has_encoded_word(json_string_value(val)))
		return;
	mark = prop ? cp__stix_push(v, prop) : v->ptr.len;
	cp__stix_err(v, "header-encoding",
		     "'%s' holds an RFC 2047 encoded-word; header values must be decoded to "
		     "Unicode",
		     json_string_value(val));
	cp__stix_pop(v, mark);
}

static void mime_part_check(struct cp__stix_vctx *v, const json_t *part)
{
	unknown_keys(v, part, mime_part_props, "email-mime-part-type");
	if (!json_object_get(part, "body") && !json_object_get(part, "body_raw_ref"))
		cp__stix_err(v, "missing-property",
			     "a MIME part must have one of 'body' and 'body_raw_ref'");
	check_decoded(v, json_object_get(part, "content_type"), "content_type");
	check_decoded(v, json_object_get(part, "content_disposition"), "content_disposition");
}

static void email_message_check(struct cp__stix_vctx *v, const json_t *obj)
{
	const json_t *mp = json_object_get(obj, "is_multipart");
	const json_t *headers = json_object_get(obj, "additional_header_fields");
	const char *key;
	const json_t *list;

	if (json_is_true(mp) && json_object_get(obj, "body"))
		cp__stix_err_at(v, "body", "property-not-allowed",
				"'body' must not be used when 'is_multipart' is true; use "
				"'body_multipart'");
	if (json_is_false(mp) && json_object_get(obj, "body_multipart"))
		cp__stix_err_at(v, "body_multipart", "property-not-allowed",
				"'body_multipart' must not be used when 'is_multipart' is false");
	check_dict_values(v, obj, "additional_header_fields", DV_STRING_LIST);
	check_decoded(v, json_object_get(obj, "subject"), "subject");
	check_decoded(v, json_object_get(obj, "content_type"), "content_type");
	if (json_is_object(headers)) {
		size_t mark = cp__stix_push(v, "additional_header_fields");
		json_object_foreach((json_t *)headers, key, list)
		{
			size_t m2 = cp__stix_push(v, key), i;
			const json_t *e;
			if (json_is_array(list)) {
				json_array_foreach(list, i, e)
				{
					size_t m3 = cp__stix_push_index(v, i);
					check_decoded(v, e, NULL);
					cp__stix_pop(v, m3);
				}
			}
			cp__stix_pop(v, m2);
		}
		cp__stix_pop(v, mark);
	}
	each_sub(v, obj, "body_multipart", mime_part_check);
}

static const char *const email_message_contrib[] = {"from_ref", "subject", "body", NULL};

static const struct cp__stix_type email_message_type = {
	"email-message", CP_STIX_SCO, email_message_props, email_message_check,
	email_message_contrib, NULL};

/* --------------------------------------------------------------------- file */

static const struct cp__stix_prop archive_ext_props[] = {
	R("contains_refs", PK_REF_LIST, PF_REQUIRED, refs_file_dir),
	P("comment", PK_STRING, 0),
	END,
};

static const struct cp__stix_prop ads_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("hashes", PK_HASHES, 0),
	U("size", 0),
	END,
};

static const struct cp__stix_prop ntfs_ext_props[] = {
	P("sid", PK_STRING, 0),
	S("alternate_data_streams", PK_OBJECT_LIST, 0, ads_props),
	END,
};

static void ads_check(struct cp__stix_vctx *v, const json_t *ads)
{
	unknown_keys(v, ads, ads_props, "alternate-data-stream-type");
}

static void ntfs_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	require_any(v, ext, ntfs_ext_props, NULL, "ntfs-ext");
	each_sub(v, ext, "alternate_data_streams", ads_check);
}

static const struct cp__stix_prop pdf_ext_props[] = {
	P("version", PK_STRING, 0),
	P("is_optimized", PK_BOOL, 0),
	P("document_info_dict", PK_DICT, 0),
	P("pdfid0", PK_STRING, 0),
	P("pdfid1", PK_STRING, 0),
	END,
};

static void pdf_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	require_any(v, ext, pdf_ext_props, NULL, "pdf-ext");
	check_dict_values(v, ext, "document_info_dict", DV_STRING);
}

static const struct cp__stix_prop raster_ext_props[] = {
	I("image_height", 0),
	I("image_width", 0),
	I("bits_per_pixel", 0),
	P("exif_tags", PK_DICT, 0),
	END,
};

static void raster_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	require_any(v, ext, raster_ext_props, NULL, "raster-image-ext");
	check_dict_values(v, ext, "exif_tags", DV_INT_OR_STRING);
}

static const struct cp__stix_prop pe_optional_header_props[] = {
	P("magic_hex", PK_HEX, 0),
	I("major_linker_version", 0),
	I("minor_linker_version", 0),
	U("size_of_code", 0),
	U("size_of_initialized_data", 0),
	U("size_of_uninitialized_data", 0),
	I("address_of_entry_point", 0),
	I("base_of_code", 0),
	I("base_of_data", 0),
	I("image_base", 0),
	I("section_alignment", 0),
	I("file_alignment", 0),
	I("major_os_version", 0),
	I("minor_os_version", 0),
	I("major_image_version", 0),
	I("minor_image_version", 0),
	I("major_subsystem_version", 0),
	I("minor_subsystem_version", 0),
	P("win32_version_value_hex", PK_HEX, 0),
	U("size_of_image", 0),
	U("size_of_headers", 0),
	P("checksum_hex", PK_HEX, 0),
	P("subsystem_hex", PK_HEX, 0),
	P("dll_characteristics_hex", PK_HEX, 0),
	U("size_of_stack_reserve", 0),
	U("size_of_stack_commit", 0),
	U("size_of_heap_reserve", 0),
	U("size_of_heap_commit", 0),
	P("loader_flags_hex", PK_HEX, 0),
	I("number_of_rva_and_sizes", 0),
	P("hashes", PK_HASHES, 0),
	END,
};

static const struct cp__stix_prop pe_section_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	U("size", 0),
	/* Shannon entropy over bytes can only be 0..8 */
	RANGE("entropy", PK_FLOAT, 0, 8),
	P("hashes", PK_HASHES, 0),
	END,
};

static const struct cp__stix_prop pebinary_ext_props[] = {
	V("pe_type", PK_OV, PF_REQUIRED, cp__stix_vocab_windows_pebinary_type),
	P("imphash", PK_STRING, 0),
	P("machine_hex", PK_HEX, 0),
	U("number_of_sections", 0),
	P("time_date_stamp", PK_TIMESTAMP, 0),
	P("pointer_to_symbol_table_hex", PK_HEX, 0),
	U("number_of_symbols", 0),
	U("size_of_optional_header", 0),
	P("characteristics_hex", PK_HEX, 0),
	P("file_header_hashes", PK_HASHES, 0),
	S("optional_header", PK_OBJECT, 0, pe_optional_header_props),
	S("sections", PK_OBJECT_LIST, 0, pe_section_props),
	END,
};

static void pe_optional_header_check(struct cp__stix_vctx *v, const json_t *oh)
{
	unknown_keys(v, oh, pe_optional_header_props, "windows-pe-optional-header-type");
	require_any(v, oh, pe_optional_header_props, NULL, "an optional_header");
}

static void pe_section_check(struct cp__stix_vctx *v, const json_t *sec)
{
	unknown_keys(v, sec, pe_section_props, "windows-pe-section-type");
}

static void pebinary_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	struct cp_time t;

	require_any(v, ext, pebinary_ext_props, "pe_type", "windows-pebinary-ext");
	if (cp__stix_get_time(ext, "time_date_stamp", &t) && t.nsec % 1000000000u != 0)
		cp__stix_err_at(v, "time_date_stamp", "timestamp-precision",
				"'time_date_stamp' must be precise to the second (no fraction "
				"of a second)");
	each_sub(v, ext, "optional_header", pe_optional_header_check);
	each_sub(v, ext, "sections", pe_section_check);
}

static const struct cp__stix_ext file_exts[] = {
	{"archive-ext", archive_ext_props, NULL},
	{"ntfs-ext", ntfs_ext_props, ntfs_ext_check},
	{"pdf-ext", pdf_ext_props, pdf_ext_check},
	{"raster-image-ext", raster_ext_props, raster_ext_check},
	{"windows-pebinary-ext", pebinary_ext_props, pebinary_ext_check},
	{NULL, NULL, NULL},
};

static const struct cp__stix_prop file_props[] = {
	P("hashes", PK_HASHES, 0),
	U("size", 0),
	P("name", PK_STRING, 0),
	P("name_enc", PK_STRING, 0),
	P("magic_number_hex", PK_HEX, 0),
	P("mime_type", PK_STRING, 0),
	P("ctime", PK_TIMESTAMP, 0),
	P("mtime", PK_TIMESTAMP, 0),
	P("atime", PK_TIMESTAMP, 0),
	R("parent_directory_ref", PK_REF, 0, refs_directory),
	R("contains_refs", PK_REF_LIST, 0, cp__stix_refs_sco),
	R("content_ref", PK_REF, 0, refs_artifact),
	END,
};

static void file_check(struct cp__stix_vctx *v, const json_t *obj)
{
	if (!json_object_get(obj, "hashes") && !json_object_get(obj, "name"))
		cp__stix_err(v, "missing-property",
			     "a file must contain at least one of 'hashes' and 'name'");
	check_mime_type(v, obj);
}

static const char *const file_contrib[] = {"hashes", "name", "extensions",
					   "parent_directory_ref", NULL};

static const struct cp__stix_type file_type = {"file", CP_STIX_SCO, file_props, file_check,
					       file_contrib, file_exts};

/* ---------------------------------------------------- ipv4-addr / ipv6-addr */

static const struct cp__stix_prop ip_props[] = {
	P("value", PK_STRING, PF_REQUIRED | PF_NONEMPTY),
	R("resolves_to_refs", PK_REF_LIST, 0, refs_mac),
	R("belongs_to_refs", PK_REF_LIST, 0, refs_as),
	END,
};

static void ip_check(struct cp__stix_vctx *v, const json_t *obj, int af)
{
	size_t n;
	const char *s = str_of(obj, "value", &n);

	if (s && n && !ip_ok(af, s, n))
		cp__stix_err_at(v, "value", "ip-address-format",
				"'%s' is not an %s address or CIDR block", s,
				af == AF_INET ? "IPv4" : "IPv6");
}

static void ipv4_check(struct cp__stix_vctx *v, const json_t *obj)
{
	ip_check(v, obj, AF_INET);
}

static void ipv6_check(struct cp__stix_vctx *v, const json_t *obj)
{
	ip_check(v, obj, AF_INET6);
}

static const struct cp__stix_type ipv4_type = {"ipv4-addr", CP_STIX_SCO, ip_props, ipv4_check,
					       value_contrib, NULL};

static const struct cp__stix_type ipv6_type = {"ipv6-addr", CP_STIX_SCO, ip_props, ipv6_check,
					       value_contrib, NULL};

/* ----------------------------------------------------------------- mac-addr */

static const struct cp__stix_prop mac_props[] = {
	P("value", PK_STRING, PF_REQUIRED | PF_NONEMPTY),
	END,
};

static bool mac48_ok(const char *s, size_t n)
{
	if (n != 17)
		return false;
	for (size_t i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return false;
		} else if (!is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f')) {
			return false;
		}
	}
	return true;
}

static void mac_check(struct cp__stix_vctx *v, const json_t *obj)
{
	size_t n;
	const char *s = str_of(obj, "value", &n);

	if (s && n && !mac48_ok(s, n))
		cp__stix_err_at(v, "value", "mac-address-format",
				"'%s' must be a single colon-delimited, lowercase MAC-48 address "
				"with leading zeros (e.g. 00:00:ab:cd:ef:01)",
				s);
}

static const struct cp__stix_type mac_type = {"mac-addr", CP_STIX_SCO, mac_props, mac_check,
					      value_contrib, NULL};

/* -------------------------------------------------------------------- mutex */

static const struct cp__stix_prop mutex_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	END,
};

static const char *const name_contrib[] = {"name", NULL};

static const struct cp__stix_type mutex_type = {"mutex", CP_STIX_SCO, mutex_props, NULL,
						name_contrib, NULL};

/* ---------------------------------------------------------- network-traffic */

static const struct cp__stix_prop http_request_ext_props[] = {
	P("request_method", PK_STRING, PF_REQUIRED),
	P("request_value", PK_STRING, PF_REQUIRED),
	P("request_version", PK_STRING, 0),
	P("request_header", PK_DICT, 0),
	I("message_body_length", 0),
	R("message_body_data_ref", PK_REF, 0, refs_artifact),
	END,
};

static void http_request_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	check_dict_values(v, ext, "request_header", DV_STRING_LIST);
}

static const struct cp__stix_prop icmp_ext_props[] = {
	P("icmp_type_hex", PK_HEX, PF_REQUIRED),
	P("icmp_code_hex", PK_HEX, PF_REQUIRED),
	END,
};

/* The ICMP type and code are single bytes. */
static void icmp_byte(struct cp__stix_vctx *v, const json_t *ext, const char *prop)
{
	size_t n;
	const char *s = str_of(ext, prop, &n);
	size_t i;

	if (!s)
		return;
	for (i = 0; i < n && s[i] == '0'; i++)
		;
	for (size_t k = i; k < n; k++)
		if (cp_hex_digit((unsigned char)s[k]) < 0)
			return; /* hex-format already reported */
	if (n - i > 2)
		cp__stix_err_at(v, prop, "out-of-range",
				"'%s' is not a single byte (00..ff)", s);
}

static void icmp_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	icmp_byte(v, ext, "icmp_type_hex");
	icmp_byte(v, ext, "icmp_code_hex");
}

static const struct cp__stix_prop socket_ext_props[] = {
	V("address_family", PK_ENUM, PF_REQUIRED, cp__stix_vocab_network_socket_address_family),
	P("is_blocking", PK_BOOL, 0),
	P("is_listening", PK_BOOL, 0),
	P("options", PK_DICT, 0),
	V("socket_type", PK_ENUM, 0, cp__stix_vocab_network_socket_type),
	U("socket_descriptor", 0),
	I("socket_handle", 0),
	END,
};

static void socket_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	check_dict_values(v, ext, "options", DV_INTEGER);
}

static const struct cp__stix_prop tcp_ext_props[] = {
	P("src_flags_hex", PK_HEX, 0),
	P("dst_flags_hex", PK_HEX, 0),
	END,
};

static void tcp_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	require_any(v, ext, tcp_ext_props, NULL, "tcp-ext");
}

static const struct cp__stix_ext network_traffic_exts[] = {
	{"http-request-ext", http_request_ext_props, http_request_ext_check},
	{"icmp-ext", icmp_ext_props, icmp_ext_check},
	{"socket-ext", socket_ext_props, socket_ext_check},
	{"tcp-ext", tcp_ext_props, tcp_ext_check},
	{NULL, NULL, NULL},
};

static const struct cp__stix_prop network_traffic_props[] = {
	P("start", PK_TIMESTAMP, 0),
	P("end", PK_TIMESTAMP, 0),
	P("is_active", PK_BOOL, 0),
	R("src_ref", PK_REF, 0, refs_endpoint),
	R("dst_ref", PK_REF, 0, refs_endpoint),
	RANGE("src_port", PK_INTEGER, 0, 65535),
	RANGE("dst_port", PK_INTEGER, 0, 65535),
	P("protocols", PK_STRING_LIST, PF_REQUIRED),
	U("src_byte_count", 0),
	U("dst_byte_count", 0),
	U("src_packets", 0),
	U("dst_packets", 0),
	P("ipfix", PK_DICT, 0),
	R("src_payload_ref", PK_REF, 0, refs_artifact),
	R("dst_payload_ref", PK_REF, 0, refs_artifact),
	R("encapsulates_refs", PK_REF_LIST, 0, refs_net_traffic),
	R("encapsulated_by_ref", PK_REF, 0, refs_net_traffic),
	END,
};

static bool has_protocol(const json_t *protocols, const char *name)
{
	size_t i;
	const json_t *e;

	json_array_foreach(protocols, i, e)
		if (json_is_string(e) && strcasecmp(json_string_value(e), name) == 0)
			return true;
	return false;
}

static void network_traffic_check(struct cp__stix_vctx *v, const json_t *obj)
{
	/* the extensions whose protocol the spec names (6.12.2, 6.12.3, 6.12.5) */
	static const char *const ext_protocol[][2] = {
		{"http-request-ext", "http"}, {"icmp-ext", "icmp"}, {"tcp-ext", "tcp"}};
	const json_t *protocols = json_object_get(obj, "protocols");
	const json_t *exts = json_object_get(obj, "extensions");

	if (!json_object_get(obj, "src_ref") && !json_object_get(obj, "dst_ref"))
		cp__stix_err(v, "missing-property",
			     "network traffic must contain at least one of 'src_ref' and "
			     "'dst_ref'");
	if (!json_object_get(obj, "src_port") && !json_object_get(obj, "dst_port"))
		cp__stix_warn(v, "recommended-property",
			      "network traffic should contain 'src_port' and 'dst_port'");
	cp__stix_check_time_order(v, obj, "start", "end", false);
	if (is_true(obj, "is_active") && json_object_get(obj, "end"))
		cp__stix_err_at(v, "end", "property-not-allowed",
				"'end' must not be present when 'is_active' is true");
	check_dict_values(v, obj, "ipfix", DV_INT_OR_STRING);
	if (!json_is_object(exts) || !json_is_array(protocols))
		return;
	for (size_t i = 0; i < CP_ARRAY_LEN(ext_protocol); i++)
		if (json_object_get(exts, ext_protocol[i][0]) &&
		    !has_protocol(protocols, ext_protocol[i][1]))
			cp__stix_warn_at(v, "protocols", "extension-protocol",
					 "'%s' is used, so 'protocols' should list '%s'",
					 ext_protocol[i][0], ext_protocol[i][1]);
}

static const char *const network_traffic_contrib[] = {
	"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions",
	NULL};

static const struct cp__stix_type network_traffic_type = {
	"network-traffic", CP_STIX_SCO, network_traffic_props, network_traffic_check,
	network_traffic_contrib, network_traffic_exts};

/* ------------------------------------------------------------------ process */

static const struct cp__stix_prop windows_process_ext_props[] = {
	P("aslr_enabled", PK_BOOL, 0),
	P("dep_enabled", PK_BOOL, 0),
	P("priority", PK_STRING, 0),
	P("owner_sid", PK_STRING, 0),
	P("windows_title", PK_STRING, 0),
	P("startup_info", PK_DICT, 0),
	V("integrity_level", PK_ENUM, 0, cp__stix_vocab_windows_integrity_level),
	END,
};

static void windows_process_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	size_t n;
	const char *s = str_of(ext, "priority", &n);

	require_any(v, ext, windows_process_ext_props, NULL, "windows-process-ext");
	if (s && (n < 6 || strcmp(s + n - 6, "_CLASS") != 0))
		cp__stix_warn_at(v, "priority", "priority-class",
				 "'%s' should be a Windows priority class name ending in '_CLASS'",
				 s);
}

static const struct cp__stix_prop windows_service_ext_props[] = {
	P("service_name", PK_STRING, 0),
	P("descriptions", PK_STRING_LIST, 0),
	P("display_name", PK_STRING, 0),
	P("group_name", PK_STRING, 0),
	V("start_type", PK_ENUM, 0, cp__stix_vocab_windows_service_start_type),
	R("service_dll_refs", PK_REF_LIST, 0, refs_file),
	V("service_type", PK_ENUM, 0, cp__stix_vocab_windows_service_type),
	V("service_status", PK_ENUM, 0, cp__stix_vocab_windows_service_status),
	END,
};

static void windows_service_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	require_any(v, ext, windows_service_ext_props, NULL, "windows-service-ext");
}

static const struct cp__stix_ext process_exts[] = {
	{"windows-process-ext", windows_process_ext_props, windows_process_ext_check},
	{"windows-service-ext", windows_service_ext_props, windows_service_ext_check},
	{NULL, NULL, NULL},
};

static const struct cp__stix_prop process_props[] = {
	P("is_hidden", PK_BOOL, 0),
	U("pid", 0),
	P("created_time", PK_TIMESTAMP, 0),
	P("cwd", PK_STRING, 0),
	P("command_line", PK_STRING, 0),
	P("environment_variables", PK_DICT, 0),
	R("opened_connection_refs", PK_REF_LIST, 0, refs_net_traffic),
	R("creator_user_ref", PK_REF, 0, refs_user_account),
	R("image_ref", PK_REF, 0, refs_file),
	R("parent_ref", PK_REF, 0, refs_process),
	R("child_refs", PK_REF_LIST, 0, refs_process),
	END,
};

static void process_check(struct cp__stix_vctx *v, const json_t *obj)
{
	if (!json_object_get(obj, "extensions"))
		require_any(v, obj, process_props, NULL, "a process");
	check_dict_values(v, obj, "environment_variables", DV_STRING);
}

/* 6.13: all properties are optional, so process ids are UUIDv4 (no id_contrib) */
static const struct cp__stix_type process_type = {"process", CP_STIX_SCO, process_props,
						  process_check, NULL, process_exts};

/* ----------------------------------------------------------------- software */

static const struct cp__stix_prop software_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("cpe", PK_STRING, 0),
	P("swid", PK_STRING, 0),
	P("languages", PK_STRING_LIST, 0),
	P("vendor", PK_STRING, 0),
	P("version", PK_STRING, 0),
	END,
};

/*
 * A CPE 2.3 formatted string (NISTIR 7695 6.2): "cpe:2.3:" and 11 more fields
 * separated by unescaped colons, the first (part) one of a, o, h, * or -.
 */
static bool cpe23_ok(const char *s, size_t n)
{
	unsigned fields = 1;

	if (strlen(s) != n || n < 10 || strncmp(s, "cpe:2.3:", 8) != 0)
		return false;
	if (!strchr("aoh*-", s[8]) || s[9] != ':')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			if (++i == n)
				return false;
			continue;
		}
		if (c <= 0x20 || c >= 0x7f)
			return false;
		if (c == ':')
			fields++;
	}
	return fields == 13;
}

static void software_check(struct cp__stix_vctx *v, const json_t *obj)
{
	size_t n, i;
	const char *s = str_of(obj, "cpe", &n);
	const json_t *langs = json_object_get(obj, "languages");
	const json_t *e;

	if (s && !cpe23_ok(s, n))
		cp__stix_err_at(v, "cpe", "cpe-format",
				"'%s' is not a CPE 2.3 formatted string "
				"(cpe:2.3:part:vendor:product:version:...)",
				s);
	if (!json_is_array(langs))
		return;
	json_array_foreach(langs, i, e)
	{
		size_t mark;
		if (!json_is_string(e) || (strlen(json_string_value(e)) == json_string_length(e) &&
					   cp__stix_lang_tag_ok(json_string_value(e))))
			continue;
		mark = cp__stix_push(v, "languages");
		cp__stix_push_index(v, i);
		cp__stix_err(v, "language-tag", "'%s' is not an RFC 5646 language tag",
			     json_string_value(e));
		cp__stix_pop(v, mark);
	}
}

static const char *const software_contrib[] = {"name", "cpe", "swid", "vendor", "version",
					       NULL};

static const struct cp__stix_type software_type = {
	"software", CP_STIX_SCO, software_props, software_check, software_contrib, NULL};

/* ---------------------------------------------------------------------- url */

static const struct cp__stix_prop url_props[] = {
	P("value", PK_STRING, PF_REQUIRED | PF_NONEMPTY),
	END,
};

static void url_check(struct cp__stix_vctx *v, const json_t *obj)
{
	size_t n;

	if (str_of(obj, "value", &n) && n)
		check_url_value(v, obj, "value");
}

static const struct cp__stix_type url_type = {"url", CP_STIX_SCO, url_props, url_check,
					      value_contrib, NULL};

/* ------------------------------------------------------------- user-account */

static const struct cp__stix_prop unix_account_ext_props[] = {
	I("gid", 0),
	P("groups", PK_STRING_LIST, 0),
	P("home_dir", PK_STRING, 0),
	P("shell", PK_STRING, 0),
	END,
};

static void unix_account_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	require_any(v, ext, unix_account_ext_props, NULL, "unix-account-ext");
}

static const struct cp__stix_ext user_account_exts[] = {
	{"unix-account-ext", unix_account_ext_props, unix_account_ext_check},
	{NULL, NULL, NULL},
};

static const struct cp__stix_prop user_account_props[] = {
	P("user_id", PK_STRING, 0),
	P("credential", PK_STRING, 0),
	P("account_login", PK_STRING, 0),
	V("account_type", PK_OV, 0, cp__stix_vocab_account_type),
	P("display_name", PK_STRING, 0),
	P("is_service_account", PK_BOOL, 0),
	P("is_privileged", PK_BOOL, 0),
	P("can_escalate_privs", PK_BOOL, 0),
	P("is_disabled", PK_BOOL, 0),
	P("account_created", PK_TIMESTAMP, 0),
	P("account_expires", PK_TIMESTAMP, 0),
	P("credential_last_changed", PK_TIMESTAMP, 0),
	P("account_first_login", PK_TIMESTAMP, 0),
	P("account_last_login", PK_TIMESTAMP, 0),
	END,
};

static void user_account_check(struct cp__stix_vctx *v, const json_t *obj)
{
	require_any(v, obj, user_account_props, NULL, "a user-account");
}

static const char *const user_account_contrib[] = {"account_type", "user_id", "account_login",
						   NULL};

static const struct cp__stix_type user_account_type = {
	"user-account", CP_STIX_SCO, user_account_props, user_account_check,
	user_account_contrib, user_account_exts};

/* ----------------------------------------------------- windows-registry-key */

static const struct cp__stix_prop registry_value_props[] = {
	P("name", PK_STRING, 0), /* "" names the default value */
	P("data", PK_STRING, 0),
	V("data_type", PK_ENUM, 0, cp__stix_vocab_windows_registry_datatype),
	END,
};

static const struct cp__stix_prop registry_key_props[] = {
	P("key", PK_STRING, 0),
	S("values", PK_OBJECT_LIST, 0, registry_value_props),
	P("modified_time", PK_TIMESTAMP, 0),
	R("creator_user_ref", PK_REF, 0, refs_user_account),
	I("number_of_subkeys", 0),
	END,
};

static void registry_value_check(struct cp__stix_vctx *v, const json_t *val)
{
	unknown_keys(v, val, registry_value_props, "windows-registry-value-type");
	require_any(v, val, registry_value_props, NULL, "a registry value");
}

/* 6.17.1: the hive MUST be fully expanded (HKEY_LOCAL_MACHINE, not HKLM). */
static void registry_hive_check(struct cp__stix_vctx *v, const json_t *obj)
{
	static const char *const abbrev[][2] = {
		{"HKLM", "HKEY_LOCAL_MACHINE"}, {"HKCU", "HKEY_CURRENT_USER"},
		{"HKCR", "HKEY_CLASSES_ROOT"}, {"HKU", "HKEY_USERS"},
		{"HKCC", "HKEY_CURRENT_CONFIG"}, {"HKPD", "HKEY_PERFORMANCE_DATA"}};
	size_t n, hive;
	const char *s = str_of(obj, "key", &n);

	if (!s)
		return;
	for (hive = 0; hive < n && s[hive] != '\\' && s[hive] != '/'; hive++)
		;
	for (size_t i = 0; i < CP_ARRAY_LEN(abbrev); i++)
		if (strlen(abbrev[i][0]) == hive && strncasecmp(s, abbrev[i][0], hive) == 0)
			cp__stix_err_at(v, "key", "registry-hive",
					"the hive of '%s' must be fully expanded ('%s', not '%s')",
					s, abbrev[i][1], abbrev[i][0]);
}

static void registry_key_check(struct cp__stix_vctx *v, const json_t *obj)
{
	require_any(v, obj, registry_key_props, NULL, "a windows-registry-key");
	registry_hive_check(v, obj);
	each_sub(v, obj, "values", registry_value_check);
}

static const char *const registry_key_contrib[] = {"key", "values", NULL};

static const struct cp__stix_type registry_key_type = {
	"windows-registry-key", CP_STIX_SCO, registry_key_props, registry_key_check,
	registry_key_contrib, NULL};

/* --------------------------------------------------------- x509-certificate */

static const struct cp__stix_prop x509_v3_ext_props[] = {
	P("basic_constraints", PK_STRING, 0),
	P("name_constraints", PK_STRING, 0),
	P("policy_constraints", PK_STRING, 0),
	P("key_usage", PK_STRING, 0),
	P("extended_key_usage", PK_STRING, 0),
	P("subject_key_identifier", PK_STRING, 0),
	P("authority_key_identifier", PK_STRING, 0),
	P("subject_alternative_name", PK_STRING, 0),
	P("issuer_alternative_name", PK_STRING, 0),
	P("subject_directory_attributes", PK_STRING, 0),
	P("crl_distribution_points", PK_STRING, 0),
	P("inhibit_any_policy", PK_STRING, 0),
	P("private_key_usage_period_not_before", PK_TIMESTAMP, 0),
	P("private_key_usage_period_not_after", PK_TIMESTAMP, 0),
	P("certificate_policies", PK_STRING, 0),
	P("policy_mappings", PK_STRING, 0),
	END,
};

static const struct cp__stix_prop x509_props[] = {
	P("is_self_signed", PK_BOOL, 0),
	P("hashes", PK_HASHES, 0),
	P("version", PK_STRING, 0),
	P("serial_number", PK_STRING, 0),
	P("signature_algorithm", PK_STRING, 0),
	P("issuer", PK_STRING, 0),
	P("validity_not_before", PK_TIMESTAMP, 0),
	P("validity_not_after", PK_TIMESTAMP, 0),
	P("subject", PK_STRING, 0),
	P("subject_public_key_algorithm", PK_STRING, 0),
	P("subject_public_key_modulus", PK_STRING, 0),
	I("subject_public_key_exponent", 0),
	S("x509_v3_extensions", PK_OBJECT, 0, x509_v3_ext_props),
	END,
};

/*
 * A period that ends before it begins. The spec states no MUST for it, and an
 * observed certificate may well be malformed, so this is a warning.
 */
static void period_order(struct cp__stix_vctx *v, const json_t *obj, const char *from,
			 const char *to)
{
	struct cp_time a, b;

	if (cp__stix_get_time(obj, from, &a) && cp__stix_get_time(obj, to, &b) &&
	    cp_time_cmp(&b, &a) < 0)
		cp__stix_warn_at(v, to, "time-order", "'%s' is earlier than '%s'", to, from);
}

static void x509_v3_ext_check(struct cp__stix_vctx *v, const json_t *ext)
{
	unknown_keys(v, ext, x509_v3_ext_props, "x509-v3-extensions-type");
	require_any(v, ext, x509_v3_ext_props, NULL, "x509_v3_extensions");
	period_order(v, ext, "private_key_usage_period_not_before",
		     "private_key_usage_period_not_after");
}

static void x509_check(struct cp__stix_vctx *v, const json_t *obj)
{
	require_any(v, obj, x509_props, NULL, "an x509-certificate");
	period_order(v, obj, "validity_not_before", "validity_not_after");
	each_sub(v, obj, "x509_v3_extensions", x509_v3_ext_check);
}

static const char *const x509_contrib[] = {"hashes", "serial_number", NULL};

static const struct cp__stix_type x509_type = {"x509-certificate", CP_STIX_SCO, x509_props,
					       x509_check, x509_contrib, NULL};

/* ------------------------------------------------------------------- table */

const struct cp__stix_type *const cp__stix_sco_types[] = {
	&artifact_type,
	&as_type,
	&directory_type,
	&domain_type,
	&email_addr_type,
	&email_message_type,
	&file_type,
	&ipv4_type,
	&ipv6_type,
	&mac_type,
	&mutex_type,
	&network_traffic_type,
	&process_type,
	&software_type,
	&url_type,
	&user_account_type,
	&registry_key_type,
	&x509_type,
	NULL,
};
