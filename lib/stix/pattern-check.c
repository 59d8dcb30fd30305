/*
 * indicator.pattern: STIX patterns are parsed and checked with the pattern module
 * (spec 4.7, 9). On top of the pattern module's own checks, this file uses what
 * only the stix module knows: which object types are SCOs, which properties they
 * have, and what their values look like. Those findings are warnings: such a
 * pattern is valid STIX but can never match a well-formed observation.
 */
#include <arpa/inet.h>

#include "cyberpact/pattern-walk.h"
#include "internal.h"

struct walk {
	struct cp__stix_vctx *v;
	const char *text;
	size_t len;
};

static const char *const sco_common_props[] = {"type", "id", "spec_version",
					       "object_marking_refs", "granular_markings",
					       "defanged", "extensions", NULL};

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

static const char *closest_sco(const char *type)
{
	const char *best = NULL;
	size_t best_d = 5;

	for (const struct cp__stix_type *const *t = cp__stix_sco_types; *t; t++) {
		size_t d = edit_distance(type, (*t)->type);
		if (d < best_d) {
			best_d = d;
			best = (*t)->type;
		}
	}
	return best;
}

static bool hostname_ok(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		/* letters, digits, '-', '_' (seen in real DNS), and UTF-8 of IDNs */
		if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

static bool addr_ok(const char *s, size_t n, int family)
{
	char buf[64];
	unsigned char out[16];
	const char *slash;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash) {
		char *end = NULL;
		long bits = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || bits < 0 || bits > (family == AF_INET ? 32 : 128))
			return false;
		buf[slash - buf] = '\0';
	}
	return inet_pton(family, buf, out) == 1;
}

static void warn_at(struct walk *w, size_t offset, const char *code, const char *fmt, ...)
	CP_PRINTF(4, 5);

static void warn_at(struct walk *w, size_t offset, const char *code, const char *fmt, ...)
{
	char msg[512];
	unsigned line, col;
	va_list ap;
	size_t mark;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cp_pattern_locate(w->text, w->len, offset, &line, &col);
	mark = cp__stix_push(w->v, "pattern");
	if (line > 1)
		cp__stix_warn(w->v, code, "line %u, column %u: %s", line, col, msg);
	else
		cp__stix_warn(w->v, code, "column %u: %s", col, msg);
	cp__stix_pop(w->v, mark);
}

/* The value of a string constant compared with = / != / IN: does it fit the property? */
static void check_value(struct walk *w, const struct cp_pattern_comparison *c, const char *s,
			size_t n)
{
	const char *type = c->object_type;
	bool is_value = c->path_count == 1 && c->key[0] && c->key_len[0] == 5 &&
			memcmp(c->key[0], "value", 5) == 0;

	if (is_value && strcmp(type, "domain-name") == 0 && !hostname_ok(s, n))
		warn_at(w, c->offset, "pattern-value",
			"'%.*s' is not a well-formed domain name, so it can never equal a "
			"domain-name value",
			(int)(n > 80 ? 80 : n), s);
	else if (is_value && strcmp(type, "ipv4-addr") == 0 && !addr_ok(s, n, AF_INET))
		warn_at(w, c->offset, "pattern-value",
			"'%.*s' is not an IPv4 address or CIDR block", (int)(n > 80 ? 80 : n), s);
	else if (is_value && strcmp(type, "ipv6-addr") == 0 && !addr_ok(s, n, AF_INET6))
		warn_at(w, c->offset, "pattern-value",
			"'%.*s' is not an IPv6 address or CIDR block", (int)(n > 80 ? 80 : n), s);
	if (c->path_count == 2 && c->key[0] && c->key[1] && c->key_len[0] == 6 &&
	    memcmp(c->key[0], "hashes", 6) == 0) {
		size_t want = cp__stix_hash_hex_len(c->key[1], c->key_len[1]);
		if (want && (n != want || !cp_is_hex(s, n)))
			warn_at(w, c->offset, "pattern-value",
				"a %.*s hash is %zu hex digits; '%.*s' can never match",
				(int)c->key_len[1], c->key[1], want, (int)(n > 140 ? 140 : n), s);
	}
}

