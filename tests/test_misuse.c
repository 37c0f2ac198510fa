/* SPDX-License-Identifier: MIT */
/*
 * Misuse the library can detect through its public API gets a clear error,
 * never a crash or a hang: bad configurations (NULL + EINVAL from
 * memslots_new), NULL pointers to every function, unbalanced
 * read_unlock, writer calls from inside a read-side section or a hook
 * (-EDEADLK, also from the release hook and with a custom RCU), absurd
 * batch sizes.  Each case also checks that the object still works
 * afterwards.  docs/reliability.md lists the misuse that cannot be
 * detected.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

#include <urcu/urcu-memb.h>

#include <memslots/memslots.h>

#include "misuse_fixture.h"
#include "ts_check.h"

/* ---- configurations -------------------------------------------------------------- */

static void *any_alloc(size_t size, void *opaque)
{
	return ts_alloc(size, opaque);
}

static void expect_einval(const struct memslots_config *cfg)
{
	errno = 0;
	ck_assert_ptr_null(memslots_new(cfg));
	ck_assert_int_eq(errno, EINVAL);
}

START_TEST(test_bad_config)
{
	static const unsigned int bad_shifts[] = {1, 9, 31, 32, 64, UINT_MAX};
	struct ts_alloc_counter cnt = {0};
	struct memslots_rcu rcu;
	struct memslots_config cfg;
	struct memslots *ms;
	size_t i;

	for (i = 0; i < sizeof(bad_shifts) / sizeof(bad_shifts[0]); i++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.page_shift = bad_shifts[i];
		expect_einval(&cfg);
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_slots = 65537;
	expect_einval(&cfg);
	cfg.max_slots = UINT_MAX;
	expect_einval(&cfg);

	/* only one of alloc/free */
	memset(&cfg, 0, sizeof(cfg));
	cfg.alloc = any_alloc;
	expect_einval(&cfg);
	cfg.alloc = NULL;
	cfg.free = ts_free;
	expect_einval(&cfg);

	/* an rcu without one of its mandatory functions */
	memset(&cfg, 0, sizeof(cfg));
	cfg.rcu = &rcu;
	rcu = ts_misuse_nop_rcu;
	rcu.read_lock = NULL;
	expect_einval(&cfg);
	rcu = ts_misuse_nop_rcu;
	rcu.read_unlock = NULL;
	expect_einval(&cfg);
	rcu = ts_misuse_nop_rcu;
	rcu.synchronize = NULL;
	expect_einval(&cfg);

	/* nothing was allocated by the refusals above with a counting allocator */
	memset(&cfg, 0, sizeof(cfg));
	cfg.alloc = ts_alloc;
	cfg.free = ts_free;
	cfg.alloc_opaque = &cnt;
	cfg.page_shift = 9;
	expect_einval(&cfg);
	ck_assert_uint_eq(cnt.calls, 0);

	/* the edges of the valid ranges are accepted */
	memset(&cfg, 0, sizeof(cfg));
	cfg.rcu = &ts_misuse_nop_rcu;
	cfg.page_shift = 10;
	cfg.max_slots = 1;
	ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(ms);
	ck_assert_uint_eq(memslots_page_shift(ms), 10);
	ck_assert_uint_eq(memslots_max_slots(ms), 1);
	memslots_free(ms);
	cfg.page_shift = 30;
	cfg.max_slots = 65536;
	ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(ms);
	ck_assert_uint_eq(memslots_max_slots(ms), 65536);
	memslots_free(ms);
}
END_TEST

/* An allocator that runs out at once: memslots_new reports ENOMEM, leaks nothing. */
START_TEST(test_new_enomem)
{
	struct ts_alloc_counter cnt = {0};
	struct memslots_config cfg = {
		.rcu = &ts_misuse_nop_rcu,
		.alloc = ts_alloc,
		.free = ts_free,
		.alloc_opaque = &cnt,
	};
	struct memslots *ms;
	size_t k;

	for (k = 1; k < 16; k++) {
		memset(&cnt, 0, sizeof(cnt));
		cnt.fail_at = k;
		errno = 0;
		ms = memslots_new(&cfg);
		if (ms) {
			memslots_free(ms);
			ck_assert_uint_eq(cnt.live, 0);
			break;
		}
		ck_assert_int_eq(errno, ENOMEM);
		ck_assert_uint_eq(cnt.live, 0);
	}
	ck_assert_uint_gt(k, 1);
}
END_TEST

/* ---- NULL pointers --------------------------------------------------------------- */

START_TEST(test_null_args)
{
	struct memslots_config cfg = {.rcu = &ts_misuse_nop_rcu};
	struct memslots *ms = memslots_new(&cfg);
	struct memslots_region r = ts_misuse_region(1, 0, 4);
	struct memslots_cache cache = {0};
	const struct memslots_set *set;
	const struct memslot *s;
	size_t failed;

	ck_assert_ptr_nonnull(ms);
	memslots_free(NULL);

	/* writers */
	ck_assert_int_eq(memslots_set_region(NULL, &r), -EINVAL);
	ck_assert_int_eq(memslots_set_region(ms, NULL), -EINVAL);
	failed = 7;
	ck_assert_int_eq(memslots_apply(NULL, &r, 1, &failed), -EINVAL);
	ck_assert_uint_eq(failed, 0);
	failed = 7;
	ck_assert_int_eq(memslots_apply(ms, NULL, 1, &failed), -EINVAL);
	ck_assert_uint_eq(failed, 0);
	ck_assert_int_eq(memslots_apply(ms, NULL, 3, NULL), -EINVAL);
	ck_assert_int_eq(memslots_apply(ms, NULL, 0, NULL), 0);
	ck_assert_int_eq(memslots_apply(ms, &r, 0, NULL), 0);

	/* readers on a NULL object */
	memslots_reader_register(NULL);
	memslots_reader_unregister(NULL);
	ck_assert_ptr_null(memslots_read_lock(NULL));
	memslots_read_unlock(NULL);
	ck_assert_uint_eq(memslots_page_shift(NULL), 0);
	ck_assert_uint_eq(memslots_max_slots(NULL), 0);

	/* lookups on a NULL set */
	ck_assert_ptr_null(memslots_find_gfn(NULL, 0));
	ck_assert_ptr_null(memslots_find_gfn_approx(NULL, 0));
	ck_assert_ptr_null(memslots_find_id(NULL, 1));
	ck_assert_ptr_null(memslots_find_gfn_cached(NULL, &cache, 0));
	ck_assert_ptr_null(memslots_find_gfn_cached(NULL, NULL, 0));
	ck_assert_ptr_null(memslots_first(NULL));
	ck_assert_ptr_null(memslots_gfn_range_first(NULL, 0, 10));
	ck_assert_ptr_null(memslots_hva_range_first(NULL, 0, ~0ull));
	ck_assert_uint_eq(memslots_gfn_to_hva(NULL, 0), MEMSLOTS_HVA_BAD);
	ck_assert_uint_eq(memslots_generation(NULL), 0);
	ck_assert_uint_eq(memslots_count(NULL), 0);
	ck_assert_uint_eq(memslots_nr_pages(NULL), 0);

	/* NULL slots and caches with a real set */
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	set = memslots_read_lock(ms);
	s = memslots_find_id(set, 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(memslots_next(set, NULL));
	ck_assert_ptr_null(memslots_next(NULL, s));
	ck_assert_ptr_null(memslots_gfn_range_next(set, NULL, 0, 10));
	ck_assert_ptr_null(memslots_gfn_range_next(NULL, s, 0, 10));
	ck_assert_ptr_null(memslots_hva_range_next(set, NULL, 0, ~0ull));
	ck_assert_ptr_null(memslots_hva_range_next(NULL, s, 0, ~0ull));
	/* a NULL cache is no cache */
	ck_assert_ptr_eq(memslots_find_gfn_cached(set, NULL, 2), s);
	memslots_read_unlock(ms);

	ts_misuse_still_works(ms, 2);
	memslots_free(ms);
}
END_TEST

/* ---- unbalanced read-side sections ------------------------------------------------ */

START_TEST(test_unlock_without_lock)
{
	struct memslots_config cfg = {.rcu = &ts_misuse_nop_rcu};
	struct memslots *ms = memslots_new(&cfg);

	ck_assert_ptr_nonnull(ms);
	/* ignored: no section to leave, and no phantom section left behind */
	memslots_read_unlock(ms);
	memslots_read_unlock(ms);
	ts_misuse_still_works(ms, 1);
	/* one more unlock than locks */
	memslots_read_lock(ms);
	memslots_read_unlock(ms);
	memslots_read_unlock(ms);
	ts_misuse_still_works(ms, 2);
	memslots_free(ms);
}
END_TEST

START_TEST(test_unlock_without_lock_default_rcu)
{
	struct memslots *ms = memslots_new(NULL);

	ck_assert_ptr_nonnull(ms);
	memslots_reader_register(ms);
	memslots_read_unlock(ms);
	memslots_read_lock(ms);
	memslots_read_unlock(ms);
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms);
	ts_misuse_still_works(ms, 1);
	memslots_free(ms);
}
END_TEST

/* Registrations are counted per thread: repeated and unbalanced ones are harmless. */
START_TEST(test_register_unbalanced)
{
	struct memslots *a = memslots_new(NULL), *b = memslots_new(NULL);
	const struct memslots_set *set;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	memslots_reader_unregister(a); /* never registered */
	memslots_reader_register(a);
	memslots_reader_register(a);
	memslots_reader_register(b); /* two address spaces, one thread */
	set = memslots_read_lock(b);
	ck_assert_ptr_nonnull(set);
	memslots_read_unlock(b);
	memslots_reader_unregister(b);
	memslots_reader_unregister(a);
	memslots_reader_unregister(a);
	memslots_reader_unregister(a); /* one too many */
	ts_misuse_still_works(a, 1);
	ts_misuse_still_works(b, 1);
	memslots_free(a);
	memslots_free(b);
}
END_TEST

/* ---- writers from read-side sections -------------------------------------------- */

static void deadlk_in_section(struct memslots *ms)
{
	struct memslots_region r = ts_misuse_region(5, 50, 1);
	const struct memslots_set *set;
	size_t failed = 9;
	uint64_t gen;

	memslots_reader_register(ms);
	set = memslots_read_lock(ms);
	gen = memslots_generation(set);
	ck_assert_int_eq(memslots_set_region(ms, &r), -EDEADLK);
	ck_assert_int_eq(memslots_apply(ms, &r, 1, &failed), -EDEADLK);
	ck_assert_uint_eq(failed, 0);
	/* nested */
	memslots_read_lock(ms);
	ck_assert_int_eq(memslots_set_region(ms, &r), -EDEADLK);
	memslots_read_unlock(ms);
	ck_assert_int_eq(memslots_set_region(ms, &r), -EDEADLK);
	ck_assert_ptr_null(memslots_find_id(set, 5));
	ck_assert_uint_eq(memslots_generation(set), gen);
	memslots_read_unlock(ms);
	/* and once outside, the same request goes through */
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	set = memslots_read_lock(ms);
	ck_assert_uint_gt(memslots_generation(set), gen);
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms);
}

