/* SPDX-License-Identifier: MIT */
/*
 * MEMSLOTS_INDEX_KVM: one set's gfn and id index as KVM keeps them since
 * Linux 5.17 (struct kvm_memslots): the slots in an intrusive red-black
 * tree by base gfn (kvm_gfn_tree.h) and in a hash of 128 intrusive chains
 * by id (kvm_id_hash.h).  The hva interval tree, the counters, the
 * attribute map and the last-used slot are the set's, whatever its index
 * (set.h).
 *
 * Slots.  The nodes of both structures are in the slot, one per set
 * (node[2], as in KVM), in a tail that only an object with this index
 * allocates: struct ms_kvm_slot.  A default-index slot is a plain struct
 * ms_slot and does not grow.
 *
 * Costs are KVM's: a gfn lookup is one descent of the red-black tree, an
 * id lookup a walk of one chain, an insert or remove O(log n) with
 * rebalancing, and a replace in place (the INVALID copy of a DELETE or
 * MOVE, a FLAGS_ONLY change) O(1) in both structures, as KVM's
 * rb_replace_node() and hlist_replace_rcu().  Nothing is put aside: every
 * node is in a slot, so the index's part of the reservation protocol
 * (set.h) is empty.
 *
 * Locking: as the set's.  Readers (find, search, find_id, first, next,
 * overlaps, lowest_free, check) only load; writers (init, insert, remove,
 * replace) run under the writer lock on an inactive set.
 */
#ifndef MS_KVM_INDEX_H
#define MS_KVM_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "kvm_gfn_tree.h"
#include "kvm_id_hash.h"
#include "slot.h"

struct ms_kvm_slot {
	struct ms_slot slot;
	struct ms_gfn_node gfn_node[2];
	struct ms_id_hnode id_node[2];
};

struct ms_kvm_index {
	struct ms_gfn_tree gfn;
	struct ms_id_hash ids;
	unsigned int idx; /* which node[] of a slot this index links through */
};

static inline struct ms_kvm_slot *ms_kvm_slot(const struct ms_slot *s)
{
	return ms_container_of(s, struct ms_kvm_slot, slot);
}

static inline struct ms_slot *ms_kvm_slot_of_gfn(const struct ms_gfn_node *n, unsigned int idx)
{
	return &ms_gfn_entry(n, idx, struct ms_kvm_slot, gfn_node)->slot;
}

static inline struct ms_slot *ms_kvm_slot_of_id(const struct ms_id_hnode *n, unsigned int idx)
{
	return &ms_id_hash_entry(n, idx, struct ms_kvm_slot, id_node)->slot;
}

static inline struct ms_gfn_node *ms_kvm_gfn_node(const struct ms_kvm_index *ki,
						  const struct ms_slot *s)
{
	return &ms_kvm_slot(s)->gfn_node[ki->idx];
}

static inline struct ms_id_hnode *ms_kvm_id_node(const struct ms_kvm_index *ki,
						 const struct ms_slot *s)
{
	return &ms_kvm_slot(s)->id_node[ki->idx];
}

/* ---- writers ---------------------------------------------------------------- */

/* An empty index linking through node[@idx].  Never fails. */
void ms_kvm_index_init(struct ms_kvm_index *ki, unsigned int idx);
/* @slot, a struct ms_kvm_slot in neither structure, whose range and id are
 * free (the caller checked): cannot fail. */
void ms_kvm_index_insert(struct ms_kvm_index *ki, struct ms_slot *slot);
void ms_kvm_index_remove(struct ms_kvm_index *ki, struct ms_slot *slot);
/* @new takes @old's place in both structures, O(1): same base, npages, id. */
void ms_kvm_index_replace(struct ms_kvm_index *ki, struct ms_slot *old, struct ms_slot *new);

/*
 * Frees every slot of the index (memslots_free: both sets hold the same
 * ones) and leaves it empty.  Through the hash chains, whose next link is
 * read before its node is freed: an in-order walk of the red-black tree
 * would climb through parents it has already freed.
 */
void ms_kvm_index_free_slots(struct ms_kvm_index *ki, const struct ms_alloc *alloc);

/* ---- readers ---------------------------------------------------------------- */

/* The slot holding @gfn, or NULL: one descent (KVM's search_memslots()). */
struct ms_slot *ms_kvm_index_find(const struct ms_kvm_index *ki, uint64_t gfn);
/* As ms_set_search() (set.h): the slot holding @gfn and its neighbours. */
struct ms_slot *ms_kvm_index_search(const struct ms_kvm_index *ki, uint64_t gfn,
				    struct ms_slot **below, struct ms_slot **above);
/* The slot of @id, or NULL: a walk of its chain (KVM's id_to_memslot()). */
struct ms_slot *ms_kvm_index_find_id(const struct ms_kvm_index *ki, uint16_t id);

static inline struct ms_slot *ms_kvm_index_first(const struct ms_kvm_index *ki)
{
	struct ms_gfn_node *n = ms_gfn_tree_first(&ki->gfn);

	return n ? ms_kvm_slot_of_gfn(n, ki->idx) : NULL;
}

/*
 * The slot after @slot in base order, @slot being any slot (of this set
 * or not, as memslots_next() allows): a descent by its base gfn.
 */
struct ms_slot *ms_kvm_index_next(const struct ms_kvm_index *ki, const struct ms_slot *slot);
/* The slot after @slot, which is in this index: the in-order successor,
 * O(1) amortised over a walk (the writer's and the checks' walks). */
struct ms_slot *ms_kvm_index_walk_next(const struct ms_kvm_index *ki, const struct ms_slot *slot);

/* Whether a slot other than @ignore (may be NULL) meets [@start, @end). */
bool ms_kvm_index_overlaps(const struct ms_kvm_index *ki, uint64_t start, uint64_t end,
			   const struct ms_slot *ignore);
/* The lowest id of [@first, @last] no slot has, or -1: one chain walk per
 * id tried, as a VMM over KVM's structures would pay. */
int ms_kvm_index_lowest_free(const struct ms_kvm_index *ki, unsigned int first, unsigned int last);

/*
 * Both structures' invariants (red-black colours and black height, the
 * chains' links and buckets) and their agreement: the same slots in the
 * tree and in the hash, each found in the other by its key, the counts
 * equal to @count.  NULL or a static description of the first fault.
 * O(n log n).
 */
const char *ms_kvm_index_check(const struct ms_kvm_index *ki, size_t count);

#endif /* MS_KVM_INDEX_H */
