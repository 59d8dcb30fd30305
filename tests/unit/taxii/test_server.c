/* The TAXII 2.1 core (lib/taxii) without HTTP: requests in, responses out. */
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "testutil.h"
#include "storetest.h"
#include "cyberpact/taxii.h"

#define COLL "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
#define COLL_RO "52892447-4d7e-4f70-b94d-d7f22742ff63"
#define COLL_HIDDEN "2ac7e8a4-1b7c-4d6e-9f1a-5b3c2d4e6f70"
#define BASE "/api1/collections/" COLL "/"

struct fixture {
	char dir[64], path[128];
	struct cp_config cfg;
	struct cp_config_api_root root;
	struct cp_config_collection colls[3];
	struct cp_config_account accounts[2];
	char *star[1], *coll_names[2], *ro_names[1];
	struct cp_taxii_server *srv;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cp-taxii-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	fx->colls[0] = (struct cp_config_collection){(char *)COLL, (char *)"Indicators", NULL,
						     (char *)"indicators"};
	fx->colls[1] = (struct cp_config_collection){(char *)COLL_RO, (char *)"Read only", NULL,
						     NULL};
	fx->colls[2] = (struct cp_config_collection){(char *)COLL_HIDDEN, (char *)"Hidden", NULL,
						     NULL};
	fx->root = (struct cp_config_api_root){(char *)"api1", (char *)"API 1", NULL, fx->colls, 3};
	fx->star[0] = (char *)"*";
	fx->coll_names[0] = (char *)"indicators";
	fx->coll_names[1] = (char *)COLL_RO;
	fx->ro_names[0] = (char *)"indicators";
	/* analyst: reads indicators + read-only, writes indicators */
	fx->accounts[0] = (struct cp_config_account){(char *)"analyst", NULL, NULL, fx->coll_names,
						     2, fx->ro_names, 1};
	/* reader: reads indicators only */
	fx->accounts[1] = (struct cp_config_account){(char *)"reader", NULL, NULL, fx->ro_names, 1,
						     NULL, 0};
	fx->cfg.title = (char *)"test node";
	fx->cfg.max_content_length = 1 << 20;
	fx->cfg.page_size = 100;
	fx->cfg.api_roots = &fx->root;
	fx->cfg.api_root_count = 1;
	fx->cfg.accounts = fx->accounts;
	fx->cfg.account_count = 2;
	assert_int_equal(cp_taxii_server_new(&fx->cfg, fx->path, &fx->srv, NULL), CP_OK);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char p[160];

	cp_taxii_server_free(fx->srv);
	unlink(fx->path);
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fx->path);
	unlink(p);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Run a request; returns the parsed JSON body (caller decrefs) and the status. */
static json_t *call(struct fixture *fx, const char *method, const char *path,
		    const struct cp_config_account *acct, const struct cp_taxii_param *params,
		    size_t nparams, const char *body, unsigned *status,
		    struct cp_taxii_response *keep)
{
	struct cp_taxii_request req;
	struct cp_taxii_response resp;
	json_t *j;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.params = params;
	req.param_count = nparams;
	req.account = acct;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.content_type = body ? CP_TAXII_MEDIA_TYPE : NULL;
	req.accept = "application/taxii+json;version=2.1";
	cp_taxii_handle(fx->srv, &req, &resp);
	*status = resp.status;
	assert_string_equal(resp.content_type, CP_TAXII_MEDIA_TYPE);
	j = json_loadb(resp.body, resp.body_len, 0, NULL);
	if (!j)
		fail_msg("response is not JSON: %.*s", (int)resp.body_len, resp.body);
	if (keep)
		*keep = resp;
	else
		cp_taxii_response_release(&resp);
	return j;
}

static void expect_error(struct fixture *fx, const char *method, const char *path,
			 const struct cp_config_account *acct, const struct cp_taxii_param *params,
			 size_t n, const char *body, unsigned want)
{
	unsigned st;
	json_t *j = call(fx, method, path, acct, params, n, body, &st, NULL);
	char want_s[8];

	if (st != want)
		fail_msg("%s %s: status %u, expected %u: %s", method, path, st, want,
			 json_string_value(json_object_get(j, "description")));
	snprintf(want_s, sizeof(want_s), "%u", want);
	assert_true(json_is_string(json_object_get(j, "title")));
	assert_string_equal(json_string_value(json_object_get(j, "http_status")), want_s);
	json_decref(j);
}

