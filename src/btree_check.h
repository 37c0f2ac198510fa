/* SPDX-License-Identifier: MIT */
/*
 * A checker of the gfn B+tree's invariants (btree.h), written apart from
 * the tree's own code, for the unit tests, the fuzz target and the set
 * validator.  Each function returns NULL when all holds, else a
 * description of the first violation found, in a per-thread buffer that
 * the thread's next check overwrites.  Reader: may check a published tree
 * (ms_btree_check_shape only; the pool is the writer's).
 */
#ifndef MS_BTREE_CHECK_H
#define MS_BTREE_CHECK_H

#include <stddef.h>

#include "btree.h"

/*
 * The whole structure: key order within and across nodes, keys < end and
 * entries disjoint, exact separators (keys[i] is the smallest key under
 * child[i + 1], every key under child[i] is smaller), fill bounds (the root
 * excepted), uniform depth equal to the height, unused keys UINT64_MAX and
 * unused slots cleared, the leaf chain equal to the in-order leaves and
 * ending in NULL, node alignment, the entry, node and pool counts.
 */
const char *ms_btree_check(const struct ms_btree *t);
/* As ms_btree_check(), the pool left out: for a published tree. */
const char *ms_btree_check_shape(const struct ms_btree *t);

/* As ms_btree_check(), and the entries, walked with the cursor, are
 * exactly @model (sorted by key).  For the tests: btree_check_model.c, in
 * memslots_testonly only. */
const char *ms_btree_check_model(const struct ms_btree *t, const struct ms_btree_entry *model,
				 size_t n);

#endif /* MS_BTREE_CHECK_H */
