/* SPDX-License-Identifier: MIT */
/*
 * Differential test: one random request stream (valid and invalid, single
 * requests and batches, with failing prepare hooks now and then) goes to
 * the tree engine and to the array baseline; after every step both must
 * agree on the return code, failed_index, hook calls, whether a new set
 * was published, and every observable of the active set.
 *
 * The space is kept small (few ids, few pages) so that overlaps, moves onto
 * neighbours, duplicates and holes are frequent.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <memslots/memslots.h>

#include "msarr.h"
#include "ts_check.h"
#include "ts_scale.h"

#define PG	  4096ull
#define MAX_SLOTS 24u
#define GFN_SPACE 160u /* slots live in gfns [0, GFN_SPACE) */
#define MAX_BATCH 6
#define LOG_MAX	  64

/*
 * Check records the location of every passing ck_assert (a write(2) each
 * without fork); the hot comparisons only call into Check when they fail.
 */
#define EXPECT(cond)                                                          \
	do {                                                                  \
		if (!(cond))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond); \
	} while (0)

/* ---- hooks logging into one log per implementation ----------------------- */

struct hlog {
	int n;
	int nprepare;
	int fail_prepare_at; /* -1: none */
	uint32_t call[LOG_MAX][4];
};

static void hl_add(struct hlog *l, uint32_t hook, const struct memslot *old,
		   const struct memslot *new, uint32_t extra)
{
	if (l->n >= LOG_MAX) {
		l->n++;
		return;
	}
	l->call[l->n][0] = hook;
	l->call[l->n][1] = old ? old->id : 0xffffffffu;
	l->call[l->n][2] = new ? new->id : 0xffffffffu;
	l->call[l->n][3] = extra;
	l->n++;
}

static int d_prepare(void *opaque, const struct memslot *old, struct memslot *new,
		     enum memslots_change c)
{
	struct hlog *l = opaque;

	hl_add(l, 1, old, new, c);
	if (new)
		new->priv = (void *)(uintptr_t)(new->id + 1);
	if (l->nprepare++ == l->fail_prepare_at)
		return -ENOSPC;
	return 0;
}

static void d_abort(void *opaque, const struct memslot *old, struct memslot *new,
		    enum memslots_change c)
{
	hl_add(opaque, 2, old, new, c);
}

static void d_commit(void *opaque, const struct memslot *old, const struct memslot *new,
		     enum memslots_change c)
{
	hl_add(opaque, 3, old, new, c);
	if (new)
		EXPECT(new->priv == (void *)(uintptr_t)(new->id + 1));
}

static void d_invalidate(void *opaque, const struct memslot *slot)
{
	hl_add(opaque, 4, slot, NULL, slot->flags);
}

static const struct memslots_ops d_ops = {
	.prepare = d_prepare,
	.abort = d_abort,
	.commit = d_commit,
	.invalidate = d_invalidate,
};

/* ---- the random stream ------------------------------------------------------ */

static uint64_t pick_hva(struct ts_rng *g)
{
	return (1 + ts_rng_below(g, 4)) * 0x10000000ull;
}

/* A request, mostly plausible, sometimes invalid in one of the contract's ways. */
static struct memslots_region gen_req(struct ts_rng *g, struct msarr *ref)
{
	const struct msarr_set *s = msarr_read_lock(ref);
	struct memslots_region r;
	uint16_t id = (uint16_t)ts_rng_below(g, MAX_SLOTS);
	const struct memslot *old = msarr_find_id(s, id);
	uint64_t k = ts_rng_below(g, 100);

	r.slot = id;
	r.flags = (uint32_t)ts_rng_below(g, 4);
	if (old && k < 60) {
		/* on an existing slot: delete, move, flags, no-op, bad change */
		uint64_t what = ts_rng_below(g, 10);

		r.memory_size = old->npages * PG;
		r.userspace_addr = old->userspace_addr;
		r.guest_phys_addr = old->base_gfn * PG;
		r.flags = (old->flags & MEMSLOT_READONLY) | (uint32_t)ts_rng_below(g, 2);
		if (what < 2)
			r.memory_size = 0;
		else if (what < 6)
			r.guest_phys_addr = ts_rng_below(g, GFN_SPACE) * PG;
		else if (what == 6)
			r.flags ^= MEMSLOT_READONLY;
		else if (what == 7)
			r.userspace_addr += PG;
		else if (what == 8)
			r.memory_size += PG;
	} else {
		r.guest_phys_addr = ts_rng_below(g, GFN_SPACE) * PG;
		r.memory_size = (1 + ts_rng_below(g, 8)) * PG;
		r.userspace_addr = pick_hva(g) + ts_rng_below(g, 64) * PG;
		if (ts_rng_below(g, 12) == 0)
			r.memory_size = 0;
	}
	msarr_read_unlock(ref);