static char *indicator(int n, int v)
{
	char *s = malloc(600);
	snprintf(s, 600,
		 "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
		 "\"id\":\"indicator--%08x-0000-4000-8000-000000000000\","
		 "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:%02d.000Z\","
		 "\"pattern\":\"[ipv4-addr:value = '10.0.0.%d']\",\"pattern_type\":\"stix\","
		 "\"valid_from\":\"2020-01-01T00:00:00Z\"}",
		 n, v, n % 256);
	return s;
}

/* POST an envelope of the given objects (JSON texts joined with ','). */
static json_t *post(struct fixture *fx, const char *objects, unsigned *st)
{
	size_t len = strlen(objects) + 32;
	char *body = malloc(len);
	json_t *j;
	snprintf(body, len, "{\"objects\":[%s]}", objects);
	j = call(fx, "POST", BASE "objects/", &fx->accounts[0], NULL, 0, body, st, NULL);
	free(body);
	return j;
}

static size_t count(const json_t *j, const char *key)
{
	return json_array_size(json_object_get(j, key));
}

/* The status resource named in a POST's answer j reads back equal to j; its URL in path. */
static void expect_status(struct fixture *fx, const json_t *j, char *path, size_t size)
{
	unsigned st;
	json_t *s;

	snprintf(path, size, "/api1/status/%s/", json_string_value(json_object_get(j, "id")));
	s = call(fx, "GET", path, &fx->accounts[0], NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 200);
	assert_true(json_equal(s, j));
	json_decref(s);
}

static void discovery_and_root(void **state)
{
	struct fixture *fx = *state;
	unsigned st;
	json_t *j = call(fx, "GET", "/taxii2/", &fx->accounts[0], NULL, 0, NULL, &st, NULL);

	assert_int_equal(st, 200);
	assert_string_equal(json_string_value(json_object_get(j, "title")), "test node");
	assert_string_equal(json_string_value(json_object_get(j, "default")), "/api1/");
	assert_int_equal(count(j, "api_roots"), 1);
	json_decref(j);
	j = call(fx, "GET", "/api1/", &fx->accounts[0], NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 200);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "versions"), 0)),
			    CP_TAXII_MEDIA_TYPE);
	assert_int_equal(json_integer_value(json_object_get(j, "max_content_length")), 1 << 20);
	json_decref(j);
}

