/*
 * Fuzz target: the JSON parser of lib/stix (lib/stix/json-load.c), against jansson's
 * own json_loadb() as the reference. cp_stix_json_parse() must accept exactly what
 * json_loadb(JSON_REJECT_DUPLICATES) accepts within the limits (nesting depth
 * CP_LIMIT_JSON_DEPTH, string values of CP_LIMIT_STRING_BYTES), and build an equal
 * tree (json_equal: same types, same values, same keys). A text jansson accepts but
 * that breaks a limit must be refused as too big (CP_ETOOBIG); a text jansson refuses
 * must be refused (whichever fault is found first: syntax or depth).
 *
 * One deliberate difference: jansson passes over a NUL byte between tokens as if it
 * were not there; cp_stix_json_parse() refuses any NUL byte (RFC 8259 allows none),
 * so that no two readers of a stored text can see different documents in it.
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

/* the limits, as a walk over jansson's tree: true when within them */
static bool within(const json_t *j, unsigned depth)
{
	size_t i;
	const char *key;
	json_t *e;

	if (json_is_string(j))
		return json_string_length(j) <= CP_LIMIT_STRING_BYTES;
	if (!json_is_array(j) && !json_is_object(j))
		return true;
	if (depth > CP_LIMIT_JSON_DEPTH)
		return false;
	if (json_is_array(j)) {
		json_array_foreach(j, i, e)
			if (!within(e, depth + 1))
				return false;
	} else {
		json_object_foreach((json_t *)j, key, e)
			if (!within(e, depth + 1))
				return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_diag d;
	json_t *ref, *ours = NULL;
	enum cp_err err;

	cp_diag_init(&d);
	err = cp_stix_json_parse((const char *)data, size, &ours, &d);
	if (err == CP_ENOMEM)
		goto out;
	ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (ref && memchr(data, 0, size)) {
		check(err == CP_EPARSE || err == CP_ETOOBIG);
	} else if (!ref) {
		check(err != CP_OK);
	} else if (!within(ref, 1)) {
		check(err == CP_ETOOBIG);
	} else {
		check(err == CP_OK);
		check(json_equal(ref, ours));
	}
	/* a refusal is one finding, with a code */
	if (err)
		check(d.count == 1 && d.items[0].code != NULL);
	json_decref(ref);
out:
	json_decref(ours);
	cp_diag_release(&d);
	return 0;
}
