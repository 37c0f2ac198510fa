/* SPDX-License-Identifier: MIT */
/*
 * The contract tests' fixture (see contract_fixture.h): a test RCU that
 * snapshots the active set at each grace period, hooks that log what they
 * see, and an instance built with both and a counting allocator.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <memslots/memslots.h>

#include "contract_fixture.h"
#include "ts_check.h"

/* ---- a test RCU: no readers to wait for; snapshots at each grace period --- */

struct memslots *t_ms; /* what the test RCU snapshots */
int t_syncs;
struct snap t_snaps[MAX_SNAP];

void t_nop(void)
{
}

static void take_snapshot(struct snap *sn)
{
	const struct memslots_set *set = memslots_read_lock(t_ms);
	const struct memslot *s;
	size_t i = 0;

	sn->generation = memslots_generation(set);
	sn->count = memslots_count(set);
	for (s = memslots_first(set); s && i < SNAP_SLOTS; s = memslots_next(set, s))
		sn->slots[i++] = *s;
	memslots_read_unlock(t_ms);
}

static void t_sync(void)
{
	if (t_ms && t_syncs < MAX_SNAP)
		take_snapshot(&t_snaps[t_syncs]);
	t_syncs++;
}

static const struct memslots_rcu t_rcu = {
	.register_thread = NULL,
	.unregister_thread = NULL,
	.read_lock = t_nop,
	.read_unlock = t_nop,
	.synchronize = t_sync,
};

/* ---- hooks that log what they see ---------------------------------------- */

struct hook_call t_log[64];
int t_nlog;
int t_fail_prepare_at = -1; /* fail the prepare call with this number */
int t_nprepare;
bool t_reenter; /* prepare calls set_region (expects -EDEADLK) */
int t_reenter_ret;

static void log_call(enum hook h, const struct memslot *old, const struct memslot *new,
		     enum memslots_change c)
{
	struct hook_call *l;

	ck_assert_int_lt(t_nlog, 64);
	l = &t_log[t_nlog++];
	memset(l, 0, sizeof(*l));
	l->hook = h;
	l->change = c;
	l->old_id = old ? old->id : -1;
	l->new_id = new ? new->id : -1;
	if (new)
		l->priv = new->priv;
}

static int h_prepare(void *opaque, const struct memslot *old, struct memslot *new,
		     enum memslots_change c)
{
	(void)opaque;
	log_call(H_PREPARE, old, new, c);
	if (c == MEMSLOTS_CREATE)
		ck_assert_ptr_null(new->priv);
	else if (new)
		ck_assert_ptr_eq(new->priv, old->priv);
	if (new)
		new->priv = (void *)(uintptr_t)(0x1000 + new->id);
	if (t_reenter) {
		struct memslots_region r = {99, 0, 0x100000000ull, PG, 0x100000000ull};

		t_reenter_ret = memslots_set_region(t_ms, &r);
	}
	if (t_nprepare++ == t_fail_prepare_at)
		return -ENOSPC;
	return 0;
}

static void h_abort(void *opaque, const struct memslot *old, struct memslot *new,
		    enum memslots_change c)
{
	(void)opaque;
	log_call(H_ABORT, old, new, c);
}

static void h_commit(void *opaque, const struct memslot *old, const struct memslot *new,
		     enum memslots_change c)
{
	(void)opaque;
	log_call(H_COMMIT, old, new, c);
	if (new)
		ck_assert_ptr_eq(new->priv, (void *)(uintptr_t)(0x1000 + new->id));
}

static void h_invalidate(void *opaque, const struct memslot *slot)
{
	const struct memslots_set *set;

	(void)opaque;
	log_call(H_INVALIDATE, slot, NULL, 0);
	t_log[t_nlog - 1].flags = slot->flags;
	set = memslots_read_lock(t_ms);
	t_log[t_nlog - 1].hva = memslots_gfn_to_hva(set, slot->base_gfn);
	/* The published copy: find_gfn still returns it, flagged. */
	ck_assert_ptr_eq(memslots_find_gfn(set, slot->base_gfn), slot);
	memslots_read_unlock(t_ms);
}

static void h_release(void *opaque, struct memslot *slot)
{
	(void)opaque;
	log_call(H_RELEASE, slot, NULL, 0);
	t_log[t_nlog - 1].flags = (uint32_t)slot->base_gfn;
}

static const struct memslots_ops t_ops = {
	.prepare = h_prepare,
	.abort = h_abort,
	.commit = h_commit,
	.invalidate = h_invalidate,
	.release = h_release,
};

struct ts_alloc_counter t_alloc;

struct memslots *mk(unsigned int max_slots, uint64_t hva_limit, bool hooks)
{
	struct memslots_config cfg = {
		.max_slots = max_slots,
		.ops = hooks ? &t_ops : NULL,
		.rcu = &t_rcu,
		.alloc = ts_alloc,
		.free = ts_free,
		.alloc_opaque = &t_alloc,
		.hva_limit = hva_limit,
	};

	memset(&t_alloc, 0, sizeof(t_alloc));
	t_nlog = 0;
	t_syncs = 0;
	t_nprepare = 0;
	t_fail_prepare_at = -1;
	t_reenter = false;
	t_ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(t_ms);
	return t_ms;
}

void done(struct memslots *ms)
{
	memslots_free(ms);
	t_ms = NULL;
	ck_assert_uint_eq(t_alloc.live, 0);
}
