/*
 * e1000_irq.c - interrupt delivery modes, top halves, the NAPI poll, the
 * no-NAPI mode and the stall watchdog.
 *
 * Modes (irq= on the command line, `e1000 irq <mode>` at run time):
 *   level  INTx through the IOAPIC, level-triggered: the line is a level
 *          ((ICR & IMS) != 0, 8254x SDM 13.4.17) and the IOAPIC re-delivers
 *          after EOI while it stays high. The correct setting for INTx.
 *   edge   the same line with the IOAPIC entry set edge-triggered. Only a
 *          rising edge is seen: if a cause stays pending while the line is
 *          already high (or rises while the entry is masked - QEMU ignores
 *          that edge), no interrupt ever comes again. The watchdog below
 *          notices and recovers. A demonstration of the hazard.
 *   msi    82574L: one MSI vector (edge by nature, one message per new
 *          cause until ICR is read).
 *   msix   82574L: vector 0 RX (RXQ0), 1 TX (TXQ0), 2 other (LSC, RXO...)
 *          through IVAR; EIAC makes the device clear the cause and mask it
 *          (IMS) when the vector fires, so the RX/TX top halves touch no
 *          register at all.
 *
 * NAPI (default): the top half reads ICR once (clears it and drops the
 * line), records the causes, masks everything with IMC, and schedules the
 * poll; the dispatcher then EOIs. The poll (NET_RX softirq) cleans RX up to
 * its budget and reclaims TX; when it ends early it completes, acknowledges
 * the causes the frames it handled left behind (so they do not fire at
 * once), unmasks, and re-checks the ring: a frame that arrived between the
 * poll's last look and the acknowledge raised no interrupt (QEMU-FACTS.md,
 * "NAPI race") and would be stranded.
 *
 * No-NAPI (napi=off): as pre-NAPI drivers did, the hard-IRQ handler itself
 * cleans the RX ring (one lap at most) and leaves the device's interrupts
 * on, so under load interrupts keep coming: receive livelock.
 *
 * Context: top halves in hard IRQ (IF=0); the poll in softirq (IF=1); mode
 * switches in task context, done entirely with interrupts off so that no
 * handler or poll sees a half-switched device; the watchdog in the timer
 * tick (hard IRQ).
 */
#include "drivers/e1000/e1000.h"
#include "kernel/irq.h"
#include "kernel/irqflags.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "kernel/arch/ioapic.h"
#include "kernel/arch/lapic.h"
#include "kernel/lib/string.h"

const char *const e1000_mode_names[E1000_IRQ_NR_MODES] = {
	[E1000_IRQ_LEVEL] = "level",
	[E1000_IRQ_EDGE] = "edge",
	[E1000_IRQ_MSI] = "msi",
	[E1000_IRQ_MSIX] = "msix",
};

/* Causes enabled with INTx and MSI: frames stored (RXT0, and RXDMT0 when
 * the ring runs low), receiver overrun, link change, TX write-back. */
#define IMS_LEGACY (E1000_ICR_RXT0 | E1000_ICR_RXDMT0 | E1000_ICR_RXO | \
		    E1000_ICR_LSC | E1000_ICR_TXDW)
/* MSI-X: the queue causes plus "other" (and the causes that make up other
 * on real hardware). */
#define IMS_MSIX   (E1000_ICR_RXQ0 | E1000_ICR_TXQ0 | E1000_ICR_OTHER | \
		    E1000_ICR_LSC | E1000_ICR_RXO)
#define MSIX_QUEUES (E1000_ICR_RXQ0 | E1000_ICR_TXQ0)
/* Causes the poll deals with, acknowledged before unmasking. */
#define ACK_LEGACY (E1000_ICR_RXT0 | E1000_ICR_RXDMT0 | E1000_ICR_RXO | \
		    E1000_ICR_TXDW | E1000_ICR_TXQE | E1000_ICR_SRPD)
