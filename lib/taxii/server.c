/*
 * TAXII 2.1 server core: routing, filters, envelopes, POST with status resources.
 * Responses are built as text straight from stored JSON (no re-parse of objects).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "cyberpact/audit.h"
#include "cyberpact/policy.h"
#include "cyberpact/stix.h"
#include "cyberpact/taxii.h"
#include "common.h"

struct cp_taxii_server {
	const struct cp_config *cfg;
	char *store_path;
	pthread_mutex_t lock;
	struct cp_store **idle; /* store connections not in use */
	size_t idle_count, idle_cap;
	pthread_mutex_t write_lock; /* one writer at a time, shared by every connection */
	/* group commit of POSTs (post_objects): queued writes, and whether a leader is
	 * committing a group right now */
	pthread_mutex_t group_lock;
	pthread_cond_t group_done;
	struct write_job *queue, **queue_tail;
	bool group_busy;
	struct cp_taxii_write_stats stats; /* under group_lock */
	atomic_uint posts;                 /* POSTs being handled (post_objects) */
	bool two_cpus;                     /* more than one CPU online */
	const struct cp_taxii_policy *policy;
	struct cp_audit *audit;
	cp_taxii_write_fn on_write;
	void *on_write_ctx;
};

/* ------------------------------------------------------------ responses */

void cp_taxii_response_release(struct cp_taxii_response *r)
{
	if (!r)
		return;
	cp_free(r->body);
	memset(r, 0, sizeof(*r));
}

static void set_body(struct cp_taxii_response *resp, unsigned status, struct cp_buf *b)
{
	char *text;

	if (cp_buf_finish(b)) {
		cp_buf_release(b);
		cp_taxii_error(resp, 500, "Internal error", "the response could not be built");
		return;
	}
	text = cp_buf_take(b);
	if (!text) {
		cp_taxii_error(resp, 500, "Internal error", "out of memory");
		return;
	}
	cp_free(resp->body);
	resp->status = status;
	resp->content_type = CP_TAXII_MEDIA_TYPE;
	resp->body = text;
	resp->body_len = strlen(text);
}

/* Append s as a JSON string (with quotes), in runs of characters that need no escape
 * (a POST's status has an id and a version per object). */
static void json_str(struct cp_buf *b, const char *s)
{
	cp_buf_putc(b, '"');
	for (;;) {
		const char *run = s;
		unsigned char c;
		while ((c = (unsigned char)*s) >= 0x20 && c != '"' && c != '\\')
			s++;
		cp_buf_append(b, run, (size_t)(s - run));
		if (!c)
			break;
		if (c == '"' || c == '\\') {
			cp_buf_putc(b, '\\');
			cp_buf_putc(b, (char)c);
		} else {
			cp_buf_printf(b, "\\u%04x", c);
		}
		s++;
	}
	cp_buf_putc(b, '"');
}

void cp_taxii_error(struct cp_taxii_response *resp, unsigned status, const char *title,
		    const char *description)
{
	struct cp_buf b = CP_BUF_INIT(64 << 10);
	char *text;

	cp_buf_puts(&b, "{\"title\":");
	json_str(&b, title);
	if (description) {
		cp_buf_puts(&b, ",\"description\":");
		json_str(&b, description);
	}
	cp_buf_printf(&b, ",\"http_status\":\"%u\"}", status);
	cp_free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->status = status;
	resp->content_type = CP_TAXII_MEDIA_TYPE;
	text = cp_buf_take(&b);
	if (text) {
		resp->body = text;
		resp->body_len = strlen(text);
	}
}

static void errorf(struct cp_taxii_response *resp, unsigned status, const char *title,
		   const char *fmt, ...) CP_PRINTF(4, 5);

static void errorf(struct cp_taxii_response *resp, unsigned status, const char *title,
		   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cp_taxii_error(resp, status, title, msg);
}

static void store_error(struct cp_taxii_response *resp, enum cp_err err, struct cp_store *s)
{
	CP_LOG_ERR("taxii", "store failure: %s: %s", cp_err_name(err), cp_store_errmsg(s));
	if (err == CP_ETIMEOUT)
		cp_taxii_error(resp, 503, "Service unavailable", "the store is busy; retry later");
	else
		cp_taxii_error(resp, 500, "Internal error", "the store failed; see the server log");
}

/* -------------------------------------------------------------- stores */

static struct cp_store *acquire(struct cp_taxii_server *srv)
{
	struct cp_store *s = NULL;

	pthread_mutex_lock(&srv->lock);
	if (srv->idle_count)
		s = srv->idle[--srv->idle_count];
	pthread_mutex_unlock(&srv->lock);
	if (!s) {
		if (cp_store_open_sqlite(srv->store_path, &s, NULL) != CP_OK)
			return NULL;
		cp_store_set_write_lock(s, &srv->write_lock);
	}
	return s;
}

static void release(struct cp_taxii_server *srv, struct cp_store *s)
{
	bool kept = false;

	if (!s)
		return;
	pthread_mutex_lock(&srv->lock);
	if (srv->idle_count == srv->idle_cap) {
		size_t cap = srv->idle_cap ? srv->idle_cap * 2 : 8;
		struct cp_store **p = cp_realloc(srv->idle, cap * sizeof(*p));
		if (p) {
			srv->idle = p;
			srv->idle_cap = cap;
		}
	}
	if (srv->idle_count < srv->idle_cap) {
		srv->idle[srv->idle_count++] = s;
		kept = true;
	}
	pthread_mutex_unlock(&srv->lock);
	if (!kept)
		cp_store_close(s);
}

enum cp_err cp_taxii_server_new(const struct cp_config *cfg, const char *store_path,
				struct cp_taxii_server **out, struct cp_diag *diag)
{
	struct cp_taxii_server *srv;
	struct cp_store *s = NULL;
	enum cp_err err;

	srv = cp_calloc(1, sizeof(*srv));
	if (!srv)
		return CP_ENOMEM;
	srv->cfg = cfg;
	srv->store_path = cp_strdup(store_path);
	if (!srv->store_path) {
		cp_free(srv);
		return CP_ENOMEM;
	}
	pthread_mutex_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->write_lock, NULL);
	pthread_mutex_init(&srv->group_lock, NULL);
	pthread_cond_init(&srv->group_done, NULL);
	srv->queue_tail = &srv->queue;
	atomic_init(&srv->posts, 0);
	srv->two_cpus = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	err = cp_store_open_sqlite(store_path, &s, diag);
	if (err)
		goto fail;
	cp_store_set_write_lock(s, &srv->write_lock);
	for (size_t r = 0; r < cfg->api_root_count; r++) {
		const struct cp_config_api_root *root = &cfg->api_roots[r];
		for (size_t c = 0; c < root->collection_count; c++) {
			const struct cp_config_collection *cc = &root->collections[c];
			struct cp_store_collection sc = {cc->id, root->name, cc->title,
							 cc->description, cc->alias};
			err = cp_store_collection_put(s, &sc);
			if (err) {
				cp_diag_add(diag, CP_SEV_ERROR, "store", NULL,
					    "cannot create collection '%s' in API root '%s': %s",
					    cc->id, root->name,
					    err == CP_ECONFLICT ? "its alias is taken"
								: cp_store_errmsg(s));
				goto fail;
			}
		}
	}
	release(srv, s);
	*out = srv;
	return CP_OK;
fail:
	cp_store_close(s);
	cp_taxii_server_free(srv);
	return err;
}

void cp_taxii_server_free(struct cp_taxii_server *srv)
{
	if (!srv)
		return;
	for (size_t i = 0; i < srv->idle_count; i++)
		cp_store_close(srv->idle[i]);
	cp_free(srv->idle);
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->write_lock);
	pthread_mutex_destroy(&srv->group_lock);
	pthread_cond_destroy(&srv->group_done);
	cp_free(srv->store_path);
	cp_free(srv);
}

