/* SPDX-License-Identifier: MIT */
/**
 * @file memslots.h
 * @brief libmemslots: scalable guest memory slots for virtual machine monitors.
 *
 * The umbrella header: everything public is declared here or in a header
 * it includes.
 *
 * A memslot maps a range of guest frame numbers (gfns) to host virtual
 * memory.  A struct memslots holds the slots of one guest address space in
 * two sets; readers use the active one without locks while the writer
 * changes the inactive one and publishes it RCU-style.
 *
 * Locking.  Every function says in a "Locking:" line who may call it,
 * from which context, and what it waits for.  There are five kinds:
 *
 *  - Writers: memslots_set_region(), memslots_set_region2(),
 *    memslots_apply(), memslots_apply2(), memslots_create_region(),
 *    memslots_create_region2() and memslots_set_attributes(), which
 *    publish a new set, and memslots_lowest_free_id(), which only reads
 *    the writer's state.  Any thread, registered as a reader or not.  They
 *    serialize on the object's writer mutex, and those that publish wait
 *    for grace periods (the configured RCU's synchronize) before they
 *    return.  So a writer refuses, with -EDEADLK and nothing changed, when
 *    the calling thread is inside a read-side section (of any struct
 *    memslots: the depth is counted per thread) or inside a hook of the
 *    same @c ms (it already holds the mutex).  From a hook of another
 *    object a writer works; keeping two objects' hooks from calling each
 *    other's writers in opposite orders on two threads (a lock-order
 *    deadlock the library does not detect) is the caller's.
 *  - Read-side sections: memslots_reader_register(),
 *    memslots_reader_unregister(), memslots_read_lock() and
 *    memslots_read_unlock(), on the calling thread's behalf.  Never wait
 *    for a grace period; allowed from hooks.
 *  - Readers: the lookups and translations that take a
 *    const struct memslots_set *.  Only inside the read-side section that
 *    returned the set, while it is open; lock-free, concurrent with
 *    each other and with a writer; they never block or allocate, and
 *    store only to the set's last-used slot (a relaxed atomic), to the
 *    caller's struct memslots_cache, or, for the dirty-logging readers
 *    (memslots_dirty_mark() and its kin), atomically to a slot's dirty
 *    bitmap.  Allowed from hooks, inside a
 *    section the hook entered (and left before it returns).
 *  - Configuration and conversions: memslots_page_shift(),
 *    memslots_max_slots(), memslots_index(), memslots_change_to_region(),
 *    memslots_change_to_region2(), memslots_abort_to_region(),
 *    memslots_abort_to_region2(), memslots_strerror() and
 *    memslots_version_string().  No lock, no wait; any thread, any
 *    context, hooks included.
 *  - Lifetime: memslots_new(), on any thread; memslots_free(), which must
 *    not race with any other call on the object and refuses (errno
 *    EDEADLK) where a writer would.
 *
 * Hooks (struct memslots_ops) run on the writer's thread, with the
 * writer mutex held and outside any read-side section: the -EDEADLK
 * rules above apply to them.
 */
#ifndef MEMSLOTS_MEMSLOTS_H
#define MEMSLOTS_MEMSLOTS_H

#include <stddef.h>
#include <stdint.h>

#include <memslots/export.h>
#include <memslots/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Dirty-page logging requested; same bit as KVM_MEM_LOG_DIRTY_PAGES. */
#define MEMSLOT_LOG_DIRTY_PAGES (1u << 0)
/** Guest writes fault; same bit as KVM_MEM_READONLY. */
#define MEMSLOT_READONLY (1u << 1)
/**
 * The slot's memory is a range of a guest_memfd (KVM_CREATE_GUEST_MEMFD);
 * same bit as KVM_MEM_GUEST_MEMFD.  Only through memslots_set_region2()
 * and memslots_apply2(); never with LOG_DIRTY_PAGES or READONLY.
 */
#define MEMSLOT_GUEST_MEMFD (1u << 2)
/** Set by the library on the published copy of a slot being deleted or moved. */
#define MEMSLOT_INVALID (1u << 16)

/** A gfn's memory is private to the guest; same bit as KVM_MEMORY_ATTRIBUTE_PRIVATE. */
#define MEMSLOTS_ATTR_PRIVATE (1ull << 3)

/** Default number of slot ids (KVM x86: SHRT_MAX - 3). */
#define MEMSLOTS_DEFAULT_MAX_SLOTS 32764u
/** Largest slot in pages (KVM_MEM_MAX_NR_PAGES). */
#define MEMSLOTS_MAX_NR_PAGES ((1ull << 31) - 1)
/** What memslots_gfn_to_hva() returns for no valid slot (like KVM_HVA_ERR_BAD). */
#define MEMSLOTS_HVA_BAD (~0ull)

/**
 * A request, with the same field order and types as
 * struct kvm_userspace_memory_region, so a VMM can pass the same request
 * to KVM and to the library.
 */
struct memslots_region {
	uint32_t slot;            /**< bits 0-15: slot id; bits 16-31: the config's as_id */
	uint32_t flags;           /**< MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY */
	uint64_t guest_phys_addr; /**< bytes, page aligned */
	uint64_t memory_size;     /**< bytes, page aligned; 0 deletes the slot */
	uint64_t userspace_addr;  /**< bytes, page aligned */
};

/**
 * A request of the KVM 6.x surface, with the same field order, types and
 * size as struct kvm_userspace_memory_region2 (KVM_SET_USER_MEMORY_REGION2),
 * so a VMM can pass the same request to KVM and to the library.  The
 * first five fields are those of struct memslots_region.
 */
struct memslots_region2 {
	uint32_t slot;               /**< bits 0-15: slot id; bits 16-31: the config's as_id */
	uint32_t flags;              /**< LOG_DIRTY_PAGES | READONLY, or GUEST_MEMFD alone */
	uint64_t guest_phys_addr;    /**< bytes, page aligned */
	uint64_t memory_size;        /**< bytes, page aligned; 0 deletes the slot */
	uint64_t userspace_addr;     /**< bytes, page aligned */
	uint64_t guest_memfd_offset; /**< bytes, page aligned; with GUEST_MEMFD only */
	uint32_t guest_memfd;        /**< a file descriptor number; with GUEST_MEMFD only */
	uint32_t pad1;               /**< ignored, as KVM ignores it */
	uint64_t pad2[14];           /**< ignored, as KVM ignores it */
};

/**
 * A memslot as readers see it.  A slot reachable from a published set is
 * never modified in place, so readers never see a torn slot.  The library
 * allocates slots; the private linkage lives after these fields.
 */
struct memslot {
	uint64_t base_gfn;
	uint64_t npages;
	uint64_t userspace_addr;
	uint32_t flags; /**< may include MEMSLOT_INVALID while being deleted or moved */
	uint16_t id;
	void *priv;     /**< the embedder's per-slot data (KVM's "arch") */
	/** First byte of the guest_memfd range; 0 unless flags has GUEST_MEMFD. */
	uint64_t guest_memfd_offset;
	/** The guest_memfd's fd number; 0 unless flags has GUEST_MEMFD. */
	uint32_t guest_memfd;
};

