/*
 * STIX Domain Objects (spec section 4) and Relationship Objects (section 5).
 * Common properties are in common.c; each table lists the type's own properties.
 * Rules that span properties live in the types' check functions.
 */
#include "internal.h"

#define END {NULL, 0, 0, NULL, NULL, 0, 0, NULL}
#define P(name, kind, flags) {name, kind, flags, NULL, NULL, 0, 0, NULL}
#define V(name, kind, flags, vocab) {name, kind, flags, vocab, NULL, 0, 0, NULL}
#define R(name, kind, flags, refs) {name, kind, flags, NULL, refs, 0, 0, NULL}
#define N(name, kind, flags, min, max) {name, kind, (flags) | PF_RANGE, NULL, NULL, min, max, NULL}

/* Reference targets named by the property tables of sections 4 and 5. */
static const char *const refs_software[] = {"software", NULL};
static const char *const refs_file_artifact[] = {"file", "artifact", NULL};
static const char *const refs_analysis_sample[] = {"file", "network-traffic", "artifact", NULL};
static const char *const refs_observed_data[] = {"observed-data", NULL};
static const char *const refs_identity_location[] = {"identity", "location", NULL};
static const char *const refs_sco_sro[] = {"<sco>", "<sro>", NULL};
/*
 * "Any STIX Object": spelled out rather than "<any>" because a bundle is not a STIX
 * Object (spec section 8) and so cannot be the target of object_refs.
 */
static const char *const refs_stix_object[] = {"<sdo>", "<sro>", "<sco>", "<meta>", NULL};

/* ------------------------------------------------------ shared rule helpers */

/* The type part of an identifier value, if it is a valid one. */
static bool ref_type_of(const json_t *j, char *buf, size_t len)
{
	size_t tlen;

	if (!json_is_string(j) || !cp_stix_id_is_valid(json_string_value(j), &tlen) ||
	    tlen + 1 > len)
		return false;
	memcpy(buf, json_string_value(j), tlen);
	buf[tlen] = '\0';
	return true;
}

/* campaign, infrastructure, intrusion-set, malware, threat-actor, sighting */
static void seen_check(struct cp__stix_vctx *v, const json_t *obj)
{
	/* last_seen MUST be greater than or equal to first_seen */
	cp__stix_check_time_order(v, obj, "first_seen", "last_seen", false);
}

/* ----------------------------------------------------------- attack-pattern */

static const struct cp__stix_prop attack_pattern_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	P("aliases", PK_STRING_LIST, 0),
	P("kill_chain_phases", PK_KILL_CHAIN, 0),
	END,
};

static const struct cp__stix_type attack_pattern_type = {
	"attack-pattern", CP_STIX_SDO, attack_pattern_props, NULL, NULL, NULL};

/* ----------------------------------------------------------------- campaign */

static const struct cp__stix_prop campaign_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	P("aliases", PK_STRING_LIST, 0),
	P("first_seen", PK_TIMESTAMP, 0),
	P("last_seen", PK_TIMESTAMP, 0),
	P("objective", PK_STRING, 0),
	END,
};

static const struct cp__stix_type campaign_type = {"campaign", CP_STIX_SDO, campaign_props,
						   seen_check, NULL, NULL};

/* --------------------------------------------------------- course-of-action */

static const struct cp__stix_prop course_of_action_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	/* RESERVED: listed so that only the reserved-name error below reports it */
	P("action", PK_ANY, 0),
	END,
};

static void course_of_action_check(struct cp__stix_vctx *v, const json_t *obj)
{
	/* spec 3.8: reserved properties MUST NOT be present in conforming content */
	if (json_object_get(obj, "action"))
		cp__stix_err_at(v, "action", "property-not-allowed",
				"'action' is reserved for future use and must not be present");
}

static const struct cp__stix_type course_of_action_type = {
	"course-of-action", CP_STIX_SDO, course_of_action_props, course_of_action_check, NULL,
	NULL};

/* ----------------------------------------------------------------- grouping */

static const struct cp__stix_prop grouping_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	V("context", PK_OV, PF_REQUIRED, cp__stix_vocab_grouping_context),
	R("object_refs", PK_REF_LIST, PF_REQUIRED, refs_stix_object),
	END,
};

