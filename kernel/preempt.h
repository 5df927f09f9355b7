/*
 * preempt.h - preempt_count: one word that says which context the CPU is
 * in, with the same fields as Linux (include/linux/preempt.h):
 *
 *   bits  0-7   PREEMPT  preempt_disable() depth (spinlocks later)
 *   bits  8-15  SOFTIRQ  bit 8 = serving a softirq (SOFTIRQ_OFFSET);
 *                        local_bh_disable() adds 2 * SOFTIRQ_OFFSET, so
 *                        "softirqs disabled" and "running a softirq" are
 *                        told apart by bit 8
 *   bits 16-19  HARDIRQ  hard-IRQ nesting depth (irq_enter/irq_exit; an
 *                        NMI also adds one)
 *   bits 20-23  NMI      NMI nesting depth (nmi_enter/nmi_exit)
 *
 * One CPU, so the word is a plain global. A read-modify-write of it need
 * not be atomic against interrupts: every interrupt that changes it puts
 * it back before returning, so an interrupted += sees the same value
 * afterwards. The compiler barrier keeps the update where the source puts
 * it relative to the code it protects.
 *
 * The predicates on a given value (pc_*) are pure and host-tested
 * (tests/unit/test_preempt.c); the ones without prefix read the live word.
 * Context: everything here may be used in any context, including NMI.
 */
#ifndef KERNEL_PREEMPT_H
#define KERNEL_PREEMPT_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/panic.h"
#include "kernel/trace.h"   /* ctx_sync: context-trace hooks below */

#ifndef barrier
#define barrier() __asm__ volatile("" ::: "memory")
#endif

#define PREEMPT_BITS   8
#define SOFTIRQ_BITS   8
#define HARDIRQ_BITS   4
#define NMI_BITS       4

#define PREEMPT_SHIFT  0
#define SOFTIRQ_SHIFT  (PREEMPT_SHIFT + PREEMPT_BITS)   /* 8 */
#define HARDIRQ_SHIFT  (SOFTIRQ_SHIFT + SOFTIRQ_BITS)   /* 16 */
#define NMI_SHIFT      (HARDIRQ_SHIFT + HARDIRQ_BITS)   /* 20 */

#define __PC_FIELD(bits, shift) ((((1u << (bits)) - 1)) << (shift))
#define PREEMPT_MASK   __PC_FIELD(PREEMPT_BITS, PREEMPT_SHIFT)  /* 0x000000ff */
#define SOFTIRQ_MASK   __PC_FIELD(SOFTIRQ_BITS, SOFTIRQ_SHIFT)  /* 0x0000ff00 */
#define HARDIRQ_MASK   __PC_FIELD(HARDIRQ_BITS, HARDIRQ_SHIFT)  /* 0x000f0000 */
#define NMI_MASK       __PC_FIELD(NMI_BITS, NMI_SHIFT)          /* 0x00f00000 */

#define PREEMPT_OFFSET (1u << PREEMPT_SHIFT)
#define SOFTIRQ_OFFSET (1u << SOFTIRQ_SHIFT)
#define HARDIRQ_OFFSET (1u << HARDIRQ_SHIFT)
#define NMI_OFFSET     (1u << NMI_SHIFT)
#define SOFTIRQ_DISABLE_OFFSET (2 * SOFTIRQ_OFFSET)

/* ---- pure field arithmetic on a preempt_count value ------------------ */

static inline unsigned pc_preempt(unsigned pc)  { return pc & PREEMPT_MASK; }
static inline unsigned pc_softirq(unsigned pc)  { return pc & SOFTIRQ_MASK; }
static inline unsigned pc_hardirq(unsigned pc)  { return pc & HARDIRQ_MASK; }
static inline unsigned pc_nmi(unsigned pc)      { return pc & NMI_MASK; }
/* Hard-IRQ nesting depth (an NMI counts as one level too). */
static inline unsigned pc_hardirq_depth(unsigned pc) { return pc_hardirq(pc) >> HARDIRQ_SHIFT; }
static inline unsigned pc_nmi_depth(unsigned pc)     { return pc_nmi(pc) >> NMI_SHIFT; }
/* Softirq-disable depth: local_bh_disable() nesting, not counting the
 * serving bit. */
static inline unsigned pc_bh_disable_depth(unsigned pc)
{
	return pc_softirq(pc) >> (SOFTIRQ_SHIFT + 1);
}

static inline bool pc_in_hardirq(unsigned pc)         { return pc_hardirq(pc) != 0; }
/* In a softirq or with softirqs disabled (Linux's in_softirq()). */
static inline bool pc_in_softirq(unsigned pc)         { return pc_softirq(pc) != 0; }
/* Actually running a softirq handler. */
static inline bool pc_in_serving_softirq(unsigned pc) { return (pc & SOFTIRQ_OFFSET) != 0; }
static inline bool pc_in_nmi(unsigned pc)             { return pc_nmi(pc) != 0; }
/* Hard IRQ, NMI, softirq, or softirqs disabled. */
static inline bool pc_in_interrupt(unsigned pc)
{
	return (pc & (HARDIRQ_MASK | SOFTIRQ_MASK | NMI_MASK)) != 0;
}
/* Anything but plain task context: preemption off in any way. */
static inline bool pc_in_atomic(unsigned pc)          { return pc != 0; }
/* Task context: not in NMI, hard IRQ or a running softirq (bh may be off). */
static inline bool pc_in_task(unsigned pc)
{
	return !(pc & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET));
}

