/*
 * The validator engine: walks documents, objects and property tables. The rules of
 * each type live in sdo.c, sco.c and meta.c; shared property kinds in common.c.
 */
#include <stdarg.h>

#include "internal.h"

/* ------------------------------------------------------------- findings */

static void vfind(struct cp__stix_vctx *v, enum cp_severity sev, const char *prop,
		  const char *code, const char *fmt, va_list ap) CP_PRINTF(5, 0);

static void vfind(struct cp__stix_vctx *v, enum cp_severity sev, const char *prop,
		  const char *code, const char *fmt, va_list ap)
{
	size_t mark = v->ptr.len;

	if (prop)
		cp_buf_pointer_push(&v->ptr, prop);
	cp_diag_addv(v->diag, sev, code, v->ptr.ptr ? v->ptr.ptr : "", fmt, ap);
	cp_buf_truncate(&v->ptr, mark);
}

void cp__stix_err(struct cp__stix_vctx *v, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfind(v, CP_SEV_ERROR, NULL, code, fmt, ap);
	va_end(ap);
}

void cp__stix_warn(struct cp__stix_vctx *v, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfind(v, CP_SEV_WARNING, NULL, code, fmt, ap);
	va_end(ap);
}

void cp__stix_err_at(struct cp__stix_vctx *v, const char *prop, const char *code,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfind(v, CP_SEV_ERROR, prop, code, fmt, ap);
	va_end(ap);
}

void cp__stix_warn_at(struct cp__stix_vctx *v, const char *prop, const char *code,
		      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfind(v, CP_SEV_WARNING, prop, code, fmt, ap);
	va_end(ap);
}

size_t cp__stix_push(struct cp__stix_vctx *v, const char *token)
{
	size_t mark = v->ptr.len;
	cp_buf_pointer_push(&v->ptr, token);
	return mark;
}

size_t cp__stix_push_index(struct cp__stix_vctx *v, size_t i)
{
	size_t mark = v->ptr.len;
	cp_buf_pointer_push_index(&v->ptr, i);
	return mark;
}

void cp__stix_pop(struct cp__stix_vctx *v, size_t mark)
{
	cp_buf_truncate(&v->ptr, mark);
}

/* ---------------------------------------------------------------- names */

bool cp__stix_in_list(const char *s, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

bool cp__stix_type_name_ok(const char *name, const char **why)
{
	size_t n = strlen(name);

	if (n < CP_LIMIT_TYPE_MIN || n > CP_LIMIT_TYPE_LEN) {
		*why = "must be 3 to 250 characters long";
		return false;
	}
	if (name[0] < 'a' || name[0] > 'z') {
		*why = "must begin with a lowercase letter a-z";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
			*why = "may contain only a-z, 0-9 and '-'";
			return false;
		}
		if (c == '-' && name[i + 1] == '-') {
			*why = "must not contain '--'";
			return false;
		}
	}
	if (name[n - 1] == '-') {
		*why = "must not end with '-'";
		return false;
	}
	return true;
}

bool cp__stix_prop_name_ok(const char *name, const char **why)
{
	size_t n = strlen(name);

	if (n < CP_LIMIT_PROP_MIN || n > CP_LIMIT_PROP_LEN) {
		*why = "must be 3 to 250 characters long";
		return false;
	}
	if (name[0] < 'a' || name[0] > 'z') {
		*why = "must begin with a lowercase letter a-z";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
			*why = "may contain only a-z, 0-9 and '_'";
			return false;
		}
	}
	return true;
}

/* ---------------------------------------------------------- type lookup */

const struct cp__stix_type *cp__stix_find_type(const char *type)
{
	static const struct cp__stix_type *const *const tables[] = {
		cp__stix_sdo_types, cp__stix_sco_types, cp__stix_meta_types};

	for (size_t t = 0; t < CP_ARRAY_LEN(tables); t++)
		for (const struct cp__stix_type *const *p = tables[t]; *p; p++)
			if (strcmp((*p)->type, type) == 0)
				return *p;
	return NULL;
}

enum cp_stix_kind cp_stix_kind_of(const char *type)
{
	const struct cp__stix_type *t;

