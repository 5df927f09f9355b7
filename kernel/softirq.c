/*
 * softirq.c - softirq raising and processing, irq_enter()/irq_exit(),
 * local_bh_enable() and the ksoftirqd hand-off; see softirq.h.
 *
 * The pending mask is changed only with IF=0 (raise_softirq_irqoff() and
 * __do_softirq() both run with interrupts off while they touch it), which
 * on one CPU is all the exclusion it needs; an NMI never raises softirqs.
 */
#include "kernel/softirq.h"
#include "kernel/preempt.h"
#include "kernel/trace.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#ifndef HOST_TEST
/* tests/unit/test_softirq.c supplies these (a fake clock and IF flag) */
#include "kernel/irqflags.h"
#include "kernel/time.h"
#include "kernel/cpu.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/lib/json.h"
#define softirq_clock() rdtsc()
#endif

static void tasklet_action(void);
/* TASKLET_SOFTIRQ is ours from the start, so tasklets work at any time. */
static void (*softirq_vec[NR_SOFTIRQS])(void) = {
	[TASKLET_SOFTIRQ] = tasklet_action,
};
static volatile uint32_t softirq_pending_mask;
static struct softirq_stat softirq_stats[NR_SOFTIRQS];
static volatile bool ksoftirqd_flag;
/* What started the pass that is running now (passes never nest). */
static enum softirq_origin cur_origin;

/* Totals that are not per softirq. */
static struct {
	uint64_t passes;          /* __do_softirq() calls */
	uint64_t from_irq_exit;
	uint64_t from_bh_enable;
	uint64_t from_ksoftirqd;
	uint64_t hit_restart_limit;
	uint64_t hit_time_limit;
	uint64_t hit_need_resched;
	uint64_t ksoftirqd_wakeups;
	uint64_t deferred_to_ksoftirqd; /* irq_exit() left pending work to ksoftirqd */
	uint64_t no_handler;      /* raised with no handler installed */
	uint64_t count_leaks;     /* a handler returned with preempt_count changed */
	uint64_t irqs_off_leaks;  /* a handler returned with IF=0 */
} sq;

static const char *const names[NR_SOFTIRQS] = {
	[HI_SOFTIRQ] = "HI",
	[TIMER_SOFTIRQ] = "TIMER",
	[NET_TX_SOFTIRQ] = "NET_TX",
	[NET_RX_SOFTIRQ] = "NET_RX",
	[TASKLET_SOFTIRQ] = "TASKLET",
};

void open_softirq(int nr, void (*action)(void))
{
	BUG_ON(nr < 0 || nr >= NR_SOFTIRQS);
	if (softirq_vec[nr] && softirq_vec[nr] != action)
		pr_warn("softirq: %s handler replaced", names[nr]);
	softirq_vec[nr] = action;
}

uint32_t local_softirq_pending(void)
{
	return softirq_pending_mask;
}

void softirq_mark_ksoftirqd(void)
{
	ksoftirqd_flag = true;
	sq.ksoftirqd_wakeups++;
}

bool softirq_ksoftirqd_pending(void)
{
	return ksoftirqd_flag && softirq_pending_mask;
}

void raise_softirq_irqoff(int nr)
{
	BUG_ON(nr < 0 || nr >= NR_SOFTIRQS);
	softirq_pending_mask |= 1u << nr;
	softirq_stats[nr].raised++;
	/*
	 * Raised from task context (not inside an interrupt or a softirq, bh
	 * enabled): no irq_exit() is coming to run it, so, as Linux does,
	 * hand it to ksoftirqd.
	 */
	if (!in_interrupt())
		wakeup_ksoftirqd();
}

void raise_softirq(int nr)
{
	uint64_t flags = local_irq_save();
	raise_softirq_irqoff(nr);
	local_irq_restore(flags);
}

/* Cycles in SOFTIRQ_MAX_TIME_US; 0 (no time bound, only the restart bound)
 * while the TSC is not calibrated. */
static uint64_t max_time_cycles(void)
{
	return tsc_khz * SOFTIRQ_MAX_TIME_US / 1000;
}

/*
 * One bounded processing pass. Called with IF=0 and !in_interrupt();
 * returns with IF=0. Handlers run with IF=1 inside SOFTIRQ_OFFSET, so a
 * hard IRQ arriving meanwhile is taken, raises bits and returns here
 * (its irq_exit() sees in_interrupt() and does not recurse).
 */
