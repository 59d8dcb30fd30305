/*
 * lib/audit: the hash-chained audit trail.
 *
 * Each test gets its own directory under /tmp. The hashes are checked against a second
 * implementation of the canonical encoding written here from docs/AUDIT.md, so the
 * document an external auditor works from is tested too. Tampering is done the way an
 * intruder would do it: with SQL on the database file, behind the library's back.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "cyberpact/audit.h"

/* test hook of lib/audit (internal.h) */
void cp__audit_set_queue_limits(struct cp_audit *a, size_t max_records, size_t max_bytes);

struct env {
	char dir[64];
	char path[128];
	char anchor[160];
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/cp-audit-test-XXXXXX");
	if (!mkdtemp(e->dir)) {
		free(e);
		return -1;
	}
	snprintf(e->path, sizeof(e->path), "%s/audit.db", e->dir);
	snprintf(e->anchor, sizeof(e->anchor), "%s.anchor", e->path);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal", ".anchor",
					       ".anchor.tmp", ".anchor.aside"};
	char p[256];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", e->path, suffixes[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/other.db", e->dir);
	unlink(p);
	rmdir(e->dir);
	free(e);
	cp_alloc_fail_after(0, false);
	return 0;
}

/* --------------------------------------------------------------- helpers */

static struct cp_audit *open_trail(const struct env *e)
{
	struct cp_audit *a = NULL;
	struct cp_diag d;

	cp_diag_init(&d);
	if (cp_audit_open(e->path, &a, &d) != CP_OK) {
		tu_dump(&d);
		fail_msg("cannot open %s", e->path);
	}
	cp_diag_release(&d);
	return a;
}

static struct cp_audit_record rec(enum cp_audit_kind kind, const char *partner,
				  const char *object, const char *reason, const char *detail)
{
	return (struct cp_audit_record){
		.kind = kind,
		.partner = partner,
		.action = "GET objects",
		.collection = "5b7a3c8e-1f2d-4e6a-9b0c-3d4e5f6a7b8c",
		.object = object,
		.version = object ? "2024-05-01T10:00:00.000Z" : NULL,
		.reason = reason,
		.detail = detail,
		.request_id = "req-1",
	};
}

static void append1(struct cp_audit *a, struct cp_audit_record r, bool wait)
{
	assert_int_equal(cp_audit_append(a, &r, 1, wait), CP_OK);
}

/* Append n numbered admin records ("r1", "r2", ... in reason) and close. */
static void fill(const struct env *e, int n)
{
	struct cp_audit *a = open_trail(e);
	char reason[32];

	for (int i = 1; i <= n; i++) {
		snprintf(reason, sizeof(reason), "r%d", i);
		append1(a, rec(CP_AUDIT_ADMIN, "operator", NULL, reason, "partner add north"),
			i == n);
	}
	cp_audit_close(a);
}

static void sql(const struct env *e, const char *text)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(e->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("sql '%s': %s", text, msg);
	sqlite3_close(db);
}

/* A copy of a delivered entry. */
struct got {
	int64_t seq, time_us;
	enum cp_audit_kind kind;
	char *s[8]; /* partner .. request_id, NULL kept */
	unsigned char hash[32];
};

struct gots {
	struct got *v;
	size_t n, cap;
	size_t stop_after; /* return CP_ECONFLICT after this many (0: never) */
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static enum cp_err collect(const struct cp_audit_entry *en, void *ctx)
{
	struct gots *g = ctx;
	struct got *x;

	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->v = realloc(g->v, g->cap * sizeof(*g->v));
		assert_non_null(g->v);
	}
	x = &g->v[g->n++];
	x->seq = en->seq;
	x->time_us = en->time.sec * 1000000 + en->time.nsec / 1000;
	assert_int_equal(en->time.frac_digits, 6);
	x->kind = en->rec.kind;
	x->s[0] = dup_or_null(en->rec.partner);
	x->s[1] = dup_or_null(en->rec.action);
	x->s[2] = dup_or_null(en->rec.collection);
	x->s[3] = dup_or_null(en->rec.object);
	x->s[4] = dup_or_null(en->rec.version);
	x->s[5] = dup_or_null(en->rec.reason);
	x->s[6] = dup_or_null(en->rec.detail);
	x->s[7] = dup_or_null(en->rec.request_id);
	memcpy(x->hash, en->hash, 32);
	if (g->stop_after && g->n >= g->stop_after)
		return CP_ECONFLICT;
	return CP_OK;
}

static void gots_free(struct gots *g)
{
	for (size_t i = 0; i < g->n; i++)
		for (int k = 0; k < 8; k++)
			free(g->v[i].s[k]);
	free(g->v);
	memset(g, 0, sizeof(*g));
}

