/* SPDX-License-Identifier: MIT */
/*
 * The ABI of libmemslots 0.1, kept: the 0.1 layouts of the public structs,
 * checked against today's, and memslots_new@MEMSLOTS_0.1, the memslots_new()
 * of programs built against 0.1.
 *
 * struct memslots_config and struct memslots_ops are allocated by the
 * caller and grow at their end (docs/abi.md).  A program built against 0.1
 * hands over structs of the 0.1 size: the current memslots_new() would read
 * the later fields past their end, from whatever memory follows.  So this
 * entry point copies only the 0.1 prefix into zeroed structs of the current
 * size, zero being the default of every later field, and passes those on:
 * a 0.1 caller gets no set_attributes hook (NULL) and supported_attributes
 * 0 (MEMSLOTS_ATTR_PRIVATE), like every other 0.2 member.
 *
 * Programs linked against 0.1 carry unversioned references, and the dynamic
 * linker binds an unversioned reference to the oldest version of a symbol
 * (tests/package/abi checks it), so they all arrive here.  Programs built
 * now reference memslots_new@@MEMSLOTS_0.3, the plain function (0.2
 * programs memslots_new@MEMSLOTS_0.2: abi_v0_2.c).
 *
 * Built into the shared library only (cmake/Abi.cmake): the static archive
 * has just the plain memslots_new(), since a program linking it statically
 * always has the headers of the same version.  The layout checks hold for
 * both, as the public headers are the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <memslots/memslots.h>

/* The 0.1 layouts, frozen: never edit them. */
struct ms_slot_v0_1 {
	uint64_t base_gfn;
	uint64_t npages;
	uint64_t userspace_addr;
	uint32_t flags;
	uint16_t id;
	void *priv;
};

struct ms_rcu_v0_1 {
	void (*register_thread)(void);
	void (*unregister_thread)(void);
	void (*read_lock)(void);
	void (*read_unlock)(void);
	void (*synchronize)(void);
};

struct ms_config_v0_1 {
	unsigned int page_shift;
	unsigned int max_slots;
	const struct memslots_ops *ops;
	void *opaque;
	const struct memslots_rcu *rcu;
	void *(*alloc)(size_t size, void *alloc_opaque);
	void (*free)(void *ptr, void *alloc_opaque);
	void *alloc_opaque;
	uint64_t hva_limit;
};

struct ms_ops_v0_1 {
	int (*prepare)(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		       enum memslots_change change);
	void (*abort)(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		      enum memslots_change change);
	void (*commit)(void *opaque, const struct memslot *old_slot,
		       const struct memslot *new_slot, enum memslots_change change);
	void (*invalidate)(void *opaque, const struct memslot *slot);
	void (*release)(void *opaque, struct memslot *slot);
};

/*
 * The current structs must start with the 0.1 ones, member for member (same
 * offset, same type): only then is copying the 0.1 bytes a conversion, and
 * only then does a program built against 0.1 read a struct memslot right.
 * These checks are also the ABI check of these types that libabigail cannot
 * make (docs/abi.md): it compares memslots_new@MEMSLOTS_0.1 with nothing,
 * and its suppression of members appended to a struct hides the other
 * changes of that struct too.
 */
