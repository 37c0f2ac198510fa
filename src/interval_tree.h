/* SPDX-License-Identifier: MIT */
/*
 * Augmented interval tree of closed u64 intervals [start, last]: the hva
 * tree of a set, the interval-tree template (interval_tree_generic.h)
 * instantiated over the slots (interval_tree.c).
 *
 * A red-black tree ordered by start (equal starts go right, so duplicate
 * and overlapping intervals are allowed), where every node also keeps the
 * largest `last` of its subtree.  A stabbing/overlap query then visits only
 * subtrees that can hold an answer: O(log n + k) for k results.  The root
 * caches its leftmost node so a query entirely outside the tree's span
 * [leftmost start, root subtree_last] is rejected in O(1).
 *
 * A node is a slot's hva_node[idx] (slot.h), for the set whose node index
 * is idx, and holds the links and the subtree maximum only: the interval
 * is the slot's, [pub.userspace_addr, hva_last], the same for both of its
 * nodes, so it is not kept twice.  Which node a key callback is handed
 * decides where its slot starts, so the template is instantiated once per
 * node index, and every function here picks the instance with one branch
 * on @idx.
 *
 * Concurrency: as rbtree.h.  Changes are the writer's, on an inactive
 * set's tree; the queries and the validator only load, and readers run
 * them on a published set's tree, which nobody changes.
 */
#ifndef MS_INTERVAL_TREE_H
#define MS_INTERVAL_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "rbtree.h"

struct ms_slot;

struct ms_itree_node {
	struct ms_rb_node rb;
	uint64_t subtree_last; /* max(last) over this node's subtree */
};

/* Inserts @slot through its node @idx; its interval is set already. */
void ms_itree_insert(struct ms_slot *slot, unsigned int idx, struct ms_rb_root_cached *root);
/* Removes @slot's node @idx. */
void ms_itree_remove(struct ms_slot *slot, unsigned int idx, struct ms_rb_root_cached *root);
/* Puts @new's node @idx in @old's place in O(1); new's interval must
 * equal old's (the augmented value is copied). */
void ms_itree_replace(struct ms_slot *old, struct ms_slot *new, unsigned int idx,
		      struct ms_rb_root_cached *root);

/* The first slot (in start order) of those whose interval meets [qs, ql],
 * or NULL; NULL when ql < qs. */
struct ms_slot *ms_itree_iter_first(const struct ms_rb_root_cached *root, unsigned int idx,
				    uint64_t qs, uint64_t ql);
/* The next slot after @slot whose interval meets [qs, ql], or NULL. */
struct ms_slot *ms_itree_iter_next(const struct ms_slot *slot, unsigned int idx, uint64_t qs,
				   uint64_t ql);

/*
 * Debug validator: the red-black checks of ms_rb_validate_cached() with the
 * order by start, plus start <= last and the right subtree_last in every
 * node.  Returns NULL or an ms_rb_bad_* sentence (ms_rb_bad_key,
 * ms_rb_bad_augment for the interval-specific ones); *@count (if not NULL)
 * gets the node count.
 */
const char *ms_itree_validate(const struct ms_rb_root_cached *root, unsigned int idx,
			      size_t *count);

#endif /* MS_INTERVAL_TREE_H */
