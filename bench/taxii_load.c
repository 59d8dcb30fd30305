/*
 * taxii_load: a load generator for a running cyberpact node (or any TAXII 2.1 server
 * that takes HTTP Basic auth). It speaks HTTPS through libcurl, one easy handle and one
 * kept-alive connection per client thread, and prints figures; it asserts nothing about
 * timing, but it checks every answer and counts the ones that are not what a working
 * server sends, so a run that measures errors says so.
 *
 * usage: taxii_load MODE --url DISCOVERY_URL --collection ID --credentials FILE
 *                   --cacert FILE [options]
 *
 * Modes:
 *   ingest     POST --objects distinct synthetic indicators in envelopes of --envelope,
 *              with each client count of --clients in turn (fresh objects for each).
 *              A request counts only when it answers 202 with success_count equal to
 *              the envelope size, failure_count 0 and no "already stored" entry: the
 *              node answers after its COMMIT, so objects/s is durable ingest.
 *   get        walk the whole collection once with next tokens (sequential scan,
 *              counting every object), then for each client count of --clients: the
 *              discovery baseline, then --requests GETs of pages of --limit objects that
 *              start at random pages of the walk (added_after = the last date_added of
 *              the page before). A page counts only when it answers 200 with as many
 *              objects as the walk saw there. Then as many GETs of single objects by
 *              id (the object endpoint, .../objects/{id}/), of the first object of a
 *              random page of the walk; one counts when it answers 200 with that id.
 *   discovery  only the discovery baseline (GET /taxii2/: TLS, HTTP and auth, no store).
 *
 * Options:
 *   --url URL           the discovery URL the node prints (https://HOST:PORT/taxii2/)
 *   --api-root NAME     API root (default api1)
 *   --collection ID     collection id or alias
 *   --credentials FILE  a file holding "user:password" (the node's DIR/credentials)
 *   --cacert FILE       CA certificate that signed the server's (DIR/pki/ca.crt)
 *   --clients LIST      comma-separated client counts (default 1)
 *   --requests N        timed requests per client count for get/discovery
 *                       (default max(400, 10 x clients))
 *   --objects N         objects per client count for ingest (default 100000)
 *   --envelope N        objects per POST for ingest (default 1000)
 *   --limit N           page size for get (default 1000)
 *   --seed N            seed for object ids (default: time and pid, so runs never collide)
 *   --pid PID           the server's process id: report its CPU time and disk writes
 *
 * Latencies are per request, from sending to the last byte of the answer, measured by
 * the client (closed loop: each client sends its next request when the answer arrives).
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_LEVELS 16
#define MAX_CLIENTS 512
#define REPORTED_FAILURES 3

/* ------------------------------------------------------------- helpers */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "taxii_load: out of memory (%zu bytes)\n", n);
		exit(2);
	}
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "taxii_load: out of memory (%zu bytes)\n", n);
		exit(2);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

struct buf {
	char *ptr;
	size_t len, cap;
};

static void buf_append(struct buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->ptr = xrealloc(b->ptr, cap);
		b->cap = cap;
	}
	memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

/* splitmix64: ids must look random so the store's unique index sees random inserts, as
 * with real UUIDv4 ids */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static double pct(const double *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return 0;
	k = (size_t)(p * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static size_t count_substr(const char *hay, size_t len, const char *needle)
{
	size_t n = 0, nl = strlen(needle);
	const char *p = hay, *end = hay + len;

	while (p < end) {
		const char *q = memmem(p, (size_t)(end - p), needle, nl);
		if (!q)
			break;
		n++;
		p = q + nl;
	}
	return n;
}

/* ------------------------------------------------------ CPU accounting */

struct usage {
	double wall, client_cpu, server_cpu;
	long long server_write_bytes;
};

static long server_pid;

static void usage_now(struct usage *u)
{
	struct rusage ru;
	char path[64], line[1024];
	FILE *f;

	memset(u, 0, sizeof(*u));
	u->wall = now_s();
	getrusage(RUSAGE_SELF, &ru);
	u->client_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	u->server_cpu = -1;
	u->server_write_bytes = -1;
	if (server_pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/stat", server_pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(line, sizeof(line), f)) {
			/* fields 14 and 15 (utime, stime) follow the ')' that ends field 2 */
			const char *p = strrchr(line, ')');
			unsigned long long ut = 0, st = 0;
			if (p &&
			    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			           &ut, &st) == 2)
				u->server_cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%ld/io", server_pid);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			long long v;
			if (sscanf(line, "write_bytes: %lld", &v) == 1)
				u->server_write_bytes = v;
		}
		fclose(f);
	}
}

