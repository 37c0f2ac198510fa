// SPDX-License-Identifier: MIT
/*
 * Dirty page logging (the API contract's extension 4), black box, against
 * the dirty model (tests/support/dirty_model.h) and, for the lifecycle,
 * against expectations written out per case as well:
 *  - the config's dirty_log values;
 *  - the lifecycle table: every change kind x LOG_DIRTY_PAGES before and
 *    after x INITIALLY_SET, one request and in a batch;
 *  - merge and collect argument errors in the contract's order;
 *  - collect of partial ranges, mark across slot boundaries and holes,
 *    random operations against the model;
 *  - the INVALID copy sharing the old bitmap (marks from the invalidate
 *    hook, and from a reader thread holding the old set through a move);
 *  - allocation failure at every site of single calls and batches;
 *  - marker, collector and writer threads (test_dirty_concurrency.c).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <memslots/memslots.h>

#include "concurrency_fixture.h"
#include "dirty_model.h"
#include "model.h"
#include "test_dirty.h"
#include "ts_check.h"
#include "ts_scale.h"

#define LOG  MEMSLOT_LOG_DIRTY_PAGES
#define BM   MEMSLOTS_DIRTY_BITMAP
#define INIT MEMSLOTS_DIRTY_INITIALLY_SET

/* An engine and its slot model, with the dirty model beside them. */
struct tenv {
	struct ts_env e;
	struct ts_dirty_model d;
};

static void tenv_init(struct tenv *t, uint32_t dirty_log, const struct memslots_rcu *rcu)
{
	ts_env_init_dirty(&t->e, 12, 64, 0, rcu, 0, 0, dirty_log);
	ts_dirty_model_init(&t->d, t->e.m.max_slots, dirty_log);
}

static void tenv_check(struct tenv *t)
{
	ts_dirty_model_check(&t->d, &t->e.m, t->e.ms);
}

static void tenv_fini(struct tenv *t)
{
	tenv_check(t);
	ts_env_fini(&t->e);
	ts_dirty_model_fini(&t->d);
}

/* A request that must succeed, in the engine and both models. */
static void tset(struct tenv *t, uint32_t id, uint32_t flags, uint64_t gfn, uint64_t npages)
{
	struct ts_model_slot old = t->e.m.slot[id];

	ts_env_set(&t->e, ts_env_region(&t->e, id, flags, gfn, npages, 0x10000000ull * (id + 1)));
	ts_dirty_model_change(&t->d, id, old.present ? &old : NULL, &t->e.m.slot[id]);
}

/* A mark through the active set, predicted by the model; its return. */
static uint64_t tmark(struct tenv *t, uint64_t gfn, uint64_t npages, bool cached)
{
	struct memslots_cache cache = {0};
	const struct memslots_set *set = memslots_read_lock(t->e.ms);
	uint64_t got = cached ? memslots_dirty_mark_cached(set, &cache, gfn, npages)
			      : memslots_dirty_mark(set, gfn, npages);

	memslots_read_unlock(t->e.ms);
	ck_assert_uint_eq(got, ts_dirty_model_mark(&t->d, &t->e.m, gfn, npages));
	return got;
}

/* Collects all of slot @id; the count (or error). */
static int64_t tcollect_all(struct tenv *t, uint16_t id)
{
	uint64_t buf[64] = {0}, mbuf[64] = {0};
	const struct memslots_set *set = memslots_read_lock(t->e.ms);
	uint64_t npages = t->e.m.slot[id].present ? t->e.m.slot[id].npages : 1;
	int64_t got = memslots_dirty_collect(set, id, buf, 0, npages);

	memslots_read_unlock(t->e.ms);
	ck_assert_int_eq(got, ts_dirty_model_collect(&t->d, &t->e.m, id, mbuf, 0, npages));
	ck_assert_mem_eq(buf, mbuf, sizeof(buf));
	return got;
}

/* ---- configuration ------------------------------------------------------------------ */

