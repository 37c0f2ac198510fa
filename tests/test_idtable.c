/* SPDX-License-Identifier: MIT */
/*
 * Property tests of a set's id table (src/idtable.h) against a
 * brute-force model: an array from id to slot.
 *
 * Random writer calls as the engine makes them: every insert of the call
 * reserved first (some reservations failing, by injected allocation
 * failure at every site in turn), then inserts of absent ids, removes and
 * replaces by a second slot object of the same id; then either the call
 * ends (settle) or it fails and undoes its changes in reverse before it
 * settles, which must leave the table as found, its memory too (live
 * allocations and bytes).  After every change each id of the universe is
 * looked up against the model; after every call the checker, the size the
 * header promises and the lowest free id of random ranges against a scan
 * of the model.  Universes: ids dense from 0, ids spread over the whole
 * 16 bits, and multiples of 1024 (every one in the same low bits: the
 * probes' worst case).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "idtable.h"
#include "slot.h"
#include "ts_alloc.h"
#include "ts_check.h"
#include "ts_rng.h"
#include "ts_scale.h"

static size_t scaled(size_t n)
{
	/* Valgrind runs ~50x slower; keep its runs short. */
	return ts_scaled(n, 25);
}

#define MAX_UNIVERSE 2048u

struct fixture {
	struct ts_alloc_counter cnt;
	struct ms_alloc alloc;
	struct ms_idtab t;
	unsigned int nr_ids;
	uint16_t ids[MAX_UNIVERSE];		/* the universe */
	struct ms_slot objs[2][MAX_UNIVERSE];	/* two objects per id, for replaces */
	struct ms_slot *model[MAX_UNIVERSE];	/* index in the universe -> slot */
	struct ts_rng rng;
};

static struct fixture *fixture_new(uint64_t seed)
{
	struct fixture *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	f->alloc = (struct ms_alloc){.alloc = ts_alloc, .free = ts_free, .opaque = &f->cnt};
	ms_idtab_init(&f->t, &f->alloc);
	f->rng.s = seed;
	return f;
}

static void fixture_free(struct fixture *f)
{
	ms_idtab_destroy(&f->t);
	TS_REQUIRE(f->cnt.live == 0);
	free(f);
}

static void set_universe(struct fixture *f, unsigned int n, uint32_t (*id_of)(unsigned int i))
{
	ck_assert_uint_le(n, MAX_UNIVERSE);
	f->nr_ids = n;
	for (unsigned int i = 0; i < n; i++) {
		f->ids[i] = (uint16_t)id_of(i);
		f->objs[0][i].pub.id = f->ids[i];
		f->objs[1][i].pub.id = f->ids[i];
	}
}

static uint32_t id_dense(unsigned int i)
{
	return i;
}

static uint32_t id_wide(unsigned int i)
{
	/* distinct, spread over all 16 bits */
	return (i * 40503u) & 0xffffu;
}

static uint32_t id_stride(unsigned int i)
{
	return (i * 1024u) & 0xffffu;
}

static size_t model_count(const struct fixture *f)
{
	size_t n = 0;

	for (unsigned int i = 0; i < f->nr_ids; i++)
		n += f->model[i] != NULL;
	return n;
}

static void check_lookups(const struct fixture *f)
{
	for (unsigned int i = 0; i < f->nr_ids; i++)
		TS_REQUIRE(ms_idtab_find(&f->t, f->ids[i]) == f->model[i]);
	TS_REQUIRE(f->t.count == model_count(f));
}

/* Everything between calls: checker, size, lowest free ids. */
static void check_between_calls(struct fixture *f)
{
	const char *why = ms_idtab_check(&f->t);
	uint32_t max_id = 0, size = f->t.mask + 1;
	size_t n = model_count(f);
	static bool used[65536];

	ck_assert_msg(why == NULL, "%s", why ? why : "");
	/* nothing aside between calls */
	TS_REQUIRE(!f->t.spare && !f->t.old && !f->t.reserved);
	check_lookups(f);
	memset(used, 0, sizeof(used));
	for (unsigned int i = 0; i < f->nr_ids; i++) {
		used[f->ids[i]] = f->model[i] != NULL;
		if (f->model[i] && f->ids[i] > max_id)
			max_id = f->ids[i];
	}
	/* never fuller than 3/4 unless every id has a bucket of its own */
	if (n)
		TS_REQUIRE(n * 4 <= (size_t)size * 3 || max_id < size);
	for (unsigned int k = 0; k < 4; k++) {
		unsigned int first = (unsigned int)ts_rng_below(&f->rng, 65536);
		unsigned int last = first + (unsigned int)ts_rng_below(&f->rng, 65536 - first);
		int want = -1, got;

		if (k == 0)
			first = 0;
		for (unsigned int id = first; id <= last; id++) {
			if (!used[id]) {
				want = (int)id;
				break;
			}
		}
		got = ms_idtab_lowest_free(&f->t, first, last);
		ck_assert_int_eq(got, want);
	}
}

