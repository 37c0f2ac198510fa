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
#define MODEL_NOOP (-1)

/* The flags a request may carry: v1 calls, and v2 calls at most. */
#define MODEL_VALID_FLAGS (MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)
#define MODEL_ALL_FLAGS	  (MODEL_VALID_FLAGS | MEMSLOT_GUEST_MEMFD)

struct model_slot {
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
 * MODEL_ATTR_GFNS).  Every gfn above keeps the word 0: the model refuses to
 * commit a range that reaches there (tests generate none), so that what it
 * says about any gfn is exact.
 */
#define MODEL_ATTR_GFNS 256u

struct model {
	unsigned int page_shift;
	unsigned int max_slots;
	uint64_t hva_limit;
	uint32_t allowed_flags; /* what the config allows, LOG_DIRTY_PAGES always in */
	uint16_t as_id;
	struct model_slot *slot; /* [max_slots], indexed by id */
	unsigned int *ids;	 /* [count]: the present ids, in no order */
	size_t count;
	uint64_t nr_pages;
	/* model_check_set: find_id is tried on every id below this and on
	 * every present one; 0: on all max_slots ids. */
	unsigned int id_probe_limit;
	uint64_t supported_attributes; /* as the engine's config; never 0 */
	uint64_t *attr;		       /* [MODEL_ATTR_GFNS], indexed by gfn */
};

void model_init(struct model *m, unsigned int page_shift, unsigned int max_slots,
		uint64_t hva_limit);
/* The config's allowed_flags (0: all) and as_id, as memslots_new() takes them. */
void model_set_surface(struct model *m, uint32_t allowed_flags, uint16_t as_id);
void model_fini(struct model *m);
/* Removes every slot and every attribute: O(count), so a model of 65536
 * ids can be reused. */
void model_clear(struct model *m);
void model_copy(struct model *dst, const struct model *src);
/* Replaces dst's contents by src's (same geometry), keeping dst's arrays. */
void model_assign(struct model *dst, const struct model *src);
/* Puts @s (present or not) as slot @id, keeping count, pages and ids right. */
void model_set_slot(struct model *m, unsigned int id, const struct model_slot *s);

struct memslots_region model_region(unsigned int page_shift, uint32_t slot, uint32_t flags,
				    uint64_t gfn, uint64_t npages, uint64_t hva);
/* A v1 request as the v2 one with the same meaning (extra fields zero). */
struct memslots_region2 model_widen(const struct memslots_region *r);
/* model_region() as a v2 request, its guest_memfd fields zero. */
struct memslots_region2 model_widen2(unsigned int page_shift, uint32_t slot, uint32_t flags,
				     uint64_t gfn, uint64_t npages, uint64_t hva);

/* Why a request is refused, in the order the contract checks. */
enum model_reason {
	MODEL_OK = -1,
	MODEL_BAD_FLAGS,
	MODEL_GMEM_FLAGS,
	MODEL_MISALIGNED,
	MODEL_HVA_WRAPS,
	MODEL_HVA_LIMIT,
	MODEL_GMEM_OFFSET,
	MODEL_BAD_ID,
	MODEL_GPA_WRAPS,
	MODEL_TOO_BIG,
	MODEL_NAMED_TWICE,
	MODEL_DELETE_ABSENT,
	MODEL_CREATE_OVERLAP,
	MODEL_GMEM_BOUND,
	MODEL_IMMUTABLE,
	MODEL_FIXED_FIELD,
	MODEL_MOVE_OVERLAP,
	MODEL_NR_REASONS
};

extern const char *const model_reasons[MODEL_NR_REASONS];

/*
 * The contract's rules 1-6, in order, for one request against state m.
 * Returns 0 or the negative errno; on 0, *change is the enum
 * memslots_change or MODEL_NOOP.  *why (if not NULL) tells which rule
 * refused it.
 *
 * "Wraps past 2^64" is modelled as the 64-bit sum being smaller than its
 * first operand, which includes a sum of exactly 2^64; the tests never
 * generate that exact boundary, as the contract leaves it open.
 */
int model_classify_why(const struct model *m, const struct memslots_region *r, int *change,
		       enum model_reason *why);
int model_classify(const struct model *m, const struct memslots_region *r, int *change);
/* Applies a request that model_classify() accepted. */
void model_commit(struct model *m, const struct memslots_region *r, int change);
/*
 * The same for a request of the KVM 6.x surface (Extension 1): rule 1
 * with the config's allowed_flags (and, for a v1 call, never
 * GUEST_MEMFD), the guest_memfd offset and the address space in rule 2,
 * immutability first in rule 6, and rule 7: a guest_memfd range bound by
 * another slot.  The v1 functions above are these on model_widen(r) with
 * v1 set.
 */
