// SPDX-License-Identifier: MIT
/*
 * Differential fuzz target: the engine against a brute-force model.
 *
 * The input is decoded into a configuration (page size, ids, hva limit,
 * the flags the VM type allows, the address space, the index: KVM's gfn
 * red-black tree and id hash or the B+tree and id table) and a sequence of
 * operations: single set_region calls and batched applies, through the v1
 * calls or the v2 ones with guest_memfd slots (valid and invalid requests
 * alike), memory-attribute conversions, dirty logging (a config that
 * keeps bitmaps, marks, merges and collects against the dirty model),
 * prepare-hook failures and
 * allocation failures injected into the
 * next writer call, writer calls from hooks and read-side sections, and
 * lookups.  Every call runs on the engine and on the model below, which is
 * a plain transcription of the contract's rules (linear scans over at most
 * a few dozen slots), and the target traps on any difference: return code,
 * failed index, generation (changed iff something changed), the hooks
 * called, every lookup and iteration, and live allocations (a failed or
 * no-op call must leave as many as it found).
 *
 * Spaces are kept small (ids 0..17, gfns mostly below 80, a few host
 * bases) so that overlaps, duplicates and id reuse are the common case,
 * with a few large values for the wraparound and limit rules.
 *
 * The model is the one the unit tests use (tests/support/model.h); the
 * engine's own consistency checks run after every writer call too.
 *
 * Single-threaded: the RCU is the support library's counting one (an
 * empty synchronize), which keeps an execution to microseconds.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#include "fuzz_common.h"
#include "fuzz_memslots.h"
#include "model.h"

/* The ids named so far by the requests of a batch. */
struct fz_named {
	uint16_t id[FZ_MAX_BATCH];
	unsigned int n;
};

/*
 * Built with -DFZ_STATS (scripts/fuzz-soak.sh coverage does), the target
 * counts what it exercised and prints it at exit: the catalogue of bad
 * inputs in docs/reliability.md.
 */
#ifdef FZ_STATS
static unsigned long fz_rejected[TS_MODEL_NR_REASONS];
static unsigned long fz_outcome[8]; /* by enum memslots_change, then the rest */
static const char *const fz_outcomes[] = {
	"CREATE",
	"DELETE",
	"MOVE",
	"FLAGS_ONLY",
	"no-op request",
	"prepare failure injected",
	"-ENOMEM injected and returned",
	"writer call",
};
#define FZ_COUNT(i) (fz_outcome[i]++)

static void fz_print_stats(void)
{
	size_t i;

	for (i = 0; i < TS_MODEL_NR_REASONS; i++)
		fprintf(stderr, "rejected: %-40s %lu\n", ts_model_reasons[i], fz_rejected[i]);
	for (i = 0; i < sizeof(fz_outcomes) / sizeof(fz_outcomes[0]); i++)
		fprintf(stderr, "model: %-44s %lu\n", fz_outcomes[i], fz_outcome[i]);
}

__attribute__((constructor)) static void fz_stats_init(void)
{
	atexit(fz_print_stats);
}

static int fz_reject(unsigned int reason, int err)
{
	fz_rejected[reason]++;
	return err;
}
#else
#define FZ_COUNT(i) ((void)0)
static inline int fz_reject(unsigned int reason, int err)
{
	(void)reason;
	return err;
}
#endif

/*
 * Contract rules 1 to 6 for one request, by the model, against the state
 * as the earlier requests of the call left it, with the batch rule (an id
 * named twice) where the engine checks it: after the request's own fields
 * (rules 1 to 3), before what it does to the state.  Returns 0 and fills
 * @c (1 in *noop when nothing changes), or a negative errno.
 */
static int fz_model_check(const struct ts_model *m, const struct memslots_region2 *r, bool v1,
			  struct fz_named *named, struct fz_change *c, bool *noop)
{
	uint16_t id = r->slot & 0xffff;
	enum ts_model_reason why;
	int change = TS_MODEL_NOOP;
	int err = ts_model_classify2_why(m, r, v1, &change, &why);

