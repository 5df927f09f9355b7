/*
 * process.c - user tasks: spawning a built-in program, killing, and the
 * shell's `run` and `kill`.
 *
 * A user task is a kernel thread (its own kernel stack, a struct task)
 * that owns a user address space and whose thread function leaves for
 * ring 3 with iretq (user_enter) and never comes back as such: from then
 * on the task is in the kernel only during syscalls, interrupts and
 * exceptions, on the same kernel stack, and leaves for good through
 * task_exit() (exit syscall, an exception, or a kill).
 */
#include "kernel/user/user.h"
#include "kernel/user/progs.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/irqflags.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/trace.h"
#include "kernel/lib/string.h"

struct user_start {
	uint64_t arg;
};

/* Thread function of every user task: first (and only) entry to ring 3.
 * The scheduler has already loaded this task's CR3 and RSP0. */
static int user_task_main(void *arg)
{
	uint64_t uarg = (uint64_t)arg;

	local_irq_disable();
	ctx_transition(CTX_USER, TC_IRET, 0);
	user_enter(USER_CODE, USER_STACK_TOP, uarg);
}

struct task *user_spawn(const char *name, uint64_t arg, int *err)
{
	const struct user_prog *p = user_prog_find(name);
	struct task *t;

	if (!p) {
		*err = -ENOENT;
		return NULL;
	}
	t = task_alloc(user_task_main, (void *)arg, p->name, TASK_FLAG_USER);
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	t->mm = user_mm_create(p->start, (size_t)(p->end - p->start));
	if (!t->mm) {
		task_discard(t);
		*err = -ENOMEM;
		return NULL;
	}
	t->cr3 = user_mm_cr3(t->mm);
	task_wake_new(t);
	*err = 0;
	return t;
}

/* Marks a task to be killed: a user task exits at its next return to
 * ring 3 (a spinning one at the next tick). 0, -ENOENT, or -EINVAL for
 * kernel threads. Any context but NMI. */
static int user_kill(int pid)
{
	uint64_t flags = local_irq_save();
	struct task *t = task_find(pid);
	int err = 0;

	if (!t || t->state == TASK_DEAD)
		err = -ENOENT;
	else if (!(t->flags & TASK_FLAG_USER))
		err = -EINVAL;
	else {
		t->flags |= TASK_FLAG_KILLED;
		wake_up_process(t);   /* a sleeping one exits on its way out of sleep */
	}
	local_irq_restore(flags);
	return err;
}

/* ---- shell ---------------------------------------------------------------- */

struct exit_wait {
	int pid;
};

static bool task_gone(int pid, int *code)
{
	struct task *t = task_find(pid);
	if (!t)
		return true;
	if (t->state != TASK_DEAD)
		return false;
	*code = t->exit_code;
	return true;
}

/*
 * run [-b] <prog> [arg]: starts the program; without -b waits for it to
 * end (at most 30 s, then it is left running) and prints its exit code.
 */
static int cmd_run(int argc, char **argv)
{
	bool background = false;
	uint64_t arg = 0;
	int i = 1, err, code = -1;

	if (argc > 1 && !strcmp(argv[1], "-b")) {
		background = true;
		i++;
	}
	if (i >= argc) {
		unsigned n;
		const struct user_prog *p = user_prog_table(&n);
		for (unsigned k = 0; k < n; k++)
			kprintf("  %-8s %s\n", p[k].name, p[k].help);
		return 0;
	}
	if (i + 1 < argc && !parse_u64(argv[i + 1], &arg))
		return -EINVAL;
	struct task *t = user_spawn(argv[i], arg, &err);
	if (!t)
		return err;
	int pid = t->pid;
	kprintf("user: started task %d (%s)\n", pid, argv[i]);
	if (background)
		return 0;
	if (!wait_event_timeout(&task_exit_wq, task_gone(pid, &code), 30 * (uint64_t)hz)) {
		kprintf("user: task %d still running after 30 s; left in the background\n", pid);
		return 0;
	}
	kprintf("user: task %d (%s) exited with code %d\n", pid, argv[i], code);
	return 0;
}
SHELL_CMD("run", cmd_run, "[-b] <prog> [arg]", "run a built-in user program (no args: list them); -b: do not wait");

static int cmd_kill(int argc, char **argv)
{
	uint64_t pid;
	int code = -1;

	if (argc != 2 || !parse_u64(argv[1], &pid))
		return -EINVAL;
	int err = user_kill((int)pid);
	if (err)
		return err;
	/* A spinning task exits at its next tick; wait a little for it. */
	wait_event_timeout(&task_exit_wq, task_gone((int)pid, &code), hz);
	kprintf("user: task %lu %s\n", (unsigned long)pid,
		task_gone((int)pid, &code) ? "killed" : "marked to be killed");
	return 0;
}
SHELL_CMD("kill", cmd_kill, "<pid>", "kill a user task (it exits at its next return to ring 3)");
