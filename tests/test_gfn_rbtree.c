/* SPDX-License-Identifier: MIT */
/*
 * Property tests of KVM's gfn red-black tree (src/kvm_gfn_tree.h) against
 * a brute-force model.
 *
 * Two sets share one pool of elements, each element with a node per set,
 * as slots are shared by a memslots object's two sets: random inserts
 * (refused when empty, wrapping or overlapping, exactly as the model
 * says), erases, replaces (by an element of the same range, often one
 * already in the other set, as KVM's INVALID copy is; refused when the
 * range differs), and lookups of every kind, each compared with a linear
 * scan of the set's elements.  After every change both sets are checked:
 * ms_gfn_tree_check(), ms_rb_validate_cached(), an independent recount of
 * colours and black heights, walks both ways against the model, and the
 * nodes' linked state.  A last case runs lock-free readers on one set
 * while a writer churns the other over the same elements: under TSan it
 * shows that a writer of one set writes nothing a reader of the other
 * reads.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "kvm_gfn_tree.h"
#include "ts_check.h"
#include "ts_scale.h"
#include "ts_twosets.h"

static size_t scaled(size_t n)
{
	return ts_scaled(n, 25);
}

/* An element as a slot is laid out: keys first, then one node per set. */
struct gslot {
	uint64_t base;
	uint64_t npages;
	struct ms_gfn_node node[2];
	bool in[2];
};

static uint64_t gs_end(const struct gslot *e)
{
	return e->base + e->npages;
}

static bool gs_holds(const struct gslot *e, uint64_t gfn)
{
	return gfn >= e->base && gfn - e->base < e->npages;
}

/* [start, end) is empty when end <= start. */
static bool gs_meets(const struct gslot *e, uint64_t start, uint64_t end)
{
	return start < end && e->base < end && start < gs_end(e);
}

/* One set: its tree, and the model, its elements sorted by base. */
struct gset {
	struct ms_gfn_tree t;
	unsigned int idx;
	struct gslot **v;
	size_t n, cap;
};

static void gset_init(struct gset *s, unsigned int idx, size_t cap)
{
	ms_gfn_tree_init(&s->t, MS_GFN_TREE_OFF(struct gslot, node, idx, base),
			 MS_GFN_TREE_OFF(struct gslot, node, idx, npages));
	s->idx = idx;
	s->v = calloc(cap, sizeof(*s->v));
	ck_assert_ptr_nonnull(s->v);
	s->n = 0;
	s->cap = cap;
}

static void gset_free(struct gset *s)
{
	free(s->v);
}

static struct gslot *gs_of(const struct gset *s, const struct ms_gfn_node *n)
{
	return n ? ms_gfn_entry(n, s->idx, struct gslot, node) : NULL;
}

static void pool_init(struct gslot *pool, size_t n)
{
	memset(pool, 0, n * sizeof(*pool));
	for (size_t i = 0; i < n; i++) {
		ms_gfn_node_clear(&pool[i].node[0]);
		ms_gfn_node_clear(&pool[i].node[1]);
	}
}

/* What a random run did: each kind must have happened, or it tested less. */
static struct {
	size_t inserted, overlapping, invalid, replaced, refused, shared, max_n;
} stats;

/* ---- the model: brute force over the set's elements ---------------------- */

/* What insert must answer for @e. */
static int ts_model_insert_rc(const struct gset *s, const struct gslot *e)
{
	if (!e->npages || e->npages > UINT64_MAX - e->base)
		return -EINVAL;
	for (size_t i = 0; i < s->n; i++)
		if (gs_meets(s->v[i], e->base, gs_end(e)))
			return -EEXIST;
	return 0;
}

static void ts_model_add(struct gset *s, struct gslot *e)
{
	size_t i = s->n;

	TS_REQUIRE(s->n < s->cap);
	while (i > 0 && s->v[i - 1]->base > e->base) {
		s->v[i] = s->v[i - 1];
		i--;
	}
	s->v[i] = e;
	s->n++;
	e->in[s->idx] = true;
}

static void ts_model_remove_at(struct gset *s, size_t i)
{
	s->v[i]->in[s->idx] = false;
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
}

/* ---- the tree side, checked against the model ------------------------- */

