// SPDX-License-Identifier: MIT
/*
 * The example VMM's guest memory: the library is the VMM's own copy of
 * KVM's memslot table.  Every change is made with memslots_set_region() /
 * memslots_apply(), and the library's hooks (struct memslots_ops) forward
 * it to KVM with KVM_SET_USER_MEMORY_REGION2, or KVM_SET_USER_MEMORY_REGION
 * where the kernel (before 6.8) lacks it.  Because the kernel is told
 * from the prepare hook, before the library publishes anything, a change
 * the kernel refuses is also refused by the library, and the two tables
 * never disagree:
 *
 *   prepare  issues the ioctl for one change, the request built by
 *            memslots_change_to_region2() (or _region() for v1); its
 *            -errno aborts the call;
 *   abort    undoes, in reverse order, what earlier prepares of a failed
 *            batch told the kernel, the request built by
 *            memslots_abort_to_region2() (re-create, move back, restore
 *            flags, delete);
 *   commit   runs once the change is published: the VMM's bookkeeping
 *            (a VMM with per-slot data of its own on memslot.priv would
 *            free that of a slot that went away here, and the rest in a
 *            release hook; this one has none: the dirty bitmap a logging
 *            slot needs is the library's, made before it publishes);
 *   set_attributes  issues KVM_SET_MEMORY_ATTRIBUTES for a change of
 *            memslots_set_attributes() (private/shared), where KVM has it.
 *
 * The VMM never converts a slot itself: the requests come from the
 * library's builders, the ids of new slots from its allocator, and its
 * lookups (gpa_to_host() and host_to_gpa() here, the device models'
 * copies in guestmem.c) from its byte-level translators: no address of guest
 * memory is known to the VMM but through the library.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "slots.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The library's requests are KVM's, field for field (memslots.h), so what
 * the library builds goes to the kernel as it is; the compiler checks the
 * layout here rather than the VMM copying fields.
 */
_Static_assert(sizeof(struct memslots_region2) == sizeof(struct kvm_userspace_memory_region2) &&
		       offsetof(struct memslots_region2, guest_memfd) ==
			       offsetof(struct kvm_userspace_memory_region2, guest_memfd),
	       "struct memslots_region2 has KVM's layout");
_Static_assert(sizeof(struct memslots_region) == sizeof(struct kvm_userspace_memory_region) &&
		       offsetof(struct memslots_region, userspace_addr) ==
			       offsetof(struct kvm_userspace_memory_region, userspace_addr),
	       "struct memslots_region has KVM's layout");

/*
 * Takes KVM's slot table through the step a hook is told about (@undo
 * false: prepare's step; true: abort's undo of it).  The library builds
 * the request: the slot id with its address space, bytes from pages,
 * MEMSLOT_INVALID and the bits KVM does not define left out, a DELETE as
 * memory_size 0.  KVM_SET_USER_MEMORY_REGION2 where the kernel has it
 * (the only one that carries a guest_memfd), else the v1 ioctl, whose
 * builder refuses a guest_memfd slot (the library refuses one to a v1
 * caller first anyway).
 */
static int kvm_step(struct vm *vm, const struct memslot *old_slot, const struct memslot *new_slot,
		    enum memslots_change change, bool undo)
{
	int ret;

	if (vm->kvm.region2) {
		struct memslots_region2 r;
		struct kvm_userspace_memory_region2 k;

		ret = undo ? memslots_abort_to_region2(vm->ms, old_slot, new_slot, change, &r)
			   : memslots_change_to_region2(vm->ms, old_slot, new_slot, change, &r);
		if (ret)
			return ret;
		memcpy(&k, &r, sizeof(k));
		return kvm_set_region2(&vm->kvm, &k);
	}
	{
		struct memslots_region r;
		struct kvm_userspace_memory_region k;

		ret = undo ? memslots_abort_to_region(vm->ms, old_slot, new_slot, change, &r)
			   : memslots_change_to_region(vm->ms, old_slot, new_slot, change, &r);
		if (ret)
			return ret;
		memcpy(&k, &r, sizeof(k));
		return kvm_set_region(&vm->kvm, &k);
	}
}

/* ---- the hooks ---------------------------------------------------------------- */

/*
 * prepare: runs before the library publishes the change, with the writer
 * lock held.  This is where KVM is told; a refusal is returned as -errno,
 * which makes the library drop the whole call (and abort the earlier
 * requests of a batch).  Turning MEMSLOT_LOG_DIRTY_PAGES on or off is a
 * FLAGS_ONLY change like any other: KVM starts or stops its log here, and
 * the library has already made (or will drop) its own bitmap for the slot.
 */
