/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the per-set structure tests (the KVM index's gfn tree and
 * id hash): two sets over one pool of elements, as a memslots object's two
 * sets share slots, each element with a node and an "in" flag per set.
 * It runs random operation sequences over both sets, and lock-free readers
 * of one set while a writer changes the other.
 */
#ifndef TS_TWOSETS_H
#define TS_TWOSETS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ts_rng.h"

/*
 * A random element of @pool (@npool elements of @size bytes, each with a
 * bool in[2] at @in_off) that is not in set @set, nor in the other set
 * with @in_neither; NULL if there is none.  TS_SPARE() names the type.
 */
void *ts_spare(void *pool, size_t npool, size_t size, size_t in_off, unsigned int set,
	       bool in_neither, struct ts_rng *r);
#define TS_SPARE(type, pool, npool, set, in_neither, r) \
	((type *)ts_spare(pool, npool, sizeof(type), offsetof(type, in), set, in_neither, r))

/* What a random run does to a test's two sets. */
struct ts_twosets_ops {
	void (*step)(void *ctx, struct ts_rng *r);	  /* one random operation */
	void (*check)(const void *ctx, unsigned int set); /* the whole set */
	size_t (*count)(const void *ctx, unsigned int set);
	void (*remove_at)(void *ctx, unsigned int set, size_t i);
};

/*
 * @nops random steps from a generator seeded with @seed, both sets checked
 * after every @check_every-th; then each set emptied at random places,
 * checked after every removal.
 */
void ts_twosets_run(const struct ts_twosets_ops *ops, void *ctx, uint64_t seed, size_t nops,
		    unsigned int check_every);

/* The readers' side of ts_readers_against_writer(). */
struct ts_readers {
	atomic_bool stop;
	atomic_size_t lookups;
};

/* Each reader makes at least this many lookups, however fast the writer. */
#define TS_READER_MIN_LOOKUPS 1000

/* Whether a reader that has made @n lookups goes on. */
static inline bool ts_reader_goes_on(struct ts_readers *rd, size_t n)
{
	return !atomic_load_explicit(&rd->stop, memory_order_acquire) || n < TS_READER_MIN_LOOKUPS;
}

/* A reader's last call: it made @n lookups. */
static inline void ts_reader_done(struct ts_readers *rd, size_t n)
{
	atomic_fetch_add(&rd->lookups, n);
}

#define TS_READERS_MAX 8

/*
 * Runs @nreaders (at most TS_READERS_MAX) threads of @reader(@arg) while
 * @write(@arg, r) is called @nops times with a generator seeded with
 * @seed; then stops and joins the readers and checks that each made its
 * lookups.  @arg holds @rd, zeroed.
 */
void ts_readers_against_writer(struct ts_readers *rd, unsigned int nreaders,
			       void *(*reader)(void *), void (*write)(void *, struct ts_rng *),
			       void *arg, size_t nops, uint64_t seed);

#endif /* TS_TWOSETS_H */
