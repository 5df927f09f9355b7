"""The flood lab's pure parts, without a boot: counter flattening, the
accounting identity, records, aggregation, the table, argument parsing,
and the files (CSV, JSON, PNG) written from synthetic results.
"""
from __future__ import annotations

import copy
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from harness import accounting as acc  # noqa: E402
from harness.lab import cli, results, table  # noqa: E402

# A guest `stats` reply shaped like net/netctl.c's sections (and the
# driver's as guest_counters() expects it).
STATS0 = {
    "net": {"rx_frames": 100, "outcomes": {"sink": 90, "echoed": 0, "answered": 6,
                                           "consumed": 1, "dropped": 3},
            "unaccounted": 0,
            "drops": {"runt": 1, "udp_csum": 2, "not_for_us": 0},
            "napi": {"weight": 64, "budget": 300, "budget_us": 2000, "polls": 10,
                     "packets": 100, "polls_full_weight": 1, "time_squeeze": 0,
                     "hist": {"0": 1, "1": 2, "2-3": 3, "full": 1}},
            "pool": {"total": 1024, "free": 1000, "min_free": 900, "alloc_fail": 0}},
    "sink": {"received": 90, "gaps": 0, "duplicates": 0, "reordered": 0,
             "highest_seq": 89, "bytes": 1000, "short": 0},
    "softirq": {"NET_RX": {"raised": 5, "run": 5, "restarts": 0, "to_ksoftirqd": 0},
                "pending": 0},
    "e1000": {"irq": {"count": 12, "spurious": 0, "level": 12}, "napi": True,
              "hw": {"mpc": 0, "rnbc": 0}, "rxring": 256, "rx_pending": 0,
              "rx_drops": {"bad_length": 0}, "ring_high_water": 10,
              "watchdog": {"ms": 50, "recoveries": 0}},
}


def after_stats(delivered=1000, net_drops=None, drv_drops=None, mpc=0,
                irqs=5, foreign=0, squeeze=3):
    s = copy.deepcopy(STATS0)
    s["sink"]["received"] += delivered
    s["sink"]["highest_seq"] += delivered
    for k, v in (net_drops or {}).items():
        s["net"]["drops"][k] = s["net"]["drops"].get(k, 0) + v
    for k, v in (drv_drops or {}).items():
        s["e1000"]["rx_drops"][k] = s["e1000"]["rx_drops"].get(k, 0) + v
    s["e1000"]["hw"]["mpc"] += mpc
    s["e1000"]["irq"]["count"] += irqs
    s["net"]["outcomes"]["answered"] += foreign
    s["net"]["napi"]["time_squeeze"] += squeeze
    s["net"]["napi"]["polls"] += 20
    s["e1000"]["ring_high_water"] = 255
    return s


def gdelta(**kw):
    return acc.delta(acc.guest_counters(STATS0), acc.guest_counters(after_stats(**kw)))


# ------------------------------------------------------------ counters
def test_guest_counters_flattens_every_section():
    g = acc.guest_counters(STATS0)
    assert g["delivered"] == 90
    assert g["foreign"] == 7            # answered 6 + consumed 1
    assert g["net_drop.udp_csum"] == 2
    assert g["driver_drop.bad_length"] == 0
    assert g["interrupts"] == 12 and g["missed_nic"] == 0
    assert g["polls_full_weight"] == 1 and g["budget"] == 300
    assert g["ksoftirqd"] == 0 and g["ring_high_water"] == 10
    assert not any(k.startswith("missing.") for k in g)


def test_guest_counters_marks_missing_sections():
    g = acc.guest_counters({"sink": {"received": 3}})
    assert g["missing.net"] == 1 and g["missing.e1000"] == 1
    assert g["delivered"] == 3 and g["interrupts"] == 0


