"""The four experiments of issue 5, each a function that returns a result
dict (rows, checks, plots) and a `python3 -m harness.lab exp NAME` command.
tests/scenarios/test_experiments.py runs them at scale "test" (seconds
each) and asserts their checks; `make report` runs them at scale "full".

  irqoff    During a steady flood the guest runs with IF=0 for T ms
            (`irqoff T`), and separately with only the NIC's IOAPIC entry
            masked and only the device masked (IMC) (driver commands).
            Measured: how the ring filled (QEMU stops reading the tap once
            the ring is full: the tap sampler sees reads stop), where the
            frames went then (tap tx_dropped), how many interrupts were taken
            after re-enabling (`irqoff` reports it per pending vector), and
            how long until QEMU had caught up with the backlog.
  edge      irq=edge on the level-triggered INTx line: the NIC's IOAPIC entry
            masked for a moment while frames arrive loses the edge; the line
            then stays high, no new edge comes, and the ring stalls until
            the driver's watchdog polls. Also a plain flood. Compared with
            irq=level (and MSI on the e1000e), which do not stall.
  livelock  A CPU-bound user task (`run -b spin 0`) while the offered load
            rises: its progress and the delivered rate, with NAPI off
            (everything in the hard-IRQ handler) and on at several budgets
            (Mogul & Ramakrishnan 1997).
  budget    At an overload rate: loss, time_squeeze and ksoftirqd handoffs
            against the NET_RX budget, the NAPI weight and the time limit.

Context: host side; each experiment boots what it needs through a LabPool
(one guest at a time, reused while the configuration stays the same).
"""
from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

from .. import accounting as acc
from .. import plots
from ..errors import GuestError
from . import results, table
from .core import Lab
from .sampler import rates as bin_rates
from .sampler import stall_and_recovery

# The shell commands the experiments use, in one place. Driver commands
# (drivers/e1000): mask the NIC's interrupt at one level for a while.
IRQOFF_CMD = "irqoff {ms}"
MASK_CMDS = {"ioapic": "e1000 mask ioapic {ms}", "device": "e1000 mask device {ms}"}
SPIN_START = "run -b spin 0"
SPIN_KILL = "kill {pid}"
# Livelock: full-size frames (see exp_livelock), and the share of the
# guest's CPU under which the user task counts as starved.
LIVELOCK_FRAME = 1518
LIVELOCK_STARVED_PCT = 30.0
# With NAPI the receive work moves to ksoftirqd, which the scheduler shares
# with the user task: measured 24-60 % for the user task at the loads tried
# (no NAPI: 10-20 %). The checks ask for at least this share, and for
# LIVELOCK_RATIO times what the user task got without NAPI.
LIVELOCK_KEEPS_PCT = 20.0
LIVELOCK_RATIO = 1.5
# No-NAPI runs that measured the host rather than the guest (_host_bound)
# are repeated up to this many runs in all; the one that delivered most is
# kept, and every attempt is listed in the row.
LIVELOCK_TRIES = 3


@dataclasses.dataclass
class Scale:
    rate: int              # steady offered rate for irqoff / edge (pps)
    window_ms: int         # IF=0 / mask window
    duration: float        # seconds per run
    at: float              # when the window starts (s after the flood)
    combos: tuple          # (nic, mode) for irqoff
    edge_modes: tuple      # (nic, mode) for edge
    live_rates: tuple      # offered rates for livelock (0 = no flood)
    live_budgets: tuple    # NAPI budgets for livelock (napi=off always too)
    budget_rate: int       # overload rate for the budget experiment
    budgets: tuple
    weights: tuple
    budget_us: tuple


