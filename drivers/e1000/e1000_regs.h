/*
 * e1000_regs.h - registers and bits of the Intel 82540EM and 82574L that
 * this driver uses, and nothing else. No logic here.
 *
 * Sources:
 *   [SDM]  PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 *          Developer's Manual (8254x), rev. 4.0: register summary table
 *          13-2, register descriptions in 13.4, statistics in 13.7,
 *          descriptors in 3.2 / 3.3 (see e1000_desc.h).
 *   [574]  Intel 82574 GbE Controller Family Datasheet: chapter 10
 *          (register descriptions, cited here by register name) and
 *          chapter 7 (interrupts, MSI-X). The common registers sit at the
 *          same offsets as on the 8254x.
 *   Where QEMU 7.2's model (hw/net/e1000.c, e1000e_core.c) departs from the
 *   manuals, the note says "QEMU:" (see also QEMU-FACTS.md).
 *
 * Access legend:  RW read/write   RO read only   WO write only
 *                 RC read to clear   W1C write 1 to clear   SC self clearing
 */
#ifndef DRIVERS_E1000_E1000_REGS_H
#define DRIVERS_E1000_E1000_REGS_H

/* ---- PCI IDs ------------------------------------------------------------ */
#define E1000_VENDOR_INTEL     0x8086
#define E1000_DEV_82540EM      0x100E   /* QEMU -device e1000 */
#define E1000_DEV_82574L       0x10D3   /* QEMU -device e1000e */

/* ---- Device Control, CTRL 0x0000 RW: [SDM] 13.4.1, table 13-3 ---------- */
#define E1000_CTRL             0x0000
#define E1000_CTRL_LRST        (1u << 3)    /* link reset (8254x) */
#define E1000_CTRL_ASDE        (1u << 5)    /* auto-speed detection enable */
#define E1000_CTRL_SLU         (1u << 6)    /* set link up */
#define E1000_CTRL_ILOS        (1u << 7)    /* invert loss-of-signal */
#define E1000_CTRL_FRCSPD      (1u << 11)
#define E1000_CTRL_FRCDPX      (1u << 12)
#define E1000_CTRL_RST         (1u << 26)   /* SC: device reset (QEMU: no-op but RA0) */
#define E1000_CTRL_VME         (1u << 30)   /* VLAN mode enable */
#define E1000_CTRL_PHY_RST     (1u << 31)

/* ---- Device Status, STATUS 0x0008 RO: [SDM] 13.4.2, table 13-5 --------- */
#define E1000_STATUS           0x0008
#define E1000_STATUS_FD        (1u << 0)
#define E1000_STATUS_LU        (1u << 1)    /* link up */
#define E1000_STATUS_SPEED_SHIFT 6
#define E1000_STATUS_SPEED_MASK  (3u << 6)  /* 00 10, 01 100, 1x 1000 Mb/s */

/* ---- EEPROM Read, EERD 0x0014 RW: [SDM] 13.4.4, table 13-7; [574] EERD
 * The field layout differs per model (QEMU-FACTS.md):
 *   82540EM: START bit 0, DONE bit 4, address << 8,  data in 31:16
 *   82574L:  START bit 0, DONE bit 1, address << 2,  data in 31:16 */
#define E1000_EERD             0x0014
#define E1000_EERD_START       (1u << 0)
#define E1000_EERD_DONE_82540  (1u << 4)
#define E1000_EERD_ADDR_SHIFT_82540 8
#define E1000_EERD_DONE_82574  (1u << 1)
#define E1000_EERD_ADDR_SHIFT_82574 2
#define E1000_EERD_DATA_SHIFT  16
/* EEPROM words 0-2 hold the MAC address, low byte first ([SDM] ch. 5,
 * EEPROM address map). */
#define E1000_EEPROM_MAC_WORD0 0

/* ---- Extended Device Control, CTRL_EXT 0x0018 RW: [SDM] 13.4.6; [574] CTRL_EXT */
#define E1000_CTRL_EXT         0x0018
#define E1000_CTRL_EXT_EIAME   (1u << 24)   /* [574] MSI-X: clear IAM bits when a vector fires */
#define E1000_CTRL_EXT_IAME    (1u << 27)   /* [574] interrupt acknowledge auto-mask enable */
#define E1000_CTRL_EXT_PBA_CLR (1u << 31)   /* [574] MSI-X: IMS write clears PBA bits */

