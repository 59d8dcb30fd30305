/*
 * TAXII 2.1 client over libcurl: one easy handle per client, so that consecutive
 * requests to one peer reuse its TLS connection (keep-alive, TLS session).
 *
 * Which curl failures are retried (transient) and why:
 *  - could not resolve / connect, timed out, send/recv errors, empty or cut-off
 *    replies, HTTP/2 stream errors: the peer restarting, overloaded or a network blip;
 *  - CURLE_SSL_CONNECT_ERROR: a handshake cut off by a peer that is restarting or
 *    shedding load looks exactly like this, and a genuine misconfiguration (protocol
 *    mismatch) costs only `attempts` quick retries before it is reported;
 * but NOT certificate problems (the peer's certificate fails verification, our own
 * certificate or key or CA file cannot be used): those never heal by waiting, and
 * retrying would only delay a clear error.
 */
#include <curl/curl.h>
#include <limits.h>
#include <pthread.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cyberpact/taxii-client.h"
#include "cyberpact/taxii.h"
#include "common.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_ATTEMPTS 5u
#define DEFAULT_BACKOFF_MS 200L
#define DEFAULT_BACKOFF_MAX_MS 10000L
#define DEFAULT_MAX_RESPONSE (64u << 20)
/* a URL we build: a long match[id] list is the largest part */
#define URL_MAX (1u << 20)
/* how much of a TAXII error's title and description goes into a message */
#define DETAIL_MAX 200
/* a response body is held between requests only while it is this small */
#define KEEP_BODY_CAP (1u << 20)
#define HEADER_VALUE_MAX 40

struct cp_taxii_client {
	CURL *h;
	struct curl_slist *hdr_get, *hdr_post;
	char *peer, *cacert, *client_cert, *client_key, *user, *password;
	long connect_timeout_ms, timeout_ms, backoff_ms, backoff_max_ms;
	unsigned attempts_max;
	size_t max_response;
	uint64_t rng;

	/* the response being received */
	struct cp_buf body;
	bool too_big, no_memory;
	char first[HEADER_VALUE_MAX], last[HEADER_VALUE_MAX];
	bool has_retry_after;
	long retry_after_s;
	char curl_err[CURL_ERROR_SIZE];

	/* the outcome of the last call */
	long status;
	unsigned attempts;
	long waited_ms;
	char msg[2048];
};

/* ------------------------------------------------------------- helpers */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* xorshift64*: the jitter only has to spread clients apart, not be unpredictable */
static uint64_t rng_next(struct cp_taxii_client *c)
{
	uint64_t x = c->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* "Full jitter": a wait drawn from [0, min(cap, base * 2^n)]. */
static long backoff_wait(struct cp_taxii_client *c, unsigned n)
{
	long ceiling = c->backoff_ms;

	while (n-- > 0 && ceiling < c->backoff_max_ms)
		ceiling = ceiling > LONG_MAX / 2 ? LONG_MAX : ceiling * 2;
	if (ceiling > c->backoff_max_ms)
		ceiling = c->backoff_max_ms;
	return (long)(rng_next(c) % ((uint64_t)ceiling + 1));
}

/*
 * Copy at most max bytes of src (len bytes) into dst (cap bytes), escaping every
 * byte outside printable ASCII as \xNN, and marking a cut with "...". A message may
 * end up in a log line, so a peer must not be able to put control characters or
 * endless text there.
 */
static void escape_text(char *dst, size_t cap, const char *src, size_t len, size_t max)
{
	size_t o = 0;
	bool cut = len > max;

	if (cut)
		len = max;
	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			dst[o++] = (char)ch;
		} else {
			snprintf(dst + o, cap - o, "\\x%02x", ch);
			o += 4;
		}
	}
	if (cut && o + 4 < cap) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* The URL for messages, without user:password@ if the caller put one there. */
static void url_for_message(char *dst, size_t cap, const char *url)
{
	const char *host = strstr(url, "://");
	const char *at, *end;

	if (host) {
		host += 3;
		end = host + strcspn(host, "/?#");
		at = memchr(host, '@', (size_t)(end - host));
		if (at) {
			snprintf(dst, cap, "%.*s%s", (int)(host - url), url, at + 1);
			return;
		}
	}
	snprintf(dst, cap, "%s", url);
}

static void set_msg(struct cp_taxii_client *c, const char *method, const char *url,
		    const char *fmt, ...) CP_PRINTF(4, 5);
