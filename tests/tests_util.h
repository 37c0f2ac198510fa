/* SPDX-License-Identifier: MIT */
/* What the unit tests add to the test-support library: running Check. */
#ifndef MS_TESTS_UTIL_H
#define MS_TESTS_UTIL_H

#include <check.h>

#include "ts_alloc.h"
#include "ts_fail.h"
#include "ts_rng.h"

/*
 * Runs a suite (CK_RUN_CASE/CK_FORK from the environment) with the
 * support library's failed checks reported as Check failures; returns the
 * exit status.
 */
int tu_run_suite(Suite *s);

#endif /* MS_TESTS_UTIL_H */
