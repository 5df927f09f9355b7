"""A private network namespace with a tap device, for the guest's NIC.

    with NetNs(txqueuelen=100) as ns:          # creates ns, tap, address
        cfg = ns.qemu_config(nic="e1000")      # QEMU runs inside ns on the tap
        ...
        ns.tap_stats()["tx_dropped"], ns.qdisc_stats()["drops"]
    # tap and namespace are gone, also after an exception or Ctrl-C

The host side of the link is the tap itself, holding HOST_ADDR; the guest
is GUEST_IP. Each step that creates something registers the step that
removes it, and destroy() runs those in reverse; nothing here touches an
interface or namespace it did not create, and the only processes it ends
are those started through popen(), by PID.
"""
from __future__ import annotations

import atexit
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

from .errors import NetSetupError
from .qemu import QemuConfig

HOST_ADDR = "10.77.0.1/24"
GUEST_IP = "10.77.0.2"
TAP = "tap0"   # names are per namespace: no clash with the host's

_seq = itertools.count(1)
_live: set["NetNs"] = set()


@atexit.register
def _destroy_all() -> None:
    for ns in list(_live):
        ns.destroy()


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True,
                          timeout=30)


def preflight() -> None:
    """Raise NetSetupError saying why namespaces and taps cannot be made."""
    problems = []
    if os.geteuid() != 0:
        problems.append("the harness is not running as root (creating a "
                        "network namespace and a tap needs CAP_SYS_ADMIN "
                        "and CAP_NET_ADMIN): run it with sudo or as root")
    if not Path("/dev/net/tun").exists():
        problems.append("/dev/net/tun does not exist (no tun/tap driver, or "
                        "a container without the device): load the `tun` "
                        "module or pass the device in")
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            problems.append(f"`{tool}` not found (Debian package iproute2)")
    if problems:
        raise NetSetupError("cannot set up the guest network: "
                            + "; ".join(problems))


