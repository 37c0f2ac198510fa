/* SPDX-License-Identifier: MIT */
/*
 * A writer call's lifecycle, the same for every writer entry point
 * (memslots.c, idalloc.c): ms_call_begin() refuses a call from a hook or a
 * read-side section, takes ms->lock and finds the two sets; the body
 * (update.c's ms_set_memslots(), attributes.c's ms_set_attributes())
 * stages and publishes, through ms_call_publish(); ms_call_end() gives
 * back what the call put aside, frees its batch arrays, checks both sets
 * in a debug build and drops the lock.
 *
 * Memory follows one protocol (set.h): the body reserves, in one place
 * (update.c's ms_change_reserve(), attributes.c's ms_attrmap_reserve()),
 * everything its changes take before it publishes anything; the changes
 * then cannot fail; ms_call_settle() is the one place that gives back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hooks.h"
#include "set.h"
#include "slot.h"
#include "validate.h"

int ms_writer_check(const struct memslots *ms)
{
	if (ms_in_hooks_of(ms) || ms_tls_read_depth)
		return -EDEADLK;
	return 0;
}

int ms_call_begin(struct ms_call *call, struct memslots *ms)
{
	struct memslots_set *active;
	int err;

	err = ms_writer_check(ms);
	if (err)
		return err;
	pthread_mutex_lock(&ms->lock);
	active = atomic_load_explicit(&ms->active, memory_order_relaxed);
	memset(call, 0, sizeof(*call));
	call->ms = ms;
	call->active = active;
	call->inactive = active == &ms->sets[0] ? &ms->sets[1] : &ms->sets[0];
	call->changes = &call->one;
	call->attr_pool = MS_ATTRMAP_POOL_INIT;
	ms_set_mark(&ms->sets[0], &call->found[0]);
	ms_set_mark(&ms->sets[1], &call->found[1]);
	call->found_slots = ms->slot_cache.count;
	return 0;
}

/*
 * The change records and the named-ids bitmap of a batch of @n requests,
 * in one block; one request uses the record in the call itself and needs
 * no bitmap (an id cannot be named twice).  0 or -ENOMEM.
 */
int ms_call_alloc_changes(struct ms_call *call, size_t n)
{
	struct memslots *ms = call->ms;
	size_t words = (ms->max_slots + 63) / 64;
	size_t bytes;
	char *block;

	if (n <= 1)
		return 0;
	if (n > (SIZE_MAX - words * sizeof(uint64_t)) / sizeof(struct ms_change))
		return -ENOMEM;
	bytes = n * sizeof(struct ms_change) + words * sizeof(uint64_t);
	block = ms_malloc(&ms->alloc, bytes);
	if (!block)
		return -ENOMEM;
	call->changes = (struct ms_change *)block;
	call->named = (uint64_t *)(block + n * sizeof(struct ms_change));
	/* Only the bitmap starts zeroed: a record is written whole when its
	 * request is classified, before anything reads it (a batch over
	 * every slot zeroed 40 bytes a request for nothing). */
	memset(call->named, 0, words * sizeof(uint64_t));
	return 0;
}

/*
 * KVM's kvm_swap_active_memslots(): makes the inactive set the active one
 * and waits until no reader can still be using the other; the two trade
 * places.  The release store pairs with the acquire load in
 * memslots_read_lock(): a reader that sees the set sees every slot and
 * every attribute run in it fully initialized.
 */
void ms_call_publish(struct ms_call *call)
{
	struct memslots *ms = call->ms;
	struct memslots_set *set = call->inactive;

	set->generation = ++ms->generation;
	ms_set_stamp(set);
	atomic_store_explicit(&ms->active, set, memory_order_release);
	ms->rcu.synchronize();
	call->inactive = call->active;
	call->active = set;
	/* Readers have left the old active set: it is ours again. */
	ms_set_forget_last_used(call->inactive);
}

/*
 * The one place a call gives back what it put aside and no longer needs:
 * both sets' reserves (readers never look at a reserve, so the published
 * set's too), the attribute pool, and the slot cache down to the live
 * count.  A failed call gives back exactly what it allocated: the slot
 * cache and each set settle back to what the call found (ms_set_settle()).
 */
static void ms_call_settle(struct ms_call *call, int err)
{
	struct memslots *ms = call->ms;

	for (unsigned int i = 0; i < 2; i++)
		ms_set_settle(&ms->sets[i], err ? &call->found[i] : NULL);
	ms_attrmap_settle(&call->attr_pool, &ms->alloc);
	ms_slot_cache_settle(&ms->slot_cache, &ms->alloc,
			     err ? call->found_slots : call->active->count);
}

/*
 * Built with MEMSLOTS_DEBUG, every writer call ends by checking both sets
 * (ms_check_sets_locked) and aborts the process, saying why, on the first
 * inconsistency: a bug caught at the call that made it.
 */
static void ms_call_debug_check(struct memslots *ms)
{
#ifdef MEMSLOTS_DEBUG
	const char *reason = ms_check_sets_locked(ms);

	if (reason) {
		fprintf(stderr, "libmemslots: inconsistent state after a writer call: %s\n",
			reason);
		abort();
	}
#else
	(void)ms;
#endif
}

int ms_call_end(struct ms_call *call, int err)
{
	struct memslots *ms = call->ms;

	ms_call_settle(call, err);
	if (call->changes != &call->one)
		ms_free(&ms->alloc, call->changes);
	call->changes = NULL;
	call->named = NULL;
	ms_call_debug_check(ms);
	pthread_mutex_unlock(&ms->lock);
	return err;
}