static const struct cp__stix_type grouping_type = {"grouping", CP_STIX_SDO, grouping_props, NULL,
						   NULL, NULL};

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

/* ----------------------------------------------------------------- incident */

static const struct cp__stix_prop incident_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	END,
};

static const struct cp__stix_type incident_type = {"incident", CP_STIX_SDO, incident_props,
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
	/* stix patterns are parsed and checked by the pattern engine */
	cp__stix_check_pattern(v, obj);
}

static const struct cp__stix_type indicator_type = {"indicator", CP_STIX_SDO, indicator_props,
						    indicator_check, NULL, NULL};

/* ----------------------------------------------------------- infrastructure */

static const struct cp__stix_prop infrastructure_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	V("infrastructure_types", PK_OV_LIST, 0, cp__stix_vocab_infrastructure_type),
	P("aliases", PK_STRING_LIST, 0),
	P("kill_chain_phases", PK_KILL_CHAIN, 0),
	P("first_seen", PK_TIMESTAMP, 0),
	P("last_seen", PK_TIMESTAMP, 0),
	END,
};

static const struct cp__stix_type infrastructure_type = {
	"infrastructure", CP_STIX_SDO, infrastructure_props, seen_check, NULL, NULL};

/* ------------------------------------------------------------ intrusion-set */

static const struct cp__stix_prop intrusion_set_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	P("aliases", PK_STRING_LIST, 0),
	P("first_seen", PK_TIMESTAMP, 0),
	P("last_seen", PK_TIMESTAMP, 0),
	P("goals", PK_STRING_LIST, 0),
	V("resource_level", PK_OV, 0, cp__stix_vocab_attack_resource_level),
	V("primary_motivation", PK_OV, 0, cp__stix_vocab_attack_motivation),
	V("secondary_motivations", PK_OV_LIST, 0, cp__stix_vocab_attack_motivation),
	END,
};

static const struct cp__stix_type intrusion_set_type = {
	"intrusion-set", CP_STIX_SDO, intrusion_set_props, seen_check, NULL, NULL};

/* ----------------------------------------------------------------- location */

static const struct cp__stix_prop location_props[] = {
	P("name", PK_STRING, 0),
	P("description", PK_STRING, 0),
	N("latitude", PK_FLOAT, 0, -90.0, 90.0),
	N("longitude", PK_FLOAT, 0, -180.0, 180.0),
	P("precision", PK_FLOAT, 0), /* >= 0, checked below for a readable message */
	V("region", PK_OV, 0, cp__stix_vocab_region),
	P("country", PK_STRING, 0),
	P("administrative_area", PK_STRING, 0),
	P("city", PK_STRING, 0),
	P("street_address", PK_STRING, 0),
	P("postal_code", PK_STRING, 0),
	END,
};

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void location_check(struct cp__stix_vctx *v, const json_t *obj)
{
	bool has_lat = json_object_get(obj, "latitude") != NULL;
	bool has_lon = json_object_get(obj, "longitude") != NULL;
	const json_t *prec = json_object_get(obj, "precision");
	const json_t *country = json_object_get(obj, "country");

	/* each of latitude and longitude MUST be present if the other is */
	if (has_lat && !has_lon)
		cp__stix_err_at(v, "longitude", "missing-property",
				"'longitude' must be present when 'latitude' is");
	else if (has_lon && !has_lat)
		cp__stix_err_at(v, "latitude", "missing-property",
				"'latitude' must be present when 'longitude' is");
	else if (prec && !has_lat) {
		/* if precision is present, latitude and longitude MUST be present */
		cp__stix_err_at(v, "latitude", "missing-property",
				"'latitude' must be present when 'precision' is");
		cp__stix_err_at(v, "longitude", "missing-property",
				"'longitude' must be present when 'precision' is");
	}
	if (json_is_number(prec) && json_number_value(prec) < 0)
		cp__stix_err_at(v, "precision", "out-of-range",
				"%g is outside the allowed range: precision is a distance in "
				"meters and must not be negative",
				json_number_value(prec));
	/* at least one of region, country, or latitude and longitude MUST be present;
	 * half a coordinate pair is already reported above */
	if (!json_object_get(obj, "region") && !country && !has_lat && !has_lon)
		cp__stix_err(v, "missing-property",
			     "a location needs at least one of 'region', 'country', or "
			     "'latitude' and 'longitude'");
	/* SHOULD be an ISO 3166-1 alpha-2 code; the spec's own examples use lowercase */
	if (json_is_string(country) &&
	    !(json_string_length(country) == 2 && is_alpha(json_string_value(country)[0]) &&
	      is_alpha(json_string_value(country)[1])))
		cp__stix_warn_at(v, "country", "value-format",
				 "'%s' is not an ISO 3166-1 alpha-2 country code",
				 json_string_value(country));
}

