/*
 * test_flood_frame - the flood generator's frames, byte for byte.
 * Compiles harness/flood/frame.c into this host test. The known-answer
 * frame was produced independently with scapy (Ether/IP/UDP, checksums
 * filled in by scapy), so a checksum or layout slip in frame.c shows here.
 */
#include <string.h>

#include "check.h"
#include "harness/flood/frame.c"

static const struct frame_spec base_spec = {
	.dst_mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
	.src_mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	.src_ip = 0x0a4d0001,   /* 10.77.0.1 */
	.dst_ip = 0x0a4d0002,   /* 10.77.0.2 */
	.src_port = 49152,
	.dst_port = 9,
	.wire_size = 64,
	.udp_csum = 1,
};

/* scapy: Ether(dst=52:54:00:12:34:56, src=02:00:00:00:00:01) /
 * IP(10.77.0.1 -> 10.77.0.2, DF, id 0, ttl 64) / UDP(49152 -> 9) /
 * seq 1 (8 bytes BE) + bytes 50..59; IP csum 0x2623, UDP csum 0x1bff. */
static const char known_hex[] =
	"52540012345602000000000108004500002e00004000401126230a4d00010a4d0002"
	"c0000009001a1bff000000000000000132333435363738393a3b";

static void unhex(const char *s, uint8_t *out)
{
	for (size_t i = 0; s[2 * i]; i++)
		out[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
}

/* Full recomputation, independent of the incremental path. */
static int ip_csum_ok(const uint8_t *f)
{
	return frame_csum_fold(frame_csum_add(0, f + FRAME_IP_OFF, 20)) == 0xffff;
}

static int udp_csum_ok(const uint8_t *f)
{
	const uint8_t *ip = f + FRAME_IP_OFF, *udp = f + FRAME_UDP_OFF;
	uint16_t ulen = frame_get_be16(udp + 4);
	uint32_t sum = frame_csum_add(0, ip + 12, 8) + 17 + ulen;
	sum = frame_csum_add(sum, udp, ulen);
	return frame_csum_fold(sum) == 0xffff;
}

static void test_rfc1071_example(void)
{
	/* RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2. */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	CHECK_EQ_U(frame_csum_fold(frame_csum_add(0, b, sizeof(b))), 0xddf2);
	/* Odd length: last byte is the high half of a zero-padded word. */
	static const uint8_t c[] = { 0x12, 0x34, 0x56 };
	CHECK_EQ_U(frame_csum_fold(frame_csum_add(0, c, 3)), 0x1234 + 0x5600);
}

static void test_known_answer(void)
{
	uint8_t want[60], got[FRAME_BUF_MAX];
	unhex(known_hex, want);
	memset(got, 0xee, sizeof(got));
	CHECK_EQ_U(frame_build(&base_spec, got, 1), 60);
	CHECK(memcmp(got, want, 60) == 0);
	CHECK_EQ_U(got[60], 0xee);   /* nothing written past the frame */
	for (int i = 0; i < 60; i++)
		if (got[i] != want[i])
			fprintf(stderr, "  byte %d: got %02x want %02x\n", i, got[i], want[i]);
}

static void test_sizes_and_seqs(void)
{
	static const unsigned sizes[] = { 64, 65, 66, 127, 128, 512, 1023, 1517, 1518 };
	static const uint64_t seqs[] = {
		0, 1, 0xfffe, 0xffff, 0x10000, 0xffffffffull, 0x0123456789abcdefull,
		0xfffffffffffffffeull, UINT64_MAX,
	};
	uint8_t f[FRAME_BUF_MAX];
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct frame_spec sp = base_spec;
		sp.wire_size = sizes[s];
		size_t len = frame_build(&sp, f, 0);
		CHECK_EQ_U(len, sizes[s] - 4);
		CHECK_EQ_U(frame_get_be16(f + 12), 0x0800);
		CHECK_EQ_U(frame_get_be16(f + FRAME_IP_OFF + 2), len - 14);
		CHECK_EQ_U(frame_get_be16(f + FRAME_UDP_OFF + 4), len - 34);
		CHECK(ip_csum_ok(f));
		CHECK_EQ_U(f[len - 1], (len - 1) & 0xff);   /* fill pattern */
		uint32_t base = frame_udp_base_sum(f, len);
		for (size_t q = 0; q < sizeof(seqs) / sizeof(seqs[0]); q++) {
			frame_set_seq(f, seqs[q], base);
			CHECK_EQ_U(frame_get_be64(f + FRAME_SEQ_OFF), seqs[q]);
			CHECK(udp_csum_ok(f));
			CHECK(frame_get_be16(f + FRAME_UDP_OFF + 6) != 0);
			CHECK(ip_csum_ok(f));   /* IP header untouched */
		}
		/* Incremental result equals a frame built for that seq. */
		uint8_t g[FRAME_BUF_MAX];
		frame_build(&sp, g, UINT64_MAX);
		CHECK(memcmp(f, g, len) == 0);
	}
}

