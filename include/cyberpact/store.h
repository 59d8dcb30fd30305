/*
 * cyberpact/store.h - the durable object store: STIX object versions per collection,
 * collections, API roots and TAXII status resources.
 *
 * One interface, several backends (SQLite today; PostgreSQL later) behind a const ops
 * table; nothing above this header sees SQL.
 *
 * Durability: cp_store_add() returns only after its transaction is committed and
 * synced to disk, so a caller may report "success" for every object it added.
 *
 * date_added: every stored version gets a server-assigned date_added, unique and
 * strictly increasing within its collection (microseconds), assigned inside the write
 * transaction. A reader paging by date_added (added_after / next) can therefore never
 * skip or repeat an object, even while writers are active.
 *
 * Transactions: every write call (add, delete, status put, cursor put) is atomic on
 * its own. Between cp_store_begin() and cp_store_commit() several of them form ONE
 * transaction that is committed (and synced) together or not at all; the TAXII
 * server stores the objects of a POST and its status resource that way, and sync
 * stores a page of objects together with the cursor that follows it.
 *
 * Provenance: every stored version records its origin, the partner or peer it came
 * from (NULL: this node made it or a local account posted it), and the marks the
 * egress gate reads (struct cp_store_marks). The store knows nothing of the policy:
 * it keeps what its callers give it.
 *
 * Thread-safety: a struct cp_store is used by one thread at a time. Open one per
 * thread (they share the database file; SQLite serialises writers). Connections of
 * one process should share a write lock (cp_store_set_write_lock()): writers then
 * queue on a mutex instead of polling SQLite's busy handler.
 */
#ifndef CYBERPACT_STORE_H
#define CYBERPACT_STORE_H

#include <pthread.h>

#include "cyberpact/base.h"
#include "cyberpact/stix.h"

struct cp_store;

/*
 * Open (creating if needed) the SQLite store at path. The database runs in WAL mode
 * with synchronous=FULL. Errors: CP_EBACKEND (with a finding in diag, if given, naming
 * the file and SQLite's message), CP_ENOMEM.
 */
CP_MUST_CHECK enum cp_err cp_store_open_sqlite(const char *path, struct cp_store **out,
					       struct cp_diag *diag);
/* Close the store (NULL is fine); an open transaction is rolled back. */
void cp_store_close(struct cp_store *s);

/*
 * Make s take m (a process-wide mutex shared by every connection to the same store)
 * for the whole of each write transaction. m must outlive s. NULL turns it off.
 */
void cp_store_set_write_lock(struct cp_store *s, pthread_mutex_t *m);

/*
 * Start a write transaction (takes the write lock now). Write calls until
 * cp_store_commit() join it. CP_ECONFLICT if one is already open on s.
 */
CP_MUST_CHECK enum cp_err cp_store_begin(struct cp_store *s);
/* Commit it; returns after the commit is durable. On failure it is rolled back. */
CP_MUST_CHECK enum cp_err cp_store_commit(struct cp_store *s);
/* Roll it back (no-op without one). */
void cp_store_rollback(struct cp_store *s);
/* The last backend error message of s ("" if none); valid until the next call. */
const char *cp_store_errmsg(const struct cp_store *s);

/* ------------------------------------------------------------ collections */

struct cp_store_collection {
	char *id;          /* UUID (TAXII collection id) */
	char *api_root;    /* API root name, e.g. "api1" */
	char *title;
	char *description; /* may be NULL */
	char *alias;       /* may be NULL; unique within the API root */
};

void cp_store_collection_release(struct cp_store_collection *c);

/* Create c, or update its title/description/alias if the id exists. */
CP_MUST_CHECK enum cp_err cp_store_collection_put(struct cp_store *s,
						  const struct cp_store_collection *c);
/*
 * The collections of api_root, ordered by id. *out is an array of *count entries the
 * caller frees with cp_store_collection_list_free().
 */
