/* SPDX-License-Identifier: MIT */
/*
 * memslots_set_attributes() and the attribute readers, through the public
 * API only, against the reference model (tests/support/model.h): the
 * contract's checks and their order, random conversions interleaved with
 * slot changes (the model, both sets' validators and the run walk checked
 * after every call), the publication rule (one grace period and one
 * generation when something changes, none otherwise), the set_attributes
 * hook, an allocation failure at every site, misuse, the top of the gfn
 * space, and supported_attributes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "model.h"
#include "ts_check.h"
#include "ts_scale.h"

#define PRIVATE MEMSLOTS_ATTR_PRIVATE
#define PAGE	4096ull

static void env_counting(struct ts_env *e)
{
	ts_env_init(e, 12, 64, 0, &ts_counting_rcu);
}

/*
 * One request through the engine and the model: the same return, the
 * hook called (once, with the request) exactly when something changes
 * and the call is valid, one publication then and none otherwise, and
 * the whole state equal to the model afterwards.
 */
static int attr_step(struct ts_env *e, const struct memslots_attributes *a)
{
	uint64_t gen = ts_generation(e->ms);
	unsigned long syncs = ts_rcu.synchronize;
	bool changes = false;
	int want = ts_model_attr_check(&e->m, a, &changes);
	int hook_ret = e->hooks.fail_attributes;
	int ret;

	ts_hooks_clear(&e->hooks);
	ret = memslots_set_attributes(e->ms, a);
	if (!want && changes && hook_ret < 0)
		want = hook_ret;
	ck_assert_int_eq(ret, want);
	if (!ret && changes)
		ts_model_attr_commit(&e->m, a);
	if (!ts_model_attr_check(&e->m, a, NULL) && changes) {
		ck_assert_uint_eq(e->hooks.n, 1);
		ck_assert_int_eq(e->hooks.ev[0].hook, TS_SET_ATTRIBUTES);
		ck_assert_mem_eq(&e->hooks.ev[0].attr, a, sizeof(*a));
		/* Before the publication: the hook saw the old generation. */
		ck_assert_uint_eq(e->hooks.ev[0].gen, gen);
	} else {
		ck_assert_uint_eq(e->hooks.n, 0);
	}
	if (!ret && changes) {
		ck_assert_uint_eq(ts_generation(e->ms), gen + 1);
		ck_assert_uint_eq(ts_rcu.synchronize, syncs + 1);
	} else {
		ck_assert_uint_eq(ts_generation(e->ms), gen);
		ck_assert_uint_eq(ts_rcu.synchronize, syncs);
	}
	ts_model_check(&e->m, e->ms, &e->rng, 2);
	return ret;
}

START_TEST(test_checks_in_order)
{
	struct ts_env e;
	struct memslots_attributes a;
	/* Each request breaks the rule its comment names and every later one. */
	static const struct memslots_attributes bad[] = {
		/* flags */
		{.address = 1, .size = 0, .attributes = 1, .flags = 1},
		/* a bit outside supported_attributes */
		{.address = 1, .size = 0, .attributes = PRIVATE | 1},
		{.address = PAGE, .size = PAGE, .attributes = 1ull << 63},
		/* size 0 */
		{.address = 1, .size = 0, .attributes = PRIVATE},
		{.address = 0, .size = 0},
		/* address + size wraps, exactly 2^64 included, as KVM computes it */
		{.address = UINT64_MAX - PAGE + 2, .size = PAGE},
		{.address = UINT64_MAX - PAGE + 1, .size = PAGE, .attributes = PRIVATE},
		{.address = PAGE, .size = UINT64_MAX - PAGE + 1},
		/* misaligned */
		{.address = 1, .size = PAGE, .attributes = PRIVATE},
		{.address = PAGE, .size = PAGE + 1, .attributes = PRIVATE},
		{.address = PAGE, .size = 512},
	};

	env_counting(&e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(ts_model_attr_check(&e.m, &bad[i], NULL), -EINVAL);
		ck_assert_int_eq(attr_step(&e, &bad[i]), -EINVAL);
	}
	ck_assert_int_eq(memslots_set_attributes(NULL, &bad[0]), -EINVAL);
	ck_assert_int_eq(memslots_set_attributes(e.ms, NULL), -EINVAL);
	/* The largest valid range ends one page below 2^64. */
	a = (struct memslots_attributes){.address = 0, .size = UINT64_MAX - PAGE + 1};
	ck_assert_int_eq(attr_step(&e, &a), 0); /* all 0 already: nothing changes */
	ts_env_fini(&e);
}
END_TEST

