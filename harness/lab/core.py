"""The lab's core: one guest on a tap in its own namespace, pinned, and one
measured flood run at a time.

    with Lab(nic="e1000", mode="level", label="flood") as lab:   # boots
        lab.set_napi(budget=64)
        rec = lab.measure(rate=100_000, duration=3)    # a RunRecord
        rec.sent, rec.delivered, rec.unexplained

What a measured run does (issue 5, QEMU-FACTS.md):
  1. snapshot the guest (`stats`), the tap and qdisc counters and the host's
     /proc/stat (steal);
  2. run the generator: paced `rate` pps (0 = unpaced) for `duration` s, in
     the guest's namespace, pinned to the main loop's CPU at idle priority;
     sequence numbers continue from the previous run, so every frame of the
     lab's life has its own number and the sink sees one stream;
  3. optionally act on the guest while the flood runs (experiments: IF=0
     windows, masking): `actions`, each at a time offset;
  4. wait until the guest has drained: the guest's accounted frames and the
     tap's tx_packets unchanged over two reads (bounded);
  5. snapshot again, and reconcile (harness.accounting).

Pinning: QEMU's vCPU thread alone on CPU 0, QEMU's other threads and the
generator on CPU 1 (harness.hoststats.LAYOUT); checked before each run
(threads QEMU creates later inherit their creator's affinity, so the pin
is re-applied) and the problems, if any, recorded with the run.

After boot the lab waits until the driver reports its link, then over one
second more: every write of RCTL arms QEMU's 1-second flush timer during
which the NIC receives nothing (QEMU-FACTS.md, e1000_can_receive); then a
warm-up of a few hundred frames must reconcile, or the lab refuses to go on.

Context: host side, one thread; the guest is only talked to between
runs or by `actions`.
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Callable, Optional, Sequence

from .. import accounting as acc
from .. import hoststats
from .sampler import TapSampler
from ..errors import HarnessError
from ..flood import FLOOD_BIN, FloodSpec, start_flood
from ..guest import Guest
from ..netns import GUEST_IP, preflight
from ..paths import check_build
from ..qemu import GUEST_MAC, QemuConfig

# QEMU's RCTL flush timer is 1 s of virtual time (hw/net/e1000.c); the
# virtual clock follows the host clock under TCG, so 1.2 s is enough.
RCTL_FLUSH_S = 1.2
# How long a drained guest may keep changing its counters before we give
# up (a stalled NIC never settles: the edge experiment relies on this
# being bounded), and how often we look.
DRAIN_MAX_S = 15.0
DRAIN_POLL_S = 0.25
DRIVER_UP_S = 20.0
WARMUP_FRAMES = 300
# A paced run whose generator sent less than this share of rate x duration
# measured the host, not the guest (see Lab.noisy).
GENERATOR_SHORTFALL = 0.9


class LabError(HarnessError):
    """The lab cannot produce trustworthy numbers (driver never came up,
    the warm-up did not reconcile, ...)."""


def two_cpus() -> bool:
    return (os.cpu_count() or 1) >= 2


def lab_cmdline(mode: str, napi: str = "on", extra: Optional[dict] = None) -> str:
    """The kernel command line of a lab boot: the interrupt mode, NAPI on
    or off, quiet console (loglevel=4: warnings and worse, so nothing is
    printed per packet or per event during a flood), plus `extra` keys."""
    words = {"irq": mode, "loglevel": "4"}
    if napi != "on":          # on is the kernel's default
        words["napi"] = napi
    for k, v in (extra or {}).items():
        if v is not None:
            words[k] = str(v)
    return " ".join(f"{k}={v}" for k, v in words.items())


@dataclasses.dataclass
class Snapshot:
    at: float
    guest: dict[str, int]
    raw: dict[str, Any]
    host: hoststats.HostSnapshot


class Lab:
    """A booted guest for measurements. See the module docstring."""

    def __init__(self, nic: str = "e1000", mode: str = "level", napi: str = "on",
                 cmdline: Optional[dict] = None, txqueuelen: Optional[int] = None,
                 label: str = "lab", size: int = 64, steal_max: float = 10.0,
                 log: Callable[[str], None] = print,
                 nic_options: str = ""):
        self.nic, self.mode, self.napi = nic, mode, napi
        self.cmdline = lab_cmdline(mode, napi, cmdline)
        self.txqueuelen = txqueuelen
        self.label = label
        self.size = size
        self.steal_max = steal_max
        self.log = log
        self.nic_options = nic_options
        self.guest: Optional[Guest] = None
        self.seq = 0                 # next sequence number to send
        self.runs = 0
        self.boot_text = ""

    # ------------------------------------------------------------ life
    @staticmethod
    def check_host() -> None:
        """Raise HarnessError (NetSetupError, BuildMissing, LabError)
        saying why the lab cannot run here."""
        preflight()
        check_build()
        if not FLOOD_BIN.is_file():
            raise LabError(f"{FLOOD_BIN} is missing: run `make` (it builds the "
                           "flood generator too)")

    def start(self) -> "Lab":
        self.check_host()
        layout = hoststats.LAYOUT if two_cpus() else {}
        cfg = QemuConfig(nic=self.nic, cmdline=self.cmdline, label=self.label,
                         vcpu_cpu=layout.get("vcpu_cpu"),
                         main_cpu=layout.get("main_cpu"),
                         nic_options=self.nic_options)
        self.guest = Guest(cfg, net=True, txqueuelen=self.txqueuelen)
        try:
            self.guest.boot()
            self.boot_text = self.guest.console.boot_text or ""
            self._bring_up()
        except BaseException:
            self.close()
            raise
        return self

    def restart(self) -> None:
        """Boot again (after the guest died): same namespace and tap, so the
        host counters carry on; the sink starts over at 0."""
        assert self.guest is not None
        self.guest.boot()
        self.boot_text = self.guest.console.boot_text or ""
        self.seq = 0
        self._bring_up()

    def close(self) -> None:
        if self.guest is not None:
            self.guest.close()   # QEMU by PID, then the namespace (and flood)

    def __enter__(self) -> "Lab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def console(self):
        assert self.guest is not None
        return self.guest.console

    @property
    def ns(self):
        assert self.guest is not None and self.guest.netns is not None
        return self.guest.netns

    def run(self, cmd: str, timeout: float = 20.0, check: bool = True) -> str:
        return self.console.run(cmd, timeout, check)

    def stats(self) -> dict:
        return self.console.stats(timeout=20.0)

    # ------------------------------------------------------------ bring-up
    def _bring_up(self) -> None:
        deadline = time.monotonic() + DRIVER_UP_S
        st: dict = {}
        while time.monotonic() < deadline:
            st = self.stats()
            nic = st.get("e1000")
            if isinstance(nic, dict) and nic.get("link", True) in (True, 1, "up"):
                break
            self.console.sleep(0.5)
        else:
            raise LabError(f"the NIC driver did not come up within {DRIVER_UP_S:g} s "
                           f"(no link in `stats`; sections: {sorted(st)}); "
                           f"console: {self.guest.qemu.log_path}")
        if st.get("cmdline_errors"):
            raise LabError(f"the kernel refused {st['cmdline_errors']} word(s) of the "
                           f"command line `{self.cmdline}` (see the console log "
                           f"{self.guest.qemu.log_path})")
        if self.napi == "off" and acc.guest_counters(st).get("napi_enabled", 1):
            raise LabError("napi=off was asked for but the driver reports NAPI on")
        self.console.sleep(RCTL_FLUSH_S)
        self.run("sink reset")
        self.seq = 0
        r = self.measure(rate=10_000, count=WARMUP_FRAMES, label="warm-up")
        if r.delivered != WARMUP_FRAMES or not r.ok:
            raise LabError(f"warm-up: {WARMUP_FRAMES} frames sent at 10k pps, "
                           f"{r.delivered} reached the sink; problems: "
                           f"{r.problems or 'none'}; where lost: "
                           f"{acc.summarize([r])[0].where_lost()}")

    # ------------------------------------------------------------ settings
    def set_napi(self, budget: Optional[int] = None, weight: Optional[int] = None,
                 budget_us: Optional[int] = None) -> None:
        """Change NAPI settings from the shell (task context in the guest;
        takes effect at the next NET_RX run)."""
        for key, v in (("budget", budget), ("weight", weight),
                       ("budget_us", budget_us)):
            if v is not None:
                self.run(f"napi {key} {int(v)}")

    def pin(self) -> list[str]:
        """Re-apply the thread layout; return problems ([] = as intended)."""
        if not two_cpus() or self.guest is None or self.guest.qemu is None:
            return []
        q = self.guest.qemu
        q.pin(hoststats.LAYOUT["vcpu_cpu"], hoststats.LAYOUT["main_cpu"])
        try:
            return hoststats.check_layout(q.pid)
        except LookupError as e:
            return [str(e)]

    # ------------------------------------------------------------ measuring
    def snapshot(self) -> Snapshot:
        host = hoststats.snapshot(self.ns)
        raw = self.stats()
        return Snapshot(time.monotonic(), acc.guest_counters(raw), raw, host)

    def _settled_key(self) -> tuple:
        g = acc.guest_counters(self.stats())
        seen = g["delivered"] + g["missed_nic"] + g["foreign"] + sum(
            v for k, v in g.items() if k.startswith((acc.NET_DROP, acc.DRV_DROP)))
        tap = self.ns.tap_stats()
        return (seen, tap.get("tx_packets", 0), tap.get("tx_dropped", 0))

    def drain(self, max_s: float = DRAIN_MAX_S) -> tuple[bool, float]:
        """Wait until the guest has processed everything it will: the
        frames it accounted for and the tap's counters unchanged over two
        consecutive reads. Returns (settled, seconds waited)."""
        t0 = time.monotonic()
        last = self._settled_key()
        stable = 0
        while time.monotonic() - t0 < max_s:
            self.console.sleep(DRAIN_POLL_S)
            key = self._settled_key()
            stable = stable + 1 if key == last else 0
            last = key
            if stable >= 2:
                return True, time.monotonic() - t0
        return False, time.monotonic() - t0

    def measure(self, rate: int, duration: Optional[float] = None,
                count: Optional[int] = None, repeat: int = 0,
                actions: Sequence[tuple[float, Callable[["Lab"], Any]]] = (),
                label: str = "", drain_max: float = DRAIN_MAX_S,
                retry_noisy: bool = False,
                sample_period: Optional[float] = None,
                at_end: Optional[Callable[["Lab"], Any]] = None) -> acc.RunRecord:
        """One run; see the module docstring. `actions` are (seconds after
        the flood started, fn(lab)) pairs, run in order while it floods;
        what they return is kept in record.extra["actions"]. With
        retry_noisy, a run that noisy() rejects (host steal, generator
        starved) is run once more and the second run kept (marked retried;
        extra["noisy"] says why if it was noisy again). With sample_period,
        the tap's counters are sampled that often during the run
        (harness.lab.sampler) into record.extra["samples"], times relative
        to record.extra["t0"] (the generator's start, time.monotonic()).
        at_end(lab) runs as soon as the generator has finished, before the
        drain; its result is record.extra["at_end"]; extra["t_end"] is when
        it was called (s after t0) and extra["t_before"] when the first
        snapshot was complete (s after t0, negative)."""
        args = (rate, duration, count, repeat, actions, label, drain_max,
                sample_period, at_end)
        rec = self._measure_once(*args)
        why = self.noisy(rec, rate, duration) if retry_noisy else None
        if why:
            self.log(f"lab: {why}: running this point again")
            first = rec
            rec = self._measure_once(*args)
            rec.retried = True
            rec.extra["first_try"] = {"why": why, "steal_pct": first.steal_pct,
                                      "sent": first.sent, "loss_pct": first.loss_pct,
                                      "delivered_pps": first.delivered_pps}
            again = self.noisy(rec, rate, duration)
            if again:
                rec.extra["noisy"] = again
        return rec

    def noisy(self, rec: acc.RunRecord, rate: int,
              duration: Optional[float]) -> Optional[str]:
        """Why a run's numbers are not the guest's (None if they are): the
        host's hypervisor took too much of its CPUs (steal), or the paced
        generator fell well short of its rate because something else on the
        host ran on its core (it runs at idle priority, by design)."""
        if rec.steal_pct > self.steal_max:
            return f"steal {rec.steal_pct:.1f} % > {self.steal_max:g} %"
        if rate > 0 and duration and rec.sent < GENERATOR_SHORTFALL * rate * duration:
            return (f"the generator sent {rec.sent} of {int(rate * duration)} frames "
                    "(host busy)")
        return None

    def _measure_once(self, rate, duration, count, repeat, actions, label,
                      drain_max, sample_period, at_end) -> acc.RunRecord:
        layout_problems = self.pin()
        before = self.snapshot()
        sampler = None
        if sample_period:
            sampler = TapSampler(self.guest.qemu.pid, self.ns.tap,
                                 sample_period).start()
        spec = FloodSpec(dst_mac=GUEST_MAC, dst_ip=GUEST_IP, ifname=self.ns.tap,
                         rate=rate, duration=duration, count=count,
                         size=self.size, seq_start=self.seq,
                         cpu=hoststats.LAYOUT["flood_cpu"] if two_cpus() else None)
        proc = start_flood(spec, self.ns)
        t0 = time.monotonic()
        action_out = []
        try:
            for at, fn in sorted(actions, key=lambda a: a[0]):
                wait = at - (time.monotonic() - t0)
                if wait > 0:
                    self.console.sleep(wait)
                t_act = time.monotonic()
                result = fn(self)
                action_out.append({"at": round(t_act - t0, 4),
                                   "took": round(time.monotonic() - t_act, 4),
                                   "result": result})
            # Keep reading the console while the generator runs.
            while proc.running():
                self.console.sleep(0.1)
            res = proc.wait()
            t_end = time.monotonic()
            end_result = at_end(self) if at_end is not None else None
        except BaseException:
            if sampler is not None:
                sampler.stop()
            if proc.running():
                try:
                    proc.stop()
                except HarnessError:
                    pass
            raise
        if res.attempted:
            self.seq = res.last_seq + 1
        settled, drain_s = self.drain(drain_max)
        samples = sampler.stop() if sampler is not None else None
        after = self.snapshot()
        self.runs += 1

        gd = acc.delta(before.guest, after.guest)
        hd = hoststats.delta(before.host, after.host)
        acct = acc.reconcile(res.attempted, gd, acc.HostCounts.from_hostdelta(hd))
        steal = max((v for c, v in hd.steal_pct.items()), default=0.0)
        sent_s = float(res.raw.get("duration_s") or duration or 0.0)
        rec = acc.make_record(
            mode=self.mode, nic=self.nic, napi=self.napi, offered_pps=rate,
            duration=round(sent_s, 4), acct=acct, gdelta=gd, steal_pct=steal,
            repeat=repeat, achieved_pps=float(res.raw.get("attempted_pps", 0.0)),
            extra={"label": label, "settled": settled, "drain_s": round(drain_s, 2),
                   "queued_tun": acct.queued_tun, "foreign": acct.foreign,
                   "first_seq": res.first_seq, "last_seq": res.last_seq,
                   "flood": {k: res.raw.get(k) for k in (
                       "sent", "dropped_on_send", "send_errors", "late_batches",
                       "slips", "max_lag_us", "batch", "stop_reason")},
                   "host": hd.as_dict(), "guest_delta": gd,
                   "layout_problems": layout_problems,
                   "actions": action_out})
        rec.extra["t0"] = t0
        rec.extra["t_before"] = round(before.at - t0, 4)
        rec.extra["user_tasks_before"] = acc.user_tasks(before.raw)
        rec.extra["guest_before"] = before.guest
        if at_end is not None:
            rec.extra["t_end"] = round(t_end - t0, 4)
            rec.extra["at_end"] = end_result
        if samples is not None:
            rec.extra["t0"] = t0
            rec.extra["samples"] = [(round(t - t0, 6), n, d) for t, n, d in samples]
        if not settled:
            rec.problems.append(f"guest counters still moving after {drain_max:g} s "
                                "(stalled or still draining)")
        return rec
