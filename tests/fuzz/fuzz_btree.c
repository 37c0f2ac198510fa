// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the gfn B+tree alone: inserts (colliding and invalid ones
 * too), removes, replaces, bulk builds, reserves, trims and allocation
 * failures, decoded from the input, against a sorted array of entries.
 * After every operation the independent checker (tests/btree_check.c) must
 * pass and the tree must hold exactly the model's entries; lookups,
 * neighbour searches, seeks, range walks and overlap queries must agree
 * with brute force; an operation that fails must change nothing; a
 * reserved insert must not allocate; nothing may leak.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "btree.h"
#include "btree_check.h"
#include "fuzz_common.h"

#define MAX_ENTRIES 1024u

static struct ms_btree_entry model[MAX_ENTRIES + 1];
static size_t nmodel;
static uintptr_t next_val;

/* An allocator that counts live blocks and fails when told to. */
struct fz_alloc {
	size_t live, calls;
	bool fail;
};

static void *fz_alloc_fn(size_t size, void *opaque)
{
	struct fz_alloc *a = opaque;
	void *p;

	a->calls++;
	if (a->fail)
		return NULL;
	p = malloc(size);
	if (p)
		a->live++;
	return p;
}

static void fz_free_fn(void *ptr, void *opaque)
{
	struct fz_alloc *a = opaque;

	if (ptr)
		a->live--;
	free(ptr);
}

static void *new_val(void)
{
	next_val += 16;
	return (void *)next_val;
}

/* Keys from a small space, so that entries collide; sometimes the top. */
static uint64_t fz_gfn(struct fz_in *in)
{
	uint8_t b = fz_u8(in);

	if (b >= 0xfc)
		return UINT64_MAX - (0xff - b);
	return (uint64_t)b << 8 | fz_u8(in);
}

static long ts_model_le(uint64_t g)
{
	long i;

	for (i = (long)nmodel - 1; i >= 0; i--)
		if (model[i].key <= g)
			break;
	return i;
}

static bool ts_model_collides(uint64_t key, uint64_t end)
{
	for (size_t i = 0; i < nmodel; i++)
		if (model[i].key < end && model[i].end > key)
			return true;
	return false;
}

static void ts_model_insert(uint64_t key, uint64_t end, void *val)
{
	size_t i = (size_t)(ts_model_le(key) + 1);

	memmove(&model[i + 1], &model[i], (nmodel - i) * sizeof(model[0]));
	model[i] = (struct ms_btree_entry){.key = key, .end = end, .val = val};
	nmodel++;
}

static void ts_model_remove_at(size_t i)
{
	memmove(&model[i], &model[i + 1], (nmodel - i - 1) * sizeof(model[0]));
	nmodel--;
}

static void check_queries(const struct ms_btree *t, uint64_t g, uint64_t h, const void *ignore)
{
	long i = ts_model_le(g);
	void *hit = i >= 0 && g < model[i].end ? model[i].val : NULL;
	void *below, *above;
	struct ms_btree_cursor c;
	size_t k = 0;
	bool want = false;

	FZ_CHECK(ms_btree_lookup(t, g) == hit);
	FZ_CHECK(ms_btree_search(t, g, &below, &above) == hit);
	FZ_CHECK(below == (i >= 0 ? model[i].val : NULL));
	FZ_CHECK(above == ((size_t)(i + 1) < nmodel ? model[i + 1].val : NULL));
	ms_btree_seek_gt(t, g, &c);
	FZ_CHECK(ms_btree_cursor_valid(&c) == ((size_t)(i + 1) < nmodel));
	if (ms_btree_cursor_valid(&c))
		FZ_CHECK(ms_btree_cursor_val(&c) == model[i + 1].val);

	/* Range [g, h): the model's intersecting entries, in order. */
	while (k < nmodel && model[k].end <= g)
		k++;
	for (ms_btree_range_first(t, g, h, &c); ms_btree_cursor_valid(&c);
	     ms_btree_range_next(&c, h), k++) {
		FZ_CHECK(h > g && k < nmodel && model[k].key < h);
		FZ_CHECK(ms_btree_cursor_val(&c) == model[k].val);
	}
	FZ_CHECK(h <= g || k == nmodel || model[k].key >= h);

	for (k = 0; k < nmodel && h > g; k++)
		if (model[k].val != ignore && model[k].key < h && model[k].end > g)
			want = true;
	FZ_CHECK(ms_btree_overlaps(t, g, h, ignore) == want);
}

