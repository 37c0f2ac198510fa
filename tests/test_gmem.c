/* SPDX-License-Identifier: MIT */
/*
 * guest_memfd slots through the writer calls (API contract, Extension 1):
 * the binding index across batches (a range freed by a delete earlier in
 * the batch, taken by a create earlier in it), a failed call leaving the
 * bindings as they were (rule, prepare hook, memory), the hooks seeing the
 * new fields, the v1 calls as the v2 ones on zero-extended requests, and
 * the configuration (allowed_flags, as_id).
 *
 * After every call the engine's own consistency check runs
 * (memslots__check_sets: both sets and the binding index), and what a
 * binding blocks is checked by asking for it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <memslots/memslots.h>

#include "debug.h"
#include "model.h"
#include "ts_check.h"

#define P    0x1000ull
#define G(n) ((uint64_t)(n)*P)
#define GMEM MEMSLOT_GUEST_MEMFD
#define LOG  MEMSLOT_LOG_DIRTY_PAGES
#define RO   MEMSLOT_READONLY

/* ---- fixture ---------------------------------------------------------------------- */

struct fx {
	struct memslots *ms;
	struct ts_hooks rec; /* the support library's recorder */
	struct ts_alloc_counter alloc;
};

static void fx_check(struct fx *f)
{
	const char *why = NULL;

	ck_assert_msg(memslots__check_sets(f->ms, &why) == 0, "inconsistent: %s", why);
}

static void fx_init(struct fx *f, uint32_t allowed_flags, uint16_t as_id)
{
	struct memslots_config cfg = {
		.ops = &ts_recording_ops,
		.max_slots = 512,
		.alloc = ts_alloc,
		.free = ts_free,
		.allowed_flags = allowed_flags,
		.as_id = as_id,
	};

	memset(f, 0, sizeof(*f));
	ts_hooks_init(&f->rec);
	cfg.opaque = &f->rec;
	cfg.alloc_opaque = &f->alloc;
	f->ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(f->ms);
	memslots_reader_register(f->ms);
}

static void fx_fini(struct fx *f)
{
	fx_check(f);
	memslots_reader_unregister(f->ms);
	memslots_free(f->ms);
	ts_hooks_fini(&f->rec);
	ck_assert_uint_eq(f->alloc.live, 0);
}

static struct memslots_region2 gmem_region(uint32_t id, uint64_t gfn, uint64_t npages, uint32_t fd,
					   uint64_t offset)
{
	struct memslots_region2 r = {
		.slot = id,
		.flags = GMEM,
		.guest_phys_addr = G(gfn),
		.memory_size = G(npages),
		.userspace_addr = 0x7f0000000000ull + G(gfn),
		.guest_memfd_offset = offset,
		.guest_memfd = fd,
	};

	return r;
}

/* A slot without GUEST_MEMFD: its guest_memfd fields zero. */
static struct memslots_region2 plain_region(uint32_t id, uint64_t gfn, uint64_t npages,
					    uint64_t hva)
{
	struct memslots_region2 r = {
		.slot = id,
		.guest_phys_addr = G(gfn),
		.memory_size = G(npages),
		.userspace_addr = hva,
	};

	return r;
}

static struct memslots_region2 delete_region(uint32_t id)
{
	struct memslots_region2 r = {.slot = id};

	return r;
}

static void set_ok(struct fx *f, struct memslots_region2 r)
{
	ck_assert_int_eq(memslots_set_region2(f->ms, &r), 0);
	fx_check(f);
}

/* Whether a new slot could bind [offset, offset + G(npages)) of @fd now:
 * asks with a create that would otherwise succeed, then undoes it (the
 * hooks it runs are not recorded). */
static bool range_free(struct fx *f, uint32_t fd, uint64_t offset, uint64_t npages)
{
	struct memslots_region2 r = gmem_region(500, 0x100000, npages, fd, offset);
	size_t n = f->rec.n;
	int err = memslots_set_region2(f->ms, &r);

	ck_assert_msg(err == 0 || err == -EINVAL, "probe got %d", err);
	if (!err)
		set_ok(f, delete_region(500));
	f->rec.n = n;
	return err == 0;
}

