// SPDX-License-Identifier: MIT
/*
 * vmm-linux's state, shared by the program (main.c: setup, the vCPU
 * loop, the figures) and its conversation with the guest
 * (commands.c).  One vCPU, whose thread does everything after
 * setup.
 */
#ifndef LINUX_VM_H
#define LINUX_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "guestmem.h"
#include "kvm.h"
#include "serial.h"
#include "slots.h"
#include "virtio_blk.h"

struct options {
	const char *kernel, *initrd, *disk, *disk_md5, *append;
	unsigned int slots;
	uint64_t slot_size;
	unsigned int timeout;  /* seconds for the whole run; 0: no bound */
	unsigned int watchdog; /* seconds the guest may go without an exit; 0: off */
	bool quiet;	       /* the kernel's boot messages off */
	uint32_t index;	       /* the library's index (--index), MEMSLOTS_INDEX_* */
};

enum step {
	WAIT_READY,
	MD5,
	BLKWRITE,
	DIRTY,
	HP_READ,
	HP_WRITE,
	MOVED_READ_NEW,
	MOVED_READ_OLD,
	DELETED_READ,
	QUIT,
	DONE,
};

struct linux_vm {
	struct vm vm; /* KVM and the library, kept in step by the hooks */
	struct options opt;
	struct kvm_vcpu vcpu;
	struct guestmem mem; /* the vCPU thread's view of guest memory */
	struct serial uart;
	struct virtio_blk blk;
	bool have_blk;
	void **slot_mem; /* each RAM slot's own mapping */

	/* The conversation with the guest. */
	enum step step;
	uint64_t nonce;
	uint32_t hp_value; /* what the guest writes into the hot-plugged slot */
	void *hp_mem;
	uint16_t hp_id; /* the hot-plugged slot's, picked by the library */
	unsigned int checks, failures;

	/* Figures. */
	struct guestmem loader; /* the counters of mem once the loader was done */
	double t_start, t_first_output, t_ready, t_end;
	unsigned long exits_io, exits_mmio, unknown_io;
	bool shutdown;

	/* The guest's progress, watched by the vCPU loop (main.c). */
	struct kvm_exit_log exits; /* every exit handled, the last ones kept */
	double t_progress;	   /* when the last exit was handled */
	double longest_gap;	   /* the longest stretch without one, in seconds */
};

/* Prints one check's result and counts it; vCPU thread (or main before
 * and after the run). */
void __attribute__((format(printf, 3, 4))) check(struct linux_vm *l, bool ok, const char *fmt, ...);

/* The guest-physical address of RAM slot @i (RAM skips the PCI hole). */
uint64_t slot_gpa(const struct linux_vm *l, unsigned int i);

/* The UART's line callback (vCPU thread): prints the guest's console line
 * and, when it is an answer to the VMM, takes the conversation a step on. */
void on_line(void *opaque, const char *line);

#endif /* LINUX_VM_H */
