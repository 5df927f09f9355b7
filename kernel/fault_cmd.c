/*
 * fault_cmd.c - the `fault <kind>` shell command: triggers each exception
 * on purpose so the scenarios (tests/scenarios/test_exceptions.py) and
 * people can watch how the CPU enters the handler and where it returns.
 *
 * Every kind first prints one line "fault: <kind>: ..." naming the
 * addresses involved (the instruction that faults, the address it
 * touches), then triggers; the handler's "EXCEPTION ..." report can then
 * be compared with them. Fatal kinds end in panic(): QEMU exits with
 * status 33.
 *
 * The faulting instructions live in small asm functions with global
 * labels, so their addresses are known before they run. Context: shell
 * (task) context.
 */
#include "kernel/exceptions.h"
#include "kernel/extable.h"
#include "kernel/trap.h"
#include "kernel/irqflags.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/mm/vmm.h"
#include "kernel/mm/pmm.h"
#include "kernel/arch/lapic.h"
#include "kernel/lib/string.h"

__asm__(
	".pushsection .text\n"
	/* uint64_t fault_read_u64(uint64_t addr): one load, the faulting
	 * instruction at fault_read_insn (used by gp, pf, pf-demand). */
	".balign 16\n"
	".globl fault_read_u64, fault_read_insn\n"
	"fault_read_u64:\n"
	"fault_read_insn:\n"
	"	movq (%rdi), %rax\n"
	"	ret\n"
	/* void fault_divide(void): 1 / 0 */
	".balign 16\n"
	".globl fault_divide, fault_divide_insn\n"
	"fault_divide:\n"
	"	xorl %ecx, %ecx\n"
	"	movl $1, %eax\n"
	"	xorl %edx, %edx\n"
	"fault_divide_insn:\n"
	"	divl %ecx\n"
	"	ret\n"
	/* void fault_ud2(void) */
	".balign 16\n"
	".globl fault_ud2, fault_ud2_insn\n"
	"fault_ud2:\n"
	"fault_ud2_insn:\n"
	"	ud2\n"
	"	ret\n"
	/* void fault_int3(void): the breakpoint and the instruction after it */
	".balign 16\n"
	".globl fault_int3, fault_int3_insn, fault_int3_after\n"
	"fault_int3:\n"
	"fault_int3_insn:\n"
	"	int3\n"
	"fault_int3_after:\n"
	"	ret\n"
	/* void fault_single_step(void): sets RFLAGS.TF with popfq, then four
	 * one-byte instructions. TF is tested at the start of an instruction,
	 * so the first trap comes after the first nop (SDM vol 3A 17.3.1.4). */
	".balign 16\n"
	".globl fault_single_step, fault_step_insn\n"
	"fault_single_step:\n"
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	popfq\n"
	"fault_step_insn:\n"
	"	nop\n"
	"	nop\n"
	"	nop\n"
	"	nop\n"
	"	ret\n"
	/* void fault_overflow(uint64_t stack_top): runaway recursion on a
	 * fresh stack until the call's push hits the guard page. */
	".balign 16\n"
	".globl fault_overflow, fault_recurse\n"
	"fault_overflow:\n"
	"	movq %rdi, %rsp\n"
	"	xorl %ebp, %ebp\n"
	"fault_recurse:\n"
	"	call fault_recurse\n"
	".popsection\n");

uint64_t fault_read_u64(uint64_t addr);
void fault_divide(void);
void fault_ud2(void);
void fault_int3(void);
void fault_single_step(void);
__attribute__((noreturn)) void fault_overflow(uint64_t stack_top);
extern const char fault_read_insn[], fault_divide_insn[], fault_ud2_insn[];
extern const char fault_int3_insn[], fault_int3_after[], fault_step_insn[], fault_recurse[];

#define NONCANONICAL_ADDR 0x8000000000000000ul
/* Below the MMIO region (vmm.h), above any RAM QEMU gives us: unmapped.
 * Not page-aligned on purpose: CR2 holds the exact byte address. */
#define UNMAPPED_ADDR     0x000000ffdeadb010ul
#define FATAL_NOTE        "fatal: expect EXCEPTION, KERNEL PANIC, QEMU exit status 33"

static int kind_de(void)
{
	kprintf("fault: de: divl by zero at rip=0x%lx (%s)\n", (uint64_t)fault_divide_insn, FATAL_NOTE);
	fault_divide();
	return -EINVAL; /* not reached */
}

