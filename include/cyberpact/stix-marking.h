/*
 * cyberpact/stix-marking.h - Traffic Light Protocol markings of STIX 2.1 objects.
 *
 * Two generations of TLP marking definitions are in use, each a fixed set of
 * marking-definition objects with published ids:
 *   - TLP 1.0 (STIX 2.1 section 7.2.1.4): white, green, amber, red, written with
 *     definition_type "tlp" and definition {"tlp": "<level>"}.
 *   - TLP 2.0 (the OASIS TLP 2.0 marking extension,
 *     extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d): clear, green,
 *     amber, amber+strict, red, written as an extension property "tlp_2_0".
 * This module maps both onto one scale, with TLP 1.0 white read as TLP 2.0 clear, so
 * that the policy module can decide what may leave the node.
 *
 * Thread-safety: every function here is reentrant; the tables are static and constant.
 */
#ifndef CYBERPACT_STIX_MARKING_H
#define CYBERPACT_STIX_MARKING_H

#include <jansson.h>

#include "cyberpact/base.h"

/* The id of the extension definition that TLP 2.0 marking definitions use. */
#define CP_STIX_TLP2_EXTENSION_ID "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

/*
 * TLP levels, in order of restriction: a larger value is more restrictive, so two
 * levels compare with < and >. AMBER_STRICT (share within the recipient's
 * organisation only) is more restrictive than AMBER.
 * CP_TLP_NONE means "no TLP marking", not "may be shared": the caller decides what an
 * unmarked object is worth.
 */
enum cp_tlp {
	CP_TLP_NONE = 0,
	CP_TLP_CLEAR,
	CP_TLP_GREEN,
	CP_TLP_AMBER,
	CP_TLP_AMBER_STRICT,
	CP_TLP_RED,
};

/*
 * One published TLP marking definition (TLP 1.0 or 2.0). All strings are static.
 * `level` is the value of definition.tlp (TLP 1.0) or of the extension's "tlp_2_0"
 * property (TLP 2.0); `created` is the timestamp the published object carries.
 */
struct cp_stix_tlp_marking {
	enum cp_tlp tlp;
	unsigned tlp_version; /* 1 or 2 */
	const char *id;
	const char *name;    /* "TLP:WHITE", "TLP:AMBER+STRICT", ... */
	const char *level;   /* "white", "amber+strict", ... */
	const char *created; /* "2017-01-20T00:00:00.000Z" or "2022-10-01T00:00:00.000Z" */
};

/*
 * The published TLP marking definition with this id, or NULL if marking_id (which may
 * be NULL) is none of the nine. The UUID part is compared without regard to case
 * (RFC 4122 reads UUIDs case-insensitively), so compare the returned id with
 * marking_id when the exact spelling matters. The result is static; do not free it.
 */
const struct cp_stix_tlp_marking *cp_stix_tlp_marking_find(const char *marking_id);

/*
 * The TLP level that the marking definition id stands for: TLP 1.0 white and TLP 2.0
 * clear give CP_TLP_CLEAR, the TLP 1.0 and 2.0 ids of green, amber and red give
 * GREEN, AMBER and RED, TLP 2.0 amber+strict gives AMBER_STRICT. Any other id, and
 * NULL, give CP_TLP_NONE. Case rules as in cp_stix_tlp_marking_find().
 */
enum cp_tlp cp_stix_tlp_of_marking_id(const char *marking_id);

/*
 * The id of the TLP 2.0 marking definition for tlp (what a node should put in
 * object_marking_refs when it marks an object), or NULL for CP_TLP_NONE and values
 * outside the enum. Static string; do not free it.
 */
const char *cp_stix_tlp_marking_id(enum cp_tlp tlp);

/*
 * The TLP 2.0 display name of tlp: "TLP:CLEAR", "TLP:GREEN", "TLP:AMBER",
 * "TLP:AMBER+STRICT", "TLP:RED"; NULL for CP_TLP_NONE and values outside the enum.
 * Static string; do not free it.
 */
const char *cp_stix_tlp_name(enum cp_tlp tlp);

/*
 * The TLP of the STIX object obj (borrowed; a JSON object as parsed, validated or
 * not): the most restrictive TLP marking among the ids in its object_marking_refs
 * (RED > AMBER+STRICT > AMBER > GREEN > CLEAR), CP_TLP_NONE when it has none. Entries
 * that are not strings or not TLP ids are skipped; obj may be NULL or not an object
 * (CP_TLP_NONE). Granular markings are not looked at: see cp_stix_object_tlp_max().
 */
enum cp_tlp cp_stix_object_tlp(const json_t *obj);

/*
 * Like cp_stix_object_tlp(), but also counts the marking_ref of every entry of
 * granular_markings: the most restrictive TLP applied to any part of obj. Use this
 * to decide whether an object may be sent out whole.
 */
enum cp_tlp cp_stix_object_tlp_max(const json_t *obj);

#endif /* CYBERPACT_STIX_MARKING_H */
