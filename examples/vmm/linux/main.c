// SPDX-License-Identifier: MIT
/*
 * vmm-linux: the example VMM booting a real Linux kernel, with all of its
 * guest memory kept by libmemslots.
 *
 * Guest RAM is many slots, each its own host mapping (one mmap per slot),
 * created by one memslots_apply(); the library's hooks (slots.c) hand
 * them to KVM.  Since no two slots are contiguous on the host, every
 * access the VMM makes to guest memory has to be translated by the
 * library: the boot loader's copies (boot.c), the e820 map (made by
 * walking the slots), the virtio queues and buffers (virtio_blk.c, on the
 * vCPU thread with memslots_gpa_to_hva_cached()).
 *
 * Once the guest's init script is up it executes the VMM's commands,
 * sent as lines on the serial console, and answers on it (the VMM's side
 * of that conversation is commands.c):
 *
 *   md5        the guest hashes /dev/vda, which must equal the disk file;
 *   blkwrite   it writes a sector, which the VMM reads back from the file;
 *   dirty      one batch turns dirty logging on for every RAM slot (the
 *              library's bitmaps start all dirty), the guest writes
 *              marked pages, KVM's log of each slot merged into the
 *              library's bitmap must hold them all, one batch turns
 *              logging off;
 *   precopy    (--precopy ROUNDS) the guest reads its disk and writes
 *              memory while a migration thread copies RAM into a shadow
 *              in rounds (precopy.c); after a final round with the vCPU
 *              parked, the shadow must equal RAM;
 *   hotplug    a slot appears outside the e820 RAM, the guest reads the
 *              VMM's pattern there and writes its own (busybox devmem), the
 *              slot moves, the guest finds its data at the new address and
 *              an open bus at the old one, the slot goes, the bus is open;
 *   quit       the guest reboots (reboot=t: a triple fault), which ends the
 *              run.
 *
 * A guest that stops making progress (no exit to the VMM, hence no
 * console byte either, for --watchdog seconds) or a run longer than
 * --timeout seconds fails with the vCPU's registers and its last exits:
 * a hung boot says where it hung, and says it in a minute, not at the end
 * of the whole run's bound.
 *
 * Exit status: 0 everything checked out, 1 a check failed, 2 usage,
 * 77 no usable KVM.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <memslots/memslots.h>

#include "boot.h"
#include "guestmem.h"
#include "kvm.h"
#include "linux_vm.h"
#include "precopy.h"
#include "serial.h"
#include "slots.h"
#include "virtio_blk.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

/* Guest-physical layout beyond RAM. */
#define PCI_HOLE_START (3 * GiB) /* RAM stops here and resumes at 4 GiB */
#define VIRTIO_GPA     0xd0000000ull
#define VIRTIO_IRQ     5
#define TSS_GPA	       0xfffbd000ull /* 3 pages KVM needs on Intel */

static const char base_cmdline[] =
	"console=ttyS0 reboot=t panic=-1 mitigations=off pci=off no_timer_check "
	"8250.nr_uarts=1 rdinit=/init";

/* How often the vCPU loop looks at the clock while the guest runs. */
#define TICK_NSEC (250 * 1000 * 1000L)

/* Older glibc headers have the member but not its name. */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* Set by the tick's signal handler, which can reach nothing else: the one
 * piece of state outside struct linux_vm. */
static volatile sig_atomic_t ticked;

static void on_tick(int sig)
{
	(void)sig;
	ticked = 1;
}

