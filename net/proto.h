/*
 * proto.h - the receive path's layers, inside net/. Each layer is a pure
 * function of (interface, frame) to a verdict: it parses and checks the
 * headers in place, updates its counters and the state it owns (ARP cache,
 * sink), and, when the verdict is `answered` or `echoed`, has rewritten
 * the frame in place into the reply and stored its length in *len. It
 * never transmits, frees or allocates: netif_receive_pkt() (netdev.c) does
 * the I/O. So every layer runs on the host under unit tests and the fuzzer
 * exactly as in the kernel.
 *
 * frame points at the Ethernet header; *len is the frame's length without
 * FCS. Context: that of netif_receive_pkt().
 */
#ifndef NET_PROTO_H
#define NET_PROTO_H

#include <stdint.h>
#include "net/netstat.h"
#include "net/iface.h"

#define ETH_HLEN       14
#define ETH_ALEN       6
#define ETH_FRAME_MAX  1514   /* 1500-byte MTU + header, without FCS */
#define ETH_P_IPV4     0x0800
#define ETH_P_ARP      0x0806

#define IPV4_HLEN_MIN  20
#define IPPROTO_ICMP   1
#define IPPROTO_UDP    17
#define IPV4_TTL       64
#define UDP_HLEN       8
#define ICMP_HLEN      8

#define UDP_PORT_ECHO  7      /* RFC 862 */
#define UDP_PORT_SINK  9      /* RFC 863 "discard", with sequence accounting */

/* The parsed IPv4 header of a frame, for the layers above it. */
struct ipv4_info {
	uint8_t *l4;           /* start of the IP payload */
	uint16_t l4_len;       /* IP total length - header length */
	uint32_t saddr, daddr; /* host order */
};

enum net_verdict net_rx_frame(struct net_iface *ifc, uint8_t *frame, uint16_t *len);
enum net_verdict arp_rx(struct net_iface *ifc, uint8_t *frame, uint16_t *len);
enum net_verdict ipv4_rx(struct net_iface *ifc, uint8_t *frame, uint16_t *len);
enum net_verdict icmp_rx(struct net_iface *ifc, uint8_t *frame, uint16_t *len,
			 const struct ipv4_info *ip);
enum net_verdict udp_rx(struct net_iface *ifc, uint8_t *frame, uint16_t *len,
			const struct ipv4_info *ip);

/*
 * Turns the received IPv4 frame into a reply to its sender carrying the
 * l4_len bytes already at ip->l4 (the caller has rewritten them): Ethernet
 * addresses swapped, IP addresses swapped, options dropped (the payload is
 * moved up), TTL reset, checksum recomputed. Returns the reply's length.
 */
uint16_t ipv4_reply_in_place(struct net_iface *ifc, uint8_t *frame,
			     const struct ipv4_info *ip, uint16_t l4_len);

/* Ethernet: address the frame back to its sender, from us. */
void eth_reply_in_place(struct net_iface *ifc, uint8_t *frame);

#endif
