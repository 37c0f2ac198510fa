// SPDX-License-Identifier: MIT
/*
 * A property test: thousands of random requests, valid and invalid, as
 * single memslots_set_region() calls and as memslots_apply() batches, with
 * random prepare failures, each checked against the reference model of
 * tests/support/model.h: the return code and failed index, the hooks,
 * whether the generation moved, and then the whole state and random
 * lookups.  The v2 runs do the same through memslots_set_region2() and
 * memslots_apply2(), with guest_memfd slots among the requests, configs
 * that allow fewer flags, and address spaces other than 0.
 *
 * The gfn, hva and guest_memfd spaces are tiny so that overlaps, touching
 * ranges, bound ranges, id collisions and duplicate ids in a batch are
 * frequent.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "model.h"
#include "ts_check.h"
#include "ts_scale.h"

#define LOG  MEMSLOT_LOG_DIRTY_PAGES
#define RO   MEMSLOT_READONLY
#define GMEM MEMSLOT_GUEST_MEMFD

struct params {
	uint64_t seed;
	unsigned int page_shift;
	unsigned int max_slots;
	uint64_t gfn_space;    /* pages */
	uint64_t hva_space;    /* pages */
	uint64_t hva_limit;    /* bytes, 0: none */
	unsigned int fail_pct; /* steps with a failing prepare */
	unsigned int steps;
	/* v2: the KVM 6.x calls, guest_memfd slots among the requests */
	bool v2;
	uint32_t allowed_flags; /* config; 0: all */
	uint16_t as_id;		/* config */
	unsigned int gmem_fds;	/* fd numbers 0 .. gmem_fds - 1 */
	uint64_t gmem_space;	/* pages of guest_memfd offsets */
};

/* LOG_DIRTY_PAGES and READONLY, mostly among those the config allows. */
static uint32_t rnd_flags(const struct ts_model *m, struct ts_rng *rng)
{
	uint32_t flags = (uint32_t)ts_rng_below(rng, 4);

	return ts_rng_below(rng, 10) ? flags & m->allowed_flags : flags;
}

/* A guest_memfd create for @slot: a small fd number, a page-aligned offset. */
static struct memslots_region2 gen_gmem_create(const struct ts_model *m, const struct params *p,
					       struct ts_rng *rng, uint32_t slot)
{
	unsigned int sh = m->page_shift;
	struct memslots_region2 r =
		ts_model_widen2(sh, slot, GMEM, ts_rng_below(rng, p->gfn_space),
				1 + ts_rng_below(rng, 8), ts_rng_below(rng, p->hva_space) << sh);

	r.guest_memfd = (uint32_t)ts_rng_below(rng, p->gmem_fds);
	r.guest_memfd_offset = ts_rng_below(rng, p->gmem_space) << sh;
	return r;
}

/* One of the ways a v2 request can break a rule of its own. */
static void break_v2(struct memslots_region2 *r, const struct ts_model *m, struct ts_rng *rng)
{
	uint64_t ps = 1ull << m->page_shift;

	switch (ts_rng_below(rng, 5)) {
	case 0: /* GUEST_MEMFD with a flag it excludes */
		r->flags |= GMEM | (ts_rng_below(rng, 2) ? LOG : RO);
		break;
	case 1:
		r->flags |= GMEM;
		r->guest_memfd_offset += ps / 2;
		break;
	case 2: /* offset + size wraps */
		r->flags |= GMEM;
		r->guest_memfd_offset = 0 - ps * ts_rng_below(rng, 3);
		break;
	case 3: /* another address space, next to the config's */
		r->slot = (r->slot & 0xffff) | (uint32_t)(uint16_t)(m->as_id + 1) << 16;
		break;
	default: /* GUEST_MEMFD toggled on an existing slot */
		r->flags ^= GMEM;
		r->flags &= ~(LOG | RO);
		break;
	}
}

/* A request that is mostly plausible, sometimes broken in one way. */
static struct memslots_region2 gen_request(const struct ts_model *m, const struct params *p,
					   struct ts_rng *rng)
{
	unsigned int sh = m->page_shift;
	uint64_t ps = 1ull << sh;
	unsigned int id = (unsigned int)ts_rng_below(rng, m->max_slots);
	uint32_t slot = (uint32_t)m->as_id << 16 | id;
	const struct ts_model_slot *s = &m->slot[id];
	struct memslots_region2 r;
	unsigned int kind = (unsigned int)ts_rng_below(rng, 100);

