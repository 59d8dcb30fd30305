/*
 * The SQLite backend of the store. WAL mode with synchronous=FULL: a commit is on disk
 * when sqlite3_step(COMMIT) returns, which is what cp_store_add() promises.
 *
 * Every version row carries is_first/is_last flags, maintained inside the write
 * transactions, so match[version]=first|last is an indexed column test instead of a
 * per-row subquery.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <time.h>

#include "../internal.h"
#include "recent.h"

struct add_ctx {
	sqlite3_stmt *version_row, *same, *insert, *clear_last, *clear_first, *last_added;
};

struct sqlite_store {
	struct cp_store base;
	sqlite3 *db;
	bool locked;      /* holds base.write_lock */
	struct add_ctx a; /* statements of add, prepared on first use */
	sqlite3_stmt *coll_num, *coll_get, *merged_ids, *recent_scan, *base_ids;
	struct cp__recent *recent; /* shared with the process's other connections */
	bool recent_added;         /* this transaction added entries to it ... */
	int64_t recent_mark;       /* ... above this seq */
	unsigned char idkey[crypto_shorthash_KEYBYTES]; /* meta 'ids_key' */
	int64_t *seqs;             /* candidate rows of an id (id_seqs) */
	size_t nseq, seqcap;
	/* prepared object queries by their text (query_get): pages of one shape repeat */
	struct {
		char *sql;
		sqlite3_stmt *q;
		unsigned long used;
	} queries[8];
	unsigned long query_clock;
};

/*
 * Schema 4. Version rows carry is_first/is_last so that match[version]=first|last is
 * an indexed column test, origin (provenance for the egress gate) and the marks the
 * writer gave (struct cp_store_marks: tlp, pap and the gate flags below), so that
 * egress decisions need no JSON parsing. A row names its collection by the
 * collection's integer key (collections.num), not its 36-character id (schema 3).
 *
 * The objects table has no index on ids (schema 4): ids are random, so such an index
 * put every new version on a random page and each commit wrote those pages again
 * (twice the bytes per object, docs/PERFORMANCE.md). The ids table is that index,
 * written in sorted batches: it holds the rows up to meta 'ids_merged'; the rows
 * above are in the process's recent table (recent.h) until the next merge moves them.
 * seq is AUTOINCREMENT so that a deleted row's seq is never handed out again below
 * 'ids_merged'. Schema 5 keys the ids table by a 64-bit SipHash of the id under the
 * store's own random key (meta 'ids_key'), a fifth of the bytes of the id and its
 * version; rows are checked after the lookup anyway, and without the key nobody can
 * make ids collide on purpose. Stores of schema 1 to 4 are upgraded in place when
 * opened; rows of schema 1, like rows written without marks, are GATE_UNKNOWN.
 */
#define GATE_BAD_MARKING 1u
#define GATE_CONSULTATION 2u
#define GATE_UNKNOWN 4u
#define GATE_UNKNOWN_S "4"
#define SCHEMA_VERSION "5"

#define OBJECTS_DATA_COLUMNS                                                              \
	"  cid INTEGER NOT NULL,"                                                         \
	"  id TEXT NOT NULL, type TEXT NOT NULL, spec_version TEXT NOT NULL,"             \
	"  version_key TEXT NOT NULL, version TEXT NOT NULL,"                             \
	"  date_added INTEGER NOT NULL, revoked INTEGER NOT NULL,"                        \
	"  is_first INTEGER NOT NULL, is_last INTEGER NOT NULL,"                          \
	"  json TEXT NOT NULL, origin TEXT,"                                              \
	"  tlp INTEGER NOT NULL DEFAULT 0, pap INTEGER NOT NULL DEFAULT 0,"               \
	"  gate INTEGER NOT NULL DEFAULT " GATE_UNKNOWN_S ","

#define OBJECTS_COLUMNS_V3                                                                \
	"  seq INTEGER PRIMARY KEY," OBJECTS_DATA_COLUMNS                                 \
	"  UNIQUE(cid, date_added), UNIQUE(cid, id, version_key)"

#define OBJECTS_COLUMNS                                                                   \
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT," OBJECTS_DATA_COLUMNS                   \
	"  UNIQUE(cid, date_added)"

#define OBJECTS_COPY                                                                      \
	"seq, cid, id, type, spec_version, version_key, version, date_added, revoked, "   \
	"is_first, is_last, json, origin, tlp, pap, gate"

#define OBJECTS_INDEXES                                                                   \
	"CREATE INDEX IF NOT EXISTS objects_last ON objects(cid, is_last, date_added);"   \
	"CREATE INDEX IF NOT EXISTS objects_type ON objects(cid, type, date_added);"

#define IDS_TABLE                                                                         \
	"CREATE TABLE IF NOT EXISTS ids(cid INTEGER NOT NULL, key INTEGER NOT NULL,"      \
	"  seq INTEGER NOT NULL, PRIMARY KEY(cid, key, seq)) WITHOUT ROWID;"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS collections("
	"  id TEXT PRIMARY KEY, api_root TEXT NOT NULL, title TEXT NOT NULL,"
	"  description TEXT, alias TEXT, num INTEGER, UNIQUE(api_root, alias));"
	"CREATE UNIQUE INDEX IF NOT EXISTS collections_num ON collections(num);"
	"CREATE TABLE IF NOT EXISTS objects(" OBJECTS_COLUMNS ");" OBJECTS_INDEXES IDS_TABLE
	"CREATE TABLE IF NOT EXISTS statuses("
	"  api_root TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL, owner TEXT,"
	"  PRIMARY KEY(api_root, id));"
	"CREATE TABLE IF NOT EXISTS cursors(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"INSERT OR IGNORE INTO meta(key, value) VALUES('ids_merged', '0');"
	"INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '" SCHEMA_VERSION "');";

static const char upgrade_1_to_2[] =
	"ALTER TABLE objects ADD COLUMN origin TEXT;"
	"ALTER TABLE objects ADD COLUMN tlp INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE objects ADD COLUMN pap INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE objects ADD COLUMN gate INTEGER NOT NULL DEFAULT " GATE_UNKNOWN_S ";"
	"ALTER TABLE statuses ADD COLUMN owner TEXT;"
	"CREATE TABLE IF NOT EXISTS cursors(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"UPDATE meta SET value = '2' WHERE key = 'schema_version';";

/* the objects table is rebuilt with integer collection keys (rows keep their seq) */
static const char upgrade_2_to_3[] =
	"ALTER TABLE collections ADD COLUMN num INTEGER;"
	"UPDATE collections SET num = rowid;"
	"CREATE UNIQUE INDEX collections_num ON collections(num);"
	"CREATE TABLE objects_v3(" OBJECTS_COLUMNS_V3 ");"
	"INSERT INTO objects_v3(" OBJECTS_COPY ") "
	"SELECT o.seq, c.num, o.id, o.type, o.spec_version, o.version_key, o.version, "
	"  o.date_added, o.revoked, o.is_first, o.is_last, o.json, o.origin, o.tlp, o.pap, "
	"  o.gate FROM objects o JOIN collections c ON c.id = o.collection;"
	"DROP TABLE objects;"
	"ALTER TABLE objects_v3 RENAME TO objects;" OBJECTS_INDEXES
	"UPDATE meta SET value = '3' WHERE key = 'schema_version';";

/* rebuilt again without the id index, which moves to the ids table */
static const char upgrade_3_to_4[] =
	"CREATE TABLE objects_v4(" OBJECTS_COLUMNS ");"
	"INSERT INTO objects_v4(" OBJECTS_COPY ") SELECT " OBJECTS_COPY " FROM objects;"
	"DROP TABLE objects;"
	"ALTER TABLE objects_v4 RENAME TO objects;" OBJECTS_INDEXES
	"UPDATE meta SET value = '4' WHERE key = 'schema_version';";

/* the ids table of schema 5, every row merged (the store's key exists: ids_key()) */
static const char upgrade_4_to_5[] =
	"DROP TABLE IF EXISTS ids;" IDS_TABLE
	"INSERT INTO ids(cid, key, seq) "
	"  SELECT cid, cp_id_key(id), seq FROM objects ORDER BY 1, 2, 3;"
	"INSERT OR REPLACE INTO meta(key, value) "
	"  VALUES('ids_merged', (SELECT COALESCE(MAX(seq), 0) FROM objects));"
	"UPDATE meta SET value = '5' WHERE key = 'schema_version';";

/*
 * The write-ahead log is folded back into the database by checkpoints after commits.
 * A passive checkpoint copies each page once however often it changed since the
 * last one, so checkpointing less often writes less: random ids dirty index pages
 * that the next envelopes dirty again (SQLite's default, every 1000 pages, cost a
 * tenth of ingest's CPU). With readers always active a passive checkpoint may never
 * let the log start over, so past WAL_TRUNCATE_PAGES the committing writer, which
 * holds the write lock, waits for readers and truncates it.
 */
#define WAL_PASSIVE_PAGES 8192   /* 32 MB of 4 KB pages */
#define WAL_TRUNCATE_PAGES 32768 /* 128 MB */

static struct sqlite_store *S(struct cp_store *s)
{
	return (struct sqlite_store *)s;
}

static enum cp_err fail(struct sqlite_store *st, const char *what)
{
	int code = sqlite3_extended_errcode(st->db);

	cp__store_set_error(&st->base, "sqlite: %s: %s", what, sqlite3_errmsg(st->db));
	if (code == SQLITE_NOMEM)
		return CP_ENOMEM;
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return CP_ETIMEOUT;
	return CP_EBACKEND;
}

static enum cp_err exec(struct sqlite_store *st, const char *sql)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(st, sql);
	return CP_OK;
}