/* ---- Interrupt registers: [SDM] 13.4.17-13.4.21, tables 13-63..13-66 ----
 * ICR  0x00C0 RC/W1C  cause read; reading clears it (82540EM; 82574L when
 *                     not in MSI-X mode), writing 1s clears those bits
 * ITR  0x00C4 RW      throttling: minimum gap between interrupts in 256 ns
 *                     units, 0 = off ([SDM] 13.4.18). QEMU: the 82540EM's
 *                     mitigation (on by default) holds at least 500 units
 *                     (128 us) after each rising edge even with ITR = 0;
 *                     the 82574L clamps ITR itself to >= 500.
 * ICS  0x00C8 WO      sets causes (software-raised interrupt)
 * IMS  0x00D0 RW      writing 1s enables those causes
 * IMC  0x00D8 WO      writing 1s disables those causes
 * The INTx line (and an MSI) is asserted while (ICR & IMS) != 0. */
#define E1000_ICR              0x00C0
#define E1000_ITR              0x00C4
#define E1000_ICS              0x00C8
#define E1000_IMS              0x00D0
#define E1000_IMC              0x00D8

#define E1000_ICR_TXDW         (1u << 0)    /* transmit descriptor written back */
#define E1000_ICR_TXQE         (1u << 1)    /* transmit queue empty */
#define E1000_ICR_LSC          (1u << 2)    /* link status change */
#define E1000_ICR_RXDMT0       (1u << 4)    /* receive descriptors below minimum threshold */
#define E1000_ICR_RXO          (1u << 6)    /* receiver overrun */
#define E1000_ICR_RXT0         (1u << 7)    /* receiver timer: a frame was stored */
#define E1000_ICR_MDAC         (1u << 9)    /* MDI/O access complete */
#define E1000_ICR_SRPD         (1u << 16)   /* small receive packet detected */
/* [574] ICR: MSI-X causes (set instead of RXT0/TXDW in MSI-X mode). */
#define E1000_ICR_RXQ0         (1u << 20)
#define E1000_ICR_TXQ0         (1u << 22)
#define E1000_ICR_OTHER        (1u << 24)   /* any of LSC, RXO, MDAC, SRPD... */
#define E1000_ICR_INT_ASSERTED (1u << 31)   /* [574] some enabled cause is pending */
#define E1000_ICR_ALL          0xFFFFFFFFu

/* ---- 82574L MSI-X interrupt steering: [574] EIAC, IAM, IVAR; ch. 7 -----
 * EIAC 0x00DC RW  causes (RXQ0..OTHER) cleared from ICR when their vector
 *                 fires; QEMU also clears them from IMS (auto-mask) unless
 *                 CTRL_EXT.IAME
 * (IAM 0x00E0, auto-mask on ICR access with IAME, is not used)
 * IVAR 0x00E4 RW  4-bit entries: bits 2:0 MSI-X vector, bit 3 valid;
 *                 RXQ0 3:0, RXQ1 7:4, TXQ0 11:8, TXQ1 15:12, OTHER 19:16;
 *                 bit 31 = write back / interrupt on every TX descriptor */
#define E1000_EIAC             0x00DC
#define E1000_IVAR             0x00E4
#define E1000_IVAR_VALID       0x8u
#define E1000_IVAR_RXQ0_SHIFT  0
#define E1000_IVAR_TXQ0_SHIFT  8
#define E1000_IVAR_OTHER_SHIFT 16
/* EITR 0x00E8 + 4n RW: throttling of MSI-X vector n, ITR's format (QEMU
 * clamps it to >= 500 like ITR). */
#define E1000_EITR(n)          (0x00E8 + 4 * (n))

/* ---- Receive Control, RCTL 0x0100 RW: [SDM] 13.4.22, table 13-67 --------
 * QEMU (82540EM): every write arms a 1 s (virtual clock) timer during which
 * nothing is received (set_rx_control -> flush_queue_timer). The driver
 * writes RCTL once at bring-up and records when (e1000.rctl_written_ns). */
#define E1000_RCTL             0x0100
#define E1000_RCTL_EN          (1u << 1)    /* receiver enable */
#define E1000_RCTL_RDMTS_HALF  (0u << 8)    /* RXDMT0 when free descs < 1/2 ring */
#define E1000_RCTL_BAM         (1u << 15)   /* accept broadcast */
#define E1000_RCTL_BSIZE_2048  (0u << 16)   /* with BSEX = 0 */
#define E1000_RCTL_BSIZE_1024  (1u << 16)
#define E1000_RCTL_BSIZE_512   (2u << 16)
#define E1000_RCTL_BSIZE_256   (3u << 16)
#define E1000_RCTL_SECRC       (1u << 26)   /* strip CRC: lengths exclude the FCS */
/* Left 0 on purpose: SBP (store bad packets, bit 2), UPE/MPE (unicast and
 * multicast promiscuous, 3-4), LPE (long packets, 5), LBM (loopback, 7:6),
 * VFE (VLAN filter, 18), BSEX (buffer size x16, 25). */