enum op_type { OP_INSERT, OP_REMOVE, OP_REPLACE };

struct op {
	enum op_type type;
	unsigned int i;		  /* index in the universe */
	struct ms_slot *was, *now; /* for the undo */
};

static void op_do(struct fixture *f, const struct op *op)
{
	switch (op->type) {
	case OP_INSERT:
		ms_idtab_insert(&f->t, f->ids[op->i], op->now);
		break;
	case OP_REMOVE:
		ms_idtab_remove(&f->t, f->ids[op->i]);
		break;
	case OP_REPLACE:
		ms_idtab_replace(&f->t, f->ids[op->i], op->now);
		break;
	}
	f->model[op->i] = op->now;
	check_lookups(f);
}

static void op_undo(struct fixture *f, const struct op *op)
{
	if (op->type == OP_INSERT)
		ms_idtab_remove(&f->t, f->ids[op->i]);
	else if (op->type == OP_REMOVE)
		ms_idtab_insert(&f->t, f->ids[op->i], op->was);
	else
		ms_idtab_replace(&f->t, f->ids[op->i], op->was);
	f->model[op->i] = op->was;
	check_lookups(f);
}

/* Draws a call of up to @max_ops changes; an id is named once per call. */
static size_t draw_call(struct fixture *f, struct op *ops, size_t max_ops, bool *named)
{
	size_t n = 1 + (size_t)ts_rng_below(&f->rng, max_ops);
	size_t k = 0;

	memset(named, 0, f->nr_ids);
	for (size_t tries = 0; k < n && tries < 4 * n; tries++) {
		unsigned int i = (unsigned int)ts_rng_below(&f->rng, f->nr_ids);
		struct op *op = &ops[k];

		if (named[i])
			continue;
		named[i] = true;
		op->i = i;
		op->was = f->model[i];
		if (!op->was) {
			op->type = OP_INSERT;
			op->now = &f->objs[ts_rng_below(&f->rng, 2)][i];
		} else if (ts_rng_below(&f->rng, 3) == 0) {
			op->type = OP_REPLACE;
			op->now = op->was == &f->objs[0][i] ? &f->objs[1][i] : &f->objs[0][i];
		} else {
			op->type = OP_REMOVE;
			op->now = NULL;
		}
		k++;
	}
	return k;
}

/*
 * One call: reserve (maybe failing at allocation @fail_at of the call),
 * changes, then success or failure with undo.  With @interleave, each
 * change right after its reservation, as the engine stages a batch.  A
 * failed call must leave the table and its memory as found.
 */
static void run_call(struct fixture *f, struct op *ops, size_t nr, size_t fail_at, bool fail,
		     bool interleave)
{
	size_t live = f->cnt.live, bytes = f->cnt.bytes, calls0 = f->cnt.calls, done = 0;
	int err = 0;

	f->cnt.fail_at = fail_at ? calls0 + fail_at : 0;
	f->cnt.failed = false;
	for (size_t k = 0; k < nr && !err; k++) {
		if (ops[k].type == OP_INSERT)
			err = ms_idtab_reserve(&f->t, f->ids[ops[k].i]);
		if (!err && interleave)
			op_do(f, &ops[done++]);
	}
	f->cnt.fail_at = 0;
	if (err) {
		ck_assert_int_eq(err, -ENOMEM);
		TS_REQUIRE(f->cnt.failed);
		while (done-- > 0)
			op_undo(f, &ops[done]);
		ms_idtab_settle(&f->t, 1);
		TS_REQUIRE(f->cnt.live == live && f->cnt.bytes == bytes);
		return;
	}
	for (; done < nr; done++)
		op_do(f, &ops[done]);
	if (fail) {
		for (size_t k = nr; k-- > 0;)
			op_undo(f, &ops[k]);
		ms_idtab_settle(&f->t, 1);
		TS_REQUIRE(f->cnt.live == live && f->cnt.bytes == bytes);
	} else {
		ms_idtab_settle(&f->t, 0);
	}
}