/* The innermost context as a word, for traces and reports:
 * "nmi", "hardirq", "softirq", "atomic" or "task". */
static inline const char *pc_context_name(unsigned pc)
{
	if (pc_in_nmi(pc))
		return "nmi";
	if (pc_in_hardirq(pc))
		return "hardirq";
	if (pc_in_serving_softirq(pc))
		return "softirq";
	if (pc_in_atomic(pc))
		return "atomic";
	return "task";
}

/* ---- the live word --------------------------------------------------- */

extern unsigned int preempt_count_word;
extern volatile int need_resched_flag;

static inline unsigned preempt_count(void)
{
	return *(volatile unsigned int *)&preempt_count_word;
}

static inline void preempt_count_add(unsigned v)
{
	barrier();
	preempt_count_word += v;
	barrier();
}

static inline void preempt_count_sub(unsigned v)
{
	barrier();
	preempt_count_word -= v;
	barrier();
}

#define in_irq()              pc_in_hardirq(preempt_count())
#define in_hardirq()          pc_in_hardirq(preempt_count())
#define in_softirq()          pc_in_softirq(preempt_count())
#define in_serving_softirq()  pc_in_serving_softirq(preempt_count())
#define in_interrupt()        pc_in_interrupt(preempt_count())
#define in_nmi()              pc_in_nmi(preempt_count())
#define in_atomic()           pc_in_atomic(preempt_count())
#define in_task()             pc_in_task(preempt_count())
#define hardirq_depth()       pc_hardirq_depth(preempt_count())

/*
 * need_resched: set by the scheduler's tick (or a wake-up) when the current
 * task should give up the CPU, checked by preempt_enable() and on return
 * from interrupts. One CPU, one flag. Any context.
 */
static inline bool need_resched(void)     { return need_resched_flag != 0; }
static inline void set_need_resched(void) { need_resched_flag = 1; }
static inline void clear_need_resched(void) { need_resched_flag = 0; }

/*
 * Called by preempt_enable() when the count drops to 0 with need_resched
 * set. The scheduler's (kernel/sched/sched.c); it returns at once if IF=0.
 */
void preempt_schedule(void);
/* Reports preempt_enable() without a matching preempt_disable(). */
void preempt_count_underflow(void);

static inline void preempt_disable(void)
{
	preempt_count_add(PREEMPT_OFFSET);
	ctx_sync(TC_PREEMPT_DISABLE);   /* context trace: task -> atomic */
}

/* Same, without the reschedule check (for code that is about to call the
 * scheduler itself). */
static inline void preempt_enable_no_resched(void)
{
	if (__builtin_expect(pc_preempt(preempt_count()) == 0, 0)) {
		preempt_count_underflow();
		return;
	}
	preempt_count_sub(PREEMPT_OFFSET);
}

static inline void preempt_enable(void)
{
	preempt_enable_no_resched();
	ctx_sync(TC_PREEMPT_ENABLE);    /* context trace: atomic -> task */
	if (__builtin_expect(preempt_count() == 0 && need_resched(), 0))
		preempt_schedule();
}

/*
 * NMI entry/exit (kernel/nmi.c calls them around its work): NMI depth and
 * hard-IRQ depth both go up, as in Linux, so in_irq() and in_interrupt()
 * are true in an NMI. Any context; IF is 0 by construction.
 */
static inline void nmi_enter(void)
{
	BUG_ON(pc_nmi(preempt_count()) == NMI_MASK);   /* 15 nested NMIs: broken */
	preempt_count_add(NMI_OFFSET + HARDIRQ_OFFSET);
	ctx_transition(CTX_NMI, TC_NMI, 0); /* context trace */
}

static inline void nmi_exit(void)
{
	BUG_ON(!in_nmi());
	preempt_count_sub(NMI_OFFSET + HARDIRQ_OFFSET);
	ctx_nmi_exit();                 /* context trace: back to what the NMI interrupted */
}

/*
 * Softirqs off for this CPU until local_bh_enable(); nests. Task or
 * softirq context. local_bh_enable() runs softirqs that were raised
 * meanwhile (kernel/softirq.c), so it must be called with IF=1.
 */
static inline void local_bh_disable(void)
{
	preempt_count_add(SOFTIRQ_DISABLE_OFFSET);
	ctx_sync(TC_BH_DISABLE);        /* context trace: task -> atomic */
}
void local_bh_enable(void);

/* irq_enter()/irq_exit(): around every hardware interrupt handler
 * (kernel/irq.c), in kernel/softirq.c because irq_exit() runs softirqs. */
void irq_enter(void);
void irq_exit(void);

#endif
