/* SPDX-License-Identifier: MIT */
/* The test environment: an engine, its hooks and allocator, and a model. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "model.h"

/*
 * rcu NULL selects the library's default (liburcu memb), anything else is
 * used as is; the recording hooks and the counting allocator are always
 * plugged in.
 */
void ts_env_init(struct ts_env *e, unsigned int page_shift, unsigned int max_slots,
		 uint64_t hva_limit, const struct memslots_rcu *rcu)
{
	ts_env_init_surface(e, page_shift, max_slots, hva_limit, rcu, 0, 0);
}

void ts_env_init_surface(struct ts_env *e, unsigned int page_shift, unsigned int max_slots,
			 uint64_t hva_limit, const struct memslots_rcu *rcu, uint32_t allowed_flags,
			 uint16_t as_id)
{
	ts_env_init_dirty(e, page_shift, max_slots, hva_limit, rcu, allowed_flags, as_id, 0);
}

void ts_env_init_dirty(struct ts_env *e, unsigned int page_shift, unsigned int max_slots,
		       uint64_t hva_limit, const struct memslots_rcu *rcu, uint32_t allowed_flags,
		       uint16_t as_id, uint32_t dirty_log)
{
	memset(e, 0, sizeof(*e));
	memset(&ts_rcu, 0, sizeof(ts_rcu));
	ts_hooks_init(&e->hooks);
	e->cfg.page_shift = page_shift;
	e->cfg.max_slots = max_slots;
	e->cfg.ops = &ts_recording_ops;
	e->cfg.opaque = &e->hooks;
	e->cfg.rcu = rcu;
	e->cfg.alloc = ts_alloc;
	e->cfg.free = ts_free;
	e->cfg.alloc_opaque = &e->ac;
	e->cfg.hva_limit = hva_limit;
	e->cfg.allowed_flags = allowed_flags;
	e->cfg.as_id = as_id;
	e->cfg.dirty_log = dirty_log;
	e->ms = memslots_new(&e->cfg);
	TS_CHECK(e->ms, "memslots_new: errno %d", errno);
	memslots_reader_register(e->ms);
	e->hooks.ms = e->ms;
	ts_model_init(&e->m, page_shift ? page_shift : 12,
		      max_slots ? max_slots : MEMSLOTS_DEFAULT_MAX_SLOTS, hva_limit);
	ts_model_set_surface(&e->m, allowed_flags, as_id);
	ts_rng_seed(&e->rng, 0x5eed0000u + page_shift * 131 + max_slots);
}

/* Frees the engine: one release per remaining slot, ascending, no leak. */
void ts_env_fini(struct ts_env *e)
{
	uint64_t last_gfn = 0;
	size_t nr = 0;

	ts_model_check(&e->m, e->ms, &e->rng, 4);
	memslots_reader_unregister(e->ms);
	ts_hooks_clear(&e->hooks);
	e->hooks.on_event = NULL;
	memslots_free(e->ms);
	for (size_t i = 0; i < e->hooks.n; i++) {
		const struct ts_event *ev = &e->hooks.ev[i];

		TS_CHECK(ev->hook == TS_RELEASE, "hook %d called by memslots_free", ev->hook);
		TS_CHECK(ts_slot_is(&ev->old, &e->m, ev->old.id), "release: wrong slot id %u",
			 ev->old.id);
		TS_CHECK(!nr || ev->old.base_gfn > last_gfn,
			 "release: not in ascending base_gfn order");
		last_gfn = ev->old.base_gfn;
		nr++;
	}
	TS_CMP(nr, ==, e->m.count);
	TS_CHECK(e->ac.live == 0, "leak: %zu allocations (%zu bytes) live after memslots_free",
		 e->ac.live, e->ac.bytes);
	ts_model_fini(&e->m);
	ts_hooks_fini(&e->hooks);
}

/* After a successful call: the model takes the privs that prepare set. */
void ts_env_take_privs(struct ts_env *e)
{
	for (size_t i = 0; i < e->hooks.n; i++) {
		const struct ts_event *ev = &e->hooks.ev[i];

		if (ev->hook == TS_PREPARE && ev->has_new && !ev->ret)
			e->m.slot[ev->new.id].priv = ev->new.priv;
	}
}

/*
 * A request that must succeed, applied to the engine, through the v1 call
 * (set_region, given the first five fields) or the v2 one, and to the
 * model.
 */
static void ts_env_set_any(struct ts_env *e, const struct memslots_region2 *r, bool v1)
{
	struct memslots_region r1 = {r->slot, r->flags, r->guest_phys_addr, r->memory_size,
				     r->userspace_addr};
	int change = TS_MODEL_NOOP;
	int ret;

	TS_CMP(ts_model_classify2_why(&e->m, r, v1, &change, NULL), ==, 0);
	ts_hooks_clear(&e->hooks);
	ret = v1 ? memslots_set_region(e->ms, &r1) : memslots_set_region2(e->ms, r);
	TS_CHECK(ret == 0,
		 "set_region%s(slot %#x, flags %#x, gpa %#llx, size %#llx, hva %#llx): %d",
		 v1 ? "" : "2", r->slot, r->flags, (unsigned long long)r->guest_phys_addr,
		 (unsigned long long)r->memory_size, (unsigned long long)r->userspace_addr, ret);
	ts_model_commit2(&e->m, r, change);
	ts_env_take_privs(e);
	ts_check_engine(e->ms);
}

void ts_env_set(struct ts_env *e, struct memslots_region r)
{
	struct memslots_region2 w = ts_model_widen(&r);

	ts_env_set_any(e, &w, true);
}

void ts_env_set2(struct ts_env *e, struct memslots_region2 r)
{
	ts_env_set_any(e, &r, false);
}

/* Shorthand for a request in pages of the env's page size. */
struct memslots_region ts_env_region(const struct ts_env *e, uint32_t slot, uint32_t flags,
				     uint64_t gfn, uint64_t npages, uint64_t hva)
{
	return ts_model_region(e->m.page_shift, slot, flags, gfn, npages, hva);
}
