/* SPDX-License-Identifier: MIT */
/*
 * The reference model of the libmemslots contract, and the test plumbing
 * built around it: a hook recorder, a counting RCU, checks that compare
 * every lookup of a published set with brute force over the model, and a
 * test environment tying an engine to a model.
 *
 * The model is deliberately naive (an array indexed by slot id, linear
 * scans everywhere) so that it is obviously a transcription of the
 * contract's rules rather than a second implementation of the engine.  It
 * keeps the list of present ids too, so that its scans cost the number of
 * slots, not of ids: the fuzzers run it with 65536 ids.
 *
 * Failed checks go through ts_fail() (ts_fail.h): no test framework here.
 */
#ifndef TS_MODEL_H
#define TS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "ts_alloc.h"
#include "ts_fail.h"
#include "ts_rng.h"

/* "Nothing changes": the request is valid and publishes nothing. */
#define TS_MODEL_NOOP (-1)

/* The flags a request may carry: v1 calls, and v2 calls at most. */
#define TS_MODEL_VALID_FLAGS (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)
#define TS_MODEL_ALL_FLAGS	  (TS_MODEL_VALID_FLAGS | MEMSLOT_GUEST_MEMFD)

struct ts_model_slot {
	bool present;
	uint64_t base_gfn;
	uint64_t npages;
	uint64_t hva;
	uint32_t flags;
	void *priv;
	uint64_t gmem_offset; /* GUEST_MEMFD slots; 0 for the others */
	uint32_t gmem_fd;
	unsigned int pos; /* in model.ids, when present */
};

/*
 * Memory attributes: a plain per-gfn array over the gfns [0,
 * TS_MODEL_ATTR_GFNS).  Every gfn above keeps the word 0: the model refuses to
 * commit a range that reaches there (tests generate none), so that what it
 * says about any gfn is exact.
 */
#define TS_MODEL_ATTR_GFNS 256u

struct ts_model {
	unsigned int page_shift;
	unsigned int max_slots;
	uint64_t hva_limit;
	uint32_t allowed_flags; /* what the config allows, LOG_DIRTY_PAGES always in */
	uint16_t as_id;
	struct ts_model_slot *slot; /* [max_slots], indexed by id */
	unsigned int *ids;	 /* [count]: the present ids, in no order */
	size_t count;
	uint64_t nr_pages;
	/* ts_model_check_set: find_id is tried on every id below this and on
	 * every present one; 0: on all max_slots ids. */
	unsigned int id_probe_limit;
	uint64_t supported_attributes; /* as the engine's config; never 0 */
	uint64_t *attr;		       /* [TS_MODEL_ATTR_GFNS], indexed by gfn */
};

void ts_model_init(struct ts_model *m, unsigned int page_shift, unsigned int max_slots,
		uint64_t hva_limit);
/* The config's allowed_flags (0: all) and as_id, as memslots_new() takes them. */
void ts_model_set_surface(struct ts_model *m, uint32_t allowed_flags, uint16_t as_id);
void ts_model_fini(struct ts_model *m);
/* Removes every slot and every attribute: O(count), so a model of 65536
 * ids can be reused. */
void ts_model_clear(struct ts_model *m);
void ts_model_copy(struct ts_model *dst, const struct ts_model *src);
/* Replaces dst's contents by src's (same geometry), keeping dst's arrays. */
void ts_model_assign(struct ts_model *dst, const struct ts_model *src);
/* Puts @s (present or not) as slot @id, keeping count, pages and ids right. */
void ts_model_set_slot(struct ts_model *m, unsigned int id, const struct ts_model_slot *s);

struct memslots_region ts_model_region(unsigned int page_shift, uint32_t slot, uint32_t flags,
				    uint64_t gfn, uint64_t npages, uint64_t hva);
/* A v1 request as the v2 one with the same meaning (extra fields zero). */
struct memslots_region2 ts_model_widen(const struct memslots_region *r);
/* ts_model_region() as a v2 request, its guest_memfd fields zero. */
struct memslots_region2 ts_model_widen2(unsigned int page_shift, uint32_t slot, uint32_t flags,
				     uint64_t gfn, uint64_t npages, uint64_t hva);

