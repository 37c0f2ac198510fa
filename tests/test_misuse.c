/* SPDX-License-Identifier: MIT */
/*
 * Misuse the library can detect through its public API gets a clear error,
 * never a crash or a hang: bad configurations (NULL + EINVAL from
 * memslots_new), NULL pointers to every function, unbalanced
 * read_unlock, writer calls from inside a read-side section or a hook
 * (-EDEADLK, also from the release hook and with a custom RCU), absurd
 * batch sizes.  Each case also checks that the object still works
 * afterwards.  docs/reliability.md lists the misuse that cannot be
 * detected.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

#include <urcu/urcu-memb.h>

#include <memslots/memslots.h>

#include "tests_util.h"

static void nop(void)
{
}

static const struct memslots_rcu nop_rcu = {
	.read_lock = nop,
	.read_unlock = nop,
	.synchronize = nop,
};

static struct memslots_region region(uint32_t id, uint64_t gfn, uint64_t npages)
{
	struct memslots_region r = {
		.slot = id,
		.guest_phys_addr = gfn << 12,
		.memory_size = npages << 12,
		.userspace_addr = 0x10000000ull + ((uint64_t)id << 24),
	};

	return r;
}

/* The object works: a create goes through and is visible. */
static void still_works(struct memslots *ms, uint32_t id)
{
	struct memslots_region r = region(id, 1000 + id * 16, 1);
	const struct memslots_set *set;

	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	memslots_reader_register(ms);
	set = memslots_read_lock(ms);
	ck_assert_ptr_nonnull(memslots_find_id(set, (uint16_t)id));
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms);
}

/* ---- configurations -------------------------------------------------------------- */

static void *any_alloc(size_t size, void *opaque)
{
	return tu_alloc(size, opaque);
}

static void expect_einval(const struct memslots_config *cfg)
{
	errno = 0;
	ck_assert_ptr_null(memslots_new(cfg));
	ck_assert_int_eq(errno, EINVAL);
}

