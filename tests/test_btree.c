/* SPDX-License-Identifier: MIT */
/*
 * Property tests of the gfn B+tree against a brute-force model: a sorted
 * array of (key, end, value).  Random inserts (colliding ones included),
 * removes, replaces, bulk builds, reserves and trims; after every change the
 * whole structure goes through the independent checker (src/btree_check.c) and
 * is compared entry by entry with the model, and random lookups, neighbour
 * searches, seeks, range walks and overlap queries are compared with brute
 * force.  Then the reserve: allocation failure at every allocation site,
 * and no allocation at all by inserts a reserve covers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <valgrind/valgrind.h>

#include "btree.h"
#include "btree_check.h"
#include "btree_model.h"
#include "ts_check.h"
#include "ts_scale.h"

static size_t scaled(size_t n)
{
	return ts_scaled(n, 80);
}

static void run_random(const struct ts_bt_cfg *cfg)
{
	struct ts_alloc_counter cnt = {0};
	struct ms_alloc a = {.alloc = ts_alloc, .free = ts_free, .opaque = &cnt};
	size_t ops = scaled(cfg->ops);
	struct ms_btree t;
	struct ts_bt_model m;
	struct ts_rng r;

	ms_btree_init(&t, &a);
	ts_bt_model_init(&m, cfg->max);
	ts_rng_seed(&r, cfg->seed);
	for (size_t op = 0; op < ops; op++) {
		unsigned int dice = (unsigned int)ts_rng_below(&r, 1000);
		bool brute = m.n < 256;

		if (dice < 3) {
			ts_bt_op_build(&t, &m, &r);
		} else if (dice < 8) {
			TS_REQUIRE(ms_btree_reserve(&t, ts_rng_below(&r, 64)) == 0);
		} else if (dice < 12) {
			ms_btree_settle(&t, ts_rng_below(&r, 4));
		} else if (m.n && dice < 100) {
			ts_bt_op_replace(&t, &m, &r);
		} else if (m.n < cfg->max && (m.n == 0 || dice < 100 + cfg->grow * 9)) {
			ts_bt_op_insert(&t, &m, &r, cfg);
		} else {
			ts_bt_op_remove(&t, &m, &r, cfg);
		}
		/* Whole-structure checks are O(n): every step below 4096 entries. */
		if (m.n < 4096 || op % 61 == 0)
			TS_REQUIRE_NULL(ms_btree_check_model(&t, m.v, m.n));
		for (int q = 0; q < 4; q++) {
			uint64_t g = ts_bt_draw_gfn(&r, cfg, &m), h = ts_bt_draw_gfn(&r, cfg, &m);
			const void *ignore = m.n ? m.v[ts_rng_below(&r, m.n)].val : NULL;

			ts_bt_check_point(&t, &m, g, brute);
			if (q == 0 && (m.n < 4096 || op % 61 == 0)) {
				ts_bt_check_range(&t, &m, g < h ? g : h, g < h ? h : g);
				ts_bt_check_range(&t, &m, g, h);
			}
			if (q == 0)
				ts_bt_check_overlaps(&t, &m, g < h ? g : h, g < h ? h : g, ignore);
		}
	}
	/* Drain in random order, still checking. */
	while (m.n) {
		size_t i = ts_rng_below(&r, m.n);

		TS_REQUIRE(ms_btree_remove(&t, m.v[i].key, NULL) == 0);
		ts_bt_model_remove_at(&m, i);
		if (m.n < 4096 || m.n % 61 == 0)
			TS_REQUIRE_NULL(ms_btree_check_model(&t, m.v, m.n));
	}
	TS_REQUIRE(t.root == NULL && t.nr_nodes == 0);
	ms_btree_destroy(&t);
	TS_REQUIRE(cnt.live == 0);
	free(m.v);
}

/* Small dense trees: many collisions, every rebalancing case near the root. */
START_TEST(random_small_dense)
{
	for (uint64_t seed = 1; seed <= 16; seed++) {
		struct ts_bt_cfg cfg = {.seed = seed,
					.ops = 30000,
					.max = 200,
					.span = 600,
					.max_len = 6,
					.grow = 50};

		run_random(&cfg);
	}
}
END_TEST

