/* SPDX-License-Identifier: MIT */
/*
 * What the three compilations of bench_ops.c share: the thread
 * registration and the layouts (bench.h), drawn once per (layout, N) so
 * that every implementation answers the same queries on the same slots.
 */
#include "bench.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-memb.h>

#include "ts_rng.h"

void bench_register_thread(void)
{
	static _Thread_local bool registered;

	/* Both implementations default to liburcu memb, which must see a
	 * thread registered exactly once. */
	if (!registered) {
		urcu_memb_register_thread();
		registered = true;
	}
}

static const char *const bench_layout_names[BENCH_NR_LAYOUTS] = {
	[BENCH_DENSE] = "dense",
	[BENCH_HOLES] = "holes",
	[BENCH_VMM] = "vmm",
	[BENCH_VMM32K] = "vmm32k",
};

const char *bench_layout_name(unsigned int layout)
{
	return layout < BENCH_NR_LAYOUTS ? bench_layout_names[layout] : "?";
}

#define GIB_PAGES    (1ull << 18)
#define MIB_PAGES(x) ((uint64_t)(x) << 8)
#define HVA_GRAIN    (64ull << 10) /* small slots' hva granule */
#define HVA_HUGE     (2ull << 20)  /* RAM and virtio-mem hvas are 2 MiB aligned */

enum bench_kind { KIND_RAM, KIND_VMEM, KIND_SMALL };

/* The slots as they are drawn, ascending gfn; ids and hvas come after. */
struct bench_gen {
	struct bench_space *sp;
	uint8_t *kind;
	unsigned int used;
	struct ts_rng rng;
};

static void *bench_xalloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);

	if (!p) {
		fprintf(stderr, "bench: out of memory\n");
		abort();
	}
	return p;
}

static void bench_gen_add(struct bench_gen *g, uint64_t gfn, uint64_t pages, enum bench_kind kind)
{
	struct memslots_region *r = &g->sp->r[g->used];

	r->guest_phys_addr = gfn * BENCH_PAGE;
	r->memory_size = pages * BENCH_PAGE;
	g->kind[g->used++] = (uint8_t)kind;
}

static uint64_t bench_region_gfn(const struct memslots_region *r)
{
	return r->guest_phys_addr / BENCH_PAGE;
}

static uint64_t bench_region_pages(const struct memslots_region *r)
{
	return r->memory_size / BENCH_PAGE;
}

/* A small MMIO/ROM slot of 4-64 KiB at @gfn and a gap of 4-60 KiB after
 * it; returns the gfn after the gap. */
static uint64_t bench_gen_small(struct bench_gen *g, uint64_t gfn)
{
	uint64_t pages = 1ull << ts_rng_below(&g->rng, 5);

	bench_gen_add(g, gfn, pages, KIND_SMALL);
	return gfn + pages + 1 + ts_rng_below(&g->rng, 15);
}

static void bench_gen_vmm(struct bench_gen *g, unsigned int n)
{
	unsigned int ram = n < 4 ? n : 4;
	unsigned int vmem = (n - ram) / 2 < 256 ? (n - ram) / 2 : 256;
	unsigned int small = n - ram - vmem;
	/* At most 31 pages each: 8192 of them fit the 1 GiB below 4 GiB. */
	bool small_low = small <= 8192;
	uint64_t gfn;

	/* RAM below the 32-bit PCI hole, then the hole's MMIO and ROMs. */
	bench_gen_add(g, 0, 3 * GIB_PAGES, KIND_RAM);
	gfn = 3 * GIB_PAGES;
	for (unsigned int i = 0; small_low && i < small; i++)
		gfn = bench_gen_small(g, gfn);
	/* RAM above 4 GiB, 4 GiB slots 1 GiB apart; the virtio-mem device's
	 * blocks after it, all plugged, each its own slot. */
	for (unsigned int i = 1; i < ram; i++)
		bench_gen_add(g, (4 + 5 * (uint64_t)(i - 1)) * GIB_PAGES, 4 * GIB_PAGES, KIND_RAM);
	gfn = (4 + 5 * (uint64_t)(ram - 1)) * GIB_PAGES;
	for (unsigned int i = 0; i < vmem; i++)
		bench_gen_add(g, gfn + (uint64_t)i * MIB_PAGES(128), MIB_PAGES(128), KIND_VMEM);
	gfn += (uint64_t)vmem * MIB_PAGES(128) + GIB_PAGES;
	for (unsigned int i = 0; !small_low && i < small; i++)
		gfn = bench_gen_small(g, gfn);
}

/* ids: a random @n of [0, @range), in random order over the slots. */
static void bench_gen_ids(struct bench_gen *g, unsigned int range)
{
	uint16_t *pool = bench_xalloc(sizeof(*pool) * range);
	unsigned int n = g->sp->n;

	for (unsigned int i = 0; i < range; i++)
		pool[i] = (uint16_t)i;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int j = i + (unsigned int)ts_rng_below(&g->rng, range - i);
		uint16_t t = pool[i];

		pool[i] = pool[j];
		pool[j] = t;
		g->sp->r[i].slot = pool[i];
	}
	free(pool);
}