	if (strcmp(type, "bundle") == 0)
		return CP_STIX_BUNDLE;
	t = cp__stix_find_type(type);
	return t ? t->kind : CP_STIX_CUSTOM;
}

const char *cp_stix_kind_name(enum cp_stix_kind kind)
{
	switch (kind) {
	case CP_STIX_SDO:
		return "sdo";
	case CP_STIX_SRO:
		return "sro";
	case CP_STIX_SCO:
		return "sco";
	case CP_STIX_META:
		return "meta";
	case CP_STIX_BUNDLE:
		return "bundle";
	case CP_STIX_CUSTOM:
		return "custom";
	case CP_STIX_KIND_UNKNOWN:
		break;
	}
	return "unknown";
}

bool cp__stix_ref_allowed(const char *type, const char *const *refs)
{
	enum cp_stix_kind k;

	if (!refs)
		return true;
	k = cp_stix_kind_of(type);
	for (; *refs; refs++) {
		const char *r = *refs;
		if (r[0] != '<') {
			if (strcmp(r, type) == 0)
				return true;
			continue;
		}
		/* a bundle is not a STIX object (spec 8), so nothing refers to one */
		if (strcmp(r, "<any>") == 0 && k != CP_STIX_BUNDLE)
			return true;
		if ((strcmp(r, "<sdo>") == 0 && k == CP_STIX_SDO) ||
		    (strcmp(r, "<sro>") == 0 && k == CP_STIX_SRO) ||
		    (strcmp(r, "<sco>") == 0 && k == CP_STIX_SCO) ||
		    (strcmp(r, "<meta>") == 0 && k == CP_STIX_META))
			return true;
		/* custom types may stand for custom SDOs or SCOs (spec 11.2) */
		if ((strcmp(r, "<sdo>") == 0 || strcmp(r, "<sco>") == 0) && k == CP_STIX_CUSTOM)
			return true;
	}
	return false;
}

bool cp__stix_id_type(const char *id, char *buf, size_t len)
{
	const char *sep = strstr(id, "--");
	size_t n;

	if (!sep)
		return false;
	n = (size_t)(sep - id);
	if (n + 1 > len)
		return false;
	memcpy(buf, id, n);
	buf[n] = '\0';
	return true;
}

static void describe_refs(struct cp_buf *b, const char *const *refs)
{
	for (size_t i = 0; refs && refs[i]; i++) {
		if (i)
			cp_buf_puts(b, refs[i + 1] ? ", " : " or ");
		cp_buf_puts(b, refs[i]);
	}
}

/* --------------------------------------------------------- value checks */

static const char *json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

bool cp__stix_get_time(const json_t *obj, const char *prop, struct cp_time *out)
{
	const json_t *j = json_object_get(obj, prop);

	if (!json_is_string(j))
		return false;
	return cp_time_parse(json_string_value(j), json_string_length(j), out, NULL) == CP_OK;
}

static void check_timestamp(struct cp__stix_vctx *v, const json_t *j)
{
	struct cp_time t;
	const char *why = NULL;

	if (!json_is_string(j)) {
		cp__stix_err(v, "type-mismatch", "must be a timestamp string, not %s", json_kind(j));
		return;
	}
	if (cp_time_parse(json_string_value(j), json_string_length(j), &t, &why))
		cp__stix_err(v, "timestamp-format",
			     "'%s' is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z): %s",
			     json_string_value(j), why);
}

static void check_ref(struct cp__stix_vctx *v, const json_t *j, const char *const *refs)
{
	const char *id;
	size_t tlen;
	char type[CP_LIMIT_TYPE_LEN + 1];

	if (!json_is_string(j)) {
		cp__stix_err(v, "type-mismatch", "must be an identifier string, not %s",
			     json_kind(j));
		return;
	}
	id = json_string_value(j);
	if (!cp_stix_id_is_valid(id, &tlen)) {
		cp__stix_err(v, "id-format", "'%s' is not an identifier of the form type--UUID", id);
		return;
	}
	memcpy(type, id, tlen);
	type[tlen] = '\0';
	if (!cp__stix_ref_allowed(type, refs)) {
		struct cp_buf b = CP_BUF_INIT(1024);
		describe_refs(&b, refs);
		cp__stix_err(v, "ref-type", "'%s' must refer to %s, not to a %s", id,
			     b.ptr ? b.ptr : "?", type);
		cp_buf_release(&b);
	}
}

