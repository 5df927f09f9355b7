/*
 * syscall.c - the system call table, both entry paths' C side, the way
 * back to ring 3 for every entry (syscalls, interrupts and exceptions
 * from user mode), and the kill of a user task that faults.
 *
 * Setup (SDM vol 3A 5.8.8 and vol 2B SYSCALL; vol 4 for the MSRs):
 *   IA32_EFER.SCE = 1        SYSCALL/SYSRET enabled
 *   IA32_STAR                selector bases (gdt.h: GDT_STAR_VALUE)
 *   IA32_LSTAR               syscall_entry
 *   IA32_FMASK               IF | TF | DF | AC | NT | IOPL cleared on
 *                            entry: IF=0 until the stack is switched (an
 *                            interrupt on the user stack would be fatal),
 *                            DF=0 as the ABI wants, TF=0 so a user
 *                            single-step does not trap in the entry
 *   IA32_GS_BASE = &cpu_area, IA32_KERNEL_GS_BASE = 0 (the user's)
 *   IDT vector 0x80: DPL 3 through trap_set_soft_handler()
 *
 * Context: every syscall runs in task context of the calling task with
 * IF=1 and preempt_count 0, so it may sleep; it returns with IF=0 for
 * the exit path.
 */
#include "kernel/user/syscall.h"
#include "kernel/user/user.h"
#include "kernel/user/uaccess.h"
#include "kernel/sched/sched.h"
#include "kernel/trap.h"
#include "kernel/exceptions.h"
#include "kernel/preempt.h"
#include "kernel/irqflags.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/serial.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/registry.h"
#include "kernel/time.h"
#include "kernel/trace.h"
#include "kernel/arch/gdt.h"
#include "kernel/lib/json.h"

#define RFLAGS_TF   (1ull << 8)
#define RFLAGS_DF   (1ull << 10)
#define RFLAGS_IOPL (3ull << 12)
#define RFLAGS_NT   (1ull << 14)
#define RFLAGS_AC   (1ull << 18)
#define SYSCALL_FMASK (RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_IOPL | RFLAGS_NT | RFLAGS_AC)

/* kernel/user/entry.asm keeps its own copies of these (nasm cannot read
 * C headers): the selectors it pushes and the cpu_area offsets it
 * reaches through GS. (The frame offsets come from
 * kernel/arch/trap_frame.inc, checked in kernel/trap.h.) */
_Static_assert(GDT_USER_CS == 0x2b && GDT_USER_DS == 0x23, "entry.asm: GDT_USER_* copies");
_Static_assert(offsetof(struct cpu_area, kernel_rsp) == 8, "entry.asm: CPU_KERNEL_RSP");
_Static_assert(offsetof(struct cpu_area, user_rsp) == 16, "entry.asm: CPU_USER_RSP");
_Static_assert(SYSCALL_VECTOR == 0x100, "entry.asm: SYSCALL_VECTOR");

/* User exit code of a task killed by an exception: 128 + vector. */
#define EXIT_KILLED_BASE 128
#define EXIT_KILLED_CMD  137            /* `kill` from the shell */

/* Per-path counters, for the `user` stats section. */
static struct {
	uint64_t by_syscall, by_int80;
	uint64_t sysret, iret_fallback;
	uint64_t per_nr[NR_SYSCALLS];
	uint64_t enosys;
} st;
static uint64_t user_kills;

/* ---- the calls ---------------------------------------------------------- */

static int64_t sys_write(uint64_t fd, uint64_t buf, uint64_t len)
{
	char kbuf[256];

	if (fd != 1 && fd != 2)
		return -EINVAL;
	if (len > SYS_WRITE_MAX)
		return -EINVAL;
	/* Check the whole range first, so a bad pointer prints nothing. */
	if (!user_range_ok(buf, len)) {
		uaccess_rejected++;
		return -EFAULT;
	}
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < sizeof(kbuf) ? len - done : sizeof(kbuf);
		int err = copy_from_user(kbuf, buf + done, n);
		if (err)
			return err;
		serial_write(kbuf, n);
		done += n;
	}
	return (int64_t)len;
}

static int64_t sys_getpid(void)
{
	return current->pid;
}

static int64_t sys_yield(void)
{
	yield();
	return 0;
}

static int64_t sys_sleep(uint64_t ms)
{
	if (ms > 60000)
		ms = 60000;     /* bounded: a user task cannot park itself for good */
	msleep((unsigned)ms);
	return 0;
}

static int64_t sys_clock(void)
{
	return (int64_t)uptime_ns();
}

static int64_t do_call(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	if (nr < NR_SYSCALLS)
		st.per_nr[nr]++;
	switch (nr) {
	case SYS_WRITE:  return sys_write(a0, a1, a2);
	case SYS_GETPID: return sys_getpid();
	case SYS_YIELD:  return sys_yield();
	case SYS_SLEEP:  return sys_sleep(a0);
	case SYS_EXIT:
		local_irq_disable();
		task_exit((int)a0);
	case SYS_CLOCK:  return sys_clock();
	}
	st.enosys++;
	return -ENOSYS;
}

/* Both paths: entered with IF=0 from ring 3; runs the call with IF=1 in
 * task context, returns with IF=0. */
static void do_syscall(struct trap_frame *tf, enum trace_cause how)
{
	ctx_transition(CTX_TASK, how, (unsigned)tf->rax);
	current->nr_syscalls++;
	local_irq_enable();
	tf->rax = (uint64_t)do_call(tf->rax, tf->rdi, tf->rsi, tf->rdx);
	local_irq_disable();
}

/* ---- back to ring 3 ----------------------------------------------------- */

