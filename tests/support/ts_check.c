/* SPDX-License-Identifier: MIT */
#include "ts_check.h"

#include <stdlib.h>
#include <string.h>

/* A failed check of the support library fails the running test. */
static void ts_check_fail(const char *file, int line, const char *msg)
{
	_ck_assert_failed(file, line, "Failed", "%s", msg);
}

int ts_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	ts_set_fail_handler(ts_check_fail);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void ts_add_cases(Suite *s, const struct ts_case *cases, size_t n)
{
	TCase *tc = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!tc || strcmp(cases[i].tcase, cases[i - 1].tcase) != 0) {
			tc = tcase_create(cases[i].tcase);
			suite_add_tcase(s, tc);
		}
		tcase_add_test(tc, cases[i].test);
	}
}
