/*
 * The node configuration (include/cyberpact/config.h, docs/CONFIG.md).
 *
 * libyaml's event API, not its document API: yaml_parser_load() builds the tree
 * recursively and expands aliases, so a hostile file could exhaust the stack or
 * memory. Walking events, the schema is checked while the events stream by (the
 * recursion follows the schema, four levels at most), unknown values are skipped
 * with a counter, and nesting is capped at CP_CONFIG_MAX_DEPTH.
 *
 * Checks that need the whole file (duplicates, read/write entries that name
 * collections) run afterwards over `refs`, a list of (string, position) records
 * taken while parsing. They sort, so a 1 MiB file of names stays O(n log n).
 */
#include <arpa/inet.h>
#include <sodium.h>
#include <yaml.h>

#include "cyberpact/config.h"
#include "common.h"
#include "yaml-read.h"

#define CODE "config"

static const char DEFAULT_HOST[] = "127.0.0.1";
static const unsigned DEFAULT_PORT = 8443;
static const char DEFAULT_DATA_DIR[] = "./data";
static const char DEFAULT_TITLE[] = "cyberpact node";
static const size_t DEFAULT_MAX_CONTENT_LENGTH = 10u << 20;
static const size_t DEFAULT_PAGE_SIZE = 1000;
#define PAGE_SIZE_MAX 10000
#define MIN_CONTENT_LENGTH 1024

/* Strings that later checks compare, with where they were written. */
enum ref_kind {
	REF_ROOT_NAME,  /* api_roots[i].name */
	REF_COLL_ID,    /* api_roots[i].collections[j].id */
	REF_COLL_ALIAS, /* api_roots[i].collections[j].alias */
	REF_ACCOUNT,    /* accounts[i].name */
	REF_READ,       /* accounts[i].read[j] */
	REF_WRITE,      /* accounts[i].write[j] */
	REF_PEER,       /* peers[i].name */
	REF_PULL_LOCAL, /* peers[i].pull[j].local */
	REF_PUSH_LOCAL, /* peers[i].push[j].local */
};

struct ref {
	enum ref_kind kind;
	const char *s; /* owned by the config being built */
	size_t i, j;
	size_t seq; /* document order */
	yaml_mark_t mark;
	const struct ref *dup_of;
};

struct parser {
	struct cp__yr r;        /* the shared reader (yaml-read.h); must stay first */
	size_t root, coll, acct, peer, sub; /* indices of the list items being read */
	bool sub_push; /* the subscription being read is a push */
	struct ref *refs;
	size_t ref_count, ref_cap;
};

typedef void (*field_fn)(struct parser *p, const yaml_event_t *ev, void *obj);

struct field {
	const char *key;
	field_fn fn;
};

/*
 * Short names for the shared reader's functions, so that the schema below reads as
 * what it checks.
 */
#define SHOW_MAX CP__YR_SHOW_MAX
#define S_OPTIONAL CP__YR_OPTIONAL
#define S_EMPTY_OK CP__YR_EMPTY_OK

static const char *show(char out[SHOW_MAX], const char *s, size_t len)
{
	return cp__yr_show(out, s, len);
}

static bool is_null(const yaml_event_t *ev)
{
	return cp__yr_is_null(ev);
}

static const char *kind(const yaml_event_t *ev)
{
	return cp__yr_kind(ev);
}

static void fail(struct parser *p, enum cp_err err)
{
	cp__yr_fail(&p->r, err);
}

static bool is_alnum(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static void report(struct parser *p, const yaml_mark_t *m, const char *fmt, ...) CP_PRINTF(3, 4);

/* An error finding: "<key path>: <message> (<name>:<line>:<column>)". */
static void report(struct parser *p, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cp__yr_vreport(&p->r, CP_SEV_ERROR, m ? (unsigned)m->line + 1 : 0,
		       m ? (unsigned)m->column + 1 : 0, fmt, ap);
	va_end(ap);
}

static void skip(struct parser *p, const yaml_event_t *ev)
{
	cp__yr_skip(&p->r, ev);
}

static bool get_string(struct parser *p, const yaml_event_t *ev, unsigned flags, char **out)
{
	return cp__yr_get_string(&p->r, ev, flags, out);
}

static void set_string(struct parser *p, const yaml_event_t *ev, unsigned flags, char **field)
{
	char *s;

	if (!get_string(p, ev, flags, &s))
		return;
	cp_free(*field);
	*field = s;
}

/* A plain decimal integer in [min, max]. */
static bool get_uint(struct parser *p, const yaml_event_t *ev, uintmax_t min, uintmax_t max,
		     uintmax_t *out)
{
	const char *v;
	size_t n;
	uintmax_t x = 0;
	char shown[SHOW_MAX];

	if (ev->type == YAML_ALIAS_EVENT)
		return false;
	if (ev->type != YAML_SCALAR_EVENT || is_null(ev)) {
		report(p, &ev->start_mark, "expected an integer, got %s", kind(ev));
		skip(p, ev);
		return false;
	}
	v = (const char *)ev->data.scalar.value;
	n = ev->data.scalar.length;
	show(shown, v, n);
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		report(p, &ev->start_mark, "expected an integer, got the quoted string '%s'",
		       shown);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)v[i] - '0';
		if (d > 9) {
			report(p, &ev->start_mark, "'%s' is not a decimal integer", shown);
			return false;
		}
		if (x > (UINTMAX_MAX - d) / 10) {
			x = UINTMAX_MAX;
			break;
		}
		x = x * 10 + d;
	}
	if (x < min || x > max) {
		report(p, &ev->start_mark, "must be between %ju and %ju, got %s", min, max, shown);
		return false;
	}
	*out = x;
	return true;
}

