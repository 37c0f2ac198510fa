// SPDX-License-Identifier: MIT
/*
 * vmm-linux's state, shared by the program (main.c: setup, the vCPU
 * loop, the figures) and its conversation with the guest
 * (commands.c).  One vCPU, whose thread does everything after
 * setup but the pre-copy's copying (precopy.c, a thread of its own).
 */
#ifndef LINUX_VM_H
#define LINUX_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "guestmem.h"
#include "kvm.h"
#include "precopy.h"
#include "serial.h"
#include "slots.h"
#include "virtio_blk.h"

struct options {
	const char *kernel, *initrd, *disk, *disk_md5, *append;
	unsigned int slots;
	uint64_t slot_size;
	unsigned int timeout;		  /* seconds for the whole run; 0: no bound */
	unsigned int watchdog;		  /* seconds the guest may go without an exit; 0: off */
	bool quiet;			  /* the kernel's boot messages off */
	uint32_t index;			  /* the library's index (--index), MEMSLOTS_INDEX_* */
	unsigned int precopy;		  /* live pre-copy rounds (--precopy); 0: no pre-copy */
	enum precopy_source precopy_skip; /* debug: the pass leaves it out */
	unsigned int precopy_controls;	  /* control passes: 1 << PRECOPY_KVM, _MARKS */
	int kvm_dirty_log; /* 'g': KVM_GET_DIRTY_LOG only; 'c': with manual clear; 0: auto */
};

enum step {
	WAIT_READY,
	MD5,
	BLKWRITE,
	DIRTY,
	PRECOPY_WORK, /* the guest starts its workload; the pre-copy passes run */
	PRECOPY_STOP, /* the guest stops it */
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
	pthread_t vcpu_thread; /* the one that runs it, which the pre-copy parks */
	struct guestmem mem;   /* the vCPU thread's view of guest memory */
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
	struct precopy pc;	    /* --precopy: the migration and its shadow */
	unsigned int controls_done; /* the control passes started, as precopy_controls */

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

/* One memslots_apply() that sets @flags on every RAM slot (a FLAGS_ONLY
 * change each); its duration into *@secs.  vCPU thread. */
int ram_flags_batch(struct linux_vm *l, uint32_t flags, double *secs);

/* A pre-copy pass is over (vCPU thread, figures checked): the control
 * pass, or the guest told to stop its workload. */
void on_precopy_done(struct linux_vm *l);

/* The UART's line callback (vCPU thread): prints the guest's console line
 * and, when it is an answer to the VMM, takes the conversation a step on. */
void on_line(void *opaque, const char *line);

#endif /* LINUX_VM_H */
