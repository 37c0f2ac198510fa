/* SPDX-License-Identifier: MIT */
/*
 * What the misuse test's cases share: an RCU that does nothing (the
 * cases are single-threaded or order their threads themselves), a region
 * maker, and the check that an object still works after a refused call.
 * Single-threaded.
 */
#ifndef TS_MISUSE_FIXTURE_H
#define TS_MISUSE_FIXTURE_H

#include <stdint.h>

#include <check.h>

#include <memslots/memslots.h>

extern const struct memslots_rcu ts_misuse_nop_rcu;

struct memslots_region ts_misuse_region(uint32_t id, uint64_t gfn, uint64_t npages);

/* The object works: a create goes through and is visible. */
void ts_misuse_still_works(struct memslots *ms, uint32_t id);

/* The cases of the lifetime_and_hooks and absurd_values TCases. */
void misuse_add_lifetime_cases(Suite *s);

#endif /* TS_MISUSE_FIXTURE_H */
