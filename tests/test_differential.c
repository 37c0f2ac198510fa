/* SPDX-License-Identifier: MIT */
/*
 * The differential test of the two indexes: one random request stream,
 * valid and invalid, single requests and batches, failing prepare and
 * set_attributes hooks, attribute changes and id-picking creates, made
 * into two objects, one on KVM's index (gfn red-black tree, id hash), the
 * other on the B+tree's.  After every call the two must agree on
 * everything a caller can observe: the call's result, failed index and
 * picked id, every hook call with its arguments in order, and then, on the
 * published sets, the generation, the counts, the slots in gfn order,
 * every id, lookups (exact, approximate, cached, gfn_to_hva) at every slot
 * edge and at random gfns, gfn and hva range walks, and the attribute runs.
 *
 * Each case is one seed; together they make over a million writer calls
 * (the count is printed).  The spaces are tiny so that overlaps, touching
 * ranges and id collisions are frequent.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "compiler.h"
#include "debug.h"
#include "model.h"
#include "ts_check.h"
#include "ts_scale.h"

#define PAGE_SHIFT 12u
#define PAGE	   (1ull << PAGE_SHIFT)
#define MAX_SLOTS  24u
#define GFN_SPACE  512u /* pages */
#define HVA_SPACE  512u /* pages */
#define GMEM_FDS   3u
#define BATCH_MAX  6u

/*
 * Writer calls per case; eight cases make one million.  The build sets
 * fewer where every call runs slowly (MEMSLOTS_DIFFERENTIAL_CALLS from
 * tests/CMakeLists.txt: the Debug and sanitizer presets); the dev stage's
 * -O2 build runs the million.
 */
#define CALLS_PER_CASE 125000u

/* Cheap on the hot path: Check's own asserts mark a point on every pass. */
#define DT_CHECK(cond, ...)                        \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

struct side {
	struct memslots *ms;
	struct ts_hooks h;
	struct memslots_cache cache;
};

static void side_init(struct side *s, uint32_t index)
{
	struct memslots_config cfg = {
		.page_shift = PAGE_SHIFT,
		.max_slots = MAX_SLOTS,
		.ops = &ts_recording_ops,
		.opaque = &s->h,
		.rcu = &ts_counting_rcu,
		.supported_attributes = MEMSLOTS_ATTR_PRIVATE,
		.index = index,
	};

	ts_hooks_init(&s->h);
	s->h.set_priv = true;
	s->ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(s->ms);
	ck_assert_uint_eq(memslots_index(s->ms), index);
	s->h.ms = s->ms;
	memset(&s->cache, 0, sizeof(s->cache));
}

/* ---- the request stream ---------------------------------------------------------- */

static uint32_t rnd_flags(struct ts_rng *rng)
{
	unsigned int k = (unsigned int)ts_rng_below(rng, 20);

	if (k < 3)
		return MEMSLOT_GUEST_MEMFD;
	if (k == 3)
		return 1u << (unsigned int)ts_rng_below(rng, 32); /* often unknown */
	return (uint32_t)ts_rng_below(rng, 4);			  /* LOG_DIRTY_PAGES, READONLY */
}

static struct memslots_region2 gen_request(struct ts_rng *rng)
{
	struct memslots_region2 r;
	uint64_t npages = ts_rng_below(rng, 5) ? 1 + ts_rng_below(rng, 24) : 0;

	memset(&r, 0, sizeof(r));
	r.slot = (uint32_t)ts_rng_below(rng, MAX_SLOTS + 2);
	if (!ts_rng_below(rng, 50))
		r.slot |= 1u << 16; /* another address space: refused */
	r.flags = rnd_flags(rng);
	r.guest_phys_addr = ts_rng_below(rng, GFN_SPACE) * PAGE;
	r.memory_size = npages * PAGE;
	r.userspace_addr = 0x10000000ull + ts_rng_below(rng, HVA_SPACE) * PAGE;
	if (r.flags & MEMSLOT_GUEST_MEMFD) {
		r.guest_memfd = (uint32_t)ts_rng_below(rng, GMEM_FDS);
		r.guest_memfd_offset = ts_rng_below(rng, 64) * PAGE;
	}
	if (!ts_rng_below(rng, 40))
		r.guest_phys_addr += 1 + ts_rng_below(rng, PAGE - 1); /* misaligned */
	if (!ts_rng_below(rng, 40))
		r.memory_size += 1 + ts_rng_below(rng, PAGE - 1);
	return r;
}

