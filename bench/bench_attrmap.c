/* SPDX-License-Identifier: MIT */
/*
 * Memory-attribute conversions and lookups: the run map of src/attrmap.h
 * against a per-gfn table (one u64 per page, a flat array: what a per-page
 * structure such as KVM's xarray costs at the very least, without its
 * tree walk per entry).
 *
 * The guest has BA_GUEST_PAGES pages (4 GiB of 4 KiB pages), cut into r
 * equal runs alternating shared (0) and private, r = 1, 1000, 100000.  A
 * conversion flips a random range (2 MiB or 1 GiB, 2 MiB aligned) to the
 * opposite of its first page's state: for the map, prepare (reserving for
 * one map) + apply + freeing the reserve, which is the writer's work for
 * one set (the engine does it for both); for the table, what KVM does:
 * look for a page that differs, then store every page.  After each timed
 * conversion the range's runs are put back, untimed, so every conversion
 * sees r runs (and the range is warm in the cache for both).  A lookup
 * asks a random gfn's word and where its run ends, or the word alone; the
 * table answers the word in O(1) and the run end by scanning.  Both are
 * called through the same function pointers.  Figures are medians (of
 * single conversions, of batches of 256 lookups), so that preemption on a
 * shared machine does not count.
 *
 *   attrmap_bench [--quick]
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attrmap.h"

#define BA_GUEST_PAGES (1ull << 20)
#define BA_PRIVATE     (1ull << 3)
#define BA_2M_PAGES    512ull

static uint64_t ba_rng = 0x9e3779b97f4a7c15ull;

static uint64_t ba_rand(void)
{
	ba_rng ^= ba_rng >> 12;
	ba_rng ^= ba_rng << 25;
	ba_rng ^= ba_rng >> 27;
	return ba_rng * 0x2545f4914f6cdd1dull;
}

static uint64_t ba_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int ba_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The median of @n samples (sorts them).  The machine is shared: a mean
 * would count every preemption, the median counts none of them.
 */
static double ba_median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), ba_cmp_u64);
	return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

/* Run i of r covers [i * G / r, (i + 1) * G / r); odd runs are private. */
static uint64_t ba_run_first(uint64_t i, uint64_t r)
{
	return i * BA_GUEST_PAGES / r;
}

static uint64_t ba_pattern_word(uint64_t i)
{
	return i & 1 ? BA_PRIVATE : 0;
}

/* ---- the two implementations ------------------------------------------------ */

struct ba_impl {
	const char *name;
	void *(*create)(uint64_t r); /* with the pattern of r runs */
	void (*destroy)(void *obj);
	size_t (*bytes)(const void *obj);
	void (*set)(void *obj, uint64_t start, uint64_t last, uint64_t attrs);
	/* Puts the pattern back on [start, last], untimed. */
	void (*restore)(void *obj, uint64_t r, uint64_t start, uint64_t last);
	uint64_t (*get)(const void *obj, uint64_t gfn, uint64_t *run_end);
	uint64_t (*word)(const void *obj, uint64_t gfn); /* without the run end */
};

/*
 * The table of implementation @kind, built from its functions
 * ba_<kind>_<member>, so the two tables fill the same members: a kind
 * that lacks one of the functions does not build.
 */
#define BA_IMPL(kind)                                                                             \
	{                                                                                         \
		.name = #kind, .create = ba_##kind##_create, .destroy = ba_##kind##_destroy,      \
		.bytes = ba_##kind##_bytes, .set = ba_##kind##_set,                               \
		.restore = ba_##kind##_restore, .get = ba_##kind##_get, .word = ba_##kind##_word, \
	}

static void *ba_xmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p) {
		fprintf(stderr, "attrmap_bench: out of memory\n");
		exit(1);
	}
	return p;
}

