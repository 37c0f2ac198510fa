/* SPDX-License-Identifier: MIT */
/*
 * Dirty page logging (dirty.h): making and freeing a slot's bitmap, for
 * the writer, and the readers memslots_dirty_mark(), _mark_cached(),
 * _merge() and _collect().
 *
 * Ordering.  A VMM writes guest memory, then marks the page; the
 * migration thread collects the page, then copies it.  For the copy to
 * see the write, a mark (and a merge) ORs with release and a collect
 * takes a word with acquire: the collect reads the value the OR wrote, or
 * a later one of the same word's read-modify-write chain, and so
 * synchronizes with it.  (On x86 every locked read-modify-write is a full
 * barrier: the orders cost nothing there.)  A collect only loads a word
 * that reads 0 and leaves it alone: a mark that lands after the load is
 * still in the bitmap for the next collect, so skipping loses nothing.
 *
 * Locking: the readers run inside a read-side section on the set it
 * returned; they take no lock, never block and never allocate, and store
 * only to bitmap words (atomic read-modify-writes) and, as the lookups
 * they start with do, to the last-used slot (read.c) or the caller's cache.
 */
#include "dirty.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "compiler.h"
#include "set.h"
#include "slot.h"

/* ---- the writer's: making and freeing ------------------------------------------ */

/* The bits [0, @n) of a word, 0 <= n <= 64. */
static inline uint64_t ms_dirty_low_bits(uint64_t n)
{
	return n >= MS_DIRTY_WORD_BITS ? UINT64_MAX : ((uint64_t)1 << n) - 1;
}

_Atomic(uint64_t) *ms_dirty_alloc(const struct ms_alloc *a, uint64_t npages, bool all_set)
{
	uint64_t words = ms_dirty_words(npages), i;
	_Atomic(uint64_t) *bm;

	if (words > SIZE_MAX / sizeof(*bm))
		return NULL;
	if (!all_set)
		return ms_calloc(a, (size_t)words, sizeof(*bm));
	bm = ms_malloc(a, (size_t)words * sizeof(*bm));
	if (!bm)
		return NULL;
	for (i = 0; i + 1 < words; i++)
		atomic_init(&bm[i], UINT64_MAX);
	/* The pages past npages stay clear: a collect counts only real ones. */
	atomic_init(&bm[words - 1], ms_dirty_low_bits(npages - (words - 1) * MS_DIRTY_WORD_BITS));
	return bm;
}

void ms_dirty_free(const struct ms_alloc *a, _Atomic(uint64_t) *bm)
{
	ms_free(a, (void *)bm);
}

/* ---- marking ---------------------------------------------------------------------- */

/* The bits [@from, @to) of a word, 0 <= from < to <= 64. */
static inline uint64_t ms_dirty_mask(uint64_t from, uint64_t to)
{
	return ms_dirty_low_bits(to) & ~ms_dirty_low_bits(from);
}

/*
 * Marks the pages [@first, @first + @n) of @s (slot-relative, @n > 0, all
 * inside the slot); @n, or 0 when @s has no bitmap.  One page, the common
 * case of a device write, is one atomic OR.
 */
static uint64_t ms_dirty_mark_in(const struct ms_slot *s, uint64_t first, uint64_t n)
{
	_Atomic(uint64_t) *bm = ms_slot_dirty(s);
	uint64_t end = first + n, w;

	if (!bm)
		return 0;
	if (ms_likely(n == 1)) {
		atomic_fetch_or_explicit(&bm[first / MS_DIRTY_WORD_BITS],
					 (uint64_t)1 << (first % MS_DIRTY_WORD_BITS),
					 memory_order_release);
		return 1;
	}
	for (w = first / MS_DIRTY_WORD_BITS; w * MS_DIRTY_WORD_BITS < end; w++) {
		uint64_t lo = w * MS_DIRTY_WORD_BITS, hi = lo + MS_DIRTY_WORD_BITS;
		uint64_t from = first > lo ? first - lo : 0;
		uint64_t to = end < hi ? end - lo : MS_DIRTY_WORD_BITS;

		atomic_fetch_or_explicit(&bm[w], ms_dirty_mask(from, to), memory_order_release);
	}
	return n;
}

/*
 * The general case: [@gfn, @gfn + @npages) through every slot it meets,
 * from @slot (the one holding @gfn, or NULL when a hole does), ascending.
 */
static uint64_t ms_dirty_mark_range(const struct memslots_set *set, struct ms_slot *slot,
				    uint64_t gfn, uint64_t npages)
{
	uint64_t end = gfn + npages < gfn ? UINT64_MAX : gfn + npages, marked = 0;

	if (!slot)
		ms_set_search(set, gfn, NULL, &slot);
	for (; slot && slot->pub.base_gfn < end; slot = ms_set_next(set, slot)) {
		uint64_t base = slot->pub.base_gfn;
		uint64_t from = gfn > base ? gfn : base;
		uint64_t to = end < ms_slot_end(slot) ? end : ms_slot_end(slot);

		marked += ms_dirty_mark_in(slot, from - base, to - from);
	}
	return marked;
}

