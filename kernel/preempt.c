/*
 * preempt.c - the preempt_count word and need_resched flag (preempt.h)
 * and the underflow report. preempt_schedule(), which preempt_enable()
 * calls, is the scheduler's (kernel/sched/sched.c).
 */
#include "kernel/preempt.h"
#include "kernel/printk.h"

unsigned int preempt_count_word;
volatile int need_resched_flag;
/* How many unmatched preempt_enable() calls were caught (for tests). */
unsigned int preempt_underflows;

/* A preempt_enable() with the PREEMPT field already 0 would borrow from
 * the softirq field and corrupt the context; leave the word alone and say
 * where. Any context. */
void preempt_count_underflow(void)
{
	preempt_underflows++;
	pr_err("preempt: preempt_enable() with preempt_count 0x%x (unbalanced)",
	       preempt_count());
	WARN_ON(1);
}
