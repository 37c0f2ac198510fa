/* SPDX-License-Identifier: MIT */
/*
 * The engine's private state, shared by its parts:
 *
 *   memslots.c   object lifetime, the entry points (writers, read-side
 *                sections)
 *   call.c       a writer call's begin, publication and end, the same for
 *                every entry point, and the misuse they refuse
 *   update.c     the body of a slot call, step by step as KVM's
 *                kvm_set_memslot() (see the table in docs/design.md)
 *   request.c    its requests' checks and classification (request.h)
 *   attributes.c the body of memslots_set_attributes(), as KVM's
 *                kvm_vm_set_mem_attributes()
 *   hooks.c      every call of an embedder's hook (hooks.h)
 *   read.c       lookups, iteration and the caches
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
	uint32_t allowed_flags;	       /* as configured, with LOG_DIRTY_PAGES always in */
	uint16_t as_id;
	unsigned int index; /* MEMSLOTS_INDEX_KVM or _BTREE: never DEFAULT */
	uint32_t dirty_log; /* the config's: 0 or DIRTY_BITMAP [| DIRTY_INITIALLY_SET] */
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
	uint16_t id;		 /* of the slot it changes (in the padding after @type) */
	size_t index;		 /* of its request */
	struct ms_slot *old;	 /* the published slot; NULL for CREATE */
	struct ms_slot *new;	 /* what replaces it; NULL for DELETE */
	struct ms_slot *invalid; /* old's INVALID copy, for DELETE and MOVE */
};

/*
 * The working state of one writer call, from ms_call_begin() to
 * ms_call_end().  @inactive and @active follow the publications: after
 * each one they trade places.
 */
struct ms_call {
	struct memslots *ms;
	struct memslots_set *inactive; /* no reader can see it: the one changed */
	struct memslots_set *active;   /* the one readers see */
	struct ms_change *changes;     /* @one, or a batch's (ms_call_alloc_changes) */
	size_t nr_changes;
	size_t nr_invalidating; /* DELETE and MOVE changes */
	size_t nr_inserting;	/* CREATE and MOVE changes */
	uint64_t *named;	/* bitmap of ids named so far (batches only) */
	size_t failed_index;
	struct ms_attrmap_pool attr_pool; /* attribute runs reserved for both maps */
	/* What the call found, settled back to when it fails: a failed call
	 * leaves the memory it found.  found[i] is ms->sets[i]'s. */
	struct ms_set_mark found[2];
	size_t found_slots;   /* in the slot cache */
	struct ms_change one; /* the record of a call of one request */
};

/*
 * Misuse detection: a hook that calls a writer would deadlock on
 * ms->lock (hooks.h keeps that fact), and a writer called from inside a
 * read-side section would wait forever in synchronize for itself.  Both
 * are per-thread facts.
 */
extern _Thread_local unsigned int ms_tls_read_depth;

/* ---- call.c: the lifecycle of every writer call ---------------------------------- */

/*
 * The writer entry points' misuse check: -EDEADLK from one of @ms's hooks
 * or inside a read-side section of this thread (either would wait for
 * itself), else 0.  Any context; takes no lock.
 */
int ms_writer_check(const struct memslots *ms);
/*
 * Begins a writer call on @ms: the misuse check, then ms->lock taken and
 * @call set up for one request (ms_call_alloc_changes() for a batch).
 * 0, or -EDEADLK with nothing taken.  Called without ms->lock; every
 * successful begin is paired with one ms_call_end().
 */
int ms_call_begin(struct ms_call *call, struct memslots *ms);
/* Room for the change records of @n requests; 0 or -ENOMEM.  Under ms->lock. */
int ms_call_alloc_changes(struct ms_call *call, size_t n);
/*
 * Publishes the inactive set (a new generation), waits for a grace period
 * and swaps call->inactive and call->active: after it the old active set
 * is the writer's to bring up to date.  Under ms->lock.
 */
void ms_call_publish(struct ms_call *call);
/*
 * Ends the call begun by ms_call_begin(), whose result is @err: gives back
 * what the sets put aside (a failed call exactly what it allocated), frees
 * the batch arrays, checks both sets in a debug build and drops ms->lock.
 * Returns @err.
 */
int ms_call_end(struct ms_call *call, int err);

/* ---- the bodies of the calls, between begin and end (under ms->lock) ------------- */

/* update.c: the @n requests of one call (v1 or v2, @reqs tells which). */
int ms_set_memslots(struct ms_call *call, const struct ms_requests *reqs, size_t n);
/* attributes.c: one memslots_set_attributes() request. */
int ms_set_attributes(struct ms_call *call, const struct memslots_attributes *a);

#endif /* MS_ENGINE_H */
