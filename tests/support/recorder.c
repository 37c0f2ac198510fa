/* SPDX-License-Identifier: MIT */
/* The hook recorder and the counting RCU: see model.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

struct ts_rcu_stats ts_rcu;

static void ts_rcu_read_lock(void)
{
	ts_rcu.read_lock++;
	ts_rcu.depth++;
}

static void ts_rcu_read_unlock(void)
{
	TS_CMP(ts_rcu.depth, >, 0);
	ts_rcu.read_unlock++;
	ts_rcu.depth--;
}

static void ts_rcu_synchronize(void)
{
	TS_CHECK(ts_rcu.depth == 0, "synchronize from inside a read-side section");
	ts_rcu.synchronize++;
}

static void ts_rcu_register(void)
{
	ts_rcu.registered++;
}

static void ts_rcu_unregister(void)
{
	ts_rcu.registered--;
}

const struct memslots_rcu ts_counting_rcu = {
	.register_thread = ts_rcu_register,
	.unregister_thread = ts_rcu_unregister,
	.read_lock = ts_rcu_read_lock,
	.read_unlock = ts_rcu_read_unlock,
	.synchronize = ts_rcu_synchronize,
};

void ts_hooks_init(struct ts_hooks *h)
{
	memset(h, 0, sizeof(*h));
	h->fail_id = -1;
	h->fail_err = -EIO;
	h->next_token = 0x1000;
}

/* Forgets the events; fail_prepare_at counts prepare calls from here. */
void ts_hooks_clear(struct ts_hooks *h)
{
	h->n = 0;
	h->prepare_calls = 0;
}

void ts_hooks_fini(struct ts_hooks *h)
{
	free(h->ev);
	h->ev = NULL;
	h->n = h->cap = 0;
}

size_t ts_hooks_count(const struct ts_hooks *h, enum ts_hook hook)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n; i++)
		n += h->ev[i].hook == hook;
	return n;
}

static struct ts_event *ts_record(struct ts_hooks *h, enum ts_hook hook, int change,
				  const struct memslot *old, const struct memslot *new)
{
	struct ts_event *e;

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->ev = realloc(h->ev, h->cap * sizeof(*h->ev));
		TS_PTR_CMP(h->ev, !=, NULL);
	}
	e = &h->ev[h->n++];
	memset(e, 0, sizeof(*e));
	e->hook = hook;
	e->change = change;
	e->has_old = old != NULL;
	e->has_new = new != NULL;
	if (old)
		e->old = *old;
	if (new)
		e->new = *new;
	e->old_ptr = old;
	e->new_ptr = new;
	e->gen = 0;
	if (h->ms) {
		const struct memslots_set *set = memslots_read_lock(h->ms);

		e->gen = memslots_generation(set);
		memslots_read_unlock(h->ms);
	}
	return e;
}

static int ts_hook_prepare(void *opaque, const struct memslot *old, struct memslot *new,
			   enum memslots_change change)
{
	struct ts_hooks *h = opaque;
	struct ts_event *e = ts_record(h, TS_PREPARE, (int)change, old, new);
	size_t idx = h->n - 1;
	int id = new ? new->id : old->id;
	int ret = 0;

	h->prepare_calls++;
	e->priv_in = new ? new->priv : NULL;
	if ((h->fail_prepare_at && h->prepare_calls == h->fail_prepare_at) || id == h->fail_id)
		ret = h->fail_err;
	if (!ret && new && h->set_priv) {
		new->priv = (void *)h->next_token;
		h->next_token += 0x10;
	}
	e->ret = ret;
	if (new)
		e->new = *new; /* what prepare leaves behind, priv included */
	if (h->on_event)
		h->on_event(h, &h->ev[idx]);
	return ret;
}

static void ts_hook_abort(void *opaque, const struct memslot *old, struct memslot *new,
			  enum memslots_change change)
{
	struct ts_hooks *h = opaque;

	ts_record(h, TS_ABORT, (int)change, old, new);
	if (h->on_event)
		h->on_event(h, &h->ev[h->n - 1]);
}