SCALES = {
    "test": Scale(rate=20_000, window_ms=100, duration=1.0, at=0.3,
                  combos=(("e1000", "level"),),
                  edge_modes=(("e1000", "edge"), ("e1000", "level")),
                  live_rates=(0, 100_000, 150_000), live_budgets=(64,),
                  budget_rate=300_000, budgets=(1, 300), weights=(), budget_us=()),
    "full": Scale(rate=50_000, window_ms=100, duration=2.0, at=0.7,
                  combos=(("e1000", "level"), ("e1000", "edge"),
                          ("e1000e", "level"), ("e1000e", "msi"), ("e1000e", "msix")),
                  edge_modes=(("e1000e", "msi"), ("e1000", "edge"), ("e1000", "level")),
                  live_rates=(0, 25_000, 50_000, 75_000, 100_000, 150_000, 250_000),
                  live_budgets=(4, 64, 300),
                  budget_rate=400_000, budgets=(1, 4, 16, 64, 300),
                  weights=(4, 16, 64, 256), budget_us=(20, 100, 500, 2000)),
}


class LabPool:
    """At most one booted Lab at a time, reused while (nic, mode, napi) and
    the boot-time keys stay the same; a different request closes the old
    one first (two guests would compete for the same two host cores)."""

    def __init__(self, log: Callable[[str], None] = print, **lab_kw):
        self.log = log
        self.lab_kw = lab_kw
        self.key: Optional[tuple] = None
        self.lab: Optional[Lab] = None

    def get(self, nic: str, mode: str, napi: str = "on", **cmdline) -> Lab:
        key = (nic, mode, napi, tuple(sorted(cmdline.items())))
        if self.lab is not None and self.key == key and self.lab.guest.alive:
            return self.lab
        self.close()
        self.log(f"lab: booting {nic} irq={mode} napi={napi} "
                 + " ".join(f"{k}={v}" for k, v in cmdline.items()))
        lab = Lab(nic=nic, mode=mode, napi=napi, cmdline=cmdline,
                  label=f"exp-{nic}-{mode}-napi{napi}", log=self.log, **self.lab_kw)
        lab.start()
        self.lab, self.key = lab, key
        return lab

    def close(self) -> None:
        if self.lab is not None:
            self.lab.close()
        self.lab, self.key = None, None

    def __enter__(self) -> "LabPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check(checks: list, name: str, ok: bool, detail: str,
          inconclusive: bool = False) -> bool:
    """Record a check. inconclusive: it failed, but the run measured the
    host rather than the guest (a busy host), so the failure says nothing
    about the kernel; tests skip on such failures, the report shows them."""
    checks.append({"name": name, "ok": bool(ok), "detail": detail,
                   "inconclusive": bool(inconclusive and not ok)})
    return bool(ok)


def parse_json_reply(text: str) -> Optional[dict]:
    """The first line of a shell reply that is a JSON object, decoded."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def shell_action(cmd: str) -> Callable[[Lab], dict]:
    """An action for Lab.measure: run cmd, keep its reply (and whether the
    kernel refused it: a missing driver command answers `error: ...`)."""
    def act(lab: Lab) -> dict:
        out = lab.run(cmd, timeout=30.0, check=False)
        err = next((l for l in out.splitlines() if l.startswith("error:")), None)
        return {"cmd": cmd, "output": out, "error": err, "json": parse_json_reply(out)}
    return act


def _write(name: str, result: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = results.timestamp()
    path = out_dir / f"exp-{name}-{stamp}.json"
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    results.link_latest(path, out_dir / f"exp-{name}-latest.json")
    return path


def _strip(rec: acc.RunRecord, keep_samples: bool = False) -> dict:
    d = rec.as_dict()
    if not keep_samples:
        d["extra"] = {k: v for k, v in d["extra"].items() if k != "samples"}
    return d


# ====================================================================== 1
def _window_analysis(rec: acc.RunRecord, window_ms: int, rate: int) -> dict:
    """stall_and_recovery() on the run's tap series, the window having been
    asked for when the action's command was sent."""
    until = rec.duration + 0.02    # after the flood nothing is read anyway
    samples = [x for x in rec.extra.get("samples") or [] if x[0] <= until]
    return stall_and_recovery(samples, rec.extra["actions"][0]["at"],
                              window_ms / 1000, rate)


