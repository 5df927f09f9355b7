/*
 * pci.c - PCI enumeration, BAR sizing, command bits, capability walk,
 * driver binding and the shell's `lspci`.
 *
 * Enumeration (INITCALL level 2, task context, IF may be 0 or 1) scans
 * bus 0 and, depth-first, the secondary bus of every PCI-to-PCI bridge
 * (header type 1) it finds, so only buses that exist are touched. Each
 * function found is recorded with its BARs sized and its capability
 * offsets; nothing is enabled here: a driver's probe decides that.
 *
 * Drivers register from their own level-4 initcall with
 * pci_register_driver(); kernel/ never names one.
 */
#include "drivers/pci/pci.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/printk.h"
#include "kernel/errno.h"
#include "kernel/mm/vmm.h"

static struct pci_dev devices[PCI_MAX_DEVICES];
static unsigned nr_devices;
static unsigned nr_dropped;          /* functions beyond PCI_MAX_DEVICES */
static struct pci_driver *drivers;
static uint8_t bus_seen[PCI_MAX_BUSES / 8];

unsigned pci_device_count(void) { return nr_devices; }

struct pci_dev *pci_device(unsigned i)
{
	return i < nr_devices ? &devices[i] : NULL;
}

struct pci_dev *pci_find(uint8_t bus, uint8_t slot, uint8_t func)
{
	for (unsigned i = 0; i < nr_devices; i++) {
		struct pci_dev *d = &devices[i];
		if (d->bus == bus && d->slot == slot && d->func == func)
			return d;
	}
	return NULL;
}

void pci_command_update(struct pci_dev *d, uint16_t set, uint16_t clear)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	uint16_t n = (uint16_t)((cmd & ~clear) | set);
	if (n != cmd)
		pci_write16(d, PCI_COMMAND, n);
}

void pci_enable_device_mem(struct pci_dev *d)
{
	pci_command_update(d, PCI_COMMAND_MEMORY, 0);
}

void pci_set_master(struct pci_dev *d)
{
	pci_command_update(d, PCI_COMMAND_MASTER, 0);
}

void pci_intx(struct pci_dev *d, bool on)
{
	if (on)
		pci_command_update(d, 0, PCI_COMMAND_INTX_DISABLE);
	else
		pci_command_update(d, PCI_COMMAND_INTX_DISABLE, 0);
}

/*
 * Capability list, PCI 3.0 6.7: CAP_PTR at 0x34 points to the first entry;
 * each entry is {u8 id, u8 next}. Pointers are dword aligned (the low two
 * bits are reserved and masked off) and lie in 0x40..0xFF. The walk is
 * bounded by the number of dwords there (48), so a looping list made by a
 * broken device ends.
 */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id)
{
	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	uint8_t p = pci_read8(d, PCI_CAP_PTR) & 0xFC;
	for (int n = 0; p >= 0x40 && n < 48; n++) {
		if (pci_read8(d, p) == id)
			return p;
		p = pci_read8(d, p + 1) & 0xFC;
	}
	return 0;
}

/*
 * BAR sizing, PCI 3.0 6.2.5.1: write all ones, read back, restore; the
 * bits that stayed zero (above the type bits) give the size. Decoding is
 * switched off meanwhile so the device never answers at the all-ones
 * address the probe writes (the implementation note in that section).
 */
static void size_bars(struct pci_dev *d, unsigned nbars)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));

	for (unsigned i = 0; i < nbars; i++) {
		uint16_t off = PCI_BAR0 + 4 * i;
		uint32_t orig = pci_read32(d, off);
		pci_write32(d, off, 0xFFFFFFFFu);
		uint32_t mask = pci_read32(d, off);
		pci_write32(d, off, orig);
		struct pci_bar *b = &d->bar[i];

		if (mask == 0 || mask == 0xFFFFFFFFu)
			continue;                   /* unimplemented */
		if (orig & PCI_BAR_IO) {
			uint32_t m = mask & ~0x3u;
			m |= 0xFFFF0000u;           /* upper half may read 0 */
			b->io = true;
			b->base = orig & ~0x3u;
			b->size = (uint32_t)(~m + 1);
			continue;
		}
		b->prefetch = orig & PCI_BAR_MEM_PREFETCH;
		uint64_t base = orig & ~0xFull;
		uint64_t m = mask & ~0xFull;
		if ((orig & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 && i + 1 < nbars) {
			uint16_t hoff = off + 4;
			uint32_t horig = pci_read32(d, hoff);
			pci_write32(d, hoff, 0xFFFFFFFFu);
			uint32_t hmask = pci_read32(d, hoff);
			pci_write32(d, hoff, horig);
			base |= (uint64_t)horig << 32;
			m |= (uint64_t)hmask << 32;
			b->mem64 = true;
			b->base = base;
			b->size = ~m + 1;
			i++;                        /* the next slot is our high half */
			continue;
		}
		b->base = base;
		b->size = (uint32_t)(~(uint32_t)m + 1);
	}
	pci_write16(d, PCI_COMMAND, cmd);
}

static void scan_bus(uint8_t bus, int depth);

