/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART at the COM1 ports (0x3f8-0x3ff), enough for Linux's 8250
 * driver: the guest's console, and the channel the VMM and the guest's
 * init script talk through.  Output is gathered into lines handed to a
 * callback; input is queued by the VMM and raises the receive interrupt.
 *
 * Locking: none; the vCPU thread owns it.
 */
#ifndef VMM_SERIAL_H
#define VMM_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERIAL_PORT 0x3f8
#define SERIAL_IRQ  4

struct serial {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending; /* a "transmitter empty" interrupt not yet seen */
	int irq_level;	   /* as last given to set_irq */
	uint8_t rx[4096];
	size_t rx_head, rx_len;
	char line[1024]; /* output being gathered */
	size_t line_len;
	unsigned long out_bytes;

	/* Set by the owner. */
	void (*set_irq)(void *opaque, int level);
	void (*on_line)(void *opaque, const char *line);
	void *opaque;
};

/* An access to register @reg (0..7) of one byte; @data in or out. */
void serial_access(struct serial *s, unsigned int reg, bool is_write, uint8_t *data);

/* Queues @text for the guest to read; false if it does not fit. */
bool serial_input(struct serial *s, const char *text);

#endif /* VMM_SERIAL_H */
