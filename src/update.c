/* SPDX-License-Identifier: MIT */
/*
 * The body of a slot call (memslots_set_region*, memslots_apply*,
 * memslots_create_region*), between ms_call_begin() and ms_call_end()
 * (call.c), under ms->lock, in the steps of KVM's kvm_set_memslot()
 * (docs/design.md maps each function here to its KVM counterpart):
 *
 *  1. stage (__kvm_set_memory_region's checks, kvm_prepare_memory_region):
 *     every request is checked against the contract's rules in order (the
 *     checks themselves are in request.c),
 *     against the state as the earlier requests of the call leave it.  To
 *     get that evolving state for free, each valid change is applied at
 *     once to the inactive set, which no reader can see.  The slot copies
 *     the call will publish are reserved here (ms_change_reserve()), with
 *     their dirty bitmaps and guest_memfd bindings, and so are the id
 *     table chunks and the gfn tree nodes of both sets: nothing after this
 *     step allocates.  Each change gets its prepare hook as soon as it is
 *     validated, so a call fails at the first request that would fail one
 *     by one; a failure aborts the prepared changes in reverse order and
 *     undoes the inactive set.
 *  2. invalidate (kvm_invalidate_memslot), only with deletes or moves:
 *     readers must first see the old state with those slots replaced by
 *     copies flagged INVALID.  The inactive set is put back to the old
 *     state, the INVALID copies swapped in, the set activated; then the
 *     invalidate hooks run.
 *  3. activate (kvm_activate_memslot): the inactive set is brought to the
 *     final state (it already is without an invalidate step), published,
 *     and the same change made to the other set once readers have left it.
 *  4. commit (kvm_commit_memory_region): commit hooks in request order,
 *     then the replaced slots are retired to the slot cache.
 *
 * Unlike KVM, prepare runs before the INVALID copies are published, so
 * that a failed call publishes nothing at all.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dirty.h"
#include "engine.h"
#include "hooks.h"
#include "request.h"
#include "slot.h"

/*
 * What each kind of change needs, in one place; every step below is the
 * same for all kinds, written with ms_replace_memslot().
 */
struct ms_change_kind {
	bool has_new;	  /* publishes a new slot object (all but DELETE) */
	bool invalidates; /* readers first see the old slot INVALID (DELETE, MOVE) */
	bool adds_id;	  /* one more id in the sets: their id tables must hold it */
	bool inserts;	  /* a gfn tree entry at a new base (CREATE, MOVE) */
};

static const struct ms_change_kind ms_change_kinds[] = {
	/* kvm_create_memslot */
	[MEMSLOTS_CREATE] = {.has_new = true, .adds_id = true, .inserts = true},
	/* kvm_delete_memslot */
	[MEMSLOTS_DELETE] = {.invalidates = true},
	/* kvm_move_memslot */
	[MEMSLOTS_MOVE] = {.has_new = true, .invalidates = true, .inserts = true},
	/* kvm_update_flags_memslot */
	[MEMSLOTS_FLAGS_ONLY] = {.has_new = true},
};

/* ---- changing one (inactive) set ---------------------------------------------------- */

/*
 * KVM's kvm_replace_memslot(): @new takes @old's place in @set.  No @old
 * inserts, no @new removes; the same base_gfn is an O(1) swap in place.
 */
static void ms_replace_memslot(struct memslots_set *set, struct ms_slot *old, struct ms_slot *new)
{
	if (!old) {
		ms_set_insert(set, new);
	} else if (!new) {
		ms_set_remove(set, old);
	} else if (old->pub.base_gfn == new->pub.base_gfn) {
		ms_set_replace(set, old, new);
	} else {
		ms_set_remove(set, old);
		ms_set_insert(set, new);
	}
}

/* A step of one change, made on one set; the call makes it for each change. */
typedef void ms_step_fn(struct memslots_set *set, const struct ms_change *c);

/* Old state to final state. */
static void ms_change_apply(struct memslots_set *set, const struct ms_change *c)
{
	ms_replace_memslot(set, c->old, c->new);
}

/* Final state to old state: the exact inverse of ms_change_apply(). */
static void ms_change_undo(struct memslots_set *set, const struct ms_change *c)
{
	ms_replace_memslot(set, c->new, c->old);
}

/* Old state to the intermediate one: the old slot's INVALID copy in its place. */
static void ms_change_invalidate(struct memslots_set *set, const struct ms_change *c)
{
	if (c->invalid)
		ms_replace_memslot(set, c->old, c->invalid);
}

