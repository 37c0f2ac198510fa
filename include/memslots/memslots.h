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
 * Locking contract, in general:
 *  - writer functions (memslots_set_region(), memslots_apply(),
 *    memslots_set_attributes()) may be called from any thread; they serialize on an internal mutex and wait
 *    for grace periods, so they must not be called from inside a read-side
 *    section or from a hook (both return -EDEADLK);
 *  - reader functions take a set obtained from memslots_read_lock() and
 *    are valid only until the matching memslots_read_unlock();
 *  - memslots_new() and memslots_free() must not race with any other call
 *    on the same object.
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
	uint32_t slot;            /**< bits 0-15: slot id; bits 16-31: address space, must be 0 */
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
	uint32_t slot;               /**< bits 0-15: slot id; bits 16-31: address space (as_id) */
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
 * All are optional (NULL).  They run on the writer's thread with the writer
 * lock held; they must not call a writer (memslots_set_region(),
 * memslots_apply(), memslots_set_attributes()), which returns -EDEADLK if
 * they do.
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
	/** The address space this object mirrors: a request's slot >> 16 must equal it. */
	uint16_t as_id;
	/**
	 * The attribute bits memslots_set_attributes() accepts; 0:
	 * MEMSLOTS_ATTR_PRIVATE.  (KVM's kvm_supported_mem_attributes().)
	 */
	uint64_t supported_attributes;
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
	const struct memslots_set *set; /**< added: generations are per object */
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
 * Locking: none needed; the object is not shared yet.
 */
MEMSLOTS_API struct memslots *memslots_new(const struct memslots_config *cfg);

/**
 * Frees the address space and every slot still in it, calling the release
 * hook once for each such slot (in ascending base_gfn order).  NULL is a
 * no-op.  Called from one of @p ms's own hooks or from inside a read-side
 * section of the calling thread, it refuses (errno EDEADLK) and frees
 * nothing, since the object is still in use on that thread.
 *
 * Locking: no other call on @p ms may be running or follow, and no reader
 * may be inside a read-side section of it.
 */
MEMSLOTS_API void memslots_free(struct memslots *ms);

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
 * Locking: takes the writer mutex; waits for one grace period (create,
 * flags-only) or two (delete, move); none when nothing changes.
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
 * Locking: as memslots_set_region(); at most two grace periods whatever
 * @p n is.
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
 * Locking: as memslots_set_region().
 */
MEMSLOTS_API int memslots_set_region2(struct memslots *ms, const struct memslots_region2 *r);

/**
 * As memslots_apply() for requests of the KVM 6.x surface: atomic, and
 * equivalent to applying them one by one with memslots_set_region2(), so
 * a slot deleted by an earlier request of the batch no longer binds its
 * guest_memfd range for a later one.
 *
 * Locking: as memslots_apply().
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
 * Locking: takes the writer mutex; waits for one grace period when the
 * call changes something, none when every page already has the word
 * (then the hook is not called either).  O(log r + k log r) for r runs
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
 * Locking: none; not from inside a read-side section.
 */
MEMSLOTS_API void memslots_reader_register(struct memslots *ms);

/**
 * Undoes memslots_reader_register(); outside any read-side section.  With
 * the default RCU, registrations are counted per thread, so a thread
 * registered with several objects stays a reader until the last
 * unregistration.
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
 * Locking: lock-free (wait-free with the default RCU); the thread must be
 * registered.
 */
MEMSLOTS_API const struct memslots_set *memslots_read_lock(struct memslots *ms);

/**
 * Leaves the innermost read-side section of the calling thread; the set
 * and slots obtained in it must not be used afterwards.  Without a
 * matching memslots_read_lock() it does nothing.
 */
MEMSLOTS_API void memslots_read_unlock(struct memslots *ms);

/*
 * Every lookup below takes a set returned by memslots_read_lock() and must
 * be called inside that read-side section; slots it returns are valid only
 * until the section ends.  None of them blocks or allocates.
 */

/**
 * The slot whose [base_gfn, base_gfn + npages) holds @p gfn, or NULL.
 * Returns MEMSLOT_INVALID slots too.  O(1) on a hit of the set's last-used
 * slot, else O(log n); updates that last-used slot (a relaxed atomic).
 */
MEMSLOTS_API const struct memslot *memslots_find_gfn(const struct memslots_set *set, uint64_t gfn);

/**
 * As memslots_find_gfn() when a slot holds @p gfn; otherwise one of the two
 * slots bordering the hole (the nearest below or the nearest above), or
 * NULL when the set is empty.
 */
MEMSLOTS_API const struct memslot *memslots_find_gfn_approx(const struct memslots_set *set,
							    uint64_t gfn);

