/* SPDX-License-Identifier: MIT */
/*
 * Consistency checks of the engine (debug.h): of one set through
 * ms_set_validate(), of the two sets together here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "debug.h"
#include "engine.h"
#include "hooks.h"
#include "set.h"
#include "slot.h"

static int ms_check_fail(const char **reason, const char *what)
{
	if (reason)
		*reason = what;
	return -EINVAL;
}

/* The two sets hold the same slot objects, in the same order. */
static const char *ms_check_replica(const struct memslots_set *active,
				    const struct memslots_set *inactive)
{
	struct ms_btree_cursor a, b;

	if (active->count != inactive->count || active->nr_pages != inactive->nr_pages)
		return "the two sets differ in count or page total";
	/* Cursors, not ms_set_next(): one pass over the leaves, O(n). */
	ms_btree_first(&active->gfn_tree, &a);
	ms_btree_first(&inactive->gfn_tree, &b);
	for (; ms_btree_cursor_valid(&a) && ms_btree_cursor_valid(&b);
	     ms_btree_cursor_next(&a), ms_btree_cursor_next(&b)) {
		const struct ms_slot *slot = ms_btree_cursor_val(&a);

		if (slot != ms_btree_cursor_val(&b))
			return "the two sets hold different slots";
		if (slot->pub.flags & MEMSLOT_INVALID)
			return "a slot is still INVALID between calls";
	}
	if (ms_btree_cursor_valid(&a) || ms_btree_cursor_valid(&b))
		return "the two sets differ in length";
	return NULL;
}

/*
 * The binding index holds exactly the GUEST_MEMFD slots' ranges: as many
 * bindings as such slots, each slot's own binding matching its public
 * fields and found by a query of its range (bindings of one fd never
 * intersect, so the query finds nothing else).
 */
static const char *ms_check_gmem_index(const struct memslots *ms, const struct memslots_set *set)
{
	struct ms_slot *slot;
	size_t n = 0;

	if (ms_gmem_validate(&ms->gmem))
		return "the guest_memfd binding index breaks an invariant";
	for (slot = ms_set_first(set); slot; slot = ms_set_next(set, slot)) {
		const struct ms_gmem_binding *b = &slot->gmem;

		if (!(slot->pub.flags & MEMSLOT_GUEST_MEMFD))
			continue;
		n++;
		if (b->fd != slot->pub.guest_memfd || b->start != slot->pub.guest_memfd_offset ||
		    b->last != b->start + (slot->pub.npages << ms->page_shift) - 1)
			return "a slot's guest_memfd binding differs from its fields";
		if (ms_gmem_find(&ms->gmem, b->fd, b->start, b->last) != b ||
		    ms_gmem_find_next(b, b->fd, b->start, b->last))
			return "a slot's guest_memfd range is not bound to it alone";
	}
	if (n != ms->gmem.count)
		return "the binding index holds a range no slot binds";
	return NULL;
}

/*
 * Every slot with LOG_DIRTY_PAGES has a dirty bitmap exactly when the
 * object keeps them (dirty_log); the others have none to read (the field
 * is the guest_memfd binding's then, dirty.h).
 */
static const char *ms_check_dirty(const struct memslots *ms, const struct memslots_set *set)
{
	struct ms_slot *slot;

	for (slot = ms_set_first(set); slot; slot = ms_set_next(set, slot)) {
		bool logs = slot->pub.flags & MEMSLOT_LOG_DIRTY_PAGES;

		if (logs && !ms->dirty_log != !slot->dirty)
			return "a LOG_DIRTY_PAGES slot's dirty bitmap disagrees with dirty_log";
	}
	return NULL;
}

/*
 * The two maps give every gfn the same word (each map's own invariants,
 * maximal runs among them, are ms_set_validate()'s), and no run has a bit
 * the object does not support: memslots_set_attributes() refuses those.
 */
static const char *ms_check_attributes(const struct memslots *ms, const struct memslots_set *active,
				       const struct memslots_set *inactive)
{
	const struct ms_attr_run *run;

	if (!ms_attrmap_equal(&active->attrs, &inactive->attrs))
		return "the two sets' attribute maps differ";
	for (run = ms_attrmap_first(&active->attrs); run; run = ms_attrmap_next(run))
		if (run->attrs & ~ms->supported_attributes)
			return "an attribute run has a bit outside supported_attributes";
	return NULL;
}

int ms_check_sets_locked(struct memslots *ms, const char **reason)
{
	struct memslots_set *active = atomic_load_explicit(&ms->active, memory_order_relaxed);
	struct memslots_set *inactive;
	const char *why;
	int err;

	if (active != &ms->sets[0] && active != &ms->sets[1])
		return ms_check_fail(reason, "the active set is neither of the object's sets");
	inactive = active == &ms->sets[0] ? &ms->sets[1] : &ms->sets[0];
	err = ms_set_validate(active, reason);
	if (!err)
		err = ms_set_validate(inactive, reason);
	if (err)
		return err;
	if (active->generation != ms->generation)
		return ms_check_fail(reason, "the active set is not the last one published");
	if (inactive->generation >= active->generation)
		return ms_check_fail(reason, "the inactive set was published after the active one");
	if (ms_set_last_used(inactive))
		return ms_check_fail(reason, "the inactive set remembers a last-used slot");
	why = ms_check_replica(active, inactive);
	if (!why)
		why = ms_check_gmem_index(ms, active);
	if (!why)
		why = ms_check_dirty(ms, active);
	if (why)
		return ms_check_fail(reason, why);
	why = ms_check_attributes(ms, active, inactive);
	if (why)
		return ms_check_fail(reason, why);
	return 0;
}

int memslots__check_set(const struct memslots_set *set, const char **reason)
{
	if (!set)
		return ms_check_fail(reason, "no set");
	return ms_set_validate(set, reason);
}

int memslots__check_sets(struct memslots *ms, const char **reason)
{
	int err;

	if (!ms)
		return ms_check_fail(reason, "no object");
	if (ms_writer_check(ms)) {
		if (reason)
			*reason = "called from a hook or a read-side section";
		return -EDEADLK;
	}
	pthread_mutex_lock(&ms->lock);
	err = ms_check_sets_locked(ms, reason);
	pthread_mutex_unlock(&ms->lock);
	return err;
}