void check(struct linux_vm *l, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("vmm:   %s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	l->checks++;
	l->failures += !ok;
}

/* ---- interrupts ------------------------------------------------------------ */

static void irq_line(struct linux_vm *l, unsigned int irq, int level)
{
	struct kvm_irq_level req = {.irq = irq, .level = (uint32_t)level};

	if (ioctl(l->vm.kvm.vm_fd, KVM_IRQ_LINE, &req) < 0)
		fprintf(stderr, "vmm: KVM_IRQ_LINE %u: %s\n", irq, strerror(errno));
}

static void uart_irq(void *opaque, int level)
{
	irq_line(opaque, SERIAL_IRQ, level);
}

static void blk_irq(void *opaque, int level)
{
	irq_line(opaque, VIRTIO_IRQ, level);
}

/* ---- guest RAM: many slots, one mapping each ---------------------------------- */

uint64_t slot_gpa(const struct linux_vm *l, unsigned int i)
{
	uint64_t gpa = (uint64_t)i * l->opt.slot_size;

	/* RAM that would reach into the hole below 4 GiB goes above it. */
	if (gpa + l->opt.slot_size > PCI_HOLE_START)
		gpa += 4 * GiB - PCI_HOLE_START;
	return gpa;
}

/* All RAM slots in one memslots_apply(): one KVM ioctl per slot from the
 * prepare hook, one publication for the library. */
static int create_ram(struct linux_vm *l)
{
	struct memslots_region *req = calloc(l->opt.slots, sizeof(*req));
	size_t failed = 0;
	double t0;
	int ret;

	l->slot_mem = calloc(l->opt.slots, sizeof(void *));
	if (!req || !l->slot_mem) {
		free(req);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < l->opt.slots; i++) {
		l->slot_mem[i] = map_anon(l->opt.slot_size);
		if (!l->slot_mem[i]) {
			free(req);
			return -ENOMEM;
		}
		req[i] = region((uint16_t)i, 0, slot_gpa(l, i), l->opt.slot_size, l->slot_mem[i]);
	}
	t0 = now();
	ret = memslots_apply(l->vm.ms, req, l->opt.slots, &failed);
	printf("vmm: RAM: %u slots of %" PRIu64 " KiB, each its own mmap, one memslots_apply(): "
	       "%s (%.3f s)\n",
	       l->opt.slots, l->opt.slot_size >> 10, memslots_strerror(ret), now() - t0);
	if (ret)
		printf("vmm: failed_index %zu\n", failed);
	free(req);
	return ret;
}

static void print_e820(struct linux_vm *l)
{
	struct {
		uint64_t addr, size;
		uint32_t type;
	} __attribute__((packed)) e;
	uint8_t n = 0;

	/* Read back from the zero page, through the library like the rest. */
	guestmem_read(&l->mem, BOOT_PARAMS + 0x1e8, &n, 1);
	for (unsigned int i = 0; i < n; i++) {
		guestmem_read(&l->mem, BOOT_PARAMS + 0x2d0 + 20ull * i, &e, sizeof(e));
		printf("vmm:   e820 [%#012" PRIx64 "-%#012" PRIx64 "] %s\n", e.addr,
		       e.addr + e.size - 1, e.type == 1 ? "RAM" : "reserved");
	}
}

/* ---- the vCPU loop ---------------------------------------------------------------- */

static void handle_io(struct linux_vm *l)
{
	struct kvm_run *run = l->vcpu.run;
	uint8_t *data = kvm_io_data(&l->vcpu);
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	l->exits_io++;
	if (run->io.port >= SERIAL_PORT && run->io.port < SERIAL_PORT + 8 && run->io.size == 1) {
		for (uint32_t i = 0; i < run->io.count; i++)
			serial_access(&l->uart, run->io.port - SERIAL_PORT, out, data + i);
		return;
	}
	/* Nothing else is there: reads float high, writes go nowhere. */
	l->unknown_io++;
	if (!out)
		memset(data, 0xff, (size_t)run->io.size * run->io.count);
}

static void handle_mmio(struct linux_vm *l)
{
	struct kvm_run *run = l->vcpu.run;
	uint64_t gpa = run->mmio.phys_addr;

	l->exits_mmio++;
	if (l->have_blk && gpa >= VIRTIO_GPA && gpa < VIRTIO_GPA + VIRTIO_MMIO_SIZE) {
		virtio_blk_mmio(&l->blk, gpa - VIRTIO_GPA, run->mmio.is_write, run->mmio.data,
				run->mmio.len);
		return;
	}
	/* No device: an open bus, as long as the library agrees that no
	 * valid slot holds the address (else KVM and the library differ). */
	{
		const struct memslots_set *set = memslots_read_lock(l->vm.ms);
		/* A write translation: a read-only slot's gpa may exit as MMIO. */
		uint64_t hva = memslots_gpa_to_hva_write(set, &l->mem.cache, gpa, NULL);

		memslots_read_unlock(l->vm.ms);
		if (hva != MEMSLOTS_HVA_BAD)
			check(l, false, "MMIO exit at gpa %#" PRIx64 " inside a valid slot", gpa);
	}
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
}

/* Handles the exit KVM_RUN returned with: 1 to go on, 0 the guest shut down, -EIO unexpected. */
static int handle_exit(struct linux_vm *l)
{
	struct kvm_run *run = l->vcpu.run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(l);
		return 1;
	case KVM_EXIT_MMIO:
		handle_mmio(l);
		return 1;
	case KVM_EXIT_SHUTDOWN: /* reboot=t: the guest's reboot is a triple fault */
	case KVM_EXIT_SYSTEM_EVENT:
		l->shutdown = true;
		return 0;
	default:
		kvm_report_exit(run);
		return -EIO;
	}
}

