/* SPDX-License-Identifier: MIT */
/*
 * Booting a Linux bzImage through the x86 boot protocol
 * (Documentation/arch/x86/boot.rst): the 64-bit entry point, with the
 * zero page (struct boot_params), the command line, the initramfs, an
 * e820 map made from the memslots, and a few ACPI tables that announce
 * the virtio-mmio device.  Every byte goes into guest memory through
 * guestmem_write(), that is through the library.
 *
 * Locking: called from the thread that will run the vCPU, before it
 * runs; that thread is a registered reader.
 */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stdint.h>

#include "guestmem.h"
#include "kvm.h"

/* Guest-physical addresses the loader uses, all in the first megabyte
 * except the kernel itself. */
#define BOOT_GDT	 0x500ull
#define BOOT_PARAMS	 0x7000ull
#define BOOT_PAGE_TABLES 0x9000ull /* PML4, PDPT, 4 page directories */
#define BOOT_CMDLINE	 0x20000ull
#define BOOT_LOW_RAM_END 0x9fc00ull /* then the legacy hole (reserved) */
#define BOOT_ACPI	 0xe0000ull
#define BOOT_KERNEL	 0x100000ull /* the protected-mode kernel */

struct boot_info {
	/* in */
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;
	uint64_t virtio_gpa;	 /* a virtio-mmio device there (0: none) */
	unsigned int virtio_irq; /* ... and its GSI */
	/* out */
	uint16_t protocol;    /* boot protocol version of the kernel */
	uint64_t kernel_size; /* bytes of the protected-mode kernel */
	uint64_t initrd_gpa;
	uint64_t initrd_size;
	unsigned int e820_entries;
};

/*
 * Loads the kernel, the initramfs and the boot data into the guest memory
 * @g reaches, with the e820 map made from the slots of g->ms.  Returns 0 or
 * -errno (a message is printed).
 */
int boot_load_linux(struct guestmem *g, struct boot_info *b);

/* Sets @vcpu up for the 64-bit entry: long mode, identity-mapped page
 * tables, the boot GDT's segments, %rsi = the zero page. */
int boot_setup_vcpu(struct kvm_vcpu *vcpu, struct kvm_cpuid2 *cpuid);

#endif /* VMM_BOOT_H */
