/*
 * acpi.c - finds this machine's ACPI tables and keeps what the kernel
 * needs from them (see acpi.h; the parsing itself is in acpi_parse.c).
 *
 * The tables live in firmware memory (EfiACPIReclaimMemory/NVS) that the
 * kernel's page tables identity-map read-only (kernel/mm/vmm.h), so a
 * table's physical address is also its address here (phys_to_virt); every
 * range is checked to be mapped before it is read. acpi_init() must
 * therefore run after mm_init(). The
 * parsed MADT, MCFG and FADT are copied into this file's statics at boot,
 * and the rest of the kernel asks through the functions below.
 *
 * Context: acpi_init() at boot, once, before the interrupt controllers.
 * Everything else reads data that is never written after boot, so it may
 * run in any context.
 */
#include "kernel/acpi.h"
#include "kernel/arch/ioapic.h"
#include "kernel/mm/pmm.h"
#include "kernel/mm/vmm.h"
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "kernel/registry.h"
#include "kernel/errno.h"
#include "kernel/lib/string.h"
#include "boot/bootinfo.h"

extern struct bootinfo boot_info; /* kernel/main.c */

/* Sanity bound on one table's length: QEMU's largest (the DSDT, not read
 * here) is ~8 KiB; a length in the megabytes means a corrupt header, and
 * checksumming it could run into unmapped memory. */
#define ACPI_TABLE_MAX_LEN (1u << 20)
#define ACPI_MAX_TABLES 32

struct acpi_table_ref {
	char sig[5];
	uint64_t phys;
	uint32_t len;
	uint8_t revision;
	bool valid;          /* length and checksum good */
};

static struct acpi_rsdp_info rsdp;
static struct acpi_table_ref tables[ACPI_MAX_TABLES];
static unsigned nr_tables;

static struct acpi_madt madt;
static bool have_madt;
static struct acpi_mcfg mcfg;
static struct acpi_fadt_info fadt;

static const void *acpi_va(uint64_t phys)
{
	return phys_to_virt(phys);
}

/*
 * True if [phys, phys + len) is mapped. The kernel maps the firmware's
 * ACPI ranges (and the RSDP's page); a table the firmware put anywhere
 * else would fault on first touch, so it is reported and skipped instead.
 */
static bool acpi_mapped(uint64_t phys, uint64_t len)
{
	uint64_t end = phys + len;
	for (uint64_t p = phys & ~0xfffull; p < end; p += 0x1000)
		if (!vmm_lookup(p, NULL, NULL))
			return false;
	return true;
}

/*
 * Maps and validates the table at phys: its header must be readable (36
 * bytes), its length sane, its checksum zero, and its signature sig if sig
 * is not NULL. Returns the table or NULL.
 */
static const void *acpi_table_at(uint64_t phys, const char *sig, uint32_t *len_out)
{
	if (!phys || !acpi_mapped(phys, ACPI_HDR_LEN))
		return NULL;
	const void *t = acpi_va(phys);
	uint32_t len = acpi_table_len(t);
	if (len < ACPI_HDR_LEN || len > ACPI_TABLE_MAX_LEN || !acpi_mapped(phys, len))
		return NULL;
	if (acpi_check_table(t, len, sig))
		return NULL;
	if (len_out)
		*len_out = len;
	return t;
}

static void record_table(uint64_t phys)
{
	if (nr_tables == ACPI_MAX_TABLES) {
		pr_warn("acpi: more than %d tables, 0x%lx not recorded", ACPI_MAX_TABLES,
			(unsigned long)phys);
		return;
	}
	if (!acpi_mapped(phys, ACPI_HDR_LEN)) {
		pr_warn("acpi: table at 0x%lx is outside the mapped ACPI memory; ignored",
			(unsigned long)phys);
		return;
	}
	struct acpi_table_ref *r = &tables[nr_tables++];
	const uint8_t *t = acpi_va(phys);
	memcpy(r->sig, t, 4);
	r->sig[4] = 0;
	r->phys = phys;
	r->len = acpi_table_len(t);
	r->revision = t[ACPI_HDR_OFF_REVISION];
	r->valid = acpi_table_at(phys, NULL, NULL) != NULL;
	if (!r->valid)
		pr_warn("acpi: table %s at 0x%lx (length %u) fails its checksum or length; ignored",
			r->sig, (unsigned long)phys, r->len);
}

/* The first valid table with signature sig (e.g. "APIC", "MCFG"), or
 * NULL. The pointer is into firmware memory (ACPI reclaim), valid for the
 * kernel's lifetime. Boot, from acpi_init(). */