def exp_irqoff(pool: LabPool, scale: Scale, out_dir: Path,
               log: Callable[[str], None] = print) -> dict:
    rows, checks, runs, series = [], [], [], []
    for nic, mode in scale.combos:
        lab = pool.get(nic, mode)
        st = lab.stats()
        vecs = acc.nic_vectors(st)
        ring = acc.guest_counters(st).get("ring_size", 0)
        variants = [("IF=0 (irqoff)", IRQOFF_CMD.format(ms=scale.window_ms))]
        if mode in ("level", "edge"):
            variants.append(("IOAPIC entry masked",
                             MASK_CMDS["ioapic"].format(ms=scale.window_ms)))
        variants.append(("device masked (IMC)", MASK_CMDS["device"].format(ms=scale.window_ms)))
        for vname, cmd in variants:
            rec = lab.measure(scale.rate, scale.duration, sample_period=0.001,
                              actions=[(scale.at, shell_action(cmd))],
                              label=f"irqoff {nic}/{mode} {vname}", retry_noisy=True)
            log(table.format_accounting(rec))
            act = rec.extra["actions"][0]["result"]
            row = {"nic": nic, "mode": mode, "variant": vname, "cmd": cmd,
                   "window_ms": scale.window_ms, "offered_pps": scale.rate,
                   "ring_size": ring, "sent": rec.sent, "delivered": rec.delivered,
                   "dropped_host": rec.dropped_host,
                   "dropped_host_where": rec.dropped_host_where,
                   "ring_high_water": rec.ring_high_water,
                   "interrupts_run": rec.interrupts, "reconciled": rec.ok,
                   "problems": rec.problems}
            if act["error"]:
                row["unavailable"] = act["error"]
                rows.append(row)
                runs.append(_strip(rec))
                continue
            row.update(_window_analysis(rec, scale.window_ms, scale.rate))
            j = act["json"] or {}
            if "irqoff" in j:
                io = j["irqoff"]
                pend = {p["vector"]: p["taken_after"] for p in io.get("pending", [])}
                row["window_us"] = io.get("window_us")
                row["pending_vectors"] = sorted(pend)
                row["nic_pending"] = any(v in pend for v in vecs)
                row["nic_irqs_after"] = sum(pend.get(v, 0) for v in vecs)
                row["timer_ticks_after"] = pend.get("0xf0")
                row["jiffies_during"] = io.get("jiffies_during")
                row["nmi_during"] = io.get("nmi_during")
            elif j:
                row["driver_report"] = j
                for k in ("irqs_after", "interrupts_after", "taken_after"):
                    if k in j:
                        row["nic_irqs_after"] = j[k]
            rows.append(row)
            runs.append(_strip(rec))
            xs, rd, dr = bin_rates(rec.extra["samples"], 0.0, 0.005)
            stall = None
            if row.get("stall_ms") is not None:
                s0 = row["window_start_ms"] + row["ms_to_full"]
                stall = (s0, s0 + row["stall_ms"])
            series.append({"title": f"{nic}, irq={mode}: {vname} for {scale.window_ms} ms "
                           f"(dropped on the host: {rec.dropped_host})",
                           "xs": xs, "read": rd, "dropped": dr, "stall": stall,
                           "xmax": rec.duration * 1000})
    # ------- checks (on the first combo's IF=0 run: what the issue asks)
    for row in rows:
        if row["variant"] != "IF=0 (irqoff)" or "unavailable" in row:
            continue
        tag = f"{row['nic']}/{row['mode']}"
        check(checks, f"{tag}: accounting reconciles", row["reconciled"],
              "; ".join(row["problems"]) or "sent = delivered + dropped + queued")
        fb = row.get("frames_before_stop")
        stall = row.get("stall_ms") or 0
        check(checks, f"{tag}: with IF=0 the ring filled and QEMU stopped reading",
              stall >= 0.5 * row["window_ms"] and fb is not None
              and 0 <= fb <= row["ring_size"] + 2 and 0 <= row["ms_to_full"] < row["window_ms"],
              f"QEMU read {fb} frames in the first {row.get('ms_to_full')} ms of the "
              f"window (ring of {row['ring_size'] or '?'} descriptors"
              + ("; it was already full when the window began" if fb == 0 else "")
              + f"), then nothing for {stall} ms")
        check(checks, f"{tag}: later frames were dropped on the host",
              row["dropped_host"] > 0 and row["dropped_host_where"] in ("tap tx_dropped", "qdisc", "tap+qdisc"),
              f"{row['dropped_host']} dropped at {row['dropped_host_where']}")
        check(checks, f"{tag}: one NIC interrupt taken for the whole window",
              row.get("nic_pending") and row.get("nic_irqs_after") == 1,
              f"NIC vectors {row.get('pending_vectors')}, taken after STI: "
              f"{row.get('nic_irqs_after')}")
    plot_paths = []
    if series:
        p = plots.timelines(out_dir / "exp-irqoff.png", series,
                            f"While the guest cannot drain its ring QEMU stops reading the tap, "
                            f"then the host drops\n({scale.rate / 1000:g}k pps offered, "
                            f"{scale.window_ms} ms windows)")
        plot_paths.append(str(p))
    return {"name": "irqoff", "scale": dataclasses.asdict(scale), "rows": rows,
            "checks": checks, "plots": plot_paths, "runs": runs}


