/*
 * lib/stix/internal.h - the table-driven validator shared by the files of lib/stix.
 *
 * Every object type is a `struct cp__stix_type`: its kind, a table of properties
 * (`struct cp__stix_prop`, terminated by an entry with name NULL) and an optional
 * `check` function for rules that span properties. validate.c walks an object:
 * common properties of its kind, then the type's table, then unknown properties
 * (custom property rules), then `check`.
 *
 * Adding a type: write its prop table and, if needed, a check function in sdo.c,
 * sco.c or meta.c and list it in that file's table (cp__stix_sdo_types, ...).
 */
#ifndef CYBERPACT_STIX_INTERNAL_H
#define CYBERPACT_STIX_INTERNAL_H

#include <jansson.h>

#include "cyberpact/stix.h"
#include "common.h"

/* What a property's value must be. */
enum cp__stix_pk {
	PK_ANY = 0,      /* any JSON value */
	PK_STRING,       /* string */
	PK_TIMESTAMP,    /* STIX timestamp string */
	PK_INTEGER,      /* integer (range in min/max when PF_RANGE) */
	PK_FLOAT,        /* JSON number (integer or real) (range when PF_RANGE) */
	PK_BOOL,         /* true/false */
	PK_REF,          /* identifier; allowed target types in `refs` */
	PK_REF_LIST,     /* non-empty list of identifiers */
	PK_STRING_LIST,  /* non-empty list of strings */
	PK_OV,           /* open vocabulary string: value not in `vocab` is a warning */
	PK_OV_LIST,      /* non-empty list of open vocabulary strings */
	PK_ENUM,         /* closed vocabulary string: value not in `vocab` is an error */
	PK_ENUM_LIST,    /* non-empty list of closed vocabulary strings */
	PK_HASHES,       /* hashes dictionary (spec 2.7) */
	PK_KILL_CHAIN,   /* non-empty list of kill-chain-phase (spec 2.11) */
	PK_EXT_REFS,     /* non-empty list of external-reference (spec 2.5) */
	PK_DICT,         /* dictionary: JSON object, keys checked per spec 2.3 */
	PK_BINARY,       /* base64 string (spec 2.1) */
	PK_HEX,          /* hexadecimal string, even digit count (spec 2.8) */
	PK_OBJECT,       /* JSON object checked with `sub` */
	PK_OBJECT_LIST,  /* non-empty list of JSON objects checked with `sub` */
	PK_TIMESTAMP_LIST, /* non-empty list of timestamps */
	PK_INTEGER_LIST, /* non-empty list of integers */
};

/* Property flags. */
enum {
	PF_REQUIRED = 1u << 0,   /* MUST be present */
	PF_RANGE = 1u << 1,      /* min/max apply (integers, floats) */
	PF_ID_CONTRIB = 1u << 2, /* contributes to the SCO deterministic id */
	PF_DEPRECATED = 1u << 3, /* present -> warning "deprecated-property" */
	PF_NONEMPTY = 1u << 4,   /* string MUST NOT be empty */
};

struct cp__stix_prop {
	const char *name;
	enum cp__stix_pk kind;
	unsigned flags;
	/* PK_OV/PK_ENUM(_LIST): NULL-terminated list of values */
	const char *const *vocab;
	/*
	 * PK_REF(_LIST): NULL-terminated list of allowed target types. Besides type
	 * names it may hold the classes "<sdo>", "<sro>", "<sco>", "<meta>", "<any>"
	 * (any type, custom ones included). NULL means "<any>".
	 */
	const char *const *refs;
	double min, max;                   /* PF_RANGE */
	const struct cp__stix_prop *sub;   /* PK_OBJECT(_LIST) */
};

struct cp__stix_vctx;

/* A predefined extension (spec 6.x, e.g. "ntfs-ext" of file). */
struct cp__stix_ext {
	const char *name;
	const struct cp__stix_prop *props;
	/* cross-property rules on the extension object, pointers relative to it */
	void (*check)(struct cp__stix_vctx *v, const json_t *ext);
};

