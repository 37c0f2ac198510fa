/* SPDX-License-Identifier: MIT */
/*
 * The library's memslot object: the public struct memslot, and one node
 * per set for each per-set structure that links through the slot (the
 * scalable-memslots "node[2]"), so that one slot object can sit in both
 * sets at once and each set can be changed without touching the other's
 * linkage.  The gfn index is not among them: it is a B+tree per set
 * (btree.h) whose leaves hold each slot's base gfn, end gfn and pointer,
 * so a gfn lookup decides hit or miss without reading the slot at all.
 *
 * Layout: the public fields come first.  The last-used and per-thread
 * cache checks read base_gfn and npages through the pointer they just
 * loaded; at offset 0 those 16 bytes share a line with the rest of the
 * public struct for any 16-byte aligned allocation, so a cache hit touches
 * one line, the one its caller reads next anyway.
 *
 *   pub      0..39    struct memslot
 *   id       40..71   one id-hash node per set
 *   hva_node 72..167  one interval-tree node per set
 */
#ifndef MS_SLOT_H
#define MS_SLOT_H

#include <stdint.h>

#include <memslots/memslots.h>

#include "alloc.h"
#include "compiler.h"
#include "idhash.h"
#include "interval_tree.h"

struct ms_slot {
	struct memslot pub;
	struct ms_hnode id[2];
	struct ms_itree_node hva_node[2];
};

static inline struct ms_slot *ms_slot_of(const struct memslot *pub)
{
	return ms_container_of(pub, struct ms_slot, pub);
}

static inline struct ms_hnode *ms_slot_id(struct ms_slot *s, unsigned int idx)
{
	return &s->id[idx];
}

static inline struct ms_slot *ms_slot_from_id(const struct ms_hnode *n, unsigned int idx)
{
	return ms_container_of(n - idx, struct ms_slot, id[0]);
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

/* A zeroed slot; NULL when memory runs out. */
struct ms_slot *ms_slot_alloc(const struct ms_alloc *a);
void ms_slot_free(const struct ms_alloc *a, struct ms_slot *s);

#endif /* MS_SLOT_H */
