/* SPDX-License-Identifier: MIT */
/*
 * The API contract, checked through the public names only.  Built against
 * the array baseline by force-including msarr_as_memslots.h (the test
 * "test_baseline"); the same source compiles against the tree engine.
 *
 * A test RCU counts grace periods and snapshots the active set at each
 * one, which is how the tests see what readers could see between
 * publications (contract_fixture.c, with the logging hooks).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <memslots/memslots.h>

#include "contract_fixture.h"
#include "ts_check.h"

/* ---- validation ------------------------------------------------------------ */

START_TEST(test_validation)
{
	struct memslots *ms = mk(16, (1ull << 47) - 4096, false);
	uint64_t g;

	/* slot 0: gfn [0x100, 0x110), hva 0x10000000 */
	ck_assert_int_eq(set(ms, 0, 0, 0x100000, 16 * PG, 0x10000000), 0);
	g = gen(ms);

	/* 1: flags */
	ck_assert_int_eq(set(ms, 1, 1u << 2, 0x200000, PG, 0x20000000), -EINVAL);
	ck_assert_int_eq(set(ms, 1, MEMSLOT_INVALID, 0x200000, PG, 0x20000000), -EINVAL);
	/* rule 1 before rule 5 (overlap) */
	ck_assert_int_eq(set(ms, 1, 1u << 3, 0x100000, PG, 0x20000000), -EINVAL);
	/* 2: alignment, hva wrap and limit, address space, id range */
	ck_assert_int_eq(set(ms, 1, 0, 0x200000, PG + 1, 0x20000000), -EINVAL);
	ck_assert_int_eq(set(ms, 1, 0, 0x200800, PG, 0x20000000), -EINVAL);
	ck_assert_int_eq(set(ms, 1, 0, 0x200000, PG, 0x20000800), -EINVAL);
	ck_assert_int_eq(set(ms, 1, 0, 0x200000, 2 * PG, ~0ull - PG + 1), -EINVAL);
	ck_assert_int_eq(set(ms, 1, 0, 0x200000, 2 * PG, (1ull << 47) - 2 * PG), -EINVAL);
	ck_assert_int_eq(set(ms, 1, 0, 0x200000, PG, (1ull << 47) - 2 * PG), 0);
	ck_assert_int_eq(set(ms, 1, 0, 0x200000, 0, 0), 0);
	ck_assert_int_eq(set(ms, 1u | (1u << 16), 0, 0x200000, PG, 0x20000000), -EINVAL);
	ck_assert_int_eq(set(ms, 16, 0, 0x200000, PG, 0x20000000), -EINVAL);
	/* rule 2 before rule 5: an overlapping request with a bad id */
	ck_assert_int_eq(set(ms, 16, 0, 0x100000, PG, 0x20000000), -EINVAL);
	/* 3: gpa wrap, size limit */
	ck_assert_int_eq(set(ms, 1, 0, ~0ull - PG + 1, 2 * PG, 0x20000000), -EINVAL);
	ck_assert_int_eq(set(ms, 1, 0, 0, (MEMSLOTS_MAX_NR_PAGES + 1) * PG, 0x1000), -EINVAL);
	/* 4: delete of a missing id, even with an otherwise valid request */
	ck_assert_int_eq(set(ms, 2, 0, 0, 0, 0), -EINVAL);
	/* 5: create overlapping (partially, inside, around) */
	ck_assert_int_eq(set(ms, 1, 0, 0x10f000, PG, 0x20000000), -EEXIST);
	ck_assert_int_eq(set(ms, 1, 0, 0xff000, 2 * PG, 0x20000000), -EEXIST);
	ck_assert_int_eq(set(ms, 1, 0, 0x0, 0x200000, 0x20000000), -EEXIST);
	/* touching is no overlap; hva overlap is allowed */
	ck_assert_int_eq(set(ms, 1, 0, 0x110000, PG, 0x10000000), 0);
	ck_assert_int_eq(set(ms, 2, 0, 0xff000, PG, 0x10000000), 0);
	/* 6: existing slot: hva, size, readonly may not change */
	ck_assert_int_eq(set(ms, 0, 0, 0x100000, 16 * PG, 0x10001000), -EINVAL);
	ck_assert_int_eq(set(ms, 0, 0, 0x100000, 15 * PG, 0x10000000), -EINVAL);
	ck_assert_int_eq(set(ms, 0, MEMSLOT_READONLY, 0x100000, 16 * PG, 0x10000000), -EINVAL);
	/* rule 6 (size) before the move's overlap check */
	ck_assert_int_eq(set(ms, 0, 0, 0x110000, 15 * PG, 0x10000000), -EINVAL);
	/* move onto another slot, and onto itself shifted (overlap with self is fine) */
	ck_assert_int_eq(set(ms, 0, 0, 0x101000, 16 * PG, 0x10000000), -EEXIST);
	/* no-op */
	g = gen(ms);
	t_syncs = 0;
	ck_assert_int_eq(set(ms, 0, 0, 0x100000, 16 * PG, 0x10000000), 0);
	ck_assert_int_eq(t_syncs, 0);
	ck_assert_uint_eq(gen(ms), g);
	/* failures publish nothing */
	ck_assert_int_eq(set(ms, 0, 0, 0x101000, 16 * PG, 0x10000000), -EEXIST);
	ck_assert_int_eq(t_syncs, 0);
	ck_assert_uint_eq(gen(ms), g);
	/* the largest slot is fine */
	ck_assert_int_eq(set(ms, 3, 0, 1ull << 44, MEMSLOTS_MAX_NR_PAGES * PG, 0x1000), 0);
	done(ms);
}
END_TEST