	/* the invalid ones, one rule each */
	switch (ts_rng_below(g, 40)) {
	case 0:
		r.flags |= 1u << (2 + ts_rng_below(g, 30));
		break;
	case 1:
		r.guest_phys_addr += 512;
		break;
	case 2:
		r.userspace_addr += 8;
		break;
	case 3:
		r.memory_size |= 0x800;
		break;
	case 4:
		r.slot |= 1u << 16;
		break;
	case 5:
		r.slot = MAX_SLOTS + (uint32_t)ts_rng_below(g, 65536 - MAX_SLOTS);
		break;
	case 6:
		r.userspace_addr = 0ull - r.memory_size + (ts_rng_below(g, 2) ? 0 : PG);
		break;
	case 7:
		r.guest_phys_addr = 0ull - r.memory_size + (ts_rng_below(g, 2) ? 0 : PG);
		break;
	case 8:
		r.userspace_addr = (1ull << 47) - r.memory_size + PG * ts_rng_below(g, 2);
		break;
	case 9:
		r.memory_size = (MEMSLOTS_MAX_NR_PAGES + ts_rng_below(g, 2)) * PG;
		r.userspace_addr = PG;
		r.guest_phys_addr = 1ull << 50;
		break;
	default:
		break;
	}
	return r;
}

/* ---- comparison of the two active sets ---------------------------------------- */

static void same_slot(const struct memslot *a, const struct memslot *b)
{
	if (!a || !b) {
		EXPECT(a == NULL);
		EXPECT(b == NULL);
		return;
	}
	EXPECT(a->id == b->id);
	EXPECT(a->base_gfn == b->base_gfn);
	EXPECT(a->npages == b->npages);
	EXPECT(a->userspace_addr == b->userspace_addr);
	EXPECT(a->flags == b->flags);
	EXPECT(a->priv == b->priv);
}

static bool holds(const struct memslot *s, uint64_t gfn)
{
	return s && gfn >= s->base_gfn && gfn - s->base_gfn < s->npages;
}

static void compare(struct memslots *t, struct msarr *a, struct ts_rng *g)
{
	const struct memslots_set *ts = memslots_read_lock(t);
	const struct msarr_set *as = msarr_read_lock(a);
	const struct memslot *x, *y;
	struct memslots_cache tc = {0}, ac = {0};
	uint64_t gfn;

	EXPECT(memslots_count(ts) == msarr_count(as));
	EXPECT(memslots_nr_pages(ts) == msarr_nr_pages(as));
	for (x = memslots_first(ts), y = msarr_first(as); x || y;
	     x = memslots_next(ts, x), y = msarr_next(as, y))
		same_slot(x, y);
	for (uint32_t id = 0; id < MAX_SLOTS + 2; id++)
		same_slot(memslots_find_id(ts, (uint16_t)id), msarr_find_id(as, (uint16_t)id));
	for (gfn = 0; gfn < GFN_SPACE + 16; gfn++) {
		same_slot(memslots_find_gfn(ts, gfn), msarr_find_gfn(as, gfn));
		same_slot(memslots_find_gfn_cached(ts, &tc, gfn),
			  msarr_find_gfn_cached(as, &ac, gfn));
		EXPECT(memslots_gfn_to_hva(ts, gfn) == msarr_gfn_to_hva(as, gfn));
		/* approx: exact when held, else a border of the hole (either is legal) */
		x = memslots_find_gfn_approx(ts, gfn);
		y = msarr_find_gfn_approx(as, gfn);
		if (holds(y, gfn)) {
			same_slot(x, y);
		} else if (!y) {
			EXPECT(!x);
		} else {
			const struct memslot *lo = NULL, *hi = NULL, *s;

			for (s = msarr_first(as); s; s = msarr_next(as, s)) {
				if (s->base_gfn <= gfn)
					lo = s;
				else if (!hi)
					hi = s;
			}
			EXPECT(x && ((lo && x->id == lo->id) || (hi && x->id == hi->id)));
		}
	}
	for (int q = 0; q < 16; q++) {
		uint64_t s0 = ts_rng_below(g, GFN_SPACE + 8), e0 = ts_rng_below(g, GFN_SPACE + 8);
		uint64_t h0 = pick_hva(g) + (ts_rng_below(g, 80) - 4) * PG;
		uint64_t h1 = h0 + ts_rng_below(g, 16) * PG - ts_rng_below(g, 2);
		uint64_t tmask = 0, amask = 0;

		for (x = memslots_gfn_range_first(ts, s0, e0),
		    y = msarr_gfn_range_first(as, s0, e0);
		     x || y; x = memslots_gfn_range_next(ts, x, s0, e0),
		    y = msarr_gfn_range_next(as, y, s0, e0))
			same_slot(x, y);
		/* hva ranges: unspecified order, each slot once */
		for (x = memslots_hva_range_first(ts, h0, h1); x;
		     x = memslots_hva_range_next(ts, x, h0, h1)) {
			EXPECT(!(tmask & (1ull << x->id)));
			tmask |= 1ull << x->id;
		}
		for (y = msarr_hva_range_first(as, h0, h1); y;
		     y = msarr_hva_range_next(as, y, h0, h1))
			amask |= 1ull << y->id;
		EXPECT(tmask == amask);
	}
	msarr_read_unlock(a);
	memslots_read_unlock(t);
}

