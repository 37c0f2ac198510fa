/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include <valgrind/valgrind.h>

#include "ts_scale.h"

/* The environment's percentage, 1..100; anything else counts as 100. */
static unsigned long ts_scale_percent(void)
{
	const char *env = getenv("MEMSLOTS_TEST_SCALE");
	char *end;
	unsigned long pct;

	if (!env || !*env)
		return 100;
	pct = strtoul(env, &end, 10);
	return *end || pct == 0 || pct > 100 ? 100 : pct;
}

size_t ts_scaled(size_t n, unsigned int valgrind_div)
{
	size_t m;

	if (RUNNING_ON_VALGRIND)
		return n / (valgrind_div ? valgrind_div : 1) + 1;
	m = n / 100 * ts_scale_percent() + n % 100 * ts_scale_percent() / 100;
	return m ? m : 1;
}