static int set_insert(struct gset *s, struct gslot *e)
{
	int want = ts_model_insert_rc(s, e);
	int rc = ms_gfn_tree_insert(&s->t, &e->node[s->idx]);

	if (rc != want)
		ck_abort_msg("insert [%llu, +%llu): %d, the model says %d",
			     (unsigned long long)e->base, (unsigned long long)e->npages, rc, want);
	if (rc == 0) {
		ts_model_add(s, e);
		stats.inserted++;
		stats.shared += e->in[!s->idx];
		stats.max_n = s->n > stats.max_n ? s->n : stats.max_n;
	} else {
		TS_REQUIRE(!ms_gfn_node_linked(&e->node[s->idx]));
		stats.overlapping += rc == -EEXIST;
		stats.invalid += rc == -EINVAL;
	}
	return rc;
}

static void set_erase_at(struct gset *s, size_t i)
{
	struct gslot *e = s->v[i];

	ms_gfn_tree_erase(&s->t, &e->node[s->idx]);
	TS_REQUIRE(!ms_gfn_node_linked(&e->node[s->idx]));
	ts_model_remove_at(s, i);
}

/* Replaces the model's @i-th element by @fresh; @fresh's keys decide the
 * expected answer. */
static void set_replace_at(struct gset *s, size_t i, struct gslot *fresh)
{
	struct gslot *old = s->v[i];
	struct ms_rb_node saved = old->node[s->idx].rb;
	bool same = fresh->base == old->base && fresh->npages == old->npages;
	int rc = ms_gfn_tree_replace(&s->t, &old->node[s->idx], &fresh->node[s->idx]);

	TS_REQUIRE(rc == (same ? 0 : -EINVAL));
	if (rc) {
		stats.refused++;
		TS_REQUIRE(ms_gfn_node_linked(&old->node[s->idx]));
		TS_REQUIRE(!ms_gfn_node_linked(&fresh->node[s->idx]));
		return;
	}
	/* Same place, same colour, O(1): the links are taken over as they were. */
	TS_REQUIRE(fresh->node[s->idx].rb.parent_color == saved.parent_color);
	TS_REQUIRE(fresh->node[s->idx].rb.left == saved.left);
	TS_REQUIRE(fresh->node[s->idx].rb.right == saved.right);
	TS_REQUIRE(!ms_gfn_node_linked(&old->node[s->idx]));
	stats.replaced++;
	stats.shared += fresh->in[!s->idx];
	old->in[s->idx] = false;
	fresh->in[s->idx] = true;
	s->v[i] = fresh;
}

/* Independent of rbtree.c's validator: the black height of @n's subtree. */
static unsigned int black_height(const struct ms_rb_node *n, const struct ms_rb_node *parent,
				 unsigned int depth)
{
	unsigned int lh, rh;

	if (!n)
		return 1;
	TS_REQUIRE(depth <= 128);
	TS_REQUIRE(ms_rb_parent(n) == parent);
	if (ms_rb_is_red(n)) {
		TS_REQUIRE(parent != NULL);
		TS_REQUIRE(!n->left || ms_rb_is_black(n->left));
		TS_REQUIRE(!n->right || ms_rb_is_black(n->right));
	}
	lh = black_height(n->left, n, depth + 1);
	rh = black_height(n->right, n, depth + 1);
	TS_REQUIRE(lh == rh);
	return lh + ms_rb_is_black(n);
}

static void check_set(const struct gset *s)
{
	const char *why = ms_gfn_tree_check(&s->t);
	const struct ms_gfn_node *n;
	size_t count = 0, i;

	if (why)
		ck_abort_msg("set %u: %s", s->idx, why);
	TS_REQUIRE(ms_rb_validate_cached(&s->t.root, NULL, &count) == 0);
	TS_REQUIRE(count == s->n);
	TS_REQUIRE(ms_gfn_tree_count(&s->t) == s->n);
	black_height(s->t.root.root.node, NULL, 0);
	for (i = 1; i < s->n; i++)
		TS_REQUIRE(gs_end(s->v[i - 1]) <= s->v[i]->base); /* the model itself */
	for (i = 0, n = ms_gfn_tree_first(&s->t); n; n = ms_gfn_tree_next(n), i++) {
		TS_REQUIRE(i < s->n && gs_of(s, n) == s->v[i]);
		TS_REQUIRE(s->v[i]->in[s->idx] && ms_gfn_node_linked(n));
	}
	TS_REQUIRE(i == s->n);
	for (n = ms_gfn_tree_last(&s->t); n; n = ms_gfn_tree_prev(n))
		TS_REQUIRE(i > 0 && gs_of(s, n) == s->v[--i]);
	TS_REQUIRE(i == 0);
}