/* Keys anywhere, the very top of the range included. */
START_TEST(random_full_range)
{
	for (uint64_t seed = 31; seed <= 38; seed++) {
		struct ts_bt_cfg cfg = {.seed = seed,
					.ops = 20000,
					.max = 1500,
					.span = 0,
					.max_len = 1u << 20,
					.grow = 60};

		run_random(&cfg);
	}
}
END_TEST

/* Memslots-like: a large gfn space, grown to tens of thousands and shrunk. */
START_TEST(random_large)
{
	for (uint64_t seed = 51; seed <= 53; seed++) {
		struct ts_bt_cfg cfg = {.seed = seed,
					.ops = 80000,
					.max = 40000,
					.span = 1ull << 40,
					.max_len = 1u << 18,
					.grow = 80};

		run_random(&cfg);
	}
}
END_TEST

/* Sizes around every fill boundary, built then changed one entry at a time. */
START_TEST(build_every_size)
{
	struct ts_alloc_counter cnt = {0};
	struct ms_alloc a = {.alloc = ts_alloc, .free = ts_free, .opaque = &cnt};
	struct ts_bt_model m;
	struct ms_btree t;
	struct ts_rng r;

	ts_rng_seed(&r, 7);
	ts_bt_model_init(&m, 3000);
	ms_btree_init(&t, &a);
	for (size_t n = 0; n <= 2600; n += n < 400 ? 1 : 37) {
		m.n = 0;
		for (size_t i = 0; i < n; i++)
			ts_bt_model_insert(&m, 10 * i + 5, 10 * i + 5 + 1 + i % 9,
					   ts_bt_model_new_val(&m));
		TS_REQUIRE(ms_btree_build(&t, m.v, m.n) == 0);
		TS_REQUIRE_NULL(ms_btree_check_model(&t, m.v, m.n));
		TS_REQUIRE(t.nr_nodes == ms_btree_build_nodes(n));
		for (int k = 0; k < 3 && m.n; k++) {
			size_t i = ts_rng_below(&r, m.n);
			uint64_t key = m.v[i].key, end = m.v[i].end;
			void *val = m.v[i].val;

			TS_REQUIRE(ms_btree_remove(&t, key, NULL) == 0);
			ts_bt_model_remove_at(&m, i);
			TS_REQUIRE_NULL(ms_btree_check_model(&t, m.v, m.n));
			TS_REQUIRE(ms_btree_insert(&t, key, end, val) == 0);
			ts_bt_model_insert(&m, key, end, val);
			TS_REQUIRE_NULL(ms_btree_check_model(&t, m.v, m.n));
			if (ts_bt_model_collides(&m, key + 9, key + 10)) {
				TS_REQUIRE(ms_btree_insert(&t, key + 9, key + 10, val) == -EEXIST);
				continue;
			}
			TS_REQUIRE(ms_btree_insert(&t, key + 9, key + 10, val) == 0);
			ts_bt_model_insert(&m, key + 9, key + 10, val);
			TS_REQUIRE_NULL(ms_btree_check_model(&t, m.v, m.n));
		}
	}
	ms_btree_destroy(&t);
	TS_REQUIRE(cnt.live == 0);
	free(m.v);
}
END_TEST

/* ---- the reserve ----------------------------------------------------------------------- */

/* Fails every allocation from now on: what was reserved must do. */
static void forbid_allocation(struct ts_alloc_counter *cnt)
{
	cnt->fail_at = cnt->calls + 1;
}

/*
 * After ms_btree_reserve(k), k inserts with removes in between allocate
 * nothing, whatever the tree: built full (every insert can split all the
 * way up), random, or empty.
 */