/* ---------------------------------------------------------- structure */

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

static void field_keys(const struct field *fields, size_t n, const char *keys[MAX_FIELDS])
{
	for (size_t i = 0; i < n && i < MAX_FIELDS; i++)
		keys[i] = fields[i].key;
}

/*
 * Read the mapping that begins with ev, handing each known key's value to its field
 * function with obj; *seen gets bit i for each fields[i] present.
 */
static bool parse_mapping(struct parser *p, const yaml_event_t *ev, const struct field *fields,
			  size_t n, void *obj, unsigned *seen)
{
	const char *keys[MAX_FIELDS];
	struct mapping_call m = {p, fields, obj};

	field_keys(fields, n, keys);
	return cp__yr_mapping(&p->r, ev, keys, n < MAX_FIELDS ? n : MAX_FIELDS, on_value, &m,
			      seen);
}

/* Report each key of fields[] whose bit is in `required` but not in `seen`. */
static void require(struct parser *p, const yaml_event_t *ev, const struct field *fields,
		    unsigned required, unsigned seen)
{
	const char *keys[MAX_FIELDS];
	size_t n = 0;

	/* only the keys up to the highest required bit are looked at */
	while (n < MAX_FIELDS && (required >> n))
		n++;
	field_keys(fields, n, keys);
	cp__yr_require(&p->r, ev, keys, required, seen);
}

/* What one list item means; i is its position, ctx the caller's. */
typedef void (*item_fn)(struct parser *p, const yaml_event_t *item, size_t i, void *ctx);

/* For lists of structs: the struct that owns the array, and the array's capacity. */
struct list_ctx {
	void *owner;
	size_t cap;
};

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
	cp__yr_list(&p->r, ev, on_item, &l);
}

/* Room for one more element in a list being read (doubling); NULL on failure. */
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

static void add_ref(struct parser *p, enum ref_kind k, const char *s, size_t i, size_t j,
		    const yaml_mark_t *m)
{
	struct ref *refs = grow(p->refs, &p->ref_cap, p->ref_count, sizeof(*refs));

	if (!refs) {
		fail(p, CP_ENOMEM);
		return;
	}
	p->refs = refs;
	refs[p->ref_count] = (struct ref){k, s, i, j, p->ref_count, *m, NULL};
	p->ref_count++;
}

/* ------------------------------------------------------------- values */

static bool is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	/* version 1..8 (RFC 4122 and its successor RFC 9562), variant 10xx */
	return s[14] >= '1' && s[14] <= '8' && strchr("89ab", s[19]);
}

static bool parse_port(const char *s, unsigned *port)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = v;
	return true;
}

/*
 * "host:port", "[v6addr]:port" or ":port" into a new host string and a port. The host
 * is an IPv4 address or "localhost"; ":port" means 0.0.0.0, as for `serve --listen`.
 */
static bool parse_listen(struct parser *p, const yaml_mark_t *m, const char *s, char **host,
			 unsigned *port)
{
	char shown[SHOW_MAX];
	const char *h, *ps;
	size_t hlen;

	show(shown, s, strlen(s));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		char addr[INET6_ADDRSTRLEN];
		struct in6_addr a;

		if (!rb || rb[1] != ':') {
			report(p, m, "'%s' is not [IPv6 address]:port", shown);
			return false;
		}
		h = s + 1;
		hlen = (size_t)(rb - h);
		if (hlen == 0 || hlen >= sizeof(addr)) {
			report(p, m, "'%s' does not hold an IPv6 address in brackets", shown);
			return false;
		}
		memcpy(addr, h, hlen);
		addr[hlen] = '\0';
		if (inet_pton(AF_INET6, addr, &a) != 1) {
			report(p, m, "'%s' does not hold an IPv6 address in brackets", shown);
			return false;
		}
		ps = rb + 2;
	} else {
		const char *colon = strchr(s, ':');

		if (!colon) {
			report(p, m,
			       "'%s' has no port: expected host:port, [IPv6 address]:port or :port",
			       shown);
			return false;
		}
		if (strchr(colon + 1, ':')) {
			report(p, m, "'%s': write an IPv6 address in brackets, as in [::1]:8443",
			       shown);
			return false;
		}
		h = s;
		hlen = (size_t)(colon - s);
		/* the daemon binds the address itself and resolves no names */
		if (hlen == 0) {
			h = "0.0.0.0";
			hlen = 7;
		} else if (!(hlen == 9 && !memcmp(h, "localhost", 9))) {
			char addr[INET_ADDRSTRLEN];
			struct in_addr a;

			if (hlen >= sizeof(addr)) {
				report(p, m, "'%s': host is not an IPv4 address or localhost",
				       shown);
				return false;
			}
			memcpy(addr, h, hlen);
			addr[hlen] = '\0';
			if (inet_pton(AF_INET, addr, &a) != 1) {
				report(p, m, "'%s': host is not an IPv4 address or localhost",
				       shown);
				return false;
			}
		}
		ps = colon + 1;
	}
	if (!parse_port(ps, port)) {
		report(p, m, "'%s': port must be a number from 0 to 65535", shown);
		return false;
	}
	*host = cp_strndup(h, hlen);
	if (!*host) {
		fail(p, CP_ENOMEM);
		return false;
	}
	return true;
}