/* Every point lookup at @gfn against a scan of the model. */
static void check_point(const struct gset *s, uint64_t gfn)
{
	struct gslot *hit = NULL, *lo = NULL, *hi = NULL, *approx;
	struct ms_gfn_node *below, *above;

	for (size_t i = 0; i < s->n; i++) {
		struct gslot *e = s->v[i];

		if (gs_holds(e, gfn))
			hit = e;
		if (e->base <= gfn && (!lo || e->base > lo->base))
			lo = e;
		if (e->base > gfn && (!hi || e->base < hi->base))
			hi = e;
	}
	TS_REQUIRE(gs_of(s, ms_gfn_tree_find(&s->t, gfn)) == hit);
	TS_REQUIRE(gs_of(s, ms_gfn_tree_search(&s->t, gfn, &below, &above)) == hit);
	TS_REQUIRE(gs_of(s, below) == lo);
	TS_REQUIRE(gs_of(s, above) == hi);
	TS_REQUIRE(gs_of(s, ms_gfn_tree_search(&s->t, gfn, NULL, NULL)) == hit);
	/* KVM's approx: the hit, else a border of the hole, NULL only if empty. */
	approx = gs_of(s, ms_gfn_tree_find_approx(&s->t, gfn));
	if (hit)
		TS_REQUIRE(approx == hit);
	else if (s->n)
		TS_REQUIRE(approx && (approx == lo || approx == hi));
	else
		TS_REQUIRE(!approx);
}

/* The range walk over [start, end) against a scan of the model. */
static void check_range(const struct gset *s, uint64_t start, uint64_t end)
{
	const struct ms_gfn_node *n = ms_gfn_tree_range_first(&s->t, start, end);
	const struct gslot *first = NULL;
	size_t i = 0, hits = 0;

	for (; i < s->n; i++) {
		if (!gs_meets(s->v[i], start, end))
			continue;
		if (!first)
			first = s->v[i];
		hits++;
		if (!n || gs_of(s, n) != s->v[i])
			ck_abort_msg(
				"range [%llu, %llu): element %zu [%llu, +%llu) not walked (got %p)",
				(unsigned long long)start, (unsigned long long)end, i,
				(unsigned long long)s->v[i]->base,
				(unsigned long long)s->v[i]->npages, (void *)n);
		n = ms_gfn_tree_range_next(&s->t, n, end);
	}
	TS_REQUIRE(n == NULL);
	TS_REQUIRE(ms_gfn_tree_overlaps(&s->t, start, end, NULL) == (hits > 0));
	if (first)
		TS_REQUIRE(ms_gfn_tree_overlaps(&s->t, start, end, &first->node[s->idx]) ==
			   (hits > 1));
}

/* ---- random operation sequences ------------------------------------------ */

struct random_cfg {
	uint64_t seed;
	size_t ops;
	size_t pool;
	uint64_t span;		  /* bases drawn from [0, span), or below the top with top */
	uint64_t max_npages;	  /* npages drawn from [1, max_npages] mostly */
	bool top;		  /* bases near UINT64_MAX: the no-wrap edge */
	unsigned int check_every; /* full checks every this many ops (1: always) */
};

/* A random run's two sets, for ts_twosets_run(). */
struct run_ctx {
	struct gset sets[2];
	struct gslot *pool;
	size_t npool;
	const struct random_cfg *c;
};

static void draw_range(struct ts_rng *r, const struct random_cfg *c, struct gslot *e)
{
	uint64_t off = ts_rng_below(r, c->span);

	e->base = c->top ? UINT64_MAX - off : off;
	switch (ts_rng_below(r, 64)) {
	case 0:
		e->npages = 0; /* refused */
		break;
	case 1:
		e->npages = UINT64_MAX - e->base; /* the last possible end */
		break;
	case 2:
		e->npages = UINT64_MAX - e->base + 1 + ts_rng_below(r, 4); /* wraps */
		break;
	default:
		e->npages = 1 + ts_rng_below(r, c->max_npages);
		break;
	}
}

