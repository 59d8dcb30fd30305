#include "testutil.h"
#include "cyberpact/stix.h"

static void indicator_ok(void **state)
{
	static const char doc[] = "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
		"\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
		"\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\","
		"\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\","
		"\"valid_from\":\"2016-01-01T00:00:00Z\"}";
	struct cp_diag d;
	json_t *j = NULL;
	(void)state;
	cp_diag_init(&d);
	assert_int_equal(cp_stix_json_parse(doc, sizeof(doc) - 1, &j, &d), CP_OK);
	assert_int_equal(cp_stix_validate(j, 0, &d), CP_OK);
	assert_clean(&d);
	json_decref(j);
	cp_diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(indicator_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
