// SPDX-License-Identifier: MIT
/*
 * Dirty logging with real threads: marker threads and a collector thread
 * against a writer that moves slots, toggles LOG_DIRTY_PAGES (alone and
 * in batches over every slot) and deletes and re-creates them.  Every
 * mark made into a bitmap that was not dropped must be collected exactly
 * once.
 *
 * How marks are counted.  The writer's prepare hook gives each bitmap the
 * library makes a record of its own (struct dc_bitmap) in the new slot's
 * priv, and lets a slot that keeps its bitmap keep the record too (priv
 * starts as the old slot's); the INVALID copy carries the old priv, as it
 * carries the old bitmap.  So the slot a thread finds names the bitmap it
 * holds.  The commit hook, which runs after the last grace period of the
 * call, marks the record of a dropped bitmap dropped.
 *
 * A page of a record is marked by one marker only (page % DC_MARKERS),
 * and only when it is not pending: the marker sets the record's pending
 * flag, then marks (the mark's release and the collect's acquire order
 * the flag before the bit for the collector).  The collector, for every
 * bit it collects, clears the flag, which must have been set: a page
 * collected twice, or collected without a mark, fails there.  With
 * INITIALLY_SET the record starts with every page pending and counted.
 * In the end, after a last collect of every slot: a record never dropped
 * has every mark collected and nothing pending; a dropped one has lost
 * exactly the pages still pending, no more.
 *
 * Under TSan the library gets the rwlock RCU of the concurrency fixture,
 * whose ordering TSan understands; else liburcu's default.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "concurrency_fixture.h"
#include "test_dirty.h"
#include "ts_check.h"

#define DC_IDS	       8u
#define DC_MARKERS     2u
#define DC_MAX_PAGES   300u
#define DC_REGION      1024u /* gfns of each id: its two places never meet another id's */
#define DC_PAGE	       4096ull
#define DC_MIN_WRITES  40
#define DC_MIN_COLLECT 40

/* One bitmap of the library, from the change that made it to the one that dropped it. */
struct dc_bitmap {
	unsigned int id;
	uint64_t npages;
	_Atomic unsigned char pending[DC_MAX_PAGES]; /* 1: marked, not yet collected */
	atomic_ulong marked;
	atomic_ulong collected;
	atomic_bool dropped;
	struct dc_bitmap *next; /* every record of the run (the writer's list) */
};

struct dc_run {
	struct memslots *ms;
	uint32_t dirty_log;
	atomic_bool stop;
	atomic_ulong errors;
	atomic_ulong writes, collects, marks;
	struct dc_bitmap *all; /* written by the hooks, on the writer's thread */
	unsigned long seed;
};

static void dc_fail(struct dc_run *run, const char *what, unsigned int id, uint64_t page)
{
	if (atomic_fetch_add(&run->errors, 1) < 10)
		fprintf(stderr, "dirty concurrency: %s (id %u page %llu)\n", what, id,
			(unsigned long long)page);
}

static uint64_t dc_npages(unsigned int id)
{
	return 64 + 29 * id; /* 64 .. 267: partial last words */
}

static uint64_t dc_gfn(unsigned int id, bool alt)
{
	return (uint64_t)id * DC_REGION + (alt ? DC_REGION / 2 : 0);
}

/* ---- the hooks: a record per bitmap ------------------------------------------------ */

static struct dc_bitmap *dc_bitmap_new(struct dc_run *run, const struct memslot *s)
{
	struct dc_bitmap *b = calloc(1, sizeof(*b));
	bool all = run->dirty_log & MEMSLOTS_DIRTY_INITIALLY_SET;

	if (!b)
		abort();
	b->id = s->id;
	b->npages = s->npages;
	for (uint64_t p = 0; p < s->npages; p++)
		atomic_init(&b->pending[p], all);
	atomic_init(&b->marked, all ? s->npages : 0);
	b->next = run->all;
	run->all = b;
	return b;
}

