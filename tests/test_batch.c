// SPDX-License-Identifier: MIT
/*
 * Black-box tests of memslots_apply(): the duplicate-id rule, sequential
 * semantics (each request sees the effect of the earlier ones), no-op
 * batches, at most two grace periods per call, what readers see between
 * the two publications, and large batches.
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

/* Ids 1-5, 16 pages at gfn 0x100 * id; id 2 READONLY. */
static void env_base(struct ts_env *e, const struct memslots_rcu *rcu, unsigned int max_slots)
{
	ts_env_init(e, 12, max_slots, 0, rcu);
	for (unsigned int id = 1; id <= 5; id++)
		ts_env_set(e, ts_env_region(e, id, id == 2 ? RO : 0, 0x100 * id, 0x10,
					    0x10000000ull * id));
}

/*
 * Runs a batch, checks the hand-written expectation (ret, failed index)
 * against both the model and the engine, then everything else the
 * contract promises about the call.
 */
static void run_batch(struct ts_env *e, const struct memslots_region *r, size_t n, int want,
		      size_t want_index, const char *what)
{
	bool counting = e->cfg.rcu == &ts_counting_rcu;
	unsigned long syncs = ts_rcu.synchronize;
	uint64_t gen0 = ts_generation(e->ms), gen1;
	struct ts_model_result res;
	struct ts_model after;
	size_t failed = 12345;
	int ret;

	ts_model_copy(&after, &e->m);
	ts_model_apply(&after, r, n, e->hooks.fail_id, e->hooks.fail_err, &res);
	ck_assert_msg(res.ret == want, "%s: the model says %d, the test %d", what, res.ret, want);
	if (want)
		ck_assert_msg(res.failed_index == want_index,
			      "%s: the model says index %zu, the test %zu", what, res.failed_index,
			      want_index);

	ts_hooks_clear(&e->hooks);
	ret = memslots_apply(e->ms, r, n, &failed);
	gen1 = ts_generation(e->ms);
	ck_assert_msg(ret == want || ret == res.alt_ret, "%s: expected %d, got %d", what, want,
		      ret);
	if (ret) {
		ck_assert_msg(failed == want_index, "%s: failed_index %zu, expected %zu", what,
			      failed, want_index);
		ck_assert_uint_eq(gen1, gen0);
		if (counting)
			ck_assert_uint_eq(ts_rcu.synchronize, syncs);
		ck_assert_uint_eq(ts_hooks_count(&e->hooks, TS_COMMIT), 0);
		ck_assert_uint_eq(ts_hooks_count(&e->hooks, TS_INVALIDATE), 0);
		ck_assert_uint_eq(ts_hooks_count(&e->hooks, TS_ABORT),
				  ts_hooks_count(&e->hooks, TS_PREPARE) - res.prepare_failed);
		/* prepares ran in request order and never for the failing request's rule */
		ck_assert_uint_le(ts_hooks_count(&e->hooks, TS_PREPARE), res.nr_changes);
	} else {
		size_t k = 0, nr_inval = 0;

		for (size_t i = 0; i < res.nr_changes; i++)
			nr_inval +=
				res.change[i] == MEMSLOTS_DELETE || res.change[i] == MEMSLOTS_MOVE;
		if (res.nr_changes) {
			ck_assert_msg(gen1 > gen0, "%s: generation did not increase", what);
			if (counting)
				ck_assert_msg(ts_rcu.synchronize - syncs == 1u + res.invalidates,
					      "%s: %lu grace periods, expected %d", what,
					      ts_rcu.synchronize - syncs, 1 + res.invalidates);
		} else {
			ck_assert_msg(gen1 == gen0, "%s: a no-op batch published", what);
			if (counting)
				ck_assert_uint_eq(ts_rcu.synchronize, syncs);
		}
		/* prepare (request order) < invalidate < commit */
		ck_assert_uint_eq(e->hooks.n, 2 * res.nr_changes + nr_inval);
		for (size_t i = 0; i < res.nr_changes; i++, k++) {
			const struct ts_event *ev = &e->hooks.ev[k];
			unsigned int id = r[res.index[i]].slot & 0xffff;

			ck_assert_int_eq(ev->hook, TS_PREPARE);
			ck_assert_int_eq(ev->change, res.change[i]);
			ck_assert_uint_eq(ev->has_new ? ev->new.id : ev->old.id, id);
			ck_assert_uint_eq(ev->gen, gen0);
		}
		for (size_t i = 0; i < nr_inval; i++, k++) {
			ck_assert_int_eq(e->hooks.ev[k].hook, TS_INVALIDATE);
			ck_assert(e->hooks.ev[k].old.flags & MEMSLOT_INVALID);
			ck_assert_uint_gt(e->hooks.ev[k].gen, gen0);
			ck_assert_uint_lt(e->hooks.ev[k].gen, gen1);
		}
		for (size_t i = 0; i < res.nr_changes; i++, k++) {
			ck_assert_int_eq(e->hooks.ev[k].hook, TS_COMMIT);
			ck_assert_uint_eq(e->hooks.ev[k].gen, gen1);
		}
		ts_model_assign(&e->m, &after);
		ts_env_take_privs(e);
	}
	ts_model_check(&e->m, e->ms, &e->rng, 32);
	ts_model_result_fini(&res);
	ts_model_fini(&after);
}

