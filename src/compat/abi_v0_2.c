/* SPDX-License-Identifier: MIT */
/*
 * memslots_new@MEMSLOTS_0.2, the memslots_new() of programs built against
 * 0.2.  0.3 appends index and dirty_log to struct memslots_config (the
 * API contract's extensions 3 and 4); a 0.2 program hands over a config
 * that ends before them, and the current memslots_new() would read them
 * past its end.  This entry point copies the 0.2 config, which ends where
 * index begins, into a zeroed current one (index 0:
 * MEMSLOTS_INDEX_DEFAULT, dirty_log 0: no bitmaps) and passes it on.
 * struct memslots_ops has not grown since 0.2: its pointer passes through.
 *
 * Programs built now reference memslots_new@@MEMSLOTS_0.3, the plain
 * function.  Shared library only (cmake/Abi.cmake), as abi_v0_1.c.
 */
#include <stddef.h>
#include <string.h>

#include <memslots/memslots.h>

/* The 0.2 config: the current one up to index, which 0.3 appended. */
#define MS_CONFIG_V0_2_SIZE offsetof(struct memslots_config, index)

_Static_assert(offsetof(struct memslots_config, supported_attributes) + sizeof(uint64_t) ==
		       MS_CONFIG_V0_2_SIZE,
	       "index is not the member right after the 0.2 config (docs/abi.md)");

__attribute__((visibility("default"))) struct memslots *
ms_new_v0_2(const struct memslots_config *cfg);
__asm__(".symver ms_new_v0_2, memslots_new@MEMSLOTS_0.2");

/*
 * Locking: as memslots_new(), which it calls with its copy; the copy may
 * live on the stack because memslots_new() keeps no pointer to it.
 */
struct memslots *ms_new_v0_2(const struct memslots_config *cfg)
{
	struct memslots_config config;

	if (!cfg)
		return memslots_new(NULL);
	memset(&config, 0, sizeof(config));
	memcpy(&config, cfg, MS_CONFIG_V0_2_SIZE);
	return memslots_new(&config);
}