START_TEST(test_config)
{
	static const uint32_t good[] = {0, BM, BM | INIT};
	static const uint32_t bad[] = {INIT, 1u << 2, BM | (1u << 2), 1u << 31, UINT32_MAX};
	struct memslots_config cfg = {0};
	struct memslots *ms;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cfg.dirty_log = good[i];
		ms = memslots_new(&cfg);
		ck_assert_msg(ms, "dirty_log %#x refused", good[i]);
		memslots_free(ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.dirty_log = bad[i];
		errno = 0;
		ms = memslots_new(&cfg);
		ck_assert_msg(!ms && errno == EINVAL, "dirty_log %#x: %p errno %d", bad[i],
			      (void *)ms, errno);
	}
}
END_TEST

/* ---- the lifecycle table -------------------------------------------------------------- */

#define LC_NPAGES 100
#define LC_GFN	  0x100
#define LC_MOVED  0x400

/* Pages marked before the change: two in the first word, one in the last. */
static const uint64_t lc_marks[] = {3, 63, 99};
#define LC_NR_MARKS (sizeof(lc_marks) / sizeof(lc_marks[0]))

struct lc_case {
	int change;
	bool log_before, log_after;
};

static const struct lc_case lc_cases[] = {
	{MEMSLOTS_CREATE, false, false},     {MEMSLOTS_CREATE, false, true},
	{MEMSLOTS_DELETE, false, false},     {MEMSLOTS_DELETE, true, false},
	{MEMSLOTS_MOVE, false, false},	     {MEMSLOTS_MOVE, false, true},
	{MEMSLOTS_MOVE, true, false},	     {MEMSLOTS_MOVE, true, true},
	{MEMSLOTS_FLAGS_ONLY, false, true},  {MEMSLOTS_FLAGS_ONLY, true, false},
};

/*
 * What collecting slot 1 after the change must return, written out from
 * the contract's sentence rather than the model: -ENOENT after a DELETE,
 * -EINVAL without a bitmap, the old bits when kept, a new bitmap's
 * (all or none) otherwise.
 */
static int64_t lc_expect(const struct lc_case *c, uint32_t dirty_log)
{
	bool kept = c->change != MEMSLOTS_CREATE && c->log_before && c->log_after;

	if (c->change == MEMSLOTS_DELETE)
		return -ENOENT;
	if (!dirty_log || !c->log_after)
		return -EINVAL;
	if (kept)
		return (dirty_log & INIT) ? LC_NPAGES : (int64_t)LC_NR_MARKS;
	return (dirty_log & INIT) ? LC_NPAGES : 0;
}

static void lc_run(const struct lc_case *c, uint32_t dirty_log, bool batch)
{
	struct memslots_region r[2];
	struct ts_model before;
	struct tenv t;
	uint64_t gfn = c->change == MEMSLOTS_MOVE ? LC_MOVED : LC_GFN;
	size_t n = 0;
	int64_t got;

	tenv_init(&t, dirty_log, &ts_counting_rcu);
	/* A neighbour that logs and must not be disturbed. */
	tset(&t, 2, LOG, 0x1000, 70);
	tmark(&t, 0x1000 + 69, 1, false);
	if (c->change != MEMSLOTS_CREATE) {
		tset(&t, 1, c->log_before ? LOG : 0, LC_GFN, LC_NPAGES);
		for (size_t i = 0; i < LC_NR_MARKS; i++)
			ck_assert_uint_eq(tmark(&t, LC_GFN + lc_marks[i], 1, i % 2),
					  dirty_log && c->log_before);
	}
	r[n++] = ts_env_region(&t.e, 1, c->log_after ? LOG : 0, gfn,
			       c->change == MEMSLOTS_DELETE ? 0 : LC_NPAGES, 0x20000000);
	if (batch)
		r[n++] = ts_env_region(&t.e, 3, LOG, 0x2000, 10, 0x40000000);
	ts_model_copy(&before, &t.e.m);
	{
		struct ts_model_result res;

		ts_model_apply(&t.e.m, r, n, -1, 0, &res);
		ck_assert_int_eq(res.ret, 0);
		ck_assert_int_eq(res.change[0], c->change);
		ts_model_result_fini(&res);
	}
	ck_assert_int_eq(
		batch ? memslots_apply(t.e.ms, r, n, NULL) : memslots_set_region(t.e.ms, r), 0);
	ts_env_take_privs(&t.e);
	ts_dirty_model_follow(&t.d, &before, &t.e.m);
	ts_model_fini(&before);
	tenv_check(&t);

	got = tcollect_all(&t, 1);
	ck_assert_msg(got == lc_expect(c, dirty_log),
		      "change %d, log %d -> %d, dirty_log %#x, %s: collect %lld, expected %lld",
		      c->change, c->log_before, c->log_after, dirty_log, batch ? "batch" : "single",
		      (long long)got, (long long)lc_expect(c, dirty_log));
	/* Marks after the change land where the new slot's bitmap says. */
	if (c->change != MEMSLOTS_DELETE)
		ck_assert_uint_eq(tmark(&t, gfn + 50, 20, false),
				  dirty_log && c->log_after ? 20 : 0);
	ck_assert_int_eq(tcollect_all(&t, 2), dirty_log ? ((dirty_log & INIT) ? 70 : 1) : -EINVAL);
	tenv_fini(&t);
}

