// SPDX-License-Identifier: MIT
/*
 * vmm: a small virtual machine monitor on /dev/kvm whose guest memory map
 * lives in libmemslots.
 *
 * The library is the VMM's own copy of the memslot table: every change is
 * made with memslots_set_region() / memslots_apply(), and the library's
 * hooks (struct memslots_ops) forward it to KVM with
 * KVM_SET_USER_MEMORY_REGION.  Because the kernel is told from the prepare
 * hook, before the library publishes anything, a change the kernel refuses
 * is also refused by the library, and the two tables never disagree:
 *
 *   prepare  issues the ioctl for one change; its -errno aborts the call;
 *   abort    undoes, in reverse order, what earlier prepares of a failed
 *            batch told the kernel (re-create, move back, restore flags,
 *            delete);
 *   commit   runs once the change is published: the VMM's bookkeeping,
 *            here freeing the per-slot data of a slot that went away;
 *   release  frees that data for the slots left at memslots_free().
 *
 * The vCPU loop resolves guest-physical addresses with the library
 * (memslots_find_gfn_cached(), memslots_gfn_to_hva()); an address no slot
 * holds is MMIO.
 *
 * The scenario below runs a small protected-mode guest (guest.S) that
 * executes the VMM's commands (read or write a word at a gpa) and checks
 * every step against both KVM and the library; see docs/vmm.md.
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

/* What the guest reads from an address no device answers: an open bus. */
#define MMIO_OPEN_BUS 0xffffffffu

/* Guest-physical layout used by the scenario (all below 4 GiB: the guest
 * runs without paging). */
#define RAM_SLOT	  0
#define HOTPLUG_SLOT	  1
#define HOTPLUG_GPA	  0x400000ull
#define HOTPLUG_MOVED_GPA 0x800000ull
#define HOTPLUG_PAGES	  16
#define MANY_GPA	  0x10000000ull /* one page per slot from here on */

extern const unsigned char vmm_guest_code[], vmm_guest_code_end[];

/*
 * What the VMM hangs on memslot.priv: the buffer KVM_GET_DIRTY_LOG fills,
 * present while the slot logs dirty pages.  It is allocated in prepare, so
 * that nothing can fail after the library has published the change.
 */
struct slot_info {
	uint64_t *dirty_bitmap;
	size_t bitmap_bytes;
};

struct vcpu {
	struct kvm_vcpu k;
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

struct vm {
	struct kvm_vm kvm; /* counts the KVM_SET_USER_MEMORY_REGION ioctls */
	struct memslots *ms;
	struct vcpu vcpu;