static int dc_prepare(void *opaque, const struct memslot *old, struct memslot *new,
		      enum memslots_change change)
{
	(void)change;
	if (!new)
		return 0;
	if (!(new->flags & MEMSLOT_LOG_DIRTY_PAGES))
		new->priv = NULL;
	else if (!old || !(old->flags & MEMSLOT_LOG_DIRTY_PAGES))
		new->priv = dc_bitmap_new(opaque, new);
	/* else the old record, which priv already is */
	return 0;
}

static void dc_commit(void *opaque, const struct memslot *old, const struct memslot *new,
		      enum memslots_change change)
{
	(void)opaque;
	(void)change;
	if (old && old->priv && (!new || new->priv != old->priv))
		atomic_store(&((struct dc_bitmap *)old->priv)->dropped, true);
}

static const struct memslots_ops dc_ops = {
	.prepare = dc_prepare,
	.commit = dc_commit,
};

/* ---- markers ------------------------------------------------------------------------ */

struct dc_marker {
	struct dc_run *run;
	unsigned int index;
};

/* One mark of a page this marker owns in slot @s of @set. */
static void dc_mark_one(struct dc_run *run, const struct memslots_set *set,
			const struct memslot *s, uint64_t page, struct memslots_cache *cache)
{
	struct dc_bitmap *b = s->priv;
	uint64_t got;

	if (b && atomic_load_explicit(&b->pending[page], memory_order_relaxed))
		return; /* the last mark is not collected yet */
	if (b)
		atomic_store_explicit(&b->pending[page], 1, memory_order_relaxed);
	got = cache ? memslots_dirty_mark_cached(set, cache, s->base_gfn + page, 1)
		    : memslots_dirty_mark(set, s->base_gfn + page, 1);
	if (got != (b ? 1u : 0u))
		dc_fail(run, "mark returned the wrong count", s->id, page);
	if (b)
		atomic_fetch_add_explicit(&b->marked, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&run->marks, 1, memory_order_relaxed);
}

static void *dc_marker_main(void *arg)
{
	struct dc_marker *mk = arg;
	struct dc_run *run = mk->run;
	struct memslots_cache cache = {0};
	struct ts_rng rng;

	ts_rng_seed(&rng, run->seed * 31 + mk->index);
	memslots_reader_register(run->ms);
	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		const struct memslots_set *set = memslots_read_lock(run->ms);

		for (int i = 0; i < 16; i++) {
			unsigned int id = (unsigned int)ts_rng_below(&rng, DC_IDS);
			const struct memslot *s = memslots_find_id(set, (uint16_t)id);
			uint64_t page;

			if (!s)
				continue;
			if ((s->flags & MEMSLOT_LOG_DIRTY_PAGES) != (s->priv != NULL))
				dc_fail(run, "a slot's priv does not follow its flags", id, 0);
			page = ts_rng_below(&rng, s->npages / DC_MARKERS) * DC_MARKERS + mk->index;
			dc_mark_one(run, set, s, page, i % 2 ? &cache : NULL);
		}
		memslots_read_unlock(run->ms);
	}
	memslots_reader_unregister(run->ms);
	return NULL;
}

/* ---- the collector ------------------------------------------------------------------ */

/* Collects pages [first, first + n) of slot @s and accounts every bit. */
static void dc_collect(struct dc_run *run, const struct memslots_set *set,
		       const struct memslot *s, uint64_t first, uint64_t n)
{
	uint64_t buf[DC_MAX_PAGES / 64 + 2] = {0};
	struct dc_bitmap *b = s->priv;
	int64_t got = memslots_dirty_collect(set, s->id, buf, first, n), bits = 0;

	if (got < 0) {
		dc_fail(run, "collect failed", s->id, first);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (!((buf[i / 64] >> (i % 64)) & 1))
			continue;
		bits++;
		if (!atomic_exchange(&b->pending[first + i], 0))
			dc_fail(run, "collected a page not marked, or twice", s->id, first + i);
	}
	if (n % 64 && buf[n / 64] >> (n % 64))
		dc_fail(run, "collect wrote past npages", s->id, first + n);
	if (bits != got)
		dc_fail(run, "collect's count differs from its bits", s->id, first);
	atomic_fetch_add(&b->collected, (unsigned long)bits);
}