static void errors(void **state)
{
	struct fixture *fx = *state;
	struct cp_taxii_request req;
	struct cp_taxii_response resp;
	const struct cp_taxii_param bad_limit = {"limit", "0"};
	const struct cp_taxii_param bad_after = {"added_after", "yesterday"};
	const struct cp_taxii_param bad_version = {"match[version]", "newest"};
	const struct cp_taxii_param bad_filter = {"match[colour]", "red"};
	const struct cp_taxii_param type_on_versions = {"match[type]", "indicator"};
	const struct cp_taxii_param bad_next = {"next", "nonsense"};

	/* anonymous */
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = "/taxii2/";
	cp_taxii_handle(fx->srv, &req, &resp);
	assert_int_equal(resp.status, 401);
	assert_true(resp.www_authenticate);
	cp_taxii_response_release(&resp);

	expect_error(fx, "GET", "/api2/", &fx->accounts[0], NULL, 0, NULL, 404);
	expect_error(fx, "GET", "/api1/nothing/", &fx->accounts[0], NULL, 0, NULL, 404);
	expect_error(fx, "GET", "/api1/collections/nope/", &fx->accounts[0], NULL, 0, NULL, 404);
	expect_error(fx, "GET", "/api1/collections", &fx->accounts[0], NULL, 0, NULL, 404);
	/* a collection the account may not see does not exist for it */
	expect_error(fx, "GET", "/api1/collections/" COLL_HIDDEN "/", &fx->accounts[0], NULL, 0,
		     NULL, 404);
	/* read-only account cannot write; reader cannot read COLL_RO */
	expect_error(fx, "POST", BASE "objects/", &fx->accounts[1], NULL, 0, "{\"objects\":[]}",
		     403);
	expect_error(fx, "GET", "/api1/collections/" COLL_RO "/objects/", &fx->accounts[1], NULL,
		     0, NULL, 404);
	expect_error(fx, "POST", "/api1/collections/" COLL_RO "/objects/", &fx->accounts[0], NULL,
		     0, "{\"objects\":[]}", 403);
	expect_error(fx, "PUT", BASE "objects/", &fx->accounts[0], NULL, 0, NULL, 405);
	expect_error(fx, "POST", BASE, &fx->accounts[0], NULL, 0, "{}", 405);
	expect_error(fx, "GET", BASE "objects/", &fx->accounts[0], &bad_limit, 1, NULL, 400);
	expect_error(fx, "GET", BASE "objects/", &fx->accounts[0], &bad_after, 1, NULL, 400);
	expect_error(fx, "GET", BASE "objects/", &fx->accounts[0], &bad_version, 1, NULL, 400);
	expect_error(fx, "GET", BASE "objects/", &fx->accounts[0], &bad_filter, 1, NULL, 400);
	expect_error(fx, "GET", BASE "objects/", &fx->accounts[0], &bad_next, 1, NULL, 400);
	expect_error(fx, "GET", BASE "objects/indicator--00000001-0000-4000-8000-000000000000/versions/",
		     &fx->accounts[0], &type_on_versions, 1, NULL, 400);
	expect_error(fx, "POST", BASE "objects/", &fx->accounts[0], NULL, 0, "{\"objects\":", 400);
	expect_error(fx, "POST", BASE "objects/", &fx->accounts[0], NULL, 0, "[1,2]", 422);
	expect_error(fx, "POST", BASE "objects/", &fx->accounts[0], NULL, 0, "{\"objects\":{}}",
		     422);
	expect_error(fx, "GET", BASE "objects/indicator--00000001-0000-4000-8000-000000000000/",
		     &fx->accounts[0], NULL, 0, NULL, 404);
	expect_error(fx, "GET", "/api1/status/unknown/", &fx->accounts[0], NULL, 0, NULL, 404);

	/* media types */
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = "/taxii2/";
	req.account = &fx->accounts[0];
	req.accept = "text/html";
	cp_taxii_handle(fx->srv, &req, &resp);
	assert_int_equal(resp.status, 406);
	cp_taxii_response_release(&resp);
	req.accept = "application/taxii+json";
	cp_taxii_handle(fx->srv, &req, &resp);
	assert_int_equal(resp.status, 200);
	cp_taxii_response_release(&resp);
	req.accept = "application/taxii+json;version=2.0";
	cp_taxii_handle(fx->srv, &req, &resp);
	assert_int_equal(resp.status, 406);
	cp_taxii_response_release(&resp);
	req.accept = "text/plain, application/taxii+json; version=2.1";
	cp_taxii_handle(fx->srv, &req, &resp);
	assert_int_equal(resp.status, 200);
	cp_taxii_response_release(&resp);
	req.method = "POST";
	req.path = BASE "objects/";
	req.accept = NULL;
	req.content_type = "application/json";
	req.body = "{\"objects\":[]}";
	req.body_len = strlen(req.body);
	cp_taxii_handle(fx->srv, &req, &resp);
	assert_int_equal(resp.status, 415);
	cp_taxii_response_release(&resp);
}

static void collections_listing(void **state)
{
	struct fixture *fx = *state;
	unsigned st;
	json_t *j = call(fx, "GET", "/api1/collections/", &fx->accounts[0], NULL, 0, NULL, &st, NULL);
	json_t *cs = json_object_get(j, "collections");

	assert_int_equal(st, 200);
	assert_int_equal(json_array_size(cs), 2); /* the hidden one is not listed */
	for (size_t i = 0; i < 2; i++) {
		json_t *c = json_array_get(cs, i);
		const char *id = json_string_value(json_object_get(c, "id"));
		assert_true(json_is_true(json_object_get(c, "can_read")));
		assert_int_equal(json_is_true(json_object_get(c, "can_write")),
				 strcmp(id, COLL) == 0);
		assert_string_equal(json_string_value(json_array_get(json_object_get(c, "media_types"), 0)),
				    CP_STIX_MEDIA_TYPE);
	}
	json_decref(j);
	/* by alias */
	j = call(fx, "GET", "/api1/collections/indicators/", &fx->accounts[1], NULL, 0, NULL, &st,
		 NULL);
	assert_int_equal(st, 200);
	assert_string_equal(json_string_value(json_object_get(j, "id")), COLL);
	assert_true(json_is_false(json_object_get(j, "can_write")));
	json_decref(j);
}