START_TEST(test_deadlk_read_section)
{
	struct memslots_config cfg = {.rcu = &ts_misuse_nop_rcu};
	struct memslots *ms = memslots_new(&cfg);

	ck_assert_ptr_nonnull(ms);
	deadlk_in_section(ms);
	memslots_free(ms);
	ms = memslots_new(NULL); /* the default RCU */
	ck_assert_ptr_nonnull(ms);
	deadlk_in_section(ms);
	memslots_free(ms);
}
END_TEST

/* ---- writers from hooks ------------------------------------------------------------ */

struct hook_state {
	struct memslots *self;
	struct memslots *other; /* a second object: its writers are allowed */
	unsigned int calls[5];
	int fail_prepare; /* id whose prepare fails, or -1 */
	uint32_t next_other_id;
};

enum { H_PREPARE, H_ABORT, H_COMMIT, H_INVALIDATE, H_RELEASE };

static void try_writers(struct hook_state *hs, int hook)
{
	struct memslots_region r = ts_misuse_region(40, 400, 1);
	size_t failed = 9;

	hs->calls[hook]++;
	ck_assert_int_eq(memslots_set_region(hs->self, &r), -EDEADLK);
	ck_assert_int_eq(memslots_apply(hs->self, &r, 1, &failed), -EDEADLK);
	ck_assert_uint_eq(failed, 0);
	if (hs->other) {
		/* another object's writer from a hook is fine */
		r = ts_misuse_region(hs->next_other_id, hs->next_other_id * 4, 1);
		ck_assert_int_eq(memslots_set_region(hs->other, &r), 0);
		hs->next_other_id++;
	}
}

