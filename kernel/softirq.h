/*
 * softirq.h - deferred work ("bottom halves") that hard-IRQ handlers raise
 * and that runs soon after, with interrupts enabled, as in Linux
 * (kernel/softirq.c there).
 *
 * When softirqs run:
 *   - irq_exit(), when the interrupt did not interrupt another interrupt
 *     or a softirq and bottom halves are not disabled (!in_interrupt());
 *   - local_bh_enable(), when it re-enables bottom halves in task context;
 *   - ksoftirqd_run(), from the thread (or idle loop) that stands in for
 *     Linux's ksoftirqd, for work that __do_softirq() handed over.
 * They run in SOFTIRQ_OFFSET context (in_serving_softirq()), IF=1, on the
 * stack of whatever was interrupted. A softirq never nests in itself on
 * one CPU: a hard IRQ arriving meanwhile only raises bits.
 *
 * Bounds (why: a flood that keeps raising NET_RX must not starve tasks):
 * one __do_softirq() call rescans the pending mask at most
 * SOFTIRQ_MAX_RESTART times and stops rescanning after SOFTIRQ_MAX_TIME_US;
 * whatever is still pending then is handed to ksoftirqd
 * (wakeup_ksoftirqd()). The same numbers as Linux's MAX_SOFTIRQ_RESTART
 * and MAX_SOFTIRQ_TIME.
 */
#ifndef KERNEL_SOFTIRQ_H
#define KERNEL_SOFTIRQ_H

#include <stdbool.h>
#include <stdint.h>

enum {
	HI_SOFTIRQ,
	TIMER_SOFTIRQ,
	NET_TX_SOFTIRQ,
	NET_RX_SOFTIRQ,
	TASKLET_SOFTIRQ,
	NR_SOFTIRQS
};

#define SOFTIRQ_MAX_RESTART  10
#define SOFTIRQ_MAX_TIME_US  2000

/* Installs the handler of softirq nr (once, at init; task context). The
 * handler runs in softirq context with IF=1 and must bound its own work. */
void open_softirq(int nr, void (*action)(void));

/* Marks softirq nr pending. raise_softirq_irqoff() needs IF=0 (hard IRQ
 * handlers); raise_softirq() saves and restores IF itself. From task
 * context with bottom halves enabled, the work is handed to ksoftirqd
 * (nothing else would run it soon). Any context but NMI. */
void raise_softirq(int nr);
void raise_softirq_irqoff(int nr);

/* Runs pending softirqs now if not in interrupt context; returns with IF
 * as it was. Task context or irq_exit(). */
void do_softirq(void);

/*
 * Inside a softirq handler: what started the running pass, and (in *pass,
 * if not NULL) its sequence number, so tests can tell passes apart.
 * SOFTIRQ_FROM_NONE outside softirq context. Any context.
 */
enum softirq_origin {
	SOFTIRQ_FROM_NONE,
	SOFTIRQ_FROM_IRQ_EXIT,
	SOFTIRQ_FROM_BH_ENABLE,
	SOFTIRQ_FROM_KSOFTIRQD,
	SOFTIRQ_FROM_DO_SOFTIRQ,
};
enum softirq_origin softirq_pass_origin(uint64_t *pass);

/* Bitmask of pending softirqs (1 << nr). Any context. */
uint32_t local_softirq_pending(void);

/*
 * ksoftirqd: when a pass hits its bounds, or a softirq is raised from task
 * context, the core calls wakeup_ksoftirqd() (kernel/sched/ksoftirqd.c,
 * any context but NMI), which calls softirq_mark_ksoftirqd() - the flag
 * softirq_ksoftirqd_pending() reports - and wakes the ksoftirqd thread.
 * That thread calls ksoftirqd_run() (task context, IF=1), which runs one
 * bounded __do_softirq() pass.
 */
bool softirq_ksoftirqd_pending(void);
void ksoftirqd_run(void);
void wakeup_ksoftirqd(void);
void softirq_mark_ksoftirqd(void);

/* Counters, per softirq nr. Any context; a snapshot. */
struct softirq_stat {
	uint64_t raised;      /* raise_softirq*() calls */
	uint64_t run;         /* handler invocations */
	uint64_t restarts;    /* found pending again at the end of a pass and rerun */
	uint64_t to_ksoftirqd;/* still pending when a pass hit its bounds */
	uint64_t max_cycles;  /* longest single handler run, TSC cycles */
};
void softirq_get_stat(int nr, struct softirq_stat *out);

/*
 * Tasklets: one function run once in TASKLET_SOFTIRQ after
 * tasklet_schedule(), as in Linux. Scheduling an already scheduled
 * tasklet does nothing (one run covers both requests); a tasklet may
 * reschedule itself from its function, and then runs again in a later
 * pass (so the softirq bounds apply to it). One CPU, so a tasklet never
 * runs concurrently with itself.
 */
struct tasklet {
	struct tasklet *next;
	void (*func)(unsigned long data);
	unsigned long data;
	bool scheduled;
};
#define TASKLET_INIT(fn, d) { .next = 0, .func = (fn), .data = (d), .scheduled = false }

/* Any context but NMI. */
void tasklet_schedule(struct tasklet *t);

#endif
