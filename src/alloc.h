/* SPDX-License-Identifier: MIT */
/*
 * The caller-supplied allocator.  Every allocation of the library goes
 * through one of these, so an embedder can count, limit or fail them.
 */
#ifndef MS_ALLOC_H
#define MS_ALLOC_H

#include <stddef.h>

struct ms_alloc {
	void *(*alloc)(size_t size, void *opaque); /* never NULL once set up */
	void (*free)(void *ptr, void *opaque);     /* never NULL once set up */
	void *opaque;
};

/* An allocator built on malloc/free, for when the config names none. */
extern const struct ms_alloc ms_alloc_libc;

static inline void *ms_malloc(const struct ms_alloc *a, size_t size)
{
	return a->alloc(size, a->opaque);
}

/* Zeroed memory; NULL when size * n overflows or memory runs out. */
void *ms_calloc(const struct ms_alloc *a, size_t n, size_t size);

static inline void ms_free(const struct ms_alloc *a, void *ptr)
{
	if (ptr)
		a->free(ptr, a->opaque);
}

#endif /* MS_ALLOC_H */