/* ------------------------------------------------------- the schema */

static void on_listen(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config *c = obj;
	char *s, *host = NULL;
	unsigned port;

	if (!get_string(p, ev, 0, &s))
		return;
	if (parse_listen(p, &ev->start_mark, s, &host, &port)) {
		cp_free(c->listen_host);
		c->listen_host = host;
		c->listen_port = port;
	}
	cp_free(s);
}

static void on_data_dir(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_string(p, ev, 0, &((struct cp_config *)obj)->data_dir);
}

static void on_title(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_string(p, ev, 0, &((struct cp_config *)obj)->title);
}

static void on_tls_cert(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_string(p, ev, S_OPTIONAL, &((struct cp_config *)obj)->tls_cert);
}

static void on_tls_key(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_string(p, ev, S_OPTIONAL, &((struct cp_config *)obj)->tls_key);
}

static void on_tls_client_ca(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_string(p, ev, S_OPTIONAL, &((struct cp_config *)obj)->tls_client_ca);
}

static const struct field tls_fields[] = {
	{"cert", on_tls_cert},
	{"key", on_tls_key},
	{"client_ca", on_tls_client_ca},
};

static void on_tls(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config *c = obj;
	size_t errors = p->r.errors;
	unsigned seen;

	if (is_null(ev))
		return;
	if (!parse_mapping(p, ev, tls_fields, CP_ARRAY_LEN(tls_fields), c, &seen))
		return;
	/* only when the values themselves were fine, or this would repeat their error */
	if (!c->tls_cert != !c->tls_key && p->r.errors == errors)
		report(p, &ev->start_mark, "cert and key must be given together");
}

static void on_max_content_length(struct parser *p, const yaml_event_t *ev, void *obj)
{
	uintmax_t v;

	if (get_uint(p, ev, MIN_CONTENT_LENGTH, CP_LIMIT_DOC_BYTES, &v))
		((struct cp_config *)obj)->max_content_length = (size_t)v;
}

static void on_page_size(struct parser *p, const yaml_event_t *ev, void *obj)
{
	uintmax_t v;

	if (get_uint(p, ev, 1, PAGE_SIZE_MAX, &v))
		((struct cp_config *)obj)->page_size = (size_t)v;
}

static void on_connection_timeout(struct parser *p, const yaml_event_t *ev, void *obj)
{
	uintmax_t v;

	if (get_uint(p, ev, 1, 3600, &v))
		((struct cp_config *)obj)->connection_timeout = (unsigned)v;
}

static const struct field limits_fields[] = {
	{"max_content_length", on_max_content_length},
	{"page_size", on_page_size},
	{"connection_timeout", on_connection_timeout},
};

static void on_limits(struct parser *p, const yaml_event_t *ev, void *obj)
{
	unsigned seen;

	if (!is_null(ev))
		(void)parse_mapping(p, ev, limits_fields, CP_ARRAY_LEN(limits_fields), obj, &seen);
}

/* collections */

static void on_coll_id(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_collection *cc = obj;
	char shown[SHOW_MAX];

	set_string(p, ev, 0, &cc->id);
	if (!cc->id)
		return;
	if (!is_uuid(cc->id)) {
		report(p, &ev->start_mark,
		       "'%s' is not a UUID in lowercase RFC 4122 form "
		       "(like 9ee8a8b4-3e5e-4b7e-9cde-7c7f6a2d9a10)",
		       show(shown, cc->id, strlen(cc->id)));
		return;
	}
	add_ref(p, REF_COLL_ID, cc->id, p->root, p->coll, &ev->start_mark);
}

static void on_coll_title(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_string(p, ev, 0, &((struct cp_config_collection *)obj)->title);
}

static void on_coll_description(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_string(p, ev, S_OPTIONAL | S_EMPTY_OK,
		   &((struct cp_config_collection *)obj)->description);
}

static void on_coll_alias(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_collection *cc = obj;

	set_string(p, ev, S_OPTIONAL, &cc->alias);
	if (!cc->alias)
		return;
	/* "*" in an account's read/write list means every collection */
	if (!strcmp(cc->alias, "*")) {
		report(p, &ev->start_mark, "'*' cannot be an alias");
		return;
	}
	add_ref(p, REF_COLL_ALIAS, cc->alias, p->root, p->coll, &ev->start_mark);
}

static const struct field collection_fields[] = {
	{"id", on_coll_id},
	{"title", on_coll_title},
	{"description", on_coll_description},
	{"alias", on_coll_alias},
};

