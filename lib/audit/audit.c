/*
 * The writer side of the audit trail. Appenders queue copies of their records; one
 * writer thread per struct cp_audit takes everything queued, chains it and inserts it
 * in one transaction (group commit), brings the anchor file up to date and then wakes
 * the appenders that wait.
 *
 * The writer never trusts what it wrote last: it reads the last seq and hash inside
 * its write transaction, after BEGIN IMMEDIATE has taken the database's write lock.
 * Another process (the CLI writing admin records while the server runs) may have
 * appended in between, and a failed commit leaves nothing to undo in memory.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/*
 * What may wait for the writer before appenders block: a few seconds of a busy
 * server's pages, and little enough memory that a stalled disk cannot take the node
 * down. Appenders block rather than drop: a record that was not written is worse than
 * a slow response.
 */
#define QUEUE_MAX_RECORDS 100000u
#define QUEUE_MAX_BYTES (64u << 20)

/* A batch nobody waits for is retried after this long, doubling up to the maximum;
 * on close it is given up (and the loss logged) after CLOSE_ATTEMPTS more failures. */
#define RETRY_FIRST_MS 50
#define RETRY_MAX_MS 2000
#define CLOSE_ATTEMPTS 3

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"INSERT OR IGNORE INTO meta(key, value) VALUES('format', '" CP_AUDIT_FORMAT "');"
	"CREATE TABLE IF NOT EXISTS records("
	"  seq INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  partner TEXT, action TEXT, collection TEXT, object TEXT, version TEXT,"
	"  reason TEXT, detail TEXT, request_id TEXT,"
	"  hash BLOB NOT NULL CHECK(length(hash) = 32));"
	"CREATE INDEX IF NOT EXISTS records_partner ON records(partner, seq);"
	"CREATE INDEX IF NOT EXISTS records_object ON records(object, seq);"
	"CREATE INDEX IF NOT EXISTS records_time ON records(time);";

struct waiter {
	bool done;
	enum cp_err err;
};

/* The records of one cp_audit_append() call, copied into one allocation. */
struct chunk {
	struct chunk *next;
	struct waiter *waiter; /* NULL when nobody waits */
	int64_t time_us;
	size_t count, bytes;
	struct cp_audit_record recs[]; /* followed by their strings */
};

struct cp_audit {
	char *path, *anchor_path, *anchor_tmp, *dir;
	sqlite3 *db; /* used by the opener, then only by the writer thread */
	sqlite3_stmt *begin, *commit, *rollback, *last, *hash_at, *insert;
	bool anchor_problem; /* writer only: the current anchor problem was logged */

	pthread_mutex_t lock;
	pthread_cond_t work;  /* appender -> writer: something queued (or stop) */
	pthread_cond_t space; /* writer -> appenders: the queue was emptied */
	pthread_cond_t done;  /* writer -> appenders: a batch was settled */
	bool has_sync, has_thread, stopping;
	pthread_t thread;
	struct chunk *queue, **queue_tail;
	size_t queued_count, queued_bytes;
	size_t max_count, max_bytes;
};

/* Test hook (tests/unit/audit): small queue limits to exercise blocking appenders. */
void cp__audit_set_queue_limits(struct cp_audit *a, size_t max_records, size_t max_bytes)
{
	pthread_mutex_lock(&a->lock);
	a->max_count = max_records;
	a->max_bytes = max_bytes;
	pthread_mutex_unlock(&a->lock);
}

static enum cp_err db_fail(struct cp_audit *a, const char *what)
{
	CP_LOG_ERR("audit", "cannot write audit trail '%s': %s: %s", a->path, what,
		   sqlite3_errmsg(a->db));
	return CP_EBACKEND;
}

static enum cp_err run(struct cp_audit *a, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	enum cp_err err = rc == SQLITE_DONE ? CP_OK : db_fail(a, what);

	sqlite3_reset(s);
	return err;
}

/* Seq and hash of the last record (0 and zeros when none), in the caller's transaction. */
static enum cp_err read_last(struct cp_audit *a, int64_t *seq, unsigned char hash[32])
{
	enum cp_err err = CP_OK;
	int rc = sqlite3_step(a->last);