/* Causes QEMU folds into OTHER; writing OTHER to ICR clears them too. */
#define OTHER_CAUSES (E1000_ICR_LSC | E1000_ICR_RXO | E1000_ICR_MDAC | E1000_ICR_SRPD)

#define WD_MS_DEFAULT 50

int e1000_parse_mode(const char *s, enum e1000_irq_mode *out)
{
	for (int m = 0; m < E1000_IRQ_NR_MODES; m++)
		if (!strcmp(s, e1000_mode_names[m])) {
			*out = (enum e1000_irq_mode)m;
			return 0;
		}
	return -EINVAL;
}

/* A poll is coming: scheduled, or deferred (the idle CPU polls the ring
 * and schedules it; net/napi_defer.c). Either way the poll's completion
 * re-enables the interrupts, so nobody else may. */
static inline bool napi_scheduled(const struct e1000_adapter *a)
{
	return a->napi.state & (1ul << NAPI_STATE_SCHED | 1ul << NAPI_STATE_DEFERRED);
}

/* The mask that stops the RX/TX interrupts of the current mode. */
static inline uint32_t queue_mask(const struct e1000_adapter *a)
{
	return a->mode == E1000_IRQ_MSIX ? MSIX_QUEUES : ~0u;
}

static void count_causes(struct e1000_adapter *a, uint32_t icr)
{
	if (icr & E1000_ICR_RXT0)   a->st.cause_rxt0++;
	if (icr & E1000_ICR_RXO)    a->st.cause_rxo++;
	if (icr & E1000_ICR_RXDMT0) a->st.cause_rxdmt0++;
	if (icr & E1000_ICR_LSC)    a->st.cause_lsc++;
	if (icr & E1000_ICR_TXDW)   a->st.cause_txdw++;
	if (icr & ~(E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0 | E1000_ICR_LSC |
		    E1000_ICR_TXDW | E1000_ICR_INT_ASSERTED))
		a->st.cause_other++;
}

/* Stamps the TSC of the interrupt that schedules the poll (for the
 * IRQ-to-poll latency), then schedules it. IF=0. */
static void schedule_poll(struct e1000_adapter *a, uint64_t now)
{
	if (!a->irq_tsc)
		a->irq_tsc = now;
	if (!a->napi.sched_tsc)
		a->napi.sched_tsc = now;
	napi_schedule(&a->napi);
}

/* No-NAPI: the whole receive path in hard-IRQ context. One lap of the
 * ring at most per call, so a single interrupt cannot run forever; the
 * device's interrupts stay enabled and the next frame interrupts again. */
static void rx_in_irq(struct e1000_adapter *a)
{
	a->tx_defer = true;              /* one TDT write for all replies */
	int n = e1000_rx_clean(a, (int)a->rx.count);
	a->tx_defer = false;
	e1000_tx_clean(a);
	e1000_tx_kick(a);
	a->st.irq_rx_packets += (unsigned)n;
}

/* ---- top halves --------------------------------------------------------- */

/* INTx (level or edge) and MSI. Hard IRQ. */
static void e1000_intr(struct trap_frame *tf, void *ctx)
{
	struct e1000_adapter *a = ctx;
	uint64_t now = rdtsc();
	/* One read: returns the causes and clears them, which also drops
	 * the INTx line (and ends QEMU's MSI coalescing window). */
	uint32_t icr = er32(a, E1000_ICR);

	if (!(icr & ~E1000_ICR_INT_ASSERTED)) {
		a->st.irq_spurious++;    /* not ours, or already handled */
		return;
	}
	a->st.irq[a->mode]++;
	count_causes(a, icr);
	if (icr & E1000_ICR_LSC)
		e1000_check_link(a);
	if (a->napi_on) {
		ew32(a, E1000_IMC, ~0u); /* quiet until the poll completes */
		schedule_poll(a, now);
	} else {
		rx_in_irq(a);
	}
}

