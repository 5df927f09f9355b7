/*
 * Host test of kernel/softirq.c: where softirqs run (irq_exit, bh enable,
 * ksoftirqd), the bounds of one pass (restart limit, time limit,
 * need_resched), no recursion from a nested hard IRQ, bit order, the
 * preempt_count leak check, and tasklets. The CPU is faked: IF is a
 * variable and the clock is a counter the handlers advance.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

/* ---- the fake CPU softirq.c sees under HOST_TEST ---------------------- */
static bool fake_if = true;
static uint64_t fake_clock;
static uint64_t tsc_khz = 1000;          /* 1 cycle = 1 us: 2 ms = 2000 */
static int warnings;

static inline void local_irq_disable(void) { fake_if = false; }
static inline void local_irq_enable(void) { fake_if = true; }
static inline bool irqs_disabled(void) { return !fake_if; }
static inline uint64_t local_irq_save(void) { uint64_t f = fake_if; fake_if = false; return f; }
static inline void local_irq_restore(uint64_t f) { if (f) fake_if = true; }
#define softirq_clock() (fake_clock)

void printk(int level, const char *fmt, ...) { (void)level; (void)fmt; }
void warn_slowpath(const char *file, int line, const char *cond) { warnings++; }
void panic(const char *fmt, ...)
{
	fprintf(stderr, "FAIL: unexpected panic: %s\n", fmt);
	exit(1);
}

#include "kernel/preempt.c"
#include "kernel/softirq.c"

/* ---- handlers that record what they saw ------------------------------- */
struct seen { unsigned runs; unsigned pc; bool if_on; };
static struct seen seen[NR_SOFTIRQS];
static unsigned order[64], norder;
static unsigned reraise_left, clock_step;
static bool nested_irq_in_handler, leak_in_handler;
/* The scheduler's side, as kernel/sched provides it: preempt_enable()
 * finds nothing to switch to; waking ksoftirqd only marks the work
 * (counted in sq.ksoftirqd_wakeups), the test runs ksoftirqd_run(). */
void preempt_schedule(void) { }
void wakeup_ksoftirqd(void) { softirq_mark_ksoftirqd(); }
#define wakeups (sq.ksoftirqd_wakeups)

static void record(int nr)
{
	seen[nr].runs++;
	seen[nr].pc = preempt_count();
	seen[nr].if_on = fake_if;
	if (norder < 64)
		order[norder++] = nr;
}

static void h_hi(void) { record(HI_SOFTIRQ); }
static void h_timer(void) { record(TIMER_SOFTIRQ); }

static void h_net_rx(void)
{
	record(NET_RX_SOFTIRQ);
	fake_clock += clock_step;
	if (reraise_left) {
		reraise_left--;
		raise_softirq(NET_RX_SOFTIRQ);
	}
	if (nested_irq_in_handler) {
		/* a hard IRQ arrives while the softirq runs with IF=1 */
		nested_irq_in_handler = false;
		fake_if = false;
		irq_enter();
		raise_softirq_irqoff(TIMER_SOFTIRQ);
		irq_exit();            /* must not run softirqs here */
		fake_if = true;
		CHECK_EQ_U(seen[TIMER_SOFTIRQ].runs, 0);
	}
	if (leak_in_handler) {
		leak_in_handler = false;
		preempt_disable();     /* never re-enabled: a bug to catch */
	}
}

static void reset(void)
{
	memset(seen, 0, sizeof(seen));
	norder = 0;
	reraise_left = clock_step = 0;
	fake_clock = 0;
	fake_if = true;
	preempt_count_word = 0;
	clear_need_resched();
	memset(&sq, 0, sizeof(sq));
	memset(softirq_stats, 0, sizeof(softirq_stats));
	softirq_pending_mask = 0;
	ksoftirqd_flag = false;
}

/* A hard interrupt whose handler raises `nr`, up to its iretq: IF=0 in
 * the handler, irq_exit() runs softirqs if it may and returns with IF=0. */
static void irq_raising_until_iret(int nr)
{
	fake_if = false;
	irq_enter();
	CHECK(in_irq());
	raise_softirq_irqoff(nr);
	irq_exit();
	CHECK(!fake_if);           /* irq_exit returns with IF=0 */
}

/* The same interrupt from task context, and IF=1 again after "iretq". */
static void hard_irq_raising(int nr)
{
	irq_raising_until_iret(nr);
	CHECK_EQ_U(preempt_count(), 0);
	fake_if = true;
}

static void test_runs_in_irq_exit(void)
{
	reset();
	hard_irq_raising(HI_SOFTIRQ);
	CHECK_EQ_U(seen[HI_SOFTIRQ].runs, 1);
	CHECK_EQ_U(seen[HI_SOFTIRQ].pc, SOFTIRQ_OFFSET);   /* serving, no hard-IRQ level */
	CHECK(seen[HI_SOFTIRQ].if_on);                     /* with interrupts enabled */
	CHECK_EQ_U(sq.from_irq_exit, 1);
	CHECK_EQ_U(softirq_stats[HI_SOFTIRQ].raised, 1);
	CHECK_EQ_U(softirq_stats[HI_SOFTIRQ].run, 1);
	CHECK_EQ_U(wakeups, 0);                            /* raised inside an IRQ: no ksoftirqd */
	CHECK_EQ_U(local_softirq_pending(), 0);
}

