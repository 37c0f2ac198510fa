// SPDX-License-Identifier: MIT
/*
 * The example VMM's scenario steps through slot changes: boot, hot-plug,
 * move, dirty logging, delete, many slots and a rolled-back batch; each
 * checked against both KVM and the library (scenario.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memslots/memslots.h>

#include "dirtylog.h"
#include "guest_abi.h"
#include "kvm.h"
#include "slots.h"
#include "scenario.h"

void step_boot(struct scenario *sc)
{
	struct vm *vm = &sc->vm;
	void *ram = map_anon(GUEST_RAM_SIZE);
	size_t len = (size_t)(vmm_guest_code_end - vmm_guest_code);
	uint32_t first;
	void *load;
	int ret;

	ret = ram ? set_region(vm, RAM_SLOT, 0, 0, GUEST_RAM_SIZE, ram) : -ENOMEM;
	check(sc, ret == 0, "slot %d: %d KiB of RAM at gpa 0: %s", RAM_SLOT, GUEST_RAM_SIZE >> 10,
	      memslots_strerror(ret));
	if (ret)
		return;
	load = gpa_to_host(vm, GUEST_LOAD_ADDR);
	check(sc, load == (char *)ram + GUEST_LOAD_ADDR, "library: gpa 0x%x is at host %p",
	      GUEST_LOAD_ADDR, load);
	if (!load)
		return;
	memcpy(load, vmm_guest_code, len);
	printf("  guest image: %zu bytes at gpa 0x%x\n", len, GUEST_LOAD_ADDR);

	ret = vcpu_run_until_cmd(&sc->vcpu);
	check(sc,
	      ret == 0 && strcmp(sc->vcpu.last_line,
				 "hello from the guest (32-bit protected mode)") == 0,
	      "guest booted, printed its greeting and waits for commands");
	if (ret)
		return;
	/* The guest's first word, read as bytes: the code has no alignment. */
	memcpy(&first, vmm_guest_code, sizeof(first));
	check_guest_sees(sc, GUEST_LOAD_ADDR, first);
	check_bookkeeping(sc);
}

void step_hotplug(struct scenario *sc)
{
	struct vm *vm = &sc->vm;
	int ret;

	sc->hotplug_mem = map_anon(HOTPLUG_PAGES * PAGE_SIZE);
	check_guest_mmio(sc, HOTPLUG_GPA); /* nothing there yet */
	/* The library picks the id: the lowest free one, under its writer lock. */
	ret = create_slot(vm, 0, HOTPLUG_GPA, HOTPLUG_PAGES * PAGE_SIZE, sc->hotplug_mem,
			  &sc->hotplug_slot);
	check(sc, ret == 0 && sc->hotplug_slot == RAM_SLOT + 1,
	      "slot %u (the lowest free id, picked by the library): %d pages at gpa 0x%llx "
	      "created: %s",
	      sc->hotplug_slot, HOTPLUG_PAGES, HOTPLUG_GPA, memslots_strerror(ret));
	if (ret)
		return;
	check(sc, fill_pattern(vm, HOTPLUG_GPA, HOTPLUG_PAGES),
	      "VMM wrote a pattern through memslots_gpa_to_hva()");
	check_guest_sees(sc, HOTPLUG_GPA, pattern(0));
	check_guest_sees(sc, HOTPLUG_GPA + 7 * PAGE_SIZE, pattern(7));
	check_guest_sees(sc, HOTPLUG_GPA + (HOTPLUG_PAGES - 1) * PAGE_SIZE,
			 pattern(HOTPLUG_PAGES - 1));
	check_bookkeeping(sc);
}

