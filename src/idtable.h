/* SPDX-License-Identifier: MIT */
/*
 * A set's id index: slot ids are 16 bits, so a two-level table of slot
 * pointers indexes them directly.  The directory (256 pointers, in the set
 * itself) points at chunks of 256 slot pointers, allocated for the id
 * ranges in use.  A lookup is two loads, the first from the set the reader
 * has just read (its line is hot), the second the slot pointer itself;
 * there are no chains to walk, and replacing a slot is one store.
 *
 * Memory: 2 KiB of directory and 512 bytes of per-chunk counts per set,
 * and a 2 KiB chunk per 256-id range in use; with ids allocated densely
 * from 0, as VMMs do, that is 8 bytes per slot per set.  (The id hash this
 * replaces cost about as much and needed a chain walk.)  A flat table of
 * 65536 pointers would save one load and cost 512 KiB per set.
 *
 * Growth follows the reservation protocol of every structure of a set:
 * ms_idtab_reserve() before the call publishes anything, all or nothing
 * (-ENOMEM), puts @id's chunk aside, in spare[], where readers never look,
 * so that it may be called on a published table too; ms_idtab_insert()
 * and ms_idtab_remove() then never fail and never allocate: an insert
 * installs its chunk from spare[] when the directory lacks it, a remove
 * that empties a chunk puts it back there (the table is inactive: no
 * reader can be in it); ms_idtab_settle() at the end of the call frees
 * what spare[] holds.  A chunk of directory entry d is only ever dir[d]
 * or spare[d], so an undone change finds the chunk its redo gave up.
 *
 * Concurrency: ms_idtab_find() is a reader; ms_idtab_reserve() and
 * ms_idtab_settle() are the writer's on any table (they touch only
 * spare[]); the others are the writer's on an inactive set's table.
 */
#ifndef MS_IDTABLE_H
#define MS_IDTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

struct ms_slot;

#define MS_IDTAB_CHUNK_SHIFT 8u
#define MS_IDTAB_CHUNK	     (1u << MS_IDTAB_CHUNK_SHIFT) /* ids per chunk */
#define MS_IDTAB_DIR	     (65536u >> MS_IDTAB_CHUNK_SHIFT)

struct ms_idtab {
	struct ms_slot **dir[MS_IDTAB_DIR];
	uint16_t used[MS_IDTAB_DIR]; /* slots in each chunk (at most 256) */
	size_t count;
	const struct ms_alloc *alloc;
	/* Chunks put aside by reserve and remove; spare[d] only when !dir[d]. */
	struct ms_slot **spare[MS_IDTAB_DIR];
};

void ms_idtab_init(struct ms_idtab *t, const struct ms_alloc *alloc);
void ms_idtab_destroy(struct ms_idtab *t);

/* The slot of @id, or NULL.  Reader. */
static inline struct ms_slot *ms_idtab_find(const struct ms_idtab *t, uint16_t id)
{
	struct ms_slot **chunk = t->dir[id >> MS_IDTAB_CHUNK_SHIFT];

	return chunk ? chunk[id & (MS_IDTAB_CHUNK - 1)] : NULL;
}

/*
 * Puts aside the chunk an insert of @id will need, unless @t has it or
 * has it aside: 0 or -ENOMEM, @t unchanged.  Any table (writer).
 */
int ms_idtab_reserve(struct ms_idtab *t, uint16_t id);
/* Frees the chunks put aside (reserved and not used, or emptied).  Any table (writer). */
void ms_idtab_settle(struct ms_idtab *t);

/* Changes (inactive table); never fail, never allocate: @id's chunk is in
 * the table or put aside (ms_idtab_reserve). */
void ms_idtab_insert(struct ms_idtab *t, uint16_t id, struct ms_slot *slot);
void ms_idtab_remove(struct ms_idtab *t, uint16_t id);
/* @id's slot becomes @slot; @id is present. */
static inline void ms_idtab_replace(struct ms_idtab *t, uint16_t id, struct ms_slot *slot)
{
	t->dir[id >> MS_IDTAB_CHUNK_SHIFT][id & (MS_IDTAB_CHUNK - 1)] = slot;
}

/*
 * The lowest id in [@first, @last] (@last < 65536) with no slot, or -1.
 * Reader of @t, for the writer's id allocator: a missing chunk is 256 free
 * ids and a full one (its count) none, so only the chunks at the range's
 * two ends, and the one holding the answer, are scanned: O(d + 256) for
 * the d chunks of the range.
 */
int ms_idtab_lowest_free(const struct ms_idtab *t, unsigned int first, unsigned int last);

/* Checks the counts against the chunks' contents and that nothing is put
 * aside beside a chunk in use: NULL or what is wrong.  Reader. */
const char *ms_idtab_check(const struct ms_idtab *t);

#endif /* MS_IDTABLE_H */
