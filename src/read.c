/* SPDX-License-Identifier: MIT */
/*
 * The read path: lookups, iteration, range queries and the two caches
 * (each thread's last-used slot, and the caller's per-thread struct
 * memslots_cache).
 *
 * Locking: every function here runs inside a read-side section
 * (memslots_read_lock) on the set it returned, or on a set no writer can
 * change; they take no lock and never block.  They store only to the
 * calling thread's own hint (below) and to the caller's cache.
 */
#include <stdbool.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "compiler.h"
#include "set.h"
#include "slot.h"

/*
 * This thread's hint: the last slot it found by gfn, and where its last
 * step of an in-order walk stopped in the gfn B+tree, both in one set in
 * one published state.  KVM keeps a last-used slot per vCPU for the same
 * reason: a shared one is written on every miss, and two vCPUs missing at
 * once bounce its line between their cores.  Per thread, the hint also
 * makes the B+tree's "next" a step instead of a descent.
 *
 * A hint is trusted only while the set's stamp is the one it was taken
 * with: a set gets a stamp no set of the process ever had at each
 * publication (and at its creation), so an equal stamp means the same
 * set, unchanged since (a published set never changes, and the caller is
 * in a read-side section on it): its slot and leaf are alive.  One
 * compare, as cheap as a shared last-used slot's load.
 *
 * Initial-exec TLS: a few loads from the thread pointer, not a call to
 * __tls_get_addr() per lookup; the hint is 32 bytes of the static TLS
 * block.
 */
struct ms_read_hint {
	uint64_t stamp;			  /* of the set the hint is about; 0: none */
	struct ms_slot *last_used;	  /* found by gfn; NULL for none */
	const struct ms_btree_leaf *leaf; /* the walk's position; NULL for none */
	unsigned int idx;
};

static _Thread_local struct ms_read_hint ms_hint __attribute__((tls_model("initial-exec")));

static inline bool ms_hint_for(const struct memslots_set *set)
{
	return ms_hint.stamp == set->stamp;
}

/* Makes the hint @set's, forgetting what it held about another state. */
static void ms_hint_take(const struct memslots_set *set)
{
	if (ms_hint_for(set))
		return;
	ms_hint.stamp = set->stamp;
	ms_hint.last_used = NULL;
	ms_hint.leaf = NULL;
}

/*
 * KVM's index keeps KVM's costs: __gfn_to_memslot() tries the set's
 * last-used slot, one for all readers, and stores there every slot its
 * lookup finds (struct kvm_memslots' last_used_slot).  The per-thread hint
 * is the library's index's own; on a KVM set it is never taken, so the
 * fast path above always falls through to here.
 */
static const struct memslot *ms_find_gfn_kvm(const struct memslots_set *set, uint64_t gfn)
{
	struct ms_slot *slot = ms_set_last_used(set);

	if (slot && ms_slot_holds(slot, gfn))
		return &slot->pub;
	slot = ms_set_lookup(set, gfn);
	if (!slot)
		return NULL;
	ms_set_note_used(set, slot);
	return &slot->pub;
}

static MS_NOIPA const struct memslot *ms_find_gfn_slow(const struct memslots_set *set, uint64_t gfn)
{
	struct ms_slot *slot;

	if (ms_unlikely(!set))
		return NULL;
	if (ms_unlikely(set->kvm))
		return ms_find_gfn_kvm(set, gfn);
	slot = ms_set_lookup(set, gfn);
	if (!slot)
		return NULL;
	ms_hint_take(set);
	ms_hint.last_used = slot;
	return &slot->pub;
}

MEMSLOTS_API const struct memslot *memslots_find_gfn(const struct memslots_set *set, uint64_t gfn)
{
	/* The hit: no prologue, the slow path is a tail call. */
	if (ms_likely(set && ms_hint_for(set))) {
		struct ms_slot *slot = ms_hint.last_used;

		if (slot && ms_slot_holds(slot, gfn))
			return &slot->pub;
	}
	return ms_find_gfn_slow(set, gfn);
}

