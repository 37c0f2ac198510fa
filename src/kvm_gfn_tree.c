/* SPDX-License-Identifier: MIT */
/*
 * KVM's gfn red-black tree over the library's red-black core (see
 * kvm_gfn_tree.h).
 *
 * Every comparison is on a base gfn or on an exclusive end that insert
 * proved does not wrap; "gfn lies in n" is written gfn - base < npages,
 * which holds for no gfn below base (the subtraction wraps high).
 */
#include <errno.h>

#include "kvm_gfn_tree.h"

static inline struct ms_gfn_node *ms_gfn_of(const struct ms_rb_node *rb)
{
	return ms_container_of(rb, struct ms_gfn_node, rb);
}

void ms_gfn_tree_init(struct ms_gfn_tree *t, ptrdiff_t base_off, ptrdiff_t npages_off)
{
	t->root = MS_RB_ROOT_CACHED;
	t->base_off = base_off;
	t->npages_off = npages_off;
	t->count = 0;
}

/*
 * Descends to the empty link where a node of base @base belongs (equal
 * bases would go right, though insert refuses them).  On the way, the
 * last node left to the right is the new node's in-order predecessor and
 * the last left to the left its successor: the only two a new range could
 * overlap, since the ranges in the tree are sorted and disjoint.
 */
static struct ms_rb_node **ms_gfn_tree_descend(struct ms_gfn_tree *t, uint64_t base,
					       struct ms_rb_node **parent,
					       struct ms_gfn_node **pred, struct ms_gfn_node **succ)
{
	struct ms_rb_node **link = &t->root.root.node;

	*parent = NULL;
	*pred = *succ = NULL;
	while (*link) {
		struct ms_gfn_node *p = ms_gfn_of(*link);

		*parent = *link;
		if (base < ms_gfn_base(t, p)) {
			*succ = p;
			link = &p->rb.left;
		} else {
			*pred = p;
			link = &p->rb.right;
		}
	}
	return link;
}

int ms_gfn_tree_insert(struct ms_gfn_tree *t, struct ms_gfn_node *n)
{
	uint64_t base = ms_gfn_base(t, n), npages = ms_gfn_npages(t, n);
	struct ms_gfn_node *pred, *succ;
	struct ms_rb_node *parent, **link;

	if (!npages || npages > UINT64_MAX - base)
		return -EINVAL;
	link = ms_gfn_tree_descend(t, base, &parent, &pred, &succ);
	if (pred && ms_gfn_end(t, pred) > base)
		return -EEXIST;
	if (succ && base + npages > ms_gfn_base(t, succ))
		return -EEXIST;
	ms_rb_link_node(&n->rb, parent, link);
	/* Leftmost exactly when the descent never went right. */
	ms_rb_insert_color_cached(&n->rb, &t->root, pred == NULL);
	t->count++;
	return 0;
}

void ms_gfn_tree_erase(struct ms_gfn_tree *t, struct ms_gfn_node *n)
{
	ms_rb_erase_cached(&n->rb, &t->root);
	ms_gfn_node_clear(n);
	t->count--;
}

int ms_gfn_tree_replace(struct ms_gfn_tree *t, struct ms_gfn_node *old, struct ms_gfn_node *new)
{
	/* Same range, so the same place in the order and no overlap. */
	if (ms_gfn_base(t, new) != ms_gfn_base(t, old) ||
	    ms_gfn_npages(t, new) != ms_gfn_npages(t, old))
		return -EINVAL;
	ms_rb_replace_node_cached(&old->rb, &new->rb, &t->root);
	ms_gfn_node_clear(old);
	return 0;
}

/* ---- readers ---------------------------------------------------------------- */

/*
 * KVM's search_memslots(): the descent by base gfn, the slot holding @gfn
 * when one does; on a miss NULL, or with @approx the last node the descent
 * visited (a neighbour of @gfn: what gfn_to_memslot_approx() returns).
 * Inlined into both callers, so @approx costs no branch there.
 */
static inline struct ms_gfn_node *ms_gfn_tree_search_slot(const struct ms_gfn_tree *t, uint64_t gfn,
							  bool approx)
{
	const struct ms_rb_node *rb = t->root.root.node;
	struct ms_gfn_node *n = NULL;

	while (rb) {
		uint64_t base;

		n = ms_gfn_of(rb);
		base = ms_gfn_base(t, n);
		if (gfn < base)
			rb = rb->left;
		else if (gfn - base < ms_gfn_npages(t, n))
			return n;
		else
			rb = rb->right;
	}
	return approx ? n : NULL;
}

struct ms_gfn_node *ms_gfn_tree_find(const struct ms_gfn_tree *t, uint64_t gfn)
{
	return ms_gfn_tree_search_slot(t, gfn, false);
}

