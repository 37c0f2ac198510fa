/* SPDX-License-Identifier: MIT */
/*
 * Property tests of the intrusive red-black tree against a sorted-array
 * model.  Keys may repeat; ties go right, so among equal keys the tree keeps
 * insertion order and the model is exactly "insert after the last equal
 * key".  After every operation the whole tree is checked by an independent
 * checker (rbtree_model.c) and by ms_rb_validate_cached().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rbtree.h"
#include "rbtree_model.h"
#include "ts_check.h"
#include "ts_scale.h"

/* ---- random operation sequences -------------------------------------------- */

struct random_cfg {
	uint64_t seed;
	size_t ops;
	size_t pool;	   /* number of nodes available (max tree size) */
	uint64_t key_span; /* keys drawn from [0, key_span); 0: full 64-bit */
	unsigned int grow; /* percent chance of insert (vs erase) when neither is forced */
};

static size_t scaled(size_t n)
{
	return ts_scaled(n, 20);
}

static uint64_t draw_key(struct ts_rng *r, uint64_t span)
{
	return span ? ts_rng_below(r, span) : ts_rng_next(r);
}

/* A node of the pool that is not in the tree: the pool has spare nodes. */
static struct ts_tnode *spare_node(struct ts_tnode *pool, size_t npool, struct ts_rng *r)
{
	size_t i = ts_rng_below(r, npool);

	while (pool[i].in_tree)
		i = (i + 1) % npool;
	return &pool[i];
}

static void run_random(const struct random_cfg *cfg)
{
	struct ms_rb_root_cached root = MS_RB_ROOT_CACHED;
	/* One spare beyond the pool size so that replace always has a node. */
	size_t npool = cfg->pool + 1;
	struct ts_tnode *pool = calloc(npool, sizeof(*pool));
	size_t ops = scaled(cfg->ops);
	struct ts_rb_model m;
	struct ts_rng r;

	ck_assert_ptr_nonnull(pool);
	ts_rb_model_init(&m, npool);
	ts_rng_seed(&r, cfg->seed);
	for (size_t op = 0; op < ops; op++) {
		unsigned int dice = (unsigned int)ts_rng_below(&r, 100);

		if (m.n && dice < 15) {
			size_t i = ts_rng_below(&r, m.n);

			ts_rb_replace_at(&root, &m, i, spare_node(pool, npool, &r));
		} else if (m.n < cfg->pool && (m.n == 0 || dice < 15 + cfg->grow * 85 / 100)) {
			struct ts_tnode *n = spare_node(pool, npool, &r);

			n->key = draw_key(&r, cfg->key_span);
			ts_rb_insert(&root, &m, n);
		} else {
			ts_rb_erase_at(&root, &m, ts_rng_below(&r, m.n));
		}
		ts_rb_check_tree(&root, &m);
	}
	/* Drain, still checking. */
	while (m.n) {
		ts_rb_erase_at(&root, &m, ts_rng_below(&r, m.n));
		ts_rb_check_tree(&root, &m);
	}
	ck_assert_ptr_null(root.root.node);
	ts_rb_model_free(&m);
	free(pool);
}

/* run_random() of @cfg for each seed from @first to @last. */
static void run_seeds(uint64_t first, uint64_t last, struct random_cfg cfg)
{
	for (cfg.seed = first; cfg.seed <= last; cfg.seed++)
		run_random(&cfg);
}

/* Small trees with many equal keys: stresses ties and tiny-tree cases. */
START_TEST(random_dup_keys)
{
	run_seeds(1, 8, (struct random_cfg){.ops = 25000, .pool = 64, .key_span = 16, .grow = 50});
}
END_TEST

/* Medium trees of mostly unique keys. */
START_TEST(random_unique_keys)
{
	run_seeds(11, 18,
		  (struct random_cfg){.ops = 20000, .pool = 300, .key_span = 0, .grow = 50});
}
END_TEST

/* Grow to a larger tree (insert-biased), then the drain shrinks it. */
START_TEST(random_grow_shrink)
{
	run_seeds(21, 23,
		  (struct random_cfg){.ops = 6000, .pool = 1500, .key_span = 4096, .grow = 75});
}
END_TEST

/*
 * Many operations on a mid-size tree, fully checked every 16th step.
 */
