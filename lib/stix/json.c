/* JSON text -> jansson tree with the limits STIX input needs. */
#include "internal.h"

/* jansson caps nesting at 2048 itself, so this recursion is bounded. */
static bool too_deep(const json_t *j, unsigned depth)
{
	size_t i;
	const char *key;
	json_t *e;

	if (depth > CP_LIMIT_JSON_DEPTH)
		return true;
	if (json_is_array(j)) {
		json_array_foreach(j, i, e)
			if ((json_is_array(e) || json_is_object(e)) && too_deep(e, depth + 1))
				return true;
	} else if (json_is_object(j)) {
		json_object_foreach((json_t *)j, key, e)
			if ((json_is_array(e) || json_is_object(e)) && too_deep(e, depth + 1))
				return true;
	}
	return false;
}

enum cp_err cp_stix_json_parse(const char *text, size_t len, json_t **out, struct cp_diag *diag)
{
	json_error_t jerr;
	json_t *j;

	cp_json_use_cp_alloc();
	if (len > CP_LIMIT_DOC_BYTES) {
		cp_diag_add(diag, CP_SEV_ERROR, "too-big", "",
			    "document is %zu bytes; the limit is %u", len, CP_LIMIT_DOC_BYTES);
		return CP_ETOOBIG;
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		if (json_error_code(&jerr) == json_error_out_of_memory) {
			cp_diag_add(diag, CP_SEV_ERROR, "out-of-memory", "", "out of memory");
			return CP_ENOMEM;
		}
		cp_diag_add_at(diag, CP_SEV_ERROR, "json-syntax", (unsigned)(jerr.line > 0 ? jerr.line : 0),
			       (unsigned)(jerr.column > 0 ? jerr.column : 0), "invalid JSON: %s",
			       jerr.text);
		return CP_EPARSE;
	}
	if (too_deep(j, 1)) {
		json_decref(j);
		cp_diag_add(diag, CP_SEV_ERROR, "too-deep", "",
			    "JSON nesting deeper than %d levels", CP_LIMIT_JSON_DEPTH);
		return CP_ETOOBIG;
	}
	*out = j;
	return CP_OK;
}
