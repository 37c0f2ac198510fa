/* SPDX-License-Identifier: MIT */
/*
 * The contract tests' fixture, compiled with them against either engine
 * (test_baseline.c).
 *
 * The test RCU has no readers to wait for: each grace period counts in
 * t_syncs and snapshots the active set into t_snaps[], which is how the
 * tests see what readers could see between publications.  The hooks log
 * each call into t_log[] and check the priv protocol; prepare can be made
 * to fail (t_fail_prepare_at) or to call a writer (t_reenter).  All of it
 * is one test's state, on the test's one thread.
 */
#ifndef CONTRACT_FIXTURE_H
#define CONTRACT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "ts_check.h"

#define PG	   4096ull

#define MAX_SNAP   8
#define SNAP_SLOTS 16

struct snap {
	uint64_t generation;
	size_t count;
	struct memslot slots[SNAP_SLOTS];
};

extern struct memslots *t_ms; /* what the test RCU snapshots */
extern int t_syncs;
extern struct snap t_snaps[MAX_SNAP];

/* The test RCU's read_lock and read_unlock: nothing to do. */
void t_nop(void);

enum hook { H_PREPARE, H_ABORT, H_COMMIT, H_INVALIDATE, H_RELEASE };

struct hook_call {
	enum hook hook;
	enum memslots_change change;
	int old_id, new_id; /* -1 for NULL */
	uint32_t flags;	    /* invalidate/release: the slot's flags */
	uint64_t hva;	    /* invalidate: gfn_to_hva of the slot's base */
	void *priv;	    /* commit: new->priv */
};

extern struct hook_call t_log[64];
extern int t_nlog;
extern int t_fail_prepare_at; /* fail the prepare call with this number */
extern int t_nprepare;
extern bool t_reenter; /* prepare calls set_region (expects -EDEADLK) */
extern int t_reenter_ret;

extern struct ts_alloc_counter t_alloc;

/* A new instance with the test RCU, the counting allocator and (if
 * @hooks) the logging hooks; resets the fixture's state. */
struct memslots *mk(unsigned int max_slots, uint64_t hva_limit, bool hooks);
/* Frees @ms and checks that nothing it allocated is left. */
void done(struct memslots *ms);

static inline struct memslots_region reg(uint32_t id, uint32_t flags, uint64_t gpa, uint64_t size,
					 uint64_t hva)
{
	struct memslots_region r = {id, flags, gpa, size, hva};

	return r;
}

static inline int set(struct memslots *ms, uint32_t id, uint32_t flags, uint64_t gpa, uint64_t size,
		      uint64_t hva)
{
	struct memslots_region r = reg(id, flags, gpa, size, hva);

	return memslots_set_region(ms, &r);
}

static inline uint64_t gen(struct memslots *ms)
{
	uint64_t g = memslots_generation(memslots_read_lock(ms));

	memslots_read_unlock(ms);
	return g;
}

#endif /* CONTRACT_FIXTURE_H */
