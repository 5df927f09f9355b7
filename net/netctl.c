/*
 * netctl.c - net/'s user interface: command-line keys (ip=, weight=,
 * budget=, budget_us=, pktpool=, udp_csum=), the shell commands `net`,
 * `arp`, `napi` and `sink`, and the `net` and `sink` sections of `stats`.
 *
 * The receive path's state (counters, ARP cache, sink) is written in
 * softirq or hard-IRQ context; the shell runs in task context and copies
 * or resets that state with interrupts off, which on our one CPU excludes
 * both (softirqs only run on interrupt exit or in ksoftirqd, never inside
 * an interrupts-off section).
 */
#include "net/netdev.h"
#include "net/napi.h"
#include "net/pkt.h"
#include "net/iface.h"
#include "net/netstat.h"
#include "net/arp_cache.h"
#include "net/sink.h"
#include "net/sink_frame.h"
#include "net/checksum.h"
#include "net/proto.h"
#include "net/byteorder.h"
#include "kernel/registry.h"
#include "kernel/cmdline.h"
#include "kernel/shell.h"
#include "kernel/printk.h"
#include "kernel/irqflags.h"
#include "kernel/cpu.h"
#include "kernel/time.h"
#include "kernel/errno.h"
#include "kernel/lib/json.h"
#include "kernel/lib/string.h"
#include "kernel/lib/printf.h"

extern unsigned int pkt_pool_size;   /* pkt.c */

/* ------------------------------------------------------------ cmdline */

static int set_ip(const char *v)
{
	uint32_t ip;
	uint8_t prefix;
	int err = net_parse_ip(v, &ip, &prefix);
	if (err)
		return err;
	net_if.ip = ip;
	net_if.prefix = prefix;
	return 0;
}
KPARAM("ip", set_ip, "guest IPv4 address ADDR/PREFIX (default 10.77.0.2/24)");

static int set_weight(const char *v)
{
	unsigned long n;
	int err = kparam_uint(v, 1, NAPI_WEIGHT_MAX, &n);
	if (!err)
		napi_set_weight((int)n);
	return err;
}
KPARAM("weight", set_weight, "NAPI weight: packets per poll (default 64)");

static int set_budget(const char *v)
{
	unsigned long n;
	int err = kparam_uint(v, 1, 1000000, &n);
	if (!err)
		napi_set_budget((int)n);
	return err;
}
KPARAM("budget", set_budget, "NET_RX packets per softirq run (default 300)");

static int set_budget_us(const char *v)
{
	unsigned long n;
	int err = kparam_uint(v, 1, 10000000, &n);
	if (!err)
		napi_set_budget_us((unsigned int)n);
	return err;
}
KPARAM("budget_us", set_budget_us, "NET_RX time limit per softirq run in us (default 2000)");

static int set_pktpool(const char *v)
{
	unsigned long n;
	int err = kparam_uint(v, 64, 65536, &n);
	if (!err)
		pkt_pool_size = (unsigned int)n;
	return err;
}
KPARAM("pktpool", set_pktpool, "packet buffers of 2 KiB (default 1024)");

static int parse_onoff(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "off") || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int set_udp_csum(const char *v)
{
	return parse_onoff(v, &net_if.udp_csum);
}
KPARAM("udp_csum", set_udp_csum, "verify nonzero UDP checksums: on|off (default on)");

/* ------------------------------------------------------------ snapshots */

struct napi_sum {
	uint64_t polls, packets, polls_full, hist[NAPI_HIST_BUCKETS];
	uint64_t schedules, missed, max_work, over_weight, max_poll_tsc;
	uint64_t lat_count, lat_sum_tsc, lat_max_tsc;
	unsigned int count;
};

