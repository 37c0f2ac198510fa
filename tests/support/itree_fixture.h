/* SPDX-License-Identifier: MIT */
/*
 * The interval tree test's fixture: a tree of struct ts_it_node and, beside
 * it, a brute-force list of the nodes in the tree.  The fx_*() operations
 * change both; ts_it_check_tree() recomputes every subtree_last on its own and
 * runs ms_itree_validate(); ts_it_check_query() runs a query through the tree
 * and the list and requires the same nodes, each once, in ascending start
 * order.  Failures end the running Check test.  Single-threaded.
 */
#ifndef TS_ITREE_FIXTURE_H
#define TS_ITREE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interval_tree.h"
#include "ts_rng.h"

struct ts_it_node {
	struct ms_itree_node it;
	bool in_tree;
	size_t bf_index; /* position in the brute-force list while in the tree */
	uint64_t seen;	 /* query generation that last returned this node */
};

/* The brute-force side: the in-tree nodes, in no particular order. */
struct ts_it_bf {
	struct ts_it_node **v;
	size_t n, cap;
};

struct ts_it_fixture {
	struct ms_rb_root_cached root;
	struct ts_it_bf bf;
	struct ts_it_node *pool;
	size_t npool;
	uint64_t gen;
	struct ts_rng rng;
};

void ts_it_init(struct ts_it_fixture *f, size_t npool, uint64_t seed);
void ts_it_free(struct ts_it_fixture *f);
void ts_it_insert(struct ts_it_fixture *f, struct ts_it_node *x, uint64_t start, uint64_t last);
void ts_it_remove(struct ts_it_fixture *f, struct ts_it_node *x);
/* @repl takes @old's interval and place; checks it took the same links. */
void ts_it_replace(struct ts_it_fixture *f, struct ts_it_node *old, struct ts_it_node *repl);
/* A node of the pool that is not in the tree (the pool has a spare). */
struct ts_it_node *ts_it_spare(struct ts_it_fixture *f);

void ts_it_check_tree(const struct ts_it_fixture *f);
/* Runs [qs, ql] through the tree and the list; returns the result count. */
size_t ts_it_check_query(struct ts_it_fixture *f, uint64_t qs, uint64_t ql);

#endif /* TS_ITREE_FIXTURE_H */
