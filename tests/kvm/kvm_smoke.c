// SPDX-License-Identifier: MIT
/*
 * The smallest proof that a usable KVM is there: one VM, one vCPU, 4 KiB of
 * guest memory holding a few real-mode instructions that write "ok\n" to an
 * I/O port and halt.  Exit code 0 when the guest did exactly that, 1 when it
 * did something else, 77 when there is no usable /dev/kvm.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_PORT 0x10

/* Loaded at gpa 0x1000 and run with cs = 0, ip = 0x1000. */
static const unsigned char guest_code[] = {
	0xb0, 'o',	  /* mov al, 'o' */
	0xe6, GUEST_PORT, /* out GUEST_PORT, al */
	0xb0, 'k',	  /* mov al, 'k' */
	0xe6, GUEST_PORT, /* out GUEST_PORT, al */
	0xb0, '\n',	  /* mov al, '\n' */
	0xe6, GUEST_PORT, /* out GUEST_PORT, al */
	0xf4,		  /* hlt */
};

int main(void)
{
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	char out[16];
	size_t nout = 0;
	void *mem;
	int kvm, vm, vcpu, mmap_size;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "kvm_smoke: /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		fprintf(stderr, "kvm_smoke: KVM_CREATE_VM: %s\n", strerror(errno));
		return 77;
	}
	printf("kvm_smoke: API %d, KVM_CAP_NR_MEMSLOTS %d\n", ioctl(kvm, KVM_GET_API_VERSION, 0),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS));

	mem = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	memcpy((char *)mem + 0x1000, guest_code, sizeof(guest_code));
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = 0x2000,
		.userspace_addr = (unsigned long)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		perror("kvm_smoke: KVM_SET_USER_MEMORY_REGION");
		return 1;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || mmap_size <= 0) {
		perror("kvm_smoke: KVM_CREATE_VCPU");
		return 1;
	}
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return 1;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2; /* bit 1 is reserved and must be set */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return 1;

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			perror("kvm_smoke: KVM_RUN");
			return 1;
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != GUEST_PORT ||
		    run->io.direction != KVM_EXIT_IO_OUT || nout + 1 >= sizeof(out)) {
			fprintf(stderr, "kvm_smoke: unexpected exit %u\n", run->exit_reason);
			return 1;
		}
		out[nout++] = *((char *)run + run->io.data_offset);
	}
	out[nout] = '\0';
	printf("kvm_smoke: guest said: %s", out);
	if (strcmp(out, "ok\n") != 0) {
		printf("kvm_smoke: FAIL\n");
		return 1;
	}
	printf("kvm_smoke: PASS\n");
	return 0;
}
