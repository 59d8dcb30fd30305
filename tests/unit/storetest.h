/*
 * tests/unit/storetest.h - for unit tests that run their group twice: as the store
 * runs, and with every commit moving the store's recent ids into its ids table.
 */
#ifndef CYBERPACT_TEST_STORETEST_H
#define CYBERPACT_TEST_STORETEST_H

#include <stddef.h>

/* lib/store/internal.h: recent ids kept before they move into the ids table */
extern size_t cp__store_recent_min;

/* a cmocka group setup */
static inline int merge_every_commit(void **state)
{
	(void)state;
	cp__store_recent_min = 1;
	return 0;
}

/* run a cmocka group both ways; the number of failed tests */
#define run_with_and_without_merges(name, tests)                                          \
	(cmocka_run_group_tests_name(name, tests, NULL, NULL) +                           \
	 cmocka_run_group_tests_name(name ", ids merged at every commit", tests,          \
				     merge_every_commit, NULL))

#endif
