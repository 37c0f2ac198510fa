/* SPDX-License-Identifier: MIT */
/* Comparing a published set with the model: see model.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"
#include "model.h"

/* Same public fields (flags masked as given). */
bool mt_slot_same(const struct memslot *a, const struct memslot *b, uint32_t flag_mask)
{
	return a->base_gfn == b->base_gfn && a->npages == b->npages &&
	       a->userspace_addr == b->userspace_addr &&
	       (a->flags & flag_mask) == (b->flags & flag_mask) && a->id == b->id &&
	       a->priv == b->priv && a->guest_memfd_offset == b->guest_memfd_offset &&
	       a->guest_memfd == b->guest_memfd;
}

bool model_slot_is(const struct memslot *s, unsigned int id, const struct model_slot *ms,
		   uint32_t extra_flags)
{
	return ms->present && s->id == id && s->base_gfn == ms->base_gfn &&
	       s->npages == ms->npages && s->userspace_addr == ms->hva &&
	       s->flags == (ms->flags | extra_flags) && s->priv == ms->priv &&
	       s->guest_memfd_offset == ms->gmem_offset && s->guest_memfd == ms->gmem_fd;
}

bool mt_slot_is(const struct memslot *s, const struct model *m, unsigned int id)
{
	return id < m->max_slots && model_slot_is(s, id, &m->slot[id], 0);
}

/* Reads a set back into a model (m must have the engine's geometry). */
void model_from_set(struct model *m, const struct memslots_set *set)
{
	model_clear(m);
	for (const struct memslot *s = memslots_first(set); s; s = memslots_next(set, s)) {
		struct model_slot ms = {
			.present = true,
			.base_gfn = s->base_gfn,
			.npages = s->npages,
			.hva = s->userspace_addr,
			.flags = s->flags,
			.priv = s->priv,
			.gmem_offset = s->guest_memfd_offset,
			.gmem_fd = s->guest_memfd,
		};

		MT_CMP(s->id, <, m->max_slots);
		MT_CHECK(!m->slot[s->id].present, "id %u iterated twice", s->id);
		model_set_slot(m, s->id, &ms);
		MT_CMP(m->count, <=, m->max_slots);
	}
	for (uint64_t gfn = 0; gfn < MODEL_ATTR_GFNS; gfn++)
		m->attr[gfn] = memslots_gfn_attributes(set, gfn, NULL);
}