int model_classify2_why(const struct model *m, const struct memslots_region2 *r, bool v1,
			int *change, enum model_reason *why);
int model_classify2(const struct model *m, const struct memslots_region2 *r, int *change);
void model_commit2(struct model *m, const struct memslots_region2 *r, int change);

/* ---- memory attributes (model.c) ---------------------------------------- */

/*
 * memslots_set_attributes()'s checks, in the contract's order, for @a
 * against m: 0 or -EINVAL.  On 0, *changes (if not NULL) tells whether
 * some gfn of the range gets a new word (if not, nothing is published
 * and the hook is not called).
 */
int model_attr_check(const struct model *m, const struct memslots_attributes *a, bool *changes);
/* Applies a request model_attr_check() accepted; its range must lie below
 * MODEL_ATTR_GFNS. */
void model_attr_commit(struct model *m, const struct memslots_attributes *a);
/* The word of @gfn and (if not NULL) the first gfn after it whose word
 * differs, UINT64_MAX when none does: memslots_gfn_attributes() by brute force. */
uint64_t model_attr_get(const struct model *m, uint64_t gfn, uint64_t *run_end);
/* Number of maximal runs of equal words over the whole u64 gfn space. */
size_t model_attr_runs(const struct model *m);
/* A request in gfns of m's page size. */
struct memslots_attributes model_attr_request(const struct model *m, uint64_t gfn,
					      uint64_t npages, uint64_t attributes);
/*
 * memslots_gfn_attributes() and memslots_fault_lookup() of @set against
 * the model at every gfn of the model's space and around it, and a walk
 * of every run from gfn 0 along run_end, which must visit exactly the
 * model's maximal runs.
 */
void model_check_attributes(const struct model *m, const struct memslots_set *set,
			    struct tu_rng *rng);

