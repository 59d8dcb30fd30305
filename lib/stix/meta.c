/*
 * STIX Meta Objects (spec section 7): marking-definition (with the TLP 1.0 ids and the
 * TLP 2.0 extension-based ones), language-content and extension-definition.
 * Meta object tables list all their properties, common ones included; `id` is not
 * marked required because check_id in validate.c already reports it missing.
 */
#include <strings.h>

#include "cyberpact/stix-marking.h"
#include "internal.h"

#define END {NULL, 0, 0, NULL, NULL, 0, 0, NULL}
#define P(name, kind, flags) {name, kind, flags, NULL, NULL, 0, 0, NULL}
#define V(name, kind, flags, vocab) {name, kind, flags, vocab, NULL, 0, 0, NULL}
#define R(name, kind, flags, refs) {name, kind, flags, NULL, refs, 0, 0, NULL}
#define S(name, kind, flags, sub) {name, kind, flags, NULL, NULL, 0, 0, sub}

static bool str_is(const json_t *j, const char *s)
{
	return json_is_string(j) && strcmp(json_string_value(j), s) == 0;
}

/* ------------------------------------------------- RFC 5646 language tags */

/* ------------------------------------------------------ marking-definition */

static const char *const definition_types[] = {"statement", "tlp", NULL};
static const char *const tlp1_levels[] = {"white", "green", "amber", "red", NULL};
static const char *const tlp2_levels[] = {"clear", "green", "amber", "amber+strict", "red", NULL};

static const struct cp__stix_prop marking_props[] = {
	P("type", PK_STRING, PF_REQUIRED),
	P("spec_version", PK_STRING, PF_REQUIRED),
	P("id", PK_ANY, 0),
	R("created_by_ref", PK_REF, 0, cp__stix_refs_identity),
	P("created", PK_TIMESTAMP, PF_REQUIRED),
	P("external_references", PK_EXT_REFS, 0),
	R("object_marking_refs", PK_REF_LIST, 0, cp__stix_refs_marking),
	S("granular_markings", PK_OBJECT_LIST, 0, cp__stix_granular_props),
	P("extensions", PK_DICT, 0),
	P("name", PK_STRING, 0),
	/*
	 * Both are "optional - deprecated" in the errata, yet required without
	 * extensions and part of the TLP 1.0 objects the spec mandates verbatim, so a
	 * deprecation warning would fire on every conforming TLP 1.0 or statement
	 * marking: no PF_DEPRECATED.
	 */
	V("definition_type", PK_OV, 0, definition_types),
	S("definition", PK_OBJECT, 0, NULL),
	END,
};

/* definition of a statement or TLP 1.0 marking: {"<key>": string} and nothing else */
static void definition_body(struct cp__stix_vctx *v, const json_t *def, const char *key,
			    const char *const *levels)
{
	size_t mark = cp__stix_push(v, "definition");
	const json_t *val = json_object_get(def, key);
	const char *k;
	const json_t *x;

	if (!val)
		cp__stix_err_at(v, key, "missing-property",
				"a %s marking definition must have '%s'", key, key);
	else if (!json_is_string(val))
		cp__stix_err_at(v, key, "type-mismatch", "'%s' must be a string", key);
	else if (levels && !cp__stix_in_list(json_string_value(val), levels))
		cp__stix_err_at(v, key, "enum-value",
				"'%s' is not a TLP 1.0 level (white, green, amber, red)",
				json_string_value(val));
	json_object_foreach((json_t *)def, k, x)
	{
		(void)x;
		if (strcmp(k, key) != 0)
			cp__stix_warn_at(v, k, "unknown-property",
					 "'%s' is not a property of the %s marking object type", k,
					 key);
	}
	cp__stix_pop(v, mark);
}

