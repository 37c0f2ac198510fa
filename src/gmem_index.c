/* SPDX-License-Identifier: MIT */
/*
 * The guest_memfd binding index (see gmem_index.h): an interval tree over
 * (fd, byte) pairs in lexicographic order.
 *
 * The interval tree of interval_tree.c works on one u64 coordinate; here
 * a coordinate is a pair, so the tree gets its own augmentation callbacks,
 * and every comparison goes through ms_gmem_pair_lt().  All bounds are
 * closed, so a binding that ends at byte 2^64 - 1 needs no special case.
 */
#include "gmem_index.h"
#include "rbtree_augmented.h"

static inline struct ms_gmem_binding *ms_gmem_of(const struct ms_rb_node *rb)
{
	return ms_rb_entry(rb, struct ms_gmem_binding, rb);
}

/* (fa, a) < (fb, b) in lexicographic order. */
static inline bool ms_gmem_pair_lt(uint32_t fa, uint64_t a, uint32_t fb, uint64_t b)
{
	return fa < fb || (fa == fb && a < b);
}

/* Whether the largest (fd, last) of @n's subtree is below (fd, x). */
static inline bool ms_gmem_max_below(const struct ms_gmem_binding *n, uint32_t fd, uint64_t x)
{
	return ms_gmem_pair_lt(n->max_fd, n->max_last, fd, x);
}

/* Raises @n's subtree maximum to (fd, last) if that is larger. */
static inline void ms_gmem_max_raise(struct ms_gmem_binding *n, uint32_t fd, uint64_t last)
{
	if (ms_gmem_pair_lt(n->max_fd, n->max_last, fd, last)) {
		n->max_fd = fd;
		n->max_last = last;
	}
}

/* ---- augmentation: the subtree's largest (fd, last) ------------------------ */

static void ms_gmem_max_compute(const struct ms_gmem_binding *n, uint32_t *fd, uint64_t *last)
{
	struct ms_gmem_binding m = {.max_fd = n->fd, .max_last = n->last};

	if (n->rb.left)
		ms_gmem_max_raise(&m, ms_gmem_of(n->rb.left)->max_fd,
				  ms_gmem_of(n->rb.left)->max_last);
	if (n->rb.right)
		ms_gmem_max_raise(&m, ms_gmem_of(n->rb.right)->max_fd,
				  ms_gmem_of(n->rb.right)->max_last);
	*fd = m.max_fd;
	*last = m.max_last;
}

static void ms_gmem_aug_propagate(struct ms_rb_node *rb, struct ms_rb_node *stop)
{
	while (rb != stop) {
		struct ms_gmem_binding *n = ms_gmem_of(rb);
		uint32_t fd;
		uint64_t last;

		ms_gmem_max_compute(n, &fd, &last);
		/* Unchanged here means unchanged all the way up. */
		if (n->max_fd == fd && n->max_last == last)
			break;
		n->max_fd = fd;
		n->max_last = last;
		rb = ms_rb_parent(rb);
	}
}

static void ms_gmem_aug_copy(struct ms_rb_node *rb_old, struct ms_rb_node *rb_new)
{
	ms_gmem_of(rb_new)->max_fd = ms_gmem_of(rb_old)->max_fd;
	ms_gmem_of(rb_new)->max_last = ms_gmem_of(rb_old)->max_last;
}

static void ms_gmem_aug_rotate(struct ms_rb_node *rb_old, struct ms_rb_node *rb_new)
{
	struct ms_gmem_binding *o = ms_gmem_of(rb_old);

	ms_gmem_aug_copy(rb_old, rb_new);
	ms_gmem_max_compute(o, &o->max_fd, &o->max_last);
}

static const struct ms_rb_augment_callbacks ms_gmem_augment = {
	.propagate = ms_gmem_aug_propagate,
	.copy = ms_gmem_aug_copy,
	.rotate = ms_gmem_aug_rotate,
};

/* ---- changes ---------------------------------------------------------------- */

void ms_gmem_insert(struct ms_gmem_index *idx, struct ms_gmem_binding *b)
{
	struct ms_rb_node **link = &idx->root.node;
	struct ms_rb_node *parent = NULL;

	while (*link) {
		struct ms_gmem_binding *p = ms_gmem_of(*link);

		/* b lands in p's subtree: a leaf can only raise p's maximum,
		 * and rotations during rebalancing start from right values. */
		ms_gmem_max_raise(p, b->fd, b->last);
		parent = *link;
		/* Ties go right: equal pairs keep insertion order. */
		if (ms_gmem_pair_lt(b->fd, b->start, p->fd, p->start))
			link = &parent->left;
		else
			link = &parent->right;
	}
	b->max_fd = b->fd;
	b->max_last = b->last;
	ms_rb_link_node(&b->rb, parent, link);
	ms_rb_insert_augmented(&b->rb, &idx->root, &ms_gmem_augment);
	idx->count++;
}

