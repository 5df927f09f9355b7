/*
 * Host test of net/checksum.c: known vectors (RFC 1071's example, and the
 * frames scapy 2.5, an independent implementation, built: net_golden.h),
 * and a property test against the plain RFC 1071 reference in
 * net_frames.h for every length 0..300 at every alignment 0..7.
 */
#include "net_shim.h"
#include "check.h"
#include "net_frames.h"
#include "net_golden.h"
#include "net/checksum.c"

static void test_rfc1071_example(void)
{
	/* RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (big-endian
	 * words), so the checksum is ~ddf2 = 220d. */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	CHECK_EQ_U(inet_csum(b, sizeof(b)), 0x220d);
	CHECK_EQ_U(inet_csum(b, 0), 0xffff);
	/* A single odd byte is the high half of a word: 0x0100 -> ~ = 0xfeff. */
	static const uint8_t one = 1;
	CHECK_EQ_U(inet_csum(&one, 1), 0xfeff);
}

static void test_ip_header(void)
{
	uint8_t h[20];
	memcpy(h, scapy_udp + 14, 20);
	CHECK_EQ_U(ip_hdr_csum(h, 5), 0);             /* valid as received */
	h[10] = h[11] = 0;
	CHECK_EQ_U(ip_hdr_csum(h, 5), 0x53ec);        /* recomputed = scapy's */
	memcpy(h, scapy_icmp + 14, 20);
	h[10] = h[11] = 0;
	CHECK_EQ_U(ip_hdr_csum(h, 5), 0x662d);
	/* Wikipedia's IPv4 header checksum example: b861. */
	static const uint8_t w[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				       0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	CHECK_EQ_U(ip_hdr_csum(w, 5), 0xb861);
	/* With options (IHL 6): the general path agrees with the reference. */
	uint8_t o[24];
	memcpy(o, w, 20);
	o[0] = 0x46;
	o[20] = o[21] = o[22] = o[23] = 1;
	CHECK_EQ_U(ip_hdr_csum(o, 6), t_fold(t_sum(o, 24, 0)));
}

static void test_icmp_udp_vectors(void)
{
	const uint8_t *m = scapy_icmp + 34;
	CHECK_EQ_U(inet_csum(m, sizeof(scapy_icmp) - 34), 0);   /* valid */
	uint8_t copy[sizeof(scapy_icmp) - 34];
	memcpy(copy, m, sizeof(copy));
	copy[2] = copy[3] = 0;
	CHECK_EQ_U(inet_csum(copy, sizeof(copy)), 0x436f);

	const uint8_t *u = scapy_udp + 34;
	uint16_t ulen = 29;
	uint64_t ps = csum_pseudo(T_HOST_IP, T_GUEST_IP, 17, ulen);
	CHECK_EQ_U(csum_fold(csum_partial(u, ulen, ps)), 0);    /* valid */
	uint8_t ucopy[29];
	memcpy(ucopy, u, 29);
	ucopy[6] = ucopy[7] = 0;
	CHECK_EQ_U(csum_fold(csum_partial(ucopy, ulen, ps)), 0x8fce);
	/* A flipped payload bit is caught. */
	ucopy[6] = 0x8f;
	ucopy[7] = 0xce;
	ucopy[20] ^= 0x10;
	CHECK(csum_fold(csum_partial(ucopy, ulen, ps)) != 0);
}

static void test_against_reference(void)
{
	static uint8_t buf[320];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	int bad = 0;
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 300; len++)
			if (inet_csum(buf + off, len) != t_fold(t_sum(buf + off, len, 0)))
				bad++;
	CHECK_EQ_U(bad, 0);
	/* All-ones data: sums near the fold boundaries. */
	memset(buf, 0xff, sizeof(buf));
	for (size_t len = 0; len <= 300; len++)
		if (inet_csum(buf, len) != t_fold(t_sum(buf, len, 0)))
			bad++;
	CHECK_EQ_U(bad, 0);
	/* Pseudo-header with carries out of 16 bits. */
	uint32_t s = 0xffff + 0xffff + 0xffff + 0xfffe + 17 + 1500;
	uint8_t zero = 0;
	CHECK_EQ_U(csum_fold(csum_partial(&zero, 0, csum_pseudo(0xffffffffu, 0xfffffffeu, 17, 1500))),
		   t_fold(s));
}

int main(void)
{
	test_rfc1071_example();
	test_ip_header();
	test_icmp_udp_vectors();
	test_against_reference();
	return check_summary("test_net_csum");
}