	if (p->v2 && (!s->present || kind < 30) && ts_rng_below(rng, 100) < 40) {
		r = gen_gmem_create(m, p, rng, slot);
	} else if (!s->present || kind < 30) {
		/* create (or, on an existing id, most likely an -EINVAL) */
		r = ts_model_widen2(sh, slot, rnd_flags(m, rng), ts_rng_below(rng, p->gfn_space),
				    1 + ts_rng_below(rng, 8),
				    ts_rng_below(rng, p->hva_space) << sh);
	} else if (kind < ((s->flags & GMEM) ? 75 : 50)) {
		/* delete; most requests on a guest_memfd slot, the only change it takes */
		r = ts_model_widen2(sh, slot, 0, 0, 0, 0);
	} else if (kind < 70) {
		/* move, maybe with a LOG_DIRTY_PAGES change */
		r = ts_model_widen2(sh, slot,
				    (s->flags & (RO | GMEM)) | (uint32_t)ts_rng_below(rng, 2),
				    ts_rng_below(rng, p->gfn_space), s->npages, s->hva);
	} else if (kind < 85) {
		r = ts_model_widen2(sh, slot, s->flags ^ LOG, s->base_gfn, s->npages, s->hva);
	} else {
		r = ts_model_widen2(sh, slot, s->flags, s->base_gfn, s->npages, s->hva); /* no-op */
	}
	if (s->present && (s->flags & GMEM) && kind >= 30) {
		/* the same guest_memfd range: still refused unless a delete */
		r.guest_memfd = s->gmem_fd;
		r.guest_memfd_offset = s->gmem_offset;
	}

	if (ts_rng_below(rng, 5))
		return r;
	/* break one rule */
	switch (ts_rng_below(rng, p->v2 ? 16 : 14)) {
	case 0:
		r.flags |= 1u << (2 + ts_rng_below(rng, 30));
		break;
	case 1:
		r.memory_size += ps / 2;
		break;
	case 2:
		r.guest_phys_addr += ps / 2;
		break;
	case 3:
		r.userspace_addr += ps / 2;
		break;
	case 4:
		r.slot |= (uint32_t)(1 + ts_rng_below(rng, 0xffff)) << 16;
		break;
	case 5:
		r.slot = (uint32_t)m->as_id << 16 | (m->max_slots + (uint32_t)ts_rng_below(rng, 3));
		if ((r.slot & 0xffff) < m->max_slots)
			r.slot |= 0xffff;
		break;
	case 6:
		r.flags ^= RO;
		break;
	case 7:
		r.memory_size += ps;
		break;
	case 8:
		r.userspace_addr += ps;
		break;
	case 9:
		r.memory_size = (MEMSLOTS_MAX_NR_PAGES + 1) << sh;
		break;
	case 10:
		r.guest_phys_addr = 0 - 2 * ps;
		r.memory_size = 4 * ps;
		break;
	case 11:
		r.userspace_addr = 0 - 2 * ps;
		r.memory_size = 4 * ps;
		break;
	case 12:
		r.userspace_addr = (p->hva_limit ? p->hva_limit : 1ull << 48) - ps;
		r.memory_size = 2 * ps;
		break;
	case 13:
		r.flags |= MEMSLOT_INVALID;
		break;
	default:
		break_v2(&r, m, rng);
		break;
	}
	return r;
}

/* Ids of the changes (in order) that prepare saw. */
static void check_prepares(const struct ts_hooks *h, const struct memslots_region2 *r,
			   const struct ts_model_result *res, size_t nr, uint64_t step)
{
	size_t k = 0;

	for (size_t i = 0; i < h->n; i++) {
		const struct ts_event *ev = &h->ev[i];
		unsigned int id;

		if (ev->hook != TS_PREPARE)
			continue;
		TS_CHECK(k < nr, "step %llu: prepare #%zu was not expected",
			 (unsigned long long)step, k);
		id = ev->has_new ? ev->new.id : ev->old.id;
		TS_CHECK(ev->change == res->change[k] && id == (r[res->index[k]].slot & 0xffff),
			 "step %llu: prepare #%zu is change %d of id %u, expected change %d of id "
			 "%u",
			 (unsigned long long)step, k, ev->change, id, res->change[k],
			 r[res->index[k]].slot & 0xffff);
		k++;
	}
	TS_CHECK(k == nr, "step %llu: %zu prepare calls, expected %zu", (unsigned long long)step, k,
		 nr);
}