static void run_reserve_covers(uint64_t seed, size_t n0, size_t k, bool full, unsigned int removes)
{
	struct ts_alloc_counter cnt = {0};
	struct ms_alloc a = {.alloc = ts_alloc, .free = ts_free, .opaque = &cnt};
	struct ms_btree t;
	struct ts_bt_model m;
	struct ts_rng r;
	size_t done = 0, calls;

	ts_rng_seed(&r, seed);
	ts_bt_model_init(&m, n0 + k);
	ms_btree_init(&t, &a);
	for (size_t i = 0; i < n0; i++)
		ts_bt_model_insert(&m, 1000 * i, 1000 * i + (full ? 1 : 1 + ts_rng_below(&r, 999)),
				   ts_bt_model_new_val(&m));
	TS_REQUIRE(ms_btree_build(&t, m.v, m.n) == 0);
	TS_REQUIRE(ms_btree_reserve(&t, k) == 0);
	TS_REQUIRE(t.pool_count >= ms_btree_insert_nodes(&t, k));
	calls = cnt.calls;
	forbid_allocation(&cnt);
	while (done < k) {
		if (m.n && ts_rng_below(&r, 100) < removes) {
			size_t i = ts_rng_below(&r, m.n);

			TS_REQUIRE(ms_btree_remove(&t, m.v[i].key, NULL) == 0);
			ts_bt_model_remove_at(&m, i);
			continue;
		}
		/* Sequential keys in one gap split the same path again and again;
		 * spread ones split a different path each time. */
		uint64_t key = ts_rng_below(&r, 2)
				       ? 1000 * ts_rng_below(&r, n0 + 1) + 1 + done % 999
				       : 1000 * (n0 + 1) + done;

		if (ts_bt_model_collides(&m, key, key + 1))
			continue;
		TS_REQUIRE(ms_btree_insert(&t, key, key + 1, NULL) == 0);
		ts_bt_model_insert(&m, key, key + 1, NULL);
		done++;
	}
	TS_REQUIRE_NULL(ms_btree_check_model(&t, m.v, m.n));
	TS_REQUIRE(cnt.calls == calls); /* not even an attempt */
	cnt.fail_at = 0;
	ms_btree_destroy(&t);
	TS_REQUIRE(cnt.live == 0);
	free(m.v);
}

START_TEST(reserve_covers_inserts)
{
	static const size_t sizes[] = {0, 1, 9, 10, 11, 160, 161, 2560, 2561, 32764};
	static const size_t ks[] = {1, 2, 7, 50, 1000};
	uint64_t seed = 1;

	for (size_t i = 0; i < MS_ARRAY_SIZE(sizes); i++)
		for (size_t j = 0; j < MS_ARRAY_SIZE(ks); j++)
			for (unsigned int removes = 0; removes <= 60; removes += 30) {
				if (RUNNING_ON_VALGRIND && sizes[i] > 3000)
					continue;
				run_reserve_covers(seed, sizes[i], ks[j], seed & 1, removes);
				seed++;
			}
}
END_TEST

/* Inserts with no reserve: the pool is filled on demand, once per split. */
START_TEST(insert_allocates_on_demand)
{
	struct ts_alloc_counter cnt = {0};
	struct ms_alloc a = {.alloc = ts_alloc, .free = ts_free, .opaque = &cnt};
	struct ms_btree t;

	ms_btree_init(&t, &a);
	TS_REQUIRE(cnt.calls == 0);
	for (uint64_t i = 0; i < 5000; i++)
		TS_REQUIRE(ms_btree_insert(&t, i * 3, i * 3 + 2, NULL) == 0);
	TS_REQUIRE(t.pool_count == 0);
	TS_REQUIRE(cnt.live == t.nr_nodes);
	TS_REQUIRE_NULL(ms_btree_check(&t));
	ms_btree_destroy(&t);
	TS_REQUIRE(cnt.live == 0);
}
END_TEST

/*
 * Every allocation of reserve, reserve_build, build and an unreserved
 * insert failed in turn: the call returns -ENOMEM and changes nothing (tree,
 * pool, live allocations); then it succeeds once no allocation fails.
 */
static void fail_each(struct ms_btree *t, const struct ts_bt_model *m, struct ts_alloc_counter *cnt,
		      int (*call)(struct ms_btree *t, const struct ts_bt_model *m, size_t arg),
		      size_t arg)
{
	size_t k;

	for (k = 1;; k++) {
		size_t live = cnt->live, pool = t->pool_count, nodes = t->nr_nodes;
		size_t count = t->count;
		void *root = t->root;
		int err;

		cnt->fail_at = cnt->calls + k;
		err = call(t, m, arg);
		cnt->fail_at = 0;
		if (!err)
			break;
		TS_REQUIRE(err == -ENOMEM);
		TS_REQUIRE(cnt->live == live && t->pool_count == pool);
		TS_REQUIRE(t->nr_nodes == nodes && t->root == root && t->count == count);
		TS_REQUIRE_NULL(ms_btree_check(t));
	}
	TS_REQUIRE(k > 1 || arg == 0);
}

