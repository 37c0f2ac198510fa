/* SPDX-License-Identifier: MIT */
/*
 * A set's id index: one open-addressing table of slot pointers, a power
 * of two of buckets, keyed by the slot's own id (the key is not stored: a
 * bucket holds the slot, and the slot its id).
 *
 * The bucket of an id is the id itself when the id is below the table's
 * size; above, its high bits are hashed (Fibonacci) into the low ones.  So
 * with ids dense from 0, as VMMs allocate them, every slot sits in its own
 * bucket, as in a flat array indexed by id: a lookup is one load of the
 * table pointer from the set (hot), one of the bucket and the compare of
 * the slot's id, on the line of the slot the caller reads next anyway.
 * Other ids probe linearly, at a load of at most 3/4.
 *
 * Size: the smallest power of two that either keeps the load at most 3/4
 * or, when every id is below it, holds each id in its own bucket (load up
 * to 1 with no collision), and at least 8 buckets.  Ids 0..n-1: n rounded
 * up to a power of two, 8 bytes per slot or a little more; two slots of
 * ids 0 and 32763: 8 buckets, 64 bytes.  (The directory of 256-id chunks
 * this replaces cost 4.5 KiB per set and a 2 KiB chunk per range in use.)
 * The table keeps its
 * size when slots go, until the object is freed.
 *
 * Growth follows the reservation protocol of every structure of a set
 * (set.h): ms_idtab_reserve() before the call publishes anything, all or
 * nothing (-ENOMEM), counts one more insert to come and, when the table
 * could not take them all, allocates the larger table into @spare, where
 * readers never look, so that it may be called on a published table too.
 * ms_idtab_insert() and ms_idtab_remove() then never fail and never
 * allocate: an insert the table cannot take moves every slot to @spare
 * (the table is inactive: no reader can be in it) and keeps the old table
 * in @old.  ms_idtab_settle() at the end of the call frees what is aside;
 * for a failed call, which publishes nothing and has undone its changes,
 * it first moves the slots back into @old, so that a failed call leaves
 * the memory it found.
 *
 * Concurrency: ms_idtab_find() is a reader; ms_idtab_reserve() is the
 * writer's on any table (it touches only what is aside); the others are
 * the writer's on an inactive set's table, and ms_idtab_settle() on one
 * whose changes are published or undone (see there).
 */
#ifndef MS_IDTABLE_H
#define MS_IDTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "compiler.h"
#include "slot.h"

#define MS_IDTAB_MIN_SIZE 8u /* buckets of a table that holds a slot */

struct ms_idtab {
	struct ms_slot **table; /* mask + 1 buckets; never NULL (an empty table is static) */
	uint32_t mask;
	uint32_t max_id;    /* no slot has a larger id (an upper bound) */
	/*
	 * No slot sits further than this many buckets past its id's home
	 * (an upper bound; 0 while every slot is at home, as with ids dense
	 * from 0): a remove's backward shift looks no further than that past
	 * the hole, instead of along the whole run of full buckets, which ids
	 * 0..n-1 make n long.
	 */
	uint32_t max_disp;
	size_t count;	    /* slots in the table */
	uint32_t low_full;  /* every id below it has a slot: where a free-id search starts */
	/*
	 * >= low_full; every id strictly between the two has a slot too.  A
	 * remove below low_full keeps, here, how far the ids above it were
	 * known to be full, so that re-inserting the id (a MOVE: out of the
	 * table and back) jumps there rather than scanning up one id at a
	 * time, which took O(n) per move of a set of ids 0..n-1.
	 */
	uint32_t full_to;
	uint32_t reserved;  /* inserts the call has put aside for */
	uint32_t reserved_max_id; /* the largest id of those */
	uint32_t spare_mask;
	struct ms_slot **spare; /* the larger table those inserts may need, or NULL */
	struct ms_slot **old;	/* the table an insert of this call moved away from, or NULL */
	uint32_t old_mask;
	const struct ms_alloc *alloc;
};

