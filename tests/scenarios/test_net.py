"""net/ end to end.

Without hardware (softnic, a software NIC whose NAPI poll produces
sequenced datagrams): the NET_RX softirq polls at most `weight` frames per
call under budgets 1, 8 and 64, every frame reaches the sink in softirq
context, and the counters reconcile.

With the NIC: the guest on a tap in a private namespace answers pings and
UDP echo, its sink counts a sequenced burst, and a battery of malformed
frames is dropped and counted by reason while pings still work. Every
check reads the guest's `stats` JSON before and after and compares the
deltas with what the host sent (net_peer.py, run in the namespace). These
need a driver (drivers/) that registers a netdev: without any driver source
they are skipped; with a driver they must pass.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PEER = HERE / "net_peer.py"
PY = "/usr/bin/python3"
GUEST_IP = "10.77.0.2"


@pytest.fixture(scope="module")
def kernel_options() -> dict:
    return {"net": True}


def peer(kernel, *args: str, timeout: float = 120.0) -> dict:
    """Run net_peer.py inside the guest's namespace; its JSON line."""
    r = kernel.netns.run([PY, str(PEER), *args], timeout=timeout)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    assert lines, f"net_peer.py {args[0]} printed no JSON: {r.stdout!r} {r.stderr!r}"
    return json.loads(lines[-1])


def net(kernel) -> dict:
    return kernel.stats()["net"]


def delta(after: dict, before: dict) -> dict:
    """Per-key difference of two flat dicts of counters."""
    return {k: after[k] - before.get(k, 0) for k in after if isinstance(after[k], int)}


def wait_rx(kernel, at_least: int, before: dict, timeout: float = 20.0) -> dict:
    """Poll `stats` until rx_frames grew by at_least (the NIC and softirq
    may still be working when the sender returns); return the last net."""
    deadline = time.monotonic() + timeout
    while True:
        n = net(kernel)
        if n["rx_frames"] - before["rx_frames"] >= at_least or time.monotonic() > deadline:
            return n
        time.sleep(0.2)


@pytest.fixture
def nic(kernel):
    """The module's kernel, with a NIC the stack can use. Skips when no
    driver exists yet; fails when one exists but registered no device."""
    if not list((REPO / "drivers").glob("*/*.c")):
        pytest.skip("no NIC driver in drivers/ yet: these tests need one")
    out = kernel.run("net")
    assert "no network device registered" not in out, \
        f"a driver exists but registered no netdev:\n{out}"
    return kernel


def hist_bucket_low(label: str) -> int:
    """Lowest packet count of a histogram bucket label ("0", "2-3", ...)."""
    return int(label.split("-")[0])


