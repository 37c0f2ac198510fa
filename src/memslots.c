/* SPDX-License-Identifier: MIT */
/*
 * The memslot engine: two sets, one published, changes made on the other.
 *
 * A writer call goes through these steps, all under ms->lock:
 *
 *  1. stage: every request is checked against the contract's rules in
 *     order, against the state as the earlier requests of the call leave it.
 *     To get that evolving state for free, each valid change is applied at
 *     once to the inactive set, which no reader can see.  The slot copies
 *     the call will publish are allocated here, and so is the id hash
 *     growth of both sets: nothing after this step allocates.  Each change
 *     gets its prepare hook as soon as it is validated, so a call fails
 *     at the first request that would fail one by one; a failure aborts
 *     the prepared changes in reverse order.
 *  2. publish.  Without deletes or moves, the inactive set already holds
 *     the final state: publish it, wait a grace period, replay the changes
 *     on the other set.  With deletes or moves, readers must first see the
 *     old state with those slots replaced by copies flagged INVALID: the
 *     inactive set is rolled back to the old state, the INVALID copies
 *     swapped in, published, and the replacement replayed on the other set
 *     after a grace period; then the invalidate hooks run, the final state
 *     is built on the inactive set, published, and replayed on the other.
 *  3. commit hooks, in request order; then the replaced slots are freed.
 *
 * Rolling back before the first publication (step 1 failing) is the
 * reverse replay of the changes applied to the inactive set, so a failed
 * call publishes nothing and leaves both sets as they were.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <memslots/memslots.h>

#include "alloc.h"
#include "compiler.h"
#include "idhash.h"
#include "interval_tree.h"
#include "rcu_default.h"
#include "set.h"
#include "slot.h"

#define MS_VALID_FLAGS	  (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)
#define MS_MIN_PAGE_SHIFT 10u
#define MS_MAX_PAGE_SHIFT 30u
#define MS_MAX_MAX_SLOTS  65536u

struct memslots {
	_Atomic(struct memslots_set *) active;
	struct memslots_set sets[2];
	pthread_mutex_t lock; /* serializes writers */
	uint64_t generation;  /* of the last set published */
	struct ms_alloc alloc;
	struct memslots_ops ops; /* a copy; absent hooks are NULL */
	void *opaque;
	struct memslots_rcu rcu;
	unsigned int page_shift;
	unsigned int max_slots;
	uint64_t hva_limit;
};

/* One change of a call, as classified by the validation step. */
struct ms_change {
	enum memslots_change type;
	size_t index;		 /* of its request */
	struct ms_slot *old;	 /* the published slot; NULL for CREATE */
	struct ms_slot *new;	 /* what replaces it; NULL for DELETE */
	struct ms_slot *invalid; /* old's INVALID copy, for DELETE and MOVE */
};

/* A request's fields, once checked and converted to pages. */
struct ms_req {
	uint16_t id;
	uint32_t flags;
	uint64_t base_gfn;
	uint64_t npages;
	uint64_t hva;
};

/* The working state of one writer call. */
struct ms_call {
	struct memslots *ms;
	struct memslots_set *work;  /* inactive at the start of the call */
	struct memslots_set *other; /* active at the start of the call */
	struct ms_change *changes;
	size_t nr_changes;
	size_t nr_invalidating;		  /* DELETE and MOVE changes */
	uint64_t *named;		  /* bitmap of ids named so far (batches) */
	struct ms_hash_resize other_grow; /* for @other, installed once inactive */
	size_t failed_index;
};

/*
 * Misuse detection.  A hook that calls a writer would deadlock on
 * ms->lock; a writer called from inside a read-side section would wait
 * forever in synchronize for itself.  Both are per-thread facts.
 */
static _Thread_local const struct memslots *ms_tls_in_hooks;
static _Thread_local unsigned int ms_tls_read_depth;

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

/* ---- configuration and lifetime ------------------------------------------ */

static int ms_config_check(const struct memslots_config *cfg)
{
	if (cfg->page_shift &&
	    (cfg->page_shift < MS_MIN_PAGE_SHIFT || cfg->page_shift > MS_MAX_PAGE_SHIFT))
		return -EINVAL;
	if (cfg->max_slots > MS_MAX_MAX_SLOTS)
		return -EINVAL;
	if (!cfg->alloc != !cfg->free)
		return -EINVAL;
	if (cfg->rcu && (!cfg->rcu->read_lock || !cfg->rcu->read_unlock || !cfg->rcu->synchronize))
		return -EINVAL;
	return 0;
}