CP_MUST_CHECK enum cp_err cp_store_collection_list(struct cp_store *s, const char *api_root,
						   struct cp_store_collection **out, size_t *count);
void cp_store_collection_list_free(struct cp_store_collection *list, size_t count);
/* One collection by id or alias within api_root; CP_ENOTFOUND if none. */
CP_MUST_CHECK enum cp_err cp_store_collection_get(struct cp_store *s, const char *api_root,
						  const char *id_or_alias,
						  struct cp_store_collection *out);

/* ---------------------------------------------------------------- objects */

enum cp_store_add_outcome {
	CP_STORE_ADDED = 0,  /* a new version was stored */
	CP_STORE_EXISTING,   /* this exact version was already there: also a success */
	CP_STORE_CONFLICT,   /* same (id, version) already stored with different content */
};

/*
 * What the egress gate reads from a version's markings, kept with it so that egress
 * decisions need not parse stored JSON. The store keeps these values and gives them
 * back; what they mean is the policy module's business (its caller computes them:
 * cp_taxii_marks_of()). known is false for versions stored without them (by an
 * older release, or a writer that gave none).
 */
struct cp_store_marks {
	bool known;
	uint8_t tlp;          /* enum cp_tlp */
	uint8_t pap;          /* enum cp_pap */
	bool bad_marking;     /* markings that cannot be read */
	bool consultation;    /* a consultation object */
};

struct cp_store_add_result {
	enum cp_store_add_outcome outcome;
	struct cp_time date_added; /* of the stored version (the existing one for EXISTING) */
};

/*
 * Add versions of objects to a collection in ONE transaction: either all are stored
 * (results[i] says how each went) or none is (an error is returned and nothing
 * changed). Returns after the commit is durable (or, inside cp_store_begin(), with
 * the transaction still open: the caller commits or rolls back). The collection
 * must exist (CP_ENOTFOUND). results has count entries. origin is the partner or
 * peer the objects came from, NULL for this node; it is kept with each version that
 * is added (an EXISTING version keeps its first origin).
 *
 * Two texts of the same (id, version) are the same version if they are equal as JSON
 * (key order does not matter): the result is EXISTING, otherwise CONFLICT.
 */
CP_MUST_CHECK enum cp_err cp_store_add(struct cp_store *s, const char *collection_id,
				       struct cp_stix_object *const *objs, size_t count,
				       const char *origin, struct cp_store_add_result *results);
/*
 * The same, with the compact JSON text of each object as the client sent it
 * (texts[i] for objs[i]; cp_stix_json_member_texts()), stored instead of a new
 * serialisation, and the marks of each object (marks[i]). The caller guarantees
 * that texts[i] is the text objs[i] was parsed from. texts and marks may be NULL, and
 * so may any texts[i].
 */
CP_MUST_CHECK enum cp_err cp_store_add_texts(struct cp_store *s, const char *collection_id,
					     struct cp_stix_object *const *objs,
					     const char *const *texts,
					     const struct cp_store_marks *marks, size_t count,
					     const char *origin,
					     struct cp_store_add_result *results);

/* Which versions a query selects (TAXII match[version]); a bitmask, default LAST. */
enum {
	CP_STORE_VERSION_LAST = 1u << 0,
	CP_STORE_VERSION_FIRST = 1u << 1,
	CP_STORE_VERSION_ALL = 1u << 2,
};

/* A query over one collection. Zeroed fields mean "no filter". */
struct cp_store_filter {
	const char *collection_id;
	bool has_added_after;
	struct cp_time added_after; /* exclusive */
	const char *const *ids;     /* match[id], id_count entries */
	size_t id_count;
	const char *const *types;   /* match[type] */
	size_t type_count;
	unsigned versions;          /* CP_STORE_VERSION_* bits; 0 and no times = LAST */
	const struct cp_time *version_times; /* match[version]=<timestamp>,... */
	size_t version_time_count;
	const char *const *spec_versions; /* match[spec_version] */
	size_t spec_version_count;
	size_t limit;               /* rows per page; 0 = CP_STORE_MAX_PAGE */
	const char *next;           /* token of the previous page, or NULL */
	/* rows carry only json, json_len and date_added (the rest empty): for callers
	 * that forward stored texts and need nothing else (less work per row) */
	bool texts_only;
};

