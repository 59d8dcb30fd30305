/* indicator.pattern checking: pattern engine errors and SCO-aware warnings. */
#include "testutil.h"
#include "cyberpact/stix.h"

static void validate_pattern(const char *pattern, const char *pattern_type, unsigned flags,
			     struct cp_diag *d)
{
	json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
				"spec_version", "2.1", "id",
				"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created",
				"2016-04-06T20:03:48.000Z", "modified", "2016-04-06T20:03:48.000Z",
				"pattern", pattern, "pattern_type", pattern_type, "valid_from",
				"2016-01-01T00:00:00Z");
	assert_non_null(obj);
	assert_int_equal(cp_stix_validate(obj, flags, d), CP_OK);
	json_decref(obj);
}

static const struct cp_finding *only(const struct cp_diag *d, enum cp_severity sev,
				     const char *code)
{
	if (d->count != 1 || d->items[0].severity != sev || strcmp(d->items[0].code, code) != 0) {
		tu_dump(d);
		fail_msg("expected exactly one %s [%s]", cp_severity_name(sev), code);
	}
	assert_string_equal(d->items[0].pointer, "/pattern");
	return &d->items[0];
}

static void valid_patterns_are_clean(void **state)
{
	static const char *const ok[] = {
		"[ipv4-addr:value = '198.51.100.1/32']",
		"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
		"[domain-name:value = 'www.example.com' OR ipv6-addr:value ISSUBSET '2001:db8::/32']",
		"[x-usb-device:usbdrive.serial_number = '575833314133343231313937']",
		"[file:x_custom = 1 AND file:name = 'a.exe']",
		"[network-traffic:dst_ref.value IN ('10.0.0.1', '10.0.0.2')]",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct cp_diag d;
		cp_diag_init(&d);
		validate_pattern(ok[i], "stix", 0, &d);
		assert_clean(&d);
		cp_diag_release(&d);
	}
}

static void syntax_error_located(void **state)
{
	struct cp_diag d;
	const struct cp_finding *f;
	(void)state;
	cp_diag_init(&d);
	validate_pattern("[ipv4-addr:value = '1.2.3.4'", "stix", 0, &d);
	f = only(&d, CP_SEV_ERROR, "pattern-syntax");
	assert_non_null(strstr(f->message, "column 29"));
	cp_diag_release(&d);
}

static void semantic_error(void **state)
{
	struct cp_diag d;
	(void)state;
	cp_diag_init(&d);
	validate_pattern("[ipv4-addr:value = 'a' AND url:value = 'b']", "stix", 0, &d);
	only(&d, CP_SEV_ERROR, "pattern-semantic");
	cp_diag_release(&d);
}

static void unknown_type_suggests(void **state)
{
	struct cp_diag d;
	const struct cp_finding *f;
	(void)state;
	cp_diag_init(&d);
	/* a real typo in the STIX specification's own examples */
	validate_pattern("[win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']", "stix", 0, &d);
	f = only(&d, CP_SEV_WARNING, "pattern-object-type");
	assert_non_null(strstr(f->message, "windows-registry-key"));
	cp_diag_release(&d);
	cp_diag_init(&d);
	validate_pattern("[indicator:name = 'x']", "stix", 0, &d);
	f = only(&d, CP_SEV_WARNING, "pattern-object-type");
	assert_non_null(strstr(f->message, "not a cyber-observable"));
	cp_diag_release(&d);
}

static void unknown_property(void **state)
{
	struct cp_diag d;
	const struct cp_finding *f;
	(void)state;
	cp_diag_init(&d);
	validate_pattern("[file:filename = 'a.exe']", "stix", 0, &d);
	f = only(&d, CP_SEV_WARNING, "pattern-property");
	assert_non_null(strstr(f->message, "'filename'"));
	cp_diag_release(&d);
}

static void value_formats(void **state)
{
	static const char *const bad[] = {
		"[domain-name:value = 'domain autuo.xicp.net']",
		"[ipv4-addr:value = '300.1.2.3']",
		"[ipv4-addr:value = '10.0.0.0/33']",
		"[ipv6-addr:value = '10.0.0.1']",
		"[file:hashes.MD5 = 'abc']",
		"[file:hashes.'SHA-256' = 'zz']",
		"[domain-name:value IN ('ok.example', 'not ok')]",
		/* from the specification's own examples: an integer compared with a string */
		"[file:size = '371712']",
		"[network-traffic:dst_port = '8443']",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cp_diag d;
		cp_diag_init(&d);
		validate_pattern(bad[i], "stix", 0, &d);
		only(&d, CP_SEV_WARNING, "pattern-value");
		cp_diag_release(&d);
	}
}

static void column_in_message(void **state)
{
	struct cp_diag d;
	const struct cp_finding *f;
	(void)state;
	cp_diag_init(&d);
	validate_pattern("[url:value = 'a'] AND [file:hashes.MD5 = 'abc']", "stix", 0, &d);
	f = only(&d, CP_SEV_WARNING, "pattern-value");
	assert_non_null(strstr(f->message, "column 24"));
	cp_diag_release(&d);
}

static void other_pattern_types_not_parsed(void **state)
{
	struct cp_diag d;
	(void)state;
	cp_diag_init(&d);
	validate_pattern("alert tcp any any -> any any (msg:\"x\";)", "snort", 0, &d);
	assert_clean(&d);
	validate_pattern("[broken", "stix", CP_STIX_NO_PATTERN, &d);
	assert_clean(&d);
	cp_diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_patterns_are_clean),
		cmocka_unit_test(syntax_error_located),
		cmocka_unit_test(semantic_error),
		cmocka_unit_test(unknown_type_suggests),
		cmocka_unit_test(unknown_property),
		cmocka_unit_test(value_formats),
		cmocka_unit_test(column_in_message),
		cmocka_unit_test(other_pattern_types_not_parsed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