static struct memslots_attributes gen_attributes(struct ts_rng *rng)
{
	struct memslots_attributes a = {
		.address = ts_rng_below(rng, GFN_SPACE + 16) * PAGE,
		.size = (1 + ts_rng_below(rng, 48)) * PAGE,
		.attributes = ts_rng_below(rng, 2) ? MEMSLOTS_ATTR_PRIVATE : 0,
	};

	if (!ts_rng_below(rng, 30))
		a.flags = 1;
	if (!ts_rng_below(rng, 30))
		a.attributes |= 1ull << 5; /* unsupported */
	if (!ts_rng_below(rng, 30))
		a.size = 0;
	return a;
}

/* ---- comparing what a caller observes -------------------------------------------- */

static bool same_slot(const struct memslot *a, const struct memslot *b)
{
	if (!a || !b)
		return a == b;
	return ts_slot_same(a, b, ~0u);
}

static void check_hooks(const struct side *x, const struct side *y, uint64_t call)
{
	DT_CHECK(x->h.n == y->h.n, "call %llu: %zu hook calls against %zu",
		 (unsigned long long)call, x->h.n, y->h.n);
	for (size_t i = 0; i < x->h.n; i++) {
		const struct ts_event *a = &x->h.ev[i], *b = &y->h.ev[i];

		DT_CHECK(a->hook == b->hook && ts_same_event_args(a, b) && a->gen == b->gen &&
				 a->ret == b->ret && !memcmp(&a->attr, &b->attr, sizeof(a->attr)),
			 "call %llu: hook call %zu differs", (unsigned long long)call, i);
	}
}

static void check_walks(const struct memslots_set *a, const struct memslots_set *b,
			struct ts_rng *rng)
{
	const struct memslot *s, *t;

	for (s = memslots_first(a), t = memslots_first(b); s || t;
	     s = memslots_next(a, s), t = memslots_next(b, t))
		DT_CHECK(same_slot(s, t), "the slots in gfn order differ");
	for (unsigned int k = 0; k < 3; k++) {
		uint64_t g = ts_rng_below(rng, GFN_SPACE + 32);
		uint64_t e = g + ts_rng_below(rng, 128);
		uint64_t h = 0x10000000ull + ts_rng_below(rng, HVA_SPACE + 32) * PAGE;
		uint64_t l = h + ts_rng_below(rng, 64 * PAGE);

		for (s = memslots_gfn_range_first(a, g, e), t = memslots_gfn_range_first(b, g, e);
		     s || t; s = memslots_gfn_range_next(a, s, g, e),
		    t = memslots_gfn_range_next(b, t, g, e))
			DT_CHECK(same_slot(s, t), "gfn range [%llu, %llu) walks differ",
				 (unsigned long long)g, (unsigned long long)e);
		for (s = memslots_hva_range_first(a, h, l), t = memslots_hva_range_first(b, h, l);
		     s || t; s = memslots_hva_range_next(a, s, h, l),
		    t = memslots_hva_range_next(b, t, h, l))
			DT_CHECK(same_slot(s, t), "hva range walks differ");
	}
}

/* Every lookup of one gfn. */
static void check_gfn(const struct memslots_set *a, const struct memslots_set *b, struct side *x,
		      struct side *y, uint64_t g)
{
	DT_CHECK(same_slot(memslots_find_gfn(a, g), memslots_find_gfn(b, g)), "find_gfn(%llu)",
		 (unsigned long long)g);
	DT_CHECK(same_slot(memslots_find_gfn_approx(a, g), memslots_find_gfn_approx(b, g)),
		 "find_gfn_approx(%llu)", (unsigned long long)g);
	DT_CHECK(same_slot(memslots_find_gfn_cached(a, &x->cache, g),
			   memslots_find_gfn_cached(b, &y->cache, g)),
		 "find_gfn_cached(%llu)", (unsigned long long)g);
	DT_CHECK(memslots_gfn_to_hva(a, g) == memslots_gfn_to_hva(b, g), "gfn_to_hva(%llu)",
		 (unsigned long long)g);
}