static bool is_b64(const char *s, size_t n)
{
	size_t i, pad = 0;

	if (n % 4)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '=') {
			pad++;
			if (i < n - 2)
				return false;
			continue;
		}
		if (pad)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return false;
	}
	return pad <= 2;
}

static void check_dict_keys(struct cp__stix_vctx *v, const json_t *j)
{
	const char *key;
	const json_t *val;

	if (json_object_size(j) == 0) {
		cp__stix_err(v, "empty-dictionary", "dictionaries must not be empty");
		return;
	}
	json_object_foreach((json_t *)j, key, val)
	{
		size_t n = strlen(key);
		bool ok = n >= 1 && n <= 250;
		for (size_t i = 0; ok && i < n; i++) {
			char c = key[i];
			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_';
		}
		if (!ok)
			cp__stix_err_at(v, key, "dictionary-key",
					"dictionary keys must be 1-250 characters of a-z, A-Z, "
					"0-9, '-' and '_'");
		(void)val;
	}
}

static void check_vocab(struct cp__stix_vctx *v, const struct cp__stix_prop *p, const json_t *j,
			bool closed)
{
	const char *s;

	if (!json_is_string(j)) {
		cp__stix_err(v, "type-mismatch", "must be a string, not %s", json_kind(j));
		return;
	}
	s = json_string_value(j);
	if (cp__stix_in_list(s, p->vocab))
		return;
	if (closed)
		cp__stix_err(v, "enum-value", "'%s' is not a value of the closed vocabulary of '%s'",
			     s, p->name);
	else
		cp__stix_warn(v, "vocab-value",
			      "'%s' is not in the suggested open vocabulary of '%s'", s, p->name);
}

static void check_scalar(struct cp__stix_vctx *v, const struct cp__stix_prop *p, const json_t *j,
			 enum cp__stix_pk kind);

static bool prefixed_number(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(s, prefix, n) != 0 || !s[n])
		return false;
	for (s += n; *s; s++)
		if ((*s < '0' || *s > '9') && *s != '-')
			return false;
	return true;
}

/* spec 2.5.2, and the CAPEC/CVE forms of 4.1 and 4.19 */
static void ext_ref_rules(struct cp__stix_vctx *v, const json_t *j)
{
	const json_t *src = json_object_get(j, "source_name");
	const json_t *xid = json_object_get(j, "external_id");

	if (!json_object_get(j, "description") && !json_object_get(j, "url") && !xid)
		cp__stix_err(v, "external-reference",
			     "an external reference needs at least one of description, url and "
			     "external_id besides source_name");
	if (!json_is_string(src) || !json_is_string(xid))
		return;
	if (strcmp(json_string_value(src), "capec") == 0 &&
	    !prefixed_number(json_string_value(xid), "CAPEC-"))
		cp__stix_err_at(v, "external_id", "external-id-format",
				"a capec external_id must be CAPEC-[id], not '%s'",
				json_string_value(xid));
	if (strcmp(json_string_value(src), "cve") == 0 &&
	    !prefixed_number(json_string_value(xid), "CVE-"))
		cp__stix_err_at(v, "external_id", "external-id-format",
				"a cve external_id must be a CVE identifier (CVE-YYYY-NNNN), not '%s'",
				json_string_value(xid));
}

static void check_list(struct cp__stix_vctx *v, const struct cp__stix_prop *p, const json_t *j,
		       enum cp__stix_pk item)
{
	size_t i;
	const json_t *e;

	if (!json_is_array(j)) {
		cp__stix_err(v, "type-mismatch", "must be a list, not %s", json_kind(j));
		return;
	}
	if (json_array_size(j) == 0) {
		cp__stix_err(v, "empty-list", "lists must not be empty; omit the property instead");
		return;
	}
	json_array_foreach(j, i, e)
	{
		size_t mark = cp__stix_push_index(v, i);
		check_scalar(v, p, e, item);
		cp__stix_pop(v, mark);
	}
}

