/* SPDX-License-Identifier: MIT */
/*
 * vmm_pattern: the pattern a VMM follows with libmemslots, in one file
 * that builds and runs anywhere (docs/api.md, "The pattern a VMM
 * follows", quotes its parts):
 *
 *   - the hooks issue the KVM request the library builds for each step
 *     (prepare), and undo it with the request the library builds for the
 *     undo (abort);
 *   - new slots get their ids from the library's allocator;
 *   - a vCPU thread, registered as a reader, translates guest addresses
 *     with its own cache, using each host address inside the read-side
 *     section it got it in;
 *   - a copy that crosses slots goes slot by slot, as far as each covers;
 *   - host addresses map back to every guest address that sees them;
 *   - a slot's memory is unmapped once its DELETE has returned.
 *
 * KVM is played by a stand-in, kvm_set_user_memory_region2(), which keeps
 * the table the kernel would keep and refuses what the kernel refuses
 * beyond the library's own checks (here, a gpa past the guest's
 * MAXPHYADDR), so that the program needs no /dev/kvm.  examples/vmm/ is
 * the same pattern on real KVM.  docs/api.md quotes the code between the
 * markers [name] and [/name] as it is: keep them in step.  Exit status 0
 * when every check holds.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <memslots/memslots.h>

#define PAGE_SIZE 4096ull
#define RAM_SIZE  (16 * PAGE_SIZE) /* each of the two RAM slots */
#define ROM_GPA	  0xfffff000ull	   /* RAM's first page again, read-only */
#define NR_IDS	  64		   /* the stand-in's KVM_CAP_NR_MEMSLOTS */
#define MAX_GPA	  (1ull << 40)	   /* the stand-in's MAXPHYADDR */
#define BAR_IDS	  32		   /* ids 32-47: the device's BARs */

static int failures;

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "vmm_pattern: check failed: %s (line %d)\n", #cond, \
				__LINE__);                                                  \
			failures++;                                                         \
		}                                                                           \
	} while (0)

/* ---- the stand-in for KVM ------------------------------------------------------------ */

struct kvm_table {
	struct memslots_region2 slot[NR_IDS]; /* memory_size 0: no slot */
	unsigned long ioctls;
};

/* What ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, r) does to KVM's table. */
static int kvm_set_user_memory_region2(struct kvm_table *kvm, const struct memslots_region2 *r)
{
	uint16_t id = r->slot & 0xffff;

	kvm->ioctls++;
	if (id >= NR_IDS)
		return -EINVAL;
	if (r->memory_size && r->guest_phys_addr + r->memory_size > MAX_GPA)
		return -EINVAL; /* KVM's "beyond max gfn", which the library cannot know */
	kvm->slot[id] = *r;
	return 0;
}

/* ---- the VMM ----------------------------------------------------------------------- */

struct vmm {
	struct memslots *ms;
	struct kvm_table kvm;
	bool out_of_sync; /* KVM refused an undo */
};

/* [hooks] */
/* prepare: KVM takes the step before the library publishes it; KVM's
 * refusal fails the library call. */
static int vmm_prepare(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		       enum memslots_change change)
{
	struct vmm *vmm = opaque;
	struct memslots_region2 r;
	int ret = memslots_change_to_region2(vmm->ms, old_slot, new_slot, change, &r);

	if (ret)
		return ret;
	/* ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, &r) < 0 ? -errno : 0 */
	return kvm_set_user_memory_region2(&vmm->kvm, &r);
}

/* abort: a later request of the batch failed; KVM walks back this step. */
static void vmm_abort(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		      enum memslots_change change)
{
	struct vmm *vmm = opaque;
	struct memslots_region2 r;

	if (memslots_abort_to_region2(vmm->ms, old_slot, new_slot, change, &r) ||
	    kvm_set_user_memory_region2(&vmm->kvm, &r))
		vmm->out_of_sync = true;
}

static const struct memslots_ops vmm_ops = {
	.prepare = vmm_prepare,
	.abort = vmm_abort,
};
/* [/hooks] */

/* [copy] */
/* Copies @n bytes to guest-physical @gpa, slot by slot: each translation
 * says how many bytes its slot still covers. */
