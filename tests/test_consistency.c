/* SPDX-License-Identifier: MIT */
/*
 * The engine's consistency checks (src/debug.h) themselves: they pass on
 * every state the engine reaches, and each kind of damage makes them fail
 * with a reason.  The damage is done through the private structures, on
 * one thread, and undone before the object is freed.
 */
#include <errno.h>
#include <string.h>

#include <memslots/memslots.h>

#include "btree_check.h"
#include "debug.h"
#include "engine.h"
#include "model.h"
#include "set.h"
#include "slot.h"
#include "ts_check.h"

#define PAGE 4096ull

static struct memslots_region region(uint32_t id, uint64_t gfn, uint64_t npages)
{
	return ts_model_region(12, id, 0, gfn, npages, 0x10000000ull + id * 0x1000000ull);
}

/* An object with a few slots, after creates, a move and a delete. */
static struct memslots *populated(void)
{
	struct memslots *ms = memslots_new(&(struct memslots_config){.rcu = &ts_counting_rcu});
	struct memslots_region r;

	ck_assert_ptr_nonnull(ms);
	ck_assert_int_eq(memslots__check_sets(ms, NULL), 0);
	for (uint32_t id = 0; id < 6; id++) {
		r = region(id, id * 16, 4 + id);
		ck_assert_int_eq(memslots_set_region(ms, &r), 0);
		ck_assert_int_eq(memslots__check_sets(ms, NULL), 0);
	}
	r = region(2, 200, 6);
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	r = region(4, 0, 0);
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	ck_assert_int_eq(memslots__check_sets(ms, NULL), 0);
	return ms;
}

static struct memslots_set *active_of(struct memslots *ms)
{
	return atomic_load(&ms->active);
}

static struct memslots_set *inactive_of(struct memslots *ms)
{
	return active_of(ms) == &ms->sets[0] ? &ms->sets[1] : &ms->sets[0];
}

/* Both checks fail, and the reason names @what. */
static void expect_damage(struct memslots *ms, struct memslots_set *set, const char *what)
{
	const char *why = NULL;

	ck_assert_int_eq(memslots__check_set(set, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, what), "reason \"%s\" does not mention \"%s\"", why, what);
	why = NULL;
	ck_assert_int_eq(memslots__check_sets(ms, &why), -EINVAL);
	ck_assert_msg(why && strstr(why, what), "pair reason \"%s\"", why ? why : "(none)");
}

/* The damage undone: both checks pass again; then frees @ms. */
static void expect_sound_and_free(struct memslots *ms)
{
	ck_assert_int_eq(memslots__check_sets(ms, NULL), 0);
	memslots_free(ms);
}

START_TEST(valid_states_pass)
{
	struct memslots *ms = populated();
	const struct memslots_set *set = memslots_read_lock(ms);

	ck_assert_int_eq(memslots__check_set(set, NULL), 0);
	memslots_read_unlock(ms);
	ck_assert_int_eq(memslots__check_set(NULL, NULL), -EINVAL);
	ck_assert_int_eq(memslots__check_sets(NULL, NULL), -EINVAL);
	memslots_free(ms);
}
END_TEST

/* The leaf entry of @slot in @set's gfn B+tree. */
static struct ms_btree_ent *gfn_entry(struct memslots_set *set, const struct ms_slot *slot)
{
	struct ms_btree_cursor c;

	ms_btree_seek_le(&set->gfn_tree, slot->pub.base_gfn, &c);
	ck_assert(ms_btree_cursor_valid(&c) && ms_btree_cursor_val(&c) == slot);
	return (struct ms_btree_ent *)&c.leaf->ent[c.idx];
}

START_TEST(slot_damage_fails)
{
	struct memslots *ms = populated();
	struct memslots_set *set = active_of(ms);
	struct ms_slot *slot = ms_set_find_id(set, 3);
	struct ms_btree_ent *e = gfn_entry(set, slot);

	/* the leaf's end no longer matches the slot's npages */
	TS_DAMAGED(e->end, e->end + 1, expect_damage(ms, set, "gfn tree entry's range"));
	TS_DAMAGED(slot->hva_last, slot->hva_last + 1, expect_damage(ms, set, "hva node"));
	TS_DAMAGED(set->nr_pages, set->nr_pages + 1, expect_damage(ms, set, "page total"));
	expect_sound_and_free(ms);
}
END_TEST

