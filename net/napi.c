/*
 * napi.c - the NAPI core: the per-CPU poll list, napi_schedule() and
 * napi_complete_done(), and net_rx_action(), the NET_RX softirq, which
 * polls scheduled devices under a global budget and a time limit (see
 * napi.h for the driver's side of the contract).
 *
 * State of a napi (bits in ->state):
 *   SCHED   set by napi_schedule(), cleared by napi_complete_done(): while
 *           set the driver keeps its interrupts masked and the napi will be
 *           polled.
 *   LISTED  the napi is on a poll list (the CPU's or net_rx_action's
 *           private one): keeps it from being linked twice when the driver
 *           completes and reschedules within one poll (unmask, re-check,
 *           napi_schedule()).
 *   MISSED  napi_schedule() came while SCHED: napi_complete_done() then
 *           refuses to complete, so the poll runs once more (the event
 *           that scheduled it may have come after the poll looked).
 *   DEFERRED  completed (SCHED clear) with the device's interrupts left
 *           masked, because the defer hook (net/napi_defer.c) has the idle
 *           CPU poll the device instead; napi_schedule() clears it.
 * The poll list is shared with hard-IRQ context (napi_schedule()), so it
 * and ->state are only changed with interrupts off.
 */
#include "net/napi.h"
#include "net/netdev.h"
#include "kernel/softirq.h"
#include "kernel/irqflags.h"
#include "kernel/cpu.h"
#include "kernel/preempt.h"
#include "kernel/time.h"
#include "kernel/registry.h"
#include "kernel/panic.h"
#include "kernel/lib/string.h"

#define SCHED  (1ul << NAPI_STATE_SCHED)
#define MISSED (1ul << NAPI_STATE_MISSED)
#define LISTED (1ul << NAPI_STATE_LISTED)
#define DEFERRED (1ul << NAPI_STATE_DEFERRED)

#define NAPI_BUDGET_DEFAULT    300
#define NAPI_BUDGET_US_DEFAULT 2000

struct poll_list {
	struct napi_struct *head, *tail;
};

/* This CPU's list of scheduled napis (one CPU in this kernel). */
static struct poll_list poll_list;
static struct napi_struct *all_napis;

struct softnet_stats softnet_stats;

/* napi_defer.c's decision, NULL when nothing is ever deferred. */
static bool (*defer_hook)(struct napi_struct *n, int work_done);

static int napi_weight = NAPI_WEIGHT_DEFAULT;
static int napi_budget = NAPI_BUDGET_DEFAULT;
static unsigned int napi_budget_us = NAPI_BUDGET_US_DEFAULT;

static inline void list_add_tail(struct poll_list *l, struct napi_struct *n)
{
	n->next = NULL;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
}

static inline struct napi_struct *list_pop(struct poll_list *l)
{
	struct napi_struct *n = l->head;
	if (n) {
		l->head = n->next;
		if (!l->head)
			l->tail = NULL;
		n->next = NULL;
	}
	return n;
}

/* Appends all of src to dst, leaving src empty. */
static inline void list_splice_tail(struct poll_list *dst, struct poll_list *src)
{
	if (!src->head)
		return;
	if (dst->tail)
		dst->tail->next = src->head;
	else
		dst->head = src->head;
	dst->tail = src->tail;
	src->head = src->tail = NULL;
}

void netif_napi_add(struct netdev *dev, struct napi_struct *napi,
		    int (*poll)(struct napi_struct *, int), int weight)
{
	napi->dev = dev;
	napi->poll = poll;
	napi->weight = weight > 0 && weight <= NAPI_WEIGHT_MAX ? weight : napi_weight;
	napi->state = 0;
	napi->next = NULL;
	napi->sched_tsc = 0;
	napi->idle_pending = NULL;
	napi->defer_last_tsc = 0;
	napi->flood_win_tsc = napi->flood_win_packets = 0;
	napi->flooded = false;
	uint64_t flags = local_irq_save();
	napi->all_next = all_napis;
	all_napis = napi;
	local_irq_restore(flags);
}

void napi_schedule(struct napi_struct *n)
{
	uint64_t flags = local_irq_save();
	if (n->state & SCHED) {
		n->state |= MISSED;
		n->missed++;
	} else {
		n->state &= ~DEFERRED;   /* polled from now on */
		n->state |= SCHED | LISTED;
		if (!n->sched_tsc)
			n->sched_tsc = rdtsc();
		n->schedules++;
		list_add_tail(&poll_list, n);
		raise_softirq_irqoff(NET_RX_SOFTIRQ);
	}
	local_irq_restore(flags);
}

bool napi_complete_done(struct napi_struct *n, int work_done)
{
	if (work_done >= n->weight)
		return false;  /* full weight: stays scheduled, polled again */

	uint64_t flags = local_irq_save();
	bool done;
	if (n->state & MISSED) {
		n->state &= ~MISSED;
		done = false;
	} else {
		n->state &= ~SCHED;
		done = true;
		if (defer_hook && defer_hook(n, work_done)) {
			n->state |= DEFERRED;   /* interrupts stay masked */
			done = false;
		}
	}
	local_irq_restore(flags);
	return done;
}

void napi_set_defer_hook(bool (*defer)(struct napi_struct *n, int work_done))
{
	defer_hook = defer;
}

/* Bucket of a poll that did work < weight packets: 0, then by log2. */
static inline unsigned int hist_bucket(unsigned int work)
{
	unsigned int b = work ? 32 - (unsigned int)__builtin_clz(work) : 0;
	return b < NAPI_HIST_BUCKETS ? b : NAPI_HIST_BUCKETS - 1;
}