void cp_taxii_server_set_policy(struct cp_taxii_server *srv, const struct cp_taxii_policy *pol)
{
	srv->policy = pol;
}

void cp_taxii_server_set_write_hook(struct cp_taxii_server *srv, cp_taxii_write_fn fn, void *ctx)
{
	srv->on_write = fn;
	srv->on_write_ctx = ctx;
}

pthread_mutex_t *cp_taxii_server_write_lock(struct cp_taxii_server *srv)
{
	return &srv->write_lock;
}

void cp_taxii_server_write_stats(struct cp_taxii_server *srv, struct cp_taxii_write_stats *out)
{
	pthread_mutex_lock(&srv->group_lock);
	*out = srv->stats;
	pthread_mutex_unlock(&srv->group_lock);
}

void cp_taxii_server_set_audit(struct cp_taxii_server *srv, struct cp_audit *audit)
{
	srv->audit = audit;
}

/* ------------------------------------------------------- marks, facts */

void cp_taxii_marks_of(const json_t *obj, struct cp_store_marks *out)
{
	struct cp_policy_facts f;

	cp_policy_facts_of(obj, &f);
	memset(out, 0, sizeof(*out));
	out->known = true;
	out->tlp = (uint8_t)f.tlp;
	out->pap = (uint8_t)f.pap;
	out->bad_marking = f.bad_marking;
	out->consultation = f.consultation;
}

void cp_taxii_row_facts(const struct cp_store_row *row, struct cp_policy_facts *out)
{
	memset(out, 0, sizeof(*out));
	if (row->marks.known) {
		out->tlp = (enum cp_tlp)row->marks.tlp;
		out->pap = (enum cp_pap)row->marks.pap;
		out->bad_marking = row->marks.bad_marking;
		out->consultation = row->marks.consultation;
	} else {
		/* stored without marks (an older release): read them from the JSON; an
		 * unreadable object counts as unreadable markings, so it is withheld */
		json_t *obj = json_loadb(row->json, row->json_len, 0, NULL);
		cp_policy_facts_of(obj, out);
		out->bad_marking = out->bad_marking || !obj;
		json_decref(obj);
	}
	out->id = row->id;
	out->type = row->type;
}

/* --------------------------------------------------------- permissions */

static bool in_names(char **names, size_t n, const char *id, const char *alias)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], "*") == 0 || strcmp(names[i], id) == 0 ||
		    (alias && strcmp(names[i], alias) == 0))
			return true;
	return false;
}

bool cp_taxii_account_can(const struct cp_config_account *a, const char *collection_id,
			  const char *alias, bool write)
{
	if (!a)
		return false;
	return write ? in_names(a->write, a->write_count, collection_id, alias)
		     : in_names(a->read, a->read_count, collection_id, alias);
}

/* ------------------------------------------------------------- routing */

enum route {
	R_NONE,
	R_DISCOVERY,
	R_ROOT,
	R_STATUS,
	R_COLLECTIONS,
	R_COLLECTION,
	R_OBJECTS,
	R_OBJECT,
	R_VERSIONS,
	R_MANIFEST,
};

#define MAX_SEGS 8

struct path {
	char *segs[MAX_SEGS];
	size_t count;
	bool trailing_slash;
	char *buf;
};

static bool split_path(const char *path, struct path *p)
{
	char *s, *save = NULL;
	size_t n = strlen(path);

	memset(p, 0, sizeof(*p));
	if (n == 0 || path[0] != '/')
		return false;
	p->trailing_slash = path[n - 1] == '/';
	p->buf = cp_strdup(path);
	if (!p->buf)
		return false;
	for (s = strtok_r(p->buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (p->count == MAX_SEGS)
			return false;
		p->segs[p->count++] = s;
	}
	return true;
}

static const struct cp_config_api_root *find_root(const struct cp_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->api_root_count; i++)
		if (strcmp(cfg->api_roots[i].name, name) == 0)
			return &cfg->api_roots[i];
	return NULL;
}

static enum route route_of(const struct path *p)
{
	const char *const *s = (const char *const *)p->segs;

	if (p->count == 1 && strcmp(s[0], "taxii2") == 0)
		return R_DISCOVERY;
	if (p->count == 1)
		return R_ROOT;
	if (p->count == 3 && strcmp(s[1], "status") == 0)
		return R_STATUS;
	if (p->count >= 2 && strcmp(s[1], "collections") == 0) {
		if (p->count == 2)
			return R_COLLECTIONS;
		if (p->count == 3)
			return R_COLLECTION;
		if (p->count == 4 && strcmp(s[3], "objects") == 0)
			return R_OBJECTS;
		if (p->count == 4 && strcmp(s[3], "manifest") == 0)
			return R_MANIFEST;
		if (p->count == 5 && strcmp(s[3], "objects") == 0)
			return R_OBJECT;
		if (p->count == 6 && strcmp(s[3], "objects") == 0 && strcmp(s[5], "versions") == 0)
			return R_VERSIONS;
	}
	return R_NONE;
}

/* ---------------------------------------------------------- media types */