static void query(const struct env *e, const struct cp_audit_filter *f, struct gots *g)
{
	struct cp_diag d;

	cp_diag_init(&d);
	if (cp_audit_query(e->path, f, collect, g, &d) != CP_OK) {
		tu_dump(&d);
		fail_msg("query failed");
	}
	cp_diag_release(&d);
}

/* Verify; returns the status, findings in d (initialised here, released by caller). */
static enum cp_err verify(const struct env *e, int64_t *count, struct cp_diag *d)
{
	cp_diag_init(d);
	return cp_audit_verify(e->path, count, d);
}

static void assert_intact(const struct env *e, int64_t want)
{
	struct cp_diag d;
	int64_t count = -1;
	enum cp_err err = verify(e, &count, &d);

	if (err != CP_OK || d.errors) {
		tu_dump(&d);
		fail_msg("verify: %s", cp_err_name(err));
	}
	assert_int_equal(count, want);
	cp_diag_release(&d);
}

/* A finding with this code and severity whose message contains text. */
static void assert_finding_text(const struct cp_diag *d, enum cp_severity sev, const char *code,
				const char *text)
{
	for (size_t i = 0; i < d->count; i++)
		if (d->items[i].severity == sev && strcmp(d->items[i].code, code) == 0 &&
		    strstr(d->items[i].message, text))
			return;
	tu_dump(d);
	fail_msg("no %s [%s] containing '%s'", cp_severity_name(sev), code, text);
}

static void assert_errors(const struct cp_diag *d, size_t n)
{
	if (d->errors != n) {
		tu_dump(d);
		fail_msg("expected %zu errors, got %zu", n, d->errors);
	}
}

/* ------------------------------------------ the encoding, from docs/AUDIT.md */

static void ref_u64(crypto_hash_sha256_state *st, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	crypto_hash_sha256_update(st, b, 8);
}

static void ref_field(crypto_hash_sha256_state *st, const char *s)
{
	unsigned char tag = s ? 1 : 0;

	crypto_hash_sha256_update(st, &tag, 1);
	if (s) {
		ref_u64(st, strlen(s));
		crypto_hash_sha256_update(st, (const unsigned char *)s, strlen(s));
	}
}

static void ref_hash(const unsigned char prev[32], int64_t seq, int64_t time_us,
		     const char *kind, char *const s[8], unsigned char out[32])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, prev, 32);
	ref_u64(&st, (uint64_t)seq);
	ref_u64(&st, (uint64_t)time_us);
	ref_field(&st, kind);
	for (int i = 0; i < 8; i++)
		ref_field(&st, s[i]);
	crypto_hash_sha256_final(&st, out);
}