	if (rc == SQLITE_ROW) {
		const void *h = sqlite3_column_blob(a->last, 1);
		if (!h || sqlite3_column_bytes(a->last, 1) != 32) {
			CP_LOG_ERR("audit", "cannot write audit trail '%s': its last record has no "
					    "valid hash to chain to", a->path);
			err = CP_EBACKEND;
		} else {
			*seq = sqlite3_column_int64(a->last, 0);
			memcpy(hash, h, 32);
		}
	} else if (rc == SQLITE_DONE) {
		*seq = 0;
		memset(hash, 0, 32);
	} else {
		err = db_fail(a, "read the last record");
	}
	sqlite3_reset(a->last);
	return err;
}

static enum cp_err insert_one(struct cp_audit *a, int64_t seq, int64_t time_us,
			      const struct cp_audit_field f[1 + CP_AUDIT_STRINGS],
			      const unsigned char hash[32])
{
	sqlite3_stmt *s = a->insert;

	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_int64(s, 2, time_us);
	for (int i = 0; i < 1 + CP_AUDIT_STRINGS; i++)
		sqlite3_bind_text(s, 3 + i, f[i].ptr, (int)f[i].len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3 + 1 + CP_AUDIT_STRINGS, hash, 32, SQLITE_STATIC);
	return run(a, s, "insert");
}

/* Chain and insert every record of batch in one transaction. */
static enum cp_err write_batch(struct cp_audit *a, const struct chunk *batch)
{
	struct cp_audit_field f[1 + CP_AUDIT_STRINGS];
	unsigned char hash[32], next[32];
	int64_t seq;
	enum cp_err err;

	if ((err = run(a, a->begin, "begin")))
		return err;
	if ((err = read_last(a, &seq, hash)))
		goto rollback;
	for (const struct chunk *c = batch; c; c = c->next) {
		for (size_t i = 0; i < c->count; i++) {
			seq++;
			cp__audit_record_fields(&c->recs[i], f);
			cp__audit_hash(hash, seq, c->time_us, f, next);
			if ((err = insert_one(a, seq, c->time_us, f, next)))
				goto rollback;
			memcpy(hash, next, 32);
		}
	}
	if ((err = run(a, a->commit, "commit")))
		goto rollback;
	sqlite3_clear_bindings(a->insert);
	return CP_OK;
rollback:
	/* fails harmlessly when SQLite already rolled back (disk full, I/O error) */
	sqlite3_step(a->rollback);
	sqlite3_reset(a->rollback);
	sqlite3_clear_bindings(a->insert);
	return err;
}

static bool write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Replace the anchor atomically: a crash leaves the old one or the new one, whole. */
static bool write_anchor(struct cp_audit *a, int64_t seq, const unsigned char hash[32])
{
	char line[96], hex[65];
	int fd, n;
	bool ok;

	cp__audit_hex(hash, hex);
	n = snprintf(line, sizeof(line), "%" PRId64 " %s\n", seq, hex);
	fd = open(a->anchor_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	ok = n > 0 && write_all(fd, line, (size_t)n) && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	if (!ok || rename(a->anchor_tmp, a->anchor_path) != 0) {
		unlink(a->anchor_tmp);
		return false;
	}
	/* the rename itself must survive a crash, or the anchor falls behind */
	fd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		ok = fsync(fd) == 0;
		close(fd);
	}
	return ok;
}

/* Log an anchor problem once, until the anchor is fine again. */
static void anchor_problem(struct cp_audit *a, const char *fmt, ...) CP_PRINTF(2, 3);
static void anchor_problem(struct cp_audit *a, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (a->anchor_problem)
		return;
	a->anchor_problem = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	CP_LOG_ERR("audit", "audit trail '%s': %s; the anchor is left as it is (evidence) "
			    "until an operator moves it aside (docs/AUDIT.md)", a->path, msg);
}

/*
 * Bring the anchor to the head of the database. Under the write lock, so that two
 * processes cannot write their heads in the wrong order, and it always writes the
 * head that is in the database, not the one this process last wrote.
 *
 * An anchor that does not fit the database (ahead of it, or naming a record with
 * another hash, or unreadable) is never overwritten: it is the evidence of a removed
 * or changed tail, and overwriting it on the next append would erase that evidence.
 */
