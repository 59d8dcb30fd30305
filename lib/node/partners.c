/*
 * Partners, their credentials and their sharing agreements
 * (include/cyberpact/partners.h, docs/PARTNERS.md).
 *
 * The file is read like the node configuration (lib/node/config.c): libyaml's event
 * API rather than its document API, so that aliases are never expanded and a hostile
 * file cannot drive a recursive tree builder; the schema is checked while the events
 * stream by, nesting is capped and unknown values are skipped. Collection references
 * are resolved as each one is read (the configuration is at hand), so the only
 * whole-file check left for afterwards is uniqueness, which sorts (O(n log n)) and
 * which the API's add/update share with the loader through the positions kept in the
 * public structures.
 *
 * The file is written with libyaml's emitter, so quoting is libyaml's business; only
 * strings that the loader would read as null get forced into double quotes.
 */
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "cyberpact/partners.h"
#include "cyberpact/stix.h"
#include "common.h"
#include "yaml-read.h"

#define CODE "partners"

struct cp_partners {
	struct cp_partner **items; /* pointers, so that lookups stay valid while it grows */
	size_t count, cap;
};

/* ------------------------------------------------------------ reporting */

/*
 * Findings go through the shared reader (yaml-read.h) for the loader and for the
 * changing functions alike; those use it without a YAML parser.
 */
#define SHOW_MAX CP__YR_SHOW_MAX

static void fail(struct cp__yr *c, enum cp_err err)
{
	cp__yr_fail(c, err);
}

static const char *show(char out[SHOW_MAX], const char *s, size_t len)
{
	return cp__yr_show(out, s, len);
}

static const char *shows(char out[SHOW_MAX], const char *s)
{
	return show(out, s, strlen(s));
}

static void report_at(struct cp__yr *c, enum cp_severity sev, unsigned line, unsigned col,
                      const char *fmt, ...) CP_PRINTF(5, 6);

/* A finding "<key path>: <message>" at line:col (0 when unknown). */
static void report_at(struct cp__yr *c, enum cp_severity sev, unsigned line, unsigned col,
                      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cp__yr_vreport(c, sev, line, col, fmt, ap);
	va_end(ap);
}

static size_t path_key(struct cp__yr *c, const char *key, size_t len)
{
	return cp__yr_path_key(c, key, len);
}

static size_t path_index(struct cp__yr *c, size_t i)
{
	return cp__yr_path_index(c, i);
}

static void path_pop(struct cp__yr *c, size_t old)
{
	cp__yr_path_pop(c, old);
}

/* ------------------------------------------------------------ values */

static bool is_hex_lower(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

/* What is wrong with a partner name, or NULL. */
static const char *why_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "must not be empty";
	if (n > CP_PARTNER_NAME_MAX)
		return "longer than 64 characters";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '_' || ch == '-'))
			return "is not a valid partner name (use letters, digits, '.', '_' and "
			       "'-')";
	}
	return NULL;
}

/* Free text (titles, communities, subjects): no control characters. */
static const char *why_text(const char *s)
{
	if (!*s)
		return "must not be empty";
	for (const char *t = s; *t; t++)
		if ((unsigned char)*t < 0x20 || *t == 0x7f)
			return "must not contain control characters";
	return NULL;
}

static const char *why_identity(const char *s)
{
	size_t type_len = 0;

	if (!cp_stix_id_is_valid(s, &type_len) || type_len != 8 || strncmp(s, "identity", 8))
		return "is not a STIX identity id (identity--<uuid>)";
	return NULL;
}

/* Check "sha256:<64 hex>" and lowercase it in place. */
static const char *norm_fingerprint(char *s)
{
	if (strlen(s) != 7 + 64 || strncmp(s, "sha256:", 7) != 0)
		return "is not \"sha256:\" followed by 64 hex digits";
	for (char *t = s + 7; *t; t++) {
		if (*t >= 'A' && *t <= 'F')
			*t = (char)(*t - 'A' + 'a');
		else if (!is_hex_lower(*t))
			return "is not \"sha256:\" followed by 64 hex digits";
	}
	return NULL;
}

/* Check a token id (8 hex digits) and lowercase it in place. */
static const char *norm_token_id(char *s)
{
	if (strlen(s) != CP_PARTNER_TOKEN_ID_LEN)
		return "is not 8 hex digits";
	for (char *t = s; *t; t++) {
		if (*t >= 'A' && *t <= 'F')
			*t = (char)(*t - 'A' + 'a');
		else if (!is_hex_lower(*t))
			return "is not 8 hex digits";
	}
	return NULL;
}

