/*
 * e1000_tx.c - the transmit ring: set-up, xmit, reclaim.
 *
 * Transmit flow (8254x SDM 3.3, 3.4): xmit writes a legacy descriptor
 * (buffer address, length, EOP | IFCS | RS) at ntu and moves TDT past it;
 * the device sends the frame and, because RS is set, writes DD back into
 * the descriptor's status. Reclaim frees the buffers of descriptors with
 * DD, oldest first. QEMU transmits synchronously inside the TDT write, so
 * by the time the write returns the frames are gone and DD is set.
 *
 * Batching: frames sent while the NAPI poll runs (the stack's replies to
 * what the poll delivered) only move ntu; the poll writes TDT once at its
 * end (e1000_tx_kick). Elsewhere xmit writes TDT at once.
 *
 * Context: xmit is called from softirq (the poll), hard IRQ (no-NAPI mode)
 * and task context (e.g. the shell), so every ring update runs with
 * interrupts disabled (local_irq_save): on our single CPU nothing else can
 * then touch the ring. No loop here is longer than the ring.
 */
#include "drivers/e1000/e1000.h"
#include "kernel/errno.h"
#include "kernel/irqflags.h"
#include "kernel/mm/pmm.h"
#include "kernel/mm/heap.h"
#include "kernel/lib/string.h"

int e1000_tx_setup(struct e1000_adapter *a, unsigned count)
{
	struct e1000_tx_ring *t = &a->tx;
	size_t bytes = (size_t)count * sizeof(struct e1000_tx_desc);
	size_t pages = PAGE_ALIGN_UP(bytes) / PAGE_SIZE;
	uint64_t pa = phys_alloc_contig(pages, PAGE_SIZE);

	if (!pa)
		return -ENOMEM;
	t->buf = kzalloc(count * sizeof(*t->buf));
	if (!t->buf) {
		phys_free_contig(pa, pages);
		return -ENOMEM;
	}
	t->desc = phys_to_virt(pa);
	t->desc_phys = pa;
	t->count = count;
	memset(t->desc, 0, bytes);
	t->ntu = t->ntc = t->tail = 0;

	/* SDM 14.5: ring base and length, head = tail = 0 (empty). */
	ew32(a, E1000_TDBAL, (uint32_t)pa);
	ew32(a, E1000_TDBAH, (uint32_t)(pa >> 32));
	ew32(a, E1000_TDLEN, (uint32_t)bytes);
	ew32(a, E1000_TDH, 0);
	ew32(a, E1000_TDT, 0);
	ew32(a, E1000_TIDV, 0);
	ew32(a, E1000_TADV, 0);
	/* SDM 13.4.34: IEEE 802.3 inter-packet gap for copper. */
	ew32(a, E1000_TIPG, E1000_TIPG_IPGT_COPPER |
			    E1000_TIPG_IPGR1 << E1000_TIPG_IPGR1_SHIFT |
			    E1000_TIPG_IPGR2 << E1000_TIPG_IPGR2_SHIFT);
	/* SDM 14.5: enable, pad short frames, collision threshold and
	 * full-duplex collision distance. */
	ew32(a, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP |
			    E1000_TCTL_CT_DEFAULT << E1000_TCTL_CT_SHIFT |
			    E1000_TCTL_COLD_FD << E1000_TCTL_COLD_SHIFT);
	return 0;
}

/* Interrupts off. Frees every completed frame, oldest first. */
static unsigned clean_irqoff(struct e1000_adapter *a)
{
	struct e1000_tx_ring *t = &a->tx;
	unsigned n = 0;

	while (t->ntc != t->tail &&      /* bounded: at most the ring */
	       (*(volatile uint8_t *)&t->desc[t->ntc].status & E1000_TXD_STAT_DD)) {
		pkt_free(t->buf[t->ntc]);
		t->buf[t->ntc] = NULL;
		t->ntc = ring_next(t->ntc, t->count);
		n++;
	}
	a->st.tx_reclaimed += n;
	return n;
}

/* Interrupts off. Hands every filled descriptor to the device. */
static void kick_irqoff(struct e1000_adapter *a)
{
	struct e1000_tx_ring *t = &a->tx;

	a->tx_kick_pending = false;
	if (t->tail == t->ntu)
		return;
	e1000_wmb();                     /* descriptors before TDT */
	ew32(a, E1000_TDT, t->ntu);
	t->tail = t->ntu;
	a->st.tdt_writes++;
}

unsigned e1000_tx_clean(struct e1000_adapter *a)
{
	uint64_t f = local_irq_save();
	unsigned n = clean_irqoff(a);
	local_irq_restore(f);
	return n;
}

void e1000_tx_kick(struct e1000_adapter *a)
{
	uint64_t f = local_irq_save();
	if (a->tx_kick_pending)
		kick_irqoff(a);
	local_irq_restore(f);
}

int e1000_xmit(struct netdev *dev, struct pkt *pkt)
{
	struct e1000_adapter *a = dev->priv;
	struct e1000_tx_ring *t = &a->tx;

	if (!a->link_up) {
		a->st.tx_linkdown++;
		pkt_free(pkt);
		return -EIO;
	}
	if (pkt->len == 0 || pkt->len > PKT_BUF_SIZE) {
		pkt_free(pkt);
		return -EINVAL;
	}

	uint64_t f = local_irq_save();
	if (t->ntc != t->tail)
		clean_irqoff(a);
	if (tx_ring_free(t->ntc, t->ntu, t->count) == 0) {
		/* Full of frames not yet kicked (deferred in a poll): send
		 * them now and take back what completed. */
		kick_irqoff(a);
		clean_irqoff(a);
		if (tx_ring_free(t->ntc, t->ntu, t->count) == 0) {
			a->st.tx_busy++;
			local_irq_restore(f);
			pkt_free(pkt);
			return -EBUSY;
		}
	}
	struct e1000_tx_desc *d = &t->desc[t->ntu];
	d->addr = pkt->phys;
	d->length = pkt->len;
	d->cso = 0;
	d->css = 0;
	d->special = 0;
	d->status = 0;
	d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
	t->buf[t->ntu] = pkt;
	t->ntu = ring_next(t->ntu, t->count);
	a->st.tx_packets++;
	a->st.tx_bytes += pkt->len;
	if (a->tx_defer)
		a->tx_kick_pending = true;   /* e1000_poll kicks once at its end */
	else
		kick_irqoff(a);
	local_irq_restore(f);
	return 0;
}