/* What memslots_apply() must do with a batch, as predicted by the model. */
struct model_result {
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

void model_result_fini(struct model_result *res);

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
void model_apply(struct model *m, const struct memslots_region *r, size_t n, int fail_id,
		 int fail_err, struct model_result *res);
/* The same for memslots_apply2(). */
void model_apply2(struct model *m, const struct memslots_region2 *r, size_t n, int fail_id,
		  int fail_err, struct model_result *res);

/* ---- comparing a published set with the model (model_check.c) ---------- */

/* Same public fields (flags masked as given). */
bool mt_slot_same(const struct memslot *a, const struct memslot *b, uint32_t flag_mask);
/* @s is what @ms describes as slot @id, with @extra_flags set. */
bool model_slot_is(const struct memslot *s, unsigned int id, const struct model_slot *ms,
		   uint32_t extra_flags);
bool mt_slot_is(const struct memslot *s, const struct model *m, unsigned int id);

/* Reads a set back into a model (m must have the engine's geometry). */
void model_from_set(struct model *m, const struct memslots_set *set);
bool model_equal(const struct model *a, const struct model *b);

/* Single lookups at one gfn (find_gfn, _cached with @cache, _approx,
 * gfn_to_hva) and the range queries, against brute force over m. */
void model_check_gfn(const struct model *m, const struct memslots_set *set,
		     struct memslots_cache *cache, uint64_t gfn);
void model_check_gfn_range(const struct model *m, const struct memslots_set *set, uint64_t start,
			   uint64_t end);
void model_check_hva_range(const struct model *m, const struct memslots_set *set, uint64_t start,
			   uint64_t last);

/*
 * Checks every lookup of set against the model: count, nr_pages, the
 * full iteration, find_id, and find_gfn / find_gfn_approx /
 * find_gfn_cached / gfn_to_hva at every slot boundary and at random
 * gfns, plus nr_queries random gfn and hva range queries; and the set's
 * own invariants (memslots__check_set).
 */
void model_check_set(const struct model *m, const struct memslots_set *set, struct tu_rng *rng,
		     unsigned int nr_queries);
/* Reads ms's active set into a fresh copy of m's geometry and compares;
 * then checks both sets of ms (memslots__check_sets). */
void model_check(const struct model *m, struct memslots *ms, struct tu_rng *rng,
		 unsigned int nr_queries);
/* The engine's own consistency checks (src/debug.h) of both sets. */
void mt_check_engine(struct memslots *ms);
uint64_t mt_generation(struct memslots *ms);

/* ---- a counting RCU for single-threaded tests (recorder.c) -------------- */

/*
 * With one thread there is never a reader to wait for, so synchronize has
 * nothing to do; counting the calls observes the number of grace periods
 * a writer call takes, and the depth catches a synchronize issued from
 * inside a read-side section (a deadlock with a real RCU).
 */
struct mt_rcu_stats {
	unsigned long read_lock;
	unsigned long read_unlock;
	unsigned long synchronize;
	unsigned long registered;
	int depth;
};

extern struct mt_rcu_stats mt_rcu;
extern const struct memslots_rcu mt_counting_rcu;

/* ---- a hook recorder (recorder.c) --------------------------------------- */

enum mt_hook {
	MT_PREPARE,
	MT_ABORT,
	MT_COMMIT,
	MT_INVALIDATE,
	MT_RELEASE,
	MT_SET_ATTRIBUTES,
};

struct mt_event {
	enum mt_hook hook;
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

struct mt_hooks {
	struct mt_event *ev;
	size_t n, cap;
	struct memslots *ms; /* set after memslots_new(), to read from hooks */
	size_t prepare_calls;
	size_t fail_prepare_at; /* fail the k-th prepare since mt_hooks_clear(); 0: never */
	int fail_id;		/* fail every prepare of this id; -1: never */
	int fail_err;
	bool set_priv; /* prepare stores a fresh token in new->priv */
	int fail_attributes; /* what set_attributes returns (0: success) */
	uintptr_t next_token;
	/* Extra checks run inside every hook, after it is recorded. */
	void (*on_event)(struct mt_hooks *h, const struct mt_event *e);
	void *user;
};

extern const struct memslots_ops mt_recording_ops;

void mt_hooks_init(struct mt_hooks *h);
/* Forgets the events; fail_prepare_at counts prepare calls from here. */
void mt_hooks_clear(struct mt_hooks *h);
void mt_hooks_fini(struct mt_hooks *h);
size_t mt_hooks_count(const struct mt_hooks *h, enum mt_hook hook);
bool mt_same_event_args(const struct mt_event *a, const struct mt_event *b);
/*
 * The hook log of a failed call: prepares (the last one failing when
 * prepare_failed), then aborts of the successful prepares in reverse order
 * with the same arguments, and nothing else.  Returns the number of
 * prepare calls.
 */
size_t mt_check_rolled_back(const struct mt_hooks *h, bool prepare_failed);

/* ---- a test environment: engine + hooks + allocator + model (env.c) ---- */

struct mt_env {
	struct memslots *ms;
	struct mt_hooks hooks;
	struct tu_alloc_counter ac;
	struct memslots_config cfg;
	struct model m; /* what the engine must hold */
	struct tu_rng rng;
};

/*
 * rcu NULL selects the library's default (liburcu memb), anything else is
 * used as is; the recording hooks and the counting allocator are always
 * plugged in.
 */
void mt_env_init(struct mt_env *e, unsigned int page_shift, unsigned int max_slots,
		 uint64_t hva_limit, const struct memslots_rcu *rcu);
/* The same with the config's allowed_flags and as_id. */
void mt_env_init_surface(struct mt_env *e, unsigned int page_shift, unsigned int max_slots,
			 uint64_t hva_limit, const struct memslots_rcu *rcu, uint32_t allowed_flags,
			 uint16_t as_id);
/* The same with the config's dirty_log too (dirty_model.h models it). */
void mt_env_init_dirty(struct mt_env *e, unsigned int page_shift, unsigned int max_slots,
		       uint64_t hva_limit, const struct memslots_rcu *rcu, uint32_t allowed_flags,
		       uint16_t as_id, uint32_t dirty_log);
/* Frees the engine: one release per remaining slot, ascending, no leak. */
void mt_env_fini(struct mt_env *e);
/* After a successful call: the model takes the privs that prepare set. */
void mt_env_take_privs(struct mt_env *e);
/* A request that must succeed, applied to the engine and the model. */
void mt_env_set(struct mt_env *e, struct memslots_region r);
void mt_env_set2(struct mt_env *e, struct memslots_region2 r);
/* Shorthand for a request in pages of the env's page size. */
struct memslots_region mt_env_region(const struct mt_env *e, uint32_t slot, uint32_t flags,
				     uint64_t gfn, uint64_t npages, uint64_t hva);

#endif /* TS_MODEL_H */