static const struct memslot *slot_of(struct fx *f, uint16_t id, struct memslot *copy)
{
	const struct memslot *s = memslots_find_id(memslots_read_lock(f->ms), id);

	if (s)
		*copy = *s;
	memslots_read_unlock(f->ms);
	return s ? copy : NULL;
}

/* Whether slot @id is in the active set. */
static bool has_slot(struct fx *f, uint16_t id)
{
	struct memslot copy;

	return slot_of(f, id, &copy) != NULL;
}

/* The state every test starts from: slot 1 plain, slot 4 binding pages
 * [16, 32) of fd 7, slot 5 binding pages [0, 4) of fd 8. */
static void base_state(struct fx *f)
{
	set_ok(f, plain_region(1, 0x100, 0x10, 0x10000000));
	set_ok(f, gmem_region(4, 0x400, 0x10, 7, G(0x10)));
	set_ok(f, gmem_region(5, 0x500, 4, 8, 0));
	f->rec.n = 0;
	f->rec.prepare_calls = 0;
}

/* The fixture with the base state, hooks recorded from here. */
static void fx_init_base(struct fx *f)
{
	fx_init(f, 0, 0);
	base_state(f);
}

/* A batch that must fail with @err at @index, leaving a consistent state. */
static void batch_fails(struct fx *f, const struct memslots_region2 *b, size_t n, int err,
			size_t index)
{
	size_t failed = 99;

	ck_assert_int_eq(memslots_apply2(f->ms, b, n, &failed), err);
	ck_assert_uint_eq(failed, index);
	fx_check(f);
}

/* ---- batches ------------------------------------------------------------------------ */

/* A delete earlier in the batch frees its range for a later create. */
START_TEST(batch_delete_then_rebind)
{
	struct memslots_region2 b[2] = {delete_region(4),
					gmem_region(10, 0x1000, 0x10, 7, G(0x10))};
	struct memslot s;
	struct fx f;
	size_t failed = 99;

	fx_init_base(&f);
	ck_assert_int_eq(memslots_apply2(f.ms, b, 2, &failed), 0);
	fx_check(&f);
	ck_assert(!has_slot(&f, 4));
	ck_assert_ptr_nonnull(slot_of(&f, 10, &s));
	ck_assert_uint_eq(s.guest_memfd, 7);
	ck_assert_uint_eq(s.guest_memfd_offset, G(0x10));
	ck_assert_uint_eq(s.flags, GMEM);
	ck_assert(!range_free(&f, 7, G(0x18), 1));
	ck_assert(range_free(&f, 7, 0, 0x10));
	fx_fini(&f);
}
END_TEST

/* The other order is refused, where one-by-one application would be. */
START_TEST(batch_rebind_then_delete_refused)
{
	struct memslots_region2 b[2] = {gmem_region(10, 0x1000, 0x10, 7, G(0x10)),
					delete_region(4)};
	struct fx f;

	fx_init_base(&f);
	batch_fails(&f, b, 2, -EINVAL, 0);
	ck_assert(has_slot(&f, 4));
	ck_assert(!has_slot(&f, 10));
	ck_assert_uint_eq(f.rec.n, 0); /* refused before any prepare */
	fx_fini(&f);
}
END_TEST

/* A create earlier in the batch holds its range against a later one. */
START_TEST(batch_two_creates_meet)
{
	struct memslots_region2 b[3] = {gmem_region(10, 0x1000, 0x10, 9, 0),
					gmem_region(11, 0x2000, 0x10, 9, G(0x20)),
					gmem_region(12, 0x3000, 0x10, 9, G(0x08))};
	struct fx f;
	size_t failed = 99;

	fx_init_base(&f);
	batch_fails(&f, b, 3, -EINVAL, 2);
	ck_assert(!has_slot(&f, 10));
	ck_assert(!has_slot(&f, 11));
	/* nothing of the failed batch stays bound */
	ck_assert(range_free(&f, 9, 0, 0x30));
	/* the two that do not meet go in together */
	ck_assert_int_eq(memslots_apply2(f.ms, b, 2, &failed), 0);
	fx_check(&f);
	ck_assert(!range_free(&f, 9, G(0x0f), 1));
	ck_assert(range_free(&f, 9, G(0x10), 0x10));
	ck_assert(!range_free(&f, 9, G(0x20), 1));
	fx_fini(&f);
}
END_TEST

