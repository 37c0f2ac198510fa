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

#include "debug.h"
#include "engine.h"
#include "model.h"
#include "set.h"
#include "slot.h"
#include "tests_util.h"

#define PAGE 4096ull

static struct memslots_region region(uint32_t id, uint64_t gfn, uint64_t npages)
{
	return model_region(12, id, 0, gfn, npages, 0x10000000ull + id * 0x1000000ull);
}

/* An object with a few slots, after creates, a move and a delete. */
static struct memslots *populated(void)
{
	struct memslots *ms = memslots_new(&(struct memslots_config){.rcu = &mt_counting_rcu});
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

START_TEST(slot_damage_fails)
{
	struct memslots *ms = populated();
	struct memslots_set *set = active_of(ms);
	struct ms_slot *slot = ms_set_find_id(set, 3);
	struct ms_gfn_node *g = ms_slot_gfn(slot, set->idx);
	uint64_t hva_last = slot->hva_node[set->idx].last;

	g->npages++;
	expect_damage(ms, set, "gfn node");
	g->npages--;
	slot->hva_node[set->idx].last++;
	expect_damage(ms, set, "hva node");
	slot->hva_node[set->idx].last = hva_last;
	set->nr_pages++;
	expect_damage(ms, set, "page total");
	set->nr_pages--;
	ck_assert_int_eq(memslots__check_sets(ms, NULL), 0);
	memslots_free(ms);
}
END_TEST

START_TEST(tree_damage_fails)
{
	struct memslots *ms = populated();
	struct memslots_set *set = active_of(ms);
	struct ms_rb_node *root = set->gfn_tree.root.node;

	/* a red root breaks a red-black rule */
	root->parent_color &= ~(uintptr_t)MS_RB_BLACK;
	expect_damage(ms, set, "gfn tree");
	root->parent_color |= MS_RB_BLACK;
	ck_assert_int_eq(memslots__check_sets(ms, NULL), 0);
	memslots_free(ms);
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
	ck_assert_int_eq(memslots__check_sets(ms, NULL), 0);
	memslots_free(ms);
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
	struct memslots_config cfg = {.rcu = &mt_counting_rcu, .ops = &ops, .opaque = &ctx};
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
	tcase_add_test(tc, pair_damage_fails);
	tcase_add_test(tc, refused_from_hooks_and_sections);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_suite());
}
