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
void mt_env_init(struct mt_env *e, unsigned int page_shift, unsigned int max_slots,
		 uint64_t hva_limit, const struct memslots_rcu *rcu)
{
	mt_env_init_surface(e, page_shift, max_slots, hva_limit, rcu, 0, 0);
}

void mt_env_init_surface(struct mt_env *e, unsigned int page_shift, unsigned int max_slots,
			 uint64_t hva_limit, const struct memslots_rcu *rcu, uint32_t allowed_flags,
			 uint16_t as_id)
{
	mt_env_init_dirty(e, page_shift, max_slots, hva_limit, rcu, allowed_flags, as_id, 0);
}

void mt_env_init_dirty(struct mt_env *e, unsigned int page_shift, unsigned int max_slots,
		       uint64_t hva_limit, const struct memslots_rcu *rcu, uint32_t allowed_flags,
		       uint16_t as_id, uint32_t dirty_log)
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
	e->cfg.allowed_flags = allowed_flags;
	e->cfg.as_id = as_id;
	e->cfg.dirty_log = dirty_log;
	e->ms = memslots_new(&e->cfg);
	MT_CHECK(e->ms, "memslots_new: errno %d", errno);
	memslots_reader_register(e->ms);
	e->hooks.ms = e->ms;
	model_init(&e->m, page_shift ? page_shift : 12,
		   max_slots ? max_slots : MEMSLOTS_DEFAULT_MAX_SLOTS, hva_limit);
	model_set_surface(&e->m, allowed_flags, as_id);
	tu_rng_seed(&e->rng, 0x5eed0000u + page_shift * 131 + max_slots);
}

/* Frees the engine: one release per remaining slot, ascending, no leak. */
void mt_env_fini(struct mt_env *e)
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
void mt_env_take_privs(struct mt_env *e)
{
	for (size_t i = 0; i < e->hooks.n; i++) {
		const struct mt_event *ev = &e->hooks.ev[i];

		if (ev->hook == MT_PREPARE && ev->has_new && !ev->ret)
			e->m.slot[ev->new.id].priv = ev->new.priv;
	}
}

/*
 * A request that must succeed, applied to the engine, through the v1 call
 * (set_region, given the first five fields) or the v2 one, and to the
 * model.
 */
static void mt_env_set_any(struct mt_env *e, const struct memslots_region2 *r, bool v1)
{
	struct memslots_region r1 = {r->slot, r->flags, r->guest_phys_addr, r->memory_size,
				     r->userspace_addr};
	int change = MODEL_NOOP;
	int ret;

	MT_CMP(model_classify2_why(&e->m, r, v1, &change, NULL), ==, 0);
	mt_hooks_clear(&e->hooks);
	ret = v1 ? memslots_set_region(e->ms, &r1) : memslots_set_region2(e->ms, r);
	MT_CHECK(ret == 0,
		 "set_region%s(slot %#x, flags %#x, gpa %#llx, size %#llx, hva %#llx): %d",
		 v1 ? "" : "2", r->slot, r->flags, (unsigned long long)r->guest_phys_addr,
		 (unsigned long long)r->memory_size, (unsigned long long)r->userspace_addr, ret);
	model_commit2(&e->m, r, change);
	mt_env_take_privs(e);
	mt_check_engine(e->ms);
}

void mt_env_set(struct mt_env *e, struct memslots_region r)
{
	struct memslots_region2 w = model_widen(&r);

	mt_env_set_any(e, &w, true);
}

void mt_env_set2(struct mt_env *e, struct memslots_region2 r)
{
	mt_env_set_any(e, &r, false);
}

/* Shorthand for a request in pages of the env's page size. */
struct memslots_region mt_env_region(const struct mt_env *e, uint32_t slot, uint32_t flags,
				     uint64_t gfn, uint64_t npages, uint64_t hva)
{
	return model_region(e->m.page_shift, slot, flags, gfn, npages, hva);
}
