/* SPDX-License-Identifier: MIT */
/*
 * Benchmark bodies, written against <memslots/memslots.h>, on a layout
 * (struct bench_space, bench_common.c).  Compiled once
 * for the engine on each of its indexes (BENCH_INDEX: MEMSLOTS_INDEX_BTREE
 * or MEMSLOTS_INDEX_KVM) and once for the array baseline (see bench.h),
 * with BENCH_IMPL_SYM naming the table this object defines.
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <memslots/memslots.h>

#include "ts_alloc.h"
#include "ts_rng.h"

#ifndef BENCH_IMPL_SYM
#error "BENCH_IMPL_SYM must name the table (bench_impl_btree, _kvm or _array)"
#endif

struct bench_fixture {
	struct memslots *ms;
	const struct bench_space *sp;
	struct memslots_region *reqs; /* n requests, for the batches */
};

/* Keeps results alive so the compiler cannot drop the lookups. */
static volatile uintptr_t bench_sink;

static uint64_t bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The space's slot @i (ascending gfn) with @flags. */
static struct memslots_region bench_region(const struct bench_space *sp, unsigned int i,
					   uint32_t flags)
{
	struct memslots_region r = sp->r[i];

	r.flags = flags;
	return r;
}

static void bench_die(const char *what, int err)
{
	fprintf(stderr, "bench (%s): %s failed: %d\n", BENCH_IMPL_NAME, what, err);
	abort();
}

/*
 * What a caller does with the slot a lookup returns: reads a field.  The
 * load depends on the lookup's answer, so the slot's line is on the
 * timed path, as it is in a VMM's fault handler.
 */
static inline uintptr_t bench_use(const struct memslot *s)
{
	return s ? s->userspace_addr : 0;
}

/* ---- fixtures ---------------------------------------------------------------- */

/* With @count: every allocation counted, for the footprint. */
static struct memslots *bench_new(struct ts_alloc_counter *count)
{
	struct memslots_config cfg = {0};
	struct memslots *ms;

	if (count) {
		cfg.alloc = ts_alloc;
		cfg.free = ts_free;
		cfg.alloc_opaque = count;
	}
#ifdef BENCH_INDEX
	cfg.index = BENCH_INDEX; /* the array baseline's config has no index */
#endif
	ms = memslots_new(&cfg);
	if (!ms)
		bench_die("memslots_new", -1);
	return ms;
}

/* Every slot in one apply, highest gfn first: cheap for the array (appends). */
static void bench_populate(struct memslots *ms, const struct bench_space *sp)
{
	struct memslots_region *r = malloc(sizeof(*r) * sp->n);
	size_t fi = 0;
	int ret;

	if (!r)
		bench_die("populate", -1);
	for (unsigned int i = 0; i < sp->n; i++)
		r[i] = bench_region(sp, sp->n - 1 - i, 0);
	ret = memslots_apply(ms, r, sp->n, &fi);
	if (ret)
		bench_die("populate", ret);
	free(r);
}

static struct bench_fixture *bench_fixture_new(const struct bench_space *sp)
{
	struct bench_fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		bench_die("fixture", -1);
	fx->sp = sp;
	fx->ms = bench_new(NULL);
	bench_populate(fx->ms, sp);
	fx->reqs = malloc(sizeof(*fx->reqs) * sp->n);
	return fx;
}

static void bench_fixture_free(struct bench_fixture *fx)
{
	memslots_free(fx->ms);
	free(fx->reqs);
	free(fx);
}

/* ---- writers on a fresh object ------------------------------------------------ */

static uint64_t bench_setup(const struct bench_space *sp)
{
	struct memslots *ms = bench_new(NULL);
	uint64_t t0, t;

	/* One by one, ascending gfns, as a VMM (and memslot_perf_test) does. */
	t0 = bench_now();
	for (unsigned int i = 0; i < sp->n; i++) {
		struct memslots_region r = bench_region(sp, i, 0);
		int ret = memslots_set_region(ms, &r);

		if (ret)
			bench_die("setup", ret);
	}
	t = bench_now() - t0;
	memslots_free(ms);
	return t;
}

static uint64_t bench_batch_create(const struct bench_space *sp)
{
	struct memslots *ms = bench_new(NULL);
	struct memslots_region *r = malloc(sizeof(*r) * sp->n);
	size_t fi = 0;
	uint64_t t0, t;
	int ret;

	if (!r)
		bench_die("batch_create", -1);
	for (unsigned int i = 0; i < sp->n; i++)
		r[i] = bench_region(sp, i, 0);
	t0 = bench_now();
	ret = memslots_apply(ms, r, sp->n, &fi);
	t = bench_now() - t0;
	if (ret)
		bench_die("batch_create", ret);
	free(r);
	memslots_free(ms);
	return t;
}

