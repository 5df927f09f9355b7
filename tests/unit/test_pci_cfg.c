/*
 * Host test of drivers/pci/pci_cfg.c, both access mechanisms, over one
 * modelled configuration space (buses 0 and 1, 4 KiB per function):
 *   - mechanism #1: ports 0xCF8/0xCFC faked; the address written to 0xCF8
 *     (enable bit, bus/dev/fn, off & 0xFC) selects the dword, data-port
 *     accesses of 1, 2 or 4 bytes at 0xCFC + (off & 3) reach its bytes
 *     (PCI Local Bus 3.0, 3.2.2.3.2); each address+data pair runs with
 *     interrupts off and IF is restored after; offsets >= 256 read all
 *     ones and drop writes;
 *   - ECAM: the MCFG window is a host buffer, each bus mapped once on
 *     first use; every width at every offset up to 0xFFF; a bus outside
 *     the MCFG range, or one whose window cannot be mapped, falls back to
 *     mechanism #1.
 * Little-endian byte order in both, as on x86.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

/* ---- the configuration space: [bus][slot][func][offset] ---------------- */
#define NBUS 2
static uint8_t space[NBUS][32][8][4096] __attribute__((aligned(4096)));

/* ---- the fake CPU: IF as a variable, the two ports over `space` -------- */
static bool fake_if = true;
static uint32_t cf8_latch;
static unsigned port_accesses, port_accesses_irqs_on, bad_ports;

#define KERNEL_CPU_H        /* pci_cfg.c gets these instead of cpu.h's */
#define KERNEL_IRQFLAGS_H
static inline uint64_t local_irq_save(void) { uint64_t f = fake_if; fake_if = false; return f; }
static inline void local_irq_restore(uint64_t f) { if (f) fake_if = true; }

/* The byte the data port at `port` reaches under the latched address, or
 * NULL (all ones on read, dropped on write) when disabled or absent. */
static uint8_t *cf8_byte(uint16_t port)
{
	port_accesses++;
	if (fake_if)
		port_accesses_irqs_on++;
	if (port < 0xCFC || port > 0xCFF) {
		bad_ports++;
		return NULL;
	}
	uint32_t a = cf8_latch;
	unsigned bus = a >> 16 & 0xff, slot = a >> 11 & 31, fn = a >> 8 & 7, reg = a & 0xfc;
	if (!(a & 0x80000000u) || (a & 3) || bus >= NBUS)
		return NULL;
	return &space[bus][slot][fn][reg + (port - 0xCFC)];
}

static uint32_t port_read(uint16_t port, unsigned width)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		uint8_t *b = cf8_byte((uint16_t)(port + i));
		v |= (uint32_t)(b ? *b : 0xff) << (8 * i);
		port_accesses -= i > 0;   /* one access, several bytes */
	}
	return v;
}

static void port_write(uint16_t port, uint32_t v, unsigned width)
{
	for (unsigned i = 0; i < width; i++) {
		uint8_t *b = cf8_byte((uint16_t)(port + i));
		if (b)
			*b = (uint8_t)(v >> (8 * i));
		port_accesses -= i > 0;
	}
}

static inline void outl(uint16_t port, uint32_t v)
{
	if (port == 0xCF8) {
		port_accesses++;
		if (fake_if)
			port_accesses_irqs_on++;
		cf8_latch = v;
		return;
	}
	port_write(port, v, 4);
}
static inline void outw(uint16_t port, uint16_t v) { port_write(port, v, 2); }
static inline void outb(uint16_t port, uint8_t v) { port_write(port, v, 1); }
static inline uint32_t inl(uint16_t port) { return port_read(port, 4); }
static inline uint16_t inw(uint16_t port) { return (uint16_t)port_read(port, 2); }
static inline uint8_t inb(uint16_t port) { return (uint8_t)port_read(port, 1); }

/* ---- the kernel services pci_cfg.c uses -------------------------------- */
#include "kernel/printk.h"
void printk(int level, const char *fmt, ...) { (void)level; (void)fmt; }

