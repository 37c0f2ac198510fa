/* SPDX-License-Identifier: MIT */
/*
 * The byte-level translators (memslots_gpa_to_hva*, memslots_hva_to_gpa*)
 * against a brute-force model: random layouts whose host ranges alias one
 * another, copy loops over guest ranges that cross slots and holes, real
 * memory behind them, and INVALID slots seen from an invalidate hook
 * while deletes and moves are in flight.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "ts_check.h"
#include "ts_scale.h"

#define NIDS	  32u
#define GFN_SPACE 256u /* the model's guest space, in pages */

/*
 * @n rounds natively, a fifteenth under valgrind (whose memcheck stage runs
 * every unit test, 50 times slower): the byte-by-byte copy model alone
 * took 400 s there; see ts_scale.h for the sanitizer builds.
 */
static unsigned int rounds(unsigned int n)
{
	return (unsigned int)ts_scaled(n, 15);
}

struct tm_slot {
	bool present;
	bool invalid; /* the INVALID copy is published (a delete or move in flight) */
	uint64_t gfn, npages, hva;
	uint32_t flags;
};

struct tm {
	unsigned int shift;
	struct tm_slot s[NIDS];
};

/* ---- the model ------------------------------------------------------------------ */

static const struct tm_slot *tm_holding(const struct tm *m, uint64_t gfn, unsigned int *id)
{
	for (unsigned int i = 0; i < NIDS; i++) {
		const struct tm_slot *s = &m->s[i];

		if (s->present && gfn >= s->gfn && gfn - s->gfn < s->npages) {
			if (id)
				*id = i;
			return s;
		}
	}
	return NULL;
}

static uint64_t tm_gpa_to_hva(const struct tm *m, uint64_t gpa, bool write, uint64_t *len)
{
	const struct tm_slot *s = tm_holding(m, gpa >> m->shift, NULL);

	*len = 0;
	if (!s || s->invalid || (write && (s->flags & MEMSLOT_READONLY)))
		return MEMSLOTS_HVA_BAD;
	*len = ((s->gfn + s->npages) << m->shift) - gpa;
	return s->hva + (gpa - (s->gfn << m->shift));
}

/* The valid slots mapping @hva, ascending gpa (insertion sort by gfn). */
static unsigned int tm_aliases(const struct tm *m, uint64_t hva, unsigned int *ids)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < NIDS; i++) {
		const struct tm_slot *s = &m->s[i];
		unsigned int j;

		if (!s->present || s->invalid || hva < s->hva ||
		    hva - s->hva > (s->npages << m->shift) - 1)
			continue;
		for (j = n; j > 0 && m->s[ids[j - 1]].gfn > s->gfn; j--)
			ids[j] = ids[j - 1];
		ids[j] = i;
		n++;
	}
	return n;
}

static bool tm_free_range(const struct tm *m, uint64_t gfn, uint64_t npages, unsigned int ignore)
{
	if (gfn + npages > GFN_SPACE)
		return false;
	for (unsigned int i = 0; i < NIDS; i++) {
		const struct tm_slot *s = &m->s[i];

		if (i != ignore && s->present && gfn < s->gfn + s->npages && s->gfn < gfn + npages)
			return false;
	}
	return true;
}

/* ---- comparing a set with the model ------------------------------------------------- */

static void check_gpa(const struct tm *m, const struct memslots_set *set,
		      struct memslots_cache *cache, uint64_t gpa)
{
	uint64_t len, mlen, hva, mhva;

	mhva = tm_gpa_to_hva(m, gpa, false, &mlen);
	len = 12345;
	hva = memslots_gpa_to_hva(set, gpa, &len);
	TS_CHECK(hva == mhva && len == mlen,
		 "gpa_to_hva(%#llx) = %#llx len %#llx, model %#llx %#llx", (unsigned long long)gpa,
		 (unsigned long long)hva, (unsigned long long)len, (unsigned long long)mhva,
		 (unsigned long long)mlen);
	TS_CMP(memslots_gpa_to_hva(set, gpa, NULL), ==, mhva);
	len = 12345;
	TS_CMP(memslots_gpa_to_hva_cached(set, cache, gpa, &len), ==, mhva);
	TS_CMP(len, ==, mlen);
	len = 12345;
	TS_CMP(memslots_gpa_to_hva_cached(set, NULL, gpa, &len), ==, mhva);
	TS_CMP(len, ==, mlen);