START_TEST(test_bad_config)
{
	static const unsigned int bad_shifts[] = {1, 9, 31, 32, 64, UINT_MAX};
	struct tu_alloc_counter cnt = {0};
	struct memslots_rcu rcu;
	struct memslots_config cfg;
	struct memslots *ms;
	size_t i;

	for (i = 0; i < sizeof(bad_shifts) / sizeof(bad_shifts[0]); i++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.page_shift = bad_shifts[i];
		expect_einval(&cfg);
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_slots = 65537;
	expect_einval(&cfg);
	cfg.max_slots = UINT_MAX;
	expect_einval(&cfg);

	/* only one of alloc/free */
	memset(&cfg, 0, sizeof(cfg));
	cfg.alloc = any_alloc;
	expect_einval(&cfg);
	cfg.alloc = NULL;
	cfg.free = tu_free;
	expect_einval(&cfg);

	/* an rcu without one of its mandatory functions */
	memset(&cfg, 0, sizeof(cfg));
	cfg.rcu = &rcu;
	rcu = nop_rcu;
	rcu.read_lock = NULL;
	expect_einval(&cfg);
	rcu = nop_rcu;
	rcu.read_unlock = NULL;
	expect_einval(&cfg);
	rcu = nop_rcu;
	rcu.synchronize = NULL;
	expect_einval(&cfg);

	/* nothing was allocated by the refusals above with a counting allocator */
	memset(&cfg, 0, sizeof(cfg));
	cfg.alloc = tu_alloc;
	cfg.free = tu_free;
	cfg.alloc_opaque = &cnt;
	cfg.page_shift = 9;
	expect_einval(&cfg);
	ck_assert_uint_eq(cnt.calls, 0);

	/* the edges of the valid ranges are accepted */
	memset(&cfg, 0, sizeof(cfg));
	cfg.rcu = &nop_rcu;
	cfg.page_shift = 10;
	cfg.max_slots = 1;
	ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(ms);
	ck_assert_uint_eq(memslots_page_shift(ms), 10);
	ck_assert_uint_eq(memslots_max_slots(ms), 1);
	memslots_free(ms);
	cfg.page_shift = 30;
	cfg.max_slots = 65536;
	ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(ms);
	ck_assert_uint_eq(memslots_max_slots(ms), 65536);
	memslots_free(ms);
}
END_TEST

/* An allocator that runs out at once: memslots_new reports ENOMEM, leaks nothing. */
START_TEST(test_new_enomem)
{
	struct tu_alloc_counter cnt = {0};
	struct memslots_config cfg = {
		.rcu = &nop_rcu,
		.alloc = tu_alloc,
		.free = tu_free,
		.alloc_opaque = &cnt,
	};
	struct memslots *ms;
	size_t k;

	for (k = 1; k < 16; k++) {
		memset(&cnt, 0, sizeof(cnt));
		cnt.fail_at = k;
		errno = 0;
		ms = memslots_new(&cfg);
		if (ms) {
			memslots_free(ms);
			ck_assert_uint_eq(cnt.live, 0);
			break;
		}
		ck_assert_int_eq(errno, ENOMEM);
		ck_assert_uint_eq(cnt.live, 0);
	}
	ck_assert_uint_gt(k, 1);
}
END_TEST

/* ---- NULL pointers --------------------------------------------------------------- */

START_TEST(test_null_args)
{
	struct memslots_config cfg = {.rcu = &nop_rcu};
	struct memslots *ms = memslots_new(&cfg);
	struct memslots_region r = region(1, 0, 4);
	struct memslots_cache cache = {0};
	const struct memslots_set *set;
	const struct memslot *s;
	size_t failed;

	ck_assert_ptr_nonnull(ms);
	memslots_free(NULL);

	/* writers */
	ck_assert_int_eq(memslots_set_region(NULL, &r), -EINVAL);
	ck_assert_int_eq(memslots_set_region(ms, NULL), -EINVAL);
	failed = 7;
	ck_assert_int_eq(memslots_apply(NULL, &r, 1, &failed), -EINVAL);
	ck_assert_uint_eq(failed, 0);
	failed = 7;
	ck_assert_int_eq(memslots_apply(ms, NULL, 1, &failed), -EINVAL);
	ck_assert_uint_eq(failed, 0);
	ck_assert_int_eq(memslots_apply(ms, NULL, 3, NULL), -EINVAL);
	ck_assert_int_eq(memslots_apply(ms, NULL, 0, NULL), 0);
	ck_assert_int_eq(memslots_apply(ms, &r, 0, NULL), 0);

	/* readers on a NULL object */
	memslots_reader_register(NULL);
	memslots_reader_unregister(NULL);
	ck_assert_ptr_null(memslots_read_lock(NULL));
	memslots_read_unlock(NULL);
	ck_assert_uint_eq(memslots_page_shift(NULL), 0);
	ck_assert_uint_eq(memslots_max_slots(NULL), 0);

	/* lookups on a NULL set */
	ck_assert_ptr_null(memslots_find_gfn(NULL, 0));
	ck_assert_ptr_null(memslots_find_gfn_approx(NULL, 0));
	ck_assert_ptr_null(memslots_find_id(NULL, 1));
	ck_assert_ptr_null(memslots_find_gfn_cached(NULL, &cache, 0));
	ck_assert_ptr_null(memslots_find_gfn_cached(NULL, NULL, 0));
	ck_assert_ptr_null(memslots_first(NULL));
	ck_assert_ptr_null(memslots_gfn_range_first(NULL, 0, 10));
	ck_assert_ptr_null(memslots_hva_range_first(NULL, 0, ~0ull));
	ck_assert_uint_eq(memslots_gfn_to_hva(NULL, 0), MEMSLOTS_HVA_BAD);
	ck_assert_uint_eq(memslots_generation(NULL), 0);
	ck_assert_uint_eq(memslots_count(NULL), 0);
	ck_assert_uint_eq(memslots_nr_pages(NULL), 0);

	/* NULL slots and caches with a real set */
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	set = memslots_read_lock(ms);
	s = memslots_find_id(set, 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(memslots_next(set, NULL));
	ck_assert_ptr_null(memslots_next(NULL, s));
	ck_assert_ptr_null(memslots_gfn_range_next(set, NULL, 0, 10));
	ck_assert_ptr_null(memslots_gfn_range_next(NULL, s, 0, 10));
	ck_assert_ptr_null(memslots_hva_range_next(set, NULL, 0, ~0ull));
	ck_assert_ptr_null(memslots_hva_range_next(NULL, s, 0, ~0ull));
	/* a NULL cache is no cache */
	ck_assert_ptr_eq(memslots_find_gfn_cached(set, NULL, 2), s);
	memslots_read_unlock(ms);

	still_works(ms, 2);
	memslots_free(ms);
}
END_TEST

/* ---- unbalanced read-side sections ------------------------------------------------ */

START_TEST(test_unlock_without_lock)
{
	struct memslots_config cfg = {.rcu = &nop_rcu};
	struct memslots *ms = memslots_new(&cfg);

	ck_assert_ptr_nonnull(ms);
	/* ignored: no section to leave, and no phantom section left behind */
	memslots_read_unlock(ms);
	memslots_read_unlock(ms);
	still_works(ms, 1);
	/* one more unlock than locks */
	memslots_read_lock(ms);
	memslots_read_unlock(ms);
	memslots_read_unlock(ms);
	still_works(ms, 2);
	memslots_free(ms);
}
END_TEST

START_TEST(test_unlock_without_lock_default_rcu)
{
	struct memslots *ms = memslots_new(NULL);

	ck_assert_ptr_nonnull(ms);
	memslots_reader_register(ms);
	memslots_read_unlock(ms);
	memslots_read_lock(ms);
	memslots_read_unlock(ms);
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms);
	still_works(ms, 1);
	memslots_free(ms);
}
END_TEST

/* Registrations are counted per thread: repeated and unbalanced ones are harmless. */
START_TEST(test_register_unbalanced)
{
	struct memslots *a = memslots_new(NULL), *b = memslots_new(NULL);
	const struct memslots_set *set;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	memslots_reader_unregister(a); /* never registered */
	memslots_reader_register(a);
	memslots_reader_register(a);
	memslots_reader_register(b); /* two address spaces, one thread */
	set = memslots_read_lock(b);
	ck_assert_ptr_nonnull(set);
	memslots_read_unlock(b);
	memslots_reader_unregister(b);
	memslots_reader_unregister(a);
	memslots_reader_unregister(a);
	memslots_reader_unregister(a); /* one too many */
	still_works(a, 1);
	still_works(b, 1);
	memslots_free(a);
	memslots_free(b);
}
END_TEST

/* ---- writers from read-side sections -------------------------------------------- */

static void deadlk_in_section(struct memslots *ms)
{
	struct memslots_region r = region(5, 50, 1);
	const struct memslots_set *set;
	size_t failed = 9;
	uint64_t gen;

	memslots_reader_register(ms);
	set = memslots_read_lock(ms);
	gen = memslots_generation(set);
	ck_assert_int_eq(memslots_set_region(ms, &r), -EDEADLK);
	ck_assert_int_eq(memslots_apply(ms, &r, 1, &failed), -EDEADLK);
	ck_assert_uint_eq(failed, 0);
	/* nested */
	memslots_read_lock(ms);
	ck_assert_int_eq(memslots_set_region(ms, &r), -EDEADLK);
	memslots_read_unlock(ms);
	ck_assert_int_eq(memslots_set_region(ms, &r), -EDEADLK);
	ck_assert_ptr_null(memslots_find_id(set, 5));
	ck_assert_uint_eq(memslots_generation(set), gen);
	memslots_read_unlock(ms);
	/* and once outside, the same request goes through */
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	set = memslots_read_lock(ms);
	ck_assert_uint_gt(memslots_generation(set), gen);
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms);
}