void step_move(struct scenario *sc)
{
	struct vm *vm = &sc->vm;
	unsigned long ioctls = vm->kvm.region_ioctls;
	uint64_t host_gpa;
	int ret;

	/* Same id, size and hva, another gpa: a MOVE for KVM and the library. */
	ret = set_region(vm, sc->hotplug_slot, 0, HOTPLUG_MOVED_GPA, HOTPLUG_PAGES * PAGE_SIZE,
			 sc->hotplug_mem);
	check(sc, ret == 0 && vm->kvm.region_ioctls == ioctls + 1,
	      "slot %u moved to gpa 0x%llx with one KVM ioctl: %s", sc->hotplug_slot,
	      HOTPLUG_MOVED_GPA, memslots_strerror(ret));
	if (ret)
		return;
	/* The same host memory, seen by the guest elsewhere now. */
	host_gpa = host_to_gpa(vm, (char *)sc->hotplug_mem + 9 * PAGE_SIZE + 0x24);
	check(sc, host_gpa == HOTPLUG_MOVED_GPA + 9 * PAGE_SIZE + 0x24,
	      "library: host byte 0x24 of page 9 is at gpa 0x%" PRIx64 " now", host_gpa);
	check_guest_sees(sc, HOTPLUG_MOVED_GPA, pattern(0));
	check_guest_sees(sc, HOTPLUG_MOVED_GPA + 9 * PAGE_SIZE, pattern(9));
	check_guest_mmio(sc, HOTPLUG_GPA);
	check_guest_mmio(sc, HOTPLUG_GPA + 9 * PAGE_SIZE);
	check_bookkeeping(sc);
}

/* The library's dirty bits of slot @id (its whole 16 pages), taken out of
 * its bitmap: the pages count, or -errno (-EINVAL: no bitmap). */
static int64_t collect_slot(struct vm *vm, uint16_t id, uint64_t *bits)
{
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	const struct memslot *s = memslots_find_id(set, id);
	int64_t n = s ? dirtylog_collect(set, s, bits) : -ENOENT;

	memslots_read_unlock(vm->ms);
	return n;
}

/* KVM_GET_DIRTY_LOG of slot @id into @kvm_log, merged into the library's
 * bitmap: the pages KVM reported, or -errno. */
static int64_t sync_slot(struct vm *vm, uint16_t id, uint64_t *kvm_log)
{
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	const struct memslot *s = memslots_find_id(set, id);
	int64_t n = s ? dirtylog_sync_kvm(&vm->kvm, set, s, kvm_log, true) : -ENOENT;

	memslots_read_unlock(vm->ms);
	return n;
}

/*
 * Dirty logging on the hot-plugged slot: the guest writes three pages,
 * which KVM logs; the VMM writes a fourth through its own mapping, as a
 * device model does, which KVM never sees, and marks it in the library's
 * bitmap; KVM's log merged into that bitmap, the library has all four.
 */
