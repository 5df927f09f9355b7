/*
 * task.c - task creation, exit and reaping, the task list, and `ps`.
 *
 * A new task's kernel stack is built so that the first context_switch()
 * into it "returns" into task_entry_trampoline (switch.asm), which
 * finishes the switch (sched_task_start) and calls the thread function.
 * Layout from the top of a fresh stack (16-byte aligned), the same one
 * context_switch() leaves behind for a task it switched out:
 *
 *   top-8   0                        \ end of the frame-pointer chain and
 *   top-16  0                        / 16-byte alignment for the call
 *   top-24  task_entry_trampoline    return address of context_switch
 *   top-32  rbp = 0                  (backtraces stop here)
 *   top-40  rbx = 0
 *   top-48  r12 = struct task *      (the trampoline passes it on)
 *   top-56  r13 = 0
 *   top-64  r14 = 0
 *   top-72  r15 = 0                  <- task->rsp
 */
#include "kernel/sched/task.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/idle_poll.h"
#include "kernel/sched/wait.h"
#include "kernel/user/user.h"
#include "kernel/preempt.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/trace.h"
#include "kernel/mm/vmm.h"
#include "kernel/mm/heap.h"
#include "kernel/lib/string.h"
#include "kernel/lib/json.h"

struct task *current;
struct task *idle_task;
struct wait_queue task_exit_wq = WAIT_QUEUE_INIT;

static struct task *all_tasks;      /* newest first */
static int next_pid;
static unsigned nr_dead;
extern char boot_stack_top[];       /* kernel/entry.asm */

static const char *task_state_name(int state)
{
	switch (state) {
	case TASK_RUNNING: return "running";
	case TASK_SLEEPING: return "sleeping";
	case TASK_DEAD: return "dead";
	}
	return "?";
}

static void list_add(struct task *t)
{
	uint64_t f = local_irq_save();
	t->pid = next_pid++;
	t->next_all = all_tasks;
	all_tasks = t;
	local_irq_restore(f);
}

struct task *task_find(int pid)
{
	uint64_t f = local_irq_save();
	struct task *t = all_tasks;
	while (t && t->pid != pid)
		t = t->next_all;
	local_irq_restore(f);
	return t;
}

/* Calls fn for every task with IF=0; fn returns false to stop. */
static void task_for_each(bool (*fn)(struct task *t, void *arg), void *arg)
{
	uint64_t f = local_irq_save();
	for (struct task *t = all_tasks; t; t = t->next_all)
		if (!fn(t, arg))
			break;
	local_irq_restore(f);
}

/* Frees the oldest dead task structs beyond TASK_MAX_DEAD. IF=0. A dead
 * task's stack is already gone; only the struct remains. */
static void trim_dead(void)
{
	while (nr_dead > TASK_MAX_DEAD) {
		struct task **pp = &all_tasks, **oldest = NULL;
		for (; *pp; pp = &(*pp)->next_all)
			if ((*pp)->state == TASK_DEAD && (*pp)->kstack_top == NULL)
				oldest = pp;           /* the list is newest first */
		if (!oldest)
			return;
		struct task *t = *oldest;
		*oldest = t->next_all;
		nr_dead--;
		kfree(t);
	}
}

void task_reap_after_switch(struct task *prev)
{
	if (prev->state != TASK_DEAD)
		return;
	if (prev->mm) {
		user_mm_destroy(prev->mm);
		prev->mm = NULL;
	}
	if (prev->kstack_top && !(prev->flags & TASK_FLAG_BOOTSTACK))
		kstack_free(prev->kstack_top, KSTACK_SIZE);
	prev->kstack_top = NULL;
	nr_dead++;
	trim_dead();
}

struct task *task_alloc(int (*fn)(void *), void *arg, const char *name, unsigned flags)
{
	struct task *t = kzalloc(sizeof(*t));
	if (!t)
		return NULL;
	uint64_t *top = kstack_alloc(KSTACK_SIZE);   /* panics rather than fail */
	t->kstack_top = top;
	t->fn = fn;
	t->arg = arg;
	t->flags = flags | TASK_FLAG_KTHREAD;
	t->state = TASK_SLEEPING;                    /* not runnable until task_wake_new */
	t->slice_left = sched_slice_ticks();
	t->start_jiffies = jiffies;
	strlcpy(t->name, name ? name : "?", sizeof(t->name));

	top[-1] = 0;
	top[-2] = 0;
	top[-3] = (uint64_t)task_entry_trampoline;
	top[-4] = 0;                /* rbp */
	top[-5] = 0;                /* rbx */
	top[-6] = (uint64_t)t;      /* r12 */
	top[-7] = 0;                /* r13 */
	top[-8] = 0;                /* r14 */
	top[-9] = 0;                /* r15 */
	t->rsp = (uint64_t)&top[-9];
	list_add(t);
	return t;
}

void task_discard(struct task *t)
{
	uint64_t f = local_irq_save();
	t->state = TASK_DEAD;
	t->exit_code = -1;
	task_reap_after_switch(t);
	local_irq_restore(f);
}

void task_wake_new(struct task *t)
{
	wake_up_process(t);
}

struct task *kthread_create(int (*fn)(void *), void *arg, const char *name)
{
	struct task *t = task_alloc(fn, arg, name, 0);
	if (t)
		task_wake_new(t);
	return t;
}