# ====================================================================== 2
def longest_read_gap(samples: list, t_from: float, t_to: float) -> float:
    """Longest time (ms) in [t_from, t_to] during which QEMU read nothing."""
    best, last_t, last_n = 0.0, None, None
    for t, n, _ in samples:
        if t < t_from or t > t_to:
            continue
        if last_n is None or n != last_n:
            last_t, last_n = t, n
        else:
            best = max(best, t - last_t)
    return round(best * 1000, 2)


def exp_edge(pool: LabPool, scale: Scale, out_dir: Path,
             log: Callable[[str], None] = print) -> dict:
    rows, checks, runs = [], [], []
    mask_ms = 20
    for nic, mode in scale.edge_modes:
        lab = pool.get(nic, mode)
        kind = "ioapic" if mode in ("level", "edge") else "device"
        for trigger, actions in (
                ("plain flood", []),
                (f"{kind} mask {mask_ms} ms",
                 [(scale.at, shell_action(MASK_CMDS[kind].format(ms=mask_ms)))])):
            rec = lab.measure(scale.rate, scale.duration, sample_period=0.001,
                              actions=actions, label=f"edge {nic}/{mode} {trigger}",
                              retry_noisy=True)
            log(table.format_accounting(rec))
            gd = rec.extra["guest_delta"]
            act = rec.extra["actions"][0]["result"] if actions else None
            row = {"nic": nic, "mode": mode, "trigger": trigger,
                   "sent": rec.sent, "delivered": rec.delivered,
                   "loss_pct": round(rec.loss_pct, 3),
                   "watchdog": gd.get("watchdog", 0), "interrupts": rec.interrupts,
                   "longest_read_gap_ms": longest_read_gap(
                       rec.extra.get("samples") or [], 0.05, rec.duration),
                   "reconciled": rec.ok, "problems": rec.problems}
            if act and act["error"]:
                row["unavailable"] = act["error"]
            rows.append(row)
            runs.append(_strip(rec))
    by = {(r["nic"], r["mode"]): [x for x in rows if (x["nic"], x["mode"]) == (r["nic"], r["mode"])
                                  and "unavailable" not in x] for r in rows}
    for (nic, mode), rs in by.items():
        if not rs:
            continue
        wd = sum(r["watchdog"] for r in rs)
        gap = max(r["longest_read_gap_ms"] for r in rs)
        check(checks, f"{nic}/{mode}: every frame accounted for", all(r["reconciled"] for r in rs),
              "; ".join(p for r in rs for p in r["problems"]) or "reconciled")
        if mode == "edge":
            check(checks, f"{nic}/edge: the stall happened and the watchdog recovered it",
                  wd >= 1 and all(r["delivered"] > 0 for r in rs),
                  f"watchdog recoveries {wd}; longest time QEMU read nothing {gap} ms")
        else:
            check(checks, f"{nic}/{mode}: no stall, no watchdog recovery", wd == 0,
                  f"watchdog recoveries {wd}; longest time QEMU read nothing {gap} ms")
    plot_paths = []
    ok_rows = [r for r in rows if "unavailable" not in r]
    if ok_rows:
        groups = [f"{r['nic']}/{r['mode']}\n{r['trigger']}" for r in ok_rows]
        p = plots.bars(out_dir / "exp-edge-gap.png", groups,
                       {"longest time QEMU read nothing": [r["longest_read_gap_ms"] for r in ok_rows]},
                       "milliseconds",
                       f"Longest receive stall during a {scale.rate / 1000:g}k pps flood: "
                       "edge-triggered INTx stalls until the watchdog")
        plot_paths.append(str(p))
        p = plots.bars(out_dir / "exp-edge-watchdog.png", groups,
                       {"watchdog recoveries": [r["watchdog"] for r in ok_rows]},
                       "recoveries per run (count)",
                       "Stalls the driver's watchdog found and recovered by polling")
        plot_paths.append(str(p))
    return {"name": "edge", "scale": dataclasses.asdict(scale), "rows": rows,
            "checks": checks, "plots": plot_paths, "runs": runs}


