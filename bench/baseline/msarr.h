/* SPDX-License-Identifier: MIT */
/*
 * msarr: the array baseline of the libmemslots benchmarks.
 *
 * The memslot scheme KVM used before the 2021 "scalable memslots" rework,
 * rebuilt behind the libmemslots API contract: the same requests, the same
 * validation rules in the same order, the same hooks, batches and reader
 * guarantees, but the old data structure:
 *
 *  - one array of slots, sorted by descending base_gfn, per published set;
 *  - an id -> array index table with max_slots entries;
 *  - every change copies the whole set (header, id table and array) and
 *    inserts or removes by shifting;
 *  - DELETE and MOVE first publish a copy with the slot marked
 *    MEMSLOT_INVALID (two publications, as the tree engine);
 *  - gfn lookups: a last-used index, then a binary search;
 *  - hva ranges: a linear scan.
 *
 * Every function is the libmemslots function of the same name with the
 * "memslots_" prefix replaced by "msarr_"; the opaque types are struct msarr
 * and struct msarr_set.  The public value types (struct memslot,
 * memslots_region, memslots_config, memslots_ops, memslots_rcu,
 * memslots_cache) are shared with <memslots/memslots.h>.  Include
 * "msarr_as_memslots.h" to compile code written against the libmemslots
 * names against this baseline instead.
 *
 * Internal to the benchmarks and tests; not installed.
 */
#ifndef MSARR_H
#define MSARR_H

#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#ifdef __cplusplus
extern "C" {
#endif

struct msarr;
struct msarr_set;

struct msarr *msarr_new(const struct memslots_config *cfg);
void msarr_free(struct msarr *ms);

int msarr_set_region(struct msarr *ms, const struct memslots_region *r);
int msarr_apply(struct msarr *ms, const struct memslots_region *r, size_t n, size_t *failed_index);

void msarr_reader_register(struct msarr *ms);
void msarr_reader_unregister(struct msarr *ms);
const struct msarr_set *msarr_read_lock(struct msarr *ms);
void msarr_read_unlock(struct msarr *ms);

const struct memslot *msarr_find_gfn(const struct msarr_set *set, uint64_t gfn);
const struct memslot *msarr_find_gfn_approx(const struct msarr_set *set, uint64_t gfn);
const struct memslot *msarr_find_id(const struct msarr_set *set, uint16_t id);
const struct memslot *msarr_find_gfn_cached(const struct msarr_set *set,
					    struct memslots_cache *cache, uint64_t gfn);

const struct memslot *msarr_first(const struct msarr_set *set);
const struct memslot *msarr_next(const struct msarr_set *set, const struct memslot *slot);

const struct memslot *msarr_gfn_range_first(const struct msarr_set *set, uint64_t gfn_start,
					    uint64_t gfn_end);
const struct memslot *msarr_gfn_range_next(const struct msarr_set *set, const struct memslot *slot,
					   uint64_t gfn_start, uint64_t gfn_end);
const struct memslot *msarr_hva_range_first(const struct msarr_set *set, uint64_t hva_start,
					    uint64_t hva_last);
const struct memslot *msarr_hva_range_next(const struct msarr_set *set, const struct memslot *slot,
					   uint64_t hva_start, uint64_t hva_last);

uint64_t msarr_gfn_to_hva(const struct msarr_set *set, uint64_t gfn);
uint64_t msarr_generation(const struct msarr_set *set);
size_t msarr_count(const struct msarr_set *set);
uint64_t msarr_nr_pages(const struct msarr_set *set);

unsigned int msarr_page_shift(const struct msarr *ms);
unsigned int msarr_max_slots(const struct msarr *ms);
const char *msarr_strerror(int err);
const char *msarr_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* MSARR_H */