static void usage_print(const struct usage *a, const struct usage *b, size_t objects)
{
	double wall = b->wall - a->wall;

	printf("    cpu: client %.2f s", b->client_cpu - a->client_cpu);
	if (a->server_cpu >= 0 && b->server_cpu >= 0)
		printf(", server %.2f s", b->server_cpu - a->server_cpu);
	printf(" in %.2f s wall (%ld CPUs online)", wall, sysconf(_SC_NPROCESSORS_ONLN));
	if (objects && a->server_write_bytes >= 0 && b->server_write_bytes >= 0) {
		long long w = b->server_write_bytes - a->server_write_bytes;
		printf("; server wrote %.1f MB to disk, %.0f bytes/object", (double)w / 1e6,
		       (double)w / (double)objects);
	}
	printf("\n");
}

/* ------------------------------------------------------------- options */

struct opts {
	const char *mode;
	const char *url;
	const char *api_root;
	const char *collection;
	const char *cacert;
	char *user, *password;
	unsigned clients[MAX_LEVELS];
	size_t client_levels;
	size_t requests;
	size_t objects, envelope, limit;
	uint64_t seed;
	char *objects_url;
};

static const char usage_text[] =
        "usage: taxii_load ingest|get|discovery --url DISCOVERY_URL --collection ID\n"
        "                  --credentials FILE --cacert FILE [--api-root NAME] [--clients LIST]\n"
        "                  [--requests N] [--objects N] [--envelope N] [--limit N] [--seed N]\n"
        "                  [--pid SERVER_PID]\n";

static bool parse_size(const char *s, size_t *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || v == 0)
		return false;
	*out = (size_t)v;
	return true;
}

static bool parse_clients(const char *s, struct opts *o)
{
	const char *p = s;

	o->client_levels = 0;
	while (*p) {
		char *end = NULL;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || v == 0 || v > MAX_CLIENTS || o->client_levels == MAX_LEVELS)
			return false;
		o->clients[o->client_levels++] = (unsigned)v;
		if (*end == ',')
			end++;
		else if (*end)
			return false;
		p = end;
	}
	return o->client_levels > 0;
}

static bool read_credentials(const char *path, struct opts *o)
{
	char line[512];
	FILE *f = fopen(path, "r");
	char *colon;

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return false;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	colon = strchr(line, ':');
	if (!colon || colon == line)
		return false;
	*colon = '\0';
	o->user = xstrdup(line);
	o->password = xstrdup(colon + 1);
	return true;
}

/* ------------------------------------------------------------- clients */

struct client {
	CURL *h;
	struct curl_slist *hdr_get, *hdr_post;
	struct buf body;
	char added_last[64];
	long status;
	char err[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct client *c = arg;
	buf_append(&c->body, data, size * nmemb);
	return size * nmemb;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	static const char name[] = "X-TAXII-Date-Added-Last:";
	struct client *c = arg;
	size_t n = size * nmemb;

	if (n > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		const char *v = data + sizeof(name) - 1;
		size_t len = n - (sizeof(name) - 1);
		while (len && (*v == ' ' || *v == '\t'))
			v++, len--;
		while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		if (len < sizeof(c->added_last)) {
			memcpy(c->added_last, v, len);
			c->added_last[len] = '\0';
		}
	}
	return n;
}

static void client_init(struct client *c, const struct opts *o)
{
	memset(c, 0, sizeof(*c));
	c->h = curl_easy_init();
	if (!c->h) {
		fprintf(stderr, "taxii_load: curl_easy_init failed\n");
		exit(2);
	}
	c->hdr_get = curl_slist_append(NULL, "Accept: application/taxii+json;version=2.1");
	c->hdr_post = curl_slist_append(NULL, "Accept: application/taxii+json;version=2.1");
	c->hdr_post =
	        curl_slist_append(c->hdr_post, "Content-Type: application/taxii+json;version=2.1");
	/* no 100-continue round trip before large bodies */
	c->hdr_post = curl_slist_append(c->hdr_post, "Expect:");
	curl_easy_setopt(c->h, CURLOPT_CAINFO, o->cacert);
	curl_easy_setopt(c->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c->h, CURLOPT_USERNAME, o->user);
	curl_easy_setopt(c->h, CURLOPT_PASSWORD, o->password);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->err);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 300L);
}

