/* SPDX-License-Identifier: MIT */
/*
 * The array baseline's writers: every change validates its requests in
 * the contract's order, copies the whole set, shifts slots in the copy,
 * runs the hooks, publishes the copy (after a copy with the slot marked
 * MEMSLOT_INVALID for DELETE and MOVE) and frees the old set after a grace
 * period.  One writer at a time, under the instance's mutex.
 */
#include "msarr.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "msarr_impl.h"

#define MSARR_ALLOWED_FLAGS (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)

/* One request of a call that changes something, kept until commit or abort. */
struct msarr_req {
	enum memslots_change change;
	const struct memslot *old; /* in the active set; NULL for CREATE */
	struct memslot new;	   /* what prepare sees; unused for DELETE */
	uint16_t id;
};

/*
 * The writer running on this thread: a writer call from a hook would wait
 * for the mutex this thread holds, so it fails with -EDEADLK (as one from
 * inside a read-side section does, msarr_read_depth).
 */
static _Thread_local const struct msarr *msarr_in_writer;

/* ---- changing a private copy ---------------------------------------------- */

/* The whole-set copy the old scheme makes for every change. */
static struct msarr_set *msarr_set_copy(const struct msarr *ms, const struct msarr_set *old,
					uint32_t capacity)
{
	struct msarr_set *set = msarr_set_alloc(ms, capacity);

	if (!set)
		return NULL;
	set->generation = old->generation;
	set->nr_pages = old->nr_pages;
	set->used = old->used;
	memcpy(set->slots, old->slots, old->used * sizeof(struct memslot));
	memcpy(set->id_to_index, old->id_to_index, ms->max_slots * sizeof(uint16_t));
	return set;
}

/* Index of the slot with @id in @set, or -1. */
static inline long msarr_id_index(const struct msarr_set *set, uint16_t id)
{
	uint32_t i = set->id_to_index[id];

	if (i < set->used && set->slots[i].id == id)
		return i;
	return -1;
}

/* Re-points the id table at slots[from .. to), after a shift. */
static void msarr_reindex(struct msarr_set *set, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++)
		set->id_to_index[set->slots[i].id] = (uint16_t)i;
}

static void msarr_set_insert(struct msarr_set *set, const struct memslot *slot)
{
	uint32_t pos = msarr_search(set, slot->base_gfn);

	memmove(&set->slots[pos + 1], &set->slots[pos], (set->used - pos) * sizeof(struct memslot));
	set->slots[pos] = *slot;
	set->used++;
	set->nr_pages += slot->npages;
	msarr_reindex(set, pos, set->used);
}

static void msarr_set_remove(struct msarr_set *set, uint32_t pos)
{
	set->nr_pages -= set->slots[pos].npages;
	set->id_to_index[set->slots[pos].id] = MSARR_NO_INDEX;
	memmove(&set->slots[pos], &set->slots[pos + 1],
		(set->used - pos - 1) * sizeof(struct memslot));
	set->used--;
	msarr_reindex(set, pos, set->used);
}

/* Does [gfn, gfn + npages) overlap a slot of @set other than id @self? */
static bool msarr_overlaps(const struct msarr_set *set, uint64_t gfn, uint64_t npages, long self)
{
	/* A linear scan, as the old __kvm_set_memory_region did. */
	for (uint32_t i = 0; i < set->used; i++) {
		const struct memslot *s = &set->slots[i];

		if (s->id == self)
			continue;
		if (gfn < s->base_gfn + s->npages && s->base_gfn < gfn + npages)
			return true;
	}
	return false;
}
/* ---- writers -------------------------------------------------------------- */

/*
 * Validates @r against @cur (the state after the earlier requests of the
 * call), in the contract's order.  Returns a negative errno, 0 when the
 * request changes nothing, 1 with @req filled otherwise.  @named marks the
 * ids named earlier in the call (NULL for a single request).
 */
