/* SPDX-License-Identifier: MIT */
/*
 * Property tests of the guest_memfd binding index against a brute-force
 * list of bindings.
 *
 * Every query must return exactly the stored bindings of its fd whose
 * bytes meet the queried range, each once, in ascending start order, the
 * first being the lowest start; after every change the index must pass
 * its validator (red-black shape, order, each node's subtree maximum).
 * Random operations mix a few fds (0 and UINT32_MAX among them) and
 * ranges from the first bytes to the last byte of the 64-bit space.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "gmem_index.h"
#include "ts_check.h"
#include "ts_scale.h"
#include "rbtree.h"

/* Check's ck_assert_*() costs a write per success; hot checks use this. */
#define TS_REQUIRE(cond)                                                              \
	do {                                                                          \
		if (!(cond))                                                          \
			ck_abort_msg("%s:%d: failed: %s", __FILE__, __LINE__, #cond); \
	} while (0)

#define PAGE 4096ull

struct gnode {
	struct ms_gmem_binding b;
	bool in_index;
	uint64_t seen; /* query generation that last returned this node */
};

struct fixture {
	struct ms_gmem_index idx;
	struct gnode *pool;
	size_t npool, nin;
	uint64_t gen;
	struct ts_rng rng;
};

static size_t scaled(size_t n)
{
	return ts_scaled(n, 20);
}

static struct gnode *gnode_of(struct ms_gmem_binding *b)
{
	return ms_container_of(b, struct gnode, b);
}

static void fx_init(struct fixture *f, size_t npool, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->idx = MS_GMEM_INDEX_INIT;
	f->pool = calloc(npool, sizeof(*f->pool));
	ck_assert_ptr_nonnull(f->pool);
	f->npool = npool;
	ts_rng_seed(&f->rng, seed);
}

static void fx_free(struct fixture *f)
{
	free(f->pool);
}

static bool meets(const struct ms_gmem_binding *b, uint32_t fd, uint64_t start, uint64_t last)
{
	return b->fd == fd && b->start <= last && start <= b->last;
}

static void fx_check_valid(const struct fixture *f)
{
	const char *why = ms_gmem_validate(&f->idx);

	TS_REQUIRE(f->idx.count == f->nin);
	if (why)
		ck_abort_msg("index invalid: %s", why);
}

/*
 * Compares one query with the brute force: the walk must visit only
 * stored nodes that meet the range, none twice, in ascending start, and
 * as many as the brute force counts; the first must have the lowest start.
 */
static size_t fx_check_query(struct fixture *f, uint32_t fd, uint64_t start, uint64_t last)
{
	struct ms_gmem_binding *b;
	size_t want = 0, got = 0;
	uint64_t lowest = UINT64_MAX, prev_start = 0;

	f->gen++;
	for (size_t i = 0; i < f->npool; i++) {
		const struct gnode *g = &f->pool[i];

		if (g->in_index && last >= start && meets(&g->b, fd, start, last)) {
			want++;
			if (g->b.start < lowest)
				lowest = g->b.start;
		}
	}
	b = ms_gmem_find(&f->idx, fd, start, last);
	TS_REQUIRE(!b || b->start == lowest);
	TS_REQUIRE(ms_gmem_intersects(&f->idx, fd, start, last) == (want != 0));
	for (; b; b = ms_gmem_find_next(b, fd, start, last)) {
		struct gnode *g = gnode_of(b);

		TS_REQUIRE(g >= f->pool && g < f->pool + f->npool);
		TS_REQUIRE(g->in_index);
		TS_REQUIRE(meets(b, fd, start, last));
		TS_REQUIRE(g->seen != f->gen);
		TS_REQUIRE(b->start >= prev_start);
		g->seen = f->gen;
		prev_start = b->start;
		got++;
	}
	TS_REQUIRE(got == want);
	return got;
}

static void fx_insert(struct fixture *f, struct gnode *g, uint32_t fd, uint64_t offset,
		      uint64_t size)
{
	TS_REQUIRE(!g->in_index);
	ms_gmem_binding_set(&g->b, fd, offset, size);
	ms_gmem_insert(&f->idx, &g->b);
	g->in_index = true;
	f->nin++;
}

static void fx_remove(struct fixture *f, struct gnode *g)
{
	TS_REQUIRE(g->in_index);
	ms_gmem_remove(&f->idx, &g->b);
	g->in_index = false;
	f->nin--;
}

/* A few fds, with the extremes of the 32-bit number among them. */
static uint32_t random_fd(struct fixture *f)
{
	static const uint32_t fds[] = {0, 3, 4, 7, UINT32_MAX};

	return fds[ts_rng_below(&f->rng, sizeof(fds) / sizeof(fds[0]))];
}

/* A byte range that never wraps: mostly small page-aligned ones near 0,
 * some of arbitrary bytes, some ending at the very last byte. */
static void random_range(struct fixture *f, uint64_t *offset, uint64_t *size)
{
	switch (ts_rng_below(&f->rng, 8)) {
	case 0: /* ending exactly at byte 2^64 - 1 */
		*size = (1 + ts_rng_below(&f->rng, 64)) * PAGE;
		*offset = 0 - *size;
		break;
	case 1: /* arbitrary bytes */
		*offset = ts_rng_next(&f->rng) >> 1;
		*size = 1 + ts_rng_below(&f->rng, UINT64_MAX - *offset);
		break;
	default:
		*offset = ts_rng_below(&f->rng, 256) * PAGE;
		*size = (1 + ts_rng_below(&f->rng, 32)) * PAGE;
		break;
	}
}

static struct gnode *random_node(struct fixture *f, bool in_index)
{
	size_t i = ts_rng_below(&f->rng, f->npool);

	for (size_t k = 0; k < f->npool; k++) {
		struct gnode *g = &f->pool[(i + k) % f->npool];

		if (g->in_index == in_index)
			return g;
	}
	return NULL;
}

static void random_query(struct fixture *f)
{
	uint64_t offset, size;

	random_range(f, &offset, &size);
	if (ts_rng_below(&f->rng, 16) == 0) /* empty or reversed ranges */
		fx_check_query(f, random_fd(f), offset + size - 1, offset);
	else
		fx_check_query(f, random_fd(f), offset, offset + size - 1);
}

/* Random inserts (overlaps allowed), removes and queries. */
static void run_random(uint64_t seed, size_t npool, size_t steps)
{
	struct fixture f;

	fx_init(&f, npool, seed);
	for (size_t s = 0; s < steps; s++) {
		uint64_t r = ts_rng_below(&f.rng, 10), offset, size;
		struct gnode *g;

		if (r < 4 && (g = random_node(&f, false))) {
			random_range(&f, &offset, &size);
			fx_insert(&f, g, random_fd(&f), offset, size);
		} else if (r < 7 && (g = random_node(&f, true))) {
			fx_remove(&f, g);
		}
		fx_check_valid(&f);
		for (int q = 0; q < 3; q++)
			random_query(&f);
		/* A stored binding always finds itself. */
		if ((g = random_node(&f, true)))
			TS_REQUIRE(fx_check_query(&f, g->b.fd, g->b.start, g->b.last) >= 1);
	}
	while (f.nin) {
		fx_remove(&f, random_node(&f, true));
		fx_check_valid(&f);
	}
	TS_REQUIRE(!ms_gmem_find(&f.idx, 0, 0, UINT64_MAX));
	fx_free(&f);
}

START_TEST(test_random_small)
{
	for (uint64_t seed = 1; seed <= scaled(40); seed++)
		run_random(seed, 8, 400);
}
END_TEST

START_TEST(test_random_large)
{
	run_random(0x9e3779b9, 512, scaled(20000));
}
END_TEST

/*
 * The engine's use: a binding goes in only when nothing of its fd meets
 * its bytes, as KVM's bind refuses the rest.  The stored bindings of one
 * fd must then stay pairwise disjoint, which the brute force checks.
 */
START_TEST(test_bind_discipline)
{
	struct fixture f;
	size_t refused = 0, bound = 0;

	fx_init(&f, 128, 77);
	for (size_t s = 0; s < scaled(20000); s++) {
		struct gnode *g;
		uint64_t offset, size;
		uint32_t fd;

		if (ts_rng_below(&f.rng, 3) && (g = random_node(&f, false))) {
			random_range(&f, &offset, &size);
			fd = random_fd(&f);
			if (ms_gmem_intersects(&f.idx, fd, offset, offset + size - 1)) {
				refused++;
			} else {
				fx_insert(&f, g, fd, offset, size);
				bound++;
			}
		} else if ((g = random_node(&f, true))) {
			fx_remove(&f, g);
		}
		if (s % 64 == 0) {
			fx_check_valid(&f);
			for (size_t i = 0; i < f.npool; i++)
				for (size_t j = i + 1; j < f.npool; j++)
					if (f.pool[i].in_index && f.pool[j].in_index)
						TS_REQUIRE(!meets(&f.pool[i].b, f.pool[j].b.fd,
								  f.pool[j].b.start,
								  f.pool[j].b.last));
		}
	}
	/* Both outcomes must have been exercised for the test to mean anything. */
	ck_assert_uint_gt(refused, 100);
	ck_assert_uint_gt(bound, 100);
	fx_free(&f);
}
END_TEST

/* Hand-picked boundaries: touching ranges, other fds, the last byte. */
START_TEST(test_boundaries)
{
	struct fixture f;

	fx_init(&f, 8, 1);
	fx_insert(&f, &f.pool[0], 5, 0x2000, 0x2000);	       /* bytes [0x2000, 0x3fff] */
	fx_insert(&f, &f.pool[1], 6, 0x2000, 0x2000);	       /* same bytes, other fd */
	fx_insert(&f, &f.pool[2], UINT32_MAX, 0 - PAGE, PAGE); /* the last page */
	fx_insert(&f, &f.pool[3], 0, 0, 1);		       /* byte 0 of fd 0 */
	fx_check_valid(&f);

	/* touching from either side is not meeting */
	ck_assert(!ms_gmem_intersects(&f.idx, 5, 0x1000, 0x1fff));
	ck_assert(!ms_gmem_intersects(&f.idx, 5, 0x4000, 0x4fff));
	ck_assert(ms_gmem_intersects(&f.idx, 5, 0x1000, 0x2000));
	ck_assert(ms_gmem_intersects(&f.idx, 5, 0x3fff, 0x5000));
	ck_assert(ms_gmem_intersects(&f.idx, 5, 0, UINT64_MAX));
	ck_assert_ptr_eq(ms_gmem_find(&f.idx, 5, 0x2800, 0x2800), &f.pool[0].b);
	ck_assert_ptr_eq(ms_gmem_find(&f.idx, 6, 0x2800, 0x2800), &f.pool[1].b);
	/* the fd numbers in between have nothing */
	ck_assert(!ms_gmem_intersects(&f.idx, 4, 0, UINT64_MAX));
	ck_assert(!ms_gmem_intersects(&f.idx, 7, 0, UINT64_MAX));
	ck_assert(!ms_gmem_intersects(&f.idx, UINT32_MAX - 1, 0, UINT64_MAX));
	/* the last byte of the space, and byte 0 */
	ck_assert_ptr_eq(ms_gmem_find(&f.idx, UINT32_MAX, UINT64_MAX, UINT64_MAX), &f.pool[2].b);
	ck_assert(!ms_gmem_intersects(&f.idx, UINT32_MAX, 0, UINT64_MAX - PAGE));
	ck_assert_ptr_eq(ms_gmem_find(&f.idx, 0, 0, 0), &f.pool[3].b);
	ck_assert(!ms_gmem_intersects(&f.idx, 0, 1, UINT64_MAX));
	/* a reversed range meets nothing */
	ck_assert(!ms_gmem_intersects(&f.idx, 5, 0x3000, 0x2000));

	/* removing frees the range for a new binding */
	fx_remove(&f, &f.pool[0]);
	ck_assert(!ms_gmem_intersects(&f.idx, 5, 0, UINT64_MAX));
	fx_insert(&f, &f.pool[4], 5, 0x3000, PAGE);
	ck_assert_ptr_eq(ms_gmem_find(&f.idx, 5, 0, UINT64_MAX), &f.pool[4].b);
	fx_check_valid(&f);
	fx_free(&f);
}
END_TEST

/* The validator notices a wrong subtree maximum and a wrong count. */
START_TEST(test_validator_catches)
{
	struct fixture f;

	fx_init(&f, 16, 3);
	for (size_t i = 0; i < 16; i++)
		fx_insert(&f, &f.pool[i], (uint32_t)(i % 3), i * PAGE, 2 * PAGE);
	fx_check_valid(&f);
	{
		struct ms_gmem_binding *top =
			ms_container_of(f.idx.root.root.node, struct ms_gmem_binding, rb);
		uint64_t saved = top->max_last;

		top->max_last = saved - 1;
		ck_assert_ptr_eq(ms_gmem_validate(&f.idx), ms_rb_bad_augment);
		top->max_last = saved;
	}
	f.idx.count++;
	ck_assert_ptr_nonnull(ms_gmem_validate(&f.idx));
	f.idx.count--;
	ck_assert_ptr_null(ms_gmem_validate(&f.idx));
	fx_free(&f);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("gmem_index");
	TCase *tc;

	tc = tcase_create("random_small");
	tcase_add_test(tc, test_random_small);
	suite_add_tcase(s, tc);
	tc = tcase_create("random_large");
	tcase_add_test(tc, test_random_large);
	suite_add_tcase(s, tc);
	tc = tcase_create("bind_discipline");
	tcase_add_test(tc, test_bind_discipline);
	suite_add_tcase(s, tc);
	tc = tcase_create("boundaries");
	tcase_add_test(tc, test_boundaries);
	suite_add_tcase(s, tc);
	tc = tcase_create("validator_catches");
	tcase_add_test(tc, test_validator_catches);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
