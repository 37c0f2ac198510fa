/* SPDX-License-Identifier: MIT */
/*
 * Misuse, continued: hooks that meddle with the slot they are handed,
 * freeing an object in use, the default RCU's thread registration done
 * wrongly, and sizes and values out of any range.
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

#include "misuse_fixture.h"
#include "ts_check.h"

/* ---- sizes and values out of any range ---------------------------------------------- */

/* Refuses anything larger than 1 MiB: no real allocator needs to see the absurd sizes. */
static void *capped_alloc(size_t size, void *opaque)
{
	if (size > (1u << 20))
		return NULL;
	return ts_alloc(size, opaque);
}

START_TEST(test_absurd_batch)
{
	struct ts_alloc_counter cnt = {0};
	struct memslots_config cfg = {
		.rcu = &ts_misuse_nop_rcu,
		.alloc = capped_alloc,
		.free = ts_free,
		.alloc_opaque = &cnt,
	};
	struct memslots *ms = memslots_new(&cfg);
	struct memslots_region r = ts_misuse_region(1, 0, 1);
	size_t live, failed = 9;

	ck_assert_ptr_nonnull(ms);
	live = cnt.live;
	/* n so large that the batch's bookkeeping cannot be sized: -ENOMEM, not
	 * an overflowed allocation and a read past @r */
	ck_assert_int_eq(memslots_apply(ms, &r, SIZE_MAX, &failed), -ENOMEM);
	ck_assert_int_eq(memslots_apply(ms, &r, SIZE_MAX / 2, &failed), -ENOMEM);
	ck_assert_int_eq(memslots_apply(ms, &r, (size_t)1 << 40, &failed), -ENOMEM);
	ck_assert_uint_eq(cnt.live, live);
	ts_misuse_still_works(ms, 1);
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
	struct memslots_config cfg = {.rcu = &ts_misuse_nop_rcu, .ops = &meddle_ops, .opaque = &m};
	struct memslots_region r = ts_misuse_region(1, 0, 4);
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
	r = ts_misuse_region(2, 100, 4);
	ck_assert_int_eq(memslots_set_region(m.ms, &r), 0);
	memslots_free(m.ms);
}
END_TEST

/* memslots_free from a hook or a read-side section frees nothing. */
START_TEST(test_free_while_in_use)
{
	struct meddle m = {.free_it = true};
	struct memslots_config cfg = {.rcu = &ts_misuse_nop_rcu, .ops = &meddle_ops, .opaque = &m};
	struct memslots_region r = ts_misuse_region(1, 0, 4);

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
	ts_misuse_still_works(m.ms, 2);
	memslots_free(m.ms);
}
END_TEST

/* memslots_destroy: the same refusals as a return value; errno untouched. */
START_TEST(test_destroy_outcome)
{
	struct meddle m = {0};
	struct memslots_config cfg = {.rcu = &ts_misuse_nop_rcu, .ops = &meddle_ops, .opaque = &m};
	struct memslots_region r = ts_misuse_region(1, 0, 4);

	ck_assert_int_eq(memslots_destroy(NULL), 0);
	m.ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(m.ms);
	ck_assert_int_eq(memslots_set_region(m.ms, &r), 0);
	memslots_read_lock(m.ms);
	errno = 0;
	ck_assert_int_eq(memslots_destroy(m.ms), -EDEADLK);
	ck_assert_int_eq(errno, 0);
	memslots_read_unlock(m.ms);
	ts_misuse_still_works(m.ms, 2);
	ck_assert_int_eq(memslots_destroy(m.ms), 0);
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
	struct memslots_region r = ts_misuse_region(1, 0, 4);

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
	struct memslots_region r = ts_misuse_region(1, 0, 4);
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
		ts_misuse_still_works(ms, (uint32_t)i);
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
	ts_misuse_still_works(ms, 3);
	memslots_free(ms);
}
END_TEST

/* No unregistration from inside a section. */
START_TEST(test_default_rcu_unregister_in_section)
{
	struct memslots *ms = memslots_new(NULL);
	struct writer_thread w = {.ms = ms};
	struct memslots_region r = ts_misuse_region(1, 0, 4);
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

void misuse_add_lifetime_cases(Suite *s)
{
	const struct ts_case cases[] = {
		{.tcase = "lifetime_and_hooks", .test = test_prepare_changes_slot},
		{.tcase = "lifetime_and_hooks", .test = test_free_while_in_use},
		{.tcase = "lifetime_and_hooks", .test = test_destroy_outcome},
		{.tcase = "lifetime_and_hooks", .test = test_default_rcu_implicit_register},
		{.tcase = "lifetime_and_hooks", .test = test_default_rcu_exit_registered},
		{.tcase = "lifetime_and_hooks", .test = test_default_rcu_unregister_in_section},
		{.tcase = "lifetime_and_hooks", .test = test_default_rcu_app_registered},
		{.tcase = "absurd_values", .test = test_absurd_batch},
		{.tcase = "absurd_values", .test = test_strerror_any_code},
	};

	ts_add_cases(s, cases, sizeof(cases) / sizeof(cases[0]));
}