/* Intermediate state to the final one. */
static void ms_change_finish(struct memslots_set *set, const struct ms_change *c)
{
	ms_replace_memslot(set, c->invalid ? c->invalid : c->old, c->new);
}

/* How many changes ahead ms_call_replay() prefetches the slots. */
#define MS_REPLAY_AHEAD 8

/* Starts loading the lines of @s that a step on @set reads and writes. */
static void ms_prefetch_slot(const struct memslots_set *set, const struct ms_slot *s)
{
	if (s) {
		ms_prefetch(&s->pub, 0);
		ms_prefetch(&s->hva_node[set->idx], 1);
	}
}

/*
 * The hva tree neighbours that replacing @s's node on @set rewrites (its
 * parent's child link, its children's parent links); @s's own line was
 * prefetched MS_REPLAY_AHEAD / 2 changes earlier.
 */
static void ms_prefetch_links(const struct memslots_set *set, const struct ms_slot *s)
{
	const struct ms_rb_node *rb;

	if (!s)
		return;
	rb = &s->hva_node[set->idx].rb;
	ms_prefetch(ms_rb_parent(rb), 1);
	ms_prefetch(rb->left, 1);
	ms_prefetch(rb->right, 1);
}

/*
 * Each change's slots are objects of their own, far apart once the slot
 * cache has recycled them, and so are their hva tree neighbours: a batch
 * over every slot (dirty logging switched on for all) would wait for each
 * in turn.  So the slots of the change MS_REPLAY_AHEAD places on are
 * prefetched, and the tree neighbours of the one half as far, whose slot
 * is in cache by then.  (Prefetching NULL is harmless.)
 */
static void ms_call_replay(struct ms_call *call, struct memslots_set *set, ms_step_fn *step)
{
	size_t i;

	for (i = 0; i < call->nr_changes; i++) {
		if (i + MS_REPLAY_AHEAD < call->nr_changes) {
			const struct ms_change *ahead = &call->changes[i + MS_REPLAY_AHEAD];

			ms_set_prefetch_id(set, ahead->id);
			ms_prefetch_slot(set, ahead->old);
			ms_prefetch_slot(set, ahead->new);
			ms_prefetch_slot(set, ahead->invalid);
		}
		if (i + MS_REPLAY_AHEAD / 2 < call->nr_changes)
			ms_prefetch_links(set, call->changes[i + MS_REPLAY_AHEAD / 2].old);
		step(set, &call->changes[i]);
	}
}

static void ms_call_undo_all(struct ms_call *call)
{
	size_t i = call->nr_changes;

	while (i--)
		ms_change_undo(call->inactive, &call->changes[i]);
}

/* ---- stage: check, classify, reserve, prepare, apply to the inactive set ------------- */

static struct ms_slot *ms_slot_new(struct memslots *ms, const struct ms_req *req, void *priv)
{
	struct ms_slot *s = ms_slot_reserve(&ms->slot_cache, &ms->alloc);

	if (!s)
		return NULL;
	s->pub.base_gfn = req->base_gfn;
	s->pub.npages = req->npages;
	s->pub.userspace_addr = req->hva;
	s->pub.flags = req->flags;
	s->pub.id = req->id;
	s->pub.priv = priv;
	s->pub.guest_memfd_offset = req->gmem_offset;
	s->pub.guest_memfd = req->gmem_fd;
	s->hva_last = req->hva + (req->npages << ms->page_shift) - 1;
	return s;
}

/*
 * The INVALID copy of @old; it shares @old's dirty bitmap, if any, but
 * not its binding, which stays @old's to free (and is out of the index by
 * the time the copy is published).
 */
static struct ms_slot *ms_slot_dup_invalid(struct memslots *ms, const struct ms_slot *old)
{
	struct ms_slot *s = ms_slot_reserve(&ms->slot_cache, &ms->alloc);

	if (!s)
		return NULL;
	s->pub = old->pub;
	s->pub.flags |= MEMSLOT_INVALID;
	s->hva_last = old->hva_last;
	if (ms_slot_dirty(old))
		s->dirty = old->dirty;
	return s;
}

/* ---- the dirty bitmap: made, kept or dropped (kvm_prepare_memory_region) ------------- */

/* Whether @c's new slot got a bitmap of its own, which a rollback frees. */
static bool ms_change_made_dirty(const struct ms_change *c)
{
	return c->new && ms_slot_dirty(c->new) &&
	       (!c->old || ms_slot_dirty(c->new) != ms_slot_dirty(c->old));
}