static void post_and_status(void **state)
{
	struct fixture *fx = *state;
	unsigned st;
	char *a = indicator(1, 1), *b = indicator(2, 1);
	char objs[4096], path[128];
	json_t *j, *s;

	snprintf(objs, sizeof(objs),
		 "%s,%s,{\"type\":\"indicator\",\"id\":\"indicator--bad\"},42,"
		 "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
		 "\"id\":\"indicator--00000009-0000-4000-8000-000000000000\","
		 "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\","
		 "\"pattern\":\"[ipv4-addr:value = \",\"pattern_type\":\"stix\","
		 "\"valid_from\":\"2020-01-01T00:00:00Z\"}",
		 a, b);
	j = post(fx, objs, &st);
	assert_int_equal(st, 202);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "complete");
	assert_int_equal(json_integer_value(json_object_get(j, "total_count")), 5);
	assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "failure_count")), 3);
	assert_int_equal(json_integer_value(json_object_get(j, "pending_count")), 0);
	assert_int_equal(count(j, "successes"), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "successes"), 0), "version")),
			    "2020-01-01T00:00:01.000Z");
	/* the failure names the validator's finding */
	{
		json_t *f = json_array_get(json_object_get(j, "failures"), 2);
		assert_non_null(strstr(json_string_value(json_object_get(f, "message")), "/pattern"));
		assert_non_null(strstr(json_string_value(json_object_get(f, "message")), "pattern-syntax"));
	}
	/* the status resource, with and without the trailing slash */
	expect_status(fx, j, path, sizeof(path));
	path[strlen(path) - 1] = '\0';
	s = call(fx, "GET", path, &fx->accounts[0], NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 200);
	json_decref(s);
	json_decref(j);

	/* resubmitting is a success; the same version with other content is a failure */
	j = post(fx, a, &st);
	assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 1);
	json_decref(j);
	a[strlen(a) - 1] = '\0';
	{
		char changed[1024];
		snprintf(changed, sizeof(changed), "%s,\"name\":\"changed\"}", a);
		j = post(fx, changed, &st);
		assert_int_equal(json_integer_value(json_object_get(j, "failure_count")), 1);
		json_decref(j);
	}
	/* an empty envelope */
	j = post(fx, "", &st);
	assert_int_equal(st, 202);
	assert_int_equal(json_integer_value(json_object_get(j, "total_count")), 0);
	json_decref(j);
	free(a);
	free(b);
}