static void check_sub_object(struct cp__stix_vctx *v, const struct cp__stix_prop *sub,
			     const json_t *j)
{
	if (!json_is_object(j)) {
		cp__stix_err(v, "type-mismatch", "must be an object, not %s", json_kind(j));
		return;
	}
	if (sub)
		cp__stix_check_props(v, j, sub, false);
}

static void check_scalar(struct cp__stix_vctx *v, const struct cp__stix_prop *p, const json_t *j,
			 enum cp__stix_pk kind)
{
	switch (kind) {
	case PK_ANY:
		return;
	case PK_STRING:
		if (!json_is_string(j))
			cp__stix_err(v, "type-mismatch", "must be a string, not %s", json_kind(j));
		else if ((p->flags & PF_NONEMPTY) && json_string_length(j) == 0)
			cp__stix_err(v, "empty-string", "must not be empty");
		return;
	case PK_TIMESTAMP:
		check_timestamp(v, j);
		return;
	case PK_INTEGER:
		if (!json_is_integer(j)) {
			cp__stix_err(v, "type-mismatch", "must be an integer, not %s", json_kind(j));
			return;
		}
		if ((p->flags & PF_RANGE) &&
		    ((double)json_integer_value(j) < p->min || (double)json_integer_value(j) > p->max))
			cp__stix_err(v, "out-of-range", "%" JSON_INTEGER_FORMAT
				     " is outside the allowed range %.0f..%.0f",
				     json_integer_value(j), p->min, p->max);
		return;
	case PK_FLOAT:
		if (!json_is_number(j)) {
			cp__stix_err(v, "type-mismatch", "must be a number, not %s", json_kind(j));
			return;
		}
		if ((p->flags & PF_RANGE) &&
		    (json_number_value(j) < p->min || json_number_value(j) > p->max))
			cp__stix_err(v, "out-of-range", "%g is outside the allowed range %g..%g",
				     json_number_value(j), p->min, p->max);
		return;
	case PK_BOOL:
		if (!json_is_boolean(j))
			cp__stix_err(v, "type-mismatch", "must be a boolean, not %s", json_kind(j));
		return;
	case PK_REF:
		check_ref(v, j, p->refs);
		return;
	case PK_OV:
		check_vocab(v, p, j, false);
		return;
	case PK_ENUM:
		check_vocab(v, p, j, true);
		return;
	case PK_HASHES:
		cp__stix_check_hashes(v, j);
		return;
	case PK_DICT:
		if (!json_is_object(j))
			cp__stix_err(v, "type-mismatch", "must be a dictionary (JSON object), not %s",
				     json_kind(j));
		else
			check_dict_keys(v, j);
		return;
	case PK_BINARY:
		if (!json_is_string(j))
			cp__stix_err(v, "type-mismatch", "must be a base64 string, not %s",
				     json_kind(j));
		else if (!is_b64(json_string_value(j), json_string_length(j)))
			cp__stix_err(v, "binary-format", "is not valid base64 (RFC 4648)");
		return;
	case PK_HEX: {
		const char *s;
		size_t n;
		if (!json_is_string(j)) {
			cp__stix_err(v, "type-mismatch", "must be a hex string, not %s", json_kind(j));
			return;
		}
		s = json_string_value(j);
		n = json_string_length(j);
		if (!cp_is_hex(s, n)) {
			cp__stix_err(v, "hex-format", "is not a hexadecimal string");
			return;
		}
		if (n % 2)
			cp__stix_err(v, "hex-format", "must have an even number of hex digits");
		return;
	}
	case PK_OBJECT:
		check_sub_object(v, p->sub, j);
		return;
	case PK_KILL_CHAIN:
		check_sub_object(v, cp__stix_kill_chain_props, j);
		return;
	case PK_EXT_REFS:
		check_sub_object(v, cp__stix_ext_ref_props, j);
		if (json_is_object(j))
			ext_ref_rules(v, j);
		return;
	case PK_REF_LIST:
		check_list(v, p, j, PK_REF);
		return;
	case PK_STRING_LIST:
		check_list(v, p, j, PK_STRING);
		return;
	case PK_OV_LIST:
		check_list(v, p, j, PK_OV);
		return;
	case PK_ENUM_LIST:
		check_list(v, p, j, PK_ENUM);
		return;
	case PK_OBJECT_LIST:
		check_list(v, p, j, PK_OBJECT);
		return;
	case PK_TIMESTAMP_LIST:
		check_list(v, p, j, PK_TIMESTAMP);
		return;
	case PK_INTEGER_LIST:
		check_list(v, p, j, PK_INTEGER);
		return;
	}
}

