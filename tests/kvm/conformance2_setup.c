// SPDX-License-Identifier: MIT
/*
 * conformance2's setup (conformance2.h): a VM type with guest_memfd, the
 * guest_memfds, what the kernel answers to a range bound twice, and one
 * library object per address space configured like the VM.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <memslots/memslots.h>

#include "conformance2.h"
#include "kvm_stream.h"
#include "kvm_uapi.h"

int skip(const char *why)
{
	printf("conformance2: SKIP: %s\n", why);
	return 77;
}

static bool kernel_at_least(unsigned int major, unsigned int minor)
{
	struct utsname u;
	unsigned int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/* A VM of a type whose memslots may use guest_memfd, or -1. */
static int create_gmem_vm(int kvm, const char **type_name, unsigned long *type)
{
	int types = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	int vm;

#if defined(__x86_64__)
	if (types > 0 && (types & (1 << KVM_X86_SW_PROTECTED_VM))) {
		vm = ioctl(kvm, KVM_CREATE_VM, KVM_X86_SW_PROTECTED_VM);
		if (vm >= 0) {
			*type_name = "KVM_X86_SW_PROTECTED_VM";
			*type = KVM_X86_SW_PROTECTED_VM;
			return vm;
		}
	}
#else
	(void)types;
#endif
	*type = 0;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return -1;
	if (ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD) <= 0) {
		close(vm);
		return -1;
	}
	*type_name = "the default VM type";
	return vm;
}

static int create_gmem(int vm, uint64_t size)
{
	struct kvm_create_guest_memfd g = {.size = size};

	return ioctl(vm, KVM_CREATE_GUEST_MEMFD, &g);
}

/*
 * What the kernel answers to a range of a guest_memfd bound twice, asked
 * of a scratch VM of the test's type: -EINVAL until Linux's "KVM:
 * guest_memfd: Return -EEXIST for overlapping bindings" (2026), -EEXIST
 * since.  The contract, and so the library, keeps -EINVAL.
 */
static int probe_bound_errno(int kvm, unsigned long type)
{
	struct kvm_userspace_memory_region2 r = {
		.flags = KVM_MEM_GUEST_MEMFD,
		.memory_size = PAGE,
		.userspace_addr = KS_HVA_BASE,
	};
	int vm = ioctl(kvm, KVM_CREATE_VM, type), gmem = -1, err = 0;

	if (vm >= 0)
		gmem = create_gmem(vm, 4 * PAGE);
	if (gmem >= 0) {
		r.guest_memfd = (uint32_t)gmem;
		if (ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &r) == 0) {
			r.slot = 1;
			r.guest_phys_addr = 16 * PAGE; /* another gfn, the same bytes */
			err = ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &r) < 0 ? -errno : 0;
		}
		close(gmem);
	}
	if (vm >= 0)
		close(vm);
	return err;
}

/*
 * Opens /dev/kvm and prints the kernel; 77 (*@why formatted into @buf)
 * without KVM or without KVM_SET_USER_MEMORY_REGION2, which every row
 * needs.
 */
static int open_kvm(struct world *w, const struct utsname *u, const char **why, char *buf,
		    size_t buflen)
{
	w->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (w->kvm < 0) {
		snprintf(buf, buflen, "/dev/kvm: %s", strerror(errno));
		*why = buf;
		return 77;
	}
	printf("conformance2: kernel %s %s, KVM API %d\n", u->release, u->version,
	       ioctl(w->kvm, KVM_GET_API_VERSION, 0));
	if (ioctl(w->kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY2) <= 0) {
		snprintf(buf, buflen,
			 "kernel %s lacks KVM_CAP_USER_MEMORY2 (KVM_SET_USER_MEMORY_REGION2, "
			 "Linux 6.8+)",
			 u->release);
		*why = buf;
		return 77;
	}
	return 0;
}

/*
 * The VM with guest_memfd, its guest_memfds and another VM's.  Returns 0;
 * -1 when the kernel, or every VM type it offers, lacks guest_memfd
 * (@w->no_gmem says which: the rows without it still run); 77 or 1 as
 * setup().
 */
static int setup_gmem_vm(struct world *w, const char **type, unsigned long *vm_type,
			 const char **why, char *buf, size_t buflen)
{
	if (ioctl(w->kvm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD) <= 0) {
		snprintf(w->no_gmem, sizeof(w->no_gmem), "the kernel lacks KVM_CAP_GUEST_MEMFD");
		return -1;
	}
	w->vm = create_gmem_vm(w->kvm, type, vm_type);
	if (w->vm < 0) {
		snprintf(w->no_gmem, sizeof(w->no_gmem),
			 "the kernel offers no VM type with guest_memfd "
			 "(KVM_X86_SW_PROTECTED_VM needs CONFIG_KVM_SW_PROTECTED_VM)");
		return -1;
	}
	w->has_gmem = true;
	w->other_vm = ioctl(w->kvm, KVM_CREATE_VM, 0);
	for (int i = 0; i < NGMEM; i++) {
		w->gmem_size[i] = (uint64_t)(16 << i) * PAGE; /* 16, 32, 64 pages */
		w->gmem[i] = create_gmem(w->vm, w->gmem_size[i]);
		if (w->gmem[i] < 0) {
			snprintf(buf, buflen, "KVM_CREATE_GUEST_MEMFD on %s: %s", *type,
				 strerror(errno));
			*why = buf;
			return 77;
		}
	}
	/* Another VM's guest_memfd, if that VM type has them; else any fd. */
	w->foreign_gmem = w->other_vm >= 0 ? create_gmem(w->other_vm, 16 * PAGE) : -1;
	if (w->foreign_gmem < 0)
		w->foreign_gmem = w->kvm;
	w->toggle_fixed = kernel_at_least(6, 19) || getenv("MEMSLOTS_KVM_GMEM_TOGGLE_FIXED");
	w->bound_errno = probe_bound_errno(w->kvm, *vm_type);
	if (w->bound_errno != -EINVAL && w->bound_errno != -EEXIST) {
		printf("conformance2: a range bound twice: the kernel answers %d\n",
		       w->bound_errno);
		return 1;
	}
	return 0;
}