/* The first five fields of a v2 request: what a v1 call gets. */
static void narrow_all(const struct memslots_region2 *r, size_t n, struct memslots_region *out)
{
	for (size_t i = 0; i < n; i++)
		memcpy(&out[i], &r[i], sizeof(out[i]));
}

/* The model's prediction, through the v1 or the v2 calls as the run uses. */
static void apply_model(const struct params *p, struct ts_model *m,
			const struct memslots_region2 *r, size_t n, int fail_id, int fail_err,
			struct ts_model_result *res)
{
	struct memslots_region r1[8];

	if (p->v2) {
		ts_model_apply2(m, r, n, fail_id, fail_err, res);
		return;
	}
	narrow_all(r, n, r1);
	ts_model_apply(m, r1, n, fail_id, fail_err, res);
}

static int apply_engine(const struct params *p, struct memslots *ms,
			const struct memslots_region2 *r, size_t n, bool single, size_t *failed)
{
	struct memslots_region r1[8];

	if (p->v2)
		return single ? memslots_set_region2(ms, r) : memslots_apply2(ms, r, n, failed);
	narrow_all(r, n, r1);
	return single ? memslots_set_region(ms, r1) : memslots_apply(ms, r1, n, failed);
}

static void run(const struct params *p)
{
	unsigned int steps = (unsigned int)ts_scaled(p->steps, 60);
	unsigned int order_discrepancies = 0, first_discrepancy = 0;
	unsigned int nr_ok = 0, nr_fail = 0, nr_changes = 0, nr_prep_fail = 0, nr_gmem = 0;
	struct memslots_region2 r[8];
	struct ts_rng rng;
	struct ts_env e;

	ts_rng_seed(&rng, p->seed);
	ts_env_init_surface(&e, p->page_shift, p->max_slots, p->hva_limit, &ts_counting_rcu,
			    p->allowed_flags, p->as_id);
	e.hooks.set_priv = true;

	for (unsigned int step = 0; step < steps; step++) {
		bool single = ts_rng_below(&rng, 3) == 0;
		size_t n = single ? 1 : ts_rng_below(&rng, 7);
		struct ts_model_result res, vf;
		struct ts_model after, scratch;
		uint64_t gen0 = ts_generation(e.ms), gen1;
		unsigned long syncs = ts_rcu.synchronize;
		size_t failed = 999, i;
		int ret, fail_id = -1, fail_err = -EIO;
		bool ok;

		/* requests see the state as the earlier requests left it */
		ts_model_copy(&scratch, &e.m);
		for (i = 0; i < n; i++) {
			int change;

			r[i] = gen_request(&scratch, p, &rng);
			if (!ts_model_classify2_why(&scratch, &r[i], !p->v2, &change, NULL))
				ts_model_commit2(&scratch, &r[i], change);
		}
		ts_model_fini(&scratch);
		if (ts_rng_below(&rng, 100) < p->fail_pct) {
			static const int errs[] = {-EIO, -ENOSPC, -EFAULT, -EPERM};

			fail_id = (int)ts_rng_below(&rng, p->max_slots);
			fail_err = errs[ts_rng_below(&rng, 4)];
		}

		ts_model_copy(&after, &e.m);
		apply_model(p, &after, r, n, fail_id, fail_err, &res);
		/*
		 * What an engine that validates every request before running any
		 * prepare would return: a later invalid request instead of an
		 * earlier failing prepare.
		 */
		ts_model_copy(&scratch, &e.m);
		apply_model(p, &scratch, r, n, -1, 0, &vf);
		if (!vf.ret) {
			vf.ret = res.ret;
			vf.failed_index = res.failed_index;
		}
		ts_model_fini(&scratch);

		ts_hooks_clear(&e.hooks);
		e.hooks.fail_id = fail_id;
		e.hooks.fail_err = fail_err;
		ret = apply_engine(p, e.ms, r, n, single, &failed);
		e.hooks.fail_id = -1;
		gen1 = ts_generation(e.ms);

		ok = ret == res.ret || ret == res.alt_ret;
		if (ok && ret && !single)
			ok = failed == res.failed_index;
		if (!ok && res.prepare_failed && ret == vf.ret &&
		    (single || failed == vf.failed_index)) {
			/* reported once at the end; keep checking everything else */
			if (!order_discrepancies++)
				first_discrepancy = step;
			ok = true;
		}
		TS_CHECK(ok,
			 "seed %llu step %u (%s of %zu): expected %d at index %zu, got %d at index "
			 "%zu",
			 (unsigned long long)p->seed, step, single ? "set_region" : "apply", n,
			 res.ret, res.failed_index, ret, failed);

		if (ret) {
			nr_fail++;
			nr_prep_fail += res.prepare_failed;
			TS_CMP(gen1, ==, gen0);
			TS_CMP(ts_rcu.synchronize, ==, syncs);
			ts_check_rolled_back(&e.hooks, ret == res.ret && res.prepare_failed);
		} else {
			size_t nr_inval = 0;

			nr_ok++;
			nr_changes += res.nr_changes;
			for (i = 0; i < res.nr_changes; i++)
				nr_gmem += res.change[i] == MEMSLOTS_CREATE &&
					   (r[res.index[i]].flags & GMEM);
			check_prepares(&e.hooks, r, &res, res.nr_changes, step);
			for (i = 0; i < res.nr_changes; i++)
				nr_inval += res.change[i] == MEMSLOTS_DELETE ||
					    res.change[i] == MEMSLOTS_MOVE;
			TS_CMP(ts_hooks_count(&e.hooks, TS_INVALIDATE), ==, nr_inval);
			TS_CMP(ts_hooks_count(&e.hooks, TS_COMMIT), ==, res.nr_changes);
			TS_CMP(ts_hooks_count(&e.hooks, TS_ABORT), ==, 0);
			if (res.nr_changes) {
				TS_CHECK(gen1 > gen0,
					 "seed %llu step %u: generation did not increase",
					 (unsigned long long)p->seed, step);
				TS_CMP(ts_rcu.synchronize - syncs, ==, 1u + res.invalidates);
			} else {
				TS_CHECK(gen1 == gen0, "seed %llu step %u: a no-op published",
					 (unsigned long long)p->seed, step);
				TS_CMP(ts_rcu.synchronize, ==, syncs);
			}
			ts_model_assign(&e.m, &after);
			ts_env_take_privs(&e);
		}
		ts_model_check(&e.m, e.ms, &rng, 4);
		ts_model_result_fini(&res);
		ts_model_result_fini(&vf);
		ts_model_fini(&after);
	}

	/* the run must have exercised what it claims to */
	if (getenv("MODEL_STATS"))
		fprintf(stderr, "seed %llu: %u ok, %u failed, %u changes, %u guest_memfd creates\n",
			(unsigned long long)p->seed, nr_ok, nr_fail, nr_changes, nr_gmem);
	ck_assert_uint_gt(nr_ok, steps / 10);
	ck_assert_uint_gt(nr_fail, steps / 10);
	/*
	 * The guest_memfd seeds refuse most requests by design (narrow
	 * allowed_flags, a foreign as_id), so one call in ten changing
	 * something is too tight for them, and for the shorter valgrind
	 * runs: one in twenty still proves the runs reach every change kind.
	 */
	ck_assert_uint_gt(nr_changes, steps / 20);
	if (p->fail_pct)
		ck_assert_uint_gt(nr_prep_fail, 0);
	if (p->v2)
		ck_assert_uint_gt(nr_gmem, steps / 100);
	ts_env_fini(&e);

	ck_assert_msg(!order_discrepancies,
		      "seed %llu: %u batches (first at step %u) failed with a later request's "
		      "validation error instead of an earlier request's failing prepare; the "
		      "contract says the first failing request in order",
		      (unsigned long long)p->seed, order_discrepancies, first_discrepancy);
}