/*
 * Going on after a hit costs nothing in correctness: everything right of
 * the hit starts at or after its end, so the rest of the descent goes left
 * down to the hit's successor, the smallest base > @gfn.
 */
struct ms_gfn_node *ms_gfn_tree_search(const struct ms_gfn_tree *t, uint64_t gfn,
				       struct ms_gfn_node **below, struct ms_gfn_node **above)
{
	const struct ms_rb_node *rb = t->root.root.node;
	struct ms_gfn_node *lo = NULL, *hi = NULL;

	while (rb) {
		struct ms_gfn_node *n = ms_gfn_of(rb);

		if (gfn < ms_gfn_base(t, n)) {
			hi = n;
			rb = rb->left;
		} else {
			lo = n;
			rb = rb->right;
		}
	}
	if (below)
		*below = lo;
	if (above)
		*above = hi;
	return lo && gfn - ms_gfn_base(t, lo) < ms_gfn_npages(t, lo) ? lo : NULL;
}

struct ms_gfn_node *ms_gfn_tree_find_approx(const struct ms_gfn_tree *t, uint64_t gfn)
{
	return ms_gfn_tree_search_slot(t, gfn, true);
}

struct ms_gfn_node *ms_gfn_tree_last(const struct ms_gfn_tree *t)
{
	struct ms_rb_node *rb = ms_rb_last(&t->root.root);

	return rb ? ms_gfn_of(rb) : NULL;
}

struct ms_gfn_node *ms_gfn_tree_next(const struct ms_gfn_node *n)
{
	struct ms_rb_node *rb = ms_rb_next(&n->rb);

	return rb ? ms_gfn_of(rb) : NULL;
}

struct ms_gfn_node *ms_gfn_tree_prev(const struct ms_gfn_node *n)
{
	struct ms_rb_node *rb = ms_rb_prev(&n->rb);

	return rb ? ms_gfn_of(rb) : NULL;
}

/*
 * Disjoint sorted ranges have ascending ends too, so "the first node
 * ending after @start" is a plain lower-bound descent on the end; it
 * meets the range exactly when it also starts before @end.  (KVM finds
 * the first base > start and steps back one; this is the same node
 * without the step.)
 */
struct ms_gfn_node *ms_gfn_tree_range_first(const struct ms_gfn_tree *t, uint64_t start,
					    uint64_t end)
{
	const struct ms_rb_node *rb = t->root.root.node;
	struct ms_gfn_node *first = NULL;

	if (end <= start)
		return NULL;
	while (rb) {
		struct ms_gfn_node *n = ms_gfn_of(rb);

		if (ms_gfn_end(t, n) > start) {
			first = n;
			rb = rb->left;
		} else {
			rb = rb->right;
		}
	}
	return first && ms_gfn_base(t, first) < end ? first : NULL;
}

struct ms_gfn_node *ms_gfn_tree_range_next(const struct ms_gfn_tree *t, const struct ms_gfn_node *n,
					   uint64_t end)
{
	struct ms_gfn_node *next = ms_gfn_tree_next(n);

	return next && ms_gfn_base(t, next) < end ? next : NULL;
}

bool ms_gfn_tree_overlaps(const struct ms_gfn_tree *t, uint64_t start, uint64_t end,
			  const struct ms_gfn_node *ignore)
{
	struct ms_gfn_node *n = ms_gfn_tree_range_first(t, start, end);

	/* Ranges are disjoint: at most the first is @ignore. */
	if (n && n == ignore)
		n = ms_gfn_tree_range_next(t, n, end);
	return n != NULL;
}

/* ---- validation ------------------------------------------------------------- */

const char *ms_gfn_tree_check(const struct ms_gfn_tree *t)
{
	const struct ms_gfn_node *n, *prev = NULL;
	const char *why;
	size_t count;

	/* The shape first: after it, the in-order walk below is bounded. */
	why = ms_rb_validate_cached(&t->root, NULL, &count);
	if (why)
		return why;
	if (count != t->count)
		return "gfn tree: the count disagrees with the nodes";
	for (n = ms_gfn_tree_first(t); n; prev = n, n = ms_gfn_tree_next(n)) {
		uint64_t base = ms_gfn_base(t, n), npages = ms_gfn_npages(t, n);

		if (!npages)
			return "gfn tree: a node has no pages";
		if (npages > UINT64_MAX - base)
			return "gfn tree: a node's range wraps past the last gfn";
		if (prev && ms_gfn_base(t, prev) >= base)
			return "gfn tree: bases not strictly ascending in order";
		if (prev && ms_gfn_end(t, prev) > base)
			return "gfn tree: two ranges overlap";
	}
	return NULL;
}
