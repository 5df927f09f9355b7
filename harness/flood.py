"""Run the flood generator (build/flood) and read its JSON summary.

    spec = FloodSpec(dst_mac=GUEST_MAC, dst_ip=GUEST_IP, rate=100_000,
                     duration=2, cpu=1)
    res = run_flood(spec, ns)                  # ns: a NetNs (or its name)
    res.attempted, res.sent, res.dropped_on_send, res.achieved_pps

    f = start_flood(spec, ns)                  # in the background
    ...                                        # talk to the guest meanwhile
    res = f.wait()                             # or f.stop() to end it early

The generator always runs inside the namespace that holds the guest's tap
(`ip netns exec NS`), pinned with `taskset -c CPU` and at idle priority
with `chrt --idle 0`: QEMU-FACTS.md's layout that gives repeatable numbers
puts QEMU's vCPU thread alone on CPU 0 and QEMU's main loop with the
generator on CPU 1 (see harness.hoststats.LAYOUT), the generator yielding to
the main loop so that it measures the guest rather than itself.

Counting convention (harness/flood/flood.c has the details): every
sequence number from first_seq to last_seq was handed to the host kernel
exactly once; `attempted` of them, of which `sent` were accepted and
`dropped_on_send` were dropped by the host while we sent them (ENOBUFS,
counted in the tap's tx_dropped or the qdisc's drops). Frame sizes count the
Ethernet FCS: size=64 hands 60 bytes to the socket.

Errors: FloodUsageError (bad arguments, exit 2), FloodRunError (the tool
ran but could not send; carries the partial result), FloodTimeout (it did
not end within its own bound plus a margin: killed), FloodOutputError (no
parsable summary). All are HarnessError.
"""
from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Optional, Union

from .errors import HarnessError
from .paths import BUILD

FLOOD_BIN = BUILD / "flood"

# The tool's own bounds (flood.c): a run never sends for longer than this,
# nor waits longer than MAX_ECHO_WAIT_MS for echo replies afterwards.
MAX_SECONDS = 120.0
MAX_PACKETS = 100_000_000
MAX_ECHO_WAIT_MS = 10_000
# How long past its own bound we let the process live before killing it
# (start-up in a namespace, final echo drain, a loaded host).
TIMEOUT_MARGIN_S = 15.0


class FloodError(HarnessError):
    """The flood generator failed. argv, returncode and stderr say how;
    result holds the summary if it printed one."""

    def __init__(self, message: str, argv: list[str] = (),
                 returncode: Optional[int] = None, stderr: str = "",
                 result: Optional["FloodResult"] = None):
        super().__init__(message)
        self.message = message
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        self.result = result

    def __str__(self) -> str:
        s = self.message
        if self.stderr.strip():
            s += "\n--- flood stderr ---\n" + self.stderr.strip()
        if self.argv:
            s += "\n--- command ---\n" + " ".join(self.argv)
        return s


class FloodUsageError(FloodError):
    """The tool rejected its arguments (exit status 2)."""


class FloodRunError(FloodError):
    """The tool could not set up or had to stop on a send error (status 1)."""


class FloodTimeout(FloodError):
    """The tool ran past its own time bound; it was killed."""


class FloodOutputError(FloodError):
    """The tool exited without a summary we could parse."""