/* Is one media range of an Accept header satisfiable with TAXII 2.1 JSON? */
static bool accept_ok(const char *accept)
{
	const char *p = accept;

	if (!accept || !*accept)
		return true;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char range[256];
		size_t k = 0;

		for (size_t i = 0; i < n && k + 1 < sizeof(range); i++)
			if (p[i] != ' ' && p[i] != '\t')
				range[k++] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
		range[k] = '\0';
		if (strncmp(range, "*/*", 3) == 0 || strncmp(range, "application/*", 13) == 0)
			return true;
		if (strncmp(range, "application/taxii+json", 22) == 0) {
			const char *params = range + 22;
			/* no version parameter, or version=2.1 */
			if (!strstr(params, "version=") || strstr(params, "version=2.1"))
				return true;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

static bool content_type_ok(const char *ct)
{
	char norm[128];
	size_t k = 0;

	if (!ct)
		return false;
	for (const char *p = ct; *p && k + 1 < sizeof(norm); p++)
		if (*p != ' ' && *p != '\t')
			norm[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	norm[k] = '\0';
	return strcmp(norm, "application/taxii+json;version=2.1") == 0;
}

/* -------------------------------------------------------------- filters */

struct filters {
	struct cp_store_filter f;
	char **lists[4];   /* owned split strings: ids, types, spec_versions, versions */
	size_t counts[4];
	struct cp_time *times;
	bool has_limit;
};

static void filters_release(struct filters *fl)
{
	for (size_t i = 0; i < 4; i++) {
		for (size_t k = 0; k < fl->counts[i]; k++)
			cp_free(fl->lists[i][k]);
		cp_free(fl->lists[i]);
	}
	cp_free(fl->times);
}

/* Split a comma list into owned strings. */
static enum cp_err split_list(const char *v, char ***out, size_t *count)
{
	size_t n = 1, k = 0;
	char **list;
	const char *p = v;

	for (const char *q = v; *q; q++)
		n += *q == ',';
	if (n > 1000)
		return CP_ETOOBIG;
	list = cp_calloc(n, sizeof(*list));
	if (!list)
		return CP_ENOMEM;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && *p == ' ') {
			p++;
			len--;
		}
		while (len && p[len - 1] == ' ')
			len--;
		if (len) {
			list[k] = cp_strndup(p, len);
			if (!list[k]) {
				for (size_t i = 0; i < k; i++)
					cp_free(list[i]);
				cp_free(list);
				return CP_ENOMEM;
			}
			k++;
		}
		if (!end)
			break;
		p = end + 1;
	}
	*out = list;
	*count = k;
	return CP_OK;
}

enum {
	F_ADDED_AFTER = 1 << 0,
	F_LIMIT = 1 << 1,
	F_NEXT = 1 << 2,
	F_ID = 1 << 3,
	F_TYPE = 1 << 4,
	F_VERSION = 1 << 5,
	F_SPEC_VERSION = 1 << 6,
	F_ALL = 0x7f,
};

/* Parse the query of a request into fl; allowed says which filters the endpoint takes. */
static bool parse_filters(const struct cp_taxii_request *req, unsigned allowed, size_t page_size,
			  struct filters *fl, struct cp_taxii_response *resp)
{
	memset(fl, 0, sizeof(*fl));
	for (size_t i = 0; i < req->param_count; i++) {
		const char *k = req->params[i].key, *v = req->params[i].value ? req->params[i].value : "";
		unsigned which;
		int list = -1;
		enum cp_err err;

		if (strcmp(k, "added_after") == 0)
			which = F_ADDED_AFTER;
		else if (strcmp(k, "limit") == 0)
			which = F_LIMIT;
		else if (strcmp(k, "next") == 0)
			which = F_NEXT;
		else if (strcmp(k, "match[id]") == 0)
			which = F_ID, list = 0;
		else if (strcmp(k, "match[type]") == 0)
			which = F_TYPE, list = 1;
		else if (strcmp(k, "match[spec_version]") == 0)
			which = F_SPEC_VERSION, list = 2;
		else if (strcmp(k, "match[version]") == 0)
			which = F_VERSION, list = 3;
		else if (strncmp(k, "match[", 6) == 0) {
			errorf(resp, 400, "Unsupported filter", "'%s' is not a TAXII 2.1 filter", k);
			return false;
		} else {
			continue; /* unknown parameters are ignored */
		}
		if (!(allowed & which)) {
			errorf(resp, 400, "Unsupported filter", "this endpoint does not take '%s'", k);
			return false;
		}
		if (which == F_ADDED_AFTER) {
			const char *why = NULL;
			if (cp_time_parse(v, strlen(v), &fl->f.added_after, &why)) {
				errorf(resp, 400, "Invalid added_after",
				       "'%.64s' is not a timestamp: %s", v, why);
				return false;
			}
			fl->f.has_added_after = true;
		} else if (which == F_LIMIT) {
			char *end = NULL;
			long long n;
			errno = 0;
			n = strtoll(v, &end, 10);
			if (!*v || *end || errno || n <= 0) {
				errorf(resp, 400, "Invalid limit",
				       "limit must be a positive integer, not '%.32s'", v);
				return false;
			}
			fl->f.limit = (size_t)n > page_size ? page_size : (size_t)n;
			fl->has_limit = true;
		} else if (which == F_NEXT) {
			fl->f.next = v;
		} else {
			char **items;
			size_t n;
			if (fl->lists[list]) {
				errorf(resp, 400, "Repeated filter", "'%s' is given twice", k);
				return false;
			}
			err = split_list(v, &items, &n);
			if (err) {
				cp_taxii_error(resp, err == CP_ETOOBIG ? 400 : 500,
					       err == CP_ETOOBIG ? "Too many values"
								 : "Internal error",
					       err == CP_ETOOBIG ? "at most 1000 values per filter"
								 : "out of memory");
				return false;
			}
			fl->lists[list] = items;
			fl->counts[list] = n;
		}
	}
	if (!fl->has_limit)
		fl->f.limit = page_size;
	fl->f.ids = (const char *const *)fl->lists[0];
	fl->f.id_count = fl->counts[0];
	fl->f.types = (const char *const *)fl->lists[1];
	fl->f.type_count = fl->counts[1];
	fl->f.spec_versions = (const char *const *)fl->lists[2];
	fl->f.spec_version_count = fl->counts[2];
	if (fl->counts[3]) {
		fl->times = cp_calloc(fl->counts[3], sizeof(*fl->times));
		if (!fl->times) {
			cp_taxii_error(resp, 500, "Internal error", "out of memory");
			return false;
		}
		for (size_t i = 0; i < fl->counts[3]; i++) {
			const char *v = fl->lists[3][i];
			const char *why = NULL;
			if (strcmp(v, "last") == 0)
				fl->f.versions |= CP_STORE_VERSION_LAST;
			else if (strcmp(v, "first") == 0)
				fl->f.versions |= CP_STORE_VERSION_FIRST;
			else if (strcmp(v, "all") == 0)
				fl->f.versions |= CP_STORE_VERSION_ALL;
			else if (cp_time_parse(v, strlen(v), &fl->times[fl->f.version_time_count],
					       &why) == CP_OK)
				fl->f.version_time_count++;
			else {
				errorf(resp, 400, "Invalid match[version]",
				       "'%.64s' is not first, last, all or a timestamp", v);
				return false;
			}
		}
		fl->f.version_times = fl->times;
	}
	return true;
}

/* ------------------------------------------------------------ handlers */

struct ctx {
	struct cp_taxii_server *srv;
	const struct cp_taxii_request *req;
	struct cp_taxii_response *resp;
	const struct cp_config_api_root *root;
	struct cp_store *store;
	struct cp_store_collection coll;
	bool has_coll;
};

static void discovery(struct ctx *c)
{
	const struct cp_config *cfg = c->srv->cfg;
	struct cp_buf b = CP_BUF_INIT(0);

	cp_buf_puts(&b, "{\"title\":");
	json_str(&b, cfg->title ? cfg->title : "cyberpact node");
	cp_buf_puts(&b, ",\"description\":\"STIX 2.1 threat intelligence shared among partners\"");
	if (cfg->api_root_count) {
		cp_buf_printf(&b, ",\"default\":\"/%s/\"", cfg->api_roots[0].name);
		cp_buf_puts(&b, ",\"api_roots\":[");
		for (size_t i = 0; i < cfg->api_root_count; i++)
			cp_buf_printf(&b, "%s\"/%s/\"", i ? "," : "", cfg->api_roots[i].name);
		cp_buf_putc(&b, ']');
	}
	cp_buf_putc(&b, '}');
	set_body(c->resp, 200, &b);
}

static void api_root(struct ctx *c)
{
	struct cp_buf b = CP_BUF_INIT(0);

	cp_buf_puts(&b, "{\"title\":");
	json_str(&b, c->root->title ? c->root->title : c->root->name);
	if (c->root->description) {
		cp_buf_puts(&b, ",\"description\":");
		json_str(&b, c->root->description);
	}
	cp_buf_printf(&b, ",\"versions\":[\"%s\"],\"max_content_length\":%zu}", CP_TAXII_MEDIA_TYPE,
		      c->srv->cfg->max_content_length);
	set_body(c->resp, 200, &b);
}

/*
 * May whoever asks read (write) the collection? A local account by its configuration,
 * a partner by its agreement (the policy hook); nobody else.
 */
static bool can(const struct ctx *c, const struct cp_store_collection *sc, bool write)
{
	const struct cp_taxii_request *req = c->req;
	const struct cp_taxii_policy *pol = c->srv->policy;

	if (req->account)
		return cp_taxii_account_can(req->account, sc->id, sc->alias, write);
	if (req->partner && pol && pol->can)
		return pol->can(req->policy_ctx, req->partner, sc->id, write);
	return false;
}

static const char *who(const struct ctx *c)
{
	return c->req->account ? c->req->account->name : c->req->partner;
}

/*
 * One audit record about this request. Partners' requests are audited (what they
 * were given, what was withheld, what they wrote, what was refused); local accounts
 * only when refused.
 */
static enum cp_err audit(struct ctx *c, enum cp_audit_kind kind, const char *action,
			 const char *object, const char *version, const char *reason,
			 const char *detail, bool wait)
{
	struct cp_audit_record r;

	if (!c->srv->audit)
		return CP_OK;
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.partner = who(c);
	r.action = action;
	r.collection = c->has_coll ? c->coll.id : NULL;
	r.object = object;
	r.version = version;
	r.reason = reason;
	r.detail = detail;
	r.request_id = c->req->request_id;
	return cp_audit_append(c->srv->audit, &r, 1, wait);
}

/* Refusals are audited for everyone; the answer does not depend on the audit. */
static void audit_deny(struct ctx *c, const char *reason, const char *detail)
{
	char action[96];

	snprintf(action, sizeof(action), "%s %.80s", c->req->method, c->req->path);
	if (audit(c, CP_AUDIT_DENY, action, NULL, NULL, reason, detail, false))
		CP_LOG_ERR("taxii", "req=%s: audit record lost (deny %s)",
			   c->req->request_id ? c->req->request_id : "-", reason);
}

static void collection_json(struct ctx *c, struct cp_buf *b, const struct cp_store_collection *sc)
{
	cp_buf_puts(b, "{\"id\":");
	json_str(b, sc->id);
	cp_buf_puts(b, ",\"title\":");
	json_str(b, sc->title);
	if (sc->description) {
		cp_buf_puts(b, ",\"description\":");
		json_str(b, sc->description);
	}
	if (sc->alias) {
		cp_buf_puts(b, ",\"alias\":");
		json_str(b, sc->alias);
	}
	cp_buf_printf(b, ",\"can_read\":%s,\"can_write\":%s,\"media_types\":[\"%s\"]}",
		      can(c, sc, false) ? "true" : "false", can(c, sc, true) ? "true" : "false",
		      CP_STIX_MEDIA_TYPE);
}

static bool visible(struct ctx *c, const struct cp_store_collection *sc)
{
	return can(c, sc, false) || can(c, sc, true);
}

static void collections(struct ctx *c)
{
	struct cp_store_collection *list = NULL;
	size_t n = 0, shown = 0;
	struct cp_buf b = CP_BUF_INIT(0);
	enum cp_err err;

	err = cp_store_collection_list(c->store, c->root->name, &list, &n);
	if (err) {
		store_error(c->resp, err, c->store);
		return;
	}
	cp_buf_puts(&b, "{\"collections\":[");
	for (size_t i = 0; i < n; i++) {
		if (!visible(c, &list[i]))
			continue;
		if (shown++)
			cp_buf_putc(&b, ',');
		collection_json(c, &b, &list[i]);
	}
	cp_buf_puts(&b, "]}");
	if (shown == 0) {
		/* an empty resource omits the list (TAXII 2.1 5.1) */
		cp_buf_reset(&b);
		cp_buf_puts(&b, "{}");
	}
	cp_store_collection_list_free(list, n);
	set_body(c->resp, 200, &b);
}

static void collection(struct ctx *c)
{
	struct cp_buf b = CP_BUF_INIT(0);
	collection_json(c, &b, &c->coll);
	set_body(c->resp, 200, &b);
}

/* Row delivery for the listing endpoints. */
enum listing { L_OBJECTS, L_MANIFEST, L_VERSIONS };

static const char *const listing_action[] = {
	[L_OBJECTS] = "GET objects",
	[L_MANIFEST] = "GET manifest",
	[L_VERSIONS] = "GET versions",
};

struct page_ctx {
	struct ctx *c;
	struct cp_buf *b;
	enum listing kind;
	size_t want;  /* the page size */
	size_t shown; /* rows released into the page */
	bool more;    /* a releasable row exists after the page */
	struct cp_time first_added, last_added; /* of the released rows */
	/* for the audit trail of partner requests: [["id","version"],...] released,
	 * [["id","version","reason"],...] withheld */
	bool audited;
	struct cp_buf released, withheld;
	size_t n_withheld;
	enum cp_err failed; /* a rewrite or buffer failure inside the callback */
};

/* Says "stop the scan" to cp_store_query(); not an error. */
#define PAGE_FULL CP_ECONFLICT

static void audit_pair(struct cp_buf *b, const struct cp_store_row *row, const char *reason)
{
	cp_buf_putc(b, b->len ? ',' : '[');
	cp_buf_putc(b, '[');
	json_str(b, row->id);
	cp_buf_putc(b, ',');
	json_str(b, row->version);
	if (reason) {
		cp_buf_putc(b, ',');
		json_str(b, reason);
	}
	cp_buf_putc(b, ']');
}

static enum cp_err on_row(const struct cp_store_row *row, void *arg)
{
	struct page_ctx *pc = arg;
	struct ctx *c = pc->c;
	const struct cp_taxii_policy *pol = c->srv->policy;
	char added[CP_TIME_TEXT_MAX];
	char *rewritten = NULL;

	/* a partner receives a version only if the gate says so; withheld versions are
	 * skipped without a trace in the answer */
	if (c->req->partner) {
		/* the reason (and its text) only for what is withheld and audited */
		if (!pol || !pol->release ||
		    !pol->release(c->req->policy_ctx, c->req->partner, c->coll.id, row, NULL)) {
			if (pc->shown < pc->want && pc->audited) {
				struct cp_policy_reason why;
				memset(&why, 0, sizeof(why));
				if (pol && pol->release)
					pol->release(c->req->policy_ctx, c->req->partner,
						     c->coll.id, row, &why);
				audit_pair(&pc->withheld, row, cp_policy_reason_name(why.code));
				pc->n_withheld++;
			}
			return CP_OK;
		}
	}
	if (pc->shown == pc->want) {
		pc->more = true;
		return PAGE_FULL;
	}
	if (pc->audited)
		audit_pair(&pc->released, row, NULL);
	if (pc->shown++ == 0)
		pc->first_added = row->date_added;
	else
		cp_buf_putc(pc->b, ',');
	pc->last_added = row->date_added;
	switch (pc->kind) {
	case L_OBJECTS:
		if (c->req->partner && pol && pol->rewrite)
			rewritten = pol->rewrite(c->req->policy_ctx, c->req->partner, row);
		if (rewritten)
			cp_buf_puts(pc->b, rewritten);
		else
			cp_buf_append(pc->b, row->json, row->json_len);
		cp_free(rewritten);
		break;
	case L_VERSIONS:
		json_str(pc->b, row->version);
		break;
	case L_MANIFEST:
		cp_time_format_digits(&row->date_added, 6, added);
		cp_buf_puts(pc->b, "{\"id\":");
		json_str(pc->b, row->id);
		cp_buf_printf(pc->b, ",\"date_added\":\"%s\",\"version\":", added);
		json_str(pc->b, row->version);
		cp_buf_printf(pc->b, ",\"media_type\":\"%s;version=%s\"}",
			      "application/stix+json", row->spec_version);
		break;
	}
	if ((pc->failed = cp_buf_finish(pc->b)))
		return pc->failed;
	return CP_OK;
}

/* The audit records of a page given to a partner: what it got, what it did not. */
static enum cp_err audit_page(struct ctx *c, struct page_ctx *pc, const char *object_id)
{
	char reason[32];
	enum cp_err err = CP_OK;

	snprintf(reason, sizeof(reason), "ok");
	if (pc->shown) {
		cp_buf_putc(&pc->released, ']');
		if ((err = cp_buf_finish(&pc->released)))
			return err;
		err = audit(c, CP_AUDIT_RELEASE, listing_action[pc->kind], object_id, NULL, reason,
			    pc->released.ptr, true);
	}
	if (!err && pc->n_withheld) {
		cp_buf_putc(&pc->withheld, ']');
		if ((err = cp_buf_finish(&pc->withheld)))
			return err;
		err = audit(c, CP_AUDIT_WITHHOLD, listing_action[pc->kind], object_id, NULL,
			    "withheld", pc->withheld.ptr, true);
	}
	return err;
}

/*
 * The listing endpoints. The store is read in chunks until the page holds `limit`
 * released versions and one more releasable version has been seen (then `more` is
 * true and `next` points after the page's last released version), or the rows run
 * out. For a partner who may see little of a large collection this reads further
 * than one page: the price of not revealing withheld objects through `more`, counts
 * or empty pages.
 */
static void listing(struct ctx *c, enum listing kind, const char *object_id)
{
	static const unsigned allowed[] = {
		[L_OBJECTS] = F_ALL,
		[L_MANIFEST] = F_ALL,
		[L_VERSIONS] = F_ADDED_AFTER | F_LIMIT | F_NEXT | F_SPEC_VERSION,
	};
	unsigned allow = allowed[kind];
	struct filters fl;
	struct cp_buf b = CP_BUF_INIT(c->srv->cfg->max_content_length * 4 + (1u << 20));
	struct page_ctx pc;
	struct cp_store_page page;
	const char *one[1] = {object_id};
	char next[CP_STORE_NEXT_MAX];
	enum cp_err err;
	bool filtered_by_position;

	memset(&pc, 0, sizeof(pc));
	pc.c = c;
	pc.b = &b;
	pc.kind = kind;
	pc.audited = c->req->partner && c->srv->audit;
	pc.released = (struct cp_buf)CP_BUF_INIT(CP_AUDIT_DETAIL_MAX / 2);
	pc.withheld = (struct cp_buf)CP_BUF_INIT(CP_AUDIT_DETAIL_MAX / 2);
	if (object_id && kind == L_OBJECTS)
		allow = F_ADDED_AFTER | F_LIMIT | F_NEXT | F_VERSION | F_SPEC_VERSION;
	if (!parse_filters(c->req, allow, c->srv->cfg->page_size, &fl, c->resp))
		goto out;
	filtered_by_position = fl.f.has_added_after || fl.f.next;
	fl.f.collection_id = c->coll.id;
	if (object_id) {
		fl.f.ids = one;
		fl.f.id_count = 1;
	}
	if (kind == L_VERSIONS) {
		fl.f.versions = CP_STORE_VERSION_ALL;
		fl.f.version_time_count = 0;
	}
	/* a local account's objects page forwards the stored texts and reads nothing
	 * else of a row (partners' pages need the gate's facts, manifests the ids) */
	fl.f.texts_only = kind == L_OBJECTS && !c->req->partner;
	pc.want = fl.f.limit;
	/* one row more than the page tells whether another page exists */
	fl.f.limit = pc.want + 1 > CP_STORE_MAX_PAGE ? CP_STORE_MAX_PAGE : pc.want + 1;
	/* a page of objects is about a kilobyte per object: room for it at once, rather
	 * than doubling and copying it a dozen times (2% of a page's CPU) */
	if (kind == L_OBJECTS)
		cp_buf_reserve(&b, pc.want * 1024);
	cp_buf_puts(&b, kind == L_VERSIONS ? "{\"versions\":[" : "{\"objects\":[");
	for (;;) {
		err = cp_store_query(c->store, &fl.f, on_row, &pc, &page);
		if (err == PAGE_FULL && pc.more) {
			err = CP_OK;
			break;
		}
		if (err || !page.more)
			break;
		memcpy(next, page.next, sizeof(next));
		fl.f.next = next;
	}
	if (err == CP_EINVAL) {
		cp_taxii_error(c->resp, 400, "Invalid next", "the next token is not valid here");
		goto out;
	}
	if (err == CP_ETOOBIG && !pc.failed) {
		cp_taxii_error(c->resp, 400, "Too many values", "at most 1000 values per filter");
		goto out;
	}
	if (err) {
		if (pc.failed == CP_ETOOBIG)
			cp_taxii_error(c->resp, 500, "Response too large",
				       "ask for fewer objects with limit");
		else if (pc.failed)
			cp_taxii_error(c->resp, 500, "Internal error", "out of memory");
		else
			store_error(c->resp, err, c->store);
		goto out;
	}
	if (pc.audited && (err = audit_page(c, &pc, object_id))) {
		/* nothing leaves that the trail has not recorded */
		CP_LOG_ERR("taxii", "req=%s: audit failed: %s", c->req->request_id,
			   cp_err_name(err));
		cp_taxii_error(c->resp, 503, "Service unavailable",
			       "the audit trail cannot be written; retry later");
		goto out;
	}
	/* an object the account may not receive does not exist for it */
	if (object_id && pc.shown == 0 && !filtered_by_position) {
		errorf(c->resp, 404, "Object not found",
		       "no version of '%.100s' in this collection matches", object_id);
		goto out;
	}
	cp_buf_puts(&b, "]");
	if (pc.shown == 0) {
		/* TAXII envelopes omit empty lists */
		cp_buf_reset(&b);
		cp_buf_puts(&b, "{");
	} else {
		cp_buf_putc(&b, ',');
	}
	cp_buf_printf(&b, "\"more\":%s", pc.more ? "true" : "false");
	if (pc.more) {
		cp_store_next_token(&pc.last_added, next);
		cp_buf_printf(&b, ",\"next\":\"%s\"", next);
	}
	cp_buf_putc(&b, '}');
	if (pc.shown) {
		cp_time_format_digits(&pc.first_added, 6, c->resp->date_added_first);
		cp_time_format_digits(&pc.last_added, 6, c->resp->date_added_last);
	}
	set_body(c->resp, 200, &b);
out:
	filters_release(&fl);
	cp_buf_release(&b);
	cp_buf_release(&pc.released);
	cp_buf_release(&pc.withheld);
}

static void delete_object(struct ctx *c, const char *object_id)
{
	struct filters fl;
	size_t deleted = 0;
	enum cp_err err;

	if (!parse_filters(c->req, F_VERSION | F_SPEC_VERSION, c->srv->cfg->page_size, &fl,
			   c->resp))
		goto out;
	fl.f.collection_id = c->coll.id;
	err = cp_store_delete(c->store, &fl.f, object_id, &deleted);
	if (err) {
		store_error(c->resp, err, c->store);
		goto out;
	}
	if (deleted == 0) {
		errorf(c->resp, 404, "Object not found",
		       "no version of '%.100s' in this collection matches", object_id);
		goto out;
	}
	{
		struct cp_buf b = CP_BUF_INIT(0);
		cp_buf_puts(&b, "{}");
		set_body(c->resp, 200, &b);
	}
out:
	filters_release(&fl);
}

/* A status resource for a POST, as JSON text. */
struct status {
	struct cp_buf ok, bad;
	size_t n_ok, n_bad;
};

static void status_entry(struct cp_buf *b, size_t *n, const char *id, const char *version,
			 const char *message)
{
	if ((*n)++)
		cp_buf_putc(b, ',');
	cp_buf_puts(b, "{\"id\":");
	json_str(b, id ? id : "");
	if (version) {
		cp_buf_puts(b, ",\"version\":");
		json_str(b, version);
	}
	if (message) {
		cp_buf_puts(b, ",\"message\":");
		json_str(b, message);
	}
	cp_buf_putc(b, '}');
}

static const char *obj_version(const json_t *o)
{
	const json_t *m = json_object_get(o, "modified");
	if (!json_is_string(m))
		m = json_object_get(o, "created");
	return json_is_string(m) ? json_string_value(m) : NULL;
}

/*
 * Group commit. A POST parses and validates its envelope in its own thread, then
 * queues its write (a job) and waits. Whichever waiting thread finds no group being
 * committed becomes the leader: it takes every queued job (up to GROUP_MAX_OBJECTS),
 * stores them, with their status resources, in one transaction on its own store
 * connection, commits once and wakes their threads. Under concurrent POSTs one
 * commit (WAL frames, fdatasync, checkpoint) serves several envelopes; a lone POST
 * is a group of one and costs what it did before.
 *
 * Each job's answer is exactly what it would be alone: a job sees the jobs before it
 * in its group as it would see them committed just before it, and if anything in a
 * group fails, the group is rolled back and every job runs again in a transaction
 * of its own, so one job's failure is its own.
 */
#define GROUP_MAX_OBJECTS 20000

struct write_job {
	struct write_job *next;
	/* in */
	const char *coll, *root, *owner;
	const char *partner;
	struct cp_stix_object **valid;
	const char **texts;
	const struct cp_store_marks *marks;
	size_t nvalid;
	/* out, rebuilt if the job runs again */
	struct status *st;
	size_t bad_len, n_bad;   /* st->bad as the thread left it (invalid objects) */
	struct cp_store_add_result *res;
	struct cp_buf out;       /* the status resource */
	char id[CP_STIX_ID_MAX]; /* status--UUID */
	enum cp_err err;
	char errmsg[256];
	bool done;
};

/* Store one job's objects and its status resource (inside a transaction). */
static enum cp_err job_write(struct cp_store *s, struct write_job *j)
{
	struct status *st = j->st;
	char ts[CP_TIME_TEXT_MAX];
	struct cp_time now = cp_time_now();
	size_t total;
	enum cp_err err;

	st->bad.len = j->bad_len;
	st->n_bad = j->n_bad;
	st->ok.len = 0;
	st->n_ok = 0;
	j->out.len = 0;
	if (j->nvalid &&
	    (err = cp_store_add_texts(s, j->coll, j->valid, j->texts, j->marks, j->nvalid,
				      j->partner, j->res)))
		return err;
	for (size_t i = 0; i < j->nvalid; i++) {
		const char *ver = obj_version(cp_stix_object_json(j->valid[i]));
		char added[CP_TIME_TEXT_MAX];
		if (!ver) {
			cp_time_format_digits(&j->res[i].date_added, 6, added);
			ver = added;
		}
		if (j->res[i].outcome == CP_STORE_CONFLICT)
			status_entry(&st->bad, &st->n_bad, cp_stix_object_id(j->valid[i]), ver,
				     "a different object with this id and version is already "
				     "stored");
		else
			status_entry(&st->ok, &st->n_ok, cp_stix_object_id(j->valid[i]), ver,
				     j->res[i].outcome == CP_STORE_EXISTING ? "already stored"
									    : NULL);
	}
	total = st->n_ok + st->n_bad;
	cp_time_format_digits(&now, 6, ts);
	cp_buf_printf(&j->out,
		      "{\"id\":\"%s\",\"status\":\"complete\",\"request_timestamp\":\"%s\","
		      "\"total_count\":%zu,\"success_count\":%zu,\"failure_count\":%zu,"
		      "\"pending_count\":0",
		      j->id + 8, ts, total, st->n_ok, st->n_bad);
	if (st->n_ok) {
		cp_buf_puts(&j->out, ",\"successes\":[");
		cp_buf_append(&j->out, st->ok.ptr, st->ok.len);
		cp_buf_putc(&j->out, ']');
	}
	if (st->n_bad) {
		cp_buf_puts(&j->out, ",\"failures\":[");
		cp_buf_append(&j->out, st->bad.ptr, st->bad.len);
		cp_buf_putc(&j->out, ']');
	}
	cp_buf_putc(&j->out, '}');
	if (cp_buf_finish(&j->out) || cp_buf_finish(&st->ok) || cp_buf_finish(&st->bad))
		return CP_ENOMEM;
	return cp_store_status_put(s, j->root, j->id + 8, j->owner, j->out.ptr);
}

static void job_fail(struct write_job *j, enum cp_err err, struct cp_store *s)
{
	j->err = err;
	snprintf(j->errmsg, sizeof(j->errmsg), "%s", cp_store_errmsg(s));
}

/* One transaction for jobs..end (exclusive); CP_OK when all of them committed. */
static enum cp_err group_write(struct cp_store *s, struct write_job *jobs,
			       struct write_job *end, struct write_job **failed)
{
	enum cp_err err = cp_store_begin(s);

	*failed = NULL;
	if (err)
		return err;
	for (struct write_job *j = jobs; j != end; j = j->next)
		if ((err = job_write(s, j))) {
			*failed = j;
			cp_store_rollback(s);
			return err;
		}
	return cp_store_commit(s);
}

/* Store a group of jobs; returns the number of transactions it took. */
static unsigned long run_group(struct cp_store *s, struct write_job *jobs)
{
	struct write_job *failed;
	enum cp_err err = group_write(s, jobs, NULL, &failed);
	unsigned long n = 0;

	if (!err) {
		for (struct write_job *j = jobs; j; j = j->next)
			j->err = CP_OK;
		return 1;
	}
	if (!jobs->next) {
		job_fail(jobs, err, s);
		return 1;
	}
	/* rolled back, or the commit failed: each job again, alone */
	for (struct write_job *j = jobs; j; j = j->next, n++)
		if ((j->err = group_write(s, j, j->next, &failed)))
			job_fail(j, j->err, s);
	return n;
}

/* Queue a job and return when it has been committed or has failed (j->err). */
static void group_submit(struct cp_taxii_server *srv, struct cp_store *s, struct write_job *j)
{
	pthread_mutex_lock(&srv->group_lock);
	*srv->queue_tail = j;
	srv->queue_tail = &j->next;
	srv->stats.waiting++;
	while (!j->done) {
		struct write_job *group, **tail;
		size_t objects = 0, n = 0;
		unsigned long commits;

		if (srv->group_busy) {
			pthread_cond_wait(&srv->group_done, &srv->group_lock);
			continue;
		}
		/* lead: take queued jobs up to the size limit (always at least one) */
		group = srv->queue;
		tail = &srv->queue;
		while (*tail && (!n || objects + (*tail)->nvalid <= GROUP_MAX_OBJECTS)) {
			objects += (*tail)->nvalid;
			n++;
			tail = &(*tail)->next;
		}
		srv->queue = *tail;
		if (!srv->queue)
			srv->queue_tail = &srv->queue;
		*tail = NULL;
		srv->group_busy = true;
		pthread_mutex_unlock(&srv->group_lock);

		commits = run_group(s, group);

		pthread_mutex_lock(&srv->group_lock);
		srv->stats.commits += commits;
		srv->stats.posts += n;
		srv->stats.waiting -= n;
		for (struct write_job *g = group; g; g = g->next)
			g->done = true;
		srv->group_busy = false;
		pthread_cond_broadcast(&srv->group_done);
	}
	pthread_mutex_unlock(&srv->group_lock);
}

/* One object of a POST, validated (check_objects) before the status is written in order. */
struct checked {
	struct cp_stix_object *so; /* valid, or */
	char *msg;                 /* why not (the status failure's message), or */
	bool nomem;                /* out of memory */
	struct cp_store_marks marks;
};

struct check_range {
	const json_t *objs;
	struct checked *out;
	size_t from, to;
};

static void check_range(struct check_range *r)
{
	struct cp_diag d;

	cp_diag_init(&d);
	for (size_t i = r->from; i < r->to; i++) {
		json_t *o = json_array_get(r->objs, i);
		struct checked *out = &r->out[i];
		const struct cp_finding *f = NULL;
		char msg[600];
		enum cp_err err;

		cp_diag_clear(&d);
		err = cp_stix_object_new(o, 0, &d, &out->so);
		if (err == CP_OK) {
			cp_taxii_marks_of(o, &out->marks);
			continue;
		}
		if (err == CP_ENOMEM) {
			out->nomem = true;
			continue;
		}
		/* the first error names what is wrong, with its JSON pointer */
		for (size_t k = 0; k < d.count && !f; k++)
			if (d.items[k].severity == CP_SEV_ERROR)
				f = &d.items[k];
		if (f)
			snprintf(msg, sizeof(msg), "%s: [%s] %s%s", f->pointer[0] ? f->pointer : "/",
				 f->code, f->message, d.errors > 1 ? " (and more errors)" : "");
		else
			snprintf(msg, sizeof(msg), "%s",
				 json_is_object(o) ? "not a valid STIX 2.1 object" : "not a JSON object");
		out->msg = cp_strdup(msg);
		out->nomem = !out->msg;
	}
	cp_diag_release(&d);
}

static void *check_thread(void *arg)
{
	check_range(arg);
	return NULL;
}

/*
 * Validate the objects of an envelope into out[]. A large envelope that is the only
 * POST being handled, with no write going on, gets a second thread for its second
 * half: with one client posting, the other CPU would sit idle while one validates
 * (with several, every CPU is busy anyway and the thread would only add switches).
 * One client, envelopes of 1000: 37,000-43,000 -> 48,000-49,000 objects/s.
 */
#define CHECK_SPLIT_MIN 256

static void check_objects(struct cp_taxii_server *srv, const json_t *objs, size_t n,
			  struct checked *out)
{
	struct check_range all = {objs, out, 0, n}, second;
	pthread_t helper;
	bool split = false;

	if (n >= CHECK_SPLIT_MIN && srv->two_cpus && atomic_load(&srv->posts) == 1) {
		/* and nothing is being written: a group being committed is the work of
		 * clients whose next POSTs are about to arrive */
		pthread_mutex_lock(&srv->group_lock);
		split = !srv->group_busy && !srv->queue;
		pthread_mutex_unlock(&srv->group_lock);
	}
	if (split) {
		second = (struct check_range){objs, out, n / 2, n};
		split = pthread_create(&helper, NULL, check_thread, &second) == 0;
	}
	if (split) {
		all.to = n / 2;
		pthread_mutex_lock(&srv->group_lock);
		srv->stats.split++;
		pthread_mutex_unlock(&srv->group_lock);
	}
	check_range(&all);
	if (split)
		pthread_join(helper, NULL);
}

static void post_objects(struct ctx *c)
{
	const struct cp_taxii_request *req = c->req;
	struct cp_diag d;
	json_t *env = NULL;
	const json_t *objs;
	struct cp_stix_object **valid = NULL;
	const char **valid_texts = NULL;
	struct cp_store_marks *marks = NULL;
	struct cp_stix_json_texts texts = {NULL, NULL, 0};
	bool have_texts = false;
	struct cp_store_add_result *res = NULL;
	struct checked *checked = NULL;
	size_t n = 0, nvalid = 0;
	struct status st = {CP_BUF_INIT(0), CP_BUF_INIT(0), 0, 0};
	struct write_job job = {.out = CP_BUF_INIT(0)};
	enum cp_err err;
	/* the envelope's tree lives in this thread's jansson arena until the end */
	bool arena = cp_json_arena_begin();

	atomic_fetch_add(&c->srv->posts, 1);

	cp_diag_init(&d);
	if (!content_type_ok(req->content_type)) {
		errorf(c->resp, 415, "Unsupported media type",
		       "POST bodies must be sent as '%s'", CP_TAXII_MEDIA_TYPE);
		goto out;
	}
	err = cp_stix_json_parse(req->body ? req->body : "", req->body_len, &env, &d);
	if (err == CP_ENOMEM) {
		cp_taxii_error(c->resp, 500, "Internal error", "out of memory");
		goto out;
	}
	if (err) {
		const struct cp_finding *f = d.count ? &d.items[0] : NULL;
		if (f && f->line)
			errorf(c->resp, 400, "Invalid JSON", "line %u, column %u: %s", f->line,
			       f->column, f->message);
		else
			errorf(c->resp, 400, "Invalid JSON", "%s",
			       f ? f->message : "the body is not JSON");
		goto out;
	}
	objs = json_object_get(env, "objects");
	if (!json_is_object(env) || !json_is_array(objs)) {
		cp_taxii_error(c->resp, 422, "Not an envelope",
			       "the body must be a TAXII envelope: {\"objects\": [...]}");
		goto out;
	}
	n = json_array_size(objs);
	if (n > CP_LIMIT_BUNDLE_OBJECTS) {
		errorf(c->resp, 413, "Too many objects", "at most %u objects per request",
		       CP_LIMIT_BUNDLE_OBJECTS);
		goto out;
	}
	/* the objects' texts as sent, to store without serialising them again; if that
	 * fails for any reason the store serialises the parsed objects instead */
	err = cp_stix_json_member_texts(req->body, req->body_len, "objects", &texts);
	if (err == CP_ENOMEM) {
		cp_taxii_error(c->resp, 500, "Internal error", "out of memory");
		goto out;
	}
	have_texts = err == CP_OK && texts.count == n;
	if (err == CP_OK && !have_texts)
		CP_LOG_ERR("taxii", "req=%s: %zu object texts for %zu objects; serialising instead",
			   req->request_id ? req->request_id : "-", texts.count, n);
	valid = cp_calloc(n ? n : 1, sizeof(*valid));
	valid_texts = cp_calloc(n ? n : 1, sizeof(*valid_texts));
	marks = cp_calloc(n ? n : 1, sizeof(*marks));
	res = cp_calloc(n ? n : 1, sizeof(*res));
	checked = cp_calloc(n ? n : 1, sizeof(*checked));
	if (!valid || !valid_texts || !marks || !res || !checked) {
		cp_taxii_error(c->resp, 500, "Internal error", "out of memory");
		goto out;
	}
	check_objects(c->srv, objs, n, checked);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(objs, i);
		const json_t *oid = json_object_get(o, "id");
		if (checked[i].nomem) {
			cp_taxii_error(c->resp, 500, "Internal error", "out of memory");
			goto out;
		}
		if (checked[i].msg) {
			status_entry(&st.bad, &st.n_bad, json_is_string(oid) ? json_string_value(oid) : "",
				     json_is_object(o) ? obj_version(o) : NULL, checked[i].msg);
			continue;
		}
		valid_texts[nvalid] = have_texts ? cp_stix_json_text(&texts, i) : NULL;
		marks[nvalid] = checked[i].marks;
		valid[nvalid++] = checked[i].so;
		checked[i].so = NULL;
	}
	/* the objects and their status resource are one transaction: a status that says
	 * success exists exactly when the objects are committed (group commit above) */
	if (cp_stix_id_new("status", job.id) != CP_OK) {
		cp_taxii_error(c->resp, 500, "Internal error", "no randomness for a status id");
		goto out;
	}
	job.coll = c->coll.id;
	job.root = c->root->name;
	job.owner = who(c);
	job.partner = c->req->partner;
	job.valid = valid;
	job.texts = valid_texts;
	job.marks = marks;
	job.nvalid = nvalid;
	job.st = &st;
	job.bad_len = st.bad.len;
	job.n_bad = st.n_bad;
	job.res = res;
	group_submit(c->srv, c->store, &job);
	if (job.err) {
		CP_LOG_ERR("taxii", "req=%s: store failure: %s: %s",
			   req->request_id ? req->request_id : "-", cp_err_name(job.err),
			   job.errmsg);
		if (job.err == CP_ETIMEOUT)
			cp_taxii_error(c->resp, 503, "Service unavailable",
				       "the store is busy; retry later");
		else if (job.err == CP_ENOMEM)
			cp_taxii_error(c->resp, 500, "Internal error", "out of memory");
		else
			cp_taxii_error(c->resp, 500, "Internal error",
				       "the store failed; see the server log");
		goto out;
	}
	if (c->srv->on_write) {
		bool added = false;
		for (size_t i = 0; i < nvalid && !added; i++)
			added = res[i].outcome == CP_STORE_ADDED;
		if (added)
			c->srv->on_write(c->srv->on_write_ctx, c->coll.id);
	}
	if (c->req->partner && c->srv->audit) {
		char detail[CP_STIX_ID_MAX + 128];
		snprintf(detail, sizeof(detail),
			 "{\"status\":\"%.64s\",\"success_count\":%zu,\"failure_count\":%zu}",
			 job.id + 8, st.n_ok, st.n_bad);
		/* the partner hears "success" only once the trail holds the write */
		if (audit(c, CP_AUDIT_WRITE, "POST objects", NULL, NULL, "ok", detail, true)) {
			CP_LOG_ERR("taxii", "req=%s: audit of a stored write failed (status %s)",
				   c->req->request_id, job.id + 8);
			cp_taxii_error(c->resp, 503, "Service unavailable",
				       "the objects were stored but the audit trail cannot be "
				       "written; retry later");
			goto out;
		}
	}
	set_body(c->resp, 202, &job.out);
out:
	for (size_t i = 0; i < nvalid; i++)
		cp_stix_object_unref(valid[i]);
	for (size_t i = 0; checked && i < n; i++) {
		cp_stix_object_unref(checked[i].so);
		cp_free(checked[i].msg);
	}
	cp_free(checked);
	cp_free(valid);
	cp_free(valid_texts);
	cp_free(marks);
	cp_stix_json_texts_release(&texts);
	cp_free(res);
	/* in the arena the envelope's tree is abandoned: _end() takes it back without
	 * walking it (freeing it node by node was 7% of a POST's CPU, for nothing) */
	if (arena)
		cp_json_arena_end();
	else
		json_decref(env);
	atomic_fetch_sub(&c->srv->posts, 1);
	cp_diag_release(&d);
	cp_buf_release(&st.ok);
	cp_buf_release(&st.bad);
	cp_buf_release(&job.out);
}

