/* SPDX-License-Identifier: MIT */
/*
 * The memory-attribute map (see attrmap.h).
 *
 * Setting [start, last] to a word a rewrites one stretch of consecutive
 * nodes, the "affected" ones: those that intersect [start - 1, last + 1]
 * (clamped to the space), so that a run that touches the range from
 * outside, and may merge with it, is one of them.  They become at most
 * three runs: the head of the first affected node that lies before start,
 * the new run (absent when a is 0), the tail of the last one that lies
 * after last; a head or tail whose word is a melts into the new run.  (A
 * touching run of another word is its own head or tail: rewritten as it
 * was.)  The affected nodes are reused in order for these pieces, so the
 * tree order holds without re-inserting; surplus nodes are erased, and the
 * pieces left over (at most two, when one node is split in three) get
 * nodes from the reserve.
 */
#include "attrmap.h"

#include <errno.h>

static inline struct ms_attr_run *ms_attr_run_of(const struct ms_rb_node *rb)
{
	return rb ? ms_rb_entry(rb, struct ms_attr_run, rb) : NULL;
}

void ms_attrmap_init(struct ms_attrmap *map, const struct ms_alloc *alloc)
{
	map->root = MS_RB_ROOT;
	map->nr_runs = 0;
	map->alloc = alloc;
}

void ms_attrmap_destroy(struct ms_attrmap *map)
{
	struct ms_rb_node *n = map->root.node;

	/* Post-order without a stack: free a leaf, cut it off, go up. */
	while (n) {
		struct ms_rb_node *parent;

		if (n->left) {
			n = n->left;
			continue;
		}
		if (n->right) {
			n = n->right;
			continue;
		}
		parent = ms_rb_parent(n);
		if (parent) {
			if (parent->left == n)
				parent->left = NULL;
			else
				parent->right = NULL;
		}
		ms_free(map->alloc, ms_attr_run_of(n));
		n = parent;
	}
	map->root = MS_RB_ROOT;
	map->nr_runs = 0;
}

/* ---- searches ------------------------------------------------------------- */

/* The first run whose last >= @gfn (runs are disjoint, so last grows with
 * start), or NULL. */
