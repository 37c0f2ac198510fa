/* SPDX-License-Identifier: MIT */
/*
 * The engine's private state: struct memslots, the working state of one
 * writer call (struct ms_requests, ms_change, ms_call), the per-thread
 * misuse guards and hook bracket, and the functions these files call
 * across each other.  It is included by the files that implement the
 * object and its writer calls:
 *
 *   memslots.c   object lifetime, the entry points (writers, read-side
 *                sections), misuse detection
 *   update.c     one slot writer call, step by step as KVM's
 *                kvm_set_memslot() (see the table in docs/design.md)
 *   request.c    its requests' checks and classification (request.h)
 *   attributes.c memslots_set_attributes(), as KVM's
 *                kvm_vm_set_mem_attributes(), with update.c's publication
 *   idalloc.c    slot-id allocation, under the writer lock
 *   region.c     the KVM request of a hook (reads only the configuration)
 *   validate.c   the consistency checks of both sets
 *
 * The read path (read.c, translate.c) does not include it: readers reach
 * only a set (set.h) and its slots (slot.h).
 *
 * Locking: every field of struct memslots but @active is written only
 * under @lock, or before the object is shared (memslots_new) and after it
 * no longer is (memslots_free).  @active is read by readers without a lock
 * (acquire) and stored by the writer (release).
 */
#ifndef MS_ENGINE_H
#define MS_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "alloc.h"
#include "gmem_index.h"
#include "set.h"

struct memslots {
	_Atomic(struct memslots_set *) active;
	struct memslots_set sets[2];
	pthread_mutex_t lock; /* serializes writers */
	uint64_t generation;  /* of the last set published */
	struct ms_alloc alloc;
	struct ms_slot_cache slot_cache; /* retired slot objects for reuse */
	struct memslots_ops ops;	 /* a copy; absent hooks are NULL */
	void *opaque;
	struct memslots_rcu rcu;
	unsigned int page_shift;
	unsigned int max_slots;
	uint64_t hva_limit;
	uint64_t supported_attributes; /* never 0: the config's 0 is ATTR_PRIVATE */
	uint32_t allowed_flags; /* as configured, with LOG_DIRTY_PAGES always in */
	uint16_t as_id;
	/*
	 * The guest_memfd ranges the slots bind.  One for both sets: it
	 * follows the state the writer stages, which a failed call undoes,
	 * and is never read by readers.
	 */
	struct ms_gmem_index gmem;
};

/*
 * The requests of one call as the caller gave them: an array of struct
 * memslots_region2 (v2) or of struct memslots_region (v1), whose fields
 * are the first five of the former.  Both go through the one validation
 * path; a v1 request reads as a v2 one with the extra fields zero, and
 * may not use GUEST_MEMFD (KVM's v1 ioctl accepts only LOG_DIRTY_PAGES
 * and READONLY).
 */
struct ms_requests {
	const void *base;
	size_t size; /* of one request */
};

/* One change of a call, as classified by the validation step. */
struct ms_change {
	enum memslots_change type;
	size_t index;		 /* of its request */
	struct ms_slot *old;	 /* the published slot; NULL for CREATE */
	struct ms_slot *new;	 /* what replaces it; NULL for DELETE */
	struct ms_slot *invalid; /* old's INVALID copy, for DELETE and MOVE */
};

/*
 * The working state of one writer call.  @inactive and @active follow the
 * publications: after each one they trade places.
 */
struct ms_call {
	struct memslots *ms;
	struct memslots_set *inactive; /* no reader can see it: the one changed */
	struct memslots_set *active;   /* the one readers see */
	struct ms_change *changes;
	size_t nr_changes;
	size_t nr_invalidating;	   /* DELETE and MOVE changes */
	size_t nr_inserting;	   /* CREATE and MOVE changes */
	uint64_t *named;	   /* bitmap of ids named so far (batches) */
	struct ms_set_growth grow; /* for the set active at the start, installed once inactive */
	size_t failed_index;
	/* What the call found kept aside, restored when it fails: a failed
	 * call leaves the memory it found. */
	size_t kept_slots, kept_nodes[2];
};

/*
 * Misuse detection: a hook that calls a writer would deadlock on
 * ms->lock, and a writer called from inside a read-side section would wait
 * forever in synchronize for itself.  Both are per-thread facts.
 */
extern _Thread_local const struct memslots *ms_tls_in_hooks;
extern _Thread_local unsigned int ms_tls_read_depth;

/* Marks this thread as running @ms's hooks; returns what to restore, so a
 * hook of one object may use another object's writer calls. */
static inline const struct memslots *ms_hooks_enter(const struct memslots *ms)
{
	const struct memslots *prev = ms_tls_in_hooks;

	ms_tls_in_hooks = ms;
	return prev;
}

static inline void ms_hooks_leave(const struct memslots *prev)
{
	ms_tls_in_hooks = prev;
}

/*
 * memslots.c.  The writer entry points' misuse check: -EDEADLK from one
 * of @ms's hooks or inside a read-side section of this thread (either
 * would wait for itself), else 0.  Called before taking ms->lock.
 */
int ms_writer_check(const struct memslots *ms);
/*
 * One writer call of one request of either form (@size: sizeof struct
 * memslots_region or memslots_region2), as memslots_set_region2() makes
 * it, with ms->lock already held by the caller (idalloc.c picks an id
 * under the same lock hold).
 */
int ms_set_one_locked(struct memslots *ms, const void *r, size_t size);

/* update.c.  Called with ms->lock held. */
void ms_call_begin(struct ms_call *call, struct memslots *ms, struct ms_change *changes);
/*
 * Ends a call that did not go through ms_set_memslots() (which ends its
 * own): gives back what the sets put aside, as every call must, so that
 * the next call's ms_call_begin() finds nothing to free (a failed call
 * frees only what it allocated).  @err is the call's result.
 */
void ms_call_end(struct ms_call *call, int err);
/* Runs the requests of one call (changes and named set up by the caller). */
int ms_set_memslots(struct ms_call *call, const struct ms_requests *reqs, size_t n);
/*
 * Publishes the inactive set (a new generation), waits for a grace period
 * and swaps call->inactive and call->active: after it the old active set
 * is the writer's to bring up to date.
 */
void ms_swap_active_sets(struct ms_call *call);

/* attributes.c.  Called with ms->lock held, the call begun. */
int ms_set_attributes(struct ms_call *call, const struct memslots_attributes *a);

/*
 * validate.c.  Checks that both sets of @ms hold the same slots and the
 * same attribute runs, each set valid on its own (ms_set_validate), the
 * inactive one as it must be between calls, and no attribute bit outside
 * ms->supported_attributes; 0 or -EINVAL with *@reason.  Caller holds
 * ms->lock.
 */
int ms_check_sets_locked(struct memslots *ms, const char **reason);

#endif /* MS_ENGINE_H */