START_TEST(test_config)
{
	struct memslots_config cfg = {0};
	struct memslots_rcu bad_rcu = {.read_lock = t_nop, .read_unlock = t_nop};
	struct memslots *ms;

	cfg.page_shift = 9;
	errno = 0;
	ck_assert_ptr_null(memslots_new(&cfg));
	ck_assert_int_eq(errno, EINVAL);
	cfg.page_shift = 31;
	ck_assert_ptr_null(memslots_new(&cfg));
	cfg.page_shift = 0;
	cfg.max_slots = 65537;
	ck_assert_ptr_null(memslots_new(&cfg));
	cfg.max_slots = 0;
	cfg.rcu = &bad_rcu;
	ck_assert_ptr_null(memslots_new(&cfg));
	cfg.rcu = NULL;
	cfg.alloc = ts_alloc;
	ck_assert_ptr_null(memslots_new(&cfg));
	cfg.alloc = NULL;

	ms = memslots_new(NULL);
	ck_assert_ptr_nonnull(ms);
	ck_assert_uint_eq(memslots_page_shift(ms), 12);
	ck_assert_uint_eq(memslots_max_slots(ms), MEMSLOTS_DEFAULT_MAX_SLOTS);
	memslots_reader_register(ms);
	ck_assert_int_eq(set(ms, 32763, 0, 0, PG, 0x1000), 0);
	ck_assert_int_eq(set(ms, 32764, 0, PG, PG, 0x1000), -EINVAL);
	memslots_reader_unregister(ms);
	memslots_free(ms);
	memslots_free(NULL);

	/* 64 KiB pages, 65536 ids */
	cfg.page_shift = 16;
	cfg.max_slots = 65536;
	ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(ms);
	memslots_reader_register(ms);
	ck_assert_int_eq(set(ms, 65535, 0, 0x10000, 0x10000, 0x10000), 0);
	ck_assert_int_eq(set(ms, 0, 0, 0x20000, 0x1000, 0x10000), -EINVAL);
	{
		const struct memslots_set *s = memslots_read_lock(ms);

		ck_assert_ptr_nonnull(memslots_find_id(s, 65535));
		ck_assert_uint_eq(memslots_find_gfn(s, 1)->id, 65535);
		ck_assert_uint_eq(memslots_gfn_to_hva(s, 1), 0x10000);
		memslots_read_unlock(ms);
	}
	memslots_reader_unregister(ms);
	memslots_free(ms);
}
END_TEST

