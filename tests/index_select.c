/* SPDX-License-Identifier: MIT */
/*
 * Runs a test program on the index its ctest entry names: every
 * memslots_new() of the program (linked with -Wl,--wrap=memslots_new, see
 * memslots_add_check_test) goes through here, and when MEMSLOTS_TEST_INDEX
 * is "kvm" or "btree", a config that asks for MEMSLOTS_INDEX_DEFAULT gets
 * that index instead.  A config that names an index keeps it: a test of
 * the index field itself sees what it asked for.  Everything else of the
 * config is passed on untouched.
 *
 * Locking: as memslots_new(); getenv() is only read, never changed.
 */
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

struct memslots *__real_memslots_new(const struct memslots_config *cfg);
struct memslots *__wrap_memslots_new(const struct memslots_config *cfg);

/* The index the entry asks for, or MEMSLOTS_INDEX_DEFAULT. */
static unsigned int test_index(void)
{
	const char *name = getenv("MEMSLOTS_TEST_INDEX");

	if (name && !strcmp(name, "kvm"))
		return MEMSLOTS_INDEX_KVM;
	if (name && !strcmp(name, "btree"))
		return MEMSLOTS_INDEX_BTREE;
	return MEMSLOTS_INDEX_DEFAULT;
}

struct memslots *__wrap_memslots_new(const struct memslots_config *cfg)
{
	struct memslots_config copy;

	memset(&copy, 0, sizeof(copy));
	if (cfg)
		copy = *cfg;
	if (copy.index != MEMSLOTS_INDEX_DEFAULT)
		return __real_memslots_new(cfg);
	copy.index = test_index();
	return __real_memslots_new(&copy);
}
