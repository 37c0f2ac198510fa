// SPDX-License-Identifier: MIT
/*
 * Conformance of the KVM 6.x surface against the real thing: one seeded
 * random stream of KVM_SET_USER_MEMORY_REGION2 requests (and some
 * KVM_SET_USER_MEMORY_REGION ones) goes both to a KVM VM and to the
 * library, and every request must get the same answer: the library's
 * -errno against the ioctl's -1/errno.
 *
 * The VM is of a type with guest_memfd (KVM_X86_SW_PROTECTED_VM when the
 * kernel offers it, else the default type if that has guest_memfd), with
 * real guest_memfds made by KVM_CREATE_GUEST_MEMFD.  One struct memslots
 * per address space of the VM (as_id 0, 1, ...), each configured like the
 * VM: KVM's slot count, the x86-64 hva limit, the flags the VM allows
 * (KVM_CAP_READONLY_MEM asked of the VM itself).  A request goes to the
 * object of its address space, or to object 0 when that space does not
 * exist, which refuses it as KVM does.
 *
 * Where the kernel (or every VM type it offers) lacks guest_memfd, the VM
 * is of the default type and the objects do not allow GUEST_MEMFD, as KVM
 * does not for that VM: the stream then has fewer GUEST_MEMFD requests, all
 * refused by the flag check, and no guest_memfd numbers but those that are
 * none.  Every other row runs (flags, address spaces, the v2 layout, the
 * v1 rules through both ioctls); the guest_memfd rows are reported skipped,
 * with the reason, on one line.
 *
 * Requests mix guest_memfd creates (in range, past the file's size,
 * misaligned or wrapping offsets, ranges bound twice, fds that are no
 * guest_memfd, closed or belong to another VM), deletes of them, and the
 * changes KVM forbids on them (moves, flag changes, toggling GUEST_MEMFD,
 * together with dirty logging or read-only), plus everything the v1 test
 * sends.  Where the check is one only the kernel can make (what the fd
 * is, how big its file is), the library's answer comes from a prepare
 * hook that knows what this program created, as a VMM's would.
 *
 * Kernels: KVM_SET_USER_MEMORY_REGION2 and guest_memfd came in Linux 6.8.
 * Until 6.19 (and stable kernels without the backport), KVM let a request
 * clear GUEST_MEMFD on an existing guest_memfd slot ("KVM: Disallow
 * toggling KVM_MEM_GUEST_MEMFD on an existing memslot", a use-after-free
 * fix); the contract follows the fixed kernel.  Such requests are sent
 * only to a kernel known to have the fix (6.19 or later, or when
 * MEMSLOTS_KVM_GMEM_TOGGLE_FIXED=1 says a backport is there), never to
 * others, since on those they leave a dangling binding in the kernel.
 *
 * Newer kernels answer a guest_memfd range bound twice with -EEXIST ("KVM:
 * guest_memfd: Return -EEXIST for overlapping bindings", 2026) where the
 * contract, and so the library, keeps -EINVAL: the program asks the kernel
 * which at start, and counts such answers apart instead of failing.  On a
 * difference it prints the last requests and the library's slots.
 *
 * Usage: conformance2 [requests [seed]]   (default 20000, 1)
 * Exit status: 0 same answers throughout (guest_memfd rows maybe skipped),
 * 1 a difference, 77 no KVM, a kernel without KVM_CAP_USER_MEMORY2, or
 * guest_memfds that the kernel says it has but will not make (reason
 * printed).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <memslots/memslots.h>

#include "conformance2.h"
#include "kvm_stream.h"
#include "kvm_uapi.h"

/* ---- what only the kernel knows: the prepare hook --------------------------- */

/*
 * KVM's kvm_gmem_bind() in its order: -EBADF for no open file, -EINVAL
 * for a file that is no guest_memfd or belongs to another VM, -EINVAL for
 * a range past the file's size.  (The range bound twice is the library's
 * own check, made before this hook runs, as KVM makes it after these.)
 */
