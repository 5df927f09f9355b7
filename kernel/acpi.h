/*
 * acpi.h - the ACPI static tables the kernel reads: RSDP, RSDT/XSDT, MADT
 * (interrupt controllers), MCFG (PCI ECAM) and FADT (PM timer). No AML.
 *
 * Two layers:
 *   - kernel/acpi_parse.c: pure parsers. They take a pointer and the number
 *     of bytes that may be read there, never dereference a physical
 *     address, and copy what they find into the structures below, so they
 *     run unchanged in the host unit test (tests/unit/test_acpi.c).
 *   - kernel/acpi.c: finds the tables from boot_info.acpi_rsdp_phys, runs
 *     the parsers once in acpi_init() and answers lookups afterwards.
 *
 * Spec references: ACPI 6.4 (section numbers are stable since ACPI 5.0),
 * PCI Firmware Specification 3.0 (MCFG).
 */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- on-firmware layouts (byte offsets; read with acpi_get*()) --------- */

/* RSDP, ACPI 6.4 5.2.5.3: "RSD PTR ", checksum over the first 20 bytes
 * (the ACPI 1.0 part); from revision 2 on, length and an extended checksum
 * over all `length` bytes, and the XSDT address. */
#define ACPI_RSDP_V1_LEN        20
#define ACPI_RSDP_V2_LEN        36
#define ACPI_RSDP_OFF_CHECKSUM  8
#define ACPI_RSDP_OFF_OEMID     9
#define ACPI_RSDP_OFF_REVISION  15
#define ACPI_RSDP_OFF_RSDT      16  /* u32 */
#define ACPI_RSDP_OFF_LENGTH    20  /* u32, revision >= 2 */
#define ACPI_RSDP_OFF_XSDT      24  /* u64, revision >= 2 */

/* System description table header, ACPI 6.4 5.2.6: every table after the
 * RSDP starts with it, and all `length` bytes sum to zero. */
#define ACPI_HDR_LEN            36
#define ACPI_HDR_OFF_LENGTH     4   /* u32 */
#define ACPI_HDR_OFF_REVISION   8
#define ACPI_HDR_OFF_OEMID      10

/* MADT, ACPI 6.4 5.2.12: header, u32 local APIC address, u32 flags, then
 * interrupt controller structures {u8 type, u8 length, ...}. */
#define ACPI_MADT_OFF_LAPIC     36
#define ACPI_MADT_OFF_FLAGS     40
#define ACPI_MADT_OFF_ENTRIES   44
#define ACPI_MADT_PCAT_COMPAT   (1u << 0)   /* dual 8259s present */

/* Interrupt controller structure types, ACPI 6.4 5.2.12 (table 5.44) and
 * the minimum length each must have. */
#define ACPI_MADT_LAPIC          0   /* 5.2.12.2, 8 bytes */
#define ACPI_MADT_IOAPIC         1   /* 5.2.12.3, 12 bytes */
#define ACPI_MADT_OVERRIDE       2   /* 5.2.12.5, 10 bytes */
#define ACPI_MADT_NMI_SOURCE     3   /* 5.2.12.6, 8 bytes */
#define ACPI_MADT_LAPIC_NMI      4   /* 5.2.12.7, 6 bytes */
#define ACPI_MADT_LAPIC_OVERRIDE 5   /* 5.2.12.8, 12 bytes */
#define ACPI_MADT_X2APIC         9   /* 5.2.12.12: not used (no x2APIC under TCG) */
#define ACPI_MADT_X2APIC_NMI     10  /* 5.2.12.13: not used */

#define ACPI_MADT_LAPIC_ENABLED        (1u << 0)
#define ACPI_MADT_LAPIC_ONLINE_CAPABLE (1u << 1)

/* MPS INTI flags, ACPI 6.4 5.2.12.5 (table 5.50): polarity in bits 1:0,
 * trigger mode in bits 3:2; 00 means "conforms to the bus" (ISA: edge,
 * active high; PCI: level, active low). */