	/* Bookkeeping done by the hooks. */
	unsigned long prepares_ok;
	unsigned long aborts;
	unsigned long commits;
	unsigned long abort_failures; /* an undo the kernel refused: out of sync */
	size_t nr_slots;	      /* kept by commit: must equal memslots_count() */
	uint64_t nr_pages;	      /* kept by commit: must equal memslots_nr_pages() */
};

/* ---- step results ---------------------------------------------------------- */

static const char *cur_step;
static unsigned int step_failures;

static void __attribute__((format(printf, 2, 3))) check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("  %s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		step_failures++;
}

/* ---- talking to KVM --------------------------------------------------------- */

/* Makes KVM's slot @s->id look like @s (create, move or change flags). */
static int kvm_install(struct vm *vm, const struct memslot *s)
{
	return kvm_set_region(&vm->kvm, s->id, s->flags, s->base_gfn, s->npages, s->userspace_addr);
}

/* Deletes KVM's slot @id: KVM's DELETE is memory_size 0. */
static int kvm_remove(struct vm *vm, uint16_t id)
{
	return kvm_set_region(&vm->kvm, id, 0, 0, 0, 0);
}

/* ---- the hooks ---------------------------------------------------------------- */

static bool wants_log(const struct memslot *s)
{
	return s && (s->flags & MEMSLOT_LOG_DIRTY_PAGES);
}

/*
 * prepare: runs before the library publishes the change, with the writer
 * lock held.  This is where KVM is told; a refusal is returned as -errno,
 * which makes the library drop the whole call (and abort the earlier
 * requests of a batch).  Per-slot data the new slot needs is allocated
 * here too: after a successful prepare, nothing may fail.
 */
static int vmm_prepare(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		       enum memslots_change change)
{
	struct vm *vm = opaque;
	struct slot_info *info = NULL;
	int ret;

	if (new_slot && wants_log(new_slot) && !new_slot->priv) {
		/* KVM fills one bit per page, in 64-bit words. */
		info = calloc(1, sizeof(*info));
		if (!info)
			return -ENOMEM;
		info->bitmap_bytes = (new_slot->npages + 63) / 64 * 8;
		info->dirty_bitmap = calloc(1, info->bitmap_bytes);
		if (!info->dirty_bitmap) {
			free(info);
			return -ENOMEM;
		}
		new_slot->priv = info; /* the published slot will carry it */
	} else if (new_slot && !wants_log(new_slot)) {
		new_slot->priv = NULL; /* commit frees old_slot->priv */
	}

	switch (change) {
	case MEMSLOTS_CREATE:
	case MEMSLOTS_MOVE: /* KVM moves a slot given the same id, new_slot gpa */
	case MEMSLOTS_FLAGS_ONLY:
		ret = kvm_install(vm, new_slot);
		break;
	case MEMSLOTS_DELETE:
		ret = kvm_remove(vm, old_slot->id);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret) {
		/* No abort follows a failed prepare: undo our own allocation. */
		if (info) {
			free(info->dirty_bitmap);
			free(info);
			new_slot->priv = old_slot ? old_slot->priv : NULL;
		}
		return ret;
	}
	vm->prepares_ok++;
	return 0;
}

/*
 * abort: a later request of the same batch failed (the kernel refused it,
 * or the library ran out of memory), so this change, already made in KVM,
 * must be undone.  Called in reverse order, so KVM walks back through the
 * states it went through.  It cannot fail the call; if KVM refused an
 * undo the two tables would disagree, which we count and report.
 */
static void vmm_abort(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		      enum memslots_change change)
{
	struct vm *vm = opaque;
	int ret;

	switch (change) {
	case MEMSLOTS_CREATE:
		ret = kvm_remove(vm, new_slot->id);
		break;
	case MEMSLOTS_DELETE:	  /* re-create it as it was */
	case MEMSLOTS_MOVE:	  /* move it back */
	case MEMSLOTS_FLAGS_ONLY: /* restore the flags */
		ret = kvm_install(vm, old_slot);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret) {
		fprintf(stderr, "vmm: abort: KVM refused to undo a change of slot %u: %s\n",
			(old_slot ? old_slot : new_slot)->id, strerror(-ret));
		vm->abort_failures++;
	}
	/* Free what prepare allocated for this change. */
	if (new_slot && new_slot->priv && new_slot->priv != (old_slot ? old_slot->priv : NULL)) {
		struct slot_info *info = new_slot->priv;

		free(info->dirty_bitmap);
		free(info);
		new_slot->priv = NULL;
	}
	vm->aborts++;
}

/*
 * commit: the change is published and no reader still sees the old slot,
 * so data that only the old slot referenced can be freed.
 */
static void vmm_commit(void *opaque, const struct memslot *old_slot, const struct memslot *new_slot,
		       enum memslots_change change)
{
	struct vm *vm = opaque;

	(void)change;
	if (old_slot && old_slot->priv && (!new_slot || new_slot->priv != old_slot->priv)) {
		struct slot_info *info = old_slot->priv;

		free(info->dirty_bitmap);
		free(info);
	}
	if (old_slot) {
		vm->nr_slots--;
		vm->nr_pages -= old_slot->npages;
	}
	if (new_slot) {
		vm->nr_slots++;
		vm->nr_pages += new_slot->npages;
	}
	vm->commits++;
}

/* release: memslots_free() hands back each remaining slot. */
static void vmm_release(void *opaque, struct memslot *slot)
{
	struct slot_info *info = slot->priv;

	(void)opaque;
	if (info) {
		free(info->dirty_bitmap);
		free(info);
	}
}

static const struct memslots_ops vmm_ops = {
	.prepare = vmm_prepare,
	.abort = vmm_abort,
	.commit = vmm_commit,
	/* No .invalidate: this VMM caches no translations of its own.  A VMM
	 * that did (an IOMMU map, a vhost table) would drop them there. */
	.release = vmm_release,
};

/* ---- library helpers --------------------------------------------------------- */

static struct memslots_region region(uint16_t id, uint32_t flags, uint64_t gpa, uint64_t size,
				     const void *hva)
{
	return (struct memslots_region){
		.slot = id,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};
}

static int set_region(struct vm *vm, uint16_t id, uint32_t flags, uint64_t gpa, uint64_t size,
		      const void *hva)
{
	struct memslots_region r = region(id, flags, gpa, size, hva);

	return memslots_set_region(vm->ms, &r);
}

/* Host address of @gpa, as the library maps it, or NULL. */
static void *gpa_to_host(struct vm *vm, uint64_t gpa)
{
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	uint64_t hva = memslots_gfn_to_hva(set, gpa >> PAGE_SHIFT);

	memslots_read_unlock(vm->ms);
	if (hva == MEMSLOTS_HVA_BAD)
		return NULL;
	return (void *)(uintptr_t)(hva + (gpa & (PAGE_SIZE - 1)));
}

static bool gpa_in_slot(struct vm *vm, uint64_t gpa)
{
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	bool in = memslots_find_gfn(set, gpa >> PAGE_SHIFT) != NULL;

	memslots_read_unlock(vm->ms);
	return in;
}

struct lib_state {
	uint64_t generation;
	size_t count;
	uint64_t nr_pages;
};

static struct lib_state lib_state(struct vm *vm)
{
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	struct lib_state st = {
		.generation = memslots_generation(set),
		.count = memslots_count(set),
		.nr_pages = memslots_nr_pages(set),
	};