static int kernel_only_bind_check(const struct world *w, uint32_t fd, uint64_t offset,
				  uint64_t size)
{
	for (int i = 0; i < NGMEM; i++)
		if ((uint32_t)w->gmem[i] == fd)
			return offset > w->gmem_size[i] || size > w->gmem_size[i] - offset ? -EINVAL
											   : 0;
	if (fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0)
		return -EBADF;
	return -EINVAL; /* open, but not one of this VM's guest_memfds */
}

static int prepare(void *opaque, const struct memslot *old_slot, struct memslot *new_slot,
		   enum memslots_change change)
{
	struct world *w = opaque;
	uint64_t size;
	int err;

	(void)old_slot;
	if (change != MEMSLOTS_CREATE || !(new_slot->flags & GMEM))
		return 0;
	size = new_slot->npages * PAGE;
	err = kernel_only_bind_check(w, new_slot->guest_memfd, new_slot->guest_memfd_offset, size);
	if (err)
		w->kernel_only_refusals++;
	else
		w->gmem_creates++;
	return err;
}

const struct memslots_ops ops = {.prepare = prepare};

/* ---- the request stream ------------------------------------------------------ */

/*
 * Percent of random requests: bits KVM never allows, GUEST_MEMFD with a
 * flag it excludes, GUEST_MEMFD alone; the rest have LOG_DIRTY_PAGES |
 * READONLY.  Where the VM has no guest_memfd the flag check refuses every
 * GUEST_MEMFD request, so a few show that and the rest go to the rules
 * that can run there.
 */
static uint32_t random_flags(const struct world *w)
{
	static const uint32_t bad[] = {1u << 3, 1u << 8, 1u << 16, 1u << 31, ~0u};
	uint64_t gmem_excl = w->has_gmem ? 4 : 2, gmem_alone = w->has_gmem ? 33 : 5;
	uint64_t r = ks_below(100);

	if (r < 3)
		return bad[ks_below(sizeof(bad) / sizeof(bad[0]))];
	if (r < 3 + gmem_excl)
		return GMEM | (ks_chance(50) ? LOG : RO) | (ks_chance(20) ? LOG | RO : 0);
	if (r < 3 + gmem_excl + gmem_alone)
		return GMEM;
	return (uint32_t)ks_below(4); /* LOG_DIRTY_PAGES | READONLY */
}

/* A guest_memfd number; without guest_memfds, only those that are none. */
static uint32_t random_fd(const struct world *w)
{
	switch (ks_below(w->has_gmem ? 20 : 4)) {
	case 0:
		return (uint32_t)w->foreign_gmem;
	case 1:
		return (uint32_t)w->vm; /* open, but no guest_memfd */
	case 2:
		return NEVER_FD;
	case 3:
		return 0x80000000u + (uint32_t)ks_below(4); /* never a valid fd */
	default:
		return (uint32_t)w->gmem[ks_below(NGMEM)];
	}
}

static uint64_t random_offset(void)
{
	switch (ks_below(20)) {
	case 0:
		return ks_below(64) * PAGE + 1 + ks_below(PAGE - 1); /* misaligned */
	case 1:
		return ~0ull - ks_below(4) * PAGE - PAGE + 1; /* + size wraps */
	case 2:
		return 1ull << 63; /* negative as a loff_t: past any size */
	default:
		return ks_below(80) * PAGE; /* sometimes past the file's size */
	}
}

/* Junk in what KVM ignores: the pads, and the guest_memfd fields of a
 * request without GUEST_MEMFD. */
static void scribble_ignored(struct memslots_region2 *r, const struct world *w)
{
	if (ks_chance(10)) {
		r->pad1 = (uint32_t)ks_rnd();
		r->pad2[ks_below(14)] = ks_rnd();
	}
	if (!(r->flags & GMEM) && ks_chance(30)) {
		r->guest_memfd = random_fd(w);
		r->guest_memfd_offset = random_offset();
	}
}

