/*
 * ipv4.c - IPv4 receive (RFC 791, RFC 1122 3.2.1): check the header and
 * hand the payload to ICMP or UDP. Part of the pure receive path (see
 * proto.h).
 *
 * Header (RFC 791 3.1): 0 version:4 IHL:4, 1 TOS, 2 total length,
 * 4 identification, 6 flags:3 fragment offset:13, 8 TTL, 9 protocol,
 * 10 header checksum, 12 source, 16 destination, 20 options (IHL > 5).
 *
 * Checks, in the order RFC 1122 3.2.1.1-3.2.1.3 and Linux's ip_rcv_core()
 * apply them: enough bytes for a minimal header; version 4; IHL >= 5 and
 * the whole header present; header checksum; total length within the frame
 * and not below the header (bytes after total length are Ethernet padding
 * and ignored); destination is our address; not a fragment (MF set or a
 * nonzero offset: we do not reassemble). TTL is not checked: we are the
 * destination, not a router. Options are skipped, not interpreted.
 */
#include "net/proto.h"
#include "net/checksum.h"
#include "net/byteorder.h"
#include "kernel/lib/string.h"

#define IP_MF          0x2000
#define IP_DF          0x4000
#define IP_OFFSET_MASK 0x1fff

enum net_verdict ipv4_rx(struct net_iface *ifc, uint8_t *frame, uint16_t *len)
{
	uint8_t *h = frame + ETH_HLEN;
	unsigned int avail = *len - ETH_HLEN;

	if (avail < IPV4_HLEN_MIN)
		return NV_ip_short;
	if (h[0] >> 4 != 4)
		return NV_ip_version;

	unsigned int ihl = h[0] & 0x0f, hlen = ihl * 4;
	if (ihl < 5)
		return NV_ip_bad_ihl;
	if (hlen > avail)
		return NV_ip_short;
	if (ip_hdr_csum(h, ihl) != 0)
		return NV_ip_csum;

	unsigned int tot = get_be16(h + 2);
	if (tot > avail || tot < hlen)
		return NV_ip_bad_len;
	if (get_be32(h + 16) != ifc->ip)
		return NV_ip_not_for_us;
	if (get_be16(h + 6) & (IP_MF | IP_OFFSET_MASK))
		return NV_ip_fragment;

	struct ipv4_info ip = {
		.l4 = h + hlen,
		.l4_len = (uint16_t)(tot - hlen),
		.saddr = get_be32(h + 12),
		.daddr = get_be32(h + 16),
	};
	net_stats.ipv4.rx++;
	if (ihl > 5)
		net_stats.ipv4.options++;

	switch (h[9]) {
	case IPPROTO_UDP:
		return udp_rx(ifc, frame, len, &ip);
	case IPPROTO_ICMP:
		return icmp_rx(ifc, frame, len, &ip);
	default:
		return NV_ip_unknown_proto;
	}
}

uint16_t ipv4_reply_in_place(struct net_iface *ifc, uint8_t *frame,
			     const struct ipv4_info *ip, uint16_t l4_len)
{
	uint8_t *h = frame + ETH_HLEN;

	/* Drop options: RFC 1122 3.2.2.6 lets an echo reply leave them out
	 * (only Record Route / Timestamp would need handling). */
	if (ip->l4 != h + IPV4_HLEN_MIN)
		memmove(h + IPV4_HLEN_MIN, ip->l4, l4_len);

	h[0] = 0x45;
	/* h[1] TOS and h[4..5] identification kept: a reply may reuse them. */
	put_be16(h + 2, (uint16_t)(IPV4_HLEN_MIN + l4_len));
	put_be16(h + 6, IP_DF);       /* never fragmented by us */
	h[8] = IPV4_TTL;
	/* h[9] protocol unchanged */
	put_be16(h + 10, 0);
	put_be32(h + 12, ifc->ip);
	put_be32(h + 16, ip->saddr);
	put_be16(h + 10, ip_hdr_csum(h, 5));

	eth_reply_in_place(ifc, frame);
	return (uint16_t)(ETH_HLEN + IPV4_HLEN_MIN + l4_len);
}
