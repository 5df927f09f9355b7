/*
 * Host test of net/napi.c: scheduling, completion, MISSED and re-check
 * rescheduling, net_rx_action's budget, time limit, weight and round-robin
 * order, the packets-per-poll histogram and the latency stamp, with fake
 * devices whose "rings" are counters and a hand-driven TSC.
 */
#include "net_shim.h"
#include "check.h"
#include "net/napi.c"

struct fake_nic {
	struct napi_struct napi;
	int pending;          /* packets in the ring */
	int masked;           /* device interrupts masked */
	int arrive_in_poll;   /* packets that arrive during each poll */
	int irq_in_poll;      /* a hard IRQ calls napi_schedule() mid-poll */
	int recheck_arrivals; /* packets that land between complete and unmask */
	int over;             /* extra work to (wrongly) report */
	uint64_t tsc_per_poll;
	char tag;
};

static char order[256];
static int order_len;

static int fake_poll(struct napi_struct *n, int budget)
{
	struct fake_nic *nic = (struct fake_nic *)n;   /* napi is first */
	CHECK(shim_if);             /* polls run with interrupts on */
	if (order_len < (int)sizeof(order) - 1)
		order[order_len++] = nic->tag;
	shim_tsc += nic->tsc_per_poll;
	int work = nic->pending < budget ? nic->pending : budget;
	nic->pending -= work;
	nic->pending += nic->arrive_in_poll;
	if (nic->irq_in_poll) {
		nic->irq_in_poll--;
		shim_if = false;
		napi_schedule(n);   /* hard IRQ while we poll: MISSED */
		shim_if = true;
	}
	if (work < budget && napi_complete_done(n, work)) {
		nic->masked = 0;
		/* re-check after unmasking (QEMU-FACTS "NAPI race") */
		if (nic->recheck_arrivals) {
			nic->pending += nic->recheck_arrivals;
			nic->recheck_arrivals = 0;
		}
		if (nic->pending) {
			nic->masked = 1;
			napi_schedule(n);
		}
	}
	return work + nic->over;
}

static void irq(struct fake_nic *nic)
{
	shim_if = false;
	nic->masked = 1;
	napi_schedule(&nic->napi);
	shim_if = true;
}

static void nic_init(struct fake_nic *nic, char tag)
{
	memset(nic, 0, sizeof(*nic));
	nic->tag = tag;
	netif_napi_add(NULL, &nic->napi, fake_poll, 0);
}

static bool is_listed(struct napi_struct *n)
{
	for (struct napi_struct *p = poll_list.head; p; p = p->next)
		if (p == n)
			return true;
	return false;
}

/* net_rx_action as the softirq core calls it: serving a softirq, IF=1. */
static void rx_action(void)
{
	preempt_count_word = SOFTIRQ_OFFSET;
	net_rx_action();
	preempt_count_word = 0;
}

static void run_all(void)
{
	/* the softirq core: rerun while raised (bounded here by 100) */
	for (int i = 0; i < 100 && shim_raised[NET_RX_SOFTIRQ]; i++) {
		shim_raised[NET_RX_SOFTIRQ] = 0;
		rx_action();
	}
}

static void reset(void)
{
	memset(&softnet_stats, 0, sizeof(softnet_stats));
	memset(shim_raised, 0, sizeof(shim_raised));
	order_len = 0;
	memset(order, 0, sizeof(order));
}

static void test_schedule_and_complete(void)
{
	static struct fake_nic a;
	reset();
	nic_init(&a, 'a');
	CHECK_EQ_U(a.napi.weight, 64);
	open_softirq(NET_RX_SOFTIRQ, NULL);
	CHECK_EQ_U(napi_init(), 0);
	CHECK(shim_softirq[NET_RX_SOFTIRQ] == net_rx_action);

	a.pending = 10;
	shim_tsc = 1000;
	irq(&a);
	CHECK_EQ_U(shim_raised[NET_RX_SOFTIRQ], 1);
	CHECK(is_listed(&a.napi));
	CHECK_EQ_U(a.napi.sched_tsc, 1000);
	irq(&a);                                   /* already scheduled */
	CHECK_EQ_U(shim_raised[NET_RX_SOFTIRQ], 1);
	CHECK_EQ_U(a.napi.missed, 1);
	CHECK(is_listed(&a.napi) && poll_list.head == poll_list.tail);
	a.napi.state &= ~(1ul << NAPI_STATE_MISSED);  /* as if it came before the list was taken */

	shim_tsc = 1500;
	shim_raised[NET_RX_SOFTIRQ] = 0;
	rx_action();
	CHECK_EQ_U(a.pending, 0);
	CHECK_EQ_U(a.masked, 0);                  /* completed and unmasked */
	CHECK_EQ_U(a.napi.state, 0);
	CHECK(!poll_list.head);
	CHECK_EQ_U(shim_raised[NET_RX_SOFTIRQ], 0);
	CHECK_EQ_U(a.napi.polls, 1);
	CHECK_EQ_U(a.napi.hist[4], 1);            /* 10 is in bucket 8-15 */
	CHECK_EQ_U(a.napi.lat_count, 1);
	CHECK_EQ_U(a.napi.lat_max_tsc, 500);
	CHECK_EQ_U(a.napi.sched_tsc, 0);
	CHECK_EQ_U(softnet_stats.time_squeeze, 0);

	/* an empty run */
	rx_action();
	CHECK_EQ_U(softnet_stats.empty_runs, 1);

	/* weight at completion: refused */
	a.napi.state = 1ul << NAPI_STATE_SCHED;
	CHECK(!napi_complete_done(&a.napi, 64));
	CHECK(a.napi.state & (1ul << NAPI_STATE_SCHED));
	CHECK(napi_complete_done(&a.napi, 3));
	CHECK_EQ_U(a.napi.state, 0);
}

