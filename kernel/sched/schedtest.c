/*
 * schedtest.c - shell commands that make the scheduler's rules
 * observable (tests/scenarios/test_sched.py drives them):
 *
 *   schedtest kloop [ms]    two kernel threads busy-loop for ms (default
 *                           300) with preemption enabled; the timer must
 *                           take the CPU from each in turn
 *   schedtest atomic [ms]   a kernel thread busy-loops inside
 *                           preempt_disable() for ms (default 100) while
 *                           another waits for the CPU: no switch may
 *                           happen inside, the waiting one runs at the
 *                           preempt_enable()
 *   sleepbug <where>        calls msleep(5) where sleeping is forbidden:
 *                           preempt | irqoff | bh | irq | softirq, or
 *                           schedule() with preemption off (schedule);
 *                           the BUG must be reported and the kernel go on
 *   msleep <ms>             sleeps (TIMER_SOFTIRQ wakes it)
 *
 * Each schedtest/sleepbug prints one JSON line. Shell (task) context.
 * The `irq` case uses test vector 0xE8 (kernel/irq.h's test range) with a
 * self-IPI; the `softirq` case a tasklet scheduled from task context,
 * which ksoftirqd then runs.
 */
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/preempt.h"
#include "kernel/softirq.h"
#include "kernel/irq.h"
#include "kernel/irqflags.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/arch/lapic.h"
#include "kernel/lib/string.h"

#define SCHEDTEST_VECTOR 0xe8
#define MAX_MS 5000

static struct wait_queue done_wq = WAIT_QUEUE_INIT;

static uint64_t ms_cycles(uint64_t ms)
{
	return ms * (tsc_khz ? tsc_khz : 2000000);
}

static uint64_t cycles_us(uint64_t c)
{
	return tsc_to_ns(c) / 1000;
}

/* ---- kloop -------------------------------------------------------------- */

struct loop {
	struct task *task;
	uint64_t ms;
	volatile uint64_t iters;
	uint64_t saw_other;        /* times we saw the other thread progress meanwhile */
	uint64_t max_gap;          /* longest stretch between two of our iterations */
	volatile bool done;
	struct loop *other;
};

static struct loop loops[2];

/*
 * Busy loop in task context, preemption enabled, IF=1. Counts how often
 * the other loop advanced between two of our iterations (only possible
 * if the CPU was taken from us), and the longest gap between iterations
 * (an interrupt handler is microseconds; being preempted is a slice).
 */
static int loop_fn(void *arg)
{
	struct loop *l = arg;
	uint64_t end = rdtsc() + ms_cycles(l->ms);
	uint64_t seen = l->other ? l->other->iters : 0, prev = rdtsc();

	for (;;) {
		uint64_t now = rdtsc();
		if (now - prev > l->max_gap)
			l->max_gap = now - prev;
		prev = now;
		if (now >= end)
			break;
		l->iters++;
		if (l->other && l->other->iters != seen) {
			l->saw_other++;
			seen = l->other->iters;
		}
	}
	l->done = true;
	wake_up(&done_wq);
	return 0;
}

static int start_loops(uint64_t ms)
{
	memset(loops, 0, sizeof(loops));
	for (int i = 0; i < 2; i++) {
		loops[i].ms = ms;
		loops[i].other = &loops[!i];
	}
	for (int i = 0; i < 2; i++) {
		loops[i].task = kthread_create(loop_fn, &loops[i], i ? "kloop1" : "kloop0");
		if (!loops[i].task)
			return -ENOMEM;
	}
	return 0;
}

