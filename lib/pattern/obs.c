/*
 * Observation sets: the observed-data objects of JSON documents with their SCOs,
 * indexed for the evaluator (by key within an observation, by type across the set).
 */
#include "obs.h"

/* A top-level object of the document, for resolving object_refs. */
struct top {
	const char *id;
	const json_t *obj;
	size_t pos;
};

static int top_cmp(const void *a, const void *b)
{
	const struct top *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The first object (in document order) with this id, or NULL. */
static const struct top *find_top(const struct top *tops, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(tops[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(tops[lo].id, id) == 0 ? &tops[lo] : NULL;
}

static int sco_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cp__pat_sco *)a)->key, ((const struct cp__pat_sco *)b)->key);
}

static int by_type_cmp(const void *a, const void *b, void *ctx)
{
	const struct cp__pat_sco *scos = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(scos[x].type, scos[y].type);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

enum cp_err cp_pattern_obs_set_new(struct cp_pattern_obs_set **out)
{
	struct cp_pattern_obs_set *set = cp_calloc(1, sizeof(*set));

	if (!set)
		return CP_ENOMEM;
	*out = set;
	return CP_OK;
}

void cp_pattern_obs_set_free(struct cp_pattern_obs_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->doc_count; i++)
		json_decref(set->docs[i]);
	cp_free(set->docs);
	cp_free(set->obs);
	cp_free(set->scos);
	cp_free(set->by_type);
	cp_free(set->by_time);
	cp_free(set);
}

size_t cp_pattern_obs_set_count(const struct cp_pattern_obs_set *set)
{
	return set->count;
}

const char *cp_pattern_obs_set_id(const struct cp_pattern_obs_set *set, size_t i)
{
	return i < set->count ? set->obs[i].id : NULL;
}

