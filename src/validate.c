/* SPDX-License-Identifier: MIT */
/*
 * The engine's consistency checks (validate.h): one set, two sets as each
 * other's replica, and an object's pair of sets with its binding index;
 * and the debug entry points over them (debug.h).  Each structure checks
 * its own invariants in its own file; these check how the structures
 * agree.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "btree_check.h"
#include "debug.h"
#include "engine.h"
#include "hooks.h"
#include "interval_tree.h"
#include "set.h"
#include "slot.h"
#include "validate.h"

/* ---- one set ------------------------------------------------------------------ */

/* One slot reached through the gfn tree: its keys in every structure. */
static const char *ms_set_check_slot(const struct memslots_set *set, struct ms_slot *slot)
{
	if (!slot->pub.npages)
		return "a slot has no pages";
	if (slot->pub.base_gfn + slot->pub.npages < slot->pub.base_gfn)
		return "a slot's gfn range wraps";
	if (slot->pub.flags &
	    ~(MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY | MEMSLOT_GUEST_MEMFD | MEMSLOT_INVALID))
		return "a slot has unknown flag bits";
	if ((slot->pub.flags & MEMSLOT_GUEST_MEMFD) &&
	    (slot->pub.flags & (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)))
		return "a guest_memfd slot has LOG_DIRTY_PAGES or READONLY";
	if (!(slot->pub.flags & MEMSLOT_GUEST_MEMFD) &&
	    (slot->pub.guest_memfd_offset || slot->pub.guest_memfd))
		return "a slot without GUEST_MEMFD has guest_memfd fields";
	if (slot->hva_last != slot->pub.userspace_addr + (slot->pub.npages << set->page_shift) - 1)
		return "the interval of a slot's hva nodes differs from its host range";
	if (ms_set_find_id(set, slot->pub.id) != slot)
		return "a slot of the gfn tree is not found by its id";
	return NULL;
}

/* Every hva node belongs to a slot of the gfn tree (found by id). */
static const char *ms_set_check_hva_slots(const struct memslots_set *set)
{
	struct ms_slot *slot;

	for (slot = ms_set_hva_first(set, 0, UINT64_MAX); slot;
	     slot = ms_set_hva_next(set, slot, 0, UINT64_MAX))
		if (ms_set_find_id(set, slot->pub.id) != slot)
			return "an hva node's slot is not the set's slot of its id";
	return NULL;
}

/*
 * The slots in gfn order, each checked against the set (ms_set_check_slot)
 * and against the one before it; *@n and *@pages get their count and total.
 */
static const char *ms_set_check_order(const struct memslots_set *set, const struct ms_slot *slot,
				      const struct ms_slot *prev, size_t *n, uint64_t *pages)
{
	const char *why = ms_set_check_slot(set, (struct ms_slot *)slot);

	if (why)
		return why;
	if (prev && ms_slot_end(prev) > slot->pub.base_gfn)
		return "two slots' gfn ranges overlap";
	*pages += slot->pub.npages;
	(*n)++;
	return NULL;
}

/* The B+tree and the id table, and every slot through the leaves, O(n). */
static const char *ms_set_check_btree_index(const struct memslots_set *set, size_t *n,
					    uint64_t *pages)
{
	struct ms_slot *slot = NULL, *prev = NULL;
	struct ms_btree_cursor c;
	const char *why;

	if (ms_btree_check_shape(&set->gfn_tree))
		return "the gfn tree breaks a B+tree invariant";
	why = ms_idtab_check(&set->ids);
	if (why)
		return why;
	if (ms_btree_count(&set->gfn_tree) != set->count || set->ids.count != set->count)
		return "a structure's node count differs from the set's count";
	for (ms_btree_first(&set->gfn_tree, &c); ms_btree_cursor_valid(&c);
	     prev = slot, ms_btree_cursor_next(&c)) {
		slot = ms_btree_cursor_val(&c);
		if (!slot || ms_btree_cursor_key(&c) != slot->pub.base_gfn ||
		    ms_btree_cursor_end(&c) != ms_slot_end(slot))
			return "a gfn tree entry's range differs from its slot's";
		why = ms_set_check_order(set, slot, prev, n, pages);
		if (why)
			return why;
	}
	return NULL;
}

/*
 * KVM's red-black tree and id hash (their invariants and agreement,
 * kvm_index.h), the B+tree and id table left empty, and every slot in
 * tree order.
 */