	mhva = tm_gpa_to_hva(m, gpa, true, &mlen);
	len = 12345;
	TS_CMP(memslots_gpa_to_hva_write(set, cache, gpa, &len), ==, mhva);
	TS_CMP(len, ==, mlen);
	len = 12345;
	TS_CMP(memslots_gpa_to_hva_write(set, NULL, gpa, &len), ==, mhva);
	TS_CMP(len, ==, mlen);
}

static void check_hva(const struct tm *m, const struct memslots_set *set, uint64_t hva)
{
	unsigned int ids[NIDS], n = tm_aliases(m, hva, ids), k = 0;
	const struct memslot *s;
	uint64_t gpa = 0xdead;

	for (s = memslots_hva_to_gpa(set, hva, &gpa); s;
	     s = memslots_hva_to_gpa_next(set, hva, s, &gpa), k++) {
		const struct tm_slot *e;

		TS_CHECK(k < n, "hva %#llx: more aliases than the model's %u",
			 (unsigned long long)hva, n);
		if (k >= n)
			return;
		e = &m->s[ids[k]];
		TS_CMP(s->id, ==, ids[k]);
		TS_CMP(s->flags & MEMSLOT_INVALID, ==, 0);
		TS_CMP(gpa, ==, (e->gfn << m->shift) + (hva - e->hva));
		/* A NULL gpa pointer is allowed; a NULL prev is the first. */
		if (!k) {
			TS_PTR_CMP(memslots_hva_to_gpa(set, hva, NULL), ==, s);
			TS_PTR_CMP(memslots_hva_to_gpa_next(set, hva, NULL, NULL), ==, s);
		}
		gpa = 0xdead;
	}
	TS_CHECK(k == n, "hva %#llx: %u aliases, model %u", (unsigned long long)hva, k, n);
	if (!n) {
		gpa = 0xbeef;
		TS_PTR_CMP(memslots_hva_to_gpa(set, hva, &gpa), ==, NULL);
		TS_CMP(gpa, ==, 0xbeef); /* untouched on a miss */
	}
}

/* Every slot edge, and random points of the guest and the host spaces. */
static void check_set(const struct tm *m, const struct memslots_set *set,
		      struct memslots_cache *cache, struct ts_rng *rng)
{
	uint64_t page = 1ull << m->shift;

	for (unsigned int i = 0; i < NIDS; i++) {
		const struct tm_slot *s = &m->s[i];
		uint64_t gpa, size;

		if (!s->present)
			continue;
		gpa = s->gfn << m->shift;
		size = s->npages << m->shift;
		check_gpa(m, set, cache, gpa);
		check_gpa(m, set, cache, gpa + size - 1);
		check_gpa(m, set, cache, gpa + size);
		check_gpa(m, set, cache, gpa + ts_rng_below(rng, size));
		if (gpa)
			check_gpa(m, set, cache, gpa - 1);
		check_hva(m, set, s->hva);
		check_hva(m, set, s->hva + size - 1);
		check_hva(m, set, s->hva + size);
		check_hva(m, set, s->hva - 1);
		check_hva(m, set, s->hva + ts_rng_below(rng, size));
	}
	for (unsigned int k = 0; k < 64; k++) {
		check_gpa(m, set, cache, ts_rng_below(rng, (GFN_SPACE + 4) * page));
		check_hva(m, set,
			  ((ts_rng_below(rng, 3) + 1) << 32) + ts_rng_below(rng, 40 * page));
	}
	check_gpa(m, set, cache, UINT64_MAX);
	check_hva(m, set, UINT64_MAX);
	check_hva(m, set, 0);
}

/* ---- random layouts with aliased host ranges ------------------------------------------ */

struct tctx {
	struct memslots *ms;
	struct tm m;
	struct ts_rng rng;
	struct memslots_cache cache;
	unsigned long invalidates; /* invalidate hooks that checked */
	bool in_flight[NIDS];	   /* the ids a running call deletes or moves */
};

static struct memslots_region req(const struct tm *m, unsigned int id, const struct tm_slot *s)
{
	return (struct memslots_region){
		.slot = id,
		.flags = s->flags,
		.guest_phys_addr = s->gfn << m->shift,
		.memory_size = s->npages << m->shift,
		.userspace_addr = s->hva,
	};
}