/* ---- readers --------------------------------------------------------------------- */

#define BENCH_KEY(k) ((k) & (BENCH_NR_KEYS - 1))

/*
 * A reader row's frame: one read-side section, the clock started once the
 * set is held and stopped before it is given back, so the timed span holds
 * the row's loop alone.  Inline, so each row's timed loop compiles as if
 * written out: its own direct calls, none through a pointer.
 */
struct bench_read {
	const struct memslots_set *set;
	uintptr_t acc; /* what the row's lookups gave, kept alive at the end */
	uint64_t t0;
};

static inline struct bench_read bench_read_begin(struct bench_fixture *fx)
{
	struct bench_read rd = {.set = memslots_read_lock(fx->ms)};

	rd.t0 = bench_now();
	return rd;
}

/* The elapsed ns; leaves the section and sinks what the loop added up. */
static inline uint64_t bench_read_end(struct bench_fixture *fx, const struct bench_read *rd)
{
	uint64_t t = bench_now() - rd->t0;

	memslots_read_unlock(fx->ms);
	bench_sink = rd->acc;
	return t;
}

/* @iters lookups of random keys @q from @offset on, each slot's field read. */
static inline uintptr_t bench_find_keys(const struct memslots_set *set, const uint64_t *q,
					uint64_t iters, unsigned int offset)
{
	uintptr_t acc = 0;

	for (uint64_t k = 0; k < iters; k++)
		acc += bench_use(memslots_find_gfn(set, q[BENCH_KEY(k + offset)]));
	return acc;
}

static uint64_t bench_unmap(struct bench_fixture *fx, uint64_t bytes, uint64_t iters)
{
	struct bench_read rd = bench_read_begin(fx);

	/* The MMU-notifier path: every slot whose hva range meets the range. */
	for (uint64_t k = 0; k < iters; k++) {
		uint64_t hs = fx->sp->hvas[BENCH_KEY(k)], hl = hs + bytes - 1;
		const struct memslot *s;

		for (s = memslots_hva_range_first(rd.set, hs, hl); s;
		     s = memslots_hva_range_next(rd.set, s, hs, hl))
			rd.acc += s->id;
	}
	return bench_read_end(fx, &rd);
}

static uint64_t bench_gfn_random(struct bench_fixture *fx, uint64_t iters)
{
	const uint64_t *q = fx->sp->gfns;
	struct bench_read rd = bench_read_begin(fx);

	rd.acc = bench_find_keys(rd.set, q, iters, 0);
	return bench_read_end(fx, &rd);
}

struct bench_mt {
	struct bench_fixture *fx;
	uint64_t iters;
	atomic_uint ready;
	atomic_bool go;
};

/* One reader of the two-thread row: registered, then the same loop as
 * bench_gfn_random (its own key offset), in one read-side section. */
static void bench_mt_loop(struct bench_mt *mt, unsigned int offset)
{
	struct memslots *ms = mt->fx->ms;
	const uint64_t *q = mt->fx->sp->gfns;
	const struct memslots_set *set;
	uintptr_t acc;

	set = memslots_read_lock(ms);
	atomic_fetch_add(&mt->ready, 1);
	while (!atomic_load_explicit(&mt->go, memory_order_acquire))
		;
	acc = bench_find_keys(set, q, mt->iters, offset);
	memslots_read_unlock(ms);
	bench_sink = acc;
}

static void *bench_mt_main(void *arg)
{
	struct bench_mt *mt = arg;

	memslots_reader_register(mt->fx->ms);
	bench_mt_loop(mt, BENCH_NR_KEYS / 2);
	memslots_reader_unregister(mt->fx->ms);
	return NULL;
}

static uint64_t bench_gfn_random_mt(struct bench_fixture *fx, uint64_t iters, unsigned int threads)
{
	struct bench_mt mt = {.fx = fx, .iters = iters};
	pthread_t helper;
	uint64_t t0, t;

	if (threads < 2)
		return bench_gfn_random(fx, iters);
	atomic_init(&mt.ready, 0);
	atomic_init(&mt.go, false);
	if (pthread_create(&helper, NULL, bench_mt_main, &mt))
		bench_die("pthread_create", -1);
	while (atomic_load(&mt.ready) != 1)
		;
	/* This thread's section is taken inside the loop: start both at once. */
	t0 = bench_now();
	atomic_store_explicit(&mt.go, true, memory_order_release);
	bench_mt_loop(&mt, 0);
	pthread_join(helper, NULL);
	t = bench_now() - t0;
	return t;
}

