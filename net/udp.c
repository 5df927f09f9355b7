/*
 * udp.c - UDP receive (RFC 768): echo on port 7 (RFC 862), the sequence-
 * counting sink on port 9 (sink.c). Part of the pure receive path (see
 * proto.h).
 *
 * Header: 0 source port, 2 destination port, 4 length (header + data),
 * 6 checksum over pseudo-header + header + data, 0 meaning "not computed"
 * (RFC 768; RFC 1122 4.1.3.4: a nonzero checksum must be verified and the
 * datagram silently discarded when wrong). Verification can be turned off
 * with `udp_csum=off` (or `net udp_csum off`); it is on by default. Its
 * cost, measured with `net bench` under TCG: a 60-byte frame to the sink
 * takes ~1100-1500 TSC cycles through netif_receive_pkt() without it and
 * ~1900-2100 with it; a 1514-byte frame ~1100 without and ~17500 with
 * (the checksum reads every byte; nothing else on the path does).
 *
 * The echo reply keeps the checksum field as it was: swapping the source
 * and destination addresses and ports permutes words of the one's
 * complement sum without changing it.
 */
#include "net/proto.h"
#include "net/sink.h"
#include "net/checksum.h"
#include "net/byteorder.h"

enum net_verdict udp_rx(struct net_iface *ifc, uint8_t *frame, uint16_t *len,
			const struct ipv4_info *ip)
{
	uint8_t *u = ip->l4;

	if (ip->l4_len < UDP_HLEN)
		return NV_udp_short;
	uint16_t ulen = get_be16(u + 4);
	/* A UDP length under the IP payload's is allowed (trailing bytes are
	 * ignored, as Linux's __udp4_lib_rcv trims); over it is truncation. */
	if (ulen < UDP_HLEN || ulen > ip->l4_len)
		return NV_udp_bad_len;

	if (get_be16(u + 6) == 0) {
		net_stats.udp.csum_none++;
	} else if (ifc->udp_csum) {
		uint64_t sum = csum_pseudo(ip->saddr, ip->daddr, IPPROTO_UDP, ulen);
		if (csum_fold(csum_partial(u, ulen, sum)) != 0)
			return NV_udp_csum;
		net_stats.udp.csum_checked++;
	}
	net_stats.udp.rx++;

	uint16_t dport = get_be16(u + 2);
	if (dport == UDP_PORT_SINK) {
		uint32_t plen = ulen - UDP_HLEN;
		if (plen < 8) {
			sink.short_++;
			return NV_sink_short;
		}
		sink_account(&sink, get_be64(u + UDP_HLEN), plen);
		net_stats.udp.sink++;
		return NV_sink;
	}
	if (dport == UDP_PORT_ECHO) {
		uint16_t sport = get_be16(u);
		put_be16(u, dport);
		put_be16(u + 2, sport);
		*len = ipv4_reply_in_place(ifc, frame, ip, ulen);
		net_stats.udp.echo++;
		return NV_echoed;
	}
	return NV_udp_no_port;
}
