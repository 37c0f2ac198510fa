/* SPDX-License-Identifier: MIT */
/*
 * The hva interval tree (interval_tree.h): the interval-tree template
 * (interval_tree_generic.h) instantiated twice on u64 keys, once per node
 * index of a slot, each reading the interval from the slot its node is
 * in; the functions of the header pick the instance.
 */
#include "interval_tree.h"
#include "interval_tree_generic.h"
#include "slot.h"

static inline bool ms_itree_lt(uint64_t a, uint64_t b)
{
	return a < b;
}

static inline uint64_t ms_itree_sub(const struct ms_itree_node *n)
{
	return n->subtree_last;
}

static inline void ms_itree_set_sub(struct ms_itree_node *n, uint64_t last)
{
	n->subtree_last = last;
}

/* The key callbacks of the instance for node @idx, and the instance. */
#define MS_ITREE_INSTANCE(IDX)                                                             \
	static inline uint64_t ms_itree##IDX##_start(const struct ms_itree_node *n)        \
	{                                                                                  \
		return ms_slot_from_hva(n, IDX)->pub.userspace_addr;                       \
	}                                                                                  \
                                                                                           \
	static inline uint64_t ms_itree##IDX##_last(const struct ms_itree_node *n)         \
	{                                                                                  \
		return ms_slot_from_hva(n, IDX)->hva_last;                                 \
	}                                                                                  \
                                                                                           \
	MS_INTERVAL_TREE_DEFINE(static, ms_itree##IDX, struct ms_itree_node, rb, uint64_t, \
				ms_itree##IDX##_start, ms_itree##IDX##_last, ms_itree_sub, \
				ms_itree_set_sub, ms_itree_lt)

MS_ITREE_INSTANCE(0)
MS_ITREE_INSTANCE(1)

void ms_itree_insert(struct ms_slot *slot, unsigned int idx, struct ms_rb_root_cached *root)
{
	if (idx)
		ms_itree1_insert(&slot->hva_node[1], root);
	else
		ms_itree0_insert(&slot->hva_node[0], root);
}

void ms_itree_remove(struct ms_slot *slot, unsigned int idx, struct ms_rb_root_cached *root)
{
	if (idx)
		ms_itree1_remove(&slot->hva_node[1], root);
	else
		ms_itree0_remove(&slot->hva_node[0], root);
}

void ms_itree_replace(struct ms_slot *old, struct ms_slot *new, unsigned int idx,
		      struct ms_rb_root_cached *root)
{
	if (idx)
		ms_itree1_replace(&old->hva_node[1], &new->hva_node[1], root);
	else
		ms_itree0_replace(&old->hva_node[0], &new->hva_node[0], root);
}

static struct ms_slot *ms_itree_slot_or_null(const struct ms_itree_node *n, unsigned int idx)
{
	return n ? ms_slot_from_hva(n, idx) : NULL;
}

struct ms_slot *ms_itree_iter_first(const struct ms_rb_root_cached *root, unsigned int idx,
				    uint64_t qs, uint64_t ql)
{
	if (idx)
		return ms_itree_slot_or_null(ms_itree1_iter_first(root, qs, ql), 1);
	return ms_itree_slot_or_null(ms_itree0_iter_first(root, qs, ql), 0);
}

struct ms_slot *ms_itree_iter_next(const struct ms_slot *slot, unsigned int idx, uint64_t qs,
				   uint64_t ql)
{
	if (idx)
		return ms_itree_slot_or_null(ms_itree1_iter_next(&slot->hva_node[1], qs, ql), 1);
	return ms_itree_slot_or_null(ms_itree0_iter_next(&slot->hva_node[0], qs, ql), 0);
}

const char *ms_itree_validate(const struct ms_rb_root_cached *root, unsigned int idx, size_t *count)
{
	return idx ? ms_itree1_validate(root, count) : ms_itree0_validate(root, count);
}
