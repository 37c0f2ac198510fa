/* SPDX-License-Identifier: MIT */
/*
 * The checks of a writer call's requests (KVM's check_memory_region_flags()
 * and the checks of __kvm_set_memory_region()), rules in KVM's order, the
 * same path for v1 and v2 requests, and the classification of a valid one
 * against the staged state, guest_memfd binding included.  docs/design.md
 * maps each function to its KVM counterpart.
 *
 * Locking: every function runs in a writer call, under ms->lock.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "request.h"
#include "slot.h"

/* ---- reading the requests ------------------------------------------------------ */

static bool ms_requests_are_v1(const struct ms_requests *reqs)
{
	return reqs->size == sizeof(struct memslots_region);
}

/*
 * Request @i of @reqs as a v2 request; a v1 one gets zero extra fields.
 * Field by field, not a memcpy of a size known only at run time: that
 * was a library call per request and a quarter of the instructions of
 * the request checks in a big batch.  pad1 and pad2 are not read.
 */
static void ms_request_read(const struct ms_requests *reqs, size_t i, struct memslots_region2 *r)
{
	if (ms_requests_are_v1(reqs)) {
		const struct memslots_region *v1 = (const struct memslots_region *)reqs->base + i;

		r->slot = v1->slot;
		r->flags = v1->flags;
		r->guest_phys_addr = v1->guest_phys_addr;
		r->memory_size = v1->memory_size;
		r->userspace_addr = v1->userspace_addr;
		r->guest_memfd_offset = 0;
		r->guest_memfd = 0;
	} else {
		const struct memslots_region2 *v2 = (const struct memslots_region2 *)reqs->base + i;

		r->slot = v2->slot;
		r->flags = v2->flags;
		r->guest_phys_addr = v2->guest_phys_addr;
		r->memory_size = v2->memory_size;
		r->userspace_addr = v2->userspace_addr;
		r->guest_memfd_offset = v2->guest_memfd_offset;
		r->guest_memfd = v2->guest_memfd;
	}
}

/* ---- request checks (contract rules 1 to 3) ------------------------------------ */

/*
 * Rule 1: the flags the config allows (through a v1 call, never
 * GUEST_MEMFD), and GUEST_MEMFD alone.  KVM's check_memory_region_flags()
 * and the v1 ioctl's flag check; deletes too.
 */
static int ms_check_flags(const struct memslots *ms, uint32_t flags, bool v1)
{
	uint32_t allowed = v1 ? ms->allowed_flags & ~MS_GMEM : ms->allowed_flags;

	if (flags & ~allowed)
		return -EINVAL;
	if ((flags & MS_GMEM) && (flags & MS_GMEM_EXCLUDES))
		return -EINVAL;
	return 0;
}

/* Rules 1 to 3: 0 and *@req filled, or -EINVAL. */
static int ms_check_request(const struct memslots *ms, const struct memslots_region2 *r, bool v1,
			    struct ms_req *req)
{
	uint64_t page_mask = ((uint64_t)1 << ms->page_shift) - 1;
	uint64_t size = r->memory_size, hva = r->userspace_addr, gpa = r->guest_phys_addr;
	uint64_t off = r->guest_memfd_offset;
	bool gmem = r->flags & MS_GMEM;
	int err;

	err = ms_check_flags(ms, r->flags, v1);
	if (err)
		return err;
	/* 2: alignment, the host range, the guest_memfd range, the address
	 * space and the id. */
	if ((size & page_mask) || (gpa & page_mask) || (hva & page_mask))
		return -EINVAL;
	if (hva + size < hva)
		return -EINVAL;
	if (ms->hva_limit && (size > ms->hva_limit || hva > ms->hva_limit - size))
		return -EINVAL;
	if (gmem && ((off & page_mask) || off + size < off))
		return -EINVAL;
	if ((r->slot >> 16) != ms->as_id || (r->slot & 0xffff) >= ms->max_slots)
		return -EINVAL;
	/* 3: the guest range. */
	if (gpa + size < gpa)
		return -EINVAL;
	if ((size >> ms->page_shift) > MEMSLOTS_MAX_NR_PAGES)
		return -EINVAL;

