/*
 * pkt.h - packet buffers: fixed 2048-byte buffers from a pool allocated
 * once at boot (net/pkt.c, initcall level 3 "net core", before any driver).
 *
 * Each buffer is physically contiguous and 2048-byte aligned, so a NIC can
 * DMA a whole frame into it (8254x SDM 3.2.2: RCTL.BSIZE=2048 with BSEX=0).
 * RAM is mapped phys == virt in this kernel, so `phys` is simply the
 * address of `data`; drivers put `phys` into descriptors and never compute
 * it themselves.
 *
 * Ownership: a pkt belongs to exactly one party at a time: the pool, a
 * driver ring, or the stack. netif_receive_pkt() and netdev_ops.xmit()
 * take ownership of the pkt passed to them.
 *
 * Context: pkt_alloc()/pkt_free() and the batch forms may run in any
 * context (task, softirq, hard IRQ): the free list is guarded by
 * local_irq_save(), which is enough on our one CPU. They never sleep and
 * never print; an empty pool returns NULL and is counted (alloc_fail).
 */
#ifndef NET_PKT_H
#define NET_PKT_H

#include <stdint.h>
#include <stddef.h>

#define PKT_BUF_SIZE 2048u

struct netdev;

struct pkt {
	void *data;          /* start of the frame; fixed (net/ never moves it) */
	uint16_t len;        /* bytes of frame in data[] (without FCS) */
	uint16_t pool_flags; /* private to pkt.c: catches double free */
	uint32_t index;      /* position in the pool, for debugging */
	uint64_t phys;       /* physical address of data[], for descriptors */
	struct pkt *next;    /* free list / driver chains; owner's to use */
	struct netdev *dev;  /* device it was received on (set by the stack) */
};

/* Pool statistics (read them with interrupts off for a coherent set). */
struct pkt_pool_stats {
	uint32_t total;       /* buffers in the pool */
	uint32_t free;        /* on the free list now */
	uint32_t min_free;    /* low-water mark of `free` */
	uint64_t allocs;
	uint64_t frees;
	uint64_t alloc_fail;  /* pkt_alloc() found the pool empty */
	uint64_t double_free; /* pkt_free() of a pkt already free (ignored) */
};

/*
 * pkt_alloc - take a buffer from the pool; data = buffer start, len = 0.
 * Any context. Returns NULL (and counts alloc_fail) when the pool is empty.
 */
struct pkt *pkt_alloc(void);

/*
 * pkt_alloc_batch - take up to n buffers into out[]; returns how many
 * (0..n). One interrupt-off section for the whole batch: use it to refill
 * a ring. Any context. A shortfall counts alloc_fail once.
 */
unsigned int pkt_alloc_batch(struct pkt **out, unsigned int n);

/* pkt_free - return a buffer to the pool. NULL is ignored. Any context. */
void pkt_free(struct pkt *p);

/* pkt_free_chain - free a list linked through ->next. Any context. */
void pkt_free_chain(struct pkt *head);

/* Snapshot of the pool counters. Any context. */
void pkt_pool_stats(struct pkt_pool_stats *out);

/* Creates the pool of `count` buffers (pkt.c's initcall does this; host
 * tests call it directly). 0 or -ENOMEM. Task context, once. */
int pkt_pool_init(unsigned int count);

/*
 * pkt_pool_reserve - grow the pool, if needed, until at least want_free
 * buffers are free: a driver sizes the pool from its rings this way
 * (`pktpool=` only sets the size the pool starts with). 0, or -ENOMEM if
 * memory ran out (what could be added stays in the pool). Task context.
 */
int pkt_pool_reserve(unsigned int want_free);

#endif
