/*
 * netdev.h - a network device as the stack sees it: a name, a MAC, a
 * transmit function and counters. net/ knows no hardware: a driver fills
 * in a struct netdev and registers it; the stack hands it received frames
 * with netif_receive_pkt() and sends with dev->ops->xmit().
 */
#ifndef NET_NETDEV_H
#define NET_NETDEV_H

#include <stdint.h>
#include "net/pkt.h"

#define NETDEV_NAME_LEN 8
#define NETDEV_MAX 4

struct netdev;

struct netdev_ops {
	/*
	 * xmit - queue pkt (data, len = whole Ethernet frame without FCS)
	 * for transmission. Takes ownership of pkt in every case: on success
	 * the driver frees it after completion, on failure it frees it at
	 * once. Returns 0 or -errno (-EBUSY ring full, -EIO link down).
	 * Called from softirq, from hard IRQ (no-NAPI mode) and from task
	 * context: the driver makes it safe for all three.
	 */
	int (*xmit)(struct netdev *dev, struct pkt *pkt);
};

struct netdev {
	char name[NETDEV_NAME_LEN];     /* "eth0" (driver chooses) */
	uint8_t mac[6];
	const struct netdev_ops *ops;
	void *priv;                     /* driver's */
	struct netdev *next;            /* registry list, net/netdev.c's */
	/* Counters kept by net/ (the driver keeps its own hardware ones). */
	uint64_t rx_frames;             /* handed to netif_receive_pkt */
	uint64_t rx_bytes;
	uint64_t tx_frames;             /* accepted by ops->xmit */
	uint64_t tx_bytes;
	uint64_t tx_errors;             /* ops->xmit returned an error */
};

/*
 * netdev_register - make dev known to the stack (the first one registered
 * is the one our IP address lives on). dev->name, mac and ops must be set.
 * Task context (driver init). 0, -EINVAL, or -ENOSPC beyond NETDEV_MAX.
 */
int netdev_register(struct netdev *dev);

/* The first registered device, or NULL. Any context. */
struct netdev *netdev_first(void);

/*
 * netif_receive_pkt - deliver one received Ethernet frame (pkt->data,
 * pkt->len without FCS) to the stack, which consumes pkt: it is freed,
 * or reused in place for a reply and handed to dev->ops->xmit.
 *
 * Context: softirq (NAPI poll) or hard IRQ (no-NAPI mode), never both at
 * once: the stack's state is not guarded against its own re-entry, so a
 * driver switching modes must stop one before starting the other. Does
 * not print and allocates at most one pkt (a free-list pop).
 */
void netif_receive_pkt(struct netdev *dev, struct pkt *pkt);

/*
 * netdev_xmit - send pkt on dev, counting tx_frames/tx_errors. Takes
 * ownership. Same contexts as ops->xmit. 0 or the driver's -errno.
 */
int netdev_xmit(struct netdev *dev, struct pkt *pkt);

#endif