/* A slot of the model's layout: often right after another one, so that
 * guest ranges touch, and its host range in one of three small buffers, so
 * that host ranges alias. */
static bool tm_pick(struct tctx *t, struct tm_slot *s, unsigned int ignore)
{
	for (int tries = 0; tries < 32; tries++) {
		unsigned int other = (unsigned int)ts_rng_below(&t->rng, NIDS);

		s->npages = 1 + ts_rng_below(&t->rng, 12);
		if (t->m.s[other].present && ts_rng_below(&t->rng, 2))
			s->gfn = t->m.s[other].gfn + t->m.s[other].npages;
		else
			s->gfn = ts_rng_below(&t->rng, GFN_SPACE);
		if (tm_free_range(&t->m, s->gfn, s->npages, ignore))
			return true;
	}
	return false;
}

static void tctx_init(struct tctx *t, unsigned int shift, uint64_t seed,
		      const struct memslots_ops *ops)
{
	struct memslots_config cfg = {.page_shift = shift, .max_slots = NIDS, .ops = ops};

	memset(t, 0, sizeof(*t));
	cfg.opaque = t;
	t->m.shift = shift;
	ts_rng_seed(&t->rng, seed);
	t->ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(t->ms);
	memslots_reader_register(t->ms);
}

static void tctx_fini(struct tctx *t)
{
	memslots_reader_unregister(t->ms);
	memslots_free(t->ms);
}

static void tctx_check(struct tctx *t)
{
	const struct memslots_set *set = memslots_read_lock(t->ms);

	check_set(&t->m, set, &t->cache, &t->rng);
	memslots_read_unlock(t->ms);
}

/* One random create, delete, move or flags change, applied to both. */
static void tctx_step(struct tctx *t)
{
	unsigned int id = (unsigned int)ts_rng_below(&t->rng, NIDS);
	struct tm_slot *s = &t->m.s[id], n = *s;
	struct memslots_region r;

	if (!s->present) {
		if (!tm_pick(t, &n, NIDS))
			return;
		n.present = true;
		n.hva = ((ts_rng_below(&t->rng, 3) + 1) << 32) +
			(ts_rng_below(&t->rng, 24) << t->m.shift);
		n.flags = ts_rng_below(&t->rng, 4) == 0 ? MEMSLOT_READONLY : 0;
	} else {
		switch (ts_rng_below(&t->rng, 3)) {
		case 0:
			n.present = false;
			break;
		case 1:
			if (!tm_pick(t, &n, id))
				return;
			n.npages = s->npages; /* a move keeps the size */
			if (!tm_free_range(&t->m, n.gfn, n.npages, id))
				return;
			break;
		default:
			n.flags ^= MEMSLOT_LOG_DIRTY_PAGES;
		}
	}
	r = req(&t->m, id, n.present ? &n : s);
	if (!n.present)
		r.memory_size = 0;
	/* A delete or a move: an invalidate hook will see it in flight. */
	t->in_flight[id] = s->present && (!n.present || n.gfn != s->gfn);
	ck_assert_int_eq(memslots_set_region(t->ms, &r), 0);
	t->in_flight[id] = false;
	*s = n;
}

START_TEST(random_layouts)
{
	static const unsigned int shifts[] = {12, 14, 10};
	struct tctx t;

	for (unsigned int i = 0; i < 3; i++) {
		tctx_init(&t, shifts[i], 1000 + i, NULL);
		for (unsigned int step = 0; step < rounds(400); step++) {
			tctx_step(&t);
			tctx_check(&t);
		}
		tctx_fini(&t);
	}
}
END_TEST

/* A NULL set is empty, as for every lookup. */
START_TEST(null_set)
{
	struct memslots_cache cache = {0};
	uint64_t len = 7, gpa = 9;

	ck_assert_uint_eq(memslots_gpa_to_hva(NULL, 0, &len), MEMSLOTS_HVA_BAD);
	ck_assert_uint_eq(len, 0);
	len = 7;
	ck_assert_uint_eq(memslots_gpa_to_hva_cached(NULL, &cache, 0, &len), MEMSLOTS_HVA_BAD);
	ck_assert_uint_eq(len, 0);
	len = 7;
	ck_assert_uint_eq(memslots_gpa_to_hva_write(NULL, NULL, 0, &len), MEMSLOTS_HVA_BAD);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(memslots_hva_to_gpa(NULL, 0, &gpa));
	ck_assert_ptr_null(memslots_hva_to_gpa_next(NULL, 0, NULL, &gpa));
	ck_assert_uint_eq(gpa, 9);
}
END_TEST

