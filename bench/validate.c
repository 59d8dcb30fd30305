/*
 * bench_validate: how fast is STIX 2.1 validation, next to plain JSON parsing?
 *
 * usage: bench_validate SHARED_DATA_DIR [RUNS]
 *
 * Workloads:
 *  (a) the MITRE ATT&CK for ICS bundle, SHARED_DATA_DIR/stix21/attack/ics-attack-18.1.json;
 *  (b) a synthetic bundle of 100,000 indicators generated in memory (distinct ids,
 *      millisecond timestamps, name, description, an ipv4-addr pattern, labels, a kill
 *      chain phase and a TLP marking reference).
 * For each, RUNS (default 7, at least 5) timed runs of every stage; prints the best and
 * the median wall time (CLOCK_MONOTONIC), objects/s and MB/s (10^6 bytes of JSON text).
 * The baseline is jansson's own json_loadb on the same text in the same process, with
 * the allocator libcyberpact gives it (cp_malloc); a first stage shows jansson on plain
 * libc malloc, for the cost of that hook.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cyberpact/stix.h"

#define SYNTH_INDICATORS 100000

struct workload {
	const char *name;
	char *text;
	size_t len;
	size_t objects;
};

static double now_s(void)
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

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			char *p = realloc(buf, cap ? cap * 2 : 1 << 20);
			if (!p) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
			cap = cap ? cap * 2 : 1 << 20;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}

/* xorshift64*: deterministic ids, so every run benchmarks the same text */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void put_uuid4(struct cp_buf *b)
{
	uint64_t hi = rng(), lo = rng();

	hi = (hi & ~0xf000ull) | 0x4000ull;                        /* version 4 */
	lo = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull; /* RFC 4122 variant */
	cp_buf_printf(b, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
	              (unsigned)(hi >> 16) & 0xffff, (unsigned)hi & 0xffff, (unsigned)(lo >> 48),
	              (unsigned long long)(lo & 0xffffffffffffull));
}