static void paging_and_filters(void **state)
{
	struct fixture *fx = *state;
	struct cp_taxii_param p[3];
	struct cp_taxii_response keep;
	unsigned st;
	size_t seen = 0;
	char next[128] = "";
	json_t *j;

	for (int i = 1; i <= 25; i++) {
		char *o = indicator(i, 1);
		json_decref(post(fx, o, &st));
		free(o);
	}
	{
		char *o = indicator(3, 7); /* a newer version of object 3 */
		json_decref(post(fx, o, &st));
		free(o);
	}
	for (;;) {
		size_t np = 0;
		p[np++] = (struct cp_taxii_param){"limit", "10"};
		if (next[0])
			p[np++] = (struct cp_taxii_param){"next", next};
		j = call(fx, "GET", BASE "objects/", &fx->accounts[0], p, np, NULL, &st, &keep);
		assert_int_equal(st, 200);
		seen += count(j, "objects");
		assert_true(count(j, "objects") <= 10);
		assert_true(keep.date_added_first[0] && keep.date_added_last[0]);
		cp_taxii_response_release(&keep);
		if (!json_is_true(json_object_get(j, "more"))) {
			assert_null(json_object_get(j, "next"));
			json_decref(j);
			break;
		}
		snprintf(next, sizeof(next), "%s", json_string_value(json_object_get(j, "next")));
		json_decref(j);
	}
	assert_int_equal(seen, 25); /* last versions only */

	p[0] = (struct cp_taxii_param){"match[version]", "all"};
	j = call(fx, "GET", BASE "objects/", &fx->accounts[0], p, 1, NULL, &st, NULL);
	assert_int_equal(count(j, "objects"), 26);
	json_decref(j);
	p[0] = (struct cp_taxii_param){"match[id]",
				       "indicator--00000003-0000-4000-8000-000000000000,"
				       "indicator--00000004-0000-4000-8000-000000000000"};
	p[1] = (struct cp_taxii_param){"match[version]", "first,last"};
	j = call(fx, "GET", BASE "objects/", &fx->accounts[0], p, 2, NULL, &st, NULL);
	assert_int_equal(count(j, "objects"), 3);
	json_decref(j);
	p[0] = (struct cp_taxii_param){"match[type]", "malware"};
	j = call(fx, "GET", BASE "objects/", &fx->accounts[0], p, 1, NULL, &st, NULL);
	assert_int_equal(st, 200);
	assert_null(json_object_get(j, "objects")); /* empty lists are omitted */
	assert_true(json_is_false(json_object_get(j, "more")));
	json_decref(j);

	/* one object, its versions, the manifest */
	j = call(fx, "GET", BASE "objects/indicator--00000003-0000-4000-8000-000000000000/",
		 &fx->accounts[0], NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 200);
	assert_int_equal(count(j, "objects"), 1);
	json_decref(j);
	j = call(fx, "GET", BASE "objects/indicator--00000003-0000-4000-8000-000000000000/versions/",
		 &fx->accounts[0], NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 200);
	assert_int_equal(count(j, "versions"), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "versions"), 1)),
			    "2020-01-01T00:00:07.000Z");
	json_decref(j);
	p[0] = (struct cp_taxii_param){"limit", "5"};
	j = call(fx, "GET", BASE "manifest/", &fx->accounts[0], p, 1, NULL, &st, NULL);
	assert_int_equal(st, 200);
	assert_int_equal(count(j, "objects"), 5);
	{
		json_t *m = json_array_get(json_object_get(j, "objects"), 0);
		assert_true(json_is_string(json_object_get(m, "date_added")));
		assert_string_equal(json_string_value(json_object_get(m, "media_type")),
				    "application/stix+json;version=2.1");
	}
	json_decref(j);

	/* delete one version, then the object */
	p[0] = (struct cp_taxii_param){"match[version]", "2020-01-01T00:00:07.000Z"};
	j = call(fx, "DELETE", BASE "objects/indicator--00000003-0000-4000-8000-000000000000/",
		 &fx->accounts[0], p, 1, NULL, &st, NULL);
	assert_int_equal(st, 200);
	json_decref(j);
	j = call(fx, "GET", BASE "objects/indicator--00000003-0000-4000-8000-000000000000/versions/",
		 &fx->accounts[0], NULL, 0, NULL, &st, NULL);
	assert_int_equal(count(j, "versions"), 1);
	json_decref(j);
	expect_error(fx, "DELETE", BASE "objects/indicator--00000003-0000-4000-8000-000000000000/",
		     &fx->accounts[1], NULL, 0, NULL, 403);
}

/* Objects are stored as sent (member order kept), with the white space between
 * tokens removed and the white space inside strings kept. */
