/*
 * sched.h - the scheduler: round-robin with time slices, voluntary
 * sleep/wake-up and forced preemption.
 *
 * Rules:
 *  - schedule() is called in task context only. It takes preemption off,
 *    then interrupts off, picks the next task and switches (switch.asm),
 *    and undoes both when this task runs again. Called with preemption
 *    or bottom halves disabled, or in IRQ/softirq context, it prints
 *    "BUG: scheduling while atomic" with a backtrace and returns without
 *    switching (the caller continues; a hang would hide the bug).
 *  - Forced preemption: the timer tick (sched_tick) sets need_resched
 *    when the running task's slice (timeslice_ms=, default 10 ms) is
 *    used up and another task waits. It is acted on
 *      * on the way out of a hardware interrupt that interrupted kernel
 *        code with IF=1 and preempt_count 0 (irq.c -> preempt_schedule_irq),
 *      * on the way back to ring 3 (syscall and interrupt returns,
 *        kernel/user/ -> sched_return_to_user),
 *      * at the preempt_enable() that ends a preempt_disable() section
 *        (preempt_schedule).
 *    Inside preempt_disable() the flag only waits.
 *  - might_sleep(): every sleeping function starts with it. Outside task
 *    context (preempt_count != 0, or IF=0) it prints
 *    "BUG: sleeping function called from invalid context at FILE:LINE"
 *    with preempt_count decoded and a backtrace, counts it, and the
 *    sleeping function returns at once without sleeping: the caller
 *    continues (in hard-IRQ context there is no task to kill, and the
 *    shell must keep answering).
 */
#ifndef KERNEL_SCHED_SCHED_H
#define KERNEL_SCHED_SCHED_H

#include <stdint.h>
#include <stdbool.h>
#include "kernel/cpu.h"
#include "kernel/sched/task.h"

/* Why a task left the CPU (task->nr_* counters, the trace's cause). */
enum sched_reason {
	SCHED_VOLUNTARY,       /* schedule(): sleep, yield, exit */
	SCHED_PREEMPT_IRQ,     /* need_resched on the way out of an interrupt
	                          that interrupted kernel code */
	SCHED_PREEMPT_USER,    /* need_resched on the way back to ring 3 */
	SCHED_PREEMPT_ENABLE,  /* need_resched at preempt_enable() */
};

void schedule(void);
/* Gives the CPU to the next runnable task, if any; this one stays
 * runnable (at the tail). Task context. */
void yield(void);

/* Marks t runnable and queues it. Returns whether it was sleeping.
 * Any context but NMI (IF saved and restored). */
bool wake_up_process(struct task *t);

/* set_current_state(): the state schedule() will leave the task in.
 * TASK_SLEEPING before testing the wake-up condition, then schedule():
 * a wake-up between the test and schedule() sets it back to RUNNING, so
 * schedule() returns at once instead of losing the wake-up. */
#define set_current_state(s) do { current->state = (s); barrier(); } while (0)
#define __set_current_state(s) do { current->state = (s); } while (0)

/* Sleeps until jiffies >= deadline or an earlier wake_up_process().
 * Returns the ticks left (0 on timeout). Call after set_current_state(
 * TASK_SLEEPING). Task context. */
uint64_t schedule_timeout(uint64_t ticks);

/* Sleeps at least ms milliseconds (rounded up to ticks). Task context;
 * in atomic context it reports the BUG (might_sleep) and returns. */
void msleep(unsigned ms);

bool __might_sleep(const char *file, int line);
#define might_sleep() __might_sleep(__FILE__, __LINE__)
/* Times might_sleep() caught a bad caller. */
extern uint64_t sched_sleep_bugs;
extern uint64_t sched_atomic_bugs;

/* Timer tick hook (hard IRQ): slices and timed sleepers. */
void sched_tick(void);

/* Charges `cycles` spent in context c (kernel/trace.h enum ctx) to the
 * current task. Called by kernel/trace.c, IF=0. */
void sched_charge(int ctx, uint64_t cycles);

/* On the way back to ring 3 (kernel/user/), IF=0, preempt_count 0:
 * reschedules while need_resched is set. */
void sched_resched_before_user(void);

/* Ticks in one time slice (from timeslice_ms=). */
unsigned sched_slice_ticks(void);
/* Runnable tasks waiting for the CPU (not counting the running one). */
unsigned sched_nr_waiting(void);

/* Boot: the boot context becomes a task, idle and ksoftirqd exist, the
 * tick hook is in. IF=0, after mm_init(), before interrupts are on. */
void sched_init(void);
/* End of kmain: runs fn (the shell) as task "shell" on its own stack;
 * the boot context exits. Never returns. */
__attribute__((noreturn)) void sched_start_shell(void (*fn)(void));

/* task_exit(): switches away from the (dead) current task for good. */
void sched_switch_away_dead(void);
/* First C code of a new task (task_entry_trampoline). */
void sched_task_start(struct task *prev);
/* kernel/sched/ksoftirqd.c: creates the thread. Boot. */
void ksoftirqd_start(void);

/* kernel/sched/switch.asm */
struct task *context_switch(struct task *prev, struct task *next);
void task_entry_trampoline(void);

#endif
