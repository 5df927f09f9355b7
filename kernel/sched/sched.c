/*
 * sched.c - schedule(), preemption, wake-ups, timed sleep, the tick, and
 * the scheduler's stats; the rules are in sched.h.
 *
 * Exclusion: the run queue, the sleep queue and task states change only
 * with IF=0. One CPU, so that is enough; and since every interrupt
 * handler that wakes a task runs with IF=0 too, a wake-up can never see
 * a half-updated queue.
 *
 * A switch, step by step (__schedule):
 *   1. preempt_count is PREEMPT_OFFSET (schedule() or the preemption
 *      paths put it there), IF=0 (saved, restored at the end)
 *   2. prev goes back on the run queue unless it sleeps or died
 *   3. next = the run queue's head, or the idle task
 *   4. the context trace records task -> task, the next address space,
 *      TSS.RSP0 and the syscall stack are loaded (kernel/user/uvm.c)
 *   5. context_switch() saves prev's callee-saved registers and RSP and
 *      loads next's; it "returns" on next's stack, in next's own earlier
 *      call to __schedule (or in task_entry_trampoline for a new task)
 *   6. next frees a dead prev's stack, restores its own IF
 * Nothing can interrupt steps 2-6 (IF=0), which is what makes the switch
 * atomic: an interrupt arriving meanwhile waits in the LAPIC's IRR and is
 * taken by next once it re-enables interrupts.
 *
 * TIMER_SOFTIRQ belongs to the scheduler: the tick raises it when the
 * earliest timed sleeper is due, and its action wakes every due sleeper
 * (as Linux's run_timer_softirq does for its timers), so the hard-IRQ
 * part of the tick stays a few instructions long.
 */
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/user/user.h"
#include "kernel/preempt.h"
#include "kernel/softirq.h"
#include "kernel/irqflags.h"
#include "kernel/cpu.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/registry.h"
#include "kernel/cmdline.h"
#include "kernel/shell.h"
#include "kernel/timer.h"
#include "kernel/time.h"
#include "kernel/trace.h"
#include "kernel/lib/json.h"

static struct runqueue runq;
static struct sleepq sleepers;
static unsigned timeslice_ms = 10;
static unsigned slice_ticks = 1;
static bool sched_up;

uint64_t sched_sleep_bugs;
uint64_t sched_atomic_bugs;
static struct {
	uint64_t switches;
	uint64_t voluntary;
	uint64_t preempt_irq;
	uint64_t preempt_user;
	uint64_t preempt_enable;
	uint64_t ticks_resched;      /* ticks that set need_resched */
	uint64_t timer_softirqs;
	uint64_t timed_wakeups;
	uint64_t wakeups;
} ss;

static int set_timeslice(const char *v)
{
	unsigned long n;
	int err = kparam_uint(v, 1, 1000, &n);
	if (!err)
		timeslice_ms = (unsigned)n;
	return err;
}
KPARAM("timeslice_ms", set_timeslice, "scheduler time slice in ms, 1-1000 (default 10; at least one tick)");

unsigned sched_slice_ticks(void)
{
	return slice_ticks;
}

unsigned sched_nr_waiting(void)
{
	return rq_len(&runq);
}

/* ---- the switch --------------------------------------------------------- */

/* Counts why prev leaves the CPU. IF=0. */
static void count_reason(struct task *prev, enum sched_reason why)
{
	switch (why) {
	case SCHED_VOLUNTARY:
		prev->nr_voluntary++;
		ss.voluntary++;
		break;
	case SCHED_PREEMPT_IRQ:
		prev->nr_preempt_kernel++;
		ss.preempt_irq++;
		break;
	case SCHED_PREEMPT_USER:
		prev->nr_preempt_user++;
		ss.preempt_user++;
		break;
	case SCHED_PREEMPT_ENABLE:
		prev->nr_preempt_enable++;
		ss.preempt_enable++;
		break;
	}
}

/*
 * Picks the next task and switches to it. Entered with preempt_count ==
 * PREEMPT_OFFSET (the caller's), any IF; returns, in this task, when it
 * is picked again, with IF as it was.
 */
