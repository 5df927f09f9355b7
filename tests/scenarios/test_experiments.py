"""The four experiments of the flood lab, scaled down to seconds each
(harness.lab.experiments at scale "test"), asserting their qualitative
results and that every run reconciles:

  irqoff    with IF=0 during a flood the ring fills (QEMU stops reading),
            later frames are dropped on the host (tap tx_dropped), and one
            NIC interrupt is taken for the whole window after STI
  budget    with budget 1 NET_RX runs out of budget (time_squeeze > 0), and
            a large budget squeezes no more often
  edge      irq=edge stalls and the watchdog recovers it; irq=level does not
  livelock  with NAPI the user task keeps running under load; without NAPI
            (everything in the hard-IRQ handler) it starves

One guest at a time (LabPool), reused between tests while its
configuration stays the same. Needs root, /dev/net/tun, `make`, the e1000
driver, and user mode (`run spin`) for livelock.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from harness.lab.experiments import SCALES, LabPool, format_checks, run_experiment  # noqa: E402

pytestmark = pytest.mark.boots


@pytest.fixture(scope="module")
def pool(napilab_build):
    with LabPool() as p:
        yield p


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("exp")


def run_and_assert(name, pool, out_dir):
    res = run_experiment(name, pool, SCALES["test"], out_dir)
    text = format_checks(res)
    print(text)
    assert res["checks"], f"{name}: no checks ran\n{text}"
    failed = [c for c in res["checks"] if not c["ok"] and not c.get("inconclusive")]
    assert not failed, text
    if any(c.get("inconclusive") for c in res["checks"]):
        pytest.skip("host too busy to load the guest (see the INCONCLUSIVE checks):\n"
                    + text)
    for p in res["plots"]:
        assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return res


def test_irqoff_window(pool, out_dir):
    res = run_and_assert("irqoff", pool, out_dir)
    cpu = [r for r in res["rows"] if r["variant"].startswith("IF=0")]
    assert cpu and cpu[0]["nic_irqs_after"] == 1


def test_budget_and_time_limit(pool, out_dir):
    run_and_assert("budget", pool, out_dir)


def test_edge_stall_and_watchdog(pool, out_dir):
    run_and_assert("edge", pool, out_dir)


def test_receive_livelock(pool, out_dir):
    run_and_assert("livelock", pool, out_dir)