/* Why a request is refused, in the order the contract checks. */
enum ts_model_reason {
	TS_MODEL_OK = -1,
	TS_MODEL_BAD_FLAGS,
	TS_MODEL_GMEM_FLAGS,
	TS_MODEL_MISALIGNED,
	TS_MODEL_HVA_WRAPS,
	TS_MODEL_HVA_LIMIT,
	TS_MODEL_GMEM_OFFSET,
	TS_MODEL_BAD_ID,
	TS_MODEL_GPA_WRAPS,
	TS_MODEL_TOO_BIG,
	TS_MODEL_NAMED_TWICE,
	TS_MODEL_DELETE_ABSENT,
	TS_MODEL_CREATE_OVERLAP,
	TS_MODEL_GMEM_BOUND,
	TS_MODEL_IMMUTABLE,
	TS_MODEL_FIXED_FIELD,
	TS_MODEL_MOVE_OVERLAP,
	TS_MODEL_NR_REASONS
};

extern const char *const ts_model_reasons[TS_MODEL_NR_REASONS];

/*
 * The contract's rules 1-6, in order, for one request against state m.
 * Returns 0 or the negative errno; on 0, *change is the enum
 * memslots_change or TS_MODEL_NOOP.  *why (if not NULL) tells which rule
 * refused it.
 *
 * "Wraps past 2^64" is modelled as the 64-bit sum being smaller than its
 * first operand, which includes a sum of exactly 2^64; the tests never
 * generate that exact boundary, as the contract leaves it open.
 */
int ts_model_classify_why(const struct ts_model *m, const struct memslots_region *r, int *change,
		       enum ts_model_reason *why);
int ts_model_classify(const struct ts_model *m, const struct memslots_region *r, int *change);
/* Applies a request that ts_model_classify() accepted. */
void ts_model_commit(struct ts_model *m, const struct memslots_region *r, int change);
/*
 * The same for a request of the KVM 6.x surface (Extension 1): rule 1
 * with the config's allowed_flags (and, for a v1 call, never
 * GUEST_MEMFD), the guest_memfd offset and the address space in rule 2,
 * immutability first in rule 6, and rule 7: a guest_memfd range bound by
 * another slot.  The v1 functions above are these on ts_model_widen(r) with
 * v1 set.
 */
int ts_model_classify2_why(const struct ts_model *m, const struct memslots_region2 *r, bool v1,
			int *change, enum ts_model_reason *why);
int ts_model_classify2(const struct ts_model *m, const struct memslots_region2 *r, int *change);
void ts_model_commit2(struct ts_model *m, const struct memslots_region2 *r, int change);

/* ---- memory attributes (model.c) ---------------------------------------- */

/*
 * memslots_set_attributes()'s checks, in the contract's order, for @a
 * against m: 0 or -EINVAL.  On 0, *changes (if not NULL) tells whether
 * some gfn of the range gets a new word (if not, nothing is published
 * and the hook is not called).
 */
int ts_model_attr_check(const struct ts_model *m, const struct memslots_attributes *a,
			bool *changes);
/* Applies a request ts_model_attr_check() accepted; its range must lie below
 * TS_MODEL_ATTR_GFNS. */
void ts_model_attr_commit(struct ts_model *m, const struct memslots_attributes *a);
/* The word of @gfn and (if not NULL) the first gfn after it whose word
 * differs, UINT64_MAX when none does: memslots_gfn_attributes() by brute force. */
uint64_t ts_model_attr_get(const struct ts_model *m, uint64_t gfn, uint64_t *run_end);
/* Number of maximal runs of equal words over the whole u64 gfn space. */
size_t ts_model_attr_runs(const struct ts_model *m);
/* A request in gfns of m's page size. */
struct memslots_attributes ts_model_attr_request(const struct ts_model *m, uint64_t gfn,
					      uint64_t npages, uint64_t attributes);
/*
 * memslots_gfn_attributes() and memslots_fault_lookup() of @set against
 * the model at every gfn of the model's space and around it, and a walk
 * of every run from gfn 0 along run_end, which must visit exactly the
 * model's maximal runs.
 */
void ts_model_check_attributes(const struct ts_model *m, const struct memslots_set *set,
			    struct ts_rng *rng);

