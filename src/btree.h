/* SPDX-License-Identifier: MIT */
/*
 * A B+tree of non-overlapping gfn ranges: base_gfn (the key) -> a value
 * pointer (the slot), each entry also storing its end gfn (base + npages,
 * exclusive), so that a lookup decides hit or miss without touching the
 * slot.  It replaces a set's gfn red-black tree: a red-black descent is one
 * dependent cache miss per level (about 15 levels at 32764 slots); here a
 * level is one 256-byte node and the tree is 4 or 5 levels deep at that size.
 *
 * Node layout (every node is 256 bytes, 64-byte aligned, so 4 cache lines):
 *
 *   leaf      0..79    keys[10]     contiguous, unused = UINT64_MAX
 *            80..239   ent[10]      {end, val}: 16 bytes, never straddles a line
 *           240..247   next         the leaf to the right, for iteration
 *           248..255   meta         nr, allocation offset
 *
 *   internal  0..127   child[16]
 *           128..247   keys[15]     contiguous, unused = UINT64_MAX
 *           248..255   meta         nr (children), allocation offset
 *
 * Why these fan-outs: 256 bytes is 4 lines, the unit Linux's maple tree also
 * chose; a leaf entry needs 24 bytes (key, end, value), so 10 entries plus
 * the sibling link and the meta word fill it exactly; an internal entry
 * needs 16 (key, child), so 16 children and 15 separators do.  The meta
 * word sits at the same offset in both kinds (and in free nodes), so a node
 * of either kind can be freed without knowing which it is.
 *
 * The in-node search counts the keys <= gfn over the whole fixed-size key
 * array: no data-dependent branch, a fixed trip count the compiler unrolls
 * (and vectorizes where the target has 64-bit compares), and the unused
 * keys are UINT64_MAX so they never count.  Keys are < UINT64_MAX (an entry
 * holds at least one gfn and ends at most at UINT64_MAX), and a search for
 * UINT64_MAX itself is done as one for UINT64_MAX - 1, which finds the same
 * entry, so the count never passes the last used key.
 *
 * Separators are exact: internal keys[i] is the smallest key in the subtree
 * of child[i + 1].  So the leaf a descent reaches holds the largest key <=
 * gfn whenever any key is <= gfn, and a lookup reads one leaf, never its
 * neighbour.
 *
 * Fill: a leaf holds 5..10 entries, an internal node 8..16 children, except
 * the root (a leaf root 1..10, an internal root 2..16).  An empty tree has
 * no node at all.  An insert into a full leaf first moves entries to a
 * sibling under the same parent that has room, and splits only when
 * neither has: inserts in key order, ascending or descending, then leave
 * every leaf full but the two at the end they grow from.
 *
 * Node reserve.  The library makes every allocation of a call before its
 * first publication; nothing after may fail.  So the tree keeps a pool of
 * free nodes: inserts take their nodes from it, removes give theirs back to
 * it (the tree being changed is the inactive set's, which no reader sees,
 * so a freed node can be reused at once).  ms_btree_reserve(t, k) fills the
 * pool to the worst case of k inserts, interleaved with any number of
 * removes and replaces; after it, those inserts never allocate and cannot
 * fail for want of memory.  ms_btree_reserve_build() does the same for one
 * ms_btree_build().  The pool stays with the tree between calls: the caller
 * gives back what it does not want to keep with ms_btree_settle().  These
 * are the three steps of the sets' reservation protocol (set.h): reserve,
 * changes that cannot fail, settle.
 *
 * Concurrency (liburcu style): reader functions (lookup, search, seek,
 * cursor steps, overlaps, counts) may run in any number of threads at once
 * on a tree that no writer changes, i.e. a published set's, inside a read
 * section that keeps the set alive.  Writer functions (init, destroy,
 * reserve, settle, insert, remove, replace, build) need the caller to hold
 * the writer's lock and the tree to have no readers (the inactive set's,
 * after a grace period).
 */
