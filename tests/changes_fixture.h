/* SPDX-License-Identifier: MIT */
/*
 * What the change-type tests share: do_change() makes one change and
 * checks it against the models of the state before, in between and
 * after, from inside every hook; env_setup() makes the environment with
 * the base state of three slots.  Single-threaded.
 */
#ifndef MS_TESTS_CHANGES_FIXTURE_H
#define MS_TESTS_CHANGES_FIXTURE_H

#include <stdbool.h>

#include <check.h>

#include <memslots/memslots.h>

#include "model.h"

#define LOG MEMSLOT_LOG_DIRTY_PAGES
#define RO  MEMSLOT_READONLY

/* Makes change @change of @r and checks it, from the hooks and after. */
void do_change(struct mt_env *e, struct memslots_region r, int change);

/* The environment with slots 1 to 3 created through do_change(). */
void env_setup(struct mt_env *e, const struct memslots_rcu *rcu, bool set_priv);

/* The cases of the deadlk_*, release and strerror TCases. */
void changes_add_hook_cases(Suite *s);

#endif /* MS_TESTS_CHANGES_FIXTURE_H */