/* ---- the watchdog ----------------------------------------------------------------- */

/*
 * A periodic timer whose SIGALRM goes to this thread, the vCPU's: it
 * makes KVM_RUN return EINTR, so that the loop gets to look at the clock
 * even while the guest never leaves KVM.  KVM_RUN ends with EINTR
 * whatever the handler's flags (the kernel never restarts it), so the
 * handler has SA_RESTART for the other system calls: the devices' file
 * I/O and the console's writes to stdout must not fail four times a
 * second.  A timer of the thread, not setitimer(), so that no other
 * thread of the process can take the signal meant for KVM_RUN.
 */
static int start_ticks(timer_t *timer)
{
	struct sigaction sa = {.sa_handler = on_tick, .sa_flags = SA_RESTART};
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM};
	struct itimerspec its = {
		.it_interval = {.tv_nsec = TICK_NSEC},
		.it_value = {.tv_nsec = TICK_NSEC},
	};
	int err;

	sigemptyset(&sa.sa_mask);
	sev.sigev_notify_thread_id = gettid();
	if (sigaction(SIGALRM, &sa, NULL) < 0 || timer_create(CLOCK_MONOTONIC, &sev, timer) < 0)
		return -errno;
	if (timer_settime(*timer, 0, &its, NULL) == 0)
		return 0;
	err = -errno;
	timer_delete(*timer);
	return err;
}

/* Keeps the longest stretch without progress, the current one up to @t included. */
static void note_gap(struct linux_vm *l, double t)
{
	if (t - l->t_progress > l->longest_gap)
		l->longest_gap = t - l->t_progress;
}

/*
 * Counts the exit just handled as the guest's progress.  Every exit is:
 * the console's bytes come by exits too, and a guest that stays inside
 * KVM (its timer, its halts and its interrupts are handled there) is
 * what a hung guest looks like from here.
 */
static void note_progress(struct linux_vm *l)
{
	double t = now();

	kvm_exit_log_add(&l->exits, &l->vcpu, t);
	note_gap(l, t);
	l->t_progress = t;
}

/* Where the guest was when the run gave up on it. */
static void print_guest_state(struct linux_vm *l)
{
	kvm_vcpu_print_state(&l->vcpu, "vmm:   ");
	kvm_exit_log_print(&l->exits, l->t_start, "vmm:   ");
}

/*
 * On a tick: fails the run (-ETIMEDOUT) when the guest went --watchdog
 * seconds without an exit or the whole run reached --timeout seconds,
 * and says where the guest was.
 */
