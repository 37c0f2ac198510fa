/* SPDX-License-Identifier: MIT */
/*
 * The red-black tree test's model and checker.  The model is a sorted
 * array of node pointers; ties go right in the tree, so the model inserts
 * after the last equal key.  ts_rb_check_tree() checks the tree against it with
 * its own walk (colours, parent words, black heights, height bound,
 * navigation both ways, the leftmost cache) and with
 * ms_rb_validate_cached().  Failures end the running Check test.
 * Single-threaded, like the tree itself.
 */
#ifndef TS_RBTREE_MODEL_H
#define TS_RBTREE_MODEL_H

#include <stddef.h>

#include "rbtree.h"
#include "ts_tnode.h"

struct ts_rb_model {
	struct ts_tnode **v;
	size_t n, cap;
};

void ts_rb_model_init(struct ts_rb_model *m, size_t cap);
void ts_rb_model_free(struct ts_rb_model *m);
/* Inserts @n after the last node of an equal key, as the tree does. */
void ts_rb_model_insert(struct ts_rb_model *m, struct ts_tnode *n);
void ts_rb_model_remove_at(struct ts_rb_model *m, size_t i);

/* The tree side: insert and erase keep the node's in_tree mark. */
void ts_rb_tree_insert(struct ms_rb_root_cached *root, struct ts_tnode *n);
void ts_rb_tree_erase(struct ms_rb_root_cached *root, struct ts_tnode *n);

/* Both at once: inserts @n into the tree and the model; erases the
 * model's @i-th node from both. */
void ts_rb_insert(struct ms_rb_root_cached *root, struct ts_rb_model *m, struct ts_tnode *n);
void ts_rb_erase_at(struct ms_rb_root_cached *root, struct ts_rb_model *m, size_t i);

/* Replaces the model's @i-th node by @fresh in both, checking that the
 * tree put @fresh exactly where the old node was. */
void ts_rb_replace_at(struct ms_rb_root_cached *root, struct ts_rb_model *m, size_t i,
		      struct ts_tnode *fresh);

/* Checks the tree against the model: structure, order, navigation. */
void ts_rb_check_tree(const struct ms_rb_root_cached *root, const struct ts_rb_model *m);

#endif /* TS_RBTREE_MODEL_H */