static int call_reserve(struct ms_btree *t, const struct ts_bt_model *m, size_t k)
{
	(void)m;
	return ms_btree_reserve(t, k);
}

static int call_reserve_build(struct ms_btree *t, const struct ts_bt_model *m, size_t n)
{
	(void)m;
	return ms_btree_reserve_build(t, n);
}

static int call_build(struct ms_btree *t, const struct ts_bt_model *m, size_t n)
{
	int err = ms_btree_build(t, m->v, n);

	TS_REQUIRE(err || t->count == n);
	return err;
}

static int call_insert(struct ms_btree *t, const struct ts_bt_model *m, size_t key)
{
	(void)m;
	return ms_btree_insert(t, key, key + 1, NULL);
}

START_TEST(alloc_failure_everywhere)
{
	struct ts_alloc_counter cnt = {0};
	struct ms_alloc a = {.alloc = ts_alloc, .free = ts_free, .opaque = &cnt};
	struct ms_btree t;
	struct ts_bt_model m, big;

	ts_bt_model_init(&m, 0);
	ts_bt_model_init(&big, 3000);
	for (size_t i = 0; i < 3000; i++)
		ts_bt_model_insert(&big, 4 * i, 4 * i + 3, ts_bt_model_new_val(&big));
	ms_btree_init(&t, &a);

	fail_each(&t, &m, &cnt, call_reserve, 40); /* empty tree */
	ms_btree_settle(&t, 0);
	fail_each(&t, &m, &cnt, call_insert, 10); /* the first leaf */
	TS_REQUIRE(ms_btree_remove(&t, 10, NULL) == 0);
	ms_btree_settle(&t, 0);
	fail_each(&t, &big, &cnt, call_reserve_build, big.n);
	ms_btree_settle(&t, 0);
	fail_each(&t, &big, &cnt, call_build, big.n);
	TS_REQUIRE_NULL(ms_btree_check_model(&t, big.v, big.n));
	fail_each(&t, &big, &cnt, call_reserve, 300);
	ms_btree_settle(&t, 0);
	/* An insert into a full path needs a node per level and a new root. */
	fail_each(&t, &big, &cnt, call_insert, 4 * 2999 + 3);
	ts_bt_model_insert(&big, 4 * 2999 + 3, 4 * 2999 + 4, NULL);
	TS_REQUIRE_NULL(ms_btree_check_model(&t, big.v, big.n));
	/* A smaller build reuses nodes and needs none. */
	ms_btree_settle(&t, 0);
	cnt.fail_at = cnt.calls + 1;
	TS_REQUIRE(ms_btree_build(&t, big.v, 100) == 0);
	cnt.fail_at = 0;
	TS_REQUIRE(t.pool_count > 0);

	ms_btree_destroy(&t);
	TS_REQUIRE(cnt.live == 0);
	free(m.v);
	free(big.v);
}
END_TEST

/* ---- focused cases ------------------------------------------------------------------ */

