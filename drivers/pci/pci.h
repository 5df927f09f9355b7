/*
 * pci.h - the PCI bus: configuration space access, enumeration, BARs,
 * capabilities, MSI/MSI-X programming, INTx routing, and driver binding.
 *
 * Files (one per mechanism):
 *   pci_cfg.c   configuration space access: ECAM (PCIe 4.0 7.2.2, window
 *               from the ACPI MCFG table) or configuration mechanism #1
 *               (ports 0xCF8/0xCFC, PCI Local Bus 3.0 3.2.2.3.2)
 *   pci.c       enumeration, BAR sizing, command bits, capability walk,
 *               driver registration and probing, shell `lspci`
 *   pci_msi.c   MSI and MSI-X capability programming
 *   pci_intx.c  which IOAPIC input (GSI) a device's INTx pin reaches
 *
 * Context: enumeration and driver binding run at boot in task context
 * (INITCALL level 2 for the bus, drivers register at level 4). Config
 * reads and writes may be called from any context except NMI (mechanism #1
 * is a two-step port sequence done with interrupts off). MSI-X mask and
 * unmask (pci_msix_mask) touch only the MMIO table and may run in hard-IRQ
 * context.
 */
#ifndef DRIVERS_PCI_PCI_H
#define DRIVERS_PCI_PCI_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- configuration space header, PCI Local Bus 3.0 6.1, figure 6-1 ---- */
#define PCI_VENDOR_ID        0x00   /* u16; 0xFFFF = no function here */
#define PCI_DEVICE_ID        0x02   /* u16 */
#define PCI_COMMAND          0x04   /* u16, 6.2.2 */
#define PCI_STATUS           0x06   /* u16, 6.2.3 */
#define PCI_REVISION_ID      0x08
#define PCI_PROG_IF          0x09
#define PCI_SUBCLASS         0x0A
#define PCI_CLASS            0x0B
#define PCI_HEADER_TYPE      0x0E   /* bit 7: multi-function */
#define PCI_BAR0             0x10   /* 6.2.5.1: six dwords in a type 0 header */
#define PCI_SECONDARY_BUS    0x19   /* type 1 (bridge) header */
#define PCI_CAP_PTR          0x34   /* valid if STATUS.CAP_LIST */
#define PCI_INTERRUPT_LINE   0x3C   /* written by firmware: legacy IRQ */
#define PCI_INTERRUPT_PIN    0x3D   /* 0 none, 1..4 = INTA#..INTD# */

#define PCI_COMMAND_IO         (1u << 0)
#define PCI_COMMAND_MEMORY     (1u << 1)
#define PCI_COMMAND_MASTER     (1u << 2)   /* bus mastering: DMA and MSI writes */
#define PCI_COMMAND_INTX_DISABLE (1u << 10) /* 6.2.2: INTx# not asserted */

#define PCI_STATUS_INTX        (1u << 3)   /* INTx# would be asserted */
#define PCI_STATUS_CAP_LIST    (1u << 4)

#define PCI_HEADER_TYPE_MASK   0x7F
#define PCI_HEADER_MULTIFN     0x80

/* BAR low bits, 6.2.5.1. */
#define PCI_BAR_IO             0x1
#define PCI_BAR_MEM_TYPE_MASK  0x6
#define PCI_BAR_MEM_TYPE_64    0x4
#define PCI_BAR_MEM_PREFETCH   0x8

/* Capability IDs, PCI Code and ID Assignment 1.11, 2. */
#define PCI_CAP_ID_PM     0x01
#define PCI_CAP_ID_MSI    0x05
#define PCI_CAP_ID_PCIE   0x10
#define PCI_CAP_ID_MSIX   0x11

#define PCI_CFG_SIZE      256    /* what mechanism #1 can reach */
#define PCIE_CFG_SIZE     4096   /* what ECAM can reach */

#define PCI_MAX_DEVICES   64
#define PCI_MAX_BUSES     256

