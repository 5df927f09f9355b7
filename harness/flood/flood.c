/*
 * flood - send a paced (or unpaced) stream of numbered UDP/IPv4 frames on
 * one interface, through an AF_PACKET socket with sendmmsg batches, and
 * print what happened to each frame as a JSON summary.
 *
 * The harness (harness/flood.py) runs it inside the network namespace that
 * holds the guest's tap, pinned with taskset and at idle priority with
 * chrt --idle 0 (QEMU-FACTS.md, "a layout that gives repeatable numbers").
 * Host code: built by harness/tools.mk with the host compiler.
 *
 * Frames: frame.h (layout, and the size convention: --size counts the FCS,
 * so --size 64 hands 60 bytes to the socket). Every UDP payload starts with
 * a 64-bit big-endian sequence number; each number is used exactly once,
 * from --seq-start up to last_seq, whether the host kernel accepted the
 * frame or dropped it on send.
 *
 * Where frames can be lost on this side, and how the summary counts them
 * (seen on this project's hosts with a tap whose reader stopped reading,
 * tests/scenarios/test_flood_tool.py; Linux net/packet/af_packet.c,
 * drivers/net/tun.c):
 *  - Without --qdisc-bypass (default) a frame goes through the tap's qdisc
 *    (pfifo_fast) to tun_net_xmit. When the tun ring (txqueuelen frames) is
 *    full, tun drops the frame and counts it in the tap's tx_dropped; the
 *    qdisc ignores that verdict, so sendmmsg succeeds: such a frame is in
 *    "sent". A tun driver that stops its queue instead (newer kernels,
 *    QEMU-FACTS.md) makes the qdisc fill and drop: counted in
 *    `tc -s qdisc` dropped, and sendmmsg fails with ENOBUFS
 *    (net_xmit_errno(NET_XMIT_DROP) in packet_snd).
 *  - With --qdisc-bypass (PACKET_QDISC_BYPASS) the frame goes straight to
 *    tun_net_xmit; a drop there (full ring, or a stopped queue) is counted
 *    in the tap's tx_dropped as before, but now its NET_XMIT_DROP reaches
 *    us: sendmmsg fails with ENOBUFS. The qdisc never sees our frames.
 * A frame refused with ENOBUFS has therefore already been dropped *and*
 * counted by the host: it is not retried, its sequence number is used up,
 * and it is counted in dropped_on_send. So, against the host's counters:
 *     attempted = sent + dropped_on_send = last_seq - first_seq + 1
 *               = tap tx_packets + tap tx_dropped + qdisc dropped
 *                 + frames still queued (qdisc backlog, tun ring).
 * Cost: with --qdisc-bypass every refused frame ends its sendmmsg call, so
 * a full tun ring costs one system call per frame (measured here, 64-byte
 * frames into a tap nobody reads: ~0.47 Mpps attempted with bypass against
 * 0.8-1.1 Mpps through the qdisc; into a veth whose peer runs the stack
 * inline, 0.6-0.67 Mpps unpaced on a quiet core, half that when sharing it).
 *
 * EAGAIN (socket send buffer full) means the frame was not taken at all: we
 * wait for POLLOUT and retry the same frame. The send buffer is forced to
 * 64 MiB so that this practically never happens: that matters because
 * when sendmmsg fails part-way through a batch it returns the count sent
 * and drops the failing message's errno (__sys_sendmmsg); such a frame is
 * counted as dropped_on_send and in send_errors.unreported, on the grounds
 * that with a send buffer that large ENOBUFS is the only transient cause.
 *
 * Bounds: --count or --duration must be given; whichever is given, a run
 * never exceeds FLOOD_MAX_SECONDS of sending nor FLOOD_MAX_PACKETS frames,
 * plus at most FLOOD_MAX_ECHO_WAIT_MS of waiting for echo replies.
 *
 * Exit status: 0 run completed (the JSON says whether by count, duration
 * or signal), 1 the run could not be set up or a send failed for good
 * (the JSON's "error" says why), 2 bad arguments (usage on stderr).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness/flood/frame.h"
#include "harness/flood/pace.h"

#define FLOOD_MAX_SECONDS      120.0
#define FLOOD_MAX_PACKETS      100000000ull
#define FLOOD_MAX_RATE         100000000ull
#define FLOOD_MAX_ECHO_WAIT_MS 10000u
#define FLOOD_SNDBUF           (64 << 20)
#define FLOOD_RCVBUF           (32 << 20)
#define FLOOD_MAX_SLEEP_NS     10000000ull /* re-check signals every 10 ms */
#define FLOOD_RX_BATCH         64

