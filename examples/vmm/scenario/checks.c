// SPDX-License-Identifier: MIT
/* The scenario's checks, its page pattern and opening its VM (scenario.h). */
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
#include "slots.h"
#include "scenario.h"

/* ---- step results ---------------------------------------------------------- */

void check(struct scenario *sc, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("  %s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		sc->failures++;
}

/* The commit hook's bookkeeping must agree with the library. */
void check_bookkeeping(struct scenario *sc)
{
	struct vm *vm = &sc->vm;
	struct lib_state st = lib_state(vm);

	check(sc, st.count == vm->nr_slots && st.nr_pages == vm->nr_pages && !vm->abort_failures,
	      "bookkeeping: library has %zu slots / %" PRIu64 " pages, commit hook counted "
	      "%zu / %" PRIu64 ", %lu failed undos",
	      st.count, st.nr_pages, vm->nr_slots, vm->nr_pages, vm->abort_failures);
}

/* The guest reads @gpa and must see @want from RAM, not through MMIO. */
void check_guest_sees(struct scenario *sc, uint64_t gpa, uint32_t want)
{
	struct guest_read r = guest_read32(&sc->vcpu, gpa);

	check(sc, !r.ret && !r.mmio && r.value == want,
	      "guest reads gpa 0x%08" PRIx64 ": 0x%08x%s (want 0x%08x from RAM)", gpa, r.value,
	      r.ret    ? " [vCPU error]"
	      : r.mmio ? " via MMIO"
		       : "",
	      want);
}

/* The guest reads @gpa and must fault to the VMM as MMIO. */
void check_guest_mmio(struct scenario *sc, uint64_t gpa)
{
	struct guest_read r = guest_read32(&sc->vcpu, gpa);
	bool in_slot = gpa_in_slot(&sc->vm, gpa);

	check(sc, !r.ret && r.mmio && r.value == MMIO_OPEN_BUS && !in_slot,
	      "guest reads gpa 0x%08" PRIx64 ": %s, value 0x%08x, library: %s", gpa,
	      r.ret    ? "vCPU error"
	      : r.mmio ? "MMIO exit"
		       : "no MMIO exit",
	      r.value, in_slot ? "in a slot" : "no slot");
}

/* ---- the scenario ---------------------------------------------------------------- */

uint32_t pattern(unsigned int page)
{
	return 0xc0de0000u | page;
}

/* Writes pattern(p) at the start of page p of the slot at @gpa, found
 * through the library as the VMM's device models would. */
bool fill_pattern(struct vm *vm, uint64_t gpa, unsigned int pages)
{
	for (unsigned int p = 0; p < pages; p++) {
		uint32_t *host = gpa_to_host(vm, gpa + p * PAGE_SIZE);

		if (!host)
			return false;
		*host = pattern(p);
	}
	return true;
}

/* ---- setup ---------------------------------------------------------------------- */

int scenario_open(struct scenario *sc, uint32_t index)
{
	int ret;

	memset(sc, 0, sizeof(*sc));
	ret = vm_open(&sc->vm, true, index, MEMSLOTS_DIRTY_BITMAP);
	if (ret)
		return ret;
	ret = vcpu_open(&sc->vcpu, &sc->vm);
	if (ret) {
		printf("vmm: vCPU setup: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