/*
 * The runs, one Check test case each (its name is the ctest name, found by
 * tests/CMakeLists.txt in the .tcase fields).  A case with nr_seeds runs
 * that many seeds from p.seed, each with its sizes varied (vary_seed()).
 */
struct ts_model_case {
	const char *tcase;
	struct params p;
	unsigned int nr_seeds;
};

static const struct ts_model_case cases[] = {
	{.tcase = "small_4k",
	 .p = {.seed = 1,
	       .page_shift = 12,
	       .max_slots = 16,
	       .gfn_space = 64,
	       .hva_space = 32,
	       .steps = 20000}},
	{.tcase = "small_4k_prepare_failures",
	 .p = {.seed = 2,
	       .page_shift = 12,
	       .max_slots = 16,
	       .gfn_space = 64,
	       .hva_space = 32,
	       .fail_pct = 20,
	       .steps = 20000}},
	{.tcase = "1k_pages_hva_limit",
	 .p = {.seed = 3,
	       .page_shift = 10,
	       .max_slots = 40,
	       .gfn_space = 160,
	       .hva_space = 64,
	       .hva_limit = 60ull << 10,
	       .steps = 20000}},
	{.tcase = "2m_pages_few_ids",
	 .p = {.seed = 4,
	       .page_shift = 21,
	       .max_slots = 6,
	       .gfn_space = 24,
	       .hva_space = 16,
	       .steps = 20000}},
	{.tcase = "many_seeds",
	 .p = {.seed = 100, .page_shift = 12, .hva_space = 24, .steps = 3000},
	 .nr_seeds = 10},
	/* The KVM 6.x surface. */
	{.tcase = "gmem_4k",
	 .p = {.seed = 11,
	       .page_shift = 12,
	       .max_slots = 16,
	       .gfn_space = 64,
	       .hva_space = 32,
	       .steps = 20000,
	       .v2 = true,
	       .gmem_fds = 3,
	       .gmem_space = 24}},
	{.tcase = "gmem_prepare_failures",
	 .p = {.seed = 12,
	       .page_shift = 12,
	       .max_slots = 16,
	       .gfn_space = 64,
	       .hva_space = 32,
	       .fail_pct = 20,
	       .steps = 20000,
	       .v2 = true,
	       .gmem_fds = 2,
	       .gmem_space = 16}},
	/* Address space 1, a VM type without READONLY, 1 KiB pages and an hva limit. */
	{.tcase = "gmem_as1_no_readonly",
	 .p = {.seed = 13,
	       .page_shift = 10,
	       .max_slots = 24,
	       .gfn_space = 96,
	       .hva_space = 64,
	       .hva_limit = 60ull << 10,
	       .steps = 20000,
	       .v2 = true,
	       .allowed_flags = LOG | GMEM,
	       .as_id = 1,
	       .gmem_fds = 4,
	       .gmem_space = 32}},
	{.tcase = "gmem_many_seeds",
	 .p = {.seed = 200, .page_shift = 12, .hva_space = 24, .steps = 3000, .v2 = true},
	 .nr_seeds = 10},
};

