/* SPDX-License-Identifier: MIT */
/*
 * One memslot set: a gfn and id index, an hva interval tree, counters, a
 * last-used-slot cache, and the memory-attribute map.  The index is one of
 * two, chosen per object (the config's index): the library's, a gfn
 * B+tree (btree.h) and an id table (idtable.h), or KVM's, a gfn red-black
 * tree and an id hash (kvm_index.h).  A struct memslots owns two; slots are linked into
 * set i's hva tree through their hva_node[i] members, and each set's
 * B+tree and id table have their own memory pointing at the slots.  Slot
 * objects are shared by the two sets; attribute runs are not: each set's
 * map has nodes of its own, and the writer makes every change to both
 * maps, one after the other, as it does for slots.
 *
 * Concurrency: a set is either published (active: readers walk it, nobody
 * changes it) or inactive
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
#include "kvm_index.h"
#include "slot.h"

struct memslots_set {
	/*
	 * Which index: false for the B+tree and id table, true for KVM's
	 * (then gfn_tree and ids stay empty, kvm holds the slots).  First,
	 * on the line of the B+tree's root, so that the readers' one branch
	 * on it costs no extra cache line.
	 */
	bool kvm;
	struct ms_btree gfn_tree;	   /* base_gfn -> slot; ranges never overlap */
	struct ms_rb_root_cached hva_tree; /* by [hva, hva_last]; may overlap */
	struct ms_attrmap attrs;	   /* the attribute word of every gfn */
	uint64_t generation;		   /* set when published; never 0 once published */
	/* Unique in the process: a new one at every publication and at
	 * ms_set_init() (ms_set_stamp()).  What a reader's per-thread hint
	 * (read.c) is keyed by: an equal stamp is this set, unchanged. */
	uint64_t stamp;
	uint64_t nr_pages;
	size_t count;
	unsigned int idx;	       /* which node[] of a slot belongs to this set */
	unsigned int page_shift;       /* copied from the config, for readers */
	struct ms_idtab ids;	       /* by id */
	/* KVM's gfn tree and id hash, allocated for a KVM-index object only
	 * (its 128 buckets per set would be most of a small default object). */
	struct ms_kvm_index *kvm_index;
	/*
	 * A last-used slot: readers keep theirs per thread now (read.c), so
	 * nothing but the writer stores here; it stays a line away from the
	 * read-mostly fields above.
	 */
	char pad[MS_CACHELINE];
	_Atomic(struct ms_slot *) last_used;
};

/* An empty set with the KVM index when @kvm, else the B+tree's; 0, or
 * -ENOMEM when the KVM index's allocation fails (nothing to undo then). */
int ms_set_init(struct memslots_set *set, unsigned int idx, unsigned int page_shift, bool kvm,
		const struct ms_alloc *alloc);
void ms_set_destroy(struct memslots_set *set);

/*
 * The reservation protocol, the same for every structure of a set (and
 * for the slot copies, slot.h, and the attribute runs, attrmap.h):
 *
 *   reserve  before a call publishes anything: puts aside, all or nothing
 *            (-ENOMEM, the set as it was), what the changes that follow
 *            will take.  Allowed on a published set: what is put aside is
 *            never where readers look.
 *   insert, remove, replace
 *            (inactive set only) never fail and never allocate: they take
 *            from what was put aside and give back to it.
 *   settle   at the end of the call: gives back what is put aside.
 *
 * The gfn B+tree puts nodes aside (its pool), the id table a larger table
 * (its spare); the hva tree, the binding index and KVM's index need nothing:
 * their nodes are in the slot or, for a binding, the slot's own memory
 * (which the call reserves with its copies, slot.h and update.c).
 *
 * The index interface: every index implements insert, remove, replace
 * (below), lookup, search, find_id, first, next (the readers', further
 * down), reserve and settle; the set picks the implementation with one
 * branch on set->kvm, the B+tree's first, every function inline for the
 * readers (no indirect call on their hot path).
 */

/*
 * Puts aside the gfn B+tree nodes that the next @nr_inserts inserts into
 * @set can take, with any removes and replaces between them (not
 * cumulative: from now on).  Any set.
 */
int ms_set_reserve_inserts(struct memslots_set *set, size_t nr_inserts);
/* Counts one more insert, of a slot of @id, and puts aside the larger id
 * table the call's inserts may need.  Any set. */
int ms_set_reserve_id(struct memslots_set *set, uint16_t id);

void ms_set_insert(struct memslots_set *set, struct ms_slot *slot);
void ms_set_remove(struct memslots_set *set, struct ms_slot *slot);
/* @new takes @old's place: same base_gfn, npages, userspace_addr and id. */
void ms_set_replace(struct memslots_set *set, struct ms_slot *old, struct ms_slot *new);
/* Gives @set a stamp no set of the process had: before it is published. */
void ms_set_stamp(struct memslots_set *set);
/* Forgets the last-used slot; called once readers have left the set. */
void ms_set_forget_last_used(struct memslots_set *set);

