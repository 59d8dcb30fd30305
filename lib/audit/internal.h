/*
 * lib/audit/internal.h - what the writer (audit.c) and the readers (read.c) of the
 * audit trail share: the schema, the canonical encoding, the anchor file and time
 * conversion. docs/AUDIT.md describes the same things for an external auditor; a change
 * here is a change of the on-disk format and must change both.
 */
#ifndef CP_AUDIT_INTERNAL_H
#define CP_AUDIT_INTERNAL_H

#include <sqlite3.h>

#include "cyberpact/audit.h"
#include "common.h"

#define CP_AUDIT_FORMAT "1"

/* How long a connection waits for another process's write lock. */
#define CP_AUDIT_BUSY_MS 10000

/* The columns in the order every reader selects them. */
#define CP_AUDIT_COLUMNS                                                                           \
	"seq, time, kind, partner, action, collection, object, version, reason, detail, "         \
	"request_id, hash"

enum {
	COL_SEQ,
	COL_TIME,
	COL_KIND,
	COL_PARTNER, /* the string fields follow in canonical order */
	COL_ACTION,
	COL_COLLECTION,
	COL_OBJECT,
	COL_VERSION,
	COL_REASON,
	COL_DETAIL,
	COL_REQUEST_ID,
	COL_HASH,
};

/* The eight optional string fields of a record, in canonical order. */
#define CP_AUDIT_STRINGS 8

/* One field of the canonical encoding: NULL is ptr == NULL. */
struct cp_audit_field {
	const char *ptr;
	size_t len;
};

/*
 * hash = SHA-256(prev || u64be(seq) || u64be(time) || field(kind) || field(partner) ...
 * || field(request_id)), field() as docs/AUDIT.md defines it. fields holds the kind
 * name followed by the CP_AUDIT_STRINGS string fields.
 */
void cp__audit_hash(const unsigned char prev[32], int64_t seq, int64_t time_us,
		    const struct cp_audit_field fields[1 + CP_AUDIT_STRINGS], unsigned char out[32]);

/* The kind name and the string fields of r (NULL stays NULL), in canonical order. */
void cp__audit_record_fields(const struct cp_audit_record *r,
			     struct cp_audit_field out[1 + CP_AUDIT_STRINGS]);

/* Microseconds since the epoch <-> struct cp_time (6 digits). */
int64_t cp__audit_us_from_time(const struct cp_time *t, bool round_up);
struct cp_time cp__audit_time_from_us(int64_t us);

/* The anchor file: "SEQ HEXHASH\n". */
enum cp_audit_anchor_state {
	CP_AUDIT_ANCHOR_OK,
	CP_AUDIT_ANCHOR_MISSING,
	CP_AUDIT_ANCHOR_MALFORMED,
	CP_AUDIT_ANCHOR_UNREADABLE,
};

struct cp_audit_anchor {
	int64_t seq;
	unsigned char hash[32];
};

/* PATH.anchor, cp_free'd by the caller; NULL when out of memory. */
char *cp__audit_anchor_path(const char *path);
enum cp_audit_anchor_state cp__audit_anchor_read(const char *anchor_path,
						 struct cp_audit_anchor *out);

/* 64 lowercase hex digits and a NUL. */
void cp__audit_hex(const unsigned char hash[32], char out[65]);

/*
 * Open the trail at path read-only for query, verify and head: CP_ENOTFOUND (with a
 * finding) when there is no file, CP_EBACKEND when it is not an audit trail.
 */
enum cp_err cp__audit_open_read(const char *path, sqlite3 **out, struct cp_diag *diag);

/* Test hook: queue limits of a (tests exercise blocked appenders with small ones). */
void cp__audit_set_queue_limits(struct cp_audit *a, size_t max_records, size_t max_bytes);

#endif
