/* SPDX-License-Identifier: MIT */
/*
 * The differential fuzz target's parts (fuzz_memslots.c has the whole
 * story): the state of one execution with the model and what the hooks
 * recorded (fuzz_memslots_hooks.c), and the decoding of requests from the
 * input (fuzz_memslots_decode.c).  Single-threaded, like the target.
 */
#ifndef MS_FUZZ_MEMSLOTS_H
#define MS_FUZZ_MEMSLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memslots/memslots.h>

#include "dirty_model.h"
#include "fuzz_common.h"
#include "model.h"

#define FZ_MAX_OPS   96u
#define FZ_MAX_BATCH 9u
#define FZ_MAX_LOG   64u
/* The largest range a merge or collect of the fuzzer names, in words. */
#define FZ_DIRTY_WORDS 4u

/* What prepare sets as priv: a function of the incoming priv and the change. */
uintptr_t fz_next_priv(uintptr_t priv, enum memslots_change c);

/* One change the model expects the engine to make. */
struct fz_change {
	enum memslots_change type;
	uint16_t id;
	size_t index;
	struct ts_model_slot old; /* as before the change (not present for CREATE) */
	struct ts_model_slot new; /* as after it (not present for DELETE) */
};


enum { FZ_PREPARE, FZ_ABORT, FZ_INVALIDATE, FZ_COMMIT };

struct fz_event {
	int hook;
	enum memslots_change type;
	uint16_t id;
};

struct fz_state {
	struct memslots *ms;
	struct ts_model m;
	struct ts_dirty_model d; /* the slots' dirty bitmaps, when the config keeps them */
	struct ts_alloc_counter alloc;
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


/* The execution's state, the hooks the engine is made with, and the
 * reader-side checks' cache and random numbers. */
extern struct fz_state F;
extern const struct memslots_ops fz_ops;
extern struct memslots_cache fz_cache;
extern struct ts_rng fz_rng;

/* Everything readers can see of @set against the model. */
void fz_check_state(const struct memslots_set *set);

/* The page size of the execution's configuration. */
uint64_t fz_page(void);
/* A gfn from one byte: mostly a crowded low range, a few at the top. */
uint64_t fz_gfn_of(uint8_t b);
/* A request (with its guest_memfd part when @v2) from the input. */
struct memslots_region2 fz_request(struct fz_in *in, bool v2);
/* A mark, merge or collect from the input, on the engine and the dirty model. */
void fz_dirty_op(struct fz_in *in);

#endif /* MS_FUZZ_MEMSLOTS_H */
