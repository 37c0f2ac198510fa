/* SPDX-License-Identifier: MIT */
/* The dirty logging test's cases in files of their own. */
#ifndef MS_TESTS_TEST_DIRTY_H
#define MS_TESTS_TEST_DIRTY_H

#include <check.h>

/* Markers, a collector and a writer on real threads (test_dirty_concurrency.c). */
void dirty_add_concurrency_cases(Suite *s);

#endif /* MS_TESTS_TEST_DIRTY_H */
