/*
 * pci_msi.c - Message Signalled Interrupts: the MSI and MSI-X capabilities.
 *
 * A message is a posted memory write the device makes (so it needs bus
 * mastering) of `data` to `address`. On x86 (SDM vol. 3A 11.11.1, 11.11.2)
 * the address 0xFEE0_0000 | dest << 12 reaches the local APIC with
 * physical ID `dest` (RH = 0, DM = 0: physical destination) and the data's
 * low byte is the vector; bits 10:8 = 000 (fixed delivery) and bit 15 = 0
 * (edge) complete it. MSI is always edge: each message is one interrupt,
 * and there is no line that can stay asserted.
 *
 * Layouts, PCI Local Bus 3.0:
 *   MSI   6.8.1: +2 Message Control (bit 0 enable, 3:1 multiple message
 *         capable, 6:4 multiple message enable, 7 64-bit, 8 per-vector
 *         masking), +4 address low, then either +8 data (32-bit) or
 *         +8 address high, +0xC data (64-bit).
 *   MSI-X 6.8.2: +2 Message Control (10:0 table size - 1, 14 function
 *         mask, 15 enable), +4 table offset | BIR (BAR index in 2:0),
 *         +8 PBA offset | BIR. The table is in memory space: 16-byte
 *         entries {addr low, addr high, data, vector control (bit 0 mask)}.
 *
 * Context: enabling/disabling and entry programming at probe time or from
 * the shell (task context) with the device's own interrupt sources masked.
 * pci_msix_mask() is one MMIO write and may run in hard-IRQ context.
 */
#include "drivers/pci/pci.h"
#include "kernel/errno.h"
#include "kernel/printk.h"

#define MSI_FLAGS          2
#define MSI_FLAGS_ENABLE   (1u << 0)
#define MSI_FLAGS_QMASK    (7u << 1)
#define MSI_FLAGS_QSIZE    (7u << 4)
#define MSI_FLAGS_64BIT    (1u << 7)
#define MSI_ADDR_LO        4
#define MSI_ADDR_HI        8
#define MSI_DATA_32        8
#define MSI_DATA_64        12

#define MSIX_FLAGS         2
#define MSIX_FLAGS_QSIZE   0x7FFu
#define MSIX_FLAGS_MASKALL (1u << 14)
#define MSIX_FLAGS_ENABLE  (1u << 15)
#define MSIX_TABLE         4
#define MSIX_BIR_MASK      0x7u

#define MSIX_ENTRY_SIZE    16      /* bytes; offsets below in dwords */
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 1
#define MSIX_ENTRY_DATA    2
#define MSIX_ENTRY_CTRL    3
#define MSIX_ENTRY_MASKBIT 1u

static inline uint32_t msi_address(uint8_t apic_id)
{
	return MSI_ADDR_BASE | (uint32_t)apic_id << MSI_ADDR_DEST_SHIFT;
}

/* Fixed delivery (10:8 = 000), edge (bit 15 = 0): the vector alone. */
static inline uint32_t msi_data(uint8_t vector)
{
	return vector;
}

bool pci_msi_enabled(const struct pci_dev *d)
{
	return d->msi_cap && (pci_read16(d, d->msi_cap + MSI_FLAGS) & MSI_FLAGS_ENABLE);
}

int pci_msi_enable(struct pci_dev *d, uint8_t vector, uint8_t apic_id)
{
	uint8_t cap = d->msi_cap;
	if (!cap)
		return -ENODEV;
	uint16_t ctl = pci_read16(d, cap + MSI_FLAGS);

	/* Program while disabled; one message (Multiple Message Enable = 0). */
	ctl &= (uint16_t)~(MSI_FLAGS_ENABLE | MSI_FLAGS_QSIZE);
	pci_write16(d, cap + MSI_FLAGS, ctl);
	pci_write32(d, cap + MSI_ADDR_LO, msi_address(apic_id));
	if (ctl & MSI_FLAGS_64BIT) {
		pci_write32(d, cap + MSI_ADDR_HI, 0);
		pci_write16(d, cap + MSI_DATA_64, (uint16_t)msi_data(vector));
	} else {
		pci_write16(d, cap + MSI_DATA_32, (uint16_t)msi_data(vector));
	}
	/* INTx off first, so the device never signals both ways at once. */
	pci_intx(d, false);
	pci_set_master(d);
	pci_write16(d, cap + MSI_FLAGS, ctl | MSI_FLAGS_ENABLE);
	return 0;
}

