// SPDX-License-Identifier: MIT
/*
 * Guest-physical memory accesses through the library (see guestmem.h).
 */
#include "guestmem.h"
#include "dirtylog.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

enum guestmem_op { GUESTMEM_READ, GUESTMEM_WRITE, GUESTMEM_ZERO };

/* Whether @g's cache may answer a lookup in @set without a search: it
 * holds a slot of that set at its generation. */
static bool cache_current(const struct guestmem *g, const struct memslots_set *set)
{
	return g->cache.slot && g->cache.set == set &&
	       g->cache.generation == memslots_generation(set);
}

/*
 * Host address of @gpa for @op, and in *@room how many bytes from there
 * the slot still covers; NULL when no valid slot holds it, or, for a
 * write, a read-only one does (KVM would exit to the VMM as MMIO).
 */
static void *translate(struct guestmem *g, const struct memslots_set *set, enum guestmem_op op,
		       uint64_t gpa, uint64_t *room)
{
	const struct memslot *cached = cache_current(g, set) ? g->cache.slot : NULL;
	uint64_t hva = op == GUESTMEM_READ ? memslots_gpa_to_hva_cached(set, &g->cache, gpa, room)
					   : memslots_gpa_to_hva_write(set, &g->cache, gpa, room);

	g->translations++;
	if (hva == MEMSLOTS_HVA_BAD)
		return NULL;
	/* The cache was current and still holds the same slot, which holds
	 * @gpa: the library answered from it. */
	g->cache_hits += cached && g->cache.slot == cached;
	return (void *)(uintptr_t)hva;
}

/*
 * The copy loop: one read-side section for the whole range, one
 * translation per slot it crosses, each piece as long as its slot covers.
 */
static int guestmem_copy(struct guestmem *g, enum guestmem_op op, uint64_t gpa, void *buf,
			 size_t len)
{
	const struct memslots_set *set = memslots_read_lock(g->ms);
	unsigned int pieces = 0;
	int ret = 0;

	while (len) {
		uint64_t room;
		char *host = translate(g, set, op, gpa, &room);
		size_t n;

		if (!host) {
			ret = -EFAULT;
			break;
		}
		n = len < room ? len : (size_t)room;
		if (op == GUESTMEM_READ)
			memcpy(buf, host, n);
		else if (op == GUESTMEM_WRITE)
			memcpy(host, buf, n);
		else
			memset(host, 0, n);
		if (op != GUESTMEM_READ && !g->skip_marks)
			g->marked_pages += dirtylog_mark(set, &g->cache, gpa, n);
		if (op != GUESTMEM_READ)
			atomic_fetch_add_explicit(&g->writes, 1, memory_order_relaxed);
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

int guestmem_read(struct guestmem *g, uint64_t gpa, void *buf, size_t len)
{
	return guestmem_copy(g, GUESTMEM_READ, gpa, buf, len);
}

int guestmem_write(struct guestmem *g, uint64_t gpa, const void *buf, size_t len)
{
	return guestmem_copy(g, GUESTMEM_WRITE, gpa, (void *)buf, len);
}

int guestmem_zero(struct guestmem *g, uint64_t gpa, size_t len)
{
	return guestmem_copy(g, GUESTMEM_ZERO, gpa, NULL, len);
}

void guestmem_slot_range(const struct memslots *ms, const struct memslot *s, uint64_t *gpa,
			 uint64_t *size)
{
	struct memslots_region2 r = {0};

	/* The request that would create @s carries its range in bytes. */
	memslots_change_to_region2(ms, NULL, s, MEMSLOTS_CREATE, &r);
	*gpa = r.guest_phys_addr;
	*size = r.memory_size;
}