START_TEST(random_many_ops)
{
	struct ms_rb_root_cached root = MS_RB_ROOT_CACHED;
	enum { POOL = 512 };
	static struct ts_tnode pool[POOL + 1];
	size_t ops = scaled(1000000);
	struct ts_rb_model m;
	struct ts_rng r;

	memset(pool, 0, sizeof(pool));
	ts_rb_model_init(&m, POOL + 1);
	ts_rng_seed(&r, 99);
	for (size_t op = 0; op < ops; op++) {
		unsigned int dice = (unsigned int)ts_rng_below(&r, 100);

		if (m.n && dice < 10) {
			ts_rb_replace_at(&root, &m, ts_rng_below(&r, m.n),
					 spare_node(pool, POOL + 1, &r));
		} else if (m.n < POOL && (m.n == 0 || dice < 55)) {
			struct ts_tnode *n = spare_node(pool, POOL + 1, &r);

			n->key = ts_rng_below(&r, 1000);
			ts_rb_insert(&root, &m, n);
		} else {
			ts_rb_erase_at(&root, &m, ts_rng_below(&r, m.n));
		}
		if (op % 16 == 0)
			ts_rb_check_tree(&root, &m);
	}
	ts_rb_check_tree(&root, &m);
	ts_rb_model_free(&m);
}
END_TEST

/* ---- focused cases ------------------------------------------------------------ */

START_TEST(empty_tree)
{
	struct ms_rb_root_cached root = MS_RB_ROOT_CACHED;
	struct ms_rb_root plain = MS_RB_ROOT;
	struct ts_rb_model m = {0};
	size_t count = 42;

	ck_assert(ms_rb_empty(&plain));
	ck_assert_ptr_null(ms_rb_first(&plain));
	ck_assert_ptr_null(ms_rb_last(&plain));
	ck_assert_ptr_null(ms_rb_validate(&plain, ts_tnode_cmp, &count));
	ck_assert_uint_eq(count, 0);
	ck_assert_ptr_null(ms_rb_validate(&plain, NULL, NULL));
	ts_rb_check_tree(&root, &m);
	ck_assert_ptr_null(ms_rb_first_cached(&root));
}
END_TEST

START_TEST(single_node)
{
	struct ms_rb_root_cached root = MS_RB_ROOT_CACHED;
	struct ts_tnode a = {.key = 7}, b = {0};
	struct ts_tnode *v[1] = {&a};
	struct ts_rb_model m = {.v = v, .n = 1, .cap = 1};
	struct ts_rb_model none = {0};

	ms_rb_clear_node(&a.rb);
	ck_assert(ms_rb_node_empty(&a.rb));
	ts_rb_tree_insert(&root, &a);
	ck_assert(!ms_rb_node_empty(&a.rb));
	ck_assert(ms_rb_is_black(&a.rb));
	ck_assert_ptr_null(ms_rb_parent(&a.rb));
	ck_assert_ptr_null(ms_rb_next(&a.rb));
	ck_assert_ptr_null(ms_rb_prev(&a.rb));
	ts_rb_check_tree(&root, &m);

	ts_rb_replace_at(&root, &m, 0, &b);
	ck_assert_ptr_eq(root.root.node, &b.rb);
	ck_assert_ptr_eq(root.leftmost, &b.rb);
	ts_rb_check_tree(&root, &m);

	ts_rb_tree_erase(&root, &b);
	ck_assert_ptr_null(root.root.node);
	ck_assert_ptr_null(root.leftmost);
	ts_rb_check_tree(&root, &none);
}
END_TEST

/* Builds a tree of @n nodes with keys 0, 2, 4, ... inserted in random order. */
static void build_tree(struct ms_rb_root_cached *root, struct ts_rb_model *m,
		       struct ts_tnode *nodes, size_t n, struct ts_rng *r)
{
	size_t *perm = malloc(n * sizeof(*perm));

	ck_assert_ptr_nonnull(perm);
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = ts_rng_below(r, i), t = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	*root = MS_RB_ROOT_CACHED;
	m->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct ts_tnode *t = &nodes[perm[i]];

		t->key = 2 * perm[i];
		ts_rb_insert(root, m, t);
	}
	free(perm);
	ts_rb_check_tree(root, m);
}

