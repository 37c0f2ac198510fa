/* SPDX-License-Identifier: MIT */
/*
 * The gfn B+tree's nodes: the pool, how many nodes a call must put aside
 * (the reserve), creating and destroying a tree.  The walks are in
 * btree_read.c, the changes in btree_write.c; the bulk build
 * (btree_build.c) and the range walk (btree_range.c), which only the
 * tests and benchmarks use, are built into memslots_testonly alone.
 * Layout, invariants and the reserve discipline: btree.h.
 */
#include "btree_node.h"

#include <errno.h>
#include <string.h>

/* ---- nodes and the pool ------------------------------------------------------ */

/*
 * The allocator has no alignment parameter.  Ask for 48 bytes more and move
 * up to the next 64-byte boundary, which is at most 48 bytes away for the
 * 16-byte-aligned pointers malloc gives; for a less aligned allocator keep
 * 16-byte alignment (u64 fields need 8) and lose only speed.
 */
#define MS_BTREE_SLACK 48u

static void *ms_btree_node_alloc(const struct ms_alloc *a)
{
	char *p = ms_malloc(a, MS_BTREE_NODE_SIZE + MS_BTREE_SLACK);
	uintptr_t skip;

	if (!p)
		return NULL;
	skip = -(uintptr_t)p & (MS_BTREE_NODE_ALIGN - 1);
	if (skip > MS_BTREE_SLACK)
		skip = -(uintptr_t)p & 15;
	memset(p + skip, 0, MS_BTREE_NODE_SIZE);
	ms_btree_meta_of(p + skip)->skip = (uint8_t)skip;
	return p + skip;
}

static void ms_btree_node_release(const struct ms_alloc *a, void *node)
{
	ms_free(a, (char *)node - ms_btree_meta_of(node)->skip);
}

static void ms_btree_free_list(const struct ms_alloc *a, struct ms_btree_free *f)
{
	while (f) {
		struct ms_btree_free *next = f->next;

		ms_btree_node_release(a, f);
		f = next;
	}
}

/*
 * Grows the pool to at least @target nodes, all or nothing: the new nodes
 * are gathered aside and joined to the pool only once all were allocated.
 */
int ms_btree_pool_fill(struct ms_btree *t, size_t target)
{
	struct ms_btree_free *head = NULL, *tail = NULL;
	size_t got = 0, want;

	if (t->pool_count >= target)
		return 0;
	want = target - t->pool_count;
	while (got < want) {
		struct ms_btree_free *f = ms_btree_node_alloc(t->alloc);

		if (!f) {
			ms_btree_free_list(t->alloc, head);
			return -ENOMEM;
		}
		f->next = head;
		head = f;
		if (!tail)
			tail = f;
		got++;
	}
	tail->next = t->pool;
	t->pool = head;
	t->pool_count += got;
	return 0;
}

void ms_btree_settle(struct ms_btree *t, size_t keep)
{
	while (t->pool_count > keep)
		ms_btree_node_release(t->alloc, ms_btree_pool_pop(t));
}

/* Every node of the subtree at @node (height @h) into the pool. */
void ms_btree_drop_subtree(struct ms_btree *t, void *node, unsigned int h)
{
	if (h > 1) {
		struct ms_btree_inner *in = node;

		for (unsigned int i = 0; i < in->meta.nr; i++)
			ms_btree_drop_subtree(t, in->child[i], h - 1);
	}
	ms_btree_drop_node(t, node);
}

void ms_btree_init(struct ms_btree *t, const struct ms_alloc *alloc)
{
	memset(t, 0, sizeof(*t));
	t->alloc = alloc;
}

void ms_btree_destroy(struct ms_btree *t)
{
	t->hint = NULL;
	if (t->root)
		ms_btree_drop_subtree(t, t->root, t->height);
	ms_btree_settle(t, 0);
	t->root = NULL;
	t->height = 0;
	t->count = 0;
}

/* ---- how many nodes -------------------------------------------------------------- */

static size_t ms_sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t ms_sat_mul(size_t a, size_t b)
{
	return b && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/*
 * The most nodes a valid tree of @n entries can have, and in *height the
 * most levels.  With two leaves or more, every leaf holds >= LEAF_MIN
 * entries, so there are at most n / LEAF_MIN leaves; with two nodes or more
 * on a level, each has >= INNER_MIN children, so a level has at most
 * 1/INNER_MIN of the one below; a level exists only above one of >= 2.
 */
static size_t ms_btree_max_nodes(size_t n, unsigned int *height)
{
	size_t c = n / MS_BTREE_LEAF_MIN, total;
	unsigned int h = 1;

	if (c < 1)
		c = 1;
	total = c;
	while (c > 1) {
		c /= MS_BTREE_INNER_MIN;
		if (c < 1)
			c = 1;
		total += c;
		h++;
	}
	*height = h;
	return total;
}

/*
 * Two bounds, both holding whatever removes come in between (removes only
 * ever give nodes back):
 *  - per insert: a split on every level and a new root, so height + 1,
 *    the height being at most that of a tree of count + k entries;
 *  - in all: a valid tree of count + k entries has at most
 *    ms_btree_max_nodes() nodes, and the pool supplies what the tree has
 *    beyond the nodes it has now (an insert only adds nodes, so its peak
 *    is where it ends).
 * The first is tighter for a few inserts into a big tree, the second for
 * many.
 */
size_t ms_btree_insert_nodes(const struct ms_btree *t, size_t nr_inserts)
{
	unsigned int height;
	size_t most, per_insert, in_all;

	if (!nr_inserts)
		return 0;
	most = ms_btree_max_nodes(ms_sat_add(t->count, nr_inserts), &height);
	per_insert = ms_sat_mul(nr_inserts, (size_t)height + 1);
	in_all = most > t->nr_nodes ? most - t->nr_nodes : 0;
	return per_insert < in_all ? per_insert : in_all;
}

int ms_btree_reserve(struct ms_btree *t, size_t nr_inserts)
{
	return ms_btree_pool_fill(t, ms_btree_insert_nodes(t, nr_inserts));
}
