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
static void ta_check_section(struct ts_conc_shared *sh, const struct memslots_set *set,
			     struct memslots_cache *cache)
{
	struct ta_run seen[TA_MAX_RUNS + 1];
	uint64_t gfn = 0, end, attrs;
	size_t n = 0, k;

	do {
		seen[n].start = gfn;
		seen[n].attrs = memslots_gfn_attributes(set, gfn, &end);
		seen[n].end = end;
		if (memslots_fault_lookup(set, cache, gfn, &attrs, NULL) !=
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

static void *ta_reader(void *arg)
{
	struct ts_conc_shared *sh = arg;
	struct memslots_cache cache = {0};
	unsigned long ops = 0;

	memslots_reader_register(sh->ms);
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		const struct memslots_set *set = memslots_read_lock(sh->ms);

		ta_check_section(sh, set, &cache);
		memslots_read_unlock(sh->ms);
		ops++;
	}
	memslots_reader_unregister(sh->ms);
	atomic_fetch_add(&sh->reader_ops, ops);
	return NULL;
}

/* Conversions, and now and then a slot over the converted range (attributes
 * do not follow slots, and slot publications must carry the map along). */
static void ta_writer_step(struct ts_conc_shared *sh, unsigned long i)
{
	const struct ta_run *st = &ta_steps[i % (sizeof(ta_steps) / sizeof(ta_steps[0]))];
	struct memslots_attributes a = {
		.address = st->start * TS_CONC_PAGE,
		.size = (st->end - st->start) * TS_CONC_PAGE,
		.attributes = st->attrs,
	};
	struct memslots_region2 r = ts_conc_region(1, 12, 0);

	ck_assert_int_eq(memslots_set_attributes(sh->ms, &a), 0);
	if (i % 3 == 0) {
		r.memory_size = i % 2 ? 0 : r.memory_size;
		ck_assert_int_eq(memslots_set_region2(sh->ms, &r), 0);
	}
	atomic_fetch_add_explicit(&sh->writer_ops, 1, memory_order_relaxed);
}

static void ta_run(const struct memslots_rcu *rcu, double seconds)
{
	struct memslots_config cfg = {.ops = &ts_conc_ops, .rcu = rcu};
	struct ts_conc_shared sh = {.seed = 3};
	pthread_t readers[TS_CONC_READERS];
	unsigned long i = 0;
	double start;

	sh.ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(sh.ms);
	atomic_init(&sh.stop, false);
	atomic_init(&sh.reader_ops, 0);
	atomic_init(&sh.reader_errors, 0);
	atomic_init(&sh.writer_ops, 0);
	for (int k = 0; k < TS_CONC_READERS; k++)
		ck_assert_int_eq(pthread_create(&readers[k], NULL, ta_reader, &sh), 0);
	start = ts_conc_now();
	while (ts_conc_now() < start + seconds * 10 &&
	       (ts_conc_now() < start + seconds || i < TS_CONC_MIN_WRITES))
		ta_writer_step(&sh, i++);
	atomic_store(&sh.stop, true);
	for (int k = 0; k < TS_CONC_READERS; k++)
		pthread_join(readers[k], NULL);
	fprintf(stderr, "attributes: %lu conversions, %lu reader sections, %lu errors\n", i,
		atomic_load(&sh.reader_ops), atomic_load(&sh.reader_errors));
	ck_assert_uint_eq(atomic_load(&sh.reader_errors), 0);
	ck_assert_uint_ge(i, TS_CONC_MIN_WRITES);
	ck_assert_uint_gt(atomic_load(&sh.reader_ops), 0);
	memslots_free(sh.ms);
}

START_TEST(attribute_readers_vs_writer)
{
#ifdef TS_CONC_TSAN
	ta_run(&ts_rwlock_rcu, ts_conc_seconds());
#else
	ta_run(NULL, ts_conc_seconds());
#endif
}
END_TEST

START_TEST(attribute_readers_vs_writer_rwlock)
{
	ta_run(&ts_rwlock_rcu, ts_conc_seconds());
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
