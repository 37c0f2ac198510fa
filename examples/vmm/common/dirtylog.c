// SPDX-License-Identifier: MIT
/*
 * The example VMM's dirty page logging through the library (see
 * dirtylog.h).
 */
#include "dirtylog.h"

#include <errno.h>

uint64_t dirtylog_mark(const struct memslots_set *set, struct memslots_cache *cache, uint64_t gpa,
		       uint64_t len)
{
	uint64_t first, last;

	if (!len)
		return 0;
	first = gpa >> PAGE_SHIFT;
	last = (gpa + len - 1) >> PAGE_SHIFT;
	return memslots_dirty_mark_cached(set, cache, first, last - first + 1);
}

static uint64_t count_bits(const uint64_t *bitmap, uint64_t words)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < words; i++)
		n += (uint64_t)__builtin_popcountll(bitmap[i]);
	return n;
}

int64_t dirtylog_sync_kvm(struct kvm_vm *kvm, const struct memslots_set *set,
			  const struct memslot *s, uint64_t *scratch, bool merge)
{
	uint64_t words = dirtylog_words(s->npages), n;
	int ret = kvm_get_dirty_log(kvm, s->id, scratch);

	if (ret)
		return ret;
	n = count_bits(scratch, words);
	if (!n)
		return 0;
	/* Re-protected before the copy, so that no write after it goes
	 * unlogged; the whole slot in one call (a range that ends the slot
	 * may have any length). */
	if (kvm->manual_dirty_log) {
		ret = kvm_clear_dirty_log(kvm, s->id, 0, (uint32_t)s->npages, scratch);
		if (ret)
			return ret;
	}
	if (merge) {
		ret = memslots_dirty_merge(set, s->id, scratch, 0, s->npages);
		if (ret)
			return ret;
	}
	return (int64_t)n;
}

int64_t dirtylog_collect(const struct memslots_set *set, const struct memslot *s, uint64_t *bitmap)
{
	return memslots_dirty_collect(set, s->id, bitmap, 0, s->npages);
}
