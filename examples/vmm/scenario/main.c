// SPDX-License-Identifier: MIT
/*
 * vmm: a small virtual machine monitor on /dev/kvm whose guest memory map
 * lives in libmemslots.
 *
 * The memslot part, the library's hooks that keep KVM's table and the
 * library's in step, is ../common/slots.c; the KVM plumbing is
 * ../common/kvm.c; the vCPU and its command channel to the guest are
 * vcpu.c.  The vCPU loop resolves guest-physical addresses with the
 * library (memslots_gpa_to_hva_write()); an address no slot holds is MMIO.
 *
 * The scenario (its steps in steps.c and attributes.c, their checks and
 * its state, struct scenario, in checks.c and scenario.h) runs a small
 * protected-mode guest (guest.S) that executes the VMM's commands (read
 * or write a word at a gpa) and checks every step against both KVM and
 * the library; see docs/vmm.md.
 *
 * Exit status: 0 every step passed, 1 a step failed, 77 no usable KVM.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memslots/memslots.h>

#include "guest_abi.h"
#include "kvm.h"
#include "scenario.h"
#include "slots.h"

struct step {
	const char *name;
	void (*run)(struct scenario *sc);
	bool passed;
};

int main(int argc, char **argv)
{
	struct step steps[] = {
		{"boot", step_boot, false},	    {"hotplug", step_hotplug, false},
		{"move", step_move, false},	    {"dirty-log", step_dirty_log, false},
		{"delete", step_delete, false},	    {"many-slots", step_many, false},
		{"rollback", step_rollback, false}, {"attributes", step_attributes, false},
	};
	unsigned int passed = 0;
	struct scenario *sc = calloc(1, sizeof(*sc));
	struct vm *vm = sc ? &sc->vm : NULL;
	double t0 = now();
	uint32_t index = MEMSLOTS_INDEX_DEFAULT;
	int ret;

	if (argc > 1 &&
	    (argc != 3 || strcmp(argv[1], "--index") || vm_parse_index(argv[2], &index))) {
		printf("usage: vmm [--index kvm|btree]\n(runs the example scenario on /dev/kvm "
		       "with the library's gfn index of that name, the default's otherwise; "
		       "exit 0 pass, 1 fail, 77 no KVM)\n");
		free(sc);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!sc)
		return 1;
	ret = scenario_open(sc, index);
	if (ret)
		return ret;

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		double ts = now();

		sc->step = steps[i].name;
		sc->failures = 0;
		printf("vmm: step %zu/%zu: %s\n", i + 1, ARRAY_SIZE(steps), sc->step);
		steps[i].run(sc);
		steps[i].passed = sc->failures == 0 && sc->vcpu.bad_exits == 0;
		passed += steps[i].passed;
		printf("vmm: step %s: %s (%.2f s)\n", sc->step, steps[i].passed ? "PASS" : "FAIL",
		       now() - ts);
		if (!steps[i].passed && i == 0)
			break; /* without a booted guest the rest means nothing */
	}

	vm_close(vm);

	printf("vmm: summary\n");
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		printf("%s %s\n", steps[i].passed ? "PASS" : "FAIL", steps[i].name);
	printf("vmm: %u/%zu steps passed, %lu %s ioctls (%lu refused), %lu "
	       "KVM_SET_MEMORY_ATTRIBUTES (%lu refused), %.2f s\n",
	       passed, ARRAY_SIZE(steps), vm->kvm.region_ioctls, kvm_region_ioctl_name(&vm->kvm),
	       vm->kvm.region_refusals, vm->kvm.attr_ioctls, vm->kvm.attr_refusals, now() - t0);
	free(sc);
	return passed == ARRAY_SIZE(steps) ? 0 : 1;
}
