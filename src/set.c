/* SPDX-License-Identifier: MIT */
#include "set.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>

#include "btree_check.h"
#include "interval_tree.h"

int ms_set_init(struct memslots_set *set, unsigned int idx, unsigned int page_shift, bool kvm,
		const struct ms_alloc *alloc)
{
	set->kvm = kvm;
	ms_btree_init(&set->gfn_tree, alloc);
	ms_kvm_index_init(&set->kvm_index, idx);
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

	if (ms_unlikely(set->kvm)) {
		ms_kvm_index_insert(&set->kvm_index, slot);
	} else {
		ms_set_btree_insert(set, slot);
		ms_idtab_insert(&set->ids, slot->pub.id, slot);
	}
	hn->start = slot->pub.userspace_addr;
	hn->last = ms_slot_hva_last(slot, set->page_shift);
	ms_itree_insert(hn, &set->hva_tree);
	set->count++;
	set->nr_pages += slot->pub.npages;
}

void ms_set_remove(struct memslots_set *set, struct ms_slot *slot)
{
	ms_set_drop_last_used(set, slot);
	if (ms_unlikely(set->kvm)) {
		ms_kvm_index_remove(&set->kvm_index, slot);
	} else {
		ms_btree_remove(&set->gfn_tree, slot->pub.base_gfn, NULL);
		ms_idtab_remove(&set->ids, slot->pub.id);
	}
	ms_itree_remove(&slot->hva_node[set->idx], &set->hva_tree);
	set->count--;
	set->nr_pages -= slot->pub.npages;
}

void ms_set_replace(struct memslots_set *set, struct ms_slot *old, struct ms_slot *new)
{
	unsigned int i = set->idx;

	ms_set_drop_last_used(set, old);
	if (ms_unlikely(set->kvm)) {
		ms_kvm_index_replace(&set->kvm_index, old, new);
	} else {
		ms_btree_replace(&set->gfn_tree, old->pub.base_gfn, new);
		ms_idtab_replace(&set->ids, old->pub.id, new);
	}
	new->hva_node[i].start = old->hva_node[i].start;
	new->hva_node[i].last = old->hva_node[i].last;
	ms_itree_replace(&old->hva_node[i], &new->hva_node[i], &set->hva_tree);
}

bool ms_set_overlaps(const struct memslots_set *set, uint64_t gfn, uint64_t npages,
		     const struct ms_slot *ignore)
{
	if (ms_unlikely(set->kvm))
		return ms_kvm_index_overlaps(&set->kvm_index, gfn, gfn + npages, ignore);
	return ms_btree_overlaps(&set->gfn_tree, gfn, gfn + npages, ignore);
}

int ms_set_lowest_free_id(const struct memslots_set *set, unsigned int first, unsigned int last)
{
	if (ms_unlikely(set->kvm))
		return ms_kvm_index_lowest_free(&set->kvm_index, first, last);
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
		keep = set->gfn_tree.height + 1;
	ms_btree_settle(&set->gfn_tree, keep);
	ms_idtab_settle(&set->ids);
}

/* The slots only: the tree's nodes go with ms_set_destroy(). */
void ms_set_free_slots(struct memslots_set *set, const struct ms_alloc *alloc)
{
	struct ms_btree_cursor c;

	if (set->kvm)
		ms_kvm_index_free_slots(&set->kvm_index, alloc);
	for (ms_btree_first(&set->gfn_tree, &c); ms_btree_cursor_valid(&c);
	     ms_btree_cursor_next(&c))
		ms_slot_free(alloc, ms_btree_cursor_val(&c));
	set->hva_tree = MS_RB_ROOT_CACHED;
	set->count = 0;
	set->nr_pages = 0;
}

/* ---- validation -------------------------------------------------------------- */

static int ms_set_fail(const char **reason, const char *what)
{
	if (reason)
		*reason = what;
	return -EINVAL;
}