/**
 * A request of memslots_set_attributes(), with the same field order and
 * types as struct kvm_memory_attributes (KVM_SET_MEMORY_ATTRIBUTES), so a
 * VMM can pass the same request to KVM and to the library.
 */
struct memslots_attributes {
	uint64_t address;    /**< bytes, page aligned: the first guest physical address */
	uint64_t size;       /**< bytes, page aligned, not 0 */
	uint64_t attributes; /**< the word every page of the range gets (MEMSLOTS_ATTR_*) */
	uint64_t flags;      /**< must be 0 */
};

/** What a request does to the slot it names. */
enum memslots_change {
	MEMSLOTS_CREATE,
	MEMSLOTS_DELETE,
	MEMSLOTS_MOVE,
	MEMSLOTS_FLAGS_ONLY,
};

/**
 * Hooks that keep an embedder (a VMM, KVM itself) in step with the library.
 * All are optional (NULL).
 *
 * Locking: prepare, abort, invalidate, commit and set_attributes run
 * inside a writer call, on its thread, with the object's writer mutex
 * held; release runs inside memslots_free().  None runs inside a
 * read-side section.  A hook may enter read-side sections and use the
 * readers (leaving every section it entered before it returns), use the
 * configuration and conversion functions, and call writers of other
 * objects.  A writer of the same object returns -EDEADLK and
 * memslots_free() of it refuses (errno EDEADLK): both would wait for the
 * call the hook is part of.
 */
struct memslots_ops {
	/**
	 * Before a change becomes visible.  old is NULL for CREATE, new is
	 * NULL for DELETE.  new->priv starts as NULL for CREATE and as
	 * old->priv otherwise; prepare may set it, and the published slot
	 * carries what it set.  A negative errno aborts the whole call: state
	 * unchanged, that errno is returned.  A prepare that changes any other
	 * field of new fails the call with -EINVAL (and is aborted like the
	 * other prepared changes).  (The parameters are named old_slot and
	 * new_slot only so that the header compiles as C++.)
	 */
	int (*prepare)(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		       enum memslots_change change);
	/**
	 * For each change whose prepare succeeded, in reverse order, when the
	 * call is rolled back (a later prepare failed, or memory ran out).
	 *
	 * The exact rule.  A call checks, allocates the memory of and
	 * prepares its requests one at a time, in order (all of a request's
	 * memory before its own prepare); it can fail only there, before
	 * anything is published.  When it fails, abort runs, newest first,
	 * for each change of the call whose prepare returned >= 0, with the
	 * same old, new (and the priv prepare set) and change as that
	 * prepare; a prepare that failed (< 0) gets no abort of its own.  So:
	 *  - a one-request call (memslots_set_region(),
	 *    memslots_set_region2(), memslots_create_region(),
	 *    memslots_create_region2()) aborts only a prepare that returned
	 *    >= 0 but changed a field of new other than priv (the call then
	 *    fails with -EINVAL): its memory was allocated before its prepare,
	 *    and nothing after a successful prepare can fail;
	 *  - a batch (memslots_apply(), memslots_apply2()) aborts the changes
	 *    of requests 0 .. k-1 whose prepare succeeded when request k
	 *    fails: a rule (an id named twice included), -ENOMEM for its
	 *    memory, its prepare's errno, or its prepare overstepping as above
	 *    (then k's change is aborted too, first).  A failure before the
	 *    first request (the batch's own -ENOMEM, bad arguments, -EDEADLK)
	 *    calls no hook at all;
	 *  - once every prepare of a call has succeeded the call succeeds:
	 *    no abort ever follows an invalidate or a commit hook.
	 * Requests that change nothing have no change and get no hook.
	 */
	void (*abort)(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		      enum memslots_change change);
	/**
	 * After the change is published and readers of the previous set are
	 * gone.  old is NULL for CREATE, new is NULL for DELETE.
	 */
	void (*commit)(void *opaque, const struct memslot *old_slot,
		       const struct memslot *new_slot, enum memslots_change change);
	/**
	 * For DELETE and MOVE: called with the published copy of the slot,
	 * whose flags include MEMSLOT_INVALID, once no reader can still see
	 * the slot valid; flush what was derived from it (KVM's
	 * kvm_arch_flush_shadow_memslot).
	 */
	void (*invalidate)(void *opaque, const struct memslot *slot);
	/** From memslots_free(), once for each slot still present. */
	void (*release)(void *opaque, struct memslot *slot);
	/**
	 * From memslots_set_attributes(), once the request is valid, its
	 * memory allocated and it is known to change something, before the
	 * change is published: where a VMM issues KVM_SET_MEMORY_ATTRIBUTES.
	 * A negative errno aborts the call: nothing changed, that errno is
	 * returned.  Not called for a call that changes nothing.
	 */
	int (*set_attributes)(void *opaque, const struct memslots_attributes *a);
};

/**
 * How readers and the writer synchronize.  NULL in the config selects the
 * default, built on liburcu's memb flavor.  An embedder with its own RCU
 * (QEMU, say) supplies its own.
 */
struct memslots_rcu {
	void (*register_thread)(void);   /**< may be NULL */
	void (*unregister_thread)(void); /**< may be NULL */
	void (*read_lock)(void);
	void (*read_unlock)(void);
	void (*synchronize)(void); /**< waits until every earlier reader has left */
};

/**
 * The gfn and id index of an object (memslots_config.index).  Every
 * observable behaviour is the same for every index: the results and
 * errors of every call, the hook calls and their order, the slots
 * published, iteration order, attributes.  Only time and memory differ.
 */
#define MEMSLOTS_INDEX_DEFAULT 0u /**< the library's fastest (today MEMSLOTS_INDEX_BTREE) */
/** KVM's since Linux 5.17: gfn red-black tree, id hash of 128 buckets */
#define MEMSLOTS_INDEX_KVM   1u
#define MEMSLOTS_INDEX_BTREE 2u /**< the B+tree gfn index and the id table */

/**
 * memslots_config.dirty_log: keep a dirty bitmap for every slot with
 * MEMSLOT_LOG_DIRTY_PAGES, as KVM keeps one in struct kvm_memory_slot.
 */
#define MEMSLOTS_DIRTY_BITMAP (1u << 0)
/**
 * memslots_config.dirty_log, with MEMSLOTS_DIRTY_BITMAP: a new bitmap
 * starts with every page dirty (KVM_DIRTY_LOG_INITIALLY_SET), not clear.
 */
#define MEMSLOTS_DIRTY_INITIALLY_SET (1u << 1)

