/* SPDX-License-Identifier: MIT */
/*
 * The index of an object (the API contract's extension 3): the config
 * field and memslots_index(), the slot object each index allocates, and
 * the consistency check of a KVM-index set, which must catch damage to
 * KVM's structures as test_consistency does for the B+tree's: red-black
 * colours and black height, the hash chains, and the tree, the hash and
 * the hva tree disagreeing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "debug.h"
#include "engine.h"
#include "kvm_index.h"
#include "model.h"
#include "set.h"
#include "validate.h"
#include "slot.h"
#include "ts_check.h"

struct memslots *__real_memslots_new(const struct memslots_config *cfg);

/* Allocation sizes, to see the slot objects each index makes. */
struct sizes {
	size_t last;
	size_t prev; /* the one before last */
	size_t n;
};

static void *sizes_alloc(size_t size, void *opaque)
{
	struct sizes *sz = opaque;

	sz->prev = sz->last;
	sz->last = size;
	sz->n++;
	return malloc(size);
}

static void sizes_free(void *p, void *opaque)
{
	(void)opaque;
	free(p);
}

static struct memslots *new_with_index(uint32_t index)
{
	return memslots_new(&(struct memslots_config){.rcu = &ts_counting_rcu, .index = index});
}

START_TEST(config_values)
{
	struct memslots *ms;

	/* Past the test wrapper: DEFAULT as the library sees it. */
	ms = __real_memslots_new(NULL);
	ck_assert_uint_eq(memslots_index(ms), MEMSLOTS_INDEX_BTREE);
	memslots_free(ms);
	ms = __real_memslots_new(&(struct memslots_config){.index = MEMSLOTS_INDEX_DEFAULT});
	ck_assert_uint_eq(memslots_index(ms), MEMSLOTS_INDEX_BTREE);
	memslots_free(ms);
	ms = new_with_index(MEMSLOTS_INDEX_KVM);
	ck_assert_uint_eq(memslots_index(ms), MEMSLOTS_INDEX_KVM);
	memslots_free(ms);
	ms = new_with_index(MEMSLOTS_INDEX_BTREE);
	ck_assert_uint_eq(memslots_index(ms), MEMSLOTS_INDEX_BTREE);
	memslots_free(ms);
	for (uint32_t bad = 3; bad; bad = bad < 64 ? bad + 1 : (bad == 64 ? UINT32_MAX : 0)) {
		errno = 0;
		ck_assert_ptr_null(new_with_index(bad));
		ck_assert_int_eq(errno, EINVAL);
	}
	ck_assert_uint_eq(memslots_index(NULL), 0);
}
END_TEST

/* An object of @index whose allocations @sz counts. */
static struct memslots *new_counting_sizes(uint32_t index, struct sizes *sz)
{
	struct memslots_config cfg = {
		.rcu = &ts_counting_rcu,
		.index = index,
		.alloc = sizes_alloc,
		.free = sizes_free,
		.alloc_opaque = sz,
	};

	return memslots_new(&cfg);
}

/* The bytes of the slot object a create allocates with @index. */
static size_t slot_bytes(uint32_t index)
{
	struct sizes sz = {0};
	struct memslots *ms = new_counting_sizes(index, &sz);
	struct memslots_region r = ts_model_region(12, 1, 0, 0, 16, 0x10000000ull);
	size_t n;

	ck_assert_ptr_nonnull(ms);
	/* A first create warms the B+tree's pool; the second allocates its
	 * slot object and nothing else on either index. */
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	r = ts_model_region(12, 2, 0, 64, 16, 0x20000000ull);
	n = sz.n;
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	ck_assert_uint_eq(sz.n, n + 1);
	memslots_free(ms);
	return sz.last;
}

/*
 * The bytes of what a create of a GUEST_MEMFD slot allocates with @index
 * after its slot object, which must come first and be @slot bytes: its
 * binding, and nothing else.
 */
