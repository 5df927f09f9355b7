/*
 * net_frames.h - builders of test frames for the net/ host tests: an
 * Ethernet header followed by ARP, or IPv4 with ICMP or UDP, with correct
 * checksums computed by a reference implementation written here (plain
 * big-endian 16-bit word sums, RFC 1071 as written, independent of
 * net/checksum.c). Tests then break one field to make each malformed kind.
 */
#ifndef TESTS_UNIT_NET_FRAMES_H
#define TESTS_UNIT_NET_FRAMES_H

#include <stdint.h>
#include <string.h>

static const uint8_t T_GUEST_MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t T_HOST_MAC[6]  = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
#define T_GUEST_IP 0x0a4d0002u
#define T_HOST_IP  0x0a4d0001u

static inline void t_put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static inline void t_put32(uint8_t *p, uint32_t v) { t_put16(p, v >> 16); t_put16(p + 2, (uint16_t)v); }
static inline uint16_t t_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t t_get32(const uint8_t *p) { return (uint32_t)t_get16(p) << 16 | t_get16(p + 2); }

/* RFC 1071 reference: sum of big-endian words, odd byte padded, folded. */
static inline uint32_t t_sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}
static inline uint16_t t_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet header; returns 14. */
static inline size_t t_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	t_put16(f + 12, type);
	return 14;
}

/* ARP over Ethernet (RFC 826) from the host; returns the frame length. */
static inline size_t t_arp(uint8_t *f, uint16_t op, uint32_t spa, uint32_t tpa, const uint8_t *eth_dst)
{
	size_t n = t_eth(f, eth_dst, T_HOST_MAC, 0x0806);
	uint8_t *a = f + n;
	t_put16(a, 1);
	t_put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	t_put16(a + 6, op);
	memcpy(a + 8, T_HOST_MAC, 6);
	t_put32(a + 14, spa);
	memset(a + 18, 0, 6);
	t_put32(a + 24, tpa);
	return n + 28;
}

/* IPv4 header with `optlen` bytes of NOP options, then l4len payload bytes
 * the caller has written at the returned offset... Builds the header for a
 * payload already placed at f + 14 + 20 + optlen. Returns frame length. */
static inline size_t t_ipv4(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst,
		     size_t optlen, size_t l4len)
{
	size_t n = t_eth(f, T_GUEST_MAC, T_HOST_MAC, 0x0800);
	uint8_t *h = f + n;
	size_t hlen = 20 + optlen;
	h[0] = (uint8_t)(0x40 | hlen / 4);
	h[1] = 0;
	t_put16(h + 2, (uint16_t)(hlen + l4len));
	t_put16(h + 4, 0x1234);
	t_put16(h + 6, 0);
	h[8] = 64;
	h[9] = proto;
	t_put16(h + 10, 0);
	t_put32(h + 12, src);
	t_put32(h + 16, dst);
	memset(h + 20, 1, optlen);   /* NOP options */
	t_put16(h + 10, t_fold(t_sum(h, hlen, 0)));
	return n + hlen + l4len;
}

static inline void t_ip_recsum(uint8_t *f)
{
	uint8_t *h = f + 14;
	size_t hlen = (h[0] & 15) * 4u;
	t_put16(h + 10, 0);
	t_put16(h + 10, t_fold(t_sum(h, hlen, 0)));
}

/* ICMP echo request with `dlen` data bytes; returns the frame length. */
static inline size_t t_icmp_echo(uint8_t *f, size_t optlen, size_t dlen)
{
	uint8_t *m = f + 14 + 20 + optlen;
	m[0] = 8;
	m[1] = 0;
	t_put16(m + 2, 0);
	t_put16(m + 4, 0x4242);
	t_put16(m + 6, 7);
	for (size_t i = 0; i < dlen; i++)
		m[8 + i] = (uint8_t)(i * 13 + 1);
	t_put16(m + 2, t_fold(t_sum(m, 8 + dlen, 0)));
	return t_ipv4(f, 1, T_HOST_IP, T_GUEST_IP, optlen, 8 + dlen);
}

/* UDP checksum over pseudo-header + datagram (RFC 768). */
static inline uint16_t t_udp_csum(const uint8_t *u, size_t ulen, uint32_t src, uint32_t dst)
{
	uint32_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 17 + (uint32_t)ulen;
	uint16_t c = t_fold(t_sum(u, ulen, s));
	return c ? c : 0xffff;   /* RFC 768: a computed 0 is sent as all ones */
}

/* UDP datagram to dport with the given payload; checksum computed if
 * `csum`, else 0. Returns the frame length. */
static inline size_t t_udp(uint8_t *f, uint16_t dport, const uint8_t *payload, size_t plen, int csum)
{
	uint8_t *u = f + 14 + 20;
	t_put16(u, 40000);
	t_put16(u + 2, dport);
	t_put16(u + 4, (uint16_t)(8 + plen));
	t_put16(u + 6, 0);
	memcpy(u + 8, payload, plen);
	if (csum)
		t_put16(u + 6, t_udp_csum(u, 8 + plen, T_HOST_IP, T_GUEST_IP));
	return t_ipv4(f, 17, T_HOST_IP, T_GUEST_IP, 0, 8 + plen);
}

/* Sink datagram carrying big-endian sequence number seq and `extra`
 * bytes after it. */
static inline size_t t_sink(uint8_t *f, uint64_t seq, size_t extra)
{
	uint8_t pl[1472];
	for (int i = 0; i < 8; i++)
		pl[i] = (uint8_t)(seq >> (56 - 8 * i));
	memset(pl + 8, 0xab, extra);
	return t_udp(f, 9, pl, 8 + extra, 1);
}

#endif