static void status(struct ctx *c, const char *id)
{
	char *json = NULL, *owner = NULL;
	enum cp_err err = cp_store_status_get(c->store, c->root->name, id, &owner, &json);
	struct cp_buf b = CP_BUF_INIT(0);

	/* a status belongs to whoever made the request; to anyone else it does not
	 * exist (its ids and messages describe what that requester sent) */
	if (!err && (!owner || strcmp(owner, who(c)) != 0)) {
		cp_free(json);
		json = NULL;
		err = CP_ENOTFOUND;
		audit_deny(c, "status-not-owner", NULL);
	}
	cp_free(owner);
	if (err == CP_ENOTFOUND) {
		errorf(c->resp, 404, "Status not found", "no status resource '%.64s'", id);
		return;
	}
	if (err) {
		store_error(c->resp, err, c->store);
		return;
	}
	cp_buf_puts(&b, json);
	cp_free(json);
	set_body(c->resp, 200, &b);
}

static const char *method_allowed(enum route r)
{
	switch (r) {
	case R_OBJECTS:
		return "GET, POST";
	case R_OBJECT:
		return "GET, DELETE";
	default:
		return "GET";
	}
}

void cp_taxii_handle(struct cp_taxii_server *srv, const struct cp_taxii_request *req,
		     struct cp_taxii_response *resp)
{
	struct ctx c = {srv, req, resp, NULL, NULL, {0}, false};
	struct path p;
	enum route r;
	bool is_get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool is_post = strcmp(req->method, "POST") == 0;
	bool is_delete = strcmp(req->method, "DELETE") == 0;

