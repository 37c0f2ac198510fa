// SPDX-License-Identifier: MIT
/*
 * virtio-blk over virtio-mmio (see virtio_blk.h).  Written from the
 * virtio 1.x specification: 4.2 (MMIO transport), 2.7 (split virtqueues),
 * 5.2 (block device).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "virtio_blk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Register offsets (4.2.2). */
enum {
	VM_MAGIC = 0x000,
	VM_VERSION = 0x004,
	VM_DEVICE_ID = 0x008,
	VM_VENDOR_ID = 0x00c,
	VM_DEV_FEATURES = 0x010,
	VM_DEV_FEATURES_SEL = 0x014,
	VM_DRV_FEATURES = 0x020,
	VM_DRV_FEATURES_SEL = 0x024,
	VM_QUEUE_SEL = 0x030,
	VM_QUEUE_NUM_MAX = 0x034,
	VM_QUEUE_NUM = 0x038,
	VM_QUEUE_READY = 0x044,
	VM_QUEUE_NOTIFY = 0x050,
	VM_INT_STATUS = 0x060,
	VM_INT_ACK = 0x064,
	VM_STATUS = 0x070,
	VM_QUEUE_DESC_LO = 0x080,
	VM_QUEUE_DESC_HI = 0x084,
	VM_QUEUE_DRIVER_LO = 0x090,
	VM_QUEUE_DRIVER_HI = 0x094,
	VM_QUEUE_DEVICE_LO = 0x0a0,
	VM_QUEUE_DEVICE_HI = 0x0a4,
	VM_CONFIG_GEN = 0x0fc,
	VM_CONFIG = 0x100,
};

#define VIRTIO_MAGIC		  0x74726976 /* "virt" */
#define VIRTIO_ID_BLOCK		  2
#define VIRTIO_VENDOR		  0x544c534d /* "MSLT" */
#define VIRTIO_F_VERSION_1	  (1ull << 32)
#define VIRTIO_BLK_F_SEG_MAX	  (1ull << 2)
#define VIRTIO_BLK_SEG_MAX	  126
#define VIRTQ_DESC_F_NEXT	  1
#define VIRTQ_DESC_F_WRITE	  2
#define VIRTQ_DESC_F_INDIRECT	  4
#define INT_USED_BUFFER		  1
#define VIRTIO_STATUS_FEATURES_OK 8

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN	    0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK	    0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct blk_req_header {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* A descriptor chain as two byte streams: what the device reads (out)
 * and what it writes (in), each a list of guest-physical segments. */
struct chain {
	struct seg {
		uint64_t gpa;
		uint32_t len;
	} out[VIRTQ_MAX], in[VIRTQ_MAX];
	unsigned int nout, nin;
	uint64_t out_len, in_len;
};

int virtio_blk_open(struct virtio_blk *d, const char *path, uint64_t base, struct guestmem *mem)
{
	struct stat st;

	memset(d, 0, sizeof(*d));
	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0 || fstat(d->fd, &st) < 0)
		return -errno;
	d->sectors = (uint64_t)st.st_size / 512;
	d->base = base;
	d->mem = mem;
	return 0;
}

static void reset(struct virtio_blk *d)
{
	d->status = 0;
	d->dev_features_sel = d->drv_features_sel = d->queue_sel = 0;
	d->drv_features = 0;
	d->interrupt_status = 0;
	memset(&d->vq, 0, sizeof(d->vq));
	if (d->set_irq)
		d->set_irq(d->opaque, 0);
}

static uint64_t device_features(void)
{
	return VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_SEG_MAX;
}

/* Reads the descriptor chain from @head; false if it is malformed. */
static bool read_chain(struct virtio_blk *d, uint16_t head, struct chain *c)
{
	struct virtq *vq = &d->vq;
	uint16_t i = head;

	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	for (unsigned int n = 0; n < vq->num; n++) {
		struct virtq_desc desc;

		if (i >= vq->num ||
		    guestmem_read(d->mem, vq->desc + 16ull * i, &desc, sizeof(desc)))
			return false;
		if (desc.flags & VIRTQ_DESC_F_INDIRECT)
			return false; /* not offered */
		if (desc.flags & VIRTQ_DESC_F_WRITE) {
			c->in[c->nin++] = (struct seg){desc.addr, desc.len};
			c->in_len += desc.len;
		} else {
			if (c->nin)
				return false; /* readable after writable */
			c->out[c->nout++] = (struct seg){desc.addr, desc.len};
			c->out_len += desc.len;
		}
		if (!(desc.flags & VIRTQ_DESC_F_NEXT))
			return true;
		i = desc.next;
	}
	return false; /* a loop */
}

