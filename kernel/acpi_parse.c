/*
 * acpi_parse.c - pure parsers for the ACPI tables in acpi.h.
 *
 * Every function takes a pointer and the number of bytes it may read, and
 * reads fields through byte-wise little-endian helpers: firmware tables are
 * packed, so a u64 in the XSDT is only 4-byte aligned and a u32 in a MADT
 * entry may be at any address. Nothing here touches hardware, allocates or
 * prints, so the same file is compiled into tests/unit/test_acpi.c.
 */
#include "kernel/acpi.h"
#include "kernel/arch/ioapic.h"
#include "kernel/errno.h"
#include "kernel/lib/string.h"

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return sum;
}

uint16_t acpi_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t acpi_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t acpi_get64(const uint8_t *p)
{
	return (uint64_t)acpi_get32(p) | (uint64_t)acpi_get32(p + 4) << 32;
}

int acpi_parse_rsdp(const void *p, size_t avail, struct acpi_rsdp_info *out)
{
	const uint8_t *b = p;

	if (avail < ACPI_RSDP_V1_LEN || memcmp(b, "RSD PTR ", 8))
		return -EINVAL;
	/* ACPI 6.4 5.2.5.3: the first checksum covers the ACPI 1.0 fields
	 * only, so that 1.0 OSes can validate a 2.0 RSDP. */
	if (acpi_checksum(b, ACPI_RSDP_V1_LEN))
		return -EINVAL;

	memset(out, 0, sizeof(*out));
	out->revision = b[ACPI_RSDP_OFF_REVISION];
	memcpy(out->oem, b + ACPI_RSDP_OFF_OEMID, 6);
	out->oem[6] = 0;
	out->root_phys = acpi_get32(b + ACPI_RSDP_OFF_RSDT);

	if (out->revision >= 2) {
		if (avail < ACPI_RSDP_V2_LEN)
			return -EINVAL;
		uint32_t len = acpi_get32(b + ACPI_RSDP_OFF_LENGTH);
		if (len < ACPI_RSDP_V2_LEN || len > avail || acpi_checksum(b, len))
			return -EINVAL;
		/* Prefer the XSDT when present (5.2.5.3: "an ACPI-compatible OS
		 * must use the XSDT if present"). */
		uint64_t xsdt = acpi_get64(b + ACPI_RSDP_OFF_XSDT);
		if (xsdt) {
			out->root_phys = xsdt;
			out->xsdt = true;
		}
	}
	return out->root_phys ? 0 : -EINVAL;
}

uint32_t acpi_table_len(const void *p)
{
	return acpi_get32((const uint8_t *)p + ACPI_HDR_OFF_LENGTH);
}

int acpi_check_table(const void *p, size_t avail, const char *sig)
{
	if (avail < ACPI_HDR_LEN)
		return -EINVAL;
	uint32_t len = acpi_table_len(p);
	if (len < ACPI_HDR_LEN || len > avail)
		return -EINVAL;
	if (sig && memcmp(p, sig, 4))
		return -EINVAL;
	if (acpi_checksum(p, len))
		return -EINVAL;
	return 0;
}

unsigned acpi_root_count(const void *root, bool xsdt)
{
	/* A trailing partial entry (length not a multiple of the entry size)
	 * is ignored rather than read past the end. */
	return (acpi_table_len(root) - ACPI_HDR_LEN) / (xsdt ? 8 : 4);
}

uint64_t acpi_root_entry(const void *root, bool xsdt, unsigned i)
{
	const uint8_t *e = (const uint8_t *)root + ACPI_HDR_LEN;
	return xsdt ? acpi_get64(e + 8 * i) : acpi_get32(e + 4 * i);
}

/* Minimum length of each MADT entry type we read (ACPI 6.4 5.2.12.x). */
static unsigned madt_min_len(uint8_t type)
{
	switch (type) {
	case ACPI_MADT_LAPIC:          return 8;
	case ACPI_MADT_IOAPIC:         return 12;
	case ACPI_MADT_OVERRIDE:       return 10;
	case ACPI_MADT_NMI_SOURCE:     return 8;
	case ACPI_MADT_LAPIC_NMI:      return 6;
	case ACPI_MADT_LAPIC_OVERRIDE: return 12;
	default:                       return 2;
	}
}

/* Appends `entry` to out->arr (out->nr entries so far), or counts it in
 * out->dropped when the array is full: a table longer than we keep is
 * reported, not an error. */
#define MADT_APPEND(out, arr, nr, ...) do {                                  \
	if ((out)->nr == sizeof((out)->arr) / sizeof((out)->arr[0]))         \
		(out)->dropped++;                                             \
	else                                                                  \
		(out)->arr[(out)->nr++] = __VA_ARGS__;                        \
} while (0)

