/* SPDX-License-Identifier: MIT */
/*
 * Property tests of KVM's 128-bucket id hash (src/kvm_id_hash.h) against
 * a brute-force model.
 *
 * Two sets share one pool of elements, each element with a node per set,
 * as slots are shared by a memslots object's two sets.  The model of a set
 * is a map from id to element plus, per element, the time it was added:
 * a chain must hold exactly the set's elements of its bucket, newest
 * first (add puts a node at the head; replace keeps the old node's place
 * and so its time).  Random adds (of absent ids: the table's
 * precondition), deletes, replaces (by an element of the same id, often
 * one already in the other set, as KVM's INVALID copy is; refused when the
 * id differs) and lookups, with the whole of both tables checked after
 * every change: ms_id_hash_check(), an independent walk of every chain
 * (back links, bucket of each id, membership, order, count) and the
 * iteration.  A last case runs lock-free readers on one set while a
 * writer churns the other over the same elements: under TSan it shows
 * that a writer of one set writes nothing a reader of the other reads.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "kvm_id_hash.h"
#include "ts_check.h"
#include "ts_scale.h"
#include "ts_twosets.h"

static size_t scaled(size_t n)
{
	return ts_scaled(n, 25);
}

#define NR_IDS 65536u

/* An element as a slot could be laid out: the id, then one node per set. */
struct hslot {
	uint16_t id;
	struct ms_id_hnode node[2];
	uint64_t added[2]; /* the model's clock when it entered each set */
	bool in[2];
};

/* One set: its table, and the model. */
struct hset {
	struct ms_id_hash h;
	unsigned int idx;
	uint64_t clock;
	struct hslot **by_id; /* NR_IDS entries */
	struct hslot **v;     /* the members, in no order */
	size_t n, cap;
};

static void hset_init(struct hset *s, unsigned int idx, size_t cap)
{
	ms_id_hash_init(&s->h, MS_ID_HASH_OFF(struct hslot, node, idx, id));
	s->idx = idx;
	s->clock = 0;
	s->by_id = calloc(NR_IDS, sizeof(*s->by_id));
	s->v = calloc(cap, sizeof(*s->v));
	ck_assert_ptr_nonnull(s->by_id);
	ck_assert_ptr_nonnull(s->v);
	s->n = 0;
	s->cap = cap;
}

static void hset_free(struct hset *s)
{
	free(s->by_id);
	free(s->v);
}

static struct hslot *hs_of(const struct hset *s, const struct ms_id_hnode *n)
{
	return n ? ms_id_hash_entry(n, s->idx, struct hslot, node) : NULL;
}

static size_t member_index(const struct hset *s, const struct hslot *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == e)
			return i;
	ck_abort_msg("element not in the model");
	return 0;
}

/* What a random run did: each kind must have happened, or it tested less. */
static struct {
	size_t added, replaced, refused, shared, max_n, max_chain;
} stats;

/* ---- the table side, checked against the model ------------------------- */

/* Adds @e, whose id the set must not have. */
static void set_add(struct hset *s, struct hslot *e)
{
	TS_REQUIRE(!s->by_id[e->id] && !e->in[s->idx] && s->n < s->cap);
	ms_id_hash_add(&s->h, &e->node[s->idx]);
	TS_REQUIRE(ms_id_hnode_hashed(&e->node[s->idx]));
	s->by_id[e->id] = e;
	s->v[s->n++] = e;
	e->in[s->idx] = true;
	e->added[s->idx] = ++s->clock;
	stats.added++;
	stats.shared += e->in[!s->idx];
	stats.max_n = s->n > stats.max_n ? s->n : stats.max_n;
}

static void set_del_at(struct hset *s, size_t i)
{
	struct hslot *e = s->v[i];

	ms_id_hash_del(&s->h, &e->node[s->idx]);
	TS_REQUIRE(!ms_id_hnode_hashed(&e->node[s->idx]) && !e->node[s->idx].next);
	s->by_id[e->id] = NULL;
	s->v[i] = s->v[--s->n];
	e->in[s->idx] = false;
}