/* ---- each change type, lookups and generations ---------------------------- */

static void check_slot(const struct memslot *s, uint16_t id, uint64_t gfn, uint64_t np,
		       uint64_t hva, uint32_t flags)
{
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->id, id);
	ck_assert_uint_eq(s->base_gfn, gfn);
	ck_assert_uint_eq(s->npages, np);
	ck_assert_uint_eq(s->userspace_addr, hva);
	ck_assert_uint_eq(s->flags, flags);
}

START_TEST(test_changes)
{
	struct memslots *ms = mk(0, 0, false);
	const struct memslots_set *s;
	uint64_t g0 = gen(ms), g1, g2, g3, g4;

	ck_assert_uint_ne(g0, 0);
	ck_assert_int_eq(set(ms, 5, 0, 0x10000, 4 * PG, 0x7000000), 0); /* CREATE */
	ck_assert_int_eq(t_syncs, 1);
	g1 = gen(ms);
	ck_assert_uint_gt(g1, g0);
	s = memslots_read_lock(ms);
	ck_assert_uint_eq(memslots_count(s), 1);
	ck_assert_uint_eq(memslots_nr_pages(s), 4);
	check_slot(memslots_find_id(s, 5), 5, 0x10, 4, 0x7000000, 0);
	memslots_read_unlock(ms);

	t_syncs = 0;
	ck_assert_int_eq(set(ms, 5, MEMSLOT_LOG_DIRTY_PAGES, 0x10000, 4 * PG, 0x7000000), 0);
	ck_assert_int_eq(t_syncs, 1); /* FLAGS_ONLY: one publication */
	g2 = gen(ms);
	ck_assert_uint_gt(g2, g1);
	s = memslots_read_lock(ms);
	check_slot(memslots_find_gfn(s, 0x13), 5, 0x10, 4, 0x7000000, MEMSLOT_LOG_DIRTY_PAGES);
	memslots_read_unlock(ms);

	t_syncs = 0;
	ck_assert_int_eq(set(ms, 5, 0, 0x40000, 4 * PG, 0x7000000), 0); /* MOVE + flags */
	ck_assert_int_eq(t_syncs, 2);
	/* between the publications: the old slot, flagged invalid */
	check_slot(&t_snaps[0].slots[0], 5, 0x10, 4, 0x7000000,
		   MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_INVALID);
	check_slot(&t_snaps[1].slots[0], 5, 0x40, 4, 0x7000000, 0);
	ck_assert_uint_gt(t_snaps[0].generation, g2);
	ck_assert_uint_gt(t_snaps[1].generation, t_snaps[0].generation);
	g3 = gen(ms);
	ck_assert_uint_eq(g3, t_snaps[1].generation);
	s = memslots_read_lock(ms);
	ck_assert_ptr_null(memslots_find_gfn(s, 0x10));
	check_slot(memslots_find_gfn(s, 0x43), 5, 0x40, 4, 0x7000000, 0);
	memslots_read_unlock(ms);

	t_syncs = 0;
	ck_assert_int_eq(set(ms, 5, 0, 0, 0, 0), 0); /* DELETE */
	ck_assert_int_eq(t_syncs, 2);
	ck_assert_uint_eq(t_snaps[0].count, 1);
	ck_assert_uint_eq(t_snaps[0].slots[0].flags, MEMSLOT_INVALID);
	ck_assert_uint_eq(t_snaps[1].count, 0);
	g4 = gen(ms);
	ck_assert_uint_gt(g4, g3);
	s = memslots_read_lock(ms);
	ck_assert_uint_eq(memslots_count(s), 0);
	ck_assert_uint_eq(memslots_nr_pages(s), 0);
	ck_assert_ptr_null(memslots_find_id(s, 5));
	ck_assert_ptr_null(memslots_first(s));
	memslots_read_unlock(ms);
	done(ms);
}
END_TEST

