// SPDX-License-Identifier: MIT
/*
 * vmm: a small virtual machine monitor on /dev/kvm whose guest memory map
 * lives in libmemslots.
 *
 * The memslot part, the library's hooks that keep KVM's table and the
 * library's in step, is slots.c; the KVM plumbing is kvm.c; the vCPU and
 * its command channel to the guest are vmm_vcpu.c.  The vCPU loop
 * resolves guest-physical addresses with the library
 * (memslots_find_gfn_cached(), memslots_gfn_to_hva()); an address no slot
 * holds is MMIO.
 *
 * The scenario below runs a small protected-mode guest (guest.S) that
 * executes the VMM's commands (read or write a word at a gpa) and checks
 * every step against both KVM and the library; see docs/vmm.md.
 *
 * Exit status: 0 every step passed, 1 a step failed, 77 no usable KVM.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memslots/memslots.h>

#include "guest_abi.h"
#include "kvm.h"
#include "slots.h"
#include "vmm_vcpu.h"

/* Guest-physical layout used by the scenario (all below 4 GiB: the guest
 * runs without paging). */
#define RAM_SLOT	  0
#define HOTPLUG_SLOT	  1
#define HOTPLUG_GPA	  0x400000ull
#define HOTPLUG_MOVED_GPA 0x800000ull
#define HOTPLUG_PAGES	  16
#define MANY_GPA	  0x10000000ull /* one page per slot from here on */

extern const unsigned char vmm_guest_code[], vmm_guest_code_end[];

/* ---- step results ---------------------------------------------------------- */

static const char *cur_step;
static unsigned int step_failures;

static void __attribute__((format(printf, 2, 3))) check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("  %s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		step_failures++;
}

/* The commit hook's bookkeeping must agree with the library. */
static void check_bookkeeping(struct vm *vm)
{
	struct lib_state st = lib_state(vm);

	check(st.count == vm->nr_slots && st.nr_pages == vm->nr_pages && !vm->abort_failures,
	      "bookkeeping: library has %zu slots / %" PRIu64 " pages, commit hook counted "
	      "%zu / %" PRIu64 ", %lu failed undos",
	      st.count, st.nr_pages, vm->nr_slots, vm->nr_pages, vm->abort_failures);
}

/* The guest reads @gpa and must see @want from RAM, not through MMIO. */
static void check_guest_sees(struct vm *vm, uint64_t gpa, uint32_t want)
{
	struct guest_read r = guest_read32(vm, gpa);

	check(!r.ret && !r.mmio && r.value == want,
	      "guest reads gpa 0x%08" PRIx64 ": 0x%08x%s (want 0x%08x from RAM)", gpa, r.value,
	      r.ret    ? " [vCPU error]"
	      : r.mmio ? " via MMIO"
		       : "",
	      want);
}

/* The guest reads @gpa and must fault to the VMM as MMIO. */
static void check_guest_mmio(struct vm *vm, uint64_t gpa)
{
	struct guest_read r = guest_read32(vm, gpa);
	bool in_slot = gpa_in_slot(vm, gpa);

	check(!r.ret && r.mmio && r.value == MMIO_OPEN_BUS && !in_slot,
	      "guest reads gpa 0x%08" PRIx64 ": %s, value 0x%08x, library: %s", gpa,
	      r.ret    ? "vCPU error"
	      : r.mmio ? "MMIO exit"
		       : "no MMIO exit",
	      r.value, in_slot ? "in a slot" : "no slot");
}

/* ---- the scenario ---------------------------------------------------------------- */

static void *hotplug_mem; /* HOTPLUG_PAGES pages, backing the hot-plugged slots */

static uint32_t pattern(unsigned int page)
{
	return 0xc0de0000u | page;
}

/* Writes pattern(p) at the start of page p of the slot at @gpa, found
 * through the library as the VMM's device models would. */
static bool fill_pattern(struct vm *vm, uint64_t gpa, unsigned int pages)
{
	for (unsigned int p = 0; p < pages; p++) {
		uint32_t *host = gpa_to_host(vm, gpa + p * PAGE_SIZE);

		if (!host)
			return false;
		*host = pattern(p);
	}
	return true;
}

