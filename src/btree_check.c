/* SPDX-License-Identifier: MIT */
#include "btree_check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct btree_walk {
	const struct ms_btree *t;
	const struct ms_btree_leaf *next_leaf; /* where the chain must go next */
	bool have_prev;
	uint64_t prev_end; /* end of the entry before, in key order */
	size_t entries, nodes;
	bool with_pool; /* the pool is the writer's: only on an unpublished tree */
	char msg[160];
};

#define FAIL(w, ...)                                               \
	do {                                                       \
		snprintf((w)->msg, sizeof((w)->msg), __VA_ARGS__); \
		return (w)->msg;                                   \
	} while (0)

static const char *check_meta(struct btree_walk *w, const void *node)
{
	const struct ms_btree_meta *m = &((const struct ms_btree_leaf *)node)->meta;

	if ((uintptr_t)node % MS_BTREE_NODE_ALIGN)
		FAIL(w, "node %p not %u-byte aligned", node, MS_BTREE_NODE_ALIGN);
	if (m->skip > 48)
		FAIL(w, "node %p: allocation offset %u", node, m->skip);
	return NULL;
}

/* Leaf checks; *min gets its first key. */
static const char *check_leaf(struct btree_walk *w, const struct ms_btree_leaf *leaf, bool root,
			      uint64_t *min)
{
	unsigned int nr = leaf->meta.nr;
	const char *err = check_meta(w, leaf);

	if (err)
		return err;
	if (nr > MS_BTREE_LEAF_MAX || nr < (root ? 1 : MS_BTREE_LEAF_MIN))
		FAIL(w, "leaf %p holds %u entries%s", (const void *)leaf, nr,
		     root ? " (root)" : "");
	if (leaf != w->next_leaf)
		FAIL(w, "leaf chain reaches %p, in-order leaf is %p", (const void *)w->next_leaf,
		     (const void *)leaf);
	w->next_leaf = leaf->next;
	for (unsigned int i = 0; i < nr; i++) {
		uint64_t key = leaf->keys[i], end = leaf->ent[i].end;

		if (key == UINT64_MAX || end <= key)
			FAIL(w, "leaf %p entry %u: [%#llx, %#llx)", (const void *)leaf, i,
			     (unsigned long long)key, (unsigned long long)end);
		if (w->have_prev && w->prev_end > key)
			FAIL(w, "entry at %#llx overlaps or precedes the one ending at %#llx",
			     (unsigned long long)key, (unsigned long long)w->prev_end);
		w->have_prev = true;
		w->prev_end = end;
	}
	for (unsigned int i = nr; i < MS_BTREE_LEAF_MAX; i++)
		if (leaf->keys[i] != UINT64_MAX || leaf->ent[i].end || leaf->ent[i].val)
			FAIL(w, "leaf %p: unused entry %u not cleared", (const void *)leaf, i);
	w->entries += nr;
	w->nodes++;
	*min = leaf->keys[0];
	return NULL;
}

/*
 * The subtree at @node, @h levels high, whose keys must lie in [lo, hi);
 * *min gets its smallest key, which the caller compares to its separator.
 */
static const char *check_node(struct btree_walk *w, const void *node, unsigned int h, bool root,
			      uint64_t lo, uint64_t hi, uint64_t *min)
{
	const struct ms_btree_inner *in = node;
	unsigned int nr;
	const char *err;

	if (!node)
		FAIL(w, "NULL child above level %u", h);
	if (h == 1) {
		const struct ms_btree_leaf *leaf = node;

		err = check_leaf(w, leaf, root, min);
		if (err)
			return err;
		if (leaf->keys[0] < lo || leaf->keys[leaf->meta.nr - 1] >= hi)
			FAIL(w, "leaf %p keys outside [%#llx, %#llx)", node, (unsigned long long)lo,
			     (unsigned long long)hi);
		return NULL;
	}
	err = check_meta(w, node);
	if (err)
		return err;
	nr = in->meta.nr;
	if (nr > MS_BTREE_INNER_MAX || nr < (root ? 2 : MS_BTREE_INNER_MIN))
		FAIL(w, "internal node %p has %u children%s", node, nr, root ? " (root)" : "");
	for (unsigned int i = nr; i < MS_BTREE_INNER_MAX; i++)
		if (in->child[i] || in->keys[i - 1] != UINT64_MAX)
			FAIL(w, "internal node %p: unused slot %u not cleared", node, i);
	w->nodes++;
	for (unsigned int i = 0; i < nr; i++) {
		uint64_t clo = i ? in->keys[i - 1] : lo;
		uint64_t chi = i + 1 < nr ? in->keys[i] : hi;
		uint64_t cmin;

		if (clo >= chi)
			FAIL(w, "internal node %p: separators out of order at %u", node, i);
		err = check_node(w, in->child[i], h - 1, false, clo, chi, &cmin);
		if (err)
			return err;
		if (i && cmin != in->keys[i - 1])
			FAIL(w, "internal node %p: separator %u is %#llx, subtree starts at %#llx",
			     node, i - 1, (unsigned long long)in->keys[i - 1],
			     (unsigned long long)cmin);
		if (!i)
			*min = cmin;
	}
	return NULL;
}

static const char *check_pool(struct btree_walk *w)
{
	const struct ms_btree *t = w->t;
	size_t n = 0;

	for (const void *f = t->pool; f; f = *(void *const *)f) {
		const char *err = check_meta(w, f);

		if (err)
			return err;
		if (++n > t->pool_count)
			break;
	}
	if (n != t->pool_count)
		FAIL(w, "pool holds %zu nodes, pool_count says %zu", n, t->pool_count);
	return NULL;
}

static const char *check_walk(const struct ms_btree *t, struct btree_walk *w)
{
	const char *err;
	const void *n;
	uint64_t min;

	w->t = t;
	if (w->with_pool) {
		err = check_pool(w);
		if (err)
			return err;
	}
	if (!t->root) {
		if (t->height || t->count || t->nr_nodes)
			FAIL(w, "empty tree: height %u count %zu nodes %zu", t->height, t->count,
			     t->nr_nodes);
		return NULL;
	}
	if (!t->height || t->height > MS_BTREE_MAX_HEIGHT)
		FAIL(w, "height %u", t->height);
	/* The chain must start at the leftmost leaf. */
	n = t->root;
	for (unsigned int h = t->height; h > 1; h--)
		n = ((const struct ms_btree_inner *)n)->child[0];
	w->next_leaf = n;
	err = check_node(w, t->root, t->height, true, 0, UINT64_MAX, &min);
	if (err)
		return err;
	if (w->next_leaf)
		FAIL(w, "the last leaf links to %p", (const void *)w->next_leaf);
	if (w->entries != t->count)
		FAIL(w, "%zu entries, count says %zu", w->entries, t->count);
	if (w->nodes != t->nr_nodes)
		FAIL(w, "%zu nodes, nr_nodes says %zu", w->nodes, t->nr_nodes);
	return NULL;
}

/* Per thread: readers may check published trees concurrently. */
static _Thread_local struct btree_walk ms_btree_walk;

const char *ms_btree_check_shape(const struct ms_btree *t)
{
	ms_btree_walk = (struct btree_walk){0};
	return check_walk(t, &ms_btree_walk);
}

const char *ms_btree_check(const struct ms_btree *t)
{
	ms_btree_walk = (struct btree_walk){.with_pool = true};
	return check_walk(t, &ms_btree_walk);
}
