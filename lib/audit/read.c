/*
 * The reading side of the audit trail: queries, verification and the head. Each call
 * opens its own read-only connection, so readers never wait for the writer thread and
 * may run in another process (the CLI) while the server appends.
 */
#include <sodium.h>
#include <unistd.h>

#include "internal.h"

/* How long verify waits for a writer between its commit and its anchor update. */
#define ANCHOR_TRIES 10
#define ANCHOR_WAIT_MS 50

/* A row of CP_AUDIT_COLUMNS as the fields that are hashed (the kind name first). */
static void row_fields(sqlite3_stmt *q, struct cp_audit_field f[1 + CP_AUDIT_STRINGS])
{
	for (int i = 0; i < 1 + CP_AUDIT_STRINGS; i++) {
		int col = COL_KIND + i;
		if (sqlite3_column_type(q, col) == SQLITE_NULL) {
			f[i] = (struct cp_audit_field){NULL, 0};
			continue;
		}
		f[i].ptr = (const char *)sqlite3_column_text(q, col);
		f[i].len = (size_t)sqlite3_column_bytes(q, col);
		if (!f[i].ptr) /* out of memory converting a number to text */
			f[i] = (struct cp_audit_field){"", 0};
	}
}

static void row_entry(sqlite3_stmt *q, const struct cp_audit_field f[1 + CP_AUDIT_STRINGS],
		      struct cp_audit_entry *e)
{
	const void *h = sqlite3_column_blob(q, COL_HASH);

	e->seq = sqlite3_column_int64(q, COL_SEQ);
	e->time = cp__audit_time_from_us(sqlite3_column_int64(q, COL_TIME));
	e->rec.kind = cp_audit_kind_from_name(f[0].ptr);
	e->rec.partner = f[1].ptr;
	e->rec.action = f[2].ptr;
	e->rec.collection = f[3].ptr;
	e->rec.object = f[4].ptr;
	e->rec.version = f[5].ptr;
	e->rec.reason = f[6].ptr;
	e->rec.detail = f[7].ptr;
	e->rec.request_id = f[8].ptr;
	if (h && sqlite3_column_bytes(q, COL_HASH) == 32)
		memcpy(e->hash, h, 32);
	else
		memset(e->hash, 0, 32);
}

static bool id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * Does id occur in text as a whole token? instr() in SQL finds candidates; this keeps
 * "indicator--X" from matching inside "x-indicator--X" or a longer id.
 */
static bool has_token(const char *text, const char *id)
{
	size_t n = strlen(id);
	const char *p = text;

	if (!text || !n)
		return false;
	while ((p = strstr(p, id))) {
		bool left = p == text || !id_char((unsigned char)p[-1]);
		bool right = !id_char((unsigned char)p[n]);
		if (left && right)
			return true;
		p++;
	}
	return false;
}

static enum cp_err read_fail(sqlite3 *db, const char *path, const char *what,
			     struct cp_diag *diag)
{
	cp_diag_add(diag, CP_SEV_ERROR, "audit-read", NULL, "cannot read audit trail '%s' (%s): %s",
		    path, what, sqlite3_errmsg(db));
	return sqlite3_errcode(db) == SQLITE_NOMEM ? CP_ENOMEM : CP_EBACKEND;
}

