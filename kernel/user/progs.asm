; progs.asm - the built-in user programs, as position-independent code
; blobs. Each program lies between user_prog_<name> and
; user_prog_<name>_end; kernel/user/progs.c lists them and user_spawn()
; copies the bytes to USER_CODE in a fresh address space, where they run
; in ring 3. The blobs sit in the kernel's rodata (never executed there).
;
; Why nasm and not C: C compiled with the kernel's flags (-fno-pic,
; mcmodel small) materialises addresses of string literals as absolute
; 32-bit immediates of their *kernel* link address, which means nothing
; at USER_CODE; building a separate PIE and a loader would need a
; Makefile of its own. Here every reference is RIP-relative (default
; rel) or a fixed user address, so a blob runs wherever it is copied.
;
; Conventions: entry at the blob's first byte, rdi = argument (from
; `run <prog> [arg]`), rsp = USER_STACK_TOP. Programs keep their state in
; rbx, rbp, r12-r15; the helpers below clobber rax, rcx, rdx, rsi, rdi,
; r8-r11 (SYSCALL itself overwrites rcx and r11). General registers only:
; no FPU/SSE state is switched between tasks.
;
; Syscall numbers and the layout constants: kernel/user/syscall.h and
; kernel/user/user.h (keep in step).

bits 64
default rel

%define SYS_WRITE   0
%define SYS_GETPID  1
%define SYS_YIELD   2
%define SYS_SLEEP   3
%define SYS_EXIT    4
%define SYS_CLOCK   5

%define USER_BASE       0x0000040000000000
%define USER_SHARED     (USER_BASE + 0x600000)
%define USER_HOLE       (USER_BASE + 0x700000)
%define KERNEL_ADDR     0x1000000           ; kernel RAM, identity-mapped, supervisor-only

; ---------------------------------------------------------------- helpers
; ULIB p: emits p_puts (rsi = NUL-terminated string), p_putdec (rax,
; signed decimal), p_puthex (rax, 0x...), each writing to fd 1 with the
; syscall instruction.
%macro ULIB 1
%1_puts:
	mov rdx, rsi
.len:
	cmp byte [rdx], 0
	je .done
	inc rdx
	jmp .len
.done:
	sub rdx, rsi
	mov edi, 1
	mov eax, SYS_WRITE
	syscall
	ret

%1_putdec:
	push rbx
	sub rsp, 32
	lea r8, [rsp + 32]          ; one past the last digit
	mov r9, r8
	xor r10d, r10d
	test rax, rax
	jns .pos
	neg rax
	mov r10d, 1
.pos:
	mov ebx, 10
.digit:
	xor edx, edx
	div rbx
	add dl, '0'
	dec r9
	mov [r9], dl
	test rax, rax
	jnz .digit
	test r10d, r10d
	jz .emit
	dec r9
	mov byte [r9], '-'
.emit:
	mov rsi, r9
	mov rdx, r8
	sub rdx, r9
	mov edi, 1
	mov eax, SYS_WRITE
	syscall
	add rsp, 32
	pop rbx
	ret

%1_puthex:
	sub rsp, 32
	lea r8, [rsp + 32]
	mov r9, r8
.nib:
	mov edx, eax
	and edx, 15
	cmp edx, 10
	jb .dec
	add edx, 'a' - 10 - '0'
.dec:
	add edx, '0'
	dec r9
	mov [r9], dl
	shr rax, 4
	jnz .nib
	dec r9
	mov byte [r9], 'x'
	dec r9
	mov byte [r9], '0'
	mov rsi, r9
	mov rdx, r8
	sub rdx, r9
	mov edi, 1
	mov eax, SYS_WRITE
	syscall
	add rsp, 32
	ret
%endmacro

; PUTS p, "text": prints a literal (stored inline, jumped over).
%macro PUTS 2
	jmp %%after
%%str:	db %2, 0
%%after:
	lea rsi, [rel %%str]
	call %1_puts
%endmacro

%macro PUTDEC 2
	mov rax, %2
	call %1_putdec
%endmacro

%macro EXIT 1
	mov edi, %1
	mov eax, SYS_EXIT
	syscall
	ud2                         ; exit does not return
%endmacro

section .rodata.user progbits alloc noexec nowrite align=16