def test_delta_subtracts_counters_keeps_gauges():
    d = gdelta(delivered=500, irqs=7)
    assert d["delivered"] == 500 and d["interrupts"] == 7
    assert d["budget"] == 300                    # gauge: value after
    assert d["ring_high_water"] == 255           # gauge
    assert d["time_squeeze"] == 3 and d["polls"] == 20


def test_delta_refuses_counters_going_backwards():
    with pytest.raises(ValueError, match="backwards"):
        acc.delta(acc.guest_counters(after_stats()), acc.guest_counters(STATS0))


# ------------------------------------------------------------ identity
def test_reconcile_all_delivered():
    a = acc.reconcile(1000, gdelta(delivered=1000),
                      acc.HostCounts(tap_read=1000, tap_dropped=0, qdisc_dropped=0))
    assert a.unexplained == 0 and a.queued == 0 and a.ok
    assert a.where_lost() == "-"


def test_reconcile_every_place_a_frame_can_go():
    # 10000 sent: 6000 delivered, 30 net drops + 5 driver drops, 15 missed by
    # the NIC, 3000 dropped by tun, 900 by the qdisc, 50 in the qdisc's
    # backlog; 20 frames still in the tun ring; 4 foreign frames read by QEMU.
    d = gdelta(delivered=6000, net_drops={"udp_csum": 30}, drv_drops={"bad_length": 5},
               mpc=15, foreign=4)
    read = 6000 + 30 + 5 + 15 + 4
    h = acc.HostCounts(tap_read=read, tap_dropped=3000, qdisc_dropped=900,
                       qdisc_backlog=50)
    a = acc.reconcile(10000, d, h)
    assert a.dropped_guest == {"net.udp_csum": 30, "driver.bad_length": 5}
    assert a.missed_nic == 15 and a.dropped_host == 3900
    assert a.dropped_host_where == "tap+qdisc"
    assert a.queued_tun == 10000 - 6000 - 30 - 5 - 15 - 3900 - 50 and a.queued == 50 + a.queued_tun
    assert a.unexplained == 0 and a.ok, a.problems
    assert a.where_lost().startswith("host tap+qdisc 3900")


def test_reconcile_flags_a_frame_qemu_read_but_guest_never_counted():
    a = acc.reconcile(1000, gdelta(delivered=998),
                      acc.HostCounts(tap_read=999, tap_dropped=1, qdisc_dropped=0))
    assert a.unexplained == 1 and not a.ok
    assert "unexplained" in a.problems[0]
    assert "UNEXPLAINED" in a.where_lost()


def test_reconcile_flags_guest_counting_more_than_was_read():
    a = acc.reconcile(100, gdelta(delivered=101),
                      acc.HostCounts(tap_read=100, tap_dropped=0, qdisc_dropped=0))
    assert a.unexplained == -1 and not a.ok


def test_reconcile_flags_tap_reading_more_than_sent():
    a = acc.reconcile(100, gdelta(delivered=100),
                      acc.HostCounts(tap_read=105, tap_dropped=0, qdisc_dropped=0))
    assert a.queued_tun == -5
    assert any("more than were sent" in p for p in a.problems)


def test_reconcile_flags_missing_driver_section():
    before = acc.guest_counters({"net": STATS0["net"], "sink": STATS0["sink"]})
    after = acc.guest_counters({"net": STATS0["net"], "sink": after_stats()["sink"]})
    a = acc.reconcile(1000, acc.delta(before, after),
                      acc.HostCounts(tap_read=1000, tap_dropped=0, qdisc_dropped=0))
    assert a.unexplained == 0 and not a.ok
    assert "e1000" in a.problems[0]


def test_host_loss_location_names_the_counter():
    assert acc.host_loss_location(5, 0) == "tap tx_dropped"
    assert acc.host_loss_location(0, 5) == "qdisc"
    assert acc.host_loss_location(0, 0) == "none"


