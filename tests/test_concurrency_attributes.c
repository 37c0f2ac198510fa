/* SPDX-License-Identifier: MIT */
/*
 * The concurrency test, continued: readers walking memory attribute runs
 * while the writer converts them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <memslots/memslots.h>

#include "concurrency_fixture.h"
#include "ts_check.h"

/* ---- attributes: readers never see a half-made or unmerged map -------------- */

/*
 * The writer walks a cycle of conversions, each one memslots_set_attributes()
 * call, between four maps of the gfns [0, 64) (every gfn above is 0):
 *   A: all 0;  B: [8, 40) private;  C: B with [16, 24) shared (a hole);
 *   D: [8, 56) private (B grown by a touching range, so merged).
 * Going C -> B and D -> B must merge runs back.  A reader walks the runs
 * from gfn 0 along run_end inside one section and must find exactly the
 * maximal runs of one of the four maps: a torn map, or runs left unmerged,
 * match none.
 */
struct ta_run {
	uint64_t start, end, attrs;
};

#define TA_MAX_RUNS 6

static const struct ta_run ta_maps[][TA_MAX_RUNS] = {
	/* A */ {{0, UINT64_MAX, 0}},
	/* B */ {{0, 8, 0}, {8, 40, MEMSLOTS_ATTR_PRIVATE}, {40, UINT64_MAX, 0}},
	/* C */
	{{0, 8, 0},
	 {8, 16, MEMSLOTS_ATTR_PRIVATE},
	 {16, 24, 0},
	 {24, 40, MEMSLOTS_ATTR_PRIVATE},
	 {40, UINT64_MAX, 0}},
	/* D */ {{0, 8, 0}, {8, 56, MEMSLOTS_ATTR_PRIVATE}, {56, UINT64_MAX, 0}},
};

#define TA_NR_MAPS (sizeof(ta_maps) / sizeof(ta_maps[0]))

/* The cycle A B C B D B A: each step one conversion, in gfns. */
static const struct ta_run ta_steps[] = {
	{8, 40, MEMSLOTS_ATTR_PRIVATE},	 /* A -> B */
	{16, 24, 0},			 /* B -> C */
	{16, 24, MEMSLOTS_ATTR_PRIVATE}, /* C -> B: merged */
	{40, 56, MEMSLOTS_ATTR_PRIVATE}, /* B -> D: merged */
	{40, 56, 0},			 /* D -> B */
	{8, 40, 0},			 /* B -> A */
};

static bool ta_same_map(const struct ta_run *seen, size_t n, const struct ta_run *map)
{
	for (size_t i = 0; i < TA_MAX_RUNS; i++) {
		bool used = map[i].end != 0;

		if (i >= n)
			return !used;
		if (!used || seen[i].start != map[i].start || seen[i].end != map[i].end ||
		    seen[i].attrs != map[i].attrs)
			return false;
	}
	return n <= TA_MAX_RUNS;
}

/* One section: the runs as the set gives them, and the fault path at each. */
static void ta_check_section(struct ts_conc_reader *rd, const struct memslots_set *set)
{
	struct ts_conc_shared *sh = rd->sh;
	struct ta_run seen[TA_MAX_RUNS + 1];
	uint64_t gfn = 0, end, attrs;
	size_t n = 0, k;

	do {
		seen[n].start = gfn;
		seen[n].attrs = memslots_gfn_attributes(set, gfn, &end);
		seen[n].end = end;
		if (memslots_fault_lookup(set, &rd->cache, gfn, &attrs, NULL) !=
			    memslots_find_gfn(set, gfn) ||
		    attrs != seen[n].attrs)
			ts_conc_fail(sh, "fault_lookup disagrees with gfn_attributes", NULL);
		gfn = end;
	} while (++n <= TA_MAX_RUNS && end != UINT64_MAX);
	for (k = 0; k < TA_NR_MAPS; k++)
		if (ta_same_map(seen, n, ta_maps[k]))
			return;
	ts_conc_fail(sh, "a reader saw an attribute map that is none of the writer's", NULL);
}

/* Conversions, and now and then a slot over the converted range (attributes
 * do not follow slots, and slot publications must carry the map along). */
static void ta_writer_step(struct ts_conc_shared *sh, struct ts_rng *rng, unsigned long i)
{
	const struct ta_run *st = &ta_steps[i % (sizeof(ta_steps) / sizeof(ta_steps[0]))];
	struct memslots_attributes a = {
		.address = st->start * TS_CONC_PAGE,
		.size = (st->end - st->start) * TS_CONC_PAGE,
		.attributes = st->attrs,
	};
	struct memslots_region2 r = ts_conc_region(1, 12, 0);

	(void)rng; /* the cycle is fixed */
	ck_assert_int_eq(memslots_set_attributes(sh->ms, &a), 0);
	if (i % 3 == 0) {
		r.memory_size = i % 2 ? 0 : r.memory_size;
		ck_assert_int_eq(memslots_set_region2(sh->ms, &r), 0);
	}
}

static void ta_run(const struct memslots_rcu *rcu)
{
	const struct ts_conc_run run = {
		.name = "attributes",
		.rcu = rcu,
		.seed = 3,
		.section = ta_check_section,
		.step = ta_writer_step,
	};

	ts_conc_run(&run, ts_conc_seconds());
}

START_TEST(attribute_readers_vs_writer)
{
#ifdef TS_CONC_TSAN
	ta_run(&ts_rwlock_rcu);
#else
	ta_run(NULL);
#endif
}
END_TEST

START_TEST(attribute_readers_vs_writer_rwlock)
{
	ta_run(&ts_rwlock_rcu);
}
END_TEST

void concurrency_add_attribute_cases(Suite *s)
{
	TCase *tc;

	tc = tcase_create("attributes");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, attribute_readers_vs_writer);
	tcase_add_test(tc, attribute_readers_vs_writer_rwlock);
	suite_add_tcase(s, tc);
}