static void ts_hook_commit(void *opaque, const struct memslot *old, const struct memslot *new,
			   enum memslots_change change)
{
	struct ts_hooks *h = opaque;

	ts_record(h, TS_COMMIT, (int)change, old, new);
	if (h->on_event)
		h->on_event(h, &h->ev[h->n - 1]);
}

static void ts_hook_invalidate(void *opaque, const struct memslot *slot)
{
	struct ts_hooks *h = opaque;

	ts_record(h, TS_INVALIDATE, -1, slot, NULL);
	if (h->on_event)
		h->on_event(h, &h->ev[h->n - 1]);
}

static void ts_hook_release(void *opaque, struct memslot *slot)
{
	struct ts_hooks *h = opaque;
	struct memslots *ms = h->ms;

	/* memslots_free() is tearing ms down: no reading from here. */
	h->ms = NULL;
	ts_record(h, TS_RELEASE, -1, slot, NULL);
	h->ms = ms;
	if (h->on_event)
		h->on_event(h, &h->ev[h->n - 1]);
}

static int ts_hook_set_attributes(void *opaque, const struct memslots_attributes *a)
{
	struct ts_hooks *h = opaque;
	struct ts_event *e = ts_record(h, TS_SET_ATTRIBUTES, -1, NULL, NULL);

	e->attr = *a;
	e->ret = h->fail_attributes;
	if (h->on_event)
		h->on_event(h, e);
	return h->fail_attributes;
}

const struct memslots_ops ts_recording_ops = {
	.prepare = ts_hook_prepare,
	.abort = ts_hook_abort,
	.commit = ts_hook_commit,
	.invalidate = ts_hook_invalidate,
	.release = ts_hook_release,
	.set_attributes = ts_hook_set_attributes,
};

bool ts_same_event_args(const struct ts_event *a, const struct ts_event *b)
{
	if (a->change != b->change || a->has_old != b->has_old || a->has_new != b->has_new)
		return false;
	if (a->has_old && !ts_slot_same(&a->old, &b->old, ~0u))
		return false;
	return !a->has_new || ts_slot_same(&a->new, &b->new, ~0u);
}

/*
 * The hook log of a failed call: prepares (the last one failing when
 * prepare_failed), then aborts of the successful prepares in reverse order
 * with the same arguments, and nothing else.  Returns the number of
 * prepare calls.
 */
size_t ts_check_rolled_back(const struct ts_hooks *h, bool prepare_failed)
{
	const struct ts_event **p = calloc(h->n + 1, sizeof(*p));
	size_t np = 0, na = 0, last_prepare = 0;

	TS_PTR_CMP(p, !=, NULL);
	for (size_t i = 0; i < h->n; i++) {
		const struct ts_event *ev = &h->ev[i];

		switch (ev->hook) {
		case TS_PREPARE:
			TS_CHECK(na == 0, "prepare after an abort");
			p[np++] = ev;
			last_prepare = i;
			break;
		case TS_ABORT:
			na++;
			break;
		default:
			ts_fail(__FILE__, __LINE__, "hook %d called by a failing call", ev->hook);
		}
	}
	if (prepare_failed) {
		TS_CHECK(np && p[np - 1]->ret, "the failing prepare was not called last");
		np--;
	}
	for (size_t i = 0; i < np; i++)
		TS_CHECK(!p[i]->ret, "prepare %zu failed but was not the last", i);
	TS_CHECK(na == np, "%zu aborts for %zu successful prepares", na, np);
	for (size_t i = 0, k = np; i < h->n; i++) {
		const struct ts_event *ev = &h->ev[i];

		if (ev->hook != TS_ABORT)
			continue;
		TS_CMP(i, >, last_prepare);
		k--;
		TS_CHECK(ts_same_event_args(ev, p[k]),
			 "abort #%zu: not prepare #%zu's arguments in reverse order", np - k - 1,
			 k);
	}
	free(p);
	return np + prepare_failed;
}