static void __do_softirq(enum softirq_origin origin)
{
	uint64_t start = softirq_clock();
	uint64_t budget = max_time_cycles();
	int restart = SOFTIRQ_MAX_RESTART;
	uint32_t pending;

	sq.passes++;
	cur_origin = origin;
	preempt_count_add(SOFTIRQ_OFFSET);
	ctx_transition(CTX_SOFTIRQ, TC_SOFTIRQ_START, 0); /* context trace (kernel/trace.h) */
again:
	pending = softirq_pending_mask;
	softirq_pending_mask = 0;
	local_irq_enable();
	while (pending) {
		int nr = __builtin_ctz(pending);
		unsigned pc = preempt_count();
		pending &= pending - 1;
		if (!softirq_vec[nr]) {
			sq.no_handler++;
			continue;
		}
		uint64_t t0 = softirq_clock();
		softirq_vec[nr]();
		uint64_t dt = softirq_clock() - t0;
		softirq_stats[nr].run++;
		if (dt > softirq_stats[nr].max_cycles)
			softirq_stats[nr].max_cycles = dt;
		if (preempt_count() != pc) {
			/* A handler that leaks a preempt_disable() or a
			 * local_bh_disable() would leave every later context
			 * wrong: report it and put the count back. */
			sq.count_leaks++;
			pr_err("softirq: %s handler changed preempt_count 0x%x -> 0x%x",
			       names[nr], pc, preempt_count());
			preempt_count_word = pc;
		}
		if (irqs_disabled()) {
			sq.irqs_off_leaks++;
			pr_err("softirq: %s handler returned with interrupts off", names[nr]);
			local_irq_enable();
		}
	}
	local_irq_disable();

	pending = softirq_pending_mask;
	if (pending) {
		bool time_left = !budget || softirq_clock() - start < budget;
		if (time_left && !need_resched() && --restart) {
			for (uint32_t p = pending; p; p &= p - 1)
				softirq_stats[__builtin_ctz(p)].restarts++;
			goto again;
		}
		if (!time_left)
			sq.hit_time_limit++;
		else if (need_resched())
			sq.hit_need_resched++;
		else
			sq.hit_restart_limit++;
		for (uint32_t p = pending; p; p &= p - 1)
			softirq_stats[__builtin_ctz(p)].to_ksoftirqd++;
		wakeup_ksoftirqd();
	} else {
		/* Nothing left: whatever ksoftirqd was woken for has been done
		 * here (a pass from local_bh_enable() or irq_exit() may drain
		 * it first). End the hand-off, or irq_exit() would leave the
		 * next raise to a ksoftirqd that finds nothing, sleeps, and is
		 * never woken again for it: the softirq would stall. */
		ksoftirqd_flag = false;
	}
	cur_origin = SOFTIRQ_FROM_NONE;
	preempt_count_sub(SOFTIRQ_OFFSET);
	ctx_sync(TC_SOFTIRQ_END);       /* context trace: back to what ran us */
}

static void do_softirq_from(enum softirq_origin origin)
{
	if (in_interrupt())
		return;
	uint64_t flags = local_irq_save();
	if (softirq_pending_mask)
		__do_softirq(origin);
	local_irq_restore(flags);
}

void do_softirq(void)
{
	do_softirq_from(SOFTIRQ_FROM_DO_SOFTIRQ);
}

enum softirq_origin softirq_pass_origin(uint64_t *pass)
{
	if (pass)
		*pass = sq.passes;
	return in_serving_softirq() ? cur_origin : SOFTIRQ_FROM_NONE;
}

void ksoftirqd_run(void)
{
	WARN_ON(in_interrupt());
	uint64_t flags = local_irq_save();
	ksoftirqd_flag = false;
	if (softirq_pending_mask && !in_interrupt()) {
		sq.from_ksoftirqd++;
		__do_softirq(SOFTIRQ_FROM_KSOFTIRQD);
	}
	local_irq_restore(flags);
}

/* Hard-IRQ entry: IF=0 (interrupt gate). */
void irq_enter(void)
{
	preempt_count_add(HARDIRQ_OFFSET);
}

/*
 * Hard-IRQ exit, after the handler and the EOI (the EOI must come first:
 * softirqs run with IF=1 and the LAPIC would otherwise keep every vector
 * of the same or lower priority class blocked behind the ISR bit).
 * IF=0 on entry and on return.
 */
void irq_exit(void)
{
	preempt_count_sub(HARDIRQ_OFFSET);
	if (in_interrupt() || !softirq_pending_mask)
		return;
	/*
	 * Once a pass has handed work to ksoftirqd and ksoftirqd has not run
	 * yet, leave the work to it rather than run it here on the back of
	 * whatever interrupt came next (the timer, every tick). Otherwise an
	 * overloaded softirq runs on every irq_exit and the tasks get only
	 * what is left: the thread exists precisely so that the scheduler
	 * shares the CPU between softirq work and tasks. Linux does the same
	 * ("softirq: Let ksoftirqd do its job", invoke_softirq() checking
	 * ksoftirqd_running()).
	 */
	if (ksoftirqd_flag) {
		sq.deferred_to_ksoftirqd++;
		return;
	}
	sq.from_irq_exit++;
	__do_softirq(SOFTIRQ_FROM_IRQ_EXIT);
}

