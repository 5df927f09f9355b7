/*
 * runqueue.h - the scheduler's pure data structures, kept free of any
 * kernel dependency so that tests/unit/test_runqueue.c compiles them on
 * the host:
 *
 *   struct runqueue   round-robin FIFO of runnable tasks (intrusive,
 *                     circular, doubly linked): enqueue at the tail, pick
 *                     from the head, remove from anywhere in O(1).
 *   struct sleepq     tasks sleeping until a jiffies deadline, sorted by
 *                     deadline so the tick only looks at the head.
 *   rq_tick()         the time-slice decision the timer tick makes.
 *
 * Locking: none here. The kernel (kernel/sched/sched.c) calls every
 * function with interrupts disabled, which on this one-CPU kernel is all
 * the exclusion these lists need (the tick, wake-ups from hard-IRQ
 * handlers and schedule() are the only users).
 */
#ifndef KERNEL_SCHED_RUNQUEUE_H
#define KERNEL_SCHED_RUNQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* A link; next == NULL means "not on any queue". */
struct rq_node {
	struct rq_node *next, *prev;
};

struct runqueue {
	struct rq_node head;     /* sentinel: head.next is the oldest entry */
	unsigned nr;             /* entries queued */
};

void rq_init(struct runqueue *rq);
static inline bool rq_queued(const struct rq_node *n) { return n->next != NULL; }
static inline unsigned rq_len(const struct runqueue *rq) { return rq->nr; }
/* Appends n (which must not be queued) at the tail. */
void rq_enqueue(struct runqueue *rq, struct rq_node *n);
/* Unlinks n if queued; returns whether it was. */
bool rq_remove(struct runqueue *rq, struct rq_node *n);
/* Removes and returns the head (the entry waiting longest), or NULL. */
struct rq_node *rq_pop(struct runqueue *rq);
/* The head without removing it, or NULL. */
struct rq_node *rq_peek(const struct runqueue *rq);

/* ---- sleepers with a deadline ----------------------------------------- */

struct sleep_node {
	struct sleep_node *next;     /* singly linked, sorted by deadline */
	uint64_t deadline;           /* jiffies value at which to wake */
	bool queued;
};

struct sleepq {
	struct sleep_node *first;    /* earliest deadline */
	unsigned nr;
};

/* Deadline comparison that survives jiffies wrapping (it never will in
 * 64 bits, but the arithmetic costs nothing): a is before b. */
static inline bool jiffies_before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

void sleepq_init(struct sleepq *q);
/* Inserts n with its deadline, after every entry with the same or an
 * earlier deadline (so equal deadlines wake in insertion order). */
void sleepq_insert(struct sleepq *q, struct sleep_node *n, uint64_t deadline);
/* Unlinks n if queued; returns whether it was. */
bool sleepq_remove(struct sleepq *q, struct sleep_node *n);
/* Removes and returns the first entry whose deadline is <= now, or NULL.
 * Call it in a loop to collect every expired sleeper. */
struct sleep_node *sleepq_pop_expired(struct sleepq *q, uint64_t now);

/* ---- time slice --------------------------------------------------------- */

/*
 * One tick's bookkeeping for the running task. *slice_left counts the
 * ticks the task may still run; it is decremented (not below 0) unless
 * the running task is the idle task. Returns true when the tick should
 * ask for a reschedule: the idle task runs while others wait, or the
 * slice is used up while others wait. A task alone keeps the CPU
 * without being asked to switch, and its slice stays at 0 until then.
 */
bool rq_tick(unsigned *slice_left, bool running_idle, unsigned nr_waiting);

/* container_of for the intrusive links. */
#define rq_entry(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