/* An object whose gfn B+tree has internal nodes: @n slots of 4 pages. */
static struct memslots *populated_tall(uint32_t n)
{
	struct memslots *ms = memslots_new(&(struct memslots_config){.rcu = &ts_counting_rcu});

	ck_assert_ptr_nonnull(ms);
	for (uint32_t id = 0; id < n; id++) {
		struct memslots_region r = region(id, id * 8, 4);

		ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	}
	ck_assert_int_eq(memslots__check_sets(ms, NULL), 0);
	ck_assert_uint_ge(active_of(ms)->gfn_tree.height, 2);
	return ms;
}

/* The set check fails on the B+tree, and the tree's own checker says @what. */
static void expect_btree_damage(struct memslots *ms, struct memslots_set *set, const char *what)
{
	const char *detail;

	expect_damage(ms, set, "gfn tree");
	detail = ms_btree_check_shape(&set->gfn_tree);
	ck_assert_ptr_nonnull(detail);
	ck_assert_msg(strstr(detail, what), "B+tree check \"%s\" does not mention \"%s\"", detail,
		      what);
}

static struct ms_btree_leaf *leftmost_leaf(struct memslots_set *set)
{
	struct ms_btree_cursor c;

	ms_btree_first(&set->gfn_tree, &c);
	return (struct ms_btree_leaf *)c.leaf;
}

static void swap_entries(struct ms_btree_leaf *leaf, unsigned int i, unsigned int j)
{
	uint64_t k = leaf->keys[i];
	struct ms_btree_ent e = leaf->ent[i];

	leaf->keys[i] = leaf->keys[j];
	leaf->ent[i] = leaf->ent[j];
	leaf->keys[j] = k;
	leaf->ent[j] = e;
}

START_TEST(tree_damage_fails)
{
	struct memslots *ms = populated_tall(40);
	struct memslots_set *set = active_of(ms);
	struct ms_btree *t = &set->gfn_tree;
	struct ms_btree_leaf *leaf = leftmost_leaf(set);
	struct ms_btree_inner *root = t->root;
	struct ms_btree_leaf *second = leaf->next;

	/* key order: two entries of a leaf swapped, each still whole */
	swap_entries(leaf, 0, 1);
	expect_btree_damage(ms, set, "precedes");
	swap_entries(leaf, 0, 1);
	/* fill: a leaf claiming more entries than a node holds */
	TS_DAMAGED(leaf->meta.nr, MS_BTREE_LEAF_MAX + 1,
		   expect_btree_damage(ms, set, "holds 11 entries"));
	/* a separator that is not its subtree's smallest key */
	TS_DAMAGED(root->keys[0], root->keys[0] - 1, expect_btree_damage(ms, set, "separator"));
	/* iteration: a leaf chain that skips the second leaf */
	TS_DAMAGED(leaf->next, second->next, expect_btree_damage(ms, set, "leaf chain"));
	/* the entry count */
	TS_DAMAGED(t->count, t->count + 1, expect_btree_damage(ms, set, "count says"));
	expect_sound_and_free(ms);
}
END_TEST

