/* SPDX-License-Identifier: MIT */
/*
 * The validation tests' shorthands: the tables' page size and limits,
 * the flag and change names, and the guest_memfd ones of the v2 table;
 * and the cases test_validation_config.c adds to the suite.
 */
#ifndef MS_VALIDATION_SHORTHANDS_H
#define MS_VALIDATION_SHORTHANDS_H

#include <stdbool.h>
#include <stdint.h>

#include <check.h>

#include <memslots/memslots.h>

#include "model.h"

#define P	 0x1000ull /* page size of the table's config */
#define G(n)	 ((uint64_t)(n)*P)
#define LIM	 ((1ull << 47) - 4096)
#define TOP	 0ull /* 2^64 wraps to 0: TOP - x is 2^64 - x */
#define MAXNP	 MEMSLOTS_MAX_NR_PAGES
#define MAXID	 512u
#define LOG	 MEMSLOT_LOG_DIRTY_PAGES
#define RO	 MEMSLOT_READONLY
#define NEW_HVA	 0x40000000ull
#define NO_CHG	 TS_MODEL_NOOP
#define CREATE	 MEMSLOTS_CREATE
#define DELETE	 MEMSLOTS_DELETE
#define MOVE	 MEMSLOTS_MOVE
#define FLAGS	 MEMSLOTS_FLAGS_ONLY
#define LIMITED	 false
#define NO_LIMIT true

#define GMEM	MEMSLOT_GUEST_MEMFD
#define GMEM_HVA 0x48000000ull

/* The cases of the bad_configs and null_args TCases (test_validation_config.c). */
void validation_add_config_cases(Suite *s);

#endif /* MS_VALIDATION_SHORTHANDS_H */
