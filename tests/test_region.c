/* SPDX-License-Identifier: MIT */
/*
 * The KVM request of a hook (memslots_change_to_region2() and the v1 and
 * abort variants) against the conversion the example VMM made by hand
 * before it used them (its kvm_install()/kvm_remove() and
 * set_region_v2()/set_region_v1()), kept here as the reference:
 * byte for byte, for every change kind, v1 and v2, with address spaces.
 * The requests are also sent, from the hooks, to a second object standing
 * in for KVM, which must end up with the same slots as the first.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <memslots/memslots.h>

#include "ts_check.h"
#include "ts_scale.h"

/* ---- the reference: the example VMM's conversion ------------------------------------ */

/* What the example's kvm_set_region() makes KVM's slot @id look like. */
struct ref_kvm_region {
	uint16_t id;
	uint32_t flags;
	uint64_t gfn;
	uint64_t npages; /* 0 deletes the slot */
	uint64_t hva;
	uint64_t guest_memfd_offset;
	uint32_t guest_memfd;
};

/* kvm_install(): KVM's slot made to look like @s. */
static struct ref_kvm_region ref_install(const struct memslot *s)
{
	return (struct ref_kvm_region){
		.id = s->id,
		.flags = s->flags,
		.gfn = s->base_gfn,
		.npages = s->npages,
		.hva = s->userspace_addr,
		.guest_memfd_offset = s->guest_memfd_offset,
		.guest_memfd = s->guest_memfd,
	};
}

/* kvm_remove(): memory_size 0. */
static struct ref_kvm_region ref_remove(uint16_t id)
{
	return (struct ref_kvm_region){.id = id};
}

/* set_region_v2(), with the address space the example (always 0) leaves out. */
static struct memslots_region2 ref_v2(const struct ref_kvm_region *r, unsigned int shift,
				      uint16_t as_id)
{
	const uint32_t known = MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY | MEMSLOT_GUEST_MEMFD;
	struct memslots_region2 r2;

	memset(&r2, 0, sizeof(r2));
	r2.slot = ((uint32_t)as_id << 16) | r->id;
	r2.flags = r->flags & known;
	r2.guest_phys_addr = r->gfn << shift;
	r2.memory_size = r->npages << shift;
	r2.userspace_addr = r->hva;
	if (r2.flags & MEMSLOT_GUEST_MEMFD) {
		r2.guest_memfd_offset = r->guest_memfd_offset;
		r2.guest_memfd = r->guest_memfd;
	}
	return r2;
}

/* set_region_v1(). */
static struct memslots_region ref_v1(const struct ref_kvm_region *r, unsigned int shift,
				     uint16_t as_id)
{
	struct memslots_region r1;

	memset(&r1, 0, sizeof(r1));
	r1.slot = ((uint32_t)as_id << 16) | r->id;
	r1.flags = r->flags & (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY);
	r1.guest_phys_addr = r->gfn << shift;
	r1.memory_size = r->npages << shift;
	r1.userspace_addr = r->hva;
	return r1;
}

/* vmm_prepare()'s choice, and vmm_abort()'s. */
static struct ref_kvm_region ref_step(const struct memslot *old, const struct memslot *new,
				      enum memslots_change change, bool undo)
{
	if (undo)
		return change == MEMSLOTS_CREATE ? ref_remove(new->id) : ref_install(old);
	return change == MEMSLOTS_DELETE ? ref_remove(old->id) : ref_install(new);
}

/* ---- the builder against the reference, from real hooks ----------------------------- */

struct rctx {
	struct memslots *ms;
	struct memslots *kvm; /* stands in for KVM: gets the built requests */
	unsigned int shift;
	uint16_t as_id;
	unsigned long prepares, aborts, commits, v1_refused;
	unsigned long kinds[4];
	int fail_prepare_in; /* the prepare this many calls away fails; 0: none */
};

/*
 * Builds the request of one hook's step both ways and compares them, v2
 * and v1, byte for byte; a failed call must leave the output untouched.
 * Returns the v2 request.
 */
