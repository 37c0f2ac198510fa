// SPDX-License-Identifier: MIT
/*
 * vmm-linux's side of the conversation with the guest (see main.c): once
 * the guest's init is up, each of its answers on the serial console is
 * checked, the VMM does its part of the next step (dirty logging on every
 * RAM slot, the pre-copy, the hot-plugged slot that moves and goes) and
 * sends the next command.  Everything runs on the vCPU thread, from the
 * UART's line callback (the pre-copy's rounds on a thread of their own,
 * precopy.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memslots/memslots.h>

#include "dirtylog.h"
#include "guestmem.h"
#include "kvm.h"
#include "linux_vm.h"
#include "serial.h"
#include "slots.h"
#include "virtio_blk.h"

/* The hot-plugged slot, outside the e820 RAM. */
#define HOTPLUG_GPA	  0xc0000000ull
#define HOTPLUG_MOVED_GPA 0xc8000000ull
#define HOTPLUG_PAGES	  16

#define DIRTY_PAGES	  32
#define BLK_SECTOR	  2048
#define REQ_TAG		  "@@MSREQ "
#define CMD_TAG		  "@@MSCMD "
#define DIRTY_HEADER	  29 /* "MSDIRTY " nonce(16) " " k(4) */

/* ---- the commands --------------------------------------------------------------- */

static void send_cmd(struct linux_vm *l, enum step next, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n = snprintf(buf, sizeof(buf), "%s", CMD_TAG);

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	buf[n] = '\0';
	printf("vmm: -> %s", buf + strlen(CMD_TAG));
	l->step = next;
	if (!serial_input(&l->uart, buf))
		check(l, false, "the UART's input queue is full");
}

static bool parse_value(const char *reply, uint32_t *v)
{
	char *end;

	if (strncmp(reply, "value ", 6) != 0)
		return false;
	*v = (uint32_t)strtoul(reply + 6, &end, 0);
	return end != reply + 6;
}

int ram_flags_batch(struct linux_vm *l, uint32_t flags, double *secs)
{
	struct memslots_region *req = calloc(l->opt.slots, sizeof(*req));
	size_t failed;
	double t0 = now();
	int ret;

	if (!req)
		return -ENOMEM;
	for (unsigned int i = 0; i < l->opt.slots; i++)
		req[i] = region((uint16_t)i, flags, slot_gpa(l, i), l->opt.slot_size,
				l->slot_mem[i]);
	ret = memslots_apply(l->vm.ms, req, l->opt.slots, &failed);
	*secs = now() - t0;
	free(req);
	return ret;
}

/*
 * Collects the library's dirty bits of every RAM slot into @bits (one
 * slot's worth, reused), KVM's log merged first when @sync; @visit, when
 * given, sees each slot's pages.  Returns the pages collected, or -errno.
 */