/*
 * Random conversions on the model's gfn space, with random slot changes
 * between them (attributes must not move with slots), every step checked.
 */
START_TEST(test_model_random)
{
	static const uint64_t words[] = {0, PRIVATE};
	unsigned int steps = (unsigned int)ts_scaled(3000, 15);
	struct ts_env e;

	env_counting(&e);
	for (unsigned int step = 0; step < steps; step++) {
		uint64_t gfn = ts_rng_below(&e.rng, TS_MODEL_ATTR_GFNS);
		uint64_t n = 1 + ts_rng_below(&e.rng, ts_rng_below(&e.rng, 4) ? 8 : 64);
		struct memslots_attributes a;

		if (n > TS_MODEL_ATTR_GFNS - gfn)
			n = TS_MODEL_ATTR_GFNS - gfn;
		a = ts_model_attr_request(&e.m, gfn, n, words[ts_rng_below(&e.rng, 2)]);
		/* now and then a request that must fail, same place */
		switch (ts_rng_below(&e.rng, 16)) {
		case 0:
			a.flags = 1;
			break;
		case 1:
			a.address += 8;
			break;
		case 2:
			a.attributes |= 1;
			break;
		}
		attr_step(&e, &a);
		if (step % 16 == 0) {
			unsigned int id = (unsigned int)ts_rng_below(&e.rng, 8);
			struct memslots_region r =
				ts_env_region(&e, id, 0, id * 32, 16, 0x10000000);
			int change;

			if (e.m.slot[id].present)
				r.memory_size = 0;
			else if (ts_rng_below(&e.rng, 2))
				r.guest_phys_addr += 8 * PAGE;
			if (!ts_model_classify(&e.m, &r, &change))
				ts_env_set(&e, r);
		}
	}
	ts_env_fini(&e);
}
END_TEST

/* Splits and merges whose run counts are known. */
START_TEST(test_runs_merge)
{
	struct ts_env e;
	struct memslots_attributes a;
	const struct memslots_set *set;

	env_counting(&e);
	a = ts_model_attr_request(&e.m, 10, 20, PRIVATE);
	attr_step(&e, &a);
	ck_assert_uint_eq(ts_model_attr_runs(&e.m), 3);
	a = ts_model_attr_request(&e.m, 15, 5, 0); /* a hole: 5 runs */
	attr_step(&e, &a);
	ck_assert_uint_eq(ts_model_attr_runs(&e.m), 5);
	a = ts_model_attr_request(&e.m, 15, 5, PRIVATE); /* filled: one run again */
	attr_step(&e, &a);
	ck_assert_uint_eq(ts_model_attr_runs(&e.m), 3);
	a = ts_model_attr_request(&e.m, 30, 10, PRIVATE); /* touching: merged */
	attr_step(&e, &a);
	set = memslots_read_lock(e.ms);
	{
		uint64_t end;

		ck_assert_uint_eq(memslots_gfn_attributes(set, 10, &end), PRIVATE);
		ck_assert_uint_eq(end, 40);
		ck_assert_uint_eq(memslots_gfn_attributes(set, 40, &end), 0);
		ck_assert_uint_eq(end, UINT64_MAX);
	}
	memslots_read_unlock(e.ms);
	a = ts_model_attr_request(&e.m, 0, 64, 0); /* all shared: the map is one run of 0 */
	attr_step(&e, &a);
	ck_assert_uint_eq(ts_model_attr_runs(&e.m), 1);
	ts_env_fini(&e);
}
END_TEST

