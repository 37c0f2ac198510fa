// SPDX-License-Identifier: MIT
/*
 * Black-box tests of the request validation rules of the API contract, in
 * their order, with boundary values, through memslots_set_region() and
 * memslots_apply(); plus the configuration checks of memslots_new() and
 * the NULL-argument conventions.
 *
 * One table lists requests against a fixed three-slot state, with the
 * result the contract dictates; a second one (validation2_rows.h) does
 * the same for the KVM 6.x surface (Extension 1), against that state plus
 * two guest_memfd slots.  Every row is also run through the reference
 * model (tests/support/model.h), so the tables and the model keep each
 * other honest, and every row runs through both the single and the batch
 * calls.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "model.h"
#include "ts_check.h"
#include "validation_shorthands.h"

struct row {
	const char *name;
	bool no_limit; /* config without hva_limit (to reach the wraparound checks) */
	uint32_t slot;
	uint32_t flags;
	uint64_t gpa, size, hva;
	int ret;
	int change; /* when ret == 0 */
};

/*
 * The fixed state every row runs against (page_shift 12, max_slots 512):
 *   id 1: gfn [0x100, 0x110), hva 0x10000000, flags 0
 *   id 2: gfn [0x200, 0x210), hva 0x20000000, READONLY
 *   id 3: gfn [0x300, 0x310), hva 0x30000000, LOG_DIRTY_PAGES
 * and the two guest_memfd slots of the v2 table (ids 4 and 5, gfns
 * [0x400, 0x410) and [0x500, 0x504)), which v1 requests may delete but
 * never change.  Id 10 is free; "new" requests use it.
 */
