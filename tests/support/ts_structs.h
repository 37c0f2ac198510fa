/* SPDX-License-Identifier: MIT */
/* What only the tests ask of the library's structures. */
#ifndef TS_STRUCTS_H
#define TS_STRUCTS_H

#include <stddef.h>

#include "idhash.h"
#include "rbtree.h"

/* A static description of a red-black validator result (MS_RB_E*). */
const char *ms_rb_strerror(int err);

/* The shape of an id hash: how full, how long its chains. */
struct ms_hash_stats {
	size_t buckets;
	size_t count;
	size_t used_buckets; /* non-empty buckets */
	size_t max_chain;    /* longest chain */
};

void ms_hash_get_stats(const struct ms_hash *h, struct ms_hash_stats *st);

#endif /* TS_STRUCTS_H */
