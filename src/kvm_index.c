/* SPDX-License-Identifier: MIT */
/*
 * MEMSLOTS_INDEX_KVM's gfn tree and id hash, as one set's index
 * (kvm_index.h).  Locking: see there; nothing here takes a lock.
 */
#include "kvm_index.h"

#include <assert.h>

void ms_kvm_index_init(struct ms_kvm_index *ki, unsigned int idx)
{
	ki->idx = idx;
	ms_gfn_tree_init(&ki->gfn,
			 MS_GFN_TREE_OFF(struct ms_kvm_slot, gfn_node, idx, slot.pub.base_gfn),
			 MS_GFN_TREE_OFF(struct ms_kvm_slot, gfn_node, idx, slot.pub.npages));
	ms_id_hash_init(&ki->ids, MS_ID_HASH_OFF(struct ms_kvm_slot, id_node, idx, slot.pub.id));
}

/*
 * The engine checked the range and the id against the set before staging
 * the change, so an insert that fails is an engine bug: the debug build
 * stops there, and the set's check reports it otherwise.
 */
void ms_kvm_index_insert(struct ms_kvm_index *ki, struct ms_slot *slot)
{
	int err = ms_gfn_tree_insert(&ki->gfn, ms_kvm_gfn_node(ki, slot));

	assert(!err);
	(void)err;
	ms_id_hash_add(&ki->ids, ms_kvm_id_node(ki, slot));
}

void ms_kvm_index_remove(struct ms_kvm_index *ki, struct ms_slot *slot)
{
	ms_gfn_tree_erase(&ki->gfn, ms_kvm_gfn_node(ki, slot));
	ms_id_hash_del(&ki->ids, ms_kvm_id_node(ki, slot));
}

void ms_kvm_index_replace(struct ms_kvm_index *ki, struct ms_slot *old, struct ms_slot *new)
{
	int err = ms_gfn_tree_replace(&ki->gfn, ms_kvm_gfn_node(ki, old), ms_kvm_gfn_node(ki, new));

	assert(!err);
	err = ms_id_hash_replace(&ki->ids, ms_kvm_id_node(ki, old), ms_kvm_id_node(ki, new));
	assert(!err);
	(void)err;
}

void ms_kvm_index_free_slots(struct ms_kvm_index *ki, const struct ms_alloc *alloc)
{
	struct ms_id_hnode *n = ms_id_hash_first(&ki->ids), *next;

	for (; n; n = next) {
		next = ms_id_hash_next(&ki->ids, n);
		ms_slot_free(alloc, ms_kvm_slot_of_id(n, ki->idx));
	}
	ms_kvm_index_init(ki, ki->idx);
}

static struct ms_slot *ms_kvm_slot_or_null(const struct ms_kvm_index *ki,
					   const struct ms_gfn_node *n)
{
	return n ? ms_kvm_slot_of_gfn(n, ki->idx) : NULL;
}

struct ms_slot *ms_kvm_index_find(const struct ms_kvm_index *ki, uint64_t gfn)
{
	return ms_kvm_slot_or_null(ki, ms_gfn_tree_find(&ki->gfn, gfn));
}

struct ms_slot *ms_kvm_index_search(const struct ms_kvm_index *ki, uint64_t gfn,
				    struct ms_slot **below, struct ms_slot **above)
{
	struct ms_gfn_node *b = NULL, *a = NULL, *hit;

	hit = ms_gfn_tree_search(&ki->gfn, gfn, below ? &b : NULL, above ? &a : NULL);
	if (below)
		*below = ms_kvm_slot_or_null(ki, b);
	if (above)
		*above = ms_kvm_slot_or_null(ki, a);
	return ms_kvm_slot_or_null(ki, hit);
}

struct ms_slot *ms_kvm_index_find_id(const struct ms_kvm_index *ki, uint16_t id)
{
	struct ms_id_hnode *n = ms_id_hash_find(&ki->ids, id);

	return n ? ms_kvm_slot_of_id(n, ki->idx) : NULL;
}

struct ms_slot *ms_kvm_index_next(const struct ms_kvm_index *ki, const struct ms_slot *slot)
{
	struct ms_slot *above;

	ms_kvm_index_search(ki, slot->pub.base_gfn, NULL, &above);
	return above;
}

struct ms_slot *ms_kvm_index_walk_next(const struct ms_kvm_index *ki, const struct ms_slot *slot)
{
	return ms_kvm_slot_or_null(ki, ms_gfn_tree_next(ms_kvm_gfn_node(ki, slot)));
}

bool ms_kvm_index_overlaps(const struct ms_kvm_index *ki, uint64_t start, uint64_t end,
			   const struct ms_slot *ignore)
{
	return ms_gfn_tree_overlaps(&ki->gfn, start, end,
				    ignore ? ms_kvm_gfn_node(ki, ignore) : NULL);
}

int ms_kvm_index_lowest_free(const struct ms_kvm_index *ki, unsigned int first, unsigned int last)
{
	unsigned int id;

	for (id = first; id <= last && id <= UINT16_MAX; id++)
		if (!ms_id_hash_find(&ki->ids, (uint16_t)id))
			return (int)id;
	return -1;
}

/* Every slot of the hash is the tree's slot of its base gfn, linked there. */
static const char *ms_kvm_check_hash_in_tree(const struct ms_kvm_index *ki)
{
	const struct ms_id_hnode *n;

	for (n = ms_id_hash_first(&ki->ids); n; n = ms_id_hash_next(&ki->ids, n)) {
		const struct ms_slot *s = ms_kvm_slot_of_id(n, ki->idx);

		if (!ms_gfn_node_linked(ms_kvm_gfn_node(ki, s)) ||
		    ms_kvm_index_find(ki, s->pub.base_gfn) != s)
			return "a slot of the id hash is not the gfn tree's slot of its base";
	}
	return NULL;
}

/* Every slot of the tree is the hash's slot of its id. */
static const char *ms_kvm_check_tree_in_hash(const struct ms_kvm_index *ki)
{
	const struct ms_slot *s;

	for (s = ms_kvm_index_first(ki); s; s = ms_kvm_index_walk_next(ki, s))
		if (!ms_id_hnode_hashed(ms_kvm_id_node(ki, s)) ||
		    ms_kvm_index_find_id(ki, s->pub.id) != s)
			return "a slot of the gfn tree is not the id hash's slot of its id";
	return NULL;
}

const char *ms_kvm_index_check(const struct ms_kvm_index *ki, size_t count)
{
	const char *why = ms_gfn_tree_check(&ki->gfn);

	if (!why)
		why = ms_id_hash_check(&ki->ids);
	if (why)
		return why;
	if (ms_gfn_tree_count(&ki->gfn) != count || ms_id_hash_count(&ki->ids) != count)
		return "the gfn tree's or the id hash's count differs from the set's count";
	why = ms_kvm_check_tree_in_hash(ki);
	return why ? why : ms_kvm_check_hash_in_tree(ki);
}
