/* lib/store with the SQLite backend, on a temporary database file. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "storetest.h"
#include "cyberpact/store.h"

#define COLL "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
#define COLL2 "52892447-4d7e-4f70-b94d-d7f22742ff63"

struct fixture {
	char dir[64];
	char path[128];
	struct cp_store *s;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct cp_store_collection c = {(char *)COLL, (char *)"api1", (char *)"Indicators",
					(char *)"shared indicators", (char *)"indicators"};
	struct cp_store_collection c2 = {(char *)COLL2, (char *)"api1", (char *)"Other", NULL,
					 NULL};

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cp-store-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	assert_int_equal(cp_store_open_sqlite(fx->path, &fx->s, NULL), CP_OK);
	assert_int_equal(cp_store_collection_put(fx->s, &c), CP_OK);
	assert_int_equal(cp_store_collection_put(fx->s, &c2), CP_OK);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char p[160];

	cp_store_close(fx->s);
	unlink(fx->path);
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fx->path);
	unlink(p);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* An indicator version; n picks the id, v the modified second, name varies content. */
static struct cp_stix_object *indicator(int n, int v, const char *name)
{
	char id[80], modified[40];
	json_t *j;
	struct cp_stix_object *o = NULL;

	snprintf(id, sizeof(id), "indicator--%08x-0000-4000-8000-000000000000", n);
	snprintf(modified, sizeof(modified), "2020-01-01T00:00:%02d.000Z", v);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
		      "spec_version", "2.1", "id", id, "created", "2020-01-01T00:00:00.000Z",
		      "modified", modified, "name", name ? name : "x", "pattern",
		      "[ipv4-addr:value = '10.0.0.1']", "pattern_type", "stix", "valid_from",
		      "2020-01-01T00:00:00Z");
	assert_non_null(j);
	assert_int_equal(cp_stix_object_new(j, 0, NULL, &o), CP_OK);
	json_decref(j);
	return o;
}

static struct cp_stix_object *ipv4(const char *value)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "type", "ipv4-addr", "id",
			      "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value", value);
	struct cp_stix_object *o = NULL;
	assert_int_equal(cp_stix_object_new(j, CP_STIX_NO_SCO_ID, NULL, &o), CP_OK);
	json_decref(j);
	return o;
}

static void add1(struct cp_store *s, const char *coll, struct cp_stix_object *o,
		 enum cp_store_add_outcome want, struct cp_time *added)
{
	struct cp_store_add_result r;
	assert_int_equal(cp_store_add(s, coll, &o, 1, NULL, &r), CP_OK);
	assert_int_equal(r.outcome, want);
	if (added)
		*added = r.date_added;
	cp_stix_object_unref(o);
}

struct rows {
	size_t count;
	char ids[64][80];
	char versions[64][40];
	char origins[64][32];
	struct cp_time added[64];
	struct cp_store_marks marks[64];
};

static enum cp_err collect(const struct cp_store_row *row, void *ctx)
{
	struct rows *r = ctx;
	if (r->count < 64) {
		snprintf(r->ids[r->count], 80, "%s", row->id);
		snprintf(r->versions[r->count], 40, "%s", row->version);
		r->added[r->count] = row->date_added;
		snprintf(r->origins[r->count], 32, "%s", row->origin ? row->origin : "(none)");
		r->marks[r->count] = row->marks;
	}
	r->count++;
	return CP_OK;
}

static size_t query(struct cp_store *s, const struct cp_store_filter *f, struct rows *r,
		    struct cp_store_page *page)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(cp_store_query(s, f, collect, r, page), CP_OK);
	assert_int_equal(page->count, r->count);
	return r->count;
}

static void collections(void **state)
{
	struct fixture *fx = *state;
	struct cp_store_collection *list = NULL, one;
	struct cp_store_collection dup = {(char *)"b1b2b3b4-0000-4000-8000-000000000000",
					  (char *)"api1", (char *)"Dup", NULL,
					  (char *)"indicators"};
	size_t n = 0;

	assert_int_equal(cp_store_collection_list(fx->s, "api1", &list, &n), CP_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, COLL2); /* ordered by id */
	assert_null(list[0].description);
	assert_string_equal(list[1].alias, "indicators");
	cp_store_collection_list_free(list, n);
	assert_int_equal(cp_store_collection_list(fx->s, "nope", &list, &n), CP_OK);
	assert_int_equal(n, 0);
	cp_store_collection_list_free(list, n);

	assert_int_equal(cp_store_collection_get(fx->s, "api1", "indicators", &one), CP_OK);
	assert_string_equal(one.id, COLL);
	assert_string_equal(one.title, "Indicators");
	cp_store_collection_release(&one);
	assert_int_equal(cp_store_collection_get(fx->s, "api1", COLL2, &one), CP_OK);
	cp_store_collection_release(&one);
	assert_int_equal(cp_store_collection_get(fx->s, "api2", COLL, &one), CP_ENOTFOUND);
	/* aliases are unique within an API root */
	assert_int_equal(cp_store_collection_put(fx->s, &dup), CP_ECONFLICT);
}

static void add_outcomes_and_versions(void **state)
{
	struct fixture *fx = *state;
	struct rows r;
	struct cp_store_page page;
	struct cp_store_filter f = {.collection_id = COLL};
	struct cp_time a1, a2;

	add1(fx->s, COLL, indicator(1, 10, "a"), CP_STORE_ADDED, &a1);
	/* the same version again: success, nothing new, same date_added */
	add1(fx->s, COLL, indicator(1, 10, "a"), CP_STORE_EXISTING, &a2);
	assert_int_equal(cp_time_cmp(&a1, &a2), 0);
	/* same (id, modified) with other content */
	add1(fx->s, COLL, indicator(1, 10, "b"), CP_STORE_CONFLICT, NULL);
	/* an older and a newer version */
	add1(fx->s, COLL, indicator(1, 5, "old"), CP_STORE_ADDED, NULL);
	add1(fx->s, COLL, indicator(1, 20, "new"), CP_STORE_ADDED, NULL);
	add1(fx->s, COLL, indicator(2, 1, "x"), CP_STORE_ADDED, NULL);

	/* default: last versions */
	assert_int_equal(query(fx->s, &f, &r, &page), 2);
	assert_string_equal(r.versions[0], "2020-01-01T00:00:20.000Z");
	assert_false(page.more);
	f.versions = CP_STORE_VERSION_FIRST;
	assert_int_equal(query(fx->s, &f, &r, &page), 2);
	assert_string_equal(r.versions[0], "2020-01-01T00:00:05.000Z");
	f.versions = CP_STORE_VERSION_ALL;
	assert_int_equal(query(fx->s, &f, &r, &page), 4);
	f.versions = CP_STORE_VERSION_FIRST | CP_STORE_VERSION_LAST;
	assert_int_equal(query(fx->s, &f, &r, &page), 3);
	{
		struct cp_time t;
		assert_int_equal(cp_time_parse("2020-01-01T00:00:10Z", 20, &t, NULL), CP_OK);
		f.versions = 0;
		f.version_times = &t;
		f.version_time_count = 1;
		/* equal instant, different precision than stored */
		assert_int_equal(query(fx->s, &f, &r, &page), 1);
		assert_string_equal(r.versions[0], "2020-01-01T00:00:10.000Z");
		f.version_times = NULL;
		f.version_time_count = 0;
	}
}

