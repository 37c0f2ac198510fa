/* SPDX-License-Identifier: MIT */
/*
 * A struct memslots_rcu made of one writer-preferring pthread rwlock: a
 * read-side section holds it shared, synchronize() takes it exclusive once,
 * so it returns only after every section that began before it has ended.
 * Slower than liburcu, but ThreadSanitizer understands a rwlock, where it
 * cannot see liburcu's grace periods: the concurrency tests and the
 * stress program use it under TSan.  One lock for the whole program.
 */
#ifndef TS_RWLOCK_RCU_H
#define TS_RWLOCK_RCU_H

#include <memslots/memslots.h>

extern const struct memslots_rcu ts_rwlock_rcu;

/* Initializes the lock; once, before ts_rwlock_rcu is used. */
void ts_rwlock_rcu_init(void);

#endif /* TS_RWLOCK_RCU_H */
