/* SPDX-License-Identifier: MIT */
/*
 * An independent checker of the gfn B+tree's invariants (src/btree.h), for
 * the unit tests and the fuzz target.  It uses no test framework: each
 * function returns NULL when all holds, else a description of the first
 * violation found.
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
const char *btree_check(const struct ms_btree *t);

/* As btree_check(), and the entries, walked with the cursor, are exactly
 * @model (sorted by key). */
const char *btree_check_model(const struct ms_btree *t, const struct ms_btree_entry *model,
			      size_t n);

#endif /* MS_BTREE_CHECK_H */