static struct memslots_region2 check_step(struct rctx *c, const struct memslot *old,
					  const struct memslot *new, enum memslots_change change,
					  bool undo)
{
	struct ref_kvm_region ref = ref_step(old, new, change, undo);
	const struct memslot *installed = ref.npages ? (undo ? old : new) : NULL;
	struct memslots_region2 got2, want2 = ref_v2(&ref, c->shift, c->as_id);
	struct memslots_region got1, want1 = ref_v1(&ref, c->shift, c->as_id), poison1;
	int err;

	memset(&got2, 0xa5, sizeof(got2));
	err = undo ? memslots_abort_to_region2(c->ms, old, new, change, &got2)
		   : memslots_change_to_region2(c->ms, old, new, change, &got2);
	TS_CMP(err, ==, 0);
	TS_CHECK(!memcmp(&got2, &want2, sizeof(got2)), "v2 request of change %d (undo %d) differs",
		 change, undo);

	memset(&got1, 0x5a, sizeof(got1));
	poison1 = got1;
	err = undo ? memslots_abort_to_region(c->ms, old, new, change, &got1)
		   : memslots_change_to_region(c->ms, old, new, change, &got1);
	if (installed && (installed->flags & MEMSLOT_GUEST_MEMFD)) {
		/* v1 cannot carry a guest_memfd (the example never needs
		 * it: without KVM_CAP_USER_MEMORY2 there is no guest_memfd). */
		TS_CMP(err, ==, -EINVAL);
		TS_CHECK(!memcmp(&got1, &poison1, sizeof(got1)), "a failed call wrote its output");
		c->v1_refused++;
	} else {
		TS_CMP(err, ==, 0);
		TS_CHECK(!memcmp(&got1, &want1, sizeof(got1)),
			 "v1 request of change %d (undo %d) differs", change, undo);
	}
	return got2;
}

static int r_prepare(void *opaque, const struct memslot *old, struct memslot *new,
		     enum memslots_change change)
{
	struct rctx *c = opaque;
	struct memslots_region2 r = check_step(c, old, new, change, false);
	int err;

	TS_CHECK(!new || !(new->flags &MEMSLOT_INVALID), "prepare got an INVALID new slot");
	if (c->fail_prepare_in && !--c->fail_prepare_in)
		return -EIO;
	/* What a VMM does in prepare: send it to KVM, return its answer. */
	err = memslots_set_region2(c->kvm, &r);
	TS_CMP(err, ==, 0);
	c->prepares++;
	c->kinds[change]++;
	return err;
}

static void r_abort(void *opaque, const struct memslot *old, struct memslot *new,
		    enum memslots_change change)
{
	struct rctx *c = opaque;
	struct memslots_region2 r = check_step(c, old, new, change, true);

	TS_CMP(memslots_set_region2(c->kvm, &r), ==, 0);
	c->aborts++;
}

static void r_commit(void *opaque, const struct memslot *old, const struct memslot *new,
		     enum memslots_change change)
{
	struct rctx *c = opaque;

	/* The commit hook gets the same pair: the same request. */
	check_step(c, old, new, change, false);
	c->commits++;
}

/* The DELETE of the published INVALID copy is the DELETE of the slot. */
static void r_invalidate(void *opaque, const struct memslot *slot)
{
	struct rctx *c = opaque;

	TS_CMP(slot->flags & MEMSLOT_INVALID, ==, MEMSLOT_INVALID);
	check_step(c, slot, NULL, MEMSLOTS_DELETE, false);
}

static const struct memslots_ops r_ops = {
	.prepare = r_prepare,
	.abort = r_abort,
	.commit = r_commit,
	.invalidate = r_invalidate,
};

/* Both objects hold the same slots, field for field. */
static void check_same_slots(struct memslots *a, struct memslots *b)
{
	const struct memslots_set *sa = memslots_read_lock(a), *sb = memslots_read_lock(b);
	const struct memslot *x = memslots_first(sa), *y = memslots_first(sb);

	ck_assert_uint_eq(memslots_count(sa), memslots_count(sb));
	for (; x && y; x = memslots_next(sa, x), y = memslots_next(sb, y)) {
		ck_assert_uint_eq(x->id, y->id);
		ck_assert_uint_eq(x->base_gfn, y->base_gfn);
		ck_assert_uint_eq(x->npages, y->npages);
		ck_assert_uint_eq(x->userspace_addr, y->userspace_addr);
		ck_assert_uint_eq(x->flags, y->flags);
		ck_assert_uint_eq(x->guest_memfd_offset, y->guest_memfd_offset);
		ck_assert_uint_eq(x->guest_memfd, y->guest_memfd);
	}
	ck_assert(!x && !y);
	memslots_read_unlock(b);
	memslots_read_unlock(a);
}

#define R_IDS 16u

/* A random request: create (a guest_memfd one with @v2), delete, move,
 * flags change; some fail the library's rules, which is fine. */