; ---------------------------------------------------------------- hello
; Uses both system call paths and prints what each returned:
;   hello: syscall write=30 getpid=<pid> clock_ns=<ns>
;   hello: int80 write=31 getpid=<pid> enosys=-38
;   hello: cs=0x2b
global user_prog_hello, user_prog_hello_end
align 16
user_prog_hello:
	lea rsi, [rel .m1]
	mov edx, .m1_len
	mov edi, 1
	mov eax, SYS_WRITE
	syscall
	mov r12, rax
	mov eax, SYS_GETPID
	syscall
	mov r13, rax
	mov eax, SYS_CLOCK
	syscall
	mov r14, rax
	lea rsi, [rel .m2]
	mov edx, .m2_len
	mov edi, 1
	mov eax, SYS_WRITE
	int 0x80
	mov r15, rax
	mov eax, SYS_GETPID
	int 0x80
	mov rbx, rax
	mov eax, 99                 ; no such call
	int 0x80
	mov rbp, rax
	PUTS hello, "hello: syscall write="
	PUTDEC hello, r12
	PUTS hello, " getpid="
	PUTDEC hello, r13
	PUTS hello, " clock_ns="
	PUTDEC hello, r14
	PUTS hello, {10, "hello: int80 write="}
	PUTDEC hello, r15
	PUTS hello, " getpid="
	PUTDEC hello, rbx
	PUTS hello, " enosys="
	PUTDEC hello, rbp
	PUTS hello, {10, "hello: cs="}
	mov eax, cs
	call hello_puthex
	PUTS hello, {" (CPL 3)", 10}
	EXIT 0
.m1:	db "hello from ring 3 via syscall", 10
.m1_len equ $ - .m1
.m2:	db "hello from ring 3 via int 0x80", 10
.m2_len equ $ - .m2
	ULIB hello
user_prog_hello_end:

; ---------------------------------------------------------------- spin
; Busy loop. Every iteration adds one to the counter at USER_SHARED
; (the kernel reads it: `ps` progress, stats sched.tasks[].progress).
; arg = run time in ms (0: forever, until `kill`); with a limit it looks
; at the clock every 65536 iterations and at the end prints
;   spin: <iterations> iterations in <ns> ns
global user_prog_spin, user_prog_spin_end
align 16
user_prog_spin:
	mov r15, rdi                ; ms, 0 = forever
	mov rbx, USER_SHARED
	xor r12d, r12d              ; iterations
	imul r13, r15, 1000000      ; limit in ns
	mov eax, SYS_CLOCK
	syscall
	mov r14, rax                ; start
.loop:
	inc qword [rbx]
	inc r12
	test r12d, 0xffff
	jnz .loop
	test r15, r15
	jz .loop
	mov eax, SYS_CLOCK
	syscall
	sub rax, r14
	cmp rax, r13
	jb .loop
	mov rbp, rax
	PUTS spin, "spin: "
	PUTDEC spin, r12
	PUTS spin, " iterations in "
	PUTDEC spin, rbp
	PUTS spin, {" ns", 10}
	EXIT 0
	ULIB spin
user_prog_spin_end:

; ---------------------------------------------------------------- badptr
; Hands write() pointers it must refuse, on both paths, and prints each
; result (-14 = -EFAULT expected everywhere):
;   kernel    0x1000000, kernel RAM (identity map): outside the user region
;   unmapped  USER_HOLE: inside the region, never mapped (the copy
;             faults and the exception table recovers)
;   partial   the last 8 bytes of the shared page + 8 unmapped bytes
;   wrap      0xfffffffffffffff0, 32 bytes: the range wraps around
global user_prog_badptr, user_prog_badptr_end
align 16
user_prog_badptr:
	mov edi, 1
	mov rsi, KERNEL_ADDR
	mov edx, 16
	mov eax, SYS_WRITE
	syscall
	mov r12, rax
	mov edi, 1
	mov rsi, USER_HOLE
	mov edx, 16
	mov eax, SYS_WRITE
	syscall
	mov r13, rax
	mov edi, 1
	mov rsi, KERNEL_ADDR
	mov edx, 16
	mov eax, SYS_WRITE
	int 0x80
	mov r14, rax
	mov edi, 1
	mov rsi, USER_HOLE
	mov edx, 16
	mov eax, SYS_WRITE
	int 0x80
	mov r15, rax
	mov edi, 1
	mov rsi, USER_SHARED + 4096 - 8
	mov edx, 16
	mov eax, SYS_WRITE
	syscall
	mov rbx, rax
	mov edi, 1
	mov rsi, 0xfffffffffffffff0
	mov edx, 32
	mov eax, SYS_WRITE
	syscall
	mov rbp, rax
	PUTS badptr, "badptr: syscall kernel="
	PUTDEC badptr, r12
	PUTS badptr, " unmapped="
	PUTDEC badptr, r13
	PUTS badptr, {10, "badptr: int80 kernel="}
	PUTDEC badptr, r14
	PUTS badptr, " unmapped="
	PUTDEC badptr, r15
	PUTS badptr, {10, "badptr: partial="}
	PUTDEC badptr, rbx
	PUTS badptr, " wrap="
	PUTDEC badptr, rbp
	PUTS badptr, {10, "badptr: still running", 10}
	EXIT 0
	ULIB badptr