START_TEST(id_table_damage_fails)
{
	struct memslots *ms = populated();
	struct memslots_set *set = active_of(ms);
	struct ms_slot *s1 = ms_set_find_id(set, 1), *s5 = ms_set_find_id(set, 5);
	uint32_t full_to;

	/* id 5 leads to slot 1: slot 1 sits 4 buckets past its home, where
	 * the table's bound says every slot is at home ... */
	ck_assert_ptr_eq(set->ids.table[5], s5);
	ck_assert_uint_eq(set->ids.max_disp, 0);
	TS_DAMAGED(set->ids.table[5], s1, expect_damage(ms, set, "further from its id's home"));
	/* ... id 5 is free inside the run of ids the table knows are full ... */
	ck_assert_uint_lt(set->ids.low_full, 5);
	ck_assert_uint_gt(set->ids.full_to, 5);
	set->ids.max_disp = set->ids.mask;
	TS_DAMAGED(set->ids.table[5], s1, expect_damage(ms, set, "run of full ids"));
	/* ... and under bounds that allow both, slot 5 is in the gfn tree but
	 * not found by id */
	full_to = set->ids.full_to;
	set->ids.full_to = set->ids.low_full;
	TS_DAMAGED(set->ids.table[5], s1, expect_damage(ms, set, "not found by its id"));
	set->ids.full_to = full_to;
	set->ids.max_disp = 0;
	/* slot 1 out of its bucket (ids 0-3 and 5 in 8 buckets: each in its
	 * own), into an empty one its probe never reaches */
	ck_assert_uint_eq(set->ids.mask, 7);
	ck_assert_ptr_eq(set->ids.table[1], s1);
	ck_assert_ptr_null(set->ids.table[6]);
	set->ids.table[1] = NULL;
	set->ids.table[6] = s1;
	expect_damage(ms, set, "from its id's bucket");
	set->ids.table[6] = NULL;
	set->ids.table[1] = s1;
	/* the table's total off by one */
	TS_DAMAGED(set->ids.count, set->ids.count + 1, expect_damage(ms, set, "id table's count"));
	/* the free-id search's start past a free id (4) */
	TS_DAMAGED(set->ids.low_full, 6, expect_damage(ms, set, "lowest free id"));
	/* the id bound below an id in use */
	TS_DAMAGED(set->ids.max_id, 3, expect_damage(ms, set, "above the id table's bound"));
	expect_sound_and_free(ms);
}
END_TEST

START_TEST(pair_damage_fails)
{
	struct memslots *ms = populated();
	struct memslots_set *inactive = inactive_of(ms);
	struct ms_slot *slot = ms_set_find_id(active_of(ms), 1);
	const char *why = NULL;

	/* each set valid alone, but the inactive one remembers a slot */
	atomic_store(&inactive->last_used, slot);
	ck_assert_int_eq(memslots__check_set(inactive, NULL), 0);
	ck_assert_int_eq(memslots__check_sets(ms, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "last-used"));
	atomic_store(&inactive->last_used, NULL);
	/* a slot INVALID between calls */
	slot->pub.flags |= MEMSLOT_INVALID;
	ck_assert_int_eq(memslots__check_sets(ms, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "INVALID"));
	slot->pub.flags &= ~MEMSLOT_INVALID;
	expect_sound_and_free(ms);
}
END_TEST

struct hook_ctx {
	int ret;
	struct memslots *ms;
};

static int check_from_prepare(void *opaque, const struct memslot *old, struct memslot *new,
			      enum memslots_change change)
{
	struct hook_ctx *ctx = opaque;

	(void)old;
	(void)new;
	(void)change;
	ctx->ret = memslots__check_sets(ctx->ms, NULL);
	return 0;
}

START_TEST(refused_from_hooks_and_sections)
{
	struct hook_ctx ctx = {1, NULL};
	const struct memslots_ops ops = {.prepare = check_from_prepare};
	struct memslots_config cfg = {.rcu = &ts_counting_rcu, .ops = &ops, .opaque = &ctx};
	struct memslots_region r = region(1, 0, 4);

	ctx.ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(ctx.ms);
	ck_assert_int_eq(memslots_set_region(ctx.ms, &r), 0);
	ck_assert_int_eq(ctx.ret, -EDEADLK);
	memslots_read_lock(ctx.ms);
	ck_assert_int_eq(memslots__check_sets(ctx.ms, NULL), -EDEADLK);
	memslots_read_unlock(ctx.ms);
	ck_assert_int_eq(memslots__check_sets(ctx.ms, NULL), 0);
	memslots_free(ctx.ms);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("consistency");
	TCase *tc = tcase_create("consistency");

	tcase_add_test(tc, valid_states_pass);
	tcase_add_test(tc, slot_damage_fails);
	tcase_add_test(tc, tree_damage_fails);
	tcase_add_test(tc, id_table_damage_fails);
	tcase_add_test(tc, pair_damage_fails);
	tcase_add_test(tc, refused_from_hooks_and_sections);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