static void client_release(struct client *c)
{
	curl_slist_free_all(c->hdr_get);
	curl_slist_free_all(c->hdr_post);
	curl_easy_cleanup(c->h);
	free(c->body.ptr);
}

/* One request; false on a transport failure (c->err says why). */
static bool client_do(struct client *c, const char *url, const char *post, size_t post_len)
{
	CURLcode rc;

	c->body.len = 0;
	if (c->body.ptr)
		c->body.ptr[0] = '\0';
	c->added_last[0] = '\0';
	c->status = 0;
	c->err[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	if (post) {
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdr_post);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len);
	} else {
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdr_get);
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	}
	rc = curl_easy_perform(c->h);
	if (rc != CURLE_OK) {
		if (!c->err[0])
			snprintf(c->err, sizeof(c->err), "%s", curl_easy_strerror(rc));
		return false;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &c->status);
	return true;
}

/* ------------------------------------------------------- a timed phase */

/*
 * A phase: `clients` threads share `total` numbered requests through an atomic counter;
 * each thread warms its connection up (TLS handshake, auth) with one untimed discovery
 * GET, then all start together at a barrier.
 */
struct phase;
typedef bool (*request_fn)(struct phase *ph, struct client *c, size_t i, unsigned *rng, char *why,
                           size_t why_len);

struct phase {
	const struct opts *o;
	request_fn fn;
	void *arg;
	size_t total;
	atomic_size_t next;
	atomic_size_t failures;
	atomic_size_t reported;
	pthread_barrier_t ready, start; /* warmed up; go */
	double *lat; /* ms, indexed by request number */
	bool *ok;
};

struct worker {
	struct phase *ph;
	unsigned seed;
	pthread_t tid;
	double started, ended; /* its first request sent, its last answered */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct phase *ph = w->ph;
	struct client c;
	char why[512];
	unsigned rng = w->seed;
	size_t i;

	client_init(&c, ph->o);
	if (!client_do(&c, ph->o->url, NULL, 0) || c.status != 200)
		fprintf(stderr, "taxii_load: warm-up GET %s failed: %s (HTTP %ld)\n", ph->o->url,
		        c.err, c.status);
	pthread_barrier_wait(&ph->ready);
	pthread_barrier_wait(&ph->start);
	w->started = now_s();
	while ((i = atomic_fetch_add(&ph->next, 1)) < ph->total) {
		double t0 = now_s();
		bool ok;
		why[0] = '\0';
		ok = ph->fn(ph, &c, i, &rng, why, sizeof(why));
		ph->lat[i] = (now_s() - t0) * 1e3;
		ph->ok[i] = ok;
		if (!ok) {
			atomic_fetch_add(&ph->failures, 1);
			if (atomic_fetch_add(&ph->reported, 1) < REPORTED_FAILURES)
				fprintf(stderr, "taxii_load: request %zu failed: %s\n", i, why);
		}
	}
	w->ended = now_s();
	client_release(&c);
	return NULL;
}

struct result {
	double wall, p50, p90, p99, max, mean;
	size_t failures, count;
};

/* u0 is taken while the warmed-up clients wait at the start, u1 after the last one
 * ends, so the untimed warm-up (threads, TLS handshakes) is not in the CPU figures
 * either. The wall time runs from the first client's start to the last one's end, as
 * the clients saw them: read by this thread after the start, it could come late
 * when 64 busy clients keep it off the CPUs (a phase of 640 requests once measured
 * 0.00 s). */
static void run_phase(struct phase *ph, unsigned clients, struct result *r, struct usage *u0,
                      struct usage *u1)
{
	struct worker *w = xmalloc(clients * sizeof(*w));
	double t0, t1, sum = 0;
	double *sorted;
	size_t n = 0;

