/*
 * test_runqueue.c - host tests of the scheduler's pure parts
 * (kernel/sched/runqueue.c): round-robin order, removal from anywhere,
 * the deadline-sorted sleep queue and the time-slice rule of the tick.
 */
#include <string.h>
#include "check.h"
#include "kernel/sched/runqueue.c"

struct fake_task {
	int id;
	struct rq_node rq;
	struct sleep_node sl;
};

static int pop_id(struct runqueue *rq)
{
	struct rq_node *n = rq_pop(rq);
	return n ? rq_entry(n, struct fake_task, rq)->id : -1;
}

static int sleep_id(struct sleepq *q, uint64_t now)
{
	struct sleep_node *n = sleepq_pop_expired(q, now);
	return n ? rq_entry(n, struct fake_task, sl)->id : -1;
}

/* Consistency of the circular list: forward and backward walks agree
 * with nr. */
static int rq_consistent(const struct runqueue *rq)
{
	unsigned fwd = 0, back = 0;
	for (const struct rq_node *n = rq->head.next; n != &rq->head; n = n->next) {
		if (n->next->prev != n)
			return 0;
		if (++fwd > 1000)
			return 0;
	}
	for (const struct rq_node *n = rq->head.prev; n != &rq->head; n = n->prev)
		if (++back > 1000)
			return 0;
	return fwd == rq->nr && back == rq->nr;
}

static void test_fifo(void)
{
	struct runqueue rq;
	struct fake_task t[5];

	memset(t, 0, sizeof(t));
	rq_init(&rq);
	CHECK_EQ_U(rq_len(&rq), 0);
	CHECK(rq_peek(&rq) == NULL);
	CHECK_EQ_U(pop_id(&rq), (unsigned long long)-1);
	for (int i = 0; i < 5; i++) {
		t[i].id = i;
		CHECK(!rq_queued(&t[i].rq));
		rq_enqueue(&rq, &t[i].rq);
		CHECK(rq_queued(&t[i].rq));
	}
	CHECK_EQ_U(rq_len(&rq), 5);
	CHECK(rq_consistent(&rq));
	for (int i = 0; i < 5; i++)
		CHECK_EQ_U(pop_id(&rq), i);
	CHECK_EQ_U(rq_len(&rq), 0);
	for (int i = 0; i < 5; i++)
		CHECK(!rq_queued(&t[i].rq));
}

/* Round robin: a task that runs and is put back goes behind the others,
 * so over k * n picks each of n tasks runs exactly k times, in turn. */
static void test_round_robin(void)
{
	struct runqueue rq;
	struct fake_task t[3];
	int runs[3] = { 0 }, seq[9];

	memset(t, 0, sizeof(t));
	rq_init(&rq);
	for (int i = 0; i < 3; i++) {
		t[i].id = i;
		rq_enqueue(&rq, &t[i].rq);
	}
	for (int k = 0; k < 9; k++) {
		struct rq_node *n = rq_pop(&rq);
		struct fake_task *f = rq_entry(n, struct fake_task, rq);
		runs[f->id]++;
		seq[k] = f->id;
		rq_enqueue(&rq, n);   /* preempted: back to the tail */
	}
	for (int i = 0; i < 3; i++)
		CHECK_EQ_U(runs[i], 3);
	static const int want[9] = { 0, 1, 2, 0, 1, 2, 0, 1, 2 };
	CHECK(memcmp(seq, want, sizeof(want)) == 0);
	CHECK(rq_consistent(&rq));
}

static void test_remove(void)
{
	struct runqueue rq;
	struct fake_task t[4];

	memset(t, 0, sizeof(t));
	rq_init(&rq);
	for (int i = 0; i < 4; i++) {
		t[i].id = i;
		rq_enqueue(&rq, &t[i].rq);
	}
	/* middle, head, tail, then one that is not queued any more */
	CHECK(rq_remove(&rq, &t[2].rq));
	CHECK(rq_consistent(&rq));
	CHECK(rq_remove(&rq, &t[0].rq));
	CHECK(rq_remove(&rq, &t[3].rq));
	CHECK(!rq_remove(&rq, &t[3].rq));
	CHECK_EQ_U(rq_len(&rq), 1);
	CHECK(rq_consistent(&rq));
	CHECK_EQ_U(pop_id(&rq), 1);
	CHECK(rq_peek(&rq) == NULL);
	/* re-enqueue after removal works and keeps order */
	rq_enqueue(&rq, &t[3].rq);
	rq_enqueue(&rq, &t[0].rq);
	CHECK_EQ_U(pop_id(&rq), 3);
	CHECK_EQ_U(pop_id(&rq), 0);
}