static void ms_config_apply(struct memslots *ms, const struct memslots_config *cfg)
{
	static const struct memslots_ops no_ops;

	ms->page_shift = cfg->page_shift ? cfg->page_shift : 12;
	ms->max_slots = cfg->max_slots ? cfg->max_slots : MEMSLOTS_DEFAULT_MAX_SLOTS;
	ms->ops = cfg->ops ? *cfg->ops : no_ops;
	ms->opaque = cfg->opaque;
	ms->rcu = cfg->rcu ? *cfg->rcu : ms_rcu_urcu_memb;
	ms->hva_limit = cfg->hva_limit;
}

/*
 * Copies *cfg and *cfg->ops and keeps neither pointer: memslots_new@MEMSLOTS_0.1
 * (src/compat/abi_v0_1.c) passes copies on its stack.
 */
MEMSLOTS_API struct memslots *memslots_new(const struct memslots_config *cfg)
{
	static const struct memslots_config defaults;
	struct ms_alloc alloc = ms_alloc_libc;
	struct memslots *ms;
	int err;

	if (!cfg)
		cfg = &defaults;
	err = ms_config_check(cfg);
	if (err) {
		errno = -err;
		return NULL;
	}
	if (cfg->alloc) {
		alloc.alloc = cfg->alloc;
		alloc.free = cfg->free;
		alloc.opaque = cfg->alloc_opaque;
	}
	ms = ms_calloc(&alloc, 1, sizeof(*ms));
	if (!ms)
		goto nomem;
	ms->alloc = alloc;
	ms_config_apply(ms, cfg);
	if (ms_set_init(&ms->sets[0], 0, ms->page_shift, &ms->alloc))
		goto free_ms;
	if (ms_set_init(&ms->sets[1], 1, ms->page_shift, &ms->alloc))
		goto destroy_set0;
	if (pthread_mutex_init(&ms->lock, NULL))
		goto destroy_set1;
	/* The first active set counts as published, with generation 1. */
	ms->generation = 1;
	ms->sets[0].generation = ms->generation;
	atomic_init(&ms->active, &ms->sets[0]);
	return ms;

destroy_set1:
	ms_set_destroy(&ms->sets[1]);
destroy_set0:
	ms_set_destroy(&ms->sets[0]);
free_ms:
	ms_free(&alloc, ms);
nomem:
	errno = ENOMEM;
	return NULL;
}

/* Post-order, so no node is read after its slot is freed; the depth of a
 * red-black tree of at most 65536 slots is at most 34. */
static void ms_free_subtree(struct memslots *ms, struct memslots_set *set, struct ms_rb_node *n)
{
	if (!n)
		return;
	ms_free_subtree(ms, set, n->left);
	ms_free_subtree(ms, set, n->right);
	ms_slot_free(&ms->alloc, ms_set_slot_of_gfn_node(set, n));
}

MEMSLOTS_API void memslots_free(struct memslots *ms)
{
	struct memslots_set *set;
	struct ms_rb_node *n;

	if (!ms)
		return;
	/*
	 * From one of its own hooks, or inside a read-side section, the
	 * object is still in use on this very thread: leak it rather than
	 * free memory that will be touched again on return.
	 */
	if (ms_tls_in_hooks == ms || ms_tls_read_depth) {
		errno = EDEADLK;
		return;
	}
	/* Both sets hold the same slots between calls: free them through one. */
	set = atomic_load_explicit(&ms->active, memory_order_relaxed);
	if (ms->ops.release) {
		const struct memslots *prev = ms_hooks_enter(ms);

		for (n = ms_rb_first_cached(&set->gfn_tree); n; n = ms_rb_next(n))
			ms->ops.release(ms->opaque, &ms_set_slot_of_gfn_node(set, n)->pub);
		ms_hooks_leave(prev);
	}
	ms_free_subtree(ms, set, set->gfn_tree.root.node);
	ms_set_destroy(&ms->sets[0]);
	ms_set_destroy(&ms->sets[1]);
	pthread_mutex_destroy(&ms->lock);
	ms_free(&ms->alloc, ms);
}

MEMSLOTS_API unsigned int memslots_page_shift(const struct memslots *ms)
{
	return ms ? ms->page_shift : 0;
}

