/* SPDX-License-Identifier: MIT */
/*
 * The benchmark bodies, behind one table per implementation.
 *
 * bench_ops.c is compiled three times: against the engine on its default
 * index, the B+tree (bench_impl_btree), and on KVM's red-black tree and id
 * hash (bench_impl_kvm), and, with msarr_as_memslots.h force-included,
 * against the array baseline (bench_impl_array).  So the bodies are written once, and the hot loops
 * call the library directly rather than through function pointers, which
 * would add a few nanoseconds to lookups that take one or two.
 *
 * Every timed body does @iters operations and returns the elapsed
 * nanoseconds (CLOCK_MONOTONIC around the work only); the C++ shim feeds
 * that to Google Benchmark as manual time and divides by the operations.
 *
 * Every body runs on one of the address-space layouts below (a struct
 * bench_space: the slots and the precomputed query keys, the same for the
 * three implementations), and every lookup reads a field of the slot it
 * gets back, as a caller does: a lookup that never touches its answer
 * hides the cost of reaching the slot.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_PAGE    4096ull
#define BENCH_NR_KEYS 4096u /* precomputed random keys per space (power of 2) */

/* The dense layout's geometry (and the base of the others' hvas). */
#define BENCH_SLOT_PAGES 4u
#define BENCH_STRIDE	 8u
#define BENCH_BASE_GFN	 0x100000ull /* 4 GiB */
#define BENCH_BASE_HVA	 0x7f0000000000ull

/*
 * The layouts (docs/performance.md describes each):
 *
 *  dense   slot i (id i) holds 4 pages at gfn 4 GiB + 8 i pages, hva in
 *          the same order with the same stride; gfn queries inside slots.
 *  holes   slot i holds 4 pages at gfn 16 i, hva in reverse id order;
 *          random gfn queries uniform over [0, 16 N): 3 in 4 miss.
 *  vmm     what a VMM has: up to 4 RAM slots of GiBs, up to 256
 *          virtio-mem blocks of 128 MiB, the rest small MMIO/ROM slots of
 *          4-64 KiB; ids a random half of [0, 2 N); hvas in id order;
 *          queries 80% RAM, 15% virtio-mem, 5% small slots.
 *  vmm32k  32764 small slots of 4-64 KiB with gaps, ids a permutation of
 *          0..32763 (QEMU's dirty-sync case); queries uniform over the
 *          slots.  Only at N = 32764.
 */
enum bench_layout {
	BENCH_DENSE,
	BENCH_HOLES,
	BENCH_VMM,
	BENCH_VMM32K,
	BENCH_NR_LAYOUTS,
};

const char *bench_layout_name(unsigned int layout);

/* One layout at one N: the slots and the queries, drawn repeatably. */
struct bench_space {
	unsigned int layout, n;
	struct memslots_region *r;    /* n regions, ascending gfn */
	uint64_t top_gfn;	      /* above every slot, page-aligned to 2 MiB: the move target */
	uint64_t gfns[BENCH_NR_KEYS]; /* random gfn queries (the layout's mix) */
	uint64_t holes[BENCH_NR_KEYS]; /* random gfns in holes between slots */
	uint64_t hvas[BENCH_NR_KEYS];  /* random page-aligned hvas */
	uint16_t ids[BENCH_NR_KEYS];   /* random existing ids */
	size_t gfn_hits;	       /* how many of gfns[] fall in a slot */
	/* The slot of the repeated and the cached lookups: its first
	 * rep_mask + 1 pages (1, 2 or 4) from rep_gfn. */
	uint64_t rep_gfn;
	unsigned int rep_mask;
	/* The dense-key limit's arrays: base and end gfn of every slot. */
	uint64_t *keys, *ends;
};

/* 0, or -1 when @layout is not defined at @n (vmm32k off 32764). */
int bench_space_init(struct bench_space *sp, unsigned int layout, unsigned int n);
void bench_space_fini(struct bench_space *sp);

struct bench_fixture; /* one populated object of one space */

struct bench_impl {
	const char *name; /* "array", "kvm" or "btree" */

	struct bench_fixture *(*fixture_new)(const struct bench_space *sp);
	void (*fixture_free)(struct bench_fixture *fx);

