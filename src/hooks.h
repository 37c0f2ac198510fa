/* SPDX-License-Identifier: MIT */
/*
 * Every call of an embedder's hook (struct memslots_ops), each with the
 * guard that marks this thread as inside @ms's hooks: a hook that calls a
 * writer of the same object would deadlock on ms->lock, and the guard is
 * how the writer entry points refuse that (-EDEADLK) instead.  Absent
 * hooks are NULL and cost one test.
 *
 * Locking: every hook runs under ms->lock, in a writer call, except
 * release, which memslots_free() runs once no other thread may use the
 * object.
 */
#ifndef MS_HOOKS_H
#define MS_HOOKS_H

#include <stdbool.h>

#include <memslots/memslots.h>

struct memslots;
struct memslots_set;
struct ms_change;

/* The object whose hooks this thread is running, or NULL (hooks.c). */
extern _Thread_local const struct memslots *ms_tls_in_hooks;

/* Whether this thread is inside one of @ms's hooks.  Any context. */
static inline bool ms_in_hooks_of(const struct memslots *ms)
{
	return ms_tls_in_hooks == ms;
}

/*
 * The prepare hook of @c.  Its negative errno, or -EINVAL when the hook
 * changed a field of the new slot other than priv (put back: the slot is
 * linked into the inactive set by those fields); *@prepared tells whether
 * the hook itself succeeded, i.e. whether @c must be aborted on failure.
 */
int ms_hook_prepare(struct memslots *ms, struct ms_change *c, bool *prepared);
void ms_hook_abort(struct memslots *ms, struct ms_change *c);
void ms_hook_commit(struct memslots *ms, struct ms_change *c);
/* KVM's kvm_arch_flush_shadow_memslot(), for @c's INVALID copy. */
void ms_hook_invalidate(struct memslots *ms, struct ms_change *c);
/* The set_attributes hook: its negative errno, else 0. */
int ms_hook_set_attributes(struct memslots *ms, const struct memslots_attributes *a);
/* The release hook for every slot of @set (memslots_free()). */
void ms_hook_release_all(struct memslots *ms, const struct memslots_set *set);

#endif /* MS_HOOKS_H */
