/* SPDX-License-Identifier: MIT */
/*
 * A reference model of the libmemslots contract, and the shared test
 * plumbing built around it: a counting RCU, a hook recorder, and checks
 * that compare every lookup of a published set with brute force over the
 * model.
 *
 * The model is deliberately naive (an array indexed by slot id, linear
 * scans everywhere) so that it is obviously a transcription of the
 * contract's rules rather than a second implementation of the engine.
 *
 * Header-only, every function static inline: tests/CMakeLists.txt links
 * only tests_util.c into each test program, and static inline functions
 * that a test does not use raise no warning.
 */
#ifndef MS_TESTS_MODEL_H
#define MS_TESTS_MODEL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "tests_util.h"

#define MODEL_UNUSED __attribute__((unused))

/*
 * Check's ck_assert_* records a progress message on every call, even a
 * passing one, which makes brute-force loops slow (milliseconds per
 * thousand checks); these report only failures.
 */
#define MT_CHECK(cond, ...)                        \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)
#define MT_CMP(a, op, b)                                                                      \
	do {                                                                                  \
		unsigned long long a_ = (unsigned long long)(a);                              \
		unsigned long long b_ = (unsigned long long)(b);                              \
		if (!(a_ op b_))                                                              \
			ck_abort_msg("%s %s %s failed: %#llx vs %#llx", #a, #op, #b, a_, b_); \
	} while (0)
#define MT_PTR_CMP(a, op, b)                                                            \
	do {                                                                            \
		const void *a_ = (a), *b_ = (b);                                        \
		if (!(a_ op b_))                                                        \
			ck_abort_msg("%s %s %s failed: %p vs %p", #a, #op, #b, a_, b_); \
	} while (0)

/* "Nothing changes": the request is valid and publishes nothing. */
#define MODEL_NOOP	  (-1)

#define MODEL_VALID_FLAGS (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)

struct model_slot {
	bool present;
	uint64_t base_gfn;
	uint64_t npages;
	uint64_t hva;
	uint32_t flags;
	void *priv;
};

struct model {
	unsigned int page_shift;
	unsigned int max_slots;
	uint64_t hva_limit;
	struct model_slot *slot; /* [max_slots], indexed by id */
	size_t count;
	uint64_t nr_pages;
};

static inline void model_init(struct model *m, unsigned int page_shift, unsigned int max_slots,
			      uint64_t hva_limit)
{
	m->page_shift = page_shift;
	m->max_slots = max_slots;
	m->hva_limit = hva_limit;
	m->slot = calloc(max_slots, sizeof(*m->slot));
	MT_PTR_CMP(m->slot, !=, NULL);
	m->count = 0;
	m->nr_pages = 0;
}

static inline void model_fini(struct model *m)
{
	free(m->slot);
	m->slot = NULL;
}

static inline void model_copy(struct model *dst, const struct model *src)
{
	*dst = *src;
	dst->slot = malloc(src->max_slots * sizeof(*dst->slot));
	MT_PTR_CMP(dst->slot, !=, NULL);
	memcpy(dst->slot, src->slot, src->max_slots * sizeof(*dst->slot));
}

/* Replaces dst's contents by src's (same geometry), keeping dst's array. */
static inline void model_assign(struct model *dst, const struct model *src)
{
	MT_CMP(dst->max_slots, ==, src->max_slots);
	memcpy(dst->slot, src->slot, src->max_slots * sizeof(*dst->slot));
	dst->count = src->count;
	dst->nr_pages = src->nr_pages;
}

static inline struct memslots_region model_region(unsigned int page_shift, uint32_t slot,
						  uint32_t flags, uint64_t gfn, uint64_t npages,
						  uint64_t hva)
{
	struct memslots_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gfn << page_shift,
		.memory_size = npages << page_shift,
		.userspace_addr = hva,
	};
	return r;
}

static inline bool model_overlaps_other(const struct model *m, unsigned int id, uint64_t gfn,
					uint64_t npages)
{
	for (unsigned int i = 0; i < m->max_slots; i++) {
		const struct model_slot *s = &m->slot[i];

		if (i == id || !s->present)
			continue;
		if (gfn < s->base_gfn + s->npages && s->base_gfn < gfn + npages)
			return true;
	}
	return false;
}

/*
 * The contract's rules 1-6, in order, for one request against state m.
 * Returns 0 or the negative errno; on 0, *change is the enum
 * memslots_change or MODEL_NOOP.
 *
 * "Wraps past 2^64" is modelled as the 64-bit sum being smaller than its
 * first operand, which includes a sum of exactly 2^64; the tests never
 * generate that exact boundary, as the contract leaves it open.
 */
static inline int model_classify(const struct model *m, const struct memslots_region *r,
				 int *change)
{
	uint64_t pmask = (1ull << m->page_shift) - 1;
	unsigned int id = r->slot & 0xffff;
	uint64_t gfn = r->guest_phys_addr >> m->page_shift;
	uint64_t npages = r->memory_size >> m->page_shift;
	const struct model_slot *s;

	/* 1 */
	if (r->flags & ~MODEL_VALID_FLAGS)
		return -EINVAL;
	/* 2 */
	if ((r->memory_size & pmask) || (r->guest_phys_addr & pmask) || (r->userspace_addr & pmask))
		return -EINVAL;
	if (r->userspace_addr + r->memory_size < r->userspace_addr)
		return -EINVAL;
	if (m->hva_limit && r->userspace_addr + r->memory_size > m->hva_limit)
		return -EINVAL;
	if (r->slot >> 16)
		return -EINVAL;
	if (id >= m->max_slots)
		return -EINVAL;
	/* 3 */
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr)
		return -EINVAL;
	if (npages > MEMSLOTS_MAX_NR_PAGES)
		return -EINVAL;
	s = &m->slot[id];
	/* 4 */
	if (!r->memory_size) {
		if (!s->present)
			return -EINVAL;
		*change = MEMSLOTS_DELETE;
		return 0;
	}
	/* 5 */
	if (!s->present) {
		if (model_overlaps_other(m, id, gfn, npages))
			return -EEXIST;
		*change = MEMSLOTS_CREATE;
		return 0;
	}
	/* 6 */
	if (r->userspace_addr != s->hva || npages != s->npages ||
	    ((r->flags ^ s->flags) & MEMSLOT_READONLY))
		return -EINVAL;
	if (gfn != s->base_gfn) {
		if (model_overlaps_other(m, id, gfn, npages))
			return -EEXIST;
		*change = MEMSLOTS_MOVE;
		return 0;
	}
	*change = r->flags != s->flags ? MEMSLOTS_FLAGS_ONLY : MODEL_NOOP;
	return 0;
}