static void set_msg(struct cp_taxii_client *c, const char *method, const char *url,
		    const char *fmt, ...)
{
	char shown[1024];
	va_list ap;
	int n;

	url_for_message(shown, sizeof(shown), url);
	n = snprintf(c->msg, sizeof(c->msg), "peer %s: %s %s: ", c->peer, method, shown);
	if (n < 0 || (size_t)n >= sizeof(c->msg))
		return;
	va_start(ap, fmt);
	vsnprintf(c->msg + n, sizeof(c->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------ curl callbacks */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct cp_taxii_client *c = ud;
	size_t n = size * nmemb;

	/* returning less than n aborts the transfer: nothing more is read */
	if (n > c->max_response - c->body.len) {
		c->too_big = true;
		return 0;
	}
	cp_buf_append(&c->body, ptr, n);
	if (cp_buf_finish(&c->body)) {
		c->no_memory = true;
		return 0;
	}
	return n;
}

/* Does the header line start with name (case-insensitive) and a colon? Gives the value. */
static bool header_value(const char *line, size_t len, const char *name, const char **v,
			 size_t *vlen)
{
	size_t nl = strlen(name);
	const char *p, *e;

	if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
		return false;
	p = line + nl + 1;
	e = line + len;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*v = p;
	*vlen = (size_t)(e - p);
	return true;
}

/* Keep a header value only if it fits and is plain printable text. */
static void keep_value(char dst[HEADER_VALUE_MAX], const char *v, size_t len)
{
	if (len == 0 || len >= HEADER_VALUE_MAX)
		return;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static void parse_retry_after(struct cp_taxii_client *c, const char *v, size_t len)
{
	char text[64];
	long s = 0;
	size_t i;

	if (len == 0 || len >= sizeof(text))
		return;
	memcpy(text, v, len);
	text[len] = '\0';
	for (i = 0; i < len && text[i] >= '0' && text[i] <= '9'; i++)
		s = s > 86400 ? s : s * 10 + (text[i] - '0');
	if (i < len) {
		/* an HTTP-date */
		time_t when = curl_getdate(text, NULL);
		time_t now = time(NULL);
		if (when == (time_t)-1)
			return;
		s = when > now ? (long)(when - now) : 0;
	}
	c->has_retry_after = true;
	c->retry_after_s = s;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct cp_taxii_client *c = ud;
	size_t n = size * nmemb;
	const char *v;
	size_t vlen;

	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
		/* a new response (after a 100 Continue, say): forget the previous one's */
		c->first[0] = c->last[0] = '\0';
		c->has_retry_after = false;
	} else if (header_value(ptr, n, "X-TAXII-Date-Added-First", &v, &vlen)) {
		keep_value(c->first, v, vlen);
	} else if (header_value(ptr, n, "X-TAXII-Date-Added-Last", &v, &vlen)) {
		keep_value(c->last, v, vlen);
	} else if (header_value(ptr, n, "Retry-After", &v, &vlen)) {
		parse_retry_after(c, v, vlen);
	}
	return n;
}

/* ---------------------------------------------------------- lifecycle */

static bool has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

static enum cp_err check_opts(const struct cp_taxii_client_opts *o, struct cp_diag *diag)
{
	const char *code = "taxii-client-opts";

	if (!o->peer || !*o->peer) {
		cp_diag_add(diag, CP_SEV_ERROR, code, NULL, "the peer's name is missing");
		return CP_EINVAL;
	}
	if (!o->cacert || !*o->cacert) {
		cp_diag_add(diag, CP_SEV_ERROR, code, NULL,
			    "peer %s: no CA file (cacert) to verify the peer's certificate",
			    o->peer);
		return CP_EINVAL;
	}
	if (!readable(o->cacert)) {
		cp_diag_add(diag, CP_SEV_ERROR, code, NULL, "peer %s: cannot read CA file '%s': %s",
			    o->peer, o->cacert, strerror(errno));
		return CP_EINVAL;
	}
	if (o->client_key && !o->client_cert) {
		cp_diag_add(diag, CP_SEV_ERROR, code, NULL,
			    "peer %s: a client key without a client certificate", o->peer);
		return CP_EINVAL;
	}
	if (o->client_cert && !readable(o->client_cert)) {
		cp_diag_add(diag, CP_SEV_ERROR, code, NULL,
			    "peer %s: cannot read client certificate '%s': %s", o->peer,
			    o->client_cert, strerror(errno));
		return CP_EINVAL;
	}
	if (o->client_key && !readable(o->client_key)) {
		cp_diag_add(diag, CP_SEV_ERROR, code, NULL,
			    "peer %s: cannot read client key '%s': %s", o->peer, o->client_key,
			    strerror(errno));
		return CP_EINVAL;
	}
	if (o->token && o->user) {
		cp_diag_add(diag, CP_SEV_ERROR, code, NULL,
			    "peer %s: a bearer token and HTTP Basic both given; choose one",
			    o->peer);
		return CP_EINVAL;
	}
	if (!o->user != !o->password) {
		cp_diag_add(diag, CP_SEV_ERROR, code, NULL,
			    "peer %s: HTTP Basic needs both a user and a password", o->peer);
		return CP_EINVAL;
	}
	if ((o->token && !*o->token) || has_crlf(o->token) || has_crlf(o->user) ||
	    has_crlf(o->password) || (o->user && strchr(o->user, ':'))) {
		cp_diag_add(diag, CP_SEV_ERROR, code, NULL,
			    "peer %s: the token, user or password holds characters an HTTP header "
			    "cannot carry",
			    o->peer);
		return CP_EINVAL;
	}
	if (o->connect_timeout_ms < 0 || o->timeout_ms < 0 || o->backoff_ms < 0 ||
	    o->backoff_max_ms < 0) {
		cp_diag_add(diag, CP_SEV_ERROR, code, NULL, "peer %s: negative timeout or backoff",
			    o->peer);
		return CP_EINVAL;
	}
	return CP_OK;
}

static bool dup_opt(char **dst, const char *src)
{
	if (!src)
		return true;
	*dst = cp_strdup(src);
	return *dst != NULL;
}

static bool set_ok(CURLcode rc, bool *ok)
{
	if (rc != CURLE_OK)
		*ok = false;
	return *ok;
}

/* Options that stay the same for every request of the client. */
static enum cp_err setup_handle(struct cp_taxii_client *c, const struct cp_taxii_client_opts *o,
				struct cp_diag *diag)
{
	CURL *h = c->h;
	bool ok = true;
	struct curl_slist *l;

	/* https only, verified against the peer's CA alone: no system store, no opt-out */
	set_ok(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https"), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https"), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_CAPATH, NULL), &ok);
	if (c->client_cert) {
		set_ok(curl_easy_setopt(h, CURLOPT_SSLCERT, c->client_cert), &ok);
		set_ok(curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM"), &ok);
		if (c->client_key) {
			set_ok(curl_easy_setopt(h, CURLOPT_SSLKEY, c->client_key), &ok);
			set_ok(curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM"), &ok);
		}
	}
	if (c->user) {
		set_ok(curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC), &ok);
		set_ok(curl_easy_setopt(h, CURLOPT_USERNAME, c->user), &ok);
		set_ok(curl_easy_setopt(h, CURLOPT_PASSWORD, c->password), &ok);
	}
	set_ok(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms), &ok);
	/* a Content-Length over the limit is refused before any byte of the body */
	set_ok(curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response), &ok);
	/* what a peer compresses is still counted against the limit once inflated */
	set_ok(curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_USERAGENT, "cyberpact-taxii-client"), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_WRITEDATA, c), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_HEADERDATA, c), &ok);
	set_ok(curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err), &ok);
	if (!ok) {
		cp_diag_add(diag, CP_SEV_ERROR, "taxii-client-curl", NULL,
			    "peer %s: libcurl refused an option (is it older than 7.85?)", c->peer);
		return CP_EINVAL;
	}

	l = curl_slist_append(NULL, "Accept: " CP_TAXII_MEDIA_TYPE);
	if (l && o->token) {
		char *auth = NULL;
		size_t n = strlen(o->token) + sizeof("Authorization: Bearer ");
		auth = cp_malloc(n);
		if (auth) {
			snprintf(auth, n, "Authorization: Bearer %s", o->token);
			struct curl_slist *t = curl_slist_append(l, auth);
			/* the token must not linger in freed memory */
			explicit_bzero(auth, n);
			cp_free(auth);
			if (!t) {
				curl_slist_free_all(l);
				l = NULL;
			}
		} else {
			curl_slist_free_all(l);
			l = NULL;
		}
	}
	c->hdr_get = l;
	if (!c->hdr_get)
		return CP_ENOMEM;
	/* copies of the GET headers plus the POST-only ones */
	l = NULL;
	for (struct curl_slist *i = c->hdr_get; i; i = i->next) {
		struct curl_slist *t = curl_slist_append(l, i->data);
		if (!t)
			goto nomem;
		l = t;
	}
	{
		/* "Expect:" off: it costs a round trip per POST and TAXII servers answer
		 * with one status anyway */
		static const char *const extra[] = {"Content-Type: " CP_TAXII_MEDIA_TYPE,
						    "Expect:"};
		for (size_t i = 0; i < CP_ARRAY_LEN(extra); i++) {
			struct curl_slist *t = curl_slist_append(l, extra[i]);
			if (!t)
				goto nomem;
			l = t;
		}
	}
	c->hdr_post = l;
	return CP_OK;