static void __schedule(enum sched_reason why)
{
	uint64_t flags = local_irq_save();
	struct task *prev = current, *next;
	struct rq_node *n;

	if (preempt_count() != PREEMPT_OFFSET) {
		/* Every task must resume with the count it left with (the
		 * count is per CPU): a switch in another state would hand
		 * the wrong context to the next task. */
		pr_err("sched: switch with preempt_count %#x (want %#x)", preempt_count(),
		       PREEMPT_OFFSET);
		WARN_ON(1);
	}
	clear_need_resched();
	/*
	 * prev stays runnable if it is RUNNING (yield, preemption), and
	 * also when it is forced off between set_current_state(SLEEPING)
	 * and its own schedule(): it has not gone to sleep yet, and
	 * dequeuing it would lose it if its wake-up already came.
	 */
	if (prev != idle_task && prev->state != TASK_DEAD &&
	    (prev->state == TASK_RUNNING || why != SCHED_VOLUNTARY) && !rq_queued(&prev->rq))
		rq_enqueue(&runq, &prev->rq);
	n = rq_pop(&runq);
	next = n ? rq_entry(n, struct task, rq) : idle_task;
	if (next == prev) {
		prev->slice_left = slice_ticks;
		local_irq_restore(flags);
		return;
	}
	count_reason(prev, why);
	ss.switches++;
	next->nr_switches++;
	next->slice_left = slice_ticks;
	ctx_transition(CTX_TASK, why == SCHED_VOLUNTARY ? TC_SCHEDULE : TC_PREEMPT, next->pid);
	user_switch_mm(next);
	current = next;
	prev = context_switch(prev, next);
	/* Now on our own stack again; prev is whoever ran just before. */
	task_reap_after_switch(prev);
	local_irq_restore(flags);
}

/*
 * First code of every new task, called by task_entry_trampoline with
 * the task that switched to it; IF=0, preempt_count PREEMPT_OFFSET (left
 * by the switch). Drops both and lets the thread function run.
 */
void sched_task_start(struct task *prev)
{
	task_reap_after_switch(prev);
	preempt_count_sub(PREEMPT_OFFSET);
	local_irq_enable();
}

static void sched_atomic_bug(const char *what)
{
	unsigned pc = preempt_count();

	sched_atomic_bugs++;
	printk(LOG_ERR, "BUG: %s while atomic: %s/%d/%#010x (preempt %u, softirq %#x, "
	       "hardirq %u, nmi %u), irqs_disabled %d", what, current ? current->name : "?",
	       current ? current->pid : -1, pc, pc_preempt(pc), pc_softirq(pc) >> SOFTIRQ_SHIFT,
	       pc_hardirq_depth(pc), pc_nmi_depth(pc), irqs_disabled());
	dump_backtrace();
}

void schedule(void)
{
	if (!sched_up)
		return;
	if (preempt_count() != 0) {
		sched_atomic_bug("scheduling");
		return;        /* the caller continues; see sched.h */
	}
	/* Raw add, not preempt_disable(): the switch itself is the event the
	 * context trace records (task -> task), not an atomic section. */
	preempt_count_add(PREEMPT_OFFSET);
	__schedule(SCHED_VOLUNTARY);
	preempt_count_sub(PREEMPT_OFFSET);
	/* An interrupt in the IF=1 windows around __schedule() returns into
	 * this preempt-off section and marks the CPU atomic; leave it
	 * consistent with the count again. */
	ctx_sync(TC_PREEMPT_ENABLE);
}

void yield(void)
{
	schedule();   /* current is RUNNING: it goes to the tail */
}

/* preempt_enable() brought the count to 0 with need_resched set. */
void preempt_schedule(void)
{
	if (!sched_up || preempt_count() != 0 || irqs_disabled())
		return;
	do {
		preempt_count_add(PREEMPT_OFFSET);
		__schedule(SCHED_PREEMPT_ENABLE);
		preempt_count_sub(PREEMPT_OFFSET);
		ctx_sync(TC_PREEMPT_ENABLE);   /* as in schedule() */
	} while (need_resched());
}