/* ---- copies over real memory ------------------------------------------------------------- */

#define BUF_PAGES 48u

/* What a VMM's device model does: copy guest bytes slot by slot, until a
 * hole (or, writing, a read-only slot).  Returns the bytes done. */
static uint64_t guest_copy(const struct memslots_set *set, struct memslots_cache *cache,
			   uint64_t gpa, void *buf, uint64_t n, bool write)
{
	uint64_t done = 0;

	while (done < n) {
		uint64_t len, hva, chunk;

		if (write)
			hva = memslots_gpa_to_hva_write(set, cache, gpa + done, &len);
		else
			hva = memslots_gpa_to_hva_cached(set, cache, gpa + done, &len);
		if (hva == MEMSLOTS_HVA_BAD)
			break;
		chunk = n - done < len ? n - done : len;
		if (write)
			memcpy((void *)(uintptr_t)hva, (char *)buf + done, chunk);
		else
			memcpy((char *)buf + done, (const void *)(uintptr_t)hva, chunk);
		done += chunk;
	}
	return done;
}

START_TEST(copy_across_slots)
{
	const uint64_t page = 4096;
	struct ts_rng rng;

	ts_rng_seed(&rng, 77);
	for (unsigned int round = 0; round < rounds(20); round++) {
		unsigned char *mem = aligned_alloc(page, BUF_PAGES * page);
		unsigned char *shadow = malloc(BUF_PAGES * page);
		unsigned char *got = malloc(BUF_PAGES * page);
		struct memslots_config cfg = {.max_slots = NIDS};
		struct memslots *ms = memslots_new(&cfg);
		struct memslots_cache cache = {0};
		const struct memslots_set *set;
		struct tm m = {.shift = 12};
		uint64_t gfn = 0;
		unsigned int id = 0;

		ck_assert_ptr_nonnull(mem);
		ck_assert_ptr_nonnull(ms);
		for (uint64_t i = 0; i < BUF_PAGES * page; i++)
			mem[i] = (unsigned char)(i * 131 + round);
		/* Contiguous slots over [0, 40) pages, a hole, one more slot
		 * at [44, 48); host pages drawn anywhere in mem, so aliased. */
		while (gfn < 48 && id < NIDS) {
			struct tm_slot *s = &m.s[id];
			struct memslots_region r;

			if (gfn == 40)
				gfn = 44;
			s->present = true;
			s->gfn = gfn;
			s->npages = 1 + ts_rng_below(&rng, 6);
			if (s->gfn + s->npages > (gfn < 40 ? 40 : 48))
				s->npages = (gfn < 40 ? 40 : 48) - s->gfn;
			s->hva = (uint64_t)(uintptr_t)mem +
				 ts_rng_below(&rng, BUF_PAGES - s->npages + 1) * page;
			s->flags = ts_rng_below(&rng, 5) == 0 ? MEMSLOT_READONLY : 0;
			r = req(&m, id, s);
			ck_assert_int_eq(memslots_set_region(ms, &r), 0);
			gfn += s->npages;
			id++;
		}

		memslots_reader_register(ms);
		set = memslots_read_lock(ms);
		for (unsigned int k = 0; k < rounds(200); k++) {
			uint64_t gpa = ts_rng_below(&rng, 50 * page);
			uint64_t n = 1 + ts_rng_below(&rng, 12 * page), want = 0, len;
			bool write = k & 1;

			/* The model, byte by byte: bytes up to the first one
			 * the access may not reach. */
			memcpy(shadow, mem, BUF_PAGES * page);
			for (uint64_t b = 0; b < n; b++, want++) {
				uint64_t hva = tm_gpa_to_hva(&m, gpa + b, write, &len);

				if (hva == MEMSLOTS_HVA_BAD)
					break;
				if (write)
					shadow[hva - (uint64_t)(uintptr_t)mem] =
						(unsigned char)(b ^ k);
				else
					got[b] = mem[hva - (uint64_t)(uintptr_t)mem];
			}
			if (write) {
				unsigned char *src = malloc(n);

				for (uint64_t b = 0; b < n; b++)
					src[b] = (unsigned char)(b ^ k);
				ck_assert_uint_eq(guest_copy(set, &cache, gpa, src, n, true), want);
				ck_assert_int_eq(memcmp(mem, shadow, BUF_PAGES * page), 0);
				free(src);
			} else {
				unsigned char *dst = malloc(n);

				ck_assert_uint_eq(guest_copy(set, &cache, gpa, dst, n, false),
						  want);
				ck_assert_int_eq(memcmp(dst, got, want), 0);
				free(dst);
			}
		}
		memslots_read_unlock(ms);
		memslots_reader_unregister(ms);
		memslots_free(ms);
		free(got);
		free(shadow);
		free(mem);
	}
}
END_TEST

