/* SPDX-License-Identifier: MIT */
/*
 * The B+tree test's model and fixture (see btree_model.h): the model, the
 * queries compared with brute force, the random operations.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "btree.h"
#include "btree_check.h"
#include "btree_model.h"
#include "ts_check.h"

/* ---- the model ---------------------------------------------------------------- */

void ts_bt_model_init(struct ts_bt_model *m, size_t cap)
{
	m->v = calloc(cap + 1, sizeof(*m->v));
	ck_assert_ptr_nonnull(m->v);
	m->n = 0;
	m->cap = cap;
	m->next_val = 0x1000;
}

void *ts_bt_model_new_val(struct ts_bt_model *m)
{
	m->next_val += 16;
	return (void *)m->next_val;
}

/* Index of the entry with the largest key <= g, or -1. */
long ts_bt_model_le(const struct ts_bt_model *m, uint64_t g)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].key <= g)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

bool ts_bt_brute_collides(const struct ts_bt_model *m, uint64_t key, uint64_t end)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].key < end && m->v[i].end > key)
			return true;
	return false;
}

/* The model's entries are disjoint: only the neighbours of @key can collide. */
bool ts_bt_model_collides(const struct ts_bt_model *m, uint64_t key, uint64_t end)
{
	long i = ts_bt_model_le(m, key);
	bool hit =
		(i >= 0 && m->v[i].end > key) || ((size_t)(i + 1) < m->n && m->v[i + 1].key < end);

	if (m->n < 256)
		TS_REQUIRE(hit == ts_bt_brute_collides(m, key, end));
	return hit;
}

void ts_bt_model_insert(struct ts_bt_model *m, uint64_t key, uint64_t end, void *val)
{
	size_t i = (size_t)(ts_bt_model_le(m, key) + 1);

	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = (struct ms_btree_entry){.key = key, .end = end, .val = val};
	m->n++;
}

void ts_bt_model_remove_at(struct ts_bt_model *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
}

/* ---- queries compared with brute force ----------------------------------------- */

void *ts_bt_brute_lookup(const struct ts_bt_model *m, uint64_t g)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].key <= g && g < m->v[i].end)
			return m->v[i].val;
	return NULL;
}

void ts_bt_check_point(const struct ms_btree *t, const struct ts_bt_model *m, uint64_t g,
		       bool brute)
{
	long i = ts_bt_model_le(m, g);
	void *hit = i >= 0 && g < m->v[i].end ? m->v[i].val : NULL;
	void *below = (void *)1, *above = (void *)1;
	struct ms_btree_cursor c;

	if (brute)
		TS_REQUIRE(ts_bt_brute_lookup(m, g) == hit);
	TS_REQUIRE(ms_btree_lookup(t, g) == hit);
	TS_REQUIRE(ms_btree_search(t, g, &below, &above) == hit);
	TS_REQUIRE(below == (i >= 0 ? m->v[i].val : NULL));
	TS_REQUIRE(above == ((size_t)(i + 1) < m->n ? m->v[i + 1].val : NULL));
	TS_REQUIRE(ms_btree_search(t, g, NULL, NULL) == hit);

	ms_btree_seek_le(t, g, &c);
	if (i < 0) {
		TS_REQUIRE(!ms_btree_cursor_valid(&c));
	} else {
		TS_REQUIRE(ms_btree_cursor_valid(&c));
		TS_REQUIRE(ms_btree_cursor_key(&c) == m->v[i].key);
		TS_REQUIRE(ms_btree_cursor_end(&c) == m->v[i].end);
	}
	ms_btree_seek_gt(t, g, &c);
	if ((size_t)(i + 1) < m->n) {
		TS_REQUIRE(ms_btree_cursor_valid(&c));
		TS_REQUIRE(ms_btree_cursor_val(&c) == m->v[i + 1].val);
	} else {
		TS_REQUIRE(!ms_btree_cursor_valid(&c));
	}
}

void ts_bt_check_range(const struct ms_btree *t, const struct ts_bt_model *m, uint64_t s,
		       uint64_t e)
{
	struct ms_btree_cursor c;
	size_t i = 0;

	/* Skip the model's entries wholly before the range. */
	while (i < m->n && m->v[i].end <= s)
		i++;
	for (ms_btree_range_first(t, s, e, &c); ms_btree_cursor_valid(&c);
	     ms_btree_range_next(&c, e), i++) {
		TS_REQUIRE(e > s && i < m->n);
		TS_REQUIRE(m->v[i].key < e && m->v[i].end > s);
		TS_REQUIRE(ms_btree_cursor_val(&c) == m->v[i].val);
	}
	TS_REQUIRE(e <= s || i == m->n || m->v[i].key >= e);
}

void ts_bt_check_overlaps(const struct ms_btree *t, const struct ts_bt_model *m, uint64_t s,
			  uint64_t e, const void *ignore)
{
	bool want = false;

	for (size_t i = 0; i < m->n && e > s; i++)
		if (m->v[i].val != ignore && m->v[i].key < e && m->v[i].end > s)
			want = true;
	TS_REQUIRE(ms_btree_overlaps(t, s, e, ignore) == want);
}

