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
 * Growth follows the set's rule: nothing allocates after a call's stage
 * step.  The inactive table gets its chunk at once (ms_idtab_reserve);
 * the published one gets it put aside in a plan and installed once that
 * set is inactive (ms_idtab_plan, ms_idtab_commit), so a published table
 * never changes.  Empty chunks are freed when the set is inactive
 * (ms_idtab_shrink).
 *
 * Concurrency: ms_idtab_find() is a reader; everything else is the
 * writer's, on an inactive set's table (ms_idtab_plan and
 * ms_idtab_cancel only read the table they are given).
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
};

/* Chunks allocated for a published table, installed once it is inactive. */
struct ms_idtab_plan {
	struct ms_slot **chunk[MS_IDTAB_DIR];
};

void ms_idtab_init(struct ms_idtab *t, const struct ms_alloc *alloc);
void ms_idtab_destroy(struct ms_idtab *t);

/* The slot of @id, or NULL.  Reader. */
static inline struct ms_slot *ms_idtab_find(const struct ms_idtab *t, uint16_t id)
{
	struct ms_slot **chunk = t->dir[id >> MS_IDTAB_CHUNK_SHIFT];

	return chunk ? chunk[id & (MS_IDTAB_CHUNK - 1)] : NULL;
}

/* Makes room for @id in @t (inactive): 0 or -ENOMEM, @t unchanged. */
int ms_idtab_reserve(struct ms_idtab *t, uint16_t id);
/* Puts room for @id in @p unless @t has it: 0 or -ENOMEM, @p unchanged. */
int ms_idtab_plan(const struct ms_idtab *t, uint16_t id, struct ms_idtab_plan *p);
/* Installs @p into @t (now inactive); @p is then empty.  Cannot fail. */
void ms_idtab_commit(struct ms_idtab *t, struct ms_idtab_plan *p);
void ms_idtab_cancel(const struct ms_idtab *t, struct ms_idtab_plan *p);
/* Frees the chunks that hold no slot. */
void ms_idtab_shrink(struct ms_idtab *t);

/* Changes; the id's chunk must be there (reserve).  Never allocate. */
void ms_idtab_set(struct ms_idtab *t, uint16_t id, struct ms_slot *slot);
void ms_idtab_clear(struct ms_idtab *t, uint16_t id);
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

/* Checks the counts against the chunks' contents: NULL or what is wrong. */
const char *ms_idtab_check(const struct ms_idtab *t);

#endif /* MS_IDTABLE_H */