# ====================================================================== 3
def _spin_state(lab: Lab, pid: int) -> dict:
    """User task pid's progress and the guest's per-context CPU cycles, now."""
    st = lab.stats()
    t = time.monotonic()
    task = next((x for x in acc.user_tasks(st) if x["pid"] == pid), None)
    if task is None:
        raise GuestError(f"user task {pid} (spin) is not in the task list")
    return {"t": t, "progress": task["progress"], "utime_us": task["utime_us"],
            "guest": acc.guest_counters(st)}


def _host_bound(rec: acc.RunRecord) -> bool:
    """A no-NAPI run in which the host, not the guest, was the bottleneck:
    frames were lost on the host while the guest still had CPU left for the
    user task. With its interrupts left on, a no-NAPI guest is in its
    handler whenever a frame waits in the ring, so idle guest CPU during
    host-side loss means QEMU was not delivering (its main loop starved on
    a busy host)."""
    if rec.loss_pct < 1.0:
        return False
    before = rec.extra["guest_before"]
    after = rec.extra["at_end"]["guest"]
    return acc.cpu_shares(acc.delta(before, after)).get("user", 0.0) >= LIVELOCK_STARVED_PCT


def _livelock_row(before: dict, after: dict, base: Optional[dict] = None) -> dict:
    """Shares of the guest's CPU between two _spin_state()s, and the user
    task's progress per host second."""
    shares = acc.cpu_shares(acc.delta(before["guest"], after["guest"]))
    span = max(after["t"] - before["t"], 1e-3)
    return {"user_share_pct": shares.get("user", 0.0),
            "irq_share_pct": shares.get("irq", 0.0),
            "softirq_share_pct": shares.get("softirq", 0.0),
            "kernel_task_share_pct": round(shares.get("task", 0.0)
                                           + shares.get("atomic", 0.0), 2),
            "user_progress_per_s": round((after["progress"] - before["progress"]) / span, 1)}