static const struct row rows[] = {
	/* Rule 1: unknown flag bits, whatever else the request is. */
	{"flags_bit2_create", LIMITED, 10, 1u << 2, G(0x1000), G(1), NEW_HVA, -EINVAL, NO_CHG},
	{"flags_bit15_create", LIMITED, 10, 1u << 15, G(0x1000), G(1), NEW_HVA, -EINVAL, NO_CHG},
	{"flags_bit31_create", LIMITED, 10, 1u << 31, G(0x1000), G(1), NEW_HVA, -EINVAL, NO_CHG},
	{"flags_all_create", LIMITED, 10, ~0u, G(0x1000), G(1), NEW_HVA, -EINVAL, NO_CHG},
	{"flags_invalid_by_caller_create", LIMITED, 10, MEMSLOT_INVALID, G(0x1000), G(1), NEW_HVA,
	 -EINVAL, NO_CHG},
	{"flags_invalid_by_caller_existing", LIMITED, 1, MEMSLOT_INVALID, G(0x100), G(0x10),
	 0x10000000, -EINVAL, NO_CHG},
	{"flags_log_ro_create_ok", LIMITED, 10, LOG | RO, G(0x1000), G(1), NEW_HVA, 0, CREATE},
	{"flags_bad_then_delete_existing", LIMITED, 1, 1u << 2, 0, 0, 0, -EINVAL, NO_CHG},
	{"flags_bad_then_noop", LIMITED, 1, 1u << 3, G(0x100), G(0x10), 0x10000000, -EINVAL,
	 NO_CHG},

	/* Rule 2: alignment of each field. */
	{"size_misaligned_half_page", LIMITED, 10, 0, G(0x1000), P / 2, NEW_HVA, -EINVAL, NO_CHG},
	{"size_misaligned_page_plus_1", LIMITED, 10, 0, G(0x1000), P + 1, NEW_HVA, -EINVAL, NO_CHG},
	{"size_misaligned_existing", LIMITED, 1, 0, G(0x100), G(0x10) + 8, 0x10000000, -EINVAL,
	 NO_CHG},
	{"size_misaligned_existing_delete", LIMITED, 1, 0, 0, 8, 0, -EINVAL, NO_CHG},
	{"gpa_misaligned_half_page", LIMITED, 10, 0, G(0x1000) + P / 2, G(1), NEW_HVA, -EINVAL,
	 NO_CHG},
	{"gpa_misaligned_1", LIMITED, 10, 0, G(0x1000) + 1, G(1), NEW_HVA, -EINVAL, NO_CHG},
	{"gpa_misaligned_existing_delete", LIMITED, 1, 0, 1, 0, 0, -EINVAL, NO_CHG},
	{"hva_misaligned_half_page", LIMITED, 10, 0, G(0x1000), G(1), NEW_HVA + P / 2, -EINVAL,
	 NO_CHG},
	{"hva_misaligned_existing", LIMITED, 1, 0, G(0x100), G(0x10), 0x10000008, -EINVAL, NO_CHG},
	{"hva_misaligned_existing_delete", LIMITED, 1, 0, 0, 0, 0x10000001, -EINVAL, NO_CHG},

	/* Rule 2: userspace_addr + memory_size, wraparound and hva_limit. */
	{"hva_wrap_one_page_past", NO_LIMIT, 10, 0, G(0x1000), 2 * P, TOP - P, -EINVAL, NO_CHG},
	{"hva_wrap_far_past", NO_LIMIT, 10, 0, G(0x1000), G(0x100), TOP - G(0x10), -EINVAL, NO_CHG},
	{"hva_wrap_largest", NO_LIMIT, 10, 0, G(0x1000), G(MAXNP), TOP - P, -EINVAL, NO_CHG},
	{"hva_near_top_ok", NO_LIMIT, 10, 0, G(0x1000), 2 * P, TOP - 3 * P, 0, CREATE},
	{"hva_wrap_with_limit", LIMITED, 10, 0, G(0x1000), 2 * P, TOP - P, -EINVAL, NO_CHG},
	{"hva_limit_exactly_at", LIMITED, 10, 0, G(0x1000), G(1), LIM - P, 0, CREATE},
	{"hva_limit_exactly_at_big", LIMITED, 10, 0, G(0x1000), G(0x10), LIM - G(0x10), 0, CREATE},
	{"hva_limit_exceeded_by_page", LIMITED, 10, 0, G(0x1000), G(2), LIM - P, -EINVAL, NO_CHG},
	{"hva_limit_start_at_limit", LIMITED, 10, 0, G(0x1000), G(1), LIM, -EINVAL, NO_CHG},
	{"hva_limit_exceeded_delete", LIMITED, 1, 0, 0, 0, LIM + P, -EINVAL, NO_CHG},
	{"hva_limit_exactly_delete_ok", LIMITED, 1, 0, 0, 0, LIM, 0, DELETE},

	/* Rule 2: address space and id. */
	{"as_id_1_create", LIMITED, (1u << 16) | 10, 0, G(0x1000), G(1), NEW_HVA, -EINVAL, NO_CHG},
	{"as_id_top_create", LIMITED, (1u << 31) | 10, 0, G(0x1000), G(1), NEW_HVA, -EINVAL,
	 NO_CHG},
	{"as_id_1_existing_noop", LIMITED, (1u << 16) | 1, 0, G(0x100), G(0x10), 0x10000000,
	 -EINVAL, NO_CHG},
	{"as_id_1_existing_delete", LIMITED, (1u << 16) | 1, 0, 0, 0, 0, -EINVAL, NO_CHG},
	{"id_0_ok", LIMITED, 0, 0, G(0x1000), G(1), NEW_HVA, 0, CREATE},
	{"id_last_valid", LIMITED, MAXID - 1, 0, G(0x1000), G(1), NEW_HVA, 0, CREATE},
	{"id_max_slots", LIMITED, MAXID, 0, G(0x1000), G(1), NEW_HVA, -EINVAL, NO_CHG},
	{"id_ffff", LIMITED, 0xffff, 0, G(0x1000), G(1), NEW_HVA, -EINVAL, NO_CHG},
	{"id_max_slots_delete", LIMITED, MAXID, 0, 0, 0, 0, -EINVAL, NO_CHG},

	/* Rule 3: guest_phys_addr + memory_size wraparound, and npages. */
	{"gpa_wrap_one_page_past", NO_LIMIT, 10, 0, TOP - P, 2 * P, NEW_HVA, -EINVAL, NO_CHG},
	{"gpa_wrap_far_past", NO_LIMIT, 10, 0, TOP - G(0x10), G(0x100), NEW_HVA, -EINVAL, NO_CHG},
	{"gpa_near_top_ok", NO_LIMIT, 10, 0, TOP - 3 * P, 2 * P, NEW_HVA, 0, CREATE},
	{"npages_max", LIMITED, 10, 0, G(1ull << 32), G(MAXNP), 1ull << 44, 0, CREATE},
	{"npages_max_plus_1", LIMITED, 10, 0, G(1ull << 32), G(MAXNP + 1), 1ull << 44, -EINVAL,
	 NO_CHG},
	{"npages_huge", NO_LIMIT, 10, 0, G(1ull << 40), 1ull << 62, 0, -EINVAL, NO_CHG},
	{"npages_max_move_existing_sized", LIMITED, 1, 0, G(0x100), G(MAXNP + 1), 0x10000000,
	 -EINVAL, NO_CHG},

	/* Rule 4: delete. */
	{"delete_existing", LIMITED, 1, 0, 0, 0, 0, 0, DELETE},
	{"delete_existing_other_fields_ignored", LIMITED, 2, LOG, G(0x5000), 0, 0x70000000, 0,
	 DELETE},
	{"delete_missing", LIMITED, 10, 0, 0, 0, 0, -EINVAL, NO_CHG},
	{"delete_missing_id_0", LIMITED, 0, 0, 0, 0, 0, -EINVAL, NO_CHG},
	{"delete_missing_last_id", LIMITED, MAXID - 1, 0, 0, 0, 0, -EINVAL, NO_CHG},

	/* Rule 5: create and gfn overlap. */
	{"create_overlap_identical", LIMITED, 10, 0, G(0x100), G(0x10), NEW_HVA, -EEXIST, NO_CHG},
	{"create_overlap_last_page", LIMITED, 10, 0, G(0x10f), G(1), NEW_HVA, -EEXIST, NO_CHG},
	{"create_overlap_first_page_from_below", LIMITED, 10, 0, G(0xf0), G(0x11), NEW_HVA, -EEXIST,
	 NO_CHG},
	{"create_overlap_inside", LIMITED, 10, 0, G(0x104), G(2), NEW_HVA, -EEXIST, NO_CHG},
	{"create_overlap_covers_all", LIMITED, 10, 0, 0, G(0x1000), NEW_HVA, -EEXIST, NO_CHG},
	{"create_overlap_two_slots", LIMITED, 10, 0, G(0x108), G(0x100), NEW_HVA, -EEXIST, NO_CHG},
	{"create_touch_below_ok", LIMITED, 10, 0, G(0xf0), G(0x10), NEW_HVA, 0, CREATE},
	{"create_touch_between_ok", LIMITED, 10, 0, G(0x110), G(0xf0), NEW_HVA, 0, CREATE},
	{"create_touch_above_ok", LIMITED, 10, 0, G(0x310), G(1), NEW_HVA, 0, CREATE},
	{"create_gfn_0_ok", LIMITED, 10, 0, 0, G(1), NEW_HVA, 0, CREATE},
	{"create_hva_shared_ok", LIMITED, 10, 0, G(0x1000), G(0x10), 0x10000000, 0, CREATE},
	{"create_hva_0_ok", LIMITED, 10, 0, G(0x1000), G(1), 0, 0, CREATE},

	/* Rule 6: an existing slot. */
	{"existing_size_grow", LIMITED, 1, 0, G(0x100), G(0x11), 0x10000000, -EINVAL, NO_CHG},
	{"existing_size_shrink", LIMITED, 1, 0, G(0x100), G(0xf), 0x10000000, -EINVAL, NO_CHG},
	{"existing_hva_change", LIMITED, 1, 0, G(0x100), G(0x10), 0x10001000, -EINVAL, NO_CHG},
	{"existing_readonly_on", LIMITED, 1, RO, G(0x100), G(0x10), 0x10000000, -EINVAL, NO_CHG},
	{"existing_readonly_off", LIMITED, 2, 0, G(0x200), G(0x10), 0x20000000, -EINVAL, NO_CHG},
	{"existing_readonly_off_log_on", LIMITED, 2, LOG, G(0x200), G(0x10), 0x20000000, -EINVAL,
	 NO_CHG},
	{"flags_only_log_on", LIMITED, 1, LOG, G(0x100), G(0x10), 0x10000000, 0, FLAGS},
	{"flags_only_log_off", LIMITED, 3, 0, G(0x300), G(0x10), 0x30000000, 0, FLAGS},
	{"flags_only_log_on_readonly", LIMITED, 2, RO | LOG, G(0x200), G(0x10), 0x20000000, 0,
	 FLAGS},
	{"move", LIMITED, 1, 0, G(0x1000), G(0x10), 0x10000000, 0, MOVE},
	{"move_with_flags", LIMITED, 1, LOG, G(0x1000), G(0x10), 0x10000000, 0, MOVE},
	{"move_readonly_slot", LIMITED, 2, RO, G(0x1000), G(0x10), 0x20000000, 0, MOVE},
	{"move_to_gfn_0", LIMITED, 1, 0, 0, G(0x10), 0x10000000, 0, MOVE},
	{"move_overlap_other", LIMITED, 1, 0, G(0x1f8), G(0x10), 0x10000000, -EEXIST, NO_CHG},
	{"move_overlap_other_last_page", LIMITED, 1, 0, G(0x30f), G(0x10), 0x10000000, -EEXIST,
	 NO_CHG},
	{"move_overlap_own_old_range_ok", LIMITED, 1, 0, G(0x108), G(0x10), 0x10000000, 0, MOVE},
	{"move_touch_other_ok", LIMITED, 1, 0, G(0x1f0), G(0x10), 0x10000000, 0, MOVE},
	{"move_touch_other_above_ok", LIMITED, 1, 0, G(0x210), G(0x10), 0x10000000, 0, MOVE},
	{"move_size_change", LIMITED, 1, 0, G(0x1000), G(0x20), 0x10000000, -EINVAL, NO_CHG},
	{"noop", LIMITED, 1, 0, G(0x100), G(0x10), 0x10000000, 0, NO_CHG},
	{"noop_readonly", LIMITED, 2, RO, G(0x200), G(0x10), 0x20000000, 0, NO_CHG},
	{"noop_log", LIMITED, 3, LOG, G(0x300), G(0x10), 0x30000000, 0, NO_CHG},

	/* Rule order: a request breaking two rules gets the earlier rule's error. */
	{"order_flags_before_overlap", LIMITED, 10, 1u << 2, G(0x100), G(0x10), NEW_HVA, -EINVAL,
	 NO_CHG},
	{"order_invalid_flag_before_overlap", LIMITED, 10, MEMSLOT_INVALID, G(0x100), G(0x10),
	 NEW_HVA, -EINVAL, NO_CHG},
	{"order_misaligned_hva_before_overlap", LIMITED, 10, 0, G(0x100), G(0x10), NEW_HVA + 8,
	 -EINVAL, NO_CHG},
	{"order_hva_limit_before_overlap", LIMITED, 10, 0, G(0x100), G(0x10), LIM, -EINVAL, NO_CHG},
	{"order_as_id_before_overlap", LIMITED, (1u << 16) | 10, 0, G(0x100), G(0x10), NEW_HVA,
	 -EINVAL, NO_CHG},
	{"order_id_before_overlap", LIMITED, MAXID, 0, G(0x100), G(0x10), NEW_HVA, -EINVAL, NO_CHG},
	{"order_npages_before_overlap", LIMITED, 10, 0, 0, G(MAXNP + 1), 0x1000, -EINVAL, NO_CHG},
	{"order_gpa_wrap_before_overlap", NO_LIMIT, 10, 0, TOP - P, G(0x10000), NEW_HVA, -EINVAL,
	 NO_CHG},
	{"order_size_change_before_move_overlap", LIMITED, 1, 0, G(0x200), G(0x20), 0x10000000,
	 -EINVAL, NO_CHG},
	{"order_hva_change_before_move_overlap", LIMITED, 1, 0, G(0x200), G(0x10), 0x50000000,
	 -EINVAL, NO_CHG},
	{"order_readonly_before_move_overlap", LIMITED, 1, RO, G(0x200), G(0x10), 0x10000000,
	 -EINVAL, NO_CHG},
	{"order_misaligned_before_missing_delete", LIMITED, 10, 0, P / 2, 0, 0, -EINVAL, NO_CHG},
	{"order_as_id_before_delete", LIMITED, (1u << 17) | 3, 0, 0, 0, 0, -EINVAL, NO_CHG},
	{"order_misaligned_before_delete", LIMITED, 3, 0, 0, 0, 0x30000800, -EINVAL, NO_CHG},
	{"order_npages_before_existing", LIMITED, 3, 0, G(0x300), G(MAXNP + 1), 0x30000000, -EINVAL,
	 NO_CHG},
};

