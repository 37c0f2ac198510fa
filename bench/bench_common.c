/* SPDX-License-Identifier: MIT */
#include "bench.h"

#include <stdbool.h>

#include <urcu/urcu-memb.h>

void bench_register_thread(void)
{
	static _Thread_local bool registered;

	/* Both implementations default to liburcu memb, which must see a
	 * thread registered exactly once. */
	if (!registered) {
		urcu_memb_register_thread();
		registered = true;
	}
}
