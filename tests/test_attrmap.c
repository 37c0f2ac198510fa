/* SPDX-License-Identifier: MIT */
/*
 * Property tests of the memory-attribute map (src/attrmap.h) against the
 * brute-force cell model of attrmap_model.h: random range sets on the
 * bottom of the gfn space, on its top (ranges ending at 2^64) and across
 * the whole of it; after every step, every node, every lookup and its
 * run_end, a walk of all runs and the tree's invariants are compared with
 * the model, and the counting allocator must hold exactly the map's nodes
 * and the reserve.  Then the two-map replay the engine does (one prepare
 * for both sets' maps), and an allocation failure at every site.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "attrmap.h"
#include "attrmap_model.h"
#include "ts_check.h"
#include "ts_scale.h"

/* Reports only failures: ck_assert_* costs a write per passing call. */
#define TS_REQUIRE(cond)                                                              \
	do {                                                                          \
		if (!(cond))                                                          \
			ck_abort_msg("%s:%d: failed: %s", __FILE__, __LINE__, #cond); \
	} while (0)

#define CHECK_MAP(map, model)                                                \
	do {                                                                 \
		const char *why_ = ts_am_check(map, model);                  \
		if (why_)                                                    \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, why_); \
	} while (0)

#define ATTR_PRIVATE (1ull << 3) /* the contract's MEMSLOTS_ATTR_PRIVATE */

static size_t scaled(size_t n)
{
	return ts_scaled(n, 32);
}

/* Few distinct words, so that runs merge often; now and then any word. */
static uint64_t draw_attrs(struct ts_rng *r)
{
	static const uint64_t words[] = {0, 0, ATTR_PRIVATE, ATTR_PRIVATE, 1, ATTR_PRIVATE | 1};

	if (ts_rng_below(r, 8) == 0)
		return ts_rng_next(r);
	return words[ts_rng_below(r, MS_ARRAY_SIZE(words))];
}

/* Cells [*ci, *cj] among @n: mostly short ranges, some up to the end. */
static void draw_cells(struct ts_rng *r, size_t n, size_t *ci, size_t *cj)
{
	unsigned int dice = (unsigned int)ts_rng_below(r, 10);
	size_t len;

	*ci = ts_rng_below(r, n);
	if (dice < 6)
		len = 1 + ts_rng_below(r, 8);
	else if (dice < 9)
		len = 1 + ts_rng_below(r, 128);
	else
		len = 1 + ts_rng_below(r, n - *ci);
	*cj = *ci + len - 1 < n ? *ci + len - 1 : n - 1;
}

struct fixture {
	struct ts_alloc_counter counter;
	struct ms_alloc alloc;
	struct ms_attrmap map[2];
	struct ms_attrmap_pool res;
	struct ts_am_model model;
	struct ts_rng rng;
};

static void fixture_init(struct fixture *fx, uint64_t seed, size_t low, size_t high)
{
	memset(fx, 0, sizeof(*fx));
	fx->alloc = (struct ms_alloc){.alloc = ts_alloc, .free = ts_free, .opaque = &fx->counter};
	ms_attrmap_init(&fx->map[0], &fx->alloc);
	ms_attrmap_init(&fx->map[1], &fx->alloc);
	fx->res = MS_ATTRMAP_POOL_INIT;
	TS_REQUIRE(ts_am_model_init(&fx->model, low, high) == 0);
	ts_rng_seed(&fx->rng, seed);
}

/* Tears down and checks that every node came back. */
static void fixture_fini(struct fixture *fx)
{
	ms_attrmap_settle(&fx->res, &fx->alloc);
	ms_attrmap_destroy(&fx->map[0]);
	ms_attrmap_destroy(&fx->map[1]);
	TS_REQUIRE(ms_attrmap_nr_runs(&fx->map[0]) == 0 && !ms_attrmap_first(&fx->map[0]));
	TS_REQUIRE(fx->counter.live == 0);
	ts_am_model_free(&fx->model);
}

/* Nodes the allocator must be holding: both maps and the reserve. */
static size_t nodes_held(const struct fixture *fx)
{
	return ms_attrmap_nr_runs(&fx->map[0]) + ms_attrmap_nr_runs(&fx->map[1]) + fx->res.nr;
}