/* MSI-X vector 0: RXQ0. The device already cleared RXQ0 from ICR and IMS
 * (EIAC, CTRL_EXT.IAME = 0): no register access needed. Hard IRQ. */
static void e1000_msix_rx(struct trap_frame *tf, void *ctx)
{
	struct e1000_adapter *a = ctx;
	a->st.irq[E1000_IRQ_MSIX]++;
	a->st.irq_msix[E1000_MSIX_RX]++;
	if (a->napi_on) {
		schedule_poll(a, rdtsc());
	} else {
		rx_in_irq(a);
		ew32(a, E1000_IMS, E1000_ICR_RXQ0);
	}
}

/* MSI-X vector 1: TXQ0 (auto-masked like RXQ0). The poll reclaims. */
static void e1000_msix_tx(struct trap_frame *tf, void *ctx)
{
	struct e1000_adapter *a = ctx;
	a->st.irq[E1000_IRQ_MSIX]++;
	a->st.irq_msix[E1000_MSIX_TX]++;
	a->st.cause_txdw++;
	if (a->napi_on) {
		schedule_poll(a, rdtsc());
	} else {
		e1000_tx_clean(a);
		ew32(a, E1000_IMS, E1000_ICR_TXQ0);
	}
}

/* MSI-X vector 2: other causes. In MSI-X mode reading ICR does not clear
 * it, so the handled causes are written back (writing OTHER clears the
 * causes it stands for), then OTHER is unmasked again. Hard IRQ. */
static void e1000_msix_other(struct trap_frame *tf, void *ctx)
{
	struct e1000_adapter *a = ctx;
	uint32_t icr = er32(a, E1000_ICR);

	a->st.irq[E1000_IRQ_MSIX]++;
	a->st.irq_msix[E1000_MSIX_OTHER]++;
	count_causes(a, icr & OTHER_CAUSES);
	if (icr & E1000_ICR_LSC)
		e1000_check_link(a);
	ew32(a, E1000_ICR, (icr & OTHER_CAUSES) | E1000_ICR_OTHER);
	ew32(a, E1000_IMS, E1000_ICR_OTHER);
}

/* ---- the poll ----------------------------------------------------------- */

/* After napi_complete_done() said so: acknowledge, unmask, re-check.
 * Softirq context; the three steps run with interrupts off so that our own
 * top half cannot interleave with them. */
static void reenable_after_poll(struct e1000_adapter *a)
{
	if (a->user_mask == E1000_MASK_DEVICE)
		return;              /* `e1000 mask device` unmasks at its end */
	uint64_t f = local_irq_save();
	/* IMS gets the whole mode's set: a stray INTx interrupt after a mode
	 * switch may have masked "other" with IMC too. */
	ew32(a, E1000_ICR, a->mode == E1000_IRQ_MSIX ? MSIX_QUEUES : ACK_LEGACY);
	ew32(a, E1000_IMS, a->ims);
	/* A frame stored after the poll's last look and before the
	 * acknowledge left no cause behind: look once more. */
	if (e1000_rx_pending(a)) {
		a->st.recheck_hits++;
		ew32(a, E1000_IMC, queue_mask(a));
		schedule_poll(a, rdtsc());
	}
	local_irq_restore(f);
}

static unsigned hist_bucket(int n)
{
	unsigned b = 0;
	while (n > 0 && b < E1000_HIST_BUCKETS - 1) {   /* <= 14 steps */
		n >>= 1;
		b++;
	}
	return b;
}