#define ACPI_INTI_POLARITY_MASK   0x3
#define ACPI_INTI_POLARITY_BUS    0x0
#define ACPI_INTI_POLARITY_HIGH   0x1
#define ACPI_INTI_POLARITY_LOW    0x3
#define ACPI_INTI_TRIGGER_MASK    0xc
#define ACPI_INTI_TRIGGER_BUS     0x0
#define ACPI_INTI_TRIGGER_EDGE    0x4
#define ACPI_INTI_TRIGGER_LEVEL   0xc

/* MCFG, PCI Firmware Spec 3.0 4.1.2: header, 8 reserved bytes, then
 * 16-byte entries {u64 base, u16 segment, u8 start bus, u8 end bus, u32}. */
#define ACPI_MCFG_OFF_ENTRIES   44
#define ACPI_MCFG_ENTRY_LEN     16

/* FADT, ACPI 6.4 5.2.9 (table 5.34): only the PM timer fields. */
#define ACPI_FADT_OFF_PM_TMR_BLK   76   /* u32 I/O port */
#define ACPI_FADT_OFF_PM_TMR_LEN   91   /* u8, 4 if supported */
#define ACPI_FADT_OFF_FLAGS        112  /* u32 */
#define ACPI_FADT_OFF_X_PM_TMR_BLK 208  /* 12-byte Generic Address Structure */
#define ACPI_FADT_TMR_VAL_EXT      (1u << 8) /* PM timer is 32 bits, else 24 */
#define ACPI_GAS_SYSTEM_IO         1    /* GAS address space ID, 5.2.3.2 */
#define ACPI_PM_TIMER_HZ           3579545 /* ACPI 6.4 4.8.3.3 */

/* ---- what the parsers produce ------------------------------------------ */

#define ACPI_MAX_LAPICS     64
#define ACPI_MAX_IOAPICS    8
#define ACPI_MAX_OVERRIDES  16
#define ACPI_MAX_NMI_SRC    8
#define ACPI_MAX_LAPIC_NMI  8
#define ACPI_MAX_MCFG       4

struct acpi_rsdp_info {
	uint8_t revision;
	bool xsdt;           /* root_phys is an XSDT (u64 entries), else RSDT */
	uint64_t root_phys;
	char oem[7];         /* NUL-terminated */
};

struct acpi_lapic {
	uint8_t uid;         /* ACPI processor UID */
	uint8_t apic_id;
	uint32_t flags;      /* ACPI_MADT_LAPIC_* */
};

struct acpi_ioapic {
	uint8_t id;
	uint32_t address;    /* MMIO base (physical) */
	uint32_t gsi_base;   /* first GSI of its input pin 0 */
};

struct acpi_override {   /* "ISA IRQ `source` is wired to `gsi`" */
	uint8_t bus;         /* 0 = ISA, the only bus ACPI defines here */
	uint8_t source;
	uint32_t gsi;
	uint16_t inti;       /* ACPI_INTI_* */
};

struct acpi_nmi_source { /* a GSI that is wired to deliver NMI */
	uint16_t inti;
	uint32_t gsi;
};

struct acpi_lapic_nmi {  /* "LINT`lint` of processor `uid` is NMI" */
	uint8_t uid;         /* 0xff = all processors */
	uint16_t inti;
	uint8_t lint;        /* 0 or 1 */
};

struct acpi_madt {
	uint64_t lapic_base;      /* after any type-5 override */
	bool lapic_base_overridden;
	uint32_t flags;           /* ACPI_MADT_PCAT_COMPAT */
	unsigned nr_lapics, nr_ioapics, nr_overrides, nr_nmi_sources, nr_lapic_nmis;
	struct acpi_lapic lapics[ACPI_MAX_LAPICS];
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	struct acpi_nmi_source nmi_sources[ACPI_MAX_NMI_SRC];
	struct acpi_lapic_nmi lapic_nmis[ACPI_MAX_LAPIC_NMI];
	unsigned skipped;         /* entries of types we do not use */
	unsigned dropped;         /* entries beyond our array sizes */
};

struct acpi_mcfg_entry {
	uint64_t base;            /* ECAM address of bus 0 of this segment */
	uint16_t segment;
	uint8_t bus_start, bus_end;
};

struct acpi_mcfg {
	unsigned nr;
	struct acpi_mcfg_entry e[ACPI_MAX_MCFG];
};

