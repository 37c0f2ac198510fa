// SPDX-License-Identifier: MIT
/*
 * vmm-linux's pre-copy migration into a shadow of guest RAM (see
 * precopy.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "precopy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <memslots/memslots.h>

#include "dirtylog.h"
#include "guestmem.h"
#include "kvm.h"
#include "linux_vm.h"

/*
 * A live round starts at least this long after the one before, so that
 * the guest gets to work between rounds even where copying is quick
 * (a real migration's rounds are as long as sending their pages takes).
 */
#define ROUND_MIN_NSEC (200 * 1000 * 1000L)

/* The signal that takes the vCPU out of KVM_RUN; its handler does nothing. */
#define KICK_SIGNAL SIGUSR1

static void on_kick(int sig)
{
	(void)sig;
}

static uint64_t slot_pages(const struct linux_vm *l)
{
	return l->opt.slot_size / PAGE_SIZE;
}

/* /proc/self/pagemap: bit 63 the page is present, bit 62 it is swapped. */
#define PM_TOUCHED (3ull << 62)

/*
 * Which of the @npages pages at @addr (this process's anonymous private
 * memory) were ever touched, per /proc/self/pagemap, into @entries: a
 * page neither present nor swapped was never written and reads as
 * zeroes, so neither a copy nor a comparison needs to read it (under
 * QEMU's TCG every first read of such a page is a costly fault, and
 * most of guest RAM is such pages).  Without a pagemap every page counts
 * as touched.
 */
static void touched_pages(const struct precopy *pc, const void *addr, uint64_t npages,
			  uint64_t *entries)
{
	size_t len = npages * sizeof(*entries);
	off_t off = (off_t)((uintptr_t)addr / PAGE_SIZE * sizeof(*entries));

	if (pc->pagemap < 0 || pread(pc->pagemap, entries, len, off) != (ssize_t)len)
		for (uint64_t p = 0; p < npages; p++)
			entries[p] = PM_TOUCHED;
}

/* Whether the two pages differ (@b NULL: whether @a is not all zeroes):
 * 64-bit words, which TCG runs faster than the vector code of the C
 * library's memcmp(). */
static bool page_differs(const void *a, const void *b)
{
	static const uint64_t zero[PAGE_SIZE / 8];
	const uint64_t *x = a, *y = b ? b : zero;

	for (size_t i = 0; i < PAGE_SIZE / 8; i += 8) {
		uint64_t d = 0;

		for (size_t k = 0; k < 8; k++)
			d |= x[i + k] ^ y[i + k];
		if (d)
			return true;
	}
	return false;
}

int precopy_init(struct linux_vm *l)
{
	struct precopy *pc = &l->pc;
	uint64_t words = dirtylog_words(slot_pages(l));
	struct sigaction sa = {.sa_handler = on_kick, .sa_flags = SA_RESTART};

	pc->pagemap = -1;
	pthread_mutex_init(&pc->lock, NULL);
	pthread_cond_init(&pc->cond, NULL);
	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	pc->shadow = calloc(l->opt.slots, sizeof(void *));
	pc->bits = calloc(words, sizeof(uint64_t));
	pc->kvm_log = calloc(words, sizeof(uint64_t));
	pc->ram_map = calloc(slot_pages(l), sizeof(uint64_t));
	pc->shadow_map = calloc(slot_pages(l), sizeof(uint64_t));
	if (!pc->shadow || !pc->bits || !pc->kvm_log || !pc->ram_map || !pc->shadow_map)
		return -ENOMEM;
	pc->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	/* Untouched pages of the shadow cost nothing: the copy writes only the
	 * pages that differ, so a page the guest never wrote stays unmapped. */
	for (unsigned int i = 0; i < l->opt.slots; i++) {
		pc->shadow[i] = map_anon(l->opt.slot_size);
		if (!pc->shadow[i])
			return -ENOMEM;
	}
	return 0;
}