void cp__stix_check_value(struct cp__stix_vctx *v, const struct cp__stix_prop *p,
			  const json_t *value)
{
	/* kill chains and external references are lists of sub-objects */
	if (p->kind == PK_KILL_CHAIN || p->kind == PK_EXT_REFS) {
		size_t i;
		const json_t *e;
		if (!json_is_array(value)) {
			cp__stix_err(v, "type-mismatch", "must be a list, not %s", json_kind(value));
			return;
		}
		if (json_array_size(value) == 0) {
			cp__stix_err(v, "empty-list",
				     "lists must not be empty; omit the property instead");
			return;
		}
		json_array_foreach(value, i, e)
		{
			size_t mark = cp__stix_push_index(v, i);
			check_scalar(v, p, e, p->kind);
			cp__stix_pop(v, mark);
		}
		return;
	}
	check_scalar(v, p, value, p->kind);
	if (p->flags & PF_DEPRECATED)
		cp__stix_warn(v, "deprecated-property", "'%s' is deprecated in STIX 2.1", p->name);
}

static const struct cp__stix_prop *find_prop(const struct cp__stix_prop *props, const char *name)
{
	/* every object key is looked up here, often twice: the first character rules
	 * out most of the table before strcmp runs */
	for (; props && props->name; props++)
		if (props->name[0] == name[0] && strcmp(props->name, name) == 0)
			return props;
	return NULL;
}

void cp__stix_check_props(struct cp__stix_vctx *v, const json_t *obj,
			  const struct cp__stix_prop *props, bool unknown_is_error)
{
	const char *key;
	const json_t *val;

	for (const struct cp__stix_prop *p = props; p && p->name; p++)
		if ((p->flags & PF_REQUIRED) && !json_object_get(obj, p->name))
			cp__stix_err_at(v, p->name, "missing-property",
					"required property '%s' is missing", p->name);
	json_object_foreach((json_t *)obj, key, val)
	{
		const struct cp__stix_prop *p = find_prop(props, key);
		size_t mark;
		if (!p) {
			if (unknown_is_error)
				cp__stix_err_at(v, key, "unknown-property",
						"'%s' is not a property of this object", key);
			continue;
		}
		mark = cp__stix_push(v, key);
		cp__stix_check_value(v, p, val);
		cp__stix_pop(v, mark);
	}
}

void cp__stix_require_one_of(struct cp__stix_vctx *v, const json_t *obj, const char *const *names)
{
	struct cp_buf b = CP_BUF_INIT(1024);

	for (const char *const *n = names; *n; n++)
		if (json_object_get(obj, *n))
			return;
	describe_refs(&b, names);
	cp__stix_err(v, "missing-property", "at least one of %s must be present",
		     b.ptr ? b.ptr : "?");
	cp_buf_release(&b);
}

void cp__stix_check_time_order(struct cp__stix_vctx *v, const json_t *obj, const char *a,
			       const char *b, bool strictly)
{
	struct cp_time ta, tb;
	int c;

	if (!cp__stix_get_time(obj, a, &ta) || !cp__stix_get_time(obj, b, &tb))
		return;
	c = cp_time_cmp(&tb, &ta);
	if (c < 0 || (strictly && c == 0))
		cp__stix_err_at(v, b, "time-order", "'%s' must be %s '%s'", b,
				strictly ? "later than" : "later than or equal to", a);
}

/* ------------------------------------------------------- object walking */

/* Properties no object may use unless its table lists them. */
static const char *const sdo_only[] = {"created_by_ref", "created", "modified", "revoked",
				       "labels", "confidence", "lang", "external_references", NULL};

/* spec 3.8: reserved on every object */
static const char *const reserved[] = {"severity", "username", "phone_number", "action", NULL};

