/* SPDX-License-Identifier: MIT */
/*
 * The B+tree checked against a model of its entries, for the unit tests
 * and the fuzz target: in memslots_testonly, not in libmemslots
 * (MEMSLOTS_TESTONLY_SOURCES).  Reader.
 */
#include "btree_check.h"

#include <stdint.h>
#include <stdio.h>

/* Per thread, as btree_check.c's: readers may check published trees at once. */
static _Thread_local char ms_btree_model_msg[200];

#define MODEL_FAIL(...)                                                                \
	do {                                                                           \
		snprintf(ms_btree_model_msg, sizeof(ms_btree_model_msg), __VA_ARGS__); \
		return ms_btree_model_msg;                                             \
	} while (0)

const char *ms_btree_check_model(const struct ms_btree *t, const struct ms_btree_entry *model,
				 size_t n)
{
	struct ms_btree_cursor c;
	const char *err = ms_btree_check(t);
	size_t i = 0;

	if (err)
		return err;
	if (t->count != n)
		MODEL_FAIL("tree holds %zu entries, the model %zu", t->count, n);
	for (ms_btree_first(t, &c); ms_btree_cursor_valid(&c); ms_btree_cursor_next(&c), i++) {
		if (i >= n)
			MODEL_FAIL("the walk goes past the model's %zu entries", n);
		if (ms_btree_cursor_key(&c) != model[i].key ||
		    ms_btree_cursor_end(&c) != model[i].end ||
		    ms_btree_cursor_val(&c) != model[i].val)
			MODEL_FAIL("entry %zu: [%#llx, %#llx) %p, the model [%#llx, %#llx) %p", i,
				   (unsigned long long)ms_btree_cursor_key(&c),
				   (unsigned long long)ms_btree_cursor_end(&c),
				   ms_btree_cursor_val(&c), (unsigned long long)model[i].key,
				   (unsigned long long)model[i].end, model[i].val);
	}
	if (i != n)
		MODEL_FAIL("the walk stops after %zu of %zu entries", i, n);
	return NULL;
}