static int copy_to_guest(struct memslots *ms, struct memslots_cache *cache, uint64_t gpa,
			 const void *src, size_t n)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	int ret = 0;

	while (n) {
		uint64_t len, hva = memslots_gpa_to_hva_write(set, cache, gpa, &len);
		size_t chunk;

		if (hva == MEMSLOTS_HVA_BAD) {
			ret = -EFAULT; /* no slot, or a read-only one: MMIO */
			break;
		}
		chunk = n < len ? n : (size_t)len;
		memcpy((void *)(uintptr_t)hva, src, chunk);
		src = (const char *)src + chunk;
		gpa += chunk;
		n -= chunk;
	}
	memslots_read_unlock(ms);
	return ret;
}
/* [/copy] */

struct vcpu {
	struct vmm *vmm;
	uint64_t gpa;	/* the word the vCPU reads */
	uint32_t value; /* what it read */
	bool mmio;	/* no slot there */
};

/* [vcpu] */
static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct memslots *ms = vcpu->vmm->ms;
	struct memslots_cache cache = {0}; /* this thread's */
	const struct memslots_set *set;
	uint64_t hva;

	memslots_reader_register(ms);
	set = memslots_read_lock(ms);
	hva = memslots_gpa_to_hva_cached(set, &cache, vcpu->gpa, NULL);
	vcpu->mmio = hva == MEMSLOTS_HVA_BAD;
	if (!vcpu->mmio) /* used inside the section that gave it */
		memcpy(&vcpu->value, (const void *)(uintptr_t)hva, sizeof(vcpu->value));
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms);
	return NULL;
}
/* [/vcpu] */

static bool vcpu_reads(struct vmm *vmm, uint64_t gpa, uint32_t *value)
{
	struct vcpu vcpu = {.vmm = vmm, .gpa = gpa};
	pthread_t t;

	if (pthread_create(&t, NULL, vcpu_thread, &vcpu) || pthread_join(t, NULL))
		return false;
	*value = vcpu.value;
	return !vcpu.mmio;
}

/* [create] */
/* A new slot: the library picks the lowest free id of [first, last] under
 * its writer lock, and the slot is created with it in the same call. */
static int add_slot(struct memslots *ms, unsigned int first, unsigned int last, uint32_t flags,
		    uint64_t gpa, uint64_t size, void *mem, uint16_t *id)
{
	struct memslots_region2 r = {
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)mem,
	};

	return memslots_create_region2(ms, &r, first, last, id);
}
/* [/create] */

/* How many of the valid slots map host byte @host, their gpas in @gpas. */
static size_t guest_addresses(struct memslots *ms, const void *host, uint64_t *gpas, size_t max)
{
	/* [hva] */
	const struct memslots_set *set = memslots_read_lock(ms);
	uint64_t hva = (uintptr_t)host, gpa;
	size_t n = 0;

	for (const struct memslot *s = memslots_hva_to_gpa(set, hva, &gpa); s && n < max;
	     s = memslots_hva_to_gpa_next(set, hva, s, &gpa))
		gpas[n++] = gpa; /* ascending: every alias of the byte */
	memslots_read_unlock(ms);
	/* [/hva] */
	return n;
}

/* KVM's table and the library's hold the same slots: each of the
 * library's is what its CREATE request told KVM, and KVM has no other. */
static bool tables_agree(struct vmm *vmm)
{
	const struct memslots_set *set = memslots_read_lock(vmm->ms);
	bool same = true;

	for (uint16_t id = 0; id < NR_IDS; id++) {
		const struct memslot *s = memslots_find_id(set, id);
		const struct memslots_region2 *k = &vmm->kvm.slot[id];
		struct memslots_region2 want;

		if (!s) {
			same = same && k->memory_size == 0;
			continue;
		}
		memslots_change_to_region2(vmm->ms, NULL, s, MEMSLOTS_CREATE, &want);
		same = same && memcmp(&want, k, sizeof(want)) == 0;
	}
	memslots_read_unlock(vmm->ms);
	return same;
}