/* What memslots_apply() must do with a batch, as predicted by the model. */
struct ts_model_result {
	int ret;
	int alt_ret;	     /* another acceptable return, where the contract is open */
	size_t failed_index; /* when ret != 0 */
	/*
	 * The changes whose prepare hook must run, in request order: all of
	 * them on success; on failure those of the requests before
	 * failed_index, plus the failing one when it is its prepare that
	 * failed (prepare_failed).
	 */
	size_t nr_changes;
	int *change;
	size_t *index; /* request index of each change */
	bool prepare_failed;
	bool invalidates; /* a DELETE or MOVE among the changes */
};

void ts_model_result_fini(struct ts_model_result *res);

/*
 * Predicts memslots_apply(r, n) on m and, on success, applies it to m.
 * A prepare hook is assumed to fail with fail_err for every change of
 * slot id fail_id (-1: never).
 *
 * The duplicate-id rule is "one more rule" of the contract without a
 * place in the 1-7 order: a duplicate request that is otherwise valid
 * (or a no-op) must fail with -EINVAL, before its prepare hook; one that
 * would fail with -EEXIST may fail with either.
 */
void ts_model_apply(struct ts_model *m, const struct memslots_region *r, size_t n, int fail_id,
		 int fail_err, struct ts_model_result *res);
/* The same for memslots_apply2(). */
void ts_model_apply2(struct ts_model *m, const struct memslots_region2 *r, size_t n, int fail_id,
		  int fail_err, struct ts_model_result *res);

/* ---- comparing a published set with the model (model_check.c) ---------- */

/* Same public fields (flags masked as given). */
bool ts_slot_same(const struct memslot *a, const struct memslot *b, uint32_t flag_mask);
/* @s is what @ms describes as slot @id, with @extra_flags set. */
bool ts_model_slot_is(const struct memslot *s, unsigned int id, const struct ts_model_slot *ms,
		   uint32_t extra_flags);
bool ts_slot_is(const struct memslot *s, const struct ts_model *m, unsigned int id);

/* Reads a set back into a model (m must have the engine's geometry). */
void ts_model_from_set(struct ts_model *m, const struct memslots_set *set);
bool ts_model_equal(const struct ts_model *a, const struct ts_model *b);

/* Single lookups at one gfn (find_gfn, _cached with @cache, _approx,
 * gfn_to_hva) and the range queries, against brute force over m. */
void ts_model_check_gfn(const struct ts_model *m, const struct memslots_set *set,
		     struct memslots_cache *cache, uint64_t gfn);
void ts_model_check_gfn_range(const struct ts_model *m, const struct memslots_set *set,
			      uint64_t start, uint64_t end);
void ts_model_check_hva_range(const struct ts_model *m, const struct memslots_set *set,
			      uint64_t start, uint64_t last);

/*
 * Checks every lookup of set against the model: count, nr_pages, the
 * full iteration, find_id, and find_gfn / find_gfn_approx /
 * find_gfn_cached / gfn_to_hva at every slot boundary and at random
 * gfns, plus nr_queries random gfn and hva range queries; and the set's
 * own invariants (memslots__check_set).
 */
void ts_model_check_set(const struct ts_model *m, const struct memslots_set *set,
			struct ts_rng *rng, unsigned int nr_queries);
/* Reads ms's active set into a fresh copy of m's geometry and compares;
 * then checks both sets of ms (memslots__check_sets). */
void ts_model_check(const struct ts_model *m, struct memslots *ms, struct ts_rng *rng,
		 unsigned int nr_queries);
/* The engine's own consistency checks (src/debug.h) of both sets. */
void ts_check_engine(struct memslots *ms);
uint64_t ts_generation(struct memslots *ms);

/* ---- a counting RCU for single-threaded tests (recorder.c) -------------- */

/*
 * With one thread there is never a reader to wait for, so synchronize has
 * nothing to do; counting the calls observes the number of grace periods
 * a writer call takes, and the depth catches a synchronize issued from
 * inside a read-side section (a deadlock with a real RCU).
 */
struct ts_rcu_stats {
	unsigned long read_lock;
	unsigned long read_unlock;
	unsigned long synchronize;
	unsigned long registered;
	int depth;
};

extern struct ts_rcu_stats ts_rcu;
extern const struct memslots_rcu ts_counting_rcu;

