/* SPDX-License-Identifier: MIT */
#include "ts_alloc.h"

#include <stdlib.h>
#include <string.h>

/* Each block carries its size in a header so that live bytes can be kept. */
struct tu_block {
	size_t size;
	max_align_t pad[];
};

static void tu_note_peak(struct tu_alloc_counter *c, size_t bytes)
{
	size_t peak = atomic_load_explicit(&c->peak_bytes, memory_order_relaxed);

	while (bytes > peak && !atomic_compare_exchange_weak(&c->peak_bytes, &peak, bytes))
		;
}

void *tu_alloc(size_t size, void *opaque)
{
	struct tu_alloc_counter *c = opaque;
	struct tu_block *b;
	size_t calls = atomic_fetch_add(&c->calls, 1) + 1;

	if (c->fail_at && calls == c->fail_at) {
		c->failed = true;
		return NULL;
	}
	b = malloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	b->size = size;
	c->nr_alloc++;
	c->live++;
	tu_note_peak(c, atomic_fetch_add(&c->bytes, size) + size);
	return b->pad;
}

void tu_free(void *ptr, void *opaque)
{
	struct tu_alloc_counter *c = opaque;
	struct tu_block *b;

	if (!ptr)
		return;
	b = (struct tu_block *)((char *)ptr - offsetof(struct tu_block, pad));
	if (c->scribble)
		memset(ptr, 0x5a, b->size);
	c->nr_free++;
	c->live--;
	c->bytes -= b->size;
	free(b);
}