static void scos_without_timestamps(void **state)
{
	struct fixture *fx = *state;
	struct cp_time a1, a2;

	add1(fx->s, COLL, ipv4("198.51.100.3"), CP_STORE_ADDED, &a1);
	add1(fx->s, COLL, ipv4("198.51.100.3"), CP_STORE_EXISTING, &a2);
	assert_int_equal(cp_time_cmp(&a1, &a2), 0);
	/* a changed SCO is a new version, versioned by its date_added */
	add1(fx->s, COLL, ipv4("198.51.100.4"), CP_STORE_ADDED, &a2);
	assert_true(cp_time_cmp(&a2, &a1) > 0);
}

static void filters(void **state)
{
	struct fixture *fx = *state;
	struct rows r;
	struct cp_store_page page;
	const char *ids[] = {"indicator--00000002-0000-4000-8000-000000000000",
			     "indicator--00000009-0000-4000-8000-000000000000"};
	const char *types[] = {"ipv4-addr"};
	const char *sv[] = {"2.0"};
	struct cp_store_filter f = {.collection_id = COLL};

	for (int i = 1; i <= 5; i++)
		add1(fx->s, COLL, indicator(i, 1, "x"), CP_STORE_ADDED, NULL);
	add1(fx->s, COLL, ipv4("10.0.0.1"), CP_STORE_ADDED, NULL);
	add1(fx->s, COLL2, indicator(7, 1, "x"), CP_STORE_ADDED, NULL);

	assert_int_equal(query(fx->s, &f, &r, &page), 6);
	f.ids = ids;
	f.id_count = 2;
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	assert_string_equal(r.ids[0], ids[0]);
	f.id_count = 0;
	f.types = types;
	f.type_count = 1;
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	f.type_count = 0;
	f.spec_versions = sv;
	f.spec_version_count = 1;
	assert_int_equal(query(fx->s, &f, &r, &page), 0);
	f.spec_version_count = 0;
	/* added_after is exclusive */
	f.has_added_after = true;
	assert_int_equal(query(fx->s, &f, &r, &page), 6); /* zero time: everything after */
	{
		struct rows all;
		struct cp_store_filter g = {.collection_id = COLL};
		query(fx->s, &g, &all, &page);
		f.added_after = all.added[2];
		assert_int_equal(query(fx->s, &f, &r, &page), 3);
		assert_string_equal(r.ids[0], all.ids[3]);
		assert_int_equal(cp_time_cmp(&page.first_added, &all.added[3]), 0);
		assert_int_equal(cp_time_cmp(&page.last_added, &all.added[5]), 0);
	}
	/* other collection untouched */
	f.has_added_after = false;
	f.collection_id = COLL2;
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	/* limits on IN lists */
	{
		static const char *many[1001];
		for (int i = 0; i < 1001; i++)
			many[i] = "x";
		f.ids = many;
		f.id_count = 1001;
		memset(&r, 0, sizeof(r));
		assert_int_equal(cp_store_query(fx->s, &f, collect, &r, &page), CP_ETOOBIG);
	}
}

static void paging_never_skips_or_repeats(void **state)
{
	struct fixture *fx = *state;
	struct cp_store *writer = NULL;
	struct cp_store_filter f = {.collection_id = COLL, .limit = 7};
	struct cp_store_page page;
	struct rows r;
	char next[CP_STORE_NEXT_MAX] = "";
	size_t seen = 0;
	int64_t last = INT64_MIN;
	int id = 1000;

	for (int i = 0; i < 30; i++)
		add1(fx->s, COLL, indicator(id++, 1, "x"), CP_STORE_ADDED, NULL);
	/* a second connection keeps writing between our pages */
	assert_int_equal(cp_store_open_sqlite(fx->path, &writer, NULL), CP_OK);
	for (;;) {
		f.next = next[0] ? next : NULL;
		query(fx->s, &f, &r, &page);
		for (size_t i = 0; i < r.count; i++) {
			int64_t us = r.added[i].sec * 1000000 + r.added[i].nsec / 1000;
			assert_true(us > last); /* strictly increasing: no repeats */
			last = us;
		}
		seen += r.count;
		if (id < 1040)
			for (int k = 0; k < 3; k++)
				add1(writer, COLL, indicator(id++, 1, "x"), CP_STORE_ADDED, NULL);
		if (!page.more)
			break;
		assert_true(page.next[0] != '\0');
		memcpy(next, page.next, sizeof(next));
	}
	assert_int_equal(seen, (size_t)(id - 1000)); /* everything written, once */
	cp_store_close(writer);
	/* a bad token */
	f.next = "garbage";
	assert_int_equal(cp_store_query(fx->s, &f, collect, &r, &page), CP_EINVAL);
}

static void delete_versions(void **state)
{
	struct fixture *fx = *state;
	struct cp_store_filter f = {.collection_id = COLL};
	struct rows r;
	struct cp_store_page page;
	size_t deleted = 0;
	const char *id = "indicator--00000001-0000-4000-8000-000000000000";

	add1(fx->s, COLL, indicator(1, 1, "a"), CP_STORE_ADDED, NULL);
	add1(fx->s, COLL, indicator(1, 2, "b"), CP_STORE_ADDED, NULL);
	add1(fx->s, COLL, indicator(1, 3, "c"), CP_STORE_ADDED, NULL);
	/* delete the last version: the previous one becomes last */
	assert_int_equal(cp_store_delete(fx->s, &f, id, &deleted), CP_OK);
	assert_int_equal(deleted, 1);
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	assert_string_equal(r.versions[0], "2020-01-01T00:00:02.000Z");
	f.versions = CP_STORE_VERSION_FIRST;
	assert_int_equal(cp_store_delete(fx->s, &f, id, &deleted), CP_OK);
	assert_int_equal(deleted, 1);
	f.versions = CP_STORE_VERSION_ALL;
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	assert_int_equal(cp_store_delete(fx->s, &f, id, &deleted), CP_OK);
	assert_int_equal(deleted, 1);
	assert_int_equal(cp_store_delete(fx->s, &f, id, &deleted), CP_OK);
	assert_int_equal(deleted, 0);
}

static void unknown_collection_changes_nothing(void **state)
{
	struct fixture *fx = *state;
	struct cp_stix_object *o = indicator(1, 1, "a");
	struct cp_store_add_result res;
	struct cp_store_filter f = {.collection_id = COLL, .versions = CP_STORE_VERSION_ALL};
	struct rows r;
	struct cp_store_page page;

	assert_int_equal(cp_store_add(fx->s, "no-such-collection", &o, 1, NULL, &res), CP_ENOTFOUND);
	cp_stix_object_unref(o);
	assert_int_equal(query(fx->s, &f, &r, &page), 0);
}