static void on_comparison(const struct cp_pattern_comparison *c, void *ctx)
{
	struct walk *w = ctx;
	const struct cp__stix_type *t = cp__stix_find_type(c->object_type);
	const char *prop = NULL;
	char pbuf[CP_LIMIT_PROP_LEN + 1];

	if (!t || t->kind != CP_STIX_SCO) {
		const char *near;
		if (strncmp(c->object_type, "x-", 2) == 0)
			return; /* a custom observable (spec 11.2) */
		near = closest_sco(c->object_type);
		if (t)
			warn_at(w, c->offset, "pattern-object-type",
				"'%s' is not a cyber-observable type; patterns match SCOs",
				c->object_type);
		else if (near)
			warn_at(w, c->offset, "pattern-object-type",
				"'%s' is not a STIX cyber-observable type (did you mean '%s'?)",
				c->object_type, near);
		else
			warn_at(w, c->offset, "pattern-object-type",
				"'%s' is not a STIX cyber-observable type (custom ones start with "
				"'x-')",
				c->object_type);
		return;
	}
	if (c->key[0] && c->key_len[0] < sizeof(pbuf)) {
		bool known = false;
		memcpy(pbuf, c->key[0], c->key_len[0]);
		pbuf[c->key_len[0]] = '\0';
		prop = pbuf;
		for (const struct cp__stix_prop *p = t->props; p && p->name && !known; p++) {
			known = strcmp(p->name, prop) == 0;
			/* spec 9.6: a type mismatch is false for every operator but != */
			if (known && c->path_count == 1 && c->string && strcmp(c->op, "!=") != 0 &&
			    (p->kind == PK_INTEGER || p->kind == PK_FLOAT || p->kind == PK_BOOL))
				warn_at(w, c->offset, "pattern-value",
					"%s:%s is a %s property; comparing it with a string "
					"constant is a type mismatch that is always false",
					c->object_type, prop,
					p->kind == PK_BOOL ? "boolean" : "numeric");
		}
		known = known || cp__stix_in_list(prop, sco_common_props) ||
			strncmp(prop, "x_", 2) == 0;
		if (!known)
			warn_at(w, c->offset, "pattern-property",
				"'%s' is not a property of %s, so this comparison is always false",
				prop, c->object_type);
	}
	if (strcmp(c->op, "=") == 0 || strcmp(c->op, "!=") == 0) {
		if (c->string)
			check_value(w, c, c->string, c->string_len);
	} else if (strcmp(c->op, "IN") == 0 && c->set_strings) {
		for (size_t i = 0; c->set_strings[i]; i++)
			check_value(w, c, c->set_strings[i], c->set_lens[i]);
	}
}

void cp__stix_check_pattern(struct cp__stix_vctx *v, const json_t *obj)
{
	const json_t *type = json_object_get(obj, "pattern_type");
	const json_t *pat = json_object_get(obj, "pattern");
	struct cp_pattern *p = NULL;
	struct cp_diag d;
	enum cp_err err;

	if ((v->flags & CP_STIX_NO_PATTERN) || !json_is_string(type) || !json_is_string(pat) ||
	    strcmp(json_string_value(type), "stix") != 0)
		return;
	cp_diag_init(&d);
	err = cp_pattern_parse(json_string_value(pat), json_string_length(pat), &p, &d);
	for (size_t i = 0; i < d.count; i++) {
		const struct cp_finding *f = &d.items[i];
		size_t mark = cp__stix_push(v, "pattern");
		char where[48];
		if (f->line > 1)
			snprintf(where, sizeof(where), "line %u, column %u", f->line, f->column);
		else
			snprintf(where, sizeof(where), "column %u", f->column);
		if (f->severity == CP_SEV_ERROR)
			cp__stix_err(v, f->code, "%s: %s", where, f->message);
		else
			cp__stix_warn(v, f->code, "%s: %s", where, f->message);
		cp__stix_pop(v, mark);
	}
	if (!err) {
		struct walk w = {v, json_string_value(pat), json_string_length(pat)};
		err = cp_pattern_foreach_comparison(p, on_comparison, &w);
	}
	if (err == CP_ENOMEM && v->diag)
		v->diag->err = CP_ENOMEM;
	cp_pattern_free(p);
	cp_diag_release(&d);
}