static void test_budget(void)
{
	static struct fake_nic b;
	reset();
	nic_init(&b, 'b');
	napi_set_budget(300);
	b.pending = 1000;
	irq(&b);
	shim_raised[NET_RX_SOFTIRQ] = 0;
	rx_action();
	/* 64 * 5 = 320 >= 300: five polls, then a squeeze with work left */
	CHECK_EQ_U(b.napi.polls, 5);
	CHECK_EQ_U(b.napi.polls_full, 5);
	CHECK_EQ_U(b.pending, 1000 - 320);
	CHECK_EQ_U(softnet_stats.time_squeeze, 1);
	CHECK_EQ_U(softnet_stats.squeeze_budget, 1);
	CHECK_EQ_U(shim_raised[NET_RX_SOFTIRQ], 1);   /* re-raised */
	CHECK(is_listed(&b.napi));
	CHECK_EQ_U(b.masked, 1);
	run_all();
	CHECK_EQ_U(b.pending, 0);
	CHECK_EQ_U(b.masked, 0);
	CHECK_EQ_U(b.napi.packets, 1000);
	CHECK_EQ_U(b.napi.max_work, 64);
	/* 1000 = 15 * 64 + 40: 15 full polls and one of 40 (bucket 32-63) */
	CHECK_EQ_U(b.napi.polls_full, 15);
	CHECK_EQ_U(b.napi.hist[6], 1);
	CHECK_EQ_U(softnet_stats.time_squeeze, 3);     /* 320, 640, 960 */
	CHECK(!poll_list.head);

	/* budget 1: one poll per run, each offered the whole weight */
	reset();
	napi_set_budget(1);
	b.pending = 200;
	irq(&b);
	run_all();
	CHECK_EQ_U(softnet_stats.runs, 4);
	CHECK_EQ_U(softnet_stats.time_squeeze, 3);
	CHECK_EQ_U(b.pending, 0);

	/* weight 8 at run time: no poll exceeds it */
	reset();
	napi_set_budget(300);
	napi_set_weight(8);
	CHECK_EQ_U(b.napi.weight, 8);
	uint64_t full0 = b.napi.polls_full, max0 = b.napi.max_work;
	b.napi.max_work = 0;
	b.pending = 100;
	irq(&b);
	run_all();
	CHECK_EQ_U(b.napi.max_work, 8);
	CHECK_EQ_U(b.napi.polls_full - full0, 12);     /* 12 * 8 + 4 */
	napi_set_weight(64);
	(void)max0;
}

static void test_round_robin(void)
{
	static struct fake_nic c, d;
	reset();
	nic_init(&c, 'c');
	nic_init(&d, 'd');
	napi_set_budget(300);
	c.pending = 200;
	d.pending = 10;
	irq(&c);
	irq(&d);
	run_all();
	/* c uses its weight and goes behind d */
	CHECK(strcmp(order, "cdccc") == 0);
	CHECK_EQ_U(c.pending + d.pending, 0);
	CHECK_EQ_U(softnet_stats.runs, 1);
}

static void test_missed_and_recheck(void)
{
	static struct fake_nic e;
	reset();
	nic_init(&e, 'e');
	/* An IRQ during the poll: completion refused, polled again. */
	e.pending = 5;
	e.irq_in_poll = 1;
	irq(&e);
	run_all();
	CHECK(strcmp(order, "ee") == 0);
	CHECK_EQ_U(e.napi.missed, 1);
	CHECK_EQ_U(e.masked, 0);
	CHECK_EQ_U(e.napi.state, 0);

	/* Packets that land between complete and unmask: the driver's
	 * re-check reschedules, and the napi is listed exactly once. */
	reset();
	e.pending = 3;
	e.recheck_arrivals = 2;
	irq(&e);
	shim_raised[NET_RX_SOFTIRQ] = 0;
	rx_action();
	CHECK(strcmp(order, "ee") == 0);          /* picked up in the same run */
	CHECK_EQ_U(e.pending, 0);
	CHECK_EQ_U(e.napi.state, 0);
	CHECK(!poll_list.head);
}

