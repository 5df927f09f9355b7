/*
 * lapic.c - local APIC bring-up and access (xAPIC, MMIO); see lapic.h.
 *
 * SDM references are to vol. 3A chapter 10 (chapter 11 in 2023+ editions).
 * The bring-up order matters: while the APIC is software-disabled the LVT
 * mask bits are forced to 1 and cannot be cleared (10.4.7.2), so the SVR
 * enable comes before any LVT entry is unmasked.
 */
#include "kernel/arch/lapic.h"
#include "kernel/arch/lapic_regs.h"
#include "kernel/acpi.h"
#include "kernel/irq.h"
#include "kernel/mm/vmm.h"
#include "kernel/cpu.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/errno.h"

static volatile uint32_t *lapic_regs;
static struct lapic_info info;
static struct lapic_stats stats;

/* Aligned 32-bit accesses only (10.4.1): the volatile u32 makes sure the
 * compiler emits exactly one 32-bit load or store. */
static inline uint32_t lapic_read(unsigned reg)
{
	return lapic_regs[reg / 4];
}

static inline void lapic_write(unsigned reg, uint32_t v)
{
	lapic_regs[reg / 4] = v;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

unsigned lapic_id(void)
{
	return info.id;
}

const struct lapic_info *lapic_get_info(void)
{
	return &info;
}

void lapic_get_stats(struct lapic_stats *out)
{
	*out = stats;
}

/* ---- vector bitmaps (ISR/TMR/IRR: 8 registers of 32 bits, 10.8.4) ------ */

static bool vec_test(unsigned base, unsigned vector)
{
	if (!lapic_regs || vector > 0xff)
		return false;
	return lapic_read(base + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

bool lapic_isr_test(unsigned vector) { return vec_test(LAPIC_ISR, vector); }
bool lapic_irr_test(unsigned vector) { return vec_test(LAPIC_IRR, vector); }
uint32_t lapic_tpr(void) { return lapic_read(LAPIC_TPR); }
uint32_t lapic_ppr(void) { return lapic_read(LAPIC_PPR); }

static bool any_in_service(void)
{
	for (unsigned i = 0; i < 8; i++)
		if (lapic_read(LAPIC_ISR + 0x10 * i))
			return true;
	return false;
}

static void print_vector_set(const char *name, unsigned base)
{
	kprintf("  %s:", name);
	unsigned n = 0;
	for (unsigned v = 0; v < 256; v++)
		if (vec_test(base, v)) {
			kprintf(" 0x%x", v);
			n++;
		}
	kprintf(n ? "\n" : " none\n");
}

void lapic_print_state(void)
{
	if (!lapic_regs) {
		kprintf("lapic: not initialised\n");
		return;
	}
	kprintf("lapic: id %u tpr 0x%x ppr 0x%x svr 0x%x\n", info.id, lapic_tpr(), lapic_ppr(),
		lapic_read(LAPIC_SVR));
	print_vector_set("isr", LAPIC_ISR);
	print_vector_set("irr", LAPIC_IRR);
	print_vector_set("tmr", LAPIC_TMR);
	kprintf("  lvt timer 0x%x lint0 0x%x lint1 0x%x error 0x%x\n",
		lapic_read(LAPIC_LVT_TIMER), lapic_read(LAPIC_LVT_LINT0),
		lapic_read(LAPIC_LVT_LINT1), lapic_read(LAPIC_LVT_ERROR));
	kprintf("  timer initial %u current %u divide-config 0x%x\n",
		lapic_read(LAPIC_TIMER_ICR), lapic_read(LAPIC_TIMER_CCR), lapic_read(LAPIC_TIMER_DCR));
	kprintf("  spurious %lu errors %lu esr-seen 0x%x\n", (unsigned long)stats.spurious,
		(unsigned long)stats.errors, stats.esr_all);
}

/* ---- IPIs (10.6) ---------------------------------------------------------- */

/* The ICR's delivery status bit says the previous IPI has not been
 * accepted yet (10.6.1). QEMU delivers synchronously, so this returns at
 * once there; the bound keeps a wedged APIC from hanging the caller. */
static bool icr_wait_idle(void)
{
	for (int i = 0; i < 100000; i++) {
		if (!(lapic_read(LAPIC_ICR_LO) & LAPIC_ICR_BUSY))
			return true;
		cpu_relax();
	}
	return false;
}

int lapic_send_self_ipi(unsigned vector)
{
	/* Vectors 0-15 are illegal in the ICR (ESR "send illegal vector"),
	 * and 16-31 are exceptions. */
	if (vector < 0x20 || vector > 0xff)
		return -EINVAL;
	uint64_t flags = local_irq_save();
	int err = -EBUSY;
	if (icr_wait_idle()) {
		/* Writing the low half sends; with the self shorthand the
		 * destination field is ignored, so ICR_HI is left alone. */
		lapic_write(LAPIC_ICR_LO, vector | LAPIC_ICR_DM_FIXED | LAPIC_ICR_ASSERT |
				LAPIC_ICR_EDGE | LAPIC_ICR_SH_SELF);
		err = 0;
	}
	local_irq_restore(flags);
	return err;
}

int lapic_send_self_nmi(void)
{
	uint64_t flags = local_irq_save();
	int err = -EBUSY;
	if (icr_wait_idle()) {
		/* 10.6.1: "self" is valid only with fixed delivery, so address
		 * ourselves by APIC ID (physical mode); the vector is ignored for
		 * NMI. ICR_HI first: writing ICR_LO sends. */
		lapic_write(LAPIC_ICR_HI, (uint32_t)info.id << LAPIC_ICR_DEST_SHIFT);
		lapic_write(LAPIC_ICR_LO, LAPIC_ICR_DM_NMI | LAPIC_ICR_ASSERT | LAPIC_ICR_EDGE |
				LAPIC_ICR_DEST_PHYS | LAPIC_ICR_SH_NONE);
		err = 0;
	}
	local_irq_restore(flags);
	return err;
}

/* ---- timer mechanism (10.5.4) ------------------------------------------- */

void lapic_timer_start(uint32_t initial, unsigned vector, unsigned mode)
{
	uint32_t lvt = (vector & LAPIC_LVT_VECTOR_MASK) |
		       ((mode & LAPIC_TIMER_PERIODIC) ? LAPIC_LVT_TIMER_PERIODIC : LAPIC_LVT_TIMER_ONESHOT);
	if (mode & LAPIC_TIMER_NOIRQ)
		lvt |= LAPIC_LVT_MASKED;
	lapic_write(LAPIC_TIMER_ICR, 0);          /* stop a running countdown */
	lapic_write(LAPIC_LVT_TIMER, lvt);
	lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV16);
	lapic_write(LAPIC_TIMER_ICR, initial);    /* starts counting down */
}

uint32_t lapic_timer_current(void)
{
	return lapic_read(LAPIC_TIMER_CCR);
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_TIMER_ICR, 0);
}

/* ---- interrupt handlers --------------------------------------------------- */

/*
 * Vector 0xFF. The APIC raises a spurious interrupt when an interrupt it
 * was about to deliver was masked (by TPR/PPR) between the INTR signal and
 * the INTA cycle (10.9). It sets no ISR bit, so it must not be EOI'd: an
 * EOI would end whatever else is in service. Hard-IRQ context.
 */
static void lapic_spurious_irq(struct trap_frame *tf, void *ctx)
{
	stats.spurious++;
}

/*
 * Vector 0xFE: the APIC detected an error (10.5.3). The ESR is updated
 * only by a write, so write 0, then read the errors seen since the last
 * write. Hard-IRQ context; a few messages only, a stuck error would
 * otherwise flood the console.
 */
static void lapic_error_irq(struct trap_frame *tf, void *ctx)
{
	lapic_write(LAPIC_ESR, 0);
	uint32_t esr = lapic_read(LAPIC_ESR);
	stats.errors++;
	if (esr) {
		stats.esr_last = esr;
		stats.esr_all |= esr;
	}
	if (stats.errors <= 5)
		pr_warn("apic: LAPIC error interrupt, ESR 0x%x%s", esr,
			stats.errors == 5 ? " (further errors only counted)" : "");
}

/* ---- bring-up ----------------------------------------------------------- */

/* Our ACPI processor UID: the MADT's processor entry with our APIC ID. */
static int our_acpi_uid(const struct acpi_madt *m)
{
	for (unsigned i = 0; m && i < m->nr_lapics; i++)
		if (m->lapics[i].apic_id == info.id)
			return m->lapics[i].uid;
	return -1;
}

/*
 * LINT0 and LINT1. On PCs LINT0 is wired to the 8259's INTR (ExtINT, the
 * "virtual wire" of the MP spec) and LINT1 to the chipset's NMI. This
 * kernel routes every device through the I/O APIC, so LINT0 stays masked
 * (no 8259 interrupt can reach the CPU, spurious IRQ7 included), and a
 * LINT pin the MADT names as NMI (5.2.12.7) is programmed for NMI
 * delivery. NMI on LINT is always edge-sensitive (10.5.1, "Trigger Mode":
 * level is not supported for NMI), only the polarity comes from the MADT.
 * Without any MADT NMI entry, LINT1 = NMI, the PC convention.
 */
static void setup_lint(const struct acpi_madt *m)
{
	uint32_t lint[2] = { LAPIC_LVT_MASKED, LAPIC_LVT_MASKED };
	int uid = our_acpi_uid(m);
	bool found = false;

	for (unsigned i = 0; m && i < m->nr_lapic_nmis; i++) {
		const struct acpi_lapic_nmi *n = &m->lapic_nmis[i];
		if (n->lint > 1 || (n->uid != 0xff && n->uid != uid))
			continue;
		lint[n->lint] = LAPIC_LVT_DM_NMI;
		if ((n->inti & ACPI_INTI_POLARITY_MASK) == ACPI_INTI_POLARITY_LOW)
			lint[n->lint] |= LAPIC_LVT_ACTIVE_LOW;
		found = true;
	}
	if (!found)
		lint[1] = LAPIC_LVT_DM_NMI;
	lapic_write(LAPIC_LVT_LINT0, lint[0]);
	lapic_write(LAPIC_LVT_LINT1, lint[1]);
	info.lint0 = lint[0];
	info.lint1 = lint[1];
}

static void mask_all_lvt(void)
{
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_TIMER_ICR, 0);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);
	/* The optional entries exist only up to the version register's max
	 * LVT (10.5.1); writing an absent one is an illegal-register error. */
	if (info.max_lvt >= 4)
		lapic_write(LAPIC_LVT_PERF, LAPIC_LVT_MASKED);
	if (info.max_lvt >= 5)
		lapic_write(LAPIC_LVT_THERM, LAPIC_LVT_MASKED);
	if (info.max_lvt >= 6)
		lapic_write(LAPIC_LVT_CMCI, LAPIC_LVT_MASKED);
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	const struct acpi_madt *m = acpi_get_madt();

	if (base & APIC_BASE_EXTD)
		panic("apic: firmware left the LAPIC in x2APIC mode; this kernel drives xAPIC");
	if (!(base & APIC_BASE_ENABLE)) {
		/* 10.4.3: global enable through IA32_APIC_BASE bit 11. */
		pr_warn("apic: LAPIC globally disabled by firmware; enabling");
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
	}
	info.phys = base & APIC_BASE_ADDR_MASK;
	info.bsp = base & APIC_BASE_BSP;
	/* The MSR is what the CPU decodes; the MADT only reports it. */
	if (m && m->lapic_base != info.phys)
		pr_warn("apic: MADT says LAPIC at 0x%lx, IA32_APIC_BASE says 0x%lx; using the MSR",
			(unsigned long)m->lapic_base, (unsigned long)info.phys);

	lapic_regs = ioremap(info.phys, 4096);
	if (!lapic_regs)
		panic("apic: cannot map the LAPIC at 0x%lx", (unsigned long)info.phys);

	uint32_t ver = lapic_read(LAPIC_VERSION);
	info.id = lapic_read(LAPIC_ID) >> 24;
	info.version = LAPIC_VERSION_VER(ver);
	info.max_lvt = LAPIC_VERSION_MAXLVT(ver);
	/* 10.4.8: 0x1X is an integrated APIC (xAPIC); 0x0X was the 82489DX. */
	if (info.version < 0x10)
		panic("apic: LAPIC version 0x%x is a discrete 82489DX; not supported", info.version);

	mask_all_lvt();

	/* Software enable with spurious vector 0xFF (10.9). Its low 4 bits
	 * are hard-wired to 1 on P6 and Pentium parts, so 0xFF works on all. */
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
	lapic_write(LAPIC_TPR, 0);              /* accept every priority class */

	/* End in-service vectors the firmware may have left behind: each EOI
	 * ends the highest one; at most 256 can be set. */
	unsigned stale = 0;
	while (any_in_service() && stale < 256) {
		lapic_eoi();
		stale++;
	}
	if (stale)
		pr_warn("apic: ended %u stale in-service vector(s) left by firmware", stale);

	int err = irq_request(LAPIC_SPURIOUS_VECTOR, lapic_spurious_irq, NULL, "lapic-spurious");
	if (!err)
		err = irq_request(LAPIC_ERROR_VECTOR, lapic_error_irq, NULL, "lapic-error");
	if (err)
		pr_warn("apic: cannot register the LAPIC error/spurious handlers: %d", err);

	/* Clear errors latched so far (write, then read: 10.5.3), then route
	 * new ones to vector 0xFE. */
	lapic_write(LAPIC_ESR, 0);
	(void)lapic_read(LAPIC_ESR);
	lapic_write(LAPIC_LVT_ERROR, LAPIC_ERROR_VECTOR);

	setup_lint(m);

	pr_info("apic: LAPIC id %u version 0x%x max LVT %u at 0x%lx%s, LINT0 %s, LINT1 %s",
		info.id, info.version, info.max_lvt, (unsigned long)info.phys,
		info.bsp ? " (BSP)" : "",
		(info.lint0 & LAPIC_LVT_MASKED) ? "masked" : "NMI",
		(info.lint1 & LAPIC_LVT_MASKED) ? "masked" : "NMI");
}