/** The slot with id @p id, or NULL.  O(1) expected. */
MEMSLOTS_API const struct memslot *memslots_find_id(const struct memslots_set *set, uint16_t id);

/**
 * As memslots_find_gfn(), first trying @p cache, which belongs to the
 * calling thread.  Never returns a slot of another set than @p set.
 */
MEMSLOTS_API const struct memslot *memslots_find_gfn_cached(const struct memslots_set *set,
							    struct memslots_cache *cache,
							    uint64_t gfn);

/** The slot with the lowest base_gfn, or NULL when the set is empty.  O(1). */
MEMSLOTS_API const struct memslot *memslots_first(const struct memslots_set *set);

/** The slot after @p slot in ascending base_gfn, or NULL after the last. */
MEMSLOTS_API const struct memslot *memslots_next(const struct memslots_set *set,
						 const struct memslot *slot);

/**
 * The first slot (lowest base_gfn) intersecting [gfn_start, gfn_end), or
 * NULL; none when gfn_end <= gfn_start.
 */
MEMSLOTS_API const struct memslot *memslots_gfn_range_first(const struct memslots_set *set,
							    uint64_t gfn_start, uint64_t gfn_end);

/** The slot after @p slot intersecting [gfn_start, gfn_end), or NULL. */
MEMSLOTS_API const struct memslot *memslots_gfn_range_next(const struct memslots_set *set,
							   const struct memslot *slot,
							   uint64_t gfn_start, uint64_t gfn_end);

/**
 * A first slot whose host range [userspace_addr, userspace_addr + npages *
 * page_size - 1] intersects [hva_start, hva_last] (both inclusive), or NULL;
 * none when hva_last < hva_start.  With memslots_hva_range_next() it visits
 * each such slot exactly once, in an unspecified order, in O(log n + k).
 */
MEMSLOTS_API const struct memslot *memslots_hva_range_first(const struct memslots_set *set,
							    uint64_t hva_start, uint64_t hva_last);

/** The next slot intersecting [hva_start, hva_last] after @p slot, or NULL. */
MEMSLOTS_API const struct memslot *memslots_hva_range_next(const struct memslots_set *set,
							   const struct memslot *slot,
							   uint64_t hva_start, uint64_t hva_last);

/**
 * userspace_addr + (gfn - base_gfn) * page_size of the slot holding @p gfn,
 * or MEMSLOTS_HVA_BAD when there is none or it is MEMSLOT_INVALID.
 */
MEMSLOTS_API uint64_t memslots_gfn_to_hva(const struct memslots_set *set, uint64_t gfn);

/**
 * The set's generation: different for every set ever published by the
 * same struct memslots, strictly increasing in publication order, never 0.
 */
MEMSLOTS_API uint64_t memslots_generation(const struct memslots_set *set);

/** Number of slots in the set.  O(1). */
MEMSLOTS_API size_t memslots_count(const struct memslots_set *set);

/** Sum of the npages of the set's slots.  O(1). */
MEMSLOTS_API uint64_t memslots_nr_pages(const struct memslots_set *set);

/**
 * The attribute word of @p gfn in @p set (0 when none was set).  If
 * @p run_end is not NULL, *run_end gets the first gfn after @p gfn whose
 * word differs, or UINT64_MAX when none does: walking gfn = *run_end
 * visits the runs of a range, one O(log r) call each for r runs in the
 * map.  (UINT64_MAX, the one gfn an exclusive end cannot name, also ends
 * a walk that reaches the top of the space: ask for it once, then stop.)
 */
MEMSLOTS_API uint64_t memslots_gfn_attributes(const struct memslots_set *set, uint64_t gfn,
					      uint64_t *run_end);

/* ---- Additions beyond the contract ------------------------------------- */

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
 */
MEMSLOTS_API const struct memslot *memslots_fault_lookup(const struct memslots_set *set,
							 struct memslots_cache *cache, uint64_t gfn,
							 uint64_t *attributes, uint64_t *run_end);


/** The page shift of @p ms (as configured, 12 by default).  Locking: none. */
MEMSLOTS_API unsigned int memslots_page_shift(const struct memslots *ms);

/** The number of slot ids of @p ms (ids are 0 .. max_slots - 1).  Locking: none. */
MEMSLOTS_API unsigned int memslots_max_slots(const struct memslots *ms);

/**
 * A static, human-readable description of a return code of this library
 * (0 or a negative errno), as libuv's uv_strerror().  Never NULL.
 * Locking: none; thread-safe (the strings are static).
 */
MEMSLOTS_API const char *memslots_strerror(int err);

/** The library's version as a string ("0.1.0").  Locking: none. */
MEMSLOTS_API const char *memslots_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* MEMSLOTS_MEMSLOTS_H */
