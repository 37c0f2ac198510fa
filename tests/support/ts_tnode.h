/* SPDX-License-Identifier: MIT */
/*
 * A test node for the bare red-black tree (src/rbtree.h): a u64 key, the
 * tree linkage, and whether it is in the tree.  Used by the tree's unit
 * test and its fuzzer, each with a model of its own around it.
 */
#ifndef TS_TNODE_H
#define TS_TNODE_H

#include <stdbool.h>
#include <stdint.h>

#include "rbtree.h"

struct ts_tnode {
	uint64_t key;
	struct ms_rb_node rb;
	bool in_tree;
};

static inline struct ts_tnode *ts_tnode_of(const struct ms_rb_node *rb)
{
	return ms_rb_entry(rb, struct ts_tnode, rb);
}

/* By key, for ms_rb_validate(). */
int ts_tnode_cmp(const struct ms_rb_node *a, const struct ms_rb_node *b);

/* Descends as a user would, equal keys going right, keeps the leftmost
 * cache, links and rebalances; marks @n in the tree. */
void ts_tnode_insert(struct ms_rb_root_cached *root, struct ts_tnode *n);

#endif /* TS_TNODE_H */