static void survives_reopen(void **state)
{
	struct fixture *fx = *state;
	struct cp_store_filter f = {.collection_id = COLL};
	struct rows r;
	struct cp_store_page page;
	char *json = NULL;

	add1(fx->s, COLL, indicator(1, 1, "a"), CP_STORE_ADDED, NULL);
	assert_int_equal(cp_store_status_put(fx->s, "api1", "s1", NULL, "{\"status\":\"complete\"}"),
			 CP_OK);
	cp_store_close(fx->s);
	assert_int_equal(cp_store_open_sqlite(fx->path, &fx->s, NULL), CP_OK);
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	assert_int_equal(cp_store_status_get(fx->s, "api1", "s1", NULL, &json), CP_OK);
	assert_string_equal(json, "{\"status\":\"complete\"}");
	cp_free(json);
	assert_int_equal(cp_store_status_get(fx->s, "api1", "s2", NULL, &json), CP_ENOTFOUND);
	assert_int_equal(cp_store_status_get(fx->s, "api2", "s1", NULL, &json), CP_ENOTFOUND);
}

static void open_errors(void **state)
{
	struct cp_store *s = NULL;
	struct cp_diag d;
	(void)state;
	cp_diag_init(&d);
	assert_int_not_equal(cp_store_open_sqlite("/nonexistent-dir/x/store.db", &s, &d), CP_OK);
	assert_null(s);
	assert_finding(&d, CP_SEV_ERROR, "store-open", "");
	cp_diag_release(&d);
}

static void batch_is_atomic(void **state)
{
	struct fixture *fx = *state;
	struct cp_stix_object *objs[3];
	struct cp_store_add_result res[3];
	struct cp_store_filter f = {.collection_id = COLL, .versions = CP_STORE_VERSION_ALL};
	struct rows r;
	struct cp_store_page page;

	objs[0] = indicator(1, 1, "a");
	objs[1] = indicator(2, 1, "a");
	objs[2] = indicator(1, 1, "a"); /* the same version twice in one batch */
	assert_int_equal(cp_store_add(fx->s, COLL, objs, 3, NULL, res), CP_OK);
	assert_int_equal(res[0].outcome, CP_STORE_ADDED);
	assert_int_equal(res[1].outcome, CP_STORE_ADDED);
	assert_int_equal(res[2].outcome, CP_STORE_EXISTING);
	assert_true(cp_time_cmp(&res[1].date_added, &res[0].date_added) > 0);
	for (int i = 0; i < 3; i++)
		cp_stix_object_unref(objs[i]);
	assert_int_equal(query(fx->s, &f, &r, &page), 2);
}

/* Objects and a status in one transaction: both or neither. */
static void transactions(void **state)
{
	struct fixture *fx = *state;
	struct cp_stix_object *o = indicator(1, 1, "a"), *o2 = indicator(2, 1, "b");
	struct cp_store_add_result res;
	struct cp_store_filter f = {.collection_id = COLL, .versions = CP_STORE_VERSION_ALL};
	struct rows r;
	struct cp_store_page page;
	char *json = NULL, *owner = NULL;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	cp_store_set_write_lock(fx->s, &lock);
	/* rolled back: nothing */
	assert_int_equal(cp_store_begin(fx->s), CP_OK);
	assert_int_equal(cp_store_begin(fx->s), CP_ECONFLICT);
	assert_int_equal(cp_store_add(fx->s, COLL, &o, 1, "us", &res), CP_OK);
	assert_int_equal(cp_store_status_put(fx->s, "api1", "s1", "us", "{}"), CP_OK);
	/* the write lock is held for the whole transaction */
	assert_int_equal(pthread_mutex_trylock(&lock), EBUSY);
	cp_store_rollback(fx->s);
	assert_int_equal(pthread_mutex_trylock(&lock), 0);
	pthread_mutex_unlock(&lock);
	assert_int_equal(query(fx->s, &f, &r, &page), 0);
	assert_int_equal(cp_store_status_get(fx->s, "api1", "s1", &owner, &json), CP_ENOTFOUND);

	/* committed: both, with origin and owner */
	assert_int_equal(cp_store_begin(fx->s), CP_OK);
	assert_int_equal(cp_store_add(fx->s, COLL, &o, 1, "us", &res), CP_OK);
	assert_int_equal(cp_store_add(fx->s, COLL, &o2, 1, NULL, &res), CP_OK);
	assert_int_equal(cp_store_status_put(fx->s, "api1", "s1", "us", "{\"a\":1}"), CP_OK);
	assert_int_equal(cp_store_commit(fx->s), CP_OK);
	assert_int_equal(cp_store_commit(fx->s), CP_EINVAL);
	assert_int_equal(query(fx->s, &f, &r, &page), 2);
	assert_string_equal(r.origins[0], "us");
	assert_string_equal(r.origins[1], "(none)");
	assert_int_equal(cp_store_status_get(fx->s, "api1", "s1", &owner, &json), CP_OK);
	assert_string_equal(owner, "us");
	assert_string_equal(json, "{\"a\":1}");
	cp_free(owner);
	cp_free(json);
	/* a second, identical delivery from someone else keeps the first origin */
	assert_int_equal(cp_store_add(fx->s, COLL, &o, 1, "jp", &res), CP_OK);
	assert_int_equal(res.outcome, CP_STORE_EXISTING);
	assert_int_equal(query(fx->s, &f, &r, &page), 2);
	assert_string_equal(r.origins[0], "us");
	/* closing with an open transaction rolls it back */
	assert_int_equal(cp_store_begin(fx->s), CP_OK);
	assert_int_equal(cp_store_status_put(fx->s, "api1", "s2", NULL, "{}"), CP_OK);
	cp_store_close(fx->s);
	assert_int_equal(pthread_mutex_trylock(&lock), 0);
	pthread_mutex_unlock(&lock);
	assert_int_equal(cp_store_open_sqlite(fx->path, &fx->s, NULL), CP_OK);
	assert_int_equal(cp_store_status_get(fx->s, "api1", "s2", NULL, &json), CP_ENOTFOUND);
	cp_stix_object_unref(o);
	cp_stix_object_unref(o2);
}

/* The marks a writer gives are kept with each version and given back as they were. */
static void marks_kept(void **state)
{
	struct fixture *fx = *state;
	struct cp_stix_object *objs[2] = {indicator(9, 1, "a"), indicator(10, 1, "b")};
	struct cp_store_marks marks[2] = {{true, 4, 2, false, true}, {true, 1, 0, true, false}};
	struct cp_store_add_result res[2];
	struct cp_store_filter f = {.collection_id = COLL};
	struct rows r;
	struct cp_store_page page;

	assert_int_equal(cp_store_add_texts(fx->s, COLL, objs, NULL, marks, 2, NULL, res), CP_OK);
	assert_int_equal(query(fx->s, &f, &r, &page), 2);
	assert_true(r.marks[0].known);
	assert_int_equal(r.marks[0].tlp, 4);
	assert_int_equal(r.marks[0].pap, 2);
	assert_true(r.marks[0].consultation);
	assert_false(r.marks[0].bad_marking);
	assert_true(r.marks[1].known && r.marks[1].bad_marking && !r.marks[1].consultation);
	assert_int_equal(r.marks[1].tlp, 1);
	/* without marks: not known, for the reader to work out */
	add1(fx->s, COLL, indicator(11, 1, "c"), CP_STORE_ADDED, NULL);
	f.ids = (const char *const[]){"indicator--0000000b-0000-4000-8000-000000000000"};
	f.id_count = 1;
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	assert_false(r.marks[0].known);
	cp_stix_object_unref(objs[0]);
	cp_stix_object_unref(objs[1]);
}

