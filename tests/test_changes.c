// SPDX-License-Identifier: MIT
/*
 * Black-box tests of each change type (create, delete, move, flags-only,
 * no-op): the state after, every lookup, the generation, the number of
 * grace periods, and the hooks with their arguments, their order and what
 * readers see from inside them.  Also -EDEADLK from hooks and read-side
 * sections, the per-thread lookup cache across generations, the release
 * hook and memslots_strerror().
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "changes_fixture.h"
#include "model.h"
#include "ts_check.h"

/* One change of a test: the region set and the change type it must be. */
struct change_step {
	uint32_t id, flags;
	uint64_t gfn, npages, hva;
	int change;
};

/*
 * Makes @n changes in turn on the base state of three slots, each checked
 * by ts_changes_do() against the models, from the hooks and after.
 */
static void run_steps(const struct memslots_rcu *rcu, const struct change_step *steps, size_t n)
{
	struct ts_env e;

	ts_changes_env_setup(&e, rcu, true);
	for (size_t i = 0; i < n; i++) {
		const struct change_step *st = &steps[i];

		ts_changes_do(&e,
			      ts_env_region(&e, st->id, st->flags, st->gfn, st->npages, st->hva),
			      st->change);
	}
	ts_env_fini(&e);
}

static const struct change_step create_steps[] = {
	{4, LOG | RO, 0x1000, 0x100, 0x40000000, MEMSLOTS_CREATE},
	{0, 0, 0, 1, 0, MEMSLOTS_CREATE},
	{63, 0, 0x110, 0xf0, 0x10000000, MEMSLOTS_CREATE},
};

static const struct change_step delete_steps[] = {
	{2, 0, 0, 0, 0, MEMSLOTS_DELETE},
	{1, 0, 0, 0, 0, MEMSLOTS_DELETE},
	{3, 0, 0, 0, 0, MEMSLOTS_DELETE},
	/* the gfn range is free again, and so is the id */
	{1, 0, 0x200, 0x20, 0x20000000, MEMSLOTS_CREATE},
};

static const struct change_step move_steps[] = {
	{1, 0, 0x1000, 0x10, 0x10000000, MEMSLOTS_MOVE},
	{2, RO | LOG, 0x100, 0x20, 0x20000000, MEMSLOTS_MOVE},
	/* overlapping its own old range */
	{3, LOG, 0x304, 0x8, 0x10000000, MEMSLOTS_MOVE},
	{3, 0, 0x2fc, 0x8, 0x10000000, MEMSLOTS_MOVE},
	/* into the range another slot just left */
	{1, 0, 0x0, 0x10, 0x10000000, MEMSLOTS_MOVE},
};

static const struct change_step flags_only_steps[] = {
	{1, LOG, 0x100, 0x10, 0x10000000, MEMSLOTS_FLAGS_ONLY},
	{2, RO | LOG, 0x200, 0x20, 0x20000000, MEMSLOTS_FLAGS_ONLY},
	{3, 0, 0x300, 0x8, 0x10000000, MEMSLOTS_FLAGS_ONLY},
	{1, 0, 0x100, 0x10, 0x10000000, MEMSLOTS_FLAGS_ONLY},
};

static const struct change_step noop_steps[] = {
	{1, 0, 0x100, 0x10, 0x10000000, TS_MODEL_NOOP},
	{2, RO, 0x200, 0x20, 0x20000000, TS_MODEL_NOOP},
	{3, LOG, 0x300, 0x8, 0x10000000, TS_MODEL_NOOP},
};

/* The same changes with the default (liburcu) RCU and real grace periods. */
static const struct change_step default_rcu_steps[] = {
	{4, 0, 0x1000, 0x100, 0x40000000, MEMSLOTS_CREATE},
	{1, LOG, 0x100, 0x10, 0x10000000, MEMSLOTS_FLAGS_ONLY},
	{2, RO, 0x2000, 0x20, 0x20000000, MEMSLOTS_MOVE},
	{3, 0, 0, 0, 0, MEMSLOTS_DELETE},
};

/* The change-type cases: each TCase makes its row's changes. */
#define STEPS(a) .steps = (a), .n = sizeof(a) / sizeof((a)[0])

