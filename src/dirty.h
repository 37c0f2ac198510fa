/* SPDX-License-Identifier: MIT */
/*
 * A slot's dirty bitmap (the API contract's extension 4): one bit per
 * page of the slot, bit i for page base_gfn + i, in 64-bit words
 * (KVM_GET_DIRTY_LOG's layout); the bits past npages in the last word
 * are always clear.  The words are atomics: readers of any set that holds
 * the slot (or its INVALID copy, which shares the bitmap) mark, merge and
 * collect concurrently (dirty.c); the writer only makes and frees them.
 *
 * Lifetime, as KVM's kvm_prepare_memory_region(): update.c makes a bitmap
 * (ms_dirty_alloc(), while it reserves a call's memory, before anything
 * is published), lets the change's new slot keep the old one's, or drops
 * it, freeing it (ms_dirty_free()) only after the grace period that
 * follows the last publication of the call, where it retires the old
 * slots.
 *
 * Allocation goes through the object's allocator, so the allocation
 * failure tests reach it; a clear bitmap from the default allocator comes
 * from calloc(), whose large blocks are fresh zero pages that cost no
 * clearing.
 */
#ifndef MS_DIRTY_H
#define MS_DIRTY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"

#define MS_DIRTY_WORD_BITS 64u

/* The words of a bitmap of @npages pages. */
static inline uint64_t ms_dirty_words(uint64_t npages)
{
	return (npages + MS_DIRTY_WORD_BITS - 1) / MS_DIRTY_WORD_BITS;
}

/*
 * A bitmap for @npages pages (> 0), every page clear, or dirty when
 * @all_set (MEMSLOTS_DIRTY_INITIALLY_SET); NULL when memory runs out.
 * The writer's, before the bitmap is published.
 */
_Atomic(uint64_t) *ms_dirty_alloc(const struct ms_alloc *a, uint64_t npages, bool all_set);
/* Frees @bm (may be NULL), once no reader can reach it. */
void ms_dirty_free(const struct ms_alloc *a, _Atomic(uint64_t) *bm);

#endif /* MS_DIRTY_H */
