/*
 * frame.h - the test frames the flood generator sends, as pure functions.
 *
 * Host code only (built by harness/tools.mk and by tests/unit/test_flood_*.c);
 * no sockets here, so that every byte we put on the wire is unit-tested.
 *
 * Frame layout (all multi-byte fields big-endian, as on the wire):
 *
 *   offset  size  field
 *        0    14  Ethernet II: dst MAC, src MAC, EtherType 0x0800
 *       14    20  IPv4 header, IHL 5, no options, DF set, ID 0, TTL 64
 *       34     8  UDP header
 *       42     8  sequence number, 64-bit big-endian   <- FRAME_SEQ_OFF
 *       50   ...  fill bytes: byte at frame offset i holds (i & 0xff)
 *
 * Size convention: a frame's *wire size* includes the 4-byte Ethernet FCS,
 * as RFC 2544 and the "64-byte frame" of every NIC datasheet count it. The
 * FCS is appended by the device (the tap has none), so the buffer handed to
 * the socket is wire size - 4 bytes: --size 64 (the minimum) sends 60 bytes,
 * --size 1518 (the maximum, a 1500-byte IP MTU) sends 1514. The UDP payload
 * fills the frame exactly (IP total length = wire size - 18), so no
 * Ethernet padding is needed and the receiver sees every byte we chose.
 */
#ifndef HARNESS_FLOOD_FRAME_H
#define HARNESS_FLOOD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_FCS_LEN      4
#define FRAME_ETH_LEN      14
#define FRAME_IP_LEN       20
#define FRAME_UDP_LEN      8
#define FRAME_IP_OFF       FRAME_ETH_LEN
#define FRAME_UDP_OFF      (FRAME_IP_OFF + FRAME_IP_LEN)
#define FRAME_SEQ_OFF      (FRAME_UDP_OFF + FRAME_UDP_LEN)     /* 42 */
#define FRAME_HDRS_LEN     FRAME_SEQ_OFF
#define FRAME_SEQ_LEN      8
#define FRAME_WIRE_MIN     64      /* IEEE 802.3 minimum, FCS included */
#define FRAME_WIRE_MAX     1518    /* 1500-byte MTU + 14 + 4 */
#define FRAME_BUF_MAX      (FRAME_WIRE_MAX - FRAME_FCS_LEN)
#define FRAME_ETHERTYPE_IPV4 0x0800
#define FRAME_IPPROTO_UDP  17

/* What goes into every frame of a run; only the sequence number changes. */
struct frame_spec {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint32_t src_ip;        /* host byte order */
	uint32_t dst_ip;        /* host byte order */
	uint16_t src_port;
	uint16_t dst_port;
	unsigned wire_size;     /* FCS included: FRAME_WIRE_MIN..FRAME_WIRE_MAX */
	int udp_csum;           /* 1: correct UDP checksum, 0: send 0 (none) */
};

/* Bytes handed to the socket for a frame of wire_size (i.e. minus FCS). */
static inline size_t frame_buf_len(unsigned wire_size)
{
	return (size_t)wire_size - FRAME_FCS_LEN;
}

/* RFC 1071 ones'-complement sum of len bytes (big-endian 16-bit words, an
 * odd last byte padded with zero), added to sum, not folded. */
uint32_t frame_csum_add(uint32_t sum, const uint8_t *p, size_t len);

/* Fold a 32-bit ones'-complement sum to 16 bits (not complemented). */
uint16_t frame_csum_fold(uint32_t sum);

/*
 * Write the frame for spec into buf (frame_buf_len(spec->wire_size) bytes)
 * with sequence number seq. Returns the length written, or 0 if the spec is
 * invalid (size out of range). Pure: any context, no allocation.
 */
size_t frame_build(const struct frame_spec *spec, uint8_t *buf, uint64_t seq);

/*
 * The UDP checksum of the template frame with its sequence field zero, as a
 * 32-bit unfolded sum over the pseudo-header, UDP header (checksum 0) and
 * payload. frame_set_seq() adds the sequence words to it per frame, which
 * costs four additions instead of a pass over the payload.
 */
uint32_t frame_udp_base_sum(const uint8_t *buf, size_t len);

/*
 * Put seq into a frame built by frame_build() and, if base_sum is not
 * FRAME_NO_UDP_CSUM, the matching UDP checksum (RFC 768: a computed 0 is
 * sent as 0xffff, since 0 means "no checksum").
 */
#define FRAME_NO_UDP_CSUM UINT32_MAX
void frame_set_seq(uint8_t *buf, uint64_t seq, uint32_t base_sum);

/* Big-endian helpers. */
void frame_put_be16(uint8_t *p, uint16_t v);
void frame_put_be32(uint8_t *p, uint32_t v);
void frame_put_be64(uint8_t *p, uint64_t v);
uint16_t frame_get_be16(const uint8_t *p);
uint32_t frame_get_be32(const uint8_t *p);
uint64_t frame_get_be64(const uint8_t *p);

/*
 * Parse a received frame as an echo reply to spec: IPv4 without options or
 * fragments, UDP, from spec->dst_ip:src_udp_port to spec->src_ip:
 * spec->src_port, with at least 8 bytes of payload. A valid IPv4 header
 * checksum is required; the UDP checksum is checked when it is not 0.
 * Returns 0 and the sequence number in *seq, or a negative FRAME_E* code.
 */
enum {
	FRAME_ENOTIP = -1,     /* not IPv4 / not UDP / wrong addresses: not ours */
	FRAME_ESHORT = -2,     /* ours, but truncated or lengths inconsistent */
	FRAME_ECSUM = -3,      /* ours, but a checksum is wrong */
};
int frame_parse_reply(const struct frame_spec *spec, uint16_t reply_src_port,
		      const uint8_t *buf, size_t len, uint64_t *seq);

/* "aa:bb:cc:dd:ee:ff" (also '-' separated) -> mac. 0 or -1. */
int frame_parse_mac(const char *s, uint8_t mac[6]);
/* Dotted quad -> host-order address. 0 or -1. */
int frame_parse_ipv4(const char *s, uint32_t *ip);

/*
 * Whether ip (host order) is in an address range set aside for private or
 * test networks: 10/8, 172.16/12, 192.168/16 (RFC 1918), 198.18/15
 * (RFC 2544 benchmarking), 169.254/16 (link-local). The generator refuses
 * other destinations, so a mistyped address cannot flood a real host even if
 * someone runs it outside the harness's namespace.
 */
int frame_ip_is_private(uint32_t ip);

#endif
