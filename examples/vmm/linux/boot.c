// SPDX-License-Identifier: MIT
/*
 * The Linux/x86 boot protocol, 64-bit entry (see boot.h).  Written from
 * Documentation/arch/x86/boot.rst and the ACPI specification.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "boot.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define GiB (1ull << 30)
#define MiB (1ull << 20)

/* e820 types */
#define E820_RAM      1
#define E820_RESERVED 2

/* Where the 64-bit kernel starts, past the compressed image's 32-bit
 * entry (boot.rst, "64-bit boot protocol"). */
#define ENTRY_64_OFFSET 0x200

/* ---- files ----------------------------------------------------------------- */

static void *read_file(const char *path, size_t *size)
{
	struct stat st;
	char *buf = NULL;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		goto fail;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	close(fd);
	*size = done;
	return buf;
fail:
	fprintf(stderr, "vmm: %s: %s\n", path, strerror(errno ? errno : EIO));
	free(buf);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* ---- e820, from the slots ------------------------------------------------------ */

static int e820_add(struct boot_params *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	struct boot_e820_entry *e;

	if (!size)
		return 0;
	if (bp->e820_entries >= E820_MAX_ENTRIES_ZEROPAGE)
		return -E2BIG;
	e = &bp->e820_table[bp->e820_entries++];
	e->addr = addr;
	e->size = size;
	e->type = type;
	return 0;
}

/* One RAM range, less the legacy hole (the BIOS area of a PC, which the
 * kernel expects reserved: the ACPI tables live there). */
static int e820_add_ram(struct boot_params *bp, uint64_t start, uint64_t end)
{
	int ret = 0;

	if (start < BOOT_LOW_RAM_END)
		ret = e820_add(bp, start, (end < BOOT_LOW_RAM_END ? end : BOOT_LOW_RAM_END) - start,
			       E820_RAM);
	if (!ret && start < BOOT_KERNEL && end > BOOT_LOW_RAM_END)
		ret = e820_add(bp, BOOT_LOW_RAM_END, BOOT_KERNEL - BOOT_LOW_RAM_END, E820_RESERVED);
	if (!ret && end > BOOT_KERNEL)
		ret = e820_add(bp, start > BOOT_KERNEL ? start : BOOT_KERNEL,
			       end - (start > BOOT_KERNEL ? start : BOOT_KERNEL), E820_RAM);
	return ret;
}

/*
 * The guest's RAM map is the library's: every slot, in ascending gpa
 * (memslots_first/next), slots that touch merged into one entry (the
 * zero page has room for 128, and a VM may have thousands of slots).
 */
static int e820_from_slots(struct memslots *ms, struct boot_params *bp)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	uint64_t start = 0, end = 0;
	int ret = 0;

	for (const struct memslot *s = memslots_first(set); s && !ret; s = memslots_next(set, s)) {
		uint64_t gpa, size;

		guestmem_slot_range(ms, s, &gpa, &size);
		if (end && gpa == end) {
			end += size;
			continue;
		}
		if (end)
			ret = e820_add_ram(bp, start, end);
		start = gpa;
		end = gpa + size;
	}
	if (!ret && end)
		ret = e820_add_ram(bp, start, end);
	memslots_read_unlock(ms);
	return ret;
}

/*
 * End of the RAM run that holds @gpa (0: no slot holds it): each slot
 * says how many bytes it covers from an address on, and where it ends
 * the next slot may go on.
 */
static uint64_t ram_run_end(struct memslots *ms, uint64_t gpa)
{
	const struct memslots_set *set = memslots_read_lock(ms);
	uint64_t end = gpa, len;

	while (memslots_gpa_to_hva(set, end, &len) != MEMSLOTS_HVA_BAD)
		end += len;
	memslots_read_unlock(ms);
	return end == gpa ? 0 : end;
}

/* ---- ACPI: just enough to announce the virtio-mmio device --------------------- */

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* of the first 20 bytes */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* of the whole */
	uint8_t reserved[3];
} __attribute__((packed));

/* FADT, revision 6: only the fields we set are named. */
struct acpi_fadt {
	struct acpi_header h;
	uint8_t pad0[109 - 36];
	uint16_t iapc_boot_arch; /* offset 109 */
	uint8_t reserved;
	uint32_t flags; /* offset 112 */
	uint8_t pad1[131 - 116];
	uint8_t minor_version;	  /* offset 131 */
	uint64_t x_firmware_ctrl; /* offset 132 */
	uint64_t x_dsdt;	  /* offset 140 */
	uint8_t pad2[276 - 148];
} __attribute__((packed));