const struct cp__pat_sco *cp__pat_obs_lookup(const struct cp_pattern_obs_set *set, uint32_t o,
					     const char *key, size_t len)
{
	const struct cp__pat_observation *ob = &set->obs[o];
	size_t lo = ob->sco_begin, hi = ob->sco_begin + ob->sco_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *k = set->scos[mid].key;
		size_t klen = set->scos[mid].key_len;
		int c = memcmp(k, key, klen < len ? klen : len);
		if (c == 0)
			c = klen < len ? -1 : klen > len;
		if (c == 0)
			return &set->scos[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void cp__pat_obs_type_range(const struct cp_pattern_obs_set *set, const char *type,
			    size_t *begin, size_t *end)
{
	size_t lo = 0, hi = set->sco_count, first;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(set->scos[set->by_type[mid]].type, type) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	hi = set->sco_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(set->scos[set->by_type[mid]].type, type) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*begin = first;
	*end = lo;
}

/* ------------------------------------------------------------- loading */

struct loader {
	struct cp_pattern_obs_set *set;
	struct cp_diag *diag;
	struct cp_buf ptr; /* JSON pointer of the current observed-data */
	struct top *tops;
	size_t top_count;
	bool failed;
	enum cp_err err;
};

static void finding(struct loader *l, enum cp_severity sev, const char *code, const char *prop,
		    const char *fmt, ...) CP_PRINTF(5, 6);

static void finding(struct loader *l, enum cp_severity sev, const char *code, const char *prop,
		    const char *fmt, ...)
{
	size_t mark = l->ptr.len;
	va_list ap;

	if (sev == CP_SEV_ERROR)
		l->failed = true;
	if (prop)
		cp_buf_pointer_push(&l->ptr, prop);
	if (cp_buf_finish(&l->ptr)) {
		l->err = CP_ENOMEM;
		return;
	}
	va_start(ap, fmt);
	cp_diag_addv(l->diag, sev, code, l->ptr.ptr, fmt, ap);
	va_end(ap);
	cp_buf_truncate(&l->ptr, mark);
}

static bool add_sco(struct loader *l, const char *key, const json_t *obj, uint32_t o)
{
	struct cp_pattern_obs_set *set = l->set;
	const json_t *type = json_object_get(obj, "type");

	if (!json_is_string(type))
		return false;
	if (set->sco_count >= UINT32_MAX) {
		l->err = CP_ETOOBIG;
		return false;
	}
	if (!cp_array_grow((void **)&set->scos, &set->sco_cap, set->sco_count + 1, sizeof(*set->scos))) {
		l->err = CP_ENOMEM;
		return false;
	}
	set->scos[set->sco_count++] =
		(struct cp__pat_sco){obj, json_string_value(type), key, strlen(key), o};
	return true;
}

static bool get_time(struct loader *l, const json_t *od, const char *prop, struct cp_time *t)
{
	const json_t *v = json_object_get(od, prop);
	const char *why = NULL;

	if (!v) {
		finding(l, CP_SEV_ERROR, "missing-property", NULL,
			"observed-data needs '%s' to be evaluated against patterns", prop);
		return false;
	}
	if (!json_is_string(v)) {
		finding(l, CP_SEV_ERROR, "type-mismatch", prop, "'%s' must be a timestamp string",
			prop);
		return false;
	}
	if (cp_time_parse(json_string_value(v), json_string_length(v), t, &why)) {
		finding(l, CP_SEV_ERROR, "timestamp-format", prop, "'%s' is not a STIX timestamp: %s",
			prop, why);
		return false;
	}
	return true;
}

static void add_refs(struct loader *l, const json_t *refs, uint32_t o)
{
	size_t i;
	const json_t *r;

	if (!json_is_array(refs)) {
		finding(l, CP_SEV_ERROR, "type-mismatch", "object_refs",
			"'object_refs' must be a list of identifiers");
		return;
	}
	json_array_foreach(refs, i, r) {
		const struct top *hit;
		const char *id;
		if (!json_is_string(r)) {
			size_t mark = l->ptr.len;
			cp_buf_pointer_push(&l->ptr, "object_refs");
			cp_buf_pointer_push_index(&l->ptr, i);
			finding(l, CP_SEV_ERROR, "type-mismatch", NULL,
				"object_refs entries must be identifier strings");
			cp_buf_truncate(&l->ptr, mark);
			continue;
		}
		id = json_string_value(r);
		hit = find_top(l->tops, l->top_count, id);
		if (!hit || !add_sco(l, hit->id, hit->obj, o)) {
			size_t mark = l->ptr.len;
			if (l->err)
				return;
			cp_buf_pointer_push(&l->ptr, "object_refs");
			cp_buf_pointer_push_index(&l->ptr, i);
			finding(l, CP_SEV_WARNING, "unresolved-ref", NULL,
				"'%s' is not an object with a type in this document; patterns "
				"cannot use it",
				id);
			cp_buf_truncate(&l->ptr, mark);
		}
		if (l->err)
			return;
	}
}

static void add_objects(struct loader *l, const json_t *objects, uint32_t o)
{
	const char *key;
	json_t *v;

	if (!json_is_object(objects)) {
		finding(l, CP_SEV_ERROR, "type-mismatch", "objects",
			"'objects' must be a dictionary of cyber-observable objects");
		return;
	}
	json_object_foreach((json_t *)objects, key, v) {
		if (!json_is_object(v) || !add_sco(l, key, v, o)) {
			size_t mark = l->ptr.len;
			if (l->err)
				return;
			cp_buf_pointer_push(&l->ptr, "objects");
			cp_buf_pointer_push(&l->ptr, key);
			finding(l, CP_SEV_ERROR, "type-mismatch", NULL,
				"'objects' entries must be objects with a 'type'");
			cp_buf_truncate(&l->ptr, mark);
		}
	}
}

static void add_observed_data(struct loader *l, const json_t *od)
{
	struct cp_pattern_obs_set *set = l->set;
	struct cp__pat_observation ob;
	const json_t *id = json_object_get(od, "id"), *refs, *objects;
	size_t start = set->sco_count, w;
	bool ok = true;

	memset(&ob, 0, sizeof(ob));
	if (!json_is_string(id)) {
		finding(l, CP_SEV_ERROR, id ? "type-mismatch" : "missing-property", id ? "id" : NULL,
			"observed-data needs a string 'id'");
		ok = false;
	}
	ok = get_time(l, od, "first_observed", &ob.first) & ok;
	ok = get_time(l, od, "last_observed", &ob.last) & ok;
	ob.modified.sec = INT64_MIN;
	if (json_object_get(od, "modified"))
		ok = get_time(l, od, "modified", &ob.modified) & ok;
	if (ok && cp_time_cmp(&ob.last, &ob.first) < 0) {
		finding(l, CP_SEV_ERROR, "time-order", "last_observed",
			"'last_observed' is before 'first_observed'");
		ok = false;
	}
	if (set->count >= UINT32_MAX) {
		l->err = CP_ETOOBIG;
		return;
	}
	refs = json_object_get(od, "object_refs");
	objects = json_object_get(od, "objects");
	if (refs)
		add_refs(l, refs, (uint32_t)set->count);
	if (objects && !l->err)
		add_objects(l, objects, (uint32_t)set->count);
	if (!ok || l->err) {
		set->sco_count = start;
		return;
	}
	/* sort this observation's SCOs by key and drop repeated keys */
	if (set->sco_count > start)
		qsort(set->scos + start, set->sco_count - start, sizeof(*set->scos), sco_key_cmp);
	w = start;
	for (size_t i = start; i < set->sco_count; i++)
		if (w == start || strcmp(set->scos[w - 1].key, set->scos[i].key) != 0)
			set->scos[w++] = set->scos[i];
	set->sco_count = w;
	if (!cp_array_grow((void **)&set->obs, &set->cap, set->count + 1, sizeof(*set->obs))) {
		l->err = CP_ENOMEM;
		return;
	}
	ob.id = json_string_value(id);
	ob.sco_begin = start;
	ob.sco_count = w - start;
	set->obs[set->count++] = ob;
}

/* The list of top-level objects of doc and the JSON pointer prefix of its items. */
static const json_t *top_list(struct loader *l, const json_t *doc, const char **prefix)
{
	const json_t *type;

	if (json_is_array(doc)) {
		*prefix = "";
		return doc;
	}
	if (!json_is_object(doc)) {
		finding(l, CP_SEV_ERROR, "type-mismatch", NULL,
			"expected a bundle, a list of STIX objects or one STIX object");
		return NULL;
	}
	type = json_object_get(doc, "type");
	if (json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0) {
		const json_t *objects = json_object_get(doc, "objects");
		*prefix = "/objects";
		if (objects && !json_is_array(objects)) {
			finding(l, CP_SEV_ERROR, "type-mismatch", "objects",
				"a bundle's 'objects' must be a list");
			return NULL;
		}
		return objects;
	}
	*prefix = NULL; /* a single object */
	return doc;
}

static bool is_observed_data(const json_t *obj)
{
	const json_t *type = json_object_get(obj, "type");
	return json_is_string(type) && strcmp(json_string_value(type), "observed-data") == 0;
}

static void load(struct loader *l, const json_t *doc)
{
	const char *prefix = NULL;
	const json_t *list = top_list(l, doc, &prefix), *item;
	size_t i, n;

	if (!list)
		return;
	if (!prefix) {
		/* a single object: its object_refs can only name itself */
		if (!is_observed_data(list))
			return;
		add_observed_data(l, list);
		return;
	}
	n = json_array_size(list);
	l->tops = cp_malloc((n ? n : 1) * sizeof(*l->tops));
	if (!l->tops) {
		l->err = CP_ENOMEM;
		return;
	}
	json_array_foreach(list, i, item) {
		const json_t *id = json_object_get(item, "id");
		if (json_is_object(item) && json_is_string(id))
			l->tops[l->top_count++] = (struct top){json_string_value(id), item, i};
	}
	/* among repeated ids the first in document order wins (find_top) */
	qsort(l->tops, l->top_count, sizeof(*l->tops), top_cmp);
	json_array_foreach(list, i, item) {
		if (!json_is_object(item) || !is_observed_data(item))
			continue;
		cp_buf_reset(&l->ptr);
		cp_buf_puts(&l->ptr, prefix);
		cp_buf_pointer_push_index(&l->ptr, i);
		add_observed_data(l, item);
		if (l->err)
			return;
	}
}

struct idref {
	const char *id;
	size_t i;
};

static int idref_cmp(const void *a, const void *b)
{
	const struct idref *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * Versions of one observed-data (same id) are one observation: keep the one with the
 * latest `modified` (the first loaded on a tie or without `modified`), drop the others
 * with their SCOs. Fails (CP_ENOMEM) only before changing anything.
 */
static enum cp_err drop_superseded(struct cp_pattern_obs_set *set)
{
	struct idref *refs;
	size_t n = set->count, w = 0, sw = 0;
	bool any = false;

	if (n < 2)
		return CP_OK;
	refs = cp_malloc(n * sizeof(*refs));
	if (!refs)
		return CP_ENOMEM;
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct idref){set->obs[i].id, i};
	qsort(refs, n, sizeof(*refs), idref_cmp);
	for (size_t g = 0; g < n;) {
		size_t end = g + 1, win = refs[g].i;
		while (end < n && strcmp(refs[end].id, refs[g].id) == 0)
			end++;
		for (size_t k = g + 1; k < end; k++)
			if (cp_time_cmp(&set->obs[refs[k].i].modified, &set->obs[win].modified) > 0)
				win = refs[k].i;
		for (size_t k = g; k < end; k++)
			set->obs[refs[k].i].is_superseded = refs[k].i != win;
		any |= end - g > 1;
		g = end;
	}
	cp_free(refs);
	if (!any)
		return CP_OK;
	/* SCOs are stored observation by observation, so compaction works in place */
	for (size_t i = 0; i < n; i++) {
		struct cp__pat_observation ob = set->obs[i];
		if (ob.is_superseded)
			continue;
		for (size_t k = 0; k < ob.sco_count; k++) {
			set->scos[sw + k] = set->scos[ob.sco_begin + k];
			set->scos[sw + k].obs = (uint32_t)w;
		}
		ob.sco_begin = sw;
		sw += ob.sco_count;
		set->obs[w++] = ob;
	}
	set->count = w;
	set->sco_count = sw;
	return CP_OK;
}

static int by_time_cmp(const void *a, const void *b, void *ctx)
{
	const struct cp__pat_observation *obs = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = cp_time_cmp(&obs[x].first, &obs[y].first);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/* Room for the indexes of the current (not yet compacted) counts. */
static enum cp_err reserve_indexes(struct cp_pattern_obs_set *set)
{
	uint32_t *idx = cp_realloc(set->by_type, (set->sco_count ? set->sco_count : 1) *
							 sizeof(*idx));

	if (!idx)
		return CP_ENOMEM;
	set->by_type = idx;
	idx = cp_realloc(set->by_time, (set->count ? set->count : 1) * sizeof(*idx));
	if (!idx)
		return CP_ENOMEM;
	set->by_time = idx;
	return CP_OK;
}

static void sort_indexes(struct cp_pattern_obs_set *set)
{
	for (size_t i = 0; i < set->sco_count; i++)
		set->by_type[i] = (uint32_t)i;
	qsort_r(set->by_type, set->sco_count, sizeof(*set->by_type), by_type_cmp, set->scos);
	for (size_t i = 0; i < set->count; i++)
		set->by_time[i] = (uint32_t)i;
	qsort_r(set->by_time, set->count, sizeof(*set->by_time), by_time_cmp, set->obs);
	for (size_t i = 0; i < set->count; i++)
		set->obs[set->by_time[i]].rank = (uint32_t)i;
}

enum cp_err cp_pattern_obs_set_add_json(struct cp_pattern_obs_set *set, const json_t *doc,
					struct cp_diag *diag)
{
	struct loader l;
	size_t old_count, old_scos;
	enum cp_err err = CP_OK;

	if (!set || !doc)
		return CP_EINVAL;
	old_count = set->count;
	old_scos = set->sco_count;
	memset(&l, 0, sizeof(l));
	l.set = set;
	l.diag = diag;
	cp_buf_init(&l.ptr, 0);
	if (!cp_array_grow((void **)&set->docs, &set->doc_cap, set->doc_count + 1, sizeof(*set->docs))) {
		err = CP_ENOMEM;
		goto out;
	}
	load(&l, doc);
	if (!l.err && cp_buf_finish(&l.ptr))
		l.err = CP_ENOMEM;
	err = l.err ? l.err : l.failed ? CP_EINVAL : CP_OK;
	/* the two steps that can fail come before the one that changes old entries */
	if (!err)
		err = reserve_indexes(set);
	if (!err)
		err = drop_superseded(set);
	if (err)
		goto out;
	sort_indexes(set);
	set->docs[set->doc_count++] = json_incref((json_t *)doc);
out:
	if (err) {
		/* the indexes are only rewritten on success: they still fit the old entries */
		set->count = old_count;
		set->sco_count = old_scos;
	}
	cp_free(l.tops);
	cp_buf_release(&l.ptr);
	return err;
}

enum cp_err cp_pattern_obs_set_from_json(const json_t *doc, struct cp_pattern_obs_set **out,
					 struct cp_diag *diag)
{
	struct cp_pattern_obs_set *set = NULL;
	enum cp_err err = cp_pattern_obs_set_new(&set);

	if (err)
		return err;
	err = cp_pattern_obs_set_add_json(set, doc, diag);
	if (err) {
		cp_pattern_obs_set_free(set);
		return err;
	}
	*out = set;
	return CP_OK;
}