	*noop = false;
	if (err && why <= TS_MODEL_TOO_BIG)
		return fz_reject(why, err);
	if (named) {
		unsigned int i;

		for (i = 0; i < named->n; i++)
			if (named->id[i] == id)
				return fz_reject(TS_MODEL_NAMED_TWICE, -EINVAL);
		named->id[named->n++] = id;
	}
	if (err)
		return fz_reject(why, err);
	*noop = change == TS_MODEL_NOOP;
	memset(c, 0, sizeof(*c));
	c->type = (enum memslots_change)change;
	c->id = id;
	c->old = m->slot[id];
	return 0;
}

/* Applies @c to the model; the new slot is the model's after it. */
static void fz_model_apply(struct ts_model *m, const struct memslots_region2 *r,
			   struct fz_change *c)
{
	ts_model_commit2(m, r, (int)c->type);
	c->new = m->slot[c->id];
}

/* Puts the model back as it was before the first @n changes, newest first. */
static void fz_model_undo(struct ts_model *m, const struct fz_change *changes, size_t n)
{
	while (n--)
		ts_model_set_slot(m, changes[n].id, &changes[n].old);
}

/* ---- running one writer call on both ------------------------------------------------- */

static void fz_sort_events(struct fz_event *e, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && e[j - 1].id > e[j].id; j--) {
			struct fz_event t = e[j];

			e[j] = e[j - 1];
			e[j - 1] = t;
		}
}

/* The hook events of one kind, in the order they came. */
static size_t fz_events(int hook, struct fz_event *out)
{
	size_t i, n = 0;

	for (i = 0; i < F.nr_log; i++)
		if (F.log[i].hook == hook)
			out[n++] = F.log[i];
	return n;
}

static bool fz_events_eq(const struct fz_event *a, const struct fz_event *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i].type != b[i].type || a[i].id != b[i].id)
			return false;
	return true;
}

/*
 * Runs @n requests as one call (set_region when !batch) on the engine and
 * the model, and compares everything observable.
 */
