// SPDX-License-Identifier: MIT
/*
 * Differential fuzz target: the engine against a brute-force model.
 *
 * The input is decoded into a configuration (page size, ids, hva limit,
 * the flags the VM type allows, the address space) and a sequence of
 * operations: single set_region calls and batched applies, through the v1
 * calls or the v2 ones with guest_memfd slots (valid and invalid requests
 * alike), memory-attribute conversions, prepare-hook failures and
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
#include "model.h"

#define FZ_MAX_OPS   96u
#define FZ_MAX_BATCH 9u
#define FZ_MAX_LOG   64u

/* What prepare sets as priv: a function of the incoming priv and the change. */
static uintptr_t fz_next_priv(uintptr_t priv, enum memslots_change c)
{
	return priv * 31 + 1 + (uintptr_t)c;
}

/* One change the model expects the engine to make. */
struct fz_change {
	enum memslots_change type;
	uint16_t id;
	size_t index;
	struct model_slot old; /* as before the change (not present for CREATE) */
	struct model_slot new; /* as after it (not present for DELETE) */
};

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
static unsigned long fz_rejected[MODEL_NR_REASONS];
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

	for (i = 0; i < MODEL_NR_REASONS; i++)
		fprintf(stderr, "rejected: %-40s %lu\n", model_reasons[i], fz_rejected[i]);
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
static int fz_model_check(const struct model *m, const struct memslots_region2 *r, bool v1,
			  struct fz_named *named, struct fz_change *c, bool *noop)
{
	uint16_t id = r->slot & 0xffff;
	enum model_reason why;
	int change = MODEL_NOOP;
	int err = model_classify2_why(m, r, v1, &change, &why);

	*noop = false;
	if (err && why <= MODEL_TOO_BIG)
		return fz_reject(why, err);
	if (named) {
		unsigned int i;

		for (i = 0; i < named->n; i++)
			if (named->id[i] == id)
				return fz_reject(MODEL_NAMED_TWICE, -EINVAL);
		named->id[named->n++] = id;
	}
	if (err)
		return fz_reject(why, err);
	*noop = change == MODEL_NOOP;
	memset(c, 0, sizeof(*c));
	c->type = (enum memslots_change)change;
	c->id = id;
	c->old = m->slot[id];
	return 0;
}

/* Applies @c to the model; the new slot is the model's after it. */
static void fz_model_apply(struct model *m, const struct memslots_region2 *r, struct fz_change *c)
{
	model_commit2(m, r, (int)c->type);
	c->new = m->slot[c->id];
}

/* Puts the model back as it was before the first @n changes, newest first. */
static void fz_model_undo(struct model *m, const struct fz_change *changes, size_t n)
{
	while (n--)
		model_set_slot(m, changes[n].id, &changes[n].old);
}

/* ---- hook recording ---------------------------------------------------------------- */

enum { FZ_PREPARE, FZ_ABORT, FZ_INVALIDATE, FZ_COMMIT };

struct fz_event {
	int hook;
	enum memslots_change type;
	uint16_t id;
};

struct fz_state {
	struct memslots *ms;
	struct model m;
	struct tu_alloc_counter alloc;
	/* per call */
	struct fz_change changes[FZ_MAX_BATCH]; /* what the model expects */
	size_t nr_changes;
	size_t nr_applied; /* to the model */
	struct fz_event log[FZ_MAX_LOG];
	size_t nr_log;
	int phase;		/* last hook kind seen: never goes backwards */
	unsigned int prepares;	/* prepare calls so far in this call */
	unsigned int fail_prep; /* 1-based prepare call that fails; 0: none */
	int prep_ret;		/* what it returns */
	bool reenter;		/* hooks try writer calls (expect -EDEADLK) */
	int attr_ret;		/* what the next set_attributes hook returns */
	unsigned int attr_calls; /* set_attributes hook calls in this call */
	const struct memslots_attributes *attr_req; /* the call's request */
	size_t released;
	uint64_t last_release_gfn;
};

static struct fz_state F;

