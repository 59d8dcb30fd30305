/*
 * Federation (include/cyberpact/sync.h, docs/SYNC.md): pull and push subscriptions
 * over the TAXII 2.1 client, with cursors kept in the store.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>

#include "cyberpact/partners.h"
#include "cyberpact/stix.h"
#include "cyberpact/store.h"
#include "cyberpact/sync.h"
#include "cyberpact/taxii-client.h"
#include "cyberpact/taxii.h"
#include "common.h"

#define DEFAULT_PAGE_LIMIT 1000
#define DEFAULT_MAX_PAGES 100000
#define MAX_BACKOFF_S 300
#define SECRET_FILE_MAX 4096

struct sub {
	const struct cp_config_peer *peer;
	const struct cp_config_subscription *cfg;
	bool push;
	const char *local_id; /* resolved, borrowed from the configuration */
	char name[256];
	time_t next_due;
	bool pending;         /* cp_sync_notify(): run at once */
	unsigned backoff;     /* consecutive failures, for the scheduler */
};

struct cp_sync {
	struct cp_sync_env env;
	struct cp_store *store;
	struct sub *subs;
	size_t sub_count;
	/* the scheduler */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
};

/* ------------------------------------------------------------- state */

static void now_text(char out[40])
{
	struct cp_time t = cp_time_now();
	char buf[CP_TIME_TEXT_MAX];

	cp_time_format_digits(&t, 6, buf);
	snprintf(out, 40, "%s", buf);
}

static void copy_str(char *dst, size_t cap, const json_t *v)
{
	snprintf(dst, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* The state of a subscription from the store ("" everywhere if it never ran). */
static enum cp_err state_load(struct cp_store *store, const char *name, struct cp_sync_state *st)
{
	char *text = NULL;
	json_t *j;
	enum cp_err err;

	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%s", name);
	err = cp_store_cursor_get(store, name, &text);
	if (err == CP_ENOTFOUND)
		return CP_OK;
	if (err)
		return err;
	j = json_loads(text, 0, NULL);
	cp_free(text);
	if (!json_is_object(j)) {
		json_decref(j);
		return CP_OK; /* unreadable state: start over (pulls are idempotent) */
	}
	copy_str(st->cursor, sizeof(st->cursor), json_object_get(j, "cursor"));
	copy_str(st->last_attempt, sizeof(st->last_attempt), json_object_get(j, "last_attempt"));
	copy_str(st->last_success, sizeof(st->last_success), json_object_get(j, "last_success"));
	copy_str(st->caught_up, sizeof(st->caught_up), json_object_get(j, "caught_up"));
	copy_str(st->last_error, sizeof(st->last_error), json_object_get(j, "last_error"));
	st->failures = (unsigned)json_integer_value(json_object_get(j, "failures"));
	st->total = (uint64_t)json_integer_value(json_object_get(j, "total"));
	json_decref(j);
	return CP_OK;
}

static enum cp_err state_save(struct cp_store *store, const struct cp_sync_state *st)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "cursor", st->cursor,
			      "last_attempt", st->last_attempt, "last_success", st->last_success,
			      "caught_up", st->caught_up, "last_error", st->last_error, "failures",
			      (json_int_t)st->failures, "total", (json_int_t)st->total);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	enum cp_err err = text ? cp_store_cursor_put(store, st->name, text) : CP_ENOMEM;

	cp_free(text);
	json_decref(j);
	return err;
}

/* ------------------------------------------------------------- peers */

static char *path_in(const struct cp_config *cfg, const char *file)
{
	size_t n;
	char *p;

	if (!file)
		return NULL;
	if (file[0] == '/')
		return cp_strdup(file);
	n = strlen(cfg->data_dir) + strlen(file) + 2;
	p = cp_malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", cfg->data_dir, file);
	return p;
}

/* A secret from a file: its first line, without surrounding white space. */
static enum cp_err read_secret(const char *path, char **out, char *why, size_t why_cap)
{
	FILE *f = fopen(path, "r");
	char buf[SECRET_FILE_MAX];
	size_t n, a = 0;

