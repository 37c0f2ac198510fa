/* SPDX-License-Identifier: MIT */
/* Comparing a published set with the model: see model.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"
#include "model.h"

/* Same public fields (flags masked as given). */
bool ts_slot_same(const struct memslot *a, const struct memslot *b, uint32_t flag_mask)
{
	return a->base_gfn == b->base_gfn && a->npages == b->npages &&
	       a->userspace_addr == b->userspace_addr &&
	       (a->flags & flag_mask) == (b->flags & flag_mask) && a->id == b->id &&
	       a->priv == b->priv && a->guest_memfd_offset == b->guest_memfd_offset &&
	       a->guest_memfd == b->guest_memfd;
}

bool ts_model_slot_is(const struct memslot *s, unsigned int id, const struct ts_model_slot *ms,
		      uint32_t extra_flags)
{
	return ms->present && s->id == id && s->base_gfn == ms->base_gfn &&
	       s->npages == ms->npages && s->userspace_addr == ms->hva &&
	       s->flags == (ms->flags | extra_flags) && s->priv == ms->priv &&
	       s->guest_memfd_offset == ms->gmem_offset && s->guest_memfd == ms->gmem_fd;
}

bool ts_slot_is(const struct memslot *s, const struct ts_model *m, unsigned int id)
{
	return id < m->max_slots && ts_model_slot_is(s, id, &m->slot[id], 0);
}

/* Reads a set back into a model (m must have the engine's geometry). */
void ts_model_from_set(struct ts_model *m, const struct memslots_set *set)
{
	ts_model_clear(m);
	for (const struct memslot *s = memslots_first(set); s; s = memslots_next(set, s)) {
		struct ts_model_slot ms = {
			.present = true,
			.base_gfn = s->base_gfn,
			.npages = s->npages,
			.hva = s->userspace_addr,
			.flags = s->flags,
			.priv = s->priv,
			.gmem_offset = s->guest_memfd_offset,
			.gmem_fd = s->guest_memfd,
		};

		TS_CMP(s->id, <, m->max_slots);
		TS_CHECK(!m->slot[s->id].present, "id %u iterated twice", s->id);
		ts_model_set_slot(m, s->id, &ms);
		TS_CMP(m->count, <=, m->max_slots);
	}
	for (uint64_t gfn = 0; gfn < TS_MODEL_ATTR_GFNS; gfn++)
		m->attr[gfn] = memslots_gfn_attributes(set, gfn, NULL);
}

bool ts_model_equal(const struct ts_model *a, const struct ts_model *b)
{
	if (a->count != b->count || a->nr_pages != b->nr_pages)
		return false;
	if (memcmp(a->attr, b->attr, TS_MODEL_ATTR_GFNS * sizeof(*a->attr)))
		return false;
	/* same count: comparing a's present slots covers b's */
	for (size_t k = 0; k < a->count; k++) {
		unsigned int i = a->ids[k];
		const struct ts_model_slot *x = &a->slot[i], *y = &b->slot[i];

		if (!y->present)
			return false;
		if ((x->base_gfn != y->base_gfn || x->npages != y->npages || x->hva != y->hva ||
		     x->flags != y->flags || x->priv != y->priv))
			return false;
		if (x->gmem_offset != y->gmem_offset || x->gmem_fd != y->gmem_fd)
			return false;
	}
	return true;
}

/* The model's slot ids sorted by base_gfn; returns how many. */
static size_t ts_model_sorted(const struct ts_model *m, unsigned int *ids)
{
	size_t n = 0;

	for (size_t k = 0; k < m->count; k++) {
		unsigned int i = m->ids[k];
		size_t j;

		/* insertion sort: the model is meant to be obviously right */
		for (j = n; j > 0 && m->slot[ids[j - 1]].base_gfn > m->slot[i].base_gfn; j--)
			ids[j] = ids[j - 1];
		ids[j] = i;
		n++;
	}
	return n;
}

