/* SPDX-License-Identifier: MIT */
/* The default struct memslots_rcu, on liburcu's memb flavor. */
#ifndef MS_RCU_DEFAULT_H
#define MS_RCU_DEFAULT_H

#include <memslots/memslots.h>

extern const struct memslots_rcu ms_rcu_urcu_memb;

#endif /* MS_RCU_DEFAULT_H */
