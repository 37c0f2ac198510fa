/* SPDX-License-Identifier: MIT */
/*
 * The example VMM's guest memory: KVM's memslots kept by libmemslots.
 * See slots.c for how the library's hooks keep the two tables in step.
 *
 * Locking: the writer calls (set_region, memslots_apply,
 * memslots_set_attributes) are serialized by the library, which runs the
 * hooks under its writer lock; the lookups
 * (gpa_to_host, gpa_in_slot, host_to_gpa, lib_state) take a read-side
 * section of their own and may run on any registered reader thread.
 */
#ifndef VMM_SLOTS_H
#define VMM_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "kvm.h"

struct vm {
	struct kvm_vm kvm; /* counts the slot and attribute ioctls */
	struct memslots *ms;

	/* Bookkeeping done by the hooks. */
	unsigned long prepares_ok;
	unsigned long aborts;
	unsigned long commits;
	unsigned long abort_failures; /* an undo the kernel refused: out of sync */
	size_t nr_slots;	      /* kept by commit: must equal memslots_count() */
	uint64_t nr_pages;	      /* kept by commit: must equal memslots_nr_pages() */

	/* The requests the set_attributes hook let through (and issued to
	 * KVM when attributes_in_kvm()), in order; the first 16 are kept. */
	struct memslots_attributes attr_calls[16];
	unsigned long nr_attr_calls;
};

/*
 * Opens KVM (kvm_vm_open(), @private_mem as there) and a library object
 * on @index (MEMSLOTS_INDEX_*) whose hooks drive it; the calling thread is
 * registered as a reader.  @dirty_log is the config's (0 or
 * MEMSLOTS_DIRTY_BITMAP, optionally | MEMSLOTS_DIRTY_INITIALLY_SET): with
 * it every slot that logs dirty pages carries the library's bitmap, the
 * union of KVM's log (merged by the VMM, dirtylog.h) and of what the
 * VMM's devices wrote.  Returns 0, 77 (no usable KVM) or 1.
 */
int vm_open(struct vm *vm, bool private_mem, uint32_t index, uint32_t dirty_log);

/* The --index option of both programs: "kvm" or "btree" into *@index;
 * -1 for any other name. */
int vm_parse_index(const char *name, uint32_t *index);

/* Whether the set_attributes hook issues KVM_SET_MEMORY_ATTRIBUTES: KVM
 * offers the private attribute for this VM (KVM_CAP_MEMORY_ATTRIBUTES). */
bool attributes_in_kvm(const struct vm *vm);

/* KVM_SET_MEMORY_ATTRIBUTES for the library's request @a (same layout);
 * returns 0 or -errno. */
int kvm_issue_attributes(struct vm *vm, const struct memslots_attributes *a);

/* memslots_free() (release hands back the slots' data), then KVM's fds. */
void vm_close(struct vm *vm);

/* A v1 request of the VMM's own (bytes, as KVM takes them), and
 * memslots_set_region() of one. */
struct memslots_region region(uint16_t id, uint32_t flags, uint64_t gpa, uint64_t size,
			      const void *hva);
int set_region(struct vm *vm, uint16_t id, uint32_t flags, uint64_t gpa, uint64_t size,
	       const void *hva);
/* The request that deletes slot @id, and memslots_set_region() of it. */
struct memslots_region deletion(uint16_t id);
int delete_slot(struct vm *vm, uint16_t id);

/*
 * Creates a slot with the lowest free id, which the library picks under
 * its writer lock (memslots_create_region2()), into *@id.  Returns 0 or
 * -errno (-ENOSPC: every id of KVM's is in use).
 */
int create_slot(struct vm *vm, uint32_t flags, uint64_t gpa, uint64_t size, const void *hva,
		uint16_t *id);
/*
 * The @n lowest free ids, ascending (memslots_lowest_free_id()), for a
 * batch that creates several slots at once.  Returns 0 or -ENOSPC.  Only
 * the writer's thread creates slots here, so they stay free until it does.
 */
int pick_free_ids(struct vm *vm, uint16_t *ids, size_t n);

/* Host address of @gpa, as the library maps it (memslots_gpa_to_hva()), or NULL. */
void *gpa_to_host(struct vm *vm, uint64_t gpa);
/* Whether a valid slot holds @gpa (outside a writer call every slot is). */
bool gpa_in_slot(struct vm *vm, uint64_t gpa);

#define GPA_NONE (~0ull)
/* The guest-physical address at which the guest sees host byte @host
 * (memslots_hva_to_gpa()), or GPA_NONE when no valid slot maps it. */
uint64_t host_to_gpa(struct vm *vm, const void *host);

struct lib_state {
	uint64_t generation;
	size_t count;
	uint64_t nr_pages;
};

struct lib_state lib_state(struct vm *vm);

#endif /* VMM_SLOTS_H */
