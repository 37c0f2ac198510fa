/* SPDX-License-Identifier: MIT */
/* The dirty logging test's cases in files of their own. */
#ifndef TS_TEST_DIRTY_H
#define TS_TEST_DIRTY_H

#include <check.h>

/* Markers, a collector and a writer on real threads (test_dirty_concurrency.c). */
void dirty_add_concurrency_cases(Suite *s);

#endif /* TS_TEST_DIRTY_H */