START_TEST(test_deadlk_read_section)
{
	struct memslots_config cfg = {.rcu = &nop_rcu};
	struct memslots *ms = memslots_new(&cfg);

	ck_assert_ptr_nonnull(ms);
	deadlk_in_section(ms);
	memslots_free(ms);
	ms = memslots_new(NULL); /* the default RCU */
	ck_assert_ptr_nonnull(ms);
	deadlk_in_section(ms);
	memslots_free(ms);
}
END_TEST

/* ---- writers from hooks ------------------------------------------------------------ */

struct hook_state {
	struct memslots *self;
	struct memslots *other; /* a second object: its writers are allowed */
	unsigned int calls[5];
	int fail_prepare; /* id whose prepare fails, or -1 */
	uint32_t next_other_id;
};

enum { H_PREPARE, H_ABORT, H_COMMIT, H_INVALIDATE, H_RELEASE };

static void try_writers(struct hook_state *hs, int hook)
{
	struct memslots_region r = region(40, 400, 1);
	size_t failed = 9;

	hs->calls[hook]++;
	ck_assert_int_eq(memslots_set_region(hs->self, &r), -EDEADLK);
	ck_assert_int_eq(memslots_apply(hs->self, &r, 1, &failed), -EDEADLK);
	ck_assert_uint_eq(failed, 0);
	if (hs->other) {
		/* another object's writer from a hook is fine */
		r = region(hs->next_other_id, hs->next_other_id * 4, 1);
		ck_assert_int_eq(memslots_set_region(hs->other, &r), 0);
		hs->next_other_id++;
	}
}

