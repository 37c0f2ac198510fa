/* SPDX-License-Identifier: MIT */
/*
 * What the concurrency test's runs share: each slot id's fixed properties
 * and the prepare hook that sets its priv, the state readers and the
 * writer share, the run length, and the run itself (reader threads
 * against one writer); the rwlock RCU used under TSan is the support
 * library's (ts_rwlock_rcu.h).  The functions of ids are pure;
 * ts_conc_fail() may be called from any thread.
 */
#ifndef TS_CONCURRENCY_FIXTURE_H
#define TS_CONCURRENCY_FIXTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <check.h>

#include <memslots/memslots.h>

#include "ts_rng.h"
#include "ts_rwlock_rcu.h"

#if defined(__SANITIZE_THREAD__)
#define TS_CONC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TS_CONC_TSAN 1
#endif
#endif

#define TS_CONC_IDS	   64u
#define TS_CONC_GFN_SPAN   4096u /* gfns slots are placed in: crowded, so overlaps happen */
#define TS_CONC_READERS	   2
#define TS_CONC_PAGE_SHIFT 12
#define TS_CONC_PAGE	   (1ull << TS_CONC_PAGE_SHIFT)
#define TS_CONC_MIN_WRITES 20 /* writer calls a run needs, however slow the machine */

struct ts_conc_run;

struct ts_conc_shared {
	const struct ts_conc_run *run;
	struct memslots *ms;
	atomic_bool stop;
	atomic_ulong reader_ops;
	atomic_ulong reader_errors;
	atomic_ulong writer_ops;
	unsigned long seed;
};

/* Per id: a fixed size and host address, and the priv prepare gives it. */
uint64_t ts_conc_npages(unsigned int id);
uint64_t ts_conc_hva(unsigned int id);
/* Every third id is a guest_memfd slot, with its own fd and range. */
bool ts_conc_is_gmem(unsigned int id);
uint32_t ts_conc_gmem_fd(unsigned int id);
uint64_t ts_conc_gmem_offset(unsigned int id);
extern int ts_conc_magic[TS_CONC_IDS];
extern const struct memslots_ops ts_conc_ops;

double ts_conc_now(void);
/* Reports the first few problems, counts all of them. */
void ts_conc_fail(struct ts_conc_shared *sh, const char *what, const struct memslot *s);

/* The request that makes slot @id at @gfn, as the writer makes them. */
struct memslots_region2 ts_conc_region(unsigned int id, uint64_t gfn, uint32_t flags);

/* How long a run lasts: MEMSLOTS_STRESS_SECONDS, else short under valgrind. */
double ts_conc_seconds(void);

/* A reader thread's own state, for its checks of each section. */
struct ts_conc_reader {
	struct ts_conc_shared *sh;
	struct memslots_cache cache;
	struct ts_rng rng; /* seeded from the run's seed and the thread's stack */
	uint64_t last_gen;
};

/*
 * One run: TS_CONC_READERS threads each call @section inside read-side
 * sections until the run stops, while this thread calls @step (the i-th
 * call with @i, and counted in writer_ops) for the given time, and on for
 * at least TS_CONC_MIN_WRITES calls (valgrind serializes threads, and
 * liburcu's grace periods then take tens of milliseconds), up to ten
 * times as long.  The run fails on any reader error, too few writer
 * calls, or no reader section at all.
 */
struct ts_conc_run {
	const char *name;		/* of the run's summary line */
	const struct memslots_rcu *rcu; /* NULL: the library's default */
	unsigned long seed;		/* of the writer's generator and the readers' */
	bool writer_reads;		/* the writer registers as a reader, to peek at the state */
	void (*section)(struct ts_conc_reader *rd, const struct memslots_set *set);
	void (*step)(struct ts_conc_shared *sh, struct ts_rng *rng, unsigned long i);
};

void ts_conc_run(const struct ts_conc_run *run, double seconds);

/* The cases of the attributes TCase (test_concurrency_attributes.c). */
void concurrency_add_attribute_cases(Suite *s);

#endif /* TS_CONCURRENCY_FIXTURE_H */