/* The sizes of a many-seeds run, from its seed: ids, gfn space and, for
 * v2 runs, the allowed flags, the address space and the guest_memfd space. */
static void vary_seed(struct params *p, uint64_t seed)
{
	p->seed = seed;
	p->max_slots = 8 + (unsigned int)(seed % 3) * 8;
	p->gfn_space = 48 + (seed % 4) * 16;
	if (!p->v2)
		return;
	p->allowed_flags = seed % 2 ? 0 : LOG | GMEM;
	p->as_id = (uint16_t)(seed % 5 == 0 ? 0xffff : 0);
	p->gmem_fds = 1 + (unsigned int)(seed % 3);
	p->gmem_space = 16 + (seed % 4) * 16;
}

/* Case _i of cases[] (each test case runs the one row it is named after). */
START_TEST(test_model_case)
{
	const struct ts_model_case *c = &cases[_i];

	if (!c->nr_seeds) {
		run(&c->p);
		return;
	}
	for (unsigned int k = 0; k < c->nr_seeds; k++) {
		struct params p = c->p;

		vary_seed(&p, c->p.seed + k);
		run(&p);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("model");

	for (int i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		TCase *tc = tcase_create(cases[i].tcase);

		tcase_add_loop_test(tc, test_model_case, i, i + 1);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