/* The v2 form of a request of the v1 stream: extra fields zero. */
static struct memslots_region2 widen(struct memslots_region r1)
{
	struct memslots_region2 r = {0};

	memcpy(&r, &r1, sizeof(r1));
	return r;
}

/*
 * A request about a random id.  KVM keeps a guest_memfd's bindings per
 * file, across the VM's address spaces; the library per object, that is
 * per address space.  No kernel gives a VM with guest_memfd a second
 * address space (x86 turns SMM off for them), but should one, guest_memfd
 * requests stay in space 0, so that the two never need to agree on
 * bindings across spaces.
 */
static struct memslots_region2 random_request(const struct world *w)
{
	uint32_t flags = random_flags(w);
	uint32_t nr_other = (flags & GMEM) && w->nr_as > 1 ? 0 : MAX_AS;
	struct memslots_region2 r = widen(ks_random_region(w->max_slots, flags, 1, nr_other));

	if (r.flags & GMEM) {
		r.guest_memfd = random_fd(w);
		r.guest_memfd_offset = random_offset();
	}
	scribble_ignored(&r, w);
	return r;
}

/*
 * A request about an existing slot: the v1 stream's changes, with
 * READONLY and GUEST_MEMFD among the flags flipped (refused), and
 * sometimes another range of the guest_memfd (refused too: a guest_memfd
 * slot is immutable).
 */
static struct memslots_region2 mutate(const struct world *w, const struct memslot *s,
				      uint32_t as_bits)
{
	static const uint32_t flips[] = {LOG, LOG, LOG, RO, GMEM};
	struct memslots_region2 r;

	r = widen(ks_mutate(s, as_bits, flips, sizeof(flips) / sizeof(flips[0])));
	r.guest_memfd_offset = s->guest_memfd_offset;
	r.guest_memfd = s->guest_memfd;
	if (ks_chance(8))
		r.guest_memfd_offset += PAGE;
	scribble_ignored(&r, w);
	return r;
}

/* The object that answers for the request's address space. */
static struct memslots *object_for(const struct world *w, uint32_t slot)
{
	uint32_t as = slot >> 16;

	return as < w->nr_as ? w->ms[as] : w->ms[0];
}

/*
 * On a kernel without the toggle fix, a request that would clear
 * GUEST_MEMFD on a guest_memfd slot is turned into a delete of it: the
 * old kernel would accept it (and leak the binding), the contract and the
 * fixed kernel refuse it, and this test does not probe the kernel's bug.
 */
static void avoid_unfixed_toggle(const struct world *w, struct memslots_region2 *r)
{
	struct memslots *ms = object_for(w, r->slot);
	const struct memslot *s;

	if (w->toggle_fixed || (r->flags & GMEM) || !r->memory_size)
		return;
	s = memslots_find_id(memslots_read_lock(ms), (uint16_t)r->slot);
	if (s && (s->flags & GMEM) && (r->slot >> 16) < w->nr_as)
		r->memory_size = 0;
	memslots_read_unlock(ms);
}

/* ---- the run --------------------------------------------------------------------- */

/* The last requests and answers, printed when an answer differs. */
#define HISTORY 24

struct past {
	struct memslots_region2 r;
	bool v1;
	int ret;
};

static struct past history[HISTORY];
static unsigned long nr_past;

static void print_request(const char *what, const struct memslots_region2 *r, bool v1)
{
	printf("conformance2: %s%s slot 0x%x flags 0x%x gpa 0x%" PRIx64 " size 0x%" PRIx64
	       " hva 0x%" PRIx64 " guest_memfd %u offset 0x%" PRIx64,
	       what, v1 ? " v1" : " v2", r->slot, r->flags, r->guest_phys_addr, r->memory_size,
	       r->userspace_addr, r->guest_memfd, r->guest_memfd_offset);
}