static const struct cp__stix_type location_type = {"location", CP_STIX_SDO, location_props,
						   location_check, NULL, NULL};

/* ------------------------------------------------------------------ malware */

static const struct cp__stix_prop malware_props[] = {
	P("name", PK_STRING, 0),
	P("description", PK_STRING, 0),
	V("malware_types", PK_OV_LIST, 0, cp__stix_vocab_malware_type),
	/*
	 * Required in the STIX 2.1 OASIS Standard and its JSON schema; the errata
	 * Markdown marks it optional, which contradicts the rule on name below.
	 */
	P("is_family", PK_BOOL, 0), /* optional since STIX 2.1 errata 01 */
	P("aliases", PK_STRING_LIST, 0),
	P("kill_chain_phases", PK_KILL_CHAIN, 0),
	P("first_seen", PK_TIMESTAMP, 0),
	P("last_seen", PK_TIMESTAMP, 0),
	R("operating_system_refs", PK_REF_LIST, 0, refs_software),
	V("architecture_execution_envs", PK_OV_LIST, 0, cp__stix_vocab_processor_architecture),
	V("implementation_languages", PK_OV_LIST, 0, cp__stix_vocab_implementation_language),
	V("capabilities", PK_OV_LIST, 0, cp__stix_vocab_malware_capabilities),
	R("sample_refs", PK_REF_LIST, 0, refs_file_artifact),
	END,
};

static void malware_check(struct cp__stix_vctx *v, const json_t *obj)
{
	seen_check(v, obj);
	/* for a malware family the name MUST be defined */
	if (json_is_true(json_object_get(obj, "is_family")) && !json_object_get(obj, "name"))
		cp__stix_err_at(v, "name", "missing-property",
				"a malware family ('is_family': true) must have a 'name'");
}

static const struct cp__stix_type malware_type = {"malware", CP_STIX_SDO, malware_props,
						  malware_check, NULL, NULL};

/* --------------------------------------------------------- malware-analysis */

static const struct cp__stix_prop malware_analysis_props[] = {
	P("product", PK_STRING, PF_REQUIRED),
	P("version", PK_STRING, 0),
	R("host_vm_ref", PK_REF, 0, refs_software),
	R("operating_system_ref", PK_REF, 0, refs_software),
	R("installed_software_refs", PK_REF_LIST, 0, refs_software),
	P("configuration_version", PK_STRING, 0),
	P("modules", PK_STRING_LIST, 0),
	P("analysis_engine_version", PK_STRING, 0),
	P("analysis_definition_version", PK_STRING, 0),
	P("submitted", PK_TIMESTAMP, 0),
	P("analysis_started", PK_TIMESTAMP, 0),
	P("analysis_ended", PK_TIMESTAMP, 0),
	P("result_name", PK_STRING, 0),
	V("result", PK_OV, 0, cp__stix_vocab_malware_result),
	R("analysis_sco_refs", PK_REF_LIST, 0, cp__stix_refs_sco),
	R("sample_ref", PK_REF, 0, refs_analysis_sample),
	END,
};

static void malware_analysis_check(struct cp__stix_vctx *v, const json_t *obj)
{
	static const char *const result_or_scos[] = {"result", "analysis_sco_refs", NULL};
	const json_t *product = json_object_get(obj, "product");

	/* one of result or analysis_sco_refs MUST be provided */
	cp__stix_require_one_of(v, obj, result_or_scos);
	/* product names SHOULD be all lowercase with words separated by a dash */
	if (json_is_string(product)) {
		const char *s = json_string_value(product);
		for (; *s; s++)
			if ((*s >= 'A' && *s <= 'Z') || *s == ' ' || *s == '_' || *s == '\t')
				break;
		if (*s)
			cp__stix_warn_at(v, "product", "value-format",
					 "product names should be lowercase with words "
					 "separated by '-', not '%s'",
					 json_string_value(product));
	}
}