START_TEST(test_lookups)
{
	struct memslots *ms = mk(0, 0, false);
	const struct memslots_set *s;
	const struct memslot *m;
	struct memslots_cache cache = {0};
	uint64_t prev;
	int seen[4] = {0}, n;

	/* ids 3, 1, 2 at gfns 0x300, 0x100, 0x200 (4 pages each); hvas of 1, 2 overlap */
	ck_assert_int_eq(set(ms, 3, 0, 0x300000, 4 * PG, 0x9000000), 0);
	ck_assert_int_eq(set(ms, 1, 0, 0x100000, 4 * PG, 0x1000000), 0);
	ck_assert_int_eq(set(ms, 2, MEMSLOT_READONLY, 0x200000, 4 * PG, 0x1002000), 0);
	s = memslots_read_lock(ms);

	/* first/next ascending */
	m = memslots_first(s);
	check_slot(m, 1, 0x100, 4, 0x1000000, 0);
	m = memslots_next(s, m);
	check_slot(m, 2, 0x200, 4, 0x1002000, MEMSLOT_READONLY);
	m = memslots_next(s, m);
	check_slot(m, 3, 0x300, 4, 0x9000000, 0);
	ck_assert_ptr_null(memslots_next(s, m));

	/* find_gfn: edges, holes; twice for the last-used path */
	for (int k = 0; k < 2; k++) {
		ck_assert_uint_eq(memslots_find_gfn(s, 0x100)->id, 1);
		ck_assert_uint_eq(memslots_find_gfn(s, 0x103)->id, 1);
		ck_assert_ptr_null(memslots_find_gfn(s, 0x104));
		ck_assert_ptr_null(memslots_find_gfn(s, 0xff));
		ck_assert_ptr_null(memslots_find_gfn(s, 0));
		ck_assert_ptr_null(memslots_find_gfn(s, ~0ull));
		ck_assert_uint_eq(memslots_find_gfn(s, 0x303)->id, 3);
	}
	/* approx: exact when held, a border otherwise */
	ck_assert_uint_eq(memslots_find_gfn_approx(s, 0x202)->id, 2);
	m = memslots_find_gfn_approx(s, 0x250);
	ck_assert(m->id == 2 || m->id == 3);
	ck_assert_uint_eq(memslots_find_gfn_approx(s, 0)->id, 1);
	ck_assert_uint_eq(memslots_find_gfn_approx(s, ~0ull)->id, 3);

	/* ids */
	ck_assert_uint_eq(memslots_find_id(s, 2)->base_gfn, 0x200);
	ck_assert_ptr_null(memslots_find_id(s, 0));
	ck_assert_ptr_null(memslots_find_id(s, 65535));

	/* cached */
	ck_assert_uint_eq(memslots_find_gfn_cached(s, &cache, 0x201)->id, 2);
	ck_assert_uint_eq(cache.generation, memslots_generation(s));
	ck_assert_uint_eq(memslots_find_gfn_cached(s, &cache, 0x202)->id, 2);
	ck_assert_uint_eq(memslots_find_gfn_cached(s, &cache, 0x101)->id, 1);
	ck_assert_ptr_null(memslots_find_gfn_cached(s, &cache, 0x150));

	/* gfn_to_hva */
	ck_assert_uint_eq(memslots_gfn_to_hva(s, 0x102), 0x1002000);
	ck_assert_uint_eq(memslots_gfn_to_hva(s, 0x104), MEMSLOTS_HVA_BAD);

	/* gfn ranges */
	ck_assert_ptr_null(memslots_gfn_range_first(s, 0x200, 0x200));
	ck_assert_ptr_null(memslots_gfn_range_first(s, 0x104, 0x200));
	ck_assert_ptr_null(memslots_gfn_range_first(s, 0x304, ~0ull));
	m = memslots_gfn_range_first(s, 0x103, 0x201);
	ck_assert_uint_eq(m->id, 1);
	m = memslots_gfn_range_next(s, m, 0x103, 0x201);
	ck_assert_uint_eq(m->id, 2);
	ck_assert_ptr_null(memslots_gfn_range_next(s, m, 0x103, 0x201));
	m = memslots_gfn_range_first(s, 0, ~0ull);
	for (n = 0, prev = 0; m; m = memslots_gfn_range_next(s, m, 0, ~0ull), n++) {
		ck_assert_uint_ge(m->base_gfn, prev);
		prev = m->base_gfn;
	}
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(memslots_gfn_range_first(s, 0x150, 0x301)->id, 2);

	/* hva ranges: slot 1 is [0x1000000, 0x1003fff], slot 2 [0x1002000, 0x1005fff] */
	ck_assert_ptr_null(memslots_hva_range_first(s, 0x1003000, 0x1002fff));
	ck_assert_ptr_null(memslots_hva_range_first(s, 0x2000000, 0x8ffffff));
	for (m = memslots_hva_range_first(s, 0x1003fff, 0x1003fff); m;
	     m = memslots_hva_range_next(s, m, 0x1003fff, 0x1003fff))
		seen[m->id]++;
	ck_assert_int_eq(seen[1], 1);
	ck_assert_int_eq(seen[2], 1);
	ck_assert_int_eq(seen[3], 0);
	m = memslots_hva_range_first(s, 0x1004000, 0x1004000);
	ck_assert_uint_eq(m->id, 2);
	ck_assert_ptr_null(memslots_hva_range_next(s, m, 0x1004000, 0x1004000));
	m = memslots_hva_range_first(s, 0x9003fff, ~0ull);
	ck_assert_uint_eq(m->id, 3);
	memslots_read_unlock(ms);

	/* a cache filled from an older set is not trusted for a newer one */
	ck_assert_int_eq(set(ms, 2, 0, 0, 0, 0), 0);
	s = memslots_read_lock(ms);
	ck_assert_ptr_null(memslots_find_gfn_cached(s, &cache, 0x101 + 0x100));
	ck_assert_uint_eq(memslots_find_gfn_cached(s, &cache, 0x101)->id, 1);
	memslots_read_unlock(ms);
	done(ms);
}
END_TEST

