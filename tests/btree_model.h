/* SPDX-License-Identifier: MIT */
/*
 * The B+tree test's model and fixture: a sorted array of (key, end, value)
 * the tree must match, the queries compared with it and with brute force,
 * and the random operations applied to tree and model alike (see
 * btree_model.c).  Failures end the running Check test.  Single-threaded,
 * like the tree's writers.
 */
#ifndef MS_TESTS_BTREE_MODEL_H
#define MS_TESTS_BTREE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "btree.h"
#include "tests_util.h"

/* Check's ck_assert_*() costs a write per call; these run millions of times. */
#define REQUIRE(cond)                                                                 \
	do {                                                                          \
		if (!(cond))                                                          \
			ck_abort_msg("%s:%d: failed: %s", __FILE__, __LINE__, #cond); \
	} while (0)

#define REQUIRE_CHECK(expr)                                                  \
	do {                                                                 \
		const char *why_ = (expr);                                   \
		if (why_)                                                    \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, why_); \
	} while (0)

struct model {
	struct ms_btree_entry *v;
	size_t n, cap;
	uintptr_t next_val; /* values are distinct fake pointers, never dereferenced */
};

struct random_cfg {
	uint64_t seed;
	size_t ops;
	size_t max;	   /* entries at most */
	uint64_t span;	   /* keys in [0, span); 0: anywhere, the top of the range too */
	uint64_t max_len;  /* entries 1..max_len gfns long */
	unsigned int grow; /* percent of inserts among inserts and removes */
};

void model_init(struct model *m, size_t cap);
void *model_new_val(struct model *m);
long model_le(const struct model *m, uint64_t g);
bool brute_collides(const struct model *m, uint64_t key, uint64_t end);
bool model_collides(const struct model *m, uint64_t key, uint64_t end);
void model_insert(struct model *m, uint64_t key, uint64_t end, void *val);
void model_remove_at(struct model *m, size_t i);
void *brute_lookup(const struct model *m, uint64_t g);
void check_point(const struct ms_btree *t, const struct model *m, uint64_t g, bool brute);
void check_range(const struct ms_btree *t, const struct model *m, uint64_t s, uint64_t e);
void check_overlaps(const struct ms_btree *t, const struct model *m, uint64_t s, uint64_t e,
		    const void *ignore);
void draw_range(struct tu_rng *r, const struct random_cfg *cfg, uint64_t *key, uint64_t *end);
uint64_t draw_gfn(struct tu_rng *r, const struct random_cfg *cfg, const struct model *m);
void op_insert(struct ms_btree *t, struct model *m, struct tu_rng *r, const struct random_cfg *cfg);
void op_remove(struct ms_btree *t, struct model *m, struct tu_rng *r, const struct random_cfg *cfg);
void op_replace(struct ms_btree *t, struct model *m, struct tu_rng *r);
void op_build(struct ms_btree *t, struct model *m, struct tu_rng *r);

#endif /* MS_TESTS_BTREE_MODEL_H */