static void collection_item(struct parser *p, const yaml_event_t *item, size_t i, void *ctx)
{
	struct list_ctx *l = ctx;
	struct cp_config_api_root *root = l->owner;
	struct cp_config_collection *arr;
	unsigned seen;

	arr = grow(root->collections, &l->cap, root->collection_count, sizeof(*arr));
	if (!arr) {
		fail(p, CP_ENOMEM);
		return;
	}
	root->collections = arr;
	memset(&arr[i], 0, sizeof(arr[i]));
	root->collection_count++;
	p->coll = i;
	if (parse_mapping(p, item, collection_fields, CP_ARRAY_LEN(collection_fields), &arr[i],
			  &seen))
		require(p, item, collection_fields, 0x3, seen);
}

static void on_collections(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct list_ctx l = {obj, 0};

	parse_list(p, ev, collection_item, &l);
}

/* API roots */

static void on_root_name(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_api_root *root = obj;
	char shown[SHOW_MAX];

	set_string(p, ev, 0, &root->name);
	if (!root->name)
		return;
	show(shown, root->name, strlen(root->name));
	for (const char *s = root->name; *s; s++) {
		if (!is_alnum((unsigned char)*s) && *s != '-' && *s != '_') {
			report(p, &ev->start_mark,
			       "'%s' is not a valid API root name "
			       "(use letters, digits, '-' and '_')",
			       shown);
			return;
		}
	}
	/* /taxii2/ is the discovery endpoint; an API root there would be unreachable */
	if (!strcmp(root->name, "taxii2")) {
		report(p, &ev->start_mark, "'taxii2' is reserved for the discovery endpoint");
		return;
	}
	add_ref(p, REF_ROOT_NAME, root->name, p->root, 0, &ev->start_mark);
}

static void on_root_title(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_string(p, ev, 0, &((struct cp_config_api_root *)obj)->title);
}

static void on_root_description(struct parser *p, const yaml_event_t *ev, void *obj)
{
	set_string(p, ev, S_OPTIONAL | S_EMPTY_OK,
		   &((struct cp_config_api_root *)obj)->description);
}

static const struct field root_fields[] = {
	{"name", on_root_name},
	{"title", on_root_title},
	{"description", on_root_description},
	{"collections", on_collections},
};

static void api_root_item(struct parser *p, const yaml_event_t *item, size_t i, void *ctx)
{
	struct list_ctx *l = ctx;
	struct cp_config *c = l->owner;
	struct cp_config_api_root *arr;
	unsigned seen;

	arr = grow(c->api_roots, &l->cap, c->api_root_count, sizeof(*arr));
	if (!arr) {
		fail(p, CP_ENOMEM);
		return;
	}
	c->api_roots = arr;
	memset(&arr[i], 0, sizeof(arr[i]));
	c->api_root_count++;
	p->root = i;
	if (parse_mapping(p, item, root_fields, CP_ARRAY_LEN(root_fields), &arr[i], &seen))
		require(p, item, root_fields, 0x3, seen);
}

static void on_api_roots(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct list_ctx l = {obj, 0};

	parse_list(p, ev, api_root_item, &l);
}

/* accounts */

static void on_acct_name(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_account *a = obj;
	char shown[SHOW_MAX];

	set_string(p, ev, 0, &a->name);
	if (!a->name)
		return;
	/* HTTP Basic splits user:password at the first ':' */
	for (const char *s = a->name; *s; s++) {
		if (*s == ':' || (unsigned char)*s < 0x20 || *s == 0x7f) {
			report(p, &ev->start_mark,
			       "'%s': an account name cannot contain ':' or control characters",
			       show(shown, a->name, strlen(a->name)));
			return;
		}
	}
	add_ref(p, REF_ACCOUNT, a->name, p->acct, 0, &ev->start_mark);
}

static void on_acct_password(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_account *a = obj;

	set_string(p, ev, S_OPTIONAL, &a->password_hash);
	if (!a->password_hash)
		return;
	/* never quote the value: it is a credential */
	if (strncmp(a->password_hash, "$argon2", 7) != 0 ||
	    strlen(a->password_hash) >= crypto_pwhash_STRBYTES)
		report(p, &ev->start_mark,
		       "not a libsodium crypto_pwhash_str hash (it must start with \"$argon2\")");
}

static void on_acct_fingerprint(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_account *a = obj;
	char *fp, shown[SHOW_MAX];
	bool ok;

	set_string(p, ev, S_OPTIONAL, &a->client_cert_fingerprint);
	fp = a->client_cert_fingerprint;
	if (!fp)
		return;
	ok = strlen(fp) == 7 + 64 && !strncmp(fp, "sha256:", 7);
	for (size_t i = 7; ok && fp[i]; i++) {
		if (fp[i] >= 'A' && fp[i] <= 'F')
			fp[i] = (char)(fp[i] - 'A' + 'a'); /* compared byte-wise later */
		else if (!((fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'a' && fp[i] <= 'f')))
			ok = false;
	}
	if (!ok)
		report(p, &ev->start_mark, "'%s' is not \"sha256:\" followed by 64 hex digits",
		       show(shown, fp, strlen(fp)));
}