static void stored_as_sent(void **state)
{
	struct fixture *fx = *state;
	struct cp_taxii_response resp;
	unsigned st;
	const char *sent =
		"{\n  \"objects\" : [\n    { \"valid_from\" : \"2020-01-01T00:00:00Z\",\n"
		"      \"type\":\"indicator\", \"spec_version\" : \"2.1\",\n"
		"      \"id\" : \"indicator--0000000c-0000-4000-8000-000000000000\",\n"
		"      \"created\":\"2020-01-01T00:00:00.000Z\",\t\"modified\":\"2020-01-01T00:00:00.000Z\",\n"
		"      \"name\" : \"  two  spaces \\\" and a quote \\u00e9\",\n"
		"      \"pattern\":\"[ipv4-addr:value = '10.0.0.12']\", \"pattern_type\":\"stix\" }\n"
		"  ]\n}\n";
	const char *want =
		"{\"valid_from\":\"2020-01-01T00:00:00Z\",\"type\":\"indicator\",\"spec_version\":\"2.1\","
		"\"id\":\"indicator--0000000c-0000-4000-8000-000000000000\","
		"\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\","
		"\"name\":\"  two  spaces \\\" and a quote \\u00e9\","
		"\"pattern\":\"[ipv4-addr:value = '10.0.0.12']\",\"pattern_type\":\"stix\"}";
	json_t *j;

	j = call(fx, "POST", BASE "objects/", &fx->accounts[0], NULL, 0, sent, &st, NULL);
	assert_int_equal(st, 202);
	assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 1);
	json_decref(j);
	j = call(fx, "GET", BASE "objects/indicator--0000000c-0000-4000-8000-000000000000/",
		 &fx->accounts[0], NULL, 0, NULL, &st, &resp);
	assert_int_equal(st, 200);
	/* the page is {"objects":[<stored text>],"more":false} */
	assert_non_null(strstr(resp.body, want));
	cp_taxii_response_release(&resp);
	json_decref(j);
	/* the same object sent again, compact and in another member order: the same version */
	j = call(fx, "POST", BASE "objects/", &fx->accounts[0], NULL, 0,
		 "{\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\","
		 "\"id\":\"indicator--0000000c-0000-4000-8000-000000000000\","
		 "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\","
		 "\"name\":\"  two  spaces \\\" and a quote \\u00e9\","
		 "\"pattern\":\"[ipv4-addr:value = '10.0.0.12']\",\"pattern_type\":\"stix\","
		 "\"valid_from\":\"2020-01-01T00:00:00Z\"}]}",
		 &st, NULL);
	assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 1);
	assert_non_null(strstr(json_string_value(json_object_get(
				       json_array_get(json_object_get(j, "successes"), 0), "message")),
			       "already stored"));
	json_decref(j);
}

/* ------------------------------------------------------------ group commit */

struct poster {
	struct fixture *fx;
	const struct cp_config_account *acct;
	const char *path;
	char *body;
	pthread_t t;
	struct cp_taxii_response resp;
};

static void *poster_run(void *arg)
{
	struct poster *p = arg;
	struct cp_taxii_request req;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = p->path;
	req.account = p->acct;
	req.body = p->body;
	req.body_len = strlen(p->body);
	req.content_type = CP_TAXII_MEDIA_TYPE;
	req.accept = CP_TAXII_MEDIA_TYPE;
	cp_taxii_handle(p->fx->srv, &req, &p->resp);
	return NULL;
}

/* an envelope of n indicators numbered from first, plus extra object texts */
static char *envelope(int first, int n, const char *extra)
{
	struct cp_buf b = CP_BUF_INIT(0);
	cp_buf_puts(&b, "{\"objects\":[");
	for (int i = 0; i < n; i++) {
		char *o = indicator(first + i, 0);
		if (i)
			cp_buf_putc(&b, ',');
		cp_buf_puts(&b, o);
		free(o);
	}
	if (extra) {
		cp_buf_putc(&b, ',');
		cp_buf_puts(&b, extra);
	}
	cp_buf_puts(&b, "]}");
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	return cp_buf_take(&b);
}

/* wait until `waiting` POSTs wait for their write (they queue behind the lock) */
static void wait_for_writers(struct fixture *fx, unsigned long waiting)
{
	struct cp_taxii_write_stats ws;
	for (int i = 0; i < 2000; i++) {
		cp_taxii_server_write_stats(fx->srv, &ws);
		if (ws.waiting == waiting)
			return;
		usleep(5000);
	}
	fail_msg("%lu POSTs waiting for their write, expected %lu", ws.waiting, waiting);
}

static json_t *poster_answer(struct poster *p, unsigned want)
{
	json_t *j;
	pthread_join(p->t, NULL);
	assert_int_equal(p->resp.status, want);
	j = json_loadb(p->resp.body, p->resp.body_len, 0, NULL);
	assert_non_null(j);
	cp_taxii_response_release(&p->resp);
	free(p->body);
	return j;
}