/** Configuration of memslots_new(); a zeroed config selects every default. */
struct memslots_config {
	unsigned int page_shift;        /**< 0: 12 (4 KiB); valid 10..30 */
	unsigned int max_slots;         /**< 0: MEMSLOTS_DEFAULT_MAX_SLOTS; valid 1..65536 */
	const struct memslots_ops *ops; /**< NULL: no hooks */
	void *opaque;                   /**< passed to every hook */
	const struct memslots_rcu *rcu; /**< NULL: liburcu memb */
	/** NULL: malloc; every allocation of the library goes through it */
	void *(*alloc)(size_t size, void *alloc_opaque);
	void (*free)(void *ptr, void *alloc_opaque); /**< NULL: free */
	void *alloc_opaque;
	/** 0: no limit but wraparound; KVM on x86-64 refuses hva + size > (1ull << 47) - 4096 */
	uint64_t hva_limit;
	/**
	 * The flags requests may use; 0: LOG_DIRTY_PAGES | READONLY |
	 * GUEST_MEMFD.  LOG_DIRTY_PAGES is always allowed.  (KVM allows
	 * READONLY only where the architecture and VM type support it,
	 * GUEST_MEMFD only for VM types with guest_memfd.)
	 */
	uint32_t allowed_flags;
	/**
	 * The address space this object mirrors (KVM x86: 0, or 1 for SMM);
	 * 0 by default.  Every request, v1 or v2, must carry it in bits 16-31
	 * of its slot field (slot >> 16 == as_id), else it fails with -EINVAL.
	 */
	uint16_t as_id;
	/**
	 * The attribute bits memslots_set_attributes() accepts; 0:
	 * MEMSLOTS_ATTR_PRIVATE.  (KVM's kvm_supported_mem_attributes().)
	 */
	uint64_t supported_attributes;
	/**
	 * The index: MEMSLOTS_INDEX_DEFAULT (0), _KVM or _BTREE; any other
	 * value makes memslots_new() fail with errno EINVAL.  KVM's keeps,
	 * per set, what struct kvm_memslots keeps: a red-black tree of slots
	 * by base_gfn, the hva interval tree, a hash of 128 chains by id and
	 * the last-used slot, with lookups costing what KVM's cost.
	 */
	uint32_t index;
	/**
	 * Dirty page logging (docs/api.md, "Dirty page logging"): 0, the
	 * library keeps no bitmap; MEMSLOTS_DIRTY_BITMAP, every slot with
	 * MEMSLOT_LOG_DIRTY_PAGES carries one, optionally with
	 * MEMSLOTS_DIRTY_INITIALLY_SET.  Any other value makes memslots_new()
	 * fail with errno EINVAL.
	 */
	uint32_t dirty_log;
};

struct memslots;     /**< opaque: one guest address space */
struct memslots_set; /**< opaque: one published, immutable-to-readers set */

/**
 * A per-thread (per-vCPU) lookup cache for memslots_find_gfn_cached().
 * Owned by the caller, zero-initialized with `= {0}`.  It remembers a slot
 * together with the set and the generation it came from and trusts it only
 * for that same set at that same generation, so it never returns a stale
 * slot, even when one thread uses one cache with several memslots objects.
 * A cache must not outlive the memslots object it was used with.
 */
struct memslots_cache {
	uint64_t generation;
	const struct memslot *slot;
	const struct memslots_set *set; /**< the slot's set: generations are per object */
};

/* ---- Lifetime ---------------------------------------------------------- */

/**
 * Creates an empty address space.
 *
 * @param cfg the configuration, copied; NULL selects every default.
 * @return the new object, or NULL with errno set to EINVAL (a config value
 *         out of range, or an rcu without read_lock, read_unlock or
 *         synchronize, or only one of alloc/free) or ENOMEM.
 *
 * Locking: none: the object is not shared until this returns.  Any
 * thread, any context, hooks included; waits for nothing.
 */
MEMSLOTS_API struct memslots *memslots_new(const struct memslots_config *cfg);

/**
 * Frees the address space and every slot still in it, calling the release
 * hook once for each such slot (in ascending base_gfn order).  NULL is a
 * no-op.
 *
 * Refusal: called from one of @p ms's own hooks, or while the calling
 * thread is inside a read-side section (of any object), it returns at
 * once with errno set to EDEADLK, calls no hook and frees nothing: the
 * object is still in use on this thread, and stays whole and usable, so
 * a later memslots_free() from outside the hook or section frees it.
 * memslots_destroy() is the same with the outcome as its return value.
 *
 * Locking: exclusive: no other call on @p ms may be running, on any
 * thread, none may follow a call that frees it, and no other thread may
 * be inside a read-side section of it; the library does not check this
 * and waits for no grace period.
 * The release hooks run as other hooks do (a writer of @p ms called from
 * one returns -EDEADLK).
 */
MEMSLOTS_API void memslots_free(struct memslots *ms);

/**
 * memslots_free() with a return value: frees @p ms as memslots_free()
 * does and returns 0 (NULL: 0, nothing to do), or refuses in the same
 * cases and returns -EDEADLK, having called no hook and freed nothing (the
 * object stays whole and usable), without touching errno.
 *
 * Locking: as memslots_free().
 */
MEMSLOTS_API int memslots_destroy(struct memslots *ms);

/* ---- Writers ----------------------------------------------------------- */

/**
 * Creates, deletes, moves or changes the flags of one slot, with the
 * semantics of KVM_SET_USER_MEMORY_REGION for one address space; the
 * validation rules and their order are those of the API contract
 * (docs/api.md).  It is memslots_set_region2() on the same request with
 * the extra fields zero, except that MEMSLOT_GUEST_MEMFD is refused, as
 * KVM's v1 ioctl refuses it; slot >> 16 must be the config's as_id.
 *
 * @return 0, or a negative errno: -EINVAL (bad request), -EEXIST (gfn
 *         overlap), -ENOMEM, -EDEADLK (called from a hook or from inside
 *         a read-side section), or what a prepare hook returned.  On
 *         failure nothing changed and nothing was published.
 *
 * Locking: a writer.  Any thread, but not while it is inside a read-side
 * section, nor from a hook of @p ms (-EDEADLK, checked after the NULL
 * checks); from a hook of another object it works.  Takes the writer
 * mutex, so it waits for any writer call of @p ms running on another
 * thread; then waits for one grace period (create, flags-only) or two
 * (delete, move), none when it fails or changes nothing.  The invalidate
 * hook runs after the first of two grace periods, commit after the last.
 */
MEMSLOTS_API int memslots_set_region(struct memslots *ms, const struct memslots_region *r);