static void napi_sum(struct napi_sum *s)
{
	memset(s, 0, sizeof(*s));
	for (struct napi_struct *n = napi_all(); n; n = n->all_next) {
		s->count++;
		s->polls += n->polls;
		s->packets += n->packets;
		s->polls_full += n->polls_full;
		for (int i = 0; i < NAPI_HIST_BUCKETS; i++)
			s->hist[i] += n->hist[i];
		s->schedules += n->schedules;
		s->missed += n->missed;
		s->over_weight += n->over_weight;
		s->lat_count += n->lat_count;
		s->lat_sum_tsc += n->lat_sum_tsc;
		if (n->max_work > s->max_work)
			s->max_work = n->max_work;
		if (n->max_poll_tsc > s->max_poll_tsc)
			s->max_poll_tsc = n->max_poll_tsc;
		if (n->lat_max_tsc > s->lat_max_tsc)
			s->lat_max_tsc = n->lat_max_tsc;
	}
}

struct net_snapshot {
	struct net_counters c;
	struct softnet_stats sn;
	struct napi_sum ns;
	struct pkt_pool_stats pool;
};

/* Static: too big for a kernel stack frame, and the shell runs one
 * command at a time. */
static struct net_snapshot snap;
static struct arp_cache arp_snap;

static void take_snapshot(void)
{
	uint64_t flags = local_irq_save();
	snap.c = net_stats;
	snap.sn = softnet_stats;
	napi_sum(&snap.ns);
	local_irq_restore(flags);
	pkt_pool_stats(&snap.pool);
}

/* Label of histogram bucket b ("0", "1", "2-3", ...) into buf. */
static const char *hist_label(int b, char *buf, size_t size)
{
	if (b <= 1)
		ksnprintf(buf, size, "%d", b);
	else
		ksnprintf(buf, size, "%lu-%lu", 1ul << (b - 1), (1ul << b) - 1);
	return buf;
}

/* ------------------------------------------------------------ stats */