/* The model's slot for the change's id as it was before the call. */
static const struct fz_change *fz_expected(uint16_t id)
{
	size_t i;

	for (i = 0; i < F.nr_changes; i++) {
		const struct fz_change *c = &F.changes[i];

		if (c->id == id)
			return c;
	}
	FZ_CHECK(0);
	return NULL;
}

/* Records a hook call, checks hooks come in phase order: prepare, abort or
 * invalidate, commit.  Returns the change the model expects for @id. */
static const struct fz_change *fz_log(int hook, enum memslots_change type, uint16_t id)
{
	FZ_CHECK(hook >= F.phase);
	F.phase = hook;
	FZ_CHECK(F.nr_log < FZ_MAX_LOG);
	F.log[F.nr_log++] = (struct fz_event){hook, type, id};
	return fz_expected(id);
}

static void fz_reenter(void)
{
	struct memslots_region r = {.slot = 0};
	struct memslots_region2 r2 = {.slot = 0};
	struct memslots_attributes a = {.size = 4096, .attributes = MEMSLOTS_ATTR_PRIVATE};
	size_t failed = 7;

	if (!F.reenter)
		return;
	FZ_CHECK(memslots_set_region(F.ms, &r) == -EDEADLK);
	FZ_CHECK(memslots_apply(F.ms, &r, 1, &failed) == -EDEADLK);
	FZ_CHECK(memslots_set_region2(F.ms, &r2) == -EDEADLK);
	FZ_CHECK(memslots_apply2(F.ms, &r2, 1, &failed) == -EDEADLK);
	FZ_CHECK(memslots_set_attributes(F.ms, &a) == -EDEADLK);
}

static void fz_hook_enter(int hook, const struct memslot *old, const struct memslot *new,
			  enum memslots_change type)
{
	const struct memslot *any = new ? new : old;
	const struct fz_change *c;

	FZ_CHECK(any);
	c = fz_log(hook, type, any->id);
	FZ_CHECK(c->type == type);
	FZ_CHECK((old == NULL) == (type == MEMSLOTS_CREATE));
	FZ_CHECK((new == NULL) == (type == MEMSLOTS_DELETE));
	if (old)
		FZ_CHECK(model_slot_is(old, c->id, &c->old, 0));
	fz_reenter();
}

static int fz_prepare(void *opaque, const struct memslot *old, struct memslot *new,
		      enum memslots_change type)
{
	(void)opaque;
	fz_hook_enter(FZ_PREPARE, old, new, type);
	if (new) {
		/* new->priv starts as NULL for CREATE and old->priv otherwise */
		FZ_CHECK((uintptr_t) new->priv == (old ? (uintptr_t)old->priv : 0));
		FZ_CHECK(model_slot_is(new, new->id, &fz_expected(new->id)->new, 0));
		new->priv = (void *)fz_next_priv((uintptr_t) new->priv, type);
	}
	if (++F.prepares == F.fail_prep)
		return F.prep_ret;
	/* Positive returns are not errors: the contract fails only on < 0. */
	return F.prepares & 1 ? 0 : 1;
}

static void fz_abort(void *opaque, const struct memslot *old, struct memslot *new,
		     enum memslots_change type)
{
	(void)opaque;
	fz_hook_enter(FZ_ABORT, old, new, type);
}

static void fz_commit(void *opaque, const struct memslot *old, const struct memslot *new,
		      enum memslots_change type)
{
	const struct memslots_set *set;

	(void)opaque;
	fz_hook_enter(FZ_COMMIT, old, new, type);
	/* The final state is published by now. */
	set = memslots_read_lock(F.ms);
	if (new)
		FZ_CHECK(memslots_find_id(set, new->id) == new);
	else
		FZ_CHECK(memslots_find_id(set, old->id) == NULL);
	memslots_read_unlock(F.ms);
}