@dataclasses.dataclass
class FloodSpec:
    """Arguments of one run. None means "the tool's default"."""
    dst_mac: str
    dst_ip: str
    ifname: str = "tap0"
    count: Optional[int] = None
    duration: Optional[float] = None      # seconds; count or duration needed
    rate: int = 0                         # pps; 0 = as fast as possible
    size: int = 64                        # wire size incl. FCS, 64..1518
    batch: Optional[int] = None           # None: sized to the rate
    src_mac: Optional[str] = None         # None: the interface's
    src_ip: Optional[str] = None          # None: the interface's
    src_port: Optional[int] = None        # None: 49152
    dst_port: int = 9                     # the guest's UDP sink
    seq_start: int = 0
    udp_csum: bool = True
    qdisc_bypass: bool = False
    echo_check: bool = False              # count replies from echo_port
    echo_port: int = 7
    echo_wait_ms: Optional[int] = None    # None: 500
    max_lag_us: Optional[int] = None      # None: 10000
    cpu: Optional[int] = None             # taskset -c CPU (None: not pinned)
    idle: bool = True                     # chrt --idle 0

    def validate(self) -> None:
        """The checks the harness can make before starting anything; the
        tool checks everything again and is the authority."""
        if self.count is None and self.duration is None:
            raise FloodUsageError("a flood needs count or duration (it is "
                                  "always bounded)")
        if self.count is not None and not 1 <= self.count <= MAX_PACKETS:
            raise FloodUsageError(f"count {self.count} outside 1..{MAX_PACKETS}")
        if self.duration is not None and not 0 < self.duration <= MAX_SECONDS:
            raise FloodUsageError(f"duration {self.duration} outside "
                                  f"(0, {MAX_SECONDS}] s")
        if not 64 <= self.size <= 1518:
            raise FloodUsageError(f"size {self.size} outside 64..1518 "
                                  "(wire size, FCS included)")
        if self.rate < 0:
            raise FloodUsageError(f"negative rate {self.rate}")

    def tool_args(self) -> list[str]:
        """The flood binary's own arguments (without path or wrappers)."""
        a = ["--ifname", self.ifname, "--dst-mac", self.dst_mac,
             "--dst-ip", self.dst_ip, "--rate", str(self.rate),
             "--size", str(self.size), "--dst-port", str(self.dst_port),
             "--seq-start", str(self.seq_start),
             "--udp-csum", "on" if self.udp_csum else "off", "--json"]
        if self.count is not None:
            a += ["--count", str(self.count)]
        if self.duration is not None:
            a += ["--duration", repr(float(self.duration))]
        for flag, value in (("--batch", self.batch), ("--src-mac", self.src_mac),
                            ("--src-ip", self.src_ip), ("--src-port", self.src_port),
                            ("--echo-wait-ms", self.echo_wait_ms),
                            ("--max-lag-us", self.max_lag_us)):
            if value is not None:
                a += [flag, str(value)]
        if self.qdisc_bypass:
            a.append("--qdisc-bypass")
        if self.echo_check:
            a += ["--echo-check", "--echo-port", str(self.echo_port)]
        return a

    def time_bound(self) -> float:
        """Seconds the tool may run, by its own rules, plus our margin."""
        send = MAX_SECONDS if self.duration is None else float(self.duration)
        echo = 0.0
        if self.echo_check:
            echo = (500 if self.echo_wait_ms is None else self.echo_wait_ms) / 1000
        return send + echo + TIMEOUT_MARGIN_S


@dataclasses.dataclass
class FloodResult:
    """The tool's JSON summary; `raw` holds every field it printed."""
    raw: dict[str, Any]
    argv: list[str]
    stderr: str = ""

    def __getattr__(self, name: str) -> Any:
        # Fields of the summary as attributes: res.sent, res.duration_s ...
        raw = self.__dict__.get("raw")
        if raw is not None and name in raw:
            return raw[name]
        raise AttributeError(name)

    @property
    def attempted(self) -> int:
        return int(self.raw["attempted"])

    @property
    def sent(self) -> int:
        return int(self.raw["sent"])

    @property
    def dropped_on_send(self) -> int:
        return int(self.raw["dropped_on_send"])

    @property
    def first_seq(self) -> int:
        return int(self.raw["first_seq"])

    @property
    def last_seq(self) -> Optional[int]:
        v = self.raw["last_seq"]
        return None if v is None else int(v)

    @property
    def send_errors(self) -> dict[str, int]:
        return dict(self.raw["send_errors"])

    @property
    def echo(self) -> Optional[dict[str, Any]]:
        return self.raw.get("echo")

    def check(self) -> None:
        """Raise FloodOutputError if the summary contradicts itself (its
        own accounting identity), so a broken tool is never trusted."""
        r = self.raw
        problems = []
        if r["attempted"] != r["sent"] + r["dropped_on_send"]:
            problems.append("attempted != sent + dropped_on_send")
        errs = r["send_errors"]
        if r["dropped_on_send"] != errs["ENOBUFS"] + errs["unreported"]:
            problems.append("dropped_on_send != ENOBUFS + unreported")
        if r["attempted"] and r["last_seq"] - r["first_seq"] + 1 != r["attempted"]:
            problems.append("last_seq - first_seq + 1 != attempted")
        if problems:
            raise FloodOutputError("flood summary inconsistent: "
                                   + "; ".join(problems) + f": {r}", self.argv)


