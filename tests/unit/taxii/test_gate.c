/*
 * The egress gate through every TAXII endpoint (lib/taxii + lib/policy + lib/store):
 * three partners with different agreements, objects of every TLP and PAP level from
 * this node and from two of the partners, read back by each partner through objects
 * (paged), object, versions, manifest, collections and status. The expected outcome
 * of each (partner, object) pair comes from the agreements written out below as plain
 * rules, not from the gate's code.
 */
#include <unistd.h>

#include "testutil.h"
#include "storetest.h"
#include "cyberpact/policy.h"
#include "cyberpact/store.h"
#include "cyberpact/taxii.h"

#define SHARED "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
#define PRIVATE "2ac7e8a4-1b7c-4d6e-9f1a-5b3c2d4e6f70"
#define BASE "/api1/collections/" SHARED "/"

enum who { US, JP, KR, N_PARTNERS, OWN = N_PARTNERS };
static const char *const names[] = {"us", "jp", "kr"};

/* TLP and PAP levels of the objects (index 0 = no marking) */
#define N_TLP 6
#define N_PAP 5
#define N_ORIGINS 3 /* this node, us, jp */
#define N_OBJ (N_ORIGINS * N_TLP * N_PAP)

struct fixture {
	char dir[64], path[128];
	struct cp_config cfg;
	struct cp_config_api_root root;
	struct cp_config_collection colls[2];
	struct cp_config_account admin;
	char *star[1];
	struct cp_taxii_server *srv;
	struct cp_policy *policy;
	struct cp_taxii_policy hooks;
	char ids[N_OBJ][64];
	int tlp[N_OBJ], pap[N_OBJ], origin[N_OBJ];
	char status_id[N_PARTNERS][64];
};

/* ------------------------------------------------------------ the hooks */

static bool hook_can(void *pctx, const char *partner, const char *coll, bool write)
{
	(void)pctx;
	if (strcmp(coll, SHARED) != 0)
		return false;
	/* us and jp may read and write; kr only reads */
	return !write || strcmp(partner, "kr") != 0;
}

static bool hook_release(void *pctx, const char *partner, const char *coll,
			 const struct cp_store_row *row, struct cp_policy_reason *why)
{
	struct fixture *fx = pctx;
	struct cp_policy_facts facts;
	struct cp_policy_object o = {NULL, coll, row->origin, &facts};

	cp_taxii_row_facts(row, &facts);
	return cp_policy_decide(fx->policy, partner, &o, why) == CP_POLICY_RELEASE;
}

/*
 * The agreements as plain rules: us has an AMBER+STRICT ceiling and PAP up to AMBER,
 * jp GREEN and PAP up to GREEN, kr CLEAR and no PAP limit; us and jp are in community
 * "pact", kr in "north"; all take third-party objects. Unmarked is AMBER.
 */
static bool expect_release(int rcpt, int origin, int tlp, int pap)
{
	static const int ceiling[] = {CP_TLP_AMBER_STRICT, CP_TLP_GREEN, CP_TLP_CLEAR};
	static const int pap_ceiling[] = {CP_PAP_AMBER, CP_PAP_GREEN, CP_PAP_NONE};
	int eff = tlp == CP_TLP_NONE ? CP_TLP_AMBER : tlp;

	if (origin == rcpt)
		return true; /* its own data goes back */
	if (origin != OWN) {
		if (eff > CP_TLP_GREEN)
			return false; /* AMBER and above never go to a third party */
		if (eff == CP_TLP_GREEN && (rcpt == KR || origin == KR))
			return false; /* GREEN stays within the community */
	}
	if (eff == CP_TLP_RED || eff > ceiling[rcpt])
		return false;
	if (pap_ceiling[rcpt] != CP_PAP_NONE && pap > pap_ceiling[rcpt])
		return false;
	return true;
}

/* ----------------------------------------------------------- requests */

static json_t *call(struct fixture *fx, const char *method, const char *path, int who,
		    const struct cp_taxii_param *params, size_t nparams, const char *body,
		    unsigned *status, struct cp_taxii_response *keep)
{
	struct cp_taxii_request req;
	struct cp_taxii_response resp;
	json_t *j;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.params = params;
	req.param_count = nparams;
	if (who == OWN)
		req.account = &fx->admin;
	else
		req.partner = names[who];
	req.policy_ctx = fx;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.content_type = body ? CP_TAXII_MEDIA_TYPE : NULL;
	cp_taxii_handle(fx->srv, &req, &resp);
	*status = resp.status;
	j = json_loadb(resp.body, resp.body_len, 0, NULL);
	if (!j)
		fail_msg("response is not JSON: %.*s", (int)resp.body_len, resp.body);
	if (keep)
		*keep = resp;
	else
		cp_taxii_response_release(&resp);
	return j;
}