static void fz_invalidate(void *opaque, const struct memslot *slot)
{
	const struct fz_change *c = fz_expected(slot->id);
	const struct memslots_set *set;

	(void)opaque;
	FZ_CHECK(c->type == MEMSLOTS_DELETE || c->type == MEMSLOTS_MOVE);
	fz_log(FZ_INVALIDATE, c->type, slot->id);
	FZ_CHECK(model_slot_is(slot, c->id, &c->old, MEMSLOT_INVALID));
	fz_reenter();
	/* Readers now see the old state with this slot INVALID in place. */
	set = memslots_read_lock(F.ms);
	FZ_CHECK(memslots_find_id(set, slot->id) == slot);
	FZ_CHECK(memslots_find_gfn(set, slot->base_gfn) == slot);
	FZ_CHECK(memslots_gfn_to_hva(set, slot->base_gfn) == MEMSLOTS_HVA_BAD);
	memslots_read_unlock(F.ms);
}

static void fz_release(void *opaque, struct memslot *slot)
{
	(void)opaque;
	FZ_CHECK(mt_slot_is(slot, &F.m, slot->id));
	FZ_CHECK(!F.released || slot->base_gfn > F.last_release_gfn);
	F.last_release_gfn = slot->base_gfn;
	F.released++;
}

/* Called with the call's request, before anything is published. */
static int fz_set_attributes(void *opaque, const struct memslots_attributes *a)
{
	(void)opaque;
	FZ_CHECK(F.attr_req && !memcmp(a, F.attr_req, sizeof(*a)));
	F.attr_calls++;
	fz_reenter();
	return F.attr_ret;
}

static const struct memslots_ops fz_ops = {
	.prepare = fz_prepare,
	.abort = fz_abort,
	.commit = fz_commit,
	.invalidate = fz_invalidate,
	.release = fz_release,
	.set_attributes = fz_set_attributes,
};

static struct memslots_cache fz_cache;
static struct tu_rng fz_rng;

/* Everything readers can see of @set against the model. */
static void fz_check_state(const struct memslots_set *set)
{
	model_check_set(&F.m, set, &fz_rng, 2);
}

/* ---- decoding requests --------------------------------------------------------------- */

static const uint64_t fz_interesting[] = {
	0,
	1,
	~0ull,
	~0ull << 12,
	1ull << 47,
	(1ull << 47) - 4096,
	MEMSLOTS_MAX_NR_PAGES << 12,
	(MEMSLOTS_MAX_NR_PAGES + 1) << 12,
	MEMSLOTS_MAX_NR_PAGES << 10,
	(MEMSLOTS_MAX_NR_PAGES + 1) << 10,
	1ull << 63,
	0x1000,
	0x400,
	0x40000000,
	0x800,
	0x10000,
};

static uint64_t fz_page(void)
{
	return (uint64_t)1 << F.m.page_shift;
}

static uint64_t fz_gfn_of(uint8_t b)
{
	/* mostly a crowded low range; a few at the very top of the gpa space */
	if (b >= 0xf0)
		return ((~0ull) >> F.m.page_shift) - (0xff - b) * 2;
	return b % 80;
}

static uint32_t fz_id_of(uint8_t b)
{
	uint32_t id = b % (F.m.max_slots < 16 ? F.m.max_slots + 2 : 18);

	if (F.m.max_slots > 1000 && (b & 0x80))
		id = F.m.max_slots - 1 - (b & 3); /* the top of a large id space */
	return id;
}

/*
 * The guest_memfd part of a v2 request, from one more byte: mostly a
 * guest_memfd create on one of four fd numbers at one of sixteen page
 * offsets (so ranges are bound twice often), sometimes with a flag
 * GUEST_MEMFD excludes, a misaligned or wrapping offset; or, for an
 * existing guest_memfd slot, its own fields (immutability, and deletes).
 */
