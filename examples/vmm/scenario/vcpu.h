// SPDX-License-Identifier: MIT
/*
 * The example VMM's one vCPU, run by the calling thread, and the channel
 * through which the scenario (main.c, steps.c) has the guest (guest.S)
 * execute commands: the guest parks on an IN from PORT_CMD, takes its
 * arguments from PORT_ARG and answers on PORT_RESULT.  A gpa no slot
 * holds is an MMIO exit, answered as an open bus after checking that the
 * library agrees no valid slot is there.  Single-threaded: the thread
 * that runs the scenario runs the vCPU.
 */
#ifndef SCENARIO_VCPU_H
#define SCENARIO_VCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "kvm.h"
#include "slots.h"

/* What the guest reads from an address no device answers: an open bus. */
#define MMIO_OPEN_BUS 0xffffffffu

struct vcpu {
	struct kvm_vcpu k;
	struct vm *vm;	  /* its VM: KVM's fds and the library's table */
	bool parked;	  /* stopped at an IN from PORT_CMD */
	uint32_t args[2]; /* what the next INs from PORT_ARG return */
	unsigned int next_arg;
	bool have_result;
	uint32_t result;
	unsigned long mmio_exits; /* exits for gpas in no slot */
	uint64_t last_mmio_gpa;
	unsigned long bad_exits; /* MMIO exits inside a valid slot, etc. */
	char line[256];		 /* the guest's console line being printed */
	size_t line_len;
	char last_line[256];
	struct memslots_cache cache; /* this vCPU's lookup cache */
};

/* Creates vCPU 0 of @vm in flat 32-bit mode at the guest's load address;
 * returns 0 or -errno. */
int vcpu_open(struct vcpu *vcpu, struct vm *vm);

/* Runs the vCPU until it waits for a command (an IN from PORT_CMD):
 * 0, or -errno when KVM_RUN fails or the guest does what it should not. */
int vcpu_run_until_cmd(struct vcpu *vcpu);

/* Has the guest execute one command; returns 0 and its result, or -errno. */
int guest_cmd(struct vcpu *vcpu, uint32_t cmd, uint32_t a0, uint32_t a1, uint32_t *result);

struct guest_read {
	int ret;
	uint32_t value;
	bool mmio; /* the read caused an MMIO exit for that gpa */
};

/* The guest reads the 32-bit word at @gpa. */
struct guest_read guest_read32(struct vcpu *vcpu, uint64_t gpa);

#endif /* SCENARIO_VCPU_H */