static int h_prepare(void *opaque, const struct memslot *old, struct memslot *new,
		     enum memslots_change change)
{
	struct hook_state *hs = opaque;
	const struct memslot *any = new ? new : old;

	(void)change;
	try_writers(hs, H_PREPARE);
	return any->id == hs->fail_prepare ? -EIO : 0;
}

static void h_abort(void *opaque, const struct memslot *old, struct memslot *new,
		    enum memslots_change change)
{
	(void)old;
	(void)new;
	(void)change;
	try_writers(opaque, H_ABORT);
}

static void h_commit(void *opaque, const struct memslot *old, const struct memslot *new,
		     enum memslots_change change)
{
	(void)old;
	(void)new;
	(void)change;
	try_writers(opaque, H_COMMIT);
}

static void h_invalidate(void *opaque, const struct memslot *slot)
{
	(void)slot;
	try_writers(opaque, H_INVALIDATE);
}

static void h_release(void *opaque, struct memslot *slot)
{
	(void)slot;
	try_writers(opaque, H_RELEASE);
}

static const struct memslots_ops hook_ops = {
	.prepare = h_prepare,
	.abort = h_abort,
	.commit = h_commit,
	.invalidate = h_invalidate,
	.release = h_release,
};

static void deadlk_in_hooks(const struct memslots_rcu *rcu)
{
	struct hook_state hs = {.fail_prepare = -1, .next_other_id = 1};
	struct memslots_config cfg = {.ops = &hook_ops, .opaque = &hs, .rcu = rcu};
	struct memslots_config other_cfg = {.rcu = rcu};
	struct memslots_region req[2];
	size_t failed = 9;
	unsigned int i;

	hs.self = memslots_new(&cfg);
	hs.other = memslots_new(&other_cfg);
	ck_assert_ptr_nonnull(hs.self);
	ck_assert_ptr_nonnull(hs.other);

	req[0] = region(1, 0, 2);
	ck_assert_int_eq(memslots_set_region(hs.self, &req[0]), 0); /* prepare, commit */
	req[0] = region(1, 10, 2);
	ck_assert_int_eq(memslots_set_region(hs.self, &req[0]), 0); /* + invalidate */
	req[0] = region(2, 20, 1);
	req[1] = region(3, 30, 1);
	hs.fail_prepare = 3;
	ck_assert_int_eq(memslots_apply(hs.self, req, 2, &failed), -EIO); /* + abort */
	ck_assert_uint_eq(failed, 1);
	hs.fail_prepare = -1;
	still_works(hs.self, 4);
	memslots_free(hs.self); /* release, twice */
	for (i = 0; i <= H_RELEASE; i++)
		ck_assert_msg(hs.calls[i] > 0, "hook %u never ran", i);
	ck_assert_uint_eq(hs.calls[H_RELEASE], 2);
	memslots_free(hs.other);
}