static void fz_gmem_fields(struct fz_in *in, struct memslots_region2 *r,
			   const struct model_slot *old)
{
	uint8_t g = fz_u8(in);
	uint64_t page = fz_page();

	if (old && (old->flags & MEMSLOT_GUEST_MEMFD) && !(g & 0x80)) {
		r->flags = (r->flags & ~(MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)) |
			   (g & 1 ? MEMSLOT_GUEST_MEMFD : 0);
		r->guest_memfd = old->gmem_fd;
		r->guest_memfd_offset = old->gmem_offset;
		return;
	}
	if (!(g & 0x40)) {
		/* a request without GUEST_MEMFD: the fields are junk, ignored */
		r->guest_memfd = g;
		r->guest_memfd_offset = (uint64_t)g << 40;
		return;
	}
	r->flags = MEMSLOT_GUEST_MEMFD | (g & 0x20 ? r->flags : 0);
	r->guest_memfd = g & 3;
	switch ((g >> 2) & 7) {
	case 7:
		r->guest_memfd_offset = fz_interesting[(g >> 5) * 3 % 16];
		break;
	default:
		r->guest_memfd_offset = (uint64_t)((g >> 2) & 7) * 2 * page;
		break;
	}
}

static struct memslots_region2 fz_request(struct fz_in *in, bool v2)
{
	uint8_t kind = fz_u8(in), a = fz_u8(in), b = fz_u8(in);
	uint32_t id = fz_id_of(a);
	const struct model_slot *old =
		id < F.m.max_slots && F.m.slot[id].present ? &F.m.slot[id] : NULL;
	uint64_t page = fz_page();
	struct memslots_region2 r = {
		.slot = (uint32_t)F.m.as_id << 16 | id,
		.flags = kind >> 6,
		.guest_phys_addr = fz_gfn_of(b) << F.m.page_shift,
		.memory_size = (1 + (a >> 5)) * page,
		.userspace_addr = ((kind >> 3) & 7) * 4 * page,
	};

