/* SPDX-License-Identifier: MIT */
#include "idtable.h"

#include <errno.h>
#include <string.h>

#define MS_IDTAB_CHUNK_BYTES (MS_IDTAB_CHUNK * sizeof(struct ms_slot *))

void ms_idtab_init(struct ms_idtab *t, const struct ms_alloc *alloc)
{
	memset(t, 0, sizeof(*t));
	t->alloc = alloc;
}

void ms_idtab_destroy(struct ms_idtab *t)
{
	ms_idtab_settle(t);
	for (unsigned int i = 0; i < MS_IDTAB_DIR; i++) {
		ms_free(t->alloc, t->dir[i]);
		t->dir[i] = NULL;
		t->used[i] = 0;
	}
	t->count = 0;
}

static struct ms_slot **ms_idtab_chunk_new(const struct ms_alloc *a)
{
	struct ms_slot **c = ms_malloc(a, MS_IDTAB_CHUNK_BYTES);

	if (c)
		memset(c, 0, MS_IDTAB_CHUNK_BYTES);
	return c;
}

int ms_idtab_reserve(struct ms_idtab *t, uint16_t id)
{
	unsigned int d = id >> MS_IDTAB_CHUNK_SHIFT;

	if (t->dir[d] || t->spare[d])
		return 0;
	t->spare[d] = ms_idtab_chunk_new(t->alloc);
	return t->spare[d] ? 0 : -ENOMEM;
}

void ms_idtab_settle(struct ms_idtab *t)
{
	for (unsigned int d = 0; d < MS_IDTAB_DIR; d++) {
		ms_free(t->alloc, t->spare[d]);
		t->spare[d] = NULL;
	}
}

void ms_idtab_insert(struct ms_idtab *t, uint16_t id, struct ms_slot *slot)
{
	unsigned int d = id >> MS_IDTAB_CHUNK_SHIFT;

	if (!t->dir[d]) {
		t->dir[d] = t->spare[d];
		t->spare[d] = NULL;
	}
	ms_idtab_replace(t, id, slot);
	t->used[d]++;
	t->count++;
}

void ms_idtab_remove(struct ms_idtab *t, uint16_t id)
{
	unsigned int d = id >> MS_IDTAB_CHUNK_SHIFT;

	ms_idtab_replace(t, id, NULL);
	t->count--;
	/* An empty chunk costs 2 KiB: aside until the call settles, for an undo. */
	if (!--t->used[d]) {
		t->spare[d] = t->dir[d];
		t->dir[d] = NULL;
	}
}

int ms_idtab_lowest_free(const struct ms_idtab *t, unsigned int first, unsigned int last)
{
	unsigned int d, id;

	for (d = first >> MS_IDTAB_CHUNK_SHIFT; d <= last >> MS_IDTAB_CHUNK_SHIFT; d++) {
		unsigned int lo = d << MS_IDTAB_CHUNK_SHIFT, hi = lo + MS_IDTAB_CHUNK - 1;
		struct ms_slot *const *chunk = t->dir[d];

		if (lo < first)
			lo = first;
		if (hi > last)
			hi = last;
		if (!chunk)
			return (int)lo;
		if (t->used[d] == MS_IDTAB_CHUNK)
			continue;
		for (id = lo; id <= hi; id++)
			if (!chunk[id & (MS_IDTAB_CHUNK - 1)])
				return (int)id;
	}
	return -1;
}

const char *ms_idtab_check(const struct ms_idtab *t)
{
	size_t total = 0;

	for (unsigned int d = 0; d < MS_IDTAB_DIR; d++) {
		unsigned int n = 0;

		if (t->dir[d] && t->spare[d])
			return "the id table has a chunk aside for a directory entry in use";
		if (!t->dir[d]) {
			if (t->used[d])
				return "the id table counts slots in a chunk it does not have";
			continue;
		}
		for (unsigned int i = 0; i < MS_IDTAB_CHUNK; i++)
			n += t->dir[d][i] != NULL;
		if (n != t->used[d])
			return "an id table chunk's count differs from its contents";
		total += n;
	}
	return total == t->count ? NULL : "the id table's count differs from its contents";
}
