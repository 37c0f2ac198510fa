/* SPDX-License-Identifier: MIT */
/*
 * The example VMM's guest: 32-bit protected-mode code, no paging, flat
 * segments.  The VMM sets those segments up directly in the vCPU's
 * registers (KVM_SET_SREGS), so the guest needs no GDT and no mode switch;
 * it is copied to GUEST_LOAD_ADDR and entered there.
 *
 * It greets on the console port, then loops: read a command from PORT_CMD,
 * do it, report on PORT_RESULT.  A load from a gpa that no memslot holds
 * is not an error for the guest: KVM turns it into an MMIO exit and the VMM
 * supplies the value, as a device would.
 *
 * The bytes end up in the VMM's .rodata (never executed on the host);
 * addresses inside the guest image are computed relative to
 * vmm_guest_code + GUEST_LOAD_ADDR because the image runs there.
 */
#include "guest_abi.h"

#define GUEST_ADDR(sym) ((sym) - vmm_guest_code + GUEST_LOAD_ADDR)

	.section .rodata.vmm_guest, "a"
	.globl vmm_guest_code
	.globl vmm_guest_code_end
	.code32
vmm_guest_code:
	movl	$GUEST_STACK_TOP, %esp
	movl	$GUEST_ADDR(hello), %esi
	call	puts

cmd_loop:
	movw	$PORT_CMD, %dx
	inl	%dx, %eax		/* exit: the VMM answers with a command */
	cmpl	$CMD_READ32, %eax
	je	do_read32
	cmpl	$CMD_WRITE32, %eax
	je	do_write32
	movl	$GUEST_ADDR(bad_cmd), %esi
	call	puts
	hlt				/* the VMM treats a halt as a failure */
	jmp	cmd_loop

do_read32:
	movw	$PORT_ARG, %dx
	inl	%dx, %eax		/* the gpa */
	movl	(%eax), %eax		/* RAM, or an MMIO exit if no slot holds it */
	movw	$PORT_RESULT, %dx
	outl	%eax, %dx
	jmp	cmd_loop

do_write32:
	movw	$PORT_ARG, %dx
	inl	%dx, %eax		/* the gpa */
	movl	%eax, %ebx
	inl	%dx, %eax		/* the value */
	movl	%eax, (%ebx)		/* dirties the page when logging is on */
	movw	$PORT_RESULT, %dx
	outl	%eax, %dx
	jmp	cmd_loop

/* puts(%esi): writes a NUL-terminated string to the console port. */
puts:
	movw	$PORT_CONSOLE, %dx
1:	lodsb
	testb	%al, %al
	jz	2f
	outb	%al, %dx
	jmp	1b
2:	ret

hello:
	.asciz	"hello from the guest (32-bit protected mode)\n"
bad_cmd:
	.asciz	"guest: unknown command\n"
vmm_guest_code_end:

	.section .note.GNU-stack, "", @progbits