enum cp_err cp_audit_query(const char *path, const struct cp_audit_filter *f,
			   cp_audit_entry_fn fn, void *ctx, struct cp_diag *diag)
{
	static const struct cp_audit_filter any;
	struct cp_buf sql = CP_BUF_INIT(0);
	struct cp_audit_field fields[1 + CP_AUDIT_STRINGS];
	struct cp_audit_entry e;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	size_t delivered = 0;
	enum cp_err err;
	int rc;

	if (!path || !fn)
		return CP_EINVAL;
	if (!f)
		f = &any;
	if (f->kind && !cp_audit_kind_from_name(cp_audit_kind_name(f->kind)))
		return CP_EINVAL;
	if ((err = cp__audit_open_read(path, &db, diag)))
		return err;
	cp_buf_puts(&sql, "SELECT " CP_AUDIT_COLUMNS " FROM records WHERE 1");
	if (f->partner)
		cp_buf_puts(&sql, " AND partner = :partner");
	if (f->kind)
		cp_buf_puts(&sql, " AND kind = :kind");
	if (f->has_since)
		cp_buf_puts(&sql, " AND time >= :since");
	if (f->has_until)
		cp_buf_puts(&sql, " AND time <= :until");
	if (f->object)
		cp_buf_puts(&sql, " AND (object = :object OR instr(detail, :object) > 0)");
	cp_buf_puts(&sql, " ORDER BY seq");
	if ((err = cp_buf_finish(&sql)))
		goto out;
	if (sqlite3_prepare_v2(db, sql.ptr, -1, &q, NULL) != SQLITE_OK) {
		err = read_fail(db, path, "query", diag);
		goto out;
	}
	sqlite3_bind_text(q, sqlite3_bind_parameter_index(q, ":partner"), f->partner, -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(q, sqlite3_bind_parameter_index(q, ":kind"), cp_audit_kind_name(f->kind),
			  -1, SQLITE_STATIC);
	/* inclusive bounds on whole microseconds: round the start up, the end down */
	sqlite3_bind_int64(q, sqlite3_bind_parameter_index(q, ":since"),
			   cp__audit_us_from_time(&f->since, true));
	sqlite3_bind_int64(q, sqlite3_bind_parameter_index(q, ":until"),
			   cp__audit_us_from_time(&f->until, false));
	sqlite3_bind_text(q, sqlite3_bind_parameter_index(q, ":object"), f->object, -1,
			  SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		row_fields(q, fields);
		row_entry(q, fields, &e);
		if (f->object && !(e.rec.object && strcmp(e.rec.object, f->object) == 0) &&
		    !has_token(e.rec.detail, f->object))
			continue;
		if ((err = fn(&e, ctx)))
			goto out;
		if (f->limit && ++delivered >= f->limit)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = read_fail(db, path, "query", diag);
out:
	cp_buf_release(&sql);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return err;
}

enum cp_err cp_audit_head(const char *path, int64_t *seq, unsigned char hash[32])
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	enum cp_err err;
	int rc;

	if (!path || !seq || !hash)
		return CP_EINVAL;
	if ((err = cp__audit_open_read(path, &db, NULL)))
		return err;
	if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1", -1,
			       &q, NULL) != SQLITE_OK) {
		err = CP_EBACKEND;
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		*seq = 0;
		memset(hash, 0, 32);
	} else if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 1) == 32) {
		*seq = sqlite3_column_int64(q, 0);
		memcpy(hash, sqlite3_column_blob(q, 1), 32);
	} else {
		err = CP_EBACKEND;
	}
out:
	sqlite3_finalize(q);
	sqlite3_close(db);
	return err;
}

/* ------------------------------------------------------------------ verify */

struct verify {
	const char *path;
	struct cp_diag *diag;
	size_t errors;
	int64_t count, last;        /* records seen, seq of the last one */
	unsigned char last_hash[32]; /* its stored hash */
	struct cp_audit_anchor anchor;
	enum cp_audit_anchor_state anchor_state;
	bool anchored_found;             /* the record the anchor names was seen */
	unsigned char anchored_hash[32]; /* and its stored hash */
};

static void finding(struct verify *v, enum cp_severity sev, const char *code, const char *fmt,
		    ...) CP_PRINTF(4, 5);
static void finding(struct verify *v, enum cp_severity sev, const char *code, const char *fmt,
		    ...)
{
	va_list ap;

	if (sev == CP_SEV_ERROR)
		v->errors++;
	va_start(ap, fmt);
	cp_diag_addv(v->diag, sev, code, NULL, fmt, ap);
	va_end(ap);
}

static void short_hex(const unsigned char hash[32], char out[17])
{
	char hex[65];

	cp__audit_hex(hash, hex);
	memcpy(out, hex, 16);
	out[16] = '\0';
}

/*
 * Walk every record in seq order. After a broken record the walk goes on from it, so
 * that each change is reported once, where it is: a changed record is followed by one
 * that chains to its stored hash, a changed hash by one that chains to the hash the
 * record's content gives; either is accepted as the link to the next record.
 */