nomem:
	curl_slist_free_all(l);
	return CP_ENOMEM;
}

enum cp_err cp_taxii_client_new(const struct cp_taxii_client_opts *opts,
				struct cp_taxii_client **out, struct cp_diag *diag)
{
	struct cp_taxii_client *c = NULL;
	enum cp_err err;

	if (!opts || !out) {
		cp_diag_add(diag, CP_SEV_ERROR, "taxii-client-opts", NULL, "no options");
		return CP_EINVAL;
	}
	err = check_opts(opts, diag);
	if (err)
		return err;
	pthread_once(&curl_once, init_curl);
	if (curl_init_rc != CURLE_OK) {
		cp_diag_add(diag, CP_SEV_ERROR, "taxii-client-curl", NULL,
			    "libcurl cannot start: %s", curl_easy_strerror(curl_init_rc));
		return CP_EIO;
	}
	cp_json_use_cp_alloc();

	err = CP_ENOMEM;
	c = cp_calloc(1, sizeof(*c));
	if (!c)
		goto out;
	if (!dup_opt(&c->peer, opts->peer) || !dup_opt(&c->cacert, opts->cacert) ||
	    !dup_opt(&c->client_cert, opts->client_cert) ||
	    !dup_opt(&c->client_key, opts->client_key) || !dup_opt(&c->user, opts->user) ||
	    !dup_opt(&c->password, opts->password))
		goto out;
	c->connect_timeout_ms =
		opts->connect_timeout_ms ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
	c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->attempts_max = opts->attempts ? opts->attempts : DEFAULT_ATTEMPTS;
	c->backoff_ms = opts->backoff_ms ? opts->backoff_ms : DEFAULT_BACKOFF_MS;
	c->backoff_max_ms = opts->backoff_max_ms ? opts->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
	if (c->backoff_max_ms < c->backoff_ms)
		c->backoff_max_ms = c->backoff_ms;
	c->max_response =
		opts->max_response_bytes ? opts->max_response_bytes : DEFAULT_MAX_RESPONSE;
	cp_buf_init(&c->body, c->max_response);
	if (getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) != (ssize_t)sizeof(c->rng))
		c->rng = (uint64_t)now_ms() ^ (uint64_t)(uintptr_t)c;
	c->rng |= 1; /* xorshift must not start at 0 */

	c->h = curl_easy_init();
	if (!c->h)
		goto out;
	err = setup_handle(c, opts, diag);
	if (err)
		goto out;
	*out = c;
	c = NULL;
