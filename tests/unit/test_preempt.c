/*
 * Host test of the preempt_count field arithmetic (kernel/preempt.h) and
 * the live-word helpers in kernel/preempt.c: the field layout, every
 * predicate over a table of contexts, the transitions a CPU makes
 * (irq_enter-like adds, nmi_enter, local_bh_disable, serving a softirq)
 * and the underflow / overflow checks.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

/* Stubs for what preempt.c and preempt.h use from the rest of the kernel. */
static int warnings, panics;
static jmp_buf panic_jmp;
static bool panic_armed;   /* a test expects a panic and has set panic_jmp */
static int resched_calls;

void printk(int level, const char *fmt, ...) { (void)level; (void)fmt; }
void warn_slowpath(const char *file, int line, const char *cond) { warnings++; }
void panic(const char *fmt, ...)
{
	panics++;
	if (!panic_armed) {
		fprintf(stderr, "FAIL: unexpected panic (BUG_ON) outside an expecting test\n");
		check_failed++;
		exit(check_summary("test_preempt"));
	}
	panic_armed = false;
	longjmp(panic_jmp, 1);
}

#include "kernel/preempt.c"
/* The scheduler's function preempt_enable() calls (kernel/sched/sched.c
 * in the kernel): here it counts. */
void preempt_schedule(void) { resched_calls++; }

#define PC_TASK            0u
#define PC_PREEMPT1        1u
#define PC_BH_OFF          (2u * SOFTIRQ_OFFSET)                    /* 0x200 */
#define PC_SERVING         SOFTIRQ_OFFSET                           /* 0x100 */
#define PC_HARDIRQ         HARDIRQ_OFFSET                           /* 0x10000 */
#define PC_NMI             (NMI_OFFSET + HARDIRQ_OFFSET)            /* 0x110000 */

static void test_layout(void)
{
	CHECK_EQ_U(PREEMPT_MASK, 0x000000ffu);
	CHECK_EQ_U(SOFTIRQ_MASK, 0x0000ff00u);
	CHECK_EQ_U(HARDIRQ_MASK, 0x000f0000u);
	CHECK_EQ_U(NMI_MASK, 0x00f00000u);
	CHECK_EQ_U(PREEMPT_OFFSET, 1u);
	CHECK_EQ_U(SOFTIRQ_OFFSET, 0x100u);
	CHECK_EQ_U(SOFTIRQ_DISABLE_OFFSET, 0x200u);
	CHECK_EQ_U(HARDIRQ_OFFSET, 0x10000u);
	CHECK_EQ_U(NMI_OFFSET, 0x100000u);
	/* the fields do not overlap and leave the top byte free */
	CHECK_EQ_U(PREEMPT_MASK & SOFTIRQ_MASK, 0);
	CHECK_EQ_U(SOFTIRQ_MASK & HARDIRQ_MASK, 0);
	CHECK_EQ_U(HARDIRQ_MASK & NMI_MASK, 0);
	CHECK_EQ_U((PREEMPT_MASK | SOFTIRQ_MASK | HARDIRQ_MASK | NMI_MASK), 0x00ffffffu);
}

/* Every predicate for a table of contexts (values as Linux would have them). */
static void test_predicates(void)
{
	static const struct {
		const char *what;
		unsigned pc;
		bool hardirq, softirq, serving, interrupt, nmi, atomic, task;
		const char *name;
		unsigned hdepth, bhdepth;
	} t[] = {
		{ "task",                 PC_TASK,    0, 0, 0, 0, 0, 0, 1, "task", 0, 0 },
		{ "preempt off",          PC_PREEMPT1, 0, 0, 0, 0, 0, 1, 1, "atomic", 0, 0 },
		{ "preempt off x3",       3,          0, 0, 0, 0, 0, 1, 1, "atomic", 0, 0 },
		{ "bh off",               PC_BH_OFF,  0, 1, 0, 1, 0, 1, 1, "atomic", 0, 1 },
		{ "bh off x2",            2 * PC_BH_OFF, 0, 1, 0, 1, 0, 1, 1, "atomic", 0, 2 },
		{ "serving softirq",      PC_SERVING, 0, 1, 1, 1, 0, 1, 0, "softirq", 0, 0 },
		/* local_bh_enable() runs softirqs with preempt 1 + serving */
		{ "softirq from bh_enable", PC_SERVING + 1, 0, 1, 1, 1, 0, 1, 0, "softirq", 0, 0 },
		{ "bh off in softirq",    PC_SERVING + PC_BH_OFF, 0, 1, 1, 1, 0, 1, 0, "softirq", 0, 1 },
		{ "hardirq",              PC_HARDIRQ, 1, 0, 0, 1, 0, 1, 0, "hardirq", 1, 0 },
		{ "hardirq over bh off",  PC_HARDIRQ + PC_BH_OFF, 1, 1, 0, 1, 0, 1, 0, "hardirq", 1, 1 },
		{ "hardirq in softirq",   PC_HARDIRQ + PC_SERVING, 1, 1, 1, 1, 0, 1, 0, "hardirq", 1, 0 },
		{ "nested hardirq",       2 * PC_HARDIRQ, 1, 0, 0, 1, 0, 1, 0, "hardirq", 2, 0 },
		{ "nmi",                  PC_NMI,     1, 0, 0, 1, 1, 1, 0, "nmi", 1, 0 },
		{ "nmi in hardirq",       PC_NMI + PC_HARDIRQ, 1, 0, 0, 1, 1, 1, 0, "nmi", 2, 0 },
		{ "nmi in softirq",       PC_NMI + PC_SERVING, 1, 1, 1, 1, 1, 1, 0, "nmi", 1, 0 },
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unsigned pc = t[i].pc;
		int bad = check_failed;
		CHECK_EQ_U(pc_in_hardirq(pc), t[i].hardirq);
		CHECK_EQ_U(pc_in_softirq(pc), t[i].softirq);
		CHECK_EQ_U(pc_in_serving_softirq(pc), t[i].serving);
		CHECK_EQ_U(pc_in_interrupt(pc), t[i].interrupt);
		CHECK_EQ_U(pc_in_nmi(pc), t[i].nmi);
		CHECK_EQ_U(pc_in_atomic(pc), t[i].atomic);
		CHECK_EQ_U(pc_in_task(pc), t[i].task);
		CHECK_STR(pc_context_name(pc), t[i].name);
		CHECK_EQ_U(pc_hardirq_depth(pc), t[i].hdepth);
		CHECK_EQ_U(pc_bh_disable_depth(pc), t[i].bhdepth);
		if (check_failed != bad)
			fprintf(stderr, "  ... in row '%s' (pc 0x%x)\n", t[i].what, pc);
	}
}

