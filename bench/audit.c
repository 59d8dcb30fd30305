/*
 * bench_audit: what the audit trail costs its callers. Prints figures; asserts nothing
 * (beyond the trail verifying at the end).
 *
 * usage: bench_audit [RECORDS [THREADS]]   (default 200,000 records, 4 threads)
 *
 * Three loads, each on a fresh trail in a temporary directory on the disk that /tmp is
 * on (the figures are the disk's as much as the code's: every commit is an fsync):
 *  1. throughput: THREADS threads append RECORDS records of ~200 bytes in calls of 50,
 *     without waiting; the time includes the final flush by cp_audit_close();
 *  2. GET pages: each call is what the TAXII server writes per page (a RELEASE record
 *     listing 100 (id, version) pairs, ~7 KB, and a WITHHOLD record naming 5 ids with
 *     reasons), with wait=true; latency per call;
 *  3. POSTs: one small record per call, wait=true; latency per call.
 * Latencies are from the call to cp_audit_append() to its return: queueing, the group
 * commit with its fsync, and the anchor update.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cyberpact/audit.h"

static char dir[64];
static char path[128];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void remove_trail(void)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", ".anchor", ".anchor.tmp"};
	char p[192];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		unlink(p);
	}
}

static struct cp_audit *open_trail(void)
{
	struct cp_audit *a = NULL;

	remove_trail();
	if (cp_audit_open(path, &a, NULL) != CP_OK) {
		fprintf(stderr, "bench_audit: cannot open '%s'\n", path);
		exit(1);
	}
	return a;
}

static void check(const char *what, int64_t want)
{
	int64_t count = -1;
	struct cp_diag d;

	cp_diag_init(&d);
	if (cp_audit_verify(path, &count, &d) != CP_OK || count != want) {
		fprintf(stderr, "bench_audit: %s: trail does not verify (%lld records, want %lld)\n",
			what, (long long)count, (long long)want);
		exit(1);
	}
	cp_diag_release(&d);
}

enum load { THROUGHPUT, PAGES, POSTS };

struct worker {
	struct cp_audit *a;
	enum load load;
	int id;
	size_t calls, per_call;
	double *lat; /* seconds per call (PAGES, POSTS) */
	int failed;
};

static const char coll[] = "5b7a3c8e-1f2d-4e6a-9b0c-3d4e5f6a7b8c";
static char page[8192], withheld[512];

/* The detail texts of a GET page: 100 released (id, version) pairs, 5 withheld ids. */
static void build_page_texts(void)
{
	size_t n = 0;

	n += (size_t)snprintf(page + n, sizeof(page) - n, "[");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(page + n, sizeof(page) - n,
				      "%s[\"indicator--%08x-17d4-4cbf-938f-98ee46b3cd3f\","
				      "\"2024-05-01T10:00:00.000Z\"]",
				      i ? "," : "", (unsigned)i);
	snprintf(page + n, sizeof(page) - n, "]");
	n = 0;
	n += (size_t)snprintf(withheld + n, sizeof(withheld) - n, "{");
	for (int i = 0; i < 5; i++)
		n += (size_t)snprintf(withheld + n, sizeof(withheld) - n,
				      "%s\"malware--%08x-6f7f-459a-80ea-9c1f17b5891b\":"
				      "\"tlp-ceiling\"",
				      i ? "," : "", (unsigned)i);
	snprintf(withheld + n, sizeof(withheld) - n, "}");
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct cp_audit_record recs[50];
	char objs[50][64], details[50][96], req[32];

	for (size_t c = 0; c < w->calls; c++) {
		size_t n = w->per_call;
		double t0;

		snprintf(req, sizeof(req), "req-%d-%zu", w->id, c);
		for (size_t i = 0; i < n; i++) {
			snprintf(objs[i], sizeof(objs[i]),
				 "indicator--%08x-17d4-4cbf-938f-98ee46b3cd3f",
				 (unsigned)(c * n + i));
			snprintf(details[i], sizeof(details[i]),
				 "released to cert-north under agreement 2024-07 (tlp:green) %zu",
				 i);
			recs[i] = (struct cp_audit_record){
				.kind = CP_AUDIT_RELEASE,
				.partner = "cert-north",
				.action = "GET objects",
				.collection = coll,
				.object = objs[i],
				.version = "2024-05-01T10:00:00.000Z",
				.reason = "ok",
				.detail = details[i],
				.request_id = req,
			};
		}
		if (w->load == PAGES) {
			recs[0].object = recs[0].version = NULL;
			recs[0].detail = page;
			recs[1] = recs[0];
			recs[1].kind = CP_AUDIT_WITHHOLD;
			recs[1].reason = "tlp-ceiling";
			recs[1].detail = withheld;
		} else if (w->load == POSTS) {
			recs[0].kind = CP_AUDIT_WRITE;
			recs[0].action = "POST objects";
		}
		t0 = now_s();
		if (cp_audit_append(w->a, recs, n, w->load != THROUGHPUT) != CP_OK) {
			w->failed = 1;
			return NULL;
		}
		if (w->lat)
			w->lat[c] = now_s() - t0;
	}
	return NULL;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

static void run(const char *name, enum load load, int threads, size_t calls, size_t per_call)
{
	pthread_t th[64];
	struct worker w[64];
	double *lat = NULL, t0, t1;
	size_t total = (size_t)threads * calls;
	struct cp_audit *a = open_trail();

	if (load != THROUGHPUT) {
		lat = calloc(total, sizeof(*lat));
		if (!lat)
			exit(1);
	}
	t0 = now_s();
	for (int t = 0; t < threads; t++) {
		w[t] = (struct worker){a, load, t, calls, per_call, lat ? lat + t * calls : NULL, 0};
		pthread_create(&th[t], NULL, worker_main, &w[t]);
	}
	for (int t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	cp_audit_close(a);
	t1 = now_s();
	for (int t = 0; t < threads; t++)
		if (w[t].failed) {
			fprintf(stderr, "bench_audit: %s: an append failed\n", name);
			exit(1);
		}
	check(name, (int64_t)(total * per_call));
	printf("%-10s %8zu records in %7zu calls, %d threads: %8.3f s, %9.0f records/s",
	       name, total * per_call, total, threads, t1 - t0, (double)(total * per_call) / (t1 - t0));
	if (lat) {
		qsort(lat, total, sizeof(*lat), cmp_double);
		printf(", wait=true latency p50 %.2f ms, p99 %.2f ms, max %.2f ms",
		       lat[total / 2] * 1e3, lat[total * 99 / 100] * 1e3, lat[total - 1] * 1e3);
	}
	putchar('\n');
	free(lat);
}

int main(int argc, char **argv)
{
	size_t records = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	int threads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 4;

	if (records < 1000 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: bench_audit [RECORDS (>= 1000) [THREADS (1..64)]]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "/tmp/cp-bench-audit-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("bench_audit: mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/audit.db", dir);

	build_page_texts();
	run("throughput", THROUGHPUT, threads, records / (size_t)threads / 50, 50);
	run("GET pages", PAGES, threads, records / 200 / (size_t)threads, 2);
	run("POSTs", POSTS, threads, records / 200 / (size_t)threads, 1);

	remove_trail();
	rmdir(dir);
	return 0;
}