# ------------------------------------------------------------ records
def record(budget=64, rate=100_000, delivered=290_000, sent=300_000, irqs=30,
           repeat=0, host_drop=None, unexplained=0, steal=0.5, full=100):
    host_drop = sent - delivered if host_drop is None else host_drop
    return acc.RunRecord(
        mode="level", nic="e1000", budget=budget, weight=64, offered_pps=rate,
        duration=3.0, sent=sent, delivered=delivered, dropped_guest={},
        missed_nic=0, dropped_host=host_drop, dropped_host_where="tap tx_dropped"
        if host_drop else "none", queued=0, unexplained=unexplained,
        interrupts=irqs, polls=1000, polls_full_weight=full, time_squeeze=5,
        ksoftirqd=0, steal_pct=steal, repeat=repeat,
        achieved_pps=sent / 3.0,
        problems=["x unexplained"] if unexplained else [])


def test_record_derived_fields():
    r = record(delivered=270_000, sent=300_000, irqs=27)
    assert r.loss_pct == pytest.approx(10.0)
    assert r.delivered_pps == pytest.approx(90_000)
    assert r.irqs_per_1000_pkts == pytest.approx(0.1)
    assert r.ok
    assert not record(unexplained=2).ok
    assert record(rate=0).offered_label == "max"


def test_make_record_takes_gauges_and_deltas():
    d = gdelta(delivered=1000, irqs=9)
    a = acc.reconcile(1000, d, acc.HostCounts(1000, 0, 0))
    r = acc.make_record(mode="msi", nic="e1000e", offered_pps=5000, duration=0.2,
                        acct=a, gdelta=d, steal_pct=1.234, achieved_pps=4999.7)
    assert (r.budget, r.weight, r.interrupts, r.time_squeeze) == (300, 64, 9, 3)
    assert r.delivered_pps == pytest.approx(5000) and r.steal_pct == 1.23
    assert acc.RunRecord.from_dict(json.loads(json.dumps(r.as_dict()))) == r


def test_summarize_median_and_spread():
    rs = [record(delivered=d, repeat=i) for i, d in enumerate((280_000, 300_000, 290_000))]
    rs.append(record(budget=4))
    pts = acc.summarize(rs)
    assert len(pts) == 2 and len(pts[0].runs) == 3
    assert pts[0].median("delivered") == 290_000
    assert pts[0].spread("delivered") == (280_000, 300_000)


def test_max_loss_free_ignores_unpaced_and_lossy_points():
    rs = [record(rate=50_000, delivered=150_000, sent=150_000),
          record(rate=100_000, delivered=299_800, sent=300_000),   # 0.07 %
          record(rate=200_000, delivered=500_000, sent=600_000),
          record(rate=0, delivered=900_000, sent=900_000)]
    best = acc.max_loss_free(acc.summarize(rs))
    assert best is not None and best.first.offered_pps == 100_000
    assert acc.max_loss_free(acc.summarize(rs[2:])) is None


# ------------------------------------------------------------ table
def test_flood_table_rows_and_errors():
    rs = [record(budget=1, rate=50_000, delivered=150_000, sent=150_000, irqs=10),
          record(budget=1, rate=0, delivered=100_000, sent=400_000),
          record(budget=64, rate=50_000, unexplained=3)]
    text = table.format_flood_table(acc.summarize(rs))
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["mode", "budget", "offered"]
    row = lines[2]
    assert "50,000" in row and "0.00" in row and " ok" in row
    assert "max (host-bound)" in lines[3] and "host:tap tx_dropped=300000" in lines[3]
    assert "ERROR" in lines[4]
    assert "Reconciliation errors" in text and "x unexplained" in text
    # columns line up: every row as long as its header allows
    assert len({len(l.split("  ")[0]) for l in lines[2:5]}) == 1


def test_table_shows_spread_with_repeats():
    rs = [record(delivered=d, repeat=i) for i, d in enumerate((270_000, 300_000, 285_000))]
    row = table.format_flood_table(acc.summarize(rs)).splitlines()[2]
    assert "95,000 [90,000-100,000]" in row