/* ---- a hook recorder (recorder.c) --------------------------------------- */

enum ts_hook {
	TS_PREPARE,
	TS_ABORT,
	TS_COMMIT,
	TS_INVALIDATE,
	TS_RELEASE,
	TS_SET_ATTRIBUTES,
};

struct ts_event {
	enum ts_hook hook;
	int change; /* -1 for invalidate and release */
	bool has_old, has_new;
	struct memslot old, new;       /* copies of the public fields */
	const struct memslot *old_ptr; /* slot for invalidate and release */
	const struct memslot *new_ptr;
	void *priv_in; /* prepare: new->priv on entry */
	uint64_t gen;  /* generation of the active set inside the hook */
	int ret;       /* prepare, set_attributes: what it returned */
	struct memslots_attributes attr; /* set_attributes: its request */
};

struct ts_hooks {
	struct ts_event *ev;
	size_t n, cap;
	struct memslots *ms; /* set after memslots_new(), to read from hooks */
	size_t prepare_calls;
	size_t fail_prepare_at; /* fail the k-th prepare since ts_hooks_clear(); 0: never */
	int fail_id;		/* fail every prepare of this id; -1: never */
	int fail_err;
	bool set_priv; /* prepare stores a fresh token in new->priv */
	int fail_attributes; /* what set_attributes returns (0: success) */
	uintptr_t next_token;
	/* Extra checks run inside every hook, after it is recorded. */
	void (*on_event)(struct ts_hooks *h, const struct ts_event *e);
	void *user;
};

extern const struct memslots_ops ts_recording_ops;

void ts_hooks_init(struct ts_hooks *h);
/* Forgets the events; fail_prepare_at counts prepare calls from here. */
void ts_hooks_clear(struct ts_hooks *h);
void ts_hooks_fini(struct ts_hooks *h);
size_t ts_hooks_count(const struct ts_hooks *h, enum ts_hook hook);
bool ts_same_event_args(const struct ts_event *a, const struct ts_event *b);
/*
 * The hook log of a failed call: prepares (the last one failing when
 * prepare_failed), then aborts of the successful prepares in reverse order
 * with the same arguments, and nothing else.  Returns the number of
 * prepare calls.
 */
size_t ts_check_rolled_back(const struct ts_hooks *h, bool prepare_failed);

/* ---- a test environment: engine + hooks + allocator + model (env.c) ---- */

struct ts_env {
	struct memslots *ms;
	struct ts_hooks hooks;
	struct ts_alloc_counter ac;
	struct memslots_config cfg;
	struct ts_model m; /* what the engine must hold */
	struct ts_rng rng;
};

/*
 * rcu NULL selects the library's default (liburcu memb), anything else is
 * used as is; the recording hooks and the counting allocator are always
 * plugged in.
 */
void ts_env_init(struct ts_env *e, unsigned int page_shift, unsigned int max_slots,
		 uint64_t hva_limit, const struct memslots_rcu *rcu);
/* The same with the config's allowed_flags and as_id. */
void ts_env_init_surface(struct ts_env *e, unsigned int page_shift, unsigned int max_slots,
			 uint64_t hva_limit, const struct memslots_rcu *rcu, uint32_t allowed_flags,
			 uint16_t as_id);
/* The same with the config's dirty_log too (dirty_model.h models it). */
void ts_env_init_dirty(struct ts_env *e, unsigned int page_shift, unsigned int max_slots,
		       uint64_t hva_limit, const struct memslots_rcu *rcu, uint32_t allowed_flags,
		       uint16_t as_id, uint32_t dirty_log);
/* Frees the engine: one release per remaining slot, ascending, no leak. */
void ts_env_fini(struct ts_env *e);
/* After a successful call: the model takes the privs that prepare set. */
void ts_env_take_privs(struct ts_env *e);
/* A request that must succeed, applied to the engine and the model. */
void ts_env_set(struct ts_env *e, struct memslots_region r);
void ts_env_set2(struct ts_env *e, struct memslots_region2 r);
/* Shorthand for a request in pages of the env's page size. */
struct memslots_region ts_env_region(const struct ts_env *e, uint32_t slot, uint32_t flags,
				     uint64_t gfn, uint64_t npages, uint64_t hva);

#endif /* TS_MODEL_H */