#define MS_FIELD_TYPE(type, member) __typeof__(((type *)0)->member)
#define MS_SAME_MEMBER(old, cur, member)                                                           \
	_Static_assert(offsetof(old, member) == offsetof(cur, member) &&                          \
			       __builtin_types_compatible_p(MS_FIELD_TYPE(old, member),           \
							    MS_FIELD_TYPE(cur, member)),          \
		       #cur "." #member " moved or changed type since 0.1 (docs/abi.md)")

MS_SAME_MEMBER(struct ms_slot_v0_1, struct memslot, base_gfn);
MS_SAME_MEMBER(struct ms_slot_v0_1, struct memslot, npages);
MS_SAME_MEMBER(struct ms_slot_v0_1, struct memslot, userspace_addr);
MS_SAME_MEMBER(struct ms_slot_v0_1, struct memslot, flags);
MS_SAME_MEMBER(struct ms_slot_v0_1, struct memslot, id);
MS_SAME_MEMBER(struct ms_slot_v0_1, struct memslot, priv);
_Static_assert(sizeof(struct memslot) >= sizeof(struct ms_slot_v0_1),
	       "struct memslot shrank since 0.1");

MS_SAME_MEMBER(struct ms_config_v0_1, struct memslots_config, page_shift);
MS_SAME_MEMBER(struct ms_config_v0_1, struct memslots_config, max_slots);
MS_SAME_MEMBER(struct ms_config_v0_1, struct memslots_config, ops);
MS_SAME_MEMBER(struct ms_config_v0_1, struct memslots_config, opaque);
MS_SAME_MEMBER(struct ms_config_v0_1, struct memslots_config, rcu);
MS_SAME_MEMBER(struct ms_config_v0_1, struct memslots_config, alloc);
MS_SAME_MEMBER(struct ms_config_v0_1, struct memslots_config, free);
MS_SAME_MEMBER(struct ms_config_v0_1, struct memslots_config, alloc_opaque);
MS_SAME_MEMBER(struct ms_config_v0_1, struct memslots_config, hva_limit);
_Static_assert(sizeof(struct memslots_config) >= sizeof(struct ms_config_v0_1),
	       "struct memslots_config shrank since 0.1");

MS_SAME_MEMBER(struct ms_ops_v0_1, struct memslots_ops, prepare);
MS_SAME_MEMBER(struct ms_ops_v0_1, struct memslots_ops, abort);
MS_SAME_MEMBER(struct ms_ops_v0_1, struct memslots_ops, commit);
MS_SAME_MEMBER(struct ms_ops_v0_1, struct memslots_ops, invalidate);
MS_SAME_MEMBER(struct ms_ops_v0_1, struct memslots_ops, release);
_Static_assert(sizeof(struct memslots_ops) >= sizeof(struct ms_ops_v0_1),
	       "struct memslots_ops shrank since 0.1");

/* struct memslots_rcu does not grow (no version of memslots_new copies it). */
MS_SAME_MEMBER(struct ms_rcu_v0_1, struct memslots_rcu, register_thread);
MS_SAME_MEMBER(struct ms_rcu_v0_1, struct memslots_rcu, unregister_thread);
MS_SAME_MEMBER(struct ms_rcu_v0_1, struct memslots_rcu, read_lock);
MS_SAME_MEMBER(struct ms_rcu_v0_1, struct memslots_rcu, read_unlock);
MS_SAME_MEMBER(struct ms_rcu_v0_1, struct memslots_rcu, synchronize);
_Static_assert(sizeof(struct memslots_rcu) == sizeof(struct ms_rcu_v0_1),
	       "struct memslots_rcu changed size since 0.1");

_Static_assert(MEMSLOTS_CREATE == 0 && MEMSLOTS_DELETE == 1 && MEMSLOTS_MOVE == 2 &&
		       MEMSLOTS_FLAGS_ONLY == 3 && sizeof(enum memslots_change) == sizeof(int),
	       "enum memslots_change changed since 0.1");

/*
 * Exported under its versioned name only: the version script makes the
 * plain name ms_new_v0_1 local.  An .symver directive rather than the symver
 * attribute, which clang 14 lacks.
 */
__attribute__((visibility("default"))) struct memslots *
ms_new_v0_1(const struct memslots_config *cfg);
__asm__(".symver ms_new_v0_1, memslots_new@MEMSLOTS_0.1");

/*
 * Locking: as memslots_new(), which it calls with its copies; those may
 * live on the stack because memslots_new() copies the config and the ops
 * and keeps neither pointer.
 */
struct memslots *ms_new_v0_1(const struct memslots_config *cfg)
{
	struct memslots_config config;
	struct memslots_ops ops;

	if (!cfg)
		return memslots_new(NULL);
	memset(&config, 0, sizeof(config));
	memcpy(&config, cfg, sizeof(struct ms_config_v0_1));
	if (config.ops) {
		memset(&ops, 0, sizeof(ops));
		memcpy(&ops, config.ops, sizeof(struct ms_ops_v0_1));
		config.ops = &ops;
	}
	return memslots_new(&config);
}