/* A batch that fails on a later rule leaves every binding as it was. */
START_TEST(batch_failure_restores_bindings)
{
	struct memslots_region2 b[4] = {delete_region(4), gmem_region(10, 0x1000, 0x10, 7, G(0x10)),
					delete_region(5),
					plain_region(13, 0x108, 1, 0x10000000) /* over slot 1 */};
	struct fx f;

	fx_init_base(&f);
	batch_fails(&f, b, 4, -EEXIST, 3);
	ck_assert(has_slot(&f, 4));
	ck_assert(has_slot(&f, 5));
	ck_assert(!has_slot(&f, 10));
	ck_assert(!range_free(&f, 7, G(0x10), 0x10));
	ck_assert(!range_free(&f, 8, 0, 1));
	ck_assert(range_free(&f, 7, 0, 0x10));
	/* the prepared changes were aborted, newest first, with their fields */
	ck_assert_uint_eq(f.rec.n, 6);
	ck_assert_int_eq(f.rec.ev[3].hook, TS_ABORT);
	ck_assert_int_eq(f.rec.ev[3].change, MEMSLOTS_DELETE);
	ck_assert_uint_eq(f.rec.ev[3].old.guest_memfd, 8);
	ck_assert_int_eq(f.rec.ev[4].hook, TS_ABORT);
	ck_assert_uint_eq(f.rec.ev[4].new.guest_memfd, 7);
	ck_assert_uint_eq(f.rec.ev[4].new.guest_memfd_offset, G(0x10));
	fx_fini(&f);
}
END_TEST

/* A prepare that fails does the same. */
START_TEST(prepare_failure_restores_bindings)
{
	struct memslots_region2 b[2] = {delete_region(4),
					gmem_region(10, 0x1000, 0x10, 7, G(0x10))};
	struct fx f;

	fx_init_base(&f);
	f.rec.fail_prepare_at = 2;
	batch_fails(&f, b, 2, -EIO, 1);
	ck_assert(has_slot(&f, 4));
	ck_assert(!has_slot(&f, 10));
	f.rec.fail_prepare_at = 0;
	ck_assert(!range_free(&f, 7, G(0x1f), 1));
	/* a single create that prepare refuses binds nothing either */
	f.rec.prepare_calls = 0;
	f.rec.fail_prepare_at = 1;
	b[1] = gmem_region(10, 0x1000, 0x10, 9, 0);
	ck_assert_int_eq(memslots_set_region2(f.ms, &b[1]), -EIO);
	f.rec.fail_prepare_at = 0;
	fx_check(&f);
	ck_assert(range_free(&f, 9, 0, 0x10));
	fx_fini(&f);
}
END_TEST

/*
 * Memory running out at each allocation of a batch in turn: every failure
 * leaves the slots and the bindings as they were and leaks nothing; the
 * last attempt, with no failure, applies the batch.
 */
START_TEST(alloc_failure_restores_bindings)
{
	struct memslots_region2 b[4] = {delete_region(4), gmem_region(10, 0x1000, 0x10, 7, G(0x10)),
					gmem_region(11, 0x2000, 4, 8, G(4)), delete_region(5)};
	struct fx f;
	size_t k, failed, live;
	int err;

	fx_init_base(&f);
	for (k = 1;; k++) {
		live = f.alloc.live;
		f.alloc.calls = 0;
		f.alloc.fail_at = k;
		err = memslots_apply2(f.ms, b, 4, &failed);
		f.alloc.fail_at = 0;
		fx_check(&f);
		if (!err)
			break;
		ck_assert_int_eq(err, -ENOMEM);
		ck_assert_uint_eq(f.alloc.live, live);
		ck_assert(has_slot(&f, 4));
		ck_assert(has_slot(&f, 5));
		ck_assert(!has_slot(&f, 10));
		ck_assert(!range_free(&f, 7, G(0x10), 1));
		ck_assert(!range_free(&f, 8, 0, 1));
		ck_assert(range_free(&f, 8, G(4), 4));
		ck_assert_uint_lt(k, 64);
	}
	ck_assert_uint_gt(k, 3); /* the batch allocates: the failures were real */
	ck_assert(!has_slot(&f, 4));
	ck_assert(has_slot(&f, 11));
	ck_assert(!range_free(&f, 7, G(0x10), 1));
	ck_assert(!range_free(&f, 8, G(7), 1));
	ck_assert(range_free(&f, 8, 0, 4));
	fx_fini(&f);
}
END_TEST