/*
 * Sets cells [ci, cj] to @a on map 0 (and, with @replay, then on map 1, as
 * the engine replays a change after the grace period), checking the plan,
 * the reserve accounting and the allocator against the model's view.
 */
static void step(struct fixture *fx, size_t ci, size_t cj, uint64_t a, bool replay)
{
	const struct ts_am_model *m = &fx->model;
	unsigned int nr_maps = replay ? 2 : 1;
	bool changes = ts_am_model_changes(m, ci, cj, a);
	size_t calls = fx->counter.calls, before = ms_attrmap_nr_runs(&fx->map[0]);
	struct ms_attrmap_plan plan;

	TS_REQUIRE(fx->res.nr == 0);
	TS_REQUIRE(ms_attrmap_reserve(&fx->map[0], m->first[ci], ts_am_cell_last(m, cj), a, nr_maps,
				      &fx->res, &plan) == 0);
	TS_REQUIRE(plan.changes == changes);
	TS_REQUIRE(plan.new_runs <= 2);
	/* A change that changes nothing allocates nothing. */
	TS_REQUIRE(changes || fx->counter.calls == calls);
	TS_REQUIRE(fx->res.nr == (changes ? nr_maps * plan.new_runs : 0));
	TS_REQUIRE(fx->counter.live == nodes_held(fx));

	for (unsigned int i = 0; i < nr_maps; i++) {
		size_t res_before = fx->res.nr;

		TS_REQUIRE(ms_attrmap_set(&fx->map[i], &plan, &fx->res) == 0);
		/* Nodes only move between the map and the reserve... */
		TS_REQUIRE(ms_attrmap_nr_runs(&fx->map[i]) + fx->res.nr == before + res_before);
		/* ...and a change that takes new nodes removes none: exactly
		 * new_runs were needed. */
		if (changes && plan.new_runs)
			TS_REQUIRE(fx->res.nr == res_before - plan.new_runs);
	}
	if (changes && plan.new_runs)
		TS_REQUIRE(fx->res.nr == 0);
	TS_REQUIRE(fx->counter.live == nodes_held(fx));
	ms_attrmap_settle(&fx->res, &fx->alloc);
	TS_REQUIRE(fx->counter.live == nodes_held(fx));

	ts_am_model_set(&fx->model, ci, cj, a);
	CHECK_MAP(&fx->map[0], &fx->model);
	if (replay) {
		TS_REQUIRE(ms_attrmap_equal(&fx->map[0], &fx->map[1]));
		CHECK_MAP(&fx->map[1], &fx->model);
	}
}

static void run_model(uint64_t seed, size_t ops, size_t low, size_t high, bool replay)
{
	struct fixture fx;

	fixture_init(&fx, seed, low, high);
	CHECK_MAP(&fx.map[0], &fx.model);
	for (size_t op = 0; op < ops; op++) {
		size_t ci, cj;

		draw_cells(&fx.rng, fx.model.n, &ci, &cj);
		step(&fx, ci, cj, draw_attrs(&fx.rng), replay);
	}
	/* Back to all 0: no node left. */
	step(&fx, 0, fx.model.n - 1, 0, replay);
	TS_REQUIRE(ms_attrmap_nr_runs(&fx.map[0]) == 0);
	fixture_fini(&fx);
}

/*
 * The model runs, a TCase each: run_model() for each seed from
 * first_seed to last_seed, with per-gfn arrays of @low gfns at the bottom
 * of the space and @high at its top.
 */
static const struct model_run {
	const char *tcase;
	uint64_t first_seed, last_seed;
	size_t ops, low, high;
	bool replay;
} model_runs[] = {
	/* The bottom of the space: a per-gfn array over gfns 0..4095 (plus
	 * the rest of the space as one cell). */
	{.tcase = "model_bottom", 1, 6, 1500, 4096, 0, false},
	/* The top: gfns UINT64_MAX - 4095 .. UINT64_MAX, ranges ending at 2^64. */
	{.tcase = "model_top", 11, 16, 1500, 0, 4096, false},
	/* Both ends and the whole space between, with small arrays so that
	 * ranges across the middle are frequent. */
	{.tcase = "model_whole_space", 21, 100, 1500, 40, 40, false},
	/* The engine's pattern: prepare once for both sets' maps, apply to
	 * one, later to the other; they must stay identical. */
	{.tcase = "two_map_replay", 51, 70, 1000, 300, 300, true},
};