static char *synth_bundle(size_t count, size_t *len)
{
	static const char *const phases[] = {"command-and-control", "exfiltration",
	                                     "initial-access", "discovery"};
	struct cp_buf b = CP_BUF_INIT(CP_LIMIT_DOC_BYTES);
	char identity[80];

	{
		struct cp_buf id = CP_BUF_INIT(0);
		cp_buf_puts(&id, "identity--");
		put_uuid4(&id);
		snprintf(identity, sizeof(identity), "%s", id.ptr ? id.ptr : "");
		cp_buf_release(&id);
	}
	cp_buf_puts(&b, "{\"type\":\"bundle\",\"id\":\"bundle--");
	put_uuid4(&b);
	cp_buf_puts(&b, "\",\"objects\":[");
	for (size_t i = 0; i < count; i++) {
		unsigned ip = (unsigned)(0xc6336400u + i * 2654435761u % 0x00ffffffu);
		unsigned day = (unsigned)(i % 28) + 1, ms = (unsigned)(i % 1000);
		unsigned sec = (unsigned)(i % 60), min = (unsigned)(i / 60 % 60);

		if (i)
			cp_buf_putc(&b, ',');
		cp_buf_puts(
		        &b,
		        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--");
		put_uuid4(&b);
		cp_buf_printf(&b,
		              "\",\"created_by_ref\":\"%s\","
		              "\"created\":\"2024-02-%02uT10:%02u:%02u.%03uZ\","
		              "\"modified\":\"2024-03-%02uT11:%02u:%02u.%03uZ\","
		              "\"name\":\"C2 server %u.%u.%u.%u\","
		              "\"description\":\"Address observed serving command and control "
		              "traffic for a botnet during incident %zu; block at the perimeter.\","
		              "\"indicator_types\":[\"malicious-activity\"],"
		              "\"pattern\":\"[ipv4-addr:value = '%u.%u.%u.%u']\","
		              "\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\","
		              "\"valid_from\":\"2024-02-%02uT10:%02u:%02u.%03uZ\","
		              "\"labels\":[\"botnet\",\"c2\"],"
		              "\"kill_chain_phases\":[{\"kill_chain_name\":\"mitre-attack\","
		              "\"phase_name\":\"%s\"}],"
		              "\"confidence\":%u,"
		              "\"object_marking_refs\":[\"marking-definition--"
		              "34098fce-860f-48ae-8e50-ebd3cc5e41da\"]}",
		              identity, day, min, sec, ms, day, min, sec, ms, ip >> 24,
		              ip >> 16 & 255, ip >> 8 & 255, ip & 255, i, ip >> 24, ip >> 16 & 255,
		              ip >> 8 & 255, ip & 255, day, min, sec, ms, phases[i % 4],
		              (unsigned)(i % 101));
	}
	cp_buf_puts(&b, "]}");
	if (cp_buf_finish(&b)) {
		cp_buf_release(&b);
		return NULL;
	}
	*len = b.len;
	return cp_buf_take(&b);
}

enum stage {
	STAGE_JANSSON_LIBC,
	STAGE_JANSSON,
	STAGE_JANSSON_FREE,
	STAGE_JANSSON_ARENA,
	STAGE_PARSE,
	STAGE_FULL,
	STAGE_FULL_NO_PATTERN,
	STAGE_VALIDATE,
	STAGE_COUNT_
};

static const char *const stage_names[STAGE_COUNT_] = {
        "jansson json_loadb, libc malloc",
        "jansson json_loadb (baseline)",
        "json_loadb + json_decref",
        "json_loadb + json_decref, jansson arena",
        "cp_stix_json_parse",
        "parse + validate",
        "parse + validate, CP_STIX_NO_PATTERN",
        "validate only (parsed tree)",
};

/* One timed run of a stage; returns seconds, or a negative value on failure. */
static double run_stage(const struct workload *w, enum stage s, struct cp_diag *d)
{
	json_t *j = NULL;
	json_error_t jerr;
	double t0, t1;
	enum cp_err err = CP_OK;

	cp_diag_clear(d);
	if (s == STAGE_VALIDATE) {
		if (cp_stix_json_parse(w->text, w->len, &j, d))
			return -1;
		cp_diag_clear(d);
	}
	t0 = now_s();
	switch (s) {
	case STAGE_JANSSON_LIBC: {
		/* the cost of routing jansson through cp_malloc (failure injection hook) */
		json_malloc_t m;
		json_free_t f;
		bool ok;
		json_get_alloc_funcs(&m, &f);
		json_set_alloc_funcs(malloc, free);
		t0 = now_s();
		j = json_loadb(w->text, w->len, JSON_REJECT_DUPLICATES, &jerr);
		t1 = now_s();
		ok = j != NULL;
		json_decref(j);
		json_set_alloc_funcs(m, f);
		return ok ? t1 - t0 : -1;
	}
	case STAGE_JANSSON:
		j = json_loadb(w->text, w->len, JSON_REJECT_DUPLICATES, &jerr);
		if (!j)
			err = CP_EPARSE;
		break;
	case STAGE_JANSSON_FREE:
	case STAGE_JANSSON_ARENA: {
		/* what a POST pays for its tree: parse and release, with cp_malloc or in the
		 * thread's arena (cp_json_arena_begin, as lib/taxii parses envelopes) */
		bool arena = s == STAGE_JANSSON_ARENA && cp_json_arena_begin();
		bool ok;
		t0 = now_s();
		j = json_loadb(w->text, w->len, JSON_REJECT_DUPLICATES, &jerr);
		ok = j != NULL;
		json_decref(j);
		if (arena)
			cp_json_arena_end();
		t1 = now_s();
		return ok ? t1 - t0 : -1;
	}
	case STAGE_PARSE:
		err = cp_stix_json_parse(w->text, w->len, &j, d);
		break;
	case STAGE_FULL:
	case STAGE_FULL_NO_PATTERN:
		err = cp_stix_json_parse(w->text, w->len, &j, d);
		if (!err)
			err = cp_stix_validate(j, s == STAGE_FULL ? 0 : CP_STIX_NO_PATTERN, d);
		break;
	case STAGE_VALIDATE:
		err = cp_stix_validate(j, 0, d);
		break;
	case STAGE_COUNT_:
		break;
	}
	t1 = now_s();
	json_decref(j); /* freeing the tree is not part of any stage */
	return err ? -1 : t1 - t0;
}

static int bench(const struct workload *w, int runs)
{
	struct cp_diag d;
	double *t = calloc((size_t)runs, sizeof(*t));
	double best[STAGE_COUNT_], median[STAGE_COUNT_];
	size_t errors = 0, warnings = 0;

	if (!t)
		return 1;
	cp_diag_init(&d);
	for (int s = 0; s < STAGE_COUNT_; s++) {
		/* one untimed warm-up run, so page faults of the first touch do not count */
		if (run_stage(w, (enum stage)s, &d) < 0) {
			fprintf(stderr, "bench_validate: %s failed on %s\n", stage_names[s],
			        w->name);
			free(t);
			cp_diag_release(&d);
			return 1;
		}
		for (int r = 0; r < runs; r++)
			t[r] = run_stage(w, (enum stage)s, &d);
		qsort(t, (size_t)runs, sizeof(*t), cmp_double);
		best[s] = t[0];
		median[s] = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
		if (s == STAGE_FULL) {
			errors = d.errors;
			warnings = d.warnings;
		}
	}
	printf("\n%s: %.2f MB of JSON, %zu objects\n", w->name, (double)w->len / 1e6, w->objects);
	printf("  %-38s %9s %9s %11s %7s %8s\n", "stage", "best ms", "median ms", "objects/s",
	       "MB/s", "/jansson");
	for (int s = 0; s < STAGE_COUNT_; s++)
		printf("  %-38s %9.1f %9.1f %11.0f %7.1f %8.2f\n", stage_names[s], best[s] * 1e3,
		       median[s] * 1e3, (double)w->objects / best[s],
		       (double)w->len / 1e6 / best[s], best[s] / best[STAGE_JANSSON]);
	printf("  findings of parse + validate: %zu errors, %zu warnings\n", errors, warnings);
	free(t);
	cp_diag_release(&d);
	return 0;
}

static size_t count_objects(const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	size_t n = json_array_size(json_object_get(j, "objects"));
	json_decref(j);
	return n;
}

int main(int argc, char **argv)
{
	char path[4096];
	struct workload attack = {"ATT&CK for ICS 18.1 (stix21/attack/ics-attack-18.1.json)", NULL,
	                          0, 0};
	struct workload synth = {"synthetic bundle of 100,000 indicators", NULL, 0, 0};
	int runs = 7, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_validate SHARED_DATA_DIR [RUNS]\n");
		return 2;
	}
	if (argc > 2) {
		char *end = NULL;
		long n;
		errno = 0;
		n = strtol(argv[2], &end, 10);
		if (errno || !end || *end || n < 5 || n > 1000) {
			fprintf(stderr, "bench_validate: RUNS must be 5..1000\n");
			return 2;
		}
		runs = (int)n;
	}
	cp_json_use_cp_alloc();
	snprintf(path, sizeof(path), "%s/stix21/attack/ics-attack-18.1.json", argv[1]);
	attack.text = read_file(path, &attack.len);
	if (!attack.text) {
		fprintf(stderr, "bench_validate: cannot read '%s': %s\n", path, strerror(errno));
		return 2;
	}
	attack.objects = count_objects(attack.text, attack.len);
	synth.text = synth_bundle(SYNTH_INDICATORS, &synth.len);
	if (!synth.text) {
		fprintf(stderr, "bench_validate: cannot build the synthetic bundle\n");
		free(attack.text);
		return 2;
	}
	synth.objects = SYNTH_INDICATORS;

	printf("bench_validate: %d timed runs per stage (after one warm-up); best and median\n"
	       "wall time, CLOCK_MONOTONIC; objects/s and MB/s (10^6 bytes of JSON text) from\n"
	       "the best run; /jansson = best time over jansson's best time\n",
	       runs);
	rc |= bench(&attack, runs);
	rc |= bench(&synth, runs);
	free(attack.text);
	cp_free(synth.text);
	return rc;
}