void precopy_free(struct linux_vm *l)
{
	struct precopy *pc = &l->pc;

	if (!pc->shadow)
		return;
	for (unsigned int i = 0; i < l->opt.slots; i++)
		if (pc->shadow[i])
			munmap(pc->shadow[i], l->opt.slot_size);
	free(pc->shadow);
	free(pc->bits);
	free(pc->kvm_log);
	free(pc->ram_map);
	free(pc->shadow_map);
	if (pc->pagemap >= 0)
		close(pc->pagemap);
	pc->shadow = NULL;
	pc->bits = pc->kvm_log = pc->ram_map = pc->shadow_map = NULL;
	pc->pagemap = -1;
}

const char *precopy_source_name(enum precopy_source s)
{
	return s == PRECOPY_KVM ? "kvm" : s == PRECOPY_MARKS ? "marks" : "all";
}

int precopy_parse_source(const char *name, enum precopy_source *s)
{
	if (!strcmp(name, "kvm"))
		*s = PRECOPY_KVM;
	else if (!strcmp(name, "marks"))
		*s = PRECOPY_MARKS;
	else
		return -1;
	return 0;
}

/* ---- the migration thread --------------------------------------------------------- */

/*
 * Copies the pages of @bits (slot @s, RAM slot @i; @n of them) into the
 * shadow: those that differ from it, so that the shadow stays as sparse
 * as what the guest touched.  A page of RAM never touched is zero, and so
 * is the shadow's (it only ever gets copies of touched pages): skipped.
 * A page of the shadow never touched is zero: compared as such, without
 * reading it (which would fault).  The copy races with the guest and
 * with the devices by design: a page written while it is copied was
 * marked dirty again (by KVM or by guestmem) and goes in a later round.
 * Returns the pages copied.
 */
static uint64_t copy_pages(struct precopy *pc, unsigned int i, const struct memslot *s,
			   const uint64_t *bits, uint64_t n)
{
	const char *ram = (const char *)(uintptr_t)s->userspace_addr;
	char *shadow = pc->shadow[i];
	uint64_t copied = 0;

	/* One pagemap read per slot that has dirty pages; a round after the
	 * first has few. */
	if (n) {
		touched_pages(pc, ram, s->npages, pc->ram_map);
		touched_pages(pc, shadow, s->npages, pc->shadow_map);
	}
	for (uint64_t w = 0; n && w < dirtylog_words(s->npages); w++) {
		for (uint64_t word = bits[w]; word; word &= word - 1) {
			uint64_t p = w * 64 + (uint64_t)__builtin_ctzll(word);
			uint64_t off = p * PAGE_SIZE;

			if (!(pc->ram_map[p] & PM_TOUCHED))
				continue;
			if (page_differs(ram + off,
					 pc->shadow_map[p] & PM_TOUCHED ? shadow + off : NULL)) {
				memcpy(shadow + off, ram + off, PAGE_SIZE);
				copied++;
			}
		}
	}
	return copied;
}

/*
 * One round over every RAM slot, each inside a read-side section of its
 * own: KVM's log merged into the library's bitmap (unless the pass skips
 * it), the bitmap collected, its pages copied.  Returns 0 or -errno.
 */
static int run_round(struct linux_vm *l, struct precopy_round *r)
{
	struct precopy *pc = &l->pc;
	double t0 = now();
	int ret = 0;

	for (unsigned int i = 0; i < l->opt.slots && !ret; i++) {
		const struct memslots_set *set = memslots_read_lock(l->vm.ms);
		const struct memslot *s = memslots_find_id(set, (uint16_t)i);
		int64_t n = s ? dirtylog_sync_kvm(&l->vm.kvm, set, s, pc->kvm_log,
						  pc->skip != PRECOPY_KVM)
			      : -ENOENT;

		if (n >= 0) {
			r->kvm_pages += (uint64_t)n;
			memset(pc->bits, 0, dirtylog_words(s->npages) * sizeof(uint64_t));
			n = dirtylog_collect(set, s, pc->bits);
		}
		if (n >= 0) {
			r->pages += (uint64_t)n;
			r->copied += copy_pages(pc, i, s, pc->bits, (uint64_t)n);
		}
		memslots_read_unlock(l->vm.ms);
		if (n < 0)
			ret = (int)n;
	}
	r->secs = now() - t0;
	return ret;
}

