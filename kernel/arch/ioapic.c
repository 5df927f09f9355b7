/*
 * ioapic.c - I/O APIC programming; see ioapic.h for the API and context.
 *
 * Intel 82093AA I/O APIC datasheet:
 *   3.0   memory map: IOREGSEL at +0x00 selects a register, IOWIN at +0x10
 *         reads or writes it (32 bits each)
 *   3.2.1 IOAPICID (index 0), 3.2.2 IOAPICVER (index 1: version in bits
 *         7:0, maximum redirection entry in 23:16), 3.2.4 IOREDTBL[n] at
 *         indexes 0x10 + 2n (low dword) and 0x11 + 2n (high dword)
 */
#include "kernel/arch/ioapic.h"
#include "kernel/arch/lapic.h"
#include "kernel/acpi.h"
#include "kernel/mm/vmm.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/errno.h"

#define IOREGSEL   (0x00 / 4)
#define IOWIN      (0x10 / 4)

#define IOAPIC_REG_ID      0x00
#define IOAPIC_REG_VER     0x01
#define IOAPIC_REG_REDTBL  0x10
#define REDTBL_LO(pin)     (IOAPIC_REG_REDTBL + 2 * (pin))       /* vector, mode, mask */
#define REDTBL_HI(pin)     (IOAPIC_REG_REDTBL + 2 * (pin) + 1)   /* destination */

#define IOAPIC_VER_VERSION(v)   ((v) & 0xff)
#define IOAPIC_VER_MAXREDIR(v)  (((v) >> 16) & 0xff)

static struct ioapic ioapics[IOAPIC_MAX];
static unsigned nr_ioapics;

/* Select-then-access: callers hold interrupts off (see ioapic.h). */
static uint32_t ioapic_read(const struct ioapic *io, unsigned reg)
{
	io->regs[IOREGSEL] = reg;
	return io->regs[IOWIN];
}

static void ioapic_write(const struct ioapic *io, unsigned reg, uint32_t v)
{
	io->regs[IOREGSEL] = reg;
	io->regs[IOWIN] = v;
}

unsigned ioapic_count(void)
{
	return nr_ioapics;
}

const struct ioapic *ioapic_get(unsigned i)
{
	return i < nr_ioapics ? &ioapics[i] : NULL;
}

