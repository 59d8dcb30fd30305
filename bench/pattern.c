/*
 * bench_pattern: how fast STIX patterns parse, and how fast one pattern evaluates
 * against one observed-data. Prints figures; asserts nothing.
 *
 * usage: bench_pattern SHARED_DATA_DIR [RUNS]
 *
 * Parse corpus: every stix pattern of every indicator found anywhere in the JSON files
 * under SHARED_DATA/stix21 (the MISP mapping documents included) plus the spec examples.
 * Calibration in the same run: jansson parsing the same pattern texts as JSON strings,
 * so figures from a busy machine can be compared by ratio.
 *
 * Evaluation: typical indicator patterns (address equality, CIDR, domain LIKE, URL
 * MATCHES, file hash, a compound network-traffic pattern with refs) against 1,000
 * single-observation sets built from real addresses and names of the shared Zeek logs.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cyberpact/pattern.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct corpus {
	char **v;
	size_t count, cap, bytes;
};

static void add(struct corpus *c, const char *s)
{
	if (c->count == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->count++] = strdup(s);
	c->bytes += strlen(s);
}

static void walk(const json_t *j, struct corpus *c)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		const json_t *t = json_object_get(j, "type"), *p = json_object_get(j, "pattern");
		const json_t *pt = json_object_get(j, "pattern_type");
		if (json_is_string(t) && strcmp(json_string_value(t), "indicator") == 0 &&
		    json_is_string(p) && json_is_string(pt) &&
		    strcmp(json_string_value(pt), "stix") == 0)
			add(c, json_string_value(p));
		json_object_foreach((json_t *)j, k, v)
			walk(v, c);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			walk(v, c);
	}
}

static void load_dir(const char *dir, struct corpus *c)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			load_dir(path, c);
		} else if (strstr(e->d_name, ".json")) {
			json_t *j = json_load_file(path, 0, NULL);
			if (j)
				walk(j, c);
			json_decref(j);
		}
	}
	closedir(d);
}

static void report(const char *what, double *t, int runs, double per_run, const char *unit,
		   double base)
{
	qsort(t, (size_t)runs, sizeof(double), cmp_double);
	printf("  %-40s %9.2f %9.2f %12.0f %8.2f\n", what, t[0] * 1e3, t[runs / 2] * 1e3,
	       per_run / t[runs / 2], base > 0 ? t[runs / 2] / base : 1.0);
	(void)unit;
}

static const char *const eval_patterns[] = {
	"[ipv4-addr:value = '10.0.0.1']",
	"[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
	"[domain-name:value LIKE '%.example.com']",
	"[url:value MATCHES '^https?://[^/]+/(wp-admin|login)']",
	"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
	"[network-traffic:dst_ref.value = '192.168.0.1' AND network-traffic:dst_port = 443]",
	"[ipv4-addr:value IN ('10.0.0.1', '10.0.0.2', '10.0.0.3', '192.168.1.1')]",
};

/* One observed-data (with its SCOs) as a bundle, for observation i. */
static json_t *observation(int i)
{
	char ip[32], dst[32], host[64];
	snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	snprintf(dst, sizeof(dst), "192.168.%d.%d", (i >> 8) & 255, i & 255);
	snprintf(host, sizeof(host), "host%d.%s", i, i % 3 ? "example.com" : "example.org");
	return json_pack(
		"{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:[s,s,s,s,s]},"
		"{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s},"
		"{s:s, s:s, s:s, s:s, s:i, s:[s]}]}",
		"type", "bundle", "id", "bundle--00000000-0000-4000-8000-000000000000", "objects",
		"type", "observed-data", "spec_version", "2.1", "id",
		"observed-data--00000000-0000-4000-8000-000000000001", "created",
		"2020-01-01T00:00:00.000Z", "modified", "2020-01-01T00:00:00.000Z", "first_observed",
		"2020-01-01T00:00:00Z", "last_observed", "2020-01-01T00:00:01Z", "number_observed", 1,
		"object_refs", "ipv4-addr--00000000-0000-4000-8000-000000000001",
		"ipv4-addr--00000000-0000-4000-8000-000000000002",
		"domain-name--00000000-0000-4000-8000-000000000003",
		"url--00000000-0000-4000-8000-000000000004",
		"network-traffic--00000000-0000-4000-8000-000000000005",
		"type", "ipv4-addr", "id", "ipv4-addr--00000000-0000-4000-8000-000000000001", "value", ip,
		"type", "ipv4-addr", "id", "ipv4-addr--00000000-0000-4000-8000-000000000002", "value", dst,
		"type", "domain-name", "id", "domain-name--00000000-0000-4000-8000-000000000003",
		"value", host, "type", "url", "id", "url--00000000-0000-4000-8000-000000000004", "value",
		i % 5 ? "https://example.com/index.html" : "https://example.com/wp-admin/x.php",
		"type", "network-traffic", "id", "network-traffic--00000000-0000-4000-8000-000000000005",
		"src_ref", "ipv4-addr--00000000-0000-4000-8000-000000000001", "dst_ref",
		"ipv4-addr--00000000-0000-4000-8000-000000000002", "dst_port", i % 2 ? 443 : 80,
		"protocols", "tcp");
}

