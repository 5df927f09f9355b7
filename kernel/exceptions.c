/*
 * exceptions.c - vectors 0-31 except NMI: report, recover where the kernel
 * can (exceptions.h lists which), panic otherwise.
 *
 * Fault or trap (SDM vol 3A 6.5): for a fault the saved RIP is the
 * faulting instruction, so returning re-executes it (how the demand pager
 * works); for a trap it is the next instruction, so returning continues
 * after it (#BP, single-step #DB); an abort (#DF, #MC) leaves no reliable
 * RIP to return to.
 *
 * Context: called from trap_dispatch() with IF=0 on the faulting stack
 * (IST2 for #DF, IST3 for #MC). Exceptions do not change preempt_count:
 * as in Linux, a kernel-mode fault runs in the context it interrupted
 * (the report prints that context).
 */
#include "kernel/exceptions.h"
#include "kernel/trap.h"
#include "kernel/extable.h"
#include "kernel/preempt.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/power.h"
#include "kernel/cpu.h"
#include "kernel/irqflags.h"
#include "kernel/registry.h"
#include "kernel/arch/gdt.h"
#include "kernel/mm/vmm.h"
#include "kernel/mm/pmm.h"
#include "kernel/lib/json.h"
#include "kernel/lib/printf.h"
#include "kernel/lib/string.h"

#define RFLAGS_TF   (1ull << 8)
/* DR6 (SDM vol 3A 17.2.3): B0-B3 in bits 0-3, BD 13, BS 14 (single
 * step), BT 15. The CPU never clears it: the handler writes the value
 * with every status bit clear (reserved bits read as 1). */
#define DR6_BS      (1ull << 14)
#define DR6_CLEAR   0xffff0ff0ull

static const struct {
	const char *mnemonic;
	const char *name;
	enum exception_class cls;
} exc_info[32] = {
	/* SDM vol 3A table 6-1 */
	[0]  = { "#DE", "Divide Error", EXC_FAULT },
	[1]  = { "#DB", "Debug", EXC_TRAP },      /* trap or fault: DR6 says */
	[2]  = { "NMI", "Non-maskable Interrupt", EXC_INTERRUPT },
	[3]  = { "#BP", "Breakpoint", EXC_TRAP },
	[4]  = { "#OF", "Overflow", EXC_TRAP },
	[5]  = { "#BR", "BOUND Range Exceeded", EXC_FAULT },
	[6]  = { "#UD", "Invalid Opcode", EXC_FAULT },
	[7]  = { "#NM", "Device Not Available", EXC_FAULT },
	[8]  = { "#DF", "Double Fault", EXC_ABORT },
	[9]  = { "--", "Coprocessor Segment Overrun (reserved)", EXC_RESERVED },
	[10] = { "#TS", "Invalid TSS", EXC_FAULT },
	[11] = { "#NP", "Segment Not Present", EXC_FAULT },
	[12] = { "#SS", "Stack-Segment Fault", EXC_FAULT },
	[13] = { "#GP", "General Protection", EXC_FAULT },
	[14] = { "#PF", "Page Fault", EXC_FAULT },
	[15] = { "--", "Reserved", EXC_RESERVED },
	[16] = { "#MF", "x87 FPU Floating-Point Error", EXC_FAULT },
	[17] = { "#AC", "Alignment Check", EXC_FAULT },
	[18] = { "#MC", "Machine Check", EXC_ABORT },
	[19] = { "#XM", "SIMD Floating-Point Exception", EXC_FAULT },
	[20] = { "#VE", "Virtualization Exception", EXC_FAULT },
	[21] = { "#CP", "Control Protection Exception", EXC_FAULT },
};

static const char *const class_names[] = {
	[EXC_FAULT] = "fault", [EXC_TRAP] = "trap", [EXC_ABORT] = "abort",
	[EXC_INTERRUPT] = "interrupt", [EXC_RESERVED] = "reserved",
};

const char *exception_mnemonic(unsigned v)
{
	return v < 32 && exc_info[v].mnemonic ? exc_info[v].mnemonic : "--";
}

const char *exception_name(unsigned v)
{
	return v < 32 && exc_info[v].name ? exc_info[v].name : "Reserved";
}

enum exception_class exception_class_of(unsigned v)
{
	return v < 32 && exc_info[v].name ? exc_info[v].cls : EXC_RESERVED;
}