/* ------------------------------------------------------------ options */

struct options {
	const char *ifname;
	struct frame_spec spec;
	bool have_dst_mac, have_src_mac, have_src_ip, have_dst_ip;
	uint64_t count;         /* 0: not given */
	double duration;        /* 0: not given */
	uint64_t rate;          /* 0: unpaced */
	unsigned batch;         /* 0: auto */
	uint64_t seq_start;
	int cpu;                /* -1: leave affinity alone */
	bool idle, json, qdisc_bypass, echo;
	uint16_t echo_port;
	unsigned echo_wait_ms;
	uint64_t max_lag_ns;
};

static const char usage_line[] =
	"usage: flood --ifname IF --dst-mac MAC --dst-ip IP "
	"(--count N | --duration S) [--rate PPS] [--size BYTES] [--batch N] "
	"[--src-mac MAC] [--src-ip IP] [--src-port N] [--dst-port N] "
	"[--seq-start N] [--cpu N] [--idle] [--udp-csum on|off] "
	"[--qdisc-bypass] [--echo-check] [--echo-port N] [--echo-wait-ms MS] "
	"[--max-lag-us US] [--json]\n";

static const char help_text[] =
	"  --size BYTES     Ethernet frame size on the wire, FCS included:\n"
	"                   64..1518, default 64 (60 bytes handed to the socket)\n"
	"  --count N        frames to send (at most 100000000)\n"
	"  --duration S     seconds to send for (at most 120); one of --count,\n"
	"                   --duration is required; both: whichever ends first\n"
	"  --rate PPS       paced rate, 0 (default) = as fast as possible\n"
	"  --batch N        frames per sendmmsg (1..1024); default sized to the\n"
	"                   rate (one sleep per ~100 us), 64 when unpaced\n"
	"  --dst-port N     UDP destination port, default 9 (the guest's sink)\n"
	"  --src-port N     UDP source port, default 49152\n"
	"  --src-mac/--src-ip default to the interface's own\n"
	"  --dst-ip IP      must be private/test (10/8 172.16/12 192.168/16\n"
	"                   198.18/15 169.254/16)\n"
	"  --seq-start N    first sequence number (payload bytes 0..7, BE)\n"
	"  --cpu N          pin to CPU N;  --idle  run as SCHED_IDLE\n"
	"  --udp-csum on|off  correct UDP checksum (default) or 0\n"
	"  --qdisc-bypass   PACKET_QDISC_BYPASS: skip the qdisc; drops at a\n"
	"                   stopped device then count in tx_dropped, not tc\n"
	"  --echo-check     also count UDP replies from --echo-port (default 7)\n"
	"                   and wait --echo-wait-ms (default 500) after sending\n"
	"  --max-lag-us US  a paced sender further behind than this slips its\n"
	"                   schedule instead of bursting (default 10000)\n"
	"  --json           print the summary as one JSON object\n";

static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("flood: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_line, stderr);
	exit(2);
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t min,
			  uint64_t max)
{
	char *end;
	if (*s < '0' || *s > '9')
		usage_error("%s: not a number: '%s'", opt, s);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end != '\0')
		usage_error("%s: not a number: '%s'", opt, s);
	if (v < min || v > max)
		usage_error("%s: %llu out of range %llu..%llu", opt, v,
			    (unsigned long long)min, (unsigned long long)max);
	return v;
}

