"""Receive performance mechanisms of the e1000 driver and the NAPI core.

  * interrupt deferral (net/napi_defer.c): during a steady flood the idle
    CPU polls the ring instead of re-enabling the NIC's interrupts, so a
    flood takes an interrupt only where a hold-off ran out; with
    `napi_defer 0` the same flood takes one every few frames; a runnable task
    is never made to wait for the polling (the flood is then received
    interrupt-driven, and nothing is lost or stranded);
  * the packet pool is sized from the rings (`pktpool=` is only where it
    starts), so a large ring gets all its buffers;
  * RDT is written once per return batch (a quarter of the ring, at most
    512, or `rxbatch=`).

Each check compares counters the guest reports before and after a flood
from the host (harness/flood) on the guest's tap.
"""
import re
import time

import pytest

from harness.flood import FloodSpec, run_flood, start_flood
from harness.qemu import GUEST_MAC

READY_TIMEOUT = 10.0


def wait_rx_ready(g):
    """QEMU's 82540EM receives nothing for 1 s after the RCTL write."""
    deadline = time.monotonic() + READY_TIMEOUT
    while not g.stats()["e1000"]["rx_ready"]:
        assert time.monotonic() < deadline, "e1000 never became rx_ready"
        g.console.sleep(0.1)


def flood(g, count, rate):
    """`count` datagrams to the sink at `rate`; (before, after) stats once
    the guest counted them all (or 10 s passed)."""
    before = g.stats()
    res = run_flood(FloodSpec(dst_mac=GUEST_MAC, dst_ip=g.netns.guest_ip,
                              count=count, rate=rate), g.netns)
    assert res.sent == count, f"host could not send: {res}"
    deadline = time.monotonic() + 10
    while True:
        after = g.stats()
        if after["sink"]["received"] - before["sink"]["received"] >= count or \
                time.monotonic() > deadline:
            return before, after
        g.console.sleep(0.2)


def delta(b, a, *path):
    for k in path:
        b, a = b[k], a[k]
    return a - b


@pytest.fixture(scope="module")
def kernel_options():
    return {"nic": "e1000", "net": True}


def test_defer_receives_a_flood_with_few_interrupts(kernel):
    wait_rx_ready(kernel)
    assert "napi_defer_us 1000" in kernel.run("napi_defer")   # the default
    n = 20000
    b, a = flood(kernel, n, 20000)
    assert delta(b, a, "sink", "received") == n
    irqs = delta(b, a, "e1000", "irq", "count")
    assert delta(b, a, "napi_defer", "defers") > 0
    assert delta(b, a, "napi_defer", "idle_polls") > 0
    # Frames 50 us apart, well inside the 1 ms hold-off: after the first
    # interrupt the idle CPU polls. Interrupts are re-enabled only when a
    # hold-off runs out (QEMU paused delivering for over 1 ms: a busy
    # host), a task took the CPU, or the tick's backstop ended one; each
    # re-enable allows one interrupt.
    rearms = sum(delta(b, a, "napi_defer", k) for k in ("timeouts", "yields", "backstops"))
    assert irqs <= rearms + 2, (irqs, rearms)
    assert irqs < n // 20, irqs
    assert delta(b, a, "e1000", "watchdog", "recoveries") == 0
    # and afterwards the device is back on interrupts: nothing deferred
    assert a["napi_defer"]["deferred_now"] is False

    kernel.run("napi_defer 0")
    try:
        b2, a2 = flood(kernel, n, 20000)
    finally:
        kernel.run("napi_defer 1000")
    assert delta(b2, a2, "sink", "received") == n
    irqs_off = delta(b2, a2, "e1000", "irq", "count")
    assert delta(b2, a2, "napi_defer", "defers") == 0
    # without deferral the ring runs empty between frames: an interrupt
    # cycle every few frames
    assert irqs_off > n // 50 and irqs_off > 3 * irqs, (irqs, irqs_off)


def spin_progress(g, pid):
    for t in g.stats()["sched"]["tasks"]:
        if t["pid"] == pid:
            return t["progress"]
    raise AssertionError(f"task {pid} is gone")


def test_defer_never_keeps_a_task_waiting(kernel):
    """With a CPU-bound task runnable, polls run on top of it and complete
    at once (no deferral), so the task keeps running and every frame is
    received interrupt-driven."""
    wait_rx_ready(kernel)
    out = kernel.run("run -b spin 0")
    m = re.search(r"started task (\d+)", out)
    assert m, out
    pid = int(m.group(1))
    try:
        p0 = spin_progress(kernel, pid)
        b, a = flood(kernel, 10000, 20000)
        p1 = spin_progress(kernel, pid)
    finally:
        kernel.run(f"kill {pid}")
    assert delta(b, a, "sink", "received") == 10000
    assert delta(b, a, "e1000", "irq", "count") > 0
    assert delta(b, a, "napi_defer", "defers") == 0
    assert p1 > p0, "the task made no progress during the flood"


def test_rdt_written_once_per_batch(kernel):
    wait_rx_ready(kernel)
    b, a = flood(kernel, 8000, 40000)
    e = a["e1000"]
    assert delta(b, a, "e1000", "rx_packets") == 8000
    assert e["rx_batch"] == e["rxring"] // 4 or e["rx_batch"] == 512
    assert delta(b, a, "e1000", "rdt_writes") <= 8000 // e["rx_batch"] + 1


def test_pool_grows_to_fit_the_rings(boot):
    g = boot(nic="e1000", net=True, cmdline="rxring=2048 txring=256 pktpool=256")
    s = g.stats()
    assert s["cmdline_errors"] == 0
    assert s["e1000"]["rxring"] == 2048          # not cut down to the pool
    assert s["e1000"]["rx_batch"] == 512         # a quarter, capped at 512
    pool = s["net"]["pool"]
    assert pool["total"] >= 2048 + 256
    assert pool["free"] >= 64                   # the stack's reserve is left
    wait_rx_ready(g)
    b, a = flood(g, 5000, 20000)
    assert delta(b, a, "sink", "received") == 5000
    assert a["net"]["pool"]["alloc_fail"] == b["net"]["pool"]["alloc_fail"]
    assert delta(b, a, "e1000", "rdt_writes") <= 5000 // 512 + 1


def test_rxbatch_key(boot):
    g = boot(nic="e1000", net=True, cmdline="rxring=1024 rxbatch=100")
    s = g.stats()
    assert s["cmdline_errors"] == 0
    assert (s["e1000"]["rxring"], s["e1000"]["rx_batch"]) == (1024, 100)
    wait_rx_ready(g)
    b, a = flood(g, 3000, 20000)
    assert delta(b, a, "sink", "received") == 3000
    assert delta(b, a, "e1000", "rdt_writes") <= 3000 // 100 + 1
