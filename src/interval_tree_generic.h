/* SPDX-License-Identifier: MIT */
/*
 * The augmented interval tree, once, as a template: MS_INTERVAL_TREE_DEFINE()
 * generates a typed tree of closed intervals [start, last] over any key
 * type with a strict order, on the library's one red-black core
 * (rbtree_augmented.h).  The hva tree (interval_tree.c, u64 keys read
 * from the slot, one instance per node index) and the guest_memfd binding
 * index (gmem_index.c, (fd, byte) pairs) are its instances.
 *
 * The tree is ordered by start (equal starts go right, so duplicate and
 * overlapping intervals are allowed, in insertion order), and every node
 * keeps the largest last of its subtree.  A query for the nodes meeting
 * [qs, ql] then visits only subtrees that can hold one: O(log n + k) for k
 * results.  The root caches its leftmost node, so a query outside the
 * tree's span [leftmost start, root's subtree last] is refused in O(1).
 * Bounds are closed everywhere, so an interval reaching the top of the key
 * space needs no special case.
 *
 *   MS_INTERVAL_TREE_DEFINE(SC, PFX, TYPE, RB, KEY, START, LAST, SUB, SET_SUB, LT)
 *
 *   SC       storage class of the generated functions (empty: external)
 *   PFX      their prefix
 *   TYPE     the node's struct, embedding a struct ms_rb_node named RB
 *   KEY      the key type, passed by value
 *   START(n), LAST(n), SUB(n)
 *            a const TYPE *'s start, last and subtree maximum, as KEYs
 *   SET_SUB(n, k)
 *            stores the subtree maximum of a TYPE *
 *   LT(a, b) whether KEY a sorts strictly before KEY b
 *
 * generates, on a struct ms_rb_root_cached:
 *
 *   void PFX_insert(TYPE *n, root)        start and last set by the caller
 *   void PFX_remove(TYPE *n, root)
 *   void PFX_replace(TYPE *old, TYPE *new, root)
 *            O(1); new's start and last equal old's
 *   TYPE *PFX_iter_first(root, KEY qs, KEY ql)
 *            the first node in start order meeting [qs, ql], or NULL
 *            (NULL when ql < qs)
 *   TYPE *PFX_iter_next(const TYPE *n, KEY qs, KEY ql)
 *            the next one after n, or NULL
 *   const char *PFX_validate(root, size_t *count)
 *            the red-black checks with the order by start, start <= last
 *            and every subtree maximum; NULL or an ms_rb_bad_* sentence
 *
 * Locking: as rbtree.h.  The changes are the writer's, on a tree no reader
 * can reach; the queries and the validator only load, and may run in any
 * number of threads on a tree nobody changes.
 */
#ifndef MS_INTERVAL_TREE_GENERIC_H
#define MS_INTERVAL_TREE_GENERIC_H

#include <stdbool.h>
#include <stddef.h>

#include "rbtree.h"
#include "rbtree_augmented.h"

