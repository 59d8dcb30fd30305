/*
 * STIX Cyber-observable Objects (spec section 6) with their predefined extensions
 * and id-contributing properties (for deterministic UUIDv5 ids).
 */
#include "internal.h"

#define END {NULL, 0, 0, NULL, NULL, 0, 0, NULL}
#define P(name, kind, flags) {name, kind, flags, NULL, NULL, 0, 0, NULL}
#define V(name, kind, flags, vocab) {name, kind, flags, vocab, NULL, 0, 0, NULL}
#define R(name, kind, flags, refs) {name, kind, flags, NULL, refs, 0, 0, NULL}

static const char *const refs_mac[] = {"mac-addr", NULL};
static const char *const refs_as[] = {"autonomous-system", NULL};

/* ---------------------------------------------------------------- ipv4-addr */

static const struct cp__stix_prop ipv4_props[] = {
	P("value", PK_STRING, PF_REQUIRED | PF_NONEMPTY),
	R("resolves_to_refs", PK_REF_LIST, PF_DEPRECATED, refs_mac),
	R("belongs_to_refs", PK_REF_LIST, PF_DEPRECATED, refs_as),
	END,
};

static const char *const value_contrib[] = {"value", NULL};

static const struct cp__stix_type ipv4_type = {"ipv4-addr", CP_STIX_SCO, ipv4_props, NULL,
					       value_contrib, NULL};

const struct cp__stix_type *const cp__stix_sco_types[] = {
	&ipv4_type,
	NULL,
};