static void test_udp_csum_off(void)
{
	struct frame_spec sp = base_spec;
	uint8_t f[FRAME_BUF_MAX];
	sp.udp_csum = 0;
	frame_build(&sp, f, 77);
	CHECK_EQ_U(frame_get_be16(f + FRAME_UDP_OFF + 6), 0);
	frame_set_seq(f, 78, FRAME_NO_UDP_CSUM);
	CHECK_EQ_U(frame_get_be16(f + FRAME_UDP_OFF + 6), 0);
	CHECK_EQ_U(frame_get_be64(f + FRAME_SEQ_OFF), 78);
}

static void test_zero_csum_sent_as_ffff(void)
{
	/* Search for a sequence number whose UDP checksum computes to 0:
	 * RFC 768 says it must go out as 0xffff. The 16-bit sum of the seq
	 * words can take any value, so one exists among the low 2^16. */
	uint8_t f[FRAME_BUF_MAX];
	size_t len = frame_build(&base_spec, f, 0);
	uint32_t base = frame_udp_base_sum(f, len);
	int found = 0;
	for (uint64_t s = 0; s < 0x20000 && !found; s++) {
		uint32_t sum = base;
		uint8_t b[8];
		frame_put_be64(b, s);
		sum = frame_csum_add(sum, b, 8);
		uint16_t csum = (uint16_t)~frame_csum_fold(sum);
		if (csum == 0) {
			frame_set_seq(f, s, base);
			CHECK_EQ_U(frame_get_be16(f + FRAME_UDP_OFF + 6), 0xffff);
			CHECK(udp_csum_ok(f));
			found = 1;
		}
	}
	CHECK(found);
}

static void test_bad_sizes(void)
{
	struct frame_spec sp = base_spec;
	uint8_t f[FRAME_BUF_MAX + 64];
	sp.wire_size = 63;
	CHECK_EQ_U(frame_build(&sp, f, 0), 0);
	sp.wire_size = 1519;
	CHECK_EQ_U(frame_build(&sp, f, 0), 0);
	sp.wire_size = 0;
	CHECK_EQ_U(frame_build(&sp, f, 0), 0);
}

/* An echo reply as the guest would send it: addresses and ports swapped. */
static size_t make_reply(uint8_t *f, unsigned wire, uint64_t seq, int csum)
{
	struct frame_spec r = base_spec;
	memcpy(r.dst_mac, base_spec.src_mac, 6);
	memcpy(r.src_mac, base_spec.dst_mac, 6);
	r.src_ip = base_spec.dst_ip;
	r.dst_ip = base_spec.src_ip;
	r.src_port = 7;
	r.dst_port = base_spec.src_port;
	r.wire_size = wire;
	r.udp_csum = csum;
	return frame_build(&r, f, seq);
}

static void test_parse_reply(void)
{
	uint8_t f[FRAME_BUF_MAX];
	uint64_t seq = 0;
	size_t len = make_reply(f, 64, 12345, 1);
	CHECK_EQ_U(frame_parse_reply(&base_spec, 7, f, len, &seq), 0);
	CHECK_EQ_U(seq, 12345);
	/* Without UDP checksum. */
	len = make_reply(f, 200, 99, 0);
	CHECK_EQ_U(frame_parse_reply(&base_spec, 7, f, len, &seq), 0);
	CHECK_EQ_U(seq, 99);
	/* Ethernet padding after the datagram is allowed. */
	CHECK_EQ_U(frame_parse_reply(&base_spec, 7, f, len + 10, &seq), 0);
	/* Not ours: wrong reply port, wrong address, ARP. */
	len = make_reply(f, 64, 5, 1);
	CHECK_EQ_U(frame_parse_reply(&base_spec, 9, f, len, &seq), FRAME_ENOTIP);
	struct frame_spec other = base_spec;
	other.src_ip = 0x0a4d0003;
	CHECK_EQ_U(frame_parse_reply(&other, 7, f, len, &seq), FRAME_ENOTIP);
	f[12] = 0x08; f[13] = 0x06;
	CHECK_EQ_U(frame_parse_reply(&base_spec, 7, f, len, &seq), FRAME_ENOTIP);
	/* Truncated. */
	len = make_reply(f, 64, 5, 1);
	CHECK_EQ_U(frame_parse_reply(&base_spec, 7, f, len - 1, &seq), FRAME_ESHORT);
	CHECK_EQ_U(frame_parse_reply(&base_spec, 7, f, 40, &seq), FRAME_ESHORT);
	CHECK_EQ_U(frame_parse_reply(&base_spec, 7, f, 10, &seq), FRAME_ENOTIP);
	/* Corrupt payload: UDP checksum catches it. */
	f[len - 1] ^= 0x40;
	CHECK_EQ_U(frame_parse_reply(&base_spec, 7, f, len, &seq), FRAME_ECSUM);
	/* Corrupt IP header checksum. */
	len = make_reply(f, 64, 5, 1);
	f[FRAME_IP_OFF + 10] ^= 1;
	CHECK_EQ_U(frame_parse_reply(&base_spec, 7, f, len, &seq), FRAME_ECSUM);
	/* A fragment. */
	len = make_reply(f, 64, 5, 0);
	f[FRAME_IP_OFF + 6] = 0x20;   /* MF */
	CHECK_EQ_U(frame_parse_reply(&base_spec, 7, f, len, &seq), FRAME_ESHORT);
}