/* Row _i of model_runs[]. */
START_TEST(model_run)
{
	const struct model_run *r = &model_runs[_i];

	for (uint64_t seed = r->first_seed; seed <= r->last_seed; seed++)
		run_model(seed, scaled(r->ops), r->low, r->high, r->replay);
}
END_TEST

/*
 * Fails the k-th allocation of each prepare, for every k, until it
 * succeeds: every failure must leave both maps, the reserve, the plan and
 * the allocator as they were; the successful attempt comes after exactly
 * as many failures as nodes it needs.
 */
START_TEST(alloc_failure_every_site)
{
	struct fixture fx;

	fixture_init(&fx, 77, 64, 64);
	for (size_t op = 0; op < scaled(3000); op++) {
		const struct ts_am_model *m = &fx.model;
		uint64_t a = draw_attrs(&fx.rng);
		struct ms_attrmap_plan plan, sentinel;
		size_t ci, cj, k, failures = 0;
		int err;

		draw_cells(&fx.rng, m->n, &ci, &cj);
		memset(&sentinel, 0xa5, sizeof(sentinel));
		for (k = 1;; k++) {
			size_t live = fx.counter.live;

			plan = sentinel;
			fx.counter.fail_at = fx.counter.calls + k;
			err = ms_attrmap_reserve(&fx.map[0], m->first[ci], ts_am_cell_last(m, cj),
						 a, 2, &fx.res, &plan);
			fx.counter.fail_at = 0;
			if (!err)
				break;
			TS_REQUIRE(err == -ENOMEM);
			failures++;
			TS_REQUIRE(memcmp(&plan, &sentinel, sizeof(plan)) == 0);
			TS_REQUIRE(fx.res.nr == 0 && !fx.res.free);
			TS_REQUIRE(fx.counter.live == live);
			CHECK_MAP(&fx.map[0], m);
			TS_REQUIRE(ms_attrmap_equal(&fx.map[0], &fx.map[1]));
			TS_REQUIRE(k <= 4);
		}
		TS_REQUIRE(failures == 2 * plan.new_runs);
		TS_REQUIRE(ms_attrmap_set(&fx.map[0], &plan, &fx.res) == 0);
		TS_REQUIRE(ms_attrmap_set(&fx.map[1], &plan, &fx.res) == 0);
		ms_attrmap_settle(&fx.res, &fx.alloc);
		ts_am_model_set(&fx.model, ci, cj, a);
		CHECK_MAP(&fx.map[0], m);
		TS_REQUIRE(ms_attrmap_equal(&fx.map[0], &fx.map[1]));
		TS_REQUIRE(fx.counter.live == nodes_held(&fx));
	}
	fixture_fini(&fx);
}
END_TEST

/* ---- focused cases ------------------------------------------------------------ */

/* Prepares and applies one change to a single map, with the exact reserve. */
static void set_range(struct fixture *fx, uint64_t start, uint64_t last, uint64_t a)
{
	struct ms_attrmap_plan plan;

	TS_REQUIRE(ms_attrmap_reserve(&fx->map[0], start, last, a, 1, &fx->res, &plan) == 0);
	TS_REQUIRE(ms_attrmap_set(&fx->map[0], &plan, &fx->res) == 0);
	ms_attrmap_settle(&fx->res, &fx->alloc);
	TS_REQUIRE(!ms_attrmap_validate(&fx->map[0]));
}

START_TEST(empty_map_is_all_zero)
{
	struct fixture fx;
	uint64_t end = 0;

	fixture_init(&fx, 1, 0, 0);
	ck_assert_uint_eq(ms_attrmap_get(&fx.map[0], 0, &end), 0);
	ck_assert_uint_eq(end, UINT64_MAX);
	ck_assert_uint_eq(ms_attrmap_get(&fx.map[0], UINT64_MAX, &end), 0);
	ck_assert_uint_eq(end, UINT64_MAX);
	ck_assert_ptr_null(ms_attrmap_first(&fx.map[0]));
	ck_assert_ptr_null(ms_attrmap_validate(&fx.map[0]));
	fixture_fini(&fx);
}
END_TEST

