/*
 * wait.c - wait queues (wait.h). The queue is changed only with IF=0,
 * so wake_up() may be called from hard-IRQ handlers.
 */
#include "kernel/sched/wait.h"
#include "kernel/sched/sched.h"
#include "kernel/irqflags.h"

unsigned wake_up(struct wait_queue *q)
{
	uint64_t flags = local_irq_save();
	unsigned n = 0;

	/* Bounded by the number of tasks: each waits on one queue at a time. */
	for (struct wait_entry *e = q->first; e; e = e->next)
		n += wake_up_process(e->task);
	local_irq_restore(flags);
	return n;
}

void prepare_to_wait(struct wait_queue *q, struct wait_entry *e)
{
	uint64_t flags = local_irq_save();

	if (!e->queued) {
		e->task = current;
		e->next = q->first;
		q->first = e;
		e->queued = true;
	}
	current->state = TASK_SLEEPING;
	local_irq_restore(flags);
}

void finish_wait(struct wait_queue *q, struct wait_entry *e)
{
	uint64_t flags = local_irq_save();

	current->state = TASK_RUNNING;
	if (e->queued) {
		for (struct wait_entry **pp = &q->first; *pp; pp = &(*pp)->next) {
			if (*pp == e) {
				*pp = e->next;
				break;
			}
		}
		e->queued = false;
	}
	local_irq_restore(flags);
}
