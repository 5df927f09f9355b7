/*
 * Host test of kernel/acpi_parse.c: synthetic RSDP, XSDT/RSDT, MADT, MCFG
 * and FADT images, valid and broken. Every table is copied into a heap
 * buffer of exactly its length, so AddressSanitizer reports any read past
 * the end as a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "check.h"
/* kernel/errno.h declares the kernel's strerror(), which differs from libc's */
#define strerror kernel_strerror
#include "kernel/acpi_parse.c"
#undef strerror

/* ---- table builder ---------------------------------------------------- */

struct tbl {
	uint8_t b[1024];
	size_t len;
};

static void put8(struct tbl *t, uint8_t v) { t->b[t->len++] = v; }
static void put16(struct tbl *t, uint16_t v) { put8(t, v & 0xff); put8(t, v >> 8); }
static void put32(struct tbl *t, uint32_t v) { put16(t, v & 0xffff); put16(t, v >> 16); }
static void put64(struct tbl *t, uint64_t v) { put32(t, (uint32_t)v); put32(t, v >> 32); }

static void header(struct tbl *t, const char *sig)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, sig, 4);
	memcpy(t->b + 10, "NAPILB", 6);
	t->len = ACPI_HDR_LEN;
}

/* Sets the length field and the checksum byte (offset 9). */
static void finish(struct tbl *t)
{
	uint32_t len = (uint32_t)t->len;
	memcpy(t->b + 4, &len, 4);
	t->b[9] = 0;
	t->b[9] = (uint8_t)(0x100 - acpi_checksum(t->b, t->len));
}

/* An exact-size heap copy: ASan catches reads beyond it. */
static uint8_t *exact(const void *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);
	memcpy(c, p, len);
	return c;
}

/* ---- RSDP --------------------------------------------------------------- */

static void make_rsdp(uint8_t *r, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	memset(r, 0, ACPI_RSDP_V2_LEN);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "BOCHS ", 6);
	r[15] = rev;
	memcpy(r + 16, &rsdt, 4);
	uint32_t len = ACPI_RSDP_V2_LEN;
	memcpy(r + 20, &len, 4);
	memcpy(r + 24, &xsdt, 8);
	r[8] = (uint8_t)(0x100 - acpi_checksum(r, 20));
	if (rev >= 2)
		r[32] = (uint8_t)(0x100 - acpi_checksum(r, 36));
}

static void test_rsdp(void)
{
	uint8_t r[ACPI_RSDP_V2_LEN];
	struct acpi_rsdp_info info;

	/* ACPI 1.0: 20 bytes readable are enough; the RSDT is the root. */
	make_rsdp(r, 0, 0x7fe1234, 0);
	uint8_t *c = exact(r, 20);
	CHECK_EQ_U(acpi_parse_rsdp(c, 20, &info), 0);
	CHECK_EQ_U(info.root_phys, 0x7fe1234);
	CHECK(!info.xsdt);
	CHECK_STR(info.oem, "BOCHS ");
	free(c);

	/* ACPI 2.0 with an XSDT: the XSDT wins. */
	make_rsdp(r, 2, 0x7fe1234, 0x17fe5678ull);
	CHECK_EQ_U(acpi_parse_rsdp(r, sizeof(r), &info), 0);
	CHECK(info.xsdt);
	CHECK_EQ_U(info.root_phys, 0x17fe5678ull);
	CHECK_EQ_U(info.revision, 2);

	/* ACPI 2.0 with XSDT address 0: fall back to the RSDT. */
	make_rsdp(r, 2, 0x7fe1234, 0);
	CHECK_EQ_U(acpi_parse_rsdp(r, sizeof(r), &info), 0);
	CHECK(!info.xsdt);
	CHECK_EQ_U(info.root_phys, 0x7fe1234);

	/* A 2.0 RSDP with only 20 bytes readable is truncated. */
	make_rsdp(r, 2, 0x7fe1234, 0x17fe5678ull);
	CHECK_EQ_U(acpi_parse_rsdp(r, 20, &info), -EINVAL);

	/* Broken first checksum, broken extended checksum, bad signature. */
	make_rsdp(r, 2, 0x7fe1234, 0x17fe5678ull);
	r[8] ^= 1;
	CHECK_EQ_U(acpi_parse_rsdp(r, sizeof(r), &info), -EINVAL);
	make_rsdp(r, 2, 0x7fe1234, 0x17fe5678ull);
	r[32] ^= 1;
	CHECK_EQ_U(acpi_parse_rsdp(r, sizeof(r), &info), -EINVAL);
	make_rsdp(r, 0, 0x7fe1234, 0);
	r[0] = 'X';
	CHECK_EQ_U(acpi_parse_rsdp(r, sizeof(r), &info), -EINVAL);

	/* Extended length larger than what may be read. */
	make_rsdp(r, 2, 0x7fe1234, 0x17fe5678ull);
	uint32_t big = 64;
	memcpy(r + 20, &big, 4);
	r[8] = 0;
	r[8] = (uint8_t)(0x100 - acpi_checksum(r, 20));
	CHECK_EQ_U(acpi_parse_rsdp(r, sizeof(r), &info), -EINVAL);

	/* No root table at all. */
	make_rsdp(r, 0, 0, 0);
	CHECK_EQ_U(acpi_parse_rsdp(r, sizeof(r), &info), -EINVAL);
}