static struct memslots_region2 random_request(struct rctx *c, struct ts_rng *rng, bool v2)
{
	uint64_t page = 1ull << c->shift;
	uint16_t id = (uint16_t)ts_rng_below(rng, R_IDS);
	const struct memslots_set *set = memslots_read_lock(c->ms);
	const struct memslot *s = memslots_find_id(set, id);
	struct memslots_region2 r;

	memset(&r, 0, sizeof(r));
	r.slot = ((uint32_t)c->as_id << 16) | id;
	if (!s) {
		r.guest_phys_addr = ts_rng_below(rng, 64) * page;
		r.memory_size = (1 + ts_rng_below(rng, 8)) * page;
		r.userspace_addr = (1ull << 32) + ts_rng_below(rng, 16) * page;
		switch (ts_rng_below(rng, 4)) {
		case 0:
			r.flags = MEMSLOT_READONLY;
			break;
		case 1:
			r.flags = MEMSLOT_LOG_DIRTY_PAGES;
			break;
		case 2:
			if (v2) {
				r.flags = MEMSLOT_GUEST_MEMFD;
				r.guest_memfd = 3 + (uint32_t)ts_rng_below(rng, 2);
				r.guest_memfd_offset = ts_rng_below(rng, 32) * page;
			}
			break;
		default:
			break;
		}
	} else {
		r.flags = s->flags & ~MEMSLOT_INVALID;
		r.guest_phys_addr = s->base_gfn << c->shift;
		r.memory_size = s->npages << c->shift;
		r.userspace_addr = s->userspace_addr;
		r.guest_memfd = s->guest_memfd;
		r.guest_memfd_offset = s->guest_memfd_offset;
		switch (ts_rng_below(rng, 3)) {
		case 0:
			r.memory_size = 0;
			if (ts_rng_below(rng, 2))
				r.flags = 0;
			break;
		case 1:
			r.guest_phys_addr = ts_rng_below(rng, 64) * page;
			break;
		default:
			r.flags ^= MEMSLOT_LOG_DIRTY_PAGES;
		}
	}
	memslots_read_unlock(c->ms);
	return r;
}

static void run_hooks(unsigned int shift, uint16_t as_id, uint64_t seed)
{
	struct memslots_config cfg = {
		.page_shift = shift,
		.max_slots = R_IDS,
		.ops = &r_ops,
		.as_id = as_id,
	};
	struct memslots_config kcfg = {.page_shift = shift, .max_slots = R_IDS, .as_id = as_id};
	struct rctx c = {.shift = shift, .as_id = as_id};
	unsigned int calls = (unsigned int)ts_scaled(600, 3);
	struct ts_rng rng;

	ts_rng_seed(&rng, seed);
	cfg.opaque = &c;
	c.ms = memslots_new(&cfg);
	c.kvm = memslots_new(&kcfg);
	ck_assert_ptr_nonnull(c.ms);
	ck_assert_ptr_nonnull(c.kvm);
	memslots_reader_register(c.ms);
	for (unsigned int call = 0; call < calls; call++) {
		struct memslots_region2 r2[4];
		struct memslots_region r1[4];
		unsigned int n = 1 + (unsigned int)ts_rng_below(&rng, 4);
		bool v2 = ts_rng_below(&rng, 3) != 0;

		for (unsigned int i = 0; i < n; i++) {
			r2[i] = random_request(&c, &rng, v2);
			memcpy(&r1[i], &r2[i], sizeof(r1[i]));
		}
		/* Now and then a prepare fails, so earlier ones are aborted. */
		c.fail_prepare_in = ts_rng_below(&rng, 4) == 0 ? 1 + (int)ts_rng_below(&rng, n) : 0;
		if (v2)
			(void)memslots_apply2(c.ms, r2, n, NULL);
		else
			(void)memslots_apply(c.ms, r1, n, NULL);
		c.fail_prepare_in = 0;
		check_same_slots(c.ms, c.kvm);
	}
	/* Every kind, aborts and refusals seen: 10, 10 and 5 of 600 calls. */
	for (unsigned int k = 0; k < 4; k++)
		ck_assert_uint_gt(c.kinds[k], calls / 60);
	ck_assert_uint_gt(c.aborts, calls / 60);
	ck_assert_uint_gt(c.v1_refused, calls / 120);
	memslots_reader_unregister(c.ms);
	memslots_free(c.ms);
	memslots_free(c.kvm);
}

