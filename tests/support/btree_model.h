/* SPDX-License-Identifier: MIT */
/*
 * The B+tree test's model and fixture: a sorted array of (key, end, value)
 * the tree must match, the queries compared with it and with brute force,
 * and the random operations applied to tree and model alike (see
 * btree_model.c).  Failures end the running Check test.  Single-threaded,
 * like the tree's writers.
 */
#ifndef TS_BTREE_MODEL_H
#define TS_BTREE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "btree.h"
#include "ts_check.h"

/* TS_REQUIRE (ts_check.h) for a checker's reason: fails with it unless NULL. */
#define TS_REQUIRE_NULL(expr)                                                \
	do {                                                                 \
		const char *why_ = (expr);                                   \
		if (why_)                                                    \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, why_); \
	} while (0)

struct ts_bt_model {
	struct ms_btree_entry *v;
	size_t n, cap;
	uintptr_t next_val; /* values are distinct fake pointers, never dereferenced */
};

struct ts_bt_cfg {
	uint64_t seed;
	size_t ops;
	size_t max;	   /* entries at most */
	uint64_t span;	   /* keys in [0, span); 0: anywhere, the top of the range too */
	uint64_t max_len;  /* entries 1..max_len gfns long */
	unsigned int grow; /* percent of inserts among inserts and removes */
};

void ts_bt_model_init(struct ts_bt_model *m, size_t cap);
void *ts_bt_model_new_val(struct ts_bt_model *m);
long ts_bt_model_le(const struct ts_bt_model *m, uint64_t g);
bool ts_bt_brute_collides(const struct ts_bt_model *m, uint64_t key, uint64_t end);
bool ts_bt_model_collides(const struct ts_bt_model *m, uint64_t key, uint64_t end);
void ts_bt_model_insert(struct ts_bt_model *m, uint64_t key, uint64_t end, void *val);
void ts_bt_model_remove_at(struct ts_bt_model *m, size_t i);
void *ts_bt_brute_lookup(const struct ts_bt_model *m, uint64_t g);
void ts_bt_check_point(const struct ms_btree *t, const struct ts_bt_model *m, uint64_t g,
		       bool brute);
void ts_bt_check_range(const struct ms_btree *t, const struct ts_bt_model *m, uint64_t s,
		       uint64_t e);
void ts_bt_check_overlaps(const struct ms_btree *t, const struct ts_bt_model *m, uint64_t s,
			  uint64_t e, const void *ignore);
void ts_bt_draw_range(struct ts_rng *r, const struct ts_bt_cfg *cfg, uint64_t *key, uint64_t *end);
uint64_t ts_bt_draw_gfn(struct ts_rng *r, const struct ts_bt_cfg *cfg, const struct ts_bt_model *m);
void ts_bt_op_insert(struct ms_btree *t, struct ts_bt_model *m, struct ts_rng *r,
		     const struct ts_bt_cfg *cfg);
void ts_bt_op_remove(struct ms_btree *t, struct ts_bt_model *m, struct ts_rng *r,
		     const struct ts_bt_cfg *cfg);
void ts_bt_op_replace(struct ms_btree *t, struct ts_bt_model *m, struct ts_rng *r);
void ts_bt_op_build(struct ms_btree *t, struct ts_bt_model *m, struct ts_rng *r);

#endif /* TS_BTREE_MODEL_H */