START_TEST(test_deadlk_hooks)
{
	deadlk_in_hooks(&nop_rcu);
}
END_TEST

START_TEST(test_deadlk_hooks_default_rcu)
{
	deadlk_in_hooks(NULL);
}
END_TEST

/* ---- sizes and values out of any range ---------------------------------------------- */

/* Refuses anything larger than 1 MiB: no real allocator needs to see the absurd sizes. */
static void *capped_alloc(size_t size, void *opaque)
{
	if (size > (1u << 20))
		return NULL;
	return tu_alloc(size, opaque);
}

START_TEST(test_absurd_batch)
{
	struct tu_alloc_counter cnt = {0};
	struct memslots_config cfg = {
		.rcu = &nop_rcu,
		.alloc = capped_alloc,
		.free = tu_free,
		.alloc_opaque = &cnt,
	};
	struct memslots *ms = memslots_new(&cfg);
	struct memslots_region r = region(1, 0, 1);
	size_t live, failed = 9;

	ck_assert_ptr_nonnull(ms);
	live = cnt.live;
	/* n so large that the batch's bookkeeping cannot be sized: -ENOMEM, not
	 * an overflowed allocation and a read past @r */
	ck_assert_int_eq(memslots_apply(ms, &r, SIZE_MAX, &failed), -ENOMEM);
	ck_assert_int_eq(memslots_apply(ms, &r, SIZE_MAX / 2, &failed), -ENOMEM);
	ck_assert_int_eq(memslots_apply(ms, &r, (size_t)1 << 40, &failed), -ENOMEM);
	ck_assert_uint_eq(cnt.live, live);
	still_works(ms, 1);
	memslots_free(ms);
	ck_assert_uint_eq(cnt.live, 0);
}
END_TEST

START_TEST(test_strerror_any_code)
{
	static const int codes[] = {0,	     -EINVAL, -EEXIST, -ENOMEM, -EDEADLK, 1,
				    INT_MAX, INT_MIN, -1,      -4096,	4096};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = memslots_strerror(codes[i]);

		ck_assert_ptr_nonnull(s);
		ck_assert_uint_gt(strlen(s), 0);
	}
	ck_assert_ptr_nonnull(memslots_version_string());
}
END_TEST

/* ---- detected misuse of the object's lifetime and of hooks ------------------------ */

struct meddle {
	struct memslots *ms;
	int prepares, aborts, commits;
	bool move_it; /* prepare changes new->base_gfn */
	bool free_it; /* commit calls memslots_free */
	bool free_refused;
};

static int meddle_prepare(void *opaque, const struct memslot *old, struct memslot *new,
			  enum memslots_change change)
{
	struct meddle *m = opaque;

	(void)old;
	(void)change;
	m->prepares++;
	if (m->move_it && new)
		new->base_gfn += 100;
	return 0;
}

static void meddle_abort(void *opaque, const struct memslot *old, struct memslot *new,
			 enum memslots_change change)
{
	struct meddle *m = opaque;

	(void)old;
	(void)new;
	(void)change;
	m->aborts++;
}

static void meddle_commit(void *opaque, const struct memslot *old, const struct memslot *new,
			  enum memslots_change change)
{
	struct meddle *m = opaque;

	(void)old;
	(void)new;
	(void)change;
	m->commits++;
	if (m->free_it) {
		errno = 0;
		memslots_free(m->ms); /* refused: the object is in use right here */
		m->free_refused = errno == EDEADLK;
	}
}

static const struct memslots_ops meddle_ops = {
	.prepare = meddle_prepare,
	.abort = meddle_abort,
	.commit = meddle_commit,
};

