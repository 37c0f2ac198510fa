// SPDX-License-Identifier: MIT
/*
 * The scenario's vCPU and its command channel to the guest (see vcpu.h):
 * the exit loop, the console, MMIO as an open bus, one command at a time.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <memslots/memslots.h>

#include "guest_abi.h"
#include "kvm.h"
#include "slots.h"
#include "vcpu.h"

/* ---- the vCPU ------------------------------------------------------------------ */

/*
 * An MMIO exit: the guest touched a gpa KVM has no memslot for.  The VMM
 * asks its own copy of the table (the library) which is the same answer
 * KVM had, and emulates a device there: an empty bus.
 */
static void handle_mmio(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->k.run;
	uint64_t gpa = run->mmio.phys_addr;
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	/* A write translation: a read-only slot's gpa may exit as MMIO. */
	uint64_t hva = memslots_gpa_to_hva_write(set, &vcpu->cache, gpa, NULL);

	memslots_read_unlock(vm->ms);
	if (hva != MEMSLOTS_HVA_BAD) {
		/* KVM maps this gpa: the exit means the two tables disagree. */
		fprintf(stderr, "vmm: MMIO exit at gpa 0x%" PRIx64 " inside a valid slot\n", gpa);
		vcpu->bad_exits++;
	}
	vcpu->mmio_exits++;
	vcpu->last_mmio_gpa = gpa;
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data)); /* MMIO_OPEN_BUS */
}

static void console_out(struct vcpu *vcpu, char c)
{
	if (c != '\n' && vcpu->line_len + 1 < sizeof(vcpu->line)) {
		vcpu->line[vcpu->line_len++] = c;
		return;
	}
	vcpu->line[vcpu->line_len] = '\0';
	printf("  guest: %s\n", vcpu->line);
	memcpy(vcpu->last_line, vcpu->line, vcpu->line_len + 1);
	vcpu->line_len = 0;
}

/* Runs the vCPU until it waits for a command (an IN from PORT_CMD). */
int vcpu_run_until_cmd(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->k.run;

	vcpu->parked = false;
	for (;;) {
		int ret = kvm_vcpu_run(&vcpu->k);

		if (ret)
			return ret;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PORT_CONSOLE &&
			    run->io.size == 1) {
				console_out(vcpu, *(char *)kvm_io_data(&vcpu->k));
			} else if (run->io.direction == KVM_EXIT_IO_IN &&
				   run->io.port == PORT_CMD && run->io.size == 4) {
				vcpu->parked = true;
				return 0;
			} else if (run->io.direction == KVM_EXIT_IO_IN &&
				   run->io.port == PORT_ARG && run->io.size == 4 &&
				   vcpu->next_arg < ARRAY_SIZE(vcpu->args)) {
				memcpy(kvm_io_data(&vcpu->k), &vcpu->args[vcpu->next_arg++], 4);
			} else if (run->io.direction == KVM_EXIT_IO_OUT &&
				   run->io.port == PORT_RESULT && run->io.size == 4) {
				memcpy(&vcpu->result, kvm_io_data(&vcpu->k), 4);
				vcpu->have_result = true;
			} else {
				fprintf(stderr, "vmm: unexpected I/O %s port 0x%x size %u\n",
					run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
					run->io.port, run->io.size);
				return -EIO;
			}
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(vcpu);
			break;
		default: /* a halt (the guest's "bad command") included */
			kvm_report_exit(run);
			return -EIO;
		}
	}
}

/* Has the guest execute one command; returns 0 and its result, or -errno. */
int guest_cmd(struct vcpu *vcpu, uint32_t cmd, uint32_t a0, uint32_t a1, uint32_t *result)
{
	int ret;

	if (!vcpu->parked) {
		ret = vcpu_run_until_cmd(vcpu);
		if (ret)
			return ret;
	}
	memcpy(kvm_io_data(&vcpu->k), &cmd, 4); /* the pending IN from PORT_CMD */
	vcpu->args[0] = a0;
	vcpu->args[1] = a1;
	vcpu->next_arg = 0;
	vcpu->have_result = false;
	ret = vcpu_run_until_cmd(vcpu);
	if (ret)
		return ret;
	if (!vcpu->have_result)
		return -EPROTO;
	*result = vcpu->result;
	return 0;
}

struct guest_read guest_read32(struct vcpu *vcpu, uint64_t gpa)
{
	unsigned long mmio_before = vcpu->mmio_exits;
	struct guest_read r = {0};

	r.ret = guest_cmd(vcpu, CMD_READ32, (uint32_t)gpa, 0, &r.value);
	r.mmio = vcpu->mmio_exits != mmio_before && vcpu->last_mmio_gpa == gpa;
	return r;
}

/* ---- setup ---------------------------------------------------------------------- */

int vcpu_open(struct vcpu *vcpu, struct vm *vm)
{
	int ret = kvm_vcpu_create(&vm->kvm, 0, &vcpu->k);

	vcpu->vm = vm;
	return ret ? ret : kvm_vcpu_flat32(&vcpu->k, GUEST_LOAD_ADDR);
}
