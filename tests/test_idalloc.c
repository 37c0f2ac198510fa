/* SPDX-License-Identifier: MIT */
/*
 * The slot-id allocator: memslots_lowest_free_id() against a brute-force
 * model over random states and ranges, memslots_create_region2() and
 * memslots_create_region() picking ids (lowest free, ranges, exhaustion to
 * -ENOSPC at max_slots, ids freed by a delete reused, failed creates
 * consuming nothing, allocation failures), two threads never picking the
 * same id, and the misuse it refuses.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "ts_check.h"

#define PAGE 4096ull

/* A one-page request at page @gfn; its id is the allocator's to pick. */
static struct memslots_region2 page_req(uint64_t gfn)
{
	struct memslots_region2 r;

	memset(&r, 0, sizeof(r));
	r.guest_phys_addr = gfn * PAGE;
	r.memory_size = PAGE;
	r.userspace_addr = 0x100000000ull + gfn * PAGE;
	return r;
}

static struct memslots *new_ms(unsigned int max_slots)
{
	struct memslots_config cfg = {.max_slots = max_slots};
	struct memslots *ms = memslots_new(&cfg);

	ck_assert_ptr_nonnull(ms);
	return ms;
}

static void set_id(struct memslots *ms, uint16_t id, uint64_t gfn, bool create)
{
	struct memslots_region2 r = page_req(gfn);

	r.slot = id;
	if (!create)
		r.memory_size = 0;
	ck_assert_int_eq(memslots_set_region2(ms, &r), 0);
}

static bool has_id(struct memslots *ms, uint16_t id)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	bool has = memslots_find_id(set, id) != NULL;

	memslots_read_unlock(ms);
	return has;
}

static int lowest(struct memslots *ms, unsigned int first, unsigned int last)
{
	uint16_t id = 0xbeef;
	int err = memslots_lowest_free_id(ms, first, last, &id);

	if (err) {
		ck_assert_uint_eq(id, 0xbeef); /* written only on success */
		return err;
	}
	return id;
}

START_TEST(lowest_free)
{
	struct memslots *ms = new_ms(8);
	uint16_t id;

	memslots_reader_register(ms);
	ck_assert_int_eq(lowest(ms, 0, UINT_MAX), 0);
	set_id(ms, 0, 0, true);
	set_id(ms, 1, 1, true);
	set_id(ms, 2, 2, true);
	ck_assert_int_eq(lowest(ms, 0, UINT_MAX), 3);
	set_id(ms, 1, 1, false);
	ck_assert_int_eq(lowest(ms, 0, UINT_MAX), 1);
	ck_assert_int_eq(lowest(ms, 2, 7), 3);
	ck_assert_int_eq(lowest(ms, 5, 5), 5);
	ck_assert_int_eq(lowest(ms, 2, 2), -ENOSPC);
	ck_assert_int_eq(lowest(ms, 7, 100), 7); /* last clamped to max_slots - 1 */
	ck_assert_int_eq(lowest(ms, 1, 1), 1);
	/* bad arguments */
	ck_assert_int_eq(lowest(ms, 8, 9), -EINVAL); /* first >= max_slots */
	ck_assert_int_eq(lowest(ms, 3, 2), -EINVAL);
	ck_assert_int_eq(lowest(ms, UINT_MAX, UINT_MAX), -EINVAL);
	ck_assert_int_eq(memslots_lowest_free_id(NULL, 0, 1, &id), -EINVAL);
	ck_assert_int_eq(memslots_lowest_free_id(ms, 0, 1, NULL), -EINVAL);
	/* full */
	for (uint16_t i = 1; i < 8; i++)
		if (i != 2)
			set_id(ms, i, i, true);
	ck_assert_int_eq(lowest(ms, 0, UINT_MAX), -ENOSPC);
	ck_assert_int_eq(lowest(ms, 7, 7), -ENOSPC);
	memslots_reader_unregister(ms);
	memslots_free(ms);
}
END_TEST

/*
 * Random states over several id-table chunks (256 ids each), dense and
 * sparse, and random ranges, against a scan of the model; ids are set
 * and cleared in batches, one grace period pair per batch.
 */