static int vmm_prepare(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		       enum memslots_change change)
{
	struct vm *vm = opaque;
	int ret;

	/* CREATE, MOVE (the same id at new's gpa), FLAGS_ONLY: KVM's slot made
	 * to look like new; DELETE: KVM's slot removed. */
	ret = kvm_step(vm, old_slot, new_slot, change, false);
	if (ret)
		return ret;
	vm->prepares_ok++;
	return 0;
}

/*
 * abort: a later request of the same batch failed (the kernel refused it,
 * it broke a rule, or its memory ran out), so this change, already made in
 * KVM, must be undone.  Only batches get here: a one-request call whose
 * prepare succeeded always succeeds (memslots.h states the exact rule).  Called in reverse order,
 * so KVM walks back through the states it went through.  It cannot fail the call; if KVM refused an
 * undo the two tables would disagree, which we count and report.
 */
static void vmm_abort(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		      enum memslots_change change)
{
	struct vm *vm = opaque;
	int ret;

	/* CREATE: KVM's new slot deleted; DELETE, MOVE, FLAGS_ONLY: old
	 * installed again as it was (re-created, moved back, flags restored). */
	ret = kvm_step(vm, old_slot, new_slot, change, true);
	if (ret) {
		fprintf(stderr, "vmm: abort: KVM refused to undo a change of slot %u: %s\n",
			(old_slot ? old_slot : new_slot)->id, strerror(-ret));
		vm->abort_failures++;
	}
	vm->aborts++;
}

/*
 * commit: the change is published and no reader still sees the old slot:
 * the VMM's own count of slots and pages follows it.
 */
static void vmm_commit(void *opaque, const struct memslot *old_slot, const struct memslot *new_slot,
		       enum memslots_change change)
{
	struct vm *vm = opaque;

	(void)change;
	if (old_slot) {
		vm->nr_slots--;
		vm->nr_pages -= old_slot->npages;
	}
	if (new_slot) {
		vm->nr_slots++;
		vm->nr_pages += new_slot->npages;
	}
	vm->commits++;
}

int kvm_issue_attributes(struct vm *vm, const struct memslots_attributes *a)
{
	/* Same fields as the library's request, in the same order. */
	struct kvm_memory_attributes k = {
		.address = a->address,
		.size = a->size,
		.attributes = a->attributes,
		.flags = a->flags,
	};

	return kvm_set_memory_attributes(&vm->kvm, &k);
}

/*
 * set_attributes: a memslots_set_attributes() call that changes something
 * is about to be published.  Where KVM has KVM_SET_MEMORY_ATTRIBUTES with
 * the private attribute for this VM, KVM is told here, so that a refusal
 * fails the library call as prepare does for slots; elsewhere there is no
 * kernel to tell.  Either way the request is recorded: it is what the
 * library published (and KVM accepted), which the scenario checks.
 */
static int vmm_set_attributes(void *opaque, const struct memslots_attributes *a)
{
	struct vm *vm = opaque;

	if (attributes_in_kvm(vm)) {
		int ret = kvm_issue_attributes(vm, a);

		if (ret)
			return ret;
	}
	if (vm->nr_attr_calls < ARRAY_SIZE(vm->attr_calls))
		vm->attr_calls[vm->nr_attr_calls] = *a;
	vm->nr_attr_calls++;
	return 0;
}

static const struct memslots_ops vmm_ops = {
	.prepare = vmm_prepare,
	.abort = vmm_abort,
	.commit = vmm_commit,
	/* No .invalidate: this VMM caches no translations of its own.  A VMM
	 * that did (an IOMMU map, a vhost table) would drop them there.  No
	 * .release: it hangs nothing on memslot.priv. */
	.set_attributes = vmm_set_attributes,
};

/* ---- library helpers --------------------------------------------------------- */

struct memslots_region region(uint16_t id, uint32_t flags, uint64_t gpa, uint64_t size,
			      const void *hva)
{
	return (struct memslots_region){
		.slot = id,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};
}

int set_region(struct vm *vm, uint16_t id, uint32_t flags, uint64_t gpa, uint64_t size,
	       const void *hva)
{
	struct memslots_region r = region(id, flags, gpa, size, hva);

	return memslots_set_region(vm->ms, &r);
}

struct memslots_region deletion(uint16_t id)
{
	/* KVM's DELETE, and the library's: the id with memory_size 0. */
	return region(id, 0, 0, 0, NULL);
}

int delete_slot(struct vm *vm, uint16_t id)
{
	struct memslots_region r = deletion(id);

	return memslots_set_region(vm->ms, &r);
}

