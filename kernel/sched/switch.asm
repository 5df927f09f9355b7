; switch.asm - context_switch(): the moment one task stops and another
; goes on, and the first instructions of a new task.
;
; struct task *context_switch(struct task *prev, struct task *next)
;   rdi = prev, rsi = next (kernel/sched/task.h: task->rsp at offset 0,
;   asserted there with _Static_assert).
;   Called by __schedule() (kernel/sched/sched.c) with IF=0 and
;   preempt_count == PREEMPT_OFFSET: nothing may interrupt the stack
;   change, so the switch is atomic.
;
; Only what the SysV ABI makes callee-saved needs saving: rbx, rbp,
; r12-r15 and rsp. The caller (__schedule, compiled C) already assumes
; every other general register is clobbered by the call, rip is the
; return address on the stack, and RFLAGS.IF is restored by __schedule's
; own local_irq_restore(). No FPU/SSE state: the kernel is built with
; -mgeneral-regs-only and user programs use general registers only.
;
; Saved layout on a switched-out task's stack (task->rsp points at r15):
;
;   rsp+0   r15
;   rsp+8   r14
;   rsp+16  r13
;   rsp+24  r12
;   rsp+32  rbx
;   rsp+40  rbp
;   rsp+48  return address (into __schedule, or task_entry_trampoline)
;
; task_alloc() (kernel/sched/task.c) writes the same layout on a new
; stack with the return address = task_entry_trampoline and r12 = the
; task, so the first switch into a task needs no special case.
;
; The return value (rax) is prev, the task that ran just before *as seen
; by the task that resumes*: rdi still holds the argument of the call
; that switched away from it, which is the one that switched to us. The
; resuming side needs it to free a dead predecessor's stack.

bits 64
default rel

%define TASK_RSP_OFFSET 0

extern sched_task_start
extern task_run_fn

section .text

global context_switch
align 16
context_switch:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov [rdi + TASK_RSP_OFFSET], rsp   ; prev's stack is now frozen
	mov rsp, [rsi + TASK_RSP_OFFSET]   ; from here on we are next
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	mov rax, rdi
	ret

; A new task starts here, "returned to" by context_switch with rax = the
; previous task, r12 = this task, IF=0, preempt_count = PREEMPT_OFFSET.
; rsp is 16-byte aligned (task_alloc left two zero words above), as a
; call requires.
global task_entry_trampoline
align 16
task_entry_trampoline:
	mov rdi, rax
	call sched_task_start          ; reap prev, preempt_count 0, IF=1
	mov rdi, r12
	call task_run_fn               ; fn(arg), then task_exit(): never returns
	ud2