static void check_lookups(const struct memslots_set *a, const struct memslots_set *b,
			  struct side *x, struct side *y, struct ts_rng *rng)
{
	const struct memslot *s;

	for (unsigned int id = 0; id < MAX_SLOTS + 1; id++)
		DT_CHECK(same_slot(memslots_find_id(a, (uint16_t)id),
				   memslots_find_id(b, (uint16_t)id)),
			 "find_id(%u)", id);
	for (s = memslots_first(a); s; s = memslots_next(a, s)) {
		check_gfn(a, b, x, y, s->base_gfn);
		check_gfn(a, b, x, y, s->base_gfn + s->npages - 1);
		check_gfn(a, b, x, y, s->base_gfn + s->npages);
		if (s->base_gfn)
			check_gfn(a, b, x, y, s->base_gfn - 1);
	}
	for (unsigned int k = 0; k < 8; k++)
		check_gfn(a, b, x, y, ts_rng_below(rng, GFN_SPACE + 32));
}

static void check_attributes(const struct memslots_set *a, const struct memslots_set *b)
{
	uint64_t g = 0, end_a, end_b;

	for (unsigned int k = 0; k < 64; k++) {
		uint64_t wa = memslots_gfn_attributes(a, g, &end_a);
		uint64_t wb = memslots_gfn_attributes(b, g, &end_b);

		DT_CHECK(wa == wb && end_a == end_b, "attributes at %llu differ",
			 (unsigned long long)g);
		if (end_a == UINT64_MAX)
			return;
		g = end_a;
	}
}

static void check_state(struct side *x, struct side *y, struct ts_rng *rng, uint64_t call)
{
	const struct memslots_set *a = memslots_read_lock(x->ms);
	const struct memslots_set *b = memslots_read_lock(y->ms);

	DT_CHECK(memslots_generation(a) == memslots_generation(b), "call %llu: generations",
		 (unsigned long long)call);
	DT_CHECK(memslots_count(a) == memslots_count(b) &&
			 memslots_nr_pages(a) == memslots_nr_pages(b),
		 "call %llu: counts", (unsigned long long)call);
	check_walks(a, b, rng);
	check_lookups(a, b, x, y, rng);
	check_attributes(a, b);
	memslots_read_unlock(y->ms);
	memslots_read_unlock(x->ms);
}

/* ---- one call into both ---------------------------------------------------------- */

struct outcome {
	int err;
	size_t failed;
	uint16_t id;
};

enum dt_op { DT_SINGLE, DT_BATCH, DT_ATTR, DT_CREATE, DT_LOWEST };

static enum dt_op pick_op(struct ts_rng *rng)
{
	unsigned int k = (unsigned int)ts_rng_below(rng, 100);

	if (k < 45)
		return DT_SINGLE;
	if (k < 65)
		return DT_BATCH;
	if (k < 82)
		return DT_ATTR;
	if (k < 94)
		return DT_CREATE;
	return DT_LOWEST;
}

struct call {
	enum dt_op op;
	struct memslots_region2 r[BATCH_MAX];
	size_t n;
	struct memslots_attributes attr;
	unsigned int first, last;
	size_t fail_prepare_at;
	int fail_attributes;
};

static void gen_call(struct call *c, struct ts_rng *rng)
{
	c->op = pick_op(rng);
	c->n = c->op == DT_BATCH ? 1 + ts_rng_below(rng, BATCH_MAX) : 1;
	for (size_t i = 0; i < c->n; i++)
		c->r[i] = gen_request(rng);
	c->attr = gen_attributes(rng);
	c->first = (unsigned int)ts_rng_below(rng, MAX_SLOTS);
	c->last = c->first + (unsigned int)ts_rng_below(rng, MAX_SLOTS);
	c->fail_prepare_at = ts_rng_below(rng, 8) ? 0 : 1 + ts_rng_below(rng, 4);
	c->fail_attributes = ts_rng_below(rng, 10) ? 0 : -EIO;
}