START_TEST(lowest_free_model)
{
	enum { MAX = 1100 };
	static bool used[MAX];
	struct memslots *ms = new_ms(MAX);
	struct ts_rng rng;

	memset(used, 0, sizeof(used));
	ts_rng_seed(&rng, 31);
	memslots_reader_register(ms);
	for (unsigned int round = 0; round < 120; round++) {
		struct memslots_region2 r[64];
		unsigned int n = 0;
		/* Work on one region of ids for a while: chunks fill up. */
		unsigned int base = (round / 20) * 180 % MAX;

		for (unsigned int k = 0; k < 64; k++) {
			unsigned int id = (base + (unsigned int)ts_rng_below(&rng, 300)) % MAX;
			bool dup = false;

			for (unsigned int j = 0; j < n; j++)
				dup |= (r[j].slot & 0xffff) == id;
			if (dup || (used[id] && ts_rng_below(&rng, 4)))
				continue;
			r[n] = page_req(id);
			r[n].slot = id;
			if (used[id])
				r[n].memory_size = 0;
			n++;
		}
		ck_assert_int_eq(memslots_apply2(ms, r, n, NULL), 0);
		for (unsigned int j = 0; j < n; j++)
			used[r[j].slot] = r[j].memory_size != 0;
		for (unsigned int q = 0; q < 200; q++) {
			unsigned int first = (unsigned int)ts_rng_below(&rng, MAX);
			unsigned int last = first + (unsigned int)ts_rng_below(&rng, 600);
			unsigned int top = last < MAX ? last : MAX - 1;
			int want = -ENOSPC;

			if (q == 0) {
				first = 0;
				last = UINT_MAX;
				top = MAX - 1;
			}
			for (unsigned int i = first; i <= top; i++) {
				if (!used[i]) {
					want = (int)i;
					break;
				}
			}
			TS_CMP(lowest(ms, first, last), ==, want);
		}
	}
	memslots_reader_unregister(ms);
	memslots_free(ms);
}
END_TEST

/* ---- creating through the allocator ----------------------------------------------------- */

struct hctx {
	struct memslots *ms;
	int fail; /* what prepare returns */
	unsigned int prepares, aborts;
	uint16_t last_id;
	int nested; /* memslots_lowest_free_id() from inside prepare */
};

static int h_prepare(void *opaque, const struct memslot *old, struct memslot *new,
		     enum memslots_change change)
{
	struct hctx *h = opaque;
	uint16_t id;

	(void)old;
	h->prepares++;
	if (change == MEMSLOTS_CREATE)
		h->last_id = new->id;
	h->nested = memslots_lowest_free_id(h->ms, 0, UINT_MAX, &id);
	return h->fail;
}

static void h_abort(void *opaque, const struct memslot *old, struct memslot *new,
		    enum memslots_change change)
{
	struct hctx *h = opaque;

	(void)old;
	(void)new;
	(void)change;
	h->aborts++;
}

static const struct memslots_ops h_ops = {.prepare = h_prepare, .abort = h_abort};