static void step_boot(struct vm *vm)
{
	void *ram = map_anon(GUEST_RAM_SIZE);
	size_t len = (size_t)(vmm_guest_code_end - vmm_guest_code);
	void *load;
	int ret;

	ret = ram ? set_region(vm, RAM_SLOT, 0, 0, GUEST_RAM_SIZE, ram) : -ENOMEM;
	check(ret == 0, "slot %d: %d KiB of RAM at gpa 0: %s", RAM_SLOT, GUEST_RAM_SIZE >> 10,
	      memslots_strerror(ret));
	if (ret)
		return;
	load = gpa_to_host(vm, GUEST_LOAD_ADDR);
	check(load == (char *)ram + GUEST_LOAD_ADDR, "library: gpa 0x%x is at host %p",
	      GUEST_LOAD_ADDR, load);
	if (!load)
		return;
	memcpy(load, vmm_guest_code, len);
	printf("  guest image: %zu bytes at gpa 0x%x\n", len, GUEST_LOAD_ADDR);

	ret = vcpu_run_until_cmd(vm);
	check(ret == 0 &&
		      strcmp(vcpu0.last_line, "hello from the guest (32-bit protected mode)") == 0,
	      "guest booted, printed its greeting and waits for commands");
	if (ret)
		return;
	check_guest_sees(vm, GUEST_LOAD_ADDR, *(const uint32_t *)vmm_guest_code);
	check_bookkeeping(vm);
}

static void step_hotplug(struct vm *vm)
{
	int ret;

	hotplug_mem = map_anon(HOTPLUG_PAGES * PAGE_SIZE);
	check_guest_mmio(vm, HOTPLUG_GPA); /* nothing there yet */
	ret = set_region(vm, HOTPLUG_SLOT, 0, HOTPLUG_GPA, HOTPLUG_PAGES * PAGE_SIZE, hotplug_mem);
	check(ret == 0, "slot %d: %d pages at gpa 0x%llx created: %s", HOTPLUG_SLOT, HOTPLUG_PAGES,
	      HOTPLUG_GPA, memslots_strerror(ret));
	if (ret)
		return;
	check(fill_pattern(vm, HOTPLUG_GPA, HOTPLUG_PAGES),
	      "VMM wrote a pattern through memslots_gfn_to_hva()");
	check_guest_sees(vm, HOTPLUG_GPA, pattern(0));
	check_guest_sees(vm, HOTPLUG_GPA + 7 * PAGE_SIZE, pattern(7));
	check_guest_sees(vm, HOTPLUG_GPA + (HOTPLUG_PAGES - 1) * PAGE_SIZE,
			 pattern(HOTPLUG_PAGES - 1));
	check_bookkeeping(vm);
}

static void step_move(struct vm *vm)
{
	unsigned long ioctls = vm->kvm.region_ioctls;
	int ret;

	/* Same id, size and hva, another gpa: a MOVE for KVM and the library. */
	ret = set_region(vm, HOTPLUG_SLOT, 0, HOTPLUG_MOVED_GPA, HOTPLUG_PAGES * PAGE_SIZE,
			 hotplug_mem);
	check(ret == 0 && vm->kvm.region_ioctls == ioctls + 1,
	      "slot %d moved to gpa 0x%llx with one KVM ioctl: %s", HOTPLUG_SLOT, HOTPLUG_MOVED_GPA,
	      memslots_strerror(ret));
	if (ret)
		return;
	check_guest_sees(vm, HOTPLUG_MOVED_GPA, pattern(0));
	check_guest_sees(vm, HOTPLUG_MOVED_GPA + 9 * PAGE_SIZE, pattern(9));
	check_guest_mmio(vm, HOTPLUG_GPA);
	check_guest_mmio(vm, HOTPLUG_GPA + 9 * PAGE_SIZE);
	check_bookkeeping(vm);
}