START_TEST(test_lifecycle)
{
	static const uint32_t logs[] = {0, BM, BM | INIT};

	for (size_t i = 0; i < sizeof(lc_cases) / sizeof(lc_cases[0]); i++)
		for (size_t j = 0; j < 3; j++)
			for (int batch = 0; batch < 2; batch++)
				lc_run(&lc_cases[i], logs[j], batch);
}
END_TEST

/* ---- merge and collect: arguments ------------------------------------------------------ */

START_TEST(test_merge_collect_errors)
{
	uint64_t w[4] = {~0ull, ~0ull, ~0ull, ~0ull};
	const struct memslots_set *set;
	struct tenv t;

	tenv_init(&t, BM, &ts_counting_rcu);
	tset(&t, 1, LOG, 0x100, 130);
	tset(&t, 2, 0, 0x400, 64);
	set = memslots_read_lock(t.e.ms);

	/* -ENOENT first: whatever else is wrong. */
	ck_assert_int_eq(memslots_dirty_merge(set, 5, NULL, 1, UINT64_MAX), -ENOENT);
	ck_assert_int_eq(memslots_dirty_collect(set, 5, NULL, 1, UINT64_MAX), -ENOENT);
	ck_assert_int_eq(memslots_dirty_collect(set, 63, w, 0, 1), -ENOENT);
	ck_assert_int_eq(memslots_dirty_collect(set, 64, w, 0, 1), -ENOENT); /* >= max_slots */
	ck_assert_int_eq(memslots_dirty_collect(set, UINT16_MAX, w, 0, 1), -ENOENT);
	ck_assert_int_eq(memslots_dirty_merge(NULL, 1, w, 0, 1), -ENOENT);
	ck_assert_int_eq(memslots_dirty_collect(NULL, 1, w, 0, 1), -ENOENT);
	/* A slot without a bitmap, even for nothing. */
	ck_assert_int_eq(memslots_dirty_merge(set, 2, w, 0, 1), -EINVAL);
	ck_assert_int_eq(memslots_dirty_collect(set, 2, w, 0, 0), -EINVAL);
	/* first % 64, the end, the wrap, a NULL bitmap. */
	ck_assert_int_eq(memslots_dirty_merge(set, 1, w, 1, 1), -EINVAL);
	ck_assert_int_eq(memslots_dirty_collect(set, 1, w, 32, 0), -EINVAL);
	ck_assert_int_eq(memslots_dirty_merge(set, 1, w, 0, 131), -EINVAL);
	ck_assert_int_eq(memslots_dirty_collect(set, 1, w, 128, 3), -EINVAL);
	ck_assert_int_eq(memslots_dirty_collect(set, 1, w, 192, 0), -EINVAL);
	ck_assert_int_eq(memslots_dirty_merge(set, 1, w, UINT64_MAX - 63, 128), -EINVAL);
	ck_assert_int_eq(memslots_dirty_collect(set, 1, w, 64, UINT64_MAX - 10), -EINVAL);
	ck_assert_int_eq(memslots_dirty_merge(set, 1, NULL, 0, 1), -EINVAL);
	ck_assert_int_eq(memslots_dirty_collect(set, 1, NULL, 0, 1), -EINVAL);
	/* npages 0 is valid and does nothing, even at the very end. */
	ck_assert_int_eq(memslots_dirty_merge(set, 1, NULL, 0, 0), 0);
	ck_assert_int_eq(memslots_dirty_merge(set, 1, w, 128, 0), 0);
	ck_assert_int_eq(memslots_dirty_collect(set, 1, NULL, 64, 0), 0);
	memslots_read_unlock(t.e.ms);
	/* None of the above changed a bit. */
	ck_assert_int_eq(tcollect_all(&t, 1), 0);
	/* Without dirty_log, a LOG_DIRTY_PAGES slot has no bitmap either. */
	tenv_fini(&t);
	tenv_init(&t, 0, &ts_counting_rcu);
	tset(&t, 1, LOG, 0x100, 130);
	set = memslots_read_lock(t.e.ms);
	ck_assert_int_eq(memslots_dirty_merge(set, 1, w, 0, 1), -EINVAL);
	ck_assert_uint_eq(memslots_dirty_mark(set, 0x100, 130), 0);
	memslots_read_unlock(t.e.ms);
	tenv_fini(&t);
}
END_TEST