/* A gfn where bugs hide: at and around the edges of an element. */
static uint64_t draw_gfn(struct ts_rng *r, const struct random_cfg *c, const struct gset *s)
{
	const struct gslot *e;

	if (!s->n || ts_rng_below(r, 4) == 0) {
		uint64_t off = ts_rng_below(r, c->span + c->max_npages);

		return c->top ? UINT64_MAX - off : off;
	}
	e = s->v[ts_rng_below(r, s->n)];
	switch (ts_rng_below(r, 5)) {
	case 0:
		return e->base - 1;
	case 1:
		return e->base;
	case 2:
		return gs_end(e) - 1;
	case 3:
		return gs_end(e);
	default:
		return e->base + ts_rng_below(r, e->npages);
	}
}

/* The other set's element of @old's range that is not in @s, if any. */
static struct gslot *twin(const struct gset *s, const struct gset *other, const struct gslot *old)
{
	struct gslot *e = gs_of(other, ms_gfn_tree_find(&other->t, old->base));

	if (e && e != old && !e->in[s->idx] && e->base == old->base && e->npages == old->npages)
		return e;
	return NULL;
}

static void random_replace(struct gset *s, struct gset *other, struct gslot *pool, size_t npool,
			   struct ts_rng *r)
{
	size_t i = ts_rng_below(r, s->n);
	struct gslot *old = s->v[i], *fresh = twin(s, other, old);

	/* KVM's flow: the copy made for one set goes into the other as well. */
	if (fresh && ts_rng_below(r, 4))
		goto replace;
	fresh = TS_SPARE(struct gslot, pool, npool, s->idx, true, r);
	if (!fresh)
		fresh = TS_SPARE(struct gslot, pool, npool, s->idx, false,
				 r); /* keys fixed: likely refused */
	else if (ts_rng_below(r, 8) == 0)
		fresh->base = old->base + 1, fresh->npages = old->npages; /* refused */
	else if (ts_rng_below(r, 8) == 0)
		fresh->base = old->base, fresh->npages = old->npages + 1; /* refused */
	else
		fresh->base = old->base, fresh->npages = old->npages;
replace:
	set_replace_at(s, i, fresh);
}

/* One random operation of a run, for ts_twosets_run(). */
static void random_step(void *ctx, struct ts_rng *r)
{
	struct run_ctx *x = ctx;
	struct gset *s = &x->sets[ts_rng_below(r, 2)], *other = &x->sets[!s->idx];
	const struct random_cfg *c = x->c;
	struct gslot *pool = x->pool;
	size_t npool = x->npool;
	unsigned int dice = (unsigned int)ts_rng_below(r, 100);

	if (dice < 45 || !s->n) {
		struct gslot *e = TS_SPARE(struct gslot, pool, npool, s->idx, false, r);

		if (!e)
			return;
		/* In the other set already: its keys are fixed (a shared slot). */
		if (!e->in[other->idx])
			draw_range(r, c, e);
		set_insert(s, e);
	} else if (dice < 70) {
		set_erase_at(s, ts_rng_below(r, s->n));
	} else if (dice < 85) {
		random_replace(s, other, pool, npool, r);
	} else {
		uint64_t start = draw_gfn(r, c, s), len = ts_rng_below(r, 3 * c->max_npages);

		for (int k = 0; k < 4; k++)
			check_point(s, draw_gfn(r, c, s));
		check_range(s, start, len > UINT64_MAX - start ? UINT64_MAX : start + len);
		check_range(s, draw_gfn(r, c, s), draw_gfn(r, c, s));
	}
}

static void run_check(const void *ctx, unsigned int k)
{
	check_set(&((const struct run_ctx *)ctx)->sets[k]);
}

static size_t run_count(const void *ctx, unsigned int k)
{
	return ((const struct run_ctx *)ctx)->sets[k].n;
}

static void run_erase_at(void *ctx, unsigned int k, size_t i)
{
	set_erase_at(&((struct run_ctx *)ctx)->sets[k], i);
}

static const struct ts_twosets_ops run_ops = {
	.step = random_step, .check = run_check, .count = run_count, .remove_at = run_erase_at};

