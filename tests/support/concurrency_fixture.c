/* SPDX-License-Identifier: MIT */
/* The concurrency test's shared pieces (concurrency_fixture.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <valgrind/valgrind.h>

#include <memslots/memslots.h>

#include "concurrency_fixture.h"
#include "model.h"
#include "ts_check.h"

/* Per id: a fixed size and host address, and the priv prepare gives it. */
uint64_t ts_conc_npages(unsigned int id)
{
	return 1 + id % 7;
}

uint64_t ts_conc_hva(unsigned int id)
{
	return 0x100000000000ull + (uint64_t)id * (1ull << 32);
}

/* Every third id is a guest_memfd slot, with its own fd and range. */
bool ts_conc_is_gmem(unsigned int id)
{
	return id % 3 == 0;
}

uint32_t ts_conc_gmem_fd(unsigned int id)
{
	return 100 + id % 4;
}

uint64_t ts_conc_gmem_offset(unsigned int id)
{
	return (uint64_t)id * 8 * TS_CONC_PAGE; /* 8 pages apart: ranges never meet */
}

int ts_conc_magic[TS_CONC_IDS];

static int ts_conc_prepare(void *opaque, const struct memslot *old, struct memslot *new,
			   enum memslots_change change)
{
	(void)opaque;
	(void)old;
	if (new &&change == MEMSLOTS_CREATE)
		new->priv = &ts_conc_magic[new->id];
	return 0;
}

const struct memslots_ops ts_conc_ops = {
	.prepare = ts_conc_prepare,
};

double ts_conc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reports the first few problems, counts all of them. */
void ts_conc_fail(struct ts_conc_shared *sh, const char *what, const struct memslot *s)
{
	if (atomic_fetch_add(&sh->reader_errors, 1) < 10)
		fprintf(stderr, "reader: %s (slot %p id %u gfn %llu npages %llu)\n", what,
			(const void *)s, s ? s->id : 0, s ? (unsigned long long)s->base_gfn : 0,
			s ? (unsigned long long)s->npages : 0);
}

struct memslots_region2 ts_conc_region(unsigned int id, uint64_t gfn, uint32_t flags)
{
	struct memslots_region2 r = ts_model_widen2(TS_CONC_PAGE_SHIFT, id, flags, gfn,
						    ts_conc_npages(id), ts_conc_hva(id));

	if (flags & MEMSLOT_GUEST_MEMFD) {
		r.guest_memfd = ts_conc_gmem_fd(id);
		r.guest_memfd_offset = ts_conc_gmem_offset(id);
	}
	return r;
}

double ts_conc_seconds(void)
{
	const char *env = getenv("MEMSLOTS_STRESS_SECONDS");

	if (env)
		return atof(env);
	return RUNNING_ON_VALGRIND ? 1.0 : 3.0;
}

static void *ts_conc_reader(void *arg)
{
	struct ts_conc_shared *sh = arg;
	struct ts_conc_reader rd = {.sh = sh};
	unsigned long ops = 0;

	ts_rng_seed(&rd.rng, sh->seed ^ (uintptr_t)&rd.cache);
	memslots_reader_register(sh->ms);
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		const struct memslots_set *set = memslots_read_lock(sh->ms);

		sh->run->section(&rd, set);
		memslots_read_unlock(sh->ms);
		ops++;
	}
	memslots_reader_unregister(sh->ms);
	atomic_fetch_add(&sh->reader_ops, ops);
	return NULL;
}

void ts_conc_run(const struct ts_conc_run *run, double seconds)
{
	struct memslots_config cfg = {
		.ops = &ts_conc_ops,
		.rcu = run->rcu,
	};
	struct ts_conc_shared sh = {.run = run, .seed = run->seed};
	pthread_t readers[TS_CONC_READERS];
	struct ts_rng rng;
	unsigned long i;
	double start;
	int k;

	sh.ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(sh.ms);
	atomic_init(&sh.stop, false);
	atomic_init(&sh.reader_ops, 0);
	atomic_init(&sh.reader_errors, 0);
	atomic_init(&sh.writer_ops, 0);
	for (k = 0; k < TS_CONC_READERS; k++)
		ck_assert_int_eq(pthread_create(&readers[k], NULL, ts_conc_reader, &sh), 0);

	ts_rng_seed(&rng, run->seed);
	if (run->writer_reads)
		memslots_reader_register(sh.ms);
	start = ts_conc_now();
	for (i = 0; ts_conc_now() < start + seconds * 10 &&
		    (ts_conc_now() < start + seconds || i < TS_CONC_MIN_WRITES);
	     i++) {
		run->step(&sh, &rng, i);
		atomic_fetch_add_explicit(&sh.writer_ops, 1, memory_order_relaxed);
	}
	if (run->writer_reads)
		memslots_reader_unregister(sh.ms);

	atomic_store(&sh.stop, true);
	for (k = 0; k < TS_CONC_READERS; k++)
		pthread_join(readers[k], NULL);
	fprintf(stderr, "%s: %.1f s, %lu writer calls, %lu reader sections, %lu errors\n",
		run->name, seconds, atomic_load(&sh.writer_ops), atomic_load(&sh.reader_ops),
		atomic_load(&sh.reader_errors));
	ck_assert_uint_eq(atomic_load(&sh.reader_errors), 0);
	ck_assert_uint_ge(atomic_load(&sh.writer_ops), TS_CONC_MIN_WRITES);
	ck_assert_uint_gt(atomic_load(&sh.reader_ops), 0);
	memslots_free(sh.ms);
}
