/*
 * cyberpact/audit.h - the node's append-only, hash-chained audit trail.
 *
 * Every release and every withhold of an object version by the egress gate, every
 * write, every refused request and every administrative change becomes a record.
 * Records live in their own SQLite database (DIR/audit.db, WAL, synchronous=FULL),
 * numbered by seq 1, 2, 3, ... without gaps. Each record carries
 *
 *     hash = SHA-256(prev_hash || canonical encoding of the record)
 *
 * (prev_hash of record 1 is 32 zero bytes), so a changed, inserted or deleted record
 * breaks the chain at that point. After every commit the head (seq and hash of the
 * last record) is also written to an anchor file next to the database (PATH.anchor,
 * replaced atomically), so that cutting records off the end is detected as well;
 * operators may copy the head elsewhere (`cyberpact audit head`).
 *
 * Appends are batched: a writer thread owned by struct cp_audit takes whatever
 * records are queued, appends them in one transaction and wakes the waiters (group
 * commit). cp_audit_append(..., wait = true) returns only after the records are
 * committed and synced.
 *
 * Thread-safety: cp_audit_append() may be called from any thread; the query and
 * verify functions open their own read connection.
 */
#ifndef CYBERPACT_AUDIT_H
#define CYBERPACT_AUDIT_H

#include "cyberpact/base.h"

/* What a record is about (stable names: cp_audit_kind_name()). */
enum cp_audit_kind {
	CP_AUDIT_RELEASE = 1, /* "release": object versions sent to a partner */
	CP_AUDIT_WITHHOLD,    /* "withhold": object versions the gate kept back */
	CP_AUDIT_WRITE,       /* "write": objects stored (or refused) from a partner */
	CP_AUDIT_DENY,        /* "deny": a request refused (authentication, access) */
	CP_AUDIT_ADMIN,       /* "admin": partners, tokens, agreements changed */
};

/*
 * One record as given to cp_audit_append() (all strings borrowed, any may be NULL
 * except kind). seq, time and hash are assigned by the trail.
 */
struct cp_audit_record {
	enum cp_audit_kind kind;
	const char *partner;    /* partner or account name the record is about */
	const char *action;     /* "GET objects", "POST objects", "partner add", ... */
	const char *collection; /* collection id */
	const char *object;     /* object id (one object), or NULL */
	const char *version;    /* its version (modified), or NULL */
	const char *reason;     /* stable reason code ("ok", "tlp-ceiling", "bad-token") */
	const char *detail;     /* free text or compact JSON with more (e.g. the list of
				 * object versions of a page); at most CP_AUDIT_DETAIL_MAX */
	const char *request_id; /* the server's request id, or NULL */
};

#define CP_AUDIT_DETAIL_MAX (4u << 20)

/* A stored record, as delivered by cp_audit_query() (borrowed for the callback). */
struct cp_audit_entry {
	int64_t seq;
	struct cp_time time;
	struct cp_audit_record rec;
	unsigned char hash[32];
};

struct cp_audit;

/*
 * Open (creating if needed) the trail at path and start its writer thread.
 * CP_EBACKEND / CP_EIO with a finding in diag (may be NULL).
 */
CP_MUST_CHECK enum cp_err cp_audit_open(const char *path, struct cp_audit **out,
					struct cp_diag *diag);
/* Flush what is queued, stop the writer and close (NULL is fine). */
void cp_audit_close(struct cp_audit *a);

/*
 * Queue n records (copied). With wait, return after they are committed and synced
 * (and report a failure to commit); without, return at once. Records appended by one
 * call get consecutive seqs in the given order.
 * Blocks while the queue is full (100,000 records or 64 MB waiting for the writer);
 * records are never dropped to make room. Errors: CP_EINVAL (an unknown kind, recs
 * NULL, or a call racing cp_audit_close()), CP_ETOOBIG (detail longer than
 * CP_AUDIT_DETAIL_MAX), CP_ENOMEM (nothing queued); with wait, CP_EBACKEND if the
 * commit failed (the records are not in the trail). Without wait, a failed commit is
 * retried by the writer (docs/AUDIT.md).
 */
CP_MUST_CHECK enum cp_err cp_audit_append(struct cp_audit *a, const struct cp_audit_record *recs,
					  size_t n, bool wait);

/* A query: zero/NULL fields mean "any". */
struct cp_audit_filter {
	const char *partner;
	const char *object;  /* matches records about this object id, including the
			      * object lists in detail */
	enum cp_audit_kind kind; /* 0 = any */
	bool has_since, has_until;
	struct cp_time since, until; /* inclusive */
	size_t limit;        /* 0 = no limit */
};

typedef enum cp_err (*cp_audit_entry_fn)(const struct cp_audit_entry *e, void *ctx);

/* Deliver matching records in seq order to fn (which may stop it by returning an error). */
CP_MUST_CHECK enum cp_err cp_audit_query(const char *path, const struct cp_audit_filter *f,
					 cp_audit_entry_fn fn, void *ctx, struct cp_diag *diag);

/*
 * Verify the whole chain and the anchor file. CP_OK if intact (*count = records);
 * CP_ECONFLICT if broken, with a finding in diag naming the first bad seq and why
 * (hash mismatch, gap in seq, anchor does not match the last record).
 * Codes "audit-hash", "audit-gap", "audit-anchor" (docs/AUDIT.md); a missing anchor
 * is only a warning (CP_OK). CP_ENOTFOUND if there is no trail at path, CP_EBACKEND
 * if it is not one (a finding "audit-open" says which).
 */
CP_MUST_CHECK enum cp_err cp_audit_verify(const char *path, int64_t *count,
					  struct cp_diag *diag);

/*
 * cp_audit_verify(), also giving the hash of the last verified record (the record with
 * seq *count; 32 zero bytes for an empty trail) so that a report of the head is the head
 * that was verified. hash may be NULL. *count and hash are written only on CP_OK.
 */
CP_MUST_CHECK enum cp_err cp_audit_verify_head(const char *path, int64_t *count,
					       unsigned char hash[32], struct cp_diag *diag);

/*
 * The head of the trail at path: seq and hash of its last record (0 and 32 zero bytes
 * for an empty trail), read from the database (not from the anchor file).
 * CP_ENOTFOUND if there is no trail at path; CP_EBACKEND if it cannot be read.
 */
CP_MUST_CHECK enum cp_err cp_audit_head(const char *path, int64_t *seq, unsigned char hash[32]);

/* "release", "withhold", "write", "deny", "admin"; "unknown" otherwise. */
const char *cp_audit_kind_name(enum cp_audit_kind kind);
/* The kind for a name, 0 if none. */
enum cp_audit_kind cp_audit_kind_from_name(const char *name);

#endif /* CYBERPACT_AUDIT_H */