static void run_random(const struct random_cfg *c)
{
	struct run_ctx x = {.pool = calloc(c->pool, sizeof(*x.pool)), .npool = c->pool, .c = c};

	ck_assert_ptr_nonnull(x.pool);
	memset(&stats, 0, sizeof(stats));
	pool_init(x.pool, x.npool);
	gset_init(&x.sets[0], 0, x.npool);
	gset_init(&x.sets[1], 1, x.npool);
	ts_twosets_run(&run_ops, &x, c->seed, scaled(c->ops), c->check_every);
	for (unsigned int k = 0; k < 2; k++) {
		ck_assert_ptr_null(x.sets[k].t.root.root.node);
		ck_assert_ptr_null(x.sets[k].t.root.leftmost);
		gset_free(&x.sets[k]);
	}
	free(x.pool);
	fprintf(stderr,
		"seed %llu: %zu inserted, %zu overlapping, %zu invalid, %zu replaced, "
		"%zu refused, %zu shared; up to %zu in a set\n",
		(unsigned long long)c->seed, stats.inserted, stats.overlapping, stats.invalid,
		stats.replaced, stats.refused, stats.shared, stats.max_n);
	ck_assert(stats.inserted && stats.overlapping && stats.invalid && stats.replaced &&
		  stats.refused && stats.shared);
}

/* run_random() of @cfg for each seed from @first to @last. */
static void run_seeds(uint64_t first, uint64_t last, struct random_cfg cfg)
{
	for (cfg.seed = first; cfg.seed <= last; cfg.seed++)
		run_random(&cfg);
}

/* A small gfn space: most inserts collide, trees stay small and churn. */
START_TEST(random_dense)
{
	run_seeds(
		1, 6,
		(struct random_cfg){
			.ops = 20000, .pool = 96, .span = 512, .max_npages = 16, .check_every = 1});
}
END_TEST

/* A wide space and many elements: large trees, single-page and long slots. */
START_TEST(random_sparse)
{
	run_seeds(11, 14,
		  (struct random_cfg){.ops = 10000,
				      .pool = 600,
				      .span = 1u << 20,
				      .max_npages = 512,
				      .check_every = 1});
}
END_TEST

/* Ranges ending at or wrapping past UINT64_MAX. */
START_TEST(random_top)
{
	run_seeds(21, 24,
		  (struct random_cfg){.ops = 15000,
				      .pool = 80,
				      .span = 256,
				      .max_npages = 8,
				      .top = true,
				      .check_every = 1});
}
END_TEST

/* A long run on mid-size trees, checked every 16th step. */
START_TEST(random_many)
{
	struct random_cfg c = {.seed = 99,
			       .ops = 600000,
			       .pool = 400,
			       .span = 1u << 14,
			       .max_npages = 64,
			       .check_every = 16};

	run_random(&c);
}
END_TEST

/* ---- focused cases ------------------------------------------------------- */

/* A set of tree @idx over the @n elements of @pool, all out of the tree. */
static void pooled_set(struct gset *s, unsigned int idx, struct gslot *pool, size_t n)
{
	pool_init(pool, n);
	gset_init(s, idx, n);
}

static void put(struct gset *s, struct gslot *e, uint64_t base, uint64_t npages, int want)
{
	e->base = base;
	e->npages = npages;
	ck_assert_int_eq(set_insert(s, e), want);
	check_set(s);
}

START_TEST(empty_tree)
{
	struct gset s;

	gset_init(&s, 0, 1);
	check_set(&s);
	ck_assert_ptr_null(ms_gfn_tree_first(&s.t));
	ck_assert_ptr_null(ms_gfn_tree_last(&s.t));
	ck_assert_ptr_null(ms_gfn_tree_find(&s.t, 0));
	ck_assert_ptr_null(ms_gfn_tree_find_approx(&s.t, 5));
	ck_assert_ptr_null(ms_gfn_tree_range_first(&s.t, 0, UINT64_MAX));
	ck_assert(!ms_gfn_tree_overlaps(&s.t, 0, UINT64_MAX, NULL));
	check_point(&s, UINT64_MAX);
	gset_free(&s);
}
END_TEST

