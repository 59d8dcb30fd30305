/*
 * cyberpact/taxii-client.h - a TAXII 2.1 client (libcurl) for federation: talks to
 * other cyberpact nodes and to any TAXII 2.1 server.
 *
 * Every request goes over HTTPS (the peer's certificate verified against a CA file;
 * no option turns that off), with mutual TLS, a bearer token or HTTP Basic. Transient
 * failures (connection errors, timeouts, HTTP 429 and 5xx) are retried with
 * exponential backoff and full jitter; anything else fails at once. Responses are
 * read into memory up to max_response_bytes and refused beyond that, so a peer cannot
 * make the client hold more than one bounded page. Errors name the peer, the method,
 * the URL and what went wrong (HTTP status and the TAXII error's title, curl's
 * message, or the JSON problem), through cp_taxii_client_error().
 *
 * Thread-safety: a struct cp_taxii_client is used by one thread at a time.
 */
#ifndef CYBERPACT_TAXII_CLIENT_H
#define CYBERPACT_TAXII_CLIENT_H

#include <jansson.h>

#include "cyberpact/base.h"
#include "cyberpact/stix.h"

struct cp_taxii_client_opts {
	const char *peer;        /* the peer's name, for messages (required) */
	const char *cacert;      /* CA file (PEM) that signed the peer's server certificate
				  * (required) */
	const char *client_cert; /* mutual TLS: certificate and key files (PEM), or NULL */
	const char *client_key;
	const char *token;       /* "Authorization: Bearer <token>", or NULL */
	const char *user;        /* HTTP Basic, or NULL */
	const char *password;
	long connect_timeout_ms; /* 0: 10,000 */
	long timeout_ms;         /* whole request; 0: 60,000 */
	unsigned attempts;       /* tries per request for transient failures; 0: 5 */
	long backoff_ms;         /* first retry wait (doubles, with jitter); 0: 200 */
	long backoff_max_ms;     /* cap on one wait; 0: 10,000 */
	size_t max_response_bytes; /* 0: 64 MiB */
};

struct cp_taxii_client;

/* CP_EINVAL (finding in diag: a missing peer or cacert), CP_ENOMEM. */
CP_MUST_CHECK enum cp_err cp_taxii_client_new(const struct cp_taxii_client_opts *opts,
					      struct cp_taxii_client **out,
					      struct cp_diag *diag);
void cp_taxii_client_free(struct cp_taxii_client *c);

/*
 * The last error, e.g. "peer jp: GET https://h:8443/api1/collections/X/objects/: HTTP
 * 503 (Service unavailable: the store is busy; retry later) after 5 attempts". "" if
 * none. Valid until the next call.
 */
const char *cp_taxii_client_error(const struct cp_taxii_client *c);
/* The HTTP status of the last response (0 if none arrived). */
long cp_taxii_client_status(const struct cp_taxii_client *c);
/*
 * Of the last HTTP request (for a walk or a post: its last request): how many tries it
 * took (1 when the first one answered) and how many milliseconds it waited between
 * them, for logs and sync statistics.
 */
unsigned cp_taxii_client_attempts(const struct cp_taxii_client *c);
long cp_taxii_client_waited_ms(const struct cp_taxii_client *c);

/*
 * Errors of every request below: CP_EIO (could not connect, TLS failure, timeout, or
 * 5xx after all attempts), CP_EDENIED (401, 403), CP_ENOTFOUND (404), CP_ETOOBIG
 * (response larger than max_response_bytes; 413), CP_EPARSE (not JSON, or not the
 * resource expected: a page without an object list, a non-boolean `more`...),
 * CP_EINVAL (other 4xx), CP_ENOMEM.
 */

/* GET url (discovery, an API root, collections, a collection, a status): *out owned. */
CP_MUST_CHECK enum cp_err cp_taxii_client_get_json(struct cp_taxii_client *c, const char *url,
						   json_t **out);