static void tlp_mismatch(struct cp__stix_vctx *v, const char *prop,
			 const struct cp_stix_tlp_marking *m, const char *what)
{
	cp__stix_err_at(v, prop, "tlp-marking",
			"'%s' is the id of the published TLP %u.0 marking definition %s, "
			"which must be used exactly as published: %s",
			m->id, m->tlp_version, m->name, what);
}

/* TLP 2.0: extensions = {TLP2 id: {"extension_type": "property-extension", "tlp_2_0": level}} */
static void tlp2_extensions(struct cp__stix_vctx *v, const json_t *exts,
			    const struct cp_stix_tlp_marking *m)
{
	const char *k;
	const json_t *x, *ext;
	size_t mark;

	if (!json_is_object(exts))
		return; /* reported as a type mismatch */
	json_object_foreach((json_t *)exts, k, x)
	{
		(void)x;
		if (strcmp(k, CP_STIX_TLP2_EXTENSION_ID) != 0) {
			mark = cp__stix_push(v, "extensions");
			tlp_mismatch(v, k, m, "it has no extension besides the TLP 2.0 one");
			cp__stix_pop(v, mark);
		}
	}
	ext = json_object_get(exts, CP_STIX_TLP2_EXTENSION_ID);
	if (!ext) {
		tlp_mismatch(v, "extensions", m,
			     "it carries the TLP 2.0 extension " CP_STIX_TLP2_EXTENSION_ID);
		return;
	}
	if (!json_is_object(ext))
		return;
	mark = cp__stix_push(v, "extensions");
	cp__stix_push(v, CP_STIX_TLP2_EXTENSION_ID);
	if (!str_is(json_object_get(ext, "extension_type"), "property-extension"))
		tlp_mismatch(v, "extension_type", m, "its extension_type is 'property-extension'");
	x = json_object_get(ext, "tlp_2_0");
	/* a value outside the TLP 2.0 levels is reported by tlp2_level() */
	if (!x || (json_is_string(x) && cp__stix_in_list(json_string_value(x), tlp2_levels) &&
		   strcmp(json_string_value(x), m->level) != 0)) {
		char want[64];
		snprintf(want, sizeof(want), "its tlp_2_0 is '%s'", m->level);
		tlp_mismatch(v, "tlp_2_0", m, want);
	}
	json_object_foreach((json_t *)ext, k, x)
	{
		(void)x;
		if (strcmp(k, "extension_type") != 0 && strcmp(k, "tlp_2_0") != 0)
			tlp_mismatch(v, k, m, "its TLP 2.0 extension has no other properties");
	}
	cp__stix_pop(v, mark);
}

/*
 * An object with the id of a published TLP marking must be that object (spec 7.2.1.4
 * for TLP 1.0, the TLP 2.0 extension's schema for 2.0): a look-alike under the same
 * id would change the handling of everything that references it. Properties whose
 * absence is already an error (spec_version, created, and definition_type/definition
 * without extensions) are not reported twice; spec_version values are left to
 * check_common.
 */