static void object_json(struct fixture *fx, int i, char *out, size_t cap)
{
	char markings[200] = "";
	size_t n = 0;

	if (fx->tlp[i] != CP_TLP_NONE)
		n += (size_t)snprintf(markings + n, sizeof(markings) - n, "\"%s\"",
				      cp_stix_tlp_marking_id((enum cp_tlp)fx->tlp[i]));
	if (fx->pap[i] != CP_PAP_NONE)
		snprintf(markings + n, sizeof(markings) - n, "%s\"%s\"", n ? "," : "",
			 cp_policy_pap_marking_id((enum cp_pap)fx->pap[i]));
	snprintf(out, cap,
		 "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
		 "\"created\":\"2021-01-01T00:00:00.000Z\",\"modified\":\"2021-01-01T00:00:00.000Z\","
		 "\"pattern\":\"[ipv4-addr:value = '10.1.0.%d']\",\"pattern_type\":\"stix\","
		 "\"valid_from\":\"2021-01-01T00:00:00Z\"%s%s%s}",
		 fx->ids[i], i, markings[0] ? ",\"object_marking_refs\":[" : "", markings,
		 markings[0] ? "]" : "");
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct cp_policy_agreement ag[3];
	static const char *const read[] = {SHARED};

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cp-gate-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	fx->colls[0] = (struct cp_config_collection){(char *)SHARED, (char *)"Shared", NULL,
						     (char *)"shared"};
	fx->colls[1] = (struct cp_config_collection){(char *)PRIVATE, (char *)"Private", NULL,
						     NULL};
	fx->root = (struct cp_config_api_root){(char *)"api1", (char *)"API 1", NULL, fx->colls, 2};
	fx->star[0] = (char *)"*";
	fx->admin = (struct cp_config_account){(char *)"admin", NULL, NULL, fx->star, 1, fx->star,
					       1};
	fx->cfg.max_content_length = 1 << 20;
	fx->cfg.page_size = 1000;
	fx->cfg.api_roots = &fx->root;
	fx->cfg.api_root_count = 1;
	fx->cfg.accounts = &fx->admin;
	fx->cfg.account_count = 1;
	assert_int_equal(cp_taxii_server_new(&fx->cfg, fx->path, &fx->srv, NULL), CP_OK);

	memset(ag, 0, sizeof(ag));
	for (int p = 0; p < N_PARTNERS; p++) {
		ag[p].partner = names[p];
		ag[p].read = read;
		ag[p].read_count = 1;
		ag[p].third_party = true;
	}
	ag[US].tlp_ceiling = CP_TLP_AMBER_STRICT;
	ag[US].pap_ceiling = CP_PAP_AMBER;
	ag[US].community = "pact";
	ag[JP].tlp_ceiling = CP_TLP_GREEN;
	ag[JP].pap_ceiling = CP_PAP_GREEN;
	ag[JP].community = "pact";
	ag[KR].tlp_ceiling = CP_TLP_CLEAR;
	ag[KR].community = "north";
	assert_int_equal(cp_policy_new(ag, 3, &fx->policy, NULL), CP_OK);
	fx->hooks.can = hook_can;
	fx->hooks.release = hook_release;
	cp_taxii_server_set_policy(fx->srv, &fx->hooks);

	/* objects: origin x TLP x PAP; this node's through the admin account, the
	 * partners' through their own POSTs */
	for (int i = 0; i < N_OBJ; i++) {
		fx->origin[i] = i / (N_TLP * N_PAP) == 0 ? OWN : i / (N_TLP * N_PAP) == 1 ? US : JP;
		fx->tlp[i] = (i / N_PAP) % N_TLP;
		fx->pap[i] = i % N_PAP;
		snprintf(fx->ids[i], sizeof(fx->ids[i]),
			 "indicator--%08x-0000-4000-8000-00000000000%d", i, fx->origin[i] % 10);
	}
	for (int o = 0; o < N_ORIGINS; o++) {
		int who = o == 0 ? OWN : o == 1 ? US : JP;
		struct cp_buf body = CP_BUF_INIT(0);
		unsigned st;
		json_t *j;

		cp_buf_puts(&body, "{\"objects\":[");
		for (int i = 0; i < N_OBJ; i++) {
			char obj[1024];
			if (fx->origin[i] != who)
				continue;
			object_json(fx, i, obj, sizeof(obj));
			if (body.ptr[body.len - 1] != '[')
				cp_buf_putc(&body, ',');
			cp_buf_puts(&body, obj);
		}
		cp_buf_puts(&body, "]}");
		assert_int_equal(cp_buf_finish(&body), CP_OK);
		j = call(fx, "POST", BASE "objects/", who, NULL, 0, body.ptr, &st, NULL);
		assert_int_equal(st, 202);
		assert_int_equal(json_integer_value(json_object_get(j, "success_count")),
				 N_TLP * N_PAP);
		if (who != OWN)
			snprintf(fx->status_id[who], sizeof(fx->status_id[who]), "%s",
				 json_string_value(json_object_get(j, "id")));
		json_decref(j);
		cp_buf_release(&body);
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[160];

	cp_taxii_server_free(fx->srv);
	cp_policy_free(fx->policy);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static int index_of(struct fixture *fx, const char *id)
{
	for (int i = 0; i < N_OBJ; i++)
		if (strcmp(fx->ids[i], id) == 0)
			return i;
	fail_msg("unknown id %s in a response", id);
	return -1;
}

/*
 * Page through objects or manifest with a small limit: every page holds exactly
 * `limit` entries except the last, `more` is true exactly when released entries
 * remain, the date-added headers bound the page, and the union is the expected set
 * with no repeats.
 */
static void walk(struct fixture *fx, int rcpt, const char *what, const char *key, size_t limit)
{
	bool seen[N_OBJ] = {false};
	char path[128], lim[16], next[128] = "";
	size_t want = 0, got = 0;

	for (int i = 0; i < N_OBJ; i++)
		want += expect_release(rcpt, fx->origin[i], fx->tlp[i], fx->pap[i]);
	snprintf(path, sizeof(path), BASE "%s/", what);
	snprintf(lim, sizeof(lim), "%zu", limit);
	for (int pages = 0;; pages++) {
		struct cp_taxii_param params[2] = {{"limit", lim}, {"next", next}};
		struct cp_taxii_response resp;
		unsigned st;
		json_t *j = call(fx, "GET", path, rcpt, params, next[0] ? 2 : 1, NULL, &st, &resp);
		const json_t *list = json_object_get(j, key);
		bool more = json_is_true(json_object_get(j, "more"));
		size_t n = json_array_size(list);

		assert_int_equal(st, 200);
		assert_true(pages < 100);
		for (size_t k = 0; k < n; k++) {
			const json_t *e = json_array_get(list, k);
			int i = index_of(fx, json_string_value(json_object_get(e, "id")));
			if (!expect_release(rcpt, fx->origin[i], fx->tlp[i], fx->pap[i]))
				fail_msg("%s got %s (origin %d, TLP %d, PAP %d) from %s", names[rcpt],
					 fx->ids[i], fx->origin[i], fx->tlp[i], fx->pap[i], what);
			assert_false(seen[i]);
			seen[i] = true;
			got++;
		}
		/* more exactly when released entries remain: no hint of withheld ones */
		assert_int_equal(more, got < want);
		if (more)
			assert_int_equal(n, limit);
		if (n) {
			assert_true(resp.date_added_first[0] && resp.date_added_last[0]);
		} else {
			assert_string_equal(resp.date_added_first, "");
			assert_null(json_object_get(j, key));
		}
		if (more)
			snprintf(next, sizeof(next), "%s",
				 json_string_value(json_object_get(j, "next")));
		else
			assert_null(json_object_get(j, "next"));
		cp_taxii_response_release(&resp);
		json_decref(j);
		if (!more)
			break;
	}
	assert_int_equal(got, want);
}

static void matrix(void **state)
{
	struct fixture *fx = *state;
	size_t released[N_PARTNERS] = {0};

	for (int p = 0; p < N_PARTNERS; p++) {
		walk(fx, p, "objects", "objects", 7);
		walk(fx, p, "objects", "objects", 1000);
		walk(fx, p, "manifest", "objects", 5);
		for (int i = 0; i < N_OBJ; i++) {
			char path[200];
			unsigned st;
			bool want = expect_release(p, fx->origin[i], fx->tlp[i], fx->pap[i]);
			json_t *j;

			released[p] += want;
			snprintf(path, sizeof(path), BASE "objects/%s/", fx->ids[i]);
			j = call(fx, "GET", path, p, NULL, 0, NULL, &st, NULL);
			assert_int_equal(st, want ? 200 : 404);
			if (want)
				assert_int_equal(json_array_size(json_object_get(j, "objects")), 1);
			json_decref(j);
			snprintf(path, sizeof(path), BASE "objects/%s/versions/", fx->ids[i]);
			j = call(fx, "GET", path, p, NULL, 0, NULL, &st, NULL);
			assert_int_equal(st, want ? 200 : 404);
			json_decref(j);
		}
	}
	/* us: our own below RED with PAP up to AMBER (5 TLP x 4 PAP), all 30 of its
	 * own, jp's CLEAR and GREEN (same community) with PAP up to AMBER (2 x 4) */
	assert_int_equal(released[US], 20 + 30 + 8);
	assert_true(released[JP] < released[US]);
	assert_true(released[KR] < released[JP]);
	assert_true(released[KR] > 0);
}

static void listings_and_status(void **state)
{
	struct fixture *fx = *state;
	char path[128];
	unsigned st;
	json_t *j;

	/* the private collection is not listed and does not exist for partners */
	for (int p = 0; p < N_PARTNERS; p++) {
		j = call(fx, "GET", "/api1/collections/", p, NULL, 0, NULL, &st, NULL);
		assert_int_equal(st, 200);
		assert_int_equal(json_array_size(json_object_get(j, "collections")), 1);
		assert_string_equal(json_string_value(json_object_get(
					    json_array_get(json_object_get(j, "collections"), 0),
					    "id")),
				    SHARED);
		assert_int_equal(json_is_true(json_object_get(
					 json_array_get(json_object_get(j, "collections"), 0),
					 "can_write")),
				 p != KR);
		json_decref(j);
		j = call(fx, "GET", "/api1/collections/" PRIVATE "/objects/", p, NULL, 0, NULL, &st,
			 NULL);
		assert_int_equal(st, 404);
		json_decref(j);
	}
	j = call(fx, "GET", "/api1/collections/", OWN, NULL, 0, NULL, &st, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "collections")), 2);
	json_decref(j);

	/* a status resource exists only for the partner that made it */
	snprintf(path, sizeof(path), "/api1/status/%s/", fx->status_id[US]);
	j = call(fx, "GET", path, US, NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 200);
	json_decref(j);
	j = call(fx, "GET", path, JP, NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 404);
	json_decref(j);
	j = call(fx, "GET", path, OWN, NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 404);
	json_decref(j);

	/* kr reads but may not write; partners never delete */
	j = call(fx, "POST", BASE "objects/", KR, NULL, 0, "{\"objects\":[]}", &st, NULL);
	assert_int_equal(st, 403);
	json_decref(j);
	snprintf(path, sizeof(path), BASE "objects/%s/", fx->ids[N_TLP * N_PAP]);
	j = call(fx, "DELETE", path, US, NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 403);
	json_decref(j);
	j = call(fx, "GET", path, US, NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 200);
	json_decref(j);
}

