/* SPDX-License-Identifier: MIT */
#include "ts_rng.h"

void ts_rng_seed(struct ts_rng *r, uint64_t seed)
{
	/* xorshift never leaves the all-zero state. */
	r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}
