/* SPDX-License-Identifier: MIT */
/*
 * The hva interval tree (interval_tree.h): the interval-tree template
 * (interval_tree_generic.h) instantiated on u64 keys, with external
 * linkage for the set's code and the tests.
 */
#include "interval_tree.h"
#include "interval_tree_generic.h"

static inline uint64_t ms_itree_start(const struct ms_itree_node *n)
{
	return n->start;
}

static inline uint64_t ms_itree_last(const struct ms_itree_node *n)
{
	return n->last;
}

static inline uint64_t ms_itree_sub(const struct ms_itree_node *n)
{
	return n->subtree_last;
}

static inline void ms_itree_set_sub(struct ms_itree_node *n, uint64_t last)
{
	n->subtree_last = last;
}

static inline bool ms_itree_lt(uint64_t a, uint64_t b)
{
	return a < b;
}

MS_INTERVAL_TREE_DEFINE(, ms_itree, struct ms_itree_node, rb, uint64_t, ms_itree_start,
			ms_itree_last, ms_itree_sub, ms_itree_set_sub, ms_itree_lt)
