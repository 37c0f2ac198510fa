/* SPDX-License-Identifier: MIT */
/*
 * A counting allocator that can be told to fail, for a config's .alloc and
 * .free: .alloc = ts_alloc, .free = ts_free, .alloc_opaque = &counter.
 * The counters are atomic, so one counter may serve several threads.
 */
#ifndef TS_ALLOC_H
#define TS_ALLOC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct ts_alloc_counter {
	_Atomic size_t nr_alloc; /* successful allocations so far */
	_Atomic size_t nr_free;	 /* frees of non-NULL pointers so far */
	_Atomic size_t live;	 /* allocations not yet freed */
	_Atomic size_t calls;	 /* allocation attempts so far (reset to count from a point) */
	size_t fail_at;		 /* 0: never fail; else fail attempt number fail_at */
	_Atomic bool failed;	 /* an attempt was failed on purpose */
	_Atomic size_t bytes;	 /* live bytes */
	_Atomic size_t peak_bytes;
	bool scribble; /* overwrite freed memory, so a use after free reads garbage */
};

void *ts_alloc(size_t size, void *opaque);
void ts_free(void *ptr, void *opaque);

#endif /* TS_ALLOC_H */