/**
 * Applies @p n requests atomically: succeeds exactly when applying them one
 * by one with memslots_set_region() would, and a request naming an id
 * already named earlier in the same call fails with -EINVAL.  It is
 * memslots_apply2() on the same requests with the extra fields zero,
 * MEMSLOT_GUEST_MEMFD refused.  Readers see
 * the old state, then (only if something is deleted or moved) the old state
 * with those slots marked MEMSLOT_INVALID, then the new state.
 *
 * @param ms the address space.
 * @param r the requests, in order; may be NULL only when @p n is 0.
 * @param n the number of requests.
 * @param failed_index on failure, if not NULL, receives the index of the
 *        first failing request (0 for errors that belong to no request,
 *        such as -EINVAL for r == NULL with n > 0).
 * @return 0 or a negative errno as memslots_set_region(); on failure
 *         nothing changed.
 *
 * Locking: a writer, as memslots_set_region(): one grace period when
 * the requests only create and change flags, two when one of them deletes
 * or moves, whatever @p n is; none when the call fails or changes nothing.
 * With @p n == 0 it returns 0 at once, from any context, checking nothing
 * but @p ms.
 */
MEMSLOTS_API int memslots_apply(struct memslots *ms, const struct memslots_region *r, size_t n,
				size_t *failed_index);

/**
 * As memslots_set_region(), with the semantics of
 * KVM_SET_USER_MEMORY_REGION2: a request may also create a GUEST_MEMFD
 * slot, whose memory is bytes [guest_memfd_offset, guest_memfd_offset +
 * memory_size) of the guest_memfd numbered guest_memfd.  Rules added to
 * those of memslots_set_region(), in KVM's order (docs/api.md): the flags
 * must be allowed by the config, GUEST_MEMFD excludes LOG_DIRTY_PAGES and
 * READONLY; the offset is page aligned and offset + size does not wrap;
 * slot >> 16 is the config's as_id; an existing slot cannot gain or lose
 * READONLY or GUEST_MEMFD and a GUEST_MEMFD slot can only be deleted; a
 * new GUEST_MEMFD slot may not bind bytes of a guest_memfd that another
 * slot binds (-EINVAL).  Whether the fd is a guest_memfd of the right VM,
 * and whether the range fits in its size, only the kernel knows: that is
 * the prepare hook's to report.
 *
 * @return as memslots_set_region().
 *
 * Locking: a writer, as memslots_set_region(): the same contexts,
 * -EDEADLK rules and grace periods.
 */
MEMSLOTS_API int memslots_set_region2(struct memslots *ms, const struct memslots_region2 *r);

/**
 * As memslots_apply() for requests of the KVM 6.x surface: atomic, and
 * equivalent to applying them one by one with memslots_set_region2(), so
 * a slot deleted by an earlier request of the batch no longer binds its
 * guest_memfd range for a later one.
 *
 * Locking: a writer, as memslots_apply().
 */
MEMSLOTS_API int memslots_apply2(struct memslots *ms, const struct memslots_region2 *r, size_t n,
				 size_t *failed_index);

/**
 * Sets the attribute word of every page of [address, address + size) to
 * @p a->attributes, with the semantics of KVM_SET_MEMORY_ATTRIBUTES
 * (KVM's kvm_vm_ioctl_set_mem_attributes()).  Attributes belong to guest
 * physical addresses, not to slots: any range may be set, with or without
 * a slot there, and slot changes leave them alone.  Every page starts
 * with the word 0 (shared).
 *
 * Checks, in this order, each failing with -EINVAL: @p a->flags is not 0;
 * @p a->attributes has a bit outside the config's supported_attributes;
 * @p a->size is 0; address + size wraps (a sum of exactly 2^64 included,
 * as KVM computes it in 64 bits); address or size is not a multiple of
 * the page size.
 *
 * @return 0, or a negative errno: -EINVAL (bad request), -ENOMEM,
 *         -EDEADLK (called from a hook or from inside a read-side
 *         section), or what the set_attributes hook returned.  On failure
 *         nothing changed and nothing was published.
 *
 * Locking: a writer, with memslots_set_region()'s contexts and -EDEADLK
 * rules; the set_attributes hook runs with the writer mutex held.  Takes
 * the writer mutex; waits for one grace period when the call changes
 * something, none when it fails or every page already has the word (then
 * the hook is not called either).  O(log r + k log r) for r runs
 * in the map and k runs the range replaces, plus the grace period.
 */
MEMSLOTS_API int memslots_set_attributes(struct memslots *ms, const struct memslots_attributes *a);

/* ---- Readers ----------------------------------------------------------- */

/**
 * Registers the calling thread as a reader (the configured RCU's
 * register_thread).  Call once per reader thread before its first
 * memslots_read_lock().  With the default RCU, registrations are counted
 * per thread (several objects may register the same thread), and a thread
 * that exits still registered is unregistered by the library.
 *
 * Locking: read-side management, for the calling thread only.  Any
 * context, hooks included; waits for no grace period.  With the default
 * RCU the thread's first registration calls liburcu's
 * urcu_memb_register_thread(), which takes liburcu's registry mutex, and
 * inside a read-side section (where the thread is registered already) it
 * only counts; a custom RCU gets the call as made.
 */
MEMSLOTS_API void memslots_reader_register(struct memslots *ms);

/**
 * Undoes memslots_reader_register().  With the default RCU, registrations
 * are counted per thread, so a thread registered with several objects
 * stays a reader until the last unregistration, and an unregistration
 * without a registration is ignored.
 *
 * Locking: read-side management, for the calling thread only.  Any
 * context, hooks included; waits for no grace period.  While the thread
 * is inside a read-side section (of any object) it does nothing, so that
 * grace periods keep waiting for the section.  With the default RCU the
 * last unregistration calls urcu_memb_unregister_thread(), which takes
 * liburcu's registry mutex.
 */
MEMSLOTS_API void memslots_reader_unregister(struct memslots *ms);

/**
 * Enters a read-side section and returns the active set.  The set and
 * every slot reached from it stay valid and unchanged until the matching
 * memslots_read_unlock().  Sections may nest.  Returns NULL, entering no
 * section, when @p ms is NULL; every lookup treats a NULL set as empty.
 * With the default RCU, a thread that never called
 * memslots_reader_register() is registered here, until it exits.
 *
 * Locking: enters a read-side section of the calling thread.  Any
 * thread registered as a reader (with the default RCU, any thread), any
 * context, hooks included (a hook must leave the section before it
 * returns); nests; never waits for a writer or a grace period.  With the
 * default RCU it is wait-free but on an unregistered thread's first call,
 * which registers it as memslots_reader_register() does.  Until the
 * matching memslots_read_unlock(), writer calls and memslots_free() on
 * this thread refuse (-EDEADLK, errno EDEADLK).
 */
MEMSLOTS_API const struct memslots_set *memslots_read_lock(struct memslots *ms);

/**
 * Leaves the innermost read-side section of the calling thread; the set
 * and slots obtained in it must not be used afterwards.  Without a
 * matching memslots_read_lock() it does nothing.
 *
 * Locking: leaves a read-side section of the calling thread; any context,
 * hooks included; never blocks.  A writer waiting for a grace period may
 * return once every reader it waits for has left.
 */
MEMSLOTS_API void memslots_read_unlock(struct memslots *ms);

