/* SPDX-License-Identifier: MIT */
/*
 * The array baseline: the pre-2021 KVM memslot scheme behind the
 * libmemslots API contract.  See msarr.h for what it is and why.
 *
 * A set is one allocation: a header, the slot array (descending base_gfn)
 * and the id -> index table (max_slots entries of u16).  Nothing in a
 * published set ever changes except the atomic last-used index, so readers
 * use plain loads.  The writer builds a private copy, changes it in place by
 * shifting, publishes it with a release store and waits for a grace period
 * before it frees the previous set.
 */
#include "msarr.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-memb.h>
#include <urcu/static/urcu-memb.h> /* urcu_memb_reader.registered */

#define MSARR_ALLOWED_FLAGS (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)
/* Never a valid index check on its own: find_id also compares the slot id. */
#define MSARR_NO_INDEX 0xffffu

struct msarr_set {
	uint64_t generation;
	uint64_t nr_pages;
	uint32_t used;	   /* slots[0 .. used) are in use */
	uint32_t capacity; /* room in slots[] */
	unsigned int page_shift;
	uint32_t max_slots;   /* entries of id_to_index */
	_Atomic uint32_t lru; /* index of the slot last found by gfn */
	/* id -> index into slots[]; trusted only if that slot has the id */
	uint16_t *id_to_index;
	struct memslot slots[];
};

struct msarr {
	struct msarr_set *_Atomic active;
	pthread_mutex_t lock;
	uint64_t generation; /* of the last published set */
	unsigned int page_shift;
	unsigned int max_slots;
	uint64_t hva_limit;
	const struct memslots_ops *ops;
	void *opaque;
	struct memslots_rcu rcu;
	void *(*alloc)(size_t size, void *alloc_opaque);
	void (*free)(void *ptr, void *alloc_opaque);
	void *alloc_opaque;
};

/* One request of a call that changes something, kept until commit or abort. */
struct msarr_req {
	enum memslots_change change;
	const struct memslot *old; /* in the active set; NULL for CREATE */
	struct memslot new;	   /* what prepare sees; unused for DELETE */
	uint16_t id;
};

/*
 * Read-side nesting depth and the writer running on this thread: a writer
 * call from inside a read-side section, or from a hook, would wait for a
 * grace period or a mutex this thread holds, so it fails with -EDEADLK.
 */
static _Thread_local unsigned int msarr_read_depth;
static _Thread_local const struct msarr *msarr_in_writer;

/* ---- default RCU: liburcu memb ------------------------------------------ */

/*
 * The tree engine in the same process may have registered this thread with
 * liburcu already (it registers readers that forgot to): register only
 * threads liburcu does not know, and unregister only those.
 */
static _Thread_local bool msarr_urcu_owned;

static void msarr_urcu_register(void)
{
	if (URCU_TLS(urcu_memb_reader).registered)
		return;
	urcu_memb_register_thread();
	msarr_urcu_owned = true;
}

static void msarr_urcu_unregister(void)
{
	if (!msarr_urcu_owned)
		return;
	msarr_urcu_owned = false;
	urcu_memb_unregister_thread();
}

static void msarr_urcu_read_lock(void)
{
	urcu_memb_read_lock();
}

static void msarr_urcu_read_unlock(void)
{
	urcu_memb_read_unlock();
}

static void msarr_urcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
}

static const struct memslots_rcu msarr_urcu = {
	.register_thread = msarr_urcu_register,
	.unregister_thread = msarr_urcu_unregister,
	.read_lock = msarr_urcu_read_lock,
	.read_unlock = msarr_urcu_read_unlock,
	.synchronize = msarr_urcu_synchronize,
};

static void *msarr_libc_alloc(size_t size, void *opaque)
{
	(void)opaque;
	return malloc(size);
}

static void msarr_libc_free(void *ptr, void *opaque)
{
	(void)opaque;
	free(ptr);
}

/* ---- sets ----------------------------------------------------------------- */

static void msarr_set_free(const struct msarr *ms, struct msarr_set *set)
{
	if (set)
		ms->free(set, ms->alloc_opaque);
}

/* A set with room for @capacity slots, id table filled with MSARR_NO_INDEX. */
static struct msarr_set *msarr_set_alloc(const struct msarr *ms, uint32_t capacity)
{
	size_t slots_bytes = (size_t)capacity * sizeof(struct memslot);
	size_t bytes = sizeof(struct msarr_set) + slots_bytes + ms->max_slots * sizeof(uint16_t);
	struct msarr_set *set = ms->alloc(bytes, ms->alloc_opaque);

	if (!set)
		return NULL;
	memset(set, 0, sizeof(*set));
	set->capacity = capacity;
	set->page_shift = ms->page_shift;
	set->max_slots = ms->max_slots;
	set->id_to_index = (uint16_t *)((char *)set->slots + slots_bytes);
	return set;
}

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