/*
 * A large envelope posted alone is validated by two threads (on a machine with two
 * CPUs): its status still lists successes and failures in the envelope's order, with
 * failures from both halves, and a version repeated across the halves is stored once.
 */
static void large_envelope_in_order(void **state)
{
	struct fixture *fx = *state;
	enum { N = 600 };
	static const int bad[] = {5, 299, 300, 599};
	struct cp_taxii_write_stats before, after;
	struct cp_buf b = CP_BUF_INIT(0);
	json_t *j, *fails, *oks;
	unsigned st;
	size_t k = 0;

	for (int i = 0; i < N; i++) {
		char *o = indicator(2000 + (i == 450 ? 100 : i), 0); /* 450 repeats 100 */
		if (i)
			cp_buf_putc(&b, ',');
		if (k < sizeof(bad) / sizeof(bad[0]) && bad[k] == i) {
			cp_buf_printf(&b, "{\"type\":\"indicator\",\"id\":\"indicator--bad-%d\"}", i);
			k++;
		} else {
			cp_buf_puts(&b, o);
		}
		free(o);
	}
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	cp_taxii_server_write_stats(fx->srv, &before);
	j = post(fx, b.ptr, &st);
	cp_taxii_server_write_stats(fx->srv, &after);
	assert_int_equal(st, 202);
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
		assert_int_equal(after.split, before.split + 1);
	assert_int_equal(json_integer_value(json_object_get(j, "success_count")), N - 4);
	fails = json_object_get(j, "failures");
	assert_int_equal(json_array_size(fails), 4);
	for (size_t i = 0; i < 4; i++) {
		char want[64];
		snprintf(want, sizeof(want), "indicator--bad-%d", bad[i]);
		assert_string_equal(json_string_value(json_object_get(json_array_get(fails, i), "id")),
				    want);
	}
	/* successes in envelope order: the first is object 0, the last object 598 */
	oks = json_object_get(j, "successes");
	assert_string_equal(json_string_value(json_object_get(json_array_get(oks, 0), "id")),
			    "indicator--000007d0-0000-4000-8000-000000000000"); /* 2000 */
	assert_string_equal(json_string_value(json_object_get(json_array_get(oks, N - 5), "id")),
			    "indicator--00000a26-0000-4000-8000-000000000000"); /* 2598 */
	json_decref(j);
	cp_buf_release(&b);
}

/*
 * POSTs that queue behind a writer are stored together in one transaction, and each
 * gets the answer it would get alone: its own successes, failures, "already stored"
 * (for a version an earlier POST of the same group added), conflicts, and a status
 * resource of its own.
 */
static void group_commit(void **state)
{
	struct fixture *fx = *state;
	pthread_mutex_t *wl = cp_taxii_server_write_lock(fx->srv);
	struct cp_taxii_write_stats ws;
	struct poster p[6];
	char *conflict = indicator(900, 0), *dup = indicator(901, 0);
	char extra[1400];
	unsigned st;
	json_t *j;

	/* indicator 900 is stored first; later a different text for its version conflicts */
	j = post(fx, conflict, &st);
	assert_int_equal(st, 202);
	json_decref(j);
	conflict[strlen(conflict) - 1] = '\0';
	snprintf(extra, sizeof(extra), "%s,\"name\":\"changed\"}", conflict);

	pthread_mutex_lock(wl);
	for (int i = 0; i < 6; i++) {
		const char *more = NULL;
		char both[1400];
		if (i == 1 || i == 2)
			more = dup; /* the same new version in two POSTs of one group */
		if (i == 3)
			more = extra;
		if (i == 4) {
			snprintf(both, sizeof(both), "%s,{\"type\":\"indicator\"}", dup);
			more = both;
		}
		p[i] = (struct poster){.fx = fx, .acct = &fx->accounts[0],
				       .path = BASE "objects/",
				       .body = envelope(1000 + 10 * i, 10, more)};
		assert_int_equal(pthread_create(&p[i].t, NULL, poster_run, &p[i]), 0);
		/* the first becomes the leader and waits for the lock; the rest queue */
		wait_for_writers(fx, (unsigned long)i + 1);
	}
	pthread_mutex_unlock(wl);
	for (int i = 0; i < 6; i++) {
		size_t ok = 10 + (i == 1 || i == 2 || i == 4), bad = (i == 3 || i == 4);
		char path[160];

		j = poster_answer(&p[i], 202);
		assert_int_equal(json_integer_value(json_object_get(j, "success_count")), ok);
		assert_int_equal(json_integer_value(json_object_get(j, "failure_count")), bad);
		assert_int_equal(json_integer_value(json_object_get(j, "total_count")), ok + bad);
		if (i == 2 || i == 4) /* 901 was added by POST 1, earlier in the group */
			assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(j, "successes"), 10), "message")),
				"already stored");
		if (i == 3)
			assert_non_null(strstr(json_string_value(json_object_get(
				json_array_get(json_object_get(j, "failures"), 0), "message")),
				"already stored"));
		/* its own status resource, committed with its objects */
		expect_status(fx, j, path, sizeof(path));
		json_decref(j);
	}
	cp_taxii_server_write_stats(fx->srv, &ws);
	assert_int_equal(ws.waiting, 0);
	assert_int_equal(ws.posts, 7);
	/* the first POST, then its leader alone, then the five that queued: together */
	assert_int_equal(ws.commits, 3);
	/* every object once: 60 + 900 + 901 */
	{
		struct cp_taxii_param lim = {"limit", "1000"};
		j = call(fx, "GET", BASE "objects/", &fx->accounts[0], &lim, 1, NULL, &st, NULL);
		assert_int_equal(count(j, "objects"), 62);
		json_decref(j);
	}
	free(conflict);
	free(dup);
}