static uint64_t bench_round_up(uint64_t x, uint64_t to)
{
	return (x + to - 1) / to * to;
}

/* hvas in id order, as a VMM that maps each slot's memory when it creates
 * it; RAM and virtio-mem 2 MiB aligned, small slots 64 KiB apart. */
static void bench_gen_hvas_by_id(struct bench_gen *g)
{
	struct bench_space *sp = g->sp;
	unsigned int *by_id = bench_xalloc(sizeof(*by_id) * 65536);
	uint64_t hva = BENCH_BASE_HVA;

	for (unsigned int i = 0; i < 65536; i++)
		by_id[i] = ~0u;
	for (unsigned int i = 0; i < sp->n; i++)
		by_id[sp->r[i].slot] = i;
	for (unsigned int id = 0; id < 65536; id++) {
		unsigned int i = by_id[id];

		if (i == ~0u)
			continue;
		if (g->kind[i] != KIND_SMALL)
			hva = bench_round_up(hva, HVA_HUGE);
		sp->r[i].userspace_addr = hva;
		hva += bench_round_up(sp->r[i].memory_size, HVA_GRAIN) + HVA_GRAIN;
	}
	free(by_id);
}

/* Index of the slot whose range holds @gfn, or -1. */
static long bench_space_find(const struct bench_space *sp, uint64_t gfn)
{
	size_t lo = 0, hi = sp->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sp->keys[mid] <= gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && gfn < sp->ends[lo - 1] ? (long)(lo - 1) : -1;
}

static uint64_t bench_page_of(struct bench_gen *g, unsigned int i)
{
	const struct memslots_region *r = &g->sp->r[i];

	return bench_region_gfn(r) + ts_rng_below(&g->rng, bench_region_pages(r));
}

/* The first index of @kind, and how many there are (they are contiguous
 * in gfn order but for the vmm layout's low small slots: scan). */
static unsigned int bench_pick_kind(struct bench_gen *g, enum bench_kind kind)
{
	unsigned int count = 0, pick;

	for (unsigned int i = 0; i < g->used; i++)
		count += g->kind[i] == kind;
	pick = (unsigned int)ts_rng_below(&g->rng, count);
	for (unsigned int i = 0; i < g->used; i++)
		if (g->kind[i] == kind && !pick--)
			return i;
	return 0;
}

static bool bench_have_kind(const struct bench_gen *g, enum bench_kind kind)
{
	for (unsigned int i = 0; i < g->used; i++)
		if (g->kind[i] == kind)
			return true;
	return false;
}

/* vmm: 80% RAM (uniform over its pages), 15% virtio-mem, 5% small slots. */
static uint64_t bench_vmm_query(struct bench_gen *g)
{
	unsigned int p = (unsigned int)ts_rng_below(&g->rng, 100);
	enum bench_kind kind = p < 80 ? KIND_RAM : p < 95 ? KIND_VMEM : KIND_SMALL;

	if (!bench_have_kind(g, kind))
		kind = KIND_RAM;
	if (kind == KIND_RAM) {
		uint64_t total = 0, page;

		for (unsigned int i = 0; i < g->used; i++)
			if (g->kind[i] == KIND_RAM)
				total += bench_region_pages(&g->sp->r[i]);
		page = ts_rng_below(&g->rng, total);
		for (unsigned int i = 0; i < g->used; i++) {
			uint64_t pages = bench_region_pages(&g->sp->r[i]);

			if (g->kind[i] != KIND_RAM)
				continue;
			if (page < pages)
				return bench_region_gfn(&g->sp->r[i]) + page;
			page -= pages;
		}
	}
	return bench_page_of(g, bench_pick_kind(g, kind));
}

static uint64_t bench_gfn_query(struct bench_gen *g)
{
	const struct bench_space *sp = g->sp;

	switch (sp->layout) {
	case BENCH_HOLES:
		return ts_rng_below(&g->rng, 16ull * sp->n);
	case BENCH_VMM:
		return bench_vmm_query(g);
	default:
		return bench_page_of(g, (unsigned int)ts_rng_below(&g->rng, sp->n));
	}
}

/* A random gfn in a random hole between two slots (or above the top). */
static uint64_t bench_hole_query(struct bench_gen *g, const unsigned int *gaps,
				 unsigned int nr_gaps)
{
	const struct bench_space *sp = g->sp;
	unsigned int i;

	if (!nr_gaps)
		return sp->ends[sp->n - 1] + ts_rng_below(&g->rng, 16);
	i = gaps[ts_rng_below(&g->rng, nr_gaps)];
	return sp->ends[i] + ts_rng_below(&g->rng, sp->keys[i + 1] - sp->ends[i]);
}

