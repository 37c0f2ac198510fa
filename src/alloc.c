/* SPDX-License-Identifier: MIT */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *ms_libc_alloc(size_t size, void *opaque)
{
	(void)opaque;
	return malloc(size);
}

static void ms_libc_free(void *ptr, void *opaque)
{
	(void)opaque;
	free(ptr);
}

const struct ms_alloc ms_alloc_libc = {
	.alloc = ms_libc_alloc,
	.free = ms_libc_free,
	.opaque = NULL,
};

/*
 * The default allocator's zeroed memory is calloc()'s, which knows when a
 * block is fresh from the kernel, hence zero already: a large block (a
 * dirty bitmap of a big slot) costs no clearing.  Any other allocator's
 * block is cleared here.
 */
void *ms_calloc(const struct ms_alloc *a, size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	if (a->alloc == ms_libc_alloc)
		return calloc(n, size);
	p = ms_malloc(a, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}
