/* SPDX-License-Identifier: MIT */
#include "tests_util.h"

#include <stdlib.h>
#include <string.h>

void tu_rng_seed(struct tu_rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t tu_rng_next(struct tu_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint64_t tu_rng_below(struct tu_rng *r, uint64_t n)
{
	return tu_rng_next(r) % n;
}

/* Each block carries its size in a header so that live bytes can be kept. */
struct tu_block {
	size_t size;
	max_align_t pad[];
};

void *tu_alloc(size_t size, void *opaque)
{
	struct tu_alloc_counter *c = opaque;
	struct tu_block *b;

	c->calls++;
	if (c->fail_at && c->calls == c->fail_at)
		return NULL;
	b = malloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	b->size = size;
	c->nr_alloc++;
	c->live++;
	c->bytes += size;
	if (c->bytes > c->peak_bytes)
		c->peak_bytes = c->bytes;
	return b->pad;
}

void tu_free(void *ptr, void *opaque)
{
	struct tu_alloc_counter *c = opaque;
	struct tu_block *b;

	if (!ptr)
		return;
	b = (struct tu_block *)((char *)ptr - offsetof(struct tu_block, pad));
	c->nr_free++;
	c->live--;
	c->bytes -= b->size;
	free(b);
}

int tu_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
