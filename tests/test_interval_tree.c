/* SPDX-License-Identifier: MIT */
/*
 * Property tests of the augmented interval tree against a brute-force list,
 * on both of its instances at once: every node is a slot in two trees,
 * through its two hva nodes, as in the two sets.
 *
 * Every query's result must be exactly the multiset of stored intervals
 * that intersect the query (each node once), in ascending start order, in
 * each tree; and after every change each node's subtree_last must be the
 * maximum `last` of its subtree (checked independently by the fixture,
 * itree_fixture.c, and by ms_itree_validate()).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "interval_tree.h"
#include "itree_fixture.h"
#include "ts_check.h"
#include "ts_scale.h"
#include "rbtree.h"

static size_t scaled(size_t n)
{
	return ts_scaled(n, 20);
}

/* ---- value generation ---------------------------------------------------- */

/* A point biased towards the places where bugs hide: near 0, near the top. */
static uint64_t draw_point(struct ts_rng *r)
{
	switch (ts_rng_below(r, 8)) {
	case 0:
	case 1:
	case 2:
	case 3:
		return ts_rng_below(r, 256);
	case 4:
	case 5:
		return UINT64_MAX - ts_rng_below(r, 256);
	case 6:
		return ts_rng_next(r);
	default:
		return (UINT64_MAX / 2) - 8 + ts_rng_below(r, 16);
	}
}

/* An interval [*s, *l]: short ones near a point, long ones, everything. */
static void draw_interval(struct ts_rng *r, uint64_t span, uint64_t *s, uint64_t *l)
{
	uint64_t a, b;

	if (span) {
		/* Small coordinates: dense overlaps, touching and duplicates. */
		a = ts_rng_below(r, span);
		b = a + ts_rng_below(r, 1 + (ts_rng_below(r, 4) ? 8 : span));
		*s = a;
		*l = b;
		return;
	}
	switch (ts_rng_below(r, 16)) {
	case 0:
		*s = 0;
		*l = UINT64_MAX;
		return;
	case 1:
		*s = draw_point(r);
		*l = UINT64_MAX;
		return;
	case 2:
		*s = 0;
		*l = draw_point(r);
		return;
	default:
		a = draw_point(r);
		if (ts_rng_below(r, 2)) {
			uint64_t len = ts_rng_below(r, 32);

			b = a > UINT64_MAX - len ? UINT64_MAX : a + len;
		} else {
			b = draw_point(r);
		}
		*s = a < b ? a : b;
		*l = a < b ? b : a;
	}
}

/* A handful of queries, random and aimed at the endpoints of stored nodes. */
static void query_round(struct ts_it_fixture *f, uint64_t span)
{
	struct ts_rng *r = &f->rng;
	uint64_t qs, ql;

	for (int i = 0; i < 3; i++) {
		draw_interval(r, span, &qs, &ql);
		ts_it_check_query(f, qs, ql);
	}
	/* A reversed query finds nothing. */
	draw_interval(r, span, &qs, &ql);
	if (qs != ql)
		ts_it_check_query(f, ql, qs);

	if (f->bf.n) {
		const struct ts_it_node *x = f->bf.v[ts_rng_below(r, f->bf.n)];
		uint64_t xs = ts_it_start(x), xl = ts_it_last(x);
		uint64_t p = span ? ts_rng_below(r, span) : draw_point(r);

		ts_it_check_query(f, xs, xs); /* point at a start */
		ts_it_check_query(f, xl, xl); /* point at a last */
		if (p <= xs)
			ts_it_check_query(f, p, xs); /* ends exactly at a start */
		if (p >= xl)
			ts_it_check_query(f, xl, p); /* starts exactly at a last */
		if (xs > 0)
			ts_it_check_query(f, xs - 1, xs - 1); /* just before */
		if (xl < UINT64_MAX)
			ts_it_check_query(f, xl + 1, xl + 1); /* just after */
		if (xs > 0 && xl < UINT64_MAX)
			ts_it_check_query(f, xs - 1, xl + 1);
	}
	ts_it_check_query(f, 0, UINT64_MAX);
	ts_it_check_query(f, UINT64_MAX, UINT64_MAX);
	ts_it_check_query(f, 0, 0);
}

/*
 * Random inserts, removes and replaces on a tree of up to @max nodes; the
 * tree is checked after every operation and queried after most.
 */
