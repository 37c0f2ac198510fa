/* SPDX-License-Identifier: MIT */
/* Helpers shared by the structure fuzz targets. */
#ifndef MS_FUZZ_COMMON_H
#define MS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Says which check failed before trapping: crash triage without a debugger. */
#define FZ_CHECK(cond)                                      \
	do {                                                \
		if (!(cond))                                \
			fz_fail(__FILE__, __LINE__, #cond); \
	} while (0)

__attribute__((noreturn, noinline, cold, unused)) static void fz_fail(const char *file, int line,
								      const char *what)
{
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	__builtin_trap();
}

struct fz_in {
	const uint8_t *p;
	size_t n;
};

/* Past the end every byte reads as 0, so any prefix is a valid program. */
__attribute__((unused)) static uint8_t fz_u8(struct fz_in *in)
{
	uint8_t b;

	if (!in->n)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

__attribute__((unused)) static uint64_t fz_u64(struct fz_in *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | fz_u8(in);
	return v;
}

/* Mostly small values, so keys collide; sometimes the very top of the range. */
__attribute__((unused)) static uint64_t fz_key(struct fz_in *in)
{
	uint8_t b = fz_u8(in);

	if (b >= 0xf8)
		return UINT64_MAX - (0xff - b);
	if (b >= 0xf0)
		return fz_u64(in);
	return b % 48;
}

/*
 * What a query's walk over a pool of at most 64 nodes has met so far: it
 * must meet each node once, in order of start.
 */
struct fz_walk {
	uint64_t met; /* a bit per pool index */
	uint64_t prev_start;
};

/* The walk meets pool[@i], which starts at @start (the caller has checked
 * that it is a node of the structure). */
__attribute__((unused)) static void fz_walk_meet(struct fz_walk *w, unsigned int i, uint64_t start)
{
	FZ_CHECK(i < 64);
	FZ_CHECK(!(w->met & (1ull << i)));
	FZ_CHECK(start >= w->prev_start);
	w->prev_start = start;
	w->met |= 1ull << i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* MS_FUZZ_COMMON_H */
