/* SPDX-License-Identifier: MIT */
/*
 * One memslot set: a gfn B+tree (btree.h), an hva interval tree, an id
 * table (idtable.h), counters, a last-used-slot cache, and the
 * memory-attribute map.  A struct memslots owns two; slots are linked into
 * set i's hva tree through their hva_node[i] members, and each set's
 * B+tree and id table have their own memory pointing at the slots.  Slot
 * objects are shared by the two sets; attribute runs are not: each set's
 * map has nodes of its own, and the writer makes every change to both
 * maps, one after the other, as it does for slots.
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
#include "btree.h"
#include "idtable.h"
#include "interval_tree.h"
#include "slot.h"

struct memslots_set {
	struct ms_btree gfn_tree;	   /* base_gfn -> slot; ranges never overlap */
	struct ms_rb_root_cached hva_tree; /* by [hva, hva_last]; may overlap */
	struct ms_attrmap attrs;		   /* the attribute word of every gfn */
	uint64_t generation;		   /* set when published; never 0 once published */
	uint64_t nr_pages;
	size_t count;
	unsigned int idx;	 /* which node[] of a slot belongs to this set */
	unsigned int page_shift; /* copied from the config, for readers */
	struct ms_idtab ids;	 /* by id */
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

/* Changes (inactive set only).  Insert and remove never allocate: inserts
 * take their B+tree nodes from what ms_set_reserve_inserts() put aside and
 * their id table chunk from ms_set_reserve(). */
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
	struct ms_idtab_plan ids;
};

/*
 * Puts aside the gfn B+tree nodes that the next @nr_inserts inserts into
 * @set can take, with any removes and replaces between them.  Allowed on a
 * published set too: it only fills the tree's private pool, which readers
 * never look at.  0, or -ENOMEM with the set as it was.
 */
int ms_set_reserve_inserts(struct memslots_set *set, size_t nr_inserts);
/* Gives back the put-aside nodes an insert no longer needs (any set). */
void ms_set_trim_reserve(struct memslots_set *set);

/* Grows @set (inactive) so that a slot of @id fits; -ENOMEM, set unchanged. */
int ms_set_reserve(struct memslots_set *set, uint16_t id);
/* Makes @g hold what @set needs to take a slot of @id as well; -ENOMEM
 * with @g as it was. */
int ms_set_plan_growth(const struct memslots_set *set, uint16_t id, struct ms_set_growth *g);
/* Installs @g into @set, now inactive; then @g is empty.  Cannot fail. */
void ms_set_commit_growth(struct memslots_set *set, struct ms_set_growth *g);
void ms_set_cancel_growth(const struct memslots_set *set, struct ms_set_growth *g);
/*
 * Called on the inactive set at the start and the end of a writer call:
 * forgets the last-used slot and gives back memory a smaller count no
 * longer needs (best effort), the B+tree nodes put aside included.
 */
void ms_set_settle(struct memslots_set *set);
/* B+tree nodes of @set, in the tree and put aside (any set). */
size_t ms_set_tree_nodes(const struct memslots_set *set);
/* Frees put-aside nodes until @set's tree and pool hold at most @nodes
 * (any set: readers never look at the pool). */
void ms_set_trim_nodes(struct memslots_set *set, size_t nodes);
/* As ms_set_settle(), the put-aside nodes trimmed to ms_set_trim_nodes(),
 * for a failed call: it leaves the memory it found. */
void ms_set_settle_to(struct memslots_set *set, size_t nodes);

/* Frees every slot of @set (memslots_free: both sets hold the same ones). */
void ms_set_free_slots(struct memslots_set *set, const struct ms_alloc *alloc);

/*
 * Checks every invariant of @set: each slot present in the gfn tree, the
 * hva tree and the id table with matching keys, the counts and the page
 * total, the B+tree's and the interval tree's invariants, no two gfn ranges
 * overlapping, the id table's counts, last_used being a slot of the set,
 * and the attribute map's invariants (sorted, disjoint, maximal runs: no
 * two touching runs with the same word).  0 or -EINVAL with *@reason (if
 * not NULL) saying what
 * is wrong.  O(n); reads only (a published set may be checked).
 */
int ms_set_validate(const struct memslots_set *set, const char **reason);

/*
 * Lookups (any set).  Inline: they are the readers' hot path, and the
 * library is built without LTO.
 */

static inline struct ms_slot *ms_set_find_id(const struct memslots_set *set, uint32_t id)
{
	return ms_idtab_find(&set->ids, (uint16_t)id);
}

/* The slot holding @gfn, or NULL: the readers' hot path. */
static inline struct ms_slot *ms_set_lookup(const struct memslots_set *set, uint64_t gfn)
{
	return ms_btree_lookup(&set->gfn_tree, gfn);
}

/*
 * The slot holding @gfn, or NULL; and, when not NULL, in *below the slot
 * with the largest base_gfn <= gfn and in *above the one with the smallest
 * base_gfn > gfn (either may be NULL).  Asking for @above may read one more
 * leaf.
 */
static inline struct ms_slot *ms_set_search(const struct memslots_set *set, uint64_t gfn,
					    struct ms_slot **below, struct ms_slot **above)
{
	return ms_btree_search(&set->gfn_tree, gfn, (void **)below, (void **)above);
}

/* Ascending base_gfn; NULL after the last. */
static inline struct ms_slot *ms_set_first(const struct memslots_set *set)
{
	struct ms_btree_cursor c;

	ms_btree_first(&set->gfn_tree, &c);
	return ms_btree_cursor_valid(&c) ? ms_btree_cursor_val(&c) : NULL;
}

/* The slot after @slot in base_gfn order: a descent, O(log n). */
static inline struct ms_slot *ms_set_next(const struct memslots_set *set,
					  const struct ms_slot *slot)
{
	struct ms_btree_cursor c;

	ms_btree_seek_gt(&set->gfn_tree, slot->pub.base_gfn, &c);
	return ms_btree_cursor_valid(&c) ? ms_btree_cursor_val(&c) : NULL;
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