static void run_random(uint64_t seed, size_t ops, size_t max, uint64_t span)
{
	struct ts_it_fixture f;

	ts_it_init(&f, max + 1, seed);
	ops = scaled(ops);
	for (size_t op = 0; op < ops; op++) {
		unsigned int dice = (unsigned int)ts_rng_below(&f.rng, 100);

		if (f.bf.n && dice < 10) {
			ts_it_replace(&f, f.bf.v[ts_rng_below(&f.rng, f.bf.n)], ts_it_spare(&f));
		} else if (f.bf.n < max && (f.bf.n == 0 || dice < 57)) {
			uint64_t s, l;

			draw_interval(&f.rng, span, &s, &l);
			ts_it_insert(&f, ts_it_spare(&f), s, l);
		} else {
			ts_it_remove(&f, f.bf.v[ts_rng_below(&f.rng, f.bf.n)]);
		}
		ts_it_check_tree(&f);
		query_round(&f, span);
	}
	while (f.bf.n) {
		ts_it_remove(&f, f.bf.v[ts_rng_below(&f.rng, f.bf.n)]);
		ts_it_check_tree(&f);
		if (f.bf.n % 8 == 0)
			query_round(&f, span);
	}
	for (unsigned int i = 0; i < 2; i++)
		TS_REQUIRE(f.root[i].root.node == NULL && f.root[i].leftmost == NULL);
	ts_it_free(&f);
}

START_TEST(random_small_coords)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		run_random(seed, 10000, 150, 200);
}
END_TEST

START_TEST(random_mixed_coords)
{
	for (uint64_t seed = 101; seed <= 104; seed++)
		run_random(seed, 10000, 250, 0);
}
END_TEST

/* Tiny trees go through every small shape, including the empty one. */
START_TEST(random_tiny_trees)
{
	for (uint64_t seed = 201; seed <= 208; seed++)
		run_random(seed, 5000, 6, seed % 2 ? 12 : 0);
}
END_TEST

/* ---- focused cases ------------------------------------------------------------ */

START_TEST(empty_tree)
{
	struct ts_it_fixture f;

	ts_it_init(&f, 1, 1);
	ts_it_check_tree(&f);
	for (unsigned int i = 0; i < 2; i++) {
		ck_assert_ptr_null(ms_itree_iter_first(&f.root[i], i, 0, UINT64_MAX));
		ck_assert_ptr_null(ms_itree_iter_first(&f.root[i], i, 5, 5));
		ck_assert_ptr_null(ms_itree_iter_first(&f.root[i], i, 6, 5));
	}
	ts_it_free(&f);
}
END_TEST

START_TEST(touching_endpoints)
{
	static const uint64_t iv[][2] = {{10, 20}, {20, 30}, {31, 40}, {50, 50}};
	struct ts_it_fixture f;
	const struct ms_slot *s;

	ts_it_init(&f, MS_ARRAY_SIZE(iv), 1);
	for (size_t i = 0; i < MS_ARRAY_SIZE(iv); i++)
		ts_it_insert(&f, &f.pool[i], iv[i][0], iv[i][1]);
	ts_it_check_tree(&f);

	ck_assert_uint_eq(ts_it_check_query(&f, 0, 9), 0);
	ck_assert_uint_eq(ts_it_check_query(&f, 0, 10), 1);  /* ends at a start */
	ck_assert_uint_eq(ts_it_check_query(&f, 20, 20), 2); /* shared endpoint */
	ck_assert_uint_eq(ts_it_check_query(&f, 30, 31), 2); /* adjacent, not overlapping */
	ck_assert_uint_eq(ts_it_check_query(&f, 40, 49), 1); /* starts at a last */
	ck_assert_uint_eq(ts_it_check_query(&f, 41, 49), 0); /* in a gap */
	ck_assert_uint_eq(ts_it_check_query(&f, 50, 50), 1);
	ck_assert_uint_eq(ts_it_check_query(&f, 51, UINT64_MAX), 0); /* past the span */
	ck_assert_uint_eq(ts_it_check_query(&f, 0, UINT64_MAX), 4);
	ck_assert_uint_eq(ts_it_check_query(&f, 21, 20), 0); /* reversed */
	ck_assert_uint_eq(ts_it_check_query(&f, 50, 10), 0);

	/* Order is ascending start, in each tree. */
	for (unsigned int t = 0; t < 2; t++) {
		s = ms_itree_iter_first(&f.root[t], t, 0, UINT64_MAX);
		for (size_t i = 0; i < MS_ARRAY_SIZE(iv);
		     i++, s = ms_itree_iter_next(s, t, 0, UINT64_MAX)) {
			ck_assert_ptr_nonnull(s);
			ck_assert_uint_eq(ts_it_start(ts_it_node_of(s)), iv[i][0]);
		}
		ck_assert_ptr_null(s);
	}
	ts_it_free(&f);
}
END_TEST