static bool parse_hash(const char *s, unsigned char out[CP_PARTNER_TOKEN_HASH_BYTES])
{
	if (strlen(s) != 2 * CP_PARTNER_TOKEN_HASH_BYTES)
		return false;
	for (size_t i = 0; i < CP_PARTNER_TOKEN_HASH_BYTES; i++) {
		int hi = cp_hex_digit((unsigned char)s[2 * i]);
		int lo = cp_hex_digit((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/* STIX 2.1 type names: a-z, 0-9 and '-', 3 to 250 characters. */
static const char *why_type(const char *s)
{
	size_t n = strlen(s);

	if (n < CP_LIMIT_TYPE_MIN || n > CP_LIMIT_TYPE_LEN)
		return "is not a STIX type name (3 to 250 characters)";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return "is not a STIX type name (use a-z, 0-9 and '-')";
	return NULL;
}

/* A type that is valid but neither a STIX 2.1 type nor a custom "x-" one: a typo? */
static bool type_is_suspect(const char *s)
{
	return cp_stix_kind_of(s) == CP_STIX_CUSTOM && strncmp(s, "x-", 2) != 0;
}

static const char *const tlp_names[] = {
        [CP_TLP_CLEAR] = "clear", [CP_TLP_GREEN] = "green",
        [CP_TLP_AMBER] = "amber", [CP_TLP_AMBER_STRICT] = "amber+strict",
        [CP_TLP_RED] = "red",
};

static const char *const pap_names[] = {
        [CP_PAP_CLEAR] = "clear",
        [CP_PAP_GREEN] = "green",
        [CP_PAP_AMBER] = "amber",
        [CP_PAP_RED] = "red",
};

const char *cp_partners_tlp_name(enum cp_tlp tlp)
{
	if ((unsigned)tlp >= CP_ARRAY_LEN(tlp_names))
		return NULL;
	return tlp_names[tlp];
}

const char *cp_partners_pap_name(enum cp_pap pap)
{
	if ((unsigned)pap >= CP_ARRAY_LEN(pap_names))
		return NULL;
	return pap_names[pap];
}

static bool level_lookup(const char *s, const char *prefix, const char *const *names, size_t n,
                         unsigned *out)
{
	if (!s)
		return false;
	if (!strncasecmp(s, prefix, 4))
		s += 4;
	for (size_t i = 1; i < n; i++) {
		if (names[i] && !strcasecmp(s, names[i])) {
			*out = (unsigned)i;
			return true;
		}
	}
	return false;
}

bool cp_partners_parse_tlp(const char *s, enum cp_tlp *out)
{
	unsigned v;

	if (!level_lookup(s, "tlp:", tlp_names, CP_ARRAY_LEN(tlp_names), &v))
		return false;
	*out = (enum cp_tlp)v;
	return true;
}

bool cp_partners_parse_pap(const char *s, enum cp_pap *out)
{
	unsigned v;

	if (!level_lookup(s, "pap:", pap_names, CP_ARRAY_LEN(pap_names), &v))
		return false;
	*out = (enum cp_pap)v;
	return true;
}

/* ------------------------------------------------------------ collections */

/*
 * Find the collection name stands for. On CP_ECONFLICT, *root and *other_root name
 * two API roots where it means different collections (and *id, *other_id those).
 */
static enum cp_err resolve(const struct cp_config *cfg, const char *name, const char **id,
                           const char **root, const char **other_id, const char **other_root)
{
	const char *found = NULL, *found_root = NULL;

	for (size_t r = 0; r < cfg->api_root_count; r++) {
		const struct cp_config_api_root *ar = &cfg->api_roots[r];
		for (size_t i = 0; i < ar->collection_count; i++) {
			const struct cp_config_collection *cc = &ar->collections[i];
			if (strcmp(cc->id, name) != 0 && !(cc->alias && !strcmp(cc->alias, name)))
				continue;
			if (found && strcmp(found, cc->id) != 0) {
				*id = found;
				*root = found_root;
				*other_id = cc->id;
				*other_root = ar->name;
				return CP_ECONFLICT;
			}
			found = cc->id;
			found_root = ar->name;
		}
	}
	if (!found)
		return CP_ENOTFOUND;
	*id = found;
	*root = found_root;
	return CP_OK;
}

enum cp_err cp_partners_resolve_collection(const struct cp_config *cfg, const char *name,
                                           const char **id)
{
	const char *found, *root, *oid, *oroot;
	enum cp_err err;

	if (!cfg || !name || !id || !strcmp(name, "*"))
		return CP_EINVAL;
	err = resolve(cfg, name, &found, &root, &oid, &oroot);
	if (!err)
		*id = found;
	return err;
}

/*
 * The collection id for a list entry (a new string in *out), reporting at line:col
 * what is wrong with it. Without cfg the name is the id.
 */
static bool resolve_entry(struct cp__yr *c, const struct cp_config *cfg, const char *name, bool is_red,
                          unsigned line, unsigned col, char **out)
{
	const char *id = name, *root = NULL, *oid = NULL, *oroot = NULL;
	char shown[SHOW_MAX];
	enum cp_err err;

	*out = NULL;
	if (!strcmp(name, "*")) {
		if (is_red) {
			report_at(c, CP_SEV_ERROR, line, col,
			          "\"*\" is not allowed: TLP:RED recipients are named per "
			          "collection");
			return false;
		}
	} else if (cfg) {
		err = resolve(cfg, name, &id, &root, &oid, &oroot);
		if (err == CP_ENOTFOUND) {
			report_at(c, CP_SEV_ERROR, line, col,
			          "'%s' is neither \"*\" nor the id or alias of a configured "
			          "collection",
			          shows(shown, name));
			return false;
		}
		if (err == CP_ECONFLICT) {
			report_at(c, CP_SEV_ERROR, line, col,
			          "'%s' is ambiguous: it names collection %s in API root '%s' and "
			          "collection %s in API root '%s' (use the collection id)",
			          shows(shown, name), id, root, oid, oroot);
			return false;
		}
	}
	*out = cp_strdup(id);
	if (!*out) {
		fail(c, CP_ENOMEM);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------ memory */

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		cp_free(v[i]);
	cp_free(v);
}

static void colls_release(struct cp_partner_colls *l)
{
	strv_free(l->names, l->count);
	strv_free(l->ids, l->count);
	memset(l, 0, sizeof(*l));
}

static void agreement_release(struct cp_partner_agreement *a)
{
	colls_release(&a->read);
	colls_release(&a->write);
	colls_release(&a->red);
	strv_free(a->types_allowed, a->types_allowed_count);
	strv_free(a->types_excluded, a->types_excluded_count);
	memset(a, 0, sizeof(*a));
}

static void agreement_defaults(struct cp_partner_agreement *a)
{
	memset(a, 0, sizeof(*a));
	a->tlp_ceiling = CP_TLP_CLEAR;
	a->default_tlp = CP_TLP_AMBER;
	a->pap_ceiling = CP_PAP_NONE;
}

static void certs_free(struct cp_partner_cert *certs, size_t n)
{
	for (size_t i = 0; certs && i < n; i++) {
		cp_free(certs[i].fingerprint);
		cp_free(certs[i].subject);
	}
	cp_free(certs);
}

static void partner_free(struct cp_partner *p)
{
	if (!p)
		return;
	cp_free(p->name);
	cp_free(p->identity);
	cp_free(p->title);
	cp_free(p->community);
	certs_free(p->certs, p->cert_count);
	cp_free(p->tokens);
	agreement_release(&p->agreement);
	cp_free(p);
}

static struct cp_partner *partner_new(void)
{
	struct cp_partner *p = cp_calloc(1, sizeof(*p));

	if (p)
		agreement_defaults(&p->agreement);
	return p;
}

/* Room for one more element in an array (doubling); NULL on failure. */
static void *grow(void *arr, size_t *cap, size_t count, size_t size)
{
	size_t ncap;
	void *n;

	if (count < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 4;
	if (ncap > SIZE_MAX / size)
		return NULL;
	n = cp_realloc(arr, ncap * size);
	if (n)
		*cap = ncap;
	return n;
}

/* Append (name, id), both owned, to l; frees them on failure. */
static bool colls_append(struct cp_partner_colls *l, size_t *cap, char *name, char *id)
{
	size_t ncap = *cap;
	char **names, **ids;

	names = grow(l->names, &ncap, l->count, sizeof(*names));
	if (!names)
		goto fail;
	l->names = names;
	if (ncap != *cap) {
		ids = cp_realloc(l->ids, ncap * sizeof(*ids));
		if (!ids)
			goto fail;
		l->ids = ids;
		*cap = ncap;
	}
	l->names[l->count] = name;
	l->ids[l->count] = id;
	l->count++;
	return true;
fail:
	cp_free(name);
	cp_free(id);
	return false;
}

static bool strv_append(char ***v, size_t *count, size_t *cap, char *s)
{
	char **n = grow(*v, cap, *count, sizeof(*n));

	if (!n) {
		cp_free(s);
		return false;
	}
	*v = n;
	n[(*count)++] = s;
	return true;
}

static bool set_append(struct cp_partners *set, struct cp_partner *p)
{
	struct cp_partner **n = grow(set->items, &set->cap, set->count, sizeof(*n));

	if (!n)
		return false;
	set->items = n;
	n[set->count++] = p;
	return true;
}

enum cp_err cp_partners_new(struct cp_partners **out)
{
	struct cp_partners *p;

	if (!out)
		return CP_EINVAL;
	/* libsodium picks its implementations here; later calls are then lock-free */
	if (sodium_init() < 0)
		return CP_EBACKEND;
	p = cp_calloc(1, sizeof(*p));
	if (!p)
		return CP_ENOMEM;
	*out = p;
	return CP_OK;
}

void cp_partners_free(struct cp_partners *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++)
		partner_free(p->items[i]);
	cp_free(p->items);
	cp_free(p);
}

/* ------------------------------------------------------------ uniqueness */

enum uniq_kind {
	U_NAME,
	U_FINGERPRINT,
	U_SUBJECT,
	U_TOKEN,
};

struct uniq {
	enum uniq_kind kind;
	const char *s;
	size_t pi, ei; /* partner index, entry index */
	unsigned line, col;
	const struct uniq *dup_of;
};

static int cmp_uniq(const void *a, const void *b)
{
	const struct uniq *x = *(const struct uniq *const *)a;
	const struct uniq *y = *(const struct uniq *const *)b;
	int d;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	d = strcmp(x->s, y->s);
	if (d)
		return d;
	if (x->pi != y->pi)
		return x->pi < y->pi ? -1 : 1;
	return x->ei < y->ei ? -1 : x->ei > y->ei;
}

static void uniq_path(char *out, size_t cap, const struct uniq *u)
{
	switch (u->kind) {
	case U_NAME:
		snprintf(out, cap, "partners[%zu].name", u->pi);
		break;
	case U_FINGERPRINT:
		snprintf(out, cap, "partners[%zu].certificates[%zu].fingerprint", u->pi, u->ei);
		break;
	case U_SUBJECT:
		snprintf(out, cap, "partners[%zu].certificates[%zu].subject", u->pi, u->ei);
		break;
	case U_TOKEN:
		snprintf(out, cap, "partners[%zu].tokens[%zu].id", u->pi, u->ei);
		break;
	}
}

/*
 * Names, fingerprints, subjects of subject-only entries and token ids are unique
 * across the set. Reports each later duplicate (in file order); returns how many.
 */
static size_t check_unique(struct cp__yr *c, const struct cp_partners *set)
{
	static const char *const what[] = {
	        [U_NAME] = "duplicate partner name",
	        [U_FINGERPRINT] = "certificate fingerprint",
	        [U_SUBJECT] = "certificate subject",
	        [U_TOKEN] = "token id",
	};
	struct uniq *all = NULL;
	struct uniq **sorted = NULL;
	size_t n = 0, total = 0, dups = 0, start = 0;
	char here[96], there[96], shown[SHOW_MAX];

	for (size_t i = 0; i < set->count; i++)
		total += 1 + set->items[i]->cert_count + set->items[i]->token_count;
	if (!total)
		return 0;
	all = cp_calloc(total, sizeof(*all));
	if (!all)
		goto nomem;
	for (size_t i = 0; i < set->count; i++) {
		const struct cp_partner *p = set->items[i];
		all[n++] = (struct uniq){U_NAME, p->name, i, 0, p->line, p->column, NULL};
		for (size_t j = 0; j < p->cert_count; j++) {
			const struct cp_partner_cert *ce = &p->certs[j];
			if (ce->fingerprint)
				all[n++] = (struct uniq){U_FINGERPRINT, ce->fingerprint, i,   j,
				                         ce->line,      ce->column,      NULL};
			else
				all[n++] = (struct uniq){U_SUBJECT, ce->subject, i,   j,
				                         ce->line,  ce->column,  NULL};
		}
		for (size_t j = 0; j < p->token_count; j++)
			all[n++] = (struct uniq){U_TOKEN,           p->tokens[j].id,     i,   j,
			                         p->tokens[j].line, p->tokens[j].column, NULL};
	}
	if (n < 2)
		goto out;
	sorted = cp_malloc(n * sizeof(*sorted));
	if (!sorted)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		sorted[i] = &all[i];
	qsort(sorted, n, sizeof(*sorted), cmp_uniq);
	for (size_t i = 1; i < n; i++) {
		if (sorted[i]->kind != sorted[start]->kind ||
		    strcmp(sorted[i]->s, sorted[start]->s) != 0) {
			start = i;
			continue;
		}
		sorted[i]->dup_of = sorted[start];
	}
	for (size_t i = 0; i < n && !c->fatal; i++) {
		const struct uniq *u = &all[i];
		const struct cp_partner *other;

		if (!u->dup_of)
			continue;
		dups++;
		other = set->items[u->dup_of->pi];
		uniq_path(here, sizeof(here), u);
		uniq_path(there, sizeof(there), u->dup_of);
		cp_buf_reset(&c->path);
		cp_buf_puts(&c->path, here);
		if (cp_buf_finish(&c->path)) {
			fail(c, CP_ENOMEM);
			break;
		}
		shows(shown, u->s);
		if (u->kind == U_NAME && u->dup_of->line)
			report_at(c, CP_SEV_ERROR, u->line, u->col, "%s '%s' (first at line %u)",
			          what[u->kind], shown, u->dup_of->line);
		else if (u->kind == U_NAME)
			report_at(c, CP_SEV_ERROR, u->line, u->col, "%s '%s'", what[u->kind],
			          shown);
		else if (u->dup_of->line)
			report_at(c, CP_SEV_ERROR, u->line, u->col,
			          "%s '%s' is already used by partner '%s' (%s, line %u)",
			          what[u->kind], shown, other->name, there, u->dup_of->line);
		else
			report_at(c, CP_SEV_ERROR, u->line, u->col,
			          "%s '%s' is already used by partner '%s' (%s)", what[u->kind],
			          shown, other->name, there);
	}
	cp_buf_reset(&c->path);
	goto out;
nomem:
	fail(c, CP_ENOMEM);
out:
	cp_free(all);
	cp_free(sorted);
	return dups;
}

/* ------------------------------------------------------------ the reader */

struct parser {
	struct cp__yr c; /* the shared reader; must stay first */
	const struct cp_config *cfg;
	struct cp_partners *set;
};

typedef void (*field_fn)(struct parser *p, const yaml_event_t *ev, void *obj);

struct field {
	const char *key;
	field_fn fn;
};

static unsigned line_of(const yaml_mark_t *m)
{
	return m ? (unsigned)m->line + 1 : 0;
}

static unsigned col_of(const yaml_mark_t *m)
{
	return m ? (unsigned)m->column + 1 : 0;
}

static void report(struct parser *p, const yaml_mark_t *m, const char *fmt, ...) CP_PRINTF(3, 4);

static void report(struct parser *p, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cp__yr_vreport(&p->c, CP_SEV_ERROR, line_of(m), col_of(m), fmt, ap);
	va_end(ap);
}

static void skip(struct parser *p, const yaml_event_t *ev)
{
	cp__yr_skip(&p->c, ev);
}

/* The plain spellings of YAML's null (also what the writer must quote). */
static bool is_null_text(const char *v, size_t n)
{
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 &&
	        (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

static bool is_null(const yaml_event_t *ev)
{
	return cp__yr_is_null(ev);
}

static const char *kind(const yaml_event_t *ev)
{
	return cp__yr_kind(ev);
}

/*
 * The string scalar ev as a new string in *out; NULL (and true) for null when
 * optional. False, with the reason reported, if ev is something else.
 */
static bool get_string(struct parser *p, const yaml_event_t *ev, bool optional, char **out)
{
	return cp__yr_get_string(&p->c, ev, optional ? CP__YR_OPTIONAL : 0, out);
}

/* A string checked by why (which may normalise it in place), stored in *field. */
static void set_checked(struct parser *p, const yaml_event_t *ev, bool optional,
                        const char *(*why)(char *s), char **field)
{
	char *s, shown[SHOW_MAX];
	const char *problem;

	if (!get_string(p, ev, optional, &s) || !s)
		return;
	problem = why ? why(s) : NULL;
	if (problem) {
		report(p, &ev->start_mark, "'%s' %s", shows(shown, s), problem);
		cp_free(s);
		return;
	}
	cp_free(*field);
	*field = s;
}

static bool get_bool(struct parser *p, const yaml_event_t *ev, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE"};
	static const char *const no[] = {"false", "False", "FALSE"};
	char shown[SHOW_MAX];
	const char *v;

	if (ev->type == YAML_ALIAS_EVENT)
		return false;
	if (ev->type != YAML_SCALAR_EVENT || is_null(ev)) {
		report(p, &ev->start_mark, "expected true or false, got %s", kind(ev));
		skip(p, ev);
		return false;
	}
	v = (const char *)ev->data.scalar.value;
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (size_t i = 0; i < CP_ARRAY_LEN(yes); i++) {
			if (!strcmp(v, yes[i])) {
				*out = true;
				return true;
			}
			if (!strcmp(v, no[i])) {
				*out = false;
				return true;
			}
		}
	}
	report(p, &ev->start_mark, "expected true or false, got '%s'",
	       show(shown, v, ev->data.scalar.length));
	return false;
}

static bool get_time(struct parser *p, const yaml_event_t *ev, struct cp_time *out)
{
	char *s, shown[SHOW_MAX];
	const char *why = NULL;
	bool ok;

	if (!get_string(p, ev, false, &s))
		return false;
	ok = cp_time_parse(s, strlen(s), out, &why) == CP_OK;
	if (!ok)
		report(p, &ev->start_mark, "'%s' is not an RFC 3339 UTC timestamp (%s)",
		       shows(shown, s), why ? why : "bad format");
	cp_free(s);
	return ok;
}

/* The field tables of this file through the shared mapping reader. */
struct mapping_call {
	struct parser *p;
	const struct field *fields;
	void *obj;
};

static void on_value(struct cp__yr *r, size_t i, const yaml_event_t *ev, void *ctx)
{
	struct mapping_call *m = ctx;
	(void)r;
	m->fields[i].fn(m->p, ev, m->obj);
}

#define MAX_FIELDS 32 /* `seen` is a bit set */

/*
 * Read the mapping that begins with ev, handing each known key's value to its field
 * function with obj; *seen gets bit i for each fields[i] present.
 */
static bool parse_mapping(struct parser *p, const yaml_event_t *ev, const struct field *fields,
                          size_t n, void *obj, unsigned *seen)
{
	const char *keys[MAX_FIELDS];
	struct mapping_call m = {p, fields, obj};

	if (n > MAX_FIELDS)
		n = MAX_FIELDS;
	for (size_t i = 0; i < n; i++)
		keys[i] = fields[i].key;
	return cp__yr_mapping(&p->c, ev, keys, n, on_value, &m, seen);
}

/* Report each key of fields[] whose bit is in `required` but not in `seen`. */
static void require(struct parser *p, const yaml_event_t *ev, const struct field *fields,
                    unsigned required, unsigned seen)
{
	const char *keys[MAX_FIELDS];
	size_t n = 0;

	/* only the keys up to the highest required bit are looked at */
	while (n < MAX_FIELDS && (required >> n)) {
		keys[n] = fields[n].key;
		n++;
	}
	cp__yr_require(&p->c, ev, keys, required, seen);
}

typedef void (*item_fn)(struct parser *p, const yaml_event_t *item, size_t i, void *ctx);

struct list_call {
	struct parser *p;
	item_fn fn;
	void *ctx;
};

static void on_item(struct cp__yr *r, const yaml_event_t *item, size_t i, void *ctx)
{
	struct list_call *l = ctx;
	(void)r;
	l->fn(l->p, item, i, l->ctx);
}

/* Read the list that begins with ev (null is an empty list), calling fn per item. */
static void parse_list(struct parser *p, const yaml_event_t *ev, item_fn fn, void *ctx)
{
	struct list_call l = {p, fn, ctx};
	cp__yr_list(&p->c, ev, on_item, &l);
}

/* ------------------------------------------------------------ the schema */

/* agreement */

struct colls_ctx {
	struct cp_partner_colls *l;
	size_t cap;
	bool is_red;
};

static void coll_item(struct parser *p, const yaml_event_t *item, size_t i, void *ctx)
{
	struct colls_ctx *l = ctx;
	char *name, *id;

	(void)i;
	if (!get_string(p, item, false, &name))
		return;
	if (!resolve_entry(&p->c, p->cfg, name, l->is_red, line_of(&item->start_mark),
	                   col_of(&item->start_mark), &id)) {
		cp_free(name);
		return;
	}
	if (!colls_append(l->l, &l->cap, name, id))
		fail(&p->c, CP_ENOMEM);
}

static void on_read(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct colls_ctx l = {&((struct cp_partner_agreement *)obj)->read, 0, false};

	parse_list(p, ev, coll_item, &l);
}

static void on_write(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct colls_ctx l = {&((struct cp_partner_agreement *)obj)->write, 0, false};

	parse_list(p, ev, coll_item, &l);
}

static void on_red(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct colls_ctx l = {&((struct cp_partner_agreement *)obj)->red, 0, true};

	parse_list(p, ev, coll_item, &l);
}

struct types_ctx {
	char ***v;
	size_t *count;
	size_t cap;
};

static void type_item(struct parser *p, const yaml_event_t *item, size_t i, void *ctx)
{
	struct types_ctx *l = ctx;
	char *s, shown[SHOW_MAX];
	const char *why;

	(void)i;
	if (!get_string(p, item, false, &s))
		return;
	why = why_type(s);
	if (why) {
		report(p, &item->start_mark, "'%s' %s", shows(shown, s), why);
		cp_free(s);
		return;
	}
	if (type_is_suspect(s))
		report_at(&p->c, CP_SEV_WARNING, line_of(&item->start_mark),
		          col_of(&item->start_mark),
		          "'%s' is not a STIX 2.1 object type (custom types usually start with "
		          "\"x-\")",
		          shows(shown, s));
	if (!strv_append(l->v, l->count, &l->cap, s))
		fail(&p->c, CP_ENOMEM);
}

static void on_types_allowed(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_partner_agreement *a = obj;
	struct types_ctx l = {&a->types_allowed, &a->types_allowed_count, 0};

	parse_list(p, ev, type_item, &l);
}

static void on_types_excluded(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_partner_agreement *a = obj;
	struct types_ctx l = {&a->types_excluded, &a->types_excluded_count, 0};

	parse_list(p, ev, type_item, &l);
}

static void get_tlp(struct parser *p, const yaml_event_t *ev, enum cp_tlp *out)
{
	char *s, shown[SHOW_MAX];

	if (!get_string(p, ev, false, &s))
		return;
	if (!cp_partners_parse_tlp(s, out))
		report(p, &ev->start_mark,
		       "'%s' is not a TLP level (clear, green, amber, amber+strict or red)",
		       shows(shown, s));
	cp_free(s);
}

static void on_tlp_ceiling(struct parser *p, const yaml_event_t *ev, void *obj)
{
	get_tlp(p, ev, &((struct cp_partner_agreement *)obj)->tlp_ceiling);
}

static void on_default_tlp(struct parser *p, const yaml_event_t *ev, void *obj)
{
	get_tlp(p, ev, &((struct cp_partner_agreement *)obj)->default_tlp);
}

static void on_pap_ceiling(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_partner_agreement *a = obj;
	char *s, shown[SHOW_MAX];

	if (!get_string(p, ev, true, &s) || !s)
		return; /* null: no PAP limit */
	if (!cp_partners_parse_pap(s, &a->pap_ceiling))
		report(p, &ev->start_mark, "'%s' is not a PAP level (clear, green, amber or red)",
		       shows(shown, s));
	cp_free(s);
}

#define BOOL_FIELD(fname)                                                                          \
	static void on_##fname(struct parser *p, const yaml_event_t *ev, void *obj)                \
	{                                                                                          \
		(void)get_bool(p, ev, &((struct cp_partner_agreement *)obj)->fname);               \
	}

BOOL_FIELD(third_party)
BOOL_FIELD(sightings)
BOOL_FIELD(consultations)
BOOL_FIELD(no_redistribution)
BOOL_FIELD(anonymise)

static const struct field agreement_fields[] = {
        {"read", on_read},
        {"write", on_write},
        {"tlp_ceiling", on_tlp_ceiling},
        {"pap_ceiling", on_pap_ceiling},
        {"default_tlp", on_default_tlp},
        {"red", on_red},
        {"types_allowed", on_types_allowed},
        {"types_excluded", on_types_excluded},
        {"third_party", on_third_party},
        {"sightings", on_sightings},
        {"consultations", on_consultations},
        {"no_redistribution", on_no_redistribution},
        {"anonymise", on_anonymise},
};

static void on_agreement(struct parser *p, const yaml_event_t *ev, void *obj)
{
	unsigned seen;

	if (!is_null(ev))
		(void)parse_mapping(p, ev, agreement_fields, CP_ARRAY_LEN(agreement_fields),
		                    &((struct cp_partner *)obj)->agreement, &seen);
}

/* certificates */

static const char *why_fingerprint_cb(char *s)
{
	return norm_fingerprint(s);
}

static const char *why_text_cb(char *s)
{
	return why_text(s);
}

static void on_cert_fingerprint(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_checked(p, ev, false, why_fingerprint_cb,
	            &((struct cp_partner_cert *)obj)->fingerprint);
}

static void on_cert_subject(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_checked(p, ev, false, why_text_cb, &((struct cp_partner_cert *)obj)->subject);
}

static const struct field cert_fields[] = {
        {"fingerprint", on_cert_fingerprint},
        {"subject", on_cert_subject},
};

struct list_ctx {
	struct cp_partner *partner;
	size_t cap;
};

static void cert_item(struct parser *p, const yaml_event_t *item, size_t i, void *ctx)
{
	struct list_ctx *l = ctx;
	struct cp_partner *pt = l->partner;
	struct cp_partner_cert *arr, *ce;
	unsigned seen;

	arr = grow(pt->certs, &l->cap, pt->cert_count, sizeof(*arr));
	if (!arr) {
		fail(&p->c, CP_ENOMEM);
		return;
	}
	(void)i; /* dropped entries leave no hole */
	pt->certs = arr;
	ce = &arr[pt->cert_count];
	memset(ce, 0, sizeof(*ce));
	pt->cert_count++;
	ce->line = line_of(&item->start_mark);
	ce->column = col_of(&item->start_mark);
	if (!parse_mapping(p, item, cert_fields, CP_ARRAY_LEN(cert_fields), ce, &seen))
		goto drop;
	if (!ce->fingerprint && !ce->subject) {
		if (!seen)
			report(p, &item->start_mark,
			       "a certificate needs a fingerprint or a subject");
		goto drop;
	}
	return;
drop:
	/* an unusable entry must not take part in the uniqueness checks */
	cp_free(ce->fingerprint);
	cp_free(ce->subject);
	pt->cert_count--;
}

static void on_certificates(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct list_ctx l = {obj, 0};

	parse_list(p, ev, cert_item, &l);
}

/* tokens */

static void on_token_id(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_partner_token *t = obj;
	char *s, shown[SHOW_MAX];
	const char *why;

	if (!get_string(p, ev, false, &s))
		return;
	why = norm_token_id(s);
	if (why)
		report(p, &ev->start_mark, "'%s' %s", shows(shown, s), why);
	else
		memcpy(t->id, s, CP_PARTNER_TOKEN_ID_LEN + 1);
	cp_free(s);
}

static void on_token_hash(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_partner_token *t = obj;
	char *s;

	if (!get_string(p, ev, false, &s))
		return;
	/* not quoted: it is derived from a credential */
	if (!parse_hash(s, t->hash))
		report(p, &ev->start_mark, "not 64 hex digits (a BLAKE2b-256 hash)");
	cp_free(s);
}

static void on_token_created(struct parser *p, const yaml_event_t *ev, void *obj)
{
	(void)get_time(p, ev, &((struct cp_partner_token *)obj)->created);
}

static void on_token_expires(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_partner_token *t = obj;

	if (!is_null(ev))
		t->has_expires = get_time(p, ev, &t->expires);
}

static void on_token_revoked(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_partner_token *t = obj;

	if (!is_null(ev))
		t->is_revoked = get_time(p, ev, &t->revoked);
}

static const struct field token_fields[] = {
        {"id", on_token_id},           {"hash", on_token_hash},       {"created", on_token_created},
        {"expires", on_token_expires}, {"revoked", on_token_revoked},
};

static void token_item(struct parser *p, const yaml_event_t *item, size_t i, void *ctx)
{
	struct list_ctx *l = ctx;
	struct cp_partner *pt = l->partner;
	struct cp_partner_token *arr, *t;
	size_t errors = p->c.errors;
	unsigned seen;

	arr = grow(pt->tokens, &l->cap, pt->token_count, sizeof(*arr));
	if (!arr) {
		fail(&p->c, CP_ENOMEM);
		return;
	}
	(void)i;
	pt->tokens = arr;
	t = &arr[pt->token_count];
	memset(t, 0, sizeof(*t));
	pt->token_count++;
	t->line = line_of(&item->start_mark);
	t->column = col_of(&item->start_mark);
	if (!parse_mapping(p, item, token_fields, CP_ARRAY_LEN(token_fields), t, &seen))
		goto drop;
	require(p, item, token_fields, 0x7, seen);
	if (p->c.errors != errors)
		goto drop;
	if (t->has_expires && cp_time_cmp(&t->expires, &t->created) <= 0) {
		report(p, &item->start_mark, "expires must be after created");
		goto drop;
	}
	return;
drop:
	pt->token_count--;
}

static void on_tokens(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct list_ctx l = {obj, 0};

	parse_list(p, ev, token_item, &l);
}

/* partners */

static const char *why_name_cb(char *s)
{
	return why_name(s);
}

static const char *why_identity_cb(char *s)
{
	return why_identity(s);
}

static void on_name(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_partner *pt = obj;

	pt->line = line_of(&ev->start_mark);
	pt->column = col_of(&ev->start_mark);
	set_checked(p, ev, false, why_name_cb, &pt->name);
}

static void on_identity(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_checked(p, ev, true, why_identity_cb, &((struct cp_partner *)obj)->identity);
}

static void on_title(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_checked(p, ev, true, why_text_cb, &((struct cp_partner *)obj)->title);
}

static void on_community(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_checked(p, ev, true, why_text_cb, &((struct cp_partner *)obj)->community);
}

static const struct field partner_fields[] = {
        {"name", on_name},           {"identity", on_identity},         {"title", on_title},
        {"community", on_community}, {"certificates", on_certificates}, {"tokens", on_tokens},
        {"agreement", on_agreement},
};

static void partner_item(struct parser *p, const yaml_event_t *item, size_t i, void *ctx)
{
	struct cp_partner *pt = partner_new();
	unsigned seen;

	(void)i;
	(void)ctx;
	if (!pt || !set_append(p->set, pt)) {
		partner_free(pt);
		fail(&p->c, CP_ENOMEM);
		return;
	}
	if (parse_mapping(p, item, partner_fields, CP_ARRAY_LEN(partner_fields), pt, &seen))
		require(p, item, partner_fields, 0x1, seen);
	if (!pt->name) {
		/* nameless partners cannot be compared; the error is already reported */
		p->set->count--;
		partner_free(pt);
	}
}

static void on_partners(struct parser *p, const yaml_event_t *ev, void *obj)
{
	(void)obj;
	parse_list(p, ev, partner_item, NULL);
}

static const struct field top_fields[] = {
        {"partners", on_partners},
};

/* the document's root mapping (cp__yr_document reads the stream around it) */
static void on_root(struct cp__yr *r, const yaml_event_t *ev, void *ctx)
{
	unsigned seen;
	(void)r;
	(void)parse_mapping(ctx, ev, top_fields, CP_ARRAY_LEN(top_fields), NULL, &seen);
}

enum cp_err cp_partners_load_text(const char *text, size_t len, const char *name,
                                  const struct cp_config *cfg, struct cp_partners **out,
                                  struct cp_diag *diag)
{
	struct parser p;
	enum cp_err err;

	if (!out)
		return CP_EINVAL;
	memset(&p, 0, sizeof(p));
	cp__yr_init(&p.c, name ? name : "(partners)", CODE, false, CP_PARTNERS_MAX_DEPTH, diag);
	p.cfg = cfg;
	err = cp_partners_new(&p.set);
	if (err)
		goto out;
	if (text && len > CP_PARTNERS_MAX_BYTES) {
		report(&p, NULL, "%s is larger than %u bytes", p.c.name, CP_PARTNERS_MAX_BYTES);
		err = p.c.fatal ? p.c.fatal : CP_ETOOBIG;
		goto out;
	}
	err = cp__yr_start(&p.c, text, len);
	if (err)
		goto out;
	cp__yr_document(&p.c, on_root, &p);
	if (!p.c.fatal)
		(void)check_unique(&p.c, p.set);
	err = p.c.fatal ? p.c.fatal : p.c.errors ? CP_EINVAL : CP_OK;
out:
	cp__yr_release(&p.c);
	if (err) {
		cp_partners_free(p.set);
		return err;
	}
	*out = p.set;
	return CP_OK;
}

enum cp_err cp_partners_load(const char *path, const struct cp_config *cfg,
                             struct cp_partners **out, struct cp_diag *diag)
{
	FILE *f = NULL;
	char *buf = NULL, ebuf[128];
	size_t len;
	enum cp_err err;
	int e;

	if (!path || !out)
		return CP_EINVAL;
	f = fopen(path, "rb");
	if (!f) {
		e = errno;
		if (e == ENOENT)
			return cp_partners_new(out);
		cp_diag_add_at(diag, CP_SEV_ERROR, CODE, 0, 0, "cannot open '%s': %s", path,
		               strerror_r(e, ebuf, sizeof(ebuf)));
		return CP_EIO;
	}
	/* one byte more than the limit tells "exactly at the limit" from "over it" */
	buf = cp_malloc(CP_PARTNERS_MAX_BYTES + 1);
	if (!buf) {
		err = CP_ENOMEM;
		goto out;
	}
	len = fread(buf, 1, CP_PARTNERS_MAX_BYTES + 1, f);
	if (ferror(f)) {
		e = errno;
		err = CP_EIO;
		cp_diag_add_at(diag, CP_SEV_ERROR, CODE, 0, 0, "cannot read '%s': %s", path,
		               strerror_r(e, ebuf, sizeof(ebuf)));
		goto out;
	}
	err = cp_partners_load_text(buf, len, path, cfg, out, diag);
out:
	fclose(f);
	cp_free(buf);
	return err;
}

/* ------------------------------------------------------------ the writer */

struct emitter {
	yaml_emitter_t em;
	struct cp_buf out;
	bool ok;
};

static int write_out(void *data, unsigned char *buffer, size_t size)
{
	struct cp_buf *b = data;

	cp_buf_append(b, buffer, size);
	return cp_buf_finish(b) == CP_OK;
}

/* Emit ev (libyaml owns it from here) unless an earlier event failed. */
static void emit(struct emitter *e, yaml_event_t *ev, int made)
{
	if (!made) {
		e->ok = false;
		return;
	}
	if (!e->ok) {
		yaml_event_delete(ev);
		return;
	}
	if (!yaml_emitter_emit(&e->em, ev))
		e->ok = false;
}

static void e_scalar(struct emitter *e, const char *s)
{
	yaml_event_t ev;
	size_t n = strlen(s);
	/* the loader reads these plain spellings as null */
	yaml_scalar_style_t style =
	        is_null_text(s, n) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE;

	emit(e, &ev,
	     yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style));
}

static void e_map(struct emitter *e, bool start)
{
	yaml_event_t ev;

	if (start)
		emit(e, &ev,
		     yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		                                         YAML_BLOCK_MAPPING_STYLE));
	else
		emit(e, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void e_seq(struct emitter *e, bool start, bool flow)
{
	yaml_event_t ev;

	if (start)
		emit(e, &ev,
		     yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		                                          flow ? YAML_FLOW_SEQUENCE_STYLE
		                                               : YAML_BLOCK_SEQUENCE_STYLE));
	else
		emit(e, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void e_pair(struct emitter *e, const char *key, const char *value)
{
	if (!value)
		return;
	e_scalar(e, key);
	e_scalar(e, value);
}

static void e_time(struct emitter *e, const char *key, const struct cp_time *t)
{
	char text[CP_TIME_TEXT_MAX];

	cp_time_format(t, text);
	e_pair(e, key, text);
}

static void e_strv(struct emitter *e, const char *key, char *const *v, size_t n)
{
	e_scalar(e, key);
	e_seq(e, true, true);
	for (size_t i = 0; i < n; i++)
		e_scalar(e, v[i]);
	e_seq(e, false, true);
}

static void e_partner(struct emitter *e, const struct cp_partner *p)
{
	const struct cp_partner_agreement *a = &p->agreement;
	char hex[2 * CP_PARTNER_TOKEN_HASH_BYTES + 1];

	e_map(e, true);
	e_pair(e, "name", p->name);
	e_pair(e, "identity", p->identity);
	e_pair(e, "title", p->title);
	e_pair(e, "community", p->community);
	if (p->cert_count) {
		e_scalar(e, "certificates");
		e_seq(e, true, false);
		for (size_t i = 0; i < p->cert_count; i++) {
			e_map(e, true);
			e_pair(e, "fingerprint", p->certs[i].fingerprint);
			e_pair(e, "subject", p->certs[i].subject);
			e_map(e, false);
		}
		e_seq(e, false, false);
	}
	if (p->token_count) {
		e_scalar(e, "tokens");
		e_seq(e, true, false);
		for (size_t i = 0; i < p->token_count; i++) {
			const struct cp_partner_token *t = &p->tokens[i];
			e_map(e, true);
			e_pair(e, "id", t->id);
			sodium_bin2hex(hex, sizeof(hex), t->hash, sizeof(t->hash));
			e_pair(e, "hash", hex);
			e_time(e, "created", &t->created);
			if (t->has_expires)
				e_time(e, "expires", &t->expires);
			if (t->is_revoked)
				e_time(e, "revoked", &t->revoked);
			e_map(e, false);
		}
		e_seq(e, false, false);
	}
	e_scalar(e, "agreement");
	e_map(e, true);
	e_strv(e, "read", a->read.names, a->read.count);
	e_strv(e, "write", a->write.names, a->write.count);
	e_pair(e, "tlp_ceiling", cp_partners_tlp_name(a->tlp_ceiling));
	e_pair(e, "pap_ceiling", cp_partners_pap_name(a->pap_ceiling));
	e_pair(e, "default_tlp", cp_partners_tlp_name(a->default_tlp));
	e_strv(e, "red", a->red.names, a->red.count);
	e_strv(e, "types_allowed", a->types_allowed, a->types_allowed_count);
	e_strv(e, "types_excluded", a->types_excluded, a->types_excluded_count);
	e_pair(e, "third_party", a->third_party ? "true" : "false");
	e_pair(e, "sightings", a->sightings ? "true" : "false");
	e_pair(e, "consultations", a->consultations ? "true" : "false");
	e_pair(e, "no_redistribution", a->no_redistribution ? "true" : "false");
	e_pair(e, "anonymise", a->anonymise ? "true" : "false");
	e_map(e, false);
	e_map(e, false);
}

static const char file_header[] =
        "# cyberpact partners, credentials and sharing agreements (docs/PARTNERS.md).\n"
        "# Written by `cyberpact partner`; check edits with `cyberpact agreement check`.\n"
        "# Comments are not kept when the file is rewritten.\n";

enum cp_err cp_partners_format(const struct cp_partners *p, char **text, size_t *len)
{
	struct emitter e;
	yaml_event_t ev;
	enum cp_err err;
	bool has_em = false;

	if (!p || !text || !len)
		return CP_EINVAL;
	memset(&e, 0, sizeof(e));
	e.ok = true;
	cp_buf_init(&e.out, CP_PARTNERS_MAX_BYTES * 4);
	cp_buf_puts(&e.out, file_header);
	if (!yaml_emitter_initialize(&e.em)) {
		err = CP_ENOMEM;
		goto out;
	}
	has_em = true;
	yaml_emitter_set_output(&e.em, write_out, &e.out);
	yaml_emitter_set_unicode(&e.em, 1);
	yaml_emitter_set_width(&e.em, -1);
	yaml_emitter_set_indent(&e.em, 2);
	emit(&e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(&e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	e_map(&e, true);
	e_scalar(&e, "partners");
	e_seq(&e, true, p->count == 0);
	for (size_t i = 0; i < p->count; i++)
		e_partner(&e, p->items[i]);
	e_seq(&e, false, p->count == 0);
	e_map(&e, false);
	emit(&e, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(&e, &ev, yaml_stream_end_event_initialize(&ev));
	if (e.ok && !yaml_emitter_flush(&e.em))
		e.ok = false;
	err = cp_buf_finish(&e.out);
	if (!err && !e.ok)
		err = e.em.error == YAML_MEMORY_ERROR ? CP_ENOMEM : CP_EBACKEND;
	if (err)
		goto out;
	*len = e.out.len;
	*text = cp_buf_take(&e.out);
	if (!*text)
		err = CP_ENOMEM;
out:
	if (has_em)
		yaml_emitter_delete(&e.em);
	cp_buf_release(&e.out);
	return err;
}

static bool write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		s += n;
		len -= (size_t)n;
	}
	return true;
}

/* fsync the directory that holds path, so that a rename in it is durable. */
static bool sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;
	bool ok;

	if (!slash)
		dir = cp_strdup(".");
	else if (slash == path)
		dir = cp_strdup("/");
	else
		dir = cp_strndup(path, (size_t)(slash - path));
	if (!dir) {
		errno = ENOMEM;
		return false;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cp_free(dir);
	if (fd < 0)
		return false;
	ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

enum cp_err cp_partners_save(const struct cp_partners *p, const char *path)
{
	char *text = NULL, *tmp = NULL;
	size_t len = 0;
	struct cp_buf b = CP_BUF_INIT(0);
	enum cp_err err;
	int fd = -1, e;

	if (!p || !path)
		return CP_EINVAL;
	err = cp_partners_format(p, &text, &len);
	if (err)
		goto out;
	cp_buf_printf(&b, "%s.tmp", path);
	tmp = cp_buf_take(&b);
	if (!tmp) {
		err = CP_ENOMEM;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	/* a temporary file left by a crash may have any mode: the file names credentials */
	if (fd < 0 || fchmod(fd, 0600) != 0 || !write_all(fd, text, len) || fsync(fd) != 0)
		goto io;
	if (close(fd) != 0) {
		fd = -1;
		goto io;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto io;
	cp_free(tmp);
	tmp = NULL;
	if (!sync_dir(path)) {
		err = CP_EIO;
		goto out;
	}
	err = CP_OK;
	goto out;
io:
	e = errno;
	err = CP_EIO;
	if (fd >= 0)
		close(fd);
	fd = -1;
	if (tmp)
		unlink(tmp);
	errno = e;
out:
	e = errno;
	if (text) {
		sodium_memzero(text, len);
		cp_free(text);
	}
	cp_free(tmp);
	cp_buf_release(&b);
	errno = e;
	return err;
}

/* ------------------------------------------------------------ lookups */

size_t cp_partners_count(const struct cp_partners *p)
{
	return p ? p->count : 0;
}

const struct cp_partner *cp_partners_at(const struct cp_partners *p, size_t i)
{
	return p && i < p->count ? p->items[i] : NULL;
}

static size_t find_index(const struct cp_partners *p, const char *name)
{
	for (size_t i = 0; p && name && i < p->count; i++)
		if (!strcmp(p->items[i]->name, name))
			return i;
	return SIZE_MAX;
}

const struct cp_partner *cp_partners_find(const struct cp_partners *p, const char *name)
{
	size_t i = find_index(p, name);

	return i == SIZE_MAX ? NULL : p->items[i];
}

const struct cp_partner *cp_partners_find_cert(const struct cp_partners *p, const char *fingerprint,
                                               const char *subject)
{
	if (!p)
		return NULL;
	if (fingerprint) {
		for (size_t i = 0; i < p->count; i++) {
			const struct cp_partner *pt = p->items[i];
			for (size_t j = 0; j < pt->cert_count; j++) {
				const struct cp_partner_cert *ce = &pt->certs[j];
				if (!ce->fingerprint || strcasecmp(ce->fingerprint, fingerprint))
					continue;
				/* pinned: this key authenticates as pt or as nobody */
				if (ce->subject && (!subject || strcmp(ce->subject, subject)))
					return NULL;
				return pt;
			}
		}
	}
	if (!subject)
		return NULL;
	for (size_t i = 0; i < p->count; i++) {
		const struct cp_partner *pt = p->items[i];
		for (size_t j = 0; j < pt->cert_count; j++)
			if (!pt->certs[j].fingerprint && !strcmp(pt->certs[j].subject, subject))
				return pt;
	}
	return NULL;
}

static bool colls_has(const struct cp_partner_colls *l, const char *id)
{
	for (size_t i = 0; i < l->count; i++)
		if (!strcmp(l->ids[i], "*") || !strcmp(l->ids[i], id))
			return true;
	return false;
}

bool cp_partner_may_read(const struct cp_partner *partner, const char *collection_id)
{
	return partner && collection_id && colls_has(&partner->agreement.read, collection_id);
}

bool cp_partner_may_write(const struct cp_partner *partner, const char *collection_id)
{
	return partner && collection_id && colls_has(&partner->agreement.write, collection_id);
}

/* ------------------------------------------------------------ tokens */

static void hash_secret(const unsigned char secret[CP_PARTNER_TOKEN_SECRET_BYTES],
                        unsigned char out[CP_PARTNER_TOKEN_HASH_BYTES])
{
	crypto_generichash(out, CP_PARTNER_TOKEN_HASH_BYTES, secret, CP_PARTNER_TOKEN_SECRET_BYTES,
	                   NULL, 0);
}

/*
 * Split token text into id and the hash of its secret; false if it is not exactly
 * "cpt_" + 8 lowercase hex + "_" + 43 canonical base64url characters.
 */
static bool parse_token(const char *text, char id[CP_PARTNER_TOKEN_ID_LEN + 1],
                        unsigned char hash[CP_PARTNER_TOKEN_HASH_BYTES])
{
	unsigned char secret[CP_PARTNER_TOKEN_SECRET_BYTES];
	const char *end = NULL;
	size_t n = strnlen(text, CP_PARTNER_TOKEN_TEXT_LEN + 1), bin_len = 0;
	const size_t sec_off = 4 + CP_PARTNER_TOKEN_ID_LEN + 1;
	int rc;

	if (n != CP_PARTNER_TOKEN_TEXT_LEN || memcmp(text, CP_PARTNER_TOKEN_PREFIX, 4) != 0 ||
	    text[4 + CP_PARTNER_TOKEN_ID_LEN] != '_')
		return false;
	for (size_t i = 0; i < CP_PARTNER_TOKEN_ID_LEN; i++)
		if (!is_hex_lower((unsigned char)text[4 + i]))
			return false;
	/* libsodium rejects non-zero padding bits, so each secret has one spelling */
	rc = sodium_base642bin(secret, sizeof(secret), text + sec_off, n - sec_off, NULL, &bin_len,
	                       &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (rc != 0 || bin_len != sizeof(secret) || end != text + n) {
		sodium_memzero(secret, sizeof(secret));
		return false;
	}
	memcpy(id, text + 4, CP_PARTNER_TOKEN_ID_LEN);
	id[CP_PARTNER_TOKEN_ID_LEN] = '\0';
	hash_secret(secret, hash);
	sodium_memzero(secret, sizeof(secret));
	return true;
}

static const struct cp_partner_token *find_token(const struct cp_partners *p, const char *id,
                                                 const struct cp_partner **owner)
{
	for (size_t i = 0; i < p->count; i++) {
		const struct cp_partner *pt = p->items[i];
		for (size_t j = 0; j < pt->token_count; j++) {
			if (!memcmp(pt->tokens[j].id, id, CP_PARTNER_TOKEN_ID_LEN + 1)) {
				*owner = pt;
				return &pt->tokens[j];
			}
		}
	}
	return NULL;
}

enum cp_err cp_partners_check_token(const struct cp_partners *p, const char *token_text,
                                    struct cp_time now, struct cp_partners_token_check *out)
{
	char id[CP_PARTNER_TOKEN_ID_LEN + 1];
	unsigned char hash[CP_PARTNER_TOKEN_HASH_BYTES];
	const struct cp_partner_token *t;
	const struct cp_partner *owner = NULL;

	if (!p || !out)
		return CP_EINVAL;
	out->partner = NULL;
	out->owner = NULL;
	if (!token_text || !parse_token(token_text, id, hash)) {
		out->reason = "malformed-token";
		return CP_EDENIED;
	}
	t = find_token(p, id, &owner);
	if (!t) {
		out->reason = "unknown-token";
		return CP_EDENIED;
	}
	out->owner = owner;
	if (sodium_memcmp(hash, t->hash, sizeof(hash)) != 0) {
		out->reason = "bad-secret";
		return CP_EDENIED;
	}
	if (t->is_revoked) {
		out->reason = "revoked-token";
		return CP_EDENIED;
	}
	if (t->has_expires && cp_time_cmp(&now, &t->expires) >= 0) {
		out->reason = "expired-token";
		return CP_EDENIED;
	}
	out->partner = owner;
	out->reason = "ok";
	return CP_OK;
}

static struct cp_time whole_seconds(struct cp_time t)
{
	/* a leap second keeps its 60: nsec >= 1e9 marks it */
	t.nsec = t.nsec >= 1000000000u ? 1000000000u : 0;
	t.frac_digits = 0;
	return t;
}

enum cp_err cp_partners_issue_token(struct cp_partners *p, const char *name, struct cp_time created,
                                    const struct cp_time *expires,
                                    char text[CP_PARTNER_TOKEN_TEXT_MAX],
                                    char id[CP_PARTNER_TOKEN_ID_LEN + 1])
{
	unsigned char secret[CP_PARTNER_TOKEN_SECRET_BYTES], raw_id[CP_PARTNER_TOKEN_ID_LEN / 2];
	char b64[sodium_base64_ENCODED_LEN(CP_PARTNER_TOKEN_SECRET_BYTES,
	                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	struct cp_partner_token tok, *arr;
	const struct cp_partner *owner;
	struct cp_partner *pt;
	size_t i = find_index(p, name);

	if (!p || !text || !id)
		return CP_EINVAL;
	if (i == SIZE_MAX)
		return CP_ENOTFOUND;
	pt = p->items[i];
	memset(&tok, 0, sizeof(tok));
	tok.created = whole_seconds(created);
	if (expires) {
		tok.has_expires = true;
		tok.expires = whole_seconds(*expires);
		if (cp_time_cmp(&tok.expires, &tok.created) <= 0)
			return CP_EINVAL;
	}
	/* ids are public and must be unique; 2^32 of them make a retry rare */
	do {
		randombytes_buf(raw_id, sizeof(raw_id));
		sodium_bin2hex(tok.id, sizeof(tok.id), raw_id, sizeof(raw_id));
	} while (find_token(p, tok.id, &owner));
	arr = cp_realloc(pt->tokens, (pt->token_count + 1) * sizeof(*arr));
	if (!arr)
		return CP_ENOMEM;
	pt->tokens = arr;
	randombytes_buf(secret, sizeof(secret));
	hash_secret(secret, tok.hash);
	sodium_bin2base64(b64, sizeof(b64), secret, sizeof(secret),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(text, CP_PARTNER_TOKEN_TEXT_MAX, "%s%s_%s", CP_PARTNER_TOKEN_PREFIX, tok.id, b64);
	memcpy(id, tok.id, sizeof(tok.id));
	arr[pt->token_count++] = tok;
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(b64, sizeof(b64));
	return CP_OK;
}

enum cp_err cp_partners_revoke_token(struct cp_partners *p, const char *name, const char *id,
                                     struct cp_time when)
{
	size_t i = find_index(p, name);
	struct cp_partner *pt;

	if (!p || !id)
		return CP_EINVAL;
	if (i == SIZE_MAX)
		return CP_ENOTFOUND;
	pt = p->items[i];
	for (size_t j = 0; j < pt->token_count; j++) {
		struct cp_partner_token *t = &pt->tokens[j];
		if (strcasecmp(t->id, id) != 0)
			continue;
		if (t->is_revoked)
			return CP_ECONFLICT;
		t->is_revoked = true;
		t->revoked = whole_seconds(when);
		return CP_OK;
	}
	return CP_ENOTFOUND;
}

/* ------------------------------------------------------------ changes */

/* A checked copy of a draft string field, reported under its key; NULL stays NULL. */
static bool copy_field(struct cp__yr *c, const char *key, const char *src, bool required,
                       const char *(*why)(char *s), char **out)
{
	size_t old = path_key(c, key, strlen(key));
	char shown[SHOW_MAX];
	const char *problem;
	bool ok = true;

	*out = NULL;
	if (!src) {
		if (required) {
			report_at(c, CP_SEV_ERROR, 0, 0, "missing");
			ok = false;
		}
		goto out;
	}
	*out = cp_strdup(src);
	if (!*out) {
		fail(c, CP_ENOMEM);
		ok = false;
		goto out;
	}
	problem = why ? why(*out) : NULL;
	if (problem) {
		report_at(c, CP_SEV_ERROR, 0, 0, "'%s' %s", shows(shown, src), problem);
		cp_free(*out);
		*out = NULL;
		ok = false;
	}
out:
	path_pop(c, old);
	return ok;
}

static void copy_colls(struct cp__yr *c, const char *key, const struct cp_partner_colls *src,
                       const struct cp_config *cfg, bool is_red, struct cp_partner_colls *dst)
{
	size_t old = path_key(c, key, strlen(key)), cap = 0;

	for (size_t i = 0; i < src->count && !c->fatal; i++) {
		size_t o2 = path_index(c, i);
		char *name = NULL, *id = NULL;

		if (!src->names || !src->names[i] || !*src->names[i]) {
			report_at(c, CP_SEV_ERROR, 0, 0, "must not be empty");
		} else if (resolve_entry(c, cfg, src->names[i], is_red, 0, 0, &id)) {
			name = cp_strdup(src->names[i]);
			if (!name) {
				cp_free(id);
				fail(c, CP_ENOMEM);
			} else if (!colls_append(dst, &cap, name, id)) {
				fail(c, CP_ENOMEM);
			}
		}
		path_pop(c, o2);
	}
	path_pop(c, old);
}

static void copy_types(struct cp__yr *c, const char *key, char *const *src, size_t n, char ***dst,
                       size_t *dst_count)
{
	size_t old = path_key(c, key, strlen(key)), cap = 0;
	char shown[SHOW_MAX];

	for (size_t i = 0; i < n && !c->fatal; i++) {
		size_t o2 = path_index(c, i);
		const char *why = src && src[i] ? why_type(src[i]) : "must not be empty";
		char *s;

		if (why) {
			report_at(c, CP_SEV_ERROR, 0, 0, "'%s' %s",
			          shows(shown, src && src[i] ? src[i] : ""), why);
		} else {
			if (type_is_suspect(src[i]))
				report_at(c, CP_SEV_WARNING, 0, 0,
				          "'%s' is not a STIX 2.1 object type (custom types "
				          "usually start with \"x-\")",
				          shows(shown, src[i]));
			s = cp_strdup(src[i]);
			if (!s || !strv_append(dst, dst_count, &cap, s))
				fail(c, CP_ENOMEM);
		}
		path_pop(c, o2);
	}
	path_pop(c, old);
}

/* A checked deep copy of draft (no tokens), or NULL with findings or c->fatal. */
static struct cp_partner *copy_draft(struct cp__yr *c, const struct cp_partner *d,
                                     const struct cp_config *cfg)
{
	const struct cp_partner_agreement *da = &d->agreement;
	struct cp_partner_agreement *a;
	struct cp_partner *p = partner_new();
	size_t errors = c->errors, old;

	if (!p) {
		fail(c, CP_ENOMEM);
		return NULL;
	}
	a = &p->agreement;
	(void)copy_field(c, "name", d->name, true, why_name_cb, &p->name);
	(void)copy_field(c, "identity", d->identity, false, why_identity_cb, &p->identity);
	(void)copy_field(c, "title", d->title, false, why_text_cb, &p->title);
	(void)copy_field(c, "community", d->community, false, why_text_cb, &p->community);
	if (d->cert_count && !d->certs) {
		report_at(c, CP_SEV_ERROR, 0, 0, "certificates: no array for %zu entries",
		          d->cert_count);
	} else if (d->cert_count) {
		p->certs = cp_calloc(d->cert_count, sizeof(*p->certs));
		if (!p->certs)
			fail(c, CP_ENOMEM);
	}
	old = path_key(c, "certificates", 12);
	for (size_t i = 0; p->certs && i < d->cert_count && !c->fatal; i++) {
		const struct cp_partner_cert *dc = &d->certs[i];
		struct cp_partner_cert *ce = &p->certs[p->cert_count];
		size_t o2 = path_index(c, i);
		bool ok = copy_field(c, "fingerprint", dc->fingerprint, false, why_fingerprint_cb,
		                     &ce->fingerprint);

		ok = copy_field(c, "subject", dc->subject, false, why_text_cb, &ce->subject) && ok;
		if (ok && !dc->fingerprint && !dc->subject)
			report_at(c, CP_SEV_ERROR, 0, 0,
			          "a certificate needs a fingerprint or a subject");
		if (ce->fingerprint || ce->subject)
			p->cert_count++;
		path_pop(c, o2);
	}
	path_pop(c, old);
	old = path_key(c, "agreement", 9);
	copy_colls(c, "read", &da->read, cfg, false, &a->read);
	copy_colls(c, "write", &da->write, cfg, false, &a->write);
	copy_colls(c, "red", &da->red, cfg, true, &a->red);
	copy_types(c, "types_allowed", da->types_allowed, da->types_allowed_count,
	           &a->types_allowed, &a->types_allowed_count);
	copy_types(c, "types_excluded", da->types_excluded, da->types_excluded_count,
	           &a->types_excluded, &a->types_excluded_count);
	if (!cp_partners_tlp_name(da->tlp_ceiling))
		report_at(c, CP_SEV_ERROR, 0, 0, "tlp_ceiling is not a TLP level");
	if (!cp_partners_tlp_name(da->default_tlp))
		report_at(c, CP_SEV_ERROR, 0, 0, "default_tlp is not a TLP level");
	if (da->pap_ceiling != CP_PAP_NONE && !cp_partners_pap_name(da->pap_ceiling))
		report_at(c, CP_SEV_ERROR, 0, 0, "pap_ceiling is not a PAP level");
	a->tlp_ceiling = da->tlp_ceiling;
	a->default_tlp = da->default_tlp;
	a->pap_ceiling = da->pap_ceiling;
	a->third_party = da->third_party;
	a->sightings = da->sightings;
	a->consultations = da->consultations;
	a->no_redistribution = da->no_redistribution;
	a->anonymise = da->anonymise;
	path_pop(c, old);
	if (c->fatal || c->errors != errors) {
		partner_free(p);
		return NULL;
	}
	return p;
}

/* Put p at index i (SIZE_MAX: append) if the set stays free of duplicates. */
static enum cp_err install(struct cp_partners *set, struct cp_partner *p, size_t i, struct cp__yr *c)
{
	struct cp_partner *prev = NULL;
	size_t dups;

	if (i == SIZE_MAX) {
		if (!set_append(set, p))
			return CP_ENOMEM;
		i = set->count - 1;
	} else {
		prev = set->items[i];
		set->items[i] = p;
	}
	cp_buf_reset(&c->path);
	dups = check_unique(c, set);
	if (c->fatal || dups) {
		if (prev)
			set->items[i] = prev;
		else
			set->count--;
		return c->fatal ? c->fatal : CP_ECONFLICT;
	}
	partner_free(prev);
	return CP_OK;
}

static enum cp_err put(struct cp_partners *set, const struct cp_partner *draft,
                       const struct cp_config *cfg, bool replace, struct cp_diag *diag)
{
	struct cp__yr c;
	struct cp_partner *p = NULL;
	size_t i;
	enum cp_err err;

	if (!set || !draft)
		return CP_EINVAL;
	cp__yr_init(&c, NULL, CODE, false, CP_PARTNERS_MAX_DEPTH, diag);
	i = find_index(set, draft->name);
	if (replace && i == SIZE_MAX) {
		err = CP_ENOTFOUND;
		goto out;
	}
	if (!replace && i != SIZE_MAX) {
		char shown[SHOW_MAX];
		report_at(&c, CP_SEV_ERROR, 0, 0, "a partner named '%s' already exists",
		          shows(shown, draft->name));
		err = c.fatal ? c.fatal : CP_ECONFLICT;
		goto out;
	}
	p = copy_draft(&c, draft, cfg);
	if (!p) {
		err = c.fatal ? c.fatal : CP_EINVAL;
		goto out;
	}
	if (replace) {
		/* the tokens move over: they are the partner's, not the draft's */
		struct cp_partner *old = set->items[i];
		p->tokens = old->tokens;
		p->token_count = old->token_count;
		p->line = old->line;
		p->column = old->column;
		old->tokens = NULL;
		old->token_count = 0;
		err = install(set, p, i, &c);
		if (err) {
			old->tokens = p->tokens;
			old->token_count = p->token_count;
			p->tokens = NULL;
			p->token_count = 0;
			goto out;
		}
	} else {
		err = install(set, p, SIZE_MAX, &c);
		if (err)
			goto out;
	}
	p = NULL;
out:
	partner_free(p);
	cp_buf_release(&c.path);
	return err;
}

enum cp_err cp_partners_add(struct cp_partners *p, const struct cp_partner *draft,
                            const struct cp_config *cfg, struct cp_diag *diag)
{
	return put(p, draft, cfg, false, diag);
}

enum cp_err cp_partners_update(struct cp_partners *p, const struct cp_partner *draft,
                               const struct cp_config *cfg, struct cp_diag *diag)
{
	return put(p, draft, cfg, true, diag);
}

enum cp_err cp_partners_remove(struct cp_partners *p, const char *name)
{
	size_t i = find_index(p, name);

	if (!p || !name)
		return CP_EINVAL;
	if (i == SIZE_MAX)
		return CP_ENOTFOUND;
	partner_free(p->items[i]);
	memmove(&p->items[i], &p->items[i + 1], (p->count - i - 1) * sizeof(*p->items));
	p->count--;
	return CP_OK;
}

/* ------------------------------------------------------------ policy */

enum cp_err cp_partners_policy(const struct cp_partners *p, struct cp_policy **out,
                               struct cp_diag *diag)
{
	struct cp_policy_agreement *ags = NULL;
	struct cp_policy *pol = NULL;
	struct cp_diag tmp;
	enum cp_err err;

	if (!p || !out)
		return CP_EINVAL;
	cp_diag_init(&tmp);
	if (p->count) {
		ags = cp_calloc(p->count, sizeof(*ags));
		if (!ags) {
			err = CP_ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < p->count; i++) {
		const struct cp_partner *pt = p->items[i];
		const struct cp_partner_agreement *a = &pt->agreement;
		ags[i] = (struct cp_policy_agreement){
		        .partner = pt->name,
		        .community = pt->community,
		        .tlp_ceiling = a->tlp_ceiling,
		        .pap_ceiling = a->pap_ceiling,
		        .default_tlp = a->default_tlp,
		        .read = (const char *const *)a->read.ids,
		        .read_count = a->read.count,
		        .red = (const char *const *)a->red.ids,
		        .red_count = a->red.count,
		        .types_allowed = (const char *const *)a->types_allowed,
		        .types_allowed_count = a->types_allowed_count,
		        .types_excluded = (const char *const *)a->types_excluded,
		        .types_excluded_count = a->types_excluded_count,
		        .third_party = a->third_party,
		        .sightings = a->sightings,
		        .consultations = a->consultations,
		        .no_redistribution = a->no_redistribution,
		};
	}
	err = cp_policy_new(ags, p->count, &pol, &tmp);
	/* the policy's pointers index its agreements, which are the partners in order */
	for (size_t k = 0; k < tmp.count; k++) {
		const struct cp_finding *f = &tmp.items[k];
		const struct cp_partner *pt = NULL;
		char *end = NULL;
		unsigned long idx;

		if (f->pointer[0] == '/') {
			errno = 0;
			idx = strtoul(f->pointer + 1, &end, 10);
			if (!errno && end != f->pointer + 1 && idx < p->count)
				pt = p->items[idx];
		}
		if (pt)
			cp_diag_add_at(diag, f->severity, f->code, pt->line, pt->column,
			               "partners[%lu] (%s): %s", idx, pt->name, f->message);
		else
			cp_diag_add_at(diag, f->severity, f->code, 0, 0, "%s", f->message);
	}
	if (!err && tmp.err)
		err = tmp.err;
	/* a warning that could not be recorded: report the failure, not a policy */
	if (!err && diag && diag->err)
		err = diag->err;
out:
	if (err)
		cp_policy_free(pol);
	else
		*out = pol;
	cp_free(ags);
	cp_diag_release(&tmp);
	return err;
}