/* The hook refuses: its errno, nothing changed; a positive return is success. */
START_TEST(test_hook)
{
	struct ts_env e;
	struct memslots_attributes a;

	env_counting(&e);
	a = ts_model_attr_request(&e.m, 4, 8, PRIVATE);
	e.hooks.fail_attributes = -EPERM;
	ck_assert_int_eq(attr_step(&e, &a), -EPERM);
	e.hooks.fail_attributes = 1;
	ck_assert_int_eq(memslots_set_attributes(e.ms, &a), 0);
	ts_model_attr_commit(&e.m, &a);
	ts_model_check(&e.m, e.ms, &e.rng, 2);
	/* Nothing changes: the refusing hook is not even asked. */
	e.hooks.fail_attributes = -EPERM;
	ck_assert_int_eq(attr_step(&e, &a), 0);
	e.hooks.fail_attributes = 0;
	ts_env_fini(&e);
}
END_TEST

/*
 * The k-th allocation of a call fails, for k = 1, 2, ... until the call
 * succeeds: each failure is a clean -ENOMEM with nothing changed, nothing
 * published, no hook called and nothing leaked.
 */
static void enomem_loop(struct ts_env *e, const struct memslots_attributes *a)
{
	size_t k, live = e->ac.live;
	bool changes;
	int ret;

	ck_assert_int_eq(ts_model_attr_check(&e->m, a, &changes), 0);
	for (k = 1; k < 64; k++) {
		uint64_t gen = ts_generation(e->ms);
		unsigned long syncs = ts_rcu.synchronize;

		ts_hooks_clear(&e->hooks);
		e->ac.fail_at = e->ac.calls + k;
		ret = memslots_set_attributes(e->ms, a);
		e->ac.fail_at = 0;
		if (!ret)
			break;
		ck_assert_int_eq(ret, -ENOMEM);
		ck_assert_uint_eq(e->hooks.n, 0);
		ck_assert_uint_eq(e->ac.live, live);
		ck_assert_uint_eq(ts_generation(e->ms), gen);
		ck_assert_uint_eq(ts_rcu.synchronize, syncs);
		ts_model_check(&e->m, e->ms, &e->rng, 1);
	}
	ck_assert_uint_lt(k, 64);
	if (changes)
		ts_model_attr_commit(&e->m, a);
	ts_model_check(&e->m, e->ms, &e->rng, 2);
}

START_TEST(test_enomem)
{
	struct ts_env e;

	env_counting(&e);
	for (unsigned int i = 0; i < 200; i++) {
		uint64_t gfn = ts_rng_below(&e.rng, TS_MODEL_ATTR_GFNS - 16);

		enomem_loop(&e, &(struct memslots_attributes){
					.address = gfn * PAGE,
					.size = (1 + ts_rng_below(&e.rng, 16)) * PAGE,
					.attributes = ts_rng_below(&e.rng, 2) ? PRIVATE : 0,
				});
	}
	ts_env_fini(&e);
}
END_TEST

/*
 * From inside a read-side section or a hook: -EDEADLK, nothing done.  The
 * hooks reach their object through opaque, a pointer to where its
 * address is stored once memslots_new() returns.
 */
static int writer_from_hook_ret = 1;

static int prepare_calls_set_attributes(void *opaque, const struct memslot *old,
					struct memslot *new, enum memslots_change change)
{
	struct memslots_attributes a = {.address = 0, .size = PAGE, .attributes = PRIVATE};

	(void)old;
	(void)new;
	(void)change;
	writer_from_hook_ret = memslots_set_attributes(*(struct memslots **)opaque, &a);
	return 0;
}

static int set_attributes_calls_writers(void *opaque, const struct memslots_attributes *a)
{
	struct memslots *ms = *(struct memslots **)opaque;
	struct memslots_region r = {.slot = 0, .memory_size = PAGE, .userspace_addr = PAGE};

	ck_assert_int_eq(memslots_set_attributes(ms, a), -EDEADLK);
	writer_from_hook_ret = memslots_set_region(ms, &r);
	return 0;
}

