/* SPDX-License-Identifier: MIT */
/*
 * Readers against a writer, with real threads.
 *
 * The writer creates, deletes, moves, toggles flags and applies batches for
 * a few seconds; reader threads do every kind of lookup and full
 * iterations meanwhile; in a second run the writer converts memory
 * attributes while readers walk the runs.  Each slot id has fixed,
 * derivable properties (size, host address, the priv its prepare hook
 * sets, and for every third id a guest_memfd range: those slots are only
 * ever created and deleted), so a reader can tell a whole slot from a torn
 * or freed one, and checks every answer against the question asked.  Run
 * it under ASan (a slot freed too early is a use-after-free) and TSan (a
 * publication without release/acquire is a data race).
 *
 * TSan cannot see liburcu's grace periods, so under TSan the library gets
 * a writer-preferring pthread rwlock as its struct memslots_rcu: readers
 * hold it shared, synchronize takes it exclusively once.  That is a
 * correct (if slow) RCU whose ordering TSan understands.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <valgrind/valgrind.h>

#include <memslots/memslots.h>

#include "concurrency_fixture.h"
#include "ts_check.h"

/* Whether @s's guest_memfd fields are its id's (0 for the others). */
static bool ts_conc_gmem_whole(const struct memslot *s)
{
	if (!ts_conc_is_gmem(s->id))
		return !(s->flags & MEMSLOT_GUEST_MEMFD) && !s->guest_memfd &&
		       !s->guest_memfd_offset;
	return (s->flags & ~MEMSLOT_INVALID) == MEMSLOT_GUEST_MEMFD &&
	       s->guest_memfd == ts_conc_gmem_fd(s->id) &&
	       s->guest_memfd_offset == ts_conc_gmem_offset(s->id);
}

/* Whether @s is a whole slot as the writer makes them. */
static bool ts_conc_slot_whole(const struct memslot *s)
{
	const uint32_t ok = MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_GUEST_MEMFD | MEMSLOT_INVALID;

	return s->id < TS_CONC_IDS && s->npages == ts_conc_npages(s->id) &&
	       s->userspace_addr == ts_conc_hva(s->id) && s->priv == &ts_conc_magic[s->id] &&
	       !(s->flags & ~ok) && s->base_gfn + s->npages <= TS_CONC_GFN_SPAN &&
	       ts_conc_gmem_whole(s);
}

static void ts_conc_check_iteration(struct ts_conc_shared *sh, const struct memslots_set *set)
{
	const struct memslot *s, *prev = NULL;
	uint64_t pages = 0;
	size_t n = 0;

	for (s = memslots_first(set); s; s = memslots_next(set, s)) {
		if (!ts_conc_slot_whole(s))
			ts_conc_fail(sh, "torn slot in iteration", s);
		if (prev && prev->base_gfn + prev->npages > s->base_gfn)
			ts_conc_fail(sh, "iteration not ascending or overlapping", s);
		if (memslots_find_id(set, s->id) != s)
			ts_conc_fail(sh, "find_id disagrees with iteration", s);
		pages += s->npages;
		n++;
		prev = s;
	}
	if (n != memslots_count(set) || pages != memslots_nr_pages(set))
		ts_conc_fail(sh, "count or nr_pages disagree with iteration", NULL);
}

static void ts_conc_check_gfn(struct ts_conc_shared *sh, const struct memslots_set *set,
			      struct memslots_cache *cache, uint64_t gfn)
{
	const struct memslot *s = memslots_find_gfn(set, gfn);
	const struct memslot *c = memslots_find_gfn_cached(set, cache, gfn);
	const struct memslot *a = memslots_find_gfn_approx(set, gfn);
	uint64_t hva = memslots_gfn_to_hva(set, gfn);