static void bench_gen_queries(struct bench_gen *g)
{
	struct bench_space *sp = g->sp;
	unsigned int *gaps = bench_xalloc(sizeof(*gaps) * sp->n);
	unsigned int nr_gaps = 0;

	for (unsigned int i = 0; i + 1 < sp->n; i++)
		if (sp->ends[i] < sp->keys[i + 1])
			gaps[nr_gaps++] = i;
	for (unsigned int k = 0; k < BENCH_NR_KEYS; k++) {
		uint64_t gfn = bench_gfn_query(g);
		long i = bench_space_find(sp, gfn);

		sp->gfns[k] = gfn;
		sp->gfn_hits += i >= 0;
		sp->holes[k] = bench_hole_query(g, gaps, nr_gaps);
		if (sp->layout == BENCH_DENSE || sp->layout == BENCH_HOLES) {
			/* uniform over the hva span, holes between slots included */
			sp->hvas[k] =
				BENCH_BASE_HVA +
				ts_rng_below(&g->rng, (uint64_t)sp->n * BENCH_STRIDE) * BENCH_PAGE;
		} else {
			/* where the guest touches memory: the gfn query's page */
			sp->hvas[k] = sp->r[i].userspace_addr + (gfn - sp->keys[i]) * BENCH_PAGE;
		}
		sp->ids[k] = (uint16_t)sp->r[ts_rng_below(&g->rng, sp->n)].slot;
	}
	free(gaps);
}

static void bench_gen_repeat(struct bench_space *sp)
{
	long i = -1;

	for (unsigned int k = 0; k < BENCH_NR_KEYS && i < 0; k++)
		i = bench_space_find(sp, sp->gfns[k]);
	if (i < 0)
		i = 0;
	sp->rep_gfn = sp->keys[i];
	sp->rep_mask = sp->ends[i] - sp->keys[i] >= 4 ? 3 : sp->ends[i] - sp->keys[i] >= 2 ? 1 : 0;
}

int bench_space_init(struct bench_space *sp, unsigned int layout, unsigned int n)
{
	struct bench_gen g = {.sp = sp,
			      .rng = {0x9e3779b97f4a7c15ull ^ n ^ ((uint64_t)layout << 32)}};

	memset(sp, 0, sizeof(*sp));
	if (!n || n > MEMSLOTS_DEFAULT_MAX_SLOTS || layout >= BENCH_NR_LAYOUTS ||
	    (layout == BENCH_VMM32K && n != MEMSLOTS_DEFAULT_MAX_SLOTS))
		return -1;
	sp->layout = layout;
	sp->n = n;
	sp->r = bench_xalloc(sizeof(*sp->r) * n);
	sp->keys = bench_xalloc(sizeof(*sp->keys) * n);
	sp->ends = bench_xalloc(sizeof(*sp->ends) * n);
	g.kind = bench_xalloc(n);

	switch (layout) {
	case BENCH_DENSE:
	case BENCH_HOLES:
		for (unsigned int i = 0; i < n; i++) {
			uint64_t stride = layout == BENCH_DENSE ? BENCH_STRIDE : 16;
			uint64_t base = layout == BENCH_DENSE ? BENCH_BASE_GFN : 0;
			unsigned int hva_rank = layout == BENCH_DENSE ? i : n - 1 - i;

			bench_gen_add(&g, base + i * stride, BENCH_SLOT_PAGES, KIND_SMALL);
			sp->r[i].slot = i;
			sp->r[i].userspace_addr =
				BENCH_BASE_HVA + (uint64_t)hva_rank * BENCH_STRIDE * BENCH_PAGE;
		}
		break;
	case BENCH_VMM:
		bench_gen_vmm(&g, n);
		bench_gen_ids(&g, 2 * n < MEMSLOTS_DEFAULT_MAX_SLOTS ? 2 * n
								     : MEMSLOTS_DEFAULT_MAX_SLOTS);
		bench_gen_hvas_by_id(&g);
		break;
	case BENCH_VMM32K: {
		uint64_t gfn = BENCH_BASE_GFN;

		for (unsigned int i = 0; i < n; i++)
			gfn = bench_gen_small(&g, gfn);
		bench_gen_ids(&g, n);
		bench_gen_hvas_by_id(&g);
		break;
	}
	}
	for (unsigned int i = 0; i < n; i++) {
		sp->keys[i] = bench_region_gfn(&sp->r[i]);
		sp->ends[i] = sp->keys[i] + bench_region_pages(&sp->r[i]);
	}
	sp->top_gfn = bench_round_up(sp->ends[n - 1], 512) + 512;
	bench_gen_queries(&g);
	bench_gen_repeat(sp);
	free(g.kind);
	return 0;
}

void bench_space_fini(struct bench_space *sp)
{
	free(sp->r);
	free(sp->keys);
	free(sp->ends);
	memset(sp, 0, sizeof(*sp));
}