static void test_task_raise_goes_to_ksoftirqd(void)
{
	reset();
	raise_softirq(TIMER_SOFTIRQ);
	CHECK_EQ_U(seen[TIMER_SOFTIRQ].runs, 0);
	CHECK_EQ_U(wakeups, 1);
	CHECK(softirq_ksoftirqd_pending());
	ksoftirqd_run();
	CHECK_EQ_U(seen[TIMER_SOFTIRQ].runs, 1);
	CHECK(!softirq_ksoftirqd_pending());
	CHECK_EQ_U(sq.from_ksoftirqd, 1);
	CHECK(fake_if);                                     /* restored */
}

static void test_restart_limit(void)
{
	reset();
	reraise_left = 25;          /* 26 runs wanted */
	hard_irq_raising(NET_RX_SOFTIRQ);
	CHECK_EQ_U(seen[NET_RX_SOFTIRQ].runs, SOFTIRQ_MAX_RESTART);
	CHECK_EQ_U(softirq_stats[NET_RX_SOFTIRQ].restarts, SOFTIRQ_MAX_RESTART - 1);
	CHECK_EQ_U(softirq_stats[NET_RX_SOFTIRQ].to_ksoftirqd, 1);
	CHECK_EQ_U(sq.hit_restart_limit, 1);
	CHECK_EQ_U(sq.hit_time_limit, 0);
	CHECK(softirq_ksoftirqd_pending());
	ksoftirqd_run();            /* another bounded pass */
	CHECK_EQ_U(seen[NET_RX_SOFTIRQ].runs, 2 * SOFTIRQ_MAX_RESTART);
	ksoftirqd_run();
	CHECK_EQ_U(seen[NET_RX_SOFTIRQ].runs, 26);
	CHECK(!softirq_ksoftirqd_pending());
	CHECK_EQ_U(local_softirq_pending(), 0);
}

static void test_time_limit(void)
{
	reset();
	reraise_left = 20;
	clock_step = 700;           /* each run takes 700 us of a 2000 us pass */
	hard_irq_raising(NET_RX_SOFTIRQ);
	CHECK_EQ_U(seen[NET_RX_SOFTIRQ].runs, 3);          /* 2100 us >= 2000 us */
	CHECK_EQ_U(sq.hit_time_limit, 1);
	CHECK_EQ_U(sq.hit_restart_limit, 0);
	CHECK(softirq_ksoftirqd_pending());

	/* an uncalibrated TSC (tsc_khz 0) leaves only the restart bound */
	reset();
	tsc_khz = 0;
	reraise_left = 20;
	clock_step = 700;
	hard_irq_raising(NET_RX_SOFTIRQ);
	CHECK_EQ_U(seen[NET_RX_SOFTIRQ].runs, SOFTIRQ_MAX_RESTART);
	tsc_khz = 1000;
}

static void test_need_resched_ends_pass(void)
{
	reset();
	reraise_left = 5;
	set_need_resched();
	hard_irq_raising(NET_RX_SOFTIRQ);
	CHECK_EQ_U(seen[NET_RX_SOFTIRQ].runs, 1);
	CHECK_EQ_U(sq.hit_need_resched, 1);
	CHECK(softirq_ksoftirqd_pending());
	clear_need_resched();
}

static void test_no_recursion_from_nested_irq(void)
{
	reset();
	nested_irq_in_handler = true;
	hard_irq_raising(NET_RX_SOFTIRQ);
	/* the TIMER raised by the nested IRQ ran in the same pass, after */
	CHECK_EQ_U(seen[NET_RX_SOFTIRQ].runs, 1);
	CHECK_EQ_U(seen[TIMER_SOFTIRQ].runs, 1);
	CHECK_EQ_U(sq.passes, 1);
	CHECK_EQ_U(norder, 2);
	CHECK_EQ_U(order[0], NET_RX_SOFTIRQ);
	CHECK_EQ_U(order[1], TIMER_SOFTIRQ);
}

static void test_bit_order(void)
{
	reset();
	fake_if = false;
	irq_enter();
	raise_softirq_irqoff(NET_RX_SOFTIRQ);
	raise_softirq_irqoff(TIMER_SOFTIRQ);
	raise_softirq_irqoff(HI_SOFTIRQ);
	raise_softirq_irqoff(HI_SOFTIRQ);   /* twice: one run */
	irq_exit();
	fake_if = true;
	CHECK_EQ_U(norder, 3);
	CHECK_EQ_U(order[0], HI_SOFTIRQ);
	CHECK_EQ_U(order[1], TIMER_SOFTIRQ);
	CHECK_EQ_U(order[2], NET_RX_SOFTIRQ);
	CHECK_EQ_U(softirq_stats[HI_SOFTIRQ].raised, 2);
	CHECK_EQ_U(softirq_stats[HI_SOFTIRQ].run, 1);
}

