// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the augmented interval tree alone: inserts, removes and
 * replaces of closed intervals [start, last] (small values so they overlap
 * and repeat, and values at the top of the u64 range), and overlap
 * queries, against brute force over the pool.  After every operation
 * ms_itree_validate() must pass (red-black rules, order by start,
 * subtree_last, cached leftmost) with the right count; every query must
 * return each intersecting interval exactly once, in start order.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "interval_tree.h"

#define POOL 64u

struct inode {
	struct ms_itree_node it;
	bool in_tree;
};

static struct inode pool[POOL];
static unsigned int nin;

static struct inode *inode_of(const struct ms_itree_node *n)
{
	return ms_container_of(n, struct inode, it);
}

static void query(const struct ms_rb_root_cached *root, uint64_t qs, uint64_t ql)
{
	struct fz_walk walk = {0};
	const struct ms_itree_node *n;
	uint64_t want = 0;
	unsigned int i;

	for (i = 0; i < POOL; i++)
		if (pool[i].in_tree && qs <= ql && pool[i].it.start <= ql && pool[i].it.last >= qs)
			want |= 1ull << i;
	for (n = ms_itree_iter_first(root, qs, ql); n; n = ms_itree_iter_next(n, qs, ql)) {
		i = (unsigned int)(inode_of(n) - pool);
		FZ_CHECK(i < POOL && pool[i].in_tree);
		fz_walk_meet(&walk, i, n->start);
	}
	FZ_CHECK(walk.met == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_rb_root_cached root = MS_RB_ROOT_CACHED;
	struct fz_in in = {data, size};
	unsigned int ops = 0;
	size_t count;

	memset(pool, 0, sizeof(pool));
	nin = 0;
	while (in.n && ops++ < 512) {
		uint8_t op = fz_u8(&in);
		struct inode *n = &pool[fz_u8(&in) % POOL], *m;
		uint64_t a, b;

		switch (op % 5) {
		case 0:
		case 1: /* insert */
			if (n->in_tree)
				break;
			a = fz_key(&in);
			b = fz_u8(&in) % 16;
			n->it.start = a;
			n->it.last = a + b < a ? UINT64_MAX : a + b;
			ms_itree_insert(&n->it, &root);
			n->in_tree = true;
			nin++;
			break;
		case 2: /* remove */
			if (!n->in_tree)
				break;
			ms_itree_remove(&n->it, &root);
			n->in_tree = false;
			nin--;
			break;
		case 3: /* replace with a free node of the same interval */
			m = &pool[fz_u8(&in) % POOL];
			if (!n->in_tree || m->in_tree)
				break;
			m->it.start = n->it.start;
			m->it.last = n->it.last;
			ms_itree_replace(&n->it, &m->it, &root);
			n->in_tree = false;
			m->in_tree = true;
			break;
		default: /* query */
			a = fz_key(&in);
			b = fz_u8(&in);
			query(&root, a, b & 0x80 ? a - (b & 7) : a + b % 24);
			query(&root, 0, UINT64_MAX);
			break;
		}
		FZ_CHECK(!ms_itree_validate(&root, &count));
		FZ_CHECK(count == nin);
	}
	return 0;
}