void step_dirty_log(struct scenario *sc)
{
	struct vm *vm = &sc->vm;
	static const unsigned int written[] = {2, 5, 11};
	const unsigned int by_vmm = 7;
	uint64_t want = 0, kvm_log[1] = {0}, bits[1] = {0}, gpa;
	const struct memslots_set *set;
	int64_t n;
	uint64_t marked;
	uint32_t ack, *host;
	int ret;

	ret = set_region(vm, sc->hotplug_slot, MEMSLOT_LOG_DIRTY_PAGES, HOTPLUG_MOVED_GPA,
			 HOTPLUG_PAGES * PAGE_SIZE, sc->hotplug_mem);
	n = ret ? ret : collect_slot(vm, sc->hotplug_slot, bits);
	check(sc, ret == 0 && n == 0 && bits[0] == 0,
	      "dirty logging on for slot %u (FLAGS_ONLY), the library made its bitmap, all "
	      "clear: %s",
	      sc->hotplug_slot, n < 0 ? memslots_strerror((int)n) : "ok");
	if (ret || n)
		return;

	for (unsigned int i = 0; i < ARRAY_SIZE(written); i++) {
		gpa = HOTPLUG_MOVED_GPA + written[i] * PAGE_SIZE + 0x40;
		ret = guest_cmd(&sc->vcpu, CMD_WRITE32, (uint32_t)gpa, 0xd1d1d100u + i, &ack);
		want |= 1ull << written[i];
		check(sc, !ret && *(uint32_t *)gpa_to_host(vm, gpa) == 0xd1d1d100u + i,
		      "guest wrote page %u (gpa 0x%" PRIx64 "), the VMM sees it", written[i], gpa);
	}
	gpa = HOTPLUG_MOVED_GPA + by_vmm * PAGE_SIZE + 0x40;
	host = gpa_to_host(vm, gpa);
	*host = 0xd1d1d1ffu;
	set = memslots_read_lock(vm->ms);
	marked = dirtylog_mark(set, NULL, gpa, sizeof(*host));
	memslots_read_unlock(vm->ms);
	check(sc, marked == 1, "the VMM wrote page %u itself and marked it: %" PRIu64 " page",
	      by_vmm, marked);

	n = sync_slot(vm, sc->hotplug_slot, kvm_log);
	check(sc, n == ARRAY_SIZE(written) && kvm_log[0] == want,
	      "KVM_GET_DIRTY_LOG: dirty pages 0x%04" PRIx64 " (want 0x%04" PRIx64
	      ", not the VMM's), merged into the library's bitmap: %s",
	      kvm_log[0], want, n < 0 ? strerror((int)-n) : "ok");
	want |= 1ull << by_vmm;
	n = collect_slot(vm, sc->hotplug_slot, bits);
	check(sc, n == ARRAY_SIZE(written) + 1 && bits[0] == want,
	      "the library's bitmap: dirty pages 0x%04" PRIx64 " (want 0x%04" PRIx64
	      ", KVM's and the VMM's)",
	      bits[0], want);
	bits[0] = 0;
	n = sync_slot(vm, sc->hotplug_slot, kvm_log);
	n = n < 0 ? n : collect_slot(vm, sc->hotplug_slot, bits);
	check(sc, n == 0 && kvm_log[0] == 0 && bits[0] == 0,
	      "KVM's log and the library's again: 0x%04" PRIx64 ", 0x%04" PRIx64
	      " (nothing written since)",
	      kvm_log[0], bits[0]);

	ret = set_region(vm, sc->hotplug_slot, 0, HOTPLUG_MOVED_GPA, HOTPLUG_PAGES * PAGE_SIZE,
			 sc->hotplug_mem);
	check(sc, ret == 0, "dirty logging off (FLAGS_ONLY): %s", memslots_strerror(ret));
	{
		uint64_t scratch[1];

		/* Neither KVM nor the library keeps a bitmap for a slot that
		 * does not log. */
		ret = kvm_get_dirty_log(&vm->kvm, sc->hotplug_slot, scratch);
		n = collect_slot(vm, sc->hotplug_slot, scratch);
		check(sc, ret == -ENOENT && n == -EINVAL,
		      "KVM_GET_DIRTY_LOG now fails with ENOENT (%s), the library's collect with "
		      "EINVAL (%s)",
		      strerror(-ret), strerror((int)-n));
	}
	check_bookkeeping(sc);
}

void step_delete(struct scenario *sc)
{
	struct vm *vm = &sc->vm;
	int ret = delete_slot(vm, sc->hotplug_slot);

	check(sc, ret == 0, "slot %u deleted: %s", sc->hotplug_slot, memslots_strerror(ret));
	check_guest_mmio(sc, HOTPLUG_MOVED_GPA);
	check_guest_mmio(sc, HOTPLUG_MOVED_GPA + 3 * PAGE_SIZE);
	check_bookkeeping(sc);
}

/*
 * One memslots_apply() of @n requests, timed: prints how long it took as
 * @what and the part of it spent in KVM's ioctls; *@ioctls is how many
 * region ioctls KVM took during it.
 */
static int apply_timed(struct vm *vm, const char *what, const struct memslots_region *req, size_t n,
		       size_t *failed, unsigned long *ioctls)
{
	unsigned long ioctls0 = vm->kvm.region_ioctls;
	double kvm_secs = vm->kvm.region_secs, t0, t1;
	int ret;

	t0 = now();
	ret = memslots_apply(vm->ms, req, n, failed);
	t1 = now();
	*ioctls = vm->kvm.region_ioctls - ioctls0;
	printf("  %s: %.2f s, of which %.2f s in KVM's ioctls\n", what, t1 - t0,
	       vm->kvm.region_secs - kvm_secs);
	return ret;
}

/* Every free slot id, one page each, created by one batch and deleted by
 * another: the library's batches against KVM's whole id space. */