int main(void)
{
	struct vmm vmm = {0};
	struct memslots_config cfg = {.max_slots = NR_IDS, .ops = &vmm_ops, .opaque = &vmm};
	char *ram0 =
		mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ram1 =
		mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *dev =
		mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static const char text[] = "one copy, two slots: each translation says how far it goes";
	uint16_t id0, id1, rom, bar, ids[2];
	uint64_t gpas[4];
	uint32_t word;
	size_t failed = 0;
	int ret;

	if (ram0 == MAP_FAILED || ram1 == MAP_FAILED || dev == MAP_FAILED)
		return 1;
	vmm.ms = memslots_new(&cfg);
	if (!vmm.ms)
		return 1;
	memslots_reader_register(vmm.ms); /* main reads too */

	/* RAM: two slots side by side in the guest, two mappings on the host;
	 * and RAM's first page again at the top of 4 GiB, read-only. */
	CHECK(add_slot(vmm.ms, 0, UINT_MAX, 0, 0, RAM_SIZE, ram0, &id0) == 0 && id0 == 0);
	CHECK(add_slot(vmm.ms, 0, UINT_MAX, 0, RAM_SIZE, RAM_SIZE, ram1, &id1) == 0 && id1 == 1);
	CHECK(add_slot(vmm.ms, 0, UINT_MAX, MEMSLOT_READONLY, ROM_GPA, PAGE_SIZE, ram0, &rom) ==
		      0 &&
	      rom == 2);
	/* A device's BARs take their ids from a range kept for them. */
	CHECK(add_slot(vmm.ms, BAR_IDS, BAR_IDS + 15, 0, 0xe0000000, PAGE_SIZE, dev, &bar) == 0 &&
	      bar == BAR_IDS);
	CHECK(tables_agree(&vmm));
	printf("vmm_pattern: slots %u, %u (RAM), %u (ROM alias), %u (BAR); %lu KVM requests\n", id0,
	       id1, rom, bar, vmm.kvm.ioctls);

	/* A copy across the two RAM slots, then a vCPU reads its end. */
	CHECK(copy_to_guest(vmm.ms, NULL, RAM_SIZE - 20, text, sizeof(text)) == 0);
	CHECK(memcmp(ram0 + RAM_SIZE - 20, text, 20) == 0);
	CHECK(memcmp(ram1, text + 20, sizeof(text) - 20) == 0);
	CHECK(vcpu_reads(&vmm, RAM_SIZE - 20, &word) && memcmp(&word, text, 4) == 0);
	CHECK(!vcpu_reads(&vmm, 2 * RAM_SIZE, &word)); /* past RAM: MMIO */
	/* The ROM alias is read-only: a write to it is MMIO, not a store. */
	CHECK(copy_to_guest(vmm.ms, NULL, ROM_GPA, text, 4) == -EFAULT);

	/* Host to guest: RAM's first byte is at gpa 0 and in the ROM alias. */
	CHECK(guest_addresses(vmm.ms, ram0, gpas, 4) == 2 && gpas[0] == 0 && gpas[1] == ROM_GPA);

	/* A batch KVM refuses the second request of: abort undoes the first
	 * in KVM, and the library is unchanged. */
	CHECK(memslots_lowest_free_id(vmm.ms, 0, UINT_MAX, &ids[0]) == 0 && ids[0] == 3);
	CHECK(memslots_lowest_free_id(vmm.ms, ids[0] + 1u, UINT_MAX, &ids[1]) == 0 && ids[1] == 4);
	{
		struct memslots_region2 batch[] = {
			{.slot = ids[0],
			 .guest_phys_addr = 0x100000,
			 .memory_size = PAGE_SIZE,
			 .userspace_addr = (uintptr_t)dev},
			{.slot = ids[1],
			 .guest_phys_addr = MAX_GPA,
			 .memory_size = PAGE_SIZE,
			 .userspace_addr = (uintptr_t)dev},
		};

		ret = memslots_apply2(vmm.ms, batch, 2, &failed);
		CHECK(ret == -EINVAL && failed == 1 && !vmm.out_of_sync && tables_agree(&vmm));
	}

	/* [munmap] */
	/* A DELETE returns after its grace periods: no reader holds the slot
	 * or an hva from it any more, so its memory may go. */
	ret = memslots_set_region2(vmm.ms, &(struct memslots_region2){.slot = id1});
	if (ret == 0)
		munmap(ram1, RAM_SIZE);
	/* [/munmap] */
	CHECK(ret == 0 && tables_agree(&vmm));

	printf("vmm_pattern: %lu KVM requests in all; KVM and the library agree: %s\n",
	       vmm.kvm.ioctls, tables_agree(&vmm) ? "yes" : "no");
	memslots_reader_unregister(vmm.ms);
	memslots_free(vmm.ms);
	munmap(ram0, RAM_SIZE);
	munmap(dev, PAGE_SIZE);
	printf("vmm_pattern: %s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
