/* SPDX-License-Identifier: MIT */
/* A small, fast, seedable PRNG (xorshift64*), so every run is repeatable. */
#ifndef TS_RNG_H
#define TS_RNG_H

#include <stdint.h>

struct ts_rng {
	uint64_t s;
};

void ts_rng_seed(struct ts_rng *r, uint64_t seed);

/* Inline: the benchmarks draw their keys with it, and so do hot test loops. */
static inline uint64_t ts_rng_next(struct ts_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n) (up to the modulo bias); n > 0. */
static inline uint64_t ts_rng_below(struct ts_rng *r, uint64_t n)
{
	return ts_rng_next(r) % n;
}

#endif /* TS_RNG_H */
