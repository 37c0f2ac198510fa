/* SPDX-License-Identifier: MIT */
/*
 * The red-black balancing core, shared by the plain and the augmented trees.
 *
 * An augmented tree keeps in every node a value computed from the node and
 * its two subtrees (the interval tree keeps the largest `last`).  The core
 * tells the user about each structural change through three callbacks:
 *
 *   propagate(node, stop)  @node's subtree changed: recompute it and its
 *                          ancestors, up to but not including @stop (NULL:
 *                          up to the root); may stop early once a value
 *                          comes out unchanged.
 *   copy(old, repl)        @repl has taken @old's place with @old's whole
 *                          subtree: repl's value = old's value.
 *   rotate(old, repl)      @repl was @old's child and has been rotated into
 *                          its place: repl's value = old's value (same node
 *                          set), old's value is recomputed.
 *
 * Every function here is always inlined with a constant callback table, so
 * the plain tree (rbtree.c), which passes empty callbacks, gets code with
 * no trace of augmentation, and each instance of the interval-tree
 * template (interval_tree_generic.h) its own copy with direct calls to
 * its callbacks.
 *
 * Inserting into an augmented tree: the caller descends as usual, fixing
 * up the augmented value of every node it passes (a new leaf can only make
 * an ancestor's value grow), sets the new node's own value, links it with
 * ms_rb_link_node(), then calls ms_rb_insert_augmented().
 */
#ifndef MS_RBTREE_AUGMENTED_H
#define MS_RBTREE_AUGMENTED_H

#include "rbtree.h"

struct ms_rb_augment_callbacks {
	void (*propagate)(struct ms_rb_node *node, struct ms_rb_node *stop);
	void (*copy)(struct ms_rb_node *old, struct ms_rb_node *repl);
	void (*rotate)(struct ms_rb_node *old, struct ms_rb_node *repl);
};

/* ---- colour and parent helpers ------------------------------------------- */

static MS_ALWAYS_INLINE void ms__rb_set_parent(struct ms_rb_node *n, struct ms_rb_node *parent)
{
	n->parent_color = (uintptr_t)parent | (n->parent_color & MS_RB_BLACK);
}

static MS_ALWAYS_INLINE void ms__rb_set_black(struct ms_rb_node *n)
{
	n->parent_color |= MS_RB_BLACK;
}

static MS_ALWAYS_INLINE void ms__rb_set_red(struct ms_rb_node *n)
{
	n->parent_color &= ~(uintptr_t)MS_RB_BLACK;
}

/* Copies @from's colour onto @n, keeping n's parent. */
static MS_ALWAYS_INLINE void ms__rb_copy_color(struct ms_rb_node *n, const struct ms_rb_node *from)
{
	n->parent_color =
		(n->parent_color & ~(uintptr_t)MS_RB_BLACK) | (from->parent_color & MS_RB_BLACK);
}

/* A missing child (NULL leaf) counts as black. */
static MS_ALWAYS_INLINE bool ms__rb_is_black_or_nil(const struct ms_rb_node *n)
{
	return !n || ms_rb_is_black(n);
}

/* Makes whatever pointed to @old (its parent's child slot, or the root)
 * point to @repl instead.  @parent is old's parent. */
static MS_ALWAYS_INLINE void ms__rb_change_child(struct ms_rb_node *old, struct ms_rb_node *repl,
						 struct ms_rb_node *parent, struct ms_rb_root *root)
{
	if (!parent)
		root->node = repl;
	else if (parent->left == old)
		parent->left = repl;
	else
		parent->right = repl;
}

/* ---- rotations ------------------------------------------------------------ */

/*
 * Both rotations keep every node's colour; the fixups recolour explicitly
 * around them, which keeps the case analysis readable.
 */

/* @x goes down to the left; its right child takes its place. */
static MS_ALWAYS_INLINE void ms__rb_rotate_left(struct ms_rb_node *x, struct ms_rb_root *root,
						const struct ms_rb_augment_callbacks *aug)
{
	struct ms_rb_node *y = x->right;
	struct ms_rb_node *parent = ms_rb_parent(x);

	x->right = y->left;
	if (y->left)
		ms__rb_set_parent(y->left, x);
	ms__rb_change_child(x, y, parent, root);
	ms__rb_set_parent(y, parent);
	y->left = x;
	ms__rb_set_parent(x, y);
	aug->rotate(x, y);
}

