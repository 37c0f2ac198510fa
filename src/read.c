/* SPDX-License-Identifier: MIT */
/*
 * The read path: lookups, iteration, range queries and the two caches
 * (the set's last-used slot, shared by all readers, and the caller's
 * per-thread struct memslots_cache).
 *
 * Locking: every function here runs inside a read-side section
 * (memslots_read_lock) on the set it returned, or on a set no writer can
 * change; they take no lock and never block.  The only store is to the
 * set's last-used slot, an atomic pointer.
 */
#include <stdint.h>

#include <memslots/memslots.h>

#include "compiler.h"
#include "set.h"
#include "slot.h"

MEMSLOTS_API const struct memslot *memslots_find_gfn(const struct memslots_set *set, uint64_t gfn)
{
	struct ms_slot *slot;

	if (ms_unlikely(!set))
		return NULL;
	slot = ms_set_last_used(set);

	if (slot && ms_slot_holds(slot, gfn))
		return &slot->pub;
	slot = ms_set_lookup(set, gfn);
	if (!slot)
		return NULL;
	ms_set_note_used(set, slot);
	return &slot->pub;
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

MEMSLOTS_API const struct memslot *
memslots_find_gfn_cached(const struct memslots_set *set, struct memslots_cache *cache, uint64_t gfn)
{
	const struct memslot *slot;
	struct ms_slot *found;

	if (ms_unlikely(!set))
		return NULL;
	if (ms_unlikely(!cache))
		return memslots_find_gfn(set, gfn);
	slot = cache->slot;
	/*
	 * Generations are unique among the sets one object publishes, and set
	 * pointers among live objects: both matching means the cached slot
	 * belongs to @set as the caller holds it.
	 */
	if (slot && cache->set == set && cache->generation == set->generation &&
	    ms_slot_holds(ms_slot_of(slot), gfn))
		return slot;
	/* Per-thread by design: leave the shared last-used slot alone. */
	found = ms_set_lookup(set, gfn);
	if (!found)
		return NULL;
	cache->set = set;
	cache->generation = set->generation;
	cache->slot = &found->pub;
	return &found->pub;
}

MEMSLOTS_API const struct memslot *memslots_first(const struct memslots_set *set)
{
	struct ms_slot *slot;

	if (ms_unlikely(!set))
		return NULL;
	slot = ms_set_first(set);
	return slot ? &slot->pub : NULL;
}

MEMSLOTS_API const struct memslot *memslots_next(const struct memslots_set *set,
						 const struct memslot *slot)
{
	struct ms_slot *next;

	if (ms_unlikely(!set || !slot))
		return NULL;
	next = ms_set_next(set, ms_slot_of(slot));
	return next ? &next->pub : NULL;
}

MEMSLOTS_API const struct memslot *memslots_gfn_range_first(const struct memslots_set *set,
							    uint64_t gfn_start, uint64_t gfn_end)
{
	struct ms_slot *slot, *above;

	if (ms_unlikely(!set) || gfn_end <= gfn_start)
		return NULL;
	slot = ms_set_search(set, gfn_start, NULL, &above);
	if (!slot)
		slot = above;
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