/* Copies between a byte stream made of @segs, from byte @pos, and @buf. */
static int stream_copy(struct guestmem *g, const struct seg *segs, unsigned int n, uint64_t pos,
		       void *buf, uint64_t len, bool to_guest)
{
	for (unsigned int i = 0; i < n && len; i++) {
		uint64_t take;
		int ret;

		if (pos >= segs[i].len) {
			pos -= segs[i].len;
			continue;
		}
		take = segs[i].len - pos < len ? segs[i].len - pos : len;
		ret = to_guest ? guestmem_write(g, segs[i].gpa + pos, buf, take)
			       : guestmem_read(g, segs[i].gpa + pos, buf, take);
		if (ret)
			return ret;
		buf = (char *)buf + take;
		len -= take;
		pos = 0;
	}
	return len ? -EFAULT : 0;
}

/* Does one request; returns the bytes written into the guest's buffers. */
static uint32_t do_request(struct virtio_blk *d, const struct chain *c)
{
	struct blk_req_header h;
	uint8_t status = VIRTIO_BLK_S_OK;
	uint64_t data_len, off;
	uint32_t written = 0;
	void *buf = NULL;

	if (c->in_len < 1 || stream_copy(d->mem, c->out, c->nout, 0, &h, sizeof(h), false)) {
		d->errors++;
		return 0;
	}
	d->requests++;
	off = h.sector * 512;
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		data_len = c->in_len - 1;
		buf = malloc(data_len ? data_len : 1);
		if (!buf || off + data_len > d->sectors * 512 ||
		    pread(d->fd, buf, data_len, (off_t)off) != (ssize_t)data_len ||
		    stream_copy(d->mem, c->in, c->nin, 0, buf, data_len, true)) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		d->read_bytes += data_len;
		written = (uint32_t)data_len;
		break;
	case VIRTIO_BLK_T_OUT:
		data_len = c->out_len - sizeof(h);
		buf = malloc(data_len ? data_len : 1);
		if (!buf || off + data_len > d->sectors * 512 ||
		    stream_copy(d->mem, c->out, c->nout, sizeof(h), buf, data_len, false) ||
		    pwrite(d->fd, buf, data_len, (off_t)off) != (ssize_t)data_len) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		d->written_bytes += data_len;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (fsync(d->fd))
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		char id[20] = "memslots-vmm-disk";
		uint64_t n = c->in_len - 1 < sizeof(id) ? c->in_len - 1 : sizeof(id);

		if (stream_copy(d->mem, c->in, c->nin, 0, id, n, true))
			status = VIRTIO_BLK_S_IOERR;
		written = (uint32_t)n;
		break;
	}
	default:
		status = VIRTIO_BLK_S_UNSUPP;
	}
	free(buf);
	if (status != VIRTIO_BLK_S_OK)
		d->errors++;
	/* The status byte is the last byte of the writable part. */
	stream_copy(d->mem, c->in, c->nin, c->in_len - 1, &status, 1, true);
	return written + 1;
}

