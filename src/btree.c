/* SPDX-License-Identifier: MIT */
/*
 * The gfn B+tree: node pool, changes, the walks that are not hot enough to
 * inline.  Layout, invariants and the reserve discipline: btree.h.
 */
#include "btree.h"

#include <errno.h>
#include <string.h>

/* ---- nodes and the pool ------------------------------------------------------ */

/*
 * The allocator has no alignment parameter.  Ask for 48 bytes more and move
 * up to the next 64-byte boundary, which is at most 48 bytes away for the
 * 16-byte-aligned pointers malloc gives; for a less aligned allocator keep
 * 16-byte alignment (u64 fields need 8) and lose only speed.
 */
#define MS_BTREE_SLACK 48u

/* What a free node is: the pool is a stack linked through the first word. */
struct ms_btree_free {
	struct ms_btree_free *next;
};

static struct ms_btree_meta *ms_btree_meta_of(void *node)
{
	/* Same offset in both kinds and in free nodes (checked in btree.h). */
	return &((struct ms_btree_leaf *)node)->meta;
}

static void *ms_btree_node_alloc(const struct ms_alloc *a)
{
	char *p = ms_malloc(a, MS_BTREE_NODE_SIZE + MS_BTREE_SLACK);
	uintptr_t skip;

	if (!p)
		return NULL;
	skip = -(uintptr_t)p & (MS_BTREE_NODE_ALIGN - 1);
	if (skip > MS_BTREE_SLACK)
		skip = -(uintptr_t)p & 15;
	memset(p + skip, 0, MS_BTREE_NODE_SIZE);
	ms_btree_meta_of(p + skip)->skip = (uint8_t)skip;
	return p + skip;
}

static void ms_btree_node_release(const struct ms_alloc *a, void *node)
{
	ms_free(a, (char *)node - ms_btree_meta_of(node)->skip);
}

static void ms_btree_pool_push(struct ms_btree *t, void *node)
{
	struct ms_btree_free *f = node;

	f->next = t->pool;
	t->pool = f;
	t->pool_count++;
}

/* A pool node; the caller made sure there is one. */
static void *ms_btree_pool_pop(struct ms_btree *t)
{
	struct ms_btree_free *f = t->pool;

	t->pool = f->next;
	t->pool_count--;
	return f;
}

static void ms_btree_free_list(const struct ms_alloc *a, struct ms_btree_free *f)
{
	while (f) {
		struct ms_btree_free *next = f->next;

		ms_btree_node_release(a, f);
		f = next;
	}
}

/*
 * Grows the pool to at least @target nodes, all or nothing: the new nodes
 * are gathered aside and joined to the pool only once all were allocated.
 */
static int ms_btree_pool_fill(struct ms_btree *t, size_t target)
{
	struct ms_btree_free *head = NULL, *tail = NULL;
	size_t got = 0, want;

	if (t->pool_count >= target)
		return 0;
	want = target - t->pool_count;
	while (got < want) {
		struct ms_btree_free *f = ms_btree_node_alloc(t->alloc);

		if (!f) {
			ms_btree_free_list(t->alloc, head);
			return -ENOMEM;
		}
		f->next = head;
		head = f;
		if (!tail)
			tail = f;
		got++;
	}
	tail->next = t->pool;
	t->pool = head;
	t->pool_count += got;
	return 0;
}

void ms_btree_trim(struct ms_btree *t, size_t keep)
{
	while (t->pool_count > keep)
		ms_btree_node_release(t->alloc, ms_btree_pool_pop(t));
}

static void ms_btree_node_wipe(void *node)
{
	uint8_t skip = ms_btree_meta_of(node)->skip;

	memset(node, 0, MS_BTREE_NODE_SIZE);
	ms_btree_meta_of(node)->skip = skip;
}

/* A pool node, cleared, counted as the tree's; its kind sets the keys. */
static void *ms_btree_take_node(struct ms_btree *t)
{
	void *node = ms_btree_pool_pop(t);

	ms_btree_node_wipe(node);
	t->nr_nodes++;
	return node;
}

static struct ms_btree_leaf *ms_btree_new_leaf(struct ms_btree *t)
{
	struct ms_btree_leaf *leaf = ms_btree_take_node(t);

	memset(leaf->keys, 0xff, sizeof(leaf->keys));
	return leaf;
}

static struct ms_btree_inner *ms_btree_new_inner(struct ms_btree *t)
{
	struct ms_btree_inner *in = ms_btree_take_node(t);

	memset(in->keys, 0xff, sizeof(in->keys));
	return in;
}

/* A node leaves the tree: into the pool, reusable at once (no readers). */
static void ms_btree_drop_node(struct ms_btree *t, void *node)
{
	t->nr_nodes--;
	ms_btree_pool_push(t, node);
}

/* Every node of the subtree at @node (height @h) into the pool. */
static void ms_btree_drop_subtree(struct ms_btree *t, void *node, unsigned int h)
{
	if (h > 1) {
		struct ms_btree_inner *in = node;

		for (unsigned int i = 0; i < in->meta.nr; i++)
			ms_btree_drop_subtree(t, in->child[i], h - 1);
	}
	ms_btree_drop_node(t, node);
}

