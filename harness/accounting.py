"""Where every flooded frame went: the flood lab's accounting, pure Python.

Nothing here boots, sends or reads anything; harness.lab feeds it the
guest's `stats` JSON before and after a run, the host's tap/qdisc counter
deltas (harness.hoststats) and the generator's summary (harness.flood), and
it returns one record per run. tests/scenarios/test_lab_pure.py tests it.

The identity checked for every run (issue 5):

    sent = delivered          frames the guest's UDP sink (port 9) counted
         + dropped_guest      dropped inside the guest, by reason: the net
                              stack's verdicts (net.drops) and the driver's
                              own drops (bad descriptors, no buffer, ...)
         + missed_nic         dropped by the NIC model (MPC; QEMU raises it
                              only when a frame needs more descriptors than
                              are free, QEMU-FACTS.md)
         + dropped_host       dropped by the host before QEMU read them:
                              tap tx_dropped (tun ring full) + qdisc drops
         + queued             still waiting on the host: qdisc backlog, and
                              the tun ring (no counter shows the tun ring:
                              it is inferred, see below)
         + unexplained        must be 0; anything else is an ERROR

`sent` is what the generator handed to the host kernel (its `attempted`:
every sequence number used, including those the kernel refused with
ENOBUFS, which the kernel has already counted as dropped).

The tun ring's content is the one quantity no counter shows. It is what
the host accepted but QEMU has not read:

    queued_tun = sent + foreign - tap_read - dropped_host - qdisc_backlog

where tap_read is the tap's tx_packets delta (frames QEMU read) and foreign
the frames QEMU read that were not ours (ARP, ping: the guest's non-sink
outcomes). Substituting shows what `unexplained` then measures:

    unexplained = tap_read - foreign - delivered - dropped_guest - missed_nic

i.e. frames QEMU read from the tap that the guest never accounted for, or
the guest accounted for more frames than QEMU read. A negative queued_tun
(the tap handed QEMU more than we sent) is an error too. After the guest
has drained both are 0 in every run seen so far; a guest that stalled with
a full ring leaves frames in the tun ring (queued) and one inside QEMU
(QEMU-FACTS.md: "exactly one packet is held inside QEMU"), which then shows
as unexplained = 1 (QEMU holds it, no counter says so).

Every guest counter name is known in one function, guest_counters(): a
rename in the kernel is a one-line fix there.
"""
from __future__ import annotations

import dataclasses
import math
import statistics
from typing import Any, Iterable, Mapping, Optional, Sequence

# ------------------------------------------------------------ guest names

# Prefixes of the flat keys that hold per-reason drop counts.
NET_DROP = "net_drop."        # net stack verdicts (net.drops.<reason>)
DRV_DROP = "driver_drop."     # driver drops (e1000 section)
CTX = "ctx."                  # guest CPU cycles spent in each context

# Flat keys that are levels, not event counts: delta() keeps the value
# after the run instead of subtracting.
GAUGES = frozenset({
    "budget", "weight", "budget_us", "sink_highest_seq", "ring_high_water",
    "ring_size", "ring_pending", "pool_free", "pool_min_free", "napi_enabled",
    "itr", "softirq_pending", "rx_ready",
})


def _get(d: Any, *path: str, default: Any = None) -> Any:
    for p in path:
        if not isinstance(d, Mapping) or p not in d:
            return default
        d = d[p]
    return d


def _first(d: Any, paths: Sequence[Sequence[str]], default: Any = None) -> Any:
    """The value at the first of `paths` present in d."""
    for p in paths:
        v = _get(d, *p)
        if v is not None:
            return v
    return default


def _num(v: Any) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return int(v)
    return 0