/* napi->poll. Softirq context (NET_RX), IF=1. */
static int e1000_poll(struct napi_struct *napi, int budget)
{
	struct e1000_adapter *a = (struct e1000_adapter *)
		((char *)napi - __builtin_offsetof(struct e1000_adapter, napi));

	if (!a->napi_on) {
		/* Scheduled before a switch to no-NAPI: the hard IRQ owns the
		 * ring now. Complete without touching it. */
		napi_complete_done(napi, 0);
		return 0;
	}
	uint64_t start = rdtsc();
	if (a->irq_tsc) {
		uint64_t lat = start - a->irq_tsc;
		a->st.lat_count++;
		a->st.lat_sum_tsc += lat;
		if (lat > a->st.lat_max_tsc)
			a->st.lat_max_tsc = lat;
		a->irq_tsc = 0;
	}
	a->st.polls++;
	if (e1000_rx_full(a))
		a->st.ring_full++;

	e1000_tx_clean(a);
	a->tx_defer = true;
	int work = e1000_rx_clean(a, budget);
	a->tx_defer = false;
	e1000_tx_kick(a);

	a->st.poll_packets += (unsigned)work;
	if (work >= budget) {
		/* A backlog: estimate the occupancy this poll found as what it
		 * took plus what still waits. The scan reads up to a ring of
		 * descriptors the device wrote, so it runs on every 16th full
		 * poll only; a backlog that lasts is seen all the same. */
		if ((a->st.polls_full++ & 15) == 0) {
			unsigned occ = (unsigned)work + e1000_rx_filled(a);
			if (occ > a->rx.count - 1)   /* refilled meanwhile */
				occ = a->rx.count - 1;
			if (occ > a->st.ring_hwm)
				a->st.ring_hwm = occ;
		}
		return work;         /* stay scheduled, interrupts stay masked */
	}
	a->st.hist[hist_bucket(work)]++;
	if ((unsigned)work > a->st.ring_hwm)
		a->st.ring_hwm = (unsigned)work;
	if (napi_complete_done(napi, work))
		reenable_after_poll(a);
	return work;
}

/* napi->idle_pending for interrupt deferral: a frame waits at the head of
 * the ring (memory only). False in no-NAPI mode, where the hard IRQ owns
 * the ring. Any context. */
static bool e1000_idle_pending(struct napi_struct *napi)
{
	const struct e1000_adapter *a = (const struct e1000_adapter *)
		((const char *)napi - __builtin_offsetof(struct e1000_adapter, napi));
	return a->napi_on && e1000_rx_pending(a);
}

/* ---- watchdog ------------------------------------------------------------ */

static uint64_t irq_total(const struct e1000_adapter *a)
{
	uint64_t n = a->st.irq_spurious;
	for (int m = 0; m < E1000_IRQ_NR_MODES; m++)
		n += a->st.irq[m];
	return n;
}

/* The vector a frame's interrupt arrives on in the current mode. */
static int rx_vector(const struct e1000_adapter *a)
{
	return a->mode == E1000_IRQ_MSIX ? a->vec_msix[E1000_MSIX_RX] : a->vec_intx;
}

/*
 * Timer tick hook (hard IRQ, IF=0). A frame waiting at the head of the
 * ring with no poll scheduled and no interrupt for wd_ms is a stall: in
 * `edge` mode the line can stay high with no new edge. Recovery: schedule
 * the poll (its completion acknowledges the causes, which drops the line,
 * so the next cause makes a fresh edge), or in no-NAPI mode clear ICR and
 * clean here, in the hard-IRQ context that mode uses.
 *
 * Not a stall: an interrupt that has arrived but waits in the local APIC
 * behind this tick (IRR set: the timer's vector has the higher priority),
 * e.g. after the host did not run our vCPU for a while. So the check also
 * wants WD_MIN_TICKS consecutive ticks that saw the same stall, and an IRR
 * bit clear on the NIC's vector.
 */
#define WD_MIN_TICKS 3