/*
 * Every lookup below is a reader: it takes a set returned by
 * memslots_read_lock() and must be called while that read-side section
 * is open; slots it returns are valid only until the section ends.  None
 * of them takes a lock, blocks or allocates; any number run concurrently
 * with each other and with a writer call, and hooks may use them inside a
 * section of their own.  A NULL set is an empty one.
 */

/**
 * The slot whose [base_gfn, base_gfn + npages) holds @p gfn, or NULL.
 * Returns MEMSLOT_INVALID slots too.  O(1) on a hit of the set's last-used
 * slot, else O(log n).
 *
 * Locking: a reader; on a miss of the last-used slot it stores the slot
 * found there (a relaxed atomic store, shared by every reader of the set).
 */
MEMSLOTS_API const struct memslot *memslots_find_gfn(const struct memslots_set *set, uint64_t gfn);

/**
 * As memslots_find_gfn() when a slot holds @p gfn; otherwise one of the two
 * slots bordering the hole (the nearest below or the nearest above), or
 * NULL when the set is empty.  O(log n).
 *
 * Locking: a reader; reads only (the last-used slot is left alone).
 */
MEMSLOTS_API const struct memslot *memslots_find_gfn_approx(const struct memslots_set *set,
							    uint64_t gfn);

/**
 * The slot with id @p id, or NULL.  O(1): two loads through the id table.
 *
 * Locking: a reader; reads only.
 */
MEMSLOTS_API const struct memslot *memslots_find_id(const struct memslots_set *set, uint16_t id);

/**
 * As memslots_find_gfn(), first trying @p cache (NULL: as
 * memslots_find_gfn()).  Never returns a slot of another set than
 * @p set.  O(1) on a hit of @p cache, else O(log n).
 *
 * Locking: a reader; stores to @p cache, which belongs to the calling
 * thread (sharing one between threads is a data race), and leaves the
 * set's last-used slot alone.
 */
MEMSLOTS_API const struct memslot *memslots_find_gfn_cached(const struct memslots_set *set,
							    struct memslots_cache *cache,
							    uint64_t gfn);

/**
 * The slot with the lowest base_gfn, or NULL when the set is empty.
 * O(log n): one descent along the B+tree's leftmost nodes.
 *
 * Locking: a reader; reads only.
 */
MEMSLOTS_API const struct memslot *memslots_first(const struct memslots_set *set);

/**
 * The slot after @p slot in ascending base_gfn, or NULL after the last.
 * @p slot must be a slot of @p set.  O(log n): one descent.
 *
 * Locking: a reader; reads only.
 */
MEMSLOTS_API const struct memslot *memslots_next(const struct memslots_set *set,
						 const struct memslot *slot);

/**
 * The first slot (lowest base_gfn) intersecting [gfn_start, gfn_end), or
 * NULL; none when gfn_end <= gfn_start.  O(log n).
 *
 * Locking: a reader; reads only.
 */
MEMSLOTS_API const struct memslot *memslots_gfn_range_first(const struct memslots_set *set,
							    uint64_t gfn_start, uint64_t gfn_end);

/**
 * The slot after @p slot intersecting [gfn_start, gfn_end), or NULL.
 * O(log n).
 *
 * Locking: a reader; reads only.
 */
MEMSLOTS_API const struct memslot *memslots_gfn_range_next(const struct memslots_set *set,
							   const struct memslot *slot,
							   uint64_t gfn_start, uint64_t gfn_end);

/**
 * A first slot whose host range [userspace_addr, userspace_addr + npages *
 * page_size - 1] intersects [hva_start, hva_last] (both inclusive), or NULL;
 * none when hva_last < hva_start.  With memslots_hva_range_next() it visits
 * each such slot exactly once, in an unspecified order, in O(log n + k).
 *
 * Locking: a reader; reads only.
 */
MEMSLOTS_API const struct memslot *memslots_hva_range_first(const struct memslots_set *set,
							    uint64_t hva_start, uint64_t hva_last);

/**
 * The next slot intersecting [hva_start, hva_last] after @p slot, or NULL.
 *
 * Locking: a reader; reads only.
 */
MEMSLOTS_API const struct memslot *memslots_hva_range_next(const struct memslots_set *set,
							   const struct memslot *slot,
							   uint64_t hva_start, uint64_t hva_last);

/**
 * userspace_addr + (gfn - base_gfn) * page_size of the slot holding @p gfn,
 * or MEMSLOTS_HVA_BAD when there is none or it is MEMSLOT_INVALID.
 *
 * Locking: a reader; finds the slot as memslots_find_gfn() does, storing
 * to the set's last-used slot on a miss of it.
 */
MEMSLOTS_API uint64_t memslots_gfn_to_hva(const struct memslots_set *set, uint64_t gfn);

/**
 * The set's generation: different for every set ever published by the
 * same struct memslots, strictly increasing in publication order, never 0
 * (0 for a NULL set).
 *
 * Locking: a reader; reads only.
 */
MEMSLOTS_API uint64_t memslots_generation(const struct memslots_set *set);

/** Number of slots in the set.  O(1).  Locking: a reader; reads only. */
MEMSLOTS_API size_t memslots_count(const struct memslots_set *set);

/** Sum of the npages of the set's slots.  O(1).  Locking: a reader; reads only. */
MEMSLOTS_API uint64_t memslots_nr_pages(const struct memslots_set *set);

/**
 * The attribute word of @p gfn in @p set (0 when none was set).  If
 * @p run_end is not NULL, *run_end gets the first gfn after @p gfn whose
 * word differs, or UINT64_MAX when none does: walking gfn = *run_end
 * visits the runs of a range, one O(log r) call each for r runs in the
 * map.  (UINT64_MAX, the one gfn an exclusive end cannot name, also ends
 * a walk that reaches the top of the space: ask for it once, then stop.)
 *
 * Locking: a reader; reads only.
 */
MEMSLOTS_API uint64_t memslots_gfn_attributes(const struct memslots_set *set, uint64_t gfn,
					      uint64_t *run_end);

/* ---- The fault path ---------------------------------------------------- */

/**
 * The fault path's two questions in one call on one set: the slot holding
 * @p gfn, as memslots_find_gfn_cached() with @p cache (which may be NULL:
 * then as memslots_find_gfn()), and, in *@p attributes (if not NULL), the
 * attribute word of @p gfn, with *@p run_end (if not NULL) as
 * memslots_gfn_attributes() gives it.  Both answers come from @p set, so
 * they are consistent with each other: a concurrent memslots_set_region()
 * or memslots_set_attributes() publishes a new set and never changes this
 * one.  Calling memslots_find_gfn_cached() and memslots_gfn_attributes()
 * on the same set, inside one read-side section, is equivalent.
 *
 * @return the slot, or NULL when none holds @p gfn (the attributes are
 *         still filled in: they exist without a slot).
 *
 * Locking: a reader; stores to @p cache as memslots_find_gfn_cached()
 * does, or, with a NULL @p cache, to the set's last-used slot as
 * memslots_find_gfn() does.
 */
