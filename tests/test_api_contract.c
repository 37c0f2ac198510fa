/* SPDX-License-Identifier: MIT */
/*
 * The public API as the contract fixes it: every function redeclared with
 * the contract's exact type (a C compiler rejects a redeclaration whose
 * type differs), the listed struct fields in their order and types, the
 * enum's order and the constants' values.  It compiles or it does not;
 * the run then checks the values that need a program.
 */
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "ts_check.h"

struct memslots *memslots_new(const struct memslots_config *cfg);
void memslots_free(struct memslots *ms);
int memslots_set_region(struct memslots *ms, const struct memslots_region *r);
int memslots_apply(struct memslots *ms, const struct memslots_region *r, size_t n,
		   size_t *failed_index);
void memslots_reader_register(struct memslots *ms);
void memslots_reader_unregister(struct memslots *ms);
const struct memslots_set *memslots_read_lock(struct memslots *ms);
void memslots_read_unlock(struct memslots *ms);
const struct memslot *memslots_find_gfn(const struct memslots_set *set, uint64_t gfn);
const struct memslot *memslots_find_gfn_approx(const struct memslots_set *set, uint64_t gfn);
const struct memslot *memslots_find_id(const struct memslots_set *set, uint16_t id);
const struct memslot *memslots_find_gfn_cached(const struct memslots_set *set,
					       struct memslots_cache *cache, uint64_t gfn);
const struct memslot *memslots_first(const struct memslots_set *set);
const struct memslot *memslots_next(const struct memslots_set *set, const struct memslot *slot);
const struct memslot *memslots_gfn_range_first(const struct memslots_set *set, uint64_t gfn_start,
					       uint64_t gfn_end);
const struct memslot *memslots_gfn_range_next(const struct memslots_set *set,
					      const struct memslot *slot, uint64_t gfn_start,
					      uint64_t gfn_end);
const struct memslot *memslots_hva_range_first(const struct memslots_set *set, uint64_t hva_start,
					       uint64_t hva_last);
const struct memslot *memslots_hva_range_next(const struct memslots_set *set,
					      const struct memslot *slot, uint64_t hva_start,
					      uint64_t hva_last);
uint64_t memslots_gfn_to_hva(const struct memslots_set *set, uint64_t gfn);
uint64_t memslots_generation(const struct memslots_set *set);
size_t memslots_count(const struct memslots_set *set);
uint64_t memslots_nr_pages(const struct memslots_set *set);
/* Extension 1 (v0.2) */
int memslots_set_region2(struct memslots *ms, const struct memslots_region2 *r);
int memslots_apply2(struct memslots *ms, const struct memslots_region2 *r, size_t n,
		    size_t *failed_index);

#define SAME_TYPE(a, b) _Generic((a), __typeof__(b) : 1, default : 0)

/* Fields in the listed order, with the listed types. */
_Static_assert(offsetof(struct memslots_region, slot) == 0, "region.slot first");
_Static_assert(offsetof(struct memslots_region, flags) == 4, "region.flags");
_Static_assert(offsetof(struct memslots_region, guest_phys_addr) == 8, "region.gpa");
_Static_assert(offsetof(struct memslots_region, memory_size) == 16, "region.size");
_Static_assert(offsetof(struct memslots_region, userspace_addr) == 24, "region.hva");
_Static_assert(sizeof(struct memslots_region) == 32, "kvm_userspace_memory_region size");
_Static_assert(offsetof(struct memslot, base_gfn) == 0, "memslot.base_gfn first");
_Static_assert(offsetof(struct memslot, npages) < offsetof(struct memslot, userspace_addr) &&
		       offsetof(struct memslot, userspace_addr) < offsetof(struct memslot, flags) &&
		       offsetof(struct memslot, flags) < offsetof(struct memslot, id) &&
		       offsetof(struct memslot, id) < offsetof(struct memslot, priv),
	       "memslot fields in order");
