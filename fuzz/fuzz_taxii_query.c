/*
 * Fuzz target: TAXII query strings (filters, paging tokens) through the real server
 * core and a real SQLite store holding a few objects. Input: a raw query string
 * ("limit=2&match%5Btype%5D=indicator&next=..."). Properties: no crash or leak; the
 * answer is 200 or a 400/404 TAXII error; the body is always JSON; a 200 envelope has
 * "more", and "next" exactly when more is true.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cyberpact/stix.h"
#include "cyberpact/taxii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define COLL "91a7b528-80eb-42ed-a74d-c6fbd5a26116"

static struct cp_config cfg;
static struct cp_config_api_root root;
static struct cp_config_collection coll = {(char *)COLL, (char *)"c", NULL, (char *)"c"};
static char *star[1] = {(char *)"*"};
static struct cp_config_account account = {(char *)"a", NULL, NULL, star, 1, star, 1};
static struct cp_taxii_server *srv;
static char dir[] = "/tmp/cp-fuzz-taxii-XXXXXX";

/* the store lives for the whole process; remove it when the process ends */
static void cleanup(void)
{
	static const char *const names[] = {"store.db", "store.db-wal", "store.db-shm"};
	char path[96];

	cp_taxii_server_free(srv);
	srv = NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void setup(void)
{
	char path[64];
	struct cp_taxii_request req;
	struct cp_taxii_response resp;
	static const char body[] =
		"{\"objects\":["
		"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
		"\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\","
		"\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\"},"
		"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
		"\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2017-04-06T20:03:48.000Z\","
		"\"pattern\":\"[ipv4-addr:value = '10.0.0.2']\",\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\"},"
		"{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\",\"value\":\"198.51.100.3\"},"
		"{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--311b2d2d-f010-4473-83ec-1edf84858f4c\","
		"\"created\":\"2015-12-21T19:59:11.000Z\",\"modified\":\"2015-12-21T19:59:11.000Z\",\"name\":\"x\"}]}";

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/store.db", dir);
	root = (struct cp_config_api_root){(char *)"api1", (char *)"r", NULL, &coll, 1};
	cfg.title = (char *)"fuzz";
	cfg.max_content_length = 1 << 20;
	cfg.page_size = 3;
	cfg.api_roots = &root;
	cfg.api_root_count = 1;
	cfg.accounts = &account;
	cfg.account_count = 1;
	if (cp_taxii_server_new(&cfg, path, &srv, NULL) != CP_OK)
		abort();
	atexit(cleanup);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/api1/collections/" COLL "/objects/";
	req.content_type = CP_TAXII_MEDIA_TYPE;
	req.body = body;
	req.body_len = sizeof(body) - 1;
	req.account = &account;
	cp_taxii_handle(srv, &req, &resp);
	if (resp.status != 202)
		abort();
	cp_taxii_response_release(&resp);
}

static int hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* Percent-decode in place ('+' is a space), as the HTTP layer does. */
static void decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '%' && hexv(s[1]) >= 0 && hexv(s[2]) >= 0) {
			*o++ = (char)(hexv(s[1]) * 16 + hexv(s[2]));
			s += 2;
		} else {
			*o++ = *s == '+' ? ' ' : *s;
		}
	}
	*o = '\0';
}

static void check(const char *path, const struct cp_taxii_param *params, size_t n)
{
	struct cp_taxii_request req;
	struct cp_taxii_response resp;
	json_t *j;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = path;
	req.params = params;
	req.param_count = n;
	req.account = &account;
	cp_taxii_handle(srv, &req, &resp);
	if (resp.status != 200 && resp.status != 400 && resp.status != 404)
		abort();
	j = json_loadb(resp.body, resp.body_len, 0, NULL);
	if (!j)
		abort();
	if (resp.status == 200 && strstr(path, "/objects/") && !strstr(path, "versions")) {
		json_t *more = json_object_get(j, "more");
		if (!json_is_boolean(more))
			abort();
		if (json_is_true(more) != (json_object_get(j, "next") != NULL))
			abort();
	}
	json_decref(j);
	cp_taxii_response_release(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_taxii_param params[32];
	size_t n = 0;
	char *q, *save = NULL, *tok;

	if (!srv)
		setup();
	if (size > 4096 || memchr(data, '\0', size))
		return 0;
	q = malloc(size + 1);
	memcpy(q, data, size);
	q[size] = '\0';
	for (tok = strtok_r(q, "&", &save); tok && n < 32; tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq = '\0';
		decode(tok);
		if (eq)
			decode(eq + 1);
		params[n].key = tok;
		params[n].value = eq ? eq + 1 : NULL;
		n++;
	}
	check("/api1/collections/" COLL "/objects/", params, n);
	check("/api1/collections/" COLL "/manifest/", params, n);
	check("/api1/collections/" COLL "/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/",
	      params, n);
	check("/api1/collections/" COLL
	      "/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/versions/",
	      params, n);
	free(q);
	return 0;
}