MEMSLOTS_API const struct memslot *memslots_fault_lookup(const struct memslots_set *set,
							 struct memslots_cache *cache, uint64_t gfn,
							 uint64_t *attributes, uint64_t *run_end);

/* ---- Dirty page logging ------------------------------------------------ */

/*
 * With MEMSLOTS_DIRTY_BITMAP in the config's dirty_log, every slot whose
 * flags have MEMSLOT_LOG_DIRTY_PAGES carries a dirty bitmap: one bit per
 * page, bit i for page base_gfn + i, in 64-bit words (KVM_GET_DIRTY_LOG's
 * layout), so that a VMM can merge what KVM logs with what its own device
 * emulation writes into guest memory, which KVM never sees, and collect
 * the union (docs/api.md, "Dirty page logging", has a migration loop).
 *
 * The bitmap follows KVM's kvm_prepare_memory_region().  After any change
 * but a DELETE, the new slot has no bitmap if it lacks LOG_DIRTY_PAGES;
 * else it keeps the old slot's bitmap, bits and all, when the old slot
 * had one (a MOVE or FLAGS_ONLY change that keeps LOG_DIRTY_PAGES); else
 * it gets a new one, all clear, or all set with
 * MEMSLOTS_DIRTY_INITIALLY_SET (a CREATE, or a MOVE or FLAGS_ONLY change
 * that turns LOG_DIRTY_PAGES on).  A DELETE drops the bitmap.  The
 * MEMSLOT_INVALID copy that a DELETE or MOVE publishes shares the old
 * slot's bitmap: marks made through it land there.  Every bitmap a call
 * makes is allocated before it publishes anything (-ENOMEM fails the
 * whole call, nothing changed); a dropped bitmap is freed only after a
 * grace period, and marks made in it meanwhile are lost, as in KVM.
 *
 * Marks, merges and collects are readers: they take a set returned by
 * memslots_read_lock(), inside its section, and never block or allocate.
 * Their stores are atomic read-modify-writes of bitmap words, so they
 * run concurrently with each other, with the other readers and with a
 * writer; hooks may use them inside a section of their own.  A mark or
 * merge is a release and a collect that takes a page's bit an acquire:
 * what a thread wrote into guest memory before marking a page is visible
 * to the thread whose collect returned that page.  No page marked is ever
 * lost by a collect; only a dropped bitmap loses marks.
 */

/**
 * Marks the pages [@p gfn, @p gfn + @p npages) dirty in each slot of
 * @p set that holds some of them and has a bitmap (KVM's
 * mark_page_dirty_in_slot()); the pages no such slot holds are skipped.
 * A range that would run past 2^64 stops there.  MEMSLOT_INVALID slots
 * are marked too: their bitmap is the old slot's.
 *
 * @return the number of pages of the range that lie in slots with a
 *         bitmap, a page already dirty included; 0 for @p npages 0 or a
 *         NULL set.
 *
 * Locking: a reader; stores to the set's last-used slot as
 * memslots_find_gfn() does, and atomically ORs the bits into the
 * bitmaps (release).  O(1) for a range in the set's last-used slot, else
 * O(log n) per slot the range meets, plus one word per 64 pages.
 */
MEMSLOTS_API uint64_t memslots_dirty_mark(const struct memslots_set *set, uint64_t gfn,
					  uint64_t npages);

/**
 * As memslots_dirty_mark(), finding the first slot as
 * memslots_find_gfn_cached() does, through @p cache (per thread; NULL: as
 * memslots_dirty_mark()): a device model marking the pages it writes
 * pays a cache check and one atomic OR.
 *
 * Locking: a reader, as memslots_dirty_mark(), but storing to @p cache
 * (the calling thread's) instead of the set's last-used slot.  O(1) on a
 * hit of @p cache.
 */
MEMSLOTS_API uint64_t memslots_dirty_mark_cached(const struct memslots_set *set,
						 struct memslots_cache *cache, uint64_t gfn,
						 uint64_t npages);

/**
 * ORs @p bitmap into the bits of pages [@p first, @p first + @p npages)
 * of slot @p id: bit i of @p bitmap (bit i % 64 of word i / 64) is page
 * base_gfn + @p first + i; bits of @p bitmap past @p npages are ignored.
 * This is how a VMM adds what KVM_GET_DIRTY_LOG returned for the slot.
 *
 * @return 0; -ENOENT if @p set has no slot @p id (checked first);
 *         -EINVAL if that slot has no bitmap, @p first % 64 != 0,
 *         @p first + @p npages exceeds its npages or wraps, or @p bitmap
 *         is NULL with @p npages > 0.  @p npages 0 is valid and does
 *         nothing.
 *
 * Locking: a reader; atomically ORs each nonzero word into the slot's
 * bitmap (release).  O(1) to find the slot, plus one word per 64 pages.
 */
MEMSLOTS_API int memslots_dirty_merge(const struct memslots_set *set, uint16_t id,
				      const uint64_t *bitmap, uint64_t first, uint64_t npages);

/**
 * Moves the dirty bits of pages [@p first, @p first + @p npages) of slot
 * @p id into @p bitmap: ORed in, bit i for page base_gfn + @p first + i;
 * bits of @p bitmap past @p npages are left alone.  They are cleared in
 * the slot one 64-bit word at a time, atomically (an exchange, or an AND
 * for the last word of a range that ends inside one), so a page marked
 * while the call runs is either in this call's result or still marked for
 * the next; the slot's bits outside the range stay.
 *
 * @return the number of pages whose bit it cleared in the slot, or the
 *         errors of memslots_dirty_merge(), in the same order.
 *
 * Locking: a reader; exchanges the words that have a bit set (acquire)
 * and only loads the others.  O(1) to find the slot, plus one word per
 * 64 pages.
 */
MEMSLOTS_API int64_t memslots_dirty_collect(const struct memslots_set *set, uint16_t id,
					    uint64_t *bitmap, uint64_t first, uint64_t npages);

/* ---- Byte-level translation -------------------------------------------- */

/*
 * Host addresses.  The library never maps, unmaps or touches guest memory:
 * a slot's userspace_addr, and every host address (hva) the translators
 * below return, is a number the VMM gave it, pointing into the VMM's own
 * mapping.  Dereferencing it is safe as long as that mapping exists; what
 * the library guarantees is that the slot it came from was valid in the
 * set the caller holds.  It stays so until memslots_read_unlock(): a
 * DELETE (or MOVE) that starts meanwhile first publishes the slot's
 * MEMSLOT_INVALID copy and waits for the readers of the set before, and
 * returns only after a second grace period, once no reader can hold the
 * slot in either form.  So the VMM may munmap (or reuse) a slot's host
 * memory from the DELETE's commit hook or once the writer call that
 * deleted it has returned, and not earlier (not from prepare or
 * invalidate: a reader may still hold the slot, and the INVALID copy
 * still carries userspace_addr).  An hva kept past memslots_read_unlock()
 * is no longer covered: ordering its use against munmap is the VMM's.
 */

