/* SPDX-License-Identifier: MIT */
/*
 * Consistency checks of the engine's state, for the tests, the fuzzers and
 * the stress program, and for the library itself when built with
 * MEMSLOTS_DEBUG (after every writer call).  Not part of the public API:
 * hidden in the shared library and local in the installed static one;
 * programs of this tree reach them through the memslots_internal library.
 *
 * Each returns 0, or -EINVAL with *@reason (if not NULL) set to a static
 * sentence saying what is wrong.
 */
#ifndef MS_DEBUG_H
#define MS_DEBUG_H

#include <memslots/memslots.h>

/*
 * One set, alone: every slot in the gfn B+tree, the hva tree and the id
 * table with the same keys (each B+tree entry's end the slot's end), the
 * counts and the page total, the B+tree's invariants (key order, separators,
 * fill, uniform depth, leaf chain, entry and node counts), the interval
 * tree's, no overlapping gfn ranges, the id table's count, probe runs and
 * id bound against its contents.  Reads only: may be
 * called on a set from memslots_read_lock(), inside that section, while a
 * writer works.  O(n).
 */
int memslots__check_set(const struct memslots_set *set, const char **reason);

/*
 * Both sets of @ms, between writer calls: each valid, and holding the very
 * same slot objects (the inactive set is the active one's replica); no
 * slot INVALID; generations in publication order.  Takes the writer lock,
 * so it may run while other threads call writers (it waits for them);
 * -EDEADLK from a hook or a read-side section, like a writer.  O(n).
 */
int memslots__check_sets(struct memslots *ms, const char **reason);

#endif /* MS_DEBUG_H */
