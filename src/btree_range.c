/* SPDX-License-Identifier: MIT */
/*
 * The gfn B+tree's range walk: the entries meeting [start, end) in key
 * order.  The engine needs only ms_btree_overlaps() (btree_read.c); the
 * walk is for the tests, the fuzzer and the benchmarks, so this file is in
 * memslots_testonly, not in libmemslots (MEMSLOTS_TESTONLY_SOURCES).
 * Locking: readers, as btree.h says.
 */
#include "btree.h"

void ms_btree_range_first(const struct ms_btree *t, uint64_t start, uint64_t end,
			  struct ms_btree_cursor *c)
{
	ms_btree_cursor_reset(c);
	if (end <= start || !t->root)
		return;
	/* Only the entry with the largest key <= start can reach into it. */
	ms_btree_seek_le(t, start, c);
	if (!ms_btree_cursor_valid(c))
		ms_btree_first(t, c);
	else if (ms_btree_cursor_end(c) <= start)
		ms_btree_cursor_next(c);
	if (ms_btree_cursor_valid(c) && ms_btree_cursor_key(c) >= end)
		ms_btree_cursor_reset(c);
}

void ms_btree_range_next(struct ms_btree_cursor *c, uint64_t end)
{
	ms_btree_cursor_next(c);
	if (ms_btree_cursor_valid(c) && ms_btree_cursor_key(c) >= end)
		ms_btree_cursor_reset(c);
}