static void step_dirty_log(struct vm *vm)
{
	static const unsigned int written[] = {2, 5, 11};
	const struct memslots_set *set;
	struct slot_info *info;
	uint64_t want = 0, got;
	uint32_t ack;
	int ret;

	ret = set_region(vm, HOTPLUG_SLOT, MEMSLOT_LOG_DIRTY_PAGES, HOTPLUG_MOVED_GPA,
			 HOTPLUG_PAGES * PAGE_SIZE, hotplug_mem);
	set = memslots_read_lock(vm->ms);
	info = memslots_find_id(set, HOTPLUG_SLOT)->priv;
	memslots_read_unlock(vm->ms);
	check(ret == 0 && info, "dirty logging on for slot %d (FLAGS_ONLY), bitmap in priv: %s",
	      HOTPLUG_SLOT, memslots_strerror(ret));
	if (ret || !info)
		return;

	for (unsigned int i = 0; i < ARRAY_SIZE(written); i++) {
		uint64_t gpa = HOTPLUG_MOVED_GPA + written[i] * PAGE_SIZE + 0x40;

		ret = guest_cmd(vm, CMD_WRITE32, (uint32_t)gpa, 0xd1d1d100u + i, &ack);
		want |= 1ull << written[i];
		check(!ret && *(uint32_t *)gpa_to_host(vm, gpa) == 0xd1d1d100u + i,
		      "guest wrote page %u (gpa 0x%" PRIx64 "), the VMM sees it", written[i], gpa);
	}
	ret = kvm_get_dirty_log(&vm->kvm, HOTPLUG_SLOT, info->dirty_bitmap);
	got = info->dirty_bitmap[0];
	check(ret == 0 && got == want,
	      "KVM_GET_DIRTY_LOG: dirty pages 0x%04" PRIx64 " (want 0x%04" PRIx64 "): %s", got,
	      want, strerror(-ret));
	ret = kvm_get_dirty_log(&vm->kvm, HOTPLUG_SLOT, info->dirty_bitmap);
	check(ret == 0 && info->dirty_bitmap[0] == 0,
	      "KVM_GET_DIRTY_LOG again: 0x%04" PRIx64 " (nothing written since)",
	      info->dirty_bitmap[0]);

	ret = set_region(vm, HOTPLUG_SLOT, 0, HOTPLUG_MOVED_GPA, HOTPLUG_PAGES * PAGE_SIZE,
			 hotplug_mem);
	check(ret == 0, "dirty logging off (FLAGS_ONLY): %s", memslots_strerror(ret));
	{
		uint64_t scratch[1];

		/* KVM keeps no bitmap for a slot that does not log. */
		ret = kvm_get_dirty_log(&vm->kvm, HOTPLUG_SLOT, scratch);
		check(ret == -ENOENT, "KVM_GET_DIRTY_LOG now fails with ENOENT: %s",
		      strerror(-ret));
	}
	check_bookkeeping(vm);
}

static void step_delete(struct vm *vm)
{
	int ret = set_region(vm, HOTPLUG_SLOT, 0, HOTPLUG_MOVED_GPA, 0, hotplug_mem);

	check(ret == 0, "slot %d deleted: %s", HOTPLUG_SLOT, memslots_strerror(ret));
	check_guest_mmio(vm, HOTPLUG_MOVED_GPA);
	check_guest_mmio(vm, HOTPLUG_MOVED_GPA + 3 * PAGE_SIZE);
	check_bookkeeping(vm);
}

/* Every free slot id, one page each, created by one batch and deleted by
 * another: the library's batches against KVM's whole id space. */