	memset(resp, 0, sizeof(*resp));
	if (!req->account && !(req->partner && srv->policy)) {
		cp_taxii_error(resp, 401, "Authentication required",
			       "use HTTP Basic credentials or a client certificate");
		resp->www_authenticate = true;
		return;
	}
	if (!split_path(req->path, &p)) {
		cp_taxii_error(resp, 404, "Not found", "no such TAXII resource");
		cp_free(p.buf);
		return;
	}
	r = route_of(&p);
	if (r == R_NONE || (r != R_DISCOVERY && !(c.root = find_root(srv->cfg, p.segs[0])))) {
		/* a partner probing paths outside the TAXII tree leaves a trace */
		if (req->partner)
			audit_deny(&c, "not-found", NULL);
		cp_taxii_error(resp, 404, "Not found", "no such TAXII resource");
		goto out;
	}
	/* every TAXII URL ends with '/'; the OASIS client polls status without it */
	if (!p.trailing_slash && r != R_STATUS) {
		cp_taxii_error(resp, 404, "Not found", "TAXII 2.1 URLs end with '/'");
		goto out;
	}
	if (!(is_get || (is_post && r == R_OBJECTS) || (is_delete && r == R_OBJECT))) {
		errorf(resp, 405, "Method not allowed", "%s is not allowed here; use %s",
		       req->method, method_allowed(r));
		goto out;
	}
	if (!accept_ok(req->accept)) {
		errorf(resp, 406, "Not acceptable", "this server answers with '%s'",
		       CP_TAXII_MEDIA_TYPE);
		goto out;
	}
	if (r == R_DISCOVERY) {
		discovery(&c);
		goto out;
	}
	if (r == R_ROOT) {
		api_root(&c);
		goto out;
	}
	c.store = acquire(srv);
	if (!c.store) {
		cp_taxii_error(resp, 503, "Service unavailable", "the store cannot be opened");
		goto out;
	}
	if (r == R_STATUS) {
		status(&c, p.segs[2]);
		goto out;
	}
	if (r == R_COLLECTIONS) {
		collections(&c);
		goto out;
	}
	{
		enum cp_err err = cp_store_collection_get(c.store, c.root->name, p.segs[2], &c.coll);
		if (err == CP_ENOTFOUND) {
			if (req->partner)
				audit_deny(&c, "not-found", NULL);
			cp_taxii_error(resp, 404, "Collection not found",
				       "no such collection in this API root");
			goto out;
		}
		if (err) {
			store_error(resp, err, c.store);
			goto out;
		}
		c.has_coll = true;
	}
	/* without permission a collection does not exist for this account */
	if (!visible(&c, &c.coll)) {
		audit_deny(&c, "collection-not-visible", NULL);
		cp_store_collection_release(&c.coll);
		c.has_coll = false;
		cp_taxii_error(resp, 404, "Collection not found",
			       "no such collection in this API root");
		goto out;
	}
	if (r == R_COLLECTION) {
		collection(&c);
		goto out;
	}
	/* partners do not delete: what they want gone, their own node revokes */
	if (is_delete && req->partner) {
		audit_deny(&c, "partner-delete", NULL);
		cp_taxii_error(resp, 403, "Forbidden", "partners may not delete objects");
		goto out;
	}
	if ((is_post || is_delete) && !can(&c, &c.coll, true)) {
		audit_deny(&c, "collection-read-only", NULL);
		cp_taxii_error(resp, 403, "Forbidden", "this account may not write to this collection");
		goto out;
	}
	if (is_get && !can(&c, &c.coll, false)) {
		audit_deny(&c, "collection-write-only", NULL);
		cp_taxii_error(resp, 403, "Forbidden", "this account may not read this collection");
		goto out;
	}
	switch (r) {
	case R_OBJECTS:
		if (is_post)
			post_objects(&c);
		else
			listing(&c, L_OBJECTS, NULL);
		break;
	case R_MANIFEST:
		listing(&c, L_MANIFEST, NULL);
		break;
	case R_OBJECT:
		if (is_delete)
			delete_object(&c, p.segs[4]);
		else
			listing(&c, L_OBJECTS, p.segs[4]);
		break;
	case R_VERSIONS:
		listing(&c, L_VERSIONS, p.segs[4]);
		break;
	default:
		cp_taxii_error(resp, 404, "Not found", "no such TAXII resource");
		break;
	}
out:
	if (c.has_coll)
		cp_store_collection_release(&c.coll);
	release(srv, c.store);
	cp_free(p.buf);
}
