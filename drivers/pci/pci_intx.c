/*
 * pci_intx.c - which IOAPIC input (GSI) a PCI function's INTx pin reaches.
 *
 * The authoritative answer is the ACPI _PRT method in the DSDT, which is
 * AML; this kernel does not interpret AML. Instead:
 *
 * 1. q35 (host bridge 8086:29C0, ICH9 LPC 8086:2918 at 00:1f.0). The ICH9
 *    routes device slot S, pin P (INTA = 0) on bus 0 to PIRQ
 *    4 + (S + P) mod 4, i.e. PIRQE..PIRQH: QEMU's hw/isa/lpc_ich9.c
 *    (ich9_cc_init: irr[slot][intx] = (slot + intx) % 4 + 4) for slots
 *    below 25; slots 25-31 use the D25IR..D31IR chipset registers, which
 *    we do not read. In APIC mode PIRQ n is wired to IOAPIC input 16 + n
 *    (ich9_pirq_to_gsi), so slot 2 INTA -> GSI 22, slot 3 INTA -> GSI 23,
 *    as the DSDT's _PRT says too (QEMU-FACTS.md). The DSDT describes those
 *    GSIs as level-triggered, active-high. Devices behind a PCI-to-PCI
 *    bridge are first swizzled up to bus 0 (PCI-to-PCI Bridge Architecture
 *    1.2, 9.1: pin' = (pin + device) mod 4 at each bridge).
 *    OVMF additionally routes the PIRQs to a legacy ISA IRQ (e.g. 11) and
 *    writes that into the Interrupt Line register: the same level then also
 *    reaches IOAPIC pin 11, which ioapic_init() leaves masked.
 * 2. Elsewhere (i440fx/PIIX3: `-machine pc`): the firmware routed the PIRQ
 *    to the ISA IRQ in the Interrupt Line register; its GSI follows the
 *    MADT's interrupt source overrides (QEMU's MADT marks 5, 9, 10, 11
 *    level, active-high).
 * A driver may override both with a command-line value (source
 * PCI_GSI_OVERRIDE): that is the driver's business, not this file's.
 *
 * Context: task context after enumeration (reads config space).
 */
#include "drivers/pci/pci.h"
#include "kernel/acpi.h"
#include "kernel/errno.h"
#include "kernel/arch/ioapic.h"

#define PCI_VENDOR_INTEL    0x8086
#define Q35_MCH_DEVICE      0x29C0
#define ICH9_LPC_DEVICE     0x2918
#define ICH9_PIRQ_GSI_BASE  16      /* PIRQA -> GSI 16 in APIC mode */
#define ICH9_FIRST_DIR_SLOT 25      /* slots 25-31 have chipset routing regs */

const char *pci_gsi_source_name(enum pci_gsi_source s)
{
	switch (s) {
	case PCI_GSI_Q35_SWIZZLE: return "q35 PIRQ swizzle";
	case PCI_GSI_IRQ_LINE: return "interrupt line register";
	case PCI_GSI_OVERRIDE: return "command line";
	default: return "none";
	}
}

static bool is_q35(void)
{
	struct pci_dev *host = pci_find(0, 0, 0);
	struct pci_dev *lpc = pci_find(0, 31, 0);
	return host && lpc && host->vendor == PCI_VENDOR_INTEL &&
	       host->device == Q35_MCH_DEVICE && lpc->vendor == PCI_VENDOR_INTEL &&
	       lpc->device == ICH9_LPC_DEVICE;
}

/* The bridge whose secondary bus is `bus`, or NULL. */
static const struct pci_dev *bridge_to(uint8_t bus)
{
	for (unsigned i = 0; i < pci_device_count(); i++) {
		const struct pci_dev *d = pci_device(i);
		if (d->header_type == 1 && pci_read8(d, PCI_SECONDARY_BUS) == bus)
			return d;
	}
	return NULL;
}

/* q35: swizzle up to bus 0, then apply the ICH9 slot map. -ENODEV if the
 * path to bus 0 is broken or the root slot has chipset-defined routing. */
static int q35_gsi(const struct pci_dev *d)
{
	unsigned pin = d->irq_pin - 1u;          /* 0 = INTA */
	uint8_t slot = d->slot, bus = d->bus;

	for (int hops = 0; bus != 0; hops++) {   /* bounded: a bus per hop */
		const struct pci_dev *br = bridge_to(bus);
		if (!br || hops >= PCI_MAX_BUSES)
			return -ENODEV;
		pin = (pin + slot) % 4;
		slot = br->slot;
		bus = br->bus;
	}
	if (slot >= ICH9_FIRST_DIR_SLOT)
		return -ENODEV;
	unsigned pirq = 4 + (slot + pin) % 4;
	return (int)(ICH9_PIRQ_GSI_BASE + pirq);
}

int pci_intx_gsi(const struct pci_dev *d, enum pci_gsi_source *source, unsigned *flags)
{
	*source = PCI_GSI_NONE;
	*flags = IOAPIC_LEVEL | IOAPIC_ACTIVE_HIGH;
	if (d->irq_pin < 1 || d->irq_pin > 4)
		return -ENODEV;

	if (is_q35()) {
		int gsi = q35_gsi(d);
		if (gsi >= 0) {
			*source = PCI_GSI_Q35_SWIZZLE;
			return gsi;
		}
	}
	/* 0 and 0xFF mean "unknown / not connected" (PCI 3.0 6.2.4). */
	if (d->irq_line == 0 || d->irq_line == 0xFF)
		return -ENODEV;
	unsigned f = 0;
	unsigned gsi = acpi_isa_irq_to_gsi(d->irq_line, &f);
	/* Without an override the MADT says "ISA: edge"; a PCI line is level
	 * whatever the table says, and QEMU's PIIX drives it active-high. */
	*flags = IOAPIC_LEVEL | (f & IOAPIC_ACTIVE_LOW);
	*source = PCI_GSI_IRQ_LINE;
	return (int)gsi;
}
