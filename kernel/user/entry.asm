; entry.asm - the ways into and out of ring 3 that are ours (interrupts
; and exceptions from ring 3 use kernel/arch/isr.asm's common path).
;
;   user_enter(rip, rsp, arg)   first entry of a user task, with iretq
;   syscall_entry               the SYSCALL instruction's target (LSTAR),
;                               leaving with SYSRETQ (or iretq)
;
; GS: while the CPU is in ring 3, IA32_KERNEL_GS_BASE holds &cpu_area
; and GS_BASE the user's (0); SWAPGS on every entry from and exit to
; ring 3 exchanges them (SDM vol 2B SWAPGS), here and in isr.asm, so in
; the kernel GS_BASE = &cpu_area (kernel/user/user.h; offsets below).
; Only this file reads GS. Caveat: an NMI (or #MC/#DB) arriving between
; SYSCALL and its SWAPGS below runs with the user GS base; nothing the
; NMI path calls uses GS, so it is harmless here.
;
; syscall_entry builds the same struct trap_frame as isr_common, with
; the same macros (kernel/arch/trap_frame.inc; offsets asserted in
; kernel/trap.h): vector = SYSCALL_VECTOR (0x100, no real vector) and
; error_code used as the return-path flag syscall_dispatch() sets:
; 0 = SYSRETQ may be used, 1 = iretq.
;
; SYSCALL (SDM vol 2B): RCX = user RIP, R11 = user RFLAGS, CS/SS from
; STAR[47:32], RFLAGS &= ~IA32_FMASK (IF, TF, DF, AC cleared: see
; syscall.c), RSP unchanged (still the user's: we must switch).
; SYSRETQ: RIP = RCX, RFLAGS = R11, CS = STAR[63:48]+16 | 3, SS = +8.
; SYSRET with a non-canonical RCX faults in ring 0 on Intel CPUs with
; the user RSP already loaded; syscall_dispatch() sends such returns
; (and any frame a syscall changed beyond rax) through iretq instead.

bits 64
default rel

%define GDT_USER_DS     0x23
%define GDT_USER_CS     0x2b
%define CPU_KERNEL_RSP  8
%define CPU_USER_RSP    16
%define SYSCALL_VECTOR  0x100

%include "arch/trap_frame.inc"

extern syscall_dispatch

section .text

; void user_enter(uint64_t rip, uint64_t rsp, uint64_t arg)
; IF may be anything; we clear it: the swapgs-iretq pair must not be
; interrupted (an interrupt in between would run with the user GS base).
global user_enter
align 16
user_enter:
	cli
	push qword GDT_USER_DS          ; ss
	push rsi                        ; rsp
	push qword 0x202                ; rflags: IF=1, bit 1 is always 1
	push qword GDT_USER_CS          ; cs
	push rdi                        ; rip
	mov rdi, rdx                    ; the program's argument
	; no kernel value may leak into ring 3
	xor eax, eax
	xor ebx, ebx
	xor ecx, ecx
	xor edx, edx
	xor esi, esi
	xor ebp, ebp
	xor r8d, r8d
	xor r9d, r9d
	xor r10d, r10d
	xor r11d, r11d
	xor r12d, r12d
	xor r13d, r13d
	xor r14d, r14d
	xor r15d, r15d
	swapgs
	iretq

global syscall_entry
align 16
syscall_entry:
	swapgs
	mov [gs:CPU_USER_RSP], rsp
	mov rsp, [gs:CPU_KERNEL_RSP]
	push qword GDT_USER_DS          ; ss
	push qword [gs:CPU_USER_RSP]    ; rsp
	push r11                        ; rflags
	push qword GDT_USER_CS          ; cs
	push rcx                        ; rip
	push qword 0                    ; error_code: return-path flag
	push qword SYSCALL_VECTOR       ; vector
	TRAP_PUSH_GPRS
	TRAP_CALL syscall_dispatch      ; IF=0 on return
	TRAP_POP_GPRS
	cmp qword [rsp + 8], 0          ; error_code slot: 1 = use iretq
	jne .iret
	add rsp, 16
	mov rcx, [rsp]                  ; rip
	mov r11, [rsp + 16]             ; rflags
	mov rsp, [rsp + 24]             ; user rsp: no stack access after this
	swapgs
	o64 sysret
.iret:
	add rsp, 16
	swapgs
	iretq