/* Every way a range can meet another is refused; touching is not. */
START_TEST(insert_refusals)
{
	/* In turn: the element, its range and the answer of its insert. */
	static const struct {
		unsigned int e;
		uint64_t base, npages;
		int want;
	} inserts[] = {
		{0, 100, 10, 0},	       /* [100, 110) */
		{1, 100, 10, -EEXIST},	       /* the same */
		{1, 100, 1, -EEXIST},	       /* same base */
		{1, 95, 6, -EEXIST},	       /* over its start */
		{1, 109, 5, -EEXIST},	       /* over its end */
		{1, 102, 3, -EEXIST},	       /* inside */
		{1, 50, 100, -EEXIST},	       /* around */
		{1, 90, 10, 0},		       /* touches below: [90, 100) */
		{2, 110, 10, 0},	       /* touches above: [110, 120) */
		{3, 0, 0, -EINVAL},	       /* empty */
		{3, UINT64_MAX, 1, -EINVAL},   /* would end at 2^64 */
		{3, 2, UINT64_MAX, -EINVAL},   /* wraps */
		{3, UINT64_MAX - 4, 4, 0},     /* ends at UINT64_MAX */
		{4, 120, UINT64_MAX - 124, 0}, /* fills the gap up to it exactly */
		{5, 0, 90, 0},		       /* fills the bottom */
	};
	static struct gslot e[16];
	struct gset s;

	pooled_set(&s, 1, e, 16);
	for (size_t i = 0; i < MS_ARRAY_SIZE(inserts); i++)
		put(&s, &e[inserts[i].e], inserts[i].base, inserts[i].npages, inserts[i].want);
	/* Now [0, UINT64_MAX) is covered, UINT64_MAX itself never is. */
	ck_assert_ptr_null(ms_gfn_tree_find(&s.t, UINT64_MAX));
	ck_assert_ptr_eq(gs_of(&s, ms_gfn_tree_find(&s.t, UINT64_MAX - 1)), &e[3]);
	ck_assert_ptr_eq(gs_of(&s, ms_gfn_tree_find(&s.t, 0)), &e[5]);
	put(&s, &e[6], 7, 1, -EEXIST);
	check_point(&s, UINT64_MAX);
	check_range(&s, 0, UINT64_MAX);
	check_range(&s, 99, 111);
	gset_free(&s);
}
END_TEST

/*
 * KVM's approx answers with the last node of the descent: here the root
 * [100, 110) with [10, 20) left and [200, 210) right, so a gfn in the
 * lower hole ends on the left node (the border below) and one in the
 * upper hole on the right node (the border above).
 */
START_TEST(approx_is_the_last_node_visited)
{
	static struct gslot e[3];
	struct gset s;

	pooled_set(&s, 0, e, 3);
	put(&s, &e[0], 100, 10, 0);
	put(&s, &e[1], 10, 10, 0);
	put(&s, &e[2], 200, 10, 0);
	ck_assert_ptr_eq(s.t.root.root.node, &e[0].node[0].rb);
	ck_assert_ptr_eq(gs_of(&s, ms_gfn_tree_find_approx(&s.t, 50)), &e[1]);
	ck_assert_ptr_eq(gs_of(&s, ms_gfn_tree_find_approx(&s.t, 150)), &e[2]);
	ck_assert_ptr_eq(gs_of(&s, ms_gfn_tree_find_approx(&s.t, 5)), &e[1]);
	ck_assert_ptr_eq(gs_of(&s, ms_gfn_tree_find_approx(&s.t, 500)), &e[2]);
	ck_assert_ptr_eq(gs_of(&s, ms_gfn_tree_find_approx(&s.t, 105)), &e[0]);
	for (uint64_t g = 0; g < 300; g++)
		check_point(&s, g);
	gset_free(&s);
}
END_TEST

/* Replacing every node of a tree keeps each position and colour. */
START_TEST(replace_every_node)
{
	enum { N = 150 };
	static struct gslot e[2 * N];
	struct gset s;
	bool red = false, black = false;
	struct ts_rng r;

	pool_init(e, 2 * N);
	gset_init(&s, 1, N);
	ts_rng_seed(&r, 7);
	for (size_t i = 0; i < N; i++)
		put(&s, &e[i], (ts_rng_below(&r, 1000) * N + i) * 4, 3, 0);
	for (size_t i = 0; i < N; i++) {
		struct gslot *old = s.v[i], *fresh = &e[N + i];

		red |= ms_rb_is_red(&old->node[1].rb);
		black |= ms_rb_is_black(&old->node[1].rb);
		fresh->base = old->base;
		fresh->npages = old->npages + 1;
		set_replace_at(&s, i, fresh); /* refused */
		fresh->npages = old->npages;
		set_replace_at(&s, i, fresh);
		check_set(&s);
	}
	ck_assert(red && black);
	gset_free(&s);
}
END_TEST

/* Another layout: nodes first, then npages before base, with padding. */
struct rslot {
	struct ms_gfn_node node[2];
	uint32_t pad;
	uint64_t npages;
	uint64_t base;
};