START_TEST(replace_keeps_position_and_colour)
{
	enum { N = 200 };
	static struct ts_tnode nodes[N], fresh[N];
	struct ms_rb_root_cached root;
	struct ts_rb_model m;
	struct ts_rng r;
	bool seen_red = false, seen_black = false;

	ts_rb_model_init(&m, N);
	ts_rng_seed(&r, 5);
	build_tree(&root, &m, nodes, N, &r);
	/* Replace every node (root, leaves, inner, leftmost, rightmost). */
	for (size_t i = 0; i < N; i++) {
		struct ts_tnode *old = m.v[i];
		bool red = ms_rb_is_red(&old->rb);

		seen_red |= red;
		seen_black |= !red;
		ts_rb_replace_at(&root, &m, i, &fresh[i]);
		ck_assert_int_eq(ms_rb_is_red(&fresh[i].rb), red);
		ck_assert_ptr_eq(m.v[i], &fresh[i]);
		ts_rb_check_tree(&root, &m);
	}
	ck_assert(seen_red && seen_black);
	ts_rb_model_free(&m);
}
END_TEST

enum erase_order { ERASE_ASCENDING, ERASE_DESCENDING, ERASE_RANDOM, ERASE_ROOT, ERASE_ENDS };

static size_t pick_victim(const struct ms_rb_root_cached *root, const struct ts_rb_model *m,
			  enum erase_order order, size_t step, struct ts_rng *r)
{
	switch (order) {
	case ERASE_ASCENDING:
		return 0;
	case ERASE_DESCENDING:
		return m->n - 1;
	case ERASE_RANDOM:
		return ts_rng_below(r, m->n);
	case ERASE_ROOT:
		for (size_t i = 0; i < m->n; i++)
			if (&m->v[i]->rb == root->root.node)
				return i;
		ck_abort_msg("root not in the model");
		return 0;
	case ERASE_ENDS:
	default:
		return step % 2 ? m->n - 1 : 0;
	}
}

START_TEST(erase_every_node_in_orders)
{
	enum { MAXN = 300 };
	static struct ts_tnode nodes[MAXN];
	static const size_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 64, 100, MAXN};
	struct ms_rb_root_cached root;
	struct ts_rb_model m;
	struct ts_rng r;

	ts_rb_model_init(&m, MAXN);
	ts_rng_seed(&r, 77);
	for (int order = ERASE_ASCENDING; order <= ERASE_ENDS; order++) {
		for (size_t s = 0; s < MS_ARRAY_SIZE(sizes); s++) {
			size_t step = 0;

			build_tree(&root, &m, nodes, sizes[s], &r);
			while (m.n) {
				size_t i = pick_victim(&root, &m, order, step++, &r);

				ts_rb_erase_at(&root, &m, i);
				ts_rb_check_tree(&root, &m);
			}
			ck_assert_ptr_null(root.root.node);
		}
	}
	ts_rb_model_free(&m);
}
END_TEST

/* Sorted insertion is the classic worst case for an unbalanced tree. */
START_TEST(sequential_inserts_stay_balanced)
{
	enum { N = 4096 };
	static struct ts_tnode nodes[N];
	struct ms_rb_root_cached root = MS_RB_ROOT_CACHED;
	struct ts_rb_model m;

	ts_rb_model_init(&m, N);
	for (size_t i = 0; i < N; i++) {
		nodes[i].key = i;
		ts_rb_insert(&root, &m, &nodes[i]);
		if (i % 256 == 0)
			ts_rb_check_tree(&root, &m);
	}
	ts_rb_check_tree(&root, &m);
	/* Then descending order into a fresh tree. */
	root = MS_RB_ROOT_CACHED;
	m.n = 0;
	for (size_t i = N; i-- > 0;) {
		nodes[i].key = i;
		ts_rb_insert(&root, &m, &nodes[i]);
		ck_assert_ptr_eq(root.leftmost, &nodes[i].rb);
	}
	ts_rb_check_tree(&root, &m);
	ts_rb_model_free(&m);
}
END_TEST