/* One slot reached through the gfn tree: its keys in every structure. */
static const char *ms_set_check_slot(const struct memslots_set *set, struct ms_slot *slot)
{
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
	if (h->start != slot->pub.userspace_addr ||
	    h->last != slot->pub.userspace_addr + (slot->pub.npages << set->page_shift) - 1)
		return "an hva node's interval differs from the slot's host range";
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

/*
 * The slots in gfn order, each checked against the set (ms_set_check_slot)
 * and against the one before it; *@n and *@pages get their count and total.
 */
static const char *ms_set_check_order(const struct memslots_set *set, const struct ms_slot *slot,
				      const struct ms_slot *prev, size_t *n, uint64_t *pages)
{
	const char *why = ms_set_check_slot(set, (struct ms_slot *)slot);

	if (why)
		return why;
	if (prev && ms_slot_end(prev) > slot->pub.base_gfn)
		return "two slots' gfn ranges overlap";
	*pages += slot->pub.npages;
	(*n)++;
	return NULL;
}

/* The B+tree and the id table, and every slot through the leaves, O(n). */
static const char *ms_set_check_btree_index(const struct memslots_set *set, size_t *n,
					    uint64_t *pages)
{
	struct ms_slot *slot = NULL, *prev = NULL;
	struct ms_btree_cursor c;
	const char *why;

	if (ms_btree_check_shape(&set->gfn_tree))
		return "the gfn tree breaks a B+tree invariant";
	why = ms_idtab_check(&set->ids);
	if (why)
		return why;
	if (ms_btree_count(&set->gfn_tree) != set->count || set->ids.count != set->count)
		return "a structure's node count differs from the set's count";
	for (ms_btree_first(&set->gfn_tree, &c); ms_btree_cursor_valid(&c);
	     prev = slot, ms_btree_cursor_next(&c)) {
		slot = ms_btree_cursor_val(&c);
		if (!slot || ms_btree_cursor_key(&c) != slot->pub.base_gfn ||
		    ms_btree_cursor_end(&c) != ms_slot_end(slot))
			return "a gfn tree entry's range differs from its slot's";
		why = ms_set_check_order(set, slot, prev, n, pages);
		if (why)
			return why;
	}
	return NULL;
}

/*
 * KVM's red-black tree and id hash (their invariants and agreement,
 * kvm_index.h), the B+tree and id table left empty, and every slot in
 * tree order.
 */
static const char *ms_set_check_kvm_index(const struct memslots_set *set, size_t *n,
					  uint64_t *pages)
{
	const struct ms_slot *slot, *prev = NULL;
	const char *why;

	if (ms_btree_count(&set->gfn_tree) || set->ids.count)
		return "a KVM-index set has slots in the B+tree or the id table";
	why = ms_kvm_index_check(&set->kvm_index, set->count);
	if (why)
		return why;
	for (slot = ms_kvm_index_first(&set->kvm_index); slot;
	     prev = slot, slot = ms_kvm_index_walk_next(&set->kvm_index, slot)) {
		why = ms_set_check_order(set, slot, prev, n, pages);
		if (why)
			return why;
	}
	return NULL;
}

int ms_set_validate(const struct memslots_set *set, const char **reason)
{
	struct ms_slot *last;
	size_t n_hva, n = 0;
	uint64_t pages = 0;
	const char *why;

	if (ms_itree_validate(&set->hva_tree, &n_hva))
		return ms_set_fail(reason, "the hva tree breaks an interval-tree invariant");
	if (n_hva != set->count)
		return ms_set_fail(reason, "a structure's node count differs from the set's count");
	why = set->kvm ? ms_set_check_kvm_index(set, &n, &pages)
		       : ms_set_check_btree_index(set, &n, &pages);
	if (why)
		return ms_set_fail(reason, why);
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

/*
 * Whatever the index: @a and @b hold the same slot objects in the same
 * gfn order, none INVALID (between calls, the inactive set is the active
 * one's replica).  O(n) for either index.
 */
const char *ms_set_check_replica(const struct memslots_set *a, const struct memslots_set *b)
{
	const struct ms_slot *x = ms_set_first(a), *y = ms_set_first(b);

	if (a->kvm != b->kvm)
		return "the two sets have different indexes";
	if (a->count != b->count || a->nr_pages != b->nr_pages)
		return "the two sets differ in count or page total";
	for (; x && y; x = ms_set_walk_next(a, x), y = ms_set_walk_next(b, y)) {
		if (x != y)
			return "the two sets hold different slots";
		if (x->pub.flags & MEMSLOT_INVALID)
			return "a slot is still INVALID between calls";
	}
	if (x || y)
		return "the two sets differ in length";
	return NULL;
}