struct pci_bar {
	uint64_t base;        /* bus address (0 if unimplemented) */
	uint64_t size;        /* bytes, from sizing; 0 if unimplemented */
	bool io;              /* I/O space, else memory */
	bool mem64;           /* 64-bit memory BAR (takes the next slot too) */
	bool prefetch;
};

struct pci_driver;

struct pci_dev {
	uint8_t bus, slot, func;
	uint16_t vendor, device;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t header_type;         /* without the multi-function bit */
	uint8_t irq_line;            /* INTERRUPT_LINE as firmware left it */
	uint8_t irq_pin;             /* 0 none, 1 INTA# ... 4 INTD# */
	uint8_t msi_cap, msix_cap;   /* config offsets; 0 = absent */
	uint8_t pcie_cap;
	struct pci_bar bar[6];
	/* MSI-X state (pci_msi.c): the table mapped, and its size. */
	volatile uint32_t *msix_table;
	uint16_t msix_size;
	/* Binding. */
	const struct pci_driver *driver;
	void *drvdata;
};

/* A table of devices a driver handles, ended by an entry with vendor 0. */
struct pci_device_id {
	uint16_t vendor, device;
	uintptr_t driver_data;       /* the driver's own per-model data */
};

struct pci_driver {
	const char *name;
	const struct pci_device_id *id_table;
	/*
	 * probe - bind to dev. Task context, at boot (level 4 initcall, from
	 * pci_register_driver). Returns 0 when the driver took the device,
	 * or -errno after undoing what it did (the device stays unbound).
	 */
	int (*probe)(struct pci_dev *dev, const struct pci_device_id *id);
	struct pci_driver *next;     /* pci.c's list */
};

/* ---- configuration access (pci_cfg.c) ---------------------------------- */

/* Chooses ECAM (from acpi_mcfg) or mechanism #1. Task context, once,
 * before enumeration. Returns the number of buses the chosen method can
 * reach. */
unsigned pci_cfg_init(void);
/* "ecam" or "cf8", for reports. */
const char *pci_cfg_method(void);

/* Raw access by address. `off` must be naturally aligned for the width;
 * offsets >= 256 need ECAM (mechanism #1 reads them as all ones and drops
 * writes). Any context but NMI. */
uint32_t pci_cfg_read32(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off);
uint16_t pci_cfg_read16(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off);
uint8_t pci_cfg_read8(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off);
void pci_cfg_write32(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off, uint32_t v);
void pci_cfg_write16(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off, uint16_t v);
void pci_cfg_write8(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off, uint8_t v);

/* The same on a device. */
static inline uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{ return pci_cfg_read32(d->bus, d->slot, d->func, off); }
static inline uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{ return pci_cfg_read16(d->bus, d->slot, d->func, off); }
static inline uint8_t pci_read8(const struct pci_dev *d, uint16_t off)
{ return pci_cfg_read8(d->bus, d->slot, d->func, off); }
static inline void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v)
{ pci_cfg_write32(d->bus, d->slot, d->func, off, v); }
static inline void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{ pci_cfg_write16(d->bus, d->slot, d->func, off, v); }
static inline void pci_write8(const struct pci_dev *d, uint16_t off, uint8_t v)
{ pci_cfg_write8(d->bus, d->slot, d->func, off, v); }

/* ---- devices and drivers (pci.c) --------------------------------------- */

/* Enumerates the bus (INITCALL level 2). */
int pci_init(void);

unsigned pci_device_count(void);
struct pci_dev *pci_device(unsigned i);          /* NULL past the end */
struct pci_dev *pci_find(uint8_t bus, uint8_t slot, uint8_t func);

/*
 * pci_register_driver - add drv and probe it against every unbound device
 * whose vendor/device appears in its id_table. Task context (a driver's
 * level-4 initcall). Returns the number of devices bound (0 is not an
 * error: the device may simply be absent).
 */
int pci_register_driver(struct pci_driver *drv);