/* Index into ids (sorted) of the slot holding gfn, or -1. */
static long ts_model_find(const struct ts_model *m, const unsigned int *ids, size_t n, uint64_t gfn)
{
	size_t lo = 0, hi = n;

	/* binary search: linear scans of 1000-slot sets per probe add up */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ts_model_slot *s = &m->slot[ids[mid]];

		if (gfn < s->base_gfn)
			hi = mid;
		else if (gfn - s->base_gfn >= s->npages)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

static void ts_check_gfn(const struct ts_model *m, const struct memslots_set *set,
			 const unsigned int *ids, size_t n, struct memslots_cache *cache,
			 uint64_t gfn)
{
	long k = ts_model_find(m, ids, n, gfn);
	const struct memslot *s = memslots_find_gfn(set, gfn);
	const struct memslot *c = memslots_find_gfn_cached(set, cache, gfn);
	const struct memslot *a = memslots_find_gfn_approx(set, gfn);
	uint64_t hva = memslots_gfn_to_hva(set, gfn);

	TS_PTR_CMP(c, ==, s);
	if (k < 0) {
		size_t below = n, above = n; /* n: none */

		TS_CHECK(!s, "find_gfn(%#llx): expected NULL, got id %u", (unsigned long long)gfn,
			 s ? s->id : 0);
		TS_CMP(hva, ==, MEMSLOTS_HVA_BAD);
		for (size_t i = 0; i < n; i++) {
			if (m->slot[ids[i]].base_gfn < gfn)
				below = i;
			else if (above == n)
				above = i;
		}
		if (!n) {
			TS_PTR_CMP(a, ==, NULL);
		} else {
			TS_CHECK(a, "find_gfn_approx(%#llx): NULL in a non-empty set",
				 (unsigned long long)gfn);
			TS_CHECK((below < n && a->id == ids[below]) ||
					 (above < n && a->id == ids[above]),
				 "find_gfn_approx(%#llx): id %u borders no hole there",
				 (unsigned long long)gfn, a->id);
		}
	} else {
		unsigned int id = ids[k];
		const struct ts_model_slot *ms = &m->slot[id];

		TS_CHECK(s && ts_slot_is(s, m, id), "find_gfn(%#llx): expected id %u, got %d",
			 (unsigned long long)gfn, id, s ? s->id : -1);
		TS_PTR_CMP(a, ==, s);
		/* the model may hold an intermediate set: INVALID maps nothing */
		if (ms->flags & MEMSLOT_INVALID)
			TS_CMP(hva, ==, MEMSLOTS_HVA_BAD);
		else
			TS_CMP(hva, ==, ms->hva + ((gfn - ms->base_gfn) << m->page_shift));
	}
}

static void ts_check_gfn_range(const struct ts_model *m, const struct memslots_set *set,
			       const unsigned int *ids, size_t n, uint64_t start, uint64_t end)
{
	const struct memslot *s = memslots_gfn_range_first(set, start, end);

	for (size_t i = 0; i < n; i++) {
		const struct ts_model_slot *ms = &m->slot[ids[i]];

		if (end <= start || ms->base_gfn >= end || ms->base_gfn + ms->npages <= start)
			continue;
		TS_CHECK(s && s->id == ids[i], "gfn_range [%#llx, %#llx): expected id %u, got %d",
			 (unsigned long long)start, (unsigned long long)end, ids[i],
			 s ? s->id : -1);
		s = memslots_gfn_range_next(set, s, start, end);
	}
	TS_CHECK(!s, "gfn_range [%#llx, %#llx): extra id %u", (unsigned long long)start,
		 (unsigned long long)end, s ? s->id : 0);
}

void ts_model_check_hva_range(const struct ts_model *m, const struct memslots_set *set,
			      uint64_t start, uint64_t last)
{
	/* indexed by the slot's place in m->ids: costs the count, not max_slots */
	unsigned char *seen = calloc(m->count + 1, 1);
	size_t expected = 0, got = 0;

	TS_PTR_CMP(seen, !=, NULL);
	for (size_t k = 0; k < m->count; k++) {
		const struct ts_model_slot *ms = &m->slot[m->ids[k]];
		uint64_t slast = ms->hva + (ms->npages << m->page_shift) - 1;

		if (ms->present && last >= start && ms->hva <= last && slast >= start)
			expected++;
	}
	for (const struct memslot *s = memslots_hva_range_first(set, start, last); s;
	     s = memslots_hva_range_next(set, s, start, last)) {
		const struct ts_model_slot *ms;
		uint64_t slast;

		TS_CMP(s->id, <, m->max_slots);
		ms = &m->slot[s->id];
		slast = ms->hva + (ms->npages << m->page_shift) - 1;
		TS_CHECK(ts_slot_is(s, m, s->id), "hva_range: stale or unknown id %u", s->id);
		TS_CHECK(ms->hva <= last && slast >= start,
			 "hva_range [%#llx, %#llx]: id %u does not intersect",
			 (unsigned long long)start, (unsigned long long)last, s->id);
		TS_CHECK(!seen[ms->pos], "hva_range [%#llx, %#llx]: id %u twice",
			 (unsigned long long)start, (unsigned long long)last, s->id);
		seen[ms->pos] = 1;
		got++;
		TS_CMP(got, <=, expected);
	}
	TS_CHECK(got == expected, "hva_range [%#llx, %#llx]: %zu slots, expected %zu",
		 (unsigned long long)start, (unsigned long long)last, got, expected);
	free(seen);
}

/*
 * Checks every lookup of set against the model: count, nr_pages, the
 * full iteration, find_id of every id, and find_gfn / find_gfn_approx /
 * find_gfn_cached / gfn_to_hva at every slot boundary and at random
 * gfns, plus nr_queries random gfn and hva range queries.
 */
void ts_model_check_set(const struct ts_model *m, const struct memslots_set *set,
			struct ts_rng *rng, unsigned int nr_queries)
{
	unsigned int *ids = malloc((m->count + 1) * sizeof(*ids));
	struct memslots_cache cache = {0};
	const struct memslot *s;
	uint64_t gfn_top = 16, hva_top = 1ull << m->page_shift;
	unsigned int probe = m->id_probe_limit && m->id_probe_limit < m->max_slots
				     ? m->id_probe_limit
				     : m->max_slots;
	const char *why = NULL;
	size_t n, i;
	int err;

	TS_PTR_CMP(ids, !=, NULL);
	n = ts_model_sorted(m, ids);
	TS_CMP(memslots_count(set), ==, m->count);
	TS_CMP(memslots_nr_pages(set), ==, m->nr_pages);
	TS_CMP(memslots_generation(set), !=, 0);

	for (i = 0, s = memslots_first(set); i < n; i++, s = memslots_next(set, s)) {
		TS_CHECK(s, "iteration stops after %zu slots, expected %zu", i, n);
		TS_CHECK(ts_slot_is(s, m, ids[i]), "iteration: slot %zu is id %u, expected %u", i,
			 s->id, ids[i]);
	}
	TS_CHECK(!s, "iteration: extra slot id %u", s ? s->id : 0);

	for (unsigned int id = 0; id < probe; id++) {
		s = memslots_find_id(set, (uint16_t)id);
		if (m->slot[id].present)
			TS_CHECK(s && ts_slot_is(s, m, id), "find_id(%u) wrong", id);
		else
			TS_CHECK(!s, "find_id(%u): expected NULL", id);
	}
	for (size_t k = 0; k < m->count; k++) {
		s = memslots_find_id(set, (uint16_t)m->ids[k]);
		TS_CHECK(s && ts_slot_is(s, m, m->ids[k]), "find_id(%u) wrong", m->ids[k]);
	}
	for (unsigned int id = m->max_slots; id < m->max_slots + 2 && id <= 0xffff; id++)
		TS_PTR_CMP(memslots_find_id(set, (uint16_t)id), ==, NULL);
	err = memslots__check_set(set, &why);
	TS_CHECK(!err, "memslots__check_set: %d, %s", err, why);

	for (i = 0; i < n; i++) {
		const struct ts_model_slot *ms = &m->slot[ids[i]];
		uint64_t end = ms->base_gfn + ms->npages;

		if (ms->base_gfn)
			ts_check_gfn(m, set, ids, n, &cache, ms->base_gfn - 1);
		ts_check_gfn(m, set, ids, n, &cache, ms->base_gfn);
		ts_check_gfn(m, set, ids, n, &cache, end - 1);
		ts_check_gfn(m, set, ids, n, &cache, end);
		if (end > gfn_top)
			gfn_top = end;
		if (ms->hva + (ms->npages << m->page_shift) > hva_top)
			hva_top = ms->hva + (ms->npages << m->page_shift);
	}
	ts_check_gfn(m, set, ids, n, &cache, 0);
	ts_check_gfn(m, set, ids, n, &cache, UINT64_MAX);

	/* slots may end near 2^64: keep the random bounds from wrapping */
	gfn_top = gfn_top > UINT64_MAX - 2 ? UINT64_MAX : gfn_top + 2;
	hva_top = hva_top > UINT64_MAX - 2 ? UINT64_MAX : hva_top + 2;
	for (unsigned int q = 0; q < nr_queries; q++) {
		uint64_t a = ts_rng_below(rng, gfn_top), b = ts_rng_below(rng, gfn_top);
		uint64_t ha, hb;

		ts_check_gfn(m, set, ids, n, &cache, a);
		ts_check_gfn_range(m, set, ids, n, a, b);
		ts_check_gfn_range(m, set, ids, n, a, a + ts_rng_below(rng, 8));
		/* hva queries around slot edges, where off-by-ones live */
		if (n && ts_rng_below(rng, 2)) {
			const struct ts_model_slot *ms = &m->slot[ids[ts_rng_below(rng, n)]];
			uint64_t len = ms->npages << m->page_shift;
			uint64_t edge[4] = {ms->hva - 1, ms->hva, ms->hva + len - 1, ms->hva + len};

			ha = edge[ts_rng_below(rng, 4)];
			hb = edge[ts_rng_below(rng, 4)];
		} else {
			ha = ts_rng_below(rng, hva_top);
			hb = ts_rng_below(rng, hva_top);
		}
		ts_model_check_hva_range(m, set, ha, hb);
		ts_model_check_hva_range(m, set, ha, ha);
	}
	ts_check_gfn_range(m, set, ids, n, 0, UINT64_MAX);
	ts_model_check_hva_range(m, set, 0, UINT64_MAX);
	ts_model_check_attributes(m, set, rng);
	free(ids);
}

/* Reads ms's active set into a fresh copy of m's geometry and compares. */
void ts_model_check(const struct ts_model *m, struct memslots *ms, struct ts_rng *rng,
		    unsigned int nr_queries)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	struct ts_model got;

	ts_check_engine(ms);
	ts_model_init(&got, m->page_shift, m->max_slots, m->hva_limit);
	ts_model_from_set(&got, set);
	TS_CHECK(ts_model_equal(&got, m), "engine state differs from the model");
	ts_model_check_set(m, set, rng, nr_queries);
	ts_model_fini(&got);
	memslots_read_unlock(ms);
}