void pci_msi_disable(struct pci_dev *d)
{
	if (!d->msi_cap)
		return;
	uint16_t ctl = pci_read16(d, d->msi_cap + MSI_FLAGS);
	pci_write16(d, d->msi_cap + MSI_FLAGS, ctl & ~MSI_FLAGS_ENABLE);
}

bool pci_msix_enabled(const struct pci_dev *d)
{
	return d->msix_cap && (pci_read16(d, d->msix_cap + MSIX_FLAGS) & MSIX_FLAGS_ENABLE);
}

static volatile uint32_t *msix_entry(struct pci_dev *d, unsigned entry)
{
	return d->msix_table + entry * (MSIX_ENTRY_SIZE / 4);
}

void pci_msix_mask(struct pci_dev *d, unsigned entry, bool masked)
{
	if (!d->msix_table || entry >= d->msix_size)
		return;
	volatile uint32_t *e = msix_entry(d, entry);
	uint32_t ctl = e[MSIX_ENTRY_CTRL];
	ctl = masked ? (ctl | MSIX_ENTRY_MASKBIT) : (ctl & ~MSIX_ENTRY_MASKBIT);
	e[MSIX_ENTRY_CTRL] = ctl;
}

int pci_msix_enable(struct pci_dev *d, unsigned nvec)
{
	uint8_t cap = d->msix_cap;
	if (!cap)
		return -ENODEV;
	uint16_t ctl = pci_read16(d, cap + MSIX_FLAGS);
	unsigned size = (ctl & MSIX_FLAGS_QSIZE) + 1;
	if (nvec > size)
		return -EINVAL;

	if (!d->msix_table) {
		uint32_t tbl = pci_read32(d, cap + MSIX_TABLE);
		unsigned bir = tbl & MSIX_BIR_MASK;
		uint32_t off = tbl & ~MSIX_BIR_MASK;
		if (bir >= 6 || d->bar[bir].io || !d->bar[bir].size)
			return -ENODEV;
		pci_enable_device_mem(d);
		uint8_t *bar = pci_map_bar(d, bir);
		if (!bar)
			return -ENOMEM;
		d->msix_table = (volatile uint32_t *)(bar + off);
		d->msix_size = (uint16_t)size;
	}

	/* Function Mask holds every vector while the entries are set up;
	 * then each entry's own mask bit decides (6.8.2.3). */
	pci_intx(d, false);
	pci_set_master(d);
	pci_write16(d, cap + MSIX_FLAGS, ctl | MSIX_FLAGS_ENABLE | MSIX_FLAGS_MASKALL);
	for (unsigned i = 0; i < size; i++)
		pci_msix_mask(d, i, true);
	pci_write16(d, cap + MSIX_FLAGS,
		    (uint16_t)((ctl | MSIX_FLAGS_ENABLE) & ~MSIX_FLAGS_MASKALL));
	return (int)size;
}

int pci_msix_set_entry(struct pci_dev *d, unsigned entry, uint8_t vector, uint8_t apic_id)
{
	if (!d->msix_table || entry >= d->msix_size)
		return -EINVAL;
	volatile uint32_t *e = msix_entry(d, entry);
	e[MSIX_ENTRY_ADDR_LO] = msi_address(apic_id);
	e[MSIX_ENTRY_ADDR_HI] = 0;
	e[MSIX_ENTRY_DATA] = msi_data(vector);
	return 0;
}

void pci_msix_disable(struct pci_dev *d)
{
	if (!d->msix_cap)
		return;
	for (unsigned i = 0; i < d->msix_size; i++)
		pci_msix_mask(d, i, true);
	uint16_t ctl = pci_read16(d, d->msix_cap + MSIX_FLAGS);
	pci_write16(d, d->msix_cap + MSIX_FLAGS,
		    (uint16_t)(ctl & ~(MSIX_FLAGS_ENABLE | MSIX_FLAGS_MASKALL)));
}
