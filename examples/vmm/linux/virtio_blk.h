/* SPDX-License-Identifier: MIT */
/*
 * A virtio block device on the virtio-mmio transport (virtio 1.x, register
 * layout version 2), backed by a file.  Its one queue is walked by the
 * vCPU thread when the guest notifies it: descriptors, the available and
 * used rings and the data buffers are all reached through guestmem, that is
 * through the library's cached lookup, and a buffer that crosses a slot
 * boundary is copied in pieces.
 *
 * Locking: none; the vCPU thread owns it (MMIO exits come on that thread).
 */
#ifndef VMM_VIRTIO_BLK_H
#define VMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "guestmem.h"

#define VIRTIO_MMIO_SIZE 0x200
#define VIRTQ_MAX	 256

struct virtq {
	uint32_t num;
	uint32_t ready;
	uint64_t desc, avail, used; /* guest-physical */
	uint16_t last_avail;	    /* next available entry to take */
	uint16_t used_idx;
};

struct virtio_blk {
	uint64_t base; /* gpa of the register window */
	int fd;
	uint64_t sectors;     /* 512-byte sectors */
	struct guestmem *mem; /* the vCPU thread's */

	uint32_t status;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint64_t drv_features;
	uint32_t interrupt_status;
	struct virtq vq;

	/* Set by the owner. */
	void (*set_irq)(void *opaque, int level);
	void *opaque;

	/* What it did. */
	unsigned long notifies, requests, read_bytes, written_bytes, errors;
};

/* Opens @path as the disk; 0 or -errno. */
int virtio_blk_open(struct virtio_blk *d, const char *path, uint64_t base, struct guestmem *mem);

/* An access of @len bytes at @offset in the register window. */
void virtio_blk_mmio(struct virtio_blk *d, uint64_t offset, bool is_write, uint8_t *data,
		     unsigned int len);

#endif /* VMM_VIRTIO_BLK_H */