/* Whether @c drops its old slot's bitmap, which its commit frees. */
static bool ms_change_drops_dirty(const struct ms_change *c)
{
	return c->old && ms_slot_dirty(c->old) &&
	       (!c->new || ms_slot_dirty(c->new) != ms_slot_dirty(c->old));
}

/*
 * KVM's kvm_prepare_memory_region() for the bitmap of @c's new slot: none
 * without LOG_DIRTY_PAGES (or when the object keeps none); the old slot's,
 * bits and all, when it had one; else a new one, clear or, with
 * INITIALLY_SET, all dirty.  A DELETE has no new slot: its old bitmap is
 * dropped at commit.  0 or -ENOMEM.
 */
static int ms_change_reserve_dirty(struct memslots *ms, struct ms_change *c)
{
	struct ms_slot *s = c->new;

	if (!s || !ms->dirty_log || !(s->pub.flags & MEMSLOT_LOG_DIRTY_PAGES))
		return 0;
	if (c->old && ms_slot_dirty(c->old)) {
		s->dirty = c->old->dirty;
		return 0;
	}
	s->dirty = ms_dirty_alloc(&ms->alloc, s->pub.npages,
				  ms->dirty_log & MEMSLOTS_DIRTY_INITIALLY_SET);
	return s->dirty ? 0 : -ENOMEM;
}

/* ---- the guest_memfd binding: made by a CREATE, dropped by a DELETE ------------------ */

/*
 * The binding of @c's new slot when it is a GUEST_MEMFD slot, which only a
 * CREATE makes (such a slot is only ever created or deleted): memory of
 * its own, put aside here with the call's other reservations so that
 * staging it into the index, and everything after, allocates nothing.
 * 0 or -ENOMEM.
 */
static int ms_change_reserve_gmem(struct memslots *ms, const struct ms_req *req,
				  struct ms_change *c)
{
	struct ms_gmem_binding *b;