static inline uint32_t msarr_index(const struct msarr_set *set, const struct memslot *slot)
{
	return (uint32_t)(slot - set->slots);
}

/* Lowest index whose base_gfn <= @gfn (the array is descending), or used. */
static inline uint32_t msarr_search(const struct msarr_set *set, uint64_t gfn)
{
	uint32_t lo = 0, hi = set->used;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (set->slots[mid].base_gfn <= gfn)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static inline bool msarr_holds(const struct memslot *s, uint64_t gfn)
{
	return gfn >= s->base_gfn && gfn - s->base_gfn < s->npages;
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

/* ---- lifetime ------------------------------------------------------------- */

struct msarr *msarr_new(const struct memslots_config *cfg)
{
	static const struct memslots_config defaults;
	struct msarr *ms;
	struct msarr_set *set;

	if (!cfg)
		cfg = &defaults;
	if ((cfg->page_shift && (cfg->page_shift < 10 || cfg->page_shift > 30)) ||
	    cfg->max_slots > 65536 || !cfg->alloc != !cfg->free ||
	    (cfg->rcu &&
	     (!cfg->rcu->read_lock || !cfg->rcu->read_unlock || !cfg->rcu->synchronize))) {
		errno = EINVAL;
		return NULL;
	}
	ms = cfg->alloc ? cfg->alloc(sizeof(*ms), cfg->alloc_opaque) : malloc(sizeof(*ms));
	if (!ms) {
		errno = ENOMEM;
		return NULL;
	}
	memset(ms, 0, sizeof(*ms));
	ms->page_shift = cfg->page_shift ? cfg->page_shift : 12;
	ms->max_slots = cfg->max_slots ? cfg->max_slots : MEMSLOTS_DEFAULT_MAX_SLOTS;
	ms->hva_limit = cfg->hva_limit;
	ms->ops = cfg->ops;
	ms->opaque = cfg->opaque;
	ms->rcu = cfg->rcu ? *cfg->rcu : msarr_urcu;
	ms->alloc = cfg->alloc ? cfg->alloc : msarr_libc_alloc;
	ms->free = cfg->free ? cfg->free : msarr_libc_free;
	ms->alloc_opaque = cfg->alloc_opaque;

	set = msarr_set_alloc(ms, 0);
	if (!set) {
		ms->free(ms, ms->alloc_opaque);
		errno = ENOMEM;
		return NULL;
	}
	memset(set->id_to_index, 0xff, ms->max_slots * sizeof(uint16_t));
	ms->generation = 1;
	set->generation = 1;
	if (pthread_mutex_init(&ms->lock, NULL)) {
		msarr_set_free(ms, set);
		ms->free(ms, ms->alloc_opaque);
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&ms->active, set);
	return ms;
}

void msarr_free(struct msarr *ms)
{
	struct msarr_set *set;

	if (!ms)
		return;
	set = atomic_load_explicit(&ms->active, memory_order_relaxed);
	if (ms->ops && ms->ops->release) {
		for (uint32_t i = set->used; i-- > 0;)
			ms->ops->release(ms->opaque, &set->slots[i]);
	}
	msarr_set_free(ms, set);
	pthread_mutex_destroy(&ms->lock);
	ms->free(ms, ms->alloc_opaque);
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

/* ---- readers -------------------------------------------------------------- */

void msarr_reader_register(struct msarr *ms)
{
	if (ms->rcu.register_thread)
		ms->rcu.register_thread();
}

void msarr_reader_unregister(struct msarr *ms)
{
	if (ms->rcu.unregister_thread)
		ms->rcu.unregister_thread();
}

const struct msarr_set *msarr_read_lock(struct msarr *ms)
{
	msarr_read_depth++;
	ms->rcu.read_lock();
	/* Acquire pairs with the release in msarr_publish (rcu_dereference). */
	return atomic_load_explicit(&ms->active, memory_order_acquire);
}

void msarr_read_unlock(struct msarr *ms)
{
	ms->rcu.read_unlock();
	msarr_read_depth--;
}

const struct memslot *msarr_find_gfn(const struct msarr_set *set, uint64_t gfn)
{
	struct msarr_set *mset = (struct msarr_set *)set; /* only lru is written */
	uint32_t used = set->used;
	uint32_t i;

	if (!used)
		return NULL;
	i = atomic_load_explicit(&mset->lru, memory_order_relaxed);
	if (msarr_holds(&set->slots[i], gfn))
		return &set->slots[i];
	i = msarr_search(set, gfn);
	if (i < used && msarr_holds(&set->slots[i], gfn)) {
		atomic_store_explicit(&mset->lru, i, memory_order_relaxed);
		return &set->slots[i];
	}
	return NULL;
}

const struct memslot *msarr_find_gfn_approx(const struct msarr_set *set, uint64_t gfn)
{
	uint32_t i;

	if (!set->used)
		return NULL;
	i = msarr_search(set, gfn);
	/* Either the slot holding gfn or the nearest below; else the lowest. */
	return &set->slots[i < set->used ? i : set->used - 1];
}

const struct memslot *msarr_find_id(const struct msarr_set *set, uint16_t id)
{
	uint32_t i;

	if (id >= set->max_slots)
		return NULL;
	i = set->id_to_index[id];
	if (i < set->used && set->slots[i].id == id)
		return &set->slots[i];
	return NULL;
}

const struct memslot *msarr_find_gfn_cached(const struct msarr_set *set,
					    struct memslots_cache *cache, uint64_t gfn)
{
	const struct memslot *s = cache->slot;

	if (s && cache->generation == set->generation && msarr_holds(s, gfn))
		return s;
	s = msarr_find_gfn(set, gfn);
	if (s) {
		cache->generation = set->generation;
		cache->slot = s;
	}
	return s;
}

const struct memslot *msarr_first(const struct msarr_set *set)
{
	return set->used ? &set->slots[set->used - 1] : NULL;
}

const struct memslot *msarr_next(const struct msarr_set *set, const struct memslot *slot)
{
	uint32_t i = msarr_index(set, slot);

	return i ? &set->slots[i - 1] : NULL;
}

static inline bool msarr_gfn_meets(const struct memslot *s, uint64_t start, uint64_t end)
{
	return s->base_gfn < end && s->base_gfn + s->npages > start;
}

const struct memslot *msarr_gfn_range_first(const struct msarr_set *set, uint64_t gfn_start,
					    uint64_t gfn_end)
{
	uint32_t i;

	if (gfn_end <= gfn_start || !set->used)
		return NULL;
	i = msarr_search(set, gfn_start);
	if (i == set->used || !msarr_holds(&set->slots[i], gfn_start)) {
		/* gfn_start is in a hole: the first candidate is the next above. */
		if (i == 0)
			return NULL;
		i--;
	}
	return msarr_gfn_meets(&set->slots[i], gfn_start, gfn_end) ? &set->slots[i] : NULL;
}

const struct memslot *msarr_gfn_range_next(const struct msarr_set *set, const struct memslot *slot,
					   uint64_t gfn_start, uint64_t gfn_end)
{
	uint32_t i = msarr_index(set, slot);

	if (!i || !msarr_gfn_meets(&set->slots[i - 1], gfn_start, gfn_end))
		return NULL;
	return &set->slots[i - 1];
}

static const struct memslot *msarr_hva_scan(const struct msarr_set *set, uint32_t from,
					    uint64_t hva_start, uint64_t hva_last)
{
	if (hva_last < hva_start)
		return NULL;
	for (uint32_t i = from; i < set->used; i++) {
		const struct memslot *s = &set->slots[i];
		uint64_t last = s->userspace_addr + (s->npages << set->page_shift) - 1;

		if (s->userspace_addr <= hva_last && last >= hva_start)
			return s;
	}
	return NULL;
}

const struct memslot *msarr_hva_range_first(const struct msarr_set *set, uint64_t hva_start,
					    uint64_t hva_last)
{
	return msarr_hva_scan(set, 0, hva_start, hva_last);
}

const struct memslot *msarr_hva_range_next(const struct msarr_set *set, const struct memslot *slot,
					   uint64_t hva_start, uint64_t hva_last)
{
	return msarr_hva_scan(set, msarr_index(set, slot) + 1, hva_start, hva_last);
}

uint64_t msarr_gfn_to_hva(const struct msarr_set *set, uint64_t gfn)
{
	const struct memslot *s = msarr_find_gfn(set, gfn);

	if (!s || (s->flags & MEMSLOT_INVALID))
		return MEMSLOTS_HVA_BAD;
	return s->userspace_addr + ((gfn - s->base_gfn) << set->page_shift);
}

uint64_t msarr_generation(const struct msarr_set *set)
{
	return set->generation;
}

size_t msarr_count(const struct msarr_set *set)
{
	return set->used;
}

uint64_t msarr_nr_pages(const struct msarr_set *set)
{
	return set->nr_pages;
}

unsigned int msarr_page_shift(const struct msarr *ms)
{
	return ms->page_shift;
}

unsigned int msarr_max_slots(const struct msarr *ms)
{
	return ms->max_slots;
}

const char *msarr_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -EINVAL:
		return "invalid request";
	case -EEXIST:
		return "guest physical range overlaps another slot";
	case -ENOMEM:
		return "out of memory";
	case -EDEADLK:
		return "writer called from a hook or a read-side section";
	default:
		return "error returned by a hook";
	}
}

const char *msarr_version_string(void)
{
	return "array-baseline";
}
