#include "testutil.h"

static void time_roundtrip(void **state)
{
	struct cp_time t;
	char out[CP_TIME_TEXT_MAX];
	(void)state;
	assert_int_equal(cp_time_parse("2016-04-06T20:03:48.123456789Z", 30, &t, NULL), CP_OK);
	cp_time_format(&t, out);
	assert_string_equal(out, "2016-04-06T20:03:48.123456789Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(time_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