struct cp__stix_type {
	const char *type;
	enum cp_stix_kind kind;
	const struct cp__stix_prop *props;
	/* cross-property rules; obj is the whole object, pointers relative to it */
	void (*check)(struct cp__stix_vctx *v, const json_t *obj);
	/* SCOs: id-contributing properties in spec order (NULL-terminated), or NULL */
	const char *const *id_contrib;
	/* predefined extensions this type may carry (NULL-terminated by name), or NULL */
	const struct cp__stix_ext *exts;
};

/* The validation context: where findings go and the JSON pointer of the current value. */
struct cp__stix_vctx {
	struct cp_diag *diag;
	struct cp_buf ptr; /* pointer of the value being checked */
	unsigned flags;
	unsigned depth;
	/* the object being validated has a toplevel-property-extension */
	bool has_toplevel_ext;
	const struct cp__stix_type *type; /* its type, NULL for custom objects */
};

/* --- findings (pointer = v->ptr, plus optional extra token(s)) */
void cp__stix_err(struct cp__stix_vctx *v, const char *code, const char *fmt, ...) CP_PRINTF(3, 4);
void cp__stix_warn(struct cp__stix_vctx *v, const char *code, const char *fmt, ...) CP_PRINTF(3, 4);
/* same at v->ptr + "/" + prop */
void cp__stix_err_at(struct cp__stix_vctx *v, const char *prop, const char *code,
		     const char *fmt, ...) CP_PRINTF(4, 5);
void cp__stix_warn_at(struct cp__stix_vctx *v, const char *prop, const char *code,
		      const char *fmt, ...) CP_PRINTF(4, 5);

/* --- pointer stack: push returns the old length to pass to pop */
size_t cp__stix_push(struct cp__stix_vctx *v, const char *token);
size_t cp__stix_push_index(struct cp__stix_vctx *v, size_t i);
void cp__stix_pop(struct cp__stix_vctx *v, size_t mark);

/* --- checks usable from type `check` functions (value at the current pointer) */
/* Check value against one property spec (not including "required"). */
void cp__stix_check_value(struct cp__stix_vctx *v, const struct cp__stix_prop *p,
			  const json_t *value);
/* Check every property of obj against the table (required ones, unknown ones if strict_keys). */
void cp__stix_check_props(struct cp__stix_vctx *v, const json_t *obj,
			  const struct cp__stix_prop *props, bool unknown_is_error);
/* Parse a timestamp property of obj; false if absent or invalid (no finding added). */
bool cp__stix_get_time(const json_t *obj, const char *prop, struct cp_time *out);
/* Type of the id string ("indicator" from "indicator--..."), copied into buf. */
bool cp__stix_id_type(const char *id, char *buf, size_t len);
/* Does the type name match an entry of a `refs` list? */
bool cp__stix_ref_allowed(const char *type, const char *const *refs);
/* Is name a valid STIX type name / property name (spec 3.1)? */
bool cp__stix_type_name_ok(const char *name, const char **why);
bool cp__stix_prop_name_ok(const char *name, const char **why);
/* s is in the NULL-terminated list? */
bool cp__stix_in_list(const char *s, const char *const *list);
/* Exactly one of / at least one of the named properties present. */
void cp__stix_require_one_of(struct cp__stix_vctx *v, const json_t *obj, const char *const *names);
/* Properties a and b: if both timestamps, b must be >= a (or > a when strictly). */
void cp__stix_check_time_order(struct cp__stix_vctx *v, const json_t *obj, const char *a,
			       const char *b, bool strictly);

/* --- type tables (NULL-terminated arrays of pointers) */
extern const struct cp__stix_type *const cp__stix_sdo_types[];
extern const struct cp__stix_type *const cp__stix_sco_types[];
extern const struct cp__stix_type *const cp__stix_meta_types[];
const struct cp__stix_type *cp__stix_find_type(const char *type);