/* Replaces member @i by @fresh; @fresh's id decides the expected answer. */
static void set_replace_at(struct hset *s, size_t i, struct hslot *fresh)
{
	struct hslot *old = s->v[i];
	int rc = ms_id_hash_replace(&s->h, &old->node[s->idx], &fresh->node[s->idx]);

	TS_REQUIRE(rc == (fresh->id == old->id ? 0 : -EINVAL));
	if (rc) {
		stats.refused++;
		TS_REQUIRE(ms_id_hnode_hashed(&old->node[s->idx]));
		TS_REQUIRE(!ms_id_hnode_hashed(&fresh->node[s->idx]));
		return;
	}
	TS_REQUIRE(!ms_id_hnode_hashed(&old->node[s->idx]));
	stats.replaced++;
	stats.shared += fresh->in[!s->idx];
	old->in[s->idx] = false;
	fresh->in[s->idx] = true;
	fresh->added[s->idx] = old->added[s->idx]; /* its place in the chain */
	s->by_id[fresh->id] = fresh;
	s->v[i] = fresh;
}

/* The whole table against the model, independently of the validator. */
static void check_set(const struct hset *s)
{
	const char *why = ms_id_hash_check(&s->h);
	const struct ms_id_hnode *n, *it;
	size_t count = 0;

	if (why)
		ck_abort_msg("set %u: %s", s->idx, why);
	TS_REQUIRE(ms_id_hash_count(&s->h) == s->n);
	it = ms_id_hash_first(&s->h);
	for (unsigned int b = 0; b < MS_ID_HASH_BUCKETS; b++) {
		struct ms_id_hnode *const *link = &s->h.bucket[b];
		uint64_t newer = UINT64_MAX;
		size_t len = 0;

		for (n = *link; n; link = &n->next, n = n->next) {
			const struct hslot *e = hs_of(s, n);

			TS_REQUIRE(++count <= s->n);
			TS_REQUIRE(n->pprev == link);
			TS_REQUIRE(ms_id_hash_bucket(e->id) == b);
			TS_REQUIRE(e->in[s->idx] && s->by_id[e->id] == e);
			TS_REQUIRE(e->added[s->idx] < newer);
			newer = e->added[s->idx];
			/* The iteration is the chains, one after the other. */
			TS_REQUIRE(it == n);
			it = ms_id_hash_next(&s->h, it);
			len++;
		}
		stats.max_chain = len > stats.max_chain ? len : stats.max_chain;
	}
	TS_REQUIRE(count == s->n && it == NULL);
	for (size_t i = 0; i < s->n; i++)
		TS_REQUIRE(hs_of(s, ms_id_hash_find(&s->h, s->v[i]->id)) == s->v[i]);
}

static void check_find(const struct hset *s, uint16_t id)
{
	TS_REQUIRE(hs_of(s, ms_id_hash_find(&s->h, id)) == s->by_id[id]);
}

/* ---- random operation sequences ------------------------------------------ */

struct random_cfg {
	uint64_t seed;
	size_t ops;
	size_t pool;
	unsigned int id_span;	  /* ids drawn from [0, id_span) */
	bool one_bucket;	  /* ... or only ids of bucket 0: one long chain */
	unsigned int check_every; /* full checks every this many ops */
};

/* A random run's two sets, for ts_twosets_run(). */
struct run_ctx {
	struct hset sets[2];
	struct hslot *pool;
	size_t npool;
	const struct random_cfg *c;
};

/* The ids of bucket 0, for the long-chain runs. */
static uint16_t bucket0[NR_IDS / 64];
static size_t nbucket0;

static void find_bucket0(void)
{
	nbucket0 = 0;
	for (uint32_t id = 0; id < NR_IDS && nbucket0 < MS_ARRAY_SIZE(bucket0); id++)
		if (ms_id_hash_bucket((uint16_t)id) == 0)
			bucket0[nbucket0++] = (uint16_t)id;
}

static uint16_t draw_id(struct ts_rng *r, const struct random_cfg *c)
{
	if (c->one_bucket)
		return bucket0[ts_rng_below(r, c->id_span < nbucket0 ? c->id_span : nbucket0)];
	return (uint16_t)ts_rng_below(r, c->id_span);
}

static void random_add(struct hset *s, const struct hset *other, struct hslot *pool, size_t npool,
		       const struct random_cfg *c, struct ts_rng *r)
{
	struct hslot *e = TS_SPARE(struct hslot, pool, npool, s->idx, false, r);

	if (!e)
		return;
	/* In the other set its id is fixed (a shared slot); else pick a free one. */
	if (!e->in[other->idx]) {
		for (int tries = 0; tries < 8 && (e->id = draw_id(r, c), s->by_id[e->id]);)
			tries++;
	}
	if (!s->by_id[e->id])
		set_add(s, e);
}

