/* SPDX-License-Identifier: MIT */
/* The change-type tests' fixture (changes_fixture.h). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "changes_fixture.h"
#include "model.h"
#include "ts_check.h"

/*
 * What a single change must look like from the hooks: the models of the
 * state before, in between (DELETE/MOVE: the old state with the slot
 * marked INVALID) and after, checked against what a reader sees from
 * inside each hook.
 */
struct expect {
	struct ts_model before, mid, after;
	struct ts_rng rng;
	uint16_t id;
	int change;
	unsigned int nr_checked[TS_RELEASE + 1];
};

static void check_inside_hook(struct ts_hooks *h, const struct ts_event *ev)
{
	struct expect *x = h->user;
	const struct memslots_set *set;

	/* prepare may have set a priv: the published slot must carry it */
	if (ev->hook == TS_PREPARE && ev->has_new)
		x->after.slot[ev->new.id].priv = ev->new.priv;

	set = memslots_read_lock(h->ms);
	switch (ev->hook) {
	case TS_PREPARE:
		/* before any publication: readers see the old state */
		ts_model_check_set(&x->before, set, &x->rng, 8);
		break;
	case TS_INVALIDATE:
		/* no reader sees the slot valid any more, and nothing new yet */
		ts_model_check_set(&x->mid, set, &x->rng, 8);
		ck_assert_ptr_eq(memslots_find_gfn(set, ev->old.base_gfn),
				 memslots_find_id(set, ev->old.id));
		break;
	case TS_COMMIT:
		/* the new state is published */
		ts_model_check_set(&x->after, set, &x->rng, 8);
		break;
	default:
		break;
	}
	memslots_read_unlock(h->ms);
	x->nr_checked[ev->hook]++;
}

static bool same_fields(const struct memslot *s, const struct ts_model_slot *ms, unsigned int id,
			uint32_t extra_flags)
{
	return s->id == id && s->base_gfn == ms->base_gfn && s->npages == ms->npages &&
	       s->userspace_addr == ms->hva && s->flags == (ms->flags | extra_flags);
}

/*
 * Applies r (which the model must classify as `change`) and checks
 * everything a single change promises.
 */