START_TEST(empty_tree)
{
	struct ms_btree t;
	struct ms_btree_cursor c;
	void *below = (void *)1, *above = (void *)1;

	ms_btree_init(&t, &ms_alloc_libc);
	TS_REQUIRE_NULL(ms_btree_check(&t));
	ck_assert_ptr_null(ms_btree_lookup(&t, 0));
	ck_assert_ptr_null(ms_btree_lookup(&t, UINT64_MAX));
	ck_assert_ptr_null(ms_btree_search(&t, 5, &below, &above));
	ck_assert_ptr_null(below);
	ck_assert_ptr_null(above);
	ms_btree_first(&t, &c);
	ck_assert(!ms_btree_cursor_valid(&c));
	ms_btree_range_first(&t, 0, UINT64_MAX, &c);
	ck_assert(!ms_btree_cursor_valid(&c));
	ck_assert(!ms_btree_overlaps(&t, 0, UINT64_MAX, NULL));
	ck_assert_int_eq(ms_btree_remove(&t, 0, NULL), -ENOENT);
	ck_assert_int_eq(ms_btree_replace(&t, 0, NULL), -ENOENT);
	ck_assert_int_eq(ms_btree_build(&t, NULL, 0), 0);
	ck_assert_uint_eq(ms_btree_insert_nodes(&t, 0), 0);
	ck_assert_uint_eq(ms_btree_insert_nodes(&t, 1), 1);
	ck_assert_int_eq(ms_btree_reserve(&t, 0), 0);
	ck_assert_uint_eq(t.pool_count, 0);
	ms_btree_destroy(&t);
}
END_TEST

START_TEST(bad_input)
{
	struct ms_btree_entry unsorted[] = {{10, 20, NULL}, {5, 6, NULL}};
	struct ms_btree_entry overlap[] = {{10, 20, NULL}, {19, 30, NULL}};
	struct ms_btree_entry empty[] = {{10, 10, NULL}};
	struct ms_btree_entry ok[] = {{10, 20, NULL}, {20, 30, NULL}};
	struct ms_btree t;

	ms_btree_init(&t, &ms_alloc_libc);
	ck_assert_int_eq(ms_btree_insert(&t, 5, 5, NULL), -EINVAL);
	ck_assert_int_eq(ms_btree_insert(&t, 6, 5, NULL), -EINVAL);
	ck_assert_int_eq(ms_btree_insert(&t, UINT64_MAX, UINT64_MAX, NULL), -EINVAL);
	ck_assert_int_eq(ms_btree_build(&t, ok, 2), 0);
	ck_assert_int_eq(ms_btree_build(&t, unsorted, 2), -EINVAL);
	ck_assert_int_eq(ms_btree_build(&t, overlap, 2), -EINVAL);
	ck_assert_int_eq(ms_btree_build(&t, empty, 1), -EINVAL);
	ck_assert_uint_eq(t.count, 2); /* a failed build left the tree alone */
	ck_assert_int_eq(ms_btree_insert(&t, 0, 11, NULL), -EEXIST);
	ck_assert_int_eq(ms_btree_insert(&t, 29, 31, NULL), -EEXIST);
	ck_assert_int_eq(ms_btree_insert(&t, 20, 21, NULL), -EEXIST);
	ck_assert_int_eq(ms_btree_insert(&t, 0, 10, NULL), 0);
	ck_assert_int_eq(ms_btree_insert(&t, 30, 31, NULL), 0);
	ck_assert_int_eq(ms_btree_remove(&t, 11, NULL), -ENOENT);
	ck_assert_int_eq(ms_btree_remove(&t, UINT64_MAX, NULL), -ENOENT);
	TS_REQUIRE_NULL(ms_btree_check(&t));
	ms_btree_destroy(&t);
}
END_TEST

/* The top of the gfn space: an entry ending at UINT64_MAX, a lookup of it. */
START_TEST(top_of_range)
{
	struct ms_btree t;
	struct ms_btree_cursor c;
	int a, b;

	ms_btree_init(&t, &ms_alloc_libc);
	for (uint64_t i = 1; i <= 40; i++)
		ck_assert_int_eq(
			ms_btree_insert(&t, UINT64_MAX - 2 * i, UINT64_MAX - 2 * i + 1, &a), 0);
	ck_assert_int_eq(ms_btree_insert(&t, UINT64_MAX - 1, UINT64_MAX, &b), 0);
	TS_REQUIRE_NULL(ms_btree_check(&t));
	ck_assert_ptr_eq(ms_btree_lookup(&t, UINT64_MAX - 1), &b);
	ck_assert_ptr_null(ms_btree_lookup(&t, UINT64_MAX));
	ck_assert_ptr_eq(ms_btree_lookup(&t, UINT64_MAX - 2), &a);
	ck_assert_ptr_null(ms_btree_lookup(&t, UINT64_MAX - 3));
	ms_btree_seek_le(&t, UINT64_MAX, &c);
	ck_assert(ms_btree_cursor_valid(&c));
	ck_assert_uint_eq(ms_btree_cursor_key(&c), UINT64_MAX - 1);
	ms_btree_seek_gt(&t, UINT64_MAX - 1, &c);
	ck_assert(!ms_btree_cursor_valid(&c));
	ck_assert(ms_btree_overlaps(&t, UINT64_MAX - 1, UINT64_MAX, NULL));
	ck_assert(!ms_btree_overlaps(&t, UINT64_MAX - 1, UINT64_MAX, &b));
	ms_btree_destroy(&t);
}
END_TEST

