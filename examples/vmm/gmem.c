// SPDX-License-Identifier: MIT
/*
 * Guest-physical memory accesses through the library (see gmem.h).
 */
#include "gmem.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "kvm.h"

enum gmem_op { GMEM_READ, GMEM_WRITE, GMEM_ZERO };

/* Whether the cache already holds the slot of @gfn for @set: counted as a
 * hit, which is what the library's cached lookup answers without a search. */
static bool cache_holds(const struct gmem *g, const struct memslots_set *set, uint64_t gfn)
{
	const struct memslot *s = g->cache.slot;

	return g->cache.set == set && g->cache.generation == memslots_generation(set) && s &&
	       gfn >= s->base_gfn && gfn - s->base_gfn < s->npages;
}

/* Host address of @gpa and how many bytes from there stay in its slot. */
static void *translate(struct gmem *g, const struct memslots_set *set, uint64_t gpa, size_t *room)
{
	uint64_t gfn = gpa >> PAGE_SHIFT;
	const struct memslot *s;
	uint64_t off;

	g->translations++;
	g->cache_hits += cache_holds(g, set, gfn);
	s = memslots_find_gfn_cached(set, &g->cache, gfn);
	if (!s || (s->flags & MEMSLOT_INVALID))
		return NULL;
	off = gpa - (s->base_gfn << PAGE_SHIFT);
	*room = (size_t)((s->npages << PAGE_SHIFT) - off);
	return (void *)(uintptr_t)(s->userspace_addr + off);
}

static int gmem_copy(struct gmem *g, enum gmem_op op, uint64_t gpa, void *buf, size_t len)
{
	const struct memslots_set *set = memslots_read_lock(g->ms);
	unsigned int pieces = 0;
	int ret = 0;

	while (len) {
		size_t room, n;
		char *host = translate(g, set, gpa, &room);

		if (!host) {
			ret = -EFAULT;
			break;
		}
		n = len < room ? len : room;
		if (op == GMEM_READ)
			memcpy(buf, host, n);
		else if (op == GMEM_WRITE)
			memcpy(host, buf, n);
		else
			memset(host, 0, n);
		if (buf)
			buf = (char *)buf + n;
		gpa += n;
		len -= n;
		pieces++;
	}
	memslots_read_unlock(g->ms);
	g->split_copies += pieces > 1;
	return ret;
}

int gmem_read(struct gmem *g, uint64_t gpa, void *buf, size_t len)
{
	return gmem_copy(g, GMEM_READ, gpa, buf, len);
}

int gmem_write(struct gmem *g, uint64_t gpa, const void *buf, size_t len)
{
	return gmem_copy(g, GMEM_WRITE, gpa, (void *)buf, len);
}

int gmem_zero(struct gmem *g, uint64_t gpa, size_t len)
{
	return gmem_copy(g, GMEM_ZERO, gpa, NULL, len);
}