static const char *ms_set_check_kvm_index(const struct memslots_set *set, size_t *n,
					  uint64_t *pages)
{
	const struct ms_slot *slot, *prev = NULL;
	const char *why;

	if (ms_btree_count(&set->gfn_tree) || set->ids.count)
		return "a KVM-index set has slots in the B+tree or the id table";
	why = ms_kvm_index_check(set->kvm_index, set->count);
	if (why)
		return why;
	for (slot = ms_kvm_index_first(set->kvm_index); slot;
	     prev = slot, slot = ms_kvm_index_walk_next(set->kvm_index, slot)) {
		why = ms_set_check_order(set, slot, prev, n, pages);
		if (why)
			return why;
	}
	return NULL;
}

const char *ms_set_validate(const struct memslots_set *set)
{
	struct ms_slot *last;
	size_t n_hva, n = 0;
	uint64_t pages = 0;
	const char *why;

	if (ms_itree_validate(&set->hva_tree, set->idx, &n_hva))
		return "the hva tree breaks an interval-tree invariant";
	if (n_hva != set->count)
		return "a structure's node count differs from the set's count";
	why = set->kvm ? ms_set_check_kvm_index(set, &n, &pages)
		       : ms_set_check_btree_index(set, &n, &pages);
	if (why)
		return why;
	if (n != set->count || pages != set->nr_pages)
		return "the count or the page total is wrong";
	why = ms_set_check_hva_slots(set);
	if (why)
		return why;
	last = ms_set_last_used(set);
	if (last && ms_set_find_id(set, last->pub.id) != last)
		return "the last-used slot is not a slot of the set";
	if (ms_attrmap_validate(&set->attrs))
		return "the attribute map has unsorted, overlapping or unmerged runs, or a node of "
		       "the word 0";
	return NULL;
}

const char *ms_set_check_replica(const struct memslots_set *a, const struct memslots_set *b)
{
	const struct ms_slot *x = ms_set_first(a), *y = ms_set_first(b);

	if (a->kvm != b->kvm)
		return "the two sets have different indexes";
	if (a->count != b->count || a->nr_pages != b->nr_pages)
		return "the two sets differ in count or page total";
	for (; x && y; x = ms_set_walk_next(a, x), y = ms_set_walk_next(b, y)) {
		if (x != y)
			return "the two sets hold different slots";
		if (x->pub.flags & MEMSLOT_INVALID)
			return "a slot is still INVALID between calls";
	}
	if (x || y)
		return "the two sets differ in length";
	return NULL;
}

/* ---- an object's two sets ------------------------------------------------------ */

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
		const struct ms_gmem_binding *b = ms_slot_gmem(slot);

		if (!(slot->pub.flags & MEMSLOT_GUEST_MEMFD))
			continue;
		n++;
		if (!b)
			return "a guest_memfd slot has no binding";
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

const char *ms_check_sets_locked(const struct memslots *ms)
{
	const struct memslots_set *active = atomic_load_explicit(&ms->active, memory_order_relaxed);
	const struct memslots_set *inactive;
	const char *why;

	if (active != &ms->sets[0] && active != &ms->sets[1])
		return "the active set is neither of the object's sets";
	inactive = active == &ms->sets[0] ? &ms->sets[1] : &ms->sets[0];
	why = ms_set_validate(active);
	if (!why)
		why = ms_set_validate(inactive);
	if (why)
		return why;
	if (active->generation != ms->generation)
		return "the active set is not the last one published";
	if (inactive->generation >= active->generation)
		return "the inactive set was published after the active one";
	if (ms_set_last_used(inactive))
		return "the inactive set remembers a last-used slot";
	why = ms_set_check_replica(active, inactive);
	if (!why)
		why = ms_check_gmem_index(ms, active);
	if (!why)
		why = ms_check_dirty(ms, active);
	if (!why)
		why = ms_check_attributes(ms, active, inactive);
	return why;
}

/* ---- the debug entry points (debug.h) ------------------------------------------ */

/* debug.h's convention over validate.h's: -EINVAL and the sentence, or 0. */
static int ms_check_fail(const char **reason, const char *why)
{
	if (!why)
		return 0;
	if (reason)
		*reason = why;
	return -EINVAL;
}

int memslots__check_set(const struct memslots_set *set, const char **reason)
{
	if (!set)
		return ms_check_fail(reason, "no set");
	return ms_check_fail(reason, ms_set_validate(set));
}

int memslots__check_sets(struct memslots *ms, const char **reason)
{
	const char *why;

	if (!ms)
		return ms_check_fail(reason, "no object");
	if (ms_writer_check(ms)) {
		if (reason)
			*reason = "called from a hook or a read-side section";
		return -EDEADLK;
	}
	pthread_mutex_lock(&ms->lock);
	why = ms_check_sets_locked(ms);
	pthread_mutex_unlock(&ms->lock);
	return ms_check_fail(reason, why);
}
