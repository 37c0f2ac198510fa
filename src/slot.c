/* SPDX-License-Identifier: MIT */
#include "slot.h"

#include <string.h>

struct ms_slot *ms_slot_alloc(const struct ms_alloc *a, size_t size)
{
	struct ms_slot *s = ms_malloc(a, size);

	if (s)
		memset(s, 0, size);
	return s;
}

void ms_slot_free(const struct ms_alloc *a, struct ms_slot *s)
{
	if (s)
		ms_free(a, s);
}

/*
 * A cached slot is dead memory: its first word links it to the next one.
 * memcpy, not a cast: the first member of a struct ms_slot is no pointer,
 * and reading it as one through a cast would break strict aliasing.
 */
static struct ms_slot *ms_slot_next_cached(const struct ms_slot *s)
{
	struct ms_slot *next;

	memcpy(&next, (const void *)s, sizeof(next));
	return next;
}

static void ms_slot_link_cached(struct ms_slot *s, struct ms_slot *next)
{
	memcpy((void *)s, &next, sizeof(next));
}

struct ms_slot *ms_slot_reserve(struct ms_slot_cache *c, const struct ms_alloc *a)
{
	struct ms_slot *s = c->head;

	if (!s)
		return ms_slot_alloc(a, c->size);
	c->head = ms_slot_next_cached(s);
	c->count--;
	/* The next call's copy comes from there: start loading it now. */
	if (c->head)
		ms_prefetch(c->head, 1);
	memset(s, 0, c->size);
	return s;
}

void ms_slot_retire(struct ms_slot_cache *c, struct ms_slot *s)
{
	if (!s)
		return;
	ms_slot_link_cached(s, c->head);
	c->head = s;
	c->count++;
}

void ms_slot_cache_settle(struct ms_slot_cache *c, const struct ms_alloc *a, size_t keep)
{
	while (c->count > keep) {
		struct ms_slot *s = c->head;

		c->head = ms_slot_next_cached(s);
		c->count--;
		ms_slot_free(a, s);
	}
}