_Static_assert(
	offsetof(struct memslots_config, page_shift) <
			offsetof(struct memslots_config, max_slots) &&
		offsetof(struct memslots_config, max_slots) <
			offsetof(struct memslots_config, ops) &&
		offsetof(struct memslots_config, ops) < offsetof(struct memslots_config, opaque) &&
		offsetof(struct memslots_config, opaque) < offsetof(struct memslots_config, rcu) &&
		offsetof(struct memslots_config, rcu) < offsetof(struct memslots_config, alloc) &&
		offsetof(struct memslots_config, alloc) < offsetof(struct memslots_config, free) &&
		offsetof(struct memslots_config, free) <
			offsetof(struct memslots_config, alloc_opaque) &&
		offsetof(struct memslots_config, alloc_opaque) <
			offsetof(struct memslots_config, hva_limit),
	"config fields in order");
/* struct kvm_userspace_memory_region2: same offsets and size. */
_Static_assert(offsetof(struct memslots_region2, slot) == 0, "region2.slot first");
_Static_assert(offsetof(struct memslots_region2, flags) == 4, "region2.flags");
_Static_assert(offsetof(struct memslots_region2, guest_phys_addr) == 8, "region2.gpa");
_Static_assert(offsetof(struct memslots_region2, memory_size) == 16, "region2.size");
_Static_assert(offsetof(struct memslots_region2, userspace_addr) == 24, "region2.hva");
_Static_assert(offsetof(struct memslots_region2, guest_memfd_offset) == 32, "region2.offset");
_Static_assert(offsetof(struct memslots_region2, guest_memfd) == 40, "region2.guest_memfd");
_Static_assert(offsetof(struct memslots_region2, pad1) == 44, "region2.pad1");
_Static_assert(offsetof(struct memslots_region2, pad2) == 48, "region2.pad2");
_Static_assert(sizeof(struct memslots_region2) == 160, "kvm_userspace_memory_region2 size");
_Static_assert(offsetof(struct memslot, priv) < offsetof(struct memslot, guest_memfd_offset) &&
		       offsetof(struct memslot, guest_memfd_offset) <
			       offsetof(struct memslot, guest_memfd),
	       "memslot v0.2 fields after priv, in order");
_Static_assert(offsetof(struct memslots_config, hva_limit) <
			       offsetof(struct memslots_config, allowed_flags) &&
		       offsetof(struct memslots_config, allowed_flags) <
			       offsetof(struct memslots_config, as_id),
	       "config v0.2 fields after hva_limit, in order");
_Static_assert(MEMSLOT_GUEST_MEMFD == 4u, "KVM_MEM_GUEST_MEMFD bit");
_Static_assert(MEMSLOTS_CREATE == 0 && MEMSLOTS_DELETE == 1 && MEMSLOTS_MOVE == 2 &&
		       MEMSLOTS_FLAGS_ONLY == 3,
	       "change order");
_Static_assert(MEMSLOT_LOG_DIRTY_PAGES == 1u && MEMSLOT_READONLY == 2u &&
		       MEMSLOT_INVALID == (1u << 16),
	       "flag bits");
_Static_assert(MEMSLOTS_DEFAULT_MAX_SLOTS == 32764u, "default max slots");
_Static_assert(MEMSLOTS_MAX_NR_PAGES == (1ull << 31) - 1, "max pages");
_Static_assert(MEMSLOTS_HVA_BAD == ~0ull, "bad hva");