	if (c->type != MEMSLOTS_CREATE || !(req->flags & MS_GMEM))
		return 0;
	b = ms_calloc(&ms->alloc, 1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	ms_gmem_binding_set(b, req->gmem_fd, req->gmem_offset, req->npages << ms->page_shift);
	c->new->gmem = b;
	return 0;
}

/* Gives back @c's copies, and the bitmap or binding its new slot made, unpublished. */
static void ms_change_retire_copies(struct memslots *ms, struct ms_change *c)
{
	if (ms_change_made_dirty(c))
		ms_dirty_free(&ms->alloc, c->new->dirty);
	/* A new slot's binding is always its own: only a CREATE makes one. */
	if (c->new)
		ms_free(&ms->alloc, ms_slot_gmem(c->new));
	ms_slot_retire(&ms->slot_cache, c->new);
	ms_slot_retire(&ms->slot_cache, c->invalid);
	c->new = c->invalid = NULL;
}

/*
 * A change is about to add a slot of @id: both sets put its id table
 * chunk aside, the published one too (its insert comes once it is
 * inactive again).
 */
static int ms_call_reserve_id(struct ms_call *call, uint16_t id)
{
	int err = ms_set_reserve_id(call->inactive, id);

	if (err)
		return err;
	return ms_set_reserve_id(call->active, id);
}

/*
 * Puts aside the gfn tree nodes both sets need once @kind's change joins
 * the call: each set's inserts are counted from now to the end of the call.
 *
 * The inactive set: this change's own insert, then at worst, for every
 * change so far, either the rollback's re-insert of a deleted or moved
 * slot, or the invalidate step's (the same re-inserts) followed by the
 * final inserts of the creates and moves.  The published set is changed
 * once, after publication: the creates' and moves' inserts.  Flags-only
 * changes replace in place and need nothing.
 */
static int ms_call_reserve_nodes(struct ms_call *call, const struct ms_change_kind *kind)
{
	size_t inserting = call->nr_inserting + kind->inserts;
	size_t invalidating = call->nr_invalidating + kind->invalidates;
	int err;

	if (!kind->inserts && !kind->invalidates)
		return 0;
	err = ms_set_reserve_inserts(call->inactive, kind->inserts + invalidating + inserting);
	if (err || !kind->inserts)
		return err;
	return ms_set_reserve_inserts(call->active, inserting);
}

/*
 * The one place a slot call reserves (set.h's protocol): what publishing
 * @c will need, id table chunks, gfn tree nodes, slot copies and the new
 * slot's dirty bitmap or guest_memfd binding, all put aside before
 * anything is published (the memory half of KVM's
 * kvm_prepare_memory_region()).  0 or -ENOMEM; what was put aside before
 * a failure is given back when the call settles, the copies, bitmap and
 * binding of @c at once.
 */
static int ms_change_reserve(struct ms_call *call, const struct ms_req *req, struct ms_change *c)
{
	const struct ms_change_kind *kind = &ms_change_kinds[c->type];
	struct memslots *ms = call->ms;
	int err;

	if (kind->adds_id) {
		err = ms_call_reserve_id(call, req->id);
		if (err)
			return err;
	}
	err = ms_call_reserve_nodes(call, kind);
	if (err)
		return err;
	if (kind->has_new) {
		/* new->priv starts as NULL for CREATE and as old->priv otherwise. */
		c->new = ms_slot_new(ms, req, c->old ? c->old->pub.priv : NULL);
		if (!c->new)
			return -ENOMEM;
	}
	err = ms_change_reserve_gmem(ms, req, c);
	if (!err)
		err = ms_change_reserve_dirty(ms, c);
	if (!err && kind->invalidates) {
		c->invalid = ms_slot_dup_invalid(ms, c->old);
		if (!c->invalid)
			err = -ENOMEM;
	}
	if (err)
		ms_change_retire_copies(ms, c);
	return err;
}

/*
 * The binding index follows the staged state: a GUEST_MEMFD slot's range
 * is bound from its CREATE and free again from its DELETE (the only
 * changes such a slot can have), so a later request of the same call sees
 * what one-by-one application would (KVM's kvm_gmem_bind() and, once the
 * slot is gone, kvm_gmem_unbind()).  Never allocates: the CREATE's binding
 * was reserved with its slot, and the DELETE's stays allocated until the
 * commit, so that a rollback can put it back.
 */
static void ms_gmem_stage(struct memslots *ms, const struct ms_change *c)
{
	if (c->type == MEMSLOTS_CREATE && (c->new->pub.flags & MS_GMEM))
		ms_gmem_insert(&ms->gmem, c->new->gmem);
	else if (c->type == MEMSLOTS_DELETE && (c->old->pub.flags & MS_GMEM))
		ms_gmem_remove(&ms->gmem, c->old->gmem);
}

/* The exact inverse of ms_gmem_stage(), for a call that fails. */
static void ms_gmem_unstage(struct memslots *ms, const struct ms_change *c)
{
	if (c->type == MEMSLOTS_CREATE && (c->new->pub.flags & MS_GMEM))
		ms_gmem_remove(&ms->gmem, c->new->gmem);
	else if (c->type == MEMSLOTS_DELETE && (c->old->pub.flags & MS_GMEM))
		ms_gmem_insert(&ms->gmem, c->old->gmem);
}

/* KVM's __kvm_set_memory_region() up to kvm_set_memslot(), for one request. */
static int ms_call_validate_one(struct ms_call *call, const struct ms_requests *reqs, size_t index)
{
	struct ms_change *c = &call->changes[call->nr_changes];
	struct ms_req req;
	int err;

	err = ms_request_classify(call, reqs, index, &req, c);
	if (err)
		return err < 0 ? err : 0;
	err = ms_change_reserve(call, &req, c);
	if (err)
		return err;
	c->index = index;
	c->id = req.id;
	ms_change_apply(call->inactive, c);
	ms_gmem_stage(call->ms, c);
	if (c->invalid)
		call->nr_invalidating++;
	if (ms_change_kinds[c->type].inserts)
		call->nr_inserting++;
	call->nr_changes++;
	return 0;
}

/* Throws away everything staging did: the inactive set and the binding
 * index are as they were. */
static void ms_call_rollback(struct ms_call *call)
{
	size_t i = call->nr_changes;

	while (i--)
		ms_gmem_unstage(call->ms, &call->changes[i]);
	ms_call_undo_all(call);
	for (i = 0; i < call->nr_changes; i++)
		ms_change_retire_copies(call->ms, &call->changes[i]);
	call->nr_changes = 0;
}

/* How many requests ahead ms_call_stage() prefetches the slot each names
 * (and twice as far ahead, the id table bucket that finds it). */
#define MS_STAGE_AHEAD 8

/*
 * Validates each request and runs its prepare hook before going on to the
 * next, so that the call fails exactly where applying the requests one by
 * one would: at the first request that is invalid or whose prepare fails.
 * On failure the prepared changes are aborted, newest first, and the
 * inactive set is rolled back.
 */
static int ms_call_stage(struct ms_call *call, const struct ms_requests *reqs, size_t n)
{
	size_t i, nr_prepared = 0;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		if (i + 2 * MS_STAGE_AHEAD < n)
			ms_request_prefetch_id(call, reqs, i + 2 * MS_STAGE_AHEAD);
		if (i + MS_STAGE_AHEAD < n)
			ms_request_prefetch(call, reqs, i + MS_STAGE_AHEAD);
		err = ms_call_validate_one(call, reqs, i);
		if (!err && call->nr_changes > nr_prepared) {
			bool prepared;

			err = ms_hook_prepare(call->ms, &call->changes[nr_prepared], &prepared);
			if (prepared)
				nr_prepared++;
		}
	}
	if (!err)
		return 0;
	call->failed_index = i - 1;
	while (nr_prepared--)
		ms_hook_abort(call->ms, &call->changes[nr_prepared]);
	ms_call_rollback(call);
	return err;
}