START_TEST(test_misuse)
{
	static const struct memslots_ops ops = {
		.prepare = prepare_calls_set_attributes,
		.set_attributes = set_attributes_calls_writers,
	};
	struct memslots *ms = NULL;
	struct memslots_config cfg = {.ops = &ops, .opaque = &ms};
	struct memslots_region r = {.slot = 0, .memory_size = PAGE, .userspace_addr = PAGE};
	struct memslots_attributes a = {.address = 0, .size = PAGE, .attributes = PRIVATE};
	const struct memslots_set *set;
	uint64_t end;

	ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(ms);
	/* from prepare */
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	ck_assert_int_eq(writer_from_hook_ret, -EDEADLK);
	/* from set_attributes: the hook itself succeeds, the call goes on */
	writer_from_hook_ret = 1;
	ck_assert_int_eq(memslots_set_attributes(ms, &a), 0);
	ck_assert_int_eq(writer_from_hook_ret, -EDEADLK);
	/* from a read-side section */
	set = memslots_read_lock(ms);
	a.attributes = 0;
	ck_assert_int_eq(memslots_set_attributes(ms, &a), -EDEADLK);
	ck_assert_uint_eq(memslots_gfn_attributes(set, 0, &end), PRIVATE);
	ck_assert_uint_eq(end, 1);
	memslots_read_unlock(ms);
	set = memslots_read_lock(ms);
	ck_assert_uint_eq(memslots_gfn_attributes(set, 0, NULL), PRIVATE);
	memslots_read_unlock(ms);
	/* a NULL set is empty */
	ck_assert_uint_eq(memslots_gfn_attributes(NULL, 5, &end), 0);
	ck_assert_uint_eq(end, UINT64_MAX);
	end = 0;
	ck_assert_ptr_null(memslots_fault_lookup(NULL, NULL, 5, &end, NULL));
	ck_assert_uint_eq(end, 0);
	memslots_free(ms);
}
END_TEST

/*
 * The top of the gfn space: the last valid page (ending one page below
 * 2^64), the run that reaches the top and the gfn UINT64_MAX, which no
 * byte range can name, and a large page shift.
 */
START_TEST(test_top_of_space)
{
	struct memslots_config cfg = {.page_shift = 21};
	struct memslots *ms = memslots_new(&cfg);
	const uint64_t page = 1ull << 21, top_gfn = (UINT64_MAX >> 21);
	struct memslots_attributes a = {.address = UINT64_MAX - 2 * page + 1, .size = page};
	const struct memslots_set *set;
	uint64_t end, gen;

	ck_assert_ptr_nonnull(ms);
	a.attributes = PRIVATE;
	ck_assert_int_eq(memslots_set_attributes(ms, &a), 0);
	set = memslots_read_lock(ms);
	gen = memslots_generation(set);
	ck_assert_uint_eq(memslots_gfn_attributes(set, top_gfn - 2, &end), 0);
	ck_assert_uint_eq(end, top_gfn - 1);
	ck_assert_uint_eq(memslots_gfn_attributes(set, top_gfn - 1, &end), PRIVATE);
	ck_assert_uint_eq(end, top_gfn);
	ck_assert_uint_eq(memslots_gfn_attributes(set, top_gfn, &end), 0);
	ck_assert_uint_eq(end, UINT64_MAX);
	ck_assert_uint_eq(memslots_gfn_attributes(set, UINT64_MAX, &end), 0);
	ck_assert_uint_eq(end, UINT64_MAX);
	memslots_read_unlock(ms);
	/* a range reaching 2^64 exactly is refused, as by KVM */
	a.size = 2 * page;
	ck_assert_int_eq(memslots_set_attributes(ms, &a), -EINVAL);
	/* the whole valid space at once, then back: one run each time */
	a = (struct memslots_attributes){.size = UINT64_MAX - page + 1, .attributes = PRIVATE};
	ck_assert_int_eq(memslots_set_attributes(ms, &a), 0);
	set = memslots_read_lock(ms);
	ck_assert_uint_eq(memslots_generation(set), gen + 1);
	ck_assert_uint_eq(memslots_gfn_attributes(set, 0, &end), PRIVATE);
	ck_assert_uint_eq(end, top_gfn);
	memslots_read_unlock(ms);
	a.attributes = 0;
	ck_assert_int_eq(memslots_set_attributes(ms, &a), 0);
	set = memslots_read_lock(ms);
	ck_assert_uint_eq(memslots_gfn_attributes(set, 12345, &end), 0);
	ck_assert_uint_eq(end, UINT64_MAX);
	memslots_read_unlock(ms);
	memslots_free(ms);
}
END_TEST

