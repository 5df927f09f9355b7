/*
 * fuzz_frame.c - libFuzzer target for net/'s receive path: each input is
 * one received frame, fed through netif_receive_pkt() with a fake netdev
 * (tests/unit/net_host.h) that records what the stack transmits.
 *
 * Input: byte 0 selects fix-ups that let random data get past the checks
 * a fuzzer cannot guess (bit 0: destination = our MAC, bit 1: = broadcast,
 * bit 2: recompute the IPv4 header checksum, bit 3: recompute the ICMP or
 * UDP checksum); the rest is the frame.
 *
 * After every frame, aborts (a finding) unless: exactly one verdict was
 * counted and rx_frames reconciles; every buffer is back in the pool; a
 * transmitted reply fits its buffer, is addressed to the frame's sender,
 * and carries valid IPv4/ICMP/UDP checksums.
 *
 * Build and run: tests/fuzz/run.sh (clang-14, -fsanitize=fuzzer,address,
 * undefined).
 */
#include "net_shim.h"
#include "net_frames.h"
#include "net_host.h"

static void fixup(uint8_t *f, size_t len, uint8_t mode)
{
	if (len >= 6 && (mode & 1))
		memcpy(f, fake_dev.mac, 6);
	if (len >= 6 && (mode & 2))
		memset(f, 0xff, 6);
	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return;
	uint8_t *h = f + 14;
	size_t hlen = (h[0] & 15) * 4u;
	if (hlen < 20 || 14 + hlen > len)
		return;
	size_t tot = t_get16(h + 2);
	if ((mode & 8) && tot >= hlen && 14 + tot <= len) {
		uint8_t *l4 = h + hlen;
		size_t l4len = tot - hlen;
		if (h[9] == 1 && l4len >= 8) {
			t_put16(l4 + 2, 0);
			t_put16(l4 + 2, t_fold(t_sum(l4, l4len, 0)));
		} else if (h[9] == 17 && l4len >= 8) {
			size_t ulen = t_get16(l4 + 4);
			if (ulen >= 8 && ulen <= l4len) {
				t_put16(l4 + 6, 0);
				t_put16(l4 + 6, t_udp_csum(l4, ulen, t_get32(h + 12), t_get32(h + 16)));
			}
		}
	}
	if (mode & 4) {
		t_put16(h + 10, 0);
		t_put16(h + 10, t_fold(t_sum(h, hlen, 0)));
	}
}

static void check_reply(const uint8_t *in, size_t in_len)
{
	const uint8_t *r = fake_tx.frame;
	size_t len = fake_tx.len;
	if (len < 14 || len > 1514 || len > in_len)
		abort();
	if (memcmp(r + 6, fake_dev.mac, 6) != 0)
		abort();
	uint16_t type = t_get16(r + 12);
	if (type == 0x0806) {
		if (len != 42 || memcmp(r, in + 6 + 16, 6) != 0)  /* to the ARP sender */
			abort();
		return;
	}
	if (type != 0x0800 || memcmp(r, in + 6, 6) != 0 || len < 34)
		abort();
	const uint8_t *h = r + 14;
	if (h[0] != 0x45 || t_fold(t_sum(h, 20, 0)) != 0)
		abort();
	size_t tot = t_get16(h + 2);
	if (14 + tot != len)
		abort();
	const uint8_t *l4 = h + 20;
	size_t l4len = tot - 20;
	if (h[9] == 1 && (l4len < 8 || l4[0] != 0 || t_fold(t_sum(l4, l4len, 0)) != 0))
		abort();
	if (h[9] == 17) {
		if (l4len < 8 || t_get16(l4 + 4) != l4len)
			abort();
		uint32_t src = t_get32(h + 12), dst = t_get32(h + 16);
		uint32_t ps = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
			      17 + (uint32_t)l4len;
		/* with the field included, a valid datagram sums to 0xffff */
		if (t_get16(l4 + 6) && t_fold(t_sum(l4, l4len, ps)) != 0)
			abort();
	}
}

/* How deep the run got: the verdicts it reached, printed at exit. */
static void print_verdicts(void)
{
	fprintf(stderr, "fuzz_frame verdicts:");
	for (int v = 0; v < NV_NR; v++)
		fprintf(stderr, " %s=%llu", net_verdict_name(v),
			(unsigned long long)net_stats.verdict[v]);
	fprintf(stderr, "\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static uint8_t f[PKT_BUF_SIZE];
	if (!ready) {
		net_host_setup();
		atexit(print_verdicts);
		ready = 1;
	}
	if (size < 1)
		return 0;
	size_t len = size - 1 > sizeof(f) ? sizeof(f) : size - 1;
	memcpy(f, data + 1, len);
	fixup(f, len, data[0]);

	unsigned long sent = fake_tx.count;
	uint64_t rx = net_stats.rx_frames;
	enum net_verdict v = net_host_rx(f, len);
	if (v == NV_NR || net_stats.rx_frames != rx + 1 || net_unaccounted(&net_stats) != 0)
		abort();
	if ((v == NV_answered || v == NV_echoed) != (fake_tx.count == sent + 1))
		abort();
	if (fake_tx.count != sent)
		check_reply(f, len);

	struct pkt_pool_stats ps;
	pkt_pool_stats(&ps);
	if (ps.free != ps.total || ps.double_free || !shim_if)
		abort();
	return 0;
}