static int64_t collect_ram(struct linux_vm *l, uint64_t *bits, uint64_t *kvm_log, bool sync,
			   void (*visit)(struct linux_vm *l, const struct memslot *s,
					 const uint64_t *bits, void *arg),
			   void *arg)
{
	int64_t total = 0;

	for (unsigned int i = 0; i < l->opt.slots; i++) {
		const struct memslots_set *set = memslots_read_lock(l->vm.ms);
		const struct memslot *s = memslots_find_id(set, (uint16_t)i);
		int64_t n = s ? 0 : -ENOENT;

		if (s && sync)
			n = dirtylog_sync_kvm(&l->vm.kvm, set, s, kvm_log, true);
		if (n >= 0) {
			memset(bits, 0, dirtylog_words(s->npages) * sizeof(*bits));
			n = dirtylog_collect(set, s, bits);
		}
		if (n >= 0 && visit)
			visit(l, s, bits, arg);
		memslots_read_unlock(l->vm.ms);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

static void start_dirty(struct linux_vm *l)
{
	uint64_t *bits = calloc(dirtylog_words(l->opt.slot_size / PAGE_SIZE), sizeof(*bits));
	uint64_t ram_pages = (uint64_t)l->opt.slots * (l->opt.slot_size / PAGE_SIZE);
	double secs;
	int64_t n;
	int ret = ram_flags_batch(l, MEMSLOT_LOG_DIRTY_PAGES, &secs);

	check(l, ret == 0,
	      "dirty logging on for all %u RAM slots, one memslots_apply(): %s "
	      "(%.3f s)",
	      l->opt.slots, memslots_strerror(ret), secs);
	/* MEMSLOTS_DIRTY_INITIALLY_SET: a migration's first round sends it all. */
	n = bits ? collect_ram(l, bits, NULL, false, NULL, NULL) : -ENOMEM;
	check(l, n == (int64_t)ram_pages,
	      "the library's new bitmaps start all dirty: %" PRId64 " of %" PRIu64
	      " pages collected",
	      n, ram_pages);
	free(bits);
	send_cmd(l, DIRTY, "dirty %016" PRIx64 " %d", l->nonce, DIRTY_PAGES);
}

struct dirty_search {
	bool found[DIRTY_PAGES];
	unsigned int nfound, slots_dirty;
	char want[32];
};

/* The marks of the guest's pages among the dirty pages of slot @s: we
 * find them by reading each dirty page's first bytes through the library. */
static void search_marks(struct linux_vm *l, const struct memslot *s, const uint64_t *bits,
			 void *arg)
{
	struct dirty_search *d = arg;
	char head[DIRTY_HEADER + 1];
	bool any = false;
	uint64_t gpa, size; /* the slot's, in bytes (size: unused) */

	guestmem_slot_range(l->vm.ms, s, &gpa, &size);
	/* Bit p: page p of the slot. */
	for (uint64_t p = 0; p < s->npages; p++) {
		unsigned int k;

		if (!(bits[p / 64] & (1ull << (p % 64))))
			continue;
		any = true;
		if (guestmem_read(&l->mem, gpa + p * PAGE_SIZE, head, DIRTY_HEADER))
			continue;
		head[DIRTY_HEADER] = '\0';
		if (strncmp(head, d->want, strlen(d->want)) != 0)
			continue;
		k = (unsigned int)strtoul(head + strlen(d->want), NULL, 10);
		if (k < DIRTY_PAGES && !d->found[k]) {
			d->found[k] = true;
			d->nfound++;
		}
	}
	d->slots_dirty += any;
}

/*
 * KVM_GET_DIRTY_LOG of every RAM slot (and KVM_CLEAR_DIRTY_LOG under
 * manual protection), merged into the library's bitmaps, which are then
 * collected: every page the guest marked must be among the dirty pages.
 */
static void check_dirty(struct linux_vm *l)
{
	uint64_t words = dirtylog_words(l->opt.slot_size / PAGE_SIZE);
	uint64_t *bits = calloc(words, sizeof(*bits)), *kvm_log = calloc(words, sizeof(*bits));
	struct dirty_search d = {.nfound = 0};
	double secs;
	int64_t n;
	int ret;

	snprintf(d.want, sizeof(d.want), "MSDIRTY %016" PRIx64 " ", l->nonce);
	n = bits && kvm_log ? collect_ram(l, bits, kvm_log, true, search_marks, &d) : -ENOMEM;
	free(bits);
	free(kvm_log);
	check(l, n >= 0,
	      "%s on each of %u slots, merged into the library's bitmaps and collected: "
	      "%" PRId64 " dirty pages in %u slots: %s",
	      l->vm.kvm.manual_dirty_log ? "KVM_GET_DIRTY_LOG + KVM_CLEAR_DIRTY_LOG"
					 : "KVM_GET_DIRTY_LOG",
	      l->opt.slots, n, d.slots_dirty, n < 0 ? strerror((int)-n) : "ok");
	check(l, d.nfound == DIRTY_PAGES,
	      "the %d pages the guest marked are all among them (found %u)", DIRTY_PAGES, d.nfound);

	ret = ram_flags_batch(l, 0, &secs);
	check(l, ret == 0, "dirty logging off, one memslots_apply(): %s (%.3f s)",
	      memslots_strerror(ret), secs);
	{
		uint64_t scratch[1];

		ret = kvm_get_dirty_log(&l->vm.kvm, 0, scratch);
		check(l, ret == -ENOENT, "KVM_GET_DIRTY_LOG now fails with ENOENT: %s",
		      strerror(-ret));
	}
}

/* The guest starts its workload; its "working" starts the pass (on_reply()). */
static void start_precopy(struct linux_vm *l)
{
	send_cmd(l, PRECOPY_WORK, "work");
}

void on_precopy_done(struct linux_vm *l)
{
	static const enum precopy_source controls[] = {PRECOPY_KVM, PRECOPY_MARKS};

	/* The control passes asked for, one after the other, on the same
	 * workload; then the guest may stop it. */
	for (size_t k = 0; k < ARRAY_SIZE(controls); k++) {
		unsigned int bit = 1u << controls[k];

		if (!(l->opt.precopy_controls & bit) || (l->controls_done & bit))
			continue;
		l->controls_done |= bit;
		if (precopy_start(l, controls[k], true) == 0)
			return;
	}
	send_cmd(l, PRECOPY_STOP, "stop");
}

static void start_hotplug(struct linux_vm *l)
{
	int ret;

	/* The id is the library's pick: the lowest free one (RAM has 0 ..
	 * slots - 1, so it is the first after RAM). */
	l->hp_mem = map_anon(HOTPLUG_PAGES * PAGE_SIZE);
	ret = l->hp_mem ? create_slot(&l->vm, 0, HOTPLUG_GPA, HOTPLUG_PAGES * PAGE_SIZE, l->hp_mem,
				      &l->hp_id)
			: -ENOMEM;
	check(l, ret == 0, "slot %u hot-plugged at gpa %#llx (%d pages, outside the e820 RAM): %s",
	      l->hp_id, HOTPLUG_GPA, HOTPLUG_PAGES, memslots_strerror(ret));
	for (uint32_t p = 0; !ret && p < HOTPLUG_PAGES; p++) {
		uint32_t v = 0x5107a000u | p;

		ret = guestmem_write(&l->mem, HOTPLUG_GPA + p * PAGE_SIZE, &v, 4);
	}
	send_cmd(l, HP_READ, "read %#llx", HOTPLUG_GPA + 3 * PAGE_SIZE);
}

static void hotplug_move(struct linux_vm *l)
{
	uint64_t off = 5 * PAGE_SIZE + 8;
	uint32_t host = 0;
	int ret = guestmem_read(&l->mem, HOTPLUG_GPA + off, &host, 4);

	check(l, ret == 0 && host == l->hp_value,
	      "the VMM finds the guest's %#x at gpa %#llx (through the library): %#x", l->hp_value,
	      HOTPLUG_GPA + off, host);
	ret = set_region(&l->vm, l->hp_id, 0, HOTPLUG_MOVED_GPA, HOTPLUG_PAGES * PAGE_SIZE,
			 l->hp_mem);
	check(l,
	      ret == 0 && host_to_gpa(&l->vm, (char *)l->hp_mem + off) == HOTPLUG_MOVED_GPA + off,
	      "slot %u moved to gpa %#llx, where the library now finds its host memory: %s",
	      l->hp_id, HOTPLUG_MOVED_GPA, memslots_strerror(ret));
	send_cmd(l, MOVED_READ_NEW, "read %#llx", HOTPLUG_MOVED_GPA + off);
}

static void check_md5(struct linux_vm *l, const char *reply)
{
	const char *sum = strncmp(reply, "md5 ", 4) == 0 ? reply + 4 : "";

	if (l->opt.disk_md5)
		check(l, strcmp(sum, l->opt.disk_md5) == 0,
		      "md5sum /dev/vda in the guest: %s, the disk file's: %s", sum,
		      l->opt.disk_md5);
	else
		check(l, strlen(sum) == 32, "md5sum /dev/vda in the guest: %s", sum);
}

static void check_blkwrite(struct linux_vm *l)
{
	char want[64], got[64] = {0};
	ssize_t n;

	snprintf(want, sizeof(want), "MSBLK %016" PRIx64, l->nonce);
	n = pread(l->blk.fd, got, strlen(want), (off_t)BLK_SECTOR * 512);
	check(l, n == (ssize_t)strlen(want) && memcmp(got, want, strlen(want)) == 0,
	      "the guest wrote \"%s\" at sector %d, the disk file has \"%.*s\"", want, BLK_SECTOR,
	      (int)(n > 0 ? n : 0), got);
}

/* The guest answered the last command (or said it is ready): check the
 * answer, do the VMM's part of the next step and send its command. */
static void on_reply(struct linux_vm *l, const char *reply)
{
	uint64_t off = 5 * PAGE_SIZE + 8;
	uint32_t v = 0;
	int ret;

	switch (l->step) {
	case WAIT_READY:
		if (strcmp(reply, "ready") != 0)
			return;
		l->t_ready = now();
		printf("vmm: the guest's init is up %.2f s after the VM started\n",
		       l->t_ready - l->t_start);
		if (l->have_blk) {
			send_cmd(l, MD5, "md5");
			return;
		}
		start_dirty(l);
		return;
	case MD5:
		check_md5(l, reply);
		send_cmd(l, BLKWRITE, "blkwrite %d MSBLK %016" PRIx64, BLK_SECTOR, l->nonce);
		return;
	case BLKWRITE:
		check_blkwrite(l);
		start_dirty(l);
		return;
	case DIRTY:
		check_dirty(l);
		if (l->opt.precopy) {
			start_precopy(l);
			return;
		}
		start_hotplug(l);
		return;
	case PRECOPY_WORK:
		if (strcmp(reply, "working") != 0)
			return;
		/* The guest works until told to stop; the vCPU thread goes on
		 * running it while the migration thread copies. */
		if (precopy_start(l, l->opt.precopy_skip, false) != 0)
			send_cmd(l, PRECOPY_STOP, "stop");
		return;
	case PRECOPY_STOP:
		check(l, strcmp(reply, "done") == 0, "the guest stopped its workload: %s", reply);
		start_hotplug(l);
		return;
	case HP_READ:
		check(l, parse_value(reply, &v) && v == (0x5107a000u | 3),
		      "the guest reads the VMM's pattern at gpa %#llx: %s",
		      HOTPLUG_GPA + 3 * PAGE_SIZE, reply);
		l->hp_value = 0x600d0000u | (uint32_t)(l->nonce & 0xffff);
		send_cmd(l, HP_WRITE, "write %#llx %#x", HOTPLUG_GPA + off, l->hp_value);
		return;
	case HP_WRITE:
		hotplug_move(l);
		return;
	case MOVED_READ_NEW:
		check(l, parse_value(reply, &v) && v == l->hp_value,
		      "the guest finds its %#x at the new gpa %#llx: %s", l->hp_value,
		      HOTPLUG_MOVED_GPA + off, reply);
		send_cmd(l, MOVED_READ_OLD, "read %#llx", HOTPLUG_GPA + off);
		return;
	case MOVED_READ_OLD:
		check(l,
		      parse_value(reply, &v) && v == 0xffffffffu &&
			      !gpa_in_slot(&l->vm, HOTPLUG_GPA),
		      "the old gpa %#llx is an open bus now (no slot there): %s", HOTPLUG_GPA + off,
		      reply);
		ret = delete_slot(&l->vm, l->hp_id);
		check(l, ret == 0, "slot %u deleted: %s", l->hp_id, memslots_strerror(ret));
		send_cmd(l, DELETED_READ, "read %#llx", HOTPLUG_MOVED_GPA + off);
		return;
	case DELETED_READ:
		check(l, parse_value(reply, &v) && v == 0xffffffffu,
		      "after the delete the guest reads an open bus at %#llx: %s",
		      HOTPLUG_MOVED_GPA + off, reply);
		send_cmd(l, QUIT, "quit");
		return;
	case QUIT:
	case DONE:
		l->step = DONE;
		return;
	}
}

void on_line(void *opaque, const char *line)
{
	struct linux_vm *l = opaque;
	const char *req = strstr(line, REQ_TAG);

	if (!l->t_first_output)
		l->t_first_output = now();
	printf("guest: %s\n", line);
	if (req)
		on_reply(l, req + strlen(REQ_TAG));
}
