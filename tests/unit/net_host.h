/*
 * net_host.h - the whole net/ receive path compiled for the host, with a
 * fake netdev whose xmit records the last frame sent. Used by
 * test_net_parse.c and tests/fuzz/fuzz_frame.c. Include after net_shim.h.
 */
#ifndef TESTS_UNIT_NET_HOST_H
#define TESTS_UNIT_NET_HOST_H

#include "net/checksum.c"
#include "net/netstat.c"
#include "net/iface.c"
#include "net/arp_cache.c"
#include "net/sink.c"
#include "net/eth.c"
#include "net/arp.c"
#include "net/ipv4.c"
#include "net/icmp.c"
#include "net/udp.c"
#include "net/pkt.c"
#include "net/netdev.c"

struct fake_tx {
	uint8_t frame[PKT_BUF_SIZE];
	uint16_t len;
	unsigned long count;
	int fail;           /* xmit returns -EBUSY while set */
};
static struct fake_tx fake_tx;

static int fake_xmit(struct netdev *dev, struct pkt *p)
{
	if (p->len > PKT_BUF_SIZE)
		abort();        /* the stack built a reply beyond its buffer */
	if (fake_tx.fail) {
		pkt_free(p);
		return -EBUSY;
	}
	memcpy(fake_tx.frame, p->data, p->len);
	fake_tx.len = p->len;
	fake_tx.count++;
	pkt_free(p);
	return 0;
}

static const struct netdev_ops fake_ops = { .xmit = fake_xmit };
static struct netdev fake_dev = {
	.name = "fake0",
	.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
	.ops = &fake_ops,
};

/* Pool, device and interface as the kernel would have them after boot. */
static void net_host_setup(void)
{
	if (pkt_pool_init(64) != 0)
		abort();
	if (netdev_register(&fake_dev) != 0)
		abort();
}

/* Hands a copy of frame[0..len) to the stack as a received pkt; returns
 * the verdict it counted. */
static enum net_verdict net_host_rx(const uint8_t *frame, size_t len)
{
	struct net_counters before = net_stats;
	struct pkt *p = pkt_alloc();
	if (!p)
		abort();
	if (len > PKT_BUF_SIZE)
		len = PKT_BUF_SIZE;
	memcpy(p->data, frame, len);
	p->len = (uint16_t)len;
	netif_receive_pkt(&fake_dev, p);
	for (int v = 0; v < NV_NR; v++)
		if (net_stats.verdict[v] != before.verdict[v])
			return (enum net_verdict)v;
	return NV_NR;   /* nothing counted: a bug the callers check for */
}

#endif