	if (s != c)
		ts_conc_fail(sh, "find_gfn and find_gfn_cached disagree", s);
	if (s && (!ts_conc_slot_whole(s) || gfn < s->base_gfn || gfn >= s->base_gfn + s->npages))
		ts_conc_fail(sh, "find_gfn returned a wrong or torn slot", s);
	if (s && a != s)
		ts_conc_fail(sh, "find_gfn_approx misses a hit", a);
	if (!s && memslots_count(set) && !a)
		ts_conc_fail(sh, "find_gfn_approx returned nothing on a non-empty set", NULL);
	if (s && !(s->flags & MEMSLOT_INVALID) &&
	    hva != s->userspace_addr + (gfn - s->base_gfn) * TS_CONC_PAGE)
		ts_conc_fail(sh, "gfn_to_hva wrong", s);
	if ((!s || (s->flags & MEMSLOT_INVALID)) && hva != MEMSLOTS_HVA_BAD)
		ts_conc_fail(sh, "gfn_to_hva should be bad", s);
}

static void ts_conc_check_ranges(struct ts_conc_shared *sh, const struct memslots_set *set,
				 unsigned int id, uint64_t gfn)
{
	const struct memslot *s = memslots_find_id(set, id), *h;
	unsigned int hits = 0;

	if (s && (!ts_conc_slot_whole(s) || s->id != id))
		ts_conc_fail(sh, "find_id returned a wrong or torn slot", s);
	/* Host ranges of different ids never overlap here: exactly one hit. */
	for (h = memslots_hva_range_first(set, ts_conc_hva(id), ts_conc_hva(id) + TS_CONC_PAGE - 1);
	     h; h = memslots_hva_range_next(set, h, ts_conc_hva(id),
					    ts_conc_hva(id) + TS_CONC_PAGE - 1)) {
		if (h != s)
			ts_conc_fail(sh, "hva range returned another slot", h);
		hits++;
	}
	if (hits != (s != NULL))
		ts_conc_fail(sh, "hva range hit count wrong", s);
	for (h = memslots_gfn_range_first(set, gfn, gfn + 16); h;
	     h = memslots_gfn_range_next(set, h, gfn, gfn + 16))
		if (!ts_conc_slot_whole(h) || h->base_gfn >= gfn + 16 ||
		    h->base_gfn + h->npages <= gfn)
			ts_conc_fail(sh, "gfn range returned a slot outside the range", h);
}

/* One section: lookups of random gfns and ids, and a full iteration. */
static void ts_conc_check_section(struct ts_conc_reader *rd, const struct memslots_set *set)
{
	struct ts_conc_shared *sh = rd->sh;
	uint64_t gen = memslots_generation(set);
	int i;

	if (gen < rd->last_gen)
		ts_conc_fail(sh, "generation went backwards", NULL);
	rd->last_gen = gen;
	for (i = 0; i < 32; i++) {
		uint64_t gfn = ts_rng_below(&rd->rng, TS_CONC_GFN_SPAN);

		ts_conc_check_gfn(sh, set, &rd->cache, gfn);
		ts_conc_check_ranges(sh, set, (unsigned int)ts_rng_below(&rd->rng, TS_CONC_IDS),
				     gfn);
	}
	ts_conc_check_iteration(sh, set);
	if (memslots_generation(set) != gen)
		ts_conc_fail(sh, "a set changed under a reader", NULL);
}

/* ---- the writer ------------------------------------------------------------ */

static uint64_t ts_conc_random_gfn(struct ts_rng *rng, unsigned int id)
{
	return ts_rng_below(rng, TS_CONC_GFN_SPAN - ts_conc_npages(id) + 1);
}

/* One random request for @id, given what the writer knows of it. */
static struct memslots_region2 ts_conc_random_request(struct ts_rng *rng, struct memslots *ms,
						      unsigned int id)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	const struct memslot *s = memslots_find_id(set, id);
	struct memslots_region2 r;

	if (!s) {
		r = ts_conc_region(id, ts_conc_random_gfn(rng, id),
				   ts_conc_is_gmem(id) ? MEMSLOT_GUEST_MEMFD : 0);
	} else if (ts_conc_is_gmem(id)) { /* immutable: delete only */
		r = ts_conc_region(id, s->base_gfn, s->flags);
		r.memory_size = 0;
	} else {
		switch (ts_rng_below(rng, 3)) {
		case 0: /* delete */
			r = ts_conc_region(id, s->base_gfn, s->flags);
			r.memory_size = 0;
			break;
		case 1: /* move */
			r = ts_conc_region(id, ts_conc_random_gfn(rng, id), s->flags);
			break;
		default: /* flags-only */
			r = ts_conc_region(id, s->base_gfn, s->flags ^ MEMSLOT_LOG_DIRTY_PAGES);
			break;
		}
	}
	memslots_read_unlock(ms);
	return r;
}

