/*
 * netstat.h - what happened to every received frame.
 *
 * The receive path is a pure function from a frame to a verdict
 * (net_rx_frame() in net/eth.c); netif_receive_pkt() counts exactly one
 * verdict per frame, in one place. A verdict is either an outcome (the
 * frame reached the sink, was echoed, was answered, or was consumed, e.g.
 * an ARP reply we learned from) or a drop with a named reason. So, always:
 *
 *   rx_frames == sum(verdict[]) == sink + echoed + answered + consumed + dropped
 *
 * and the `net` stats section shows the difference as `unaccounted`, which
 * tests assert is 0.
 *
 * Counters are plain uint64_t: they are written only by the receive path,
 * which runs in one context at a time (see netif_receive_pkt()), and read
 * by the shell with interrupts off.
 */
#ifndef NET_NETSTAT_H
#define NET_NETSTAT_H

#include <stdint.h>

#define NET_OUTCOMES(X) X(sink) X(echoed) X(answered) X(consumed)

#define NET_DROP_REASONS(X) \
	X(runt) X(oversize) X(not_for_us) X(unknown_ethertype) \
	X(arp_short) X(arp_bad_header) X(arp_bad_op) X(arp_not_for_us) \
	X(ip_short) X(ip_version) X(ip_bad_ihl) X(ip_bad_len) X(ip_csum) \
	X(ip_not_for_us) X(ip_fragment) X(ip_unknown_proto) \
	X(icmp_short) X(icmp_csum) X(icmp_type) \
	X(udp_short) X(udp_bad_len) X(udp_csum) X(udp_no_port) X(sink_short) \
	X(tx_error)

enum net_verdict {
#define NV_ENUM(name) NV_##name,
	NET_OUTCOMES(NV_ENUM)
	NV_DROP_FIRST,
	NV_DROP_BEFORE = NV_DROP_FIRST - 1, /* so the first reason == NV_DROP_FIRST */
	NET_DROP_REASONS(NV_ENUM)
#undef NV_ENUM
	NV_NR
};

/* Name of a verdict ("sink", "runt", ...), as used in the stats JSON. */
const char *net_verdict_name(enum net_verdict v);

struct net_counters {
	uint64_t rx_frames;              /* frames handed to netif_receive_pkt */
	uint64_t rx_bytes;
	uint64_t tx_frames;              /* accepted by a driver's xmit */
	uint64_t tx_bytes;
	uint64_t verdict[NV_NR];         /* one per received frame */
	/* Where netif_receive_pkt() ran: softirq (NAPI), hard IRQ (no-NAPI
	 * mode), or elsewhere (task context: `net bench`, or a bug). */
	uint64_t rx_softirq, rx_hardirq, rx_other;
	struct {
		uint64_t rx, requests, replies, answered, learned, updated, evicted;
	} arp;
	struct {
		uint64_t rx;                 /* headers valid and addressed to us */
		uint64_t options;            /* of those, with IP options (skipped) */
	} ipv4;
	struct {
		uint64_t rx, echo_requests, echo_replies;
	} icmp;
	struct {
		uint64_t rx;                 /* headers valid */
		uint64_t csum_checked;       /* checksum nonzero, verified */
		uint64_t csum_none;          /* checksum 0: sender did not compute */
		uint64_t echo, sink;
	} udp;
};

extern struct net_counters net_stats;

/* Sum of the drop verdicts. */
uint64_t net_dropped_total(const struct net_counters *c);
/* rx_frames - sum(verdict[]): 0 unless a frame went uncounted. */
int64_t net_unaccounted(const struct net_counters *c);

#endif
