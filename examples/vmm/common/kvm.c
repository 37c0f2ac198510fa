// SPDX-License-Identifier: MIT
/*
 * The example VMM's KVM plumbing (see kvm.h): /dev/kvm, the VM, vCPUs
 * and the few ioctls the rest of the example needs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void *map_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd)
{
	unsigned int nent = 64;
	struct kvm_cpuid2 *cpuid;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return NULL;
		cpuid->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			return cpuid;
		free(cpuid);
		/* E2BIG: the table has more entries than we offered room for. */
		if (errno != E2BIG || nent > 4096)
			return NULL;
		nent *= 2;
	}
}

/* The guest's MAXPHYADDR, from the CPUID KVM supports (leaf 0x80000008). */
static unsigned int guest_phys_bits(int kvm_fd)
{
	struct kvm_cpuid2 *cpuid = kvm_supported_cpuid(kvm_fd);
	unsigned int bits = 36; /* the architectural default without the leaf */

	if (!cpuid)
		return bits;
	for (unsigned int i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 0x80000008)
			bits = cpuid->entries[i].eax & 0xff;
	free(cpuid);
	return bits;
}

/*
 * The VM type to create: KVM_X86_SW_PROTECTED_VM, KVM's software-only
 * private memory (no encryption), when wanted and listed in
 * KVM_CAP_VM_TYPES (a bit mask of the types, since 6.8), because only a VM
 * type with private memory accepts the private attribute; else the
 * default type, which every kernel has.
 */
static unsigned long vm_type(int kvm_fd, bool private_mem)
{
	int types = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);

	if (private_mem && types > 0 && (types & (1 << KVM_X86_SW_PROTECTED_VM)))
		return KVM_X86_SW_PROTECTED_VM;
	return KVM_X86_DEFAULT_VM;
}

/*
 * What the new VM offers beyond KVM 6.1, asked once of the VM (the answers
 * depend on its type).  KVM_CHECK_EXTENSION answers 0 (or -EINVAL) for
 * what a kernel does not know, so an older kernel gets the v1 paths.
 */
static void vm_probe_features(struct kvm_vm *vm)
{
	int attrs;

	vm->region2 = kvm_vm_check(vm, KVM_CAP_USER_MEMORY2) > 0;
	attrs = kvm_vm_check(vm, KVM_CAP_MEMORY_ATTRIBUTES);
	vm->mem_attributes = attrs > 0 ? (uint64_t)attrs : 0;
}

int kvm_vm_open(struct kvm_vm *vm, bool private_mem)
{
	int nr;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		printf("vmm: cannot open /dev/kvm: %s: no usable KVM here\n", strerror(errno));
		return 77;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		printf("vmm: unexpected KVM API version\n");
		return 77;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0) {
		printf("vmm: KVM lacks KVM_CAP_USER_MEMORY\n");
		return 77;
	}
	nr = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (nr <= 0) {
		printf("vmm: KVM lacks KVM_CAP_NR_MEMSLOTS\n");
		return 77;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0) {
		printf("vmm: KVM_GET_VCPU_MMAP_SIZE: %s\n", strerror(errno));
		return 77;
	}
	vm->type = vm_type(vm->kvm_fd, private_mem);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, vm->type);
	if (vm->vm_fd < 0) {
		printf("vmm: KVM_CREATE_VM: %s: no usable KVM here\n", strerror(errno));
		return 77;
	}
	/* Slot ids are 0 .. nr - 1 for KVM; the library enforces the same. */
	vm->nr_memslots = nr > 65536 ? 65536 : (unsigned int)nr;
	vm->phys_bits = guest_phys_bits(vm->kvm_fd);
	vm_probe_features(vm);
	return 0;
}

void kvm_vm_close(struct kvm_vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}

int kvm_vm_check(struct kvm_vm *vm, long cap)
{
	return ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, cap);
}

/* Counts one slot ioctl that took @secs and returned @ret. */
static int count_region_ioctl(struct kvm_vm *vm, int ret, double secs)
{
	vm->region_secs += secs;
	vm->region_ioctls++;
	if (ret) {
		vm->region_refusals++;
		vm->last_errno = -ret;
	}
	return ret;
}

int kvm_set_region2(struct kvm_vm *vm, const struct kvm_userspace_memory_region2 *r)
{
	double t0 = now();
	int ret = ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION2, r) < 0 ? -errno : 0;

	return count_region_ioctl(vm, ret, now() - t0);
}