static uint64_t bench_gfn_repeat(struct bench_fixture *fx, uint64_t iters)
{
	const struct memslots_set *set = memslots_read_lock(fx->ms);
	uint64_t gfn = fx->sp->rep_gfn;
	unsigned int mask = fx->sp->rep_mask & 1;
	/* The same slot every time (two pages of it): the last-used slot
	 * answers, once this first lookup, untimed, has made it so. */
	struct bench_read rd = {.set = set, .acc = bench_use(memslots_find_gfn(set, gfn))};

	rd.t0 = bench_now();
	for (uint64_t k = 0; k < iters; k++)
		rd.acc += bench_use(memslots_find_gfn(set, gfn + (k & mask)));
	return bench_read_end(fx, &rd);
}

static uint64_t bench_gfn_cached(struct bench_fixture *fx, uint64_t iters)
{
	struct memslots_cache cache = {0};
	uint64_t base = fx->sp->rep_gfn;
	unsigned int mask = fx->sp->rep_mask;
	struct bench_read rd = bench_read_begin(fx);

	/* A vCPU touching pages of one slot: the per-thread cache answers. */
	for (uint64_t k = 0; k < iters; k++)
		rd.acc += bench_use(memslots_find_gfn_cached(rd.set, &cache, base + (k & mask)));
	return bench_read_end(fx, &rd);
}

static uint64_t bench_gfn_miss(struct bench_fixture *fx, uint64_t iters)
{
	const uint64_t *q = fx->sp->holes;
	struct bench_read rd = bench_read_begin(fx);
	uint64_t t;

	rd.acc = bench_find_keys(rd.set, q, iters, 0);
	t = bench_read_end(fx, &rd);
	if (rd.acc)
		bench_die("gfn_miss found a slot in a hole", 0);
	return t;
}

/* Index of the last key <= g in keys[0..n) (n > 0), or 0 when none is,
 * with no data-dependent branch: the halving step is a conditional move. */
static size_t bench_dense_rank(const uint64_t *keys, size_t n, uint64_t g)
{
	const uint64_t *base = keys;

	while (n > 1) {
		size_t half = n / 2;

		base = base[half] <= g ? base + half : base;
		n -= half;
	}
	return (size_t)(base - keys);
}

static uint64_t bench_dense_limit(struct bench_fixture *fx, uint64_t iters, int miss)
{
	const struct bench_space *sp = fx->sp;
	const uint64_t *q = miss ? sp->holes : sp->gfns;
	const uint64_t *keys = sp->keys, *ends = sp->ends;
	uint64_t hits = 0, want, t0, t;

	t0 = bench_now();
	for (uint64_t k = 0; k < iters; k++) {
		uint64_t g = q[BENCH_KEY(k)];
		size_t i = bench_dense_rank(keys, sp->n, g);

		hits += g >= keys[i] && g < ends[i];
	}
	t = bench_now() - t0;
	want = miss ? 0 : (iters / BENCH_NR_KEYS) * sp->gfn_hits;
	if (iters % BENCH_NR_KEYS == 0 && hits != want)
		bench_die("dense_limit: wrong answers", (int)hits);
	return t;
}

static uint64_t bench_id_lookup(struct bench_fixture *fx, uint64_t iters)
{
	const uint16_t *q = fx->sp->ids;
	struct bench_read rd = bench_read_begin(fx);

	for (uint64_t k = 0; k < iters; k++) {
		const struct memslot *s = memslots_find_id(rd.set, q[BENCH_KEY(k)]);

		rd.acc += s ? s->id : 0;
	}
	return bench_read_end(fx, &rd);
}

static uint64_t bench_gfn_range(struct bench_fixture *fx, uint64_t iters)
{
	const uint64_t *q = fx->sp->gfns;
	struct bench_read rd = bench_read_begin(fx);

	/* Every slot meeting 2 MiB of guest memory from each query. */
	for (uint64_t k = 0; k < iters; k++) {
		uint64_t start = q[BENCH_KEY(k)], end = start + 512;
		const struct memslot *s;

		for (s = memslots_gfn_range_first(rd.set, start, end); s;
		     s = memslots_gfn_range_next(rd.set, s, start, end))
			rd.acc += s->id;
	}
	return bench_read_end(fx, &rd);
}

