/* SPDX-License-Identifier: MIT */
#include "set.h"

#include <errno.h>

#include "interval_tree.h"

int ms_set_init(struct memslots_set *set, unsigned int idx, unsigned int page_shift,
		const struct ms_alloc *alloc)
{
	set->gfn_tree = MS_RB_ROOT_CACHED;
	set->hva_tree = MS_RB_ROOT_CACHED;
	set->generation = 0;
	set->nr_pages = 0;
	set->count = 0;
	set->idx = idx;
	set->page_shift = page_shift;
	atomic_init(&set->last_used, NULL);
	return ms_hash_init(&set->id_hash, alloc);
}

void ms_set_destroy(struct memslots_set *set)
{
	ms_hash_destroy(&set->id_hash);
}

struct ms_slot *ms_set_slot_of_gfn_node(const struct memslots_set *set,
					const struct ms_rb_node *node)
{
	return node ? ms_slot_from_gfn(node, set->idx) : NULL;
}

static void ms_gfn_tree_insert(struct memslots_set *set, struct ms_slot *slot)
{
	struct ms_gfn_node *gn = ms_slot_gfn(slot, set->idx);
	struct ms_rb_node **link = &set->gfn_tree.root.node, *parent = NULL;
	bool leftmost = true;

	gn->base_gfn = slot->pub.base_gfn;
	gn->npages = slot->pub.npages;
	while (*link) {
		const struct ms_gfn_node *cur = ms_container_of(*link, struct ms_gfn_node, rb);

		parent = *link;
		if (gn->base_gfn < cur->base_gfn) {
			link = &parent->left;
		} else {
			link = &parent->right;
			leftmost = false;
		}
	}
	ms_rb_link_node(&gn->rb, parent, link);
	ms_rb_insert_color_cached(&gn->rb, &set->gfn_tree, leftmost);
}

static uint64_t ms_slot_hva_last(const struct ms_slot *slot, unsigned int page_shift)
{
	return slot->pub.userspace_addr + (slot->pub.npages << page_shift) - 1;
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
	struct ms_itree_node *hn = &slot->hva_node[set->idx];

	ms_gfn_tree_insert(set, slot);
	hn->start = slot->pub.userspace_addr;
	hn->last = ms_slot_hva_last(slot, set->page_shift);
	ms_itree_insert(hn, &set->hva_tree);
	ms_hash_add(&set->id_hash, ms_slot_id(slot, set->idx), slot->pub.id);
	set->count++;
	set->nr_pages += slot->pub.npages;
}

void ms_set_remove(struct memslots_set *set, struct ms_slot *slot)
{
	ms_set_drop_last_used(set, slot);
	ms_rb_erase_cached(&ms_slot_gfn(slot, set->idx)->rb, &set->gfn_tree);
	ms_itree_remove(&slot->hva_node[set->idx], &set->hva_tree);
	ms_hash_del(&set->id_hash, ms_slot_id(slot, set->idx));
	set->count--;
	set->nr_pages -= slot->pub.npages;
}

void ms_set_replace(struct memslots_set *set, struct ms_slot *old, struct ms_slot *new)
{
	unsigned int i = set->idx;

	ms_set_drop_last_used(set, old);
	ms_slot_gfn(new, i)->base_gfn = ms_slot_gfn(old, i)->base_gfn;
	ms_slot_gfn(new, i)->npages = ms_slot_gfn(old, i)->npages;
	ms_rb_replace_node_cached(&ms_slot_gfn(old, i)->rb, &ms_slot_gfn(new, i)->rb,
				  &set->gfn_tree);
	new->hva_node[i].start = old->hva_node[i].start;
	new->hva_node[i].last = old->hva_node[i].last;
	ms_itree_replace(&old->hva_node[i], &new->hva_node[i], &set->hva_tree);
	ms_hash_replace(&set->id_hash, ms_slot_id(old, i), ms_slot_id(new, i));
}

bool ms_set_overlaps(const struct memslots_set *set, uint64_t gfn, uint64_t npages,
		     const struct ms_slot *ignore)
{
	struct ms_slot *below;
	struct ms_rb_node *prev;

	/*
	 * Slots never overlap each other, so only the slot with the largest
	 * base_gfn below the range's end can reach into it, or, when that one
	 * is @ignore, the slot just before it.
	 */
	ms_set_search(set, gfn + npages - 1, &below, NULL);
	if (below && below == ignore) {
		prev = ms_rb_prev(&ms_slot_gfn(below, set->idx)->rb);
		below = prev ? ms_slot_from_gfn(prev, set->idx) : NULL;
	}
	return below && ms_slot_end(below) > gfn;
}