static void test_sleepq(void)
{
	struct sleepq q;
	struct fake_task t[5];
	/* deadlines out of order, with a tie (ids 1 and 3 at 20) */
	static const uint64_t dl[5] = { 30, 20, 50, 20, 10 };

	memset(t, 0, sizeof(t));
	sleepq_init(&q);
	for (int i = 0; i < 5; i++) {
		t[i].id = i;
		sleepq_insert(&q, &t[i].sl, dl[i]);
		CHECK(t[i].sl.queued);
	}
	CHECK_EQ_U(q.nr, 5);
	CHECK_EQ_U(sleep_id(&q, 9), (unsigned long long)-1);   /* nothing due */
	CHECK_EQ_U(sleep_id(&q, 10), 4);
	CHECK_EQ_U(sleep_id(&q, 10), (unsigned long long)-1);
	/* a late tick collects everything due, earliest first, ties in order */
	CHECK_EQ_U(sleep_id(&q, 35), 1);
	CHECK_EQ_U(sleep_id(&q, 35), 3);
	CHECK_EQ_U(sleep_id(&q, 35), 0);
	CHECK_EQ_U(sleep_id(&q, 35), (unsigned long long)-1);
	/* removal of a pending sleeper (woken early by wake_up) */
	CHECK(sleepq_remove(&q, &t[2].sl));
	CHECK(!sleepq_remove(&q, &t[2].sl));
	CHECK(!t[2].sl.queued);
	CHECK_EQ_U(q.nr, 0);
	CHECK_EQ_U(sleep_id(&q, 1000), (unsigned long long)-1);

	/* deadlines across a jiffies wrap still order correctly */
	sleepq_insert(&q, &t[0].sl, 5);                      /* after the wrap */
	sleepq_insert(&q, &t[1].sl, UINT64_MAX - 5);         /* before it */
	CHECK_EQ_U(sleep_id(&q, UINT64_MAX - 1), 1);
	CHECK_EQ_U(sleep_id(&q, UINT64_MAX - 1), (unsigned long long)-1);
	CHECK_EQ_U(sleep_id(&q, 6), 0);
}

static void test_tick(void)
{
	/* table: slice before, idle?, waiting -> resched?, slice after */
	static const struct {
		unsigned slice, idle, waiting, resched, after;
	} cases[] = {
		{ 3, 0, 2, 0, 2 },   /* slice left: keep running */
		{ 1, 0, 2, 1, 0 },   /* slice used up, others wait: switch */
		{ 1, 0, 0, 0, 0 },   /* used up but alone: keep the CPU */
		{ 0, 0, 0, 0, 0 },   /* stays at 0, never wraps */
		{ 0, 0, 1, 1, 0 },   /* someone woke up meanwhile: switch at once */
		{ 5, 1, 0, 0, 5 },   /* idle alone: nothing to do, slice untouched */
		{ 5, 1, 1, 1, 5 },   /* idle with work waiting: switch */
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned s = cases[i].slice;
		bool r = rq_tick(&s, cases[i].idle, cases[i].waiting);
		CHECK_EQ_U(r, cases[i].resched);
		CHECK_EQ_U(s, cases[i].after);
	}
	/* a 4-tick slice with a competitor: resched exactly on the 4th tick */
	unsigned s = 4;
	int first = 0;
	for (int k = 1; k <= 6 && !first; k++)
		if (rq_tick(&s, false, 1))
			first = k;
	CHECK_EQ_U(first, 4);
}

int main(void)
{
	test_fifo();
	test_round_robin();
	test_remove();
	test_sleepq();
	test_tick();
	return check_summary("test_runqueue");
}
