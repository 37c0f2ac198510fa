/* SPDX-License-Identifier: MIT */
/*
 * What memslots_stress's readers (stress_readers.c), writers
 * (stress_writers.c) and main (memslots_stress.c) share: each id's fixed
 * properties, the violation counter, the hooks and RCUs the engine is
 * made with, and the run's shared state.  The counters are atomics; the
 * configuration variables are set by main before any thread starts.
 */
#ifndef MS_STRESS_H
#define MS_STRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <memslots/memslots.h>

#include "ts_alloc.h"
#include "ts_rng.h"
#include "ts_rwlock_rcu.h"

#if defined(__SANITIZE_THREAD__)
#define ST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ST_TSAN 1
#endif
#endif

#define ST_MAX_WRITERS 16
#define ST_MAX_READERS 64
#define ST_IDS_PER_W   24u /* ids owned by each writer */
#define ST_GROUP       4u  /* the first ids of each writer: toggled together */
#define ST_PAGE_SHIFT  12
#define ST_PAGE	       (1ull << ST_PAGE_SHIFT)
#define ST_MAX_BATCH   8u
extern unsigned int st_nr_ids;	/* writers * ST_IDS_PER_W */
extern uint64_t st_gfn_span;	/* gfns slots are placed in: crowded, so overlaps happen */
extern unsigned int st_writers; /* for the readers' group check */

/* Per id: a fixed size and host address, and the priv prepare gives it. */
uint64_t st_npages(unsigned int id);
uint64_t st_hva(unsigned int id);
extern int st_magic[ST_MAX_WRITERS * ST_IDS_PER_W];

extern atomic_ulong st_violations;

#define st_violation(...)                                                         \
	do {                                                                      \
		if (atomic_fetch_add(&st_violations, 1) < 20) {                   \
			fprintf(stderr, "VIOLATION %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                             \
			fputc('\n', stderr);                                      \
		}                                                                 \
	} while (0)

/* A reader that still holds a freed slot sees garbage: a violation. */
extern struct ts_alloc_counter st_mem;
extern const struct memslots_ops st_ops;

extern struct memslots *st_ms;
extern atomic_bool st_stop;
extern atomic_ulong st_reader_ops, st_reader_sections, st_writer_calls, st_writer_failed;

/* The engine's own consistency checks of both sets, between writer calls. */
void st_check_engine(void);
double st_now(void);

/* Whether @s is a whole slot as the writers make them. */
bool st_slot_whole(const struct memslot *s);

#define st_slot_violation(what, s)                                                                 \
	st_violation("%s (slot %p id %u gfn %llu npages %llu flags %#x)", what, (const void *)(s), \
		     (s) ? (s)->id : 0u, (s) ? (unsigned long long)(s)->base_gfn : 0ull,           \
		     (s) ? (unsigned long long)(s)->npages : 0ull, (s) ? (s)->flags : 0u)

/* What a writer knows of each id it owns. */
struct st_own {
	bool present;
	uint64_t gfn;
	uint32_t flags;
};

struct st_writer {
	unsigned int w;
	struct ts_rng rng;
	struct st_own own[ST_IDS_PER_W];
	uint32_t group_flags; /* the LOG_DIRTY state of the whole group */
	pthread_t thread;
};

/* The threads: @arg is unused by readers, the struct st_writer for writers. */
void *st_reader(void *arg);
void *st_writer(void *arg);

#endif /* MS_STRESS_H */
