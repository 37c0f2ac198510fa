/* SPDX-License-Identifier: MIT */
/*
 * The engine's consistency checks (validate.c), and the one convention
 * every validator of the library follows, these and each structure's own
 * (ms_rb_validate, ms_itree_validate, ms_gmem_validate, ms_attrmap_validate,
 * ms_btree_check, ms_idtab_check, ms_gfn_tree_check, ms_id_hash_check,
 * ms_kvm_index_check):
 *
 *   const char *check(...)   NULL when every invariant holds, else a
 *                            static sentence of the library's saying which
 *                            one broke (never freed, never formatted).
 *
 * The first fault found is the one reported: a check passes on the
 * sentence of the part it checked, or, where the part's sentence would not
 * say which structure it is about, says so in one of its own.  Where a test
 * must tell one fault from another, the sentence is a named object
 * (rbtree.h's ms_rb_bad_*) compared by address.  Checks only read: each
 * may run on a published set, inside a read-side section, while a writer
 * works on the other one.
 *
 * Only the debug entry points (debug.h), which also refuse to run from a
 * hook, follow the public functions' convention instead: 0 or a negative
 * errno, the sentence through an out-parameter.
 */
#ifndef MS_VALIDATE_H
#define MS_VALIDATE_H

struct memslots;
struct memslots_set;

/*
 * Every invariant of @set: each slot present in its index (the gfn B+tree
 * and the id table, or KVM's tree and hash) and the hva tree with matching
 * keys, the counts and the page total, each structure's own invariants, no
 * two gfn ranges overlapping, last_used being a slot of the set, and the
 * attribute map's invariants (sorted, disjoint, maximal runs).  O(n).
 */
const char *ms_set_validate(const struct memslots_set *set);

/*
 * Between calls: @a and @b (an object's two sets) hold the same slot
 * objects in the same gfn order, none INVALID, through their index
 * whatever it is.  O(n).
 */
const char *ms_set_check_replica(const struct memslots_set *a, const struct memslots_set *b);

/*
 * Both sets of @ms between calls: each valid on its own (ms_set_validate),
 * one the other's replica (ms_set_check_replica), the inactive one as it
 * must be between calls, the binding index holding exactly the guest_memfd
 * slots' ranges, the two attribute maps equal and using no bit outside
 * ms->supported_attributes.  Caller holds ms->lock.  O(n).
 */
const char *ms_check_sets_locked(const struct memslots *ms);

#endif /* MS_VALIDATE_H */