static void random_replace(struct hset *s, const struct hset *other, struct hslot *pool,
			   size_t npool, struct ts_rng *r)
{
	size_t i = ts_rng_below(r, s->n);
	struct hslot *old = s->v[i], *fresh = other->by_id[old->id];

	/* KVM's flow: the copy made for one set goes into the other as well. */
	if (fresh && fresh != old && ts_rng_below(r, 4))
		goto replace;
	fresh = TS_SPARE(struct hslot, pool, npool, s->idx, true, r);
	if (!fresh)
		fresh = TS_SPARE(struct hslot, pool, npool, s->idx, false,
				 r); /* id fixed: likely refused */
	else if (ts_rng_below(r, 8) == 0)
		fresh->id = (uint16_t)(old->id + 1); /* refused */
	else
		fresh->id = old->id;
replace:
	set_replace_at(s, i, fresh);
}

/* One random operation of a run, for ts_twosets_run(). */
static void random_step(void *ctx, struct ts_rng *r)
{
	struct run_ctx *x = ctx;
	struct hset *s = &x->sets[ts_rng_below(r, 2)], *other = &x->sets[!s->idx];
	const struct random_cfg *c = x->c;
	struct hslot *pool = x->pool;
	size_t npool = x->npool;
	unsigned int dice = (unsigned int)ts_rng_below(r, 100);

	if (dice < 45 || !s->n) {
		random_add(s, other, pool, npool, c, r);
	} else if (dice < 70) {
		set_del_at(s, ts_rng_below(r, s->n));
	} else if (dice < 85) {
		random_replace(s, other, pool, npool, r);
	} else {
		for (int k = 0; k < 4; k++)
			check_find(s, draw_id(r, c));
		check_find(s, s->v[ts_rng_below(r, s->n)]->id);
		check_find(s, (uint16_t)ts_rng_next(r));
	}
}

static void run_check(const void *ctx, unsigned int k)
{
	check_set(&((const struct run_ctx *)ctx)->sets[k]);
}

static size_t run_count(const void *ctx, unsigned int k)
{
	return ((const struct run_ctx *)ctx)->sets[k].n;
}

static void run_del_at(void *ctx, unsigned int k, size_t i)
{
	set_del_at(&((struct run_ctx *)ctx)->sets[k], i);
}

static const struct ts_twosets_ops run_ops = {
	.step = random_step, .check = run_check, .count = run_count, .remove_at = run_del_at};

static void run_random(const struct random_cfg *c)
{
	struct run_ctx x = {.pool = calloc(c->pool, sizeof(*x.pool)), .npool = c->pool, .c = c};

	ck_assert_ptr_nonnull(x.pool);
	memset(&stats, 0, sizeof(stats));
	find_bucket0();
	hset_init(&x.sets[0], 0, x.npool);
	hset_init(&x.sets[1], 1, x.npool);
	ts_twosets_run(&run_ops, &x, c->seed, scaled(c->ops), c->check_every);
	for (unsigned int k = 0; k < 2; k++) {
		for (unsigned int b = 0; b < MS_ID_HASH_BUCKETS; b++)
			ck_assert_ptr_null(x.sets[k].h.bucket[b]);
		hset_free(&x.sets[k]);
	}
	free(x.pool);
	fprintf(stderr,
		"seed %llu: %zu added, %zu replaced, %zu refused, %zu shared; up to %zu in a "
		"set, chains up to %zu\n",
		(unsigned long long)c->seed, stats.added, stats.replaced, stats.refused,
		stats.shared, stats.max_n, stats.max_chain);
	ck_assert(stats.added && stats.replaced && stats.refused && stats.shared);
}

/* run_random() of @cfg for each seed from @first to @last. */
static void run_seeds(uint64_t first, uint64_t last, struct random_cfg cfg)
{
	for (cfg.seed = first; cfg.seed <= last; cfg.seed++)
		run_random(&cfg);
}

/* Few ids: every add collides with the other set's, chains of 1 or 2. */
START_TEST(random_dense)
{
	run_seeds(1, 6,
		  (struct random_cfg){.ops = 20000, .pool = 96, .id_span = 160, .check_every = 1});
}
END_TEST