void e1000_watchdog_tick(void)
{
	struct e1000_adapter *a = e1000_adapter0;
	if (!a || !a->wd_ms || a->user_mask != E1000_MASK_NONE)
		return;
	a->st.wd_checks++;
	uint64_t irqs = irq_total(a);
	if (irqs != a->wd_last_irqs || napi_scheduled(a) || !e1000_rx_pending(a) ||
	    lapic_irr_test((unsigned)rx_vector(a))) {
		a->wd_last_irqs = irqs;
		a->wd_since_tsc = 0;
		a->wd_ticks = 0;
		return;
	}
	uint64_t now = rdtsc();
	if (!a->wd_since_tsc)
		a->wd_since_tsc = now;
	if (++a->wd_ticks < WD_MIN_TICKS ||
	    tsc_to_ns(now - a->wd_since_tsc) < (uint64_t)a->wd_ms * 1000000u)
		return;
	a->wd_ticks = 0;
	a->st.wd_stalls++;
	a->wd_since_tsc = 0;
	a->st.wd_recovered_packets += e1000_rx_filled(a);
	if (a->napi_on) {
		ew32(a, E1000_IMC, queue_mask(a));
		schedule_poll(a, now);
	} else {
		if (a->mode != E1000_IRQ_MSIX)
			(void)er32(a, E1000_ICR);
		rx_in_irq(a);
		if (a->mode == E1000_IRQ_MSIX)
			ew32(a, E1000_IMS, MSIX_QUEUES);
	}
}

/* ---- mode switching ------------------------------------------------------ */

/* IF=0. Stops the current mode's delivery and leaves every cause masked
 * and clear. */
static void mode_stop_irqoff(struct e1000_adapter *a)
{
	ew32(a, E1000_IMC, ~0u);
	switch (a->mode) {
	case E1000_IRQ_LEVEL:
	case E1000_IRQ_EDGE:
		if (a->gsi >= 0)
			ioapic_mask_gsi((unsigned)a->gsi);
		break;
	case E1000_IRQ_MSI:
		pci_msi_disable(a->pdev);
		break;
	case E1000_IRQ_MSIX:
		pci_msix_disable(a->pdev);
		ew32(a, E1000_EIAC, 0);
		ew32(a, E1000_IVAR, 0);
		break;
	default:
		break;
	}
	ew32(a, E1000_ICR, E1000_ICR_ALL);
}

/* IF=0. Programs `mode`'s delivery path; causes stay masked. */
static int mode_start_irqoff(struct e1000_adapter *a, enum e1000_irq_mode mode)
{
	int err = 0;

	switch (mode) {
	case E1000_IRQ_LEVEL:
	case E1000_IRQ_EDGE: {
		unsigned trig = mode == E1000_IRQ_LEVEL ? IOAPIC_LEVEL : IOAPIC_EDGE;
		pci_intx(a->pdev, true);
		err = ioapic_route_gsi((unsigned)a->gsi, (unsigned)a->vec_intx,
				       trig | (a->gsi_flags & IOAPIC_ACTIVE_LOW));
		a->ims = IMS_LEGACY;
		break;
	}
	case E1000_IRQ_MSI:
		err = pci_msi_enable(a->pdev, (uint8_t)a->vec_intx, (uint8_t)lapic_id());
		a->ims = IMS_LEGACY;
		break;
	case E1000_IRQ_MSIX: {
		int n = pci_msix_enable(a->pdev, E1000_MSIX_NR);
		if (n < 0) {
			err = n;
			break;
		}
		for (unsigned i = 0; i < E1000_MSIX_NR; i++) {
			pci_msix_set_entry(a->pdev, i, (uint8_t)a->vec_msix[i], (uint8_t)lapic_id());
			pci_msix_mask(a->pdev, i, false);
		}
		/* Steering: RXQ0 -> vector 0, TXQ0 -> 1, other -> 2. */
		ew32(a, E1000_IVAR,
		     (E1000_IVAR_VALID | E1000_MSIX_RX) << E1000_IVAR_RXQ0_SHIFT |
		     (E1000_IVAR_VALID | E1000_MSIX_TX) << E1000_IVAR_TXQ0_SHIFT |
		     (E1000_IVAR_VALID | E1000_MSIX_OTHER) << E1000_IVAR_OTHER_SHIFT);
		/* Auto-clear (and, with IAME off, auto-mask) on firing. */
		ew32(a, E1000_EIAC, MSIX_QUEUES | E1000_ICR_OTHER);
		ew32(a, E1000_CTRL_EXT, er32(a, E1000_CTRL_EXT) &
		     ~(E1000_CTRL_EXT_IAME | E1000_CTRL_EXT_EIAME | E1000_CTRL_EXT_PBA_CLR));
		for (unsigned i = 0; i < E1000_MSIX_NR; i++)
			ew32(a, E1000_EITR(i), a->itr);
		a->ims = IMS_MSIX;
		break;
	}
	default:
		err = -EINVAL;
	}
	return err;
}