START_TEST(create_picks_ids)
{
	struct hctx h = {0};
	struct memslots_config cfg = {.max_slots = 10, .ops = &h_ops, .opaque = &h};
	struct memslots_region2 r = page_req(0);
	struct memslots_region r1;
	uint16_t id;

	h.ms = memslots_new(&cfg);
	ck_assert_ptr_nonnull(h.ms);
	memslots_reader_register(h.ms);

	/* the lowest free id, and the prepare hook sees it */
	for (uint16_t want = 0; want < 3; want++) {
		r = page_req(want);
		r.slot = 0xffff; /* the id bits are ignored */
		id = 0xbeef;
		ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, UINT_MAX, &id), 0);
		ck_assert_uint_eq(id, want);
		ck_assert_uint_eq(h.last_id, want);
		ck_assert(has_id(h.ms, want));
		/* a hook may not ask: it holds the writer lock */
		ck_assert_int_eq(h.nested, -EDEADLK);
	}
	/* a range, e.g. a device's BARs */
	r = page_req(10);
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 5, 7, &id), 0);
	ck_assert_uint_eq(id, 5);
	/* v1, which refuses GUEST_MEMFD as memslots_set_region() does */
	r = page_req(11);
	memcpy(&r1, &r, sizeof(r1));
	ck_assert_int_eq(memslots_create_region(h.ms, &r1, 5, 7, &id), 0);
	ck_assert_uint_eq(id, 6);
	r1.guest_phys_addr = 12 * PAGE;
	r1.flags = MEMSLOT_GUEST_MEMFD;
	id = 0xbeef;
	ck_assert_int_eq(memslots_create_region(h.ms, &r1, 0, UINT_MAX, &id), -EINVAL);
	ck_assert_uint_eq(id, 0xbeef);

	/* failed creates consume nothing and leave id alone */
	r = page_req(0); /* overlaps slot 0 */
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, UINT_MAX, &id), -EEXIST);
	ck_assert_uint_eq(id, 0xbeef);
	ck_assert_int_eq(lowest(h.ms, 0, UINT_MAX), 3);
	r = page_req(20);
	h.fail = -EIO;
	h.aborts = 0;
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, UINT_MAX, &id), -EIO);
	ck_assert_uint_eq(h.last_id, 3);
	ck_assert_uint_eq(h.aborts, 0); /* one request: no abort for a failed prepare */
	h.fail = 0;
	ck_assert(!has_id(h.ms, 3));
	r.slot = 1u << 16; /* another address space */
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, UINT_MAX, &id), -EINVAL);
	r.slot = 0;
	r.memory_size = 0; /* a delete is no create */
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, UINT_MAX, &id), -EINVAL);
	r.memory_size = PAGE;
	r.userspace_addr += 1; /* misaligned */
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, UINT_MAX, &id), -EINVAL);
	r.userspace_addr -= 1;
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 4, 3, &id), -EINVAL);
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 10, 20, &id), -EINVAL);
	ck_assert_int_eq(memslots_create_region2(NULL, &r, 0, 1, &id), -EINVAL);
	ck_assert_int_eq(memslots_create_region2(h.ms, NULL, 0, 1, &id), -EINVAL);
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, 1, NULL), -EINVAL);
	ck_assert_int_eq(memslots_create_region(h.ms, NULL, 0, 1, &id), -EINVAL);
	ck_assert_uint_eq(id, 0xbeef);
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, UINT_MAX, &id), 0);
	ck_assert_uint_eq(id, 3);

	/* the range full: -ENOSPC, before the request's rules */
	r = page_req(30);
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 5, 6, &id), -ENOSPC);
	r.memory_size = 7; /* invalid, but no id to try it with */
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 5, 6, &id), -ENOSPC);
	r.memory_size = PAGE;
	/* exhaustion at max_slots: ids 4, 7, 8, 9 are left */
	for (unsigned int k = 0; k < 4; k++) {
		static const uint16_t want[] = {4, 7, 8, 9};

		r = page_req(40 + k);
		ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, UINT_MAX, &id), 0);
		ck_assert_uint_eq(id, want[k]);
	}
	r = page_req(50);
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, UINT_MAX, &id), -ENOSPC);
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 9, 9, &id), -ENOSPC);
	ck_assert_str_ne(memslots_strerror(-ENOSPC), memslots_strerror(-EINVAL));
	ck_assert_ptr_nonnull(strstr(memslots_strerror(-ENOSPC), "slot id"));

	/* a deleted id is reused */
	set_id(h.ms, 6, 11, false);
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, UINT_MAX, &id), 0);
	ck_assert_uint_eq(id, 6);

	/* inside a read-side section, both refuse */
	(void)memslots_read_lock(h.ms);
	ck_assert_int_eq(memslots_lowest_free_id(h.ms, 0, UINT_MAX, &id), -EDEADLK);
	ck_assert_int_eq(memslots_create_region2(h.ms, &r, 0, UINT_MAX, &id), -EDEADLK);
	memslots_read_unlock(h.ms);

	memslots_reader_unregister(h.ms);
	memslots_free(h.ms);
}
END_TEST

/* The default 32764 ids, filled in one batch, then the last ones picked:
 * every chunk of the id table full, the top one partly. */
START_TEST(exhaust_default_max)
{
	struct memslots *ms = memslots_new(NULL);
	const unsigned int max = MEMSLOTS_DEFAULT_MAX_SLOTS;
	struct memslots_region2 *r = calloc(max, sizeof(*r)), q;
	uint16_t id;

	ck_assert_ptr_nonnull(ms);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(memslots_max_slots(ms), max);
	for (unsigned int i = 0; i < max - 2; i++) {
		r[i] = page_req(i);
		r[i].slot = i < 20000 ? i : i + 1; /* 20000 and max - 1 stay free */
	}
	ck_assert_int_eq(memslots_apply2(ms, r, max - 2, NULL), 0);
	ck_assert_int_eq(lowest(ms, 0, UINT_MAX), 20000);
	ck_assert_int_eq(lowest(ms, 20001, UINT_MAX), (int)max - 1);
	ck_assert_int_eq(lowest(ms, 20001, max - 2), -ENOSPC);
	q = page_req(max + 10);
	ck_assert_int_eq(memslots_create_region2(ms, &q, 0, UINT_MAX, &id), 0);
	ck_assert_uint_eq(id, 20000);
	q = page_req(max + 11);
	ck_assert_int_eq(memslots_create_region2(ms, &q, 0, UINT_MAX, &id), 0);
	ck_assert_uint_eq(id, max - 1);
	q = page_req(max + 12);
	ck_assert_int_eq(memslots_create_region2(ms, &q, 0, UINT_MAX, &id), -ENOSPC);
	ck_assert_int_eq(lowest(ms, 0, UINT_MAX), -ENOSPC);
	/* ids past max_slots are never handed out, even with 65536 possible */
	ck_assert_int_eq(memslots_create_region2(ms, &q, max, UINT_MAX, &id), -EINVAL);
	set_id(ms, 12345, 12345, false);
	ck_assert_int_eq(memslots_create_region2(ms, &q, 0, UINT_MAX, &id), 0);
	ck_assert_uint_eq(id, 12345);
	free(r);
	memslots_free(ms);
}
END_TEST

