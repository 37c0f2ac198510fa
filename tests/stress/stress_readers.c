// SPDX-License-Identifier: MIT
/*
 * memslots_stress's readers (stress.h): every lookup of the API and full
 * iterations, each answer checked against the question asked.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "stress.h"
#include "ts_rng.h"

static unsigned long st_check_iteration(const struct memslots_set *set)
{
	const struct memslot *s, *prev = NULL;
	uint32_t group_dirty[ST_MAX_WRITERS] = {0}, group_seen[ST_MAX_WRITERS] = {0};
	uint64_t pages = 0;
	size_t n = 0;
	unsigned int w;

	for (s = memslots_first(set); s; s = memslots_next(set, s)) {
		if (!st_slot_whole(s)) {
			st_slot_violation("torn or freed slot in iteration", s);
			return n;
		}
		if (prev && prev->base_gfn + prev->npages > s->base_gfn)
			st_slot_violation("iteration not ascending or overlapping", s);
		if (memslots_find_id(set, s->id) != s)
			st_slot_violation("find_id disagrees with iteration", s);
		if (s->id % ST_IDS_PER_W < ST_GROUP) {
			w = s->id / ST_IDS_PER_W;
			group_seen[w]++;
			group_dirty[w] += !!(s->flags & MEMSLOT_LOG_DIRTY_PAGES);
		}
		pages += s->npages;
		n++;
		prev = s;
	}
	if (n != memslots_count(set) || pages != memslots_nr_pages(set))
		st_violation("count %zu or nr_pages %llu disagree with iteration (%zu, %llu)",
			     memslots_count(set), (unsigned long long)memslots_nr_pages(set), n,
			     (unsigned long long)pages);
	for (w = 0; w < st_writers; w++)
		if (group_dirty[w] && group_dirty[w] != group_seen[w])
			st_violation("writer %u's group seen half toggled: a batch was torn", w);
	return n + 1;
}

static void st_check_gfn(const struct memslots_set *set, struct memslots_cache *cache, uint64_t gfn)
{
	const struct memslot *s = memslots_find_gfn(set, gfn);
	const struct memslot *c = memslots_find_gfn_cached(set, cache, gfn);
	const struct memslot *a = memslots_find_gfn_approx(set, gfn);
	uint64_t hva = memslots_gfn_to_hva(set, gfn);

	if (s != c)
		st_slot_violation("find_gfn and find_gfn_cached disagree", s);
	if (s && (!st_slot_whole(s) || gfn < s->base_gfn || gfn >= s->base_gfn + s->npages))
		st_slot_violation("find_gfn returned a wrong or torn slot", s);
	if (s && a != s)
		st_slot_violation("find_gfn_approx misses a hit", a);
	if (!s && memslots_count(set) && (!a || !st_slot_whole(a)))
		st_slot_violation("find_gfn_approx: nothing or torn on a non-empty set", a);
	if (s && !(s->flags & MEMSLOT_INVALID) &&
	    hva != s->userspace_addr + (gfn - s->base_gfn) * ST_PAGE)
		st_slot_violation("gfn_to_hva wrong", s);
	if ((!s || (s->flags & MEMSLOT_INVALID)) && hva != MEMSLOTS_HVA_BAD)
		st_slot_violation("gfn_to_hva should be bad", s);
}

static void st_check_ranges(const struct memslots_set *set, unsigned int id, uint64_t gfn)
{
	const struct memslot *s = memslots_find_id(set, (uint16_t)id), *h;
	unsigned int hits = 0;

	if (s && (!st_slot_whole(s) || s->id != id))
		st_slot_violation("find_id returned a wrong or torn slot", s);
	/* Host ranges of different ids never overlap here: exactly one hit. */
	for (h = memslots_hva_range_first(set, st_hva(id), st_hva(id) + ST_PAGE - 1); h;
	     h = memslots_hva_range_next(set, h, st_hva(id), st_hva(id) + ST_PAGE - 1)) {
		if (h != s)
			st_slot_violation("hva range returned another slot", h);
		if (++hits > 1)
			break;
	}
	if (hits != (s != NULL))
		st_slot_violation("hva range hit count wrong", s);
	for (h = memslots_gfn_range_first(set, gfn, gfn + 16); h;
	     h = memslots_gfn_range_next(set, h, gfn, gfn + 16))
		if (!st_slot_whole(h) || h->base_gfn >= gfn + 16 || h->base_gfn + h->npages <= gfn)
			st_slot_violation("gfn range returned a slot outside the range", h);
}

void *st_reader(void *arg)
{
	uint64_t last_gen = 0;
	struct ts_rng rng = {(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1};
	struct memslots_cache cache = {0};
	unsigned long ops = 0, sections = 0;

	memslots_reader_register(st_ms);
	while (!atomic_load_explicit(&st_stop, memory_order_relaxed)) {
		const struct memslots_set *set = memslots_read_lock(st_ms);
		uint64_t gen = memslots_generation(set);
		int i;

		if (gen < last_gen)
			st_violation("generation went backwards: %llu after %llu",
				     (unsigned long long)gen, (unsigned long long)last_gen);
		last_gen = gen;
		for (i = 0; i < 32; i++) {
			uint64_t gfn = ts_rng_below(&rng, st_gfn_span);

			st_check_gfn(set, &cache, gfn);
			st_check_ranges(set, (unsigned int)ts_rng_below(&rng, st_nr_ids), gfn);
		}
		/* 32 x (4 gfn lookups, find_id, hva and gfn ranges), plus the walk */
		ops += 32 * 7 + st_check_iteration(set);
		if (memslots_generation(set) != gen)
			st_violation("a set changed under a reader");
		memslots_read_unlock(st_ms);
		sections++;
	}
	memslots_reader_unregister(st_ms);
	atomic_fetch_add(&st_reader_ops, ops);
	atomic_fetch_add(&st_reader_sections, sections);
	return NULL;
}