#include "validation2_rows.h"

enum mode {
	SINGLE,		/* memslots_set_region() */
	BATCH_OF_ONE,	/* memslots_apply() of that one request */
	BATCH_SECOND,	/* memslots_apply() after an unrelated valid create */
	FAILING_PREPARE /* memslots_set_region() with a prepare hook that always fails */
};

/*
 * A row of either table, in one form: the request as a v2 one, sent
 * through the v1 calls (set_region, apply) when api is V1.
 */
struct case_ {
	const char *name;
	enum api api;
	enum cfg2 cfg;
	bool no_limit;
	struct memslots_region2 req;
	int ret;
	int change;
};

static struct case_ case_of_row(const struct row *row)
{
	struct case_ c = {
		.name = row->name,
		.api = V1,
		.cfg = CFG_ALL,
		.no_limit = row->no_limit,
		.req = {.slot = row->slot,
			.flags = row->flags,
			.guest_phys_addr = row->gpa,
			.memory_size = row->size,
			.userspace_addr = row->hva},
		.ret = row->ret,
		.change = row->change,
	};
	return c;
}

static struct case_ case_of_row2(const struct row2 *row)
{
	struct case_ c = {
		.name = row->name,
		.api = row->api,
		.cfg = row->cfg,
		.req = {.slot = row->slot,
			.flags = row->flags,
			.guest_phys_addr = row->gpa,
			.memory_size = row->size,
			.userspace_addr = row->hva,
			.guest_memfd_offset = row->offset,
			.guest_memfd = row->fd},
		.ret = row->ret,
		.change = row->change,
	};