#define FADT_HW_REDUCED_ACPI (1u << 20)
#define FADT_BOOT_NO_VGA     (1u << 2)
#define FADT_BOOT_NO_CMOS    (1u << 5)

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

static void acpi_header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, "MSLOTS", 6);
	memcpy(h->oem_table_id, "MSLOTVMM", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "MSLT", 4);
	h->creator_revision = 1;
}

/* AML PkgLength of a package whose contents are @len bytes long; returns
 * the bytes written (1 or 2: our packages are under 4 KiB). */
static size_t aml_pkglen(uint8_t *p, size_t len)
{
	if (len + 1 < 0x40) {
		p[0] = (uint8_t)(len + 1);
		return 1;
	}
	len += 2;
	p[0] = (uint8_t)(0x40 | (len & 0x0f));
	p[1] = (uint8_t)(len >> 4);
	return 2;
}

/* Appends a package (opcode bytes, PkgLength, then @body) to @out. */
static size_t aml_package(uint8_t *out, const uint8_t *op, size_t op_len, const uint8_t *body,
			  size_t body_len)
{
	size_t n = op_len;

	memcpy(out, op, op_len);
	n += aml_pkglen(out + n, body_len);
	memcpy(out + n, body, body_len);
	return n + body_len;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Appends Name (@name, ...) with a string or an integer (< 256). */
static size_t aml_name_string(uint8_t *out, const char *name, const char *str)
{
	size_t n = strlen(str) + 1;

	out[0] = 0x08; /* NameOp */
	memcpy(out + 1, name, 4);
	out[5] = 0x0d; /* StringPrefix */
	memcpy(out + 6, str, n);
	return 6 + n;
}

static size_t aml_name_byte(uint8_t *out, const char *name, uint8_t v)
{
	out[0] = 0x08;
	memcpy(out + 1, name, 4);
	out[5] = 0x0a; /* BytePrefix */
	out[6] = v;
	return 7;
}

/*
 * Device (@name) { Name (_HID, @hid)  Name (_UID, @uid)
 *                  Name (_CRS, Buffer () { @res, end tag }) }
 */
static size_t aml_device(uint8_t *out, const char *name, const char *hid, uint8_t uid,
			 const uint8_t *res, size_t res_len)
{
	static const uint8_t device_op[] = {0x5b, 0x82}, buffer_op = 0x11;
	uint8_t body[160], buf[80];
	size_t n = 0, b;

	/* Buffer contents: ByteConst size, the descriptors, the end tag. */
	buf[0] = 0x0a;
	buf[1] = (uint8_t)(res_len + 2);
	memcpy(buf + 2, res, res_len);
	buf[2 + res_len] = 0x79, buf[3 + res_len] = 0; /* end tag, no checksum */
	b = res_len + 4;

	memcpy(body, name, 4);
	n = 4;
	n += aml_name_string(body + n, "_HID", hid);
	n += aml_name_byte(body + n, "_UID", uid);
	body[n++] = 0x08;
	memcpy(body + n, "_CRS", 4);
	n += 4;
	n += aml_package(body + n, &buffer_op, 1, buf, b);
	return aml_package(out, device_op, sizeof(device_op), body, n);
}

/* An extended interrupt descriptor: one GSI, consumer; @flags adds edge
 * (bit 1) or active-low (bit 2). */
static size_t res_interrupt(uint8_t *p, uint32_t gsi, uint8_t flags)
{
	p[0] = 0x89, p[1] = 6, p[2] = 0, p[3] = (uint8_t)(0x01 | flags), p[4] = 1;
	put32(p + 5, gsi);
	return 9;
}

/*
 * The DSDT's AML, by hand: Scope (\_SB) with two devices.
 *
 *  - COM1 (PNP0501) at I/O 0x3f8, IRQ 4 edge: on a hardware-reduced ACPI
 *    machine Linux has no legacy PIC and maps no ISA interrupt by itself,
 *    so the UART's interrupt must come from here (the 8250 driver's PNP
 *    probe takes the port over);
 *  - the virtio-mmio device, with the _HID Linux's virtio_mmio driver
 *    matches (LNRO0005), its register window and its interrupt, level
 *    and active high (the VMM holds the line while the device's
 *    interrupt status is non-zero).
 */
static size_t dsdt_body(uint8_t *out, uint64_t gpa, unsigned int irq)
{
	static const uint8_t scope_op = 0x10;
	uint8_t res[32], body[320];
	size_t n, r;

	memcpy(body, "\\_SB_", 5);
	n = 5;
	/* IO (Decode16, 0x3f8, 0x3f8, 1, 8) */
	res[0] = 0x47, res[1] = 1, res[2] = 0xf8, res[3] = 0x03, res[4] = 0xf8, res[5] = 0x03;
	res[6] = 1, res[7] = 8;
	r = 8 + res_interrupt(res + 8, 4, 0x02);
	n += aml_device(body + n, "COM1", "PNP0501", 1, res, r);
	if (gpa) {
		/* Memory32Fixed (ReadWrite, gpa, 0x200) */
		res[0] = 0x86, res[1] = 9, res[2] = 0, res[3] = 1;
		put32(res + 4, (uint32_t)gpa);
		put32(res + 8, 0x200);
		r = 12 + res_interrupt(res + 12, irq, 0);
		n += aml_device(body + n, "VR00", "LNRO0005", 0, res, r);
	}
	return aml_package(out, &scope_op, 1, body, n);
}

/*
 * RSDP -> XSDT -> { FADT -> DSDT, MADT } at BOOT_ACPI.  The DSDT has
 * the UART and, when @virtio_gpa is not 0, the virtio-mmio device.  The FADT says
 * "hardware-reduced ACPI" (no PM timer, no SCI, no fixed registers), no
 * i8042, no VGA, no CMOS clock; the MADT lists the boot CPU's local APIC
 * and KVM's in-kernel IOAPIC.  Returns the RSDP's gpa.
 */
static int acpi_write(struct guestmem *g, uint64_t virtio_gpa, unsigned int virtio_irq,
		      uint64_t *rsdp_gpa)
{
	uint8_t buf[2048] = {0};
	uint64_t base = BOOT_ACPI;
	size_t off = 0, xsdt_off, fadt_off, madt_off, dsdt_off, len;
	struct acpi_rsdp *rsdp = (void *)buf;
	struct acpi_fadt *fadt;
	struct acpi_header *h;
	uint8_t *m;

	/* RSDP, 16-byte aligned */
	off = 48;
	/* DSDT */
	dsdt_off = off;
	len = sizeof(struct acpi_header) +
	      dsdt_body(buf + off + sizeof(struct acpi_header), virtio_gpa, virtio_irq);
	h = (void *)(buf + dsdt_off);
	acpi_header(h, "DSDT", (uint32_t)len, 2);
	h->checksum = checksum(h, len);
	off = (dsdt_off + len + 15) & ~15ul;
	/* FADT */
	fadt_off = off;
	fadt = (void *)(buf + fadt_off);
	acpi_header(&fadt->h, "FACP", sizeof(*fadt), 6);
	fadt->iapc_boot_arch = FADT_BOOT_NO_VGA | FADT_BOOT_NO_CMOS; /* and no 8042 */
	fadt->flags = FADT_HW_REDUCED_ACPI;
	fadt->x_dsdt = base + dsdt_off;
	fadt->h.checksum = checksum(fadt, sizeof(*fadt));
	off = (fadt_off + sizeof(*fadt) + 15) & ~15ul;
	/* MADT: local APIC address, PCAT_COMPAT (an 8259 pair is there too) */
	madt_off = off;
	m = buf + madt_off + sizeof(struct acpi_header);
	put32(m, 0xfee00000);
	put32(m + 4, 1);
	m += 8;
	/* processor local APIC: ACPI id 0, APIC id 0, enabled */
	m[0] = 0, m[1] = 8, m[2] = 0, m[3] = 0;
	put32(m + 4, 1);
	m += 8;
	/* IOAPIC: id 0, at 0xfec00000, GSIs from 0 (KVM routes GSI n to pin n) */
	m[0] = 1, m[1] = 12, m[2] = 0, m[3] = 0;
	put32(m + 4, 0xfec00000);
	put32(m + 8, 0);
	m += 12;
	len = (size_t)(m - (buf + madt_off));
	h = (void *)(buf + madt_off);
	acpi_header(h, "APIC", (uint32_t)len, 4);
	h->checksum = checksum(h, len);
	off = (madt_off + len + 15) & ~15ul;
	/* XSDT: FADT, MADT */
	xsdt_off = off;
	len = sizeof(struct acpi_header) + 2 * 8;
	h = (void *)(buf + xsdt_off);
	acpi_header(h, "XSDT", (uint32_t)len, 1);
	{
		uint64_t entries[2] = {base + fadt_off, base + madt_off};

		memcpy(buf + xsdt_off + sizeof(*h), entries, sizeof(entries));
	}
	h->checksum = checksum(h, len);
	off = xsdt_off + len;

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, "MSLOTS", 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = base + xsdt_off;
	rsdp->checksum = checksum(rsdp, 20);
	rsdp->extended_checksum = checksum(rsdp, sizeof(*rsdp));

	*rsdp_gpa = base;
	return guestmem_write(g, base, buf, off);
}

/* ---- long mode ------------------------------------------------------------------ */

/* The boot GDT: __BOOT_CS is 0x10 (64-bit code), __BOOT_DS 0x18 (data). */
static const uint64_t boot_gdt[] = {
	0, 0, 0x00af9b000000ffffull, /* 0x10: code, present, long mode, 4 GiB */
	0x00cf93000000ffffull,	     /* 0x18: data, present, read/write, 4 GiB */
};

/* Identity map of the first 4 GiB with 2 MiB pages: PML4 -> one PDPT ->
 * four page directories. */
static int write_page_tables(struct guestmem *g)
{
	uint64_t pml4 = BOOT_PAGE_TABLES, pdpt = pml4 + PAGE_SIZE, pd = pdpt + PAGE_SIZE;
	uint64_t entry;
	int ret = guestmem_zero(g, pml4, 6 * PAGE_SIZE);

	entry = pdpt | 3; /* present, writable */
	ret = ret ?: guestmem_write(g, pml4, &entry, 8);
	for (unsigned int i = 0; i < 4 && !ret; i++) {
		uint64_t dir[512];

		entry = (pd + i * PAGE_SIZE) | 3;
		ret = guestmem_write(g, pdpt + i * 8, &entry, 8);
		for (unsigned int j = 0; j < 512; j++)
			dir[j] = ((uint64_t)i * GiB + j * 2 * MiB) | 0x83; /* P, RW, PS */
		ret = ret ?: guestmem_write(g, pd + i * PAGE_SIZE, dir, sizeof(dir));
	}
	return ret ?: guestmem_write(g, BOOT_GDT, boot_gdt, sizeof(boot_gdt));
}

int boot_setup_vcpu(struct kvm_vcpu *vcpu, struct kvm_cpuid2 *cpuid)
{
	struct kvm_segment code = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = 0x10,
		.type = 11, /* execute/read, accessed */
		.present = 1,
		.s = 1,
		.l = 1, /* 64-bit */
		.g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_sregs sregs;
	struct kvm_regs regs = {0};

	/* What KVM supports, plus the "running under a hypervisor" bit
	 * (leaf 1, ECX bit 31), without which Linux does not look for KVM's
	 * leaves and goes without kvmclock (and cannot calibrate its TSC). */
	for (unsigned int i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1)
			cpuid->entries[i].ecx |= 1u << 31;
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0)
		return -errno;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	data.selector = 0x18;
	data.type = 3; /* read/write, accessed */
	data.l = 0;
	data.db = 1;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.gdt.base = BOOT_GDT;
	sregs.gdt.limit = sizeof(boot_gdt) - 1;
	sregs.cr3 = BOOT_PAGE_TABLES;
	sregs.cr4 = 1u << 5;		       /* PAE */
	sregs.cr0 = 0x80000000u | 0x20 | 0x11; /* PG, NE, ET, PE */
	sregs.efer = (1u << 8) | (1u << 10);   /* LME, LMA */
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	regs.rip = BOOT_KERNEL + ENTRY_64_OFFSET;
	regs.rsi = BOOT_PARAMS;
	regs.rflags = 2;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* ---- the kernel ----------------------------------------------------------------- */

/* Checks the bzImage header; returns the protected-mode kernel's offset
 * in the file, or 0 when the image cannot be booted this way. */
static size_t check_bzimage(size_t size, const struct setup_header *hdr, uint16_t *protocol)
{
	size_t setup_sects;

	if (size < 0x1000 || memcmp(&hdr->header, "HdrS", 4) != 0) {
		fprintf(stderr, "vmm: not a bzImage (no HdrS header)\n");
		return 0;
	}
	*protocol = hdr->version;
	/* 2.12: xloadflags, the 64-bit entry; 2.14: acpi_rsdp_addr. */
	if (hdr->version < 0x20c || !(hdr->xloadflags & XLF_KERNEL_64)) {
		fprintf(stderr, "vmm: boot protocol %#x without a 64-bit entry point\n",
			hdr->version);
		return 0;
	}
	setup_sects = hdr->setup_sects ? hdr->setup_sects : 4;
	return (setup_sects + 1) * 512;
}

int boot_load_linux(struct guestmem *g, struct boot_info *b)
{
	struct boot_params bp;
	size_t kernel_size = 0, initrd_size = 0, pm_offset, hdr_end;
	uint8_t *kernel = read_file(b->kernel_path, &kernel_size);
	uint8_t *initrd = NULL;
	uint64_t rsdp, top;
	int ret = -EINVAL;

	if (!kernel)
		return -errno;
	memset(&bp, 0, sizeof(bp));
	/* The setup header runs from 0x1f1 to 0x202 + the byte at 0x201. */
	hdr_end = 0x202 + kernel[0x201];
	if (kernel_size < hdr_end || hdr_end - 0x1f1 > sizeof(bp.hdr))
		goto out;
	memcpy(&bp.hdr, kernel + 0x1f1, hdr_end - 0x1f1);
	pm_offset = check_bzimage(kernel_size, &bp.hdr, &b->protocol);
	if (!pm_offset || pm_offset >= kernel_size)
		goto out;
	b->kernel_size = kernel_size - pm_offset;

	bp.hdr.type_of_loader = 0xff; /* no registered loader id */
	bp.hdr.loadflags |= LOADED_HIGH;
	bp.hdr.vid_mode = 0xffff; /* "normal" */
	bp.hdr.cmd_line_ptr = (uint32_t)BOOT_CMDLINE;
	if (strlen(b->cmdline) >= bp.hdr.cmdline_size) {
		fprintf(stderr, "vmm: command line longer than the kernel's %u bytes\n",
			bp.hdr.cmdline_size);
		goto out;
	}
	ret = guestmem_write(g, BOOT_CMDLINE, b->cmdline, strlen(b->cmdline) + 1);
	if (ret)
		goto fault;
	ret = guestmem_write(g, BOOT_KERNEL, kernel + pm_offset, b->kernel_size);
	if (ret)
		goto fault;

	if (b->initrd_path) {
		initrd = read_file(b->initrd_path, &initrd_size);
		if (!initrd) {
			ret = -errno;
			goto out;
		}
		/* As high as the kernel allows, in the RAM run above 1 MiB. */
		top = ram_run_end(g->ms, BOOT_KERNEL);
		if (top > (uint64_t)bp.hdr.initrd_addr_max + 1)
			top = (uint64_t)bp.hdr.initrd_addr_max + 1;
		b->initrd_gpa = (top - initrd_size) & ~(PAGE_SIZE - 1);
		if (top < initrd_size ||
		    b->initrd_gpa < BOOT_KERNEL + b->kernel_size + bp.hdr.init_size) {
			fprintf(stderr, "vmm: not enough RAM for the initramfs\n");
			ret = -ENOMEM;
			goto out;
		}
		b->initrd_size = initrd_size;
		bp.hdr.ramdisk_image = (uint32_t)b->initrd_gpa;
		bp.hdr.ramdisk_size = (uint32_t)initrd_size;
		ret = guestmem_write(g, b->initrd_gpa, initrd, initrd_size);
		if (ret)
			goto fault;
	}

	ret = e820_from_slots(g->ms, &bp);
	if (ret) {
		fprintf(stderr, "vmm: e820 map: %s\n", strerror(-ret));
		goto out;
	}
	b->e820_entries = bp.e820_entries;
	ret = acpi_write(g, b->virtio_gpa, b->virtio_irq, &rsdp);
	if (ret)
		goto fault;
	bp.acpi_rsdp_addr = rsdp;
	ret = write_page_tables(g);
	ret = ret ?: guestmem_write(g, BOOT_PARAMS, &bp, sizeof(bp));
	if (ret)
		goto fault;
	goto out;
fault:
	fprintf(stderr, "vmm: boot data outside guest RAM\n");
out:
	free(kernel);
	free(initrd);
	return ret;
}
