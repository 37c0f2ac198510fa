// SPDX-License-Identifier: MIT
/*
 * The differential fuzz target's hooks (fuzz_memslots.h): each one checks
 * that the engine calls it in order, for the change the model expects,
 * and records it; the release hook counts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "fuzz_common.h"
#include "fuzz_memslots.h"
#include "model.h"

/* What prepare sets as priv: a function of the incoming priv and the change. */
uintptr_t fz_next_priv(uintptr_t priv, enum memslots_change c)
{
	return priv * 31 + 1 + (uintptr_t)c;
}

struct fz_state F;

/* The model's slot for the change's id as it was before the call. */
static const struct fz_change *fz_expected(uint16_t id)
{
	size_t i;

	for (i = 0; i < F.nr_changes; i++) {
		const struct fz_change *c = &F.changes[i];

		if (c->id == id)
			return c;
	}
	FZ_CHECK(0);
	return NULL;
}

/* Records a hook call, checks hooks come in phase order: prepare, abort or
 * invalidate, commit.  Returns the change the model expects for @id. */
static const struct fz_change *fz_log(int hook, enum memslots_change type, uint16_t id)
{
	FZ_CHECK(hook >= F.phase);
	F.phase = hook;
	FZ_CHECK(F.nr_log < FZ_MAX_LOG);
	F.log[F.nr_log++] = (struct fz_event){hook, type, id};
	return fz_expected(id);
}

static void fz_reenter(void)
{
	struct memslots_region r = {.slot = 0};
	struct memslots_region2 r2 = {.slot = 0};
	struct memslots_attributes a = {.size = 4096, .attributes = MEMSLOTS_ATTR_PRIVATE};
	size_t failed = 7;

	if (!F.reenter)
		return;
	FZ_CHECK(memslots_set_region(F.ms, &r) == -EDEADLK);
	FZ_CHECK(memslots_apply(F.ms, &r, 1, &failed) == -EDEADLK);
	FZ_CHECK(memslots_set_region2(F.ms, &r2) == -EDEADLK);
	FZ_CHECK(memslots_apply2(F.ms, &r2, 1, &failed) == -EDEADLK);
	FZ_CHECK(memslots_set_attributes(F.ms, &a) == -EDEADLK);
}

static void fz_hook_enter(int hook, const struct memslot *old, const struct memslot *new,
			  enum memslots_change type)
{
	const struct memslot *any = new ? new : old;
	const struct fz_change *c;

	FZ_CHECK(any);
	c = fz_log(hook, type, any->id);
	FZ_CHECK(c->type == type);
	FZ_CHECK((old == NULL) == (type == MEMSLOTS_CREATE));
	FZ_CHECK((new == NULL) == (type == MEMSLOTS_DELETE));
	if (old)
		FZ_CHECK(ts_model_slot_is(old, c->id, &c->old, 0));
	fz_reenter();
}

static int fz_prepare(void *opaque, const struct memslot *old, struct memslot *new,
		      enum memslots_change type)
{
	(void)opaque;
	fz_hook_enter(FZ_PREPARE, old, new, type);
	if (new) {
		/* new->priv starts as NULL for CREATE and old->priv otherwise */
		FZ_CHECK((uintptr_t) new->priv == (old ? (uintptr_t)old->priv : 0));
		FZ_CHECK(ts_model_slot_is(new, new->id, &fz_expected(new->id)->new, 0));
		new->priv = (void *)fz_next_priv((uintptr_t) new->priv, type);
	}
	if (++F.prepares == F.fail_prep)
		return F.prep_ret;
	/* Positive returns are not errors: the contract fails only on < 0. */
	return F.prepares & 1 ? 0 : 1;
}

static void fz_abort(void *opaque, const struct memslot *old, struct memslot *new,
		     enum memslots_change type)
{
	(void)opaque;
	fz_hook_enter(FZ_ABORT, old, new, type);
}

static void fz_commit(void *opaque, const struct memslot *old, const struct memslot *new,
		      enum memslots_change type)
{
	const struct memslots_set *set;

	(void)opaque;
	fz_hook_enter(FZ_COMMIT, old, new, type);
	/* The final state is published by now. */
	set = memslots_read_lock(F.ms);
	if (new)
		FZ_CHECK(memslots_find_id(set, new->id) == new);
	else
		FZ_CHECK(memslots_find_id(set, old->id) == NULL);
	memslots_read_unlock(F.ms);
}

static void fz_invalidate(void *opaque, const struct memslot *slot)
{
	const struct fz_change *c = fz_expected(slot->id);
	const struct memslots_set *set;

	(void)opaque;
	FZ_CHECK(c->type == MEMSLOTS_DELETE || c->type == MEMSLOTS_MOVE);
	fz_log(FZ_INVALIDATE, c->type, slot->id);
	FZ_CHECK(ts_model_slot_is(slot, c->id, &c->old, MEMSLOT_INVALID));
	fz_reenter();
	/* Readers now see the old state with this slot INVALID in place. */
	set = memslots_read_lock(F.ms);
	FZ_CHECK(memslots_find_id(set, slot->id) == slot);
	FZ_CHECK(memslots_find_gfn(set, slot->base_gfn) == slot);
	FZ_CHECK(memslots_gfn_to_hva(set, slot->base_gfn) == MEMSLOTS_HVA_BAD);
	memslots_read_unlock(F.ms);
}

static void fz_release(void *opaque, struct memslot *slot)
{
	(void)opaque;
	FZ_CHECK(ts_slot_is(slot, &F.m, slot->id));
	FZ_CHECK(!F.released || slot->base_gfn > F.last_release_gfn);
	F.last_release_gfn = slot->base_gfn;
	F.released++;
}

/* Called with the call's request, before anything is published. */
static int fz_set_attributes(void *opaque, const struct memslots_attributes *a)
{
	(void)opaque;
	FZ_CHECK(F.attr_req && !memcmp(a, F.attr_req, sizeof(*a)));
	F.attr_calls++;
	fz_reenter();
	return F.attr_ret;
}

const struct memslots_ops fz_ops = {
	.prepare = fz_prepare,
	.abort = fz_abort,
	.commit = fz_commit,
	.invalidate = fz_invalidate,
	.release = fz_release,
	.set_attributes = fz_set_attributes,
};

struct memslots_cache fz_cache;
struct ts_rng fz_rng;

/* Everything readers can see of @set against the model. */
void fz_check_state(const struct memslots_set *set)
{
	ts_model_check_set(&F.m, set, &fz_rng, 2);
}