/* A prepare may set priv only: moving the new slot is refused and undone. */
START_TEST(test_prepare_changes_slot)
{
	struct meddle m = {.move_it = true};
	struct memslots_config cfg = {.rcu = &nop_rcu, .ops = &meddle_ops, .opaque = &m};
	struct memslots_region r = region(1, 0, 4);
	const struct memslots_set *set;

	m.ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(m.ms);
	ck_assert_int_eq(memslots_set_region(m.ms, &r), -EINVAL);
	ck_assert_int_eq(m.prepares, 1);
	ck_assert_int_eq(m.aborts, 1); /* its prepare succeeded: it is aborted */
	ck_assert_int_eq(m.commits, 0);
	set = memslots_read_lock(m.ms);
	ck_assert_uint_eq(memslots_count(set), 0);
	ck_assert_ptr_null(memslots_find_gfn(set, 100));
	memslots_read_unlock(m.ms);
	/* The gfn range it tried to take is free, the one asked for too. */
	m.move_it = false;
	ck_assert_int_eq(memslots_set_region(m.ms, &r), 0);
	r = region(2, 100, 4);
	ck_assert_int_eq(memslots_set_region(m.ms, &r), 0);
	memslots_free(m.ms);
}
END_TEST

/* memslots_free from a hook or a read-side section frees nothing. */
START_TEST(test_free_while_in_use)
{
	struct meddle m = {.free_it = true};
	struct memslots_config cfg = {.rcu = &nop_rcu, .ops = &meddle_ops, .opaque = &m};
	struct memslots_region r = region(1, 0, 4);

	m.ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(m.ms);
	ck_assert_int_eq(memslots_set_region(m.ms, &r), 0);
	ck_assert(m.free_refused);
	m.free_it = false;
	memslots_read_lock(m.ms);
	errno = 0;
	memslots_free(m.ms);
	ck_assert_int_eq(errno, EDEADLK);
	memslots_read_unlock(m.ms);
	still_works(m.ms, 2);
	memslots_free(m.ms);
}
END_TEST

/* ---- the default RCU and threads that forget to register or unregister ---------------- */

struct section_thread {
	struct memslots *ms;
	atomic_int stage; /* 1: inside the section, 2: may leave it */
};

static void *reader_without_register(void *arg)
{
	struct section_thread *t = arg;
	const struct memslots_set *set = memslots_read_lock(t->ms);

	ck_assert_ptr_nonnull(set);
	atomic_store(&t->stage, 1);
	while (atomic_load(&t->stage) != 2)
		sched_yield();
	memslots_read_unlock(t->ms);
	return NULL;
}

struct writer_thread {
	struct memslots *ms;
	atomic_int done;
};

static void *delete_slot_1(void *arg)
{
	struct writer_thread *w = arg;
	struct memslots_region r = region(1, 0, 4);

	r.memory_size = 0;
	ck_assert_int_eq(memslots_set_region(w->ms, &r), 0);
	atomic_store(&w->done, 1);
	return NULL;
}

/*
 * A thread that enters a section without registering is registered then:
 * a writer's grace period waits for it (the delete cannot finish while the
 * reader is inside).
 */
START_TEST(test_default_rcu_implicit_register)
{
	struct section_thread t = {.ms = memslots_new(NULL)};
	struct writer_thread w = {.ms = t.ms};
	struct memslots_region r = region(1, 0, 4);
	pthread_t reader, writer;
	struct timespec pause = {.tv_nsec = 200 * 1000 * 1000};

	ck_assert_ptr_nonnull(t.ms);
	ck_assert_int_eq(memslots_set_region(t.ms, &r), 0);
	atomic_init(&t.stage, 0);
	atomic_init(&w.done, 0);
	ck_assert_int_eq(pthread_create(&reader, NULL, reader_without_register, &t), 0);
	while (atomic_load(&t.stage) != 1)
		sched_yield();
	ck_assert_int_eq(pthread_create(&writer, NULL, delete_slot_1, &w), 0);
	nanosleep(&pause, NULL);
	ck_assert_int_eq(atomic_load(&w.done), 0); /* held by the reader */
	atomic_store(&t.stage, 2);
	pthread_join(reader, NULL);
	pthread_join(writer, NULL);
	ck_assert_int_eq(atomic_load(&w.done), 1);
	memslots_free(t.ms);
}
END_TEST

static void *register_and_exit(void *arg)
{
	struct memslots *ms = arg;

	memslots_reader_register(ms);
	memslots_read_unlock(ms);
	memslots_read_lock(ms);
	memslots_read_unlock(ms);
	return NULL; /* still registered */
}