/* ---- generic tables, RSDT/XSDT ------------------------------------------ */

static void test_tables(void)
{
	struct tbl t;

	header(&t, "XSDT");
	put64(&t, 0x7fe0000);
	put64(&t, 0x1122334455667788ull);
	put64(&t, 0x7fe2000);
	finish(&t);
	uint8_t *c = exact(t.b, t.len);
	CHECK_EQ_U(acpi_check_table(c, t.len, "XSDT"), 0);
	CHECK_EQ_U(acpi_check_table(c, t.len, NULL), 0);
	CHECK_EQ_U(acpi_check_table(c, t.len, "RSDT"), -EINVAL);
	CHECK_EQ_U(acpi_root_count(c, true), 3);
	/* entries start at offset 36: 4-aligned only */
	CHECK_EQ_U(acpi_root_entry(c, true, 1), 0x1122334455667788ull);
	CHECK_EQ_U(acpi_root_entry(c, true, 2), 0x7fe2000);
	/* fewer bytes readable than the length says */
	CHECK_EQ_U(acpi_check_table(c, t.len - 1, "XSDT"), -EINVAL);
	CHECK_EQ_U(acpi_check_table(c, 20, "XSDT"), -EINVAL);
	free(c);

	/* one flipped byte anywhere breaks the checksum */
	for (size_t i = 0; i < t.len; i += 7) {
		struct tbl u = t;
		u.b[i] ^= 0x40;
		if (i >= 4 && i < 8)
			continue; /* a length change is a different failure */
		CHECK_EQ_U(acpi_check_table(u.b, u.len, NULL), -EINVAL);
	}

	/* length field below the header size */
	struct tbl s;
	header(&s, "FACP");
	finish(&s);
	uint32_t tiny = 20;
	memcpy(s.b + 4, &tiny, 4);
	CHECK_EQ_U(acpi_check_table(s.b, sizeof(s.b), NULL), -EINVAL);

	/* RSDT with u32 entries and a trailing partial entry ignored */
	header(&t, "RSDT");
	put32(&t, 0x7fe0000);
	put32(&t, 0x7fe1000);
	put16(&t, 0xffff);
	finish(&t);
	c = exact(t.b, t.len);
	CHECK_EQ_U(acpi_check_table(c, t.len, "RSDT"), 0);
	CHECK_EQ_U(acpi_root_count(c, false), 2);
	CHECK_EQ_U(acpi_root_entry(c, false, 1), 0x7fe1000);
	free(c);
}

/* ---- MADT ---------------------------------------------------------------- */

