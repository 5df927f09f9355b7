"""The host end of test_net.py, run inside the guest's network namespace
(`ip netns exec NS /usr/bin/python3 net_peer.py CMD ...`); prints one JSON
line with what it sent and received.

    net_peer.py ping GUEST --count N [--size B] [--timeout S]
        ICMP echo requests over a raw socket (the host may have no `ping`);
        counts replies whose id, sequence and data match
    net_peer.py udpecho GUEST --sizes 1,100,1472 [--timeout S]
        one datagram per size to UDP port 7; each reply must come from
        port 7 and carry the same bytes
    net_peer.py sink GUEST --count N [--payload B] [--chunk C] [--gap-ms G]
        N datagrams to UDP port 9, payload = 64-bit big-endian sequence
        number 0..N-1 then padding, sent in chunks of C with G ms between
        chunks (paced so the tap's queue does not overflow)
    net_peer.py battery IF GUEST_MAC --kinds k1,k2,... [--count N]
        N frames of each malformed kind (see KINDS) sent with scapy on the
        tap IF; prints how many of each were sent

Not collected by pytest (no test_ prefix).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import struct
import sys
import time

HOST_MAC = None   # filled from the interface in battery


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def cmd_ping(a) -> dict:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(a.timeout)
    ident = os.getpid() & 0xFFFF
    ok = 0
    rtts = []
    for seq in range(a.count):
        data = bytes((seq + i) & 0xFF for i in range(a.size))
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + data), ident, seq) + data
        t0 = time.monotonic()
        s.sendto(pkt, (a.guest, 0))
        deadline = t0 + a.timeout
        while time.monotonic() < deadline:
            try:
                r, addr = s.recvfrom(4096)
            except socket.timeout:
                break
            ihl = (r[0] & 15) * 4
            m = r[ihl:]
            if addr[0] != a.guest or len(m) < 8:
                continue
            typ, code, _, rid, rseq = struct.unpack("!BBHHH", m[:8])
            if typ == 0 and rid == ident and rseq == seq:
                if m[8:] == data and csum(m) == 0:
                    ok += 1
                    rtts.append(time.monotonic() - t0)
                break
        time.sleep(a.interval)
    return {"sent": a.count, "received": ok,
            "rtt_ms_max": round(max(rtts) * 1000, 3) if rtts else None}


def cmd_udpecho(a) -> dict:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    s.bind(("0.0.0.0", 0))
    results = []
    for size in [int(x) for x in a.sizes.split(",")]:
        data = bytes(random.Random(size).randrange(256) for _ in range(size))
        s.sendto(data, (a.guest, 7))
        try:
            r, addr = s.recvfrom(65536)
            results.append({"size": size, "ok": r == data and addr == (a.guest, 7),
                            "from": list(addr), "len": len(r)})
        except socket.timeout:
            results.append({"size": size, "ok": False, "timeout": True})
    return {"results": results}


def cmd_sink(a) -> dict:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pad = bytes(max(0, a.payload - 8))
    sent = 0
    t0 = time.monotonic()
    while sent < a.count:
        for _ in range(min(a.chunk, a.count - sent)):
            s.sendto(struct.pack("!Q", sent) + pad, (a.guest, 9))
            sent += 1
        time.sleep(a.gap_ms / 1000)
    return {"sent": sent, "payload": max(8, a.payload),
            "seconds": round(time.monotonic() - t0, 3)}


def battery_frames(kind: str, gmac: str, hmac: str, gip: str, hip: str, n: int):
    """n frames of one malformed kind, and the drop reason the guest should
    count for each once QEMU's e1000 has padded it to 60 bytes
    (e1000_receive_iov pads short frames in QEMU 7.2)."""
    from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw  # noqa: F401
    eth = Ether(dst=gmac, src=hmac)
    rnd = random.Random(kind)
    out = []
    for i in range(n):
        if kind == "runt":
            # 16 bytes: an IPv4 EtherType and two header bytes; padded
            # with zeros it is an IPv4 header whose checksum is wrong.
            f = bytes(Ether(dst=gmac, src=hmac, type=0x0800) / Raw(b"\x45\x00"))
        elif kind == "oversize":
            # 1518 bytes (a VLAN-sized frame): QEMU accepts up to 1522
            # without LPE; the stack's limit is 1514.
            f = bytes(eth / IP(src=hip, dst=gip) / UDP(dport=9) / Raw(bytes(1518 - 42)))
        elif kind == "bad_ip_csum":
            f = bytes(eth / IP(src=hip, dst=gip, chksum=0x1234 + i) / ICMP() / Raw(b"x" * 8))
        elif kind == "trunc_udp":
            # IP total length leaves 4 bytes of UDP header
            f = bytes(eth / IP(src=hip, dst=gip, proto=17, len=24) / Raw(b"\x12\x34\x00\x09"))
        elif kind == "trunc_icmp":
            f = bytes(eth / IP(src=hip, dst=gip, proto=1, len=24) / Raw(b"\x08\x00\xf7\xff"))
        elif kind == "ip_len_past_frame":
            f = bytes(eth / IP(src=hip, dst=gip, len=1000) / UDP(dport=9) / Raw(b"z" * 10))
        elif kind == "bad_ihl":
            f = bytes(eth / IP(src=hip, dst=gip, ihl=4) / UDP(dport=9) / Raw(b"z" * 10))
        elif kind == "fragment":
            f = bytes(eth / IP(src=hip, dst=gip, flags="MF", id=i) / UDP(dport=9) / Raw(b"z" * 16))
        elif kind == "bad_udp_csum":
            f = bytes(eth / IP(src=hip, dst=gip) / UDP(dport=9, chksum=1 + i) / Raw(b"\0" * 16))
        elif kind == "unknown_ethertype":
            t = (0x86DD, 0x88CC, 0x88B5)[i % 3]
            f = bytes(Ether(dst=gmac, src=hmac, type=t) / Raw(bytes(46)))
        elif kind == "garbage":
            # addressed to us (QEMU's filter drops other unicast), then
            # random bytes of random length
            n_bytes = rnd.randrange(1, 1500)
            f = bytes(Ether(dst=gmac, src=hmac, type=rnd.choice((0x0800, 0x0806, 0x1234)))) + \
                bytes(rnd.randrange(256) for _ in range(n_bytes))
        else:
            raise SystemExit(f"unknown kind {kind}")
        out.append(f)
    return out


def cmd_battery(a) -> dict:
    from scapy.all import conf, get_if_hwaddr, sendp
    conf.verb = 0
    hmac = get_if_hwaddr(a.iface)
    sent = {}
    for kind in a.kinds.split(","):
        frames = battery_frames(kind, a.guest_mac, hmac, a.guest_ip, a.host_ip, a.count)
        sendp(frames, iface=a.iface, inter=a.gap_ms / 1000)
        sent[kind] = {"count": len(frames), "sizes": sorted({len(f) for f in frames})[:5]}
    return {"sent": sent}


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("ping")
    q.add_argument("guest")
    q.add_argument("--count", type=int, default=3)
    q.add_argument("--size", type=int, default=56)
    q.add_argument("--timeout", type=float, default=2.0)
    q.add_argument("--interval", type=float, default=0.05)
    q = sub.add_parser("udpecho")
    q.add_argument("guest")
    q.add_argument("--sizes", default="1,100,1472")
    q.add_argument("--timeout", type=float, default=2.0)
    q = sub.add_parser("sink")
    q.add_argument("guest")
    q.add_argument("--count", type=int, required=True)
    q.add_argument("--payload", type=int, default=18)
    q.add_argument("--chunk", type=int, default=50)
    q.add_argument("--gap-ms", type=float, default=2.0)
    q = sub.add_parser("battery")
    q.add_argument("iface")
    q.add_argument("guest_mac")
    q.add_argument("--guest-ip", default="10.77.0.2")
    q.add_argument("--host-ip", default="10.77.0.1")
    q.add_argument("--kinds", required=True)
    q.add_argument("--count", type=int, default=5)
    q.add_argument("--gap-ms", type=float, default=1.0)
    a = p.parse_args()
    out = {"ping": cmd_ping, "udpecho": cmd_udpecho, "sink": cmd_sink,
           "battery": cmd_battery}[a.cmd](a)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