	*out = NULL;
	if (!f) {
		snprintf(why, why_cap, "cannot read '%s': %s", path, strerror(errno));
		return CP_EIO;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	n = strlen(buf);
	while (a < n && (buf[a] == ' ' || buf[a] == '\t'))
		a++;
	while (n > a && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n == a) {
		snprintf(why, why_cap, "'%s' is empty", path);
		return CP_EINVAL;
	}
	*out = cp_strndup(buf + a, n - a);
	sodium_memzero(buf, sizeof(buf));
	return *out ? CP_OK : CP_ENOMEM;
}

/* A client for peer, with its credentials read now (files may have been rotated). */
static enum cp_err make_client(struct cp_sync *s, const struct cp_config_peer *pe,
			       struct cp_taxii_client **out, char *why, size_t why_cap)
{
	const struct cp_config *cfg = s->env.cfg;
	struct cp_taxii_client_opts o;
	char *cacert = path_in(cfg, pe->cacert), *cert = path_in(cfg, pe->client_cert);
	char *key = path_in(cfg, pe->client_key), *token = NULL, *password = NULL;
	enum cp_err err = CP_OK;

	if (!cacert || (pe->client_cert && (!cert || !key))) {
		err = CP_ENOMEM;
		goto out;
	}
	if (pe->token_file) {
		char *p = path_in(cfg, pe->token_file);
		err = p ? read_secret(p, &token, why, why_cap) : CP_ENOMEM;
		cp_free(p);
		if (err)
			goto out;
	}
	if (pe->password_file) {
		char *p = path_in(cfg, pe->password_file);
		err = p ? read_secret(p, &password, why, why_cap) : CP_ENOMEM;
		cp_free(p);
		if (err)
			goto out;
	}
	memset(&o, 0, sizeof(o));
	o.peer = pe->name;
	o.cacert = cacert;
	o.client_cert = cert;
	o.client_key = key;
	o.token = token;
	o.user = pe->user;
	o.password = password;
	err = cp_taxii_client_new(&o, out, NULL);
	if (err)
		snprintf(why, why_cap, "cannot set up a TAXII client for peer '%s': %s", pe->name,
			 cp_strerror(err));
out:
	if (err == CP_ENOMEM && !why[0])
		snprintf(why, why_cap, "out of memory");
	cp_free(cacert);
	cp_free(cert);
	cp_free(key);
	if (token) {
		sodium_memzero(token, strlen(token));
		cp_free(token);
	}
	if (password) {
		sodium_memzero(password, strlen(password));
		cp_free(password);
	}
	return err;
}

static char *collection_url(const struct cp_config_peer *pe, const char *remote)
{
	size_t n = strlen(pe->url) + strlen("collections/") + strlen(remote) + 2;
	char *u = cp_malloc(n);

	if (u)
		snprintf(u, n, "%scollections/%s/", pe->url, remote);
	return u;
}

/* --------------------------------------------------------------- audit */

static void audit(struct cp_sync *s, enum cp_audit_kind kind, const char *peer,
		  const char *action, const char *coll, const char *reason, const char *detail)
{
	struct cp_audit_record r;

	if (!s->env.audit)
		return;
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.partner = peer;
	r.action = action;
	r.collection = coll;
	r.reason = reason;
	r.detail = detail;
	if (cp_audit_append(s->env.audit, &r, 1, true))
		CP_LOG_ERR("sync", "audit record lost (%s %s)", action, peer);
}

/* "[["id","version"],...]" */
static void pair(struct cp_buf *b, const char *id, const char *version, const char *reason)
{
	json_t *j = reason ? json_pack("[s?, s?, s]", id, version, reason)
			   : json_pack("[s?, s?]", id, version);
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;

	cp_buf_putc(b, b->len ? ',' : '[');
	if (t)
		cp_buf_puts(b, t);
	cp_free(t);
	json_decref(j);
}

/* ---------------------------------------------------------------- pull */

/*
 * A pull pass is a two-stage pipeline, so that both cores work during a catch-up:
 * the caller's thread fetches, parses and validates page N+1 while a storing thread
 * commits page N (objects and cursor in one transaction). At most PIPE_DEPTH pages
 * wait between the two, so memory stays bounded; pages are stored in the order they
 * were read, so the cursor only moves forward.
 */
#define PIPE_DEPTH 2

/* A validated page on its way to the store. */
struct pull_item {
	struct cp_stix_object **valid;
	const char **texts;           /* into own_texts, or NULLs */
	struct cp_store_marks *marks;
	struct cp_stix_json_texts own_texts;
	size_t nvalid, received;
	char cursor[64];              /* the peer's position after the page, or "" */
	struct pull_item *next;
};

struct pull_ctx {
	struct cp_sync *s;
	const struct sub *sub;
	struct cp_sync_state *st;
	struct cp_sync_progress prog;
	cp_sync_progress_fn fn;
	void *fn_ctx;
	struct timespec t0;
	char why[512];
	/* the pipe */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pull_item *head, *tail;
	size_t queued;
	bool done;            /* no more items will come */
	enum cp_err store_err; /* the storing thread failed: stop reading */
	size_t skipped;       /* invalid objects (reading side) */
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void item_free(struct pull_item *it)
{
	if (!it)
		return;
	for (size_t i = 0; i < it->nvalid; i++)
		cp_stix_object_unref(it->valid[i]);
	cp_free(it->valid);
	cp_free(it->texts);
	cp_free(it->marks);
	cp_stix_json_texts_release(&it->own_texts);
	cp_free(it);
}

/* Copy the page's texts, which the walk frees when the callback returns. */
static enum cp_err copy_texts(struct cp_stix_json_texts *dst, const struct cp_stix_json_texts *src)
{
	size_t last, bytes;

