// SPDX-License-Identifier: MIT
/*
 * The random request stream the conformance programs share: a seeded
 * generator that is the same whatever the libc, well-formed requests about
 * random ids with one field sometimes broken in the ways KVM checks, and
 * the changes made to an existing slot.  conformance.c sends the stream
 * through KVM_SET_USER_MEMORY_REGION, conformance2.c extends it with the
 * fields of KVM_SET_USER_MEMORY_REGION2.
 *
 * gfns are kept far below the guest's physical-address width, which KVM
 * checks and the library does not model; hvas are only range-checked by
 * KVM, so they need not be mapped.
 */
#ifndef MS_KVM_STREAM_H
#define MS_KVM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "ts_rng.h"

#define KS_PAGE	     4096ull
#define KS_HVA_LIMIT ((1ull << 47) - KS_PAGE) /* x86-64 TASK_SIZE_MAX */
#define KS_IDS	     24			      /* most requests use ids below this */
#define KS_GFNS	     256		      /* ... and gfns below this */
#define KS_HVA_BASE  0x100000000ull

/* Deterministic for a seed, whatever the libc. */
static struct ts_rng ks_rng;

/*
 * The programs' optional third argument: the library's index, "kvm"
 * (KVM's gfn red-black tree and id hash) or "btree"; absent (NULL), the
 * default.  -1 for any other name.
 */
static inline int ks_index(const char *arg, uint32_t *index)
{
	*index = MEMSLOTS_INDEX_DEFAULT;
	if (!arg)
		return 0;
	if (arg[0] == 'k' && arg[1] == 'v' && arg[2] == 'm' && !arg[3])
		*index = MEMSLOTS_INDEX_KVM;
	else if (arg[0] == 'b' && arg[1] == 't' && arg[2] == 'r' && arg[3] == 'e' &&
		 arg[4] == 'e' && !arg[5])
		*index = MEMSLOTS_INDEX_BTREE;
	else
		return -1;
	return 0;
}

static inline void ks_seed(uint64_t seed)
{
	ks_rng.s = seed * 0x9e3779b97f4a7c15ull + 1;
}

static inline uint64_t ks_rnd(void)
{
	return ts_rng_next(&ks_rng);
}

static inline uint64_t ks_below(uint64_t n)
{
	return ts_rng_below(&ks_rng, n);
}

static inline bool ks_chance(unsigned int percent)
{
	return ks_below(100) < percent;
}

/*
 * A request about a random id with @flags, mostly well-formed; otherwise
 * one field is broken: the last valid ids and those past @max_slots,
 * another address space (bits 16-31 of slot = @other_as + 0..@nr_other_as
 * - 1; none when @nr_other_as is 0), a misaligned field, an hva range at
 * or past the limit, in the kernel half or wrapping, a wrapping gpa, too
 * many pages, a delete (maybe of nothing).
 */
static inline struct memslots_region ks_random_region(unsigned int max_slots, uint32_t flags,
						      uint32_t other_as, uint32_t nr_other_as)
{
	struct memslots_region r = {
		.slot = (uint32_t)ks_below(KS_IDS),
		.flags = flags,
		.guest_phys_addr = ks_below(KS_GFNS) * KS_PAGE,
		.memory_size = (1 + ks_below(16)) * KS_PAGE,
		.userspace_addr = KS_HVA_BASE + ks_below(64) * KS_PAGE,
	};

	switch (ks_below(40)) {
	case 0:
		r.slot = max_slots - 1 - (uint32_t)ks_below(2);
		break;
	case 1:
		r.slot = max_slots + (uint32_t)ks_below(4);
		break;
	case 2:
		if (nr_other_as)
			r.slot |= (other_as + (uint32_t)ks_below(nr_other_as)) << 16;
		break;
	case 3:
		r.guest_phys_addr += 1 + ks_below(KS_PAGE - 1);
		break;
	case 4:
		r.memory_size += 1 + ks_below(KS_PAGE - 1);
		break;
	case 5:
		r.userspace_addr += 1 + ks_below(KS_PAGE - 1);
		break;
	case 6: /* hva range ending at, or one page past, the limit */
		r.userspace_addr = KS_HVA_LIMIT - r.memory_size + ks_below(2) * KS_PAGE;
		break;
	case 7:
		r.userspace_addr = ks_chance(50) ? 0xffff800000000000ull : ~0ull - KS_PAGE + 1;
		break;
	case 8:
		r.guest_phys_addr = ~0ull - KS_PAGE + 1;
		break;
	case 9: /* more pages than KVM_MEM_MAX_NR_PAGES */
		r.memory_size = (MEMSLOTS_MAX_NR_PAGES + 1 + ks_below(2)) * KS_PAGE;
		break;
	case 10:
	case 11:
	case 12:
		r.memory_size = 0;
		break;
	default:
		break;
	}
	return r;
}

/*
 * A request about the existing slot @s (@as_bits: its address space in
 * bits 16-31): the same, moved (maybe onto a neighbour, maybe with dirty
 * logging flipped), one of the flags of @flips flipped, resized, on
 * another hva (those two refused), or deleted.
 */
static inline struct memslots_region ks_mutate(const struct memslot *s, uint32_t as_bits,
					       const uint32_t *flips, size_t nr_flips)
{
	struct memslots_region r = {
		.slot = as_bits | s->id,
		.flags = s->flags & ~MEMSLOT_INVALID,
		.guest_phys_addr = s->base_gfn * KS_PAGE,
		.memory_size = s->npages * KS_PAGE,
		.userspace_addr = s->userspace_addr,
	};

	switch (ks_below(10)) {
	case 0:
		break;
	case 1:
	case 2:
		r.guest_phys_addr = ks_below(KS_GFNS) * KS_PAGE;
		if (ks_chance(30))
			r.flags ^= MEMSLOT_LOG_DIRTY_PAGES;
		break;
	case 3:
	case 4:
		r.flags ^= flips[ks_below(nr_flips)];
		break;
	case 5:
		r.memory_size += KS_PAGE;
		break;
	case 6:
		r.userspace_addr += KS_PAGE;
		break;
	default:
		r.memory_size = 0;
		break;
	}
	return r;
}

#endif /* MS_KVM_STREAM_H */
