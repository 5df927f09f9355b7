/*
 * Host test of drivers/pci/pci.c, pci_intx.c and pci_msi.c over a modelled
 * configuration space: enumeration (multi-function devices, a bridge and
 * the bus behind it), BAR sizing for 32-bit, 64-bit and I/O BARs, the
 * capability walk (including a list that loops), the q35 INTx -> GSI map
 * (QEMU hw/isa/lpc_ich9.c: PIRQ = 4 + (slot + pin) % 4, GSI = 16 + PIRQ,
 * swizzled through bridges) and the i440fx fallback to the Interrupt Line
 * register, driver matching, and MSI / MSI-X programming.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdarg.h>
#include "check.h"

/* ---- the kernel services pci*.c use, for the host ---------------------- */
#define strerror kernel_strerror
#include "kernel/errno.h"
const char *kernel_strerror(int e) { (void)e; return "err"; }
#include "kernel/printk.h"
void printk(int level, const char *fmt, ...) { (void)level; (void)fmt; }
void kprintf(const char *fmt, ...) { (void)fmt; }
#include "kernel/mm/vmm.h"
static uint8_t bar_mem[0x4000] __attribute__((aligned(4096)));
static uint64_t bar_mem_base = 0xfeb00000;   /* the MSI-X BAR's bus address */
void *ioremap(uint64_t phys, size_t size)
{
	if (phys >= bar_mem_base && phys + size <= bar_mem_base + sizeof(bar_mem))
		return bar_mem + (phys - bar_mem_base);
	return NULL;
}
#include "kernel/acpi.h"
#include "kernel/arch/ioapic.h"
static unsigned isa_flags = IOAPIC_LEVEL;   /* what the MADT override says */
unsigned acpi_isa_irq_to_gsi(unsigned irq, unsigned *flags)
{
	if (flags)
		*flags = isa_flags;
	return irq;
}

/* ---- a configuration space model --------------------------------------- */
struct fdev {
	uint8_t bus, slot, func;
	uint8_t cfg[256];
	uint64_t bar_size[6];      /* 0 = unimplemented */
	bool present;
};
#define MAXF 16
static struct fdev fdevs[MAXF];
static unsigned nf;

static struct fdev *fd(uint8_t b, uint8_t s, uint8_t f)
{
	for (unsigned i = 0; i < nf; i++)
		if (fdevs[i].present && fdevs[i].bus == b && fdevs[i].slot == s && fdevs[i].func == f)
			return &fdevs[i];
	return NULL;
}

static void w8(struct fdev *d, unsigned o, uint8_t v) { d->cfg[o] = v; }
static void w16(struct fdev *d, unsigned o, uint16_t v) { w8(d, o, v); w8(d, o + 1, v >> 8); }
static void w32(struct fdev *d, unsigned o, uint32_t v) { w16(d, o, v); w16(d, o + 2, v >> 16); }
static uint32_t r32(struct fdev *d, unsigned o)
{
	return d->cfg[o] | d->cfg[o + 1] << 8 | d->cfg[o + 2] << 16 | (uint32_t)d->cfg[o + 3] << 24;
}

static struct fdev *add(uint8_t b, uint8_t s, uint8_t f, uint16_t ven, uint16_t dev,
			uint8_t cls, uint8_t sub, uint8_t ht)
{
	struct fdev *d = &fdevs[nf++];
	memset(d, 0, sizeof(*d));
	d->bus = b; d->slot = s; d->func = f; d->present = true;
	w16(d, 0, ven); w16(d, 2, dev);
	w8(d, 0x0b, cls); w8(d, 0x0a, sub); w8(d, 0x0e, ht);
	return d;
}

/* A BAR: `size` bytes; type bits as PCI 3.0 6.2.5.1. */
static void bar(struct fdev *d, unsigned i, uint64_t base, uint64_t size, uint32_t type)
{
	d->bar_size[i] = size;
	w32(d, 0x10 + 4 * i, (uint32_t)base | type);
	if (type & 0x4) {          /* 64-bit: the next slot holds the high half */
		d->bar_size[i + 1] = size;   /* marks it as the high dword */
		w32(d, 0x10 + 4 * (i + 1), (uint32_t)(base >> 32));
	}
}