static void step_many(struct vm *vm)
{
	struct lib_state before = lib_state(vm);
	size_t n = 0, failed = 0;
	struct memslots_region *req;
	unsigned long ioctls;
	char *mem;
	double t0, t1, kvm_secs;
	int ret;

	req = calloc(vm->kvm.nr_memslots, sizeof(*req));
	mem = map_anon((size_t)vm->kvm.nr_memslots * PAGE_SIZE);
	if (!req || !mem) {
		check(false, "out of memory");
		free(req);
		return;
	}
	{
		const struct memslots_set *set = memslots_read_lock(vm->ms);

		for (unsigned int id = 0; id < vm->kvm.nr_memslots; id++) {
			if (memslots_find_id(set, (uint16_t)id))
				continue;
			req[n] = region((uint16_t)id, 0, MANY_GPA + n * PAGE_SIZE, PAGE_SIZE,
					mem + n * PAGE_SIZE);
			n++;
		}
		memslots_read_unlock(vm->ms);
	}

	ioctls = vm->kvm.region_ioctls;
	kvm_secs = vm->kvm.region_secs;
	t0 = now();
	ret = memslots_apply(vm->ms, req, n, &failed);
	t1 = now();
	check(ret == 0 && vm->kvm.region_ioctls - ioctls == n && vm->kvm.region_refusals == 0,
	      "one memslots_apply() created %zu slots (all %u ids in use), KVM accepted %lu "
	      "of %zu: %s",
	      n, vm->kvm.nr_memslots, vm->kvm.region_ioctls - ioctls, n, memslots_strerror(ret));
	printf("  create batch: %.2f s, of which %.2f s in KVM's ioctls\n", t1 - t0,
	       vm->kvm.region_secs - kvm_secs);
	if (ret) {
		printf("  failed_index %zu (slot id %u)\n", failed, req[failed].slot);
		goto out;
	}
	check(lib_state(vm).count == before.count + n, "library holds %zu slots",
	      lib_state(vm).count);
	/* Tag a sample of pages through the library, read them from the guest. */
	for (size_t i = 0; i <= 8; i++) {
		size_t k = i * (n - 1) / 8;
		uint64_t gpa = MANY_GPA + k * PAGE_SIZE;
		uint32_t *host = gpa_to_host(vm, gpa);

		if (!host) {
			check(false, "library: no hva for gpa 0x%" PRIx64, gpa);
			continue;
		}
		*host = 0x5107a000u ^ (uint32_t)k;
		check_guest_sees(vm, gpa, 0x5107a000u ^ (uint32_t)k);
	}
	check_bookkeeping(vm);

	for (size_t i = 0; i < n; i++)
		req[i].memory_size = 0;
	ioctls = vm->kvm.region_ioctls;
	kvm_secs = vm->kvm.region_secs;
	t0 = now();
	ret = memslots_apply(vm->ms, req, n, &failed);
	t1 = now();
	check(ret == 0 && vm->kvm.region_ioctls - ioctls == n && vm->kvm.region_refusals == 0,
	      "one memslots_apply() deleted them, KVM accepted %lu of %zu: %s",
	      vm->kvm.region_ioctls - ioctls, n, memslots_strerror(ret));
	printf("  delete batch: %.2f s, of which %.2f s in KVM's ioctls\n", t1 - t0,
	       vm->kvm.region_secs - kvm_secs);
	check(lib_state(vm).count == before.count, "library holds %zu slots again",
	      lib_state(vm).count);
	check_guest_mmio(vm, MANY_GPA);
	check_guest_mmio(vm, MANY_GPA + (n - 1) * PAGE_SIZE);
	check_bookkeeping(vm);
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
static void step_rollback(struct vm *vm)
{
	enum { B = 1, C = 2, D = 3, A = 4, E = 5, PAGES = 4 };
	const uint64_t size = PAGES * PAGE_SIZE;
	char *mem = hotplug_mem;
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

	ret = memslots_apply(vm->ms, setup, ARRAY_SIZE(setup), &failed);
	check(ret == 0, "slots %d, %d, %d created by one batch: %s", B, C, D,
	      memslots_strerror(ret));
	if (ret)
		return;
	check(fill_pattern(vm, 0x400000, PAGES) && fill_pattern(vm, 0x600000, PAGES),
	      "patterns written into slots %d and %d", B, D);

	/* The library checks a request before any hook runs: an overlap never
	 * reaches KVM. */
	ioctls = vm->kvm.region_ioctls;
	ret = set_region(vm, A, 0, 0x400000 + PAGE_SIZE, size, mem);
	check(ret == -EEXIST && vm->kvm.region_ioctls == ioctls,
	      "an overlapping create is refused by the library alone: %s", memslots_strerror(ret));

	before = lib_state(vm);
	prepares = vm->prepares_ok;
	aborts = vm->aborts;
	refusals = vm->kvm.region_refusals;
	ret = memslots_apply(vm->ms, batch, ARRAY_SIZE(batch), &failed);
	after = lib_state(vm);
	printf("  batch: create %d, delete %d, log %d, move %d, create %d at gpa 0x%" PRIx64
	       " -> %s, failed_index %zu\n",
	       A, B, C, D, E, huge_gpa, memslots_strerror(ret), failed);
	check(ret == -EINVAL && failed == ARRAY_SIZE(batch) - 1 &&
		      vm->kvm.region_refusals == refusals + 1,
	      "KVM refused the last request, the library returned its -EINVAL with "
	      "failed_index %zu",
	      failed);
	check(after.generation == before.generation && after.count == before.count &&
		      after.nr_pages == before.nr_pages,
	      "library unchanged: generation %" PRIu64 " -> %" PRIu64 ", %zu -> %zu slots",
	      before.generation, after.generation, before.count, after.count);
	check(vm->prepares_ok - prepares == 4 && vm->aborts - aborts == 4 && !vm->abort_failures,
	      "4 prepares succeeded, 4 aborts undid them in KVM");

	/* What KVM has now must be the state before the batch. */
	check_guest_sees(vm, 0x400000 + PAGE_SIZE, pattern(1));	    /* B re-created */
	check_guest_sees(vm, 0x600000 + 3 * PAGE_SIZE, pattern(3)); /* D moved back */
	check_guest_mmio(vm, 0x900000);				    /* not at D's target */
	check_guest_mmio(vm, 0x700000);				    /* A deleted again */
	ret = kvm_get_dirty_log(&vm->kvm, C, scratch);
	check(ret == -ENOENT, "slot %d does not log dirty pages in KVM: %s", C, strerror(-ret));
	/* Had abort left KVM's slot A in place, KVM would refuse this (a
	 * slot's size cannot change); for a free id it is a plain CREATE. */
	{
		struct kvm_region other_size = {
			.id = A,
			.gfn = 0xa00000 >> PAGE_SHIFT,
			.npages = 2 * PAGES,
			.hva = (uintptr_t)mem,
		};
		struct kvm_region del = {.id = A};

		ret = kvm_set_region(&vm->kvm, &other_size);
		check(ret == 0, "KVM: id %d is free again (created with another size: %s)", A,
		      strerror(-ret));
		if (!ret)
			kvm_set_region(&vm->kvm, &del);
	}

	/* Clean up, one batch. */
	for (size_t i = 0; i < ARRAY_SIZE(setup); i++)
		setup[i].memory_size = 0;
	ret = memslots_apply(vm->ms, setup, ARRAY_SIZE(setup), &failed);
	check(ret == 0, "slots %d, %d, %d deleted by one batch: %s", B, C, D,
	      memslots_strerror(ret));
	check_bookkeeping(vm);
}

/* ---- memory attributes ------------------------------------------------------- */

/* A run of equal attribute words, in pages from the start of a range. */
struct attr_run {
	uint64_t start, end;
	uint64_t attributes;
};

static const char *attr_name(uint64_t attributes)
{
	if (attributes == 0)
		return "shared";
	return attributes == MEMSLOTS_ATTR_PRIVATE ? "private" : "other";
}

static struct memslots_attributes attr_request(uint64_t gpa, uint64_t size, uint64_t attributes)
{
	return (struct memslots_attributes){.address = gpa, .size = size, .attributes = attributes};
}

static bool same_request(const struct memslots_attributes *a, const struct memslots_attributes *b)
{
	return a->address == b->address && a->size == b->size && a->attributes == b->attributes &&
	       a->flags == b->flags;
}

/*
 * The runs a reader sees over @npages pages from @gpa, walked with
 * memslots_gfn_attributes()'s run ends, in one read-side section: one
 * lookup per run, however many pages it has.  Returns the number of runs.
 */
static size_t read_runs(struct vm *vm, uint64_t gpa, uint64_t npages, struct attr_run *runs,
			size_t max)
{
	const uint64_t gfn0 = gpa >> PAGE_SHIFT, stop = gfn0 + npages;
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	size_t n = 0;
	uint64_t end;

	for (uint64_t gfn = gfn0; gfn < stop && n < max; gfn = end, n++) {
		runs[n].attributes = memslots_gfn_attributes(set, gfn, &end);
		runs[n].start = gfn - gfn0;
		runs[n].end = (end < stop ? end : stop) - gfn0;
	}
	memslots_read_unlock(vm->ms);
	return n;
}

/* The reader's runs over the slot's @npages pages must be @want. */
static void check_runs(struct vm *vm, uint64_t gpa, uint64_t npages, const struct attr_run *want,
		       size_t nwant)
{
	struct attr_run got[8];
	size_t n = read_runs(vm, gpa, npages, got, ARRAY_SIZE(got));
	bool ok = n == nwant;
	char text[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		ok = ok && got[i].start == want[i].start && got[i].end == want[i].end &&
		     got[i].attributes == want[i].attributes;
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					" [%" PRIu64 ",%" PRIu64 ") %s", got[i].start, got[i].end,
					attr_name(got[i].attributes));
		if (len >= sizeof(text))
			break;
	}
	check(ok, "a reader sees %zu run%s (want %zu):%s", n, n == 1 ? "" : "s", nwant, text);
}

