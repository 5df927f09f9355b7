/*
 * e1000_ring.h - descriptor ring arithmetic, pure and host-testable
 * (tests/unit/test_e1000_ring.c). No hardware access, no kernel headers.
 *
 * A ring is `count` descriptors used circularly. The device and the driver
 * each own a contiguous arc, delimited by two indexes each side keeps:
 *
 *   device:  HEAD (RDH/TDH) - the next descriptor it will use
 *   driver:  TAIL (RDT/TDT) - one past the last descriptor it handed over
 *
 * The device owns [HEAD, TAIL); HEAD == TAIL means "the device owns none"
 * (8254x SDM 3.2.6 and 3.4: "when the head equals the tail the ring is
 * empty"). So the driver can never hand over all `count` descriptors: a
 * tail that caught up with the head would read as empty, not full. One
 * descriptor always stays with the driver, and a ring of N holds at most
 * N - 1 buffers the device may fill (QEMU: e1000_has_rxbufs() is false
 * when RDH == RDT).
 *
 * RX bookkeeping. Every descriptor always carries a buffer (a slot whose
 * frame goes up the stack gets a fresh buffer at once, or keeps its old
 * one when the frame is dropped), so the driver needs two indexes:
 *   ntc   next to clean: the next descriptor whose DD bit it will test;
 *   tail  the RDT value it last wrote.
 * [ntc, tail) is the device's arc (some of it may already hold frames with
 * DD set that the driver has not looked at yet). [tail, ntc - 1) holds the
 * descriptors the driver cleaned and re-armed but has not returned yet:
 * they go back in batches with one RDT write. The slot just before ntc is
 * the one that always stays empty.
 *
 * TX bookkeeping:
 *   ntu   next to use: where xmit puts the next frame (== TDT once kicked);
 *   ntc   next to clean: the oldest frame not yet reclaimed.
 * [ntc, ntu) are in flight; free slots are the rest minus the one kept
 * empty.
 */
#ifndef DRIVERS_E1000_E1000_RING_H
#define DRIVERS_E1000_E1000_RING_H

#include <stdbool.h>

/* Ring sizes we accept: RDLEN/TDLEN must be a multiple of 128 bytes (SDM
 * 13.4.27, 13.4.38), i.e. of 8 16-byte descriptors; the upper bound keeps
 * a ring's buffers a modest share of the packet pool. */
#define E1000_RING_MIN      8u
#define E1000_RING_MAX      4096u
#define E1000_RING_ALIGN    8u
#define E1000_RX_BATCH_MAX  512u

static inline bool ring_size_valid(unsigned count)
{
	return count >= E1000_RING_MIN && count <= E1000_RING_MAX &&
	       count % E1000_RING_ALIGN == 0;
}

static inline unsigned ring_next(unsigned i, unsigned count)
{
	return i + 1 == count ? 0 : i + 1;
}

/* i + n modulo count, for n <= count. */
static inline unsigned ring_add(unsigned i, unsigned n, unsigned count)
{
	i += n;
	return i >= count ? i - count : i;
}

/* Steps forward from `from` to reach `to` (0 .. count - 1). */
static inline unsigned ring_dist(unsigned from, unsigned to, unsigned count)
{
	return to >= from ? to - from : to + count - from;
}

/* RX: cleaned descriptors waiting to be returned to the device. */
static inline unsigned rx_ring_to_return(unsigned ntc, unsigned tail, unsigned count)
{
	/* the returnable arc ends one before ntc: that slot stays empty */
	return ring_dist(tail, ntc == 0 ? count - 1 : ntc - 1, count);
}

/* RX: descriptors the device owns (empty, or filled but not yet cleaned). */
static inline unsigned rx_ring_device_owned(unsigned ntc, unsigned tail, unsigned count)
{
	return ring_dist(ntc, tail, count);
}

/* RX: the tail that returns every cleaned descriptor (one before ntc). */
static inline unsigned rx_ring_full_tail(unsigned ntc, unsigned count)
{
	return ntc == 0 ? count - 1 : ntc - 1;
}

/*
 * RX: how many cleaned descriptors to gather before an RDT write. Each
 * write is a trip into the device model that, under TCG, waits for QEMU's
 * lock while its main loop delivers a batch of up to 50 frames
 * (QEMU-FACTS.md), so writes are batched: a quarter of the ring, at least
 * 1, at most 512 - with 256 descriptors one write per 64 frames, with 2048
 * one per 512, while the device still owns at least three quarters of the
 * ring. Measured at 250k-350k frames/s (64-byte frames): a write waited
 * 35-110 us on average and up to several ms; in batches of 64 (256
 * descriptors) that was 14-25 % of the vCPU's time on a quiet host and
 * over half of it on a busy one, in batches of 512 (2048) 2-8 %.
 */
static inline unsigned rx_ring_batch(unsigned count)
{
	unsigned b = count / 4;
	if (b < 1)
		b = 1;
	if (b > E1000_RX_BATCH_MAX)
		b = E1000_RX_BATCH_MAX;
	return b;
}

/* RX: return now? When a batch has gathered. A smaller remainder waits
 * for the next poll: the device still owns at least count - 1 - batch
 * buffers, so it is never starved by what the driver holds back. */
static inline bool rx_ring_should_return(unsigned to_return, unsigned batch)
{
	return to_return >= batch;
}

/* TX: free slots for new frames (one always stays empty). */
static inline unsigned tx_ring_free(unsigned ntc, unsigned ntu, unsigned count)
{
	return count - 1 - ring_dist(ntc, ntu, count);
}

/* TX: frames handed to the device and not yet reclaimed. */
static inline unsigned tx_ring_in_flight(unsigned ntc, unsigned ntu, unsigned count)
{
	return ring_dist(ntc, ntu, count);
}

#endif