MEMSLOTS_API unsigned int memslots_max_slots(const struct memslots *ms)
{
	return ms ? ms->max_slots : 0;
}

/* ---- request checks (contract rules 1 to 3) -------------------------------- */

static int ms_check_request(const struct memslots *ms, const struct memslots_region *r,
			    struct ms_req *req)
{
	uint64_t page_mask = ((uint64_t)1 << ms->page_shift) - 1;
	uint64_t size = r->memory_size, hva = r->userspace_addr, gpa = r->guest_phys_addr;

	/* 1: only the flags a caller may set. */
	if (r->flags & ~MS_VALID_FLAGS)
		return -EINVAL;
	/* 2: alignment, the host range, the address space and the id. */
	if ((size & page_mask) || (gpa & page_mask) || (hva & page_mask))
		return -EINVAL;
	if (hva + size < hva)
		return -EINVAL;
	if (ms->hva_limit && (size > ms->hva_limit || hva > ms->hva_limit - size))
		return -EINVAL;
	if ((r->slot >> 16) != 0 || (r->slot & 0xffff) >= ms->max_slots)
		return -EINVAL;
	/* 3: the guest range. */
	if (gpa + size < gpa)
		return -EINVAL;
	if ((size >> ms->page_shift) > MEMSLOTS_MAX_NR_PAGES)
		return -EINVAL;

	req->id = (uint16_t)(r->slot & 0xffff);
	req->flags = r->flags;
	req->base_gfn = gpa >> ms->page_shift;
	req->npages = size >> ms->page_shift;
	req->hva = hva;
	return 0;
}

/* ---- hooks --------------------------------------------------------------- */

static struct memslot *ms_pub(struct ms_slot *slot)
{
	return slot ? &slot->pub : NULL;
}

/* Whether a prepare hook changed more of @new than the priv it may set. */
static bool ms_prepare_overstepped(const struct memslot *before, const struct memslot *after)
{
	return before->base_gfn != after->base_gfn || before->npages != after->npages ||
	       before->userspace_addr != after->userspace_addr || before->flags != after->flags ||
	       before->id != after->id;
}

/*
 * Runs the prepare hook of @c.  Returns its negative errno, or -EINVAL
 * when the hook changed a field of the new slot other than priv: the slot
 * is already linked into the work set by those fields, so the change is
 * put back and refused (the caller aborts it like any prepared change,
 * since the hook itself succeeded).  *@prepared tells whether the hook
 * succeeded.
 */
static int ms_hook_prepare(struct memslots *ms, struct ms_change *c, bool *prepared)
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
	if (c->new &&ms_prepare_overstepped(&before, &c->new->pub)) {
		before.priv = c->new->pub.priv;
		c->new->pub = before;
		return -EINVAL;
	}
	return 0;
}

static void ms_hook_abort(struct memslots *ms, struct ms_change *c)
{
	const struct memslots *prev;

	if (!ms->ops.abort)
		return;
	prev = ms_hooks_enter(ms);
	ms->ops.abort(ms->opaque, ms_pub(c->old), ms_pub(c->new), c->type);
	ms_hooks_leave(prev);
}

static void ms_hook_commit(struct memslots *ms, struct ms_change *c)
{
	const struct memslots *prev;

	if (!ms->ops.commit)
		return;
	prev = ms_hooks_enter(ms);
	ms->ops.commit(ms->opaque, ms_pub(c->old), ms_pub(c->new), c->type);
	ms_hooks_leave(prev);
}

static void ms_hook_invalidate(struct memslots *ms, struct ms_change *c)
{
	const struct memslots *prev;

	if (!ms->ops.invalidate)
		return;
	prev = ms_hooks_enter(ms);
	ms->ops.invalidate(ms->opaque, &c->invalid->pub);
	ms_hooks_leave(prev);
}

/* ---- applying changes to one (inactive) set -------------------------------- */

/* The change itself: old state to final state. */
static void ms_change_apply(struct memslots_set *set, const struct ms_change *c)
{
	switch (c->type) {
	case MEMSLOTS_CREATE:
		ms_set_insert(set, c->new);
		break;
	case MEMSLOTS_DELETE:
		ms_set_remove(set, c->old);
		break;
	case MEMSLOTS_MOVE:
		ms_set_remove(set, c->old);
		ms_set_insert(set, c->new);
		break;
	case MEMSLOTS_FLAGS_ONLY:
		ms_set_replace(set, c->old, c->new);
		break;
	}
}

