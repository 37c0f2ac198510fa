/* SPDX-License-Identifier: MIT */
/*
 * vmm-linux's pre-copy migration (--precopy ROUNDS), proven lossless on
 * the running guest: a thread of its own copies guest RAM into a shadow
 * in rounds while the guest works (it reads its disk, so virtio-blk
 * writes into guest RAM, and it writes memory), each round taking what
 * the library's bitmaps collected since the last one: the pages the
 * vCPU wrote (KVM's log, merged) and those the devices wrote (marked by
 * guestmem).  A final round runs with the vCPU parked, after which the
 * shadow must equal guest RAM byte for byte.
 *
 * The pass, step by step (the vCPU thread, from the conversation in
 * commands.c, and the migration thread):
 *
 *   vCPU thread    precopy_start(): one memslots_apply() turns dirty
 *                  logging on for every RAM slot (each new bitmap all
 *                  dirty, MEMSLOTS_DIRTY_INITIALLY_SET, so the first
 *                  round copies everything), then starts the thread;
 *   migration      rounds 1..ROUNDS: per slot, KVM's log merged into the
 *                  library's bitmap, the bitmap collected, those pages
 *                  copied; then it asks the vCPU to park (immediate_exit
 *                  and a signal: KVM_RUN returns EINTR) and waits for it;
 *                  the final round; the comparison; the vCPU resumed;
 *   vCPU thread    precopy_park() returns into precopy_finish(): the
 *                  thread joined, the figures printed and checked,
 *                  logging turned off; then the next step.
 *
 * Locking: struct precopy's lock and condition variable carry the
 * pause handshake; the figures of the rounds are written by the
 * migration thread and read by the vCPU thread only after joining it.
 */
#ifndef LINUX_PRECOPY_H
#define LINUX_PRECOPY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct linux_vm;

/* A source of dirty pages a pass may leave out (debug: --precopy-skip,
 * --precopy-control): the comparison must then fail. */
enum precopy_source {
	PRECOPY_ALL,   /* nothing left out */
	PRECOPY_KVM,   /* KVM's log taken but not merged: the vCPU's writes */
	PRECOPY_MARKS, /* the devices' marks not made: virtio-blk's writes */
};

#define PRECOPY_MAX_ROUNDS   32
#define PRECOPY_EXTRA_ROUNDS 50 /* live rounds added until both sources wrote */
#define PRECOPY_BAD_GFNS     8	/* the mismatching gfns printed */

struct precopy_round {
	uint64_t pages;	    /* collected from the library's bitmaps */
	uint64_t kvm_pages; /* KVM's log of the round (overlaps the marks) */
	uint64_t copied;    /* of the collected pages, those that differed */
	double secs;
};

struct precopy {
	/* The pass: its live rounds, what it leaves out, what it expects. */
	unsigned int rounds;
	enum precopy_source skip;
	bool expect_miss; /* a control pass: the comparison must fail */

	/* The shadow of guest RAM, one mapping per RAM slot, and one slot's
	 * worth of bitmap for the collect and for KVM's log. */
	void **shadow;
	uint64_t *bits, *kvm_log;
	/* /proc/self/pagemap, and one slot's entries of RAM and of the shadow. */
	int pagemap;
	uint64_t *ram_map, *shadow_map;

	pthread_t thread;
	bool running; /* the thread was started and not yet joined */

	/* The pause handshake. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_bool pause; /* the migration thread wants the vCPU parked */
	bool parked;	   /* the vCPU thread waits in precopy_park() */
	bool vcpu_gone;	   /* the vCPU loop ended: nobody will park */
	bool done;	   /* the pass is over (set before the vCPU resumes) */

	/* The figures, the migration thread's until it is joined. */
	/* Live rounds, then the final one. */
	struct precopy_round round[PRECOPY_MAX_ROUNDS + PRECOPY_EXTRA_ROUNDS + 1];
	unsigned int nrounds;
	double park_secs; /* from the pause request to the vCPU parked */
	double compare_secs;
	uint64_t ram_pages;
	uint64_t untouched; /* pages the comparison knew zero in both */
	uint64_t mismatches;
	uint64_t bad_gfn[PRECOPY_BAD_GFNS];
	int error; /* -errno of a failed ioctl or library call, 0 */
	unsigned long marks_before, blk_read_before;
};

/* Allocates the shadow and the bitmaps (--precopy given), before the run.
 * Returns 0 or -ENOMEM. */
int precopy_init(struct linux_vm *l);

/* vCPU thread: starts a pass (see above): 0, or -errno when logging could
 * not be turned on or the thread not started (then no pass runs). */
int precopy_start(struct linux_vm *l, enum precopy_source skip, bool expect_miss);

/* vCPU thread, before each KVM_RUN: parks it while the migration thread
 * wants it parked, then, once the pass is over, precopy_finish(). */
void precopy_check_pause(struct linux_vm *l);

/* vCPU thread, once its loop has ended: a migration thread that waits for
 * it to park gives up, and is joined. */
void precopy_vcpu_gone(struct linux_vm *l);

/* Frees the shadow. */
void precopy_free(struct linux_vm *l);

/* The name of a source for options and output ("all", "kvm", "marks"),
 * and back: -1 for an unknown name. */
const char *precopy_source_name(enum precopy_source s);
int precopy_parse_source(const char *name, enum precopy_source *s);

#endif /* LINUX_PRECOPY_H */