static enum cp_err prepare(struct sqlite_store *st, const char *sql, sqlite3_stmt **out)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK)
		return fail(st, "prepare");
	return CP_OK;
}

/* Prepare once per connection; later calls reuse the statement (reset after use). */
/* Prepare the first statement of sql; *tail is where the next one starts. */
static enum cp_err prepare_tail(struct sqlite_store *st, const char *sql, sqlite3_stmt **out,
				const char **tail)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, out, tail) != SQLITE_OK)
		return fail(st, "prepare");
	return CP_OK;
}

static enum cp_err prepare_cached(struct sqlite_store *st, const char *sql, sqlite3_stmt **q)
{
	if (*q)
		return CP_OK;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, q, NULL) != SQLITE_OK)
		return fail(st, "prepare");
	return CP_OK;
}

/*
 * A prepared statement for the object query sql, from the connection's cache, the
 * least recently used one making room: preparing the page query was 4% of a page's
 * CPU. Put it back with query_done().
 */
static enum cp_err query_get(struct sqlite_store *st, const char *sql, sqlite3_stmt **out)
{
	size_t victim = 0;
	sqlite3_stmt *q;
	char *copy;

	for (size_t i = 0; i < CP_ARRAY_LEN(st->queries); i++) {
		if (st->queries[i].sql && strcmp(st->queries[i].sql, sql) == 0) {
			st->queries[i].used = ++st->query_clock;
			*out = st->queries[i].q;
			return CP_OK;
		}
		if (st->queries[i].used < st->queries[victim].used)
			victim = i;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL) != SQLITE_OK)
		return fail(st, "prepare");
	copy = cp_strdup(sql);
	if (!copy) {
		sqlite3_finalize(q);
		return CP_ENOMEM;
	}
	sqlite3_finalize(st->queries[victim].q);
	cp_free(st->queries[victim].sql);
	st->queries[victim].sql = copy;
	st->queries[victim].q = q;
	st->queries[victim].used = ++st->query_clock;
	*out = q;
	return CP_OK;
}

/* done with a statement of query_get(): it keeps no read transaction, no pointers */
static void query_done(sqlite3_stmt *q)
{
	if (q) {
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
	}
}

static char *col_dup(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? cp_strdup((const char *)t) : NULL;
}

static void add_ctx_release(struct add_ctx *a)
{
	sqlite3_finalize(a->version_row);
	sqlite3_finalize(a->same);
	sqlite3_finalize(a->insert);
	sqlite3_finalize(a->clear_last);
	sqlite3_finalize(a->clear_first);
	sqlite3_finalize(a->last_added);
	memset(a, 0, sizeof(*a));
}

static void sq_close(struct cp_store *s)
{
	struct sqlite_store *st = S(s);
	add_ctx_release(&st->a);
	sqlite3_finalize(st->coll_num);
	sqlite3_finalize(st->coll_get);
	sqlite3_finalize(st->merged_ids);
	sqlite3_finalize(st->recent_scan);
	sqlite3_finalize(st->base_ids);
	for (size_t i = 0; i < CP_ARRAY_LEN(st->queries); i++) {
		sqlite3_finalize(st->queries[i].q);
		cp_free(st->queries[i].sql);
	}
	sqlite3_close(st->db); /* after every statement is finalised, or it stays open */
	cp__recent_release(st->recent);
	cp_free(st->seqs);
	cp_free(st);
}

/* ------------------------------------------------------------ recent ids */

/* The ids table's key of an id: SipHash-2-4 under the store's key, little-endian. */
static int64_t id_key(const struct sqlite_store *st, const char *id, size_t len)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v = 0;

	crypto_shorthash(h, (const unsigned char *)id, len, st->idkey);
	for (size_t i = sizeof(h); i-- > 0;)
		v = v << 8 | h[i];
	return (int64_t)v;
}

/* cp_id_key(id) in SQL, for merges and upgrades */
static void sql_id_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct sqlite_store *st = sqlite3_user_data(ctx);
	const char *id = (const char *)sqlite3_value_text(argv[0]);

	(void)argc;
	if (!id) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_int64(ctx, id_key(st, id, (size_t)sqlite3_value_bytes(argv[0])));
}

/*
 * A merge moves the recent rows into the ids table once there are RECENT_MIN of them,
 * or an eighth of the rows merged before (the seq bound stands in for their count),
 * up to RECENT_MAX: sorted, each page of the ids table is written once per merge, and
 * the batch grows with the table so that a merge's pages per object stay bounded. The
 * recent table costs about 100 bytes per entry (100 MB at RECENT_MAX).
 */
#define RECENT_MIN 65536
#define RECENT_MAX (1u << 20)
size_t cp__store_recent_min = RECENT_MIN;

/* meta 'ids_merged' as this connection sees it */
static enum cp_err read_merged(struct sqlite_store *st, int64_t *out)
{
	enum cp_err err;
	int rc;

	if ((err = prepare_cached(st,
				  "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'ids_merged'",
				  &st->merged_ids)))
		return err;
	rc = sqlite3_step(st->merged_ids);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st->merged_ids, 0) : 0;
	sqlite3_reset(st->merged_ids);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? CP_OK : fail(st, "read ids_merged");
}

/* Add the rows this connection sees above the recent table's max; r->lock held. */
static enum cp_err recent_catch_up(struct sqlite_store *st)
{
	struct cp__recent *r = st->recent;
	enum cp_err err;
	bool settled;
	int rc;