def exp_livelock(pool: LabPool, scale: Scale, out_dir: Path,
                 log: Callable[[str], None] = print) -> dict:
    """The user task's share of the guest's CPU (the guest's own TSC-timed
    per-context accounting, so host contention does not distort it) and
    the delivered rate, against offered load. Full-size frames (1518 bytes)
    make the guest's per-frame work (copy, checksum) the bottleneck before
    QEMU's main loop is: with 64-byte frames the host side saturates first
    on a 2-core host and the guest is never overloaded."""
    rows, checks, runs = [], [], []
    # NAPI first: it reuses the level-triggered guest the other experiments
    # booted; no NAPI needs a boot of its own (napi=off on the command line).
    configs = [("on", b) for b in scale.live_budgets] + [("off", None)]
    for napi, budget in configs:
        lab = pool.get("e1000", "level", napi=napi)
        size0, lab.size = lab.size, LIVELOCK_FRAME
        if budget:
            lab.set_napi(budget=budget)
        out = lab.run(SPIN_START)
        m = re.search(r"started task (\d+)", out)
        if not m:
            raise GuestError(f"`{SPIN_START}` did not start a task: {out!r}")
        pid = int(m.group(1))
        label = "no NAPI" if napi == "off" else f"NAPI budget {budget}"
        try:
            for rate in scale.live_rates:
                row = {"config": label, "napi": napi, "budget": budget,
                       "offered_pps": rate, "frame_bytes": LIVELOCK_FRAME}
                if rate == 0:
                    a = _spin_state(lab, pid)
                    lab.console.sleep(scale.duration)
                    b = _spin_state(lab, pid)
                    row.update(delivered_pps=0.0, loss_pct=0.0, reconciled=True,
                               problems=[])
                else:
                    rec, tries = None, []
                    for _ in range(LIVELOCK_TRIES if napi == "off" else 1):
                        r = lab.measure(rate, scale.duration,
                                        at_end=lambda l: _spin_state(l, pid),
                                        label=f"livelock {label} {rate}",
                                        retry_noisy=True)
                        log(table.format_accounting(r))
                        tries.append({"delivered_pps": round(r.delivered_pps, 1),
                                      "loss_pct": round(r.loss_pct, 3)})
                        if rec is None or r.delivered > rec.delivered:
                            rec = r
                        if not _host_bound(r):
                            break
                    row["attempts"] = tries
                    row["host_bound"] = napi == "off" and _host_bound(rec)
                    # From the snapshot before the (kept) run's flood to
                    # the moment its generator finished.
                    b = rec.extra["at_end"]
                    task = next(t for t in rec.extra["user_tasks_before"] if t["pid"] == pid)
                    a = {"t": rec.extra["t0"] + rec.extra["t_before"],
                         "progress": task["progress"], "utime_us": task["utime_us"],
                         "guest": rec.extra["guest_before"]}
                    row.update(delivered_pps=round(rec.delivered_pps, 1),
                               achieved_pps=round(rec.achieved_pps, 1),
                               loss_pct=round(rec.loss_pct, 3), interrupts=rec.interrupts,
                               ksoftirqd=rec.ksoftirqd, reconciled=rec.ok,
                               problems=rec.problems)
                    rec.extra.pop("at_end", None)   # holds a whole stats dict
                    runs.append(_strip(rec))
                row.update(_livelock_row(a, b))
                rows.append(row)
        finally:
            lab.size = size0
            if lab.guest.alive:
                lab.run(SPIN_KILL.format(pid=pid), check=False)
    # Each configuration at its busiest: the loaded point where the user task
    # got the least CPU. Without NAPI that is where QEMU delivered most (its
    # main loop, not the guest, sets how much arrives: see _host_bound).
    worst = {}
    for r in rows:
        if r["offered_pps"] > 0 and (r["config"] not in worst or
                                     r["user_share_pct"] < worst[r["config"]]["user_share_pct"]):
            worst[r["config"]] = r
    off = worst.get("no NAPI")
    # Where the receive work runs holds whatever the host does: without NAPI
    # in the hard-IRQ handler, with NAPI in the softirq (or ksoftirqd).
    for cfg, r in worst.items():
        irq_ctx = cfg == "no NAPI"
        check(checks, f"{cfg}: the receive work runs in "
              f"{'hard-IRQ' if irq_ctx else 'softirq'} context",
              (r["irq_share_pct"] > 5 * r["softirq_share_pct"] + 1) if irq_ctx
              else (r["softirq_share_pct"] > 5 * r["irq_share_pct"] + 1),
              f"hard IRQ {r['irq_share_pct']} %, softirq {r['softirq_share_pct']} % of the "
              f"guest's CPU at {r['offered_pps'] / 1000:g}k pps")
    host_note = ""
    if off is not None and off.get("host_bound"):
        host_note = (" (INCONCLUSIVE: in every try QEMU delivered too little to load the "
                     "guest: the host was busy; attempts " + json.dumps(off.get("attempts"))
                     + ")")
    if off is not None:
        check(checks, "no NAPI under load: the user task starves",
              off["user_share_pct"] < LIVELOCK_STARVED_PCT,
              f"at {off['offered_pps'] / 1000:g}k pps offered the user task got "
              f"{off['user_share_pct']} % of the guest's CPU (hard IRQ "
              f"{off['irq_share_pct']} %); delivered {off['delivered_pps']:,.0f} pps"
              + host_note, inconclusive=bool(off.get("host_bound")))
    for cfg, r in worst.items():
        if cfg == "no NAPI":
            continue
        check(checks, f"{cfg} under load: the user task keeps running",
              r["user_share_pct"] >= LIVELOCK_KEEPS_PCT,
              f"at worst (at {r['offered_pps'] / 1000:g}k pps) it got "
              f"{r['user_share_pct']} % of the guest's CPU (softirq "
              f"{r['softirq_share_pct']} %, hard IRQ {r['irq_share_pct']} %); "
              f"delivered {r['delivered_pps']:,.0f} pps")
        if off is not None:
            check(checks, f"{cfg} vs no NAPI: NAPI leaves the user task clearly more "
                  "of the CPU", r["user_share_pct"] >= LIVELOCK_RATIO * off["user_share_pct"],
                  f"{r['user_share_pct']} % vs {off['user_share_pct']} % at their busiest "
                  f"(at least {LIVELOCK_RATIO:g}x asked)" + host_note,
                  inconclusive=bool(off.get("host_bound")))
    check(checks, "every flood run reconciles", all(r["reconciled"] for r in rows),
          "; ".join(p for r in rows for p in r["problems"]) or "yes")
    plot_paths = []
    cfgs = list(dict.fromkeys(r["config"] for r in rows))
    if rows:
        ser = {c: ([r["offered_pps"] for r in rows if r["config"] == c],
                   [r["user_share_pct"] for r in rows if r["config"] == c]) for c in cfgs}
        p = plots.lines(out_dir / "exp-livelock-user.png", ser,
                        f"offered load (frames/s, {LIVELOCK_FRAME}-byte frames)",
                        "user task's share of the guest CPU (%)",
                        "Receive livelock: a CPU-bound user task under rising load",
                        kx=True)
        plot_paths.append(str(p))
        ser = {c: ([r["offered_pps"] for r in rows if r["config"] == c],
                   [r["delivered_pps"] for r in rows if r["config"] == c]) for c in cfgs}
        p = plots.lines(out_dir / "exp-livelock-delivered.png", ser,
                        f"offered load (frames/s, {LIVELOCK_FRAME}-byte frames)",
                        "delivered to the UDP sink (frames/s)",
                        "Delivered rate while the user task runs", kx=True, ky=True)
        plot_paths.append(str(p))
    return {"name": "livelock", "scale": dataclasses.asdict(scale), "rows": rows,
            "checks": checks, "plots": plot_paths, "runs": runs}