struct names_ctx {
	char ***names;
	size_t *count;
	size_t cap;
	enum ref_kind kind;
};

static void name_item(struct parser *p, const yaml_event_t *item, size_t i, void *ctx)
{
	struct names_ctx *l = ctx;
	char *s, **arr;

	if (!get_string(p, item, 0, &s))
		return;
	arr = grow(*l->names, &l->cap, *l->count, sizeof(*arr));
	if (!arr) {
		cp_free(s);
		fail(p, CP_ENOMEM);
		return;
	}
	*l->names = arr;
	arr[(*l->count)++] = s;
	if (strcmp(s, "*") != 0)
		add_ref(p, l->kind, s, p->acct, i, &item->start_mark);
}

static void on_acct_read(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_account *a = obj;
	struct names_ctx l = {&a->read, &a->read_count, 0, REF_READ};

	parse_list(p, ev, name_item, &l);
}

static void on_acct_write(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_account *a = obj;
	struct names_ctx l = {&a->write, &a->write_count, 0, REF_WRITE};

	parse_list(p, ev, name_item, &l);
}

static const struct field account_fields[] = {
	{"name", on_acct_name},
	{"password_hash", on_acct_password},
	{"client_cert_fingerprint", on_acct_fingerprint},
	{"read", on_acct_read},
	{"write", on_acct_write},
};

static void account_item(struct parser *p, const yaml_event_t *item, size_t i, void *ctx)
{
	struct list_ctx *l = ctx;
	struct cp_config *c = l->owner;
	struct cp_config_account *arr;
	size_t errors = p->r.errors;
	unsigned seen;

	arr = grow(c->accounts, &l->cap, c->account_count, sizeof(*arr));
	if (!arr) {
		fail(p, CP_ENOMEM);
		return;
	}
	c->accounts = arr;
	memset(&arr[i], 0, sizeof(arr[i]));
	c->account_count++;
	p->acct = i;
	if (!parse_mapping(p, item, account_fields, CP_ARRAY_LEN(account_fields), &arr[i], &seen))
		return;
	require(p, item, account_fields, 0x1, seen);
	/* only when nothing else was wrong, or a bad hash would be reported twice */
	if (!arr[i].password_hash && !arr[i].client_cert_fingerprint && p->r.errors == errors)
		report(p, &item->start_mark,
		       "an account needs password_hash or client_cert_fingerprint");
}

static void on_accounts(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct list_ctx l = {obj, 0};

	parse_list(p, ev, account_item, &l);
}

/* peers */

static void on_peer_name(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_peer *pe = obj;
	char shown[SHOW_MAX];

	set_string(p, ev, 0, &pe->name);
	if (!pe->name)
		return;
	for (const char *s = pe->name; *s; s++) {
		if (!is_alnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.') {
			report(p, &ev->start_mark,
			       "'%s' is not a valid peer name (use letters, digits, '.', '-' and "
			       "'_')",
			       show(shown, pe->name, strlen(pe->name)));
			return;
		}
	}
	add_ref(p, REF_PEER, pe->name, p->peer, 0, &ev->start_mark);
}

static void on_peer_url(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_peer *pe = obj;
	char shown[SHOW_MAX];
	size_t n;

	set_string(p, ev, 0, &pe->url);
	if (!pe->url)
		return;
	n = strlen(pe->url);
	/* the peer's API root; status and collection URLs are built below it */
	if (strncmp(pe->url, "https://", 8) != 0 || n < 10 || pe->url[n - 1] != '/' ||
	    strpbrk(pe->url, " \t\r\n?#"))
		report(p, &ev->start_mark,
		       "'%s' is not the https:// URL of an API root ending in '/' "
		       "(e.g. https://peer:8443/api1/)",
		       show(shown, pe->url, n));
}

#define PEER_STRING(field)                                                                  \
	static void on_peer_##field(struct parser *p, const yaml_event_t *ev, void *obj)     \
	{                                                                                    \
		set_string(p, ev, S_OPTIONAL, &((struct cp_config_peer *)obj)->field);       \
	}
PEER_STRING(cacert)
PEER_STRING(client_cert)
PEER_STRING(client_key)
PEER_STRING(token_file)
PEER_STRING(user)
PEER_STRING(password_file)
#undef PEER_STRING

static void on_sub_remote(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_subscription *sub = obj;
	char shown[SHOW_MAX];

	set_string(p, ev, 0, &sub->remote);
	/* it becomes a path segment of the peer's URL */
	if (sub->remote && strpbrk(sub->remote, "/?#% \t\r\n"))
		report(p, &ev->start_mark, "'%s' is not a collection id",
		       show(shown, sub->remote, strlen(sub->remote)));
}

static void on_sub_local(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_subscription *sub = obj;

	set_string(p, ev, 0, &sub->local);
	if (sub->local)
		add_ref(p, p->sub_push ? REF_PUSH_LOCAL : REF_PULL_LOCAL, sub->local, p->peer,
			p->sub, &ev->start_mark);
}

