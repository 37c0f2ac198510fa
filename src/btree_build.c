/* SPDX-License-Identifier: MIT */
/*
 * The gfn B+tree's bulk build: a whole tree from sorted entries, every
 * node filled evenly, from nodes put aside by ms_btree_reserve_build().
 * Only the tests and benchmarks build trees (the engine inserts), so this
 * file is in memslots_testonly, not in libmemslots
 * (MEMSLOTS_TESTONLY_SOURCES).  Locking: the caller serializes changes.
 */
#include "btree_node.h"

#include <errno.h>

/* ---- how many nodes ----------------------------------------------------------------- */

/* Nodes per level of a built tree of @n > 0 entries; returns the height. */
static unsigned int ms_btree_build_levels(size_t n, size_t c[MS_BTREE_MAX_HEIGHT])
{
	unsigned int h = 0;

	c[h] = (n + MS_BTREE_LEAF_MAX - 1) / MS_BTREE_LEAF_MAX;
	while (c[h] > 1) {
		c[h + 1] = (c[h] + MS_BTREE_INNER_MAX - 1) / MS_BTREE_INNER_MAX;
		h++;
	}
	return h + 1;
}

size_t ms_btree_build_nodes(size_t n)
{
	size_t c[MS_BTREE_MAX_HEIGHT], total = 0;
	unsigned int h;

	if (!n)
		return 0;
	h = ms_btree_build_levels(n, c);
	for (unsigned int l = 0; l < h; l++)
		total += c[l];
	return total;
}

int ms_btree_reserve_build(struct ms_btree *t, size_t n)
{
	size_t need = ms_btree_build_nodes(n);

	return need > t->nr_nodes ? ms_btree_pool_fill(t, need - t->nr_nodes) : 0;
}

/* ---- bulk build --------------------------------------------------------------------- */

struct ms_btree_builder {
	struct ms_btree *t;
	const struct ms_btree_entry *v;
	size_t n;
	size_t c[MS_BTREE_MAX_HEIGHT]; /* nodes per level */
	struct ms_btree_leaf *last;    /* the leaf built last, to link the next */
};

/* [lo, hi) of @total items dealt evenly to @parts parts, part @j's share. */
static void ms_btree_share(size_t total, size_t parts, size_t j, size_t *lo, size_t *hi)
{
	*lo = j * total / parts;
	*hi = (j + 1) * total / parts;
}

static void *ms_btree_build_node(struct ms_btree_builder *b, unsigned int l, size_t j,
				 uint64_t *min);

/* Leaf @j: its share of the entries, linked after the leaf built before. */
static void *ms_btree_build_leaf(struct ms_btree_builder *b, size_t j, uint64_t *min)
{
	struct ms_btree_leaf *leaf = ms_btree_new_leaf(b->t);
	size_t lo, hi;

	ms_btree_share(b->n, b->c[0], j, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		leaf->keys[i - lo] = b->v[i].key;
		leaf->ent[i - lo].end = b->v[i].end;
		leaf->ent[i - lo].val = b->v[i].val;
	}
	leaf->meta.nr = (uint16_t)(hi - lo);
	if (b->last)
		b->last->next = leaf;
	b->last = leaf;
	*min = leaf->keys[0];
	return leaf;
}

/* Internal node @j of level @l >= 1: its share of the level below. */
static void *ms_btree_build_inner(struct ms_btree_builder *b, unsigned int l, size_t j,
				  uint64_t *min)
{
	struct ms_btree_inner *in = ms_btree_new_inner(b->t);
	size_t lo, hi;

	ms_btree_share(b->c[l - 1], b->c[l], j, &lo, &hi);
	for (size_t x = lo; x < hi; x++) {
		uint64_t m;

		in->child[x - lo] = ms_btree_build_node(b, l - 1, x, &m);
		if (x == lo)
			*min = m;
		else
			in->keys[x - lo - 1] = m;
	}
	in->meta.nr = (uint16_t)(hi - lo);
	return in;
}

/* Node @j of level @l and all below it, in key order; its smallest key in
 * *min.  Recursion depth is the height. */
static void *ms_btree_build_node(struct ms_btree_builder *b, unsigned int l, size_t j,
				 uint64_t *min)
{
	return l ? ms_btree_build_inner(b, l, j, min) : ms_btree_build_leaf(b, j, min);
}

static int ms_btree_check_sorted(const struct ms_btree_entry *v, size_t n)
{
	if (n > UINT32_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (v[i].end <= v[i].key)
			return -EINVAL;
		if (i && v[i - 1].end > v[i].key)
			return -EINVAL;
	}
	return 0;
}

int ms_btree_build(struct ms_btree *t, const struct ms_btree_entry *v, size_t n)
{
	struct ms_btree_builder b = {.t = t, .v = v, .n = n};
	unsigned int height;
	uint64_t min;

	t->hint = NULL;

	if (ms_btree_check_sorted(v, n))
		return -EINVAL;
	if (ms_btree_reserve_build(t, n))
		return -ENOMEM;
	if (t->root)
		ms_btree_drop_subtree(t, t->root, t->height);
	t->root = NULL;
	t->height = 0;
	t->count = 0;
	if (!n)
		return 0;
	height = ms_btree_build_levels(n, b.c);
	t->root = ms_btree_build_node(&b, height - 1, 0, &min);
	t->height = height;
	t->count = n;
	return 0;
}