MEMSLOTS_API const struct memslot *memslots_find_gfn_approx(const struct memslots_set *set,
							    uint64_t gfn)
{
	struct ms_slot *slot, *below, *above;

	if (ms_unlikely(!set))
		return NULL;
	slot = ms_set_search(set, gfn, &below, &above);
	if (slot)
		return &slot->pub;
	slot = below ? below : above;
	return slot ? &slot->pub : NULL;
}

MEMSLOTS_API const struct memslot *memslots_find_id(const struct memslots_set *set, uint16_t id)
{
	struct ms_slot *slot;

	if (ms_unlikely(!set))
		return NULL;
	slot = ms_set_find_id(set, id);
	return slot ? &slot->pub : NULL;
}

static MS_NOIPA const struct memslot *
ms_find_gfn_cached_slow(const struct memslots_set *set, struct memslots_cache *cache, uint64_t gfn)
{
	struct ms_slot *found;

	if (ms_unlikely(!set))
		return NULL;
	if (ms_unlikely(!cache))
		return memslots_find_gfn(set, gfn);
	/* Per-thread by design: the caller's cache is this thread's hint. */
	found = ms_set_lookup(set, gfn);
	if (!found)
		return NULL;
	cache->set = set;
	cache->generation = set->generation;
	cache->slot = &found->pub;
	return &found->pub;
}

MEMSLOTS_API const struct memslot *
memslots_find_gfn_cached(const struct memslots_set *set, struct memslots_cache *cache, uint64_t gfn)
{
	/*
	 * Generations are unique among the sets one object publishes, and set
	 * pointers among live objects: both matching means the cached slot
	 * belongs to @set as the caller holds it.  The hit needs no prologue:
	 * the slow path is a tail call.
	 */
	if (ms_likely(set && cache)) {
		const struct memslot *slot = cache->slot;

		if (slot &&
		    !(((uintptr_t)cache->set ^ (uintptr_t)set) |
		      (cache->generation ^ set->generation)) &&
		    ms_slot_holds(ms_slot_of(slot), gfn))
			return slot;
	}
	return ms_find_gfn_cached_slow(set, cache, gfn);
}

/* The B+tree walk's position becomes this thread's hint; its slot or NULL. */
static struct ms_slot *ms_walk_at(const struct memslots_set *set, const struct ms_btree_cursor *c)
{
	if (!ms_btree_cursor_valid(c))
		return NULL;
	ms_hint_take(set);
	ms_hint.leaf = c->leaf;
	ms_hint.idx = c->idx;
	return ms_btree_cursor_val(c);
}

MEMSLOTS_API const struct memslot *memslots_first(const struct memslots_set *set)
{
	struct ms_btree_cursor c;
	struct ms_slot *slot;

	if (ms_unlikely(!set))
		return NULL;
	if (ms_unlikely(set->kvm)) {
		slot = ms_set_first(set);
	} else {
		ms_btree_first(&set->gfn_tree, &c);
		slot = ms_walk_at(set, &c);
	}
	return slot ? &slot->pub : NULL;
}

/*
 * The B+tree's next slot after @slot: one step from this thread's hint
 * when it stands on @slot (a walk in progress), else a descent.
 */
static struct ms_slot *ms_btree_walk_next(const struct memslots_set *set,
					  const struct ms_slot *slot)
{
	struct ms_btree_cursor c;

	if (ms_hint_for(set) && ms_hint.leaf && ms_hint.leaf->ent[ms_hint.idx].val == slot) {
		c.leaf = ms_hint.leaf;
		c.idx = ms_hint.idx;
		ms_btree_cursor_next(&c);
	} else {
		ms_btree_seek_gt(&set->gfn_tree, slot->pub.base_gfn, &c);
	}
	return ms_walk_at(set, &c);
}

MEMSLOTS_API const struct memslot *memslots_next(const struct memslots_set *set,
						 const struct memslot *slot)
{
	struct ms_slot *next;

	if (ms_unlikely(!set || !slot))
		return NULL;
	if (ms_unlikely(set->kvm))
		next = ms_set_next(set, ms_slot_of(slot));
	else
		next = ms_btree_walk_next(set, ms_slot_of(slot));
	return next ? &next->pub : NULL;
}