START_TEST(builder_from_hooks)
{
	run_hooks(12, 0, 1);
	run_hooks(12, 1, 2);
	run_hooks(16, 1, 3);
	run_hooks(10, 0, 4);
}
END_TEST

/* ---- explicit cases ------------------------------------------------------------------ */

static struct memslots *new_ms(uint16_t as_id)
{
	struct memslots_config cfg = {.max_slots = 100, .as_id = as_id};
	struct memslots *ms = memslots_new(&cfg);

	ck_assert_ptr_nonnull(ms);
	return ms;
}

static struct memslot mk(uint16_t id, uint64_t gfn, uint64_t npages, uint64_t hva, uint32_t flags)
{
	struct memslot s;

	memset(&s, 0, sizeof(s));
	s.id = id;
	s.base_gfn = gfn;
	s.npages = npages;
	s.userspace_addr = hva;
	s.flags = flags;
	return s;
}

/* Each kind, its exact bytes, written out rather than computed. */
START_TEST(builder_kinds)
{
	struct memslots *ms = new_ms(1);
	struct memslot old = mk(5, 0x10, 4, 0x7f0000000000ull, MEMSLOT_LOG_DIRTY_PAGES);
	struct memslot moved = old, logless = old, gmem = mk(6, 0x100, 2, 0x1000, 0);
	struct memslots_region2 r, want;
	struct memslots_region r1;

	moved.base_gfn = 0x20;
	logless.flags = 0;
	gmem.flags = MEMSLOT_GUEST_MEMFD;
	gmem.guest_memfd = 9;
	gmem.guest_memfd_offset = 0x3000;

	/* CREATE: the new slot, slot = as_id << 16 | id. */
	memset(&want, 0, sizeof(want));
	want.slot = 0x10005;
	want.flags = MEMSLOT_LOG_DIRTY_PAGES;
	want.guest_phys_addr = 0x10000;
	want.memory_size = 0x4000;
	want.userspace_addr = 0x7f0000000000ull;
	ck_assert_int_eq(memslots_change_to_region2(ms, NULL, &old, MEMSLOTS_CREATE, &r), 0);
	ck_assert_int_eq(memcmp(&r, &want, sizeof(r)), 0);
	ck_assert_int_eq(memslots_change_to_region(ms, NULL, &old, MEMSLOTS_CREATE, &r1), 0);
	ck_assert_int_eq(memcmp(&r1, &want, sizeof(r1)), 0);
	/* its undo: the DELETE */
	ck_assert_int_eq(memslots_abort_to_region2(ms, NULL, &old, MEMSLOTS_CREATE, &r), 0);
	memset(&want, 0, sizeof(want));
	want.slot = 0x10005;
	ck_assert_int_eq(memcmp(&r, &want, sizeof(r)), 0);

	/* DELETE: slot only, whatever the old slot (INVALID copy too). */
	old.flags |= MEMSLOT_INVALID;
	ck_assert_int_eq(memslots_change_to_region2(ms, &old, NULL, MEMSLOTS_DELETE, &r), 0);
	ck_assert_int_eq(memcmp(&r, &want, sizeof(r)), 0);
	ck_assert_int_eq(memslots_change_to_region(ms, &old, NULL, MEMSLOTS_DELETE, &r1), 0);
	ck_assert_int_eq(memcmp(&r1, &want, sizeof(r1)), 0);
	/* its undo re-creates the slot, without the INVALID bit */
	ck_assert_int_eq(memslots_abort_to_region2(ms, &old, NULL, MEMSLOTS_DELETE, &r), 0);
	ck_assert_uint_eq(r.flags, MEMSLOT_LOG_DIRTY_PAGES);
	ck_assert_uint_eq(r.memory_size, 0x4000);
	old.flags &= ~MEMSLOT_INVALID;

	/* MOVE: the new gpa, same id; undo: the old gpa. */
	ck_assert_int_eq(memslots_change_to_region2(ms, &old, &moved, MEMSLOTS_MOVE, &r), 0);
	ck_assert_uint_eq(r.slot, 0x10005);
	ck_assert_uint_eq(r.guest_phys_addr, 0x20000);
	ck_assert_uint_eq(r.memory_size, 0x4000);
	ck_assert_int_eq(memslots_abort_to_region2(ms, &old, &moved, MEMSLOTS_MOVE, &r), 0);
	ck_assert_uint_eq(r.guest_phys_addr, 0x10000);

	/* FLAGS_ONLY: the new flags; undo: the old ones. */
	ck_assert_int_eq(memslots_change_to_region2(ms, &old, &logless, MEMSLOTS_FLAGS_ONLY, &r),
			 0);
	ck_assert_uint_eq(r.flags, 0);
	ck_assert_uint_eq(r.guest_phys_addr, 0x10000);
	ck_assert_int_eq(memslots_abort_to_region2(ms, &old, &logless, MEMSLOTS_FLAGS_ONLY, &r), 0);
	ck_assert_uint_eq(r.flags, MEMSLOT_LOG_DIRTY_PAGES);

	/* guest_memfd: its fields with the flag, v1 refuses to install it. */
	ck_assert_int_eq(memslots_change_to_region2(ms, NULL, &gmem, MEMSLOTS_CREATE, &r), 0);
	ck_assert_uint_eq(r.slot, 0x10006);
	ck_assert_uint_eq(r.flags, MEMSLOT_GUEST_MEMFD);
	ck_assert_uint_eq(r.guest_memfd, 9);
	ck_assert_uint_eq(r.guest_memfd_offset, 0x3000);
	ck_assert_int_eq(memslots_change_to_region(ms, NULL, &gmem, MEMSLOTS_CREATE, &r1), -EINVAL);
	ck_assert_int_eq(memslots_change_to_region(ms, &gmem, NULL, MEMSLOTS_DELETE, &r1), 0);
	ck_assert_uint_eq(r1.slot, 0x10006);
	ck_assert_uint_eq(r1.memory_size, 0);
	/* without the flag, the fields stay 0 whatever the slot holds */
	gmem.flags = 0;
	ck_assert_int_eq(memslots_change_to_region2(ms, NULL, &gmem, MEMSLOTS_CREATE, &r), 0);
	ck_assert_uint_eq(r.guest_memfd, 0);
	ck_assert_uint_eq(r.guest_memfd_offset, 0);
	memslots_free(ms);
}
END_TEST

