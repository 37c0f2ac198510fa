/* SPDX-License-Identifier: MIT */
/*
 * The library's memslot object: the public struct memslot first, then, for
 * each of the three per-set structures, one node per set (the
 * scalable-memslots "node[2]"), so that one slot object can sit in both
 * sets at once and each set can be changed without touching the other's
 * linkage.
 */
#ifndef MS_SLOT_H
#define MS_SLOT_H

#include <stdint.h>

#include <memslots/memslots.h>

#include "compiler.h"
#include "idhash.h"
#include "interval_tree.h"
#include "rbtree.h"

/*
 * A gfn-tree node carries a copy of its slot's base_gfn, so that a lookup
 * descending the tree touches one cache line per level instead of two
 * (the node and the public fields live in different lines for set 1).
 */
struct ms_gfn_node {
	struct ms_rb_node rb;
	uint64_t base_gfn;
};

struct ms_slot {
	struct memslot pub;
	struct ms_gfn_node gfn_node[2];
	struct ms_itree_node hva_node[2];
	struct ms_hnode id_node[2];
};

static inline struct ms_slot *ms_slot_of(const struct memslot *pub)
{
	return ms_container_of(pub, struct ms_slot, pub);
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

#endif /* MS_SLOT_H */