/* The history, then the library's slots of the failing request's space. */
static void print_context(const struct world *w, const struct memslots_region2 *r)
{
	struct memslots *ms = object_for(w, r->slot);
	const struct memslots_set *set;
	const struct memslot *s;
	unsigned long i = nr_past > HISTORY ? nr_past - HISTORY : 0;

	for (; i < nr_past; i++) {
		print_request("earlier:", &history[i % HISTORY].r, history[i % HISTORY].v1);
		printf(" -> %d\n", history[i % HISTORY].ret);
	}
	set = memslots_read_lock(ms);
	for (s = memslots_first(set); s; s = memslots_next(set, s))
		printf("conformance2: library slot %u: gfn 0x%" PRIx64 " +0x%" PRIx64
		       " hva 0x%" PRIx64 " flags 0x%x guest_memfd %u offset 0x%" PRIx64 "\n",
		       s->id, s->base_gfn, s->npages, s->userspace_addr, s->flags, s->guest_memfd,
		       s->guest_memfd_offset);
	memslots_read_unlock(ms);
}

/*
 * Whether @r is a guest_memfd create that the library refuses by rule 7
 * alone: its id is free, its gfns meet no slot, and another guest_memfd
 * slot binds bytes of its guest_memfd that meet its own.
 */
static bool only_bound_twice(struct memslots *ms, const struct memslots_region2 *r)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	uint64_t gfn = r->guest_phys_addr / PAGE, npages = r->memory_size / PAGE;
	uint64_t off = r->guest_memfd_offset, end = off + r->memory_size;
	const struct memslot *s;
	bool bound = false, free = (r->flags & GMEM) && npages &&
				   !memslots_find_id(set, (uint16_t)r->slot) &&
				   !memslots_gfn_range_first(set, gfn, gfn + npages);

	for (s = memslots_first(set); free && s; s = memslots_next(set, s))
		if ((s->flags & GMEM) && s->guest_memfd == r->guest_memfd &&
		    s->guest_memfd_offset < end && off < s->guest_memfd_offset + s->npages * PAGE)
			bound = true;
	memslots_read_unlock(ms);
	return free && bound;
}

/* The same request to KVM and to the library, by v2 or (sometimes) v1. */
static bool same_answer(struct world *w, const struct memslots_region2 *r, bool v1, int *lib_ret)
{
	struct memslots *ms = object_for(w, r->slot);
	struct kvm_userspace_memory_region2 k2;
	struct kvm_userspace_memory_region k1;
	int kr, lib;

	if (v1) {
		/* The first five fields are struct memslots_region's. */
		struct memslots_region r1;

		memcpy(&r1, r, sizeof(r1));
		memcpy(&k1, r, sizeof(k1));
		kr = ioctl(w->vm, KVM_SET_USER_MEMORY_REGION, &k1) < 0 ? -errno : 0;
		lib = memslots_set_region(ms, &r1);
	} else {
		memcpy(&k2, r, sizeof(k2));
		kr = ioctl(w->vm, KVM_SET_USER_MEMORY_REGION2, &k2) < 0 ? -errno : 0;
		lib = memslots_set_region2(ms, r);
	}
	*lib_ret = lib;
	if (!v1 && lib == -EINVAL && kr == -EEXIST && w->bound_errno == -EEXIST &&
	    only_bound_twice(ms, r)) {
		/* The newer kernel's errno for rule 7; both refused it. */
		w->known_bound_diffs++;
		kr = lib;
	}
	if (lib == kr) {
		history[nr_past % HISTORY] = (struct past){*r, v1, kr};
		nr_past++;
		return true;
	}
	print_context(w, r);
	print_request("differs:", r, v1);
	printf(": KVM %d (%s), library %d (%s)\n", kr, strerror(-kr), lib, memslots_strerror(lib));
	return false;
}

/* What ran, for the summary line: the answers, and the requests by kind. */
struct tally {
	unsigned long answers[4]; /* 0, -EINVAL, -EEXIST, other */
	unsigned long v1, existing, absent_as, junk, gmem, gmem_refused;
};