/* ---- INVALID slots, seen while a delete or move is in flight ------------------------------- */

/*
 * The invalidate hook runs once the INVALID copies of every delete and
 * move of the call are published: the set a reader gets then has them, so
 * the translators must refuse them (gpa -> hva) and skip them (hva ->
 * gpa) while their aliases still answer.
 */
static void check_invalidate(void *opaque, const struct memslot *slot)
{
	struct tctx *t = opaque;
	const struct memslots_set *set;
	struct tm shown = t->m;

	TS_CMP(slot->flags & MEMSLOT_INVALID, ==, MEMSLOT_INVALID);
	TS_CHECK(t->in_flight[slot->id], "invalidate of slot %u, not in flight", slot->id);
	for (unsigned int i = 0; i < NIDS; i++)
		shown.s[i].invalid = t->in_flight[i];
	set = memslots_read_lock(t->ms);
	TS_PTR_CMP(memslots_find_id(set, slot->id), ==, slot);
	check_set(&shown, set, &t->cache, &t->rng);
	memslots_read_unlock(t->ms);
	t->invalidates++;
}

static const struct memslots_ops invalidate_ops = {.invalidate = check_invalidate};

START_TEST(invalid_in_flight)
{
	struct tctx t;
	unsigned long batched = 0, before;

	tctx_init(&t, 12, 4242, &invalidate_ops);
	for (unsigned int round = 0; round < rounds(300); round++) {
		struct memslots_region r[4];
		struct tm after = t.m;
		unsigned int n = 0;

		/* Grow the layout, then batches of deletes and moves (and an
		 * occasional create or flags change) in one call. */
		if (round < rounds(40) || ts_rng_below(&t.rng, 3) == 0) {
			tctx_step(&t);
			tctx_check(&t);
			continue;
		}
		memset(t.in_flight, 0, sizeof(t.in_flight));
		for (unsigned int tries = 0; tries < 8 && n < 4; tries++) {
			unsigned int id = (unsigned int)ts_rng_below(&t.rng, NIDS);
			struct tm_slot *s = &after.s[id];
			struct tm saved = t.m;

			if (!s->present || t.in_flight[id])
				continue;
			r[n] = req(&after, id, s);
			if (ts_rng_below(&t.rng, 2)) {
				r[n].memory_size = 0;
				s->present = false;
			} else {
				struct tm_slot moved = *s;

				/* tm_pick looks at t.m: show it the batch's state. */
				t.m = after;
				if (!tm_pick(&t, &moved, id)) {
					t.m = saved;
					continue;
				}
				t.m = saved;
				moved.npages = s->npages;
				if (moved.gfn == s->gfn ||
				    !tm_free_range(&after, moved.gfn, moved.npages, id))
					continue;
				s->gfn = moved.gfn;
				r[n].guest_phys_addr = s->gfn << t.m.shift;
			}
			t.in_flight[id] = true;
			n++;
		}
		if (!n)
			continue;
		before = t.invalidates;
		ck_assert_int_eq(memslots_apply(t.ms, r, n, NULL), 0);
		ck_assert_uint_eq(t.invalidates - before, n);
		batched += n;
		memset(t.in_flight, 0, sizeof(t.in_flight));
		t.m = after;
		tctx_check(&t);
	}
	ck_assert_uint_gt(batched, rounds(100));
	tctx_fini(&t);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("translate");
	TCase *tc = tcase_create("translate");

	tcase_add_test(tc, random_layouts);
	tcase_add_test(tc, null_set);
	tcase_add_test(tc, copy_across_slots);
	suite_add_tcase(s, tc);
	tc = tcase_create("translate_invalid");
	tcase_add_test(tc, invalid_in_flight);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