static enum cp_err scan(struct verify *v, sqlite3 *db)
{
	struct cp_audit_field f[1 + CP_AUDIT_STRINGS];
	unsigned char prev[32] = {0}, alt[32], computed[32];
	bool has_alt = false, after_gap = false, ok;
	int64_t expected = 1;
	sqlite3_stmt *q = NULL;
	enum cp_err err = CP_OK;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT " CP_AUDIT_COLUMNS " FROM records ORDER BY seq", -1,
			       &q, NULL) != SQLITE_OK)
		return read_fail(db, v->path, "verify", v->diag);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(q, COL_SEQ);
		int64_t time_us = sqlite3_column_int64(q, COL_TIME);
		const unsigned char *stored = sqlite3_column_blob(q, COL_HASH);
		int stored_len = sqlite3_column_bytes(q, COL_HASH);

		v->count++;
		if (seq > expected) {
			if (seq == expected + 1)
				finding(v, CP_SEV_ERROR, "audit-gap",
					"record %" PRId64 " is missing (the next record is %" PRId64
					")", expected, seq);
			else
				finding(v, CP_SEV_ERROR, "audit-gap",
					"records %" PRId64 " to %" PRId64 " are missing (the next "
					"record is %" PRId64 ")", expected, seq - 1, seq);
			after_gap = true;
		} else if (seq < expected) {
			finding(v, CP_SEV_ERROR, "audit-gap",
				"record %" PRId64 " is out of sequence: seqs start at 1", seq);
			after_gap = true;
		}
		if (seq >= expected)
			expected = seq + 1;
		row_fields(q, f);
		cp__audit_hash(prev, seq, time_us, f, computed);
		ok = true;
		if (stored_len != 32 || !stored) {
			finding(v, CP_SEV_ERROR, "audit-hash",
				"record %" PRId64 " has a hash of %d bytes, not 32", seq, stored_len);
			stored = NULL;
		} else if (!after_gap && memcmp(computed, stored, 32) != 0) {
			unsigned char again[32];
			if (has_alt)
				cp__audit_hash(alt, seq, time_us, f, again);
			ok = has_alt && memcmp(again, stored, 32) == 0;
			if (!ok)
				finding(v, CP_SEV_ERROR, "audit-hash",
					"record %" PRId64 " does not match its hash: the record (or "
					"the hash of record %" PRId64 ") was changed", seq, seq - 1);
		}
		if (v->anchor_state == CP_AUDIT_ANCHOR_OK && seq == v->anchor.seq && stored) {
			v->anchored_found = true;
			memcpy(v->anchored_hash, stored, 32);
		}
		/* the next record chains to this one's stored hash; if this one is broken,
		 * the hash its content gives is the other candidate */
		has_alt = !ok && stored;
		if (has_alt)
			memcpy(alt, computed, 32);
		memcpy(prev, stored ? stored : computed, 32);
		after_gap = false;
		v->last = seq;
		memcpy(v->last_hash, prev, 32);
	}
	if (rc != SQLITE_DONE)
		err = read_fail(db, v->path, "verify", v->diag);
	sqlite3_finalize(q);
	return err;
}