static struct outcome make_call(struct side *s, const struct call *c)
{
	struct outcome o = {.failed = SIZE_MAX, .id = 0xffff};

	ts_hooks_clear(&s->h);
	s->h.fail_prepare_at = c->fail_prepare_at;
	s->h.fail_attributes = c->fail_attributes;
	switch (c->op) {
	case DT_SINGLE:
		o.err = memslots_set_region2(s->ms, &c->r[0]);
		break;
	case DT_BATCH:
		o.err = memslots_apply2(s->ms, c->r, c->n, &o.failed);
		break;
	case DT_ATTR:
		o.err = memslots_set_attributes(s->ms, &c->attr);
		break;
	case DT_CREATE:
		o.err = memslots_create_region2(s->ms, &c->r[0], c->first, c->last, &o.id);
		break;
	case DT_LOWEST:
		o.err = memslots_lowest_free_id(s->ms, c->first, c->last, &o.id);
		break;
	}
	return o;
}

/* Calls made; *@ok of them succeeded (the stream must not be all refusals). */
static uint64_t run(uint64_t seed, unsigned int calls, uint64_t *ok)
{
	struct side x, y;
	struct ts_rng rng;
	struct call c;
	uint64_t made = 0;

	ts_rng_seed(&rng, seed);
	side_init(&x, MEMSLOTS_INDEX_KVM);
	side_init(&y, MEMSLOTS_INDEX_BTREE);
	for (unsigned int i = 0; i < calls; i++) {
		struct outcome ox, oy;

		gen_call(&c, &rng);
		ox = make_call(&x, &c);
		oy = make_call(&y, &c);
		made++;
		*ok += !ox.err;
		DT_CHECK(ox.err == oy.err && ox.failed == oy.failed && ox.id == oy.id,
			 "seed %llu call %u (op %d): %d/%zu/%u against %d/%zu/%u",
			 (unsigned long long)seed, i, (int)c.op, ox.err, ox.failed, ox.id, oy.err,
			 oy.failed, oy.id);
		check_hooks(&x, &y, i);
		check_state(&x, &y, &rng, i);
		if (i % 1024 == 0) {
			DT_CHECK(!memslots__check_sets(x.ms, NULL),
				 "KVM-index object inconsistent");
			DT_CHECK(!memslots__check_sets(y.ms, NULL), "B+tree object inconsistent");
		}
	}
	/* Their release hooks, in the same order. */
	ts_hooks_clear(&x.h);
	ts_hooks_clear(&y.h);
	memslots_free(x.ms);
	memslots_free(y.ms);
	x.ms = y.ms = NULL;
	check_hooks(&x, &y, calls);
	ts_hooks_fini(&x.h);
	ts_hooks_fini(&y.h);
	return made;
}

static unsigned int scaled(unsigned int n)
{
	const char *env = getenv("MEMSLOTS_DIFFERENTIAL_CALLS");

	if (env && *env)
		n = (unsigned int)strtoul(env, NULL, 0);
	return (unsigned int)ts_scaled(n, 100);
}

START_TEST(test_seed)
{
	uint64_t ok = 0;
	uint64_t made =
		run(0x9e3779b97f4a7c15ull * (uint64_t)(_i + 1), scaled(CALLS_PER_CASE), &ok);

	printf("differential seed %d: %llu calls into each object agreed (%llu succeeded)\n", _i,
	       (unsigned long long)made, (unsigned long long)ok);
	ck_assert_uint_gt(ok, made / 5);
}
END_TEST

static Suite *make_suite(void)
{
	/* One case per seed, each a ctest entry: case i runs seed i (the build
	 * finds the names as .tcase = "..."). */
	static const struct {
		const char *tcase;
	} seeds[] = {
		{.tcase = "seed0"}, {.tcase = "seed1"}, {.tcase = "seed2"}, {.tcase = "seed3"},
		{.tcase = "seed4"}, {.tcase = "seed5"}, {.tcase = "seed6"}, {.tcase = "seed7"},
	};
	Suite *s = suite_create("differential");

	for (int i = 0; i < (int)MS_ARRAY_SIZE(seeds); i++) {
		TCase *tc = tcase_create(seeds[i].tcase);

		tcase_add_loop_test(tc, test_seed, i, i + 1);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
