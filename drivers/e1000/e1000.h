/*
 * e1000.h - state of one Intel 82540EM / 82574L adapter, shared by the
 * driver's files (not a public API: the stack sees only struct netdev).
 *
 *   e1000_main.c   PCI probe, bring-up (reset, MAC, link, rings, RCTL once),
 *                  command-line keys, shell `e1000`
 *   e1000_rx.c     RX ring: setup, clean (poll body), batched return (RDT)
 *   e1000_tx.c     TX ring: setup, xmit, reclaim
 *   e1000_irq.c    interrupt modes (level, edge, msi, msix), top halves,
 *                  the NAPI poll, no-NAPI mode, the stall watchdog
 *   e1000_stats.c  device statistics registers and STATS_SECTION "e1000"
 *
 * Contexts:
 *   task      probe, mode switches (shell), stats reads
 *   hard IRQ  top halves; the whole RX path in no-NAPI mode; watchdog tick
 *   softirq   e1000_poll (NET_RX), which cleans RX and TX
 * The RX ring is touched by exactly one of "poll" or "no-NAPI handler",
 * never both: a mode switch runs with interrupts off and a poll already
 * scheduled finishes under the new mode's rules. The TX ring is touched
 * from all three contexts and is guarded by local_irq_save().
 */
#ifndef DRIVERS_E1000_E1000_H
#define DRIVERS_E1000_E1000_H

#include <stdint.h>
#include <stdbool.h>
#include "kernel/cpu.h"
#include "drivers/pci/pci.h"
#include "drivers/e1000/e1000_regs.h"
#include "drivers/e1000/e1000_desc.h"
#include "drivers/e1000/e1000_ring.h"
#include "net/netdev.h"
#include "net/napi.h"
#include "net/pkt.h"

enum e1000_model { E1000_82540EM, E1000_82574L };

enum e1000_irq_mode {
	E1000_IRQ_LEVEL,   /* INTx, IOAPIC entry level-triggered (correct) */
	E1000_IRQ_EDGE,    /* INTx, IOAPIC entry edge-triggered (the hazard) */
	E1000_IRQ_MSI,     /* 82574L: one MSI vector for every cause */
	E1000_IRQ_MSIX,    /* 82574L: vectors 0 RX, 1 TX, 2 other (IVAR) */
	E1000_IRQ_NR_MODES
};

/* MSI-X table entries we program (IVAR vector numbers). */
enum { E1000_MSIX_RX, E1000_MSIX_TX, E1000_MSIX_OTHER, E1000_MSIX_NR };

/* Why a received descriptor was not passed up. */
enum e1000_rx_drop {
	E1000_DROP_MULTIDESC,   /* frame spanned descriptors (no EOP) */
	E1000_DROP_ERR_CE,      /* CRC/alignment error */
	E1000_DROP_ERR_SE,      /* symbol error */
	E1000_DROP_ERR_SEQ,     /* sequence error */
	E1000_DROP_ERR_CXE,     /* carrier extension error */
	E1000_DROP_ERR_RXE,     /* RX data error */
	E1000_DROP_BAD_LEN,     /* length 0 or beyond the 2048-byte buffer */
	E1000_DROP_RUNT,        /* shorter than an Ethernet header */
	E1000_DROP_NO_BUF,      /* no fresh buffer to swap in: frame dropped,
				   its buffer re-armed (pool empty) */
	E1000_DROP_NR
};

/* Fresh RX buffers taken from the pool at once (one interrupts-off
 * section in pkt_alloc_batch per this many frames). */
#define E1000_RX_SPARE 32

/* Buckets of the per-poll histogram, the same scheme as net/napi.h:
 * bucket 0 = 0 frames, bucket k = [2^(k-1), 2^k - 1]; polls that used the
 * whole budget are counted in polls_full instead. */
#define E1000_HIST_BUCKETS NAPI_HIST_BUCKETS

struct e1000_rx_ring {
	struct e1000_rx_desc *desc;   /* `count` descriptors, 128-byte aligned */
	uint64_t desc_phys;
	struct pkt **buf;             /* buffer armed in each descriptor */
	unsigned count;
	unsigned ntc;                 /* next descriptor whose DD we test */
	unsigned tail;                /* RDT as last written */
	unsigned cleaned;             /* cleaned since the last RDT write: always
					 rx_ring_to_return(ntc, tail, count) */
	unsigned batch;               /* return cleaned descriptors in these steps */
	unsigned buf_size;            /* RCTL.BSIZE in bytes: 2048 unless rxbsize= */
	bool discarding;              /* inside a multi-descriptor frame */
	struct pkt *spare[E1000_RX_SPARE]; /* fresh buffers, taken from the pool in batches */
	unsigned nspare;
};

struct e1000_tx_ring {
	struct e1000_tx_desc *desc;
	uint64_t desc_phys;
	struct pkt **buf;             /* frame in flight in each slot, or NULL */
	unsigned count;
	unsigned ntu;                 /* next slot xmit fills */
	unsigned ntc;                 /* oldest slot not yet reclaimed */
	unsigned tail;                /* TDT as last written */
};