/* Many ids, tables of several hundred: chains of a few nodes. */
START_TEST(random_wide)
{
	run_seeds(11, 14,
		  (struct random_cfg){
			  .ops = 15000, .pool = 900, .id_span = NR_IDS, .check_every = 1});
}
END_TEST

/* Every id in one bucket: one long chain, deletes at its head, middle, tail. */
START_TEST(random_one_bucket)
{
	run_seeds(21, 24,
		  (struct random_cfg){.ops = 15000,
				      .pool = 120,
				      .id_span = 200,
				      .one_bucket = true,
				      .check_every = 1});
}
END_TEST

/* A long run, checked every 16th step. */
START_TEST(random_many)
{
	struct random_cfg c = {
		.seed = 99, .ops = 800000, .pool = 700, .id_span = 2048, .check_every = 16};

	run_random(&c);
}
END_TEST

/* ---- focused cases ------------------------------------------------------- */

/* The kernel's hash_32(id, 7), computed another way: the top 7 bits of
 * the low 32 bits of the 64-bit product. */
START_TEST(bucket_function)
{
	for (uint32_t id = 0; id < NR_IDS; id++) {
		uint64_t prod = (uint64_t)id * 1640531527u;

		ck_assert_uint_eq(ms_id_hash_bucket((uint16_t)id), (prod & 0xffffffffu) >> 25);
	}
	ck_assert_uint_eq(ms_id_hash_bucket(0), 0);
	ck_assert_uint_eq(ms_id_hash_bucket(1), 48);
	ck_assert_uint_eq(ms_id_hash_bucket(UINT16_MAX),
			  ((uint64_t)65535 * 0x61c88647u & 0xffffffffu) >> 25);
}
END_TEST

/* Dense ids from 0, as VMMs allocate them, spread evenly. */
START_TEST(dense_ids_spread_evenly)
{
	static const unsigned int sizes[] = {509, 1000, 4096, 32764, 65536};

	for (size_t k = 0; k < MS_ARRAY_SIZE(sizes); k++) {
		unsigned int per[MS_ID_HASH_BUCKETS] = {0}, lo = UINT32_MAX, hi = 0;
		unsigned int avg = sizes[k] / MS_ID_HASH_BUCKETS;

		for (uint32_t id = 0; id < sizes[k]; id++)
			per[ms_id_hash_bucket((uint16_t)id)]++;
		for (unsigned int b = 0; b < MS_ID_HASH_BUCKETS; b++) {
			lo = per[b] < lo ? per[b] : lo;
			hi = per[b] > hi ? per[b] : hi;
		}
		ck_assert_uint_ge(lo + 2, avg);
		ck_assert_uint_le(hi, avg + 2);
	}
}
END_TEST

START_TEST(empty_table)
{
	struct hset s;

	hset_init(&s, 1, 1);
	check_set(&s);
	ck_assert_ptr_null(ms_id_hash_first(&s.h));
	ck_assert_ptr_null(ms_id_hash_find(&s.h, 0));
	ck_assert_ptr_null(ms_id_hash_find(&s.h, UINT16_MAX));
	hset_free(&s);
}
END_TEST

/* One chain of five, changed at its head, middle and tail. */
START_TEST(chain_ends_and_middle)
{
	static struct hslot e[10];
	struct ms_id_hnode *n;
	struct hset s;
	size_t k = 0;

	find_bucket0();
	memset(e, 0, sizeof(e));
	hset_init(&s, 0, 10);
	for (size_t i = 0; i < 5; i++) {
		e[i].id = bucket0[i];
		set_add(&s, &e[i]);
		check_set(&s);
	}
	/* Newest first. */
	for (n = ms_id_hash_first(&s.h); n; n = ms_id_hash_next(&s.h, n))
		ck_assert_ptr_eq(hs_of(&s, n), &e[4 - k++]);
	ck_assert_uint_eq(k, 5);
	for (size_t i = 0; i < 5; i++) { /* replace each: tail, middle, head */
		e[5 + i].id = e[i].id;
		set_replace_at(&s, member_index(&s, &e[i]), &e[5 + i]);
		check_set(&s);
	}
	set_del_at(&s, member_index(&s, &e[7])); /* middle */
	check_set(&s);
	set_del_at(&s, member_index(&s, &e[9])); /* head */
	check_set(&s);
	set_del_at(&s, member_index(&s, &e[5])); /* tail */
	check_set(&s);
	ck_assert_ptr_eq(hs_of(&s, s.h.bucket[0]), &e[8]);
	ck_assert_ptr_eq(hs_of(&s, s.h.bucket[0]->next), &e[6]);
	ck_assert_ptr_null(s.h.bucket[0]->next->next);
	e[4].id = e[6].id + 1u; /* refused: another id */
	set_replace_at(&s, member_index(&s, &e[6]), &e[4]);
	check_set(&s);
	hset_free(&s);
}
END_TEST