static uint64_t t_gen(struct memslots *t)
{
	uint64_t g = memslots_generation(memslots_read_lock(t));

	memslots_read_unlock(t);
	return g;
}

static uint64_t a_gen(struct msarr *a)
{
	uint64_t g = msarr_generation(msarr_read_lock(a));

	msarr_read_unlock(a);
	return g;
}

static void run_stream(uint64_t seed, int steps)
{
	static bool registered;
	struct ts_alloc_counter tcount = {0}, acount = {0};
	struct hlog tlog, alog;
	struct memslots_config tcfg = {
		.max_slots = MAX_SLOTS,
		.ops = &d_ops,
		.opaque = &tlog,
		.alloc = ts_alloc,
		.free = ts_free,
		.alloc_opaque = &tcount,
		.hva_limit = (1ull << 47) - 4096,
	};
	struct memslots_config acfg = tcfg;
	struct memslots *t;
	struct msarr *a;
	struct ts_rng g;

	acfg.opaque = &alog;
	acfg.alloc_opaque = &acount;
	ts_rng_seed(&g, seed);
	t = memslots_new(&tcfg);
	a = msarr_new(&acfg);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(a);
	/*
	 * Both default to liburcu memb, which registers a thread only once;
	 * and a failed check leaves the loop without unregistering (no fork).
	 */
	if (!registered) {
		memslots_reader_register(t);
		registered = true;
	}

	for (int step = 0; step < steps; step++) {
		struct memslots_region r[MAX_BATCH];
		size_t n = ts_rng_below(&g, 3) ? 1 : 1 + ts_rng_below(&g, MAX_BATCH);
		size_t tfi = 12345, afi = 12345;
		uint64_t tg = t_gen(t), ag = a_gen(a);
		int tret, aret;

		for (size_t i = 0; i < n; i++)
			r[i] = gen_req(&g, a);
		/* a batch sometimes names an id twice */
		if (n > 1 && ts_rng_below(&g, 8) == 0)
			r[n - 1].slot = r[ts_rng_below(&g, n - 1)].slot;
		memset(&tlog, 0, sizeof(tlog));
		memset(&alog, 0, sizeof(alog));
		tlog.fail_prepare_at = alog.fail_prepare_at =
			ts_rng_below(&g, 10) == 0 ? (int)ts_rng_below(&g, (uint64_t)n) : -1;

		if (n == 1 && ts_rng_below(&g, 2)) {
			tret = memslots_set_region(t, &r[0]);
			aret = msarr_set_region(a, &r[0]);
		} else {
			tret = memslots_apply(t, r, n, &tfi);
			aret = msarr_apply(a, r, n, &afi);
		}
		ck_assert_msg(tret == aret, "seed %llu step %d: tree %d, array %d",
			      (unsigned long long)seed, step, tret, aret);
		if (tret)
			ck_assert_msg(tfi == afi, "seed %llu step %d: failed_index %zu vs %zu",
				      (unsigned long long)seed, step, tfi, afi);
		/*
		 * Both prepare each change right after validating it and abort
		 * the prepared ones on failure: the hook calls match exactly,
		 * failed calls included.
		 */
		ck_assert_msg(tlog.n == alog.n, "seed %llu step %d: %d vs %d hook calls",
			      (unsigned long long)seed, step, tlog.n, alog.n);
		for (int i = 0; i < tlog.n && i < LOG_MAX; i++)
			ck_assert_msg(!memcmp(tlog.call[i], alog.call[i], sizeof(tlog.call[i])),
				      "seed %llu step %d: hook call %d differs",
				      (unsigned long long)seed, step, i);
		/* published iff the array published */
		EXPECT((t_gen(t) != tg) == (a_gen(a) != ag));
		EXPECT(t_gen(t) >= tg);
		compare(t, a, &g);
	}
	memslots_free(t);
	msarr_free(a);
	ck_assert_uint_eq(tcount.live, 0);
	ck_assert_uint_eq(acount.live, 0);
}

START_TEST(test_diff_stream)
{
	run_stream(0x5eed0000u + (uint64_t)_i, (unsigned int)ts_scaled(3000, 20));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tree engine vs array baseline");
	TCase *tc = tcase_create("diff");

	tcase_add_loop_test(tc, test_diff_stream, 0, 6);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(suite());
}
