#include "testutil.h"
#include "cyberpact/stix.h"

static void placeholder_meta(void **state)
{
	(void)state;
	assert_int_equal(cp_stix_kind_of("indicator"), CP_STIX_SDO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(placeholder_meta),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