user_prog_badptr_end:

; ---------------------------------------------------------------- crash
; Faults on purpose; the kernel must kill it and carry on.
;   arg 0 ud2 (#UD)            1 read of address 0 (#PF, not present)
;   arg 2 write to the kernel image (#PF, protection: supervisor page)
;   arg 3 cli in ring 3 (#GP: IOPL 0)   4 divide by zero (#DE)
;   arg 5 int3 (#BP, a trap: the task continues and exits 0)
;   arg 6 unbounded recursion into the stack guard page (#PF)
global user_prog_crash, user_prog_crash_end
align 16
user_prog_crash:
	mov r12, rdi
	PUTS crash, "crash: kind "
	PUTDEC crash, r12
	PUTS crash, {10}
	cmp r12, 0
	je .ud
	cmp r12, 1
	je .null
	cmp r12, 2
	je .kwrite
	cmp r12, 3
	je .gp
	cmp r12, 4
	je .de
	cmp r12, 5
	je .bp
	cmp r12, 6
	je .deep
	PUTS crash, {"crash: unknown kind", 10}
	EXIT 1
.ud:
	ud2
.null:
	xor eax, eax
	mov rax, [rax]
	EXIT 2
.kwrite:
	mov rax, KERNEL_ADDR
	mov qword [rax], 0
	EXIT 2
.gp:
	cli
	EXIT 2
.de:
	xor ecx, ecx
	mov eax, 1
	xor edx, edx
	div ecx
	EXIT 2
.bp:
	int3
	PUTS crash, {"crash: after int3, still running", 10}
	EXIT 0
.deep:
	call .deep
	ULIB crash
user_prog_crash_end:

; ---------------------------------------------------------------- sleeper
; Sleeps 20 ms arg times (default 3) and prints the clock after each:
;   sleeper: tick <i> clock_ns=<ns>
global user_prog_sleeper, user_prog_sleeper_end
align 16
user_prog_sleeper:
	mov r12, rdi
	test r12, r12
	jnz .go
	mov r12d, 3
.go:
	xor r13d, r13d
.again:
	mov edi, 20
	mov eax, SYS_SLEEP
	syscall
	inc r13
	mov eax, SYS_CLOCK
	int 0x80
	mov r14, rax
	PUTS sleeper, "sleeper: tick "
	PUTDEC sleeper, r13
	PUTS sleeper, " clock_ns="
	PUTDEC sleeper, r14
	PUTS sleeper, {10}
	cmp r13, r12
	jb .again
	EXIT 0
	ULIB sleeper
user_prog_sleeper_end:

; ---------------------------------------------------------------- yielder
; Calls yield() arg times (default 100) and exits with 0: voluntary
; task -> task switches asked for from ring 3. Prints
;   yielder: <n> yields
global user_prog_yielder, user_prog_yielder_end
align 16
user_prog_yielder:
	mov r12, rdi
	test r12, r12
	jnz .go
	mov r12d, 100
.go:
	xor r13d, r13d
.again:
	mov eax, SYS_YIELD
	syscall
	inc r13
	cmp r13, r12
	jb .again
	PUTS yielder, "yielder: "
	PUTDEC yielder, r13
	PUTS yielder, {" yields", 10}
	EXIT 0
	ULIB yielder
user_prog_yielder_end:
