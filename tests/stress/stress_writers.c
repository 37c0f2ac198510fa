// SPDX-License-Identifier: MIT
/*
 * memslots_stress's writers (stress.h): each owns its ids, knows what
 * every request must return, and verifies its own slots after each step.
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

#include "model.h"
#include "stress.h"
#include "ts_rng.h"

/* The request that makes slot @id at @gfn: its size and host address are the id's. */
static struct memslots_region st_region(unsigned int id, uint64_t gfn, uint32_t flags)
{
	return ts_model_region(ST_PAGE_SHIFT, id, flags, gfn, st_npages(id), st_hva(id));
}

static unsigned int st_id(const struct st_writer *wr, unsigned int i)
{
	return wr->w * ST_IDS_PER_W + i;
}

static bool st_own_overlap(const struct st_writer *wr, unsigned int skip, uint64_t gfn,
			   uint64_t npages)
{
	unsigned int i;

	for (i = 0; i < ST_IDS_PER_W; i++) {
		const struct st_own *o = &wr->own[i];

		if (i != skip && o->present && gfn < o->gfn + st_npages(st_id(wr, i)) &&
		    o->gfn < gfn + npages)
			return true;
	}
	return false;
}

/*
 * One random request for own id index @i; *expect gets the return code
 * it must give, or 1 for "0 or -EEXIST" (an overlap with another
 * writer's slot, which this writer cannot know).
 */
static struct memslots_region st_request(struct st_writer *wr, unsigned int i, int *expect)
{
	struct st_own *o = &wr->own[i];
	unsigned int id = st_id(wr, i);
	uint64_t gfn = ts_rng_below(&wr->rng, st_gfn_span - st_npages(id) + 1);
	struct memslots_region r;

	if (!o->present) {
		r = st_region(id, gfn,
			      i < ST_GROUP	      ? wr->group_flags
			      : ts_rng_below(&wr->rng, 2) ? MEMSLOT_LOG_DIRTY_PAGES
						      : 0);
		*expect = st_own_overlap(wr, i, gfn, st_npages(id)) ? -EEXIST : 1;
		return r;
	}
	switch (ts_rng_below(&wr->rng, i < ST_GROUP ? 1 : 4)) {
	case 0: /* move (group slots only move: their flags toggle together) */
		r = st_region(id, gfn, o->flags);
		*expect = st_own_overlap(wr, i, gfn, st_npages(id)) ? -EEXIST : 1;
		if (gfn == o->gfn)
			*expect = 0; /* nothing changes */
		break;
	case 1: /* delete */
		r = st_region(id, o->gfn, o->flags);
		r.memory_size = 0;
		*expect = 0;
		break;
	case 2: /* flags only */
		r = st_region(id, o->gfn, o->flags ^ MEMSLOT_LOG_DIRTY_PAGES);
		*expect = 0;
		break;
	default: /* a bad change: another size for an existing slot */
		r = st_region(id, o->gfn, o->flags);
		r.memory_size += ST_PAGE;
		*expect = -EINVAL;
		break;
	}
	return r;
}

/* What @r does to the writer's knowledge, once it succeeded. */
static void st_own_apply(struct st_writer *wr, const struct memslots_region *r)
{
	struct st_own *o = &wr->own[(r->slot & 0xffff) - wr->w * ST_IDS_PER_W];

	o->present = r->memory_size != 0;
	o->gfn = r->guest_phys_addr / ST_PAGE;
	o->flags = r->flags;
}

/* The active set must show exactly what this writer's ids should be. */
static void st_writer_verify(struct st_writer *wr)
{
	const struct memslots_set *set = memslots_read_lock(st_ms);
	unsigned int i;

	for (i = 0; i < ST_IDS_PER_W; i++) {
		const struct memslot *s = memslots_find_id(set, (uint16_t)st_id(wr, i));
		const struct st_own *o = &wr->own[i];

		if (!o->present != !s ||
		    (s && (s->base_gfn != o->gfn || s->flags != o->flags || !st_slot_whole(s))))
			st_slot_violation("writer's own slot not as its last call left it", s);
	}
	memslots_read_unlock(st_ms);
}

