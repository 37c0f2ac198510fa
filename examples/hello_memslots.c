/* SPDX-License-Identifier: MIT */
/*
 * hello_memslots: the library in one page, no KVM needed.
 *
 * Creates a few slots, moves one, toggles dirty logging, looks things up
 * and prints what it sees.  Every step is checked; the exit code is 0 only
 * if the library behaved as documented.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <memslots/memslots.h>

#define PAGE_SIZE UINT64_C(4096)
#define MiB	  (1024ull * 1024)

static int failures;

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "hello_memslots: check failed: %s (line %d)\n", #cond, \
				__LINE__);                                                     \
			failures++;                                                            \
		}                                                                              \
	} while (0)

static void print_slots(struct memslots *ms, const char *when)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	const struct memslot *s;

	printf("%s: generation %" PRIu64 ", %zu slots, %" PRIu64 " pages\n", when,
	       memslots_generation(set), memslots_count(set), memslots_nr_pages(set));
	for (s = memslots_first(set); s; s = memslots_next(set, s))
		printf("  slot %-3u gpa 0x%09" PRIx64 "-0x%09" PRIx64 " hva 0x%012" PRIx64 "%s%s\n",
		       (unsigned int)s->id, s->base_gfn * PAGE_SIZE,
		       (s->base_gfn + s->npages) * PAGE_SIZE - 1, s->userspace_addr,
		       s->flags & MEMSLOT_LOG_DIRTY_PAGES ? " dirty-log" : "",
		       s->flags & MEMSLOT_READONLY ? " readonly" : "");
	memslots_read_unlock(ms);
}

static int set_region(struct memslots *ms, uint32_t id, uint32_t flags, uint64_t gpa, uint64_t size,
		      uint64_t hva)
{
	struct memslots_region r = {
		.slot = id,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = hva,
	};

	return memslots_set_region(ms, &r);
}

int main(void)
{
	struct memslots *ms = memslots_new(NULL);
	const struct memslots_set *set;
	const struct memslot *s;
	struct memslots_cache cache = {0};
	uint64_t hva, gen;
	int err, n;

	if (!ms) {
		perror("memslots_new");
		return 1;
	}
	printf("libmemslots %s\n", memslots_version_string());
	memslots_reader_register(ms);

	/* Low RAM, a ROM, and high RAM, as a small PC-like guest would have. */
	CHECK(set_region(ms, 0, 0, 0, 640 * 1024, 0x7f0000000000ull) == 0);
	CHECK(set_region(ms, 1, MEMSLOT_READONLY, 0xfff00000, 1 * MiB, 0x7f0100000000ull) == 0);
	CHECK(set_region(ms, 2, 0, 1ull << 32, 64 * MiB, 0x7f0200000000ull) == 0);
	print_slots(ms, "after create");

	/* Overlapping guest-physical ranges are refused, and nothing changes. */
	set = memslots_read_lock(ms);
	gen = memslots_generation(set);
	memslots_read_unlock(ms);
	err = set_region(ms, 3, 0, 0x80000, 4 * PAGE_SIZE, 0x7f0300000000ull);
	printf("overlapping create: %d (%s)\n", err, memslots_strerror(err));
	CHECK(err == -EEXIST);
	set = memslots_read_lock(ms);
	CHECK(memslots_generation(set) == gen);
	memslots_read_unlock(ms);

	/* Move the high RAM, then turn dirty logging on and off again. */
	CHECK(set_region(ms, 2, 0, 1ull << 33, 64 * MiB, 0x7f0200000000ull) == 0);
	CHECK(set_region(ms, 2, MEMSLOT_LOG_DIRTY_PAGES, 1ull << 33, 64 * MiB, 0x7f0200000000ull) ==
	      0);
	print_slots(ms, "after move + dirty logging on");
	CHECK(set_region(ms, 2, 0, 1ull << 33, 64 * MiB, 0x7f0200000000ull) == 0);

	set = memslots_read_lock(ms);
	s = memslots_find_gfn(set, (1ull << 33) / PAGE_SIZE + 5);
	CHECK(s && s->id == 2 && !(s->flags & MEMSLOT_LOG_DIRTY_PAGES));
	CHECK(memslots_find_gfn(set, (1ull << 32) / PAGE_SIZE) == NULL); /* moved away */
	hva = memslots_gfn_to_hva(set, 0x12);
	printf("gfn 0x12 -> hva 0x%" PRIx64 "\n", hva);
	CHECK(hva == 0x7f0000000000ull + 0x12 * PAGE_SIZE);
	CHECK(memslots_gfn_to_hva(set, 0xa0) == MEMSLOTS_HVA_BAD); /* the VGA hole */
	s = memslots_find_gfn_cached(set, &cache, 0xfff00);
	CHECK(s && s->id == 1 && memslots_find_gfn_cached(set, &cache, 0xfff01) == s);
	s = memslots_find_id(set, 1);
	CHECK(s && (s->flags & MEMSLOT_READONLY));
	n = 0;
	for (s = memslots_hva_range_first(set, 0x7f0100000000ull, 0x7f0200000fffull); s;
	     s = memslots_hva_range_next(set, s, 0x7f0100000000ull, 0x7f0200000fffull)) {
		printf("hva range hit: slot %u\n", (unsigned int)s->id);
		n++;
	}
	CHECK(n == 2);
	memslots_read_unlock(ms);

	/* A batch: delete the ROM and create two slots, atomically. */
	{
		struct memslots_region batch[] = {
			{.slot = 1,
			 .memory_size = 0,
			 .guest_phys_addr = 0xfff00000,
			 .userspace_addr = 0x7f0100000000ull},
			{.slot = 4,
			 .guest_phys_addr = 0xfff00000,
			 .memory_size = 1 * MiB,
			 .userspace_addr = 0x7f0400000000ull},
			{.slot = 5,
			 .guest_phys_addr = 0x100000,
			 .memory_size = 2 * MiB,
			 .userspace_addr = 0x7f0500000000ull},
		};
		size_t failed = 0;

		CHECK(memslots_apply(ms, batch, 3, &failed) == 0);
	}
	print_slots(ms, "after batch");
	set = memslots_read_lock(ms);
	CHECK(memslots_count(set) == 4 && memslots_find_id(set, 1) == NULL);
	memslots_read_unlock(ms);

	memslots_reader_unregister(ms);
	memslots_free(ms);
	if (failures) {
		printf("hello_memslots: %d check(s) FAILED\n", failures);
		return 1;
	}
	printf("hello_memslots: all checks passed\n");
	return 0;
}