static void no_hooks_no_partners(void **state)
{
	struct fixture *fx = *state;
	unsigned st;
	json_t *j;

	/* without policy hooks a partner is nobody: default deny */
	cp_taxii_server_set_policy(fx->srv, NULL);
	j = call(fx, "GET", BASE "objects/", US, NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 401);
	json_decref(j);
}

/* Versions stored without marks (an older release) are judged from their JSON. */
static void rows_without_marks(void **state)
{
	struct fixture *fx = *state;
	struct cp_store *s = NULL;
	static const char *const tlps[] = {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
					   "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"};
	unsigned st;
	json_t *j;

	assert_int_equal(cp_store_open_sqlite(fx->path, &s, NULL), CP_OK);
	for (int k = 0; k < 2; k++) {
		char text[600];
		struct cp_stix_object *o = NULL;
		struct cp_store_add_result res;
		json_t *obj;
		snprintf(text, sizeof(text),
			 "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
			 "\"id\":\"indicator--eeeeeee%d-0000-4000-8000-000000000000\","
			 "\"created\":\"2021-01-01T00:00:00.000Z\",\"modified\":\"2021-01-01T00:00:00.000Z\","
			 "\"pattern\":\"[ipv4-addr:value = '10.2.0.%d']\",\"pattern_type\":\"stix\","
			 "\"valid_from\":\"2021-01-01T00:00:00Z\",\"object_marking_refs\":[\"%s\"]}",
			 k, k, tlps[k]);
		obj = json_loads(text, 0, NULL);
		assert_int_equal(cp_stix_object_new(obj, 0, NULL, &o), CP_OK);
		/* no marks given */
		assert_int_equal(cp_store_add(s, SHARED, &o, 1, NULL, &res), CP_OK);
		cp_stix_object_unref(o);
		json_decref(obj);
	}
	cp_store_close(s);
	/* RED without marks: still withheld; GREEN: released to us */
	j = call(fx, "GET", BASE "objects/indicator--eeeeeee0-0000-4000-8000-000000000000/", US, NULL,
		 0, NULL, &st, NULL);
	assert_int_equal(st, 404);
	json_decref(j);
	j = call(fx, "GET", BASE "objects/indicator--eeeeeee1-0000-4000-8000-000000000000/", US, NULL,
		 0, NULL, &st, NULL);
	assert_int_equal(st, 200);
	json_decref(j);
}