/* Applies a request that model_classify() accepted. */
static inline void model_commit(struct model *m, const struct memslots_region *r, int change)
{
	struct model_slot *s = &m->slot[r->slot & 0xffff];

	switch (change) {
	case MEMSLOTS_CREATE:
		s->present = true;
		s->priv = NULL;
		s->npages = r->memory_size >> m->page_shift;
		s->hva = r->userspace_addr;
		m->count++;
		m->nr_pages += s->npages;
		/* fall through */
	case MEMSLOTS_MOVE:
	case MEMSLOTS_FLAGS_ONLY:
		s->base_gfn = r->guest_phys_addr >> m->page_shift;
		s->flags = r->flags;
		break;
	case MEMSLOTS_DELETE:
		s->present = false;
		m->count--;
		m->nr_pages -= s->npages;
		break;
	default:
		break;
	}
}

/* What memslots_apply() must do with a batch, as predicted by the model. */
struct model_result {
	int ret;
	int alt_ret;	     /* another acceptable return, where the contract is open */
	size_t failed_index; /* when ret != 0 */
	/*
	 * The changes whose prepare hook must run, in request order: all of
	 * them on success; on failure those of the requests before
	 * failed_index, plus the failing one when it is its prepare that
	 * failed (prepare_failed).
	 */
	size_t nr_changes;
	int *change;
	size_t *index; /* request index of each change */
	bool prepare_failed;
	bool invalidates; /* a DELETE or MOVE among the changes */
};

static inline void model_result_fini(struct model_result *res)
{
	free(res->change);
	free(res->index);
	res->change = NULL;
	res->index = NULL;
}

/*
 * Predicts memslots_apply(r, n) on m and, on success, applies it to m.
 * A prepare hook is assumed to fail with fail_err for every change of
 * slot id fail_id (-1: never).
 *
 * The duplicate-id rule is "one more rule" of the contract without a
 * place in the 1-7 order: a duplicate request that is otherwise valid
 * (or a no-op) must fail with -EINVAL, before its prepare hook; one that
 * would fail with -EEXIST may fail with either.
 */
