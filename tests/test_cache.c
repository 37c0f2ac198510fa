/* SPDX-License-Identifier: MIT */
/*
 * The per-thread lookup cache: it must never hand out a slot of another
 * set than the one asked about, across changes (generations) and across
 * objects (a vCPU thread with two address spaces using one cache).
 */
#include <memslots/memslots.h>

#include "ts_check.h"

#define PAGE 4096ull

static struct memslots *new_with_slot(uint16_t id, uint64_t gpa, uint64_t hva)
{
	struct memslots *ms = memslots_new(NULL);
	struct memslots_region r = {
		.slot = id,
		.guest_phys_addr = gpa,
		.memory_size = 16 * PAGE,
		.userspace_addr = hva,
	};

	ck_assert_ptr_nonnull(ms);
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	return ms;
}

/* Two objects at the same generation, same gfn, one cache. */
START_TEST(two_objects_one_cache)
{
	struct memslots *a = new_with_slot(1, 0, 0x100000);
	struct memslots *b = new_with_slot(2, 0, 0x200000);
	struct memslots_cache cache = {0};
	const struct memslots_set *sa, *sb;
	const struct memslot *s;

	memslots_reader_register(a);
	sa = memslots_read_lock(a);
	sb = memslots_read_lock(b);
	ck_assert_uint_eq(memslots_generation(sa), memslots_generation(sb));
	s = memslots_find_gfn_cached(sa, &cache, 3);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->id, 1);
	s = memslots_find_gfn_cached(sb, &cache, 3);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->id, 2);
	ck_assert_ptr_eq(s, memslots_find_gfn(sb, 3));
	s = memslots_find_gfn_cached(sa, &cache, 4);
	ck_assert_uint_eq(s->id, 1);
	memslots_read_unlock(b);
	memslots_read_unlock(a);
	memslots_reader_unregister(a);
	memslots_free(a);
	memslots_free(b);
}
END_TEST

/* After a change the cached slot (now freed) is not trusted. */
START_TEST(stale_generation)
{
	struct memslots *ms = new_with_slot(1, 0, 0x100000);
	struct memslots_cache cache = {0};
	struct memslots_region flip = {
		.slot = 1,
		.flags = MEMSLOT_LOG_DIRTY_PAGES,
		.memory_size = 16 * PAGE,
		.userspace_addr = 0x100000,
	};
	const struct memslots_set *set;
	const struct memslot *s;

	memslots_reader_register(ms);
	set = memslots_read_lock(ms);
	s = memslots_find_gfn_cached(set, &cache, 5);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->flags, 0);
	memslots_read_unlock(ms);

	ck_assert_int_eq(memslots_set_region(ms, &flip), 0); /* frees the old slot */

	set = memslots_read_lock(ms);
	s = memslots_find_gfn_cached(set, &cache, 5);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->flags, MEMSLOT_LOG_DIRTY_PAGES);
	ck_assert_ptr_eq(s, memslots_find_gfn(set, 5));
	/* A miss leaves no slot behind to be trusted later. */
	ck_assert_ptr_null(memslots_find_gfn_cached(set, &cache, 100));
	ck_assert_ptr_eq(memslots_find_gfn_cached(set, &cache, 6), s);
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms);
	memslots_free(ms);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, two_objects_one_cache);
	tcase_add_test(tc, stale_generation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
