/*
 * task.h - a task: one thread of control with its own kernel stack,
 * either a kernel thread or a user task (a kernel thread that entered
 * ring 3 in its own address space).
 *
 * Design decisions (see also sched.h):
 *  - preempt_count is per CPU, not per task, as on Linux x86: the word in
 *    kernel/preempt.c. That is sound because every switch happens inside
 *    schedule() with the count at exactly PREEMPT_OFFSET (schedule()
 *    refuses to switch in any other state), so the value a task finds
 *    when it resumes is the value it left with. A new task starts at
 *    that value too and drops it in sched_task_start().
 *  - `current` is a plain global (one CPU). The syscall entry finds the
 *    kernel stack through GS (kernel/user/), everything else uses this.
 *  - CPU time is counted in TSC cycles at every context change
 *    (kernel/trace.c): utime (ring 3) and stime (kernel, TASK or ATOMIC).
 *    Time in hard IRQ, softirq and NMI is charged to the CPU, not to the
 *    task that happened to be interrupted.
 *  - A task that ends becomes TASK_DEAD: its kernel stack is freed by the
 *    next task (finish_task_switch), the struct stays in the task list so
 *    `ps` and `run` can read its exit code; the oldest dead ones are
 *    freed when more than TASK_MAX_DEAD pile up.
 */
#ifndef KERNEL_SCHED_TASK_H
#define KERNEL_SCHED_TASK_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "kernel/sched/runqueue.h"

#define TASK_NAME_LEN   16
#define KSTACK_SIZE     16384       /* 4 pages + a guard page (kstack_alloc) */
#define TASK_MAX_DEAD   16

enum task_state {
	TASK_RUNNING,       /* running or on the run queue */
	TASK_SLEEPING,      /* waiting: on a wait queue and/or the sleep queue */
	TASK_DEAD,          /* exited; stack freed after the switch away */
};

#define TASK_FLAG_IDLE      (1u << 0)
#define TASK_FLAG_KTHREAD   (1u << 1)
#define TASK_FLAG_USER      (1u << 2)   /* has a user address space */
#define TASK_FLAG_BOOTSTACK (1u << 3)   /* runs on the static boot stack */
#define TASK_FLAG_KILLED    (1u << 4)   /* exit at the next return to ring 3 */

struct user_mm;

struct task {
	/* Offset 0: saved kernel RSP while switched out. switch.asm stores
	 * and loads it through this offset (TASK_RSP_OFFSET there). */
	uint64_t rsp;
	struct rq_node rq;            /* run queue link */
	struct sleep_node sleep;      /* timed sleep (msleep, schedule_timeout) */
	struct task *next_all;        /* every task, for ps and pid lookup */

	int pid;
	char name[TASK_NAME_LEN];
	volatile int state;           /* enum task_state */
	unsigned flags;
	int exit_code;

	void *kstack_top;             /* 16-byte aligned top; TSS.RSP0 for user tasks */
	struct user_mm *mm;           /* NULL for kernel threads */
	uint64_t cr3;                 /* page tables to load when switched in */

	int (*fn)(void *);            /* thread function (the entry trampoline calls it) */
	void *arg;

	unsigned slice_left;          /* ticks left in this time slice */
	bool timed_out;               /* schedule_timeout(): woken by the deadline */

	/* accounting (TSC cycles) and counters */
	uint64_t utime, stime;
	uint64_t nr_switches;         /* times switched in */
	uint64_t nr_voluntary;        /* switched out by schedule() (sleep, yield, exit) */
	uint64_t nr_preempt_user;     /* forced off the CPU while in ring 3 */
	uint64_t nr_preempt_kernel;   /* forced off the CPU in kernel code, IRQ return */
	uint64_t nr_preempt_enable;   /* forced off at preempt_enable() */
	uint64_t nr_syscalls;
	uint64_t start_jiffies;
};

_Static_assert(offsetof(struct task, rsp) == 0, "switch.asm: TASK_RSP_OFFSET 0");

/* The running task. Never NULL once sched_init() ran. */
extern struct task *current;

/*
 * Creates a kernel thread running fn(arg) on a fresh guarded stack and
 * makes it runnable. When fn returns, the thread exits with fn's return
 * value. Returns the task or NULL (out of memory). Task context (may
 * allocate; does not sleep).
 */
struct task *kthread_create(int (*fn)(void *), void *arg, const char *name);

/*
 * Like kthread_create() but not yet runnable: the caller finishes setting
 * the task up (e.g. its user address space) and then calls
 * task_wake_new(). Task context.
 */
struct task *task_alloc(int (*fn)(void *), void *arg, const char *name, unsigned flags);
void task_wake_new(struct task *t);
/* Throws away a task from task_alloc() that never ran (setup failed). */
void task_discard(struct task *t);

/* Ends the current task with `code`. Never returns. Task context, any
 * preempt_count (it is reset: a dying task holds nothing). */
__attribute__((noreturn)) void task_exit(int code);

/* Finds a task by pid (dead ones included), or NULL. IF is saved and
 * restored; the pointer stays valid until the task is reaped (dead and
 * more than TASK_MAX_DEAD newer deaths). Any context but NMI. */
struct task *task_find(int pid);

/* Writes "tasks": [ {pid, name, state, times, counters}, ... ] into an
 * open JSON object (the sched stats section). Task context. */
struct json;
void task_list_json(struct json *j);

/* Called by the scheduler after a switch, on the new task's stack,
 * IF=0: frees a dead predecessor's stack. */
void task_reap_after_switch(struct task *prev);

/* Boot: makes the boot context task 1 ("init") and creates the idle task
 * (pid 0). IF=0, after mm_init(). */
void task_init_boot(void);
extern struct task *idle_task;

#endif