/* Marks from @slot, the lookup's answer for @gfn: one slot, or the walk. */
static uint64_t ms_dirty_mark_from(const struct memslots_set *set, struct ms_slot *slot,
				   uint64_t gfn, uint64_t npages)
{
	if (ms_likely(slot) && npages <= slot->pub.npages - (gfn - slot->pub.base_gfn))
		return ms_dirty_mark_in(slot, gfn - slot->pub.base_gfn, npages);
	return ms_dirty_mark_range(set, slot, gfn, npages);
}

MEMSLOTS_API uint64_t memslots_dirty_mark(const struct memslots_set *set, uint64_t gfn,
					  uint64_t npages)
{
	const struct memslot *found;

	if (ms_unlikely(!set || !npages))
		return 0;
	/* memslots_find_gfn()'s lookup, this thread's last-used slot first. */
	found = memslots_find_gfn(set, gfn);
	return ms_dirty_mark_from(set, found ? ms_slot_of(found) : NULL, gfn, npages);
}

MEMSLOTS_API uint64_t memslots_dirty_mark_cached(const struct memslots_set *set,
						 struct memslots_cache *cache, uint64_t gfn,
						 uint64_t npages)
{
	const struct memslot *found;

	if (ms_unlikely(!set || !npages))
		return 0;
	/* memslots_find_gfn_cached()'s lookup and refill (without a cache,
	 * memslots_find_gfn()'s, as memslots_dirty_mark()). */
	found = memslots_find_gfn_cached(set, cache, gfn);
	return ms_dirty_mark_from(set, found ? ms_slot_of(found) : NULL, gfn, npages);
}

/* ---- merging and collecting ------------------------------------------------------- */

/*
 * The checks merge and collect share, in the contract's order: the
 * bitmap of slot @id for pages [@first, @first + @npages) in *@bm, or
 * -ENOENT (no slot @id) or -EINVAL.
 */
static int ms_dirty_range(const struct memslots_set *set, uint16_t id, const uint64_t *bitmap,
			  uint64_t first, uint64_t npages, _Atomic(uint64_t) **bm)
{
	struct ms_slot *slot = set ? ms_set_find_id(set, id) : NULL;

	if (!slot)
		return -ENOENT;
	*bm = ms_slot_dirty(slot);
	if (!*bm || first % MS_DIRTY_WORD_BITS)
		return -EINVAL;
	if (first + npages < first || first + npages > slot->pub.npages)
		return -EINVAL;
	if (!bitmap && npages)
		return -EINVAL;
	*bm += first / MS_DIRTY_WORD_BITS;
	return 0;
}

MEMSLOTS_API int memslots_dirty_merge(const struct memslots_set *set, uint16_t id,
				      const uint64_t *bitmap, uint64_t first, uint64_t npages)
{
	uint64_t words = npages / MS_DIRTY_WORD_BITS, tail = npages % MS_DIRTY_WORD_BITS, i;
	_Atomic(uint64_t) *bm;
	int err;

	err = ms_dirty_range(set, id, bitmap, first, npages, &bm);
	if (err)
		return err;
	for (i = 0; i < words; i++)
		if (bitmap[i])
			atomic_fetch_or_explicit(&bm[i], bitmap[i], memory_order_release);
	/* The caller's bits past npages are not pages of the range. */
	if (tail && (bitmap[words] & ms_dirty_low_bits(tail)))
		atomic_fetch_or_explicit(&bm[words], bitmap[words] & ms_dirty_low_bits(tail),
					 memory_order_release);
	return 0;
}

/* Takes the bits @mask of *@w (a whole word: exchanged) into *@out; how many. */
static int64_t ms_dirty_take(_Atomic(uint64_t) *w, uint64_t mask, uint64_t *out)
{
	uint64_t got;

	if (!(atomic_load_explicit(w, memory_order_relaxed) & mask))
		return 0;
	if (mask == UINT64_MAX)
		got = atomic_exchange_explicit(w, 0, memory_order_acquire);
	else
		got = atomic_fetch_and_explicit(w, ~mask, memory_order_acquire) & mask;
	*out |= got;
	return __builtin_popcountll(got);
}

MEMSLOTS_API int64_t memslots_dirty_collect(const struct memslots_set *set, uint16_t id,
					    uint64_t *bitmap, uint64_t first, uint64_t npages)
{
	uint64_t words = npages / MS_DIRTY_WORD_BITS, tail = npages % MS_DIRTY_WORD_BITS, i;
	_Atomic(uint64_t) *bm;
	int64_t taken = 0;
	int err;

	err = ms_dirty_range(set, id, bitmap, first, npages, &bm);
	if (err)
		return err;
	for (i = 0; i < words; i++)
		taken += ms_dirty_take(&bm[i], UINT64_MAX, &bitmap[i]);
	/* A range that ends inside a word leaves that word's later bits. */
	if (tail)
		taken += ms_dirty_take(&bm[words], ms_dirty_low_bits(tail), &bitmap[words]);
	return taken;
}