static const struct cp__stix_type malware_analysis_type = {
	"malware-analysis", CP_STIX_SDO, malware_analysis_props, malware_analysis_check, NULL,
	NULL};

/* --------------------------------------------------------------------- note */

static const struct cp__stix_prop note_props[] = {
	P("abstract", PK_STRING, 0),
	P("content", PK_STRING, PF_REQUIRED),
	P("authors", PK_STRING_LIST, 0),
	R("object_refs", PK_REF_LIST, PF_REQUIRED, refs_stix_object),
	END,
};

static const struct cp__stix_type note_type = {"note", CP_STIX_SDO, note_props, NULL, NULL,
					       NULL};

/* ------------------------------------------------------------ observed-data */

static const struct cp__stix_prop observed_data_props[] = {
	P("first_observed", PK_TIMESTAMP, PF_REQUIRED),
	P("last_observed", PK_TIMESTAMP, PF_REQUIRED),
	N("number_observed", PK_INTEGER, PF_REQUIRED, 1, 999999999),
	/* observable-container (spec 2.13): a dictionary, checked further below */
	P("objects", PK_DICT, PF_DEPRECATED),
	R("object_refs", PK_REF_LIST, 0, refs_sco_sro),
	END,
};

/* The keys of an observable container, sorted, with a union-find over them. */
struct container {
	const char **keys;
	size_t *parent;
	size_t count;
	bool has_outside_ref; /* a reference by STIX id that names no key */
};

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t find_root(struct container *c, size_t i)
{
	while (c->parent[i] != i) {
		c->parent[i] = c->parent[c->parent[i]];
		i = c->parent[i];
	}
	return i;
}

static void container_link(struct cp__stix_vctx *v, struct container *c, size_t self,
			   const json_t *ref)
{
	const char *s, **hit;

	if (!json_is_string(ref))
		return;
	s = json_string_value(ref);
	hit = bsearch(&s, c->keys, c->count, sizeof(*c->keys), cmp_key);
	if (hit) {
		size_t a = find_root(c, self), b = find_root(c, (size_t)(hit - c->keys));
		c->parent[a] = b;
		return;
	}
	/* SCOs of STIX 2.1 inside a container may refer by id; those we cannot resolve */
	if (cp_stix_id_is_valid(s, NULL)) {
		c->has_outside_ref = true;
		return;
	}
	cp__stix_err(v, "observable-container",
		     "reference '%s' does not resolve to an object of this container", s);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && strcmp(s + n - k, suffix) == 0;
}

/* Follow every *_ref and *_refs of a container object, nested ones included. */
static void container_walk(struct cp__stix_vctx *v, struct container *c, size_t self,
			   const json_t *j)
{
	const char *key;
	const json_t *val;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, val)
		{
			size_t mark = cp__stix_push_index(v, i);
			container_walk(v, c, self, val);
			cp__stix_pop(v, mark);
		}
		return;
	}
	if (!json_is_object(j))
		return;
	json_object_foreach((json_t *)j, key, val)
	{
		size_t mark = cp__stix_push(v, key);
		if (has_suffix(key, "_ref")) {
			container_link(v, c, self, val);
		} else if (has_suffix(key, "_refs") && json_is_array(val)) {
			const json_t *e;
			json_array_foreach(val, i, e)
			{
				size_t m2 = cp__stix_push_index(v, i);
				container_link(v, c, self, e);
				cp__stix_pop(v, m2);
			}
		} else {
			container_walk(v, c, self, val);
		}
		cp__stix_pop(v, mark);
	}
}