static void on_sub_interval(struct parser *p, const yaml_event_t *ev, void *obj)
{
	uintmax_t v;

	if (get_uint(p, ev, 1, 86400, &v))
		((struct cp_config_subscription *)obj)->interval = (unsigned)v;
}

static const struct field sub_fields[] = {
	{"remote", on_sub_remote},
	{"local", on_sub_local},
	{"interval", on_sub_interval},
};

struct subs_ctx {
	struct cp_config_subscription **arr;
	size_t *count;
	size_t cap;
	bool push;
};

static void sub_item(struct parser *p, const yaml_event_t *item, size_t i, void *ctx)
{
	struct subs_ctx *l = ctx;
	struct cp_config_subscription *arr;
	unsigned seen;

	arr = grow(*l->arr, &l->cap, *l->count, sizeof(*arr));
	if (!arr) {
		fail(p, CP_ENOMEM);
		return;
	}
	*l->arr = arr;
	memset(&arr[i], 0, sizeof(arr[i]));
	arr[i].interval = 10;
	(*l->count)++;
	p->sub_push = l->push;
	p->sub = i;
	if (parse_mapping(p, item, sub_fields, CP_ARRAY_LEN(sub_fields), &arr[i], &seen))
		require(p, item, sub_fields, 0x3, seen);
}

static void on_peer_pull(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_peer *pe = obj;
	struct subs_ctx l = {&pe->pull, &pe->pull_count, 0, false};

	parse_list(p, ev, sub_item, &l);
}

static void on_peer_push(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct cp_config_peer *pe = obj;
	struct subs_ctx l = {&pe->push, &pe->push_count, 0, true};

	parse_list(p, ev, sub_item, &l);
}

static const struct field peer_fields[] = {
	{"name", on_peer_name},
	{"url", on_peer_url},
	{"cacert", on_peer_cacert},
	{"client_cert", on_peer_client_cert},
	{"client_key", on_peer_client_key},
	{"token_file", on_peer_token_file},
	{"user", on_peer_user},
	{"password_file", on_peer_password_file},
	{"pull", on_peer_pull},
	{"push", on_peer_push},
};

static void peer_item(struct parser *p, const yaml_event_t *item, size_t i, void *ctx)
{
	struct list_ctx *l = ctx;
	struct cp_config *c = l->owner;
	struct cp_config_peer *arr, *pe;
	size_t errors = p->r.errors;
	unsigned seen;

	arr = grow(c->peers, &l->cap, c->peer_count, sizeof(*arr));
	if (!arr) {
		fail(p, CP_ENOMEM);
		return;
	}
	c->peers = arr;
	pe = &arr[i];
	memset(pe, 0, sizeof(*pe));
	c->peer_count++;
	p->peer = i;
	if (!parse_mapping(p, item, peer_fields, CP_ARRAY_LEN(peer_fields), pe, &seen))
		return;
	require(p, item, peer_fields, 0x7, seen);
	if (p->r.errors != errors)
		return;
	if (!pe->client_cert != !pe->client_key)
		report(p, &item->start_mark, "client_cert and client_key go together");
	if (!pe->user != !pe->password_file)
		report(p, &item->start_mark, "user and password_file go together");
}

static void on_peers(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct list_ctx l = {obj, 0};

	parse_list(p, ev, peer_item, &l);
}

static const struct field top_fields[] = {
	{"listen", on_listen},
	{"data_dir", on_data_dir},
	{"title", on_title},
	{"tls", on_tls},
	{"limits", on_limits},
	{"api_roots", on_api_roots},
	{"accounts", on_accounts},
	{"peers", on_peers},
};

struct root_call {
	struct parser *p;
	struct cp_config *c;
};

/* the document's root mapping (cp__yr_document reads the stream around it) */
static void on_root(struct cp__yr *r, const yaml_event_t *ev, void *ctx)
{
	struct root_call *rc = ctx;
	unsigned seen;
	(void)r;
	(void)parse_mapping(rc->p, ev, top_fields, CP_ARRAY_LEN(top_fields), rc->c, &seen);
}

/* --------------------------------------------------- whole-file checks */

static const char *const ref_what[] = {
	[REF_ROOT_NAME] = "duplicate API root name",
	[REF_COLL_ID] = "duplicate collection id or alias in this API root",
	[REF_COLL_ALIAS] = "duplicate collection id or alias in this API root",
	[REF_ACCOUNT] = "duplicate account name",
	[REF_READ] = "",
	[REF_WRITE] = "",
	[REF_PEER] = "duplicate peer name",
	[REF_PULL_LOCAL] = "",
	[REF_PUSH_LOCAL] = "",
};