static const void *acpi_find_table(const char sig[4])
{
	for (unsigned i = 0; i < nr_tables; i++)
		if (tables[i].valid && !memcmp(tables[i].sig, sig, 4))
			return acpi_va(tables[i].phys);
	return NULL;
}

static void parse_known_tables(void)
{
	const void *t;

	if ((t = acpi_find_table("APIC"))) {
		int err = acpi_parse_madt(t, acpi_table_len(t), &madt);
		if (err)
			pr_err("acpi: MADT is malformed (%d): no APIC information", err);
		else
			have_madt = true;
		if (have_madt && (madt.skipped || madt.dropped))
			pr_info("acpi: MADT: %u entries of types not used here, %u beyond our tables",
				madt.skipped, madt.dropped);
	}
	if ((t = acpi_find_table("MCFG"))) {
		if (acpi_parse_mcfg(t, acpi_table_len(t), &mcfg))
			pr_err("acpi: MCFG is malformed: PCI falls back to port I/O");
	}
	if ((t = acpi_find_table("FACP")))
		acpi_parse_fadt(t, acpi_table_len(t), &fadt);
}

int acpi_init(void)
{
	if (!boot_info.acpi_rsdp_phys) {
		pr_err("acpi: the loader found no RSDP: no APIC, PCI ECAM or PM timer data");
		return -ENODEV;
	}
	if (!acpi_mapped(boot_info.acpi_rsdp_phys, ACPI_RSDP_V1_LEN)) {
		pr_err("acpi: RSDP at 0x%lx is not mapped", (unsigned long)boot_info.acpi_rsdp_phys);
		return -EFAULT;
	}
	const uint8_t *p = acpi_va(boot_info.acpi_rsdp_phys);
	/* A revision-0 RSDP is only 20 bytes: read more only if it says so. */
	size_t avail = p[ACPI_RSDP_OFF_REVISION] >= 2 ? ACPI_RSDP_V2_LEN : ACPI_RSDP_V1_LEN;
	if (!acpi_mapped(boot_info.acpi_rsdp_phys, avail))
		avail = ACPI_RSDP_V1_LEN;
	int err = acpi_parse_rsdp(p, avail, &rsdp);
	if (err) {
		pr_err("acpi: RSDP at 0x%lx is invalid (signature or checksum)",
		       (unsigned long)boot_info.acpi_rsdp_phys);
		return err;
	}

	uint32_t root_len;
	const void *root = acpi_table_at(rsdp.root_phys, rsdp.xsdt ? "XSDT" : "RSDT", &root_len);
	if (!root) {
		pr_err("acpi: %s at 0x%lx is invalid", rsdp.xsdt ? "XSDT" : "RSDT",
		       (unsigned long)rsdp.root_phys);
		return -EINVAL;
	}
	unsigned n = acpi_root_count(root, rsdp.xsdt);
	for (unsigned i = 0; i < n; i++) {
		uint64_t phys = acpi_root_entry(root, rsdp.xsdt, i);
		if (phys)
			record_table(phys);
	}
	parse_known_tables();

	char list[ACPI_MAX_TABLES * 5 + 1];
	size_t o = 0;
	for (unsigned i = 0; i < nr_tables; i++) {
		memcpy(list + o, tables[i].sig, 4);
		list[o + 4] = ' ';
		o += 5;
	}
	list[o ? o - 1 : 0] = 0;
	pr_info("acpi: RSDP rev %u (%s), %s at 0x%lx: %s", rsdp.revision, rsdp.oem,
		rsdp.xsdt ? "XSDT" : "RSDT", (unsigned long)rsdp.root_phys, list);
	if (have_madt)
		pr_info("acpi: MADT: LAPIC at 0x%lx, %u CPU(s), %u IOAPIC(s), %u override(s)%s",
			(unsigned long)madt.lapic_base, madt.nr_lapics, madt.nr_ioapics,
			madt.nr_overrides, madt.flags & ACPI_MADT_PCAT_COMPAT ? ", 8259s present" : "");
	else
		pr_warn("acpi: no MADT");
	return 0;
}

const struct acpi_madt *acpi_get_madt(void)
{
	return have_madt ? &madt : NULL;
}

int acpi_mcfg(uint64_t *base, uint8_t *bus_start, uint8_t *bus_end)
{
	for (unsigned i = 0; i < mcfg.nr; i++) {
		if (mcfg.e[i].segment != 0)
			continue;
		if (base)
			*base = mcfg.e[i].base;
		if (bus_start)
			*bus_start = mcfg.e[i].bus_start;
		if (bus_end)
			*bus_end = mcfg.e[i].bus_end;
		return 0;
	}
	return -ENODEV;
}

