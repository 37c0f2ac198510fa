/* SPDX-License-Identifier: MIT */
#include "ts_rwlock_rcu.h"

#include <pthread.h>

static pthread_rwlock_t ts_rw;

static void ts_rw_read_lock(void)
{
	pthread_rwlock_rdlock(&ts_rw);
}

static void ts_rw_read_unlock(void)
{
	pthread_rwlock_unlock(&ts_rw);
}

static void ts_rw_synchronize(void)
{
	pthread_rwlock_wrlock(&ts_rw);
	pthread_rwlock_unlock(&ts_rw);
}

const struct memslots_rcu ts_rwlock_rcu = {
	.read_lock = ts_rw_read_lock,
	.read_unlock = ts_rw_read_unlock,
	.synchronize = ts_rw_synchronize,
};

void ts_rwlock_rcu_init(void)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	/* Writer-preferring, so a stream of readers cannot starve synchronize. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&ts_rw, &attr);
	pthread_rwlockattr_destroy(&attr);
}