/* The most rows one page returns, whatever limit asks for. */
#define CP_STORE_MAX_PAGE 10000

/* One stored version, borrowed for the duration of the callback. */
struct cp_store_row {
	const char *id;
	const char *type;
	const char *spec_version;
	const char *version; /* modified, else created, else date_added, as STIX text */
	struct cp_time date_added;
	bool is_revoked;
	const char *json; /* the object as received (compact JSON) */
	size_t json_len;
	const char *origin; /* partner or peer it came from; NULL: this node */
	/* what the writer said about the version's markings (struct cp_store_marks) */
	struct cp_store_marks marks;
};

typedef enum cp_err (*cp_store_row_fn)(const struct cp_store_row *row, void *ctx);

#define CP_STORE_NEXT_MAX 64

struct cp_store_page {
	size_t count;               /* rows delivered */
	bool more;                  /* another page exists */
	char next[CP_STORE_NEXT_MAX]; /* token for it (when more) */
	struct cp_time first_added, last_added; /* of the rows delivered (count > 0) */
	/* the backend's work for the query (SQLite: virtual machine steps), so that tests
	 * can tell an indexed lookup from a walk over the collection */
	unsigned long backend_steps;
};

/*
 * The next token that continues a query after the row with date_added last (for
 * callers that stop delivering rows before the store's own page ends).
 */
void cp_store_next_token(const struct cp_time *last, char out[CP_STORE_NEXT_MAX]);

/*
 * Deliver the rows that match f in date_added order, at most f->limit of them, to fn
 * (which may stop the query by returning an error, passed back). Fills *page.
 * A bad next token is CP_EINVAL.
 */
CP_MUST_CHECK enum cp_err cp_store_query(struct cp_store *s, const struct cp_store_filter *f,
					 cp_store_row_fn fn, void *ctx,
					 struct cp_store_page *page);

/*
 * Delete the versions of object id that f selects (f->collection_id, versions,
 * version times, spec versions; other fields ignored). *deleted says how many.
 */
CP_MUST_CHECK enum cp_err cp_store_delete(struct cp_store *s, const struct cp_store_filter *f,
					  const char *id, size_t *deleted);

/* ------------------------------------------------------- status resources */

/*
 * Store (insert or replace) a TAXII status resource, as JSON text, under its id.
 * owner is the account or partner whose request made it (NULL: none), so that the
 * server shows a status only to its owner.
 */
CP_MUST_CHECK enum cp_err cp_store_status_put(struct cp_store *s, const char *api_root,
					      const char *id, const char *owner,
					      const char *json);
/*
 * Fetch one (caller frees *json and *owner with cp_free; owner may be NULL to not
 * ask, *owner is NULL for none); CP_ENOTFOUND if none.
 */
CP_MUST_CHECK enum cp_err cp_store_status_get(struct cp_store *s, const char *api_root,
					      const char *id, char **owner, char **json);

/* -------------------------------------------------------------- cursors */

/*
 * A named position kept in the store (sync: one per peer and subscription), written
 * in the same transaction as the objects it follows. value is text up to
 * CP_STORE_CURSOR_MAX bytes. get: CP_ENOTFOUND if none; *value freed with cp_free.
 */
#define CP_STORE_CURSOR_MAX 4096
CP_MUST_CHECK enum cp_err cp_store_cursor_put(struct cp_store *s, const char *name,
					      const char *value);
CP_MUST_CHECK enum cp_err cp_store_cursor_get(struct cp_store *s, const char *name,
					      char **value);

#endif /* CYBERPACT_STORE_H */
