// SPDX-License-Identifier: MIT
/*
 * The validation tests, continued: the configuration checks of
 * memslots_new() and the NULL-argument conventions.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "model.h"
#include "ts_check.h"
#include "validation_shorthands.h"

static void *plain_alloc(size_t size, void *opaque)
{
	(void)opaque;
	return malloc(size);
}

static void plain_free(void *ptr, void *opaque)
{
	(void)opaque;
	free(ptr);
}

static void nop(void)
{
}

static void expect_bad_config(const struct memslots_config *cfg, const char *what)
{
	struct memslots *ms;

	errno = 0;
	ms = memslots_new(cfg);
	ck_assert_msg(!ms, "memslots_new accepted %s", what);
	ck_assert_msg(errno == EINVAL, "memslots_new(%s): errno %d, expected EINVAL", what, errno);
}

static void expect_good_config(const struct memslots_config *cfg, const char *what)
{
	struct memslots *ms = memslots_new(cfg);

	ck_assert_msg(ms, "memslots_new refused %s (errno %d)", what, errno);
	memslots_free(ms);
}

START_TEST(test_bad_configs)
{
	static const struct memslots_rcu no_read_lock = {
		.read_unlock = nop,
		.synchronize = nop,
	};
	static const struct memslots_rcu no_read_unlock = {
		.read_lock = nop,
		.synchronize = nop,
	};
	static const struct memslots_rcu no_synchronize = {
		.read_lock = nop,
		.read_unlock = nop,
	};
	static const struct memslots_rcu minimal = {
		.read_lock = nop,
		.read_unlock = nop,
		.synchronize = nop,
	};
	struct memslots_config cfg;

#define BAD(field, value)                                   \
	do {                                                \
		memset(&cfg, 0, sizeof(cfg));               \
		cfg.field = value;                          \
		expect_bad_config(&cfg, #field " " #value); \
	} while (0)
#define GOOD(field, value)                                   \
	do {                                                 \
		memset(&cfg, 0, sizeof(cfg));                \
		cfg.field = value;                           \
		expect_good_config(&cfg, #field " " #value); \
	} while (0)

	BAD(page_shift, 9);
	BAD(page_shift, 31);
	BAD(page_shift, 1);
	BAD(page_shift, 64);
	BAD(page_shift, UINT_MAX);
	BAD(max_slots, 65537);
	BAD(max_slots, UINT_MAX);
	BAD(rcu, &no_read_lock);
	BAD(rcu, &no_read_unlock);
	BAD(rcu, &no_synchronize);
	BAD(alloc, plain_alloc);
	BAD(free, plain_free);
	BAD(allowed_flags, 1u << 3);
	BAD(allowed_flags, MEMSLOT_INVALID);
	BAD(allowed_flags, LOG | RO | GMEM | (1u << 31));

	GOOD(page_shift, 10);
	GOOD(page_shift, 30);
	GOOD(page_shift, 12);
	GOOD(max_slots, 1);
	GOOD(max_slots, 65536);
	GOOD(rcu, &minimal);
	GOOD(hva_limit, LIM);
	GOOD(allowed_flags, LOG);
	GOOD(allowed_flags, RO);
	GOOD(allowed_flags, GMEM);
	GOOD(allowed_flags, LOG | RO | GMEM);
	GOOD(as_id, 1);
	GOOD(as_id, 0xffff);
#undef BAD
#undef GOOD

	memset(&cfg, 0, sizeof(cfg));
	cfg.alloc = plain_alloc;
	cfg.free = plain_free;
	expect_good_config(&cfg, "alloc and free");
	expect_good_config(NULL, "NULL");
	memslots_free(NULL);
}
END_TEST

START_TEST(test_null_args)
{
	struct memslots_region r;
	struct ts_env e;
	size_t failed = 99;
	uint64_t gen;

	ts_env_init(&e, 0, 0, 0, &ts_counting_rcu);
	ts_env_set(&e, ts_env_region(&e, 1, 0, 0x10, 1, 0x1000));
	gen = ts_generation(e.ms);
	ts_hooks_clear(&e.hooks);

	ck_assert_int_eq(memslots_set_region(e.ms, NULL), -EINVAL);
	ck_assert_int_eq(memslots_apply(e.ms, NULL, 1, &failed), -EINVAL);
	ck_assert_uint_eq(failed, 0);
	ck_assert_int_eq(memslots_apply(e.ms, NULL, 1, NULL), -EINVAL);
	ck_assert_int_eq(memslots_apply(e.ms, NULL, 0, &failed), 0);
	ck_assert_int_eq(memslots_apply(e.ms, NULL, 0, NULL), 0);
	r = ts_env_region(&e, 2, 0, 0x20, 1, 0x1000);
	ck_assert_int_eq(memslots_apply(e.ms, &r, 0, NULL), 0);
	/* failed_index may be NULL on failure too */
	r = ts_env_region(&e, 2, 1u << 5, 0x20, 1, 0x1000);
	ck_assert_int_eq(memslots_apply(e.ms, &r, 1, NULL), -EINVAL);

	ck_assert_uint_eq(ts_generation(e.ms), gen);
	ck_assert_uint_eq(e.hooks.n, 0);
	ts_env_fini(&e);
}
END_TEST

void validation_add_config_cases(Suite *s)
{
	const struct ts_case cases[] = {
		{.tcase = "bad_configs", .test = test_bad_configs},
		{.tcase = "null_args", .test = test_null_args},
	};

	ts_add_cases(s, cases, sizeof(cases) / sizeof(cases[0]));
}
