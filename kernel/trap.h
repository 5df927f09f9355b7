/*
 * trap.h - what every interrupt and exception entry leaves on the stack,
 * and the C entry point that receives it.
 *
 * Flow: IDT gate (kernel/arch/idt.c) -> per-vector stub in
 * kernel/arch/isr.asm (dummy error code where the CPU pushes none, then
 * the vector) -> isr_common (saves the general registers, swapgs if from
 * ring 3) -> trap_dispatch(tf) -> back in isr_common: restore, iretq.
 *
 * Every gate is an interrupt gate, so trap_dispatch() and everything it
 * calls start with IF=0 (SDM vol 3A 6.12.1.3). trap_dispatch() routes:
 *   vector 2            -> nmi_handle()          (kernel/nmi.c)
 *   vectors 0..31 other -> exception_handle()    (kernel/exceptions.c)
 *   vectors with a soft handler (trap_set_soft_handler, e.g. int 0x80)
 *                       -> that handler, no irq_enter/EOI
 *   everything else     -> irq_dispatch()        (kernel/irq.c)
 */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>
#include <stddef.h>

/*
 * The saved frame, lowest address first. This layout is written by
 * isr_common in kernel/arch/isr.asm and syscall_entry in
 * kernel/user/entry.asm, through the macros of kernel/arch/trap_frame.inc,
 * whose TF_* offsets must equal the ones below (asserted here):
 *
 *   r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax   (isr_common pushes)
 *   vector error_code                                          (the stub pushes)
 *   rip cs rflags rsp ss                                       (the CPU pushes, SDM vol 3A 6.14.2)
 *
 * error_code is the CPU's for vectors 8, 10-14, 17, 21 and 0 otherwise.
 * In 64-bit mode the CPU aligns RSP to 16 before pushing its five words,
 * and 5 + 2 + 15 words = 176 bytes keeps `tf` itself 16-byte aligned.
 * Handlers may change rip, rflags, rsp and the general registers: the
 * values in the frame are what iretq resumes with.
 */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define TF_R15     0
#define TF_RBP     64
#define TF_RAX     112
#define TF_VECTOR  120
#define TF_ERROR   128
#define TF_RIP     136
#define TF_CS      144
#define TF_RFLAGS  152
#define TF_RSP     160
#define TF_SS      168
#define TF_SIZE    176

_Static_assert(offsetof(struct trap_frame, r15) == TF_R15, "trap_frame.inc layout");
_Static_assert(offsetof(struct trap_frame, rbp) == TF_RBP, "trap_frame.inc layout");
_Static_assert(offsetof(struct trap_frame, rax) == TF_RAX, "trap_frame.inc layout");
_Static_assert(offsetof(struct trap_frame, vector) == TF_VECTOR, "trap_frame.inc layout");
_Static_assert(offsetof(struct trap_frame, error_code) == TF_ERROR, "trap_frame.inc layout");
_Static_assert(offsetof(struct trap_frame, rip) == TF_RIP, "trap_frame.inc layout");
_Static_assert(offsetof(struct trap_frame, cs) == TF_CS, "trap_frame.inc layout");
_Static_assert(offsetof(struct trap_frame, rflags) == TF_RFLAGS, "trap_frame.inc layout");
_Static_assert(offsetof(struct trap_frame, rsp) == TF_RSP, "trap_frame.inc layout");
_Static_assert(offsetof(struct trap_frame, ss) == TF_SS, "trap_frame.inc layout");
_Static_assert(sizeof(struct trap_frame) == TF_SIZE, "trap_frame.inc layout");
_Static_assert(TF_SIZE % 16 == 0, "frame keeps the stack 16-byte aligned for C");

static inline int trap_from_user(const struct trap_frame *tf)
{
	return (tf->cs & 3) != 0;
}

/* Called by isr_common for every vector, IF=0, on the interrupted stack
 * (or the IST stack for NMI, #DF, #MC). */
void trap_dispatch(struct trap_frame *tf);

/*
 * Builds the GDT/TSS and the IDT and loads them. Boot, IF=0, once, as early
 * as possible (right after the serial console), so that any later fault is
 * reported instead of triple-faulting.
 */
void trap_init(void);

/*
 * Routes a software-interrupt vector (e.g. 0x80 for system calls) to fn
 * with no irq_enter()/EOI, and sets the gate's DPL (3 lets ring 3 use
 * `int vector`). Returns 0, -EINVAL for vectors < 32 or 2, -EBUSY if the
 * vector already has a soft handler or an IRQ handler. Boot/task context.
 */
typedef void (*trap_handler_t)(struct trap_frame *tf);
int trap_set_soft_handler(unsigned vector, trap_handler_t fn, unsigned dpl);
/* Whether `vector` is routed to a soft handler (irq_request refuses it). */
int trap_vector_is_soft(unsigned vector);

/* The handlers trap_dispatch() calls (IF=0 in each):
 * nmi_handle in kernel/nmi.c, exception_handle in kernel/exceptions.c,
 * irq_dispatch in kernel/irq.c. */
void nmi_handle(struct trap_frame *tf);
void exception_handle(struct trap_frame *tf);
/* NMIs handled since boot. Any context. */
uint64_t nmi_count(void);

/*
 * What the trap path calls in the scheduler and the ring-3 code (declared
 * here, where their callers are; always linked in):
 *  - trap_user_exception(tf) (kernel/user/syscall.c): an exception from
 *    ring 3; returns 1 if it handled it (killed the task), 0 to report
 *    it as fatal. Called by exception_handle(), IF=0.
 *  - preempt_schedule_irq() (kernel/sched/sched.c): called on the way out
 *    of a hardware interrupt that interrupted kernel code with IF=1 and
 *    preempt_count() == 0 while need_resched() is set. IF=0 on entry and
 *    exit.
 *  - trap_return_to_user(tf) (kernel/user/syscall.c): the last thing
 *    trap_dispatch() does for every vector but NMI whose frame returns to
 *    ring 3: the scheduler's exit work (reschedule, a pending kill, the
 *    context trace's task -> user). IF=0, preempt_count 0.
 */
int trap_user_exception(struct trap_frame *tf);
void preempt_schedule_irq(void);
void trap_return_to_user(struct trap_frame *tf);

#endif
