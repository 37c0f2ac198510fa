/* SPDX-License-Identifier: MIT */
#include "set.h"

#include <errno.h>
#include <stdint.h>

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
	ms_attrmap_init(&set->attrs, alloc);
	return ms_hash_init(&set->id_hash, alloc);
}

void ms_set_destroy(struct memslots_set *set)
{
	ms_attrmap_destroy(&set->attrs);
	ms_hash_destroy(&set->id_hash);
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

int ms_set_reserve(struct memslots_set *set, size_t count)
{
	return ms_hash_reserve(&set->id_hash, count);
}

int ms_set_plan_growth(const struct memslots_set *set, size_t count, struct ms_set_growth *g)
{
	return ms_hash_plan_growth(&set->id_hash, count, &g->id_hash);
}

void ms_set_commit_growth(struct memslots_set *set, struct ms_set_growth *g)
{
	ms_hash_commit_resize(&set->id_hash, &g->id_hash);
}

void ms_set_cancel_growth(const struct memslots_set *set, struct ms_set_growth *g)
{
	ms_hash_cancel_resize(&set->id_hash, &g->id_hash);
}

void ms_set_settle(struct memslots_set *set)
{
	ms_set_forget_last_used(set);
	ms_hash_shrink(&set->id_hash);
}

/* Post-order, so no node is read after its slot is freed; the depth of a
 * red-black tree of at most 65536 slots is at most 34. */
static void ms_set_free_subtree(struct memslots_set *set, struct ms_rb_node *n,
				const struct ms_alloc *alloc)
{
	if (!n)
		return;
	ms_set_free_subtree(set, n->left, alloc);
	ms_set_free_subtree(set, n->right, alloc);
	ms_slot_free(alloc, ms_slot_from_gfn(n, set->idx));
}

void ms_set_free_slots(struct memslots_set *set, const struct ms_alloc *alloc)
{
	ms_set_free_subtree(set, set->gfn_tree.root.node, alloc);
	set->gfn_tree = MS_RB_ROOT_CACHED;
	set->hva_tree = MS_RB_ROOT_CACHED;
	set->count = 0;
	set->nr_pages = 0;
}

/* ---- validation -------------------------------------------------------------- */

static int ms_gfn_node_cmp(const struct ms_rb_node *a, const struct ms_rb_node *b)
{
	const struct ms_gfn_node *x = ms_container_of(a, struct ms_gfn_node, rb);
	const struct ms_gfn_node *y = ms_container_of(b, struct ms_gfn_node, rb);

	return x->base_gfn > y->base_gfn;
}

static int ms_set_fail(const char **reason, const char *what)
{
	if (reason)
		*reason = what;
	return -EINVAL;
}

/* One slot reached through the gfn tree: its keys in every structure. */
static const char *ms_set_check_slot(const struct memslots_set *set, struct ms_slot *slot)
{
	const struct ms_gfn_node *g = ms_slot_gfn(slot, set->idx);
	const struct ms_itree_node *h = &slot->hva_node[set->idx];

	if (!slot->pub.npages)
		return "a slot has no pages";
	if (slot->pub.base_gfn + slot->pub.npages < slot->pub.base_gfn)
		return "a slot's gfn range wraps";
	if (slot->pub.flags &
	    ~(MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY | MEMSLOT_GUEST_MEMFD | MEMSLOT_INVALID))
		return "a slot has unknown flag bits";
	if ((slot->pub.flags & MEMSLOT_GUEST_MEMFD) &&
	    (slot->pub.flags & (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)))
		return "a guest_memfd slot has LOG_DIRTY_PAGES or READONLY";
	if (!(slot->pub.flags & MEMSLOT_GUEST_MEMFD) &&
	    (slot->pub.guest_memfd_offset || slot->pub.guest_memfd))
		return "a slot without GUEST_MEMFD has guest_memfd fields";
	if (g->base_gfn != slot->pub.base_gfn || g->npages != slot->pub.npages)
		return "a gfn node's copy of base_gfn or npages differs from the slot";
	if (h->start != slot->pub.userspace_addr ||
	    h->last != slot->pub.userspace_addr + (slot->pub.npages << set->page_shift) - 1)
		return "an hva node's interval differs from the slot's host range";
	if (ms_slot_id(slot, set->idx)->key != slot->pub.id)
		return "an id node's key differs from the slot's id";
	if (ms_set_find_id(set, slot->pub.id) != slot)
		return "a slot of the gfn tree is not found by its id";
	return NULL;
}

/* Every hva node belongs to a slot of the gfn tree (found by id). */
static const char *ms_set_check_hva_slots(const struct memslots_set *set)
{
	struct ms_slot *slot;

	for (slot = ms_set_hva_first(set, 0, UINT64_MAX); slot;
	     slot = ms_set_hva_next(set, slot, 0, UINT64_MAX))
		if (ms_set_find_id(set, slot->pub.id) != slot)
			return "an hva node's slot is not the set's slot of its id";
	return NULL;
}

int ms_set_validate(const struct memslots_set *set, const char **reason)
{
	struct ms_slot *slot, *prev = NULL, *last;
	size_t n_gfn, n_hva, n = 0;
	uint64_t pages = 0;
	const char *why;

	if (ms_rb_validate_cached(&set->gfn_tree, ms_gfn_node_cmp, &n_gfn))
		return ms_set_fail(reason, "the gfn tree breaks a red-black invariant");
	if (ms_itree_validate(&set->hva_tree, &n_hva))
		return ms_set_fail(reason, "the hva tree breaks an interval-tree invariant");
	if (ms_hash_validate(&set->id_hash))
		return ms_set_fail(reason, "the id hash breaks an invariant");
	if (n_gfn != set->count || n_hva != set->count || set->id_hash.count != set->count)
		return ms_set_fail(reason, "a structure's node count differs from the set's count");
	if (set->count > ms_hash_buckets(&set->id_hash) * MS_HASH_MAX_LOAD)
		return ms_set_fail(reason, "the id hash is over its load bound");
	for (slot = ms_set_first(set); slot; prev = slot, slot = ms_set_next(set, slot)) {
		why = ms_set_check_slot(set, slot);
		if (why)
			return ms_set_fail(reason, why);
		if (prev && ms_slot_end(prev) > slot->pub.base_gfn)
			return ms_set_fail(reason, "two slots' gfn ranges overlap");
		pages += slot->pub.npages;
		n++;
	}
	if (n != set->count || pages != set->nr_pages)
		return ms_set_fail(reason, "the count or the page total is wrong");
	why = ms_set_check_hva_slots(set);
	if (why)
		return ms_set_fail(reason, why);
	last = ms_set_last_used(set);
	if (last && ms_set_find_id(set, last->pub.id) != last)
		return ms_set_fail(reason, "the last-used slot is not a slot of the set");
	if (ms_attrmap_validate(&set->attrs))
		return ms_set_fail(reason, "the attribute map has unsorted, overlapping or "
					   "unmerged runs, or a node of the word 0");
	return 0;
}
