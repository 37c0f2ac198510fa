/* SPDX-License-Identifier: MIT */
/*
 * Property tests of the augmented interval tree against a brute-force list.
 *
 * Every query's result must be exactly the multiset of stored intervals
 * that intersect the query (each node once), in ascending start order; and
 * after every change each node's subtree_last must be the maximum `last` of
 * its subtree (checked here independently and by ms_itree_validate()).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <valgrind/valgrind.h>

#include "interval_tree.h"
#include "tests_util.h"
#include "ts_structs.h"

/* Check's ck_assert_*() costs a write per success; hot checks use this. */
#define REQUIRE(cond)                                                                 \
	do {                                                                          \
		if (!(cond))                                                          \
			ck_abort_msg("%s:%d: failed: %s", __FILE__, __LINE__, #cond); \
	} while (0)

struct inode {
	struct ms_itree_node it;
	bool in_tree;
	size_t bf_index; /* position in the brute-force list while in the tree */
	uint64_t seen;	 /* query generation that last returned this node */
};

/* The brute-force side: the in-tree nodes, in no particular order. */
struct bf {
	struct inode **v;
	size_t n, cap;
};

struct fixture {
	struct ms_rb_root_cached root;
	struct bf bf;
	struct inode *pool;
	size_t npool;
	uint64_t gen;
	struct tu_rng rng;
};

static size_t scaled(size_t n)
{
	/* Valgrind runs ~50x slower; keep its runs short. */
	return RUNNING_ON_VALGRIND ? n / 5 + 1 : n;
}

static struct inode *inode_of(struct ms_itree_node *n)
{
	return ms_container_of(n, struct inode, it);
}

static void fx_init(struct fixture *f, size_t npool, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->root = MS_RB_ROOT_CACHED;
	f->pool = calloc(npool, sizeof(*f->pool));
	f->bf.v = calloc(npool, sizeof(*f->bf.v));
	ck_assert_ptr_nonnull(f->pool);
	ck_assert_ptr_nonnull(f->bf.v);
	f->npool = npool;
	f->bf.cap = npool;
	tu_rng_seed(&f->rng, seed);
}

static void fx_free(struct fixture *f)
{
	free(f->pool);
	free(f->bf.v);
}

static void fx_insert(struct fixture *f, struct inode *x, uint64_t start, uint64_t last)
{
	REQUIRE(!x->in_tree && f->bf.n < f->bf.cap);
	x->it.start = start;
	x->it.last = last;
	ms_itree_insert(&x->it, &f->root);
	x->in_tree = true;
	x->bf_index = f->bf.n;
	f->bf.v[f->bf.n++] = x;
}

static void fx_remove(struct fixture *f, struct inode *x)
{
	struct inode *moved;

	REQUIRE(x->in_tree);
	ms_itree_remove(&x->it, &f->root);
	x->in_tree = false;
	moved = f->bf.v[--f->bf.n];
	f->bf.v[x->bf_index] = moved;
	moved->bf_index = x->bf_index;
}

static void fx_replace(struct fixture *f, struct inode *old, struct inode *repl)
{
	struct ms_rb_node saved = old->it.rb;

	REQUIRE(old->in_tree && !repl->in_tree);
	repl->it.start = old->it.start;
	repl->it.last = old->it.last;
	repl->it.subtree_last = 0xdeadbeef; /* must be overwritten */
	ms_itree_replace(&old->it, &repl->it, &f->root);
	REQUIRE(repl->it.rb.parent_color == saved.parent_color);
	REQUIRE(repl->it.rb.left == saved.left && repl->it.rb.right == saved.right);
	REQUIRE(repl->it.subtree_last == old->it.subtree_last);
	old->in_tree = false;
	repl->in_tree = true;
	repl->bf_index = old->bf_index;
	f->bf.v[repl->bf_index] = repl;
}

static struct inode *fx_spare(struct fixture *f)
{
	size_t i = tu_rng_below(&f->rng, f->npool);

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
	REQUIRE(n->start <= n->last);
	m = n->last;
	if (rb->left) {
		uint64_t l = check_subtree_last(rb->left, count);

		m = l > m ? l : m;
	}
	if (rb->right) {
		uint64_t r = check_subtree_last(rb->right, count);

		m = r > m ? r : m;
	}
	REQUIRE(n->subtree_last == m);
	(*count)++;
	return m;
}

static void check_tree(const struct fixture *f)
{
	size_t count = 0, vcount = 0;
	int err;

	err = ms_itree_validate(&f->root, &vcount);
	if (err)
		ck_abort_msg("ms_itree_validate: %s", ms_rb_strerror(err));
	check_subtree_last(f->root.root.node, &count);
	REQUIRE(count == f->bf.n);
	REQUIRE(vcount == f->bf.n);
}

/* A reversed query [qs, ql] (ql < qs) is empty and overlaps nothing. */
static bool overlaps(const struct ms_itree_node *n, uint64_t qs, uint64_t ql)
{
	return qs <= ql && n->start <= ql && qs <= n->last;
}

/* Runs [qs, ql] through the tree and the list; returns the result count. */
static size_t check_query(struct fixture *f, uint64_t qs, uint64_t ql)
{
	struct ms_itree_node *n;
	uint64_t gen = ++f->gen, prev_start = 0;
	size_t found = 0, expected = 0;

	for (n = ms_itree_iter_first(&f->root, qs, ql); n; n = ms_itree_iter_next(n, qs, ql)) {
		struct inode *x = inode_of(n);

		REQUIRE(x->in_tree);
		REQUIRE(x->seen != gen); /* each node at most once */
		x->seen = gen;
		REQUIRE(overlaps(n, qs, ql));
		REQUIRE(found == 0 || n->start >= prev_start);
		prev_start = n->start;
		found++;
	}
	for (size_t i = 0; i < f->bf.n; i++) {
		const struct inode *x = f->bf.v[i];

		if (overlaps(&x->it, qs, ql)) {
			REQUIRE(x->seen == gen); /* none missed */
			expected++;
		}
	}
	REQUIRE(found == expected);
	if (ql < qs)
		REQUIRE(found == 0);
	return found;
}

/* ---- value generation ---------------------------------------------------- */

/* A point biased towards the places where bugs hide: near 0, near the top. */
static uint64_t draw_point(struct tu_rng *r)
{
	switch (tu_rng_below(r, 8)) {
	case 0:
	case 1:
	case 2:
	case 3:
		return tu_rng_below(r, 256);
	case 4:
	case 5:
		return UINT64_MAX - tu_rng_below(r, 256);
	case 6:
		return tu_rng_next(r);
	default:
		return (UINT64_MAX / 2) - 8 + tu_rng_below(r, 16);
	}
}

/* An interval [*s, *l]: short ones near a point, long ones, everything. */
static void draw_interval(struct tu_rng *r, uint64_t span, uint64_t *s, uint64_t *l)
{
	uint64_t a, b;

	if (span) {
		/* Small coordinates: dense overlaps, touching and duplicates. */
		a = tu_rng_below(r, span);
		b = a + tu_rng_below(r, 1 + (tu_rng_below(r, 4) ? 8 : span));
		*s = a;
		*l = b;
		return;
	}
	switch (tu_rng_below(r, 16)) {
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
		if (tu_rng_below(r, 2)) {
			uint64_t len = tu_rng_below(r, 32);

			b = a > UINT64_MAX - len ? UINT64_MAX : a + len;
		} else {
			b = draw_point(r);
		}
		*s = a < b ? a : b;
		*l = a < b ? b : a;
	}
}

/* A handful of queries, random and aimed at the endpoints of stored nodes. */
static void query_round(struct fixture *f, uint64_t span)
{
	struct tu_rng *r = &f->rng;
	uint64_t qs, ql;

	for (int i = 0; i < 3; i++) {
		draw_interval(r, span, &qs, &ql);
		check_query(f, qs, ql);
	}
	/* A reversed query finds nothing. */
	draw_interval(r, span, &qs, &ql);
	if (qs != ql)
		check_query(f, ql, qs);

	if (f->bf.n) {
		const struct ms_itree_node *x = &f->bf.v[tu_rng_below(r, f->bf.n)]->it;
		uint64_t p = span ? tu_rng_below(r, span) : draw_point(r);

		check_query(f, x->start, x->start); /* point at a start */
		check_query(f, x->last, x->last);   /* point at a last */
		if (p <= x->start)
			check_query(f, p, x->start); /* ends exactly at a start */
		if (p >= x->last)
			check_query(f, x->last, p); /* starts exactly at a last */
		if (x->start > 0)
			check_query(f, x->start - 1, x->start - 1); /* just before */
		if (x->last < UINT64_MAX)
			check_query(f, x->last + 1, x->last + 1); /* just after */
		if (x->start > 0 && x->last < UINT64_MAX)
			check_query(f, x->start - 1, x->last + 1);
	}
	check_query(f, 0, UINT64_MAX);
	check_query(f, UINT64_MAX, UINT64_MAX);
	check_query(f, 0, 0);
}

/*
 * Random inserts, removes and replaces on a tree of up to @max nodes; the
 * tree is checked after every operation and queried after most.
 */
static void run_random(uint64_t seed, size_t ops, size_t max, uint64_t span)
{
	struct fixture f;

	fx_init(&f, max + 1, seed);
	ops = scaled(ops);
	for (size_t op = 0; op < ops; op++) {
		unsigned int dice = (unsigned int)tu_rng_below(&f.rng, 100);

		if (f.bf.n && dice < 10) {
			fx_replace(&f, f.bf.v[tu_rng_below(&f.rng, f.bf.n)], fx_spare(&f));
		} else if (f.bf.n < max && (f.bf.n == 0 || dice < 57)) {
			uint64_t s, l;

			draw_interval(&f.rng, span, &s, &l);
			fx_insert(&f, fx_spare(&f), s, l);
		} else {
			fx_remove(&f, f.bf.v[tu_rng_below(&f.rng, f.bf.n)]);
		}
		check_tree(&f);
		query_round(&f, span);
	}
	while (f.bf.n) {
		fx_remove(&f, f.bf.v[tu_rng_below(&f.rng, f.bf.n)]);
		check_tree(&f);
		if (f.bf.n % 8 == 0)
			query_round(&f, span);
	}
	REQUIRE(f.root.root.node == NULL && f.root.leftmost == NULL);
	fx_free(&f);
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
	struct fixture f;

	fx_init(&f, 1, 1);
	check_tree(&f);
	ck_assert_ptr_null(ms_itree_iter_first(&f.root, 0, UINT64_MAX));
	ck_assert_ptr_null(ms_itree_iter_first(&f.root, 5, 5));
	ck_assert_ptr_null(ms_itree_iter_first(&f.root, 6, 5));
	fx_free(&f);
}
END_TEST

START_TEST(touching_endpoints)
{
	static const uint64_t iv[][2] = {{10, 20}, {20, 30}, {31, 40}, {50, 50}};
	struct fixture f;
	struct ms_itree_node *n;

	fx_init(&f, MS_ARRAY_SIZE(iv), 1);
	for (size_t i = 0; i < MS_ARRAY_SIZE(iv); i++)
		fx_insert(&f, &f.pool[i], iv[i][0], iv[i][1]);
	check_tree(&f);

	ck_assert_uint_eq(check_query(&f, 0, 9), 0);
	ck_assert_uint_eq(check_query(&f, 0, 10), 1);  /* ends at a start */
	ck_assert_uint_eq(check_query(&f, 20, 20), 2); /* shared endpoint */
	ck_assert_uint_eq(check_query(&f, 30, 31), 2); /* adjacent, not overlapping */
	ck_assert_uint_eq(check_query(&f, 40, 49), 1); /* starts at a last */
	ck_assert_uint_eq(check_query(&f, 41, 49), 0); /* in a gap */
	ck_assert_uint_eq(check_query(&f, 50, 50), 1);
	ck_assert_uint_eq(check_query(&f, 51, UINT64_MAX), 0); /* past the span */
	ck_assert_uint_eq(check_query(&f, 0, UINT64_MAX), 4);
	ck_assert_uint_eq(check_query(&f, 21, 20), 0); /* reversed */
	ck_assert_uint_eq(check_query(&f, 50, 10), 0);

	/* Order is ascending start. */
	n = ms_itree_iter_first(&f.root, 0, UINT64_MAX);
	for (size_t i = 0; i < MS_ARRAY_SIZE(iv); i++, n = ms_itree_iter_next(n, 0, UINT64_MAX)) {
		ck_assert_ptr_nonnull(n);
		ck_assert_uint_eq(n->start, iv[i][0]);
	}
	ck_assert_ptr_null(n);
	fx_free(&f);
}
END_TEST

START_TEST(extreme_values)
{
	struct fixture f;

	fx_init(&f, 8, 1);
	fx_insert(&f, &f.pool[0], 0, UINT64_MAX);
	fx_insert(&f, &f.pool[1], UINT64_MAX, UINT64_MAX);
	fx_insert(&f, &f.pool[2], 0, 0);
	fx_insert(&f, &f.pool[3], UINT64_MAX - 1, UINT64_MAX);
	fx_insert(&f, &f.pool[4], 1, UINT64_MAX - 1);
	check_tree(&f);
	ck_assert_ptr_nonnull(f.root.root.node);
	ck_assert_uint_eq(ms_rb_entry(f.root.root.node, struct ms_itree_node, rb)->subtree_last,
			  UINT64_MAX);
	ck_assert_uint_eq(check_query(&f, UINT64_MAX, UINT64_MAX), 3);
	ck_assert_uint_eq(check_query(&f, 0, 0), 2);
	ck_assert_uint_eq(check_query(&f, 0, UINT64_MAX), 5);
	ck_assert_uint_eq(check_query(&f, UINT64_MAX - 1, UINT64_MAX - 1), 3);
	ck_assert_uint_eq(check_query(&f, 1, 1), 2);
	ck_assert_uint_eq(check_query(&f, UINT64_MAX, 0), 0);

	/* Without the all-covering interval, the top needs its own nodes. */
	fx_remove(&f, &f.pool[0]);
	check_tree(&f);
	ck_assert_uint_eq(check_query(&f, UINT64_MAX, UINT64_MAX), 2);
	ck_assert_uint_eq(check_query(&f, 0, 0), 1);
	fx_remove(&f, &f.pool[1]);
	fx_remove(&f, &f.pool[3]);
	fx_remove(&f, &f.pool[4]);
	check_tree(&f);
	ck_assert_uint_eq(check_query(&f, 1, UINT64_MAX), 0);
	ck_assert_uint_eq(check_query(&f, 0, UINT64_MAX), 1);
	fx_free(&f);
}
END_TEST

/* Many copies of a few intervals: every copy is returned exactly once. */
START_TEST(many_duplicates)
{
	enum { COPIES = 300 };
	static const uint64_t iv[][2] = {{5, 10}, {0, UINT64_MAX}, {7, 7}, {5, 5}};
	struct fixture f;
	size_t total = COPIES * MS_ARRAY_SIZE(iv);

	fx_init(&f, total, 9);
	for (size_t c = 0; c < COPIES; c++)
		for (size_t i = 0; i < MS_ARRAY_SIZE(iv); i++)
			fx_insert(&f, &f.pool[c * MS_ARRAY_SIZE(iv) + i], iv[i][0], iv[i][1]);
	check_tree(&f);
	ck_assert_uint_eq(check_query(&f, 0, UINT64_MAX), total);
	ck_assert_uint_eq(check_query(&f, 7, 7), 3 * COPIES);
	ck_assert_uint_eq(check_query(&f, 5, 5), 3 * COPIES);
	ck_assert_uint_eq(check_query(&f, 11, 11), COPIES);
	ck_assert_uint_eq(check_query(&f, 0, 4), COPIES);
	ck_assert_uint_eq(check_query(&f, 10, 10), 2 * COPIES);

	/* Remove half of them in random order, checking as we go. */
	for (size_t k = 0; k < total / 2; k++) {
		fx_remove(&f, f.bf.v[tu_rng_below(&f.rng, f.bf.n)]);
		check_tree(&f);
		if (k % 16 == 0) {
			check_query(&f, 7, 7);
			check_query(&f, 6, 9);
			check_query(&f, 11, UINT64_MAX);
		}
	}
	fx_free(&f);
}
END_TEST

START_TEST(replace_every_node)
{
	enum { N = 300 };
	struct fixture f;
	uint64_t s, l;

	fx_init(&f, 2 * N, 13);
	for (size_t i = 0; i < N; i++) {
		draw_interval(&f.rng, 0, &s, &l);
		fx_insert(&f, &f.pool[i], s, l);
	}
	check_tree(&f);
	for (size_t i = 0; i < N; i++) {
		struct inode *old = &f.pool[i], *repl = &f.pool[N + i];
		bool was_leftmost = f.root.leftmost == &old->it.rb;

		fx_replace(&f, old, repl);
		REQUIRE(!was_leftmost || f.root.leftmost == &repl->it.rb);
		check_tree(&f);
		/* The new node is found, the old one is not (check_query). */
		ck_assert_uint_ge(check_query(&f, repl->it.start, repl->it.start), 1);
		query_round(&f, 0);
	}
	fx_free(&f);
}
END_TEST

/* A larger tree, queried with narrow windows: exercises deep descents. */
START_TEST(large_tree_queries)
{
	size_t n = scaled(20000);
	struct fixture f;
	uint64_t s;

	fx_init(&f, n, 17);
	for (size_t i = 0; i < n; i++) {
		s = tu_rng_below(&f.rng, 1000000);
		fx_insert(&f, &f.pool[i], s, s + tu_rng_below(&f.rng, 100));
	}
	check_tree(&f);
	for (size_t q = 0; q < scaled(500); q++) {
		s = tu_rng_below(&f.rng, 1000100);
		check_query(&f, s, s + tu_rng_below(&f.rng, 300));
	}
	for (size_t i = 0; i < n; i += 2)
		fx_remove(&f, &f.pool[i]);
	check_tree(&f);
	for (size_t q = 0; q < scaled(500); q++) {
		s = tu_rng_below(&f.rng, 1000100);
		check_query(&f, s, s + tu_rng_below(&f.rng, 300));
	}
	fx_free(&f);
}
END_TEST

START_TEST(validator_detects_corruption)
{
	struct fixture f;
	struct ms_itree_node *top;
	uint64_t saved;

	fx_init(&f, 64, 21);
	for (size_t i = 0; i < 64; i++)
		fx_insert(&f, &f.pool[i], i * 10, i * 10 + 5);
	check_tree(&f);
	top = ms_rb_entry(f.root.root.node, struct ms_itree_node, rb);

	saved = top->subtree_last;
	top->subtree_last = saved + 1;
	ck_assert_int_eq(ms_itree_validate(&f.root, NULL), MS_RB_EAUGMENT);
	top->subtree_last = saved;

	saved = f.pool[63].it.subtree_last;
	f.pool[63].it.subtree_last = 0;
	ck_assert_int_eq(ms_itree_validate(&f.root, NULL), MS_RB_EAUGMENT);
	f.pool[63].it.subtree_last = saved;

	saved = top->start;
	top->start = top->last + 1;
	ck_assert_int_ne(ms_itree_validate(&f.root, NULL), 0);
	top->start = saved;

	ck_assert_int_eq(ms_itree_validate(&f.root, NULL), 0);
	fx_free(&f);
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
	return tu_run_suite(make_suite());
}
