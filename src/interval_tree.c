/* SPDX-License-Identifier: MIT */
/*
 * Augmented interval tree over closed u64 intervals (see interval_tree.h).
 *
 * All comparisons are on closed bounds ("last", never "end = last + 1"), so
 * an interval reaching UINT64_MAX needs no special case.
 */
#include "interval_tree.h"
#include "rbtree_augmented.h"

static inline struct ms_itree_node *ms_itree_of(const struct ms_rb_node *rb)
{
	return ms_rb_entry(rb, struct ms_itree_node, rb);
}

static inline uint64_t ms_itree_last(const struct ms_itree_node *n)
{
	return n->last;
}

MS_RB_DECLARE_CALLBACKS_MAX(ms_itree_augment, struct ms_itree_node, rb, uint64_t, subtree_last,
			    ms_itree_last);

void ms_itree_insert(struct ms_itree_node *node, struct ms_rb_root_cached *root)
{
	struct ms_rb_node **link = &root->root.node;
	struct ms_rb_node *parent = NULL;
	uint64_t start = node->start, last = node->last;
	bool leftmost = true;

	while (*link) {
		struct ms_itree_node *p = ms_itree_of(*link);

		/* The new node will be in p's subtree: grow p's maximum now,
		 * so that rotations during rebalancing start from right values. */
		if (p->subtree_last < last)
			p->subtree_last = last;
		parent = *link;
		if (start < p->start) {
			link = &parent->left;
		} else {
			/* Ties go right: equal starts keep insertion order. */
			link = &parent->right;
			leftmost = false;
		}
	}
	node->subtree_last = last;
	ms_rb_link_node(&node->rb, parent, link);
	ms_rb_insert_augmented_cached(&node->rb, root, leftmost, &ms_itree_augment);
}

void ms_itree_remove(struct ms_itree_node *node, struct ms_rb_root_cached *root)
{
	ms_rb_erase_augmented_cached(&node->rb, root, &ms_itree_augment);
}

void ms_itree_replace(struct ms_itree_node *old, struct ms_itree_node *new,
		      struct ms_rb_root_cached *root)
{
	/* Same interval, same place, same subtree: same maximum. */
	new->subtree_last = old->subtree_last;
	ms_rb_replace_node_cached(&old->rb, &new->rb, root);
}

/*
 * The first node in order in @n's subtree that overlaps [qs, ql], or NULL.
 * The caller guarantees n->subtree_last >= qs (something in the subtree
 * ends late enough).
 *
 * If the left subtree also has something ending at or after qs, the answer
 * (if any) is there: that interval either overlaps, or starts after ql, and
 * then so do n and everything to its right.  Otherwise only n and its right
 * subtree remain, and both are out if n already starts after ql.
 */
static struct ms_itree_node *ms_itree_subtree_first(struct ms_itree_node *n, uint64_t qs,
						    uint64_t ql)
{
	for (;;) {
		if (n->rb.left) {
			struct ms_itree_node *l = ms_itree_of(n->rb.left);

			if (l->subtree_last >= qs) {
				n = l;
				continue;
			}
		}
		if (n->start > ql)
			return NULL;
		if (n->last >= qs)
			return n;
		if (!n->rb.right)
			return NULL;
		n = ms_itree_of(n->rb.right);
		if (n->subtree_last < qs)
			return NULL;
	}
}

struct ms_itree_node *ms_itree_iter_first(const struct ms_rb_root_cached *root, uint64_t qs,
					  uint64_t ql)
{
	struct ms_itree_node *top;

	if (ql < qs || !root->root.node)
		return NULL;
	/* O(1) rejection of queries outside [first start, max last]. */
	top = ms_itree_of(root->root.node);
	if (top->subtree_last < qs || ms_itree_of(root->leftmost)->start > ql)
		return NULL;
	return ms_itree_subtree_first(top, qs, ql);
}

/*
 * Continues an in-order walk from @node: first its right subtree, then the
 * ancestors reached from their left side, each followed by its own right
 * subtree.  Everything later in order starts no earlier, so the walk ends
 * as soon as a start passes ql.
 */
struct ms_itree_node *ms_itree_iter_next(const struct ms_itree_node *node, uint64_t qs, uint64_t ql)
{
	const struct ms_rb_node *rb = node->rb.right;
	const struct ms_rb_node *parent;

	for (;;) {
		if (rb && ms_itree_of(rb)->subtree_last >= qs)
			return ms_itree_subtree_first(ms_itree_of(rb), qs, ql);

		/* Climb to the next ancestor in order. */
		parent = ms_rb_next_after_subtree(&node->rb);
		if (!parent)
			return NULL;
		node = ms_itree_of(parent);
		if (node->start > ql)
			return NULL;
		if (node->last >= qs)
			return (struct ms_itree_node *)node;
		rb = node->rb.right;
	}
}

/* ---- validation ----------------------------------------------------------- */

static int ms_itree_cmp_start(const struct ms_rb_node *a, const struct ms_rb_node *b)
{
	uint64_t sa = ms_itree_of(a)->start, sb = ms_itree_of(b)->start;

	return (sa > sb) - (sa < sb);
}

int ms_itree_validate(const struct ms_rb_root_cached *root, size_t *count)
{
	const struct ms_rb_node *rb;
	int err;

	err = ms_rb_validate_cached(root, ms_itree_cmp_start, count);
	if (err)
		return err;
	/* The structure is sound now, so a plain in-order walk terminates. */
	for (rb = ms_rb_first(&root->root); rb; rb = ms_rb_next(rb)) {
		const struct ms_itree_node *n = ms_itree_of(rb);

		if (n->last < n->start)
			return MS_RB_EKEY;
		if (n->subtree_last != ms_itree_augment_compute(n))
			return MS_RB_EAUGMENT;
	}
	return 0;
}