/* Bad arguments: -EINVAL, output untouched. */
START_TEST(builder_errors)
{
	struct memslots *ms = new_ms(0);
	struct memslot a = mk(1, 0x10, 4, 0x100000, 0), b = a;
	struct memslots_region2 r, poison;
	struct memslots_region r1, poison1;

#define EXPECT_EINVAL(o, n, k)                                                          \
	do {                                                                            \
		memset(&r, 0xee, sizeof(r));                                            \
		poison = r;                                                             \
		memset(&r1, 0xee, sizeof(r1));                                          \
		poison1 = r1;                                                           \
		ck_assert_int_eq(memslots_change_to_region2(ms, o, n, k, &r), -EINVAL); \
		ck_assert_int_eq(memslots_abort_to_region2(ms, o, n, k, &r), -EINVAL);  \
		ck_assert_int_eq(memslots_change_to_region(ms, o, n, k, &r1), -EINVAL); \
		ck_assert_int_eq(memslots_abort_to_region(ms, o, n, k, &r1), -EINVAL);  \
		ck_assert_int_eq(memcmp(&r, &poison, sizeof(r)), 0);                    \
		ck_assert_int_eq(memcmp(&r1, &poison1, sizeof(r1)), 0);                 \
	} while (0)

#define EXPECT_EINVAL_INSTALL(fn2, fn1, o, n, k)                        \
	do {                                                            \
		memset(&r, 0xee, sizeof(r));                            \
		poison = r;                                             \
		memset(&r1, 0xee, sizeof(r1));                          \
		poison1 = r1;                                           \
		ck_assert_int_eq(fn2(ms, o, n, k, &r), -EINVAL);        \
		ck_assert_int_eq(fn1(ms, o, n, k, &r1), -EINVAL);       \
		ck_assert_int_eq(memcmp(&r, &poison, sizeof(r)), 0);    \
		ck_assert_int_eq(memcmp(&r1, &poison1, sizeof(r1)), 0); \
	} while (0)

	ck_assert_int_eq(memslots_change_to_region2(NULL, NULL, &a, MEMSLOTS_CREATE, &r), -EINVAL);
	ck_assert_int_eq(memslots_change_to_region(NULL, NULL, &a, MEMSLOTS_CREATE, &r1), -EINVAL);
	ck_assert_int_eq(memslots_abort_to_region2(NULL, NULL, &a, MEMSLOTS_CREATE, &r), -EINVAL);
	ck_assert_int_eq(memslots_change_to_region2(ms, NULL, &a, MEMSLOTS_CREATE, NULL), -EINVAL);
	ck_assert_int_eq(memslots_change_to_region(ms, NULL, &a, MEMSLOTS_CREATE, NULL), -EINVAL);
	ck_assert_int_eq(memslots_abort_to_region(ms, NULL, &a, MEMSLOTS_CREATE, NULL), -EINVAL);

	/* unknown kinds */
	EXPECT_EINVAL(&a, &b, (enum memslots_change)4);
	EXPECT_EINVAL(&a, &b, (enum memslots_change) - 1);
	/* pairs that do not fit the kind */
	EXPECT_EINVAL(&a, &b, MEMSLOTS_CREATE);
	EXPECT_EINVAL(NULL, NULL, MEMSLOTS_CREATE);
	EXPECT_EINVAL(&a, &b, MEMSLOTS_DELETE);
	EXPECT_EINVAL(NULL, NULL, MEMSLOTS_DELETE);
	EXPECT_EINVAL(NULL, &a, MEMSLOTS_DELETE);
	EXPECT_EINVAL(&a, NULL, MEMSLOTS_MOVE);
	EXPECT_EINVAL(NULL, &a, MEMSLOTS_MOVE);
	EXPECT_EINVAL(&a, &b, MEMSLOTS_MOVE); /* same gfn */
	EXPECT_EINVAL(&a, NULL, MEMSLOTS_FLAGS_ONLY);
	EXPECT_EINVAL(&a, &b, MEMSLOTS_FLAGS_ONLY); /* same flags */
	b.flags = MEMSLOT_INVALID;
	EXPECT_EINVAL(&a, &b, MEMSLOTS_FLAGS_ONLY); /* INVALID is no flag change */
	b = a;
	b.base_gfn = 0x40;
	b.id = 2;
	EXPECT_EINVAL(&a, &b, MEMSLOTS_MOVE); /* another id */
	b.id = 1;
	b.npages = 5;
	EXPECT_EINVAL(&a, &b, MEMSLOTS_MOVE); /* another size */
	b.npages = 4;
	b.userspace_addr = 0x200000;
	EXPECT_EINVAL(&a, &b, MEMSLOTS_MOVE); /* another host range */
	b = a;
	b.base_gfn = 0x40;
	b.flags = MEMSLOT_LOG_DIRTY_PAGES;
	EXPECT_EINVAL(&a, &b, MEMSLOTS_FLAGS_ONLY); /* moved */
	/* slots no request can express */
	b = a;
	b.id = 100; /* >= max_slots */
	EXPECT_EINVAL(NULL, &b, MEMSLOTS_CREATE);
	EXPECT_EINVAL(&b, NULL, MEMSLOTS_DELETE);
	/* a slot to install that no request can carry: the step that
	 * installs it fails (a CREATE, an undone DELETE), the one that only
	 * deletes its id does not look at it */
	b = a;
	for (unsigned int k = 0; k < 3; k++) {
		if (k == 0)
			b.npages = 0;
		else if (k == 1)
			b.npages = MEMSLOTS_MAX_NR_PAGES + 1;
		else
			b = mk(1, UINT64_MAX >> 12, 1, 0x100000, 0); /* ends at 2^64 */
		EXPECT_EINVAL_INSTALL(memslots_change_to_region2, memslots_change_to_region, NULL,
				      &b, MEMSLOTS_CREATE);
		EXPECT_EINVAL_INSTALL(memslots_abort_to_region2, memslots_abort_to_region, &b, NULL,
				      MEMSLOTS_DELETE);
		ck_assert_int_eq(memslots_abort_to_region2(ms, NULL, &b, MEMSLOTS_CREATE, &r), 0);
		ck_assert_int_eq(memslots_change_to_region2(ms, &b, NULL, MEMSLOTS_DELETE, &r), 0);
		ck_assert_uint_eq(r.memory_size, 0);
	}
	b.base_gfn = (UINT64_MAX >> 12) - 1; /* the last page: fine */
	ck_assert_int_eq(memslots_change_to_region2(ms, NULL, &b, MEMSLOTS_CREATE, &r), 0);
	ck_assert_uint_eq(r.guest_phys_addr, UINT64_MAX - 0x1fff);
#undef EXPECT_EINVAL
#undef EXPECT_EINVAL_INSTALL
	memslots_free(ms);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("region");
	TCase *tc = tcase_create("region");

	tcase_add_test(tc, builder_kinds);
	tcase_add_test(tc, builder_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("region_hooks");
	tcase_add_test(tc, builder_from_hooks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
