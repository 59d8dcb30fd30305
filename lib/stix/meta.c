/*
 * STIX Meta Objects (spec section 7): marking-definition (with the TLP 1.0 ids and the
 * TLP 2.0 extension-based ones), language-content and extension-definition.
 * Meta object tables list all their properties, common ones included.
 */
#include "internal.h"

#define END {NULL, 0, 0, NULL, NULL, 0, 0, NULL}
#define P(name, kind, flags) {name, kind, flags, NULL, NULL, 0, 0, NULL}
#define V(name, kind, flags, vocab) {name, kind, flags, vocab, NULL, 0, 0, NULL}
#define R(name, kind, flags, refs) {name, kind, flags, NULL, refs, 0, 0, NULL}

const struct cp__stix_type *const cp__stix_meta_types[] = {
	NULL,
};
