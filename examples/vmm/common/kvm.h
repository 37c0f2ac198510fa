/* SPDX-License-Identifier: MIT */
/*
 * The example VMM's KVM plumbing: opening /dev/kvm, the VM and its
 * vCPUs, the ioctls the memslot hooks issue, and the run loop's helpers.
 * Nothing here knows about libmemslots; slots.c (the memslot part) and
 * the two programs (../scenario/, ../linux/) build on it.
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

#include "kvm_uapi.h"

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
	unsigned long type;	  /* KVM_CREATE_VM's argument: KVM_X86_*_VM */
	/*
	 * KVM_CAP_USER_MEMORY2: slots are set with KVM_SET_USER_MEMORY_REGION2
	 * (which carries a guest_memfd range), else with the v1 ioctl.
	 */
	bool region2;
	/* KVM_CAP_MEMORY_ATTRIBUTES of this VM: the attribute bits
	 * KVM_SET_MEMORY_ATTRIBUTES accepts (0: no such ioctl for it). */
	uint64_t mem_attributes;
	/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled (kvm_enable_manual_dirty_log()). */
	bool manual_dirty_log;

	/* The slot ioctls, as issued by kvm_set_region2() and kvm_set_region(). */
	unsigned long region_ioctls;
	unsigned long region_refusals;
	double region_secs;
	int last_errno;
	/* KVM_SET_MEMORY_ATTRIBUTES, as issued by kvm_set_memory_attributes(). */
	unsigned long attr_ioctls;
	unsigned long attr_refusals;
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
 * a VM: of type KVM_X86_SW_PROTECTED_VM when @private_mem and the kernel
 * offers it (private memory, KVM_SET_MEMORY_ATTRIBUTES), else the default
 * type.  Records which slot ioctl the kernel has (region2) and the VM's
 * memory attributes.  Returns 0, or 77 when there is no usable KVM (the
 * reason is printed).
 */
int kvm_vm_open(struct kvm_vm *vm, bool private_mem);
void kvm_vm_close(struct kvm_vm *vm);

/* KVM_CHECK_EXTENSION on the VM: > 0 when @cap is there. */
int kvm_vm_check(struct kvm_vm *vm, long cap);

/*
 * The slot ioctls, each given the kernel's own request as it goes to the
 * kernel (the library's struct memslots_region(2) has the same layout):
 * KVM_SET_USER_MEMORY_REGION2 (only where @vm->region2) and
 * KVM_SET_USER_MEMORY_REGION.  Return 0 or -errno; counted in @vm.
 */
int kvm_set_region2(struct kvm_vm *vm, const struct kvm_userspace_memory_region2 *r);
int kvm_set_region(struct kvm_vm *vm, const struct kvm_userspace_memory_region *r);

/* The name of the slot ioctl the VMM issues on @vm: v2 where the kernel has it. */
const char *kvm_region_ioctl_name(const struct kvm_vm *vm);

/* KVM_SET_MEMORY_ATTRIBUTES; returns 0 or -errno; counted in @vm. */
int kvm_set_memory_attributes(struct kvm_vm *vm, const struct kvm_memory_attributes *a);

/*
 * KVM_GET_DIRTY_LOG of slot @id into @bitmap; returns 0 or -errno.  It
 * also clears KVM's log and write-protects the pages it returns, unless
 * manual protection is on (@vm->manual_dirty_log), when that takes
 * kvm_clear_dirty_log().
 */
int kvm_get_dirty_log(struct kvm_vm *vm, uint16_t id, uint64_t *bitmap);

/*
 * KVM_ENABLE_CAP of KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with
 * MANUAL_PROTECT_ENABLE, before any slot logs: KVM_GET_DIRTY_LOG then
 * only reads the log, and the VMM clears (and re-protects) what it took
 * with kvm_clear_dirty_log().  Returns 0 (and sets manual_dirty_log),
 * -EOPNOTSUPP when the kernel lacks it, or -errno.
 */
int kvm_enable_manual_dirty_log(struct kvm_vm *vm);

/*
 * KVM_CLEAR_DIRTY_LOG: clears in KVM's log of slot @id the bits of
 * @bitmap (bit i: page @first + i; @first a multiple of 64, @npages too
 * unless the range ends the slot) and write-protects those pages again,
 * so that the guest's next write to one is logged.  Returns 0 or -errno.
 */
int kvm_clear_dirty_log(struct kvm_vm *vm, uint16_t id, uint64_t first, uint32_t npages,
			uint64_t *bitmap);

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

/*
 * What a vCPU was doing, for a run that went wrong: its registers
 * (KVM_GET_REGS, KVM_GET_SREGS) on stdout, each line led by @prefix.
 * Returns 0, or -errno when KVM would not say.
 */
int kvm_vcpu_print_state(struct kvm_vcpu *vcpu, const char *prefix);

/*
 * The last exits of a vCPU, kept so that a guest which stops making
 * progress can be shown with what it did last.  A ring: the newest
 * KVM_EXIT_LOG_SIZE exits only.
 */
#define KVM_EXIT_LOG_SIZE 16

struct kvm_exit_record {
	double t;	 /* now() once it was handled */
	uint32_t reason; /* KVM_EXIT_* */
	bool write;	 /* I/O out, MMIO write */
	uint8_t size;	 /* I/O: the access size; MMIO: its length */
	uint16_t port;
	uint32_t count; /* I/O: how many accesses (string I/O) */
	uint64_t gpa;
	uint64_t data; /* the first access's bytes, as handled (an in/read: the answer) */
};

struct kvm_exit_log {
	struct kvm_exit_record ring[KVM_EXIT_LOG_SIZE];
	unsigned long count; /* exits recorded so far */
};

/* Records the exit in @vcpu's kvm_run, handled at @t (call after the handler). */
void kvm_exit_log_add(struct kvm_exit_log *log, struct kvm_vcpu *vcpu, double t);

/* Prints the exits @log holds, oldest first, times relative to @t0. */
void kvm_exit_log_print(const struct kvm_exit_log *log, double t0, const char *prefix);

#endif /* VMM_KVM_H */
