/* SPDX-License-Identifier: MIT */
/*
 * KVM's id hash (kvm_memslots.id_hash, DECLARE_HASHTABLE(id_hash, 7)): the
 * slots of one set by id, in 128 buckets of intrusive doubly linked
 * chains with a one-pointer head (the kernel's hlist shape: a node points
 * at the next node and at the link that points at itself, so unlinking
 * needs neither the bucket nor a walk).  A lookup hashes the id and walks
 * that bucket's chain, comparing ids: what KVM's id_to_memslot() costs,
 * n / 128 nodes on average for n slots.
 *
 * The bucket of an id is the top 7 bits of the 32-bit product of the id
 * and 2^32 / phi rounded and negated (0x61c88647): multiplicative
 * (Fibonacci) hashing, the idea of the kernel's hash_32(), whose constant
 * this is, so a slot lands in the bucket KVM would put it in.  Dense ids,
 * as VMMs allocate them, spread evenly over the buckets.
 *
 * Nodes and keys.  An element embeds one struct ms_id_hnode per set
 * (node[2], as in KVM), so one element can be in both sets' tables and
 * the writer relinking the inactive set's never writes a node that a
 * reader of the published set follows.  The key is the element's own
 * uint16_t id, at a fixed byte offset from the node that the table records
 * for its node index (MS_ID_HASH_OFF()).  An element's id must not change
 * while it is in a table.
 *
 * Add puts a node at the head of its chain (as hash_add()) and does not
 * look for the id first: the caller guarantees the id is not in the table
 * (the engine has looked it up already), which keeps add O(1);
 * ms_id_hash_check() reports two nodes of one id.
 *
 * Concurrency (liburcu style): readers (find, first, next, count, check)
 * only load and follow next links, never pprev, and any number of threads
 * may run them at once on a table that no writer changes: a published
 * set's, inside a read-side section that keeps the set and its elements
 * alive.  Writers (init, add, del, replace) need the object's writer lock
 * and a table no reader can reach: the inactive set's, after the grace
 * period that followed its last publication.  They write only this
 * table's nodes (node[idx] of its elements) and buckets, never the ids.
 */
#ifndef MS_KVM_ID_HASH_H
#define MS_KVM_ID_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define MS_ID_HASH_BITS	   7u
#define MS_ID_HASH_BUCKETS (1u << MS_ID_HASH_BITS)
/* 2^32 / phi = 0x9e3779b9, negated mod 2^32: the kernel's GOLDEN_RATIO_32. */
#define MS_ID_HASH_MUL 0x61c88647u

struct ms_id_hnode {
	struct ms_id_hnode *next;
	/* The link pointing at this node (the previous node's next or the
	 * bucket); NULL when the node is in no table. */
	struct ms_id_hnode **pprev;
};

struct ms_id_hash {
	struct ms_id_hnode *bucket[MS_ID_HASH_BUCKETS];
	ptrdiff_t id_off; /* from a node of this table to its element's id */
	size_t count;
};

/*
 * The byte offset from node[@idx] of the struct ms_id_hnode array @node of
 * @type to the uint16_t member @field: what ms_id_hash_init() takes.
 */
#define MS_ID_HASH_OFF(type, node, idx, field)                                \
	((ptrdiff_t)offsetof(type, field) - (ptrdiff_t)offsetof(type, node) - \
	 (ptrdiff_t)((size_t)(idx) * sizeof(struct ms_id_hnode)))

/* The element of @type whose node[@idx] (array member @node) is @n. */
#define ms_id_hash_entry(n, idx, type, node) ms_container_of((n) - (idx), type, node[0])

/* The bucket of @id, 0..127.  Pure. */
static inline unsigned int ms_id_hash_bucket(uint16_t id)
{
	return (uint32_t)((uint32_t)id * MS_ID_HASH_MUL) >> (32u - MS_ID_HASH_BITS);
}

static inline uint16_t ms_id_hash_id(const struct ms_id_hash *h, const struct ms_id_hnode *n)
{
	return *(const uint16_t *)(const void *)((const char *)n + h->id_off);
}

/* Whether @n is in a table: a zeroed node is not.  Reader. */
static inline bool ms_id_hnode_hashed(const struct ms_id_hnode *n)
{
	return n->pprev != NULL;
}

/* Elements in the table.  Reader. */
static inline size_t ms_id_hash_count(const struct ms_id_hash *h)
{
	return h->count;
}

/* ---- writers (writer lock held, a table no reader can reach) -------------- */

/* An empty table whose nodes find their id at this offset (MS_ID_HASH_OFF). */
void ms_id_hash_init(struct ms_id_hash *h, ptrdiff_t id_off);

/* Links @n, in no table, at the head of its id's chain.  The id must not
 * be in @h.  O(1). */
void ms_id_hash_add(struct ms_id_hash *h, struct ms_id_hnode *n);

/* Unlinks @n, which is in @h, and marks it in no table.  O(1). */
void ms_id_hash_del(struct ms_id_hash *h, struct ms_id_hnode *n);

/*
 * Puts @new, in no table, where @old is in its chain, and marks @old in no
 * table.  Their elements must have the same id: else -EINVAL and nothing
 * changed; 0 otherwise.  O(1).
 */
int ms_id_hash_replace(struct ms_id_hash *h, struct ms_id_hnode *old, struct ms_id_hnode *new);

/* ---- readers (lock-free on a published table, or the writer's own) ------- */

/* The node of @id, or NULL: a walk of one chain. */
struct ms_id_hnode *ms_id_hash_find(const struct ms_id_hash *h, uint16_t id);

/*
 * Every node once, in bucket order and, within a bucket, chain order (the
 * most recently added first): KVM's kvm_for_each_memslot() order, not the
 * gfn order.  NULL past the last.  next is one load inside a chain and a
 * scan of the buckets after it at a chain's end: O(n + 128) for a walk:
 *
 *	for (n = ms_id_hash_first(h); n; n = ms_id_hash_next(h, n))
 */
struct ms_id_hnode *ms_id_hash_first(const struct ms_id_hash *h);
struct ms_id_hnode *ms_id_hash_next(const struct ms_id_hash *h, const struct ms_id_hnode *n);

/*
 * The whole table's consistency: every chain's back links (each node's
 * pprev is the link that points at it), every node in the bucket of its
 * id, no id twice, no cycle, and the count.  NULL when consistent, else a
 * static description of the first fault found.  O(n + 128), 8 KiB of
 * stack.  Reader.
 */
const char *ms_id_hash_check(const struct ms_id_hash *h);

#endif /* MS_KVM_ID_HASH_H */