/* Which page of objects (or manifest, or versions) to ask for. */
struct cp_taxii_page_req {
	const char *added_after; /* RFC 3339, or NULL */
	const char *next;        /* the previous page's next, or NULL */
	size_t limit;            /* 0: the server's choice */
	const char *match_type;  /* comma list, or NULL */
	const char *match_id;
	const char *match_version; /* "all", "last", ... or NULL (the server's default) */
};

/* One page: the envelope and its paging facts. */
struct cp_taxii_page {
	json_t *envelope;        /* owned: {"more":..., "next":..., "objects":[...]} */
	const json_t *objects;   /* the list in envelope (an empty array if absent) */
	bool more;
	char next[256];          /* "" if none */
	char date_added_first[40]; /* X-TAXII-Date-Added-First, "" if absent */
	char date_added_last[40];  /* X-TAXII-Date-Added-Last, "" if absent */
	/* the text of each element of objects as the peer sent it (compacted), when it
	 * could be found (texts.count == json_array_size(objects)); else count 0 */
	struct cp_stix_json_texts texts;
};

void cp_taxii_page_release(struct cp_taxii_page *p);

/*
 * Parse a response body as the client does for a page (strict envelope checks; the
 * date-added fields are left empty: they come from headers). On failure the reason
 * goes to why (NUL-terminated, cut to why_cap) and *out is untouched: CP_EPARSE,
 * CP_ENOMEM, CP_EINVAL (NULL out or why).
 */
CP_MUST_CHECK enum cp_err cp_taxii_page_parse(const char *body, size_t len,
					      struct cp_taxii_page *out, char *why,
					      size_t why_cap);

/*
 * GET collection_url + "objects/" (collection_url ends with '/'), with the query of
 * req. Checks that the answer is an envelope: objects (if present) an array of JSON
 * objects, more (if present) a boolean, next (if present) a string of at most 255
 * bytes.
 */
CP_MUST_CHECK enum cp_err cp_taxii_client_get_objects(struct cp_taxii_client *c,
						      const char *collection_url,
						      const struct cp_taxii_page_req *req,
						      struct cp_taxii_page *out);
/* The same for manifest/ (page->objects holds manifest records). */
CP_MUST_CHECK enum cp_err cp_taxii_client_get_manifest(struct cp_taxii_client *c,
						       const char *collection_url,
						       const struct cp_taxii_page_req *req,
						       struct cp_taxii_page *out);

/*
 * Walk a collection's objects from a position, page by page: fn gets each page (and
 * may stop the walk by returning an error, passed back). Pages are followed by
 * `next`; when a page says more but gives no next, the walk continues with
 * added_after = that page's X-TAXII-Date-Added-Last (CP_EPARSE if it has neither:
 * the walk cannot continue without repeating itself). Stops after max_pages (0: no
 * limit) with CP_OK and *stopped_early set, so that a peer serving endless pages
 * cannot hold a sync forever. Only one page is held at a time.
 */
typedef enum cp_err (*cp_taxii_page_fn)(const struct cp_taxii_page *page, void *ctx);
CP_MUST_CHECK enum cp_err cp_taxii_client_walk(struct cp_taxii_client *c,
					       const char *collection_url,
					       const struct cp_taxii_page_req *first,
					       size_t max_pages, cp_taxii_page_fn fn, void *ctx,
					       bool *stopped_early);

/*
 * POST an envelope (JSON text) to collection_url + "objects/"; then, while the status
 * says pending, poll status/<id>/ (backoff as for retries, up to timeout_ms in all).
 * *status (owned) is the last status resource. CP_OK means a status arrived; its
 * counts say what succeeded.
 */
CP_MUST_CHECK enum cp_err cp_taxii_client_post(struct cp_taxii_client *c,
					       const char *collection_url, const char *envelope,
					       size_t len, json_t **status);

#endif /* CYBERPACT_TAXII_CLIENT_H */