START_TEST(field_types)
{
	struct memslots_region r = {0};
	struct memslots_region2 r2 = {0};
	struct memslot s = {0};
	struct memslots_config c = {0};
	struct memslots_ops o = {0};
	struct memslots_rcu u = {0};
	int (*prepare)(void *, const struct memslot *, struct memslot *, enum memslots_change) = 0;
	void (*abort_)(void *, const struct memslot *, struct memslot *, enum memslots_change) = 0;
	void (*commit)(void *, const struct memslot *, const struct memslot *,
		       enum memslots_change) = 0;
	void (*invalidate)(void *, const struct memslot *) = 0;
	void (*release)(void *, struct memslot *) = 0;
	void (*v)(void) = 0;
	void *(*alloc)(size_t, void *) = 0;
	void (*free_)(void *, void *) = 0;

	ck_assert(SAME_TYPE(r.slot, (uint32_t)0) && SAME_TYPE(r.flags, (uint32_t)0));
	ck_assert(SAME_TYPE(r.guest_phys_addr, (uint64_t)0) &&
		  SAME_TYPE(r.memory_size, (uint64_t)0) &&
		  SAME_TYPE(r.userspace_addr, (uint64_t)0));
	ck_assert(SAME_TYPE(r2.slot, (uint32_t)0) && SAME_TYPE(r2.flags, (uint32_t)0) &&
		  SAME_TYPE(r2.guest_phys_addr, (uint64_t)0) &&
		  SAME_TYPE(r2.memory_size, (uint64_t)0) &&
		  SAME_TYPE(r2.userspace_addr, (uint64_t)0) &&
		  SAME_TYPE(r2.guest_memfd_offset, (uint64_t)0) &&
		  SAME_TYPE(r2.guest_memfd, (uint32_t)0) && SAME_TYPE(r2.pad1, (uint32_t)0) &&
		  SAME_TYPE(r2.pad2[0], (uint64_t)0) && sizeof(r2.pad2) == 14 * sizeof(uint64_t));
	ck_assert(SAME_TYPE(s.guest_memfd_offset, (uint64_t)0) &&
		  SAME_TYPE(s.guest_memfd, (uint32_t)0));
	ck_assert(SAME_TYPE(c.allowed_flags, (uint32_t)0) && SAME_TYPE(c.as_id, (uint16_t)0));
	ck_assert(SAME_TYPE(s.base_gfn, (uint64_t)0) && SAME_TYPE(s.npages, (uint64_t)0) &&
		  SAME_TYPE(s.userspace_addr, (uint64_t)0) && SAME_TYPE(s.flags, (uint32_t)0) &&
		  SAME_TYPE(s.id, (uint16_t)0) && SAME_TYPE(s.priv, (void *)0));
	ck_assert(SAME_TYPE(c.page_shift, 0u) && SAME_TYPE(c.max_slots, 0u) &&
		  SAME_TYPE(c.ops, (const struct memslots_ops *)0) &&
		  SAME_TYPE(c.opaque, (void *)0) &&
		  SAME_TYPE(c.rcu, (const struct memslots_rcu *)0) && SAME_TYPE(c.alloc, alloc) &&
		  SAME_TYPE(c.free, free_) && SAME_TYPE(c.alloc_opaque, (void *)0) &&
		  SAME_TYPE(c.hva_limit, (uint64_t)0));
	ck_assert(SAME_TYPE(o.prepare, prepare) && SAME_TYPE(o.abort, abort_) &&
		  SAME_TYPE(o.commit, commit) && SAME_TYPE(o.invalidate, invalidate) &&
		  SAME_TYPE(o.release, release));
	ck_assert(SAME_TYPE(u.register_thread, v) && SAME_TYPE(u.unregister_thread, v) &&
		  SAME_TYPE(u.read_lock, v) && SAME_TYPE(u.read_unlock, v) &&
		  SAME_TYPE(u.synchronize, v));
}
END_TEST

/* A zero-initialized cache, as the contract writes it, is a valid one. */
START_TEST(cache_zero_init)
{
	struct memslots *ms = memslots_new(NULL);
	struct memslots_cache cache = {0};
	struct memslots_region r = {.slot = 0, .memory_size = 4096, .userspace_addr = 4096};
	const struct memslots_set *set;

	ck_assert_ptr_nonnull(ms);
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	memslots_reader_register(ms);
	set = memslots_read_lock(ms);
	ck_assert_ptr_eq(memslots_find_gfn_cached(set, &cache, 0), memslots_find_gfn(set, 0));
	ck_assert_ptr_null(memslots_find_gfn_cached(set, &cache, 1));
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms);
	memslots_free(ms);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("api_contract");
	TCase *tc = tcase_create("contract");

	tcase_add_test(tc, field_types);
	tcase_add_test(tc, cache_zero_init);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