def guest_counters(stats: Mapping[str, Any]) -> dict[str, int]:
    """The guest's `stats` JSON flattened to the lab's own names.

    THE ONE PLACE that knows the kernel's counter names (net/netctl.c,
    drivers/e1000/, kernel/softirq.c, kernel/irq.c). Missing sections give
    0 (and the key `missing.<section>` = 1) so that a guest without a
    driver still yields a well-formed dict that reconciles to an error.
    """
    out: dict[str, int] = {}
    net = stats.get("net") or {}
    sink = stats.get("sink") or {}
    nic = stats.get("e1000") or {}
    napi = net.get("napi") or {}
    sirq = stats.get("softirq") or {}
    for section, value in (("net", net), ("sink", sink), ("e1000", nic)):
        if not value:
            out[f"missing.{section}"] = 1

    # -- the UDP sink (net/sink.h)
    out["delivered"] = _num(sink.get("received"))
    out["sink_gaps"] = _num(sink.get("gaps"))
    out["sink_duplicates"] = _num(sink.get("duplicates"))
    out["sink_reordered"] = _num(sink.get("reordered"))
    out["sink_short"] = _num(sink.get("short"))
    out["sink_highest_seq"] = _num(sink.get("highest_seq"))

    # -- the stack's verdicts (net/netstat.h): one per received frame
    out["rx_frames"] = _num(net.get("rx_frames"))
    outcomes = net.get("outcomes") or {}
    # Frames that reached the guest but were not flood frames: answered
    # (ARP, ping), echoed (UDP 7) or consumed (ARP replies we learned from).
    out["foreign"] = sum(_num(outcomes.get(k)) for k in ("echoed", "answered",
                                                         "consumed"))
    for reason, n in (net.get("drops") or {}).items():
        out[NET_DROP + reason] = _num(n)
    out["net_unaccounted"] = _num(net.get("unaccounted"))
    out["pool_alloc_fail"] = _num(_get(net, "pool", "alloc_fail"))
    out["pool_free"] = _num(_get(net, "pool", "free"))
    out["pool_min_free"] = _num(_get(net, "pool", "min_free"))

    # -- NAPI (net/napi.c via netctl.c)
    out["budget"] = _num(napi.get("budget"))
    out["weight"] = _num(napi.get("weight"))
    out["budget_us"] = _num(napi.get("budget_us"))
    out["polls"] = _num(napi.get("polls"))
    out["poll_packets"] = _num(napi.get("packets"))
    out["polls_full_weight"] = _num(napi.get("polls_full_weight"))
    out["time_squeeze"] = _num(napi.get("time_squeeze"))
    out["squeeze_budget"] = _num(napi.get("squeeze_budget"))
    out["squeeze_time"] = _num(napi.get("squeeze_time"))
    out["napi_runs"] = _num(napi.get("runs"))
    out["repolls"] = _num(napi.get("repolls"))
    out["napi_schedules"] = _num(napi.get("schedules"))
    out["over_weight"] = _num(napi.get("over_weight"))
    for label, n in (napi.get("hist") or {}).items():
        out[f"hist.{label}"] = _num(n)

    # -- CPU time per context, TSC cycles (kernel/trace.c): user, task,
    # softirq, irq, atomic, nmi
    for ctx, cyc in (_get(stats, "contexts", "cycles", default={}) or {}).items():
        out[CTX + ctx] = _num(cyc)

    # -- softirq core (kernel/softirq.c)
    netrx = sirq.get("NET_RX") or {}
    out["ksoftirqd"] = _num(netrx.get("to_ksoftirqd"))
    out["softirq_restarts"] = _num(netrx.get("restarts"))
    out["softirq_pending"] = _num(sirq.get("pending"))

    # -- the driver (drivers/e1000/e1000_stats.c)
    irq = nic.get("irq") or {}
    out["interrupts"] = _num(irq.get("count"))
    out["spurious_irqs"] = _num(irq.get("spurious"))
    hw = nic.get("hw") or {}
    # MPC: frames the NIC dropped for want of descriptors. RNBC counts the
    # same event in QEMU (e1000_receiver_overrun raises both), so it is
    # recorded but not added.
    out["missed_nic"] = _num(hw.get("mpc"))
    out["nic_rnbc"] = _num(hw.get("rnbc"))
    out["nic_rxo"] = _num(nic.get("rxo"))
    out["nic_rx"] = _num(nic.get("rx_packets"))
    for reason, n in (nic.get("rx_drops") or {}).items():
        out[DRV_DROP + reason] = _num(n)
    out["ring_high_water"] = _num(nic.get("ring_high_water"))
    out["ring_size"] = _num(nic.get("rxring"))
    out["ring_pending"] = _num(nic.get("rx_pending"))
    out["watchdog"] = _num(_get(nic, "watchdog", "recoveries"))
    out["watchdog_packets"] = _num(_get(nic, "watchdog", "recovered_packets"))
    out["rdt_writes"] = _num(nic.get("rdt_writes"))
    out["irq_rx_in_hardirq"] = _num(nic.get("nonapi_packets"))
    out["recheck_hits"] = _num(nic.get("recheck_hits"))
    out["napi_enabled"] = 0 if nic.get("napi") is False else 1
    out["itr"] = _num(nic.get("itr"))
    out["rx_ready"] = 0 if nic.get("rx_ready") is False else 1
    return out


