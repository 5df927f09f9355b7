/*
 * info.c - the shell's `info` (what this machine is: CPU, clocks, APICs,
 * interrupt routing, memory, command line) and the `apic` stats section.
 *
 * The `info` lines have a fixed "<topic>: key value ..." shape that the
 * scenarios (tests/scenarios/test_apic.py) match; change both together.
 */
#include "kernel/acpi.h"
#include "kernel/arch/lapic.h"
#include "kernel/arch/ioapic.h"
#include "kernel/arch/pic.h"
#include "kernel/timer.h"
#include "kernel/time.h"
#include "kernel/cpu.h"
#include "kernel/cmdline.h"
#include "kernel/serial.h"
#include "kernel/printk.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/mm/mm.h"
#include "kernel/lib/json.h"
#include "kernel/lib/string.h"
#include "kernel/errno.h"

/* CPUID leaf 1 ECX / leaf 0x80000007 EDX bits (SDM vol. 2A, CPUID). */
#define CPUID1_ECX_X2APIC       (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_HYPERVISOR   (1u << 31)
#define CPUID_EXT7_EDX_INVTSC   (1u << 8)

static void print_cpu(void)
{
	uint32_t a, b, c, d;
	char vendor[13], brand[49];

	cpuid(0, 0, &a, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = 0;

	cpuid(1, 0, &a, &b, &c, &d);
	unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf, stepping = a & 0xf;
	if (family == 0xf)
		family += (a >> 20) & 0xff;
	if (family == 0x6 || family >= 0xf)
		model |= ((a >> 16) & 0xf) << 4;
	uint32_t ecx1 = c;

	uint32_t max_ext, edx_ext7 = 0;
	cpuid(0x80000000, 0, &max_ext, &b, &c, &d);
	brand[0] = 0;
	if (max_ext >= 0x80000004) {
		for (unsigned i = 0; i < 3; i++) {
			cpuid(0x80000002 + i, 0, &a, &b, &c, &d);
			memcpy(brand + 16 * i, &a, 4);
			memcpy(brand + 16 * i + 4, &b, 4);
			memcpy(brand + 16 * i + 8, &c, 4);
			memcpy(brand + 16 * i + 12, &d, 4);
		}
		brand[48] = 0;
	}
	if (max_ext >= 0x80000007)
		cpuid(0x80000007, 0, &a, &b, &c, &edx_ext7);
	const char *bp = brand;
	while (*bp == ' ')
		bp++;
	kprintf("cpu: vendor %s brand \"%s\" family 0x%x model 0x%x stepping %u\n",
		vendor, bp, family, model, stepping);
	kprintf("cpu: x2apic %s tsc-deadline %s invariant-tsc %s hypervisor %s\n",
		ecx1 & CPUID1_ECX_X2APIC ? "yes" : "no",
		ecx1 & CPUID1_ECX_TSC_DEADLINE ? "yes" : "no",
		edx_ext7 & CPUID_EXT7_EDX_INVTSC ? "yes" : "no",
		ecx1 & CPUID1_ECX_HYPERVISOR ? "yes" : "no");
}

static void print_apics(void)
{
	const struct lapic_info *li = lapic_get_info();
	struct lapic_stats ls;
	lapic_get_stats(&ls);

	kprintf("lapic: id %u version 0x%x max_lvt %u base 0x%lx%s tpr 0x%x ppr 0x%x spurious %lu errors %lu\n",
		li->id, li->version, li->max_lvt, (unsigned long)li->phys, li->bsp ? " bsp" : "",
		lapic_tpr(), lapic_ppr(), (unsigned long)ls.spurious, (unsigned long)ls.errors);

	for (unsigned i = 0; i < ioapic_count(); i++) {
		const struct ioapic *io = ioapic_get(i);
		kprintf("ioapic: id %u version 0x%x address 0x%lx gsi_base %u entries %u\n",
			io->id, io->version, (unsigned long)io->phys, io->gsi_base, io->nr_entries);
		/* Only the routed (unmasked or programmed) entries: 24 lines
		 * of "masked" say nothing. */
		for (unsigned pin = 0; pin < io->nr_entries; pin++) {
			uint64_t rte;
			if (ioapic_read_entry(io->gsi_base + pin, &rte) ||
			    (rte & IOAPIC_RTE_VECTOR_MASK) == 0)
				continue;
			kprintf("  gsi %u vector 0x%lx %s active-%s %s dest %lu%s%s\n",
				io->gsi_base + pin, (unsigned long)(rte & IOAPIC_RTE_VECTOR_MASK),
				rte & IOAPIC_RTE_LEVEL ? "level" : "edge",
				rte & IOAPIC_RTE_ACTIVE_LOW ? "low" : "high",
				rte & IOAPIC_RTE_MASKED ? "masked" : "unmasked",
				(unsigned long)(rte >> IOAPIC_RTE_DEST_SHIFT),
				rte & IOAPIC_RTE_REMOTE_IRR ? " remote-irr" : "",
				rte & IOAPIC_RTE_DELIVS ? " send-pending" : "");
		}
	}

	const struct acpi_madt *m = acpi_get_madt();
	for (unsigned i = 0; m && i < m->nr_overrides; i++) {
		const struct acpi_override *o = &m->overrides[i];
		unsigned fl;
		acpi_isa_irq_to_gsi(o->source, &fl);
		kprintf("override: isa irq %u -> gsi %u %s active-%s\n", o->source, o->gsi,
			fl & IOAPIC_LEVEL ? "level" : "edge", fl & IOAPIC_ACTIVE_LOW ? "low" : "high");
	}
	unsigned fl;
	unsigned gsi = acpi_isa_irq_to_gsi(COM1_IRQ, &fl);
	kprintf("com1: isa irq %u -> gsi %u %s active-%s\n", COM1_IRQ, gsi,
		fl & IOAPIC_LEVEL ? "level" : "edge", fl & IOAPIC_ACTIVE_LOW ? "low" : "high");
}

static int cmd_info(int argc, char **argv)
{
	uint64_t up = uptime_ns();

	print_cpu();
	kprintf("tsc: %lu kHz\n", (unsigned long)tsc_khz);
	print_apics();
	kprintf("timer: hz %u lapic_timer_hz %lu ticks %lu\n", hz,
		(unsigned long)timer_lapic_hz(), (unsigned long)jiffies);
	kprintf("uptime: %lu.%03lu s\n", (unsigned long)(up / 1000000000ull),
		(unsigned long)(up / 1000000ull % 1000));
	mm_info_print();
	kprintf("cmdline: '%s'\n", kernel_cmdline);
	return 0;
}
SHELL_CMD("info", cmd_info, "", "CPU, clocks, APICs, routing, memory, command line");

static void apic_stats(struct json *j)
{
	struct lapic_stats ls;
	const struct acpi_madt *m = acpi_get_madt();

	lapic_get_stats(&ls);
	json_u64(j, "lapic_id", lapic_id());
	json_u64(j, "ioapics", ioapic_count());
	json_u64(j, "ioapic_entries", ioapic_count() ? ioapic_get(0)->nr_entries : 0);
	json_u64(j, "overrides", m ? m->nr_overrides : 0);
	json_u64(j, "spurious", ls.spurious);
	json_u64(j, "errors", ls.errors);
	json_hex(j, "esr_all", ls.esr_all);
	json_hex(j, "pic_masks", pic_get_masks());
}
STATS_SECTION("apic", apic_stats);

static int cmd_apic(int argc, char **argv)
{
	if (argc == 1) {
		lapic_print_state();
		kprintf("pic: masks 0x%x\n", pic_get_masks());
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "nmi")) {
		/* The NMI handler (kernel/nmi.c) reports it on the console. */
		return lapic_send_self_nmi();
	}
	if (argc == 3 && !strcmp(argv[1], "ipi")) {
		uint64_t v;
		if (!parse_u64(argv[2], &v) || v > 0xff)
			return -EINVAL;
		return lapic_send_self_ipi((unsigned)v);
	}
	return -EINVAL;
}
SHELL_CMD("apic", cmd_apic, "[nmi | ipi <vector>]",
	  "LAPIC state (ISR/IRR/TMR, LVT), or send this CPU an NMI or a fixed IPI");
