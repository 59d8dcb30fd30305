/*
 * bench_policy: how long the egress gate takes per decision. Prints figures; asserts
 * nothing.
 *
 * usage: bench_policy [DECISIONS]   (default 1,000,000)
 *
 * The mix is built to look like a busy node's egress: twelve partners with different
 * ceilings, communities, collection lists (a few with type exclusions and RED grants),
 * and 512 complete STIX objects (indicators, relationships, sightings, malware,
 * identities, reports, consultation notes) marked as real feeds mark them: mostly
 * TLP 2.0 GREEN and AMBER, some CLEAR, AMBER+STRICT, RED, TLP 1.0 ids, unmarked
 * objects, PAP markings, statement markings and granular markings; 40% of them came
 * from other partners. Each decision takes the next (partner, object, collection) of a
 * fixed pseudo-random sequence, so the branch predictor cannot learn the answers.
 * Three figures: with the reason text (what an audited egress path pays), without it
 * (a filter that only needs yes/no), and the partner lookup alone (an unknown partner).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cyberpact/policy.h"

#define N_PARTNERS 12
#define N_OBJECTS 512
#define N_COLLECTIONS 6

static const char *const colls[N_COLLECTIONS] = {
        "5b7a3c8e-1f2d-4e6a-9b0c-3d4e5f6a7b8c", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "f0e1d2c3-b4a5-4968-8776-655443322110", "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
        "7c6b5a49-3827-4165-9f4e-3d2c1b0a9f8e", "c0ffee00-1234-4abc-9def-0123456789ab",
};

static const char *const names[N_PARTNERS] = {
        "cert-north", "cert-west",   "cert-south", "cert-east",    "mod-isle",
        "mod-far",    "ncsc-alpha",  "ncsc-bravo", "ncsc-charlie", "cyber-command-delta",
        "soc-echo",   "soc-foxtrot",
};

/* TLP and PAP ids as producers write them */
static const char *const tlp_ids[] = {
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", /* 2.0 clear */
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", /* 2.0 green */
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", /* 2.0 amber */
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", /* 2.0 amber+strict */
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", /* 2.0 red */
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", /* 1.0 green */
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", /* 1.0 amber */
};
static const char *const pap_ids[] = {
        "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9", /* green */
        "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab", /* amber */
        "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e", /* red */
};
#define STATEMENT "marking-definition--0c9e4f6a-3d51-4e8b-9a4f-7d2b1c6e5a10"

static unsigned long long rng = 0x9E3779B97F4A7C15ull;

static unsigned next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void uuid(char *out, size_t len)
{
	snprintf(out, len, "%08x-%04x-4%03x-8%03x-%08x%04x", next(), next() & 0xffff,
	         next() & 0xfff, next() & 0xfff, next(), next() & 0xffff);
}

static json_t *make_object(void)
{
	static const char *const types[] = {
	        "indicator",    "indicator",      "indicator",    "indicator",
	        "indicator",    "indicator",      "relationship", "relationship",
	        "relationship", "sighting",       "sighting",     "malware",
	        "identity",     "attack-pattern", "report",       "note",
	};
	const char *type = types[next() % (sizeof(types) / sizeof(types[0]))];
	json_t *o, *refs;
	char id[128], u[64];
	unsigned m = next() % 100;

	uuid(u, sizeof(u));
	snprintf(id, sizeof(id), "%s--%s", type, u);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "spec_version", "2.1", "id",
	              id, "created", "2024-03-01T10:00:00.000Z", "modified",
	              "2024-03-01T10:00:00.000Z", "created_by_ref",
	              "identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01", "name", "some object");
	if (strcmp(type, "indicator") == 0)
		json_object_set_new(o, "pattern",
		                    json_string("[ipv4-addr:value = '198.51.100.3']"));
	json_object_set_new(o, "labels", json_pack("[s,s]", "apt", "espionage"));
	if (strcmp(type, "note") == 0 && next() % 2)
		json_object_set_new(o, CP_POLICY_CONSULTATION_PROP, json_string("c-2024-017"));

	refs = json_array();
	if (m < 15)
		json_array_append_new(refs, json_string(tlp_ids[0]));
	else if (m < 50)
		json_array_append_new(refs, json_string(tlp_ids[1]));
	else if (m < 75)
		json_array_append_new(refs, json_string(tlp_ids[2]));
	else if (m < 80)
		json_array_append_new(refs, json_string(tlp_ids[3]));
	else if (m < 83)
		json_array_append_new(refs, json_string(tlp_ids[4]));
	else if (m < 88)
		json_array_append_new(refs, json_string(tlp_ids[5 + next() % 2]));
	/* the rest is unmarked */
	if (next() % 5 == 0)
		json_array_append_new(refs, json_string(pap_ids[next() % 3]));
	if (next() % 10 == 0)
		json_array_append_new(refs, json_string(STATEMENT));
	if (json_array_size(refs))
		json_object_set_new(o, "object_marking_refs", refs);
	else
		json_decref(refs);
	if (next() % 50 == 0)
		json_object_set_new(o, "granular_markings",
		                    json_pack("[{s:[s],s:s}]", "selectors", "description",
		                              "marking_ref", tlp_ids[2]));
	return o;
}