START_TEST(any_layout)
{
	static struct rslot e[64];
	struct ms_gfn_tree t[2];
	struct ts_rng r;

	memset(e, 0, sizeof(e));
	for (unsigned int k = 0; k < 2; k++)
		ms_gfn_tree_init(&t[k], MS_GFN_TREE_OFF(struct rslot, node, k, base),
				 MS_GFN_TREE_OFF(struct rslot, node, k, npages));
	ck_assert_int_gt(t[0].base_off, 0);
	ts_rng_seed(&r, 3);
	for (size_t i = 0; i < 64; i++) {
		e[i].base = (63 - i) * 10;
		e[i].npages = 1 + ts_rng_below(&r, 9); /* a gap after each */
		ck_assert_int_eq(ms_gfn_tree_insert(&t[0], &e[i].node[0]), 0);
		if (i % 2 == 0)
			ck_assert_int_eq(ms_gfn_tree_insert(&t[1], &e[i].node[1]), 0);
	}
	ck_assert_ptr_null(ms_gfn_tree_check(&t[0]));
	ck_assert_ptr_null(ms_gfn_tree_check(&t[1]));
	for (size_t i = 0; i < 64; i++) {
		uint64_t g = e[i].base + e[i].npages - 1;
		struct ms_gfn_node *n0 = ms_gfn_tree_find(&t[0], g);
		struct ms_gfn_node *n1 = ms_gfn_tree_find(&t[1], g);

		ck_assert_ptr_eq(ms_gfn_entry(n0, 0, struct rslot, node), &e[i]);
		if (i % 2 == 0)
			ck_assert_ptr_eq(ms_gfn_entry(n1, 1, struct rslot, node), &e[i]);
		else
			ck_assert_ptr_null(n1);
		ck_assert_ptr_null(ms_gfn_tree_find(&t[0], e[i].base + e[i].npages));
	}
	ck_assert_ptr_eq(ms_gfn_entry(ms_gfn_tree_first(&t[0]), 0, struct rslot, node), &e[63]);
	ck_assert_uint_eq(ms_gfn_tree_count(&t[1]), 32);
}
END_TEST

/* The validator names each kind of damage. */
START_TEST(validator_detects_faults)
{
	enum { N = 31 };
	static struct gslot e[N];
	struct gset s;
	struct ms_rb_node *top;
	uint64_t saved;

	pooled_set(&s, 0, e, N);
	for (size_t i = 0; i < N; i++)
		put(&s, &e[i], ((i * 17) % N) * 10, 5, 0);
	top = s.t.root.root.node;
	ck_assert_ptr_null(ms_gfn_tree_check(&s.t));

	saved = s.v[4]->npages; /* overlap the next one */
	s.v[4]->npages = 15;
	ck_assert_str_eq(ms_gfn_tree_check(&s.t), "gfn tree: two ranges overlap");
	s.v[4]->npages = 0;
	ck_assert_str_eq(ms_gfn_tree_check(&s.t), "gfn tree: a node has no pages");
	s.v[4]->npages = saved;

	saved = s.v[4]->base; /* out of order */
	s.v[4]->base = 1000;
	ck_assert_str_eq(ms_gfn_tree_check(&s.t),
			 "gfn tree: bases not strictly ascending in order");
	s.v[N - 1]->base = UINT64_MAX - 2;
	s.v[4]->base = saved;
	ck_assert_str_eq(ms_gfn_tree_check(&s.t),
			 "gfn tree: a node's range wraps past the last gfn");
	s.v[N - 1]->base = (N - 1) * 10;

	s.t.count++;
	ck_assert_str_eq(ms_gfn_tree_check(&s.t), "gfn tree: the count disagrees with the nodes");
	s.t.count--;

	top->parent_color &= ~(uintptr_t)MS_RB_BLACK;
	ck_assert_ptr_eq(ms_gfn_tree_check(&s.t), ms_rb_bad_root_red);
	top->parent_color |= MS_RB_BLACK;

	s.t.root.leftmost = top;
	ck_assert_ptr_eq(ms_gfn_tree_check(&s.t), ms_rb_bad_leftmost);
	s.t.root.leftmost = &s.v[0]->node[0].rb;

	top->left->parent_color = (uintptr_t)top->left->left | (top->left->parent_color & 1);
	ck_assert_ptr_eq(ms_gfn_tree_check(&s.t), ms_rb_bad_parent);
	top->left->parent_color = (uintptr_t)top | (top->left->parent_color & 1);

	ck_assert_ptr_null(ms_gfn_tree_check(&s.t));
	check_set(&s);
	gset_free(&s);
}
END_TEST

