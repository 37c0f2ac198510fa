/* SPDX-License-Identifier: MIT */
/* The dirty logging model (dirty_model.h). */
#include "dirty_model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ts_dirty_model_init(struct ts_dirty_model *d, unsigned int max_slots, uint32_t dirty_log)
{
	d->dirty_log = dirty_log;
	d->max_slots = max_slots;
	d->bits = calloc(max_slots, sizeof(*d->bits));
	d->npages = calloc(max_slots, sizeof(*d->npages));
	TS_CHECK(d->bits && d->npages, "ts_dirty_model_init: out of memory");
}

static void ts_dirty_model_drop(struct ts_dirty_model *d, unsigned int id)
{
	free(d->bits[id]);
	d->bits[id] = NULL;
	d->npages[id] = 0;
}

void ts_dirty_model_clear(struct ts_dirty_model *d, const struct ts_model *m)
{
	for (size_t i = 0; i < m->count; i++)
		ts_dirty_model_drop(d, m->ids[i]);
}

void ts_dirty_model_fini(struct ts_dirty_model *d)
{
	for (unsigned int id = 0; id < d->max_slots; id++)
		ts_dirty_model_drop(d, id);
	free(d->bits);
	free(d->npages);
}

static bool ts_dirty_model_logs(const struct ts_dirty_model *d, const struct ts_model_slot *s)
{
	return d->dirty_log && s && s->present && (s->flags & MEMSLOT_LOG_DIRTY_PAGES);
}

void ts_dirty_model_change(struct ts_dirty_model *d, unsigned int id,
			   const struct ts_model_slot *old, const struct ts_model_slot *new)
{
	/* The contract's words: no bitmap without LOG_DIRTY_PAGES (or after
	 * a DELETE); the old one, bits and all, if the old slot had one; else
	 * a new one, all clear, or all set with INITIALLY_SET. */
	if (!ts_dirty_model_logs(d, new)) {
		ts_dirty_model_drop(d, id);
		return;
	}
	if (ts_dirty_model_logs(d, old)) {
		TS_CHECK(d->bits[id] && d->npages[id] == new->npages, "model: bitmap of %u lost",
			 id);
		return;
	}
	ts_dirty_model_drop(d, id);
	d->bits[id] = malloc(new->npages ? new->npages : 1);
	TS_CHECK(d->bits[id], "dirty model: out of memory");
	memset(d->bits[id], (d->dirty_log & MEMSLOTS_DIRTY_INITIALLY_SET) ? 1 : 0, new->npages);
	d->npages[id] = new->npages;
}

void ts_dirty_model_follow(struct ts_dirty_model *d, const struct ts_model *before,
			const struct ts_model *after)
{
	for (size_t i = 0; i < after->count; i++) {
		unsigned int id = after->ids[i];
		const struct ts_model_slot *o = &before->slot[id], *n = &after->slot[id];

		if (!o->present || o->base_gfn != n->base_gfn || o->flags != n->flags)
			ts_dirty_model_change(d, id, o->present ? o : NULL, n);
	}
	for (size_t i = 0; i < before->count; i++) {
		unsigned int id = before->ids[i];

		if (!after->slot[id].present)
			ts_dirty_model_change(d, id, &before->slot[id], NULL);
	}
}

uint64_t ts_dirty_model_mark(struct ts_dirty_model *d, const struct ts_model *m, uint64_t gfn,
			  uint64_t npages)
{
	uint64_t end = gfn + npages < gfn ? UINT64_MAX : gfn + npages, marked = 0;

	for (size_t i = 0; i < m->count; i++) {
		unsigned int id = m->ids[i];
		const struct ts_model_slot *s = &m->slot[id];

		if (!d->bits[id])
			continue;
		for (uint64_t g = s->base_gfn; g < s->base_gfn + s->npages; g++) {
			if (g >= gfn && g < end) {
				d->bits[id][g - s->base_gfn] = 1;
				marked++;
			}
		}
	}
	return marked;
}

