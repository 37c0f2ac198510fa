/* SPDX-License-Identifier: MIT */
/*
 * The gfn B+tree's changes: insert, replace, remove and the splits,
 * shifts and merges that keep the tree balanced.  Nodes come from the
 * pool (btree.c, btree_node.h).  Locking: the caller serializes changes.
 */
#include "btree_node.h"

#include <errno.h>
#include <string.h>

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

/*
 * Opaque to its callers (MS_NOIPA): gcc 12.2 at -O2 summarized this
 * function's stores without those to p->node[1..] (IPA mod/ref; gone with
 * -fno-ipa-modref or -fno-strict-aliasing), so a caller whose path was
 * zeroed before the walk read node[1] as that zero and crashed at the
 * first leaf shift or merge.  Inlined into ms_btree_find(), the same
 * happened to find's summary.  An opaque call costs nothing next to a
 * writer's change; the unit suite runs on an -O2 build in the dev stage.
 */
static MS_NOIPA void ms_btree_walk_down(const struct ms_btree *t, uint64_t key,
					struct ms_btree_path *p)
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
	/* Zeroed: only the levels below the height are walked, which gcc's
	 * -O2 flow analysis cannot see through ms_btree_leaf_shift(). */
	struct ms_btree_path p = {0};
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
