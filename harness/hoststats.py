"""What the host did during a run: tap and qdisc counters, CPU steal, and
where QEMU's threads ran.

    before = snapshot(ns)                   # ns: a harness NetNs
    ... flood ...
    d = delta(before, snapshot(ns))
    d.tap["tx_packets"], d.tap["tx_dropped"], d.qdisc_dropped, d.queued
    d.host_dropped, d.loss_location()       # "tap tx_dropped", "qdisc", ...
    d.steal_pct                             # {cpu: % of that CPU's time}

    threads = qemu_threads(qemu.pid)        # ThreadInfo: tid, name, cpus ...
    check_layout(qemu.pid, flood_pid)       # [] or a list of problems

Counters come from inside the namespace (NetNs.tap_stats(), which reads
/sys/class/net/TAP/statistics/*, and NetNs.qdisc_stats(), `tc -s -j`):
for frames towards the guest, tap tx_packets counts what QEMU read and tap
tx_dropped what the tun driver dropped because QEMU did not read
(QEMU-FACTS.md, "Where the packets go"); a tun driver that stops its queue
instead makes the qdisc drop. Both are read and reported, never assumed.

Steal comes from /proc/stat: the time this machine's hypervisor ran someone
else while our vCPU wanted to run. A point with much steal is noise, not a
property of the guest (issue 5: record it per point, retry noisy points).

Thread placement: with `-name napilab,debug-threads=on` (harness.qemu does
this) QEMU names its vCPU threads "CPU 0/TCG" in /proc/PID/task/TID/comm.
harness.qemu.Qemu.pin() pins them (QemuConfig.vcpu_cpu / main_cpu); this
module only reads what happened: affinity, the CPU each thread last ran on,
and CPU time used, so a run can show that the layout held.
"""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any, Iterable, Optional

# QEMU-FACTS.md, "a layout that gives repeatable numbers" on a 2-core host:
# the vCPU thread alone on CPU 0, QEMU's main loop (and its other threads)
# and the flood generator on CPU 1, the generator at idle priority.
LAYOUT = {"vcpu_cpu": 0, "main_cpu": 1, "flood_cpu": 1}

# /proc/stat cpuN columns, in order (proc(5)); values in USER_HZ ticks.
_CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq",
               "steal", "guest", "guest_nice")
# guest and guest_nice are already included in user and nice.
_TOTAL_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq",
                 "steal")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------ CPU time
def read_cpu_times(path: str = "/proc/stat") -> dict[int, dict[str, int]]:
    """Per-CPU times in ticks: {cpu: {"user": .., ..., "steal": ..}}."""
    cpus: dict[int, dict[str, int]] = {}
    with open(path) as f:
        for line in f:
            if not line.startswith("cpu") or line.startswith("cpu "):
                continue
            name, *values = line.split()
            cpu = int(name[3:])
            cpus[cpu] = {k: int(v) for k, v in zip(_CPU_FIELDS, values)}
    return cpus


def cpu_delta(before: dict[int, dict[str, int]],
              after: dict[int, dict[str, int]]) -> dict[int, dict[str, float]]:
    """Per CPU: ticks elapsed, and steal / busy / idle as % of them."""
    out: dict[int, dict[str, float]] = {}
    for cpu in sorted(set(before) & set(after)):
        d = {k: after[cpu].get(k, 0) - before[cpu].get(k, 0) for k in _CPU_FIELDS}
        total = sum(d[k] for k in _TOTAL_FIELDS)
        idle = d["idle"] + d["iowait"]
        pct = (lambda x: 100.0 * x / total) if total > 0 else (lambda x: 0.0)
        out[cpu] = {"ticks": float(total), "steal_pct": pct(d["steal"]),
                    "idle_pct": pct(idle),
                    "busy_pct": pct(total - idle - d["steal"]),
                    "steal_ticks": float(d["steal"])}
    return out


# ------------------------------------------------------------ snapshots
@dataclasses.dataclass
class HostSnapshot:
    """Everything read at one moment (time.monotonic() in `at`)."""
    at: float
    tap: dict[str, int]
    qdisc: dict[str, Any]
    cpus: dict[int, dict[str, int]]


def snapshot(ns: Any) -> HostSnapshot:
    """Read the tap's and its qdisc's counters inside ns (a NetNs) and the
    per-CPU times. CPU times are read last and first-to-last so that the
    window they cover contains the counters' window."""
    cpus = read_cpu_times()
    tap = ns.tap_stats()
    qdisc = ns.qdisc_stats()
    return HostSnapshot(time.monotonic(), tap, qdisc, cpus)


@dataclasses.dataclass
class HostDelta:
    """What changed between two snapshots.

    tap            tap counter increments (tx_packets, tx_dropped, ...)
    qdisc_sent     packets the qdisc passed to the tap
    qdisc_dropped  packets the qdisc dropped
    queued         qdisc backlog at the end (frames not yet given to tun)
    cpu            cpu_delta() of the window
    seconds        length of the window
    Frames still in the tun ring are not visible in any counter: tun counts
    tx_packets when QEMU reads a frame. A run that ends with the guest
    draining everything leaves none there; otherwise a caller must account
    for up to tx_queue_len of them (sent - delivered - dropped).
    """
    tap: dict[str, int]
    qdisc_sent: int
    qdisc_dropped: int
    queued: int
    cpu: dict[int, dict[str, float]]
    seconds: float
    tx_queue_len: int

    @property
    def host_dropped(self) -> int:
        """Frames the host dropped on the way to QEMU."""
        return self.tap.get("tx_dropped", 0) + self.qdisc_dropped

    @property
    def steal_pct(self) -> dict[int, float]:
        return {c: v["steal_pct"] for c, v in self.cpu.items()}

    @property
    def max_steal_pct(self) -> float:
        return max(self.steal_pct.values(), default=0.0)

    def loss_location(self) -> str:
        """Which host counter held the losses, in words."""
        tap, q = self.tap.get("tx_dropped", 0), self.qdisc_dropped
        if tap and q:
            return f"tap tx_dropped ({tap}) and qdisc ({q})"
        if tap:
            return "tap tx_dropped"
        if q:
            return "qdisc"
        return "none"

    def as_dict(self) -> dict[str, Any]:
        return {"tap": dict(self.tap), "qdisc_sent": self.qdisc_sent,
                "qdisc_dropped": self.qdisc_dropped, "queued": self.queued,
                "host_dropped": self.host_dropped,
                "loss_location": self.loss_location(),
                "steal_pct": self.steal_pct, "seconds": self.seconds,
                "tx_queue_len": self.tx_queue_len}


