/*
 * arp.c - ARP for IPv4 over Ethernet (RFC 826): answer requests for our
 * address, learn senders into the LRU cache (arp_cache.c). Part of the pure
 * receive path (see proto.h).
 *
 * Packet (RFC 826, "Packet format"), 28 bytes after the Ethernet header:
 *   0 htype=1 (Ethernet)  2 ptype=0x0800  4 hlen=6  5 plen=4  6 op
 *   8 sha[6]  14 spa[4]  18 tha[6]  24 tpa[4]
 *
 * Learning follows RFC 826's "merge" rule: an existing entry for the sender
 * is refreshed by any packet; a new one is created only when the packet is
 * addressed to us (a request for our address, or a reply to us). So a busy
 * LAN's broadcasts do not churn the cache.
 */
#include "net/proto.h"
#include "net/arp_cache.h"
#include "net/byteorder.h"
#include "kernel/lib/string.h"

#define ARP_LEN       28
#define ARP_HTYPE_ETH 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2

static void count_learn(enum arp_update u)
{
	if (u == ARP_UPDATED)
		net_stats.arp.updated++;
	else if (u == ARP_ADDED)
		net_stats.arp.learned++;
	else if (u == ARP_EVICTED) {
		net_stats.arp.learned++;
		net_stats.arp.evicted++;
	}
}

enum net_verdict arp_rx(struct net_iface *ifc, uint8_t *frame, uint16_t *len)
{
	uint8_t *a = frame + ETH_HLEN;

	net_stats.arp.rx++;
	if (*len < ETH_HLEN + ARP_LEN)
		return NV_arp_short;
	if (get_be16(a) != ARP_HTYPE_ETH || get_be16(a + 2) != ETH_P_IPV4 ||
	    a[4] != ETH_ALEN || a[5] != 4)
		return NV_arp_bad_header;

	uint16_t op = get_be16(a + 6);
	uint8_t *sha = a + 8, *tha = a + 18;
	uint32_t spa = get_be32(a + 14), tpa = get_be32(a + 24);
	bool to_us = tpa == ifc->ip;

	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return NV_arp_bad_op;

	if (op == ARP_OP_REQUEST)
		net_stats.arp.requests++;
	else
		net_stats.arp.replies++;

	if (!to_us) {
		/* Someone else's; refresh what we know about the sender. */
		if (arp_cache_refresh(&arp_cache, spa, sha)) {
			net_stats.arp.updated++;
			if (op == ARP_OP_REPLY)
				return NV_consumed;  /* e.g. a gratuitous ARP we used */
		}
		return NV_arp_not_for_us;
	}
	count_learn(arp_cache_learn(&arp_cache, spa, sha));
	if (op == ARP_OP_REPLY)
		return NV_consumed;

	/* Request for our address: the reply goes back in the same buffer. */
	put_be16(a + 6, ARP_OP_REPLY);
	memcpy(tha, sha, ETH_ALEN);
	put_be32(a + 24, spa);
	memcpy(sha, ifc->mac, ETH_ALEN);
	put_be32(a + 14, ifc->ip);
	/* Ethernet destination: the requester's hardware address from the
	 * ARP body (RFC 826 sends the reply "to the ar$sha"). */
	memcpy(frame, tha, ETH_ALEN);
	memcpy(frame + ETH_ALEN, ifc->mac, ETH_ALEN);
	*len = ETH_HLEN + ARP_LEN;   /* the NIC pads to 60 (TCTL.PSP) */
	net_stats.arp.answered++;
	return NV_answered;
}