static void container_check(struct cp__stix_vctx *v, const json_t *objs)
{
	struct container c = {NULL, NULL, json_object_size(objs), false};
	const char *key;
	const json_t *val;
	size_t i = 0, groups = 0, mark;

	if (c.count == 0)
		return; /* the dictionary check reported it */
	c.keys = cp_calloc(c.count, sizeof(*c.keys));
	c.parent = cp_calloc(c.count, sizeof(*c.parent));
	if (!c.keys || !c.parent)
		goto out; /* a structural extra; skip it rather than fail validation */
	json_object_foreach((json_t *)objs, key, val)
	{
		(void)val;
		c.keys[i++] = key;
	}
	qsort(c.keys, c.count, sizeof(*c.keys), cmp_key);
	for (i = 0; i < c.count; i++)
		c.parent[i] = i;

	mark = cp__stix_push(v, "objects");
	for (i = 0; i < c.count; i++) {
		const json_t *o = json_object_get(objs, c.keys[i]);
		const json_t *t = json_object_get(o, "type");
		size_t m2 = cp__stix_push(v, c.keys[i]);

		if (!json_is_object(o)) {
			cp__stix_err(v, "type-mismatch",
				     "an observable container holds cyber-observable objects, "
				     "not a %s",
				     json_is_array(o) ? "list" : "scalar");
		} else if (!t) {
			cp__stix_err_at(v, "type", "missing-property",
					"required property 'type' is missing");
		} else if (!json_is_string(t)) {
			cp__stix_err_at(v, "type", "type-mismatch", "must be a string");
		} else {
			enum cp_stix_kind k = cp_stix_kind_of(json_string_value(t));
			if (k != CP_STIX_SCO && k != CP_STIX_CUSTOM)
				cp__stix_err_at(v, "type", "observable-container",
						"an observable container holds only "
						"cyber-observable objects, not a '%s'",
						json_string_value(t));
			container_walk(v, &c, i, o);
		}
		cp__stix_pop(v, m2);
	}
	cp__stix_pop(v, mark);

	/* objects not related to each other via references MUST NOT share a container */
	for (i = 0; i < c.count; i++)
		if (find_root(&c, i) == i)
			groups++;
	if (groups > 1 && !c.has_outside_ref)
		cp__stix_err_at(v, "objects", "observable-container",
				"the objects form %zu groups that do not refer to each other; "
				"unrelated objects must not share one observed-data",
				groups);
out:
	cp_free(c.keys);
	cp_free(c.parent);
}

static void observed_data_check(struct cp__stix_vctx *v, const json_t *obj)
{
	const json_t *objs = json_object_get(obj, "objects");
	const json_t *refs = json_object_get(obj, "object_refs");

	/* last_observed MUST be greater than or equal to first_observed */
	cp__stix_check_time_order(v, obj, "first_observed", "last_observed", false);
	/* either objects or object_refs MUST be provided, but not both */
	if (!objs && !refs)
		cp__stix_err(v, "missing-property",
			     "exactly one of 'object_refs' and 'objects' (deprecated) must be "
			     "present");
	else if (objs && refs)
		cp__stix_err_at(v, "objects", "property-not-allowed",
				"'objects' must not be present together with 'object_refs'");

	/* object_refs MUST contain at least one SCO reference */
	if (json_is_array(refs) && json_array_size(refs) > 0) {
		size_t i;
		const json_t *e;
		bool has_sco = false, all_ids = true;
		json_array_foreach(refs, i, e)
		{
			char type[CP_LIMIT_TYPE_LEN + 1];
			enum cp_stix_kind k;
			if (!ref_type_of(e, type, sizeof(type))) {
				all_ids = false; /* reported by the table check */
				continue;
			}
			k = cp_stix_kind_of(type);
			/* a custom type may be a custom SCO */
			if (k == CP_STIX_SCO || k == CP_STIX_CUSTOM)
				has_sco = true;
		}
		if (!has_sco && all_ids)
			cp__stix_err_at(v, "object_refs", "ref-type",
					"'object_refs' must contain at least one reference to a "
					"cyber-observable object");
	}
	if (json_is_object(objs))
		container_check(v, objs);
}

static const struct cp__stix_type observed_data_type = {
	"observed-data", CP_STIX_SDO, observed_data_props, observed_data_check, NULL, NULL};

/* ------------------------------------------------------------------ opinion */

