/*
 * eth.c - Ethernet II receive: the first layer of the pure receive path
 * (see proto.h). IEEE 802.3 clause 3.2: 6-byte destination, 6-byte source,
 * 2-byte EtherType; 60..1514 bytes without FCS. We accept frames shorter
 * than 60 as long as they hold a header (QEMU's e1000 hands up unpadded
 * frames from the tap; the minimum is the sender's job), and reject
 * anything over 1514 (no VLAN tags, no jumbo frames).
 */
#include "net/proto.h"
#include "net/byteorder.h"
#include "kernel/lib/string.h"

static const uint8_t eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* dst == our MAC or broadcast. Two loads each: runs for every frame. */
static inline int eth_addr_equal(const uint8_t *a, const uint8_t *b)
{
	uint32_t a4, b4;
	uint16_t a2, b2;
	memcpy(&a4, a, 4); memcpy(&b4, b, 4);
	memcpy(&a2, a + 4, 2); memcpy(&b2, b + 4, 2);
	return a4 == b4 && a2 == b2;
}

enum net_verdict net_rx_frame(struct net_iface *ifc, uint8_t *frame, uint16_t *len)
{
	if (*len < ETH_HLEN)
		return NV_runt;
	if (*len > ETH_FRAME_MAX)
		return NV_oversize;
	if (!eth_addr_equal(frame, ifc->mac) && !eth_addr_equal(frame, eth_broadcast))
		return NV_not_for_us;

	switch (get_be16(frame + 12)) {
	case ETH_P_IPV4:
		return ipv4_rx(ifc, frame, len);
	case ETH_P_ARP:
		return arp_rx(ifc, frame, len);
	default:
		return NV_unknown_ethertype;
	}
}

void eth_reply_in_place(struct net_iface *ifc, uint8_t *frame)
{
	memcpy(frame, frame + ETH_ALEN, ETH_ALEN);
	memcpy(frame + ETH_ALEN, ifc->mac, ETH_ALEN);
}