bool model_equal(const struct model *a, const struct model *b)
{
	if (a->count != b->count || a->nr_pages != b->nr_pages)
		return false;
	if (memcmp(a->attr, b->attr, MODEL_ATTR_GFNS * sizeof(*a->attr)))
		return false;
	/* same count: comparing a's present slots covers b's */
	for (size_t k = 0; k < a->count; k++) {
		unsigned int i = a->ids[k];
		const struct model_slot *x = &a->slot[i], *y = &b->slot[i];

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
static size_t model_sorted(const struct model *m, unsigned int *ids)
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
static long model_find(const struct model *m, const unsigned int *ids, size_t n, uint64_t gfn)
{
	size_t lo = 0, hi = n;

	/* binary search: linear scans of 1000-slot sets per probe add up */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct model_slot *s = &m->slot[ids[mid]];

		if (gfn < s->base_gfn)
			hi = mid;
		else if (gfn - s->base_gfn >= s->npages)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

static void mt_check_gfn(const struct model *m, const struct memslots_set *set,
			 const unsigned int *ids, size_t n, struct memslots_cache *cache,
			 uint64_t gfn)
{
	long k = model_find(m, ids, n, gfn);
	const struct memslot *s = memslots_find_gfn(set, gfn);
	const struct memslot *c = memslots_find_gfn_cached(set, cache, gfn);
	const struct memslot *a = memslots_find_gfn_approx(set, gfn);
	uint64_t hva = memslots_gfn_to_hva(set, gfn);

	MT_PTR_CMP(c, ==, s);
	if (k < 0) {
		size_t below = n, above = n; /* n: none */

		MT_CHECK(!s, "find_gfn(%#llx): expected NULL, got id %u", (unsigned long long)gfn,
			 s ? s->id : 0);
		MT_CMP(hva, ==, MEMSLOTS_HVA_BAD);
		for (size_t i = 0; i < n; i++) {
			if (m->slot[ids[i]].base_gfn < gfn)
				below = i;
			else if (above == n)
				above = i;
		}
		if (!n) {
			MT_PTR_CMP(a, ==, NULL);
		} else {
			MT_CHECK(a, "find_gfn_approx(%#llx): NULL in a non-empty set",
				 (unsigned long long)gfn);
			MT_CHECK((below < n && a->id == ids[below]) ||
					 (above < n && a->id == ids[above]),
				 "find_gfn_approx(%#llx): id %u borders no hole there",
				 (unsigned long long)gfn, a->id);
		}
	} else {
		unsigned int id = ids[k];
		const struct model_slot *ms = &m->slot[id];

		MT_CHECK(s && mt_slot_is(s, m, id), "find_gfn(%#llx): expected id %u, got %d",
			 (unsigned long long)gfn, id, s ? s->id : -1);
		MT_PTR_CMP(a, ==, s);
		/* the model may hold an intermediate set: INVALID maps nothing */
		if (ms->flags & MEMSLOT_INVALID)
			MT_CMP(hva, ==, MEMSLOTS_HVA_BAD);
		else
			MT_CMP(hva, ==, ms->hva + ((gfn - ms->base_gfn) << m->page_shift));
	}
}

static void mt_check_gfn_range(const struct model *m, const struct memslots_set *set,
			       const unsigned int *ids, size_t n, uint64_t start, uint64_t end)
{
	const struct memslot *s = memslots_gfn_range_first(set, start, end);

	for (size_t i = 0; i < n; i++) {
		const struct model_slot *ms = &m->slot[ids[i]];

		if (end <= start || ms->base_gfn >= end || ms->base_gfn + ms->npages <= start)
			continue;
		MT_CHECK(s && s->id == ids[i], "gfn_range [%#llx, %#llx): expected id %u, got %d",
			 (unsigned long long)start, (unsigned long long)end, ids[i],
			 s ? s->id : -1);
		s = memslots_gfn_range_next(set, s, start, end);
	}
	MT_CHECK(!s, "gfn_range [%#llx, %#llx): extra id %u", (unsigned long long)start,
		 (unsigned long long)end, s ? s->id : 0);
}

void model_check_hva_range(const struct model *m, const struct memslots_set *set, uint64_t start,
			   uint64_t last)
{
	/* indexed by the slot's place in m->ids: costs the count, not max_slots */
	unsigned char *seen = calloc(m->count + 1, 1);
	size_t expected = 0, got = 0;

	MT_PTR_CMP(seen, !=, NULL);
	for (size_t k = 0; k < m->count; k++) {
		const struct model_slot *ms = &m->slot[m->ids[k]];
		uint64_t slast = ms->hva + (ms->npages << m->page_shift) - 1;

		if (ms->present && last >= start && ms->hva <= last && slast >= start)
			expected++;
	}
	for (const struct memslot *s = memslots_hva_range_first(set, start, last); s;
	     s = memslots_hva_range_next(set, s, start, last)) {
		const struct model_slot *ms;
		uint64_t slast;

		MT_CMP(s->id, <, m->max_slots);
		ms = &m->slot[s->id];
		slast = ms->hva + (ms->npages << m->page_shift) - 1;
		MT_CHECK(mt_slot_is(s, m, s->id), "hva_range: stale or unknown id %u", s->id);
		MT_CHECK(ms->hva <= last && slast >= start,
			 "hva_range [%#llx, %#llx]: id %u does not intersect",
			 (unsigned long long)start, (unsigned long long)last, s->id);
		MT_CHECK(!seen[ms->pos], "hva_range [%#llx, %#llx]: id %u twice",
			 (unsigned long long)start, (unsigned long long)last, s->id);
		seen[ms->pos] = 1;
		got++;
		MT_CMP(got, <=, expected);
	}
	MT_CHECK(got == expected, "hva_range [%#llx, %#llx]: %zu slots, expected %zu",
		 (unsigned long long)start, (unsigned long long)last, got, expected);
	free(seen);
}

/*
 * Checks every lookup of set against the model: count, nr_pages, the
 * full iteration, find_id of every id, and find_gfn / find_gfn_approx /
 * find_gfn_cached / gfn_to_hva at every slot boundary and at random
 * gfns, plus nr_queries random gfn and hva range queries.
 */
void model_check_set(const struct model *m, const struct memslots_set *set, struct tu_rng *rng,
		     unsigned int nr_queries)
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

	MT_PTR_CMP(ids, !=, NULL);
	n = model_sorted(m, ids);
	MT_CMP(memslots_count(set), ==, m->count);
	MT_CMP(memslots_nr_pages(set), ==, m->nr_pages);
	MT_CMP(memslots_generation(set), !=, 0);

	for (i = 0, s = memslots_first(set); i < n; i++, s = memslots_next(set, s)) {
		MT_CHECK(s, "iteration stops after %zu slots, expected %zu", i, n);
		MT_CHECK(mt_slot_is(s, m, ids[i]), "iteration: slot %zu is id %u, expected %u", i,
			 s->id, ids[i]);
	}
	MT_CHECK(!s, "iteration: extra slot id %u", s ? s->id : 0);

	for (unsigned int id = 0; id < probe; id++) {
		s = memslots_find_id(set, (uint16_t)id);
		if (m->slot[id].present)
			MT_CHECK(s && mt_slot_is(s, m, id), "find_id(%u) wrong", id);
		else
			MT_CHECK(!s, "find_id(%u): expected NULL", id);
	}
	for (size_t k = 0; k < m->count; k++) {
		s = memslots_find_id(set, (uint16_t)m->ids[k]);
		MT_CHECK(s && mt_slot_is(s, m, m->ids[k]), "find_id(%u) wrong", m->ids[k]);
	}
	for (unsigned int id = m->max_slots; id < m->max_slots + 2 && id <= 0xffff; id++)
		MT_PTR_CMP(memslots_find_id(set, (uint16_t)id), ==, NULL);
	err = memslots__check_set(set, &why);
	MT_CHECK(!err, "memslots__check_set: %d, %s", err, why);

	for (i = 0; i < n; i++) {
		const struct model_slot *ms = &m->slot[ids[i]];
		uint64_t end = ms->base_gfn + ms->npages;

		if (ms->base_gfn)
			mt_check_gfn(m, set, ids, n, &cache, ms->base_gfn - 1);
		mt_check_gfn(m, set, ids, n, &cache, ms->base_gfn);
		mt_check_gfn(m, set, ids, n, &cache, end - 1);
		mt_check_gfn(m, set, ids, n, &cache, end);
		if (end > gfn_top)
			gfn_top = end;
		if (ms->hva + (ms->npages << m->page_shift) > hva_top)
			hva_top = ms->hva + (ms->npages << m->page_shift);
	}
	mt_check_gfn(m, set, ids, n, &cache, 0);
	mt_check_gfn(m, set, ids, n, &cache, UINT64_MAX);

	/* slots may end near 2^64: keep the random bounds from wrapping */
	gfn_top = gfn_top > UINT64_MAX - 2 ? UINT64_MAX : gfn_top + 2;
	hva_top = hva_top > UINT64_MAX - 2 ? UINT64_MAX : hva_top + 2;
	for (unsigned int q = 0; q < nr_queries; q++) {
		uint64_t a = tu_rng_below(rng, gfn_top), b = tu_rng_below(rng, gfn_top);
		uint64_t ha, hb;

		mt_check_gfn(m, set, ids, n, &cache, a);
		mt_check_gfn_range(m, set, ids, n, a, b);
		mt_check_gfn_range(m, set, ids, n, a, a + tu_rng_below(rng, 8));
		/* hva queries around slot edges, where off-by-ones live */
		if (n && tu_rng_below(rng, 2)) {
			const struct model_slot *ms = &m->slot[ids[tu_rng_below(rng, n)]];
			uint64_t len = ms->npages << m->page_shift;
			uint64_t edge[4] = {ms->hva - 1, ms->hva, ms->hva + len - 1, ms->hva + len};

			ha = edge[tu_rng_below(rng, 4)];
			hb = edge[tu_rng_below(rng, 4)];
		} else {
			ha = tu_rng_below(rng, hva_top);
			hb = tu_rng_below(rng, hva_top);
		}
		model_check_hva_range(m, set, ha, hb);
		model_check_hva_range(m, set, ha, ha);
	}
	mt_check_gfn_range(m, set, ids, n, 0, UINT64_MAX);
	model_check_hva_range(m, set, 0, UINT64_MAX);
	model_check_attributes(m, set, rng);
	free(ids);
}

/* Reads ms's active set into a fresh copy of m's geometry and compares. */
void model_check(const struct model *m, struct memslots *ms, struct tu_rng *rng,
		 unsigned int nr_queries)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	struct model got;

	mt_check_engine(ms);
	model_init(&got, m->page_shift, m->max_slots, m->hva_limit);
	model_from_set(&got, set);
	MT_CHECK(model_equal(&got, m), "engine state differs from the model");
	model_check_set(m, set, rng, nr_queries);
	model_fini(&got);
	memslots_read_unlock(ms);
}

uint64_t mt_generation(struct memslots *ms)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	uint64_t gen = memslots_generation(set);

	memslots_read_unlock(ms);
	return gen;
}

