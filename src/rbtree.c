/* SPDX-License-Identifier: MIT */
/*
 * The plain (non-augmented) red-black tree: the balancing core of
 * rbtree_augmented.h instantiated with empty callbacks, plus navigation,
 * a debug validator and what its results mean (ms_rb_strerror).
 */
#include "rbtree.h"
#include "rbtree_augmented.h"

/* ---- the plain tree: the core with nothing to maintain -------------------- */

static MS_ALWAYS_INLINE void ms_rb_noop_propagate(struct ms_rb_node *node, struct ms_rb_node *stop)
{
	(void)node;
	(void)stop;
}

static MS_ALWAYS_INLINE void ms_rb_noop_copy(struct ms_rb_node *old, struct ms_rb_node *new)
{
	(void)old;
	(void)new;
}

static MS_ALWAYS_INLINE void ms_rb_noop_rotate(struct ms_rb_node *old, struct ms_rb_node *new)
{
	(void)old;
	(void)new;
}

static const struct ms_rb_augment_callbacks ms_rb_no_augment = {
	.propagate = ms_rb_noop_propagate,
	.copy = ms_rb_noop_copy,
	.rotate = ms_rb_noop_rotate,
};

void ms_rb_insert_color(struct ms_rb_node *node, struct ms_rb_root *root)
{
	ms_rb_insert_augmented(node, root, &ms_rb_no_augment);
}

void ms_rb_erase(struct ms_rb_node *node, struct ms_rb_root *root)
{
	ms_rb_erase_augmented(node, root, &ms_rb_no_augment);
}

/*
 * @new takes over @victim's parent, children and colour.  Nothing else in
 * the tree changes, so this is O(1) and needs no rebalancing; an augmented
 * caller copies its value across itself.
 */
void ms_rb_replace_node(struct ms_rb_node *victim, struct ms_rb_node *new, struct ms_rb_root *root)
{
	struct ms_rb_node *parent = ms_rb_parent(victim);

	*new = *victim;
	if (victim->left)
		ms__rb_set_parent(victim->left, new);
	if (victim->right)
		ms__rb_set_parent(victim->right, new);
	ms__rb_change_child(victim, new, parent, root);
}

/* ---- navigation ------------------------------------------------------------- */

struct ms_rb_node *ms_rb_first(const struct ms_rb_root *root)
{
	struct ms_rb_node *n = root->node;

	if (!n)
		return NULL;
	while (n->left)
		n = n->left;
	return n;
}

struct ms_rb_node *ms_rb_last(const struct ms_rb_root *root)
{
	struct ms_rb_node *n = root->node;

	if (!n)
		return NULL;
	while (n->right)
		n = n->right;
	return n;
}

struct ms_rb_node *ms_rb_next(const struct ms_rb_node *node)
{
	/* With a right subtree, the successor is its leftmost node. */
	if (node->right) {
		node = node->right;
		while (node->left)
			node = node->left;
		return (struct ms_rb_node *)node;
	}
	/* Else it is the first ancestor we reach from its left side. */
	return ms_rb_next_after_subtree(node);
}

struct ms_rb_node *ms_rb_prev(const struct ms_rb_node *node)
{
	const struct ms_rb_node *parent;

	if (node->left) {
		node = node->left;
		while (node->right)
			node = node->right;
		return (struct ms_rb_node *)node;
	}
	while ((parent = ms_rb_parent(node)) && node == parent->left)
		node = parent;
	return (struct ms_rb_node *)parent;
}

/* ---- validation ----------------------------------------------------------- */

/*
 * A valid tree of n nodes is at most 2 * log2(n + 1) high, so on a 64-bit
 * address space no valid tree is deeper than this; anything deeper is a
 * cycle or a corrupted link, and stopping there keeps the recursion bounded.
 */
#define MS_RB_MAX_DEPTH 128u

struct ms_rb_walk {
	ms_rb_cmp_fn cmp;
	const struct ms_rb_node *prev; /* previous node in order */
	size_t count;
};

static int ms_rb_check_node(const struct ms_rb_node *n, const struct ms_rb_node *parent,
			    unsigned int depth, struct ms_rb_walk *w, unsigned int *black_height)
{
	unsigned int lh, rh;
	int err;

	if (!n) {
		*black_height = 1; /* NULL leaves are black */
		return 0;
	}
	if (depth > MS_RB_MAX_DEPTH)
		return MS_RB_EDEPTH;
	if (ms_rb_parent(n) != parent)
		return MS_RB_EPARENT;
	if (n->parent_color & 2)
		return MS_RB_EFLAGS;
	if (ms_rb_is_red(n) &&
	    ((n->left && ms_rb_is_red(n->left)) || (n->right && ms_rb_is_red(n->right))))
		return MS_RB_ERED_RED;

	err = ms_rb_check_node(n->left, n, depth + 1, w, &lh);
	if (err)
		return err;
	if (w->cmp && w->prev && w->cmp(w->prev, n) > 0)
		return MS_RB_EORDER;
	w->prev = n;
	w->count++;
	err = ms_rb_check_node(n->right, n, depth + 1, w, &rh);
	if (err)
		return err;
	if (lh != rh)
		return MS_RB_EBLACK_HEIGHT;
	*black_height = lh + ms_rb_is_black(n);
	return 0;
}

int ms_rb_validate(const struct ms_rb_root *root, ms_rb_cmp_fn cmp, size_t *count)
{
	struct ms_rb_walk w = {.cmp = cmp, .prev = NULL, .count = 0};
	unsigned int bh;
	int err;

	if (count)
		*count = 0;
	if (root->node && ms_rb_is_red(root->node))
		return MS_RB_EROOT_RED;
	err = ms_rb_check_node(root->node, NULL, 0, &w, &bh);
	if (err)
		return err;
	if (count)
		*count = w.count;
	return 0;
}

int ms_rb_validate_cached(const struct ms_rb_root_cached *root, ms_rb_cmp_fn cmp, size_t *count)
{
	int err = ms_rb_validate(&root->root, cmp, count);

	if (err)
		return err;
	if (root->leftmost != ms_rb_first(&root->root))
		return MS_RB_ELEFTMOST;
	return 0;
}

const char *ms_rb_strerror(int err)
{
	switch (err) {
	case 0:
		return "valid";
	case MS_RB_EROOT_RED:
		return "root is red";
	case MS_RB_EPARENT:
		return "parent pointer disagrees with the child link";
	case MS_RB_EFLAGS:
		return "unused parent_color bit set";
	case MS_RB_ERED_RED:
		return "red node with a red child";
	case MS_RB_EBLACK_HEIGHT:
		return "paths with different black heights";
	case MS_RB_EORDER:
		return "in-order sequence not sorted";
	case MS_RB_ELEFTMOST:
		return "cached leftmost is not the first node";
	case MS_RB_EDEPTH:
		return "tree deeper than any valid tree (cycle?)";
	case MS_RB_EAUGMENT:
		return "augmented value wrong";
	case MS_RB_EKEY:
		return "node key invalid";
	default:
		return "unknown error";
	}
}