# ====================================================================== 4
def exp_budget(pool: LabPool, scale: Scale, out_dir: Path,
               log: Callable[[str], None] = print) -> dict:
    rows, checks, runs = [], [], []
    lab = pool.get("e1000", "level")
    defaults = {"budget": 300, "weight": 64, "budget_us": 2000}
    sweeps = [("budget", scale.budgets), ("weight", scale.weights),
              ("budget_us", scale.budget_us)]
    for knob, values in sweeps:
        for v in values:
            settings = dict(defaults, **{knob: v})
            lab.set_napi(**settings)
            rec = lab.measure(scale.budget_rate, scale.duration,
                              label=f"budget {knob}={v}", retry_noisy=True)
            log(table.format_accounting(rec))
            gd = rec.extra["guest_delta"]
            rows.append({"knob": knob, "value": v, **settings,
                         "offered_pps": scale.budget_rate,
                         "delivered_pps": round(rec.delivered_pps, 1),
                         "loss_pct": round(rec.loss_pct, 3),
                         "where_lost": acc.summarize([rec])[0].where_lost(),
                         "time_squeeze": rec.time_squeeze,
                         "squeeze_budget": gd.get("squeeze_budget", 0),
                         "squeeze_time": gd.get("squeeze_time", 0),
                         "ksoftirqd": rec.ksoftirqd, "polls": rec.polls,
                         "polls_full_weight": rec.polls_full_weight,
                         "interrupts": rec.interrupts, "reconciled": rec.ok,
                         "problems": rec.problems})
            runs.append(_strip(rec))
    lab.set_napi(**defaults)
    b = [r for r in rows if r["knob"] == "budget"]
    if b:
        lo, hi = min(b, key=lambda r: r["value"]), max(b, key=lambda r: r["value"])
        check(checks, f"budget {lo['value']}: NET_RX runs out of budget under load",
              lo["time_squeeze"] > 0, f"time_squeeze {lo['time_squeeze']} "
              f"(budget {lo['squeeze_budget']}, time {lo['squeeze_time']})")
        if len(b) > 1:
            check(checks, "a larger budget squeezes less often",
                  hi["time_squeeze"] <= lo["time_squeeze"],
                  f"budget {lo['value']}: {lo['time_squeeze']}, budget {hi['value']}: "
                  f"{hi['time_squeeze']}")
    check(checks, "every run reconciles", all(r["reconciled"] for r in rows),
          "; ".join(p for r in rows for p in r["problems"]) or "yes")
    plot_paths = []
    for knob, values in sweeps:
        rs = [r for r in rows if r["knob"] == knob]
        if len(rs) < 2:
            continue
        xs = [r["value"] for r in rs]
        unit = {"budget": "packets per NET_RX run", "weight": "packets per poll",
                "budget_us": "microseconds per NET_RX run"}[knob]
        p = plots.lines(out_dir / f"exp-budget-{knob}.png",
                        {"loss (%)": (xs, [r["loss_pct"] for r in rs])},
                        f"{knob} ({unit}; log scale)", "loss (% of frames sent)",
                        f"Loss, time_squeeze and ksoftirqd hand-offs against {knob} "
                        f"({scale.budget_rate / 1000:g}k pps offered, {scale.duration:g} s)",
                        logx=True,
                        secondary={"time_squeeze (count)": (xs, [r["time_squeeze"] for r in rs]),
                                   "ksoftirqd hand-offs (count)": (xs, [r["ksoftirqd"] for r in rs])},
                        ylabel2="events per run (count)")
        plot_paths.append(str(p))
    return {"name": "budget", "scale": dataclasses.asdict(scale), "rows": rows,
            "checks": checks, "plots": plot_paths, "runs": runs}