static void net_stats_json(struct json *j)
{
	char ipbuf[16], label[24];
	take_snapshot();
	const struct net_counters *c = &snap.c;

	json_str(j, "ip", net_format_ip(net_if.ip, ipbuf));
	json_u64(j, "prefix", net_if.prefix);
	const uint8_t *m = net_if.mac;
	char macbuf[18];
	ksnprintf(macbuf, sizeof(macbuf), "%02x:%02x:%02x:%02x:%02x:%02x",
		  m[0], m[1], m[2], m[3], m[4], m[5]);
	json_str(j, "mac", macbuf);
	json_u64(j, "rx_frames", c->rx_frames);
	json_u64(j, "rx_bytes", c->rx_bytes);
	json_u64(j, "tx_frames", c->tx_frames);
	json_u64(j, "tx_bytes", c->tx_bytes);

	json_obj_begin(j, "outcomes");
	for (int v = 0; v < NV_DROP_FIRST; v++)
		json_u64(j, net_verdict_name(v), c->verdict[v]);
	json_u64(j, "dropped", net_dropped_total(c));
	json_obj_end(j);
	json_i64(j, "unaccounted", net_unaccounted(c));
	json_obj_begin(j, "rx_context");
	json_u64(j, "softirq", c->rx_softirq);
	json_u64(j, "hardirq", c->rx_hardirq);
	json_u64(j, "other", c->rx_other);
	json_obj_end(j);

	json_obj_begin(j, "drops");
	for (int v = NV_DROP_FIRST; v < NV_NR; v++)
		json_u64(j, net_verdict_name(v), c->verdict[v]);
	json_obj_end(j);

	json_obj_begin(j, "arp");
	json_u64(j, "rx", c->arp.rx);
	json_u64(j, "requests", c->arp.requests);
	json_u64(j, "replies", c->arp.replies);
	json_u64(j, "answered", c->arp.answered);
	json_u64(j, "learned", c->arp.learned);
	json_u64(j, "updated", c->arp.updated);
	json_u64(j, "evicted", c->arp.evicted);
	json_obj_end(j);

	json_obj_begin(j, "ipv4");
	json_u64(j, "rx", c->ipv4.rx);
	json_u64(j, "options", c->ipv4.options);
	json_obj_end(j);

	json_obj_begin(j, "icmp");
	json_u64(j, "rx", c->icmp.rx);
	json_u64(j, "echo_requests", c->icmp.echo_requests);
	json_u64(j, "echo_replies", c->icmp.echo_replies);
	json_obj_end(j);

	json_obj_begin(j, "udp");
	json_u64(j, "rx", c->udp.rx);
	json_bool(j, "csum_verify", net_if.udp_csum);
	json_u64(j, "csum_checked", c->udp.csum_checked);
	json_u64(j, "csum_none", c->udp.csum_none);
	json_u64(j, "echo", c->udp.echo);
	json_u64(j, "sink", c->udp.sink);
	json_obj_end(j);

	const struct napi_sum *ns = &snap.ns;
	const struct softnet_stats *sn = &snap.sn;
	json_obj_begin(j, "napi");
	json_u64(j, "weight", (uint64_t)napi_get_weight());
	json_u64(j, "budget", (uint64_t)napi_get_budget());
	json_u64(j, "budget_us", napi_get_budget_us());
	json_u64(j, "napis", ns->count);
	json_u64(j, "runs", sn->runs);
	json_u64(j, "empty_runs", sn->empty_runs);
	json_u64(j, "polls", ns->polls);
	json_u64(j, "packets", ns->packets);
	json_u64(j, "polls_full_weight", ns->polls_full);
	json_u64(j, "max_work", ns->max_work);
	json_u64(j, "over_weight", ns->over_weight);
	json_obj_begin(j, "hist");
	for (int b = 0; b < NAPI_HIST_BUCKETS; b++)
		json_u64(j, hist_label(b, label, sizeof(label)), ns->hist[b]);
	json_u64(j, "full", ns->polls_full);
	json_obj_end(j);
	json_u64(j, "time_squeeze", sn->time_squeeze);
	json_u64(j, "squeeze_budget", sn->squeeze_budget);
	json_u64(j, "squeeze_time", sn->squeeze_time);
	json_u64(j, "repolls", sn->repolls);
	json_u64(j, "bad_context", sn->bad_context);
	json_u64(j, "schedules", ns->schedules);
	json_u64(j, "missed", ns->missed);
	json_u64(j, "max_poll_ns", tsc_to_ns(ns->max_poll_tsc));
	json_u64(j, "max_run_ns", tsc_to_ns(sn->max_run_tsc));
	json_u64(j, "latency_count", ns->lat_count);
	json_u64(j, "latency_avg_ns", ns->lat_count ? tsc_to_ns(ns->lat_sum_tsc / ns->lat_count) : 0);
	json_u64(j, "latency_max_ns", tsc_to_ns(ns->lat_max_tsc));
	json_obj_end(j);

	json_obj_begin(j, "pool");
	json_u64(j, "total", snap.pool.total);
	json_u64(j, "free", snap.pool.free);
	json_u64(j, "min_free", snap.pool.min_free);
	json_u64(j, "alloc_fail", snap.pool.alloc_fail);
	json_u64(j, "double_free", snap.pool.double_free);
	json_obj_end(j);
}
STATS_SECTION("net", net_stats_json);

static void sink_copy(struct sink *out)
{
	uint64_t flags = local_irq_save();
	out->received = sink.received;
	out->gaps = sink.gaps;
	out->duplicates = sink.duplicates;
	out->reordered = sink.reordered;
	out->highest_seq = sink.highest_seq;
	out->bytes = sink.bytes;
	out->short_ = sink.short_;
	local_irq_restore(flags);
}

static void sink_stats_json(struct json *j)
{
	struct sink s;
	sink_copy(&s);
	json_u64(j, "received", s.received);
	json_u64(j, "gaps", s.gaps);
	json_u64(j, "duplicates", s.duplicates);
	json_u64(j, "reordered", s.reordered);
	json_u64(j, "highest_seq", s.highest_seq);
	json_u64(j, "bytes", s.bytes);
	json_u64(j, "short", s.short_);
}
STATS_SECTION("sink", sink_stats_json);

/* ------------------------------------------------------------ shell */