static double parse_seconds(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v > 0.0))
		usage_error("%s: not a positive number of seconds: '%s'", opt, s);
	if (v > FLOOD_MAX_SECONDS)
		usage_error("%s: %g s is over the %g s maximum", opt, v,
			    FLOOD_MAX_SECONDS);
	return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	enum { O_IFNAME = 256, O_DST_MAC, O_SRC_MAC, O_SRC_IP, O_DST_IP,
	       O_DST_PORT, O_SRC_PORT, O_SIZE, O_COUNT, O_DURATION, O_RATE,
	       O_BATCH, O_SEQ_START, O_CPU, O_IDLE, O_JSON, O_UDP_CSUM,
	       O_BYPASS, O_ECHO, O_ECHO_PORT, O_ECHO_WAIT, O_MAX_LAG, O_HELP };
	static const struct option longopts[] = {
		{ "ifname", required_argument, 0, O_IFNAME },
		{ "dst-mac", required_argument, 0, O_DST_MAC },
		{ "src-mac", required_argument, 0, O_SRC_MAC },
		{ "src-ip", required_argument, 0, O_SRC_IP },
		{ "dst-ip", required_argument, 0, O_DST_IP },
		{ "dst-port", required_argument, 0, O_DST_PORT },
		{ "src-port", required_argument, 0, O_SRC_PORT },
		{ "size", required_argument, 0, O_SIZE },
		{ "count", required_argument, 0, O_COUNT },
		{ "duration", required_argument, 0, O_DURATION },
		{ "rate", required_argument, 0, O_RATE },
		{ "batch", required_argument, 0, O_BATCH },
		{ "seq-start", required_argument, 0, O_SEQ_START },
		{ "cpu", required_argument, 0, O_CPU },
		{ "idle", no_argument, 0, O_IDLE },
		{ "json", no_argument, 0, O_JSON },
		{ "udp-csum", required_argument, 0, O_UDP_CSUM },
		{ "qdisc-bypass", no_argument, 0, O_BYPASS },
		{ "echo-check", no_argument, 0, O_ECHO },
		{ "echo-port", required_argument, 0, O_ECHO_PORT },
		{ "echo-wait-ms", required_argument, 0, O_ECHO_WAIT },
		{ "max-lag-us", required_argument, 0, O_MAX_LAG },
		{ "help", no_argument, 0, O_HELP },
		{ 0, 0, 0, 0 },
	};
	*o = (struct options){
		.spec = { .dst_port = 9, .src_port = 49152,
			  .wire_size = FRAME_WIRE_MIN, .udp_csum = 1 },
		.cpu = -1,
		.echo_port = 7,
		.echo_wait_ms = 500,
		.max_lag_ns = PACE_DEFAULT_MAX_LAG_NS,
	};
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, "", longopts, NULL);
		if (c == -1)
			break;
		const char *name = optind > 1 ? argv[optind - 1] : "?";
		switch (c) {
		case O_IFNAME:
			if (strlen(optarg) == 0 || strlen(optarg) >= IFNAMSIZ)
				usage_error("--ifname: bad interface name '%s'", optarg);
			o->ifname = optarg;
			break;
		case O_DST_MAC:
			if (frame_parse_mac(optarg, o->spec.dst_mac))
				usage_error("--dst-mac: bad MAC '%s'", optarg);
			o->have_dst_mac = true;
			break;
		case O_SRC_MAC:
			if (frame_parse_mac(optarg, o->spec.src_mac))
				usage_error("--src-mac: bad MAC '%s'", optarg);
			o->have_src_mac = true;
			break;
		case O_SRC_IP:
			if (frame_parse_ipv4(optarg, &o->spec.src_ip))
				usage_error("--src-ip: bad IPv4 address '%s'", optarg);
			o->have_src_ip = true;
			break;
		case O_DST_IP:
			if (frame_parse_ipv4(optarg, &o->spec.dst_ip))
				usage_error("--dst-ip: bad IPv4 address '%s'", optarg);
			if (!frame_ip_is_private(o->spec.dst_ip))
				usage_error("--dst-ip: %s is not in a private or test "
					    "range; refusing to flood it", optarg);
			o->have_dst_ip = true;
			break;
		case O_DST_PORT:
			o->spec.dst_port = (uint16_t)parse_u64("--dst-port", optarg, 1, 65535);
			break;
		case O_SRC_PORT:
			o->spec.src_port = (uint16_t)parse_u64("--src-port", optarg, 1, 65535);
			break;
		case O_SIZE:
			o->spec.wire_size = (unsigned)parse_u64("--size", optarg,
					FRAME_WIRE_MIN, FRAME_WIRE_MAX);
			break;
		case O_COUNT:
			o->count = parse_u64("--count", optarg, 1, FLOOD_MAX_PACKETS);
			break;
		case O_DURATION:
			o->duration = parse_seconds("--duration", optarg);
			break;
		case O_RATE:
			o->rate = parse_u64("--rate", optarg, 0, FLOOD_MAX_RATE);
			break;
		case O_BATCH:
			o->batch = (unsigned)parse_u64("--batch", optarg, 1, PACE_MAX_BATCH);
			break;
		case O_SEQ_START:
			o->seq_start = parse_u64("--seq-start", optarg, 0,
						 UINT64_MAX - FLOOD_MAX_PACKETS);
			break;
		case O_CPU:
			o->cpu = (int)parse_u64("--cpu", optarg, 0, CPU_SETSIZE - 1);
			break;
		case O_IDLE:
			o->idle = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_UDP_CSUM:
			if (strcmp(optarg, "on") == 0)
				o->spec.udp_csum = 1;
			else if (strcmp(optarg, "off") == 0)
				o->spec.udp_csum = 0;
			else
				usage_error("--udp-csum: 'on' or 'off', not '%s'", optarg);
			break;
		case O_BYPASS:
			o->qdisc_bypass = true;
			break;
		case O_ECHO:
			o->echo = true;
			break;
		case O_ECHO_PORT:
			o->echo_port = (uint16_t)parse_u64("--echo-port", optarg, 1, 65535);
			break;
		case O_ECHO_WAIT:
			o->echo_wait_ms = (unsigned)parse_u64("--echo-wait-ms", optarg,
							      0, FLOOD_MAX_ECHO_WAIT_MS);
			break;
		case O_MAX_LAG:
			o->max_lag_ns = 1000 * parse_u64("--max-lag-us", optarg, 0,
							 10000000);
			break;
		case O_HELP:
			fputs(usage_line, stdout);
			fputs(help_text, stdout);
			exit(0);
		case ':':
			usage_error("%s needs a value", name);
			break;
		default:
			usage_error("unknown option '%s'", name);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->ifname)
		usage_error("--ifname is required");
	if (!o->have_dst_mac)
		usage_error("--dst-mac is required");
	if (!o->have_dst_ip)
		usage_error("--dst-ip is required");
	if (!o->count && o->duration == 0.0)
		usage_error("give --count or --duration (a flood is always bounded)");
}