static void check_unknown(struct cp__stix_vctx *v, const json_t *obj,
			  const struct cp__stix_type *t, enum cp_stix_kind kind,
			  const struct cp__stix_prop *common)
{
	const char *key;
	const json_t *val;

	json_object_foreach((json_t *)obj, key, val)
	{
		const char *why = NULL;
		(void)val;
		if (find_prop(common, key) || (t && find_prop(t->props, key)))
			continue;
		if (strcmp(key, "type") == 0 || strcmp(key, "id") == 0)
			continue;
		if (cp__stix_in_list(key, reserved)) {
			cp__stix_err_at(v, key, "reserved-property",
					"'%s' is a reserved property name (spec 3.8) and must not "
					"be used",
					key);
			continue;
		}
		if (kind == CP_STIX_SCO && cp__stix_in_list(key, sdo_only)) {
			cp__stix_err_at(v, key, "property-not-allowed",
					"'%s' must not be used on cyber-observable objects", key);
			continue;
		}
		if (kind != CP_STIX_SCO && strcmp(key, "defanged") == 0) {
			cp__stix_err_at(v, key, "property-not-allowed",
					"'defanged' may only be used on cyber-observable objects");
			continue;
		}
		if (t && cp__stix_in_list(key, sdo_only)) {
			cp__stix_err_at(v, key, "property-not-allowed",
					"'%s' is not a property of '%s'", key, t->type);
			continue;
		}
		if (!cp__stix_prop_name_ok(key, &why)) {
			cp__stix_err_at(v, key, "custom-property-name",
					"custom property name '%s' %s", key, why);
			continue;
		}
		/* a custom type defines its own properties; x_ is the custom-property
		 * convention; anything else on a known type may well be a typo */
		if (t && strncmp(key, "x_", 2) != 0 && !v->has_toplevel_ext)
			cp__stix_warn_at(v, key, "unknown-property",
					 "'%s' is not defined for '%s' (custom properties should "
					 "start with 'x_' or live in an extension)",
					 key, t->type);
		/* the value suffix rules of spec 3.1 */
		{
			size_t n = strlen(key);
			const struct cp__stix_prop *sp = NULL;
			static const struct cp__stix_prop ref_p = {"_ref", PK_REF, 0, NULL, NULL, 0, 0, NULL};
			static const struct cp__stix_prop refs_p = {"_refs", PK_REF_LIST, 0, NULL, NULL, 0, 0, NULL};
			static const struct cp__stix_prop hex_p = {"_hex", PK_HEX, 0, NULL, NULL, 0, 0, NULL};
			static const struct cp__stix_prop bin_p = {"_bin", PK_BINARY, 0, NULL, NULL, 0, 0, NULL};
			if (n > 4 && strcmp(key + n - 4, "_ref") == 0)
				sp = &ref_p;
			else if (n > 5 && strcmp(key + n - 5, "_refs") == 0)
				sp = &refs_p;
			else if (n > 4 && strcmp(key + n - 4, "_hex") == 0)
				sp = &hex_p;
			else if (n > 4 && strcmp(key + n - 4, "_bin") == 0)
				sp = &bin_p;
			if (sp) {
				size_t mark = cp__stix_push(v, key);
				cp__stix_check_value(v, sp, val);
				cp__stix_pop(v, mark);
			}
		}
	}
}

static void check_id(struct cp__stix_vctx *v, const json_t *obj, const char *type)
{
	const json_t *j = json_object_get(obj, "id");
	const char *id;
	size_t tlen;

	if (!j) {
		cp__stix_err_at(v, "id", "missing-property", "required property 'id' is missing");
		return;
	}
	if (!json_is_string(j)) {
		cp__stix_err_at(v, "id", "type-mismatch", "must be an identifier string, not %s",
				json_kind(j));
		return;
	}
	id = json_string_value(j);
	if (!cp_stix_id_is_valid(id, &tlen)) {
		cp__stix_err_at(v, "id", "id-format",
				"'%s' is not an identifier of the form type--UUID (RFC 4122)", id);
		return;
	}
	if (type && (strlen(type) != tlen || memcmp(type, id, tlen) != 0))
		cp__stix_err_at(v, "id", "id-type",
				"identifier '%s' does not start with the object's type '%s--'", id,
				type);
}