static void ref_path(char *out, size_t cap, const struct ref *r)
{
	switch (r->kind) {
	case REF_ROOT_NAME:
		snprintf(out, cap, "api_roots[%zu].name", r->i);
		break;
	case REF_COLL_ID:
		snprintf(out, cap, "api_roots[%zu].collections[%zu].id", r->i, r->j);
		break;
	case REF_COLL_ALIAS:
		snprintf(out, cap, "api_roots[%zu].collections[%zu].alias", r->i, r->j);
		break;
	case REF_ACCOUNT:
		snprintf(out, cap, "accounts[%zu].name", r->i);
		break;
	case REF_READ:
		snprintf(out, cap, "accounts[%zu].read[%zu]", r->i, r->j);
		break;
	case REF_WRITE:
		snprintf(out, cap, "accounts[%zu].write[%zu]", r->i, r->j);
		break;
	case REF_PEER:
		snprintf(out, cap, "peers[%zu].name", r->i);
		break;
	case REF_PULL_LOCAL:
		snprintf(out, cap, "peers[%zu].pull[%zu].local", r->i, r->j);
		break;
	case REF_PUSH_LOCAL:
		snprintf(out, cap, "peers[%zu].push[%zu].local", r->i, r->j);
		break;
	}
}

/* Names that must be unique share a class; collection names are unique per API root. */
static int ref_class(const struct ref *r)
{
	switch (r->kind) {
	case REF_ROOT_NAME:
		return 0;
	case REF_COLL_ID:
	case REF_COLL_ALIAS:
		return 1;
	case REF_ACCOUNT:
		return 2;
	case REF_PEER:
		return 4;
	default:
		return 3;
	}
}