/* ---- partial collects, merges, marks across slots -------------------------------------- */

START_TEST(test_collect_partial)
{
	const struct memslots_set *set;
	uint64_t out[4];
	struct tenv t;

	tenv_init(&t, BM, &ts_counting_rcu);
	tset(&t, 1, LOG, 0x100, 200);
	ck_assert_uint_eq(tmark(&t, 0x100, 200, false), 200);
	set = memslots_read_lock(t.e.ms);
	/* Pages [64, 134): one whole word, then 6 bits of the next. */
	memset(out, 0, sizeof(out));
	out[1] = 0xf0ull << 4; /* the caller's bits past npages stay */
	ck_assert_int_eq(memslots_dirty_collect(set, 1, out, 64, 70), 70);
	ck_assert_uint_eq(out[0], UINT64_MAX);
	ck_assert_uint_eq(out[1], 0x3full | (0xf0ull << 4));
	ck_assert_uint_eq(out[2], 0);
	/* Again: nothing left in the range, the rest still there. */
	memset(out, 0, sizeof(out));
	ck_assert_int_eq(memslots_dirty_collect(set, 1, out, 64, 70), 0);
	ck_assert_int_eq(memslots_dirty_collect(set, 1, out, 128, 1), 0);
	ck_assert_int_eq(memslots_dirty_collect(set, 1, out, 128, 7), 1);
	ck_assert_uint_eq(out[0], 0x40);
	memslots_read_unlock(t.e.ms);
	/* The model sees the same: it did the same through tmark. */
	{
		uint64_t m[4] = {0};

		ts_dirty_model_collect(&t.d, &t.e.m, 1, m, 64, 70);
		ts_dirty_model_collect(&t.d, &t.e.m, 1, m, 128, 7);
	}
	ck_assert_int_eq(tcollect_all(&t, 1), 200 - 71);
	/* A merge ORs, ignores the caller's bits past npages, and partial. */
	set = memslots_read_lock(t.e.ms);
	memset(out, 0, sizeof(out));
	out[0] = 0x5;
	out[1] = ~0ull; /* only 8 of these are pages of the range */
	ck_assert_int_eq(memslots_dirty_merge(set, 1, out, 128, 72), 0);
	memset(out, 0, sizeof(out));
	ck_assert_int_eq(memslots_dirty_collect(set, 1, out, 0, 200), 2 + 8);
	ck_assert_uint_eq(out[2], 0x5);
	ck_assert_uint_eq(out[3], 0xff);
	memslots_read_unlock(t.e.ms);
	tenv_fini(&t);
}
END_TEST

