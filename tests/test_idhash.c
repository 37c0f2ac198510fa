/* SPDX-License-Identifier: MIT */
/* Unit tests of the intrusive id hash (src/idhash.c). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "idhash.h"
#include "tests_util.h"
#include "ts_structs.h"

#define KEYSPACE 65536u

/*
 * Check's ck_assert records a mark point per call (a message to the
 * runner), far slower than the hash itself; hot loops check with this and
 * only report failures through Check.
 */
#define fast_assert(expr)                                             \
	do {                                                          \
		if (ms_unlikely(!(expr)))                             \
			ck_abort_msg("Assertion '%s' failed", #expr); \
	} while (0)

struct item {
	struct ms_hnode node;
	uint32_t id;
	int visits;
};

/* One item per possible key, so that the model and the table share them. */
static struct item *items;
static struct tu_alloc_counter counter;
static struct ms_alloc talloc;

static void setup(void)
{
	items = calloc(KEYSPACE, sizeof(*items));
	ck_assert_ptr_nonnull(items);
	for (uint32_t i = 0; i < KEYSPACE; i++)
		items[i].id = i;
	memset(&counter, 0, sizeof(counter));
	talloc = (struct ms_alloc){.alloc = tu_alloc, .free = tu_free, .opaque = &counter};
}

static void teardown(void)
{
	free(items);
	items = NULL;
}

static struct item *item_of(struct ms_hnode *n)
{
	return n ? ms_container_of(n, struct item, node) : NULL;
}

static void check_load_bound(const struct ms_hash *h)
{
	fast_assert(h->count <= ms_hash_buckets(h) * MS_HASH_MAX_LOAD);
}

/* After ms_hash_shrink(): not much bigger than the count needs. */
static void check_shrunk(const struct ms_hash *h)
{
	size_t b = ms_hash_buckets(h);

	fast_assert(b >= MS_HASH_MIN_BUCKETS);
	if (b > MS_HASH_MIN_BUCKETS)
		fast_assert(h->count >= b / 4 * MS_HASH_MAX_LOAD);
}

/* Reserve room for one more, then add: what the engine does. */
static void add_key(struct ms_hash *h, uint32_t key)
{
	size_t before = ms_hash_buckets(h);

	fast_assert(ms_hash_reserve(h, (size_t)h->count + 1) == 0);
	/* reserve never shrinks; when it grows, to the smallest table that fits */
	fast_assert(ms_hash_buckets(h) >= ms_hash_buckets_for((size_t)h->count + 1));
	if (ms_hash_buckets(h) != before)
		fast_assert(ms_hash_buckets(h) == ms_hash_buckets_for((size_t)h->count + 1));
	ms_hash_add(h, &items[key].node, key);
	check_load_bound(h);
}

static void del_key(struct ms_hash *h, uint32_t key)
{
	ms_hash_del(h, &items[key].node);
	ms_hash_shrink(h);
	check_shrunk(h);
	check_load_bound(h);
}

static void check_keys(const struct ms_hash *h, uint32_t lo, uint32_t hi, bool present)
{
	for (uint32_t k = lo; k < hi; k++) {
		struct ms_hnode *n = ms_hash_find(h, k);

		if (ms_unlikely(n != (present ? &items[k].node : NULL)))
			ck_abort_msg("key %u: found %p, expected %s", k, (void *)n,
				     present ? "its node" : "none");
	}
}

START_TEST(test_buckets_for)
{
	ck_assert_uint_eq(ms_hash_buckets_for(0), MS_HASH_MIN_BUCKETS);
	ck_assert_uint_eq(ms_hash_buckets_for(1), MS_HASH_MIN_BUCKETS);
	for (size_t n = 1; n <= 1u << 20; n++) {
		size_t b = ms_hash_buckets_for(n);

		fast_assert((b & (b - 1)) == 0);
		fast_assert(n <= b * MS_HASH_MAX_LOAD);
		/* the smallest power of two that fits */
		fast_assert(b == MS_HASH_MIN_BUCKETS || n > b / 2 * MS_HASH_MAX_LOAD);
	}
	/* absurd counts are refused rather than overflowing */
	ck_assert_uint_eq(ms_hash_buckets_for(SIZE_MAX), 0);
}
END_TEST

/*
 * Sequential ids up to 65536, then back down, checking at every
 * growth/shrink boundary that the table is sized for its count and that
 * every key (and no other) is found.
 */
START_TEST(test_grow_shrink)
{
	struct ms_hash h;
	uint32_t n;

	ck_assert_int_eq(ms_hash_init(&h, &talloc), 0);
	ck_assert_uint_eq(ms_hash_buckets(&h), MS_HASH_MIN_BUCKETS);
	for (n = 0; n < KEYSPACE; n++) {
		size_t before = ms_hash_buckets(&h);

		add_key(&h, n);
		if (ms_hash_buckets(&h) != before || (n & (n + 1)) == 0 || n < 70) {
			check_keys(&h, 0, n + 1, true);
			check_keys(&h, n + 1, n + 64 < KEYSPACE ? n + 64 : KEYSPACE, false);
			ck_assert_int_eq(ms_hash_validate(&h), 0);
		}
	}
	ck_assert_uint_eq(h.count, KEYSPACE);
	ck_assert_uint_eq(ms_hash_buckets(&h), KEYSPACE / MS_HASH_MAX_LOAD);
	for (n = KEYSPACE; n-- > 0;) {
		size_t before = ms_hash_buckets(&h);

		del_key(&h, n);
		if (ms_hash_buckets(&h) != before || (n & (n - 1)) == 0 || n < 70) {
			check_keys(&h, 0, n, true);
			check_keys(&h, n, n + 64 < KEYSPACE ? n + 64 : KEYSPACE, false);
			ck_assert_int_eq(ms_hash_validate(&h), 0);
		}
	}
	ck_assert_uint_eq(h.count, 0);
	ck_assert_uint_eq(ms_hash_buckets(&h), MS_HASH_MIN_BUCKETS);
	ms_hash_destroy(&h);
	ck_assert_uint_eq(counter.live, 0);
}
END_TEST

/* Reserve in one step, for counts on both sides of each power of two. */
START_TEST(test_reserve_sizes)
{
	for (size_t n = 2; n <= KEYSPACE; n *= 2) {
		size_t sizes[] = {n - 1, n, n + 1};

		for (size_t s = 0; s < MS_ARRAY_SIZE(sizes); s++) {
			size_t cnt = sizes[s] > KEYSPACE ? KEYSPACE : sizes[s];
			struct ms_hash h;

			ck_assert_int_eq(ms_hash_init(&h, &talloc), 0);
			ck_assert_int_eq(ms_hash_reserve(&h, cnt), 0);
			ck_assert_uint_eq(ms_hash_buckets(&h), ms_hash_buckets_for(cnt));
			for (uint32_t k = 0; k < cnt; k++)
				ms_hash_add(&h, &items[k].node, k);
			check_load_bound(&h);
			check_keys(&h, 0, (uint32_t)cnt, true);
			/* already big enough: no allocation, no change */
			size_t calls = counter.calls;
			ck_assert_int_eq(ms_hash_reserve(&h, cnt), 0);
			ck_assert_uint_eq(counter.calls, calls);
			/* a shrink of a table at its bound changes nothing either */
			ms_hash_shrink(&h);
			ck_assert_uint_eq(ms_hash_buckets(&h), ms_hash_buckets_for(cnt));
			ms_hash_destroy(&h);
			ck_assert_uint_eq(counter.live, 0);
		}
	}
}
END_TEST

/* Hysteresis: shrink only below a quarter of the bound. */
START_TEST(test_shrink_threshold)
{
	struct ms_hash h;
	uint32_t k;

	ck_assert_int_eq(ms_hash_init(&h, &talloc), 0);
	for (k = 0; k < 64; k++)
		add_key(&h, k);
	ck_assert_uint_eq(ms_hash_buckets(&h), 64 / MS_HASH_MAX_LOAD);
	/* down to exactly a quarter of the bound: stays */
	for (k = 63; k >= 16 * MS_HASH_MAX_LOAD; k--) {
		ms_hash_del(&h, &items[k].node);
		ms_hash_shrink(&h);
		ck_assert_uint_eq(ms_hash_buckets(&h), 64 / MS_HASH_MAX_LOAD);
	}
	/* one less: shrinks to the smallest table that fits */
	ms_hash_del(&h, &items[k].node);
	ms_hash_shrink(&h);
	ck_assert_uint_eq(ms_hash_buckets(&h), ms_hash_buckets_for(h.count));
	check_keys(&h, 0, k, true);
	check_keys(&h, k, 64, false);
	/* the grow_only prepare never plans a shrink */
	while (h.count)
		ms_hash_del(&h, &items[h.count - 1].node);
	struct ms_hash_resize r;
	size_t before = ms_hash_buckets(&h);
	ck_assert_int_eq(ms_hash_prepare_resize(&h, 0, true, &r), 0);
	ck_assert_ptr_null(r.buckets);
	ck_assert_uint_eq(ms_hash_buckets(&h), before);
	ms_hash_shrink(&h);
	ck_assert_uint_eq(ms_hash_buckets(&h), MS_HASH_MIN_BUCKETS);
	/* and never below the minimum */
	ms_hash_shrink(&h);
	ck_assert_uint_eq(ms_hash_buckets(&h), MS_HASH_MIN_BUCKETS);
	ms_hash_destroy(&h);
	ck_assert_uint_eq(counter.live, 0);
}
END_TEST

/* Bucket index spread for id patterns a VMM uses. */
static void check_spread(const uint32_t *keys, size_t n, size_t max_chain)
{
	struct ms_hash h;
	struct ms_hash_stats st;

	ck_assert_int_eq(ms_hash_init(&h, &talloc), 0);
	ck_assert_int_eq(ms_hash_reserve(&h, n), 0);
	for (size_t i = 0; i < n; i++)
		ms_hash_add(&h, &items[keys[i]].node, keys[i]);
	ms_hash_get_stats(&h, &st);
	ck_assert_uint_eq(st.count, n);
	ck_assert_msg(st.max_chain <= max_chain, "%zu keys: max chain %zu > %zu", n, st.max_chain,
		      max_chain);
	/* at least half the keys have a bucket of their own or share few */
	ck_assert_msg(st.used_buckets * 2 >= (n < st.buckets ? n : st.buckets),
		      "%zu keys in %zu buckets use only %zu", n, st.buckets, st.used_buckets);
	for (size_t i = 0; i < n; i++)
		fast_assert(ms_hash_find(&h, keys[i]) == &items[keys[i]].node);
	ms_hash_destroy(&h);
}

START_TEST(test_spread)
{
	uint32_t *keys = malloc(KEYSPACE * sizeof(*keys));
	struct tu_rng rng;
	size_t n;

	ck_assert_ptr_nonnull(keys);
	/* sequential ids, every table size */
	for (n = 2; n <= KEYSPACE; n *= 2) {
		for (uint32_t i = 0; i < n; i++)
			keys[i] = i;
		check_spread(keys, n, 4);
	}
	/* KVM's default: ids 0 .. 32763 */
	for (uint32_t i = 0; i < 32764; i++)
		keys[i] = i;
	check_spread(keys, 32764, 4);
	/* strided ids share their low bits */
	for (uint32_t stride = 2; stride <= 4096; stride *= 2) {
		for (n = 0; n * stride < KEYSPACE; n++)
			keys[n] = (uint32_t)(n * stride);
		check_spread(keys, n, 6);
	}
	/* the extremes together with a few neighbours */
	n = 0;
	keys[n++] = 0;
	keys[n++] = 32763;
	keys[n++] = 32764;
	keys[n++] = 65535;
	keys[n++] = 1;
	keys[n++] = 32767;
	keys[n++] = 32768;
	keys[n++] = 65534;
	check_spread(keys, n, 3);
	/* random subsets */
	tu_rng_seed(&rng, 42);
	for (int round = 0; round < 8; round++) {
		bool *used = calloc(KEYSPACE, sizeof(*used));
		size_t want = 64u << round;

		ck_assert_ptr_nonnull(used);
		for (n = 0; n < want;) {
			uint32_t k = (uint32_t)tu_rng_below(&rng, KEYSPACE);

			if (!used[k]) {
				used[k] = true;
				keys[n++] = k;
			}
		}
		check_spread(keys, n, 8);
		free(used);
	}
	free(keys);
	ck_assert_uint_eq(counter.live, 0);
}
END_TEST

/* Random operations against a bool-array model. */
static void random_ops(uint64_t seed, uint32_t keyspace, int steps, bool full_check)
{
	bool *model = calloc(keyspace, sizeof(*model));
	struct ms_hash h;
	struct tu_rng rng;
	size_t count = 0;

	ck_assert_ptr_nonnull(model);
	tu_rng_seed(&rng, seed);
	ck_assert_int_eq(ms_hash_init(&h, &talloc), 0);
	for (int step = 0; step < steps; step++) {
		uint32_t k = (uint32_t)tu_rng_below(&rng, keyspace);
		unsigned int op = (unsigned int)tu_rng_below(&rng, 16);

		/* drift the fill level up and down so that both resizes happen */
		bool bias_add = (step / 2000) % 2 == 0;

		if (op < (bias_add ? 10u : 5u)) {
			if (!model[k]) {
				add_key(&h, k);
				model[k] = true;
				count++;
			}
		} else if (op < 15) {
			if (model[k]) {
				del_key(&h, k);
				model[k] = false;
				count--;
			}
		} else if (model[k]) {
			/* replace with itself through a spare node and back */
			struct item spare = {.node = {.key = 0xdeadbeef}};

			ms_hash_replace(&h, &items[k].node, &spare.node);
			fast_assert(spare.node.key == k);
			fast_assert(ms_hash_find(&h, k) == &spare.node);
			ms_hash_replace(&h, &spare.node, &items[k].node);
		}
		fast_assert(h.count == count);
		if (full_check || step % 512 == 0) {
			for (uint32_t j = 0; j < keyspace; j++)
				fast_assert(ms_hash_find(&h, j) ==
					    (model[j] ? &items[j].node : NULL));
		} else {
			fast_assert(ms_hash_find(&h, k) == (model[k] ? &items[k].node : NULL));
			for (int j = 0; j < 8; j++) {
				uint32_t o = (uint32_t)tu_rng_below(&rng, keyspace);

				fast_assert(ms_hash_find(&h, o) ==
					    (model[o] ? &items[o].node : NULL));
			}
		}
		if (step % 256 == 0)
			fast_assert(ms_hash_validate(&h) == 0);
	}
	fast_assert(ms_hash_validate(&h) == 0);
	ms_hash_destroy(&h);
	fast_assert(counter.live == 0);
	free(model);
}

START_TEST(test_random_small)
{
	/* every key checked after every step */
	random_ops(1, 300, 8000, true);
}
END_TEST

START_TEST(test_random_large)
{
	random_ops(7, KEYSPACE, 20000, false);
	random_ops(99, 4096, 20000, false);
}
END_TEST

/* Every allocation a resize makes fails once: the table must not notice. */
START_TEST(test_alloc_failure)
{
	struct ms_hash h;
	struct ms_hash_resize r;
	uint32_t k;

	/* init itself */
	counter.fail_at = counter.calls + 1;
	ck_assert_int_eq(ms_hash_init(&h, &talloc), -ENOMEM);
	ck_assert_uint_eq(counter.live, 0);
	counter.fail_at = 0;

	ck_assert_int_eq(ms_hash_init(&h, &talloc), 0);
	for (k = 0; k < 1000; k++) {
		struct ms_hnode **buckets = h.buckets;
		uint32_t shift = h.shift;
		size_t live = counter.live, bytes = counter.bytes;

		counter.fail_at = counter.calls + 1;
		int err = ms_hash_reserve(&h, (size_t)h.count + 1);
		counter.fail_at = 0;
		if (err) {
			/* a growth was needed and failed: nothing changed */
			ck_assert_int_eq(err, -ENOMEM);
			ck_assert_ptr_eq(h.buckets, buckets);
			ck_assert_uint_eq(h.shift, shift);
			ck_assert_uint_eq(counter.live, live);
			ck_assert_uint_eq(counter.bytes, bytes);
			check_keys(&h, 0, k, true);
			ck_assert_int_eq(ms_hash_validate(&h), 0);
			/* prepare reports it the same way, with @r empty */
			counter.fail_at = counter.calls + 1;
			ck_assert_int_eq(ms_hash_prepare_resize(&h, (size_t)h.count + 1, true, &r),
					 -ENOMEM);
			counter.fail_at = 0;
			ck_assert_ptr_null(r.buckets);
			ms_hash_cancel_resize(&h, &r); /* harmless on an empty @r */
			ck_assert_ptr_eq(h.buckets, buckets);
			/* adding past the bound still works, only slower */
			ms_hash_add(&h, &items[k].node, k);
			check_keys(&h, 0, k + 1, true);
			ck_assert_int_eq(ms_hash_validate(&h), 0);
			/* and the next reserve catches up */
			ck_assert_int_eq(ms_hash_reserve(&h, h.count), 0);
			check_load_bound(&h);
		} else {
			ms_hash_add(&h, &items[k].node, k);
		}
	}
	check_keys(&h, 0, 1000, true);
	check_keys(&h, 1000, 2000, false);

	/* a failing shrink leaves a big but working table */
	for (k = 1000; k-- > 3;)
		ms_hash_del(&h, &items[k].node);
	struct ms_hnode **buckets = h.buckets;
	size_t nb = ms_hash_buckets(&h);
	counter.fail_at = counter.calls + 1;
	ms_hash_shrink(&h);
	counter.fail_at = 0;
	ck_assert_ptr_eq(h.buckets, buckets);
	ck_assert_uint_eq(ms_hash_buckets(&h), nb);
	check_keys(&h, 0, 3, true);
	check_keys(&h, 3, 1000, false);
	ck_assert_int_eq(ms_hash_validate(&h), 0);
	ms_hash_shrink(&h);
	ck_assert_uint_eq(ms_hash_buckets(&h), MS_HASH_MIN_BUCKETS);
	check_keys(&h, 0, 3, true);

	/* absurd reservations fail cleanly without allocating */
	size_t calls = counter.calls;
	ck_assert_int_eq(ms_hash_reserve(&h, SIZE_MAX), -ENOMEM);
	ck_assert_uint_eq(counter.calls, calls);
	check_keys(&h, 0, 3, true);

	ms_hash_destroy(&h);
	ck_assert_uint_eq(counter.live, 0);
}
END_TEST

/* Allocate early, install late, or throw away: no leak either way. */
START_TEST(test_prepare_cancel)
{
	struct ms_hash h;
	struct ms_hash_resize r;
	uint32_t k;

	ck_assert_int_eq(ms_hash_init(&h, &talloc), 0);
	ck_assert_uint_eq(counter.live, 1);

	/* nothing to do: nothing allocated */
	ck_assert_int_eq(ms_hash_prepare_resize(&h, 2, false, &r), 0);
	ck_assert_ptr_null(r.buckets);
	ck_assert_uint_eq(counter.live, 1);
	ms_hash_cancel_resize(&h, &r);
	ms_hash_commit_resize(&h, &r); /* a no-op too */
	ck_assert_uint_eq(ms_hash_buckets(&h), MS_HASH_MIN_BUCKETS);

	for (int round = 0; round < 100; round++) {
		ck_assert_int_eq(ms_hash_prepare_resize(&h, 1000, true, &r), 0);
		ck_assert_ptr_nonnull(r.buckets);
		ck_assert_uint_eq(counter.live, 2);
		ms_hash_cancel_resize(&h, &r);
		ck_assert_ptr_null(r.buckets);
		ck_assert_uint_eq(counter.live, 1);
		ck_assert_uint_eq(ms_hash_buckets(&h), MS_HASH_MIN_BUCKETS);
	}

	/* prepare for 100, then add them (past the bound), then commit */
	ck_assert_int_eq(ms_hash_prepare_resize(&h, 100, true, &r), 0);
	for (k = 0; k < 100; k++)
		ms_hash_add(&h, &items[k].node, k);
	check_keys(&h, 0, 100, true);
	ms_hash_commit_resize(&h, &r);
	ck_assert_ptr_null(r.buckets);
	ck_assert_uint_eq(ms_hash_buckets(&h), ms_hash_buckets_for(100));
	check_load_bound(&h);
	check_keys(&h, 0, 100, true);
	check_keys(&h, 100, 300, false);
	ck_assert_int_eq(ms_hash_validate(&h), 0);
	ck_assert_uint_eq(counter.live, 1);

	/* a prepared shrink, cancelled, then committed */
	for (k = 0; k < 95; k++)
		ms_hash_del(&h, &items[k].node);
	ck_assert_int_eq(ms_hash_prepare_resize(&h, h.count, false, &r), 0);
	ck_assert_ptr_nonnull(r.buckets);
	ms_hash_cancel_resize(&h, &r);
	ck_assert_uint_eq(counter.live, 1);
	ck_assert_int_eq(ms_hash_prepare_resize(&h, h.count, false, &r), 0);
	ms_hash_commit_resize(&h, &r);
	ck_assert_uint_eq(ms_hash_buckets(&h), ms_hash_buckets_for(5));
	check_keys(&h, 0, 95, false);
	check_keys(&h, 95, 100, true);

	ms_hash_destroy(&h);
	ck_assert_uint_eq(counter.live, 0);
	ck_assert_uint_eq(counter.nr_alloc, counter.nr_free);
}
END_TEST

START_TEST(test_iteration)
{
	struct ms_hash h;
	struct ms_hnode *n;
	struct tu_rng rng;
	size_t bkt;

	ck_assert_int_eq(ms_hash_init(&h, &talloc), 0);
	ck_assert_ptr_null(ms_hash_iter_first(&h, &bkt));
	tu_rng_seed(&rng, 3);
	for (int round = 0; round < 40; round++) {
		size_t count = 0, visited = 0;

		/* a random subset, random size, possibly over the bound */
		for (uint32_t k = 0; k < 4096; k++) {
			bool in = ms_hash_find(&h, k) != NULL;
			bool want = tu_rng_below(&rng, 64) < (uint64_t)round;

			if (in && !want)
				ms_hash_del(&h, &items[k].node);
			else if (!in && want && round % 3)
				add_key(&h, k);
			else if (!in && want)
				ms_hash_add(&h, &items[k].node, k);
			items[k].visits = 0;
		}
		if (round % 2)
			ms_hash_shrink(&h);
		ms_hash_for_each (&h, bkt, n) {
			item_of(n)->visits++;
			visited++;
		}
		for (uint32_t k = 0; k < 4096; k++) {
			bool in = ms_hash_find(&h, k) != NULL;

			fast_assert(items[k].visits == (in ? 1 : 0));
			count += in;
		}
		ck_assert_uint_eq(visited, count);
		ck_assert_uint_eq(visited, h.count);
	}
	while ((n = ms_hash_iter_first(&h, &bkt)))
		ms_hash_del(&h, n);
	ck_assert_uint_eq(h.count, 0);
	ms_hash_destroy(&h);
	ck_assert_uint_eq(counter.live, 0);
}
END_TEST

START_TEST(test_replace)
{
	struct ms_hash h;
	struct item other[64];
	struct ms_hnode *n;
	size_t bkt;
	uint32_t k;

	ck_assert_int_eq(ms_hash_init(&h, &talloc), 0);
	/* dense enough that replaced nodes sit at every chain position */
	for (k = 0; k < 64; k++)
		ms_hash_add(&h, &items[k * 1024].node, k * 1024);
	for (k = 0; k < 64; k++) {
		other[k].node.key = ~0u; /* garbage: replace must set the key */
		other[k].node.next = NULL;
		ms_hash_replace(&h, &items[k * 1024].node, &other[k].node);
		ck_assert_uint_eq(other[k].node.key, k * 1024);
		ck_assert_uint_eq(h.count, 64);
		ck_assert_int_eq(ms_hash_validate(&h), 0);
		for (uint32_t j = 0; j < 64; j++)
			ck_assert_ptr_eq(ms_hash_find(&h, j * 1024),
					 j <= k ? &other[j].node : &items[j * 1024].node);
	}
	ck_assert_ptr_null(ms_hash_find(&h, ~0u));
	/* only the new nodes are reachable */
	ms_hash_for_each (&h, bkt, n) {
		ck_assert(n >= &other[0].node && n <= &other[63].node);
	}
	for (k = 0; k < 64; k++)
		ms_hash_del(&h, &other[k].node);
	ck_assert_uint_eq(h.count, 0);
	ms_hash_destroy(&h);
}
END_TEST

/* The bucket array is all the memory, and it follows the count. */
START_TEST(test_memory)
{
	struct ms_hash h;
	uint32_t k;

	ck_assert_int_eq(ms_hash_init(&h, &talloc), 0);
	for (k = 0; k < KEYSPACE; k++) {
		add_key(&h, k);
		fast_assert(counter.bytes == ms_hash_bucket_bytes(&h));
		/* at most twice what the load bound needs */
		if (ms_hash_buckets(&h) > MS_HASH_MIN_BUCKETS)
			fast_assert(ms_hash_buckets(&h) <= 2 * (size_t)h.count / MS_HASH_MAX_LOAD);
	}
	/* peak during growth: the old and the new array, briefly */
	fast_assert(counter.peak_bytes <= 3 * ms_hash_bucket_bytes(&h) / 2);
	for (k = KEYSPACE; k-- > 0;) {
		del_key(&h, k);
		fast_assert(counter.bytes == ms_hash_bucket_bytes(&h));
		/* at most four times what the load bound needs, or the minimum */
		fast_assert(ms_hash_bucket_bytes(&h) <=
			    sizeof(void *) *
				    (4 * (size_t)h.count / MS_HASH_MAX_LOAD + MS_HASH_MIN_BUCKETS));
	}
	fast_assert(counter.bytes == MS_HASH_MIN_BUCKETS * sizeof(void *));
	ms_hash_destroy(&h);
	fast_assert(counter.live == 0);
	fast_assert(counter.bytes == 0);
}
END_TEST

/*
 * Lookups from several threads on a table nobody changes.  Under TSan this
 * also proves that find writes nothing.
 */
struct reader_arg {
	const struct ms_hash *h;
	uint64_t seed;
	long bad;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	struct tu_rng rng;

	tu_rng_seed(&rng, a->seed);
	for (int i = 0; i < 100000; i++) {
		uint32_t k = (uint32_t)tu_rng_below(&rng, 8192);
		struct ms_hnode *n = ms_hash_find_inline(a->h, k);

		if (k % 2 == 0 ? n != &items[k].node : n != NULL)
			a->bad++;
	}
	return NULL;
}

START_TEST(test_concurrent_find)
{
	struct ms_hash h;
	pthread_t t[4];
	struct reader_arg a[4];

	ck_assert_int_eq(ms_hash_init(&h, &talloc), 0);
	for (uint32_t k = 0; k < 8192; k += 2)
		add_key(&h, k);
	for (int i = 0; i < 4; i++) {
		a[i] = (struct reader_arg){.h = &h, .seed = (uint64_t)i + 1};
		ck_assert_int_eq(pthread_create(&t[i], NULL, reader, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(a[i].bad, 0);
	}
	ms_hash_destroy(&h);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("idhash");
	TCase *tc;

	tc = tcase_create("sizing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_buckets_for);
	tcase_add_test(tc, test_reserve_sizes);
	tcase_add_test(tc, test_shrink_threshold);
	suite_add_tcase(s, tc);

	tc = tcase_create("grow_shrink");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_grow_shrink);
	suite_add_tcase(s, tc);

	tc = tcase_create("spread");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_spread);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_random_small);
	tcase_add_test(tc, test_random_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("alloc_failure");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_alloc_failure);
	tcase_add_test(tc, test_prepare_cancel);
	suite_add_tcase(s, tc);

	tc = tcase_create("iteration");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_iteration);
	tcase_add_test(tc, test_replace);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_concurrent_find);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return tu_run_suite(make_suite());
}