NsLike = Union[None, str, Any]   # None, a namespace name, or a harness NetNs


def _ns_name(ns: NsLike) -> Optional[str]:
    if ns is None or isinstance(ns, str):
        return ns
    return ns.name


def flood_argv(spec: FloodSpec, ns: NsLike = None,
               binary: Path = FLOOD_BIN) -> list[str]:
    """The full command: [ip netns exec NS] [taskset -c CPU]
    [chrt --idle 0] build/flood ARGS."""
    argv: list[str] = []
    name = _ns_name(ns)
    if name:
        argv += ["ip", "netns", "exec", name]
    if spec.cpu is not None:
        argv += ["taskset", "-c", str(spec.cpu)]
    if spec.idle:
        argv += ["chrt", "--idle", "0"]
    return argv + [str(binary)] + spec.tool_args()


def _parse(argv: list[str], rc: int, out: str, err: str,
           timed_out: bool) -> FloodResult:
    result = None
    for line in reversed(out.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                result = FloodResult(json.loads(line), argv, err)
            except json.JSONDecodeError:
                result = None
            break
    if timed_out:
        raise FloodTimeout("flood ran past its own time bound and was killed",
                           argv, rc, err, result)
    if rc == 2:
        raise FloodUsageError("flood rejected its arguments", argv, rc, err, result)
    if rc == 1 and result is not None:
        raise FloodRunError(f"flood failed: {result.raw.get('error')}",
                            argv, rc, err, result)
    if rc != 0:
        raise FloodError(f"flood (or its wrapper) exited with status {rc}",
                         argv, rc, err, result)
    if result is None:
        raise FloodOutputError("flood printed no JSON summary", argv, rc, err)
    result.check()
    return result


class FloodProcess:
    """A flood run in the background. Always end it with wait() or stop()
    (both reap the process); a NetNs also ends it by PID on destroy()."""

    def __init__(self, spec: FloodSpec, ns: NsLike = None,
                 binary: Path = FLOOD_BIN):
        spec.validate()
        if not Path(binary).is_file():
            raise FloodError(f"{binary} is missing: run `make` (it builds the "
                             "host tools too)")
        self.spec = spec
        self.argv = flood_argv(spec, ns, binary)
        self.started = time.monotonic()
        kw = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if ns is not None and not isinstance(ns, str):
            # NetNs.popen prefixes `ip netns exec` itself and registers the
            # process so its destroy() ends it.
            self.proc = ns.popen(flood_argv(spec, None, binary), **kw)
        else:
            self.proc = subprocess.Popen(self.argv, **kw)
        self._result: Optional[FloodResult] = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: Optional[float] = None) -> FloodResult:
        """Wait for the run to end and return its summary; raises a
        FloodError subclass. timeout defaults to the run's own bound plus
        a margin; past it the process is killed and FloodTimeout raised."""
        if timeout is None:
            timeout = self.spec.time_bound() - (time.monotonic() - self.started)
        timed_out = False
        try:
            out, err = self.proc.communicate(timeout=max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            timed_out = True
            self.proc.kill()
            out, err = self.proc.communicate(timeout=5)
        self._result = _parse(self.argv, self.proc.returncode, out, err, timed_out)
        return self._result

    def stop(self, timeout: float = 5.0) -> FloodResult:
        """End the run now: SIGTERM (the tool stops between batches and
        prints its summary with stop_reason "signal"), then wait."""
        if self.running():
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        return self.wait(timeout)


def start_flood(spec: FloodSpec, ns: NsLike = None,
                binary: Path = FLOOD_BIN) -> FloodProcess:
    """Start a run in the background; see FloodProcess."""
    return FloodProcess(spec, ns, binary)


def run_flood(spec: FloodSpec, ns: NsLike = None,
              binary: Path = FLOOD_BIN) -> FloodResult:
    """Run to the end and return the summary (raises FloodError)."""
    return FloodProcess(spec, ns, binary).wait()