START_TEST(extreme_values)
{
	struct ts_it_fixture f;

	ts_it_init(&f, 8, 1);
	ts_it_insert(&f, &f.pool[0], 0, UINT64_MAX);
	ts_it_insert(&f, &f.pool[1], UINT64_MAX, UINT64_MAX);
	ts_it_insert(&f, &f.pool[2], 0, 0);
	ts_it_insert(&f, &f.pool[3], UINT64_MAX - 1, UINT64_MAX);
	ts_it_insert(&f, &f.pool[4], 1, UINT64_MAX - 1);
	ts_it_check_tree(&f);
	for (unsigned int i = 0; i < 2; i++) {
		ck_assert_ptr_nonnull(f.root[i].root.node);
		ck_assert_uint_eq(ts_it_top(&f, i)->slot.hva_node[i].subtree_last, UINT64_MAX);
	}
	ck_assert_uint_eq(ts_it_check_query(&f, UINT64_MAX, UINT64_MAX), 3);
	ck_assert_uint_eq(ts_it_check_query(&f, 0, 0), 2);
	ck_assert_uint_eq(ts_it_check_query(&f, 0, UINT64_MAX), 5);
	ck_assert_uint_eq(ts_it_check_query(&f, UINT64_MAX - 1, UINT64_MAX - 1), 3);
	ck_assert_uint_eq(ts_it_check_query(&f, 1, 1), 2);
	ck_assert_uint_eq(ts_it_check_query(&f, UINT64_MAX, 0), 0);

	/* Without the all-covering interval, the top needs its own nodes. */
	ts_it_remove(&f, &f.pool[0]);
	ts_it_check_tree(&f);
	ck_assert_uint_eq(ts_it_check_query(&f, UINT64_MAX, UINT64_MAX), 2);
	ck_assert_uint_eq(ts_it_check_query(&f, 0, 0), 1);
	ts_it_remove(&f, &f.pool[1]);
	ts_it_remove(&f, &f.pool[3]);
	ts_it_remove(&f, &f.pool[4]);
	ts_it_check_tree(&f);
	ck_assert_uint_eq(ts_it_check_query(&f, 1, UINT64_MAX), 0);
	ck_assert_uint_eq(ts_it_check_query(&f, 0, UINT64_MAX), 1);
	ts_it_free(&f);
}
END_TEST

/* Many copies of a few intervals: every copy is returned exactly once. */
START_TEST(many_duplicates)
{
	enum { COPIES = 300 };
	static const uint64_t iv[][2] = {{5, 10}, {0, UINT64_MAX}, {7, 7}, {5, 5}};
	struct ts_it_fixture f;
	size_t total = COPIES * MS_ARRAY_SIZE(iv);

	ts_it_init(&f, total, 9);
	for (size_t c = 0; c < COPIES; c++)
		for (size_t i = 0; i < MS_ARRAY_SIZE(iv); i++)
			ts_it_insert(&f, &f.pool[c * MS_ARRAY_SIZE(iv) + i], iv[i][0], iv[i][1]);
	ts_it_check_tree(&f);
	ck_assert_uint_eq(ts_it_check_query(&f, 0, UINT64_MAX), total);
	ck_assert_uint_eq(ts_it_check_query(&f, 7, 7), 3 * COPIES);
	ck_assert_uint_eq(ts_it_check_query(&f, 5, 5), 3 * COPIES);
	ck_assert_uint_eq(ts_it_check_query(&f, 11, 11), COPIES);
	ck_assert_uint_eq(ts_it_check_query(&f, 0, 4), COPIES);
	ck_assert_uint_eq(ts_it_check_query(&f, 10, 10), 2 * COPIES);

	/* Remove half of them in random order, checking as we go. */
	for (size_t k = 0; k < total / 2; k++) {
		ts_it_remove(&f, f.bf.v[ts_rng_below(&f.rng, f.bf.n)]);
		ts_it_check_tree(&f);
		if (k % 16 == 0) {
			ts_it_check_query(&f, 7, 7);
			ts_it_check_query(&f, 6, 9);
			ts_it_check_query(&f, 11, UINT64_MAX);
		}
	}
	ts_it_free(&f);
}
END_TEST

