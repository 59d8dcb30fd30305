/*
 * lib/store/internal.h - the backend interface behind cyberpact/store.h. Each
 * backend (sqlite/, later pg/) provides one const ops table; store.c dispatches.
 */
#ifndef CYBERPACT_STORE_INTERNAL_H
#define CYBERPACT_STORE_INTERNAL_H

#include "cyberpact/store.h"
#include "common.h"

struct cp__store_ops {
	const char *name;
	void (*close)(struct cp_store *s);
	enum cp_err (*collection_put)(struct cp_store *s, const struct cp_store_collection *c);
	enum cp_err (*collection_list)(struct cp_store *s, const char *api_root,
				       struct cp_store_collection **out, size_t *count);
	enum cp_err (*collection_get)(struct cp_store *s, const char *api_root,
				      const char *id_or_alias, struct cp_store_collection *out);
	enum cp_err (*begin)(struct cp_store *s);
	enum cp_err (*commit)(struct cp_store *s);
	void (*rollback)(struct cp_store *s);
	enum cp_err (*add)(struct cp_store *s, const char *collection_id,
			   struct cp_stix_object *const *objs, const char *const *texts,
			   const struct cp_store_marks *marks, size_t count, const char *origin,
			   struct cp_store_add_result *results);
	enum cp_err (*query)(struct cp_store *s, const struct cp_store_filter *f,
			     int64_t after_us, bool has_after, size_t limit, cp_store_row_fn fn,
			     void *ctx, struct cp_store_page *page);
	enum cp_err (*del)(struct cp_store *s, const struct cp_store_filter *f, const char *id,
			   size_t *deleted);
	enum cp_err (*status_put)(struct cp_store *s, const char *api_root, const char *id,
				  const char *owner, const char *json);
	enum cp_err (*status_get)(struct cp_store *s, const char *api_root, const char *id,
				  char **owner, char **json);
	enum cp_err (*cursor_put)(struct cp_store *s, const char *name, const char *value);
	enum cp_err (*cursor_get)(struct cp_store *s, const char *name, char **value);
};

/* Every backend's struct starts with this. */
struct cp_store {
	const struct cp__store_ops *ops;
	pthread_mutex_t *write_lock; /* shared by the process's connections, or NULL */
	bool in_tx;                  /* cp_store_begin() is open */
	char errmsg[256];
};

void cp__store_set_error(struct cp_store *s, const char *fmt, ...) CP_PRINTF(2, 3);

/* date_added <-> microseconds since the epoch */
int64_t cp__store_time_to_us(const struct cp_time *t);
struct cp_time cp__store_us_to_time(int64_t us);

/*
 * The sortable key of a version: "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (always 9 digits),
 * so that text order is time order and equal instants have equal keys.
 */
#define CP__STORE_VKEY_LEN CP_TIME_TEXT_MAX
void cp__store_version_key(const struct cp_time *t, char out[CP__STORE_VKEY_LEN]);

/* Recent ids before a merge into the ids table (sqlite/sqlite.c); tests lower it. */
extern size_t cp__store_recent_min;

/* Upper bound on entries of one IN list of a query (ids, types, versions, ...). */
#define CP__STORE_MAX_IN 1000

#endif