out:
	if (err == CP_ENOMEM)
		cp_diag_add(diag, CP_SEV_ERROR, "taxii-client-nomem", NULL,
			    "out of memory setting up the client");
	cp_taxii_client_free(c);
	return err;
}

void cp_taxii_client_free(struct cp_taxii_client *c)
{
	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	/* the token is in the header list: wipe before freeing */
	for (struct curl_slist *i = c->hdr_get; i; i = i->next)
		explicit_bzero(i->data, strlen(i->data));
	for (struct curl_slist *i = c->hdr_post; i; i = i->next)
		explicit_bzero(i->data, strlen(i->data));
	curl_slist_free_all(c->hdr_get);
	curl_slist_free_all(c->hdr_post);
	if (c->password) {
		explicit_bzero(c->password, strlen(c->password));
		cp_free(c->password);
	}
	cp_free(c->peer);
	cp_free(c->cacert);
	cp_free(c->client_cert);
	cp_free(c->client_key);
	cp_free(c->user);
	cp_buf_release(&c->body);
	cp_free(c);
}

const char *cp_taxii_client_error(const struct cp_taxii_client *c)
{
	return c ? c->msg : "";
}

long cp_taxii_client_status(const struct cp_taxii_client *c)
{
	return c ? c->status : 0;
}

unsigned cp_taxii_client_attempts(const struct cp_taxii_client *c)
{
	return c ? c->attempts : 0;
}

long cp_taxii_client_waited_ms(const struct cp_taxii_client *c)
{
	return c ? c->waited_ms : 0;
}

/* ---------------------------------------------------------- requests */

static bool curl_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

static bool http_transient(long code)
{
	return code == 429 || (code >= 500 && code <= 599);
}

static void reset_response(struct cp_taxii_client *c)
{
	if (c->body.cap > KEEP_BODY_CAP)
		cp_buf_release(&c->body);
	cp_buf_reset(&c->body);
	c->too_big = c->no_memory = false;
	c->first[0] = c->last[0] = '\0';
	c->has_retry_after = false;
	c->retry_after_s = 0;
	c->curl_err[0] = '\0';
}

/* "HTTP 503 (Service unavailable: the store is busy)" into dst, from the error body. */
static void describe_http(const struct cp_taxii_client *c, long code, char *dst, size_t cap)
{
	json_t *j = NULL;
	const char *title = NULL, *desc = NULL;
	char t[DETAIL_MAX * 4 + 8], d[DETAIL_MAX * 4 + 8];

	if (c->body.len && c->body.ptr) {
		j = json_loadb(c->body.ptr, c->body.len, JSON_REJECT_DUPLICATES, NULL);
		if (json_is_object(j)) {
			title = json_string_value(json_object_get(j, "title"));
			desc = json_string_value(json_object_get(j, "description"));
		}
	}
	if (title) {
		escape_text(t, sizeof(t), title, strlen(title), DETAIL_MAX);
		if (desc) {
			escape_text(d, sizeof(d), desc, strlen(desc), DETAIL_MAX);
			snprintf(dst, cap, "HTTP %ld (%s: %s)", code, t, d);
		} else {
			snprintf(dst, cap, "HTTP %ld (%s)", code, t);
		}
	} else if (c->body.len && c->body.ptr) {
		/* not a TAXII error: a proxy's page, say; a short excerpt helps find it */
		escape_text(t, sizeof(t), c->body.ptr, c->body.len, 80);
		snprintf(dst, cap, "HTTP %ld (not a TAXII error resource: '%s')", code, t);
	} else {
		snprintf(dst, cap, "HTTP %ld", code);
	}
	json_decref(j);
}

static enum cp_err http_err(long code)
{
	if (code == 401 || code == 403)
		return CP_EDENIED;
	if (code == 404)
		return CP_ENOTFOUND;
	if (code == 413)
		return CP_ETOOBIG;
	if (http_transient(code))
		return CP_EIO;
	return CP_EINVAL;
}

/* Set c->msg for a failed request and say which error it is. */
static enum cp_err report_failure(struct cp_taxii_client *c, const char *method, const char *url,
				  CURLcode rc, long code)
{
	char what[DETAIL_MAX * 10], after[48] = "";
	enum cp_err err;

	if (c->attempts > 1)
		snprintf(after, sizeof(after), " after %u attempts", c->attempts);
	if (rc == CURLE_OK) {
		describe_http(c, code, what, sizeof(what));
		err = http_err(code);
	} else if (c->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(what, sizeof(what),
			 "the response is larger than %zu bytes (max_response_bytes); refused",
			 c->max_response);
		err = CP_ETOOBIG;
	} else if (c->no_memory || rc == CURLE_OUT_OF_MEMORY) {
		snprintf(what, sizeof(what), "out of memory reading the response");
		err = CP_ENOMEM;
	} else {
		snprintf(what, sizeof(what), "%s (curl error %d)",
			 c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc), (int)rc);
		err = (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) ? CP_EINVAL
										      : CP_EIO;
	}
	set_msg(c, method, url, "%s%s", what, after);
	return err;
}