int kvm_set_region(struct kvm_vm *vm, const struct kvm_userspace_memory_region *r)
{
	double t0 = now();
	int ret = ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, r) < 0 ? -errno : 0;

	return count_region_ioctl(vm, ret, now() - t0);
}

const char *kvm_region_ioctl_name(const struct kvm_vm *vm)
{
	return vm->region2 ? "KVM_SET_USER_MEMORY_REGION2" : "KVM_SET_USER_MEMORY_REGION";
}

int kvm_set_memory_attributes(struct kvm_vm *vm, const struct kvm_memory_attributes *a)
{
	int ret = ioctl(vm->vm_fd, KVM_SET_MEMORY_ATTRIBUTES, a) < 0 ? -errno : 0;

	vm->attr_ioctls++;
	vm->attr_refusals += ret != 0;
	return ret;
}

int kvm_get_dirty_log(struct kvm_vm *vm, uint16_t id, uint64_t *bitmap)
{
	struct kvm_dirty_log log = {.slot = id, .dirty_bitmap = bitmap};

	return ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0 ? -errno : 0;
}

int kvm_enable_manual_dirty_log(struct kvm_vm *vm)
{
	/* The flags the kernel accepts: MANUAL_PROTECT_ENABLE, and
	 * INITIALLY_SET (not wanted: the library's bitmaps start all set). */
	int caps = kvm_vm_check(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args = {KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE},
	};

	if (caps <= 0 || !(caps & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE))
		return -EOPNOTSUPP;
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return -errno;
	vm->manual_dirty_log = true;
	return 0;
}

int kvm_clear_dirty_log(struct kvm_vm *vm, uint16_t id, uint64_t first, uint32_t npages,
			uint64_t *bitmap)
{
	struct kvm_clear_dirty_log log = {
		.slot = id,
		.num_pages = npages,
		.first_page = first,
		.dirty_bitmap = bitmap,
	};

	return ioctl(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &log) < 0 ? -errno : 0;
}

int kvm_vcpu_create(struct kvm_vm *vm, unsigned int id, struct kvm_vcpu *vcpu)
{
	void *run;

	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0)
		return -errno;
	run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED) {
		int err = -errno;

		close(vcpu->fd);
		return err;
	}
	vcpu->run = run;
	return 0;
}

int kvm_vcpu_flat32(struct kvm_vcpu *vcpu, uint64_t rip)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_segment seg;

	/*
	 * Flat 4 GiB segments, set straight into the segment registers'
	 * hidden parts: KVM loads them as they are, so no GDT is needed as
	 * long as the guest never reloads a segment.
	 */
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = 1 << 3,
		.type = 11, /* code: execute/read, accessed */
		.present = 1,
		.dpl = 0,
		.db = 1, /* 32-bit */
		.s = 1,	 /* code/data */
		.l = 0,
		.g = 1, /* 4 KiB granularity */
	};
	sregs.cs = seg;
	seg.type = 3; /* data: read/write, accessed */
	seg.selector = 2 << 3;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	sregs.cr0 |= 1; /* PE */
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rflags = 2; /* bit 1 is reserved, always 1 */
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int kvm_vcpu_run(struct kvm_vcpu *vcpu)
{
	while (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN)
			continue;
		fprintf(stderr, "vmm: KVM_RUN: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

void kvm_report_exit(const struct kvm_run *run)
{
	switch (run->exit_reason) {
	case KVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, "vmm: KVM_EXIT_FAIL_ENTRY, reason 0x%llx\n",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		fprintf(stderr, "vmm: KVM_EXIT_INTERNAL_ERROR, suberror %u\n",
			run->internal.suberror);
		break;
	case KVM_EXIT_SHUTDOWN:
		fprintf(stderr, "vmm: KVM_EXIT_SHUTDOWN (triple fault)\n");
		break;
	case KVM_EXIT_HLT:
		fprintf(stderr, "vmm: the guest halted\n");
		break;
	default:
		fprintf(stderr, "vmm: unexpected exit reason %u\n", run->exit_reason);
	}
}

/* What the segment registers say the vCPU runs: the mode and its width. */
static const char *cpu_mode(const struct kvm_sregs *sregs)
{
	if (!(sregs->cr0 & 1)) /* PE */
		return "real mode";
	if (sregs->efer & (1 << 10)) /* LMA */
		return sregs->cs.l ? "64-bit long mode" : "compatibility mode";
	return sregs->cs.db ? "32-bit protected mode" : "16-bit protected mode";
}

int kvm_vcpu_print_state(struct kvm_vcpu *vcpu, const char *prefix)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0) {
		int err = errno;

		printf("%scannot read the vCPU's registers: %s\n", prefix, strerror(err));
		return -err;
	}
	printf("%sRIP 0x%016llx RSP 0x%016llx RFLAGS 0x%llx\n", prefix, regs.rip, regs.rsp,
	       regs.rflags);
	printf("%sRAX 0x%llx RBX 0x%llx RCX 0x%llx RDX 0x%llx\n", prefix, regs.rax, regs.rbx,
	       regs.rcx, regs.rdx);
	printf("%sRSI 0x%llx RDI 0x%llx RBP 0x%llx\n", prefix, regs.rsi, regs.rdi, regs.rbp);
	printf("%sCR0 0x%llx CR2 0x%llx CR3 0x%llx CR4 0x%llx EFER 0x%llx\n", prefix, sregs.cr0,
	       sregs.cr2, sregs.cr3, sregs.cr4, sregs.efer);
	printf("%sCS 0x%04x base 0x%llx, SS 0x%04x base 0x%llx: %s, CPL %u\n", prefix,
	       sregs.cs.selector, sregs.cs.base, sregs.ss.selector, sregs.ss.base, cpu_mode(&sregs),
	       sregs.ss.dpl);
	return 0;
}