	memset(dst, 0, sizeof(*dst));
	if (!src->count)
		return CP_OK;
	last = src->offsets[src->count - 1];
	bytes = last + strlen(src->buf + last) + 1;
	dst->buf = cp_malloc(bytes);
	dst->offsets = cp_malloc(src->count * sizeof(*dst->offsets));
	if (!dst->buf || !dst->offsets) {
		cp_stix_json_texts_release(dst);
		return CP_ENOMEM;
	}
	memcpy(dst->buf, src->buf, bytes);
	memcpy(dst->offsets, src->offsets, src->count * sizeof(*dst->offsets));
	dst->count = src->count;
	return CP_OK;
}

/* Reading side: validate one page from the peer and queue it for the store. */
static enum cp_err on_pull_page(const struct cp_taxii_page *page, void *arg)
{
	struct pull_ctx *pc = arg;
	size_t n = json_array_size(page->objects);
	struct pull_item *it = cp_calloc(1, sizeof(*it));
	bool have_texts = page->texts.count == n && n > 0;
	struct cp_diag d;
	enum cp_err err = CP_OK;

	cp_diag_init(&d);
	if (!it || !(it->valid = cp_calloc(n ? n : 1, sizeof(*it->valid))) ||
	    !(it->texts = cp_calloc(n ? n : 1, sizeof(*it->texts))) ||
	    !(it->marks = cp_calloc(n ? n : 1, sizeof(*it->marks))) ||
	    (have_texts && copy_texts(&it->own_texts, &page->texts))) {
		err = CP_ENOMEM;
		goto out;
	}
	it->received = n;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(page->objects, i);
		struct cp_stix_object *so = NULL;
		cp_diag_clear(&d);
		err = cp_stix_object_new(o, 0, &d, &so);
		if (err == CP_ENOMEM)
			goto out;
		if (err) {
			/* an invalid object from a peer is its problem, not a reason to stop */
			const char *id = json_string_value(json_object_get(o, "id"));
			pc->skipped++;
			CP_LOG_WRN("sync", "%s: object %zu (%s) of a page is not valid STIX 2.1: %s%s%s",
				   pc->sub->name, i, id ? id : "no id",
				   d.count ? d.items[0].pointer : "",
				   d.count ? ": " : "", d.count ? d.items[0].message : "");
			err = CP_OK;
			continue;
		}
		it->texts[it->nvalid] = have_texts ? cp_stix_json_text(&it->own_texts, i) : NULL;
		cp_taxii_marks_of(o, &it->marks[it->nvalid]);
		it->valid[it->nvalid++] = so;
	}
	/* the peer's position after this page; without the header the old one stays, and
	 * the page is read again next time (identical versions are no-ops) */
	snprintf(it->cursor, sizeof(it->cursor), "%s", page->date_added_last);
	pthread_mutex_lock(&pc->lock);
	while (pc->queued >= PIPE_DEPTH && !pc->store_err)
		pthread_cond_wait(&pc->cond, &pc->lock);
	err = pc->store_err;
	if (!err) {
		if (pc->tail)
			pc->tail->next = it;
		else
			pc->head = it;
		pc->tail = it;
		pc->queued++;
		it = NULL;
		pthread_cond_broadcast(&pc->cond);
	}
	pthread_mutex_unlock(&pc->lock);
out:
	item_free(it);
	cp_diag_release(&d);
	return err;
}

/* Storing side: one page's objects and the cursor after it, in one transaction. */
static enum cp_err store_item(struct pull_ctx *pc, struct pull_item *it)
{
	struct cp_sync *s = pc->s;
	struct cp_store_add_result *res = cp_calloc(it->nvalid ? it->nvalid : 1, sizeof(*res));
	struct cp_buf ids = CP_BUF_INIT(CP_AUDIT_DETAIL_MAX / 2);
	struct cp_sync_state next = *pc->st;
	size_t added = 0;
	enum cp_err err = CP_OK;