static const struct cp__stix_prop opinion_props[] = {
	P("explanation", PK_STRING, 0),
	P("authors", PK_STRING_LIST, 0),
	V("opinion", PK_ENUM, PF_REQUIRED, cp__stix_vocab_opinion),
	R("object_refs", PK_REF_LIST, PF_REQUIRED, refs_stix_object),
	END,
};

static const struct cp__stix_type opinion_type = {"opinion", CP_STIX_SDO, opinion_props, NULL,
						  NULL, NULL};

/* ------------------------------------------------------------------- report */

static const struct cp__stix_prop report_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	V("report_types", PK_OV_LIST, 0, cp__stix_vocab_report_type),
	P("published", PK_TIMESTAMP, PF_REQUIRED),
	R("object_refs", PK_REF_LIST, PF_REQUIRED, refs_stix_object),
	END,
};

static const struct cp__stix_type report_type = {"report", CP_STIX_SDO, report_props, NULL,
						 NULL, NULL};

/* ------------------------------------------------------------- threat-actor */

static const struct cp__stix_prop threat_actor_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	V("threat_actor_types", PK_OV_LIST, 0, cp__stix_vocab_threat_actor_type),
	P("aliases", PK_STRING_LIST, 0),
	P("first_seen", PK_TIMESTAMP, 0),
	P("last_seen", PK_TIMESTAMP, 0),
	V("roles", PK_OV_LIST, 0, cp__stix_vocab_threat_actor_role),
	P("goals", PK_STRING_LIST, 0),
	V("sophistication", PK_OV, 0, cp__stix_vocab_threat_actor_sophistication),
	V("resource_level", PK_OV, 0, cp__stix_vocab_attack_resource_level),
	V("primary_motivation", PK_OV, 0, cp__stix_vocab_attack_motivation),
	V("secondary_motivations", PK_OV_LIST, 0, cp__stix_vocab_attack_motivation),
	V("personal_motivations", PK_OV_LIST, 0, cp__stix_vocab_attack_motivation),
	END,
};

static const struct cp__stix_type threat_actor_type = {
	"threat-actor", CP_STIX_SDO, threat_actor_props, seen_check, NULL, NULL};

/* --------------------------------------------------------------------- tool */

static const struct cp__stix_prop tool_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	V("tool_types", PK_OV_LIST, 0, cp__stix_vocab_tool_type),
	P("aliases", PK_STRING_LIST, 0),
	P("kill_chain_phases", PK_KILL_CHAIN, 0),
	P("tool_version", PK_STRING, 0),
	END,
};

static const struct cp__stix_type tool_type = {"tool", CP_STIX_SDO, tool_props, NULL, NULL,
					       NULL};

/* ------------------------------------------------------------ vulnerability */

/* The CVE form of external_id (spec 4.19) is checked with external references. */
static const struct cp__stix_prop vulnerability_props[] = {
	P("name", PK_STRING, PF_REQUIRED),
	P("description", PK_STRING, 0),
	END,
};

static const struct cp__stix_type vulnerability_type = {
	"vulnerability", CP_STIX_SDO, vulnerability_props, NULL, NULL, NULL};

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

/*
 * The specification-defined relationships (Appendix B, which agrees with the
 * Relationships tables of sections 4 and 6), besides the common ones of 3.7.
 * Targets are NULL-terminated; "<sco>" is any cyber-observable object.
 */
