/* SPDX-License-Identifier: MIT */
/* What the unit tests add to the test-support library: running Check. */
#ifndef TS_CHECK_H
#define TS_CHECK_H

#include <check.h>

#include "ts_alloc.h"
#include "ts_fail.h"
#include "ts_rng.h"

/*
 * Runs a suite (CK_RUN_CASE/CK_FORK from the environment) with the
 * support library's failed checks reported as Check failures; returns the
 * exit status.
 */
int ts_run_suite(Suite *s);

/* A row of a suite's table: a test and the TCase it belongs to. */
struct ts_case {
	const char *tcase;
	const TTest *test;
};

/*
 * Adds the @n rows of @cases to @s, consecutive rows of one TCase name in
 * one TCase (the names are what ctest runs: tests/CMakeLists.txt finds
 * them as .tcase = "...").
 */
void ts_add_cases(Suite *s, const struct ts_case *cases, size_t n);

/*
 * Check's ck_assert_*() records a mark point on every success, which costs a
 * write per call; the per-node checks of the tree tests run hundreds of
 * millions of times, so they only call into Check on failure.
 */
#define TS_REQUIRE(cond)                                                              \
	do {                                                                          \
		if (!(cond))                                                          \
			ck_abort_msg("%s:%d: failed: %s", __FILE__, __LINE__, #cond); \
	} while (0)

/*
 * Runs @check with @field set to @bad, then puts back the value @field had:
 * one piece of damage to a private structure, what must notice it, and
 * the damage undone exactly, so that the next piece starts from a sound
 * state (a failed check ends the test before).
 */
#define TS_DAMAGED(field, bad, check)                      \
	do {                                               \
		__typeof__(field) ts_undamaged_ = (field); \
		(field) = (bad);                           \
		check;                                     \
		(field) = ts_undamaged_;                   \
	} while (0)

#endif /* TS_CHECK_H */