static void madt_begin(struct tbl *t, uint32_t lapic, uint32_t flags)
{
	header(t, "APIC");
	put32(t, lapic);
	put32(t, flags);
}
static void e_lapic(struct tbl *t, uint8_t uid, uint8_t id, uint32_t fl)
{ put8(t, 0); put8(t, 8); put8(t, uid); put8(t, id); put32(t, fl); }
static void e_ioapic(struct tbl *t, uint8_t id, uint32_t addr, uint32_t base)
{ put8(t, 1); put8(t, 12); put8(t, id); put8(t, 0); put32(t, addr); put32(t, base); }
static void e_override(struct tbl *t, uint8_t src, uint32_t gsi, uint16_t inti)
{ put8(t, 2); put8(t, 10); put8(t, 0); put8(t, src); put32(t, gsi); put16(t, inti); }
static void e_nmi_src(struct tbl *t, uint16_t inti, uint32_t gsi)
{ put8(t, 3); put8(t, 8); put16(t, inti); put32(t, gsi); }
static void e_lapic_nmi(struct tbl *t, uint8_t uid, uint16_t inti, uint8_t lint)
{ put8(t, 4); put8(t, 6); put8(t, uid); put16(t, inti); put8(t, lint); }
static void e_lapic_ovr(struct tbl *t, uint64_t addr)
{ put8(t, 5); put8(t, 12); put16(t, 0); put64(t, addr); }

/* The MADT QEMU 7.2 builds for q35 (hw/i386/acpi-common.c build_madt):
 * one CPU, IOAPIC 0 at 0xfec00000, IRQ0 -> GSI 2, IRQs 5/9/10/11 level
 * active-high, LINT1 = NMI on all CPUs. */
static void qemu_q35_madt(struct tbl *t)
{
	madt_begin(t, 0xfee00000, ACPI_MADT_PCAT_COMPAT);
	e_lapic(t, 0, 0, ACPI_MADT_LAPIC_ENABLED);
	e_ioapic(t, 0, 0xfec00000, 0);
	e_override(t, 0, 2, 0);
	e_override(t, 5, 5, ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_LEVEL);
	e_override(t, 9, 9, ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_LEVEL);
	e_override(t, 10, 10, ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_LEVEL);
	e_override(t, 11, 11, ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_LEVEL);
	e_lapic_nmi(t, 0xff, 0, 1);
	finish(t);
}

static int parse_exact(const struct tbl *t, struct acpi_madt *m)
{
	uint8_t *c = exact(t->b, t->len);
	int err = acpi_check_table(c, t->len, "APIC");
	if (!err)
		err = acpi_parse_madt(c, t->len, m);
	free(c);
	return err;
}

static void test_madt_qemu(void)
{
	struct tbl t;
	static struct acpi_madt m;
	unsigned fl;

	qemu_q35_madt(&t);
	CHECK_EQ_U(parse_exact(&t, &m), 0);
	CHECK_EQ_U(m.lapic_base, 0xfee00000);
	CHECK(!m.lapic_base_overridden);
	CHECK_EQ_U(m.flags, ACPI_MADT_PCAT_COMPAT);
	CHECK_EQ_U(m.nr_lapics, 1);
	CHECK_EQ_U(m.lapics[0].apic_id, 0);
	CHECK_EQ_U(m.lapics[0].flags, ACPI_MADT_LAPIC_ENABLED);
	CHECK_EQ_U(m.nr_ioapics, 1);
	CHECK_EQ_U(m.ioapics[0].address, 0xfec00000);
	CHECK_EQ_U(m.ioapics[0].gsi_base, 0);
	CHECK_EQ_U(m.nr_overrides, 5);
	CHECK_EQ_U(m.nr_lapic_nmis, 1);
	CHECK_EQ_U(m.lapic_nmis[0].uid, 0xff);
	CHECK_EQ_U(m.lapic_nmis[0].lint, 1);
	CHECK_EQ_U(m.skipped, 0);
	CHECK_EQ_U(m.dropped, 0);

	/* IRQ0 (PIT) -> GSI 2 with bus defaults: ISA = edge, active high */
	CHECK_EQ_U(acpi_madt_isa_to_gsi(&m, 0, &fl), 2);
	CHECK_EQ_U(fl, IOAPIC_EDGE | IOAPIC_ACTIVE_HIGH);
	/* COM1 (IRQ4): no override, identity and ISA defaults */
	fl = 0xdead;
	CHECK_EQ_U(acpi_madt_isa_to_gsi(&m, 4, &fl), 4);
	CHECK_EQ_U(fl, IOAPIC_EDGE | IOAPIC_ACTIVE_HIGH);
	/* SCI (IRQ9): level, active high */
	CHECK_EQ_U(acpi_madt_isa_to_gsi(&m, 9, &fl), 9);
	CHECK_EQ_U(fl, IOAPIC_LEVEL | IOAPIC_ACTIVE_HIGH);
	CHECK_EQ_U(acpi_madt_isa_to_gsi(&m, 11, NULL), 11);
	/* no MADT at all: identity */
	CHECK_EQ_U(acpi_madt_isa_to_gsi(NULL, 3, &fl), 3);
	CHECK_EQ_U(fl, IOAPIC_EDGE | IOAPIC_ACTIVE_HIGH);
}

