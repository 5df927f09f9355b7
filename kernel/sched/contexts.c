/*
 * contexts.c - the `contexts` shell command: runs the workloads that make
 * every transition of the notes' diagram happen (../shared/seeds/
 * README.md), with the context trace recording, and prints one JSON line
 * of what was recorded, checked against the diagram.
 *
 * Workloads, in order (each waits for the previous one to finish):
 *   1. user program `hello`: syscall and int 0x80 entries, sysretq and
 *      iretq returns                       user->task, task->user
 *   2. `crash 5` (int3, a trap it survives) and `crash 0` (ud2, killed)
 *                                          user->task (exception)
 *   3. two `spin` programs for 150 ms: the tick lands in ring 3 and
 *      preempts them                       user->irq, irq->task,
 *                                          task->task (preempt)
 *   4. two kernel threads busy-looping with preemption enabled
 *                                          task->irq, task->task (preempt)
 *   5. a kernel thread busy in preempt_disable() for 30 ms, then one in
 *      local_bh_disable() that schedules a tasklet meanwhile
 *                                          task->atomic, atomic->irq,
 *                                          irq->atomic, atomic->task,
 *                                          atomic->softirq (bh_enable)
 *   6. a hard IRQ (self-IPI on test vector 0xE9) whose tasklet spins
 *      25 ms, so timer ticks interrupt the softirq
 *                                          irq->softirq, softirq->irq,
 *                                          irq->softirq, softirq->task
 *   7. a tasklet scheduled from task context: ksoftirqd runs it
 *                                          task->softirq (ksoftirqd)
 *   8. a self-NMI                          task->nmi, nmi->task
 * Voluntary sleeps (task->task, schedule) happen throughout: the shell
 * sleeps while it waits for each workload.
 *
 * Output: {"transitions": {...trace_summary...}, "diagram": {edge: count},
 * "missing": [diagram edges never seen], "extra": [documented extra
 * edges seen, see trace.h], "forbidden": [anything else seen]}.
 * Shell (task) context.
 */
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/user/user.h"
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
#include "kernel/trace.h"
#include "kernel/arch/lapic.h"
#include "kernel/lib/json.h"
#include "kernel/lib/string.h"

#define CONTEXTS_VECTOR 0xe9
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct edge {
	uint8_t from, to;
};

/* The notes' diagram. */
static const struct edge diagram[] = {
	{ CTX_USER, CTX_TASK }, { CTX_USER, CTX_IRQ }, { CTX_TASK, CTX_IRQ },
	{ CTX_TASK, CTX_ATOMIC }, { CTX_TASK, CTX_USER }, { CTX_TASK, CTX_TASK },
	{ CTX_IRQ, CTX_SOFTIRQ }, { CTX_IRQ, CTX_TASK }, { CTX_SOFTIRQ, CTX_IRQ },
	{ CTX_SOFTIRQ, CTX_TASK }, { CTX_ATOMIC, CTX_TASK }, { CTX_ATOMIC, CTX_IRQ },
};

/* Recorded as they happen, documented in trace.h. NMI edges are checked
 * separately (any context may be interrupted by one and return). */
static const struct edge extra[] = {
	{ CTX_IRQ, CTX_ATOMIC }, { CTX_TASK, CTX_SOFTIRQ },
	{ CTX_ATOMIC, CTX_SOFTIRQ }, { CTX_SOFTIRQ, CTX_ATOMIC },
};

static bool in_list(const struct edge *l, unsigned n, unsigned f, unsigned t)
{
	for (unsigned i = 0; i < n; i++)
		if (l[i].from == f && l[i].to == t)
			return true;
	return false;
}

static uint64_t edge_count(unsigned f, unsigned t)
{
	uint64_t n = 0;
	for (unsigned k = 0; k < NR_TRACE_CAUSES; k++)
		n += trace_count(f, t, k);
	return n;
}

/* ---- workloads ------------------------------------------------------------ */

static struct wait_queue wl_wq = WAIT_QUEUE_INIT;
static volatile unsigned wl_done;

static void spin_ms(uint64_t ms)
{
	uint64_t end = rdtsc() + ms * (tsc_khz ? tsc_khz : 2000000);
	while (rdtsc() < end)
		cpu_relax();
}

static void finished(void)
{
	wl_done++;
	wake_up(&wl_wq);
}

static bool wait_done(unsigned n, unsigned seconds)
{
	return wait_event_timeout(&wl_wq, wl_done >= n, (uint64_t)seconds * hz) != 0;
}

static int busy_fn(void *arg)
{
	spin_ms((uint64_t)arg);
	finished();
	return 0;
}

static volatile bool bh_tasklet_ran;
static void bh_tasklet_fn(unsigned long d) { bh_tasklet_ran = true; }
static struct tasklet bh_tasklet = TASKLET_INIT(bh_tasklet_fn, 0);

static int atomic_fn(void *arg)
{
	preempt_disable();
	spin_ms(30);
	preempt_enable();
	local_bh_disable();
	tasklet_schedule(&bh_tasklet);   /* bh off: waits for local_bh_enable() */
	spin_ms(15);
	local_bh_enable();               /* runs it here */
	finished();
	return 0;
}

static volatile bool long_tasklet_ran;
static void long_tasklet_fn(unsigned long d)
{
	spin_ms(25);                     /* > 2 ticks: the timer interrupts us */
	long_tasklet_ran = true;
}
static struct tasklet long_tasklet = TASKLET_INIT(long_tasklet_fn, 0);