/* Is the record seq now in the database (a fresh read) and has it this hash? */
static bool record_has_hash(sqlite3 *db, int64_t seq, const unsigned char hash[32])
{
	sqlite3_stmt *q = NULL;
	bool same = false;

	if (sqlite3_prepare_v2(db, "SELECT hash FROM records WHERE seq = ?1", -1, &q, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(q, 1, seq);
		same = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32 &&
		       memcmp(sqlite3_column_blob(q, 0), hash, 32) == 0;
	}
	sqlite3_finalize(q);
	return same;
}

static void check_anchor(struct verify *v, sqlite3 *db, const char *anchor_path)
{
	const struct cp_audit_anchor *a = &v->anchor;
	char want[17], have[17];

	switch (v->anchor_state) {
	case CP_AUDIT_ANCHOR_MISSING:
		if (v->count)
			finding(v, CP_SEV_WARNING, "audit-anchor",
				"anchor missing: '%s' does not exist, so nothing shows whether "
				"records were removed from the end", anchor_path);
		return;
	case CP_AUDIT_ANCHOR_UNREADABLE:
		finding(v, CP_SEV_ERROR, "audit-anchor", "cannot read the anchor '%s'",
			anchor_path);
		return;
	case CP_AUDIT_ANCHOR_MALFORMED:
		finding(v, CP_SEV_ERROR, "audit-anchor",
			"the anchor '%s' is malformed (expected one line \"SEQ HEXHASH\")",
			anchor_path);
		return;
	case CP_AUDIT_ANCHOR_OK:
		break;
	}
	short_hex(a->hash, want);
	if (a->seq > v->last) {
		finding(v, CP_SEV_ERROR, "audit-anchor",
			"records were removed from the end: the anchor names record %" PRId64
			" but the last record is %" PRId64, a->seq, v->last);
		return;
	}
	if (a->seq == 0) {
		if (!sodium_is_zero(a->hash, 32))
			finding(v, CP_SEV_ERROR, "audit-anchor",
				"the anchor names record 0 with hash %s..., not zero", want);
		else if (v->count)
			finding(v, CP_SEV_ERROR, "audit-anchor",
				"the anchor names record 0 but the trail has %" PRId64 " records "
				"after it", v->last);
		return;
	}
	if (!v->anchored_found) {
		finding(v, CP_SEV_ERROR, "audit-anchor",
			"record %" PRId64 ", which the anchor names, is missing", a->seq);
		return;
	}
	if (memcmp(v->anchored_hash, a->hash, 32) != 0) {
		short_hex(v->anchored_hash, have);
		finding(v, CP_SEV_ERROR, "audit-anchor",
			"record %" PRId64 " has hash %s... but the anchor names it with hash %s...",
			a->seq, have, want);
		return;
	}
	if (a->seq == v->last)
		return;
	/*
	 * The anchor is behind. A writer that committed after the anchor was read moves
	 * it on right after its commit: give it that moment before calling it a problem.
	 */
	for (int tries = 0; tries < ANCHOR_TRIES; tries++) {
		struct cp_audit_anchor now;
		if (cp__audit_anchor_read(anchor_path, &now) == CP_AUDIT_ANCHOR_OK &&
		    now.seq >= v->last && record_has_hash(db, now.seq, now.hash))
			return;
		usleep(ANCHOR_WAIT_MS * 1000);
	}
	finding(v, CP_SEV_ERROR, "audit-anchor",
		"records %" PRId64 " to %" PRId64 " are not covered by the anchor, which names "
		"record %" PRId64 ": they were added by something that did not update the anchor, "
		"or the node crashed before updating it (it does so when it starts)",
		a->seq + 1, v->last, a->seq);
}

enum cp_err cp_audit_verify_head(const char *path, int64_t *count, unsigned char hash[32],
				 struct cp_diag *diag)
{
	struct verify v = {.path = path, .diag = diag};
	char *anchor_path = NULL;
	sqlite3 *db = NULL;
	enum cp_err err;

	if (!path)
		return CP_EINVAL;
	if ((err = cp__audit_open_read(path, &db, diag)))
		return err;
	anchor_path = cp__audit_anchor_path(path);
	if (!anchor_path) {
		err = CP_ENOMEM;
		goto out;
	}
	/* the anchor first: it is written after its records are committed, so the scan
	 * that follows sees at least the records it names */
	v.anchor_state = cp__audit_anchor_read(anchor_path, &v.anchor);
	if ((err = scan(&v, db)))
		goto out;
	check_anchor(&v, db, anchor_path);
	if (v.errors) {
		err = CP_ECONFLICT;
		goto out;
	}
	if (count)
		*count = v.count;
	if (hash)
		memcpy(hash, v.last_hash, 32);
out:
	cp_free(anchor_path);
	sqlite3_close(db);
	return err;
}

enum cp_err cp_audit_verify(const char *path, int64_t *count, struct cp_diag *diag)
{
	return cp_audit_verify_head(path, count, NULL, diag);
}
