/* SPDX-License-Identifier: MIT */
/*
 * The memory-attribute map: a 64-bit attribute word for every gfn of the
 * whole u64 space [0, UINT64_MAX], kept as maximal runs of equal words.
 *
 * Representation.  Only runs whose word is not 0 have a node: a closed
 * interval [start, last] with its word, in a red-black tree ordered by
 * start (the library's own core, rbtree.h).  Every gfn outside the nodes
 * has the word 0, so a fresh map, with nothing set, is the empty tree, and
 * memory follows the number of non-0 runs.  Invariants, always held
 * between calls (ms_attrmap_validate() checks them):
 *   - every node has start <= last and attrs != 0;
 *   - nodes are disjoint and sorted: a node's last < the next one's start;
 *   - runs are maximal: two nodes that touch (last + 1 == next start) have
 *     different words (a gap between nodes is a run of 0, which differs
 *     from both).
 * Bounds are inclusive ("last"), never exclusive ("end"): a run may reach
 * UINT64_MAX, and a range that ends exactly at 2^64 is passed as last =
 * UINT64_MAX, with no special case.  (The engine turns a byte range
 * [address, address + size), which may end at 2^64, into gfns as start =
 * address >> shift, last = start + (size >> shift) - 1.)
 *
 * Changes follow the sets' reservation protocol (set.h), so that a caller
 * can allocate everything before it publishes anything:
 * ms_attrmap_reserve() tells whether the change changes anything and puts
 * the nodes it needs aside in a pool (it may fail, then changes nothing);
 * ms_attrmap_set() makes the change with nodes from the pool and cannot
 * fail, the nodes it removes going back to the pool; ms_attrmap_settle()
 * frees what the pool holds at the end.  The two maps of a memslots object
 * (one per set) hold the same runs between changes, so one reserve can
 * serve both: nr_maps = 2.
 *
 * Concurrency: as rbtree.h.  A map is changed only by the writer (under
 * the writer lock) while no reader can reach it, which libmemslots ensures
 * by changing only the inactive set's map; readers (ms_attrmap_get(),
 * ms_attrmap_first/next()) read a published map, which nobody changes,
 * from inside an RCU read-side section, with no lock.
 */
#ifndef MS_ATTRMAP_H
#define MS_ATTRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "rbtree.h"

/* One run of a non-0 attribute word. */
struct ms_attr_run {
	struct ms_rb_node rb; /* in the map's tree, by start; in a reserve, rb.right links */
	uint64_t start;	      /* first gfn */
	uint64_t last;	      /* last gfn (inclusive), >= start */
	uint64_t attrs;	      /* never 0 */
};

struct ms_attrmap {
	struct ms_rb_root root;	      /* the runs, by start */
	size_t nr_runs;		      /* nodes in root: runs of a non-0 word */
	const struct ms_alloc *alloc; /* nodes come from, and go back to, here */
};

/* Nodes put aside for ms_attrmap_set(), and those it removed. */
struct ms_attrmap_pool {
	struct ms_attr_run *free; /* singly linked through rb.right */
	size_t nr;
};

#define MS_ATTRMAP_POOL_INIT ((struct ms_attrmap_pool){NULL, 0})

/* What ms_attrmap_reserve() found out about one change. */
struct ms_attrmap_plan {
	uint64_t start; /* the range [start, last], inclusive */
	uint64_t last;
	uint64_t attrs;	       /* the word every gfn of the range gets */
	unsigned int new_runs; /* nodes one set takes from the pool: 0, 1 or 2 */
	bool changes;	       /* false: every gfn of the range already has attrs */
};

/*
 * Makes @map the map with every gfn at 0 (no node), allocating from
 * @alloc later on.  Cannot fail.  Writer only, before the map is shared.
 */
void ms_attrmap_init(struct ms_attrmap *map, const struct ms_alloc *alloc);

/*
 * Frees every node of @map and leaves it empty (all 0), in O(r).  Writer
 * only, once no reader can reach the map.
 */
void ms_attrmap_destroy(struct ms_attrmap *map);

/*
 * The word of @gfn.  If @run_end is not NULL, *run_end gets the first gfn
 * after @gfn whose word differs, or UINT64_MAX when none below UINT64_MAX
 * does: UINT64_MAX is the one gfn an exclusive u64 end cannot name, so a
 * caller that walks runs up to the very top (gfn = *run_end) and reaches
 * UINT64_MAX asks for that gfn once more and stops.  O(log r).
 *
 * Readers: any thread, on a published map, inside an RCU read-side section
 * (or the writer, on its inactive map); no lock.  Inline: it is on the
 * readers' path and the library is built without LTO.
 */