	if (!r->loaded) {
		int64_t merged;
		if ((err = read_merged(st, &merged)))
			return err;
		cp__recent_reset(r, merged);
		r->loaded = true;
	}
	/* no transaction of this process has rows above stable: what is read is all */
	settled = r->max == r->stable;
	if ((err = prepare_cached(st, "SELECT seq, cid, id FROM objects WHERE seq > ?1 ORDER BY seq",
				  &st->recent_scan)))
		return err;
	sqlite3_bind_int64(st->recent_scan, 1, r->max);
	while ((rc = sqlite3_step(st->recent_scan)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st->recent_scan, 2);
		err = id ? cp__recent_add(r, sqlite3_column_int64(st->recent_scan, 1),
					  id_key(st, id, (size_t)sqlite3_column_bytes(st->recent_scan, 2)),
					  id, sqlite3_column_int64(st->recent_scan, 0))
			 : CP_ENOMEM;
		if (err) {
			sqlite3_reset(st->recent_scan);
			return err;
		}
	}
	sqlite3_reset(st->recent_scan);
	if (rc != SQLITE_DONE)
		return fail(st, "read recent ids");
	if (settled)
		r->stable = r->max;
	return CP_OK;
}

static enum cp_err recent_sync(struct sqlite_store *st)
{
	enum cp_err err;

	pthread_mutex_lock(&st->recent->lock);
	err = recent_catch_up(st);
	pthread_mutex_unlock(&st->recent->lock);
	return err;
}

/* An inserted row into the recent table (in a write transaction). */
static enum cp_err recent_note(struct sqlite_store *st, int64_t cid, int64_t key, const char *id,
			       int64_t seq)
{
	struct cp__recent *r = st->recent;
	enum cp_err err;

	pthread_mutex_lock(&r->lock);
	if (!st->recent_added) {
		st->recent_added = true;
		st->recent_mark = r->max;
	}
	err = cp__recent_add(r, cid, key, id, seq);
	pthread_mutex_unlock(&r->lock);
	return err;
}

/*
 * The seqs of rows that may hold versions of (cid, id), in st->seqs: from the ids
 * table and the recent table. A writer has caught the recent table up; the rows are
 * then read with their cid and id checked.
 */
static enum cp_err base_seqs(struct sqlite_store *st, int64_t cid, int64_t key)
{
	enum cp_err err;
	int rc;

	if ((err = prepare_cached(st, "SELECT seq FROM ids WHERE cid = ?1 AND key = ?2",
				  &st->base_ids)))
		return err;
	sqlite3_bind_int64(st->base_ids, 1, cid);
	sqlite3_bind_int64(st->base_ids, 2, key);
	while ((rc = sqlite3_step(st->base_ids)) == SQLITE_ROW) {
		if (st->nseq == st->seqcap) {
			size_t ncap = st->seqcap ? st->seqcap * 2 : 8;
			int64_t *p = cp_realloc(st->seqs, ncap * sizeof(*p));
			if (!p) {
				sqlite3_reset(st->base_ids);
				return CP_ENOMEM;
			}
			st->seqs = p;
			st->seqcap = ncap;
		}
		st->seqs[st->nseq++] = sqlite3_column_int64(st->base_ids, 0);
	}
	sqlite3_reset(st->base_ids);
	return rc == SQLITE_DONE ? CP_OK : fail(st, "look up id");
}

/* ... for a writer; *key is the id's key */
static enum cp_err id_seqs(struct sqlite_store *st, int64_t cid, const char *id, int64_t *key)
{
	enum cp_err err;

	*key = id_key(st, id, strlen(id));
	st->nseq = 0;
	pthread_mutex_lock(&st->recent->lock);
	err = cp__recent_lookup(st->recent, cid, *key, id, &st->seqs, &st->nseq, &st->seqcap);
	pthread_mutex_unlock(&st->recent->lock);
	return err ? err : base_seqs(st, cid, *key);
}

/*
 * For a reader: the candidate rows of the ids in st->seqs, and in *tail the seq above
 * which rows may not be in the recent table yet (the query reads those too). The
 * recent table is read first: a row it lacks is either above *tail or, merged
 * before, in the ids table read after it.
 */
static enum cp_err ids_seqs(struct sqlite_store *st, int64_t cid, const char *const *ids,
			    size_t n, int64_t *tail)
{
	struct cp__recent *r = st->recent;
	enum cp_err err = CP_OK;

	st->nseq = 0;
	pthread_mutex_lock(&r->lock);
	if (!r->loaded || r->max == r->stable)
		err = recent_catch_up(st);
	for (size_t i = 0; !err && i < n; i++)
		err = cp__recent_lookup(r, cid, id_key(st, ids[i], strlen(ids[i])), ids[i],
					&st->seqs, &st->nseq, &st->seqcap);
	*tail = r->stable;
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; !err && i < n; i++)
		err = base_seqs(st, cid, id_key(st, ids[i], strlen(ids[i])));
	return err;
}

/* " seq IN (1,2,...)" from st->seqs (integers of our own, so no binding needed) */
static void seq_list(struct cp_buf *sql, const struct sqlite_store *st)
{
	cp_buf_puts(sql, "seq IN (");
	for (size_t i = 0; i < st->nseq; i++)
		cp_buf_printf(sql, i ? ",%" PRId64 : "%" PRId64, st->seqs[i]);
	cp_buf_putc(sql, ')');
}

/*
 * After a commit, holding the write lock: move the recent rows into the ids table
 * when there are enough of them. The objects are committed already; a merge that
 * fails is logged and tried again after as many rows again.
 */
static void recent_merge(struct sqlite_store *st)
{
	struct cp__recent *r = st->recent;
	sqlite3_stmt *ins = NULL, *upd = NULL, *mx = NULL;
	size_t count, threshold;
	int64_t merged = 0, upto = 0;
	enum cp_err err;

	pthread_mutex_lock(&r->lock);
	count = r->count;
	threshold = (size_t)(r->base / 8);
	if (threshold > RECENT_MAX)
		threshold = RECENT_MAX;
	if (threshold < cp__store_recent_min)
		threshold = cp__store_recent_min;
	if (r->merge_retry > threshold)
		threshold = r->merge_retry;
	pthread_mutex_unlock(&r->lock);
	if (count < threshold)
		return;
	if ((err = exec(st, "BEGIN IMMEDIATE")))
		goto out;
	if ((err = read_merged(st, &merged)) ||
	    (err = prepare(st, "SELECT COALESCE(MAX(seq), 0) FROM objects", &mx)))
		goto out;
	if (sqlite3_step(mx) != SQLITE_ROW) {
		err = fail(st, "last seq");
		goto out;
	}
	upto = sqlite3_column_int64(mx, 0);
	if ((err = prepare(st,
			   "INSERT OR IGNORE INTO ids(cid, key, seq) "
			   "SELECT cid, cp_id_key(id), seq FROM objects "
			   "WHERE seq > ?1 AND seq <= ?2 ORDER BY 1, 2, 3",
			   &ins)) ||
	    (err = prepare(st, "UPDATE meta SET value = ?1 WHERE key = 'ids_merged'", &upd)))
		goto out;
	sqlite3_bind_int64(ins, 1, merged);
	sqlite3_bind_int64(ins, 2, upto);
	sqlite3_bind_int64(upd, 1, upto);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		err = fail(st, "merge ids");
		goto out;
	}
	if (sqlite3_step(upd) != SQLITE_DONE) {
		err = fail(st, "update ids_merged");
		goto out;
	}
	err = exec(st, "COMMIT");
out:
	sqlite3_finalize(mx);
	sqlite3_finalize(ins);
	sqlite3_finalize(upd);
	pthread_mutex_lock(&r->lock);
	if (err) {
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		r->merge_retry = count * 2;
		CP_LOG_WRN("store", "moving %zu ids into the ids table failed (tried again later): %s",
			   count, st->base.errmsg);
	} else {
		/* rows another process adds after the commit are above upto: caught up later */
		cp__recent_reset(r, upto);
		r->loaded = true;
		r->merge_retry = 0;
		CP_LOG_DBG("store", "moved %zu ids into the ids table (rows up to %" PRId64 ")",
			   count, upto);
	}
	pthread_mutex_unlock(&r->lock);
}