# In this order the LabPool reuses a booted guest where it can (each
# experiment ends on the level-triggered e1000 the next one starts with).
EXPERIMENTS = {"irqoff": exp_irqoff, "edge": exp_edge, "budget": exp_budget,
               "livelock": exp_livelock}


def run_experiment(name: str, pool: LabPool, scale: Scale, out_dir: Path,
                   log: Callable[[str], None] = print) -> dict:
    """Run one experiment, write exp-NAME-<time>.json (+ -latest), return
    its result; a guest failure becomes a failed check, not an exception."""
    t0 = time.time()
    try:
        res = EXPERIMENTS[name](pool, scale, out_dir, log)
    except GuestError as e:
        pool.close()
        res = {"name": name, "scale": dataclasses.asdict(scale), "rows": [], "plots": [],
               "runs": [], "checks": [{"name": f"{name}: ran to the end", "ok": False,
                                       "detail": str(e).splitlines()[0]}],
               "error": str(e)}
    res["wall_s"] = round(time.time() - t0, 1)
    res["json"] = str(_write(name, res, out_dir))
    return res


def format_checks(res: dict) -> str:
    lines = [f"experiment {res['name']} ({res.get('wall_s', '?')} s):"]
    for c in res["checks"]:
        tag = "ok" if c["ok"] else ("INCONCLUSIVE" if c.get("inconclusive") else "FAIL")
        lines.append(f"  [{tag}] {c['name']}: {c['detail']}")
    for p in res.get("plots", []):
        lines.append(f"  plot: {p}")
    return "\n".join(lines)


def cmd_exp(args) -> int:
    scale = SCALES[args.scale]
    if args.duration_given:
        scale = dataclasses.replace(scale, duration=args.duration)
    out_dir = Path(args.out) if args.out else results.RESULTS
    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    failed = 0
    with LabPool(size=args.size, steal_max=args.steal_max) as pool:
        for n in names:
            res = run_experiment(n, pool, scale, out_dir)
            print(format_checks(res))
            failed += sum(not c["ok"] and not c.get("inconclusive") for c in res["checks"])
    return 1 if failed else 0
