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

#define CODE "config"
/* Stop reporting after this many errors: a wrong file should give a readable list. */
#define MAX_ERRORS 100
/* Longest quotation of an input value in a message. */
#define SHOW_MAX 80

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
	yaml_parser_t yp;
	bool has_yp;
	const char *text;
	size_t len;
	const char *name;
	struct cp_diag *diag;
	struct cp_buf path; /* key path of the node being read: "api_roots[0].title" */
	unsigned depth;
	size_t errors;
	enum cp_err fatal; /* set: stop reading events */
	size_t root, coll, acct; /* indices of the list items being read */
	struct ref *refs;
	size_t ref_count, ref_cap;
};

typedef void (*field_fn)(struct parser *p, const yaml_event_t *ev, void *obj);

struct field {
	const char *key;
	field_fn fn;
};

/* ------------------------------------------------------------ reporting */

static void fail(struct parser *p, enum cp_err err)
{
	if (!p->fatal)
		p->fatal = err;
}

static bool is_alnum(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/*
 * Quote untrusted text for a message: printable ASCII as is, everything else as \xNN,
 * cut with "..." so that a huge or binary value cannot flood a log line.
 */
static const char *show(char out[SHOW_MAX], const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (o + 4 > SHOW_MAX - 4) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return out;
}

static void vreport(struct parser *p, const yaml_mark_t *m, const char *fmt, va_list ap)
	CP_PRINTF(3, 0);

/* An error finding: "<key path>: <message> (<name>:<line>:<column>)". */
static void vreport(struct parser *p, const yaml_mark_t *m, const char *fmt, va_list ap)
{
	struct cp_buf b = CP_BUF_INIT(0);
	unsigned line = m ? (unsigned)m->line + 1 : 0;
	unsigned col = m ? (unsigned)m->column + 1 : 0;
	size_t before = p->diag ? p->diag->count : 0;

	if (p->path.len) {
		cp_buf_append(&b, p->path.ptr, p->path.len);
		cp_buf_puts(&b, ": ");
	}
	cp_buf_vprintf(&b, fmt, ap);
	if (m)
		cp_buf_printf(&b, " (%s:%u:%u)", p->name, line, col);
	else
		cp_buf_printf(&b, " (%s)", p->name);
	if (cp_buf_finish(&b)) {
		fail(p, CP_ENOMEM);
		goto out;
	}
	p->errors++;
	cp_diag_add_at(p->diag, CP_SEV_ERROR, CODE, line, col, "%s", b.ptr);
	/* a finding that was not recorded would turn into an error without a reason */
	if (p->diag && p->diag->count == before && before < CP_LIMIT_FINDINGS)
		fail(p, CP_ENOMEM);
	if (p->errors == MAX_ERRORS && !p->fatal) {
		cp_diag_add_at(p->diag, CP_SEV_ERROR, CODE, 0, 0,
			       "too many errors in %s; stopped reading", p->name);
		fail(p, CP_EINVAL);
	}
out:
	cp_buf_release(&b);
}

static void report(struct parser *p, const yaml_mark_t *m, const char *fmt, ...) CP_PRINTF(3, 4);

static void report(struct parser *p, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, m, fmt, ap);
	va_end(ap);
}

/* Path helpers return the old length for path_pop. */
static size_t path_key(struct parser *p, const char *key, size_t len)
{
	size_t old = p->path.len;
	char shown[SHOW_MAX];

	if (old)
		cp_buf_putc(&p->path, '.');
	cp_buf_puts(&p->path, show(shown, key, len));
	if (cp_buf_finish(&p->path))
		fail(p, CP_ENOMEM);
	return old;
}

static size_t path_index(struct parser *p, size_t i)
{
	size_t old = p->path.len;

	cp_buf_printf(&p->path, "[%zu]", i);
	if (cp_buf_finish(&p->path))
		fail(p, CP_ENOMEM);
	return old;
}

static void path_pop(struct parser *p, size_t old)
{
	if (!cp_buf_finish(&p->path))
		cp_buf_truncate(&p->path, old);
}