START_TEST(test_mark_ranges)
{
	struct tenv t;

	tenv_init(&t, BM, &ts_counting_rcu);
	tset(&t, 1, LOG, 100, 50); /* [100, 150) */
	tset(&t, 2, 0, 150, 20);   /* [150, 170): no bitmap */
	tset(&t, 3, LOG, 200, 100); /* hole [170, 200), then [200, 300) */
	ck_assert_uint_eq(tmark(&t, 120, 200, false), 30 + 100);
	ck_assert_uint_eq(tmark(&t, 0, 100, true), 0);
	ck_assert_uint_eq(tmark(&t, 0, 101, true), 1);
	ck_assert_uint_eq(tmark(&t, 170, 30, false), 0);
	ck_assert_uint_eq(tmark(&t, 175, 26, true), 1);
	ck_assert_uint_eq(tmark(&t, 149, 2, false), 1);
	ck_assert_uint_eq(tmark(&t, 299, 1, false), 1);
	ck_assert_uint_eq(tmark(&t, 300, 1, true), 0);
	ck_assert_uint_eq(tmark(&t, 140, 0, false), 0);
	/* Past 2^64: stops there. */
	ck_assert_uint_eq(tmark(&t, 250, UINT64_MAX, false), 50);
	ck_assert_uint_eq(tmark(&t, UINT64_MAX - 3, 10, true), 0);
	ck_assert_uint_eq(tmark(&t, 0, UINT64_MAX, true), 150);
	/* A NULL set or cache. */
	ck_assert_uint_eq(memslots_dirty_mark(NULL, 120, 1), 0);
	ck_assert_uint_eq(memslots_dirty_mark_cached(NULL, NULL, 120, 1), 0);
	{
		const struct memslots_set *set = memslots_read_lock(t.e.ms);

		ck_assert_uint_eq(memslots_dirty_mark_cached(set, NULL, 120, 3), 3);
		memslots_read_unlock(t.e.ms);
		ts_dirty_model_mark(&t.d, &t.e.m, 120, 3);
	}
	tenv_fini(&t);
}
END_TEST

/* Random requests, marks, merges and collects against both models. */
START_TEST(test_random_ops)
{
	struct tenv t;
	struct ts_rng *rng;
	size_t steps = ts_scaled(3000, 10);

	tenv_init(&t, _i ? BM | INIT : BM, &ts_counting_rcu);
	rng = &t.e.rng;

	for (size_t step = 0; step < steps; step++) {
		unsigned int op = (unsigned int)ts_rng_below(rng, 10);
		uint16_t id = (uint16_t)ts_rng_below(rng, 8);
		const struct memslots_set *set;
		uint64_t buf[8], mbuf[8];

		if (op < 3) {
			struct memslots_region r =
				ts_env_region(&t.e, id, ts_rng_below(rng, 2) ? LOG : 0,
					      ts_rng_below(rng, 32) * 64,
					      ts_rng_below(rng, 4) ? 1 + ts_rng_below(rng, 200) : 0,
					      0x10000000ull * (id + 1));
			struct ts_model_slot old = t.e.m.slot[id];
			int change, err;

			/* an existing slot keeps its size: moves and flag changes */
			if (t.e.m.slot[id].present && r.memory_size)
				r.memory_size = t.e.m.slot[id].npages << 12;
			err = ts_model_classify(&t.e.m, &r, &change);
			ck_assert_int_eq(memslots_set_region(t.e.ms, &r), err);
			if (err)
				continue;
			ts_model_commit(&t.e.m, &r, change);
			ts_env_take_privs(&t.e);
			ts_dirty_model_change(&t.d, id, old.present ? &old : NULL, &t.e.m.slot[id]);
			continue;
		}
		if (op < 6) {
			tmark(&t, ts_rng_below(rng, 32 * 64 + 300), 1 + ts_rng_below(rng, op * 40),
			      op % 2);
			continue;
		}
		uint64_t first = ts_rng_below(rng, 4) * 64 + (ts_rng_below(rng, 8) ? 0 : 1);
		uint64_t np = ts_rng_below(rng, 260);

		for (int i = 0; i < 8; i++)
			buf[i] = mbuf[i] = ts_rng_next(rng);
		set = memslots_read_lock(t.e.ms);
		if (op < 8) {
			ck_assert_int_eq(memslots_dirty_merge(set, id, buf, first, np),
					 ts_dirty_model_merge(&t.d, &t.e.m, id, mbuf, first, np));
		} else {
			ck_assert_int_eq(memslots_dirty_collect(set, id, buf, first, np),
					 ts_dirty_model_collect(&t.d, &t.e.m, id, mbuf, first, np));
			ck_assert_mem_eq(buf, mbuf, sizeof(buf));
		}
		memslots_read_unlock(t.e.ms);
		if (step % 100 == 0)
			tenv_check(&t);
	}
	tenv_fini(&t);
}
END_TEST