/**
 * The host address of guest physical address @p gpa: userspace_addr +
 * (gpa - base_gfn * page_size) of the slot holding gpa >> page_shift, as
 * memslots_gfn_to_hva() for the byte (READONLY slots included: this is a
 * read access).  *@p len (if not NULL) gets the number of bytes the slot
 * still covers from @p gpa on, at least 1: a copy loop translates gpa,
 * copies min(remaining, *len) bytes from the hva, and goes on at gpa +
 * *len, which lies in the next slot (or in a hole).
 *
 * @return the hva, or MEMSLOTS_HVA_BAD (which no valid slot can return)
 *         when no slot holds @p gpa or it is MEMSLOT_INVALID (a DELETE or
 *         MOVE in flight: KVM's gfn_to_hva() too returns an error hva for
 *         an invalid slot); then *@p len is 0.
 *
 * Locking: a reader (see "Readers" in the file comment); finds the slot
 * as memslots_find_gfn() does, storing to the set's last-used slot on a
 * miss of it.  See "Host addresses" above for how long the hva is good.
 * O(1) on a hit of the set's last-used slot, else O(log n).
 */
MEMSLOTS_API uint64_t memslots_gpa_to_hva(const struct memslots_set *set, uint64_t gpa,
					  uint64_t *len);

/**
 * As memslots_gpa_to_hva(), finding the slot as memslots_find_gfn_cached()
 * does, through @p cache (per thread; NULL: as memslots_gpa_to_hva()).
 *
 * Locking: a reader, as memslots_gpa_to_hva(), but storing to @p cache
 * (the calling thread's) instead of the set's last-used slot, as
 * memslots_find_gfn_cached() does.  O(1) on a hit of @p cache.
 */
MEMSLOTS_API uint64_t memslots_gpa_to_hva_cached(const struct memslots_set *set,
						 struct memslots_cache *cache, uint64_t gpa,
						 uint64_t *len);

/**
 * As memslots_gpa_to_hva_cached() (@p cache may be NULL) for a write
 * access: a MEMSLOT_READONLY slot gives MEMSLOTS_HVA_BAD and *@p len 0
 * too, as KVM's __gfn_to_hva_many() refuses a write to a read-only slot
 * (the VMM then treats the access as MMIO, like KVM's KVM_EXIT_MMIO for
 * ROM).  To tell "read-only" from "no slot", look the slot up with
 * memslots_find_gfn().
 *
 * Locking: a reader, as memslots_gpa_to_hva_cached().
 */
MEMSLOTS_API uint64_t memslots_gpa_to_hva_write(const struct memslots_set *set,
						struct memslots_cache *cache, uint64_t gpa,
						uint64_t *len);

/**
 * The valid slot mapping host address @p hva (userspace_addr <= hva <=
 * userspace_addr + npages * page_size - 1) with the lowest guest physical
 * address for it, and that address, base_gfn * page_size + (hva -
 * userspace_addr), in *@p gpa (if not NULL).  MEMSLOT_INVALID slots are
 * skipped.  Several slots may map the same host memory (aliases): visit
 * the others in ascending gpa with memslots_hva_to_gpa_next().  (Guest
 * ranges never overlap, so ascending gpa is ascending base_gfn.)
 *
 * @return the slot, or NULL when no valid slot maps @p hva; *@p gpa is
 *         written only when a slot is returned.
 *
 * Locking: a reader; reads only.  O(log n + k) for the k slots whose
 * host range holds @p hva (the hva interval tree).
 */
MEMSLOTS_API const struct memslot *memslots_hva_to_gpa(const struct memslots_set *set, uint64_t hva,
						       uint64_t *gpa);

/**
 * The valid slot mapping @p hva whose base_gfn comes next after @p prev's
 * (NULL @p prev: the first, as memslots_hva_to_gpa()), with its gpa for
 * @p hva in *@p gpa (if not NULL):
 *
 *     for (s = memslots_hva_to_gpa(set, hva, &gpa); s;
 *          s = memslots_hva_to_gpa_next(set, hva, s, &gpa))
 *             ... every alias of hva, ascending gpa ...
 *
 * @p prev must be a slot of @p set (normally the previous return).
 *
 * @return the slot, or NULL after the last; *@p gpa is written only when
 *         a slot is returned.
 *
 * Locking: a reader; reads only.  O(log n + k) per call for k slots
 * holding @p hva.
 */
MEMSLOTS_API const struct memslot *memslots_hva_to_gpa_next(const struct memslots_set *set,
							    uint64_t hva,
							    const struct memslot *prev,
							    uint64_t *gpa);

/* ---- The KVM request of a hook ----------------------------------------- */

/**
 * The KVM_SET_USER_MEMORY_REGION2 request that makes KVM's memslot table
 * take the step a hook is told about: called from prepare with its
 * (@p old_slot, @p new_slot, @p change), it fills *@p r with what the VMM
 * passes to KVM there.  Byte for byte:
 *  - slot: as_id << 16 | id, as_id the config's (KVM's own encoding);
 *  - CREATE, MOVE, FLAGS_ONLY: new's gfn range and host address in bytes
 *    (page_shift of @p ms), new's flags without MEMSLOT_INVALID and
 *    without any bit KVM does not define (LOG_DIRTY_PAGES, READONLY,
 *    GUEST_MEMFD stay), guest_memfd_offset and guest_memfd only when
 *    flags has GUEST_MEMFD (else 0).  A MOVE is new's gpa with the same
 *    id, which is how KVM moves a slot; FLAGS_ONLY, new's flags;
 *  - DELETE: memory_size 0 and every field but slot 0.  KVM deletes on
 *    memory_size 0 and ignores the rest, but it still checks flags,
 *    alignment and the host range of a delete request (and so does this
 *    library): zeros pass every such check whatever the old slot was;
 *  - pad1 and pad2: 0.
 * This is what examples/vmm/common/slots.c sends from its prepare hook.
 *
 * @return 0, or -EINVAL with *@p r unchanged: @p ms or @p r NULL; an
 *         unknown @p change; slots that do not fit it (CREATE: @p old_slot
 *         NULL and @p new_slot not; DELETE: the reverse; MOVE: both, same
 *         id, npages and userspace_addr, another base_gfn; FLAGS_ONLY:
 *         both, same id, base_gfn, npages and userspace_addr, other flags
 *         (MEMSLOT_INVALID aside)); an id >= max_slots; a slot to install
 *         with no pages or whose gpa range does not fit in 64 bits.
 *
 * Locking: none: it takes no lock and waits for nothing, and reads only
 * the slots passed and @p ms's configuration (fixed by memslots_new()).
 * Any thread, any context: from any hook (where the slots are the hook's
 * arguments), or inside a read-side section on slots of the set it
 * returned.
 */
MEMSLOTS_API int memslots_change_to_region2(const struct memslots *ms,
					    const struct memslot *old_slot,
					    const struct memslot *new_slot,
					    enum memslots_change change,
					    struct memslots_region2 *r);