/*
 * Send one request, retrying transient failures. On CP_OK the 2xx response's body
 * is in c->body and its X-TAXII headers in c->first/last.
 */
static enum cp_err request(struct cp_taxii_client *c, const char *method, const char *url,
			   const char *body, size_t len)
{
	bool post = body != NULL;
	CURLcode rc = CURLE_OK;
	long code = 0;

	c->status = 0;
	c->attempts = 0;
	c->waited_ms = 0;
	c->msg[0] = '\0';
	if (curl_easy_setopt(c->h, CURLOPT_URL, url) != CURLE_OK) {
		set_msg(c, method, url, "libcurl does not take this URL");
		return CP_EINVAL;
	}
	if (post) {
		curl_easy_setopt(c->h, CURLOPT_POST, 1L);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdr_post);
	} else {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdr_get);
	}
	for (;;) {
		char shown[1024];
		bool transient;
		long wait;

		reset_response(c);
		c->attempts++;
		rc = curl_easy_perform(c->h);
		code = 0;
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
		c->status = code;
		if (rc == CURLE_OK && code >= 200 && code <= 299)
			return CP_OK;
		if (rc != CURLE_OK)
			transient = curl_transient(rc);
		else
			transient = http_transient(code);
		if (!transient || c->attempts >= c->attempts_max)
			break;
		if (c->has_retry_after)
			wait = c->retry_after_s > c->backoff_max_ms / 1000
				       ? c->backoff_max_ms
				       : c->retry_after_s * 1000;
		else
			wait = backoff_wait(c, c->attempts - 1);
		url_for_message(shown, sizeof(shown), url);
		if (rc != CURLE_OK)
			CP_LOG_WRN("taxii",
				   "peer %s: %s %s: %s (curl error %d); retry %u of %u in %ld ms",
				   c->peer, method, shown,
				   c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc), (int)rc,
				   c->attempts, c->attempts_max - 1, wait);
		else
			CP_LOG_WRN("taxii", "peer %s: %s %s: HTTP %ld; retry %u of %u in %ld ms",
				   c->peer, method, shown, code, c->attempts, c->attempts_max - 1,
				   wait);
		sleep_ms(wait);
		c->waited_ms += wait;
	}
	return report_failure(c, method, url, rc, code);
}

/* Parse c->body as a JSON object. */
static enum cp_err parse_object(struct cp_taxii_client *c, const char *method, const char *url,
				json_t **out)
{
	json_error_t jerr;
	unsigned long failures;
	json_t *j;

	if (!c->body.ptr || c->body.len == 0) {
		set_msg(c, method, url, "HTTP %ld with an empty body where JSON was expected",
			c->status);
		return CP_EPARSE;
	}
	failures = cp_alloc_thread_failures();
	j = json_loadb(c->body.ptr, c->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		char t[sizeof(jerr.text) * 4];
		/* jansson often reports running out of memory as a syntax error */
		if (json_error_code(&jerr) == json_error_out_of_memory ||
		    cp_alloc_thread_failures() != failures) {
			set_msg(c, method, url, "out of memory parsing the response");
			return CP_ENOMEM;
		}
		escape_text(t, sizeof(t), jerr.text, strlen(jerr.text), DETAIL_MAX);
		set_msg(c, method, url,
			"the response is not JSON: %s (line %d, column %d, byte %d)", t,
			jerr.line, jerr.column, jerr.position);
		return CP_EPARSE;
	}
	if (!json_is_object(j)) {
		set_msg(c, method, url, "the response is not a JSON object");
		json_decref(j);
		return CP_EPARSE;
	}
	*out = j;
	return CP_OK;
}

enum cp_err cp_taxii_client_get_json(struct cp_taxii_client *c, const char *url, json_t **out)
{
	enum cp_err err;

	if (!c || !url || !out)
		return CP_EINVAL;
	err = request(c, "GET", url, NULL, 0);
	if (err)
		return err;
	return parse_object(c, "GET", url, out);
}

/* ------------------------------------------------------------- pages */

static void put_param(struct cp_buf *b, CURL *h, bool *first, const char *name,
		      const char *value, bool *nomem)
{
	char *esc;

	if (!value)
		return;
	esc = curl_easy_escape(h, value, (int)strlen(value));
	if (!esc) {
		*nomem = true;
		return;
	}
	cp_buf_putc(b, *first ? '?' : '&');
	cp_buf_puts(b, name);
	cp_buf_putc(b, '=');
	cp_buf_puts(b, esc);
	curl_free(esc);
	*first = false;
}

static bool ends_with_slash(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && s[n - 1] == '/';
}

/*
 * collection_url + what + the query of req. The brackets of match[...] are sent
 * percent-encoded: they are not allowed unencoded in a query by RFC 3986, and some
 * servers and proxies refuse them.
 */
