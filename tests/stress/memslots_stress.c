// SPDX-License-Identifier: MIT
/*
 * memslots_stress: a torture test in the style of rcutorture.
 *
 * Reader threads hammer every lookup of the API while writer threads
 * (several, contending on the writer-serialized calls) create, delete,
 * move and re-flag slots, alone and in batches, for a given duration.
 * Each slot id has fixed, derivable properties (size, host address, the
 * priv its prepare hook sets), so a reader can tell a whole slot from a
 * torn or freed one and check every answer against the question asked;
 * freed memory is scribbled over by the allocator, so a slot read after
 * its free looks torn even without ASan.  More checked properties:
 *
 *  - each writer owns a disjoint range of ids, so it knows their exact
 *    state: after each of its calls returns, the active set must show
 *    what it asked for, and the return code must be the one its own
 *    state predicts (-EEXIST only for a gfn overlap it cannot see);
 *  - each writer has a group of slots whose LOG_DIRTY flags it only ever
 *    toggles together in one batch: a reader must never see them mixed
 *    (a batch publishes atomically);
 *  - a reader's generations never go backwards, and a set never changes
 *    during a read-side section;
 *  - hooks never run concurrently (writers are serialized).
 *
 * Reports reader and writer operations per second and the number of
 * violations; exits 1 on any violation.
 *
 *   memslots_stress [-r READERS] [-w WRITERS] [-d SECONDS] [-s SEED] [-u default|rwlock]
 *
 * TSan cannot see liburcu's grace periods, so under TSan the RCU is always
 * a writer-preferring pthread rwlock (readers hold it shared, synchronize
 * takes it exclusively once): a correct, slow RCU whose ordering TSan
 * understands.  -u rwlock selects it in other builds too.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <memslots/memslots.h>

#include "debug.h"
#include "stress.h"
#include "ts_alloc.h"
#include "ts_rng.h"

unsigned int st_nr_ids;	/* writers * ST_IDS_PER_W */
uint64_t st_gfn_span;	/* gfns slots are placed in: crowded, so overlaps happen */
unsigned int st_writers; /* for the readers' group check */

/* ---- per-id properties -------------------------------------------------------- */

uint64_t st_npages(unsigned int id)
{
	return 1 + id % 5;
}

uint64_t st_hva(unsigned int id)
{
	return 0x100000000000ull + (uint64_t)id * (1ull << 32);
}

int st_magic[ST_MAX_WRITERS * ST_IDS_PER_W];

/* ---- statistics and violations ------------------------------------------------- */

atomic_ulong st_violations;
static atomic_int st_in_hook;

/* ---- an allocator that scribbles over what it frees ------------------------------ */

/* A reader that still holds a freed slot sees garbage: a violation. */
struct ts_alloc_counter st_mem = {.scribble = true};

/* ---- hooks ---------------------------------------------------------------------- */

static void st_hook_enter(void)
{
	if (atomic_fetch_add(&st_in_hook, 1) != 0)
		st_violation("two hooks run at once: writers are not serialized");
}

static void st_hook_leave(void)
{
	atomic_fetch_sub(&st_in_hook, 1);
}

static int st_prepare(void *opaque, const struct memslot *old, struct memslot *new,
		      enum memslots_change change)
{
	(void)opaque;
	st_hook_enter();
	if (new &&change == MEMSLOTS_CREATE)
		new->priv = &st_magic[new->id];
	if (old && new &&new->priv != old->priv)
		st_violation("prepare: new->priv does not start as old->priv");
	st_hook_leave();
	return 0;
}

static void st_commit(void *opaque, const struct memslot *old, const struct memslot *new,
		      enum memslots_change change)
{
	(void)opaque;
	(void)old;
	(void)new;
	(void)change;
	st_hook_enter();
	st_hook_leave();
}

static void st_invalidate(void *opaque, const struct memslot *slot)
{
	(void)opaque;
	st_hook_enter();
	if (!(slot->flags & MEMSLOT_INVALID))
		st_violation("invalidate: slot %u not flagged INVALID", slot->id);
	st_hook_leave();
}

const struct memslots_ops st_ops = {
	.prepare = st_prepare,
	.commit = st_commit,
	.invalidate = st_invalidate,
};

/* ---- shared state ------------------------------------------------------------------ */

struct memslots *st_ms;
atomic_bool st_stop;
atomic_ulong st_reader_ops, st_reader_sections, st_writer_calls, st_writer_failed;