/* The slot holding @gfn, else the first above it; the walk's hint set. */
static struct ms_slot *ms_btree_walk_from(const struct memslots_set *set, uint64_t gfn)
{
	const struct ms_btree *t = &set->gfn_tree;
	struct ms_btree_cursor c;
	unsigned int r;

	if (!t->root)
		return NULL;
	c.leaf = ms_btree_descend(t, gfn, &r);
	if (r && gfn < c.leaf->ent[r - 1].end) {
		c.idx = r - 1;
	} else if (r == c.leaf->meta.nr) {
		c.leaf = c.leaf->next;
		c.idx = 0;
	} else {
		c.idx = r;
	}
	return ms_walk_at(set, &c);
}

MEMSLOTS_API const struct memslot *memslots_gfn_range_first(const struct memslots_set *set,
							    uint64_t gfn_start, uint64_t gfn_end)
{
	struct ms_slot *slot, *above;

	if (ms_unlikely(!set) || gfn_end <= gfn_start)
		return NULL;
	if (ms_likely(!set->kvm)) {
		slot = ms_btree_walk_from(set, gfn_start);
	} else {
		slot = ms_set_search(set, gfn_start, NULL, &above);
		if (!slot)
			slot = above;
	}
	return slot && slot->pub.base_gfn < gfn_end ? &slot->pub : NULL;
}

MEMSLOTS_API const struct memslot *memslots_gfn_range_next(const struct memslots_set *set,
							   const struct memslot *slot,
							   uint64_t gfn_start, uint64_t gfn_end)
{
	const struct memslot *next;

	if (ms_unlikely(!set || !slot) || gfn_end <= gfn_start)
		return NULL;
	next = memslots_next(set, slot);
	return next && next->base_gfn < gfn_end ? next : NULL;
}

static const struct memslot *ms_pub_or_null(const struct ms_slot *slot)
{
	return slot ? &slot->pub : NULL;
}

MEMSLOTS_API const struct memslot *memslots_hva_range_first(const struct memslots_set *set,
							    uint64_t hva_start, uint64_t hva_last)
{
	if (ms_unlikely(!set))
		return NULL;
	return ms_pub_or_null(ms_set_hva_first(set, hva_start, hva_last));
}

MEMSLOTS_API const struct memslot *memslots_hva_range_next(const struct memslots_set *set,
							   const struct memslot *slot,
							   uint64_t hva_start, uint64_t hva_last)
{
	if (ms_unlikely(!set || !slot))
		return NULL;
	return ms_pub_or_null(ms_set_hva_next(set, ms_slot_of(slot), hva_start, hva_last));
}

MEMSLOTS_API uint64_t memslots_gfn_to_hva(const struct memslots_set *set, uint64_t gfn)
{
	const struct memslot *slot = memslots_find_gfn(set, gfn);

	if (!slot || (slot->flags & MEMSLOT_INVALID))
		return MEMSLOTS_HVA_BAD;
	return slot->userspace_addr + ((gfn - slot->base_gfn) << set->page_shift);
}

MEMSLOTS_API uint64_t memslots_generation(const struct memslots_set *set)
{
	return set ? set->generation : 0;
}

MEMSLOTS_API size_t memslots_count(const struct memslots_set *set)
{
	return set ? set->count : 0;
}

MEMSLOTS_API uint64_t memslots_nr_pages(const struct memslots_set *set)
{
	return set ? set->nr_pages : 0;
}

MEMSLOTS_API uint64_t memslots_gfn_attributes(const struct memslots_set *set, uint64_t gfn,
					      uint64_t *run_end)
{
	if (ms_unlikely(!set)) {
		/* A NULL set is empty: every gfn 0, one run to the top. */
		if (run_end)
			*run_end = UINT64_MAX;
		return 0;
	}
	return ms_attrmap_get(&set->attrs, gfn, run_end);
}

MEMSLOTS_API const struct memslot *memslots_fault_lookup(const struct memslots_set *set,
							 struct memslots_cache *cache, uint64_t gfn,
							 uint64_t *attributes, uint64_t *run_end)
{
	uint64_t word = memslots_gfn_attributes(set, gfn, run_end);

	if (attributes)
		*attributes = word;
	return memslots_find_gfn_cached(set, cache, gfn);
}
