/* SPDX-License-Identifier: MIT */
/*
 * What the concurrency test's runs share: each slot id's fixed properties
 * and the prepare hook that sets its priv, the state readers and the
 * writer share, and the run length; the rwlock RCU used under TSan is
 * the support library's (ts_rwlock_rcu.h).  The functions of ids are pure;
 * tc_fail() may be called from any thread.
 */
#ifndef MS_TESTS_CONCURRENCY_FIXTURE_H
#define MS_TESTS_CONCURRENCY_FIXTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <check.h>

#include <memslots/memslots.h>

#include "ts_rwlock_rcu.h"

#if defined(__SANITIZE_THREAD__)
#define TC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TC_TSAN 1
#endif
#endif

#define TC_IDS	      64u
#define TC_GFN_SPAN   4096u /* gfns slots are placed in: crowded, so overlaps happen */
#define TC_READERS    2
#define TC_PAGE	      4096ull
#define TC_MIN_WRITES 20 /* writer calls a run needs, however slow the machine */

struct tc_shared {
	struct memslots *ms;
	atomic_bool stop;
	atomic_ulong reader_ops;
	atomic_ulong reader_errors;
	atomic_ulong writer_ops;
	unsigned long seed;
};

/* Per id: a fixed size and host address, and the priv prepare gives it. */
uint64_t tc_npages(unsigned int id);
uint64_t tc_hva(unsigned int id);
/* Every third id is a guest_memfd slot, with its own fd and range. */
bool tc_is_gmem(unsigned int id);
uint32_t tc_gmem_fd(unsigned int id);
uint64_t tc_gmem_offset(unsigned int id);
extern int tc_magic[TC_IDS];
extern const struct memslots_ops tc_ops;

double tc_now(void);
/* Reports the first few problems, counts all of them. */
void tc_fail(struct tc_shared *sh, const char *what, const struct memslot *s);

/* The request that makes slot @id at @gfn, as the writer makes them. */
struct memslots_region2 tc_region(unsigned int id, uint64_t gfn, uint32_t flags);

/* How long a run lasts: MEMSLOTS_STRESS_SECONDS, else short under valgrind. */
double tc_seconds(void);

/* The cases of the attributes TCase (test_concurrency_attributes.c). */
void concurrency_add_attribute_cases(Suite *s);

#endif /* MS_TESTS_CONCURRENCY_FIXTURE_H */