static void test_time_limit(void)
{
	static struct fake_nic f;
	reset();
	nic_init(&f, 'f');
	tsc_khz = 1000;                 /* 1 cycle = 1 us */
	napi_set_budget_us(100);
	napi_set_budget(100000);
	f.tsc_per_poll = 60;
	f.pending = 1000;
	irq(&f);
	shim_raised[NET_RX_SOFTIRQ] = 0;
	rx_action();
	CHECK_EQ_U(order_len, 2);       /* 60, 120 >= 100 */
	CHECK_EQ_U(softnet_stats.squeeze_time, 1);
	CHECK_EQ_U(softnet_stats.squeeze_budget, 0);
	CHECK_EQ_U(f.napi.max_poll_tsc, 60);
	run_all();
	CHECK_EQ_U(f.pending, 0);
	tsc_khz = 0;
	napi_set_budget_us(2000);
	napi_set_budget(300);
}

static void test_context_check(void)
{
	reset();
	rx_action();
	CHECK_EQ_U(softnet_stats.bad_context, 0);
	net_rx_action();                  /* task context: counted */
	CHECK_EQ_U(softnet_stats.bad_context, 1);
	preempt_count_word = SOFTIRQ_OFFSET;
	shim_if = false;                  /* softirq with IF=0: counted */
	net_rx_action();
	shim_if = true;
	preempt_count_word = 0;
	CHECK_EQ_U(softnet_stats.bad_context, 2);
}

static void test_over_weight(void)
{
	static struct fake_nic g;
	reset();
	nic_init(&g, 'g');
	g.pending = 64;
	g.over = 5;                     /* a driver that lies */
	irq(&g);
	shim_raised[NET_RX_SOFTIRQ] = 0;
	rx_action();
	CHECK_EQ_U(g.napi.over_weight, 1);
	CHECK_EQ_U(g.napi.max_work, 64);
	g.over = 0;
	run_all();
	CHECK_EQ_U(g.napi.state, 0);
}

/* The defer hook (net/napi_defer.c's, here a stub): a completion it
 * accepts leaves the napi unscheduled but DEFERRED, and tells the driver
 * to keep its interrupts masked; napi_schedule() clears DEFERRED; with the
 * hook saying no, completion is as before. */
static int defer_answer, defer_calls, defer_work;
static bool stub_defer(struct napi_struct *n, int work)
{
	CHECK(!shim_if);                          /* asked with interrupts off */
	CHECK(!(n->state & SCHED));               /* after SCHED was cleared */
	defer_calls++;
	defer_work = work;
	return defer_answer;
}

static void test_defer_hook(void)
{
	static struct fake_nic a;
	reset();
	nic_init(&a, 'd');
	napi_set_defer_hook(stub_defer);

	defer_answer = 1;
	a.pending = 5;
	irq(&a);
	run_all();
	CHECK_EQ_U(defer_calls, 1);
	CHECK_EQ_U(defer_work, 5);
	CHECK_EQ_U(a.pending, 0);
	CHECK_EQ_U(a.masked, 1);                  /* deferred: stays masked */
	CHECK_EQ_U(a.napi.state, DEFERRED);       /* not scheduled, not listed */
	CHECK(!poll_list.head);
	CHECK_EQ_U(softnet_stats.time_squeeze, 0);

	/* whoever polls the deferred device schedules it: DEFERRED ends */
	a.pending = 2;
	napi_schedule(&a.napi);
	CHECK_EQ_U(a.napi.state & (DEFERRED | SCHED | LISTED), SCHED | LISTED);
	defer_answer = 0;
	run_all();
	CHECK_EQ_U(defer_calls, 2);
	CHECK_EQ_U(a.masked, 0);                  /* completed: unmasked */
	CHECK_EQ_U(a.napi.state, 0);

	/* a full-weight poll never asks the hook; MISSED wins over it */
	defer_answer = 1;
	a.pending = 200;
	irq(&a);
	a.irq_in_poll = 1;
	run_all();
	CHECK_EQ_U(a.pending, 0);
	CHECK(defer_calls >= 3);
	CHECK_EQ_U(a.napi.state, DEFERRED);
	CHECK_EQ_U(a.masked, 1);
	napi_set_defer_hook(NULL);
	napi_schedule(&a.napi);
	run_all();
	CHECK_EQ_U(a.napi.state, 0);
	CHECK_EQ_U(a.masked, 0);
	CHECK(shim_if);
}

int main(void)
{
	test_schedule_and_complete();
	test_budget();
	test_round_robin();
	test_missed_and_recheck();
	test_time_limit();
	test_over_weight();
	test_defer_hook();
	CHECK_EQ_U(softnet_stats.bad_context, 0);
	test_context_check();

	napi_reset_counters();
	uint64_t left = softnet_stats.runs + softnet_stats.time_squeeze + softnet_stats.bad_context;
	for (struct napi_struct *n = napi_all(); n; n = n->all_next) {
		left += n->polls + n->packets + n->polls_full + n->schedules + n->missed +
			n->max_work + n->lat_count + n->lat_max_tsc + n->max_poll_tsc;
		for (int b = 0; b < NAPI_HIST_BUCKETS; b++)
			left += n->hist[b];
		CHECK_EQ_U(n->weight, 64);          /* settings kept */
	}
	CHECK_EQ_U(left, 0);
	CHECK(shim_if);
	CHECK(!shim_raised_with_if);
	return check_summary("test_net_napi");
}
