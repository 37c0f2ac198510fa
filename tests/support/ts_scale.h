/* SPDX-License-Identifier: MIT */
/*
 * How long a randomized test runs, for the build it runs in.
 *
 * The plain builds (dev, -O2, release) run every randomized test at its
 * full length: that is where the models catch wrong answers.  The
 * sanitizer builds and valgrind are there to catch memory and thread
 * errors, which the first few thousand operations of a run reach as surely
 * as the last; every access costs them 2-15x (ASan, TSan) or ~50x
 * (memcheck), and at full length they took most of the test budget.  So:
 *
 *  - under valgrind a run is cut to @n / @valgrind_div + 1, the divisor
 *    chosen per test (how much of its run is model checking, which is all
 *    the slowdown, against engine calls);
 *  - elsewhere to MEMSLOTS_TEST_SCALE percent of @n (at least 1): the asan
 *    and tsan test presets set it (CMakePresets.json); unset means 100.
 *
 * Locking: none; getenv() is only read.
 */
#ifndef TS_SCALE_H
#define TS_SCALE_H

#include <stddef.h>

size_t ts_scaled(size_t n, unsigned int valgrind_div);

#endif /* TS_SCALE_H */