static struct ms_attr_run *ms_attrmap_first_ending_at_or_after(const struct ms_attrmap *map,
							       uint64_t gfn)
{
	struct ms_rb_node *n = map->root.node, *found = NULL;

	while (n) {
		if (ms_attr_run_of(n)->last >= gfn) {
			found = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return ms_attr_run_of(found);
}

/* The last run whose start <= @gfn, or NULL. */
static struct ms_attr_run *ms_attrmap_last_starting_at_or_before(const struct ms_attrmap *map,
								 uint64_t gfn)
{
	struct ms_rb_node *n = map->root.node, *found = NULL;

	while (n) {
		if (ms_attr_run_of(n)->start <= gfn) {
			found = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return ms_attr_run_of(found);
}

/* Whether every gfn of [start, last] already has @attrs: O(log r). */
static bool ms_attrmap_range_has(const struct ms_attrmap *map, uint64_t start, uint64_t last,
				 uint64_t attrs)
{
	const struct ms_attr_run *run = ms_attrmap_first_ending_at_or_after(map, start);

	if (!attrs)
		return !run || run->start > last;
	/* Maximal runs: a range of one non-0 word lies in one node. */
	return run && run->start <= start && run->last >= last && run->attrs == attrs;
}

/* ---- planning one change --------------------------------------------------- */

struct ms_attr_piece {
	uint64_t start, last, attrs;
};

/* The stretch of affected nodes [first, last_node] and what replaces it. */
struct ms_attr_edit {
	struct ms_attr_run *first; /* NULL: no node is affected */
	struct ms_attr_run *last_node;
	struct ms_attr_piece piece[3]; /* in gfn order */
	unsigned int nr_pieces;
};

/*
 * Finds the affected stretch for setting [start, last] to @attrs and the
 * pieces that replace it.  O(log r).
 */
static void ms_attr_edit_plan(const struct ms_attrmap *map, uint64_t start, uint64_t last,
			      uint64_t attrs, struct ms_attr_edit *e)
{
	/* The range widened by the gfns that touch it, clamped to the space. */
	uint64_t lo = start ? start - 1 : 0;
	uint64_t hi = last < UINT64_MAX ? last + 1 : UINT64_MAX;
	struct ms_attr_run *f, *g;
	uint64_t new_start = start, new_last = last;

	e->nr_pieces = 0;
	e->first = e->last_node = NULL;

	f = ms_attrmap_first_ending_at_or_after(map, lo);
	if (f && f->start > hi)
		f = NULL;
	if (f) {
		g = ms_attrmap_last_starting_at_or_before(map, hi);
		e->first = f;
		e->last_node = g;
		/* What of f lies before start stays, or merges. */
		if (f->start < start) {
			if (f->attrs == attrs)
				new_start = f->start;
			else
				e->piece[e->nr_pieces++] =
					(struct ms_attr_piece){f->start, start - 1, f->attrs};
		}
		if (g->last > last && g->attrs == attrs)
			new_last = g->last;
	}
	if (attrs)
		e->piece[e->nr_pieces++] = (struct ms_attr_piece){new_start, new_last, attrs};
	if (f && g->last > last && g->attrs != attrs)
		e->piece[e->nr_pieces++] = (struct ms_attr_piece){last + 1, g->last, g->attrs};
}

/* How many nodes applying @e takes from a reserve: pieces beyond the
 * affected nodes.  Counts at most nr_pieces of those, so O(1) steps. */
static unsigned int ms_attr_edit_new_runs(const struct ms_attr_edit *e)
{
	const struct ms_attr_run *n = e->first;
	unsigned int affected = 0;

	while (n && affected < e->nr_pieces) {
		affected++;
		n = n == e->last_node ? NULL : ms_attr_run_of(ms_rb_next(&n->rb));
	}
	return e->nr_pieces - affected;
}

/* ---- the reserve ------------------------------------------------------------ */

static void ms_attrmap_pool_push(struct ms_attrmap_pool *res, struct ms_attr_run *run)
{
	run->rb.right = res->free ? &res->free->rb : NULL;
	res->free = run;
	res->nr++;
}

static struct ms_attr_run *ms_attrmap_pool_pop(struct ms_attrmap_pool *res)
{
	struct ms_attr_run *run = res->free;

	res->free = ms_attr_run_of(run->rb.right);
	res->nr--;
	return run;
}

void ms_attrmap_settle(struct ms_attrmap_pool *res, const struct ms_alloc *alloc)
{
	while (res->nr)
		ms_free(alloc, ms_attrmap_pool_pop(res));
}

/* Adds @n nodes to @res, all or none. */
static int ms_attrmap_pool_fill(struct ms_attrmap_pool *res, const struct ms_alloc *alloc, size_t n)
{
	struct ms_attrmap_pool got = MS_ATTRMAP_POOL_INIT;

	while (got.nr < n) {
		struct ms_attr_run *run = ms_malloc(alloc, sizeof(*run));

		if (!run) {
			ms_attrmap_settle(&got, alloc);
			return -ENOMEM;
		}
		ms_attrmap_pool_push(&got, run);
	}
	while (got.nr)
		ms_attrmap_pool_push(res, ms_attrmap_pool_pop(&got));
	return 0;
}

int ms_attrmap_reserve(const struct ms_attrmap *map, uint64_t start, uint64_t last, uint64_t attrs,
		       unsigned int nr_maps, struct ms_attrmap_pool *res,
		       struct ms_attrmap_plan *plan)
{
	struct ms_attrmap_plan p = {.start = start, .last = last, .attrs = attrs};
	struct ms_attr_edit e;
	int err;

	if (last < start || !nr_maps)
		return -EINVAL;
	p.changes = !ms_attrmap_range_has(map, start, last, attrs);
	if (p.changes) {
		ms_attr_edit_plan(map, start, last, attrs, &e);
		p.new_runs = ms_attr_edit_new_runs(&e);
		err = ms_attrmap_pool_fill(res, map->alloc, (size_t)nr_maps * p.new_runs);
		if (err)
			return err;
	}
	*plan = p;
	return 0;
}

/* ---- applying one change ------------------------------------------------------ */

static void ms_attrmap_insert(struct ms_attrmap *map, struct ms_attr_run *run)
{
	struct ms_rb_node **link = &map->root.node, *parent = NULL;

	while (*link) {
		parent = *link;
		if (run->start < ms_attr_run_of(parent)->start)
			link = &parent->left;
		else
			link = &parent->right;
	}
	ms_rb_link_node(&run->rb, parent, link);
	ms_rb_insert_color(&run->rb, &map->root);
	map->nr_runs++;
}

static void ms_attr_run_set(struct ms_attr_run *run, const struct ms_attr_piece *p)
{
	run->start = p->start;
	run->last = p->last;
	run->attrs = p->attrs;
}

int ms_attrmap_set(struct ms_attrmap *map, const struct ms_attrmap_plan *plan,
		   struct ms_attrmap_pool *res)
{
	struct ms_attr_run *run, *next;
	struct ms_attr_edit e;
	unsigned int i = 0;

	if (!plan->changes)
		return 0;
	ms_attr_edit_plan(map, plan->start, plan->last, plan->attrs, &e);
	if (res->nr < ms_attr_edit_new_runs(&e))
		return -ENOSPC;
	/*
	 * The affected nodes are consecutive in the tree and the pieces
	 * cover the same stretch of gfns, in order: giving the pieces to the
	 * first nodes in order keeps the tree sorted.
	 */
	for (run = e.first; run; run = next) {
		next = run == e.last_node ? NULL : ms_attr_run_of(ms_rb_next(&run->rb));
		if (i < e.nr_pieces) {
			ms_attr_run_set(run, &e.piece[i++]);
		} else {
			ms_rb_erase(&run->rb, &map->root);
			map->nr_runs--;
			ms_attrmap_pool_push(res, run);
		}
	}
	for (; i < e.nr_pieces; i++) {
		run = ms_attrmap_pool_pop(res);
		ms_attr_run_set(run, &e.piece[i]);
		ms_attrmap_insert(map, run);
	}
	return 0;
}

/* ---- walks, comparison, validation ------------------------------------------- */

const struct ms_attr_run *ms_attrmap_first(const struct ms_attrmap *map)
{
	return ms_attr_run_of(ms_rb_first(&map->root));
}

const struct ms_attr_run *ms_attrmap_next(const struct ms_attr_run *run)
{
	return ms_attr_run_of(ms_rb_next(&run->rb));
}

bool ms_attrmap_equal(const struct ms_attrmap *a, const struct ms_attrmap *b)
{
	const struct ms_attr_run *x = ms_attrmap_first(a), *y = ms_attrmap_first(b);

	/* Maximal runs: equal maps have exactly the same nodes. */
	if (a->nr_runs != b->nr_runs)
		return false;
	for (; x && y; x = ms_attrmap_next(x), y = ms_attrmap_next(y))
		if (x->start != y->start || x->last != y->last || x->attrs != y->attrs)
			return false;
	return !x && !y;
}

static int ms_attr_run_cmp(const struct ms_rb_node *a, const struct ms_rb_node *b)
{
	uint64_t sa = ms_attr_run_of(a)->start, sb = ms_attr_run_of(b)->start;

	return (sa > sb) - (sa < sb);
}

const char *ms_attrmap_validate(const struct ms_attrmap *map)
{
	const struct ms_attr_run *run, *prev = NULL;
	const char *why;
	size_t count;

	why = ms_rb_validate(&map->root, ms_attr_run_cmp, &count);
	if (why)
		return why;
	if (count != map->nr_runs)
		return "attribute map: the run count differs from the tree's";
	for (run = ms_attrmap_first(map); run; prev = run, run = ms_attrmap_next(run)) {
		if (run->last < run->start)
			return "attribute map: a run ends before it starts";
		if (!run->attrs)
			return "attribute map: a run of the word 0";
		/* The tree's order allows equal starts. */
		if (prev && prev->last >= run->start)
			return "attribute map: two runs overlap";
		if (prev && prev->last + 1 == run->start && prev->attrs == run->attrs)
			return "attribute map: two touching runs have the same word";
	}
	return NULL;
}
