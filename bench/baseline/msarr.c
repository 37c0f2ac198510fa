/* SPDX-License-Identifier: MIT */
/*
 * The array baseline: the pre-2021 KVM memslot scheme behind the
 * libmemslots API contract.  See msarr.h for what it is and why, and
 * msarr_impl.h for how a set is laid out.
 *
 * This file: creating and freeing an instance, its defaults (liburcu memb,
 * libc allocation), allocating a set, and the instance's constants.  The
 * writers are in msarr_update.c, the readers in msarr_read.c.
 */
#include "msarr.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-memb.h>
#include <urcu/static/urcu-memb.h> /* urcu_memb_reader.registered */

#include "msarr_impl.h"

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

void msarr_set_free(const struct msarr *ms, struct msarr_set *set)
{
	if (set)
		ms->free(set, ms->alloc_opaque);
}

/* A set with room for @capacity slots, id table filled with MSARR_NO_INDEX. */
struct msarr_set *msarr_set_alloc(const struct msarr *ms, uint32_t capacity)
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