static void check_common(struct cp__stix_vctx *v, const json_t *obj, enum cp_stix_kind kind)
{
	const json_t *sv = json_object_get(obj, "spec_version");
	const json_t *j;
	struct cp_time c, m;

	if (sv && json_is_string(sv) && strcmp(json_string_value(sv), "2.1") != 0)
		cp__stix_err_at(v, "spec_version", "spec-version",
				"'%s' is not a STIX 2.1 spec_version (must be \"2.1\")",
				json_string_value(sv));
	if (cp__stix_get_time(obj, "created", &c) && cp__stix_get_time(obj, "modified", &m) &&
	    cp_time_cmp(&m, &c) < 0)
		cp__stix_err_at(v, "modified", "time-order",
				"'modified' must be later than or equal to 'created'");
	/* created/modified MUST have at least millisecond precision */
	for (const char *const *p = (const char *const[]){"created", "modified", NULL}; *p; p++) {
		struct cp_time t;
		if (cp__stix_get_time(obj, *p, &t) && t.frac_digits < 3)
			cp__stix_err_at(v, *p, "timestamp-precision",
					"'%s' must have at least millisecond precision "
					"(3 fraction digits)",
					*p);
	}
	j = json_object_get(obj, "lang");
	if (json_is_string(j) && json_string_length(j) && !cp__stix_lang_tag_ok(json_string_value(j)))
		cp__stix_err_at(v, "lang", "language-tag", "'%s' is not an RFC 5646 language tag",
				json_string_value(j));
	j = json_object_get(obj, "extensions");
	if (j && json_is_object(j)) {
		size_t mark = cp__stix_push(v, "extensions");
		cp__stix_check_extensions(v, obj, j);
		cp__stix_pop(v, mark);
	}
	j = json_object_get(obj, "granular_markings");
	if (j && json_is_array(j)) {
		size_t mark = cp__stix_push(v, "granular_markings");
		cp__stix_check_granular(v, obj, j);
		cp__stix_pop(v, mark);
	}
	j = json_object_get(obj, "object_marking_refs");
	if (j && json_is_array(j)) {
		const json_t *id = json_object_get(obj, "id");
		size_t i;
		const json_t *e;
		json_array_foreach(j, i, e)
		{
			if (json_is_string(id) && json_equal(e, id)) {
				size_t mark = cp__stix_push(v, "object_marking_refs");
				cp__stix_push_index(v, i);
				cp__stix_err(v, "circular-marking",
					     "a marking definition must not mark itself");
				cp__stix_pop(v, mark);
			}
		}
	}
	(void)kind;
}

static void validate_object(struct cp__stix_vctx *v, const json_t *obj)
{
	const json_t *tj;
	const char *type, *why = NULL;
	const struct cp__stix_type *t;
	enum cp_stix_kind kind;
	const struct cp__stix_prop *common;

	if (!json_is_object(obj)) {
		cp__stix_err(v, "not-object", "a STIX object must be a JSON object, not %s",
			     json_kind(obj));
		return;
	}
	tj = json_object_get(obj, "type");
	if (!tj) {
		cp__stix_err_at(v, "type", "missing-property", "required property 'type' is missing");
		return;
	}
	if (!json_is_string(tj)) {
		cp__stix_err_at(v, "type", "type-mismatch", "must be a string, not %s",
				json_kind(tj));
		return;
	}
	type = json_string_value(tj);
	if (strcmp(type, "bundle") == 0) {
		cp__stix_err_at(v, "type", "nested-bundle", "a bundle must not contain a bundle");
		return;
	}
	t = cp__stix_find_type(type);
	if (!t && !cp__stix_type_name_ok(type, &why)) {
		cp__stix_err_at(v, "type", "type-name", "'%s' is not a valid type name: %s", type,
				why);
		return;
	}
	if (t) {
		kind = t->kind;
	} else {
		/* a custom object (spec 11.2): SDO-like if it has created, else SCO-like */
		kind = json_object_get(obj, "created") ? CP_STIX_SDO : CP_STIX_SCO;
		cp__stix_warn_at(v, "type", "custom-object",
				 "'%s' is a custom object type; STIX 2.1 deprecates custom objects "
				 "in favour of extension definitions (new-sdo/new-sco)",
				 type);
	}
	common = kind == CP_STIX_SCO ? cp__stix_common_sco : cp__stix_common_sdo;
	if (t && t->kind == CP_STIX_META)
		common = NULL; /* meta objects list their common properties themselves */

	v->type = t;
	v->has_toplevel_ext = false;
	check_id(v, obj, type);
	if (common)
		cp__stix_check_props(v, obj, common, false);
	if (t)
		cp__stix_check_props(v, obj, t->props, false);
	check_common(v, obj, kind);
	check_unknown(v, obj, t, kind, common);
	if (t && t->check)
		t->check(v, obj);
	if (t && t->kind == CP_STIX_SCO && !(v->flags & CP_STIX_NO_SCO_ID)) {
		char want[CP_STIX_ID_MAX];
		const json_t *id = json_object_get(obj, "id");
		enum cp_err idr = json_is_string(id) && cp_stix_id_is_valid(json_string_value(id), NULL)
					  ? cp_stix_sco_id(obj, want)
					  : CP_ENOTFOUND;
		if (idr == CP_ENOMEM && v->diag)
			v->diag->err = CP_ENOMEM; /* the check could not run: say so */
		if (idr == CP_OK && strcmp(want, json_string_value(id)) != 0)
			cp__stix_warn_at(v, "id", "sco-id",
					 "'%s' is not the deterministic id of this %s; expected "
					 "'%s' (UUIDv5 over its id-contributing properties)",
					 json_string_value(id), type, want);
	}
}