/* libyaml could not read the text: a fatal CP_EPARSE with libyaml's own words. */
static void syntax_error(struct parser *p)
{
	const yaml_parser_t *y = &p->yp;
	yaml_mark_t m = y->problem_mark;
	const char *problem = y->problem ? y->problem : "unknown error";

	if (y->error == YAML_MEMORY_ERROR) {
		fail(p, CP_ENOMEM);
		return;
	}
	cp_buf_reset(&p->path); /* the error may lie ahead of the key being read */
	if (y->error == YAML_READER_ERROR) {
		/* reader errors carry a byte offset, not a mark */
		size_t end = y->problem_offset < p->len ? y->problem_offset : p->len;
		memset(&m, 0, sizeof(m));
		for (size_t i = 0; i < end; i++) {
			if (p->text[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
		if (y->problem_value != -1)
			report(p, &m, "invalid YAML: %s (byte 0x%02x)", problem,
			       (unsigned)y->problem_value & 0xffu);
		else
			report(p, &m, "invalid YAML: %s", problem);
	} else if (y->context) {
		report(p, &m, "invalid YAML: %s (%s at line %u, column %u)", problem, y->context,
		       (unsigned)y->context_mark.line + 1, (unsigned)y->context_mark.column + 1);
	} else {
		report(p, &m, "invalid YAML: %s", problem);
	}
	fail(p, CP_EPARSE);
}

/* ---------------------------------------------------------------- events */

/*
 * The next event into ev (delete it with yaml_event_delete). False when reading must
 * stop; ev is then zeroed, so deleting it is harmless. Anchors, aliases and tags are
 * reported here: aliases are how "billion laughs" files grow, and this schema has no
 * use for any of the three.
 */
static bool next(struct parser *p, yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	char shown[SHOW_MAX];

	memset(ev, 0, sizeof(*ev));
	if (p->fatal)
		return false;
	if (!yaml_parser_parse(&p->yp, ev)) {
		memset(ev, 0, sizeof(*ev));
		syntax_error(p);
		return false;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		p->depth++;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		p->depth++;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		p->depth--;
		break;
	case YAML_ALIAS_EVENT:
		anchor = ev->data.alias.anchor;
		report(p, &ev->start_mark, "aliases are not allowed (*%s)",
		       show(shown, (const char *)anchor, strlen((const char *)anchor)));
		return true;
	default:
		break;
	}
	if (p->depth > CP_CONFIG_MAX_DEPTH) {
		report(p, &ev->start_mark, "nesting deeper than %d levels", CP_CONFIG_MAX_DEPTH);
		fail(p, CP_EINVAL);
		yaml_event_delete(ev);
		return false;
	}
	if (anchor)
		report(p, &ev->start_mark, "anchors are not allowed (&%s)",
		       show(shown, (const char *)anchor, strlen((const char *)anchor)));
	if (tag)
		report(p, &ev->start_mark, "tags are not allowed (%s)",
		       show(shown, (const char *)tag, strlen((const char *)tag)));
	return true;
}

/* Consume the rest of the node that begins with ev. */
static void skip(struct parser *p, const yaml_event_t *ev)
{
	unsigned level = 1;

	if (ev->type != YAML_SEQUENCE_START_EVENT && ev->type != YAML_MAPPING_START_EVENT)
		return;
	while (level) {
		yaml_event_t e;
		if (!next(p, &e))
			return;
		if (e.type == YAML_SEQUENCE_START_EVENT || e.type == YAML_MAPPING_START_EVENT)
			level++;
		else if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT)
			level--;
		yaml_event_delete(&e);
	}
}

/* YAML's null: a plain "", "~" or "null" (any of the three spellings). */
static bool is_null(const yaml_event_t *ev)
{
	const char *v;
	size_t n;

	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)ev->data.scalar.value;
	n = ev->data.scalar.length;
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 &&
		(!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

static const char *kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_SCALAR_EVENT:
		return is_null(ev) ? "nothing (null)" : "a scalar";
	default:
		return "an alias";
	}
}

/* ------------------------------------------------------------ scalars */

enum {
	S_OPTIONAL = 1, /* null means "not set" */
	S_EMPTY_OK = 2, /* "" is a value */
};

/*
 * The string scalar ev as a new string in *out (NULL for null when S_OPTIONAL).
 * False, with the reason reported, if ev is something else.
 */
static bool get_string(struct parser *p, const yaml_event_t *ev, unsigned flags, char **out)
{
	const char *v;
	size_t n;

	*out = NULL;
	if (ev->type == YAML_ALIAS_EVENT)
		return false; /* reported by next() */
	if (ev->type != YAML_SCALAR_EVENT) {
		report(p, &ev->start_mark, "expected a string, got %s", kind(ev));
		skip(p, ev);
		return false;
	}
	v = (const char *)ev->data.scalar.value;
	n = ev->data.scalar.length;
	if (is_null(ev) && (flags & S_OPTIONAL))
		return true;
	if (is_null(ev) || (n == 0 && !(flags & S_EMPTY_OK))) {
		report(p, &ev->start_mark, "must not be empty");
		return false;
	}
	/* double-quoted "\0" puts a NUL inside; C strings would silently cut there */
	if (memchr(v, '\0', n)) {
		report(p, &ev->start_mark, "must not contain NUL characters");
		return false;
	}
	*out = cp_strndup(v, n);
	if (!*out) {
		fail(p, CP_ENOMEM);
		return false;
	}
	return true;
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

static void key_list(char *out, size_t cap, const struct field *f, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o < cap; i++) {
		int w = snprintf(out + o, cap - o, "%s%s", i ? ", " : "", f[i].key);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

/*
 * Read the mapping that begins with ev, handing each known key's value to its field
 * function with obj. *seen gets bit i for each fields[i] present (even with a bad
 * value, so that a wrong value is not also reported as missing). False if ev is not a
 * mapping (reported and skipped) or reading stopped.
 */
static bool parse_mapping(struct parser *p, const yaml_event_t *ev, const struct field *fields,
			  size_t n, void *obj, unsigned *seen)
{
	*seen = 0;
	if (ev->type == YAML_ALIAS_EVENT)
		return false;
	if (ev->type != YAML_MAPPING_START_EVENT) {
		report(p, &ev->start_mark, "expected a mapping, got %s", kind(ev));
		skip(p, ev);
		return false;
	}
	for (;;) {
		yaml_event_t key, val;
		const char *k;
		size_t klen, i, old;
		bool use;

		if (!next(p, &key))
			return false;
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			return true;
		}
		if (key.type != YAML_SCALAR_EVENT) {
			if (key.type != YAML_ALIAS_EVENT)
				report(p, &key.start_mark, "expected a string key, got %s",
				       kind(&key));
			skip(p, &key);
			yaml_event_delete(&key);
			if (!next(p, &val))
				return false;
			skip(p, &val);
			yaml_event_delete(&val);
			continue;
		}
		k = (const char *)key.data.scalar.value;
		klen = key.data.scalar.length;
		for (i = 0; i < n; i++)
			if (strlen(fields[i].key) == klen && !memcmp(fields[i].key, k, klen))
				break;
		old = path_key(p, k, klen);
		use = false;
		if (i == n) {
			char keys[256];
			key_list(keys, sizeof(keys), fields, n);
			report(p, &key.start_mark, "unknown key (expected one of: %s)", keys);
		} else if (*seen & (1u << i)) {
			report(p, &key.start_mark, "duplicate key");
		} else {
			*seen |= 1u << i;
			use = true;
		}
		if (!next(p, &val)) {
			yaml_event_delete(&key);
			return false;
		}
		if (use)
			fields[i].fn(p, &val, obj);
		else
			skip(p, &val);
		path_pop(p, old);
		yaml_event_delete(&val);
		yaml_event_delete(&key);
	}
}

/* Report each key of fields[] whose bit is in `required` but not in `seen`. */
static void require(struct parser *p, const yaml_event_t *ev, const struct field *fields,
		    unsigned required, unsigned seen)
{
	for (unsigned i = 0; (required >> i) != 0; i++)
		if ((required & (1u << i)) && !(seen & (1u << i)))
			report(p, &ev->start_mark, "missing required key '%s'", fields[i].key);
}

/* True if ev starts a list; null gives false silently, anything else is reported. */
static bool begin_list(struct parser *p, const yaml_event_t *ev)
{
	if (ev->type == YAML_SEQUENCE_START_EVENT)
		return true;
	if (ev->type != YAML_ALIAS_EVENT && !is_null(ev)) {
		report(p, &ev->start_mark, "expected a list, got %s", kind(ev));
		skip(p, ev);
	}
	return false;
}

/* What one list item means; i is its position, ctx the caller's. */
typedef void (*item_fn)(struct parser *p, const yaml_event_t *item, size_t i, void *ctx);

/* For lists of structs: the struct that owns the array, and the array's capacity. */
struct list_ctx {
	void *owner;
	size_t cap;
};

/* Read the list that begins with ev (null is an empty list), calling fn per item. */
static void parse_list(struct parser *p, const yaml_event_t *ev, item_fn fn, void *ctx)
{
	if (!begin_list(p, ev))
		return;
	for (size_t i = 0;; i++) {
		yaml_event_t item;
		/* pushed first, so that what next() reports about the item names it */
		size_t old = path_index(p, i);
		bool end;

		if (!next(p, &item))
			return;
		end = item.type == YAML_SEQUENCE_END_EVENT;
		if (!end)
			fn(p, &item, i, ctx);
		path_pop(p, old);
		yaml_event_delete(&item);
		if (end)
			return;
	}
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
	size_t errors = p->errors;
	unsigned seen;

	if (is_null(ev))
		return;
	if (!parse_mapping(p, ev, tls_fields, CP_ARRAY_LEN(tls_fields), c, &seen))
		return;
	/* only when the values themselves were fine, or this would repeat their error */
	if (!c->tls_cert != !c->tls_key && p->errors == errors)
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
	size_t errors = p->errors;
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
	if (!arr[i].password_hash && !arr[i].client_cert_fingerprint && p->errors == errors)
		report(p, &item->start_mark,
		       "an account needs password_hash or client_cert_fingerprint");
}

static void on_accounts(struct parser *p, const yaml_event_t *ev, void *obj)
{
	struct list_ctx l = {obj, 0};

	parse_list(p, ev, account_item, &l);
}

static const struct field top_fields[] = {
	{"listen", on_listen},
	{"data_dir", on_data_dir},
	{"title", on_title},
	{"tls", on_tls},
	{"limits", on_limits},
	{"api_roots", on_api_roots},
	{"accounts", on_accounts},
};

/* stream-start, at most one document whose root is a mapping or null, stream-end */
static void parse_stream(struct parser *p, struct cp_config *c)
{
	yaml_event_t ev;
	unsigned seen;

	if (!next(p, &ev)) /* stream start */
		return;
	yaml_event_delete(&ev);
	if (!next(p, &ev))
		return;
	if (ev.type == YAML_STREAM_END_EVENT) { /* nothing but comments */
		yaml_event_delete(&ev);
		return;
	}
	yaml_event_delete(&ev); /* document start */
	if (!next(p, &ev))
		return;
	if (!is_null(&ev))
		(void)parse_mapping(p, &ev, top_fields, CP_ARRAY_LEN(top_fields), c, &seen);
	yaml_event_delete(&ev);
	if (!next(p, &ev)) /* document end */
		return;
	yaml_event_delete(&ev);
	if (!next(p, &ev))
		return;
	if (ev.type == YAML_DOCUMENT_START_EVENT)
		report(p, &ev.start_mark, "a second YAML document (only one is allowed)");
	yaml_event_delete(&ev);
}

/* --------------------------------------------------- whole-file checks */

static const char *const ref_what[] = {
	[REF_ROOT_NAME] = "duplicate API root name",
	[REF_COLL_ID] = "duplicate collection id or alias in this API root",
	[REF_COLL_ALIAS] = "duplicate collection id or alias in this API root",
	[REF_ACCOUNT] = "duplicate account name",
	[REF_READ] = "",
	[REF_WRITE] = "",
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
		if (ref_class(sorted[i]) < 3)
			sorted[i]->dup_of = sorted[start];
	}
	qsort(names, name_count, sizeof(*names), cmp_str);

	/* report in document order, which is the order of p->refs */
	for (size_t i = 0; i < n && !p->fatal; i++) {
		const struct ref *r = &p->refs[i];
		bool known;

		if (r->kind != REF_READ && r->kind != REF_WRITE && !r->dup_of)
			continue;
		ref_path(where, sizeof(where), r);
		cp_buf_reset(&p->path);
		cp_buf_puts(&p->path, where);
		if (cp_buf_finish(&p->path)) {
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
		if (!known)
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
	p.text = text ? text : "";
	p.len = text ? len : 0;
	p.name = name ? name : "(config)";
	p.diag = diag;
	cp_buf_init(&p.path, 0);
	err = cp_config_defaults(&cfg);
	if (err)
		goto out;
	if (p.len > CP_CONFIG_MAX_BYTES) {
		report(&p, NULL, "configuration larger than %u bytes", CP_CONFIG_MAX_BYTES);
		err = p.fatal ? p.fatal : CP_ETOOBIG;
		goto out;
	}
	if (!yaml_parser_initialize(&p.yp)) {
		err = CP_ENOMEM;
		goto out;
	}
	p.has_yp = true;
	yaml_parser_set_input_string(&p.yp, (const unsigned char *)p.text, p.len);
	parse_stream(&p, &cfg);
	if (!p.fatal)
		cross_check(&p);
	err = p.fatal ? p.fatal : p.errors ? CP_EINVAL : CP_OK;
out:
	if (p.has_yp)
		yaml_parser_delete(&p.yp);
	cp_free(p.refs);
	cp_buf_release(&p.path);
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
