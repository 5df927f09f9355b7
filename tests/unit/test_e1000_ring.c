/*
 * Host test of drivers/e1000/e1000_ring.h: ring index arithmetic, the slot
 * that always stays empty, RX return batching and TX free-slot counting,
 * then a model of the device filling an RX ring while a budgeted poll
 * cleans it, checking that no frame is lost, duplicated or reordered and
 * that RDT is written once per batch, never leaving the device fewer than
 * count - 1 - batch empty buffers.
 */
#include <string.h>
#include <stdint.h>
#include "check.h"
#include "drivers/e1000/e1000_ring.h"

static void test_sizes(void)
{
	static const struct { unsigned n; bool ok; } t[] = {
		{0, false}, {4, false}, {7, false}, {8, true}, {12, false},
		{16, true}, {256, true}, {4096, true}, {4104, false}, {8192, false},
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(ring_size_valid(t[i].n) == t[i].ok);
}

static void test_index_math(void)
{
	CHECK_EQ_U(ring_next(0, 8), 1);
	CHECK_EQ_U(ring_next(7, 8), 0);                 /* wrap */
	CHECK_EQ_U(ring_add(6, 3, 8), 1);
	CHECK_EQ_U(ring_add(0, 8, 8), 0);
	CHECK_EQ_U(ring_dist(2, 5, 8), 3);
	CHECK_EQ_U(ring_dist(5, 2, 8), 5);              /* across the wrap */
	CHECK_EQ_U(ring_dist(4, 4, 8), 0);
	/* exhaustive: dist(a, add(a, n)) == n for every a, n < count */
	unsigned bad = 0;
	for (unsigned c = 8; c <= 64; c += 8)
		for (unsigned a = 0; a < c; a++)
			for (unsigned n = 0; n < c; n++)
				bad += ring_dist(a, ring_add(a, n, c), c) != n;
	CHECK_EQ_U(bad, 0);
}

static void test_rx_bookkeeping(void)
{
	const unsigned c = 8;
	/* Bring-up: all armed, RDT = count - 1: the device owns 7, not 8. */
	unsigned ntc = 0, tail = rx_ring_full_tail(0, c);
	CHECK_EQ_U(tail, 7);
	CHECK_EQ_U(rx_ring_device_owned(ntc, tail, c), 7);
	CHECK_EQ_U(rx_ring_to_return(ntc, tail, c), 0);
	/* The driver cleaned 3: they wait to be returned. */
	ntc = 3;
	CHECK_EQ_U(rx_ring_to_return(ntc, tail, c), 3);
	CHECK_EQ_U(rx_ring_device_owned(ntc, tail, c), 4);
	/* Returning all of them moves RDT to ntc - 1, never to ntc. */
	tail = rx_ring_full_tail(ntc, c);
	CHECK_EQ_U(tail, 2);
	CHECK_EQ_U(rx_ring_device_owned(ntc, tail, c), 7);
	/* Wrap: ntc = 0 after a full lap. */
	CHECK_EQ_U(rx_ring_full_tail(0, c), 7);
	CHECK_EQ_U(rx_ring_to_return(0, 2, c), 5);
	/* Invariant for every pair: owned + to_return == count - 1. */
	unsigned bad = 0;
	for (unsigned n = 0; n < c; n++)
		for (unsigned t = 0; t < c; t++)
			bad += rx_ring_device_owned(n, t, c) + rx_ring_to_return(n, t, c) != c - 1;
	CHECK_EQ_U(bad, 0);
}

static void test_rx_batch(void)
{
	CHECK_EQ_U(rx_ring_batch(8), 2);
	CHECK_EQ_U(rx_ring_batch(64), 16);
	CHECK_EQ_U(rx_ring_batch(256), 64);
	CHECK_EQ_U(rx_ring_batch(1024), 256);
	CHECK_EQ_U(rx_ring_batch(2048), 512);
	CHECK_EQ_U(rx_ring_batch(4096), 512);      /* capped */
	CHECK(!rx_ring_should_return(0, 32));
	CHECK(!rx_ring_should_return(31, 32));
	CHECK(rx_ring_should_return(32, 32));
	CHECK(rx_ring_should_return(33, 32));
}

static void test_tx_free(void)
{
	const unsigned c = 8;
	CHECK_EQ_U(tx_ring_free(0, 0, c), 7);            /* empty ring: N - 1 usable */
	CHECK_EQ_U(tx_ring_in_flight(0, 0, c), 0);
	CHECK_EQ_U(tx_ring_free(0, 7, c), 0);            /* full with 7 in flight */
	CHECK_EQ_U(tx_ring_in_flight(0, 7, c), 7);
	CHECK_EQ_U(tx_ring_free(5, 4, c), 0);            /* full, wrapped */
	CHECK_EQ_U(tx_ring_free(5, 5, c), 7);
	CHECK_EQ_U(tx_ring_free(6, 1, c), 4);
	unsigned bad = 0;
	for (unsigned a = 0; a < c; a++)
		for (unsigned b = 0; b < c; b++)
			bad += tx_ring_free(a, b, c) + tx_ring_in_flight(a, b, c) != c - 1;
	CHECK_EQ_U(bad, 0);
}

/*
 * A model of QEMU's receive side: the device may fill descriptor HEAD only
 * while HEAD != TAIL; each fill stores a sequence number and sets DD.
 * The driver polls with a budget, checks DD in order, clears it, and
 * returns descriptors in batches. Every frame offered while the ring is
 * full waits in `backlog` (QEMU holds it; nothing is dropped).
 */
struct model {
	unsigned count, head, tail, ntc, batch;
	unsigned dd[64];
	unsigned seq[64];
	unsigned next_seq, expect_seq, backlog;
	unsigned delivered, rdt_writes, lost, misordered;
};

static void dev_fill(struct model *m, unsigned frames)
{
	m->backlog += frames;
	while (m->backlog && m->head != m->tail) {
		m->seq[m->head] = m->next_seq++;
		m->dd[m->head] = 1;
		m->head = ring_next(m->head, m->count);
		m->backlog--;
	}
}

static unsigned drv_poll(struct model *m, unsigned budget)
{
	unsigned work = 0;
	while (work < budget && m->dd[m->ntc]) {
		if (m->seq[m->ntc] != m->expect_seq)
			m->misordered++;
		m->expect_seq = m->seq[m->ntc] + 1;
		m->dd[m->ntc] = 0;
		m->delivered++;
		m->ntc = ring_next(m->ntc, m->count);
		work++;
		if (rx_ring_should_return(rx_ring_to_return(m->ntc, m->tail, m->count), m->batch)) {
			m->tail = rx_ring_full_tail(m->ntc, m->count);
			m->rdt_writes++;
			dev_fill(m, 0);      /* an RDT write lets QEMU resume */
		}
		/* what the driver holds back stays below a batch, so the
		 * device always owns more than count - 1 - batch */
		CHECK(rx_ring_to_return(m->ntc, m->tail, m->count) < m->batch);
		CHECK(rx_ring_device_owned(m->ntc, m->tail, m->count) > m->count - 1 - m->batch);
	}
	return work;
}

static void test_model(unsigned count, unsigned budget, unsigned burst, unsigned rounds)
{
	struct model m;
	memset(&m, 0, sizeof(m));
	m.count = count;
	m.batch = rx_ring_batch(count);
	m.tail = rx_ring_full_tail(0, count);
	unsigned offered = 0;
	for (unsigned r = 0; r < rounds; r++) {
		dev_fill(&m, burst);
		offered += burst;
		/* the device never owns every descriptor */
		CHECK(rx_ring_device_owned(m.ntc, m.tail, count) <= count - 1);
		drv_poll(&m, budget);
	}
	/* drain */
	for (unsigned i = 0; i < 100000 && (m.backlog || m.dd[m.ntc]); i++)
		drv_poll(&m, budget);
	CHECK_EQ_U(m.delivered, offered);
	CHECK_EQ_U(m.misordered, 0);
	CHECK_EQ_U(m.backlog, 0);
	/* batching: far fewer RDT writes than frames once bursts exceed a batch */
	if (burst >= m.batch * 2)
		CHECK(m.rdt_writes * m.batch <= offered + m.batch * rounds);
}

/* Why one slot stays empty: a driver that sets RDT = ntc (returning every
 * descriptor) makes HEAD == TAIL, which the device reads as "no buffers":
 * it stops although the whole ring is free. */
static void test_full_tail_would_stall(void)
{
	struct model m;
	memset(&m, 0, sizeof(m));
	m.count = 8;
	m.tail = 0;                  /* wrong: "all 8 returned" */
	dev_fill(&m, 5);
	CHECK_EQ_U(m.head, 0);       /* nothing stored */
	CHECK_EQ_U(m.backlog, 5);
	m.tail = rx_ring_full_tail(0, 8);   /* right: 7 returned */
	dev_fill(&m, 0);
	CHECK_EQ_U(m.head, 5);
	CHECK_EQ_U(m.backlog, 0);
}

int main(void)
{
	test_sizes();
	test_index_math();
	test_rx_bookkeeping();
	test_rx_batch();
	test_tx_free();
	test_full_tail_would_stall();
	static const unsigned counts[] = {8, 16, 64};
	static const unsigned budgets[] = {1, 8, 64};
	static const unsigned bursts[] = {1, 7, 50, 200};
	for (unsigned c = 0; c < 3; c++)
		for (unsigned b = 0; b < 3; b++)
			for (unsigned u = 0; u < 4; u++)
				test_model(counts[c], budgets[b], bursts[u], 50);
	return check_summary("test_e1000_ring");
}