static int check_deadlines(struct linux_vm *l)
{
	double t = now();

	note_gap(l, t);
	if (l->opt.watchdog && t - l->t_progress >= l->opt.watchdog) {
		printf("vmm: watchdog: no progress from the guest for %u s (%lu exits, %lu console "
		       "bytes so far); vCPU state:\n",
		       l->opt.watchdog, l->exits.count, l->uart.out_bytes);
		print_guest_state(l);
		return -ETIMEDOUT;
	}
	if (l->opt.timeout && t - l->t_start >= l->opt.timeout) {
		printf("vmm: timed out after %u s (%lu exits, %lu console bytes so far); vCPU "
		       "state:\n",
		       l->opt.timeout, l->exits.count, l->uart.out_bytes);
		print_guest_state(l);
		return -ETIMEDOUT;
	}
	return 0;
}

/* Runs the guest until it shuts down (0) or something goes wrong. */
static int run_vcpu(struct linux_vm *l)
{
	int ret;

	for (;;) {
		/*
		 * Looked at before each entry, so that a tick which came while
		 * an exit was handled is not lost.  One that comes between here
		 * and the entry leaves KVM_RUN running until the next tick.
		 */
		if (ticked) {
			ticked = 0;
			ret = check_deadlines(l);
			if (ret)
				return ret;
		}
		/* A pre-copy's final round wants the guest held still. */
		precopy_check_pause(l);
		if (ioctl(l->vcpu.fd, KVM_RUN, 0) < 0) {
			ret = -errno;
			if (ret == -EINTR || ret == -EAGAIN)
				continue;
			fprintf(stderr, "vmm: KVM_RUN: %s\n", strerror(-ret));
			return ret;
		}
		ret = handle_exit(l);
		note_progress(l);
		if (ret < 0) {
			printf("vmm: unexpected exit after %lu exits; vCPU state:\n",
			       l->exits.count);
			print_guest_state(l);
		}
		if (ret <= 0)
			return ret;
	}
}

/* ---- setup ------------------------------------------------------------------------ */

static int create_devices(struct linux_vm *l)
{
	struct kvm_pit_config pit = {.flags = 0};
	struct kvm_vm *k = &l->vm.kvm;

	/* Intel needs 3 pages for a real-mode TSS; harmless elsewhere. */
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)TSS_GPA) < 0)
		return -errno;
	if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) /* PIC, IOAPIC, local APICs */
		return -errno;
	if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return -errno;
	l->uart.set_irq = uart_irq;
	l->uart.on_line = on_line;
	l->uart.opaque = l;
	return 0;
}

/*
 * KVM's dirty log as --kvm-dirty-log says: manual protection
 * (KVM_CLEAR_DIRTY_LOG) where the kernel has it, unless "get" asks for
 * the plain KVM_GET_DIRTY_LOG.  Before any slot logs.  Returns 0, or
 * -errno when "clear" was asked of a kernel without it.
 */
static int setup_kvm_dirty_log(struct linux_vm *l)
{
	int ret =
		l->opt.kvm_dirty_log == 'g' ? -EOPNOTSUPP : kvm_enable_manual_dirty_log(&l->vm.kvm);

	printf("vmm: KVM's dirty log: %s\n",
	       ret == 0 ? "KVM_GET_DIRTY_LOG + KVM_CLEAR_DIRTY_LOG "
			  "(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled)"
	       : l->opt.kvm_dirty_log == 'g'
		       ? "KVM_GET_DIRTY_LOG (--kvm-dirty-log get)"
		       : "KVM_GET_DIRTY_LOG (no KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)");
	if (ret && l->opt.kvm_dirty_log == 'c') {
		printf("vmm: --kvm-dirty-log clear: %s\n", strerror(-ret));
		return ret;
	}
	return 0;
}