/* ---------------------------------------------------------- transactions */

static void unlock(struct sqlite_store *st)
{
	if (st->locked) {
		st->locked = false;
		pthread_mutex_unlock(st->base.write_lock);
	}
}

/* IMMEDIATE takes SQLite's write lock now, so date_added is assigned in commit order. */
static enum cp_err sq_begin(struct cp_store *s)
{
	struct sqlite_store *st = S(s);
	enum cp_err err;

	if (st->base.write_lock) {
		pthread_mutex_lock(st->base.write_lock);
		st->locked = true;
	}
	err = exec(st, "BEGIN IMMEDIATE");
	if (err)
		unlock(st);
	return err;
}

/* The recent table forgets nothing on a rollback, but must look at the rows above the
 * mark again: other writers may now give their rows those seqs. */
static void sq_rollback(struct cp_store *s)
{
	struct sqlite_store *st = S(s);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	if (st->recent_added) {
		pthread_mutex_lock(&st->recent->lock);
		if (st->recent->max > st->recent_mark)
			st->recent->max = st->recent_mark;
		pthread_mutex_unlock(&st->recent->lock);
		st->recent_added = false;
	}
	unlock(st);
}

static enum cp_err sq_commit(struct cp_store *s)
{
	struct sqlite_store *st = S(s);
	enum cp_err err = exec(st, "COMMIT");

	if (err) {
		sq_rollback(s);
		return err;
	}
	if (st->recent_added) {
		pthread_mutex_lock(&st->recent->lock);
		st->recent->stable = st->recent->max;
		pthread_mutex_unlock(&st->recent->lock);
		st->recent_added = false;
	}
	recent_merge(st);
	unlock(st);
	return CP_OK;
}

/* For one write call: its own transaction unless the caller opened one. */
static enum cp_err write_begin(struct sqlite_store *st, bool *own)
{
	*own = !st->base.in_tx;
	return *own ? sq_begin(&st->base) : CP_OK;
}

static enum cp_err write_end(struct sqlite_store *st, bool own, enum cp_err err)
{
	if (!own)
		return err;
	if (err) {
		sq_rollback(&st->base);
		return err;
	}
	return sq_commit(&st->base);
}

