/*
 * napi.h - NAPI: interrupt-driven scheduling of budgeted polling.
 *
 * The driver's hard-IRQ handler masks the device's interrupts and calls
 * napi_schedule(); the NET_RX softirq (net_rx_action in net/napi.c) then
 * calls napi->poll(napi, weight) for each scheduled napi. A poll handles at
 * most `weight` packets and returns how many it handled:
 *   - fewer than weight: the ring is empty; the driver calls
 *     napi_complete_done() and, only if it returns true, unmasks the
 *     device's interrupts and then re-checks its ring (a packet that came
 *     between the last look and the unmask raises no interrupt: see
 *     QEMU-FACTS.md "NAPI race"); if the re-check finds work it calls
 *     napi_schedule() again.
 *   - exactly weight: more work may remain; the driver must not complete
 *     and leaves interrupts masked; the napi stays scheduled and goes to
 *     the tail of the poll list.
 * net_rx_action walks the poll list round-robin, a napi that used its
 * weight going to the tail, until the list is empty or a global budget of
 * packets (`budget=`, default 300) or a time limit (`budget_us=`, default
 * 2000) runs out; then, if work is left, it counts a time_squeeze and
 * raises NET_RX again, and the softirq core restarts it or hands it to
 * ksoftirqd. The budget is checked between polls, so each poll is offered
 * its whole weight and one run may overshoot the budget by up to
 * weight - 1.
 *
 * This is the classic (Linux 2.6) net_rx_action. Current Linux (6.x) polls
 * each napi at most once per run and leaves the rest to the softirq
 * restart loop, so with one device its budget only matters below the
 * weight; here the budget caps one softirq run even with one device, which
 * is what the flood lab's budget sweep measures.
 */
#ifndef NET_NAPI_H
#define NET_NAPI_H

#include <stdint.h>
#include <stdbool.h>

struct netdev;

/* Bits in napi_struct.state. */
#define NAPI_STATE_SCHED  0   /* on (or about to go on) the poll list */
#define NAPI_STATE_MISSED 1   /* napi_schedule() while SCHED: poll again */
#define NAPI_STATE_LISTED 2   /* on a poll list (napi.c's bookkeeping) */
#define NAPI_STATE_DEFERRED 3 /* completed, but the device's interrupts stay
				 masked: the idle CPU polls it (napi_defer.c) */

#define NAPI_WEIGHT_DEFAULT 64
#define NAPI_WEIGHT_MAX     4096
/* Histogram of packets per poll: bucket 0 = 0 packets, bucket k (k >= 1)
 * = [2^(k-1), 2^k - 1]; a poll that used its whole weight is counted in
 * polls_full instead. 14 buckets cover up to NAPI_WEIGHT_MAX - 1. */
#define NAPI_HIST_BUCKETS 14

struct napi_struct {
	int (*poll)(struct napi_struct *napi, int budget);
	int weight;
	volatile unsigned long state;   /* NAPI_STATE_* bits */
	struct napi_struct *next;       /* poll list link (napi.c's) */
	struct netdev *dev;
	/*
	 * TSC when the interrupt that scheduled us arrived. napi_schedule()
	 * stamps it if it is 0; a driver may stamp it earlier (at the top of
	 * its IRQ handler) for a fuller measure. net_rx_action turns it into
	 * IRQ-to-poll latency and clears it.
	 */
	uint64_t sched_tsc;
	/* Counters (written by net_rx_action, which runs in one context). */
	uint64_t polls;
	uint64_t packets;
	uint64_t polls_full;            /* polls that used their whole weight */
	uint64_t hist[NAPI_HIST_BUCKETS];
	uint64_t schedules;             /* napi_schedule() that scheduled */
	uint64_t missed;                /* napi_schedule() while already SCHED */
	uint64_t max_work;              /* most packets one poll returned */
	uint64_t over_weight;           /* polls that returned > weight (bug) */
	uint64_t max_poll_tsc;          /* longest single poll, TSC cycles */
	uint64_t lat_count, lat_sum_tsc, lat_max_tsc; /* IRQ-to-poll */
	struct napi_struct *all_next;   /* list of every napi (napi.c's) */
	/*
	 * Interrupt deferral (net/napi_defer.c). idle_pending, set by the
	 * driver through napi_defer_enable(), tells from memory alone (no
	 * register access) whether the device has work; NULL = never
	 * deferred. defer_last_tsc: TSC of the last poll that did work;
	 * flood_*: the window that tells a flood (longer hold-off).
	 */
	bool (*idle_pending)(struct napi_struct *napi);
	uint64_t defer_last_tsc;
	uint64_t flood_win_tsc, flood_win_packets;
	bool flooded;
};