/*
 * Polls one napi (taken off the list by the caller, LISTED cleared) and
 * puts it on *repoll if it is still scheduled and nobody re-listed it.
 * Returns the packets it handled (clamped to its weight).
 */
static int napi_poll_one(struct napi_struct *n, struct poll_list *repoll)
{
	int weight = n->weight;
	uint64_t t0 = rdtsc();

	if (n->sched_tsc) {
		uint64_t lat = t0 - n->sched_tsc;
		n->sched_tsc = 0;
		n->lat_count++;
		n->lat_sum_tsc += lat;
		if (lat > n->lat_max_tsc)
			n->lat_max_tsc = lat;
	}

	int work = n->poll(n, weight);

	uint64_t dt = rdtsc() - t0;
	if (dt > n->max_poll_tsc)
		n->max_poll_tsc = dt;
	if (work < 0)
		work = 0;
	if (work > weight) {
		/* A driver bug: count it and charge only the weight. */
		n->over_weight++;
		work = weight;
	}
	n->polls++;
	n->packets += (uint64_t)work;
	if ((uint64_t)work > n->max_work)
		n->max_work = (uint64_t)work;
	if (work == weight)
		n->polls_full++;
	else
		n->hist[hist_bucket((unsigned int)work)]++;

	uint64_t flags = local_irq_save();
	if ((n->state & (SCHED | LISTED)) == SCHED) {
		/* Used its whole weight, or MISSED refused completion, or (a
		 * driver bug) it returned less without completing: poll it
		 * again after the others. */
		n->state |= LISTED;
		list_add_tail(repoll, n);
		softnet_stats.repolls++;
	}
	local_irq_restore(flags);
	return work;
}

void net_rx_action(void)
{
	uint64_t start = rdtsc();
	/* budget_us in TSC cycles; no limit before the TSC is calibrated. */
	uint64_t limit = tsc_khz ? (uint64_t)napi_budget_us * tsc_khz / 1000 : UINT64_MAX;
	int budget = napi_budget;
	struct poll_list list = { 0 };
	uint64_t flags;
	bool polled = false;

	softnet_stats.runs++;
	/* The contract polls rely on: softirq context, interrupts on. */
	if (!in_serving_softirq() || irqs_disabled())
		softnet_stats.bad_context++;

	/*
	 * Bounded: every poll is charged at least one unit of budget (a poll
	 * that handled nothing costs 1), so there are at most `budget` polls,
	 * and the time limit cuts it shorter.
	 */
	for (;;) {
		struct napi_struct *n = list_pop(&list);
		if (!n) {
			/* Take what was scheduled meanwhile (hard IRQs keep
			 * adding to the CPU's list while we poll with IF=1). */
			flags = local_irq_save();
			list_splice_tail(&list, &poll_list);
			local_irq_restore(flags);
			n = list_pop(&list);
			if (!n)
				break;
		}
		flags = local_irq_save();
		n->state &= ~LISTED;
		local_irq_restore(flags);

		int work = napi_poll_one(n, &list);
		polled = true;
		budget -= work > 0 ? work : 1;
		softnet_stats.packets += (uint64_t)work;

		bool out_of_budget = budget <= 0;
		bool out_of_time = rdtsc() - start >= limit;
		if (out_of_budget || out_of_time) {
			flags = local_irq_save();
			bool more = list.head || poll_list.head;
			local_irq_restore(flags);
			if (more) {
				softnet_stats.time_squeeze++;
				if (out_of_budget)
					softnet_stats.squeeze_budget++;
				else
					softnet_stats.squeeze_time++;
			}
			break;
		}
	}
	if (!polled)
		softnet_stats.empty_runs++;

	/*
	 * What is left keeps its order (napis that used their weight are
	 * behind the others), followed by any scheduled since. If anything
	 * is left, raise NET_RX again: the softirq core decides whether that
	 * is another round now or ksoftirqd later.
	 */
	flags = local_irq_save();
	list_splice_tail(&list, &poll_list);
	poll_list = list;
	if (poll_list.head)
		raise_softirq_irqoff(NET_RX_SOFTIRQ);
	local_irq_restore(flags);

	uint64_t dt = rdtsc() - start;
	if (dt > softnet_stats.max_run_tsc)
		softnet_stats.max_run_tsc = dt;
}

void napi_reset_counters(void)
{
	uint64_t flags = local_irq_save();
	memset(&softnet_stats, 0, sizeof(softnet_stats));
	for (struct napi_struct *n = all_napis; n; n = n->all_next) {
		n->polls = n->packets = n->polls_full = 0;
		memset(n->hist, 0, sizeof(n->hist));
		n->schedules = n->missed = n->max_work = n->over_weight = 0;
		n->max_poll_tsc = n->lat_count = n->lat_sum_tsc = n->lat_max_tsc = 0;
	}
	local_irq_restore(flags);
}

struct napi_struct *napi_all(void)
{
	return all_napis;
}

int napi_get_weight(void) { return napi_weight; }
int napi_get_budget(void) { return napi_budget; }
unsigned int napi_get_budget_us(void) { return napi_budget_us; }

void napi_set_weight(int weight)
{
	if (weight < 1 || weight > NAPI_WEIGHT_MAX)
		return;
	napi_weight = weight;
	/* Each poll reads ->weight once, so a change lands between polls. */
	for (struct napi_struct *n = all_napis; n; n = n->all_next)
		n->weight = weight;
}

void napi_set_budget(int budget)
{
	if (budget >= 1)
		napi_budget = budget;
}

void napi_set_budget_us(unsigned int us)
{
	if (us >= 1)
		napi_budget_us = us;
}

static int napi_init(void)
{
	open_softirq(NET_RX_SOFTIRQ, net_rx_action);
	return 0;
}
INITCALL(3, napi_init);