/* ---- random sequences --------------------------------------------------------------- */

void ts_bt_draw_range(struct ts_rng *r, const struct ts_bt_cfg *cfg, uint64_t *key, uint64_t *end)
{
	uint64_t len = 1 + ts_rng_below(r, cfg->max_len);

	if (cfg->span)
		*key = ts_rng_below(r, cfg->span);
	else if (ts_rng_below(r, 8) == 0)
		*key = UINT64_MAX - ts_rng_below(r, 4 * cfg->max_len);
	else
		*key = ts_rng_next(r);
	*end = *key > UINT64_MAX - len ? UINT64_MAX : *key + len;
}

/* A gfn worth asking about: anywhere, or at or next to an entry's edges. */
uint64_t ts_bt_draw_gfn(struct ts_rng *r, const struct ts_bt_cfg *cfg, const struct ts_bt_model *m)
{
	uint64_t k, e;

	if (m->n && ts_rng_below(r, 4)) {
		const struct ms_btree_entry *x = &m->v[ts_rng_below(r, m->n)];

		switch (ts_rng_below(r, 5)) {
		case 0:
			return x->key;
		case 1:
			return x->key - 1;
		case 2:
			return x->end - 1;
		case 3:
			return x->end;
		default:
			return x->key + ts_rng_below(r, x->end - x->key);
		}
	}
	if (ts_rng_below(r, 16) == 0)
		return ts_rng_below(r, 2) ? UINT64_MAX : 0;
	ts_bt_draw_range(r, cfg, &k, &e);
	return k;
}

void ts_bt_op_insert(struct ms_btree *t, struct ts_bt_model *m, struct ts_rng *r,
		     const struct ts_bt_cfg *cfg)
{
	uint64_t key, end;
	void *val = ts_bt_model_new_val(m);
	int want, got;

	ts_bt_draw_range(r, cfg, &key, &end);
	if (ts_rng_below(r, 64) == 0)
		end = key - ts_rng_below(r, 2); /* bad: empty or backwards */
	want = end <= key ? -EINVAL : ts_bt_model_collides(m, key, end) ? -EEXIST : 0;
	got = ms_btree_insert(t, key, end, val);
	TS_REQUIRE(got == want);
	if (!got)
		ts_bt_model_insert(m, key, end, val);
}

void ts_bt_op_remove(struct ms_btree *t, struct ts_bt_model *m, struct ts_rng *r,
		     const struct ts_bt_cfg *cfg)
{
	void *val = NULL;

	if (m->n && ts_rng_below(r, 8)) {
		size_t i = ts_rng_below(r, m->n);

		TS_REQUIRE(ms_btree_remove(t, m->v[i].key, &val) == 0);
		TS_REQUIRE(val == m->v[i].val);
		ts_bt_model_remove_at(m, i);
	} else {
		uint64_t g = ts_bt_draw_gfn(r, cfg, m);
		long i = ts_bt_model_le(m, g);
		bool present = i >= 0 && m->v[i].key == g;

		TS_REQUIRE(ms_btree_remove(t, g, NULL) == (present ? 0 : -ENOENT));
		if (present)
			ts_bt_model_remove_at(m, (size_t)i);
	}
}

void ts_bt_op_replace(struct ms_btree *t, struct ts_bt_model *m, struct ts_rng *r)
{
	size_t i = ts_rng_below(r, m->n), nodes = t->nr_nodes;
	void *root = t->root, *val = ts_bt_model_new_val(m);

	TS_REQUIRE(ms_btree_replace(t, m->v[i].key, val) == 0);
	TS_REQUIRE(t->root == root && t->nr_nodes == nodes);
	m->v[i].val = val;
	/* A key one below an entry's: present only if an entry starts there. */
	if (m->v[i].key) {
		bool present = i && m->v[i - 1].key == m->v[i].key - 1;

		val = ts_bt_model_new_val(m);
		TS_REQUIRE(ms_btree_replace(t, m->v[i].key - 1, val) == (present ? 0 : -ENOENT));
		if (present)
			m->v[i - 1].val = val;
	}
}

/* Rebuilds the tree from the model, every value fresh, sometimes dropping
 * a random part of the entries first. */
void ts_bt_op_build(struct ms_btree *t, struct ts_bt_model *m, struct ts_rng *r)
{
	if (m->n && ts_rng_below(r, 2)) {
		size_t keep = 0;

		for (size_t i = 0; i < m->n; i++)
			if (ts_rng_below(r, 4))
				m->v[keep++] = m->v[i];
		m->n = keep;
	}
	for (size_t i = 0; i < m->n; i++)
		m->v[i].val = ts_bt_model_new_val(m);
	TS_REQUIRE(ms_btree_build(t, m->v, m->n) == 0);
	TS_REQUIRE(t->nr_nodes == ms_btree_build_nodes(m->n));
}
