// SPDX-License-Identifier: MIT
/*
 * Conformance against the real thing: one seeded random stream of
 * KVM_SET_USER_MEMORY_REGION requests goes both to a KVM VM and to a
 * struct memslots configured like KVM on x86-64 (KVM's slot count, hva
 * limit (1 << 47) - 4096), and every request must get the same answer:
 * the library's -errno against the ioctl's -1/errno.  Valid and invalid
 * requests are mixed: creates, deletes, moves, flag changes, no-ops,
 * overlaps, bad flags, misaligned fields, changed sizes or hvas, ids and
 * address spaces out of range, wrapping and out-of-limit ranges.  gfns are
 * kept far below the guest's physical-address width, which KVM checks and
 * the library does not model.
 *
 * Usage: conformance [requests [seed]]   (default 20000, 1)
 * Exit status: 0 same answers throughout, 1 a difference, 77 no KVM.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <memslots/memslots.h>

#include "ts_rng.h"

#define PAGE	  4096ull
#define HVA_LIMIT ((1ull << 47) - PAGE) /* x86-64 TASK_SIZE_MAX */
#define IDS	  24			/* most requests use ids below this */
#define GFNS	  256			/* ... and gfns below this */
#define HVA_BASE  0x100000000ull	/* KVM only range-checks hvas */

/* Deterministic for a seed, whatever the libc. */
static struct tu_rng rng_state;

static uint64_t rnd(void)
{
	return tu_rng_next(&rng_state);
}

