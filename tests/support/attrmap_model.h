/* SPDX-License-Identifier: MIT */
/*
 * A brute-force model of the memory-attribute map, and a checker that
 * compares a map (src/attrmap.h) with it.  Shared by the unit test and the
 * fuzz target, so it depends on neither Check nor libFuzzer.
 *
 * The model partitions the u64 gfn space into fixed cells: @low cells of
 * one gfn at the bottom (gfns 0 .. low - 1), one wide middle cell, and
 * @high cells of one gfn at the top (up to UINT64_MAX itself), with one
 * word per cell.  Ranges set on the model are whole cells, so the middle
 * cell is always uniform, and every gfn of the space has a known word:
 * a plain array where each single-gfn cell is one gfn, plus one cell that
 * stands for everything between, which lets tests reach both ends of the
 * space (gfn 0, and ranges whose exclusive end is 2^64).
 *
 * Header-only, static functions marked unused.
 */
#ifndef TS_ATTRMAP_MODEL_H
#define TS_ATTRMAP_MODEL_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "attrmap.h"
#include "rbtree.h"

#define TS_AM_UNUSED __attribute__((unused))

struct ts_am_model {
	size_t n;	 /* cells */
	uint64_t *first; /* first gfn of each cell; first[0] = 0, ascending */
	uint64_t *attrs; /* word of each cell */
};

/* @low + @high <= a few thousand; returns -1 if memory runs out. */
TS_AM_UNUSED static int ts_am_model_init(struct ts_am_model *m, size_t low, size_t high)
{
	size_t c;

	m->n = low + 1 + high;
	m->first = calloc(m->n, sizeof(*m->first));
	m->attrs = calloc(m->n, sizeof(*m->attrs));
	if (!m->first || !m->attrs)
		return -1;
	for (c = 0; c < low; c++)
		m->first[c] = c;
	m->first[low] = low; /* the middle cell */
	for (c = 0; c < high; c++)
		m->first[low + 1 + c] = UINT64_MAX - (high - 1 - c);
	return 0;
}

TS_AM_UNUSED static void ts_am_model_free(struct ts_am_model *m)
{
	free(m->first);
	free(m->attrs);
}

/* Last gfn (inclusive) of cell @c. */
TS_AM_UNUSED static uint64_t ts_am_cell_last(const struct ts_am_model *m, size_t c)
{
	return c + 1 < m->n ? m->first[c + 1] - 1 : UINT64_MAX;
}

/* Whether setting cells [ci, cj] to @a would change any gfn. */
TS_AM_UNUSED static bool ts_am_model_changes(const struct ts_am_model *m, size_t ci, size_t cj,
					     uint64_t a)
{
	for (size_t c = ci; c <= cj; c++)
		if (m->attrs[c] != a)
			return true;
	return false;
}

TS_AM_UNUSED static void ts_am_model_set(struct ts_am_model *m, size_t ci, size_t cj, uint64_t a)
{
	for (size_t c = ci; c <= cj; c++)
		m->attrs[c] = a;
}

/* The cell holding @gfn (binary search over first[]). */
TS_AM_UNUSED static size_t ts_am_model_cell_of(const struct ts_am_model *m, uint64_t gfn)
{
	size_t lo = 0, hi = m->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->first[mid] <= gfn)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* What ms_attrmap_get() must say of @gfn: the word, and the first later gfn
 * with another word (UINT64_MAX when none below UINT64_MAX differs). */
TS_AM_UNUSED static uint64_t ts_am_model_get(const struct ts_am_model *m, uint64_t gfn,
					     uint64_t *run_end)
{
	size_t c = ts_am_model_cell_of(m, gfn);
	uint64_t a = m->attrs[c];

	while (c + 1 < m->n && m->attrs[c + 1] == a)
		c++;
	*run_end = ts_am_cell_last(m, c) == UINT64_MAX ? UINT64_MAX : ts_am_cell_last(m, c) + 1;
	return a;
}

#define TS_AM_FAIL(buf, ...)                             \
	do {                                             \
		snprintf(buf, sizeof(buf), __VA_ARGS__); \
		return buf;                              \
	} while (0)

TS_AM_UNUSED static int ts_am_run_cmp(const struct ms_rb_node *a, const struct ms_rb_node *b)
{
	uint64_t sa = ms_rb_entry(a, struct ms_attr_run, rb)->start;
	uint64_t sb = ms_rb_entry(b, struct ms_attr_run, rb)->start;

	return (sa > sb) - (sa < sb);
}

/* Longest path from @n down, in nodes. */
TS_AM_UNUSED static unsigned int ts_am_depth(const struct ms_rb_node *n)
{
	unsigned int l, r;

	if (!n)
		return 0;
	l = ts_am_depth(n->left);
	r = ts_am_depth(n->right);
	return 1 + (l > r ? l : r);
}