START_TEST(replace_every_node)
{
	enum { N = 300 };
	struct ts_it_fixture f;
	uint64_t s, l;

	ts_it_init(&f, 2 * N, 13);
	for (size_t i = 0; i < N; i++) {
		draw_interval(&f.rng, 0, &s, &l);
		ts_it_insert(&f, &f.pool[i], s, l);
	}
	ts_it_check_tree(&f);
	for (size_t i = 0; i < N; i++) {
		struct ts_it_node *old = &f.pool[i], *repl = &f.pool[N + i];
		bool was_leftmost[2];

		for (unsigned int t = 0; t < 2; t++)
			was_leftmost[t] = f.root[t].leftmost == &old->slot.hva_node[t].rb;
		ts_it_replace(&f, old, repl);
		for (unsigned int t = 0; t < 2; t++)
			TS_REQUIRE(!was_leftmost[t] ||
				   f.root[t].leftmost == &repl->slot.hva_node[t].rb);
		ts_it_check_tree(&f);
		/* The new node is found, the old one is not (ts_it_check_query). */
		ck_assert_uint_ge(ts_it_check_query(&f, ts_it_start(repl), ts_it_start(repl)), 1);
		query_round(&f, 0);
	}
	ts_it_free(&f);
}
END_TEST

/* A larger tree, queried with narrow windows: exercises deep descents. */
START_TEST(large_tree_queries)
{
	size_t n = scaled(20000);
	struct ts_it_fixture f;
	uint64_t s;

	ts_it_init(&f, n, 17);
	for (size_t i = 0; i < n; i++) {
		s = ts_rng_below(&f.rng, 1000000);
		ts_it_insert(&f, &f.pool[i], s, s + ts_rng_below(&f.rng, 100));
	}
	ts_it_check_tree(&f);
	for (size_t q = 0; q < scaled(500); q++) {
		s = ts_rng_below(&f.rng, 1000100);
		ts_it_check_query(&f, s, s + ts_rng_below(&f.rng, 300));
	}
	for (size_t i = 0; i < n; i += 2)
		ts_it_remove(&f, &f.pool[i]);
	ts_it_check_tree(&f);
	for (size_t q = 0; q < scaled(500); q++) {
		s = ts_rng_below(&f.rng, 1000100);
		ts_it_check_query(&f, s, s + ts_rng_below(&f.rng, 300));
	}
	ts_it_free(&f);
}
END_TEST

START_TEST(validator_detects_corruption)
{
	struct ts_it_fixture f;
	uint64_t saved;

	ts_it_init(&f, 64, 21);
	for (size_t i = 0; i < 64; i++)
		ts_it_insert(&f, &f.pool[i], i * 10, i * 10 + 5);
	ts_it_check_tree(&f);
	for (unsigned int t = 0; t < 2; t++) {
		struct ts_it_node *top = ts_it_top(&f, t);
		struct ms_itree_node *n = &top->slot.hva_node[t];

		saved = n->subtree_last;
		n->subtree_last = saved + 1;
		ck_assert_ptr_eq(ms_itree_validate(&f.root[t], t, NULL), ms_rb_bad_augment);
		n->subtree_last = saved;

		saved = f.pool[63].slot.hva_node[t].subtree_last;
		f.pool[63].slot.hva_node[t].subtree_last = 0;
		ck_assert_ptr_eq(ms_itree_validate(&f.root[t], t, NULL), ms_rb_bad_augment);
		f.pool[63].slot.hva_node[t].subtree_last = saved;

		/* The interval is the slot's: both trees see it broken. */
		saved = top->slot.pub.userspace_addr;
		top->slot.pub.userspace_addr = ts_it_last(top) + 1;
		ck_assert_ptr_nonnull(ms_itree_validate(&f.root[t], t, NULL));
		ck_assert_ptr_nonnull(ms_itree_validate(&f.root[!t], !t, NULL));
		top->slot.pub.userspace_addr = saved;

		ck_assert_ptr_null(ms_itree_validate(&f.root[t], t, NULL));
	}
	ts_it_free(&f);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("interval_tree");
	TCase *tc;

	tc = tcase_create("focused");
	tcase_add_test(tc, empty_tree);
	tcase_add_test(tc, touching_endpoints);
	tcase_add_test(tc, extreme_values);
	tcase_add_test(tc, validator_detects_corruption);
	suite_add_tcase(s, tc);

	tc = tcase_create("duplicates");
	tcase_add_test(tc, many_duplicates);
	suite_add_tcase(s, tc);

	tc = tcase_create("replace");
	tcase_add_test(tc, replace_every_node);
	suite_add_tcase(s, tc);

	tc = tcase_create("random_small");
	tcase_add_test(tc, random_small_coords);
	suite_add_tcase(s, tc);

	tc = tcase_create("random_mixed");
	tcase_add_test(tc, random_mixed_coords);
	suite_add_tcase(s, tc);

	tc = tcase_create("random_tiny");
	tcase_add_test(tc, random_tiny_trees);
	suite_add_tcase(s, tc);

	tc = tcase_create("large");
	tcase_add_test(tc, large_tree_queries);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
