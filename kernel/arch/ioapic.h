/*
 * ioapic.h - the I/O APIC(s): route a global system interrupt (GSI) to a
 * vector on this CPU's local APIC, mask and unmask it, and read its
 * redirection entry back for reports.
 *
 * Register layout: Intel 82093AA I/O APIC datasheet, 3.0 (registers), 3.1
 * (IOREGSEL/IOWIN) and 3.2.4 (IOREDTBL). QEMU's model (hw/intc/ioapic.c)
 * is version 0x20. Level entries are acknowledged by the local APIC's
 * EOI, which is broadcast to the I/O APICs; their own EOI register is not
 * used.
 *
 * GSIs are numbered across all I/O APICs as the MADT says (each has a GSI
 * base). Every entry is masked by ioapic_init() and stays masked until a
 * driver routes it; nothing else unmasks pins. On q35 this keeps pin 11
 * masked, to which OVMF also routes the PCI INTx lines through the legacy
 * PIRQ path (QEMU-FACTS.md): a driver must route its own GSI (16-23), not
 * pin 11.
 *
 * Context: the IOREGSEL/IOWIN pair is two accesses, so every function
 * takes them with interrupts disabled (saved and restored); they may be
 * called from task or hard-IRQ context, not from NMI (an NMI could land
 * between the select and the window access of the code it interrupted).
 */
#ifndef KERNEL_ARCH_IOAPIC_H
#define KERNEL_ARCH_IOAPIC_H

#include <stdint.h>
#include <stdbool.h>

/* Flags for ioapic_route_gsi() and acpi_isa_irq_to_gsi(). */
#define IOAPIC_EDGE        0x0
#define IOAPIC_LEVEL       0x1
#define IOAPIC_ACTIVE_HIGH 0x0
#define IOAPIC_ACTIVE_LOW  0x2
#define IOAPIC_MASKED      0x4   /* program the entry but leave it masked */

/* Redirection entry bits (82093AA 3.2.4), for decoding ioapic_read_entry(). */
#define IOAPIC_RTE_VECTOR_MASK    0xffull
#define IOAPIC_RTE_DELMODE_SHIFT  8           /* 000 fixed, 001 lowest prio, 100 NMI, 111 ExtINT */
#define IOAPIC_RTE_DELMODE_MASK   (7ull << 8)
#define IOAPIC_RTE_DESTMODE_LOG   (1ull << 11) /* 0 = physical APIC ID */
#define IOAPIC_RTE_DELIVS         (1ull << 12) /* RO: send pending */
#define IOAPIC_RTE_ACTIVE_LOW     (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR     (1ull << 14) /* RO: level irq accepted, no EOI yet */
#define IOAPIC_RTE_LEVEL          (1ull << 15)
#define IOAPIC_RTE_MASKED         (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT     56

#define IOAPIC_MAX 8

struct ioapic {
	uint8_t id;            /* from the MADT */
	uint8_t version;       /* IOAPICVER bits 7:0 */
	uint32_t gsi_base;
	unsigned nr_entries;   /* max redirection entry + 1 */
	uint64_t phys;
	volatile uint32_t *regs;
};

/* Finds every I/O APIC in the MADT, reads its version and size, and masks
 * all its entries. Boot, IF=0, after acpi_init() and lapic_init(). 0, or
 * -ENODEV if the MADT lists none. */
int ioapic_init(void);

unsigned ioapic_count(void);
const struct ioapic *ioapic_get(unsigned i);   /* NULL if i >= count */

/* Programs `gsi` to deliver `vector` (0x30..0xEF) to this CPU as a fixed,
 * physically addressed interrupt with the trigger and polarity in flags;
 * unmasked unless flags has IOAPIC_MASKED. 0, -ENODEV (no I/O APIC has
 * that GSI) or -EINVAL (vector out of range). */
int ioapic_route_gsi(unsigned gsi, unsigned vector, unsigned flags);

/* Mask / unmask one entry without changing anything else. 0 or -ENODEV. */
int ioapic_mask_gsi(unsigned gsi);
int ioapic_unmask_gsi(unsigned gsi);

/* Reads the 64-bit redirection entry of gsi into *rte (IOAPIC_RTE_* bits:
 * Remote IRR, delivery status, mask...). 0 or -ENODEV. */
int ioapic_read_entry(unsigned gsi, uint64_t *rte);

#endif
