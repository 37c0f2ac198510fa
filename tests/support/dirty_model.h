/* SPDX-License-Identifier: MIT */
/*
 * The reference model of dirty page logging (the API contract's
 * extension 4), next to the slot model (model.h): per slot id, its
 * bitmap as one byte per page, or none.  As naive as the slot model: the
 * rules transcribed, brute force everywhere, so that it is obviously the
 * contract and not a second engine.
 *
 * A model follows the slot model's changes (ts_dirty_model_follow() after a
 * successful call), and predicts the readers: mark, merge and collect.
 * Failed checks go through ts_fail().
 */
#ifndef TS_DIRTY_MODEL_H
#define TS_DIRTY_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "model.h"

struct ts_dirty_model {
	uint32_t dirty_log; /* the config's */
	unsigned int max_slots;
	uint8_t **bits;	  /* [max_slots]: per id, its bitmap, one byte per page; NULL: none */
	uint64_t *npages; /* [max_slots]: the bitmap's pages */
};

void ts_dirty_model_init(struct ts_dirty_model *d, unsigned int max_slots, uint32_t dirty_log);
void ts_dirty_model_fini(struct ts_dirty_model *d);
/* Forgets every bitmap of @m's slots, the only ones that can have one
 * (before the slot model is cleared): O(count), not O(max_slots). */
void ts_dirty_model_clear(struct ts_dirty_model *d, const struct ts_model *m);

/*
 * Slot @id went from @old to @new (either NULL or absent: created or
 * deleted; both present: moved or its flags changed), as
 * kvm_prepare_memory_region() says: the new slot keeps the old bitmap,
 * gets a new one (clear, or all set with INITIALLY_SET) or none.
 */
void ts_dirty_model_change(struct ts_dirty_model *d, unsigned int id,
			   const struct ts_model_slot *old, const struct ts_model_slot *new);
/* Every change a successful call made, taking the slot model from
 * @before to @after (ids named at most once per call). */
void ts_dirty_model_follow(struct ts_dirty_model *d, const struct ts_model *before,
			   const struct ts_model *after);

/* What memslots_dirty_mark() returns and does on the state @m. */
uint64_t ts_dirty_model_mark(struct ts_dirty_model *d, const struct ts_model *m, uint64_t gfn,
			     uint64_t npages);
/* What memslots_dirty_merge() returns and does. */
int ts_dirty_model_merge(struct ts_dirty_model *d, const struct ts_model *m, uint16_t id,
			 const uint64_t *bitmap, uint64_t first, uint64_t npages);
/* What memslots_dirty_collect() returns and does, ORing into @bitmap. */
int64_t ts_dirty_model_collect(struct ts_dirty_model *d, const struct ts_model *m, uint16_t id,
			       uint64_t *bitmap, uint64_t first, uint64_t npages);

/*
 * Compares the bits of every slot of @ms's active set with the model, and
 * that exactly the model's slots have a bitmap, leaving the bits as they
 * were (each slot's bitmap is collected and merged back: nothing else may
 * mark meanwhile).  Collects and merges of ids that have no bitmap must
 * fail with -EINVAL, of absent ids (a few probed) with -ENOENT.
 */
void ts_dirty_model_check(const struct ts_dirty_model *d, const struct ts_model *m,
			  struct memslots *ms);

#endif /* TS_DIRTY_MODEL_H */