/* ---- hooks and published fields ----------------------------------------------------- */

START_TEST(hooks_see_guest_memfd_fields)
{
	struct memslots_region2 c = gmem_region(10, 0x1000, 0x10, 3, G(0x40));
	struct memslots_region2 d = delete_region(10);
	struct fx f;

	fx_init(&f, 0, 0);
	c.pad1 = 0x1234; /* ignored */
	c.pad2[13] = ~0ull;
	set_ok(&f, c);
	ck_assert_uint_eq(f.rec.n, 2);
	ck_assert_int_eq(f.rec.ev[0].hook, TS_PREPARE);
	ck_assert_int_eq(f.rec.ev[0].change, MEMSLOTS_CREATE);
	ck_assert_uint_eq(f.rec.ev[0].new.guest_memfd, 3);
	ck_assert_uint_eq(f.rec.ev[0].new.guest_memfd_offset, G(0x40));
	ck_assert_uint_eq(f.rec.ev[0].new.flags, GMEM);
	ck_assert_int_eq(f.rec.ev[1].hook, TS_COMMIT);
	ck_assert_uint_eq(f.rec.ev[1].new.guest_memfd, 3);
	ck_assert_uint_eq(f.rec.ev[1].new.guest_memfd_offset, G(0x40));

	f.rec.n = 0;
	set_ok(&f, d);
	ck_assert_uint_eq(f.rec.n, 3);
	ck_assert_int_eq(f.rec.ev[0].hook, TS_PREPARE);
	ck_assert_uint_eq(f.rec.ev[0].old.guest_memfd, 3);
	ck_assert_int_eq(f.rec.ev[1].hook, TS_INVALIDATE);
	ck_assert_uint_eq(f.rec.ev[1].old.flags, GMEM | MEMSLOT_INVALID);
	ck_assert_uint_eq(f.rec.ev[1].old.guest_memfd_offset, G(0x40));
	ck_assert_int_eq(f.rec.ev[2].hook, TS_COMMIT);
	ck_assert_uint_eq(f.rec.ev[2].old.guest_memfd, 3);
	fx_fini(&f);
}
END_TEST

/* Without GUEST_MEMFD the request's guest_memfd fields are ignored: the
 * published slot has zeros, through create, flags change and move. */
START_TEST(plain_slots_have_zero_guest_memfd_fields)
{
	struct memslots_region2 r = plain_region(2, 0x10, 2, 0x2000000);
	struct memslot s;
	struct fx f;

	r.guest_memfd_offset = 0x123;
	r.guest_memfd = 77;
	fx_init(&f, 0, 0);
	set_ok(&f, r);
	ck_assert_ptr_nonnull(slot_of(&f, 2, &s));
	ck_assert_uint_eq(s.guest_memfd, 0);
	ck_assert_uint_eq(s.guest_memfd_offset, 0);
	r.flags = LOG;
	r.guest_memfd_offset = ~0ull;
	set_ok(&f, r);
	r.guest_phys_addr = G(0x40);
	r.guest_memfd = 1;
	set_ok(&f, r);
	ck_assert_ptr_nonnull(slot_of(&f, 2, &s));
	ck_assert_uint_eq(s.base_gfn, 0x40);
	ck_assert_uint_eq(s.flags, LOG);
	ck_assert_uint_eq(s.guest_memfd, 0);
	ck_assert_uint_eq(s.guest_memfd_offset, 0);
	fx_fini(&f);
}
END_TEST

/* ---- v1 as v2, configuration ---------------------------------------------------------- */

