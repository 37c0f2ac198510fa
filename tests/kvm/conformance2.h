/* SPDX-License-Identifier: MIT */
/*
 * What conformance2.c's run and its setup (conformance2_setup.c) share:
 * the world the test made, which the prepare hook consults as a VMM
 * would, and the shorthands.  Single-threaded.
 */
#ifndef MS_KVM_CONFORMANCE2_H
#define MS_KVM_CONFORMANCE2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "kvm_stream.h"
#include "kvm_uapi.h"

_Static_assert(sizeof(struct kvm_userspace_memory_region2) == sizeof(struct memslots_region2),
	       "the same bytes go to KVM and to the library");

#define PAGE	 KS_PAGE
#define NGMEM	 3 /* guest_memfds of the VM */
#define MAX_AS	 4
#define NEVER_FD 987 /* a descriptor number this program never opens */
#define GMEM	 MEMSLOT_GUEST_MEMFD
#define LOG	 MEMSLOT_LOG_DIRTY_PAGES
#define RO	 MEMSLOT_READONLY

/*
 * What the test made, which the prepare hook consults as a VMM would.
 * Without guest_memfd (has_gmem false, no_gmem saying why) the VM is of
 * the default type, gmem[] are -1 and the guest_memfd rows are skipped.
 */
struct world {
	int kvm, vm, other_vm;
	bool has_gmem;
	char no_gmem[160];
	int gmem[NGMEM];
	uint64_t gmem_size[NGMEM];
	int foreign_gmem; /* a guest_memfd of other_vm, else /dev/kvm's fd */
	unsigned int nr_as, max_slots;
	bool toggle_fixed;
	int bound_errno; /* the kernel's answer to a range bound twice */
	unsigned long known_bound_diffs;
	struct memslots *ms[MAX_AS];
	uint32_t index; /* of the library objects: MEMSLOTS_INDEX_* */
	unsigned long gmem_creates, kernel_only_refusals;
};

/* The prepare hook the library objects are made with. */
extern const struct memslots_ops ops;

/* Prints why the test cannot run here; returns the skip status, 77. */
int skip(const char *why);

/*
 * Makes the VMs, guest_memfds and library objects of @w; without
 * guest_memfd, a VM without them (@w->has_gmem false).  Returns 0; 77
 * with *@why (maybe formatted into @buf) saying why the test cannot run
 * here (no KVM, no KVM_SET_USER_MEMORY_REGION2); or 1 when something that
 * should work fails.
 */
int setup(struct world *w, const char **why, char *buf, size_t buflen);

#endif /* MS_KVM_CONFORMANCE2_H */