/* Called by task_entry_trampoline with the task itself; never returns. */
__attribute__((noreturn)) void task_run_fn(struct task *t)
{
	task_exit(t->fn(t->arg));
}

void task_exit(int code)
{
	struct task *t = current;

	local_irq_disable();
	BUG_ON(t == idle_task);
	if (preempt_count() != 0) {
		/* A thread that ends holding preemption or bh off would leave
		 * the next task in the wrong context: say so, then drop it. */
		pr_err("sched: task %d (%s) exits with preempt_count %#x; cleared",
		       t->pid, t->name, preempt_count());
		preempt_count_word = 0;
	}
	t->exit_code = code;
	t->state = TASK_DEAD;
	wake_up(&task_exit_wq);
	sched_switch_away_dead();
	panic("sched: dead task %d ran again", t->pid);
}

/* ---- boot --------------------------------------------------------------- */

static int idle_fn(void *arg)
{
	for (;;) {
		local_irq_disable();
		if (sched_nr_waiting() || need_resched()) {
			local_irq_enable();
			schedule();
			continue;
		}
		if (idle_poll())     /* a device polled instead of halting (idle_poll.h) */
			continue;
		/*
		 * STI delays interrupt recognition by one instruction (SDM
		 * vol 2B, STI), so an interrupt that makes a task runnable
		 * after the test above is taken only once HLT has begun, and
		 * ends it; the wake-up also sets need_resched, so the way out
		 * of that interrupt switches to the task at once.
		 */
		__asm__ volatile("sti; hlt" ::: "memory");
	}
	return 0;
}

void task_init_boot(void)
{
	/* The boot context: pid 1 "init", on the static boot stack. It runs
	 * the initcalls, starts the shell and exits (sched_start_shell). */
	struct task *init = kzalloc(sizeof(*init));
	struct task *idle;

	BUG_ON(!init);
	idle = task_alloc(idle_fn, NULL, "idle", TASK_FLAG_IDLE);
	BUG_ON(!idle);
	idle->state = TASK_RUNNING;     /* never on the run queue: picked when it is empty */
	idle_task = idle;

	init->kstack_top = boot_stack_top;
	init->flags = TASK_FLAG_KTHREAD | TASK_FLAG_BOOTSTACK;
	init->state = TASK_RUNNING;
	init->slice_left = sched_slice_ticks();
	strlcpy(init->name, "init", sizeof(init->name));
	list_add(init);                 /* pid 1 */
	current = init;
}

/* ---- ps ----------------------------------------------------------------- */

static uint64_t cyc_us(uint64_t c)
{
	return tsc_to_ns(c) / 1000;
}

static bool ps_line(struct task *t, void *arg)
{
	char flags[5] = "----";
	if (t->flags & TASK_FLAG_USER)
		flags[0] = 'U';
	else if (t->flags & TASK_FLAG_IDLE)
		flags[0] = 'I';
	else
		flags[0] = 'K';
	if (t == current)
		flags[1] = '*';
	if (t->flags & TASK_FLAG_KILLED)
		flags[2] = 'X';
	kprintf("%4d %-15s %-8s %s %10lu %10lu %8lu %6lu %6lu %6lu %6lu %8lu %12lu",
		t->pid, t->name, task_state_name(t->state), flags,
		cyc_us(t->utime), cyc_us(t->stime), t->nr_switches, t->nr_voluntary,
		t->nr_preempt_user, t->nr_preempt_kernel, t->nr_preempt_enable,
		t->nr_syscalls, user_progress(t));
	if (t->state == TASK_DEAD)
		kprintf(" exit=%d", t->exit_code);
	kputs("\n");
	return true;
}

static int cmd_ps(int argc, char **argv)
{
	kprintf(" pid name            state    flag    user_us     sys_us switches    vol pre_u  pre_k pre_en syscalls     progress\n");
	task_for_each(ps_line, NULL);
	return 0;
}
SHELL_CMD("ps", cmd_ps, "", "tasks: state, CPU time (us), switches, preemptions, syscalls, user progress");

struct json_walk {
	struct json *j;
};

static bool task_json(struct task *t, void *arg)
{
	struct json *j = ((struct json_walk *)arg)->j;
	json_obj_begin(j, NULL);
	json_u64(j, "pid", t->pid);
	json_str(j, "name", t->name);
	json_str(j, "state", task_state_name(t->state));
	json_bool(j, "user", t->flags & TASK_FLAG_USER);
	json_bool(j, "current", t == current);
	json_i64(j, "exit_code", t->exit_code);
	json_u64(j, "utime_us", cyc_us(t->utime));
	json_u64(j, "stime_us", cyc_us(t->stime));
	json_u64(j, "switches", t->nr_switches);
	json_u64(j, "voluntary", t->nr_voluntary);
	json_u64(j, "preempt_user", t->nr_preempt_user);
	json_u64(j, "preempt_kernel", t->nr_preempt_kernel);
	json_u64(j, "preempt_enable", t->nr_preempt_enable);
	json_u64(j, "syscalls", t->nr_syscalls);
	json_u64(j, "progress", user_progress(t));
	json_obj_end(j);
	return true;
}

void task_list_json(struct json *j)
{
	struct json_walk w = { j };
	json_arr_begin(j, "tasks");
	task_for_each(task_json, &w);
	json_arr_end(j);
}