static inline void model_apply(struct model *m, const struct memslots_region *r, size_t n,
			       int fail_id, int fail_err, struct model_result *res)
{
	struct model tmp;
	bool *named;

	memset(res, 0, sizeof(*res));
	res->change = calloc(n + 1, sizeof(*res->change));
	res->index = calloc(n + 1, sizeof(*res->index));
	named = calloc(65536, sizeof(*named));
	MT_CHECK(res->change && res->index && named, "out of memory");
	model_copy(&tmp, m);

	for (size_t i = 0; i < n; i++) {
		unsigned int id = r[i].slot & 0xffff;
		int change = MODEL_NOOP;
		int err = model_classify(&tmp, &r[i], &change);

		if (named[id] && !(r[i].slot >> 16)) {
			res->alt_ret = err == -EEXIST ? -EEXIST : -EINVAL;
			err = -EINVAL;
		} else {
			res->alt_ret = err;
		}
		if (!err && change != MODEL_NOOP) {
			res->change[res->nr_changes] = change;
			res->index[res->nr_changes] = i;
			res->nr_changes++;
			if ((int)id == fail_id) {
				err = fail_err;
				res->alt_ret = err;
				res->prepare_failed = true;
			}
		}
		if (err) {
			res->ret = err;
			res->failed_index = i;
			goto out;
		}
		named[id] = true;
		if (change == MEMSLOTS_DELETE || change == MEMSLOTS_MOVE)
			res->invalidates = true;
		model_commit(&tmp, &r[i], change);
	}
	res->ret = 0;
	res->alt_ret = 0;
	model_assign(m, &tmp);
out:
	model_fini(&tmp);
	free(named);
}

/* ---- A counting RCU for single-threaded tests ------------------------ */

/*
 * With one thread there is never a reader to wait for, so synchronize has
 * nothing to do; counting the calls observes the number of grace periods
 * a writer call takes, and the depth catches a synchronize issued from
 * inside a read-side section (a deadlock with a real RCU).
 */
struct mt_rcu_stats {
	unsigned long read_lock;
	unsigned long read_unlock;
	unsigned long synchronize;
	unsigned long registered;
	int depth;
};

static struct mt_rcu_stats mt_rcu MODEL_UNUSED;

static inline void mt_rcu_read_lock(void)
{
	mt_rcu.read_lock++;
	mt_rcu.depth++;
}

static inline void mt_rcu_read_unlock(void)
{
	MT_CMP(mt_rcu.depth, >, 0);
	mt_rcu.read_unlock++;
	mt_rcu.depth--;
}

static inline void mt_rcu_synchronize(void)
{
	MT_CHECK(mt_rcu.depth == 0, "synchronize from inside a read-side section");
	mt_rcu.synchronize++;
}

static inline void mt_rcu_register(void)
{
	mt_rcu.registered++;
}

static inline void mt_rcu_unregister(void)
{
	mt_rcu.registered--;
}

static const struct memslots_rcu mt_counting_rcu MODEL_UNUSED = {
	.register_thread = mt_rcu_register,
	.unregister_thread = mt_rcu_unregister,
	.read_lock = mt_rcu_read_lock,
	.read_unlock = mt_rcu_read_unlock,
	.synchronize = mt_rcu_synchronize,
};

/* ---- A hook recorder -------------------------------------------------- */

enum mt_hook {
	MT_PREPARE,
	MT_ABORT,
	MT_COMMIT,
	MT_INVALIDATE,
	MT_RELEASE,
};

struct mt_event {
	enum mt_hook hook;
	int change; /* -1 for invalidate and release */
	bool has_old, has_new;
	struct memslot old, new;       /* copies of the public fields */
	const struct memslot *old_ptr; /* slot for invalidate and release */
	const struct memslot *new_ptr;
	void *priv_in; /* prepare: new->priv on entry */
	uint64_t gen;  /* generation of the active set inside the hook */
	int ret;       /* prepare: what it returned */
};

struct mt_hooks {
	struct mt_event *ev;
	size_t n, cap;
	struct memslots *ms; /* set after memslots_new(), to read from hooks */
	size_t prepare_calls;
	size_t fail_prepare_at; /* fail the k-th prepare since mt_hooks_clear(); 0: never */
	int fail_id;		/* fail every prepare of this id; -1: never */
	int fail_err;
	bool set_priv; /* prepare stores a fresh token in new->priv */
	uintptr_t next_token;
	/* Extra checks run inside every hook, after it is recorded. */
	void (*on_event)(struct mt_hooks *h, const struct mt_event *e);
	void *user;
};

static inline void mt_hooks_init(struct mt_hooks *h)
{
	memset(h, 0, sizeof(*h));
	h->fail_id = -1;
	h->fail_err = -EIO;
	h->next_token = 0x1000;
}

/* Forgets the events; fail_prepare_at counts prepare calls from here. */
static inline void mt_hooks_clear(struct mt_hooks *h)
{
	h->n = 0;
	h->prepare_calls = 0;
}