	memslots_read_unlock(vm->ms);
	return st;
}

/* The commit hook's bookkeeping must agree with the library. */
static void check_bookkeeping(struct vm *vm)
{
	struct lib_state st = lib_state(vm);

	check(st.count == vm->nr_slots && st.nr_pages == vm->nr_pages && !vm->abort_failures,
	      "bookkeeping: library has %zu slots / %" PRIu64 " pages, commit hook counted "
	      "%zu / %" PRIu64 ", %lu failed undos",
	      st.count, st.nr_pages, vm->nr_slots, vm->nr_pages, vm->abort_failures);
}

/* ---- the vCPU ------------------------------------------------------------------ */

/*
 * An MMIO exit: the guest touched a gpa KVM has no memslot for.  The VMM
 * asks its own copy of the table (the library) which is the same answer
 * KVM had, and emulates a device there: an empty bus.
 */
static void handle_mmio(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->k.run;
	uint64_t gpa = run->mmio.phys_addr;
	const struct memslots_set *set = memslots_read_lock(vm->ms);
	const struct memslot *slot = memslots_find_gfn_cached(set, &vcpu->cache, gpa >> PAGE_SHIFT);
	bool valid = slot && !(slot->flags & MEMSLOT_INVALID);

	memslots_read_unlock(vm->ms);
	if (valid && !(slot->flags & MEMSLOT_READONLY)) {
		/* KVM maps this gpa: the exit means the two tables disagree. */
		fprintf(stderr, "vmm: MMIO exit at gpa 0x%" PRIx64 " inside slot %u\n", gpa,
			slot->id);
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
static int vcpu_run_until_cmd(struct vm *vm)
{
	struct vcpu *vcpu = &vm->vcpu;
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
			handle_mmio(vm, vcpu);
			break;
		default: /* a halt (the guest's "bad command") included */
			kvm_report_exit(run);
			return -EIO;
		}
	}
}

/* Has the guest execute one command; returns 0 and its result, or -errno. */
static int guest_cmd(struct vm *vm, uint32_t cmd, uint32_t a0, uint32_t a1, uint32_t *result)
{
	struct vcpu *vcpu = &vm->vcpu;
	int ret;

	if (!vcpu->parked) {
		ret = vcpu_run_until_cmd(vm);
		if (ret)
			return ret;
	}
	memcpy(kvm_io_data(&vcpu->k), &cmd, 4); /* the pending IN from PORT_CMD */
	vcpu->args[0] = a0;
	vcpu->args[1] = a1;
	vcpu->next_arg = 0;
	vcpu->have_result = false;
	ret = vcpu_run_until_cmd(vm);
	if (ret)
		return ret;
	if (!vcpu->have_result)
		return -EPROTO;
	*result = vcpu->result;
	return 0;
}

struct guest_read {
	int ret;
	uint32_t value;
	bool mmio; /* the read caused an MMIO exit for that gpa */
};

static struct guest_read guest_read32(struct vm *vm, uint64_t gpa)
{
	unsigned long mmio_before = vm->vcpu.mmio_exits;
	struct guest_read r = {0};