uint16_t acpi_pm_timer_port(void)
{
	return fadt.pm_timer_port;
}

unsigned acpi_isa_irq_to_gsi(unsigned irq, unsigned *flags)
{
	return acpi_madt_isa_to_gsi(acpi_get_madt(), irq, flags);
}

/* ---- shell --------------------------------------------------------------- */

static const char *polarity_name(uint16_t inti)
{
	switch (inti & ACPI_INTI_POLARITY_MASK) {
	case ACPI_INTI_POLARITY_HIGH: return "high";
	case ACPI_INTI_POLARITY_LOW: return "low";
	case ACPI_INTI_POLARITY_BUS: return "bus";
	default: return "reserved";
	}
}

static const char *trigger_name(uint16_t inti)
{
	switch (inti & ACPI_INTI_TRIGGER_MASK) {
	case ACPI_INTI_TRIGGER_EDGE: return "edge";
	case ACPI_INTI_TRIGGER_LEVEL: return "level";
	case ACPI_INTI_TRIGGER_BUS: return "bus";
	default: return "reserved";
	}
}

static int cmd_acpi(int argc, char **argv)
{
	if (!rsdp.root_phys) {
		kprintf("no ACPI tables\n");
		return 0;
	}
	kprintf("RSDP rev %u oem '%s' at 0x%lx, %s at 0x%lx\n", rsdp.revision, rsdp.oem,
		(unsigned long)boot_info.acpi_rsdp_phys, rsdp.xsdt ? "XSDT" : "RSDT",
		(unsigned long)rsdp.root_phys);
	for (unsigned i = 0; i < nr_tables; i++)
		kprintf("  %s at 0x%08lx len %5u rev %u %s\n", tables[i].sig,
			(unsigned long)tables[i].phys, tables[i].len, tables[i].revision,
			tables[i].valid ? "ok" : "BAD CHECKSUM/LENGTH");
	if (have_madt) {
		kprintf("MADT: lapic 0x%lx%s flags 0x%x\n", (unsigned long)madt.lapic_base,
			madt.lapic_base_overridden ? " (override)" : "", madt.flags);
		for (unsigned i = 0; i < madt.nr_lapics; i++)
			kprintf("  cpu uid %u apic id %u flags 0x%x\n", madt.lapics[i].uid,
				madt.lapics[i].apic_id, madt.lapics[i].flags);
		for (unsigned i = 0; i < madt.nr_ioapics; i++)
			kprintf("  ioapic id %u at 0x%x gsi base %u\n", madt.ioapics[i].id,
				madt.ioapics[i].address, madt.ioapics[i].gsi_base);
		for (unsigned i = 0; i < madt.nr_overrides; i++) {
			const struct acpi_override *ov = &madt.overrides[i];
			kprintf("  override bus %u irq %u -> gsi %u polarity %s trigger %s\n",
				ov->bus, ov->source, ov->gsi, polarity_name(ov->inti),
				trigger_name(ov->inti));
		}
		for (unsigned i = 0; i < madt.nr_nmi_sources; i++)
			kprintf("  nmi source gsi %u polarity %s trigger %s\n", madt.nmi_sources[i].gsi,
				polarity_name(madt.nmi_sources[i].inti),
				trigger_name(madt.nmi_sources[i].inti));
		for (unsigned i = 0; i < madt.nr_lapic_nmis; i++)
			kprintf("  lapic nmi uid 0x%x lint%u polarity %s trigger %s\n",
				madt.lapic_nmis[i].uid, madt.lapic_nmis[i].lint,
				polarity_name(madt.lapic_nmis[i].inti),
				trigger_name(madt.lapic_nmis[i].inti));
	}
	for (unsigned i = 0; i < mcfg.nr; i++)
		kprintf("MCFG: segment %u buses %u-%u ECAM at 0x%lx\n", mcfg.e[i].segment,
			mcfg.e[i].bus_start, mcfg.e[i].bus_end, (unsigned long)mcfg.e[i].base);
	if (fadt.pm_timer_port)
		kprintf("FADT: PM timer at port 0x%x, %u bits\n", fadt.pm_timer_port,
			fadt.pm_timer_32bit ? 32 : 24);
	return 0;
}
SHELL_CMD("acpi", cmd_acpi, "", "ACPI tables and the parsed MADT, MCFG and FADT");