/* The I/O APIC that owns gsi, and its pin there. */
static struct ioapic *gsi_lookup(unsigned gsi, unsigned *pin)
{
	for (unsigned i = 0; i < nr_ioapics; i++) {
		struct ioapic *io = &ioapics[i];
		if (gsi >= io->gsi_base && gsi < io->gsi_base + io->nr_entries) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

static uint64_t rte_read(const struct ioapic *io, unsigned pin)
{
	uint32_t lo = ioapic_read(io, REDTBL_LO(pin));
	uint32_t hi = ioapic_read(io, REDTBL_HI(pin));
	return (uint64_t)hi << 32 | lo;
}

/*
 * Writes an entry without a window in which a half-written entry could
 * fire: the low dword (which holds the mask) goes masked first, then the
 * destination, then the final low dword.
 */
static void rte_write(const struct ioapic *io, unsigned pin, uint64_t rte)
{
	ioapic_write(io, REDTBL_LO(pin), (uint32_t)(rte | IOAPIC_RTE_MASKED));
	ioapic_write(io, REDTBL_HI(pin), (uint32_t)(rte >> 32));
	ioapic_write(io, REDTBL_LO(pin), (uint32_t)rte);
}

int ioapic_init(void)
{
	const struct acpi_madt *m = acpi_get_madt();

	if (!m || !m->nr_ioapics) {
		pr_err("apic: the MADT lists no I/O APIC: no device interrupts");
		return -ENODEV;
	}
	for (unsigned i = 0; i < m->nr_ioapics && nr_ioapics < IOAPIC_MAX; i++) {
		struct ioapic *io = &ioapics[nr_ioapics];
		io->id = m->ioapics[i].id;
		io->phys = m->ioapics[i].address;
		io->gsi_base = m->ioapics[i].gsi_base;
		io->regs = ioremap(io->phys, 4096);
		if (!io->regs) {
			pr_err("apic: cannot map I/O APIC %u at 0x%lx; skipped", io->id,
			       (unsigned long)io->phys);
			continue;
		}
		uint64_t flags = local_irq_save();
		uint32_t ver = ioapic_read(io, IOAPIC_REG_VER);
		io->version = IOAPIC_VER_VERSION(ver);
		io->nr_entries = IOAPIC_VER_MAXREDIR(ver) + 1;
		/*
		 * Mask every pin. Nothing is unmasked until a driver routes its
		 * GSI. On q35 this also keeps pin 11 masked, where OVMF's legacy
		 * PIRQ routing sends the same PCI INTx that reaches GSIs 16-23
		 * (QEMU-FACTS.md): a shared second path we never enable.
		 */
		for (unsigned pin = 0; pin < io->nr_entries; pin++)
			rte_write(io, pin, IOAPIC_RTE_MASKED);
		/* MADT NMI sources (5.2.12.6) would be programmed here with NMI
		 * delivery; QEMU's MADT has none, and acpi shows any that a
		 * firmware lists. */
		local_irq_restore(flags);
		nr_ioapics++;
		pr_info("apic: IOAPIC id %u version 0x%x at 0x%lx, GSI %u-%u, all %u entries masked",
			io->id, io->version, (unsigned long)io->phys, io->gsi_base,
			io->gsi_base + io->nr_entries - 1, io->nr_entries);
	}
	return nr_ioapics ? 0 : -ENODEV;
}

int ioapic_route_gsi(unsigned gsi, unsigned vector, unsigned flags)
{
	unsigned pin;
	struct ioapic *io = gsi_lookup(gsi, &pin);

	if (!io)
		return -ENODEV;
	/* Device vectors only: below 0x20 are exceptions (and an I/O APIC
	 * vector below 0x10 is illegal), 0xF0 and up belong to the LAPIC. */
	if (vector < 0x20 || vector >= 0xf0)
		return -EINVAL;
	uint64_t rte = vector | (0ull << IOAPIC_RTE_DELMODE_SHIFT) /* fixed */ |
		       (uint64_t)lapic_id() << IOAPIC_RTE_DEST_SHIFT; /* physical */
	if (flags & IOAPIC_LEVEL)
		rte |= IOAPIC_RTE_LEVEL;
	if (flags & IOAPIC_ACTIVE_LOW)
		rte |= IOAPIC_RTE_ACTIVE_LOW;
	if (flags & IOAPIC_MASKED)
		rte |= IOAPIC_RTE_MASKED;
	uint64_t f = local_irq_save();
	rte_write(io, pin, rte);
	local_irq_restore(f);
	return 0;
}

/* Read-modify-write of gsi's low dword (clear, then set bits) under one
 * interrupts-off section. */
static int rte_update(unsigned gsi, uint32_t clear, uint32_t set)
{
	unsigned pin;
	struct ioapic *io = gsi_lookup(gsi, &pin);

	if (!io)
		return -ENODEV;
	uint64_t f = local_irq_save();
	uint32_t lo = (ioapic_read(io, REDTBL_LO(pin)) & ~clear) | set;
	ioapic_write(io, REDTBL_LO(pin), lo);
	local_irq_restore(f);
	return 0;
}

int ioapic_mask_gsi(unsigned gsi)
{
	return rte_update(gsi, 0, IOAPIC_RTE_MASKED);
}

int ioapic_unmask_gsi(unsigned gsi)
{
	return rte_update(gsi, IOAPIC_RTE_MASKED, 0);
}

int ioapic_read_entry(unsigned gsi, uint64_t *rte)
{
	unsigned pin;
	struct ioapic *io = gsi_lookup(gsi, &pin);

	if (!io)
		return -ENODEV;
	uint64_t f = local_irq_save();
	*rte = rte_read(io, pin);
	local_irq_restore(f);
	return 0;
}