static int wal_hook(void *ctx, sqlite3 *db, const char *name, int pages)
{
	(void)ctx;
	if (pages >= WAL_TRUNCATE_PAGES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	else if (pages >= WAL_PASSIVE_PAGES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

/* ------------------------------------------------------------ collections */

static enum cp_err sq_collection_put(struct cp_store *s, const struct cp_store_collection *c)
{
	struct sqlite_store *st = S(s);
	sqlite3_stmt *q = NULL;
	enum cp_err err;
	bool own;

	err = prepare(st,
		      "INSERT INTO collections(id, api_root, title, description, alias, num) "
		      "VALUES(?1, ?2, ?3, ?4, ?5, "
		      "  (SELECT COALESCE(MAX(num), 0) + 1 FROM collections)) "
		      "ON CONFLICT(id) DO UPDATE SET "
		      "title = excluded.title, description = excluded.description, "
		      "alias = excluded.alias",
		      &q);
	if (err)
		return err;
	sqlite3_bind_text(q, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, c->api_root, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, c->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, c->description, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, c->alias, -1, SQLITE_STATIC);
	if ((err = write_begin(st, &own)))
		goto out;
	if (sqlite3_step(q) != SQLITE_DONE)
		err = sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE
			      ? CP_ECONFLICT
			      : fail(st, "store collection");
	err = write_end(st, own, err);
out:
	sqlite3_finalize(q);
	return err;
}

static enum cp_err read_collection(sqlite3_stmt *q, struct cp_store_collection *c)
{
	memset(c, 0, sizeof(*c));
	c->id = col_dup(q, 0);
	c->api_root = col_dup(q, 1);
	c->title = col_dup(q, 2);
	c->description = col_dup(q, 3);
	c->alias = col_dup(q, 4);
	if (!c->id || !c->api_root || !c->title ||
	    (sqlite3_column_type(q, 3) != SQLITE_NULL && !c->description) ||
	    (sqlite3_column_type(q, 4) != SQLITE_NULL && !c->alias)) {
		cp_store_collection_release(c);
		return CP_ENOMEM;
	}
	return CP_OK;
}

static enum cp_err sq_collection_list(struct cp_store *s, const char *api_root,
				      struct cp_store_collection **out, size_t *count)
{
	struct sqlite_store *st = S(s);
	sqlite3_stmt *q = NULL;
	struct cp_store_collection *list = NULL;
	size_t n = 0, cap = 0;
	enum cp_err err;
	int rc;

	err = prepare(st,
		      "SELECT id, api_root, title, description, alias FROM collections "
		      "WHERE api_root = ?1 ORDER BY id",
		      &q);
	if (err)
		return err;
	sqlite3_bind_text(q, 1, api_root, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct cp_store_collection *p = cp_realloc(list, ncap * sizeof(*p));
			if (!p) {
				err = CP_ENOMEM;
				goto out;
			}
			list = p;
			cap = ncap;
		}
		err = read_collection(q, &list[n]);
		if (err)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		err = fail(st, "list collections");
		goto out;
	}
	*out = list;
	*count = n;
	list = NULL;
out:
	sqlite3_finalize(q);
	if (list)
		cp_store_collection_list_free(list, n);
	return err;
}

static enum cp_err sq_collection_get(struct cp_store *s, const char *api_root,
				     const char *id_or_alias, struct cp_store_collection *out)
{
	struct sqlite_store *st = S(s);
	sqlite3_stmt *q;
	enum cp_err err;
	int rc;

	/* every request names its collection: prepared once per connection */
	err = prepare_cached(st,
			     "SELECT id, api_root, title, description, alias FROM collections "
			     "WHERE api_root = ?1 AND (id = ?2 OR alias = ?2) ORDER BY id = ?2 DESC "
			     "LIMIT 1",
			     &st->coll_get);
	if (err)
		return err;
	q = st->coll_get;
	sqlite3_bind_text(q, 1, api_root, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id_or_alias, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		err = read_collection(q, out);
	else if (rc == SQLITE_DONE)
		err = CP_ENOTFOUND;
	else
		err = fail(st, "get collection");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return err;
}

/* ---------------------------------------------------------------- objects */

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The integer key of a collection (collections.num), or CP_ENOTFOUND. */
static enum cp_err coll_num(struct sqlite_store *st, const char *coll, int64_t *num)
{
	enum cp_err err;
	int rc;

	if ((err = prepare_cached(st, "SELECT num FROM collections WHERE id = ?1", &st->coll_num)))
		return err;
	sqlite3_bind_text(st->coll_num, 1, coll, -1, SQLITE_STATIC);
	rc = sqlite3_step(st->coll_num);
	if (rc == SQLITE_ROW)
		*num = sqlite3_column_int64(st->coll_num, 0);
	sqlite3_reset(st->coll_num);
	if (rc == SQLITE_ROW)
		return CP_OK;
	return rc == SQLITE_DONE ? CP_ENOTFOUND : fail(st, "look up collection");
}

static enum cp_err add_prepare(struct sqlite_store *st, struct add_ctx *a)
{
	enum cp_err err;

	/* rows come from id_seqs(): each is checked to hold a version of this id */
	if ((err = prepare_cached(st,
				  "SELECT version_key, CASE WHEN version_key = ?3 THEN json END, "
				  "date_added, is_first, is_last FROM objects "
				  "WHERE seq = ?4 AND cid = ?1 AND id = ?2",
				  &a->version_row)) ||
	    (err = prepare_cached(st,
				  "SELECT date_added FROM objects WHERE seq = ?4 AND cid = ?1 "
				  "AND id = ?2 AND json = ?3",
				  &a->same)) ||
	    (err = prepare_cached(st,
				  "INSERT INTO objects(cid, id, type, spec_version, "
				  "version_key, version, date_added, revoked, is_first, is_last, "
				  "json, origin, tlp, pap, gate) "
				  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
				  "?14, ?15)",
				  &a->insert)) ||
	    (err = prepare_cached(st, "UPDATE objects SET is_last = 0 WHERE seq = ?1",
				  &a->clear_last)) ||
	    (err = prepare_cached(st, "UPDATE objects SET is_first = 0 WHERE seq = ?1",
				  &a->clear_first)) ||
	    (err = prepare_cached(st,
				  "SELECT MAX(date_added) FROM objects WHERE cid = ?1",
				  &a->last_added)))
		return err;
	return CP_OK;
}

static enum cp_err step_done(struct sqlite_store *st, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? CP_OK : fail(st, what);
}

/*
 * The stored text of (id, version) is the same version as json if the two are equal
 * as JSON: texts first (the common resubmission), then parsed, so that a client that
 * orders keys differently is not told its identical object is a conflict.
 */
static bool same_json(const char *old, const char *json, const json_t *obj)
{
	json_t *o;
	bool eq;

	if (!old)
		return false;
	if (strcmp(old, json) == 0)
		return true;
	o = json_loads(old, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	eq = o && json_equal(o, obj);
	json_decref(o);
	return eq;
}

static enum cp_err add_one(struct sqlite_store *st, struct add_ctx *a, int64_t cid,
			   struct cp_stix_object *o, const char *text,
			   const struct cp_store_marks *marks, const char *origin,
			   int64_t *next_added, struct cp_store_add_result *res)
{
	const char *id = cp_stix_object_id(o);
	struct cp_time t;
	char vkey[CP__STORE_VKEY_LEN], vtext[CP_TIME_TEXT_MAX];
	char *dumped = NULL;
	const char *json = text;
	bool first, last, none;
	int64_t first_seq, last_seq, key;
	int rc;
	enum cp_err err = CP_OK;

	/* the text as sent when the caller has it (a tenth of ingest's CPU went into
	 * serialising parsed objects again); members in the order received otherwise,
	 * as equality is decided as JSON anyway (same_json) */
	if (!json) {
		json = dumped = json_dumps(cp_stix_object_json(o), JSON_COMPACT);
		if (!json)
			return CP_ENOMEM;
	}
	if (cp_stix_object_modified(o, &t) || cp_stix_object_created(o, &t)) {
		cp_time_format(&t, vtext);
	} else {
		/* no modified, no created (SCOs): the version is the date_added (TAXII 2.1);
		 * an identical object already stored is that same version again */
		if ((err = id_seqs(st, cid, id, &key)))
			goto out;
		for (size_t i = 0; i < st->nseq; i++) {
			sqlite3_bind_int64(a->same, 1, cid);
			sqlite3_bind_text(a->same, 2, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(a->same, 3, json, -1, SQLITE_STATIC);
			sqlite3_bind_int64(a->same, 4, st->seqs[i]);
			rc = sqlite3_step(a->same);
			if (rc == SQLITE_ROW) {
				res->outcome = CP_STORE_EXISTING;
				res->date_added =
					cp__store_us_to_time(sqlite3_column_int64(a->same, 0));
			}
			sqlite3_reset(a->same);
			if (rc == SQLITE_ROW)
				goto out;
			if (rc != SQLITE_DONE) {
				err = fail(st, "look up object");
				goto out;
			}
		}
		t = cp__store_us_to_time(*next_added);
		cp_time_format(&t, vtext);
	}
	cp__store_version_key(&t, vkey);

	if ((err = id_seqs(st, cid, id, &key)))
		goto out;
	none = true;
	first = last = true;
	first_seq = last_seq = 0;
	for (size_t i = 0; i < st->nseq; i++) {
		const char *k;
		int c;
		sqlite3_bind_int64(a->version_row, 1, cid);
		sqlite3_bind_text(a->version_row, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(a->version_row, 3, vkey, -1, SQLITE_STATIC);
		sqlite3_bind_int64(a->version_row, 4, st->seqs[i]);
		rc = sqlite3_step(a->version_row);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(a->version_row);
			if (rc == SQLITE_DONE) /* not a version of this id (recent.h) */
				continue;
			err = fail(st, "look up versions");
			goto out;
		}
		k = (const char *)sqlite3_column_text(a->version_row, 0);
		c = k ? strcmp(k, vkey) : 0;
		if (k && c == 0) {
			const char *old = (const char *)sqlite3_column_text(a->version_row, 1);
			res->outcome = same_json(old, json, cp_stix_object_json(o))
					       ? CP_STORE_EXISTING
					       : CP_STORE_CONFLICT;
			res->date_added =
				cp__store_us_to_time(sqlite3_column_int64(a->version_row, 2));
			sqlite3_reset(a->version_row);
			goto out;
		}
		none = false;
		if (c < 0)
			first = false; /* an older version exists */
		else
			last = false; /* a newer one */
		if (sqlite3_column_int(a->version_row, 3))
			first_seq = st->seqs[i];
		if (sqlite3_column_int(a->version_row, 4))
			last_seq = st->seqs[i];
		sqlite3_reset(a->version_row);
	}

	if (last && !none && last_seq) {
		sqlite3_bind_int64(a->clear_last, 1, last_seq);
		if ((err = step_done(st, a->clear_last, "update last version")))
			goto out;
	}
	if (first && !none && first_seq) {
		sqlite3_bind_int64(a->clear_first, 1, first_seq);
		if ((err = step_done(st, a->clear_first, "update first version")))
			goto out;
	}
	sqlite3_bind_int64(a->insert, 1, cid);
	sqlite3_bind_text(a->insert, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->insert, 3, cp_stix_object_type(o), -1, SQLITE_STATIC);
	sqlite3_bind_text(a->insert, 4, cp_stix_object_spec_version(o), -1, SQLITE_STATIC);
	sqlite3_bind_text(a->insert, 5, vkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->insert, 6, vtext, -1, SQLITE_STATIC);
	sqlite3_bind_int64(a->insert, 7, *next_added);
	sqlite3_bind_int(a->insert, 8, cp_stix_object_is_revoked(o));
	sqlite3_bind_int(a->insert, 9, first);
	sqlite3_bind_int(a->insert, 10, last);
	sqlite3_bind_text(a->insert, 11, json, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->insert, 12, origin, -1, SQLITE_STATIC);
	if (marks && marks->known) {
		sqlite3_bind_int(a->insert, 13, marks->tlp);
		sqlite3_bind_int(a->insert, 14, marks->pap);
		sqlite3_bind_int(a->insert, 15,
				 (int)((marks->bad_marking ? GATE_BAD_MARKING : 0) |
				       (marks->consultation ? GATE_CONSULTATION : 0)));
	} else {
		sqlite3_bind_int(a->insert, 13, 0);
		sqlite3_bind_int(a->insert, 14, 0);
		sqlite3_bind_int(a->insert, 15, (int)GATE_UNKNOWN);
	}
	if ((err = step_done(st, a->insert, "insert object")) ||
	    (err = recent_note(st, cid, key, id, sqlite3_last_insert_rowid(st->db))))
		goto out;
	res->outcome = CP_STORE_ADDED;
	res->date_added = cp__store_us_to_time(*next_added);
	(*next_added)++;
out:
	cp_free(dumped);
	return err;
}

static enum cp_err sq_add(struct cp_store *s, const char *coll, struct cp_stix_object *const *objs,
			  const char *const *texts, const struct cp_store_marks *marks,
			  size_t count, const char *origin, struct cp_store_add_result *results)
{
	struct sqlite_store *st = S(s);
	struct add_ctx *a = &st->a;
	int64_t next_added, cid;
	enum cp_err err;
	bool own;

	if ((err = add_prepare(st, a)))
		return err;
	if ((err = write_begin(st, &own)))
		return err;
	if ((err = coll_num(st, coll, &cid)) || (err = recent_sync(st)))
		goto out;
	sqlite3_bind_int64(a->last_added, 1, cid);
	if (sqlite3_step(a->last_added) != SQLITE_ROW) {
		sqlite3_reset(a->last_added);
		err = fail(st, "last date_added");
		goto out;
	}
	next_added = now_us();
	if (sqlite3_column_type(a->last_added, 0) != SQLITE_NULL &&
	    sqlite3_column_int64(a->last_added, 0) >= next_added)
		next_added = sqlite3_column_int64(a->last_added, 0) + 1;
	sqlite3_reset(a->last_added);
	for (size_t i = 0; i < count; i++)
		if ((err = add_one(st, a, cid, objs[i], texts ? texts[i] : NULL,
				   marks ? &marks[i] : NULL, origin, &next_added, &results[i])))
			goto out;
out:
	return write_end(st, own, err);
}

/* Append " AND col IN (?,?,...)" and remember the values to bind. */
static void in_list(struct cp_buf *sql, const char *col, size_t n)
{
	cp_buf_printf(sql, " AND %s IN (", col);
	for (size_t i = 0; i < n; i++)
		cp_buf_puts(sql, i ? ",?" : "?");
	cp_buf_putc(sql, ')');
}

/*
 * The version condition of a filter, or nothing for ALL. plus ("+" or "") goes before
 * the flag columns: see sq_query.
 */
static void version_cond(struct cp_buf *sql, const struct cp_store_filter *f, const char *plus)
{
	unsigned v = f->versions;
	bool any = false;

	if (v & CP_STORE_VERSION_ALL)
		return;
	if (!v && !f->version_time_count)
		v = CP_STORE_VERSION_LAST;
	cp_buf_puts(sql, " AND (");
	if (v & CP_STORE_VERSION_LAST) {
		cp_buf_printf(sql, "%sis_last = 1", plus);
		any = true;
	}
	if (v & CP_STORE_VERSION_FIRST) {
		cp_buf_printf(sql, "%s%sis_first = 1", any ? " OR " : "", plus);
		any = true;
	}
	if (f->version_time_count) {
		cp_buf_puts(sql, any ? " OR version_key IN (" : "version_key IN (");
		for (size_t i = 0; i < f->version_time_count; i++)
			cp_buf_puts(sql, i ? ",?" : "?");
		cp_buf_putc(sql, ')');
	}
	cp_buf_putc(sql, ')');
}

static int bind_version_times(sqlite3_stmt *q, int idx, const struct cp_store_filter *f)
{
	if (f->versions & CP_STORE_VERSION_ALL)
		return idx;
	for (size_t i = 0; i < f->version_time_count; i++) {
		char vkey[CP__STORE_VKEY_LEN];
		cp__store_version_key(&f->version_times[i], vkey);
		sqlite3_bind_text(q, idx++, vkey, -1, SQLITE_TRANSIENT);
	}
	return idx;
}

static enum cp_err sq_query(struct cp_store *s, const struct cp_store_filter *f, int64_t after,
			    bool has_after, size_t limit, cp_store_row_fn fn, void *ctx,
			    struct cp_store_page *page)
{
	struct sqlite_store *st = S(s);
	struct cp_buf sql = CP_BUF_INIT(1 << 20);
	sqlite3_stmt *q = NULL;
	enum cp_err err;
	int idx = 1, rc;
	size_t n = 0;
	int64_t cid, after_seqs = 0;
	const char *plus;
	bool by_id;

	err = coll_num(st, f->collection_id, &cid);
	if (err == CP_ENOTFOUND) { /* no such collection: nothing in it */
		page->count = 0;
		err = CP_OK;
		goto out;
	}
	if (err)
		goto out;
	/*
	 * With ids to match, the rows are found by seq (id_seqs) and the few versions of
	 * those ids are then sorted. Without planner statistics SQLite would rather walk
	 * objects_last or objects_type, which give date_added order for free, and test
	 * every row of the collection (70-90 ms for one object at 200k objects,
	 * docs/PERFORMANCE.md); the unary + keeps it off those columns.
	 */
	by_id = f->id_count > 0;
	plus = by_id ? "+" : "";
	if (f->texts_only)
		cp_buf_puts(&sql, "SELECT json, date_added FROM objects WHERE ");
	else
		cp_buf_puts(&sql, "SELECT id, type, spec_version, version, date_added, revoked, "
				  "json, origin, tlp, pap, gate FROM objects WHERE ");
	if (by_id) {
		int64_t tail;
		if ((err = ids_seqs(st, cid, f->ids, f->id_count, &tail)))
			goto out;
		/* bound, so that the text repeats for the statement cache */
		cp_buf_putc(&sql, '(');
		if (st->nseq) {
			cp_buf_puts(&sql, "seq IN (");
			for (size_t i = 0; i < st->nseq; i++)
				cp_buf_puts(&sql, i ? ",?" : "?");
			cp_buf_puts(&sql, ") OR ");
		}
		cp_buf_puts(&sql, "seq > ?) AND ");
		after_seqs = tail;
	}
	cp_buf_puts(&sql, by_id ? "+cid = ?" : "cid = ?");
	if (has_after)
		cp_buf_printf(&sql, " AND %sdate_added > ?", plus);
	if (f->id_count)
		in_list(&sql, "id", f->id_count);
	if (f->type_count)
		in_list(&sql, by_id ? "+type" : "type", f->type_count);
	if (f->spec_version_count)
		in_list(&sql, "spec_version", f->spec_version_count);
	version_cond(&sql, f, plus);
	cp_buf_printf(&sql, " ORDER BY %sdate_added LIMIT ?", plus);
	if ((err = cp_buf_finish(&sql)))
		goto out;
	if ((err = query_get(st, sql.ptr, &q)))
		goto out;
	if (by_id) {
		for (size_t i = 0; i < st->nseq; i++)
			sqlite3_bind_int64(q, idx++, st->seqs[i]);
		sqlite3_bind_int64(q, idx++, after_seqs);
	}
	sqlite3_bind_int64(q, idx++, cid);
	if (has_after)
		sqlite3_bind_int64(q, idx++, after);
	for (size_t i = 0; i < f->id_count; i++)
		sqlite3_bind_text(q, idx++, f->ids[i], -1, SQLITE_STATIC);
	for (size_t i = 0; i < f->type_count; i++)
		sqlite3_bind_text(q, idx++, f->types[i], -1, SQLITE_STATIC);
	for (size_t i = 0; i < f->spec_version_count; i++)
		sqlite3_bind_text(q, idx++, f->spec_versions[i], -1, SQLITE_STATIC);
	idx = bind_version_times(q, idx, f);
	/* one row more than asked says whether there is another page */
	sqlite3_bind_int64(q, idx++, (sqlite3_int64)limit + 1);
	sqlite3_stmt_status(q, SQLITE_STMTSTATUS_VM_STEP, 1); /* this run's steps only */
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct cp_store_row row;
		unsigned gate;
		if (n == limit) {
			page->more = true;
			break;
		}
		if (f->texts_only) {
			memset(&row, 0, sizeof(row));
			row.json = (const char *)sqlite3_column_text(q, 0);
			row.json_len = (size_t)sqlite3_column_bytes(q, 0);
			row.date_added = cp__store_us_to_time(sqlite3_column_int64(q, 1));
			if (!row.json) {
				err = CP_ENOMEM;
				goto out;
			}
			goto deliver;
		}
		row.id = (const char *)sqlite3_column_text(q, 0);
		row.type = (const char *)sqlite3_column_text(q, 1);
		row.spec_version = (const char *)sqlite3_column_text(q, 2);
		row.version = (const char *)sqlite3_column_text(q, 3);
		row.date_added = cp__store_us_to_time(sqlite3_column_int64(q, 4));
		row.is_revoked = sqlite3_column_int(q, 5) != 0;
		row.json = (const char *)sqlite3_column_text(q, 6);
		row.json_len = (size_t)sqlite3_column_bytes(q, 6);
		row.origin = (const char *)sqlite3_column_text(q, 7);
		gate = (unsigned)sqlite3_column_int(q, 10);
		memset(&row.marks, 0, sizeof(row.marks));
		row.marks.known = !(gate & GATE_UNKNOWN);
		if (row.marks.known) {
			row.marks.tlp = (uint8_t)sqlite3_column_int(q, 8);
			row.marks.pap = (uint8_t)sqlite3_column_int(q, 9);
			row.marks.bad_marking = gate & GATE_BAD_MARKING;
			row.marks.consultation = gate & GATE_CONSULTATION;
		}
		if (!row.id || !row.type || !row.spec_version || !row.version || !row.json) {
			err = CP_ENOMEM;
			goto out;
		}
deliver:
		if (n == 0)
			page->first_added = row.date_added;
		page->last_added = row.date_added;
		n++;
		if ((err = fn(&row, ctx)))
			goto out;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = fail(st, "query objects");
	page->count = n;
	page->backend_steps = (unsigned long)sqlite3_stmt_status(q, SQLITE_STMTSTATUS_VM_STEP, 0);
out:
	query_done(q);
	cp_buf_release(&sql);
	return err;
}

static enum cp_err sq_del(struct cp_store *s, const struct cp_store_filter *f, const char *id,
			  size_t *deleted)
{
	struct sqlite_store *st = S(s);
	struct cp_buf sql = CP_BUF_INIT(1 << 20);
	sqlite3_stmt *q = NULL, *fix = NULL;
	const char *fix_tail;
	enum cp_err err;
	bool own = false, begun = false;
	int idx = 1;
	int64_t cid = 0, key;

	*deleted = 0;
	err = coll_num(st, f->collection_id, &cid);
	if (err == CP_ENOTFOUND) /* no such collection: nothing to delete */
		err = CP_OK;
	if (err || !cid)
		goto out;
	if ((err = write_begin(st, &own)))
		goto out;
	begun = true;
	if ((err = recent_sync(st)) || (err = id_seqs(st, cid, id, &key)) || !st->nseq)
		goto out;
	cp_buf_puts(&sql, "DELETE FROM objects WHERE ");
	seq_list(&sql, st);
	cp_buf_puts(&sql, " AND cid = ? AND id = ?");
	if (f->spec_version_count)
		in_list(&sql, "spec_version", f->spec_version_count);
	version_cond(&sql, f, "+");
	if ((err = cp_buf_finish(&sql)))
		goto out;
	if ((err = prepare(st, sql.ptr, &q)))
		goto out;
	sqlite3_bind_int64(q, idx++, cid);
	sqlite3_bind_text(q, idx++, id, -1, SQLITE_STATIC);
	for (size_t i = 0; i < f->spec_version_count; i++)
		sqlite3_bind_text(q, idx++, f->spec_versions[i], -1, SQLITE_STATIC);
	bind_version_times(q, idx, f);
	if (sqlite3_step(q) != SQLITE_DONE) {
		err = fail(st, "delete versions");
		goto out;
	}
	*deleted = (size_t)sqlite3_changes(st->db);
	if (!*deleted)
		goto out;
	/* the ids table forgets the deleted rows; the surviving versions get their
	 * first/last flags back */
	cp_buf_reset(&sql);
	cp_buf_puts(&sql, "DELETE FROM ids WHERE cid = ?1 AND key = ?3 AND NOT EXISTS "
			  "(SELECT 1 FROM objects o WHERE o.seq = ids.seq);"
			  "UPDATE objects SET "
			  "is_first = (version_key = (SELECT MIN(version_key) FROM objects o "
			  "  WHERE o.");
	seq_list(&sql, st);
	cp_buf_puts(&sql, " AND o.cid = ?1 AND o.id = ?2)), "
			  "is_last = (version_key = (SELECT MAX(version_key) FROM objects o "
			  "  WHERE o.");
	seq_list(&sql, st);
	cp_buf_puts(&sql, " AND o.cid = ?1 AND o.id = ?2)) WHERE ");
	seq_list(&sql, st);
	cp_buf_puts(&sql, " AND cid = ?1 AND id = ?2");
	if ((err = cp_buf_finish(&sql)))
		goto out;
	for (const char *tail = sql.ptr; *tail && !err; tail = fix_tail) {
		if ((err = prepare_tail(st, tail, &fix, &fix_tail)))
			break;
		sqlite3_bind_int64(fix, 1, cid);
		if (sqlite3_bind_parameter_count(fix) >= 3)
			sqlite3_bind_int64(fix, 3, key);
		else
			sqlite3_bind_text(fix, 2, id, -1, SQLITE_STATIC);
		if (sqlite3_step(fix) != SQLITE_DONE)
			err = fail(st, "update version flags");
		sqlite3_finalize(fix);
		fix = NULL;
	}
out:
	sqlite3_finalize(q);
	sqlite3_finalize(fix);
	if (begun)
		err = write_end(st, own, err);
	cp_buf_release(&sql);
	return err;
}

/* ----------------------------------------------------------------- status */

static enum cp_err sq_status_put(struct cp_store *s, const char *api_root, const char *id,
				 const char *owner, const char *json)
{
	struct sqlite_store *st = S(s);
	sqlite3_stmt *q = NULL;
	enum cp_err err;
	bool own;

	if ((err = prepare(st,
			   "INSERT OR REPLACE INTO statuses(api_root, id, owner, json) "
			   "VALUES(?1, ?2, ?3, ?4)",
			   &q)))
		return err;
	if ((err = write_begin(st, &own)))
		goto out;
	sqlite3_bind_text(q, 1, api_root, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, json, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		err = fail(st, "store status");
	err = write_end(st, own, err);
out:
	sqlite3_finalize(q);
	return err;
}

static enum cp_err sq_status_get(struct cp_store *s, const char *api_root, const char *id,
				 char **owner, char **json)
{
	struct sqlite_store *st = S(s);
	sqlite3_stmt *q = NULL;
	enum cp_err err;
	int rc;

	if ((err = prepare(st, "SELECT json, owner FROM statuses WHERE api_root = ?1 AND id = ?2",
			   &q)))
		return err;
	sqlite3_bind_text(q, 1, api_root, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*json = col_dup(q, 0);
		if (!*json)
			err = CP_ENOMEM;
		if (!err && owner && sqlite3_column_type(q, 1) != SQLITE_NULL) {
			*owner = col_dup(q, 1);
			if (!*owner) {
				cp_free(*json);
				*json = NULL;
				err = CP_ENOMEM;
			}
		}
	} else {
		err = rc == SQLITE_DONE ? CP_ENOTFOUND : fail(st, "get status");
	}
	sqlite3_finalize(q);
	return err;
}

/* ---------------------------------------------------------------- cursors */

static enum cp_err sq_cursor_put(struct cp_store *s, const char *name, const char *value)
{
	struct sqlite_store *st = S(s);
	sqlite3_stmt *q = NULL;
	enum cp_err err;
	bool own;

	if ((err = prepare(st, "INSERT OR REPLACE INTO cursors(name, value) VALUES(?1, ?2)", &q)))
		return err;
	if ((err = write_begin(st, &own)))
		goto out;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		err = fail(st, "store cursor");
	err = write_end(st, own, err);
out:
	sqlite3_finalize(q);
	return err;
}

static enum cp_err sq_cursor_get(struct cp_store *s, const char *name, char **value)
{
	struct sqlite_store *st = S(s);
	sqlite3_stmt *q = NULL;
	enum cp_err err;
	int rc;

	if ((err = prepare(st, "SELECT value FROM cursors WHERE name = ?1", &q)))
		return err;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*value = col_dup(q, 0);
		if (!*value)
			err = CP_ENOMEM;
	} else {
		err = rc == SQLITE_DONE ? CP_ENOTFOUND : fail(st, "get cursor");
	}
	sqlite3_finalize(q);
	return err;
}

static enum cp_err schema_version(struct sqlite_store *st, char out[16])
{
	sqlite3_stmt *q = NULL;
	enum cp_err err;
	int rc;

	out[0] = '\0';
	if ((err = prepare(st, "SELECT value FROM meta WHERE key = 'schema_version'", &q)))
		return err;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		snprintf(out, 16, "%s", (const char *)sqlite3_column_text(q, 0));
	else if (rc != SQLITE_DONE)
		err = fail(st, "read schema version");
	sqlite3_finalize(q);
	return err;
}

/* meta 'ids_key' (32 hex digits) into st->idkey; made first if make and missing */
static enum cp_err load_ids_key(struct sqlite_store *st, bool make)
{
	sqlite3_stmt *q = NULL;
	enum cp_err err;
	size_t len = 0;
	int rc;

	if ((err = prepare(st, "SELECT value FROM meta WHERE key = 'ids_key'", &q)))
		return err;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(q, 0);
		if (!hex || sodium_hex2bin(st->idkey, sizeof(st->idkey), hex, strlen(hex), NULL,
					   &len, NULL) != 0 ||
		    len != sizeof(st->idkey)) {
			cp__store_set_error(&st->base, "meta 'ids_key' is not %zu bytes in hex",
					    sizeof(st->idkey));
			err = CP_EBACKEND;
		}
	} else if (rc != SQLITE_DONE) {
		err = fail(st, "read ids_key");
	} else if (!make) {
		cp__store_set_error(&st->base, "meta 'ids_key' is missing");
		err = CP_EBACKEND;
	} else {
		char hex[2 * crypto_shorthash_KEYBYTES + 1];
		crypto_shorthash_keygen(st->idkey);
		sodium_bin2hex(hex, sizeof(hex), st->idkey, sizeof(st->idkey));
		sqlite3_finalize(q);
		q = NULL;
		if ((err = prepare(st, "INSERT INTO meta(key, value) VALUES('ids_key', ?1)", &q)))
			return err;
		sqlite3_bind_text(q, 1, hex, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) != SQLITE_DONE)
			err = fail(st, "store ids_key");
		sodium_memzero(hex, sizeof(hex));
	}
	sqlite3_finalize(q);
	return err;
}

/*
 * Create the schema once, or upgrade an older one; later connections only read it
 * (no write lock needed). Both happen in one transaction, so another process sees a
 * store before or after, never between. A store from a newer release is refused
 * rather than written in a format it does not know.
 */
static enum cp_err ensure_schema(struct sqlite_store *st, struct cp_diag *diag,
				 const char *path)
{
	sqlite3_stmt *q = NULL;
	bool present = false;
	char ver[16], *end;
	long v;
	enum cp_err err;

	if (prepare(st, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
		    &q) == CP_OK)
		present = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	if (present) {
		if ((err = schema_version(st, ver)))
			return err;
		if (strcmp(ver, SCHEMA_VERSION) == 0)
			return load_ids_key(st, false);
		v = strtol(ver, &end, 10);
		if (*end || end == ver || v < 1 || v > 4) {
			cp_diag_add(diag, CP_SEV_ERROR, "store-version", NULL,
				    "store '%s' has schema version '%s'; this build reads version "
				    "%s (and upgrades versions 1 to 4)", path, ver, SCHEMA_VERSION);
			cp__store_set_error(&st->base, "unsupported schema version '%s'", ver);
			return CP_EUNSUPPORTED;
		}
	}
	if ((err = exec(st, "BEGIN IMMEDIATE")))
		return err;
	/* another process may have created or upgraded it while we waited for the lock */
	if ((!present && (err = exec(st, schema))) || (err = schema_version(st, ver)))
		goto fail;
	v = strtol(ver, &end, 10);
	if ((v < 2 && (err = exec(st, upgrade_1_to_2))) ||
	    (v < 3 && (err = exec(st, upgrade_2_to_3))) ||
	    (v < 4 && (err = exec(st, upgrade_3_to_4))) || (err = load_ids_key(st, true)) ||
	    (v < 5 && (err = exec(st, upgrade_4_to_5))) || (err = exec(st, "COMMIT")))
		goto fail;
	if (present && v < 5)
		CP_LOG_INF("store", "upgraded store '%s' from schema %s to %s", path, ver,
			   SCHEMA_VERSION);
	return CP_OK;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

static const struct cp__store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.collection_put = sq_collection_put,
	.collection_list = sq_collection_list,
	.collection_get = sq_collection_get,
	.add = sq_add,
	.query = sq_query,
	.del = sq_del,
	.status_put = sq_status_put,
	.status_get = sq_status_get,
	.cursor_put = sq_cursor_put,
	.cursor_get = sq_cursor_get,
};

/*
 * Page cache per connection and memory-mapped reads: with SQLite's defaults (2 MB,
 * read() per page) page reads were a quarter of the node's CPU (docs/PERFORMANCE.md).
 */
#define PRAGMA_CACHE "PRAGMA cache_size=-32768"     /* KiB */
#define PRAGMA_MMAP "PRAGMA mmap_size=2147418112"    /* SQLite's default upper bound */

enum cp_err cp_store_open_sqlite(const char *path, struct cp_store **out, struct cp_diag *diag)
{
	struct sqlite_store *st;
	enum cp_err err;

	st = cp_calloc(1, sizeof(*st));
	if (!st)
		return CP_ENOMEM;
	st->base.ops = &sqlite_ops;
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		cp_diag_add(diag, CP_SEV_ERROR, "store-open", NULL, "cannot open store '%s': %s",
			    path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		err = st->db ? CP_EBACKEND : CP_ENOMEM;
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	if (sodium_init() < 0 ||
	    sqlite3_create_function(st->db, "cp_id_key", 1,
				    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, st,
				    sql_id_key, NULL, NULL) != SQLITE_OK) {
		cp_diag_add(diag, CP_SEV_ERROR, "store-open", NULL,
			    "cannot set up store '%s': libsodium or cp_id_key()", path);
		err = CP_EBACKEND;
		goto fail;
	}
	if ((err = exec(st, "PRAGMA journal_mode=WAL")) ||
	    (err = exec(st, "PRAGMA synchronous=FULL")) ||
	    (err = exec(st, "PRAGMA foreign_keys=ON")) ||
	    (err = exec(st, PRAGMA_CACHE)) || (err = exec(st, PRAGMA_MMAP)) ||
	    (err = ensure_schema(st, diag, path))) {
		if (err != CP_EUNSUPPORTED)
			cp_diag_add(diag, CP_SEV_ERROR, "store-open", NULL,
				    "cannot set up store '%s': %s", path, st->base.errmsg);
		goto fail;
	}
	st->recent = cp__recent_acquire(path);
	if (!st->recent) {
		err = CP_ENOMEM;
		goto fail;
	}
	sqlite3_wal_hook(st->db, wal_hook, NULL);
	*out = &st->base;
	return CP_OK;
fail:
	sqlite3_close(st->db);
	cp_free(st);
	return err;
}
