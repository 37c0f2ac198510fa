/* SPDX-License-Identifier: MIT */
/*
 * The body of a memslots_set_attributes() call, between ms_call_begin()
 * and ms_call_end() (call.c), under ms->lock, in the steps of KVM's
 * kvm_vm_ioctl_set_mem_attributes() and kvm_vm_set_mem_attributes():
 *
 *  1. check the request, in KVM's order (ms_attr_check);
 *  2. find out whether it changes anything, and if so reserve every node
 *     both sets' maps will need (KVM's kvm_range_has_memory_attributes()
 *     and xa_reserve(); here one ms_attrmap_reserve() for two maps, into
 *     the call's pool);
 *     nothing to change: return 0, no hook, no publication;
 *  3. the set_attributes hook (where the embedder issues
 *     KVM_SET_MEMORY_ATTRIBUTES; KVM's kvm_arch_pre_set_memory_attributes()
 *     stands here), which may still refuse;
 *  4. change the inactive set's map, publish that set, and once readers
 *     have left the other set make the same change to its map, as update.c
 *     does with slots (ms_call_publish);
 *  5. ms_call_end() settles the pool: frees what the two changes removed.
 *
 * Steps 1 to 3 change nothing, so a failure there leaves the state as it
 * was; steps 4 and 5 cannot fail.
 */
#include <errno.h>
#include <stdint.h>

#include "attrmap.h"
#include "engine.h"
#include "hooks.h"
#include "set.h"

/* A request, once checked: the inclusive gfn range and the word. */
struct ms_attr_req {
	uint64_t start;
	uint64_t last;
	uint64_t attrs;
};

/* KVM's checks, in its order: flags, attribute bits, size, wrap, alignment. */
static int ms_attr_check(const struct memslots *ms, const struct memslots_attributes *a,
			 struct ms_attr_req *req)
{
	uint64_t page_mask = ((uint64_t)1 << ms->page_shift) - 1;

	if (a->flags)
		return -EINVAL;
	if (a->attributes & ~ms->supported_attributes)
		return -EINVAL;
	/* A sum of exactly 2^64 is 0 in 64 bits, below address: refused, as by KVM. */
	if (!a->size || a->address + a->size < a->address)
		return -EINVAL;
	if ((a->address & page_mask) || (a->size & page_mask))
		return -EINVAL;
	req->start = a->address >> ms->page_shift;
	req->last = req->start + (a->size >> ms->page_shift) - 1;
	req->attrs = a->attributes;
	return 0;
}

/*
 * Step 4: the inactive map first, where no reader looks; then,
 * after the publication and its grace period, the map of the set readers
 * just left.  Both maps held the same runs, so the plan made on the first
 * fits the second, and the pool holds nodes for both.
 */
static void ms_attr_publish(struct ms_call *call, const struct ms_attrmap_plan *plan)
{
	ms_attrmap_set(&call->inactive->attrs, plan, &call->attr_pool);
	ms_call_publish(call);
	ms_attrmap_set(&call->inactive->attrs, plan, &call->attr_pool);
}

int ms_set_attributes(struct ms_call *call, const struct memslots_attributes *a)
{
	struct memslots *ms = call->ms;
	struct ms_attrmap_plan plan;
	struct ms_attr_req req;
	int err;

	err = ms_attr_check(ms, a, &req);
	if (err)
		return err;
	err = ms_attrmap_reserve(&call->inactive->attrs, req.start, req.last, req.attrs, 2,
				 &call->attr_pool, &plan);
	if (err || !plan.changes)
		return err;
	err = ms_hook_set_attributes(ms, a);
	if (!err)
		ms_attr_publish(call, &plan);
	return err;
}
