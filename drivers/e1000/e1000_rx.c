/*
 * e1000_rx.c - the receive ring: set-up, cleaning, batched return.
 *
 * Receive flow (8254x SDM 3.2): the driver gives the device descriptors,
 * each pointing at an empty 2048-byte buffer, by moving RDT past them. The
 * device stores a frame in the buffer of descriptor RDH, writes length,
 * errors and status (DD, EOP) back, and moves RDH on. The driver finds
 * finished descriptors by their DD bit (never by reading RDH: SDM 13.4.28
 * says that is unreliable, and under TCG every register read is a trip
 * into QEMU), takes the frame, re-arms the descriptor and, once per batch,
 * moves RDT forward: register writes per frame ~ 1/batch.
 *
 * Every descriptor always holds a buffer: a frame that goes up the stack
 * is swapped for a fresh buffer from the pool at once; if the pool is
 * empty the frame is dropped (E1000_DROP_NO_BUF) and its buffer re-armed.
 * So the ring can never run dry of buffers while interrupts are masked.
 *
 * Context: e1000_rx_clean() and e1000_rx_return() run in the NAPI poll
 * (softirq) or, in no-NAPI mode, in the hard-IRQ handler - never both (a
 * mode switch happens with interrupts off). Set-up is task context.
 */
#include "drivers/e1000/e1000.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/mm/pmm.h"
#include "kernel/mm/heap.h"
#include "kernel/lib/string.h"

#define ETH_HLEN 14
/* Buffers left in the pool for the stack's own replies when the ring is
 * sized (the ring must not take every buffer). */
#define RX_POOL_RESERVE 64

int e1000_rx_setup(struct e1000_adapter *a, unsigned count, unsigned tx_count)
{
	struct e1000_rx_ring *r = &a->rx;
	struct pkt_pool_stats ps;

	/* Size the pool from the rings: every RX descriptor holds a buffer,
	 * every TX slot may hold a reply in flight, the spare batch, and a
	 * reserve for the stack. `pktpool=` is only where the pool starts. */
	if (pkt_pool_reserve(count + tx_count + E1000_RX_SPARE + RX_POOL_RESERVE))
		pr_warn("e1000: could not grow the packet pool for rxring=%u txring=%u",
			count, tx_count);
	pkt_pool_stats(&ps);
	if (count + RX_POOL_RESERVE > ps.free) {
		unsigned fit = ps.free > RX_POOL_RESERVE ? ps.free - RX_POOL_RESERVE : 0;
		fit -= fit % E1000_RING_ALIGN;
		if (fit < E1000_RING_MIN) {
			pr_err("e1000: RX ring needs %u buffers, the pool has %u free", count, ps.free);
			return -ENOMEM;
		}
		pr_warn("e1000: rxring=%u does not fit the packet pool (%u free): using %u",
			count, ps.free, fit);
		count = fit;
	}

	size_t bytes = (size_t)count * sizeof(struct e1000_rx_desc);
	size_t pages = PAGE_ALIGN_UP(bytes) / PAGE_SIZE;
	/* RDBAL must be 16-byte aligned (SDM 13.4.25); a page is plenty. */
	uint64_t pa = phys_alloc_contig(pages, PAGE_SIZE);
	if (!pa)
		return -ENOMEM;
	r->buf = kzalloc(count * sizeof(*r->buf));
	if (!r->buf) {
		phys_free_contig(pa, pages);
		return -ENOMEM;
	}
	r->desc = phys_to_virt(pa);
	r->desc_phys = pa;
	r->count = count;
	memset(r->desc, 0, bytes);

	for (unsigned got = 0; got < count;) {
		unsigned n = pkt_alloc_batch(r->buf + got, count - got);
		if (!n) {                /* cannot happen after the check above */
			for (unsigned i = 0; i < got; i++)
				pkt_free(r->buf[i]);
			kfree(r->buf);
			phys_free_contig(pa, pages);
			return -ENOMEM;
		}
		got += n;
	}
	for (unsigned i = 0; i < count; i++)
		r->desc[i].addr = r->buf[i]->phys;

	r->ntc = 0;
	r->tail = rx_ring_full_tail(0, count);
	if (!r->buf_size)
		r->buf_size = PKT_BUF_SIZE;
	r->batch = rx_ring_batch(count);
	r->cleaned = 0;
	r->discarding = false;
	r->nspare = 0;

	/* SDM 14.4: base, length (a multiple of 128, 13.4.27), head 0, tail
	 * one before the head so that count - 1 buffers are the device's. */
	ew32(a, E1000_RDBAL, (uint32_t)pa);
	ew32(a, E1000_RDBAH, (uint32_t)(pa >> 32));
	ew32(a, E1000_RDLEN, (uint32_t)bytes);
	ew32(a, E1000_RDH, 0);
	e1000_wmb();
	ew32(a, E1000_RDT, r->tail);
	a->st.rdt_writes++;
	/* No receive delay: the interrupt (or the poll) sees a frame at once;
	 * coalescing is NAPI's and ITR's job here. */
	ew32(a, E1000_RDTR, 0);
	ew32(a, E1000_RADV, 0);
	return 0;
}

void e1000_rx_free(struct e1000_adapter *a)
{
	struct e1000_rx_ring *r = &a->rx;
	size_t pages = PAGE_ALIGN_UP((size_t)r->count * sizeof(struct e1000_rx_desc)) / PAGE_SIZE;

	ew32(a, E1000_RDLEN, 0);
	for (unsigned i = 0; i < r->count; i++)
		pkt_free(r->buf[i]);
	while (r->nspare)
		pkt_free(r->spare[--r->nspare]);
	kfree(r->buf);
	phys_free_contig(r->desc_phys, pages);
	r->buf = NULL;
	r->desc = NULL;
	r->count = 0;
}