static void print_mac(const uint8_t *m)
{
	kprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Measures the checksum's cost here (TCG makes it differ from native):
 * cycles for csum_partial over len bytes, best of `rounds`. */
static int net_csum_bench(unsigned long len, unsigned long rounds)
{
	static uint8_t buf[PKT_BUF_SIZE];
	uint64_t best = UINT64_MAX, sum = 0;
	for (unsigned long i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7);
	for (unsigned long r = 0; r < rounds; r++) {   /* bounded by rounds */
		uint64_t t0 = rdtsc();
		sum += csum_partial(buf, len, 0);
		uint64_t dt = rdtsc() - t0;
		if (dt < best)
			best = dt;
	}
	kprintf("csum: %lu bytes: %lu cycles (%lu ns), %lu.%02lu cycles/byte (sum %lx)\n",
		len, best, tsc_to_ns(best), best / len, best * 100 / len % 100, sum & 0xffff);
	return 0;
}

/* A device for `net bench`: replies are freed, nothing leaves. */
static int bench_xmit(struct netdev *dev, struct pkt *p)
{
	pkt_free(p);
	return 0;
}
static const struct netdev_ops bench_ops = { .xmit = bench_xmit };

/*
 * Measures the receive path's cost per frame here (under TCG it is nothing
 * like native): n UDP datagrams with plen payload bytes to the sink, each
 * through netif_receive_pkt() with a pkt from the pool, as a driver would
 * hand them up, once with UDP checksum verification and once without.
 * Runs with interrupts off and restores every counter and the sink after,
 * so it leaves no trace in `stats`. Task context.
 */
static int net_rx_bench(unsigned long n, unsigned long plen)
{
	static uint8_t frame[ETH_FRAME_MAX];
	static struct net_counters saved_stats;
	static struct sink saved_sink;
	static struct netdev bench_dev = { .name = "bench", .ops = &bench_ops };
	uint64_t cycles[4];
	unsigned long copies = 0;
	struct pkt *last = NULL;
	bool saved_csum = net_if.udp_csum;
	static const uint8_t src_mac[ETH_ALEN] = { 0x02 };
	uint32_t src = (net_if.ip & 0xffffff00u) | ((net_if.ip + 1) & 0xff);

	/* The frame a host would send: us <- src, to the sink, with a UDP
	 * checksum so that udp_csum=on has something to verify. */
	uint16_t len = sink_frame_build(frame, &net_if, src_mac, src, (uint16_t)plen);
	uint8_t *u = frame + ETH_HLEN + IPV4_HLEN_MIN;
	uint16_t ulen = (uint16_t)(UDP_HLEN + plen);
	for (unsigned long i = 8; i < plen; i++)
		u[UDP_HLEN + i] = (uint8_t)i;
	uint16_t c = csum_fold(csum_partial(u, ulen, csum_pseudo(src, net_if.ip, IPPROTO_UDP, ulen)));
	put_be16(u + 6, c ? c : 0xffff);   /* RFC 768: a computed 0 is sent as all ones */

	uint64_t flags = local_irq_save();
	saved_stats = net_stats;
	saved_sink = sink;
	/* Alternating, off first, so warm-up cost shows as a difference
	 * between the two passes of one setting. */
	for (int k = 0; k < 4; k++) {
		net_if.udp_csum = k & 1;
		uint64_t t0 = rdtsc();
		for (unsigned long i = 0; i < n; i++) {   /* bounded by n */
			struct pkt *p = pkt_alloc();
			if (!p)
				break;
			/* The pool is LIFO and interrupts are off, so p is the
			 * buffer just freed, which still holds the frame (the
			 * sink path does not write it): copy only if not. */
			if (p != last) {
				memcpy(p->data, frame, len);
				copies++;
				last = p;
			}
			p->len = len;
			netif_receive_pkt(&bench_dev, p);
		}
		cycles[k] = rdtsc() - t0;
	}
	uint64_t sunk = sink.received - saved_sink.received;
	net_stats = saved_stats;
	sink = saved_sink;
	net_if.udp_csum = saved_csum;
	local_irq_restore(flags);

	kprintf("rx bench: %lu frames of %u bytes to the sink (%lu sunk, %lu copies)\n",
		n, len, sunk, copies);
	for (int k = 0; k < 4; k++)
		kprintf("  udp_csum %-3s: %lu cycles/frame (%lu ns)\n", k & 1 ? "on" : "off",
			cycles[k] / n, tsc_to_ns(cycles[k] / n));
	return sunk == 4 * n ? 0 : -EIO;
}

static int cmd_net(int argc, char **argv)
{
	char ipbuf[16];

	if (argc >= 2 && !strcmp(argv[1], "reset")) {
		/* Everything `stats net` counts, at one instant (the sink has
		 * its own `sink reset`). */
		uint64_t flags = local_irq_save();
		memset(&net_stats, 0, sizeof(net_stats));
		for (struct netdev *d = netdev_first(); d; d = d->next)
			d->rx_frames = d->rx_bytes = d->tx_frames = d->tx_bytes = d->tx_errors = 0;
		napi_reset_counters();
		local_irq_restore(flags);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "udp_csum")) {
		if (argc == 3)
			return parse_onoff(argv[2], &net_if.udp_csum);
		kprintf("udp_csum %s\n", net_if.udp_csum ? "on" : "off");
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "csum")) {
		unsigned long len = 1472, rounds = 1000;
		if (argc >= 3 && kparam_uint(argv[2], 1, PKT_BUF_SIZE, &len))
			return -EINVAL;
		if (argc >= 4 && kparam_uint(argv[3], 1, 1000000, &rounds))
			return -EINVAL;
		return net_csum_bench(len, rounds);
	}
	if (argc >= 2 && !strcmp(argv[1], "bench")) {
		unsigned long n = 10000, plen = 18;
		if (argc >= 3 && kparam_uint(argv[2], 1, 10000000, &n))
			return -EINVAL;
		if (argc >= 4 && kparam_uint(argv[3], 8, SINK_FRAME_PLEN_MAX, &plen))
			return -EINVAL;
		return net_rx_bench(n, plen);
	}
	if (argc != 1)
		return -EINVAL;

	take_snapshot();
	const struct net_counters *c = &snap.c;
	kprintf("ip %s/%u  mac ", net_format_ip(net_if.ip, ipbuf), net_if.prefix);
	print_mac(net_if.mac);
	kprintf("  udp_csum %s\n", net_if.udp_csum ? "on" : "off");
	for (struct netdev *d = netdev_first(); d; d = d->next) {
		kprintf("%s: rx %lu frames %lu bytes, tx %lu frames %lu bytes, tx errors %lu\n",
			d->name, d->rx_frames, d->rx_bytes, d->tx_frames, d->tx_bytes, d->tx_errors);
	}
	if (!netdev_first())
		kprintf("no network device registered\n");
	kprintf("received %lu: sink %lu, echoed %lu, answered %lu, consumed %lu, dropped %lu",
		c->rx_frames, c->verdict[NV_sink], c->verdict[NV_echoed],
		c->verdict[NV_answered], c->verdict[NV_consumed], net_dropped_total(c));
	int64_t u = net_unaccounted(c);
	if (u)
		kprintf(" (UNACCOUNTED %ld)", u);
	kprintf("\n");
	for (int v = NV_DROP_FIRST; v < NV_NR; v++)
		if (c->verdict[v])
			kprintf("  drop %-18s %lu\n", net_verdict_name(v), c->verdict[v]);
	kprintf("arp: rx %lu, requests %lu, replies %lu, answered %lu, learned %lu\n",
		c->arp.rx, c->arp.requests, c->arp.replies, c->arp.answered, c->arp.learned);
	kprintf("ipv4: rx %lu (with options %lu); icmp: echo %lu/%lu; udp: rx %lu, echo %lu, sink %lu\n",
		c->ipv4.rx, c->ipv4.options, c->icmp.echo_requests, c->icmp.echo_replies,
		c->udp.rx, c->udp.echo, c->udp.sink);
	kprintf("pool: %u of %u free (low %u), alloc failures %lu\n", snap.pool.free,
		snap.pool.total, snap.pool.min_free, snap.pool.alloc_fail);
	return 0;
}
SHELL_CMD("net", cmd_net,
	  "[reset | udp_csum [on|off] | csum [len] [rounds] | bench [frames] [payload]]",
	  "IP, MAC, receive counters; reset; UDP checksum check; checksum and receive-path cost");

