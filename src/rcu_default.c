/* SPDX-License-Identifier: MIT */
/*
 * The default RCU: liburcu's memb flavor, which needs no signals and no
 * quiescent-state reports, only registered reader threads.  The wrappers
 * exist because liburcu's entry points are not guaranteed to be plain
 * functions with these exact types.
 */
#include "rcu_default.h"

#include <pthread.h>
#include <stdbool.h>

#include <urcu/urcu-memb.h>
/* For urcu_memb_reader.registered only: liburcu's per-thread reader state,
 * part of its ABI since the inline (_LGPL_SOURCE) fast paths use it. */
#include <urcu/static/urcu-memb.h>

/*
 * liburcu's memb flavor is one domain per process and refuses a second
 * registration of the same thread, but a VMM with two address spaces (two
 * struct memslots, e.g. for SMM) registers each vCPU thread with both.
 * Count registrations per thread and talk to liburcu on the first and last.
 *
 * Two mistakes are made safe rather than left to corrupt liburcu: a thread
 * that enters a read-side section without registering is registered then
 * (an unregistered reader is one no grace period waits for), and a thread
 * that exits still registered is unregistered by a thread-exit destructor
 * (liburcu's registry would otherwise keep a pointer into its dead TLS).
 * A thread the application registered with liburcu itself is left to it.
 */
static _Thread_local unsigned int ms_urcu_registrations;
static _Thread_local bool ms_urcu_owned; /* we, not the application, registered it */
static pthread_key_t ms_urcu_exit_key;
static pthread_once_t ms_urcu_exit_once = PTHREAD_ONCE_INIT;

/* Whether liburcu has this thread registered, by us or by the application
 * (which may use liburcu's memb flavor for its own data too). */
static bool ms_urcu_thread_known(void)
{
	return URCU_TLS(urcu_memb_reader).registered;
}

static void ms_urcu_thread_exit(void *unused)
{
	(void)unused;
	if (ms_urcu_owned) {
		ms_urcu_owned = false;
		ms_urcu_registrations = 0;
		urcu_memb_unregister_thread();
	}
}

static void ms_urcu_make_exit_key(void)
{
	/* On failure (no keys left) threads must unregister themselves. */
	if (pthread_key_create(&ms_urcu_exit_key, ms_urcu_thread_exit))
		ms_urcu_exit_key = (pthread_key_t)-1;
}

static void ms_urcu_register(void)
{
	if (ms_urcu_registrations++ != 0 || ms_urcu_thread_known())
		return;
	urcu_memb_register_thread();
	ms_urcu_owned = true;
	pthread_once(&ms_urcu_exit_once, ms_urcu_make_exit_key);
	if (ms_urcu_exit_key != (pthread_key_t)-1)
		pthread_setspecific(ms_urcu_exit_key, &ms_urcu_registrations);
}

static void ms_urcu_unregister(void)
{
	if (ms_urcu_registrations == 0)
		return; /* unbalanced: ignore rather than corrupt liburcu's list */
	if (--ms_urcu_registrations == 0 && ms_urcu_owned) {
		ms_urcu_owned = false;
		urcu_memb_unregister_thread();
	}
}

static void ms_urcu_read_lock(void)
{
	/* Registered until the thread exits, see above. */
	if (__builtin_expect(!ms_urcu_registrations, 0) && !ms_urcu_thread_known())
		ms_urcu_register();
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
