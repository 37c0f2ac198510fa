/* SPDX-License-Identifier: MIT */
#include "ts_check.h"

#include <stdlib.h>

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
