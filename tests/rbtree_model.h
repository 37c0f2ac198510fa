/* SPDX-License-Identifier: MIT */
/*
 * The red-black tree test's model and checker.  The model is a sorted
 * array of node pointers; ties go right in the tree, so the model inserts
 * after the last equal key.  check_tree() checks the tree against it with
 * its own walk (colours, parent words, black heights, height bound,
 * navigation both ways, the leftmost cache) and with
 * ms_rb_validate_cached().  Failures end the running Check test.
 * Single-threaded, like the tree itself.
 */
#ifndef MS_TESTS_RBTREE_MODEL_H
#define MS_TESTS_RBTREE_MODEL_H

#include <stddef.h>

#include "rbtree.h"
#include "ts_tnode.h"

struct model {
	struct tnode **v;
	size_t n, cap;
};

void model_init(struct model *m, size_t cap);
void model_free(struct model *m);
/* Inserts @n after the last node of an equal key, as the tree does. */
void model_insert(struct model *m, struct tnode *n);
void model_remove_at(struct model *m, size_t i);

/* The tree side: insert and erase keep the node's in_tree mark. */
void tree_insert(struct ms_rb_root_cached *root, struct tnode *n);
void tree_erase(struct ms_rb_root_cached *root, struct tnode *n);

/* Replaces the model's @i-th node by @fresh in both, checking that the
 * tree put @fresh exactly where the old node was. */
void replace_at(struct ms_rb_root_cached *root, struct model *m, size_t i, struct tnode *fresh);

/* Checks the tree against the model: structure, order, navigation. */
void check_tree(const struct ms_rb_root_cached *root, const struct model *m);

#endif /* MS_TESTS_RBTREE_MODEL_H */
