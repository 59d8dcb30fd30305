/*
 * STIX Domain Objects (spec section 4) and Relationship Objects (section 5).
 *
 * Each case is a small object validated on its own: clean cases must produce no
 * finding at all, failing cases exactly the expected finding (code, severity and
 * JSON pointer) and, unless stated, nothing else. Objects are written with single
 * quotes for readability; run_case turns them into double quotes.
 */
#include "testutil.h"
#include "cyberpact/stix.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define TS "2020-01-01T00:00:00.000Z"
#define U "--6b0e5b05-56f6-4a3b-9c9d-3b1c3a3c6f7e"
#define U2 "--0f1e2d3c-4b5a-4697-8877-665544332211"
#define HDR(t)                                                                             \
	"'type':'" t "','spec_version':'2.1','id':'" t U "','created':'" TS "',"             \
	"'modified':'" TS "'"
#define OBJ(t, rest) "{" HDR(t) rest "}"

/* References of each kind used below. */
#define R_IDENTITY "'identity" U2 "'"
#define R_LOCATION "'location" U2 "'"
#define R_INDICATOR "'indicator" U2 "'"
#define R_MALWARE "'malware" U2 "'"
#define R_OBSERVED "'observed-data" U2 "'"
#define R_RELATIONSHIP "'relationship" U2 "'"
#define R_MARKING "'marking-definition" U2 "'"
#define R_LANGUAGE "'language-content" U2 "'"
#define R_BUNDLE "'bundle" U2 "'"
#define R_IPV4 "'ipv4-addr" U2 "'"
#define R_FILE "'file" U2 "'"
#define R_ARTIFACT "'artifact" U2 "'"
#define R_SOFTWARE "'software" U2 "'"
#define R_TRAFFIC "'network-traffic" U2 "'"

struct tcase {
	const char *name;
	const char *json;
	enum cp_severity sev;
	const char *code;    /* NULL: the object must validate clean */
	const char *pointer; /* of the expected finding */
	size_t count;        /* exact number of findings expected */
};

#define CLEAN(name, json) {name, json, CP_SEV_ERROR, NULL, NULL, 0}
#define ERR(name, json, code, ptr) {name, json, CP_SEV_ERROR, code, ptr, 1}
#define WARN(name, json, code, ptr) {name, json, CP_SEV_WARNING, code, ptr, 1}
#define ERRN(name, json, code, ptr, n) {name, json, CP_SEV_ERROR, code, ptr, n}
#define WARNN(name, json, code, ptr, n) {name, json, CP_SEV_WARNING, code, ptr, n}

