// SPDX-License-Identifier: MIT
/*
 * Differential fuzz target: the engine against a brute-force model.
 *
 * The input is decoded into a configuration and a sequence of operations:
 * single set_region calls and batched applies (valid and invalid requests
 * alike), prepare-hook failures and allocation failures injected into the
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
 * Single-threaded: the RCU is a no-op read lock and an empty synchronize,
 * which keeps an execution to microseconds.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memslots/memslots.h>

#define FZ_MAX_SLOTS 32u /* model capacity: more than any small config allows */
#define FZ_MAX_OPS   96u
#define FZ_MAX_BATCH 9u
#define FZ_MAX_LOG   64u

/* Says which check failed before trapping: crash triage without a debugger. */
#define FZ_CHECK(cond)                            \
	do {                                      \
		if (!(cond))                      \
			fz_fail(__LINE__, #cond); \
	} while (0)

__attribute__((noreturn, noinline, cold)) static void fz_fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_memslots.c:%d: check failed: %s\n", line, what);
	__builtin_trap();
}

/* ---- input reader ----------------------------------------------------------- */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

/* Past the end every byte reads as 0, so any prefix is a valid program. */
static uint8_t fz_u8(struct fz_in *in)
{
	uint8_t b;

	if (!in->n)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

static uint64_t fz_u64(struct fz_in *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | fz_u8(in);
	return v;
}

/* ---- the allocator: counts live blocks, fails the k-th of a call -------------- */

struct fz_alloc {
	size_t live;
	size_t calls;	/* attempts since the counter was armed */
	size_t fail_at; /* 0: never */
	bool failed;	/* an attempt was failed since armed */
};

static void *fz_alloc_fn(size_t size, void *opaque)
{
	struct fz_alloc *a = opaque;
	void *p;

	a->calls++;
	if (a->fail_at && a->calls == a->fail_at) {
		a->failed = true;
		return NULL;
	}
	p = malloc(size ? size : 1);
	if (p)
		a->live++;
	return p;
}

static void fz_free_fn(void *ptr, void *opaque)
{
	struct fz_alloc *a = opaque;

	if (!ptr)
		return;
	FZ_CHECK(a->live > 0);
	a->live--;
	free(ptr);
}

/* ---- single-threaded RCU -------------------------------------------------------- */

static void fz_nop(void)
{
}

static const struct memslots_rcu fz_rcu = {
	.read_lock = fz_nop,
	.read_unlock = fz_nop,
	.synchronize = fz_nop,
};

/* ---- the model ---------------------------------------------------------------------- */

struct fz_slot {
	bool present;
	uint16_t id;
	uint32_t flags;
	uint64_t base_gfn;
	uint64_t npages;
	uint64_t hva;
	uintptr_t priv;
};

struct fz_model {
	unsigned int page_shift;
	unsigned int max_slots;
	uint64_t hva_limit;
	struct fz_slot s[FZ_MAX_SLOTS]; /* unordered; ids unique among present ones */
};

static struct fz_slot *fz_model_find(struct fz_model *m, uint16_t id)
{
	unsigned int i;

	for (i = 0; i < FZ_MAX_SLOTS; i++)
		if (m->s[i].present && m->s[i].id == id)
			return &m->s[i];
	return NULL;
}

static bool fz_model_overlaps(const struct fz_model *m, uint64_t gfn, uint64_t npages, int skip_id)
{
	unsigned int i;

	for (i = 0; i < FZ_MAX_SLOTS; i++) {
		const struct fz_slot *s = &m->s[i];

		if (!s->present || s->id == skip_id)
			continue;
		if (gfn < s->base_gfn + s->npages && s->base_gfn < gfn + npages)
			return true;
	}
	return false;
}

/* What prepare sets as priv: a function of the incoming priv and the change. */
static uintptr_t fz_next_priv(uintptr_t priv, enum memslots_change c)
{
	return priv * 31 + 1 + (uintptr_t)c;
}

/* One change the model expects the engine to make. */
struct fz_change {
	enum memslots_change type;
	size_t index;
	struct fz_slot old; /* valid unless CREATE */
	struct fz_slot new; /* valid unless DELETE */
};

/*
 * Contract rules 1 to 6 for one request, against the state as the earlier
 * requests of the call left it (@m is that evolving state).  Returns 0 and
 * fills @c (1 in *noop when nothing changes), or a negative errno.
 */
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
static const char *const fz_reasons[] = {
	"unknown flag bits",
	"misaligned size, gpa or hva",
	"hva + size wraps",
	"hva + size over hva_limit",
	"address space bits or id >= max_slots",
	"gpa + size wraps",
	"more than MEMSLOTS_MAX_NR_PAGES",
	"id named twice in a batch",
	"delete of an absent id",
	"create overlapping a slot",
	"change of size, hva or READONLY",
	"move overlapping a slot",
};
static unsigned long fz_rejected[sizeof(fz_reasons) / sizeof(fz_reasons[0])];
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

	for (i = 0; i < sizeof(fz_reasons) / sizeof(fz_reasons[0]); i++)
		fprintf(stderr, "rejected: %-40s %lu\n", fz_reasons[i], fz_rejected[i]);
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

static int fz_model_check(struct fz_model *m, const struct memslots_region *r,
			  struct fz_named *named, struct fz_change *c, bool *noop)
{
	uint64_t mask = ((uint64_t)1 << m->page_shift) - 1;
	uint64_t size = r->memory_size, gpa = r->guest_phys_addr, hva = r->userspace_addr;
	uint16_t id = r->slot & 0xffff;
	struct fz_slot *old;

	*noop = false;
	if (r->flags & ~(MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY))
		return fz_reject(0, -EINVAL);
	if ((size & mask) || (gpa & mask) || (hva & mask))
		return fz_reject(1, -EINVAL);
	if (hva + size < hva)
		return fz_reject(2, -EINVAL);
	if (m->hva_limit && hva + size > m->hva_limit)
		return fz_reject(3, -EINVAL);
	if ((r->slot >> 16) || id >= m->max_slots)
		return fz_reject(4, -EINVAL);
	if (gpa + size < gpa)
		return fz_reject(5, -EINVAL);
	if ((size >> m->page_shift) > MEMSLOTS_MAX_NR_PAGES)
		return fz_reject(6, -EINVAL);
	if (named) {
		unsigned int i;

		for (i = 0; i < named->n; i++)
			if (named->id[i] == id)
				return fz_reject(7, -EINVAL);
		named->id[named->n++] = id;
	}
	old = fz_model_find(m, id);
	memset(c, 0, sizeof(*c));
	if (old)
		c->old = *old;
	c->new.present = true;
	c->new.id = id;
	c->new.flags = r->flags;
	c->new.base_gfn = gpa >> m->page_shift;
	c->new.npages = size >> m->page_shift;
	c->new.hva = hva;
	if (!size) {
		if (!old)
			return fz_reject(8, -EINVAL);
		c->type = MEMSLOTS_DELETE;
		return 0;
	}
	if (!old) {
		if (fz_model_overlaps(m, c->new.base_gfn, c->new.npages, -1))
			return fz_reject(9, -EEXIST);
		c->type = MEMSLOTS_CREATE;
		return 0;
	}
	if (hva != old->hva || c->new.npages != old->npages ||
	    ((r->flags ^ old->flags) & MEMSLOT_READONLY))
		return fz_reject(10, -EINVAL);
	c->new.priv = old->priv;
	if (c->new.base_gfn != old->base_gfn) {
		if (fz_model_overlaps(m, c->new.base_gfn, c->new.npages, id))
			return fz_reject(11, -EEXIST);
		c->type = MEMSLOTS_MOVE;
		return 0;
	}
	if (r->flags != old->flags) {
		c->type = MEMSLOTS_FLAGS_ONLY;
		return 0;
	}
	*noop = true;
	return 0;
}

static void fz_model_apply(struct fz_model *m, const struct fz_change *c)
{
	struct fz_slot *s = fz_model_find(m, c->type == MEMSLOTS_CREATE ? c->new.id : c->old.id);
	unsigned int i;

	if (c->type == MEMSLOTS_DELETE) {
		s->present = false;
		return;
	}
	if (!s) {
		for (i = 0; i < FZ_MAX_SLOTS && m->s[i].present; i++)
			;
		FZ_CHECK(i < FZ_MAX_SLOTS);
		s = &m->s[i];
	}
	*s = c->new;
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
	struct fz_model m;
	struct fz_alloc alloc;
	/* per call */
	struct fz_change changes[FZ_MAX_BATCH]; /* what the model expects */
	size_t nr_changes;
	struct fz_event log[FZ_MAX_LOG];
	size_t nr_log;
	int phase;		/* last hook kind seen: never goes backwards */
	unsigned int prepares;	/* prepare calls so far in this call */
	unsigned int fail_prep; /* 1-based prepare call that fails; 0: none */
	int prep_ret;		/* what it returns */
	bool reenter;		/* hooks try writer calls (expect -EDEADLK) */
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

		if ((c->type == MEMSLOTS_CREATE ? c->new.id : c->old.id) == id)
			return c;
	}
	FZ_CHECK(0);
	return NULL;
}

