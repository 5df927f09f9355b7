/*
 * netdev.c - the device registry and the boundary between drivers and the
 * stack: netif_receive_pkt() runs the pure receive path (net_rx_frame) on
 * a frame, counts its verdict, and does the I/O the verdict asks for
 * (transmit the in-place reply, or free the buffer).
 */
#include "net/netdev.h"
#include "net/proto.h"
#include "net/iface.h"
#include "kernel/errno.h"
#include "kernel/preempt.h"
#include "kernel/lib/string.h"

static struct netdev *netdevs;
static unsigned int netdev_count;

int netdev_register(struct netdev *dev)
{
	if (!dev || !dev->ops || !dev->ops->xmit || !dev->name[0])
		return -EINVAL;
	if (netdev_count >= NETDEV_MAX)
		return -ENOSPC;
	dev->next = NULL;
	struct netdev **pp = &netdevs;
	while (*pp)
		pp = &(*pp)->next;
	*pp = dev;
	if (netdev_count++ == 0)
		memcpy(net_if.mac, dev->mac, sizeof(net_if.mac));
	return 0;
}

struct netdev *netdev_first(void)
{
	return netdevs;
}

int netdev_xmit(struct netdev *dev, struct pkt *pkt)
{
	uint16_t len = pkt->len;
	int err = dev->ops->xmit(dev, pkt);   /* pkt is the driver's now */
	if (err) {
		dev->tx_errors++;
		return err;
	}
	dev->tx_frames++;
	dev->tx_bytes += len;
	net_stats.tx_frames++;
	net_stats.tx_bytes += len;
	return 0;
}

void netif_receive_pkt(struct netdev *dev, struct pkt *pkt)
{
	uint16_t len = pkt->len;
	enum net_verdict v;

	dev->rx_frames++;
	dev->rx_bytes += len;
	net_stats.rx_frames++;
	net_stats.rx_bytes += len;
	unsigned pc = preempt_count();
	if (pc_in_hardirq(pc))
		net_stats.rx_hardirq++;
	else if (pc_in_serving_softirq(pc))
		net_stats.rx_softirq++;
	else
		net_stats.rx_other++;
	pkt->dev = dev;

	v = net_rx_frame(&net_if, pkt->data, &len);
	if (v == NV_answered || v == NV_echoed) {
		pkt->len = len;
		if (netdev_xmit(dev, pkt))
			v = NV_tx_error;
	} else {
		pkt_free(pkt);
	}
	net_stats.verdict[v]++;
}