/* What lookups rely on: the layout btree.h documents. */
START_TEST(node_layout)
{
	ck_assert_uint_eq(offsetof(struct ms_btree_leaf, keys), 0);
	ck_assert_uint_eq(offsetof(struct ms_btree_leaf, ent), 80);
	ck_assert_uint_eq(offsetof(struct ms_btree_leaf, next), 240);
	ck_assert_uint_eq(offsetof(struct ms_btree_inner, keys), 128);
	ck_assert_uint_eq(offsetof(struct ms_btree_leaf, meta), 248);
	/* 32764 entries built: 3277 leaves, 205 + 13 + 1 internal nodes. */
	ck_assert_uint_eq(ms_btree_build_nodes(32764), 3277 + 205 + 13 + 1);
}
END_TEST

/* Leaves of @t, and how many of them are not full. */
static size_t count_leaves(const struct ms_btree *t, size_t *not_full)
{
	struct ms_btree_cursor c;
	size_t n = 0;

	*not_full = 0;
	for (ms_btree_first(t, &c); c.leaf; c.leaf = c.leaf->next) {
		n++;
		*not_full += c.leaf->meta.nr < MS_BTREE_LEAF_MAX;
	}
	return n;
}

/*
 * Inserts in key order, ascending and descending (how slots are created),
 * fill every leaf but the two at the growing end: a split alone would
 * leave them 6/10 full.
 */
START_TEST(in_order_inserts_fill_leaves)
{
	const size_t n = 5003;

	for (int descending = 0; descending <= 1; descending++) {
		struct ts_alloc_counter cnt = {0};
		struct ms_alloc a = {.alloc = ts_alloc, .free = ts_free, .opaque = &cnt};
		struct ms_btree t;
		size_t leaves, not_full;

		ms_btree_init(&t, &a);
		for (size_t i = 0; i < n; i++) {
			uint64_t k = (descending ? n - 1 - i : i) * 4;

			TS_REQUIRE(ms_btree_insert(&t, k, k + 3, NULL) == 0);
		}
		TS_REQUIRE_NULL(ms_btree_check(&t));
		leaves = count_leaves(&t, &not_full);
		ck_assert_uint_le(not_full, 2);
		ck_assert_uint_le(leaves, n / MS_BTREE_LEAF_MAX + 2);
		ms_btree_destroy(&t);
		TS_REQUIRE(cnt.live == 0);
	}
}
END_TEST

static Suite *btree_suite(void)
{
	Suite *s = suite_create("btree");
	TCase *tc;

	tc = tcase_create("random_small_dense");
	tcase_add_test(tc, random_small_dense);
	suite_add_tcase(s, tc);
	tc = tcase_create("random_full_range");
	tcase_add_test(tc, random_full_range);
	suite_add_tcase(s, tc);
	tc = tcase_create("random_large");
	tcase_add_test(tc, random_large);
	suite_add_tcase(s, tc);
	tc = tcase_create("build_every_size");
	tcase_add_test(tc, build_every_size);
	suite_add_tcase(s, tc);
	tc = tcase_create("reserve");
	tcase_add_test(tc, reserve_covers_inserts);
	tcase_add_test(tc, insert_allocates_on_demand);
	tcase_add_test(tc, alloc_failure_everywhere);
	suite_add_tcase(s, tc);
	tc = tcase_create("focused");
	tcase_add_test(tc, empty_tree);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, top_of_range);
	tcase_add_test(tc, node_layout);
	tcase_add_test(tc, in_order_inserts_fill_leaves);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(btree_suite());
}