/* @x goes down to the right; its left child takes its place. */
static MS_ALWAYS_INLINE void ms__rb_rotate_right(struct ms_rb_node *x, struct ms_rb_root *root,
						 const struct ms_rb_augment_callbacks *aug)
{
	struct ms_rb_node *y = x->left;
	struct ms_rb_node *parent = ms_rb_parent(x);

	x->left = y->right;
	if (y->right)
		ms__rb_set_parent(y->right, x);
	ms__rb_change_child(x, y, parent, root);
	ms__rb_set_parent(y, parent);
	y->right = x;
	ms__rb_set_parent(x, y);
	aug->rotate(x, y);
}

/* ---- insertion ------------------------------------------------------------ */

/*
 * Restores the red-black properties after a red leaf @node was linked in.
 *
 * Loop invariant: @node is red; every path from any node down to a leaf
 * has the same number of black nodes; the only broken rule, if any, is
 * "a red node has no red child", between @node and its parent.  The loop
 * ends when the parent is black or absent (nothing broken any more; if
 * @node is the root, it is made black after the loop).
 *
 * A red parent is never the root, so the grandparent G exists and is
 * black.  Diagrams for a parent P that is G's left child (lower case is
 * red, upper case black, (x) either); the else branch is their mirror
 * image, left and right swapped:
 *
 *   Case 1, uncle red: recolour.  Black heights are kept; G, now red, may
 *   have a red parent, so the loop goes on with node = G, two levels up.
 *
 *             G                 g   <- new node
 *            / \               / \
 *           p   u     -->      P   U
 *          /                  /
 *         n                  n
 *
 *   Case 2, uncle black, n the inner grandchild: rotate at P to make it
 *   the outer one, then case 3 (n and p have traded roles).
 *
 *             G                 G
 *            / \               / \
 *           p   U     -->      n   U
 *            \                /
 *             n              p
 *
 *   Case 3, uncle black, n the outer grandchild: rotate at G and swap the
 *   colours of P and G.  The subtree's top is black again, with the same
 *   black height on every path: done.
 *
 *             G                 P
 *            / \               / \
 *           p   U     -->      n   g
 *          /                        \
 *         n                          U
 */
static MS_ALWAYS_INLINE void ms_rb_insert_augmented(struct ms_rb_node *node,
						    struct ms_rb_root *root,
						    const struct ms_rb_augment_callbacks *aug)
{
	struct ms_rb_node *parent, *gparent, *uncle;

	while ((parent = ms_rb_parent(node)) && ms_rb_is_red(parent)) {
		/* A red parent is never the root, so the grandparent exists. */
		gparent = ms_rb_parent(parent);
		if (parent == gparent->left) {
			uncle = gparent->right;
			if (uncle && ms_rb_is_red(uncle)) {
				/* Case 1: push gparent's blackness down to both children. */
				ms__rb_set_black(parent);
				ms__rb_set_black(uncle);
				ms__rb_set_red(gparent);
				node = gparent;
				continue;
			}
			if (node == parent->right) {
				/* Case 2: inner grandchild, turn it into the outer case. */
				ms__rb_rotate_left(parent, root, aug);
				node = parent;
				parent = ms_rb_parent(node);
			}
			/* Case 3: outer grandchild, parent becomes the black top. */
			ms__rb_set_black(parent);
			ms__rb_set_red(gparent);
			ms__rb_rotate_right(gparent, root, aug);
			break;
		} else {
			uncle = gparent->left;
			if (uncle && ms_rb_is_red(uncle)) {
				ms__rb_set_black(parent);
				ms__rb_set_black(uncle);
				ms__rb_set_red(gparent);
				node = gparent;
				continue;
			}
			if (node == parent->left) {
				ms__rb_rotate_right(parent, root, aug);
				node = parent;
				parent = ms_rb_parent(node);
			}
			ms__rb_set_black(parent);
			ms__rb_set_red(gparent);
			ms__rb_rotate_left(gparent, root, aug);
			break;
		}
	}
	/* Recolouring may have reached the root, which must stay black. */
	ms__rb_set_black(root->node);
}