/* ---- publication -------------------------------------------------------------------- */

/*
 * KVM's kvm_activate_memslot(): publishes the inactive set, whose state is
 * ready, then makes the same @step on the other set once readers have
 * left it, so both hold the same slots again.
 */
static void ms_activate(struct ms_call *call, ms_step_fn *step)
{
	ms_call_publish(call);
	ms_call_replay(call, call->inactive, step);
}

/*
 * KVM's kvm_invalidate_memslot(), for all the deletes and moves of the
 * call at once: readers see the old state with those slots replaced by
 * INVALID copies; then the invalidate hooks flush what was derived from
 * them.
 */
static void ms_call_invalidate(struct ms_call *call)
{
	size_t i;

	ms_call_undo_all(call);
	ms_call_replay(call, call->inactive, ms_change_invalidate);
	ms_activate(call, ms_change_invalidate);
	for (i = 0; i < call->nr_changes; i++)
		if (call->changes[i].invalid)
			ms_hook_invalidate(call->ms, &call->changes[i]);
}

/* Publishes the final state: KVM's kvm_create_memslot(), kvm_delete_memslot(),
 * kvm_move_memslot() and kvm_update_flags_memslot() for every change. */
static void ms_call_activate(struct ms_call *call)
{
	if (!call->nr_invalidating) {
		/* The inactive set holds the final state already. */
		ms_activate(call, ms_change_apply);
		return;
	}
	ms_call_replay(call, call->inactive, ms_change_finish);
	ms_activate(call, ms_change_finish);
}

/* KVM's kvm_commit_memory_region(): commit hooks, then the replaced slots
 * go (to the slot cache, for the next call's copies), and the dirty
 * bitmaps they dropped and the bindings of the deleted slots are freed
 * (KVM's kvm_free_memslot()). */
static void ms_call_commit(struct ms_call *call)
{
	struct memslots *ms = call->ms;
	size_t i;

	for (i = 0; i < call->nr_changes; i++)
		ms_hook_commit(ms, &call->changes[i]);
	for (i = 0; i < call->nr_changes; i++) {
		struct ms_change *c = &call->changes[i];

		/* Retiring writes the old slot's first word; it has long left
		 * the cache in a batch over many slots. */
		if (i + MS_REPLAY_AHEAD < call->nr_changes)
			ms_prefetch(call->changes[i + MS_REPLAY_AHEAD].old, 1);
		/* No reader can reach the old slot or its INVALID copy now. */
		if (ms_change_drops_dirty(c))
			ms_dirty_free(&ms->alloc, c->old->dirty);
		/* Out of the index since the DELETE was staged. */
		if (c->type == MEMSLOTS_DELETE)
			ms_free(&ms->alloc, ms_slot_gmem(c->old));
		ms_slot_retire(&ms->slot_cache, c->invalid);
		if (c->type != MEMSLOTS_CREATE)
			ms_slot_retire(&ms->slot_cache, c->old);
	}
}

/* ---- the call --------------------------------------------------------------------------- */

/* KVM's kvm_set_memslot(): validates, prepares, publishes and commits. */
int ms_set_memslots(struct ms_call *call, const struct ms_requests *reqs, size_t n)
{
	int err;

	err = ms_call_alloc_changes(call, n);
	if (err)
		return err;
	err = ms_call_stage(call, reqs, n);
	if (err || !call->nr_changes)
		return err;
	if (call->nr_invalidating)
		ms_call_invalidate(call);
	ms_call_activate(call);
	ms_call_commit(call);
	return 0;
}
