/* SPDX-License-Identifier: MIT */
/*
 * The library's memslot object: for each of the three per-set structures,
 * one node per set (the scalable-memslots "node[2]"), so that one slot
 * object can sit in both sets at once and each set can be changed without
 * touching the other's linkage; and the public struct memslot.
 *
 * Layout, chosen for the readers' gfn lookups (measured with cachegrind,
 * 2 MiB last-level cache, 32764 slots, random gfns): a descent reads, per
 * level, only the node's child pointers and its copies of base_gfn and
 * npages.  Those 32 bytes sit at a 32-byte-aligned offset of a 32-byte
 * aligned object, so each level touches exactly one cache line and the
 * final "does it hold gfn" check touches none more.  Letting the window
 * straddle lines, or reading npages from the public fields, doubled or
 * added a third to the lookup's last-level misses.
 *
 *   link[0]  0..63    id node (16), bookkeeping (8), gfn node (40)
 *   link[1]  64..127  the same for set 1
 *   pub      128..183 struct memslot
 *   hva_node 184..279 one interval-tree node per set
 *   gmem     280..335 the guest_memfd binding (writer only, last)
 */
#ifndef MS_SLOT_H
#define MS_SLOT_H

#include <stdint.h>

#include <memslots/memslots.h>

#include "alloc.h"
#include "compiler.h"
#include "gmem_index.h"
#include "idhash.h"
#include "interval_tree.h"
#include "rbtree.h"

struct ms_gfn_node {
	struct ms_rb_node rb; /* a descent reads right and left ... */
	uint64_t base_gfn;    /* ... and these two copies, 32 bytes in all */
	uint64_t npages;
};

/* One set's linkage of a slot that lookups read. */
struct ms_slot_link {
	struct ms_hnode id;
	uint64_t align_pad; /* link[0]: bytes skipped to align the object */
	struct ms_gfn_node gfn;
};

struct ms_slot {
	struct ms_slot_link link[2];
	struct memslot pub;
	struct ms_itree_node hva_node[2];
	/*
	 * A GUEST_MEMFD slot's range of its guest_memfd, in the object's
	 * binding index (one for both sets: it follows the staged state)
	 * from the staging of the slot's CREATE to that of its DELETE.
	 */
	struct ms_gmem_binding gmem;
};

#define MS_SLOT_ALIGN 32u

static inline struct ms_slot *ms_slot_of(const struct memslot *pub)
{
	return ms_container_of(pub, struct ms_slot, pub);
}

static inline struct ms_gfn_node *ms_slot_gfn(struct ms_slot *s, unsigned int idx)
{
	return &s->link[idx].gfn;
}

static inline struct ms_hnode *ms_slot_id(struct ms_slot *s, unsigned int idx)
{
	return &s->link[idx].id;
}

static inline struct ms_slot *ms_slot_from_gfn(const struct ms_rb_node *rb, unsigned int idx)
{
	const struct ms_gfn_node *g = ms_container_of(rb, struct ms_gfn_node, rb);
	const struct ms_slot_link *l = ms_container_of(g, struct ms_slot_link, gfn);

	return ms_container_of(l - idx, struct ms_slot, link[0]);
}

static inline struct ms_slot *ms_slot_from_id(const struct ms_hnode *n, unsigned int idx)
{
	const struct ms_slot_link *l = ms_container_of(n, struct ms_slot_link, id);

	return ms_container_of(l - idx, struct ms_slot, link[0]);
}

static inline struct ms_slot *ms_slot_from_hva(const struct ms_itree_node *n, unsigned int idx)
{
	return ms_container_of(n - idx, struct ms_slot, hva_node[0]);
}

/* One past the slot's last gfn; never wraps (the request checks forbid it). */
static inline uint64_t ms_slot_end(const struct ms_slot *s)
{
	return s->pub.base_gfn + s->pub.npages;
}

static inline int ms_slot_holds(const struct ms_slot *s, uint64_t gfn)
{
	return gfn >= s->pub.base_gfn && gfn - s->pub.base_gfn < s->pub.npages;
}

/* A zeroed slot, MS_SLOT_ALIGN-aligned when the allocator's pointers are
 * 16-byte aligned (as malloc's are); NULL when memory runs out. */
struct ms_slot *ms_slot_alloc(const struct ms_alloc *a);
void ms_slot_free(const struct ms_alloc *a, struct ms_slot *s);

#endif /* MS_SLOT_H */