static void cap(struct fdev *d, uint8_t off, uint8_t id, uint8_t next)
{
	w16(d, 6, d->cfg[6] | 1u << 4);      /* STATUS.CAP_LIST */
	if (!d->cfg[0x34])
		w8(d, 0x34, off);
	w8(d, off, id);
	w8(d, off + 1, next);
}

/* BAR writes behave like hardware: low bits below the size read 0, the
 * type bits are read-only. */
static void bar_write(struct fdev *d, unsigned o, uint32_t v)
{
	unsigned i = (o - 0x10) / 4;
	uint32_t old = r32(d, o);
	if (!d->bar_size[i]) {
		w32(d, o, 0);
		return;
	}
	bool high = i > 0 && (r32(d, 0x10 + 4 * (i - 1)) & 0x6) == 0x4 && d->bar_size[i - 1];
	uint64_t size = d->bar_size[i];
	if (high) {
		uint32_t mask = (uint32_t)(~(size - 1) >> 32);
		w32(d, o, v & mask);
		return;
	}
	uint32_t typebits = old & ((old & 1) ? 0x3 : 0xf);
	w32(d, o, (v & (uint32_t)~(size - 1) & ((old & 1) ? ~0x3u : ~0xfu)) | typebits);
}

uint32_t pci_cfg_read32(uint8_t b, uint8_t s, uint8_t f, uint16_t o)
{
	struct fdev *d = fd(b, s, f);
	return d ? r32(d, o & 0xfc) : 0xffffffffu;
}
uint16_t pci_cfg_read16(uint8_t b, uint8_t s, uint8_t f, uint16_t o)
{
	return (uint16_t)(pci_cfg_read32(b, s, f, o) >> ((o & 2) * 8));
}
uint8_t pci_cfg_read8(uint8_t b, uint8_t s, uint8_t f, uint16_t o)
{
	return (uint8_t)(pci_cfg_read32(b, s, f, o) >> ((o & 3) * 8));
}
void pci_cfg_write32(uint8_t b, uint8_t s, uint8_t f, uint16_t o, uint32_t v)
{
	struct fdev *d = fd(b, s, f);
	if (!d)
		return;
	if (o >= 0x10 && o < 0x28 && (d->cfg[0x0e] & 0x7f) == 0)
		bar_write(d, o, v);
	else
		w32(d, o, v);
}
void pci_cfg_write16(uint8_t b, uint8_t s, uint8_t f, uint16_t o, uint16_t v)
{
	struct fdev *d = fd(b, s, f);
	if (d)
		w16(d, o, v);
}
void pci_cfg_write8(uint8_t b, uint8_t s, uint8_t f, uint16_t o, uint8_t v)
{
	struct fdev *d = fd(b, s, f);
	if (d)
		w8(d, o, v);
}
static unsigned cfg_init_calls;
unsigned pci_cfg_init(void) { cfg_init_calls++; return 256; }
const char *pci_cfg_method(void) { return "model"; }

#include "drivers/pci/pci.c"
#include "drivers/pci/pci_intx.c"
#include "drivers/pci/pci_msi.c"

/* ---- the machines ------------------------------------------------------- */

static struct fdev *nic_e1000, *nic_e1000e, *behind_bridge, *loopcap;

