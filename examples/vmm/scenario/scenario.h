/* SPDX-License-Identifier: MIT */
/*
 * What the example VMM's scenario steps share: the guest-physical layout,
 * the step's checks (each prints its line and counts the step's
 * failures), and the hot-plugged memory with its page pattern.  The
 * scenario runs on the main thread; the vCPU is driven from it.
 */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm.h"
#include "slots.h"
#include "vcpu.h"

/* Guest-physical layout used by the scenario (all below 4 GiB: the guest
 * runs without paging). */
#define RAM_SLOT	  0
#define HOTPLUG_GPA	  0x400000ull
#define HOTPLUG_MOVED_GPA 0x800000ull
#define HOTPLUG_PAGES	  16
#define MANY_GPA	  0x10000000ull /* one page per slot from here on */

/* The guest's code (guest.S): an image, copied into guest RAM at boot. */
extern const unsigned char vmm_guest_code[], vmm_guest_code_end[];

/* The scenario's state, passed to every step and check. */
struct scenario {
	struct vm vm;	       /* KVM and the library, kept in step by slots.c's hooks */
	struct vcpu vcpu;      /* the one vCPU, run by the scenario's thread */
	const char *step;      /* the step running */
	unsigned int failures; /* its failed checks so far */
	void *hotplug_mem;     /* HOTPLUG_PAGES pages, backing the hot-plugged slots */
	uint16_t hotplug_slot; /* the id the library picked for the hot-plugged slot */
};

/* Opens the VM (a VM type with private memory where KVM offers one: step
 * 8 converts a range to private) and its vCPU.  Returns 0, 77 (no usable
 * KVM) or 1. */
int scenario_open(struct scenario *sc, uint32_t index);

/* Prints one check of the step; a false @ok fails the step. */
void __attribute__((format(printf, 3, 4)))
check(struct scenario *sc, bool ok, const char *fmt, ...);
/* The commit hook's bookkeeping must agree with the library. */
void check_bookkeeping(struct scenario *sc);
/* The guest reads @gpa and must see @want from RAM, not through MMIO. */
void check_guest_sees(struct scenario *sc, uint64_t gpa, uint32_t want);
/* The guest reads @gpa and must fault to the VMM as MMIO. */
void check_guest_mmio(struct scenario *sc, uint64_t gpa);

uint32_t pattern(unsigned int page);
/* Writes pattern(p) at the start of page p of the slot at @gpa, found
 * through the library as the VMM's device models would. */
bool fill_pattern(struct vm *vm, uint64_t gpa, unsigned int pages);

/* The steps, in the order main() runs them (steps.c, attributes.c). */
void step_boot(struct scenario *sc);
void step_hotplug(struct scenario *sc);
void step_move(struct scenario *sc);
void step_dirty_log(struct scenario *sc);
void step_delete(struct scenario *sc);
void step_many(struct scenario *sc);
void step_rollback(struct scenario *sc);
void step_attributes(struct scenario *sc);

#endif /* SCENARIO_H */