/* Whether the v2 request @r has junk where KVM ignores it. */
static bool has_junk(const struct memslots_region2 *r)
{
	bool junk = r->pad1 || (!(r->flags & GMEM) && (r->guest_memfd || r->guest_memfd_offset));

	for (size_t i = 0; i < sizeof(r->pad2) / sizeof(r->pad2[0]); i++)
		junk |= r->pad2[i] != 0;
	return junk;
}

static void tally_add(struct tally *t, const struct world *w, const struct memslots_region2 *r,
		      bool v1, bool existing, int lib)
{
	t->answers[lib == 0 ? 0 : lib == -EINVAL ? 1 : lib == -EEXIST ? 2 : 3]++;
	t->v1 += v1;
	t->existing += existing;
	t->absent_as += (r->slot >> 16) >= w->nr_as;
	t->junk += !v1 && has_junk(r); /* a v1 request has no such fields */
	if (r->flags & GMEM) {
		t->gmem++;
		t->gmem_refused += lib != 0;
	}
}

static void print_pass(const struct world *w, const struct tally *t, unsigned long n, size_t slots,
		       double secs)
{
	char gmem[160] = "guest_memfd rows skipped";

	if (w->has_gmem)
		snprintf(gmem, sizeof(gmem),
			 "%lu guest_memfd slots created, %lu refused by the kernel-only checks, "
			 "%lu ranges bound twice answered -EEXIST by the kernel",
			 w->gmem_creates, w->kernel_only_refusals, w->known_bound_diffs);
	printf("conformance2: PASS: %lu requests, same answer from KVM and the library "
	       "(%lu ok, %lu EINVAL, %lu EEXIST, %lu other; %lu v1, %lu about existing slots, "
	       "%lu to absent address spaces, %lu v2 with junk in ignored fields, %lu with "
	       "GUEST_MEMFD, %lu of them refused; %s); %zu slots at the end; %.2f s\n",
	       n, t->answers[0], t->answers[1], t->answers[2], t->answers[3], t->v1, t->existing,
	       t->absent_as, t->junk, t->gmem, t->gmem_refused, gmem, slots, secs);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	struct world w = {.kvm = -1, .vm = -1, .other_vm = -1};
	struct tally t = {0};
	struct timespec t0, t1;
	const char *why = NULL;
	char buf[256];
	size_t slots = 0;
	int rc;

	if (ks_index(argc > 3 ? argv[3] : NULL, &w.index)) {
		printf("usage: conformance2 [REQUESTS [SEED [kvm|btree]]]\n");
		return 2;
	}
	rc = setup(&w, &why, buf, sizeof(buf));
	if (rc == 77)
		return skip(why);
	if (rc)
		return rc;
	ks_seed(seed);
	printf("conformance2: %lu requests, seed %" PRIu64 ", index %s\n", n, seed,
	       memslots_index(w.ms[0]) == MEMSLOTS_INDEX_KVM ? "kvm" : "btree");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < n; i++) {
		uint32_t as = (uint32_t)ks_below(w.nr_as);
		const struct memslot *s =
			memslots_find_id(memslots_read_lock(w.ms[as]), (uint16_t)ks_below(KS_IDS));
		bool existing = s && ks_chance(50);
		struct memslots_region2 r = existing ? mutate(&w, s, as << 16) : random_request(&w);
		bool v1 = ks_chance(15);
		int lib;

		memslots_read_unlock(w.ms[as]);
		avoid_unfixed_toggle(&w, &r);
		if (!same_answer(&w, &r, v1, &lib)) {
			printf("conformance2: FAIL after %lu identical answers\n", i);
			return 1;
		}
		tally_add(&t, &w, &r, v1, existing, lib);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (unsigned int as = 0; as < w.nr_as; as++) {
		slots += memslots_count(memslots_read_lock(w.ms[as]));
		memslots_read_unlock(w.ms[as]);
		memslots_reader_unregister(w.ms[as]);
		memslots_free(w.ms[as]);
	}
	print_pass(&w, &t, n, slots,
		   (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