static inline uint64_t ms_attrmap_get(const struct ms_attrmap *map, uint64_t gfn, uint64_t *run_end)
{
	const struct ms_rb_node *n = map->root.node;
	const struct ms_attr_run *above = NULL;

	while (n) {
		const struct ms_attr_run *run = ms_rb_entry(n, struct ms_attr_run, rb);

		if (gfn < run->start) {
			above = run;
			n = n->left;
		} else if (gfn > run->last) {
			n = n->right;
		} else {
			/* Runs are maximal: the gfn after the last one differs. */
			if (run_end)
				*run_end = run->last == UINT64_MAX ? UINT64_MAX : run->last + 1;
			return run->attrs;
		}
	}
	/* In a gap of 0s, which ends where the next run starts. */
	if (run_end)
		*run_end = above ? above->start : UINT64_MAX;
	return 0;
}

/*
 * Reserve: the first step of setting every gfn of [@start, @last] (inclusive; @last =
 * UINT64_MAX reaches the top of the space) to @attrs (any word; 0 is the
 * default).  Fills *@plan: whether anything changes and how many nodes one
 * ms_attrmap_set() takes; then, if something changes, adds @nr_maps *
 * plan->new_runs nodes to @res, so that the change can be made to @map and to
 * @nr_maps - 1 other maps holding the same runs as @map.  Changes nothing
 * in @map.  O(log r) plus the allocations.
 *
 * Returns 0; -EINVAL if @last < @start or @nr_maps is 0; -ENOMEM if an
 * allocation failed.  On failure *@plan and @res are as before (the nodes
 * this call allocated are freed).
 *
 * Writer only (the map may be published: this only reads it).
 */
int ms_attrmap_reserve(const struct ms_attrmap *map, uint64_t start, uint64_t last, uint64_t attrs,
		       unsigned int nr_maps, struct ms_attrmap_pool *res,
		       struct ms_attrmap_plan *plan);

/*
 * The change itself: makes *@plan (from ms_attrmap_reserve() on @map or on a
 * map that held the same runs) to @map, in place, taking plan->new_runs
 * nodes from @res and putting the nodes it removes on @res; nothing is
 * freed here.  Nothing happens when plan->changes is false.
 * O(log r + k log r) for k runs removed (each removal is one rb erase,
 * O(1) rotations amortized).
 *
 * Returns 0.  -ENOSPC means @res holds fewer nodes than the change needs,
 * which a caller that sets what it reserved never sees: @map is then
 * unchanged.
 *
 * Writer only, on a map no reader can reach (the inactive set's).
 */
int ms_attrmap_set(struct ms_attrmap *map, const struct ms_attrmap_plan *plan,
		   struct ms_attrmap_pool *res);

/* Settle: frees every node of @res, which ends empty.  Writer only. */
void ms_attrmap_settle(struct ms_attrmap_pool *res, const struct ms_alloc *alloc);

/*
 * The runs of a non-0 word in ascending order: the first, or NULL when
 * every gfn is 0; the one after @run, or NULL.  O(log r) each, O(r) for a
 * whole walk.  Same locking as ms_attrmap_get().
 */
const struct ms_attr_run *ms_attrmap_first(const struct ms_attrmap *map);
const struct ms_attr_run *ms_attrmap_next(const struct ms_attr_run *run);

/* Number of runs of a non-0 word (nodes).  Same locking as ms_attrmap_get(). */
static inline size_t ms_attrmap_nr_runs(const struct ms_attrmap *map)
{
	return map->nr_runs;
}

/* Whether @a and @b give every gfn the same word.  O(r).  Writer only. */
bool ms_attrmap_equal(const struct ms_attrmap *a, const struct ms_attrmap *b);

/*
 * Debug validator: the red-black invariants, and every invariant listed at
 * the top of this file, and nr_runs.  Returns NULL or what is wrong
 * (validate.h's convention).  O(r).  Same locking as ms_attrmap_get().
 */
const char *ms_attrmap_validate(const struct ms_attrmap *map);

#endif /* MS_ATTRMAP_H */