#include "kernel/acpi.h"
#define ECAM_BASE 0xb0000000ull
static bool have_mcfg;
int acpi_mcfg(uint64_t *base, uint8_t *bus_start, uint8_t *bus_end)
{
	if (!have_mcfg)
		return -1;
	*base = ECAM_BASE;
	*bus_start = 0;
	*bus_end = 1;   /* bus 2 and up: outside the MCFG range */
	return 0;
}

#include "kernel/mm/vmm.h"
static unsigned ioremaps;
static bool ioremap_fails;
void *ioremap(uint64_t phys, size_t size)
{
	ioremaps++;
	if (ioremap_fails || size != (1u << 20) || phys < ECAM_BASE ||
	    phys + size > ECAM_BASE + NBUS * (1u << 20) || (phys - ECAM_BASE) % (1u << 20))
		return NULL;
	return space[(phys - ECAM_BASE) >> 20];
}

#include "drivers/pci/pci_cfg.c"

/* ---- helpers ------------------------------------------------------------ */
static void fill(void)
{
	uint8_t *p = &space[0][0][0][0];
	for (size_t i = 0; i < sizeof(space); i++)
		p[i] = (uint8_t)(i * 7 + (i >> 12));
}

static uint32_t model32(unsigned b, unsigned s, unsigned f, unsigned o)
{
	const uint8_t *p = &space[b][s][f][o];
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads and writes of every width at a few places of function (b, s, f),
 * offsets below `limit`, against the model. */
static void check_rw(uint8_t b, uint8_t s, uint8_t f, unsigned limit)
{
	static const uint16_t offs[] = { 0x00, 0x04, 0x10, 0x3c, 0xfc, 0x100, 0x148, 0xffc };

	for (unsigned k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
		uint16_t o = offs[k];
		if (o >= limit)
			continue;
		CHECK_EQ_U(pci_cfg_read32(b, s, f, o), model32(b, s, f, o));
		for (unsigned i = 0; i < 4; i += 2)
			CHECK_EQ_U(pci_cfg_read16(b, s, f, (uint16_t)(o + i)), model32(b, s, f, o) >> (8 * i) & 0xffff);
		for (unsigned i = 0; i < 4; i++)
			CHECK_EQ_U(pci_cfg_read8(b, s, f, (uint16_t)(o + i)), space[b][s][f][o + i]);

		/* writes change exactly the bytes of their width */
		uint8_t before[4];
		memcpy(before, &space[b][s][f][o], 4);
		pci_cfg_write32(b, s, f, o, 0x11223344);
		CHECK_EQ_U(model32(b, s, f, o), 0x11223344);
		pci_cfg_write16(b, s, f, (uint16_t)(o + 2), 0xa5b6);
		CHECK_EQ_U(model32(b, s, f, o), 0xa5b63344);
		pci_cfg_write8(b, s, f, (uint16_t)(o + 1), 0xc7);
		CHECK_EQ_U(model32(b, s, f, o), 0xa5b6c744);
		pci_cfg_write8(b, s, f, (uint16_t)(o + 3), 0x09);
		CHECK_EQ_U(model32(b, s, f, o), 0x09b6c744);
		memcpy(&space[b][s][f][o], before, 4);
	}
}

/* Neighbouring functions and bytes outside the written dword stay as they
 * were: compare the whole space with a copy. */
static uint8_t shadow[NBUS][32][8][4096];

static void test_cf8(void)
{
	have_mcfg = false;
	fill();
	CHECK_EQ_U(pci_cfg_init(), PCI_MAX_BUSES);
	CHECK_STR(pci_cfg_method(), "cf8");

	port_accesses = port_accesses_irqs_on = bad_ports = 0;
	check_rw(0, 0, 0, 256);
	check_rw(0, 3, 0, 256);
	check_rw(1, 31, 7, 256);
	CHECK(port_accesses > 0);
	CHECK_EQ_U(port_accesses_irqs_on, 0);
	CHECK_EQ_U(bad_ports, 0);
	CHECK(fake_if);                       /* restored after each access */
	fake_if = false;
	(void)pci_cfg_read32(0, 0, 0, 0);
	CHECK(!fake_if);                      /* and left off if it was off */
	fake_if = true;

	/* The latch: enable bit, bus/dev/fn, the dword of off. */
	(void)pci_cfg_read8(1, 5, 3, 0x47);
	CHECK_EQ_U(cf8_latch, 0x80000000u | 1u << 16 | 5u << 11 | 3u << 8 | 0x44);

	/* Beyond 256: unreachable, all ones, writes dropped, no port touched. */
	memcpy(shadow, space, sizeof(space));
	unsigned before = port_accesses;
	CHECK_EQ_U(pci_cfg_read32(0, 0, 0, 0x100), 0xffffffffu);
	CHECK_EQ_U(pci_cfg_read16(0, 0, 0, 0x102), 0xffff);
	CHECK_EQ_U(pci_cfg_read8(0, 0, 0, 0xfff), 0xff);
	pci_cfg_write32(0, 0, 0, 0x100, 0);
	pci_cfg_write16(0, 0, 0, 0x104, 0);
	pci_cfg_write8(0, 0, 0, 0x108, 0);
	CHECK_EQ_U(port_accesses, before);
	CHECK(memcmp(shadow, space, sizeof(space)) == 0);

	/* A write touches nothing but its own bytes. */
	memcpy(shadow, space, sizeof(space));
	pci_cfg_write16(1, 2, 1, 0x0e, 0xbeef);
	shadow[1][2][1][0x0e] = 0xef;
	shadow[1][2][1][0x0f] = 0xbe;
	CHECK(memcmp(shadow, space, sizeof(space)) == 0);
	pci_cfg_write8(0, 7, 6, 0x3d, 0x42);
	shadow[0][7][6][0x3d] = 0x42;
	CHECK(memcmp(shadow, space, sizeof(space)) == 0);
}

static void test_ecam(void)
{
	have_mcfg = true;
	ioremap_fails = false;
	ioremaps = 0;
	fill();
	CHECK_EQ_U(pci_cfg_init(), 2);
	CHECK_STR(pci_cfg_method(), "ecam");

	port_accesses = 0;
	check_rw(0, 0, 0, 4096);
	check_rw(0, 3, 0, 4096);
	check_rw(1, 31, 7, 4096);
	CHECK_EQ_U(port_accesses, 0);         /* all through memory */
	CHECK_EQ_U(ioremaps, 2);              /* each bus mapped once */

	memcpy(shadow, space, sizeof(space));
	pci_cfg_write32(1, 4, 2, 0x200, 0xcafef00d);
	shadow[1][4][2][0x200] = 0x0d;
	shadow[1][4][2][0x201] = 0xf0;
	shadow[1][4][2][0x202] = 0xfe;
	shadow[1][4][2][0x203] = 0xca;
	CHECK(memcmp(shadow, space, sizeof(space)) == 0);
	CHECK_EQ_U(pci_cfg_read16(1, 4, 2, 0x202), 0xcafe);

	/* Bus 2 is outside MCFG's 0-1: mechanism #1 (absent here: ones). */
	port_accesses = 0;
	CHECK_EQ_U(pci_cfg_read32(2, 0, 0, 0), 0xffffffffu);
	CHECK(port_accesses > 0);
	CHECK_EQ_U(cf8_latch, 0x80000000u | 2u << 16);
}

static void test_ecam_map_fails(void)
{
	/* A fresh pci_cfg.c state: no bus mapped yet. */
	memset(ecam_bus, 0, sizeof(ecam_bus));
	have_mcfg = true;
	ioremap_fails = true;
	fill();
	CHECK_EQ_U(pci_cfg_init(), 2);
	port_accesses = 0;
	CHECK_EQ_U(pci_cfg_read32(1, 3, 0, 0x40), model32(1, 3, 0, 0x40));
	CHECK(port_accesses > 0);             /* fell back to the ports */
	CHECK_EQ_U(pci_cfg_read32(1, 3, 0, 0x140), 0xffffffffu);   /* beyond #1's reach */
	ioremap_fails = false;
	port_accesses = 0;
	CHECK_EQ_U(pci_cfg_read32(1, 3, 0, 0x140), model32(1, 3, 0, 0x140));
	CHECK_EQ_U(port_accesses, 0);         /* mapped now */
}

int main(void)
{
	test_cf8();
	test_ecam();
	test_ecam_map_fails();
	return check_summary("test_pci_cfg");
}
