/* SPDX-License-Identifier: MIT */
/*
 * The guest_memfd binding index: which byte ranges of which guest_memfd
 * the slots of one struct memslots have bound.
 *
 * KVM refuses to bind a range of a guest_memfd that a slot already binds
 * (kvm_gmem_bind() keeps, per guest_memfd file, the page offsets bound to
 * each slot).  The library mirrors that check with one interval tree per
 * object (the template of interval_tree_generic.h, the hva tree's too),
 * keyed by the pair (fd, byte offset): ordered by (fd, start), each node
 * also keeps the largest (fd, last) pair of its subtree.  A binding is
 * the closed interval [(fd, start), (fd, last)] of that order, and two
 * bindings intersect in it exactly when they name the same fd and their
 * byte ranges meet, so one interval-tree query answers "does anything
 * bound to this fd intersect these bytes" in O(log n), however many other
 * fds there are: the per-fd indexes are the runs of one tree, and an fd
 * needs no entry of its own to be created or freed.
 *
 * Memory: none.  A binding is the caller's memory (the engine allocates
 * one for each GUEST_MEMFD slot, with the slot's other reservations), so
 * inserting and removing cannot fail and allocate nothing.
 *
 * Overlapping bindings are allowed (equal starts go right); the engine
 * never inserts one, since it checks first, but the index does not rely
 * on that.
 *
 * Concurrency: none.  The index is the writer's alone: it is changed and
 * read only under the writer mutex of its struct memslots, never by
 * readers.
 */
#ifndef MS_GMEM_INDEX_H
#define MS_GMEM_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rbtree.h"

/* One bound range: bytes [start, last] of guest_memfd number fd. */
struct ms_gmem_binding {
	struct ms_rb_node rb;
	uint64_t start;	   /* first byte bound */
	uint64_t last;	   /* last byte bound (inclusive), >= start */
	uint64_t max_last; /* with max_fd: the largest (fd, last) of the subtree */
	uint32_t fd;
	uint32_t max_fd;
};

struct ms_gmem_index {
	struct ms_rb_root_cached root;
	size_t count;
};

#define MS_GMEM_INDEX_INIT ((struct ms_gmem_index){{{NULL}, NULL}, 0})

/*
 * Sets @b to bind @size bytes of @fd from byte @offset: bytes [offset,
 * offset + size - 1].  @size > 0, and the range must end at or before
 * byte 2^64 - 1 (the request checks guarantee both, and more: they refuse
 * an offset + size that wraps to 0).
 */
static inline void ms_gmem_binding_set(struct ms_gmem_binding *b, uint32_t fd, uint64_t offset,
				       uint64_t size)
{
	b->fd = fd;
	b->start = offset;
	b->last = offset + size - 1;
}

/* Adds @b (fd, start and last set); O(log n), never fails. */
void ms_gmem_insert(struct ms_gmem_index *idx, struct ms_gmem_binding *b);
/* Removes @b, which must be in @idx; O(log n). */
void ms_gmem_remove(struct ms_gmem_index *idx, struct ms_gmem_binding *b);

/*
 * Of the bindings of @fd whose bytes meet [start, last], the one with the
 * lowest start (of several equal starts, the first inserted), or NULL;
 * NULL when last < start.  O(log n).
 */
struct ms_gmem_binding *ms_gmem_find(const struct ms_gmem_index *idx, uint32_t fd, uint64_t start,
				     uint64_t last);
/* The next binding after @b, in (start, insertion) order, of @fd meeting
 * [start, last], or NULL.  With ms_gmem_find(), O(log n + k) for k. */
struct ms_gmem_binding *ms_gmem_find_next(const struct ms_gmem_binding *b, uint32_t fd,
					  uint64_t start, uint64_t last);

/* Whether a binding of @fd meets [start, last]: the engine's check. */
static inline bool ms_gmem_intersects(const struct ms_gmem_index *idx, uint32_t fd, uint64_t start,
				      uint64_t last)
{
	return ms_gmem_find(idx, fd, start, last) != NULL;
}

/*
 * Debug validator: every red-black invariant, the (fd, start) order,
 * start <= last and each node's (max_fd, max_last), and that count is the
 * number of nodes.  Returns NULL or an ms_rb_bad_* sentence.
 */
const char *ms_gmem_validate(const struct ms_gmem_index *idx);

#endif /* MS_GMEM_INDEX_H */