/* Every slot with a bitmap of @set: all of it, or a random range. */
static void dc_collect_set(struct dc_run *run, const struct memslots_set *set, struct ts_rng *rng)
{
	for (unsigned int id = 0; id < DC_IDS; id++) {
		const struct memslot *s = memslots_find_id(set, (uint16_t)id);
		uint64_t first = 0, n;

		if (!s || !s->priv)
			continue;
		n = s->npages;
		if (rng && ts_rng_below(rng, 2)) {
			first = ts_rng_below(rng, (s->npages + 63) / 64) * 64;
			n = ts_rng_below(rng, s->npages - first + 1);
		}
		dc_collect(run, set, s, first, n);
	}
}

static void *dc_collector_main(void *arg)
{
	struct dc_run *run = arg;
	struct ts_rng rng;

	ts_rng_seed(&rng, run->seed ^ 0xc011ec7);
	memslots_reader_register(run->ms);
	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		const struct memslots_set *set = memslots_read_lock(run->ms);

		dc_collect_set(run, set, &rng);
		memslots_read_unlock(run->ms);
		atomic_fetch_add(&run->collects, 1);
	}
	memslots_reader_unregister(run->ms);
	return NULL;
}

/* ---- the writer ----------------------------------------------------------------------- */

struct dc_writer {
	bool present[DC_IDS], alt[DC_IDS], log[DC_IDS];
};

static struct memslots_region dc_region(unsigned int id, bool alt, bool log, bool del)
{
	struct memslots_region r = {
		.slot = id,
		.flags = log ? MEMSLOT_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = del ? 0 : dc_gfn(id, alt) * DC_PAGE,
		.memory_size = del ? 0 : dc_npages(id) * DC_PAGE,
		.userspace_addr = del ? 0 : 0x100000000ull * (id + 1),
	};

	return r;
}

/* One writer call: a create, delete, move or toggle of one slot, or
 * logging toggled on every slot in one batch. */
static void dc_write(struct dc_run *run, struct dc_writer *w, struct ts_rng *rng)
{
	unsigned int id = (unsigned int)ts_rng_below(rng, DC_IDS);
	unsigned int op = (unsigned int)ts_rng_below(rng, 8);
	struct memslots_region r[DC_IDS];
	size_t n = 0;
	int err;

	if (op == 0) {
		bool on = ts_rng_below(rng, 2);

		for (unsigned int i = 0; i < DC_IDS; i++)
			if (w->present[i])
				r[n++] = dc_region(i, w->alt[i], on, false);
		err = n ? memslots_apply(run->ms, r, n, NULL) : 0;
		for (unsigned int i = 0; i < DC_IDS && !err; i++)
			w->log[i] = w->present[i] ? on : w->log[i];
	} else if (!w->present[id]) {
		w->alt[id] = ts_rng_below(rng, 2);
		w->log[id] = ts_rng_below(rng, 4) != 0;
		r[0] = dc_region(id, w->alt[id], w->log[id], false);
		err = memslots_set_region(run->ms, &r[0]);
		w->present[id] = !err;
	} else if (op == 1) {
		r[0] = dc_region(id, false, false, true);
		err = memslots_set_region(run->ms, &r[0]);
		w->present[id] = err != 0;
	} else if (op < 5) {
		bool log = ts_rng_below(rng, 3) ? w->log[id] : !w->log[id];

		r[0] = dc_region(id, !w->alt[id], log, false);
		err = memslots_set_region(run->ms, &r[0]);
		if (!err) {
			w->alt[id] = !w->alt[id];
			w->log[id] = log;
		}
	} else {
		r[0] = dc_region(id, w->alt[id], !w->log[id], false);
		err = memslots_set_region(run->ms, &r[0]);
		if (!err)
			w->log[id] = !w->log[id];
	}
	if (err)
		dc_fail(run, "writer call failed", id, (uint64_t)-err);
	atomic_fetch_add(&run->writes, 1);
}

/* ---- the run ---------------------------------------------------------------------------- */