static uint64_t bench_iterate(struct bench_fixture *fx, uint64_t iters)
{
	struct bench_read rd = bench_read_begin(fx);

	/* A dirty-log sync or a migration pass: every slot in gfn order. */
	for (uint64_t k = 0; k < iters; k++)
		for (const struct memslot *s = memslots_first(rd.set); s;
		     s = memslots_next(rd.set, s))
			rd.acc += s->id;
	return bench_read_end(fx, &rd);
}

/* ---- writers on a fixture --------------------------------------------------------- */

struct bench_reader {
	struct memslots *ms;
	uint64_t gfn;
	atomic_bool stop;
	atomic_bool started;
};

/* A vCPU-like reader: short read-side sections on the slot being moved. */
static void *bench_reader_main(void *arg)
{
	struct bench_reader *rd = arg;
	struct memslots_cache cache = {0};
	uintptr_t acc = 0;

	memslots_reader_register(rd->ms);
	atomic_store(&rd->started, true);
	while (!atomic_load_explicit(&rd->stop, memory_order_relaxed)) {
		const struct memslots_set *set = memslots_read_lock(rd->ms);

		for (unsigned int k = 0; k < 16; k++)
			acc += (uintptr_t)memslots_find_gfn_cached(set, &cache, rd->gfn + (k & 3));
		memslots_read_unlock(rd->ms);
	}
	memslots_reader_unregister(rd->ms);
	bench_sink = acc;
	return NULL;
}

static uint64_t bench_move(struct bench_fixture *fx, uint64_t iters, int active)
{
	struct memslots_region home = bench_region(fx->sp, fx->sp->n / 2, 0), away = home;
	struct bench_reader rd = {.ms = fx->ms, .gfn = home.guest_phys_addr / BENCH_PAGE};
	pthread_t thread;
	uint64_t t0, t;

	/* Out to just above the last slot (the top end of the array) and back. */
	away.guest_phys_addr = fx->sp->top_gfn * BENCH_PAGE;
	atomic_init(&rd.stop, false);
	atomic_init(&rd.started, false);
	if (active) {
		if (pthread_create(&thread, NULL, bench_reader_main, &rd))
			bench_die("pthread_create", -1);
		while (!atomic_load(&rd.started))
			;
	}
	t0 = bench_now();
	for (uint64_t k = 0; k < iters; k++) {
		int ret = memslots_set_region(fx->ms, &away);

		if (!ret)
			ret = memslots_set_region(fx->ms, &home);
		if (ret)
			bench_die("move", ret);
	}
	t = bench_now() - t0;
	if (active) {
		atomic_store(&rd.stop, true);
		pthread_join(thread, NULL);
	}
	return t;
}

static uint64_t bench_flags(struct bench_fixture *fx, uint64_t iters)
{
	struct memslots_region on = bench_region(fx->sp, fx->sp->n / 2, MEMSLOT_LOG_DIRTY_PAGES);
	struct memslots_region off = bench_region(fx->sp, fx->sp->n / 2, 0);
	uint64_t t0 = bench_now(), t;

	for (uint64_t k = 0; k < iters; k++) {
		int ret = memslots_set_region(fx->ms, &on);

		if (!ret)
			ret = memslots_set_region(fx->ms, &off);
		if (ret)
			bench_die("flags", ret);
	}
	t = bench_now() - t0;
	return t;
}

static uint64_t bench_batch_flags(struct bench_fixture *fx, uint64_t iters)
{
	uint64_t t = 0;

	for (uint64_t k = 0; k < iters; k++) {
		/* Even calls turn dirty logging on for every slot, odd ones off. */
		uint32_t flags = (k & 1) ? 0 : MEMSLOT_LOG_DIRTY_PAGES;
		size_t fi = 0;
		uint64_t t0;
		int ret;

		for (unsigned int i = 0; i < fx->sp->n; i++)
			fx->reqs[i] = bench_region(fx->sp, i, flags);
		t0 = bench_now();
		ret = memslots_apply(fx->ms, fx->reqs, fx->sp->n, &fi);
		t += bench_now() - t0;
		if (ret)
			bench_die("batch_flags", ret);
	}
	/* Leave the fixture without dirty logging. */
	if (iters & 1) {
		size_t fi = 0;

		for (unsigned int i = 0; i < fx->sp->n; i++)
			fx->reqs[i] = bench_region(fx->sp, i, 0);
		if (memslots_apply(fx->ms, fx->reqs, fx->sp->n, &fi))
			bench_die("batch_flags restore", -1);
	}
	return t;
}