#ifndef MS_BTREE_H
#define MS_BTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "compiler.h"

#define MS_BTREE_NODE_SIZE  256u
#define MS_BTREE_NODE_ALIGN 64u
#define MS_BTREE_LEAF_MAX   10u /* entries */
#define MS_BTREE_LEAF_MIN   5u
#define MS_BTREE_INNER_MAX  16u /* children */
#define MS_BTREE_INNER_MIN  8u
/* Height bound for any count of entries a size_t can hold (minimal fills). */
#define MS_BTREE_MAX_HEIGHT 24u

struct ms_btree_meta {
	uint16_t nr;  /* entries (leaf) or children (internal) */
	uint8_t skip; /* bytes between the allocation and the node */
	uint8_t pad[5];
};

struct ms_btree_ent {
	uint64_t end; /* one past the entry's last gfn */
	void *val;
};

struct ms_btree_leaf {
	uint64_t keys[MS_BTREE_LEAF_MAX];
	struct ms_btree_ent ent[MS_BTREE_LEAF_MAX];
	struct ms_btree_leaf *next;
	struct ms_btree_meta meta;
};

struct ms_btree_inner {
	void *child[MS_BTREE_INNER_MAX];
	uint64_t keys[MS_BTREE_INNER_MAX - 1];
	struct ms_btree_meta meta;
};

_Static_assert(sizeof(struct ms_btree_leaf) == MS_BTREE_NODE_SIZE, "leaf is 256 bytes");
_Static_assert(sizeof(struct ms_btree_inner) == MS_BTREE_NODE_SIZE, "internal node is 256 bytes");
_Static_assert(offsetof(struct ms_btree_leaf, meta) == offsetof(struct ms_btree_inner, meta),
	       "meta at one offset in both kinds");

struct ms_btree {
	void *root;	     /* a leaf when height == 1; NULL when empty */
	unsigned int height; /* levels, leaves included; 0 when empty */
	size_t count;	     /* entries */
	size_t nr_nodes;     /* nodes in the tree */
	void *pool;	     /* free nodes, linked through their first word */
	size_t pool_count;
	/* The leaf of the last replace, so that replaces in key order (a
	 * batch switching dirty logging on every slot) find their leaf in
	 * O(1); cleared by every structural change.  Writer only. */
	struct ms_btree_leaf *hint;
	const struct ms_alloc *alloc;
};

/* An entry for ms_btree_build(). */
struct ms_btree_entry {
	uint64_t key; /* base gfn */
	uint64_t end; /* one past the last gfn; > key */
	void *val;
};

/*
 * A position in a published tree: entry idx of leaf, or the end when leaf
 * is NULL.  Valid as long as the tree is not changed.
 */
struct ms_btree_cursor {
	const struct ms_btree_leaf *leaf;
	unsigned int idx;
};

/* ---- readers ------------------------------------------------------------------ */

/* Number of the first @n keys that are <= @g: the in-node search. */
static MS_ALWAYS_INLINE unsigned int ms_btree_rank(const uint64_t *keys, unsigned int n, uint64_t g)
{
	unsigned int r = 0;

	for (unsigned int i = 0; i < n; i++)
		r += keys[i] <= g;
	return r;
}

/*
 * The leaf that holds the largest key <= @gfn if there is one (else the
 * leftmost leaf), and in *rank how many of its keys are <= @gfn.  The tree
 * must not be empty.
 */
static inline const struct ms_btree_leaf *ms_btree_descend(const struct ms_btree *t, uint64_t gfn,
							   unsigned int *rank)
{
	const void *n = t->root;
	uint64_t g = gfn - (gfn == UINT64_MAX);

	for (unsigned int h = t->height; h > 1; h--) {
		const struct ms_btree_inner *in = n;

		n = in->child[ms_btree_rank(in->keys, MS_BTREE_INNER_MAX - 1, g)];
	}
	*rank = ms_btree_rank(((const struct ms_btree_leaf *)n)->keys, MS_BTREE_LEAF_MAX, g);
	return n;
}