/* ---- the INVALID copy shares the old bitmap -------------------------------------------- */

/* From the invalidate hook: marks page 5 of the slot being deleted or moved
 * through the published set, where it is the INVALID copy. */
static void mark_in_invalidate(struct ts_hooks *h, const struct ts_event *ev)
{
	const struct memslots_set *set;
	uint64_t w = 1ull << 9;

	if (ev->hook != TS_INVALIDATE)
		return;
	set = memslots_read_lock(h->ms);
	TS_CHECK(memslots_find_gfn(set, ev->old_ptr->base_gfn + 5) == ev->old_ptr,
		 "the published slot is not the INVALID copy");
	TS_CHECK(ev->old_ptr->flags & MEMSLOT_INVALID, "not INVALID");
	TS_CMP(memslots_dirty_mark(set, ev->old_ptr->base_gfn + 5, 1), ==,
	       (ev->old_ptr->flags & LOG) ? 1 : 0);
	/* and a merge through the copy's id, page 9 */
	TS_CMP(memslots_dirty_merge(set, ev->old_ptr->id, &w, 0, 64), ==,
	       (ev->old_ptr->flags & LOG) ? 0 : -EINVAL);
	memslots_read_unlock(h->ms);
}

START_TEST(test_invalid_copy_shares)
{
	static const struct {
		int change;
		uint32_t before, after;
		int64_t expect; /* collect of slot 1 afterwards */
	} cases[] = {
		{MEMSLOTS_MOVE, LOG, LOG, 2},	   /* kept: pages 5 and 9 */
		{MEMSLOTS_MOVE, LOG, 0, -EINVAL},  /* dropped with its marks */
		{MEMSLOTS_MOVE, 0, LOG, 0},	   /* a new one: nothing through the copy */
		{MEMSLOTS_DELETE, LOG, 0, -ENOENT}, /* dropped, freed (no leak) */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tenv t;
		uint64_t out[2] = {0};
		const struct memslots_set *set;
		bool del = cases[i].change == MEMSLOTS_DELETE;
		struct memslots_region r;

		tenv_init(&t, BM, &ts_counting_rcu);
		tset(&t, 1, cases[i].before, 0x100, 64);
		t.e.hooks.on_event = mark_in_invalidate;
		r = ts_env_region(&t.e, 1, cases[i].after, 0x800, del ? 0 : 64, 0x20000000);
		ck_assert_int_eq(memslots_set_region(t.e.ms, &r), 0);
		t.e.hooks.on_event = NULL;
		set = memslots_read_lock(t.e.ms);
		ck_assert_int_eq(memslots_dirty_collect(set, 1, out, 0, 64), cases[i].expect);
		if (cases[i].expect > 0)
			ck_assert_uint_eq(out[0], (1ull << 5) | (1ull << 9));
		memslots_read_unlock(t.e.ms);
		/* bring the models along; the collect above emptied the bitmap */
		{
			struct ts_model_slot old = t.e.m.slot[1];
			int change;

			ck_assert_int_eq(ts_model_classify(&t.e.m, &r, &change), 0);
			ts_model_commit(&t.e.m, &r, change);
			ts_env_take_privs(&t.e);
			ts_dirty_model_change(&t.d, 1, &old, &t.e.m.slot[1]);
		}
		tenv_fini(&t);
	}
}
END_TEST

/*
 * A reader thread holds the set from before a MOVE that keeps logging,
 * and marks through the old (valid) slot while the writer's call is in
 * flight (the prepare hook has run; the writer then waits for the
 * reader): the mark must be in the moved slot's bitmap afterwards.
 */
struct held {
	struct memslots *ms;
	atomic_int stage; /* 1: reader holds the set, 2: writer prepared, 3: marked */
	uint64_t marked;
};

