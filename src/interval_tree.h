/* SPDX-License-Identifier: MIT */
/*
 * Augmented interval tree of closed u64 intervals [start, last]: the hva
 * tree of a set, one instance of the interval-tree template
 * (interval_tree_generic.h, instantiated in interval_tree.c).
 *
 * A red-black tree ordered by start (equal starts go right, so duplicate
 * and overlapping intervals are allowed), where every node also keeps the
 * largest `last` of its subtree.  A stabbing/overlap query then visits only
 * subtrees that can hold an answer: O(log n + k) for k results.  The root
 * caches its leftmost node so a query entirely outside the tree's span
 * [leftmost start, root subtree_last] is rejected in O(1).
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

struct ms_itree_node {
	struct ms_rb_node rb;
	uint64_t start;	       /* first value in the interval */
	uint64_t last;	       /* last value in the interval (inclusive), >= start */
	uint64_t subtree_last; /* max(last) over this node's subtree */
};

/* Inserts @node; the caller has set node->start and node->last. */
void ms_itree_insert(struct ms_itree_node *node, struct ms_rb_root_cached *root);
/* Removes @node. */
void ms_itree_remove(struct ms_itree_node *node, struct ms_rb_root_cached *root);
/* Puts @new in @old's place in O(1); new->start and new->last must equal
 * old's (the augmented value is copied). */
void ms_itree_replace(struct ms_itree_node *old, struct ms_itree_node *new,
		      struct ms_rb_root_cached *root);

/* The first node (in start order) of those intersecting [qs, ql], or NULL;
 * NULL when ql < qs. */
struct ms_itree_node *ms_itree_iter_first(const struct ms_rb_root_cached *root, uint64_t qs,
					  uint64_t ql);
/* The next node after @node intersecting [qs, ql], or NULL. */
struct ms_itree_node *ms_itree_iter_next(const struct ms_itree_node *node, uint64_t qs,
					 uint64_t ql);

/*
 * Debug validator: the red-black checks of ms_rb_validate_cached() with the
 * order by start, plus start <= last and the right subtree_last in every
 * node.  Returns NULL or an ms_rb_bad_* sentence (ms_rb_bad_key,
 * ms_rb_bad_augment for the interval-specific ones); *@count (if not NULL)
 * gets the node count.
 */
const char *ms_itree_validate(const struct ms_rb_root_cached *root, size_t *count);

#endif /* MS_INTERVAL_TREE_H */
