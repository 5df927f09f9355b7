/*
 * runqueue.c - round-robin run queue, deadline-sorted sleep queue and the
 * time-slice rule; see runqueue.h. Pure code: no kernel headers, so the
 * host unit test compiles this file as is.
 */
#include "kernel/sched/runqueue.h"

void rq_init(struct runqueue *rq)
{
	rq->head.next = rq->head.prev = &rq->head;
	rq->nr = 0;
}

void rq_enqueue(struct runqueue *rq, struct rq_node *n)
{
	struct rq_node *tail = rq->head.prev;

	n->prev = tail;
	n->next = &rq->head;
	tail->next = n;
	rq->head.prev = n;
	rq->nr++;
}

bool rq_remove(struct runqueue *rq, struct rq_node *n)
{
	if (!rq_queued(n))
		return false;
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = NULL;
	rq->nr--;
	return true;
}

struct rq_node *rq_peek(const struct runqueue *rq)
{
	return rq->head.next == &rq->head ? NULL : rq->head.next;
}

struct rq_node *rq_pop(struct runqueue *rq)
{
	struct rq_node *n = rq_peek(rq);

	if (n)
		rq_remove(rq, n);
	return n;
}

void sleepq_init(struct sleepq *q)
{
	q->first = NULL;
	q->nr = 0;
}

void sleepq_insert(struct sleepq *q, struct sleep_node *n, uint64_t deadline)
{
	struct sleep_node **pp = &q->first;

	/* Walk past every entry due no later than us: equal deadlines keep
	 * their insertion order. O(sleepers), a handful here. */
	while (*pp && !jiffies_before(deadline, (*pp)->deadline))
		pp = &(*pp)->next;
	n->deadline = deadline;
	n->next = *pp;
	*pp = n;
	n->queued = true;
	q->nr++;
}

bool sleepq_remove(struct sleepq *q, struct sleep_node *n)
{
	if (!n->queued)
		return false;
	for (struct sleep_node **pp = &q->first; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			n->queued = false;
			q->nr--;
			return true;
		}
	}
	return false; /* flagged but not found: cannot happen, treat as gone */
}

struct sleep_node *sleepq_pop_expired(struct sleepq *q, uint64_t now)
{
	struct sleep_node *n = q->first;

	if (!n || jiffies_before(now, n->deadline))
		return NULL;
	q->first = n->next;
	n->next = NULL;
	n->queued = false;
	q->nr--;
	return n;
}

bool rq_tick(unsigned *slice_left, bool running_idle, unsigned nr_waiting)
{
	if (running_idle)
		return nr_waiting > 0;
	if (*slice_left > 0)
		(*slice_left)--;
	return *slice_left == 0 && nr_waiting > 0;
}
