/* SPDX-License-Identifier: MIT */
/*
 * KVM's gfn tree (Linux 5.17 and later: kvm_memslots.gfn_tree): the slots
 * of one set in an intrusive red-black tree ordered by base gfn.  Ranges
 * never overlap, so the order by base is also the order by end, and every
 * lookup is one descent comparing the gfn with each visited element's
 * [base, base + npages): what KVM's search_memslots() costs, one dependent
 * load per level.
 *
 * Balancing is the library's one red-black core (rbtree.h), the one the
 * hva interval tree uses too; this file adds only the gfn ordering.
 *
 * Nodes and keys.  An element (a slot) embeds one struct ms_gfn_node per
 * set, node[2] as in KVM, so one element can be in both sets at once and
 * the writer relinking the inactive set never writes a node that a reader
 * of the published set follows.  The keys are not in the node: as in KVM
 * they are the element's own base gfn and page count, two uint64_t at
 * fixed byte offsets from the node.  A tree records those offsets for the
 * node index it links through when it is initialised (MS_GFN_TREE_OFF()),
 * so one compiled implementation serves any element layout and both node
 * indexes; over KVM's compile-time offsets that costs one register add
 * per key load.  An element's keys must not change while it is in a tree:
 * a slot that moves is a new element (erase, then insert), as in KVM.
 *
 * Insert refuses a range that overlaps one already there, found on the
 * descent at no extra cost (a new node's in-order neighbours are the last
 * nodes the descent left to the right and to the left), so a tree is
 * valid by construction whatever its caller checked.
 *
 * The root caches its leftmost node: ms_gfn_tree_first() is O(1), as the
 * contract asks of memslots_first(); KVM's gfn_tree is a plain root.
 *
 * Concurrency (liburcu style, as everywhere in the library): readers
 * (find, search, find_approx, first, last, next, prev, range_first,
 * range_next, overlaps, count, check) only load, and any number of threads
 * may run them at once on a tree that no writer changes: a published
 * set's, inside a read-side section that keeps the set and its elements
 * alive.  Writers (init, insert, erase, replace) need the object's writer
 * lock and a tree no reader can reach: the inactive set's, after the
 * grace period that followed its last publication.  They write only this
 * tree's nodes (node[idx] of its elements), never the keys.
 */
#ifndef MS_KVM_GFN_TREE_H
#define MS_KVM_GFN_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "rbtree.h"

/* One element's link in one set's tree; the keys live in the element. */
struct ms_gfn_node {
	struct ms_rb_node rb;
};

struct ms_gfn_tree {
	struct ms_rb_root_cached root;
	ptrdiff_t base_off;   /* from a node of this tree to its element's base gfn */
	ptrdiff_t npages_off; /* from a node of this tree to its element's page count */
	size_t count;
};

/*
 * The byte offset from node[@idx] of the struct ms_gfn_node array @node of
 * @type to the uint64_t member @field: what ms_gfn_tree_init() takes.
 */
#define MS_GFN_TREE_OFF(type, node, idx, field)                               \
	((ptrdiff_t)offsetof(type, field) - (ptrdiff_t)offsetof(type, node) - \
	 (ptrdiff_t)((size_t)(idx) * sizeof(struct ms_gfn_node)))

/* The element of @type whose node[@idx] (array member @node) is @n. */
#define ms_gfn_entry(n, idx, type, node) ms_container_of((n) - (idx), type, node[0])

static inline uint64_t ms_gfn_base(const struct ms_gfn_tree *t, const struct ms_gfn_node *n)
{
	return *(const uint64_t *)(const void *)((const char *)n + t->base_off);
}

static inline uint64_t ms_gfn_npages(const struct ms_gfn_tree *t, const struct ms_gfn_node *n)
{
	return *(const uint64_t *)(const void *)((const char *)n + t->npages_off);
}

/* One past the element's last gfn; insert made sure it does not wrap. */
static inline uint64_t ms_gfn_end(const struct ms_gfn_tree *t, const struct ms_gfn_node *n)
{
	return ms_gfn_base(t, n) + ms_gfn_npages(t, n);
}

/* Marks @n as in no tree (insert does not need it; erase and replace do
 * it to the node they unlink).  Writer, or a node no tree holds. */
static inline void ms_gfn_node_clear(struct ms_gfn_node *n)
{
	ms_rb_clear_node(&n->rb);
}

/* Whether @n is in a tree; meaningful after ms_gfn_node_clear().  Reader. */
static inline bool ms_gfn_node_linked(const struct ms_gfn_node *n)
{
	return !ms_rb_node_empty(&n->rb);
}

