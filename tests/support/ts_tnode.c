/* SPDX-License-Identifier: MIT */
#include "ts_tnode.h"

int ts_tnode_cmp(const struct ms_rb_node *a, const struct ms_rb_node *b)
{
	uint64_t ka = ts_tnode_of(a)->key, kb = ts_tnode_of(b)->key;

	return (ka > kb) - (ka < kb);
}

void ts_tnode_insert(struct ms_rb_root_cached *root, struct ts_tnode *n)
{
	struct ms_rb_node **link = &root->root.node, *parent = NULL;
	bool leftmost = true;

	while (*link) {
		parent = *link;
		if (n->key < ts_tnode_of(parent)->key) {
			link = &parent->left;
		} else {
			link = &parent->right;
			leftmost = false;
		}
	}
	ms_rb_link_node(&n->rb, parent, link);
	ms_rb_insert_color_cached(&n->rb, root, leftmost);
	n->in_tree = true;
}