struct acpi_fadt_info {
	uint16_t pm_timer_port;   /* 0 if the platform has no PM timer */
	bool pm_timer_32bit;      /* TMR_VAL_EXT */
};

/* ---- pure parsers (acpi_parse.c): any context, no side effects --------- */

/* Sum of `len` bytes modulo 256; a valid table sums to 0. */
uint8_t acpi_checksum(const void *p, size_t len);
/* Little-endian field readers that tolerate unaligned addresses. */
uint16_t acpi_get16(const uint8_t *p);
uint32_t acpi_get32(const uint8_t *p);
uint64_t acpi_get64(const uint8_t *p);

/* Validates an RSDP of which `avail` bytes are readable. 0, or -EINVAL for
 * a wrong signature, checksum or length, or no root table address. */
int acpi_parse_rsdp(const void *p, size_t avail, struct acpi_rsdp_info *out);

/* Length field of a table header (the caller must be able to read 36
 * bytes at p). */
uint32_t acpi_table_len(const void *p);

/* Checks a table of which `avail` bytes are readable: header present,
 * length within [36, avail], checksum zero, and signature `sig` unless sig
 * is NULL. 0 or -EINVAL. */
int acpi_check_table(const void *p, size_t avail, const char *sig);

/* Number of entries of a validated RSDT (xsdt=false) or XSDT, and the
 * physical address in entry i (< count). */
unsigned acpi_root_count(const void *root, bool xsdt);
uint64_t acpi_root_entry(const void *root, bool xsdt, unsigned i);

/* Parses a validated MADT of `len` bytes into *out. Unknown entry types are
 * counted in out->skipped and stepped over by their length; an entry with
 * length < 2, running past the table's end, or shorter than its type
 * requires makes the whole table invalid (-EINVAL): its length bytes
 * cannot be trusted to find the next entry. */
int acpi_parse_madt(const void *madt, size_t len, struct acpi_madt *out);

/* Parses a validated MCFG; -EINVAL if the entries do not fill it exactly. */
int acpi_parse_mcfg(const void *mcfg, size_t len, struct acpi_mcfg *out);

/* Reads the PM timer location from a validated FADT of `len` bytes; fields
 * beyond an old FADT's length count as absent. Always 0. */
int acpi_parse_fadt(const void *fadt, size_t len, struct acpi_fadt_info *out);

/* ISA IRQ -> GSI through the MADT's overrides (bus 0); without an override
 * the GSI equals the IRQ and the line is edge, active high (ISA). *flags
 * gets IOAPIC_EDGE/IOAPIC_LEVEL | IOAPIC_ACTIVE_HIGH/LOW (ioapic.h). */
unsigned acpi_madt_isa_to_gsi(const struct acpi_madt *m, unsigned irq, unsigned *flags);

/* MPS INTI flags -> IOAPIC_* flags, "conforms to bus" resolved for ISA
 * (isa=true: edge, high) or PCI (level, low). */
unsigned acpi_inti_to_ioapic_flags(uint16_t inti, bool isa);

/* ---- the running kernel's tables (acpi.c) ------------------------------ */

/* Finds and validates every table; fills the parsed MADT, MCFG and FADT.
 * Boot, once, before the interrupt controllers. 0 or -errno (-ENODEV: no
 * RSDP from the loader). */
int acpi_init(void);

/* Parsed MADT, or NULL if there is none (then there is no IOAPIC either). */
const struct acpi_madt *acpi_get_madt(void);

/* ECAM window of PCI segment 0: base address and bus range. 0, or -ENODEV
 * if there is no MCFG (use the 0xCF8/0xCFC ports). */
int acpi_mcfg(uint64_t *base, uint8_t *bus_start, uint8_t *bus_end);

/* PM timer I/O port from the FADT, 0 if absent. */
uint16_t acpi_pm_timer_port(void);

/* ISA IRQ -> GSI for this machine, honouring the MADT's overrides; *flags
 * (may be NULL) gets the IOAPIC_* trigger and polarity to program. */
unsigned acpi_isa_irq_to_gsi(unsigned irq, unsigned *flags);

#endif
