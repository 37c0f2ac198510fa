/* SPDX-License-Identifier: MIT */
/*
 * Force-include this header (-include msarr_as_memslots.h) to compile a
 * source written against <memslots/memslots.h> against the array baseline:
 * every libmemslots function and opaque type name becomes its msarr_ one.
 * The public header is included first, under its real names, so its own
 * include guard makes the source's later #include a no-op.
 */
#ifndef MSARR_AS_MEMSLOTS_H
#define MSARR_AS_MEMSLOTS_H

#include <memslots/memslots.h>

#include "msarr.h"

/* Lets a source tell which implementation it was built against. */
#define MEMSLOTS_IMPL_IS_ARRAY	   1

#define memslots		   msarr
#define memslots_set		   msarr_set
#define memslots_new		   msarr_new
#define memslots_free		   msarr_free
#define memslots_set_region	   msarr_set_region
#define memslots_apply		   msarr_apply
#define memslots_reader_register   msarr_reader_register
#define memslots_reader_unregister msarr_reader_unregister
#define memslots_read_lock	   msarr_read_lock
#define memslots_read_unlock	   msarr_read_unlock
#define memslots_find_gfn	   msarr_find_gfn
#define memslots_find_gfn_approx   msarr_find_gfn_approx
#define memslots_find_id	   msarr_find_id
#define memslots_find_gfn_cached   msarr_find_gfn_cached
#define memslots_first		   msarr_first
#define memslots_next		   msarr_next
#define memslots_gfn_range_first   msarr_gfn_range_first
#define memslots_gfn_range_next	   msarr_gfn_range_next
#define memslots_hva_range_first   msarr_hva_range_first
#define memslots_hva_range_next	   msarr_hva_range_next
#define memslots_gfn_to_hva	   msarr_gfn_to_hva
#define memslots_generation	   msarr_generation
#define memslots_count		   msarr_count
#define memslots_nr_pages	   msarr_nr_pages
#define memslots_page_shift	   msarr_page_shift
#define memslots_max_slots	   msarr_max_slots
#define memslots_strerror	   msarr_strerror
#define memslots_version_string	   msarr_version_string

#endif /* MSARR_AS_MEMSLOTS_H */