static void *held_reader(void *arg)
{
	struct held *h = arg;
	const struct memslots_set *set;

	memslots_reader_register(h->ms);
	set = memslots_read_lock(h->ms);
	atomic_store(&h->stage, 1);
	while (atomic_load(&h->stage) < 2)
		sched_yield();
	{
		struct timespec ts = {0, 20 * 1000 * 1000};

		nanosleep(&ts, NULL); /* the writer is most likely waiting for us now */
	}
	h->marked = memslots_dirty_mark(set, 0x100 + 7, 1);
	memslots_read_unlock(h->ms);
	memslots_reader_unregister(h->ms);
	return NULL;
}

static struct held *held_now;

static void held_on_prepare(struct ts_hooks *hk, const struct ts_event *ev)
{
	(void)hk;
	if (ev->hook == TS_PREPARE)
		atomic_store(&held_now->stage, 2);
}

START_TEST(test_held_set_through_move)
{
	const struct memslots_rcu *rcu = NULL;
	struct held h = {0};
	const struct memslots_set *set;
	uint64_t out = 0;
	pthread_t th;
	struct tenv t;

#ifdef TS_CONC_TSAN
	ts_rwlock_rcu_init();
	rcu = &ts_rwlock_rcu;
#endif
	tenv_init(&t, BM, rcu);
	tset(&t, 1, LOG, 0x100, 64);
	h.ms = t.e.ms;
	held_now = &h;
	ck_assert_int_eq(pthread_create(&th, NULL, held_reader, &h), 0);
	while (atomic_load(&h.stage) < 1)
		sched_yield();
	t.e.hooks.on_event = held_on_prepare;
	tset(&t, 1, LOG, 0x800, 64);
	t.e.hooks.on_event = NULL;
	pthread_join(th, NULL);
	ck_assert_uint_eq(h.marked, 1);
	set = memslots_read_lock(t.e.ms);
	ck_assert_int_eq(memslots_dirty_collect(set, 1, &out, 0, 64), 1);
	ck_assert_uint_eq(out, 1ull << 7);
	memslots_read_unlock(t.e.ms);
	tenv_fini(&t);
}
END_TEST

/* ---- allocation failure at every site -------------------------------------------------- */

#define MAX_K 10000

/*
 * Fails the k-th allocation of the call for k = 1, 2, ... until it
 * succeeds: each failure is -ENOMEM with the slots, the bits, the
 * generation and the live allocations as they were.  Returns how many
 * failed.
 */
static size_t enomem_loop(struct tenv *t, const struct memslots_region *r, size_t n)
{
	struct ts_model_result res;
	struct ts_model before, after;
	size_t k, failures = 0;

	ts_model_copy(&before, &t->e.m);
	ts_model_copy(&after, &t->e.m);
	ts_model_apply(&after, r, n, -1, 0, &res);
	ck_assert_int_eq(res.ret, 0);
	for (k = 1; k < MAX_K; k++) {
		uint64_t gen = ts_generation(t->e.ms);
		size_t live = t->e.ac.live;
		int ret;

		t->e.ac.fail_at = t->e.ac.calls + k;
		ret = n == 1 ? memslots_set_region(t->e.ms, r)
			     : memslots_apply(t->e.ms, r, n, NULL);
		t->e.ac.fail_at = 0;
		if (!ret)
			break;
		ck_assert_int_eq(ret, -ENOMEM);
		ck_assert_uint_eq(ts_generation(t->e.ms), gen);
		ck_assert_msg(t->e.ac.live == live, "allocation %zu fails: %zu live, were %zu", k,
			      t->e.ac.live, live);
		failures++;
		ts_model_check(&t->e.m, t->e.ms, &t->e.rng, 4);
		tenv_check(t);
	}
	ck_assert_uint_lt(k, MAX_K);
	ts_model_assign(&t->e.m, &after);
	ts_env_take_privs(&t->e);
	ts_dirty_model_follow(&t->d, &before, &t->e.m);
	tenv_check(t);
	ts_model_result_fini(&res);
	ts_model_fini(&before);
	ts_model_fini(&after);
	return failures;
}

/* Eight slots, ids 1-8, half of them logging, a few pages marked. */
static void enomem_base(struct tenv *t, uint32_t dirty_log)
{
	tenv_init(t, dirty_log, &ts_counting_rcu);
	for (unsigned int id = 1; id <= 8; id++) {
		tset(t, id, id % 2 ? LOG : 0, 0x100 * id, 0x40 + id);
		tmark(t, 0x100 * id + id, 3, false);
	}
}

