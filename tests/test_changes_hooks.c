// SPDX-License-Identifier: MIT
/*
 * The change-type tests, continued: -EDEADLK from hooks and read-side
 * sections, the release hook and memslots_strerror().
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

/*
 * Writers from inside hooks and read-side sections must fail with
 * -EDEADLK, not deadlock, and not disturb the outer call.
 */
struct deadlk {
	struct memslots_region r;
	int ret[TS_RELEASE + 1];
	unsigned int calls[TS_RELEASE + 1];
};

static void call_writer(struct ts_hooks *h, const struct ts_event *ev)
{
	struct deadlk *d = h->user;
	size_t failed = 77;
	int ret;

	ret = memslots_set_region(h->ms, &d->r);
	ck_assert_msg(ret == -EDEADLK, "set_region from hook %d: %d", ev->hook, ret);
	ret = memslots_apply(h->ms, &d->r, 1, &failed);
	ck_assert_msg(ret == -EDEADLK, "apply from hook %d: %d", ev->hook, ret);
	d->ret[ev->hook] = ret;
	d->calls[ev->hook]++;
}

static void deadlk_case(const struct memslots_rcu *rcu)
{
	struct memslots_region req[2];
	struct deadlk d = {0};
	const struct memslots_set *set;
	struct ts_env e;
	size_t failed;
	int ret;

	ts_changes_env_setup(&e, rcu, false);
	d.r = ts_env_region(&e, 30, 0, 0x30000, 1, 0x1000); /* valid on its own */
	e.hooks.user = &d;
	e.hooks.on_event = call_writer;

	/* prepare, commit (create) */
	ts_env_set(&e, ts_env_region(&e, 10, 0, 0x10000, 1, 0x1000));
	/* prepare, invalidate, commit (move) */
	ts_env_set(&e, ts_env_region(&e, 10, 0, 0x11000, 1, 0x1000));
	/* prepare, abort */
	req[0] = ts_env_region(&e, 11, 0, 0x12000, 1, 0x1000);
	req[1] = ts_env_region(&e, 12, 0, 0x13000, 1, 0x1000);
	e.hooks.fail_id = 12;
	ts_hooks_clear(&e.hooks);
	ret = memslots_apply(e.ms, req, 2, &failed);
	ck_assert_int_eq(ret, -EIO);
	ck_assert_uint_eq(failed, 1);
	e.hooks.fail_id = -1;
	e.hooks.on_event = NULL;

	ck_assert_uint_ge(d.calls[TS_PREPARE], 3);
	ck_assert_uint_eq(d.calls[TS_COMMIT], 2);
	ck_assert_uint_eq(d.calls[TS_INVALIDATE], 1);
	ck_assert_uint_eq(d.calls[TS_ABORT], 1);
	ts_model_check(&e.m, e.ms, &e.rng, 16); /* id 30 never appeared */

	/* from a read-side section, nested or not */
	set = memslots_read_lock(e.ms);
	ck_assert_ptr_null(memslots_find_id(set, 30));
	ck_assert_int_eq(memslots_set_region(e.ms, &d.r), -EDEADLK);
	ck_assert_int_eq(memslots_apply(e.ms, &d.r, 1, &failed), -EDEADLK);
	memslots_read_lock(e.ms);
	ck_assert_int_eq(memslots_set_region(e.ms, &d.r), -EDEADLK);
	memslots_read_unlock(e.ms);
	ck_assert_int_eq(memslots_set_region(e.ms, &d.r), -EDEADLK);
	memslots_read_unlock(e.ms);
	ts_model_check(&e.m, e.ms, &e.rng, 16);

	/* and once outside, the same request goes through */
	ts_env_set(&e, d.r);
	ts_env_fini(&e);
}

START_TEST(test_deadlk_counting_rcu)
{
	deadlk_case(&ts_counting_rcu);
}
END_TEST

START_TEST(test_deadlk_default_rcu)
{
	deadlk_case(NULL);
}
END_TEST

/* The release hook: once per remaining slot at memslots_free(), with its priv. */
START_TEST(test_release)
{
	struct ts_env e;
	struct ts_rng rng;
	unsigned int created = 0;

	ts_rng_seed(&rng, 7);
	ts_env_init(&e, 12, 64, 0, &ts_counting_rcu);
	e.hooks.set_priv = true;
	for (unsigned int i = 0; i < 300; i++) {
		unsigned int id = (unsigned int)ts_rng_below(&rng, 64);
		struct memslots_region r = ts_env_region(&e, id, 0, ts_rng_below(&rng, 4096),
							 1 + ts_rng_below(&rng, 4), 0x1000);
		int change;

		if (e.m.slot[id].present && ts_rng_below(&rng, 3) == 0)
			r.memory_size = 0;
		if (ts_model_classify(&e.m, &r, &change))
			continue;
		ts_env_set(&e, r);
		created += change == MEMSLOTS_CREATE;
	}
	ck_assert_uint_gt(created, 40);
	ck_assert_uint_gt(e.m.count, 20);
	/* ts_env_fini checks one release per slot, ascending, right privs */
	ts_env_fini(&e);

	/* an empty one releases nothing */
	ts_env_init(&e, 12, 64, 0, &ts_counting_rcu);
	ts_env_fini(&e);
}
END_TEST

START_TEST(test_strerror)
{
	static const int codes[] = {0,	    -EINVAL, -EEXIST, -ENOMEM, -EDEADLK, -EIO, -ENOSPC,
				    -EPERM, -9999,   1,	      INT_MIN, INT_MAX,	 -1,   EINVAL};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = memslots_strerror(codes[i]);

		ck_assert_msg(s != NULL, "memslots_strerror(%d) is NULL", codes[i]);
		ck_assert_msg(s[0] != '\0', "memslots_strerror(%d) is empty", codes[i]);
	}
	ck_assert_str_ne(memslots_strerror(-EINVAL), memslots_strerror(-EEXIST));
	ck_assert_ptr_nonnull(memslots_version_string());
	ck_assert_str_eq(memslots_version_string(), MEMSLOTS_VERSION_STRING);
}
END_TEST

void changes_add_hook_cases(Suite *s)
{
	const struct ts_case cases[] = {
		{.tcase = "deadlk_counting_rcu", .test = test_deadlk_counting_rcu},
		{.tcase = "deadlk_default_rcu", .test = test_deadlk_default_rcu},
		{.tcase = "release", .test = test_release},
		{.tcase = "strerror", .test = test_strerror},
	};

	ts_add_cases(s, cases, sizeof(cases) / sizeof(cases[0]));
}