static void print_round(struct linux_vm *l, unsigned int n, bool final)
{
	const struct precopy_round *r = &l->pc.round[n - 1];

	printf("vmm: pre-copy round %u%s: %" PRIu64 " pages dirty (%" PRIu64
	       " in KVM's log), %" PRIu64 " copied, %.1f ms\n",
	       n, final ? " (final, vCPU parked)" : "", r->pages, r->kvm_pages, r->copied,
	       r->secs * 1e3);
}

/* Waits until @t0 + ROUND_MIN_NSEC. */
static void pace(const struct timespec *t0)
{
	struct timespec until = *t0;

	until.tv_nsec += ROUND_MIN_NSEC;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}

/*
 * Takes the vCPU out of KVM_RUN and waits until its thread is parked:
 * immediate_exit makes a KVM_RUN that has not started yet return EINTR at
 * once, the signal one that runs.  Returns false when the vCPU loop ended
 * instead.
 */
static bool park_vcpu(struct linux_vm *l)
{
	struct precopy *pc = &l->pc;
	bool parked;

	atomic_store(&pc->pause, true);
	__atomic_store_n(&l->vcpu.run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(l->vcpu_thread, KICK_SIGNAL);
	pthread_mutex_lock(&pc->lock);
	while (!pc->parked && !pc->vcpu_gone)
		pthread_cond_wait(&pc->cond, &pc->lock);
	parked = pc->parked;
	pthread_mutex_unlock(&pc->lock);
	return parked;
}

static void resume_vcpu(struct precopy *pc)
{
	pthread_mutex_lock(&pc->lock);
	pc->done = true;
	atomic_store(&pc->pause, false);
	pthread_cond_broadcast(&pc->cond);
	pthread_mutex_unlock(&pc->lock);
}

/*
 * With the vCPU parked: every page of every RAM slot, shadow against RAM,
 * byte for byte; a page that neither mapping ever touched is zero in both
 * and needs no reading (touched_pages()).
 */
static void compare(struct linux_vm *l)
{
	struct precopy *pc = &l->pc;
	double t0 = now();

	pc->ram_pages = pc->untouched = 0;
	for (unsigned int i = 0; i < l->opt.slots; i++) {
		const struct memslots_set *set = memslots_read_lock(l->vm.ms);
		const struct memslot *s = memslots_find_id(set, (uint16_t)i);
		const char *ram = s ? (const char *)(uintptr_t)s->userspace_addr : NULL;

		if (ram) {
			touched_pages(pc, ram, s->npages, pc->ram_map);
			touched_pages(pc, pc->shadow[i], s->npages, pc->shadow_map);
		}
		for (uint64_t p = 0; ram && p < s->npages; p++) {
			uint64_t off = p * PAGE_SIZE;

			if (!((pc->ram_map[p] | pc->shadow_map[p]) & PM_TOUCHED)) {
				pc->untouched++;
				continue;
			}
			if (!page_differs((char *)pc->shadow[i] + off, ram + off))
				continue;
			if (pc->mismatches < PRECOPY_BAD_GFNS)
				pc->bad_gfn[pc->mismatches] = s->base_gfn + p;
			pc->mismatches++;
		}
		pc->ram_pages += s ? s->npages : 0;
		memslots_read_unlock(l->vm.ms);
		if (!s && !pc->error)
			pc->error = -ENOENT;
	}
	pc->compare_secs = now() - t0;
}

/*
 * Whether both sources wrote after round 1: a vCPU write (KVM's log of a
 * later round) and a device write (guestmem's count, which the devices'
 * writes raise whether they mark or not).  Until then the pass proves
 * less than it claims, and a control pass could not miss anything.
 */
static bool both_wrote(struct linux_vm *l, unsigned long writes_after_round1)
{
	const struct precopy *pc = &l->pc;
	uint64_t kvm = 0;

	for (unsigned int n = 1; n < pc->nrounds; n++)
		kvm += pc->round[n].kvm_pages;
	return kvm && atomic_load(&l->mem.writes) != writes_after_round1;
}

static void *migrate(void *opaque)
{
	struct linux_vm *l = opaque;
	struct precopy *pc = &l->pc;
	unsigned long writes1 = 0;
	struct timespec t0;
	double tp;
	int ret = 0;

	memslots_reader_register(l->vm.ms);
	/* The rounds asked for, and more (at most PRECOPY_EXTRA_ROUNDS) while
	 * the guest, whose one vCPU this thread competes with, has not yet
	 * written through both paths since round 1. */
	for (unsigned int n = 1; !ret; n++) {
		if (n > pc->rounds &&
		    (both_wrote(l, writes1) || n > pc->rounds + PRECOPY_EXTRA_ROUNDS))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ret = run_round(l, &pc->round[n - 1]);
		pc->nrounds = n;
		if (n == 1)
			writes1 = atomic_load(&l->mem.writes);
		print_round(l, n, false);
		pace(&t0);
	}
	tp = now();
	if (!ret && park_vcpu(l)) {
		pc->park_secs = now() - tp;
		ret = run_round(l, &pc->round[pc->nrounds]);
		pc->nrounds++;
		print_round(l, pc->nrounds, true);
		if (!ret)
			compare(l);
	} else if (!ret) {
		ret = -ESRCH; /* the vCPU loop ended before it could park */
	}
	if (ret && !pc->error)
		pc->error = ret;
	memslots_reader_unregister(l->vm.ms);
	resume_vcpu(pc);
	return NULL;
}

/* ---- the vCPU thread's side --------------------------------------------------------- */

int precopy_start(struct linux_vm *l, enum precopy_source skip, bool expect_miss)
{
	struct precopy *pc = &l->pc;
	double secs;
	int ret;

	memset(pc->round, 0, sizeof(pc->round));
	pc->nrounds = 0;
	pc->mismatches = 0;
	pc->error = 0;
	pc->done = false;
	pc->rounds = l->opt.precopy;
	pc->skip = skip;
	pc->expect_miss = expect_miss;
	l->mem.skip_marks = skip == PRECOPY_MARKS;
	pc->marks_before = l->mem.marked_pages;
	pc->blk_read_before = l->blk.read_bytes;

	ret = ram_flags_batch(l, MEMSLOT_LOG_DIRTY_PAGES, &secs);
	check(l, ret == 0,
	      "pre-copy%s: dirty logging on for all %u RAM slots, one memslots_apply(): %s "
	      "(%.3f s)",
	      expect_miss ? " (control)" : "", l->opt.slots, memslots_strerror(ret), secs);
	if (ret)
		return ret;
	printf("vmm: pre-copy: %u live rounds or more and a final one, KVM's log by %s, %s left "
	       "out\n",
	       pc->rounds,
	       l->vm.kvm.manual_dirty_log ? "KVM_GET_DIRTY_LOG + KVM_CLEAR_DIRTY_LOG"
					  : "KVM_GET_DIRTY_LOG",
	       skip == PRECOPY_ALL   ? "nothing"
	       : skip == PRECOPY_KVM ? "KVM's log"
				     : "the devices' marks");
	ret = -pthread_create(&pc->thread, NULL, migrate, l);
	check(l, ret == 0, "pre-copy: the migration thread started: %s", strerror(-ret));
	pc->running = ret == 0;
	return ret;
}

static void print_mismatches(const struct precopy *pc)
{
	printf("vmm:   %" PRIu64 " pages of %" PRIu64 " differ between the shadow and guest RAM;"
	       " gfn",
	       pc->mismatches, pc->ram_pages);
	for (uint64_t k = 0; k < pc->mismatches && k < PRECOPY_BAD_GFNS; k++)
		printf(" %#" PRIx64, pc->bad_gfn[k]);
	printf("%s\n", pc->mismatches > PRECOPY_BAD_GFNS ? " ..." : "");
}

/* vCPU thread, the pass over: joined, its figures checked, logging off. */
static void precopy_finish(struct linux_vm *l)
{
	struct precopy *pc = &l->pc;
	const struct precopy_round *fin;
	unsigned long marks = l->mem.marked_pages - pc->marks_before;
	unsigned long blk_kib = (l->blk.read_bytes - pc->blk_read_before) >> 10;
	double secs, total = 0;
	uint64_t live_kvm = 0;
	unsigned int extra;
	int ret;

	pthread_join(pc->thread, NULL);
	pc->running = false;
	l->mem.skip_marks = false;
	for (unsigned int n = 0; n < pc->nrounds; n++)
		total += pc->round[n].secs;
	for (unsigned int n = 1; n < pc->nrounds; n++)
		live_kvm += pc->round[n].kvm_pages;
	fin = pc->nrounds ? &pc->round[pc->nrounds - 1] : NULL;
	extra = pc->nrounds > pc->rounds + 1 ? pc->nrounds - 1 - pc->rounds : 0;
	check(l, pc->error == 0 && fin && pc->nrounds > pc->rounds,
	      "pre-copy: %u rounds (%u live asked, %u more until the guest had written "
	      "both ways; %.2f s copying), the vCPU parked in %.1f ms for the final one: %s",
	      pc->nrounds, pc->rounds, extra, total, pc->park_secs * 1e3,
	      pc->error ? strerror(-pc->error) : "ok");
	printf("vmm:   during the pass the guest's vCPU dirtied %" PRIu64 " pages after the "
	       "first round (KVM's log), virtio-blk wrote %lu KiB into guest RAM, marking %lu "
	       "pages%s\n",
	       live_kvm, blk_kib, marks, pc->skip == PRECOPY_MARKS ? " (marks skipped)" : "");
	if (!pc->error && fin) {
		if (pc->mismatches)
			print_mismatches(pc);
		if (pc->expect_miss)
			check(l, pc->mismatches > 0,
			      "control pass without %s: the comparison catches the pages it "
			      "missed (%" PRIu64 " of %" PRIu64 ", compared in %.2f s)",
			      pc->skip == PRECOPY_KVM ? "KVM's log" : "the devices' marks",
			      pc->mismatches, pc->ram_pages, pc->compare_secs);
		else
			check(l, pc->mismatches == 0,
			      "pre-copy: shadow == guest RAM byte for byte, all %" PRIu64
			      " pages (%" PRIu64 " never touched by either; compared in %.2f s"
			      " with the vCPU parked)%s",
			      pc->ram_pages, pc->untouched, pc->compare_secs,
			      pc->skip == PRECOPY_ALL	? ""
			      : pc->skip == PRECOPY_KVM ? " [KVM's log skipped]"
							: " [device marks skipped]");
		if (!pc->expect_miss && pc->skip == PRECOPY_ALL)
			check(l, live_kvm > 0 && marks > 0,
			      "pre-copy: the guest worked during the rounds: both sources had "
			      "pages (vCPU %" PRIu64 ", devices %lu)",
			      live_kvm, marks);
	}
	ret = ram_flags_batch(l, 0, &secs);
	check(l, ret == 0, "pre-copy: dirty logging off, one memslots_apply(): %s (%.3f s)",
	      memslots_strerror(ret), secs);
	on_precopy_done(l);
}

void precopy_check_pause(struct linux_vm *l)
{
	struct precopy *pc = &l->pc;
	bool finished;

	if (!atomic_load(&pc->pause))
		return;
	l->vcpu.run->immediate_exit = 0;
	pthread_mutex_lock(&pc->lock);
	pc->parked = true;
	pthread_cond_broadcast(&pc->cond);
	while (atomic_load(&pc->pause))
		pthread_cond_wait(&pc->cond, &pc->lock);
	pc->parked = false;
	finished = pc->done;
	pthread_mutex_unlock(&pc->lock);
	/* The guest did not stall: the VMM held it. */
	l->t_progress = now();
	if (finished)
		precopy_finish(l);
}

void precopy_vcpu_gone(struct linux_vm *l)
{
	struct precopy *pc = &l->pc;

	if (!pc->shadow)
		return;
	pthread_mutex_lock(&pc->lock);
	pc->vcpu_gone = true;
	pthread_cond_broadcast(&pc->cond);
	pthread_mutex_unlock(&pc->lock);
	if (pc->running) {
		pthread_join(pc->thread, NULL);
		pc->running = false;
		check(l, false, "pre-copy: the guest stopped before the pass ended (%s)",
		      pc->error ? strerror(-pc->error) : "no error");
	}
}