/* The checks of merge and collect, in the contract's order. */
static int ts_dirty_model_range(const struct ts_dirty_model *d, const struct ts_model *m,
				uint16_t id, const uint64_t *bitmap, uint64_t first,
				uint64_t npages)
{
	if (id >= m->max_slots || !m->slot[id].present)
		return -ENOENT;
	if (!d->bits[id] || first % 64)
		return -EINVAL;
	if (first + npages < first || first + npages > m->slot[id].npages)
		return -EINVAL;
	if (!bitmap && npages)
		return -EINVAL;
	return 0;
}

static bool dirty_bit(const uint64_t *bitmap, uint64_t i)
{
	return (bitmap[i / 64] >> (i % 64)) & 1;
}

int ts_dirty_model_merge(struct ts_dirty_model *d, const struct ts_model *m, uint16_t id,
		      const uint64_t *bitmap, uint64_t first, uint64_t npages)
{
	int err = ts_dirty_model_range(d, m, id, bitmap, first, npages);

	if (err)
		return err;
	for (uint64_t i = 0; i < npages; i++)
		if (dirty_bit(bitmap, i))
			d->bits[id][first + i] = 1;
	return 0;
}

int64_t ts_dirty_model_collect(struct ts_dirty_model *d, const struct ts_model *m, uint16_t id,
			    uint64_t *bitmap, uint64_t first, uint64_t npages)
{
	int err = ts_dirty_model_range(d, m, id, bitmap, first, npages);
	int64_t n = 0;

	if (err)
		return err;
	for (uint64_t i = 0; i < npages; i++) {
		if (d->bits[id][first + i]) {
			bitmap[i / 64] |= 1ull << (i % 64);
			d->bits[id][first + i] = 0;
			n++;
		}
	}
	return n;
}

/* One slot's bits against the model, put back as they were. */
static void ts_dirty_model_check_slot(const struct ts_dirty_model *d,
				      const struct memslots_set *set, uint16_t id, uint64_t npages)
{
	uint64_t words = (npages + 63) / 64;
	uint64_t *got = calloc(words + 1, sizeof(*got));
	int64_t n, expect = 0;

	TS_CHECK(got, "ts_dirty_model_check: out of memory");
	got[words] = 0xa5a5a5a5a5a5a5a5ull; /* past the range: must stay */
	n = memslots_dirty_collect(set, id, got, 0, npages);
	for (uint64_t i = 0; i < npages; i++) {
		TS_CHECK(dirty_bit(got, i) == d->bits[id][i], "slot %u page %llu: bit %d, model %d",
			 id, (unsigned long long)i, dirty_bit(got, i), d->bits[id][i]);
		expect += d->bits[id][i];
	}
	TS_CMP(n, ==, expect);
	if (npages % 64)
		TS_CMP(got[words - 1] >> (npages % 64), ==, 0);
	TS_CMP(got[words], ==, 0xa5a5a5a5a5a5a5a5ull);
	TS_CMP(memslots_dirty_merge(set, id, got, 0, npages), ==, 0);
	free(got);
}

void ts_dirty_model_check(const struct ts_dirty_model *d, const struct ts_model *m,
			  struct memslots *ms)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	uint64_t word = 0;

	for (size_t i = 0; i < m->count; i++) {
		unsigned int id = m->ids[i];

		if (d->bits[id]) {
			TS_CMP(d->npages[id], ==, m->slot[id].npages);
			ts_dirty_model_check_slot(d, set, (uint16_t)id, m->slot[id].npages);
		} else {
			TS_CMP(memslots_dirty_collect(set, (uint16_t)id, &word, 0, 0), ==, -EINVAL);
			TS_CMP(memslots_dirty_merge(set, (uint16_t)id, &word, 0, 0), ==, -EINVAL);
		}
	}
	/* A few ids with no slot. */
	for (unsigned int id = 0; id < m->max_slots && id < 64; id++)
		if (!m->slot[id].present)
			TS_CMP(memslots_dirty_collect(set, (uint16_t)id, &word, 0, 1), ==, -ENOENT);
	memslots_read_unlock(ms);
}