/* After the threads: the last collect, then every record's account. */
static void dc_account(struct dc_run *run, unsigned long *live, unsigned long *dropped,
		       unsigned long *lost)
{
	const struct memslots_set *set = memslots_read_lock(run->ms);

	dc_collect_set(run, set, NULL);
	memslots_read_unlock(run->ms);
	for (struct dc_bitmap *b = run->all; b; b = b->next) {
		unsigned long pending = 0, m = atomic_load(&b->marked);
		unsigned long c = atomic_load(&b->collected);

		for (uint64_t p = 0; p < b->npages; p++)
			pending += atomic_load(&b->pending[p]);
		if (!atomic_load(&b->dropped)) {
			(*live)++;
			if (c != m || pending)
				dc_fail(run, "a live bitmap lost or duplicated marks", b->id,
					m - c);
		} else {
			(*dropped)++;
			*lost += m - c;
			if (c > m || m - c != pending)
				dc_fail(run, "a dropped bitmap's marks do not add up", b->id,
					m - c);
		}
	}
}

static void dc_run(uint32_t dirty_log, double seconds)
{
	const struct memslots_rcu *rcu = NULL;
	struct memslots_config cfg = {0};
	struct dc_run run = {0};
	struct dc_marker mk[DC_MARKERS];
	pthread_t markers[DC_MARKERS], collector;
	struct dc_writer w = {0};
	unsigned long live = 0, dropped = 0, lost = 0;
	struct ts_rng rng;
	double end;

#ifdef TS_CONC_TSAN
	ts_rwlock_rcu_init();
	rcu = &ts_rwlock_rcu;
#endif
	run.dirty_log = dirty_log;
	run.seed = 0xd1e7 + dirty_log;
	cfg.ops = &dc_ops;
	cfg.opaque = &run;
	cfg.rcu = rcu;
	cfg.dirty_log = dirty_log;
	run.ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(run.ms);
	ts_rng_seed(&rng, run.seed);
	for (unsigned int i = 0; i < DC_MARKERS; i++) {
		mk[i] = (struct dc_marker){&run, i};
		ck_assert_int_eq(pthread_create(&markers[i], NULL, dc_marker_main, &mk[i]), 0);
	}
	ck_assert_int_eq(pthread_create(&collector, NULL, dc_collector_main, &run), 0);
	end = ts_conc_now() + seconds;
	while (ts_conc_now() < end || atomic_load(&run.writes) < DC_MIN_WRITES ||
	       atomic_load(&run.collects) < DC_MIN_COLLECT)
		dc_write(&run, &w, &rng);
	atomic_store(&run.stop, true);
	for (unsigned int i = 0; i < DC_MARKERS; i++)
		pthread_join(markers[i], NULL);
	pthread_join(collector, NULL);
	dc_account(&run, &live, &dropped, &lost);
	fprintf(stderr,
		"dirty concurrency (dirty_log %#x): %lu writes, %lu marks, %lu collect passes, "
		"%lu bitmaps live, %lu dropped (%lu marks lost with them)\n",
		dirty_log, atomic_load(&run.writes), atomic_load(&run.marks),
		atomic_load(&run.collects), live, dropped, lost);
	ck_assert_uint_eq(atomic_load(&run.errors), 0);
	ck_assert_uint_gt(atomic_load(&run.marks), 0);
	ck_assert_uint_gt(dropped, 0);
	memslots_free(run.ms);
	while (run.all) {
		struct dc_bitmap *b = run.all;

		run.all = b->next;
		free(b);
	}
}

START_TEST(test_markers_collector_writer)
{
	dc_run(_i ? MEMSLOTS_DIRTY_BITMAP | MEMSLOTS_DIRTY_INITIALLY_SET : MEMSLOTS_DIRTY_BITMAP,
	       ts_conc_seconds() / 2);
}
END_TEST

void dirty_add_concurrency_cases(Suite *s)
{
	TCase *tc = tcase_create("concurrency");

	tcase_add_loop_test(tc, test_markers_collector_writer, 0, 2);
	suite_add_tcase(s, tc);
}