static int msarr_check(const struct msarr *ms, const struct msarr_set *cur,
		       const struct msarr_set *active, const struct memslots_region *r,
		       const uint8_t *named, struct msarr_req *req)
{
	uint64_t mask = (1ull << ms->page_shift) - 1;
	uint16_t id = (uint16_t)(r->slot & 0xffff);
	uint64_t gfn, npages;
	long idx;
	const struct memslot *old;

	if (r->flags & ~MSARR_ALLOWED_FLAGS)
		return -EINVAL;
	if ((r->memory_size | r->guest_phys_addr | r->userspace_addr) & mask)
		return -EINVAL;
	if (r->userspace_addr + r->memory_size < r->userspace_addr)
		return -EINVAL;
	if (ms->hva_limit && r->userspace_addr + r->memory_size > ms->hva_limit)
		return -EINVAL;
	if ((r->slot >> 16) || id >= ms->max_slots)
		return -EINVAL;
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr)
		return -EINVAL;
	if ((r->memory_size >> ms->page_shift) > MEMSLOTS_MAX_NR_PAGES)
		return -EINVAL;
	if (named && (named[id / 8] & (1u << (id % 8))))
		return -EINVAL;

	idx = msarr_id_index(cur, id);
	old = idx >= 0 ? &cur->slots[idx] : NULL;
	gfn = r->guest_phys_addr >> ms->page_shift;
	npages = r->memory_size >> ms->page_shift;
	req->id = id;
	if (!r->memory_size) {
		if (!old)
			return -EINVAL;
		req->change = MEMSLOTS_DELETE;
	} else if (!old) {
		if (msarr_overlaps(cur, gfn, npages, -1))
			return -EEXIST;
		req->change = MEMSLOTS_CREATE;
		req->new = (struct memslot){
			.base_gfn = gfn,
			.npages = npages,
			.userspace_addr = r->userspace_addr,
			.flags = r->flags,
			.id = id,
			.priv = NULL,
		};
	} else {
		if (r->userspace_addr != old->userspace_addr || npages != old->npages ||
		    ((r->flags ^ old->flags) & MEMSLOT_READONLY))
			return -EINVAL;
		if (gfn != old->base_gfn) {
			if (msarr_overlaps(cur, gfn, npages, id))
				return -EEXIST;
			req->change = MEMSLOTS_MOVE;
		} else if (r->flags != old->flags) {
			req->change = MEMSLOTS_FLAGS_ONLY;
		} else {
			return 0;
		}
		req->new = *old;
		req->new.base_gfn = gfn;
		req->new.flags = r->flags;
	}
	/*
	 * Ids are unique within a call, so the slot with this id in the active
	 * set is the one in @cur; hooks get that stable pointer.
	 */
	req->old = NULL;
	if (req->change != MEMSLOTS_CREATE)
		req->old = &active->slots[msarr_id_index(active, id)];
	return 1;
}

/* Applies a validated and prepared request to the private copy @work. */
static void msarr_set_apply(struct msarr_set *work, const struct msarr_req *req)
{
	long idx = msarr_id_index(work, req->id);

	switch (req->change) {
	case MEMSLOTS_CREATE:
		msarr_set_insert(work, &req->new);
		break;
	case MEMSLOTS_DELETE:
		msarr_set_remove(work, (uint32_t)idx);
		break;
	case MEMSLOTS_MOVE:
		msarr_set_remove(work, (uint32_t)idx);
		msarr_set_insert(work, &req->new);
		break;
	case MEMSLOTS_FLAGS_ONLY:
		work->slots[idx] = req->new;
		break;
	}
}

static void msarr_publish(struct msarr *ms, struct msarr_set *set)
{
	set->generation = ++ms->generation;
	atomic_store_explicit(&set->lru, 0, memory_order_relaxed);
	atomic_store_explicit(&ms->active, set, memory_order_release);
	ms->rcu.synchronize();
}