static int cmp_refs(const void *a, const void *b)
{
	const struct ref *x = *(const struct ref *const *)a;
	const struct ref *y = *(const struct ref *const *)b;
	int cx = ref_class(x), cy = ref_class(y), d;

	if (cx != cy)
		return cx < cy ? -1 : 1;
	if (cx == 1 && x->i != y->i)
		return x->i < y->i ? -1 : 1;
	d = strcmp(x->s, y->s);
	if (d)
		return d;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool same_name(const struct ref *x, const struct ref *y)
{
	return ref_class(x) == ref_class(y) && (ref_class(x) != 1 || x->i == y->i) &&
	       !strcmp(x->s, y->s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void cross_check(struct parser *p)
{
	struct ref **sorted = NULL;
	const char **names = NULL;
	size_t n = p->ref_count, name_count = 0, start = 0;
	char where[96], shown[SHOW_MAX];

	if (!n)
		return;
	sorted = cp_malloc(n * sizeof(*sorted));
	names = cp_malloc(n * sizeof(*names));
	if (!sorted || !names) {
		fail(p, CP_ENOMEM);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sorted[i] = &p->refs[i];
		if (ref_class(&p->refs[i]) == 1)
			names[name_count++] = p->refs[i].s;
	}
	qsort(sorted, n, sizeof(*sorted), cmp_refs);
	for (size_t i = 1; i < n; i++) {
		if (!same_name(sorted[i], sorted[start])) {
			start = i;
			continue;
		}
		/* an alias equal to its own collection's id is pointless but harmless */
		if (ref_class(sorted[i]) == 1 && sorted[i]->j == sorted[start]->j)
			continue;
		if (ref_class(sorted[i]) != 3)
			sorted[i]->dup_of = sorted[start];
	}
	qsort(names, name_count, sizeof(*names), cmp_str);

	/* report in document order, which is the order of p->refs */
	for (size_t i = 0; i < n && !p->r.fatal; i++) {
		const struct ref *r = &p->refs[i];
		bool known;

		if (ref_class(r) != 3 && !r->dup_of)
			continue;
		ref_path(where, sizeof(where), r);
		cp_buf_reset(&p->r.path);
		cp_buf_puts(&p->r.path, where);
		if (cp_buf_finish(&p->r.path)) {
			fail(p, CP_ENOMEM);
			break;
		}
		show(shown, r->s, strlen(r->s));
		if (r->dup_of) {
			ref_path(where, sizeof(where), r->dup_of);
			report(p, &r->mark, "%s: '%s' is already used by %s (line %u)",
			       ref_what[r->kind], shown, where, (unsigned)r->dup_of->mark.line + 1);
			continue;
		}
		known = bsearch(&r->s, names, name_count, sizeof(*names), cmp_str) != NULL;
		if (!known && (r->kind == REF_PULL_LOCAL || r->kind == REF_PUSH_LOCAL))
			report(p, &r->mark, "'%s' is not the id or alias of a configured collection",
			       shown);
		else if (!known)
			report(p, &r->mark,
			       "'%s' is neither \"*\" nor the id or alias of a configured "
			       "collection",
			       shown);
	}
out:
	cp_free(sorted);
	cp_free(names);
}

/* ---------------------------------------------------------------- API */

void cp_config_release(struct cp_config *c)
{
	if (!c)
		return;
	cp_free(c->listen_host);
	cp_free(c->data_dir);
	cp_free(c->title);
	cp_free(c->tls_cert);
	cp_free(c->tls_key);
	cp_free(c->tls_client_ca);
	for (size_t r = 0; c->api_roots && r < c->api_root_count; r++) {
		struct cp_config_api_root *root = &c->api_roots[r];
		for (size_t i = 0; root->collections && i < root->collection_count; i++) {
			cp_free(root->collections[i].id);
			cp_free(root->collections[i].title);
			cp_free(root->collections[i].description);
			cp_free(root->collections[i].alias);
		}
		cp_free(root->collections);
		cp_free(root->name);
		cp_free(root->title);
		cp_free(root->description);
	}
	cp_free(c->api_roots);
	for (size_t a = 0; c->accounts && a < c->account_count; a++) {
		struct cp_config_account *acct = &c->accounts[a];
		for (size_t i = 0; acct->read && i < acct->read_count; i++)
			cp_free(acct->read[i]);
		for (size_t i = 0; acct->write && i < acct->write_count; i++)
			cp_free(acct->write[i]);
		cp_free(acct->read);
		cp_free(acct->write);
		cp_free(acct->name);
		cp_free(acct->password_hash);
		cp_free(acct->client_cert_fingerprint);
	}
	cp_free(c->accounts);
	for (size_t i = 0; c->peers && i < c->peer_count; i++) {
		struct cp_config_peer *pe = &c->peers[i];
		struct cp_config_subscription *lists[2] = {pe->pull, pe->push};
		size_t counts[2] = {pe->pull_count, pe->push_count};
		for (size_t l = 0; l < 2; l++) {
			for (size_t k = 0; lists[l] && k < counts[l]; k++) {
				cp_free(lists[l][k].remote);
				cp_free(lists[l][k].local);
			}
			cp_free(lists[l]);
		}
		cp_free(pe->name);
		cp_free(pe->url);
		cp_free(pe->cacert);
		cp_free(pe->client_cert);
		cp_free(pe->client_key);
		cp_free(pe->token_file);
		cp_free(pe->user);
		cp_free(pe->password_file);
	}
	cp_free(c->peers);
	memset(c, 0, sizeof(*c));
}

enum cp_err cp_config_defaults(struct cp_config *c)
{
	struct cp_config d;

	memset(&d, 0, sizeof(d));
	d.listen_host = cp_strdup(DEFAULT_HOST);
	d.data_dir = cp_strdup(DEFAULT_DATA_DIR);
	d.title = cp_strdup(DEFAULT_TITLE);
	d.listen_port = DEFAULT_PORT;
	d.max_content_length = DEFAULT_MAX_CONTENT_LENGTH;
	d.page_size = DEFAULT_PAGE_SIZE;
	d.connection_timeout = 30;
	if (!d.listen_host || !d.data_dir || !d.title) {
		cp_config_release(&d);
		memset(c, 0, sizeof(*c));
		return CP_ENOMEM;
	}
	*c = d;
	return CP_OK;
}

enum cp_err cp_config_load_text(const char *text, size_t len, const char *name,
				struct cp_config *c, struct cp_diag *diag)
{
	struct parser p;
	struct cp_config cfg;
	enum cp_err err;

	memset(&p, 0, sizeof(p));
	cp__yr_init(&p.r, name ? name : "(config)", CODE, true, CP_CONFIG_MAX_DEPTH, diag);
	err = cp_config_defaults(&cfg);
	if (err)
		goto out;
	if (text && len > CP_CONFIG_MAX_BYTES) {
		report(&p, NULL, "configuration larger than %u bytes", CP_CONFIG_MAX_BYTES);
		err = p.r.fatal ? p.r.fatal : CP_ETOOBIG;
		goto out;
	}
	err = cp__yr_start(&p.r, text, len);
	if (err)
		goto out;
	{
		struct root_call rc = {&p, &cfg};
		cp__yr_document(&p.r, on_root, &rc);
	}
	if (!p.r.fatal)
		cross_check(&p);
	err = p.r.fatal ? p.r.fatal : p.r.errors ? CP_EINVAL : CP_OK;
out:
	cp__yr_release(&p.r);
	cp_free(p.refs);
	if (err) {
		cp_config_release(&cfg);
		memset(c, 0, sizeof(*c));
		return err;
	}
	*c = cfg;
	return CP_OK;
}

enum cp_err cp_config_load(const char *path, struct cp_config *c, struct cp_diag *diag)
{
	FILE *f = NULL;
	char *buf = NULL, ebuf[128];
	size_t len;
	enum cp_err err;
	int e;

	memset(c, 0, sizeof(*c));
	f = fopen(path, "rb");
	if (!f) {
		e = errno;
		err = e == ENOENT || e == ENOTDIR ? CP_ENOTFOUND : CP_EIO;
		cp_diag_add_at(diag, CP_SEV_ERROR, CODE, 0, 0,
			       "cannot open configuration file '%s': %s", path,
			       strerror_r(e, ebuf, sizeof(ebuf)));
		goto out;
	}
	/* one byte more than the limit tells "exactly at the limit" from "over it" */
	buf = cp_malloc(CP_CONFIG_MAX_BYTES + 1);
	if (!buf) {
		err = CP_ENOMEM;
		goto out;
	}
	len = fread(buf, 1, CP_CONFIG_MAX_BYTES + 1, f);
	if (ferror(f)) {
		e = errno;
		err = CP_EIO;
		cp_diag_add_at(diag, CP_SEV_ERROR, CODE, 0, 0,
			       "cannot read configuration file '%s': %s", path,
			       strerror_r(e, ebuf, sizeof(ebuf)));
		goto out;
	}
	err = cp_config_load_text(buf, len, path, c, diag);
out:
	if (f)
		fclose(f);
	cp_free(buf);
	return err;
}