static int setup(struct linux_vm *l, const char *cmdline)
{
	struct boot_info b = {
		.kernel_path = l->opt.kernel,
		.initrd_path = l->opt.initrd,
		.cmdline = cmdline,
		.virtio_gpa = l->have_blk ? VIRTIO_GPA : 0,
		.virtio_irq = VIRTIO_IRQ,
	};
	struct kvm_cpuid2 *cpuid;
	int ret;

	ret = create_devices(l);
	if (ret) {
		printf("vmm: irqchip/PIT: %s\n", strerror(-ret));
		return ret;
	}
	ret = setup_kvm_dirty_log(l);
	if (ret)
		return ret;
	if (l->opt.precopy) {
		ret = precopy_init(l);
		if (ret) {
			printf("vmm: the pre-copy's shadow: %s\n", strerror(-ret));
			return ret;
		}
	}
	ret = create_ram(l);
	if (ret)
		return ret;
	l->mem.ms = l->vm.ms;
	if (l->opt.disk) {
		ret = virtio_blk_open(&l->blk, l->opt.disk, VIRTIO_GPA, &l->mem);
		if (ret) {
			printf("vmm: %s: %s\n", l->opt.disk, strerror(-ret));
			return ret;
		}
		l->blk.set_irq = blk_irq;
		l->blk.opaque = l;
		l->have_blk = true;
		b.virtio_gpa = VIRTIO_GPA;
	}
	ret = boot_load_linux(&l->mem, &b);
	if (ret)
		return ret;
	l->loader = l->mem;
	printf("vmm: bzImage protocol %u.%02u, %" PRIu64 " KiB kernel at gpa %#llx, initramfs "
	       "%" PRIu64 " KiB at gpa %#" PRIx64 ", %u e820 entries from %u slots\n",
	       b.protocol >> 8, b.protocol & 0xff, b.kernel_size >> 10, BOOT_KERNEL,
	       b.initrd_size >> 10, b.initrd_gpa, b.e820_entries, l->opt.slots);
	print_e820(l);
	printf("vmm: command line: %s\n", cmdline);

	ret = kvm_vcpu_create(&l->vm.kvm, 0, &l->vcpu);
	if (ret)
		return ret;
	cpuid = kvm_supported_cpuid(l->vm.kvm.kvm_fd);
	if (!cpuid)
		return -errno;
	ret = boot_setup_vcpu(&l->vcpu, cpuid);
	free(cpuid);
	return ret;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'g':
	case 'G':
		return v << 30;
	case 'm':
	case 'M':
		return v << 20;
	case 'k':
	case 'K':
		return v << 10;
	default:
		return v;
	}
}

