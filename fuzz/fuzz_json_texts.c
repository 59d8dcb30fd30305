/*
 * Fuzz target: cp_stix_json_member_texts, which the TAXII server uses to store each
 * posted object as the client sent it (compacted) instead of serialising the parsed
 * object again. The stored text must be exactly the object that was validated, so:
 * for every input that cp_stix_json_parse() accepts and whose top level is an object
 * with an "objects" array, the call succeeds, gives one text per element, each text
 * parses to a value equal to the parsed element (json_equal), and holds no white
 * space outside strings. Without such a member the answer is CP_ENOTFOUND (or
 * CP_EPARSE when "objects" is not an array). Text with a NUL byte (which the parser
 * may stop at) is declined with CP_EPARSE: the caller then serialises the object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cyberpact/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool compact(const char *s)
{
	bool in_string = false;

	for (; *s; s++) {
		if (in_string) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_string = false;
		} else if (*s == '"') {
			in_string = true;
		} else if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			return false;
		}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = NULL;
	const json_t *arr;
	struct cp_stix_json_texts t;
	enum cp_err err;

	if (cp_stix_json_parse((const char *)data, size, &doc, NULL) != CP_OK)
		return 0;
	err = cp_stix_json_member_texts((const char *)data, size, "objects", &t);
	arr = json_is_object(doc) ? json_object_get(doc, "objects") : NULL;
	if (memchr(data, '\0', size)) {
		check(err == CP_EPARSE);
	} else if (!json_is_object(doc)) {
		check(err == CP_EPARSE);
	} else if (!arr) {
		check(err == CP_ENOTFOUND);
	} else if (!json_is_array(arr)) {
		check(err == CP_EPARSE);
	} else {
		check(err == CP_OK || err == CP_ENOMEM);
		if (err == CP_OK) {
			check(t.count == json_array_size(arr));
			for (size_t i = 0; i < t.count; i++) {
				const char *s = cp_stix_json_text(&t, i);
				json_t *e = json_loads(s, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
						       NULL);
				check(e != NULL && json_equal(e, json_array_get(arr, i)));
				check(compact(s));
				json_decref(e);
			}
		}
	}
	cp_stix_json_texts_release(&t);
	json_decref(doc);
	return 0;
}
