/* Validated, immutable, reference-counted STIX objects and version comparison. */
#include <stdatomic.h>

#include "internal.h"

struct cp_stix_object {
	atomic_uint refs;
	json_t *json;
	const char *id, *type, *spec_version; /* borrowed from json */
	enum cp_stix_kind kind;
	bool has_created, has_modified, is_revoked;
	struct cp_time created, modified;
};

enum cp_err cp_stix_object_new(json_t *obj, unsigned flags, struct cp_diag *diag,
			       struct cp_stix_object **out)
{
	struct cp_diag local;
	struct cp_diag *d = diag;
	struct cp_stix_object *o;
	enum cp_err err;
	size_t errors_before;
	const json_t *sv;

	if (!json_is_object(obj))
		return CP_EINVAL;
	if (!d) {
		cp_diag_init(&local);
		d = &local;
	}
	errors_before = d->errors;
	err = cp_stix_validate_object(obj, flags, NULL, d);
	if (!err && d->errors > errors_before)
		err = CP_EINVAL;
	if (d == &local)
		cp_diag_release(&local);
	if (err)
		return err;
	o = cp_calloc(1, sizeof(*o));
	if (!o)
		return CP_ENOMEM;
	atomic_init(&o->refs, 1);
	o->json = json_incref(obj);
	o->id = json_string_value(json_object_get(obj, "id"));
	o->type = json_string_value(json_object_get(obj, "type"));
	sv = json_object_get(obj, "spec_version");
	o->spec_version = json_is_string(sv) ? json_string_value(sv) : "2.1";
	o->kind = cp_stix_kind_of(o->type);
	o->has_created = cp__stix_get_time(obj, "created", &o->created);
	o->has_modified = cp__stix_get_time(obj, "modified", &o->modified);
	o->is_revoked = json_is_true(json_object_get(obj, "revoked"));
	*out = o;
	return CP_OK;
}

struct cp_stix_object *cp_stix_object_ref(struct cp_stix_object *o)
{
	if (o)
		atomic_fetch_add(&o->refs, 1);
	return o;
}

void cp_stix_object_unref(struct cp_stix_object *o)
{
	if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
		return;
	json_decref(o->json);
	cp_free(o);
}

const char *cp_stix_object_id(const struct cp_stix_object *o)
{
	return o->id;
}

const char *cp_stix_object_type(const struct cp_stix_object *o)
{
	return o->type;
}

enum cp_stix_kind cp_stix_object_kind(const struct cp_stix_object *o)
{
	return o->kind;
}

const char *cp_stix_object_spec_version(const struct cp_stix_object *o)
{
	return o->spec_version;
}

bool cp_stix_object_created(const struct cp_stix_object *o, struct cp_time *out)
{
	if (o->has_created)
		*out = o->created;
	return o->has_created;
}

bool cp_stix_object_modified(const struct cp_stix_object *o, struct cp_time *out)
{
	if (o->has_modified)
		*out = o->modified;
	return o->has_modified;
}

bool cp_stix_object_is_revoked(const struct cp_stix_object *o)
{
	return o->is_revoked;
}

const json_t *cp_stix_object_json(const struct cp_stix_object *o)
{
	return o->json;
}

/* The version timestamp: modified, else created, else none (single-version objects). */
static bool version_time(const struct cp_stix_object *o, struct cp_time *t)
{
	if (o->has_modified)
		*t = o->modified;
	else if (o->has_created)
		*t = o->created;
	return o->has_modified || o->has_created;
}

int cp_stix_version_cmp(const struct cp_stix_object *a, const struct cp_stix_object *b)
{
	struct cp_time ta, tb;
	bool ha = version_time(a, &ta), hb = version_time(b, &tb);
	int c = strcmp(a->id, b->id);

	if (c)
		return c < 0 ? -1 : 1;
	if (!ha || !hb)
		return ha - hb;
	return cp_time_cmp(&ta, &tb);
}

bool cp_stix_same_version(const struct cp_stix_object *a, const struct cp_stix_object *b)
{
	return cp_stix_version_cmp(a, b) == 0;
}
