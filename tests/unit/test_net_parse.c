/*
 * Host test of net/'s receive path (eth, arp, ipv4, icmp, udp, sink,
 * netdev): a table of good frames and of each malformed kind, each fed
 * through netif_receive_pkt() with a fake netdev; checks the one verdict
 * counted, the replies byte by byte, and that the counters reconcile and
 * every buffer returns to the pool. Also the in-kernel generators' sink
 * frame (net/sink_frame.c): checked field by field against the reference
 * checksum and taken by the sink.
 */
#include "net_shim.h"
#include "check.h"
#include "net_frames.h"
#include "net_golden.h"
#include "net_host.h"
#include "net/sink_frame.c"

static uint8_t F[2048];

/* ---- builders: each writes F and returns its length */
static size_t b_runt0(void) { return 0; }
static size_t b_runt13(void) { memset(F, 0xff, 13); return 13; }
static size_t b_oversize(void)
{
	uint8_t pl[1472] = { 0 };
	t_udp(F, 9, pl, sizeof(pl), 1);
	return 1515;    /* one byte past a full 1500-byte IP packet */
}
static size_t b_max_ok(void)
{
	uint8_t pl[1472] = { 0 };
	return t_udp(F, 9, pl, sizeof(pl), 1);   /* exactly 1514 */
}
static size_t b_other_mac(void)
{
	size_t n = t_icmp_echo(F, 0, 8);
	F[5] ^= 1;
	return n;
}
static size_t b_multicast(void)
{
	static const uint8_t mc[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	size_t n = t_icmp_echo(F, 0, 8);
	memcpy(F, mc, 6);
	return n;
}
static size_t b_ipv6(void) { size_t n = t_icmp_echo(F, 0, 8); t_put16(F + 12, 0x86dd); return n; }
static size_t b_vlan(void) { size_t n = t_icmp_echo(F, 0, 8); t_put16(F + 12, 0x8100); return n; }
static size_t b_hdr_only(void) { return t_eth(F, T_GUEST_MAC, T_HOST_MAC, 0x0800); }

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static size_t b_arp_req(void) { return t_arp(F, 1, T_HOST_IP, T_GUEST_IP, BCAST); }
static size_t b_arp_req_padded(void) { size_t n = t_arp(F, 1, T_HOST_IP, T_GUEST_IP, BCAST); memset(F + n, 0, 60 - n); return 60; }
static size_t b_arp_req_other(void) { return t_arp(F, 1, T_HOST_IP, 0x0a4d0063, BCAST); }
static size_t b_arp_reply(void) { return t_arp(F, 2, 0x0a4d0005, T_GUEST_IP, T_GUEST_MAC); }
static size_t b_arp_short(void) { return t_arp(F, 1, T_HOST_IP, T_GUEST_IP, BCAST) - 1; }
static size_t b_arp_htype(void) { size_t n = b_arp_req(); t_put16(F + 14, 6); return n; }
static size_t b_arp_ptype(void) { size_t n = b_arp_req(); t_put16(F + 16, 0x86dd); return n; }
static size_t b_arp_hlen(void) { size_t n = b_arp_req(); F[18] = 8; return n; }
static size_t b_arp_plen(void) { size_t n = b_arp_req(); F[19] = 16; return n; }
static size_t b_arp_op(void) { size_t n = b_arp_req(); t_put16(F + 20, 3); return n; }

static size_t b_ping(void) { return t_icmp_echo(F, 0, 17); }
static size_t b_ping_opts(void) { return t_icmp_echo(F, 8, 16); }
static size_t b_ping_bcast(void) { size_t n = t_icmp_echo(F, 0, 4); memcpy(F, BCAST, 6); return n; }
static size_t b_ip_short(void) { t_icmp_echo(F, 0, 8); return 14 + 19; }
static size_t b_ip_short_opts(void) { t_icmp_echo(F, 8, 0); return 14 + 24; /* IHL 7 = 28 */ }
static size_t b_ip_version(void) { size_t n = t_icmp_echo(F, 0, 8); F[14] = 0x65; t_ip_recsum(F); return n; }
static size_t b_ip_ihl(void)
{
	size_t n = t_icmp_echo(F, 0, 8);
	F[14] = 0x44;
	/* checksum over the 20 bytes anyway: the IHL check must fire first */
	t_put16(F + 24, 0);
	t_put16(F + 24, t_fold(t_sum(F + 14, 20, 0)));
	return n;
}
static size_t b_ip_csum(void) { size_t n = t_icmp_echo(F, 0, 8); F[25] ^= 0x01; return n; }
static size_t b_ip_len_big(void) { size_t n = t_icmp_echo(F, 0, 8); t_put16(F + 16, (uint16_t)(n - 14 + 1)); t_ip_recsum(F); return n; }
static size_t b_ip_len_small(void) { size_t n = t_icmp_echo(F, 0, 8); t_put16(F + 16, 19); t_ip_recsum(F); return n; }
static size_t b_ip_other(void) { size_t n = t_icmp_echo(F, 0, 8); t_put32(F + 30, 0x0a4d0003); t_ip_recsum(F); return n; }
static size_t b_ip_mf(void) { size_t n = t_icmp_echo(F, 0, 8); t_put16(F + 20, 0x2000); t_ip_recsum(F); return n; }
static size_t b_ip_off(void) { size_t n = t_icmp_echo(F, 0, 8); t_put16(F + 20, 0x0001); t_ip_recsum(F); return n; }
static size_t b_ip_df_ok(void) { size_t n = t_icmp_echo(F, 0, 8); t_put16(F + 20, 0x4000); t_ip_recsum(F); return n; }
static size_t b_ip_tcp(void) { size_t n = t_icmp_echo(F, 0, 8); F[23] = 6; t_ip_recsum(F); return n; }
static size_t b_ip_ttl0(void) { size_t n = t_icmp_echo(F, 0, 8); F[22] = 0; t_ip_recsum(F); return n; }

static size_t b_icmp_short(void)
{
	uint8_t *m = F + 34;
	memset(m, 0, 4);
	m[0] = 8;
	return t_ipv4(F, 1, T_HOST_IP, T_GUEST_IP, 0, 4);
}
static size_t b_icmp_csum(void) { size_t n = t_icmp_echo(F, 0, 8); F[40] ^= 0x80; return n; }
static size_t b_icmp_reply(void)
{
	size_t n = t_icmp_echo(F, 0, 8);
	F[34] = 0;
	t_put16(F + 36, 0);
	t_put16(F + 36, t_fold(t_sum(F + 34, 16, 0)));
	return n;
}
static size_t b_icmp_code(void)
{
	size_t n = t_icmp_echo(F, 0, 8);
	F[35] = 1;
	t_put16(F + 36, 0);
	t_put16(F + 36, t_fold(t_sum(F + 34, 16, 0)));
	return n;
}

static const uint8_t PL[] = "0123456789abcdefghij";
static size_t b_udp_echo(void) { return t_udp(F, 7, PL, 20, 1); }
static size_t b_udp_echo_odd(void) { return t_udp(F, 7, PL, 19, 1); }
static size_t b_udp_echo_nocsum(void) { return t_udp(F, 7, PL, 20, 0); }
static size_t b_udp_short(void) { memset(F + 34, 0, 6); return t_ipv4(F, 17, T_HOST_IP, T_GUEST_IP, 0, 6); }
static size_t b_udp_len_small(void) { size_t n = t_udp(F, 7, PL, 20, 0); t_put16(F + 38, 7); return n; }
static size_t b_udp_len_big(void) { size_t n = t_udp(F, 7, PL, 20, 0); t_put16(F + 38, 29); return n; }
static size_t b_udp_csum(void) { size_t n = t_udp(F, 7, PL, 20, 1); F[45] ^= 0x04; return n; }
static size_t b_udp_port(void) { return t_udp(F, 53, PL, 20, 1); }
static size_t b_sink(void) { return t_sink(F, 0, 10); }
static size_t b_sink_padded(void)
{
	/* 8-byte payload: IP packet 36 bytes, frame 50, padded to 60 */
	size_t n = t_sink(F, 1, 0);
	memset(F + n, 0xee, 60 - n);
	return 60;
}
static size_t b_sink_short(void) { return t_udp(F, 9, PL, 7, 1); }

struct rx_case {
	const char *name;
	size_t (*build)(void);
	enum net_verdict want;
};

static const struct rx_case cases[] = {
	{ "runt 0", b_runt0, NV_runt },
	{ "runt 13", b_runt13, NV_runt },
	{ "oversize 1515", b_oversize, NV_oversize },
	{ "1514 accepted", b_max_ok, NV_sink },
	{ "other unicast MAC", b_other_mac, NV_not_for_us },
	{ "multicast MAC", b_multicast, NV_not_for_us },
	{ "IPv6 ethertype", b_ipv6, NV_unknown_ethertype },
	{ "VLAN tag", b_vlan, NV_unknown_ethertype },
	{ "ethernet header only", b_hdr_only, NV_ip_short },
	{ "arp request", b_arp_req, NV_answered },
	{ "arp request padded", b_arp_req_padded, NV_answered },
	{ "arp request other ip", b_arp_req_other, NV_arp_not_for_us },
	{ "arp reply to us", b_arp_reply, NV_consumed },
	{ "arp truncated", b_arp_short, NV_arp_short },
	{ "arp htype", b_arp_htype, NV_arp_bad_header },
	{ "arp ptype", b_arp_ptype, NV_arp_bad_header },
	{ "arp hlen", b_arp_hlen, NV_arp_bad_header },
	{ "arp plen", b_arp_plen, NV_arp_bad_header },
	{ "arp op", b_arp_op, NV_arp_bad_op },
	{ "ping", b_ping, NV_answered },
	{ "ping with ip options", b_ping_opts, NV_answered },
	{ "ping to broadcast MAC", b_ping_bcast, NV_answered },
	{ "ip truncated header", b_ip_short, NV_ip_short },
	{ "ip truncated options", b_ip_short_opts, NV_ip_short },
	{ "ip version 6", b_ip_version, NV_ip_version },
	{ "ip ihl 4", b_ip_ihl, NV_ip_bad_ihl },
	{ "ip bad checksum", b_ip_csum, NV_ip_csum },
	{ "ip total length > frame", b_ip_len_big, NV_ip_bad_len },
	{ "ip total length < header", b_ip_len_small, NV_ip_bad_len },
	{ "ip not for us", b_ip_other, NV_ip_not_for_us },
	{ "ip more fragments", b_ip_mf, NV_ip_fragment },
	{ "ip fragment offset", b_ip_off, NV_ip_fragment },
	{ "ip DF is fine", b_ip_df_ok, NV_answered },
	{ "ip tcp", b_ip_tcp, NV_ip_unknown_proto },
	{ "ip ttl 0 is fine", b_ip_ttl0, NV_answered },
	{ "icmp truncated", b_icmp_short, NV_icmp_short },
	{ "icmp bad checksum", b_icmp_csum, NV_icmp_csum },
	{ "icmp echo reply", b_icmp_reply, NV_icmp_type },
	{ "icmp echo code 1", b_icmp_code, NV_icmp_type },
	{ "udp echo", b_udp_echo, NV_echoed },
	{ "udp echo odd length", b_udp_echo_odd, NV_echoed },
	{ "udp echo no checksum", b_udp_echo_nocsum, NV_echoed },
	{ "udp truncated header", b_udp_short, NV_udp_short },
	{ "udp length < 8", b_udp_len_small, NV_udp_bad_len },
	{ "udp length > ip payload", b_udp_len_big, NV_udp_bad_len },
	{ "udp bad checksum", b_udp_csum, NV_udp_csum },
	{ "udp closed port", b_udp_port, NV_udp_no_port },
	{ "sink", b_sink, NV_sink },
	{ "sink padded frame", b_sink_padded, NV_sink },
	{ "sink short payload", b_sink_short, NV_sink_short },
};

static void test_table(void)
{
	uint64_t want_count[NV_NR] = { 0 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(F, 0, sizeof(F));
		size_t len = cases[i].build();
		enum net_verdict got = net_host_rx(F, len);
		want_count[cases[i].want]++;
		if (got != cases[i].want)
			fprintf(stderr, "case '%s': got %s, want %s\n", cases[i].name,
				got < NV_NR ? net_verdict_name(got) : "(none)",
				net_verdict_name(cases[i].want));
		CHECK(got == cases[i].want);
	}
	for (int v = 0; v < NV_NR; v++)
		CHECK_EQ_U(net_stats.verdict[v], want_count[v]);
	CHECK_EQ_U(net_stats.rx_frames, sizeof(cases) / sizeof(cases[0]));
	CHECK_EQ_U(net_unaccounted(&net_stats), 0);
	/* every drop reason is exercised by the table except tx_error */
	for (int v = NV_DROP_FIRST; v < NV_NR; v++)
		if (v != NV_tx_error && !want_count[v]) {
			fprintf(stderr, "reason %s not covered\n", net_verdict_name(v));
			CHECK(0);
		}
}

static void test_replies(void)
{
	/* ICMP: byte for byte what scapy builds. */
	unsigned long sent = fake_tx.count;
	CHECK(net_host_rx(scapy_icmp, sizeof(scapy_icmp)) == NV_answered);
	CHECK_EQ_U(fake_tx.count, sent + 1);
	CHECK_EQ_U(fake_tx.len, sizeof(scapy_pong));
	CHECK(memcmp(fake_tx.frame, scapy_pong, sizeof(scapy_pong)) == 0);

	/* ICMP with options: reply without them, payload intact, valid. */
	size_t n = t_icmp_echo(F, 8, 16);
	CHECK(net_host_rx(F, n) == NV_answered);
	CHECK_EQ_U(fake_tx.len, n - 8);
	CHECK_EQ_U(fake_tx.frame[14], 0x45);
	CHECK_EQ_U(t_get16(fake_tx.frame + 16), 20 + 8 + 16);
	CHECK_EQ_U(t_fold(t_sum(fake_tx.frame + 14, 20, 0)), 0);
	CHECK_EQ_U(t_fold(t_sum(fake_tx.frame + 34, 24, 0)), 0);
	CHECK(memcmp(fake_tx.frame + 34 + 8, F + 14 + 28 + 8, 16) == 0);
	CHECK_EQ_U(fake_tx.frame[34], 0);

	/* UDP echo: ports and addresses swapped, checksum still valid. */
	n = t_udp(F, 7, PL, 19, 1);
	CHECK(net_host_rx(F, n) == NV_echoed);
	const uint8_t *r = fake_tx.frame;
	CHECK(memcmp(r, T_HOST_MAC, 6) == 0 && memcmp(r + 6, T_GUEST_MAC, 6) == 0);
	CHECK_EQ_U(t_get32(r + 26), T_GUEST_IP);
	CHECK_EQ_U(t_get32(r + 30), T_HOST_IP);
	CHECK_EQ_U(t_get16(r + 34), 7);
	CHECK_EQ_U(t_get16(r + 36), 40000);
	CHECK_EQ_U(t_fold(t_sum(r + 14, 20, 0)), 0);
	uint32_t ps = (T_GUEST_IP >> 16) + (T_GUEST_IP & 0xffff) + (T_HOST_IP >> 16) +
		      (T_HOST_IP & 0xffff) + 17 + 27;
	CHECK_EQ_U(t_fold(t_sum(r + 34, 27, ps)), 0);
	CHECK(memcmp(r + 42, PL, 19) == 0);

	/* ARP: an RFC 826 reply to the requester. */
	n = t_arp(F, 1, T_HOST_IP, T_GUEST_IP, BCAST);
	CHECK(net_host_rx(F, n) == NV_answered);
	CHECK_EQ_U(fake_tx.len, 42);
	CHECK(memcmp(r, T_HOST_MAC, 6) == 0 && memcmp(r + 6, T_GUEST_MAC, 6) == 0);
	CHECK_EQ_U(t_get16(r + 12), 0x0806);
	CHECK_EQ_U(t_get16(r + 20), 2);
	CHECK(memcmp(r + 22, T_GUEST_MAC, 6) == 0);
	CHECK_EQ_U(t_get32(r + 28), T_GUEST_IP);
	CHECK(memcmp(r + 32, T_HOST_MAC, 6) == 0);
	CHECK_EQ_U(t_get32(r + 38), T_HOST_IP);
	uint8_t mac[6];
	CHECK(arp_cache_lookup(&arp_cache, T_HOST_IP, mac) && memcmp(mac, T_HOST_MAC, 6) == 0);
	CHECK(arp_cache_lookup(&arp_cache, 0x0a4d0005, mac));   /* from the reply case */
	CHECK(!arp_cache_lookup(&arp_cache, 0x0a4d0063, mac));  /* request for another: not learned */
}

static void test_udp_csum_off_and_tx_error(void)
{
	size_t n = t_udp(F, 9, PL, 12, 1);
	F[50] ^= 1;
	CHECK(net_host_rx(F, n) == NV_udp_csum);
	net_if.udp_csum = false;
	CHECK(net_host_rx(F, n) == NV_sink);
	net_if.udp_csum = true;

	fake_tx.fail = 1;
	n = t_icmp_echo(F, 0, 8);
	CHECK(net_host_rx(F, n) == NV_tx_error);
	CHECK_EQ_U(fake_dev.tx_errors, 1);
	fake_tx.fail = 0;

	/* where it ran: counted by preempt_count */
	uint64_t h0 = net_stats.rx_hardirq, s0 = net_stats.rx_softirq, o0 = net_stats.rx_other;
	preempt_count_word = HARDIRQ_OFFSET;
	net_host_rx(F, n);
	preempt_count_word = SOFTIRQ_OFFSET;
	net_host_rx(F, n);
	net_host_rx(F, n);
	preempt_count_word = 0;
	CHECK_EQ_U(net_stats.rx_hardirq - h0, 1);
	CHECK_EQ_U(net_stats.rx_softirq - s0, 2);
	CHECK_EQ_U(net_stats.rx_other - o0, 0);
	CHECK_EQ_U(net_stats.rx_hardirq + net_stats.rx_softirq + net_stats.rx_other,
		   net_stats.rx_frames);
}

static void test_reconcile_and_pool(void)
{
	CHECK_EQ_U(net_unaccounted(&net_stats), 0);
	CHECK_EQ_U(fake_dev.rx_frames, net_stats.rx_frames);
	CHECK_EQ_U(net_stats.tx_frames, fake_tx.count);
	struct pkt_pool_stats ps;
	pkt_pool_stats(&ps);
	CHECK_EQ_U(ps.free, ps.total);        /* every pkt came back */
	CHECK_EQ_U(ps.double_free, 0);
	CHECK(shim_if);                       /* interrupts restored */
	/* sink saw: 1514 case (seq 0), b_sink (seq 0 dup), padded (seq 1),
	 * and the udp_csum-off datagram whose seq bytes are PL's. */
	CHECK_EQ_U(sink.short_, 1);
	CHECK(sink.received >= 3);
}

/* What softnic and `net bench` feed the stack: a valid datagram to the
 * sink from the given host, payload zeroed, UDP checksum 0. */
static void test_sink_frame(void)
{
	static const uint16_t plens[] = { 8, 18, 101, SINK_FRAME_PLEN_MAX };

	sink_reset(&sink);   /* a fresh stream: earlier tests sent other numbers */

	for (unsigned k = 0; k < sizeof(plens) / sizeof(plens[0]); k++) {
		uint16_t plen = plens[k];
		memset(F, 0xee, sizeof(F));
		uint16_t n = sink_frame_build(F, &net_if, T_HOST_MAC, T_HOST_IP, plen);
		CHECK_EQ_U(n, 14 + 20 + 8 + plen);
		CHECK(memcmp(F, T_GUEST_MAC, 6) == 0);
		CHECK(memcmp(F + 6, T_HOST_MAC, 6) == 0);
		CHECK_EQ_U(t_get16(F + 12), 0x0800);
		CHECK_EQ_U(F[14], 0x45);
		CHECK_EQ_U(t_get16(F + 16), 20 + 8 + plen);
		CHECK_EQ_U(t_get16(F + 20), 0);          /* no fragment bits */
		CHECK_EQ_U(F[22], 64);
		CHECK_EQ_U(F[23], 17);
		CHECK_EQ_U(t_fold(t_sum(F + 14, 20, 0)), 0);   /* header checksum */
		CHECK_EQ_U(t_get32(F + 26), T_HOST_IP);
		CHECK_EQ_U(t_get32(F + 30), T_GUEST_IP);
		CHECK_EQ_U(t_get16(F + 34), SINK_FRAME_SPORT);
		CHECK_EQ_U(t_get16(F + 36), 9);
		CHECK_EQ_U(t_get16(F + 38), 8 + plen);
		CHECK_EQ_U(t_get16(F + 40), 0);
		unsigned nonzero = 0;
		for (unsigned i = 0; i < plen; i++)
			nonzero += F[SINK_FRAME_HLEN + i] != 0;
		CHECK_EQ_U(nonzero, 0);
		CHECK_EQ_U(F[n], 0xee);                  /* nothing past the frame */

		t_put32(F + SINK_FRAME_HLEN + 4, 1000 + k);   /* sequence number */
		CHECK(net_host_rx(F, n) == NV_sink);
		CHECK_EQ_U(sink.highest_seq, 1000 + k);
	}
	CHECK_EQ_U(sink.received, 4);
}

int main(void)
{
	net_host_setup();
	test_table();
	test_replies();
	test_udp_csum_off_and_tx_error();
	test_reconcile_and_pool();
	test_sink_frame();
	return check_summary("test_net_parse");
}