static void update_anchor(struct cp_audit *a)
{
	struct cp_audit_anchor old;
	unsigned char hash[32];
	int64_t seq;
	int rc;

	if (run(a, a->begin, "begin (anchor)"))
		return;
	if (read_last(a, &seq, hash))
		goto out;
	switch (cp__audit_anchor_read(a->anchor_path, &old)) {
	case CP_AUDIT_ANCHOR_MISSING:
		if (seq == 0)
			goto out;
		break;
	case CP_AUDIT_ANCHOR_MALFORMED:
		anchor_problem(a, "the anchor '%s' is malformed", a->anchor_path);
		goto out;
	case CP_AUDIT_ANCHOR_UNREADABLE:
		anchor_problem(a, "cannot read the anchor '%s': %s", a->anchor_path,
			       strerror(errno));
		goto out;
	case CP_AUDIT_ANCHOR_OK:
		if (old.seq == seq && memcmp(old.hash, hash, 32) == 0) {
			a->anchor_problem = false;
			goto out;
		}
		if (old.seq > seq) {
			anchor_problem(a, "the anchor names seq %" PRId64 " but the last record "
					  "is %" PRId64 ": records were removed from the end",
				       old.seq, seq);
			goto out;
		}
		if (old.seq == 0 && !sodium_is_zero(old.hash, 32)) {
			anchor_problem(a, "the anchor names seq 0 with a hash that is not zero");
			goto out;
		}
		if (old.seq > 0) {
			sqlite3_bind_int64(a->hash_at, 1, old.seq);
			rc = sqlite3_step(a->hash_at);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
				db_fail(a, "read the anchored record");
				sqlite3_reset(a->hash_at);
				goto out;
			}
			bool same = rc == SQLITE_ROW && sqlite3_column_bytes(a->hash_at, 0) == 32 &&
				    memcmp(sqlite3_column_blob(a->hash_at, 0), old.hash, 32) == 0;
			sqlite3_reset(a->hash_at);
			if (!same) {
				anchor_problem(a, "record %" PRId64 " does not match its anchor",
					       old.seq);
				goto out;
			}
		}
		break;
	}
	if (!write_anchor(a, seq, hash))
		CP_LOG_ERR("audit", "cannot update the anchor '%s' of the audit trail: %s",
			   a->anchor_path, strerror(errno));
	else
		a->anchor_problem = false;
out:
	/* a read-only transaction: COMMIT cannot fail for want of space */
	run(a, a->commit, "commit (anchor)");
}

static void sleep_until(struct cp_audit *a, const struct timespec *deadline)
{
	while (pthread_cond_timedwait(&a->work, &a->lock, deadline) != ETIMEDOUT)
		;
}