static void tlp_canonical(struct cp__stix_vctx *v, const json_t *obj,
			  const struct cp_stix_tlp_marking *m)
{
	static const char *const tlp1_props[] = {"type", "spec_version", "id", "created",
						 "definition_type", "name", "definition", NULL};
	static const char *const tlp2_props[] = {"type", "spec_version", "id", "created", "name",
						 "extensions", NULL};
	const char *const *allowed = m->tlp_version == 1 ? tlp1_props : tlp2_props;
	bool has_exts = json_object_get(obj, "extensions") != NULL;
	const json_t *j;
	const char *k;
	struct cp_time want, got;
	char msg[96];

	if (!str_is(json_object_get(obj, "id"), m->id))
		tlp_mismatch(v, "id", m, "its id is written in lowercase");
	if (cp__stix_get_time(obj, "created", &got) &&
	    cp_time_parse(m->created, strlen(m->created), &want, NULL) == CP_OK &&
	    cp_time_cmp(&got, &want) != 0) {
		snprintf(msg, sizeof(msg), "it was created %s", m->created);
		tlp_mismatch(v, "created", m, msg);
	}
	if (!str_is(json_object_get(obj, "name"), m->name)) {
		snprintf(msg, sizeof(msg), "its name is '%s'", m->name);
		tlp_mismatch(v, "name", m, msg);
	}
	if (m->tlp_version == 1) {
		const json_t *dt = json_object_get(obj, "definition_type");
		const json_t *def = json_object_get(obj, "definition");
		if ((dt || has_exts) && !str_is(dt, "tlp"))
			tlp_mismatch(v, "definition_type", m, "its definition_type is 'tlp'");
		if (!def && has_exts) {
			snprintf(msg, sizeof(msg), "its definition is {\"tlp\": \"%s\"}", m->level);
			tlp_mismatch(v, "definition", m, msg);
		} else if (json_is_object(def)) {
			j = json_object_get(def, "tlp");
			/* other keys of definition and non-levels are reported by definition_body */
			if (!j || (json_is_string(j) &&
				   cp__stix_in_list(json_string_value(j), tlp1_levels) &&
				   strcmp(json_string_value(j), m->level) != 0)) {
				size_t mark = cp__stix_push(v, "definition");
				snprintf(msg, sizeof(msg), "its definition.tlp is '%s'", m->level);
				tlp_mismatch(v, "tlp", m, msg);
				cp__stix_pop(v, mark);
			}
			json_object_foreach((json_t *)def, k, j)
			{
				if (strcmp(k, "tlp") != 0) {
					size_t mark = cp__stix_push(v, "definition");
					tlp_mismatch(v, k, m, "its definition has only 'tlp'");
					cp__stix_pop(v, mark);
				}
			}
		}
	} else {
		tlp2_extensions(v, json_object_get(obj, "extensions"), m);
	}
	json_object_foreach((json_t *)obj, k, j)
	{
		(void)j;
		if (!cp__stix_in_list(k, allowed)) {
			snprintf(msg, sizeof(msg), "it has no '%.40s' property", k);
			tlp_mismatch(v, k, m, msg);
		}
	}
}

/* Any object that uses the TLP 2.0 extension: tlp_2_0 must be one of its levels. */
static void tlp2_level(struct cp__stix_vctx *v, const json_t *ext)
{
	const json_t *lv = json_object_get(ext, "tlp_2_0");
	size_t mark;

	if (!json_is_object(ext) || !lv)
		return;
	mark = cp__stix_push(v, "extensions");
	cp__stix_push(v, CP_STIX_TLP2_EXTENSION_ID);
	if (!json_is_string(lv))
		cp__stix_err_at(v, "tlp_2_0", "type-mismatch", "'tlp_2_0' must be a string");
	else if (!cp__stix_in_list(json_string_value(lv), tlp2_levels))
		cp__stix_err_at(v, "tlp_2_0", "enum-value",
				"'%s' is not a TLP 2.0 level (clear, green, amber, amber+strict, "
				"red)",
				json_string_value(lv));
	cp__stix_pop(v, mark);
}