def nic_vectors(stats: Mapping[str, Any]) -> list[str]:
    """The interrupt vectors ("0x31", ...) whose handler belongs to the NIC
    driver, from the `irq` section (kernel/irq.c names each vector after
    the name its driver gave irq_request())."""
    vecs = _get(stats, "irq", "vectors", default={}) or {}
    return sorted(v for v, d in vecs.items()
                  if isinstance(d, Mapping) and "e1000" in str(d.get("name", "")))


def vector_count(stats: Mapping[str, Any], vector: str) -> int:
    return _num(_get(stats, "irq", "vectors", vector, "count"))


def user_tasks(stats: Mapping[str, Any], name: str = "spin") -> list[dict]:
    """User tasks called `name` from the `sched` section's task list
    (kernel/sched/task.c): each {"pid", "progress", "utime_us", "state"}."""
    tasks = _get(stats, "sched", "tasks", default=[]) or []
    return [{"pid": _num(t.get("pid")), "progress": _num(t.get("progress")),
             "utime_us": _num(t.get("utime_us")), "stime_us": _num(t.get("stime_us")),
             "state": t.get("state")}
            for t in tasks if isinstance(t, Mapping) and t.get("name") == name
            and t.get("user", True)]


def cpu_shares(d: Mapping[str, int]) -> dict[str, float]:
    """% of the guest's CPU time per context, from a delta() of counters
    ({"user": 40.0, "irq": 35.5, ...}); {} if no cycles were counted. These
    are the guest's own TSC-timed figures, so they do not depend on how
    much of the host the vCPU thread got."""
    cyc = {k[len(CTX):]: v for k, v in d.items() if k.startswith(CTX)}
    total = sum(cyc.values())
    return {k: round(100.0 * v / total, 2) for k, v in cyc.items()} if total else {}