static int kind_ud(void)
{
	kprintf("fault: ud: ud2 at rip=0x%lx (%s)\n", (uint64_t)fault_ud2_insn, FATAL_NOTE);
	fault_ud2();
	return -EINVAL;
}

static int kind_gp(void)
{
	kprintf("fault: gp: reading non-canonical address 0x%lx at rip=0x%lx (%s)\n",
		NONCANONICAL_ADDR, (uint64_t)fault_read_insn, FATAL_NOTE);
	fault_read_u64(NONCANONICAL_ADDR);
	return -EINVAL;
}

static int kind_gp_fixup(void)
{
	uint64_t v = 0xdeadbeef;
	kprintf("fault: gp-fixup: probe_read_u64(0x%lx): the load is in the exception table\n",
		NONCANONICAL_ADDR);
	int err = probe_read_u64((const void *)NONCANONICAL_ADDR, &v);
	kprintf("fault: gp-fixup: result=%d (%s) value=0x%lx: recovered, kernel continues\n",
		err, err == -EFAULT ? "-EFAULT" : "unexpected", v);
	return 0;
}

static bool mapped(uint64_t va)
{
	return vmm_lookup(va, NULL, NULL);
}

static int kind_pf(void)
{
	if (mapped(UNMAPPED_ADDR)) {
		shell_error("fault: pf: 0x%lx is mapped in this machine", UNMAPPED_ADDR);
		return 0;
	}
	kprintf("fault: pf: reading unmapped address 0x%lx at rip=0x%lx (%s)\n",
		UNMAPPED_ADDR, (uint64_t)fault_read_insn, FATAL_NOTE);
	fault_read_u64(UNMAPPED_ADDR);
	return -EINVAL;
}

static int kind_pf_demand(void)
{
	static unsigned next_page;
	uint64_t base = exception_demand_base();

	if (next_page >= EXC_DEMAND_PAGES) {
		shell_error("fault: pf-demand: all %u demand pages are in use", EXC_DEMAND_PAGES);
		return 0;
	}
	uint64_t addr = base + (uint64_t)next_page++ * PAGE_SIZE + 0x18;
	if (mapped(addr)) {
		shell_error("fault: pf-demand: 0x%lx is already mapped", addr);
		return 0;
	}
	uint64_t faults0 = exception_demand_faults();
	kprintf("fault: pf-demand: reading 0x%lx (demand area, not yet mapped) at rip=0x%lx\n",
		addr, (uint64_t)fault_read_insn);
	uint64_t v = fault_read_u64(addr);
	uint64_t faults1 = exception_demand_faults();
	uint64_t fault_rip = exception_demand_last_rip();
	uint64_t v2 = fault_read_u64(addr);
	uint64_t faults2 = exception_demand_faults();
	uint64_t want = demand_pattern(addr);

	kprintf("fault: pf-demand: value=0x%lx expected=0x%lx faults=%lu fault_rip=0x%lx "
		"insn_rip=0x%lx same_rip=%s\n", v, want, faults1 - faults0, fault_rip,
		(uint64_t)fault_read_insn, fault_rip == (uint64_t)fault_read_insn ? "yes" : "no");
	kprintf("fault: pf-demand: second read value=0x%lx new_faults=%lu total_fixed=%lu\n",
		v2, faults2 - faults1, faults2);
	if (v != want || faults1 - faults0 != 1 || fault_rip != (uint64_t)fault_read_insn) {
		shell_error("fault: pf-demand: the fault was not fixed up as expected");
		return 0;
	}
	return 0;
}

static int kind_bp(void)
{
	struct exception_record before, after;

	exception_last(3, &before);
	kprintf("fault: bp: int3 at 0x%lx, next instruction at 0x%lx\n",
		(uint64_t)fault_int3_insn, (uint64_t)fault_int3_after);
	fault_int3();
	exception_last(3, &after);
	kprintf("fault: bp: continued; saved_rip=0x%lx after_int3=0x%lx match=%s count=%lu\n",
		after.rip, (uint64_t)fault_int3_after,
		after.rip == (uint64_t)fault_int3_after ? "yes" : "no", after.count - before.count);
	return 0;
}