/* The v1 calls are the v2 ones on zero-extended requests, without GUEST_MEMFD. */
START_TEST(v1_calls_are_v2_calls)
{
	struct memslots_region v1[3] = {
		{.slot = 20,
		 .guest_phys_addr = G(0x2000),
		 .memory_size = G(1),
		 .userspace_addr = P},
		{.slot = 4}, /* deletes a guest_memfd slot: allowed */
		{.slot = 21, .flags = GMEM, .guest_phys_addr = G(0x3000), .memory_size = G(1)},
	};
	const struct memslots_region2 five = gmem_region(5, 0x500, 4, 8, 0);
	struct fx f;
	size_t failed = 99;

	fx_init_base(&f);
	ck_assert_int_eq(memslots_apply(f.ms, v1, 3, &failed), -EINVAL);
	ck_assert_uint_eq(failed, 2);
	ck_assert(has_slot(&f, 4));
	ck_assert_int_eq(memslots_apply(f.ms, v1, 2, &failed), 0);
	fx_check(&f);
	ck_assert(has_slot(&f, 20));
	ck_assert(!has_slot(&f, 4));
	ck_assert(range_free(&f, 7, G(0x10), 0x10));
	/* a v1 request on a guest_memfd slot cannot clear the flag */
	memcpy(&v1[0], &five, sizeof(v1[0]));
	v1[0].flags = 0;
	ck_assert_int_eq(memslots_set_region(f.ms, &v1[0]), -EINVAL);
	fx_fini(&f);
}
END_TEST

START_TEST(configs)
{
	struct memslots_config cfg = {0};
	struct memslots_region2 r = gmem_region(1, 0, 1, 3, 0);
	struct memslots *ms;

	cfg.allowed_flags = 1u << 3;
	ck_assert_ptr_null(memslots_new(&cfg));
	ck_assert_int_eq(errno, EINVAL);
	cfg.allowed_flags = MEMSLOT_INVALID;
	ck_assert_ptr_null(memslots_new(&cfg));
	cfg.allowed_flags = LOG | RO | GMEM | (1u << 31);
	ck_assert_ptr_null(memslots_new(&cfg));

	/* READONLY alone: LOG_DIRTY_PAGES stays allowed, GUEST_MEMFD is not */
	cfg.allowed_flags = RO;
	ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(ms);
	ck_assert_int_eq(memslots_set_region2(ms, &r), -EINVAL);
	r.flags = LOG | RO;
	ck_assert_int_eq(memslots_set_region2(ms, &r), 0);
	memslots_free(ms);

	/* the last address space there is */
	cfg.allowed_flags = 0;
	cfg.as_id = 0xffff;
	ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(ms);
	r = gmem_region(1, 0, 1, 3, 0);
	ck_assert_int_eq(memslots_set_region2(ms, &r), -EINVAL);
	r.slot |= 0xffffu << 16;
	ck_assert_int_eq(memslots_set_region2(ms, &r), 0);
	r.memory_size = 0;
	r.slot = 1u << 16 | 1;
	ck_assert_int_eq(memslots_set_region2(ms, &r), -EINVAL);
	r.slot = 0xffffu << 16 | 1;
	ck_assert_int_eq(memslots_set_region2(ms, &r), 0);
	memslots_free(ms);
}
END_TEST

static Suite *make_suite(void)
{
	const struct ts_case cases[] = {
		{.tcase = "batches", .test = batch_delete_then_rebind},
		{.tcase = "batches", .test = batch_rebind_then_delete_refused},
		{.tcase = "batches", .test = batch_two_creates_meet},
		{.tcase = "batches", .test = batch_failure_restores_bindings},
		{.tcase = "failures", .test = prepare_failure_restores_bindings},
		{.tcase = "failures", .test = alloc_failure_restores_bindings},
		{.tcase = "fields", .test = hooks_see_guest_memfd_fields},
		{.tcase = "fields", .test = plain_slots_have_zero_guest_memfd_fields},
		{.tcase = "surface", .test = v1_calls_are_v2_calls},
		{.tcase = "surface", .test = configs},
	};
	Suite *s = suite_create("gmem");

	ts_add_cases(s, cases, sizeof(cases) / sizeof(cases[0]));
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