void ms_gmem_remove(struct ms_gmem_index *idx, struct ms_gmem_binding *b)
{
	ms_rb_erase_augmented(&b->rb, &idx->root, &ms_gmem_augment);
	idx->count--;
}

/* ---- queries ---------------------------------------------------------------- */

/*
 * The query is the interval [(fd, qs), (fd, ql)] of the pair order.  A
 * node meets it when its (fd, start) is not after (fd, ql) and its
 * (fd, last) is not before (fd, qs); both together force the node's fd to
 * be @fd, so "meets" is exactly "same fd, bytes intersect".
 */
static inline bool ms_gmem_starts_after(const struct ms_gmem_binding *n, uint32_t fd, uint64_t ql)
{
	return ms_gmem_pair_lt(fd, ql, n->fd, n->start);
}

static inline bool ms_gmem_ends_before(const struct ms_gmem_binding *n, uint32_t fd, uint64_t qs)
{
	return ms_gmem_pair_lt(n->fd, n->last, fd, qs);
}

/*
 * The first node in order of @n's subtree that meets the query, or NULL;
 * the caller guarantees that the subtree's maximum is not below (fd, qs).
 * The reasoning is interval_tree.c's: if the left subtree reaches (fd, qs)
 * the answer, if any, is there; otherwise only n and its right subtree
 * remain, and both are out once n starts after (fd, ql).
 */
static struct ms_gmem_binding *ms_gmem_subtree_first(struct ms_gmem_binding *n, uint32_t fd,
						     uint64_t qs, uint64_t ql)
{
	for (;;) {
		if (n->rb.left && !ms_gmem_max_below(ms_gmem_of(n->rb.left), fd, qs)) {
			n = ms_gmem_of(n->rb.left);
			continue;
		}
		if (ms_gmem_starts_after(n, fd, ql))
			return NULL;
		if (!ms_gmem_ends_before(n, fd, qs))
			return n;
		if (!n->rb.right)
			return NULL;
		n = ms_gmem_of(n->rb.right);
		if (ms_gmem_max_below(n, fd, qs))
			return NULL;
	}
}

struct ms_gmem_binding *ms_gmem_find(const struct ms_gmem_index *idx, uint32_t fd, uint64_t start,
				     uint64_t last)
{
	struct ms_gmem_binding *top;

	if (last < start || !idx->root.node)
		return NULL;
	top = ms_gmem_of(idx->root.node);
	if (ms_gmem_max_below(top, fd, start))
		return NULL;
	return ms_gmem_subtree_first(top, fd, start, last);
}

/*
 * Continues the in-order walk from @b: its right subtree, then each
 * ancestor reached from the left followed by that ancestor's right
 * subtree; it ends as soon as a node starts after (fd, last), since
 * everything later in order does too.
 */
struct ms_gmem_binding *ms_gmem_find_next(const struct ms_gmem_binding *b, uint32_t fd,
					  uint64_t start, uint64_t last)
{
	const struct ms_rb_node *rb = b->rb.right;
	const struct ms_rb_node *parent;

	for (;;) {
		if (rb && !ms_gmem_max_below(ms_gmem_of(rb), fd, start))
			return ms_gmem_subtree_first(ms_gmem_of(rb), fd, start, last);

		parent = ms_rb_next_after_subtree(&b->rb);
		if (!parent)
			return NULL;
		b = ms_gmem_of(parent);
		if (ms_gmem_starts_after(b, fd, last))
			return NULL;
		if (!ms_gmem_ends_before(b, fd, start))
			return (struct ms_gmem_binding *)b;
		rb = b->rb.right;
	}
}

/* ---- validation ----------------------------------------------------------- */

static int ms_gmem_cmp(const struct ms_rb_node *a, const struct ms_rb_node *b)
{
	const struct ms_gmem_binding *x = ms_gmem_of(a), *y = ms_gmem_of(b);

	if (ms_gmem_pair_lt(x->fd, x->start, y->fd, y->start))
		return -1;
	return ms_gmem_pair_lt(y->fd, y->start, x->fd, x->start);
}

int ms_gmem_validate(const struct ms_gmem_index *idx)
{
	const struct ms_rb_node *rb;
	size_t count;
	int err;

	err = ms_rb_validate(&idx->root, ms_gmem_cmp, &count);
	if (err)
		return err;
	if (count != idx->count)
		return MS_RB_EKEY;
	/* The structure is sound now, so a plain in-order walk terminates. */
	for (rb = ms_rb_first(&idx->root); rb; rb = ms_rb_next(rb)) {
		const struct ms_gmem_binding *n = ms_gmem_of(rb);
		uint32_t fd;
		uint64_t last;

		if (n->last < n->start)
			return MS_RB_EKEY;
		ms_gmem_max_compute(n, &fd, &last);
		if (fd != n->max_fd || last != n->max_last)
			return MS_RB_EAUGMENT;
	}
	return 0;
}