/* The exact inverse of ms_change_apply(). */
static void ms_change_undo(struct memslots_set *set, const struct ms_change *c)
{
	switch (c->type) {
	case MEMSLOTS_CREATE:
		ms_set_remove(set, c->new);
		break;
	case MEMSLOTS_DELETE:
		ms_set_insert(set, c->old);
		break;
	case MEMSLOTS_MOVE:
		ms_set_remove(set, c->new);
		ms_set_insert(set, c->old);
		break;
	case MEMSLOTS_FLAGS_ONLY:
		ms_set_replace(set, c->new, c->old);
		break;
	}
}

/* From the intermediate state (INVALID copies in place) to the final one. */
static void ms_change_finish(struct memslots_set *set, const struct ms_change *c)
{
	switch (c->type) {
	case MEMSLOTS_DELETE:
		ms_set_remove(set, c->invalid);
		break;
	case MEMSLOTS_MOVE:
		ms_set_remove(set, c->invalid);
		ms_set_insert(set, c->new);
		break;
	default:
		ms_change_apply(set, c);
		break;
	}
}

static void ms_call_undo_all(struct ms_call *call)
{
	size_t i = call->nr_changes;

	while (i--)
		ms_change_undo(call->work, &call->changes[i]);
}

static void ms_call_invalidate_on(struct ms_call *call, struct memslots_set *set)
{
	size_t i;

	for (i = 0; i < call->nr_changes; i++) {
		struct ms_change *c = &call->changes[i];

		if (c->invalid)
			ms_set_replace(set, c->old, c->invalid);
	}
}

static void ms_call_finish_on(struct ms_call *call, struct memslots_set *set)
{
	size_t i;

	for (i = 0; i < call->nr_changes; i++)
		ms_change_finish(set, &call->changes[i]);
}

static void ms_call_apply_on(struct ms_call *call, struct memslots_set *set)
{
	size_t i;

	for (i = 0; i < call->nr_changes; i++)
		ms_change_apply(set, &call->changes[i]);
}

/* ---- validation: classify each request, allocate, apply to the work set ---- */

static struct ms_slot *ms_slot_new(struct memslots *ms, const struct ms_req *req, uint32_t flags,
				   void *priv)
{
	struct ms_slot *s = ms_slot_alloc(&ms->alloc);

	if (!s)
		return NULL;
	s->pub.base_gfn = req->base_gfn;
	s->pub.npages = req->npages;
	s->pub.userspace_addr = req->hva;
	s->pub.flags = flags;
	s->pub.id = req->id;
	s->pub.priv = priv;
	return s;
}

static struct ms_slot *ms_slot_dup(struct memslots *ms, const struct ms_slot *old, uint32_t flags)
{
	struct ms_slot *s = ms_slot_alloc(&ms->alloc);

	if (!s)
		return NULL;
	s->pub = old->pub;
	s->pub.flags = flags;
	return s;
}

static void ms_change_free_copies(struct memslots *ms, struct ms_change *c)
{
	ms_slot_free(&ms->alloc, c->new);
	ms_slot_free(&ms->alloc, c->invalid);
}

/*
 * A CREATE is about to add a slot: make sure both id hashes can take it
 * within their load bound.  The work set is private and grows at once; the
 * other one is still published, so its bigger bucket array is only
 * allocated now and installed once it is inactive.
 */
static int ms_call_reserve_id(struct ms_call *call, size_t count)
{
	struct ms_hash_resize r;
	const struct ms_hash *oh = &call->other->id_hash;
	uint32_t shift = call->other_grow.buckets ? call->other_grow.shift : oh->shift;
	int err;

	err = ms_hash_reserve(&call->work->id_hash, count);
	if (err)
		return err;
	if (((size_t)1 << shift) * MS_HASH_MAX_LOAD >= count)
		return 0;
	err = ms_hash_prepare_resize(oh, count, true, &r);
	if (err)
		return err;
	ms_hash_cancel_resize(oh, &call->other_grow);
	call->other_grow = r;
	return 0;
}