/* The value of the entry whose [key, end) holds @gfn, or NULL.  Reader. */
static inline void *ms_btree_lookup(const struct ms_btree *t, uint64_t gfn)
{
	const struct ms_btree_leaf *leaf;
	const struct ms_btree_ent *e;
	unsigned int r;

	if (ms_unlikely(!t->root))
		return NULL;
	leaf = ms_btree_descend(t, gfn, &r);
	if (!r)
		return NULL;
	e = &leaf->ent[r - 1];
	return gfn < e->end ? e->val : NULL;
}

/*
 * As ms_btree_lookup(), and the neighbours: *below gets the value of the
 * entry with the largest key <= @gfn, *above that of the entry with the
 * smallest key > @gfn (NULL when there is none).  Either may be NULL when
 * not wanted; asking for @above may read the next leaf.  Reader.
 */
static inline void *ms_btree_search(const struct ms_btree *t, uint64_t gfn, void **below,
				    void **above)
{
	const struct ms_btree_leaf *leaf;
	void *lo = NULL, *hi = NULL, *hit = NULL;
	unsigned int r;

	if (t->root) {
		leaf = ms_btree_descend(t, gfn, &r);
		if (r) {
			lo = leaf->ent[r - 1].val;
			if (gfn < leaf->ent[r - 1].end)
				hit = lo;
		}
		if (above) {
			if (r == leaf->meta.nr) {
				leaf = leaf->next;
				r = 0;
			}
			hi = leaf ? leaf->ent[r].val : NULL;
		}
	}
	if (below)
		*below = lo;
	if (above)
		*above = hi;
	return hit;
}

/* Entries in the tree. Reader. */
static inline size_t ms_btree_count(const struct ms_btree *t)
{
	return t->count;
}

/* Moves a cursor to the end. */
static inline void ms_btree_cursor_reset(struct ms_btree_cursor *c)
{
	c->leaf = NULL;
	c->idx = 0;
}

static inline bool ms_btree_cursor_valid(const struct ms_btree_cursor *c)
{
	return c->leaf != NULL;
}

/* The entry under a valid cursor. */
static inline uint64_t ms_btree_cursor_key(const struct ms_btree_cursor *c)
{
	return c->leaf->keys[c->idx];
}

static inline uint64_t ms_btree_cursor_end(const struct ms_btree_cursor *c)
{
	return c->leaf->ent[c->idx].end;
}

static inline void *ms_btree_cursor_val(const struct ms_btree_cursor *c)
{
	return c->leaf->ent[c->idx].val;
}

/* Moves a valid cursor to the next entry in key order, or to the end. */
static inline void ms_btree_cursor_next(struct ms_btree_cursor *c)
{
	if (++c->idx == c->leaf->meta.nr) {
		c->leaf = c->leaf->next;
		c->idx = 0;
	}
}

/* Cursor at the entry with the smallest key; at the end when empty. Reader. */
void ms_btree_first(const struct ms_btree *t, struct ms_btree_cursor *c);
/* Cursor at the entry with the largest key <= @key, or the end. Reader. */
void ms_btree_seek_le(const struct ms_btree *t, uint64_t key, struct ms_btree_cursor *c);
/* Cursor at the entry with the smallest key > @key, or the end: with an
 * entry's key, the entry after it ("next" without a cursor). Reader. */
void ms_btree_seek_gt(const struct ms_btree *t, uint64_t key, struct ms_btree_cursor *c);
/*
 * Cursor at the first entry (in key order) whose [key, end) intersects
 * [@start, @end), or the end; the end as well when @end <= @start.  Reader.
 * This and ms_btree_range_next() are for the tests and benchmarks:
 * btree_range.c, in memslots_testonly only.
 */
