"""The far end of the flood generator's own tests (test_flood_tool.py),
run as a separate process inside the test's network namespace:

    ip netns exec NS /usr/bin/python3 flood_peer.py capture IF OUT.pcap \
        --count N --idle 1.0 --max-seconds 20
        every frame arriving on IF, with the kernel's receive timestamp,
        into a nanosecond pcap; prints "ready" once bound, a JSON line at
        the end
    ... flood_peer.py echo IF --count N [--skip-every K] [--dup SEQ]
                                 [--corrupt SEQ]
        answers each UDP frame to port 9 with a reply from port 7 (a UDP
        echo, addresses and ports swapped), skipping, duplicating or
        corrupting chosen ones so that the generator's echo counters can
        be checked against known faults
    ... flood_peer.py tap TAP
        attaches to the persistent tap TAP as QEMU would, and does not
        read until a line "drain" arrives on stdin; then reads every queued
        frame and prints their count and sequence numbers as JSON

Not collected by pytest (no test_ prefix). Standard library only, since it
runs under `ip netns exec` with Debian's python3.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
PACKET_OUTGOING = 4
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def raw_socket(ifname: str, proto: int) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
    s.bind((ifname, proto))
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    return s


def capture(a: argparse.Namespace) -> None:
    s = raw_socket(a.ifname, ETH_P_ALL)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    n = 0
    deadline = time.monotonic() + a.max_seconds
    with open(a.out, "wb") as f:
        # pcap global header, nanosecond-resolution magic, LINKTYPE_ETHERNET.
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
        print("ready", flush=True)
        s.settimeout(a.first_timeout)
        while n < a.count and time.monotonic() < deadline:
            try:
                data, anc, _flags, addr = s.recvmsg(65535, 64)
            except socket.timeout:
                break
            s.settimeout(a.idle)
            if addr[2] == PACKET_OUTGOING:
                continue
            sec = nsec = 0
            for level, typ, val in anc:
                if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", val[:16])
            f.write(struct.pack("<IIII", sec, nsec, len(data), len(data)))
            f.write(data)
            n += 1
    print(json.dumps({"captured": n}), flush=True)


def echo_reply(frame: bytes, corrupt: bool) -> bytes:
    eth, ip, udp = frame[:14], frame[14:34], frame[34:42]
    ihl_len = struct.unpack("!H", ip[2:4])[0]
    payload = frame[42:14 + ihl_len]
    sport, dport = struct.unpack("!HH", udp[:4])
    src, dst = ip[12:16], ip[16:20]
    new_ip = bytearray(ip)
    new_ip[12:16], new_ip[16:20] = dst, src
    new_ip[10:12] = b"\0\0"
    new_ip[10:12] = struct.pack("!H", csum(bytes(new_ip)))
    ulen = 8 + len(payload)
    new_udp = struct.pack("!HHHH", 7, sport, ulen, 0)
    pseudo = dst + src + struct.pack("!BBH", 0, 17, ulen)
    c = csum(pseudo + new_udp + payload) or 0xFFFF
    if corrupt:
        c ^= 0x5A5A
    new_udp = struct.pack("!HHHH", 7, sport, ulen, c)
    new_eth = eth[6:12] + eth[0:6] + eth[12:14]
    return new_eth + bytes(new_ip) + new_udp + payload


def echo(a: argparse.Namespace) -> None:
    s = raw_socket(a.ifname, ETH_P_IP)
    print("ready", flush=True)
    s.settimeout(a.first_timeout)
    seen = answered = 0
    deadline = time.monotonic() + a.max_seconds
    while seen < a.count and time.monotonic() < deadline:
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            break
        s.settimeout(a.idle)
        if addr[2] == PACKET_OUTGOING or len(data) < 50:
            continue
        if data[23] != 17 or struct.unpack("!H", data[36:38])[0] != 9:
            continue
        seen += 1
        seq = struct.unpack("!Q", data[42:50])[0]
        if a.skip_every and seq % a.skip_every == a.skip_every - 1:
            continue
        reply = echo_reply(data, corrupt=(seq == a.corrupt))
        s.send(reply)
        answered += 1
        if seq == a.dup:
            s.send(reply)
    print(json.dumps({"seen": seen, "answered": answered}), flush=True)


def tap(a: argparse.Namespace) -> None:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", a.ifname.encode(),
                                           IFF_TAP | IFF_NO_PI))
    print("ready", flush=True)
    line = sys.stdin.readline().strip()
    if line != "drain":
        sys.exit(f"flood_peer tap: expected 'drain', got {line!r}")
    os.set_blocking(fd, False)
    seqs = []
    while True:
        try:
            frame = os.read(fd, 65535)
        except BlockingIOError:
            break
        if len(frame) >= 50 and frame[12:14] == b"\x08\x00" and frame[23] == 17:
            seqs.append(struct.unpack("!Q", frame[42:50])[0])
    print(json.dumps({"read": len(seqs), "seqs": seqs}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    for name in ("capture", "echo"):
        q = sub.add_parser(name)
        q.add_argument("ifname")
        if name == "capture":
            q.add_argument("out")
        q.add_argument("--count", type=int, default=10**9)
        q.add_argument("--first-timeout", type=float, default=10.0)
        q.add_argument("--idle", type=float, default=1.0)
        q.add_argument("--max-seconds", type=float, default=30.0)
        if name == "echo":
            q.add_argument("--skip-every", type=int, default=0)
            q.add_argument("--dup", type=int, default=-1)
            q.add_argument("--corrupt", type=int, default=-1)
    q = sub.add_parser("tap")
    q.add_argument("ifname")
    a = p.parse_args()
    {"capture": capture, "echo": echo, "tap": tap}[a.mode](a)


if __name__ == "__main__":
    main()
