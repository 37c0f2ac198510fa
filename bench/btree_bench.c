/* SPDX-License-Identifier: MIT */
/*
 * The gfn index alone, at N = 10, 100, 1000 and 32764 ranges laid out like
 * memslots (random bases in a 2^36-page space, random lengths, a hole after
 * every range): random lookups that hit and lookups that fall in a hole, on
 *   btree-ins    the B+tree (src/btree.h) grown by random-order inserts
 *   btree-bulk   the same built by ms_btree_build() (leaves full)
 *   rbtree       a red-black tree laid out as the engine's slots are now
 *                (32-byte window in a 264-byte heap object per range)
 *   array        binary search over a sorted array of (base, end)
 *   dense-keys   branch-free search over a sorted array of bases alone,
 *                then one read of the end from a parallel array: the
 *                "dense-key limit" for an index of sorted keys
 * "indep" runs independent lookups (throughput: the CPU overlaps them);
 * "chain" makes each lookup's gfn depend on the previous result (latency),
 * for hits only: a miss returns NULL through a predictable branch, so the
 * CPU would run ahead of it and a miss "chain" would time nothing real.
 * Best of 15 runs; also the B+tree's memory per entry and its reserve sizes.
 *
 *   btree_bench [lookups per run, default 500000]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "btree.h"
#include "rbtree.h"

#define NR_QUERIES (1u << 16) /* power of two */
#define BENCH_REPS 15	      /* best of: the machine is shared */

struct range {
	uint64_t base, end;
};

/* A stand-in for the engine's slot: the descent window at a 32-byte aligned
 * offset of a 32-byte aligned 264-byte object, as src/slot.h lays it out. */