/* ---- dirty logging (the engine only) ----------------------------------------------- */

#ifdef BENCH_INDEX
/* The dense layout's slot @i, for the dirty rows, which build their own
 * objects (bitmaps kept) whatever the layout. */
static struct memslots_region bench_dense_region(unsigned int i, uint32_t flags)
{
	struct memslots_region r = {
		.slot = i,
		.flags = flags,
		.guest_phys_addr = (BENCH_BASE_GFN + (uint64_t)i * BENCH_STRIDE) * BENCH_PAGE,
		.memory_size = BENCH_SLOT_PAGES * BENCH_PAGE,
		.userspace_addr = BENCH_BASE_HVA + (uint64_t)i * BENCH_STRIDE * BENCH_PAGE,
	};

	return r;
}
#endif

#ifdef BENCH_INDEX
#define BENCH_1G_PAGES 262144u

/* An object that keeps bitmaps per @dirty_log, with n slots of @flags. */
static struct memslots *bench_new_dirty(unsigned int n, uint32_t dirty_log, uint32_t flags)
{
	struct memslots_config cfg = {0};
	struct memslots_region *r = malloc(sizeof(*r) * (n ? n : 1));
	struct memslots *ms;
	size_t fi = 0;
	int ret;

	cfg.index = BENCH_INDEX;
	cfg.dirty_log = dirty_log;
	ms = memslots_new(&cfg);
	if (!ms || !r)
		bench_die("memslots_new (dirty)", -1);
	for (unsigned int i = 0; i < n; i++)
		r[i] = bench_dense_region(n - 1 - i, flags);
	ret = memslots_apply(ms, r, n, &fi);
	if (ret)
		bench_die("populate (dirty)", ret);
	free(r);
	return ms;
}

/* The objects of the dirty rows, one per kind, kept for the next call of
 * the same kind and N (a populate of 32764 slots is not free). */
struct bench_dirty_obj {
	struct memslots *ms;
	unsigned int n;
	uint32_t dirty_log;
};

static struct memslots *bench_dirty_obj(struct bench_dirty_obj *o, unsigned int n,
					uint32_t dirty_log, uint32_t flags)
{
	if (o->ms && (o->n != n || o->dirty_log != dirty_log)) {
		memslots_free(o->ms);
		o->ms = NULL;
	}
	if (!o->ms) {
		o->ms = bench_new_dirty(n, dirty_log, flags);
		o->n = n;
		o->dirty_log = dirty_log;
	}
	return o->ms;
}

static uint64_t bench_dirty_mark(unsigned int n, uint64_t iters, int cached)
{
	static struct bench_dirty_obj obj;
	struct memslots *ms =
		bench_dirty_obj(&obj, n, MEMSLOTS_DIRTY_BITMAP, MEMSLOT_LOG_DIRTY_PAGES);
	const struct memslots_set *set = memslots_read_lock(ms);
	struct memslots_cache cache = {0};
	uint64_t base = BENCH_BASE_GFN + (uint64_t)(n / 2) * BENCH_STRIDE;
	uint64_t acc = 0, t0, t;

	/* The access patterns of gfn_repeat and gfn_cached, marking. */
	acc += memslots_dirty_mark(set, base, 1);
	t0 = bench_now();
	if (cached)
		for (uint64_t k = 0; k < iters; k++)
			acc += memslots_dirty_mark_cached(set, &cache,
							  base + (k & (BENCH_SLOT_PAGES - 1)), 1);
	else
		for (uint64_t k = 0; k < iters; k++)
			acc += memslots_dirty_mark(set, base + (k & 1), 1);
	t = bench_now() - t0;
	memslots_read_unlock(ms);
	if (acc != iters + 1)
		bench_die("dirty_mark: a mark missed", (int)acc);
	bench_sink = acc;
	return t;
}