static int cmd_kloop(uint64_t ms)
{
	int err = start_loops(ms);
	if (err)
		return err;
	if (!wait_event_timeout(&done_wq, loops[0].done && loops[1].done, (ms * 4 / 1000 + 2) * hz))
		return -ETIMEDOUT;
	kprintf("{\"test\":\"kloop\",\"ms\":%lu,\"slice_ticks\":%u,\"threads\":[", ms,
		sched_slice_ticks());
	for (int i = 0; i < 2; i++) {
		struct task *t = loops[i].task;
		kprintf("%s{\"pid\":%d,\"iters\":%lu,\"saw_other\":%lu,\"preempt_kernel\":%lu,"
			"\"preempt_enable\":%lu,\"switches\":%lu,\"max_gap_us\":%lu}", i ? "," : "",
			t->pid, loops[i].iters, loops[i].saw_other, t->nr_preempt_kernel,
			t->nr_preempt_enable, t->nr_switches, cycles_us(loops[i].max_gap));
	}
	kprintf("]}\n");
	return 0;
}

/* ---- atomic ------------------------------------------------------------- */

static struct {
	uint64_t ms;
	uint64_t before_kernel, before_enable, before_switches;
	uint64_t inside_kernel, inside_switches;   /* deltas measured inside */
	uint64_t after_enable;                     /* delta once preempt_enable() returned */
	uint64_t ticks_inside, max_gap, other_iters_inside;
	bool need_resched_seen;
	volatile bool done;
} at;

static int atomic_fn(void *arg)
{
	struct task *me = current;
	struct loop *other = &loops[0];

	/* Let the competitor get going, so it is waiting whenever we run. */
	while (!other->iters)
		yield();
	at.before_kernel = me->nr_preempt_kernel;
	at.before_enable = me->nr_preempt_enable;
	at.before_switches = me->nr_switches;

	preempt_disable();
	uint64_t j0 = jiffies, o0 = other->iters, prev = rdtsc();
	uint64_t end = prev + ms_cycles(at.ms);
	for (;;) {
		uint64_t now = rdtsc();
		if (now - prev > at.max_gap)
			at.max_gap = now - prev;
		prev = now;
		if (now >= end)
			break;
	}
	at.need_resched_seen = need_resched();
	at.ticks_inside = jiffies - j0;
	at.other_iters_inside = other->iters - o0;
	at.inside_kernel = me->nr_preempt_kernel - at.before_kernel;
	at.inside_switches = me->nr_switches - at.before_switches;
	preempt_enable();   /* need_resched is set: the competitor runs now */
	at.after_enable = me->nr_preempt_enable - at.before_enable;
	at.done = true;
	wake_up(&done_wq);
	return 0;
}

static int cmd_atomic(uint64_t ms)
{
	memset(&at, 0, sizeof(at));
	memset(loops, 0, sizeof(loops));
	at.ms = ms;
	/* the competitor: a plain preemptible loop lasting well beyond us */
	loops[0].ms = ms * 3 + 100;
	loops[0].task = kthread_create(loop_fn, &loops[0], "kloop0");
	if (!loops[0].task)
		return -ENOMEM;
	struct task *a = kthread_create(atomic_fn, NULL, "atomic");
	if (!a)
		return -ENOMEM;
	if (!wait_event_timeout(&done_wq, at.done && loops[0].done, (ms * 8 / 1000 + 3) * hz))
		return -ETIMEDOUT;
	kprintf("{\"test\":\"atomic\",\"ms\":%lu,\"pid\":%d,\"ticks_inside\":%lu,"
		"\"need_resched_seen\":%s,\"preempted_inside\":%lu,\"switches_inside\":%lu,"
		"\"other_progress_inside\":%lu,\"max_gap_us\":%lu,\"preempted_at_enable\":%lu}\n",
		ms, a->pid, at.ticks_inside, at.need_resched_seen ? "true" : "false",
		at.inside_kernel, at.inside_switches, at.other_iters_inside,
		cycles_us(at.max_gap), at.after_enable);
	return 0;
}

