/*
 * wait.h - wait queues: a task sleeps until a condition becomes true and
 * whoever makes it true calls wake_up() on the queue.
 *
 *   struct wait_queue q = WAIT_QUEUE_INIT;
 *   waiter (task context):   wait_event(&q, cond);
 *   waker (any context but NMI, e.g. a hard-IRQ handler):
 *                            cond = true; wake_up(&q);
 *
 * Lost wake-ups cannot happen: the waiter enters the queue and sets
 * TASK_SLEEPING *before* it tests the condition; a wake_up() that comes
 * after the test finds it on the queue and sets it RUNNING again, so the
 * schedule() that follows returns at once.
 *
 * Entries live on the waiter's stack. The queue is a singly linked list
 * changed only with IF=0 (one CPU: that is the whole lock).
 */
#ifndef KERNEL_SCHED_WAIT_H
#define KERNEL_SCHED_WAIT_H

#include <stdint.h>
#include <stdbool.h>

struct task;

struct wait_entry {
	struct task *task;
	struct wait_entry *next;
	bool queued;
};

struct wait_queue {
	struct wait_entry *first;
};

#define WAIT_QUEUE_INIT { 0 }
#define WAIT_FOREVER UINT64_MAX

/* Wakes every task waiting on q. Any context but NMI. Returns how many
 * were sleeping. */
unsigned wake_up(struct wait_queue *q);

/* The two halves of a wait, for the macros below: prepare adds the
 * current task to q (once) and sets TASK_SLEEPING; finish sets
 * TASK_RUNNING and removes it. Task context. */
void prepare_to_wait(struct wait_queue *q, struct wait_entry *e);
void finish_wait(struct wait_queue *q, struct wait_entry *e);

bool __might_sleep(const char *file, int line);
uint64_t schedule_timeout(uint64_t ticks);

/*
 * Sleeps until cond is true or `ticks` timer ticks have passed
 * (WAIT_FOREVER: no limit). Evaluates to 0 if it timed out with cond
 * still false, else the ticks left (at least 1). In atomic context the
 * BUG is reported (might_sleep) and it evaluates to 0 without sleeping.
 * Task context.
 */
#define wait_event_timeout(q, cond, ticks) ({ \
	uint64_t __left = (ticks); \
	bool __ok = false; \
	if (__might_sleep(__FILE__, __LINE__)) { \
		struct wait_entry __we; \
		__we.queued = false; \
		for (;;) { \
			prepare_to_wait((q), &__we); \
			if (cond) { __ok = true; break; } \
			if (!__left) \
				break; \
			__left = schedule_timeout(__left); \
		} \
		finish_wait((q), &__we); \
	} \
	__ok ? (__left ? __left : 1) : 0; })

/* Sleeps until cond is true. Returns 0, or -1 if called in atomic
 * context (reported, no sleep). Task context. */
#define wait_event(q, cond) \
	(wait_event_timeout((q), (cond), WAIT_FOREVER) ? 0 : -1)

/* Woken (wake_up) whenever any task exits; waiters check their task's
 * state. */
extern struct wait_queue task_exit_wq;

#endif