struct e1000_stats {
	/* interrupts */
	uint64_t irq[E1000_IRQ_NR_MODES];  /* handler entries by mode */
	uint64_t irq_msix[E1000_MSIX_NR];  /* by MSI-X vector */
	uint64_t irq_spurious;             /* ICR read 0: not ours / nothing pending */
	uint64_t cause_rxt0, cause_rxo, cause_rxdmt0, cause_lsc, cause_txdw, cause_other;
	uint64_t irq_rx_packets;           /* frames handled in hard IRQ (no-NAPI) */
	/* polls */
	uint64_t polls, polls_full, poll_packets;
	uint64_t hist[E1000_HIST_BUCKETS];
	uint64_t lat_count, lat_sum_tsc, lat_max_tsc;  /* IRQ -> poll start */
	uint64_t recheck_hits;             /* ring re-check after unmask found work */
	uint64_t ring_hwm;                 /* most filled descriptors seen at once */
	uint64_t ring_full;                /* polls that found every descriptor the
					      device owned filled: QEMU had stopped
					      reading the tap (QEMU-FACTS.md) */
	/* RX */
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_drop[E1000_DROP_NR];
	uint64_t rdt_writes;
	/* TX */
	uint64_t tx_packets, tx_bytes, tx_busy, tx_linkdown, tdt_writes, tx_reclaimed;
	/* watchdog */
	uint64_t wd_checks, wd_stalls, wd_recovered_packets;
	/* register accesses (every er32/ew32) and the time they took: under
	 * TCG each one waits for QEMU's global lock, which the main loop holds
	 * while it delivers a batch of frames (QEMU-FACTS.md) */
	uint64_t mmio_reads, mmio_writes;
	uint64_t mmio_tsc, mmio_max_tsc;
};

/* A device statistics register, accumulated by e1000_stats.c. */
struct e1000_hwstat {
	const char *name;
	uint32_t reg;
	int clear_on_read;     /* -1 not yet known, 0 running counter, 1 clears */
	uint32_t raw;          /* last value read (running counters) */
	uint64_t total;
};
enum { E1000_HW_MPC, E1000_HW_RNBC, E1000_HW_CRCERRS, E1000_HW_GPRC, E1000_HW_TPR,
       E1000_HW_NR };

struct e1000_adapter {
	struct pci_dev *pdev;
	enum e1000_model model;
	const char *model_name;
	volatile uint8_t *hw;             /* BAR0, uncached */
	struct netdev netdev;
	struct napi_struct napi;
	struct e1000_rx_ring rx;
	struct e1000_tx_ring tx;

	/* interrupts */
	enum e1000_irq_mode mode;
	bool napi_on;                     /* false: all RX in the hard IRQ */
	int gsi;                          /* INTx input, -1 if unknown */
	enum pci_gsi_source gsi_source;
	unsigned gsi_flags;               /* IOAPIC_LEVEL | polarity from routing */
	int vec_intx;                     /* INTx and MSI */
	int vec_msix[E1000_MSIX_NR];
	uint32_t ims;                     /* causes we enable in the current mode */
	unsigned itr;                     /* ITR register value, 256 ns units */
	uint64_t irq_tsc;                 /* TSC of the IRQ that scheduled the poll */
	enum { E1000_MASK_NONE, E1000_MASK_IOAPIC, E1000_MASK_DEVICE }
		user_mask;                /* an `e1000 mask` window is open */
	bool tx_defer;                    /* in a poll or RX batch: xmit leaves TDT to e1000_tx_kick */
	bool tx_kick_pending;

	/* watchdog */
	unsigned wd_ms;                   /* stall threshold, 0 = off */
	uint64_t wd_last_irqs;            /* interrupt count at the last check */
	uint64_t wd_since_tsc;            /* first tick that saw frames waiting and no IRQ; 0 = none */
	unsigned wd_ticks;                /* consecutive ticks that saw it */

	/* link and timing */
	bool link_up;
	uint64_t rctl_written_ns;         /* uptime when RCTL (EN) was written */
	uint32_t rctl;

	/* device statistics registers: clear on read (datasheet) or not (QEMU) */
	struct e1000_hwstat hwstat[E1000_HW_NR];

	struct e1000_stats st;
};

/* ---- register access: one accessor pair, every access counted --------- */

/* Charges one register access's duration (TSC cycles) to the stats. Two
 * TSC reads cost far less than the access itself under TCG. */
static inline void mmio_account(struct e1000_adapter *a, uint64_t t0)
{
	uint64_t dt = rdtsc() - t0;
	a->st.mmio_tsc += dt;
	if (dt > a->st.mmio_max_tsc)
		a->st.mmio_max_tsc = dt;
}

/* Any context. Each call is one trip into the device model under TCG. */
static inline uint32_t er32(struct e1000_adapter *a, uint32_t reg)
{
	uint64_t t0 = rdtsc();
	a->st.mmio_reads++;
	uint32_t v = *(volatile uint32_t *)(a->hw + reg);
	mmio_account(a, t0);
	return v;
}