/* The whole space, then its last gfn alone: the exclusive-end edge. */
START_TEST(top_of_space)
{
	struct fixture fx;
	uint64_t end = 0;

	fixture_init(&fx, 1, 0, 0);
	set_range(&fx, 0, UINT64_MAX, ATTR_PRIVATE);
	ck_assert_uint_eq(ms_attrmap_nr_runs(&fx.map[0]), 1);
	ck_assert_uint_eq(ms_attrmap_get(&fx.map[0], 12345, &end), ATTR_PRIVATE);
	ck_assert_uint_eq(end, UINT64_MAX);

	set_range(&fx, UINT64_MAX, UINT64_MAX, 1);
	ck_assert_uint_eq(ms_attrmap_nr_runs(&fx.map[0]), 2);
	/* Differs at UINT64_MAX, which is also "none": the documented edge. */
	ck_assert_uint_eq(ms_attrmap_get(&fx.map[0], 0, &end), ATTR_PRIVATE);
	ck_assert_uint_eq(end, UINT64_MAX);
	ck_assert_uint_eq(ms_attrmap_get(&fx.map[0], UINT64_MAX, &end), 1);
	ck_assert_uint_eq(end, UINT64_MAX);

	/* A range ending at 2^64 from a page-aligned address (shift 12). */
	set_range(&fx, (UINT64_MAX >> 12) - 3, UINT64_MAX, 0);
	ck_assert_uint_eq(ms_attrmap_get(&fx.map[0], (UINT64_MAX >> 12) - 4, &end), ATTR_PRIVATE);
	ck_assert_uint_eq(end, (UINT64_MAX >> 12) - 3);
	ck_assert_uint_eq(ms_attrmap_get(&fx.map[0], (UINT64_MAX >> 12) - 3, &end), 0);
	ck_assert_uint_eq(end, UINT64_MAX);

	set_range(&fx, 0, UINT64_MAX, 0);
	ck_assert_uint_eq(ms_attrmap_nr_runs(&fx.map[0]), 0);
	fixture_fini(&fx);
}
END_TEST

/* Splitting one run in three takes two nodes; merging gives them back. */
START_TEST(split_and_merge_node_counts)
{
	struct fixture fx;
	struct ms_attrmap_plan plan;
	const struct ms_attr_run *run;

	fixture_init(&fx, 1, 0, 0);
	set_range(&fx, 100, 199, ATTR_PRIVATE);

	ck_assert_int_eq(ms_attrmap_reserve(&fx.map[0], 140, 149, 1, 2, &fx.res, &plan), 0);
	ck_assert(plan.changes);
	ck_assert_uint_eq(plan.new_runs, 2);
	ck_assert_uint_eq(fx.res.nr, 4);
	ck_assert_int_eq(ms_attrmap_set(&fx.map[0], &plan, &fx.res), 0);
	ck_assert_uint_eq(fx.res.nr, 2);
	run = ms_attrmap_first(&fx.map[0]);
	ck_assert(run->start == 100 && run->last == 139 && run->attrs == ATTR_PRIVATE);
	run = ms_attrmap_next(run);
	ck_assert(run->start == 140 && run->last == 149 && run->attrs == 1);
	run = ms_attrmap_next(run);
	ck_assert(run->start == 150 && run->last == 199 && run->attrs == ATTR_PRIVATE);
	ck_assert_ptr_null(ms_attrmap_next(run));
	ms_attrmap_settle(&fx.res, &fx.alloc);

	/* Setting the middle back merges the three runs into one. */
	ck_assert_int_eq(ms_attrmap_reserve(&fx.map[0], 140, 149, ATTR_PRIVATE, 1, &fx.res, &plan),
			 0);
	ck_assert_uint_eq(plan.new_runs, 0);
	ck_assert_int_eq(ms_attrmap_set(&fx.map[0], &plan, &fx.res), 0);
	ck_assert_uint_eq(fx.res.nr, 2); /* the two removed nodes */
	ck_assert_uint_eq(ms_attrmap_nr_runs(&fx.map[0]), 1);
	ms_attrmap_settle(&fx.res, &fx.alloc);
	fixture_fini(&fx);
}
END_TEST