	req->id = (uint16_t)(r->slot & 0xffff);
	req->flags = r->flags;
	req->base_gfn = gpa >> ms->page_shift;
	req->npages = size >> ms->page_shift;
	req->hva = hva;
	req->gmem_offset = gmem ? off : 0;
	req->gmem_fd = gmem ? r->guest_memfd : 0;
	return 0;
}

/*
 * Rule 7: whether a new GUEST_MEMFD slot would bind bytes of its
 * guest_memfd that another slot binds (KVM's kvm_gmem_bind()).  The index
 * holds the staged state: a slot deleted earlier in the call is out.
 */
static bool ms_gmem_taken(const struct memslots *ms, const struct ms_req *req)
{
	uint64_t size = req->npages << ms->page_shift;

	return (req->flags & MS_GMEM) &&
	       ms_gmem_intersects(&ms->gmem, req->gmem_fd, req->gmem_offset,
				  req->gmem_offset + size - 1);
}

/* Rules 4 to 7: what the request does to the (evolving) state; 1: nothing. */
static int ms_classify(struct ms_call *call, const struct ms_req *req, struct ms_change *c)
{
	struct memslots_set *set = call->inactive;
	struct ms_slot *old = ms_set_find_id(set, req->id);

	c->old = old;
	c->new = c->invalid = NULL;
	if (!req->npages) {
		if (!old)
			return -EINVAL;
		c->type = MEMSLOTS_DELETE;
		return 0;
	}
	if (!old) {
		if (ms_set_overlaps(set, req->base_gfn, req->npages, NULL))
			return -EEXIST;
		if (ms_gmem_taken(call->ms, req))
			return -EINVAL;
		c->type = MEMSLOTS_CREATE;
		return 0;
	}
	/* A guest_memfd slot can only be deleted; nothing gains or loses
	 * READONLY or GUEST_MEMFD. */
	if ((req->flags & MS_GMEM) || ((req->flags ^ old->pub.flags) & MS_IMMUTABLE_FLAGS))
		return -EINVAL;
	if (req->hva != old->pub.userspace_addr || req->npages != old->pub.npages)
		return -EINVAL;
	if (req->base_gfn != old->pub.base_gfn) {
		if (ms_set_overlaps(set, req->base_gfn, req->npages, old))
			return -EEXIST;
		c->type = MEMSLOTS_MOVE;
		return 0;
	}
	if (req->flags != old->pub.flags) {
		c->type = MEMSLOTS_FLAGS_ONLY;
		return 0;
	}
	return 1;
}

/* ---- one request of a call ----------------------------------------------------- */

/*
 * Whether an earlier request of the call named @id; marks it.  A batch
 * names an id at most once, so that every change's old slot is one of the
 * published state and replaying the changes in order on the other set
 * reaches the same final state.  A call of one request has no bitmap.
 */
static bool ms_request_named_before(struct ms_call *call, uint16_t id)
{
	uint64_t bit = (uint64_t)1 << (id % 64);
	bool seen;

	if (!call->named)
		return false;
	seen = call->named[id / 64] & bit;
	call->named[id / 64] |= bit;
	return seen;
}

/* The id a request names, whatever its form: the slot field leads both. */
static uint16_t ms_request_id(const struct ms_requests *reqs, size_t index)
{
	const uint32_t *slot = (const void *)((const char *)reqs->base + index * reqs->size);

	return (uint16_t)(*slot & 0xffff);
}

void ms_request_prefetch_id(const struct ms_call *call, const struct ms_requests *reqs,
			    size_t index)
{
	ms_set_prefetch_id(call->inactive, ms_request_id(reqs, index));
}

void ms_request_prefetch(const struct ms_call *call, const struct ms_requests *reqs, size_t index)
{
	const struct ms_slot *old = ms_set_find_id(call->inactive, ms_request_id(reqs, index));

	if (old)
		ms_prefetch(&old->pub, 0);
}

int ms_request_classify(struct ms_call *call, const struct ms_requests *reqs, size_t index,
			struct ms_req *req, struct ms_change *c)
{
	struct memslots_region2 r;
	int err;

	ms_request_read(reqs, index, &r);
	err = ms_check_request(call->ms, &r, ms_requests_are_v1(reqs), req);
	if (err)
		return err;
	if (ms_request_named_before(call, req->id))
		return -EINVAL;
	return ms_classify(call, req, c);
}