/* Sets and clears COMMAND bits (read-modify-write). Task context. */
void pci_command_update(struct pci_dev *d, uint16_t set, uint16_t clear);
/* Memory decoding and bus mastering on: needed for MMIO and for DMA/MSI. */
void pci_enable_device_mem(struct pci_dev *d);
void pci_set_master(struct pci_dev *d);
/* COMMAND.INTX_DISABLE (PCI 3.0 6.2.2): on = INTx may be asserted. */
void pci_intx(struct pci_dev *d, bool on);

/* Offset of the first capability with `id`, 0 if none. Any context. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id);

/* Maps memory BAR `i` uncached (ioremap) and returns its virtual address,
 * NULL if the BAR is absent, is I/O space, or mapping failed. Task context. */
void *pci_map_bar(struct pci_dev *d, unsigned i);

/* ---- MSI and MSI-X (pci_msi.c) ----------------------------------------- */

/*
 * MSI message for x86 (SDM vol. 3A 11.11.1 and 11.11.2): address
 * 0xFEE00000 | dest APIC ID << 12 (physical destination, no redirection
 * hint), data = vector with fixed delivery and edge trigger (bits 15:8 = 0).
 */
#define MSI_ADDR_BASE      0xFEE00000u
#define MSI_ADDR_DEST_SHIFT 12

/*
 * pci_msi_enable - program the MSI capability for one message (`vector`
 * to the local APIC `apic_id`), set MSI Enable and INTx Disable. Returns 0,
 * -ENODEV if the device has no MSI capability. Task context, with the
 * device's interrupt sources masked (a message can be sent as soon as
 * Enable is set).
 */
int pci_msi_enable(struct pci_dev *d, uint8_t vector, uint8_t apic_id);
/* Clears MSI Enable (INTx stays disabled: pci_intx() decides). */
void pci_msi_disable(struct pci_dev *d);
bool pci_msi_enabled(const struct pci_dev *d);

/*
 * pci_msix_enable - map the MSI-X table (BAR and offset from the
 * capability, PCI 3.0 6.8.2), mask every entry, then set MSI-X Enable with
 * Function Mask cleared and INTx Disable set. Entries stay masked until
 * pci_msix_set_entry() and pci_msix_mask(..., false). Returns the table
 * size, or -ENODEV (no capability), -ENOMEM (mapping failed), -EINVAL
 * (fewer than `nvec` entries). Task context.
 */
int pci_msix_enable(struct pci_dev *d, unsigned nvec);
/* Writes entry `entry`'s address and data (vector, destination); leaves
 * its mask bit as it is. Task context. 0 or -EINVAL. */
int pci_msix_set_entry(struct pci_dev *d, unsigned entry, uint8_t vector, uint8_t apic_id);
/* Sets or clears the Vector Control mask bit of one entry. Any context. */
void pci_msix_mask(struct pci_dev *d, unsigned entry, bool masked);
/* Masks every entry and clears MSI-X Enable. Task context. */
void pci_msix_disable(struct pci_dev *d);
bool pci_msix_enabled(const struct pci_dev *d);

/* ---- INTx routing (pci_intx.c) ----------------------------------------- */

enum pci_gsi_source {
	PCI_GSI_NONE = 0,     /* no INTx pin */
	PCI_GSI_Q35_SWIZZLE,  /* q35/ICH9 fixed PIRQ E-H map, GSI 16-23 */
	PCI_GSI_IRQ_LINE,     /* firmware's Interrupt Line (i440fx/PIIX) */
	PCI_GSI_OVERRIDE,     /* the caller's cmdline override */
};

/*
 * pci_intx_gsi - the IOAPIC input (GSI) that d's INTx pin reaches, how
 * that was found (*source), and the trigger/polarity to program there
 * (*flags: IOAPIC_LEVEL | IOAPIC_ACTIVE_HIGH/LOW, kernel/arch/ioapic.h).
 * Returns the GSI, or -ENODEV if the device has no interrupt pin or no
 * source gives an answer. Task context, after enumeration.
 */
int pci_intx_gsi(const struct pci_dev *d, enum pci_gsi_source *source, unsigned *flags);
const char *pci_gsi_source_name(enum pci_gsi_source s);

#endif