static int cmd_arp(int argc, char **argv)
{
	char ipbuf[16];

	if (argc == 2 && !strcmp(argv[1], "flush")) {
		uint64_t flags = local_irq_save();
		arp_cache_clear(&arp_cache);
		local_irq_restore(flags);
		return 0;
	}
	if (argc != 1)
		return -EINVAL;
	uint64_t flags = local_irq_save();
	arp_snap = arp_cache;
	local_irq_restore(flags);

	int n = 0;
	for (int i = 0; i < ARP_CACHE_SIZE; i++) {
		const struct arp_entry *e = &arp_snap.e[i];
		if (!e->ip)
			continue;
		kprintf("%-15s ", net_format_ip(e->ip, ipbuf));
		print_mac(e->mac);
		kprintf("  uses %lu  age %lu\n", e->hits, arp_snap.clock - e->used);
		n++;
	}
	kprintf("%d of %d entries\n", n, ARP_CACHE_SIZE);
	return 0;
}
SHELL_CMD("arp", cmd_arp, "[flush]", "ARP cache (LRU, 16 entries)");

static int cmd_napi(int argc, char **argv)
{
	char label[24];

	if (argc == 3) {
		/* The command-line keys' setters: same names, same ranges. */
		int err;
		if (!strcmp(argv[1], "weight"))
			err = set_weight(argv[2]);
		else if (!strcmp(argv[1], "budget"))
			err = set_budget(argv[2]);
		else if (!strcmp(argv[1], "budget_us"))
			err = set_budget_us(argv[2]);
		else
			err = -EINVAL;
		if (err)
			return err;
	} else if (argc != 1) {
		return -EINVAL;
	}

	take_snapshot();
	const struct napi_sum *ns = &snap.ns;
	const struct softnet_stats *sn = &snap.sn;
	kprintf("weight %d  budget %d  budget_us %u\n", napi_get_weight(),
		napi_get_budget(), napi_get_budget_us());
	kprintf("napis %u: runs %lu, polls %lu, packets %lu, full-weight polls %lu, max per poll %lu\n",
		ns->count, sn->runs, ns->polls, ns->packets, ns->polls_full, ns->max_work);
	kprintf("time_squeeze %lu (budget %lu, time %lu), repolls %lu, schedules %lu, missed %lu\n",
		sn->time_squeeze, sn->squeeze_budget, sn->squeeze_time, sn->repolls,
		ns->schedules, ns->missed);
	kprintf("max poll %lu ns, max run %lu ns, irq-to-poll avg %lu ns max %lu ns (%lu samples)\n",
		tsc_to_ns(ns->max_poll_tsc), tsc_to_ns(sn->max_run_tsc),
		ns->lat_count ? tsc_to_ns(ns->lat_sum_tsc / ns->lat_count) : 0,
		tsc_to_ns(ns->lat_max_tsc), ns->lat_count);
	kprintf("packets per poll:");
	for (int b = 0; b < NAPI_HIST_BUCKETS; b++)
		if (ns->hist[b])
			kprintf(" %s:%lu", hist_label(b, label, sizeof(label)), ns->hist[b]);
	kprintf(" full:%lu\n", ns->polls_full);
	return 0;
}
SHELL_CMD("napi", cmd_napi, "[weight|budget|budget_us N]",
	  "NAPI settings and counters; set weight, budget or time limit");

static int cmd_sink(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "reset")) {
		uint64_t flags = local_irq_save();
		sink_reset(&sink);
		local_irq_restore(flags);
		return 0;
	}
	if (argc != 1)
		return -EINVAL;
	struct sink s;
	sink_copy(&s);
	kprintf("received %lu, gaps %lu, duplicates %lu, reordered %lu, highest_seq %lu, bytes %lu, short %lu\n",
		s.received, s.gaps, s.duplicates, s.reordered, s.highest_seq, s.bytes, s.short_);
	return 0;
}
SHELL_CMD("sink", cmd_sink, "[reset]", "UDP port 9 sink: sequence accounting");