static void st_check_ret(int ret, int expect, const char *what)
{
	if (expect == 1 ? (ret != 0 && ret != -EEXIST) : ret != expect)
		st_violation("%s returned %d, expected %d", what, ret, expect == 1 ? 0 : expect);
	if (ret)
		atomic_fetch_add_explicit(&st_writer_failed, 1, memory_order_relaxed);
}

/*
 * A batch of distinct non-group ids, planned on a copy of the writer's
 * knowledge since each request sees the state the earlier ones leave.
 * It ends at the first request bound to fail; the call must then fail
 * there, unless an earlier request hit another writer's slot (-EEXIST).
 */
static void st_writer_batch(struct st_writer *wr)
{
	struct memslots_region batch[ST_MAX_BATCH];
	unsigned int n = 1 + (unsigned int)ts_rng_below(&wr->rng, ST_MAX_BATCH);
	unsigned int base = (unsigned int)ts_rng_below(&wr->rng, ST_IDS_PER_W), i, k;
	struct st_writer plan = *wr;
	bool maybe_eexist = false;
	size_t failed = 999;
	int expect = 0, ret;

	for (i = 0; i < n && !expect; i++) {
		/* a step prime to ST_IDS_PER_W - ST_GROUP: distinct ids */
		k = ST_GROUP + (base + i * 3) % (ST_IDS_PER_W - ST_GROUP);
		batch[i] = st_request(&plan, k, &expect);
		if (expect == 1) {
			maybe_eexist = true;
			expect = 0;
		}
		if (!expect)
			st_own_apply(&plan, &batch[i]);
	}
	n = i;
	wr->rng = plan.rng;
	ret = memslots_apply(st_ms, batch, n, &failed);
	if (ret == -EEXIST && maybe_eexist) {
		atomic_fetch_add_explicit(&st_writer_failed, 1, memory_order_relaxed);
		return;
	}
	st_check_ret(ret, expect, "batch");
	if (ret && failed != n - 1)
		st_violation("batch failed at %zu, expected %u", failed, n - 1);
	if (!ret)
		memcpy(wr->own, plan.own, sizeof(wr->own)); /* not the thread handle */
}

static void st_writer_step(struct st_writer *wr)
{
	struct memslots_region batch[ST_MAX_BATCH];
	int expect, ret;
	unsigned int n, i;
	size_t failed = 999;

	switch (ts_rng_below(&wr->rng, 8)) {
	case 0: /* toggle the whole group's LOG_DIRTY in one batch */
		for (i = n = 0; i < ST_GROUP; i++) {
			const struct st_own *o = &wr->own[i];

			if (o->present)
				batch[n++] = st_region(st_id(wr, i), o->gfn,
						       o->flags ^ MEMSLOT_LOG_DIRTY_PAGES);
		}
		ret = memslots_apply(st_ms, batch, n, &failed);
		st_check_ret(ret, 0, "group toggle");
		if (!ret) {
			for (i = 0; i < n; i++)
				st_own_apply(wr, &batch[i]);
			wr->group_flags ^= MEMSLOT_LOG_DIRTY_PAGES;
		}
		break;
	case 1:
	case 2: /* a batch of distinct own ids */
		st_writer_batch(wr);
		break;
	case 3: /* an invalid request: misaligned, must change nothing */
		i = (unsigned int)ts_rng_below(&wr->rng, ST_IDS_PER_W);
		batch[0] = st_region(st_id(wr, i), 1, 0);
		batch[0].guest_phys_addr += 512;
		st_check_ret(memslots_set_region(st_ms, &batch[0]), -EINVAL, "misaligned");
		break;
	default: /* one request */
		i = (unsigned int)ts_rng_below(&wr->rng, ST_IDS_PER_W);
		batch[0] = st_request(wr, i, &expect);
		ret = memslots_set_region(st_ms, &batch[0]);
		st_check_ret(ret, expect, "set_region");
		if (!ret)
			st_own_apply(wr, &batch[0]);
		break;
	}
	atomic_fetch_add_explicit(&st_writer_calls, 1, memory_order_relaxed);
	st_check_engine();
	st_writer_verify(wr);
}

void *st_writer(void *arg)
{
	struct st_writer *wr = arg;

	memslots_reader_register(st_ms); /* the writer verifies through a reader section */
	while (!atomic_load_explicit(&st_stop, memory_order_relaxed))
		st_writer_step(wr);
	memslots_reader_unregister(st_ms);
	return NULL;
}