	if (!res) {
		err = CP_ENOMEM;
		goto out;
	}
	if (it->cursor[0])
		snprintf(next.cursor, sizeof(next.cursor), "%s", it->cursor);
	now_text(next.last_success);
	next.last_error[0] = '\0';
	next.failures = 0;
	if ((err = cp_store_begin(s->store)))
		goto out;
	if (it->nvalid &&
	    (err = cp_store_add_texts(s->store, pc->sub->local_id, it->valid, it->texts,
				      it->marks, it->nvalid, pc->sub->peer->name, res))) {
		cp_store_rollback(s->store);
		goto out;
	}
	for (size_t i = 0; i < it->nvalid; i++) {
		added += res[i].outcome == CP_STORE_ADDED;
		if (res[i].outcome == CP_STORE_CONFLICT)
			CP_LOG_WRN("sync", "%s: %s: a different object with this id and version is "
					   "already stored; kept ours",
				   pc->sub->name, cp_stix_object_id(it->valid[i]));
	}
	next.total += added;
	if ((err = state_save(s->store, &next)) || (err = cp_store_commit(s->store))) {
		cp_store_rollback(s->store);
		goto out;
	}
	if (added && s->started)
		cp_sync_notify(s, pc->sub->local_id);
	*pc->st = next;
	pc->prog.pages++;
	pc->prog.received += it->received;
	pc->prog.stored += added;
	pc->prog.skipped = pc->skipped;
	pc->prog.seconds = seconds_since(&pc->t0);
	if (pc->fn)
		pc->fn(&pc->prog, pc->fn_ctx);
	if (added && s->env.audit) {
		for (size_t i = 0; i < it->nvalid; i++)
			if (res[i].outcome == CP_STORE_ADDED) {
				struct cp_time t;
				char ver[CP_TIME_TEXT_MAX] = "";
				if (cp_stix_object_modified(it->valid[i], &t) ||
				    cp_stix_object_created(it->valid[i], &t))
					cp_time_format(&t, ver);
				pair(&ids, cp_stix_object_id(it->valid[i]), ver[0] ? ver : NULL, NULL);
			}
		cp_buf_putc(&ids, ']');
		audit(s, CP_AUDIT_WRITE, pc->sub->peer->name, "sync pull", pc->sub->local_id, "ok",
		      cp_buf_finish(&ids) ? "(list too long)" : ids.ptr);
	}
out:
	if (err)
		snprintf(pc->why, sizeof(pc->why), "storing a page: %s: %s", cp_err_name(err),
			 cp_store_errmsg(s->store));
	cp_free(res);
	cp_buf_release(&ids);
	return err;
}

static void *storer(void *arg)
{
	struct pull_ctx *pc = arg;

	pthread_mutex_lock(&pc->lock);
	for (;;) {
		struct pull_item *it;
		enum cp_err err;
		while (!pc->head && !pc->done)
			pthread_cond_wait(&pc->cond, &pc->lock);
		if (!pc->head)
			break;
		it = pc->head;
		pc->head = it->next;
		if (!pc->head)
			pc->tail = NULL;
		pthread_mutex_unlock(&pc->lock);
		err = store_item(pc, it);
		item_free(it);
		pthread_mutex_lock(&pc->lock);
		pc->queued--;
		if (err && !pc->store_err)
			pc->store_err = err;
		pthread_cond_broadcast(&pc->cond);
		if (pc->store_err)
			break;
	}
	/* after a failure nothing more is stored: what is queued is dropped */
	while (pc->head) {
		struct pull_item *it = pc->head;
		pc->head = it->next;
		item_free(it);
	}
	pc->tail = NULL;
	pc->queued = 0;
	pthread_cond_broadcast(&pc->cond);
	pthread_mutex_unlock(&pc->lock);
	return NULL;
}

static enum cp_err pull_pass(struct cp_sync *s, const struct sub *sub, struct cp_sync_state *st,
			     cp_sync_progress_fn fn, void *fn_ctx, char *why, size_t why_cap)
{
	struct cp_taxii_client *c = NULL;
	struct pull_ctx pc;
	struct cp_taxii_page_req req;
	char *url = NULL;
	bool stopped = false, started = false;
	pthread_t th;
	enum cp_err err;

	memset(&pc, 0, sizeof(pc));
	pc.s = s;
	pc.sub = sub;
	pc.st = st;
	pc.fn = fn;
	pc.fn_ctx = fn_ctx;
	pc.prog.subscription = sub->name;
	pthread_mutex_init(&pc.lock, NULL);
	pthread_cond_init(&pc.cond, NULL);
	clock_gettime(CLOCK_MONOTONIC, &pc.t0);
	if ((err = make_client(s, sub->peer, &c, why, why_cap)))
		goto out;
	url = collection_url(sub->peer, sub->cfg->remote);
	if (!url) {
		err = CP_ENOMEM;
		goto out;
	}
	if (pthread_create(&th, NULL, storer, &pc) != 0) {
		err = CP_ENOMEM;
		goto out;
	}
	started = true;
	memset(&req, 0, sizeof(req));
	req.added_after = st->cursor[0] ? st->cursor : NULL;
	req.limit = s->env.page_limit ? s->env.page_limit : DEFAULT_PAGE_LIMIT;
	req.match_version = "all";
	err = cp_taxii_client_walk(c, url, &req,
				   s->env.max_pages ? s->env.max_pages : DEFAULT_MAX_PAGES,
				   on_pull_page, &pc, &stopped);
	pthread_mutex_lock(&pc.lock);
	pc.done = true;
	pthread_cond_broadcast(&pc.cond);
	pthread_mutex_unlock(&pc.lock);
	pthread_join(th, NULL);
	started = false;
	/* a storing failure is the cause when the walk stopped because of it */
	if (pc.store_err) {
		err = pc.store_err;
		snprintf(why, why_cap, "%s", pc.why);
		goto out;
	}
	if (err) {
		snprintf(why, why_cap, "%s", cp_taxii_client_error(c));
		goto out;
	}
	if (!stopped)
		now_text(st->caught_up);
out:
	if (started) {
		pthread_mutex_lock(&pc.lock);
		pc.done = true;
		pthread_cond_broadcast(&pc.cond);
		pthread_mutex_unlock(&pc.lock);
		pthread_join(th, NULL);
	}
	pthread_cond_destroy(&pc.cond);
	pthread_mutex_destroy(&pc.lock);
	cp_free(url);
	cp_taxii_client_free(c);
	return err;
}

/* ---------------------------------------------------------------- push */

struct push_ctx {
	struct cp_sync *s;
	const struct sub *sub;
	const struct cp_policy *policy;
	struct cp_buf env;        /* the envelope being built */
	size_t max_bytes;
	size_t count;             /* versions in env */
	size_t considered;        /* rows read (sent, withheld or echo) */
	bool full;
	struct cp_time last;      /* date_added of the last row considered */
	struct cp_buf sent, withheld; /* audit lists */
	size_t n_withheld, n_echo;
};

#define PUSH_FULL CP_ECONFLICT /* stops the store query: not an error */

static enum cp_err on_push_row(const struct cp_store_row *row, void *arg)
{
	struct push_ctx *pc = arg;
	const char *peer = pc->sub->peer->name;
	struct cp_policy_facts facts;
	struct cp_policy_object o = {NULL, pc->sub->local_id, row->origin, &facts};
	struct cp_policy_reason why;