static void fz_writer_call(const struct memslots_region2 *r, size_t n, bool batch, bool v2,
			   size_t alloc_fail_at)
{
	struct memslots_region r1[FZ_MAX_BATCH];
	struct fz_event got[FZ_MAX_LOG], want[FZ_MAX_LOG];
	struct fz_named named = {.n = 0};
	const struct memslots_set *set;
	size_t i, ng, nw, live, failed = 12345, m_failed = 0, nprep;
	bool prep_fired;
	uint64_t gen0, gen1;
	int ret, m_ret = 0;
	bool noop, m_prep_failed = false;

	F.nr_changes = 0;
	F.nr_applied = 0;
	/*
	 * The model: one by one, each request validated against the state the
	 * earlier ones left, and each change prepared as soon as it is
	 * validated, so the call fails where sequential application would.
	 */
	nprep = 0;
	for (i = 0; i < n && !m_ret; i++) {
		struct fz_change *c = &F.changes[F.nr_changes];

		m_ret = fz_model_check(&F.m, &r[i], !v2, batch ? &named : NULL, c, &noop);
		m_failed = i;
		if (noop)
			FZ_COUNT(4);
		if (m_ret || noop)
			continue;
		FZ_COUNT(c->type);
		c->index = i;
		F.nr_changes++;
		nprep++;
		fz_model_apply(&F.m, &r[i], c);
		F.nr_applied++;
		if (F.fail_prep == nprep) {
			FZ_COUNT(5);
			m_ret = F.prep_ret;
			m_prep_failed = true;
		}
	}
	if (m_ret)
		fz_model_undo(&F.m, F.changes, F.nr_applied); /* the engine must roll back */

	FZ_COUNT(7);
	set = memslots_read_lock(F.ms);
	gen0 = memslots_generation(set);
	memslots_read_unlock(F.ms);
	live = F.alloc.live;
	F.nr_log = 0;
	F.phase = FZ_PREPARE;
	F.prepares = 0;
	F.alloc.calls = 0;
	F.alloc.failed = false;
	F.alloc.fail_at = alloc_fail_at;
	for (i = 0; !v2 && i < n; i++)
		memcpy(&r1[i], &r[i], sizeof(r1[i])); /* the v1 calls get the first five fields */
	if (v2)
		ret = batch ? memslots_apply2(F.ms, r, n, &failed) : memslots_set_region2(F.ms, r);
	else
		ret = batch ? memslots_apply(F.ms, r1, n, &failed) : memslots_set_region(F.ms, r1);
	F.alloc.fail_at = 0;
	/* Whether the injected prepare failure fired: that prepare is logged
	 * but, having failed, is not aborted. */
	prep_fired = F.fail_prep && F.prepares >= F.fail_prep;
	F.fail_prep = 0;
	F.reenter = false;

	set = memslots_read_lock(F.ms);
	gen1 = memslots_generation(set);
	if (F.alloc.failed && ret == -ENOMEM) {
		/* Memory ran out somewhere before publication: nothing changed,
		 * and every prepare that succeeded was aborted. */
		if (!m_ret)
			fz_model_undo(&F.m, F.changes, F.nr_applied);
		FZ_CHECK(!batch || failed <= (m_ret ? m_failed : n - 1));
		/* A prepare may fail with -ENOMEM too, while an ignored
		 * best-effort allocation (a hash shrink) failed. */
		ng = fz_events(FZ_PREPARE, got) - (prep_fired ? 1 : 0);
		FZ_CHECK(fz_events(FZ_ABORT, got) == ng);
		FZ_CHECK(fz_events(FZ_COMMIT, got) == 0);
		FZ_CHECK(fz_events(FZ_INVALIDATE, got) == 0);
		m_ret = ret;
		FZ_COUNT(6);
	} else {
		FZ_CHECK(ret == m_ret);
		if (ret && batch)
			FZ_CHECK(failed == m_failed);
		if (!ret && batch)
			FZ_CHECK(failed == 12345); /* untouched on success */
		/* prepare in request order, up to the failing one */
		FZ_CHECK(fz_events(FZ_PREPARE, got) == nprep);
		for (i = 0; i < nprep; i++)
			want[i] = (struct fz_event){FZ_PREPARE, F.changes[i].type,
						    F.changes[i].id};
		FZ_CHECK(fz_events_eq(got, want, nprep));
		if (m_ret) {
			/* the prepared ones aborted in reverse order; a failing one not */
			ng = fz_events(FZ_ABORT, got);
			FZ_CHECK(ng == nprep - m_prep_failed);
			for (i = 0; i < ng; i++)
				FZ_CHECK(got[i].id == want[ng - 1 - i].id &&
					 got[i].type == want[ng - 1 - i].type);
			FZ_CHECK(fz_events(FZ_COMMIT, got) == 0);
			FZ_CHECK(fz_events(FZ_INVALIDATE, got) == 0);
		} else {
			FZ_CHECK(fz_events(FZ_ABORT, got) == 0);
			/* commits: one per change (order unspecified) */
			ng = fz_events(FZ_COMMIT, got);
			FZ_CHECK(ng == F.nr_changes);
			fz_sort_events(got, ng);
			fz_sort_events(want, ng);
			FZ_CHECK(fz_events_eq(got, want, ng));
			/* invalidates: one per DELETE and MOVE */
			ng = fz_events(FZ_INVALIDATE, got);
			for (i = 0, nw = 0; i < F.nr_changes; i++)
				if (F.changes[i].type == MEMSLOTS_DELETE ||
				    F.changes[i].type == MEMSLOTS_MOVE)
					want[nw++] =
						(struct fz_event){FZ_INVALIDATE, F.changes[i].type,
								  F.changes[i].id};
			FZ_CHECK(ng == nw);
			fz_sort_events(got, ng);
			fz_sort_events(want, nw);
			FZ_CHECK(fz_events_eq(got, want, nw));
			/* the priv each prepare set is what got published; the
			 * dirty bitmaps made, kept and dropped */
			for (i = 0; i < F.nr_changes; i++) {
				struct fz_change *c = &F.changes[i];
				struct ts_model_slot *s = &F.m.slot[c->id];

				ts_dirty_model_change(&F.d, c->id, c->old.present ? &c->old : NULL,
						   c->new.present ? &c->new : NULL);
				if (c->type == MEMSLOTS_DELETE)
					continue;
				s->priv = (void *)fz_next_priv((uintptr_t)s->priv, c->type);
			}
		}
	}
	/* Generation: moves on iff something changed, by at most two sets. */
	if (m_ret || !F.nr_changes) {
		FZ_CHECK(gen1 == gen0);
		FZ_CHECK(F.alloc.live == live); /* nothing leaked, nothing lost */
	} else {
		FZ_CHECK(gen1 > gen0 && gen1 - gen0 <= 2);
	}
	fz_check_state(set);
	memslots_read_unlock(F.ms);
	ts_check_engine(F.ms);
	if (F.d.dirty_log)
		ts_dirty_model_check(&F.d, &F.m, F.ms);
}

