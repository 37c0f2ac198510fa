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

#include "kvm_stream.h"

static uint32_t random_flags(void)
{
	static const uint32_t bad[] = {1u << 2, 1u << 3, 1u << 8, 1u << 16, 1u << 31};

	if (ks_chance(3))
		return bad[ks_below(sizeof(bad) / sizeof(bad[0]))];
	return (uint32_t)ks_below(4); /* LOG_DIRTY_PAGES | READONLY */
}

/*
 * A request about a random id.  Address spaces 2.. stand for the bad ones
 * (x86 KVM also has 1, for SMM; this object mirrors only 0, so that one
 * would legitimately differ).
 */
static struct memslots_region random_request(unsigned int max_slots)
{
	return ks_random_region(max_slots, random_flags(), 2, 3);
}

/* A request about an existing slot; READONLY changes are refused. */
static struct memslots_region mutate(const struct memslot *s)
{
	static const uint32_t flips[] = {MEMSLOT_LOG_DIRTY_PAGES, MEMSLOT_LOG_DIRTY_PAGES,
					 MEMSLOT_LOG_DIRTY_PAGES, MEMSLOT_READONLY};

	return ks_mutate(s, 0, flips, sizeof(flips) / sizeof(flips[0]));
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

	if (ks_index(argc > 3 ? argv[3] : NULL, &cfg.index)) {
		printf("usage: conformance [REQUESTS [SEED [kvm|btree]]]\n");
		return 2;
	}
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
	cfg.hva_limit = KS_HVA_LIMIT;
	ms = memslots_new(&cfg);
	if (!ms) {
		perror("conformance: memslots_new");
		return 1;
	}
	memslots_reader_register(ms);
	ks_seed(seed);
	printf("conformance: %lu requests, seed %" PRIu64 ", %d slot ids, index %s\n", n, seed, nr,
	       memslots_index(ms) == MEMSLOTS_INDEX_KVM ? "kvm" : "btree");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < n; i++) {
		const struct memslots_set *set = memslots_read_lock(ms);
		const struct memslot *s = memslots_find_id(set, (uint16_t)ks_below(KS_IDS));
		struct memslots_region r =
			s && ks_chance(50) ? mutate(s) : random_request(cfg.max_slots);
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