static void marking_check(struct cp__stix_vctx *v, const json_t *obj)
{
	const json_t *dt = json_object_get(obj, "definition_type");
	const json_t *def = json_object_get(obj, "definition");
	const json_t *exts = json_object_get(obj, "extensions");
	const json_t *id = json_object_get(obj, "id");
	const json_t *tlp2ext = json_object_get(exts, CP_STIX_TLP2_EXTENSION_ID);
	const struct cp_stix_tlp_marking *m =
		json_is_string(id) ? cp_stix_tlp_marking_find(json_string_value(id)) : NULL;

	/* spec 7.2.1: without extensions, definition_type and definition MUST be present */
	if (!exts) {
		if (!dt)
			cp__stix_err_at(v, "definition_type", "missing-property",
					"'definition_type' is required when 'extensions' is absent");
		if (!def)
			cp__stix_err_at(v, "definition", "missing-property",
					"'definition' is required when 'extensions' is absent");
	} else if (!dt != !def) {
		/* one names the marking type of the other: either half alone means nothing */
		const char *missing = dt ? "definition" : "definition_type";
		cp__stix_warn_at(v, missing, "missing-property",
				 "'definition_type' and 'definition' should be used together");
	}
	if (exts && !dt && !json_object_get(obj, "name"))
		cp__stix_warn_at(v, "name", "missing-property",
				 "a marking definition defined by an extension should have a "
				 "'name' to display");
	if (json_is_string(dt) && json_is_object(def)) {
		if (strcmp(json_string_value(dt), "statement") == 0)
			definition_body(v, def, "statement", NULL);
		else if (strcmp(json_string_value(dt), "tlp") == 0)
			definition_body(v, def, "tlp", tlp1_levels);
	}
	/* spec 7.2.1.4: no TLP marking definitions other than the published ones */
	if (str_is(dt, "tlp") && (!m || m->tlp_version != 1))
		cp__stix_err_at(v, "id", "tlp-marking",
				"only the four TLP 1.0 marking definitions of STIX 2.1 section "
				"7.2.1.4 may have definition_type 'tlp': reference them by their "
				"published ids instead of creating a new one");
	if (tlp2ext && (!m || m->tlp_version != 2))
		cp__stix_err_at(v, "id", "tlp-marking",
				"only the five published TLP 2.0 marking definitions may use the "
				"TLP 2.0 extension: reference them by their published ids instead "
				"of creating a new one");
	tlp2_level(v, tlp2ext);
	if (m)
		tlp_canonical(v, obj, m);
}

static const struct cp__stix_type marking_type = {"marking-definition", CP_STIX_META,
						  marking_props, marking_check, NULL, NULL};

/* --------------------------------------------------------- language-content */

static const struct cp__stix_prop lc_props[] = {
	P("type", PK_STRING, PF_REQUIRED),
	P("spec_version", PK_STRING, PF_REQUIRED),
	P("id", PK_ANY, 0),
	R("created_by_ref", PK_REF, 0, cp__stix_refs_identity),
	P("created", PK_TIMESTAMP, PF_REQUIRED),
	P("modified", PK_TIMESTAMP, PF_REQUIRED),
	P("revoked", PK_BOOL, 0),
	P("labels", PK_STRING_LIST, 0),
	{"confidence", PK_INTEGER, PF_RANGE, NULL, NULL, 0, 100, NULL},
	P("external_references", PK_EXT_REFS, 0),
	R("object_marking_refs", PK_REF_LIST, 0, cp__stix_refs_marking),
	S("granular_markings", PK_OBJECT_LIST, 0, cp__stix_granular_props),
	P("extensions", PK_DICT, 0),
	R("object_ref", PK_REF, PF_REQUIRED, cp__stix_refs_any),
	P("object_modified", PK_TIMESTAMP, 0),
	P("contents", PK_DICT, PF_REQUIRED),
	END,
};

static void lc_check(struct cp__stix_vctx *v, const json_t *obj)
{
	const json_t *ref = json_object_get(obj, "object_ref");
	const json_t *contents = json_object_get(obj, "contents");
	const char *key;
	const json_t *tr;
	size_t mark;

	/* spec 7.1.1: object_ref MUST identify a STIX Object, which a bundle is not (8) */
	if (json_is_string(ref) && strncmp(json_string_value(ref), "bundle--", 8) == 0)
		cp__stix_err_at(v, "object_ref", "ref-type",
				"'%s' must refer to a STIX Object, not to a bundle",
				json_string_value(ref));
	if (!json_is_object(contents))
		return;
	mark = cp__stix_push(v, "contents");
	json_object_foreach((json_t *)contents, key, tr)
	{
		if (!cp__stix_lang_tag_ok(key))
			cp__stix_err_at(v, key, "language-tag",
					"contents keys must be RFC 5646 language tags; '%s' is not "
					"one",
					key);
		/* the values mirror the target object's properties, so they are objects */
		if (!json_is_object(tr))
			cp__stix_err_at(v, key, "type-mismatch",
					"the translation for '%s' must be a dictionary of property "
					"names to translated values",
					key);
		else if (json_object_size(tr) == 0)
			cp__stix_err_at(v, key, "empty-dictionary",
					"dictionaries must not be empty");
	}
	cp__stix_pop(v, mark);
}

