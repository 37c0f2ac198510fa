/* SPDX-License-Identifier: MIT */
/*
 * The memslot object: its lifetime, the writer entry points (each one
 * call: ms_call_begin(), the body in update.c or attributes.c,
 * ms_call_end(), see call.c) and the read-side sections.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "alloc.h"
#include "compiler.h"
#include "dirty.h"
#include "engine.h"
#include "hooks.h"
#include "rcu_default.h"
#include "set.h"
#include "slot.h"

#define MS_MIN_PAGE_SHIFT 10u
#define MS_MAX_PAGE_SHIFT 30u
#define MS_MAX_MAX_SLOTS  65536u
#define MS_ALL_FLAGS	  (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY | MEMSLOT_GUEST_MEMFD)
#define MS_DIRTY_LOG_ALL  (MEMSLOTS_DIRTY_BITMAP | MEMSLOTS_DIRTY_INITIALLY_SET)

_Thread_local unsigned int ms_tls_read_depth;

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
	if (cfg->allowed_flags & ~MS_ALL_FLAGS)
		return -EINVAL;
	if (cfg->index > MEMSLOTS_INDEX_BTREE)
		return -EINVAL;
	/* 0, or BITMAP with or without INITIALLY_SET: nothing else. */
	if (cfg->dirty_log & ~MS_DIRTY_LOG_ALL ||
	    (cfg->dirty_log && !(cfg->dirty_log & MEMSLOTS_DIRTY_BITMAP)))
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
	ms->supported_attributes =
		cfg->supported_attributes ? cfg->supported_attributes : MEMSLOTS_ATTR_PRIVATE;
	/* LOG_DIRTY_PAGES is always allowed, as in KVM. */
	ms->allowed_flags =
		(cfg->allowed_flags ? cfg->allowed_flags : MS_ALL_FLAGS) | MEMSLOT_LOG_DIRTY_PAGES;
	ms->as_id = cfg->as_id;
	ms->dirty_log = cfg->dirty_log;
	ms->gmem = MS_GMEM_INDEX_INIT;
	/* DEFAULT is the library's fastest: today the B+tree. */
	ms->index = cfg->index == MEMSLOTS_INDEX_KVM ? MEMSLOTS_INDEX_KVM : MEMSLOTS_INDEX_BTREE;
	/* Only KVM's index has nodes in a tail of the slot (kvm_index.h). */
	ms->slot_cache.size = ms->index == MEMSLOTS_INDEX_KVM ? sizeof(struct ms_kvm_slot)
							      : sizeof(struct ms_slot);
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
	bool kvm;
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
	kvm = ms->index == MEMSLOTS_INDEX_KVM;
	if (ms_set_init(&ms->sets[0], 0, ms->page_shift, kvm, &ms->alloc))
		goto free_ms;
	if (ms_set_init(&ms->sets[1], 1, ms->page_shift, kvm, &ms->alloc))
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

/*
 * The memory @set's slots own besides themselves, dirty bitmaps and
 * guest_memfd bindings (between calls, each its own); no walk when the
 * object has neither.
 */
static void ms_free_slot_memory(struct memslots *ms, const struct memslots_set *set)
{
	struct ms_slot *slot;

	if (!ms->dirty_log && !ms->gmem.count)
		return;
	for (slot = ms_set_first(set); slot; slot = ms_set_walk_next(set, slot)) {
		ms_dirty_free(&ms->alloc, ms_slot_dirty(slot));
		ms_free(&ms->alloc, ms_slot_gmem(slot));
	}
}

MEMSLOTS_API int memslots_destroy(struct memslots *ms)
{
	struct memslots_set *set;

	if (!ms)
		return 0;
	/*
	 * From one of its own hooks, or inside a read-side section, the
	 * object is still in use on this very thread: refuse rather than free
	 * memory that will be touched again on return.
	 */
	if (ms_writer_check(ms))
		return -EDEADLK;
	/* Both sets hold the same slots between calls: free them through one. */
	set = atomic_load_explicit(&ms->active, memory_order_relaxed);
	ms_hook_release_all(ms, set);
	ms_free_slot_memory(ms, set);
	ms_set_free_slots(set, &ms->alloc);
	ms_slot_cache_settle(&ms->slot_cache, &ms->alloc, 0);
	ms_set_destroy(&ms->sets[0]);
	ms_set_destroy(&ms->sets[1]);
	pthread_mutex_destroy(&ms->lock);
	ms_free(&ms->alloc, ms);
	return 0;
}

MEMSLOTS_API void memslots_free(struct memslots *ms)
{
	int err = memslots_destroy(ms);

	if (err)
		errno = -err;
}

MEMSLOTS_API unsigned int memslots_page_shift(const struct memslots *ms)
{
	return ms ? ms->page_shift : 0;
}

MEMSLOTS_API unsigned int memslots_index(const struct memslots *ms)
{
	return ms ? ms->index : 0;
}

MEMSLOTS_API unsigned int memslots_max_slots(const struct memslots *ms)
{
	return ms ? ms->max_slots : 0;
}

/* ---- the writer entry points ------------------------------------------------ */

/* One request, of either form (@size tells which): set_region and set_region2. */
static int ms_set_one(struct memslots *ms, const void *r, size_t size)
{
	const struct ms_requests reqs = {.base = r, .size = size};
	struct ms_call call;
	int err;

	if (!ms || !r)
		return -EINVAL;
	err = ms_call_begin(&call, ms);
	if (err)
		return err;
	return ms_call_end(&call, ms_set_memslots(&call, &reqs, 1));
}

MEMSLOTS_API int memslots_set_region2(struct memslots *ms, const struct memslots_region2 *r)
{
	return ms_set_one(ms, r, sizeof(*r));
}

MEMSLOTS_API int memslots_set_region(struct memslots *ms, const struct memslots_region *r)
{
	return ms_set_one(ms, r, sizeof(*r));
}

/* A batch of requests of either form (@size tells which): apply and apply2. */
static int ms_apply_n(struct memslots *ms, const void *r, size_t size, size_t n,
		      size_t *failed_index)
{
	const struct ms_requests reqs = {.base = r, .size = size};
	struct ms_call call;
	int err;

	if (!ms || (!r && n)) {
		err = -EINVAL;
		goto out_index;
	}
	if (!n)
		return 0;
	err = ms_call_begin(&call, ms);
	if (err)
		goto out_index;
	err = ms_call_end(&call, ms_set_memslots(&call, &reqs, n));
	if (err && failed_index)
		*failed_index = call.failed_index;
	return err;

out_index:
	if (failed_index)
		*failed_index = 0;
	return err;
}

MEMSLOTS_API int memslots_apply2(struct memslots *ms, const struct memslots_region2 *r, size_t n,
				 size_t *failed_index)
{
	return ms_apply_n(ms, r, sizeof(*r), n, failed_index);
}

MEMSLOTS_API int memslots_apply(struct memslots *ms, const struct memslots_region *r, size_t n,
				size_t *failed_index)
{
	return ms_apply_n(ms, r, sizeof(*r), n, failed_index);
}

MEMSLOTS_API int memslots_set_attributes(struct memslots *ms, const struct memslots_attributes *a)
{
	struct ms_call call;
	int err;

	if (!ms || !a)
		return -EINVAL;
	err = ms_call_begin(&call, ms);
	if (err)
		return err;
	return ms_call_end(&call, ms_set_attributes(&call, a));
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