void ms_idtab_init(struct ms_idtab *t, const struct ms_alloc *alloc);
void ms_idtab_destroy(struct ms_idtab *t);

/* The home bucket of @id in a table of @mask + 1 buckets. */
static MS_ALWAYS_INLINE uint32_t ms_idtab_home(uint32_t id, uint32_t mask)
{
	uint32_t high = id & ~mask;

	/* 0 for ids below the size: they index the table directly. */
	return (id ^ (uint32_t)(((uint64_t)high * 0x9e3779b97f4a7c15ull) >> 40)) & mask;
}

/* Where the probe for @id begins: its home bucket, with no hash for an id
 * below the size (ms_idtab_home() would return the id itself). */
static MS_ALWAYS_INLINE uint32_t ms_idtab_start(const struct ms_idtab *t, uint16_t id)
{
	return ms_unlikely(id > t->mask) ? ms_idtab_home(id, t->mask) : id;
}

/* The slot of @id, or NULL.  Reader. */
static inline struct ms_slot *ms_idtab_find(const struct ms_idtab *t, uint16_t id)
{
	struct ms_slot *const *tab = t->table;
	uint32_t mask = t->mask, i;

	/*
	 * Above the bound no slot is; below it, with every id below the size
	 * (a table with no empty bucket is one), an absent id's bucket is
	 * empty: so the probe always ends.
	 */
	if (ms_unlikely(id > t->max_id))
		return NULL;
	/* Below the size, the id is its bucket: no hash on the hot path. */
	i = ms_idtab_start(t, id);
	for (;;) {
		struct ms_slot *s = tab[i];

		if (ms_likely(!s || s->pub.id == id))
			return s;
		i = (i + 1) & mask;
	}
}

/* Starts loading the bucket where the probe for @id begins.  Any id. */
static inline void ms_idtab_prefetch(const struct ms_idtab *t, uint16_t id)
{
	if (id <= t->max_id)
		ms_prefetch(&t->table[ms_idtab_start(t, id)], 0);
}

/*
 * Counts one more insert, of @id, to come in this call, and puts aside
 * the larger table they may need, unless the table can take them all:
 * 0 or -ENOMEM, @t unchanged.  Any table (writer).
 */
int ms_idtab_reserve(struct ms_idtab *t, uint16_t id);
/*
 * Ends the call: frees what is aside (the larger table reserved and not
 * used, the table the slots were moved away from) and forgets the
 * reserved inserts.  With @failed, the call has undone its changes and
 * published nothing: a table it grew is given up for the one it found.
 * Writer, on any table: a published one has nothing aside but a spare
 * (it was not grown: inserts only go into an inactive table), and only
 * what is aside changes.
 */
void ms_idtab_settle(struct ms_idtab *t, int failed);

/* Changes (inactive table); never fail, never allocate: the insert of an
 * id absent from @t was reserved (ms_idtab_reserve). */
void ms_idtab_insert(struct ms_idtab *t, uint16_t id, struct ms_slot *slot);
void ms_idtab_remove(struct ms_idtab *t, uint16_t id);
/* @id's slot becomes @slot (of the same id); @id is present. */
void ms_idtab_replace(struct ms_idtab *t, uint16_t id, struct ms_slot *slot);

/*
 * The lowest id in [@first, @last] (@last < 65536) with no slot, or -1.
 * Reader of @t, for the writer's id allocator: it starts at the lowest id
 * that may be free (low_full), so creating slots with the lowest free id
 * one after the other costs O(1) each.
 */
int ms_idtab_lowest_free(const struct ms_idtab *t, unsigned int first, unsigned int last);

/* Checks the count, that every slot is found from its home bucket, the id
 * bound and low_full: NULL or what is wrong.  Reader. */
const char *ms_idtab_check(const struct ms_idtab *t);

#endif /* MS_IDTABLE_H */
