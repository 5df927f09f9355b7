; isr.asm - the 256 interrupt/exception entry stubs and their common path.
;
; Each IDT gate (all interrupt gates: IF=0 on entry, SDM vol 3A 6.12.1.3)
; points at isr_stub_<n>. A stub makes every vector's stack look the same:
;
;   - the CPU pushed  ss, rsp, rflags, cs, rip  (always, in 64-bit mode,
;     after aligning RSP to 16; SDM vol 3A 6.14.2, figure 6-9), and for
;     vectors 8, 10, 11, 12, 13, 14, 17 and 21 an error code (SDM vol 3A
;     table 6-1 and 6.13). For every other vector the stub pushes a dummy 0
;     in its place, so the frame has one shape.
;   - the stub pushes the vector number and jumps to isr_common.
;
; isr_common pushes the general registers, so that on the stack, from the
; lowest address up, lies struct trap_frame (layout and the macros that
; build it in kernel/arch/trap_frame.inc, shared with the SYSCALL entry in
; kernel/user/entry.asm; kernel/trap.h asserts the offsets). 7 + 15 words
; = 176 = 11 * 16 bytes above a 16-aligned RSP, so `tf` is 16-aligned.
;
; swapgs: only when the interrupted code ran in ring 3 (CS & 3), so that
; kernel code always runs with the kernel's GS base and user code gets its
; own back. (Caveat: an NMI/#MC/#DB landing in syscall_entry before its
; own swapgs sees CS = kernel with the user GS base; the GS base check
; Linux calls "paranoid entry" would be needed if those paths used GS.
; Only kernel/user/entry.asm reads GS, so it is harmless here.)
;
; Vectors 29 (#VC) and 30 (#SX) push an error code on AMD CPUs only; the
; Intel table treats them as reserved, and QEMU's TCG never raises them.

bits 64
default rel

%include "arch/trap_frame.inc"

extern trap_dispatch

section .text

; ---------------------------------------------------------------- stubs
; 16 bytes apart (push imm8 0 = 2, push imm32 = 5, jmp rel32 = 5).
global isr_stubs
align 16
isr_stubs:
%assign v 0
%rep 256
align 16
isr_stub_ %+ v:
  %if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21
	; the CPU pushed an error code
  %else
	push qword 0
  %endif
	push qword v
	jmp isr_common
%assign v v + 1
%endrep

; ---------------------------------------------------------------- common
; On entry: [rsp] = vector, [rsp+8] = error code, [rsp+16] = rip,
; [rsp+24] = cs, ... IF=0.
align 16
isr_common:
	test byte [rsp + 24], 3        ; from ring 3?
	jz .kernel_entry
	swapgs
.kernel_entry:
	TRAP_PUSH_GPRS
	cld                             ; the SysV ABI wants DF=0 at a call
	TRAP_CALL trap_dispatch
	TRAP_POP_GPRS
	add rsp, 16                     ; vector and error code
	test byte [rsp + 8], 3          ; returning to ring 3?
	jz .kernel_exit
	swapgs
.kernel_exit:
	iretq

; ---------------------------------------------------------------- table
; Address of each vector's stub, for idt.c.
section .rodata
global isr_stub_table
align 8
isr_stub_table:
%assign v 0
%rep 256
	dq isr_stub_ %+ v
%assign v v + 1
%endrep
