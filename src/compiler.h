/* SPDX-License-Identifier: MIT */
/* Small compiler helpers shared by the library's sources. */
#ifndef MS_COMPILER_H
#define MS_COMPILER_H

#include <stddef.h>

/* The structure that embeds @ptr as its member @member. */
#define ms_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define ms_likely(x)			   __builtin_expect(!!(x), 1)
#define ms_unlikely(x)			   __builtin_expect(!!(x), 0)

#define MS_ARRAY_SIZE(a)		   (sizeof(a) / sizeof((a)[0]))
/* A hint that @p will be read (rw 0) or written (rw 1) soon; never faults. */
#define ms_prefetch(p, rw) __builtin_prefetch((p), (rw))

#define MS_ALWAYS_INLINE   inline __attribute__((always_inline))
/* A static function that an instance of a template may leave unused. */
#define MS_UNUSED __attribute__((unused))

/*
 * A function whose body callers must not learn from (gcc's noipa: no
 * inlining, cloning or interprocedural summaries; noinline elsewhere).
 * For code an interprocedural pass got wrong: see ms_btree_walk_down().
 */
#if defined(__has_attribute)
#if __has_attribute(noipa)
#define MS_NOIPA __attribute__((noipa))
#endif
#endif
#ifndef MS_NOIPA
#define MS_NOIPA __attribute__((noinline))
#endif
#define MS_CACHELINE 64

#endif /* MS_COMPILER_H */
