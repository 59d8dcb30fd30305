/*
 * bench_gate: what the egress gate costs inside a TAXII page and a POST, measured in
 * the TAXII core (lib/taxii over a real SQLite store, no HTTP or TLS, which would only
 * add the same amount to both sides). Prints figures; asserts nothing beyond the
 * answers being what the run needs (it stops if a request fails).
 *
 * usage: bench_gate [OBJECTS [ROUNDS]]   (default 20,000 objects, 200 pages per case)
 *
 * The store gets OBJECTS indicators, 714 bytes on average, marked as a feed marks
 * them (TLP:CLEAR 20%, GREEN 50%, AMBER 25%, RED 5%), posted in envelopes of 1000.
 * Then pages of 1000 (limit=1000, random positions by added_after) are read:
 *   - by a local account: no gate (the baseline);
 *   - by a partner whose agreement releases all of it (ceiling RED, named RED
 *     recipient for the collection), so that both read the same rows and the
 *     difference is the gate's work: a decision for every row;
 * both with the audit trail off and on (a release record per page listing its 1000
 * (id, version) pairs).
 * Ingest: the same envelopes posted by a local account and by a partner (origin
 * recorded, plus an audited write), objects/s each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cyberpact/audit.h"
#include "cyberpact/policy.h"
#include "cyberpact/taxii.h"

#define COLL "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
#define PATH "/api1/collections/" COLL "/objects/"

static struct cp_policy *policy;

static bool can(void *ctx, const char *partner, const char *coll, bool write)
{
	(void)ctx;
	(void)partner;
	(void)coll;
	(void)write;
	return true;
}

static bool release(void *ctx, const char *partner, const char *coll,
		    const struct cp_store_row *row, struct cp_policy_reason *why)
{
	struct cp_policy_facts facts;
	struct cp_policy_object o = {NULL, coll, row->origin, &facts};
	(void)ctx;
	cp_taxii_row_facts(row, &facts);
	return cp_policy_decide(policy, partner, &o, why) == CP_POLICY_RELEASE;
}

static const struct cp_taxii_policy hooks = {can, release, NULL};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *tlp_of(int i)
{
	int r = i % 20;
	return r < 4 ? "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	       : r < 14 ? "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	       : r < 19 ? "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
			: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
}

static char *envelope(int first, int n)
{
	size_t cap = (size_t)n * 900 + 64, len = 0;
	char *b = malloc(cap);

	len += (size_t)snprintf(b + len, cap - len, "{\"objects\":[");
	for (int i = first; i < first + n; i++)
		len += (size_t)snprintf(
			b + len, cap - len,
			"%s{\"type\":\"indicator\",\"spec_version\":\"2.1\","
			"\"id\":\"indicator--%08x-%04x-4%03x-8%03x-%012llx\","
			"\"created\":\"2024-03-01T10:00:00.000Z\",\"modified\":\"2024-03-01T10:00:00.000Z\","
			"\"created_by_ref\":\"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff\","
			"\"name\":\"Malicious address %d\",\"description\":\"Command and control "
			"server seen in an intrusion set's infrastructure.\","
			"\"indicator_types\":[\"malicious-activity\"],"
			"\"pattern\":\"[ipv4-addr:value = '10.%d.%d.%d']\",\"pattern_type\":\"stix\","
			"\"pattern_version\":\"2.1\",\"valid_from\":\"2024-03-01T10:00:00Z\","
			"\"labels\":[\"c2\"],\"confidence\":80,\"object_marking_refs\":[\"%s\"]}",
			i == first ? "" : ",", (unsigned)next_rand(), (unsigned)(next_rand() & 0xffff),
			(unsigned)(next_rand() & 0xfff), (unsigned)(next_rand() & 0xfff),
			(unsigned long long)(next_rand() & 0xffffffffffffull), i, (i >> 16) & 255,
			(i >> 8) & 255, i & 255, tlp_of(i));
	snprintf(b + len, cap - len, "]}");
	return b;
}

static unsigned handle(struct cp_taxii_server *srv, const char *method, const char *account_or_null,
		       const struct cp_config_account *acct, const char *partner,
		       const struct cp_taxii_param *params, size_t np, const char *body,
		       struct cp_taxii_response *resp)
{
	struct cp_taxii_request req;

	(void)account_or_null;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = PATH;
	req.params = params;
	req.param_count = np;
	req.account = acct;
	req.partner = partner;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.content_type = body ? CP_TAXII_MEDIA_TYPE : NULL;
	req.request_id = "bench";
	cp_taxii_handle(srv, &req, resp);
	return resp->status;
}

int main(int argc, char **argv)
{
	int objects = argc > 1 ? atoi(argv[1]) : 20000;
	int rounds = argc > 2 ? atoi(argv[2]) : 200;
	char dir[] = "/tmp/cp-bench-gate-XXXXXX", path[128], apath[160], cmd[200];
	struct cp_config cfg;
	struct cp_config_api_root root;
	struct cp_config_collection coll = {(char *)COLL, (char *)"Shared", NULL, NULL};
	char *star[1] = {(char *)"*"};
	struct cp_config_account admin = {(char *)"admin", NULL, NULL, star, 1, star, 1};
	struct cp_policy_agreement ag;
	static const char *const read[] = {COLL};
	struct cp_taxii_server *srv = NULL;
	struct cp_audit *audit = NULL;
	char **adds;
	int n_env;
	char added[64][40];
	int n_added = 0;

	if (objects < 2000 || rounds < 1) {
		fprintf(stderr, "usage: bench_gate [OBJECTS>=2000 [ROUNDS]]\n");
		return 2;
	}
	if (!mkdtemp(dir))
		return 2;
	snprintf(path, sizeof(path), "%s/store.db", dir);
	snprintf(apath, sizeof(apath), "%s/audit.db", dir);
	memset(&cfg, 0, sizeof(cfg));
	root = (struct cp_config_api_root){(char *)"api1", (char *)"API", NULL, &coll, 1};
	cfg.max_content_length = 10 << 20;
	cfg.page_size = 1000;
	cfg.api_roots = &root;
	cfg.api_root_count = 1;
	cfg.accounts = &admin;
	cfg.account_count = 1;
	memset(&ag, 0, sizeof(ag));
	ag.partner = "ally";
	ag.read = read;
	ag.read_count = 1;
	ag.tlp_ceiling = CP_TLP_RED;
	ag.red = read;
	ag.red_count = 1;
	if (cp_policy_new(&ag, 1, &policy, NULL) ||
	    cp_taxii_server_new(&cfg, path, &srv, NULL) || cp_audit_open(apath, &audit, NULL)) {
		fprintf(stderr, "bench_gate: setup failed\n");
		return 2;
	}
	cp_taxii_server_set_policy(srv, &hooks);

	/* ingest: envelopes of 1000, alternately by the local account and the partner */
	n_env = objects / 1000;
	adds = calloc((size_t)n_env, sizeof(*adds));
	for (int e = 0; e < n_env; e++)
		adds[e] = envelope(e * 1000, 1000);
	{
		double t_local = 0, t_partner = 0;
		int n_local = 0, n_partner = 0;
		for (int e = 0; e < n_env; e++) {
			struct cp_taxii_response resp;
			bool as_partner = e % 2 == 1;
			double t0;
			if (as_partner && e == 3)
				cp_taxii_server_set_audit(srv, audit);
			t0 = now_s();
			if (handle(srv, "POST", NULL, as_partner ? NULL : &admin,
				   as_partner ? "ally" : NULL, NULL, 0, adds[e], &resp) != 202) {
				fprintf(stderr, "bench_gate: POST failed: %.200s\n", resp.body);
				return 1;
			}
			if (as_partner && e >= 3) {
				t_partner += now_s() - t0;
				n_partner++;
			} else if (!as_partner && e >= 2) {
				t_local += now_s() - t0;
				n_local++;
			}
			cp_taxii_response_release(&resp);
		}
		cp_taxii_server_set_audit(srv, NULL);
		printf("ingest, envelopes of 1000 into a store of up to %d objects:\n", objects);
		printf("  local account:          %8.0f objects/s (%d envelopes)\n",
		       n_local * 1000 / t_local, n_local);
		printf("  partner, audited write: %8.0f objects/s (%d envelopes): %+.1f%% time "
		       "per object\n",
		       n_partner * 1000 / t_partner, n_partner,
		       100.0 * (t_partner / n_partner - t_local / n_local) / (t_local / n_local));
	}

	/* page start positions: the date_added of every 500th object, from a walk */
	{
		struct cp_taxii_param p[2] = {{"limit", "500"}, {"added_after", NULL}};
		char after[40] = "";
		for (;;) {
			struct cp_taxii_response resp;
			handle(srv, "GET", NULL, &admin, NULL, p, after[0] ? 2 : 1, NULL, &resp);
			if (resp.status != 200 || !resp.date_added_last[0] || n_added == 64)
				break;
			snprintf(after, sizeof(after), "%s", resp.date_added_last);
			p[1].value = after;
			if (n_added < 64)
				snprintf(added[n_added++], 40, "%s", after);
			cp_taxii_response_release(&resp);
		}
	}
	if (n_added < 4) {
		fprintf(stderr, "bench_gate: store walk failed\n");
		return 1;
	}
	n_added -= 2; /* leave full pages after every start */

	printf("GET pages of 1000 at %d stored objects, %d pages per case (median page time):\n",
	       objects, rounds);
	/* the four cases take turns, page by page, so that drift on a shared machine hits
	 * them alike */
	{
		double *t[4], base;
		size_t bytes[4] = {0};
		for (int c = 0; c < 4; c++)
			t[c] = calloc((size_t)rounds, sizeof(double));
		for (int r = 0; r < rounds; r++) {
			/* one untimed read first: the page's store pages are then warm for
			 * every case alike */
			{
				struct cp_taxii_param p[2] = {{"limit", "1000"},
							      {"added_after", added[r % n_added]}};
				struct cp_taxii_response resp;
				cp_taxii_server_set_audit(srv, NULL);
				handle(srv, "GET", NULL, &admin, NULL, p, 2, NULL, &resp);
				cp_taxii_response_release(&resp);
			}
			for (int c = 0; c < 4; c++) {
				bool partner = c & 1, audited = c & 2;
				struct cp_taxii_param p[2] = {{"limit", "1000"},
							      {"added_after", added[r % n_added]}};
				struct cp_taxii_response resp;
				double t0;
				cp_taxii_server_set_audit(srv, audited ? audit : NULL);
				t0 = now_s();
				if (handle(srv, "GET", NULL, partner ? NULL : &admin,
					   partner ? "ally" : NULL, p, 2, NULL, &resp) != 200) {
					fprintf(stderr, "bench_gate: GET failed\n");
					return 1;
				}
				t[c][r] = now_s() - t0;
				bytes[c] += resp.body_len;
				cp_taxii_response_release(&resp);
			}
		}
		for (int c = 0; c < 4; c++)
			for (int i = 1; i < rounds; i++)
				for (int k = i; k > 0 && t[c][k - 1] > t[c][k]; k--) {
					double x = t[c][k];
					t[c][k] = t[c][k - 1];
					t[c][k - 1] = x;
				}
		base = t[0][rounds / 2];
		for (int c = 0; c < 4; c++) {
			double m = t[c][rounds / 2];
			printf("  %-8s %-12s p50 %7.3f ms  p90 %7.3f ms  (%+6.1f%%, %+6.0f ns per "
			       "object; %zu KB/page)\n",
			       c & 1 ? "partner" : "local", c & 2 ? "audited" : "no audit", m * 1e3,
			       t[c][rounds * 9 / 10] * 1e3, 100.0 * (m - base) / base,
			       (m - base) * 1e9 / 1000, bytes[c] / (size_t)rounds / 1024);
			free(t[c]);
		}
	}
	cp_taxii_server_set_audit(srv, NULL);
	cp_audit_close(audit);
	cp_taxii_server_free(srv);
	cp_policy_free(policy);
	for (int e = 0; e < n_env; e++)
		free(adds[e]);
	free(adds);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return 0;
}