static void test_madt_entries(void)
{
	struct tbl t;
	static struct acpi_madt m;
	unsigned fl;

	/* Two IOAPICs, a remapped and active-low IRQ, an NMI source, a 64-bit
	 * LAPIC override, and unknown types (x2APIC, a future 0x7f with an odd
	 * length) that must be stepped over. */
	madt_begin(&t, 0xfee00000, 0);
	e_lapic(&t, 0, 0, 1);
	put8(&t, 9); put8(&t, 16); put16(&t, 0); put32(&t, 0x100); put32(&t, 1); put32(&t, 7);
	e_ioapic(&t, 4, 0xfec00000, 0);
	put8(&t, 0x7f); put8(&t, 7); put8(&t, 1); put8(&t, 2); put8(&t, 3); put8(&t, 4); put8(&t, 5);
	e_ioapic(&t, 5, 0xfec01000, 24);
	e_override(&t, 4, 20, ACPI_INTI_POLARITY_LOW | ACPI_INTI_TRIGGER_LEVEL);
	e_override(&t, 3, 3, ACPI_INTI_POLARITY_LOW);
	e_nmi_src(&t, ACPI_INTI_TRIGGER_EDGE, 30);
	e_lapic_ovr(&t, 0x1fee00000ull);
	e_lapic_nmi(&t, 0, ACPI_INTI_POLARITY_HIGH, 0);
	finish(&t);
	CHECK_EQ_U(parse_exact(&t, &m), 0);
	CHECK_EQ_U(m.skipped, 2);
	CHECK_EQ_U(m.nr_ioapics, 2);
	CHECK_EQ_U(m.ioapics[0].id, 4);
	CHECK_EQ_U(m.ioapics[1].id, 5);
	CHECK_EQ_U(m.ioapics[1].address, 0xfec01000);
	CHECK_EQ_U(m.ioapics[1].gsi_base, 24);
	CHECK(m.lapic_base_overridden);
	CHECK_EQ_U(m.lapic_base, 0x1fee00000ull);
	CHECK_EQ_U(m.nr_nmi_sources, 1);
	CHECK_EQ_U(m.nmi_sources[0].gsi, 30);
	CHECK_EQ_U(m.nmi_sources[0].inti, ACPI_INTI_TRIGGER_EDGE);
	CHECK_EQ_U(m.nr_lapic_nmis, 1);
	CHECK_EQ_U(m.lapic_nmis[0].uid, 0);
	CHECK_EQ_U(m.lapic_nmis[0].lint, 0);
	CHECK_EQ_U(m.lapic_nmis[0].inti, ACPI_INTI_POLARITY_HIGH);
	CHECK_EQ_U(acpi_madt_isa_to_gsi(&m, 4, &fl), 20);
	CHECK_EQ_U(fl, IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW);
	CHECK_EQ_U(acpi_madt_isa_to_gsi(&m, 3, &fl), 3);
	CHECK_EQ_U(fl, IOAPIC_EDGE | IOAPIC_ACTIVE_LOW);

	/* An override for another bus is not an ISA override. */
	madt_begin(&t, 0xfee00000, 0);
	put8(&t, 2); put8(&t, 10); put8(&t, 1); put8(&t, 4); put32(&t, 17); put16(&t, 0);
	finish(&t);
	CHECK_EQ_U(parse_exact(&t, &m), 0);
	CHECK_EQ_U(acpi_madt_isa_to_gsi(&m, 4, NULL), 4);

	/* Empty MADT (no entries) is valid. */
	madt_begin(&t, 0xfee00000, 0);
	finish(&t);
	CHECK_EQ_U(parse_exact(&t, &m), 0);
	CHECK_EQ_U(m.nr_ioapics, 0);

	/* More overrides than we keep: counted, not written past the array. */
	madt_begin(&t, 0xfee00000, 0);
	for (int i = 0; i < ACPI_MAX_OVERRIDES + 3; i++)
		e_override(&t, (uint8_t)i, (uint32_t)i, 0);
	finish(&t);
	CHECK_EQ_U(parse_exact(&t, &m), 0);
	CHECK_EQ_U(m.nr_overrides, ACPI_MAX_OVERRIDES);
	CHECK_EQ_U(m.dropped, 3);
}