void kvm_exit_log_add(struct kvm_exit_log *log, struct kvm_vcpu *vcpu, double t)
{
	const struct kvm_run *run = vcpu->run;
	struct kvm_exit_record *e = &log->ring[log->count++ % KVM_EXIT_LOG_SIZE];

	*e = (struct kvm_exit_record){.t = t, .reason = run->exit_reason};
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		e->write = run->io.direction == KVM_EXIT_IO_OUT;
		e->size = run->io.size;
		e->port = run->io.port;
		e->count = run->io.count;
		memcpy(&e->data, kvm_io_data(vcpu), e->size < 8 ? e->size : 8);
		break;
	case KVM_EXIT_MMIO:
		e->write = run->mmio.is_write;
		e->size = (uint8_t)run->mmio.len;
		e->gpa = run->mmio.phys_addr;
		memcpy(&e->data, run->mmio.data, e->size < 8 ? e->size : 8);
		break;
	}
}

/* The log's name for an exit: the reasons a VMM of this example meets. */
static const char *exit_reason_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO:
		return "I/O";
	case KVM_EXIT_MMIO:
		return "MMIO";
	case KVM_EXIT_HLT:
		return "HLT";
	case KVM_EXIT_SHUTDOWN:
		return "SHUTDOWN";
	case KVM_EXIT_SYSTEM_EVENT:
		return "SYSTEM_EVENT";
	case KVM_EXIT_FAIL_ENTRY:
		return "FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR:
		return "INTERNAL_ERROR";
	default:
		return "exit";
	}
}

/* One exit of the log, exit number @nr (the first exit is 1). */
static void print_exit_record(const struct kvm_exit_record *e, unsigned long nr, double t0,
			      const char *prefix)
{
	printf("%s#%-7lu %9.3f s  %-4s ", prefix, nr, e->t - t0, exit_reason_name(e->reason));
	switch (e->reason) {
	case KVM_EXIT_IO:
		printf("%-5s port 0x%04x size %u count %u data 0x%" PRIx64 "\n",
		       e->write ? "out" : "in", e->port, e->size, e->count, e->data);
		break;
	case KVM_EXIT_MMIO:
		printf("%-5s gpa 0x%" PRIx64 " len %u data 0x%" PRIx64 "\n",
		       e->write ? "write" : "read", e->gpa, e->size, e->data);
		break;
	default:
		printf("(reason %u)\n", e->reason);
	}
}

void kvm_exit_log_print(const struct kvm_exit_log *log, double t0, const char *prefix)
{
	unsigned long first = log->count > KVM_EXIT_LOG_SIZE ? log->count - KVM_EXIT_LOG_SIZE : 0;

	if (!log->count) {
		printf("%sno exits yet\n", prefix);
		return;
	}
	printf("%sthe last %lu of %lu exits, oldest first (seconds into the run):\n", prefix,
	       log->count - first, log->count);
	for (unsigned long n = first; n < log->count; n++)
		print_exit_record(&log->ring[n % KVM_EXIT_LOG_SIZE], n + 1, t0, prefix);
}