static inline void ew32(struct e1000_adapter *a, uint32_t reg, uint32_t v)
{
	uint64_t t0 = rdtsc();
	a->st.mmio_writes++;
	*(volatile uint32_t *)(a->hw + reg) = v;
	mmio_account(a, t0);
}

/* Forces posted writes out (PCI ordering: a read returns after earlier
 * writes completed). Only needed around reset and mode changes. */
static inline void e1000_flush(struct e1000_adapter *a)
{
	(void)er32(a, E1000_STATUS);
}

/*
 * Orders the driver's stores to descriptors (write-back memory) before the
 * tail-register store (uncached MMIO) that hands them to the device. On
 * x86 stores are not reordered with other stores (SDM vol. 3A 9.2.2), so
 * keeping the compiler from moving them is enough.
 */
#define e1000_wmb() __asm__ volatile("" ::: "memory")
/* Orders the read of a descriptor's status (DD) before reads of its other
 * fields; x86 does not reorder loads with loads (same section). */
#define e1000_rmb() __asm__ volatile("" ::: "memory")

extern struct e1000_adapter *e1000_adapter0;   /* the one bound adapter */
extern const char *const e1000_mode_names[E1000_IRQ_NR_MODES];

/* ---- e1000_rx.c --------------------------------------------------------- */
/* Grows the packet pool to fit both rings (tx_count: the TX ring's size,
 * whose slots hold replies in flight), allocates the RX ring and its
 * buffers, programs RDBAL..RDT (not RCTL). Task context, at probe. 0 or
 * -ENOMEM. */
int e1000_rx_setup(struct e1000_adapter *a, unsigned count, unsigned tx_count);
/* Undoes e1000_rx_setup (the receiver must be off). Task context. */
void e1000_rx_free(struct e1000_adapter *a);
/* Cleans up to `budget` descriptors; returns how many it examined
 * (delivered or dropped). Returns cleaned descriptors to the device a
 * batch at a time (e1000_rx_return: one RDT write per batch). Softirq
 * (poll) or hard IRQ (no-NAPI), never both (see above). */
int e1000_rx_clean(struct e1000_adapter *a, int budget);
void e1000_rx_return(struct e1000_adapter *a);
/* True if the next descriptor holds a frame (DD). Any context; memory only. */
bool e1000_rx_pending(const struct e1000_adapter *a);
/* Descriptors with DD from ntc on (a memory scan, bounded by the ring). */
unsigned e1000_rx_filled(const struct e1000_adapter *a);
/* True if the device has filled every descriptor it owns (the last one
 * before RDT has DD): it receives nothing more until RDT moves. Memory
 * only; any context. */
bool e1000_rx_full(const struct e1000_adapter *a);

/* ---- e1000_tx.c --------------------------------------------------------- */
int e1000_tx_setup(struct e1000_adapter *a, unsigned count);
/* netdev_ops.xmit: softirq, hard IRQ (no-NAPI) or task context. */
int e1000_xmit(struct netdev *dev, struct pkt *pkt);
/* Frees completed frames. Any context (takes local_irq_save). */
unsigned e1000_tx_clean(struct e1000_adapter *a);
/* Writes TDT if xmit deferred it during a poll. Any context. */
void e1000_tx_kick(struct e1000_adapter *a);

/* ---- e1000_irq.c -------------------------------------------------------- */
/* Allocates vectors and installs handlers (once), then enables `mode`.
 * Task context, at probe. 0 or -errno. */
int e1000_irq_setup(struct e1000_adapter *a);
/* Masks the device, stops delivery and frees the vectors (a failed probe).
 * Task context. */
void e1000_irq_teardown(struct e1000_adapter *a);
/* Switches delivery mode at run time; -ENOTSUP if the model cannot
 * (MSI/MSI-X need the 82574L). Task context (shell). */
int e1000_irq_set_mode(struct e1000_adapter *a, enum e1000_irq_mode mode);
int e1000_irq_set_napi(struct e1000_adapter *a, bool on);
void e1000_irq_set_itr(struct e1000_adapter *a, unsigned itr);
/* For experiments: masks the NIC's interrupt for `ms` at the IOAPIC entry
 * (at_ioapic) or at the device (IMC), then unmasks. The watchdog is held
 * off meanwhile. Task context; sleeps (busy-waits with IF=1) for ms.
 * -ENOTSUP (IOAPIC mask in an MSI mode), -ENODEV (no GSI). */
int e1000_irq_mask_window(struct e1000_adapter *a, bool at_ioapic, unsigned ms);
int e1000_parse_mode(const char *s, enum e1000_irq_mode *out);
/* The watchdog's per-tick check (installed as a timer tick hook). */
void e1000_watchdog_tick(void);

/* ---- e1000_stats.c ------------------------------------------------------ */
/* Names the registers and learns nothing yet. Task context, at probe. */
void e1000_stats_init(struct e1000_adapter *a);
/* Reads MPC, RNBC... and accumulates them. Task context (stats, shell). */
void e1000_stats_update(struct e1000_adapter *a);

/* ---- e1000_main.c ------------------------------------------------------- */
/* Re-reads STATUS.LU into a->link_up; returns it. Any context. */
bool e1000_check_link(struct e1000_adapter *a);

#endif
