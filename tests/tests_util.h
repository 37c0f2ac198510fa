/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests. */
#ifndef MS_TESTS_UTIL_H
#define MS_TESTS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

/* A small, fast, seedable PRNG (xorshift64*), so every run is repeatable. */
struct tu_rng {
	uint64_t s;
};

void tu_rng_seed(struct tu_rng *r, uint64_t seed);
uint64_t tu_rng_next(struct tu_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t tu_rng_below(struct tu_rng *r, uint64_t n);

/*
 * A counting allocator that can be told to fail: the k-th allocation from
 * now (1-based) returns NULL when fail_at == k.  Plug into a config as
 * .alloc = tu_alloc, .free = tu_free, .alloc_opaque = &counter.
 */
struct tu_alloc_counter {
	size_t nr_alloc;  /* successful allocations so far */
	size_t nr_free;   /* frees of non-NULL pointers so far */
	size_t live;      /* allocations not yet freed */
	size_t calls;     /* allocation attempts so far */
	size_t fail_at;   /* 0: never fail; else fail attempt number fail_at */
	size_t bytes;     /* live bytes */
	size_t peak_bytes;
};

void *tu_alloc(size_t size, void *opaque);
void tu_free(void *ptr, void *opaque);

/* Runs a suite: CK_RUN_CASE/CK_FORK from the environment, exit status. */
int tu_run_suite(Suite *s);

#endif /* MS_TESTS_UTIL_H */