/*
 * kernel/irq.c, on the way out of a hardware interrupt that interrupted
 * kernel code running with IF=1 and preempt_count 0, need_resched set.
 * IF=0 here and on return (the iretq restores the interrupted IF=1).
 */
void preempt_schedule_irq(void)
{
	if (!sched_up)
		return;
	BUG_ON(preempt_count() != 0 || !irqs_disabled());
	do {
		preempt_count_add(PREEMPT_OFFSET);
		__schedule(SCHED_PREEMPT_IRQ);
		preempt_count_sub(PREEMPT_OFFSET);
	} while (need_resched());
}

void sched_resched_before_user(void)
{
	if (!sched_up)
		return;
	while (need_resched()) {
		preempt_count_add(PREEMPT_OFFSET);
		__schedule(SCHED_PREEMPT_USER);
		preempt_count_sub(PREEMPT_OFFSET);
	}
}

/* task_exit(): the current task is TASK_DEAD; switch away for good. */
void sched_switch_away_dead(void)
{
	local_irq_disable();
	preempt_count_word = PREEMPT_OFFSET;
	__schedule(SCHED_VOLUNTARY);
}

/* ---- wake-ups and sleeping ---------------------------------------------- */

bool wake_up_process(struct task *t)
{
	uint64_t flags = local_irq_save();
	bool was_sleeping = t->state == TASK_SLEEPING;

	if (was_sleeping) {
		t->state = TASK_RUNNING;
		ss.wakeups++;
		/* The current task may wake itself (an interrupt between its
		 * set_current_state and schedule): it is running, not queued. */
		if (t != current && t != idle_task && !rq_queued(&t->rq))
			rq_enqueue(&runq, &t->rq);
		/* Idle has nothing to finish: switch on the way out of this
		 * interrupt (or at the idle loop's next check). */
		if (current == idle_task)
			set_need_resched();
	}
	local_irq_restore(flags);
	return was_sleeping;
}

bool __might_sleep(const char *file, int line)
{
	unsigned pc = preempt_count();
	bool irqs_off = irqs_disabled();

	if (!sched_up || (pc == 0 && !irqs_off))
		return true;
	sched_sleep_bugs++;
	printk(LOG_ERR, "BUG: sleeping function called from invalid context at %s:%d", file, line);
	printk(LOG_ERR, "in_atomic(): %d, irqs_disabled(): %d, preempt_count: %#x (preempt %u, "
	       "softirq %#x, hardirq %u, nmi %u; in_irq %d in_serving_softirq %d), pid: %d, name: %s",
	       pc_in_atomic(pc), irqs_off, pc, pc_preempt(pc), pc_softirq(pc) >> SOFTIRQ_SHIFT,
	       pc_hardirq_depth(pc), pc_nmi_depth(pc), pc_in_hardirq(pc),
	       pc_in_serving_softirq(pc), current ? current->pid : -1,
	       current ? current->name : "?");
	dump_backtrace();
	printk(LOG_ERR, "sched: the sleep is skipped; the caller continues");
	return false;
}

uint64_t schedule_timeout(uint64_t ticks)
{
	struct task *t = current;
	uint64_t deadline = jiffies + ticks, flags;

	if (ticks == WAIT_FOREVER) {
		schedule();
		return WAIT_FOREVER;
	}
	flags = local_irq_save();
	t->timed_out = false;
	deadline = jiffies + ticks;
	sleepq_insert(&sleepers, &t->sleep, deadline);
	local_irq_restore(flags);

	schedule();

	flags = local_irq_save();
	sleepq_remove(&sleepers, &t->sleep);
	local_irq_restore(flags);
	return jiffies_before(jiffies, deadline) ? deadline - jiffies : 0;
}

