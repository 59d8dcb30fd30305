/*
 * lib/policy/internal.h - what the files of the policy module share.
 */
#ifndef CP_POLICY_INTERNAL_H
#define CP_POLICY_INTERNAL_H

#include <jansson.h>

#include "cyberpact/policy.h"

/*
 * The markings of an object as the gate reads them, in one pass and without
 * allocating: the strictest TLP (by the stix module's table of TLP ids, object and
 * granular markings, exactly as cp_stix_object_tlp_max() counts them) and PAP. When some marking
 * cannot be interpreted, `bad` says what is wrong (a static phrase), `bad_prop` names the property
 * ("object_marking_refs" or "granular_markings"), `bad_index` the array index (SIZE_MAX when the
 * property itself is wrong) and `bad_value` the offending string, if it is one (borrowed from the
 * object). Scanning stops at the first such marking.
 */
struct cp__policy_markings {
	enum cp_tlp tlp; /* as cp_stix_object_tlp_max() would say */
	enum cp_pap pap;
	const char *bad;
	const char *bad_prop;
	size_t bad_index;
	const char *bad_value;
};

void cp__policy_scan_markings(const json_t *obj, struct cp__policy_markings *m);

/* Is s "marking-definition--" followed by an 8-4-4-4-12 hexadecimal UUID? */
bool cp__policy_is_marking_id(const char *s);

#endif