static struct exception_record records[32];
static struct {
	uint64_t demand_faults;
	uint64_t demand_failures;
	uint64_t demand_last_rip;
	uint64_t extable_fixups;
	uint64_t single_steps;
	uint64_t user;
} es;
static unsigned steps_armed, steps_taken;
static uint64_t step_rips[EXC_MAX_STEPS];
static int fatal_depth;

uint64_t exception_demand_base(void) { return VMM_DEMAND_BASE; }
uint64_t exception_demand_faults(void) { return es.demand_faults; }
uint64_t exception_demand_last_rip(void) { return es.demand_last_rip; }

void exception_last(unsigned v, struct exception_record *out)
{
	*out = v < 32 ? records[v] : (struct exception_record){ 0 };
}

void exception_single_step_arm(unsigned steps)
{
	uint64_t f = local_irq_save();
	steps_armed = steps > EXC_MAX_STEPS ? EXC_MAX_STEPS : steps;
	steps_taken = 0;
	local_irq_restore(f);
}

unsigned exception_single_step_rips(uint64_t *out, unsigned max)
{
	unsigned n = steps_taken < max ? steps_taken : max;
	for (unsigned i = 0; i < n; i++)
		out[i] = step_rips[i];
	return n;
}

static inline uint64_t read_dr6(void)
{
	uint64_t v;
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static inline void write_dr6(uint64_t v)
{
	__asm__ volatile("mov %0, %%dr6" :: "r"(v));
}

/* ---------------------------------------------------------------- reports */

static bool guard_page(uint64_t va)
{
	return vmm_is_guard_page(va);
}

static void dump_regs(int level, const struct trap_frame *tf)
{
	printk(level, "  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx",
	       tf->rax, tf->rbx, tf->rcx, tf->rdx);
	printk(level, "  rsi=%016lx rdi=%016lx rbp=%016lx rsp=%016lx",
	       tf->rsi, tf->rdi, tf->rbp, tf->rsp);
	printk(level, "  r8 =%016lx r9 =%016lx r10=%016lx r11=%016lx",
	       tf->r8, tf->r9, tf->r10, tf->r11);
	printk(level, "  r12=%016lx r13=%016lx r14=%016lx r15=%016lx",
	       tf->r12, tf->r13, tf->r14, tf->r15);
	printk(level, "  cr0=%016lx cr3=%016lx cr4=%016lx",
	       read_cr0(), read_cr3(), read_cr4());
}

/*
 * Frame-pointer backtrace of the interrupted code. Every read goes
 * through probe_read_u64(), so a frame pointer into a guard page or
 * garbage ends the walk with a note instead of a recursive fault (the #DF
 * report depends on this). At most 32 frames; frames must move up.
 */
static void trap_backtrace(int level, uint64_t rbp, uint64_t rip)
{
	extern char __text_start[], __text_end[];

	printk(level, "backtrace:");
	printk(level, "  [<%016lx>] (interrupted here)", rip);
	for (int i = 0; i < 32 && rbp; i++) {
		uint64_t next, ret;
		if ((rbp & 7) || probe_read_u64((void *)rbp, &next) ||
		    probe_read_u64((void *)(rbp + 8), &ret)) {
			printk(level, "  (frame pointer %016lx unreadable: walk ends)", rbp);
			return;
		}
		if (ret < (uint64_t)__text_start || ret >= (uint64_t)__text_end)
			return;
		printk(level, "  [<%016lx>]", ret);
		if (next <= rbp)
			return;
		rbp = next;
	}
}

/* Which stack the handler itself runs on, e.g. " on IST2 stack [a, b)". */
static void current_stack_note(int level)
{
	uint64_t here = (uint64_t)__builtin_frame_address(0);
	static const char *const ist_names[] = { "", "NMI", "double fault", "machine check" };

	for (unsigned ist = 1; ist <= 3; ist++) {
		uint64_t lo, hi;
		if (tss_ist_range(ist, &lo, &hi) && here >= lo && here < hi) {
			printk(level, "  handler running on IST%u (%s) stack [%016lx, %016lx)%s",
			       ist, ist_names[ist], lo, hi,
			       tss_ist_guarded() ? " with guard page" : "");
			return;
		}
	}
	printk(level, "  handler running on the interrupted stack (rsp %016lx)", here);
}

static void decode_pf(int level, uint64_t err, uint64_t cr2)
{
	printk(level, "  #PF: %s of a %s page in %s mode%s%s%s",
	       err & PF_ERR_I ? "instruction fetch" : err & PF_ERR_W ? "write" : "read",
	       err & PF_ERR_P ? "present (protection violation)" : "not-present",
	       err & PF_ERR_U ? "user" : "supervisor",
	       err & PF_ERR_RSVD ? ", reserved bit set" : "",
	       err & PF_ERR_PK ? ", protection key" : "",
	       guard_page(cr2) ? "; the address is a stack guard page: kernel stack overflow" : "");
}

/* The one-line summary every exception gets, then the details. */
static void report(int level, const struct trap_frame *tf, uint64_t cr2, bool full)
{
	unsigned v = tf->vector;
	unsigned pc = preempt_count();

	printk(level, "EXCEPTION %u %s (%s, %s) err=0x%lx cr2=0x%lx rip=0x%lx cs=0x%lx "
	       "rflags=0x%lx rsp=0x%lx ss=0x%lx",
	       v, exception_mnemonic(v), exception_name(v),
	       class_names[exception_class_of(v)], tf->error_code, cr2, tf->rip,
	       tf->cs, tf->rflags, tf->rsp, tf->ss);
	if (v == 14)
		decode_pf(level, tf->error_code, cr2);
	if (v == 8 && guard_page(cr2))
		printk(level, "  #DF: CR2 0x%lx is a stack guard page: a #PF there could not push its "
		       "own frame on that stack (kernel stack overflow)", cr2);
	if (!full)
		return;
	printk(level, "  context: %s mode, preempt_count=0x%x (%s), IF was %d",
	       trap_from_user(tf) ? "user" : "kernel", pc, pc_context_name(pc),
	       (tf->rflags & RFLAGS_IF) ? 1 : 0);
	dump_regs(level, tf);
	current_stack_note(level);
	trap_backtrace(level, tf->rbp, tf->rip);
}

/* Report and panic: an exception the kernel cannot recover from. */
static __attribute__((noreturn)) void die(const struct trap_frame *tf, uint64_t cr2,
					  const char *why)
{
	/* A fault while printing the report (say, a broken stack) must not
	 * recurse: one line and out. */
	if (fatal_depth++) {
		printk(LOG_EMERG, "EXCEPTION %lu %s at rip 0x%lx while reporting a fatal exception: stopping",
		       tf->vector, exception_mnemonic(tf->vector), tf->rip);
		machine_exit(EXIT_CODE_PANIC);
	}
	report(LOG_EMERG, tf, cr2, true);
	panic("%s %s in %s mode at rip 0x%lx: %s", exception_mnemonic(tf->vector),
	      exception_name(tf->vector), trap_from_user(tf) ? "user" : "kernel",
	      tf->rip, why);
}

/* ---------------------------------------------------------------- handlers */

/*
 * Not-present data access in the demand area, from kernel mode: map a
 * fresh page holding the pattern and return, so the faulting instruction
 * (the saved RIP of a fault) runs again and now succeeds.
 */
static bool handle_demand_fault(struct trap_frame *tf, uint64_t cr2)
{
	uint64_t base = VMM_DEMAND_BASE;

	if (cr2 < base || cr2 >= base + EXC_DEMAND_PAGES * PAGE_SIZE)
		return false;
	if (tf->error_code & (PF_ERR_P | PF_ERR_RSVD | PF_ERR_I | PF_ERR_U))
		return false; /* only a kernel read/write of a missing page */
	uint64_t pa = phys_alloc_page();
	if (!pa) {
		es.demand_failures++;
		pr_err("trap: demand fault at 0x%lx: out of memory", cr2);
		return false;
	}
	uint64_t va = cr2 & PAGE_MASK;
	uint64_t *words = phys_to_virt(pa);
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		words[i] = demand_pattern(va + 8 * i);
	int err = vmm_map_page(va, pa, VMM_WRITE);
	if (err) {
		es.demand_failures++;
		phys_free_page(pa);
		pr_err("trap: demand fault at 0x%lx: vmm_map_page failed: %d", cr2, err);
		return false;
	}
	es.demand_faults++;
	es.demand_last_rip = tf->rip;
	pr_info("trap: #PF at 0x%lx (rip 0x%lx, err 0x%lx): demand page mapped to pa 0x%lx, "
		"retrying the same instruction (fixed faults: %lu)",
		cr2, tf->rip, tf->error_code, pa, es.demand_faults);
	return true;
}

/* A fault at an instruction listed in the exception table continues at
 * its fixup (extable.h). */
static bool fixup_exception(struct trap_frame *tf, uint64_t cr2)
{
	const struct extable_entry *e = extable_search(tf->rip);
	if (!e)
		return false;
	es.extable_fixups++;
	pr_info("trap: %s at rip 0x%lx (err 0x%lx cr2 0x%lx) fixed up via the exception table: "
		"continuing at 0x%lx", exception_mnemonic(tf->vector), tf->rip,
		tf->error_code, cr2, e->fixup);
	tf->rip = e->fixup;
	return true;
}

static void handle_debug(struct trap_frame *tf)
{
	uint64_t dr6 = read_dr6();
	write_dr6(DR6_CLEAR);
	report(LOG_NOTICE, tf, 0, false);
	if (dr6 & DR6_BS) {
		es.single_steps++;
		if (steps_taken < steps_armed)
			step_rips[steps_taken++] = tf->rip;
		bool last = steps_taken >= steps_armed;
		if (last)
			tf->rflags &= ~RFLAGS_TF; /* stop stepping after this one */
		pr_notice("trap: #DB single-step trap (DR6=0x%lx): saved rip 0x%lx is the next "
			  "instruction to run; %s", dr6, tf->rip,
			  last ? "TF cleared, continuing" : "still stepping");
	} else {
		pr_notice("trap: #DB (DR6=0x%lx) not a single step; continuing", dr6);
	}
}

static void handle_breakpoint(struct trap_frame *tf)
{
	report(LOG_NOTICE, tf, 0, true);
	pr_notice("trap: #BP is a trap: the one-byte int3 was at 0x%lx, saved rip 0x%lx is the next "
		  "instruction; continuing there", tf->rip - 1, tf->rip);
}

void exception_handle(struct trap_frame *tf)
{
	unsigned v = tf->vector;
	/* CR2 first: any later #PF (even one we recover from) overwrites it.
	 * For #DF it names the page fault that could not be delivered. */
	uint64_t cr2 = (v == 14 || v == 8) ? read_cr2() : 0;

	struct exception_record *r = &records[v & 31];
	r->count++;
	r->rip = tf->rip;
	r->rsp = tf->rsp;
	r->rflags = tf->rflags;
	r->error_code = tf->error_code;
	r->cr2 = cr2;
	r->preempt_count = preempt_count();

	if (trap_from_user(tf)) {
		es.user++;
		if (trap_user_exception(tf))
			return;
		die(tf, cr2, "exception in user mode and nothing handles it");
	}

	switch (v) {
	case 1:
		handle_debug(tf);
		return;
	case 3:
		handle_breakpoint(tf);
		return;
	case 8:
		die(tf, cr2, "double fault: an exception could not be delivered (the saved "
		    "rip/rsp of #DF are undefined, SDM vol 3A 6.15); see the stack note above");
	case 14:
		if (handle_demand_fault(tf, cr2))
			return;
		/* fall through */
	case 12:
	case 13:
	case 17:
		if (fixup_exception(tf, cr2))
			return;
		break;
	}
	die(tf, cr2, "unrecoverable exception");
}

/* ---------------------------------------------------------------- stats */

static void exceptions_stats_json(struct json *j)
{
	json_obj_begin(j, "count");
	for (unsigned v = 0; v < 32; v++) {
		char key[8];
		if (!records[v].count)
			continue;
		if (exception_class_of(v) == EXC_RESERVED) /* no mnemonic: "v15" */
			ksnprintf(key, sizeof(key), "v%u", v);
		else
			strlcpy(key, exception_mnemonic(v), sizeof(key));
		json_u64(j, key, records[v].count);
	}
	json_obj_end(j);
	json_u64(j, "demand_faults", es.demand_faults);
	json_u64(j, "demand_failures", es.demand_failures);
	json_u64(j, "extable_fixups", es.extable_fixups);
	json_u64(j, "single_steps", es.single_steps);
	json_u64(j, "user", es.user);
}
STATS_SECTION("exceptions", exceptions_stats_json);