static enum cp_err page_url(struct cp_taxii_client *c, const char *collection_url,
			    const char *what, const struct cp_taxii_page_req *req, char **out)
{
	struct cp_buf b = CP_BUF_INIT(URL_MAX);
	bool first = true, nomem = false;
	char limit[24];
	enum cp_err err;

	if (!ends_with_slash(collection_url)) {
		set_msg(c, "GET", collection_url, "a collection URL must end with '/'");
		return CP_EINVAL;
	}
	cp_buf_puts(&b, collection_url);
	cp_buf_puts(&b, what);
	if (req) {
		put_param(&b, c->h, &first, "added_after", req->added_after, &nomem);
		put_param(&b, c->h, &first, "next", req->next, &nomem);
		if (req->limit) {
			snprintf(limit, sizeof(limit), "%zu", req->limit);
			put_param(&b, c->h, &first, "limit", limit, &nomem);
		}
		put_param(&b, c->h, &first, "match%5Btype%5D", req->match_type, &nomem);
		put_param(&b, c->h, &first, "match%5Bid%5D", req->match_id, &nomem);
		put_param(&b, c->h, &first, "match%5Bversion%5D", req->match_version, &nomem);
	}
	err = nomem ? CP_ENOMEM : cp_buf_finish(&b);
	if (err) {
		cp_buf_release(&b);
		if (err == CP_ENOMEM)
			set_msg(c, "GET", collection_url, "out of memory building the URL");
		else
			set_msg(c, "GET", collection_url, "the query is longer than %u bytes",
				URL_MAX);
		return err;
	}
	*out = cp_buf_take(&b);
	return *out ? CP_OK : CP_ENOMEM;
}

/*
 * Check that env is a TAXII envelope and fill page from it (taking env on success).
 * The reason of a failure goes to why.
 */
static enum cp_err check_envelope(json_t *env, struct cp_taxii_page *page, char *why,
				  size_t why_cap)
{
	json_t *objects = json_object_get(env, "objects");
	json_t *more = json_object_get(env, "more");
	json_t *next = json_object_get(env, "next");
	size_t i;
	json_t *o;

	if (objects) {
		if (!json_is_array(objects)) {
			snprintf(why, why_cap, "not a TAXII envelope: 'objects' is not an array");
			return CP_EPARSE;
		}
		json_array_foreach(objects, i, o)
		{
			if (!json_is_object(o)) {
				snprintf(why, why_cap, "not a TAXII envelope: /objects/%zu is not a JSON object",
					i);
				return CP_EPARSE;
			}
		}
	}
	if (more && !json_is_boolean(more)) {
		snprintf(why, why_cap, "not a TAXII envelope: 'more' is not a boolean");
		return CP_EPARSE;
	}
	if (next) {
		if (!json_is_string(next)) {
			snprintf(why, why_cap, "not a TAXII envelope: 'next' is not a string");
			return CP_EPARSE;
		}
		if (json_string_length(next) >= sizeof(page->next)) {
			snprintf(why, why_cap, "'next' is %zu bytes long; at most %zu are accepted",
				json_string_length(next), sizeof(page->next) - 1);
			return CP_EPARSE;
		}
	}
	if (!objects) {
		/* servers omit an empty list; the caller always gets an array */
		objects = json_array();
		if (!objects || json_object_set_new(env, "objects", objects)) {
			snprintf(why, why_cap, "out of memory");
			return CP_ENOMEM;
		}
	}
	memset(page, 0, sizeof(*page));
	page->envelope = env;
	page->objects = objects;
	page->more = json_is_true(more);
	if (next)
		memcpy(page->next, json_string_value(next), json_string_length(next) + 1);
	return CP_OK;
}

enum cp_err cp_taxii_page_parse(const char *body, size_t len, struct cp_taxii_page *out,
				char *why, size_t why_cap)
{
	struct cp_taxii_page page;
	struct cp_diag d;
	json_t *env = NULL;
	enum cp_err err;

	if (!out || !why || !why_cap)
		return CP_EINVAL;
	why[0] = '\0';
	if (!body || len == 0) {
		snprintf(why, why_cap, "an empty body where a TAXII envelope was expected");
		return CP_EPARSE;
	}
	/* lib/stix's parser: 4.5 times jansson's json_loadb on a page of objects */
	cp_diag_init(&d);
	err = cp_stix_json_parse(body, len, &env, &d);
	if (err) {
		const struct cp_finding *f = d.count ? &d.items[0] : NULL;
		const char *msg = f ? f->message : "not JSON";
		char t[DETAIL_MAX * 4 + 8];
		if (strncmp(msg, "invalid JSON: ", 14) == 0)
			msg += 14;
		escape_text(t, sizeof(t), msg, strlen(msg), DETAIL_MAX);
		if (err == CP_ENOMEM)
			snprintf(why, why_cap, "out of memory parsing the response");
		else if (f && f->line)
			snprintf(why, why_cap, "the response is not JSON: %s (line %u, column %u)",
				 t, f->line, f->column);
		else
			snprintf(why, why_cap, "the response is not JSON: %s", t);
		cp_diag_release(&d);
		return err == CP_ENOMEM ? CP_ENOMEM : CP_EPARSE;
	}
	cp_diag_release(&d);
	if (!json_is_object(env)) {
		snprintf(why, why_cap, "the response is not a JSON object");
		json_decref(env);
		return CP_EPARSE;
	}
	err = check_envelope(env, &page, why, why_cap);
	if (err) {
		json_decref(env);
		return err;
	}
	/* the objects' texts as sent, so that a store need not serialise them again;
	 * without them (any doubt at all) it does */
	err = cp_stix_json_member_texts(body, len, "objects", &page.texts);
	if (err == CP_ENOMEM) {
		snprintf(why, why_cap, "out of memory");
		cp_taxii_page_release(&page);
		return err;
	}
	if (err || page.texts.count != json_array_size(page.objects))
		cp_stix_json_texts_release(&page.texts);
	*out = page;
	return CP_OK;
}

