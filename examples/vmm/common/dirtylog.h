/* SPDX-License-Identifier: MIT */
/*
 * Dirty page logging as the example VMM does it: every slot that logs
 * dirty pages (MEMSLOT_LOG_DIRTY_PAGES, set with the library's writers,
 * so that KVM is told from the prepare hook) carries the library's
 * bitmap (config.dirty_log, vm_open()), and that bitmap is the one place
 * where the dirty pages of the slot meet:
 *
 *   what the VMM's devices write   dirtylog_mark(), from guestmem's write
 *                                  paths: KVM never sees those writes;
 *   what the guest's vCPUs write   dirtylog_sync_kvm(): KVM's log of the
 *                                  slot (KVM_GET_DIRTY_LOG, and
 *                                  KVM_CLEAR_DIRTY_LOG under manual
 *                                  protection) ORed into the bitmap;
 *   what a migration sends         dirtylog_collect(): the union, taken
 *                                  out of the bitmap word by word.
 *
 * These are the only calls the example makes to the library's dirty
 * logging readers.
 *
 * Locking: all are readers of the library: the caller holds a read-side
 * section on @set (its thread registered with memslots_reader_register()).
 * Marks, syncs and collects run concurrently on any threads: the
 * library's bitmap words are updated atomically, so a page marked while a
 * collect runs is in that collect's result or the next one's.
 */
#ifndef VMM_DIRTYLOG_H
#define VMM_DIRTYLOG_H

#include <stdbool.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "kvm.h"

/* The 64-bit words of a bitmap for @npages pages (KVM's layout). */
static inline uint64_t dirtylog_words(uint64_t npages)
{
	return (npages + 63) / 64;
}

/*
 * Marks dirty the pages the bytes [@gpa, @gpa + @len) touch, in the slots
 * of @set that hold them and have a bitmap, looking the first one up
 * through @cache (the calling thread's).  Returns the pages marked (0 when
 * no slot logs; a page already dirty counts).
 */
uint64_t dirtylog_mark(const struct memslots_set *set, struct memslots_cache *cache, uint64_t gpa,
		       uint64_t len);

/*
 * Takes KVM's log of slot @s (a slot of @set, id as KVM knows it, address
 * space 0) into @scratch (dirtylog_words(s->npages) words) and, when
 * @merge, ORs it into the library's bitmap of @s.  Under manual
 * protection (@kvm->manual_dirty_log) KVM_GET_DIRTY_LOG only reads the
 * log, so the pages it returned are cleared (and write-protected again)
 * with KVM_CLEAR_DIRTY_LOG before the caller copies them: a write after
 * that is logged for the next call.  @merge false drops KVM's pages: a
 * migration that does so must miss some (the example's negative check).
 * Returns the number of pages KVM reported, or -errno.
 */
int64_t dirtylog_sync_kvm(struct kvm_vm *kvm, const struct memslots_set *set,
			  const struct memslot *s, uint64_t *scratch, bool merge);

/*
 * Moves the dirty bits of all of slot @s into @bitmap (ORed in,
 * dirtylog_words(s->npages) words) and clears them in the library's
 * bitmap.  Returns the number of pages taken, or -errno (-EINVAL: the slot
 * has no bitmap).
 */
int64_t dirtylog_collect(const struct memslots_set *set, const struct memslot *s, uint64_t *bitmap);

#endif /* VMM_DIRTYLOG_H */