/* Elements in the tree.  Reader. */
static inline size_t ms_gfn_tree_count(const struct ms_gfn_tree *t)
{
	return t->count;
}

/* ---- writers (writer lock held, a tree no reader can reach) ---------------- */

/* An empty tree whose nodes find their keys at these offsets (MS_GFN_TREE_OFF). */
void ms_gfn_tree_init(struct ms_gfn_tree *t, ptrdiff_t base_off, ptrdiff_t npages_off);

/*
 * Links @n by its element's [base, base + npages).  0; -EINVAL (nothing
 * changed) when npages is 0 or base + npages wraps past UINT64_MAX;
 * -EEXIST (nothing changed) when the range overlaps one in the tree.
 * O(log n).
 */
int ms_gfn_tree_insert(struct ms_gfn_tree *t, struct ms_gfn_node *n);

/* Unlinks @n, which is in @t, and clears it.  O(log n). */
void ms_gfn_tree_erase(struct ms_gfn_tree *t, struct ms_gfn_node *n);

/*
 * Puts @new, in no tree, where @old is, in O(1) with no rebalancing (KVM's
 * rb_replace_node() for a FLAGS_ONLY change and for the INVALID copy), and
 * clears @old.  Their elements must have the same base and npages: else
 * -EINVAL and nothing changed; 0 otherwise.
 */
int ms_gfn_tree_replace(struct ms_gfn_tree *t, struct ms_gfn_node *old, struct ms_gfn_node *new);

/* ---- readers (lock-free on a published tree, or the writer's own) -------- */

/* The node whose range holds @gfn, or NULL. */
struct ms_gfn_node *ms_gfn_tree_find(const struct ms_gfn_tree *t, uint64_t gfn);

/*
 * As ms_gfn_tree_find(), and the neighbours whatever the result: *@below
 * gets the node with the largest base <= @gfn, *@above the one with the
 * smallest base > @gfn (NULL when there is none).  One full descent: both
 * are on its path.  @below and @above may be NULL when not wanted.
 */
struct ms_gfn_node *ms_gfn_tree_search(const struct ms_gfn_tree *t, uint64_t gfn,
				       struct ms_gfn_node **below, struct ms_gfn_node **above);

/*
 * KVM's search_memslots(approx = true): the node holding @gfn, else the
 * last node the descent visited, which borders the hole on one side or the
 * other depending on the tree's shape; NULL only when the tree is empty.
 * The contract's memslots_find_gfn_approx() wants the one below when there
 * is one: that is ms_gfn_tree_search()'s, not this.
 */
struct ms_gfn_node *ms_gfn_tree_find_approx(const struct ms_gfn_tree *t, uint64_t gfn);

/* In base order: O(1) for first, O(log n) worst case (O(1) amortised over
 * a walk) for the others; NULL past either end. */
static inline struct ms_gfn_node *ms_gfn_tree_first(const struct ms_gfn_tree *t)
{
	struct ms_rb_node *rb = ms_rb_first_cached(&t->root);

	return rb ? ms_container_of(rb, struct ms_gfn_node, rb) : NULL;
}

struct ms_gfn_node *ms_gfn_tree_last(const struct ms_gfn_tree *t);
struct ms_gfn_node *ms_gfn_tree_next(const struct ms_gfn_node *n);
struct ms_gfn_node *ms_gfn_tree_prev(const struct ms_gfn_node *n);

/*
 * KVM's kvm_for_each_memslot_in_gfn_range(): the nodes whose range meets
 * [@start, @end), in base order.  range_first gives the first (NULL when
 * none, and when @end <= @start) with one descent; range_next the one
 * after @n, given the same @end.
 */
struct ms_gfn_node *ms_gfn_tree_range_first(const struct ms_gfn_tree *t, uint64_t start,
					    uint64_t end);
struct ms_gfn_node *ms_gfn_tree_range_next(const struct ms_gfn_tree *t, const struct ms_gfn_node *n,
					   uint64_t end);

/* Whether a node other than @ignore (may be NULL) meets [@start, @end). */
bool ms_gfn_tree_overlaps(const struct ms_gfn_tree *t, uint64_t start, uint64_t end,
			  const struct ms_gfn_node *ignore);

/*
 * The whole tree's consistency: the red-black invariants (black root,
 * parent links, no red node with a red child, one black height, a bounded
 * depth), the cached leftmost, every range non-empty and not wrapping,
 * bases strictly ascending with no two ranges overlapping, and the count.
 * NULL when consistent, else a static description of the first fault
 * found.  O(n).  Reader.
 */
const char *ms_gfn_tree_check(const struct ms_gfn_tree *t);

#endif /* MS_KVM_GFN_TREE_H */
