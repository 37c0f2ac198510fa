/* SPDX-License-Identifier: MIT */
/*
 * A writer call's requests: reading them (v1 or v2), checking each against
 * the contract's rules in KVM's order, and classifying what it does to the
 * staged state (request.c).  update.c stages, publishes and commits what
 * ms_request_classify() accepts.
 *
 * Locking: all of it runs in a writer call, under ms->lock.
 */
#ifndef MEMSLOTS_REQUEST_H
#define MEMSLOTS_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define MS_GMEM		 MEMSLOT_GUEST_MEMFD
#define MS_GMEM_EXCLUDES (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)
/* What a request may not change on an existing slot. */
#define MS_IMMUTABLE_FLAGS (MEMSLOT_READONLY | MEMSLOT_GUEST_MEMFD)

/* A request's fields, once checked and converted to pages. */
struct ms_req {
	uint16_t id;
	uint32_t flags;
	uint64_t base_gfn;
	uint64_t npages;
	uint64_t hva;
	uint64_t gmem_offset; /* with GUEST_MEMFD only, else 0 */
	uint32_t gmem_fd;     /* with GUEST_MEMFD only, else 0 */
};

/*
 * Reads request @index of @reqs (v1 or v2) and applies the contract's
 * rules to it in KVM's order: rules 1 to 3 on the request alone (KVM's
 * check_memory_region_flags() and __kvm_set_memory_region()'s checks),
 * an id named at most once per call, then rules 4 to 7 against the staged
 * state of call->inactive and the binding index, which classify it.
 * Returns 0 with *@req filled and c->type, c->old set; 1 for a request
 * that changes nothing; or a negative errno.  Under ms->lock.
 */
int ms_request_classify(struct ms_call *call, const struct ms_requests *reqs, size_t index,
			struct ms_req *req, struct ms_change *c);

/*
 * Starts loading the slot that request @index of @reqs names in the
 * staged set, if any, which ms_request_classify() reads a few requests
 * later: in a
 * batch over every slot (dirty logging switched on for all), each old slot
 * is an object of its own, far from the last.  Reads only the request's
 * slot field; any value is harmless.  Under ms->lock.
 */
void ms_request_prefetch(const struct ms_call *call, const struct ms_requests *reqs, size_t index);
/* The step before: starts loading the id table bucket where the lookup
 * of that slot begins (for ids in random order, the table misses too). */
void ms_request_prefetch_id(const struct ms_call *call, const struct ms_requests *reqs,
			    size_t index);

#endif /* MEMSLOTS_REQUEST_H */