START_TEST(test_enomem_single)
{
	static const struct {
		uint32_t id, flags;
		uint64_t gfn, npages;
		bool makes; /* a bitmap: one more allocation site */
	} singles[] = {
		{20, LOG, 0x2000, 0x80, true}, /* create with a bitmap */
		{2, LOG, 0x200, 0x42, true},   /* flags-only: a new bitmap */
		{1, 0, 0x100, 0x41, false},    /* flags-only: dropped */
		{3, LOG, 0x3000, 0x43, false}, /* move, kept */
		{4, LOG, 0x4000, 0x44, true},  /* move, a new bitmap */
		{5, 0, 0, 0, false},	       /* delete, dropped */
	};
	static const uint32_t logs[] = {0, BM, BM | INIT};

	for (size_t i = 0; i < sizeof(singles) / sizeof(singles[0]); i++) {
		size_t fails[3];

		for (size_t j = 0; j < 3; j++) {
			struct memslots_region r;
			struct tenv t;

			enomem_base(&t, logs[j]);
			r = ts_env_region(&t.e, singles[i].id, singles[i].flags, singles[i].gfn,
					  singles[i].npages, 0x10000000ull * (singles[i].id + 1));
			fails[j] = enomem_loop(&t, &r, 1);
			tenv_fini(&t);
		}
		ck_assert_uint_eq(fails[1], fails[0] + singles[i].makes);
		ck_assert_uint_eq(fails[2], fails[0] + singles[i].makes);
	}
}
END_TEST

/* Logging turned on for every slot in one batch (and a mixed batch): the
 * bitmaps' allocations are among the sites, and each one fails clean. */
START_TEST(test_enomem_batch)
{
	size_t fails[2];

	for (int with = 0; with < 2; with++) {
		struct memslots_region r[8];
		struct tenv t;

		enomem_base(&t, with ? BM : 0);
		for (unsigned int id = 1; id <= 8; id++)
			r[id - 1] = ts_env_region(&t.e, id, LOG, 0x100 * id, 0x40 + id,
						  0x10000000ull * (id + 1));
		fails[with] = enomem_loop(&t, r, 8);
		tenv_fini(&t);
	}
	/* The four bitmaps that batch makes are four more sites. */
	ck_assert_uint_ge(fails[1], fails[0] + 4);
	{
		struct memslots_region r[6];
		struct tenv t;

		enomem_base(&t, BM | INIT);
		r[0] = ts_env_region(&t.e, 1, 0, 0, 0, 0);			/* delete */
		r[1] = ts_env_region(&t.e, 2, LOG, 0x100, 0x42, 0x30000000);	/* move in */
		r[2] = ts_env_region(&t.e, 3, 0, 0x300, 0x43, 0x40000000);	/* drop */
		r[3] = ts_env_region(&t.e, 5, LOG, 0x5000, 0x45, 0x60000000);	/* move, kept */
		r[4] = ts_env_region(&t.e, 20, LOG, 0x6000, 0x100, 0x70000000); /* create */
		r[5] = ts_env_region(&t.e, 6, LOG, 0x600, 0x46, 0x70000000);	/* enable */
		enomem_loop(&t, r, 6);
		tenv_fini(&t);
	}
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------------- */

static Suite *dirty_suite(void)
{
	Suite *s = suite_create("dirty");
	TCase *tc;

	tc = tcase_create("api");
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_merge_collect_errors);
	tcase_add_test(tc, test_collect_partial);
	tcase_add_test(tc, test_mark_ranges);
	tcase_add_loop_test(tc, test_random_ops, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("lifecycle");
	tcase_add_test(tc, test_lifecycle);
	tcase_add_test(tc, test_invalid_copy_shares);
	tcase_add_test(tc, test_held_set_through_move);
	suite_add_tcase(s, tc);
	tc = tcase_create("enomem");
	tcase_add_test(tc, test_enomem_single);
	tcase_add_test(tc, test_enomem_batch);
	suite_add_tcase(s, tc);
	dirty_add_concurrency_cases(s);
	return s;
}

int main(void)
{
	return ts_run_suite(dirty_suite());
}