uint64_t ts_generation(struct memslots *ms)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	uint64_t gen = memslots_generation(set);

	memslots_read_unlock(ms);
	return gen;
}

/* The sorted ids of m, for the single-query checks. */
static unsigned int *ts_model_sorted_ids(const struct ts_model *m, size_t *n)
{
	unsigned int *ids = malloc((m->count + 1) * sizeof(*ids));

	TS_PTR_CMP(ids, !=, NULL);
	*n = ts_model_sorted(m, ids);
	return ids;
}

void ts_model_check_gfn(const struct ts_model *m, const struct memslots_set *set,
			struct memslots_cache *cache, uint64_t gfn)
{
	size_t n;
	unsigned int *ids = ts_model_sorted_ids(m, &n);

	ts_check_gfn(m, set, ids, n, cache, gfn);
	free(ids);
}

void ts_model_check_gfn_range(const struct ts_model *m, const struct memslots_set *set,
			      uint64_t start, uint64_t end)
{
	size_t n;
	unsigned int *ids = ts_model_sorted_ids(m, &n);

	ts_check_gfn_range(m, set, ids, n, start, end);
	free(ids);
}

void ts_check_engine(struct memslots *ms)
{
	const char *why = NULL;
	int err = memslots__check_sets(ms, &why);

	/* -EDEADLK: called from a hook or a read-side section, mid-call. */
	TS_CHECK(!err || err == -EDEADLK, "memslots__check_sets: %d, %s", err, why);
}