/* A bulk build of a run of entries: count, start, stride, length. */
static void op_build(struct ms_btree *t, struct fz_in *in, const struct fz_alloc *a)
{
	static struct ms_btree_entry run[MAX_ENTRIES];
	size_t n = ((size_t)fz_u8(in) << 8 | fz_u8(in)) % (MAX_ENTRIES + 1);
	uint64_t start = fz_gfn(in), stride = 1 + fz_u8(in) % 16, len = 1 + fz_u8(in) % 16;
	size_t nodes = t->nr_nodes, count = t->count;
	int err;

	if (len > stride)
		len = stride;
	if (n && start > UINT64_MAX - n * stride)
		start = UINT64_MAX - n * stride;
	for (size_t i = 0; i < n; i++)
		run[i] = (struct ms_btree_entry){start + i * stride, start + i * stride + len,
						 new_val()};
	err = ms_btree_build(t, run, n);
	if (err) {
		/* Only for want of memory; then the tree is as it was. */
		FZ_CHECK(err == -ENOMEM && a->fail);
		FZ_CHECK(t->nr_nodes == nodes && t->count == count);
		return;
	}
	memcpy(model, run, n * sizeof(run[0]));
	nmodel = n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_alloc fa = {0};
	struct ms_alloc alloc = {.alloc = fz_alloc_fn, .free = fz_free_fn, .opaque = &fa};
	struct fz_in in = {data, size};
	struct ms_btree t;
	unsigned int ops = 0;
	size_t reserved = 0; /* inserts the last reserve still covers */

	ms_btree_init(&t, &alloc);
	nmodel = 0;
	next_val = 0x1000;
	while (in.n && ops++ < 1024) {
		uint8_t op = fz_u8(&in);
		uint64_t key, end, g, h;
		size_t calls, pool;
		void *val;
		int err;

		fa.fail = op & 0x80; /* the high bit fails every allocation of this op */
		switch (op % 8) {
		case 0:
		case 1:
		case 2: /* insert */
			key = fz_gfn(&in);
			end = key + 1 + fz_u8(&in) % 64;
			if (end < key || fz_u8(&in) == 0xff)
				end = fz_u8(&in) & 1 ? UINT64_MAX : key;
			val = new_val();
			calls = fa.calls;
			pool = t.pool_count;
			err = ms_btree_insert(&t, key, end, val);
			if (end <= key)
				FZ_CHECK(err == -EINVAL);
			else if (ts_model_collides(key, end))
				FZ_CHECK(err == -EEXIST);
			else if (err)
				FZ_CHECK(err == -ENOMEM && fa.fail && !reserved);
			if (reserved && !err && end > key)
				FZ_CHECK(fa.calls == calls); /* covered: not even an attempt */
			if (err)
				FZ_CHECK(t.pool_count == pool);
			if (!err && nmodel == MAX_ENTRIES) {
				FZ_CHECK(ms_btree_remove(&t, key, NULL) == 0); /* model full */
			} else if (!err) {
				ts_model_insert(key, end, val);
				if (reserved)
					reserved--;
			}
			break;
		case 3: /* remove an entry, or a key that may be none */
			if (nmodel && fz_u8(&in) & 1) {
				size_t i = fz_u8(&in) % nmodel;

				FZ_CHECK(ms_btree_remove(&t, model[i].key, &val) == 0);
				FZ_CHECK(val == model[i].val);
				ts_model_remove_at(i);
			} else {
				long i;

				key = fz_gfn(&in);
				i = ts_model_le(key);
				err = ms_btree_remove(&t, key, NULL);
				FZ_CHECK(err == (i >= 0 && model[i].key == key ? 0 : -ENOENT));
				if (!err)
					ts_model_remove_at((size_t)i);
			}
			break;
		case 4: /* replace */
			if (!nmodel)
				break;
			{
				size_t i = fz_u8(&in) % nmodel;
				void *root = t.root;

				val = new_val();
				FZ_CHECK(ms_btree_replace(&t, model[i].key, val) == 0);
				FZ_CHECK(t.root == root);
				model[i].val = val;
			}
			break;
		case 5: /* reserve */
			key = fz_u8(&in) % 64;
			pool = t.pool_count;
			err = ms_btree_reserve(&t, key);
			if (err) {
				FZ_CHECK(err == -ENOMEM && fa.fail && t.pool_count == pool);
				reserved = 0;
			} else {
				FZ_CHECK(t.pool_count >= ms_btree_insert_nodes(&t, key));
				reserved = key;
			}
			break;
		case 6: /* trim */
			ms_btree_settle(&t, fz_u8(&in) % 8);
			reserved = 0;
			break;
		default:
			op_build(&t, &in, &fa);
			reserved = 0;
			break;
		}
		fa.fail = false;
		{
			const char *why = ms_btree_check_model(&t, model, nmodel);

			if (why)
				fz_fail(__FILE__, __LINE__, why);
		}
		g = fz_gfn(&in);
		h = fz_gfn(&in);
		check_queries(&t, g, h, nmodel ? model[g % nmodel].val : NULL);
	}
	ms_btree_destroy(&t);
	FZ_CHECK(fa.live == 0);
	return 0;
}
