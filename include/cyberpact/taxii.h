/*
 * cyberpact/taxii.h - the TAXII 2.1 server core, independent of the HTTP library:
 * a request (method, path, query, a few headers, body, the authenticated account)
 * goes in, a response (status, headers, body) comes out. src/ glues it to
 * libmicrohttpd with TLS and authentication.
 *
 * Every endpoint of TAXII 2.1: discovery, API root, status, collections, collection,
 * objects (GET, POST), object (GET, DELETE), versions, manifest; the filters
 * added_after, limit, next, match[id|type|version|spec_version]; errors as TAXII
 * error resources with the right HTTP status.
 *
 * Thread-safety: one struct cp_taxii_server is shared by all threads; each call to
 * cp_taxii_handle() gets the calling thread's own store connection.
 */
#ifndef CYBERPACT_TAXII_H
#define CYBERPACT_TAXII_H

#include <pthread.h>

#include <jansson.h>

#include "cyberpact/base.h"
#include "cyberpact/config.h"
#include "cyberpact/store.h"

#define CP_TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"
#define CP_STIX_MEDIA_TYPE "application/stix+json;version=2.1"

struct cp_taxii_server;

/* One query parameter, already percent-decoded. */
struct cp_taxii_param {
	const char *key;
	const char *value;
};

struct cp_taxii_request {
	const char *method; /* "GET", "POST", "DELETE", ... */
	const char *path;   /* decoded path, e.g. "/api1/collections/<id>/objects/" */
	const struct cp_taxii_param *params;
	size_t param_count;
	const char *accept;       /* Accept header or NULL */
	const char *content_type; /* Content-Type header or NULL */
	const char *body;         /* request body (POST) */
	size_t body_len;
	/*
	 * Who asks: a local account of this node (its own people and tools: what they
	 * post is this node's own, and they read what their account allows), OR a
	 * partner (everything it may see or receive is decided by the policy hooks,
	 * what it posts is stored with the partner as origin). Neither: 401.
	 */
	const struct cp_config_account *account;
	const char *partner;
	void *policy_ctx;       /* passed to the policy hooks for this request */
	const char *request_id; /* for log lines and audit records */
};

struct cp_taxii_response {
	unsigned status;
	const char *content_type; /* static string */
	char *body;               /* owned (cp_free) */
	size_t body_len;
	/* X-TAXII-Date-Added-First / -Last, "" when not applicable */
	char date_added_first[CP_TIME_TEXT_MAX];
	char date_added_last[CP_TIME_TEXT_MAX];
	const char *location; /* for 301 redirects, static or owned by the server */
	bool www_authenticate; /* add a Basic challenge (401) */
};

void cp_taxii_response_release(struct cp_taxii_response *r);

/*
 * The policy hooks: the ONE place where the sharing policy (partners, agreements, the
 * egress gate of cyberpact/policy.h) plugs into the server. Every answer to a partner
 * goes through them:
 *  - can(): may the partner read / write a collection (by id)? A collection it may
 *    do neither with is answered 404 everywhere, as if it did not exist;
 *  - release(): THE gate, for every object version before it leaves (objects,
 *    object, versions, manifest). Withheld versions are invisible: they are not
 *    counted, do not make `more` true, do not move X-TAXII-Date-Added-* or `next`;
 *    fills why when it is not NULL (asked only for versions it withholds);
 *  - rewrite(): optional; a new JSON text for a released version (anonymisation),
 *    or NULL to send it as stored.
 * Without hooks (NULL), partner requests are refused (401): default deny.
 */
struct cp_policy_reason;
struct cp_taxii_policy {
	bool (*can)(void *policy_ctx, const char *partner, const char *collection_id, bool write);
	bool (*release)(void *policy_ctx, const char *partner, const char *collection_id,
			const struct cp_store_row *row, struct cp_policy_reason *why);
	char *(*rewrite)(void *policy_ctx, const char *partner, const struct cp_store_row *row);
};

/*
 * Open a server over the configuration (borrowed; must outlive the server): opens the
 * store at store_path to create the API roots and collections the configuration
 * names. Store connections for request threads are opened on demand.
 */
CP_MUST_CHECK enum cp_err cp_taxii_server_new(const struct cp_config *cfg,
					      const char *store_path,
					      struct cp_taxii_server **out, struct cp_diag *diag);
void cp_taxii_server_free(struct cp_taxii_server *srv);
/*
 * Between the store and the gate: the marks a writer stores with a version
 * (computed from the object with the policy module's rules), and the gate's facts of
 * a stored row (from its marks; parsed from its JSON for rows stored without them).
 * The facts' id and type point into row.
 */
struct cp_policy_facts;
void cp_taxii_marks_of(const json_t *obj, struct cp_store_marks *out);
void cp_taxii_row_facts(const struct cp_store_row *row, struct cp_policy_facts *out);

/*
 * The mutex the server's store connections take for each write transaction; other
 * writers of the same process (sync) share it so that writers queue instead of
 * polling SQLite's lock.
 */
pthread_mutex_t *cp_taxii_server_write_lock(struct cp_taxii_server *srv);

/*
 * Concurrent POSTs share commits (group commit). Since the server was made: the
 * write transactions that stored POSTs, the POSTs stored (or failed in the store),
 * the envelopes validated by two threads (a large one alone in the server); and now:
 * the POSTs waiting for their write (queued or being written).
 */
struct cp_taxii_write_stats {
	unsigned long commits, posts, split, waiting;
};
void cp_taxii_server_write_stats(struct cp_taxii_server *srv, struct cp_taxii_write_stats *out);

/*
 * Called after a POST has committed new versions to a collection (from the request's
 * thread), e.g. to wake sync pushes at once. NULL: none.
 */
typedef void (*cp_taxii_write_fn)(void *ctx, const char *collection_id);
void cp_taxii_server_set_write_hook(struct cp_taxii_server *srv, cp_taxii_write_fn fn, void *ctx);

/* Install the policy hooks (borrowed; must outlive the server). */
void cp_taxii_server_set_policy(struct cp_taxii_server *srv, const struct cp_taxii_policy *pol);

/*
 * Record partner egress, writes and refusals in the audit trail (borrowed; NULL: no
 * audit). With a trail, a partner's POST is answered only after its audit record is
 * durable.
 */
struct cp_audit;
void cp_taxii_server_set_audit(struct cp_taxii_server *srv, struct cp_audit *audit);

/* Handle one request; always fills resp (errors become TAXII error resources). */
void cp_taxii_handle(struct cp_taxii_server *srv, const struct cp_taxii_request *req,
		     struct cp_taxii_response *resp);

/* Build a TAXII error resource response (used by the HTTP glue for 401/413/...). */
void cp_taxii_error(struct cp_taxii_response *resp, unsigned status, const char *title,
		    const char *description);

/* Does the account may read/write the collection (by id or alias)? */
bool cp_taxii_account_can(const struct cp_config_account *a, const char *collection_id,
			  const char *alias, bool write);

#endif /* CYBERPACT_TAXII_H */