def delta(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """after - before for event counters; gauges keep `after`. A key only
    in `after` counts from 0. A counter that went backwards raises
    ValueError (the guest re-booted or a counter was reset mid-run)."""
    out: dict[str, int] = {}
    for k, v in after.items():
        if k in GAUGES or k.startswith("missing."):
            out[k] = v
            continue
        d = v - before.get(k, 0)
        if d < 0 and not k.startswith("hist."):
            raise ValueError(f"guest counter {k} went backwards "
                             f"({before.get(k)} -> {v}): re-boot or reset?")
        out[k] = d
    return out


def drops_by_reason(d: Mapping[str, int]) -> dict[str, int]:
    """Nonzero guest drops as {"net.<reason>": n, "driver.<reason>": n}."""
    out = {}
    for k, v in d.items():
        if v and k.startswith(NET_DROP):
            out["net." + k[len(NET_DROP):]] = v
        elif v and k.startswith(DRV_DROP):
            out["driver." + k[len(DRV_DROP):]] = v
    return dict(sorted(out.items()))


# ------------------------------------------------------------ reconciliation

@dataclasses.dataclass
class HostCounts:
    """The host's side of one run (deltas, except backlog)."""
    tap_read: int              # tap tx_packets: frames QEMU read
    tap_dropped: int           # tap tx_dropped: tun ring full
    qdisc_dropped: int         # root qdisc drops
    qdisc_backlog: int = 0     # qdisc qlen at the end (still queued)

    @classmethod
    def from_hostdelta(cls, hd: Any) -> "HostCounts":
        """From a harness.hoststats.HostDelta."""
        return cls(tap_read=int(hd.tap.get("tx_packets", 0)),
                   tap_dropped=int(hd.tap.get("tx_dropped", 0)),
                   qdisc_dropped=int(hd.qdisc_dropped),
                   qdisc_backlog=int(hd.queued))


@dataclasses.dataclass
class Accounting:
    sent: int
    delivered: int
    dropped_guest: dict[str, int]
    missed_nic: int
    dropped_host: int
    dropped_host_where: str
    queued: int
    queued_tun: int
    foreign: int
    unexplained: int
    problems: list[str]

    @property
    def dropped_guest_total(self) -> int:
        return sum(self.dropped_guest.values())

    @property
    def lost(self) -> int:
        """Frames sent that did not reach the sink (whatever the reason)."""
        return self.sent - self.delivered

    @property
    def ok(self) -> bool:
        return not self.problems

    def where_lost(self) -> str:
        """Short text: where the losses happened, biggest first."""
        parts = []
        if self.dropped_host:
            parts.append((self.dropped_host, f"host {self.dropped_host_where}"))
        if self.missed_nic:
            parts.append((self.missed_nic, "NIC MPC"))
        for reason, n in self.dropped_guest.items():
            parts.append((n, f"guest {reason}"))
        if self.queued:
            parts.append((self.queued, "still queued"))
        if self.unexplained:
            parts.append((abs(self.unexplained), "UNEXPLAINED"))
        parts.sort(key=lambda p: -p[0])
        return ", ".join(f"{w} {n}" for n, w in parts) or "-"


def host_loss_location(tap_dropped: int, qdisc_dropped: int) -> str:
    if tap_dropped and qdisc_dropped:
        return "tap+qdisc"
    if tap_dropped:
        return "tap tx_dropped"
    if qdisc_dropped:
        return "qdisc"
    return "none"


def reconcile(sent: int, guest_delta: Mapping[str, int],
              host: HostCounts) -> Accounting:
    """Account for `sent` frames given the guest's counter deltas (from
    delta(guest_counters(before), guest_counters(after))) and the host's.
    Pure; never raises for a mismatch: problems lists them."""
    problems: list[str] = []
    delivered = int(guest_delta.get("delivered", 0))
    dropped_guest = drops_by_reason(guest_delta)
    missed = int(guest_delta.get("missed_nic", 0))
    foreign = int(guest_delta.get("foreign", 0))
    dropped_host = host.tap_dropped + host.qdisc_dropped
    queued_tun = (sent + foreign - host.tap_read - dropped_host
                  - host.qdisc_backlog)
    queued = host.qdisc_backlog + queued_tun
    unexplained = sent - (delivered + sum(dropped_guest.values()) + missed
                          + dropped_host + queued)
    missing = sorted(k.split(".", 1)[1] for k, v in guest_delta.items()
                     if k.startswith("missing.") and v)
    if missing:
        problems.append("guest stats lack section(s): " + ", ".join(missing))
    if unexplained:
        problems.append(f"{unexplained:+d} frames unexplained (QEMU read "
                        f"{host.tap_read}, guest accounted "
                        f"{delivered + sum(dropped_guest.values()) + missed + foreign})")
    if queued_tun < 0:
        problems.append(f"the tap handed QEMU {-queued_tun} frames more than "
                        "were sent (foreign traffic the guest did not count?)")
    if guest_delta.get("net_unaccounted"):
        problems.append(f"guest net stack: {guest_delta['net_unaccounted']} "
                        "frames without a verdict")
    if guest_delta.get("sink_duplicates"):
        problems.append(f"sink saw {guest_delta['sink_duplicates']} duplicates")
    return Accounting(sent=sent, delivered=delivered,
                      dropped_guest=dropped_guest, missed_nic=missed,
                      dropped_host=dropped_host,
                      dropped_host_where=host_loss_location(host.tap_dropped,
                                                            host.qdisc_dropped),
                      queued=queued, queued_tun=queued_tun, foreign=foreign,
                      unexplained=unexplained, problems=problems)


# ------------------------------------------------------------ records

# Columns of the CSV, in order (the JSON holds these and more).
CSV_FIELDS = (
    "mode", "nic", "napi", "budget", "weight", "budget_us", "offered_pps",
    "offered_label", "repeat", "sent", "delivered", "loss_pct",
    "dropped_guest_total", "dropped_guest", "missed_nic", "dropped_host",
    "dropped_host_where", "queued", "unexplained", "interrupts", "polls",
    "polls_full_weight", "time_squeeze", "ksoftirqd", "ring_high_water",
    "delivered_pps", "irqs_per_1000_pkts", "achieved_pps", "steal_pct",
    "duration", "retried", "ok", "problems",
)


@dataclasses.dataclass
class RunRecord:
    """One run of one point: what the lab writes per line of CSV/JSON."""
    mode: str
    nic: str
    budget: int
    weight: int
    offered_pps: int            # 0 = unpaced ("max")
    duration: float             # seconds the generator sent
    sent: int
    delivered: int
    dropped_guest: dict[str, int]
    missed_nic: int
    dropped_host: int
    dropped_host_where: str
    queued: int
    unexplained: int
    interrupts: int
    polls: int
    polls_full_weight: int
    time_squeeze: int
    ksoftirqd: int
    steal_pct: float
    napi: str = "on"
    budget_us: int = 0
    repeat: int = 0
    achieved_pps: float = 0.0   # what the generator reached
    ring_high_water: int = 0
    retried: bool = False
    problems: list[str] = dataclasses.field(default_factory=list)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def offered_label(self) -> str:
        return "max" if self.offered_pps == 0 else str(self.offered_pps)

    @property
    def dropped_guest_total(self) -> int:
        return sum(self.dropped_guest.values())

    @property
    def loss_pct(self) -> float:
        return 100.0 * (self.sent - self.delivered) / self.sent if self.sent else 0.0

    @property
    def delivered_pps(self) -> float:
        return self.delivered / self.duration if self.duration > 0 else 0.0

    @property
    def irqs_per_1000_pkts(self) -> float:
        return 1000.0 * self.interrupts / self.delivered if self.delivered else 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and self.unexplained == 0

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for k in ("offered_label", "dropped_guest_total", "loss_pct",
                  "delivered_pps", "irqs_per_1000_pkts", "ok"):
            d[k] = getattr(self, k)
        return d

    def csv_row(self) -> dict[str, Any]:
        d = self.as_dict()
        row = {}
        for k in CSV_FIELDS:
            v = d.get(k)
            if k == "dropped_guest":
                v = ";".join(f"{r}={n}" for r, n in sorted(v.items()))
            elif k == "problems":
                v = " | ".join(v)
            elif isinstance(v, float):
                v = f"{v:.3f}"
            row[k] = v
        return row

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunRecord":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def make_record(*, mode: str, nic: str, offered_pps: int, duration: float,
                acct: Accounting, gdelta: Mapping[str, int],
                steal_pct: float, napi: str = "on", repeat: int = 0,
                achieved_pps: float = 0.0,
                extra: Optional[dict] = None) -> RunRecord:
    """A RunRecord from the pieces one run produced (pure)."""
    return RunRecord(
        mode=mode, nic=nic, napi=napi,
        budget=int(gdelta.get("budget", 0)), weight=int(gdelta.get("weight", 0)),
        budget_us=int(gdelta.get("budget_us", 0)),
        offered_pps=offered_pps, duration=duration, sent=acct.sent,
        delivered=acct.delivered, dropped_guest=dict(acct.dropped_guest),
        missed_nic=acct.missed_nic, dropped_host=acct.dropped_host,
        dropped_host_where=acct.dropped_host_where, queued=acct.queued,
        unexplained=acct.unexplained,
        interrupts=int(gdelta.get("interrupts", 0)),
        polls=int(gdelta.get("polls", 0)),
        polls_full_weight=int(gdelta.get("polls_full_weight", 0)),
        time_squeeze=int(gdelta.get("time_squeeze", 0)),
        ksoftirqd=int(gdelta.get("ksoftirqd", 0)),
        ring_high_water=int(gdelta.get("ring_high_water", 0)),
        steal_pct=round(float(steal_pct), 2), repeat=repeat,
        achieved_pps=round(float(achieved_pps), 1),
        problems=list(acct.problems), extra=dict(extra or {}))