static int msarr_apply_locked(struct msarr *ms, const struct memslots_region *r, size_t n,
			      size_t *failed)
{
	struct msarr_set *active = atomic_load_explicit(&ms->active, memory_order_relaxed);
	struct msarr_set *work = NULL, *inval = NULL;
	struct msarr_req *reqs = NULL;
	uint8_t *named = NULL;
	size_t nreq = 0, i;
	int ret = 0;

	if (n > 1) {
		size_t bytes = (ms->max_slots + 7) / 8;

		named = ms->alloc(bytes, ms->alloc_opaque);
		if (!named) {
			*failed = 0;
			return -ENOMEM;
		}
		memset(named, 0, bytes);
	}

	for (i = 0; i < n; i++) {
		struct msarr_req req;
		const struct msarr_set *cur = work ? work : active;

		ret = msarr_check(ms, cur, active, &r[i], named, &req);
		if (ret < 0)
			goto rollback;
		if (named)
			named[req.id / 8] |= (uint8_t)(1u << (req.id % 8));
		if (ret == 0)
			continue;
		ret = -ENOMEM;
		if (!work) {
			/* The remaining requests can create at most n - i slots. */
			uint64_t cap = (uint64_t)active->used + (n - i);

			if (cap > ms->max_slots)
				cap = ms->max_slots;
			if (n - i > SIZE_MAX / sizeof(*reqs))
				goto rollback;
			reqs = ms->alloc((n - i) * sizeof(*reqs), ms->alloc_opaque);
			if (!reqs)
				goto rollback;
			work = msarr_set_copy(ms, active, (uint32_t)cap);
			if (!work)
				goto rollback;
		}
		if ((req.change == MEMSLOTS_DELETE || req.change == MEMSLOTS_MOVE) && !inval) {
			inval = msarr_set_copy(ms, active, active->used);
			if (!inval)
				goto rollback;
		}
		reqs[nreq] = req;
		if (ms->ops && ms->ops->prepare) {
			struct msarr_req *q = &reqs[nreq];

			ret = ms->ops->prepare(ms->opaque, q->old,
					       q->change == MEMSLOTS_DELETE ? NULL : &q->new,
					       q->change);
			if (ret < 0)
				goto rollback;
		}
		if (inval && (req.change == MEMSLOTS_DELETE || req.change == MEMSLOTS_MOVE))
			inval->slots[msarr_id_index(inval, req.id)].flags |= MEMSLOT_INVALID;
		msarr_set_apply(work, &reqs[nreq]);
		nreq++;
	}
	ms->free(named, ms->alloc_opaque);
	if (!nreq) {
		/* Nothing changes: nothing is published. */
		ms->free(reqs, ms->alloc_opaque);
		msarr_set_free(ms, work);
		return 0;
	}

	if (inval) {
		msarr_publish(ms, inval);
		for (i = 0; i < nreq; i++) {
			struct msarr_req *q = &reqs[i];

			if (ms->ops && ms->ops->invalidate &&
			    (q->change == MEMSLOTS_DELETE || q->change == MEMSLOTS_MOVE))
				ms->ops->invalidate(ms->opaque,
						    &inval->slots[msarr_id_index(inval, q->id)]);
		}
	}
	msarr_publish(ms, work);
	if (ms->ops && ms->ops->commit) {
		for (i = 0; i < nreq; i++) {
			struct msarr_req *q = &reqs[i];
			const struct memslot *new = NULL;

			if (q->change != MEMSLOTS_DELETE)
				new = &work->slots[msarr_id_index(work, q->id)];
			ms->ops->commit(ms->opaque, q->old, new, q->change);
		}
	}
	msarr_set_free(ms, inval);
	msarr_set_free(ms, active);
	ms->free(reqs, ms->alloc_opaque);
	return 0;

rollback:
	*failed = i;
	if (ms->ops && ms->ops->abort) {
		while (nreq-- > 0) {
			struct msarr_req *q = &reqs[nreq];

			ms->ops->abort(ms->opaque, q->old,
				       q->change == MEMSLOTS_DELETE ? NULL : &q->new, q->change);
		}
	}
	if (named)
		ms->free(named, ms->alloc_opaque);
	if (reqs)
		ms->free(reqs, ms->alloc_opaque);
	msarr_set_free(ms, work);
	msarr_set_free(ms, inval);
	return ret;
}

int msarr_apply(struct msarr *ms, const struct memslots_region *r, size_t n, size_t *failed_index)
{
	size_t failed = 0;
	int ret;

	if (msarr_read_depth || msarr_in_writer) {
		ret = -EDEADLK;
		goto out;
	}
	if (!n)
		return 0;
	if (!r) {
		ret = -EINVAL;
		goto out;
	}
	pthread_mutex_lock(&ms->lock);
	msarr_in_writer = ms;
	ret = msarr_apply_locked(ms, r, n, &failed);
	msarr_in_writer = NULL;
	pthread_mutex_unlock(&ms->lock);
out:
	if (ret && failed_index)
		*failed_index = failed;
	return ret;
}

int msarr_set_region(struct msarr *ms, const struct memslots_region *r)
{
	return msarr_apply(ms, r, 1, NULL);
}