static void test_parse_mac(void)
{
	static const struct { const char *s; int ok; uint8_t m[6]; } t[] = {
		{ "52:54:00:12:34:56", 1, { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } },
		{ "AA-bb-CC-dd-EE-ff", 1, { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff } },
		{ "52:54:00:12:34", 0, { 0 } },
		{ "52:54:00:12:34:56:", 0, { 0 } },
		{ "52:54:00:12:34:5", 0, { 0 } },
		{ "5:54:00:12:34:56", 0, { 0 } },
		{ "52:54:00:12:34:5g", 0, { 0 } },
		{ "52545400123456", 0, { 0 } },
		{ "", 0, { 0 } },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t m[6] = { 0 };
		int rc = frame_parse_mac(t[i].s, m);
		CHECK_EQ_U(rc == 0, t[i].ok);
		if (t[i].ok)
			CHECK(memcmp(m, t[i].m, 6) == 0);
	}
}

static void test_parse_ipv4(void)
{
	static const struct { const char *s; int ok; uint32_t ip; } t[] = {
		{ "10.77.0.2", 1, 0x0a4d0002 },
		{ "0.0.0.0", 1, 0 },
		{ "255.255.255.255", 1, 0xffffffff },
		{ "256.1.1.1", 0, 0 },
		{ "1.2.3", 0, 0 },
		{ "1.2.3.4.5", 0, 0 },
		{ "1..3.4", 0, 0 },
		{ "1.2.3.4 ", 0, 0 },
		{ "0001.2.3.4", 0, 0 },
		{ "a.b.c.d", 0, 0 },
		{ "", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t ip = 0x5a5a5a5a;
		int rc = frame_parse_ipv4(t[i].s, &ip);
		CHECK_EQ_U(rc == 0, t[i].ok);
		if (t[i].ok)
			CHECK_EQ_U(ip, t[i].ip);
	}
}

static void test_private_ranges(void)
{
	static const struct { const char *s; int priv; } t[] = {
		{ "10.0.0.0", 1 }, { "10.255.255.255", 1 }, { "9.255.255.255", 0 },
		{ "11.0.0.0", 0 }, { "172.16.0.1", 1 }, { "172.31.255.255", 1 },
		{ "172.15.255.255", 0 }, { "172.32.0.0", 0 }, { "192.168.1.1", 1 },
		{ "192.169.0.0", 0 }, { "198.18.0.1", 1 }, { "198.19.255.255", 1 },
		{ "198.17.255.255", 0 }, { "198.20.0.0", 0 }, { "169.254.3.4", 1 },
		{ "8.8.8.8", 0 }, { "255.255.255.255", 0 }, { "224.0.0.1", 0 },
		{ "127.0.0.1", 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t ip;
		CHECK(frame_parse_ipv4(t[i].s, &ip) == 0);
		if (frame_ip_is_private(ip) != t[i].priv)
			fprintf(stderr, "  %s\n", t[i].s);
		CHECK_EQ_U(frame_ip_is_private(ip), t[i].priv);
	}
}

int main(void)
{
	test_rfc1071_example();
	test_known_answer();
	test_sizes_and_seqs();
	test_udp_csum_off();
	test_zero_csum_sent_as_ffff();
	test_bad_sizes();
	test_parse_reply();
	test_parse_mac();
	test_parse_ipv4();
	test_private_ranges();
	return check_summary("test_flood_frame");
}