static const struct rel_def {
	const char *source;
	const char *rel;
	const char *const targets[8];
} rel_defs[] = {
	{"attack-pattern", "delivers", {"malware"}},
	{"attack-pattern", "targets", {"identity", "location", "vulnerability"}},
	{"attack-pattern", "uses", {"malware", "tool"}},
	{"campaign", "attributed-to", {"intrusion-set", "threat-actor"}},
	{"campaign", "compromises", {"infrastructure"}},
	{"campaign", "originates-from", {"location"}},
	{"campaign", "targets", {"identity", "location", "vulnerability"}},
	{"campaign", "uses", {"attack-pattern", "infrastructure", "malware", "tool"}},
	{"course-of-action", "investigates", {"indicator"}},
	{"course-of-action", "mitigates",
	 {"attack-pattern", "indicator", "malware", "tool", "vulnerability"}},
	{"course-of-action", "remediates", {"malware", "vulnerability"}},
	{"domain-name", "resolves-to", {"domain-name", "ipv4-addr", "ipv6-addr"}},
	{"identity", "located-at", {"location"}},
	{"indicator", "indicates",
	 {"attack-pattern", "campaign", "infrastructure", "intrusion-set", "malware",
	  "threat-actor", "tool"}},
	{"indicator", "based-on", {"observed-data"}},
	{"infrastructure", "communicates-with",
	 {"infrastructure", "ipv4-addr", "ipv6-addr", "domain-name", "url"}},
	{"infrastructure", "consists-of", {"infrastructure", "observed-data", "<sco>"}},
	{"infrastructure", "controls", {"infrastructure", "malware"}},
	{"infrastructure", "delivers", {"malware"}},
	{"infrastructure", "has", {"vulnerability"}},
	{"infrastructure", "hosts", {"tool", "malware"}},
	{"infrastructure", "located-at", {"location"}},
	{"infrastructure", "uses", {"infrastructure"}},
	{"intrusion-set", "attributed-to", {"threat-actor"}},
	{"intrusion-set", "compromises", {"infrastructure"}},
	{"intrusion-set", "hosts", {"infrastructure"}},
	{"intrusion-set", "owns", {"infrastructure"}},
	{"intrusion-set", "originates-from", {"location"}},
	{"intrusion-set", "targets", {"identity", "location", "vulnerability"}},
	{"intrusion-set", "uses", {"attack-pattern", "infrastructure", "malware", "tool"}},
	{"ipv4-addr", "belongs-to", {"autonomous-system"}},
	{"ipv4-addr", "resolves-to", {"mac-addr"}},
	{"ipv6-addr", "belongs-to", {"autonomous-system"}},
	{"ipv6-addr", "resolves-to", {"mac-addr"}},
	{"malware", "authored-by", {"threat-actor", "intrusion-set"}},
	{"malware", "beacons-to", {"infrastructure"}},
	{"malware", "exfiltrates-to", {"infrastructure"}},
	{"malware", "communicates-with", {"ipv4-addr", "ipv6-addr", "domain-name", "url"}},
	{"malware", "controls", {"malware"}},
	{"malware", "downloads", {"malware", "tool", "file"}},
	{"malware", "drops", {"malware", "tool", "file"}},
	{"malware", "exploits", {"vulnerability"}},
	{"malware", "originates-from", {"location"}},
	{"malware", "targets", {"identity", "infrastructure", "location", "vulnerability"}},
	{"malware", "uses", {"attack-pattern", "infrastructure", "malware", "tool"}},
	{"malware", "variant-of", {"malware"}},
	{"malware-analysis", "characterizes", {"malware"}},
	{"malware-analysis", "av-analysis-of", {"malware"}},
	{"malware-analysis", "static-analysis-of", {"malware"}},
	{"malware-analysis", "dynamic-analysis-of", {"malware"}},
	{"threat-actor", "attributed-to", {"identity"}},
	{"threat-actor", "compromises", {"infrastructure"}},
	{"threat-actor", "hosts", {"infrastructure"}},
	{"threat-actor", "owns", {"infrastructure"}},
	{"threat-actor", "impersonates", {"identity"}},
	{"threat-actor", "located-at", {"location"}},
	{"threat-actor", "targets", {"identity", "location", "vulnerability"}},
	{"threat-actor", "uses", {"attack-pattern", "infrastructure", "malware", "tool"}},
	{"tool", "delivers", {"malware"}},
	{"tool", "drops", {"malware"}},
	{"tool", "has", {"vulnerability"}},
	{"tool", "targets", {"identity", "infrastructure", "location", "vulnerability"}},
	{"tool", "uses", {"infrastructure"}},
};

/* Can the type be a relationship end? Custom types may be custom SDOs or SCOs. */
static bool is_node_type(const char *type)
{
	enum cp_stix_kind k = cp_stix_kind_of(type);
	return k == CP_STIX_SDO || k == CP_STIX_SCO || k == CP_STIX_CUSTOM;
}

/*
 * Spec 5.1: relationship types defined by the specification SHOULD be used as they
 * are defined. User-defined names are allowed (MAY), so only a spec-defined name
 * used between types the spec does not define it for is reported.
 */