@pytest.mark.parametrize("budget", [1, 8, 64])
def test_softnic_polls_never_exceed_weight(kernel, budget):
    N, WEIGHT = 2000, 16
    kernel.run(f"napi weight {WEIGHT}")
    kernel.run(f"napi budget {budget}")
    kernel.run("sink reset")
    before = net(kernel)
    out = kernel.run(f"softnic {N}", timeout=120)
    assert "TIMED OUT" not in out, out
    after = net(kernel)
    sink = kernel.stats()["sink"]
    kernel.run("napi weight 64")
    kernel.run("napi budget 300")

    assert sink == {"received": N, "gaps": 0, "duplicates": 0, "reordered": 0,
                    "highest_seq": N - 1, "bytes": N * 18, "short": 0}, sink
    hist = delta(after["napi"]["hist"], before["napi"]["hist"])
    over = {k: v for k, v in hist.items() if k != "full" and v and hist_bucket_low(k) >= WEIGHT}
    assert not over, f"polls above the weight {WEIGHT}: {hist}"
    napi = delta(after["napi"], before["napi"])
    # N / WEIGHT polls used the whole weight, one more found the ring empty
    assert napi["polls_full_weight"] == N // WEIGHT, napi
    assert napi["packets"] == N, napi
    assert hist["full"] == N // WEIGHT, hist
    # the budget stopped runs with work left, except when it covered it all
    if budget < N:
        assert napi["time_squeeze"] >= (N // max(budget, WEIGHT)) - 1, napi
    assert after["napi"]["bad_context"] == 0, after["napi"]
    ctx = delta(after["rx_context"], before["rx_context"])
    assert ctx == {"softirq": N, "hardirq": 0, "other": 0}, ctx
    assert after["unaccounted"] == 0, after
    # every buffer came back (a driver's RX ring holds its own share)
    assert after["pool"]["free"] == before["pool"]["free"], (before["pool"], after["pool"])


def test_net_reset_zeroes_counters(kernel):
    kernel.run("softnic 100")
    kernel.run("net reset")
    n = net(kernel)
    assert n["rx_frames"] == 0 and n["napi"]["polls"] == 0, n
    assert sum(n["drops"].values()) == 0 and n["unaccounted"] == 0, n
    assert n["napi"]["weight"] == 64 and n["napi"]["budget"] == 300, n["napi"]


def test_reconciled_at_rest(nic):
    kernel = nic
    n = net(kernel)
    assert n["unaccounted"] == 0, n
    assert n["ip"] == GUEST_IP and n["prefix"] == 24, n
    s = sum(n["outcomes"][k] for k in ("sink", "echoed", "answered", "consumed", "dropped"))
    assert s == n["rx_frames"], n
    assert n["outcomes"]["dropped"] == sum(n["drops"].values()), n


def test_host_pings_guest(nic):
    kernel = nic
    before = net(kernel)
    r = peer(kernel, "ping", GUEST_IP, "--count", "10", "--size", "56")
    assert r["received"] == r["sent"] == 10, r
    after = net(kernel)
    assert after["icmp"]["echo_replies"] - before["icmp"]["echo_replies"] == 10, (before, after)
    # the host had to resolve us first (ARP answered), unless cached
    arp = kernel.run("arp")
    assert "10.77.0.1" in arp, arp
    assert after["unaccounted"] == 0, after


def test_udp_echo_round_trip(nic):
    kernel = nic
    before = net(kernel)
    r = peer(kernel, "udpecho", GUEST_IP, "--sizes", "1,8,100,1000,1472")
    bad = [x for x in r["results"] if not x["ok"]]
    assert not bad, r
    after = net(kernel)
    assert after["udp"]["echo"] - before["udp"]["echo"] == 5, (before["udp"], after["udp"])
    assert after["udp"]["csum_checked"] - before["udp"]["csum_checked"] >= 5, after["udp"]


def test_sink_counts_a_sequenced_burst(nic):
    kernel = nic
    N = 3000
    kernel.run("sink reset")
    tap0 = kernel.netns.tap_stats()
    before = net(kernel)
    r = peer(kernel, "sink", GUEST_IP, "--count", str(N), "--payload", "32",
             "--chunk", "100", "--gap-ms", "5")
    assert r["sent"] == N
    after = wait_rx(kernel, N, before)
    sink = kernel.stats()["sink"]
    tap1 = kernel.netns.tap_stats()
    host_dropped = tap1.get("tx_dropped", 0) - tap0.get("tx_dropped", 0)
    # Every datagram the host sent reached the sink or was dropped on the
    # host side (tap queue full), nowhere else.
    assert sink["received"] + host_dropped == N, (sink, host_dropped)
    assert host_dropped == 0, f"paced burst overflowed the tap queue: {host_dropped}"
    assert sink == {"received": N, "gaps": 0, "duplicates": 0, "reordered": 0,
                    "highest_seq": N - 1, "bytes": N * 32, "short": 0}, sink
    assert after["outcomes"]["sink"] - before["outcomes"]["sink"] == N
    assert after["unaccounted"] == 0, after


# kind -> drop reason once QEMU 7.2's e1000 has padded it to 60 bytes
BATTERY = {
    "runt": "ip_csum",             # 16 bytes, zero-padded: no valid IPv4 header
    "oversize": "oversize",        # 1518 bytes
    "bad_ip_csum": "ip_csum",
    "trunc_udp": "udp_short",
    "trunc_icmp": "icmp_short",
    "ip_len_past_frame": "ip_bad_len",
    "bad_ihl": "ip_bad_ihl",
    "fragment": "ip_fragment",
    "bad_udp_csum": "udp_csum",
    "unknown_ethertype": "unknown_ethertype",
}


def test_malformed_battery_counted_by_reason(nic):
    kernel = nic
    COUNT = 5
    # 1518-byte frames need the tap's MTU above 1500 on the host side.
    kernel.netns.run(["ip", "link", "set", kernel.netns.tap, "mtu", "1504"])
    peer(kernel, "ping", GUEST_IP, "--count", "1")     # ARP settled first
    before = net(kernel)
    mac = before["mac"]
    r = peer(kernel, "battery", kernel.netns.tap, mac, "--kinds",
             ",".join(list(BATTERY) + ["garbage"]), "--count", str(COUNT))
    sent = sum(v["count"] for v in r["sent"].values())
    after = wait_rx(kernel, sent, before)

    drops = delta(after["drops"], before["drops"])
    want: dict[str, int] = {}
    for kind, reason in BATTERY.items():
        want[reason] = want.get(reason, 0) + COUNT
    for reason, n in want.items():
        assert drops[reason] >= n, f"{reason}: {drops[reason]} < {n}; drops={drops}"
    # garbage lands in some drop reason; nothing else was dropped
    assert sum(drops.values()) == sent, (sent, drops)
    outcomes = delta(after["outcomes"], before["outcomes"])
    assert outcomes["sink"] == outcomes["echoed"] == 0, outcomes
    assert after["rx_frames"] - before["rx_frames"] == sent + outcomes["answered"] + \
        outcomes["consumed"], (before, after)
    assert after["unaccounted"] == 0, after

    # and the guest still answers
    p = peer(kernel, "ping", GUEST_IP, "--count", "5")
    assert p["received"] == 5, p
