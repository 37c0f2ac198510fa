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
#include "tests_util.h"

/* ---- the model ---------------------------------------------------------------- */

void model_init(struct model *m, size_t cap)
{
	m->v = calloc(cap + 1, sizeof(*m->v));
	ck_assert_ptr_nonnull(m->v);
	m->n = 0;
	m->cap = cap;
	m->next_val = 0x1000;
}

void *model_new_val(struct model *m)
{
	m->next_val += 16;
	return (void *)m->next_val;
}

/* Index of the entry with the largest key <= g, or -1. */
long model_le(const struct model *m, uint64_t g)
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

bool brute_collides(const struct model *m, uint64_t key, uint64_t end)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].key < end && m->v[i].end > key)
			return true;
	return false;
}

/* The model's entries are disjoint: only the neighbours of @key can collide. */
bool model_collides(const struct model *m, uint64_t key, uint64_t end)
{
	long i = model_le(m, key);
	bool hit =
		(i >= 0 && m->v[i].end > key) || ((size_t)(i + 1) < m->n && m->v[i + 1].key < end);

	if (m->n < 256)
		REQUIRE(hit == brute_collides(m, key, end));
	return hit;
}

void model_insert(struct model *m, uint64_t key, uint64_t end, void *val)
{
	size_t i = (size_t)(model_le(m, key) + 1);

	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = (struct ms_btree_entry){.key = key, .end = end, .val = val};
	m->n++;
}

void model_remove_at(struct model *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
}

/* ---- queries compared with brute force ----------------------------------------- */

void *brute_lookup(const struct model *m, uint64_t g)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].key <= g && g < m->v[i].end)
			return m->v[i].val;
	return NULL;
}

void check_point(const struct ms_btree *t, const struct model *m, uint64_t g, bool brute)
{
	long i = model_le(m, g);
	void *hit = i >= 0 && g < m->v[i].end ? m->v[i].val : NULL;
	void *below = (void *)1, *above = (void *)1;
	struct ms_btree_cursor c;

	if (brute)
		REQUIRE(brute_lookup(m, g) == hit);
	REQUIRE(ms_btree_lookup(t, g) == hit);
	REQUIRE(ms_btree_search(t, g, &below, &above) == hit);
	REQUIRE(below == (i >= 0 ? m->v[i].val : NULL));
	REQUIRE(above == ((size_t)(i + 1) < m->n ? m->v[i + 1].val : NULL));
	REQUIRE(ms_btree_search(t, g, NULL, NULL) == hit);

	ms_btree_seek_le(t, g, &c);
	if (i < 0) {
		REQUIRE(!ms_btree_cursor_valid(&c));
	} else {
		REQUIRE(ms_btree_cursor_valid(&c));
		REQUIRE(ms_btree_cursor_key(&c) == m->v[i].key);
		REQUIRE(ms_btree_cursor_end(&c) == m->v[i].end);
	}
	ms_btree_seek_gt(t, g, &c);
	if ((size_t)(i + 1) < m->n) {
		REQUIRE(ms_btree_cursor_valid(&c));
		REQUIRE(ms_btree_cursor_val(&c) == m->v[i + 1].val);
	} else {
		REQUIRE(!ms_btree_cursor_valid(&c));
	}
}

void check_range(const struct ms_btree *t, const struct model *m, uint64_t s, uint64_t e)
{
	struct ms_btree_cursor c;
	size_t i = 0;

	/* Skip the model's entries wholly before the range. */
	while (i < m->n && m->v[i].end <= s)
		i++;
	for (ms_btree_range_first(t, s, e, &c); ms_btree_cursor_valid(&c);
	     ms_btree_range_next(&c, e), i++) {
		REQUIRE(e > s && i < m->n);
		REQUIRE(m->v[i].key < e && m->v[i].end > s);
		REQUIRE(ms_btree_cursor_val(&c) == m->v[i].val);
	}
	REQUIRE(e <= s || i == m->n || m->v[i].key >= e);
}

void check_overlaps(const struct ms_btree *t, const struct model *m, uint64_t s, uint64_t e,
		    const void *ignore)
{
	bool want = false;

	for (size_t i = 0; i < m->n && e > s; i++)
		if (m->v[i].val != ignore && m->v[i].key < e && m->v[i].end > s)
			want = true;
	REQUIRE(ms_btree_overlaps(t, s, e, ignore) == want);
}

