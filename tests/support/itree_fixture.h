/* SPDX-License-Identifier: MIT */
/*
 * The interval tree test's fixture: a pool of struct ts_it_node, each a slot
 * object, in two trees at once, as a slot is in both sets' hva trees (tree i
 * through the slots' hva_node[i], the template's two instances), and beside
 * them a brute-force list of the nodes in the trees.  The ts_it_*() operations
 * change all three; ts_it_check_tree() recomputes every subtree_last of both
 * trees on its own and runs ms_itree_validate() on each; ts_it_check_query()
 * runs a query through each tree and the list and requires the same nodes,
 * each once, in ascending start order.  Failures end the running Check
 * test.  Single-threaded.
 */
#ifndef TS_ITREE_FIXTURE_H
#define TS_ITREE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interval_tree.h"
#include "slot.h"
#include "ts_rng.h"

struct ts_it_node {
	struct ms_slot slot; /* the interval: [pub.userspace_addr, hva_last] */
	bool in_tree;
	size_t bf_index; /* position in the brute-force list while in the trees */
	uint64_t seen;	 /* query generation that last returned this node */
};

/* The brute-force side: the in-tree nodes, in no particular order. */
struct ts_it_bf {
	struct ts_it_node **v;
	size_t n, cap;
};

struct ts_it_fixture {
	struct ms_rb_root_cached root[2]; /* root[i]: through hva_node[i] */
	struct ts_it_bf bf;
	struct ts_it_node *pool;
	size_t npool;
	uint64_t gen;
	struct ts_rng rng;
};

static inline uint64_t ts_it_start(const struct ts_it_node *x)
{
	return x->slot.pub.userspace_addr;
}

static inline uint64_t ts_it_last(const struct ts_it_node *x)
{
	return x->slot.hva_last;
}

static inline struct ts_it_node *ts_it_node_of(const struct ms_slot *s)
{
	return ms_container_of(s, struct ts_it_node, slot);
}

/* The node at the top of tree @idx (not empty). */
static inline struct ts_it_node *ts_it_top(const struct ts_it_fixture *f, unsigned int idx)
{
	const struct ms_itree_node *n =
		ms_rb_entry(f->root[idx].root.node, struct ms_itree_node, rb);

	return ts_it_node_of(ms_slot_from_hva(n, idx));
}

void ts_it_init(struct ts_it_fixture *f, size_t npool, uint64_t seed);
void ts_it_free(struct ts_it_fixture *f);
void ts_it_insert(struct ts_it_fixture *f, struct ts_it_node *x, uint64_t start, uint64_t last);
void ts_it_remove(struct ts_it_fixture *f, struct ts_it_node *x);
/* @repl takes @old's interval and place; checks it took the same links. */
void ts_it_replace(struct ts_it_fixture *f, struct ts_it_node *old, struct ts_it_node *repl);
/* A node of the pool that is not in the trees (the pool has a spare). */
struct ts_it_node *ts_it_spare(struct ts_it_fixture *f);

void ts_it_check_tree(const struct ts_it_fixture *f);
/* Runs [qs, ql] through both trees and the list; returns the result count. */
size_t ts_it_check_query(struct ts_it_fixture *f, uint64_t qs, uint64_t ql);

#endif /* TS_ITREE_FIXTURE_H */