/*
 * A vCPU's fault on @gfn: memslots_fault_lookup() answers the slot and
 * the attributes from one set, with the vCPU's cache.  @want_id -1: no slot.
 */
static void check_fault(struct vm *vm, uint64_t gfn, int want_id, uint64_t want_attributes,
			uint64_t want_end)
{
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	uint64_t attributes = ~0ull, end = 0;
	const struct memslot *slot =
		memslots_fault_lookup(set, &vcpu0.cache, gfn, &attributes, &end);
	int id = slot ? slot->id : -1;
	char where[16] = "no slot";

	memslots_read_unlock(vm->ms);
	if (slot)
		snprintf(where, sizeof(where), "slot %d", id);
	check(id == want_id && attributes == want_attributes && end == want_end,
	      "fault at gfn 0x%" PRIx64 ": %s, %s, same attributes up to gfn 0x%" PRIx64, gfn,
	      where, attr_name(attributes), end);
}

/*
 * A conversion that changes something: one publication, one hook call with
 * exactly the request (which, on the KVM path, KVM accepted).
 */
static void convert(struct vm *vm, const char *what, const struct memslots_attributes *a)
{
	uint64_t gen = lib_state(vm).generation;
	unsigned long calls = vm->nr_attr_calls;
	int ret = memslots_set_attributes(vm->ms, a);

	check(ret == 0 && lib_state(vm).generation == gen + 1 && vm->nr_attr_calls == calls + 1 &&
		      calls < ARRAY_SIZE(vm->attr_calls) && same_request(&vm->attr_calls[calls], a),
	      "%s: %s, one publication, the hook passed on exactly that request", what,
	      memslots_strerror(ret));
}

