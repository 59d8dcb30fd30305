/*
 * lib/taxii client: against the real node (started from $CP_BINARY on a loopback port
 * with a temporary data directory) for what a working server does, and against a
 * scripted fault server in this process (libmicrohttpd, HTTPS with the node's
 * certificate) for what broken or busy servers do: 5xx and 429 with retries,
 * Retry-After, truncated and malformed envelopes, oversized bodies, paging that would
 * never end, slow answers, pending statuses.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "cyberpact/taxii-client.h"

#define CP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MT "application/taxii+json;version=2.1"
#define FAULT_COLL "c0ffee00-0000-4000-8000-000000000001"

/* ------------------------------------------------------------ helpers */

static char *xasprintf(const char *fmt, ...) CP_PRINTF(1, 2);
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	assert_non_null(s);
	return s;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("expected '%s' in '%s'", (needle), (hay));                        \
	} while (0)

/* ------------------------------------------------------------ the node */

static struct {
	char dir[64];
	pid_t pid;
	int out_fd;
	char base[128]; /* https://127.0.0.1:PORT */
	char coll[64];
	char *user, *password;
	char *ca, *crt, *key, *server_crt, *server_key;
} node = {.pid = -1, .out_fd = -1};

static int start_node(void)
{
	const char *bin = getenv("CP_BINARY");
	char data[128], out[4096];
	size_t len = 0;
	int pfd[2];
	char *p, *yaml, *cred;

	if (!bin) {
		fprintf(stderr, "CP_BINARY is not set\n");
		return -1;
	}
	snprintf(node.dir, sizeof(node.dir), "/tmp/cp-taxii-client-XXXXXX");
	if (!mkdtemp(node.dir) || pipe(pfd) != 0)
		return -1;
	snprintf(data, sizeof(data), "%s/node", node.dir);
	node.pid = fork();
	if (node.pid < 0)
		return -1;
	if (node.pid == 0) {
		char errpath[128];
		int efd;
		snprintf(errpath, sizeof(errpath), "%s/node.err", node.dir);
		efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(pfd[1], 1);
		if (efd >= 0)
			dup2(efd, 2);
		close(pfd[0]);
		execl(bin, bin, "serve", "--data-dir", data, "--listen", "127.0.0.1:0", "--threads",
		      "4", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	node.out_fd = pfd[0];
	/* wait for "cyberpact: node listening: https://127.0.0.1:PORT/taxii2/" */
	for (;;) {
		struct pollfd pf = {node.out_fd, POLLIN, 0};
		ssize_t n;
		out[len] = '\0';
		p = strstr(out, "node listening: ");
		if (p && strchr(p, '\n'))
			break;
		if (poll(&pf, 1, 30000) <= 0 || len + 1 >= sizeof(out))
			goto fail;
		n = read(node.out_fd, out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			goto fail;
		len += (size_t)n;
	}
	p += strlen("node listening: ");
	{
		char *end = strstr(p, "/taxii2/");
		if (!end || (size_t)(end - p) >= sizeof(node.base))
			goto fail;
		memcpy(node.base, p, (size_t)(end - p));
		node.base[end - p] = '\0';
	}
	{
		char *yp = xasprintf("%s/cyberpact.yaml", data);
		char *cp = xasprintf("%s/credentials", data);
		yaml = read_file(yp);
		cred = read_file(cp);
		free(yp);
		free(cp);
	}
	if (!yaml || !cred)
		goto fail;
	p = strstr(yaml, "- id: ");
	if (!p || sscanf(p + 6, "%36s", node.coll) != 1)
		goto fail;
	p = strchr(cred, ':');
	if (!p)
		goto fail;
	*p = '\0';
	node.user = strdup(cred);
	node.password = strndup(p + 1, strcspn(p + 1, "\r\n"));
	free(yaml);
	free(cred);
	node.ca = xasprintf("%s/pki/ca.crt", data);
	node.crt = xasprintf("%s/pki/client.crt", data);
	node.key = xasprintf("%s/pki/client.key", data);
	node.server_crt = xasprintf("%s/pki/server.crt", data);
	node.server_key = xasprintf("%s/pki/server.key", data);
	return 0;
fail:
	fprintf(stderr, "the node did not start; its output: %.*s\n", (int)len, out);
	return -1;
}

static void stop_node(void)
{
	if (node.pid > 0) {
		kill(node.pid, SIGTERM);
		waitpid(node.pid, NULL, 0);
		node.pid = -1;
	}
	if (node.out_fd >= 0)
		close(node.out_fd);
	node.out_fd = -1;
}

static char *node_url(const char *path)
{
	return xasprintf("%s%s", node.base, path);
}

static char *coll_url(void)
{
	return xasprintf("%s/api1/collections/%s/", node.base, node.coll);
}

static struct cp_taxii_client_opts node_opts(void)
{
	struct cp_taxii_client_opts o = {
	        .peer = "node",
	        .cacert = node.ca,
	        .user = node.user,
	        .password = node.password,
	        .timeout_ms = 20000,
	        .attempts = 3,
	        .backoff_ms = 5,
	        .backoff_max_ms = 20,
	};
	return o;
}

static struct cp_taxii_client *new_client(const struct cp_taxii_client_opts *o)
{
	struct cp_taxii_client *c = NULL;
	struct cp_diag d;

	cp_diag_init(&d);
	if (cp_taxii_client_new(o, &c, &d) != CP_OK) {
		tu_dump(&d);
		fail_msg("cannot make a client");
	}
	cp_diag_release(&d);
	return c;
}

/* An envelope of count indicators whose ids carry tag, numbered from 0. */
static char *indicators(unsigned tag, size_t count)
{
	struct cp_buf b = CP_BUF_INIT(64u << 20);

	cp_buf_puts(&b, "{\"objects\":[");
	for (size_t i = 0; i < count; i++)
		cp_buf_printf(&b,
		              "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\","
		              "\"id\":\"indicator--%08x-0000-4000-8000-%012zx\","
		              "\"created\":\"2024-01-01T00:00:00.000Z\","
		              "\"modified\":\"2024-01-01T00:00:00.000Z\","
		              "\"pattern\":\"[ipv4-addr:value = '10.%zu.%zu.%zu']\","
		              "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
		              i ? "," : "", tag, i, (i >> 16) & 255, (i >> 8) & 255, i & 255);
	cp_buf_puts(&b, "]}");
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	return cp_buf_take(&b);
}

static char *indicator_id(unsigned tag, size_t i)
{
	return xasprintf("indicator--%08x-0000-4000-8000-%012zx", tag, i);
}

static void post_indicators(struct cp_taxii_client *c, unsigned tag, size_t count)
{
	char *env = indicators(tag, count), *url = coll_url();
	json_t *st = NULL;
	enum cp_err err = cp_taxii_client_post(c, url, env, strlen(env), &st);

	if (err)
		fail_msg("post: %s: %s", cp_err_name(err), cp_taxii_client_error(c));
	assert_string_equal(json_string_value(json_object_get(st, "status")), "complete");
	assert_int_equal(json_integer_value(json_object_get(st, "success_count")),
	                 (json_int_t)count);
	assert_int_equal(json_integer_value(json_object_get(st, "failure_count")), 0);
	json_decref(st);
	cp_free(env);
	free(url);
}

/* ------------------------------------------------------ the fault server */

struct step {
	unsigned status;
	const char *body;
	const char *hdr[4][2]; /* extra response headers, name and value */
	long delay_ms;         /* answer this late */
	size_t stream;         /* answer with this many bytes instead of body */
	bool stream_sized;     /* ... with a Content-Length (else chunked) */
	bool counter_next;     /* an endless walk: more=true, next "tok-<request number>" */
};

#define MAX_URIS 64
static struct {
	struct MHD_Daemon *d;
	unsigned port;
	pthread_mutex_t lock;
	const struct step *script;
	size_t steps;
	unsigned requests;
	char uris[MAX_URIS][2048];
	char methods[MAX_URIS][8];
	unsigned ports[MAX_URIS]; /* the client's port: the same one for a kept-alive connection */
	char auth[256], accept[256], ctype[256];
	size_t post_len;
	atomic_size_t produced;
	atomic_uint generation;
	atomic_bool stopping;
	char base[64];
} fs = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int marker_new, marker_seen;

static void *fs_uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
	(void)cls;
	(void)con;
	pthread_mutex_lock(&fs.lock);
	if (fs.requests < MAX_URIS)
		snprintf(fs.uris[fs.requests], sizeof(fs.uris[0]), "%s", uri);
	fs.requests++;
	pthread_mutex_unlock(&fs.lock);
	return &marker_new;
}

static void copy_header(struct MHD_Connection *con, const char *name, char *dst, size_t cap)
{
	const char *v = MHD_lookup_connection_value(con, MHD_HEADER_KIND, name);
	snprintf(dst, cap, "%s", v ? v : "");
}

struct stream_ctx {
	size_t total;
};

static ssize_t fs_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_ctx *s = cls;
	size_t n;

	if (pos >= s->total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = s->total - (size_t)pos < max ? s->total - (size_t)pos : max;
	memset(buf, ' ', n);
	if (pos == 0 && n > 0)
		buf[0] = '[';
	atomic_fetch_add(&fs.produced, n);
	return (ssize_t)n;
}

static enum MHD_Result fs_handler(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **req_cls)
{
	const struct step *st;
	struct MHD_Response *resp;
	unsigned idx, gen;
	char body[256];
	enum MHD_Result r;

	(void)cls;
	(void)url;
	(void)version;
	(void)upload;
	if (*req_cls == &marker_new) {
		*req_cls = &marker_seen;
		pthread_mutex_lock(&fs.lock);
		if (fs.requests <= MAX_URIS) {
			const union MHD_ConnectionInfo *ci =
			        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
			snprintf(fs.methods[fs.requests - 1], sizeof(fs.methods[0]), "%s", method);
			fs.ports[fs.requests - 1] =
			        ci ? ntohs(((const struct sockaddr_in *)ci->client_addr)->sin_port)
			           : 0;
		}
		copy_header(con, "Authorization", fs.auth, sizeof(fs.auth));
		copy_header(con, "Accept", fs.accept, sizeof(fs.accept));
		copy_header(con, "Content-Type", fs.ctype, sizeof(fs.ctype));
		pthread_mutex_unlock(&fs.lock);
		/* answering in the first call makes libmicrohttpd close the connection */
		return MHD_YES;
	}
	if (*upload_len) {
		pthread_mutex_lock(&fs.lock);
		fs.post_len += *upload_len;
		pthread_mutex_unlock(&fs.lock);
		*upload_len = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&fs.lock);
	idx = fs.requests - 1;
	st = fs.script ? &fs.script[idx < fs.steps ? idx : fs.steps - 1] : NULL;
	pthread_mutex_unlock(&fs.lock);
	if (!st)
		return MHD_NO;
	gen = atomic_load(&fs.generation);
	for (long waited = 0; waited < st->delay_ms; waited += 10) {
		struct timespec ts = {0, 10 * 1000000L};
		if (atomic_load(&fs.stopping) || atomic_load(&fs.generation) != gen)
			break;
		nanosleep(&ts, NULL);
	}
	if (st->stream) {
		struct stream_ctx *s = malloc(sizeof(*s));
		if (!s)
			return MHD_NO;
		s->total = st->stream;
		resp = MHD_create_response_from_callback(st->stream_sized ? st->stream
		                                                          : MHD_SIZE_UNKNOWN,
		                                         64 * 1024, fs_stream, s, free);
	} else if (st->counter_next) {
		snprintf(body, sizeof(body),
		         "{\"more\":true,\"next\":\"tok-%u\",\"objects\":[{\"type\":\"x\",\"id\":"
		         "\"x--%u\"}]}",
		         idx, idx);
		resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	} else {
		const char *b = st->body ? st->body : "";
		resp = MHD_create_response_from_buffer(strlen(b), (void *)b, MHD_RESPMEM_MUST_COPY);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", MT);
	for (size_t i = 0; i < 4 && st->hdr[i][0]; i++)
		MHD_add_response_header(resp, st->hdr[i][0], st->hdr[i][1]);
	r = MHD_queue_response(con, st->status, resp);
	MHD_destroy_response(resp);
	return r;
}

static int start_fault_server(void)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	char *cert = read_file(node.server_crt), *key = read_file(node.server_key);

	if (!cert || !key)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fs.d = MHD_start_daemon(
	        MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
	        NULL, NULL, fs_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	        MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
	        MHD_OPTION_URI_LOG_CALLBACK, fs_uri_log, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned)10, MHD_OPTION_END);
	free(cert);
	free(key);
	if (!fs.d)
		return -1;
	info = MHD_get_daemon_info(fs.d, MHD_DAEMON_INFO_BIND_PORT);
	fs.port = info->port;
	snprintf(fs.base, sizeof(fs.base), "https://127.0.0.1:%u", fs.port);
	return 0;
}

static void stop_fault_server(void)
{
	atomic_store(&fs.stopping, true);
	if (fs.d)
		MHD_stop_daemon(fs.d);
	fs.d = NULL;
}

static void script(const struct step *steps, size_t n)
{
	atomic_fetch_add(&fs.generation, 1);
	pthread_mutex_lock(&fs.lock);
	fs.script = steps;
	fs.steps = n;
	fs.requests = 0;
	fs.post_len = 0;
	fs.auth[0] = fs.accept[0] = fs.ctype[0] = '\0';
	pthread_mutex_unlock(&fs.lock);
	atomic_store(&fs.produced, 0);
}

#define SCRIPT(a) script((a), CP_ARRAY_LEN(a))

static unsigned fs_requests(void)
{
	unsigned n;
	pthread_mutex_lock(&fs.lock);
	n = fs.requests;
	pthread_mutex_unlock(&fs.lock);
	return n;
}

static char *fault_coll(void)
{
	return xasprintf("%s/api1/collections/" FAULT_COLL "/", fs.base);
}

static struct cp_taxii_client_opts fault_opts(void)
{
	struct cp_taxii_client_opts o = {
	        .peer = "fault",
	        .cacert = node.ca,
	        .timeout_ms = 5000,
	        .attempts = 3,
	        .backoff_ms = 1,
	        .backoff_max_ms = 5,
	};
	return o;
}

#define PAGE1 "{\"more\":false,\"objects\":[{\"type\":\"x\",\"id\":\"x--1\"}]}"
#define ERR500                                                                                     \
	"{\"title\":\"Internal error\",\"description\":\"the store "                               \
	"failed\",\"http_status\":\"500\"}"

/* Get one page from the fault server with a fresh client of opts. */
static enum cp_err fault_get(const struct cp_taxii_client_opts *o, struct cp_taxii_client **cp,
                             struct cp_taxii_page *page)
{
	struct cp_taxii_client *c = new_client(o);
	char *url = fault_coll();
	enum cp_err err = cp_taxii_client_get_objects(c, url, NULL, page);

	free(url);
	*cp = c;
	return err;
}

/* ------------------------------------------------------- group setup */

static int setup(void **state)
{
	(void)state;
	cp_json_use_cp_alloc();
	if (start_node() != 0)
		return -1;
	if (start_fault_server() != 0) {
		fprintf(stderr, "the fault server did not start\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stop_fault_server();
	stop_node();
	if (node.dir[0])
		nftw(node.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(node.user);
	free(node.password);
	free(node.ca);
	free(node.crt);
	free(node.key);
	free(node.server_crt);
	free(node.server_key);
	return 0;
}

/* ------------------------------------------------------ against the node */

static void test_opts_checked(void **state)
{
	struct cp_taxii_client_opts o = node_opts();
	struct cp_taxii_client *c = NULL;
	struct cp_diag d;

	(void)state;
	cp_diag_init(&d);
	o.peer = NULL;
	assert_int_equal(cp_taxii_client_new(&o, &c, &d), CP_EINVAL);
	assert_finding(&d, CP_SEV_ERROR, "taxii-client-opts", NULL);
	assert_null(c);
	cp_diag_clear(&d);

	o = node_opts();
	o.cacert = NULL;
	assert_int_equal(cp_taxii_client_new(&o, &c, &d), CP_EINVAL);
	assert_contains(d.items[0].message, "CA file");
	cp_diag_clear(&d);

	o = node_opts();
	o.cacert = "/nonexistent/ca.crt";
	assert_int_equal(cp_taxii_client_new(&o, &c, &d), CP_EINVAL);
	assert_contains(d.items[0].message, "/nonexistent/ca.crt");
	cp_diag_clear(&d);

	o = node_opts();
	o.token = "cpt_x";
	assert_int_equal(cp_taxii_client_new(&o, &c, &d), CP_EINVAL);
	cp_diag_clear(&d);

	o = node_opts();
	o.user = o.password = NULL;
	o.token = "bad\r\nX-Injected: 1";
	assert_int_equal(cp_taxii_client_new(&o, &c, &d), CP_EINVAL);
	cp_diag_clear(&d);

	o = node_opts();
	o.password = NULL;
	assert_int_equal(cp_taxii_client_new(&o, &c, &d), CP_EINVAL);
	assert_null(c);
	cp_diag_release(&d);
	cp_taxii_client_free(NULL);
}

static void test_discovery_and_collections(void **state)
{
	struct cp_taxii_client_opts o = node_opts();
	struct cp_taxii_client *c = new_client(&o);
	char *url = node_url("/taxii2/");
	json_t *j = NULL, *colls, *item;
	size_t i;
	bool found = false;

	(void)state;
	assert_int_equal(cp_taxii_client_get_json(c, url, &j), CP_OK);
	assert_int_equal(cp_taxii_client_status(c), 200);
	assert_int_equal(cp_taxii_client_attempts(c), 1);
	assert_string_equal(cp_taxii_client_error(c), "");
	assert_true(json_is_string(json_object_get(j, "title")));
	assert_string_equal(json_string_value(json_object_get(j, "default")), "/api1/");
	json_decref(j);
	free(url);

	url = node_url("/api1/collections/");
	assert_int_equal(cp_taxii_client_get_json(c, url, &j), CP_OK);
	colls = json_object_get(j, "collections");
	assert_true(json_is_array(colls));
	json_array_foreach (colls, i, item) {
		if (strcmp(json_string_value(json_object_get(item, "id")), node.coll) == 0) {
			found = true;
			assert_true(json_is_true(json_object_get(item, "can_read")));
			assert_true(json_is_true(json_object_get(item, "can_write")));
		}
	}
	assert_true(found);
	json_decref(j);
	free(url);

	/* the same handle, one more request: the API root */
	url = node_url("/api1/");
	assert_int_equal(cp_taxii_client_get_json(c, url, &j), CP_OK);
	assert_true(json_is_array(json_object_get(j, "versions")));
	json_decref(j);
	free(url);
	cp_taxii_client_free(c);
}

/* Post 5 indicators, then read them back 2 per page by next, and their manifest. */
static void test_post_and_pages(void **state)
{
	struct cp_taxii_client_opts o = node_opts();
	struct cp_taxii_client *c = new_client(&o);
	char *url = coll_url();
	char ids[5 * 64] = "";
	struct cp_taxii_page_req req = {.limit = 2, .match_type = "indicator"};
	struct cp_taxii_page page;
	char next[256] = "";
	size_t seen = 0, pages = 0, i;
	bool got[5] = {false};
	json_t *obj;

	(void)state;
	post_indicators(c, 0xa0000001, 5);
	for (i = 0; i < 5; i++) {
		char *id = indicator_id(0xa0000001, i);
		size_t n = strlen(ids);
		snprintf(ids + n, sizeof(ids) - n, "%s%s", i ? "," : "", id);
		free(id);
	}
	req.match_id = ids;
	do {
		req.next = next[0] ? next : NULL;
		if (cp_taxii_client_get_objects(c, url, &req, &page) != CP_OK)
			fail_msg("%s", cp_taxii_client_error(c));
		pages++;
		assert_true(json_array_size(page.objects) <= 2);
		assert_int_not_equal(page.date_added_first[0], 0);
		assert_int_not_equal(page.date_added_last[0], 0);
		json_array_foreach (page.objects, i, obj) {
			const char *id = json_string_value(json_object_get(obj, "id"));
			for (size_t k = 0; k < 5; k++) {
				char *want = indicator_id(0xa0000001, k);
				if (strcmp(id, want) == 0) {
					assert_false(got[k]);
					got[k] = true;
				}
				free(want);
			}
			seen++;
		}
		if (page.more)
			assert_int_not_equal(page.next[0], 0);
		snprintf(next, sizeof(next), "%s", page.next);
		bool more = page.more;
		cp_taxii_page_release(&page);
		if (!more)
			break;
	} while (pages < 10);
	assert_int_equal(seen, 5);
	assert_int_equal(pages, 3);
	for (i = 0; i < 5; i++)
		assert_true(got[i]);

	/* the manifest of the same five */
	req.next = NULL;
	req.limit = 0;
	assert_int_equal(cp_taxii_client_get_manifest(c, url, &req, &page), CP_OK);
	assert_int_equal(json_array_size(page.objects), 5);
	assert_false(page.more);
	json_array_foreach (page.objects, i, obj) {
		assert_true(json_is_string(json_object_get(obj, "version")));
		assert_true(json_is_string(json_object_get(obj, "date_added")));
	}
	cp_taxii_page_release(&page);

	/* a filter that matches nothing: an envelope without objects gives an empty list */
	req.match_type = "malware";
	assert_int_equal(cp_taxii_client_get_objects(c, url, &req, &page), CP_OK);
	assert_true(json_is_array(page.objects));
	assert_int_equal(json_array_size(page.objects), 0);
	assert_false(page.more);
	cp_taxii_page_release(&page);
	free(url);
	cp_taxii_client_free(c);
}

struct walk_ctx {
	char **ids;
	size_t count, cap, pages, tagged;
	unsigned tag;
	char first_last[40]; /* Date-Added-Last of the first page */
};

static enum cp_err collect(const struct cp_taxii_page *page, void *ctx)
{
	struct walk_ctx *w = ctx;
	char prefix[32];
	size_t i;
	json_t *obj;

	snprintf(prefix, sizeof(prefix), "indicator--%08x-", w->tag);
	if (w->pages++ == 0)
		snprintf(w->first_last, sizeof(w->first_last), "%s", page->date_added_last);
	json_array_foreach (page->objects, i, obj) {
		const char *id = json_string_value(json_object_get(obj, "id"));
		assert_non_null(id);
		if (w->count == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 1024;
			w->ids = realloc(w->ids, w->cap * sizeof(*w->ids));
			assert_non_null(w->ids);
		}
		w->ids[w->count++] = strdup(id);
		if (strncmp(id, prefix, strlen(prefix)) == 0)
			w->tagged++;
	}
	return CP_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_ctx_release(struct walk_ctx *w)
{
	for (size_t i = 0; i < w->count; i++)
		free(w->ids[i]);
	free(w->ids);
	memset(w, 0, sizeof(*w));
}

static void assert_no_repeats(struct walk_ctx *w)
{
	qsort(w->ids, w->count, sizeof(*w->ids), cmp_str);
	for (size_t i = 1; i < w->count; i++)
		if (strcmp(w->ids[i - 1], w->ids[i]) == 0)
			fail_msg("%s seen twice", w->ids[i]);
}

static void test_walk_2500(void **state)
{
	struct cp_taxii_client_opts o = node_opts();
	struct cp_taxii_client *c = new_client(&o);
	char *url = coll_url();
	struct cp_taxii_page_req req = {.limit = 1000};
	struct walk_ctx w = {.tag = 0xa0000002};
	size_t total;
	bool early = true;
	char after[40];

	(void)state;
	post_indicators(c, w.tag, 2500);
	assert_int_equal(cp_taxii_client_walk(c, url, &req, 0, collect, &w, &early), CP_OK);
	assert_false(early);
	assert_int_equal(w.tagged, 2500);
	assert_true(w.pages >= 3);
	assert_true(w.count >= 2500 && w.count <= 2500 + 100);
	assert_no_repeats(&w);
	total = w.count;
	snprintf(after, sizeof(after), "%s", w.first_last);
	walk_ctx_release(&w);

	/* from the end of the first page on, by added_after: everything but that page */
	w.tag = 0xa0000002;
	req.added_after = after;
	assert_int_equal(cp_taxii_client_walk(c, url, &req, 0, collect, &w, &early), CP_OK);
	assert_int_equal(w.count, total - 1000);
	assert_no_repeats(&w);
	walk_ctx_release(&w);

	/* at most two pages */
	w.tag = 0xa0000002;
	req.added_after = NULL;
	assert_int_equal(cp_taxii_client_walk(c, url, &req, 2, collect, &w, &early), CP_OK);
	assert_true(early);
	assert_int_equal(w.pages, 2);
	assert_int_equal(w.count, 2000);
	walk_ctx_release(&w);
	free(url);
	cp_taxii_client_free(c);
}

static void test_mtls(void **state)
{
	struct cp_taxii_client_opts o = node_opts();
	struct cp_taxii_client *c;
	char *url = node_url("/taxii2/"), *coll = coll_url();
	struct cp_taxii_page_req req = {.limit = 1};
	struct cp_taxii_page page;
	json_t *j = NULL;

	(void)state;
	o.user = o.password = NULL;
	o.client_cert = node.crt;
	o.client_key = node.key;
	c = new_client(&o);
	if (cp_taxii_client_get_json(c, url, &j) != CP_OK)
		fail_msg("%s", cp_taxii_client_error(c));
	json_decref(j);
	assert_int_equal(cp_taxii_client_get_objects(c, coll, &req, &page), CP_OK);
	assert_int_equal(json_array_size(page.objects), 1);
	cp_taxii_page_release(&page);
	cp_taxii_client_free(c);

	/* neither certificate nor password: 401 */
	o.client_cert = o.client_key = NULL;
	c = new_client(&o);
	assert_int_equal(cp_taxii_client_get_json(c, url, &j), CP_EDENIED);
	assert_int_equal(cp_taxii_client_status(c), 401);
	cp_taxii_client_free(c);
	free(url);
	free(coll);
}

static void test_wrong_password(void **state)
{
	struct cp_taxii_client_opts o = node_opts();
	struct cp_taxii_client *c;
	char *url = node_url("/taxii2/");
	json_t *j = NULL;

	(void)state;
	o.password = "not-the-password";
	c = new_client(&o);
	assert_int_equal(cp_taxii_client_get_json(c, url, &j), CP_EDENIED);
	assert_null(j);
	assert_int_equal(cp_taxii_client_status(c), 401);
	assert_int_equal(cp_taxii_client_attempts(c), 1);
	assert_contains(cp_taxii_client_error(c), "peer node: GET ");
	assert_contains(cp_taxii_client_error(c), "/taxii2/: HTTP 401 (");
	assert_null(strstr(cp_taxii_client_error(c), "not-the-password"));
	cp_taxii_client_free(c);
	free(url);
}

static void test_unknown_collection(void **state)
{
	struct cp_taxii_client_opts o = node_opts();
	struct cp_taxii_client *c = new_client(&o);
	char *url = node_url("/api1/collections/0d2e4f6a-1111-4222-8333-444455556666/");
	struct cp_taxii_page page;
	json_t *st = NULL;

	(void)state;
	assert_int_equal(cp_taxii_client_get_objects(c, url, NULL, &page), CP_ENOTFOUND);
	assert_int_equal(cp_taxii_client_status(c), 404);
	assert_contains(cp_taxii_client_error(c), "HTTP 404");
	assert_int_equal(cp_taxii_client_post(c, url, "{\"objects\":[]}", 14, &st), CP_ENOTFOUND);
	assert_null(st);
	cp_taxii_client_free(c);
	free(url);
}

static void test_bad_urls_and_ca(void **state)
{
	struct cp_taxii_client_opts o = node_opts();
	struct cp_taxii_client *c = new_client(&o);
	char *plain = xasprintf("http://%s/taxii2/", node.base + strlen("https://"));
	char *url = node_url("/taxii2/");
	json_t *j = NULL;
	struct cp_taxii_page page;

	(void)state;
	/* plain HTTP is never spoken */
	assert_int_equal(cp_taxii_client_get_json(c, plain, &j), CP_EINVAL);
	assert_int_equal(cp_taxii_client_attempts(c), 1);
	assert_int_equal(cp_taxii_client_status(c), 0);
	/* a collection URL without its final slash */
	assert_int_equal(cp_taxii_client_get_objects(c, node.base, NULL, &page), CP_EINVAL);
	assert_contains(cp_taxii_client_error(c), "must end with '/'");
	cp_taxii_client_free(c);

	/* a CA that did not sign the node's certificate: refused at once, not retried */
	o.cacert = node.crt;
	c = new_client(&o);
	assert_int_equal(cp_taxii_client_get_json(c, url, &j), CP_EIO);
	assert_int_equal(cp_taxii_client_attempts(c), 1);
	assert_int_equal(cp_taxii_client_status(c), 0);
	assert_contains(cp_taxii_client_error(c), "curl error");
	cp_taxii_client_free(c);
	free(plain);
	free(url);
}

/* Last of the node tests: kill the node, then nobody answers. */
static void test_node_killed(void **state)
{
	struct cp_taxii_client_opts o = node_opts();
	struct cp_taxii_client *c = new_client(&o);
	char *url = node_url("/taxii2/");
	char *want = xasprintf("peer node: GET %s: ", url);
	json_t *j = NULL;

	(void)state;
	assert_int_equal(cp_taxii_client_get_json(c, url, &j), CP_OK);
	json_decref(j);
	j = NULL;
	kill(node.pid, SIGKILL);
	waitpid(node.pid, NULL, 0);
	node.pid = -1;
	assert_int_equal(cp_taxii_client_get_json(c, url, &j), CP_EIO);
	assert_null(j);
	assert_int_equal(cp_taxii_client_attempts(c), 3);
	assert_int_equal(cp_taxii_client_status(c), 0);
	assert_contains(cp_taxii_client_error(c), want);
	assert_contains(cp_taxii_client_error(c), "after 3 attempts");
	assert_true(cp_taxii_client_waited_ms(c) <= 5 + 10);
	cp_taxii_client_free(c);
	free(url);
	free(want);
}

/* -------------------------------------------------- against the fault server */

static void test_retry_500_then_ok(void **state)
{
	static const struct step s[] = {{.status = 500, .body = ERR500},
	                                {.status = 503, .body = ERR500},
	                                {.status = 200, .body = PAGE1}};
	struct cp_taxii_client_opts o = fault_opts();
	struct cp_taxii_client *c;
	struct cp_taxii_page page;

	(void)state;
	SCRIPT(s);
	assert_int_equal(fault_get(&o, &c, &page), CP_OK);
	assert_int_equal(fs_requests(), 3);
	assert_int_equal(cp_taxii_client_attempts(c), 3);
	assert_int_equal(cp_taxii_client_status(c), 200);
	assert_true(cp_taxii_client_waited_ms(c) <= 1 + 2);
	assert_int_equal(json_array_size(page.objects), 1);
	cp_taxii_page_release(&page);
	cp_taxii_client_free(c);
}

static void test_always_500(void **state)
{
	static const struct step s[] = {{.status = 500, .body = ERR500}};
	struct cp_taxii_client_opts o = fault_opts();
	struct cp_taxii_client *c;
	struct cp_taxii_page page;
	char *want;

	(void)state;
	SCRIPT(s);
	o.attempts = 4;
	assert_int_equal(fault_get(&o, &c, &page), CP_EIO);
	assert_int_equal(fs_requests(), 4);
	assert_int_equal(cp_taxii_client_status(c), 500);
	want = xasprintf("peer fault: GET %s/api1/collections/" FAULT_COLL
	                 "/objects/: HTTP 500 (Internal error: the store failed) after 4 attempts",
	                 fs.base);
	assert_string_equal(cp_taxii_client_error(c), want);
	free(want);
	cp_taxii_client_free(c);
}

/* Bodies that are not envelopes: CP_EPARSE at once, with what is wrong. */
static void test_malformed_envelopes(void **state)
{
	static char long_next[400];
	static const struct {
		const char *body, *why;
	} cases[] = {
	        {"{\"more\":false,\"objects\":[{\"type\":\"x\"", "not JSON"},
	        {"{\"objects\":{}}", "'objects' is not an array"},
	        {"{\"objects\":[{\"id\":\"x--1\"},7]}", "/objects/1 is not a JSON object"},
	        {"{\"more\":\"true\"}", "'more' is not a boolean"},
	        {"{\"more\":true,\"next\":7}", "'next' is not a string"},
	        {"[]", "not a JSON object"},
	        {"{\"more\":false,\"more\":true}", "duplicate"},
	        {"", "empty body"},
	        {long_next, "at most 255"},
	};
	struct cp_taxii_client_opts o = fault_opts();

	(void)state;
	memset(long_next, 0, sizeof(long_next));
	memcpy(long_next, "{\"more\":true,\"next\":\"", 21);
	memset(long_next + 21, 'n', 300);
	memcpy(long_next + 321, "\"}", 2);
	for (size_t i = 0; i < CP_ARRAY_LEN(cases); i++) {
		struct step s[1] = {{.status = 200, .body = cases[i].body}};
		struct cp_taxii_client *c;
		struct cp_taxii_page page;
		SCRIPT(s);
		enum cp_err err = fault_get(&o, &c, &page);
		if (err != CP_EPARSE)
			fail_msg("case %zu: %s", i, cp_err_name(err));
		assert_int_equal(fs_requests(), 1);
		assert_contains(cp_taxii_client_error(c), cases[i].why);
		assert_contains(cp_taxii_client_error(c), "peer fault: GET https://");
		cp_taxii_client_free(c);
	}
	/* the parser's position is in the message */
	{
		struct step s[1] = {{.status = 200, .body = "{\"objects\":\n[}"}};
		struct cp_taxii_client *c;
		struct cp_taxii_page page;
		SCRIPT(s);
		assert_int_equal(fault_get(&o, &c, &page), CP_EPARSE);
		assert_contains(cp_taxii_client_error(c), "line 2, column 2");
		cp_taxii_client_free(c);
	}
}

static void test_too_big(void **state)
{
	struct cp_taxii_client_opts o = fault_opts();
	const size_t total = 64u << 20;

	(void)state;
	o.max_response_bytes = 64u << 10;
	for (int sized = 0; sized < 2; sized++) {
		struct step s[1] = {{.status = 200, .stream = total, .stream_sized = sized != 0}};
		struct cp_taxii_client *c;
		struct cp_taxii_page page;
		SCRIPT(s);
		assert_int_equal(fault_get(&o, &c, &page), CP_ETOOBIG);
		assert_int_equal(fs_requests(), 1);
		assert_int_equal(cp_taxii_client_attempts(c), 1);
		assert_contains(cp_taxii_client_error(c),
		                "larger than 65536 bytes (max_response_bytes)");
		cp_taxii_client_free(c);
		/* the client hung up early: the server did not get to write it all */
		for (int i = 0, still = 0; i < 200 && still < 5; i++) {
			size_t before = atomic_load(&fs.produced);
			usleep(20000);
			still = atomic_load(&fs.produced) == before ? still + 1 : 0;
		}
		if (atomic_load(&fs.produced) >= total / 8)
			fail_msg("server wrote %zu of %zu bytes", atomic_load(&fs.produced), total);
	}
}

static enum cp_err count_pages(const struct cp_taxii_page *page, void *ctx)
{
	size_t *n = ctx;
	(*n)++;
	(void)page;
	return CP_OK;
}

/* more=true, no next, an X-TAXII-Date-Added-Last: go on with added_after. */
static void test_walk_by_date_added_last(void **state)
{
	static const struct step s[] = {
	        {.status = 200,
	         .body = "{\"more\":true,\"objects\":[{\"id\":\"x--1\"},{\"id\":\"x--2\"}]}",
	         .hdr = {{"X-TAXII-Date-Added-First", "2024-05-01T00:00:00.000000Z"},
	                 {"X-TAXII-Date-Added-Last", "2024-05-01T00:00:00.000001Z"}}},
	        {.status = 200,
	         .body = "{\"more\":false,\"objects\":[{\"id\":\"x--3\"}]}",
	         .hdr = {{"X-TAXII-Date-Added-Last", "2024-05-01T00:00:00.000002Z"}}}};
	struct cp_taxii_client_opts o = fault_opts();
	struct cp_taxii_client *c = new_client(&o);
	char *url = fault_coll();
	struct cp_taxii_page_req req = {.limit = 2, .match_type = "x"};
	size_t pages = 0;
	bool early = true;

	(void)state;
	SCRIPT(s);
	assert_int_equal(cp_taxii_client_walk(c, url, &req, 0, count_pages, &pages, &early), CP_OK);
	assert_int_equal(pages, 2);
	assert_false(early);
	assert_int_equal(fs_requests(), 2);
	assert_string_equal(fs.uris[0],
	                    "/api1/collections/" FAULT_COLL "/objects/?limit=2&match%5Btype%5D=x");
	assert_string_equal(fs.uris[1], "/api1/collections/" FAULT_COLL
	                                "/objects/?added_after=2024-05-01T00%3A00%3A00.000001Z"
	                                "&limit=2&match%5Btype%5D=x");
	cp_taxii_client_free(c);
	free(url);
}

static void test_walk_cannot_continue(void **state)
{
	static const struct step neither[] = {
	        {.status = 200, .body = "{\"more\":true,\"objects\":[{\"id\":\"x--1\"}]}"}};
	static const struct step same_next[] = {
	        {.status = 200,
	         .body = "{\"more\":true,\"next\":\"same\",\"objects\":[{\"id\":\"x--1\"}]}"}};
	static const struct step same_last[] = {
	        {.status = 200,
	         .body = "{\"more\":true,\"objects\":[{\"id\":\"x--1\"}]}",
	         .hdr = {{"X-TAXII-Date-Added-Last", "2024-05-01T00:00:00.000001Z"}}}};
	static const struct step backwards[] = {
	        {.status = 200,
	         .body = "{\"more\":true,\"objects\":[{\"id\":\"x--1\"}]}",
	         .hdr = {{"X-TAXII-Date-Added-Last", "2024-05-01T00:00:00.000001Z"}}},
	        {.status = 200,
	         .body = "{\"more\":true,\"objects\":[{\"id\":\"x--1\"}]}",
	         .hdr = {{"X-TAXII-Date-Added-Last", "2024-04-01T00:00:00Z"}}}};
	struct cp_taxii_client_opts o = fault_opts();
	struct cp_taxii_client *c = new_client(&o);
	char *url = fault_coll();
	size_t pages = 0;
	bool early = false;

	(void)state;
	SCRIPT(neither);
	assert_int_equal(cp_taxii_client_walk(c, url, NULL, 50, count_pages, &pages, &early),
	                 CP_EPARSE);
	assert_int_equal(fs_requests(), 1);
	assert_contains(cp_taxii_client_error(c), "neither next nor X-TAXII-Date-Added-Last");

	SCRIPT(same_next);
	assert_int_equal(cp_taxii_client_walk(c, url, NULL, 50, count_pages, &pages, &early),
	                 CP_EPARSE);
	assert_int_equal(fs_requests(), 2);
	assert_contains(fs.uris[1], "next=same");
	assert_contains(cp_taxii_client_error(c), "same next token");

	SCRIPT(same_last);
	assert_int_equal(cp_taxii_client_walk(c, url, NULL, 50, count_pages, &pages, &early),
	                 CP_EPARSE);
	assert_int_equal(fs_requests(), 2);
	assert_contains(cp_taxii_client_error(c),
	                "X-TAXII-Date-Added-Last 2024-05-01T00:00:00.000001Z");

	SCRIPT(backwards);
	assert_int_equal(cp_taxii_client_walk(c, url, NULL, 50, count_pages, &pages, &early),
	                 CP_EPARSE);
	assert_int_equal(fs_requests(), 2);
	assert_int_equal(pages, 1 + 2 + 2 + 2);
	cp_taxii_client_free(c);
	free(url);
}

static enum cp_err stop_at_two(const struct cp_taxii_page *page, void *ctx)
{
	size_t *n = ctx;
	(void)page;
	return ++*n == 2 ? CP_ECONFLICT : CP_OK;
}

static void test_walk_endless(void **state)
{
	static const struct step s[] = {{.status = 200, .counter_next = true}};
	struct cp_taxii_client_opts o = fault_opts();
	struct cp_taxii_client *c = new_client(&o);
	char *url = fault_coll();
	size_t pages = 0;
	bool early = false;

	(void)state;
	SCRIPT(s);
	assert_int_equal(cp_taxii_client_walk(c, url, NULL, 5, count_pages, &pages, &early), CP_OK);
	assert_true(early);
	assert_int_equal(pages, 5);
	assert_int_equal(fs_requests(), 5);
	assert_string_equal(fs.uris[4], "/api1/collections/" FAULT_COLL "/objects/?next=tok-3");
	/* one kept-alive connection for the whole walk */
	assert_int_not_equal(fs.ports[0], 0);
	for (int i = 1; i < 5; i++)
		assert_int_equal(fs.ports[i], fs.ports[0]);

	/* the page handler stops a walk with its own error */
	SCRIPT(s);
	pages = 0;
	assert_int_equal(cp_taxii_client_walk(c, url, NULL, 0, stop_at_two, &pages, &early),
	                 CP_ECONFLICT);
	assert_int_equal(fs_requests(), 2);
	assert_contains(cp_taxii_client_error(c), "CP_ECONFLICT");
	cp_taxii_client_free(c);
	free(url);
}

static void test_slow_server(void **state)
{
	static const struct step s[] = {{.status = 200, .body = PAGE1, .delay_ms = 3000}};
	struct cp_taxii_client_opts o = fault_opts();
	struct cp_taxii_client *c;
	struct cp_taxii_page page;

	(void)state;
	SCRIPT(s);
	o.timeout_ms = 300;
	o.attempts = 2;
	assert_int_equal(fault_get(&o, &c, &page), CP_EIO);
	assert_int_equal(cp_taxii_client_attempts(c), 2);
	assert_int_equal(fs_requests(), 2);
	assert_contains(cp_taxii_client_error(c), "(curl error 28)"); /* timed out */
	assert_contains(cp_taxii_client_error(c), "after 2 attempts");
	cp_taxii_client_free(c);
	SCRIPT(s); /* let the sleeping handlers go */
}

static void test_retry_after(void **state)
{
	static const struct step zero[] = {{.status = 429,
	                                    .body = "{\"title\":\"Too many requests\"}",
	                                    .hdr = {{"Retry-After", "0"}}},
	                                   {.status = 200, .body = PAGE1}};
	static const struct step long_wait[] = {
	        {.status = 503, .body = ERR500, .hdr = {{"Retry-After", "3600"}}},
	        {.status = 200, .body = PAGE1}};
	static const struct step past_date[] = {
	        {.status = 503,
	         .body = ERR500,
	         .hdr = {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}},
	        {.status = 200, .body = PAGE1}};
	struct cp_taxii_client_opts o = fault_opts();
	struct cp_taxii_client *c;
	struct cp_taxii_page page;

	(void)state;
	/* the jittered backoff would wait up to a minute; Retry-After: 0 says now */
	o.backoff_ms = o.backoff_max_ms = 60000;
	SCRIPT(zero);
	assert_int_equal(fault_get(&o, &c, &page), CP_OK);
	assert_int_equal(cp_taxii_client_attempts(c), 2);
	assert_int_equal(cp_taxii_client_waited_ms(c), 0);
	cp_taxii_page_release(&page);
	cp_taxii_client_free(c);

	SCRIPT(past_date);
	assert_int_equal(fault_get(&o, &c, &page), CP_OK);
	assert_int_equal(cp_taxii_client_attempts(c), 2);
	assert_int_equal(cp_taxii_client_waited_ms(c), 0);
	cp_taxii_page_release(&page);
	cp_taxii_client_free(c);

	/* an hour is capped by backoff_max_ms */
	o.backoff_ms = 1;
	o.backoff_max_ms = 30;
	SCRIPT(long_wait);
	assert_int_equal(fault_get(&o, &c, &page), CP_OK);
	assert_int_equal(cp_taxii_client_waited_ms(c), 30);
	cp_taxii_page_release(&page);
	cp_taxii_client_free(c);
}

/* Without Retry-After each wait is drawn from [0, min(cap, base * 2^n)]. */
static void test_backoff_bounds(void **state)
{
	static const struct step s[] = {{.status = 503, .body = NULL}};
	struct cp_taxii_client_opts o = fault_opts();
	struct cp_taxii_client *c;
	struct cp_taxii_page page;

	(void)state;
	o.attempts = 5;
	o.backoff_ms = 10;
	o.backoff_max_ms = 25;
	SCRIPT(s);
	assert_int_equal(fault_get(&o, &c, &page), CP_EIO);
	assert_int_equal(fs_requests(), 5);
	assert_true(cp_taxii_client_waited_ms(c) <= 10 + 20 + 25 + 25);
	assert_contains(cp_taxii_client_error(c), "HTTP 503 after 5 attempts");
	cp_taxii_client_free(c);
}

/* Client errors are not retried; the TAXII error's text is cut and escaped. */
static void test_client_errors(void **state)
{
	static char big[1024];
	static const struct {
		unsigned status;
		const char *body;
		enum cp_err err;
		const char *why;
	} cases[] = {
	        {400, big, CP_EINVAL, "HTTP 400 (Bad\\x0a\\x01 request: "},
	        {401, "{\"title\":\"Unauthorized\"}", CP_EDENIED, "HTTP 401 (Unauthorized)"},
	        {403, "{\"title\":\"Forbidden\",\"description\":\"no\"}", CP_EDENIED,
	         "HTTP 403 (Forbidden: no)"},
	        {404, "<html>gone</html>", CP_ENOTFOUND,
	         "HTTP 404 (not a TAXII error resource: '<html>gone</html>')"},
	        {406, NULL, CP_EINVAL, "HTTP 406"},
	        {413, "{\"title\":\"Too large\"}", CP_ETOOBIG, "HTTP 413 (Too large)"},
	        {301, NULL, CP_EINVAL, "HTTP 301"},
	};
	struct cp_taxii_client_opts o = fault_opts();
	size_t n;

	(void)state;
	n = (size_t)snprintf(big, sizeof(big),
	                     "{\"title\":\"Bad\\n\\u0001 request\",\"description\":\"");
	memset(big + n, 'd', 500);
	memcpy(big + n + 500, "\"}", 3);
	for (size_t i = 0; i < CP_ARRAY_LEN(cases); i++) {
		struct step s[1] = {{.status = cases[i].status, .body = cases[i].body}};
		struct cp_taxii_client *c;
		struct cp_taxii_page page;
		SCRIPT(s);
		enum cp_err err = fault_get(&o, &c, &page);
		if (err != cases[i].err)
			fail_msg("case %zu: %s: %s", i, cp_err_name(err), cp_taxii_client_error(c));
		assert_int_equal(fs_requests(), 1);
		assert_int_equal(cp_taxii_client_status(c), cases[i].status);
		assert_contains(cp_taxii_client_error(c), cases[i].why);
		for (const char *p = cp_taxii_client_error(c); *p; p++)
			assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
		if (i == 0) {
			/* 200 of the 500 d's, then a mark of the cut */
			const char *d = strstr(cp_taxii_client_error(c), "dddd");
			assert_non_null(d);
			assert_int_equal(strspn(d, "d"), 200);
			assert_string_equal(d + 200, "...)");
		}
		cp_taxii_client_free(c);
	}
}

/* The query, the headers sent, the X-TAXII headers read. */
static void test_query_and_headers(void **state)
{
	static const struct step s[] = {
	        {.status = 200,
	         .body = PAGE1,
	         .hdr = {{"x-taxii-date-added-first", "  2024-01-01T00:00:00.1Z  "},
	                 {"X-TAXII-DATE-ADDED-LAST",
	                  "2024-01-01T00:00:00.100000000000000000000000000000000000000000000Z"}}}};
	struct cp_taxii_client_opts o = fault_opts();
	struct cp_taxii_client *c;
	char *url = fault_coll();
	struct cp_taxii_page_req req = {
	        .added_after = "2024-01-01T00:00:00.123456Z",
	        .next = "a+b/c=&x y",
	        .limit = 7,
	        .match_type = "indicator,malware",
	        .match_id = "indicator--1",
	        .match_version = "all",
	};
	struct cp_taxii_page page;

	(void)state;
	o.token = "cpt_secret-token";
	c = new_client(&o);
	SCRIPT(s);
	assert_int_equal(cp_taxii_client_get_objects(c, url, &req, &page), CP_OK);
	assert_string_equal(
	        fs.uris[0],
	        "/api1/collections/" FAULT_COLL "/objects/"
	        "?added_after=2024-01-01T00%3A00%3A00.123456Z&next=a%2Bb%2Fc%3D%26x%20y"
	        "&limit=7&match%5Btype%5D=indicator%2Cmalware&match%5Bid%5D=indicator--1"
	        "&match%5Bversion%5D=all");
	assert_string_equal(fs.methods[0], "GET");
	assert_string_equal(fs.auth, "Bearer cpt_secret-token");
	assert_string_equal(fs.accept, MT);
	assert_string_equal(page.date_added_first, "2024-01-01T00:00:00.1Z");
	assert_string_equal(page.date_added_last, ""); /* too long: ignored */
	cp_taxii_page_release(&page);

	/* the manifest endpoint, no query at all */
	SCRIPT(s);
	assert_int_equal(cp_taxii_client_get_manifest(c, url, NULL, &page), CP_OK);
	assert_string_equal(fs.uris[0], "/api1/collections/" FAULT_COLL "/manifest/");
	cp_taxii_page_release(&page);
	cp_taxii_client_free(c);
	free(url);
}

#define PENDING                                                                                    \
	"{\"id\":\"st-1\",\"status\":\"pending\",\"total_count\":2,\"success_count\":0,"           \
	"\"failure_count\":0,\"pending_count\":2}"
#define COMPLETE                                                                                   \
	"{\"id\":\"st-1\",\"status\":\"complete\",\"total_count\":2,\"success_count\":2,"          \
	"\"failure_count\":0,\"pending_count\":0}"

static void test_post_pending(void **state)
{
	static const struct step s[] = {{.status = 202, .body = PENDING},
	                                {.status = 200, .body = PENDING},
	                                {.status = 200, .body = COMPLETE}};
	static const struct step forever[] = {{.status = 202, .body = PENDING},
	                                      {.status = 200, .body = PENDING}};
	static const struct step retried[] = {{.status = 503, .body = ERR500},
	                                      {.status = 202, .body = COMPLETE}};
	static const char env[] = "{\"objects\":[{\"type\":\"x\"},{\"type\":\"y\"}]}";
	struct cp_taxii_client_opts o = fault_opts();
	struct cp_taxii_client *c;
	char *url = fault_coll();
	json_t *st = NULL;

	(void)state;
	o.backoff_ms = 5;
	o.backoff_max_ms = 20;
	o.timeout_ms = 2000;
	c = new_client(&o);
	SCRIPT(s);
	assert_int_equal(cp_taxii_client_post(c, url, env, sizeof(env) - 1, &st), CP_OK);
	assert_string_equal(json_string_value(json_object_get(st, "status")), "complete");
	assert_int_equal(json_integer_value(json_object_get(st, "success_count")), 2);
	json_decref(st);
	st = NULL;
	assert_int_equal(fs_requests(), 3);
	assert_string_equal(fs.methods[0], "POST");
	assert_string_equal(fs.uris[0], "/api1/collections/" FAULT_COLL "/objects/");
	assert_int_equal(fs.post_len, sizeof(env) - 1);
	assert_string_equal(fs.methods[1], "GET");
	assert_string_equal(fs.uris[1], "/api1/status/st-1/");
	assert_string_equal(fs.uris[2], "/api1/status/st-1/");

	/* a POST is retried like a GET: TAXII makes a repeated object a success */
	SCRIPT(retried);
	assert_int_equal(cp_taxii_client_post(c, url, env, sizeof(env) - 1, &st), CP_OK);
	assert_int_equal(fs_requests(), 2);
	assert_string_equal(fs.methods[1], "POST");
	json_decref(st);
	st = NULL;
	cp_taxii_client_free(c);

	/* never complete: CP_ETIMEOUT once timeout_ms has passed */
	o.timeout_ms = 300;
	c = new_client(&o);
	SCRIPT(forever);
	assert_int_equal(cp_taxii_client_post(c, url, env, sizeof(env) - 1, &st), CP_ETIMEOUT);
	assert_null(st);
	assert_true(fs_requests() >= 2);
	assert_contains(cp_taxii_client_error(c), "still pending");
	assert_contains(cp_taxii_client_error(c), "/api1/status/st-1/");
	cp_taxii_client_free(c);
	free(url);
}

/* Every allocation that can fail gives CP_ENOMEM and leaks nothing. */
static void test_out_of_memory(void **state)
{
	static const struct step s[] = {
	        {.status = 200,
	         .body = PAGE1,
	         .hdr = {{"X-TAXII-Date-Added-Last", "2024-01-01T00:00:00Z"}}}};
	static const struct step empty[] = {{.status = 200, .body = "{\"more\":false}"}};
	struct cp_taxii_client_opts o = fault_opts();
	struct cp_taxii_client *c = new_client(&o);
	char *url = fault_coll();
	struct cp_taxii_page_req req = {.limit = 3, .match_type = "indicator"};
	bool done = false;

	(void)state;
	for (int round = 0; round < 2; round++) {
		done = false;
		for (unsigned long n = 1; n < 500 && !done; n++) {
			struct cp_taxii_page page;
			unsigned long before = cp_alloc_thread_failures();
			enum cp_err err;
			if (round == 0)
				SCRIPT(s);
			else
				SCRIPT(empty);
			cp_alloc_fail_after(n, false);
			err = cp_taxii_client_get_objects(c, url, &req, &page);
			cp_alloc_fail_after(0, false);
			if (cp_alloc_thread_failures() == before) {
				assert_int_equal(err, CP_OK);
				done = true;
			} else if (err != CP_ENOMEM) {
				fail_msg("allocation %lu failed: %s (%s)", n, cp_err_name(err),
				         cp_taxii_client_error(c));
			}
			if (err == CP_OK)
				cp_taxii_page_release(&page);
		}
		assert_true(done);
	}
	cp_taxii_client_free(c);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_opts_checked),
	        cmocka_unit_test(test_discovery_and_collections),
	        cmocka_unit_test(test_post_and_pages),
	        cmocka_unit_test(test_walk_2500),
	        cmocka_unit_test(test_mtls),
	        cmocka_unit_test(test_wrong_password),
	        cmocka_unit_test(test_unknown_collection),
	        cmocka_unit_test(test_bad_urls_and_ca),
	        cmocka_unit_test(test_retry_500_then_ok),
	        cmocka_unit_test(test_always_500),
	        cmocka_unit_test(test_malformed_envelopes),
	        cmocka_unit_test(test_too_big),
	        cmocka_unit_test(test_walk_by_date_added_last),
	        cmocka_unit_test(test_walk_cannot_continue),
	        cmocka_unit_test(test_walk_endless),
	        cmocka_unit_test(test_slow_server),
	        cmocka_unit_test(test_retry_after),
	        cmocka_unit_test(test_backoff_bounds),
	        cmocka_unit_test(test_client_errors),
	        cmocka_unit_test(test_query_and_headers),
	        cmocka_unit_test(test_post_pending),
	        cmocka_unit_test(test_out_of_memory),
	        /* last: it kills the node */
	        cmocka_unit_test(test_node_killed),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