static void *writer_main(void *arg)
{
	struct cp_audit *a = arg;
	unsigned retry_ms = 0, close_failures = 0;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct chunk *batch, *retry = NULL, **retry_tail = &retry, *done = NULL, *next;
		size_t retry_count = 0, retry_bytes = 0;
		enum cp_err err;

		while (!a->queue && !a->stopping)
			pthread_cond_wait(&a->work, &a->lock);
		if (!a->queue)
			break;
		batch = a->queue;
		a->queue = NULL;
		a->queue_tail = &a->queue;
		a->queued_count = a->queued_bytes = 0;
		pthread_cond_broadcast(&a->space);
		pthread_mutex_unlock(&a->lock);

		err = write_batch(a, batch);
		if (!err)
			update_anchor(a);

		pthread_mutex_lock(&a->lock);
		for (struct chunk *c = batch; c; c = next) {
			next = c->next;
			if (c->waiter) {
				c->waiter->err = err;
				c->waiter->done = true;
			}
			if (err && !c->waiter) {
				/* nobody to tell: keep it and try again */
				c->next = NULL;
				*retry_tail = c;
				retry_tail = &c->next;
				retry_count += c->count;
				retry_bytes += c->bytes;
			} else {
				c->next = done;
				done = c;
			}
		}
		pthread_cond_broadcast(&a->done);
		if (retry && a->stopping && ++close_failures > CLOSE_ATTEMPTS) {
			CP_LOG_ERR("audit", "lost %zu audit records at close: the trail '%s' "
					    "cannot be written", retry_count, a->path);
			*retry_tail = done;
			done = retry;
		} else if (retry) {
			struct timespec deadline;

			/* in front of what came since, so that seq order stays call order */
			*retry_tail = a->queue;
			if (!a->queue)
				a->queue_tail = retry_tail;
			a->queue = retry;
			a->queued_count += retry_count;
			a->queued_bytes += retry_bytes;
			retry_ms = retry_ms ? retry_ms * 2 : RETRY_FIRST_MS;
			if (retry_ms > RETRY_MAX_MS)
				retry_ms = RETRY_MAX_MS;
			CP_LOG_WRN("audit", "%zu audit records wait for the trail '%s' to be "
					    "writable again; retrying in %u ms",
				   retry_count, a->path, retry_ms);
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			deadline.tv_sec += retry_ms / 1000;
			deadline.tv_nsec += (long)(retry_ms % 1000) * 1000000L;
			if (deadline.tv_nsec >= 1000000000L) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000L;
			}
			sleep_until(a, &deadline);
		} else {
			retry_ms = 0;
		}
		pthread_mutex_unlock(&a->lock);
		for (struct chunk *c = done; c; c = next) {
			next = c->next;
			cp_free(c);
		}
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static enum cp_err copy_records(const struct cp_audit_record *recs, size_t n,
				struct chunk **out)
{
	struct cp_audit_field f[1 + CP_AUDIT_STRINGS];
	size_t size = sizeof(struct chunk);
	struct chunk *c;
	char *p;

	if (n > (SIZE_MAX - size) / sizeof(recs[0]))
		return CP_ETOOBIG;
	size += n * sizeof(recs[0]);
	for (size_t i = 0; i < n; i++) {
		if (!cp_audit_kind_from_name(cp_audit_kind_name(recs[i].kind)))
			return CP_EINVAL;
		if (recs[i].detail && strlen(recs[i].detail) > CP_AUDIT_DETAIL_MAX)
			return CP_ETOOBIG;
		cp__audit_record_fields(&recs[i], f);
		for (size_t k = 1; k < 1 + CP_AUDIT_STRINGS; k++) {
			if (f[k].ptr && f[k].len + 1 > SIZE_MAX - size)
				return CP_ETOOBIG;
			if (f[k].ptr)
				size += f[k].len + 1;
		}
	}
	c = cp_malloc(size);
	if (!c)
		return CP_ENOMEM;
	c->next = NULL;
	c->waiter = NULL;
	c->count = n;
	c->bytes = size;
	p = (char *)(c->recs + n);
	for (size_t i = 0; i < n; i++) {
		const char **dst[CP_AUDIT_STRINGS] = {
			&c->recs[i].partner, &c->recs[i].action, &c->recs[i].collection,
			&c->recs[i].object,  &c->recs[i].version, &c->recs[i].reason,
			&c->recs[i].detail,  &c->recs[i].request_id,
		};

		c->recs[i].kind = recs[i].kind;
		cp__audit_record_fields(&recs[i], f);
		for (size_t k = 0; k < CP_AUDIT_STRINGS; k++) {
			if (!f[k + 1].ptr) {
				*dst[k] = NULL;
				continue;
			}
			memcpy(p, f[k + 1].ptr, f[k + 1].len);
			p[f[k + 1].len] = '\0';
			*dst[k] = p;
			p += f[k + 1].len + 1;
		}
	}
	*out = c;
	return CP_OK;
}

