// SPDX-License-Identifier: MIT
/*
 * The example VMM's memory attributes step: private and shared pages
 * converted through memslots_set_attributes(), checked against KVM and
 * the library (scenario.h).
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
#include "scenario.h"

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
static void check_runs(struct scenario *sc, uint64_t gpa, uint64_t npages,
		       const struct attr_run *want, size_t nwant)
{
	struct vm *vm = &sc->vm;
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
	check(sc, ok, "a reader sees %zu run%s (want %zu):%s", n, n == 1 ? "" : "s", nwant, text);
}

/*
 * A vCPU's fault on @gfn: memslots_fault_lookup() answers the slot and
 * the attributes from one set, with the vCPU's cache.  @want_id -1: no slot.
 */
static void check_fault(struct scenario *sc, uint64_t gfn, int want_id, uint64_t want_attributes,
			uint64_t want_end)
{
	struct vm *vm = &sc->vm;
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	uint64_t attributes = ~0ull, end = 0;
	const struct memslot *slot =
		memslots_fault_lookup(set, &sc->vcpu.cache, gfn, &attributes, &end);
	int id = slot ? slot->id : -1;
	char where[16] = "no slot";

	memslots_read_unlock(vm->ms);
	if (slot)
		snprintf(where, sizeof(where), "slot %d", id);
	check(sc, id == want_id && attributes == want_attributes && end == want_end,
	      "fault at gfn 0x%" PRIx64 ": %s, %s, same attributes up to gfn 0x%" PRIx64, gfn,
	      where, attr_name(attributes), end);
}

/*
 * A conversion that changes something: one publication, one hook call with
 * exactly the request (which, on the KVM path, KVM accepted).
 */
static void convert(struct scenario *sc, const char *what, const struct memslots_attributes *a)
{
	struct vm *vm = &sc->vm;
	uint64_t gen = lib_state(vm).generation;
	unsigned long calls = vm->nr_attr_calls;
	int ret = memslots_set_attributes(vm->ms, a);

	check(sc,
	      ret == 0 && lib_state(vm).generation == gen + 1 && vm->nr_attr_calls == calls + 1 &&
		      calls < ARRAY_SIZE(vm->attr_calls) && same_request(&vm->attr_calls[calls], a),
	      "%s: %s, one publication, the hook passed on exactly that request", what,
	      memslots_strerror(ret));
}

/*
 * A request KVM refuses must be refused by the library too, before its
 * hook: nothing published, nothing passed on.  Where KVM has the ioctl it
 * gets the same request directly and must answer the same.
 */
static void refuse_both(struct scenario *sc, const char *what, const struct memslots_attributes *a)
{
	struct vm *vm = &sc->vm;
	uint64_t gen = lib_state(vm).generation;
	unsigned long calls = vm->nr_attr_calls;
	int ret = memslots_set_attributes(vm->ms, a);
	bool untouched = lib_state(vm).generation == gen && vm->nr_attr_calls == calls;

	if (attributes_in_kvm(vm)) {
		int kret = kvm_issue_attributes(vm, a);

		check(sc, ret == -EINVAL && kret == ret && untouched,
		      "%s: library %d, KVM %d (want -EINVAL from both), nothing published", what,
		      ret, kret);
	} else {
		check(sc, ret == -EINVAL && untouched,
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
void step_attributes(struct scenario *sc)
{
	struct vm *vm = &sc->vm;
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
	uint16_t id = 0;
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
	ret = create_slot(vm, 0, gpa, HOTPLUG_PAGES * PAGE_SIZE, sc->hotplug_mem, &id);
	check(sc, ret == 0 && fill_pattern(vm, gpa, HOTPLUG_PAGES),
	      "slot %u: %d pages at gpa 0x%" PRIx64 ", pattern written: %s", id, HOTPLUG_PAGES, gpa,
	      memslots_strerror(ret));
	if (ret)
		return;
	check_runs(sc, gpa, HOTPLUG_PAGES, all_shared, ARRAY_SIZE(all_shared));

	convert(sc, "pages 4-11 to private", &to_private);
	check_runs(sc, gpa, HOTPLUG_PAGES, one_private, ARRAY_SIZE(one_private));
	check_fault(sc, gfn0 + 3, id, 0, gfn0 + 4);
	check_fault(sc, gfn0 + 4, id, P, gfn0 + 12);
	check_fault(sc, gfn0 + 12, id, 0, UINT64_MAX);
	check_fault(sc, gfn0 + HOTPLUG_PAGES, -1, 0, UINT64_MAX); /* past the slot */

	/* The same request again changes nothing: no publication, no hook. */
	gen = lib_state(vm).generation;
	ret = memslots_set_attributes(vm->ms, &to_private);
	check(sc, ret == 0 && lib_state(vm).generation == gen && vm->nr_attr_calls == calls + 1,
	      "pages 4-11 to private again: %s, nothing published or passed on",
	      memslots_strerror(ret));

	convert(sc, "pages 6-7 back to shared", &hole);
	check_runs(sc, gpa, HOTPLUG_PAGES, split, ARRAY_SIZE(split));
	check_fault(sc, gfn0 + 5, id, P, gfn0 + 6);
	check_fault(sc, gfn0 + 6, id, 0, gfn0 + 8);

	refuse_both(sc, "an address not page aligned", &unaligned);
	refuse_both(sc, "an attribute bit KVM does not define (bit 0)", &unknown_bit);
	check_runs(sc, gpa, HOTPLUG_PAGES, split, ARRAY_SIZE(split));

	convert(sc, "pages 4-11 back to shared", &to_shared);
	check_runs(sc, gpa, HOTPLUG_PAGES, all_shared, ARRAY_SIZE(all_shared));
	check_fault(sc, gfn0 + 5, id, 0, UINT64_MAX);

	if (attributes_in_kvm(vm))
		/* The hook's 3 requests plus the 2 malformed ones sent directly. */
		check(sc, vm->kvm.attr_ioctls - ioctls == 5 && vm->kvm.attr_refusals == 2,
		      "KVM: %lu KVM_SET_MEMORY_ATTRIBUTES, %lu refused (want 5 and the 2 "
		      "malformed ones)",
		      vm->kvm.attr_ioctls - ioctls, vm->kvm.attr_refusals);
	else
		check(sc, vm->kvm.attr_ioctls == ioctls && vm->nr_attr_calls - calls == 3,
		      "no KVM_SET_MEMORY_ATTRIBUTES issued; the hook recorded %lu requests",
		      vm->nr_attr_calls - calls);

	/* Shared again, page 5 is ordinary memory of the slot for KVM too (a
	 * private page of a slot without guest_memfd would fault). */
	check_guest_sees(sc, gpa + 5 * PAGE_SIZE, pattern(5));
	ret = delete_slot(vm, id);
	check(sc, ret == 0, "slot %u deleted: %s", id, memslots_strerror(ret));
	check_bookkeeping(sc);
}
