// SPDX-License-Identifier: MIT
/*
 * Black-box tests of rollback: a prepare hook failing at every position of
 * a call, and an allocation failing at every allocation site of a call
 * (fail the k-th allocation for k = 1, 2, ... until the call succeeds).
 * Each failure must return its error, leave the state, the generation
 * and every lookup as they were, abort exactly the changes that were
 * prepared (in reverse order, with prepare's arguments), commit nothing,
 * publish nothing, and leak nothing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>
#include <valgrind/valgrind.h>

#include "model.h"
#include "ts_check.h"

#define LOG MEMSLOT_LOG_DIRTY_PAGES
#define RO  MEMSLOT_READONLY

/* Enough for any call here: a runaway loop means allocations never stop failing. */
#define MAX_K 10000

/* Nothing changed: the model still describes the engine, same generation. */
static void check_unchanged(struct ts_env *e, uint64_t gen, unsigned long syncs)
{
	ck_assert_uint_eq(ts_generation(e->ms), gen);
	ck_assert_msg(ts_rcu.synchronize == syncs, "a failed call waited for %lu grace periods",
		      ts_rcu.synchronize - syncs);
	ts_model_check(&e->m, e->ms, &e->rng, 8);
}

/* Five slots 0x100 apart, ids 1-5; a prepare that sets priv tokens. */
static void env_base(struct ts_env *e)
{
	ts_env_init(e, 12, 64, 0, &ts_counting_rcu);
	e->hooks.set_priv = true;
	for (unsigned int id = 1; id <= 5; id++)
		ts_env_set(e, ts_env_region(e, id, id == 2 ? RO : 0, 0x100 * id, 0x10,
					    0x10000000ull * id));
}

/* A batch with every change type, a no-op, and sequential dependencies. */
static size_t mixed_batch(const struct ts_env *e, struct memslots_region *r)
{
	size_t n = 0;

	r[n++] = ts_env_region(e, 10, 0, 0x1000, 0x10, 0x70000000); /* create */
	r[n++] = ts_env_region(e, 1, 0, 0, 0, 0);		    /* delete */
	r[n++] = ts_env_region(e, 2, RO, 0x200, 0x10, 0x20000000);  /* no-op */
	r[n++] = ts_env_region(e, 3, LOG, 0x100, 0x10, 0x30000000); /* move into 1's place */
	r[n++] = ts_env_region(e, 4, LOG, 0x400, 0x10, 0x40000000); /* flags-only */
	r[n++] = ts_env_region(e, 11, 0, 0x300, 0x20, 0x30000000);  /* create in 3's place */
	r[n++] = ts_env_region(e, 5, 0, 0x2000, 0x10, 0x50000000);  /* move */
	return n;
}

/* The single requests of each change type against env_base(). */
static const struct {
	const char *name;
	uint32_t slot, flags;
	uint64_t gfn, npages, hva;
	int change;
} singles[] = {
	{"create", 10, LOG, 0x1000, 0x10, 0x70000000, MEMSLOTS_CREATE},
	{"delete", 3, 0, 0, 0, 0, MEMSLOTS_DELETE},
	{"move", 3, 0, 0x3000, 0x10, 0x30000000, MEMSLOTS_MOVE},
	{"flags_only", 2, RO | LOG, 0x200, 0x10, 0x20000000, MEMSLOTS_FLAGS_ONLY},
};

#define NR_SINGLES (sizeof(singles) / sizeof(singles[0]))

START_TEST(test_prepare_fail_single)
{
	static const int errs[] = {-EIO, -ENOSPC, -EPERM, -ENOMEM, -EINVAL};

	for (size_t i = 0; i < NR_SINGLES; i++) {
		for (size_t j = 0; j < sizeof(errs) / sizeof(errs[0]); j++) {
			struct ts_env e;
			struct memslots_region r;
			uint64_t gen;
			unsigned long syncs;
			int ret;

			env_base(&e);
			r = ts_env_region(&e, singles[i].slot, singles[i].flags, singles[i].gfn,
					  singles[i].npages, singles[i].hva);
			gen = ts_generation(e.ms);
			syncs = ts_rcu.synchronize;
			ts_hooks_clear(&e.hooks);
			e.hooks.fail_prepare_at = 1;
			e.hooks.fail_err = errs[j];
			ret = memslots_set_region(e.ms, &r);
			ck_assert_msg(ret == errs[j], "%s: prepare returned %d, call %d",
				      singles[i].name, errs[j], ret);
			ck_assert_uint_eq(ts_check_rolled_back(&e.hooks, true), 1);
			ck_assert_int_eq(e.hooks.ev[0].change, singles[i].change);
			check_unchanged(&e, gen, syncs);

			/* and the same request then goes through */
			e.hooks.fail_prepare_at = 0;
			ts_env_set(&e, r);
			ts_env_fini(&e);
		}
	}
}
END_TEST