/*
 * A POST whose write fails inside a group fails alone: the group is rolled back and
 * each of its POSTs is written again in a transaction of its own.
 */
static void group_commit_failure(void **state)
{
	struct fixture *fx = *state;
	pthread_mutex_t *wl = cp_taxii_server_write_lock(fx->srv);
	const struct cp_config_account *writer = &fx->accounts[0];
	struct poster p[3];
	sqlite3 *db;
	unsigned st;
	json_t *j;

	/* the store refuses indicators 0x7700..0x77ff (a trigger stands in for a full
	 * disk or a broken file) */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "CREATE TRIGGER refuse BEFORE INSERT ON objects "
				      "WHEN NEW.id LIKE 'indicator--000077%' "
				      "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	pthread_mutex_lock(wl);
	p[0] = (struct poster){.fx = fx, .acct = writer, .path = BASE "objects/",
			       .body = envelope(2000, 5, NULL)};
	p[1] = (struct poster){.fx = fx, .acct = writer, .path = BASE "objects/",
			       .body = envelope(0x7700, 5, NULL)};
	p[2] = (struct poster){.fx = fx, .acct = writer, .path = BASE "objects/",
			       .body = envelope(2200, 5, NULL)};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_create(&p[i].t, NULL, poster_run, &p[i]), 0);
		wait_for_writers(fx, (unsigned long)i + 1);
	}
	pthread_mutex_unlock(wl);
	j = poster_answer(&p[0], 202);
	assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 5);
	json_decref(j);
	j = poster_answer(&p[1], 500);
	assert_string_equal(json_string_value(json_object_get(j, "http_status")), "500");
	json_decref(j);
	j = poster_answer(&p[2], 202);
	assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 5);
	json_decref(j);
	{
		struct cp_taxii_param lim = {"limit", "1000"};
		j = call(fx, "GET", BASE "objects/", &fx->accounts[0], &lim, 1, NULL, &st, NULL);
		assert_int_equal(count(j, "objects"), 10);
		json_decref(j);
	}
	/* the first alone; then the group of two, rolled back and written one by one */
	{
		struct cp_taxii_write_stats ws;
		cp_taxii_server_write_stats(fx->srv, &ws);
		assert_int_equal(ws.posts, 3);
		assert_int_equal(ws.commits, 3);
		assert_int_equal(ws.waiting, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(discovery_and_root, setup, teardown),
		cmocka_unit_test_setup_teardown(errors, setup, teardown),
		cmocka_unit_test_setup_teardown(collections_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(post_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(paging_and_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(stored_as_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(large_envelope_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(group_commit_failure, setup, teardown),
	};
	return run_with_and_without_merges("taxii server", tests);
}