/* ---- random sequences --------------------------------------------------------------- */

void draw_range(struct tu_rng *r, const struct random_cfg *cfg, uint64_t *key, uint64_t *end)
{
	uint64_t len = 1 + tu_rng_below(r, cfg->max_len);

	if (cfg->span)
		*key = tu_rng_below(r, cfg->span);
	else if (tu_rng_below(r, 8) == 0)
		*key = UINT64_MAX - tu_rng_below(r, 4 * cfg->max_len);
	else
		*key = tu_rng_next(r);
	*end = *key > UINT64_MAX - len ? UINT64_MAX : *key + len;
}

/* A gfn worth asking about: anywhere, or at or next to an entry's edges. */
uint64_t draw_gfn(struct tu_rng *r, const struct random_cfg *cfg, const struct model *m)
{
	uint64_t k, e;

	if (m->n && tu_rng_below(r, 4)) {
		const struct ms_btree_entry *x = &m->v[tu_rng_below(r, m->n)];

		switch (tu_rng_below(r, 5)) {
		case 0:
			return x->key;
		case 1:
			return x->key - 1;
		case 2:
			return x->end - 1;
		case 3:
			return x->end;
		default:
			return x->key + tu_rng_below(r, x->end - x->key);
		}
	}
	if (tu_rng_below(r, 16) == 0)
		return tu_rng_below(r, 2) ? UINT64_MAX : 0;
	draw_range(r, cfg, &k, &e);
	return k;
}

void op_insert(struct ms_btree *t, struct model *m, struct tu_rng *r, const struct random_cfg *cfg)
{
	uint64_t key, end;
	void *val = model_new_val(m);
	int want, got;

	draw_range(r, cfg, &key, &end);
	if (tu_rng_below(r, 64) == 0)
		end = key - tu_rng_below(r, 2); /* bad: empty or backwards */
	want = end <= key ? -EINVAL : model_collides(m, key, end) ? -EEXIST : 0;
	got = ms_btree_insert(t, key, end, val);
	REQUIRE(got == want);
	if (!got)
		model_insert(m, key, end, val);
}

void op_remove(struct ms_btree *t, struct model *m, struct tu_rng *r, const struct random_cfg *cfg)
{
	void *val = NULL;

	if (m->n && tu_rng_below(r, 8)) {
		size_t i = tu_rng_below(r, m->n);

		REQUIRE(ms_btree_remove(t, m->v[i].key, &val) == 0);
		REQUIRE(val == m->v[i].val);
		model_remove_at(m, i);
	} else {
		uint64_t g = draw_gfn(r, cfg, m);
		long i = model_le(m, g);
		bool present = i >= 0 && m->v[i].key == g;

		REQUIRE(ms_btree_remove(t, g, NULL) == (present ? 0 : -ENOENT));
		if (present)
			model_remove_at(m, (size_t)i);
	}
}

void op_replace(struct ms_btree *t, struct model *m, struct tu_rng *r)
{
	size_t i = tu_rng_below(r, m->n), nodes = t->nr_nodes;
	void *root = t->root, *val = model_new_val(m);

	REQUIRE(ms_btree_replace(t, m->v[i].key, val) == 0);
	REQUIRE(t->root == root && t->nr_nodes == nodes);
	m->v[i].val = val;
	/* A key one below an entry's: present only if an entry starts there. */
	if (m->v[i].key) {
		bool present = i && m->v[i - 1].key == m->v[i].key - 1;

		val = model_new_val(m);
		REQUIRE(ms_btree_replace(t, m->v[i].key - 1, val) == (present ? 0 : -ENOENT));
		if (present)
			m->v[i - 1].val = val;
	}
}

/* Rebuilds the tree from the model, every value fresh, sometimes dropping
 * a random part of the entries first. */
void op_build(struct ms_btree *t, struct model *m, struct tu_rng *r)
{
	if (m->n && tu_rng_below(r, 2)) {
		size_t keep = 0;

		for (size_t i = 0; i < m->n; i++)
			if (tu_rng_below(r, 4))
				m->v[keep++] = m->v[i];
		m->n = keep;
	}
	for (size_t i = 0; i < m->n; i++)
		m->v[i].val = model_new_val(m);
	REQUIRE(ms_btree_build(t, m->v, m->n) == 0);
	REQUIRE(t->nr_nodes == ms_btree_build_nodes(m->n));
}