static MS_ALWAYS_INLINE void
ms_rb_insert_augmented_cached(struct ms_rb_node *node, struct ms_rb_root_cached *root,
			      bool leftmost, const struct ms_rb_augment_callbacks *aug)
{
	if (leftmost)
		root->leftmost = node;
	ms_rb_insert_augmented(node, &root->root, aug);
}

/* ---- erasure ---------------------------------------------------------------- */

/*
 * A black node was unlinked and @x (possibly NULL) now sits in its place,
 * under @parent: every path through x is one black short.  Treat x as
 * carrying an extra black and move that extra up until it lands on a red
 * node (which simply turns black) or the root (where it vanishes), or until
 * a rotation at the sibling absorbs it.
 *
 * Loop invariant: x is black or NULL ("doubly black"); the paths through
 * x have one black node fewer than every other path from @parent down,
 * and nothing else is broken.  So x's sibling S has black height >= 1 and
 * exists.  Diagrams for x the left child of P (lower case red, upper case
 * black, (y) either colour, Sl/Sr the nephews, near and far); the else
 * branch is their mirror image, left and right swapped:
 *
 *   Case 1, S red (so P, Sl, Sr black): rotate at P, swap the colours of
 *   P and S.  Nothing changes in black heights; x now has a black
 *   sibling, Sl, and one of cases 2 to 4 applies.
 *
 *             P                   S
 *            / \                 / \
 *           X   s       -->      p   Sr
 *              / \              / \
 *             Sl  Sr           X   Sl
 *
 *   Case 2, S black, both nephews black: make S red, so S's side is one
 *   short too, and P becomes the doubly-black node: x = P, one level up.
 *   A red P ends the loop and is made black after it.
 *
 *            (p)                 (p)  <- new x
 *            / \                 / \
 *           X   S       -->      X   s
 *              / \                  / \
 *             Sl  Sr               Sl  Sr
 *
 *   Case 3, S black, near nephew red, far nephew black: rotate at S and
 *   swap the colours of S and Sl; black heights are kept and the far
 *   nephew is now red: case 4.
 *
 *            (p)                 (p)
 *            / \                 / \
 *           X   S       -->      X   Sl
 *              / \                    \
 *             sl  Sr                   s
 *                                        \
 *                                         Sr
 *
 *   Case 4, S black, far nephew red: rotate at P; S takes P's colour, P
 *   and the far nephew turn black.  x's side gains the black it lacked,
 *   the far side keeps its count through the recoloured Sr: done.
 *
 *            (p)                 (s)
 *            / \                 / \
 *           X   S       -->      P   Sr
 *              / \              / \
 *            (sl) sr           X  (sl)
 */
