/* SPDX-License-Identifier: MIT */
/*
 * Intrusive red-black tree.
 *
 * The node is embedded in the user's structure and reached back with
 * ms_rb_entry() (container_of).  The parent pointer and the colour share
 * one word: nodes are at least 4-byte aligned, so bit 0 holds the colour.
 *
 * The tree does no comparisons itself: to insert, the caller descends to
 * the empty link where the new node belongs, then calls ms_rb_link_node()
 * and ms_rb_insert_color() (or the _cached variants), as in Linux.
 *
 * Concurrency: none.  A tree is changed by one thread while no other thread
 * reads it; libmemslots guarantees that by changing only the inactive set.
 */
#ifndef MS_RBTREE_H
#define MS_RBTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

struct ms_rb_node {
	uintptr_t parent_color; /* parent pointer | colour (bit 0: 1 = black) */
	struct ms_rb_node *right;
	struct ms_rb_node *left;
} __attribute__((aligned(sizeof(void *))));

struct ms_rb_root {
	struct ms_rb_node *node;
};

/* A root that also caches its leftmost node, for O(1) ms_rb_first_cached(). */
struct ms_rb_root_cached {
	struct ms_rb_root root;
	struct ms_rb_node *leftmost;
};

#define MS_RB_ROOT		       ((struct ms_rb_root){NULL})
#define MS_RB_ROOT_CACHED	       ((struct ms_rb_root_cached){{NULL}, NULL})

#define ms_rb_entry(ptr, type, member) ms_container_of(ptr, type, member)

#define MS_RB_RED		       0u
#define MS_RB_BLACK		       1u

static inline struct ms_rb_node *ms_rb_parent(const struct ms_rb_node *n)
{
	return (struct ms_rb_node *)(n->parent_color & ~(uintptr_t)3);
}

static inline bool ms_rb_is_black(const struct ms_rb_node *n)
{
	return n->parent_color & MS_RB_BLACK;
}

static inline bool ms_rb_is_red(const struct ms_rb_node *n)
{
	return !ms_rb_is_black(n);
}

static inline bool ms_rb_empty(const struct ms_rb_root *root)
{
	return root->node == NULL;
}

/* A detached node points to itself; lets debug code tell "in no tree". */
static inline void ms_rb_clear_node(struct ms_rb_node *n)
{
	n->parent_color = (uintptr_t)n;
}

static inline bool ms_rb_node_empty(const struct ms_rb_node *n)
{
	return n->parent_color == (uintptr_t)n;
}

/* Puts a new red leaf at *link, a child slot of parent (NULL for the root). */
static inline void ms_rb_link_node(struct ms_rb_node *node, struct ms_rb_node *parent,
				   struct ms_rb_node **link)
{
	node->parent_color = (uintptr_t)parent; /* red */
	node->left = node->right = NULL;
	*link = node;
}

/* Rebalances after ms_rb_link_node(). */
void ms_rb_insert_color(struct ms_rb_node *node, struct ms_rb_root *root);
/* Removes node and rebalances. */
void ms_rb_erase(struct ms_rb_node *node, struct ms_rb_root *root);
/* Puts @new where @victim is, in O(1): same position, same colour.  The
 * caller guarantees that @new sorts where @victim did. */
void ms_rb_replace_node(struct ms_rb_node *victim, struct ms_rb_node *new, struct ms_rb_root *root);

/*
 * The first node in order after @node and its whole subtree: the first
 * ancestor reached from a left child, or NULL.  The successor of a node
 * without a right subtree, and where an interval walk resumes once a
 * subtree is exhausted.
 */
static inline struct ms_rb_node *ms_rb_next_after_subtree(const struct ms_rb_node *node)
{
	const struct ms_rb_node *parent;

	while ((parent = ms_rb_parent(node)) && node == parent->right)
		node = parent;
	return (struct ms_rb_node *)parent;
}

struct ms_rb_node *ms_rb_first(const struct ms_rb_root *root);
struct ms_rb_node *ms_rb_last(const struct ms_rb_root *root);
struct ms_rb_node *ms_rb_next(const struct ms_rb_node *node);
struct ms_rb_node *ms_rb_prev(const struct ms_rb_node *node);

/* Cached-leftmost variants: @leftmost tells whether the caller's descent
 * only ever went left (so the new node is the new leftmost). */
static inline void ms_rb_insert_color_cached(struct ms_rb_node *node,
					     struct ms_rb_root_cached *root, bool leftmost)
{
	if (leftmost)
		root->leftmost = node;
	ms_rb_insert_color(node, &root->root);
}

static inline void ms_rb_erase_cached(struct ms_rb_node *node, struct ms_rb_root_cached *root)
{
	if (root->leftmost == node)
		root->leftmost = ms_rb_next(node);
	ms_rb_erase(node, &root->root);
}

static inline void ms_rb_replace_node_cached(struct ms_rb_node *victim, struct ms_rb_node *new,
					     struct ms_rb_root_cached *root)
{
	if (root->leftmost == victim)
		root->leftmost = new;
	ms_rb_replace_node(victim, new, &root->root);
}

static inline struct ms_rb_node *ms_rb_first_cached(const struct ms_rb_root_cached *root)
{
	return root->leftmost;
}

/* ---- validation (consistency checks, tests, fuzzers; not on any hot path) --- */

/*
 * What the red-black validators find wrong (validate.h's convention: NULL
 * when valid, else a static sentence), one named sentence per invariant so
 * that a caller may ask which one broke by address.  The interval trees'
 * and the binding index's validators return them too.
 */
extern const char ms_rb_bad_root_red[];	    /* the root is red */
extern const char ms_rb_bad_parent[];	    /* a parent pointer disagrees with the child link */
extern const char ms_rb_bad_flags[];	    /* bit 1 of parent_color is set */
extern const char ms_rb_bad_red_red[];	    /* a red node has a red child */
extern const char ms_rb_bad_black_height[]; /* two paths have different black heights */
extern const char ms_rb_bad_order[];	    /* the in-order sequence is not sorted by cmp */
extern const char ms_rb_bad_leftmost[];	    /* the cached leftmost is not the first node */
extern const char ms_rb_bad_depth[];	    /* deeper than any valid tree: a cycle? */
extern const char ms_rb_bad_augment[];	    /* an augmented value is wrong (augmented trees) */
extern const char ms_rb_bad_key[];	    /* a node's key is invalid (interval last < start) */
extern const char ms_rb_bad_count[];	    /* the node count differs from the owner's */

/* > 0 when @a must sort after @b; equal keys are allowed next to each other. */
typedef int (*ms_rb_cmp_fn)(const struct ms_rb_node *a, const struct ms_rb_node *b);

/*
 * Checks every red-black invariant of @root: black root, parent pointers,
 * no red node with a red child, equal black height on every path, and, if
 * @cmp is not NULL, that the in-order sequence never goes down.  Returns
 * NULL or one of the ms_rb_bad_* sentences; *@count (if not NULL) gets the
 * node count when valid.  O(n) time, O(height) stack, bounded even on a
 * cyclic tree.
 */
const char *ms_rb_validate(const struct ms_rb_root *root, ms_rb_cmp_fn cmp, size_t *count);
/* As ms_rb_validate(), and checks the cached leftmost node. */
const char *ms_rb_validate_cached(const struct ms_rb_root_cached *root, ms_rb_cmp_fn cmp,
				  size_t *count);

#endif /* MS_RBTREE_H */
