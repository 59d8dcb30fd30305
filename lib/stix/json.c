/* JSON text -> jansson tree with the limits STIX input needs. */
#include "internal.h"

/*
 * Limits jansson does not enforce itself: nesting depth and string size. jansson
 * caps nesting at 2048, so this recursion is bounded.
 */
static enum cp_err check_limits(const json_t *j, unsigned depth, struct cp_diag *diag)
{
	size_t i;
	const char *key;
	json_t *e;
	enum cp_err err;

	if (json_is_string(j)) {
		if (json_string_length(j) > CP_LIMIT_STRING_BYTES) {
			cp_diag_add(diag, CP_SEV_ERROR, "too-big", "",
				    "a string value of %zu bytes exceeds the limit of %u bytes",
				    json_string_length(j), CP_LIMIT_STRING_BYTES);
			return CP_ETOOBIG;
		}
		return CP_OK;
	}
	if (!json_is_array(j) && !json_is_object(j))
		return CP_OK;
	if (depth > CP_LIMIT_JSON_DEPTH) {
		cp_diag_add(diag, CP_SEV_ERROR, "too-deep", "",
			    "JSON nesting deeper than %d levels", CP_LIMIT_JSON_DEPTH);
		return CP_ETOOBIG;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, e)
			if ((err = check_limits(e, depth + 1, diag)))
				return err;
	} else {
		json_object_foreach((json_t *)j, key, e)
			if ((err = check_limits(e, depth + 1, diag)))
				return err;
	}
	return CP_OK;
}

enum cp_err cp_stix_json_parse(const char *text, size_t len, json_t **out, struct cp_diag *diag)
{
	json_error_t jerr;
	json_t *j;
	unsigned long failures;

	cp_json_use_cp_alloc();
	if (len > CP_LIMIT_DOC_BYTES) {
		cp_diag_add(diag, CP_SEV_ERROR, "too-big", "",
			    "document is %zu bytes; the limit is %u", len, CP_LIMIT_DOC_BYTES);
		return CP_ETOOBIG;
	}
	failures = cp_alloc_thread_failures();
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		/* jansson often reports a failed allocation as a syntax error */
		if (json_error_code(&jerr) == json_error_out_of_memory ||
		    cp_alloc_thread_failures() != failures) {
			cp_diag_add(diag, CP_SEV_ERROR, "out-of-memory", "", "out of memory");
			return CP_ENOMEM;
		}
		cp_diag_add_at(diag, CP_SEV_ERROR, "json-syntax", (unsigned)(jerr.line > 0 ? jerr.line : 0),
			       (unsigned)(jerr.column > 0 ? jerr.column : 0), "invalid JSON: %s",
			       jerr.text);
		return CP_EPARSE;
	}
	if (check_limits(j, 1, diag)) {
		json_decref(j);
		return CP_ETOOBIG;
	}
	*out = j;
	return CP_OK;
}