static MS_ALWAYS_INLINE void ms__rb_erase_fixup(struct ms_rb_node *x, struct ms_rb_node *parent,
						struct ms_rb_root *root,
						const struct ms_rb_augment_callbacks *aug)
{
	struct ms_rb_node *sib;

	while (x != root->node && ms__rb_is_black_or_nil(x)) {
		/*
		 * x is short one black, so its sibling's subtree has black
		 * height >= 1: the sibling exists.  x may be NULL, so which side
		 * it is on is told by the parent's left slot.
		 */
		if (x == parent->left) {
			sib = parent->right;
			if (ms_rb_is_red(sib)) {
				/* Case 1: rotate so that x gets a black sibling. */
				ms__rb_set_black(sib);
				ms__rb_set_red(parent);
				ms__rb_rotate_left(parent, root, aug);
				sib = parent->right;
			}
			if (ms__rb_is_black_or_nil(sib->left) &&
			    ms__rb_is_black_or_nil(sib->right)) {
				/* Case 2: one black off both sides; the parent owes it. */
				ms__rb_set_red(sib);
				x = parent;
				parent = ms_rb_parent(x);
				continue;
			}
			if (ms__rb_is_black_or_nil(sib->right)) {
				/* Case 3: make the sibling's far child the red one. */
				ms__rb_set_black(sib->left);
				ms__rb_set_red(sib);
				ms__rb_rotate_right(sib, root, aug);
				sib = parent->right;
			}
			/* Case 4: the far child is red, one rotation settles the debt. */
			ms__rb_copy_color(sib, parent);
			ms__rb_set_black(parent);
			ms__rb_set_black(sib->right);
			ms__rb_rotate_left(parent, root, aug);
			return;
		} else {
			sib = parent->left;
			if (ms_rb_is_red(sib)) {
				ms__rb_set_black(sib);
				ms__rb_set_red(parent);
				ms__rb_rotate_right(parent, root, aug);
				sib = parent->left;
			}
			if (ms__rb_is_black_or_nil(sib->left) &&
			    ms__rb_is_black_or_nil(sib->right)) {
				ms__rb_set_red(sib);
				x = parent;
				parent = ms_rb_parent(x);
				continue;
			}
			if (ms__rb_is_black_or_nil(sib->left)) {
				ms__rb_set_black(sib->right);
				ms__rb_set_red(sib);
				ms__rb_rotate_left(sib, root, aug);
				sib = parent->left;
			}
			ms__rb_copy_color(sib, parent);
			ms__rb_set_black(parent);
			ms__rb_set_black(sib->left);
			ms__rb_rotate_right(parent, root, aug);
			return;
		}
	}
	if (x)
		ms__rb_set_black(x);
}

/*
 * Unlinks @node.  A node with at most one child is spliced out directly;
 * one with two children is replaced by its in-order successor, which is
 * spliced out of its own (right-only) position instead.  Either way the
 * node physically removed from its slot has at most one child, and only
 * if it was black does the tree need rebalancing.
 */
static MS_ALWAYS_INLINE void ms_rb_erase_augmented(struct ms_rb_node *node, struct ms_rb_root *root,
						   const struct ms_rb_augment_callbacks *aug)
{
	struct ms_rb_node *x;	   /* what now fills the vacated slot */
	struct ms_rb_node *parent; /* x's parent */
	bool black_removed;

	if (!node->left || !node->right) {
		x = node->left ? node->left : node->right;
		parent = ms_rb_parent(node);
		black_removed = ms_rb_is_black(node);
		ms__rb_change_child(node, x, parent, root);
		if (x)
			ms__rb_set_parent(x, parent);
		if (parent)
			aug->propagate(parent, NULL);
	} else {
		struct ms_rb_node *succ = node->right;

		while (succ->left)
			succ = succ->left;
		black_removed = ms_rb_is_black(succ);
		x = succ->right;
		if (succ == node->right) {
			parent = succ;
		} else {
			/* Splice succ out, then give it node's right subtree. */
			parent = ms_rb_parent(succ);
			parent->left = x;
			if (x)
				ms__rb_set_parent(x, parent);
			succ->right = node->right;
			ms__rb_set_parent(succ->right, succ);
		}
		succ->left = node->left;
		ms__rb_set_parent(succ->left, succ);
		ms__rb_change_child(node, succ, ms_rb_parent(node), root);
		/* succ takes node's colour too, so only succ's old slot lost a black. */
		succ->parent_color = node->parent_color;
		aug->copy(node, succ);
		/*
		 * succ's copied value still counts node; fix the path below it
		 * first (an early stop there must not skip succ itself).
		 */
		if (parent != succ)
			aug->propagate(parent, succ);
		aug->propagate(succ, NULL);
	}
	if (black_removed)
		ms__rb_erase_fixup(x, parent, root, aug);
}

static MS_ALWAYS_INLINE void ms_rb_erase_augmented_cached(struct ms_rb_node *node,
							  struct ms_rb_root_cached *root,
							  const struct ms_rb_augment_callbacks *aug)
{
	if (root->leftmost == node)
		root->leftmost = ms_rb_next(node);
	ms_rb_erase_augmented(node, &root->root, aug);
}

#endif /* MS_RBTREE_AUGMENTED_H */