static void random_calls(uint32_t (*id_of)(unsigned int i), unsigned int universe,
			 size_t max_ops, size_t calls, uint64_t seed)
{
	struct fixture *f = fixture_new(seed);
	struct op *ops = calloc(max_ops, sizeof(*ops));
	bool *named = calloc(universe, 1);

	ck_assert_ptr_nonnull(ops);
	ck_assert_ptr_nonnull(named);
	set_universe(f, universe, id_of);
	for (size_t c = 0; c < scaled(calls); c++) {
		size_t nr = draw_call(f, ops, max_ops, named);
		unsigned int how = (unsigned int)ts_rng_below(&f->rng, 8);

		/* 1 in 8 fail an allocation (the first, the second...), 1 in 8 undo */
		run_call(f, ops, nr, how == 0 ? 1 + (size_t)ts_rng_below(&f->rng, 3) : 0,
			 how == 1, ts_rng_below(&f->rng, 2));
		check_between_calls(f);
	}
	free(named);
	free(ops);
	fixture_free(f);
}

START_TEST(random_dense)
{
	random_calls(id_dense, 600, 40, 3000, 0x1234567ull);
}
END_TEST

START_TEST(random_wide)
{
	random_calls(id_wide, 1500, 200, 1500, 0xabcdefull);
}
END_TEST

START_TEST(random_stride)
{
	random_calls(id_stride, 64, 16, 3000, 0x777ull);
}
END_TEST

START_TEST(sizes_as_promised)
{
	struct fixture *f = fixture_new(1);
	struct op op = {.type = OP_INSERT};

	/* two slots, ids 0 and 32763: the smallest table, 8 buckets */
	set_universe(f, 2, id_dense);
	f->ids[1] = 32763;
	f->objs[0][1].pub.id = 32763;
	for (unsigned int i = 0; i < 2; i++) {
		op.i = i;
		op.now = &f->objs[0][i];
		run_call(f, &op, 1, 0, false, false);
	}
	check_between_calls(f);
	ck_assert_uint_eq(f->t.mask + 1, MS_IDTAB_MIN_SIZE);
	ck_assert_uint_eq(f->cnt.bytes, MS_IDTAB_MIN_SIZE * sizeof(struct ms_slot *));
	fixture_free(f);

	/* ids 0..599, one call: 1024 buckets, each slot in the bucket of its id */
	f = fixture_new(2);
	set_universe(f, 600, id_dense);
	for (unsigned int i = 0; i < 600; i++) {
		op.i = i;
		op.now = &f->objs[0][i];
		ck_assert_int_eq(ms_idtab_reserve(&f->t, f->ids[i]), 0);
	}
	for (unsigned int i = 0; i < 600; i++) {
		op.i = i;
		op.now = &f->objs[0][i];
		op_do(f, &op);
	}
	ms_idtab_settle(&f->t, 0);
	check_between_calls(f);
	ck_assert_uint_eq(f->t.mask + 1, 1024);
	for (unsigned int i = 0; i < 600; i++)
		ck_assert_ptr_eq(f->t.table[i], &f->objs[0][i]);
	/* removes keep the size; the free-id search starts at the hole */
	op.type = OP_REMOVE;
	op.i = 300;
	op.now = NULL;
	op_do(f, &op);
	ck_assert_int_eq(ms_idtab_lowest_free(&f->t, 0, 65535), 300);
	ck_assert_int_eq(ms_idtab_lowest_free(&f->t, 301, 65535), 600);
	ck_assert_int_eq(ms_idtab_lowest_free(&f->t, 0, 299), -1);
	ck_assert_uint_eq(f->t.mask + 1, 1024);
	fixture_free(f);
}
END_TEST

START_TEST(empty_table)
{
	struct fixture *f = fixture_new(3);

	ck_assert_ptr_null(ms_idtab_find(&f->t, 0));
	ck_assert_ptr_null(ms_idtab_find(&f->t, 65535));
	ck_assert_int_eq(ms_idtab_lowest_free(&f->t, 0, 65535), 0);
	ck_assert_int_eq(ms_idtab_lowest_free(&f->t, 70, 80), 70);
	ck_assert_ptr_null(ms_idtab_check(&f->t));
	/* a failed first insert gives its table back */
	ck_assert_int_eq(ms_idtab_reserve(&f->t, 5), 0);
	ck_assert_uint_eq(f->cnt.live, 1);
	ms_idtab_settle(&f->t, 1);
	ck_assert_uint_eq(f->cnt.live, 0);
	ck_assert_ptr_null(ms_idtab_check(&f->t));
	fixture_free(f);
}
END_TEST

static Suite *make_suite(void)
{
	const struct ts_case cases[] = {
		{.tcase = "focused", .test = empty_table},
		{.tcase = "focused", .test = sizes_as_promised},
		{.tcase = "random_dense", .test = random_dense},
		{.tcase = "random_wide", .test = random_wide},
		{.tcase = "random_stride", .test = random_stride},
	};
	Suite *s = suite_create("idtable");

	ts_add_cases(s, cases, MS_ARRAY_SIZE(cases));
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