/*
 * Compares @map with @m in every way a caller can observe it, and checks
 * its invariants independently of ms_attrmap_validate() (which must agree).
 * Returns NULL, or a static description of the first difference.
 * O(cells * log r).
 */
TS_AM_UNUSED static const char *ts_am_check(const struct ms_attrmap *map,
					    const struct ts_am_model *m)
{
	static char buf[256];
	const struct ms_attr_run *run = ms_attrmap_first(map);
	size_t c, nodes = 0, rb_count, ts_model_runs = 0;
	uint64_t gfn, end, want_end, a;
	unsigned int lg = 0;
	const char *why;

	why = ms_rb_validate(&map->root, ts_am_run_cmp, &rb_count);
	if (why)
		TS_AM_FAIL(buf, "%s", why);
	while (((size_t)1 << lg) < rb_count + 1)
		lg++;
	if (ts_am_depth(map->root.node) > 2 * lg)
		TS_AM_FAIL(buf, "depth %u for %zu nodes", ts_am_depth(map->root.node), rb_count);
	if (ms_attrmap_validate(map))
		TS_AM_FAIL(buf, "ms_attrmap_validate() refuses a map the model accepts");

	/* The nodes are exactly the maximal runs of non-0 cells, in order. */
	for (c = 0; c < m->n; c++) {
		size_t d = c;

		while (d + 1 < m->n && m->attrs[d + 1] == m->attrs[c])
			d++;
		ts_model_runs++;
		if (m->attrs[c]) {
			if (!run)
				TS_AM_FAIL(buf, "no node for the run at %#" PRIx64, m->first[c]);
			if (run->start != m->first[c] || run->last != ts_am_cell_last(m, d) ||
			    run->attrs != m->attrs[c])
				TS_AM_FAIL(buf,
					   "node [%#" PRIx64 ", %#" PRIx64 "]=%#" PRIx64
					   ", model [%#" PRIx64 ", %#" PRIx64 "]=%#" PRIx64,
					   run->start, run->last, run->attrs, m->first[c],
					   ts_am_cell_last(m, d), m->attrs[c]);
			run = ms_attrmap_next(run);
			nodes++;
		}
		c = d;
	}
	if (run)
		TS_AM_FAIL(buf, "extra node at %#" PRIx64, run->start);
	if (nodes != ms_attrmap_nr_runs(map) || nodes != rb_count)
		TS_AM_FAIL(buf, "nr_runs %zu, tree %zu, model %zu", ms_attrmap_nr_runs(map),
			   rb_count, nodes);

	/* Lookups at both ends of every cell, and inside the wide one; the
	 * model's run ends come from the right, so this is O(cells). */
	for (c = m->n, want_end = UINT64_MAX; c-- > 0;) {
		uint64_t probe[3] = {m->first[c], ts_am_cell_last(m, c),
				     m->first[c] + (ts_am_cell_last(m, c) - m->first[c]) / 2};

		if (c + 1 < m->n && m->attrs[c + 1] != m->attrs[c])
			want_end = m->first[c + 1];
		for (int i = 0; i < 3; i++) {
			a = ms_attrmap_get(map, probe[i], &end);
			if (a != m->attrs[c] || end != want_end)
				TS_AM_FAIL(buf,
					   "get(%#" PRIx64 ") = %#" PRIx64 " end %#" PRIx64
					   ", model %#" PRIx64 " end %#" PRIx64,
					   probe[i], a, end, m->attrs[c], want_end);
		}
		if (ms_attrmap_get(map, m->first[c], NULL) != m->attrs[c])
			TS_AM_FAIL(buf, "get without run_end at %#" PRIx64, m->first[c]);
	}

	/* Walking gfn = run_end visits every run once, up to the top. */
	for (gfn = 0, nodes = 0;; gfn = end) {
		a = ms_attrmap_get(map, gfn, &end);
		nodes++;
		if (end == UINT64_MAX) {
			/* The one gfn an exclusive end cannot name. */
			if (gfn != UINT64_MAX && ms_attrmap_get(map, UINT64_MAX, NULL) != a)
				nodes++;
			break;
		}
		if (end <= gfn || ms_attrmap_get(map, end, NULL) == a)
			TS_AM_FAIL(buf, "walk: end %#" PRIx64 " after %#" PRIx64, end, gfn);
	}
	if (nodes != ts_model_runs)
		TS_AM_FAIL(buf, "walk saw %zu runs, model has %zu", nodes, ts_model_runs);
	return NULL;
}

#undef TS_AM_FAIL

#endif /* TS_ATTRMAP_MODEL_H */