/* ------------------------------------------------------------ run state */

enum stop_reason { STOP_NONE, STOP_COUNT, STOP_DURATION, STOP_SIGNAL, STOP_ERROR };
static const char *const stop_names[] = {
	"none", "count", "duration", "signal", "error",
};

struct echo_stats {
	uint64_t received;      /* distinct replies with a sequence we sent */
	uint64_t duplicates;
	uint64_t out_of_range;  /* a sequence number we never sent */
	uint64_t bad_csum;
	uint64_t malformed;
	uint64_t other;         /* frames that are not replies to us */
	uint64_t first_ns, last_ns;
};

struct run {
	struct options opt;
	int fd, rx_fd, ifindex;
	size_t frame_len;
	uint32_t base_sum;
	unsigned batch;
	uint64_t max_packets;
	uint64_t start_ns, deadline_ns, end_ns;
	struct pace pace;
	uint8_t *bufs;
	struct mmsghdr *msgs;
	struct iovec *iovs;
	struct sockaddr_ll dst;
	/* results */
	uint64_t attempted, sent, dropped_on_send;
	uint64_t err_enobufs, err_eagain, err_unreported, err_other;
	uint64_t batches, syscalls;
	int fatal_errno;
	char error[256];
	enum stop_reason stop;
	/* echo */
	uint8_t *seen;          /* bitmap over [seq_start, seq_start + max_packets) */
	struct echo_stats echo;
	sigset_t stop_signals;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * PACE_NSEC + (uint64_t)ts.tv_nsec;
}

static void set_error(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	r->stop = STOP_ERROR;
}

static bool stop_signal_pending(struct run *r)
{
	sigset_t pending;
	if (sigpending(&pending) != 0)
		return false;
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&r->stop_signals, s) && sigismember(&pending, s))
			return true;
	return false;
}

/* ------------------------------------------------------------ set-up */

static int iface_setup(struct run *r)
{
	struct options *o = &r->opt;
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0) {
		set_error(r, "socket(AF_INET): %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, o->ifname, IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
		set_error(r, "interface %s: %s", o->ifname, strerror(errno));
		goto fail;
	}
	r->ifindex = ifr.ifr_ifindex;
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 &&
	    frame_buf_len(o->spec.wire_size) > (size_t)ifr.ifr_mtu + FRAME_ETH_LEN) {
		set_error(r, "--size %u needs an MTU of %zu, %s has %d",
			  o->spec.wire_size,
			  frame_buf_len(o->spec.wire_size) - FRAME_ETH_LEN,
			  o->ifname, ifr.ifr_mtu);
		goto fail;
	}
	if (!o->have_src_mac) {
		if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
			set_error(r, "%s: no hardware address: %s", o->ifname,
				  strerror(errno));
			goto fail;
		}
		memcpy(o->spec.src_mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	if (!o->have_src_ip) {
		if (ioctl(s, SIOCGIFADDR, &ifr) < 0) {
			set_error(r, "%s has no IPv4 address: give --src-ip",
				  o->ifname);
			goto fail;
		}
		struct sockaddr_in sin;
		memcpy(&sin, &ifr.ifr_addr, sizeof(sin));
		o->spec.src_ip = ntohl(sin.sin_addr.s_addr);
	}
	close(s);
	return 0;
fail:
	close(s);
	return -1;
}