/* Batches: the prepare of each change in turn fails. */
static void prepare_fail_batch(bool by_id)
{
	struct memslots_region r[16];
	struct ts_model_result res;
	struct ts_model tmp;
	struct ts_env e;
	size_t n, k;

	env_base(&e);
	n = mixed_batch(&e, r);
	ts_model_copy(&tmp, &e.m);
	ts_model_apply(&tmp, r, n, -1, 0, &res);
	ck_assert_int_eq(res.ret, 0);
	ck_assert_uint_eq(res.nr_changes, n - 1);

	for (k = 0; k < res.nr_changes; k++) {
		uint64_t gen = ts_generation(e.ms);
		unsigned long syncs = ts_rcu.synchronize;
		size_t failed = 999, np;
		int ret, err = -100 - (int)k;

		ts_hooks_clear(&e.hooks);
		e.hooks.fail_err = err;
		if (by_id)
			e.hooks.fail_id = r[res.index[k]].slot & 0xffff;
		else
			e.hooks.fail_prepare_at = k + 1;
		ret = memslots_apply(e.ms, r, n, &failed);
		e.hooks.fail_id = -1;
		e.hooks.fail_prepare_at = 0;
		ck_assert_msg(ret == err, "prepare of change %zu fails: call returned %d", k, ret);
		ck_assert_msg(failed == res.index[k],
			      "prepare of change %zu fails: failed_index %zu, "
			      "expected %zu",
			      k, failed, res.index[k]);
		np = ts_check_rolled_back(&e.hooks, true);
		ck_assert_uint_eq(np, k + 1);
		/* the prepares ran in request order */
		for (size_t i = 0; i < np; i++) {
			const struct ts_event *ev = &e.hooks.ev[i];
			unsigned int id = ev->has_new ? ev->new.id : ev->old.id;

			ck_assert_int_eq(ev->change, res.change[i]);
			ck_assert_uint_eq(id, r[res.index[i]].slot & 0xffff);
		}
		check_unchanged(&e, gen, syncs);
	}

	/* no failure: the whole batch lands */
	ts_hooks_clear(&e.hooks);
	ck_assert_int_eq(memslots_apply(e.ms, r, n, NULL), 0);
	ts_model_assign(&e.m, &tmp);
	ts_env_take_privs(&e);
	ts_model_check(&e.m, e.ms, &e.rng, 64);
	ts_model_result_fini(&res);
	ts_model_fini(&tmp);
	ts_env_fini(&e);
}

START_TEST(test_prepare_fail_batch_nth)
{
	prepare_fail_batch(false);
}
END_TEST

START_TEST(test_prepare_fail_batch_id)
{
	prepare_fail_batch(true);
}
END_TEST

/*
 * Fails the k-th allocation of memslots_apply(r, n) for k = 1, 2, ...
 * until it succeeds; every failure must be a clean -ENOMEM.  Returns how
 * many values of k failed.
 */
static size_t enomem_loop(struct ts_env *e, const struct memslots_region *r, size_t n)
{
	struct ts_model_result res;
	struct ts_model after;
	size_t k, failures = 0;

	ts_model_copy(&after, &e->m);
	ts_model_apply(&after, r, n, -1, 0, &res);
	ck_assert_int_eq(res.ret, 0);

	for (k = 1; k < MAX_K; k++) {
		uint64_t gen = ts_generation(e->ms);
		unsigned long syncs = ts_rcu.synchronize;
		size_t failed = 999;
		int ret;

		ts_hooks_clear(&e->hooks);
		e->ac.fail_at = e->ac.calls + k;
		if (n == 1 && k % 2)
			ret = memslots_set_region(e->ms, r);
		else
			ret = memslots_apply(e->ms, r, n, &failed);
		e->ac.fail_at = 0;
		if (!ret)
			break;
		ck_assert_msg(ret == -ENOMEM, "allocation %zu fails: call returned %d", k, ret);
		if (n > 1)
			ck_assert_uint_lt(failed, n);
		failures++;
		ts_check_rolled_back(&e->hooks, false);
		check_unchanged(e, gen, syncs);
	}
	ck_assert_uint_lt(k, MAX_K);
	ts_model_assign(&e->m, &after);
	ts_env_take_privs(e);
	ts_model_check(&e->m, e->ms, &e->rng, 16);
	ts_model_result_fini(&res);
	ts_model_fini(&after);
	return failures;
}

START_TEST(test_enomem_single)
{
	for (size_t i = 0; i < NR_SINGLES; i++) {
		struct memslots_region r;
		struct ts_env e;
		size_t failures;

		env_base(&e);
		r = ts_env_region(&e, singles[i].slot, singles[i].flags, singles[i].gfn,
				  singles[i].npages, singles[i].hva);
		failures = enomem_loop(&e, &r, 1);
		/* a create needs at least a new slot; the others may reuse memory */
		if (singles[i].change == MEMSLOTS_CREATE)
			ck_assert_uint_gt(failures, 0);
		ts_env_fini(&e);
	}
}
END_TEST