static size_t binding_bytes(uint32_t index, size_t slot)
{
	struct sizes sz = {0};
	struct memslots *ms = new_counting_sizes(index, &sz);
	struct memslots_region2 r = {
		.slot = 1,
		.flags = MEMSLOT_GUEST_MEMFD,
		.memory_size = 16 << 12,
		.userspace_addr = 0x10000000ull,
		.guest_memfd = 3,
	};
	size_t n;

	ck_assert_ptr_nonnull(ms);
	/* As slot_bytes(): the first create warms the B+tree's pool. */
	ck_assert_int_eq(memslots_set_region2(ms, &r), 0);
	r.slot = 2;
	r.guest_phys_addr = 64 << 12;
	r.userspace_addr = 0x20000000ull;
	r.guest_memfd_offset = 16 << 12;
	n = sz.n;
	ck_assert_int_eq(memslots_set_region2(ms, &r), 0);
	ck_assert_uint_eq(sz.n, n + 2);
	ck_assert_uint_eq(sz.prev, slot);
	memslots_free(ms);
	return sz.last;
}

START_TEST(slot_sizes)
{
	/* The default index's slot does not grow; KVM's has its nodes in a tail. */
	ck_assert_uint_eq(sizeof(struct ms_slot), 136);
	ck_assert_uint_eq(sizeof(struct ms_kvm_slot), 216);
	ck_assert_uint_eq(slot_bytes(MEMSLOTS_INDEX_BTREE), sizeof(struct ms_slot));
	ck_assert_uint_eq(slot_bytes(MEMSLOTS_INDEX_DEFAULT), sizeof(struct ms_slot));
	ck_assert_uint_eq(slot_bytes(MEMSLOTS_INDEX_KVM), sizeof(struct ms_kvm_slot));
	/* Only a GUEST_MEMFD slot pays for a binding, allocated on its own. */
	ck_assert_uint_eq(binding_bytes(MEMSLOTS_INDEX_BTREE, sizeof(struct ms_slot)),
			  sizeof(struct ms_gmem_binding));
	ck_assert_uint_eq(binding_bytes(MEMSLOTS_INDEX_KVM, sizeof(struct ms_kvm_slot)),
			  sizeof(struct ms_gmem_binding));
}
END_TEST

/* A KVM-index object with a few slots after creates, a move and a delete. */
static struct memslots *populated(void)
{
	struct memslots *ms = new_with_index(MEMSLOTS_INDEX_KVM);
	struct memslots_region r;

	ck_assert_ptr_nonnull(ms);
	for (uint32_t id = 0; id < 12; id++) {
		r = ts_model_region(12, id, 0, id * 16, 4 + id, 0x10000000ull + id * 0x1000000ull);
		ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	}
	r = ts_model_region(12, 2, 0, 400, 6, 0x10000000ull + 2 * 0x1000000ull);
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	r = ts_model_region(12, 4, 0, 0, 0, 0);
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	ck_assert_int_eq(memslots__check_sets(ms, NULL), 0);
	return ms;
}

static struct memslots_set *active_of(struct memslots *ms)
{
	return atomic_load(&ms->active);
}

/* The set's check fails, and if @what is given its reason names @what. */
static void expect_damage(struct memslots_set *set, const char *what)
{
	const char *why = NULL;

	ck_assert_int_eq(memslots__check_set(set, &why), -EINVAL);
	if (what)
		ck_assert_msg(why && strstr(why, what), "reason \"%s\" does not mention \"%s\"",
			      why ? why : "(none)", what);
}

static void expect_sound(struct memslots_set *set)
{
	ck_assert_int_eq(memslots__check_set(set, NULL), 0);
}

/*
 * @field set to @bad makes the set's check fail (naming @what, if not
 * NULL); put back, the set is sound again.
 */
#define EXPECT_DAMAGE(set, field, bad, what)                          \
	do {                                                          \
		TS_DAMAGED(field, bad, expect_damage((set), (what))); \
		expect_sound(set);                                    \
	} while (0)