	if (row->junk) {
		c.req.pad1 = 0xdeadbeef;
		c.req.pad2[0] = ~0ull;
		c.req.pad2[13] = 0x5a5a5a5a5a5a5a5aull;
	}
	return c;
}

static uint32_t cfg_allowed_flags(enum cfg2 cfg)
{
	switch (cfg) {
	case CFG_NO_GMEM:
		return LOG | RO;
	case CFG_NO_RO:
		return LOG | GMEM;
	case CFG_ONLY_LOG:
		return LOG;
	default:
		return 0;
	}
}

/*
 * The fixed state of both tables (validation2_rows.h), in the config's
 * address space, without the slots whose flags the config does not allow.
 */
static void env_with_base_state(struct ts_env *e, enum cfg2 cfg, bool no_limit)
{
	uint16_t as = cfg == CFG_AS1 ? 1 : 0;
	uint32_t asb = (uint32_t)as << 16;
	const struct memslots_region2 base[] = {
		{asb | 1, 0, G(0x100), G(0x10), 0x10000000, 0, 0, 0, {0}},
		{asb | 2, RO, G(0x200), G(0x10), 0x20000000, 0, 0, 0, {0}},
		{asb | 3, LOG, G(0x300), G(0x10), 0x30000000, 0, 0, 0, {0}},
		{asb | 4, GMEM, G(0x400), G(0x10), GMEM_HVA, G(0x10), 7, 0, {0}},
		{asb | 5, GMEM, G(0x500), G(4), 0x58000000, 0, 8, 0, {0}},
	};

	ts_env_init_surface(e, 12, MAXID, no_limit ? 0 : LIM, &ts_counting_rcu,
			    cfg_allowed_flags(cfg), as);
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (!(base[i].flags & ~e->m.allowed_flags))
			ts_env_set2(e, base[i]);
}