static int kind_db(void)
{
	enum { STEPS = 3 };
	uint64_t rips[EXC_MAX_STEPS];

	kprintf("fault: db: setting RFLAGS.TF before 4 nops at 0x%lx, stepping %d instructions\n",
		(uint64_t)fault_step_insn, STEPS);
	/* IF=0 while stepping, so no interrupt lands between the steps. */
	uint64_t flags = local_irq_save();
	exception_single_step_arm(STEPS);
	fault_single_step();
	local_irq_restore(flags);
	unsigned n = exception_single_step_rips(rips, EXC_MAX_STEPS);
	kprintf("fault: db: continued; %u single-step traps, saved rips:", n);
	for (unsigned i = 0; i < n; i++)
		kprintf(" 0x%lx", rips[i]);
	kprintf("; expected:");
	for (unsigned i = 0; i < STEPS; i++)
		kprintf(" 0x%lx", (uint64_t)fault_step_insn + 1 + i);
	kprintf("\n");
	return 0;
}

static int kind_df(void)
{
	enum { SIZE = 8192 };

	uint64_t top = (uint64_t)kstack_alloc(SIZE);
	uint64_t bottom = top - SIZE;
	kprintf("fault: df: recursing on a fresh stack [0x%lx, 0x%lx), guard page at 0x%lx: "
		"the #PF on the guard page cannot push its frame -> #DF on IST2 (%s)\n",
		bottom, top, bottom - (uint64_t)PAGE_SIZE, FATAL_NOTE);
	local_irq_disable(); /* nothing else should run on that stack */
	fault_overflow(top);
}

static int kind_nmi(void)
{
	uint64_t before = nmi_count();
	uint64_t flags = local_irq_save();
	kprintf("fault: nmi: sending a self-NMI through the LAPIC with IF=0\n");
	int err = lapic_send_self_nmi();
	if (err) {
		local_irq_restore(flags);
		return err;
	}
	/* Bounded wait: 100 ms by the TSC, or ~1e8 loops before calibration. */
	uint64_t t0 = rdtsc(), limit = tsc_khz ? tsc_khz * 100 : 100000000;
	while (nmi_count() == before && rdtsc() - t0 < limit)
		cpu_relax();
	bool irqs_off = irqs_disabled();
	uint64_t after = nmi_count();
	local_irq_restore(flags);
	kprintf("fault: nmi: count %lu -> %lu, delivered while IF=0: %s; continuing\n",
		before, after, after > before && irqs_off ? "yes" : "no");
	if (after == before) {
		shell_error("fault: nmi: no NMI within 100 ms");
		return 0;
	}
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
	bool fatal;
	const char *what;
} kinds[] = {
	{ "de", kind_de, true, "divide by zero (#DE, fault)" },
	{ "bp", kind_bp, false, "int3 (#BP, trap): saved RIP = next instruction" },
	{ "db", kind_db, false, "single-step with RFLAGS.TF (#DB, trap)" },
	{ "ud", kind_ud, true, "ud2 (#UD, fault)" },
	{ "gp", kind_gp, true, "non-canonical read (#GP, fault)" },
	{ "gp-fixup", kind_gp_fixup, false, "non-canonical read via the exception table: -EFAULT" },
	{ "pf", kind_pf, true, "read of an unmapped address (#PF, fault, CR2)" },
	{ "pf-demand", kind_pf_demand, false, "first touch of a demand page: mapped, same RIP retried" },
	{ "df", kind_df, true, "kernel stack overflow into the guard page (#DF on IST2, abort)" },
	{ "nmi", kind_nmi, false, "self-NMI through the LAPIC with IF=0" },
};

static int cmd_fault(int argc, char **argv)
{
	if (argc != 2)
		return -EINVAL;
	if (!strcmp(argv[1], "list")) {
		for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			kprintf("  %-10s %-10s %s\n", kinds[i].name,
				kinds[i].fatal ? "fatal" : "continues", kinds[i].what);
		return 0;
	}
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(argv[1], kinds[i].name))
			return kinds[i].fn();
	return -EINVAL;
}
SHELL_CMD("fault", cmd_fault, "<list|de|bp|db|ud|gp|gp-fixup|pf|pf-demand|df|nmi>",
	  "trigger an exception; fatal (panic, QEMU status 33): de ud gp pf df; "
	  "continue: bp db gp-fixup pf-demand nmi");