	cp_taxii_row_facts(row, &facts);
	/* what came from the peer is never sent back to it (no echo) */
	if (row->origin && strcmp(row->origin, peer) == 0) {
		pc->n_echo++;
	} else if (!pc->policy ||
		   cp_policy_decide(pc->policy, peer, &o, &why) != CP_POLICY_RELEASE) {
		if (!pc->policy)
			why.code = CP_POLICY_NO_AGREEMENT;
		pair(&pc->withheld, row->id, row->version, cp_policy_reason_name(why.code));
		pc->n_withheld++;
	} else {
		/* the envelope stays under the peer's max_content_length */
		if (pc->count && pc->env.len + row->json_len + 2 > pc->max_bytes) {
			pc->full = true;
			return PUSH_FULL;
		}
		cp_buf_putc(&pc->env, pc->count ? ',' : '[');
		cp_buf_append(&pc->env, row->json, row->json_len);
		pc->count++;
		pair(&pc->sent, row->id, row->version, NULL);
	}
	pc->considered++;
	pc->last = row->date_added;
	return CP_OK;
}

/* The peer's max_content_length (its API root), or a safe default. */
static size_t peer_max_bytes(struct cp_taxii_client *c, const struct cp_config_peer *pe)
{
	json_t *root = NULL;
	size_t max = 1u << 20;

	if (cp_taxii_client_get_json(c, pe->url, &root) == CP_OK) {
		json_int_t v = json_integer_value(json_object_get(root, "max_content_length"));
		if (v >= 4096)
			max = (size_t)v;
	}
	json_decref(root);
	/* room for the envelope around the objects */
	return max > 64 ? max - 64 : max;
}

static enum cp_err push_pass(struct cp_sync *s, const struct sub *sub, struct cp_sync_state *st,
			     cp_sync_progress_fn fn, void *fn_ctx, char *why, size_t why_cap)
{
	struct cp_taxii_client *c = NULL;
	struct cp_sync_progress prog;
	struct timespec t0;
	char *url = NULL;
	void *handle = NULL;
	const struct cp_policy *policy = NULL;
	size_t max_bytes, pages = 0;
	enum cp_err err;

	memset(&prog, 0, sizeof(prog));
	prog.subscription = sub->name;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((err = make_client(s, sub->peer, &c, why, why_cap)))
		return err;
	url = collection_url(sub->peer, sub->cfg->remote);
	if (!url) {
		err = CP_ENOMEM;
		goto out;
	}
	if (s->env.policy_acquire)
		policy = s->env.policy_acquire(s->env.policy_ctx, &handle);
	max_bytes = peer_max_bytes(c, sub->peer);
	for (;;) {
		struct cp_store_filter f;
		struct cp_store_page page;
		struct push_ctx pc;
		json_t *status = NULL;

		memset(&f, 0, sizeof(f));
		f.collection_id = sub->local_id;
		f.versions = CP_STORE_VERSION_ALL;
		f.limit = s->env.page_limit ? s->env.page_limit : DEFAULT_PAGE_LIMIT;
		if (st->cursor[0]) {
			const char *bad = NULL;
			if (cp_time_parse(st->cursor, strlen(st->cursor), &f.added_after, &bad)) {
				snprintf(why, why_cap, "the push cursor '%s' is not a timestamp",
					 st->cursor);
				err = CP_EPARSE;
				break;
			}
			f.has_added_after = true;
		}
		memset(&pc, 0, sizeof(pc));
		pc.s = s;
		pc.sub = sub;
		pc.policy = policy;
		pc.max_bytes = max_bytes;
		cp_buf_init(&pc.env, max_bytes + 16);
		cp_buf_init(&pc.sent, CP_AUDIT_DETAIL_MAX / 2);
		cp_buf_init(&pc.withheld, CP_AUDIT_DETAIL_MAX / 2);
		cp_buf_puts(&pc.env, "{\"objects\":");
		err = cp_store_query(s->store, &f, on_push_row, &pc, &page);
		if (err == PUSH_FULL && pc.full)
			err = CP_OK;
		if (!err && pc.considered == 0) {
			/* nothing new: caught up */
			cp_buf_release(&pc.env);
			cp_buf_release(&pc.sent);
			cp_buf_release(&pc.withheld);
			now_text(st->caught_up);
			break;
		}
		if (!err && pc.count) {
			cp_buf_puts(&pc.env, "]}");
			err = cp_buf_finish(&pc.env);
			if (!err)
				err = cp_taxii_client_post(c, url, pc.env.ptr, pc.env.len, &status);
			if (err)
				snprintf(why, why_cap, "%s", cp_taxii_client_error(c));
			else if (json_integer_value(json_object_get(status, "failure_count")) > 0)
				/* the peer refused some (its validation); they will not become
				 * acceptable by sending them again */
				CP_LOG_WRN("sync", "%s: the peer refused %lld of %zu objects",
					   sub->name,
					   (long long)json_integer_value(
						   json_object_get(status, "failure_count")),
					   pc.count);
			json_decref(status);
		} else if (err) {
			snprintf(why, why_cap, "reading the local collection: %s",
				 cp_store_errmsg(s->store));
		}
		if (!err) {
			char buf[CP_TIME_TEXT_MAX];
			if (pc.count) {
				cp_buf_putc(&pc.sent, ']');
				audit(s, CP_AUDIT_RELEASE, sub->peer->name, "sync push",
				      sub->local_id, "ok",
				      cp_buf_finish(&pc.sent) ? "(list too long)" : pc.sent.ptr);
			}
			if (pc.n_withheld) {
				cp_buf_putc(&pc.withheld, ']');
				audit(s, CP_AUDIT_WITHHOLD, sub->peer->name, "sync push",
				      sub->local_id, "withheld",
				      cp_buf_finish(&pc.withheld) ? "(list too long)"
								  : pc.withheld.ptr);
			}
			cp_time_format_digits(&pc.last, 6, buf);
			snprintf(st->cursor, sizeof(st->cursor), "%s", buf);
			now_text(st->last_success);
			st->total += pc.count;
			st->last_error[0] = '\0';
			st->failures = 0;
			err = state_save(s->store, st);
			prog.pages = ++pages;
			prog.received += pc.considered;
			prog.stored += pc.count;
			prog.skipped += pc.n_withheld + pc.n_echo;
			prog.seconds = seconds_since(&t0);
			if (fn)
				fn(&prog, fn_ctx);
		}
		cp_buf_release(&pc.env);
		cp_buf_release(&pc.sent);
		cp_buf_release(&pc.withheld);
		if (err)
			break;
		if (!page.more && !pc.full) {
			now_text(st->caught_up);
			break;
		}
		if (s->env.max_pages && pages >= s->env.max_pages)
			break;
	}
out:
	if (s->env.policy_release)
		s->env.policy_release(s->env.policy_ctx, handle);
	cp_free(url);
	cp_taxii_client_free(c);
	return err;
}

/* ------------------------------------------------------------ passes */

static enum cp_err run_sub(struct cp_sync *s, struct sub *sub, cp_sync_progress_fn fn, void *ctx)
{
	struct cp_sync_state st;
	char why[512] = "";
	enum cp_err err;