def delta(before: HostSnapshot, after: HostSnapshot) -> HostDelta:
    """after - before. Counters are monotonic while the tap exists; a
    decrease means the tap was re-created in between, which is an error."""
    tap = {}
    for k, v in after.tap.items():
        if k == "tx_queue_len":
            continue
        d = v - before.tap.get(k, 0)
        if d < 0:
            raise ValueError(f"tap counter {k} went backwards ({before.tap.get(k)}"
                             f" -> {v}): was the tap re-created?")
        tap[k] = d
    return HostDelta(
        tap=tap,
        qdisc_sent=int(after.qdisc.get("packets", 0)) - int(before.qdisc.get("packets", 0)),
        qdisc_dropped=int(after.qdisc.get("drops", 0)) - int(before.qdisc.get("drops", 0)),
        queued=int(after.qdisc.get("qlen", 0)),
        cpu=cpu_delta(before.cpus, after.cpus),
        seconds=after.at - before.at,
        tx_queue_len=int(after.tap.get("tx_queue_len", 0)))


# ------------------------------------------------------------ threads
@dataclasses.dataclass
class ThreadInfo:
    tid: int
    name: str            # comm: "CPU 0/TCG", "qemu-system-x86", "IO ..."
    cpus: set[int]       # affinity
    last_cpu: int        # the CPU it last ran on (/proc/.../stat field 39)
    utime_s: float       # user CPU time so far
    stime_s: float       # system CPU time so far

    @property
    def is_vcpu(self) -> bool:
        return self.name.startswith("CPU ")


def _read_thread(pid: int, tid: int) -> Optional[ThreadInfo]:
    base = Path(f"/proc/{pid}/task/{tid}")
    try:
        name = (base / "comm").read_text().strip()
        stat = (base / "stat").read_text()
        cpus = os.sched_getaffinity(tid)
    except (OSError, ProcessLookupError):
        return None   # the thread ended meanwhile
    # comm may hold spaces and parentheses: fields start after the last ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime 14, stime 15, processor 39.
    return ThreadInfo(tid=tid, name=name, cpus=set(cpus),
                      last_cpu=int(fields[39 - 3]),
                      utime_s=int(fields[14 - 3]) / CLK_TCK,
                      stime_s=int(fields[15 - 3]) / CLK_TCK)


def threads(pid: int) -> list[ThreadInfo]:
    """Every thread of process pid (empty if it has ended)."""
    try:
        tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return []
    return [t for t in (_read_thread(pid, tid) for tid in tids) if t]


def qemu_threads(pid: int) -> list[ThreadInfo]:
    """QEMU's threads; raises if none is named as a vCPU (QEMU started
    without `-name ...,debug-threads=on`, or not a QEMU)."""
    ts = threads(pid)
    if not any(t.is_vcpu for t in ts):
        raise LookupError(f"pid {pid}: no thread named 'CPU n/...': "
                          f"{[t.name for t in ts]} (is -name ...,"
                          "debug-threads=on given?)")
    return ts


def vcpu_tids(pid: int) -> list[int]:
    return [t.tid for t in qemu_threads(pid) if t.is_vcpu]


def check_layout(qemu_pid: int, flood_pid: Optional[int] = None,
                 vcpu_cpu: int = LAYOUT["vcpu_cpu"],
                 main_cpu: int = LAYOUT["main_cpu"],
                 flood_cpu: int = LAYOUT["flood_cpu"]) -> list[str]:
    """Problems with the pinning layout, as sentences ([] = as intended):
    vCPU threads only on vcpu_cpu, other QEMU threads only on main_cpu,
    the generator only on flood_cpu."""
    problems = []
    for t in qemu_threads(qemu_pid):
        want = vcpu_cpu if t.is_vcpu else main_cpu
        if t.cpus != {want}:
            problems.append(f"QEMU thread {t.tid} '{t.name}' may run on "
                            f"{sorted(t.cpus)}, not only CPU {want}")
    if flood_pid is not None:
        try:
            cpus = os.sched_getaffinity(flood_pid)
        except ProcessLookupError:
            cpus = None
        if cpus is not None and cpus != {flood_cpu}:
            problems.append(f"flood {flood_pid} may run on {sorted(cpus)}, "
                            f"not only CPU {flood_cpu}")
    return problems


def cpu_time_by_thread(before: Iterable[ThreadInfo],
                       after: Iterable[ThreadInfo]) -> dict[str, float]:
    """CPU seconds each thread used between two threads() readings, keyed
    by 'name (tid)'. Shows whether the vCPU or the main loop was the
    busy one during a run."""
    old = {t.tid: t for t in before}
    out = {}
    for t in after:
        b = old.get(t.tid)
        used = t.utime_s + t.stime_s - ((b.utime_s + b.stime_s) if b else 0.0)
        out[f"{t.name} ({t.tid})"] = round(used, 3)
    return out