int acpi_parse_madt(const void *madt, size_t len, struct acpi_madt *out)
{
	const uint8_t *b = madt;

	if (len < ACPI_MADT_OFF_ENTRIES)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->lapic_base = acpi_get32(b + ACPI_MADT_OFF_LAPIC);
	out->flags = acpi_get32(b + ACPI_MADT_OFF_FLAGS);

	/* Bounded by len: each step advances by at least 2 bytes. */
	for (size_t off = ACPI_MADT_OFF_ENTRIES; off < len;) {
		if (len - off < 2)
			return -EINVAL;
		const uint8_t *e = b + off;
		uint8_t type = e[0], elen = e[1];
		if (elen < 2 || elen > len - off || elen < madt_min_len(type))
			return -EINVAL;

		switch (type) {
		case ACPI_MADT_LAPIC:
			MADT_APPEND(out, lapics, nr_lapics, (struct acpi_lapic){
				.uid = e[2], .apic_id = e[3], .flags = acpi_get32(e + 4) });
			break;
		case ACPI_MADT_IOAPIC:
			MADT_APPEND(out, ioapics, nr_ioapics, (struct acpi_ioapic){
				.id = e[2], .address = acpi_get32(e + 4), .gsi_base = acpi_get32(e + 8) });
			break;
		case ACPI_MADT_OVERRIDE:
			MADT_APPEND(out, overrides, nr_overrides, (struct acpi_override){
				.bus = e[2], .source = e[3], .gsi = acpi_get32(e + 4),
				.inti = acpi_get16(e + 8) });
			break;
		case ACPI_MADT_NMI_SOURCE:
			MADT_APPEND(out, nmi_sources, nr_nmi_sources, (struct acpi_nmi_source){
				.inti = acpi_get16(e + 2), .gsi = acpi_get32(e + 4) });
			break;
		case ACPI_MADT_LAPIC_NMI:
			MADT_APPEND(out, lapic_nmis, nr_lapic_nmis, (struct acpi_lapic_nmi){
				.uid = e[2], .inti = acpi_get16(e + 3), .lint = e[5] });
			break;
		case ACPI_MADT_LAPIC_OVERRIDE:
			/* 5.2.12.8: a 64-bit address that replaces the 32-bit one
			 * in the header. */
			out->lapic_base = acpi_get64(e + 4);
			out->lapic_base_overridden = true;
			break;
		default:
			out->skipped++;
			break;
		}
		off += elen;
	}
	return 0;
}

int acpi_parse_mcfg(const void *mcfg, size_t len, struct acpi_mcfg *out)
{
	const uint8_t *b = mcfg;

	memset(out, 0, sizeof(*out));
	if (len < ACPI_MCFG_OFF_ENTRIES || (len - ACPI_MCFG_OFF_ENTRIES) % ACPI_MCFG_ENTRY_LEN)
		return -EINVAL;
	for (size_t off = ACPI_MCFG_OFF_ENTRIES; off < len; off += ACPI_MCFG_ENTRY_LEN) {
		if (out->nr == ACPI_MAX_MCFG)
			break;
		const uint8_t *e = b + off;
		struct acpi_mcfg_entry m = {
			.base = acpi_get64(e), .segment = acpi_get16(e + 8),
			.bus_start = e[10], .bus_end = e[11] };
		if (m.bus_end < m.bus_start)
			return -EINVAL;
		out->e[out->nr++] = m;
	}
	return 0;
}

int acpi_parse_fadt(const void *fadt, size_t len, struct acpi_fadt_info *out)
{
	const uint8_t *b = fadt;

	memset(out, 0, sizeof(*out));
	if (len >= ACPI_FADT_OFF_PM_TMR_LEN + 1 && b[ACPI_FADT_OFF_PM_TMR_LEN] >= 4)
		out->pm_timer_port = (uint16_t)acpi_get32(b + ACPI_FADT_OFF_PM_TMR_BLK);
	if (len >= ACPI_FADT_OFF_FLAGS + 4)
		out->pm_timer_32bit = acpi_get32(b + ACPI_FADT_OFF_FLAGS) & ACPI_FADT_TMR_VAL_EXT;
	/* 5.2.9: X_PM_TMR_BLK, when non-zero, takes precedence; we can use it
	 * only if it is in I/O space. */
	if (len >= ACPI_FADT_OFF_X_PM_TMR_BLK + 12) {
		const uint8_t *gas = b + ACPI_FADT_OFF_X_PM_TMR_BLK;
		uint64_t addr = acpi_get64(gas + 4);
		if (addr && gas[0] == ACPI_GAS_SYSTEM_IO && addr <= 0xffff)
			out->pm_timer_port = (uint16_t)addr;
	}
	return 0;
}

unsigned acpi_inti_to_ioapic_flags(uint16_t inti, bool isa)
{
	unsigned flags = isa ? (IOAPIC_EDGE | IOAPIC_ACTIVE_HIGH) : (IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW);

	switch (inti & ACPI_INTI_POLARITY_MASK) {
	case ACPI_INTI_POLARITY_HIGH:
		flags &= ~IOAPIC_ACTIVE_LOW;
		break;
	case ACPI_INTI_POLARITY_LOW:
		flags |= IOAPIC_ACTIVE_LOW;
		break;
	default: /* 00 bus default, 10 reserved: keep the bus default */
		break;
	}
	switch (inti & ACPI_INTI_TRIGGER_MASK) {
	case ACPI_INTI_TRIGGER_EDGE:
		flags &= ~IOAPIC_LEVEL;
		break;
	case ACPI_INTI_TRIGGER_LEVEL:
		flags |= IOAPIC_LEVEL;
		break;
	default:
		break;
	}
	return flags;
}

unsigned acpi_madt_isa_to_gsi(const struct acpi_madt *m, unsigned irq, unsigned *flags)
{
	if (m) {
		for (unsigned i = 0; i < m->nr_overrides; i++) {
			const struct acpi_override *o = &m->overrides[i];
			if (o->bus == 0 && o->source == irq) {
				if (flags)
					*flags = acpi_inti_to_ioapic_flags(o->inti, true);
				return o->gsi;
			}
		}
	}
	/* 5.2.12.5: ISA IRQs without an override are identity-mapped to
	 * GSIs and use the ISA defaults. */
	if (flags)
		*flags = IOAPIC_EDGE | IOAPIC_ACTIVE_HIGH;
	return irq;
}