static void hex(const unsigned char h[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static char *read_text(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ------------------------------------------------------------------ tests */

static void test_append_wait_and_nowait(void **state)
{
	struct env *e = *state;
	struct cp_audit *a = open_trail(e);
	struct gots g = {0};
	unsigned char head[32], prev[32] = {0}, want[32];
	char hx[65], line[128];
	int64_t seq = -1;
	struct cp_audit_record two[2] = {
		rec(CP_AUDIT_WITHHOLD, "north", "indicator--1", "tlp-ceiling", NULL),
		rec(CP_AUDIT_WRITE, "north", "indicator--2", "ok", "{}"),
	};

	append1(a, rec(CP_AUDIT_RELEASE, "north", NULL, "ok", "[]"), true);
	/* a waited-for record is committed when append returns */
	assert_int_equal(cp_audit_head(e->path, &seq, head), CP_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(cp_audit_append(a, two, 2, false), CP_OK);
	append1(a, rec(CP_AUDIT_DENY, "nobody", NULL, "bad-token", NULL), false);
	cp_audit_close(a);

	query(e, NULL, &g);
	assert_int_equal(g.n, 4);
	for (size_t i = 0; i < g.n; i++) {
		assert_int_equal(g.v[i].seq, (int64_t)i + 1);
		if (i)
			assert_true(g.v[i].time_us >= g.v[i - 1].time_us);
		/* the stored hash is the documented encoding, chained */
		ref_hash(prev, g.v[i].seq, g.v[i].time_us, cp_audit_kind_name(g.v[i].kind),
			 g.v[i].s, want);
		assert_memory_equal(want, g.v[i].hash, 32);
		memcpy(prev, want, 32);
	}
	assert_int_equal(g.v[0].kind, CP_AUDIT_RELEASE);
	assert_int_equal(g.v[1].kind, CP_AUDIT_WITHHOLD);
	assert_string_equal(g.v[1].s[3], "indicator--1");
	assert_string_equal(g.v[1].s[5], "tlp-ceiling");
	assert_null(g.v[1].s[6]);
	assert_int_equal(g.v[2].kind, CP_AUDIT_WRITE);
	assert_string_equal(g.v[2].s[6], "{}");
	assert_int_equal(g.v[3].kind, CP_AUDIT_DENY);
	assert_string_equal(g.v[3].s[0], "nobody");
	assert_null(g.v[3].s[3]);
	assert_null(g.v[3].s[4]);

	/* the anchor is the head */
	assert_int_equal(cp_audit_head(e->path, &seq, head), CP_OK);
	assert_int_equal(seq, 4);
	assert_memory_equal(head, g.v[3].hash, 32);
	hex(head, hx);
	snprintf(line, sizeof(line), "4 %s\n", hx);
	assert_string_equal(read_text(e->anchor), line);
	assert_intact(e, 4);
	gots_free(&g);
}

static void test_null_and_empty_differ(void **state)
{
	struct env *e = *state;
	char *with_null[8] = {NULL, "a", "c", NULL, NULL, "ok", NULL, NULL};
	char *with_empty[8] = {"", "a", "c", NULL, NULL, "ok", NULL, NULL};
	char *shifted[8] = {"a", "", "c", NULL, NULL, "ok", NULL, NULL};
	unsigned char zero[32] = {0}, h1[32], h2[32], h3[32];
	struct cp_audit *a;
	struct cp_diag d;

	ref_hash(zero, 1, 0, "admin", with_null, h1);
	ref_hash(zero, 1, 0, "admin", with_empty, h2);
	ref_hash(zero, 1, 0, "admin", shifted, h3);
	assert_memory_not_equal(h1, h2, 32);
	assert_memory_not_equal(h2, h3, 32);

	/* the trail keeps the difference, and hashes it */
	a = open_trail(e);
	append1(a, rec(CP_AUDIT_ADMIN, NULL, NULL, "ok", NULL), false);
	append1(a, rec(CP_AUDIT_ADMIN, "", NULL, "ok", ""), true);
	cp_audit_close(a);
	{
		struct gots g = {0};
		query(e, NULL, &g);
		assert_int_equal(g.n, 2);
		assert_null(g.v[0].s[0]);
		assert_null(g.v[0].s[6]);
		assert_non_null(g.v[1].s[0]);
		assert_string_equal(g.v[1].s[0], "");
		assert_string_equal(g.v[1].s[6], "");
		gots_free(&g);
	}
	assert_intact(e, 2);
	sql(e, "UPDATE records SET partner = NULL WHERE seq = 2");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-hash", "record 2 ");
	assert_errors(&d, 1);
	cp_diag_release(&d);
}

struct worker {
	struct cp_audit *a;
	int id, records;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct cp_audit_record batch[7];
	char details[7][32], call[32];
	int i = 0, calls = 0;

	while (i < w->records) {
		int n = 1 + (i + w->id) % 7;
		if (n > w->records - i)
			n = w->records - i;
		snprintf(call, sizeof(call), "c%d-%d", w->id, calls);
		for (int k = 0; k < n; k++) {
			snprintf(details[k], sizeof(details[k]), "t%d-%d", w->id, i + k);
			batch[k] = rec(CP_AUDIT_RELEASE, "north", call, "ok", details[k]);
		}
		if (cp_audit_append(w->a, batch, (size_t)n, calls % 3 == 0) != CP_OK)
			return (void *)1;
		i += n;
		calls++;
	}
	return NULL;
}

/* 4 threads append concurrently; every record is there once, in its call's order. */
static void run_workers(const struct env *e, struct cp_audit *a, int per_thread)
{
	enum { T = 4 };
	pthread_t th[T];
	struct worker w[T];
	struct gots g = {0};
	int next[T] = {0};

	for (int t = 0; t < T; t++) {
		w[t] = (struct worker){a, t, per_thread};
		assert_int_equal(pthread_create(&th[t], NULL, worker_main, &w[t]), 0);
	}
	for (int t = 0; t < T; t++) {
		void *rv;
		pthread_join(th[t], &rv);
		assert_null(rv);
	}
	cp_audit_close(a);

	query(e, NULL, &g);
	assert_int_equal(g.n, T * per_thread);
	for (size_t i = 0; i < g.n; i++) {
		int t, k;
		assert_int_equal(g.v[i].seq, (int64_t)i + 1);
		assert_int_equal(sscanf(g.v[i].s[6], "t%d-%d", &t, &k), 2);
		assert_true(t >= 0 && t < T);
		/* each thread's records appear exactly once and in order */
		assert_int_equal(k, next[t]);
		next[t]++;
		/* records of one call are consecutive */
		if (i && strcmp(g.v[i].s[3], g.v[i - 1].s[3]) != 0)
			for (size_t j = 0; j + 1 < i; j++)
				assert_string_not_equal(g.v[j].s[3], g.v[i].s[3]);
	}
	for (int t = 0; t < T; t++)
		assert_int_equal(next[t], per_thread);
	gots_free(&g);
	assert_intact(e, T * per_thread);
}

static void test_concurrent_threads(void **state)
{
	struct env *e = *state;

	run_workers(e, open_trail(e), 400);
}

static void test_oversized_call(void **state)
{
	struct env *e = *state;
	struct cp_audit *a = open_trail(e);
	struct cp_audit_record big[25];
	struct gots g = {0};

	/* a call larger than the whole queue still goes through (alone) */
	cp__audit_set_queue_limits(a, 10, 4096);
	for (int i = 0; i < 25; i++)
		big[i] = rec(CP_AUDIT_WITHHOLD, "west", "x", "tlp-ceiling", NULL);
	assert_int_equal(cp_audit_append(a, big, 25, false), CP_OK);
	assert_int_equal(cp_audit_append(a, big, 25, true), CP_OK);
	cp_audit_close(a);
	query(e, NULL, &g);
	assert_int_equal(g.n, 50);
	gots_free(&g);
	assert_intact(e, 50);
}

static void test_small_queue_blocks_appenders(void **state)
{
	struct env *e = *state;
	struct cp_audit *a = open_trail(e);

	/* appenders block all the time; nothing is lost or reordered */
	cp__audit_set_queue_limits(a, 10, 4096);
	run_workers(e, a, 150);
}

static void test_reopen_continues_chain(void **state)
{
	struct env *e = *state;
	struct cp_audit *a;
	struct gots g = {0};
	unsigned char prev[32] = {0}, want[32];

	fill(e, 3);
	a = open_trail(e);
	append1(a, rec(CP_AUDIT_ADMIN, "operator", NULL, "r4", NULL), false);
	append1(a, rec(CP_AUDIT_ADMIN, "operator", NULL, "r5", NULL), true);
	cp_audit_close(a);
	assert_intact(e, 5);
	query(e, NULL, &g);
	assert_int_equal(g.n, 5);
	for (size_t i = 0; i < g.n; i++) {
		char r[32];
		snprintf(r, sizeof(r), "r%zu", i + 1);
		assert_int_equal(g.v[i].seq, (int64_t)i + 1);
		assert_string_equal(g.v[i].s[5], r);
		ref_hash(prev, g.v[i].seq, g.v[i].time_us, "admin", g.v[i].s, want);
		assert_memory_equal(want, g.v[i].hash, 32);
		memcpy(prev, want, 32);
	}
	gots_free(&g);
}

#define ID_A "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define ID_B "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"

static void test_query_filters(void **state)
{
	struct env *e = *state;
	struct cp_audit *a = open_trail(e);
	struct cp_audit_filter f;
	struct gots g = {0}, all = {0};
	struct cp_diag d;

	/* 1 */ append1(a, rec(CP_AUDIT_RELEASE, "north", NULL, "ok",
			       "[[\"" ID_A "\",\"2024-05-01T10:00:00.000Z\"],[\"" ID_B "\",\"v\"]]"),
			   true);
	/* 2 */ append1(a, rec(CP_AUDIT_WITHHOLD, "north", NULL, "tlp-ceiling",
			       "{\"" ID_B "\":\"tlp-ceiling\"}"), true);
	/* 3 */ append1(a, rec(CP_AUDIT_WRITE, "west", ID_A, "ok", NULL), true);
	/* 4: the id inside a longer token is not a match */
	/* 4 */ append1(a, rec(CP_AUDIT_RELEASE, "west", NULL, "ok", "x-" ID_A "0"), true);
	/* 5 */ append1(a, rec(CP_AUDIT_DENY, "east", NULL, "bad-token", NULL), true);
	/* 6 */ append1(a, rec(CP_AUDIT_RELEASE, "north", NULL, "ok", ID_A), true);
	cp_audit_close(a);
	query(e, NULL, &all);
	assert_int_equal(all.n, 6);

	memset(&f, 0, sizeof(f));
	f.partner = "north";
	query(e, &f, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.v[0].seq, 1);
	assert_int_equal(g.v[1].seq, 2);
	assert_int_equal(g.v[2].seq, 6);
	gots_free(&g);

	memset(&f, 0, sizeof(f));
	f.kind = CP_AUDIT_RELEASE;
	query(e, &f, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.v[0].seq, 1);
	assert_int_equal(g.v[1].seq, 4);
	assert_int_equal(g.v[2].seq, 6);
	gots_free(&g);

	/* the object column, or the object inside detail, as a whole id */
	memset(&f, 0, sizeof(f));
	f.object = ID_A;
	query(e, &f, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.v[0].seq, 1);
	assert_int_equal(g.v[1].seq, 3);
	assert_int_equal(g.v[2].seq, 6);
	gots_free(&g);
	f.object = ID_B;
	query(e, &f, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.v[0].seq, 1);
	assert_int_equal(g.v[1].seq, 2);
	gots_free(&g);
	f.object = "indicator--00000000-0000-4000-8000-000000000000";
	query(e, &f, &g);
	assert_int_equal(g.n, 0);
	gots_free(&g);

	/* combined, and limit */
	memset(&f, 0, sizeof(f));
	f.partner = "north";
	f.object = ID_A;
	f.limit = 1;
	query(e, &f, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.v[0].seq, 1);
	gots_free(&g);
	memset(&f, 0, sizeof(f));
	f.limit = 4;
	query(e, &f, &g);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.v[3].seq, 4);
	gots_free(&g);

	/* time range, inclusive, from the times the trail assigned */
	memset(&f, 0, sizeof(f));
	f.has_since = f.has_until = true;
	f.since = (struct cp_time){all.v[2].time_us / 1000000,
				   (uint32_t)(all.v[2].time_us % 1000000) * 1000, 6};
	f.until = (struct cp_time){all.v[4].time_us / 1000000,
				   (uint32_t)(all.v[4].time_us % 1000000) * 1000, 6};
	query(e, &f, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.v[0].seq, 3);
	assert_int_equal(g.v[2].seq, 5);
	gots_free(&g);
	/* one nanosecond later is after record 3's microsecond (they were committed
	 * apart, with a sync in between, so their times differ) */
	assert_true(all.v[2].time_us < all.v[3].time_us);
	f.since.nsec += 1;
	f.has_until = false;
	query(e, &f, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.v[0].seq, 4);
	gots_free(&g);

	/* a callback stops the query with its error */
	g.stop_after = 2;
	cp_diag_init(&d);
	assert_int_equal(cp_audit_query(e->path, NULL, collect, &g, &d), CP_ECONFLICT);
	assert_int_equal(g.n, 2);
	cp_diag_release(&d);
	gots_free(&g);

	/* an unknown kind is an error, not "any" */
	memset(&f, 0, sizeof(f));
	f.kind = (enum cp_audit_kind)99;
	assert_int_equal(cp_audit_query(e->path, &f, collect, &g, NULL), CP_EINVAL);
	gots_free(&all);
}

static void test_verify_modified_field(void **state)
{
	struct env *e = *state;
	struct cp_diag d;

	fill(e, 5);
	assert_intact(e, 5);
	sql(e, "UPDATE records SET reason = 'forged' WHERE seq = 3");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-hash", "record 3 ");
	/* reported once, where it happened: record 4 still chains to 3's hash */
	assert_errors(&d, 1);
	cp_diag_release(&d);

	/* the time and the kind are covered too */
	sql(e, "UPDATE records SET reason = 'r3' WHERE seq = 3");
	assert_intact(e, 5);
	sql(e, "UPDATE records SET time = time + 1 WHERE seq = 2");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-hash", "record 2 ");
	cp_diag_release(&d);
	sql(e, "UPDATE records SET time = time - 1 WHERE seq = 2");
	sql(e, "UPDATE records SET kind = 'release' WHERE seq = 4");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-hash", "record 4 ");
	assert_errors(&d, 1);
	cp_diag_release(&d);
}

static void test_verify_deleted_middle(void **state)
{
	struct env *e = *state;
	struct cp_diag d;

	fill(e, 5);
	sql(e, "DELETE FROM records WHERE seq = 3");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-gap", "record 3 is missing");
	assert_errors(&d, 1);
	cp_diag_release(&d);

	sql(e, "DELETE FROM records WHERE seq IN (1, 2)");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-gap", "records 1 to 3 are missing");
	cp_diag_release(&d);
}

static void test_verify_deleted_last(void **state)
{
	struct env *e = *state;
	struct cp_audit *a;
	struct cp_diag d;
	char aside[200];

	fill(e, 5);
	sql(e, "DELETE FROM records WHERE seq = 5");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-anchor", "removed from the end");
	assert_finding_text(&d, CP_SEV_ERROR, "audit-anchor", "record 5");
	assert_errors(&d, 1);
	cp_diag_release(&d);

	/* appending again does not erase the evidence: record 5 is now another one */
	a = open_trail(e);
	append1(a, rec(CP_AUDIT_ADMIN, "operator", NULL, "r5-again", NULL), true);
	append1(a, rec(CP_AUDIT_ADMIN, "operator", NULL, "r6", NULL), true);
	cp_audit_close(a);
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-anchor", "record 5 has hash");
	assert_errors(&d, 1);
	cp_diag_release(&d);

	/* an operator moves the anchor aside: a warning, then a new anchor */
	snprintf(aside, sizeof(aside), "%s.aside", e->anchor);
	assert_int_equal(rename(e->anchor, aside), 0);
	assert_int_equal(verify(e, NULL, &d), CP_OK);
	assert_finding_text(&d, CP_SEV_WARNING, "audit-anchor", "anchor missing");
	assert_errors(&d, 0);
	cp_diag_release(&d);
	a = open_trail(e);
	cp_audit_close(a);
	assert_intact(e, 6);
	assert_int_equal(verify(e, NULL, &d), CP_OK);
	assert_int_equal(d.count, 0);
	cp_diag_release(&d);
}

static void test_verify_forged_insert(void **state)
{
	struct env *e = *state;
	struct gots g = {0};
	struct cp_diag d;
	unsigned char h[32];
	char *s[8] = {"operator", "partner add", NULL, NULL, NULL, "ok", "forged", NULL};
	char hx[65], text[1024];

	fill(e, 5);
	/* a record added at the end with a made-up hash */
	sql(e, "INSERT INTO records(seq, time, kind, reason, hash) "
	       "VALUES(6, 0, 'admin', 'ok', zeroblob(32))");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-hash", "record 6 ");
	assert_finding_text(&d, CP_SEV_ERROR, "audit-anchor", "records 6 to 6 are not covered");
	cp_diag_release(&d);

	/* one whose hash is right (the encoding is public): only the anchor shows it */
	sql(e, "DELETE FROM records WHERE seq = 6");
	query(e, NULL, &g);
	ref_hash(g.v[4].hash, 6, g.v[4].time_us + 1, "admin", s, h);
	hex(h, hx);
	snprintf(text, sizeof(text),
		 "INSERT INTO records(seq, time, kind, partner, action, reason, detail, hash) "
		 "VALUES(6, %lld, 'admin', 'operator', 'partner add', 'ok', 'forged', x'%s')",
		 (long long)g.v[4].time_us + 1, hx);
	sql(e, text);
	gots_free(&g);
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_no_finding(&d, CP_SEV_ERROR, "audit-hash");
	assert_finding_text(&d, CP_SEV_ERROR, "audit-anchor", "records 6 to 6 are not covered");
	assert_errors(&d, 1);
	cp_diag_release(&d);

	/* a record slipped in before the first */
	sql(e, "DELETE FROM records WHERE seq = 6");
	sql(e, "INSERT INTO records(seq, time, kind, hash) VALUES(0, 0, 'admin', zeroblob(32))");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-gap", "record 0 is out of sequence");
	cp_diag_release(&d);
}

static void test_verify_modified_hash(void **state)
{
	struct env *e = *state;
	struct cp_diag d;

	fill(e, 5);
	sql(e, "UPDATE records SET hash = randomblob(32) WHERE seq = 3");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-hash", "record 3 ");
	/* record 4 chains to the hash record 3's content gives */
	assert_errors(&d, 1);
	cp_diag_release(&d);

	sql(e, "UPDATE records SET hash = randomblob(32) WHERE seq = 5");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-hash", "record 5 ");
	assert_finding_text(&d, CP_SEV_ERROR, "audit-anchor", "record 5 has hash");
	cp_diag_release(&d);
}

static void test_two_handles_one_chain(void **state)
{
	struct env *e = *state;
	struct cp_audit *server = open_trail(e), *cli = open_trail(e);
	struct gots g = {0};
	unsigned char head[32];
	char hx[65], line[128];
	int64_t seq;

	for (int i = 0; i < 20; i++) {
		append1(server, rec(CP_AUDIT_RELEASE, "north", NULL, "ok", "server"), i % 2 == 0);
		append1(cli, rec(CP_AUDIT_ADMIN, "operator", NULL, "ok", "cli"), i % 3 == 0);
	}
	cp_audit_close(cli);
	append1(server, rec(CP_AUDIT_RELEASE, "north", NULL, "ok", "server"), true);
	cp_audit_close(server);
	assert_intact(e, 41);
	query(e, NULL, &g);
	assert_int_equal(g.n, 41);
	for (size_t i = 0; i < g.n; i++)
		assert_int_equal(g.v[i].seq, (int64_t)i + 1);
	gots_free(&g);
	assert_int_equal(cp_audit_head(e->path, &seq, head), CP_OK);
	assert_int_equal(seq, 41);
	hex(head, hx);
	snprintf(line, sizeof(line), "41 %s\n", hx);
	assert_string_equal(read_text(e->anchor), line);
}

struct appender {
	struct cp_audit *a;
	atomic_int stop;
	int n;
};

static void *appender_main(void *arg)
{
	struct appender *ap = arg;

	while (!atomic_load(&ap->stop)) {
		struct cp_audit_record r = rec(CP_AUDIT_RELEASE, "north", NULL, "ok", "page");
		if (cp_audit_append(ap->a, &r, 1, ap->n % 2 == 0) != CP_OK)
			return (void *)1;
		ap->n++;
	}
	return NULL;
}

/* A verify while the server appends sees an intact prefix, never a false alarm. */
static void test_verify_while_appending(void **state)
{
	struct env *e = *state;
	struct appender ap = {open_trail(e), 0, 0};
	pthread_t th;
	void *rv;

	append1(ap.a, rec(CP_AUDIT_ADMIN, "operator", NULL, "start", NULL), true);
	assert_int_equal(pthread_create(&th, NULL, appender_main, &ap), 0);
	for (int i = 0; i < 15; i++) {
		struct cp_diag d;
		int64_t count = 0;
		enum cp_err err = verify(e, &count, &d);
		if (err != CP_OK || d.count) {
			tu_dump(&d);
			fail_msg("verify during appends: %s", cp_err_name(err));
		}
		assert_true(count >= 1);
		cp_diag_release(&d);
	}
	atomic_store(&ap.stop, 1);
	pthread_join(th, &rv);
	assert_null(rv);
	cp_audit_close(ap.a);
	assert_intact(e, ap.n + 1);
}

static void test_alloc_failure(void **state)
{
	struct env *e = *state;
	struct cp_audit *a = NULL;
	struct cp_audit_record r[3] = {
		rec(CP_AUDIT_RELEASE, "north", "x", "ok", "d"),
		rec(CP_AUDIT_RELEASE, "north", "y", "ok", "d"),
		rec(CP_AUDIT_RELEASE, "north", "z", "ok", "d"),
	};
	struct gots g = {0};
	enum cp_err err;
	int failures = 0;

	/* opening fails cleanly at every allocation until it succeeds */
	for (unsigned long n = 1;; n++) {
		cp_alloc_fail_after(n, false);
		err = cp_audit_open(e->path, &a, NULL);
		cp_alloc_fail_after(0, false);
		if (err == CP_OK)
			break;
		assert_int_equal(err, CP_ENOMEM);
		assert_true(n < 100);
		failures++;
	}
	assert_true(failures > 0);

	append1(a, r[0], true);
	for (int wait = 0; wait < 2; wait++) {
		cp_alloc_fail_after(1, false);
		assert_int_equal(cp_audit_append(a, r, 3, wait), CP_ENOMEM);
		cp_alloc_fail_after(0, false);
	}
	cp_alloc_fail_after(1, true);
	assert_int_equal(cp_audit_append(a, r + 1, 1, true), CP_ENOMEM);
	cp_alloc_fail_after(0, false);
	assert_int_equal(cp_audit_append(a, r + 1, 2, true), CP_OK);
	cp_audit_close(a);

	assert_intact(e, 3);
	query(e, NULL, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.v[0].s[3], "x");
	assert_string_equal(g.v[1].s[3], "y");
	assert_string_equal(g.v[2].s[3], "z");
	gots_free(&g);
}

static void test_commit_failure(void **state)
{
	struct env *e = *state;
	struct cp_audit *a = open_trail(e);
	struct gots g = {0};

	append1(a, rec(CP_AUDIT_ADMIN, "operator", NULL, "before", NULL), true);
	sql(e, "CREATE TRIGGER fail BEFORE INSERT ON records "
	       "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
	{
		struct cp_audit_record r = rec(CP_AUDIT_ADMIN, "operator", NULL, "refused", NULL);
		assert_int_equal(cp_audit_append(a, &r, 1, true), CP_EBACKEND);
	}
	/* nobody waits for this one: it is kept and retried */
	append1(a, rec(CP_AUDIT_ADMIN, "operator", NULL, "kept", NULL), false);
	usleep(100 * 1000);
	sql(e, "DROP TRIGGER fail");
	append1(a, rec(CP_AUDIT_ADMIN, "operator", NULL, "after", NULL), true);
	cp_audit_close(a);

	assert_intact(e, 3);
	query(e, NULL, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.v[0].s[5], "before");
	assert_string_equal(g.v[1].s[5], "kept");
	assert_string_equal(g.v[2].s[5], "after");
	gots_free(&g);
}

static void test_anchor_states(void **state)
{
	struct env *e = *state;
	struct cp_audit *a;
	struct cp_diag d;
	struct gots g = {0};
	char hx[65], line[128];

	/* an empty trail needs no anchor */
	a = open_trail(e);
	cp_audit_close(a);
	assert_int_equal(verify(e, NULL, &d), CP_OK);
	assert_int_equal(d.count, 0);
	cp_diag_release(&d);

	fill(e, 4);
	unlink(e->anchor);
	assert_int_equal(verify(e, NULL, &d), CP_OK);
	assert_finding_text(&d, CP_SEV_WARNING, "audit-anchor", "anchor missing");
	cp_diag_release(&d);

	write_text(e->anchor, "4 not-a-hash\n");
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-anchor", "malformed");
	cp_diag_release(&d);

	/* behind by one record, as a crash between commit and anchor update leaves it */
	query(e, NULL, &g);
	hex(g.v[2].hash, hx);
	snprintf(line, sizeof(line), "3 %s\n", hx);
	write_text(e->anchor, line);
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-anchor", "records 4 to 4 are not covered");
	cp_diag_release(&d);
	/* the next start brings it up */
	a = open_trail(e);
	cp_audit_close(a);
	assert_intact(e, 4);

	/* an anchor naming record 3 with another hash */
	hex(g.v[1].hash, hx);
	snprintf(line, sizeof(line), "3 %s\n", hx);
	write_text(e->anchor, line);
	assert_int_equal(verify(e, NULL, &d), CP_ECONFLICT);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-anchor", "record 3 has hash");
	cp_diag_release(&d);
	gots_free(&g);
}

static void test_head_and_arguments(void **state)
{
	struct env *e = *state;
	struct cp_audit *a;
	struct cp_diag d;
	unsigned char head[32], zero[32] = {0}, vhead[32];
	int64_t seq = -1, count = -1;
	char *big;
	struct cp_audit_record r = rec(CP_AUDIT_ADMIN, "operator", NULL, "ok", NULL);

	assert_int_equal(cp_audit_head(e->path, &seq, head), CP_ENOTFOUND);
	assert_int_equal(verify(e, NULL, &d), CP_ENOTFOUND);
	assert_finding(&d, CP_SEV_ERROR, "audit-open", NULL);
	cp_diag_release(&d);

	a = open_trail(e);
	assert_int_equal(cp_audit_head(e->path, &seq, head), CP_OK);
	assert_int_equal(seq, 0);
	assert_memory_equal(head, zero, 32);

	assert_int_equal(cp_audit_append(a, NULL, 0, true), CP_OK);
	assert_int_equal(cp_audit_append(a, NULL, 1, true), CP_EINVAL);
	r.kind = 0;
	assert_int_equal(cp_audit_append(a, &r, 1, true), CP_EINVAL);
	r.kind = (enum cp_audit_kind)6;
	assert_int_equal(cp_audit_append(a, &r, 1, true), CP_EINVAL);
	r.kind = CP_AUDIT_ADMIN;
	big = malloc(CP_AUDIT_DETAIL_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', CP_AUDIT_DETAIL_MAX + 1);
	big[CP_AUDIT_DETAIL_MAX + 1] = '\0';
	r.detail = big;
	assert_int_equal(cp_audit_append(a, &r, 1, true), CP_ETOOBIG);
	/* exactly the maximum is fine */
	big[CP_AUDIT_DETAIL_MAX] = '\0';
	assert_int_equal(cp_audit_append(a, &r, 1, true), CP_OK);
	free(big);
	cp_audit_close(a);

	assert_int_equal(cp_audit_head(e->path, &seq, head), CP_OK);
	assert_int_equal(seq, 1);
	cp_diag_init(&d);
	assert_int_equal(cp_audit_verify_head(e->path, &count, vhead, &d), CP_OK);
	cp_diag_release(&d);
	assert_int_equal(count, 1);
	assert_memory_equal(head, vhead, 32);

	for (int k = CP_AUDIT_RELEASE; k <= CP_AUDIT_ADMIN; k++)
		assert_int_equal(cp_audit_kind_from_name(cp_audit_kind_name(k)), k);
	assert_string_equal(cp_audit_kind_name(CP_AUDIT_WITHHOLD), "withhold");
	assert_string_equal(cp_audit_kind_name(0), "unknown");
	assert_int_equal(cp_audit_kind_from_name("unknown"), 0);
	assert_int_equal(cp_audit_kind_from_name(NULL), 0);
	cp_audit_close(NULL);
}

static void test_not_a_trail(void **state)
{
	struct env *e = *state;
	struct cp_diag d;
	char other[200];
	sqlite3 *db;

	write_text(e->path, "this is not a database\n");
	assert_int_equal(verify(e, NULL, &d), CP_EBACKEND);
	assert_finding(&d, CP_SEV_ERROR, "audit-open", NULL);
	cp_diag_release(&d);

	/* a SQLite database of something else */
	snprintf(other, sizeof(other), "%s/other.db", e->dir);
	assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cp_diag_init(&d);
	assert_int_equal(cp_audit_verify(other, NULL, &d), CP_EBACKEND);
	assert_finding_text(&d, CP_SEV_ERROR, "audit-open", "not an audit trail");
	cp_diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_wait_and_nowait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_and_empty_differ, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_queue_blocks_appenders, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reopen_continues_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_modified_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_deleted_middle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_deleted_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_forged_insert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_modified_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_handles_one_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_while_appending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anchor_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_and_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_trail, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