void step_many(struct scenario *sc)
{
	struct vm *vm = &sc->vm;
	struct lib_state before = lib_state(vm);
	size_t n = 0, failed = 0;
	struct memslots_region *req;
	unsigned long ioctls;
	char *mem;
	int ret;

	req = calloc(vm->kvm.nr_memslots, sizeof(*req));
	mem = map_anon((size_t)vm->kvm.nr_memslots * PAGE_SIZE);
	if (!req || !mem) {
		check(sc, false, "out of memory");
		free(req);
		return;
	}
	/* Every id the allocator has left, ascending; -ENOSPC past the last. */
	for (unsigned int first = 0; n < vm->kvm.nr_memslots; n++) {
		uint16_t id;

		if (memslots_lowest_free_id(vm->ms, first, UINT_MAX, &id))
			break;
		req[n] = region(id, 0, MANY_GPA + n * PAGE_SIZE, PAGE_SIZE, mem + n * PAGE_SIZE);
		first = id + 1u;
	}

	ret = apply_timed(vm, "create batch", req, n, &failed, &ioctls);
	check(sc, ret == 0 && ioctls == n && vm->kvm.region_refusals == 0,
	      "one memslots_apply() created %zu slots (all %u ids in use), KVM accepted %lu "
	      "of %zu: %s",
	      n, vm->kvm.nr_memslots, ioctls, n, memslots_strerror(ret));
	if (ret) {
		printf("  failed_index %zu (slot id %u)\n", failed, req[failed].slot);
		goto out;
	}
	check(sc, lib_state(vm).count == before.count + n, "library holds %zu slots",
	      lib_state(vm).count);
	/* Tag a sample of pages through the library, read them from the guest. */
	for (size_t i = 0; i <= 8; i++) {
		size_t k = i * (n - 1) / 8;
		uint64_t gpa = MANY_GPA + k * PAGE_SIZE;
		uint32_t *host = gpa_to_host(vm, gpa);

		if (!host) {
			check(sc, false, "library: no hva for gpa 0x%" PRIx64, gpa);
			continue;
		}
		*host = 0x5107a000u ^ (uint32_t)k;
		check_guest_sees(sc, gpa, 0x5107a000u ^ (uint32_t)k);
	}
	check_bookkeeping(sc);

	for (size_t i = 0; i < n; i++)
		req[i] = deletion((uint16_t)req[i].slot);
	ret = apply_timed(vm, "delete batch", req, n, &failed, &ioctls);
	check(sc, ret == 0 && ioctls == n && vm->kvm.region_refusals == 0,
	      "one memslots_apply() deleted them, KVM accepted %lu of %zu: %s", ioctls, n,
	      memslots_strerror(ret));
	check(sc, lib_state(vm).count == before.count, "library holds %zu slots again",
	      lib_state(vm).count);
	check_guest_mmio(sc, MANY_GPA);
	check_guest_mmio(sc, MANY_GPA + (n - 1) * PAGE_SIZE);
	check_bookkeeping(sc);
out:
	munmap(mem, (size_t)vm->kvm.nr_memslots * PAGE_SIZE);
	free(req);
}

/*
 * A batch whose last request KVM refuses, a gpa at 2^52: beyond any x86
 * MAXPHYADDR, so KVM refuses it (-EINVAL, "beyond max gfn"), while the
 * library, which knows no physical-address width, accepts it.  The library
 * must fail as a whole, and the abort hook must have walked KVM back.
 */