static const struct change_case {
	const char *tcase;
	const struct memslots_rcu *rcu;
	const struct change_step *steps;
	size_t n;
} change_cases[] = {
	{.tcase = "create", .rcu = &ts_counting_rcu, STEPS(create_steps)},
	{.tcase = "delete", .rcu = &ts_counting_rcu, STEPS(delete_steps)},
	{.tcase = "move", .rcu = &ts_counting_rcu, STEPS(move_steps)},
	{.tcase = "flags_only", .rcu = &ts_counting_rcu, STEPS(flags_only_steps)},
	{.tcase = "noop", .rcu = &ts_counting_rcu, STEPS(noop_steps)},
	{.tcase = "default_rcu", .rcu = NULL, STEPS(default_rcu_steps)},
};

/* Case _i of change_cases[]. */
START_TEST(test_change_case)
{
	const struct change_case *c = &change_cases[_i];

	run_steps(c->rcu, c->steps, c->n);
}
END_TEST

static const struct memslot *expect_id(const struct memslot *s, int id)
{
	if (id < 0)
		ck_assert_msg(!s, "expected no slot, got id %u", s ? s->id : 0);
	else
		ck_assert_msg(s && s->id == id, "expected id %d, got %d", id, s ? s->id : -1);
	return s;
}

/* Collects an hva range query into a bitmap of ids, failing on repeats. */
static uint64_t hva_ids(const struct memslots_set *set, uint64_t start, uint64_t last)
{
	uint64_t bits = 0;

	for (const struct memslot *s = memslots_hva_range_first(set, start, last); s;
	     s = memslots_hva_range_next(set, s, start, last)) {
		ck_assert_uint_lt(s->id, 64);
		ck_assert_msg(!(bits & (1ull << s->id)), "hva range: id %u twice", s->id);
		bits |= 1ull << s->id;
	}
	return bits;
}

static void gfn_range_is(const struct memslots_set *set, uint64_t start, uint64_t end,
			 const int *ids, size_t n)
{
	const struct memslot *s = memslots_gfn_range_first(set, start, end);

	for (size_t i = 0; i < n; i++) {
		expect_id(s, ids[i]);
		s = memslots_gfn_range_next(set, s, start, end);
	}
	ck_assert_msg(!s, "gfn range [%#llx, %#llx): extra id %u", (unsigned long long)start,
		      (unsigned long long)end, s ? s->id : 0);
}

#define BIT(n) (1ull << (n))