static bool fz_same(const struct memslot *s, const struct fz_slot *m, uint32_t extra_flags)
{
	return s->base_gfn == m->base_gfn && s->npages == m->npages &&
	       s->userspace_addr == m->hva && s->flags == (m->flags | extra_flags) &&
	       s->id == m->id && (uintptr_t)s->priv == m->priv;
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
	size_t failed = 7;

	if (!F.reenter)
		return;
	FZ_CHECK(memslots_set_region(F.ms, &r) == -EDEADLK);
	FZ_CHECK(memslots_apply(F.ms, &r, 1, &failed) == -EDEADLK);
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
		FZ_CHECK(fz_same(old, &c->old, 0));
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
		FZ_CHECK(fz_same(new, &fz_expected(new->id)->new, 0));
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
	FZ_CHECK(fz_same(slot, &c->old, MEMSLOT_INVALID));
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
	struct fz_slot *m = fz_model_find(&F.m, slot->id);

	(void)opaque;
	FZ_CHECK(m && fz_same(slot, m, 0));
	FZ_CHECK(!F.released || slot->base_gfn > F.last_release_gfn);
	F.last_release_gfn = slot->base_gfn;
	F.released++;
}

static const struct memslots_ops fz_ops = {
	.prepare = fz_prepare,
	.abort = fz_abort,
	.commit = fz_commit,
	.invalidate = fz_invalidate,
	.release = fz_release,
};

