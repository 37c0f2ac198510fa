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
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Layout of every benchmark's address space: slot i (id i) holds
 * BENCH_SLOT_PAGES pages at gfn BENCH_BASE_GFN + i * BENCH_STRIDE, so a hole
 * of BENCH_STRIDE - BENCH_SLOT_PAGES pages follows each; the hva layout is the
 * same, so a 2 MiB hva range covers 64 slots. */
#define BENCH_SLOT_PAGES 4u
#define BENCH_STRIDE	 8u
#define BENCH_BASE_GFN	 0x100000ull /* 4 GiB */
#define BENCH_BASE_HVA	 0x7f0000000000ull

struct bench_fixture; /* one populated address space of N slots */

struct bench_impl {
	const char *name; /* "array", "kvm" or "btree" */

	struct bench_fixture *(*fixture_new)(unsigned int n);
	void (*fixture_free)(struct bench_fixture *fx);

	/* Writers on a fresh object: create n slots one by one / in one apply. */
	uint64_t (*setup)(unsigned int n);
	uint64_t (*batch_create)(unsigned int n);

	/* Readers on a fixture; one operation is one lookup or one range query. */
	uint64_t (*unmap)(struct bench_fixture *fx, uint64_t bytes, uint64_t iters);
	uint64_t (*gfn_random)(struct bench_fixture *fx, uint64_t iters);
	uint64_t (*gfn_repeat)(struct bench_fixture *fx, uint64_t iters);
	uint64_t (*gfn_cached)(struct bench_fixture *fx, uint64_t iters);
	uint64_t (*gfn_miss)(struct bench_fixture *fx, uint64_t iters);
	uint64_t (*id_lookup)(struct bench_fixture *fx, uint64_t iters);
	/* The dense-key limit: the gfn_random (miss = 0) or gfn_miss (miss = 1)
	 * queries answered by a branch-free binary search over a sorted array
	 * of the N base gfns alone (no slot, no set), the least memory a
	 * comparison-based index can touch.  The same in both tables. */
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
	 * slots, tables): with n slots; with two slots of ids 0 and 32763. */
	size_t (*bytes)(unsigned int n);
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