/* ---- Transmit Control, TCTL 0x0400 RW: [SDM] 13.4.33, table 13-76 ------ */
#define E1000_TCTL             0x0400
#define E1000_TCTL_EN          (1u << 1)
#define E1000_TCTL_PSP         (1u << 3)    /* pad short packets to 64 bytes */
#define E1000_TCTL_CT_SHIFT    4            /* collision threshold */
#define E1000_TCTL_COLD_SHIFT  12           /* collision distance */
#define E1000_TCTL_CT_DEFAULT  0x0Fu        /* [SDM] 14.5: 0x0F */
#define E1000_TCTL_COLD_FD     0x40u        /* [SDM] 14.5: full duplex 0x40 */

/* ---- Transmit IPG, TIPG 0x0410 RW: [SDM] 13.4.34, table 13-77 ---------- */
#define E1000_TIPG             0x0410
#define E1000_TIPG_IPGT_COPPER 10u          /* bits 9:0 */
#define E1000_TIPG_IPGR1       8u           /* bits 19:10 */
#define E1000_TIPG_IPGR2       6u           /* bits 29:20 */
#define E1000_TIPG_IPGR1_SHIFT 10
#define E1000_TIPG_IPGR2_SHIFT 20

/* ---- Receive descriptor ring: [SDM] 13.4.25-13.4.31 ---------------------
 * RDBAL/RDBAH RW  ring base (16-byte aligned; we use a page)
 * RDLEN       RW  ring bytes, a multiple of 128 ([SDM] 13.4.27)
 * RDH         RW  head: next descriptor the device fills (do not rely on
 *                 reading it: [SDM] 13.4.28; we never read it)
 * RDT         RW  tail: one past the last descriptor the driver gave
 * RDTR/RADV   RW  receive delay timers; 0 = interrupt at once */
#define E1000_RDBAL            0x2800
#define E1000_RDBAH            0x2804
#define E1000_RDLEN            0x2808
#define E1000_RDH              0x2810
#define E1000_RDT              0x2818
#define E1000_RDTR             0x2820
#define E1000_RADV             0x282C

/* ---- Transmit descriptor ring: [SDM] 13.4.36-13.4.42 ------------------- */
#define E1000_TDBAL            0x3800
#define E1000_TDBAH            0x3804
#define E1000_TDLEN            0x3808
#define E1000_TDH              0x3810
#define E1000_TDT              0x3818       /* QEMU: a write transmits at once, synchronously */
#define E1000_TIDV             0x3820
#define E1000_TADV             0x382C

/* ---- Receive checksum control, RXCSUM 0x5000 RW: [SDM] table 13-2.
 * We turn offload off so the IPE/TCPE error bits never apply. */
#define E1000_RXCSUM           0x5000

/* ---- 82574L receive filter control, RFCTL 0x5008 RW: [574] RFCTL -------
 * EXTEN (bit 15) = 0 keeps the legacy 16-byte descriptor format. */
#define E1000_RFCTL            0x5008
#define E1000_RFCTL_EXTEN      (1u << 15)

/* ---- Multicast table and receive addresses: [SDM] 13.5 (filters) --------
 * MTA  0x5200-0x53FC  128 dwords of hash filter (we clear it)
 * RAL0 0x5400, RAH0 0x5404: MAC address, RAH bit 31 = address valid. */
#define E1000_MTA              0x5200
#define E1000_MTA_DWORDS       128
#define E1000_RAL0             0x5400
#define E1000_RAH0             0x5404
#define E1000_RAH_AV           (1u << 31)

/* ---- Statistics: [SDM] 13.7 ("all statistics registers are cleared on
 * read"). QEMU 7.2 does NOT clear MPC and RNBC on read (they are plain
 * registers there, saturating at 0xFFFFFFFF): the driver finds out which
 * behaviour it has at run time (e1000_stats.c). */
#define E1000_CRCERRS          0x4000       /* RC: CRC errors */
#define E1000_MPC              0x4010       /* RC: missed packets (no room in the FIFO/ring) */
#define E1000_RNBC             0x40A0       /* RC: receive no buffers */
#define E1000_GPRC             0x4074       /* RC: good packets received */
#define E1000_TPR              0x40D0       /* RC: total packets received */

#endif