static inline void mt_hooks_fini(struct mt_hooks *h)
{
	free(h->ev);
	h->ev = NULL;
	h->n = h->cap = 0;
}

static inline size_t mt_hooks_count(const struct mt_hooks *h, enum mt_hook hook)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n; i++)
		n += h->ev[i].hook == hook;
	return n;
}

static inline struct mt_event *mt_record(struct mt_hooks *h, enum mt_hook hook, int change,
					 const struct memslot *old, const struct memslot *new)
{
	struct mt_event *e;

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->ev = realloc(h->ev, h->cap * sizeof(*h->ev));
		MT_PTR_CMP(h->ev, !=, NULL);
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

static inline int mt_hook_prepare(void *opaque, const struct memslot *old, struct memslot *new,
				  enum memslots_change change)
{
	struct mt_hooks *h = opaque;
	struct mt_event *e = mt_record(h, MT_PREPARE, (int)change, old, new);
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

static inline void mt_hook_abort(void *opaque, const struct memslot *old, struct memslot *new,
				 enum memslots_change change)
{
	struct mt_hooks *h = opaque;

	mt_record(h, MT_ABORT, (int)change, old, new);
	if (h->on_event)
		h->on_event(h, &h->ev[h->n - 1]);
}

static inline void mt_hook_commit(void *opaque, const struct memslot *old,
				  const struct memslot *new, enum memslots_change change)
{
	struct mt_hooks *h = opaque;

	mt_record(h, MT_COMMIT, (int)change, old, new);
	if (h->on_event)
		h->on_event(h, &h->ev[h->n - 1]);
}

static inline void mt_hook_invalidate(void *opaque, const struct memslot *slot)
{
	struct mt_hooks *h = opaque;

	mt_record(h, MT_INVALIDATE, -1, slot, NULL);
	if (h->on_event)
		h->on_event(h, &h->ev[h->n - 1]);
}

static inline void mt_hook_release(void *opaque, struct memslot *slot)
{
	struct mt_hooks *h = opaque;
	struct memslots *ms = h->ms;

	/* memslots_free() is tearing ms down: no reading from here. */
	h->ms = NULL;
	mt_record(h, MT_RELEASE, -1, slot, NULL);
	h->ms = ms;
	if (h->on_event)
		h->on_event(h, &h->ev[h->n - 1]);
}

static const struct memslots_ops mt_recording_ops MODEL_UNUSED = {
	.prepare = mt_hook_prepare,
	.abort = mt_hook_abort,
	.commit = mt_hook_commit,
	.invalidate = mt_hook_invalidate,
	.release = mt_hook_release,
};

/* Same public fields (flags masked as given). */
static inline bool mt_slot_same(const struct memslot *a, const struct memslot *b,
				uint32_t flag_mask)
{
	return a->base_gfn == b->base_gfn && a->npages == b->npages &&
	       a->userspace_addr == b->userspace_addr &&
	       (a->flags & flag_mask) == (b->flags & flag_mask) && a->id == b->id &&
	       a->priv == b->priv;
}

static inline bool mt_slot_is(const struct memslot *s, const struct model *m, unsigned int id)
{
	const struct model_slot *ms = &m->slot[id];

	return ms->present && s->id == id && s->base_gfn == ms->base_gfn &&
	       s->npages == ms->npages && s->userspace_addr == ms->hva && s->flags == ms->flags &&
	       s->priv == ms->priv;
}

static inline bool mt_same_event_args(const struct mt_event *a, const struct mt_event *b)
{
	if (a->change != b->change || a->has_old != b->has_old || a->has_new != b->has_new)
		return false;
	if (a->has_old && !mt_slot_same(&a->old, &b->old, ~0u))
		return false;
	return !a->has_new || mt_slot_same(&a->new, &b->new, ~0u);
}

/*
 * The hook log of a failed call: prepares (the last one failing when
 * prepare_failed), then aborts of the successful prepares in reverse order
 * with the same arguments, and nothing else.  Returns the number of
 * prepare calls.
 */
static inline size_t mt_check_rolled_back(const struct mt_hooks *h, bool prepare_failed)
{
	const struct mt_event **p = calloc(h->n + 1, sizeof(*p));
	size_t np = 0, na = 0, last_prepare = 0;

	MT_PTR_CMP(p, !=, NULL);
	for (size_t i = 0; i < h->n; i++) {
		const struct mt_event *ev = &h->ev[i];

		switch (ev->hook) {
		case MT_PREPARE:
			MT_CHECK(na == 0, "prepare after an abort");
			p[np++] = ev;
			last_prepare = i;
			break;
		case MT_ABORT:
			na++;
			break;
		default:
			ck_abort_msg("hook %d called by a failing call", ev->hook);
		}
	}
	if (prepare_failed) {
		MT_CHECK(np && p[np - 1]->ret, "the failing prepare was not called last");
		np--;
	}
	for (size_t i = 0; i < np; i++)
		MT_CHECK(!p[i]->ret, "prepare %zu failed but was not the last", i);
	MT_CHECK(na == np, "%zu aborts for %zu successful prepares", na, np);
	for (size_t i = 0, k = np; i < h->n; i++) {
		const struct mt_event *ev = &h->ev[i];

		if (ev->hook != MT_ABORT)
			continue;
		MT_CMP(i, >, last_prepare);
		k--;
		MT_CHECK(mt_same_event_args(ev, p[k]),
			 "abort #%zu: not prepare #%zu's arguments in reverse order", np - k - 1,
			 k);
	}
	free(p);
	return np + prepare_failed;
}

/* ---- Comparing a published set with a model --------------------------- */

/* Reads a set back into a model (m must have the engine's geometry). */
static inline void model_from_set(struct model *m, const struct memslots_set *set)
{
	memset(m->slot, 0, m->max_slots * sizeof(*m->slot));
	m->count = 0;
	m->nr_pages = 0;
	for (const struct memslot *s = memslots_first(set); s; s = memslots_next(set, s)) {
		struct model_slot *ms;

		MT_CMP(s->id, <, m->max_slots);
		ms = &m->slot[s->id];
		MT_CHECK(!ms->present, "id %u iterated twice", s->id);
		ms->present = true;
		ms->base_gfn = s->base_gfn;
		ms->npages = s->npages;
		ms->hva = s->userspace_addr;
		ms->flags = s->flags;
		ms->priv = s->priv;
		m->count++;
		m->nr_pages += s->npages;
		MT_CMP(m->count, <=, m->max_slots);
	}
}

static inline bool model_equal(const struct model *a, const struct model *b)
{
	if (a->count != b->count || a->nr_pages != b->nr_pages)
		return false;
	for (unsigned int i = 0; i < a->max_slots; i++) {
		const struct model_slot *x = &a->slot[i], *y = &b->slot[i];

		if (x->present != y->present)
			return false;
		if (x->present && (x->base_gfn != y->base_gfn || x->npages != y->npages ||
				   x->hva != y->hva || x->flags != y->flags || x->priv != y->priv))
			return false;
	}
	return true;
}

/* The model's slot ids sorted by base_gfn; returns how many. */
static inline size_t model_sorted(const struct model *m, unsigned int *ids)
{
	size_t n = 0;

	for (unsigned int i = 0; i < m->max_slots; i++) {
		size_t j;

		if (!m->slot[i].present)
			continue;
		/* insertion sort: the model is meant to be obviously right */
		for (j = n; j > 0 && m->slot[ids[j - 1]].base_gfn > m->slot[i].base_gfn; j--)
			ids[j] = ids[j - 1];
		ids[j] = i;
		n++;
	}
	return n;
}

/* Index into ids (sorted) of the slot holding gfn, or -1. */
static inline long model_find(const struct model *m, const unsigned int *ids, size_t n,
			      uint64_t gfn)
{
	size_t lo = 0, hi = n;

	/* binary search: linear scans of 1000-slot sets per probe add up */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct model_slot *s = &m->slot[ids[mid]];

		if (gfn < s->base_gfn)
			hi = mid;
		else if (gfn - s->base_gfn >= s->npages)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

static inline void mt_check_gfn(const struct model *m, const struct memslots_set *set,
				const unsigned int *ids, size_t n, struct memslots_cache *cache,
				uint64_t gfn)
{
	long k = model_find(m, ids, n, gfn);
	const struct memslot *s = memslots_find_gfn(set, gfn);
	const struct memslot *c = memslots_find_gfn_cached(set, cache, gfn);
	const struct memslot *a = memslots_find_gfn_approx(set, gfn);
	uint64_t hva = memslots_gfn_to_hva(set, gfn);

	MT_PTR_CMP(c, ==, s);
	if (k < 0) {
		size_t below = n, above = n; /* n: none */

		MT_CHECK(!s, "find_gfn(%#llx): expected NULL, got id %u", (unsigned long long)gfn,
			 s ? s->id : 0);
		MT_CMP(hva, ==, MEMSLOTS_HVA_BAD);
		for (size_t i = 0; i < n; i++) {
			if (m->slot[ids[i]].base_gfn < gfn)
				below = i;
			else if (above == n)
				above = i;
		}
		if (!n) {
			MT_PTR_CMP(a, ==, NULL);
		} else {
			MT_CHECK(a, "find_gfn_approx(%#llx): NULL in a non-empty set",
				 (unsigned long long)gfn);
			MT_CHECK((below < n && a->id == ids[below]) ||
					 (above < n && a->id == ids[above]),
				 "find_gfn_approx(%#llx): id %u borders no hole there",
				 (unsigned long long)gfn, a->id);
		}
	} else {
		unsigned int id = ids[k];
		const struct model_slot *ms = &m->slot[id];

		MT_CHECK(s && mt_slot_is(s, m, id), "find_gfn(%#llx): expected id %u, got %d",
			 (unsigned long long)gfn, id, s ? s->id : -1);
		MT_PTR_CMP(a, ==, s);
		/* the model may hold an intermediate set: INVALID maps nothing */
		if (ms->flags & MEMSLOT_INVALID)
			MT_CMP(hva, ==, MEMSLOTS_HVA_BAD);
		else
			MT_CMP(hva, ==, ms->hva + ((gfn - ms->base_gfn) << m->page_shift));
	}
}

static inline void mt_check_gfn_range(const struct model *m, const struct memslots_set *set,
				      const unsigned int *ids, size_t n, uint64_t start,
				      uint64_t end)
{
	const struct memslot *s = memslots_gfn_range_first(set, start, end);

	for (size_t i = 0; i < n; i++) {
		const struct model_slot *ms = &m->slot[ids[i]];

		if (end <= start || ms->base_gfn >= end || ms->base_gfn + ms->npages <= start)
			continue;
		MT_CHECK(s && s->id == ids[i], "gfn_range [%#llx, %#llx): expected id %u, got %d",
			 (unsigned long long)start, (unsigned long long)end, ids[i],
			 s ? s->id : -1);
		s = memslots_gfn_range_next(set, s, start, end);
	}
	MT_CHECK(!s, "gfn_range [%#llx, %#llx): extra id %u", (unsigned long long)start,
		 (unsigned long long)end, s ? s->id : 0);
}

static inline void mt_check_hva_range(const struct model *m, const struct memslots_set *set,
				      uint64_t start, uint64_t last)
{
	unsigned char *seen = calloc(m->max_slots, 1);
	size_t expected = 0, got = 0;

	MT_PTR_CMP(seen, !=, NULL);
	for (unsigned int i = 0; i < m->max_slots; i++) {
		const struct model_slot *ms = &m->slot[i];
		uint64_t slast = ms->hva + (ms->npages << m->page_shift) - 1;

		if (ms->present && last >= start && ms->hva <= last && slast >= start)
			expected++;
	}
	for (const struct memslot *s = memslots_hva_range_first(set, start, last); s;
	     s = memslots_hva_range_next(set, s, start, last)) {
		const struct model_slot *ms;
		uint64_t slast;

		MT_CMP(s->id, <, m->max_slots);
		ms = &m->slot[s->id];
		slast = ms->hva + (ms->npages << m->page_shift) - 1;
		MT_CHECK(mt_slot_is(s, m, s->id), "hva_range: stale or unknown id %u", s->id);
		MT_CHECK(ms->hva <= last && slast >= start,
			 "hva_range [%#llx, %#llx]: id %u does not intersect",
			 (unsigned long long)start, (unsigned long long)last, s->id);
		MT_CHECK(!seen[s->id], "hva_range [%#llx, %#llx]: id %u twice",
			 (unsigned long long)start, (unsigned long long)last, s->id);
		seen[s->id] = 1;
		got++;
		MT_CMP(got, <=, expected);
	}
	MT_CHECK(got == expected, "hva_range [%#llx, %#llx]: %zu slots, expected %zu",
		 (unsigned long long)start, (unsigned long long)last, got, expected);
	free(seen);
}

/*
 * Checks every lookup of set against the model: count, nr_pages, the
 * full iteration, find_id of every id, and find_gfn / find_gfn_approx /
 * find_gfn_cached / gfn_to_hva at every slot boundary and at random
 * gfns, plus nr_queries random gfn and hva range queries.
 */
static inline void model_check_set(const struct model *m, const struct memslots_set *set,
				   struct tu_rng *rng, unsigned int nr_queries)
{
	unsigned int *ids = malloc((m->max_slots + 1) * sizeof(*ids));
	struct memslots_cache cache = {0};
	const struct memslot *s;
	uint64_t gfn_top = 16, hva_top = 1ull << m->page_shift;
	size_t n, i;

	MT_PTR_CMP(ids, !=, NULL);
	n = model_sorted(m, ids);
	MT_CMP(memslots_count(set), ==, m->count);
	MT_CMP(memslots_nr_pages(set), ==, m->nr_pages);
	MT_CMP(memslots_generation(set), !=, 0);

	for (i = 0, s = memslots_first(set); i < n; i++, s = memslots_next(set, s)) {
		MT_CHECK(s, "iteration stops after %zu slots, expected %zu", i, n);
		MT_CHECK(mt_slot_is(s, m, ids[i]), "iteration: slot %zu is id %u, expected %u", i,
			 s->id, ids[i]);
	}
	MT_CHECK(!s, "iteration: extra slot id %u", s ? s->id : 0);

	for (unsigned int id = 0; id < m->max_slots; id++) {
		s = memslots_find_id(set, (uint16_t)id);
		if (m->slot[id].present)
			MT_CHECK(s && mt_slot_is(s, m, id), "find_id(%u) wrong", id);
		else
			MT_CHECK(!s, "find_id(%u): expected NULL", id);
	}
	for (unsigned int id = m->max_slots; id < m->max_slots + 2 && id <= 0xffff; id++)
		MT_PTR_CMP(memslots_find_id(set, (uint16_t)id), ==, NULL);

	for (i = 0; i < n; i++) {
		const struct model_slot *ms = &m->slot[ids[i]];
		uint64_t end = ms->base_gfn + ms->npages;

		if (ms->base_gfn)
			mt_check_gfn(m, set, ids, n, &cache, ms->base_gfn - 1);
		mt_check_gfn(m, set, ids, n, &cache, ms->base_gfn);
		mt_check_gfn(m, set, ids, n, &cache, end - 1);
		mt_check_gfn(m, set, ids, n, &cache, end);
		if (end > gfn_top)
			gfn_top = end;
		if (ms->hva + (ms->npages << m->page_shift) > hva_top)
			hva_top = ms->hva + (ms->npages << m->page_shift);
	}
	mt_check_gfn(m, set, ids, n, &cache, 0);
	mt_check_gfn(m, set, ids, n, &cache, UINT64_MAX);

	/* slots may end near 2^64: keep the random bounds from wrapping */
	gfn_top = gfn_top > UINT64_MAX - 2 ? UINT64_MAX : gfn_top + 2;
	hva_top = hva_top > UINT64_MAX - 2 ? UINT64_MAX : hva_top + 2;
	for (unsigned int q = 0; q < nr_queries; q++) {
		uint64_t a = tu_rng_below(rng, gfn_top), b = tu_rng_below(rng, gfn_top);
		uint64_t ha, hb;

		mt_check_gfn(m, set, ids, n, &cache, a);
		mt_check_gfn_range(m, set, ids, n, a, b);
		mt_check_gfn_range(m, set, ids, n, a, a + tu_rng_below(rng, 8));
		/* hva queries around slot edges, where off-by-ones live */
		if (n && tu_rng_below(rng, 2)) {
			const struct model_slot *ms = &m->slot[ids[tu_rng_below(rng, n)]];
			uint64_t len = ms->npages << m->page_shift;
			uint64_t edge[4] = {ms->hva - 1, ms->hva, ms->hva + len - 1, ms->hva + len};

			ha = edge[tu_rng_below(rng, 4)];
			hb = edge[tu_rng_below(rng, 4)];
		} else {
			ha = tu_rng_below(rng, hva_top);
			hb = tu_rng_below(rng, hva_top);
		}
		mt_check_hva_range(m, set, ha, hb);
		mt_check_hva_range(m, set, ha, ha);
	}
	mt_check_gfn_range(m, set, ids, n, 0, UINT64_MAX);
	mt_check_hva_range(m, set, 0, UINT64_MAX);
	free(ids);
}

/* Reads ms's active set into a fresh copy of m's geometry and compares. */
static inline void model_check(const struct model *m, struct memslots *ms, struct tu_rng *rng,
			       unsigned int nr_queries)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	struct model got;

	model_init(&got, m->page_shift, m->max_slots, m->hva_limit);
	model_from_set(&got, set);
	MT_CHECK(model_equal(&got, m), "engine state differs from the model");
	model_check_set(m, set, rng, nr_queries);
	model_fini(&got);
	memslots_read_unlock(ms);
}

static inline uint64_t mt_generation(struct memslots *ms)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	uint64_t gen = memslots_generation(set);

	memslots_read_unlock(ms);
	return gen;
}

/* ---- A test environment: engine + hooks + allocator + model ---------- */

struct mt_env {
	struct memslots *ms;
	struct mt_hooks hooks;
	struct tu_alloc_counter ac;
	struct memslots_config cfg;
	struct model m; /* what the engine must hold */
	struct tu_rng rng;
};

/*
 * rcu NULL selects the library's default (liburcu memb), anything else is
 * used as is; the recording hooks and the counting allocator are always
 * plugged in.
 */
static inline void mt_env_init(struct mt_env *e, unsigned int page_shift, unsigned int max_slots,
			       uint64_t hva_limit, const struct memslots_rcu *rcu)
{
	memset(e, 0, sizeof(*e));
	memset(&mt_rcu, 0, sizeof(mt_rcu));
	mt_hooks_init(&e->hooks);
	e->cfg.page_shift = page_shift;
	e->cfg.max_slots = max_slots;
	e->cfg.ops = &mt_recording_ops;
	e->cfg.opaque = &e->hooks;
	e->cfg.rcu = rcu;
	e->cfg.alloc = tu_alloc;
	e->cfg.free = tu_free;
	e->cfg.alloc_opaque = &e->ac;
	e->cfg.hva_limit = hva_limit;
	e->ms = memslots_new(&e->cfg);
	MT_CHECK(e->ms, "memslots_new: errno %d", errno);
	memslots_reader_register(e->ms);
	e->hooks.ms = e->ms;
	model_init(&e->m, page_shift ? page_shift : 12,
		   max_slots ? max_slots : MEMSLOTS_DEFAULT_MAX_SLOTS, hva_limit);
	tu_rng_seed(&e->rng, 0x5eed0000u + page_shift * 131 + max_slots);
}

/* Frees the engine: one release per remaining slot, ascending, no leak. */
static inline void mt_env_fini(struct mt_env *e)
{
	uint64_t last_gfn = 0;
	size_t nr = 0;

	model_check(&e->m, e->ms, &e->rng, 4);
	memslots_reader_unregister(e->ms);
	mt_hooks_clear(&e->hooks);
	e->hooks.on_event = NULL;
	memslots_free(e->ms);
	for (size_t i = 0; i < e->hooks.n; i++) {
		const struct mt_event *ev = &e->hooks.ev[i];

		MT_CHECK(ev->hook == MT_RELEASE, "hook %d called by memslots_free", ev->hook);
		MT_CHECK(mt_slot_is(&ev->old, &e->m, ev->old.id), "release: wrong slot id %u",
			 ev->old.id);
		MT_CHECK(!nr || ev->old.base_gfn > last_gfn,
			 "release: not in ascending base_gfn order");
		last_gfn = ev->old.base_gfn;
		nr++;
	}
	MT_CMP(nr, ==, e->m.count);
	MT_CHECK(e->ac.live == 0, "leak: %zu allocations (%zu bytes) live after memslots_free",
		 e->ac.live, e->ac.bytes);
	model_fini(&e->m);
	mt_hooks_fini(&e->hooks);
}

/* After a successful call: the model takes the privs that prepare set. */
static inline void mt_env_take_privs(struct mt_env *e)
{
	for (size_t i = 0; i < e->hooks.n; i++) {
		const struct mt_event *ev = &e->hooks.ev[i];

		if (ev->hook == MT_PREPARE && ev->has_new && !ev->ret)
			e->m.slot[ev->new.id].priv = ev->new.priv;
	}
}

/* A request that must succeed, applied to the engine and the model. */
static inline void mt_env_set(struct mt_env *e, struct memslots_region r)
{
	int change = MODEL_NOOP;
	int ret;

	MT_CMP(model_classify(&e->m, &r, &change), ==, 0);
	mt_hooks_clear(&e->hooks);
	ret = memslots_set_region(e->ms, &r);
	MT_CHECK(ret == 0, "set_region(slot %#x, gpa %#llx, size %#llx, hva %#llx): %d", r.slot,
		 (unsigned long long)r.guest_phys_addr, (unsigned long long)r.memory_size,
		 (unsigned long long)r.userspace_addr, ret);
	model_commit(&e->m, &r, change);
	mt_env_take_privs(e);
}

/* Shorthand for a request in pages of the env's page size. */
static inline struct memslots_region mt_env_region(const struct mt_env *e, uint32_t slot,
						   uint32_t flags, uint64_t gfn, uint64_t npages,
						   uint64_t hva)
{
	return model_region(e->m.page_shift, slot, flags, gfn, npages, hva);
}

#endif /* MS_TESTS_MODEL_H */