/* The run map: one conversion is prepare + apply + freeing the reserve. */
static void ba_map_set(void *obj, uint64_t start, uint64_t last, uint64_t attrs)
{
	struct ms_attrmap *map = obj;
	struct ms_attrmap_pool res = MS_ATTRMAP_POOL_INIT;
	struct ms_attrmap_plan plan;

	if (ms_attrmap_reserve(map, start, last, attrs, 1, &res, &plan) ||
	    ms_attrmap_set(map, &plan, &res)) {
		fprintf(stderr, "attrmap_bench: out of memory\n");
		exit(1);
	}
	ms_attrmap_settle(&res, map->alloc);
}

/* Sets again every pattern run that intersects [start, last]. */
static void ba_map_restore(void *obj, uint64_t r, uint64_t start, uint64_t last)
{
	uint64_t i = start * r / BA_GUEST_PAGES;

	for (; i < r && ba_run_first(i, r) <= last; i++)
		ba_map_set(obj, ba_run_first(i, r), ba_run_first(i + 1, r) - 1, ba_pattern_word(i));
}

static void *ba_map_create(uint64_t r)
{
	struct ms_attrmap *map = ba_xmalloc(sizeof(*map));

	ms_attrmap_init(map, &ms_alloc_libc);
	ba_map_restore(map, r, 0, BA_GUEST_PAGES - 1);
	return map;
}

static void ba_map_destroy(void *obj)
{
	ms_attrmap_destroy(obj);
	free(obj);
}

static size_t ba_map_bytes(const void *obj)
{
	return ms_attrmap_nr_runs(obj) * sizeof(struct ms_attr_run);
}

static uint64_t ba_map_get(const void *obj, uint64_t gfn, uint64_t *run_end)
{
	return ms_attrmap_get(obj, gfn, run_end);
}

static uint64_t ba_map_word(const void *obj, uint64_t gfn)
{
	return ms_attrmap_get(obj, gfn, NULL);
}

static const struct ba_impl ba_map = BA_IMPL(map);

/* The per-gfn table, KVM's order: anything to change?  Then store every
 * page. */
static void ba_table_set(void *obj, uint64_t start, uint64_t last, uint64_t attrs)
{
	uint64_t *table = obj, g;

	for (g = start; g <= last && table[g] == attrs; g++)
		;
	if (g > last)
		return;
	for (g = start; g <= last; g++)
		table[g] = attrs;
}

static void ba_table_restore(void *obj, uint64_t r, uint64_t start, uint64_t last)
{
	uint64_t *table = obj;

	for (uint64_t g = start; g <= last; g++)
		table[g] = ba_pattern_word(g * r / BA_GUEST_PAGES);
}

static void *ba_table_create(uint64_t r)
{
	uint64_t *table = ba_xmalloc(BA_GUEST_PAGES * sizeof(*table));

	ba_table_restore(table, r, 0, BA_GUEST_PAGES - 1);
	return table;
}

static void ba_table_destroy(void *obj)
{
	free(obj);
}

static size_t ba_table_bytes(const void *obj)
{
	(void)obj;
	return BA_GUEST_PAGES * sizeof(uint64_t);
}

/* The word in O(1); the run end by scanning. */
static uint64_t ba_table_get(const void *obj, uint64_t gfn, uint64_t *run_end)
{
	const uint64_t *table = obj;
	uint64_t a = table[gfn], g = gfn + 1;

	while (g < BA_GUEST_PAGES && table[g] == a)
		g++;
	*run_end = g < BA_GUEST_PAGES ? g : UINT64_MAX;
	return a;
}

static uint64_t ba_table_word(const void *obj, uint64_t gfn)
{
	return ((const uint64_t *)obj)[gfn];
}

static const struct ba_impl ba_table = BA_IMPL(table);

/* ---- measurements -------------------------------------------------------------- */

#define BA_BATCH 256 /* lookups per timed batch */