/* The live word through the inline helpers, as the kernel moves it. */
static void test_transitions(void)
{
	preempt_count_word = 0;
	CHECK(in_task() && !in_atomic());

	preempt_disable();
	preempt_disable();
	CHECK_EQ_U(preempt_count(), 2);
	preempt_enable();
	preempt_enable();
	CHECK_EQ_U(preempt_count(), 0);

	/* a hard IRQ arrives in task context with bh disabled */
	local_bh_disable();
	CHECK(in_softirq() && !in_serving_softirq() && in_interrupt() && in_task());
	preempt_count_add(HARDIRQ_OFFSET);            /* irq_enter() */
	CHECK(in_irq() && in_hardirq() && !in_task());
	CHECK_EQ_U(hardirq_depth(), 1);
	nmi_enter();                                   /* an NMI on top */
	CHECK(in_nmi() && in_irq());
	CHECK_EQ_U(hardirq_depth(), 2);
	CHECK_EQ_U(preempt_count(), PC_BH_OFF + 2 * HARDIRQ_OFFSET + NMI_OFFSET);
	nmi_exit();
	CHECK(!in_nmi() && in_irq());
	preempt_count_sub(HARDIRQ_OFFSET);            /* irq_exit() */
	CHECK(!in_irq() && in_softirq());
	preempt_count_sub(SOFTIRQ_DISABLE_OFFSET);    /* the arithmetic of local_bh_enable() */
	CHECK_EQ_U(preempt_count(), 0);

	/* serving a softirq, interrupted by a hard IRQ */
	preempt_count_add(SOFTIRQ_OFFSET);
	CHECK(in_serving_softirq() && !in_task());
	preempt_count_add(HARDIRQ_OFFSET);
	CHECK(in_serving_softirq() && in_irq());
	CHECK_STR(pc_context_name(preempt_count()), "hardirq");
	preempt_count_sub(HARDIRQ_OFFSET);
	preempt_count_sub(SOFTIRQ_OFFSET);
	CHECK(in_task() && preempt_count() == 0);
}

static void test_resched_and_underflow(void)
{
	preempt_count_word = 0;
	resched_calls = 0;
	warnings = 0;

	/* preempt_enable() reschedules only when the count reaches 0 */
	set_need_resched();
	preempt_disable();
	preempt_disable();
	preempt_enable();
	CHECK_EQ_U(resched_calls, 0);
	preempt_enable();
	CHECK_EQ_U(resched_calls, 1);
	/* not inside a softirq-disabled section either */
	local_bh_disable();
	preempt_disable();
	preempt_enable();
	CHECK_EQ_U(resched_calls, 1);
	preempt_count_sub(SOFTIRQ_DISABLE_OFFSET);
	clear_need_resched();
	preempt_disable();
	preempt_enable();
	CHECK_EQ_U(resched_calls, 1);
	preempt_enable_no_resched();                 /* unbalanced */
	CHECK_EQ_U(preempt_count(), 0);              /* left alone ... */
	CHECK_EQ_U(preempt_underflows, 1);           /* ... and reported */
	CHECK_EQ_U(warnings, 1);

	/* an unbalanced enable inside bh-off must not eat the softirq field */
	local_bh_disable();
	preempt_enable();
	CHECK_EQ_U(preempt_count(), SOFTIRQ_DISABLE_OFFSET);
	CHECK_EQ_U(preempt_underflows, 2);
	preempt_count_word = 0;
}

static void test_nmi_checks(void)
{
	/* nmi_exit() outside an NMI is a BUG */
	preempt_count_word = 0;
	panics = 0;
	panic_armed = true;
	if (!setjmp(panic_jmp))
		nmi_exit();
	panic_armed = false;
	CHECK_EQ_U(panics, 1);

	/* 15 nested NMIs fill the field; the 16th is a BUG, not a carry */
	preempt_count_word = 0;
	for (int i = 0; i < 15; i++)
		nmi_enter();
	CHECK_EQ_U(pc_nmi_depth(preempt_count()), 15);
	panic_armed = true;
	if (!setjmp(panic_jmp))
		nmi_enter();
	panic_armed = false;
	CHECK_EQ_U(panics, 2);
	CHECK_EQ_U(pc_nmi_depth(preempt_count()), 15);
	preempt_count_word = 0;
}

int main(void)
{
	test_layout();
	test_predicates();
	test_transitions();
	test_resched_and_underflow();
	test_nmi_checks();
	return check_summary("test_preempt");
}