static void usage(void)
{
	printf("usage: vmm-linux --kernel BZIMAGE [--initrd FILE] [--disk FILE [--disk-md5 HEX]]\n"
	       "                 [--slots N] [--slot-size SIZE] [--append ARGS] [--quiet]\n"
	       "                 [--timeout SECS] [--watchdog SECS] [--index kvm|btree]\n"
	       "                 [--precopy ROUNDS [--precopy-skip kvm|marks]\n"
	       "                  [--precopy-control kvm|marks]] [--kvm-dirty-log get|clear]\n"
	       "Boots Linux on /dev/kvm with its RAM in N slots (default 64 x 16M) kept by\n"
	       "libmemslots; exit 0 all checks passed, 1 a check failed, 77 no usable KVM.\n"
	       "  --timeout SECS   bound on the whole run (default 900; 0: none)\n"
	       "  --watchdog SECS  bound on a stretch without an exit from the guest, hence\n"
	       "                   without a console byte (default 60; 0: off)\n"
	       "  --index NAME     the library's gfn and id index: kvm (KVM's red-black tree\n"
	       "                   and id hash) or btree (default: the library's default)\n"
	       "Either bound, once reached, prints the vCPU's registers and its last exits\n"
	       "and fails the run.\n"
	       "  --precopy ROUNDS pre-copy the guest's RAM into a shadow in ROUNDS rounds\n"
	       "                   (1..%d; more until the guest wrote both by its vCPU and\n"
	       "                   through the devices) while it works, then a final one\n"
	       "                   with the vCPU parked: the shadow must equal RAM\n"
	       "  --precopy-skip SRC  debug: the pass leaves out KVM's log (kvm) or the\n"
	       "                   devices' marks (marks), so the comparison fails\n"
	       "  --precopy-control SRC  after the pass, a control pass without SRC whose\n"
	       "                   comparison must fail (the check sees a lost page);\n"
	       "                   may be given for both\n"
	       "  --kvm-dirty-log M  get: KVM_GET_DIRTY_LOG alone; clear: manual protection\n"
	       "                   with KVM_CLEAR_DIRTY_LOG (default: clear where KVM has it)\n",
	       PRECOPY_MAX_ROUNDS);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"kernel", required_argument, NULL, 'k'},
		{"initrd", required_argument, NULL, 'i'},
		{"disk", required_argument, NULL, 'd'},
		{"disk-md5", required_argument, NULL, 'm'},
		{"slots", required_argument, NULL, 'n'},
		{"slot-size", required_argument, NULL, 's'},
		{"append", required_argument, NULL, 'a'},
		{"timeout", required_argument, NULL, 't'},
		{"watchdog", required_argument, NULL, 'w'},
		{"quiet", no_argument, NULL, 'q'},
		{"index", required_argument, NULL, 'x'},
		{"precopy", required_argument, NULL, 'p'},
		{"precopy-skip", required_argument, NULL, 'S'},
		{"precopy-control", required_argument, NULL, 'C'},
		{"kvm-dirty-log", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct options){.slots = 64, .slot_size = 16 * MiB, .timeout = 900, .watchdog = 60};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->kernel = optarg;
			break;
		case 'i':
			o->initrd = optarg;
			break;
		case 'd':
			o->disk = optarg;
			break;
		case 'm':
			o->disk_md5 = optarg;
			break;
		case 'n':
			o->slots = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 's':
			o->slot_size = parse_size(optarg);
			break;
		case 'a':
			o->append = optarg;
			break;
		case 't':
			o->timeout = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'w':
			o->watchdog = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'x':
			if (vm_parse_index(optarg, &o->index))
				return -1;
			break;
		case 'p':
			o->precopy = (unsigned int)strtoul(optarg, NULL, 0);
			if (o->precopy < 1 || o->precopy > PRECOPY_MAX_ROUNDS)
				return -1;
			break;
		case 'S':
			if (precopy_parse_source(optarg, &o->precopy_skip))
				return -1;
			break;
		case 'C': {
			enum precopy_source src;

			if (precopy_parse_source(optarg, &src))
				return -1;
			o->precopy_controls |= 1u << src;
			break;
		}
		case 'D':
			if (strcmp(optarg, "get") != 0 && strcmp(optarg, "clear") != 0)
				return -1;
			o->kvm_dirty_log = optarg[0];
			break;
		default:
			return -1;
		}
	}
	if (!o->kernel || optind != argc || !o->slots || !o->slot_size ||
	    o->slot_size % PAGE_SIZE != 0 || o->slots * o->slot_size < 128 * MiB)
		return -1;
	/* The pre-copy options only mean something with a pre-copy. */
	if (!o->precopy && (o->precopy_skip || o->precopy_controls))
		return -1;
	return 0;
}

/* The translations @g made (less those of @before): how many, how many
 * the cache answered, how many copies had to be split between slots. */
static void print_translations(const char *who, const struct guestmem *g,
			       const struct guestmem *before)
{
	unsigned long n = g->translations - (before ? before->translations : 0);
	unsigned long hits = g->cache_hits - (before ? before->cache_hits : 0);
	unsigned long split = g->split_copies - (before ? before->split_copies : 0);

	printf("vmm:   translations, %-22s %lu, cache hits %lu (%.1f %%), %lu copies split "
	       "across slots\n",
	       who, n, hits, n ? 100.0 * hits / n : 0.0, split);
}