enum cp_err cp_audit_append(struct cp_audit *a, const struct cp_audit_record *recs, size_t n,
			    bool wait)
{
	struct waiter w = {false, CP_OK};
	struct cp_time now;
	struct chunk *c = NULL;
	enum cp_err err;

	if (!a || (n && !recs))
		return CP_EINVAL;
	if (n == 0)
		return CP_OK;
	if ((err = copy_records(recs, n, &c)))
		return err;
	pthread_mutex_lock(&a->lock);
	while (!a->stopping && a->queued_count &&
	       (a->queued_count + n > a->max_count || a->queued_bytes + c->bytes > a->max_bytes))
		pthread_cond_wait(&a->space, &a->lock);
	if (a->stopping) {
		/* appending while closing is the caller's bug; say so rather than lose it */
		pthread_mutex_unlock(&a->lock);
		cp_free(c);
		return CP_EINVAL;
	}
	/* taken under the lock, so that in one process time never runs backwards
	 * along seq unless the clock itself does */
	now = cp_time_now();
	c->time_us = cp__audit_us_from_time(&now, false);
	if (wait)
		c->waiter = &w;
	*a->queue_tail = c;
	a->queue_tail = &c->next;
	a->queued_count += n;
	a->queued_bytes += c->bytes;
	pthread_cond_signal(&a->work);
	while (wait && !w.done)
		pthread_cond_wait(&a->done, &a->lock);
	pthread_mutex_unlock(&a->lock);
	return wait ? w.err : CP_OK;
}

static void destroy(struct cp_audit *a)
{
	sqlite3_finalize(a->begin);
	sqlite3_finalize(a->commit);
	sqlite3_finalize(a->rollback);
	sqlite3_finalize(a->last);
	sqlite3_finalize(a->hash_at);
	sqlite3_finalize(a->insert);
	sqlite3_close(a->db);
	if (a->has_sync) {
		pthread_cond_destroy(&a->work);
		pthread_cond_destroy(&a->space);
		pthread_cond_destroy(&a->done);
		pthread_mutex_destroy(&a->lock);
	}
	cp_free(a->path);
	cp_free(a->anchor_path);
	cp_free(a->anchor_tmp);
	cp_free(a->dir);
	cp_free(a);
}

static enum cp_err init_sync(struct cp_audit *a)
{
	pthread_condattr_t attr;
	bool ok;

	if (pthread_condattr_init(&attr) != 0)
		return CP_ENOMEM;
	ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0;
	if (ok && pthread_mutex_init(&a->lock, NULL) != 0)
		ok = false;
	else if (ok && pthread_cond_init(&a->work, &attr) != 0) {
		pthread_mutex_destroy(&a->lock);
		ok = false;
	} else if (ok && pthread_cond_init(&a->space, NULL) != 0) {
		pthread_cond_destroy(&a->work);
		pthread_mutex_destroy(&a->lock);
		ok = false;
	} else if (ok && pthread_cond_init(&a->done, NULL) != 0) {
		pthread_cond_destroy(&a->space);
		pthread_cond_destroy(&a->work);
		pthread_mutex_destroy(&a->lock);
		ok = false;
	}
	pthread_condattr_destroy(&attr);
	a->has_sync = ok;
	return ok ? CP_OK : CP_ENOMEM;
}

static enum cp_err set_paths(struct cp_audit *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	struct cp_buf b = CP_BUF_INIT(0);

	a->path = cp_strdup(path);
	a->anchor_path = cp__audit_anchor_path(path);
	cp_buf_puts(&b, path);
	cp_buf_puts(&b, ".anchor.tmp");
	a->anchor_tmp = cp_buf_take(&b);
	if (!slash)
		a->dir = cp_strdup(".");
	else
		a->dir = slash == path ? cp_strdup("/") : cp_strndup(path, (size_t)(slash - path));
	if (!a->path || !a->anchor_path || !a->anchor_tmp || !a->dir)
		return CP_ENOMEM;
	return CP_OK;
}

