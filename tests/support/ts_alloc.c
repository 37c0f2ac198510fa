/* SPDX-License-Identifier: MIT */
#include "ts_alloc.h"

#include <stdlib.h>
#include <string.h>

/* Each block carries its size in a header so that live bytes can be kept. */
struct ts_block {
	size_t size;
	max_align_t pad[];
};

static void ts_note_peak(struct ts_alloc_counter *c, size_t bytes)
{
	size_t peak = atomic_load_explicit(&c->peak_bytes, memory_order_relaxed);

	while (bytes > peak && !atomic_compare_exchange_weak(&c->peak_bytes, &peak, bytes))
		;
}

void *ts_alloc(size_t size, void *opaque)
{
	struct ts_alloc_counter *c = opaque;
	struct ts_block *b;
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
	ts_note_peak(c, atomic_fetch_add(&c->bytes, size) + size);
	return b->pad;
}

void ts_free(void *ptr, void *opaque)
{
	struct ts_alloc_counter *c = opaque;
	struct ts_block *b;

	if (!ptr)
		return;
	b = (struct ts_block *)((char *)ptr - offsetof(struct ts_block, pad));
	if (c->scribble)
		memset(ptr, 0x5a, b->size);
	c->nr_free++;
	c->live--;
	c->bytes -= b->size;
	free(b);
}