/* One gfn: memslots_gfn_attributes() with and without run_end, and the
 * fault-path lookup, which must agree with find_gfn on the same set. */
static void ts_check_attr_gfn_is(const struct memslots_set *set, struct memslots_cache *cache,
				 uint64_t gfn, uint64_t want, uint64_t want_end)
{
	uint64_t end = 0, fault_word = ~want, fault_end = 0;
	const struct memslot *slot;

	TS_CHECK(memslots_gfn_attributes(set, gfn, NULL) == want,
		 "gfn_attributes(%#llx): %#llx, expected %#llx", (unsigned long long)gfn,
		 (unsigned long long)memslots_gfn_attributes(set, gfn, NULL),
		 (unsigned long long)want);
	TS_CMP(memslots_gfn_attributes(set, gfn, &end), ==, want);
	TS_CHECK(end == want_end, "gfn_attributes(%#llx): run_end %#llx, expected %#llx",
		 (unsigned long long)gfn, (unsigned long long)end, (unsigned long long)want_end);
	slot = memslots_fault_lookup(set, cache, gfn, &fault_word, &fault_end);
	TS_PTR_CMP(slot, ==, memslots_find_gfn(set, gfn));
	TS_CMP(fault_word, ==, want);
	TS_CMP(fault_end, ==, want_end);
}