static const int fz_errnos[] = {-EIO, -ENOSPC, -EINVAL, -EEXIST, -ENOMEM, -EPERM, -EAGAIN, -1};

/*
 * One memslots_set_attributes() call against the model: decoded mostly
 * inside the model's gfn space (where it can follow every gfn), with
 * requests breaking each rule, a hook failure or an allocation failure
 * now and then.  The call must return what the model says, except that
 * an allocation failure may turn a call that changes something into a
 * clean -ENOMEM; it publishes (one generation, one grace period) exactly
 * when it succeeds and changes something, the hook runs exactly when a
 * valid call changes something and got its memory, and a failed call
 * leaves the allocations as they were.
 */
static void fz_attr_call(struct fz_in *in, size_t alloc_fail_at)
{
	uint8_t x = fz_u8(in), y = fz_u8(in), z = fz_u8(in);
	uint64_t gfn = y % TS_MODEL_ATTR_GFNS, n = 1 + z % (TS_MODEL_ATTR_GFNS - gfn);
	struct memslots_attributes a =
		ts_model_attr_request(&F.m, gfn, n, x & 1 ? MEMSLOTS_ATTR_PRIVATE : 0);
	const struct memslots_set *set;
	unsigned long syncs = ts_rcu.synchronize;
	size_t live = F.alloc.live;
	uint64_t gen0, gen1;
	bool changes = false;
	int want, ret;

	switch ((x >> 1) & 15) {
	case 0:
		a.flags = 1 + (z >> 4);
		break;
	case 1:
		a.attributes |= 1ull << (z & 63);
		break;
	case 2:
		a.size = 0;
		break;
	case 3: /* the top of the space: wraps, or ends at 2^64 exactly */
		a.address = ~0ull << F.m.page_shift;
		a.size = (uint64_t)(1 + (z & 1)) << F.m.page_shift;
		break;
	case 4:
		a.address += 1 + (z & 7);
		break;
	case 5:
		a.size += 1 + (z & 7);
		break;
	}
	F.attr_ret = (x & 0x60) == 0x60 ? fz_errnos[z & 7] : (int)(x >> 7);
	F.attr_calls = 0;
	F.attr_req = &a;
	want = ts_model_attr_check(&F.m, &a, &changes);
	gen0 = ts_generation(F.ms);
	F.alloc.failed = false;
	if (alloc_fail_at)
		F.alloc.fail_at = F.alloc.calls + alloc_fail_at;
	ret = memslots_set_attributes(F.ms, &a);
	F.alloc.fail_at = 0;
	F.reenter = false;
	F.attr_req = NULL;
	if (!want && changes && ret == -ENOMEM && alloc_fail_at && F.alloc.failed) {
		FZ_CHECK(F.attr_calls == 0);
	} else {
		FZ_CHECK(F.attr_calls == (!want && changes));
		if (!want && changes && F.attr_ret < 0)
			want = F.attr_ret;
		FZ_CHECK(ret == want);
	}
	F.alloc.failed = false;
	gen1 = ts_generation(F.ms);
	if (!ret && changes) {
		ts_model_attr_commit(&F.m, &a);
		FZ_CHECK(gen1 == gen0 + 1 && ts_rcu.synchronize == syncs + 1);
	} else {
		FZ_CHECK(gen1 == gen0 && ts_rcu.synchronize == syncs);
		FZ_CHECK(F.alloc.live == live);
	}
	set = memslots_read_lock(F.ms);
	ts_model_check_attributes(&F.m, set, &fz_rng);
	memslots_read_unlock(F.ms);
	ts_check_engine(F.ms);
}

/* ---- the entry point ----------------------------------------------------------------- */

