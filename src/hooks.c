/* SPDX-License-Identifier: MIT */
/*
 * The hooks' invocations (hooks.h): each one between ms_hooks_enter() and
 * ms_hooks_leave(), the guard the writer entry points check.
 */
#include <errno.h>
#include <stdbool.h>

#include "engine.h"
#include "hooks.h"
#include "set.h"
#include "slot.h"

_Thread_local const struct memslots *ms_tls_in_hooks;

/* Marks this thread as running @ms's hooks; returns what to restore, so a
 * hook of one object may use another object's writer calls. */
static const struct memslots *ms_hooks_enter(const struct memslots *ms)
{
	const struct memslots *prev = ms_tls_in_hooks;

	ms_tls_in_hooks = ms;
	return prev;
}

static void ms_hooks_leave(const struct memslots *prev)
{
	ms_tls_in_hooks = prev;
}

static struct memslot *ms_pub(struct ms_slot *slot)
{
	return slot ? &slot->pub : NULL;
}

/* Whether a prepare hook changed more of @new than the priv it may set. */
static bool ms_prepare_overstepped(const struct memslot *before, const struct memslot *after)
{
	return before->base_gfn != after->base_gfn || before->npages != after->npages ||
	       before->userspace_addr != after->userspace_addr || before->flags != after->flags ||
	       before->id != after->id || before->guest_memfd_offset != after->guest_memfd_offset ||
	       before->guest_memfd != after->guest_memfd;
}

int ms_hook_prepare(struct memslots *ms, struct ms_change *c, bool *prepared)
{
	const struct memslots *prev;
	struct memslot before;
	int err;

	*prepared = true;
	if (!ms->ops.prepare)
		return 0;
	if (c->new)
		before = c->new->pub;
	prev = ms_hooks_enter(ms);
	err = ms->ops.prepare(ms->opaque, ms_pub(c->old), ms_pub(c->new), c->type);
	ms_hooks_leave(prev);
	/* Only a negative errno fails the call, as the contract says. */
	if (err < 0) {
		*prepared = false;
		return err;
	}
	if (c->new && ms_prepare_overstepped(&before, &c->new->pub)) {
		before.priv = c->new->pub.priv;
		c->new->pub = before;
		return -EINVAL;
	}
	return 0;
}

void ms_hook_abort(struct memslots *ms, struct ms_change *c)
{
	const struct memslots *prev;

	if (!ms->ops.abort)
		return;
	prev = ms_hooks_enter(ms);
	ms->ops.abort(ms->opaque, ms_pub(c->old), ms_pub(c->new), c->type);
	ms_hooks_leave(prev);
}

void ms_hook_commit(struct memslots *ms, struct ms_change *c)
{
	const struct memslots *prev;

	if (!ms->ops.commit)
		return;
	prev = ms_hooks_enter(ms);
	ms->ops.commit(ms->opaque, ms_pub(c->old), ms_pub(c->new), c->type);
	ms_hooks_leave(prev);
}

void ms_hook_invalidate(struct memslots *ms, struct ms_change *c)
{
	const struct memslots *prev;

	if (!ms->ops.invalidate)
		return;
	prev = ms_hooks_enter(ms);
	ms->ops.invalidate(ms->opaque, &c->invalid->pub);
	ms_hooks_leave(prev);
}

int ms_hook_set_attributes(struct memslots *ms, const struct memslots_attributes *a)
{
	const struct memslots *prev;
	int err;

	if (!ms->ops.set_attributes)
		return 0;
	prev = ms_hooks_enter(ms);
	err = ms->ops.set_attributes(ms->opaque, a);
	ms_hooks_leave(prev);
	/* Only a negative errno fails the call, as for prepare. */
	return err < 0 ? err : 0;
}

void ms_hook_release_all(struct memslots *ms, const struct memslots_set *set)
{
	const struct memslots *prev;
	struct ms_slot *slot;

	if (!ms->ops.release)
		return;
	prev = ms_hooks_enter(ms);
	for (slot = ms_set_first(set); slot; slot = ms_set_next(set, slot))
		ms->ops.release(ms->opaque, &slot->pub);
	ms_hooks_leave(prev);
}
