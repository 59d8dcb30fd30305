/*
 * STIX Domain Objects (spec section 4) and Relationship Objects (section 5).
 * Common properties are in common.c; each table lists the type's own properties.
 */
#include "internal.h"

#define END {NULL, 0, 0, NULL, NULL, 0, 0, NULL}
#define P(name, kind, flags) {name, kind, flags, NULL, NULL, 0, 0, NULL}
#define V(name, kind, flags, vocab) {name, kind, flags, vocab, NULL, 0, 0, NULL}
#define R(name, kind, flags, refs) {name, kind, flags, NULL, refs, 0, 0, NULL}

/* ----------------------------------------------------------------- identity */

static const struct cp__stix_prop identity_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	P("roles", PK_STRING_LIST, 0),
	V("identity_class", PK_OV, 0, cp__stix_vocab_identity_class),
	V("sectors", PK_OV_LIST, 0, cp__stix_vocab_industry_sector),
	P("contact_information", PK_STRING, 0),
	END,
};

static const struct cp__stix_type identity_type = {"identity", CP_STIX_SDO, identity_props,
						   NULL, NULL, NULL};

/* ---------------------------------------------------------------- indicator */

static const struct cp__stix_prop indicator_props[] = {
	P("name", PK_STRING, 0),
	P("description", PK_STRING, 0),
	V("indicator_types", PK_OV_LIST, 0, cp__stix_vocab_indicator_type),
	P("pattern", PK_STRING, PF_REQUIRED | PF_NONEMPTY),
	V("pattern_type", PK_OV, PF_REQUIRED, cp__stix_vocab_pattern_type),
	P("pattern_version", PK_STRING, 0),
	P("valid_from", PK_TIMESTAMP, PF_REQUIRED),
	P("valid_until", PK_TIMESTAMP, 0),
	P("kill_chain_phases", PK_KILL_CHAIN, 0),
	END,
};

static void indicator_check(struct cp__stix_vctx *v, const json_t *obj)
{
	/* spec 4.7.1: valid_until MUST be greater than valid_from */
	cp__stix_check_time_order(v, obj, "valid_from", "valid_until", true);
}

static const struct cp__stix_type indicator_type = {"indicator", CP_STIX_SDO, indicator_props,
						    indicator_check, NULL, NULL};

/* ------------------------------------------------------------- relationship */

static const struct cp__stix_prop relationship_props[] = {
	P("relationship_type", PK_STRING, PF_REQUIRED | PF_NONEMPTY),
	P("description", PK_STRING, 0),
	R("source_ref", PK_REF, PF_REQUIRED, cp__stix_refs_sdo_sco),
	R("target_ref", PK_REF, PF_REQUIRED, cp__stix_refs_sdo_sco),
	P("start_time", PK_TIMESTAMP, 0),
	P("stop_time", PK_TIMESTAMP, 0),
	END,
};

static void relationship_check(struct cp__stix_vctx *v, const json_t *obj)
{
	cp__stix_check_time_order(v, obj, "start_time", "stop_time", true);
}

static const struct cp__stix_type relationship_type = {
	"relationship", CP_STIX_SRO, relationship_props, relationship_check, NULL, NULL};

const struct cp__stix_type *const cp__stix_sdo_types[] = {
	&identity_type,
	&indicator_type,
	&relationship_type,
	NULL,
};