void local_bh_enable(void)
{
	unsigned pc = preempt_count();

	WARN_ON(pc_in_hardirq(pc));
	if (pc_bh_disable_depth(pc) == 0) {
		pr_err("softirq: local_bh_enable() without local_bh_disable() (preempt_count 0x%x)", pc);
		WARN_ON(1);
		return;
	}
	/* Drop the bh count but keep preemption off while softirqs run, so
	 * the task is not switched away with them half done (Linux does the
	 * same in __local_bh_enable_ip). */
	preempt_count_sub(SOFTIRQ_DISABLE_OFFSET - PREEMPT_OFFSET);
	if (!in_interrupt() && softirq_pending_mask) {
		if (irqs_disabled()) {
			/* Running them would turn interrupts on behind the
			 * caller's back; leave them to the next irq_exit. */
			WARN_ON(1);
		} else {
			sq.from_bh_enable++;
			do_softirq_from(SOFTIRQ_FROM_BH_ENABLE);
		}
	}
	preempt_enable();
}

/* ---------------------------------------------------------------- tasklets */

static struct tasklet *tasklet_head;
static struct tasklet **tasklet_tail = &tasklet_head;

void tasklet_schedule(struct tasklet *t)
{
	uint64_t flags = local_irq_save();
	if (!t->scheduled) {
		t->scheduled = true;
		t->next = NULL;
		*tasklet_tail = t;
		tasklet_tail = &t->next;
		raise_softirq_irqoff(TASKLET_SOFTIRQ);
	}
	local_irq_restore(flags);
}

/*
 * TASKLET_SOFTIRQ: runs the tasklets queued when it started (IF=1). Those
 * scheduled meanwhile, including by themselves, form a new list and
 * raise the softirq again, so one pass is bounded by the list it took.
 */
static void tasklet_action(void)
{
	local_irq_disable();
	struct tasklet *list = tasklet_head;
	tasklet_head = NULL;
	tasklet_tail = &tasklet_head;
	local_irq_enable();

	while (list) {
		struct tasklet *t = list;
		list = t->next;
		t->scheduled = false;   /* before the call: it may reschedule itself */
		t->func(t->data);
	}
}

void softirq_get_stat(int nr, struct softirq_stat *out)
{
	BUG_ON(nr < 0 || nr >= NR_SOFTIRQS);
	*out = softirq_stats[nr];
}

#ifndef HOST_TEST
static void softirq_stats_json(struct json *j)
{
	for (int nr = 0; nr < NR_SOFTIRQS; nr++) {
		const struct softirq_stat *s = &softirq_stats[nr];
		json_obj_begin(j, names[nr]);
		json_u64(j, "raised", s->raised);
		json_u64(j, "run", s->run);
		json_u64(j, "restarts", s->restarts);
		json_u64(j, "to_ksoftirqd", s->to_ksoftirqd);
		json_u64(j, "max_cycles", s->max_cycles);
		json_obj_end(j);
	}
	json_u64(j, "pending", softirq_pending_mask);
	json_u64(j, "passes", sq.passes);
	json_u64(j, "from_irq_exit", sq.from_irq_exit);
	json_u64(j, "from_bh_enable", sq.from_bh_enable);
	json_u64(j, "from_ksoftirqd", sq.from_ksoftirqd);
	json_u64(j, "hit_restart_limit", sq.hit_restart_limit);
	json_u64(j, "hit_time_limit", sq.hit_time_limit);
	json_u64(j, "hit_need_resched", sq.hit_need_resched);
	json_u64(j, "ksoftirqd_wakeups", sq.ksoftirqd_wakeups);
	json_u64(j, "irq_exit_deferred", sq.deferred_to_ksoftirqd);
	json_bool(j, "ksoftirqd_pending", softirq_ksoftirqd_pending());
	json_u64(j, "no_handler", sq.no_handler);
	json_u64(j, "count_leaks", sq.count_leaks);
	json_u64(j, "irqs_off_leaks", sq.irqs_off_leaks);
	json_u64(j, "max_restart", SOFTIRQ_MAX_RESTART);
	json_u64(j, "max_time_us", SOFTIRQ_MAX_TIME_US);
}
STATS_SECTION("softirq", softirq_stats_json);
#endif