static void build_q35(void)
{
	nf = 0;
	add(0, 0, 0, 0x8086, 0x29c0, 0x06, 0x00, 0);                    /* Q35 MCH */
	nic_e1000e = add(0, 2, 0, 0x8086, 0x10d3, 0x02, 0x00, 0);
	bar(nic_e1000e, 0, 0xfebc0000, 0x20000, 0x0);                    /* m32 */
	bar(nic_e1000e, 2, 0xc040, 0x20, 0x1);                           /* io */
	bar(nic_e1000e, 3, bar_mem_base, 0x4000, 0x0);                   /* MSI-X */
	w8(nic_e1000e, 0x3d, 1);
	w8(nic_e1000e, 0x3c, 11);
	cap(nic_e1000e, 0xc8, PCI_CAP_ID_PM, 0xd0);
	cap(nic_e1000e, 0xd0, PCI_CAP_ID_MSI, 0xe0);
	w16(nic_e1000e, 0xd2, 1u << 7);                                  /* 64-bit MSI */
	cap(nic_e1000e, 0xe0, PCI_CAP_ID_PCIE, 0xa0);
	cap(nic_e1000e, 0xa0, PCI_CAP_ID_MSIX, 0x00);
	w16(nic_e1000e, 0xa2, 4);                                        /* 5 vectors */
	w32(nic_e1000e, 0xa4, 0x0 | 3);                                  /* table: BAR3 + 0 */
	w32(nic_e1000e, 0xa8, 0x2000 | 3);                               /* PBA: BAR3 + 0x2000 */
	nic_e1000 = add(0, 3, 0, 0x8086, 0x100e, 0x02, 0x00, 0);
	bar(nic_e1000, 0, 0x8000000000ull, 0x20000, 0x4 | 0x8);          /* m64 prefetch */
	w8(nic_e1000, 0x3d, 1);
	/* a multi-function device: functions 0 and 3 */
	add(0, 5, 0, 0x1234, 0x0001, 0x0c, 0x03, 0x80);
	add(0, 5, 3, 0x1234, 0x0002, 0x0c, 0x03, 0x00);
	/* a device whose capability list loops on itself */
	loopcap = add(0, 6, 0, 0x1234, 0x0003, 0xff, 0x00, 0);
	cap(loopcap, 0x40, 0x09, 0x40);
	/* a PCI-to-PCI bridge in slot 4 to bus 1, with a device in slot 1 */
	struct fdev *br = add(0, 4, 0, 0x1b36, 0x0001, 0x06, 0x04, 1);
	w8(br, 0x19, 1);
	behind_bridge = add(1, 1, 0, 0x1234, 0x0004, 0x02, 0x00, 0);
	w8(behind_bridge, 0x3d, 2);                                      /* INTB */
	add(0, 31, 0, 0x8086, 0x2918, 0x06, 0x01, 0x80);                 /* ICH9 LPC */
}

static void reset_pci_state(void)
{
	memset(devices, 0, sizeof(devices));
	nr_devices = 0;
	nr_dropped = 0;
	drivers = NULL;
	memset(bus_seen, 0, sizeof(bus_seen));
}

/* ---- tests ----------------------------------------------------------------- */

static void test_enumeration_and_bars(void)
{
	build_q35();
	reset_pci_state();
	pci_init();
	CHECK_EQ_U(pci_device_count(), 9);
	CHECK(pci_find(0, 5, 3) != NULL);                 /* multi-function seen */
	CHECK(pci_find(0, 5, 1) == NULL);
	CHECK(pci_find(1, 1, 0) != NULL);                 /* behind the bridge */
	struct pci_dev *e = pci_find(0, 2, 0);
	CHECK(e && e->device == 0x10d3 && e->class_code == 0x02);
	CHECK_EQ_U(e->bar[0].base, 0xfebc0000);
	CHECK_EQ_U(e->bar[0].size, 0x20000);
	CHECK(!e->bar[0].io && !e->bar[0].mem64);
	CHECK(e->bar[2].io);
	CHECK_EQ_U(e->bar[2].base, 0xc040);
	CHECK_EQ_U(e->bar[2].size, 0x20);
	CHECK_EQ_U(e->bar[1].size, 0);                    /* unimplemented */
	struct pci_dev *o = pci_find(0, 3, 0);
	CHECK(o->bar[0].mem64 && o->bar[0].prefetch);
	CHECK_EQ_U(o->bar[0].base, 0x8000000000ull);
	CHECK_EQ_U(o->bar[0].size, 0x20000);
	CHECK_EQ_U(o->bar[1].size, 0);                    /* the high half is not a BAR */
	/* sizing restored the BARs and the command register */
	CHECK_EQ_U(r32(nic_e1000e, 0x10), 0xfebc0000);
	CHECK_EQ_U(r32(nic_e1000, 0x14), 0x80);
}