	atomic_init(&ph->next, 0);
	atomic_init(&ph->failures, 0);
	atomic_init(&ph->reported, 0);
	ph->lat = xmalloc(ph->total * sizeof(*ph->lat));
	ph->ok = xmalloc(ph->total * sizeof(*ph->ok));
	pthread_barrier_init(&ph->ready, NULL, clients + 1);
	pthread_barrier_init(&ph->start, NULL, clients + 1);
	for (unsigned k = 0; k < clients; k++) {
		w[k].ph = ph;
		w[k].seed = (unsigned)mix(ph->o->seed + k * 7919u + clients);
		if (pthread_create(&w[k].tid, NULL, worker_main, &w[k]) != 0) {
			fprintf(stderr, "taxii_load: cannot start thread %u\n", k);
			exit(2);
		}
	}
	pthread_barrier_wait(&ph->ready);
	usage_now(u0);
	pthread_barrier_wait(&ph->start);
	for (unsigned k = 0; k < clients; k++)
		pthread_join(w[k].tid, NULL);
	usage_now(u1);
	t0 = w[0].started;
	t1 = w[0].ended;
	for (unsigned k = 1; k < clients; k++) {
		if (w[k].started < t0)
			t0 = w[k].started;
		if (w[k].ended > t1)
			t1 = w[k].ended;
	}
	pthread_barrier_destroy(&ph->ready);
	pthread_barrier_destroy(&ph->start);
	/* latency figures cover successful requests only: errors are counted, not timed */
	sorted = xmalloc(ph->total * sizeof(*sorted));
	for (size_t i = 0; i < ph->total; i++)
		if (ph->ok[i]) {
			sorted[n++] = ph->lat[i];
			sum += ph->lat[i];
		}
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	memset(r, 0, sizeof(*r));
	r->wall = t1 - t0;
	r->count = n;
	r->failures = atomic_load(&ph->failures);
	r->p50 = pct(sorted, n, 0.50);
	r->p90 = pct(sorted, n, 0.90);
	r->p99 = pct(sorted, n, 0.99);
	r->max = n ? sorted[n - 1] : 0;
	r->mean = n ? sum / (double)n : 0;
	free(sorted);
	free(ph->lat);
	free(ph->ok);
	free(w);
}

static void print_latency(const struct result *r)
{
	printf("    latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  mean %.2f  (%zu ok, "
	       "%zu failed)\n",
	       r->p50, r->p90, r->p99, r->max, r->mean, r->count, r->failures);
}

/* ----------------------------------------------------------- discovery */

static bool discovery_request(struct phase *ph, struct client *c, size_t i, unsigned *rng,
                              char *why, size_t why_len)
{
	(void)i;
	(void)rng;
	if (!client_do(c, ph->o->url, NULL, 0)) {
		snprintf(why, why_len, "GET discovery: %s", c->err);
		return false;
	}
	if (c->status != 200 || !strstr(c->body.ptr ? c->body.ptr : "", "\"api_roots\"")) {
		snprintf(why, why_len, "GET discovery: HTTP %ld: %.200s", c->status,
		         c->body.ptr ? c->body.ptr : "");
		return false;
	}
	return true;
}

static size_t requests_for(const struct opts *o, unsigned clients)
{
	if (o->requests)
		return o->requests;
	return clients * 10u > 400 ? clients * 10u : 400;
}

static size_t run_discovery(const struct opts *o, unsigned clients)
{
	struct phase ph;
	struct result r;
	struct usage u0, u1;

	memset(&ph, 0, sizeof(ph));
	ph.o = o;
	ph.fn = discovery_request;
	ph.total = requests_for(o, clients);
	run_phase(&ph, clients, &r, &u0, &u1);
	printf("discovery  clients %3u: %zu requests in %.2f s = %.0f requests/s\n", clients,
	       ph.total, r.wall, (double)r.count / r.wall);
	print_latency(&r);
	usage_print(&u0, &u1, 0);
	fflush(stdout);
	return r.failures;
}

/* -------------------------------------------------------------- ingest */

/*
 * One synthetic indicator, about 700 bytes: the shape of a real IPv4 feed entry (id,
 * millisecond created/modified, name, description, indicator_types, an ipv4-addr
 * pattern, valid_from, labels, confidence, created_by_ref, TLP:GREEN marking).
 */