/* Hand-computed expectations for every lookup on a layout with holes. */
START_TEST(test_lookups)
{
	struct ts_env e;
	const struct memslots_set *set;
	struct memslots_cache cache = {0};
	const struct memslot *s;
	static const int order[] = {0, 5, 3, 7, 2};
	static const int r1[] = {5, 3};
	static const int r2[] = {7};
	static const int r3[] = {0, 5, 3, 7, 2};
	size_t i;

	ts_env_init(&e, 12, 64, 0, &ts_counting_rcu);

	/* the empty set */
	set = memslots_read_lock(e.ms);
	ck_assert_ptr_null(memslots_first(set));
	ck_assert_ptr_null(memslots_find_gfn(set, 0));
	ck_assert_ptr_null(memslots_find_gfn_approx(set, 0));
	ck_assert_ptr_null(memslots_find_gfn_approx(set, UINT64_MAX));
	ck_assert_ptr_null(memslots_find_gfn_cached(set, &cache, 5));
	ck_assert_ptr_null(memslots_find_id(set, 0));
	ck_assert_ptr_null(memslots_gfn_range_first(set, 0, UINT64_MAX));
	ck_assert_ptr_null(memslots_hva_range_first(set, 0, UINT64_MAX));
	ck_assert_uint_eq(memslots_gfn_to_hva(set, 0), MEMSLOTS_HVA_BAD);
	ck_assert_uint_eq(memslots_count(set), 0);
	ck_assert_uint_eq(memslots_nr_pages(set), 0);
	ck_assert_uint_ne(memslots_generation(set), 0);
	memslots_read_unlock(e.ms);

	ts_env_set(&e, ts_env_region(&e, 0, 0, 0x0, 0x1, 0x100000));
	ts_env_set(&e, ts_env_region(&e, 5, 0, 0x10, 0x10, 0x200000));
	ts_env_set(&e, ts_env_region(&e, 3, 0, 0x20, 0x8, 0x208000));
	ts_env_set(&e, ts_env_region(&e, 7, RO, 0x100, 0x100, 0x200000));
	ts_env_set(&e, ts_env_region(&e, 2, 0, 0xfffff000, 0x1000, 0x7000000000));

	set = memslots_read_lock(e.ms);
	ck_assert_uint_eq(memslots_count(set), 5);
	ck_assert_uint_eq(memslots_nr_pages(set), 0x1 + 0x10 + 0x8 + 0x100 + 0x1000);

	for (i = 0, s = memslots_first(set); i < 5; i++, s = memslots_next(set, s))
		expect_id(s, order[i]);
	ck_assert_ptr_null(s);

	/* find_gfn: first and last page of each slot, one before, one past */
	expect_id(memslots_find_gfn(set, 0), 0);
	expect_id(memslots_find_gfn(set, 1), -1);
	expect_id(memslots_find_gfn(set, 0xf), -1);
	expect_id(memslots_find_gfn(set, 0x10), 5);
	expect_id(memslots_find_gfn(set, 0x1f), 5);
	expect_id(memslots_find_gfn(set, 0x20), 3); /* touching slots */
	expect_id(memslots_find_gfn(set, 0x27), 3);
	expect_id(memslots_find_gfn(set, 0x28), -1);
	expect_id(memslots_find_gfn(set, 0xff), -1);
	expect_id(memslots_find_gfn(set, 0x100), 7);
	expect_id(memslots_find_gfn(set, 0x1ff), 7);
	expect_id(memslots_find_gfn(set, 0x200), -1);
	expect_id(memslots_find_gfn(set, 0xffffefff), -1);
	expect_id(memslots_find_gfn(set, 0xfffff000), 2);
	expect_id(memslots_find_gfn(set, 0xffffffff), 2);
	expect_id(memslots_find_gfn(set, 0x100000000), -1);
	expect_id(memslots_find_gfn(set, UINT64_MAX), -1);

	/* find_gfn_approx: a hit, or one of the two neighbours of the hole */
	expect_id(memslots_find_gfn_approx(set, 0x15), 5);
	s = memslots_find_gfn_approx(set, 1);
	ck_assert(s && (s->id == 0 || s->id == 5));
	s = memslots_find_gfn_approx(set, 0xf);
	ck_assert(s && (s->id == 0 || s->id == 5));
	s = memslots_find_gfn_approx(set, 0x28);
	ck_assert(s && (s->id == 3 || s->id == 7));
	s = memslots_find_gfn_approx(set, 0x80000);
	ck_assert(s && (s->id == 7 || s->id == 2));
	expect_id(memslots_find_gfn_approx(set, UINT64_MAX), 2);

	/* find_id */
	expect_id(memslots_find_id(set, 3), 3);
	expect_id(memslots_find_id(set, 4), -1);
	expect_id(memslots_find_id(set, 63), -1);
	expect_id(memslots_find_id(set, 64), -1);
	expect_id(memslots_find_id(set, 0xffff), -1);

	/* find_gfn_cached agrees with find_gfn, hit or miss */
	expect_id(memslots_find_gfn_cached(set, &cache, 0x10), 5);
	expect_id(memslots_find_gfn_cached(set, &cache, 0x11), 5);
	expect_id(memslots_find_gfn_cached(set, &cache, 0x20), 3);
	expect_id(memslots_find_gfn_cached(set, &cache, 0x28), -1);
	expect_id(memslots_find_gfn_cached(set, &cache, 0x1f), 5);

	/* gfn_range: [start, end), ascending, none when end <= start */
	gfn_range_is(set, 0x1f, 0x21, r1, 2);
	gfn_range_is(set, 0x20, 0x20, NULL, 0);
	gfn_range_is(set, 0x21, 0x20, NULL, 0);
	gfn_range_is(set, UINT64_MAX, 0, NULL, 0);
	gfn_range_is(set, 0x28, 0x100, NULL, 0);
	gfn_range_is(set, 0x28, 0x101, r2, 1);
	gfn_range_is(set, 0x1ff, 0x200, r2, 1);
	gfn_range_is(set, 0x200, 0xfffff000, NULL, 0);
	gfn_range_is(set, 0, UINT64_MAX, r3, 5);
	gfn_range_is(set, 1, 0x10, NULL, 0);

	/* hva_range: inclusive bounds, overlapping hvas each reported once */
	ck_assert_uint_eq(hva_ids(set, 0x208000, 0x208000), BIT(5) | BIT(3) | BIT(7));
	ck_assert_uint_eq(hva_ids(set, 0x207fff, 0x207fff), BIT(5) | BIT(7));
	ck_assert_uint_eq(hva_ids(set, 0x20ffff, 0x210000), BIT(5) | BIT(3) | BIT(7));
	ck_assert_uint_eq(hva_ids(set, 0x210000, 0x210000), BIT(7));
	ck_assert_uint_eq(hva_ids(set, 0x2fffff, 0x300000), BIT(7));
	ck_assert_uint_eq(hva_ids(set, 0x300000, 0x6fffffffff), 0);
	ck_assert_uint_eq(hva_ids(set, 0x100fff, 0x100fff), BIT(0));
	ck_assert_uint_eq(hva_ids(set, 0x101000, 0x1fffff), 0);
	ck_assert_uint_eq(hva_ids(set, 0, 0xfffff), 0);
	ck_assert_uint_eq(hva_ids(set, 0x208000, 0x207fff), 0);
	ck_assert_uint_eq(hva_ids(set, UINT64_MAX, 0), 0);
	ck_assert_uint_eq(hva_ids(set, 0, UINT64_MAX), BIT(0) | BIT(5) | BIT(3) | BIT(7) | BIT(2));
	ck_assert_uint_eq(hva_ids(set, 0x7000000000 + 0xfff000, UINT64_MAX), BIT(2));
	ck_assert_uint_eq(hva_ids(set, 0x7001000000, UINT64_MAX), 0);

	/* gfn_to_hva */
	ck_assert_uint_eq(memslots_gfn_to_hva(set, 0), 0x100000);
	ck_assert_uint_eq(memslots_gfn_to_hva(set, 0x11), 0x201000);
	ck_assert_uint_eq(memslots_gfn_to_hva(set, 0x27), 0x20f000);
	ck_assert_uint_eq(memslots_gfn_to_hva(set, 0x28), MEMSLOTS_HVA_BAD);
	ck_assert_uint_eq(memslots_gfn_to_hva(set, 0x1ff), 0x2ff000);
	ck_assert_uint_eq(memslots_gfn_to_hva(set, 0xffffffff), 0x7000fff000);
	ck_assert_uint_eq(memslots_gfn_to_hva(set, UINT64_MAX), MEMSLOTS_HVA_BAD);
	memslots_read_unlock(e.ms);

	/* and the brute-force comparison over many random queries */
	ts_model_check(&e.m, e.ms, &e.rng, 2000);
	ts_env_fini(&e);
}
END_TEST