/*
 * A request KVM refuses must be refused by the library too, before its
 * hook: nothing published, nothing passed on.  Where KVM has the ioctl it
 * gets the same request directly and must answer the same.
 */
static void refuse_both(struct vm *vm, const char *what, const struct memslots_attributes *a)
{
	uint64_t gen = lib_state(vm).generation;
	unsigned long calls = vm->nr_attr_calls;
	int ret = memslots_set_attributes(vm->ms, a);
	bool untouched = lib_state(vm).generation == gen && vm->nr_attr_calls == calls;

	if (attributes_in_kvm(vm)) {
		int kret = kvm_issue_attributes(vm, a);

		check(ret == -EINVAL && kret == ret && untouched,
		      "%s: library %d, KVM %d (want -EINVAL from both), nothing published", what,
		      ret, kret);
	} else {
		check(ret == -EINVAL && untouched,
		      "%s: the library refuses it before its hook (%s), nothing published", what,
		      ret == -EINVAL ? "-EINVAL" : memslots_strerror(ret));
	}
}

/*
 * Private and shared memory: pages of a slot converted to private and back
 * with memslots_set_attributes(), whose hook issues
 * KVM_SET_MEMORY_ATTRIBUTES where KVM offers the private attribute for this
 * VM.  KVM cannot be asked what it holds, so "KVM and the library agree"
 * means: KVM accepted exactly the requests the library published, and both
 * refuse the same malformed ones.  Elsewhere the hook records the requests
 * and the library part runs alone: the conversions, the runs a reader sees
 * and the fault path's lookup.
 */