void ts_changes_do(struct ts_env *e, struct memslots_region r, int change)
{
	struct expect x;
	unsigned int id = r.slot & 0xffff;
	const struct ts_model_slot *old, *new;
	int ts_model_change = TS_MODEL_NOOP;
	unsigned long syncs = ts_rcu.synchronize;
	uint64_t gen0 = ts_generation(e->ms), gen_mid = 0, gen1;
	const struct ts_event *ev;
	size_t k = 0;
	bool two = change == MEMSLOTS_DELETE || change == MEMSLOTS_MOVE;
	/* grace periods are counted only through the counting RCU */
	bool counting = e->cfg.rcu == &ts_counting_rcu;

	ck_assert_int_eq(ts_model_classify(&e->m, &r, &ts_model_change), 0);
	ck_assert_int_eq(ts_model_change, change);
	memset(&x, 0, sizeof(x));
	ts_rng_seed(&x.rng, 42 + id);
	x.id = (uint16_t)id;
	x.change = change;
	ts_model_copy(&x.before, &e->m);
	ts_model_copy(&x.mid, &e->m);
	if (two)
		x.mid.slot[id].flags |= MEMSLOT_INVALID;
	ts_model_copy(&x.after, &e->m);
	if (change != TS_MODEL_NOOP)
		ts_model_commit(&x.after, &r, change);
	old = &x.before.slot[id];
	new = &x.after.slot[id];

	ts_hooks_clear(&e->hooks);
	e->hooks.user = &x;
	e->hooks.on_event = check_inside_hook;
	ck_assert_int_eq(memslots_set_region(e->ms, &r), 0);
	e->hooks.on_event = NULL;
	gen1 = ts_generation(e->ms);

	if (change == TS_MODEL_NOOP) {
		ck_assert_uint_eq(e->hooks.n, 0);
		ck_assert_uint_eq(gen1, gen0);
		if (counting)
			ck_assert_uint_eq(ts_rcu.synchronize, syncs);
		goto out;
	}
	ck_assert_msg(e->hooks.n == 2u + two, "%zu hook calls, expected %d", e->hooks.n, 2 + two);

	/* prepare */
	ev = &e->hooks.ev[k++];
	ck_assert_int_eq(ev->hook, TS_PREPARE);
	ck_assert_int_eq(ev->change, change);
	ck_assert_uint_eq(ev->gen, gen0);
	if (change == MEMSLOTS_CREATE) {
		ck_assert(!ev->has_old);
		ck_assert_ptr_null(ev->priv_in);
	} else {
		ck_assert(ev->has_old);
		ck_assert_msg(same_fields(&ev->old, old, id, 0), "prepare: wrong old slot");
		ck_assert_ptr_eq(ev->old.priv, old->priv);
	}
	if (change == MEMSLOTS_DELETE) {
		ck_assert(!ev->has_new);
	} else {
		ck_assert(ev->has_new);
		ck_assert_msg(same_fields(&ev->new, new, id, 0), "prepare: wrong new slot");
		if (change != MEMSLOTS_CREATE)
			ck_assert_ptr_eq(ev->priv_in, old->priv);
	}

	/* invalidate, between the two publications */
	if (two) {
		ev = &e->hooks.ev[k++];
		ck_assert_int_eq(ev->hook, TS_INVALIDATE);
		ck_assert_msg(same_fields(&ev->old, old, id, MEMSLOT_INVALID),
			      "invalidate: not the old slot marked INVALID (flags %#x)",
			      ev->old.flags);
		ck_assert_ptr_eq(ev->old.priv, old->priv);
		gen_mid = ev->gen;
		ck_assert_uint_gt(gen_mid, gen0);
		ck_assert_uint_eq(x.nr_checked[TS_INVALIDATE], 1);
	}

	/* commit, after the final publication */
	ev = &e->hooks.ev[k++];
	ck_assert_int_eq(ev->hook, TS_COMMIT);
	ck_assert_int_eq(ev->change, change);
	ck_assert_uint_eq(ev->gen, gen1);
	if (change == MEMSLOTS_CREATE) {
		ck_assert(!ev->has_old);
	} else {
		ck_assert(ev->has_old);
		/* whether old is the INVALID copy is not specified */
		ck_assert_msg(ts_slot_same(&ev->old, &e->hooks.ev[0].old, ~MEMSLOT_INVALID),
			      "commit: old differs from prepare's old");
	}
	if (change == MEMSLOTS_DELETE) {
		ck_assert(!ev->has_new);
	} else {
		ck_assert(ev->has_new);
		ck_assert_msg(same_fields(&ev->new, new, id, 0), "commit: wrong new slot");
		ck_assert_ptr_eq(ev->new.priv, e->hooks.ev[0].new.priv);
	}

	ck_assert_uint_gt(gen1, two ? gen_mid : gen0);
	if (counting)
		ck_assert_msg(ts_rcu.synchronize - syncs == 1u + two,
			      "%lu grace periods, expected %d", ts_rcu.synchronize - syncs,
			      1 + two);
	ck_assert_uint_eq(x.nr_checked[TS_PREPARE], 1);
	ck_assert_uint_eq(x.nr_checked[TS_COMMIT], 1);
out:
	ts_model_assign(&e->m, &x.after);
	ts_model_check(&e->m, e->ms, &x.rng, 64);
	ts_model_fini(&x.before);
	ts_model_fini(&x.mid);
	ts_model_fini(&x.after);
}

static void base_state(struct ts_env *e)
{
	ts_changes_do(e, ts_env_region(e, 1, 0, 0x100, 0x10, 0x10000000), MEMSLOTS_CREATE);
	ts_changes_do(e, ts_env_region(e, 2, RO, 0x200, 0x20, 0x20000000), MEMSLOTS_CREATE);
	ts_changes_do(e, ts_env_region(e, 3, LOG, 0x300, 0x8, 0x10000000), MEMSLOTS_CREATE);
}

void ts_changes_env_setup(struct ts_env *e, const struct memslots_rcu *rcu, bool set_priv)
{
	ts_env_init(e, 12, 64, 0, rcu);
	e->hooks.set_priv = set_priv;
	base_state(e);
}
