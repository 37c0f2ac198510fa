/* SPDX-License-Identifier: MIT */
/*
 * One memslot set: a gfn red-black tree, an hva interval tree, an id hash,
 * counters, a last-used-slot cache, and the memory-attribute map.  A
 * struct memslots owns two; slots are linked into set i through their
 * node[i] members.  Slot objects are shared by the two sets; attribute
 * runs are not: each set's map has nodes of its own, and the writer makes
 * every change to both maps, one after the other, as it does for slots.
 *
 * Concurrency: a set is either published (active: readers walk it, nobody
 * changes it, except readers updating last_used atomically) or inactive
 * (only the writer touches it, under the writer mutex, after a grace
 * period has flushed the readers that saw it active).  Every function here
 * that changes a set must only be called on an inactive set.
 */
#ifndef MS_SET_H
#define MS_SET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "attrmap.h"
#include "idhash.h"
#include "interval_tree.h"
#include "rbtree.h"
#include "slot.h"

struct memslots_set {
	struct ms_rb_root_cached gfn_tree; /* by base_gfn; ranges never overlap */
	struct ms_rb_root_cached hva_tree; /* by [hva, hva_last]; may overlap */
	struct ms_hash id_hash;		   /* by id */
	struct ms_attrmap attrs;	   /* the attribute word of every gfn */
	uint64_t generation;		   /* set when published; never 0 once published */
	uint64_t nr_pages;
	size_t count;
	unsigned int idx;	 /* which node[] of a slot belongs to this set */
	unsigned int page_shift; /* copied from the config, for readers */
	/*
	 * Readers store to last_used on every miss: keep it a cache line away
	 * from the read-mostly fields above so those are not bounced between
	 * vCPU threads.
	 */
	char pad[MS_CACHELINE];
	_Atomic(struct ms_slot *) last_used;
};

int ms_set_init(struct memslots_set *set, unsigned int idx, unsigned int page_shift,
		const struct ms_alloc *alloc);
void ms_set_destroy(struct memslots_set *set);

/* Changes (inactive set only).  Insert and remove never allocate; the id
 * hash may exceed its load bound until ms_hash_* resizes it. */
void ms_set_insert(struct memslots_set *set, struct ms_slot *slot);
void ms_set_remove(struct memslots_set *set, struct ms_slot *slot);
/* @new takes @old's place: same base_gfn, npages, userspace_addr and id. */
void ms_set_replace(struct memslots_set *set, struct ms_slot *old, struct ms_slot *new);
/* Forgets the last-used slot; called before changing an inactive set. */
void ms_set_forget_last_used(struct memslots_set *set);

/*
 * Room for more slots.  Inserting never allocates, so a writer makes room
 * before it changes anything: on the inactive set at once
 * (ms_set_reserve), on the published one off to the side
 * (ms_set_plan_growth), installed once that set is inactive
 * (ms_set_commit_growth) or thrown away (ms_set_cancel_growth).
 */
struct ms_set_growth {
	struct ms_hash_resize id_hash;
};

/* Grows @set (inactive) so that @count slots fit; -ENOMEM, set unchanged. */
int ms_set_reserve(struct memslots_set *set, size_t count);
/* Makes @g hold what @set needs to take @count slots; keeps a plan that is
 * big enough already; -ENOMEM with @g as it was. */
int ms_set_plan_growth(const struct memslots_set *set, size_t count, struct ms_set_growth *g);
/* Installs @g into @set, now inactive; then @g is empty.  Cannot fail. */
void ms_set_commit_growth(struct memslots_set *set, struct ms_set_growth *g);
void ms_set_cancel_growth(const struct memslots_set *set, struct ms_set_growth *g);
/*
 * Called on the inactive set at the start and the end of a writer call:
 * forgets the last-used slot and gives back memory a smaller count no
 * longer needs (best effort).
 */
void ms_set_settle(struct memslots_set *set);

/* Frees every slot of @set (memslots_free: both sets hold the same ones). */
void ms_set_free_slots(struct memslots_set *set, const struct ms_alloc *alloc);

/*
 * Checks every invariant of @set: each slot present in the gfn tree, the
 * hva tree and the id hash with matching keys, the counts and the page
 * total, the red-black and interval-tree invariants, no two gfn ranges
 * overlapping, the id hash within its load bound, last_used being a slot
 * of the set, and the attribute map's invariants (sorted, disjoint,
 * maximal runs: no two touching runs with the same word).  0 or -EINVAL with *@reason (if not NULL) saying what
 * is wrong.  O(n); reads only (a published set may be checked).
 */
