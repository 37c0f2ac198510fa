/* SPDX-License-Identifier: MIT */
/*
 * Slot-id allocation: the lowest free id of a range, and a CREATE with an
 * id picked under the same writer-lock hold as the call that creates the
 * slot, so that two threads never pick the same id.
 *
 * "Free" is the writer's view.  Between writer calls both sets hold the
 * same slots, and under ms->lock no call is running, so the active set's
 * id table is the state every later call starts from; readers never change
 * an id table, so the writer may read the published one.
 *
 * Locking: both entry points take ms->lock, as writers do, and refuse
 * (-EDEADLK) where a writer would; a create is one writer call (call.c)
 * whose id is picked between its begin and its body.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <memslots/memslots.h>

#include "engine.h"
#include "idtable.h"
#include "set.h"

/* Checks [@first, *@last] against @ms's ids and clamps *@last to them. */
static int ms_id_range(const struct memslots *ms, unsigned int first, unsigned int *last)
{
	if (first > *last || first >= ms->max_slots)
		return -EINVAL;
	if (*last >= ms->max_slots)
		*last = ms->max_slots - 1;
	return 0;
}

/* The lowest free id of the (clamped) range, or -ENOSPC.  Under ms->lock. */
static int ms_pick_id(struct memslots *ms, unsigned int first, unsigned int last)
{
	const struct memslots_set *set = atomic_load_explicit(&ms->active, memory_order_relaxed);
	int id = ms_set_lowest_free_id(set, first, last);

	return id < 0 ? -ENOSPC : id;
}

MEMSLOTS_API int memslots_lowest_free_id(struct memslots *ms, unsigned int first, unsigned int last,
					 uint16_t *id)
{
	int err;

	if (!ms || !id)
		return -EINVAL;
	err = ms_id_range(ms, first, &last);
	if (err)
		return err;
	err = ms_writer_check(ms);
	if (err)
		return err;
	pthread_mutex_lock(&ms->lock);
	err = ms_pick_id(ms, first, last);
	pthread_mutex_unlock(&ms->lock);
	if (err < 0)
		return err;
	*id = (uint16_t)err;
	return 0;
}

/*
 * A request of either form (@size tells which; a v1 request is the first
 * five fields of a v2 one) created with the lowest free id of [@first,
 * @last].  The request is copied so that the id can be put in.
 */
static int ms_create_one(struct memslots *ms, const void *r, size_t size, unsigned int first,
			 unsigned int last, uint16_t *id)
{
	struct memslots_region2 req;
	struct ms_requests reqs;
	struct ms_call call;
	int picked, err;

	if (!ms || !r || !id)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	memcpy(&req, r, size);
	/* memory_size 0 would be a DELETE: never a create. */
	if (!req.memory_size)
		return -EINVAL;
	err = ms_id_range(ms, first, &last);
	if (err)
		return err;
	err = ms_call_begin(&call, ms);
	if (err)
		return err;
	picked = ms_pick_id(ms, first, last);
	if (picked >= 0) {
		req.slot = (req.slot & 0xffff0000u) | (uint32_t)picked;
		reqs = (struct ms_requests){.base = &req, .size = size};
		err = ms_set_memslots(&call, &reqs, 1);
	} else {
		err = picked;
	}
	err = ms_call_end(&call, err);
	if (!err)
		*id = (uint16_t)picked;
	return err;
}

MEMSLOTS_API int memslots_create_region2(struct memslots *ms, const struct memslots_region2 *r,
					 unsigned int first, unsigned int last, uint16_t *id)
{
	return ms_create_one(ms, r, sizeof(*r), first, last, id);
}

MEMSLOTS_API int memslots_create_region(struct memslots *ms, const struct memslots_region *r,
					unsigned int first, unsigned int last, uint16_t *id)
{
	return ms_create_one(ms, r, sizeof(*r), first, last, id);
}