static enum cp_err get_page(struct cp_taxii_client *c, const char *collection_url,
			    const char *what, const struct cp_taxii_page_req *req,
			    struct cp_taxii_page *out)
{
	char *url = NULL, why[512];
	struct cp_taxii_page page;
	enum cp_err err;

	if (!c || !collection_url || !out)
		return CP_EINVAL;
	c->msg[0] = '\0';
	err = page_url(c, collection_url, what, req, &url);
	if (err)
		goto out;
	err = request(c, "GET", url, NULL, 0);
	if (err)
		goto out;
	if (!c->body.ptr || c->body.len == 0) {
		set_msg(c, "GET", url, "HTTP %ld with an empty body where JSON was expected",
			c->status);
		err = CP_EPARSE;
		goto out;
	}
	err = cp_taxii_page_parse(c->body.ptr, c->body.len, &page, why, sizeof(why));
	if (err) {
		set_msg(c, "GET", url, "%s", why);
		goto out;
	}
	memcpy(page.date_added_first, c->first, sizeof(page.date_added_first));
	memcpy(page.date_added_last, c->last, sizeof(page.date_added_last));
	*out = page;
out:
	cp_free(url);
	return err;
}

void cp_taxii_page_release(struct cp_taxii_page *p)
{
	if (!p)
		return;
	json_decref(p->envelope);
	cp_stix_json_texts_release(&p->texts);
	memset(p, 0, sizeof(*p));
}

enum cp_err cp_taxii_client_get_objects(struct cp_taxii_client *c, const char *collection_url,
					const struct cp_taxii_page_req *req,
					struct cp_taxii_page *out)
{
	return get_page(c, collection_url, "objects/", req, out);
}

enum cp_err cp_taxii_client_get_manifest(struct cp_taxii_client *c, const char *collection_url,
					 const struct cp_taxii_page_req *req,
					 struct cp_taxii_page *out)
{
	return get_page(c, collection_url, "manifest/", req, out);
}

/*
 * Does a page's X-TAXII-Date-Added-Last move the position past added_after? added_after
 * is exclusive, so every object of the page was added after it: a Last that is not
 * later means the peer ignores the filter and the walk would go round in circles.
 */
static bool moves_past(const char *added_after, const char *last)
{
	struct cp_time a, l;

	if (strcmp(added_after, last) == 0)
		return false;
	if (cp_time_parse(added_after, strlen(added_after), &a, NULL) == CP_OK &&
	    cp_time_parse(last, strlen(last), &l, NULL) == CP_OK)
		return cp_time_cmp(&l, &a) > 0;
	return true;
}

enum cp_err cp_taxii_client_walk(struct cp_taxii_client *c, const char *collection_url,
				 const struct cp_taxii_page_req *first, size_t max_pages,
				 cp_taxii_page_fn fn, void *ctx, bool *stopped_early)
{
	struct cp_taxii_page_req req = {0};
	char next[sizeof(((struct cp_taxii_page *)0)->next)];
	char after[HEADER_VALUE_MAX];
	char url[1024];
	size_t pages = 0;
	enum cp_err err;

	if (!c || !collection_url || !fn)
		return CP_EINVAL;
	if (first)
		req = *first;
	snprintf(url, sizeof(url), "%sobjects/", collection_url);
	for (;;) {
		struct cp_taxii_page page;

		err = cp_taxii_client_get_objects(c, collection_url, &req, &page);
		if (err)
			return err;
		pages++;
		err = fn(&page, ctx);
		if (err) {
			cp_taxii_page_release(&page);
			set_msg(c, "GET", url, "the walk was stopped after %zu page(s): %s", pages,
				cp_err_name(err));
			return err;
		}
		if (!page.more) {
			cp_taxii_page_release(&page);
			break;
		}
		if (page.next[0]) {
			/* the same token again would give the same page again, forever */
			if (req.next && strcmp(req.next, page.next) == 0) {
				set_msg(c, "GET", url,
					"the peer answered next=%.64s with the same next token and "
					"more=true; the walk would never end",
					page.next);
				cp_taxii_page_release(&page);
				return CP_EPARSE;
			}
			memcpy(next, page.next, sizeof(next));
			req.next = next;
		} else if (page.date_added_last[0]) {
			/*
			 * Only a walk that moves by added_after checks the header: pages
			 * followed by next may share a Last when many objects share a
			 * date_added, and are still moving.
			 */
			if (req.added_after && !moves_past(req.added_after, page.date_added_last)) {
				set_msg(c, "GET", url,
					"the peer answered added_after=%s with "
					"X-TAXII-Date-Added-Last %s and more=true but no next; "
					"the walk would never end",
					req.added_after, page.date_added_last);
				cp_taxii_page_release(&page);
				return CP_EPARSE;
			}
			memcpy(after, page.date_added_last, sizeof(after));
			req.added_after = after;
			req.next = NULL;
		} else {
			set_msg(c, "GET", url,
				"the page says more=true but has neither next nor "
				"X-TAXII-Date-Added-Last; the walk cannot go on without repeating "
				"itself");
			cp_taxii_page_release(&page);
			return CP_EPARSE;
		}
		cp_taxii_page_release(&page);
		if (max_pages && pages >= max_pages) {
			if (stopped_early)
				*stopped_early = true;
			return CP_OK;
		}
	}
	if (stopped_early)
		*stopped_early = false;
	return CP_OK;
}