/* The v1 form of a v2 request: its first five fields. */
static struct memslots_region narrow(const struct memslots_region2 *r)
{
	struct memslots_region n = {
		.slot = r->slot,
		.flags = r->flags,
		.guest_phys_addr = r->guest_phys_addr,
		.memory_size = r->memory_size,
		.userspace_addr = r->userspace_addr,
	};
	return n;
}

/* @r[0..n) through the row's calls: set_region(2) when !batch. */
static int call_api(struct ts_env *e, enum api api, const struct memslots_region2 *r, size_t n,
		    bool batch, size_t *failed)
{
	struct memslots_region r1[2];

	if (api == V2)
		return batch ? memslots_apply2(e->ms, r, n, failed)
			     : memslots_set_region2(e->ms, r);
	for (size_t i = 0; i < n; i++)
		r1[i] = narrow(&r[i]);
	return batch ? memslots_apply(e->ms, r1, n, failed) : memslots_set_region(e->ms, r1);
}

static void run_case(const struct case_ *row, enum mode mode)
{
	struct ts_env e;
	/* The unrelated create that precedes a row in BATCH_SECOND mode. */
	struct memslots_region2 r[2] = {{
		.guest_phys_addr = G(0x7000000),
		.memory_size = G(1),
		.userspace_addr = 0x7000000000ull,
	}};
	struct memslots_region2 *req = &r[mode == BATCH_SECOND];
	struct ts_model expect;
	unsigned long syncs;
	uint64_t gen;
	size_t failed = 12345;
	int ts_model_change = NO_CHG, ts_model_ret, ret, want = row->ret;
	bool changes;

	env_with_base_state(&e, row->cfg, row->no_limit);
	r[0].slot = (uint32_t)e.m.as_id << 16 | 400;
	*req = row->req;

	/* The model must agree with the hand-written table. */
	ts_model_ret = ts_model_classify2_why(&e.m, req, row->api == V1, &ts_model_change, NULL);
	ck_assert_msg(ts_model_ret == row->ret, "%s: model says %d, table %d", row->name,
		      ts_model_ret, row->ret);
	if (!row->ret)
		ck_assert_msg(ts_model_change == row->change, "%s: model says change %d, table %d",
			      row->name, ts_model_change, row->change);

	ts_model_copy(&expect, &e.m);
	gen = ts_generation(e.ms);
	syncs = ts_rcu.synchronize;
	ts_hooks_clear(&e.hooks);

	switch (mode) {
	case SINGLE:
		ret = call_api(&e, row->api, req, 1, false, NULL);
		break;
	case FAILING_PREPARE:
		e.hooks.fail_prepare_at = 1;
		e.hooks.fail_err = -EIO;
		ret = call_api(&e, row->api, req, 1, false, NULL);
		if (!row->ret && row->change != NO_CHG)
			want = -EIO; /* validation passed, so prepare ran and failed */
		break;
	case BATCH_OF_ONE:
		ret = call_api(&e, row->api, r, 1, true, &failed);
		break;
	default:
		ret = call_api(&e, row->api, r, 2, true, &failed);
		break;
	}
	ck_assert_msg(ret == want, "%s (mode %d): expected %d, got %d", row->name, mode, want, ret);
	if (ret && (mode == BATCH_OF_ONE || mode == BATCH_SECOND))
		ck_assert_msg(failed == (size_t)(mode == BATCH_SECOND),
			      "%s (mode %d): failed_index %zu", row->name, mode, failed);

	changes = !ret && (row->change != NO_CHG || mode == BATCH_SECOND);
	if (changes) {
		if (mode == BATCH_SECOND)
			ts_model_commit2(&expect, &r[0], CREATE);
		if (row->change != NO_CHG)
			ts_model_commit2(&expect, req, row->change);
		ck_assert_msg(ts_generation(e.ms) > gen, "%s: generation did not increase",
			      row->name);
		ck_assert_msg(ts_hooks_count(&e.hooks, TS_PREPARE) ==
				      (size_t)(mode == BATCH_SECOND) + (row->change != NO_CHG),
			      "%s: %zu prepare calls", row->name,
			      ts_hooks_count(&e.hooks, TS_PREPARE));
		ck_assert_uint_eq(ts_hooks_count(&e.hooks, TS_COMMIT),
				  ts_hooks_count(&e.hooks, TS_PREPARE));
		if (row->change != NO_CHG) {
			const struct ts_event *p = &e.hooks.ev[mode == BATCH_SECOND];

			ck_assert_int_eq(p->hook, TS_PREPARE);
			ck_assert_msg(p->change == row->change, "%s: prepare says change %d",
				      row->name, p->change);
		}
	} else {
		/* A failure or a no-op: nothing published, no hook but rollback. */
		ck_assert_msg(ts_generation(e.ms) == gen, "%s: generation changed", row->name);
		ck_assert_msg(ts_rcu.synchronize == syncs, "%s: %lu grace periods", row->name,
			      ts_rcu.synchronize - syncs);
		ck_assert_uint_eq(ts_hooks_count(&e.hooks, TS_COMMIT), 0);
		ck_assert_uint_eq(ts_hooks_count(&e.hooks, TS_INVALIDATE), 0);
		if (mode == BATCH_SECOND) {
			/* the prefix may have been prepared; then it is aborted */
			ck_assert_uint_le(ts_hooks_count(&e.hooks, TS_PREPARE), 1);
			ck_assert_uint_eq(ts_hooks_count(&e.hooks, TS_ABORT),
					  ts_hooks_count(&e.hooks, TS_PREPARE));
		} else if (mode == FAILING_PREPARE && want == -EIO) {
			ck_assert_uint_eq(ts_hooks_count(&e.hooks, TS_PREPARE), 1);
			ck_assert_uint_eq(ts_hooks_count(&e.hooks, TS_ABORT), 0);
		} else {
			ck_assert_msg(e.hooks.n == 0,
				      "%s (mode %d): %zu hook calls for a request that fails "
				      "validation or changes nothing",
				      row->name, mode, e.hooks.n);
		}
	}
	ts_model_assign(&e.m, &expect);
	ts_model_check(&e.m, e.ms, &e.rng, 16);
	ts_env_fini(&e);
	ts_model_fini(&expect);
}