static uint64_t below(uint64_t n)
{
	return rnd() % n;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

static uint32_t random_flags(void)
{
	static const uint32_t bad[] = {1u << 2, 1u << 3, 1u << 8, 1u << 16, 1u << 31};

	if (chance(3))
		return bad[below(sizeof(bad) / sizeof(bad[0]))];
	return (uint32_t)below(4); /* LOG_DIRTY_PAGES | READONLY */
}

/* A request about a random id, mostly well-formed. */
static struct memslots_region random_request(unsigned int max_slots)
{
	struct memslots_region r = {
		.slot = (uint32_t)below(IDS),
		.flags = random_flags(),
		.guest_phys_addr = below(GFNS) * PAGE,
		.memory_size = (1 + below(16)) * PAGE,
		.userspace_addr = HVA_BASE + below(64) * PAGE,
	};

	switch (below(40)) {
	case 0:
		r.slot = max_slots - 1 - (uint32_t)below(2); /* the last valid ids */
		break;
	case 1:
		r.slot = max_slots + (uint32_t)below(4); /* out of range */
		break;
	case 2:
		/* Address spaces 2.. (x86 KVM also has 1, for SMM; the library
		 * only 0, so that one would legitimately differ). */
		r.slot |= (2 + (uint32_t)below(3)) << 16;
		break;
	case 3:
		r.guest_phys_addr += 1 + below(PAGE - 1);
		break;
	case 4:
		r.memory_size += 1 + below(PAGE - 1);
		break;
	case 5:
		r.userspace_addr += 1 + below(PAGE - 1);
		break;
	case 6: /* hva range ending at, or one page past, the limit */
		r.userspace_addr = HVA_LIMIT - r.memory_size + below(2) * PAGE;
		break;
	case 7: /* kernel half / wrapping hva */
		r.userspace_addr = chance(50) ? 0xffff800000000000ull : ~0ull - PAGE + 1;
		break;
	case 8: /* gpa + size wraps */
		r.guest_phys_addr = ~0ull - PAGE + 1;
		break;
	case 9: /* more pages than KVM_MEM_MAX_NR_PAGES */
		r.memory_size = (MEMSLOTS_MAX_NR_PAGES + 1 + below(2)) * PAGE;
		break;
	case 10:
	case 11:
	case 12:
		r.memory_size = 0; /* delete, maybe of nothing */
		break;
	default:
		break;
	}
	return r;
}

/* A request about an existing slot: the same, moved, re-flagged, resized... */
static struct memslots_region mutate(const struct memslot *s)
{
	struct memslots_region r = {
		.slot = s->id,
		.flags = s->flags & (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY),
		.guest_phys_addr = s->base_gfn * PAGE,
		.memory_size = s->npages * PAGE,
		.userspace_addr = s->userspace_addr,
	};

	switch (below(10)) {
	case 0: /* no change */
		break;
	case 1:
	case 2: /* move, maybe onto a neighbour */
		r.guest_phys_addr = below(GFNS) * PAGE;
		if (chance(30))
			r.flags ^= MEMSLOT_LOG_DIRTY_PAGES;
		break;
	case 3:
	case 4: /* flags only (READONLY changes are refused) */
		r.flags ^= chance(75) ? MEMSLOT_LOG_DIRTY_PAGES : MEMSLOT_READONLY;
		break;
	case 5: /* size change: refused */
		r.memory_size += PAGE;
		break;
	case 6: /* hva change: refused */
		r.userspace_addr += PAGE;
		break;
	default: /* delete */
		r.memory_size = 0;
		break;
	}
	return r;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	unsigned long stats[4] = {0}; /* 0, -EINVAL, -EEXIST, other */
	struct memslots_config cfg = {0};
	struct memslots *ms;
	int kvm, vm, nr;
	struct timespec t0, t1;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("conformance: /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	nr = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (vm < 0 || nr <= 0) {
		printf("conformance: no usable VM: %s\n", strerror(errno));
		return 77;
	}
	cfg.max_slots = (unsigned int)nr;
	cfg.hva_limit = HVA_LIMIT;
	ms = memslots_new(&cfg);
	if (!ms) {
		perror("conformance: memslots_new");
		return 1;
	}
	memslots_reader_register(ms);
	rng_state.s = seed * 0x9e3779b97f4a7c15ull + 1;
	printf("conformance: %lu requests, seed %" PRIu64 ", %d slot ids\n", n, seed, nr);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < n; i++) {
		const struct memslots_set *set = memslots_read_lock(ms);
		const struct memslot *s = memslots_find_id(set, (uint16_t)below(IDS));
		struct memslots_region r =
			s && chance(50) ? mutate(s) : random_request(cfg.max_slots);
		struct kvm_userspace_memory_region k;
		int lib, kr;

		memslots_read_unlock(ms);
		/* Same field order and types: the same bytes go to both. */
		memcpy(&k, &r, sizeof(k));
		kr = ioctl(vm, KVM_SET_USER_MEMORY_REGION, &k) < 0 ? -errno : 0;
		lib = memslots_set_region(ms, &r);
		if (lib != kr) {
			printf("conformance: request %lu differs: slot 0x%x flags 0x%x gpa "
			       "0x%" PRIx64 " size 0x%" PRIx64 " hva 0x%" PRIx64
			       ": KVM %d (%s), library %d (%s)\n",
			       i, r.slot, r.flags, r.guest_phys_addr, r.memory_size,
			       r.userspace_addr, kr, strerror(-kr), lib, memslots_strerror(lib));
			printf("conformance: FAIL after %lu identical answers\n", i);
			return 1;
		}
		stats[lib == 0 ? 0 : lib == -EINVAL ? 1 : lib == -EEXIST ? 2 : 3]++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	{
		const struct memslots_set *set = memslots_read_lock(ms);

		printf("conformance: PASS: %lu requests, same answer from KVM and the library "
		       "(%lu ok, %lu EINVAL, %lu EEXIST, %lu other); %zu slots at the end; %.2f "
		       "s\n",
		       n, stats[0], stats[1], stats[2], stats[3], memslots_count(set),
		       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
		memslots_read_unlock(ms);
	}
	memslots_reader_unregister(ms);
	memslots_free(ms);
	close(vm);
	close(kvm);
	return 0;
}