/* Another layout: nodes first, the id after some padding. */
struct rslot {
	struct ms_id_hnode node[2];
	uint64_t pad;
	uint16_t id;
};

START_TEST(any_layout)
{
	static struct rslot e[300];
	struct ms_id_hash h[2];
	struct ms_id_hnode *n;
	size_t seen = 0;

	memset(e, 0, sizeof(e));
	for (unsigned int k = 0; k < 2; k++)
		ms_id_hash_init(&h[k], MS_ID_HASH_OFF(struct rslot, node, k, id));
	ck_assert_int_gt(h[1].id_off, 0);
	for (size_t i = 0; i < 300; i++) {
		e[i].id = (uint16_t)(i * 7);
		ms_id_hash_add(&h[0], &e[i].node[0]);
		if (i % 3 == 0)
			ms_id_hash_add(&h[1], &e[i].node[1]);
	}
	ck_assert_ptr_null(ms_id_hash_check(&h[0]));
	ck_assert_ptr_null(ms_id_hash_check(&h[1]));
	for (size_t i = 0; i < 300; i++) {
		struct ms_id_hnode *n0 = ms_id_hash_find(&h[0], (uint16_t)(i * 7));
		struct ms_id_hnode *n1 = ms_id_hash_find(&h[1], (uint16_t)(i * 7));

		ck_assert_ptr_eq(ms_id_hash_entry(n0, 0, struct rslot, node), &e[i]);
		if (i % 3 == 0)
			ck_assert_ptr_eq(ms_id_hash_entry(n1, 1, struct rslot, node), &e[i]);
		else
			ck_assert_ptr_null(n1);
		ck_assert_ptr_null(ms_id_hash_find(&h[0], (uint16_t)(i * 7 + 1)));
	}
	for (n = ms_id_hash_first(&h[1]); n; n = ms_id_hash_next(&h[1], n))
		seen++;
	ck_assert_uint_eq(seen, 100);
	ck_assert_uint_eq(ms_id_hash_count(&h[1]), 100);
}
END_TEST

/* The validator names each kind of damage. */
START_TEST(validator_detects_faults)
{
	static struct hslot e[40];
	struct ms_id_hnode *head, **saved_pprev;
	unsigned int b;
	struct hset s;
	uint16_t id;

	memset(e, 0, sizeof(e));
	hset_init(&s, 1, 40);
	for (size_t i = 0; i < 40; i++) {
		e[i].id = (uint16_t)(1000 + i);
		set_add(&s, &e[i]);
	}
	check_set(&s);

	/* An id that hashes elsewhere. */
	id = e[3].id;
	b = ms_id_hash_bucket(id);
	e[3].id = (uint16_t)(id + 1);
	while (ms_id_hash_bucket(e[3].id) == b)
		e[3].id++;
	ck_assert_str_eq(ms_id_hash_check(&s.h), "id hash: a node is not in its id's bucket");
	e[3].id = id;

	/* Two nodes of one id (add's precondition broken). */
	ms_id_hash_del(&s.h, &e[39].node[1]);
	ck_assert_ptr_null(ms_id_hash_check(&s.h));
	e[39].id = e[5].id;
	ms_id_hash_add(&s.h, &e[39].node[1]);
	ck_assert_str_eq(ms_id_hash_check(&s.h), "id hash: two nodes have the same id");
	ms_id_hash_del(&s.h, &e[39].node[1]);
	e[39].id = 1039;
	ms_id_hash_add(&s.h, &e[39].node[1]);
	ck_assert_ptr_null(ms_id_hash_check(&s.h));

	/* A wrong back link. */
	head = s.h.bucket[ms_id_hash_bucket(e[7].id)];
	saved_pprev = head->pprev;
	head->pprev = &head->next;
	ck_assert_str_eq(ms_id_hash_check(&s.h),
			 "id hash: a node's back link is not the link to it");
	head->pprev = saved_pprev;

	/* The count, both ways. */
	s.h.count++;
	ck_assert_str_eq(ms_id_hash_check(&s.h), "id hash: fewer nodes than the count");
	s.h.count -= 2;
	ck_assert_str_eq(ms_id_hash_check(&s.h), "id hash: more nodes than the count (or a cycle)");
	s.h.count++;

	/* A cycle ends the walk with a fault, not a hang. */
	{
		struct ms_id_hnode *last = head;

		while (last->next)
			last = last->next;
		last->next = head;
		ck_assert_ptr_nonnull(ms_id_hash_check(&s.h));
		last->next = NULL;
	}
	check_set(&s);
	hset_free(&s);
}
END_TEST

