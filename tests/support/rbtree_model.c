/* SPDX-License-Identifier: MIT */
/*
 * The red-black tree test's model and checker: a sorted array of node
 * pointers that the tree must match, and an independent structural check
 * of the tree against it (see rbtree_model.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rbtree_model.h"
#include "ts_check.h"
#include "rbtree.h"

void ts_rb_tree_insert(struct ms_rb_root_cached *root, struct ts_tnode *n)
{
	ts_tnode_insert(root, n);
}

void ts_rb_tree_erase(struct ms_rb_root_cached *root, struct ts_tnode *n)
{
	ms_rb_erase_cached(&n->rb, root);
	n->in_tree = false;
}

/* ---- the model: a sorted array of node pointers ---------------------------- */

void ts_rb_model_init(struct ts_rb_model *m, size_t cap)
{
	m->v = calloc(cap, sizeof(*m->v));
	ck_assert_ptr_nonnull(m->v);
	m->n = 0;
	m->cap = cap;
}

void ts_rb_model_free(struct ts_rb_model *m)
{
	free(m->v);
}

/* Index just after the last element with key <= @key. */
static size_t ts_model_upper_bound(const struct ts_rb_model *m, uint64_t key)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid]->key <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void ts_rb_model_insert(struct ts_rb_model *m, struct ts_tnode *n)
{
	size_t i = ts_model_upper_bound(m, n->key);

	TS_REQUIRE(m->n < m->cap);
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = n;
	m->n++;
}

void ts_rb_model_remove_at(struct ts_rb_model *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
}

/* ---- independent structural checker --------------------------------------- */

/* Returns the black height of @n's subtree (NULL leaves count 1). */
static unsigned int check_subtree(const struct ms_rb_node *n, const struct ms_rb_node *parent,
				  unsigned int depth, unsigned int *max_depth)
{
	unsigned int lh, rh;

	if (!n)
		return 1;
	TS_REQUIRE(depth <= 128);
	if (depth > *max_depth)
		*max_depth = depth;
	TS_REQUIRE(ms_rb_parent(n) == parent);
	TS_REQUIRE((n->parent_color & 2) == 0);
	if (ms_rb_is_red(n)) {
		TS_REQUIRE(!n->left || ms_rb_is_black(n->left));
		TS_REQUIRE(!n->right || ms_rb_is_black(n->right));
	}
	lh = check_subtree(n->left, n, depth + 1, max_depth);
	rh = check_subtree(n->right, n, depth + 1, max_depth);
	TS_REQUIRE(lh == rh);
	return lh + (ms_rb_is_black(n) ? 1 : 0);
}

/* Height of a tree of n nodes: at most 2 * log2(n + 1). */
static void check_height(unsigned int max_depth, size_t n)
{
	unsigned int lg = 0;

	while (((size_t)1 << lg) < n + 1)
		lg++;
	TS_REQUIRE(max_depth + 1 <= 2 * lg);
}

/* Checks the tree against the model: structure, order, navigation. */
void ts_rb_check_tree(const struct ms_rb_root_cached *root, const struct ts_rb_model *m)
{
	const struct ms_rb_node *rb;
	unsigned int max_depth = 0;
	size_t count, i;
	const char *why;

	why = ms_rb_validate_cached(root, ts_tnode_cmp, &count);
	if (why)
		ck_abort_msg("ms_rb_validate_cached: %s", why);
	TS_REQUIRE(count == m->n);

	if (root->root.node)
		TS_REQUIRE(ms_rb_is_black(root->root.node));
	check_subtree(root->root.node, NULL, 0, &max_depth);
	if (m->n)
		check_height(max_depth, m->n);
	TS_REQUIRE(ms_rb_empty(&root->root) == (m->n == 0));

	/* Forwards, with the cached and uncached first. */
	TS_REQUIRE(ms_rb_first_cached(root) == ms_rb_first(&root->root));
	for (i = 0, rb = ms_rb_first(&root->root); rb; rb = ms_rb_next(rb), i++) {
		TS_REQUIRE(i < m->n);
		TS_REQUIRE(ts_tnode_of(rb) == m->v[i]);
	}
	TS_REQUIRE(i == m->n);
	/* Backwards. */
	for (i = m->n, rb = ms_rb_last(&root->root); rb; rb = ms_rb_prev(rb)) {
		TS_REQUIRE(i > 0);
		TS_REQUIRE(ts_tnode_of(rb) == m->v[--i]);
	}
	TS_REQUIRE(i == 0);
	if (m->n) {
		TS_REQUIRE(root->leftmost == &m->v[0]->rb);
		TS_REQUIRE(ms_rb_last(&root->root) == &m->v[m->n - 1]->rb);
	} else {
		TS_REQUIRE(!(root->leftmost));
		TS_REQUIRE(!(ms_rb_last(&root->root)));
	}
}

void ts_rb_insert(struct ms_rb_root_cached *root, struct ts_rb_model *m, struct ts_tnode *n)
{
	ts_rb_tree_insert(root, n);
	ts_rb_model_insert(m, n);
}

void ts_rb_erase_at(struct ms_rb_root_cached *root, struct ts_rb_model *m, size_t i)
{
	ts_rb_tree_erase(root, m->v[i]);
	ts_rb_model_remove_at(m, i);
}

void ts_rb_replace_at(struct ms_rb_root_cached *root, struct ts_rb_model *m, size_t i,
		      struct ts_tnode *fresh)
{
	struct ts_tnode *old = m->v[i];
	struct ms_rb_node saved = old->rb;

	fresh->key = old->key;
	ms_rb_replace_node_cached(&old->rb, &fresh->rb, root);
	/* Same parent, children and colour, so the same word and links. */
	TS_REQUIRE(fresh->rb.parent_color == saved.parent_color);
	TS_REQUIRE(fresh->rb.left == saved.left);
	TS_REQUIRE(fresh->rb.right == saved.right);
	old->in_tree = false;
	fresh->in_tree = true;
	m->v[i] = fresh;
}