static int cmd_schedtest(int argc, char **argv)
{
	uint64_t ms;

	if (argc < 2)
		return -EINVAL;
	ms = !strcmp(argv[1], "atomic") ? 100 : 300;
	if (argc > 2 && (!parse_u64(argv[2], &ms) || ms == 0 || ms > MAX_MS))
		return -EINVAL;
	if (!strcmp(argv[1], "kloop"))
		return cmd_kloop(ms);
	if (!strcmp(argv[1], "atomic"))
		return cmd_atomic(ms);
	return -EINVAL;
}
SHELL_CMD("schedtest", cmd_schedtest, "kloop|atomic [ms]",
	  "preemption tests: kernel busy loops, and a busy loop inside preempt_disable()");

/* ---- sleeping where it is forbidden ------------------------------------- */

static volatile bool bug_done;
static uint64_t bug_elapsed;

static void sleep_here(void)
{
	uint64_t t0 = rdtsc();
	msleep(5);
	bug_elapsed = rdtsc() - t0;
	bug_done = true;
	wake_up(&done_wq);
}

/* Hard-IRQ context (test vector), IF=0. */
static void bug_irq(struct trap_frame *tf, void *ctx)
{
	sleep_here();
}

/* Softirq context (TASKLET_SOFTIRQ), IF=1. */
static void bug_tasklet_fn(unsigned long data)
{
	sleep_here();
}
static struct tasklet bug_tasklet = TASKLET_INIT(bug_tasklet_fn, 0);

static int cmd_sleepbug(int argc, char **argv)
{
	static bool vector_ready;
	uint64_t before = sched_sleep_bugs, before_atomic = sched_atomic_bugs;
	const char *w = argc > 1 ? argv[1] : "";

	bug_done = false;
	bug_elapsed = 0;
	if (!strcmp(w, "preempt")) {
		preempt_disable();
		sleep_here();
		preempt_enable();
	} else if (!strcmp(w, "irqoff")) {
		local_irq_disable();
		sleep_here();
		local_irq_enable();
	} else if (!strcmp(w, "bh")) {
		local_bh_disable();
		sleep_here();
		local_bh_enable();
	} else if (!strcmp(w, "schedule")) {
		uint64_t t0 = rdtsc();
		preempt_disable();
		set_current_state(TASK_SLEEPING);
		schedule();                      /* must refuse and return */
		__set_current_state(TASK_RUNNING);
		preempt_enable();
		bug_elapsed = rdtsc() - t0;
		bug_done = true;
	} else if (!strcmp(w, "irq")) {
		if (!vector_ready) {
			int err = irq_request(SCHEDTEST_VECTOR, bug_irq, NULL, "sleepbug");
			if (err)
				return err;
			vector_ready = true;
		}
		int err = lapic_send_self_ipi(SCHEDTEST_VECTOR);
		if (err)
			return err;
	} else if (!strcmp(w, "softirq")) {
		tasklet_schedule(&bug_tasklet);
	} else {
		return -EINVAL;
	}
	/* irq and softirq run asynchronously: wait (really sleeping) */
	wait_event_timeout(&done_wq, bug_done, hz);
	kprintf("{\"test\":\"sleepbug\",\"where\":\"%s\",\"done\":%s,\"caught\":%lu,"
		"\"atomic_bugs\":%lu,\"elapsed_us\":%lu}\n", w, bug_done ? "true" : "false",
		sched_sleep_bugs - before, sched_atomic_bugs - before_atomic,
		cycles_us(bug_elapsed));
	return 0;
}
SHELL_CMD("sleepbug", cmd_sleepbug, "preempt|irqoff|bh|irq|softirq|schedule",
	  "sleep (msleep 5) where it is forbidden: the BUG is reported, the kernel goes on");

static int cmd_msleep(int argc, char **argv)
{
	uint64_t ms;

	if (argc != 2 || !parse_u64(argv[1], &ms) || ms > 60000)
		return -EINVAL;
	uint64_t t0 = rdtsc();
	msleep((unsigned)ms);
	kprintf("msleep: slept %lu us\n", cycles_us(rdtsc() - t0));
	return 0;
}
SHELL_CMD("msleep", cmd_msleep, "<ms>", "sleep in the shell task (timed sleep via TIMER_SOFTIRQ)");