/* ---- hooks ------------------------------------------------------------------ */

static void expect(int i, enum hook h, enum memslots_change c, int old_id, int new_id)
{
	ck_assert_int_lt(i, t_nlog);
	ck_assert_int_eq(t_log[i].hook, h);
	if (h != H_INVALIDATE && h != H_RELEASE)
		ck_assert_int_eq(t_log[i].change, c);
	ck_assert_int_eq(t_log[i].old_id, old_id);
	ck_assert_int_eq(t_log[i].new_id, new_id);
}

START_TEST(test_hooks)
{
	struct memslots *ms = mk(0, 0, true);
	const struct memslots_set *s;

	ck_assert_int_eq(set(ms, 1, 0, 0x100000, PG, 0x1000000), 0);
	ck_assert_int_eq(t_nlog, 2);
	expect(0, H_PREPARE, MEMSLOTS_CREATE, -1, 1);
	expect(1, H_COMMIT, MEMSLOTS_CREATE, -1, 1);
	s = memslots_read_lock(ms);
	ck_assert_ptr_eq(memslots_find_id(s, 1)->priv, (void *)0x1001);
	memslots_read_unlock(ms);

	t_nlog = 0;
	ck_assert_int_eq(set(ms, 1, MEMSLOT_LOG_DIRTY_PAGES, 0x100000, PG, 0x1000000), 0);
	ck_assert_int_eq(t_nlog, 2);
	expect(0, H_PREPARE, MEMSLOTS_FLAGS_ONLY, 1, 1);
	expect(1, H_COMMIT, MEMSLOTS_FLAGS_ONLY, 1, 1);

	t_nlog = 0;
	ck_assert_int_eq(set(ms, 1, 0, 0x200000, PG, 0x1000000), 0);
	ck_assert_int_eq(t_nlog, 3);
	expect(0, H_PREPARE, MEMSLOTS_MOVE, 1, 1);
	expect(1, H_INVALIDATE, 0, 1, -1);
	ck_assert_uint_eq(t_log[1].flags, MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_INVALID);
	ck_assert_uint_eq(t_log[1].hva, MEMSLOTS_HVA_BAD);
	expect(2, H_COMMIT, MEMSLOTS_MOVE, 1, 1);

	/* a failing prepare: nothing changes, its errno is returned, no abort for it */
	t_nlog = 0;
	t_nprepare = 0;
	t_fail_prepare_at = 0;
	t_syncs = 0;
	ck_assert_int_eq(set(ms, 1, 0, 0, 0, 0), -ENOSPC);
	ck_assert_int_eq(t_nlog, 1);
	expect(0, H_PREPARE, MEMSLOTS_DELETE, 1, -1);
	ck_assert_int_eq(t_syncs, 0);
	t_fail_prepare_at = -1;

	/* a writer call from a hook, or from a read-side section */
	t_nlog = 0;
	t_reenter = true;
	t_reenter_ret = 0;
	ck_assert_int_eq(set(ms, 2, 0, 0x300000, PG, 0x1000000), 0);
	ck_assert_int_eq(t_reenter_ret, -EDEADLK);
	t_reenter = false;
	s = memslots_read_lock(ms);
	ck_assert_int_eq(set(ms, 3, 0, 0x400000, PG, 0x1000000), -EDEADLK);
	memslots_read_unlock(ms);
	ck_assert_uint_eq(memslots_count(memslots_read_lock(ms)), 2);
	memslots_read_unlock(ms);

	t_nlog = 0;
	ck_assert_int_eq(set(ms, 1, 0, 0, 0, 0), 0);
	ck_assert_int_eq(t_nlog, 3);
	expect(0, H_PREPARE, MEMSLOTS_DELETE, 1, -1);
	expect(1, H_INVALIDATE, 0, 1, -1);
	expect(2, H_COMMIT, MEMSLOTS_DELETE, 1, -1);

	/* release: ascending base_gfn */
	ck_assert_int_eq(set(ms, 4, 0, 0x100000, PG, 0x1000000), 0);
	t_nlog = 0;
	memslots_free(ms);
	t_ms = NULL;
	ck_assert_int_eq(t_nlog, 2);
	expect(0, H_RELEASE, 0, 4, -1);
	expect(1, H_RELEASE, 0, 2, -1);
	ck_assert_uint_eq(t_alloc.live, 0);
}
END_TEST