	r.ret = guest_cmd(vm, CMD_READ32, (uint32_t)gpa, 0, &r.value);
	r.mmio = vm->vcpu.mmio_exits != mmio_before && vm->vcpu.last_mmio_gpa == gpa;
	return r;
}

/* The guest reads @gpa and must see @want from RAM, not through MMIO. */
static void check_guest_sees(struct vm *vm, uint64_t gpa, uint32_t want)
{
	struct guest_read r = guest_read32(vm, gpa);

	check(!r.ret && !r.mmio && r.value == want,
	      "guest reads gpa 0x%08" PRIx64 ": 0x%08x%s (want 0x%08x from RAM)", gpa, r.value,
	      r.ret    ? " [vCPU error]"
	      : r.mmio ? " via MMIO"
		       : "",
	      want);
}

/* The guest reads @gpa and must fault to the VMM as MMIO. */
static void check_guest_mmio(struct vm *vm, uint64_t gpa)
{
	struct guest_read r = guest_read32(vm, gpa);
	bool in_slot = gpa_in_slot(vm, gpa);

	check(!r.ret && r.mmio && r.value == MMIO_OPEN_BUS && !in_slot,
	      "guest reads gpa 0x%08" PRIx64 ": %s, value 0x%08x, library: %s", gpa,
	      r.ret    ? "vCPU error"
	      : r.mmio ? "MMIO exit"
		       : "no MMIO exit",
	      r.value, in_slot ? "in a slot" : "no slot");
}

/* ---- setup ---------------------------------------------------------------------- */

/* The guest's MAXPHYADDR, from the CPUID KVM supports (leaf 0x80000008). */
/* Returns 0, 77 (no usable KVM) or 1. */
static int vm_open(struct vm *vm)
{
	struct memslots_config cfg = {0};
	int ret;

	memset(vm, 0, sizeof(*vm));
	ret = kvm_vm_open(&vm->kvm);
	if (ret)
		return ret;
	printf("vmm: KVM API %d, KVM_CAP_NR_MEMSLOTS %u, guest MAXPHYADDR %u, libmemslots %s\n",
	       KVM_API_VERSION, vm->kvm.nr_memslots, vm->kvm.phys_bits, memslots_version_string());

	cfg.max_slots = vm->kvm.nr_memslots;
	cfg.ops = &vmm_ops;
	cfg.opaque = vm;
	/* hva_limit stays 0: the library accepts any non-wrapping hva, and
	 * whatever KVM refuses beyond that comes back from prepare. */
	vm->ms = memslots_new(&cfg);
	if (!vm->ms) {
		printf("vmm: memslots_new: %s\n", strerror(errno));
		return 1;
	}
	/* The vCPU "thread" (here the only thread) reads the table. */
	memslots_reader_register(vm->ms);
	ret = kvm_vcpu_create(&vm->kvm, 0, &vm->vcpu.k);
	if (!ret)
		ret = kvm_vcpu_flat32(&vm->vcpu.k, GUEST_LOAD_ADDR);
	if (ret) {
		printf("vmm: vCPU setup: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}

/* ---- the scenario ---------------------------------------------------------------- */

static void *hotplug_mem; /* HOTPLUG_PAGES pages, backing the hot-plugged slots */

static uint32_t pattern(unsigned int page)
{
	return 0xc0de0000u | page;
}

/* Writes pattern(p) at the start of page p of the slot at @gpa, found
 * through the library as the VMM's device models would. */
static bool fill_pattern(struct vm *vm, uint64_t gpa, unsigned int pages)
{
	for (unsigned int p = 0; p < pages; p++) {
		uint32_t *host = gpa_to_host(vm, gpa + p * PAGE_SIZE);

		if (!host)
			return false;
		*host = pattern(p);
	}
	return true;
}

static void step_boot(struct vm *vm)
{
	void *ram = map_anon(GUEST_RAM_SIZE);
	size_t len = (size_t)(vmm_guest_code_end - vmm_guest_code);
	void *load;
	int ret;

	ret = ram ? set_region(vm, RAM_SLOT, 0, 0, GUEST_RAM_SIZE, ram) : -ENOMEM;
	check(ret == 0, "slot %d: %d KiB of RAM at gpa 0: %s", RAM_SLOT, GUEST_RAM_SIZE >> 10,
	      memslots_strerror(ret));
	if (ret)
		return;
	load = gpa_to_host(vm, GUEST_LOAD_ADDR);
	check(load == (char *)ram + GUEST_LOAD_ADDR, "library: gpa 0x%x is at host %p",
	      GUEST_LOAD_ADDR, load);
	if (!load)
		return;
	memcpy(load, vmm_guest_code, len);
	printf("  guest image: %zu bytes at gpa 0x%x\n", len, GUEST_LOAD_ADDR);

	ret = vcpu_run_until_cmd(vm);
	check(ret == 0 && strcmp(vm->vcpu.last_line,
				 "hello from the guest (32-bit protected mode)") == 0,
	      "guest booted, printed its greeting and waits for commands");
	if (ret)
		return;
	check_guest_sees(vm, GUEST_LOAD_ADDR, *(const uint32_t *)vmm_guest_code);
	check_bookkeeping(vm);
}

static void step_hotplug(struct vm *vm)
{
	int ret;

	hotplug_mem = map_anon(HOTPLUG_PAGES * PAGE_SIZE);
	check_guest_mmio(vm, HOTPLUG_GPA); /* nothing there yet */
	ret = set_region(vm, HOTPLUG_SLOT, 0, HOTPLUG_GPA, HOTPLUG_PAGES * PAGE_SIZE, hotplug_mem);
	check(ret == 0, "slot %d: %d pages at gpa 0x%llx created: %s", HOTPLUG_SLOT, HOTPLUG_PAGES,
	      HOTPLUG_GPA, memslots_strerror(ret));
	if (ret)
		return;
	check(fill_pattern(vm, HOTPLUG_GPA, HOTPLUG_PAGES),
	      "VMM wrote a pattern through memslots_gfn_to_hva()");
	check_guest_sees(vm, HOTPLUG_GPA, pattern(0));
	check_guest_sees(vm, HOTPLUG_GPA + 7 * PAGE_SIZE, pattern(7));
	check_guest_sees(vm, HOTPLUG_GPA + (HOTPLUG_PAGES - 1) * PAGE_SIZE,
			 pattern(HOTPLUG_PAGES - 1));
	check_bookkeeping(vm);
}

static void step_move(struct vm *vm)
{
	unsigned long ioctls = vm->kvm.region_ioctls;
	int ret;

	/* Same id, size and hva, another gpa: a MOVE for KVM and the library. */
	ret = set_region(vm, HOTPLUG_SLOT, 0, HOTPLUG_MOVED_GPA, HOTPLUG_PAGES * PAGE_SIZE,
			 hotplug_mem);
	check(ret == 0 && vm->kvm.region_ioctls == ioctls + 1,
	      "slot %d moved to gpa 0x%llx with one KVM ioctl: %s", HOTPLUG_SLOT, HOTPLUG_MOVED_GPA,
	      memslots_strerror(ret));
	if (ret)
		return;
	check_guest_sees(vm, HOTPLUG_MOVED_GPA, pattern(0));
	check_guest_sees(vm, HOTPLUG_MOVED_GPA + 9 * PAGE_SIZE, pattern(9));
	check_guest_mmio(vm, HOTPLUG_GPA);
	check_guest_mmio(vm, HOTPLUG_GPA + 9 * PAGE_SIZE);
	check_bookkeeping(vm);
}

static void step_dirty_log(struct vm *vm)
{
	static const unsigned int written[] = {2, 5, 11};
	const struct memslots_set *set;
	struct slot_info *info;
	uint64_t want = 0, got;
	uint32_t ack;
	int ret;

	ret = set_region(vm, HOTPLUG_SLOT, MEMSLOT_LOG_DIRTY_PAGES, HOTPLUG_MOVED_GPA,
			 HOTPLUG_PAGES * PAGE_SIZE, hotplug_mem);
	set = memslots_read_lock(vm->ms);
	info = memslots_find_id(set, HOTPLUG_SLOT)->priv;
	memslots_read_unlock(vm->ms);
	check(ret == 0 && info, "dirty logging on for slot %d (FLAGS_ONLY), bitmap in priv: %s",
	      HOTPLUG_SLOT, memslots_strerror(ret));
	if (ret || !info)
		return;

	for (unsigned int i = 0; i < ARRAY_SIZE(written); i++) {
		uint64_t gpa = HOTPLUG_MOVED_GPA + written[i] * PAGE_SIZE + 0x40;

		ret = guest_cmd(vm, CMD_WRITE32, (uint32_t)gpa, 0xd1d1d100u + i, &ack);
		want |= 1ull << written[i];
		check(!ret && *(uint32_t *)gpa_to_host(vm, gpa) == 0xd1d1d100u + i,
		      "guest wrote page %u (gpa 0x%" PRIx64 "), the VMM sees it", written[i], gpa);
	}
	ret = kvm_get_dirty_log(&vm->kvm, HOTPLUG_SLOT, info->dirty_bitmap);
	got = info->dirty_bitmap[0];
	check(ret == 0 && got == want,
	      "KVM_GET_DIRTY_LOG: dirty pages 0x%04" PRIx64 " (want 0x%04" PRIx64 "): %s", got,
	      want, strerror(-ret));
	ret = kvm_get_dirty_log(&vm->kvm, HOTPLUG_SLOT, info->dirty_bitmap);
	check(ret == 0 && info->dirty_bitmap[0] == 0,
	      "KVM_GET_DIRTY_LOG again: 0x%04" PRIx64 " (nothing written since)",
	      info->dirty_bitmap[0]);

	ret = set_region(vm, HOTPLUG_SLOT, 0, HOTPLUG_MOVED_GPA, HOTPLUG_PAGES * PAGE_SIZE,
			 hotplug_mem);
	check(ret == 0, "dirty logging off (FLAGS_ONLY): %s", memslots_strerror(ret));
	{
		uint64_t scratch[1];

		/* KVM keeps no bitmap for a slot that does not log. */
		ret = kvm_get_dirty_log(&vm->kvm, HOTPLUG_SLOT, scratch);
		check(ret == -ENOENT, "KVM_GET_DIRTY_LOG now fails with ENOENT: %s",
		      strerror(-ret));
	}
	check_bookkeeping(vm);
}

static void step_delete(struct vm *vm)
{
	int ret = set_region(vm, HOTPLUG_SLOT, 0, HOTPLUG_MOVED_GPA, 0, hotplug_mem);

	check(ret == 0, "slot %d deleted: %s", HOTPLUG_SLOT, memslots_strerror(ret));
	check_guest_mmio(vm, HOTPLUG_MOVED_GPA);
	check_guest_mmio(vm, HOTPLUG_MOVED_GPA + 3 * PAGE_SIZE);
	check_bookkeeping(vm);
}

/* Every free slot id, one page each, created by one batch and deleted by
 * another: the library's batches against KVM's whole id space. */
static void step_many(struct vm *vm)
{
	struct lib_state before = lib_state(vm);
	size_t n = 0, failed = 0;
	struct memslots_region *req;
	unsigned long ioctls;
	char *mem;
	double t0, t1, kvm_secs;
	int ret;

	req = calloc(vm->kvm.nr_memslots, sizeof(*req));
	mem = map_anon((size_t)vm->kvm.nr_memslots * PAGE_SIZE);
	if (!req || !mem) {
		check(false, "out of memory");
		free(req);
		return;
	}
	{
		const struct memslots_set *set = memslots_read_lock(vm->ms);

		for (unsigned int id = 0; id < vm->kvm.nr_memslots; id++) {
			if (memslots_find_id(set, (uint16_t)id))
				continue;
			req[n] = region((uint16_t)id, 0, MANY_GPA + n * PAGE_SIZE, PAGE_SIZE,
					mem + n * PAGE_SIZE);
			n++;
		}
		memslots_read_unlock(vm->ms);
	}

	ioctls = vm->kvm.region_ioctls;
	kvm_secs = vm->kvm.region_secs;
	t0 = now();
	ret = memslots_apply(vm->ms, req, n, &failed);
	t1 = now();
	check(ret == 0 && vm->kvm.region_ioctls - ioctls == n && vm->kvm.region_refusals == 0,
	      "one memslots_apply() created %zu slots (all %u ids in use), KVM accepted %lu "
	      "of %zu: %s",
	      n, vm->kvm.nr_memslots, vm->kvm.region_ioctls - ioctls, n, memslots_strerror(ret));
	printf("  create batch: %.2f s, of which %.2f s in KVM's ioctls\n", t1 - t0,
	       vm->kvm.region_secs - kvm_secs);
	if (ret) {
		printf("  failed_index %zu (slot id %u)\n", failed, req[failed].slot);
		goto out;
	}
	check(lib_state(vm).count == before.count + n, "library holds %zu slots",
	      lib_state(vm).count);
	/* Tag a sample of pages through the library, read them from the guest. */
	for (size_t i = 0; i <= 8; i++) {
		size_t k = i * (n - 1) / 8;
		uint64_t gpa = MANY_GPA + k * PAGE_SIZE;
		uint32_t *host = gpa_to_host(vm, gpa);

		if (!host) {
			check(false, "library: no hva for gpa 0x%" PRIx64, gpa);
			continue;
		}
		*host = 0x5107a000u ^ (uint32_t)k;
		check_guest_sees(vm, gpa, 0x5107a000u ^ (uint32_t)k);
	}
	check_bookkeeping(vm);

	for (size_t i = 0; i < n; i++)
		req[i].memory_size = 0;
	ioctls = vm->kvm.region_ioctls;
	kvm_secs = vm->kvm.region_secs;
	t0 = now();
	ret = memslots_apply(vm->ms, req, n, &failed);
	t1 = now();
	check(ret == 0 && vm->kvm.region_ioctls - ioctls == n && vm->kvm.region_refusals == 0,
	      "one memslots_apply() deleted them, KVM accepted %lu of %zu: %s",
	      vm->kvm.region_ioctls - ioctls, n, memslots_strerror(ret));
	printf("  delete batch: %.2f s, of which %.2f s in KVM's ioctls\n", t1 - t0,
	       vm->kvm.region_secs - kvm_secs);
	check(lib_state(vm).count == before.count, "library holds %zu slots again",
	      lib_state(vm).count);
	check_guest_mmio(vm, MANY_GPA);
	check_guest_mmio(vm, MANY_GPA + (n - 1) * PAGE_SIZE);
	check_bookkeeping(vm);
out:
	munmap(mem, (size_t)vm->kvm.nr_memslots * PAGE_SIZE);
	free(req);
}

/*
 * A batch whose last request KVM refuses, a gpa at 2^52: beyond any x86
 * MAXPHYADDR, so KVM refuses it (-EINVAL, "beyond max gfn"), while the
 * library, which knows no physical-address width, accepts it.  The library
 * must fail as a whole, and the abort hook must have walked KVM back.
 */
static void step_rollback(struct vm *vm)
{
	enum { B = 1, C = 2, D = 3, A = 4, E = 5, PAGES = 4 };
	const uint64_t size = PAGES * PAGE_SIZE;
	char *mem = hotplug_mem;
	uint64_t huge_gpa = 1ull << 52;
	struct memslots_region setup[] = {
		region(B, 0, 0x400000, size, mem),
		region(C, 0, 0x500000, size, mem + size),
		region(D, 0, 0x600000, size, mem + 2 * size),
	};
	struct memslots_region batch[] = {
		region(A, 0, 0x700000, size, mem + 3 * size),			/* create */
		region(B, 0, 0x400000, 0, mem),					/* delete */
		region(C, MEMSLOT_LOG_DIRTY_PAGES, 0x500000, size, mem + size), /* flags */
		region(D, 0, 0x900000, size, mem + 2 * size),			/* move */
		region(E, 0, huge_gpa, PAGE_SIZE, mem),				/* KVM refuses */
	};
	unsigned long prepares, aborts, ioctls, refusals;
	struct lib_state before, after;
	size_t failed = 99;
	uint64_t scratch[1];
	int ret;

	ret = memslots_apply(vm->ms, setup, ARRAY_SIZE(setup), &failed);
	check(ret == 0, "slots %d, %d, %d created by one batch: %s", B, C, D,
	      memslots_strerror(ret));
	if (ret)
		return;
	check(fill_pattern(vm, 0x400000, PAGES) && fill_pattern(vm, 0x600000, PAGES),
	      "patterns written into slots %d and %d", B, D);

	/* The library checks a request before any hook runs: an overlap never
	 * reaches KVM. */
	ioctls = vm->kvm.region_ioctls;
	ret = set_region(vm, A, 0, 0x400000 + PAGE_SIZE, size, mem);
	check(ret == -EEXIST && vm->kvm.region_ioctls == ioctls,
	      "an overlapping create is refused by the library alone: %s", memslots_strerror(ret));

	before = lib_state(vm);
	prepares = vm->prepares_ok;
	aborts = vm->aborts;
	refusals = vm->kvm.region_refusals;
	ret = memslots_apply(vm->ms, batch, ARRAY_SIZE(batch), &failed);
	after = lib_state(vm);
	printf("  batch: create %d, delete %d, log %d, move %d, create %d at gpa 0x%" PRIx64
	       " -> %s, failed_index %zu\n",
	       A, B, C, D, E, huge_gpa, memslots_strerror(ret), failed);
	check(ret == -EINVAL && failed == ARRAY_SIZE(batch) - 1 &&
		      vm->kvm.region_refusals == refusals + 1,
	      "KVM refused the last request, the library returned its -EINVAL with "
	      "failed_index %zu",
	      failed);
	check(after.generation == before.generation && after.count == before.count &&
		      after.nr_pages == before.nr_pages,
	      "library unchanged: generation %" PRIu64 " -> %" PRIu64 ", %zu -> %zu slots",
	      before.generation, after.generation, before.count, after.count);
	check(vm->prepares_ok - prepares == 4 && vm->aborts - aborts == 4 && !vm->abort_failures,
	      "4 prepares succeeded, 4 aborts undid them in KVM");

	/* What KVM has now must be the state before the batch. */
	check_guest_sees(vm, 0x400000 + PAGE_SIZE, pattern(1));	    /* B re-created */
	check_guest_sees(vm, 0x600000 + 3 * PAGE_SIZE, pattern(3)); /* D moved back */
	check_guest_mmio(vm, 0x900000);				    /* not at D's target */
	check_guest_mmio(vm, 0x700000);				    /* A deleted again */
	ret = kvm_get_dirty_log(&vm->kvm, C, scratch);
	check(ret == -ENOENT, "slot %d does not log dirty pages in KVM: %s", C, strerror(-ret));
	/* Had abort left KVM's slot A in place, KVM would refuse this (a
	 * slot's size cannot change); for a free id it is a plain CREATE. */
	ret = kvm_set_region(&vm->kvm, A, 0, 0xa00000 >> PAGE_SHIFT, 2 * PAGES, (uintptr_t)mem);
	check(ret == 0, "KVM: id %d is free again (created with another size: %s)", A,
	      strerror(-ret));
	if (!ret)
		kvm_remove(vm, A);

	/* Clean up, one batch. */
	for (size_t i = 0; i < ARRAY_SIZE(setup); i++)
		setup[i].memory_size = 0;
	ret = memslots_apply(vm->ms, setup, ARRAY_SIZE(setup), &failed);
	check(ret == 0, "slots %d, %d, %d deleted by one batch: %s", B, C, D,
	      memslots_strerror(ret));
	check_bookkeeping(vm);
}

struct step {
	const char *name;
	void (*run)(struct vm *vm);
	bool passed;
};

int main(int argc, char **argv)
{
	struct step steps[] = {
		{"boot", step_boot, false},	    {"hotplug", step_hotplug, false},
		{"move", step_move, false},	    {"dirty-log", step_dirty_log, false},
		{"delete", step_delete, false},	    {"many-slots", step_many, false},
		{"rollback", step_rollback, false},
	};
	unsigned int passed = 0;
	struct vm vm;
	double t0 = now();
	int ret;

	(void)argv;
	if (argc > 1) {
		printf("usage: vmm\n(runs the example scenario on /dev/kvm; exit 0 pass, "
		       "1 fail, 77 no KVM)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = vm_open(&vm);
	if (ret)
		return ret;

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		double ts = now();

		cur_step = steps[i].name;
		step_failures = 0;
		printf("vmm: step %zu/%zu: %s\n", i + 1, ARRAY_SIZE(steps), cur_step);
		steps[i].run(&vm);
		steps[i].passed = step_failures == 0 && vm.vcpu.bad_exits == 0;
		passed += steps[i].passed;
		printf("vmm: step %s: %s (%.2f s)\n", cur_step, steps[i].passed ? "PASS" : "FAIL",
		       now() - ts);
		if (!steps[i].passed && i == 0)
			break; /* without a booted guest the rest means nothing */
	}

	memslots_reader_unregister(vm.ms);
	memslots_free(vm.ms); /* release frees the priv of what is left */

	printf("vmm: summary\n");
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		printf("%s %s\n", steps[i].passed ? "PASS" : "FAIL", steps[i].name);
	printf("vmm: %u/%zu steps passed, %lu KVM_SET_USER_MEMORY_REGION ioctls (%lu refused), "
	       "%.2f s\n",
	       passed, ARRAY_SIZE(steps), vm.kvm.region_ioctls, vm.kvm.region_refusals, now() - t0);
	return passed == ARRAY_SIZE(steps) ? 0 : 1;
}