static const unsigned int fz_shifts[] = {12, 12, 10, 13, 16, 21, 30, 12};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	uint8_t c0 = fz_u8(&in), c1 = fz_u8(&in), c2 = fz_u8(&in);
	struct memslots_config cfg = {
		.ops = &fz_ops,
		.rcu = &ts_counting_rcu,
		.alloc = ts_alloc,
		.free = ts_free,
		.alloc_opaque = &F.alloc,
	};
	static const uint32_t fz_allowed[] = {
		0,
		MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_GUEST_MEMFD,
		MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY,
		MEMSLOT_LOG_DIRTY_PAGES,
	};
	struct memslots_region2 reqs[FZ_MAX_BATCH];
	size_t alloc_fail_at = 0;
	static const uint32_t fz_dirty_logs[] = {
		0,
		MEMSLOTS_DIRTY_BITMAP,
		MEMSLOTS_DIRTY_BITMAP | MEMSLOTS_DIRTY_INITIALLY_SET,
		0,
	};
	struct ts_model keep = F.m;
	struct ts_dirty_model keep_dirty = F.d;
	unsigned int op;

	/* The model's arrays are kept from one input to the next: allocating
	 * and zeroing them for 65536 ids would be most of an execution. */
	memset(&F, 0, sizeof(F));
	F.m = keep;
	F.d = keep_dirty;
	/* The bitmaps of the last input's slots, before the model forgets them. */
	ts_dirty_model_clear(&F.d, &F.m);
	memset(&fz_cache, 0, sizeof(fz_cache));
	cfg.page_shift = fz_shifts[c0 & 7];
	cfg.max_slots = c0 & 0x80 ? 65536 : 1 + ((c0 >> 3) & 15);
	if (c1 & 1)
		cfg.hva_limit = (uint64_t)(1 + (c1 >> 2)) << cfg.page_shift;
	/*
	 * Dirty logging, in a quarter of the configs each way.  Its model
	 * keeps a byte per page, so slots stay below 4096 pages there: an hva
	 * limit, which the model applies too.
	 */
	cfg.dirty_log = fz_dirty_logs[c1 >> 6];
	if (cfg.dirty_log && !cfg.hva_limit)
		cfg.hva_limit = (uint64_t)4096 << cfg.page_shift;
	/* Both indexes behave the same to the last observable detail. */
	cfg.index = c1 & 2 ? MEMSLOTS_INDEX_KVM : MEMSLOTS_INDEX_BTREE;
	cfg.allowed_flags = fz_allowed[(c2 >> 4) & 3];
	cfg.as_id = c2 & 0x40 ? (c2 & 0x80 ? 0xffff : 1) : 0;
	if (F.m.max_slots != cfg.max_slots) {
		if (F.d.bits)
			ts_dirty_model_fini(&F.d);
		ts_model_fini(&F.m);
		ts_model_init(&F.m, cfg.page_shift, cfg.max_slots, cfg.hva_limit);
		ts_dirty_model_init(&F.d, cfg.max_slots, cfg.dirty_log);
	}
	F.d.dirty_log = cfg.dirty_log;
	ts_model_clear(&F.m);
	F.m.page_shift = cfg.page_shift;
	F.m.hva_limit = cfg.hva_limit;
	ts_model_set_surface(&F.m, cfg.allowed_flags, cfg.as_id);
	F.m.id_probe_limit = 24; /* and every present id: enough for ids 0..17 */
	ts_rng_seed(&fz_rng, ((uint64_t)c0 << 16) | ((uint64_t)c1 << 8) | c2);
	if (c2 & 1) {
		/* memslots_new with its k-th allocation failing: NULL with
		 * ENOMEM and nothing left allocated, or a working object */
		F.alloc.fail_at = 1 + (c2 >> 1) % 8;
		F.ms = memslots_new(&cfg);
		FZ_CHECK(F.ms || (errno == ENOMEM && F.alloc.live == 0));
		memslots_free(F.ms);
		FZ_CHECK(F.alloc.live == 0);
		F.alloc.fail_at = 0;
		F.alloc.failed = false;
	}
	F.ms = memslots_new(&cfg);
	FZ_CHECK(F.ms);
	FZ_CHECK(memslots_page_shift(F.ms) == cfg.page_shift);
	FZ_CHECK(memslots_max_slots(F.ms) == cfg.max_slots);
	FZ_CHECK(memslots_index(F.ms) == cfg.index);

	for (op = 0; op < FZ_MAX_OPS && in.n; op++) {
		uint8_t o = fz_u8(&in), x;
		const struct memslots_set *set;
		uint64_t a, b;
		size_t i, n, failed;

		switch (o % 12) {
		case 0:
		case 1: /* one request; through the v2 call when o is odd */
			reqs[0] = fz_request(&in, o & 1);
			fz_writer_call(reqs, 1, false, o & 1, alloc_fail_at);
			alloc_fail_at = 0;
			break;
		case 2:
		case 3: /* a batch; through apply2 when o is odd */
			n = 1 + (o >> 4) % FZ_MAX_BATCH;
			for (i = 0; i < n; i++)
				reqs[i] = fz_request(&in, o & 1);
			fz_writer_call(reqs, n, true, o & 1, alloc_fail_at);
			alloc_fail_at = 0;
			break;
		case 4: /* the next call's k-th allocation fails */
			alloc_fail_at = 1 + fz_u8(&in) % 12;
			break;
		case 5: /* the next call's k-th prepare fails with an input-chosen errno */
			x = fz_u8(&in);
			F.fail_prep = 1 + x % FZ_MAX_BATCH;
			F.prep_ret = fz_errnos[(x >> 4) & 7];
			break;
		case 6: /* lookups at one gfn, and the ranges starting there */
			x = fz_u8(&in);
			a = fz_gfn_of(x);
			b = fz_u8(&in);
			set = memslots_read_lock(F.ms);
			ts_model_check_gfn(&F.m, set, &fz_cache, a);
			ts_model_check_gfn_range(&F.m, set, a, a + (b & 15) - (b & 0x80 ? 16 : 0));
			memslots_read_unlock(F.ms);
			break;
		case 7: /* host ranges, both ends inclusive */
			x = fz_u8(&in);
			a = (uint64_t)(x & 63) * (fz_page() / 2);
			b = a + (uint64_t)fz_u8(&in) * (fz_page() / 4) - (x & 0x80 ? 1 : 0) -
			    (x & 0x40 ? fz_page() * 8 : 0);
			set = memslots_read_lock(F.ms);
			ts_model_check_hva_range(&F.m, set, a, b);
			ts_model_check_hva_range(&F.m, set, 0, ~0ull);
			memslots_read_unlock(F.ms);
			break;
		case 8: /* writers from a read-side section, or from the next call's hooks */
			if (o & 0x10) {
				F.reenter = true;
				break;
			}
			reqs[0] = fz_request(&in, true);
			set = memslots_read_lock(F.ms);
			memslots_read_lock(F.ms);
			FZ_CHECK(memslots_set_region2(F.ms, reqs) == -EDEADLK);
			memslots_read_unlock(F.ms);
			failed = 99;
			FZ_CHECK(memslots_apply2(F.ms, reqs, 1, &failed) == -EDEADLK);
			FZ_CHECK(failed == 0);
			fz_check_state(set);
			memslots_read_unlock(F.ms);
			break;
		case 10:
			fz_attr_call(&in, alloc_fail_at);
			alloc_fail_at = 0;
			break;
		case 11: /* dirty logging's readers */
			fz_dirty_op(&in);
			break;
		default: /* edge cases of apply */
			failed = 99;
			if (o & 0x10) {
				FZ_CHECK(memslots_apply2(F.ms, reqs, 0, &failed) == 0);
				FZ_CHECK(failed == 99);
			} else if (o & 0x20) {
				FZ_CHECK(memslots_apply2(F.ms, NULL, 1 + (o >> 6), &failed) ==
					 -EINVAL);
				FZ_CHECK(failed == 0);
			} else {
				FZ_CHECK(memslots_apply(F.ms, NULL, 1 + (o >> 5), &failed) ==
					 -EINVAL);
				FZ_CHECK(failed == 0);
			}
			break;
		}
	}
	memslots_free(F.ms);
	FZ_CHECK(F.released == F.m.count);
	FZ_CHECK(F.alloc.live == 0);
	return 0;
}
