/* SPDX-License-Identifier: MIT */
/*
 * One memslot set: a gfn red-black tree, an hva interval tree, an id hash,
 * counters and a last-used-slot cache.  A struct memslots owns two; slots
 * are linked into set i through their node[i] members.
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

#include "idhash.h"
#include "rbtree.h"
#include "slot.h"

struct memslots_set {
	struct ms_rb_root_cached gfn_tree; /* by base_gfn; ranges never overlap */
	struct ms_rb_root_cached hva_tree; /* by [hva, hva_last]; may overlap */
	struct ms_hash id_hash;		   /* by id */
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

/* Slot in this set, from its node; NULL-safe. */
struct ms_slot *ms_set_slot_of_gfn_node(const struct memslots_set *set,
					const struct ms_rb_node *node);

/* Changes (inactive set only).  Insert and remove never allocate; the id
 * hash may exceed its load bound until ms_hash_* resizes it. */
void ms_set_insert(struct memslots_set *set, struct ms_slot *slot);
void ms_set_remove(struct memslots_set *set, struct ms_slot *slot);
/* @new takes @old's place: same base_gfn, npages, userspace_addr and id. */
void ms_set_replace(struct memslots_set *set, struct ms_slot *old, struct ms_slot *new);
/* Forgets the last-used slot; called before changing an inactive set. */
void ms_set_forget_last_used(struct memslots_set *set);

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

/* Whether [gfn, gfn + npages) overlaps a slot other than @ignore. O(log n). */
bool ms_set_overlaps(const struct memslots_set *set, uint64_t gfn, uint64_t npages,
		     const struct ms_slot *ignore);

#endif /* MS_SET_H */
