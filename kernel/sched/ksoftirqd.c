/*
 * ksoftirqd.c - the thread that runs softirq work handed over by the
 * softirq core (kernel/softirq.c): when one __do_softirq() pass hits its
 * restart or time limit, or a softirq is raised from task context, the
 * core calls wakeup_ksoftirqd(). This thread then runs bounded passes
 * (ksoftirqd_run) in task context, as an ordinary task: the scheduler
 * shares the CPU between it and everything else, which is the point -
 * a flood of softirq work cannot starve tasks this way (Linux's
 * ksoftirqd, kernel/softirq.c there).
 */
#include "kernel/sched/sched.h"
#include "kernel/softirq.h"
#include "kernel/preempt.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/panic.h"

static struct task *ksoftirqd_task;
static uint64_t ksoftirqd_passes;

/* Called by the softirq core (softirq.h). Any context but NMI; usually
 * hard IRQ or the end of a softirq pass with IF=0. */
void wakeup_ksoftirqd(void)
{
	softirq_mark_ksoftirqd();
	if (ksoftirqd_task)
		wake_up_process(ksoftirqd_task);
}

static int ksoftirqd_fn(void *arg)
{
	for (;;) {
		set_current_state(TASK_SLEEPING);
		if (!softirq_ksoftirqd_pending()) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		ksoftirqd_passes++;
		/* One bounded pass with IF=1 between handlers; if work
		 * remains it calls wakeup_ksoftirqd() again. */
		ksoftirqd_run();
		/* The tick that ends our slice arrives during the pass, in
		 * softirq context, where it cannot preempt us: it only sets
		 * need_resched and the pass stops early. Honour it here
		 * (Linux's run_ksoftirqd() ends with cond_resched()), or this
		 * loop would run pass after pass and starve every task. */
		if (need_resched())
			schedule();
	}
	return 0;
}

void ksoftirqd_start(void)
{
	ksoftirqd_task = kthread_create(ksoftirqd_fn, NULL, "ksoftirqd");
	BUG_ON(!ksoftirqd_task);
}

uint64_t ksoftirqd_pass_count(void)
{
	return ksoftirqd_passes;
}