struct ba_result {
	double convert_ns[2]; /* medians: 2 MiB, 1 GiB */
	double get_ns;	      /* median batch / BA_BATCH */
	double word_ns;
	size_t bytes;
};

static uint64_t ba_range_start(uint64_t pages)
{
	uint64_t slots = (BA_GUEST_PAGES - pages) / BA_2M_PAGES + 1;

	return ba_rand() % slots * BA_2M_PAGES;
}

static volatile uint64_t ba_sink;

static void ba_measure(const struct ba_impl *impl, uint64_t r, const unsigned int iters[2],
		       unsigned int batches, struct ba_result *out)
{
	static const uint64_t pages[2] = {BA_2M_PAGES, 1ull << 18};
	uint64_t *ns = ba_xmalloc((iters[0] > 2001 ? iters[0] : 2001) * sizeof(*ns));
	void *obj = impl->create(r);
	unsigned int word_batches = batches < 2001 && iters[0] < 2001 ? 3 : 2001;
	uint64_t sum = 0, end;

	out->bytes = impl->bytes(obj);
	for (int s = 0; s < 2; s++) {
		for (unsigned int i = 0; i < iters[s]; i++) {
			uint64_t start = ba_range_start(pages[s]), last = start + pages[s] - 1;
			uint64_t to = impl->get(obj, start, &end) ? 0 : BA_PRIVATE;
			uint64_t t = ba_now_ns();

			impl->set(obj, start, last, to);
			ns[i] = ba_now_ns() - t;
			impl->restore(obj, r, start, last);
		}
		out->convert_ns[s] = ba_median(ns, iters[s]);
	}
	for (unsigned int b = 0; b < batches; b++) {
		uint64_t t = ba_now_ns();

		for (unsigned int i = 0; i < BA_BATCH; i++)
			sum += impl->get(obj, ba_rand() % BA_GUEST_PAGES, &end) + end;
		ns[b] = ba_now_ns() - t;
	}
	out->get_ns = ba_median(ns, batches) / BA_BATCH;
	for (unsigned int b = 0; b < word_batches; b++) {
		uint64_t t = ba_now_ns();

		for (unsigned int i = 0; i < BA_BATCH; i++)
			sum += impl->word(obj, ba_rand() % BA_GUEST_PAGES);
		ns[b] = ba_now_ns() - t;
	}
	out->word_ns = ba_median(ns, word_batches) / BA_BATCH;
	ba_sink = sum;
	impl->destroy(obj);
	free(ns);
}

int main(int argc, char **argv)
{
	static const uint64_t runs[] = {1, 1000, 100000};
	bool quick = argc > 1 && !strcmp(argv[1], "--quick");
	const unsigned int iters[2] = {quick ? 21 : 2001, quick ? 3 : 41};

	printf("guest %" PRIu64
	       " pages (4 GiB of 4 KiB pages), r runs alternating shared and private;\n"
	       "a conversion flips a random 2 MiB-aligned range; medians per operation\n\n",
	       (uint64_t)BA_GUEST_PAGES);
	printf("%-7s %-6s %14s %14s %16s %12s %12s\n", "runs", "impl", "convert 2MiB",
	       "convert 1GiB", "get+run_end", "get word", "memory");
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		for (int k = 0; k < 2; k++) {
			const struct ba_impl *impl = k ? &ba_table : &ba_map;
			/* The table's run end is a scan of G / r / 2 pages on
			 * average: fewer batches when runs are long. */
			unsigned int batches = quick ? 3 : k && runs[i] == 1 ? 3 : 2001;
			struct ba_result res;

			ba_measure(impl, runs[i], iters, batches, &res);
			printf("%-7" PRIu64
			       " %-6s %11.0f ns %11.0f ns %13.1f ns %9.1f ns %8zu KiB\n",
			       runs[i], impl->name, res.convert_ns[0], res.convert_ns[1],
			       res.get_ns, res.word_ns, res.bytes / 1024);
		}
	}
	return 0;
}