static void ts_conc_writer_step(struct ts_conc_shared *sh, struct ts_rng *rng, unsigned long step)
{
	struct memslots_region2 batch[8];
	unsigned int n, i, base;
	size_t failed;
	int err;

	(void)step; /* every step is drawn from @rng */
	if (ts_rng_below(rng, 4)) {
		batch[0] = ts_conc_random_request(rng, sh->ms,
						  (unsigned int)ts_rng_below(rng, TS_CONC_IDS));
		err = memslots_set_region2(sh->ms, &batch[0]);
	} else {
		/* Distinct ids, so only overlaps can make it fail. */
		n = 1 + (unsigned int)ts_rng_below(rng, 8);
		base = (unsigned int)ts_rng_below(rng, TS_CONC_IDS);
		for (i = 0; i < n; i++)
			batch[i] =
				ts_conc_random_request(rng, sh->ms, (base + i * 7) % TS_CONC_IDS);
		err = memslots_apply2(sh->ms, batch, n, &failed);
	}
	ck_assert_msg(err == 0 || err == -EEXIST, "writer got %d", err);
}

/* The writer peeks at the state to make its requests: a reader too. */
static void ts_conc_slots_run(const struct memslots_rcu *rcu, unsigned long seed)
{
	const struct ts_conc_run run = {
		.name = "concurrency",
		.rcu = rcu,
		.seed = seed,
		.writer_reads = true,
		.section = ts_conc_check_section,
		.step = ts_conc_writer_step,
	};

	ts_conc_run(&run, ts_conc_seconds());
}

/* The library's default RCU (liburcu memb); under TSan, the rwlock one. */
START_TEST(readers_vs_writer_default_rcu)
{
#ifdef TS_CONC_TSAN
	ts_conc_slots_run(&ts_rwlock_rcu, 1);
#else
	ts_conc_slots_run(NULL, 1);
#endif
}
END_TEST

START_TEST(readers_vs_writer_rwlock_rcu)
{
	ts_conc_slots_run(&ts_rwlock_rcu, 2);
}
END_TEST

/*
 * A VMM with two address spaces (two objects, one default RCU domain)
 * registers each vCPU thread with both.  liburcu refuses a thread twice in
 * its registry; the library must count, and a grace period must still see
 * the thread while either registration stands.
 */
START_TEST(two_address_spaces_one_thread)
{
	struct memslots *a = memslots_new(NULL), *b = memslots_new(NULL);
	struct memslots_region r = {
		.slot = 1,
		.memory_size = TS_CONC_PAGE,
		.userspace_addr = ts_conc_hva(1),
	};
	int i;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	for (i = 0; i < 50; i++) {
		memslots_reader_register(a);
		memslots_reader_register(b);
		memslots_read_lock(a);
		memslots_read_lock(b);
		memslots_read_unlock(b);
		memslots_read_unlock(a);
		memslots_reader_unregister(b);
		/* Still registered through a: writers' grace periods walk the
		 * registry, which a double registration would have corrupted. */
		r.guest_phys_addr = (uint64_t)(i % 2) * TS_CONC_PAGE * 16;
		ck_assert_int_eq(memslots_set_region(a, &r), 0);
		ck_assert_int_eq(memslots_set_region(b, &r), 0);
		memslots_reader_unregister(a);
	}
	/* Unbalanced unregister is ignored, not passed on to liburcu. */
	memslots_reader_unregister(a);
	ck_assert_int_eq(memslots_set_region(a, &r), 0);
	memslots_free(a);
	memslots_free(b);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("concurrency");
	TCase *tc;

	ts_rwlock_rcu_init();
	tc = tcase_create("urcu");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, readers_vs_writer_default_rcu);
	suite_add_tcase(s, tc);
	tc = tcase_create("registration");
	tcase_add_test(tc, two_address_spaces_one_thread);
	suite_add_tcase(s, tc);
	tc = tcase_create("rwlock");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, readers_vs_writer_rwlock_rcu);
	suite_add_tcase(s, tc);
	concurrency_add_attribute_cases(s);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