static void ts_check_attr_gfn(const struct ts_model *m, const struct memslots_set *set,
			      struct memslots_cache *cache, uint64_t gfn)
{
	uint64_t want_end, want = ts_model_attr_get(m, gfn, &want_end);

	ts_check_attr_gfn_is(set, cache, gfn, want, want_end);
}

/*
 * Walks the runs from gfn 0 along run_end: each run's word must differ
 * from the one before (runs are maximal), and the walk must see exactly
 * the model's runs.  A run_end of UINT64_MAX leaves the gfn UINT64_MAX
 * itself, which may be a run of its own, to one more probe.
 */
static size_t ts_walk_attr_runs(const struct ts_model *m, const struct memslots_set *set)
{
	uint64_t gfn = 0, end, word, prev = 0;
	size_t runs = 0, limit = ts_model_attr_runs(m) + 1;

	for (;;) {
		word = memslots_gfn_attributes(set, gfn, &end);
		TS_CHECK(!runs || word != prev, "runs at %#llx and before have the same word",
			 (unsigned long long)gfn);
		TS_CMP(word, ==, ts_model_attr_get(m, gfn, NULL));
		TS_CHECK(++runs <= limit, "the walk finds more runs than the model's %zu",
			 limit - 1);
		prev = word;
		if (end != UINT64_MAX) {
			TS_CMP(end, >, gfn);
			gfn = end;
			continue;
		}
		if (gfn == UINT64_MAX || memslots_gfn_attributes(set, UINT64_MAX, NULL) == word)
			break;
		gfn = UINT64_MAX;
	}
	return runs;
}

void ts_model_check_attributes(const struct ts_model *m, const struct memslots_set *set,
			       struct ts_rng *rng)
{
	struct memslots_cache cache = {0};

	uint64_t end;

	/* Every gfn of the array, the run ends found in one backward pass
	 * (ts_model_attr_get() at each would cost the square of the space). */
	ts_model_attr_get(m, TS_MODEL_ATTR_GFNS - 1, &end);
	for (uint64_t gfn = TS_MODEL_ATTR_GFNS; gfn-- > 0;) {
		if (gfn + 1 < TS_MODEL_ATTR_GFNS && m->attr[gfn] != m->attr[gfn + 1])
			end = gfn + 1;
		ts_check_attr_gfn_is(set, &cache, gfn, m->attr[gfn], end);
	}
	ts_check_attr_gfn(m, set, &cache, TS_MODEL_ATTR_GFNS);
	ts_check_attr_gfn(m, set, NULL, UINT64_MAX);
	ts_check_attr_gfn(m, set, NULL, UINT64_MAX - 1);
	ts_check_attr_gfn(m, set, NULL, TS_MODEL_ATTR_GFNS + ts_rng_below(rng, 1u << 20));
	TS_CMP(ts_walk_attr_runs(m, set), ==, ts_model_attr_runs(m));
}