/* A fresh buffer for a slot whose frame goes up, or NULL when the pool
 * is empty. Takes buffers from the pool a batch at a time (one
 * interrupts-off section per batch instead of per frame). */
static struct pkt *spare_get(struct e1000_rx_ring *r)
{
	if (!r->nspare)
		r->nspare = pkt_alloc_batch(r->spare, E1000_RX_SPARE);
	return r->nspare ? r->spare[--r->nspare] : NULL;
}

void e1000_rx_return(struct e1000_adapter *a)
{
	struct e1000_rx_ring *r = &a->rx;

	/* r->cleaned counts what rx_ring_to_return() would compute, without
	 * the ring arithmetic on every descriptor. */
	if (!rx_ring_should_return(r->cleaned, r->batch))
		return;
	r->tail = rx_ring_full_tail(r->ntc, r->count);
	r->cleaned = 0;
	e1000_wmb();                     /* re-armed descriptors before RDT */
	ew32(a, E1000_RDT, r->tail);
	a->st.rdt_writes++;
}

bool e1000_rx_pending(const struct e1000_adapter *a)
{
	const struct e1000_rx_ring *r = &a->rx;
	return *(volatile const uint8_t *)&r->desc[r->ntc].status & E1000_RXD_STAT_DD;
}

bool e1000_rx_full(const struct e1000_adapter *a)
{
	const struct e1000_rx_ring *r = &a->rx;
	unsigned last = r->tail == 0 ? r->count - 1 : r->tail - 1;

	return r->ntc != r->tail &&
	       (*(volatile const uint8_t *)&r->desc[last].status & E1000_RXD_STAT_DD);
}

unsigned e1000_rx_filled(const struct e1000_adapter *a)
{
	const struct e1000_rx_ring *r = &a->rx;
	unsigned owned = rx_ring_device_owned(r->ntc, r->tail, r->count);
	unsigned i = r->ntc, n = 0;

	while (n < owned &&          /* bounded by the device's arc */
	       (*(volatile const uint8_t *)&r->desc[i].status & E1000_RXD_STAT_DD)) {
		n++;
		i = ring_next(i, r->count);
	}
	return n;
}

/* The reason to drop the frame in a descriptor with EOP set, or
 * E1000_DROP_NR to deliver it. */
static enum e1000_rx_drop classify(uint8_t errors, uint16_t len, unsigned buf_size)
{
	if (errors & E1000_RXD_ERR_CE)  return E1000_DROP_ERR_CE;
	if (errors & E1000_RXD_ERR_SE)  return E1000_DROP_ERR_SE;
	if (errors & E1000_RXD_ERR_SEQ) return E1000_DROP_ERR_SEQ;
	if (errors & E1000_RXD_ERR_CXE) return E1000_DROP_ERR_CXE;
	if (errors & E1000_RXD_ERR_RXE) return E1000_DROP_ERR_RXE;
	if (len == 0 || len > buf_size)
		return E1000_DROP_BAD_LEN;
	if (len < ETH_HLEN)
		return E1000_DROP_RUNT;
	return E1000_DROP_NR;
}

int e1000_rx_clean(struct e1000_adapter *a, int budget)
{
	struct e1000_rx_ring *r = &a->rx;
	int work = 0;

	/* Bounded by budget (the NAPI weight, or one ring lap in no-NAPI
	 * mode): each pass consumes one descriptor. */
	while (work < budget) {
		struct e1000_rx_desc *d = &r->desc[r->ntc];
		uint8_t status = *(volatile uint8_t *)&d->status;
		if (!(status & E1000_RXD_STAT_DD))
			break;
		e1000_rmb();             /* DD before length, errors */
		uint16_t len = d->length;
		uint8_t errors = d->errors;
		enum e1000_rx_drop why;

		if (!(status & E1000_RXD_STAT_EOP)) {
			/* A frame longer than the buffer: drop it whole,
			 * counting it once at its first descriptor. */
			if (!r->discarding)
				a->st.rx_drop[E1000_DROP_MULTIDESC]++;
			r->discarding = true;
			why = E1000_DROP_MULTIDESC;
		} else if (r->discarding) {
			r->discarding = false;   /* last piece of that frame */
			why = E1000_DROP_MULTIDESC;
		} else {
			why = classify(errors, len, r->buf_size);
			if (why != E1000_DROP_NR)
				a->st.rx_drop[why]++;
		}

		if (why == E1000_DROP_NR) {
			struct pkt *fresh = spare_get(r);
			if (fresh) {
				struct pkt *p = r->buf[r->ntc];
				r->buf[r->ntc] = fresh;
				d->addr = fresh->phys;
				p->len = len;
				a->st.rx_packets++;
				a->st.rx_bytes += len;
				netif_receive_pkt(&a->netdev, p);
			} else {
				a->st.rx_drop[E1000_DROP_NO_BUF]++;
			}
		}
		/* Re-arm: clear the status the device wrote (it sets DD
		 * again when it reuses the descriptor). */
		d->status = 0;
		r->ntc = ring_next(r->ntc, r->count);
		r->cleaned++;
		work++;
		e1000_rx_return(a);
	}
	return work;
}