/* IF=0. Unmasks the device unless a poll is pending (its completion will),
 * and makes sure frames already in the ring get handled. */
static void unmask_and_kick_irqoff(struct e1000_adapter *a)
{
	if (a->user_mask == E1000_MASK_DEVICE)
		return;
	if (a->napi_on) {
		if (napi_scheduled(a))
			return;
		if (e1000_rx_pending(a)) {
			schedule_poll(a, rdtsc());
			return;
		}
		ew32(a, E1000_IMS, a->ims);
		return;
	}
	ew32(a, E1000_IMS, a->ims);
	if (e1000_rx_pending(a))         /* let the hard IRQ take them */
		ew32(a, E1000_ICS, a->mode == E1000_IRQ_MSIX ? E1000_ICR_RXQ0 : E1000_ICR_RXT0);
}

int e1000_irq_set_mode(struct e1000_adapter *a, enum e1000_irq_mode mode)
{
	if (mode >= E1000_IRQ_NR_MODES)
		return -EINVAL;
	if ((mode == E1000_IRQ_MSI || mode == E1000_IRQ_MSIX) && a->model != E1000_82574L)
		return -ENOTSUP;
	if ((mode == E1000_IRQ_MSI && !a->pdev->msi_cap) ||
	    (mode == E1000_IRQ_MSIX && !a->pdev->msix_cap))
		return -ENOTSUP;
	if ((mode == E1000_IRQ_LEVEL || mode == E1000_IRQ_EDGE) && a->gsi < 0)
		return -ENODEV;

	uint64_t f = local_irq_save();
	enum e1000_irq_mode old = a->mode;
	mode_stop_irqoff(a);
	int err = mode_start_irqoff(a, mode);
	if (err) {
		/* Undo whatever part of `mode` started, go back to `old`. */
		a->mode = mode;
		mode_stop_irqoff(a);
		mode = old;
		if ((old != E1000_IRQ_LEVEL && old != E1000_IRQ_EDGE) || a->gsi >= 0)
			mode_start_irqoff(a, old);
	}
	a->mode = mode;
	ew32(a, E1000_ITR, a->itr);
	unmask_and_kick_irqoff(a);
	local_irq_restore(f);
	return err;
}

int e1000_irq_set_napi(struct e1000_adapter *a, bool on)
{
	uint64_t f = local_irq_save();
	ew32(a, E1000_IMC, ~0u);
	a->napi_on = on;
	unmask_and_kick_irqoff(a);
	local_irq_restore(f);
	return 0;
}