/* Rules 4 to 6: what the request does to the (evolving) state. */
static int ms_classify(struct ms_call *call, const struct ms_req *req, struct ms_change *c)
{
	struct memslots_set *set = call->work;
	struct ms_slot *old = ms_set_find_id(set, req->id);

	c->old = old;
	c->new = c->invalid = NULL;
	if (!req->npages) {
		if (!old)
			return -EINVAL;
		c->type = MEMSLOTS_DELETE;
		return 0;
	}
	if (!old) {
		if (ms_set_overlaps(set, req->base_gfn, req->npages, NULL))
			return -EEXIST;
		c->type = MEMSLOTS_CREATE;
		return 0;
	}
	if (req->hva != old->pub.userspace_addr || req->npages != old->pub.npages ||
	    ((req->flags ^ old->pub.flags) & MEMSLOT_READONLY))
		return -EINVAL;
	if (req->base_gfn != old->pub.base_gfn) {
		if (ms_set_overlaps(set, req->base_gfn, req->npages, old))
			return -EEXIST;
		c->type = MEMSLOTS_MOVE;
		return 0;
	}
	if (req->flags != old->pub.flags) {
		c->type = MEMSLOTS_FLAGS_ONLY;
		return 0;
	}
	return 1; /* nothing to do */
}

