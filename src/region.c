/* SPDX-License-Identifier: MIT */
/*
 * The KVM request of a hook: from the (old, new, change) a prepare or an
 * abort hook gets, the struct kvm_userspace_memory_region2 (or the v1
 * struct) that takes KVM's memslot table through the same step, or back.
 * A VMM that mirrors the library into KVM from its hooks then never
 * converts slots itself (examples/vmm/common/slots.c issues what these
 * build).
 *
 * Locking: none.  Only the slots given and the configuration of the
 * object (fixed at memslots_new) are read, so any hook or reader may call
 * these.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <memslots/memslots.h>

#include "engine.h"

/* The flags KVM_SET_USER_MEMORY_REGION2 and ..._REGION know. */
#define MS_KVM_FLAGS_V2 (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY | MEMSLOT_GUEST_MEMFD)
#define MS_KVM_FLAGS_V1 (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)

/* What the published INVALID copy adds is not a difference between slots. */
static uint32_t ms_region_flags(const struct memslot *s)
{
	return s->flags & ~MEMSLOT_INVALID;
}

static bool ms_same_host_range(const struct memslot *a, const struct memslot *b)
{
	return a->id == b->id && a->npages == b->npages && a->userspace_addr == b->userspace_addr;
}

/*
 * Whether @old and @new can be the slots of a @change, as the library
 * passes them to prepare, abort and commit.  The library's own calls
 * always pass; this catches a VMM passing the wrong pair or kind.
 */
static bool ms_change_fits(const struct memslot *old, const struct memslot *new,
			   enum memslots_change change)
{
	switch (change) {
	case MEMSLOTS_CREATE:
		return !old && new;
	case MEMSLOTS_DELETE:
		return old && !new;
	case MEMSLOTS_MOVE:
		return old && new &&ms_same_host_range(old, new) && old->base_gfn != new->base_gfn;
	case MEMSLOTS_FLAGS_ONLY:
		return old && new &&ms_same_host_range(old, new) &&
		       old->base_gfn == new->base_gfn &&ms_region_flags(old) !=
			       ms_region_flags(new);
	default:
		return false;
	}
}

/*
 * Fills @r with the request that makes KVM's slot @id look like @install,
 * or deletes it when @install is NULL.  0, or -EINVAL with @r untouched
 * when the slot cannot be expressed: an id past max_slots, no pages, a gpa
 * range past 2^64, or GUEST_MEMFD for the v1 ioctl (@known without it).
 */
static int ms_region_fill(const struct memslots *ms, uint16_t id, const struct memslot *install,
			  uint32_t known, struct memslots_region2 *r)
{
	uint64_t gfn_limit = UINT64_MAX >> ms->page_shift;
	struct memslots_region2 out;

	if (id >= ms->max_slots)
		return -EINVAL;
	memset(&out, 0, sizeof(out));
	out.slot = ((uint32_t)ms->as_id << 16) | id;
	if (install) {
		if (!install->npages || install->npages > MEMSLOTS_MAX_NR_PAGES ||
		    install->base_gfn > gfn_limit - install->npages)
			return -EINVAL;
		if ((install->flags & MEMSLOT_GUEST_MEMFD) && !(known & MEMSLOT_GUEST_MEMFD))
			return -EINVAL;
		out.flags = install->flags & known;
		out.guest_phys_addr = install->base_gfn << ms->page_shift;
		out.memory_size = install->npages << ms->page_shift;
		out.userspace_addr = install->userspace_addr;
		if (out.flags & MEMSLOT_GUEST_MEMFD) {
			out.guest_memfd_offset = install->guest_memfd_offset;
			out.guest_memfd = install->guest_memfd;
		}
	}
	*r = out;
	return 0;
}

/* The step of @change (@undo: its inverse) as a request, into @r. */
static int ms_region_build(const struct memslots *ms, const struct memslot *old,
			   const struct memslot *new, enum memslots_change change, bool undo,
			   uint32_t known, struct memslots_region2 *r)
{
	const struct memslot *install;

	if (!ms || !r || !ms_change_fits(old, new, change))
		return -EINVAL;
	if (undo)
		/* A CREATE is undone by deleting the new slot, the rest by
		 * installing the old one again. */
		install = change == MEMSLOTS_CREATE ? NULL : old;
	else
		install = change == MEMSLOTS_DELETE ? NULL : new;
	return ms_region_fill(ms, (old ? old : new)->id, install, known, r);
}

/* The v1 request is the first five fields of the v2 one. */
static int ms_region_build_v1(const struct memslots *ms, const struct memslot *old,
			      const struct memslot *new, enum memslots_change change, bool undo,
			      struct memslots_region *r)
{
	struct memslots_region2 r2;
	int err;

	if (!r)
		return -EINVAL;
	err = ms_region_build(ms, old, new, change, undo, MS_KVM_FLAGS_V1, &r2);
	if (err)
		return err;
	r->slot = r2.slot;
	r->flags = r2.flags;
	r->guest_phys_addr = r2.guest_phys_addr;
	r->memory_size = r2.memory_size;
	r->userspace_addr = r2.userspace_addr;
	return 0;
}

MEMSLOTS_API int memslots_change_to_region2(const struct memslots *ms,
					    const struct memslot *old_slot,
					    const struct memslot *new_slot,
					    enum memslots_change change, struct memslots_region2 *r)
{
	return ms_region_build(ms, old_slot, new_slot, change, false, MS_KVM_FLAGS_V2, r);
}

MEMSLOTS_API int memslots_change_to_region(const struct memslots *ms,
					   const struct memslot *old_slot,
					   const struct memslot *new_slot,
					   enum memslots_change change, struct memslots_region *r)
{
	return ms_region_build_v1(ms, old_slot, new_slot, change, false, r);
}

MEMSLOTS_API int memslots_abort_to_region2(const struct memslots *ms,
					   const struct memslot *old_slot,
					   const struct memslot *new_slot,
					   enum memslots_change change, struct memslots_region2 *r)
{
	return ms_region_build(ms, old_slot, new_slot, change, true, MS_KVM_FLAGS_V2, r);
}

MEMSLOTS_API int memslots_abort_to_region(const struct memslots *ms, const struct memslot *old_slot,
					  const struct memslot *new_slot,
					  enum memslots_change change, struct memslots_region *r)
{
	return ms_region_build_v1(ms, old_slot, new_slot, change, true, r);
}