	/* Writers on a fresh object: create the space's slots one by one / in one apply. */
	uint64_t (*setup)(const struct bench_space *sp);
	uint64_t (*batch_create)(const struct bench_space *sp);

	/* Readers on a fixture; one operation is one lookup or one range query. */
	uint64_t (*unmap)(struct bench_fixture *fx, uint64_t bytes, uint64_t iters);
	uint64_t (*gfn_random)(struct bench_fixture *fx, uint64_t iters);
	/* The same queries from @threads threads at once (1 or 2), one read-side
	 * section each: wall time for all of them, so ns per op is the
	 * aggregate rate's inverse. */
	uint64_t (*gfn_random_mt)(struct bench_fixture *fx, uint64_t iters, unsigned int threads);
	uint64_t (*gfn_repeat)(struct bench_fixture *fx, uint64_t iters);
	uint64_t (*gfn_cached)(struct bench_fixture *fx, uint64_t iters);
	uint64_t (*gfn_miss)(struct bench_fixture *fx, uint64_t iters);
	uint64_t (*id_lookup)(struct bench_fixture *fx, uint64_t iters);
	/* gfn_range_first/next over 512 pages from each random gfn query. */
	uint64_t (*gfn_range)(struct bench_fixture *fx, uint64_t iters);
	/* first/next over every slot, @iters walks; one operation is one slot. */
	uint64_t (*iterate)(struct bench_fixture *fx, uint64_t iters);
	/* The dense-key limit: the gfn_random (miss = 0) or gfn_miss (miss = 1)
	 * queries answered by a branch-free binary search over a sorted array
	 * of the N base gfns and an array of their ends (no slot, no set), the
	 * least memory a comparison-based index can touch.  The same in every
	 * table. */
	uint64_t (*dense_limit)(struct bench_fixture *fx, uint64_t iters, int miss);

	/* Writers on a fixture, leaving it as they found it. */
	/* one operation is one MOVE (iters round trips = 2 * iters moves);
	 * @active: a reader thread keeps looking up the moved slot meanwhile */
	uint64_t (*move)(struct bench_fixture *fx, uint64_t iters, int active);
	/* one operation is one FLAGS_ONLY change (dirty logging on, then off) */
	uint64_t (*flags)(struct bench_fixture *fx, uint64_t iters);
	/* one operation is one apply flipping dirty logging on all N slots */
	uint64_t (*batch_flags)(struct bench_fixture *fx, uint64_t iters);

	/*
	 * Dirty logging, the engine's alone (NULL in the array's table), each
	 * on an object of its own that keeps bitmaps:
	 *  - dirty_mark: one op is a mark of one page of the slot the set's
	 *    last-used slot (@cached 0) or the per-thread cache (@cached 1)
	 *    holds, the same pattern as gfn_repeat and gfn_cached;
	 *  - dirty_collect_1g: one op is a collect of a whole 262144-page
	 *    slot (1 GiB of 4 KiB pages), every page dirty (@dirty) or none;
	 *  - dirty_enable_all: one op is one apply turning logging on for all
	 *    N slots, on an object whose config's dirty_log is @dirty_log (0:
	 *    no bitmaps, the reference); turned off again untimed.
	 */
	uint64_t (*dirty_mark)(unsigned int n, uint64_t iters, int cached);
	uint64_t (*dirty_collect_1g)(uint64_t iters, int dirty);
	uint64_t (*dirty_enable_all)(unsigned int n, uint64_t iters, uint32_t dirty_log);

	/* Live bytes through the config's allocator, all-in (object, sets,
	 * slots, tables): with the space's slots; with two slots of ids 0 and
	 * 32763. */
	size_t (*bytes)(const struct bench_space *sp);
	size_t (*bytes_sparse)(void);
};

extern const struct bench_impl bench_impl_btree;
extern const struct bench_impl bench_impl_kvm;
extern const struct bench_impl bench_impl_array;

/* Registers the calling thread with liburcu memb, once (both use it). */
void bench_register_thread(void);

#ifdef __cplusplus
}
#endif

#endif /* BENCH_H */