static void test_bh_disable(void)
{
	reset();
	local_bh_disable();
	irq_raising_until_iret(HI_SOFTIRQ);
	fake_if = true;
	CHECK_EQ_U(seen[HI_SOFTIRQ].runs, 0);      /* bh off: irq_exit must not run it */
	CHECK_EQ_U(local_softirq_pending(), 1u << HI_SOFTIRQ);
	local_bh_enable();
	CHECK_EQ_U(seen[HI_SOFTIRQ].runs, 1);
	CHECK_EQ_U(seen[HI_SOFTIRQ].pc, SOFTIRQ_OFFSET + PREEMPT_OFFSET);
	CHECK_EQ_U(sq.from_bh_enable, 1);
	CHECK_EQ_U(preempt_count(), 0);

	/* enabling with interrupts off must not run them (it would sti) */
	reset();
	local_bh_disable();
	irq_raising_until_iret(HI_SOFTIRQ);   /* and IF stays 0 */
	warnings = 0;
	local_bh_enable();
	CHECK_EQ_U(seen[HI_SOFTIRQ].runs, 0);
	CHECK_EQ_U(warnings, 1);
	CHECK(!fake_if);
	CHECK_EQ_U(preempt_count(), 0);

	/* unbalanced enable: reported, count untouched */
	reset();
	warnings = 0;
	local_bh_enable();
	CHECK_EQ_U(warnings, 1);
	CHECK_EQ_U(preempt_count(), 0);
}

static void test_leak_is_repaired(void)
{
	reset();
	leak_in_handler = true;
	hard_irq_raising(NET_RX_SOFTIRQ);
	CHECK_EQ_U(sq.count_leaks, 1);
	CHECK_EQ_U(preempt_count(), 0);
}

static unsigned tl_runs, tl_again;
static void tl_fn(unsigned long data)
{
	tl_runs += data;
}

static struct tasklet tl_a, tl_b;
static void tl_self(unsigned long data)
{
	tl_runs++;
	if (tl_again) {
		tl_again--;
		tasklet_schedule(&tl_a);
	}
}

static void test_tasklets(void)
{
	reset();
	tl_runs = 0;
	tl_a = (struct tasklet)TASKLET_INIT(tl_self, 0);
	tl_b = (struct tasklet)TASKLET_INIT(tl_fn, 10);
	tl_again = 0;
	fake_if = false;
	irq_enter();
	tasklet_schedule(&tl_a);
	tasklet_schedule(&tl_a);          /* already scheduled: one run */
	tasklet_schedule(&tl_b);
	irq_exit();
	fake_if = true;
	CHECK_EQ_U(tl_runs, 11);
	CHECK(!tl_a.scheduled && !tl_b.scheduled);

	/* a tasklet that reschedules itself runs again in the next pass */
	reset();
	tl_runs = 0;
	tl_again = 2;
	fake_if = false;
	irq_enter();
	tasklet_schedule(&tl_a);
	irq_exit();
	fake_if = true;
	CHECK_EQ_U(tl_runs, 3);
	CHECK_EQ_U(sq.passes, 1);
	CHECK_EQ_U(softirq_stats[TASKLET_SOFTIRQ].restarts, 2);
}

/* A pass that drains the work ksoftirqd was woken for (here one run from
 * local_bh_enable(), as the NAPI idle poll does) ends the hand-off: the
 * next interrupt's softirq runs at its irq_exit() again instead of being
 * left to a ksoftirqd that finds nothing, sleeps and is not woken. */
static void test_drained_handoff_is_cleared(void)
{
	reset();
	raise_softirq(TIMER_SOFTIRQ);              /* from a task: to ksoftirqd */
	CHECK(softirq_ksoftirqd_pending());
	local_bh_disable();
	local_bh_enable();                         /* but it runs here */
	CHECK_EQ_U(seen[TIMER_SOFTIRQ].runs, 1);
	CHECK(!softirq_ksoftirqd_pending());
	hard_irq_raising(NET_RX_SOFTIRQ);
	CHECK_EQ_U(seen[NET_RX_SOFTIRQ].runs, 1);  /* not left behind */
	CHECK_EQ_U(sq.deferred_to_ksoftirqd, 0);
	CHECK_EQ_U(local_softirq_pending(), 0);
}

int main(void)
{
	open_softirq(HI_SOFTIRQ, h_hi);
	open_softirq(TIMER_SOFTIRQ, h_timer);
	open_softirq(NET_RX_SOFTIRQ, h_net_rx);
	test_runs_in_irq_exit();
	test_task_raise_goes_to_ksoftirqd();
	test_restart_limit();
	test_time_limit();
	test_need_resched_ends_pass();
	test_no_recursion_from_nested_irq();
	test_bit_order();
	test_bh_disable();
	test_leak_is_repaired();
	test_tasklets();
	test_drained_handoff_is_cleared();
	return check_summary("test_softirq");
}