static void step_attributes(struct vm *vm)
{
	const uint64_t gpa = HOTPLUG_GPA, gfn0 = gpa >> PAGE_SHIFT;
	const uint64_t P = MEMSLOTS_ATTR_PRIVATE;
	struct memslots_attributes to_private = attr_request(gpa + 4 * PAGE_SIZE, 8 * PAGE_SIZE, P);
	struct memslots_attributes hole = attr_request(gpa + 6 * PAGE_SIZE, 2 * PAGE_SIZE, 0);
	struct memslots_attributes to_shared = attr_request(gpa + 4 * PAGE_SIZE, 8 * PAGE_SIZE, 0);
	struct memslots_attributes unaligned =
		attr_request(gpa + 4 * PAGE_SIZE + 0x800, PAGE_SIZE, P);
	struct memslots_attributes unknown_bit = attr_request(gpa, PAGE_SIZE, 1ull << 0);
	const struct attr_run all_shared[] = {{0, HOTPLUG_PAGES, 0}};
	const struct attr_run one_private[] = {{0, 4, 0}, {4, 12, P}, {12, HOTPLUG_PAGES, 0}};
	const struct attr_run split[] = {
		{0, 4, 0}, {4, 6, P}, {6, 8, 0}, {8, 12, P}, {12, HOTPLUG_PAGES, 0}};
	unsigned long calls = vm->nr_attr_calls, ioctls = vm->kvm.attr_ioctls;
	uint64_t gen;
	int ret;

	if (attributes_in_kvm(vm))
		printf("  KVM_CAP_MEMORY_ATTRIBUTES 0x%" PRIx64 " for this VM: the hook issues "
		       "KVM_SET_MEMORY_ATTRIBUTES\n",
		       vm->kvm.mem_attributes);
	else
		printf("  KVM lacks KVM_CAP_MEMORY_ATTRIBUTES with the private attribute for this "
		       "VM (0x%" PRIx64 "): the library part alone, the hook records the calls\n",
		       vm->kvm.mem_attributes);

	/* A slot under the range, so that the fault path finds one. */
	ret = set_region(vm, HOTPLUG_SLOT, 0, gpa, HOTPLUG_PAGES * PAGE_SIZE, hotplug_mem);
	check(ret == 0 && fill_pattern(vm, gpa, HOTPLUG_PAGES),
	      "slot %d: %d pages at gpa 0x%" PRIx64 ", pattern written: %s", HOTPLUG_SLOT,
	      HOTPLUG_PAGES, gpa, memslots_strerror(ret));
	if (ret)
		return;
	check_runs(vm, gpa, HOTPLUG_PAGES, all_shared, ARRAY_SIZE(all_shared));

	convert(vm, "pages 4-11 to private", &to_private);
	check_runs(vm, gpa, HOTPLUG_PAGES, one_private, ARRAY_SIZE(one_private));
	check_fault(vm, gfn0 + 3, HOTPLUG_SLOT, 0, gfn0 + 4);
	check_fault(vm, gfn0 + 4, HOTPLUG_SLOT, P, gfn0 + 12);
	check_fault(vm, gfn0 + 12, HOTPLUG_SLOT, 0, UINT64_MAX);
	check_fault(vm, gfn0 + HOTPLUG_PAGES, -1, 0, UINT64_MAX); /* past the slot */

	/* The same request again changes nothing: no publication, no hook. */
	gen = lib_state(vm).generation;
	ret = memslots_set_attributes(vm->ms, &to_private);
	check(ret == 0 && lib_state(vm).generation == gen && vm->nr_attr_calls == calls + 1,
	      "pages 4-11 to private again: %s, nothing published or passed on",
	      memslots_strerror(ret));

	convert(vm, "pages 6-7 back to shared", &hole);
	check_runs(vm, gpa, HOTPLUG_PAGES, split, ARRAY_SIZE(split));
	check_fault(vm, gfn0 + 5, HOTPLUG_SLOT, P, gfn0 + 6);
	check_fault(vm, gfn0 + 6, HOTPLUG_SLOT, 0, gfn0 + 8);

	refuse_both(vm, "an address not page aligned", &unaligned);
	refuse_both(vm, "an attribute bit KVM does not define (bit 0)", &unknown_bit);
	check_runs(vm, gpa, HOTPLUG_PAGES, split, ARRAY_SIZE(split));

	convert(vm, "pages 4-11 back to shared", &to_shared);
	check_runs(vm, gpa, HOTPLUG_PAGES, all_shared, ARRAY_SIZE(all_shared));
	check_fault(vm, gfn0 + 5, HOTPLUG_SLOT, 0, UINT64_MAX);

	if (attributes_in_kvm(vm))
		/* The hook's 3 requests plus the 2 malformed ones sent directly. */
		check(vm->kvm.attr_ioctls - ioctls == 5 && vm->kvm.attr_refusals == 2,
		      "KVM: %lu KVM_SET_MEMORY_ATTRIBUTES, %lu refused (want 5 and the 2 "
		      "malformed ones)",
		      vm->kvm.attr_ioctls - ioctls, vm->kvm.attr_refusals);
	else
		check(vm->kvm.attr_ioctls == ioctls && vm->nr_attr_calls - calls == 3,
		      "no KVM_SET_MEMORY_ATTRIBUTES issued; the hook recorded %lu requests",
		      vm->nr_attr_calls - calls);

	/* Shared again, page 5 is ordinary memory of the slot for KVM too (a
	 * private page of a slot without guest_memfd would fault). */
	check_guest_sees(vm, gpa + 5 * PAGE_SIZE, pattern(5));
	ret = set_region(vm, HOTPLUG_SLOT, 0, gpa, 0, hotplug_mem);
	check(ret == 0, "slot %d deleted: %s", HOTPLUG_SLOT, memslots_strerror(ret));
	check_bookkeeping(vm);
}

