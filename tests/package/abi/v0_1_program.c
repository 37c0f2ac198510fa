/* SPDX-License-Identifier: MIT */
/*
 * A program as built against libmemslots 0.1, to be run against the
 * current library (tests/package/abi/CMakeLists.txt links it against an
 * unversioned 0.1-style libmemslots.so.0, as 0.1.0 shipped, so its
 * references carry no symbol version).
 *
 * It declares the config and the ops with their 0.1 layouts, its own copy
 * frozen here, as a program compiled with the 0.1 headers has them, and
 * puts each at the very end of a page followed by an inaccessible page: a
 * library that reads past the 0.1 size faults.
 *
 *   v0_1_program expect-0.1   the reference to memslots_new must be bound
 *                             to memslots_new@MEMSLOTS_0.1, and the
 *                             library must also define a different
 *                             memslots_new@MEMSLOTS_0.2
 *   v0_1_program unversioned  against the unversioned library it was linked
 *                             with: the version check above says
 *                             "unversioned" there (the check can tell the
 *                             two libraries apart); the library itself is
 *                             not used, as it is built from today's
 *                             sources and reads today's config size
 *   v0_1_program overread     the guard works: a config one byte short of
 *                             its 0.1 size must kill a child process (the
 *                             0.1 entry point reads all of it)
 *
 * Exit status 0 when every check held.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memslots/memslots.h>

/* The 0.1 layouts, as the 0.1 header declared them. */
struct config_v0_1 {
	unsigned int page_shift;
	unsigned int max_slots;
	const void *ops;
	void *opaque;
	const void *rcu;
	void *(*alloc)(size_t size, void *alloc_opaque);
	void (*free)(void *ptr, void *alloc_opaque);
	void *alloc_opaque;
	uint64_t hva_limit;
};

struct ops_v0_1 {
	int (*prepare)(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		       enum memslots_change change);
	void (*abort)(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		      enum memslots_change change);
	void (*commit)(void *opaque, const struct memslot *old_slot,
		       const struct memslot *new_slot, enum memslots_change change);
	void (*invalidate)(void *opaque, const struct memslot *slot);
	void (*release)(void *opaque, struct memslot *slot);
};

typedef struct memslots *(*new_fn)(const struct memslots_config *cfg);

#define FAIL(...)                                              \
	do {                                                   \
		fprintf(stderr, "v0_1_program: " __VA_ARGS__); \
		fputc('\n', stderr);                           \
		return 1;                                      \
	} while (0)

struct counts {
	int prepared, committed, released;
};

static int count_prepare(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
			 enum memslots_change change)
{
	(void)old_slot;
	(void)new_slot;
	(void)change;
	((struct counts *)opaque)->prepared++;
	return 0;
}

static void count_commit(void *opaque, const struct memslot *old_slot,
			 const struct memslot *new_slot, enum memslots_change change)
{
	(void)old_slot;
	(void)new_slot;
	(void)change;
	((struct counts *)opaque)->committed++;
}

static void count_release(void *opaque, struct memslot *slot)
{
	(void)slot;
	((struct counts *)opaque)->released++;
}

/* Room for @size bytes ending exactly where an inaccessible page begins. */
static void *at_page_end(size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + page, page, PROT_NONE))
		return NULL;
	return p + page - size;
}

/* Which version of memslots_new our own (unversioned) reference reached. */
static const char *bound_version(void)
{
	void *v01 = dlvsym(RTLD_DEFAULT, "memslots_new", "MEMSLOTS_0.1");
	void *v02 = dlvsym(RTLD_DEFAULT, "memslots_new", "MEMSLOTS_0.2");
	void *ours = (void *)memslots_new; /* through the GOT: what ld.so bound */

	printf("v0_1_program: memslots_new %p, @MEMSLOTS_0.1 %p, @MEMSLOTS_0.2 %p\n", ours, v01,
	       v02);
	if (!v01 || !v02 || v01 == v02)
		return "unversioned";
	if (ours == v01)
		return "MEMSLOTS_0.1";
	if (ours == v02)
		return "MEMSLOTS_0.2";
	return "unknown";
}

/* A whole life with the 0.1 structs: create, one slot, free. */
static int use_library(void)
{
	static struct counts counts;
	struct ops_v0_1 *ops = at_page_end(sizeof(*ops));
	struct config_v0_1 *cfg = at_page_end(sizeof(*cfg));
	const struct memslots_region r = {
		.slot = 1, .memory_size = 1 << 20, .userspace_addr = 0x7f0000000000ull,
	};
	const struct memslots_set *set;
	struct memslots *ms;
	int err, found;

	if (!ops || !cfg)
		FAIL("mmap: %s", strerror(errno));
	*ops = (struct ops_v0_1){ .prepare = count_prepare, .commit = count_commit,
				  .release = count_release };
	*cfg = (struct config_v0_1){ .max_slots = 8, .ops = ops, .opaque = &counts };
	ms = memslots_new((const struct memslots_config *)cfg);
	if (!ms)
		FAIL("memslots_new: %s", strerror(errno));
	err = memslots_set_region(ms, &r);
	if (err)
		FAIL("memslots_set_region: %s", memslots_strerror(err));
	memslots_reader_register(ms);
	set = memslots_read_lock(ms);
	found = memslots_find_gfn(set, 5) && memslots_count(set) == 1;
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms);
	if (memslots_max_slots(ms) != 8)
		FAIL("max_slots %u, configured 8", memslots_max_slots(ms));
	memslots_free(ms);
	if (!found || counts.prepared != 1 || counts.committed != 1 || counts.released != 1)
		FAIL("slot found %d, hooks prepare %d commit %d release %d (want 1 1 1 1)", found,
		     counts.prepared, counts.committed, counts.released);
	return 0;
}

/*
 * The guard page works: a config one byte short of the 0.1 size, handed to
 * the 0.1 entry point, kills a child process (SIGSEGV, or a sanitizer's
 * report of it) instead of being read.
 */
static int overread(void)
{
	new_fn v01 = (new_fn)dlvsym(RTLD_DEFAULT, "memslots_new", "MEMSLOTS_0.1");
	int status;
	pid_t pid;

	if (!v01)
		FAIL("no memslots_new@MEMSLOTS_0.1");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct config_v0_1 *cfg = at_page_end(sizeof(*cfg) - 1);

		if (!cfg)
			_exit(2);
		v01((const struct memslots_config *)cfg);
		_exit(3);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		FAIL("fork: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		FAIL("a config cut short by the guard page was read without a fault");
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 2))
		FAIL("the child could not set up the guard page");
	printf("v0_1_program: ok, reading past the guard page faulted (%s %d)\n",
	       WIFSIGNALED(status) ? "signal" : "exit",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *bound = bound_version();

	if (!strcmp(mode, "overread"))
		return overread();
	if (!strcmp(mode, "expect-0.1") && strcmp(bound, "MEMSLOTS_0.1"))
		FAIL("memslots_new bound to %s, not MEMSLOTS_0.1", bound);
	if (!strcmp(mode, "unversioned")) {
		if (strcmp(bound, "unversioned"))
			FAIL("the library has symbol versions (%s)", bound);
		printf("v0_1_program: ok, no symbol versions\n");
		return 0;
	}
	if (strcmp(mode, "expect-0.1"))
		FAIL("usage: v0_1_program expect-0.1|unversioned|overread");
	if (use_library())
		return 1;
	printf("v0_1_program: ok, memslots_new bound to %s\n", bound);
	return 0;
}