/* Hard IRQ on the test vector: schedule the long tasklet; irq_exit()
 * runs it. */
static void contexts_irq(struct trap_frame *tf, void *ctx)
{
	tasklet_schedule(&long_tasklet);
}

static volatile bool task_tasklet_ran;
static void task_tasklet_fn(unsigned long d) { task_tasklet_ran = true; }
static struct tasklet task_tasklet = TASKLET_INIT(task_tasklet_fn, 0);

static bool wait_user(const char *prog, uint64_t arg)
{
	int err;
	struct task *t = user_spawn(prog, arg, &err);
	if (!t)
		return false;
	int pid = t->pid;
	return wait_event_timeout(&task_exit_wq,
				  !task_find(pid) || task_find(pid)->state == TASK_DEAD, 10 * hz) != 0;
}

static int run_workloads(void)
{
	static bool vector_ready;
	int err;

	wl_done = 0;
	bh_tasklet_ran = long_tasklet_ran = task_tasklet_ran = false;
	if (!vector_ready) {
		err = irq_request(CONTEXTS_VECTOR, contexts_irq, NULL, "contexts");
		if (err)
			return err;
		vector_ready = true;
	}

	/* 1, 2: system calls and exceptions from ring 3 */
	if (!wait_user("hello", 0) || !wait_user("crash", 5) || !wait_user("crash", 0))
		return -ETIMEDOUT;
	/* 3: two user busy loops sharing the CPU */
	int e1, e2;
	struct task *s1 = user_spawn("spin", 150, &e1), *s2 = user_spawn("spin", 150, &e2);
	if (!s1 || !s2)
		return -ENOMEM;
	int p1 = s1->pid, p2 = s2->pid;
	if (!wait_event_timeout(&task_exit_wq,
				task_find(p1)->state == TASK_DEAD && task_find(p2)->state == TASK_DEAD,
				10 * hz))
		return -ETIMEDOUT;
	/* 4: two kernel busy loops, preemptible */
	if (!kthread_create(busy_fn, (void *)60, "ctx-busy0") ||
	    !kthread_create(busy_fn, (void *)60, "ctx-busy1"))
		return -ENOMEM;
	if (!wait_done(2, 5))
		return -ETIMEDOUT;
	/* 5: atomic sections */
	if (!kthread_create(atomic_fn, NULL, "ctx-atomic"))
		return -ENOMEM;
	if (!wait_done(3, 5))
		return -ETIMEDOUT;
	/* 6: a softirq long enough to be interrupted */
	err = lapic_send_self_ipi(CONTEXTS_VECTOR);
	if (err)
		return err;
	/* 7: softirq work raised from task context goes to ksoftirqd */
	tasklet_schedule(&task_tasklet);
	/* 8: an NMI */
	lapic_send_self_nmi();
	msleep(20);
	if (!long_tasklet_ran || !task_tasklet_ran || !bh_tasklet_ran)
		pr_warn("contexts: a tasklet did not run (bh %d, irq %d, task %d)",
			bh_tasklet_ran, long_tasklet_ran, task_tasklet_ran);
	return 0;
}

static char out_buf[8192];

static void edge_name(char *buf, size_t n, unsigned f, unsigned t)
{
	strlcpy(buf, ctx_name(f), n);
	size_t l = strlen(buf);
	strlcpy(buf + l, "->", n - l);
	l = strlen(buf);
	strlcpy(buf + l, ctx_name(t), n - l);
}

static int cmd_contexts(int argc, char **argv)
{
	struct json j;
	char key[24];

	trace_stop();
	trace_clear();
	trace_start();
	int err = run_workloads();
	trace_stop();
	if (err)
		return err;

	json_init(&j, out_buf, sizeof(out_buf));
	json_obj_begin(&j, NULL);
	trace_summary_json(&j);
	json_obj_begin(&j, "diagram");
	for (unsigned i = 0; i < ARRAY_LEN(diagram); i++) {
		edge_name(key, sizeof(key), diagram[i].from, diagram[i].to);
		json_u64(&j, key, edge_count(diagram[i].from, diagram[i].to));
	}
	json_obj_end(&j);
	json_arr_begin(&j, "missing");
	for (unsigned i = 0; i < ARRAY_LEN(diagram); i++) {
		if (!edge_count(diagram[i].from, diagram[i].to)) {
			edge_name(key, sizeof(key), diagram[i].from, diagram[i].to);
			json_str(&j, NULL, key);
		}
	}
	json_arr_end(&j);
	for (int pass = 0; pass < 2; pass++) {
		json_arr_begin(&j, pass ? "forbidden" : "extra");
		for (unsigned f = 0; f < NR_CTX; f++) {
			for (unsigned t = 0; t < NR_CTX; t++) {
				if (!edge_count(f, t) || in_list(diagram, ARRAY_LEN(diagram), f, t))
					continue;
				bool ok = in_list(extra, ARRAY_LEN(extra), f, t) ||
					  (t == CTX_NMI) != (f == CTX_NMI);
				if (ok == (pass == 1))
					continue;
				edge_name(key, sizeof(key), f, t);
				json_str(&j, NULL, key);
			}
		}
		json_arr_end(&j);
	}
	json_obj_end(&j);
	if (j.overflow)
		return -E2BIG;
	kputs(out_buf);
	kputs("\n");
	return 0;
}
SHELL_CMD("contexts", cmd_contexts, "",
	  "run workloads covering every context transition; print the traced counts as JSON");
