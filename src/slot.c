/* SPDX-License-Identifier: MIT */
#include "slot.h"

#include <string.h>

struct ms_slot *ms_slot_alloc(const struct ms_alloc *a)
{
	struct ms_slot *s = ms_malloc(a, sizeof(*s));

	if (s)
		memset(s, 0, sizeof(*s));
	return s;
}

void ms_slot_free(const struct ms_alloc *a, struct ms_slot *s)
{
	if (s)
		ms_free(a, s);
}

struct ms_slot *ms_slot_get(struct ms_slot_cache *c, const struct ms_alloc *a)
{
	struct ms_slot *s = c->head;

	if (!s)
		return ms_slot_alloc(a);
	memcpy(&c->head, s, sizeof(c->head));
	c->count--;
	/* The next call's copy comes from there: start loading it now. */
	if (c->head)
		ms_prefetch(c->head, 1);
	memset(s, 0, sizeof(*s));
	return s;
}

void ms_slot_put(struct ms_slot_cache *c, struct ms_slot *s)
{
	if (!s)
		return;
	memcpy(s, &c->head, sizeof(c->head));
	c->head = s;
	c->count++;
}

void ms_slot_cache_trim(struct ms_slot_cache *c, const struct ms_alloc *a, size_t keep)
{
	while (c->count > keep) {
		struct ms_slot *s = c->head;

		memcpy(&c->head, s, sizeof(c->head));
		c->count--;
		ms_slot_free(a, s);
	}
}
