/* SPDX-License-Identifier: MIT */
/*
 * What the example VMM and its guest agree on: where the guest is loaded,
 * and the I/O ports it talks through.  Included by the C files here and guest.S.
 */
#ifndef VMM_GUEST_ABI_H
#define VMM_GUEST_ABI_H

/* Guest-physical layout of the boot RAM slot (slot 0, gpa 0, 1 MiB). */
#define GUEST_RAM_SIZE	0x100000
#define GUEST_LOAD_ADDR 0x1000 /* the code below is copied here */
#define GUEST_STACK_TOP 0x80000

/* Ports (byte out: console; 32-bit in/out: the command channel). */
#define PORT_CONSOLE 0x3f8 /* out: one character (the COM1 data port) */
#define PORT_CMD     0x500 /* in: the next command from the VMM */
#define PORT_ARG     0x504 /* in: the command's next argument */
#define PORT_RESULT  0x508 /* out: the command's result */

/* Commands the guest executes, one at a time, forever. */
#define CMD_READ32  1 /* arg: gpa; result: the 32-bit word there */
#define CMD_WRITE32 2 /* args: gpa, value; result: value (an acknowledgement) */

#endif /* VMM_GUEST_ABI_H */