static void relationship_defined(struct cp__stix_vctx *v, const json_t *obj, const char *rel)
{
	char src[CP_LIMIT_TYPE_LEN + 1], tgt[CP_LIMIT_TYPE_LEN + 1];
	bool known = false;

	if (!ref_type_of(json_object_get(obj, "source_ref"), src, sizeof(src)) ||
	    !ref_type_of(json_object_get(obj, "target_ref"), tgt, sizeof(tgt)))
		return;
	/* other targets are ref-type errors already */
	if (strcmp(rel, "related-to") == 0 || !is_node_type(src) || !is_node_type(tgt))
		return;
	if (strcmp(rel, "derived-from") == 0 || strcmp(rel, "duplicate-of") == 0) {
		if (strcmp(src, tgt) != 0)
			cp__stix_warn_at(v, "relationship_type", "relationship-type",
					 "'%s' relates two objects of the same type, not a %s "
					 "and a %s",
					 rel, src, tgt);
		return;
	}
	for (size_t i = 0; i < CP_ARRAY_LEN(rel_defs); i++) {
		if (strcmp(rel_defs[i].rel, rel) != 0)
			continue;
		known = true;
		if (strcmp(rel_defs[i].source, src) == 0 &&
		    cp__stix_ref_allowed(tgt, rel_defs[i].targets))
			return;
	}
	/* the spec cannot define relationships of custom types */
	if (!known || cp_stix_kind_of(src) == CP_STIX_CUSTOM ||
	    cp_stix_kind_of(tgt) == CP_STIX_CUSTOM)
		return;
	cp__stix_warn_at(v, "relationship_type", "relationship-type",
			 "the specification does not define '%s' from a %s to a %s", rel, src,
			 tgt);
}

static void relationship_check(struct cp__stix_vctx *v, const json_t *obj)
{
	const json_t *rt = json_object_get(obj, "relationship_type");

	/* stop_time MUST be later than start_time */
	cp__stix_check_time_order(v, obj, "start_time", "stop_time", true);
	if (!json_is_string(rt) || json_string_length(rt) == 0)
		return;
	/* MUST be ASCII and limited to a-z, 0-9 and '-' */
	for (const char *s = json_string_value(rt); *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')
			continue;
		cp__stix_err_at(v, "relationship_type", "relationship-type-format",
				"'%s' may contain only lowercase a-z, 0-9 and '-'",
				json_string_value(rt));
		return;
	}
	relationship_defined(v, obj, json_string_value(rt));
}

static const struct cp__stix_type relationship_type = {
	"relationship", CP_STIX_SRO, relationship_props, relationship_check, NULL, NULL};

/* ----------------------------------------------------------------- sighting */

static const struct cp__stix_prop sighting_props[] = {
	P("description", PK_STRING, 0),
	P("first_seen", PK_TIMESTAMP, 0),
	P("last_seen", PK_TIMESTAMP, 0),
	N("count", PK_INTEGER, 0, 0, 999999999),
	R("sighting_of_ref", PK_REF, PF_REQUIRED, cp__stix_refs_sdo),
	R("observed_data_refs", PK_REF_LIST, 0, refs_observed_data),
	/* the property text says identity or location (its summary table: identity) */
	R("where_sighted_refs", PK_REF_LIST, 0, refs_identity_location),
	P("summary", PK_BOOL, 0),
	END,
};

static const struct cp__stix_type sighting_type = {"sighting", CP_STIX_SRO, sighting_props,
						   seen_check, NULL, NULL};

const struct cp__stix_type *const cp__stix_sdo_types[] = {
	&attack_pattern_type,
	&campaign_type,
	&course_of_action_type,
	&grouping_type,
	&identity_type,
	&incident_type,
	&indicator_type,
	&infrastructure_type,
	&intrusion_set_type,
	&location_type,
	&malware_type,
	&malware_analysis_type,
	&note_type,
	&observed_data_type,
	&opinion_type,
	&report_type,
	&threat_actor_type,
	&tool_type,
	&vulnerability_type,
	&relationship_type,
	&sighting_type,
	NULL,
};