/* ---- readers of one set while the writer changes the other ------------------ */

enum { RD_POOL = 600, RD_FIXED = 200, RD_READERS = 2 };

struct readers_ctx {
	struct hslot pool[RD_POOL];
	struct hset sets[2];
	struct ts_readers rd;
};

/* Set 0 holds pool[0..RD_FIXED) with ids 3 i: fixed, known. */
static void *reader(void *arg)
{
	struct readers_ctx *x = arg;
	const struct hset *s = &x->sets[0];
	struct ts_rng r;
	size_t n = 0, seen;

	ts_rng_seed(&r, (uint64_t)(uintptr_t)&r);
	while (ts_reader_goes_on(&x->rd, n)) {
		uint16_t id = (uint16_t)ts_rng_below(&r, 3 * RD_FIXED + 30);
		struct hslot *want = id % 3 == 0 && id / 3 < RD_FIXED ? &x->pool[id / 3] : NULL;
		const struct ms_id_hnode *it;

		TS_REQUIRE(hs_of(s, ms_id_hash_find(&s->h, id)) == want);
		if (n % 64 == 0) {
			seen = 0;
			for (it = ms_id_hash_first(&s->h); it; it = ms_id_hash_next(&s->h, it))
				seen++;
			TS_REQUIRE(seen == RD_FIXED);
		}
		n++;
	}
	ts_reader_done(&x->rd, n);
	return NULL;
}

/* One change of set 1; set 0, the readers', is left alone. */
static void change_other_set(void *arg, struct ts_rng *r)
{
	static const struct random_cfg c = {.id_span = 3 * RD_FIXED + 30};
	struct readers_ctx *x = arg;
	struct hset *s = &x->sets[1];
	unsigned int dice = (unsigned int)ts_rng_below(r, 100);

	if (dice < 50 || !s->n)
		random_add(s, &x->sets[0], x->pool, RD_POOL, &c, r);
	else if (dice < 80)
		set_del_at(s, ts_rng_below(r, s->n));
	else
		random_replace(s, &x->sets[0], x->pool, RD_POOL, r);
}

START_TEST(readers_of_the_other_set)
{
	struct readers_ctx *x = calloc(1, sizeof(*x));

	ck_assert_ptr_nonnull(x);
	hset_init(&x->sets[0], 0, RD_POOL);
	hset_init(&x->sets[1], 1, RD_POOL);
	for (size_t i = 0; i < RD_FIXED; i++) {
		x->pool[i].id = (uint16_t)(3 * i);
		set_add(&x->sets[0], &x->pool[i]);
	}
	/* Published: from here on only set 1 changes. */
	ts_readers_against_writer(&x->rd, RD_READERS, reader, change_other_set, x, scaled(40000),
				  42);
	check_set(&x->sets[0]);
	check_set(&x->sets[1]);
	hset_free(&x->sets[0]);
	hset_free(&x->sets[1]);
	free(x);
}
END_TEST

static Suite *make_suite(void)
{
	const struct ts_case cases[] = {
		{.tcase = "focused", .test = bucket_function},
		{.tcase = "focused", .test = dense_ids_spread_evenly},
		{.tcase = "focused", .test = empty_table},
		{.tcase = "focused", .test = chain_ends_and_middle},
		{.tcase = "focused", .test = any_layout},
		{.tcase = "focused", .test = validator_detects_faults},
		{.tcase = "random_dense", .test = random_dense},
		{.tcase = "random_wide", .test = random_wide},
		{.tcase = "random_one_bucket", .test = random_one_bucket},
		{.tcase = "random_many", .test = random_many},
		{.tcase = "readers", .test = readers_of_the_other_set},
	};
	Suite *s = suite_create("hash");

	ts_add_cases(s, cases, MS_ARRAY_SIZE(cases));
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
