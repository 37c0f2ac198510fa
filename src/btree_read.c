/* SPDX-License-Identifier: MIT */
/*
 * The gfn B+tree's reader walks that are not hot enough to inline (the
 * hot ones are in btree.h).  Locking: as btree.h says for each walk.
 */
#include "btree.h"

/* ---- reader walks ---------------------------------------------------------------- */

void ms_btree_first(const struct ms_btree *t, struct ms_btree_cursor *c)
{
	const void *n = t->root;

	for (unsigned int h = t->height; h > 1; h--)
		n = ((const struct ms_btree_inner *)n)->child[0];
	c->leaf = n;
	c->idx = 0;
}

void ms_btree_seek_le(const struct ms_btree *t, uint64_t key, struct ms_btree_cursor *c)
{
	unsigned int r;

	ms_btree_cursor_reset(c);
	if (!t->root)
		return;
	c->leaf = ms_btree_descend(t, key, &r);
	if (r)
		c->idx = r - 1;
	else
		ms_btree_cursor_reset(c); /* exact separators: no key <= @key anywhere */
}

void ms_btree_seek_gt(const struct ms_btree *t, uint64_t key, struct ms_btree_cursor *c)
{
	unsigned int r;

	ms_btree_cursor_reset(c);
	if (!t->root || key == UINT64_MAX)
		return;
	c->leaf = ms_btree_descend(t, key, &r);
	c->idx = r;
	if (r == c->leaf->meta.nr) {
		c->leaf = c->leaf->next;
		c->idx = 0;
	}
}

bool ms_btree_overlaps(const struct ms_btree *t, uint64_t start, uint64_t end, const void *ignore)
{
	struct ms_btree_cursor c;

	if (end <= start)
		return false;
	/*
	 * Entries never overlap, so only the one with the largest key below
	 * @end can reach into the range, or, when that one is @ignore, the one
	 * just before it: every earlier entry ends before that one begins.
	 */
	ms_btree_seek_le(t, end - 1, &c);
	if (ms_btree_cursor_valid(&c) && ms_btree_cursor_val(&c) == ignore) {
		uint64_t key = ms_btree_cursor_key(&c);

		if (!key)
			return false;
		ms_btree_seek_le(t, key - 1, &c);
	}
	return ms_btree_cursor_valid(&c) && ms_btree_cursor_end(&c) > start;
}