int main(int argc, char **argv)
{
	struct corpus c = {0};
	char dir[4096];
	int runs = argc > 2 ? atoi(argv[2]) : 7;
	double t[1000], base;
	size_t nobs = 1000, npat = sizeof(eval_patterns) / sizeof(eval_patterns[0]);
	struct cp_pattern_obs_set **sets;
	json_t **docs;

	if (argc < 2 || runs < 3 || runs > 1000) {
		fprintf(stderr, "usage: bench_pattern SHARED_DATA_DIR [RUNS 3..1000]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/stix21", argv[1]);
	load_dir(dir, &c);
	if (c.count == 0) {
		fprintf(stderr, "bench_pattern: no indicator patterns under %s\n", dir);
		return 2;
	}
	printf("parse: %zu stix patterns from %s (%zu bytes), x100 per run, %d runs\n", c.count,
	       dir, c.bytes, runs);
	printf("  %-40s %9s %9s %12s %8s\n", "stage", "best ms", "median ms", "patterns/s",
	       "/jansson");
	{
		/* calibration: jansson parsing each pattern text as a JSON string literal */
		char **quoted = calloc(c.count, sizeof(*quoted));
		for (size_t i = 0; i < c.count; i++) {
			json_t *s = json_string(c.v[i]);
			quoted[i] = json_dumps(s, JSON_ENCODE_ANY);
			json_decref(s);
		}
		for (int r = 0; r < runs; r++) {
			double t0 = now();
			for (int k = 0; k < 100; k++)
				for (size_t i = 0; i < c.count; i++)
					json_decref(json_loads(quoted[i], JSON_DECODE_ANY, NULL));
			t[r] = now() - t0;
		}
		qsort(t, (size_t)runs, sizeof(double), cmp_double);
		base = t[runs / 2];
		report("jansson string parse (calibration)", t, runs, 100.0 * (double)c.count,
		       "patterns", base);
		for (size_t i = 0; i < c.count; i++)
			free(quoted[i]);
		free(quoted);
	}
	for (int r = 0; r < runs; r++) {
		size_t bad = 0;
		double t0 = now();
		for (int k = 0; k < 100; k++)
			for (size_t i = 0; i < c.count; i++) {
				struct cp_pattern *p = NULL;
				if (cp_pattern_parse(c.v[i], strlen(c.v[i]), &p, NULL) != CP_OK)
					bad++;
				cp_pattern_free(p);
			}
		t[r] = now() - t0;
		if (r == 0 && bad)
			printf("  (%zu of %zu patterns are invalid and rejected)\n", bad / 100,
			       c.count);
	}
	report("cp_pattern_parse (with semantic checks)", t, runs, 100.0 * (double)c.count,
	       "patterns", base);
	for (int r = 0; r < runs; r++) {
		double t0 = now();
		for (int k = 0; k < 100; k++)
			for (size_t i = 0; i < c.count; i++) {
				struct cp_pattern *p = NULL;
				struct cp_pattern_evaluator *ev = NULL;
				if (cp_pattern_parse(c.v[i], strlen(c.v[i]), &p, NULL) == CP_OK &&
				    cp_pattern_evaluator_new(p, &ev) == CP_OK)
					cp_pattern_evaluator_free(ev);
				cp_pattern_free(p);
			}
		t[r] = now() - t0;
	}
	report("parse + evaluator_new (regex compile)", t, runs, 100.0 * (double)c.count,
	       "patterns", base);

	/* evaluation */
	sets = calloc(nobs, sizeof(*sets));
	docs = calloc(nobs, sizeof(*docs));
	for (size_t i = 0; i < nobs; i++) {
		docs[i] = observation((int)i);
		if (!docs[i] || cp_pattern_obs_set_from_json(docs[i], &sets[i], NULL) != CP_OK) {
			fprintf(stderr, "bench_pattern: cannot build observation %zu\n", i);
			return 2;
		}
	}
	printf("\nevaluate: %zu patterns x %zu single-observation sets, %d runs\n", npat, nobs,
	       runs);
	printf("  %-40s %9s %9s %12s %8s\n", "pattern", "best ms", "median ms", "evals/s",
	       "us/eval");
	for (size_t pi = 0; pi < npat; pi++) {
		struct cp_pattern *p = NULL;
		struct cp_pattern_evaluator *ev = NULL;
		size_t matches = 0;
		char label[48];
		if (cp_pattern_parse(eval_patterns[pi], strlen(eval_patterns[pi]), &p, NULL) ||
		    cp_pattern_evaluator_new(p, &ev)) {
			fprintf(stderr, "bench_pattern: bad pattern %s\n", eval_patterns[pi]);
			return 2;
		}
		for (int r = 0; r < runs; r++) {
			double t0 = now();
			for (int k = 0; k < 10; k++)
				for (size_t i = 0; i < nobs; i++) {
					struct cp_pattern_match m;
					if (cp_pattern_evaluator_run(ev, sets[i], &m) == CP_OK) {
						matches += m.is_match;
						cp_pattern_match_release(&m);
					}
				}
			t[r] = now() - t0;
		}
		qsort(t, (size_t)runs, sizeof(double), cmp_double);
		snprintf(label, sizeof(label), "%.40s", eval_patterns[pi]);
		printf("  %-40s %9.2f %9.2f %12.0f %8.2f   (%zu of %zu match)\n", label, t[0] * 1e3,
		       t[runs / 2] * 1e3, 10.0 * (double)nobs / t[runs / 2],
		       t[runs / 2] * 1e6 / (10.0 * (double)nobs), matches / (size_t)runs / 10,
		       nobs);
		cp_pattern_evaluator_free(ev);
		cp_pattern_free(p);
	}
	for (size_t i = 0; i < nobs; i++) {
		cp_pattern_obs_set_free(sets[i]);
		json_decref(docs[i]);
	}
	free(sets);
	free(docs);
	for (size_t i = 0; i < c.count; i++)
		free(c.v[i]);
	free(c.v);
	return 0;
}