/* Threads that exit registered are unregistered: grace periods go on. */
START_TEST(test_default_rcu_exit_registered)
{
	struct memslots *ms = memslots_new(NULL);
	pthread_t th;
	int i;

	ck_assert_ptr_nonnull(ms);
	for (i = 0; i < 16; i++) {
		ck_assert_int_eq(pthread_create(&th, NULL, register_and_exit, ms), 0);
		pthread_join(th, NULL);
	}
	for (i = 0; i < 32; i++)
		still_works(ms, (uint32_t)i);
	memslots_free(ms);
}
END_TEST

/* An application that uses liburcu's memb flavor itself registers its
 * threads with liburcu; the library must leave that registration alone. */
START_TEST(test_default_rcu_app_registered)
{
	struct memslots *ms = memslots_new(NULL);

	ck_assert_ptr_nonnull(ms);
	urcu_memb_register_thread();
	memslots_reader_register(ms); /* liburcu would abort a second one */
	ck_assert_ptr_nonnull(memslots_read_lock(ms));
	memslots_read_unlock(ms);
	memslots_reader_unregister(ms); /* must not unregister the app's */
	ck_assert_ptr_nonnull(memslots_read_lock(ms));
	memslots_read_unlock(ms);
	urcu_memb_unregister_thread(); /* liburcu would abort if already done */
	still_works(ms, 3);
	memslots_free(ms);
}
END_TEST

/* No unregistration from inside a section. */
START_TEST(test_default_rcu_unregister_in_section)
{
	struct memslots *ms = memslots_new(NULL);
	struct writer_thread w = {.ms = ms};
	struct memslots_region r = region(1, 0, 4);
	struct timespec pause = {.tv_nsec = 200 * 1000 * 1000};
	pthread_t writer;

	ck_assert_ptr_nonnull(ms);
	ck_assert_int_eq(memslots_set_region(ms, &r), 0);
	atomic_init(&w.done, 0);
	memslots_reader_register(ms);
	ck_assert_ptr_nonnull(memslots_read_lock(ms));
	memslots_reader_unregister(ms); /* refused: still a reader */
	ck_assert_int_eq(pthread_create(&writer, NULL, delete_slot_1, &w), 0);
	nanosleep(&pause, NULL);
	ck_assert_int_eq(atomic_load(&w.done), 0);
	memslots_read_unlock(ms);
	pthread_join(writer, NULL);
	memslots_reader_unregister(ms);
	memslots_free(ms);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("misuse");
	TCase *tc;

	tc = tcase_create("config");
	tcase_add_test(tc, test_bad_config);
	tcase_add_test(tc, test_new_enomem);
	suite_add_tcase(s, tc);
	tc = tcase_create("null_args");
	tcase_add_test(tc, test_null_args);
	suite_add_tcase(s, tc);
	tc = tcase_create("unbalanced_unlock");
	tcase_add_test(tc, test_unlock_without_lock);
	tcase_add_test(tc, test_unlock_without_lock_default_rcu);
	tcase_add_test(tc, test_register_unbalanced);
	suite_add_tcase(s, tc);
	tc = tcase_create("deadlk");
	tcase_add_test(tc, test_deadlk_read_section);
	tcase_add_test(tc, test_deadlk_hooks);
	tcase_add_test(tc, test_deadlk_hooks_default_rcu);
	suite_add_tcase(s, tc);
	tc = tcase_create("lifetime_and_hooks");
	tcase_add_test(tc, test_prepare_changes_slot);
	tcase_add_test(tc, test_free_while_in_use);
	tcase_add_test(tc, test_default_rcu_implicit_register);
	tcase_add_test(tc, test_default_rcu_exit_registered);
	tcase_add_test(tc, test_default_rcu_unregister_in_section);
	tcase_add_test(tc, test_default_rcu_app_registered);
	suite_add_tcase(s, tc);
	tc = tcase_create("absurd_values");
	tcase_add_test(tc, test_absurd_batch);
	tcase_add_test(tc, test_strerror_any_code);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(make_suite());
}
