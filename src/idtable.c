/* SPDX-License-Identifier: MIT */
#include "idtable.h"

#include <errno.h>
#include <string.h>

/* The table of every empty id index: one empty bucket, never written. */
static struct ms_slot *const ms_idtab_empty[1];

static struct ms_slot **ms_idtab_none(void)
{
	return (struct ms_slot **)ms_idtab_empty;
}

static void ms_idtab_free_table(const struct ms_alloc *a, struct ms_slot **tab)
{
	if (tab && tab != ms_idtab_none())
		ms_free(a, tab);
}

void ms_idtab_init(struct ms_idtab *t, const struct ms_alloc *alloc)
{
	memset(t, 0, sizeof(*t));
	t->table = ms_idtab_none();
	t->alloc = alloc;
}

void ms_idtab_destroy(struct ms_idtab *t)
{
	ms_idtab_settle(t, 0);
	ms_idtab_free_table(t->alloc, t->table);
	ms_idtab_init(t, t->alloc);
}

/* Buckets a slot can go in: none in the static empty table. */
static uint32_t ms_idtab_size(const struct ms_idtab *t)
{
	return t->table == ms_idtab_none() ? 0 : t->mask + 1;
}

static uint32_t ms_pow2_at_least(uint64_t x)
{
	uint32_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

/*
 * Whether a table of @size buckets may hold @count slots whose ids are at
 * most @max_id: at a load of at most 3/4, or with every id in a bucket of
 * its own (all below the size).
 */
static int ms_idtab_fits(uint32_t size, size_t count, uint32_t max_id)
{
	return count <= size && (count * 4 <= (size_t)size * 3 || max_id < size);
}

/*
 * The smallest size that fits (there is one: every u16 id is below 65536),
 * and at least MS_IDTAB_MIN_SIZE: a VMM's first few creates then allocate
 * their slot objects and nothing else.
 */
static uint32_t ms_idtab_size_for(size_t count, uint32_t max_id)
{
	uint32_t by_load = ms_pow2_at_least((count * 4 + 2) / 3);
	uint32_t direct = ms_pow2_at_least((uint64_t)max_id + 1);
	/* direct holds @count distinct ids; more are inserts reserved twice */
	uint32_t size = by_load < direct || direct < count ? by_load : direct;

	return size > MS_IDTAB_MIN_SIZE ? size : MS_IDTAB_MIN_SIZE;
}

static uint32_t ms_max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

int ms_idtab_reserve(struct ms_idtab *t, uint16_t id)
{
	size_t count = t->count + t->reserved + 1;
	uint32_t max_id = ms_max_u32(ms_max_u32(t->max_id, t->reserved_max_id), id);
	uint32_t size;
	struct ms_slot **tab;

	if (!ms_idtab_fits(ms_idtab_size(t), count, max_id) &&
	    !(t->spare && ms_idtab_fits(t->spare_mask + 1, count, max_id))) {
		size = ms_idtab_size_for(count, max_id);
		tab = ms_malloc(t->alloc, sizeof(*tab) * size);
		if (!tab)
			return -ENOMEM;
		memset(tab, 0, sizeof(*tab) * size);
		ms_idtab_free_table(t->alloc, t->spare);
		t->spare = tab;
		t->spare_mask = size - 1;
	}
	t->reserved++;
	t->reserved_max_id = ms_max_u32(t->reserved_max_id, id);
	return 0;
}

/* The bucket holding @id, or the empty one its probe ends at. */
static uint32_t ms_idtab_bucket(struct ms_slot *const *tab, uint32_t mask, uint16_t id)
{
	uint32_t i = ms_idtab_home(id, mask);

	while (tab[i] && tab[i]->pub.id != id)
		i = (i + 1) & mask;
	return i;
}

/* How many buckets past its id's home bucket @i is. */
static uint32_t ms_idtab_disp(uint32_t i, uint16_t id, uint32_t mask)
{
	return (i - ms_idtab_home(id, mask)) & mask;
}

/* Puts @slot in its bucket; returns how far past its home that is. */
static uint32_t ms_idtab_put(struct ms_slot **tab, uint32_t mask, struct ms_slot *slot)
{
	uint32_t i = ms_idtab_bucket(tab, mask, slot->pub.id);

	tab[i] = slot;
	return ms_idtab_disp(i, slot->pub.id, mask);
}

/* Every slot of the table into @to (empty, @to_mask + 1 buckets); returns
 * the largest displacement there, @to's max_disp. */
static uint32_t ms_idtab_move_all(struct ms_idtab *t, struct ms_slot **to, uint32_t to_mask)
{
	uint32_t disp = 0;

	for (uint32_t i = 0; i < ms_idtab_size(t); i++)
		if (t->table[i])
			disp = ms_max_u32(disp, ms_idtab_put(to, to_mask, t->table[i]));
	return disp;
}

/* The exact bound, after a failed call that grew the table (its inserts
 * may have raised it above what the old table's size allows). */
static void ms_idtab_recount_max_id(struct ms_idtab *t)
{
	t->max_id = 0;
	for (uint32_t i = 0; i < ms_idtab_size(t); i++)
		if (t->table[i])
			t->max_id = ms_max_u32(t->max_id, t->table[i]->pub.id);
}

void ms_idtab_settle(struct ms_idtab *t, int failed)
{
	if (failed && t->old) {
		/* The call grew the table and undid its inserts: back to the old one
		 * (which held these slots before, so it holds them now). */
		uint32_t disp = 0;

		if (t->old != ms_idtab_none()) {
			memset(t->old, 0, sizeof(*t->old) * ((size_t)t->old_mask + 1));
			disp = ms_idtab_move_all(t, t->old, t->old_mask);
		}
		ms_idtab_free_table(t->alloc, t->table);
		t->table = t->old;
		t->mask = t->old_mask;
		t->max_disp = disp;
		t->old = NULL;
		/* An inactive table: its bound may come down.  (A failed call's
		 * other set is published: nothing of its table may change.) */
		ms_idtab_recount_max_id(t);
	}
	ms_idtab_free_table(t->alloc, t->old);
	ms_idtab_free_table(t->alloc, t->spare);
	t->old = NULL;
	t->spare = NULL;
	t->spare_mask = 0;
	t->reserved = 0;
	t->reserved_max_id = 0;
}

/* Moves up low_full past the ids that have a slot, @id having just got
 * one: over the run known to be full at once, then one by one. */
static void ms_idtab_advance_low_full(struct ms_idtab *t)
{
	t->low_full = t->full_to > t->low_full + 1 ? t->full_to : t->low_full + 1;
	while (t->low_full <= t->max_id && ms_idtab_find(t, (uint16_t)t->low_full))
		t->low_full++;
	t->full_to = t->low_full;
}

void ms_idtab_insert(struct ms_idtab *t, uint16_t id, struct ms_slot *slot)
{
	uint32_t max_id = ms_max_u32(t->max_id, id);

	if (!ms_idtab_fits(ms_idtab_size(t), t->count + 1, max_id)) {
		/* Reserved: the spare fits every insert reserved so far.  @old
		 * keeps the table the call found; one the call grew into before
		 * (its reserves and inserts alternate) has no reader: freed. */
		t->max_disp = ms_idtab_move_all(t, t->spare, t->spare_mask);
		if (t->old) {
			ms_idtab_free_table(t->alloc, t->table);
		} else {
			t->old = t->table;
			t->old_mask = t->mask;
		}
		t->table = t->spare;
		t->mask = t->spare_mask;
		t->spare = NULL;
		t->spare_mask = 0;
	}
	t->max_disp = ms_max_u32(t->max_disp, ms_idtab_put(t->table, t->mask, slot));
	t->max_id = max_id;
	t->count++;
	/* It used one of the reserved inserts (an undo's re-insert none). */
	if (t->reserved)
		t->reserved--;
	if (id == t->low_full)
		ms_idtab_advance_low_full(t);
}

/* Whether bucket @h lies cyclically in (@i, @j]. */
static int ms_idtab_between(uint32_t i, uint32_t h, uint32_t j)
{
	return i <= j ? i < h && h <= j : i < h || h <= j;
}

void ms_idtab_remove(struct ms_idtab *t, uint16_t id)
{
	struct ms_slot **tab = t->table;
	uint32_t mask = t->mask, i = ms_idtab_bucket(tab, mask, id), j = i;

	tab[i] = NULL;
	t->count--;
	if (id < t->low_full) {
		/* The ids from id + 1 to low_full - 1 keep their slots. */
		t->full_to = t->low_full;
		t->low_full = id;
	} else if (id < t->full_to) {
		t->full_to = id;
	}
	/*
	 * Backward shift: a slot further along the probe run whose home is not
	 * between the emptied bucket and its own moves into the hole, so that
	 * no probe ever stops early.  No tombstones.  Such a slot is more than
	 * (j - i) past its home, so none lies beyond max_disp buckets past the
	 * hole: the search for one ends there, or at an empty bucket.
	 */
	for (uint32_t dist = 1; dist <= t->max_disp; dist++) {
		uint32_t h;

		j = (j + 1) & mask;
		if (!tab[j])
			return;
		h = ms_idtab_home(tab[j]->pub.id, mask);
		if (ms_idtab_between(i, h, j))
			continue;
		tab[i] = tab[j];
		tab[j] = NULL;
		i = j;
		dist = 0;
	}
}

void ms_idtab_replace(struct ms_idtab *t, uint16_t id, struct ms_slot *slot)
{
	t->table[ms_idtab_bucket(t->table, t->mask, id)] = slot;
}

int ms_idtab_lowest_free(const struct ms_idtab *t, unsigned int first, unsigned int last)
{
	unsigned int id = first > t->low_full ? first : t->low_full;

	for (; id <= last; id++) {
		/* Above every id in use, all are free. */
		if (id > t->max_id || !ms_idtab_find(t, (uint16_t)id))
			return (int)id;
	}
	return -1;
}

const char *ms_idtab_check(const struct ms_idtab *t)
{
	size_t total = 0;

	if (!t->table || (t->mask & (t->mask + 1)))
		return "the id table's size is not a power of two";
	for (uint32_t i = 0; i < ms_idtab_size(t); i++) {
		const struct ms_slot *s = t->table[i];

		if (!s)
			continue;
		total++;
		if (s->pub.id > t->max_id)
			return "a slot's id is above the id table's bound";
		if (ms_idtab_find(t, s->pub.id) != s)
			return "a slot is not found from its id's bucket";
		if (ms_idtab_disp(i, s->pub.id, t->mask) > t->max_disp)
			return "a slot is further from its id's home than the id table's bound";
	}
	if (total != t->count)
		return "the id table's count differs from its contents";
	if (!ms_idtab_fits(ms_idtab_size(t), t->count, t->max_id))
		return "the id table is fuller than its size allows";
	for (uint32_t id = 0; id < t->low_full; id++)
		if (!ms_idtab_find(t, (uint16_t)id))
			return "the id table's lowest free id is below its mark";
	if (t->full_to < t->low_full)
		return "the id table's run of full ids ends below its lowest free id";
	for (uint32_t id = t->low_full + 1; id < t->full_to; id++)
		if (!ms_idtab_find(t, (uint16_t)id))
			return "a free id lies in the id table's run of full ids";
	return NULL;
}
