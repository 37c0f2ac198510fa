/* SPDX-License-Identifier: MIT */
#include "set.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>

#include "interval_tree.h"

/* The stamps handed out so far, to every set of the process. */
static _Atomic uint64_t ms_set_stamps;

void ms_set_stamp(struct memslots_set *set)
{
	set->stamp = atomic_fetch_add_explicit(&ms_set_stamps, 1, memory_order_relaxed) + 1;
}

int ms_set_init(struct memslots_set *set, unsigned int idx, unsigned int page_shift, bool kvm,
		const struct ms_alloc *alloc)
{
	set->kvm = kvm;
	set->kvm_index = NULL;
	if (kvm) {
		set->kvm_index = ms_calloc(alloc, 1, sizeof(*set->kvm_index));
		if (!set->kvm_index)
			return -ENOMEM;
		ms_kvm_index_init(set->kvm_index, idx);
	}
	ms_set_stamp(set);
	ms_btree_init(&set->gfn_tree, alloc);
	set->hva_tree = MS_RB_ROOT_CACHED;
	set->generation = 0;
	set->nr_pages = 0;
	set->count = 0;
	set->idx = idx;
	set->page_shift = page_shift;
	atomic_init(&set->last_used, NULL);
	ms_attrmap_init(&set->attrs, alloc);
	ms_idtab_init(&set->ids, alloc);
	return 0;
}

void ms_set_destroy(struct memslots_set *set)
{
	ms_attrmap_destroy(&set->attrs);
	ms_free(set->gfn_tree.alloc, set->kvm_index);
	set->kvm_index = NULL;
	ms_btree_destroy(&set->gfn_tree);
	ms_idtab_destroy(&set->ids);
}

/*
 * The caller reserved the nodes (ms_set_reserve_inserts) and checked that
 * the range is free, so this cannot fail; a failure here is a bug in the
 * caller's reserve accounting, which the debug build's checks report.
 */
static void ms_set_btree_insert(struct memslots_set *set, struct ms_slot *slot)
{
	int err = ms_btree_insert(&set->gfn_tree, slot->pub.base_gfn, ms_slot_end(slot), slot);

	assert(!err);
	(void)err;
}

/* A reader may have cached @slot as last used; only ever called on an
 * inactive set, so no reader can race with this store. */
static void ms_set_drop_last_used(struct memslots_set *set, const struct ms_slot *slot)
{
	if (atomic_load_explicit(&set->last_used, memory_order_relaxed) == slot)
		atomic_store_explicit(&set->last_used, NULL, memory_order_relaxed);
}

void ms_set_forget_last_used(struct memslots_set *set)
{
	atomic_store_explicit(&set->last_used, NULL, memory_order_relaxed);
}

void ms_set_insert(struct memslots_set *set, struct ms_slot *slot)
{
	if (ms_unlikely(set->kvm)) {
		ms_kvm_index_insert(set->kvm_index, slot);
	} else {
		ms_set_btree_insert(set, slot);
		ms_idtab_insert(&set->ids, slot->pub.id, slot);
	}
	ms_itree_insert(slot, set->idx, &set->hva_tree);
	set->count++;
	set->nr_pages += slot->pub.npages;
}

void ms_set_remove(struct memslots_set *set, struct ms_slot *slot)
{
	ms_set_drop_last_used(set, slot);
	if (ms_unlikely(set->kvm)) {
		ms_kvm_index_remove(set->kvm_index, slot);
	} else {
		ms_btree_remove(&set->gfn_tree, slot->pub.base_gfn, NULL);
		ms_idtab_remove(&set->ids, slot->pub.id);
	}
	ms_itree_remove(slot, set->idx, &set->hva_tree);
	set->count--;
	set->nr_pages -= slot->pub.npages;
}

void ms_set_replace(struct memslots_set *set, struct ms_slot *old, struct ms_slot *new)
{
	ms_set_drop_last_used(set, old);
	if (ms_unlikely(set->kvm)) {
		ms_kvm_index_replace(set->kvm_index, old, new);
	} else {
		ms_btree_replace(&set->gfn_tree, old->pub.base_gfn, new);
		ms_idtab_replace(&set->ids, old->pub.id, new);
	}
	ms_itree_replace(old, new, set->idx, &set->hva_tree);
}

bool ms_set_overlaps(const struct memslots_set *set, uint64_t gfn, uint64_t npages,
		     const struct ms_slot *ignore)
{
	if (ms_unlikely(set->kvm))
		return ms_kvm_index_overlaps(set->kvm_index, gfn, gfn + npages, ignore);
	return ms_btree_overlaps(&set->gfn_tree, gfn, gfn + npages, ignore);
}

int ms_set_lowest_free_id(const struct memslots_set *set, unsigned int first, unsigned int last)
{
	if (ms_unlikely(set->kvm))
		return ms_kvm_index_lowest_free(set->kvm_index, first, last);
	return ms_idtab_lowest_free(&set->ids, first, last);
}

/* KVM's index keeps its nodes in the slots: it has nothing to put aside. */
int ms_set_reserve_inserts(struct memslots_set *set, size_t nr_inserts)
{
	if (ms_unlikely(set->kvm))
		return 0;
	return ms_btree_reserve(&set->gfn_tree, nr_inserts);
}

int ms_set_reserve_id(struct memslots_set *set, uint16_t id)
{
	if (ms_unlikely(set->kvm))
		return 0;
	return ms_idtab_reserve(&set->ids, id);
}

void ms_set_mark(const struct memslots_set *set, struct ms_set_mark *mark)
{
	mark->nodes = set->gfn_tree.nr_nodes + set->gfn_tree.pool_count;
}

void ms_set_settle(struct memslots_set *set, const struct ms_set_mark *found)
{
	size_t in_tree = set->gfn_tree.nr_nodes, keep;

	if (found)
		keep = found->nodes > in_tree ? found->nodes - in_tree : 0;
	else
		keep = ms_btree_insert_nodes(&set->gfn_tree, 1);
	ms_btree_settle(&set->gfn_tree, keep);
	ms_idtab_settle(&set->ids, found != NULL);
}

/* The slots only: the tree's nodes go with ms_set_destroy(). */
void ms_set_free_slots(struct memslots_set *set, const struct ms_alloc *alloc)
{
	struct ms_btree_cursor c;

	if (set->kvm)
		ms_kvm_index_free_slots(set->kvm_index, alloc);
	for (ms_btree_first(&set->gfn_tree, &c); ms_btree_cursor_valid(&c);
	     ms_btree_cursor_next(&c))
		ms_slot_free(alloc, ms_btree_cursor_val(&c));
	set->hva_tree = MS_RB_ROOT_CACHED;
	set->count = 0;
	set->nr_pages = 0;
}