/* Every allocation a create makes, failed in turn: -ENOMEM, nothing
 * changed, nothing leaked, the id still free; then it succeeds. */
START_TEST(create_alloc_failures)
{
	struct ts_alloc_counter ac = {0};
	struct memslots_config cfg = {
		.max_slots = 600,
		.alloc = ts_alloc,
		.free = ts_free,
		.alloc_opaque = &ac,
	};
	struct memslots *ms = memslots_new(&cfg);
	struct memslots_region2 r;
	unsigned int failures = 0;
	uint16_t id;

	ck_assert_ptr_nonnull(ms);
	/* ids 0 .. 255 taken, so the next create needs a new id-table chunk */
	for (unsigned int i = 0; i < 256; i++) {
		r = page_req(i);
		ck_assert_int_eq(memslots_create_region2(ms, &r, 0, UINT_MAX, &id), 0);
		ck_assert_uint_eq(id, i);
	}
	for (size_t k = 1;; k++) {
		size_t live = ac.live;
		int err;

		r = page_req(1000);
		ac.fail_at = ac.calls + k;
		ac.failed = false;
		id = 0xbeef;
		err = memslots_create_region2(ms, &r, 0, UINT_MAX, &id);
		ac.fail_at = 0;
		if (!ac.failed) {
			ck_assert_int_eq(err, 0);
			ck_assert_uint_eq(id, 256);
			break;
		}
		ck_assert_int_eq(err, -ENOMEM);
		ck_assert_uint_eq(id, 0xbeef);
		ck_assert_uint_eq(ac.live, live);
		ck_assert(!has_id(ms, 256));
		ck_assert_int_eq(lowest(ms, 0, UINT_MAX), 256);
		failures++;
	}
	/* The slot, and on the B+tree index the id table's chunk; KVM's hash
	 * has its nodes in the slot. */
	ck_assert_uint_gt(failures, memslots_index(ms) == MEMSLOTS_INDEX_BTREE ? 1 : 0);
	memslots_free(ms);
	ck_assert_uint_eq(ac.live, 0);
}
END_TEST

/* ---- two threads, one id space ---------------------------------------------------------- */

#define PER_THREAD 60u

struct racer {
	struct memslots *ms;
	unsigned int base; /* of its gfns */
	uint16_t ids[PER_THREAD];
	int errs;
};

static void *race(void *arg)
{
	struct racer *t = arg;

	for (unsigned int i = 0; i < PER_THREAD; i++) {
		struct memslots_region2 r = page_req(t->base + i);

		if (memslots_create_region2(t->ms, &r, 0, UINT_MAX, &t->ids[i]))
			t->errs++;
	}
	return NULL;
}

START_TEST(concurrent_creates)
{
	struct memslots *ms = new_ms(4 * PER_THREAD);
	struct racer t[3];
	pthread_t th[3];
	bool seen[4 * PER_THREAD] = {0};

	for (unsigned int i = 0; i < 3; i++) {
		t[i] = (struct racer){.ms = ms, .base = i * 1000};
		ck_assert_int_eq(pthread_create(&th[i], NULL, race, &t[i]), 0);
	}
	for (unsigned int i = 0; i < 3; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	for (unsigned int i = 0; i < 3; i++) {
		ck_assert_int_eq(t[i].errs, 0);
		for (unsigned int k = 0; k < PER_THREAD; k++) {
			uint16_t id = t[i].ids[k];

			ck_assert_uint_lt(id, 3 * PER_THREAD);
			ck_assert_msg(!seen[id], "id %u picked twice", id);
			seen[id] = true;
		}
	}
	ck_assert_int_eq(lowest(ms, 0, UINT_MAX), 3 * PER_THREAD);
	memslots_free(ms);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("idalloc");
	TCase *tc = tcase_create("idalloc");

	tcase_add_test(tc, lowest_free);
	tcase_add_test(tc, lowest_free_model);
	tcase_add_test(tc, create_picks_ids);
	tcase_add_test(tc, create_alloc_failures);
	tcase_add_test(tc, concurrent_creates);
	suite_add_tcase(s, tc);
	tc = tcase_create("idalloc_exhaust");
	tcase_add_test(tc, exhaust_default_max);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ts_run_suite(make_suite());
}
