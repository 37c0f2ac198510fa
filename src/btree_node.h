/* SPDX-License-Identifier: MIT */
/*
 * What the B+tree's source files share and nobody else sees: the node
 * pool's small helpers, inline so that every change that takes or drops a
 * node compiles as it did when they were one file's static functions, and
 * the few pool and sizing functions the changes and the bulk build call.
 * Layout, invariants and the reserve discipline: btree.h.
 *
 * Locking: as btree.h's writers: the caller serializes every change of a
 * tree (ms->lock); nothing here is for readers.
 */
#ifndef MEMSLOTS_BTREE_NODE_H
#define MEMSLOTS_BTREE_NODE_H

#include <string.h>

#include "btree.h"

/* What a free node is: the pool is a stack linked through the first word. */
struct ms_btree_free {
	struct ms_btree_free *next;
};

static inline struct ms_btree_meta *ms_btree_meta_of(void *node)
{
	/*
	 * Same offset in both kinds and in free nodes (checked in btree.h).
	 * By address, not as a leaf's member: reading an internal node's
	 * meta through a leaf-typed lvalue would break C's aliasing rules,
	 * while a struct ms_btree_meta lvalue may alias either kind's.
	 */
	return (struct ms_btree_meta *)((char *)node + offsetof(struct ms_btree_leaf, meta));
}

static inline void ms_btree_pool_push(struct ms_btree *t, void *node)
{
	struct ms_btree_free *f = node;

	f->next = t->pool;
	t->pool = f;
	t->pool_count++;
}

/* A pool node; the caller made sure there is one. */
static inline void *ms_btree_pool_pop(struct ms_btree *t)
{
	struct ms_btree_free *f = t->pool;

	t->pool = f->next;
	t->pool_count--;
	return f;
}

static inline void ms_btree_node_wipe(void *node)
{
	uint8_t skip = ms_btree_meta_of(node)->skip;

	memset(node, 0, MS_BTREE_NODE_SIZE);
	ms_btree_meta_of(node)->skip = skip;
}

/* A pool node, cleared, counted as the tree's; its kind sets the keys. */
static inline void *ms_btree_take_node(struct ms_btree *t)
{
	void *node = ms_btree_pool_pop(t);

	ms_btree_node_wipe(node);
	t->nr_nodes++;
	return node;
}

static inline struct ms_btree_leaf *ms_btree_new_leaf(struct ms_btree *t)
{
	struct ms_btree_leaf *leaf = ms_btree_take_node(t);

	memset(leaf->keys, 0xff, sizeof(leaf->keys));
	return leaf;
}

static inline struct ms_btree_inner *ms_btree_new_inner(struct ms_btree *t)
{
	struct ms_btree_inner *in = ms_btree_take_node(t);

	memset(in->keys, 0xff, sizeof(in->keys));
	return in;
}

/* A node leaves the tree: into the pool, reusable at once (no readers). */
static inline void ms_btree_drop_node(struct ms_btree *t, void *node)
{
	t->nr_nodes--;
	ms_btree_pool_push(t, node);
}

/* Grows the pool to at least @target nodes, all or nothing (btree.c). */
int ms_btree_pool_fill(struct ms_btree *t, size_t target);
/* Every node of the subtree at @node (height @h) into the pool (btree.c). */
void ms_btree_drop_subtree(struct ms_btree *t, void *node, unsigned int h);

#endif /* MEMSLOTS_BTREE_NODE_H */
