/*
 * sink_frame.c - builds the datagram a host sends to our UDP sink; see
 * sink_frame.h. Header layouts: Ethernet II (dst, src, type), IPv4 (RFC
 * 791, 3.1), UDP (RFC 768).
 */
#include "net/sink_frame.h"
#include "net/checksum.h"
#include "net/byteorder.h"
#include "kernel/lib/string.h"

uint16_t sink_frame_build(uint8_t *f, const struct net_iface *ifc,
			  const uint8_t src_mac[ETH_ALEN], uint32_t src_ip, uint16_t plen)
{
	uint16_t ulen = (uint16_t)(UDP_HLEN + plen), tot = (uint16_t)(IPV4_HLEN_MIN + ulen);
	uint8_t *h = f + ETH_HLEN, *u = h + IPV4_HLEN_MIN;

	memset(f, 0, (size_t)ETH_HLEN + tot);
	memcpy(f, ifc->mac, ETH_ALEN);
	memcpy(f + ETH_ALEN, src_mac, ETH_ALEN);
	put_be16(f + 12, ETH_P_IPV4);
	h[0] = 0x45;                    /* version 4, IHL 5 words */
	put_be16(h + 2, tot);
	h[8] = IPV4_TTL;
	h[9] = IPPROTO_UDP;
	put_be32(h + 12, src_ip);
	put_be32(h + 16, ifc->ip);
	put_be16(h + 10, ip_hdr_csum(h, 5));
	put_be16(u, SINK_FRAME_SPORT);
	put_be16(u + 2, UDP_PORT_SINK);
	put_be16(u + 4, ulen);
	return (uint16_t)(ETH_HLEN + tot);
}