/* The same (id, version) with members in another order is the same version. */
static void key_order(void **state)
{
	struct fixture *fx = *state;
	json_t *a = json_loads("{\"type\":\"indicator\",\"spec_version\":\"2.1\","
			       "\"id\":\"indicator--0000000a-0000-4000-8000-000000000000\","
			       "\"created\":\"2020-01-01T00:00:00.000Z\","
			       "\"modified\":\"2020-01-01T00:00:00.000Z\","
			       "\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\","
			       "\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\"}",
			       0, NULL);
	json_t *b = json_loads("{\"valid_from\":\"2020-01-01T00:00:00Z\",\"pattern_type\":\"stix\","
			       "\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\","
			       "\"modified\":\"2020-01-01T00:00:00.000Z\","
			       "\"created\":\"2020-01-01T00:00:00.000Z\","
			       "\"id\":\"indicator--0000000a-0000-4000-8000-000000000000\","
			       "\"spec_version\":\"2.1\",\"type\":\"indicator\"}",
			       0, NULL);
	struct cp_stix_object *oa = NULL, *ob = NULL;

	assert_int_equal(cp_stix_object_new(a, 0, NULL, &oa), CP_OK);
	assert_int_equal(cp_stix_object_new(b, 0, NULL, &ob), CP_OK);
	add1(fx->s, COLL, oa, CP_STORE_ADDED, NULL);
	add1(fx->s, COLL, ob, CP_STORE_EXISTING, NULL);
	json_object_set_new(b, "name", json_string("changed"));
	ob = NULL; /* add1 released it */
	assert_int_equal(cp_stix_object_new(b, 0, NULL, &ob), CP_OK);
	add1(fx->s, COLL, ob, CP_STORE_CONFLICT, NULL);
	json_decref(a);
	json_decref(b);
}

static void cursors(void **state)
{
	struct fixture *fx = *state;
	char *v = NULL;
	char big[CP_STORE_CURSOR_MAX + 2];

	assert_int_equal(cp_store_cursor_get(fx->s, "peer/a", &v), CP_ENOTFOUND);
	assert_int_equal(cp_store_cursor_put(fx->s, "peer/a", "n1-5"), CP_OK);
	assert_int_equal(cp_store_cursor_put(fx->s, "peer/a", "n1-6"), CP_OK);
	assert_int_equal(cp_store_cursor_get(fx->s, "peer/a", &v), CP_OK);
	assert_string_equal(v, "n1-6");
	cp_free(v);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(cp_store_cursor_put(fx->s, "peer/a", big), CP_ETOOBIG);
	/* in a rolled-back transaction the cursor does not move */
	assert_int_equal(cp_store_begin(fx->s), CP_OK);
	assert_int_equal(cp_store_cursor_put(fx->s, "peer/a", "n1-7"), CP_OK);
	cp_store_rollback(fx->s);
	assert_int_equal(cp_store_cursor_get(fx->s, "peer/a", &v), CP_OK);
	assert_string_equal(v, "n1-6");
	cp_free(v);
}

/*
 * Replace the fixture's store with one an older release wrote: its meta and
 * collections tables (as schemas 1 and 2 had them), then the given SQL.
 */