/* The validator itself must notice each kind of damage. */
START_TEST(validator_detects_corruption)
{
	enum { N = 31 };
	static struct ts_tnode nodes[N];
	struct ms_rb_root_cached root;
	struct ms_rb_node *top, *l, saved;
	struct ts_rb_model m;
	struct ts_rng r;

	ts_rb_model_init(&m, N);
	ts_rng_seed(&r, 3);
	build_tree(&root, &m, nodes, N, &r);
	top = root.root.node;

	/* Red root. */
	top->parent_color &= ~(uintptr_t)MS_RB_BLACK;
	ck_assert_ptr_eq(ms_rb_validate(&root.root, NULL, NULL), ms_rb_bad_root_red);
	top->parent_color |= MS_RB_BLACK;

	/* Wrong parent pointer. */
	l = top->left;
	saved = *l;
	l->parent_color = (uintptr_t)l->left | (l->parent_color & 1);
	ck_assert_ptr_eq(ms_rb_validate(&root.root, NULL, NULL), ms_rb_bad_parent);
	*l = saved;

	/* Stray flag bit. */
	l->parent_color |= 2;
	ck_assert_ptr_eq(ms_rb_validate(&root.root, NULL, NULL), ms_rb_bad_flags);
	*l = saved;

	/* Out of order. */
	{
		uint64_t k = ts_tnode_of(top)->key;

		ts_tnode_of(top)->key = UINT64_MAX;
		ck_assert_ptr_eq(ms_rb_validate(&root.root, ts_tnode_cmp, NULL), ms_rb_bad_order);
		ck_assert_ptr_null(ms_rb_validate(&root.root, NULL, NULL));
		ts_tnode_of(top)->key = k;
	}

	/* Wrong leftmost. */
	root.leftmost = top;
	ck_assert_ptr_eq(ms_rb_validate_cached(&root, ts_tnode_cmp, NULL), ms_rb_bad_leftmost);
	root.leftmost = ms_rb_first(&root.root);

	/* Flipping one colour breaks red-red or the black height. */
	{
		struct ms_rb_node *leaf = ms_rb_first(&root.root);
		const char *why;

		leaf->parent_color ^= MS_RB_BLACK;
		why = ms_rb_validate(&root.root, NULL, NULL);
		ck_assert(why == ms_rb_bad_red_red || why == ms_rb_bad_black_height);
		leaf->parent_color ^= MS_RB_BLACK;
	}

	/* A link back to an ancestor is caught (its parent word disagrees). */
	{
		struct ms_rb_node *last = ms_rb_last(&root.root);

		last->right = top;
		ck_assert_ptr_eq(ms_rb_validate(&root.root, NULL, NULL), ms_rb_bad_parent);
		last->right = NULL;
	}

	ck_assert_ptr_null(ms_rb_validate_cached(&root, ts_tnode_cmp, NULL));
	/* One sentence per invariant: a report names the one that broke. */
	{
		const char *const all[] = {
			ms_rb_bad_root_red, ms_rb_bad_parent,	    ms_rb_bad_flags,
			ms_rb_bad_red_red,  ms_rb_bad_black_height, ms_rb_bad_order,
			ms_rb_bad_leftmost, ms_rb_bad_depth,	    ms_rb_bad_augment,
			ms_rb_bad_key,	    ms_rb_bad_count,
		};

		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			for (size_t j = 0; j < i; j++)
				ck_assert_str_ne(all[i], all[j]);
	}
	ts_rb_model_free(&m);
}
END_TEST

/* A consistent but absurdly deep chain hits the depth bound, not the stack. */
START_TEST(validator_bounds_depth)
{
	enum { N = 200 };
	static struct ms_rb_node chain[N];
	struct ms_rb_root root = {&chain[0]};

	for (size_t i = 0; i < N; i++) {
		chain[i].parent_color = (uintptr_t)(i ? &chain[i - 1] : NULL) | MS_RB_BLACK;
		chain[i].left = i + 1 < N ? &chain[i + 1] : NULL;
		chain[i].right = NULL;
	}
	ck_assert_ptr_eq(ms_rb_validate(&root, NULL, NULL), ms_rb_bad_depth);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("rbtree");
	TCase *tc;

	tc = tcase_create("focused");
	tcase_add_test(tc, empty_tree);
	tcase_add_test(tc, single_node);
	tcase_add_test(tc, replace_keeps_position_and_colour);
	tcase_add_test(tc, erase_every_node_in_orders);
	tcase_add_test(tc, sequential_inserts_stay_balanced);
	tcase_add_test(tc, validator_detects_corruption);
	tcase_add_test(tc, validator_bounds_depth);
	suite_add_tcase(s, tc);

	tc = tcase_create("random_dup");
	tcase_add_test(tc, random_dup_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("random_unique");
	tcase_add_test(tc, random_unique_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("random_grow_shrink");
	tcase_add_test(tc, random_grow_shrink);
	suite_add_tcase(s, tc);

	tc = tcase_create("random_many");
	tcase_add_test(tc, random_many_ops);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