/* Sets must not disagree about what a gfn holds even with the cache. */
START_TEST(test_cache_generations)
{
	struct memslots_cache cache = {0};
	const struct memslots_set *set;
	const struct memslot *s;
	struct ts_env e;
	uint64_t gen0;

	ts_changes_env_setup(&e, &ts_counting_rcu, false);
	set = memslots_read_lock(e.ms);
	gen0 = memslots_generation(set);
	expect_id(memslots_find_gfn_cached(set, &cache, 0x105), 1);
	memslots_read_unlock(e.ms);

	/* flags-only: the cached slot is of an older set; the new one has LOG */
	ts_env_set(&e, ts_env_region(&e, 1, LOG, 0x100, 0x10, 0x10000000));
	set = memslots_read_lock(e.ms);
	ck_assert_uint_gt(memslots_generation(set), gen0);
	s = expect_id(memslots_find_gfn_cached(set, &cache, 0x105), 1);
	ck_assert_uint_eq(s->flags, LOG);
	ck_assert_ptr_eq(s, memslots_find_gfn(set, 0x105));
	memslots_read_unlock(e.ms);

	/* delete: the cached slot is gone */
	ts_env_set(&e, ts_env_region(&e, 1, 0, 0, 0, 0));
	set = memslots_read_lock(e.ms);
	expect_id(memslots_find_gfn_cached(set, &cache, 0x105), -1);
	expect_id(memslots_find_gfn_cached(set, &cache, 0x100), -1);
	memslots_read_unlock(e.ms);

	/* re-create with another hva: the old mapping must not come back */
	ts_env_set(&e, ts_env_region(&e, 1, 0, 0x100, 0x10, 0x50000000));
	set = memslots_read_lock(e.ms);
	s = expect_id(memslots_find_gfn_cached(set, &cache, 0x105), 1);
	ck_assert_uint_eq(s->userspace_addr, 0x50000000);
	expect_id(memslots_find_gfn_cached(set, &cache, 0x205), 2);
	memslots_read_unlock(e.ms);

	/* move: the cache held id 2 at its old place */
	ts_env_set(&e, ts_env_region(&e, 2, RO, 0x2000, 0x20, 0x20000000));
	set = memslots_read_lock(e.ms);
	expect_id(memslots_find_gfn_cached(set, &cache, 0x205), -1);
	s = expect_id(memslots_find_gfn_cached(set, &cache, 0x2005), 2);
	ck_assert_uint_eq(s->base_gfn, 0x2000);
	memslots_read_unlock(e.ms);

	/* a create into a hole the cache last missed in */
	set = memslots_read_lock(e.ms);
	expect_id(memslots_find_gfn_cached(set, &cache, 0x500), -1);
	memslots_read_unlock(e.ms);
	ts_env_set(&e, ts_env_region(&e, 9, 0, 0x500, 1, 0x90000000));
	set = memslots_read_lock(e.ms);
	expect_id(memslots_find_gfn_cached(set, &cache, 0x500), 9);
	memslots_read_unlock(e.ms);

	/* one cache through a long series of generations */
	for (unsigned int i = 0; i < 50; i++) {
		uint32_t f = i & 1 ? LOG : 0;

		ts_env_set(&e, ts_env_region(&e, 9, f, 0x500 + (i % 3 == 2), 1, 0x90000000));
		set = memslots_read_lock(e.ms);
		s = memslots_find_gfn_cached(set, &cache, 0x500);
		ck_assert_ptr_eq(s, memslots_find_gfn(set, 0x500));
		if (s)
			ck_assert_uint_eq(s->flags, f);
		memslots_read_unlock(e.ms);
	}
	ts_env_fini(&e);
}
END_TEST

