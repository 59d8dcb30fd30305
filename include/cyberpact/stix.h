/*
 * cyberpact/stix.h - the STIX 2.1 object model: parse, validate, identify, version.
 *
 * Validation follows the OASIS STIX 2.1 specification (errata 01): common properties,
 * all SDOs, SROs, SCOs, marking-definition, language-content, extension-definition and
 * bundles. Each finding has a severity (MUST -> error, SHOULD/open vocabulary -> warning),
 * a stable code (docs/VALIDATION.md lists them) and the JSON pointer of the value.
 *
 * Thread-safety: all functions are reentrant; a struct cp_stix_object may be shared
 * between threads once created (it is immutable; ref/unref are atomic).
 */
#ifndef CYBERPACT_STIX_H
#define CYBERPACT_STIX_H

#include <jansson.h>

#include "cyberpact/base.h"
#include "cyberpact/limits.h"

enum cp_stix_kind {
	CP_STIX_KIND_UNKNOWN = 0,
	CP_STIX_SDO,
	CP_STIX_SRO,
	CP_STIX_SCO,
	CP_STIX_META,   /* marking-definition, language-content, extension-definition */
	CP_STIX_BUNDLE,
	CP_STIX_CUSTOM, /* a custom object type (not defined by the specification) */
};

/* Validation flags. */
enum {
	/* do not check `pattern` of stix indicators with the pattern engine */
	CP_STIX_NO_PATTERN = 1u << 0,
	/* skip the deterministic SCO id (UUIDv5) check */
	CP_STIX_NO_SCO_ID = 1u << 1,
};

/*
 * Parse len bytes of JSON text. Rejects duplicate keys, NUL escapes, nesting deeper
 * than CP_LIMIT_JSON_DEPTH and text larger than CP_LIMIT_DOC_BYTES.
 * On failure returns CP_EPARSE/CP_ETOOBIG/CP_ENOMEM and adds a finding (code
 * "json-syntax", with line and column) to diag if given. *out is set only on success
 * and owned by the caller (json_decref).
 */
CP_MUST_CHECK enum cp_err cp_stix_json_parse(const char *text, size_t len, json_t **out,
					     struct cp_diag *diag);

/*
 * The text of each element of the array that is the value of member `key` of the
 * top-level object of text, with white space outside strings removed: for storing
 * objects as they were sent without serialising them again. Only for text that
 * cp_stix_json_parse() accepted (valid JSON, no duplicate keys), so element i is the
 * text of json_array_get(json_object_get(doc, key), i). CP_ENOTFOUND without such a
 * member, CP_EPARSE if the text is not what was promised (the caller then falls back
 * to serialising), CP_ENOMEM.
 */
struct cp_stix_json_texts {
	char *buf;        /* the texts, each NUL-terminated */
	size_t *offsets;  /* of text i in buf */
	size_t count;
};
CP_MUST_CHECK enum cp_err cp_stix_json_member_texts(const char *text, size_t len, const char *key,
						    struct cp_stix_json_texts *out);
void cp_stix_json_texts_release(struct cp_stix_json_texts *t);
static inline const char *cp_stix_json_text(const struct cp_stix_json_texts *t, size_t i)
{
	return t->buf + t->offsets[i];
}

/*
 * Validate a parsed document: a bundle, a single STIX object, or a JSON array of objects.
 * Findings are appended to diag with pointers relative to the document root.
 * Returns CP_OK when validation ran (look at diag->errors for the verdict),
 * CP_ENOMEM if it could not complete.
 */
CP_MUST_CHECK enum cp_err cp_stix_validate(const json_t *doc, unsigned flags, struct cp_diag *diag);

/*
 * Validate one STIX object (not a bundle). ptr_prefix (may be NULL) is put before the
 * pointers of the findings, e.g. "/objects/3".
 */
CP_MUST_CHECK enum cp_err cp_stix_validate_object(const json_t *obj, unsigned flags,
						  const char *ptr_prefix, struct cp_diag *diag);

/* The kind of a type name as the specification defines it (CUSTOM for others). */
enum cp_stix_kind cp_stix_kind_of(const char *type);
const char *cp_stix_kind_name(enum cp_stix_kind kind);

/* ------------------------------------------------------------ identifiers */

/* Length of "type--" + 36-char UUID must fit here. */
#define CP_STIX_ID_MAX (CP_LIMIT_TYPE_LEN + 2 + 36 + 1)

/*
 * Check that id is `<type>--<UUID>` with a valid type name and an RFC 4122 UUID
 * (lowercase or uppercase hex). On success *type_len is the length of the type part.
 */
bool cp_stix_id_is_valid(const char *id, size_t *type_len);

/* Format a new random UUIDv4 id for type into out. */
CP_MUST_CHECK enum cp_err cp_stix_id_new(const char *type, char out[CP_STIX_ID_MAX]);

/*
 * Compute the deterministic id (UUIDv5 in the STIX namespace over the JCS-canonical
 * JSON of the id-contributing properties, spec section 2.9) of the SCO obj into out.
 * Returns CP_ENOTFOUND when none of the type's id-contributing properties is present
 * (the spec then asks for a UUIDv4) or the type has none defined, CP_EINVAL if obj has
 * no string type.
 */
CP_MUST_CHECK enum cp_err cp_stix_sco_id(const json_t *obj, char out[CP_STIX_ID_MAX]);

/* --------------------------------------------------------- object model */

/*
 * A validated STIX object: immutable and reference counted. Owns a reference to its
 * JSON. Accessors return borrowed pointers that live as long as the object.
 */
struct cp_stix_object;

/*
 * Validate obj (which must be a single STIX object) and wrap it. Takes a new reference
 * to obj on success; the caller keeps its own. Returns CP_EINVAL when validation found
 * errors (they are in diag), CP_ENOMEM on allocation failure.
 */
CP_MUST_CHECK enum cp_err cp_stix_object_new(json_t *obj, unsigned flags, struct cp_diag *diag,
					     struct cp_stix_object **out);
struct cp_stix_object *cp_stix_object_ref(struct cp_stix_object *o);
void cp_stix_object_unref(struct cp_stix_object *o);

const char *cp_stix_object_id(const struct cp_stix_object *o);
const char *cp_stix_object_type(const struct cp_stix_object *o);
enum cp_stix_kind cp_stix_object_kind(const struct cp_stix_object *o);
const char *cp_stix_object_spec_version(const struct cp_stix_object *o);
/* created/modified; has_* is false for objects without them (SCOs, some meta objects). */
bool cp_stix_object_created(const struct cp_stix_object *o, struct cp_time *out);
bool cp_stix_object_modified(const struct cp_stix_object *o, struct cp_time *out);
bool cp_stix_object_is_revoked(const struct cp_stix_object *o);
const json_t *cp_stix_object_json(const struct cp_stix_object *o);

/*
 * Versioning (spec 3.6): a version is identified by (id, modified); objects without
 * `modified` use `created`, and those without either have a single version.
 * cp_stix_version_cmp orders two versions of the SAME id by modified time:
 * <0 when a is older than b. Returns 0 for different ids' objects compared by id only
 * if ids equal; use cp_stix_object_id first.
 */
int cp_stix_version_cmp(const struct cp_stix_object *a, const struct cp_stix_object *b);
/* True when a and b are the same version of the same object. */
bool cp_stix_same_version(const struct cp_stix_object *a, const struct cp_stix_object *b);

#endif /* CYBERPACT_STIX_H */