struct step {
	const char *name;
	void (*run)(struct vm *vm);
	bool passed;
};

int main(int argc, char **argv)
{
	struct step steps[] = {
		{"boot", step_boot, false},	    {"hotplug", step_hotplug, false},
		{"move", step_move, false},	    {"dirty-log", step_dirty_log, false},
		{"delete", step_delete, false},	    {"many-slots", step_many, false},
		{"rollback", step_rollback, false}, {"attributes", step_attributes, false},
	};
	unsigned int passed = 0;
	struct vm vm;
	double t0 = now();
	int ret;

	(void)argv;
	if (argc > 1) {
		printf("usage: vmm\n(runs the example scenario on /dev/kvm; exit 0 pass, "
		       "1 fail, 77 no KVM)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = scenario_open(&vm);
	if (ret)
		return ret;

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		double ts = now();

		cur_step = steps[i].name;
		step_failures = 0;
		printf("vmm: step %zu/%zu: %s\n", i + 1, ARRAY_SIZE(steps), cur_step);
		steps[i].run(&vm);
		steps[i].passed = step_failures == 0 && vcpu0.bad_exits == 0;
		passed += steps[i].passed;
		printf("vmm: step %s: %s (%.2f s)\n", cur_step, steps[i].passed ? "PASS" : "FAIL",
		       now() - ts);
		if (!steps[i].passed && i == 0)
			break; /* without a booted guest the rest means nothing */
	}

	vm_close(&vm);

	printf("vmm: summary\n");
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		printf("%s %s\n", steps[i].passed ? "PASS" : "FAIL", steps[i].name);
	printf("vmm: %u/%zu steps passed, %lu %s ioctls (%lu refused), %lu "
	       "KVM_SET_MEMORY_ATTRIBUTES (%lu refused), %.2f s\n",
	       passed, ARRAY_SIZE(steps), vm.kvm.region_ioctls, kvm_region_ioctl_name(&vm.kvm),
	       vm.kvm.region_refusals, vm.kvm.attr_ioctls, vm.kvm.attr_refusals, now() - t0);
	return passed == ARRAY_SIZE(steps) ? 0 : 1;
}