	if ((err = state_load(s->store, sub->name, &st)))
		return err;
	now_text(st.last_attempt);
	err = sub->push ? push_pass(s, sub, &st, fn, ctx, why, sizeof(why))
			: pull_pass(s, sub, &st, fn, ctx, why, sizeof(why));
	if (err) {
		/* the page state committed so far stays; only the error is added */
		struct cp_sync_state cur;
		if (state_load(s->store, sub->name, &cur) == CP_OK) {
			snprintf(cur.last_attempt, sizeof(cur.last_attempt), "%s", st.last_attempt);
			snprintf(cur.last_error, sizeof(cur.last_error), "%s",
				 why[0] ? why : cp_strerror(err));
			cur.failures++;
			if (state_save(s->store, &cur))
				CP_LOG_ERR("sync", "%s: cannot record the failure", sub->name);
		}
		CP_LOG_ERR("sync", "%s: %s", sub->name, why[0] ? why : cp_strerror(err));
		return err;
	}
	return state_save(s->store, &st);
}

enum cp_err cp_sync_run(struct cp_sync *s, const char *peer, cp_sync_progress_fn fn, void *ctx)
{
	enum cp_err first = CP_OK;
	bool any = false;

	for (size_t i = 0; i < s->sub_count; i++) {
		enum cp_err err;
		if (peer && strcmp(peer, s->subs[i].peer->name) != 0)
			continue;
		any = true;
		err = run_sub(s, &s->subs[i], fn, ctx);
		if (err && !first)
			first = err;
	}
	return any || !peer ? first : CP_ENOTFOUND;
}

/* --------------------------------------------------------- scheduler */

static void *scheduler(void *arg)
{
	struct cp_sync *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		time_t now = time(NULL), soonest = now + 3600;
		for (size_t i = 0; i < s->sub_count && !s->stop; i++) {
			struct sub *sub = &s->subs[i];
			if (sub->next_due <= now || sub->pending) {
				enum cp_err err;
				unsigned wait;
				sub->pending = false;
				pthread_mutex_unlock(&s->lock);
				err = run_sub(s, sub, NULL, NULL);
				pthread_mutex_lock(&s->lock);
				now = time(NULL);
				sub->backoff = err ? sub->backoff + 1 : 0;
				wait = sub->cfg->interval;
				/* a failing peer is retried less and less often */
				for (unsigned k = 0; k < sub->backoff && wait < MAX_BACKOFF_S; k++)
					wait *= 2;
				if (wait > MAX_BACKOFF_S && sub->cfg->interval < MAX_BACKOFF_S)
					wait = MAX_BACKOFF_S;
				sub->next_due = now + (time_t)wait;
			}
			if (sub->next_due < soonest)
				soonest = sub->next_due;
			if (sub->pending)
				soonest = now;
		}
		if (!s->stop && soonest > now) {
			struct timespec until = {soonest, 0};
			pthread_cond_timedwait(&s->wake, &s->lock, &until);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

void cp_sync_notify(struct cp_sync *s, const char *collection_id)
{
	bool any = false;

	if (!s || !collection_id)
		return;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->sub_count; i++) {
		struct sub *sub = &s->subs[i];
		/* a failing peer keeps its backoff */
		if (sub->push && sub->backoff == 0 && strcmp(sub->local_id, collection_id) == 0) {
			sub->pending = true;
			any = true;
		}
	}
	if (any)
		pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

enum cp_err cp_sync_start(struct cp_sync *s)
{
	if (s->started || s->sub_count == 0)
		return CP_OK;
	/* the condition variable waits on CLOCK_REALTIME, as time() counts */
	if (pthread_create(&s->thread, NULL, scheduler, s) != 0)
		return CP_ENOMEM;
	s->started = true;
	return CP_OK;
}

/* ------------------------------------------------------------ set up */

static enum cp_err add_sub(struct cp_sync *s, const struct cp_config_peer *pe,
			   const struct cp_config_subscription *cs, bool push, struct cp_diag *diag)
{
	struct sub *sub = &s->subs[s->sub_count];
	const char *id = NULL;
	enum cp_err err = cp_partners_resolve_collection(s->env.cfg, cs->local, &id);

	if (err) {
		cp_diag_add(diag, CP_SEV_ERROR, "sync", NULL,
			    "peer '%s': %s subscription: '%s' is %s", pe->name,
			    push ? "push" : "pull", cs->local,
			    err == CP_ECONFLICT ? "an alias in two API roots"
						: "not a configured collection");
		return CP_EINVAL;
	}
	memset(sub, 0, sizeof(*sub));
	sub->peer = pe;
	sub->cfg = cs;
	sub->push = push;
	sub->local_id = id;
	if (push)
		snprintf(sub->name, sizeof(sub->name), "push:%s:%s:%s", pe->name, id, cs->remote);
	else
		snprintf(sub->name, sizeof(sub->name), "pull:%s:%s:%s", pe->name, cs->remote, id);
	s->sub_count++;
	return CP_OK;
}

static size_t count_subs(const struct cp_config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->peer_count; i++)
		n += cfg->peers[i].pull_count + cfg->peers[i].push_count;
	return n;
}

enum cp_err cp_sync_new(const struct cp_sync_env *env, struct cp_sync **out, struct cp_diag *diag)
{
	struct cp_sync *s;
	size_t n = count_subs(env->cfg);
	enum cp_err err = CP_OK;

	s = cp_calloc(1, sizeof(*s));
	if (!s)
		return CP_ENOMEM;
	s->env = *env;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	s->subs = cp_calloc(n ? n : 1, sizeof(*s->subs));
	if (!s->subs) {
		err = CP_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < env->cfg->peer_count; i++) {
		const struct cp_config_peer *pe = &env->cfg->peers[i];
		for (size_t k = 0; k < pe->pull_count; k++) {
			enum cp_err e = add_sub(s, pe, &pe->pull[k], false, diag);
			if (e && !err)
				err = e;
		}
		for (size_t k = 0; k < pe->push_count; k++) {
			enum cp_err e = add_sub(s, pe, &pe->push[k], true, diag);
			if (e && !err)
				err = e;
		}
	}
	if (err)
		goto fail;
	if ((err = cp_store_open_sqlite(env->store_path, &s->store, diag)))
		goto fail;
	cp_store_set_write_lock(s->store, env->write_lock);
	*out = s;
	return CP_OK;
fail:
	cp_sync_free(s);
	return err;
}

void cp_sync_free(struct cp_sync *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	cp_store_close(s->store);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	cp_free(s->subs);
	cp_free(s);
}

/* ------------------------------------------------------------ status */

/* A sync object for reading or resetting the subscriptions' state (no thread, no peers
 * contacted): the status and reset commands. */
static enum cp_err open_offline(const struct cp_config *cfg, const char *store_path,
				struct cp_sync **s)
{
	struct cp_sync_env env;

	memset(&env, 0, sizeof(env));
	env.cfg = cfg;
	env.store_path = store_path;
	return cp_sync_new(&env, s, NULL);
}

enum cp_err cp_sync_status(const struct cp_config *cfg, const char *store_path,
			   cp_sync_state_fn fn, void *ctx)
{
	struct cp_sync *s = NULL;
	enum cp_err err;

	if ((err = open_offline(cfg, store_path, &s)))
		return err;
	for (size_t i = 0; i < s->sub_count; i++) {
		struct cp_sync_state st;
		if ((err = state_load(s->store, s->subs[i].name, &st)))
			break;
		st.push = s->subs[i].push;
		st.peer = s->subs[i].peer->name;
		st.local = s->subs[i].local_id;
		st.remote = s->subs[i].cfg->remote;
		fn(&st, ctx);
	}
	cp_sync_free(s);
	return err;
}

enum cp_err cp_sync_reset(const struct cp_config *cfg, const char *store_path, const char *peer,
			  size_t *count)
{
	struct cp_sync *s = NULL;
	enum cp_err err;

	*count = 0;
	if ((err = open_offline(cfg, store_path, &s)))
		return err;
	for (size_t i = 0; i < s->sub_count && !err; i++) {
		struct cp_sync_state st;
		if (peer && strcmp(peer, s->subs[i].peer->name) != 0)
			continue;
		if ((err = state_load(s->store, s->subs[i].name, &st)))
			break;
		st.cursor[0] = '\0';
		st.caught_up[0] = '\0';
		if (!(err = state_save(s->store, &st)))
			(*count)++;
	}
	cp_sync_free(s);
	if (!err && peer && *count == 0)
		err = CP_ENOTFOUND;
	return err;
}
