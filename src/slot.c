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