struct rslot {
	char head[32];
	struct ms_rb_node rb;
	uint64_t base, npages;
	char tail[264 - 32 - 40];
} __attribute__((aligned(32)));

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* order[] = 0..n-1 in random order. */
static void shuffle(size_t *order, size_t n)
{
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd() % i, t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* n sorted, disjoint ranges, each followed by a hole of >= 1 page. */
static struct range *make_layout(size_t n)
{
	uint64_t *b = malloc((n + 1) * sizeof(*b));
	struct range *r = malloc(n * sizeof(*r));
	size_t k = 0;

	while (k < n) {
		for (size_t i = k; i < n; i++)
			b[i] = rnd() % (1ull << 36);
		qsort(b, n, sizeof(*b), cmp_u64);
		k = 0;
		for (size_t i = 0; i < n; i++)
			if (!k || b[i] > b[k - 1] + 1)
				b[k++] = b[i];
	}
	b[n] = 1ull << 36;
	for (size_t i = 0; i < n; i++) {
		uint64_t gap = b[i + 1] - b[i], max = gap - 1 < (1u << 18) ? gap - 1 : (1u << 18);

		r[i].base = b[i];
		r[i].end = b[i] + 1 + rnd() % max;
	}
	free(b);
	return r;
}

/* ---- the contenders ----------------------------------------------------------- */

static const struct range *arr;
static const uint64_t *dkeys, *dends;
static size_t arr_n;
static struct ms_btree bt_ins, bt_bulk;
static struct ms_rb_root rb_root;

static const void *array_find(uint64_t g)
{
	size_t lo = 0, hi = arr_n;

	/* First index whose base > g. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (arr[mid].base <= g)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && g < arr[lo - 1].end ? &arr[lo - 1] : NULL;
}

static const void *dense_find(uint64_t g)
{
	const uint64_t *base = dkeys;
	size_t n = arr_n;

	/* Branch-free: halve the window with a conditional move. */
	while (n > 1) {
		size_t half = n / 2;

		base = base[half] <= g ? base + half : base;
		n -= half;
	}
	size_t i = (size_t)(base - dkeys) + (*base <= g) - 1;

	return i < arr_n && g < dends[i] ? &dends[i] : NULL;
}

static const void *rbtree_find(uint64_t g)
{
	const struct ms_rb_node *n = rb_root.node;

	while (n) {
		const struct rslot *s = ms_container_of(n, struct rslot, rb);

		if (g < s->base)
			n = n->left;
		else if (g - s->base < s->npages)
			return s;
		else
			n = n->right;
	}
	return NULL;
}

static const void *btree_ins_find(uint64_t g)
{
	return ms_btree_lookup(&bt_ins, g);
}

static const void *btree_bulk_find(uint64_t g)
{
	return ms_btree_lookup(&bt_bulk, g);
}

static struct rslot *rb_build(const struct range *r, size_t n)
{
	struct rslot **objs = malloc(n * sizeof(*objs));
	size_t *order = malloc(n * sizeof(*order));

	/* Allocated one by one, inserted in random order, as slots are. */
	for (size_t i = 0; i < n; i++) {
		objs[i] = aligned_alloc(32, sizeof(struct rslot));
		memset(objs[i], 0, sizeof(struct rslot));
		objs[i]->base = r[i].base;
		objs[i]->npages = r[i].end - r[i].base;
	}
	shuffle(order, n);
	rb_root = MS_RB_ROOT;
	for (size_t i = 0; i < n; i++) {
		struct rslot *s = objs[order[i]];
		struct ms_rb_node **link = &rb_root.node, *parent = NULL;

		while (*link) {
			parent = *link;
			link = s->base < ms_container_of(parent, struct rslot, rb)->base
				       ? &parent->left
				       : &parent->right;
		}
		ms_rb_link_node(&s->rb, parent, link);
		ms_rb_insert_color(&s->rb, &rb_root);
	}
	free(order);
	return (struct rslot *)objs; /* the caller frees objs[i] and objs */
}

/* ---- timing ---------------------------------------------------------------------- */

typedef const void *(*find_fn)(uint64_t g);

static double run_indep(find_fn f, const uint64_t *q, size_t lookups)
{
	double best = 1e30;

	for (int rep = 0; rep < BENCH_REPS; rep++) {
		uintptr_t acc = 0;
		uint64_t t0 = now_ns();

		for (size_t i = 0; i < lookups; i++)
			acc += (uintptr_t)f(q[i & (NR_QUERIES - 1)]);
		double ns = (double)(now_ns() - t0) / (double)lookups;

		if (ns < best)
			best = ns;
		__asm__ volatile("" : : "r"(acc));
	}
	return best;
}

static double run_chain(find_fn f, const uint64_t *q, size_t lookups)
{
	double best = 1e30;

	for (int rep = 0; rep < BENCH_REPS; rep++) {
		size_t k = 0;
		uint64_t t0 = now_ns();

		for (size_t i = 0; i < lookups; i++) {
			/* Pointers are aligned: bit 0 is 0, but only known at run time. */
			uintptr_t res = (uintptr_t)f(q[k & (NR_QUERIES - 1)]);

			k += 1 + (res & 1);
		}
		double ns = (double)(now_ns() - t0) / (double)lookups;

		if (ns < best)
			best = ns;
		__asm__ volatile("" : : "r"(k));
	}
	return best;
}

/* Counts the bytes the B+tree asks its allocator for. */
static size_t bt_bytes;

static void *count_alloc(size_t size, void *opaque)
{
	(void)opaque;
	bt_bytes += size;
	return malloc(size);
}

static void count_free(void *ptr, void *opaque)
{
	(void)opaque;
	free(ptr);
}

static const struct ms_alloc counting = {.alloc = count_alloc, .free = count_free};

static void bench_n(size_t n, size_t lookups)
{
	static const char *const names[] = {"btree-ins", "btree-bulk", "rbtree", "array",
					    "dense-keys"};
	const find_fn fns[] = {btree_ins_find, btree_bulk_find, rbtree_find, array_find,
			       dense_find};
	struct range *r = make_layout(n);
	struct ms_btree_entry *e = malloc(n * sizeof(*e));
	uint64_t *keys = malloc(n * sizeof(*keys)), *ends = malloc(n * sizeof(*ends));
	uint64_t *hit = malloc(NR_QUERIES * sizeof(*hit)),
		 *miss = malloc(NR_QUERIES * sizeof(*miss));
	struct rslot **objs;
	size_t *order = malloc(n * sizeof(*order)), bytes_ins;

	for (size_t i = 0; i < n; i++) {
		e[i] = (struct ms_btree_entry){r[i].base, r[i].end, &r[i]};
		keys[i] = r[i].base;
		ends[i] = r[i].end;
	}
	shuffle(order, n);
	arr = r;
	arr_n = n;
	dkeys = keys;
	dends = ends;
	bt_bytes = 0;
	ms_btree_init(&bt_ins, &counting);
	for (size_t i = 0; i < n; i++)
		if (ms_btree_insert(&bt_ins, e[order[i]].key, e[order[i]].end, e[order[i]].val))
			abort();
	bytes_ins = bt_bytes;
	ms_btree_init(&bt_bulk, &ms_alloc_libc);
	if (ms_btree_build(&bt_bulk, e, n))
		abort();
	objs = (struct rslot **)rb_build(r, n);
	for (size_t k = 0; k < NR_QUERIES; k++) {
		const struct range *x = &r[rnd() % n];

		hit[k] = x->base + rnd() % (x->end - x->base);
		/* The hole after x: [end, next base). */
		uint64_t next = x + 1 < r + n ? x[1].base : 1ull << 36;

		miss[k] = x->end + rnd() % (next - x->end);
	}
	for (size_t k = 0; k < NR_QUERIES; k++)
		for (size_t f = 0; f < 5; f++)
			if ((fns[f](hit[k]) != NULL) != 1 || fns[f](miss[k]) != NULL)
				abort(); /* every contender must agree */

	printf("\nN = %zu  (B+tree height %u by inserts, %u built; %zu / %zu nodes)\n", n,
	       bt_ins.height, bt_bulk.height, bt_ins.nr_nodes, bt_bulk.nr_nodes);
	printf("%-11s %12s %12s %12s\n", "ns/lookup", "hit indep", "miss indep", "hit chain");
	for (size_t f = 0; f < 5; f++)
		printf("%-11s %12.1f %12.1f %12.1f\n", names[f], run_indep(fns[f], hit, lookups),
		       run_indep(fns[f], miss, lookups), run_chain(fns[f], hit, lookups));
	printf("B+tree memory per entry: inserts %.1f B (%.1f B asked of the allocator), "
	       "built %.1f B\n",
	       (double)bt_ins.nr_nodes * MS_BTREE_NODE_SIZE / (double)n,
	       (double)bytes_ins / (double)n,
	       (double)bt_bulk.nr_nodes * MS_BTREE_NODE_SIZE / (double)n);
	printf("reserve (nodes) for 1 / 10 / 100 / 1000 inserts: inserts-grown %zu / %zu / %zu / "
	       "%zu, built %zu / %zu / %zu / %zu\n",
	       ms_btree_insert_nodes(&bt_ins, 1), ms_btree_insert_nodes(&bt_ins, 10),
	       ms_btree_insert_nodes(&bt_ins, 100), ms_btree_insert_nodes(&bt_ins, 1000),
	       ms_btree_insert_nodes(&bt_bulk, 1), ms_btree_insert_nodes(&bt_bulk, 10),
	       ms_btree_insert_nodes(&bt_bulk, 100), ms_btree_insert_nodes(&bt_bulk, 1000));

	ms_btree_destroy(&bt_ins);
	ms_btree_destroy(&bt_bulk);
	for (size_t i = 0; i < n; i++)
		free(objs[i]);
	free(objs);
	free(order);
	free(hit);
	free(miss);
	free(keys);
	free(ends);
	free(e);
	free(r);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {10, 100, 1000, 32764};
	size_t lookups = argc > 1 ? strtoull(argv[1], NULL, 0) : 500000;

	printf("gfn index lookups, %zu per run, best of %d\n", lookups, BENCH_REPS);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		bench_n(sizes[i], lookups);
	return 0;
}