/* The engine's own consistency checks of both sets, between writer calls. */
void st_check_engine(void)
{
	const char *why = NULL;
	int err = memslots__check_sets(st_ms, &why);

	if (err)
		st_violation("memslots__check_sets: %d, %s", err, why);
}

double st_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whether @s is a whole slot as the writers make them. */
bool st_slot_whole(const struct memslot *s)
{
	const uint32_t ok = MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_INVALID;

	return s->id < st_nr_ids && s->npages == st_npages(s->id) &&
	       s->userspace_addr == st_hva(s->id) && s->priv == &st_magic[s->id] &&
	       !(s->flags & ~ok) && s->base_gfn + s->npages <= st_gfn_span;
}

/* ---- main ------------------------------------------------------------------------------ */

static void st_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-r READERS] [-w WRITERS] [-d SECONDS] [-s SEED] [-u default|rwlock]\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int readers = 2, writers = 2, i;
	double seconds = 5, t0, elapsed;
	unsigned long long seed = 1;
	bool rwlock = false;
	struct memslots_config cfg = {
		.ops = &st_ops,
		.alloc = ts_alloc,
		.free = ts_free,
		.alloc_opaque = &st_mem,
	};
	pthread_t rthreads[ST_MAX_READERS];
	struct st_writer *wrs;
	int opt;

	while ((opt = getopt(argc, argv, "r:w:d:s:u:h")) != -1) {
		switch (opt) {
		case 'r':
			readers = (unsigned int)atoi(optarg);
			break;
		case 'w':
			writers = (unsigned int)atoi(optarg);
			break;
		case 'd':
			seconds = atof(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'u':
			if (!strcmp(optarg, "rwlock"))
				rwlock = true;
			else if (strcmp(optarg, "default"))
				st_usage(argv[0]);
			break;
		default:
			st_usage(argv[0]);
		}
	}
	if (readers > ST_MAX_READERS || !writers || writers > ST_MAX_WRITERS || seconds <= 0)
		st_usage(argv[0]);
#ifdef ST_TSAN
	rwlock = true;
#endif
	ts_rwlock_rcu_init();
	if (rwlock)
		cfg.rcu = &ts_rwlock_rcu;
	st_writers = writers;
	st_nr_ids = writers * ST_IDS_PER_W;
	st_gfn_span = 8 * st_nr_ids;
	st_ms = memslots_new(&cfg);
	if (!st_ms) {
		perror("memslots_new");
		return 1;
	}
	wrs = calloc(writers, sizeof(*wrs));
	if (!wrs)
		return 1;
	printf("memslots_stress: %u readers, %u writers, %.1f s, seed %llu, %s RCU\n", readers,
	       writers, seconds, seed, rwlock ? "rwlock" : "default (liburcu)");
	fflush(stdout);
	t0 = st_now();
	for (i = 0; i < readers; i++)
		if (pthread_create(&rthreads[i], NULL, st_reader, (void *)(uintptr_t)(seed + i)))
			return 1;
	for (i = 0; i < writers; i++) {
		wrs[i].w = i;
		wrs[i].rng.s = seed * 0x9e3779b97f4a7c15ull + 1000 + i;
		if (pthread_create(&wrs[i].thread, NULL, st_writer, &wrs[i]))
			return 1;
	}
	while (st_now() - t0 < seconds && !atomic_load(&st_violations))
		usleep(20000);
	atomic_store(&st_stop, true);
	for (i = 0; i < writers; i++)
		pthread_join(wrs[i].thread, NULL);
	for (i = 0; i < readers; i++)
		pthread_join(rthreads[i], NULL);
	elapsed = st_now() - t0;
	memslots_free(st_ms);
	free(wrs);
	if (st_mem.live != 0)
		st_violation("%zu allocations left after memslots_free", (size_t)st_mem.live);

	printf("duration %.1f s\n", elapsed);
	printf("readers: %lu lookups (%.0f/s), %lu read-side sections (%.0f/s)\n",
	       atomic_load(&st_reader_ops), atomic_load(&st_reader_ops) / elapsed,
	       atomic_load(&st_reader_sections), atomic_load(&st_reader_sections) / elapsed);
	printf("writers: %lu calls (%.0f/s), %lu failed as expected\n",
	       atomic_load(&st_writer_calls), atomic_load(&st_writer_calls) / elapsed,
	       atomic_load(&st_writer_failed));
	printf("violations: %lu\n", atomic_load(&st_violations));
	return atomic_load(&st_violations) ? 1 : 0;
}