	switch (kind & 7) {
	case 0:
	case 1: /* as decoded: mostly creates, or changes refused with -EINVAL */
		break;
	case 2: /* delete */
		r.memory_size = 0;
		break;
	case 3: /* move an existing slot */
	case 4: /* change its flags */
		if (old) {
			r.memory_size = old->npages * page;
			r.userspace_addr = old->hva;
			if ((kind & 7) == 4) {
				r.guest_phys_addr = old->base_gfn << F.m.page_shift;
				r.flags = old->flags ^
					  (b & 1 ? MEMSLOT_LOG_DIRTY_PAGES : MEMSLOT_READONLY);
			} else {
				r.flags = old->flags ^ (kind & 0x40 ? MEMSLOT_LOG_DIRTY_PAGES : 0);
			}
		}
		break;
	case 5: /* exactly the slot as it is: nothing changes */
		if (old) {
			r.memory_size = old->npages * page;
			r.userspace_addr = old->hva;
			r.guest_phys_addr = old->base_gfn << F.m.page_shift;
			r.flags = old->flags;
		}
		break;
	case 6: /* one field replaced by an interesting or raw value */
		switch (b & 7) {
		case 0:
			r.flags = (uint32_t)fz_interesting[a % 16] | (1u << (a % 32));
			break;
		case 1:
			r.slot |= (uint32_t)(a | 1) << 16;
			break;
		case 2:
			r.guest_phys_addr = fz_interesting[a % 16];
			break;
		case 3:
			r.memory_size = fz_interesting[a % 16];
			break;
		case 4:
			r.userspace_addr = fz_interesting[a % 16];
			break;
		case 5:
			r.userspace_addr = fz_interesting[a % 16] - r.memory_size;
			break;
		case 6:
			r.guest_phys_addr = (~0ull << F.m.page_shift) - (a % 4) * page;
			break;
		default: /* random address-space bits */
			r.slot |= (uint32_t)fz_u64(in) & 0xffff0000u;
			break;
		}
		break;
	default: /* raw */
		r.slot = (uint32_t)F.m.as_id << 16 | (uint32_t)(fz_u64(in) % 24);
		r.flags = fz_u8(in) & 0x7;
		r.guest_phys_addr = fz_u64(in);
		r.memory_size = fz_u64(in);
		r.userspace_addr = fz_u64(in);
		break;
	}
	if (v2)
		fz_gmem_fields(in, &r, old);
	return r;
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
			/* the priv each prepare set is what got published */
			for (i = 0; i < F.nr_changes; i++) {
				struct fz_change *c = &F.changes[i];
				struct model_slot *s = &F.m.slot[c->id];

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
	mt_check_engine(F.ms);
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
	uint64_t gfn = y % MODEL_ATTR_GFNS, n = 1 + z % (MODEL_ATTR_GFNS - gfn);
	struct memslots_attributes a =
		model_attr_request(&F.m, gfn, n, x & 1 ? MEMSLOTS_ATTR_PRIVATE : 0);
	const struct memslots_set *set;
	unsigned long syncs = mt_rcu.synchronize;
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
	want = model_attr_check(&F.m, &a, &changes);
	gen0 = mt_generation(F.ms);
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
	gen1 = mt_generation(F.ms);
	if (!ret && changes) {
		model_attr_commit(&F.m, &a);
		FZ_CHECK(gen1 == gen0 + 1 && mt_rcu.synchronize == syncs + 1);
	} else {
		FZ_CHECK(gen1 == gen0 && mt_rcu.synchronize == syncs);
		FZ_CHECK(F.alloc.live == live);
	}
	set = memslots_read_lock(F.ms);
	model_check_attributes(&F.m, set, &fz_rng);
	memslots_read_unlock(F.ms);
	mt_check_engine(F.ms);
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
		.rcu = &mt_counting_rcu,
		.alloc = tu_alloc,
		.free = tu_free,
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
	struct model keep = F.m;
	unsigned int op;

	/* The model's arrays are kept from one input to the next: allocating
	 * and zeroing them for 65536 ids would be most of an execution. */
	memset(&F, 0, sizeof(F));
	F.m = keep;
	memset(&fz_cache, 0, sizeof(fz_cache));
	cfg.page_shift = fz_shifts[c0 & 7];
	cfg.max_slots = c0 & 0x80 ? 65536 : 1 + ((c0 >> 3) & 15);
	if (c1 & 1)
		cfg.hva_limit = (uint64_t)(1 + (c1 >> 1)) << cfg.page_shift;
	cfg.allowed_flags = fz_allowed[(c2 >> 4) & 3];
	cfg.as_id = c2 & 0x40 ? (c2 & 0x80 ? 0xffff : 1) : 0;
	if (F.m.max_slots != cfg.max_slots) {
		model_fini(&F.m);
		model_init(&F.m, cfg.page_shift, cfg.max_slots, cfg.hva_limit);
	}
	model_clear(&F.m);
	F.m.page_shift = cfg.page_shift;
	F.m.hva_limit = cfg.hva_limit;
	model_set_surface(&F.m, cfg.allowed_flags, cfg.as_id);
	F.m.id_probe_limit = 24; /* and every present id: enough for ids 0..17 */
	tu_rng_seed(&fz_rng, ((uint64_t)c0 << 16) | ((uint64_t)c1 << 8) | c2);
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

	for (op = 0; op < FZ_MAX_OPS && in.n; op++) {
		uint8_t o = fz_u8(&in), x;
		const struct memslots_set *set;
		uint64_t a, b;
		size_t i, n, failed;

		switch (o % 11) {
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
			model_check_gfn(&F.m, set, &fz_cache, a);
			model_check_gfn_range(&F.m, set, a, a + (b & 15) - (b & 0x80 ? 16 : 0));
			memslots_read_unlock(F.ms);
			break;
		case 7: /* host ranges, both ends inclusive */
			x = fz_u8(&in);
			a = (uint64_t)(x & 63) * (fz_page() / 2);
			b = a + (uint64_t)fz_u8(&in) * (fz_page() / 4) - (x & 0x80 ? 1 : 0) -
			    (x & 0x40 ? fz_page() * 8 : 0);
			set = memslots_read_lock(F.ms);
			model_check_hva_range(&F.m, set, a, b);
			model_check_hva_range(&F.m, set, 0, ~0ull);
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