static const struct tcase cases[] = {
	/* ------------------------------------------------------ attack-pattern */
	CLEAN("attack_pattern_ok", OBJ("attack-pattern", ",'name':'Spear Phishing'")),
	CLEAN("attack_pattern_full",
	      OBJ("attack-pattern",
		  ",'name':'Spear Phishing','description':'d','aliases':['phish'],"
		  "'created_by_ref':" R_IDENTITY ","
		  "'kill_chain_phases':[{'kill_chain_name':'lockheed','phase_name':'delivery'}],"
		  "'external_references':[{'source_name':'capec','external_id':'CAPEC-163'}]")),
	ERR("attack_pattern_no_name", OBJ("attack-pattern", ""), "missing-property", "/name"),
	ERR("attack_pattern_created_by_malware",
	    OBJ("attack-pattern", ",'name':'x','created_by_ref':" R_MALWARE), "ref-type",
	    "/created_by_ref"),
	ERR("attack_pattern_capec_format",
	    OBJ("attack-pattern",
		",'name':'x','external_references':[{'source_name':'capec','external_id':'163'}]"),
	    "external-id-format", "/external_references/0/external_id"),

	/* ------------------------------------------------------------ campaign */
	CLEAN("campaign_ok",
	      OBJ("campaign", ",'name':'Green Group','objective':'o','aliases':['g'],"
			      "'first_seen':'2016-01-01T00:00:00Z','last_seen':'2016-01-01T00:00:00Z'")),
	ERR("campaign_no_name", OBJ("campaign", ""), "missing-property", "/name"),
	ERR("campaign_seen_order",
	    OBJ("campaign", ",'name':'x','first_seen':'2016-02-01T00:00:00Z',"
			    "'last_seen':'2016-01-31T23:59:59Z'"),
	    "time-order", "/last_seen"),

	/* ---------------------------------------------------- course-of-action */
	CLEAN("course_of_action_ok", OBJ("course-of-action", ",'name':'Patch','description':'d'")),
	ERR("course_of_action_no_name", OBJ("course-of-action", ""), "missing-property", "/name"),
	ERR("course_of_action_reserved_action",
	    OBJ("course-of-action", ",'name':'x','action':{'steps':1}"), "property-not-allowed",
	    "/action"),

	/* ------------------------------------------------------------ grouping */
	CLEAN("grouping_ok",
	      OBJ("grouping", ",'name':'g','context':'suspicious-activity','object_refs':["
			      R_INDICATOR "," R_IPV4 "," R_RELATIONSHIP "," R_MARKING "]")),
	ERR("grouping_no_name",
	    OBJ("grouping", ",'context':'unspecified','object_refs':[" R_INDICATOR "]"),
	    "missing-property", "/name"),
	ERR("grouping_no_context", OBJ("grouping", ",'name':'g','object_refs':[" R_INDICATOR "]"),
	    "missing-property", "/context"),
	ERR("grouping_no_object_refs", OBJ("grouping", ",'name':'g','context':'unspecified'"),
	    "missing-property", "/object_refs"),
	ERR("grouping_empty_object_refs",
	    OBJ("grouping", ",'name':'g','context':'unspecified','object_refs':[]"), "empty-list",
	    "/object_refs"),
	ERR("grouping_ref_to_bundle",
	    OBJ("grouping", ",'name':'g','context':'unspecified','object_refs':[" R_BUNDLE "]"),
	    "ref-type", "/object_refs/0"),
	WARN("grouping_context_vocab",
	     OBJ("grouping", ",'name':'g','context':'hunting','object_refs':[" R_INDICATOR "]"),
	     "vocab-value", "/context"),

	/* ------------------------------------------------------------ identity */
	CLEAN("identity_ok",
	      OBJ("identity", ",'name':'ACME','identity_class':'organization',"
			      "'sectors':['financial-services','legal'],'roles':['CEO'],"
			      "'contact_information':'x@example.com'")),
	ERR("identity_no_name", OBJ("identity", ",'identity_class':'individual'"),
	    "missing-property", "/name"),
	WARN("identity_sector_vocab",
	     OBJ("identity", ",'name':'ACME','sectors':['energy','space']"), "vocab-value",
	     "/sectors/1"),
	ERR("identity_class_type", OBJ("identity", ",'name':'ACME','identity_class':3"),
	    "type-mismatch", "/identity_class"),

	/* ------------------------------------------------------------ incident */
	CLEAN("incident_ok", OBJ("incident", ",'name':'Breach','description':'d'")),
	ERR("incident_no_name", OBJ("incident", ",'description':'d'"), "missing-property", "/name"),

	/* ----------------------------------------------------------- indicator */
	CLEAN("indicator_ok",
	      OBJ("indicator", ",'name':'C2','indicator_types':['malicious-activity'],"
			       "'pattern':'[ipv4-addr:value = \\u002710.0.0.1\\u0027]',"
			       "'pattern_type':'stix','valid_from':'2016-01-01T00:00:00Z',"
			       "'valid_until':'2016-01-01T00:00:00.001Z'")),
	ERR("indicator_no_pattern",
	    OBJ("indicator", ",'pattern_type':'stix','valid_from':'2016-01-01T00:00:00Z'"),
	    "missing-property", "/pattern"),
	ERR("indicator_no_pattern_type",
	    OBJ("indicator", ",'pattern':'rule x {}','valid_from':'2016-01-01T00:00:00Z'"),
	    "missing-property", "/pattern_type"),
	ERR("indicator_no_valid_from", OBJ("indicator", ",'pattern':'rule x {}','pattern_type':'yara'"),
	    "missing-property", "/valid_from"),
	ERR("indicator_valid_until_equal",
	    OBJ("indicator", ",'pattern':'rule x {}','pattern_type':'yara',"
			     "'valid_from':'2016-01-01T00:00:00Z','valid_until':'2016-01-01T00:00:00Z'"),
	    "time-order", "/valid_until"),
	WARN("indicator_pattern_type_vocab",
	     OBJ("indicator", ",'pattern':'alert tcp any any','pattern_type':'zeek',"
			      "'valid_from':'2016-01-01T00:00:00Z'"),
	     "vocab-value", "/pattern_type"),
	WARN("indicator_types_vocab",
	     OBJ("indicator", ",'pattern':'rule x {}','pattern_type':'yara',"
			      "'indicator_types':['evil'],'valid_from':'2016-01-01T00:00:00Z'"),
	     "vocab-value", "/indicator_types/0"),

	/* ------------------------------------------------------ infrastructure */
	CLEAN("infrastructure_ok",
	      OBJ("infrastructure", ",'name':'C2 net','infrastructure_types':['botnet'],"
				    "'aliases':['a'],'first_seen':'2016-01-01T00:00:00Z',"
				    "'last_seen':'2017-01-01T00:00:00Z'")),
	ERR("infrastructure_no_name", OBJ("infrastructure", ",'infrastructure_types':['botnet']"),
	    "missing-property", "/name"),
	ERR("infrastructure_seen_order",
	    OBJ("infrastructure", ",'name':'x','first_seen':'2017-01-01T00:00:00Z',"
				  "'last_seen':'2016-01-01T00:00:00Z'"),
	    "time-order", "/last_seen"),
	WARN("infrastructure_types_vocab",
	     OBJ("infrastructure", ",'name':'x','infrastructure_types':['cdn']"), "vocab-value",
	     "/infrastructure_types/0"),

	/* ------------------------------------------------------- intrusion-set */
	CLEAN("intrusion_set_ok",
	      OBJ("intrusion-set", ",'name':'Bobcat','goals':['steal'],'resource_level':'government',"
				   "'primary_motivation':'organizational-gain',"
				   "'secondary_motivations':['ideology'],"
				   "'first_seen':'2016-01-01T00:00:00Z'")),
	ERR("intrusion_set_no_name", OBJ("intrusion-set", ",'aliases':['b']"), "missing-property",
	    "/name"),
	ERR("intrusion_set_seen_order",
	    OBJ("intrusion-set", ",'name':'x','first_seen':'2017-01-01T00:00:00Z',"
				 "'last_seen':'2016-01-01T00:00:00Z'"),
	    "time-order", "/last_seen"),
	WARN("intrusion_set_resource_vocab",
	     OBJ("intrusion-set", ",'name':'x','resource_level':'nation'"), "vocab-value",
	     "/resource_level"),

	/* ------------------------------------------------------------ location */
	CLEAN("location_region", OBJ("location", ",'region':'south-eastern-asia'")),
	CLEAN("location_country", OBJ("location", ",'country':'th','administrative_area':'Tak'")),
	CLEAN("location_coordinates", OBJ("location", ",'latitude':48.8566,'longitude':2.3522")),
	CLEAN("location_bounds",
	      OBJ("location", ",'latitude':-90,'longitude':180,'precision':0.0")),
	CLEAN("location_precision",
	      OBJ("location", ",'latitude':90.0,'longitude':-180.0,'precision':1000")),
	ERR("location_nothing", OBJ("location", ",'name':'somewhere','city':'Paris'"),
	    "missing-property", ""),
	ERR("location_latitude_alone", OBJ("location", ",'latitude':10.5"), "missing-property",
	    "/longitude"),
	ERR("location_longitude_alone", OBJ("location", ",'country':'US','longitude':10.5"),
	    "missing-property", "/latitude"),
	ERRN("location_precision_alone", OBJ("location", ",'region':'europe','precision':10"),
	     "missing-property", "/latitude", 2),
	ERRN("location_precision_alone_lon", OBJ("location", ",'region':'europe','precision':10"),
	     "missing-property", "/longitude", 2),
	ERR("location_latitude_range", OBJ("location", ",'latitude':90.5,'longitude':0"),
	    "out-of-range", "/latitude"),
	ERR("location_longitude_range", OBJ("location", ",'latitude':0,'longitude':-180.1"),
	    "out-of-range", "/longitude"),
	ERR("location_precision_negative",
	    OBJ("location", ",'latitude':0,'longitude':0,'precision':-1"), "out-of-range",
	    "/precision"),
	ERR("location_latitude_type", OBJ("location", ",'latitude':'48.8','longitude':2.35"),
	    "type-mismatch", "/latitude"),
	WARN("location_region_vocab", OBJ("location", ",'region':'middle-earth'"), "vocab-value",
	     "/region"),
	WARN("location_country_code", OBJ("location", ",'country':'France'"), "value-format",
	     "/country"),

	/* ------------------------------------------------------------- malware */
	CLEAN("malware_family",
	      OBJ("malware", ",'name':'Cryptolocker','is_family':true,"
			     "'malware_types':['ransomware'],'architecture_execution_envs':['x86'],"
			     "'implementation_languages':['rust'],'capabilities':['evades-av'],"
			     "'operating_system_refs':[" R_SOFTWARE "],"
			     "'sample_refs':[" R_FILE "," R_ARTIFACT "],"
			     "'first_seen':'2016-01-01T00:00:00Z','last_seen':'2016-01-01T00:00:00Z'")),
	CLEAN("malware_instance_unnamed", OBJ("malware", ",'is_family':false")),
	/* is_family is optional in STIX 2.1 errata 01 (it was required before) */
	CLEAN("malware_no_is_family", OBJ("malware", ",'name':'x'")),
	ERR("malware_family_no_name", OBJ("malware", ",'is_family':true"), "missing-property",
	    "/name"),
	ERR("malware_is_family_type", OBJ("malware", ",'name':'x','is_family':'yes'"),
	    "type-mismatch", "/is_family"),
	ERR("malware_seen_order",
	    OBJ("malware", ",'name':'x','is_family':true,'first_seen':'2017-01-01T00:00:00Z',"
			   "'last_seen':'2016-01-01T00:00:00Z'"),
	    "time-order", "/last_seen"),
	ERR("malware_os_ref_type",
	    OBJ("malware", ",'is_family':false,'operating_system_refs':[" R_FILE "]"), "ref-type",
	    "/operating_system_refs/0"),
	ERR("malware_sample_ref_type",
	    OBJ("malware", ",'is_family':false,'sample_refs':[" R_FILE "," R_SOFTWARE "]"),
	    "ref-type", "/sample_refs/1"),
	WARN("malware_types_vocab", OBJ("malware", ",'is_family':false,'malware_types':['miner']"),
	     "vocab-value", "/malware_types/0"),
	WARN("malware_capabilities_vocab",
	     OBJ("malware", ",'is_family':false,'capabilities':['mines-coins']"), "vocab-value",
	     "/capabilities/0"),

	/* ---------------------------------------------------- malware-analysis */
	CLEAN("malware_analysis_result",
	      OBJ("malware-analysis", ",'product':'microsoft','result':'malicious',"
				      "'host_vm_ref':" R_SOFTWARE ",'operating_system_ref':" R_SOFTWARE ","
				      "'installed_software_refs':[" R_SOFTWARE "],'modules':['m'],"
				      "'sample_ref':" R_TRAFFIC ",'submitted':'2018-01-01T00:00:00Z'")),
	CLEAN("malware_analysis_scos",
	      OBJ("malware-analysis", ",'product':'clamav','analysis_sco_refs':[" R_FILE "," R_IPV4 "],"
				      "'sample_ref':" R_ARTIFACT)),
	ERR("malware_analysis_no_product", OBJ("malware-analysis", ",'result':'benign'"),
	    "missing-property", "/product"),
	ERR("malware_analysis_no_result", OBJ("malware-analysis", ",'product':'clamav'"),
	    "missing-property", ""),
	ERR("malware_analysis_host_vm_type",
	    OBJ("malware-analysis", ",'product':'x','result':'unknown','host_vm_ref':" R_FILE),
	    "ref-type", "/host_vm_ref"),
	ERR("malware_analysis_sample_type",
	    OBJ("malware-analysis", ",'product':'x','result':'unknown','sample_ref':" R_IPV4),
	    "ref-type", "/sample_ref"),
	ERR("malware_analysis_sco_refs_sdo",
	    OBJ("malware-analysis", ",'product':'x','analysis_sco_refs':[" R_INDICATOR "]"),
	    "ref-type", "/analysis_sco_refs/0"),
	ERR("malware_analysis_sco_refs_marking",
	    OBJ("malware-analysis", ",'product':'x','analysis_sco_refs':[" R_IPV4 "," R_MARKING "]"),
	    "ref-type", "/analysis_sco_refs/1"),
	WARN("malware_analysis_result_vocab",
	     OBJ("malware-analysis", ",'product':'x','result':'nasty'"), "vocab-value", "/result"),
	WARN("malware_analysis_product_format",
	     OBJ("malware-analysis", ",'product':'Windows Defender','result':'benign'"),
	     "value-format", "/product"),

	/* ---------------------------------------------------------------- note */
	CLEAN("note_ok", OBJ("note", ",'abstract':'a','content':'c','authors':['me'],"
				     "'object_refs':[" R_MALWARE "," R_LANGUAGE "]")),
	ERR("note_no_content", OBJ("note", ",'object_refs':[" R_MALWARE "]"), "missing-property",
	    "/content"),
	ERR("note_no_object_refs", OBJ("note", ",'content':'c'"), "missing-property",
	    "/object_refs"),
	ERR("note_ref_to_bundle", OBJ("note", ",'content':'c','object_refs':[" R_BUNDLE "]"),
	    "ref-type", "/object_refs/0"),

	/* ------------------------------------------------------- observed-data */
	CLEAN("observed_data_refs",
	      OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				   "'last_observed':'2015-12-21T19:00:00Z','number_observed':999999999,"
				   "'object_refs':[" R_IPV4 "," R_RELATIONSHIP "," R_FILE "]")),
	WARN("observed_data_container",
	     OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				  "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				  "'objects':{'0':{'type':'ipv4-addr','value':'1.2.3.4'},"
				  "'1':{'type':'ipv4-addr','value':'2.3.4.5'},"
				  "'2':{'type':'network-traffic','src_ref':'0','dst_ref':'1',"
				  "'protocols':['tcp']}}"),
	     "deprecated-property", "/objects"),
	WARN("observed_data_container_nested_refs",
	     OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				  "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				  "'objects':{'0':{'type':'email-addr','value':'a@example.com'},"
				  "'1':{'type':'email-message','is_multipart':true,"
				  "'body_multipart':[{'body_raw_ref':'2'}],'to_refs':['0']},"
				  "'2':{'type':'file','name':'x.exe'}}"),
	     "deprecated-property", "/objects"),
	ERR("observed_data_neither",
	    OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				 "'last_observed':'2015-12-21T19:00:00Z','number_observed':1"),
	    "missing-property", ""),
	ERRN("observed_data_both",
	     OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				  "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				  "'object_refs':[" R_IPV4 "],"
				  "'objects':{'0':{'type':'ipv4-addr','value':'1.2.3.4'}}"),
	     "property-not-allowed", "/objects", 2),
	ERR("observed_data_no_number",
	    OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				 "'last_observed':'2015-12-21T19:00:00Z','object_refs':[" R_IPV4 "]"),
	    "missing-property", "/number_observed"),
	ERR("observed_data_number_zero",
	    OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				 "'last_observed':'2015-12-21T19:00:00Z','number_observed':0,"
				 "'object_refs':[" R_IPV4 "]"),
	    "out-of-range", "/number_observed"),
	ERR("observed_data_number_high",
	    OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				 "'last_observed':'2015-12-21T19:00:00Z','number_observed':1000000000,"
				 "'object_refs':[" R_IPV4 "]"),
	    "out-of-range", "/number_observed"),
	ERR("observed_data_number_type",
	    OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				 "'last_observed':'2015-12-21T19:00:00Z','number_observed':1.5,"
				 "'object_refs':[" R_IPV4 "]"),
	    "type-mismatch", "/number_observed"),
	ERR("observed_data_observed_order",
	    OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				 "'last_observed':'2015-12-21T18:59:59.999Z','number_observed':1,"
				 "'object_refs':[" R_IPV4 "]"),
	    "time-order", "/last_observed"),
	ERR("observed_data_no_first",
	    OBJ("observed-data", ",'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				 "'object_refs':[" R_IPV4 "]"),
	    "missing-property", "/first_observed"),
	ERR("observed_data_no_sco",
	    OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				 "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				 "'object_refs':[" R_RELATIONSHIP "]"),
	    "ref-type", "/object_refs"),
	ERR("observed_data_ref_to_sdo",
	    OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				 "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				 "'object_refs':[" R_IPV4 "," R_INDICATOR "]"),
	    "ref-type", "/object_refs/1"),
	ERR("observed_data_ref_to_marking",
	    OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				 "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				 "'object_refs':[" R_IPV4 "," R_MARKING "]"),
	    "ref-type", "/object_refs/1"),
	ERRN("observed_data_container_empty",
	     OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				  "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				  "'objects':{}"),
	     "empty-dictionary", "/objects", 2),
	ERRN("observed_data_container_dangling_ref",
	     OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				  "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				  "'objects':{'0':{'type':'network-traffic','src_ref':'1','dst_ref':'5',"
				  "'protocols':['tcp']},'1':{'type':'ipv4-addr','value':'1.2.3.4'}}"),
	     "observable-container", "/objects/0/dst_ref", 2),
	ERRN("observed_data_container_dangling_refs",
	     OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				  "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				  "'objects':{'0':{'type':'email-message','is_multipart':false,"
				  "'to_refs':['1','2']},'1':{'type':'email-addr','value':'a@example.com'}}"),
	     "observable-container", "/objects/0/to_refs/1", 2),
	ERRN("observed_data_container_unrelated",
	     OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				  "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				  "'objects':{'0':{'type':'ipv4-addr','value':'1.2.3.4'},"
				  "'1':{'type':'ipv4-addr','value':'2.3.4.5'}}"),
	     "observable-container", "/objects", 2),
	ERRN("observed_data_container_sdo",
	     OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				  "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				  "'objects':{'0':{'type':'indicator','name':'x'}}"),
	     "observable-container", "/objects/0/type", 2),
	ERRN("observed_data_container_not_object",
	     OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				  "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				  "'objects':{'0':'1.2.3.4'}"),
	     "type-mismatch", "/objects/0", 2),
	ERRN("observed_data_container_no_type",
	     OBJ("observed-data", ",'first_observed':'2015-12-21T19:00:00Z',"
				  "'last_observed':'2015-12-21T19:00:00Z','number_observed':1,"
				  "'objects':{'0':{'value':'1.2.3.4'}}"),
	     "missing-property", "/objects/0/type", 2),

	/* ------------------------------------------------------------- opinion */
	CLEAN("opinion_ok", OBJ("opinion", ",'explanation':'e','authors':['a'],"
					   "'opinion':'strongly-disagree','object_refs':[" R_RELATIONSHIP "]")),
	ERR("opinion_no_opinion", OBJ("opinion", ",'object_refs':[" R_MALWARE "]"),
	    "missing-property", "/opinion"),
	ERR("opinion_no_object_refs", OBJ("opinion", ",'opinion':'agree'"), "missing-property",
	    "/object_refs"),
	ERR("opinion_enum", OBJ("opinion", ",'opinion':'maybe','object_refs':[" R_MALWARE "]"),
	    "enum-value", "/opinion"),

	/* -------------------------------------------------------------- report */
	CLEAN("report_ok", OBJ("report", ",'name':'r','report_types':['threat-report','incident'],"
					 "'published':'2016-01-20T17:00:00.000Z',"
					 "'object_refs':[" R_INDICATOR "," R_MARKING "]")),
	ERR("report_no_name",
	    OBJ("report", ",'published':'2016-01-20T17:00:00Z','object_refs':[" R_INDICATOR "]"),
	    "missing-property", "/name"),
	ERR("report_no_published", OBJ("report", ",'name':'r','object_refs':[" R_INDICATOR "]"),
	    "missing-property", "/published"),
	ERR("report_no_object_refs", OBJ("report", ",'name':'r','published':'2016-01-20T17:00:00Z'"),
	    "missing-property", "/object_refs"),
	ERR("report_published_format",
	    OBJ("report", ",'name':'r','published':'2016-01-20','object_refs':[" R_INDICATOR "]"),
	    "timestamp-format", "/published"),
	ERR("report_ref_to_bundle",
	    OBJ("report", ",'name':'r','published':'2016-01-20T17:00:00Z',"
			  "'object_refs':[" R_INDICATOR "," R_BUNDLE "]"),
	    "ref-type", "/object_refs/1"),
	WARN("report_types_vocab",
	     OBJ("report", ",'name':'r','published':'2016-01-20T17:00:00Z','report_types':['blog'],"
			   "'object_refs':[" R_INDICATOR "]"),
	     "vocab-value", "/report_types/0"),

	/* -------------------------------------------------------- threat-actor */
	CLEAN("threat_actor_ok",
	      OBJ("threat-actor", ",'name':'Evil Org','threat_actor_types':['crime-syndicate'],"
				  "'roles':['director'],'goals':['steal'],'sophistication':'expert',"
				  "'resource_level':'organization','primary_motivation':'personal-gain',"
				  "'secondary_motivations':['revenge'],'personal_motivations':['notoriety'],"
				  "'first_seen':'2016-01-01T00:00:00Z','last_seen':'2016-06-01T00:00:00Z'")),
	ERR("threat_actor_no_name", OBJ("threat-actor", ",'threat_actor_types':['spy']"),
	    "missing-property", "/name"),
	ERR("threat_actor_seen_order",
	    OBJ("threat-actor", ",'name':'x','first_seen':'2016-06-01T00:00:00Z',"
				"'last_seen':'2016-01-01T00:00:00Z'"),
	    "time-order", "/last_seen"),
	WARN("threat_actor_roles_vocab", OBJ("threat-actor", ",'name':'x','roles':['agent','ceo']"),
	     "vocab-value", "/roles/1"),
	WARN("threat_actor_sophistication_vocab",
	     OBJ("threat-actor", ",'name':'x','sophistication':'elite'"), "vocab-value",
	     "/sophistication"),
	WARN("threat_actor_personal_motivation_vocab",
	     OBJ("threat-actor", ",'name':'x','personal_motivations':['boredom']"), "vocab-value",
	     "/personal_motivations/0"),

	/* ---------------------------------------------------------------- tool */
	CLEAN("tool_ok", OBJ("tool", ",'name':'VNC','tool_types':['remote-access'],'tool_version':'1',"
				     "'kill_chain_phases':[{'kill_chain_name':'k','phase_name':'p'}]")),
	ERR("tool_no_name", OBJ("tool", ",'tool_types':['remote-access']"), "missing-property",
	    "/name"),
	WARN("tool_types_vocab", OBJ("tool", ",'name':'x','tool_types':['rat']"), "vocab-value",
	     "/tool_types/0"),

	/* ------------------------------------------------------- vulnerability */
	CLEAN("vulnerability_ok",
	      OBJ("vulnerability", ",'name':'CVE-2016-1234',"
				   "'external_references':[{'source_name':'cve','external_id':'CVE-2016-1234'}]")),
	ERR("vulnerability_no_name", OBJ("vulnerability", ",'description':'d'"), "missing-property",
	    "/name"),
	ERR("vulnerability_cve_format",
	    OBJ("vulnerability", ",'name':'x',"
				 "'external_references':[{'source_name':'cve','external_id':'2016-1234'}]"),
	    "external-id-format", "/external_references/0/external_id"),

	/* -------------------------------------------------------- relationship */
	CLEAN("relationship_ok",
	      OBJ("relationship", ",'relationship_type':'indicates','source_ref':" R_INDICATOR ","
				  "'target_ref':" R_MALWARE ",'start_time':'2016-01-01T00:00:00Z',"
				  "'stop_time':'2016-01-01T00:00:00.001Z'")),
	CLEAN("relationship_related_to",
	      OBJ("relationship", ",'relationship_type':'related-to','source_ref':" R_LOCATION ","
				  "'target_ref':" R_IPV4)),
	CLEAN("relationship_user_defined",
	      OBJ("relationship", ",'relationship_type':'subtechnique-of',"
				  "'source_ref':'attack-pattern" U "','target_ref':'attack-pattern" U2 "'")),
	CLEAN("relationship_duplicate_of",
	      OBJ("relationship", ",'relationship_type':'duplicate-of','source_ref':'malware" U "',"
				  "'target_ref':" R_MALWARE)),
	CLEAN("relationship_custom_type",
	      OBJ("relationship", ",'relationship_type':'uses','source_ref':'x-acme-thing" U "',"
				  "'target_ref':" R_MALWARE)),
	ERR("relationship_no_type",
	    OBJ("relationship", ",'source_ref':" R_INDICATOR ",'target_ref':" R_MALWARE),
	    "missing-property", "/relationship_type"),
	ERR("relationship_no_source",
	    OBJ("relationship", ",'relationship_type':'uses','target_ref':" R_MALWARE),
	    "missing-property", "/source_ref"),
	ERR("relationship_no_target",
	    OBJ("relationship", ",'relationship_type':'uses','source_ref':" R_MALWARE),
	    "missing-property", "/target_ref"),
	ERR("relationship_empty_type",
	    OBJ("relationship", ",'relationship_type':'','source_ref':" R_INDICATOR ","
				"'target_ref':" R_MALWARE),
	    "empty-string", "/relationship_type"),
	ERR("relationship_source_marking",
	    OBJ("relationship", ",'relationship_type':'related-to','source_ref':" R_MARKING ","
				"'target_ref':" R_MALWARE),
	    "ref-type", "/source_ref"),
	ERR("relationship_target_language_content",
	    OBJ("relationship", ",'relationship_type':'related-to','source_ref':" R_MALWARE ","
				"'target_ref':" R_LANGUAGE),
	    "ref-type", "/target_ref"),
	ERR("relationship_target_bundle",
	    OBJ("relationship", ",'relationship_type':'related-to','source_ref':" R_MALWARE ","
				"'target_ref':" R_BUNDLE),
	    "ref-type", "/target_ref"),
	ERR("relationship_source_sro",
	    OBJ("relationship", ",'relationship_type':'related-to','source_ref':" R_RELATIONSHIP ","
				"'target_ref':" R_MALWARE),
	    "ref-type", "/source_ref"),
	ERR("relationship_type_format",
	    OBJ("relationship", ",'relationship_type':'Uses','source_ref':" R_MALWARE ","
				"'target_ref':'tool" U2 "'"),
	    "relationship-type-format", "/relationship_type"),
	ERR("relationship_type_format_underscore",
	    OBJ("relationship", ",'relationship_type':'related_to','source_ref':" R_MALWARE ","
				"'target_ref':'tool" U2 "'"),
	    "relationship-type-format", "/relationship_type"),
	WARN("relationship_not_defined_pair",
	     OBJ("relationship", ",'relationship_type':'indicates','source_ref':" R_MALWARE ","
				 "'target_ref':" R_INDICATOR),
	     "relationship-type", "/relationship_type"),
	WARN("relationship_derived_from_types",
	     OBJ("relationship", ",'relationship_type':'derived-from','source_ref':" R_MALWARE ","
				 "'target_ref':'tool" U2 "'"),
	     "relationship-type", "/relationship_type"),
	ERR("relationship_stop_equal_start",
	    OBJ("relationship", ",'relationship_type':'uses','source_ref':'campaign" U2 "',"
				"'target_ref':" R_MALWARE ",'start_time':'2016-01-01T00:00:00Z',"
				"'stop_time':'2016-01-01T00:00:00Z'"),
	    "time-order", "/stop_time"),

	/* ------------------------------------------------------------ sighting */
	CLEAN("sighting_ok",
	      OBJ("sighting", ",'sighting_of_ref':" R_INDICATOR ",'count':0,'summary':false,"
			      "'observed_data_refs':[" R_OBSERVED "],"
			      "'where_sighted_refs':[" R_IDENTITY "," R_LOCATION "],"
			      "'first_seen':'2016-01-01T00:00:00Z','last_seen':'2016-01-01T00:00:00Z'")),
	CLEAN("sighting_count_max",
	      OBJ("sighting", ",'sighting_of_ref':" R_MALWARE ",'count':999999999")),
	ERR("sighting_no_sighting_of", OBJ("sighting", ",'count':1"), "missing-property",
	    "/sighting_of_ref"),
	ERR("sighting_of_marking", OBJ("sighting", ",'sighting_of_ref':" R_MARKING), "ref-type",
	    "/sighting_of_ref"),
	ERR("sighting_of_sco", OBJ("sighting", ",'sighting_of_ref':" R_IPV4), "ref-type",
	    "/sighting_of_ref"),
	ERR("sighting_of_sro", OBJ("sighting", ",'sighting_of_ref':" R_RELATIONSHIP), "ref-type",
	    "/sighting_of_ref"),
	ERR("sighting_observed_data_type",
	    OBJ("sighting", ",'sighting_of_ref':" R_MALWARE ",'observed_data_refs':[" R_INDICATOR "]"),
	    "ref-type", "/observed_data_refs/0"),
	ERR("sighting_where_sighted_type",
	    OBJ("sighting", ",'sighting_of_ref':" R_MALWARE ","
			    "'where_sighted_refs':[" R_IDENTITY "," R_MALWARE "]"),
	    "ref-type", "/where_sighted_refs/1"),
	ERR("sighting_count_negative", OBJ("sighting", ",'sighting_of_ref':" R_MALWARE ",'count':-1"),
	    "out-of-range", "/count"),
	ERR("sighting_count_high",
	    OBJ("sighting", ",'sighting_of_ref':" R_MALWARE ",'count':1000000000"), "out-of-range",
	    "/count"),
	ERR("sighting_seen_order",
	    OBJ("sighting", ",'sighting_of_ref':" R_MALWARE ",'first_seen':'2016-01-02T00:00:00Z',"
			    "'last_seen':'2016-01-01T00:00:00Z'"),
	    "time-order", "/last_seen"),
	ERR("sighting_summary_type", OBJ("sighting", ",'sighting_of_ref':" R_MALWARE ",'summary':'no'"),
	    "type-mismatch", "/summary"),
};

/* Parse text (single quotes standing for double quotes) and validate it. */
static void validate_text(const char *text, struct cp_diag *d)
{
	size_t len = strlen(text);
	char *s = malloc(len + 1);
	json_t *j = NULL;

	assert_non_null(s);
	for (size_t i = 0; i <= len; i++)
		s[i] = text[i] == '\'' ? '"' : text[i];
	if (cp_stix_json_parse(s, len, &j, d) != CP_OK) {
		tu_dump(d);
		free(s);
		fail_msg("test object does not parse");
	}
	free(s);
	assert_int_equal(cp_stix_validate(j, 0, d), CP_OK);
	json_decref(j);
}

static void run_case(void **state)
{
	const struct tcase *c = *state;
	struct cp_diag d;

	cp_diag_init(&d);
	validate_text(c->json, &d);
	if (!c->code) {
		assert_clean(&d);
	} else {
		assert_finding(&d, c->sev, c->code, c->pointer);
		if (d.count != c->count) {
			tu_dump(&d);
			cp_diag_release(&d);
			fail_msg("expected %zu finding(s)", c->count);
		}
	}
	cp_diag_release(&d);
}

/* Every SDO of section 4 and SRO of section 5 is a known type of the right kind. */
static void kinds(void **state)
{
	static const char *const sdos[] = {
		"attack-pattern", "campaign", "course-of-action", "grouping", "identity",
		"incident", "indicator", "infrastructure", "intrusion-set", "location", "malware",
		"malware-analysis", "note", "observed-data", "opinion", "report", "threat-actor",
		"tool", "vulnerability"};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(sdos); i++)
		assert_int_equal(cp_stix_kind_of(sdos[i]), CP_STIX_SDO);
	assert_int_equal(cp_stix_kind_of("relationship"), CP_STIX_SRO);
	assert_int_equal(cp_stix_kind_of("sighting"), CP_STIX_SRO);
}

/*
 * The OASIS examples raise none of the findings of SDO and SRO rules on their SDOs
 * and SROs (other modules' findings on the SCOs they carry are not judged here).
 */
static const char *const sdo_codes[] = {
	"missing-property", "ref-type", "time-order", "out-of-range", "enum-value",
	"vocab-value", "type-mismatch", "relationship-type", "relationship-type-format",
	"observable-container", "value-format", "property-not-allowed", "deprecated-property",
	"empty-list", "empty-string", "timestamp-format", "unknown-property", NULL};

static void oasis_examples(void **state)
{
	static const char *const files[] = {
		"apt1.json", "indicator-for-c2-ip-address.json", "indicator-for-malicious-url.json",
		"indicators-for-C2-with-COA.json", "infrastructure.json",
		"malicious-email-indicator-with-attachment.json",
		"malware-indicator-for-file-hash.json", "poisonivy.json",
		"sighting-of-an-indicator.json", "sighting-of-observed-data.json"};
	size_t checked = 0;

	(void)state;
	for (size_t f = 0; f < ARRAY_LEN(files); f++) {
		char rel[256];
		size_t len = 0;
		char *text;
		json_t *doc = NULL;
		struct cp_diag d;

		snprintf(rel, sizeof(rel), "stix21/oasis/%s", files[f]);
		text = tu_read_shared(rel, &len);
		if (!text)
			continue;
		cp_diag_init(&d);
		assert_int_equal(cp_stix_json_parse(text, len, &doc, &d), CP_OK);
		free(text);
		assert_int_equal(cp_stix_validate(doc, 0, &d), CP_OK);
		for (size_t i = 0; i < d.count; i++) {
			const struct cp_finding *fd = &d.items[i];
			unsigned long idx;
			const json_t *o;
			const char *type;
			enum cp_stix_kind k;

			if (sscanf(fd->pointer, "/objects/%lu", &idx) != 1)
				continue;
			o = json_array_get(json_object_get(doc, "objects"), idx);
			type = json_string_value(json_object_get(o, "type"));
			k = type ? cp_stix_kind_of(type) : CP_STIX_KIND_UNKNOWN;
			if (k != CP_STIX_SDO && k != CP_STIX_SRO)
				continue;
			for (const char *const *c = sdo_codes; *c; c++)
				if (strcmp(fd->code, *c) == 0) {
					fprintf(stderr, "%s: ", files[f]);
					tu_dump(&d);
					fail_msg("unexpected [%s] at %s", fd->code, fd->pointer);
				}
		}
		json_decref(doc);
		cp_diag_release(&d);
		checked++;
	}
	if (!checked)
		skip();
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_LEN(cases) + 2];

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		tests[i] = (struct CMUnitTest){cases[i].name, run_case, NULL, NULL,
					       (void *)&cases[i]};
	tests[ARRAY_LEN(cases)] = (struct CMUnitTest){"kinds", kinds, NULL, NULL, NULL};
	tests[ARRAY_LEN(cases) + 1] =
		(struct CMUnitTest){"oasis_examples", oasis_examples, NULL, NULL, NULL};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