static void test_capabilities(void)
{
	struct pci_dev *e = pci_find(0, 2, 0);
	CHECK_EQ_U(e->msi_cap, 0xd0);
	CHECK_EQ_U(e->msix_cap, 0xa0);
	CHECK_EQ_U(e->pcie_cap, 0xe0);
	CHECK_EQ_U(pci_find_cap(e, 0x42), 0);
	struct pci_dev *l = pci_find(0, 6, 0);
	CHECK_EQ_U(pci_find_cap(l, PCI_CAP_ID_MSI), 0);   /* looping list ends */
	CHECK_EQ_U(pci_find_cap(l, 0x09), 0x40);
	CHECK_EQ_U(pci_find(0, 3, 0)->msi_cap, 0);        /* 82540EM: none */
}

static void test_q35_routing(void)
{
	enum pci_gsi_source src;
	unsigned flags;
	CHECK_EQ_U(pci_intx_gsi(pci_find(0, 2, 0), &src, &flags), 22);
	CHECK(src == PCI_GSI_Q35_SWIZZLE);
	CHECK(flags == (IOAPIC_LEVEL | IOAPIC_ACTIVE_HIGH));
	CHECK_EQ_U(pci_intx_gsi(pci_find(0, 3, 0), &src, &flags), 23);
	/* bus 1 slot 1 INTB: swizzled to pin (1 + 1) % 4 = INTC at the
	 * bridge's slot 4: PIRQ 4 + (4 + 2) % 4 = 6 -> GSI 22 */
	CHECK_EQ_U(pci_intx_gsi(pci_find(1, 1, 0), &src, &flags), 22);
	/* every slot/pin on bus 0 below 25 follows the ICH9 table */
	struct pci_dev fake = { .bus = 0 };
	unsigned bad = 0;
	for (unsigned s = 0; s < 25; s++)
		for (unsigned p = 1; p <= 4; p++) {
			fake.slot = (uint8_t)s;
			fake.irq_pin = (uint8_t)p;
			int g = pci_intx_gsi(&fake, &src, &flags);
			bad += g != (int)(16 + 4 + (s + p - 1) % 4);
		}
	CHECK_EQ_U(bad, 0);
	fake.slot = 0x1d;                          /* chipset-routed slot: line register */
	fake.irq_line = 10;
	CHECK_EQ_U(pci_intx_gsi(&fake, &src, &flags), 10);
	CHECK(src == PCI_GSI_IRQ_LINE);
	fake.irq_pin = 0;                          /* no pin */
	CHECK(pci_intx_gsi(&fake, &src, &flags) == -ENODEV);
}

static void test_i440fx_uses_irq_line(void)
{
	nf = 0;
	add(0, 0, 0, 0x8086, 0x1237, 0x06, 0x00, 0);   /* i440FX */
	struct fdev *n = add(0, 3, 0, 0x8086, 0x100e, 0x02, 0x00, 0);
	w8(n, 0x3d, 1);
	w8(n, 0x3c, 11);
	struct fdev *m = add(0, 4, 0, 0x8086, 0x100e, 0x02, 0x00, 0);
	w8(m, 0x3d, 1);
	w8(m, 0x3c, 0xff);                             /* "not connected" */
	reset_pci_state();
	pci_init();
	enum pci_gsi_source src;
	unsigned flags;
	isa_flags = IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW;
	CHECK_EQ_U(pci_intx_gsi(pci_find(0, 3, 0), &src, &flags), 11);
	CHECK(src == PCI_GSI_IRQ_LINE);
	CHECK(flags == (IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW));
	isa_flags = IOAPIC_EDGE;                       /* no override: still level */
	pci_intx_gsi(pci_find(0, 3, 0), &src, &flags);
	CHECK(flags == IOAPIC_LEVEL);
	CHECK(pci_intx_gsi(pci_find(0, 4, 0), &src, &flags) == -ENODEV);
}