static void test_madt_broken(void)
{
	struct tbl t;
	static struct acpi_madt m;

	/* entry length 0 would loop forever */
	madt_begin(&t, 0xfee00000, 0);
	e_lapic(&t, 0, 0, 1);
	put8(&t, 0x42); put8(&t, 0);
	finish(&t);
	CHECK_EQ_U(parse_exact(&t, &m), -EINVAL);

	/* entry length 1 */
	madt_begin(&t, 0xfee00000, 0);
	put8(&t, 0x42); put8(&t, 1); put16(&t, 0);
	finish(&t);
	CHECK_EQ_U(parse_exact(&t, &m), -EINVAL);

	/* last entry runs past the end of the table */
	madt_begin(&t, 0xfee00000, 0);
	e_lapic(&t, 0, 0, 1);
	put8(&t, 1); put8(&t, 12); put8(&t, 0); put8(&t, 0); put32(&t, 0xfec00000);
	finish(&t);
	CHECK_EQ_U(parse_exact(&t, &m), -EINVAL);

	/* a lone type byte at the end */
	madt_begin(&t, 0xfee00000, 0);
	e_lapic(&t, 0, 0, 1);
	put8(&t, 1);
	finish(&t);
	CHECK_EQ_U(parse_exact(&t, &m), -EINVAL);

	/* an IOAPIC entry shorter than the structure */
	madt_begin(&t, 0xfee00000, 0);
	put8(&t, 1); put8(&t, 8); put8(&t, 0); put8(&t, 0); put32(&t, 0xfec00000);
	finish(&t);
	CHECK_EQ_U(parse_exact(&t, &m), -EINVAL);

	/* shorter than the MADT's fixed part */
	header(&t, "APIC");
	put32(&t, 0xfee00000);
	finish(&t);
	CHECK_EQ_U(parse_exact(&t, &m), -EINVAL);

	/* bad checksum is caught before parsing */
	qemu_q35_madt(&t);
	t.b[50] ^= 1;
	CHECK_EQ_U(parse_exact(&t, &m), -EINVAL);
}

/* Random entry soup: the parser must never read past the table (ASan) and
 * never loop; it either accepts or rejects. Deterministic seed. */
