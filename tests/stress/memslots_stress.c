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
#include "ts_alloc.h"
#include "ts_rng.h"

#if defined(__SANITIZE_THREAD__)
#define ST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ST_TSAN 1
#endif
#endif

#define ST_MAX_WRITERS 16
#define ST_MAX_READERS 64
#define ST_IDS_PER_W   24u /* ids owned by each writer */
#define ST_GROUP       4u  /* the first ids of each writer: toggled together */
#define ST_PAGE	       4096ull
#define ST_MAX_BATCH   8u

static unsigned int st_nr_ids;	/* writers * ST_IDS_PER_W */
static uint64_t st_gfn_span;	/* gfns slots are placed in: crowded, so overlaps happen */
static unsigned int st_writers; /* for the readers' group check */

/* ---- per-id properties -------------------------------------------------------- */

static uint64_t st_npages(unsigned int id)
{
	return 1 + id % 5;
}

static uint64_t st_hva(unsigned int id)
{
	return 0x100000000000ull + (uint64_t)id * (1ull << 32);
}

static int st_magic[ST_MAX_WRITERS * ST_IDS_PER_W];

/* ---- statistics and violations ------------------------------------------------- */

static atomic_ulong st_violations;
static atomic_int st_in_hook;

#define st_violation(...)                                                         \
	do {                                                                      \
		if (atomic_fetch_add(&st_violations, 1) < 20) {                   \
			fprintf(stderr, "VIOLATION %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                             \
			fputc('\n', stderr);                                      \
		}                                                                 \
	} while (0)

/* ---- an allocator that scribbles over what it frees ------------------------------ */

/* A reader that still holds a freed slot sees garbage: a violation. */
static struct tu_alloc_counter st_mem = {.scribble = true};

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

static const struct memslots_ops st_ops = {
	.prepare = st_prepare,
	.commit = st_commit,
	.invalidate = st_invalidate,
};

/* ---- the rwlock RCU (always under TSan) -------------------------------------------- */

static pthread_rwlock_t st_rw;

static void st_rw_read_lock(void)
{
	pthread_rwlock_rdlock(&st_rw);
}

static void st_rw_read_unlock(void)
{
	pthread_rwlock_unlock(&st_rw);
}

static void st_rw_synchronize(void)
{
	pthread_rwlock_wrlock(&st_rw);
	pthread_rwlock_unlock(&st_rw);
}

static const struct memslots_rcu st_rwlock_rcu = {
	.read_lock = st_rw_read_lock,
	.read_unlock = st_rw_read_unlock,
	.synchronize = st_rw_synchronize,
};

static void st_rwlock_init(void)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	/* Writer-preferring, so a stream of readers cannot starve synchronize. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st_rw, &attr);
	pthread_rwlockattr_destroy(&attr);
}

/* ---- shared state ------------------------------------------------------------------ */

static struct memslots *st_ms;
static atomic_bool st_stop;
static atomic_ulong st_reader_ops, st_reader_sections, st_writer_calls, st_writer_failed;

/* The engine's own consistency checks of both sets, between writer calls. */
static void st_check_engine(void)
{
	const char *why = NULL;
	int err = memslots__check_sets(st_ms, &why);

	if (err)
		st_violation("memslots__check_sets: %d, %s", err, why);
}

static double st_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- readers ------------------------------------------------------------------------ */

/* Whether @s is a whole slot as the writers make them. */
static bool st_slot_whole(const struct memslot *s)
{
	const uint32_t ok = MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_INVALID;

	return s->id < st_nr_ids && s->npages == st_npages(s->id) &&
	       s->userspace_addr == st_hva(s->id) && s->priv == &st_magic[s->id] &&
	       !(s->flags & ~ok) && s->base_gfn + s->npages <= st_gfn_span;
}

#define st_slot_violation(what, s)                                                                 \
	st_violation("%s (slot %p id %u gfn %llu npages %llu flags %#x)", what, (const void *)(s), \
		     (s) ? (s)->id : 0u, (s) ? (unsigned long long)(s)->base_gfn : 0ull,           \
		     (s) ? (unsigned long long)(s)->npages : 0ull, (s) ? (s)->flags : 0u)

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

static void *st_reader(void *arg)
{
	uint64_t last_gen = 0;
	struct tu_rng rng = {(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1};
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
			uint64_t gfn = tu_rng_below(&rng, st_gfn_span);

			st_check_gfn(set, &cache, gfn);
			st_check_ranges(set, (unsigned int)tu_rng_below(&rng, st_nr_ids), gfn);
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

/* ---- writers ------------------------------------------------------------------------ */

/* What a writer knows of each id it owns. */
struct st_own {
	bool present;
	uint64_t gfn;
	uint32_t flags;
};

struct st_writer {
	unsigned int w;
	struct tu_rng rng;
	struct st_own own[ST_IDS_PER_W];
	uint32_t group_flags; /* the LOG_DIRTY state of the whole group */
	pthread_t thread;
};

static struct memslots_region st_region(unsigned int id, uint64_t gfn, uint32_t flags)
{
	struct memslots_region r = {
		.slot = id,
		.flags = flags,
		.guest_phys_addr = gfn * ST_PAGE,
		.memory_size = st_npages(id) * ST_PAGE,
		.userspace_addr = st_hva(id),
	};

	return r;
}

static unsigned int st_id(const struct st_writer *wr, unsigned int i)
{
	return wr->w * ST_IDS_PER_W + i;
}

static bool st_own_overlap(const struct st_writer *wr, unsigned int skip, uint64_t gfn,
			   uint64_t npages)
{
	unsigned int i;

	for (i = 0; i < ST_IDS_PER_W; i++) {
		const struct st_own *o = &wr->own[i];

		if (i != skip && o->present && gfn < o->gfn + st_npages(st_id(wr, i)) &&
		    o->gfn < gfn + npages)
			return true;
	}
	return false;
}

/*
 * One random request for own id index @i; *expect gets the return code
 * it must give, or 1 for "0 or -EEXIST" (an overlap with another
 * writer's slot, which this writer cannot know).
 */
static struct memslots_region st_request(struct st_writer *wr, unsigned int i, int *expect)
{
	struct st_own *o = &wr->own[i];
	unsigned int id = st_id(wr, i);
	uint64_t gfn = tu_rng_below(&wr->rng, st_gfn_span - st_npages(id) + 1);
	struct memslots_region r;

	if (!o->present) {
		r = st_region(id, gfn,
			      i < ST_GROUP	      ? wr->group_flags
			      : tu_rng_below(&wr->rng, 2) ? MEMSLOT_LOG_DIRTY_PAGES
						      : 0);
		*expect = st_own_overlap(wr, i, gfn, st_npages(id)) ? -EEXIST : 1;
		return r;
	}
	switch (tu_rng_below(&wr->rng, i < ST_GROUP ? 1 : 4)) {
	case 0: /* move (group slots only move: their flags toggle together) */
		r = st_region(id, gfn, o->flags);
		*expect = st_own_overlap(wr, i, gfn, st_npages(id)) ? -EEXIST : 1;
		if (gfn == o->gfn)
			*expect = 0; /* nothing changes */
		break;
	case 1: /* delete */
		r = st_region(id, o->gfn, o->flags);
		r.memory_size = 0;
		*expect = 0;
		break;
	case 2: /* flags only */
		r = st_region(id, o->gfn, o->flags ^ MEMSLOT_LOG_DIRTY_PAGES);
		*expect = 0;
		break;
	default: /* a bad change: another size for an existing slot */
		r = st_region(id, o->gfn, o->flags);
		r.memory_size += ST_PAGE;
		*expect = -EINVAL;
		break;
	}
	return r;
}

/* What @r does to the writer's knowledge, once it succeeded. */
static void st_own_apply(struct st_writer *wr, const struct memslots_region *r)
{
	struct st_own *o = &wr->own[(r->slot & 0xffff) - wr->w * ST_IDS_PER_W];

	o->present = r->memory_size != 0;
	o->gfn = r->guest_phys_addr / ST_PAGE;
	o->flags = r->flags;
}

/* The active set must show exactly what this writer's ids should be. */
static void st_writer_verify(struct st_writer *wr)
{
	const struct memslots_set *set = memslots_read_lock(st_ms);
	unsigned int i;

	for (i = 0; i < ST_IDS_PER_W; i++) {
		const struct memslot *s = memslots_find_id(set, (uint16_t)st_id(wr, i));
		const struct st_own *o = &wr->own[i];

		if (!o->present != !s ||
		    (s && (s->base_gfn != o->gfn || s->flags != o->flags || !st_slot_whole(s))))
			st_slot_violation("writer's own slot not as its last call left it", s);
	}
	memslots_read_unlock(st_ms);
}

static void st_check_ret(int ret, int expect, const char *what)
{
	if (expect == 1 ? (ret != 0 && ret != -EEXIST) : ret != expect)
		st_violation("%s returned %d, expected %d", what, ret, expect == 1 ? 0 : expect);
	if (ret)
		atomic_fetch_add_explicit(&st_writer_failed, 1, memory_order_relaxed);
}

/*
 * A batch of distinct non-group ids, planned on a copy of the writer's
 * knowledge since each request sees the state the earlier ones leave.
 * It ends at the first request bound to fail; the call must then fail
 * there, unless an earlier request hit another writer's slot (-EEXIST).
 */
static void st_writer_batch(struct st_writer *wr)
{
	struct memslots_region batch[ST_MAX_BATCH];
	unsigned int n = 1 + (unsigned int)tu_rng_below(&wr->rng, ST_MAX_BATCH);
	unsigned int base = (unsigned int)tu_rng_below(&wr->rng, ST_IDS_PER_W), i, k;
	struct st_writer plan = *wr;
	bool maybe_eexist = false;
	size_t failed = 999;
	int expect = 0, ret;

	for (i = 0; i < n && !expect; i++) {
		/* a step prime to ST_IDS_PER_W - ST_GROUP: distinct ids */
		k = ST_GROUP + (base + i * 3) % (ST_IDS_PER_W - ST_GROUP);
		batch[i] = st_request(&plan, k, &expect);
		if (expect == 1) {
			maybe_eexist = true;
			expect = 0;
		}
		if (!expect)
			st_own_apply(&plan, &batch[i]);
	}
	n = i;
	wr->rng = plan.rng;
	ret = memslots_apply(st_ms, batch, n, &failed);
	if (ret == -EEXIST && maybe_eexist) {
		atomic_fetch_add_explicit(&st_writer_failed, 1, memory_order_relaxed);
		return;
	}
	st_check_ret(ret, expect, "batch");
	if (ret && failed != n - 1)
		st_violation("batch failed at %zu, expected %u", failed, n - 1);
	if (!ret)
		memcpy(wr->own, plan.own, sizeof(wr->own)); /* not the thread handle */
}

static void st_writer_step(struct st_writer *wr)
{
	struct memslots_region batch[ST_MAX_BATCH];
	int expect, ret;
	unsigned int n, i;
	size_t failed = 999;

	switch (tu_rng_below(&wr->rng, 8)) {
	case 0: /* toggle the whole group's LOG_DIRTY in one batch */
		for (i = n = 0; i < ST_GROUP; i++) {
			const struct st_own *o = &wr->own[i];

			if (o->present)
				batch[n++] = st_region(st_id(wr, i), o->gfn,
						       o->flags ^ MEMSLOT_LOG_DIRTY_PAGES);
		}
		ret = memslots_apply(st_ms, batch, n, &failed);
		st_check_ret(ret, 0, "group toggle");
		if (!ret) {
			for (i = 0; i < n; i++)
				st_own_apply(wr, &batch[i]);
			wr->group_flags ^= MEMSLOT_LOG_DIRTY_PAGES;
		}
		break;
	case 1:
	case 2: /* a batch of distinct own ids */
		st_writer_batch(wr);
		break;
	case 3: /* an invalid request: misaligned, must change nothing */
		i = (unsigned int)tu_rng_below(&wr->rng, ST_IDS_PER_W);
		batch[0] = st_region(st_id(wr, i), 1, 0);
		batch[0].guest_phys_addr += 512;
		st_check_ret(memslots_set_region(st_ms, &batch[0]), -EINVAL, "misaligned");
		break;
	default: /* one request */
		i = (unsigned int)tu_rng_below(&wr->rng, ST_IDS_PER_W);
		batch[0] = st_request(wr, i, &expect);
		ret = memslots_set_region(st_ms, &batch[0]);
		st_check_ret(ret, expect, "set_region");
		if (!ret)
			st_own_apply(wr, &batch[0]);
		break;
	}
	atomic_fetch_add_explicit(&st_writer_calls, 1, memory_order_relaxed);
	st_check_engine();
	st_writer_verify(wr);
}

static void *st_writer(void *arg)
{
	struct st_writer *wr = arg;

	memslots_reader_register(st_ms); /* the writer verifies through a reader section */
	while (!atomic_load_explicit(&st_stop, memory_order_relaxed))
		st_writer_step(wr);
	memslots_reader_unregister(st_ms);
	return NULL;
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
		.alloc = tu_alloc,
		.free = tu_free,
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
	st_rwlock_init();
	if (rwlock)
		cfg.rcu = &st_rwlock_rcu;
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
