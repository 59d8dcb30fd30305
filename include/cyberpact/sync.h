/*
 * cyberpact/sync.h - federation: pull from and push to peers over TAXII 2.1
 * (docs/SYNC.md).
 *
 * Each peer of the configuration (cp_config_peer) has pull subscriptions (its
 * collection -> ours) and push subscriptions (ours -> its collection). A pass of a
 * subscription moves everything new since its cursor, page by page:
 *  - pull: each page from the peer (every version: match[version]=all) is validated
 *    object by object, and the valid objects are stored with the peer as origin IN
 *    THE SAME TRANSACTION as the cursor that follows the page, so a crash, a restart
 *    or a cut connection resumes exactly where the last committed page ended: no gap,
 *    and a page stored twice is a no-op (identical versions are EXISTING);
 *  - push: the local collection is read from its cursor in date_added order; every
 *    version goes through the egress gate for the peer (partner of the same name)
 *    and versions that came from that peer are never sent back to it (no echo); the
 *    released ones are POSTed, and the cursor moves only after the peer's status
 *    resource has come back.
 * Cursors and the state shown by cp_sync_status() live in the store (cursors).
 *
 * Thread-safety: a struct cp_sync runs its passes on one thread at a time (the
 * scheduler's, or the caller's for cp_sync_run()).
 */
#ifndef CYBERPACT_SYNC_H
#define CYBERPACT_SYNC_H

#include <pthread.h>

#include "cyberpact/audit.h"
#include "cyberpact/config.h"
#include "cyberpact/policy.h"

/*
 * Where a sync runs. cfg, audit and write_lock are borrowed and must outlive it.
 * policy_acquire returns the gate's current policy (and a handle for
 * policy_release); NULL means no policy: every push is withheld (default deny).
 */
struct cp_sync_env {
	const struct cp_config *cfg;
	const char *store_path;
	struct cp_audit *audit;        /* may be NULL */
	pthread_mutex_t *write_lock;   /* the process's store write lock, or NULL */
	const struct cp_policy *(*policy_acquire)(void *ctx, void **handle);
	void (*policy_release)(void *ctx, void *handle);
	void *policy_ctx;
	size_t page_limit;             /* objects per page asked of a peer; 0: 1000 */
	size_t max_pages;              /* per pass; 0: 100,000 */
};

/* Progress of a running pass, for displays. */
struct cp_sync_progress {
	const char *subscription; /* "pull jp:REMOTE -> LOCAL" */
	size_t pages;
	size_t received;  /* pull: objects in pages; push: versions read */
	size_t stored;    /* pull: versions new here; push: versions sent */
	size_t skipped;   /* pull: invalid objects; push: withheld or echo */
	double seconds;
};
typedef void (*cp_sync_progress_fn)(const struct cp_sync_progress *p, void *ctx);

struct cp_sync;

/* Check the configured subscriptions (peers' files readable, collections known). */
CP_MUST_CHECK enum cp_err cp_sync_new(const struct cp_sync_env *env, struct cp_sync **out,
				      struct cp_diag *diag);
/* Stop the scheduler (if started) and free. */
void cp_sync_free(struct cp_sync *s);

/*
 * Run one pass of every subscription of peer (NULL: of every peer) now, on the
 * calling thread. Returns the first error (the other subscriptions still run); the
 * error and its message are kept in the subscription's state.
 */
CP_MUST_CHECK enum cp_err cp_sync_run(struct cp_sync *s, const char *peer,
				      cp_sync_progress_fn fn, void *ctx);

/*
 * Start a thread that runs each subscription every `interval` seconds (failing ones
 * back off, up to 5 minutes) until cp_sync_free().
 */
CP_MUST_CHECK enum cp_err cp_sync_start(struct cp_sync *s);

/*
 * Something was just stored in the local collection (by id): its push subscriptions
 * run now instead of at their next interval, so that a new object travels in about
 * the time of one POST per hop. Cheap; callable from any thread. s may be NULL.
 */
void cp_sync_notify(struct cp_sync *s, const char *collection_id);

/* The state of one subscription, as kept in the store. */
struct cp_sync_state {
	char name[256];          /* "pull:PEER:REMOTE:LOCAL-ID" or "push:PEER:LOCAL-ID:REMOTE" */
	bool push;
	const char *peer, *local, *remote; /* from the configuration */
	char cursor[64];         /* pull: the peer's date_added; push: ours; "" = start */
	char last_attempt[40], last_success[40], caught_up[40]; /* RFC 3339 or "" */
	char last_error[512];    /* "" if the last attempt succeeded */
	unsigned failures;       /* consecutive failed attempts */
	uint64_t total;          /* versions stored (pull) or sent (push) so far */
};

typedef void (*cp_sync_state_fn)(const struct cp_sync_state *st, void *ctx);

/*
 * Deliver the state of every configured subscription (read from the store at
 * store_path; subscriptions never run have empty fields). CP_EBACKEND if the store
 * cannot be read.
 */
CP_MUST_CHECK enum cp_err cp_sync_status(const struct cp_config *cfg, const char *store_path,
					 cp_sync_state_fn fn, void *ctx);

/*
 * Forget the cursors of the subscriptions of peer (NULL: of every peer), so that the
 * next pass starts from the beginning: after an agreement was widened (a pull's
 * cursor has moved past versions the peer withheld then) or to send everything to a
 * peer again. Nothing stored changes, and versions already there are not stored
 * twice. *count says how many subscriptions were reset. CP_ENOTFOUND if peer has no
 * subscriptions.
 */
CP_MUST_CHECK enum cp_err cp_sync_reset(const struct cp_config *cfg, const char *store_path,
					const char *peer, size_t *count);

#endif /* CYBERPACT_SYNC_H */