static void run_table(enum mode mode)
{
	struct case_ c;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		c = case_of_row(&rows[i]);
		run_case(&c, mode);
	}
	for (size_t i = 0; i < sizeof(rows2) / sizeof(rows2[0]); i++) {
		c = case_of_row2(&rows2[i]);
		run_case(&c, mode);
	}
}

START_TEST(test_rules_single)
{
	run_table(SINGLE);
}
END_TEST

START_TEST(test_rules_batch_of_one)
{
	run_table(BATCH_OF_ONE);
}
END_TEST

START_TEST(test_rules_batch_second)
{
	run_table(BATCH_SECOND);
}
END_TEST

/* Validation comes before the prepare hook: an invalid request never sees it. */
START_TEST(test_rules_before_prepare)
{
	run_table(FAILING_PREPARE);
}
END_TEST

/* Page sizes other than 4 KiB: alignment, npages and hva arithmetic follow. */
START_TEST(test_page_shift_variants)
{
	static const unsigned int shifts[] = {10, 21, 30};

	for (size_t i = 0; i < sizeof(shifts) / sizeof(shifts[0]); i++) {
		unsigned int sh = shifts[i];
		uint64_t ps = 1ull << sh;
		struct memslots_region r;
		const struct memslots_set *set;
		struct ts_env e;

		ts_env_init(&e, sh, 64, 0, &ts_counting_rcu);
		ck_assert_uint_eq(memslots_page_shift(e.ms), sh);

		/* half a page and the next smaller power of two off, per field */
		for (uint64_t off = ps / 2; off >= 256; off /= 2) {
			r = ts_env_region(&e, 1, 0, 4, 2, 16 * ps);
			r.memory_size += off;
			ck_assert_int_eq(memslots_set_region(e.ms, &r), -EINVAL);
			r = ts_env_region(&e, 1, 0, 4, 2, 16 * ps);
			r.guest_phys_addr += off;
			ck_assert_int_eq(memslots_set_region(e.ms, &r), -EINVAL);
			r = ts_env_region(&e, 1, 0, 4, 2, 16 * ps);
			r.userspace_addr += off;
			ck_assert_int_eq(memslots_set_region(e.ms, &r), -EINVAL);
		}

		ts_env_set(&e, ts_env_region(&e, 1, 0, 4, 2, 16 * ps));
		set = memslots_read_lock(e.ms);
		ck_assert_uint_eq(memslots_find_id(set, 1)->base_gfn, 4);
		ck_assert_uint_eq(memslots_find_id(set, 1)->npages, 2);
		ck_assert_uint_eq(memslots_gfn_to_hva(set, 5), 17 * ps);
		ck_assert_uint_eq(memslots_gfn_to_hva(set, 6), MEMSLOTS_HVA_BAD);
		ck_assert_uint_eq(memslots_nr_pages(set), 2);
		memslots_read_unlock(e.ms);

		/* MEMSLOTS_MAX_NR_PAGES is in pages of this page size */
		r = ts_env_region(&e, 2, 0, 1ull << 32, MAXNP + 1, 0);
		ck_assert_int_eq(memslots_set_region(e.ms, &r), -EINVAL);
		ts_env_set(&e, ts_env_region(&e, 2, 0, 1ull << 32, MAXNP, 0));
		set = memslots_read_lock(e.ms);
		ck_assert_uint_eq(memslots_nr_pages(set), MAXNP + 2);
		ck_assert_uint_eq(memslots_gfn_to_hva(set, (1ull << 32) + MAXNP - 1),
				  (MAXNP - 1) << sh);
		memslots_read_unlock(e.ms);

		/* gpa wraparound with this page size */
		r = ts_env_region(&e, 3, 0, 0, 2, 0);
		r.guest_phys_addr = 0 - ps;
		ck_assert_int_eq(memslots_set_region(e.ms, &r), -EINVAL);
		ts_model_check(&e.m, e.ms, &e.rng, 32);
		ts_env_fini(&e);
	}
}
END_TEST

