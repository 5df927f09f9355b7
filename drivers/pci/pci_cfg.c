/*
 * pci_cfg.c - PCI configuration space access.
 *
 * Two mechanisms:
 *   - ECAM (PCI Express Base 4.0, 7.2.2): configuration space is memory;
 *     function (bus, dev, fn) owns the 4 KiB at
 *       base + (bus << 20 | dev << 15 | fn << 12).
 *     The base comes from the ACPI MCFG table (PCI Firmware 3.0, 4.1.2);
 *     q35 has one, i440fx has none. Each bus's 1 MiB is mapped uncached on
 *     first use (enumeration touches every bus it scans, in task context).
 *   - Configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): write
 *     0x80000000 | bus << 16 | dev << 11 | fn << 8 | (off & 0xFC) to port
 *     0xCF8, then access the dword at 0xCFC (bytes at 0xCFC + (off & 3)).
 *     Only the first 256 bytes are reachable.
 *
 * Context: the mechanism #1 sequence is two port accesses that must not
 * be split by another configuration access, so it runs with interrupts
 * disabled (saved/restored): callable from task, softirq or hard-IRQ
 * context, not from NMI. ECAM accesses are single MMIO instructions.
 */
#include "drivers/pci/pci.h"
#include "kernel/acpi.h"
#include "kernel/cpu.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/mm/vmm.h"

#define CF8_ADDR   0xCF8
#define CF8_DATA   0xCFC
#define CF8_ENABLE 0x80000000u

#define ECAM_BUS_SIZE (1ul << 20)

static bool use_ecam;
static uint64_t ecam_base;
static uint8_t ecam_bus_start, ecam_bus_end;
static volatile uint8_t *ecam_bus[PCI_MAX_BUSES];  /* mapped window per bus */

unsigned pci_cfg_init(void)
{
	uint64_t base;
	uint8_t bs, be;

	if (acpi_mcfg(&base, &bs, &be) == 0 && base) {
		use_ecam = true;
		ecam_base = base;
		ecam_bus_start = bs;
		ecam_bus_end = be;
		pr_info("pci: ECAM at %#lx, buses %u-%u (ACPI MCFG)",
			(unsigned long)base, bs, be);
		return (unsigned)be - bs + 1;
	}
	pr_info("pci: no MCFG table: configuration mechanism #1 (ports 0xCF8/0xCFC)");
	return PCI_MAX_BUSES;
}

const char *pci_cfg_method(void)
{
	return use_ecam ? "ecam" : "cf8";
}

/* The function's 4 KiB of ECAM, or NULL when that bus is outside the MCFG
 * range (then mechanism #1 is used) or could not be mapped. The first
 * access to a bus maps it: enumeration does that, in task context. */
static volatile uint8_t *ecam_func(uint8_t bus, uint8_t slot, uint8_t func)
{
	if (!use_ecam || bus < ecam_bus_start || bus > ecam_bus_end)
		return NULL;
	if (!ecam_bus[bus]) {
		void *va = ioremap(ecam_base + ((uint64_t)bus << 20), ECAM_BUS_SIZE);
		if (!va)
			return NULL;
		ecam_bus[bus] = va;
	}
	return ecam_bus[bus] + ((uint32_t)slot << 15 | (uint32_t)func << 12);
}

static inline uint32_t cf8_addr(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off)
{
	return CF8_ENABLE | (uint32_t)bus << 16 | (uint32_t)(slot & 31) << 11 |
	       (uint32_t)(func & 7) << 8 | (off & 0xFC);
}

/*
 * The one access path behind the six pci_cfg_* functions: `width` bytes
 * (1, 2 or 4) at `off`, which the callers keep naturally aligned (the low
 * bits are masked off anyway). ECAM is one MMIO access of that width;
 * mechanism #1 latches the dword's address at 0xCF8 and then accesses
 * the bytes at 0xCFC + (off & 3), with interrupts off so that no other
 * configuration access can move the latch in between. Offsets beyond
 * mechanism #1's 256 bytes read as all ones of the width and drop writes.
 */
static uint32_t cfg_read(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off, unsigned width)
{
	volatile uint8_t *e = ecam_func(bus, slot, func);
	uint16_t o = off & ~(uint16_t)(width - 1);
	uint32_t v;

	if (e) {
		e += o & 0xFFF;
		if (width == 4)
			return *(volatile uint32_t *)e;
		return width == 2 ? *(volatile uint16_t *)e : *e;
	}
	if (off >= PCI_CFG_SIZE)
		return 0xFFFFFFFFu;   /* callers keep `width` bytes of it */
	uint64_t f = local_irq_save();
	outl(CF8_ADDR, cf8_addr(bus, slot, func, o));
	if (width == 4)
		v = inl(CF8_DATA);
	else if (width == 2)
		v = inw(CF8_DATA + (o & 2));
	else
		v = inb(CF8_DATA + (o & 3));
	local_irq_restore(f);
	return v;
}

static void cfg_write(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off, unsigned width,
		      uint32_t v)
{
	volatile uint8_t *e = ecam_func(bus, slot, func);
	uint16_t o = off & ~(uint16_t)(width - 1);

	if (e) {
		e += o & 0xFFF;
		if (width == 4)
			*(volatile uint32_t *)e = v;
		else if (width == 2)
			*(volatile uint16_t *)e = (uint16_t)v;
		else
			*e = (uint8_t)v;
		return;
	}
	if (off >= PCI_CFG_SIZE)
		return;
	uint64_t f = local_irq_save();
	outl(CF8_ADDR, cf8_addr(bus, slot, func, o));
	if (width == 4)
		outl(CF8_DATA, v);
	else if (width == 2)
		outw(CF8_DATA + (o & 2), (uint16_t)v);
	else
		outb(CF8_DATA + (o & 3), (uint8_t)v);
	local_irq_restore(f);
}

uint32_t pci_cfg_read32(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off)
{
	return cfg_read(bus, slot, func, off, 4);
}

uint16_t pci_cfg_read16(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off)
{
	return (uint16_t)cfg_read(bus, slot, func, off, 2);
}

uint8_t pci_cfg_read8(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off)
{
	return (uint8_t)cfg_read(bus, slot, func, off, 1);
}

void pci_cfg_write32(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off, uint32_t v)
{
	cfg_write(bus, slot, func, off, 4, v);
}

void pci_cfg_write16(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off, uint16_t v)
{
	cfg_write(bus, slot, func, off, 2, v);
}

void pci_cfg_write8(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off, uint8_t v)
{
	cfg_write(bus, slot, func, off, 1, v);
}
