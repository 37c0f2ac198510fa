/* SPDX-License-Identifier: MIT */
/*
 * The interval tree test's fixture: the tree, the brute-force list of the
 * same nodes, the operations that change both, and the checks of one
 * against the other (see itree_fixture.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "itree_fixture.h"
#include "ts_check.h"
#include "rbtree.h"

static struct ts_it_node *inode_of(struct ms_itree_node *n)
{
	return ms_container_of(n, struct ts_it_node, it);
}

void ts_it_init(struct ts_it_fixture *f, size_t npool, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->root = MS_RB_ROOT_CACHED;
	f->pool = calloc(npool, sizeof(*f->pool));
	f->bf.v = calloc(npool, sizeof(*f->bf.v));
	ck_assert_ptr_nonnull(f->pool);
	ck_assert_ptr_nonnull(f->bf.v);
	f->npool = npool;
	f->bf.cap = npool;
	ts_rng_seed(&f->rng, seed);
}

void ts_it_free(struct ts_it_fixture *f)
{
	free(f->pool);
	free(f->bf.v);
}

void ts_it_insert(struct ts_it_fixture *f, struct ts_it_node *x, uint64_t start, uint64_t last)
{
	TS_REQUIRE(!x->in_tree && f->bf.n < f->bf.cap);
	x->it.start = start;
	x->it.last = last;
	ms_itree_insert(&x->it, &f->root);
	x->in_tree = true;
	x->bf_index = f->bf.n;
	f->bf.v[f->bf.n++] = x;
}

void ts_it_remove(struct ts_it_fixture *f, struct ts_it_node *x)
{
	struct ts_it_node *moved;

	TS_REQUIRE(x->in_tree);
	ms_itree_remove(&x->it, &f->root);
	x->in_tree = false;
	moved = f->bf.v[--f->bf.n];
	f->bf.v[x->bf_index] = moved;
	moved->bf_index = x->bf_index;
}

void ts_it_replace(struct ts_it_fixture *f, struct ts_it_node *old, struct ts_it_node *repl)
{
	struct ms_rb_node saved = old->it.rb;

	TS_REQUIRE(old->in_tree && !repl->in_tree);
	repl->it.start = old->it.start;
	repl->it.last = old->it.last;
	repl->it.subtree_last = 0xdeadbeef; /* must be overwritten */
	ms_itree_replace(&old->it, &repl->it, &f->root);
	TS_REQUIRE(repl->it.rb.parent_color == saved.parent_color);
	TS_REQUIRE(repl->it.rb.left == saved.left && repl->it.rb.right == saved.right);
	TS_REQUIRE(repl->it.subtree_last == old->it.subtree_last);
	old->in_tree = false;
	repl->in_tree = true;
	repl->bf_index = old->bf_index;
	f->bf.v[repl->bf_index] = repl;
}

struct ts_it_node *ts_it_spare(struct ts_it_fixture *f)
{
	size_t i = ts_rng_below(&f->rng, f->npool);

	while (f->pool[i].in_tree)
		i = (i + 1) % f->npool;
	return &f->pool[i];
}

/* ---- checks --------------------------------------------------------------- */

/* Recomputes subtree_last bottom-up and compares; returns the subtree max. */
static uint64_t check_subtree_last(const struct ms_rb_node *rb, size_t *count)
{
	const struct ms_itree_node *n;
	uint64_t m;

	if (!rb)
		return 0;
	n = ms_rb_entry(rb, struct ms_itree_node, rb);
	TS_REQUIRE(n->start <= n->last);
	m = n->last;
	if (rb->left) {
		uint64_t l = check_subtree_last(rb->left, count);

		m = l > m ? l : m;
	}
	if (rb->right) {
		uint64_t r = check_subtree_last(rb->right, count);

		m = r > m ? r : m;
	}
	TS_REQUIRE(n->subtree_last == m);
	(*count)++;
	return m;
}

void ts_it_check_tree(const struct ts_it_fixture *f)
{
	size_t count = 0, vcount = 0;
	const char *why;

	why = ms_itree_validate(&f->root, &vcount);
	if (why)
		ck_abort_msg("ms_itree_validate: %s", why);
	check_subtree_last(f->root.root.node, &count);
	TS_REQUIRE(count == f->bf.n);
	TS_REQUIRE(vcount == f->bf.n);
}

/* A reversed query [qs, ql] (ql < qs) is empty and overlaps nothing. */
static bool overlaps(const struct ms_itree_node *n, uint64_t qs, uint64_t ql)
{
	return qs <= ql && n->start <= ql && qs <= n->last;
}

/* Runs [qs, ql] through the tree and the list; returns the result count. */
size_t ts_it_check_query(struct ts_it_fixture *f, uint64_t qs, uint64_t ql)
{
	struct ms_itree_node *n;
	uint64_t gen = ++f->gen, prev_start = 0;
	size_t found = 0, expected = 0;

	for (n = ms_itree_iter_first(&f->root, qs, ql); n; n = ms_itree_iter_next(n, qs, ql)) {
		struct ts_it_node *x = inode_of(n);

		TS_REQUIRE(x->in_tree);
		TS_REQUIRE(x->seen != gen); /* each node at most once */
		x->seen = gen;
		TS_REQUIRE(overlaps(n, qs, ql));
		TS_REQUIRE(found == 0 || n->start >= prev_start);
		prev_start = n->start;
		found++;
	}
	for (size_t i = 0; i < f->bf.n; i++) {
		const struct ts_it_node *x = f->bf.v[i];

		if (overlaps(&x->it, qs, ql)) {
			TS_REQUIRE(x->seen == gen); /* none missed */
			expected++;
		}
	}
	TS_REQUIRE(found == expected);
	if (ql < qs)
		TS_REQUIRE(found == 0);
	return found;
}