void ms_btree_range_first(const struct ms_btree *t, uint64_t start, uint64_t end,
			  struct ms_btree_cursor *c);
/* The next entry of a range walk begun by ms_btree_range_first() with the
 * same @end: moves the cursor on, to the end past the range. Reader. */
void ms_btree_range_next(struct ms_btree_cursor *c, uint64_t end);
/* Whether an entry other than the one whose value is @ignore (may be NULL)
 * intersects [@start, @end).  O(log n). Reader. */
bool ms_btree_overlaps(const struct ms_btree *t, uint64_t start, uint64_t end, const void *ignore);

/* ---- writers (inactive tree only, one writer) ------------------------------- */

/* An empty tree with an empty pool; allocates nothing. */
void ms_btree_init(struct ms_btree *t, const struct ms_alloc *alloc);
/* Frees every node, the pool's too; the values belong to the caller. */
void ms_btree_destroy(struct ms_btree *t);

/*
 * Worst-case nodes that @nr_inserts inserts, interleaved with any number of
 * removes and replaces, can take from the pool, from the tree as it is
 * (the smaller of two bounds, see btree.c).  Reader (reads counts only).
 */
size_t ms_btree_insert_nodes(const struct ms_btree *t, size_t nr_inserts);
/* Nodes of a tree built by ms_btree_build() from @n entries
 * (btree_build.c, in memslots_testonly only, as every build function). */
size_t ms_btree_build_nodes(size_t n);

/*
 * Fills the pool to ms_btree_insert_nodes(t, nr_inserts) nodes.  Not
 * cumulative: it covers the next @nr_inserts inserts from now.  0, or
 * -ENOMEM with the pool and the tree as they were.
 */
int ms_btree_reserve(struct ms_btree *t, size_t nr_inserts);
/* Fills the pool so that ms_btree_build() of @n entries cannot fail for
 * want of memory (the tree's own nodes are reused).  0 or -ENOMEM, as above. */
int ms_btree_reserve_build(struct ms_btree *t, size_t n);
/* Gives back (frees) pool nodes until at most @keep remain.  Allowed on a
 * published tree: readers never look at the pool. */
void ms_btree_settle(struct ms_btree *t, size_t keep);

/*
 * Adds [key, end) -> val (val may be anything, NULL included).  Takes the
 * nodes it needs from the pool; when the pool is short (no reserve was
 * made), allocates them first.  0; -EINVAL if end <= key; -EEXIST if
 * [key, end) intersects an entry; -ENOMEM when the pool was short and the
 * allocation failed.  On error nothing changed.  Never allocates when a
 * ms_btree_reserve() covers it.  O(log n).
 */
int ms_btree_insert(struct ms_btree *t, uint64_t key, uint64_t end, void *val);
/* Removes the entry with @key, its value to *val if @val is not NULL.
 * 0 or -ENOENT.  Never allocates; emptied nodes go to the pool. O(log n). */
int ms_btree_remove(struct ms_btree *t, uint64_t key, void **val);
/* Gives the entry with @key the value @val, in place: no structural change,
 * never allocates.  0 or -ENOENT.  O(log n); O(1) when @key is in the leaf
 * of the previous replace or the next one (replaces in key order). */
int ms_btree_replace(struct ms_btree *t, uint64_t key, void *val);
/*
 * Replaces the whole tree by @n entries sorted by key: O(n), every leaf and
 * internal node as full as the fill bounds allow, evenly.  0; -EINVAL if
 * the entries are not sorted, overlap, have end <= key, or n >= 2^32;
 * -ENOMEM when the pool (plus the tree's nodes) is short and allocating
 * the rest failed.  On error the tree is unchanged.  Old nodes are reused.
 */
int ms_btree_build(struct ms_btree *t, const struct ms_btree_entry *v, size_t n);

#endif /* MS_BTREE_H */