static enum cp_err run(const json_t *doc, unsigned flags, const char *prefix, struct cp_diag *diag,
		       bool single)
{
	struct cp__stix_vctx v = {diag, CP_BUF_INIT(0), flags, 0, false, NULL};
	enum cp_err err;

	cp_buf_puts(&v.ptr, prefix ? prefix : "");
	if (single) {
		validate_object(&v, doc);
	} else if (json_is_array(doc)) {
		size_t i;
		const json_t *e;
		json_array_foreach(doc, i, e)
		{
			size_t mark = cp__stix_push_index(&v, i);
			validate_object(&v, e);
			cp__stix_pop(&v, mark);
		}
	} else if (json_is_object(doc) && json_is_string(json_object_get(doc, "type")) &&
		   strcmp(json_string_value(json_object_get(doc, "type")), "bundle") == 0) {
		const json_t *objs = json_object_get(doc, "objects");
		const char *key;
		const json_t *val;
		check_id(&v, doc, "bundle");
		json_object_foreach((json_t *)doc, key, val)
		{
			if (strcmp(key, "type") == 0 || strcmp(key, "id") == 0 ||
			    strcmp(key, "objects") == 0)
				continue;
			if (strcmp(key, "spec_version") == 0)
				cp__stix_warn_at(&v, key, "bundle-spec-version",
						 "bundles have no spec_version in STIX 2.1 (this "
						 "looks like a STIX 2.0 bundle)");
			else
				cp__stix_warn_at(&v, key, "unknown-property",
						 "'%s' is not a property of a bundle", key);
		}
		if (objs && !json_is_array(objs)) {
			cp__stix_err_at(&v, "objects", "type-mismatch", "must be a list, not %s",
					json_kind(objs));
		} else if (objs && json_array_size(objs) == 0) {
			cp__stix_err_at(&v, "objects", "empty-list",
					"lists must not be empty; omit the property instead");
		} else if (objs) {
			size_t i;
			const json_t *e;
			size_t m0 = cp__stix_push(&v, "objects");
			json_array_foreach(objs, i, e)
			{
				size_t mark = cp__stix_push_index(&v, i);
				validate_object(&v, e);
				cp__stix_pop(&v, mark);
			}
			cp__stix_pop(&v, m0);
		}
	} else {
		validate_object(&v, doc);
	}
	err = cp_buf_finish(&v.ptr);
	if (!err && diag)
		err = diag->err;
	cp_buf_release(&v.ptr);
	return err;
}

enum cp_err cp_stix_validate(const json_t *doc, unsigned flags, struct cp_diag *diag)
{
	return run(doc, flags, NULL, diag, false);
}

enum cp_err cp_stix_validate_object(const json_t *obj, unsigned flags, const char *ptr_prefix,
				    struct cp_diag *diag)
{
	return run(obj, flags, ptr_prefix, diag, true);
}
