/* SPDX-License-Identifier: MIT */
/*
 * The interval tree test's fixture: a tree of struct inode and, beside
 * it, a brute-force list of the nodes in the tree.  The fx_*() operations
 * change both; check_tree() recomputes every subtree_last on its own and
 * runs ms_itree_validate(); check_query() runs a query through the tree
 * and the list and requires the same nodes, each once, in ascending start
 * order.  Failures end the running Check test.  Single-threaded.
 */
#ifndef MS_TESTS_ITREE_FIXTURE_H
#define MS_TESTS_ITREE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interval_tree.h"
#include "ts_rng.h"

struct inode {
	struct ms_itree_node it;
	bool in_tree;
	size_t bf_index; /* position in the brute-force list while in the tree */
	uint64_t seen;	 /* query generation that last returned this node */
};

/* The brute-force side: the in-tree nodes, in no particular order. */
struct bf {
	struct inode **v;
	size_t n, cap;
};

struct fixture {
	struct ms_rb_root_cached root;
	struct bf bf;
	struct inode *pool;
	size_t npool;
	uint64_t gen;
	struct tu_rng rng;
};

void fx_init(struct fixture *f, size_t npool, uint64_t seed);
void fx_free(struct fixture *f);
void fx_insert(struct fixture *f, struct inode *x, uint64_t start, uint64_t last);
void fx_remove(struct fixture *f, struct inode *x);
/* @repl takes @old's interval and place; checks it took the same links. */
void fx_replace(struct fixture *f, struct inode *old, struct inode *repl);
/* A node of the pool that is not in the tree (the pool has a spare). */
struct inode *fx_spare(struct fixture *f);

void check_tree(const struct fixture *f);
/* Runs [qs, ql] through the tree and the list; returns the result count. */
size_t check_query(struct fixture *f, uint64_t qs, uint64_t ql);

#endif /* MS_TESTS_ITREE_FIXTURE_H */