/* max_slots bounds: 1 (only id 0) and 65536 (every 16-bit id). */
START_TEST(test_max_slots_variants)
{
	struct memslots_region r;
	struct ts_env e;

	ts_env_init(&e, 0, 1, 0, &ts_counting_rcu);
	ck_assert_uint_eq(memslots_max_slots(e.ms), 1);
	ck_assert_uint_eq(memslots_page_shift(e.ms), 12);
	r = ts_env_region(&e, 1, 0, 0, 1, 0);
	ck_assert_int_eq(memslots_set_region(e.ms, &r), -EINVAL);
	ts_env_set(&e, ts_env_region(&e, 0, 0, 0, 1, 0));
	ts_env_fini(&e);

	ts_env_init(&e, 0, 65536, 0, &ts_counting_rcu);
	ck_assert_uint_eq(memslots_max_slots(e.ms), 65536);
	ts_env_set(&e, ts_env_region(&e, 0xffff, 0, 0, 1, 0));
	ts_env_set(&e, ts_env_region(&e, 0, 0, 1, 1, 0));
	r = ts_env_region(&e, 0x10000, 0, 2, 1, 0); /* address space 1, id 0 */
	ck_assert_int_eq(memslots_set_region(e.ms, &r), -EINVAL);
	r = ts_env_region(&e, 0x1ffff, 0, 2, 1, 0);
	ck_assert_int_eq(memslots_set_region(e.ms, &r), -EINVAL);
	ts_env_fini(&e);

	/* max_slots 0 selects the default */
	ts_env_init(&e, 0, 0, 0, &ts_counting_rcu);
	ck_assert_uint_eq(memslots_max_slots(e.ms), MEMSLOTS_DEFAULT_MAX_SLOTS);
	ts_env_set(&e, ts_env_region(&e, MEMSLOTS_DEFAULT_MAX_SLOTS - 1, 0, 0, 1, 0));
	r = ts_env_region(&e, MEMSLOTS_DEFAULT_MAX_SLOTS, 0, 2, 1, 0);
	ck_assert_int_eq(memslots_set_region(e.ms, &r), -EINVAL);
	ts_env_fini(&e);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("validation");
	TCase *tc;

	tc = tcase_create("rules_single");
	tcase_add_test(tc, test_rules_single);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules_batch_of_one");
	tcase_add_test(tc, test_rules_batch_of_one);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules_batch_second");
	tcase_add_test(tc, test_rules_batch_second);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules_before_prepare");
	tcase_add_test(tc, test_rules_before_prepare);
	suite_add_tcase(s, tc);
	tc = tcase_create("page_shift_variants");
	tcase_add_test(tc, test_page_shift_variants);
	suite_add_tcase(s, tc);
	tc = tcase_create("max_slots_variants");
	tcase_add_test(tc, test_max_slots_variants);
	suite_add_tcase(s, tc);
	validation_add_config_cases(s);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