/* The sorted ids of m, for the single-query checks. */
static unsigned int *model_sorted_ids(const struct model *m, size_t *n)
{
	unsigned int *ids = malloc((m->count + 1) * sizeof(*ids));

	MT_PTR_CMP(ids, !=, NULL);
	*n = model_sorted(m, ids);
	return ids;
}

void model_check_gfn(const struct model *m, const struct memslots_set *set,
		     struct memslots_cache *cache, uint64_t gfn)
{
	size_t n;
	unsigned int *ids = model_sorted_ids(m, &n);

	mt_check_gfn(m, set, ids, n, cache, gfn);
	free(ids);
}

void model_check_gfn_range(const struct model *m, const struct memslots_set *set, uint64_t start,
			   uint64_t end)
{
	size_t n;
	unsigned int *ids = model_sorted_ids(m, &n);

	mt_check_gfn_range(m, set, ids, n, start, end);
	free(ids);
}

void mt_check_engine(struct memslots *ms)
{
	const char *why = NULL;
	int err = memslots__check_sets(ms, &why);

	/* -EDEADLK: called from a hook or a read-side section, mid-call. */
	MT_CHECK(!err || err == -EDEADLK, "memslots__check_sets: %d, %s", err, why);
}

/* One gfn: memslots_gfn_attributes() with and without run_end, and the
 * fault-path lookup, which must agree with find_gfn on the same set. */
