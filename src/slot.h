/* SPDX-License-Identifier: MIT */
/*
 * The library's memslot object: the public struct memslot, and one node
 * per set for each per-set structure that links through the slot (the
 * scalable-memslots "node[2]"), so that one slot object can sit in both
 * sets at once and each set can be changed without touching the other's
 * linkage.  Only the hva interval tree links through the slot.  The gfn
 * index is a B+tree per set (btree.h) whose leaves hold each slot's base
 * gfn, end gfn and pointer, so a gfn lookup decides hit or miss without
 * reading the slot at all; the id index is a table of slot pointers
 * (idtable.h).
 *
 * Layout: the public fields come first.  The last-used and per-thread
 * cache checks read base_gfn and npages through the pointer they just
 * loaded; at offset 0 those 16 bytes share a line with the rest of the
 * public struct for any 16-byte aligned allocation, so a cache hit touches
 * one line, the one its caller reads next anyway.
 *
 *   pub      0..55    struct memslot (guest_memfd fields included)
 *   hva_last 56..63   the last byte of the host range
 *   hva_node 64..127  one interval-tree node per set: links and subtree max
 *   gmem     128..135 the guest_memfd binding's address (writer only), or
 *   dirty    128..135 the dirty bitmap's, in the same place
 *
 * Both hva nodes stand for one interval, [userspace_addr, hva_last], so
 * the tree reads it from the slot rather than keep a copy in each node
 * (interval_tree.h): 32 bytes fewer, and the start is a public field.
 * The end is kept, not computed, because the page shift is the object's:
 * nothing a tree callback can reach from the node holds it.  A query that
 * visits a node reads the slot's first line for the start, the one its
 * caller reads next anyway when the slot is an answer.
 *
 * The two pointers share one place: only a LOG_DIRTY_PAGES slot has a
 * bitmap, only a GUEST_MEMFD slot a binding, no slot has both flags (the
 * request checks refuse them together), and each is read only under its
 * flag.  A slot's flags never change once it is published, so a reader
 * that tests LOG_DIRTY_PAGES before it loads the pointer never reads a
 * binding as a bitmap.  The binding is memory of its own, not a member,
 * because few slots have one: embedded, its 56 bytes were a quarter of
 * every slot.
 */
#ifndef MS_SLOT_H
#define MS_SLOT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "alloc.h"
#include "compiler.h"
#include "gmem_index.h"
#include "interval_tree.h"

struct ms_slot {
	struct memslot pub;
	/*
	 * The last byte of the host range, userspace_addr + (npages <<
	 * page_shift) - 1: the end of the interval both hva nodes stand for
	 * (interval_tree.h; its start is pub.userspace_addr).  Set before
	 * the slot is published, never changed after.
	 */
	uint64_t hva_last;
	struct ms_itree_node hva_node[2];
	union {
		/*
		 * A GUEST_MEMFD slot's range of its guest_memfd, in the
		 * object's binding index (one for both sets: it follows the
		 * staged state) from the staging of the slot's CREATE to
		 * that of its DELETE.  The slot owns it: allocated when its
		 * CREATE is staged (update.c), freed with a failed call's
		 * copies or at the commit of its DELETE; never shared (the
		 * DELETE's INVALID copy has none).  Read through
		 * ms_slot_gmem() only.
		 */
		struct ms_gmem_binding *gmem;
		/*
		 * A LOG_DIRTY_PAGES slot's dirty bitmap (dirty.h), NULL when
		 * the object keeps none; shared with the slot it replaced or
		 * replaces (a kept bitmap, an INVALID copy), so the slot
		 * that drops it frees it (update.c).  Read through
		 * ms_slot_dirty() only.
		 */
		_Atomic(uint64_t) *dirty;
	};
};

static inline struct ms_slot *ms_slot_of(const struct memslot *pub)
{
	return ms_container_of(pub, struct ms_slot, pub);
}

/* The slot of @n, its hva_node[@idx]. */
static inline struct ms_slot *ms_slot_from_hva(const struct ms_itree_node *n, unsigned int idx)
{
	return ms_container_of(n - idx, struct ms_slot, hva_node[0]);
}

/* @s's dirty bitmap, or NULL: under the flag that says the field is one. */
static inline _Atomic(uint64_t) *ms_slot_dirty(const struct ms_slot *s)
{
	return (s->pub.flags & MEMSLOT_LOG_DIRTY_PAGES) ? s->dirty : NULL;
}

/* @s's guest_memfd binding, or NULL: under the flag that says the field is one. */
static inline struct ms_gmem_binding *ms_slot_gmem(const struct ms_slot *s)
{
	return (s->pub.flags & MEMSLOT_GUEST_MEMFD) ? s->gmem : NULL;
}

/* One past the slot's last gfn; never wraps (the request checks forbid it). */
static inline uint64_t ms_slot_end(const struct ms_slot *s)
{
	return s->pub.base_gfn + s->pub.npages;
}

static inline int ms_slot_holds(const struct ms_slot *s, uint64_t gfn)
{
	/* One compare: below base_gfn the difference wraps past npages, as a
	 * slot never reaches 2^64 (the request checks forbid it). */
	return gfn - s->pub.base_gfn < s->pub.npages;
}

/*
 * A zeroed slot object of @size bytes: sizeof(struct ms_slot), or more for
 * an index that keeps its nodes in a tail after it (kvm_index.h); NULL
 * when memory runs out.
 */
struct ms_slot *ms_slot_alloc(const struct ms_alloc *a, size_t size);
void ms_slot_free(const struct ms_alloc *a, struct ms_slot *s);

/*
 * Slot objects a writer call retired, kept for the next calls' copies.  A
 * batch that changes most slots (dirty logging switched on for all at
 * migration start) retires as many objects as it allocates: taking them
 * from here rather than from the allocator saves a malloc, a free and, for
 * memory the allocator hands out fresh, a page fault per slot.  The writer
 * settles it after every call to at most the live slot count, so it costs at
 * most one more object per live slot, and only after a call that replaced
 * them; memslots_free() empties it.  Writer only (under the writer lock);
 * a retired slot is one no reader can reach any more.
 *
 * The slot copies follow the reservation protocol of the sets (set.h): a
 * call reserves every copy it will publish before publishing anything,
 * retires what it replaced or threw away (which cannot fail), and settles
 * the cache at its end.
 */
struct ms_slot_cache {
	struct ms_slot *head; /* linked through their first word */
	size_t count;
	size_t size; /* of every slot object of the object (ms_slot_alloc) */
};

/* A zeroed slot, recycled when one is at hand; NULL when memory runs out. */
struct ms_slot *ms_slot_reserve(struct ms_slot_cache *c, const struct ms_alloc *a);
/* Retires @s (may be NULL) into the cache; never fails. */
void ms_slot_retire(struct ms_slot_cache *c, struct ms_slot *s);
/* Gives back (frees) cached slots until at most @keep remain. */
void ms_slot_cache_settle(struct ms_slot_cache *c, const struct ms_alloc *a, size_t keep);

#endif /* MS_SLOT_H */
