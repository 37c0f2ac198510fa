// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the augmented interval tree alone: inserts, removes and
 * replaces of closed intervals [start, last] (small values so they overlap
 * and repeat, and values at the top of the u64 range), and overlap
 * queries, against brute force over the pool.  Each node is a slot in two
 * trees at once, through its two hva nodes (the tree's two instances), as
 * in the two sets.  After every operation ms_itree_validate() must pass on
 * both (red-black rules, order by start, subtree_last, cached leftmost)
 * with the right count; every query must return each intersecting interval
 * exactly once, in start order, from each tree.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "interval_tree.h"
#include "slot.h"

#define POOL 64u

struct inode {
	struct ms_slot slot; /* the interval: [pub.userspace_addr, hva_last] */
	bool in_tree;
};

static struct inode pool[POOL];
static unsigned int nin;

static struct inode *inode_of(const struct ms_slot *s)
{
	return ms_container_of(s, struct inode, slot);
}

/* Tree @idx of @root against brute force. */
static void query(const struct ms_rb_root_cached *root, unsigned int idx, uint64_t qs, uint64_t ql)
{
	struct fz_walk walk = {0};
	const struct ms_slot *s;
	uint64_t want = 0;
	unsigned int i;

	for (i = 0; i < POOL; i++)
		if (pool[i].in_tree && qs <= ql && pool[i].slot.pub.userspace_addr <= ql &&
		    pool[i].slot.hva_last >= qs)
			want |= 1ull << i;
	for (s = ms_itree_iter_first(&root[idx], idx, qs, ql); s;
	     s = ms_itree_iter_next(s, idx, qs, ql)) {
		i = (unsigned int)(inode_of(s) - pool);
		FZ_CHECK(i < POOL && pool[i].in_tree);
		fz_walk_meet(&walk, i, s->pub.userspace_addr);
	}
	FZ_CHECK(walk.met == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_rb_root_cached root[2] = {MS_RB_ROOT_CACHED, MS_RB_ROOT_CACHED};
	struct fz_in in = {data, size};
	unsigned int ops = 0;
	size_t count;

	memset(pool, 0, sizeof(pool));
	nin = 0;
	while (in.n && ops++ < 512) {
		uint8_t op = fz_u8(&in);
		struct inode *n = &pool[fz_u8(&in) % POOL], *m;
		uint64_t a, b;
		unsigned int t;

		switch (op % 5) {
		case 0:
		case 1: /* insert */
			if (n->in_tree)
				break;
			a = fz_key(&in);
			b = fz_u8(&in) % 16;
			n->slot.pub.userspace_addr = a;
			n->slot.hva_last = a + b < a ? UINT64_MAX : a + b;
			for (t = 0; t < 2; t++)
				ms_itree_insert(&n->slot, t, &root[t]);
			n->in_tree = true;
			nin++;
			break;
		case 2: /* remove */
			if (!n->in_tree)
				break;
			for (t = 0; t < 2; t++)
				ms_itree_remove(&n->slot, t, &root[t]);
			n->in_tree = false;
			nin--;
			break;
		case 3: /* replace with a free node of the same interval */
			m = &pool[fz_u8(&in) % POOL];
			if (!n->in_tree || m->in_tree)
				break;
			m->slot.pub.userspace_addr = n->slot.pub.userspace_addr;
			m->slot.hva_last = n->slot.hva_last;
			for (t = 0; t < 2; t++)
				ms_itree_replace(&n->slot, &m->slot, t, &root[t]);
			n->in_tree = false;
			m->in_tree = true;
			break;
		default: /* query */
			a = fz_key(&in);
			b = fz_u8(&in);
			for (t = 0; t < 2; t++) {
				query(root, t, a, b & 0x80 ? a - (b & 7) : a + b % 24);
				query(root, t, 0, UINT64_MAX);
			}
			break;
		}
		for (t = 0; t < 2; t++) {
			FZ_CHECK(!ms_itree_validate(&root[t], t, &count));
			FZ_CHECK(count == nin);
		}
	}
	return 0;
}