/* Allocates what publishing @c will need. */
static int ms_change_alloc(struct ms_call *call, const struct ms_req *req, struct ms_change *c)
{
	struct memslots *ms = call->ms;
	int err;

	switch (c->type) {
	case MEMSLOTS_CREATE:
		err = ms_call_reserve_id(call, call->work->count + 1);
		if (err)
			return err;
		c->new = ms_slot_new(ms, req, req->flags, NULL);
		break;
	case MEMSLOTS_MOVE:
	case MEMSLOTS_FLAGS_ONLY:
		c->new = ms_slot_new(ms, req, req->flags, c->old->pub.priv);
		break;
	case MEMSLOTS_DELETE:
		break;
	}
	if (c->type != MEMSLOTS_DELETE && !c->new)
		return -ENOMEM;
	if (c->type == MEMSLOTS_DELETE || c->type == MEMSLOTS_MOVE) {
		c->invalid = ms_slot_dup(ms, c->old, c->old->pub.flags | MEMSLOT_INVALID);
		if (!c->invalid) {
			ms_change_free_copies(ms, c);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Was this id named by an earlier request of the call?  Marks it. */
static bool ms_call_named_before(struct ms_call *call, uint16_t id)
{
	uint64_t bit = (uint64_t)1 << (id % 64);
	bool seen;

	if (!call->named)
		return false;
	seen = call->named[id / 64] & bit;
	call->named[id / 64] |= bit;
	return seen;
}

static int ms_call_validate_one(struct ms_call *call, const struct memslots_region *r, size_t index)
{
	struct ms_change *c = &call->changes[call->nr_changes];
	struct ms_req req;
	int err;

	err = ms_check_request(call->ms, r, &req);
	if (err)
		return err;
	if (ms_call_named_before(call, req.id))
		return -EINVAL;
	err = ms_classify(call, &req, c);
	if (err)
		return err < 0 ? err : 0;
	err = ms_change_alloc(call, &req, c);
	if (err)
		return err;
	c->index = index;
	ms_change_apply(call->work, c);
	if (c->invalid)
		call->nr_invalidating++;
	call->nr_changes++;
	return 0;
}

/* Throws away everything validation did: the work set is as it was. */
static void ms_call_rollback(struct ms_call *call)
{
	size_t i;

	ms_call_undo_all(call);
	for (i = 0; i < call->nr_changes; i++)
		ms_change_free_copies(call->ms, &call->changes[i]);
	call->nr_changes = 0;
	ms_hash_cancel_resize(&call->other->id_hash, &call->other_grow);
	/* Best effort: give back a bucket array grown for nothing. */
	ms_hash_shrink(&call->work->id_hash);
}

/*
 * Validates each request and runs its prepare hook before going on to the
 * next, so that the call fails exactly where applying the requests one by
 * one would: at the first request that is invalid or whose prepare fails.
 * On failure the prepared changes are aborted, newest first, and the work
 * set is rolled back.
 */
static int ms_call_stage(struct ms_call *call, const struct memslots_region *r, size_t n)
{
	size_t i, nr_prepared = 0;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		err = ms_call_validate_one(call, &r[i], i);
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

/* ---- publication ------------------------------------------------------------ */

/*
 * Makes @set the active one and waits until no reader can still be using
 * the previous one.  The release store pairs with the acquire load in
 * memslots_read_lock(): a reader that sees @set sees every slot in it
 * fully initialized.
 */
static void ms_publish(struct memslots *ms, struct memslots_set *set)
{
	set->generation = ++ms->generation;
	atomic_store_explicit(&ms->active, set, memory_order_release);
	ms->rcu.synchronize();
}

/* Readers have left @set: it is ours again. */
static void ms_reclaim(struct ms_call *call, struct memslots_set *set)
{
	ms_set_forget_last_used(set);
	if (set == call->other) {
		ms_hash_commit_resize(&set->id_hash, &call->other_grow);
		call->other_grow.buckets = NULL;
	}
}

static void ms_call_publish(struct ms_call *call)
{
	struct memslots *ms = call->ms;
	size_t i;

	if (!call->nr_invalidating) {
		/* The work set holds the final state already. */
		ms_publish(ms, call->work);
		ms_reclaim(call, call->other);
		ms_call_apply_on(call, call->other);
		return;
	}
	/* Old state, with the deleted and moved slots replaced by INVALID copies. */
	ms_call_undo_all(call);
	ms_call_invalidate_on(call, call->work);
	ms_publish(ms, call->work);
	ms_reclaim(call, call->other);
	ms_call_invalidate_on(call, call->other);
	for (i = 0; i < call->nr_changes; i++)
		if (call->changes[i].invalid)
			ms_hook_invalidate(ms, &call->changes[i]);
	/* Then the final state, built on the set readers have just left. */
	ms_call_finish_on(call, call->other);
	ms_publish(ms, call->other);
	ms_reclaim(call, call->work);
	ms_call_finish_on(call, call->work);
}

static void ms_call_commit(struct ms_call *call)
{
	struct memslots *ms = call->ms;
	struct memslots_set *inactive;
	size_t i;

	for (i = 0; i < call->nr_changes; i++)
		ms_hook_commit(ms, &call->changes[i]);
	for (i = 0; i < call->nr_changes; i++) {
		struct ms_change *c = &call->changes[i];

		ms_slot_free(&ms->alloc, c->invalid);
		if (c->type != MEMSLOTS_CREATE)
			ms_slot_free(&ms->alloc, c->old);
	}
	inactive = call->work == atomic_load_explicit(&ms->active, memory_order_relaxed)
			   ? call->other
			   : call->work;
	ms_hash_shrink(&inactive->id_hash);
}

/* ---- the writer entry points ------------------------------------------------ */

static int ms_writer_check(const struct memslots *ms)
{
	if (ms_tls_in_hooks == ms || ms_tls_read_depth)
		return -EDEADLK;
	return 0;
}

static void ms_call_begin(struct ms_call *call, struct memslots *ms, struct ms_change *changes)
{
	struct memslots_set *active = atomic_load_explicit(&ms->active, memory_order_relaxed);

	memset(call, 0, sizeof(*call));
	call->ms = ms;
	call->other = active;
	call->work = active == &ms->sets[0] ? &ms->sets[1] : &ms->sets[0];
	call->changes = changes;
	/* The work set was last published before the previous grace period. */
	ms_set_forget_last_used(call->work);
	ms_hash_shrink(&call->work->id_hash);
}

/* Validates, prepares, publishes and commits the requests of one call. */
static int ms_call_run(struct ms_call *call, const struct memslots_region *r, size_t n)
{
	int err;

	err = ms_call_stage(call, r, n);
	if (err || !call->nr_changes)
		return err;
	ms_call_publish(call);
	ms_call_commit(call);
	return 0;
}

MEMSLOTS_API int memslots_set_region(struct memslots *ms, const struct memslots_region *r)
{
	struct ms_change change;
	struct ms_call call;
	int err;

	if (!ms || !r)
		return -EINVAL;
	err = ms_writer_check(ms);
	if (err)
		return err;
	pthread_mutex_lock(&ms->lock);
	ms_call_begin(&call, ms, &change);
	err = ms_call_run(&call, r, 1);
	pthread_mutex_unlock(&ms->lock);
	return err;
}

/* The change records and the named-ids bitmap of a batch, in one block. */
static int ms_batch_alloc(struct ms_call *call, size_t n)
{
	struct memslots *ms = call->ms;
	size_t words = (ms->max_slots + 63) / 64;
	size_t bytes;
	char *block;

	if (n > (SIZE_MAX - words * sizeof(uint64_t)) / sizeof(struct ms_change))
		return -ENOMEM;
	bytes = n * sizeof(struct ms_change) + words * sizeof(uint64_t);
	block = ms_calloc(&ms->alloc, 1, bytes);
	if (!block)
		return -ENOMEM;
	call->changes = (struct ms_change *)block;
	call->named = (uint64_t *)(block + n * sizeof(struct ms_change));
	return 0;
}

MEMSLOTS_API int memslots_apply(struct memslots *ms, const struct memslots_region *r, size_t n,
				size_t *failed_index)
{
	struct ms_call call;
	int err;

	if (!ms || (!r && n)) {
		err = -EINVAL;
		goto out_index;
	}
	if (!n)
		return 0;
	err = ms_writer_check(ms);
	if (err)
		goto out_index;
	pthread_mutex_lock(&ms->lock);
	ms_call_begin(&call, ms, NULL);
	err = ms_batch_alloc(&call, n);
	if (!err) {
		err = ms_call_run(&call, r, n);
		ms_free(&ms->alloc, call.changes);
	}
	pthread_mutex_unlock(&ms->lock);
	if (err && failed_index)
		*failed_index = call.failed_index;
	return err;

out_index:
	if (failed_index)
		*failed_index = 0;
	return err;
}

/* ---- readers ------------------------------------------------------------------- */

MEMSLOTS_API void memslots_reader_register(struct memslots *ms)
{
	if (ms && ms->rcu.register_thread)
		ms->rcu.register_thread();
}

MEMSLOTS_API void memslots_reader_unregister(struct memslots *ms)
{
	/* Inside a section, grace periods would stop waiting for us. */
	if (ms_tls_read_depth)
		return;
	if (ms && ms->rcu.unregister_thread)
		ms->rcu.unregister_thread();
}

MEMSLOTS_API const struct memslots_set *memslots_read_lock(struct memslots *ms)
{
	if (ms_unlikely(!ms))
		return NULL;
	ms_tls_read_depth++;
	ms->rcu.read_lock();
	return atomic_load_explicit(&ms->active, memory_order_acquire);
}

MEMSLOTS_API void memslots_read_unlock(struct memslots *ms)
{
	if (ms_unlikely(!ms || !ms_tls_read_depth))
		return;
	ms->rcu.read_unlock();
	ms_tls_read_depth--;
}

static struct ms_slot *ms_last_used(const struct memslots_set *set)
{
	/* The one field readers write: the set is otherwise read-only to them. */
	struct memslots_set *s = (struct memslots_set *)set;

	return atomic_load_explicit(&s->last_used, memory_order_relaxed);
}

static void ms_set_last_used(const struct memslots_set *set, struct ms_slot *slot)
{
	struct memslots_set *s = (struct memslots_set *)set;

	atomic_store_explicit(&s->last_used, slot, memory_order_relaxed);
}

MEMSLOTS_API const struct memslot *memslots_find_gfn(const struct memslots_set *set, uint64_t gfn)
{
	struct ms_slot *slot;

	if (ms_unlikely(!set))
		return NULL;
	slot = ms_last_used(set);

	if (slot && ms_slot_holds(slot, gfn))
		return &slot->pub;
	slot = ms_set_search(set, gfn, NULL, NULL);
	if (!slot)
		return NULL;
	ms_set_last_used(set, slot);
	return &slot->pub;
}

MEMSLOTS_API const struct memslot *memslots_find_gfn_approx(const struct memslots_set *set,
							    uint64_t gfn)
{
	struct ms_slot *slot, *below, *above;

	if (ms_unlikely(!set))
		return NULL;
	slot = ms_set_search(set, gfn, &below, &above);
	if (slot)
		return &slot->pub;
	slot = below ? below : above;
	return slot ? &slot->pub : NULL;
}

MEMSLOTS_API const struct memslot *memslots_find_id(const struct memslots_set *set, uint16_t id)
{
	struct ms_slot *slot;

	if (ms_unlikely(!set))
		return NULL;
	slot = ms_set_find_id(set, id);
	return slot ? &slot->pub : NULL;
}

MEMSLOTS_API const struct memslot *
memslots_find_gfn_cached(const struct memslots_set *set, struct memslots_cache *cache, uint64_t gfn)
{
	const struct memslot *slot;
	struct ms_slot *found;

	if (ms_unlikely(!set))
		return NULL;
	if (ms_unlikely(!cache))
		return memslots_find_gfn(set, gfn);
	slot = cache->slot;
	/*
	 * Generations are unique among the sets one object publishes, and set
	 * pointers among live objects: both matching means the cached slot
	 * belongs to @set as the caller holds it.
	 */
	if (slot && cache->set == set && cache->generation == set->generation &&
	    ms_slot_holds(ms_slot_of(slot), gfn))
		return slot;
	/* Per-thread by design: leave the shared last-used slot alone. */
	found = ms_set_search(set, gfn, NULL, NULL);
	if (!found)
		return NULL;
	cache->set = set;
	cache->generation = set->generation;
	cache->slot = &found->pub;
	return &found->pub;
}

MEMSLOTS_API const struct memslot *memslots_first(const struct memslots_set *set)
{
	struct ms_slot *slot;

	if (ms_unlikely(!set))
		return NULL;
	slot = ms_set_slot_of_gfn_node(set, ms_rb_first_cached(&set->gfn_tree));
	return slot ? &slot->pub : NULL;
}

MEMSLOTS_API const struct memslot *memslots_next(const struct memslots_set *set,
						 const struct memslot *slot)
{
	struct ms_slot *next;

	if (ms_unlikely(!set || !slot))
		return NULL;
	next = ms_set_slot_of_gfn_node(set,
				       ms_rb_next(&ms_slot_gfn(ms_slot_of(slot), set->idx)->rb));
	return next ? &next->pub : NULL;
}

MEMSLOTS_API const struct memslot *memslots_gfn_range_first(const struct memslots_set *set,
							    uint64_t gfn_start, uint64_t gfn_end)
{
	struct ms_slot *slot, *above;

	if (ms_unlikely(!set) || gfn_end <= gfn_start)
		return NULL;
	slot = ms_set_search(set, gfn_start, NULL, &above);
	if (!slot)
		slot = above;
	return slot && slot->pub.base_gfn < gfn_end ? &slot->pub : NULL;
}

MEMSLOTS_API const struct memslot *memslots_gfn_range_next(const struct memslots_set *set,
							   const struct memslot *slot,
							   uint64_t gfn_start, uint64_t gfn_end)
{
	const struct memslot *next;

	if (ms_unlikely(!set || !slot) || gfn_end <= gfn_start)
		return NULL;
	next = memslots_next(set, slot);
	return next && next->base_gfn < gfn_end ? next : NULL;
}

static const struct memslot *ms_hva_node_slot(const struct memslots_set *set,
					      const struct ms_itree_node *n)
{
	if (!n)
		return NULL;
	return &ms_slot_from_hva(n, set->idx)->pub;
}

MEMSLOTS_API const struct memslot *memslots_hva_range_first(const struct memslots_set *set,
							    uint64_t hva_start, uint64_t hva_last)
{
	if (ms_unlikely(!set))
		return NULL;
	return ms_hva_node_slot(set, ms_itree_iter_first(&set->hva_tree, hva_start, hva_last));
}

MEMSLOTS_API const struct memslot *memslots_hva_range_next(const struct memslots_set *set,
							   const struct memslot *slot,
							   uint64_t hva_start, uint64_t hva_last)
{
	if (ms_unlikely(!set || !slot))
		return NULL;
	return ms_hva_node_slot(set, ms_itree_iter_next(&ms_slot_of(slot)->hva_node[set->idx],
							hva_start, hva_last));
}

MEMSLOTS_API uint64_t memslots_gfn_to_hva(const struct memslots_set *set, uint64_t gfn)
{
	const struct memslot *slot = memslots_find_gfn(set, gfn);

	if (!slot || (slot->flags & MEMSLOT_INVALID))
		return MEMSLOTS_HVA_BAD;
	return slot->userspace_addr + ((gfn - slot->base_gfn) << set->page_shift);
}

MEMSLOTS_API uint64_t memslots_generation(const struct memslots_set *set)
{
	return set ? set->generation : 0;
}

MEMSLOTS_API size_t memslots_count(const struct memslots_set *set)
{
	return set ? set->count : 0;
}

MEMSLOTS_API uint64_t memslots_nr_pages(const struct memslots_set *set)
{
	return set ? set->nr_pages : 0;
}