static void add_function(uint8_t bus, uint8_t slot, uint8_t func, int depth)
{
	if (nr_devices == PCI_MAX_DEVICES) {
		nr_dropped++;
		return;
	}
	struct pci_dev *d = &devices[nr_devices++];
	d->bus = bus;
	d->slot = slot;
	d->func = func;
	d->vendor = pci_read16(d, PCI_VENDOR_ID);
	d->device = pci_read16(d, PCI_DEVICE_ID);
	d->revision = pci_read8(d, PCI_REVISION_ID);
	d->prog_if = pci_read8(d, PCI_PROG_IF);
	d->subclass = pci_read8(d, PCI_SUBCLASS);
	d->class_code = pci_read8(d, PCI_CLASS);
	d->header_type = pci_read8(d, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
	d->irq_line = pci_read8(d, PCI_INTERRUPT_LINE);
	d->irq_pin = pci_read8(d, PCI_INTERRUPT_PIN);
	d->msi_cap = pci_find_cap(d, PCI_CAP_ID_MSI);
	d->msix_cap = pci_find_cap(d, PCI_CAP_ID_MSIX);
	d->pcie_cap = pci_find_cap(d, PCI_CAP_ID_PCIE);

	if (d->header_type == 0)
		size_bars(d, 6);
	else if (d->header_type == 1) {
		size_bars(d, 2);
		uint8_t sec = pci_read8(d, PCI_SECONDARY_BUS);
		/* A bridge firmware did not number has secondary bus 0: skip. */
		if (sec != 0 && sec != bus)
			scan_bus(sec, depth + 1);
	}
}

/* Depth is bounded by the number of buses (each is scanned once). */
static void scan_bus(uint8_t bus, int depth)
{
	if (bus_seen[bus / 8] & (1u << (bus % 8)) || depth >= PCI_MAX_BUSES)
		return;
	bus_seen[bus / 8] |= (uint8_t)(1u << (bus % 8));

	for (uint8_t slot = 0; slot < 32; slot++) {
		if (pci_cfg_read16(bus, slot, 0, PCI_VENDOR_ID) == 0xFFFF)
			continue;
		uint8_t ht = pci_cfg_read8(bus, slot, 0, PCI_HEADER_TYPE);
		uint8_t nfunc = (ht & PCI_HEADER_MULTIFN) ? 8 : 1;
		for (uint8_t fn = 0; fn < nfunc; fn++) {
			if (pci_cfg_read16(bus, slot, fn, PCI_VENDOR_ID) == 0xFFFF)
				continue;
			add_function(bus, slot, fn, depth);
		}
	}
}

int pci_init(void)
{
	pci_cfg_init();
	scan_bus(0, 0);
	pr_info("pci: %u functions found (%s)%s", nr_devices, pci_cfg_method(),
		nr_dropped ? ", some dropped: table full" : "");
	for (unsigned i = 0; i < nr_devices; i++) {
		struct pci_dev *d = &devices[i];
		pr_info("pci: %02x:%02x.%u %04x:%04x class %02x.%02x%s%s",
			d->bus, d->slot, d->func, d->vendor, d->device,
			d->class_code, d->subclass,
			d->msi_cap ? " msi" : "", d->msix_cap ? " msix" : "");
	}
	return 0;
}
INITCALL(2, pci_init);

static const struct pci_device_id *match(const struct pci_driver *drv,
					 const struct pci_dev *d)
{
	for (const struct pci_device_id *id = drv->id_table; id->vendor; id++)
		if (id->vendor == d->vendor && id->device == d->device)
			return id;
	return NULL;
}

int pci_register_driver(struct pci_driver *drv)
{
	int bound = 0;

	drv->next = drivers;
	drivers = drv;
	for (unsigned i = 0; i < nr_devices; i++) {
		struct pci_dev *d = &devices[i];
		const struct pci_device_id *id;
		if (d->driver || !(id = match(drv, d)))
			continue;
		int err = drv->probe(d, id);
		if (err) {
			pr_err("pci: %02x:%02x.%u: %s probe failed: %s",
			       d->bus, d->slot, d->func, drv->name, strerror(err));
			continue;
		}
		d->driver = drv;
		bound++;
	}
	return bound;
}

void *pci_map_bar(struct pci_dev *d, unsigned i)
{
	if (i >= 6 || d->bar[i].io || !d->bar[i].size || !d->bar[i].base)
		return NULL;
	return ioremap(d->bar[i].base, d->bar[i].size);
}

/* ---- shell -------------------------------------------------------------- */

static int cmd_lspci(int argc, char **argv)
{
	kprintf("config access: %s\n", pci_cfg_method());
	for (unsigned i = 0; i < nr_devices; i++) {
		struct pci_dev *d = &devices[i];
		uint16_t cmd = pci_read16(d, PCI_COMMAND);
		kprintf("%02x:%02x.%u %04x:%04x class %02x.%02x.%02x rev %02x",
			d->bus, d->slot, d->func, d->vendor, d->device,
			d->class_code, d->subclass, d->prog_if, d->revision);
		if (d->irq_pin)
			kprintf(" int%c line %u", 'A' + d->irq_pin - 1, d->irq_line);
		kprintf(" cmd %04x%s%s", cmd,
			d->msi_cap ? (pci_msi_enabled(d) ? " msi(on)" : " msi") : "",
			d->msix_cap ? (pci_msix_enabled(d) ? " msix(on)" : " msix") : "");
		if (d->driver)
			kprintf(" driver %s", d->driver->name);
		kprintf("\n");
		for (unsigned b = 0; b < 6; b++) {
			struct pci_bar *bar = &d->bar[b];
			if (!bar->size)
				continue;
			kprintf("    bar%u %s %#lx size %#lx%s\n", b,
				bar->io ? "io " : (bar->mem64 ? "m64" : "m32"),
				(unsigned long)bar->base, (unsigned long)bar->size,
				bar->prefetch ? " prefetch" : "");
		}
	}
	return 0;
}
SHELL_CMD("lspci", cmd_lspci, "", "list PCI functions, BARs, interrupt pins, MSI/MSI-X, drivers");
