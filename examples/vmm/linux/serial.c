// SPDX-License-Identifier: MIT
/*
 * The 16550A UART (see serial.h).  Register behaviour from the 16550
 * data sheet; transmission is instantaneous, so the transmitter is always
 * empty and every write raises "THR empty" again if that interrupt is
 * enabled.
 */
#include "serial.h"

#include <string.h>

enum {
	REG_DATA = 0, /* RBR / THR, or DLL with LCR.DLAB */
	REG_IER = 1,  /* or DLM with LCR.DLAB */
	REG_IIR = 2,  /* read; FCR on write */
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_RDI	  0x01 /* receive data available */
#define IER_THRI  0x02 /* transmitter holding register empty */
#define LCR_DLAB  0x80
#define MCR_LOOP  0x10
#define LSR_DR	  0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define IIR_NONE  0x01
#define IIR_THRI  0x02
#define IIR_RDI	  0x04
#define IIR_FIFO  0xc0 /* FIFOs enabled: what makes it a 16550A */
#define FCR_FIFO  0x01
#define FCR_CLRRX 0x02

static void update_irq(struct serial *s)
{
	int level = ((s->ier & IER_RDI) && s->rx_len) || ((s->ier & IER_THRI) && s->thre_pending);

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->set_irq)
			s->set_irq(s->opaque, level);
	}
}

static void transmit(struct serial *s, char c)
{
	s->out_bytes++;
	if (c == '\r')
		return;
	if (c != '\n' && s->line_len + 1 < sizeof(s->line)) {
		s->line[s->line_len++] = c;
		return;
	}
	s->line[s->line_len] = '\0';
	s->line_len = 0;
	if (s->on_line)
		s->on_line(s->opaque, s->line);
}

static uint8_t read_iir(struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_FIFO) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_len)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thre_pending) {
		s->thre_pending = false; /* reading IIR acknowledges it */
		return fifo | IIR_THRI;
	}
	return fifo | IIR_NONE;
}

/* Modem status: in loopback, the outputs of MCR read back as inputs (the
 * driver's probe checks that); else carrier, data set and clear to send. */
static uint8_t read_msr(const struct serial *s)
{
	if (s->mcr & MCR_LOOP)
		return (uint8_t)(((s->mcr & 0x02) ? 0x10 : 0) | ((s->mcr & 0x01) ? 0x20 : 0) |
				 ((s->mcr & 0x04) ? 0x40 : 0) | ((s->mcr & 0x08) ? 0x80 : 0));
	return 0xb0;
}

static uint8_t serial_read(struct serial *s, unsigned int reg)
{
	uint8_t v = 0;

	switch (reg) {
	case REG_DATA:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (s->rx_len) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % sizeof(s->rx);
			s->rx_len--;
		}
		return v;
	case REG_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case REG_IIR:
		return read_iir(s);
	case REG_LCR:
		return s->lcr;
	case REG_MCR:
		return s->mcr;
	case REG_LSR:
		return LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
	case REG_MSR:
		return read_msr(s);
	default:
		return s->scr;
	}
}

static void serial_write(struct serial *s, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case REG_DATA:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			return;
		}
		transmit(s, (char)v);
		s->thre_pending = true; /* sent at once: empty again */
		return;
	case REG_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			return;
		}
		/* Enabling THRI with an empty transmitter interrupts at once. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thre_pending = true;
		s->ier = v & 0x0f;
		return;
	case REG_IIR: /* FCR */
		s->fcr = v & 0xc9;
		if (v & FCR_CLRRX)
			s->rx_len = 0;
		return;
	case REG_LCR:
		s->lcr = v;
		return;
	case REG_MCR:
		s->mcr = v & 0x1f;
		return;
	case REG_SCR:
		s->scr = v;
		return;
	default: /* LSR, MSR: read-only */
		return;
	}
}

void serial_access(struct serial *s, unsigned int reg, bool is_write, uint8_t *data)
{
	if (is_write)
		serial_write(s, reg & 7, *data);
	else
		*data = serial_read(s, reg & 7);
	update_irq(s);
}

bool serial_input(struct serial *s, const char *text)
{
	size_t n = strlen(text);

	if (n > sizeof(s->rx) - s->rx_len)
		return false;
	for (size_t i = 0; i < n; i++)
		s->rx[(s->rx_head + s->rx_len + i) % sizeof(s->rx)] = (uint8_t)text[i];
	s->rx_len += n;
	update_irq(s);
	return true;
}