/* Creates and deletes enough slots for internal tables to grow and shrink. */
START_TEST(test_enomem_growth)
{
	unsigned int nr = RUNNING_ON_VALGRIND ? 40 : 80;
	struct ts_env e;

	ts_env_init(&e, 12, 128, 0, &ts_counting_rcu);
	for (unsigned int id = 0; id < nr; id++) {
		struct memslots_region r = ts_env_region(&e, id, 0, 0x10 * id, 0x10, 0x1000000);

		ck_assert_uint_gt(enomem_loop(&e, &r, 1), 0);
	}
	for (unsigned int id = 0; id < nr; id += 2) {
		struct memslots_region r = ts_env_region(&e, id, LOG, 0x10 * id, 0x10, 0x1000000);

		enomem_loop(&e, &r, 1);
	}
	for (unsigned int id = 0; id < nr; id++) {
		struct memslots_region r = ts_env_region(&e, id, 0, 0, 0, 0);

		enomem_loop(&e, &r, 1);
	}
	ts_env_fini(&e);
}
END_TEST

START_TEST(test_enomem_batch)
{
	struct memslots_region r[64];
	struct ts_env e;
	size_t n;

	env_base(&e);
	n = mixed_batch(&e, r);
	ck_assert_uint_gt(enomem_loop(&e, r, n), 0);

	/* a bigger one: 24 creates, then delete/move/flag some of the old ones */
	n = 0;
	for (unsigned int id = 20; id < 44; id++)
		r[n++] = ts_env_region(&e, id, 0, 0x10000 + 0x10 * id, 0x10, 0x1000000);
	r[n++] = ts_env_region(&e, 10, 0, 0, 0, 0);
	r[n++] = ts_env_region(&e, 11, 0, 0x50000, 0x20, 0x30000000);
	r[n++] = ts_env_region(&e, 2, RO | LOG, 0x200, 0x10, 0x20000000);
	r[n++] = ts_env_region(&e, 3, 0, 0, 0, 0);
	r[n++] = ts_env_region(&e, 5, 0, 0x2100, 0x10, 0x50000000);
	ck_assert_uint_gt(enomem_loop(&e, r, n), 0);

	/* and one that empties the set */
	n = 0;
	for (unsigned int id = 0; id < 64; id++)
		if (e.m.slot[id].present)
			r[n++] = ts_env_region(&e, id, 0, 0, 0, 0);
	enomem_loop(&e, r, n);
	ck_assert_uint_eq(e.m.count, 0);
	ts_env_fini(&e);
}
END_TEST

/* memslots_new() itself: every allocation failure is a clean NULL/ENOMEM. */
START_TEST(test_enomem_new)
{
	struct ts_alloc_counter ac;
	struct memslots_config cfg = {
		.rcu = &ts_counting_rcu,
		.alloc = ts_alloc,
		.free = ts_free,
		.alloc_opaque = &ac,
	};
	struct memslots *ms = NULL;
	size_t k;

	for (k = 1; k < MAX_K && !ms; k++) {
		memset(&ac, 0, sizeof(ac));
		ac.fail_at = k;
		errno = 0;
		ms = memslots_new(&cfg);
		if (!ms) {
			ck_assert_msg(errno == ENOMEM, "allocation %zu fails: errno %d", k, errno);
			ck_assert_msg(ac.live == 0, "allocation %zu fails: %zu leaked", k, ac.live);
		}
	}
	ck_assert_ptr_nonnull(ms);
	ck_assert_uint_gt(k, 2); /* at least one allocation, through our allocator */
	memslots_free(ms);
	ck_assert_uint_eq(ac.live, 0);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("rollback");
	TCase *tc;

	tc = tcase_create("prepare_fail_single");
	tcase_add_test(tc, test_prepare_fail_single);
	suite_add_tcase(s, tc);
	tc = tcase_create("prepare_fail_batch_nth");
	tcase_add_test(tc, test_prepare_fail_batch_nth);
	suite_add_tcase(s, tc);
	tc = tcase_create("prepare_fail_batch_id");
	tcase_add_test(tc, test_prepare_fail_batch_id);
	suite_add_tcase(s, tc);
	tc = tcase_create("enomem_single");
	tcase_add_test(tc, test_enomem_single);
	suite_add_tcase(s, tc);
	tc = tcase_create("enomem_growth");
	tcase_add_test(tc, test_enomem_growth);
	suite_add_tcase(s, tc);
	tc = tcase_create("enomem_batch");
	tcase_add_test(tc, test_enomem_batch);
	suite_add_tcase(s, tc);
	tc = tcase_create("enomem_new");
	tcase_add_test(tc, test_enomem_new);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
