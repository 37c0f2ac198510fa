/* SPDX-License-Identifier: MIT */
/*
 * The example VMM's KVM plumbing: opening /dev/kvm, the VM and its
 * vCPUs, the ioctls the memslot hooks issue, and the run loop's helpers.
 * Nothing here knows about libmemslots; vmm.c (the memslot part) and
 * linux.c (the Linux guest) build on it.
 *
 * Locking: none.  A struct kvm_vm is used by one writer thread at a time
 * (the library serializes its hooks); a struct kvm_vcpu by its own thread.
 */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT    12
#define PAGE_SIZE     (1ull << PAGE_SHIFT)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One VM and what KVM told us about it. */
struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	unsigned int nr_memslots; /* KVM_CAP_NR_MEMSLOTS, at most 65536 */
	unsigned int phys_bits;	  /* the guest's MAXPHYADDR */
	int run_size;		  /* KVM_GET_VCPU_MMAP_SIZE */

	/* KVM_SET_USER_MEMORY_REGION, as issued by kvm_set_region(). */
	unsigned long region_ioctls;
	unsigned long region_refusals;
	double region_secs;
	int last_errno;
};

struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
};

/* Seconds on the monotonic clock. */
double now(void);

/* Anonymous private memory, not reserved against swap, or NULL. */
void *map_anon(size_t size);

/*
 * Opens /dev/kvm, checks the capabilities the example needs and creates
 * a VM.  Returns 0, or 77 when there is no usable KVM (the reason is
 * printed).
 */
int kvm_vm_open(struct kvm_vm *vm);
void kvm_vm_close(struct kvm_vm *vm);

/* KVM_CHECK_EXTENSION on the VM: > 0 when @cap is there. */
int kvm_vm_check(struct kvm_vm *vm, long cap);

/*
 * KVM_SET_USER_MEMORY_REGION: makes KVM's slot @id cover @npages pages
 * from @gfn at host address @hva; @npages 0 deletes it.  Library-only
 * flag bits are dropped.  Returns 0 or -errno; counted in @vm.
 */
int kvm_set_region(struct kvm_vm *vm, uint16_t id, uint32_t flags, uint64_t gfn, uint64_t npages,
		   uint64_t hva);

/* KVM_GET_DIRTY_LOG of slot @id into @bitmap; returns 0 or -errno. */
int kvm_get_dirty_log(struct kvm_vm *vm, uint16_t id, uint64_t *bitmap);

/* KVM_GET_SUPPORTED_CPUID, grown until it fits; NULL on failure.  free() it. */
struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd);

/* Creates vCPU @id and maps its kvm_run; returns 0 or -errno. */
int kvm_vcpu_create(struct kvm_vm *vm, unsigned int id, struct kvm_vcpu *vcpu);

/* 32-bit protected mode, flat segments, no paging, entered at @rip. */
int kvm_vcpu_flat32(struct kvm_vcpu *vcpu, uint64_t rip);

/* KVM_RUN, retried on EINTR/EAGAIN; returns 0 or -errno. */
int kvm_vcpu_run(struct kvm_vcpu *vcpu);

/* The data of an I/O exit, inside the kvm_run page. */
static inline void *kvm_io_data(struct kvm_vcpu *vcpu)
{
	return (char *)vcpu->run + vcpu->run->io.data_offset;
}

/* Prints an exit no handler expected (entry failure, internal error, ...). */
void kvm_report_exit(const struct kvm_run *run);

#endif /* VMM_KVM_H */
