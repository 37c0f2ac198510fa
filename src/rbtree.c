/* SPDX-License-Identifier: MIT */
/*
 * The plain (non-augmented) red-black tree: the balancing core of
 * rbtree_augmented.h instantiated with empty callbacks, plus navigation,
 * and a debug validator with its sentences (ms_rb_bad_*).
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

const char ms_rb_bad_root_red[] = "red-black tree: the root is red";
const char ms_rb_bad_parent[] = "red-black tree: a parent pointer disagrees with the child link";
const char ms_rb_bad_flags[] = "red-black tree: an unused parent_color bit is set";
const char ms_rb_bad_red_red[] = "red-black tree: a red node has a red child";
const char ms_rb_bad_black_height[] = "red-black tree: two paths have different black heights";
const char ms_rb_bad_order[] = "red-black tree: the in-order sequence is not sorted";
const char ms_rb_bad_leftmost[] = "red-black tree: the cached leftmost is not the first node";
const char ms_rb_bad_depth[] = "red-black tree: deeper than any valid tree (a cycle?)";
const char ms_rb_bad_augment[] = "red-black tree: an augmented value is wrong";
const char ms_rb_bad_key[] = "red-black tree: a node's key is invalid";
const char ms_rb_bad_count[] = "red-black tree: the node count differs from its owner's";

struct ms_rb_walk {
	ms_rb_cmp_fn cmp;
	const struct ms_rb_node *prev; /* previous node in order */
	size_t count;
};

static const char *ms_rb_check_node(const struct ms_rb_node *n, const struct ms_rb_node *parent,
				    unsigned int depth, struct ms_rb_walk *w,
				    unsigned int *black_height)
{
	unsigned int lh, rh;
	const char *why;

	if (!n) {
		*black_height = 1; /* NULL leaves are black */
		return NULL;
	}
	if (depth > MS_RB_MAX_DEPTH)
		return ms_rb_bad_depth;
	if (ms_rb_parent(n) != parent)
		return ms_rb_bad_parent;
	if (n->parent_color & 2)
		return ms_rb_bad_flags;
	if (ms_rb_is_red(n) &&
	    ((n->left && ms_rb_is_red(n->left)) || (n->right && ms_rb_is_red(n->right))))
		return ms_rb_bad_red_red;

	why = ms_rb_check_node(n->left, n, depth + 1, w, &lh);
	if (why)
		return why;
	if (w->cmp && w->prev && w->cmp(w->prev, n) > 0)
		return ms_rb_bad_order;
	w->prev = n;
	w->count++;
	why = ms_rb_check_node(n->right, n, depth + 1, w, &rh);
	if (why)
		return why;
	if (lh != rh)
		return ms_rb_bad_black_height;
	*black_height = lh + ms_rb_is_black(n);
	return NULL;
}

const char *ms_rb_validate(const struct ms_rb_root *root, ms_rb_cmp_fn cmp, size_t *count)
{
	struct ms_rb_walk w = {.cmp = cmp, .prev = NULL, .count = 0};
	unsigned int bh;
	const char *why;

	if (count)
		*count = 0;
	if (root->node && ms_rb_is_red(root->node))
		return ms_rb_bad_root_red;
	why = ms_rb_check_node(root->node, NULL, 0, &w, &bh);
	if (why)
		return why;
	if (count)
		*count = w.count;
	return NULL;
}

const char *ms_rb_validate_cached(const struct ms_rb_root_cached *root, ms_rb_cmp_fn cmp,
				  size_t *count)
{
	const char *why = ms_rb_validate(&root->root, cmp, count);

	if (why)
		return why;
	if (root->leftmost != ms_rb_first(&root->root))
		return ms_rb_bad_leftmost;
	return NULL;
}
