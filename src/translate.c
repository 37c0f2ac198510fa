/* SPDX-License-Identifier: MIT */
/*
 * Byte-level translation for a VMM's device models: guest physical address
 * to host address with the length the slot still covers (so a copy loop
 * can cross slots), and host address back to guest physical address over
 * the hva interval tree, aliases visited in ascending gpa.
 *
 * Locking: every function here is a reader, as in read.c: inside a
 * read-side section (memslots_read_lock) on the set it returned; no lock,
 * no allocation, no blocking.  The only stores are those of the lookups
 * they use (the set's last-used slot, the caller's cache).
 */
#include <stdbool.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "compiler.h"
#include "set.h"
#include "slot.h"

/*
 * @slot's hva for @gpa, which it holds, and the bytes it covers from
 * there; MEMSLOTS_HVA_BAD and 0 when there is no slot, it is INVALID, or
 * a write meets a READONLY slot.  The request checks keep a slot's gpa and
 * hva ranges below 2^64, so neither the end nor the hva can wrap, and no
 * valid slot yields MEMSLOTS_HVA_BAD.
 */
static uint64_t ms_slot_gpa_to_hva(const struct memslots_set *set, const struct memslot *slot,
				   uint64_t gpa, uint64_t *len, bool write)
{
	uint64_t start, end;

	if (!slot || (slot->flags & MEMSLOT_INVALID) ||
	    (write && (slot->flags & MEMSLOT_READONLY))) {
		if (len)
			*len = 0;
		return MEMSLOTS_HVA_BAD;
	}
	start = slot->base_gfn << set->page_shift;
	end = start + (slot->npages << set->page_shift);
	if (len)
		*len = end - gpa;
	return slot->userspace_addr + (gpa - start);
}

MEMSLOTS_API uint64_t memslots_gpa_to_hva(const struct memslots_set *set, uint64_t gpa,
					  uint64_t *len)
{
	if (ms_unlikely(!set))
		return ms_slot_gpa_to_hva(set, NULL, gpa, len, false);
	return ms_slot_gpa_to_hva(set, memslots_find_gfn(set, gpa >> set->page_shift), gpa, len,
				  false);
}

MEMSLOTS_API uint64_t memslots_gpa_to_hva_cached(const struct memslots_set *set,
						 struct memslots_cache *cache, uint64_t gpa,
						 uint64_t *len)
{
	const struct memslot *slot;

	if (ms_unlikely(!set))
		return ms_slot_gpa_to_hva(set, NULL, gpa, len, false);
	slot = memslots_find_gfn_cached(set, cache, gpa >> set->page_shift);
	return ms_slot_gpa_to_hva(set, slot, gpa, len, false);
}

MEMSLOTS_API uint64_t memslots_gpa_to_hva_write(const struct memslots_set *set,
						struct memslots_cache *cache, uint64_t gpa,
						uint64_t *len)
{
	const struct memslot *slot;

	if (ms_unlikely(!set))
		return ms_slot_gpa_to_hva(set, NULL, gpa, len, true);
	slot = memslots_find_gfn_cached(set, cache, gpa >> set->page_shift);
	return ms_slot_gpa_to_hva(set, slot, gpa, len, true);
}

MEMSLOTS_API const struct memslot *memslots_hva_to_gpa(const struct memslots_set *set, uint64_t hva,
						       uint64_t *gpa)
{
	return memslots_hva_to_gpa_next(set, hva, NULL, gpa);
}

/*
 * The interval tree orders slots by hva, and its stabbing query visits the
 * k slots holding @hva in that order, not by gpa; so each call visits all
 * k and keeps the lowest base_gfn above @prev's.  Guest ranges never
 * overlap, so base_gfn order is the order of the gpas @hva has in them.
 * k is the number of aliases of one host byte, a handful in practice: a
 * sorted walk would need memory readers may not allocate.
 */
MEMSLOTS_API const struct memslot *memslots_hva_to_gpa_next(const struct memslots_set *set,
							    uint64_t hva,
							    const struct memslot *prev,
							    uint64_t *gpa)
{
	const struct ms_slot *best = NULL;
	struct ms_slot *s;

	if (ms_unlikely(!set))
		return NULL;
	for (s = ms_set_hva_first(set, hva, hva); s; s = ms_set_hva_next(set, s, hva, hva)) {
		if (s->pub.flags & MEMSLOT_INVALID)
			continue;
		if (prev && s->pub.base_gfn <= prev->base_gfn)
			continue;
		if (!best || s->pub.base_gfn < best->pub.base_gfn)
			best = s;
	}
	if (!best)
		return NULL;
	if (gpa)
		*gpa = (best->pub.base_gfn << set->page_shift) + (hva - best->pub.userspace_addr);
	return &best->pub;
}
