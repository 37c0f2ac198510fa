/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical memory as the VMM's code sees it: every access is
 * translated by the library (memslots_gpa_to_hva_cached(), and _write()
 * for stores, on a cache of the caller's own), one slot at a time, so a
 * range that crosses slot boundaries (each slot being its own host
 * mapping) is copied in pieces.
 *
 * Locking: one struct guestmem per thread (its cache and counters are not
 * shared); the thread must be registered as a reader of @ms.  Each call
 * takes its own read-side section.
 */
#ifndef VMM_GUESTMEM_H
#define VMM_GUESTMEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

struct guestmem {
	struct memslots *ms;
	struct memslots_cache cache; /* this thread's lookup cache */
	unsigned long translations;  /* memslots_gpa_to_hva_cached/_write() calls */
	unsigned long cache_hits;    /* ... answered by the cache */
	unsigned long split_copies;  /* copies that spanned two or more slots */
	/* Pages the writes marked dirty in the library's bitmaps (slots that
	 * log dirty pages only): KVM never sees what the VMM writes. */
	unsigned long marked_pages;
	/* Writes made, in pieces of one slot each, marked or not: the one
	 * field other threads may read (atomically; the pre-copy waits for the
	 * devices to have written during its rounds). */
	atomic_ulong writes;
	/* Debug (vmm-linux --precopy-skip marks): the writes mark nothing, so
	 * that a migration must miss what the devices wrote. */
	bool skip_marks;
};

/* Copies @len bytes at guest-physical @gpa into @buf; 0, or -EFAULT when
 * part of the range is in no valid slot (then @buf is partly filled). */
int guestmem_read(struct guestmem *g, uint64_t gpa, void *buf, size_t len);

/* Copies @buf to guest-physical @gpa; 0 or -EFAULT as guestmem_read(), a
 * read-only slot included.  The pages written are marked dirty
 * (dirtylog_mark()) after each piece is copied, in the same read-side
 * section: a migration that collects a mark finds the bytes. */
int guestmem_write(struct guestmem *g, uint64_t gpa, const void *buf, size_t len);

/* Fills @len bytes at @gpa with zeroes; 0 or -EFAULT; marked as a write. */
int guestmem_zero(struct guestmem *g, uint64_t gpa, size_t len);

/*
 * The guest-physical range of slot @s of @ms in bytes, as KVM was told
 * it (memslots_change_to_region2()'s request for it); @s is a slot of a
 * set the caller holds.
 */
void guestmem_slot_range(const struct memslots *ms, const struct memslot *s, uint64_t *gpa,
			 uint64_t *size);

#endif /* VMM_GUESTMEM_H */
