/* SPDX-License-Identifier: MIT */
/* The two-set fixture of the per-set structure tests (ts_twosets.h). */
#include <pthread.h>

#include <check.h>

#include "ts_twosets.h"

void *ts_spare(void *pool, size_t npool, size_t size, size_t in_off, unsigned int set,
	       bool in_neither, struct ts_rng *r)
{
	size_t i = ts_rng_below(r, npool);

	for (size_t tries = 0; tries < npool; tries++, i = (i + 1) % npool) {
		char *e = (char *)pool + i * size;
		const bool *in = (const bool *)(e + in_off);

		if (!in[set] && !(in_neither && in[!set]))
			return e;
	}
	return NULL;
}

void ts_twosets_run(const struct ts_twosets_ops *ops, void *ctx, uint64_t seed, size_t nops,
		    unsigned int check_every)
{
	struct ts_rng r;

	ts_rng_seed(&r, seed);
	for (size_t op = 0; op < nops; op++) {
		ops->step(ctx, &r);
		if (op % check_every == 0) {
			ops->check(ctx, 0);
			ops->check(ctx, 1);
		}
	}
	for (unsigned int k = 0; k < 2; k++) {
		size_t n;

		while ((n = ops->count(ctx, k)) != 0) {
			ops->remove_at(ctx, k, ts_rng_below(&r, n));
			ops->check(ctx, k);
		}
	}
}

void ts_readers_against_writer(struct ts_readers *rd, unsigned int nreaders,
			       void *(*reader)(void *), void (*write)(void *, struct ts_rng *),
			       void *arg, size_t nops, uint64_t seed)
{
	pthread_t th[TS_READERS_MAX];
	struct ts_rng r;

	ck_assert_uint_le(nreaders, TS_READERS_MAX);
	for (unsigned int k = 0; k < nreaders; k++)
		ck_assert_int_eq(pthread_create(&th[k], NULL, reader, arg), 0);
	ts_rng_seed(&r, seed);
	for (size_t op = 0; op < nops; op++)
		write(arg, &r);
	atomic_store_explicit(&rd->stop, true, memory_order_release);
	for (unsigned int k = 0; k < nreaders; k++)
		pthread_join(th[k], NULL);
	ck_assert_uint_ge(atomic_load(&rd->lookups), (size_t)nreaders * TS_READER_MIN_LOOKUPS);
}