# ------------------------------------------------------------ aggregation

@dataclasses.dataclass
class PointSummary:
    """The repeats of one (mode, nic, napi, budget, weight, rate) point."""
    key: tuple
    runs: list[RunRecord]

    def _vals(self, attr: str) -> list[float]:
        return [float(getattr(r, attr)) for r in self.runs]

    def median(self, attr: str) -> float:
        v = self._vals(attr)
        return statistics.median(v) if v else math.nan

    def spread(self, attr: str) -> tuple[float, float]:
        """(min, max) over the repeats."""
        v = self._vals(attr)
        return (min(v), max(v)) if v else (math.nan, math.nan)

    @property
    def first(self) -> RunRecord:
        return self.runs[0]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs)

    def where_lost(self) -> str:
        """Where the median run's losses went (text)."""
        rs = sorted(self.runs, key=lambda r: r.loss_pct)
        r = rs[len(rs) // 2]
        parts = []
        if r.dropped_host:
            parts.append((r.dropped_host, f"host:{r.dropped_host_where}"))
        if r.missed_nic:
            parts.append((r.missed_nic, "nic:MPC"))
        for reason, n in r.dropped_guest.items():
            parts.append((n, f"guest:{reason}"))
        if r.queued:
            parts.append((r.queued, "queued"))
        if r.unexplained:
            parts.append((abs(r.unexplained), "UNEXPLAINED"))
        parts.sort(key=lambda p: -p[0])
        return " ".join(f"{w}={n}" for n, w in parts) or "-"


def point_key(r: RunRecord) -> tuple:
    return (r.mode, r.nic, r.napi, r.budget, r.weight, r.budget_us,
            r.offered_pps)


def summarize(records: Iterable[RunRecord]) -> list[PointSummary]:
    """Group runs into points, in first-seen order."""
    groups: dict[tuple, list[RunRecord]] = {}
    for r in records:
        groups.setdefault(point_key(r), []).append(r)
    return [PointSummary(k, v) for k, v in groups.items()]


def max_loss_free(points: Iterable[PointSummary], threshold_pct: float = 0.1
                  ) -> Optional[PointSummary]:
    """The paced point with the highest offered rate whose median loss is
    at most threshold_pct (None if none)."""
    best = None
    for p in points:
        if p.first.offered_pps <= 0:
            continue
        if p.median("loss_pct") <= threshold_pct and (
                best is None or p.first.offered_pps > best.first.offered_pps):
            best = p
    return best