#define MS_INTERVAL_TREE_DEFINE(SC, PFX, TYPE, RB, KEY, START, LAST, SUB, SET_SUB, LT)       \
                                                                                             \
	static inline TYPE *PFX##_of(const struct ms_rb_node *rb)                            \
	{                                                                                    \
		return ms_rb_entry(rb, TYPE, RB);                                            \
	}                                                                                    \
                                                                                             \
	/* The largest of @n's last and its children's subtree maxima. */                    \
	static inline KEY PFX##_compute(const TYPE *n)                                       \
	{                                                                                    \
		KEY m = LAST(n);                                                             \
                                                                                             \
		if (n->RB.left && LT(m, SUB(PFX##_of(n->RB.left))))                          \
			m = SUB(PFX##_of(n->RB.left));                                       \
		if (n->RB.right && LT(m, SUB(PFX##_of(n->RB.right))))                        \
			m = SUB(PFX##_of(n->RB.right));                                      \
		return m;                                                                    \
	}                                                                                    \
                                                                                             \
	static inline bool PFX##_sub_equal(const TYPE *n, KEY k)                             \
	{                                                                                    \
		return !LT(SUB(n), k) && !LT(k, SUB(n));                                     \
	}                                                                                    \
                                                                                             \
	static void PFX##_aug_propagate(struct ms_rb_node *rb, struct ms_rb_node *stop)      \
	{                                                                                    \
		while (rb != stop) {                                                         \
			TYPE *n = PFX##_of(rb);                                              \
			KEY m = PFX##_compute(n);                                            \
                                                                                             \
			/* Unchanged here means unchanged all the way up. */                 \
			if (PFX##_sub_equal(n, m))                                           \
				break;                                                       \
			SET_SUB(n, m);                                                       \
			rb = ms_rb_parent(rb);                                               \
		}                                                                            \
	}                                                                                    \
                                                                                             \
	static void PFX##_aug_copy(struct ms_rb_node *rb_old, struct ms_rb_node *rb_new)     \
	{                                                                                    \
		SET_SUB(PFX##_of(rb_new), SUB(PFX##_of(rb_old)));                            \
	}                                                                                    \
                                                                                             \
	/* @rb_new was @rb_old's child: it now tops old's subtree, and old is below it. */   \
	static void PFX##_aug_rotate(struct ms_rb_node *rb_old, struct ms_rb_node *rb_new)   \
	{                                                                                    \
		TYPE *o = PFX##_of(rb_old);                                                  \
                                                                                             \
		SET_SUB(PFX##_of(rb_new), SUB(o));                                           \
		SET_SUB(o, PFX##_compute(o));                                                \
	}                                                                                    \
                                                                                             \
	static const struct ms_rb_augment_callbacks PFX##_augment = {                        \
		.propagate = PFX##_aug_propagate,                                            \
		.copy = PFX##_aug_copy,                                                      \
		.rotate = PFX##_aug_rotate,                                                  \
	};                                                                                   \
                                                                                             \
	SC void PFX##_insert(TYPE *node, struct ms_rb_root_cached *root)                     \
	{                                                                                    \
		struct ms_rb_node **link = &root->root.node, *parent = NULL;                 \
		KEY start = START(node), last = LAST(node);                                  \
		bool leftmost = true;                                                        \
                                                                                             \
		while (*link) {                                                              \
			TYPE *p = PFX##_of(*link);                                           \
                                                                                             \
			/* The new node lands in p's subtree: raise p's maximum now, so      \
			 * that the rotations of the rebalancing start from right values. */ \
			if (LT(SUB(p), last))                                                \
				SET_SUB(p, last);                                            \
			parent = *link;                                                      \
			if (LT(start, START(p))) {                                           \
				link = &parent->left;                                        \
			} else {                                                             \
				/* Ties go right: equal starts keep insertion order. */      \
				link = &parent->right;                                       \
				leftmost = false;                                            \
			}                                                                    \
		}                                                                            \
		SET_SUB(node, last);                                                         \
		ms_rb_link_node(&node->RB, parent, link);                                    \
		ms_rb_insert_augmented_cached(&node->RB, root, leftmost, &PFX##_augment);    \
	}                                                                                    \
                                                                                             \
	SC void PFX##_remove(TYPE *node, struct ms_rb_root_cached *root)                     \
	{                                                                                    \
		ms_rb_erase_augmented_cached(&node->RB, root, &PFX##_augment);               \
	}                                                                                    \
                                                                                             \
	SC void PFX##_replace(TYPE *old, TYPE *new, struct ms_rb_root_cached *root)          \
	{                                                                                    \
		/* Same interval, same place, same subtree: same maximum. */                 \
		SET_SUB(new, SUB(old));                                                      \
		ms_rb_replace_node_cached(&old->RB, &new->RB, root);                         \
	}                                                                                    \
                                                                                             \
	/*                                                                                   \
	 * The first node in order of @n's subtree meeting [qs, ql], or NULL; the            \
	 * caller knows the subtree's maximum is not below qs.  If the left subtree          \
	 * also reaches qs, the answer, if any, is there: what reaches qs there              \
	 * either meets the query or starts after ql, and then so do n and all to            \
	 * its right.  Otherwise only n and its right subtree remain, and both are           \
	 * out once n starts after ql.                                                       \
	 */                                                                                  \
	static TYPE *PFX##_subtree_first(TYPE *n, KEY qs, KEY ql)                            \
	{                                                                                    \
		for (;;) {                                                                   \
			if (n->RB.left && !LT(SUB(PFX##_of(n->RB.left)), qs)) {              \
				n = PFX##_of(n->RB.left);                                    \
				continue;                                                    \
			}                                                                    \
			if (LT(ql, START(n)))                                                \
				return NULL;                                                 \
			if (!LT(LAST(n), qs))                                                \
				return n;                                                    \
			if (!n->RB.right)                                                    \
				return NULL;                                                 \
			n = PFX##_of(n->RB.right);                                           \
			if (LT(SUB(n), qs))                                                  \
				return NULL;                                                 \
		}                                                                            \
	}                                                                                    \
                                                                                             \
	SC TYPE *PFX##_iter_first(const struct ms_rb_root_cached *root, KEY qs, KEY ql)      \
	{                                                                                    \
		TYPE *top;                                                                   \
                                                                                             \
		if (LT(ql, qs) || !root->root.node)                                          \
			return NULL;                                                         \
		/* O(1) refusal of a query outside [first start, largest last]. */           \
		top = PFX##_of(root->root.node);                                             \
		if (LT(SUB(top), qs) || LT(ql, START(PFX##_of(root->leftmost))))             \
			return NULL;                                                         \
		return PFX##_subtree_first(top, qs, ql);                                     \
	}                                                                                    \
                                                                                             \
	/*                                                                                   \
	 * Continues the in-order walk from @node: its right subtree, then each              \
	 * ancestor reached from the left followed by that one's right subtree.              \
	 * Everything later in order starts no earlier, so the walk ends as soon             \
	 * as a start passes ql.                                                             \
	 */                                                                                  \
	SC TYPE *PFX##_iter_next(const TYPE *node, KEY qs, KEY ql)                           \
	{                                                                                    \
		const struct ms_rb_node *rb = node->RB.right, *parent;                       \
                                                                                             \
		for (;;) {                                                                   \
			if (rb && !LT(SUB(PFX##_of(rb)), qs))                                \
				return PFX##_subtree_first(PFX##_of(rb), qs, ql);            \
			parent = ms_rb_next_after_subtree(&node->RB);                        \
			if (!parent)                                                         \
				return NULL;                                                 \
			node = PFX##_of(parent);                                             \
			if (LT(ql, START(node)))                                             \
				return NULL;                                                 \
			if (!LT(LAST(node), qs))                                             \
				return (TYPE *)node;                                         \
			rb = node->RB.right;                                                 \
		}                                                                            \
	}                                                                                    \
                                                                                             \
	static int PFX##_cmp_start(const struct ms_rb_node *a, const struct ms_rb_node *b)   \
	{                                                                                    \
		KEY sa = START(PFX##_of(a)), sb = START(PFX##_of(b));                        \
                                                                                             \
		return LT(sb, sa) - LT(sa, sb);                                              \
	}                                                                                    \
                                                                                             \
	SC const char *PFX##_validate(const struct ms_rb_root_cached *root, size_t *count)   \
	{                                                                                    \
		const struct ms_rb_node *rb;                                                 \
		const char *why = ms_rb_validate_cached(root, PFX##_cmp_start, count);       \
                                                                                             \
		if (why)                                                                     \
			return why;                                                          \
		/* The structure is sound now, so a plain in-order walk ends. */             \
		for (rb = ms_rb_first(&root->root); rb; rb = ms_rb_next(rb)) {               \
			const TYPE *n = PFX##_of(rb);                                        \
                                                                                             \
			if (LT(LAST(n), START(n)))                                           \
				return ms_rb_bad_key;                                        \
			if (!PFX##_sub_equal(n, PFX##_compute(n)))                           \
				return ms_rb_bad_augment;                                    \
		}                                                                            \
		return NULL;                                                                 \
	}

#endif /* MS_INTERVAL_TREE_GENERIC_H */