/*
 * netif_napi_add - set up napi for dev with its poll function; weight 0
 * means the current default (`weight=`). Task context (driver init),
 * before the device's interrupts are enabled.
 */
void netif_napi_add(struct netdev *dev, struct napi_struct *napi,
		    int (*poll)(struct napi_struct *, int), int weight);

/*
 * napi_schedule - if napi is not already scheduled, put it on this CPU's
 * poll list and raise NET_RX_SOFTIRQ; if it is, note MISSED so the poll in
 * progress runs again before completing. Meant for the hard-IRQ handler
 * (IF=0); also safe in softirq or task context (it saves and restores
 * RFLAGS.IF itself). Does not print.
 */
void napi_schedule(struct napi_struct *napi);

/*
 * napi_complete_done - called by poll when it handled work_done < weight.
 * Returns true when the napi is no longer scheduled and the driver should
 * unmask its interrupts; false when it must stay masked: the napi stays
 * scheduled (work_done >= weight, or a napi_schedule() came during the
 * poll: it will be polled again), or it was deferred (NAPI_STATE_DEFERRED,
 * see net/napi_defer.c: no longer scheduled, but the idle CPU polls the
 * device and schedules it again, so no interrupt is needed). Softirq
 * context (inside poll).
 */
bool napi_complete_done(struct napi_struct *napi, int work_done);

/*
 * napi_set_defer_hook - install the function napi_complete_done() asks,
 * with IF=0 and the napi just unscheduled, whether to defer the device's
 * interrupts (true: the napi becomes DEFERRED and the driver is told to
 * keep them masked). net/napi_defer.c installs it at init; without it
 * (host tests) nothing is ever deferred. Task context, once.
 */
void napi_set_defer_hook(bool (*defer)(struct napi_struct *napi, int work_done));

/*
 * napi_defer_enable - let napi's device be polled by the idle CPU instead
 * of re-enabling its interrupts while frames keep coming (net/napi_defer.c).
 * idle_pending(napi) must say, from memory only and in any context with
 * IF=0 or 1, whether a poll would find work (e.g. the DD bit of the next RX
 * descriptor). The driver must treat a napi_complete_done() that returns
 * false as "keep interrupts masked" - which it already does. Task context,
 * after netif_napi_add().
 */
void napi_defer_enable(struct napi_struct *napi, bool (*idle_pending)(struct napi_struct *napi));

/* Counters of net_rx_action itself (one per CPU; we have one CPU). */
struct softnet_stats {
	uint64_t runs;            /* net_rx_action invocations */
	uint64_t packets;         /* sum of work returned by polls */
	uint64_t time_squeeze;    /* runs that stopped with work left */
	uint64_t squeeze_budget;  /*   ... because the budget ran out */
	uint64_t squeeze_time;    /*   ... because the time limit ran out */
	uint64_t repolls;         /* napis put back on the list to poll again */
	uint64_t empty_runs;      /* runs that found nothing to poll */
	uint64_t max_run_tsc;     /* longest net_rx_action, TSC cycles */
	uint64_t bad_context;     /* runs not in a softirq with IF=1 (a bug) */
};
extern struct softnet_stats softnet_stats;

/* Zeroes softnet_stats and every napi's counters (not their state or
 * weight). Any context; interrupts off inside. */
void napi_reset_counters(void);

/* Every napi ever added, linked through ->all_next. */
struct napi_struct *napi_all(void);

/*
 * net_rx_action - the NET_RX softirq handler (registered by napi.c's
 * initcall). Softirq context, IF=1. Exposed for host tests.
 */
void net_rx_action(void);

/* Run-time settings (shell `napi`, cmdline weight=, budget=, budget_us=). */
int napi_get_weight(void);
void napi_set_weight(int weight);       /* applies to every napi */
int napi_get_budget(void);
void napi_set_budget(int budget);
unsigned int napi_get_budget_us(void);
void napi_set_budget_us(unsigned int us);

#endif
