/*
 * icmp.c - ICMP (RFC 792): answer echo requests. Part of the pure receive
 * path (see proto.h).
 *
 * Message: 0 type, 1 code, 2 checksum over the whole ICMP message (header
 * and data, RFC 792 "Echo or Echo Reply Message"), 4 identifier,
 * 6 sequence, 8 data. The reply is the request with type 0, the same
 * identifier, sequence and data (RFC 1122 3.2.2.6), and a new checksum.
 */
#include "net/proto.h"
#include "net/checksum.h"
#include "net/byteorder.h"

#define ICMP_ECHO_REPLY   0
#define ICMP_ECHO_REQUEST 8

enum net_verdict icmp_rx(struct net_iface *ifc, uint8_t *frame, uint16_t *len,
			 const struct ipv4_info *ip)
{
	uint8_t *m = ip->l4;

	net_stats.icmp.rx++;
	if (ip->l4_len < ICMP_HLEN)
		return NV_icmp_short;
	if (inet_csum(m, ip->l4_len) != 0)
		return NV_icmp_csum;
	if (m[0] != ICMP_ECHO_REQUEST || m[1] != 0)
		return NV_icmp_type;
	net_stats.icmp.echo_requests++;

	m[0] = ICMP_ECHO_REPLY;
	put_be16(m + 2, 0);
	put_be16(m + 2, inet_csum(m, ip->l4_len));
	*len = ipv4_reply_in_place(ifc, frame, ip, ip->l4_len);
	net_stats.icmp.echo_replies++;
	return NV_answered;
}