#define R(id, flags, gfn, npages, hva) ts_env_region(&e, id, flags, gfn, npages, hva)
#define DEL(id)			       ts_env_region(&e, id, 0, 0, 0, 0)
#define RUN(want, idx, ...)                                                                      \
	do {                                                                                     \
		const struct memslots_region reqs_[] = {__VA_ARGS__};                            \
		run_batch(&e, reqs_, sizeof(reqs_) / sizeof(reqs_[0]), want, idx, #__VA_ARGS__); \
	} while (0)

START_TEST(test_duplicate_ids)
{
	struct ts_env e;

	env_base(&e, &ts_counting_rcu, 64);
	RUN(-EINVAL, 1, R(10, 0, 0x1000, 1, 0), R(10, 0, 0x2000, 1, 0));
	RUN(-EINVAL, 1, R(10, 0, 0x1000, 1, 0), DEL(10));
	RUN(-EINVAL, 1, R(1, LOG, 0x100, 0x10, 0x10000000), R(1, LOG, 0x3000, 0x10, 0x10000000));
	/* a no-op request names its id too */
	RUN(-EINVAL, 1, R(1, 0, 0x100, 0x10, 0x10000000), R(1, LOG, 0x100, 0x10, 0x10000000));
	RUN(-EINVAL, 1, DEL(1), R(1, 0, 0x100, 0x10, 0x10000000));
	RUN(-EINVAL, 1, DEL(1), DEL(1));
	RUN(-EINVAL, 3, R(10, 0, 0x1000, 1, 0), R(11, 0, 0x1001, 1, 0), DEL(2),
	    R(10, 0, 0x1000, 1, 0));
	/* the same id in another address space is another (invalid) request */
	RUN(-EINVAL, 1, R(10, 0, 0x1000, 1, 0), R(0x10000 | 10, 0, 0x2000, 1, 0));
	/* and nothing of the above landed */
	RUN(0, 0, R(10, 0, 0x1000, 1, 0), R(11, 0, 0x1001, 1, 0));
	ts_env_fini(&e);
}
END_TEST

START_TEST(test_sequential)
{
	struct ts_env e;

	env_base(&e, &ts_counting_rcu, 64);
	/* delete then create in the freed range: fine in that order only */
	RUN(-EEXIST, 0, R(10, 0, 0x100, 0x10, 0x70000000), DEL(1));
	RUN(0, 0, DEL(1), R(10, 0, 0x100, 0x10, 0x70000000));
	/* move out, then move another slot in */
	RUN(-EEXIST, 0, R(4, 0, 0x300, 0x10, 0x40000000), R(3, 0, 0x3000, 0x10, 0x30000000));
	RUN(0, 0, R(3, 0, 0x3000, 0x10, 0x30000000), R(4, 0, 0x300, 0x10, 0x40000000));
	/* the second request collides with what the first created or moved */
	RUN(-EEXIST, 1, R(12, 0, 0x5000, 0x10, 0), R(13, 0, 0x500f, 1, 0));
	RUN(-EEXIST, 1, R(12, 0, 0x5000, 0x10, 0), R(5, 0, 0x4ff8, 0x10, 0x50000000));
	RUN(-EEXIST, 1, R(2, RO, 0x6000, 0x10, 0x20000000), R(12, 0, 0x6008, 1, 0));
	/* a later request may delete what an earlier one did not touch */
	RUN(-EINVAL, 2, R(12, 0, 0x5000, 0x10, 0), DEL(5), DEL(6));
	/* a move may overlap its own old range */
	RUN(0, 0, R(5, 0, 0x508, 0x10, 0x50000000), R(12, 0, 0x500, 8, 0));
	/* 2 moves away, 10 moves into its place, 12 into 10's */
	RUN(0, 0, R(2, RO, 0x7000, 0x10, 0x20000000), R(10, 0, 0x200, 0x10, 0x70000000),
	    R(12, 0, 0x100, 0x8, 0));
	ts_env_fini(&e);
}
END_TEST

/*
 * A prepare failure is the failure of its own request, in request order:
 * applying one by one, request 0 would fail in its prepare before request
 * 2 is even looked at.
 */
START_TEST(test_failure_order)
{
	struct ts_env e;

	env_base(&e, &ts_counting_rcu, 64);
	e.hooks.fail_id = 10;
	e.hooks.fail_err = -ENOSPC;
	RUN(-ENOSPC, 0, R(10, 0, 0x1000, 1, 0), R(11, 0, 0x1001, 1, 0), R(12, 1u << 9, 0, 1, 0));
	RUN(-ENOSPC, 1, R(11, 0, 0x1001, 1, 0), R(10, 0, 0x1000, 1, 0), R(12, 0, 0x1001, 1, 0));
	RUN(-EEXIST, 1, R(11, 0, 0x1001, 1, 0), R(12, 0, 0x1001, 1, 0), R(10, 0, 0x1000, 1, 0));
	RUN(-EINVAL, 1, R(11, 0, 0x1001, 1, 0), R(12, 4, 0x1002, 1, 0), R(10, 0, 0x1000, 1, 0));
	e.hooks.fail_id = -1;
	ts_env_fini(&e);
}
END_TEST

START_TEST(test_all_noop)
{
	struct ts_env e;

	env_base(&e, &ts_counting_rcu, 64);
	RUN(0, 0, R(1, 0, 0x100, 0x10, 0x10000000), R(2, RO, 0x200, 0x10, 0x20000000),
	    R(3, 0, 0x300, 0x10, 0x30000000), R(4, 0, 0x400, 0x10, 0x40000000),
	    R(5, 0, 0x500, 0x10, 0x50000000));
	RUN(0, 0, R(3, 0, 0x300, 0x10, 0x30000000));
	ck_assert_int_eq(memslots_apply(e.ms, NULL, 0, NULL), 0);
	ts_env_fini(&e);
}
END_TEST

START_TEST(test_publications)
{
	struct ts_env e;

	env_base(&e, &ts_counting_rcu, 64);
	/* run_batch checks one grace period without delete/move, two with */
	RUN(0, 0, R(10, 0, 0x1000, 1, 0), R(11, 0, 0x1001, 1, 0), R(12, 0, 0x1002, 1, 0));
	RUN(0, 0, R(13, 0, 0x1003, 1, 0), R(1, LOG, 0x100, 0x10, 0x10000000),
	    R(2, RO | LOG, 0x200, 0x10, 0x20000000));
	RUN(0, 0, R(14, 0, 0x1004, 1, 0), DEL(10));
	RUN(0, 0, R(3, 0, 0x3000, 0x10, 0x30000000), R(15, 0, 0x1005, 1, 0));
	RUN(0, 0, DEL(11), DEL(12), DEL(13), R(4, 0, 0x4000, 0x10, 0x40000000),
	    R(5, 0, 0x5000, 0x10, 0x50000000), R(1, 0, 0x100, 0x10, 0x10000000),
	    R(16, 0, 0x1006, 1, 0), R(17, 0, 0x1007, 1, 0));
	ts_env_fini(&e);
}
END_TEST

/*
 * Between the two publications readers see exactly the old state with the
 * deleted and moved slots marked INVALID: no new slot, no new flags, the
 * moved slot still at its old place.
 */
struct phases {
	struct ts_model before, mid, after;
	struct ts_rng rng;
	unsigned int seen[TS_RELEASE + 1];
};

static void check_phase(struct ts_hooks *h, const struct ts_event *ev)
{
	struct phases *p = h->user;
	const struct memslots_set *set = memslots_read_lock(h->ms);

	if (ev->hook == TS_PREPARE && ev->has_new)
		p->after.slot[ev->new.id].priv = ev->new.priv;
	if (ev->hook == TS_PREPARE)
		ts_model_check_set(&p->before, set, &p->rng, 8);
	else if (ev->hook == TS_INVALIDATE)
		ts_model_check_set(&p->mid, set, &p->rng, 8);
	else if (ev->hook == TS_COMMIT)
		ts_model_check_set(&p->after, set, &p->rng, 8);
	memslots_read_unlock(h->ms);
	p->seen[ev->hook]++;
}

static void intermediate_case(const struct memslots_rcu *rcu)
{
	struct phases p;
	struct ts_model_result res;
	struct ts_env e;
	struct memslots_region r[6];
	size_t n = 0;

	env_base(&e, rcu, 64);
	e.hooks.set_priv = true;
	r[n++] = DEL(1);
	r[n++] = R(2, RO, 0x2000, 0x10, 0x20000000); /* move */
	r[n++] = R(10, 0, 0x3000, 0x10, 0x70000000); /* create */
	r[n++] = R(4, LOG, 0x400, 0x10, 0x40000000); /* flags-only */
	r[n++] = R(5, 0, 0x500, 0x10, 0x50000000);   /* no-op */
	r[n++] = R(11, 0, 0x100, 0x8, 0x70000000);   /* create in 1's old place */

	memset(&p, 0, sizeof(p));
	ts_rng_seed(&p.rng, 99);
	ts_model_copy(&p.before, &e.m);
	ts_model_copy(&p.mid, &e.m);
	p.mid.slot[1].flags |= MEMSLOT_INVALID;
	p.mid.slot[2].flags |= MEMSLOT_INVALID;
	ts_model_copy(&p.after, &e.m);
	ts_model_apply(&p.after, r, n, -1, 0, &res);
	ck_assert_int_eq(res.ret, 0);

	e.hooks.user = &p;
	e.hooks.on_event = check_phase;
	run_batch(&e, r, n, 0, 0, "intermediate");
	e.hooks.on_event = NULL;
	ck_assert_uint_eq(p.seen[TS_PREPARE], 5);
	ck_assert_uint_eq(p.seen[TS_INVALIDATE], 2);
	ck_assert_uint_eq(p.seen[TS_COMMIT], 5);
	ts_model_result_fini(&res);
	ts_model_fini(&p.before);
	ts_model_fini(&p.mid);
	ts_model_fini(&p.after);
	ts_env_fini(&e);
}

START_TEST(test_intermediate_counting_rcu)
{
	intermediate_case(&ts_counting_rcu);
}
END_TEST

START_TEST(test_intermediate_default_rcu)
{
	intermediate_case(NULL);
}
END_TEST

/* 1000 creates in one call, then dirty logging on all of them, then out. */
START_TEST(test_big)
{
	unsigned int nr = RUNNING_ON_VALGRIND ? 300 : 1000;
	struct memslots_region *r = calloc(nr, sizeof(*r));
	struct ts_env e;

	ck_assert_ptr_nonnull(r);
	ts_env_init(&e, 12, 1024, 0, &ts_counting_rcu);
	for (unsigned int i = 0; i < nr; i++)
		r[i] = R(i, 0, 0x20 * (nr - i), 0x10, 0x100000000ull + 0x1000 * i);
	run_batch(&e, r, nr, 0, 0, "1000 creates");
	for (unsigned int i = 0; i < nr; i++)
		r[i].flags = LOG;
	run_batch(&e, r, nr, 0, 0, "1000 flags-only");
	/* half moved (into the gaps), half deleted */
	for (unsigned int i = 0; i < nr; i++) {
		if (i % 2)
			r[i].memory_size = 0;
		else
			r[i].guest_phys_addr += 0x10 << 12;
	}
	run_batch(&e, r, nr, 0, 0, "moves and deletes");
	ck_assert_uint_eq(e.m.count, nr / 2);
	/* one bad request at the end undoes all the rest */
	for (unsigned int i = 0; i < nr / 2; i++)
		r[i] = R(2 * i, 0, 0, 0, 0);
	r[nr / 2] = R(1, 0, 0, 0, 0); /* already deleted */
	run_batch(&e, r, nr / 2 + 1, -EINVAL, nr / 2, "deletes, the last of a missing slot");
	run_batch(&e, r, nr / 2, 0, 0, "delete all");
	ck_assert_uint_eq(e.m.count, 0);
	ts_env_fini(&e);
	free(r);
}
END_TEST

/* A random valid batch with every change type, built through the model. */
START_TEST(test_mixed_large)
{
	unsigned int rounds = RUNNING_ON_VALGRIND ? 2 : 6;
	struct memslots_region *r = calloc(512, sizeof(*r));
	struct ts_rng rng;
	struct ts_env e;

	ck_assert_ptr_nonnull(r);
	ts_rng_seed(&rng, 1234);
	ts_env_init(&e, 12, 512, 0, &ts_counting_rcu);
	e.hooks.set_priv = true;
	for (unsigned int round = 0; round < rounds; round++) {
		struct ts_model tmp;
		bool *used = calloc(512, sizeof(*used));
		size_t n = 0;

		ck_assert_ptr_nonnull(used);
		ts_model_copy(&tmp, &e.m);
		for (unsigned int tries = 0; tries < 4000 && n < 400; tries++) {
			unsigned int id = (unsigned int)ts_rng_below(&rng, 512);
			const struct ts_model_slot *s = &tmp.slot[id];
			struct memslots_region q;
			int change;

			if (used[id])
				continue;
			if (!s->present)
				q = ts_env_region(&e, id, (uint32_t)ts_rng_below(&rng, 4),
						  ts_rng_below(&rng, 0x4000),
						  1 + ts_rng_below(&rng, 8),
						  0x1000 * ts_rng_below(&rng, 64));
			else if (ts_rng_below(&rng, 3) == 0)
				q = ts_env_region(&e, id, 0, 0, 0, 0);
			else
				q = ts_env_region(
					&e, id, (s->flags & RO) | (uint32_t)ts_rng_below(&rng, 2),
					ts_rng_below(&rng, 2) ? s->base_gfn
							      : ts_rng_below(&rng, 0x4000),
					s->npages, s->hva);
			if (ts_model_classify(&tmp, &q, &change))
				continue;
			ts_model_commit(&tmp, &q, change);
			used[id] = true;
			r[n++] = q;
		}
		run_batch(&e, r, n, 0, 0, "random batch");
		ts_model_fini(&tmp);
		free(used);
	}
	ck_assert_uint_gt(e.m.count, 50);
	ts_env_fini(&e);
	free(r);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("batch");
	TCase *tc;

	tc = tcase_create("duplicate_ids");
	tcase_add_test(tc, test_duplicate_ids);
	suite_add_tcase(s, tc);
	tc = tcase_create("sequential");
	tcase_add_test(tc, test_sequential);
	suite_add_tcase(s, tc);
	tc = tcase_create("failure_order");
	tcase_add_test(tc, test_failure_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("all_noop");
	tcase_add_test(tc, test_all_noop);
	suite_add_tcase(s, tc);
	tc = tcase_create("publications");
	tcase_add_test(tc, test_publications);
	suite_add_tcase(s, tc);
	tc = tcase_create("intermediate_counting_rcu");
	tcase_add_test(tc, test_intermediate_counting_rcu);
	suite_add_tcase(s, tc);
	tc = tcase_create("intermediate_default_rcu");
	tcase_add_test(tc, test_intermediate_default_rcu);
	suite_add_tcase(s, tc);
	tc = tcase_create("big");
	tcase_add_test(tc, test_big);
	suite_add_tcase(s, tc);
	tc = tcase_create("mixed_large");
	tcase_add_test(tc, test_mixed_large);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
