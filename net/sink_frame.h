/*
 * sink_frame.h - the datagram a host sends to our UDP sink (port 9), built
 * in the kernel for the generators that feed the receive path without a
 * wire: the software NIC (softnic.c) and `net bench` (netctl.c). Frames
 * built here go through netif_receive_pkt() like a driver's.
 *
 * Pure; any context.
 */
#ifndef NET_SINK_FRAME_H
#define NET_SINK_FRAME_H

#include <stdint.h>
#include "net/proto.h"

/* Headers before the payload; the sink's sequence number starts here. */
#define SINK_FRAME_HLEN     (ETH_HLEN + IPV4_HLEN_MIN + UDP_HLEN)
#define SINK_FRAME_PLEN_MAX (ETH_FRAME_MAX - SINK_FRAME_HLEN)
#define SINK_FRAME_SPORT    40000

/*
 * Writes at f a frame from (src_mac, src_ip) to ifc's MAC and address:
 * Ethernet, IPv4 without options (TTL 64, header checksum set), UDP
 * SINK_FRAME_SPORT -> UDP_PORT_SINK with checksum 0 ("not computed",
 * RFC 768), and plen payload bytes, all zero (plen <= SINK_FRAME_PLEN_MAX;
 * the sink wants at least 8 for its sequence number). Returns the frame's
 * length, SINK_FRAME_HLEN + plen. The caller fills the payload and, if it
 * wants one, the UDP checksum.
 */
uint16_t sink_frame_build(uint8_t *f, const struct net_iface *ifc,
			  const uint8_t src_mac[ETH_ALEN], uint32_t src_ip, uint16_t plen);

#endif
