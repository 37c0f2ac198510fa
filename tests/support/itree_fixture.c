/* SPDX-License-Identifier: MIT */
/*
 * The interval tree test's fixture: the two trees, the brute-force list of
 * the same nodes, the operations that change all three, and the checks of
 * each tree against the list (see itree_fixture.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "itree_fixture.h"
#include "ts_check.h"
#include "rbtree.h"

void ts_it_init(struct ts_it_fixture *f, size_t npool, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->root[0] = MS_RB_ROOT_CACHED;
	f->root[1] = MS_RB_ROOT_CACHED;
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
	x->slot.pub.userspace_addr = start;
	x->slot.hva_last = last;
	for (unsigned int i = 0; i < 2; i++)
		ms_itree_insert(&x->slot, i, &f->root[i]);
	x->in_tree = true;
	x->bf_index = f->bf.n;
	f->bf.v[f->bf.n++] = x;
}

void ts_it_remove(struct ts_it_fixture *f, struct ts_it_node *x)
{
	struct ts_it_node *moved;

	TS_REQUIRE(x->in_tree);
	for (unsigned int i = 0; i < 2; i++)
		ms_itree_remove(&x->slot, i, &f->root[i]);
	x->in_tree = false;
	moved = f->bf.v[--f->bf.n];
	f->bf.v[x->bf_index] = moved;
	moved->bf_index = x->bf_index;
}

void ts_it_replace(struct ts_it_fixture *f, struct ts_it_node *old, struct ts_it_node *repl)
{
	TS_REQUIRE(old->in_tree && !repl->in_tree);
	repl->slot.pub.userspace_addr = ts_it_start(old);
	repl->slot.hva_last = ts_it_last(old);
	for (unsigned int i = 0; i < 2; i++) {
		const struct ms_itree_node *o = &old->slot.hva_node[i];
		struct ms_itree_node *r = &repl->slot.hva_node[i];
		struct ms_rb_node saved = o->rb;

		r->subtree_last = 0xdeadbeef; /* must be overwritten */
		ms_itree_replace(&old->slot, &repl->slot, i, &f->root[i]);
		TS_REQUIRE(r->rb.parent_color == saved.parent_color);
		TS_REQUIRE(r->rb.left == saved.left && r->rb.right == saved.right);
		TS_REQUIRE(r->subtree_last == o->subtree_last);
	}
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

/* Recomputes subtree_last bottom-up in tree @idx and compares; returns the
 * subtree max. */
static uint64_t check_subtree_last(const struct ms_rb_node *rb, unsigned int idx, size_t *count)
{
	const struct ms_itree_node *n;
	const struct ts_it_node *x;
	uint64_t m;

	if (!rb)
		return 0;
	n = ms_rb_entry(rb, struct ms_itree_node, rb);
	x = ts_it_node_of(ms_slot_from_hva(n, idx));
	TS_REQUIRE(ts_it_start(x) <= ts_it_last(x));
	m = ts_it_last(x);
	if (rb->left) {
		uint64_t l = check_subtree_last(rb->left, idx, count);

		m = l > m ? l : m;
	}
	if (rb->right) {
		uint64_t r = check_subtree_last(rb->right, idx, count);

		m = r > m ? r : m;
	}
	TS_REQUIRE(n->subtree_last == m);
	(*count)++;
	return m;
}

void ts_it_check_tree(const struct ts_it_fixture *f)
{
	for (unsigned int i = 0; i < 2; i++) {
		size_t count = 0, vcount = 0;
		const char *why = ms_itree_validate(&f->root[i], i, &vcount);

		if (why)
			ck_abort_msg("ms_itree_validate, tree %u: %s", i, why);
		check_subtree_last(f->root[i].root.node, i, &count);
		TS_REQUIRE(count == f->bf.n);
		TS_REQUIRE(vcount == f->bf.n);
	}
}

/* A reversed query [qs, ql] (ql < qs) is empty and overlaps nothing. */
static bool overlaps(const struct ts_it_node *x, uint64_t qs, uint64_t ql)
{
	return qs <= ql && ts_it_start(x) <= ql && qs <= ts_it_last(x);
}

/* Runs [qs, ql] through tree @idx and the list; returns the result count. */
static size_t check_query_in(struct ts_it_fixture *f, unsigned int idx, uint64_t qs, uint64_t ql)
{
	const struct ms_slot *s;
	uint64_t gen = ++f->gen, prev_start = 0;
	size_t found = 0, expected = 0;

	for (s = ms_itree_iter_first(&f->root[idx], idx, qs, ql); s;
	     s = ms_itree_iter_next(s, idx, qs, ql)) {
		struct ts_it_node *x = ts_it_node_of(s);

		TS_REQUIRE(x->in_tree);
		TS_REQUIRE(x->seen != gen); /* each node at most once */
		x->seen = gen;
		TS_REQUIRE(overlaps(x, qs, ql));
		TS_REQUIRE(found == 0 || ts_it_start(x) >= prev_start);
		prev_start = ts_it_start(x);
		found++;
	}
	for (size_t i = 0; i < f->bf.n; i++) {
		const struct ts_it_node *x = f->bf.v[i];

		if (overlaps(x, qs, ql)) {
			TS_REQUIRE(x->seen == gen); /* none missed */
			expected++;
		}
	}
	TS_REQUIRE(found == expected);
	if (ql < qs)
		TS_REQUIRE(found == 0);
	return found;
}

size_t ts_it_check_query(struct ts_it_fixture *f, uint64_t qs, uint64_t ql)
{
	size_t found = check_query_in(f, 0, qs, ql);

	TS_REQUIRE(check_query_in(f, 1, qs, ql) == found);
	return found;
}