static size_t make_indicator(char *out, size_t cap, uint64_t seed, uint64_t n)
{
	uint64_t r1 = mix(seed ^ mix(n)), r2 = mix(r1 ^ n);
	time_t sec = (time_t)(1704067200 + (int64_t)(n / 1000) % (3 * 365 * 86400));
	unsigned ms = (unsigned)(n % 1000);
	unsigned a = 10u + (unsigned)(n >> 24) % 200u, b = (unsigned)(n >> 16) & 255u,
	         c = (unsigned)(n >> 8) & 255u, d = (unsigned)n & 255u;
	struct tm tm;
	char day[32];
	int len;

	gmtime_r(&sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	len = snprintf(
	        out, cap,
	        "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	        "\"id\":\"indicator--%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32 "-%04" PRIx32
	        "-%04" PRIx32 "%08" PRIx32 "\","
	        "\"created\":\"%s.%03uZ\",\"modified\":\"%s.%03uZ\","
	        "\"created_by_ref\":\"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff\","
	        "\"name\":\"C2 server %u.%u.%u.%u\","
	        "\"description\":\"Synthetic indicator from bench/taxii_load: an IPv4 address "
	        "seen as command-and-control in a partner's sensor logs, load object %" PRIu64
	        ".\","
	        "\"indicator_types\":[\"malicious-activity\"],"
	        "\"pattern\":\"[ipv4-addr:value = '%u.%u.%u.%u']\","
	        "\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\","
	        "\"valid_from\":\"%sZ\","
	        "\"labels\":[\"c2\",\"benchmark\"],\"confidence\":70,"
	        "\"object_marking_refs\":[\"marking-definition--34098fce-860f-48ae-8e50-"
	        "ebd3cc5e41da\"]}",
	        (uint32_t)(r1 >> 32), (uint32_t)(r1 >> 16) & 0xffffu, (uint32_t)r1 & 0xfffu,
	        0x8000u | ((uint32_t)(r2 >> 48) & 0x3fffu), (uint32_t)(r2 >> 32) & 0xffffu,
	        (uint32_t)n, day, ms, day, ms, a, b, c, d, n, a, b, c, d, day);
	if (len < 0 || (size_t)len >= cap) {
		fprintf(stderr, "taxii_load: indicator template too long\n");
		exit(2);
	}
	return (size_t)len;
}

struct envelopes {
	char **body;
	size_t *len;
	size_t count, objects_each;
	size_t bytes;
};

static void make_envelopes(struct envelopes *e, uint64_t seed, uint64_t first, size_t objects,
                           size_t per)
{
	char obj[2048];

	e->objects_each = per;
	e->count = objects / per;
	e->bytes = 0;
	e->body = xmalloc(e->count * sizeof(*e->body));
	e->len = xmalloc(e->count * sizeof(*e->len));
	for (size_t k = 0; k < e->count; k++) {
		struct buf b = {0};
		buf_append(&b, "{\"objects\":[", 12);
		for (size_t j = 0; j < per; j++) {
			size_t n = make_indicator(obj, sizeof(obj), seed, first + k * per + j);
			if (j)
				buf_append(&b, ",", 1);
			buf_append(&b, obj, n);
		}
		buf_append(&b, "]}", 2);
		e->body[k] = b.ptr;
		e->len[k] = b.len;
		e->bytes += b.len;
	}
}

static void free_envelopes(struct envelopes *e)
{
	for (size_t k = 0; k < e->count; k++)
		free(e->body[k]);
	free(e->body);
	free(e->len);
}

static long json_count(const char *body, const char *key)
{
	const char *p = strstr(body, key);
	if (!p)
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

static bool ingest_request(struct phase *ph, struct client *c, size_t i, unsigned *rng, char *why,
                           size_t why_len)
{
	const struct envelopes *e = ph->arg;
	const char *body;
	long ok, bad;

	(void)rng;
	if (!client_do(c, ph->o->objects_url, e->body[i], e->len[i])) {
		snprintf(why, why_len, "POST envelope %zu: %s", i, c->err);
		return false;
	}
	body = c->body.ptr ? c->body.ptr : "";
	ok = json_count(body, "\"success_count\":");
	bad = json_count(body, "\"failure_count\":");
	if (c->status != 202 || ok != (long)e->objects_each || bad != 0) {
		snprintf(why, why_len,
		         "POST envelope %zu: HTTP %ld, success_count %ld of %zu: %.300s", i,
		         c->status, ok, e->objects_each, body);
		return false;
	}
	/* a success for an object that was there already is not an insert */
	if (strstr(body, "already stored")) {
		snprintf(why, why_len,
		         "POST envelope %zu: objects were already stored (reused seed?)", i);
		return false;
	}
	return true;
}

static size_t run_ingest(const struct opts *o)
{
	size_t failures = 0;

	if (o->objects % o->envelope) {
		fprintf(stderr, "taxii_load: --objects must be a multiple of --envelope\n");
		return 1;
	}
	for (size_t l = 0; l < o->client_levels; l++) {
		unsigned clients = o->clients[l];
		struct envelopes e;
		struct phase ph;
		struct result r;
		struct usage u0, u1;
		double tg = now_s();

		make_envelopes(&e, o->seed, (uint64_t)l * o->objects, o->objects, o->envelope);
		tg = now_s() - tg;
		memset(&ph, 0, sizeof(ph));
		ph.o = o;
		ph.fn = ingest_request;
		ph.arg = &e;
		ph.total = e.count;
		run_phase(&ph, clients, &r, &u0, &u1);
		printf("ingest     clients %3u, envelopes of %zu: %zu objects (%.1f MB, %.0f "
		       "bytes/object, "
		       "made in %.2f s untimed) in %.2f s = %.0f objects/s, %.1f MB/s\n",
		       clients, o->envelope, r.count * e.objects_each, (double)e.bytes / 1e6,
		       (double)e.bytes / (double)(e.count * e.objects_each), tg, r.wall,
		       (double)(r.count * e.objects_each) / r.wall, (double)e.bytes / 1e6 / r.wall);
		print_latency(&r);
		usage_print(&u0, &u1, r.count * e.objects_each);
		fflush(stdout);
		failures += r.failures;
		free_envelopes(&e);
	}
	return failures;
}

/* ----------------------------------------------------------------- get */

struct page {
	char *added_after; /* NULL for the first page */
	size_t count;
	char *object_url;  /* .../objects/{id}/ of its first object, or NULL */
	char *id;
};

struct pages {
	struct page *v;
	size_t count, cap, objects;
};

static char *page_url(const struct opts *o, const char *added_after)
{
	size_t n = strlen(o->objects_url) + 128;
	char *u = xmalloc(n);

	if (added_after)
		snprintf(u, n, "%s?limit=%zu&added_after=%s", o->objects_url, o->limit,
		         added_after);
	else
		snprintf(u, n, "%s?limit=%zu", o->objects_url, o->limit);
	return u;
}

/* The sequential scan: every page once, by next token. */
static bool walk(const struct opts *o, struct pages *pg)
{
	struct client c;
	struct usage u0, u1;
	char *url = page_url(o, NULL);
	char *prev_last = NULL;
	double *lat = NULL, sum = 0;
	size_t lat_cap = 0;
	bool ok = false;

	memset(pg, 0, sizeof(*pg));
	client_init(&c, o);
	usage_now(&u0);
	for (;;) {
		const char *more, *next;
		double t0 = now_s();
		size_t n;

		if (!client_do(&c, url, NULL, 0) || c.status != 200) {
			fprintf(stderr, "taxii_load: walk: GET %s: %s HTTP %ld: %.200s\n", url,
			        c.err, c.status, c.body.ptr ? c.body.ptr : "");
			goto out;
		}
		if (pg->count == lat_cap) {
			lat_cap = lat_cap ? lat_cap * 2 : 1024;
			lat = xrealloc(lat, lat_cap * sizeof(*lat));
			pg->v = xrealloc(pg->v, lat_cap * sizeof(*pg->v));
		}
		lat[pg->count] = (now_s() - t0) * 1e3;
		sum += lat[pg->count];
		n = count_substr(c.body.ptr, c.body.len, "\"spec_version\":");
		pg->v[pg->count].added_after = prev_last;
		pg->v[pg->count].count = n;
		pg->v[pg->count].object_url = NULL;
		pg->v[pg->count].id = NULL;
		{
			const char *idp = strstr(c.body.ptr, "\"id\":\"");
			if (idp) {
				size_t il = strcspn(idp + 6, "\"");
				size_t un = strlen(o->objects_url) + il + 2;
				pg->v[pg->count].id = xmalloc(il + 1);
				memcpy(pg->v[pg->count].id, idp + 6, il);
				pg->v[pg->count].id[il] = '\0';
				pg->v[pg->count].object_url = xmalloc(un);
				snprintf(pg->v[pg->count].object_url, un, "%s%s/", o->objects_url,
				         pg->v[pg->count].id);
			}
		}
		pg->count++;
		pg->objects += n;
		prev_last = c.added_last[0] ? xstrdup(c.added_last) : NULL;
		more = strstr(c.body.ptr, "\"more\":true");
		if (!more)
			break;
		next = strstr(c.body.ptr, "\"next\":\"");
		if (!next || !prev_last) {
			fprintf(stderr, "taxii_load: walk: more=true without next or "
			                "X-TAXII-Date-Added-Last\n");
			goto out;
		}
		next += 8;
		free(url);
		{
			size_t tl = strcspn(next, "\"");
			size_t un = strlen(o->objects_url) + tl + 64;
			url = xmalloc(un);
			snprintf(url, un, "%s?limit=%zu&next=%.*s", o->objects_url, o->limit,
			         (int)tl, next);
		}
	}
	usage_now(&u1);
	qsort(lat, pg->count, sizeof(*lat), cmp_double);
	printf("walk       1 client, next tokens: %zu objects in %zu pages of up to %zu in %.2f s "
	       "= "
	       "%.0f objects/s\n",
	       pg->objects, pg->count, o->limit, u1.wall - u0.wall,
	       (double)pg->objects / (u1.wall - u0.wall));
	printf("    latency ms: p50 %.2f  p99 %.2f  max %.2f  mean %.2f\n",
	       pct(lat, pg->count, 0.5), pct(lat, pg->count, 0.99), lat[pg->count - 1],
	       sum / (double)pg->count);
	usage_print(&u0, &u1, 0);
	fflush(stdout);
	ok = true;
out:
	free(prev_last);
	free(lat);
	free(url);
	client_release(&c);
	return ok;
}

struct get_arg {
	struct pages *pg;
	char **urls;
	atomic_size_t objects;
};

static bool get_request(struct phase *ph, struct client *c, size_t i, unsigned *rng, char *why,
                        size_t why_len)
{
	struct get_arg *ga = ph->arg;
	size_t k = (size_t)rand_r(rng) % ga->pg->count;
	size_t n;

	if (!client_do(c, ga->urls[k], NULL, 0)) {
		snprintf(why, why_len, "GET page %zu: %s", k, c->err);
		return false;
	}
	if (c->status != 200) {
		snprintf(why, why_len, "GET page %zu (request %zu): HTTP %ld: %.200s", k, i,
		         c->status, c->body.ptr ? c->body.ptr : "");
		return false;
	}
	n = count_substr(c->body.ptr, c->body.len, "\"spec_version\":");
	if (n != ga->pg->v[k].count) {
		snprintf(why, why_len, "GET page %zu: %zu objects, the walk saw %zu", k, n,
		         ga->pg->v[k].count);
		return false;
	}
	atomic_fetch_add(&ga->objects, n);
	return true;
}

static bool object_request(struct phase *ph, struct client *c, size_t i, unsigned *rng,
                           char *why, size_t why_len)
{
	struct get_arg *ga = ph->arg;
	size_t k = (size_t)rand_r(rng) % ga->pg->count;
	const struct page *p = &ga->pg->v[k];

	(void)i;
	if (!p->object_url)
		return true; /* an empty page (cannot happen in a walk) */
	if (!client_do(c, p->object_url, NULL, 0)) {
		snprintf(why, why_len, "GET object %s: %s", p->id, c->err);
		return false;
	}
	if (c->status != 200 || !c->body.ptr || !strstr(c->body.ptr, p->id)) {
		snprintf(why, why_len, "GET object %s: HTTP %ld: %.200s", p->id, c->status,
		         c->body.ptr ? c->body.ptr : "");
		return false;
	}
	atomic_fetch_add(&ga->objects, 1);
	return true;
}

static size_t run_get(const struct opts *o)
{
	struct pages pg;
	struct get_arg ga;
	size_t failures = 0;

	if (!walk(o, &pg))
		return 1;
	if (pg.count == 0 || pg.objects == 0) {
		fprintf(stderr, "taxii_load: the collection is empty\n");
		return 1;
	}
	ga.pg = &pg;
	ga.urls = xmalloc(pg.count * sizeof(*ga.urls));
	for (size_t k = 0; k < pg.count; k++)
		ga.urls[k] = page_url(o, pg.v[k].added_after);
	for (size_t l = 0; l < o->client_levels; l++) {
		unsigned clients = o->clients[l];
		struct phase ph;
		struct result r;
		struct usage u0, u1;
		size_t objects;

		failures += run_discovery(o, clients);
		memset(&ph, 0, sizeof(ph));
		ph.o = o;
		ph.fn = get_request;
		ph.arg = &ga;
		ph.total = requests_for(o, clients);
		atomic_init(&ga.objects, 0);
		run_phase(&ph, clients, &r, &u0, &u1);
		objects = atomic_load(&ga.objects);
		printf("get pages  clients %3u: %zu requests of limit=%zu at random pages of %zu "
		       "objects in %.2f s = %.1f pages/s, %.0f objects/s\n",
		       clients, ph.total, o->limit, pg.objects, r.wall, (double)r.count / r.wall,
		       (double)objects / r.wall);
		print_latency(&r);
		usage_print(&u0, &u1, 0);
		fflush(stdout);
		failures += r.failures;

		ph.fn = object_request;
		atomic_init(&ga.objects, 0);
		run_phase(&ph, clients, &r, &u0, &u1);
		printf("get object clients %3u: %zu requests of one object by id among %zu "
		       "objects in %.2f s = %.1f requests/s\n",
		       clients, ph.total, pg.objects, r.wall, (double)r.count / r.wall);
		print_latency(&r);
		usage_print(&u0, &u1, 0);
		fflush(stdout);
		failures += r.failures;
	}
	for (size_t k = 0; k < pg.count; k++) {
		free(ga.urls[k]);
		free(pg.v[k].added_after);
		free(pg.v[k].object_url);
		free(pg.v[k].id);
	}
	free(ga.urls);
	free(pg.v);
	return failures;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"url", required_argument, NULL, 'u'},
	        {"api-root", required_argument, NULL, 'a'},
	        {"collection", required_argument, NULL, 'C'},
	        {"credentials", required_argument, NULL, 'k'},
	        {"cacert", required_argument, NULL, 'A'},
	        {"clients", required_argument, NULL, 'c'},
	        {"requests", required_argument, NULL, 'r'},
	        {"objects", required_argument, NULL, 'n'},
	        {"envelope", required_argument, NULL, 'e'},
	        {"limit", required_argument, NULL, 'l'},
	        {"seed", required_argument, NULL, 's'},
	        {"pid", required_argument, NULL, 'p'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct opts o;
	const char *cred = NULL;
	size_t failures, n;
	int ch;

	memset(&o, 0, sizeof(o));
	o.api_root = "api1";
	o.clients[0] = 1;
	o.client_levels = 1;
	o.objects = 100000;
	o.envelope = 1000;
	o.limit = 1000;
	o.seed = mix((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			o.url = optarg;
			break;
		case 'a':
			o.api_root = optarg;
			break;
		case 'C':
			o.collection = optarg;
			break;
		case 'k':
			cred = optarg;
			break;
		case 'A':
			o.cacert = optarg;
			break;
		case 'c':
			if (!parse_clients(optarg, &o))
				goto bad;
			break;
		case 'r':
			if (!parse_size(optarg, &o.requests))
				goto bad;
			break;
		case 'n':
			if (!parse_size(optarg, &o.objects))
				goto bad;
			break;
		case 'e':
			if (!parse_size(optarg, &o.envelope))
				goto bad;
			break;
		case 'l':
			if (!parse_size(optarg, &o.limit))
				goto bad;
			break;
		case 's':
			if (!parse_size(optarg, &n))
				goto bad;
			o.seed = mix(n);
			break;
		case 'p':
			if (!parse_size(optarg, &n))
				goto bad;
			server_pid = (long)n;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind + 1 != argc || !o.url || !o.collection || !cred || !o.cacert)
		goto bad;
	o.mode = argv[optind];
	if (!read_credentials(cred, &o)) {
		fprintf(stderr, "taxii_load: cannot read user:password from '%s'\n", cred);
		return 2;
	}
	{
		/* the API root sits beside /taxii2/ on the same origin */
		const char *p = strstr(o.url, "/taxii2");
		size_t base = p ? (size_t)(p - o.url) : strlen(o.url);
		size_t len = base + strlen(o.api_root) + strlen(o.collection) + 64;
		o.objects_url = xmalloc(len);
		snprintf(o.objects_url, len, "%.*s/%s/collections/%s/objects/", (int)base, o.url,
		         o.api_root, o.collection);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "taxii_load: curl_global_init failed\n");
		return 2;
	}
	printf("taxii_load %s: %s (%s)\n", o.mode, o.objects_url, curl_version());
	fflush(stdout);
	if (strcmp(o.mode, "ingest") == 0) {
		failures = run_ingest(&o);
	} else if (strcmp(o.mode, "get") == 0) {
		failures = run_get(&o);
	} else if (strcmp(o.mode, "discovery") == 0) {
		failures = 0;
		for (size_t l = 0; l < o.client_levels; l++)
			failures += run_discovery(&o, o.clients[l]);
	} else {
		fprintf(stderr, "taxii_load: unknown mode '%s'\n", o.mode);
		failures = 1;
	}
	if (failures)
		printf("FAILED REQUESTS: %zu (figures above count successful requests only)\n",
		       failures);
	curl_global_cleanup();
	free(o.objects_url);
	free(o.user);
	free(o.password);
	return failures ? 1 : 0;
bad:
	fputs(usage_text, stderr);
	return 2;
}