/*
 * Versions are judged one by one: an object whose first version is GREEN and whose
 * newer version is AMBER shows jp (GREEN ceiling) only the GREEN version, and the
 * "last" views (object, manifest) show it nothing rather than an older version as
 * if it were the newest.
 */
static void versions_judged_one_by_one(void **state)
{
	struct fixture *fx = *state;
	const char *id = "indicator--dddddddd-0000-4000-8000-000000000000";
	const struct cp_taxii_param all = {"match[version]", "all"};
	char body[1400], path[200];
	unsigned st;
	json_t *j;

	snprintf(body, sizeof(body),
		 "{\"objects\":["
		 "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
		 "\"created\":\"2021-01-01T00:00:00.000Z\",\"modified\":\"2021-01-01T00:00:00.000Z\","
		 "\"pattern\":\"[ipv4-addr:value = '10.3.0.1']\",\"pattern_type\":\"stix\","
		 "\"valid_from\":\"2021-01-01T00:00:00Z\",\"object_marking_refs\":[\"%s\"]},"
		 "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
		 "\"created\":\"2021-01-01T00:00:00.000Z\",\"modified\":\"2021-02-01T00:00:00.000Z\","
		 "\"pattern\":\"[ipv4-addr:value = '10.3.0.1']\",\"pattern_type\":\"stix\","
		 "\"valid_from\":\"2021-01-01T00:00:00Z\",\"object_marking_refs\":[\"%s\"]}]}",
		 id, cp_stix_tlp_marking_id(CP_TLP_GREEN), id, cp_stix_tlp_marking_id(CP_TLP_AMBER));
	j = call(fx, "POST", BASE "objects/", OWN, NULL, 0, body, &st, NULL);
	assert_int_equal(st, 202);
	json_decref(j);

	snprintf(path, sizeof(path), BASE "objects/%s/versions/", id);
	j = call(fx, "GET", path, JP, NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 200);
	assert_int_equal(json_array_size(json_object_get(j, "versions")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "versions"), 0)),
			    "2021-01-01T00:00:00.000Z");
	json_decref(j);
	j = call(fx, "GET", path, US, NULL, 0, NULL, &st, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "versions")), 2);
	json_decref(j);

	snprintf(path, sizeof(path), BASE "objects/%s/", id);
	j = call(fx, "GET", path, JP, NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 404); /* its last version is AMBER */
	json_decref(j);
	j = call(fx, "GET", path, JP, &all, 1, NULL, &st, NULL);
	assert_int_equal(st, 200);
	assert_int_equal(json_array_size(json_object_get(j, "objects")), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "objects"), 0), "modified")),
			    "2021-01-01T00:00:00.000Z");
	json_decref(j);
	j = call(fx, "GET", path, US, NULL, 0, NULL, &st, NULL);
	assert_int_equal(st, 200);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "objects"), 0), "modified")),
			    "2021-02-01T00:00:00.000Z");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(matrix, setup, teardown),
		cmocka_unit_test_setup_teardown(listings_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(no_hooks_no_partners, setup, teardown),
		cmocka_unit_test_setup_teardown(rows_without_marks, setup, teardown),
		cmocka_unit_test_setup_teardown(versions_judged_one_by_one, setup, teardown),
	};
	return run_with_and_without_merges("egress gate", tests);
}
