/* SPDX-License-Identifier: MIT */
/*
 * What the example VMM's scenario steps share: the guest-physical layout,
 * the step's checks (each prints its line and counts the step's
 * failures), and the hot-plugged memory with its page pattern.  The
 * scenario runs on the main thread; the vCPU is driven from it.
 */
#ifndef VMM_SCENARIO_H
#define VMM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm.h"

/* Guest-physical layout used by the scenario (all below 4 GiB: the guest
 * runs without paging). */
#define RAM_SLOT	  0
#define HOTPLUG_GPA	  0x400000ull
#define HOTPLUG_MOVED_GPA 0x800000ull
#define HOTPLUG_PAGES	  16
#define MANY_GPA	  0x10000000ull /* one page per slot from here on */

extern const unsigned char vmm_guest_code[], vmm_guest_code_end[];

/* The step running, and its failed checks so far. */
extern const char *cur_step;
extern unsigned int step_failures;

/* Prints one check of the step; a false @ok fails the step. */
void __attribute__((format(printf, 2, 3))) check(bool ok, const char *fmt, ...);
/* The commit hook's bookkeeping must agree with the library. */
void check_bookkeeping(struct vm *vm);
/* The guest reads @gpa and must see @want from RAM, not through MMIO. */
void check_guest_sees(struct vm *vm, uint64_t gpa, uint32_t want);
/* The guest reads @gpa and must fault to the VMM as MMIO. */
void check_guest_mmio(struct vm *vm, uint64_t gpa);

extern void *hotplug_mem;     /* HOTPLUG_PAGES pages, backing the hot-plugged slots */
extern uint16_t hotplug_slot; /* the id the library picked for the hot-plugged slot */
uint32_t pattern(unsigned int page);
/* Writes pattern(p) at the start of page p of the slot at @gpa, found
 * through the library as the VMM's device models would. */
bool fill_pattern(struct vm *vm, uint64_t gpa, unsigned int pages);

/* The steps, in the order main() runs them (vmm_steps.c, vmm_attributes.c). */
void step_boot(struct vm *vm);
void step_hotplug(struct vm *vm);
void step_move(struct vm *vm);
void step_dirty_log(struct vm *vm);
void step_delete(struct vm *vm);
void step_many(struct vm *vm);
void step_rollback(struct vm *vm);
void step_attributes(struct vm *vm);

#endif /* VMM_SCENARIO_H */