static int tx_socket_setup(struct run *r)
{
	int one = 1, sndbuf = FLOOD_SNDBUF;
	/* Protocol 0: this socket only sends, it is never handed a copy of
	 * received frames (packet_create does not hook it into the stack). */
	r->fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (r->fd < 0) {
		set_error(r, "socket(AF_PACKET): %s (needs CAP_NET_RAW)",
			  strerror(errno));
		return -1;
	}
	/* Large enough that frames sitting in the qdisc never fill it; see
	 * the EAGAIN/unreported discussion at the top. FORCE needs
	 * CAP_NET_ADMIN; without it we get what net.core.wmem_max allows. */
	if (setsockopt(r->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(r->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (r->opt.qdisc_bypass &&
	    setsockopt(r->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one))) {
		set_error(r, "PACKET_QDISC_BYPASS: %s", strerror(errno));
		return -1;
	}
	r->dst = (struct sockaddr_ll){
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = r->ifindex,
		.sll_halen = 6,
	};
	memcpy(r->dst.sll_addr, r->opt.spec.dst_mac, 6);
	return 0;
}

static int rx_socket_setup(struct run *r)
{
	int one = 1, rcvbuf = FLOOD_RCVBUF;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = r->ifindex,
	};
	r->rx_fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	if (r->rx_fd < 0) {
		set_error(r, "socket(AF_PACKET) for echo: %s", strerror(errno));
		return -1;
	}
	if (bind(r->rx_fd, (struct sockaddr *)&sll, sizeof(sll))) {
		set_error(r, "bind echo socket to %s: %s", r->opt.ifname,
			  strerror(errno));
		return -1;
	}
	if (setsockopt(r->rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(r->rx_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* Our own frames would be looped back to this socket as outgoing
	 * copies; not wanted (Linux >= 4.20; older: filtered by pkttype). */
	setsockopt(r->rx_fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	r->seen = calloc((size_t)(r->max_packets + 7) / 8, 1);
	if (!r->seen) {
		set_error(r, "no memory for the echo bitmap");
		return -1;
	}
	return 0;
}

static int buffers_setup(struct run *r)
{
	r->frame_len = frame_buf_len(r->opt.spec.wire_size);
	r->bufs = calloc(r->batch, r->frame_len);
	r->msgs = calloc(r->batch, sizeof(*r->msgs));
	r->iovs = calloc(r->batch, sizeof(*r->iovs));
	if (!r->bufs || !r->msgs || !r->iovs) {
		set_error(r, "no memory for %u frame buffers", r->batch);
		return -1;
	}
	for (unsigned i = 0; i < r->batch; i++) {
		uint8_t *b = r->bufs + (size_t)i * r->frame_len;
		frame_build(&r->opt.spec, b, 0);
		r->iovs[i] = (struct iovec){ .iov_base = b, .iov_len = r->frame_len };
		r->msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &r->dst, .msg_namelen = sizeof(r->dst),
			.msg_iov = &r->iovs[i], .msg_iovlen = 1,
		};
	}
	r->base_sum = r->opt.spec.udp_csum
		? frame_udp_base_sum(r->bufs, r->frame_len) : FRAME_NO_UDP_CSUM;
	return 0;
}

static void sched_setup(struct run *r)
{
	/* Default timer slack (50 us) would make every paced sleep late by
	 * up to that much; 1 ns lets hrtimers fire on time. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	if (r->opt.cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(r->opt.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			set_error(r, "sched_setaffinity(cpu %d): %s", r->opt.cpu,
				  strerror(errno));
	}
	if (r->opt.idle) {
		struct sched_param sp = { .sched_priority = 0 };
		if (sched_setscheduler(0, SCHED_IDLE, &sp))
			set_error(r, "SCHED_IDLE: %s", strerror(errno));
	}
}

/* ------------------------------------------------------------ echo */

static void echo_account(struct run *r, const uint8_t *buf, size_t len)
{
	struct echo_stats *e = &r->echo;
	uint64_t seq;
	int rc = frame_parse_reply(&r->opt.spec, r->opt.echo_port, buf, len, &seq);
	if (rc == FRAME_ENOTIP) {
		e->other++;
		return;
	}
	if (rc == FRAME_ECSUM) {
		e->bad_csum++;
		return;
	}
	if (rc != 0) {
		e->malformed++;
		return;
	}
	/* Only numbers already handed to the socket can come back. */
	if (seq < r->opt.seq_start || seq - r->opt.seq_start >= r->attempted) {
		e->out_of_range++;
		return;
	}
	uint64_t i = seq - r->opt.seq_start;
	uint8_t bit = (uint8_t)(1u << (i & 7));
	if (r->seen[i >> 3] & bit) {
		e->duplicates++;
		return;
	}
	r->seen[i >> 3] |= bit;
	uint64_t t = now_ns();
	if (!e->received)
		e->first_ns = t;
	e->last_ns = t;
	e->received++;
}

/* Read every reply already queued on the echo socket; never blocks. */
static void echo_drain(struct run *r)
{
	static uint8_t rxbuf[FLOOD_RX_BATCH][2048];
	struct mmsghdr m[FLOOD_RX_BATCH];
	struct iovec iov[FLOOD_RX_BATCH];
	struct sockaddr_ll from[FLOOD_RX_BATCH];
	for (;;) {
		for (int i = 0; i < FLOOD_RX_BATCH; i++) {
			iov[i] = (struct iovec){ rxbuf[i], sizeof(rxbuf[i]) };
			m[i].msg_hdr = (struct msghdr){
				.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
				.msg_iov = &iov[i], .msg_iovlen = 1,
			};
		}
		int n = recvmmsg(r->rx_fd, m, FLOOD_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			if (from[i].sll_pkttype == PACKET_OUTGOING)
				continue;
			echo_account(r, rxbuf[i], m[i].msg_len);
		}
		if (n < FLOOD_RX_BATCH)
			return;
	}
}

/* ------------------------------------------------------------ sending */

/* Wait until `until` (CLOCK_MONOTONIC ns), at most FLOOD_MAX_SLEEP_NS so
 * that a pending stop signal is seen; with --echo-check, read replies that
 * arrive meanwhile. */
static void wait_until(struct run *r, uint64_t until)
{
	uint64_t now = now_ns();
	if (until > now + FLOOD_MAX_SLEEP_NS)
		until = now + FLOOD_MAX_SLEEP_NS;
	if (r->rx_fd >= 0) {
		echo_drain(r);
		now = now_ns();
		if (now >= until)
			return;
		uint64_t d = until - now;
		struct timespec ts = { (time_t)(d / PACE_NSEC), (long)(d % PACE_NSEC) };
		struct pollfd pfd = { .fd = r->rx_fd, .events = POLLIN };
		/* Blocked stop signals do not interrupt ppoll; fine. */
		if (ppoll(&pfd, 1, &ts, NULL) > 0)
			echo_drain(r);
		return;
	}
	struct timespec ts = { (time_t)(until / PACE_NSEC), (long)(until % PACE_NSEC) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/*
 * Send frames 0..n-1 of the buffer ring (their sequence numbers already
 * set). Returns how many sequence numbers were used up (sent or dropped on
 * send); fewer than n only if the run must stop (deadline while the socket
 * was full, or a fatal error, recorded in r).
 */
static unsigned send_batch(struct run *r, unsigned n)
{
	unsigned off = 0;
	while (off < n) {
		int k = sendmmsg(r->fd, r->msgs + off, n - off, MSG_DONTWAIT);
		r->syscalls++;
		if (k > 0) {
			r->sent += (unsigned)k;
			off += (unsigned)k;
			if (off < n) {
				/* Partial: message `off` failed and its errno
				 * was dropped by __sys_sendmmsg. Presumed
				 * ENOBUFS (see top of file): used up. */
				r->err_unreported++;
				r->dropped_on_send++;
				off++;
			}
			continue;
		}
		int e = k < 0 ? errno : EIO;
		if (e == ENOBUFS) {
			/* Dropped by the qdisc or the stopped device, and
			 * counted there: not retried. */
			r->err_enobufs++;
			r->dropped_on_send++;
			off++;
		} else if (e == EAGAIN || e == EWOULDBLOCK) {
			/* Not taken: wait for room, retry the same frame. */
			r->err_eagain++;
			uint64_t now = now_ns();
			if (now >= r->deadline_ns) {
				r->stop = STOP_DURATION;
				break;
			}
			struct pollfd pfd = { .fd = r->fd, .events = POLLOUT };
			uint64_t ms = (r->deadline_ns - now) / 1000000 + 1;
			poll(&pfd, 1, ms > 10 ? 10 : (int)ms);
		} else if (e == EINTR) {
			continue;
		} else {
			r->err_other++;
			r->fatal_errno = e;
			set_error(r, "sendmmsg on %s: %s", r->opt.ifname, strerror(e));
			break;
		}
	}
	return off;
}

static void run_flood(struct run *r)
{
	uint64_t seq = r->opt.seq_start;
	r->start_ns = now_ns();
	uint64_t cap_ns = (uint64_t)((r->opt.duration > 0.0 ? r->opt.duration
					: FLOOD_MAX_SECONDS) * 1e9);
	r->deadline_ns = r->start_ns + cap_ns;
	pace_start(&r->pace, r->opt.rate, r->batch, r->opt.max_lag_ns, r->start_ns);

	while (r->stop == STOP_NONE) {
		if (stop_signal_pending(r)) {
			r->stop = STOP_SIGNAL;
			break;
		}
		uint64_t now = now_ns();
		if (now >= r->deadline_ns) {
			r->stop = STOP_DURATION;
			break;
		}
		uint64_t remaining = r->max_packets - r->attempted;
		if (remaining == 0) {
			r->stop = STOP_COUNT;
			break;
		}
		unsigned n = pace_ready(&r->pace, r->attempted, remaining, now);
		if (n == 0) {
			uint64_t due = pace_due_ns(&r->pace, r->attempted);
			wait_until(r, due < r->deadline_ns ? due : r->deadline_ns);
			continue;
		}
		for (unsigned i = 0; i < n; i++)
			frame_set_seq(r->bufs + (size_t)i * r->frame_len, seq + i,
				      r->base_sum);
		unsigned used = send_batch(r, n);
		r->batches++;
		r->attempted += used;
		seq += used;
		if (r->rx_fd >= 0 && r->opt.rate == 0)
			echo_drain(r);
	}
	uint64_t end = now_ns();
	/* A paced run offered its frames over their whole schedule: the last
	 * batch's slot ends B/rate after it was sent. */
	uint64_t window_end = pace_window_end_ns(&r->pace, r->attempted);
	if (r->stop == STOP_COUNT && window_end > end && window_end <= r->deadline_ns)
		end = window_end;
	r->end_ns = end;

	if (r->rx_fd >= 0) {
		uint64_t until = now_ns() + (uint64_t)r->opt.echo_wait_ms * 1000000;
		while (now_ns() < until && !stop_signal_pending(r)) {
			wait_until(r, until);
			if (r->echo.received == r->attempted)
				break;
		}
		echo_drain(r);
	}
}

/* ------------------------------------------------------------ output */

static void ip_str(uint32_t ip, char *out)
{
	sprintf(out, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
		(ip >> 8) & 0xff, ip & 0xff);
}

static void mac_str(const uint8_t *m, char *out)
{
	sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x",
		m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* JSON string body: the only strings we print are interface names,
 * addresses and strerror() texts; escape anything unusual anyway. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void print_json(const struct run *r)
{
	const struct options *o = &r->opt;
	char src_ip[16], dst_ip[16], src_mac[18], dst_mac[18];
	double dur = r->end_ns > r->start_ns ? (double)(r->end_ns - r->start_ns) / 1e9 : 0.0;
	ip_str(o->spec.src_ip, src_ip);
	ip_str(o->spec.dst_ip, dst_ip);
	mac_str(o->spec.src_mac, src_mac);
	mac_str(o->spec.dst_mac, dst_mac);

	FILE *f = stdout;
	fprintf(f, "{\"tool\":\"flood\",\"ifname\":");
	json_str(f, o->ifname);
	fprintf(f, ",\"src_mac\":\"%s\",\"dst_mac\":\"%s\",\"src_ip\":\"%s\","
		"\"dst_ip\":\"%s\",\"src_port\":%u,\"dst_port\":%u",
		src_mac, dst_mac, src_ip, dst_ip, o->spec.src_port, o->spec.dst_port);
	fprintf(f, ",\"frame_size\":%u,\"socket_bytes\":%zu,\"udp_csum\":%s,"
		"\"qdisc_bypass\":%s,\"rate_pps\":%llu,\"batch\":%u",
		o->spec.wire_size, frame_buf_len(o->spec.wire_size),
		o->spec.udp_csum ? "true" : "false",
		o->qdisc_bypass ? "true" : "false",
		(unsigned long long)o->rate, r->batch);
	fprintf(f, ",\"max_packets\":%llu,\"max_duration_s\":%.3f",
		(unsigned long long)r->max_packets,
		(double)(r->deadline_ns - r->start_ns) / 1e9);
	fprintf(f, ",\"attempted\":%llu,\"sent\":%llu,\"dropped_on_send\":%llu",
		(unsigned long long)r->attempted, (unsigned long long)r->sent,
		(unsigned long long)r->dropped_on_send);
	fprintf(f, ",\"send_errors\":{\"ENOBUFS\":%llu,\"EAGAIN\":%llu,"
		"\"unreported\":%llu,\"other\":%llu}",
		(unsigned long long)r->err_enobufs, (unsigned long long)r->err_eagain,
		(unsigned long long)r->err_unreported, (unsigned long long)r->err_other);
	fprintf(f, ",\"duration_s\":%.6f,\"achieved_pps\":%.1f,\"attempted_pps\":%.1f",
		dur, dur > 0 ? (double)r->sent / dur : 0.0,
		dur > 0 ? (double)r->attempted / dur : 0.0);
	fprintf(f, ",\"first_seq\":%llu", (unsigned long long)o->seq_start);
	if (r->attempted)
		fprintf(f, ",\"last_seq\":%llu",
			(unsigned long long)(o->seq_start + r->attempted - 1));
	else
		fprintf(f, ",\"last_seq\":null");
	fprintf(f, ",\"batches\":%llu,\"syscalls\":%llu,\"late_batches\":%llu,"
		"\"slips\":%llu,\"slipped_s\":%.6f,\"max_lag_us\":%.1f",
		(unsigned long long)r->batches, (unsigned long long)r->syscalls,
		(unsigned long long)r->pace.late_batches,
		(unsigned long long)r->pace.slips,
		(double)r->pace.slipped_ns / 1e9,
		(double)r->pace.max_lag_ns_seen / 1e3);
	fprintf(f, ",\"stop_reason\":\"%s\",\"error\":", stop_names[r->stop]);
	if (r->error[0])
		json_str(f, r->error);
	else
		fputs("null", f);
	if (r->rx_fd >= 0) {
		const struct echo_stats *e = &r->echo;
		fprintf(f, ",\"echo\":{\"port\":%u,\"received\":%llu,\"lost\":%llu,"
			"\"duplicates\":%llu,\"out_of_range\":%llu,\"bad_csum\":%llu,"
			"\"malformed\":%llu,\"other\":%llu,\"span_s\":%.6f}",
			o->echo_port, (unsigned long long)e->received,
			(unsigned long long)(r->attempted - e->received),
			(unsigned long long)e->duplicates,
			(unsigned long long)e->out_of_range,
			(unsigned long long)e->bad_csum,
			(unsigned long long)e->malformed, (unsigned long long)e->other,
			e->received > 1 ? (double)(e->last_ns - e->first_ns) / 1e9 : 0.0);
	}
	fputs("}\n", f);
	fflush(f);
}

static void print_text(const struct run *r)
{
	double dur = r->end_ns > r->start_ns ? (double)(r->end_ns - r->start_ns) / 1e9 : 0.0;
	printf("flood: %s: %llu sent + %llu dropped on send, %u-byte frames, "
	       "%.3f s, %.0f pps, stop: %s\n", r->opt.ifname,
	       (unsigned long long)r->sent, (unsigned long long)r->dropped_on_send,
	       r->opt.spec.wire_size, dur, dur > 0 ? (double)r->sent / dur : 0.0,
	       stop_names[r->stop]);
	if (r->rx_fd >= 0)
		printf("flood: echo: %llu of %llu replied, %llu duplicates\n",
		       (unsigned long long)r->echo.received,
		       (unsigned long long)r->attempted,
		       (unsigned long long)r->echo.duplicates);
	if (r->error[0])
		printf("flood: error: %s\n", r->error);
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	static struct run run;
	struct run *r = &run;
	r->fd = r->rx_fd = -1;
	parse_options(argc, argv, &r->opt);

	r->max_packets = r->opt.count ? r->opt.count : FLOOD_MAX_PACKETS;
	r->batch = r->opt.batch ? r->opt.batch
				: pace_auto_batch(r->opt.rate, PACE_DEFAULT_BATCH);

	/* SIGINT/SIGTERM/SIGHUP end the run cleanly with a summary: blocked,
	 * so that no system call is interrupted half-way (a sendmmsg cut by a
	 * signal would lose a frame's fate), and polled between batches. */
	sigemptyset(&r->stop_signals);
	sigaddset(&r->stop_signals, SIGINT);
	sigaddset(&r->stop_signals, SIGTERM);
	sigaddset(&r->stop_signals, SIGHUP);
	sigprocmask(SIG_BLOCK, &r->stop_signals, NULL);

	if (iface_setup(r) == 0 && tx_socket_setup(r) == 0 &&
	    (!r->opt.echo || rx_socket_setup(r) == 0) && buffers_setup(r) == 0) {
		sched_setup(r);
		if (r->stop == STOP_NONE)
			run_flood(r);
	}
	if (r->opt.json)
		print_json(r);
	else
		print_text(r);
	if (r->stop == STOP_ERROR && !r->opt.json)
		fprintf(stderr, "flood: %s\n", r->error);
	return r->stop == STOP_ERROR ? 1 : 0;
}