int ms_set_validate(const struct memslots_set *set, const char **reason);

/*
 * Lookups (any set).  Inline: they are the readers' hot path, and the
 * library is built without LTO.
 */

static inline struct ms_slot *ms_set_find_id(const struct memslots_set *set, uint32_t id)
{
	struct ms_hnode *n = ms_hash_find_inline(&set->id_hash, id);

	return n ? ms_slot_from_id(n, set->idx) : NULL;
}

/*
 * Descends the gfn tree for @gfn and returns the slot holding it, or NULL.
 * Slots never overlap, so the holder is also the slot with the largest
 * base_gfn <= gfn, and the descent stops there: the levels it skips are
 * the deepest, least cached ones.  When no slot holds gfn, *below gets the
 * slot with the largest base_gfn < gfn and *above the one with the
 * smallest base_gfn > gfn (either may be NULL); when one does, *below is
 * that slot and *above is left alone.  Pass NULL for what you don't need.
 */
static inline struct ms_slot *ms_set_search(const struct memslots_set *set, uint64_t gfn,
					    struct ms_slot **below, struct ms_slot **above)
{
	const struct ms_rb_node *n = set->gfn_tree.root.node;
	const struct ms_rb_node *lo = NULL, *hi = NULL;

	while (n) {
		const struct ms_gfn_node *g = ms_container_of(n, struct ms_gfn_node, rb);

		if (gfn < g->base_gfn) {
			hi = n;
			n = n->left;
		} else if (gfn - g->base_gfn < g->npages) {
			struct ms_slot *slot = ms_slot_from_gfn(n, set->idx);

			if (below)
				*below = slot;
			return slot;
		} else {
			lo = n;
			n = n->right;
		}
	}
	if (below)
		*below = lo ? ms_slot_from_gfn(lo, set->idx) : NULL;
	if (above)
		*above = hi ? ms_slot_from_gfn(hi, set->idx) : NULL;
	return NULL;
}

/* Ascending base_gfn; NULL after the last. */
static inline struct ms_slot *ms_set_first(const struct memslots_set *set)
{
	const struct ms_rb_node *n = ms_rb_first_cached(&set->gfn_tree);

	return n ? ms_slot_from_gfn(n, set->idx) : NULL;
}

static inline struct ms_slot *ms_set_next(const struct memslots_set *set, struct ms_slot *slot)
{
	const struct ms_rb_node *n = ms_rb_next(&ms_slot_gfn(slot, set->idx)->rb);

	return n ? ms_slot_from_gfn(n, set->idx) : NULL;
}

/* The slots whose host range meets [start, last], in no given order. */
static inline struct ms_slot *ms_set_hva_first(const struct memslots_set *set, uint64_t start,
					       uint64_t last)
{
	const struct ms_itree_node *n = ms_itree_iter_first(&set->hva_tree, start, last);

	return n ? ms_slot_from_hva(n, set->idx) : NULL;
}

static inline struct ms_slot *ms_set_hva_next(const struct memslots_set *set,
					      const struct ms_slot *slot, uint64_t start,
					      uint64_t last)
{
	const struct ms_itree_node *n = ms_itree_iter_next(&slot->hva_node[set->idx], start, last);

	return n ? ms_slot_from_hva(n, set->idx) : NULL;
}

/* The last-used slot: the one field readers write (atomically, relaxed);
 * the set is otherwise read-only to them. */
static inline struct ms_slot *ms_set_last_used(const struct memslots_set *set)
{
	struct memslots_set *s = (struct memslots_set *)set;

	return atomic_load_explicit(&s->last_used, memory_order_relaxed);
}

static inline void ms_set_note_used(const struct memslots_set *set, struct ms_slot *slot)
{
	struct memslots_set *s = (struct memslots_set *)set;

	atomic_store_explicit(&s->last_used, slot, memory_order_relaxed);
}

/* Whether [gfn, gfn + npages) overlaps a slot other than @ignore. O(log n). */
bool ms_set_overlaps(const struct memslots_set *set, uint64_t gfn, uint64_t npages,
		     const struct ms_slot *ignore);

#endif /* MS_SET_H */