/* An id near @id that the hash puts in another bucket. */
static uint16_t id_of_another_bucket(uint16_t id)
{
	uint16_t other = (uint16_t)(id + 1);

	while (ms_id_hash_bucket(other) == ms_id_hash_bucket(id))
		other++;
	return other;
}

START_TEST(kvm_tree_damage_fails)
{
	struct memslots *ms = populated();
	struct memslots_set *set = active_of(ms);
	struct ms_rb_node *root = set->kvm_index->gfn.root.root.node;

	expect_sound(set);
	/* A red root. */
	ck_assert(root->parent_color & MS_RB_BLACK);
	EXPECT_DAMAGE(set, root->parent_color, root->parent_color & ~(uintptr_t)MS_RB_BLACK, NULL);
	/* A black child turned red or a red one black: the black height or
	 * the red rule breaks. */
	EXPECT_DAMAGE(set, root->left->parent_color, root->left->parent_color ^ MS_RB_BLACK, NULL);
	/* The tree's count. */
	EXPECT_DAMAGE(set, set->kvm_index->gfn.count, set->kvm_index->gfn.count + 1, NULL);
	memslots_free(ms);
}
END_TEST

START_TEST(kvm_hash_damage_fails)
{
	struct memslots *ms = populated();
	struct memslots_set *set = active_of(ms);
	struct ms_kvm_index *ki = set->kvm_index;
	struct ms_slot *s = ms_kvm_index_find_id(ki, 3);
	struct ms_id_hnode *n = ms_kvm_id_node(ki, s);

	ck_assert_ptr_nonnull(s);
	expect_sound(set);
	/* A node out of its chain: the hash and the tree disagree. */
	ms_id_hash_del(&ki->ids, n);
	expect_damage(set, NULL);
	ms_id_hash_add(&ki->ids, n);
	expect_sound(set);
	/* A node in the wrong bucket (its id changed under it). */
	EXPECT_DAMAGE(set, s->pub.id, id_of_another_bucket(s->pub.id), NULL);
	/* A broken back link. */
	EXPECT_DAMAGE(set, n->pprev, &n->next, NULL);
	memslots_free(ms);
}
END_TEST

START_TEST(kvm_disagreement_fails)
{
	struct memslots *ms = populated();
	struct memslots_set *set = active_of(ms);
	struct memslots_set *other = set == &ms->sets[0] ? &ms->sets[1] : &ms->sets[0];
	struct ms_kvm_index *ki = set->kvm_index;
	struct ms_slot *s = ms_kvm_index_find_id(ki, 5);

	expect_sound(set);
	ck_assert_ptr_null(ms_set_check_replica(set, other));
	/* A slot's hva interval off its host range. */
	EXPECT_DAMAGE(set, s->hva_last, s->hva_last + 1, "hva");
	/* The set's count against the structures. */
	EXPECT_DAMAGE(set, set->count, set->count + 1, NULL);
	/* Something left in the B+tree's id table of a KVM-index set. */
	EXPECT_DAMAGE(set, set->ids.count, set->ids.count + 1, "B+tree or the id table");
	/* The replica: the other set missing a slot. */
	ms_kvm_index_remove(other->kvm_index, s);
	other->count--;
	ck_assert_ptr_nonnull(ms_set_check_replica(set, other));
	ms_kvm_index_insert(other->kvm_index, s);
	other->count++;
	ck_assert_ptr_null(ms_set_check_replica(set, other));
	ck_assert_int_eq(memslots__check_sets(ms, NULL), 0);
	memslots_free(ms);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("index");
	TCase *tc = tcase_create("index");

	tcase_add_test(tc, config_values);
	tcase_add_test(tc, slot_sizes);
	tcase_add_test(tc, kvm_tree_damage_fails);
	tcase_add_test(tc, kvm_hash_damage_fails);
	tcase_add_test(tc, kvm_disagreement_fails);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
