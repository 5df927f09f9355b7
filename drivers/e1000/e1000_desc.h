/*
 * e1000_desc.h - legacy receive and transmit descriptors, shared in memory
 * between the driver and the device (little-endian, as x86 is).
 *
 * Sources: 8254x SDM 3.2.3 (receive descriptor, table 3-1; status 3.2.3.1,
 * errors 3.2.3.2) and 3.3.3 (legacy transmit descriptor, table 3-8; command
 * and status fields). The 82574L accepts the same 16-byte legacy formats
 * when RFCTL.EXTEN = 0 and TXD.DEXT = 0.
 *
 * Ownership protocol (both rings): a descriptor belongs to the device from
 * the moment the tail register is moved past it until the device sets DD
 * in its status; then it belongs to the driver. The device writes the
 * descriptor body before the status byte with DD (QEMU: pci_dma_write of
 * the descriptor, then of the status), so a driver that has seen DD may
 * read the other fields. x86 keeps loads in order (SDM vol. 3A 9.2.2), so
 * a compiler barrier between reading status and the rest is enough.
 */
#ifndef DRIVERS_E1000_E1000_DESC_H
#define DRIVERS_E1000_E1000_DESC_H

#include <stdint.h>
#include <stddef.h>

/* ---- receive, SDM 3.2.3, table 3-1 ------------------------------------- */
struct e1000_rx_desc {
	uint64_t addr;       /* buffer physical address (driver writes) */
	uint16_t length;     /* bytes stored in the buffer (device writes) */
	uint16_t csum;       /* packet checksum (unused: offload off) */
	uint8_t status;      /* E1000_RXD_STAT_* */
	uint8_t errors;      /* E1000_RXD_ERR_*, valid when EOP is set */
	uint16_t special;    /* VLAN tag (unused) */
};
_Static_assert(sizeof(struct e1000_rx_desc) == 16, "SDM table 3-1: 16 bytes");
_Static_assert(offsetof(struct e1000_rx_desc, status) == 12, "SDM table 3-1");

/* Status, SDM 3.2.3.1 table 3-2. */
#define E1000_RXD_STAT_DD    (1u << 0)   /* descriptor done */
#define E1000_RXD_STAT_EOP   (1u << 1)   /* last descriptor of a frame */
#define E1000_RXD_STAT_IXSM  (1u << 2)   /* ignore checksum indication */
#define E1000_RXD_STAT_VP    (1u << 3)   /* 802.1Q tagged */

/* Errors, SDM 3.2.3.2 table 3-3. IPE/TCPE only matter with checksum
 * offload, which the driver leaves off; the rest mean the frame is bad. */
#define E1000_RXD_ERR_CE     (1u << 0)   /* CRC or alignment error */
#define E1000_RXD_ERR_SE     (1u << 1)   /* symbol error */
#define E1000_RXD_ERR_SEQ    (1u << 2)   /* sequence error */
#define E1000_RXD_ERR_CXE    (1u << 4)   /* carrier extension error */
#define E1000_RXD_ERR_TCPE   (1u << 5)   /* TCP/UDP checksum error */
#define E1000_RXD_ERR_IPE    (1u << 6)   /* IP checksum error */
#define E1000_RXD_ERR_RXE    (1u << 7)   /* RX data error */
#define E1000_RXD_ERR_FRAME  (E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | \
			      E1000_RXD_ERR_SEQ | E1000_RXD_ERR_CXE | E1000_RXD_ERR_RXE)

/* ---- transmit, legacy format, SDM 3.3.3, table 3-8 --------------------- */
struct e1000_tx_desc {
	uint64_t addr;       /* buffer physical address */
	uint16_t length;     /* bytes to send from this buffer */
	uint8_t cso;         /* checksum offset (unused) */
	uint8_t cmd;         /* E1000_TXD_CMD_* */
	uint8_t status;      /* E1000_TXD_STAT_* (device writes if RS) */
	uint8_t css;         /* checksum start (unused) */
	uint16_t special;
};
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "SDM table 3-8: 16 bytes");
_Static_assert(offsetof(struct e1000_tx_desc, status) == 12, "SDM table 3-8");

/* Command, SDM 3.3.3.1. */
#define E1000_TXD_CMD_EOP    (1u << 0)   /* last descriptor of the frame */
#define E1000_TXD_CMD_IFCS   (1u << 1)   /* insert FCS */
#define E1000_TXD_CMD_RS     (1u << 3)   /* report status: write DD back */
#define E1000_TXD_CMD_DEXT   (1u << 5)   /* extended format: 0 = legacy */
#define E1000_TXD_CMD_IDE    (1u << 7)   /* interrupt delay enable */

/* Status, SDM 3.3.3.2. */
#define E1000_TXD_STAT_DD    (1u << 0)   /* descriptor done */

#endif