/* ------------------------------------------------------------- POST */

/* A status resource: an object whose status is complete or pending (with an id). */
static enum cp_err check_status(struct cp_taxii_client *c, const char *method, const char *url,
				json_t *st, bool *pending)
{
	const char *s = json_string_value(json_object_get(st, "status"));

	if (!s || (strcmp(s, "complete") != 0 && strcmp(s, "pending") != 0)) {
		set_msg(c, method, url,
			"not a TAXII status resource: 'status' is not \"complete\" or \"pending\"");
		return CP_EPARSE;
	}
	*pending = strcmp(s, "pending") == 0;
	if (*pending && !json_is_string(json_object_get(st, "id"))) {
		set_msg(c, method, url, "a pending status resource without an 'id' to poll");
		return CP_EPARSE;
	}
	return CP_OK;
}

/* <api root>/status/<id>/, the API root being the collection URL minus collections/<id>/ */
static enum cp_err status_url(struct cp_taxii_client *c, const char *collection_url,
			      const char *id, char **out)
{
	size_t n = strlen(collection_url);
	size_t i;
	struct cp_buf b = CP_BUF_INIT(URL_MAX);
	char *esc;

	/* skip the trailing '/', then the collection id, to the "/collections/" before it */
	i = n - 1;
	while (i > 0 && collection_url[i - 1] != '/')
		i--;
	if (i < sizeof("/collections/") - 1 ||
	    memcmp(collection_url + i - (sizeof("/collections/") - 1), "/collections/",
		   sizeof("/collections/") - 1) != 0) {
		set_msg(c, "POST", collection_url,
			"cannot find the API root in the collection URL "
			"(no .../collections/<id>/)");
		return CP_EINVAL;
	}
	i -= sizeof("collections/") - 1;
	esc = curl_easy_escape(c->h, id, (int)strlen(id));
	if (!esc)
		return CP_ENOMEM;
	cp_buf_append(&b, collection_url, i);
	cp_buf_puts(&b, "status/");
	cp_buf_puts(&b, esc);
	cp_buf_putc(&b, '/');
	curl_free(esc);
	if (cp_buf_finish(&b)) {
		cp_buf_release(&b);
		return CP_ENOMEM;
	}
	*out = cp_buf_take(&b);
	return *out ? CP_OK : CP_ENOMEM;
}

enum cp_err cp_taxii_client_post(struct cp_taxii_client *c, const char *collection_url,
				 const char *envelope, size_t len, json_t **status)
{
	char *url = NULL, *poll = NULL;
	json_t *st = NULL;
	bool pending = false;
	long start = now_ms();
	unsigned polls = 0;
	enum cp_err err;

	if (!c || !collection_url || !envelope || !status)
		return CP_EINVAL;
	c->msg[0] = '\0';
	if (!ends_with_slash(collection_url)) {
		set_msg(c, "POST", collection_url, "a collection URL must end with '/'");
		return CP_EINVAL;
	}
	err = CP_ENOMEM;
	url = cp_malloc(strlen(collection_url) + sizeof("objects/"));
	if (!url)
		goto out;
	snprintf(url, strlen(collection_url) + sizeof("objects/"), "%sobjects/", collection_url);
	err = request(c, "POST", url, envelope, len);
	if (err)
		goto out;
	err = parse_object(c, "POST", url, &st);
	if (err)
		goto out;
	err = check_status(c, "POST", url, st, &pending);
	if (err)
		goto out;
	if (pending) {
		err = status_url(c, collection_url, json_string_value(json_object_get(st, "id")),
				 &poll);
		if (err)
			goto out;
	}
	while (pending) {
		long left = start + c->timeout_ms - now_ms();
		long wait;

		if (left <= 0) {
			set_msg(c, "GET", poll,
				"the status is still pending after %ld ms (%u polls)",
				c->timeout_ms, polls);
			err = CP_ETIMEOUT;
			goto out;
		}
		wait = backoff_wait(c, polls);
		sleep_ms(wait < left ? wait : left);
		json_decref(st);
		st = NULL;
		polls++;
		err = request(c, "GET", poll, NULL, 0);
		if (err)
			goto out;
		err = parse_object(c, "GET", poll, &st);
		if (err)
			goto out;
		err = check_status(c, "GET", poll, st, &pending);
		if (err)
			goto out;
	}
	*status = st;
	st = NULL;
out:
	json_decref(st);
	cp_free(url);
	cp_free(poll);
	return err;
}