START_TEST(bad_arguments_and_short_reserve)
{
	struct fixture fx;
	struct ms_attrmap_plan plan = {0}, same;

	fixture_init(&fx, 1, 0, 0);
	set_range(&fx, 10, 19, ATTR_PRIVATE);
	ck_assert_int_eq(ms_attrmap_reserve(&fx.map[0], 5, 4, 1, 1, &fx.res, &plan), -EINVAL);
	ck_assert_int_eq(ms_attrmap_reserve(&fx.map[0], 5, 5, 1, 0, &fx.res, &plan), -EINVAL);
	ck_assert_uint_eq(fx.res.nr, 0);

	/* No change: nothing reserved, and apply does nothing. */
	ck_assert_int_eq(ms_attrmap_reserve(&fx.map[0], 12, 15, ATTR_PRIVATE, 2, &fx.res, &plan),
			 0);
	ck_assert(!plan.changes);
	ck_assert_uint_eq(fx.counter.calls, 1);
	ck_assert_int_eq(ms_attrmap_reserve(&fx.map[0], 30, 40, 0, 2, &fx.res, &plan), 0);
	ck_assert(!plan.changes);
	ck_assert_uint_eq(fx.counter.calls, 1);

	/* A reserve short of nodes: refused, map unchanged. */
	ck_assert_int_eq(ms_attrmap_reserve(&fx.map[0], 12, 15, 1, 1, &fx.res, &plan), 0);
	ck_assert_uint_eq(plan.new_runs, 2);
	ms_attrmap_settle(&fx.res, &fx.alloc);
	same = plan;
	ck_assert_int_eq(ms_attrmap_set(&fx.map[0], &same, &fx.res), -ENOSPC);
	ck_assert_uint_eq(ms_attrmap_nr_runs(&fx.map[0]), 1);
	ck_assert_uint_eq(ms_attrmap_get(&fx.map[0], 13, NULL), ATTR_PRIVATE);
	ck_assert_ptr_null(ms_attrmap_validate(&fx.map[0]));
	fixture_fini(&fx);
}
END_TEST

/* The validator must refuse each broken invariant. */
START_TEST(validator_detects_corruption)
{
	struct fixture fx;
	struct ms_attr_run *a, *b;

	fixture_init(&fx, 1, 0, 0);
	set_range(&fx, 10, 19, ATTR_PRIVATE);
	set_range(&fx, 20, 29, 1);
	a = (struct ms_attr_run *)ms_attrmap_first(&fx.map[0]);
	b = (struct ms_attr_run *)ms_attrmap_next(a);
	ck_assert_ptr_null(ms_attrmap_validate(&fx.map[0]));

	b->attrs = ATTR_PRIVATE; /* touching runs of one word: not maximal */
	ck_assert_ptr_nonnull(ms_attrmap_validate(&fx.map[0]));
	b->attrs = 0; /* a node for a run of 0 */
	ck_assert_ptr_nonnull(ms_attrmap_validate(&fx.map[0]));
	b->attrs = 1;
	b->start = 19; /* overlap */
	ck_assert_ptr_nonnull(ms_attrmap_validate(&fx.map[0]));
	b->start = 30;
	b->last = 29; /* last < start (order still holds) */
	ck_assert_ptr_nonnull(ms_attrmap_validate(&fx.map[0]));
	b->start = 20;
	fx.map[0].nr_runs++;
	ck_assert_ptr_nonnull(ms_attrmap_validate(&fx.map[0]));
	fx.map[0].nr_runs--;
	ck_assert_ptr_null(ms_attrmap_validate(&fx.map[0]));
	fixture_fini(&fx);
}
END_TEST

static Suite *make_suite(void)
{
	const struct ts_case cases[] = {
		{.tcase = "focused", .test = empty_map_is_all_zero},
		{.tcase = "focused", .test = top_of_space},
		{.tcase = "focused", .test = split_and_merge_node_counts},
		{.tcase = "focused", .test = bad_arguments_and_short_reserve},
		{.tcase = "focused", .test = validator_detects_corruption},
		{.tcase = "alloc_failure", .test = alloc_failure_every_site},
	};
	Suite *s = suite_create("attrmap");

	ts_add_cases(s, cases, MS_ARRAY_SIZE(cases));
	for (int i = 0; i < (int)MS_ARRAY_SIZE(model_runs); i++) {
		TCase *tc = tcase_create(model_runs[i].tcase);

		tcase_add_loop_test(tc, model_run, i, i + 1);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