/* --- common property tables (common.c) */
extern const struct cp__stix_prop cp__stix_common_sdo[]; /* SDO and SRO */
extern const struct cp__stix_prop cp__stix_common_sco[];
/* external-reference, kill-chain-phase, granular-marking sub-tables */
extern const struct cp__stix_prop cp__stix_ext_ref_props[];
extern const struct cp__stix_prop cp__stix_kill_chain_props[];
extern const struct cp__stix_prop cp__stix_granular_props[];
/* Is tag a well-formed RFC 5646 language tag (syntax only)? */
bool cp__stix_lang_tag_ok(const char *tag);
void cp__stix_check_hashes(struct cp__stix_vctx *v, const json_t *value);
/* Hex digits of a fixed-length hash algorithm of hash-algorithm-ov (MD5 32, ...), or 0. */
size_t cp__stix_hash_hex_len(const char *name, size_t len);
void cp__stix_check_extensions(struct cp__stix_vctx *v, const json_t *obj, const json_t *exts);
void cp__stix_check_granular(struct cp__stix_vctx *v, const json_t *obj, const json_t *gm);

/* --- vocabularies (vocab.c); names follow spec section 10 */
extern const char *const cp__stix_vocab_account_type[];
extern const char *const cp__stix_vocab_attack_motivation[];
extern const char *const cp__stix_vocab_attack_resource_level[];
extern const char *const cp__stix_vocab_encryption_algorithm[];
extern const char *const cp__stix_vocab_extension_type[];
extern const char *const cp__stix_vocab_grouping_context[];
extern const char *const cp__stix_vocab_hash_algorithm[];
extern const char *const cp__stix_vocab_identity_class[];
extern const char *const cp__stix_vocab_implementation_language[];
extern const char *const cp__stix_vocab_indicator_type[];
extern const char *const cp__stix_vocab_industry_sector[];
extern const char *const cp__stix_vocab_infrastructure_type[];
extern const char *const cp__stix_vocab_malware_capabilities[];
extern const char *const cp__stix_vocab_malware_result[];
extern const char *const cp__stix_vocab_malware_type[];
extern const char *const cp__stix_vocab_network_socket_address_family[];
extern const char *const cp__stix_vocab_network_socket_type[];
extern const char *const cp__stix_vocab_opinion[];
extern const char *const cp__stix_vocab_pattern_type[];
extern const char *const cp__stix_vocab_processor_architecture[];
extern const char *const cp__stix_vocab_region[];
extern const char *const cp__stix_vocab_report_type[];
extern const char *const cp__stix_vocab_threat_actor_type[];
extern const char *const cp__stix_vocab_threat_actor_role[];
extern const char *const cp__stix_vocab_threat_actor_sophistication[];
extern const char *const cp__stix_vocab_tool_type[];
extern const char *const cp__stix_vocab_windows_integrity_level[];
extern const char *const cp__stix_vocab_windows_pebinary_type[];
extern const char *const cp__stix_vocab_windows_registry_datatype[];
extern const char *const cp__stix_vocab_windows_service_start_type[];
extern const char *const cp__stix_vocab_windows_service_type[];
extern const char *const cp__stix_vocab_windows_service_status[];

/* --- reference target classes used by tables */
extern const char *const cp__stix_refs_identity[];
extern const char *const cp__stix_refs_marking[];
extern const char *const cp__stix_refs_sdo[];
extern const char *const cp__stix_refs_sdo_sco[];
extern const char *const cp__stix_refs_sco[];
extern const char *const cp__stix_refs_any[];

/* --- indicator patterns (pattern-check.c): findings at /pattern of obj */
void cp__stix_check_pattern(struct cp__stix_vctx *v, const json_t *obj);

/* --- SCO deterministic id helpers (id.c) */
bool cp__stix_uuid_ok(const char *s, size_t len);
unsigned cp__stix_uuid_version(const char *s);


/*
 * Parse JSON text into a jansson tree: what json_loadb(JSON_REJECT_DUPLICATES)
 * accepts, with CP_LIMIT_JSON_DEPTH and CP_LIMIT_STRING_BYTES checked on the way
 * (json-load.c). One finding on failure: json-syntax (with line and column),
 * too-deep, too-big or out-of-memory.
 */
enum cp_err cp__stix_json_load(const char *text, size_t len, json_t **out, struct cp_diag *diag);

#endif
