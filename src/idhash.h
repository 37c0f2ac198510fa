/* SPDX-License-Identifier: MIT */
/*
 * Intrusive hash table keyed by a u32 id, with chaining, that grows and
 * shrinks with its element count.
 *
 * Buckets are a power of two; the load factor (count / buckets) is kept at
 * most MS_HASH_MAX_LOAD by growth and above MS_HASH_MAX_LOAD / 4 by shrink
 * (down to MS_HASH_MIN_BUCKETS), so memory stays proportional to the count
 * and lookups O(1) from a few to 65536 entries.
 *
 * Adding and deleting never allocate.  Growth is explicit and split in two
 * so that a caller can allocate early and install late:
 *   ms_hash_prepare_resize() allocates the new bucket array off to the
 *   side (the only step that can fail, -ENOMEM, leaving the table as it
 *   was); ms_hash_commit_resize() rehashes into it and frees the old one,
 *   and cannot fail; ms_hash_cancel_resize() throws it away.
 * ms_hash_reserve() does both at once.  ms_hash_add() past the load bound
 * still works (chains get longer); only the O(1) bound is lost.
 *
 * Concurrency: lookups may run concurrently with each other; any change
 * needs the table to have no concurrent reader (libmemslots changes only
 * the inactive set's table).
 */
#ifndef MS_IDHASH_H
#define MS_IDHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

#define MS_HASH_MIN_BUCKETS 4u
#define MS_HASH_MAX_LOAD    1u

struct ms_hnode {
	struct ms_hnode *next;
	uint32_t key;
};

struct ms_hash {
	struct ms_hnode **buckets;
	uint32_t shift;   /* number of buckets is 1 << shift */
	uint32_t count;   /* elements in the table */
	const struct ms_alloc *alloc;
};

/* A bucket array allocated by ms_hash_prepare_resize(), not yet in use. */
struct ms_hash_resize {
	struct ms_hnode **buckets; /* NULL: nothing to do */
	uint32_t shift;
};

/* Sets up an empty table with MS_HASH_MIN_BUCKETS buckets; -ENOMEM. */
int ms_hash_init(struct ms_hash *h, const struct ms_alloc *alloc);
/* Frees the bucket array; the elements belong to the caller. */
void ms_hash_destroy(struct ms_hash *h);

/* The element with @key, or NULL. */
struct ms_hnode *ms_hash_find(const struct ms_hash *h, uint32_t key);
/* Adds @node under @key; keys are unique (the caller checks).  Never fails. */
void ms_hash_add(struct ms_hash *h, struct ms_hnode *node, uint32_t key);
/* Removes @node, which is in the table.  Never fails. */
void ms_hash_del(struct ms_hash *h, struct ms_hnode *node);
/* Puts @new in @old's place, under @old's key.  O(chain).  Never fails. */
void ms_hash_replace(struct ms_hash *h, struct ms_hnode *old, struct ms_hnode *new);

/*
 * If a table holding @count elements would want another bucket count than
 * @h has now, allocates that array into @r (-ENOMEM on failure, @r empty);
 * else leaves @r empty and returns 0.  @grow_only: never plan a shrink.
 */
int ms_hash_prepare_resize(const struct ms_hash *h, size_t count, bool grow_only,
			   struct ms_hash_resize *r);
/*
 * Plans growth for a table that is still in use: makes sure that @plan
 * (empty, or filled by an earlier call for the same @h) holds a bucket
 * array in which @count elements fit the load bound, unless @h's own
 * array already does.  A plan that fits is kept; a smaller one is replaced.
 * -ENOMEM leaves @plan as it was.  Install with ms_hash_commit_resize().
 */
int ms_hash_plan_growth(const struct ms_hash *h, size_t count, struct ms_hash_resize *plan);
/* Moves every element into @r's buckets and frees the old ones. */
void ms_hash_commit_resize(struct ms_hash *h, struct ms_hash_resize *r);
/* Frees @r's buckets, if any. */
void ms_hash_cancel_resize(const struct ms_hash *h, struct ms_hash_resize *r);
/* Grows so that @count elements fit the load bound; -ENOMEM, table unchanged. */
int ms_hash_reserve(struct ms_hash *h, size_t count);
/* Shrinks if the table is much larger than its count; best effort. */
void ms_hash_shrink(struct ms_hash *h);

static inline size_t ms_hash_buckets(const struct ms_hash *h)
{
	return (size_t)1 << h->shift;
}

/* Iteration over every element once: for (n = ms_hash_iter_first(h, &i); n;
 * n = ms_hash_iter_next(h, &i, n)).  No changes during iteration. */
struct ms_hnode *ms_hash_iter_first(const struct ms_hash *h, size_t *bucket);
struct ms_hnode *ms_hash_iter_next(const struct ms_hash *h, size_t *bucket,
				   const struct ms_hnode *node);

/* ---- Additions: inline lookup, iteration, validation ----------------------- */

/*
 * Fibonacci hashing: the high bits of key * 2^64/phi.  Multiplying by an
 * odd constant is a bijection whose top bits depend on every key bit, and
 * sequential ids (what VMMs mostly use) land almost one per bucket.  Its
 * known weakness is keys that share their low bits (ids in power-of-two
 * strides), which end up in few buckets; folding higher bits down first
 * (an invertible step, so distinct ids stay distinct) removes that while
 * leaving ids below 32 untouched.  @shift is in [1, 63].
 */
static inline size_t ms_hash_index(uint32_t key, uint32_t shift)
{
	uint64_t k = key ^ (key >> 5) ^ (key >> 15);

	return (size_t)((k * 0x9e3779b97f4a7c15ull) >> (64 - shift));
}

/*
 * ms_hash_find() for hot paths that want it inlined.  Reads only: safe
 * from any number of threads on a table nobody changes.
 */
static inline struct ms_hnode *ms_hash_find_inline(const struct ms_hash *h, uint32_t key)
{
	struct ms_hnode *n = h->buckets[ms_hash_index(key, h->shift)];

	while (n && n->key != key)
		n = n->next;
	return n;
}

/* Iterates over every element of @h once; @bkt is a size_t, @n a struct ms_hnode *. */
#define ms_hash_for_each(h, bkt, n) \
	for ((n) = ms_hash_iter_first((h), &(bkt)); (n); (n) = ms_hash_iter_next((h), &(bkt), (n)))

/* Bytes taken by the bucket array (the table's only allocation). */
static inline size_t ms_hash_bucket_bytes(const struct ms_hash *h)
{
	return ms_hash_buckets(h) * sizeof(*h->buckets);
}

/* The bucket count a table of @count elements wants: a power of two >= min. */
size_t ms_hash_buckets_for(size_t count);

/*
 * Checks the invariants (each node in the bucket of its key, no duplicate
 * key, count right, shift in range); 0 or -EINVAL.  O(count * chain).
 */
int ms_hash_validate(const struct ms_hash *h);

#endif /* MS_IDHASH_H */