/*
 * A VM of the default type for the rows that need no guest_memfd; 77 when
 * KVM makes none.  No guest_memfd exists, so /dev/kvm's fd stands in for
 * another VM's in the requests' junk.
 */
static int setup_plain_vm(struct world *w, const char **why, char *buf, size_t buflen)
{
	w->vm = ioctl(w->kvm, KVM_CREATE_VM, 0);
	if (w->vm < 0) {
		snprintf(buf, buflen, "KVM_CREATE_VM: %s", strerror(errno));
		*why = buf;
		return 77;
	}
	for (int i = 0; i < NGMEM; i++)
		w->gmem[i] = -1;
	w->foreign_gmem = w->kvm;
	return 0;
}

/* One library object per address space of the VM, each configured like it. */
static int make_objects(struct world *w, uint32_t allowed_flags)
{
	struct memslots_config cfg = {0};

	cfg.max_slots = w->max_slots;
	cfg.hva_limit = KS_HVA_LIMIT;
	cfg.allowed_flags = allowed_flags;
	cfg.index = w->index;
	cfg.ops = &ops;
	cfg.opaque = w;
	for (unsigned int as = 0; as < w->nr_as; as++) {
		cfg.as_id = (uint16_t)as;
		w->ms[as] = memslots_new(&cfg);
		if (!w->ms[as]) {
			perror("conformance2: memslots_new");
			return 1;
		}
		memslots_reader_register(w->ms[as]);
	}
	return 0;
}

static void print_gmem_world(const struct world *w, const char *type, uint32_t allowed_flags)
{
	printf("conformance2: VM type %s, %u slot ids, %u address space(s), allowed flags 0x%x, "
	       "guest_memfds of %" PRIu64 "/%" PRIu64 "/%" PRIu64 " KiB, GUEST_MEMFD toggle "
	       "fix %s; a range bound twice: %s\n",
	       type, w->max_slots, w->nr_as, allowed_flags, w->gmem_size[0] >> 10,
	       w->gmem_size[1] >> 10, w->gmem_size[2] >> 10,
	       w->toggle_fixed ? "assumed (6.19+ or MEMSLOTS_KVM_GMEM_TOGGLE_FIXED)"
			       : "not assumed: toggling requests not sent",
	       w->bound_errno == -EEXIST ? "-EEXIST from the kernel, -EINVAL from the contract "
					   "(counted apart, not failed)"
					 : "-EINVAL, as the contract says");
}

static void print_plain_world(const struct world *w, const char *type, uint32_t allowed_flags)
{
	printf("conformance2: VM type %s, %u slot ids, %u address space(s), allowed flags 0x%x "
	       "(no GUEST_MEMFD: KVM refuses the flag on this VM)\n",
	       type, w->max_slots, w->nr_as, allowed_flags);
	printf("conformance2: guest_memfd rows skipped: %s\n", w->no_gmem);
}

int setup(struct world *w, const char **why, char *buf, size_t buflen)
{
	const char *type = "the default VM type";
	unsigned long vm_type = 0;
	uint32_t allowed;
	struct utsname u;
	int rc, nas, ro;

	uname(&u);
	rc = open_kvm(w, &u, why, buf, buflen);
	if (rc)
		return rc;
	rc = setup_gmem_vm(w, &type, &vm_type, why, buf, buflen);
	if (rc < 0)
		rc = setup_plain_vm(w, why, buf, buflen);
	if (rc)
		return rc;

	w->max_slots = (unsigned int)ioctl(w->kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	/* 0: the kernel has one address space and no such capability. */
	nas = ioctl(w->vm, KVM_CHECK_EXTENSION, KVM_CAP_MULTI_ADDRESS_SPACE);
	ro = ioctl(w->vm, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM);
	w->nr_as = nas > 0 ? (nas > MAX_AS ? MAX_AS : (unsigned int)nas) : 1;
	/* What check_memory_region_flags() lets this VM use. */
	allowed = LOG | (w->has_gmem ? GMEM : 0) | (ro > 0 ? RO : 0);
	if (make_objects(w, allowed))
		return 1;
	if (w->has_gmem)
		print_gmem_world(w, type, allowed);
	else
		print_plain_world(w, type, allowed);
	return 0;
}