/* What a set held when a call began: a failed call settles back to it. */
struct ms_set_mark {
	size_t nodes; /* gfn B+tree nodes, in the tree and put aside */
};

void ms_set_mark(const struct memslots_set *set, struct ms_set_mark *mark);
/*
 * Gives back what @set has put aside: the id table's spare and old tables
 * (a failed call's grown table given up for the one it found), and the gfn
 * tree's nodes down to one insert's worth (a lone create then allocates
 * nothing) or, for a failed call (@found not NULL), down to the nodes tree
 * and pool held at @found (an undone change need not leave the tree in its
 * old shape; the nodes it gave up are ones the call found): a failed call
 * leaves the memory it found.  Any set: readers never look at what is put
 * aside.
 */
void ms_set_settle(struct memslots_set *set, const struct ms_set_mark *found);

/* Frees every slot of @set (memslots_free: both sets hold the same ones). */
void ms_set_free_slots(struct memslots_set *set, const struct ms_alloc *alloc);

/*
 * Lookups (any set).  Inline: they are the readers' hot path, and the
 * library is built without LTO.
 */

static inline struct ms_slot *ms_set_find_id(const struct memslots_set *set, uint32_t id)
{
	if (ms_likely(!set->kvm))
		return ms_idtab_find(&set->ids, (uint16_t)id);
	return ms_kvm_index_find_id(set->kvm_index, (uint16_t)id);
}

/*
 * Starts loading what ms_set_find_id() of @id reads first, for a writer
 * about to look up many ids one after the other (a batch over every
 * slot): the id table's bucket.  The KVM index's chains are walked, not
 * prefetched.
 */
static inline void ms_set_prefetch_id(const struct memslots_set *set, uint32_t id)
{
	if (ms_likely(!set->kvm))
		ms_idtab_prefetch(&set->ids, (uint16_t)id);
}

/* The slot holding @gfn, or NULL: the readers' hot path. */
static inline struct ms_slot *ms_set_lookup(const struct memslots_set *set, uint64_t gfn)
{
	if (ms_likely(!set->kvm))
		return ms_btree_lookup(&set->gfn_tree, gfn);
	return ms_kvm_index_find(set->kvm_index, gfn);
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
	if (ms_likely(!set->kvm))
		return ms_btree_search(&set->gfn_tree, gfn, (void **)below, (void **)above);
	return ms_kvm_index_search(set->kvm_index, gfn, below, above);
}

/* Ascending base_gfn; NULL after the last. */
static inline struct ms_slot *ms_set_first(const struct memslots_set *set)
{
	struct ms_btree_cursor c;

	if (ms_unlikely(set->kvm))
		return ms_kvm_index_first(set->kvm_index);
	ms_btree_first(&set->gfn_tree, &c);
	return ms_btree_cursor_valid(&c) ? ms_btree_cursor_val(&c) : NULL;
}

/* The slot after @slot in base_gfn order: a descent, O(log n). */
static inline struct ms_slot *ms_set_next(const struct memslots_set *set,
					  const struct ms_slot *slot)
{
	struct ms_btree_cursor c;

	if (ms_unlikely(set->kvm))
		return ms_kvm_index_next(set->kvm_index, slot);
	ms_btree_seek_gt(&set->gfn_tree, slot->pub.base_gfn, &c);
	return ms_btree_cursor_valid(&c) ? ms_btree_cursor_val(&c) : NULL;
}

/* The slots whose host range meets [start, last], in no given order. */
static inline struct ms_slot *ms_set_hva_first(const struct memslots_set *set, uint64_t start,
					       uint64_t last)
{
	return ms_itree_iter_first(&set->hva_tree, set->idx, start, last);
}

static inline struct ms_slot *ms_set_hva_next(const struct memslots_set *set,
					      const struct ms_slot *slot, uint64_t start,
					      uint64_t last)
{
	return ms_itree_iter_next(slot, set->idx, start, last);
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

/*
 * The slot after @slot, which is in @set, for the walks of the writer and
 * the checks: the B+tree's descent, the red-black tree's in-order step.
 */
static inline struct ms_slot *ms_set_walk_next(const struct memslots_set *set,
					       const struct ms_slot *slot)
{
	if (ms_unlikely(set->kvm))
		return ms_kvm_index_walk_next(set->kvm_index, slot);
	return ms_set_next(set, slot);
}

/* The lowest id of [@first, @last] no slot of @set has, or -1.  Any set. */
int ms_set_lowest_free_id(const struct memslots_set *set, unsigned int first, unsigned int last);

/* Whether [gfn, gfn + npages) overlaps a slot other than @ignore. O(log n). */
bool ms_set_overlaps(const struct memslots_set *set, uint64_t gfn, uint64_t npages,
		     const struct ms_slot *ignore);

#endif /* MS_SET_H */
