// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the red-black tree alone: inserts (duplicate keys go
 * right), erases and replaces on a pool of nodes, decoded from the input,
 * against a sorted array of node pointers.  After every operation,
 * ms_rb_validate_cached() must pass with the right count, and walks both
 * ways (first/next, last/prev) must give exactly the model's sequence.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "rbtree.h"
#include "ts_tnode.h"

#define POOL 64u

static struct ts_tnode pool[POOL];
static struct ts_tnode *model[POOL]; /* in tree order */
static unsigned int nmodel;

static void tree_insert(struct ms_rb_root_cached *root, struct ts_tnode *n)
{
	unsigned int i;

	ts_tnode_insert(root, n);
	/* the model: after the last equal key */
	for (i = nmodel; i > 0 && model[i - 1]->key > n->key; i--)
		model[i] = model[i - 1];
	model[i] = n;
	nmodel++;
}

static unsigned int ts_model_index(const struct ts_tnode *n)
{
	unsigned int i;

	for (i = 0; i < nmodel; i++)
		if (model[i] == n)
			return i;
	FZ_CHECK(0);
}

static void check(const struct ms_rb_root_cached *root)
{
	const struct ms_rb_node *rb;
	size_t count = 0;
	unsigned int i;

	FZ_CHECK(ms_rb_validate_cached(root, ts_tnode_cmp, &count) == 0);
	FZ_CHECK(count == nmodel);
	for (i = 0, rb = ms_rb_first_cached(root); rb; rb = ms_rb_next(rb), i++)
		FZ_CHECK(i < nmodel && ts_tnode_of(rb) == model[i]);
	FZ_CHECK(i == nmodel);
	FZ_CHECK(ms_rb_first(&root->root) == ms_rb_first_cached(root));
	for (rb = ms_rb_last(&root->root); rb; rb = ms_rb_prev(rb))
		FZ_CHECK(i > 0 && ts_tnode_of(rb) == model[--i]);
	FZ_CHECK(i == 0);
	FZ_CHECK(ms_rb_empty(&root->root) == (nmodel == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_rb_root_cached root = MS_RB_ROOT_CACHED;
	struct fz_in in = {data, size};
	unsigned int i, ops = 0;

	memset(pool, 0, sizeof(pool));
	nmodel = 0;
	for (i = 0; i < POOL; i++)
		ms_rb_clear_node(&pool[i].rb);
	while (in.n && ops++ < 512) {
		uint8_t op = fz_u8(&in);
		struct ts_tnode *n = &pool[fz_u8(&in) % POOL], *m;

		switch (op % 4) {
		case 0:
		case 1: /* insert */
			if (n->in_tree)
				break;
			n->key = fz_key(&in);
			tree_insert(&root, n);
			break;
		case 2: /* erase */
			if (!n->in_tree)
				break;
			i = ts_model_index(n);
			ms_rb_erase_cached(&n->rb, &root);
			ms_rb_clear_node(&n->rb);
			n->in_tree = false;
			memmove(&model[i], &model[i + 1], (nmodel - i - 1) * sizeof(model[0]));
			nmodel--;
			break;
		default: /* replace with a free node of the same key */
			m = &pool[fz_u8(&in) % POOL];
			if (!n->in_tree || m->in_tree)
				break;
			FZ_CHECK(ms_rb_node_empty(&m->rb));
			m->key = n->key;
			ms_rb_replace_node_cached(&n->rb, &m->rb, &root);
			model[ts_model_index(n)] = m;
			n->in_tree = false;
			m->in_tree = true;
			ms_rb_clear_node(&n->rb);
			break;
		}
		check(&root);
	}
	return 0;
}