/* ---- batches ------------------------------------------------------------------ */

START_TEST(test_batch)
{
	struct memslots *ms = mk(0, 0, true);
	struct memslots_region r[5];
	size_t fi;
	uint64_t g;
	int i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(set(ms, (uint32_t)i, 0, 0x100000 * (i + 1), PG, 0x1000000), 0);
	g = gen(ms);

	/* empty batch: nothing */
	ck_assert_int_eq(memslots_apply(ms, NULL, 0, NULL), 0);
	fi = 77;
	ck_assert_int_eq(memslots_apply(ms, NULL, 1, &fi), -EINVAL);
	ck_assert_uint_eq(fi, 0);

	/* a later request may rely on an earlier one: move 0 away, create 9 where it was */
	r[0] = reg(0, 0, 0x900000, PG, 0x1000000); /* MOVE */
	r[1] = reg(9, 0, 0x100000, PG, 0x2000000); /* CREATE in the freed range */
	r[2] = reg(1, 0, 0, 0, 0);		   /* DELETE */
	r[3] = reg(2, MEMSLOT_LOG_DIRTY_PAGES, 0x300000, PG, 0x1000000); /* FLAGS_ONLY */
	r[4] = reg(3, 0, 0x400000, PG, 0x1000000);			 /* no-op */
	t_nlog = 0;
	t_syncs = 0;
	ck_assert_int_eq(memslots_apply(ms, r, 5, &fi), 0);
	ck_assert_int_eq(t_syncs, 2);
	/* first publication: the old state, 0 and 1 flagged invalid */
	ck_assert_uint_eq(t_snaps[0].count, 4);
	ck_assert_uint_eq(t_snaps[0].slots[0].flags, MEMSLOT_INVALID);
	ck_assert_uint_eq(t_snaps[0].slots[1].flags, MEMSLOT_INVALID);
	ck_assert_uint_eq(t_snaps[0].slots[2].flags, 0);
	ck_assert_uint_eq(t_snaps[0].slots[3].flags, 0);
	/* second: the new state */
	ck_assert_uint_eq(t_snaps[1].count, 4);
	check_slot(&t_snaps[1].slots[0], 9, 0x100, 1, 0x2000000, 0);
	check_slot(&t_snaps[1].slots[1], 2, 0x300, 1, 0x1000000, MEMSLOT_LOG_DIRTY_PAGES);
	check_slot(&t_snaps[1].slots[2], 3, 0x400, 1, 0x1000000, 0);
	check_slot(&t_snaps[1].slots[3], 0, 0x900, 1, 0x1000000, 0);
	ck_assert_uint_gt(t_snaps[0].generation, g);
	/* hooks: prepares in order, invalidates, commits in order */
	ck_assert_int_eq(t_nlog, 10);
	expect(0, H_PREPARE, MEMSLOTS_MOVE, 0, 0);
	expect(1, H_PREPARE, MEMSLOTS_CREATE, -1, 9);
	expect(2, H_PREPARE, MEMSLOTS_DELETE, 1, -1);
	expect(3, H_PREPARE, MEMSLOTS_FLAGS_ONLY, 2, 2);
	expect(4, H_INVALIDATE, 0, 0, -1);
	expect(5, H_INVALIDATE, 0, 1, -1);
	expect(6, H_COMMIT, MEMSLOTS_MOVE, 0, 0);
	expect(7, H_COMMIT, MEMSLOTS_CREATE, -1, 9);
	expect(8, H_COMMIT, MEMSLOTS_DELETE, 1, -1);
	expect(9, H_COMMIT, MEMSLOTS_FLAGS_ONLY, 2, 2);

	/* creates and flags only: one publication */
	r[0] = reg(10, 0, 0xa00000, PG, 0x1000000);
	r[1] = reg(2, 0, 0x300000, PG, 0x1000000);
	t_syncs = 0;
	ck_assert_int_eq(memslots_apply(ms, r, 2, &fi), 0);
	ck_assert_int_eq(t_syncs, 1);

	/* all no-ops: nothing published */
	g = gen(ms);
	t_syncs = 0;
	ck_assert_int_eq(memslots_apply(ms, r, 2, &fi), 0);
	ck_assert_int_eq(t_syncs, 0);
	ck_assert_uint_eq(gen(ms), g);

	/* failures: index of the first failing request, nothing applied */
	r[0] = reg(11, 0, 0xb00000, PG, 0x1000000);
	r[1] = reg(12, 0, 0xb00000, PG, 0x1000000); /* overlaps r[0] */
	r[2] = reg(13, 1u << 5, 0, PG, 0);
	t_nlog = 0;
	fi = 77;
	ck_assert_int_eq(memslots_apply(ms, r, 3, &fi), -EEXIST);
	ck_assert_uint_eq(fi, 1);
	ck_assert_int_eq(t_syncs, 0);
	ck_assert_int_eq(t_nlog, 2);
	expect(0, H_PREPARE, MEMSLOTS_CREATE, -1, 11);
	expect(1, H_ABORT, MEMSLOTS_CREATE, -1, 11);
	/* the same id twice, even as a no-op */
	r[0] = reg(2, 0, 0x300000, PG, 0x1000000);
	r[1] = reg(11, 0, 0xb00000, PG, 0x1000000);
	r[2] = reg(2, 0, 0x300000, PG, 0x1000000);
	ck_assert_int_eq(memslots_apply(ms, r, 3, &fi), -EINVAL);
	ck_assert_uint_eq(fi, 2);
	/* delete then re-create the same id: also a second naming */
	r[0] = reg(3, 0, 0, 0, 0);
	r[1] = reg(3, 0, 0x400000, PG, 0x1000000);
	ck_assert_int_eq(memslots_apply(ms, r, 2, &fi), -EINVAL);
	ck_assert_uint_eq(fi, 1);
	/* a failing prepare in the middle: earlier ones aborted in reverse */
	r[0] = reg(11, 0, 0xb00000, PG, 0x1000000);
	r[1] = reg(12, 0, 0xc00000, PG, 0x1000000);
	r[2] = reg(3, 0, 0, 0, 0);
	t_nlog = 0;
	t_nprepare = 0;
	t_fail_prepare_at = 2;
	ck_assert_int_eq(memslots_apply(ms, r, 3, &fi), -ENOSPC);
	ck_assert_uint_eq(fi, 2);
	ck_assert_int_eq(t_nlog, 5);
	expect(3, H_ABORT, MEMSLOTS_CREATE, -1, 12);
	expect(4, H_ABORT, MEMSLOTS_CREATE, -1, 11);
	ck_assert_int_eq(t_syncs, 0);
	ck_assert_uint_eq(gen(ms), g);
	done(ms);
}
END_TEST

