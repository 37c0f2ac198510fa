/* SPDX-License-Identifier: MIT */
/*
 * The guest_memfd binding index (see gmem_index.h): the interval-tree
 * template (interval_tree_generic.h) instantiated on (fd, byte) pairs in
 * lexicographic order.  All bounds are closed, so a binding that ends at
 * byte 2^64 - 1 needs no special case.
 */
#include "gmem_index.h"
#include "interval_tree_generic.h"

/* A position in the pair order: byte @off of guest_memfd @fd. */
struct ms_gmem_key {
	uint32_t fd;
	uint64_t off;
};

static inline struct ms_gmem_key ms_gmem_key(uint32_t fd, uint64_t off)
{
	return (struct ms_gmem_key){.fd = fd, .off = off};
}

static inline struct ms_gmem_key ms_gmem_start(const struct ms_gmem_binding *b)
{
	return ms_gmem_key(b->fd, b->start);
}

static inline struct ms_gmem_key ms_gmem_last(const struct ms_gmem_binding *b)
{
	return ms_gmem_key(b->fd, b->last);
}

static inline struct ms_gmem_key ms_gmem_sub(const struct ms_gmem_binding *b)
{
	return ms_gmem_key(b->max_fd, b->max_last);
}

static inline void ms_gmem_set_sub(struct ms_gmem_binding *b, struct ms_gmem_key k)
{
	b->max_fd = k.fd;
	b->max_last = k.off;
}

/* (fa, a) < (fb, b) in lexicographic order. */
static inline bool ms_gmem_lt(struct ms_gmem_key a, struct ms_gmem_key b)
{
	return a.fd < b.fd || (a.fd == b.fd && a.off < b.off);
}

/*
 * A query is the interval [(fd, start), (fd, last)] of the pair order.  A
 * binding meets it when its (fd, start) is not after (fd, last) and its
 * (fd, last) is not before (fd, start); both together force the binding's
 * fd to be fd, so "meets" is exactly "same fd, bytes intersect".
 */
MS_INTERVAL_TREE_DEFINE(static MS_UNUSED, ms_gmem_tree, struct ms_gmem_binding, rb,
			struct ms_gmem_key, ms_gmem_start, ms_gmem_last, ms_gmem_sub,
			ms_gmem_set_sub, ms_gmem_lt)

void ms_gmem_insert(struct ms_gmem_index *idx, struct ms_gmem_binding *b)
{
	ms_gmem_tree_insert(b, &idx->root);
	idx->count++;
}

void ms_gmem_remove(struct ms_gmem_index *idx, struct ms_gmem_binding *b)
{
	ms_gmem_tree_remove(b, &idx->root);
	idx->count--;
}

struct ms_gmem_binding *ms_gmem_find(const struct ms_gmem_index *idx, uint32_t fd, uint64_t start,
				     uint64_t last)
{
	return ms_gmem_tree_iter_first(&idx->root, ms_gmem_key(fd, start), ms_gmem_key(fd, last));
}

struct ms_gmem_binding *ms_gmem_find_next(const struct ms_gmem_binding *b, uint32_t fd,
					  uint64_t start, uint64_t last)
{
	return ms_gmem_tree_iter_next(b, ms_gmem_key(fd, start), ms_gmem_key(fd, last));
}

const char *ms_gmem_validate(const struct ms_gmem_index *idx)
{
	size_t count;
	const char *why = ms_gmem_tree_validate(&idx->root, &count);

	if (why)
		return why;
	return count == idx->count ? NULL : ms_rb_bad_count;
}