/* ---- comparing the published set with the model ------------------------------------- */

static unsigned int fz_model_sorted(const struct fz_model *m, const struct fz_slot **out)
{
	unsigned int i, j, n = 0;

	for (i = 0; i < FZ_MAX_SLOTS; i++) {
		if (!m->s[i].present)
			continue;
		for (j = n; j > 0 && out[j - 1]->base_gfn > m->s[i].base_gfn; j--)
			out[j] = out[j - 1];
		out[j] = &m->s[i];
		n++;
	}
	return n;
}

static void fz_check_state(const struct memslots_set *set)
{
	const struct fz_slot *sorted[FZ_MAX_SLOTS];
	unsigned int n = fz_model_sorted(&F.m, sorted), i;
	const struct memslot *s;
	uint64_t pages = 0;

	for (i = 0, s = memslots_first(set); s; s = memslots_next(set, s), i++) {
		FZ_CHECK(i < n && fz_same(s, sorted[i], 0));
		FZ_CHECK(memslots_find_id(set, s->id) == s);
		pages += s->npages;
	}
	FZ_CHECK(i == n);
	FZ_CHECK(memslots_count(set) == n);
	FZ_CHECK(memslots_nr_pages(set) == pages);
	/* ids without a slot, including ones out of range */
	for (i = 0; i < 20; i++)
		if (!fz_model_find(&F.m, (uint16_t)i))
			FZ_CHECK(memslots_find_id(set, (uint16_t)i) == NULL);
	FZ_CHECK(memslots_find_id(set, 0xffff) == NULL || fz_model_find(&F.m, 0xffff));
}