void ms_btree_init(struct ms_btree *t, const struct ms_alloc *alloc)
{
	memset(t, 0, sizeof(*t));
	t->alloc = alloc;
}

void ms_btree_destroy(struct ms_btree *t)
{
	t->hint = NULL;
	if (t->root)
		ms_btree_drop_subtree(t, t->root, t->height);
	ms_btree_trim(t, 0);
	t->root = NULL;
	t->height = 0;
	t->count = 0;
}

/* ---- how many nodes -------------------------------------------------------------- */

static size_t ms_sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t ms_sat_mul(size_t a, size_t b)
{
	return b && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/*
 * The most nodes a valid tree of @n entries can have, and in *height the
 * most levels.  With two leaves or more, every leaf holds >= LEAF_MIN
 * entries, so there are at most n / LEAF_MIN leaves; with two nodes or more
 * on a level, each has >= INNER_MIN children, so a level has at most
 * 1/INNER_MIN of the one below; a level exists only above one of >= 2.
 */
static size_t ms_btree_max_nodes(size_t n, unsigned int *height)
{
	size_t c = n / MS_BTREE_LEAF_MIN, total;
	unsigned int h = 1;

	if (c < 1)
		c = 1;
	total = c;
	while (c > 1) {
		c /= MS_BTREE_INNER_MIN;
		if (c < 1)
			c = 1;
		total += c;
		h++;
	}
	*height = h;
	return total;
}

/*
 * Two bounds, both holding whatever removes come in between (removes only
 * ever give nodes back):
 *  - per insert: a split on every level and a new root, so height + 1,
 *    the height being at most that of a tree of count + k entries;
 *  - in all: a valid tree of count + k entries has at most
 *    ms_btree_max_nodes() nodes, and the pool supplies what the tree has
 *    beyond the nodes it has now (an insert only adds nodes, so its peak
 *    is where it ends).
 * The first is tighter for a few inserts into a big tree, the second for
 * many.
 */
size_t ms_btree_insert_nodes(const struct ms_btree *t, size_t nr_inserts)
{
	unsigned int height;
	size_t most, per_insert, in_all;

	if (!nr_inserts)
		return 0;
	most = ms_btree_max_nodes(ms_sat_add(t->count, nr_inserts), &height);
	per_insert = ms_sat_mul(nr_inserts, (size_t)height + 1);
	in_all = most > t->nr_nodes ? most - t->nr_nodes : 0;
	return per_insert < in_all ? per_insert : in_all;
}

/* Nodes per level of a built tree of @n > 0 entries; returns the height. */
static unsigned int ms_btree_build_levels(size_t n, size_t c[MS_BTREE_MAX_HEIGHT])
{
	unsigned int h = 0;

	c[h] = (n + MS_BTREE_LEAF_MAX - 1) / MS_BTREE_LEAF_MAX;
	while (c[h] > 1) {
		c[h + 1] = (c[h] + MS_BTREE_INNER_MAX - 1) / MS_BTREE_INNER_MAX;
		h++;
	}
	return h + 1;
}

size_t ms_btree_build_nodes(size_t n)
{
	size_t c[MS_BTREE_MAX_HEIGHT], total = 0;
	unsigned int h;

	if (!n)
		return 0;
	h = ms_btree_build_levels(n, c);
	for (unsigned int l = 0; l < h; l++)
		total += c[l];
	return total;
}

int ms_btree_reserve(struct ms_btree *t, size_t nr_inserts)
{
	return ms_btree_pool_fill(t, ms_btree_insert_nodes(t, nr_inserts));
}

int ms_btree_reserve_build(struct ms_btree *t, size_t n)
{
	size_t need = ms_btree_build_nodes(n);

	return need > t->nr_nodes ? ms_btree_pool_fill(t, need - t->nr_nodes) : 0;
}

/* ---- reader walks ---------------------------------------------------------------- */

static void ms_btree_cursor_reset(struct ms_btree_cursor *c)
{
	c->leaf = NULL;
	c->idx = 0;
}

void ms_btree_first(const struct ms_btree *t, struct ms_btree_cursor *c)
{
	const void *n = t->root;

	for (unsigned int h = t->height; h > 1; h--)
		n = ((const struct ms_btree_inner *)n)->child[0];
	c->leaf = n;
	c->idx = 0;
}

void ms_btree_seek_le(const struct ms_btree *t, uint64_t key, struct ms_btree_cursor *c)
{
	unsigned int r;

	ms_btree_cursor_reset(c);
	if (!t->root)
		return;
	c->leaf = ms_btree_descend(t, key, &r);
	if (r)
		c->idx = r - 1;
	else
		ms_btree_cursor_reset(c); /* exact separators: no key <= @key anywhere */
}

void ms_btree_seek_gt(const struct ms_btree *t, uint64_t key, struct ms_btree_cursor *c)
{
	unsigned int r;

	ms_btree_cursor_reset(c);
	if (!t->root || key == UINT64_MAX)
		return;
	c->leaf = ms_btree_descend(t, key, &r);
	c->idx = r;
	if (r == c->leaf->meta.nr) {
		c->leaf = c->leaf->next;
		c->idx = 0;
	}
}

void ms_btree_range_first(const struct ms_btree *t, uint64_t start, uint64_t end,
			  struct ms_btree_cursor *c)
{
	ms_btree_cursor_reset(c);
	if (end <= start || !t->root)
		return;
	/* Only the entry with the largest key <= start can reach into it. */
	ms_btree_seek_le(t, start, c);
	if (!ms_btree_cursor_valid(c))
		ms_btree_first(t, c);
	else if (ms_btree_cursor_end(c) <= start)
		ms_btree_cursor_next(c);
	if (ms_btree_cursor_valid(c) && ms_btree_cursor_key(c) >= end)
		ms_btree_cursor_reset(c);
}

void ms_btree_range_next(struct ms_btree_cursor *c, uint64_t end)
{
	ms_btree_cursor_next(c);
	if (ms_btree_cursor_valid(c) && ms_btree_cursor_key(c) >= end)
		ms_btree_cursor_reset(c);
}

bool ms_btree_overlaps(const struct ms_btree *t, uint64_t start, uint64_t end, const void *ignore)
{
	struct ms_btree_cursor c;

	if (end <= start)
		return false;
	/*
	 * Entries never overlap, so only the one with the largest key below
	 * @end can reach into the range, or, when that one is @ignore, the one
	 * just before it: every earlier entry ends before that one begins.
	 */
	ms_btree_seek_le(t, end - 1, &c);
	if (ms_btree_cursor_valid(&c) && ms_btree_cursor_val(&c) == ignore) {
		uint64_t key = ms_btree_cursor_key(&c);

		if (!key)
			return false;
		ms_btree_seek_le(t, key - 1, &c);
	}
	return ms_btree_cursor_valid(&c) && ms_btree_cursor_end(&c) > start;
}

/* ---- changes ----------------------------------------------------------------------- */

/*
 * The way down to the leaf for @key: node[l] is the node on level l (0 is
 * the leaf), idx[l] the child taken there (l >= 1) or, on the leaf, how
 * many of its keys are <= @key.
 */
struct ms_btree_path {
	void *node[MS_BTREE_MAX_HEIGHT];
	unsigned int idx[MS_BTREE_MAX_HEIGHT];
};

static void ms_btree_walk_down(const struct ms_btree *t, uint64_t key, struct ms_btree_path *p)
{
	void *n = t->root;

	for (unsigned int l = t->height - 1; l > 0; l--) {
		struct ms_btree_inner *in = n;

		p->node[l] = n;
		p->idx[l] = ms_btree_rank(in->keys, MS_BTREE_INNER_MAX - 1, key);
		n = in->child[p->idx[l]];
	}
	p->node[0] = n;
	p->idx[0] = ms_btree_rank(((struct ms_btree_leaf *)n)->keys, MS_BTREE_LEAF_MAX, key);
}

static unsigned int ms_btree_node_nr(void *node)
{
	return ms_btree_meta_of(node)->nr;
}

/* Nodes an insert reaching @p takes: one per full node from the leaf up,
 * and a new root when the root is full as well. */
static size_t ms_btree_split_cost(const struct ms_btree *t, const struct ms_btree_path *p)
{
	size_t need = 0;

	for (unsigned int l = 0; l < t->height; l++) {
		unsigned int max = l ? MS_BTREE_INNER_MAX : MS_BTREE_LEAF_MAX;

		if (ms_btree_node_nr(p->node[l]) < max)
			return need;
		need++;
	}
	return need + 1;
}

/* Entry slots [from, nr) of @leaf cleared: keys to UINT64_MAX, the rest 0. */
static void ms_btree_leaf_clear_from(struct ms_btree_leaf *leaf, unsigned int from)
{
	for (unsigned int i = from; i < MS_BTREE_LEAF_MAX; i++) {
		leaf->keys[i] = UINT64_MAX;
		leaf->ent[i].end = 0;
		leaf->ent[i].val = NULL;
	}
}

static void ms_btree_inner_clear_from(struct ms_btree_inner *in, unsigned int from)
{
	for (unsigned int i = from; i < MS_BTREE_INNER_MAX; i++) {
		in->child[i] = NULL;
		if (i)
			in->keys[i - 1] = UINT64_MAX;
	}
}

/* Opens a gap at @pos in a leaf that has room. */
static void ms_btree_leaf_open(struct ms_btree_leaf *leaf, unsigned int pos)
{
	unsigned int nr = leaf->meta.nr;

	memmove(&leaf->keys[pos + 1], &leaf->keys[pos], (nr - pos) * sizeof(leaf->keys[0]));
	memmove(&leaf->ent[pos + 1], &leaf->ent[pos], (nr - pos) * sizeof(leaf->ent[0]));
	leaf->meta.nr++;
}

/* Closes the gap at @pos. */
static void ms_btree_leaf_close(struct ms_btree_leaf *leaf, unsigned int pos)
{
	unsigned int nr = leaf->meta.nr;

	memmove(&leaf->keys[pos], &leaf->keys[pos + 1], (nr - pos - 1) * sizeof(leaf->keys[0]));
	memmove(&leaf->ent[pos], &leaf->ent[pos + 1], (nr - pos - 1) * sizeof(leaf->ent[0]));
	leaf->meta.nr--;
	ms_btree_leaf_clear_from(leaf, leaf->meta.nr);
}

/* Appends entries [from, from + n) of @src to @dst, which has room. */
static void ms_btree_leaf_append(struct ms_btree_leaf *dst, const struct ms_btree_leaf *src,
				 unsigned int from, unsigned int n)
{
	unsigned int nr = dst->meta.nr;

	memcpy(&dst->keys[nr], &src->keys[from], n * sizeof(dst->keys[0]));
	memcpy(&dst->ent[nr], &src->ent[from], n * sizeof(dst->ent[0]));
	dst->meta.nr += n;
}

/*
 * Puts the entry at @pos of a full leaf: the upper 5 of the 11 move to a
 * new right sibling, whose first key is returned in *sep.
 */
static struct ms_btree_leaf *ms_btree_leaf_split(struct ms_btree *t, struct ms_btree_leaf *leaf,
						 unsigned int pos, uint64_t key,
						 struct ms_btree_ent e, uint64_t *sep)
{
	const unsigned int keep = (MS_BTREE_LEAF_MAX + 2) / 2;
	struct ms_btree_leaf *right = ms_btree_new_leaf(t);
	unsigned int nr = MS_BTREE_LEAF_MAX;

	if (pos < keep) {
		/* The new entry stays left: move the top nr - (keep - 1). */
		ms_btree_leaf_append(right, leaf, keep - 1, nr - (keep - 1));
		leaf->meta.nr = keep - 1;
		ms_btree_leaf_clear_from(leaf, keep - 1);
		ms_btree_leaf_open(leaf, pos);
		leaf->keys[pos] = key;
		leaf->ent[pos] = e;
	} else {
		ms_btree_leaf_append(right, leaf, keep, nr - keep);
		leaf->meta.nr = keep;
		ms_btree_leaf_clear_from(leaf, keep);
		ms_btree_leaf_open(right, pos - keep);
		right->keys[pos - keep] = key;
		right->ent[pos - keep] = e;
	}
	right->next = leaf->next;
	leaf->next = right;
	*sep = right->keys[0];
	return right;
}

/* The 10 entries of a full leaf and the new one at @pos, in order. */
static void ms_btree_leaf_gather(const struct ms_btree_leaf *leaf, unsigned int pos, uint64_t key,
				 struct ms_btree_ent e, uint64_t keys[MS_BTREE_LEAF_MAX + 1],
				 struct ms_btree_ent ent[MS_BTREE_LEAF_MAX + 1])
{
	memcpy(keys, leaf->keys, pos * sizeof(keys[0]));
	memcpy(ent, leaf->ent, pos * sizeof(ent[0]));
	keys[pos] = key;
	ent[pos] = e;
	memcpy(&keys[pos + 1], &leaf->keys[pos], (MS_BTREE_LEAF_MAX - pos) * sizeof(keys[0]));
	memcpy(&ent[pos + 1], &leaf->ent[pos], (MS_BTREE_LEAF_MAX - pos) * sizeof(ent[0]));
}

/* @leaf's entries become @n of @keys / @ent. */
static void ms_btree_leaf_fill(struct ms_btree_leaf *leaf, const uint64_t *keys,
			       const struct ms_btree_ent *ent, unsigned int n)
{
	memcpy(leaf->keys, keys, n * sizeof(keys[0]));
	memcpy(leaf->ent, ent, n * sizeof(ent[0]));
	leaf->meta.nr = n;
	ms_btree_leaf_clear_from(leaf, n);
}

/*
 * Puts the entry at @pos of a full leaf, child @i of @parent, without a
 * split, when a sibling under the same parent has room: of the 11 entries
 * in order, as many as the sibling has room for go to it (the first ones
 * to the left sibling, the last ones to the right), the rest (at least 6)
 * stay, and the separator of whichever of the two is on the right moves to
 * its new first key.  A leaf so fills up before anything splits off it:
 * slots created in gfn order, ascending (how a VMM lays out guest memory)
 * or descending (a batch built from the top), always reach the last or the
 * first leaf, and splits alone would leave every leaf behind 6/10 full.
 * Takes no node, so the reserve bound holds.  Returns false, changing
 * nothing, when neither sibling has room.
 */
static bool ms_btree_leaf_shift(const struct ms_btree *t, const struct ms_btree_path *p,
				uint64_t key, struct ms_btree_ent e)
{
	const unsigned int all = MS_BTREE_LEAF_MAX + 1;
	struct ms_btree_inner *parent;
	struct ms_btree_leaf *leaf = p->node[0], *left = NULL, *right = NULL;
	uint64_t keys[MS_BTREE_LEAF_MAX + 1];
	struct ms_btree_ent ent[MS_BTREE_LEAF_MAX + 1];
	unsigned int i, k;

	if (t->height < 2)
		return false;
	parent = p->node[1];
	i = p->idx[1];
	if (i && ms_btree_node_nr(parent->child[i - 1]) < MS_BTREE_LEAF_MAX)
		left = parent->child[i - 1];
	else if (i + 1 < parent->meta.nr &&
		 ms_btree_node_nr(parent->child[i + 1]) < MS_BTREE_LEAF_MAX)
		right = parent->child[i + 1];
	else
		return false;
	ms_btree_leaf_gather(leaf, p->idx[0], key, e, keys, ent);
	if (left) {
		k = MS_BTREE_LEAF_MAX - left->meta.nr;
		memcpy(&left->keys[left->meta.nr], keys, k * sizeof(keys[0]));
		memcpy(&left->ent[left->meta.nr], ent, k * sizeof(ent[0]));
		left->meta.nr += k;
		ms_btree_leaf_fill(leaf, &keys[k], &ent[k], all - k);
		parent->keys[i - 1] = leaf->keys[0];
	} else {
		k = MS_BTREE_LEAF_MAX - right->meta.nr;
		memmove(&right->keys[k], right->keys, right->meta.nr * sizeof(keys[0]));
		memmove(&right->ent[k], right->ent, right->meta.nr * sizeof(ent[0]));
		memcpy(right->keys, &keys[all - k], k * sizeof(keys[0]));
		memcpy(right->ent, &ent[all - k], k * sizeof(ent[0]));
		right->meta.nr += k;
		ms_btree_leaf_fill(leaf, keys, ent, all - k);
		parent->keys[i] = right->keys[0];
	}
	return true;
}

/* Inserts @child at @pos (>= 1) of @in, with @sep as its separator. */
static void ms_btree_inner_put(struct ms_btree_inner *in, unsigned int pos, uint64_t sep,
			       void *child)
{
	unsigned int nr = in->meta.nr;

	memmove(&in->child[pos + 1], &in->child[pos], (nr - pos) * sizeof(in->child[0]));
	memmove(&in->keys[pos], &in->keys[pos - 1], (nr - pos) * sizeof(in->keys[0]));
	in->child[pos] = child;
	in->keys[pos - 1] = sep;
	in->meta.nr++;
}

/*
 * The same into a full node: the 17 children are split 9 | 8 and the
 * separator between the halves moves up, in *up.
 */
static struct ms_btree_inner *ms_btree_inner_split(struct ms_btree *t, struct ms_btree_inner *in,
						   unsigned int pos, uint64_t sep, void *child,
						   uint64_t *up)
{
	const unsigned int keep = (MS_BTREE_INNER_MAX + 2) / 2; /* 9 */
	const unsigned int all = MS_BTREE_INNER_MAX + 1;
	void *c[MS_BTREE_INNER_MAX + 1];
	uint64_t k[MS_BTREE_INNER_MAX];
	struct ms_btree_inner *right = ms_btree_new_inner(t);

	/* Gather all 17 children and 16 separators in order, then deal out. */
	memcpy(c, in->child, pos * sizeof(c[0]));
	c[pos] = child;
	memcpy(&c[pos + 1], &in->child[pos], (MS_BTREE_INNER_MAX - pos) * sizeof(c[0]));
	memcpy(k, in->keys, (pos - 1) * sizeof(k[0]));
	k[pos - 1] = sep;
	memcpy(&k[pos], &in->keys[pos - 1], (MS_BTREE_INNER_MAX - pos) * sizeof(k[0]));

	memcpy(in->child, c, keep * sizeof(c[0]));
	memcpy(in->keys, k, (keep - 1) * sizeof(k[0]));
	in->meta.nr = keep;
	ms_btree_inner_clear_from(in, keep);
	memcpy(right->child, &c[keep], (all - keep) * sizeof(c[0]));
	memcpy(right->keys, &k[keep], (all - keep - 1) * sizeof(k[0]));
	right->meta.nr = all - keep;
	*up = k[keep - 1];
	return right;
}

/* The split of the root: a new root over the two halves. */
static void ms_btree_grow(struct ms_btree *t, uint64_t sep, void *right)
{
	struct ms_btree_inner *root = ms_btree_new_inner(t);

	root->child[0] = t->root;
	root->child[1] = right;
	root->keys[0] = sep;
	root->meta.nr = 2;
	t->root = root;
	t->height++;
}

/* [key, end) intersects an entry; @p is the way down for @key. */
static bool ms_btree_collides(const struct ms_btree_path *p, uint64_t key, uint64_t end)
{
	const struct ms_btree_leaf *leaf = p->node[0];
	unsigned int r = p->idx[0];

	/* Exact separators: the entry before lies in this leaf, if any. */
	if (r && leaf->ent[r - 1].end > key)
		return true;
	if (r == leaf->meta.nr) {
		leaf = leaf->next;
		r = 0;
	}
	return leaf && leaf->keys[r] < end;
}

static void ms_btree_insert_first(struct ms_btree *t, uint64_t key, struct ms_btree_ent e)
{
	struct ms_btree_leaf *leaf = ms_btree_new_leaf(t);

	leaf->keys[0] = key;
	leaf->ent[0] = e;
	leaf->meta.nr = 1;
	t->root = leaf;
	t->height = 1;
}

int ms_btree_insert(struct ms_btree *t, uint64_t key, uint64_t end, void *val)
{
	struct ms_btree_ent e = {.end = end, .val = val};
	struct ms_btree_path p;
	struct ms_btree_leaf *leaf;
	uint64_t sep;
	void *right;

	t->hint = NULL;
	if (end <= key)
		return -EINVAL;
	if (!t->root) {
		if (ms_btree_pool_fill(t, 1))
			return -ENOMEM;
		ms_btree_insert_first(t, key, e);
		t->count++;
		return 0;
	}
	ms_btree_walk_down(t, key, &p);
	if (ms_btree_collides(&p, key, end))
		return -EEXIST;
	leaf = p.node[0];
	if (leaf->meta.nr < MS_BTREE_LEAF_MAX) {
		ms_btree_leaf_open(leaf, p.idx[0]);
		leaf->keys[p.idx[0]] = key;
		leaf->ent[p.idx[0]] = e;
		t->count++;
		return 0;
	}
	if (ms_btree_leaf_shift(t, &p, key, e)) {
		t->count++;
		return 0;
	}
	if (ms_btree_pool_fill(t, ms_btree_split_cost(t, &p)))
		return -ENOMEM;
	t->count++;
	right = ms_btree_leaf_split(t, leaf, p.idx[0], key, e, &sep);
	for (unsigned int l = 1; l < t->height; l++) {
		struct ms_btree_inner *in = p.node[l];

		if (in->meta.nr < MS_BTREE_INNER_MAX) {
			ms_btree_inner_put(in, p.idx[l] + 1, sep, right);
			return 0;
		}
		right = ms_btree_inner_split(t, in, p.idx[l] + 1, sep, right, &sep);
	}
	ms_btree_grow(t, sep, right);
	return 0;
}

/* Walks down to the leaf entry with @key: 0 with *pos set, or -ENOENT. */
static int ms_btree_find(const struct ms_btree *t, uint64_t key, struct ms_btree_path *p,
			 unsigned int *pos)
{
	const struct ms_btree_leaf *leaf;

	if (!t->root || key == UINT64_MAX)
		return -ENOENT;
	ms_btree_walk_down(t, key, p);
	leaf = p->node[0];
	if (!p->idx[0] || leaf->keys[p->idx[0] - 1] != key)
		return -ENOENT;
	*pos = p->idx[0] - 1;
	return 0;
}

/*
 * The hint leaf or the one after it, when its keys span @key: then @key is
 * there if it is in the tree at all (keys are unique and ordered across
 * the leaf chain).  NULL otherwise.
 */
static struct ms_btree_leaf *ms_btree_hinted_leaf(const struct ms_btree *t, uint64_t key)
{
	struct ms_btree_leaf *leaf = t->hint;

	for (unsigned int i = 0; leaf && i < 2; i++, leaf = leaf->next)
		if (key >= leaf->keys[0] && key <= leaf->keys[leaf->meta.nr - 1])
			return leaf;
	return NULL;
}

int ms_btree_replace(struct ms_btree *t, uint64_t key, void *val)
{
	struct ms_btree_leaf *leaf = ms_btree_hinted_leaf(t, key);
	struct ms_btree_path p;
	unsigned int pos;

	if (leaf) {
		pos = ms_btree_rank(leaf->keys, MS_BTREE_LEAF_MAX, key);
		if (!pos || leaf->keys[pos - 1] != key)
			return -ENOENT;
		pos--;
	} else {
		if (ms_btree_find(t, key, &p, &pos))
			return -ENOENT;
		leaf = p.node[0];
	}
	leaf->ent[pos].val = val;
	t->hint = leaf;
	return 0;
}

/*
 * The leaf's first key changed to @key: the separator naming it sits in the
 * lowest ancestor where the way down did not take the first child (none:
 * the leaf is the leftmost one, named by no separator).
 */
static void ms_btree_fix_separator(const struct ms_btree *t, const struct ms_btree_path *p,
				   uint64_t key)
{
	for (unsigned int l = 1; l < t->height; l++) {
		if (p->idx[l]) {
			((struct ms_btree_inner *)p->node[l])->keys[p->idx[l] - 1] = key;
			return;
		}
	}
}

/* Removes child @i (>= 1) and the separator before it from @in. */
static void ms_btree_inner_take(struct ms_btree_inner *in, unsigned int i)
{
	unsigned int nr = in->meta.nr;

	memmove(&in->child[i], &in->child[i + 1], (nr - i - 1) * sizeof(in->child[0]));
	memmove(&in->keys[i - 1], &in->keys[i], (nr - i - 1) * sizeof(in->keys[0]));
	in->meta.nr--;
	ms_btree_inner_clear_from(in, in->meta.nr);
}

/*
 * Leaf @i of @parent is one entry short.  Borrow from a sibling that can
 * spare one, else merge with one.  Returns whether @parent lost a child.
 */
static bool ms_btree_fix_leaf(struct ms_btree *t, struct ms_btree_inner *parent, unsigned int i)
{
	struct ms_btree_leaf *leaf = parent->child[i];
	struct ms_btree_leaf *left = i ? parent->child[i - 1] : NULL;
	struct ms_btree_leaf *right = i + 1 < parent->meta.nr ? parent->child[i + 1] : NULL;

	if (left && left->meta.nr > MS_BTREE_LEAF_MIN) {
		unsigned int last = left->meta.nr - 1;

		ms_btree_leaf_open(leaf, 0);
		leaf->keys[0] = left->keys[last];
		leaf->ent[0] = left->ent[last];
		ms_btree_leaf_close(left, last);
		parent->keys[i - 1] = leaf->keys[0];
		return false;
	}
	if (right && right->meta.nr > MS_BTREE_LEAF_MIN) {
		ms_btree_leaf_append(leaf, right, 0, 1);
		ms_btree_leaf_close(right, 0);
		parent->keys[i] = right->keys[0];
		return false;
	}
	if (left) {
		ms_btree_leaf_append(left, leaf, 0, leaf->meta.nr);
		left->next = leaf->next;
		ms_btree_inner_take(parent, i);
		ms_btree_drop_node(t, leaf);
	} else {
		ms_btree_leaf_append(leaf, right, 0, right->meta.nr);
		leaf->next = right->next;
		ms_btree_inner_take(parent, i + 1);
		ms_btree_drop_node(t, right);
	}
	return true;
}

/* Appends @src's children to @dst, @sep (the smallest key under @src) first. */
static void ms_btree_inner_append(struct ms_btree_inner *dst, uint64_t sep,
				  const struct ms_btree_inner *src)
{
	unsigned int nr = dst->meta.nr;

	dst->keys[nr - 1] = sep;
	memcpy(&dst->child[nr], src->child, src->meta.nr * sizeof(src->child[0]));
	memcpy(&dst->keys[nr], src->keys, (src->meta.nr - 1) * sizeof(src->keys[0]));
	dst->meta.nr += src->meta.nr;
}

/* The same for internal node @i of @parent, one child short. */
static bool ms_btree_fix_inner(struct ms_btree *t, struct ms_btree_inner *parent, unsigned int i)
{
	struct ms_btree_inner *in = parent->child[i];
	struct ms_btree_inner *left = i ? parent->child[i - 1] : NULL;
	struct ms_btree_inner *right = i + 1 < parent->meta.nr ? parent->child[i + 1] : NULL;

	if (left && left->meta.nr > MS_BTREE_INNER_MIN) {
		/* Rotate right: left's last child becomes our first. */
		unsigned int last = left->meta.nr - 1;

		memmove(&in->child[1], in->child, in->meta.nr * sizeof(in->child[0]));
		memmove(&in->keys[1], in->keys, (in->meta.nr - 1) * sizeof(in->keys[0]));
		in->child[0] = left->child[last];
		in->keys[0] = parent->keys[i - 1];
		in->meta.nr++;
		parent->keys[i - 1] = left->keys[last - 1];
		left->meta.nr--;
		ms_btree_inner_clear_from(left, left->meta.nr);
		return false;
	}
	if (right && right->meta.nr > MS_BTREE_INNER_MIN) {
		/* Rotate left: right's first child becomes our last. */
		in->child[in->meta.nr] = right->child[0];
		in->keys[in->meta.nr - 1] = parent->keys[i];
		in->meta.nr++;
		parent->keys[i] = right->keys[0];
		memmove(right->child, &right->child[1],
			(right->meta.nr - 1) * sizeof(right->child[0]));
		memmove(right->keys, &right->keys[1],
			(right->meta.nr - 2) * sizeof(right->keys[0]));
		right->meta.nr--;
		ms_btree_inner_clear_from(right, right->meta.nr);
		return false;
	}
	if (left) {
		ms_btree_inner_append(left, parent->keys[i - 1], in);
		ms_btree_inner_take(parent, i);
		ms_btree_drop_node(t, in);
	} else {
		ms_btree_inner_append(in, parent->keys[i], right);
		ms_btree_inner_take(parent, i + 1);
		ms_btree_drop_node(t, right);
	}
	return true;
}

/* After a removal: restore the fill bounds from the leaf up, then drop a
 * root left with a single child. */
static void ms_btree_rebalance(struct ms_btree *t, const struct ms_btree_path *p)
{
	for (unsigned int l = 0; l + 1 < t->height; l++) {
		unsigned int min = l ? MS_BTREE_INNER_MIN : MS_BTREE_LEAF_MIN;
		struct ms_btree_inner *parent = p->node[l + 1];
		bool merged;

		if (ms_btree_node_nr(p->node[l]) >= min)
			break;
		if (l)
			merged = ms_btree_fix_inner(t, parent, p->idx[l + 1]);
		else
			merged = ms_btree_fix_leaf(t, parent, p->idx[l + 1]);
		if (!merged)
			break;
	}
	if (t->height > 1 && ms_btree_node_nr(t->root) == 1) {
		void *old = t->root;

		t->root = ((struct ms_btree_inner *)old)->child[0];
		t->height--;
		ms_btree_drop_node(t, old);
	}
}

int ms_btree_remove(struct ms_btree *t, uint64_t key, void **val)
{
	struct ms_btree_path p;
	struct ms_btree_leaf *leaf;
	unsigned int pos;

	t->hint = NULL;

	memset(&p, 0, sizeof(p)); /* gcc cannot see that walk_down fills it */
	if (ms_btree_find(t, key, &p, &pos))
		return -ENOENT;
	leaf = p.node[0];
	if (val)
		*val = leaf->ent[pos].val;
	ms_btree_leaf_close(leaf, pos);
	t->count--;
	if (!leaf->meta.nr) {
		/* Only a root leaf empties: others are merged before. */
		ms_btree_drop_node(t, leaf);
		t->root = NULL;
		t->height = 0;
		return 0;
	}
	if (!pos)
		ms_btree_fix_separator(t, &p, leaf->keys[0]);
	ms_btree_rebalance(t, &p);
	return 0;
}

/* ---- bulk build --------------------------------------------------------------------- */

struct ms_btree_builder {
	struct ms_btree *t;
	const struct ms_btree_entry *v;
	size_t n;
	size_t c[MS_BTREE_MAX_HEIGHT]; /* nodes per level */
	struct ms_btree_leaf *last;    /* the leaf built last, to link the next */
};

/* [lo, hi) of @total items dealt evenly to @parts parts, part @j's share. */
static void ms_btree_share(size_t total, size_t parts, size_t j, size_t *lo, size_t *hi)
{
	*lo = j * total / parts;
	*hi = (j + 1) * total / parts;
}

static void *ms_btree_build_node(struct ms_btree_builder *b, unsigned int l, size_t j,
				 uint64_t *min);

/* Leaf @j: its share of the entries, linked after the leaf built before. */
static void *ms_btree_build_leaf(struct ms_btree_builder *b, size_t j, uint64_t *min)
{
	struct ms_btree_leaf *leaf = ms_btree_new_leaf(b->t);
	size_t lo, hi;

	ms_btree_share(b->n, b->c[0], j, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		leaf->keys[i - lo] = b->v[i].key;
		leaf->ent[i - lo].end = b->v[i].end;
		leaf->ent[i - lo].val = b->v[i].val;
	}
	leaf->meta.nr = (uint16_t)(hi - lo);
	if (b->last)
		b->last->next = leaf;
	b->last = leaf;
	*min = leaf->keys[0];
	return leaf;
}

/* Internal node @j of level @l >= 1: its share of the level below. */
static void *ms_btree_build_inner(struct ms_btree_builder *b, unsigned int l, size_t j,
				  uint64_t *min)
{
	struct ms_btree_inner *in = ms_btree_new_inner(b->t);
	size_t lo, hi;

	ms_btree_share(b->c[l - 1], b->c[l], j, &lo, &hi);
	for (size_t x = lo; x < hi; x++) {
		uint64_t m;

		in->child[x - lo] = ms_btree_build_node(b, l - 1, x, &m);
		if (x == lo)
			*min = m;
		else
			in->keys[x - lo - 1] = m;
	}
	in->meta.nr = (uint16_t)(hi - lo);
	return in;
}

/* Node @j of level @l and all below it, in key order; its smallest key in
 * *min.  Recursion depth is the height. */
static void *ms_btree_build_node(struct ms_btree_builder *b, unsigned int l, size_t j,
				 uint64_t *min)
{
	return l ? ms_btree_build_inner(b, l, j, min) : ms_btree_build_leaf(b, j, min);
}

static int ms_btree_check_sorted(const struct ms_btree_entry *v, size_t n)
{
	if (n > UINT32_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (v[i].end <= v[i].key)
			return -EINVAL;
		if (i && v[i - 1].end > v[i].key)
			return -EINVAL;
	}
	return 0;
}

int ms_btree_build(struct ms_btree *t, const struct ms_btree_entry *v, size_t n)
{
	struct ms_btree_builder b = {.t = t, .v = v, .n = n};
	unsigned int height;
	uint64_t min;

	t->hint = NULL;

	if (ms_btree_check_sorted(v, n))
		return -EINVAL;
	if (ms_btree_reserve_build(t, n))
		return -ENOMEM;
	if (t->root)
		ms_btree_drop_subtree(t, t->root, t->height);
	t->root = NULL;
	t->height = 0;
	t->count = 0;
	if (!n)
		return 0;
	height = ms_btree_build_levels(n, b.c);
	t->root = ms_btree_build_node(&b, height - 1, 0, &min);
	t->height = height;
	t->count = n;
	return 0;
}
