/* SPDX-License-Identifier: MIT */
/*
 * The default RCU: liburcu's memb flavor, which needs no signals and no
 * quiescent-state reports, only registered reader threads.  The wrappers
 * exist because liburcu's entry points are not guaranteed to be plain
 * functions with these exact types.
 */
#include "rcu_default.h"

#include <urcu/urcu-memb.h>

/*
 * liburcu's memb flavor is one domain per process and refuses a second
 * registration of the same thread, but a VMM with two address spaces (two
 * struct memslots, e.g. for SMM) registers each vCPU thread with both.
 * Count registrations per thread and talk to liburcu on the first and last.
 */
static _Thread_local unsigned int ms_urcu_registrations;

static void ms_urcu_register(void)
{
	if (ms_urcu_registrations++ == 0)
		urcu_memb_register_thread();
}

static void ms_urcu_unregister(void)
{
	if (ms_urcu_registrations == 0)
		return; /* unbalanced: ignore rather than corrupt liburcu's list */
	if (--ms_urcu_registrations == 0)
		urcu_memb_unregister_thread();
}

bool ms_rcu_urcu_registered(void)
{
	return ms_urcu_registrations != 0;
}

static void ms_urcu_read_lock(void)
{
	urcu_memb_read_lock();
}

static void ms_urcu_read_unlock(void)
{
	urcu_memb_read_unlock();
}

static void ms_urcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
}

const struct memslots_rcu ms_rcu_urcu_memb = {
	.register_thread = ms_urcu_register,
	.unregister_thread = ms_urcu_unregister,
	.read_lock = ms_urcu_read_lock,
	.read_unlock = ms_urcu_read_unlock,
	.synchronize = ms_urcu_synchronize,
};