static uint64_t bench_dirty_collect_1g(uint64_t iters, int dirty)
{
	static struct memslots *ms;
	static uint64_t out[BENCH_1G_PAGES / 64];
	uint64_t t = 0;

	if (!ms) {
		struct memslots_config cfg = {.index = BENCH_INDEX,
					      .dirty_log = MEMSLOTS_DIRTY_BITMAP};
		struct memslots_region r = {
			.slot = 0,
			.flags = MEMSLOT_LOG_DIRTY_PAGES,
			.guest_phys_addr = BENCH_BASE_GFN * BENCH_PAGE,
			.memory_size = BENCH_1G_PAGES * BENCH_PAGE,
			.userspace_addr = BENCH_BASE_HVA,
		};

		ms = memslots_new(&cfg);
		if (!ms || memslots_set_region(ms, &r))
			bench_die("collect_1g setup", -1);
	}
	for (uint64_t k = 0; k < iters; k++) {
		const struct memslots_set *set = memslots_read_lock(ms);
		uint64_t t0;
		int64_t got;

		if (dirty)
			memslots_dirty_mark(set, BENCH_BASE_GFN, BENCH_1G_PAGES);
		t0 = bench_now();
		got = memslots_dirty_collect(set, 0, out, 0, BENCH_1G_PAGES);
		t += bench_now() - t0;
		memslots_read_unlock(ms);
		if (got != (dirty ? BENCH_1G_PAGES : 0))
			bench_die("collect_1g", (int)got);
	}
	return t;
}

static uint64_t bench_dirty_enable_all(unsigned int n, uint64_t iters, uint32_t dirty_log)
{
	static struct bench_dirty_obj obj;
	struct memslots *ms = bench_dirty_obj(&obj, n, dirty_log, 0);
	struct memslots_region *r = malloc(sizeof(*r) * n);
	uint64_t t = 0;

	for (uint64_t k = 0; k < iters; k++) {
		size_t fi = 0;
		uint64_t t0;
		int ret;

		for (unsigned int i = 0; i < n; i++)
			r[i] = bench_dense_region(i, MEMSLOT_LOG_DIRTY_PAGES);
		t0 = bench_now();
		ret = memslots_apply(ms, r, n, &fi);
		t += bench_now() - t0;
		for (unsigned int i = 0; i < n && !ret; i++)
			r[i] = bench_dense_region(i, 0);
		if (ret || memslots_apply(ms, r, n, &fi))
			bench_die("dirty_enable_all", ret);
	}
	free(r);
	return t;
}
#endif

/* ---- footprint ------------------------------------------------------------------- */

static size_t bench_bytes(const struct bench_space *sp)
{
	struct ts_alloc_counter count = {0};
	struct memslots *ms = bench_new(&count);
	size_t bytes;

	bench_populate(ms, sp);
	bytes = count.bytes;
	memslots_free(ms);
	if (count.bytes)
		bench_die("bytes: leak", (int)count.bytes);
	return bytes;
}

static size_t bench_bytes_sparse(void)
{
	struct ts_alloc_counter count = {0};
	struct memslots *ms = bench_new(&count);
	struct memslots_region r[2] = {0};
	size_t fi = 0, bytes;
	int ret;

	for (unsigned int i = 0; i < 2; i++) {
		r[i].slot = i ? MEMSLOTS_DEFAULT_MAX_SLOTS - 1 : 0;
		r[i].guest_phys_addr = (BENCH_BASE_GFN + i * BENCH_STRIDE) * BENCH_PAGE;
		r[i].memory_size = BENCH_SLOT_PAGES * BENCH_PAGE;
		r[i].userspace_addr = BENCH_BASE_HVA + i * BENCH_STRIDE * BENCH_PAGE;
	}
	ret = memslots_apply(ms, r, 2, &fi);
	if (ret)
		bench_die("bytes_sparse", ret);
	bytes = count.bytes;
	memslots_free(ms);
	return bytes;
}

const struct bench_impl BENCH_IMPL_SYM = {
	.name = BENCH_IMPL_NAME,
	.fixture_new = bench_fixture_new,
	.fixture_free = bench_fixture_free,
	.setup = bench_setup,
	.batch_create = bench_batch_create,
	.unmap = bench_unmap,
	.gfn_random = bench_gfn_random,
	.gfn_random_mt = bench_gfn_random_mt,
	.gfn_repeat = bench_gfn_repeat,
	.gfn_cached = bench_gfn_cached,
	.gfn_miss = bench_gfn_miss,
	.id_lookup = bench_id_lookup,
	.gfn_range = bench_gfn_range,
	.iterate = bench_iterate,
	.dense_limit = bench_dense_limit,
	.move = bench_move,
	.flags = bench_flags,
	.batch_flags = bench_batch_flags,
#ifdef BENCH_INDEX
	.dirty_mark = bench_dirty_mark,
	.dirty_collect_1g = bench_dirty_collect_1g,
	.dirty_enable_all = bench_dirty_enable_all,
#endif
	.bytes = bench_bytes,
	.bytes_sparse = bench_bytes_sparse,
};
