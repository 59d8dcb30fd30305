/* The backend-independent half of the store: argument checks, next tokens, dispatch. */
#include <stdarg.h>

#include "internal.h"

void cp__store_set_error(struct cp_store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
}

const char *cp_store_errmsg(const struct cp_store *s)
{
	return s ? s->errmsg : "";
}

void cp_store_close(struct cp_store *s)
{
	if (!s)
		return;
	cp_store_rollback(s);
	s->ops->close(s);
}

void cp_store_set_write_lock(struct cp_store *s, pthread_mutex_t *m)
{
	s->write_lock = m;
}

enum cp_err cp_store_begin(struct cp_store *s)
{
	enum cp_err err;

	if (s->in_tx)
		return CP_ECONFLICT;
	err = s->ops->begin(s);
	if (!err)
		s->in_tx = true;
	return err;
}

enum cp_err cp_store_commit(struct cp_store *s)
{
	if (!s->in_tx)
		return CP_EINVAL;
	s->in_tx = false;
	return s->ops->commit(s);
}

void cp_store_rollback(struct cp_store *s)
{
	if (!s->in_tx)
		return;
	s->in_tx = false;
	s->ops->rollback(s);
}

int64_t cp__store_time_to_us(const struct cp_time *t)
{
	return t->sec * 1000000 + t->nsec / 1000;
}

struct cp_time cp__store_us_to_time(int64_t us)
{
	struct cp_time t;
	int64_t sec = us / 1000000, rem = us % 1000000;

	if (rem < 0) {
		rem += 1000000;
		sec--;
	}
	t.sec = sec;
	t.nsec = (uint32_t)rem * 1000;
	t.frac_digits = 6;
	return t;
}

void cp__store_version_key(const struct cp_time *t, char out[CP__STORE_VKEY_LEN])
{
	cp_time_format_digits(t, 9, out);
}

void cp_store_collection_release(struct cp_store_collection *c)
{
	if (!c)
		return;
	cp_free(c->id);
	cp_free(c->api_root);
	cp_free(c->title);
	cp_free(c->description);
	cp_free(c->alias);
	memset(c, 0, sizeof(*c));
}

void cp_store_collection_list_free(struct cp_store_collection *list, size_t count)
{
	for (size_t i = 0; list && i < count; i++)
		cp_store_collection_release(&list[i]);
	cp_free(list);
}

enum cp_err cp_store_collection_put(struct cp_store *s, const struct cp_store_collection *c)
{
	if (!c->id || !c->api_root || !c->title)
		return CP_EINVAL;
	return s->ops->collection_put(s, c);
}

enum cp_err cp_store_collection_list(struct cp_store *s, const char *api_root,
				     struct cp_store_collection **out, size_t *count)
{
	return s->ops->collection_list(s, api_root, out, count);
}

enum cp_err cp_store_collection_get(struct cp_store *s, const char *api_root,
				    const char *id_or_alias, struct cp_store_collection *out)
{
	return s->ops->collection_get(s, api_root, id_or_alias, out);
}

enum cp_err cp_store_add_texts(struct cp_store *s, const char *collection_id,
			       struct cp_stix_object *const *objs, const char *const *texts,
			       const struct cp_store_marks *marks, size_t count, const char *origin,
			       struct cp_store_add_result *results)
{
	if (!collection_id || (count && (!objs || !results)))
		return CP_EINVAL;
	if (count == 0)
		return CP_OK;
	return s->ops->add(s, collection_id, objs, texts, marks, count, origin, results);
}

enum cp_err cp_store_add(struct cp_store *s, const char *collection_id,
			 struct cp_stix_object *const *objs, size_t count, const char *origin,
			 struct cp_store_add_result *results)
{
	return cp_store_add_texts(s, collection_id, objs, NULL, NULL, count, origin, results);
}

/*
 * The next token is opaque to clients: "n1-" and the date_added (µs, hex) of the
 * last row delivered. date_added is unique per collection, so it names a position.
 */
static void make_next(char out[CP_STORE_NEXT_MAX], int64_t us)
{
	snprintf(out, CP_STORE_NEXT_MAX, "n1-%" PRIx64, (uint64_t)us);
}

void cp_store_next_token(const struct cp_time *last, char out[CP_STORE_NEXT_MAX])
{
	make_next(out, cp__store_time_to_us(last));
}

static bool parse_next(const char *tok, int64_t *us)
{
	uint64_t v = 0;
	size_t n = 0;

	if (strncmp(tok, "n1-", 3) != 0)
		return false;
	for (const char *p = tok + 3; *p; p++, n++) {
		int d = (*p >= '0' && *p <= '9')   ? *p - '0'
			: (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
						   : -1;
		if (d < 0 || n >= 16)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (n == 0)
		return false;
	*us = (int64_t)v;
	return true;
}

enum cp_err cp_store_query(struct cp_store *s, const struct cp_store_filter *f, cp_store_row_fn fn,
			   void *ctx, struct cp_store_page *page)
{
	int64_t after = 0;
	bool has_after = false;
	size_t limit;
	enum cp_err err;

	memset(page, 0, sizeof(*page));
	if (!f->collection_id)
		return CP_EINVAL;
	if (f->id_count > CP__STORE_MAX_IN || f->type_count > CP__STORE_MAX_IN ||
	    f->version_time_count > CP__STORE_MAX_IN || f->spec_version_count > CP__STORE_MAX_IN)
		return CP_ETOOBIG;
	if (f->has_added_after) {
		/* rows hold whole microseconds, so "date_added > t" is "> floor(t)" even when
		 * t carries nanoseconds */
		after = cp__store_time_to_us(&f->added_after);
		has_after = true;
	}
	if (f->next) {
		int64_t n;
		if (!parse_next(f->next, &n))
			return CP_EINVAL;
		if (!has_after || n > after)
			after = n;
		has_after = true;
	}
	limit = f->limit == 0 || f->limit > CP_STORE_MAX_PAGE ? CP_STORE_MAX_PAGE : f->limit;
	err = s->ops->query(s, f, after, has_after, limit, fn, ctx, page);
	if (!err && page->more)
		make_next(page->next, cp__store_time_to_us(&page->last_added));
	return err;
}

enum cp_err cp_store_delete(struct cp_store *s, const struct cp_store_filter *f, const char *id,
			    size_t *deleted)
{
	if (!f->collection_id || !id)
		return CP_EINVAL;
	if (f->version_time_count > CP__STORE_MAX_IN || f->spec_version_count > CP__STORE_MAX_IN)
		return CP_ETOOBIG;
	return s->ops->del(s, f, id, deleted);
}

enum cp_err cp_store_status_put(struct cp_store *s, const char *api_root, const char *id,
				const char *owner, const char *json)
{
	if (!api_root || !id || !json)
		return CP_EINVAL;
	return s->ops->status_put(s, api_root, id, owner, json);
}

enum cp_err cp_store_status_get(struct cp_store *s, const char *api_root, const char *id,
				char **owner, char **json)
{
	if (owner)
		*owner = NULL;
	return s->ops->status_get(s, api_root, id, owner, json);
}

enum cp_err cp_store_cursor_put(struct cp_store *s, const char *name, const char *value)
{
	if (!name || !value)
		return CP_EINVAL;
	if (strlen(value) > CP_STORE_CURSOR_MAX)
		return CP_ETOOBIG;
	return s->ops->cursor_put(s, name, value);
}

enum cp_err cp_store_cursor_get(struct cp_store *s, const char *name, char **value)
{
	if (!name)
		return CP_EINVAL;
	return s->ops->cursor_get(s, name, value);
}