class NetNs:
    def __init__(self, tap: str = TAP, host_addr: str = HOST_ADDR,
                 guest_ip: str = GUEST_IP, txqueuelen: Optional[int] = None,
                 prefix: str = "napilab"):
        self.tap = tap
        self.host_addr = host_addr
        self.guest_ip = guest_ip
        self.txqueuelen = txqueuelen
        self.prefix = prefix
        self.name: Optional[str] = None
        self._undo: list[tuple[str, Callable[[], None]]] = []
        self._procs: list[subprocess.Popen] = []

    @property
    def host_ip(self) -> str:
        return self.host_addr.split("/")[0]

    # ------------------------------------------------------------ set-up
    def _step(self, what: str, argv: Sequence[str]) -> None:
        r = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise NetSetupError(f"{what} failed: `{' '.join(argv)}`: "
                                f"{(r.stderr or r.stdout).strip()}")

    def create(self) -> "NetNs":
        """Create namespace, tap (IPv6 off, address, up). On any failure
        remove what was made and raise NetSetupError."""
        if self.name is not None:
            raise NetSetupError(f"namespace {self.name} already created")
        preflight()
        _live.add(self)
        try:
            self._create_ns()
            ns = self.name
            assert ns is not None
            self._step("bringing up lo", ["ip", "-n", ns, "link", "set", "lo", "up"])
            self._step("creating the tap", ["ip", "-n", ns, "tuntap", "add",
                                            "dev", self.tap, "mode", "tap"])
            self._undo.append((f"deleting tap {self.tap}", lambda: self._step(
                "deleting the tap", ["ip", "-n", ns, "link", "del", self.tap])))
            # Before the link is up, so the host never sends its own IPv6
            # router solicitations and MLD reports into the counts.
            self._step("disabling IPv6 on the tap", self.exec_argv(
                ["sysctl", "-q", "-w", f"net.ipv6.conf.{self.tap}.disable_ipv6=1"]))
            if self.txqueuelen is not None:
                self.set_txqueuelen(self.txqueuelen)
            self._step("adding the host address", ["ip", "-n", ns, "addr", "add",
                                                   self.host_addr, "dev", self.tap])
            self._step("bringing up the tap", ["ip", "-n", ns, "link", "set",
                                               self.tap, "up"])
        except BaseException:
            self.destroy()
            raise
        return self

    def _create_ns(self) -> None:
        for _ in range(100):
            name = f"{self.prefix}-{os.getpid()}-{next(_seq)}"
            r = _ip("netns", "add", name)
            if r.returncode == 0:
                self.name = name
                self._undo.append((f"deleting namespace {name}", lambda: self._step(
                    "deleting the namespace", ["ip", "netns", "del", name])))
                return
            if "exists" not in r.stderr:
                raise NetSetupError(f"`ip netns add {name}` failed: {r.stderr.strip()}")
            # A stale namespace of an earlier process with our PID: not ours,
            # leave it and take the next number.
        raise NetSetupError("no free namespace name")

    def set_txqueuelen(self, n: int) -> None:
        """The tap's queue length: host-side drops start once QEMU stops
        reading and this many frames wait (QEMU-FACTS.md)."""
        assert self.name is not None
        self._step("setting txqueuelen", ["ip", "-n", self.name, "link", "set",
                                          self.tap, "txqueuelen", str(n)])
        self.txqueuelen = n

    # ------------------------------------------------------------ use
    def exec_argv(self, argv: Sequence[str]) -> list[str]:
        """argv prefixed so that it runs inside the namespace."""
        if self.name is None:
            raise NetSetupError("namespace not created")
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv: Sequence[str], check: bool = True,
            timeout: float = 60.0) -> subprocess.CompletedProcess:
        """Run a short command inside the namespace; output captured."""
        r = subprocess.run(self.exec_argv(argv), capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise NetSetupError(f"`{' '.join(argv)}` in {self.name} failed "
                                f"({r.returncode}): {(r.stderr or r.stdout).strip()}")
        return r

    def popen(self, argv: Sequence[str], **kw) -> subprocess.Popen:
        """Start a process inside the namespace. It is ended (by its PID)
        in destroy() if still running."""
        p = subprocess.Popen(self.exec_argv(argv), **kw)
        self._procs.append(p)
        return p

    def qemu_config(self, **kw) -> QemuConfig:
        """A QemuConfig whose NIC is on this tap and whose QEMU runs here."""
        return QemuConfig(netns=self.name, tap=self.tap, **kw)

    def tap_stats(self) -> dict[str, int]:
        """The tap's counters as in /sys/class/net/TAP/statistics (read
        inside the namespace), plus tx_queue_len. For traffic towards the
        guest: tx_packets = frames QEMU read, tx_dropped = frames the tun
        driver dropped because QEMU did not read them."""
        d = f"/sys/class/net/{self.tap}"
        r = self.run(["grep", "-r", ".", f"{d}/statistics", f"{d}/tx_queue_len"])
        stats: dict[str, int] = {}
        for line in r.stdout.splitlines():
            path, _, value = line.partition(":")
            try:
                stats[Path(path).name] = int(value)
            except ValueError:
                pass
        return stats

    def qdisc_stats(self) -> dict:
        """The tap's root qdisc counters from `tc -s qdisc show` (JSON):
        kind, packets, bytes, drops, overlimits, requeues, backlog, qlen.
        A host whose tun driver stops the queue instead of dropping counts
        its losses here rather than in tap tx_dropped."""
        r = self.run(["tc", "-s", "-j", "qdisc", "show", "dev", self.tap])
        try:
            qdiscs = json.loads(r.stdout or "[]")
        except json.JSONDecodeError as e:
            raise NetSetupError(f"tc printed no JSON: {r.stdout!r}") from e
        roots = [q for q in qdiscs if q.get("root")] or qdiscs
        if not roots:
            return {"kind": "none", "packets": 0, "bytes": 0, "drops": 0,
                    "overlimits": 0, "requeues": 0, "backlog": 0, "qlen": 0}
        q = roots[0]
        return {k: q.get(k, 0) for k in ("kind", "packets", "bytes", "drops",
                                          "overlimits", "requeues", "backlog", "qlen")}

    # ------------------------------------------------------------ tear-down
    def destroy(self) -> None:
        """Remove everything create() made, in reverse order. Never raises:
        problems are reported on stderr, so that a cleanup after a failure
        does not hide the failure. Safe to repeat."""
        for p in self._procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)   # by PID, via the Popen
                try:
                    p.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=3)
        self._procs.clear()
        if self.name is not None and self._undo:
            r = _ip("netns", "pids", self.name)
            if r.stdout.split():
                print(f"harness: processes still in {self.name}: "
                      f"{' '.join(r.stdout.split())} (not ours to end)", file=sys.stderr)
        while self._undo:
            what, undo = self._undo.pop()
            try:
                undo()
            except Exception as e:   # report and go on with the rest
                print(f"harness: {what}: {e}", file=sys.stderr)
        _live.discard(self)

    def __enter__(self) -> "NetNs":
        if self.name is None:
            self.create()
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()

    def __repr__(self) -> str:
        return f"<NetNs {self.name} tap={self.tap} {self.host_addr}>"
