/* SPDX-License-Identifier: MIT */
/*
 * A minimal user of an installed libmemslots: creates a slot, finds it
 * back through a read-side section, frees everything.  Exit status 0 only
 * if every step did what the API promises.
 */
#include <stdio.h>
#include <string.h>

#include <memslots/memslots.h>

#define FAIL(...)                                          \
	do {                                               \
		fprintf(stderr, "consumer: " __VA_ARGS__); \
		fputc('\n', stderr);                       \
		return 1;                                  \
	} while (0)

int main(void)
{
	const struct memslots_region r = {
		.slot = 3,
		.flags = 0,
		.guest_phys_addr = 0x100000,
		.memory_size = 16 * 4096,
		.userspace_addr = 0x7f0000000000ull,
	};
	const struct memslots_set *set;
	const struct memslot *s;
	struct memslots *ms;
	int err, bad = 0;

	/* the header and the library must agree on the version */
	if (strcmp(memslots_version_string(), MEMSLOTS_VERSION_STRING))
		FAIL("library %s, header %s", memslots_version_string(), MEMSLOTS_VERSION_STRING);

	ms = memslots_new(NULL);
	if (!ms)
		FAIL("memslots_new failed");
	err = memslots_set_region(ms, &r);
	if (err) {
		memslots_free(ms);
		FAIL("memslots_set_region: %s", memslots_strerror(err));
	}

	memslots_reader_register(ms);
	set = memslots_read_lock(ms);
	s = memslots_find_gfn(set, 0x100 + 5);
	if (!s || s->id != 3 || s->base_gfn != 0x100 || s->npages != 16 ||
	    s->userspace_addr != r.userspace_addr || memslots_count(set) != 1 ||
	    memslots_find_gfn(set, 0x100 + 16))
		bad = 1;
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms);
	memslots_free(ms);

	if (bad)
		FAIL("the slot read back is not the one created");
	printf("consumer: ok (libmemslots %s)\n", memslots_version_string());
	return 0;
}