static const struct fz_slot *fz_model_holding(uint64_t gfn)
{
	unsigned int i;

	for (i = 0; i < FZ_MAX_SLOTS; i++) {
		const struct fz_slot *s = &F.m.s[i];

		if (s->present && gfn >= s->base_gfn && gfn - s->base_gfn < s->npages)
			return s;
	}
	return NULL;
}

static struct memslots_cache fz_cache;

static void fz_check_gfn(const struct memslots_set *set, uint64_t gfn)
{
	const struct fz_slot *m = fz_model_holding(gfn), *below = NULL, *above = NULL;
	const struct memslot *s = memslots_find_gfn(set, gfn);
	const struct memslot *a = memslots_find_gfn_approx(set, gfn);
	unsigned int i;

	FZ_CHECK(memslots_find_gfn_cached(set, &fz_cache, gfn) == s);
	if (!m) {
		FZ_CHECK(!s);
		FZ_CHECK(memslots_gfn_to_hva(set, gfn) == MEMSLOTS_HVA_BAD);
		for (i = 0; i < FZ_MAX_SLOTS; i++) {
			const struct fz_slot *x = &F.m.s[i];

			if (!x->present)
				continue;
			if (x->base_gfn < gfn && (!below || x->base_gfn > below->base_gfn))
				below = x;
			if (x->base_gfn > gfn && (!above || x->base_gfn < above->base_gfn))
				above = x;
		}
		if (!below && !above)
			FZ_CHECK(!a);
		else
			FZ_CHECK(a &&
				 ((below && a->id == below->id) || (above && a->id == above->id)));
		return;
	}
	FZ_CHECK(s && fz_same(s, m, 0) && a == s);
	FZ_CHECK(memslots_gfn_to_hva(set, gfn) == m->hva + ((gfn - m->base_gfn) << F.m.page_shift));
}

static void fz_check_gfn_range(const struct memslots_set *set, uint64_t start, uint64_t end)
{
	const struct fz_slot *sorted[FZ_MAX_SLOTS];
	unsigned int n = fz_model_sorted(&F.m, sorted), i = 0;
	const struct memslot *s = memslots_gfn_range_first(set, start, end);

	for (; s; s = memslots_gfn_range_next(set, s, start, end)) {
		/* the next model slot intersecting the range */
		while (i < n && (end <= start || sorted[i]->base_gfn >= end ||
				 sorted[i]->base_gfn + sorted[i]->npages <= start))
			i++;
		FZ_CHECK(i < n && fz_same(s, sorted[i], 0));
		i++;
	}
	while (i < n && (end <= start || sorted[i]->base_gfn >= end ||
			 sorted[i]->base_gfn + sorted[i]->npages <= start))
		i++;
	FZ_CHECK(i == n);
}