/* ---- readers of one set while the writer changes the other ------------------ */

enum { RD_POOL = 512, RD_FIXED = 128, RD_READERS = 2 };

struct readers_ctx {
	struct gslot pool[RD_POOL];
	struct gset sets[2];
	struct ts_readers rd;
};

/* Set 0 holds pool[0..RD_FIXED) at [16 i, 16 i + 1 + i % 8): fixed, known. */
static void *reader(void *arg)
{
	struct readers_ctx *x = arg;
	const struct gset *s = &x->sets[0];
	struct ts_rng r;
	size_t n = 0;

	ts_rng_seed(&r, (uint64_t)(uintptr_t)&r);
	while (ts_reader_goes_on(&x->rd, n)) {
		uint64_t g = ts_rng_below(&r, 16 * RD_FIXED + 16), i = g / 16;
		struct gslot *want = i < RD_FIXED && g % 16 <= i % 8 ? &x->pool[i] : NULL;
		const struct ms_gfn_node *it;
		size_t k = 0, expect = 0;

		TS_REQUIRE(gs_of(s, ms_gfn_tree_find(&s->t, g)) == want);
		for (it = ms_gfn_tree_range_first(&s->t, g, g + 64); it;
		     it = ms_gfn_tree_range_next(&s->t, it, g + 64))
			k++;
		for (i = 0; i < RD_FIXED; i++)
			expect += gs_meets(&x->pool[i], g, g + 64);
		TS_REQUIRE(k == expect);
		n++;
	}
	ts_reader_done(&x->rd, n);
	return NULL;
}

/* One change of set 1; set 0, the readers', is left alone. */
static void change_other_set(void *arg, struct ts_rng *r)
{
	static const struct random_cfg c = {.span = 16 * RD_FIXED, .max_npages = 24};
	struct readers_ctx *x = arg;
	struct gset *s = &x->sets[1];
	unsigned int dice = (unsigned int)ts_rng_below(r, 100);

	if (dice < 50 || !s->n) {
		struct gslot *e = TS_SPARE(struct gslot, x->pool, RD_POOL, 1, false, r);

		if (!e->in[0])
			draw_range(r, &c, e);
		if (ms_gfn_tree_insert(&s->t, &e->node[1]) == 0)
			ts_model_add(s, e);
	} else if (dice < 80) {
		size_t i = ts_rng_below(r, s->n);

		ms_gfn_tree_erase(&s->t, &s->v[i]->node[1]);
		ts_model_remove_at(s, i);
	} else {
		random_replace(s, &x->sets[0], x->pool, RD_POOL, r);
	}
}

START_TEST(readers_of_the_other_set)
{
	struct readers_ctx *x = calloc(1, sizeof(*x));

	ck_assert_ptr_nonnull(x);
	pool_init(x->pool, RD_POOL);
	gset_init(&x->sets[0], 0, RD_POOL);
	gset_init(&x->sets[1], 1, RD_POOL);
	for (size_t i = 0; i < RD_FIXED; i++)
		put(&x->sets[0], &x->pool[i], 16 * i, 1 + i % 8, 0);
	/* Published: from here on only set 1 changes. */
	ts_readers_against_writer(&x->rd, RD_READERS, reader, change_other_set, x, scaled(40000),
				  42);
	check_set(&x->sets[0]);
	check_set(&x->sets[1]);
	gset_free(&x->sets[0]);
	gset_free(&x->sets[1]);
	free(x);
}
END_TEST

static Suite *make_suite(void)
{
	const struct ts_case cases[] = {
		{.tcase = "focused", .test = empty_tree},
		{.tcase = "focused", .test = insert_refusals},
		{.tcase = "focused", .test = approx_is_the_last_node_visited},
		{.tcase = "focused", .test = replace_every_node},
		{.tcase = "focused", .test = any_layout},
		{.tcase = "focused", .test = validator_detects_faults},
		{.tcase = "random_dense", .test = random_dense},
		{.tcase = "random_sparse", .test = random_sparse},
		{.tcase = "random_top", .test = random_top},
		{.tcase = "random_many", .test = random_many},
		{.tcase = "readers", .test = readers_of_the_other_set},
	};
	Suite *s = suite_create("gfn_rbtree");

	ts_add_cases(s, cases, MS_ARRAY_SIZE(cases));
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