/*
 * The last kernel code before any return to ring 3 (syscall, int 0x80,
 * interrupt or exception from user mode). IF=0, preempt_count 0, task
 * context. Acts on a pending kill, then on need_resched (this is where a
 * user task that never enters the kernel on its own is preempted: the
 * timer interrupt returns through here), and records task -> user.
 */
static void return_to_user(enum trace_cause how)
{
	if (WARN_ON(preempt_count() != 0))
		preempt_count_word = 0;   /* ring 3 with preemption off would wedge the CPU */
	for (;;) {
		if (current->flags & TASK_FLAG_KILLED) {
			pr_notice("user: task %d (%s) killed from the shell", current->pid,
				  current->name);
			task_exit(EXIT_KILLED_CMD);
		}
		if (!need_resched())
			break;
		sched_resched_before_user();
	}
	ctx_transition(CTX_USER, how, 0);
}

/* Whether SYSRETQ can return to this frame: RIP canonical and in the
 * user region (the Intel SYSRET #GP hazard), the standard selectors,
 * and no RF/TF games in RFLAGS. */
static bool sysret_ok(const struct trap_frame *tf)
{
	return tf->rip >= USER_BASE && tf->rip < USER_END &&
	       tf->cs == GDT_USER_CS && tf->ss == GDT_USER_DS &&
	       tf->rsp >= USER_BASE && tf->rsp <= USER_END &&
	       !(tf->rflags & (RFLAGS_TF | (1ull << 16)));
}

void syscall_dispatch(struct trap_frame *tf)
{
	st.by_syscall++;
	do_syscall(tf, TC_SYSCALL);
	bool sysret = sysret_ok(tf);
	return_to_user(sysret ? TC_SYSRET : TC_IRET);
	if (sysret)
		st.sysret++;
	else
		st.iret_fallback++;
	tf->error_code = sysret ? 0 : 1;
}

/* Soft handler of vector 0x80 (trap.c), IF=0. Returns through
 * isr_common's iretq; trap_dispatch() calls trap_return_to_user() on
 * the way. */
static void int80_handler(struct trap_frame *tf)
{
	if (!trap_from_user(tf)) {
		pr_err("user: int 0x80 from kernel mode at rip %#lx ignored", tf->rip);
		tf->rax = (uint64_t)-ENOSYS;
		return;
	}
	st.by_int80++;
	do_syscall(tf, TC_INT80);
}

/* kernel/trap.c: the end of every trap_dispatch() (except NMI) whose
 * frame returns to ring 3. */
void trap_return_to_user(struct trap_frame *tf)
{
	return_to_user(TC_IRET);
}

/*
 * kernel/exceptions.c: an exception in ring 3. #BP (int3) is a trap the
 * task may use on purpose: reported, and it continues after it. Every
 * other exception kills the task with a one-line report; the kernel
 * carries on. IF=0.
 */
int trap_user_exception(struct trap_frame *tf)
{
	unsigned v = tf->vector;
	uint64_t cr2 = v == 14 ? read_cr2() : 0;

	ctx_transition(CTX_TASK, TC_EXCEPTION, v);
	if (v == 3) {
		pr_notice("user: task %d (%s): %s at rip=%#lx (a trap: continuing after it)",
			  current->pid, current->name, exception_mnemonic(v), tf->rip);
		return 1;
	}
	user_kills++;
	if (v == 14)
		pr_err("user: task %d killed: %s at rip=%#lx (%s, err=%#lx, cr2=%#lx)", current->pid,
		       exception_mnemonic(v), tf->rip, current->name, tf->error_code, cr2);
	else
		pr_err("user: task %d killed: %s at rip=%#lx (%s, err=%#lx)", current->pid,
		       exception_mnemonic(v), tf->rip, current->name, tf->error_code);
	task_exit(EXIT_KILLED_BASE + (int)v);
}

/* ---- setup and stats ---------------------------------------------------- */

static int syscall_init(void)
{
	int err;

	wrmsr(MSR_GS_BASE, (uint64_t)&cpu_area);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	wrmsr(MSR_STAR, GDT_STAR_VALUE);
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_SFMASK, SYSCALL_FMASK);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	err = trap_set_soft_handler(SYSCALL_INT_VECTOR, int80_handler, 3);
	if (err) {
		pr_err("user: cannot install the int 0x80 gate: %d", err);
		return err;
	}
	pr_info("user: syscall/sysretq (LSTAR %#lx, FMASK %#lx) and int 0x80 (DPL 3) ready; "
		"user region [%#lx, %#lx)", (unsigned long)(uint64_t)syscall_entry,
		(unsigned long)SYSCALL_FMASK, (unsigned long)USER_BASE, (unsigned long)USER_END);
	return 0;
}
INITCALL(1, syscall_init);

static void user_stats_json(struct json *j)
{
	static const char *const names[NR_SYSCALLS] = {
		"write", "getpid", "yield", "sleep", "exit", "clock"
	};
	json_u64(j, "by_syscall", st.by_syscall);
	json_u64(j, "by_int80", st.by_int80);
	json_u64(j, "sysret", st.sysret);
	json_u64(j, "iret_fallback", st.iret_fallback);
	json_u64(j, "enosys", st.enosys);
	json_u64(j, "efault_rejected", uaccess_rejected);
	json_u64(j, "efault_faulted", uaccess_faults);
	json_u64(j, "killed_by_exception", user_kills);
	json_obj_begin(j, "calls");
	for (unsigned i = 0; i < NR_SYSCALLS; i++)
		json_u64(j, names[i], st.per_nr[i]);
	json_obj_end(j);
}
STATS_SECTION("user", user_stats_json);