/* Generation: never 0, strictly increasing, untouched by failures and no-ops. */
START_TEST(test_generation)
{
	struct memslots_region r;
	struct ts_env e;
	uint64_t gen, prev;

	ts_env_init(&e, 12, 64, 0, &ts_counting_rcu);
	prev = ts_generation(e.ms);
	ck_assert_uint_ne(prev, 0);
	for (unsigned int i = 0; i < 200; i++) {
		unsigned int id = i % 16;
		int change = TS_MODEL_NOOP;

		r = ts_env_region(&e, id, (i / 16) & 1 ? LOG : 0, 0x100 * id + (i / 32) % 2, 4,
				  0x1000);
		if (i % 7 == 6)
			r.memory_size = 0;
		if (ts_model_classify(&e.m, &r, &change))
			r.memory_size = 0;
		if (ts_model_classify(&e.m, &r, &change))
			continue;
		ts_env_set(&e, r);
		gen = ts_generation(e.ms);
		if (change == TS_MODEL_NOOP)
			ck_assert_uint_eq(gen, prev);
		else
			ck_assert_uint_gt(gen, prev);
		prev = gen;

		/* failures in between change nothing */
		r = ts_env_region(&e, id, 1u << 7, 0, 1, 0);
		ck_assert_int_eq(memslots_set_region(e.ms, &r), -EINVAL);
		r = ts_env_region(&e, 64, 0, 0, 1, 0);
		ck_assert_int_eq(memslots_set_region(e.ms, &r), -EINVAL);
		ck_assert_uint_eq(ts_generation(e.ms), prev);
	}
	/* an -EEXIST and a failing prepare */
	ts_env_set(&e, ts_env_region(&e, 20, 0, 0x9000, 4, 0x1000));
	prev = ts_generation(e.ms);
	r = ts_env_region(&e, 21, 0, 0x9002, 4, 0x1000);
	ck_assert_int_eq(memslots_set_region(e.ms, &r), -EEXIST);
	e.hooks.fail_id = 21;
	e.hooks.fail_err = -ENOSPC;
	r = ts_env_region(&e, 21, 0, 0xa000, 4, 0x1000);
	ck_assert_int_eq(memslots_set_region(e.ms, &r), -ENOSPC);
	e.hooks.fail_id = -1;
	ck_assert_uint_eq(ts_generation(e.ms), prev);
	ts_env_fini(&e);
}
END_TEST

static Suite *make_suite(void)
{
	const struct ts_case cases[] = {
		{.tcase = "lookups", .test = test_lookups},
		{.tcase = "cache_generations", .test = test_cache_generations},
		{.tcase = "generation", .test = test_generation},
	};
	Suite *s = suite_create("changes");

	for (int i = 0; i < (int)(sizeof(change_cases) / sizeof(change_cases[0])); i++) {
		TCase *tc = tcase_create(change_cases[i].tcase);

		tcase_add_loop_test(tc, test_change_case, i, i + 1);
		suite_add_tcase(s, tc);
	}
	ts_add_cases(s, cases, sizeof(cases) / sizeof(cases[0]));
	changes_add_hook_cases(s);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
