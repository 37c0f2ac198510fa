/* SPDX-License-Identifier: MIT */
#include "slot.h"

#include <string.h>

/*
 * The config's allocator has no alignment parameter.  Ask for 16 bytes
 * more and move up to the next 32-byte boundary when that is at most 16
 * bytes away, which it always is for malloc's 16-byte-aligned pointers;
 * for a less aligned allocator, keep 8-byte alignment and lose only speed.
 */
#define MS_SLOT_SLACK 16u

struct ms_slot *ms_slot_alloc(const struct ms_alloc *a)
{
	char *p = ms_malloc(a, sizeof(struct ms_slot) + MS_SLOT_SLACK);
	uintptr_t skip;
	struct ms_slot *s;

	if (!p)
		return NULL;
	skip = -(uintptr_t)p & (MS_SLOT_ALIGN - 1);
	if (skip > MS_SLOT_SLACK)
		skip = -(uintptr_t)p & 7;
	s = (struct ms_slot *)(p + skip);
	memset(s, 0, sizeof(*s));
	s->link[0].align_pad = skip;
	return s;
}

void ms_slot_free(const struct ms_alloc *a, struct ms_slot *s)
{
	if (s)
		ms_free(a, (char *)s - s->link[0].align_pad);
}
