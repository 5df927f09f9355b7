/*
 * frame.c - build, patch and parse the flood generator's UDP/IPv4 frames.
 * Layout and size convention: frame.h. Host code; pure functions.
 */
#include "harness/flood/frame.h"

#include <string.h>

void frame_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void frame_put_be32(uint8_t *p, uint32_t v)
{
	frame_put_be16(p, (uint16_t)(v >> 16));
	frame_put_be16(p + 2, (uint16_t)v);
}

void frame_put_be64(uint8_t *p, uint64_t v)
{
	frame_put_be32(p, (uint32_t)(v >> 32));
	frame_put_be32(p + 4, (uint32_t)v);
}

uint16_t frame_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t frame_get_be32(const uint8_t *p)
{
	return ((uint32_t)frame_get_be16(p) << 16) | frame_get_be16(p + 2);
}

uint64_t frame_get_be64(const uint8_t *p)
{
	return ((uint64_t)frame_get_be32(p) << 32) | frame_get_be32(p + 4);
}

uint32_t frame_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	/* A 1518-byte frame adds at most 759 words of 0xffff to sum, far from
	 * overflowing 32 bits; fold only at the end (RFC 1071 section 2). */
	while (len > 1) {
		sum += frame_get_be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t frame_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo-header of RFC 768: src, dst, zero+protocol, UDP length. */
static uint32_t udp_pseudo_sum(const uint8_t *ip, uint16_t udp_len)
{
	uint32_t sum = frame_csum_add(0, ip + 12, 8);   /* src and dst address */
	return sum + FRAME_IPPROTO_UDP + udp_len;
}

size_t frame_build(const struct frame_spec *spec, uint8_t *buf, uint64_t seq)
{
	if (spec->wire_size < FRAME_WIRE_MIN || spec->wire_size > FRAME_WIRE_MAX)
		return 0;
	size_t len = frame_buf_len(spec->wire_size);
	uint16_t ip_len = (uint16_t)(len - FRAME_ETH_LEN);
	uint16_t udp_len = (uint16_t)(ip_len - FRAME_IP_LEN);
	uint8_t *ip = buf + FRAME_IP_OFF, *udp = buf + FRAME_UDP_OFF;

	for (size_t i = FRAME_SEQ_OFF + FRAME_SEQ_LEN; i < len; i++)
		buf[i] = (uint8_t)i;

	memcpy(buf, spec->dst_mac, 6);
	memcpy(buf + 6, spec->src_mac, 6);
	frame_put_be16(buf + 12, FRAME_ETHERTYPE_IPV4);

	ip[0] = 0x45;                       /* version 4, IHL 5 words */
	ip[1] = 0;                          /* DSCP/ECN */
	frame_put_be16(ip + 2, ip_len);
	frame_put_be16(ip + 4, 0);          /* ID: 0 is fine with DF (RFC 6864) */
	frame_put_be16(ip + 6, 0x4000);     /* DF, offset 0: never fragmented */
	ip[8] = 64;                         /* TTL */
	ip[9] = FRAME_IPPROTO_UDP;
	frame_put_be16(ip + 10, 0);
	frame_put_be32(ip + 12, spec->src_ip);
	frame_put_be32(ip + 16, spec->dst_ip);
	/* The IPv4 header is the same in every frame of a run, so its checksum
	 * (RFC 791: complement of the ones'-complement sum) is computed once. */
	frame_put_be16(ip + 10, (uint16_t)~frame_csum_fold(
				frame_csum_add(0, ip, FRAME_IP_LEN)));

	frame_put_be16(udp, spec->src_port);
	frame_put_be16(udp + 2, spec->dst_port);
	frame_put_be16(udp + 4, udp_len);
	frame_put_be16(udp + 6, 0);

	frame_set_seq(buf, seq, spec->udp_csum ? frame_udp_base_sum(buf, len)
					       : FRAME_NO_UDP_CSUM);
	return len;
}

uint32_t frame_udp_base_sum(const uint8_t *buf, size_t len)
{
	const uint8_t *ip = buf + FRAME_IP_OFF, *udp = buf + FRAME_UDP_OFF;
	uint16_t udp_len = frame_get_be16(udp + 4);
	/* Everything but the checksum field and the sequence number. */
	uint32_t sum = udp_pseudo_sum(ip, udp_len);
	sum = frame_csum_add(sum, udp, 6);
	sum = frame_csum_add(sum, buf + FRAME_SEQ_OFF + FRAME_SEQ_LEN,
			     len - FRAME_SEQ_OFF - FRAME_SEQ_LEN);
	return sum;
}

void frame_set_seq(uint8_t *buf, uint64_t seq, uint32_t base_sum)
{
	uint8_t *udp = buf + FRAME_UDP_OFF;
	frame_put_be64(buf + FRAME_SEQ_OFF, seq);
	if (base_sum == FRAME_NO_UDP_CSUM) {
		frame_put_be16(udp + 6, 0);
		return;
	}
	/* The sequence field starts at an even offset of the UDP datagram, so
	 * its four 16-bit words add straight into the sum. */
	uint32_t sum = frame_csum_add(base_sum, buf + FRAME_SEQ_OFF, FRAME_SEQ_LEN);
	uint16_t csum = (uint16_t)~frame_csum_fold(sum);
	frame_put_be16(udp + 6, csum ? csum : 0xffff);
}

int frame_parse_reply(const struct frame_spec *spec, uint16_t reply_src_port,
		      const uint8_t *buf, size_t len, uint64_t *seq)
{
	if (len < FRAME_ETH_LEN + FRAME_IP_LEN ||
	    frame_get_be16(buf + 12) != FRAME_ETHERTYPE_IPV4)
		return FRAME_ENOTIP;
	const uint8_t *ip = buf + FRAME_IP_OFF;
	if (ip[0] != 0x45 || ip[9] != FRAME_IPPROTO_UDP ||
	    frame_get_be32(ip + 12) != spec->dst_ip ||
	    frame_get_be32(ip + 16) != spec->src_ip)
		return FRAME_ENOTIP;
	if (len < FRAME_HDRS_LEN)
		return FRAME_ESHORT;
	const uint8_t *udp = buf + FRAME_UDP_OFF;
	if (frame_get_be16(udp) != reply_src_port ||
	    frame_get_be16(udp + 2) != spec->src_port)
		return FRAME_ENOTIP;
	/* Fragments cannot be checked packet by packet: treat as malformed. */
	if (frame_get_be16(ip + 6) & 0x3fff)
		return FRAME_ESHORT;
	uint16_t ip_len = frame_get_be16(ip + 2);
	uint16_t udp_len = frame_get_be16(udp + 4);
	/* The frame may carry Ethernet padding after the IP datagram. */
	if (ip_len < FRAME_IP_LEN + FRAME_UDP_LEN + FRAME_SEQ_LEN ||
	    (size_t)ip_len + FRAME_ETH_LEN > len ||
	    udp_len != ip_len - FRAME_IP_LEN)
		return FRAME_ESHORT;
	if (frame_csum_fold(frame_csum_add(0, ip, FRAME_IP_LEN)) != 0xffff)
		return FRAME_ECSUM;
	if (frame_get_be16(udp + 6) != 0) {
		uint32_t sum = udp_pseudo_sum(ip, udp_len);
		sum = frame_csum_add(sum, udp, udp_len);
		if (frame_csum_fold(sum) != 0xffff)
			return FRAME_ECSUM;
	}
	*seq = frame_get_be64(buf + FRAME_SEQ_OFF);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int frame_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
		if (lo < 0)
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5) {
			if (*s != ':' && *s != '-')
				return -1;
			s++;
		}
	}
	return *s == '\0' ? 0 : -1;
}

int frame_parse_ipv4(const char *s, uint32_t *ip)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned part = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			part = part * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || part > 255)
			return -1;
		v = v << 8 | part;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	if (*s != '\0')
		return -1;
	*ip = v;
	return 0;
}

int frame_ip_is_private(uint32_t ip)
{
	return (ip >> 24) == 10 ||                  /* 10.0.0.0/8 */
	       (ip >> 20) == ((172u << 4) | 1) ||   /* 172.16.0.0/12 */
	       (ip >> 16) == ((192u << 8) | 168) || /* 192.168.0.0/16 */
	       (ip >> 17) == ((198u << 7) | 9) ||   /* 198.18.0.0/15 */
	       (ip >> 16) == ((169u << 8) | 254);   /* 169.254.0.0/16 */
}
