// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the id hash alone: adds, deletes, replaces, lookups,
 * iteration, and every resize path (prepare/commit/cancel, reserve,
 * shrink) with allocation failures chosen by the input, against brute
 * force over a pool of nodes.  After every operation ms_hash_validate()
 * must pass and every key must be found (or not) as the model says; a
 * failed resize must leave the table as it was; nothing may leak.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ts_structs.h"
#include "compiler.h"
#include "idhash.h"

#define POOL 96u

struct hnode {
	struct ms_hnode h;
	uint32_t key;
	bool in_table;
};

static struct hnode pool[POOL];
static unsigned int nin;

struct counter {
	size_t live, calls, fail_at;
};

static void *c_alloc(size_t size, void *opaque)
{
	struct counter *c = opaque;
	void *p;

	if (++c->calls == c->fail_at)
		return NULL;
	p = malloc(size ? size : 1);
	if (p)
		c->live++;
	return p;
}

static void c_free(void *ptr, void *opaque)
{
	struct counter *c = opaque;

	if (!ptr)
		return;
	FZ_CHECK(c->live);
	c->live--;
	free(ptr);
}

static uint32_t key_of(struct fz_in *in)
{
	uint8_t b = fz_u8(in);

	switch (b >> 6) {
	case 0:
	case 1:
		return b % 40; /* sequential ids, as VMMs use */
	case 2:
		return (uint32_t)(b & 63) << 10; /* power-of-two strides */
	default:
		return (uint32_t)fz_u64(in);
	}
}

static struct hnode *model_find(uint32_t key)
{
	unsigned int i;

	for (i = 0; i < POOL; i++)
		if (pool[i].in_table && pool[i].key == key)
			return &pool[i];
	return NULL;
}

static void check(const struct ms_hash *h)
{
	struct ms_hnode *n;
	unsigned int i, seen = 0;
	size_t bkt;

	FZ_CHECK(ms_hash_validate(h) == 0);
	FZ_CHECK(h->count == nin);
	for (i = 0; i < POOL; i++) {
		if (!pool[i].in_table)
			continue;
		FZ_CHECK(ms_hash_find(h, pool[i].key) == &pool[i].h);
		FZ_CHECK(ms_hash_find_inline(h, pool[i].key) == &pool[i].h);
	}
	ms_hash_for_each (h, bkt, n) {
		struct hnode *x = ms_container_of(n, struct hnode, h);

		FZ_CHECK(x >= pool && x < pool + POOL && x->in_table);
		seen++;
	}
	FZ_CHECK(seen == nin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct counter cnt = {0};
	const struct ms_alloc alloc = {c_alloc, c_free, &cnt};
	struct ms_hash_resize pending = {0};
	struct fz_in in = {data, size};
	struct ms_hash h;
	unsigned int ops = 0;
	size_t before;

	memset(pool, 0, sizeof(pool));
	nin = 0;
	cnt.fail_at = fz_u8(&in) & 1; /* sometimes init itself fails */
	if (ms_hash_init(&h, &alloc)) {
		FZ_CHECK(cnt.live == 0);
		cnt.fail_at = 0;
		FZ_CHECK(ms_hash_init(&h, &alloc) == 0);
	}
	cnt.fail_at = 0;
	while (in.n && ops++ < 512) {
		uint8_t op = fz_u8(&in);
		struct hnode *n = &pool[fz_u8(&in) % POOL], *m;
		struct ms_hash_resize r;
		struct ms_hash_stats st;
		uint32_t key;
		size_t buckets = ms_hash_buckets(&h);
		int err;

		/* an allocation failure for this operation, sometimes */
		cnt.calls = 0;
		cnt.fail_at = op & 0x80 ? 1 : 0;
		before = cnt.live;
		switch (op % 8) {
		case 0:
		case 1: /* add */
			key = key_of(&in);
			if (n->in_table || model_find(key))
				break;
			n->key = key;
			ms_hash_add(&h, &n->h, key);
			n->in_table = true;
			nin++;
			break;
		case 2: /* delete */
			if (!n->in_table)
				break;
			ms_hash_del(&h, &n->h);
			n->in_table = false;
			nin--;
			break;
		case 3: /* replace */
			m = &pool[fz_u8(&in) % POOL];
			if (!n->in_table || m->in_table)
				break;
			m->key = n->key;
			ms_hash_replace(&h, &n->h, &m->h);
			n->in_table = false;
			m->in_table = true;
			break;
		case 4: /* lookups of keys that may be absent */
			key = key_of(&in);
			m = model_find(key);
			FZ_CHECK(ms_hash_find(&h, key) == (m ? &m->h : NULL));
			break;
		case 5: /* plan a resize for a count; commit or cancel it later */
			if (pending.buckets) {
				if (fz_u8(&in) & 1)
					ms_hash_commit_resize(&h, &pending);
				else
					ms_hash_cancel_resize(&h, &pending);
				pending.buckets = NULL;
				break;
			}
			err = ms_hash_prepare_resize(&h, nin + fz_u8(&in) % 8, op & 0x10, &r);
			if (err) {
				FZ_CHECK(err == -ENOMEM && cnt.fail_at && !r.buckets);
				FZ_CHECK(cnt.live == before);
			} else if (r.buckets) {
				FZ_CHECK(cnt.live == before + 1);
				if (op & 0x20) {
					pending = r;
				} else {
					ms_hash_commit_resize(&h, &r);
					FZ_CHECK(ms_hash_buckets(&h) == ((size_t)1 << r.shift));
				}
			}
			break;
		case 6: /* reserve */
			err = ms_hash_reserve(&h, nin + fz_u8(&in) % 70);
			if (err) {
				FZ_CHECK(err == -ENOMEM && cnt.fail_at);
				FZ_CHECK(ms_hash_buckets(&h) == buckets && cnt.live == before);
			}
			break;
		default: /* shrink (best effort) and statistics */
			ms_hash_shrink(&h);
			FZ_CHECK(cnt.live == before);
			ms_hash_get_stats(&h, &st);
			FZ_CHECK(st.count == nin && st.buckets == ms_hash_buckets(&h));
			FZ_CHECK(st.used_buckets <= st.buckets && st.max_chain <= nin);
			FZ_CHECK(ms_hash_bucket_bytes(&h) == st.buckets * sizeof(void *));
			if (!cnt.fail_at)
				FZ_CHECK(ms_hash_buckets(&h) <=
					 ms_hash_buckets_for(nin) * 4 + MS_HASH_MIN_BUCKETS);
			break;
		}
		cnt.fail_at = 0;
		check(&h);
	}
	ms_hash_cancel_resize(&h, &pending);
	ms_hash_destroy(&h);
	FZ_CHECK(cnt.live == 0);
	return 0;
}
