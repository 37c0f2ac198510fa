/* SPDX-License-Identifier: MIT */
/*
 * The array baseline's readers: read-side sections, lookups (the
 * last-used index, then a binary search of the descending array),
 * iteration and the linear hva scan.  A published set never changes
 * except its atomic last-used index, so readers use plain loads.
 */
#include "msarr.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "msarr_impl.h"

/* Read by the writers, which refuse to run inside a read-side section. */
_Thread_local unsigned int msarr_read_depth;

static inline uint32_t msarr_index(const struct msarr_set *set, const struct memslot *slot)
{
	return (uint32_t)(slot - set->slots);
}

static inline bool msarr_holds(const struct memslot *s, uint64_t gfn)
{
	return gfn >= s->base_gfn && gfn - s->base_gfn < s->npages;
}

/* ---- readers -------------------------------------------------------------- */

void msarr_reader_register(struct msarr *ms)
{
	if (ms->rcu.register_thread)
		ms->rcu.register_thread();
}

void msarr_reader_unregister(struct msarr *ms)
{
	if (ms->rcu.unregister_thread)
		ms->rcu.unregister_thread();
}

const struct msarr_set *msarr_read_lock(struct msarr *ms)
{
	msarr_read_depth++;
	ms->rcu.read_lock();
	/* Acquire pairs with the release in msarr_publish (rcu_dereference). */
	return atomic_load_explicit(&ms->active, memory_order_acquire);
}

void msarr_read_unlock(struct msarr *ms)
{
	ms->rcu.read_unlock();
	msarr_read_depth--;
}

const struct memslot *msarr_find_gfn(const struct msarr_set *set, uint64_t gfn)
{
	struct msarr_set *mset = (struct msarr_set *)set; /* only lru is written */
	uint32_t used = set->used;
	uint32_t i;

	if (!used)
		return NULL;
	i = atomic_load_explicit(&mset->lru, memory_order_relaxed);
	if (msarr_holds(&set->slots[i], gfn))
		return &set->slots[i];
	i = msarr_search(set, gfn);
	if (i < used && msarr_holds(&set->slots[i], gfn)) {
		atomic_store_explicit(&mset->lru, i, memory_order_relaxed);
		return &set->slots[i];
	}
	return NULL;
}

const struct memslot *msarr_find_gfn_approx(const struct msarr_set *set, uint64_t gfn)
{
	uint32_t i;

	if (!set->used)
		return NULL;
	i = msarr_search(set, gfn);
	/* Either the slot holding gfn or the nearest below; else the lowest. */
	return &set->slots[i < set->used ? i : set->used - 1];
}

const struct memslot *msarr_find_id(const struct msarr_set *set, uint16_t id)
{
	uint32_t i;

	if (id >= set->max_slots)
		return NULL;
	i = set->id_to_index[id];
	if (i < set->used && set->slots[i].id == id)
		return &set->slots[i];
	return NULL;
}

const struct memslot *msarr_find_gfn_cached(const struct msarr_set *set,
					    struct memslots_cache *cache, uint64_t gfn)
{
	const struct memslot *s = cache->slot;

	if (s && cache->generation == set->generation && msarr_holds(s, gfn))
		return s;
	s = msarr_find_gfn(set, gfn);
	if (s) {
		cache->generation = set->generation;
		cache->slot = s;
	}
	return s;
}

const struct memslot *msarr_first(const struct msarr_set *set)
{
	return set->used ? &set->slots[set->used - 1] : NULL;
}

const struct memslot *msarr_next(const struct msarr_set *set, const struct memslot *slot)
{
	uint32_t i = msarr_index(set, slot);

	return i ? &set->slots[i - 1] : NULL;
}

static inline bool msarr_gfn_meets(const struct memslot *s, uint64_t start, uint64_t end)
{
	return s->base_gfn < end && s->base_gfn + s->npages > start;
}

const struct memslot *msarr_gfn_range_first(const struct msarr_set *set, uint64_t gfn_start,
					    uint64_t gfn_end)
{
	uint32_t i;

	if (gfn_end <= gfn_start || !set->used)
		return NULL;
	i = msarr_search(set, gfn_start);
	if (i == set->used || !msarr_holds(&set->slots[i], gfn_start)) {
		/* gfn_start is in a hole: the first candidate is the next above. */
		if (i == 0)
			return NULL;
		i--;
	}
	return msarr_gfn_meets(&set->slots[i], gfn_start, gfn_end) ? &set->slots[i] : NULL;
}

const struct memslot *msarr_gfn_range_next(const struct msarr_set *set, const struct memslot *slot,
					   uint64_t gfn_start, uint64_t gfn_end)
{
	uint32_t i = msarr_index(set, slot);

	if (!i || !msarr_gfn_meets(&set->slots[i - 1], gfn_start, gfn_end))
		return NULL;
	return &set->slots[i - 1];
}

static const struct memslot *msarr_hva_scan(const struct msarr_set *set, uint32_t from,
					    uint64_t hva_start, uint64_t hva_last)
{
	if (hva_last < hva_start)
		return NULL;
	for (uint32_t i = from; i < set->used; i++) {
		const struct memslot *s = &set->slots[i];
		uint64_t last = s->userspace_addr + (s->npages << set->page_shift) - 1;

		if (s->userspace_addr <= hva_last && last >= hva_start)
			return s;
	}
	return NULL;
}

const struct memslot *msarr_hva_range_first(const struct msarr_set *set, uint64_t hva_start,
					    uint64_t hva_last)
{
	return msarr_hva_scan(set, 0, hva_start, hva_last);
}

const struct memslot *msarr_hva_range_next(const struct msarr_set *set, const struct memslot *slot,
					   uint64_t hva_start, uint64_t hva_last)
{
	return msarr_hva_scan(set, msarr_index(set, slot) + 1, hva_start, hva_last);
}

uint64_t msarr_gfn_to_hva(const struct msarr_set *set, uint64_t gfn)
{
	const struct memslot *s = msarr_find_gfn(set, gfn);

	if (!s || (s->flags & MEMSLOT_INVALID))
		return MEMSLOTS_HVA_BAD;
	return s->userspace_addr + ((gfn - s->base_gfn) << set->page_shift);
}

uint64_t msarr_generation(const struct msarr_set *set)
{
	return set->generation;
}

size_t msarr_count(const struct msarr_set *set)
{
	return set->used;
}

uint64_t msarr_nr_pages(const struct msarr_set *set)
{
	return set->nr_pages;
}
