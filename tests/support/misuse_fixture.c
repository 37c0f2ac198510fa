/* SPDX-License-Identifier: MIT */
/* The misuse test's shared pieces (misuse_fixture.h). */
#include <stdint.h>

#include <check.h>

#include <memslots/memslots.h>

#include "misuse_fixture.h"

static void nop(void)
{
}

const struct memslots_rcu ts_misuse_nop_rcu = {
	.read_lock = nop,
	.read_unlock = nop,
	.synchronize = nop,
};

struct memslots_region ts_misuse_region(uint32_t id, uint64_t gfn, uint64_t npages)
{
	struct memslots_region r = {
		.slot = id,
		.guest_phys_addr = gfn << 12,
		.memory_size = npages << 12,
		.userspace_addr = 0x10000000ull + ((uint64_t)id << 24),
	};

	return r;
}

/* The object works: a create goes through and is visible. */
void ts_misuse_still_works(struct memslots *ms, uint32_t id)
{
	struct memslots_region r = ts_misuse_region(id, 1000 + id * 16, 1);
	const struct memslots_set *set;

	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	memslots_reader_register(ms);
	set = memslots_read_lock(ms);
	ck_assert_ptr_nonnull(memslots_find_id(set, (uint16_t)id));
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms);
}