/* ---- allocation failures -------------------------------------------------------- */

START_TEST(test_alloc_failure)
{
	struct memslots_region r[3] = {
		reg(5, 0, 0x500000, PG, 0x1000000),
		reg(1, 0, 0x900000, PG, 0x1000000),
		reg(2, 0, 0, 0, 0),
	};
	int k, ret = -ENOMEM;

	for (k = 1; ret == -ENOMEM; k++) {
		struct memslots *ms = mk(0, 0, true);
		size_t live, fi;
		uint64_t g;

		ck_assert_int_eq(set(ms, 1, 0, 0x100000, PG, 0x1000000), 0);
		ck_assert_int_eq(set(ms, 2, 0, 0x200000, PG, 0x1000000), 0);
		live = t_alloc.live;
		g = gen(ms);
		t_alloc.fail_at = t_alloc.calls + (size_t)k;
		t_nlog = 0;
		ret = memslots_apply(ms, r, 3, &fi);
		t_alloc.fail_at = 0;
		if (ret == -ENOMEM) {
			ck_assert_uint_eq(t_alloc.live, live);
			ck_assert_uint_eq(gen(ms), g);
			/* every prepare that ran got its abort */
			for (int i = 0; i < t_nlog; i++)
				ck_assert_int_ne(t_log[i].hook, H_COMMIT);
		} else {
			ck_assert_int_eq(ret, 0);
			ck_assert_uint_eq(memslots_count(memslots_read_lock(ms)), 2);
			memslots_read_unlock(ms);
		}
		done(ms);
	}
	ck_assert_int_gt(k, 2);
}
END_TEST

static Suite *suite(void)
{
	const struct ts_case cases[] = {
		{.tcase = "validation", .test = test_validation},
		{.tcase = "validation", .test = test_config},
		{.tcase = "changes", .test = test_changes},
		{.tcase = "lookups", .test = test_lookups},
		{.tcase = "hooks", .test = test_hooks},
		{.tcase = "batch", .test = test_batch},
		{.tcase = "alloc_failure", .test = test_alloc_failure},
	};
	Suite *s = suite_create(
#ifdef MEMSLOTS_IMPL_IS_ARRAY
		"contract (array baseline)"
#else
		"contract (tree engine)"
#endif
	);

	ts_add_cases(s, cases, sizeof(cases) / sizeof(cases[0]));
	return s;
}

int main(void)
{
	return ts_run_suite(suite());
}