void step_rollback(struct scenario *sc)
{
	struct vm *vm = &sc->vm;
	enum { PAGES = 4 };
	/* Five ids from the allocator: B, C, D for the setup, A and E new in
	 * the batch.  Free ids stay free here until this thread uses them. */
	uint16_t ids[5] = {0};
	int picked = pick_free_ids(vm, ids, ARRAY_SIZE(ids));
	const uint16_t B = ids[0], C = ids[1], D = ids[2], A = ids[3], E = ids[4];
	const uint64_t size = PAGES * PAGE_SIZE;
	char *mem = sc->hotplug_mem;
	uint64_t huge_gpa = 1ull << 52;
	struct memslots_region setup[] = {
		region(B, 0, 0x400000, size, mem),
		region(C, 0, 0x500000, size, mem + size),
		region(D, 0, 0x600000, size, mem + 2 * size),
	};
	struct memslots_region batch[] = {
		region(A, 0, 0x700000, size, mem + 3 * size),			/* create */
		region(B, 0, 0x400000, 0, mem),					/* delete */
		region(C, MEMSLOT_LOG_DIRTY_PAGES, 0x500000, size, mem + size), /* flags */
		region(D, 0, 0x900000, size, mem + 2 * size),			/* move */
		region(E, 0, huge_gpa, PAGE_SIZE, mem),				/* KVM refuses */
	};
	unsigned long prepares, aborts, ioctls, refusals;
	struct lib_state before, after;
	size_t failed = 99;
	uint64_t scratch[1];
	int ret;

	check(sc, picked == 0, "ids %u, %u, %u, %u, %u from the allocator: %s", B, C, D, A, E,
	      memslots_strerror(picked));
	if (picked)
		return;
	ret = memslots_apply(vm->ms, setup, ARRAY_SIZE(setup), &failed);
	check(sc, ret == 0, "slots %u, %u, %u created by one batch: %s", B, C, D,
	      memslots_strerror(ret));
	if (ret)
		return;
	check(sc, fill_pattern(vm, 0x400000, PAGES) && fill_pattern(vm, 0x600000, PAGES),
	      "patterns written into slots %u and %u", B, D);

	/* The library checks a request before any hook runs: an overlap never
	 * reaches KVM. */
	ioctls = vm->kvm.region_ioctls;
	ret = set_region(vm, A, 0, 0x400000 + PAGE_SIZE, size, mem);
	check(sc, ret == -EEXIST && vm->kvm.region_ioctls == ioctls,
	      "an overlapping create is refused by the library alone: %s", memslots_strerror(ret));

	before = lib_state(vm);
	prepares = vm->prepares_ok;
	aborts = vm->aborts;
	refusals = vm->kvm.region_refusals;
	ret = memslots_apply(vm->ms, batch, ARRAY_SIZE(batch), &failed);
	after = lib_state(vm);
	printf("  batch: create %u, delete %u, log %u, move %u, create %u at gpa 0x%" PRIx64
	       " -> %s, failed_index %zu\n",
	       A, B, C, D, E, huge_gpa, memslots_strerror(ret), failed);
	check(sc,
	      ret == -EINVAL && failed == ARRAY_SIZE(batch) - 1 &&
		      vm->kvm.region_refusals == refusals + 1,
	      "KVM refused the last request, the library returned its -EINVAL with "
	      "failed_index %zu",
	      failed);
	check(sc,
	      after.generation == before.generation && after.count == before.count &&
		      after.nr_pages == before.nr_pages,
	      "library unchanged: generation %" PRIu64 " -> %" PRIu64 ", %zu -> %zu slots",
	      before.generation, after.generation, before.count, after.count);
	check(sc,
	      vm->prepares_ok - prepares == 4 && vm->aborts - aborts == 4 && !vm->abort_failures,
	      "4 prepares succeeded, 4 aborts undid them in KVM");

	/* What KVM has now must be the state before the batch. */
	check_guest_sees(sc, 0x400000 + PAGE_SIZE, pattern(1));	    /* B re-created */
	check_guest_sees(sc, 0x600000 + 3 * PAGE_SIZE, pattern(3)); /* D moved back */
	check_guest_mmio(sc, 0x900000);				    /* not at D's target */
	check_guest_mmio(sc, 0x700000);				    /* A deleted again */
	ret = kvm_get_dirty_log(&vm->kvm, C, scratch);
	check(sc, ret == -ENOENT, "slot %u does not log dirty pages in KVM: %s", C, strerror(-ret));
	/* Had abort left KVM's slot A in place, KVM would refuse this (a
	 * slot's size cannot change); for a free id it is a plain CREATE. */
	{
		/* Straight to KVM, past the library: a request of our own. */
		struct kvm_userspace_memory_region other_size = {
			.slot = A,
			.guest_phys_addr = 0xa00000,
			.memory_size = 2 * size,
			.userspace_addr = (uintptr_t)mem,
		};
		struct kvm_userspace_memory_region del = {.slot = A};

		ret = kvm_set_region(&vm->kvm, &other_size);
		check(sc, ret == 0, "KVM: id %u is free again (created with another size: %s)", A,
		      strerror(-ret));
		if (!ret)
			kvm_set_region(&vm->kvm, &del);
	}

	/* Clean up, one batch. */
	for (size_t i = 0; i < ARRAY_SIZE(setup); i++)
		setup[i] = deletion((uint16_t)setup[i].slot);
	ret = memslots_apply(vm->ms, setup, ARRAY_SIZE(setup), &failed);
	check(sc, ret == 0, "slots %u, %u, %u deleted by one batch: %s", B, C, D,
	      memslots_strerror(ret));
	check_bookkeeping(sc);
}