static void mt_check_attr_gfn_is(const struct memslots_set *set, struct memslots_cache *cache,
				 uint64_t gfn, uint64_t want, uint64_t want_end)
{
	uint64_t end = 0, fault_word = ~want, fault_end = 0;
	const struct memslot *slot;

	MT_CHECK(memslots_gfn_attributes(set, gfn, NULL) == want,
		 "gfn_attributes(%#llx): %#llx, expected %#llx", (unsigned long long)gfn,
		 (unsigned long long)memslots_gfn_attributes(set, gfn, NULL),
		 (unsigned long long)want);
	MT_CMP(memslots_gfn_attributes(set, gfn, &end), ==, want);
	MT_CHECK(end == want_end, "gfn_attributes(%#llx): run_end %#llx, expected %#llx",
		 (unsigned long long)gfn, (unsigned long long)end, (unsigned long long)want_end);
	slot = memslots_fault_lookup(set, cache, gfn, &fault_word, &fault_end);
	MT_PTR_CMP(slot, ==, memslots_find_gfn(set, gfn));
	MT_CMP(fault_word, ==, want);
	MT_CMP(fault_end, ==, want_end);
}

static void mt_check_attr_gfn(const struct model *m, const struct memslots_set *set,
			      struct memslots_cache *cache, uint64_t gfn)
{
	uint64_t want_end, want = model_attr_get(m, gfn, &want_end);

	mt_check_attr_gfn_is(set, cache, gfn, want, want_end);
}

/*
 * Walks the runs from gfn 0 along run_end: each run's word must differ
 * from the one before (runs are maximal), and the walk must see exactly
 * the model's runs.  A run_end of UINT64_MAX leaves the gfn UINT64_MAX
 * itself, which may be a run of its own, to one more probe.
 */
static size_t mt_walk_attr_runs(const struct model *m, const struct memslots_set *set)
{
	uint64_t gfn = 0, end, word, prev = 0;
	size_t runs = 0, limit = model_attr_runs(m) + 1;

	for (;;) {
		word = memslots_gfn_attributes(set, gfn, &end);
		MT_CHECK(!runs || word != prev, "runs at %#llx and before have the same word",
			 (unsigned long long)gfn);
		MT_CMP(word, ==, model_attr_get(m, gfn, NULL));
		MT_CHECK(++runs <= limit, "the walk finds more runs than the model's %zu",
			 limit - 1);
		prev = word;
		if (end != UINT64_MAX) {
			MT_CMP(end, >, gfn);
			gfn = end;
			continue;
		}
		if (gfn == UINT64_MAX || memslots_gfn_attributes(set, UINT64_MAX, NULL) == word)
			break;
		gfn = UINT64_MAX;
	}
	return runs;
}

void model_check_attributes(const struct model *m, const struct memslots_set *set,
			    struct tu_rng *rng)
{
	struct memslots_cache cache = {0};

	uint64_t end;

	/* Every gfn of the array, the run ends found in one backward pass
	 * (model_attr_get() at each would cost the square of the space). */
	model_attr_get(m, MODEL_ATTR_GFNS - 1, &end);
	for (uint64_t gfn = MODEL_ATTR_GFNS; gfn-- > 0;) {
		if (gfn + 1 < MODEL_ATTR_GFNS && m->attr[gfn] != m->attr[gfn + 1])
			end = gfn + 1;
		mt_check_attr_gfn_is(set, &cache, gfn, m->attr[gfn], end);
	}
	mt_check_attr_gfn(m, set, &cache, MODEL_ATTR_GFNS);
	mt_check_attr_gfn(m, set, NULL, UINT64_MAX);
	mt_check_attr_gfn(m, set, NULL, UINT64_MAX - 1);
	mt_check_attr_gfn(m, set, NULL, MODEL_ATTR_GFNS + tu_rng_below(rng, 1u << 20));
	MT_CMP(mt_walk_attr_runs(m, set), ==, model_attr_runs(m));
}