static void old_store(struct fixture *fx, const char *sql)
{
	size_t n = strlen(sql) + 1024;
	char *cmd = malloc(n);

	cp_store_close(fx->s);
	fx->s = NULL;
	unlink(fx->path);
	snprintf(cmd, n,
		 "sqlite3 '%s' \"PRAGMA journal_mode=WAL;"
		 "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
		 "CREATE TABLE collections(id TEXT PRIMARY KEY, api_root TEXT NOT NULL, title TEXT "
		 "NOT NULL, description TEXT, alias TEXT, UNIQUE(api_root, alias));%s\" >/dev/null",
		 fx->path, sql);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* A store written by schema 1 is upgraded in place and keeps its objects. */
static void upgrade_from_schema_1(void **state)
{
	struct fixture *fx = *state;
	char cmd[2048];
	struct cp_store_filter f = {.collection_id = COLL};
	struct rows r;
	struct cp_store_page page;
	char *json = NULL, *owner = NULL;
	struct cp_diag d;

	snprintf(cmd, sizeof(cmd),
		 "CREATE TABLE objects(seq INTEGER PRIMARY KEY, collection TEXT NOT NULL, id TEXT "
		 "NOT NULL, type TEXT NOT NULL, spec_version TEXT NOT NULL, version_key TEXT NOT "
		 "NULL, version TEXT NOT NULL, date_added INTEGER NOT NULL, revoked INTEGER NOT "
		 "NULL, is_first INTEGER NOT NULL, is_last INTEGER NOT NULL, json TEXT NOT NULL, "
		 "UNIQUE(collection, date_added), UNIQUE(collection, id, version_key));"
		 "CREATE TABLE statuses(api_root TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT "
		 "NULL, PRIMARY KEY(api_root, id));"
		 "INSERT INTO meta VALUES('schema_version','1');"
		 "INSERT INTO collections VALUES('%s','api1','T',NULL,NULL);"
		 "INSERT INTO objects VALUES(1,'%s','indicator--1','indicator','2.1','k','v',5,0,1,1,"
		 "'{\\\"object_marking_refs\\\":[\\\"marking-definition--e828b379-4e03-4974-9ac4-"
		 "e53a884c97c1\\\"]}');"
		 "INSERT INTO statuses VALUES('api1','s1','{}');",
		 COLL, COLL);
	old_store(fx, cmd);
	assert_int_equal(cp_store_open_sqlite(fx->path, &fx->s, NULL), CP_OK);
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	assert_string_equal(r.ids[0], "indicator--1");
	/* such rows have no marks; the gate's caller reads them from the JSON */
	assert_false(r.marks[0].known);
	assert_int_equal(cp_store_status_get(fx->s, "api1", "s1", &owner, &json), CP_OK);
	assert_null(owner);
	cp_free(json);
	/* and a store from a newer release is refused, not rewritten */
	cp_store_close(fx->s);
	fx->s = NULL;
	snprintf(cmd, sizeof(cmd),
		 "sqlite3 '%s' \"UPDATE meta SET value='99' WHERE key='schema_version'\"", fx->path);
	assert_int_equal(system(cmd), 0);
	cp_diag_init(&d);
	assert_int_equal(cp_store_open_sqlite(fx->path, &fx->s, &d), CP_EUNSUPPORTED);
	assert_finding(&d, CP_SEV_ERROR, "store-version", "");
	cp_diag_release(&d);
	assert_int_equal(cp_store_open_sqlite(fx->path, &fx->s, NULL), CP_EUNSUPPORTED);
	fx->s = NULL;
}

/*
 * A store written by schema 2 (collections named by their text id in every row) is
 * upgraded in place: rows keep their collection, versions, flags, origin and marks,
 * and the store takes new objects, deletions and collections afterwards.
 */
static void upgrade_from_schema_2(void **state)
{
	struct fixture *fx = *state;
	char cmd[4096];
	struct cp_store_filter f = {.collection_id = COLL};
	struct cp_store_filter f2 = {.collection_id = COLL2};
	struct cp_store_collection c3 = {(char *)"c3c3c3c3-0000-4000-8000-000000000000",
					 (char *)"api1", (char *)"Third", NULL, NULL};
	struct rows r;
	struct cp_store_page page;
	size_t deleted;

	snprintf(cmd, sizeof(cmd),
		 "CREATE TABLE objects(seq INTEGER PRIMARY KEY, collection TEXT NOT NULL "
		 "REFERENCES collections(id), id TEXT NOT NULL, type TEXT NOT NULL, spec_version "
		 "TEXT NOT NULL, version_key TEXT NOT NULL, version TEXT NOT NULL, date_added "
		 "INTEGER NOT NULL, revoked INTEGER NOT NULL, is_first INTEGER NOT NULL, is_last "
		 "INTEGER NOT NULL, json TEXT NOT NULL, origin TEXT, tlp INTEGER NOT NULL DEFAULT "
		 "0, pap INTEGER NOT NULL DEFAULT 0, gate INTEGER NOT NULL DEFAULT 4, "
		 "UNIQUE(collection, date_added), UNIQUE(collection, id, version_key));"
		 "CREATE INDEX objects_last ON objects(collection, is_last, date_added);"
		 "CREATE INDEX objects_type ON objects(collection, type, date_added);"
		 "CREATE TABLE statuses(api_root TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT "
		 "NULL, owner TEXT, PRIMARY KEY(api_root, id));"
		 "CREATE TABLE cursors(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
		 "INSERT INTO meta VALUES('schema_version','2');"
		 "INSERT INTO collections VALUES('%s','api1','One',NULL,'one');"
		 "INSERT INTO collections VALUES('%s','api1','Two',NULL,NULL);"
		 "INSERT INTO objects VALUES(1,'%s','indicator--a','indicator','2.1','k1','v1',5,0,"
		 "1,0,'{}','peer-a',2,1,0);"
		 "INSERT INTO objects VALUES(2,'%s','indicator--a','indicator','2.1','k2','v2',6,0,"
		 "0,1,'{}',NULL,3,2,0);"
		 "INSERT INTO objects VALUES(3,'%s','indicator--b','indicator','2.1','k1','v1',5,0,"
		 "1,1,'{}',NULL,0,0,4);"
		 "INSERT INTO cursors VALUES('peer-a','c1');",
		 COLL, COLL2, COLL, COLL, COLL2);
	old_store(fx, cmd);
	assert_int_equal(cp_store_open_sqlite(fx->path, &fx->s, NULL), CP_OK);

	/* the two versions of indicator--a stay in the first collection, flags and all */
	f.versions = CP_STORE_VERSION_ALL;
	assert_int_equal(query(fx->s, &f, &r, &page), 2);
	assert_string_equal(r.versions[0], "v1");
	assert_string_equal(r.origins[0], "peer-a");
	assert_true(r.marks[0].known);
	assert_int_equal(r.marks[1].tlp, 3);
	f.versions = CP_STORE_VERSION_LAST;
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	assert_string_equal(r.versions[0], "v2");
	assert_int_equal(query(fx->s, &f2, &r, &page), 1);
	assert_string_equal(r.ids[0], "indicator--b");
	assert_false(r.marks[0].known);

	/* new objects, a deletion and a new collection work on the upgraded store */
	add1(fx->s, COLL2, indicator(7, 1, NULL), CP_STORE_ADDED, NULL);
	assert_int_equal(query(fx->s, &f2, &r, &page), 2);
	f.versions = 0;
	assert_int_equal(cp_store_delete(fx->s, &f, "indicator--a", &deleted), CP_OK);
	assert_int_equal(deleted, 1);
	f.versions = CP_STORE_VERSION_ALL;
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	assert_string_equal(r.versions[0], "v1");
	f.versions = CP_STORE_VERSION_LAST;
	assert_int_equal(query(fx->s, &f, &r, &page), 1); /* v1 is the last one now */
	assert_int_equal(cp_store_collection_put(fx->s, &c3), CP_OK);
	add1(fx->s, c3.id, indicator(8, 1, NULL), CP_STORE_ADDED, NULL);
	f.collection_id = c3.id;
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	f2.versions = CP_STORE_VERSION_ALL;
	assert_int_equal(query(fx->s, &f2, &r, &page), 2);
}

/*
 * Filters by id find their rows through the (collection, id, version) index, whatever
 * else the filter holds: the work of such a query does not grow with the collection
 * (without this, one object's GET walked every current version: 70-90 ms at 200k).
 */
static void lookups_by_id_use_the_index(void **state)
{
	struct fixture *fx = *state;
	enum { N = 3000 };
	struct cp_stix_object **objs = calloc(N, sizeof(*objs));
	struct cp_store_add_result *res = calloc(N, sizeof(*res));
	char id[80];
	const char *ids[1] = {id}, *types[1] = {"indicator"};
	struct cp_store_filter f = {.collection_id = COLL, .ids = ids, .id_count = 1};
	struct cp_store_filter walk = {.collection_id = COLL, .limit = N};
	struct rows r;
	struct cp_store_page page;
	struct cp_time first;

	for (int i = 0; i < N; i++)
		objs[i] = indicator(100 + i, 1, NULL);
	assert_int_equal(cp_store_add(fx->s, COLL, objs, N, NULL, res), CP_OK);
	for (int i = 0; i < N; i++)
		cp_stix_object_unref(objs[i]);
	add1(fx->s, COLL, indicator(100 + 1234, 2, NULL), CP_STORE_ADDED, NULL);
	snprintf(id, sizeof(id), "indicator--%08x-0000-4000-8000-000000000000", 100 + 1234);

	/* a walk over the collection: the measure's scale */
	query(fx->s, &walk, &r, &page);
	assert_int_equal(page.count, N);
	assert_true(page.backend_steps > N);

	f.versions = CP_STORE_VERSION_LAST;
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	assert_string_equal(r.ids[0], id);
	assert_true(page.backend_steps < 200);
	f.versions = CP_STORE_VERSION_ALL;
	assert_int_equal(query(fx->s, &f, &r, &page), 2);
	assert_true(page.backend_steps < 200);
	f.versions = CP_STORE_VERSION_FIRST | CP_STORE_VERSION_LAST;
	f.types = types;
	f.type_count = 1;
	assert_int_equal(query(fx->s, &f, &r, &page), 2);
	assert_true(page.backend_steps < 200);
	first = r.added[0];
	f.has_added_after = true;
	f.added_after = first;
	assert_int_equal(query(fx->s, &f, &r, &page), 1);
	assert_true(page.backend_steps < 200);
	free(objs);
	free(res);
}

struct texts {
	size_t count;
	char json[8][700];
	struct cp_time added[8];
	bool only[8];
};

static enum cp_err collect_text(const struct cp_store_row *row, void *ctx)
{
	struct texts *t = ctx;
	if (t->count < 8) {
		snprintf(t->json[t->count], sizeof(t->json[0]), "%.*s", (int)row->json_len, row->json);
		t->added[t->count] = row->date_added;
		t->only[t->count] = !row->id && !row->type && !row->version && !row->origin &&
				    !row->marks.known;
	}
	t->count++;
	return CP_OK;
}

/* texts_only: rows carry the stored text and date_added, nothing else; same rows. */
static void texts_only_rows(void **state)
{
	struct fixture *fx = *state;
	struct cp_store_filter f = {.collection_id = COLL};
	struct rows all;
	struct texts lean;
	struct cp_store_page page;

	for (int i = 0; i < 5; i++)
		add1(fx->s, COLL, indicator(40 + i, 1, NULL), CP_STORE_ADDED, NULL);
	add1(fx->s, COLL, indicator(41, 2, "newer"), CP_STORE_ADDED, NULL);
	assert_int_equal(query(fx->s, &f, &all, &page), 5);
	f.texts_only = true;
	memset(&lean, 0, sizeof(lean));
	assert_int_equal(cp_store_query(fx->s, &f, collect_text, &lean, &page), CP_OK);
	assert_int_equal(page.count, 5);
	assert_int_equal(lean.count, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_true(cp_time_cmp(&lean.added[i], &all.added[i]) == 0);
		assert_non_null(strstr(lean.json[i], all.ids[i])); /* the text holds the id */
		assert_true(lean.only[i]); /* nothing else in the row */
	}
	/* the newer version of indicator 41 is the one delivered, added last */
	assert_non_null(strstr(lean.json[4], "newer"));
}

/* The number of rows of a table, read with a connection of its own. */
static long table_rows(const char *path, const char *table)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	char sql[64];
	long n = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

static size_t versions_of(struct cp_store *s, int n, unsigned versions, struct rows *r)
{
	char id[80];
	const char *ids[1] = {id};
	struct cp_store_filter f = {.collection_id = COLL, .ids = ids, .id_count = 1,
				    .versions = versions};
	struct cp_store_page page;

	snprintf(id, sizeof(id), "indicator--%08x-0000-4000-8000-000000000000", n);
	return query(s, &f, r, &page);
}

/*
 * Versions of one id spread over the ids table and the recent ids (merges after a
 * few rows): outcomes, first/last, lookups by id and deletes are the same as with
 * every row in one place, and so after a reopen (the recent ids read back).
 */
#define ID7 "indicator--00000007-0000-4000-8000-000000000000"

static void ids_move_in_batches(void **state)
{
	struct fixture *fx = *state;
	size_t saved = cp__store_recent_min, deleted = 0;
	struct cp_store_filter f = {.collection_id = COLL};
	struct rows r;
	struct cp_store_page page;
	long merged;

	cp__store_recent_min = 3;
	for (int v = 1; v <= 7; v++) { /* versions 1..7 of indicator 7, others between */
		add1(fx->s, COLL, indicator(7, v, NULL), CP_STORE_ADDED, NULL);
		add1(fx->s, COLL, indicator(100 + v, 1, NULL), CP_STORE_ADDED, NULL);
	}
	merged = table_rows(fx->path, "ids");
	assert_true(merged > 0 && merged < 14); /* some moved, some still recent */
	add1(fx->s, COLL, indicator(7, 3, NULL), CP_STORE_EXISTING, NULL);
	add1(fx->s, COLL, indicator(7, 6, "other"), CP_STORE_CONFLICT, NULL);
	assert_int_equal(versions_of(fx->s, 7, CP_STORE_VERSION_ALL, &r), 7);
	for (size_t i = 0; i < 7; i++) {
		char want[40];
		snprintf(want, sizeof(want), "2020-01-01T00:00:%02zu.000Z", i + 1);
		assert_string_equal(r.versions[i], want);
	}
	assert_int_equal(versions_of(fx->s, 7, CP_STORE_VERSION_FIRST | CP_STORE_VERSION_LAST, &r),
			 2);
	/* an older version than all: it becomes first */
	add1(fx->s, COLL, indicator(7, 0, NULL), CP_STORE_ADDED, NULL);
	assert_int_equal(versions_of(fx->s, 7, CP_STORE_VERSION_FIRST, &r), 1);
	assert_string_equal(r.versions[0], "2020-01-01T00:00:00.000Z");
	/* one current version per id in a walk */
	assert_int_equal(query(fx->s, &f, &r, &page), 8);

	/* delete the last version (in the recent ids) and the first (merged) */
	f.versions = CP_STORE_VERSION_LAST;
	assert_int_equal(cp_store_delete(fx->s, &f, ID7, &deleted), CP_OK);
	assert_int_equal(deleted, 1);
	f.versions = CP_STORE_VERSION_FIRST;
	assert_int_equal(cp_store_delete(fx->s, &f, ID7, &deleted), CP_OK);
	assert_int_equal(deleted, 1);
	assert_int_equal(versions_of(fx->s, 7, CP_STORE_VERSION_FIRST | CP_STORE_VERSION_LAST, &r), 2);
	assert_string_equal(r.versions[0], "2020-01-01T00:00:01.000Z");
	assert_string_equal(r.versions[1], "2020-01-01T00:00:06.000Z");
	/* a deleted version may come back */
	add1(fx->s, COLL, indicator(7, 7, NULL), CP_STORE_ADDED, NULL);

	cp_store_close(fx->s);
	cp__store_recent_min = saved; /* nothing merges now: the reopened store reads back */
	assert_int_equal(cp_store_open_sqlite(fx->path, &fx->s, NULL), CP_OK);
	assert_int_equal(versions_of(fx->s, 7, CP_STORE_VERSION_ALL, &r), 7);
	assert_string_equal(r.versions[6], "2020-01-01T00:00:07.000Z");
	add1(fx->s, COLL, indicator(7, 2, NULL), CP_STORE_EXISTING, NULL);
	add1(fx->s, COLL, indicator(7, 7, NULL), CP_STORE_EXISTING, NULL);
	for (int v = 1; v <= 7; v++)
		assert_int_equal(versions_of(fx->s, 100 + v, CP_STORE_VERSION_ALL, &r), 1);
	assert_int_equal(versions_of(fx->s, 7, CP_STORE_VERSION_LAST, &r), 1);
	assert_string_equal(r.versions[0], "2020-01-01T00:00:07.000Z");
}

/* In a child process: add version v of indicator n; exits 0 when it was added. */
static void add_elsewhere(const char *path, int n, int v)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct cp_store *s = NULL;
		struct cp_stix_object *o = indicator(n, v, NULL);
		struct cp_store_add_result res;
		int ok = cp_store_open_sqlite(path, &s, NULL) == CP_OK &&
			 cp_store_add(s, COLL, &o, 1, NULL, &res) == CP_OK &&
			 res.outcome == CP_STORE_ADDED;
		cp_store_close(s);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * Rows written by another process are found by id at once (they are above what
 * this process has read), and a new version written here sees them.
 */
static void other_process_rows(void **state)
{
	struct fixture *fx = *state;
	struct rows r;

	add1(fx->s, COLL, indicator(9, 5, NULL), CP_STORE_ADDED, NULL);
	assert_int_equal(versions_of(fx->s, 9, CP_STORE_VERSION_ALL, &r), 1);
	add_elsewhere(fx->path, 9, 9);
	add_elsewhere(fx->path, 10, 1);
	assert_int_equal(versions_of(fx->s, 10, CP_STORE_VERSION_ALL, &r), 1);
	assert_int_equal(versions_of(fx->s, 9, CP_STORE_VERSION_LAST, &r), 1);
	assert_string_equal(r.versions[0], "2020-01-01T00:00:09.000Z");
	/* between the two: neither first nor last */
	add1(fx->s, COLL, indicator(9, 7, NULL), CP_STORE_ADDED, NULL);
	add1(fx->s, COLL, indicator(9, 9, NULL), CP_STORE_EXISTING, NULL);
	assert_int_equal(versions_of(fx->s, 9, CP_STORE_VERSION_FIRST | CP_STORE_VERSION_LAST, &r),
			 2);
	assert_string_equal(r.versions[0], "2020-01-01T00:00:05.000Z");
	assert_string_equal(r.versions[1], "2020-01-01T00:00:09.000Z");
}

/*
 * A rolled back add leaves no trace: the next writers, another process and another
 * connection, get the same row numbers for other ids, and lookups and new versions
 * tell them apart.
 */
static void rolled_back_rows_are_not_found(void **state)
{
	struct fixture *fx = *state;
	struct cp_store *other = NULL;
	struct rows r;

	assert_int_equal(cp_store_open_sqlite(fx->path, &other, NULL), CP_OK);
	add1(fx->s, COLL, indicator(20, 1, NULL), CP_STORE_ADDED, NULL);
	assert_int_equal(cp_store_begin(fx->s), CP_OK);
	add1(fx->s, COLL, indicator(21, 1, NULL), CP_STORE_ADDED, NULL);
	add1(fx->s, COLL, indicator(22, 1, NULL), CP_STORE_ADDED, NULL);
	cp_store_rollback(fx->s);
	add_elsewhere(fx->path, 23, 1); /* the rows 21 had */
	/* a newer version here makes the other process's row no longer last */
	add1(fx->s, COLL, indicator(23, 2, NULL), CP_STORE_ADDED, NULL);
	assert_int_equal(versions_of(fx->s, 23, CP_STORE_VERSION_LAST, &r), 1);
	assert_string_equal(r.versions[0], "2020-01-01T00:00:02.000Z");
	assert_int_equal(versions_of(fx->s, 23, CP_STORE_VERSION_ALL, &r), 2);
	add1(other, COLL, indicator(24, 1, NULL), CP_STORE_ADDED, NULL);
	assert_int_equal(versions_of(fx->s, 21, CP_STORE_VERSION_ALL, &r), 0);
	assert_int_equal(versions_of(fx->s, 22, CP_STORE_VERSION_ALL, &r), 0);
	assert_int_equal(versions_of(other, 23, CP_STORE_VERSION_ALL, &r), 2);
	assert_int_equal(versions_of(other, 24, CP_STORE_VERSION_ALL, &r), 1);
	add1(fx->s, COLL, indicator(21, 1, NULL), CP_STORE_ADDED, NULL);
	add1(other, COLL, indicator(21, 1, NULL), CP_STORE_EXISTING, NULL);
	add1(other, COLL, indicator(22, 1, NULL), CP_STORE_ADDED, NULL);
	assert_int_equal(versions_of(fx->s, 22, CP_STORE_VERSION_ALL, &r), 1);
	cp_store_close(other);
}

/* Every row of the ids table names a row of the objects table, each at most once. */
static void ids_consistent(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT (SELECT count(*) FROM ids WHERE seq NOT IN "
					    "(SELECT seq FROM objects)), "
					    "(SELECT count(*) - count(DISTINCT seq) FROM ids), "
					    "(SELECT count(*) FROM ids WHERE seq > (SELECT CAST(value "
					    "AS INTEGER) FROM meta WHERE key = 'ids_merged'))",
					    -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 0);
	assert_int_equal(sqlite3_column_int(q, 1), 0);
	assert_int_equal(sqlite3_column_int(q, 2), 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/*
 * kill -9 a writer that merges often, at random moments, five times: every batch it
 * was told was stored is found by id after a reopen, the ids table names only
 * stored rows, and writing goes on. (The writer gets 4-25 batches of 50 stored per
 * round here, merging every few batches.)
 */
static void crash_during_merges(void **state)
{
	struct fixture *fx = *state;
	enum { BATCH = 50, ROUNDS = 5 };
	struct rows r;

	srand((unsigned)getpid());
	for (int round = 0; round < ROUNDS; round++) {
		int fds[2], status, acked = -1;
		pid_t pid;
		long merged, stored;

		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct cp_store *s = NULL;
			struct cp_stix_object *objs[BATCH];
			struct cp_store_add_result res[BATCH];

			close(fds[0]);
			cp__store_recent_min = 20;
			if (cp_store_open_sqlite(fx->path, &s, NULL) != CP_OK)
				_exit(1);
			for (int b = 0;; b++) {
				for (int i = 0; i < BATCH; i++)
					objs[i] = indicator(round * 100000 + b * BATCH + i, 1, NULL);
				if (cp_store_add(s, COLL, objs, BATCH, NULL, res) != CP_OK)
					_exit(1);
				for (int i = 0; i < BATCH; i++)
					cp_stix_object_unref(objs[i]);
				if (write(fds[1], &b, sizeof(b)) != sizeof(b))
					_exit(1);
			}
		}
		close(fds[1]);
		/* the kill comes at a random moment after the first stored batch (a busy
		 * machine may take longer than the sleep to store one) */
		assert_int_equal(read(fds[0], &acked, sizeof(acked)), (ssize_t)sizeof(acked));
		usleep(20000 + (useconds_t)(rand() % 60000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status)); /* killed, not failed */
		while (read(fds[0], &acked, sizeof(acked)) == (ssize_t)sizeof(acked))
			;
		close(fds[0]);
		assert_true(acked >= 0);

		cp_store_close(fx->s);
		assert_int_equal(cp_store_open_sqlite(fx->path, &fx->s, NULL), CP_OK);
		ids_consistent(fx->path);
		/* merges kept up: what is not merged is less than an eighth and a batch */
		merged = table_rows(fx->path, "ids");
		stored = table_rows(fx->path, "objects");
		assert_true(merged > 0 && merged <= stored);
		assert_true(stored - merged <= stored / 8 + BATCH);
		for (int n = 0; n < (acked + 1) * BATCH; n++)
			assert_int_equal(versions_of(fx->s, round * 100000 + n, CP_STORE_VERSION_ALL, &r),
					 1);
		/* stored once: the same version again is no new row */
		add1(fx->s, COLL, indicator(round * 100000, 1, NULL), CP_STORE_EXISTING, NULL);
		add1(fx->s, COLL, indicator(round * 100000, 2, NULL), CP_STORE_ADDED, NULL);
	}
}

/*
 * Readers on connections of their own look objects up by id while a writer adds
 * them and merges every few batches: every object the writer was told is stored is
 * found, whether it is in the recent ids, in the ids table, or moving between them.
 */
struct lookups {
	const char *path;
	atomic_int acked; /* batches stored */
	atomic_bool stop;
	atomic_long found, missing;
};

#define LOOKUP_BATCH 20

static void *lookup_writer(void *arg)
{
	struct lookups *lk = arg;
	struct cp_store *s = NULL;

	if (cp_store_open_sqlite(lk->path, &s, NULL) != CP_OK)
		return NULL;
	for (int b = 0; b < 150; b++) {
		struct cp_stix_object *objs[LOOKUP_BATCH];
		struct cp_store_add_result res[LOOKUP_BATCH];
		enum cp_err err;
		for (int i = 0; i < LOOKUP_BATCH; i++)
			objs[i] = indicator(50000 + b * LOOKUP_BATCH + i, 1, NULL);
		err = cp_store_add(s, COLL, objs, LOOKUP_BATCH, NULL, res);
		for (int i = 0; i < LOOKUP_BATCH; i++)
			cp_stix_object_unref(objs[i]);
		if (err)
			break;
		atomic_store(&lk->acked, b + 1);
	}
	atomic_store(&lk->stop, true);
	cp_store_close(s);
	return NULL;
}

static void *lookup_reader(void *arg)
{
	struct lookups *lk = arg;
	struct cp_store *s = NULL;
	unsigned seed = (unsigned)(uintptr_t)&s;

	if (cp_store_open_sqlite(lk->path, &s, NULL) != CP_OK)
		return NULL;
	while (!atomic_load(&lk->stop)) {
		int acked = atomic_load(&lk->acked), n;
		unsigned span;
		char id[80];
		const char *ids[1] = {id};
		struct cp_store_filter f = {.collection_id = COLL, .ids = ids, .id_count = 1,
					    .versions = CP_STORE_VERSION_ALL};
		struct rows r;
		struct cp_store_page page;
		if (!acked)
			continue;
		/* mostly the newest batches: the ones a merge is about to move */
		span = rand_r(&seed) % 4 ? 3 * LOOKUP_BATCH : (unsigned)acked * LOOKUP_BATCH;
		n = acked * LOOKUP_BATCH - 1 - (int)((unsigned)rand_r(&seed) % span);
		if (n < 0)
			n = 0;
		snprintf(id, sizeof(id), "indicator--%08x-0000-4000-8000-000000000000", 50000 + n);
		memset(&r, 0, sizeof(r));
		if (cp_store_query(s, &f, collect, &r, &page) == CP_OK && r.count == 1)
			atomic_fetch_add(&lk->found, 1);
		else
			atomic_fetch_add(&lk->missing, 1);
	}
	cp_store_close(s);
	return NULL;
}

static void readers_during_merges(void **state)
{
	struct fixture *fx = *state;
	size_t saved = cp__store_recent_min;
	struct lookups lk = {.path = fx->path};
	pthread_t w, r[2];
	long merged;

	cp__store_recent_min = 30;
	atomic_init(&lk.acked, 0);
	atomic_init(&lk.stop, false);
	atomic_init(&lk.found, 0);
	atomic_init(&lk.missing, 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&r[i], NULL, lookup_reader, &lk), 0);
	assert_int_equal(pthread_create(&w, NULL, lookup_writer, &lk), 0);
	pthread_join(w, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	cp__store_recent_min = saved;
	assert_int_equal(atomic_load(&lk.acked), 150);
	assert_int_equal(atomic_load(&lk.missing), 0);
	assert_true(atomic_load(&lk.found) > 100);
	merged = table_rows(fx->path, "ids");
	assert_true(merged > 150 * LOOKUP_BATCH / 2); /* merges ran while they looked */
}

/* A store whose ids_key is damaged or gone is refused with a finding, not opened with
 * another key (lookups by id would then miss every merged object). */
static void damaged_ids_key(void **state)
{
	struct fixture *fx = *state;
	static const char *const damage[] = {
		"UPDATE meta SET value = 'zz' WHERE key = 'ids_key'",
		"UPDATE meta SET value = '00' WHERE key = 'ids_key'",
		"DELETE FROM meta WHERE key = 'ids_key'",
	};
	struct rows r;

	add1(fx->s, COLL, indicator(70, 1, NULL), CP_STORE_ADDED, NULL);
	cp_store_close(fx->s);
	fx->s = NULL;
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		sqlite3 *db = NULL;
		struct cp_diag d;
		char *saved = NULL;
		assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
		{
			sqlite3_stmt *q = NULL;
			assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'ids_key'",
							    -1, &q, NULL), SQLITE_OK);
			assert_int_equal(sqlite3_step(q), SQLITE_ROW);
			saved = strdup((const char *)sqlite3_column_text(q, 0));
			sqlite3_finalize(q);
		}
		assert_int_equal(sqlite3_exec(db, damage[i], NULL, NULL, NULL), SQLITE_OK);
		cp_diag_init(&d);
		assert_int_not_equal(cp_store_open_sqlite(fx->path, &fx->s, &d), CP_OK);
		assert_null(fx->s);
		assert_finding(&d, CP_SEV_ERROR, "store-open", "");
		assert_non_null(strstr(d.items[0].message, "ids_key"));
		cp_diag_release(&d);
		/* put it back: the store opens and finds its object again */
		{
			sqlite3_stmt *q = NULL;
			assert_int_equal(sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta VALUES('ids_key', ?1)",
							    -1, &q, NULL), SQLITE_OK);
			sqlite3_bind_text(q, 1, saved, -1, SQLITE_TRANSIENT);
			assert_int_equal(sqlite3_step(q), SQLITE_DONE);
			sqlite3_finalize(q);
		}
		free(saved);
		sqlite3_close(db);
		assert_int_equal(cp_store_open_sqlite(fx->path, &fx->s, NULL), CP_OK);
		assert_int_equal(versions_of(fx->s, 70, CP_STORE_VERSION_ALL, &r), 1);
		cp_store_close(fx->s);
		fx->s = NULL;
	}
	assert_int_equal(cp_store_open_sqlite(fx->path, &fx->s, NULL), CP_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(collections, setup, teardown),
		cmocka_unit_test_setup_teardown(add_outcomes_and_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(scos_without_timestamps, setup, teardown),
		cmocka_unit_test_setup_teardown(filters, setup, teardown),
		cmocka_unit_test_setup_teardown(paging_never_skips_or_repeats, setup, teardown),
		cmocka_unit_test_setup_teardown(delete_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_collection_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(survives_reopen, setup, teardown),
		cmocka_unit_test(open_errors),
		cmocka_unit_test_setup_teardown(batch_is_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(marks_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(key_order, setup, teardown),
		cmocka_unit_test_setup_teardown(cursors, setup, teardown),
		cmocka_unit_test_setup_teardown(upgrade_from_schema_1, setup, teardown),
		cmocka_unit_test_setup_teardown(upgrade_from_schema_2, setup, teardown),
		cmocka_unit_test_setup_teardown(lookups_by_id_use_the_index, setup, teardown),
		cmocka_unit_test_setup_teardown(texts_only_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(ids_move_in_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(other_process_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(rolled_back_rows_are_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_during_merges, setup, teardown),
		cmocka_unit_test_setup_teardown(readers_during_merges, setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_ids_key, setup, teardown),
	};
	return run_with_and_without_merges("store", tests);
}