/* supported_attributes: 0 means PRIVATE; otherwise exactly the bits given. */
START_TEST(test_supported)
{
	struct memslots_config cfg = {.supported_attributes = PRIVATE | 1};
	struct memslots *ms = memslots_new(&cfg);
	struct memslots_attributes a = {.address = 0, .size = 4 * PAGE, .attributes = 1};
	const struct memslots_set *set;
	uint64_t end;

	ck_assert_ptr_nonnull(ms);
	ck_assert_int_eq(memslots_set_attributes(ms, &a), 0);
	a.attributes = PRIVATE | 1;
	a.size = 2 * PAGE;
	ck_assert_int_eq(memslots_set_attributes(ms, &a), 0);
	a.attributes = 2;
	ck_assert_int_eq(memslots_set_attributes(ms, &a), -EINVAL);
	set = memslots_read_lock(ms);
	/* different words never merge: two runs */
	ck_assert_uint_eq(memslots_gfn_attributes(set, 0, &end), PRIVATE | 1);
	ck_assert_uint_eq(end, 2);
	ck_assert_uint_eq(memslots_gfn_attributes(set, 2, &end), 1);
	ck_assert_uint_eq(end, 4);
	memslots_read_unlock(ms);
	memslots_free(ms);
}
END_TEST

/* The fault-path lookup: slot and attributes from the same set. */
START_TEST(test_fault_lookup)
{
	struct ts_env e;
	struct memslots_cache cache = {0};
	const struct memslots_set *set;
	const struct memslot *slot;
	uint64_t attrs, end;

	env_counting(&e);
	ts_env_set(&e, ts_env_region(&e, 3, 0, 16, 32, 0x40000000));
	attr_step(&e, &(struct memslots_attributes){.address = 20 * PAGE, .size = 4 * PAGE,
						   .attributes = PRIVATE});
	set = memslots_read_lock(e.ms);
	slot = memslots_fault_lookup(set, &cache, 21, &attrs, &end);
	ck_assert_ptr_nonnull(slot);
	ck_assert_uint_eq(slot->id, 3);
	ck_assert_uint_eq(attrs, PRIVATE);
	ck_assert_uint_eq(end, 24);
	slot = memslots_fault_lookup(set, NULL, 24, &attrs, NULL);
	ck_assert_uint_eq(slot->id, 3);
	ck_assert_uint_eq(attrs, 0);
	/* attributes without a slot */
	ck_assert_ptr_null(memslots_fault_lookup(set, &cache, 8, &attrs, &end));
	ck_assert_uint_eq(attrs, 0);
	ck_assert_uint_eq(end, 20);
	memslots_read_unlock(e.ms);
	ts_env_fini(&e);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("attributes");
	TCase *tc;

	tc = tcase_create("checks");
	tcase_add_test(tc, test_checks_in_order);
	tcase_add_test(tc, test_supported);
	tcase_add_test(tc, test_misuse);
	suite_add_tcase(s, tc);
	tc = tcase_create("model");
	tcase_add_test(tc, test_model_random);
	tcase_add_test(tc, test_runs_merge);
	tcase_add_test(tc, test_top_of_space);
	tcase_add_test(tc, test_fault_lookup);
	suite_add_tcase(s, tc);
	tc = tcase_create("failures");
	tcase_add_test(tc, test_hook);
	tcase_add_test(tc, test_enomem);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
