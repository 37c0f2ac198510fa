/* SPDX-License-Identifier: MIT */
/*
 * The array baseline's internals, shared by its lifetime (msarr.c), its
 * writers (msarr_update.c) and its readers (msarr_read.c).
 *
 * A set is one allocation: a header, the slot array (descending base_gfn)
 * and the id -> index table (max_slots entries of u16).  Nothing in a
 * published set ever changes except the atomic last-used index, so readers
 * use plain loads.  The writer builds a private copy, changes it in place by
 * shifting, publishes it with a release store and waits for a grace period
 * before it frees the previous set.
 */
#ifndef MSARR_IMPL_H
#define MSARR_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

/* Never a valid index check on its own: find_id also compares the slot id. */
#define MSARR_NO_INDEX 0xffffu

struct msarr_set {
	uint64_t generation;
	uint64_t nr_pages;
	uint32_t used;	   /* slots[0 .. used) are in use */
	uint32_t capacity; /* room in slots[] */
	unsigned int page_shift;
	uint32_t max_slots;   /* entries of id_to_index */
	_Atomic uint32_t lru; /* index of the slot last found by gfn */
	/* id -> index into slots[]; trusted only if that slot has the id */
	uint16_t *id_to_index;
	struct memslot slots[];
};

struct msarr {
	struct msarr_set *_Atomic active;
	pthread_mutex_t lock;
	uint64_t generation; /* of the last published set */
	unsigned int page_shift;
	unsigned int max_slots;
	uint64_t hva_limit;
	const struct memslots_ops *ops;
	void *opaque;
	struct memslots_rcu rcu;
	void *(*alloc)(size_t size, void *alloc_opaque);
	void (*free)(void *ptr, void *alloc_opaque);
	void *alloc_opaque;
};

/* Lowest index whose base_gfn <= @gfn (the array is descending), or used. */
static inline uint32_t msarr_search(const struct msarr_set *set, uint64_t gfn)
{
	uint32_t lo = 0, hi = set->used;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (set->slots[mid].base_gfn <= gfn)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * This thread's read-side nesting depth: a writer call from inside a
 * read-side section would wait for a grace period it holds up, so it fails
 * with -EDEADLK.
 */
extern _Thread_local unsigned int msarr_read_depth;

/*
 * A set with room for @capacity slots, id table filled with MSARR_NO_INDEX.
 * Called by msarr_new() and by the writer (under ms->lock); a set is
 * private until published.
 */
struct msarr_set *msarr_set_alloc(const struct msarr *ms, uint32_t capacity);
/* Frees @set (NULL allowed) with the instance's allocator: a set never
 * published, or one a grace period has passed since it was replaced. */
void msarr_set_free(const struct msarr *ms, struct msarr_set *set);

#endif /* MSARR_IMPL_H */