/* The guest made buffers available: serve all of them, then interrupt. */
static void process_queue(struct virtio_blk *d)
{
	struct virtq *vq = &d->vq;
	static struct chain c; /* large; the vCPU thread is the only user */
	uint16_t avail_idx;
	bool done = false;

	d->notifies++;
	if (!vq->ready || guestmem_read(d->mem, vq->avail + 2, &avail_idx, 2))
		return;
	while (vq->last_avail != avail_idx) {
		uint16_t head;
		uint32_t used[2];

		if (guestmem_read(d->mem, vq->avail + 4 + 2ull * (vq->last_avail % vq->num), &head,
				  2))
			break;
		used[0] = head;
		used[1] = read_chain(d, head, &c) ? do_request(d, &c) : 0;
		if (!used[1])
			d->errors++;
		guestmem_write(d->mem, vq->used + 4 + 8ull * (vq->used_idx % vq->num), used,
			       sizeof(used));
		vq->used_idx++;
		vq->last_avail++;
		done = true;
	}
	if (!done)
		return;
	/* The element before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	guestmem_write(d->mem, vq->used + 2, &vq->used_idx, 2);
	d->interrupt_status |= INT_USED_BUFFER;
	if (d->set_irq)
		d->set_irq(d->opaque, 1);
}

static uint32_t reg_read(struct virtio_blk *d, uint64_t off)
{
	uint64_t f = device_features();

	switch (off) {
	case VM_MAGIC:
		return VIRTIO_MAGIC;
	case VM_VERSION:
		return 2;
	case VM_DEVICE_ID:
		return VIRTIO_ID_BLOCK;
	case VM_VENDOR_ID:
		return VIRTIO_VENDOR;
	case VM_DEV_FEATURES:
		return d->dev_features_sel == 0	  ? (uint32_t)f
		       : d->dev_features_sel == 1 ? (uint32_t)(f >> 32)
						  : 0;
	case VM_QUEUE_NUM_MAX:
		return d->queue_sel == 0 ? VIRTQ_MAX : 0;
	case VM_QUEUE_READY:
		return d->queue_sel == 0 ? d->vq.ready : 0;
	case VM_INT_STATUS:
		return d->interrupt_status;
	case VM_STATUS:
		return d->status;
	case VM_CONFIG_GEN:
		return 0;
	default:
		return 0;
	}
}

/* FEATURES_OK stays clear unless the driver took VERSION_1 and nothing
 * we did not offer (3.1.1): a legacy driver cannot use this device. */
static uint32_t accept_status(const struct virtio_blk *d, uint32_t v)
{
	uint64_t f = d->drv_features;

	if ((v & VIRTIO_STATUS_FEATURES_OK) &&
	    (!(f & VIRTIO_F_VERSION_1) || (f & ~device_features())))
		v &= ~VIRTIO_STATUS_FEATURES_OK;
	return v;
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	*v = high ? (*v & 0xffffffffull) | ((uint64_t)val << 32) : (*v & ~0xffffffffull) | val;
}

static void reg_write(struct virtio_blk *d, uint64_t off, uint32_t v)
{
	struct virtq *vq = &d->vq;
	bool q0 = d->queue_sel == 0;

	switch (off) {
	case VM_DEV_FEATURES_SEL:
		d->dev_features_sel = v;
		break;
	case VM_DRV_FEATURES:
		if (d->drv_features_sel < 2)
			set_half(&d->drv_features, d->drv_features_sel, v);
		break;
	case VM_DRV_FEATURES_SEL:
		d->drv_features_sel = v;
		break;
	case VM_QUEUE_SEL:
		d->queue_sel = v;
		break;
	case VM_QUEUE_NUM:
		if (q0 && v && v <= VIRTQ_MAX && !(v & (v - 1)))
			vq->num = v;
		break;
	case VM_QUEUE_READY:
		if (q0)
			vq->ready = v & 1;
		break;
	case VM_QUEUE_NOTIFY:
		if (v == 0)
			process_queue(d);
		break;
	case VM_INT_ACK:
		d->interrupt_status &= ~v;
		if (!d->interrupt_status && d->set_irq)
			d->set_irq(d->opaque, 0);
		break;
	case VM_STATUS:
		if (v == 0)
			reset(d);
		else
			d->status = accept_status(d, v);
		break;
	case VM_QUEUE_DESC_LO:
	case VM_QUEUE_DESC_HI:
		if (q0)
			set_half(&vq->desc, off == VM_QUEUE_DESC_HI, v);
		break;
	case VM_QUEUE_DRIVER_LO:
	case VM_QUEUE_DRIVER_HI:
		if (q0)
			set_half(&vq->avail, off == VM_QUEUE_DRIVER_HI, v);
		break;
	case VM_QUEUE_DEVICE_LO:
	case VM_QUEUE_DEVICE_HI:
		if (q0)
			set_half(&vq->used, off == VM_QUEUE_DEVICE_HI, v);
		break;
	default:
		break;
	}
}

/* The block device's configuration space (5.2.4): capacity, seg_max. */
static void config_access(struct virtio_blk *d, uint64_t off, bool is_write, uint8_t *data,
			  unsigned int len)
{
	uint8_t cfg[24] = {0};
	uint32_t seg_max = VIRTIO_BLK_SEG_MAX;

	memcpy(cfg, &d->sectors, 8);
	memcpy(cfg + 12, &seg_max, 4);
	if (is_write)
		return; /* nothing writable */
	memset(data, 0, len);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, off + len <= sizeof(cfg) ? len : sizeof(cfg) - off);
}

void virtio_blk_mmio(struct virtio_blk *d, uint64_t offset, bool is_write, uint8_t *data,
		     unsigned int len)
{
	uint32_t v = 0;

	if (offset >= VM_CONFIG) {
		config_access(d, offset - VM_CONFIG, is_write, data, len);
		return;
	}
	if (len != 4 || (offset & 3)) {
		/* The transport's registers are 32-bit only. */
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write) {
		memcpy(&v, data, 4);
		reg_write(d, offset, v);
	} else {
		v = reg_read(d, offset);
		memcpy(data, &v, 4);
	}
}