int create_slot(struct vm *vm, uint32_t flags, uint64_t gpa, uint64_t size, const void *hva,
		uint16_t *id)
{
	/* Address space 0; the library fills in bits 0-15 with the id. */
	struct memslots_region2 r = {
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	return memslots_create_region2(vm->ms, &r, 0, UINT_MAX, id);
}

int pick_free_ids(struct vm *vm, uint16_t *ids, size_t n)
{
	unsigned int first = 0;

	for (size_t i = 0; i < n; i++) {
		int ret = memslots_lowest_free_id(vm->ms, first, UINT_MAX, &ids[i]);

		if (ret)
			return ret;
		first = ids[i] + 1u;
	}
	return 0;
}

void *gpa_to_host(struct vm *vm, uint64_t gpa)
{
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	uint64_t hva = memslots_gpa_to_hva(set, gpa, NULL);

	memslots_read_unlock(vm->ms);
	return hva == MEMSLOTS_HVA_BAD ? NULL : (void *)(uintptr_t)hva;
}

bool gpa_in_slot(struct vm *vm, uint64_t gpa)
{
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	bool in = memslots_gpa_to_hva(set, gpa, NULL) != MEMSLOTS_HVA_BAD;

	memslots_read_unlock(vm->ms);
	return in;
}

uint64_t host_to_gpa(struct vm *vm, const void *host)
{
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	uint64_t gpa = GPA_NONE;

	/* The lowest gpa of the valid slots that map it; this VMM has no
	 * aliases (memslots_hva_to_gpa_next() would visit them). */
	if (!memslots_hva_to_gpa(set, (uint64_t)(uintptr_t)host, &gpa))
		gpa = GPA_NONE;
	memslots_read_unlock(vm->ms);
	return gpa;
}

struct lib_state lib_state(struct vm *vm)
{
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	struct lib_state st = {
		.generation = memslots_generation(set),
		.count = memslots_count(set),
		.nr_pages = memslots_nr_pages(set),
	};

	memslots_read_unlock(vm->ms);
	return st;
}

bool attributes_in_kvm(const struct vm *vm)
{
	return vm->kvm.mem_attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE;
}

int vm_parse_index(const char *name, uint32_t *index)
{
	if (!strcmp(name, "kvm"))
		*index = MEMSLOTS_INDEX_KVM;
	else if (!strcmp(name, "btree"))
		*index = MEMSLOTS_INDEX_BTREE;
	else
		return -1;
	return 0;
}

int vm_open(struct vm *vm, bool private_mem, uint32_t index, uint32_t dirty_log)
{
	struct memslots_config cfg = {0};
	int ret;

	memset(vm, 0, sizeof(*vm));
	ret = kvm_vm_open(&vm->kvm, private_mem);
	if (ret)
		return ret;
	printf("vmm: KVM API %d, KVM_CAP_NR_MEMSLOTS %u, guest MAXPHYADDR %u, libmemslots %s\n",
	       KVM_API_VERSION, vm->kvm.nr_memslots, vm->kvm.phys_bits, memslots_version_string());
	printf("vmm: VM type %lu (%s); slots go to KVM with %s (%s)\n", vm->kvm.type,
	       vm->kvm.type == KVM_X86_SW_PROTECTED_VM ? "KVM_X86_SW_PROTECTED_VM" : "default",
	       kvm_region_ioctl_name(&vm->kvm),
	       vm->kvm.region2 ? "KVM_CAP_USER_MEMORY2" : "the kernel lacks KVM_CAP_USER_MEMORY2");

	cfg.max_slots = vm->kvm.nr_memslots;
	/* The library refuses the attribute bits this VM's KVM refuses; with
	 * no KVM to follow it keeps its default (the private bit). */
	if (attributes_in_kvm(vm))
		cfg.supported_attributes = vm->kvm.mem_attributes;
	cfg.ops = &vmm_ops;
	cfg.opaque = vm;
	/* KVM's own structures or the library's B+tree: the hooks see no
	 * difference, only the lookups' cost does. */
	cfg.index = index;
	/* The dirty bitmaps are the library's: made, kept and dropped with
	 * the slot's LOG_DIRTY_PAGES as KVM does its own. */
	cfg.dirty_log = dirty_log;
	/* hva_limit stays 0: the library accepts any non-wrapping hva, and
	 * whatever KVM refuses beyond that comes back from prepare. */
	vm->ms = memslots_new(&cfg);
	if (!vm->ms) {
		printf("vmm: memslots_new: %s\n", strerror(errno));
		return 1;
	}
	printf("vmm: libmemslots index: %s\n", memslots_index(vm->ms) == MEMSLOTS_INDEX_KVM
						       ? "kvm (gfn red-black tree, id hash)"
						       : "btree (gfn B+tree, id table)");
	/* The vCPU thread (the calling one) reads the table. */
	memslots_reader_register(vm->ms);
	return 0;
}

void vm_close(struct vm *vm)
{
	memslots_reader_unregister(vm->ms);
	memslots_free(vm->ms); /* the bitmaps of the slots left go with it */
	vm->ms = NULL;
	kvm_vm_close(&vm->kvm);
}