int e1000_irq_mask_window(struct e1000_adapter *a, bool at_ioapic, unsigned ms)
{
	if (a->user_mask != E1000_MASK_NONE)
		return -EBUSY;
	if (at_ioapic && (a->mode == E1000_IRQ_MSI || a->mode == E1000_IRQ_MSIX))
		return -ENOTSUP;
	if (at_ioapic && a->gsi < 0)
		return -ENODEV;

	uint64_t f = local_irq_save();
	a->user_mask = at_ioapic ? E1000_MASK_IOAPIC : E1000_MASK_DEVICE;
	if (at_ioapic)
		ioapic_mask_gsi((unsigned)a->gsi);
	else
		ew32(a, E1000_IMC, ~0u);
	local_irq_restore(f);

	/* Frames keep arriving; a poll already scheduled still runs (and, for
	 * the device mask, leaves the causes masked at its end). */
	udelay((uint64_t)ms * 1000);

	f = local_irq_save();
	a->user_mask = E1000_MASK_NONE;
	if (at_ioapic)
		ioapic_unmask_gsi((unsigned)a->gsi);   /* level: delivered now; edge: lost */
	else
		unmask_and_kick_irqoff(a);
	a->wd_since_tsc = 0;
	a->wd_ticks = 0;
	local_irq_restore(f);
	return 0;
}

void e1000_irq_set_itr(struct e1000_adapter *a, unsigned itr)
{
	a->itr = itr & 0xFFFF;
	ew32(a, E1000_ITR, a->itr);
	if (a->model == E1000_82574L)
		for (unsigned i = 0; i < E1000_MSIX_NR; i++)
			ew32(a, E1000_EITR(i), a->itr);
}

/* ---- set-up --------------------------------------------------------------- */

void e1000_irq_teardown(struct e1000_adapter *a)
{
	uint64_t f = local_irq_save();
	mode_stop_irqoff(a);
	a->wd_ms = 0;
	local_irq_restore(f);
	if (a->vec_intx >= 0)
		irq_free((unsigned)a->vec_intx);
	for (unsigned i = 0; i < E1000_MSIX_NR; i++)
		if (a->vec_msix[i] >= 0)
			irq_free((unsigned)a->vec_msix[i]);
	a->vec_intx = -1;
	for (unsigned i = 0; i < E1000_MSIX_NR; i++)
		a->vec_msix[i] = -1;
}

int e1000_irq_setup(struct e1000_adapter *a)
{
	int v, err;

	netif_napi_add(&a->netdev, &a->napi, e1000_poll, 0);
	napi_defer_enable(&a->napi, e1000_idle_pending);
	a->wd_ms = WD_MS_DEFAULT;
	a->vec_intx = -1;
	for (unsigned i = 0; i < E1000_MSIX_NR; i++)
		a->vec_msix[i] = -1;

	/* Each vector is recorded as soon as it is reserved, so that
	 * e1000_irq_teardown() frees it whatever fails next. */
	v = irq_alloc_vector();
	if (v < 0)
		return v;
	a->vec_intx = v;
	err = irq_request((unsigned)v, e1000_intr, a, "e1000");
	if (err)
		return err;

	if (a->model == E1000_82574L && a->pdev->msix_cap) {
		static const irq_handler_t h[E1000_MSIX_NR] = {
			e1000_msix_rx, e1000_msix_tx, e1000_msix_other };
		static const char *const names[E1000_MSIX_NR] = {
			"e1000-rx", "e1000-tx", "e1000-other" };
		for (unsigned i = 0; i < E1000_MSIX_NR; i++) {
			v = irq_alloc_vector();
			if (v < 0)
				return v;
			a->vec_msix[i] = v;
			err = irq_request((unsigned)v, h[i], a, names[i]);
			if (err)
				return err;
		}
	}

	err = timer_add_tick_hook(e1000_watchdog_tick);
	if (err)
		pr_warn("e1000: no tick hook for the watchdog (%d): stalls will not be noticed", err);

	enum e1000_irq_mode want = a->mode;
	a->mode = E1000_IRQ_LEVEL;       /* "current" for the first stop */
	err = e1000_irq_set_mode(a, want);
	if (err && want != E1000_IRQ_LEVEL) {
		pr_warn("e1000: irq=%s not possible on the %s (%s): using level",
			e1000_mode_names[want], a->model_name, strerror(err));
		err = e1000_irq_set_mode(a, E1000_IRQ_LEVEL);
	}
	return err;
}
