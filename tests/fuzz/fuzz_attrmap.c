// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the memory-attribute map alone, against the cell model
 * of tests/attrmap_model.h (24 one-gfn cells at the bottom of the space,
 * one wide middle cell, 24 at the top, up to UINT64_MAX).  Each operation
 * sets a range of cells to a word on two maps the way the engine does
 * (one prepare reserving for both, apply to one, then to the other),
 * sometimes with an allocation made to fail; or looks gfns up.  After
 * every operation the first map must match the model in every node,
 * lookup and run_end, the second must equal the first, and the allocator
 * must hold exactly the maps' nodes; at the end, nothing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "attrmap_model.h"
#include "attrmap.h"
#include "fuzz_common.h"

struct counter {
	size_t calls, live, fail_at;
};

static void *counted_alloc(size_t size, void *opaque)
{
	struct counter *c = opaque;
	void *p;

	if (++c->calls == c->fail_at)
		return NULL;
	p = malloc(size);
	if (p)
		c->live++;
	return p;
}

static void counted_free(void *ptr, void *opaque)
{
	struct counter *c = opaque;

	c->live--;
	free(ptr);
}

static uint64_t decode_attrs(struct fz_in *in)
{
	static const uint64_t words[] = {0, 1ull << 3, 1, (1ull << 3) | 1, 0, 1ull << 3};
	uint8_t b = fz_u8(in);

	return b >= 0xf0 ? fz_u64(in) : words[b % 6];
}

static void set_cells(struct ms_attrmap map[2], struct ts_am_model *m, struct counter *c,
		      struct fz_in *in)
{
	size_t ci = fz_u8(in) % m->n, cj = ci + fz_u8(in) % (m->n - ci);
	uint64_t attrs = decode_attrs(in);
	uint8_t fail = fz_u8(in);
	struct ms_attrmap_pool res = MS_ATTRMAP_POOL_INIT;
	size_t live = c->live;
	struct ms_attrmap_plan plan;
	int err;

	/* High bit: fail one of the next four allocations. */
	c->fail_at = fail & 0x80 ? c->calls + 1 + (fail & 3) : 0;
	err = ms_attrmap_reserve(&map[0], m->first[ci], ts_am_cell_last(m, cj), attrs, 2, &res,
				 &plan);
	c->fail_at = 0;
	if (err) {
		FZ_CHECK(err == -ENOMEM && (fail & 0x80));
		FZ_CHECK(res.nr == 0 && c->live == live);
		return; /* the model is unchanged too; the caller checks */
	}
	FZ_CHECK(plan.changes == ts_am_model_changes(m, ci, cj, attrs));
	FZ_CHECK(plan.new_runs <= 2 && res.nr == (plan.changes ? 2u * plan.new_runs : 0));
	FZ_CHECK(ms_attrmap_set(&map[0], &plan, &res) == 0);
	FZ_CHECK(ms_attrmap_set(&map[1], &plan, &res) == 0);
	FZ_CHECK(!plan.new_runs || res.nr == 0);
	ms_attrmap_settle(&res, map[0].alloc);
	ts_am_model_set(m, ci, cj, attrs);
}

/* Lookups anywhere in a cell, the wide one included. */
static void look_up(const struct ms_attrmap *map, const struct ts_am_model *m, struct fz_in *in)
{
	size_t c = fz_u8(in) % m->n;
	uint64_t span = ts_am_cell_last(m, c) - m->first[c];
	uint64_t gfn = m->first[c] + (span ? fz_u64(in) % span : 0);
	uint64_t end, want_end;

	FZ_CHECK(ms_attrmap_get(map, gfn, &end) == ts_am_model_get(m, gfn, &want_end));
	FZ_CHECK(end == want_end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct counter c = {0};
	struct ms_alloc alloc = {.alloc = counted_alloc, .free = counted_free, .opaque = &c};
	struct fz_in in = {data, size};
	struct ms_attrmap map[2];
	struct ts_am_model m;
	unsigned int ops = 0;
	const char *why;

	FZ_CHECK(ts_am_model_init(&m, 24, 24) == 0);
	ms_attrmap_init(&map[0], &alloc);
	ms_attrmap_init(&map[1], &alloc);
	while (in.n && ops++ < 256) {
		if (fz_u8(&in) % 8 == 7)
			look_up(&map[0], &m, &in);
		else
			set_cells(map, &m, &c, &in);
		why = ts_am_check(&map[0], &m);
		if (why) {
			fprintf(stderr, "%s\n", why);
			FZ_CHECK(!why);
		}
		FZ_CHECK(ms_attrmap_equal(&map[0], &map[1]));
		FZ_CHECK(c.live == ms_attrmap_nr_runs(&map[0]) + ms_attrmap_nr_runs(&map[1]));
	}
	ms_attrmap_destroy(&map[0]);
	ms_attrmap_destroy(&map[1]);
	FZ_CHECK(c.live == 0);
	ts_am_model_free(&m);
	return 0;
}