def test_accounting_line_states_the_identity():
    line = table.format_accounting(record(unexplained=1))
    assert "sent 300000 = delivered 290000" in line and "ERROR" in line


# ------------------------------------------------------------ arguments
def test_parse_defaults():
    a = cli.parse(["flood"])
    assert a.budgets == [1, 4, 16, 64, 300] and a.rates[-1] == 0
    assert (a.mode, a.nic, a.duration, a.repeats) == ("level", "e1000", 3.0, 1)


def test_parse_makefile_style_args():
    a = cli.parse(["flood", "--budgets", "8,64", "--rates", "20000,150k,max",
                   "--mode", "msi", "--nic", "e1000e", "--duration", "3",
                   "--repeats", "3"])
    assert a.budgets == [8, 64] and a.rates == [20000, 150000, 0]
    assert (a.mode, a.nic, a.repeats) == ("msi", "e1000e", 3)
    assert cli.parse(["flood", "--mode", "msix"]).nic == "e1000e"
    b = cli.parse(["bench"])
    assert b.nic is None and b.mode is None      # bench: every nic and mode


@pytest.mark.parametrize("argv", [
    [], ["nonsense"], ["flood", "--budgets", "0"], ["flood", "--budgets", "4,x"],
    ["flood", "--budgets", "4,4"], ["flood", "--rates", "fast"],
    ["flood", "--rates", "-5"], ["flood", "--duration", "0"],
    ["flood", "--duration", "1000"], ["flood", "--repeats", "0"],
    ["flood", "--mode", "msi", "--nic", "e1000"], ["flood", "--mode", "bogus"],
    ["exp"], ["exp", "nosuch"],
])
def test_bad_arguments_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.parse(argv)
    assert e.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_bad_arguments_exit_2_from_the_command_line():
    r = subprocess.run([sys.executable, "-m", "harness.lab", "flood", "--rates", "x"],
                       cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "usage:" in r.stderr


# ------------------------------------------------------------ files
def synthetic_sweep():
    """A plausible sweep: loss grows with rate, shrinks with budget."""
    rs = []
    for b in (1, 4, 64, 300):
        cap = 120_000 + 40_000 * (b > 1) + 60_000 * (b >= 64)
        for rate in (50_000, 100_000, 200_000, 300_000, 0):
            off = rate or 450_000
            sent = int(off * 3)
            dl = int(min(off, cap) * 3)
            rs.append(record(budget=b, rate=rate, sent=sent, delivered=dl,
                             irqs=max(1, int(dl / 64 / (1 + rate / 50_000))),
                             full=dl // 64))
    return rs


def test_write_flood_files(tmp_path):
    rs = synthetic_sweep()
    out = results.write_flood(rs, {"cmd": "test"}, outdir=tmp_path, stamp="T")
    assert set(out) == {"csv", "json", "loss_vs_budget", "delivered_vs_offered",
                        "irqs_vs_load"}
    rows = list(csv.DictReader(open(out["csv"])))
    assert len(rows) == len(rs) and rows[0]["budget"] == "1"
    assert set(acc.CSV_FIELDS) <= set(rows[0])
    meta, back = results.read_json(out["json"])
    assert meta == {"cmd": "test"} and back == rs
    for name in ("loss_vs_budget", "delivered_vs_offered", "irqs_vs_load"):
        png = out[name]
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 10_000
        link = tmp_path / f"flood-latest-{name}.png"
        assert link.is_symlink() and link.resolve() == png.resolve()
    assert (tmp_path / "flood-latest.json").resolve() == out["json"].resolve()
    # a second write moves the links
    out2 = results.write_flood(rs[:3], {}, outdir=tmp_path, stamp="U")
    assert (tmp_path / "flood-latest.csv").resolve() == out2["csv"].resolve()


# ------------------------------------------------------------ report page
def test_report_renders_one_section_per_question():
    from harness import report
    data = {
        "time": "now", "wall_s": 1,
        "probes": {"nest": {"same": {"events": [
            {"ev": "enter", "vector": 0xe0, "depth": 1, "if": 0},
            {"ev": "exit", "vector": 0xe0, "depth": 1, "if": 0}], "runs": {"0xe0": 2}}},
            "nmi_in_irqoff": {"jiffies_during": 0, "nmi_during": 1, "pending": [
                {"vector": "0xf0", "taken_after": 1}], "window_us": 300000},
            "switches": {"offered_pps": 100000, "duration": 2, "irqs": 50, "nested": 0,
                         "max_depth": 1, "sched": {"switches": 400, "preempt_irq": 200}}},
        "experiments": {"irqoff": {"name": "irqoff", "checks": [
            {"name": "one NIC interrupt", "ok": True, "detail": "1"},
            {"name": "host drops", "ok": False, "detail": "0 <b>"}],
            "rows": [{"nic": "e1000", "mode": "level", "variant": "IF=0 (irqoff)",
                      "window_ms": 100, "offered_pps": 20000, "ring_size": 256,
                      "ms_to_full": 13.0, "stall_ms": 80.0, "frames_before_stop": 256,
                      "dropped_host": 700, "dropped_host_where": "tap tx_dropped",
                      "nic_irqs_after": 1, "pending_vectors": ["0x31", "0xf0"],
                      "timer_ticks_after": 1, "recovery_ms": 5.0, "reconciled": True,
                      "problems": []}],
            "plots": [], "json": "x.json"}},
    }
    page = report.render(data)
    assert page.count("<section><h3>") == 5 + 1
    for n in range(1, 6):
        assert f"<h3>{n}. " in page
    assert "NMIs taken inside the window: <b>1</b>" in page
    assert "taken <b>1</b> time(s) after STI" in page
    assert "Failed checks" in page and "0 &lt;b&gt;" in page     # escaped


# ------------------------------------------------------------ sampler, search
def test_parse_net_dev():
    from harness.lab.sampler import parse_net_dev
    text = ("Inter-|   Receive                                                |  Transmit\n"
            " face |bytes    packets errs drop fifo frame compressed multicast|bytes    "
            "packets errs drop fifo colls carrier compressed\n"
            "    lo:       0       0    0    0    0     0          0         0        0"
            "       0    0    0    0     0       0          0\n"
            "  tap0:       0       0    0    0    0     0          0         0     6000"
            "     100    0   17    0     0       0          0\n")
    assert parse_net_dev(text, "tap0") == (100, 17)
    assert parse_net_dev(text, "eth9") is None


def steady_then_stall(rate=20_000, stall=(0.3, 0.4), ring=256, catchup=5.0):
    """Synthetic 1 ms samples: QEMU reads at `rate` until the ring is full
    (ring frames into the stall), reads nothing until the stall ends, then
    reads `catchup` x rate until the backlog is gone; drops while the tun
    queue (1000) is full."""
    out, n, d, backlog = [], 0, 0, 0
    per_ms = rate / 1000
    for i in range(1000):
        t = i / 1000
        backlog += per_ms
        in_stall = stall[0] <= t < stall[1]
        if in_stall and n >= ring + int(stall[0] * rate):
            read = 0
        elif in_stall:
            read = min(backlog, per_ms)
        else:
            read = min(backlog, per_ms * catchup)
        n += read
        backlog -= read
        if backlog > 1000:
            d += backlog - 1000
            backlog = 1000
        out.append((t, int(n), int(d)))
    return out


def test_stall_and_recovery_finds_the_window():
    from harness.lab.sampler import stall_and_recovery
    s = steady_then_stall()
    # the command was sent at 0.25 s; the guest started the window at 0.3 s
    r = stall_and_recovery(s, 0.25, 0.1, 20_000)
    assert 295 <= r["window_start_ms"] <= 305
    assert 10 <= r["ms_to_full"] <= 16          # 256 frames at 20/ms
    assert 200 <= r["frames_before_stop"] <= 270   # ~ the ring, read at 20/ms
    assert 84 <= r["stall_ms"] <= 90
    assert r["dropped_in_stall"] > 0 and r["host_dropped"] >= r["dropped_in_stall"]
    assert r["recovery_ms"] is not None and 5 <= r["recovery_ms"] <= 20


def test_stall_and_recovery_without_stall():
    from harness.lab.sampler import stall_and_recovery
    s = [(i / 1000, i * 20, 0) for i in range(1000)]
    r = stall_and_recovery(s, 0.3, 0.1, 20_000)
    assert r["stall_ms"] is None and r["host_dropped"] == 0


def test_read_gaps():
    from harness.lab.sampler import read_gaps
    s = [(0.000, 0, 0), (0.001, 5, 0), (0.002, 5, 0), (0.006, 5, 0), (0.007, 9, 0),
         (0.008, 9, 0), (0.020, 9, 0)]
    assert read_gaps(s, 0.0) == [(0.001, 0.007), (0.007, 0.020)]
    assert read_gaps(s, 0.0, min_gap_s=0.01) == [(0.007, 0.020)]


def test_rates_bins():
    from harness.lab.sampler import rates
    s = [(i / 1000, i * 20, 0) for i in range(101)]
    xs, rd, dr = rates(s, 0.0, 0.005)
    assert len(xs) == 20 and all(abs(r - 20_000) < 1 for r in rd) and not any(dr)


def test_longest_read_gap():
    from harness.lab.experiments import longest_read_gap
    s = steady_then_stall()
    gap = longest_read_gap(s, 0.05, 1.0)
    assert 80 <= gap <= 100


def test_find_loss_free_steps_up_then_bisects():
    from harness.lab.sweep import find_loss_free
    knee = 170_000
    tried = []

    def loss(rate):
        tried.append(rate)
        return 0.0 if rate <= knee else 5.0
    good, bad = find_loss_free(loss, start=50_000, bisect_steps=3, confirm=False)
    assert tried[:4] == [50_000, 75_000, 112_500, 168_750]
    assert good <= knee < bad and bad - good <= 253_125 - 168_750
    assert len(tried) == 5 + 3


def test_find_loss_free_confirms_a_lossy_rate():
    from harness.lab.sweep import find_loss_free
    noise = {75_000: [3.0, 0.0]}     # one noisy run at 75k, then clean
    tried = []

    def loss(rate):
        tried.append(rate)
        if rate in noise and noise[rate]:
            return noise[rate].pop(0)
        return 0.0 if rate <= 100_000 else 5.0
    good, bad = find_loss_free(loss, start=50_000, bisect_steps=0)
    assert tried[:3] == [50_000, 75_000, 75_000]
    assert (good, bad) == (75_000, 112_500)


def test_find_loss_free_all_lossy():
    from harness.lab.sweep import find_loss_free
    assert find_loss_free(lambda r: 10.0, start=50_000) == (None, 50_000)


def test_bench_combos():
    from harness.lab.sweep import bench_combos
    assert bench_combos(None, None) == [("e1000", "level"), ("e1000", "edge"),
                                        ("e1000e", "level"), ("e1000e", "edge"),
                                        ("e1000e", "msi"), ("e1000e", "msix")]
    assert bench_combos("e1000", None) == [("e1000", "level"), ("e1000", "edge")]
    assert bench_combos(None, "msi") == [("e1000e", "msi")]


def test_stall_longer_than_the_window():
    from harness.lab.sampler import stall_and_recovery
    s = steady_then_stall(stall=(0.3, 0.5))      # a 100 ms window that stalled 200 ms
    r = stall_and_recovery(s, 0.25, 0.1, 20_000)
    assert r["ms_to_full"] >= 0 and r["stall_ms"] > 150
    assert 70 <= r["stall_beyond_window_ms"] <= 100