static const struct cp__stix_type lc_type = {"language-content", CP_STIX_META, lc_props, lc_check,
					     NULL, NULL};

/* ----------------------------------------------------- extension-definition */

static const struct cp__stix_prop extdef_props[] = {
	P("type", PK_STRING, PF_REQUIRED),
	P("spec_version", PK_STRING, PF_REQUIRED),
	P("id", PK_ANY, 0),
	R("created_by_ref", PK_REF, PF_REQUIRED, cp__stix_refs_identity),
	P("created", PK_TIMESTAMP, PF_REQUIRED),
	P("modified", PK_TIMESTAMP, PF_REQUIRED),
	P("revoked", PK_BOOL, 0),
	P("labels", PK_STRING_LIST, 0),
	P("external_references", PK_EXT_REFS, 0),
	R("object_marking_refs", PK_REF_LIST, 0, cp__stix_refs_marking),
	S("granular_markings", PK_OBJECT_LIST, 0, cp__stix_granular_props),
	/* not applicable (spec 7.3.1); listed so extdef_check reports it, not check_unknown */
	P("extensions", PK_ANY, 0),
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	P("schema", PK_STRING, PF_REQUIRED),
	P("version", PK_STRING, PF_REQUIRED),
	V("extension_types", PK_ENUM_LIST, PF_REQUIRED, cp__stix_vocab_extension_type),
	P("extension_properties", PK_STRING_LIST, 0),
	END,
};

static void extdef_check(struct cp__stix_vctx *v, const json_t *obj)
{
	const json_t *types = json_object_get(obj, "extension_types");
	const json_t *props = json_object_get(obj, "extension_properties");
	bool toplevel = false;
	size_t i;
	const json_t *e;

	if (json_object_get(obj, "extensions"))
		cp__stix_err_at(v, "extensions", "property-not-allowed",
				"'extensions' is not applicable to extension-definition");
	if (!json_object_get(obj, "description"))
		cp__stix_warn_at(v, "description", "missing-property",
				 "an extension definition should have a 'description'");
	if (json_is_array(types)) {
		json_array_foreach(types, i, e)
		{
			toplevel = toplevel || str_is(e, "toplevel-property-extension");
		}
	}
	if (props && !toplevel)
		cp__stix_err_at(v, "extension_properties", "property-not-allowed",
				"'extension_properties' may only be used when extension_types "
				"includes 'toplevel-property-extension'");
	else if (!props && toplevel)
		cp__stix_warn_at(v, "extension_properties", "missing-property",
				 "a toplevel-property-extension should list the property names "
				 "it adds in 'extension_properties'");
	/* spec 7.3.2: the names follow the property name rules */
	if (json_is_array(props)) {
		size_t mark = cp__stix_push(v, "extension_properties");
		json_array_foreach(props, i, e)
		{
			const char *why = NULL;
			if (json_is_string(e) && !cp__stix_prop_name_ok(json_string_value(e), &why)) {
				size_t m2 = cp__stix_push_index(v, i);
				cp__stix_err(v, "custom-property-name", "property name '%s' %s",
					     json_string_value(e), why);
				cp__stix_pop(v, m2);
			}
		}
		cp__stix_pop(v, mark);
	}
}

static const struct cp__stix_type extdef_type = {"extension-definition", CP_STIX_META,
						 extdef_props, extdef_check, NULL, NULL};

const struct cp__stix_type *const cp__stix_meta_types[] = {
	&marking_type,
	&lc_type,
	&extdef_type,
	NULL,
};