static int h_prepare(void *opaque, const struct memslot *old, struct memslot *new,
		     enum memslots_change change)
{
	struct hook_state *hs = opaque;
	const struct memslot *any = new ? new : old;

	(void)change;
	try_writers(hs, H_PREPARE);
	return any->id == hs->fail_prepare ? -EIO : 0;
}

static void h_abort(void *opaque, const struct memslot *old, struct memslot *new,
		    enum memslots_change change)
{
	(void)old;
	(void)new;
	(void)change;
	try_writers(opaque, H_ABORT);
}

static void h_commit(void *opaque, const struct memslot *old, const struct memslot *new,
		     enum memslots_change change)
{
	(void)old;
	(void)new;
	(void)change;
	try_writers(opaque, H_COMMIT);
}

static void h_invalidate(void *opaque, const struct memslot *slot)
{
	(void)slot;
	try_writers(opaque, H_INVALIDATE);
}

static void h_release(void *opaque, struct memslot *slot)
{
	(void)slot;
	try_writers(opaque, H_RELEASE);
}

static const struct memslots_ops hook_ops = {
	.prepare = h_prepare,
	.abort = h_abort,
	.commit = h_commit,
	.invalidate = h_invalidate,
	.release = h_release,
};

static void deadlk_in_hooks(const struct memslots_rcu *rcu)
{
	struct hook_state hs = {.fail_prepare = -1, .next_other_id = 1};
	struct memslots_config cfg = {.ops = &hook_ops, .opaque = &hs, .rcu = rcu};
	struct memslots_config other_cfg = {.rcu = rcu};
	struct memslots_region req[2];
	size_t failed = 9;
	unsigned int i;

	hs.self = memslots_new(&cfg);
	hs.other = memslots_new(&other_cfg);
	ck_assert_ptr_nonnull(hs.self);
	ck_assert_ptr_nonnull(hs.other);

	req[0] = ts_misuse_region(1, 0, 2);
	ck_assert_int_eq(memslots_set_region(hs.self, &req[0]), 0); /* prepare, commit */
	req[0] = ts_misuse_region(1, 10, 2);
	ck_assert_int_eq(memslots_set_region(hs.self, &req[0]), 0); /* + invalidate */
	req[0] = ts_misuse_region(2, 20, 1);
	req[1] = ts_misuse_region(3, 30, 1);
	hs.fail_prepare = 3;
	ck_assert_int_eq(memslots_apply(hs.self, req, 2, &failed), -EIO); /* + abort */
	ck_assert_uint_eq(failed, 1);
	hs.fail_prepare = -1;
	ts_misuse_still_works(hs.self, 4);
	memslots_free(hs.self); /* release, twice */
	for (i = 0; i <= H_RELEASE; i++)
		ck_assert_msg(hs.calls[i] > 0, "hook %u never ran", i);
	ck_assert_uint_eq(hs.calls[H_RELEASE], 2);
	memslots_free(hs.other);
}

START_TEST(test_deadlk_hooks)
{
	deadlk_in_hooks(&ts_misuse_nop_rcu);
}
END_TEST

START_TEST(test_deadlk_hooks_default_rcu)
{
	deadlk_in_hooks(NULL);
}
END_TEST

static Suite *make_suite(void)
{
	const struct ts_case cases[] = {
		{.tcase = "config", .test = test_bad_config},
		{.tcase = "config", .test = test_new_enomem},
		{.tcase = "null_args", .test = test_null_args},
		{.tcase = "unbalanced_unlock", .test = test_unlock_without_lock},
		{.tcase = "unbalanced_unlock", .test = test_unlock_without_lock_default_rcu},
		{.tcase = "unbalanced_unlock", .test = test_register_unbalanced},
		{.tcase = "deadlk", .test = test_deadlk_read_section},
		{.tcase = "deadlk", .test = test_deadlk_hooks},
		{.tcase = "deadlk", .test = test_deadlk_hooks_default_rcu},
	};
	Suite *s = suite_create("misuse");

	ts_add_cases(s, cases, sizeof(cases) / sizeof(cases[0]));
	misuse_add_lifetime_cases(s);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
