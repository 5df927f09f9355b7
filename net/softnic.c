/*
 * softnic.c - a software network device for testing the NAPI core and the
 * stack without hardware: shell `softnic N [payload]` makes its poll
 * function produce N sequenced UDP datagrams to our sink (port 9), as a
 * NIC's RX ring would, and schedules it the way a driver's interrupt
 * handler does (napi_schedule() with interrupts off). The datagrams then
 * go the real way: NET_RX softirq -> net_rx_action() under budget and time
 * limit -> poll (at most weight per call) -> netif_receive_pkt() -> sink.
 *
 * Its napi is one of those `stats` sums (napi counters), and its frames
 * count in rx_frames and the sink like any others: run `sink reset`
 * first; sequence numbers start at 0 on every run. The device is not
 * registered with netdev_register(), so it never becomes the interface
 * our MAC comes from; frames are addressed to net_if.mac.
 */
#include "net/netdev.h"
#include "net/napi.h"
#include "net/pkt.h"
#include "net/proto.h"
#include "net/iface.h"
#include "net/sink_frame.h"
#include "net/byteorder.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/printk.h"
#include "kernel/irqflags.h"
#include "kernel/preempt.h"
#include "kernel/cpu.h"
#include "kernel/time.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/lib/string.h"

static struct softnic {
	struct netdev dev;
	struct napi_struct napi;
	volatile uint64_t pending;   /* frames still "in the ring" */
	uint64_t next_seq;
	uint64_t alloc_fail;
	uint8_t tmpl[ETH_FRAME_MAX];
	uint16_t len;
	bool added;
} sn;

static int softnic_xmit(struct netdev *dev, struct pkt *p)
{
	pkt_free(p);   /* nowhere to send: replies vanish */
	return 0;
}
static const struct netdev_ops softnic_ops = { .xmit = softnic_xmit };

/* NAPI poll, softirq context: "receive" up to budget frames. */
static int softnic_poll(struct napi_struct *napi, int budget)
{
	int work = 0;
	while (work < budget && sn.pending) {   /* bounded by budget */
		struct pkt *p = pkt_alloc();
		if (!p) {
			sn.alloc_fail++;
			break;
		}
		memcpy(p->data, sn.tmpl, sn.len);
		put_be64((uint8_t *)p->data + SINK_FRAME_HLEN, sn.next_seq++);
		p->len = sn.len;
		netif_receive_pkt(&sn.dev, p);
		sn.pending--;
		work++;
	}
	if (work < budget)
		napi_complete_done(napi, work);   /* no interrupt to unmask */
	return work;
}

/* The frame a host on our subnet would send to the sink, without UDP
 * checksum; softnic_poll() writes each copy's sequence number. */
static void build_template(uint16_t plen)
{
	uint32_t src = (net_if.ip & ~0xffu) | ((net_if.ip + 100) & 0xff);

	sn.len = sink_frame_build(sn.tmpl, &net_if, sn.dev.mac, src, plen);
}

static int cmd_softnic(int argc, char **argv)
{
	unsigned long n, plen = 18;

	if (argc < 2 || argc > 3 || kparam_uint(argv[1], 1, 100000000, &n))
		return -EINVAL;
	if (argc == 3 && kparam_uint(argv[2], 8, SINK_FRAME_PLEN_MAX, &plen))
		return -EINVAL;
	if (!sn.added) {
		strlcpy(sn.dev.name, "soft0", sizeof(sn.dev.name));
		static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x50, 0x01 };
		memcpy(sn.dev.mac, mac, 6);
		sn.dev.ops = &softnic_ops;
		netif_napi_add(&sn.dev, &sn.napi, softnic_poll, 0);
		sn.added = true;
	}
	if (sn.pending) {
		shell_error("softnic: %lu frames of the last run still pending", (unsigned long)sn.pending);
		return 0;
	}
	build_template((uint16_t)plen);

	struct softnet_stats s0 = softnet_stats;
	uint64_t polls0 = sn.napi.polls, full0 = sn.napi.polls_full;
	uint64_t t0 = rdtsc();

	/* As a driver's interrupt would: with interrupts off, schedule. Bottom
	 * halves are off around it so the softirq runs at local_bh_enable(),
	 * in softirq context, not later at some interrupt's exit. */
	sn.next_seq = 0;
	local_bh_disable();
	uint64_t flags = local_irq_save();
	sn.pending = n;
	napi_schedule(&sn.napi);
	local_irq_restore(flags);
	local_bh_enable();

	/* The rest is done by softirq restarts, irq_exit and ksoftirqd. Wait
	 * with hlt (IF=1 here): every interrupt's exit runs pending softirqs,
	 * and the timer tick bounds each sleep. */
	uint64_t deadline = uptime_ns() + 60ull * 1000000000ull;
	while (sn.pending && uptime_ns() < deadline)   /* bounded: 60 s */
		hlt();
	uint64_t dt = rdtsc() - t0;

	uint64_t left = sn.pending;
	uint64_t ns = tsc_to_ns(dt);
	kprintf("softnic: %lu frames of %u bytes in %lu us (%lu frames/s)%s\n",
		n - left, sn.len, ns / 1000, ns ? (unsigned long)((n - left) * 1000000000ull / ns) : 0ul,
		left ? " TIMED OUT" : "");
	kprintf("  polls %lu (full weight %lu), net_rx runs %lu, time_squeeze %lu, pool failures %lu\n",
		sn.napi.polls - polls0, sn.napi.polls_full - full0, softnet_stats.runs - s0.runs,
		softnet_stats.time_squeeze - s0.time_squeeze, sn.alloc_fail);
	if (left) {
		/* Give up: stop feeding so the next run starts clean. */
		flags = local_irq_save();
		sn.pending = 0;
		local_irq_restore(flags);
		return -ETIMEDOUT;
	}
	return 0;
}
SHELL_CMD("softnic", cmd_softnic, "frames [payload]",
	  "feed sequenced datagrams to the sink through a software NIC's NAPI poll");