void msleep(unsigned ms)
{
	if (!might_sleep())
		return;
	/* Round up, plus one: the current tick is partly gone, and the
	 * sleep must last at least ms. */
	uint64_t ticks = ((uint64_t)ms * hz + 999) / 1000 + 1;
	uint64_t deadline = jiffies + ticks;

	while (jiffies_before(jiffies, deadline)) {
		/* A user task marked for killing stops sleeping at once and
		 * exits on its way back to ring 3 (kernel/user/syscall.c). */
		if (current->flags & TASK_FLAG_KILLED)
			break;
		set_current_state(TASK_SLEEPING);
		schedule_timeout(deadline - jiffies);
		__set_current_state(TASK_RUNNING);
	}
}

/* ---- the tick ----------------------------------------------------------- */

/* TIMER_SOFTIRQ: wakes every sleeper whose deadline has come. Softirq
 * context, IF=1; bounded by the number of tasks. */
static void sched_timer_softirq(void)
{
	struct sleep_node *n;

	ss.timer_softirqs++;
	for (;;) {
		uint64_t flags = local_irq_save();
		n = sleepq_pop_expired(&sleepers, jiffies);
		if (n) {
			struct task *t = rq_entry(n, struct task, sleep);
			t->timed_out = true;
			ss.timed_wakeups++;
			wake_up_process(t);
		}
		local_irq_restore(flags);
		if (!n)
			break;
	}
}

void sched_tick(void)
{
	struct task *t = current;

	if (!sched_up || !t)
		return;
	if (sleepers.first && !jiffies_before(jiffies, sleepers.first->deadline))
		raise_softirq_irqoff(TIMER_SOFTIRQ);
	if (rq_tick(&t->slice_left, t == idle_task, rq_len(&runq))) {
		ss.ticks_resched++;
		set_need_resched();
	}
}

void sched_charge(int ctx, uint64_t cycles)
{
	struct task *t = current;

	if (!t)
		return;
	if (ctx == CTX_USER)
		t->utime += cycles;
	else if (ctx == CTX_TASK || ctx == CTX_ATOMIC)
		t->stime += cycles;
}

/* ---- boot --------------------------------------------------------------- */

void sched_init(void)
{
	rq_init(&runq);
	sleepq_init(&sleepers);
	slice_ticks = (timeslice_ms * hz + 999) / 1000;
	if (!slice_ticks)
		slice_ticks = 1;
	task_init_boot();
	user_switch_mm(current);
	sched_up = true;
	open_softirq(TIMER_SOFTIRQ, sched_timer_softirq);
	if (timer_add_tick_hook(sched_tick))
		pr_err("sched: no tick hook slot: no preemption, no timed sleep");
	ksoftirqd_start();
	pr_info("sched: round robin, time slice %u ms = %u tick(s) at %u Hz; boot context is "
		"task 1 (init), idle is task 0", timeslice_ms, slice_ticks, hz);
}

static void (*shell_fn)(void);

static int shell_thread(void *arg)
{
	shell_fn();
	return 0;
}

void sched_start_shell(void (*fn)(void))
{
	shell_fn = fn;
	if (!kthread_create(shell_thread, NULL, "shell"))
		panic("sched: cannot create the shell task");
	task_exit(0);
}

/* ---- reports ------------------------------------------------------------ */

static void sched_stats_json(struct json *j)
{
	json_u64(j, "timeslice_ms", timeslice_ms);
	json_u64(j, "slice_ticks", slice_ticks);
	json_u64(j, "nr_waiting", rq_len(&runq));
	json_u64(j, "sleepers", sleepers.nr);
	json_u64(j, "switches", ss.switches);
	json_u64(j, "voluntary", ss.voluntary);
	json_u64(j, "preempt_irq", ss.preempt_irq);
	json_u64(j, "preempt_user", ss.preempt_user);
	json_u64(j, "preempt_enable", ss.preempt_enable);
	json_u64(j, "ticks_resched", ss.ticks_resched);
	json_u64(j, "timer_softirqs", ss.timer_softirqs);
	json_u64(j, "timed_wakeups", ss.timed_wakeups);
	json_u64(j, "wakeups", ss.wakeups);
	json_u64(j, "sleep_bugs", sched_sleep_bugs);
	json_u64(j, "atomic_bugs", sched_atomic_bugs);
	task_list_json(j);
}
STATS_SECTION("sched", sched_stats_json);