static void print_figures(struct linux_vm *l)
{
	struct guestmem *g = &l->mem;
	double boot = l->t_ready ? l->t_ready - l->t_start : 0;

	printf("vmm: figures\n");
	printf("vmm:   boot to init's first request   %.2f s (first console line at %.2f s)\n",
	       boot, l->t_first_output ? l->t_first_output - l->t_start : 0);
	printf("vmm:   whole run                      %.2f s\n", l->t_end - l->t_start);
	printf("vmm:   vCPU exits                     %lu I/O (%lu to no device), %lu MMIO\n",
	       l->exits_io, l->unknown_io, l->exits_mmio);
	printf("vmm:   console bytes from the guest   %lu\n", l->uart.out_bytes);
	if (l->opt.watchdog)
		printf("vmm:   longest gap without progress   %.2f s (watchdog at %u s)\n",
		       l->longest_gap, l->opt.watchdog);
	else
		printf("vmm:   longest gap without progress   %.2f s (no watchdog)\n",
		       l->longest_gap);
	print_translations("boot loader", &l->loader, NULL);
	print_translations("devices (vCPU thread)", g, &l->loader);
	if (l->have_blk)
		printf("vmm:   virtio-blk                     %lu notifies, %lu requests, "
		       "%lu KiB read, %lu KiB written, %lu errors\n",
		       l->blk.notifies, l->blk.requests, l->blk.read_bytes >> 10,
		       l->blk.written_bytes >> 10, l->blk.errors);
	printf("vmm:   %-30s %lu (%lu refused), %.3f s\n", kvm_region_ioctl_name(&l->vm.kvm),
	       l->vm.kvm.region_ioctls, l->vm.kvm.region_refusals, l->vm.kvm.region_secs);
	printf("vmm:   library                        %zu slots, generation %" PRIu64 "\n",
	       lib_state(&l->vm).count, lib_state(&l->vm).generation);
}

int main(int argc, char **argv)
{
	struct linux_vm *l = calloc(1, sizeof(*l));
	char cmdline[2048];
	timer_t ticks;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!l)
		return 1;
	if (parse_options(argc, argv, &l->opt)) {
		usage();
		return 2;
	}
	snprintf(cmdline, sizeof(cmdline), "%s%s%s%s", base_cmdline, l->opt.quiet ? " quiet" : "",
		 l->opt.append ? " " : "", l->opt.append ? l->opt.append : "");
	/* No private memory; the library's dirty bitmaps, which start all
	 * dirty so that a migration's first round sends everything. */
	ret = vm_open(&l->vm, false, l->opt.index,
		      MEMSLOTS_DIRTY_BITMAP | MEMSLOTS_DIRTY_INITIALLY_SET);
	if (ret)
		return ret;
	l->nonce = ((uint64_t)getpid() << 32) ^ (uint64_t)(now() * 1e9);
	if (setup(l, cmdline)) {
		printf("vmm: setup failed\n");
		return 1;
	}

	ret = start_ticks(&ticks);
	if (ret) {
		printf("vmm: the watchdog's timer: %s\n", strerror(-ret));
		return 1;
	}
	l->vcpu_thread = pthread_self();
	l->t_start = l->t_progress = now();
	ret = run_vcpu(l);
	l->t_end = now();
	timer_delete(ticks);
	note_gap(l, l->t_end);
	precopy_vcpu_gone(l);

	check(l, ret == 0 && l->shutdown, "the guest shut down (KVM_EXIT_SHUTDOWN from reboot=t)");
	check(l, l->step == DONE, "the guest went through every step (stopped at step %d of %d)",
	      l->step, DONE);
	print_figures(l);
	vm_close(&l->vm);
	precopy_free(l);
	free(l->slot_mem);
	printf("vmm-linux: %u checks, %u failed: %s\n", l->checks, l->failures,
	       l->failures ? "FAIL" : "PASS");
	ret = l->failures ? 1 : 0;
	free(l);
	return ret;
}