int main(int argc, char **argv)
{
	static const char *const excluded[] = {"identity", "report"};
	struct cp_policy_agreement ag[N_PARTNERS];
	const char *reads[N_PARTNERS][N_COLLECTIONS];
	const char *reds[N_PARTNERS][1];
	static const char *communities[] = {"allies", "region", NULL};
	struct cp_policy *p = NULL;
	json_t *objs[N_OBJECTS];
	struct cp_policy_object o[N_OBJECTS];
	unsigned seq_partner[4096], seq_object[4096];
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	struct cp_policy_reason why;
	size_t released = 0;
	double t0, t_text, t_plain, t_lookup;
	volatile unsigned sink = 0;

	if (n <= 0) {
		fprintf(stderr, "usage: bench_policy [DECISIONS]\n");
		return 2;
	}
	memset(ag, 0, sizeof(ag));
	for (int i = 0; i < N_PARTNERS; i++) {
		size_t nr = 2 + (size_t)(i % 5);

		for (size_t k = 0; k < nr; k++)
			reads[i][k] = colls[(i + k) % N_COLLECTIONS];
		reds[i][0] = reads[i][0];
		ag[i].partner = names[i];
		ag[i].community = communities[i % 3];
		ag[i].tlp_ceiling = (enum cp_tlp)(CP_TLP_CLEAR + i % 5);
		ag[i].pap_ceiling = (enum cp_pap)(i % 4 == 0 ? CP_PAP_NONE : CP_PAP_GREEN + i % 3);
		ag[i].default_tlp = i % 4 == 1 ? CP_TLP_GREEN : CP_TLP_NONE;
		ag[i].read = reads[i];
		ag[i].read_count = nr;
		if (ag[i].tlp_ceiling == CP_TLP_RED) {
			ag[i].red = reds[i];
			ag[i].red_count = 1;
		}
		if (i % 6 == 5) {
			ag[i].types_excluded = excluded;
			ag[i].types_excluded_count = 2;
		}
		ag[i].third_party = i % 3 != 2;
		ag[i].sightings = i % 2 == 0;
		ag[i].consultations = i < 6;
		ag[i].no_redistribution = i == 7;
	}
	if (cp_policy_new(ag, N_PARTNERS, &p, NULL)) {
		fprintf(stderr, "bench_policy: cannot build the policy\n");
		return 1;
	}
	for (int i = 0; i < N_OBJECTS; i++) {
		objs[i] = make_object();
		o[i].obj = objs[i];
		o[i].collection_id = colls[next() % N_COLLECTIONS];
		o[i].origin = next() % 10 < 6 ? NULL : names[next() % N_PARTNERS];
		o[i].facts = NULL;
	}
	for (int i = 0; i < 4096; i++) {
		seq_partner[i] = next() % N_PARTNERS;
		seq_object[i] = next() % N_OBJECTS;
	}

	t0 = now();
	for (long i = 0; i < n; i++) {
		unsigned s = (unsigned)i & 4095;
		released += cp_policy_decide(p, names[seq_partner[s]], &o[seq_object[s]], &why);
		sink += (unsigned)why.code;
	}
	t_text = now() - t0;

	t0 = now();
	for (long i = 0; i < n; i++) {
		unsigned s = (unsigned)i & 4095;
		sink += cp_policy_decide(p, names[seq_partner[s]], &o[seq_object[s]], NULL);
	}
	t_plain = now() - t0;

	t0 = now();
	for (long i = 0; i < n; i++) {
		unsigned s = (unsigned)i & 4095;
		sink += cp_policy_decide(p, "unknown-partner", &o[seq_object[s]], NULL);
	}
	t_lookup = now() - t0;

	printf("policy gate: %ld decisions, %d partners, %d objects, %.1f%% released\n", n,
	       N_PARTNERS, N_OBJECTS, 100.0 * (double)released / (double)n);
	printf("  %-34s %8.1f ns/decision\n", "with reason text", t_text * 1e9 / (double)n);
	printf("  %-34s %8.1f ns/decision\n", "without reason text", t_plain * 1e9 / (double)n);
	printf("  %-34s %8.1f ns/decision\n", "unknown partner (lookup only)",
	       t_lookup * 1e9 / (double)n);
	for (int i = 0; i < N_OBJECTS; i++)
		json_decref(objs[i]);
	cp_policy_free(p);
	(void)sink;
	return 0;
}