static void fz_check_hva_range(const struct memslots_set *set, uint64_t first, uint64_t last)
{
	uint32_t want = 0, got = 0;
	const struct memslot *s;
	unsigned int i;

	for (i = 0; i < FZ_MAX_SLOTS; i++) {
		const struct fz_slot *x = &F.m.s[i];
		uint64_t x_last = x->hva + (x->npages << F.m.page_shift) - 1;

		if (x->present && first <= last && x->hva <= last && x_last >= first)
			want |= 1u << i;
	}
	for (s = memslots_hva_range_first(set, first, last); s;
	     s = memslots_hva_range_next(set, s, first, last)) {
		const struct fz_slot *x = fz_model_find(&F.m, s->id);

		FZ_CHECK(x && fz_same(s, x, 0));
		i = (unsigned int)(x - F.m.s);
		FZ_CHECK(!(got & (1u << i))); /* each exactly once */
		got |= 1u << i;
	}
	FZ_CHECK(got == want);
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

static struct memslots_region fz_request(struct fz_in *in)
{
	uint8_t kind = fz_u8(in), a = fz_u8(in), b = fz_u8(in);
	uint32_t id = fz_id_of(a);
	struct fz_slot *old = fz_model_find(&F.m, (uint16_t)id);
	uint64_t page = fz_page();
	struct memslots_region r = {
		.slot = id,
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
		r.slot = (uint32_t)fz_u64(in) % 24;
		r.flags = fz_u8(in) & 0x7;
		r.guest_phys_addr = fz_u64(in);
		r.memory_size = fz_u64(in);
		r.userspace_addr = fz_u64(in);
		break;
	}
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

static uint16_t fz_change_id(const struct fz_change *c)
{
	return c->type == MEMSLOTS_CREATE ? c->new.id : c->old.id;
}

/*
 * Runs @n requests as one call (set_region when !batch) on the engine and
 * the model, and compares everything observable.
 */
static void fz_writer_call(const struct memslots_region *r, size_t n, bool batch,
			   size_t alloc_fail_at)
{
	struct fz_model before = F.m;
	struct fz_event got[FZ_MAX_LOG], want[FZ_MAX_LOG];
	struct fz_named named = {.n = 0};
	const struct memslots_set *set;
	size_t i, ng, nw, live, failed = 12345, m_failed = 0, nprep;
	bool prep_fired;
	uint64_t gen0, gen1;
	int ret, m_ret = 0;
	bool noop, m_prep_failed = false;

	F.nr_changes = 0;
	/*
	 * The model: one by one, each request validated against the state the
	 * earlier ones left, and each change prepared as soon as it is
	 * validated, so the call fails where sequential application would.
	 */
	nprep = 0;
	for (i = 0; i < n && !m_ret; i++) {
		struct fz_change *c = &F.changes[F.nr_changes];

		m_ret = fz_model_check(&F.m, &r[i], batch ? &named : NULL, c, &noop);
		m_failed = i;
		if (noop)
			FZ_COUNT(4);
		if (m_ret || noop)
			continue;
		FZ_COUNT(c->type);
		c->index = i;
		F.nr_changes++;
		nprep++;
		if (F.fail_prep == nprep) {
			FZ_COUNT(5);
			m_ret = F.prep_ret;
			m_prep_failed = true;
		} else {
			fz_model_apply(&F.m, c);
		}
	}
	if (m_ret)
		F.m = before; /* the engine must roll back */

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
	if (batch)
		ret = memslots_apply(F.ms, r, n, &failed);
	else
		ret = memslots_set_region(F.ms, r);
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
		F.m = before;
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
						    fz_change_id(&F.changes[i])};
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
								  fz_change_id(&F.changes[i])};
			FZ_CHECK(ng == nw);
			fz_sort_events(got, ng);
			fz_sort_events(want, nw);
			FZ_CHECK(fz_events_eq(got, want, nw));
			/* the priv each prepare set is what got published */
			for (i = 0; i < F.nr_changes; i++) {
				struct fz_change *c = &F.changes[i];
				struct fz_slot *s;

				if (c->type == MEMSLOTS_DELETE)
					continue;
				s = fz_model_find(&F.m, c->new.id);
				s->priv = fz_next_priv(s->priv, c->type);
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
}

/* ---- the entry point ----------------------------------------------------------------- */

static const int fz_errnos[] = {-EIO, -ENOSPC, -EINVAL, -EEXIST, -ENOMEM, -EPERM, -EAGAIN, -1};
static const unsigned int fz_shifts[] = {12, 12, 10, 13, 16, 21, 30, 12};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	uint8_t c0 = fz_u8(&in), c1 = fz_u8(&in), c2 = fz_u8(&in);
	struct memslots_config cfg = {
		.ops = &fz_ops,
		.rcu = &fz_rcu,
		.alloc = fz_alloc_fn,
		.free = fz_free_fn,
		.alloc_opaque = &F.alloc,
	};
	struct memslots_region reqs[FZ_MAX_BATCH];
	size_t alloc_fail_at = 0;
	unsigned int op;

	memset(&F, 0, sizeof(F));
	memset(&fz_cache, 0, sizeof(fz_cache));
	cfg.page_shift = fz_shifts[c0 & 7];
	cfg.max_slots = c0 & 0x80 ? 65536 : 1 + ((c0 >> 3) & 15);
	if (c1 & 1)
		cfg.hva_limit = (uint64_t)(1 + (c1 >> 1)) << cfg.page_shift;
	F.m.page_shift = cfg.page_shift;
	F.m.max_slots = cfg.max_slots;
	F.m.hva_limit = cfg.hva_limit;
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

		switch (o % 10) {
		case 0:
		case 1:
			reqs[0] = fz_request(&in);
			fz_writer_call(reqs, 1, false, alloc_fail_at);
			alloc_fail_at = 0;
			break;
		case 2:
		case 3:
			n = 1 + (o >> 4) % FZ_MAX_BATCH;
			for (i = 0; i < n; i++)
				reqs[i] = fz_request(&in);
			fz_writer_call(reqs, n, true, alloc_fail_at);
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
			fz_check_gfn(set, a);
			fz_check_gfn_range(set, a, a + (b & 15) - (b & 0x80 ? 16 : 0));
			memslots_read_unlock(F.ms);
			break;
		case 7: /* host ranges, both ends inclusive */
			x = fz_u8(&in);
			a = (uint64_t)(x & 63) * (fz_page() / 2);
			b = a + (uint64_t)fz_u8(&in) * (fz_page() / 4) - (x & 0x80 ? 1 : 0) -
			    (x & 0x40 ? fz_page() * 8 : 0);
			set = memslots_read_lock(F.ms);
			fz_check_hva_range(set, a, b);
			fz_check_hva_range(set, 0, ~0ull);
			memslots_read_unlock(F.ms);
			break;
		case 8: /* writers from a read-side section, or from the next call's hooks */
			if (o & 0x10) {
				F.reenter = true;
				break;
			}
			reqs[0] = fz_request(&in);
			set = memslots_read_lock(F.ms);
			memslots_read_lock(F.ms);
			FZ_CHECK(memslots_set_region(F.ms, reqs) == -EDEADLK);
			memslots_read_unlock(F.ms);
			failed = 99;
			FZ_CHECK(memslots_apply(F.ms, reqs, 1, &failed) == -EDEADLK);
			FZ_CHECK(failed == 0);
			fz_check_state(set);
			memslots_read_unlock(F.ms);
			break;
		default: /* edge cases of apply */
			failed = 99;
			if (o & 0x10) {
				FZ_CHECK(memslots_apply(F.ms, reqs, 0, &failed) == 0);
				FZ_CHECK(failed == 99);
			} else {
				FZ_CHECK(memslots_apply(F.ms, NULL, 1 + (o >> 5), &failed) ==
					 -EINVAL);
				FZ_CHECK(failed == 0);
			}
			break;
		}
	}
	memslots_free(F.ms);
	{
		const struct fz_slot *sorted[FZ_MAX_SLOTS];

		FZ_CHECK(F.released == fz_model_sorted(&F.m, sorted));
	}
	FZ_CHECK(F.alloc.live == 0);
	return 0;
}
