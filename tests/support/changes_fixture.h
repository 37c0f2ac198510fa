/* SPDX-License-Identifier: MIT */
/*
 * What the change-type tests share: ts_changes_do() makes one change and
 * checks it against the models of the state before, in between and
 * after, from inside every hook; ts_changes_env_setup() makes the environment with
 * the base state of three slots.  Single-threaded.
 */
#ifndef TS_CHANGES_FIXTURE_H
#define TS_CHANGES_FIXTURE_H

#include <stdbool.h>

#include <check.h>

#include <memslots/memslots.h>

#include "model.h"

#define LOG MEMSLOT_LOG_DIRTY_PAGES
#define RO  MEMSLOT_READONLY

/* Makes change @change of @r and checks it, from the hooks and after. */
void ts_changes_do(struct ts_env *e, struct memslots_region r, int change);

/* The environment with slots 1 to 3 created through ts_changes_do(). */
void ts_changes_env_setup(struct ts_env *e, const struct memslots_rcu *rcu, bool set_priv);

/* The cases of the deadlk_*, release and strerror TCases. */
void changes_add_hook_cases(Suite *s);

#endif /* TS_CHANGES_FIXTURE_H */