static void test_madt_random(void)
{
	static struct acpi_madt m;
	uint32_t seed = 12345;
	unsigned accepted = 0;

	for (int iter = 0; iter < 20000; iter++) {
		struct tbl t;
		madt_begin(&t, 0xfee00000, 0);
		size_t body = (seed = seed * 1103515245 + 12345) >> 16 & 63;
		for (size_t i = 0; i < body; i++) {
			seed = seed * 1103515245 + 12345;
			uint8_t v = seed >> 16;
			if (i % 6 == 0) v &= 7;                /* plausible types */
			if (i % 6 == 1) v = (v & 15) + 1;      /* small lengths */
			put8(&t, v);
		}
		uint8_t *c = exact(t.b, t.len);
		if (acpi_parse_madt(c, t.len, &m) == 0) {
			accepted++;
			CHECK(m.nr_lapics <= ACPI_MAX_LAPICS && m.nr_ioapics <= ACPI_MAX_IOAPICS);
		}
		free(c);
	}
	CHECK(accepted > 0);
}

static void test_inti(void)
{
	static const struct { uint16_t inti; bool isa; unsigned want; } cases[] = {
		{ 0x0, true,  IOAPIC_EDGE | IOAPIC_ACTIVE_HIGH },
		{ 0x0, false, IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW },
		{ 0x1, false, IOAPIC_LEVEL | IOAPIC_ACTIVE_HIGH },
		{ 0x3, true,  IOAPIC_EDGE | IOAPIC_ACTIVE_LOW },
		{ 0x4, false, IOAPIC_EDGE | IOAPIC_ACTIVE_LOW },
		{ 0xc, true,  IOAPIC_LEVEL | IOAPIC_ACTIVE_HIGH },
		{ 0xd, true,  IOAPIC_LEVEL | IOAPIC_ACTIVE_HIGH },
		{ 0xf, true,  IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW },
		{ 0x5, false, IOAPIC_EDGE | IOAPIC_ACTIVE_HIGH },
		{ 0x2, true,  IOAPIC_EDGE | IOAPIC_ACTIVE_HIGH },  /* reserved: bus default */
		{ 0x8, false, IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_EQ_U(acpi_inti_to_ioapic_flags(cases[i].inti, cases[i].isa), cases[i].want);
}

/* ---- MCFG, FADT ---------------------------------------------------------- */

static void test_mcfg(void)
{
	struct tbl t;
	struct acpi_mcfg mc;

	header(&t, "MCFG");
	put64(&t, 0);                               /* reserved */
	put64(&t, 0xb0000000); put16(&t, 0); put8(&t, 0); put8(&t, 0xff); put32(&t, 0);
	finish(&t);
	uint8_t *c = exact(t.b, t.len);
	CHECK_EQ_U(acpi_check_table(c, t.len, "MCFG"), 0);
	CHECK_EQ_U(acpi_parse_mcfg(c, t.len, &mc), 0);
	CHECK_EQ_U(mc.nr, 1);
	CHECK_EQ_U(mc.e[0].base, 0xb0000000);
	CHECK_EQ_U(mc.e[0].segment, 0);
	CHECK_EQ_U(mc.e[0].bus_start, 0);
	CHECK_EQ_U(mc.e[0].bus_end, 255);
	free(c);

	/* half an entry */
	header(&t, "MCFG");
	put64(&t, 0);
	put64(&t, 0xb0000000);
	finish(&t);
	CHECK_EQ_U(acpi_parse_mcfg(t.b, t.len, &mc), -EINVAL);

	/* inverted bus range */
	header(&t, "MCFG");
	put64(&t, 0);
	put64(&t, 0xb0000000); put16(&t, 0); put8(&t, 9); put8(&t, 3); put32(&t, 0);
	finish(&t);
	CHECK_EQ_U(acpi_parse_mcfg(t.b, t.len, &mc), -EINVAL);

	/* no entries is valid and empty */
	header(&t, "MCFG");
	put64(&t, 0);
	finish(&t);
	CHECK_EQ_U(acpi_parse_mcfg(t.b, t.len, &mc), 0);
	CHECK_EQ_U(mc.nr, 0);
}

static void fadt(struct tbl *t, size_t len, uint32_t pm_blk, uint8_t pm_len, uint32_t flags,
		 uint8_t x_space, uint64_t x_addr)
{
	header(t, "FACP");
	memset(t->b + ACPI_HDR_LEN, 0, len - ACPI_HDR_LEN);
	t->len = len;
	memcpy(t->b + ACPI_FADT_OFF_PM_TMR_BLK, &pm_blk, 4);
	t->b[ACPI_FADT_OFF_PM_TMR_LEN] = pm_len;
	if (len >= ACPI_FADT_OFF_FLAGS + 4)
		memcpy(t->b + ACPI_FADT_OFF_FLAGS, &flags, 4);
	if (len >= ACPI_FADT_OFF_X_PM_TMR_BLK + 12) {
		t->b[ACPI_FADT_OFF_X_PM_TMR_BLK] = x_space;
		memcpy(t->b + ACPI_FADT_OFF_X_PM_TMR_BLK + 4, &x_addr, 8);
	}
	finish(t);
}

static void test_fadt(void)
{
	struct tbl t;
	struct acpi_fadt_info f;

	/* QEMU's q35 FADT (revision 3, 244 bytes): PM timer at 0x608, 24-bit
	 * unless TMR_VAL_EXT; X_PM_TMR_BLK also in I/O space. */
	fadt(&t, 244, 0x608, 4, ACPI_FADT_TMR_VAL_EXT, ACPI_GAS_SYSTEM_IO, 0x608);
	uint8_t *c = exact(t.b, t.len);
	CHECK_EQ_U(acpi_parse_fadt(c, t.len, &f), 0);
	CHECK_EQ_U(f.pm_timer_port, 0x608);
	CHECK(f.pm_timer_32bit);
	free(c);

	/* ACPI 1.0 FADT (116 bytes): no X_ field to read */
	fadt(&t, 116, 0xb008, 4, 0, 0, 0);
	c = exact(t.b, t.len);
	CHECK_EQ_U(acpi_parse_fadt(c, t.len, &f), 0);
	CHECK_EQ_U(f.pm_timer_port, 0xb008);
	CHECK(!f.pm_timer_32bit);
	free(c);

	/* X_PM_TMR_BLK in I/O space takes precedence; in memory space it is
	 * ignored; PM_TMR_LEN 0 means no timer. */
	fadt(&t, 244, 0x608, 4, 0, ACPI_GAS_SYSTEM_IO, 0x1808);
	CHECK_EQ_U(acpi_parse_fadt(t.b, t.len, &f), 0);
	CHECK_EQ_U(f.pm_timer_port, 0x1808);
	fadt(&t, 244, 0x608, 4, 0, 0 /* system memory */, 0xfed00000);
	CHECK_EQ_U(acpi_parse_fadt(t.b, t.len, &f), 0);
	CHECK_EQ_U(f.pm_timer_port, 0x608);
	fadt(&t, 244, 0x608, 0, 0, 0, 0);
	CHECK_EQ_U(acpi_parse_fadt(t.b, t.len, &f), 0);
	CHECK_EQ_U(f.pm_timer_port, 0);

	/* a FADT too short to hold PM_TMR_LEN: no timer, no overread */
	header(&t, "FACP");
	t.len = 80;
	finish(&t);
	c = exact(t.b, t.len);
	CHECK_EQ_U(acpi_parse_fadt(c, t.len, &f), 0);
	CHECK_EQ_U(f.pm_timer_port, 0);
	free(c);
}

int main(void)
{
	CHECK_EQ_U(acpi_checksum("\x01\xff", 2), 0);
	CHECK_EQ_U(acpi_checksum("", 0), 0);
	CHECK_EQ_U(acpi_get32((const uint8_t *)"\x78\x56\x34\x12"), 0x12345678);
	test_rsdp();
	test_tables();
	test_madt_qemu();
	test_madt_entries();
	test_madt_broken();
	test_madt_random();
	test_inti();
	test_mcfg();
	test_fadt();
	return check_summary("test_acpi");
}