/**
 * As memslots_change_to_region2(), for KVM_SET_USER_MEMORY_REGION (kernels
 * before 6.8): the same first five fields, the flags limited to
 * LOG_DIRTY_PAGES and READONLY.  A slot to install with GUEST_MEMFD, which
 * the v1 ioctl cannot express, is -EINVAL (a DELETE of one is fine: its
 * request carries no flags).
 *
 * Locking: none; any context, as memslots_change_to_region2().
 */
MEMSLOTS_API int memslots_change_to_region(const struct memslots *ms,
					   const struct memslot *old_slot,
					   const struct memslot *new_slot,
					   enum memslots_change change, struct memslots_region *r);

/**
 * The request that undoes, in KVM, the step memslots_change_to_region2()
 * gave for the same arguments: for the abort hook, which gets prepare's
 * (@p old_slot, @p new_slot, @p change).  CREATE: the DELETE of new's id;
 * DELETE, MOVE, FLAGS_ONLY: old installed again as it was (re-created,
 * moved back, its flags restored).  Filled, checked and failing as
 * memslots_change_to_region2().
 *
 * Locking: none; any context, as memslots_change_to_region2().
 */
MEMSLOTS_API int memslots_abort_to_region2(const struct memslots *ms,
					   const struct memslot *old_slot,
					   const struct memslot *new_slot,
					   enum memslots_change change, struct memslots_region2 *r);

/**
 * As memslots_abort_to_region2(), for KVM_SET_USER_MEMORY_REGION, with the
 * rules of memslots_change_to_region().
 *
 * Locking: none; any context, as memslots_change_to_region2().
 */
MEMSLOTS_API int memslots_abort_to_region(const struct memslots *ms, const struct memslot *old_slot,
					  const struct memslot *new_slot,
					  enum memslots_change change, struct memslots_region *r);

/* ---- Slot ids, configuration, strings ---------------------------------- */

/**
 * The lowest slot id in [@p first, @p last] that has no slot, in *@p id.
 * Ids are those of @p ms's address space (its config's as_id; the request
 * to KVM carries as_id << 16 | id); @p last is clamped to max_slots - 1, so
 * [0, UINT_MAX] asks for the lowest free id of all.  "Free" is the
 * writer's view: the state left by the last writer call that returned.
 *
 * The answer can be stale as soon as the call returns, if another thread
 * creates a slot: to pick an id and create a slot with it atomically, use
 * memslots_create_region2().
 *
 * @return 0; -ENOSPC when every id of the range has a slot; -EINVAL when
 *         @p ms or @p id is NULL, @p first > @p last or @p first >=
 *         max_slots (checked first); -EDEADLK from a hook of @p ms or
 *         inside a read-side section.  *@p id is written only on success.
 *
 * Locking: a writer that publishes nothing: any thread, with
 * memslots_set_region()'s -EDEADLK rules (inside a hook of @p ms it would
 * wait for the writer mutex that hook's call holds; inside a read-side
 * section it is refused as every writer is).  Takes the writer mutex, so
 * it waits for a writer call of @p ms running on another thread; waits
 * for no grace period.  O(r / 256 + 256) for a range of r ids,
 * through the id table's chunks of 256 ids and their counts.
 */
MEMSLOTS_API int memslots_lowest_free_id(struct memslots *ms, unsigned int first, unsigned int last,
					 uint16_t *id);

/**
 * A CREATE with an id the library picks: under the writer lock, the lowest
 * free id in [@p first, @p last] (as memslots_lowest_free_id()), then
 * memslots_set_region2() of @p r with that id, so two threads can never
 * pick the same id.  Bits 0-15 of r->slot are ignored (the picked id takes
 * their place); bits 16-31 must be the config's as_id, as in any request.
 * Everything else is memslots_set_region2()'s: the same rules, hooks
 * (prepare gets a CREATE of the picked id) and grace period.
 *
 * @param ms the address space.
 * @param r the request (memory_size not 0); its id bits are ignored.
 * @param first the lowest id that may be picked.
 * @param last the highest id that may be picked, clamped to max_slots - 1.
 * @param id receives the id on success, and only then.
 * @return 0, or a negative errno: -EINVAL (@p ms, @p r or @p id NULL,
 *         memory_size 0, @p first > @p last or @p first >= max_slots, or
 *         a request memslots_set_region2() refuses), -ENOSPC (no free id
 *         in the range: checked before the request's rules), -EEXIST,
 *         -ENOMEM, -EDEADLK, or what the prepare hook returned.  A failed
 *         call changes nothing: the id it picked stays free.
 *
 * Locking: a writer, as memslots_set_region2(): the same contexts and
 * -EDEADLK rules (checked after the arguments and the id range), one
 * grace period when it creates the slot, none when it fails.  The id is
 * picked and the slot created under one hold of the writer mutex.
 */
MEMSLOTS_API int memslots_create_region2(struct memslots *ms, const struct memslots_region2 *r,
					 unsigned int first, unsigned int last, uint16_t *id);

/**
 * As memslots_create_region2() for a v1 request (memslots_set_region()'s
 * rules: no GUEST_MEMFD).
 *
 * Locking: a writer, as memslots_create_region2().
 */
MEMSLOTS_API int memslots_create_region(struct memslots *ms, const struct memslots_region *r,
					unsigned int first, unsigned int last, uint16_t *id);

/**
 * The page shift of @p ms (as configured, 12 by default; 0 for NULL).
 * Locking: none; any thread, any context (the configuration is fixed by
 * memslots_new()).
 */
MEMSLOTS_API unsigned int memslots_page_shift(const struct memslots *ms);

/**
 * The number of slot ids of @p ms (ids are 0 .. max_slots - 1; 0 for
 * NULL).  Locking: none; any thread, any context, as memslots_page_shift().
 */
MEMSLOTS_API unsigned int memslots_max_slots(const struct memslots *ms);

/**
 * The index @p ms uses: MEMSLOTS_INDEX_KVM or MEMSLOTS_INDEX_BTREE, never
 * MEMSLOTS_INDEX_DEFAULT (a config's DEFAULT reads back as the index it
 * selected); 0 for NULL, which is no object.
 * Locking: none; any thread, any context, as memslots_page_shift().
 */
MEMSLOTS_API unsigned int memslots_index(const struct memslots *ms);

/**
 * A static, human-readable description of a return code of this library
 * (0 or a negative errno), as libuv's uv_strerror().  Never NULL.
 * Locking: none; any thread, any context (the strings are static).
 */
MEMSLOTS_API const char *memslots_strerror(int err);

/**
 * The version of the library that is running, as a string
 * ("major.minor.patch"); MEMSLOTS_VERSION_STRING is that of the headers a
 * program was compiled with, which may be older.  Static, never NULL.
 * Locking: none; any thread, any context.
 */
MEMSLOTS_API const char *memslots_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* MEMSLOTS_MEMSLOTS_H */