static int probes;
static int probe_ok(struct pci_dev *d, const struct pci_device_id *id)
{
	probes++;
	CHECK_EQ_U(id->driver_data, d->device == 0x10d3 ? 2 : 1);
	return d->slot == 3 ? -EBUSY : 0;              /* refuse one */
}

static void test_driver_binding(void)
{
	build_q35();
	reset_pci_state();
	pci_init();
	static const struct pci_device_id ids[] = {
		{ 0x8086, 0x100e, 1 }, { 0x8086, 0x10d3, 2 }, { 0, 0, 0 } };
	static struct pci_driver drv = { .name = "t", .id_table = ids, .probe = probe_ok };
	CHECK_EQ_U(pci_register_driver(&drv), 1);
	CHECK_EQ_U(probes, 2);
	CHECK(pci_find(0, 2, 0)->driver == &drv);
	CHECK(pci_find(0, 3, 0)->driver == NULL);      /* probe refused: unbound */
}

static void test_msi_programming(void)
{
	struct pci_dev *e = pci_find(0, 2, 0);
	CHECK_EQ_U(pci_msi_enable(e, 0x41, 3), 0);
	CHECK_EQ_U(r32(nic_e1000e, 0xd4), 0xfee00000u | 3u << 12);
	CHECK_EQ_U(r32(nic_e1000e, 0xd8), 0);          /* upper address */
	CHECK_EQ_U(r32(nic_e1000e, 0xdc) & 0xffff, 0x41);   /* fixed, edge */
	CHECK(pci_msi_enabled(e));
	CHECK(nic_e1000e->cfg[4 + 1] & (PCI_COMMAND_INTX_DISABLE >> 8));
	CHECK(nic_e1000e->cfg[4] & PCI_COMMAND_MASTER);
	pci_msi_disable(e);
	CHECK(!pci_msi_enabled(e));
	CHECK_EQ_U(pci_msi_enable(pci_find(0, 3, 0), 0x41, 0), -ENODEV);
}

static void test_msix_programming(void)
{
	struct pci_dev *e = pci_find(0, 2, 0);
	memset(bar_mem, 0, sizeof(bar_mem));
	CHECK_EQ_U(pci_msix_enable(e, 6), -EINVAL);    /* only 5 vectors */
	CHECK_EQ_U(pci_msix_enable(e, 3), 5);
	CHECK(pci_msix_enabled(e));
	uint16_t ctl = nic_e1000e->cfg[0xa2] | nic_e1000e->cfg[0xa3] << 8;
	CHECK(!(ctl & (1u << 14)));                    /* function mask cleared */
	volatile uint32_t *t = (volatile uint32_t *)bar_mem;
	unsigned masked = 0;
	for (unsigned i = 0; i < 5; i++)
		masked += t[4 * i + 3] & 1;
	CHECK_EQ_U(masked, 5);                         /* every entry masked */
	CHECK_EQ_U(pci_msix_set_entry(e, 1, 0x52, 0), 0);
	CHECK_EQ_U(t[4], 0xfee00000u);
	CHECK_EQ_U(t[6], 0x52);
	CHECK_EQ_U(t[7] & 1, 1);                       /* still masked */
	pci_msix_mask(e, 1, false);
	CHECK_EQ_U(t[7] & 1, 0);
	CHECK_EQ_U(pci_msix_set_entry(e, 5, 0x52, 0), -EINVAL);
	pci_msix_disable(e);
	CHECK(!pci_msix_enabled(e));
	CHECK_EQ_U(t[7] & 1, 1);
}

int main(void)
{
	test_enumeration_and_bars();
	test_capabilities();
	test_q35_routing();
	test_driver_binding();
	test_msi_programming();
	test_msix_programming();
	test_i440fx_uses_irq_line();
	return check_summary("test_pci");
}
