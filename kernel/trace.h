/*
 * trace.h - which context the CPU is in, every change of it, and a
 * per-CPU ring buffer recording those changes: (TSC, from, to, cause).
 *
 * Contexts (the notes in ../shared/seeds/README.md):
 *   TASK     kernel code on behalf of a task, preemptible (preempt_count 0)
 *   ATOMIC   task code with preemption or bottom halves disabled
 *            (preempt_count != 0 outside IRQ/softirq/NMI); interrupts may
 *            still arrive. IF=0 alone is not tracked as ATOMIC: it is
 *            too frequent and brief (every irqsave section) to be useful.
 *   SOFTIRQ  a softirq handler running (SOFTIRQ_OFFSET set), IF=1
 *   IRQ      a hard-IRQ handler (irq_enter .. irq_exit), IF=0
 *   NMI      an NMI handler
 *   USER     ring 3
 *
 * How the current context is kept: one variable per CPU, changed only by
 * the hooks below, which sit where the kernel really changes context:
 *   irq_dispatch()            -> IRQ  (cause irq, arg = vector)
 *   irq_dispatch() after irq_exit()  -> whatever preempt_count now says
 *                                       (cause irq_exit)
 *   __do_softirq() start/end  -> SOFTIRQ / back   (softirq_start/_end)
 *   preempt_disable/enable, local_bh_disable -> ATOMIC / TASK
 *   nmi_enter/nmi_exit        -> NMI / back to what it interrupted
 *   syscall entry, int 0x80, exception from ring 3 -> TASK
 *   return to ring 3 (iretq or sysretq)           -> USER
 *   context switch            -> TASK (task -> task; arg = next pid)
 * Kernel-side targets are derived from preempt_count (ctx_sync), so the
 * hooks cannot disagree with in_irq() & co.
 *
 * The notes' diagram lists the transitions to expect. A few more happen
 * and are recorded as they are, not folded into the listed ones:
 *   irq -> atomic      an interrupt returns into a preempt_disable() section
 *   task -> softirq    ksoftirqd (or do_softirq() from a task) runs softirqs
 *   atomic -> softirq, softirq -> atomic   local_bh_enable() runs pending
 *                      softirqs while it still holds preemption off
 *   x -> nmi, nmi -> x an NMI arrives anywhere and returns there
 * schedule() is itself a short preempt-off section: an interrupt landing
 * in its IF=1 windows returns as irq -> atomic, and the switch that
 * follows is then recorded as atomic -> task (schedule).
 * A return from an interrupt to user mode is always irq -> task
 * (irq_exit, the exit path runs in the task's kernel context and may
 * reschedule) followed by task -> user (iret); irq -> user never happens.
 *
 * Accounting: every change charges the TSC cycles since the previous one
 * to the context being left (per CPU), and for TASK/ATOMIC/USER also to
 * the current task (sched_charge()).
 *
 * Context: every function may be called in any context, NMI included
 * (the ring index is advanced with one atomic instruction; the rest runs
 * with IF=0).
 */
#ifndef KERNEL_TRACE_H
#define KERNEL_TRACE_H

#include <stdint.h>
#include <stdbool.h>

enum ctx {
	CTX_TASK,      /* 0: what the boot CPU is in before anything else */
	CTX_ATOMIC,
	CTX_SOFTIRQ,
	CTX_IRQ,
	CTX_NMI,
	CTX_USER,
	NR_CTX
};

enum trace_cause {
	TC_NONE,
	TC_SYSCALL,          /* user -> task: the syscall instruction */
	TC_INT80,            /* user -> task: int 0x80 */
	TC_EXCEPTION,        /* user -> task: fault or trap in ring 3 */
	TC_IRQ,              /* -> irq: hardware interrupt (arg = vector) */
	TC_NMI,              /* -> nmi */
	TC_IRET,             /* task -> user: iretq */
	TC_SYSRET,           /* task -> user: sysretq */
	TC_IRQ_EXIT,         /* irq -> what it interrupted (irq_exit) */
	TC_NMI_EXIT,         /* nmi -> what it interrupted */
	TC_SOFTIRQ_START,    /* -> softirq (__do_softirq) */
	TC_SOFTIRQ_END,      /* softirq -> what ran it */
	TC_SCHEDULE,         /* task -> task: schedule() (sleep, yield, exit) */
	TC_PREEMPT,          /* task -> task: forced, need_resched on irq return
	                        or at preempt_enable() */
	TC_PREEMPT_DISABLE,  /* task -> atomic */
	TC_PREEMPT_ENABLE,   /* atomic -> task */
	TC_BH_DISABLE,       /* task -> atomic: local_bh_disable() */
	NR_TRACE_CAUSES
};

/* One record: 16 bytes. */
struct trace_entry {
	uint64_t tsc;
	uint8_t from, to, cause, cpu;
	uint16_t pid;        /* task current after the change */
	uint16_t arg;        /* vector, syscall number, next pid, ... */
};
_Static_assert(sizeof(struct trace_entry) == 16, "trace entry is 16 bytes (gdb helper reads it)");

#define TRACE_RING_ENTRIES 4096   /* power of two: index = seq & (N - 1) */

#ifdef HOST_TEST
/* Host unit tests that compile kernel files including preempt.h get no
 * tracing. */
static inline void ctx_transition(enum ctx to, enum trace_cause cause, unsigned arg) {}
static inline void ctx_sync(enum trace_cause cause) {}
static inline void ctx_nmi_exit(void) {}
#else
/* The CPU enters context `to` now, for `cause`. */
void ctx_transition(enum ctx to, enum trace_cause cause, unsigned arg);
/* Kernel side: enters the context preempt_count() names (TASK, ATOMIC,
 * SOFTIRQ, IRQ, NMI) if that differs from the current one; nothing if
 * the CPU is (still) marked USER. */
void ctx_sync(enum trace_cause cause);
/* Back to the context the NMI interrupted. */
void ctx_nmi_exit(void);
#endif

/* The context preempt_count value pc names (never USER). */
enum ctx ctx_of_preempt_count(unsigned pc);

const char *ctx_name(enum ctx c);            /* "task", "user", ... */

/* Recording on/off and reset (the ring and the transition counts). Task
 * context. Recording is off at boot. */
void trace_start(void);
void trace_stop(void);
void trace_clear(void);

/* Transition counts while recording, by (from, to, cause). */
uint64_t trace_count(enum ctx from, enum ctx to, enum trace_cause cause);

/* Writes the transition summary as JSON members into an open object:
 * "transitions": {"task->irq": {"count": n, "causes": {"irq": n}}, ...}.
 * Used by `trace summary` and `contexts`. */
struct json;
void trace_summary_json(struct json *j);

#endif