static enum cp_err setup_db(struct cp_audit *a, struct cp_diag *diag)
{
	static const struct {
		size_t offset;
		const char *sql;
	} stmts[] = {
		{offsetof(struct cp_audit, begin), "BEGIN IMMEDIATE"},
		{offsetof(struct cp_audit, commit), "COMMIT"},
		{offsetof(struct cp_audit, rollback), "ROLLBACK"},
		{offsetof(struct cp_audit, last),
		 "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1"},
		{offsetof(struct cp_audit, hash_at), "SELECT hash FROM records WHERE seq = ?1"},
		{offsetof(struct cp_audit, insert),
		 "INSERT INTO records(" CP_AUDIT_COLUMNS ") "
		 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"},
	};
	sqlite3_stmt *q = NULL;
	const char *what = "journal mode";
	const char *format;
	enum cp_err err = CP_EBACKEND;

	if (sqlite3_exec(a->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	what = "synchronous";
	if (sqlite3_exec(a->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	what = "schema";
	if (sqlite3_exec(a->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(a->db, "SELECT value FROM meta WHERE key = 'format'", -1, &q,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW)
		goto fail;
	format = (const char *)sqlite3_column_text(q, 0);
	if (!format || strcmp(format, CP_AUDIT_FORMAT) != 0) {
		cp_diag_add(diag, CP_SEV_ERROR, "audit-open", NULL,
			    "audit trail '%s' has format '%s'; this version writes format %s",
			    a->path, format ? format : "", CP_AUDIT_FORMAT);
		sqlite3_finalize(q);
		return CP_EUNSUPPORTED;
	}
	sqlite3_finalize(q);
	q = NULL;
	what = "prepare";
	for (size_t i = 0; i < CP_ARRAY_LEN(stmts); i++) {
		sqlite3_stmt **s = (sqlite3_stmt **)((char *)a + stmts[i].offset);
		if (sqlite3_prepare_v3(a->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, s,
				       NULL) != SQLITE_OK)
			goto fail;
	}
	return CP_OK;
fail:
	if (sqlite3_errcode(a->db) == SQLITE_NOMEM)
		err = CP_ENOMEM;
	cp_diag_add(diag, CP_SEV_ERROR, "audit-open", NULL,
		    "cannot set up audit trail '%s' (%s): %s", a->path, what,
		    sqlite3_errmsg(a->db));
	sqlite3_finalize(q);
	return err;
}

enum cp_err cp_audit_open(const char *path, struct cp_audit **out, struct cp_diag *diag)
{
	struct cp_audit *a;
	enum cp_err err;
	int rc;

	if (!path || !*path || !out)
		return CP_EINVAL;
	if (sodium_init() < 0) {
		cp_diag_add(diag, CP_SEV_ERROR, "audit-open", NULL,
			    "cannot open audit trail '%s': libsodium failed to initialise", path);
		return CP_EBACKEND;
	}
	a = cp_calloc(1, sizeof(*a));
	if (!a)
		return CP_ENOMEM;
	a->queue_tail = &a->queue;
	a->max_count = QUEUE_MAX_RECORDS;
	a->max_bytes = QUEUE_MAX_BYTES;
	if ((err = set_paths(a, path)) || (err = init_sync(a)))
		goto fail;
	if (sqlite3_open_v2(path, &a->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		cp_diag_add(diag, CP_SEV_ERROR, "audit-open", NULL,
			    "cannot open audit trail '%s': %s", path,
			    a->db ? sqlite3_errmsg(a->db) : "out of memory");
		err = a->db ? CP_EBACKEND : CP_ENOMEM;
		goto fail;
	}
	sqlite3_busy_timeout(a->db, CP_AUDIT_BUSY_MS);
	if ((err = setup_db(a, diag)))
		goto fail;
	/* a crash between a commit and its anchor update leaves the anchor one batch
	 * behind; bring it up now rather than at the first append */
	update_anchor(a);
	rc = pthread_create(&a->thread, NULL, writer_main, a);
	if (rc != 0) {
		cp_diag_add(diag, CP_SEV_ERROR, "audit-open", NULL,
			    "cannot start the writer of audit trail '%s': %s", path,
			    strerror(rc));
		err = CP_ENOMEM;
		goto fail;
	}
	a->has_thread = true;
	*out = a;
	return CP_OK;
fail:
	destroy(a);
	return err;
}

void cp_audit_close(struct cp_audit *a)
{
	if (!a)
		return;
	if (a->has_thread) {
		pthread_mutex_lock(&a->lock);
		a->stopping = true;
		pthread_cond_broadcast(&a->work);
		pthread_cond_broadcast(&a->space);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
	}
	destroy(a);
}
