"""Starting and stopping QEMU with the napilab image.

QemuConfig says what machine to boot; qemu_argv() turns it into a command
line; Qemu runs it, captures the serial console to build/logs/, talks QMP
and stops it again within bounded time, only ever signalling its own PID.

Each boot gets a private copy of build/esp/ in a temporary directory (with
its own cmdline.txt when QemuConfig.cmdline is set), so that nothing here
writes to the ESP others build and boot: QEMU's vvfat driver is given the
directory read-write and follows no symlinks, and the files are small.
"""
from __future__ import annotations

import atexit
import codecs
import dataclasses
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import ClassVar, Optional

import pexpect

from .console import Console, ConsoleLog
from .errors import HarnessError, QmpError
from .paths import ESP, LOGS, OVMF_CODE, check_build
from .qmp import QmpClient

NIC_MODELS = ("e1000", "e1000e", "none")
GUEST_MAC = "52:54:00:12:34:56"

# Where the kernel reads the interrupt mode from (harness.run --mode).
MODE_KEY = "irq"  # issue 4: irq=level|edge|msi|msix
MODES = ("level", "edge", "msi", "msix")


@dataclasses.dataclass
class QemuConfig:
    """What to boot. The defaults are the machine every scenario assumes."""
    nic: str = "e1000"                 # e1000 | e1000e | none
    machine: str = "q35"
    memory: str = "512M"
    cmdline: Optional[str] = None      # None: use build/esp/cmdline.txt as is
    tap: Optional[str] = None          # NIC backend; None: NIC with no backend
    netns: Optional[str] = None        # run QEMU inside this network namespace
    gdb: bool = False                  # -s -S: halted, gdb stub on tcp::1234
    extra_args: list[str] = dataclasses.field(default_factory=list)
    nic_options: str = ""              # appended to -device, e.g. "mitigation=off"
    nic_addr: str = "0x3"              # PCI slot of the NIC (fixes its GSI on q35)
    mac: str = GUEST_MAC
    vcpu_cpu: Optional[int] = None     # pin the vCPU thread(s) to this host CPU
    main_cpu: Optional[int] = None     # pin every other QEMU thread to this one
    esp: Path = ESP
    bios: Path = OVMF_CODE
    label: str = "qemu"                # names the log file

    def validate(self) -> None:
        if self.nic not in NIC_MODELS:
            raise HarnessError(f"nic must be one of {', '.join(NIC_MODELS)}, "
                               f"not {self.nic!r}")
        if self.tap and self.nic == "none":
            raise HarnessError("a tap was given but nic is 'none'")
        if self.cmdline is not None and "\n" in self.cmdline.strip():
            raise HarnessError("cmdline must be one line of key=value words")


def with_cmdline_key(cmdline: str, key: str, value: str) -> str:
    """cmdline with `key=value` set, replacing an earlier value of key."""
    words = [w for w in cmdline.split() if w.split("=", 1)[0] != key]
    return " ".join(words + [f"{key}={value}"])


def qemu_argv(cfg: QemuConfig, qmp_socket: Path, esp_dir: Path) -> list[str]:
    """The full command line for cfg, serving esp_dir as the boot disk."""
    cfg.validate()
    argv = [
        "qemu-system-x86_64",
        "-accel", "tcg",
        "-machine", cfg.machine,
        "-m", cfg.memory,
        "-bios", str(cfg.bios),
        "-drive", f"format=raw,file=fat:rw:{esp_dir}",
        "-serial", "stdio",
        "-display", "none",
        "-monitor", "none",
        "-no-reboot",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
        "-name", "napilab,debug-threads=on",
        "-qmp", f"unix:{qmp_socket},server=on,wait=off",
    ]
    # Without a tap, "-nic none" stops QEMU adding its default NIC (an
    # e1000e at 00:02.0 on q35, with user-mode networking) beside ours.
    if cfg.nic == "none" or not cfg.tap:
        argv += ["-nic", "none"]
    if cfg.nic != "none":
        dev = f"{cfg.nic},mac={cfg.mac},romfile=,addr={cfg.nic_addr}"
        if cfg.tap:
            argv += ["-netdev", f"tap,id=n0,ifname={cfg.tap},script=no,downscript=no"]
            dev = f"{cfg.nic},netdev=n0,mac={cfg.mac},romfile=,addr={cfg.nic_addr}"
        if cfg.nic_options:
            dev += "," + cfg.nic_options
        argv += ["-device", dev]
    if cfg.gdb:
        argv += ["-s", "-S"]
    argv += cfg.extra_args
    if cfg.netns:
        argv = ["ip", "netns", "exec", cfg.netns] + argv
    return argv


def _log_name(label: str) -> str:
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_")[:80] or "qemu"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{label}-{os.getpid()}-{next(_seq)}.log"


_seq = itertools.count(1)
_live: set["Qemu"] = set()


@atexit.register
def _stop_all() -> None:
    """Last resort if a caller forgot stop(): end our QEMUs by PID."""
    for q in list(_live):
        q.stop(timeout=2.0)


class Qemu:
    """One QEMU process running the napilab image.

    start(console=...) chooses how the serial port is attached:
      "expect"     a pty driven by pexpect; self.console is a Console
      "terminal"   QEMU reads this terminal; output shown and logged
      "background" stdin /dev/null, own session; output shown and logged
                   (for gdb, which then owns the terminal)
    In every mode the output goes to self.log (build/logs/*.log).

    With "expect", QEMU's output is read only while someone waits on the
    console: call console.sleep() rather than time.sleep() while the guest
    prints a lot, or QEMU blocks once the pty buffer (~64 KiB) is full.
    """

    # Every QEMU started by this process, in order (for attaching logs).
    history: ClassVar[list["Qemu"]] = []

    def __init__(self, config: QemuConfig):
        self.config = config
        self.console: Optional[Console] = None
        self.qmp: Optional[QmpClient] = None
        self.log: Optional[ConsoleLog] = None
        self.argv: list[str] = []
        self.started_at: Optional[float] = None   # time.monotonic()
        self.stopped_at: Optional[float] = None
        self._spawn: Optional[pexpect.spawn] = None
        self._popen: Optional[subprocess.Popen] = None
        self._tee: Optional[threading.Thread] = None
        self._tmp: Optional[Path] = None

    # ------------------------------------------------------------ start
    def _private_esp(self) -> Path:
        assert self._tmp is not None
        esp = self._tmp / "esp"
        shutil.copytree(self.config.esp, esp, symlinks=False)
        if self.config.cmdline is not None:
            (esp / "cmdline.txt").unlink(missing_ok=True)
            if self.config.cmdline.strip():
                (esp / "cmdline.txt").write_text(self.config.cmdline.strip() + "\n")
        return esp

    def start(self, console: str = "expect", qmp_wait: float = 30.0) -> "Qemu":
        """Start QEMU and connect QMP. Does not wait for the kernel: use
        console.wait_ready() (or harness.guest.Guest, which does)."""
        if self.started_at is not None:
            raise HarnessError("this Qemu was already started")
        if console not in ("expect", "terminal", "background"):
            raise HarnessError(f"unknown console mode {console!r}")
        self.config.validate()
        check_build(self.config.esp)
        self._tmp = Path(tempfile.mkdtemp(prefix="napilab-qemu-"))
        try:
            qmp_path = self._tmp / "qmp.sock"
            self.argv = qemu_argv(self.config, qmp_path, self._private_esp())
            self.log = ConsoleLog(LOGS / _log_name(self.config.label))
            self.log.write("# " + " ".join(self.argv) + "\n")
            if console == "expect":
                self._spawn = pexpect.spawn(
                    self.argv[0], self.argv[1:], encoding="utf-8",
                    codec_errors="replace", echo=False, dimensions=(50, 200))
                self._spawn.logfile_read = self.log
                self.console = Console(self._spawn, self.log)
            else:
                self._start_tee(console)
            self.started_at = time.monotonic()
            Qemu.history.append(self)
            _live.add(self)
            self.qmp = QmpClient(qmp_path)
            self.qmp.connect(wait=qmp_wait, alive=lambda: self.alive)
            self.pin(self.config.vcpu_cpu, self.config.main_cpu)
        except BaseException:
            self.stop(timeout=2.0)
            raise
        return self

    def _start_tee(self, mode: str) -> None:
        self._popen = subprocess.Popen(
            self.argv, stdin=None if mode == "terminal" else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=(mode == "background"))
        self._tee = threading.Thread(target=self._tee_loop, daemon=True,
                                     name="qemu-console-tee")
        self._tee.start()

    def _tee_loop(self) -> None:
        """Copy QEMU's output to our stdout and to the log until EOF."""
        assert self._popen is not None and self._popen.stdout is not None
        assert self.log is not None
        fd = self._popen.stdout.fileno()
        dec = codecs.getincrementaldecoder("utf-8")("replace")
        out = sys.stdout.buffer
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out.write(data)
            out.flush()
            self.log.write(dec.decode(data))
        self.log.flush()

    # ------------------------------------------------------------ state
    @property
    def pid(self) -> Optional[int]:
        if self._spawn is not None:
            return self._spawn.pid
        if self._popen is not None:
            return self._popen.pid
        return None

    @property
    def alive(self) -> bool:
        if self._spawn is not None:
            return self._spawn.isalive()
        if self._popen is not None:
            return self._popen.poll() is None
        return False

    @property
    def exitstatus(self) -> Optional[int]:
        """QEMU's exit status, None while it runs or if a signal ended it.
        1 = kernel poweroff, 33 = kernel panic, 0 = ended otherwise."""
        if self.alive:
            return None
        if self._spawn is not None:
            return self._spawn.exitstatus
        if self._popen is not None and self._popen.returncode >= 0:
            return self._popen.returncode
        return None

    @property
    def signalstatus(self) -> Optional[int]:
        if self.alive:
            return None
        if self._spawn is not None:
            return self._spawn.signalstatus
        if self._popen is not None and self._popen.returncode < 0:
            return -self._popen.returncode
        return None

    @property
    def log_path(self) -> Optional[Path]:
        return self.log.path if self.log else None

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """Wait for QEMU to end (at most `timeout` s; None = forever).
        Returns exitstatus, None if still running or killed by a signal."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.alive:
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
        return self.exitstatus

    # ------------------------------------------------------------ control
    def inject_nmi(self) -> None:
        """Deliver an NMI to the guest through QMP."""
        if self.qmp is None:
            raise QmpError("QMP not connected")
        self.qmp.inject_nmi()

    def threads(self) -> dict[int, str]:
        """QEMU's threads: tid -> name (`CPU 0/TCG` is the vCPU)."""
        pid = self.pid
        result: dict[int, str] = {}
        if pid is None:
            return result
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            return result
        for tid in tids:
            try:
                result[int(tid)] = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            except OSError:
                pass   # the thread ended meanwhile
        return result

    def pin(self, vcpu_cpu: Optional[int], main_cpu: Optional[int]) -> None:
        """Pin the vCPU threads to vcpu_cpu and every other thread (main
        loop, I/O) to main_cpu; None leaves that group alone. Threads QEMU
        creates later inherit their creator's affinity."""
        for tid, name in self.threads().items():
            cpu = vcpu_cpu if name.startswith("CPU ") else main_cpu
            if cpu is not None:
                try:
                    os.sched_setaffinity(tid, {cpu})
                except ProcessLookupError:
                    pass

    def _signal(self, sig: int) -> None:
        pid = self.pid
        if pid is not None and self.alive:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 5.0) -> Optional[int]:
        """End QEMU: QMP quit, then SIGTERM, then SIGKILL to its PID, each
        followed by a wait of at most `timeout` s. Then release everything
        (console, QMP, temporary ESP). Returns exitstatus. Safe to repeat."""
        if self.stopped_at is not None:
            return self.exitstatus
        if self.alive and self.qmp is not None:
            self.qmp.quit()
            self.wait(timeout)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.alive:
                self._signal(sig)
                self.wait(timeout)
        if self.alive:
            print(f"harness: QEMU pid {self.pid} survived SIGKILL", file=sys.stderr)
        else:
            self._release()
        return self.exitstatus

    def _release(self) -> None:
        if self._spawn is not None:
            try:   # read what is left in the pty into the log
                self._spawn.expect(pexpect.EOF, timeout=1.0)
            except (pexpect.TIMEOUT, OSError):
                pass
            self._spawn.close()   # QEMU has ended: closes the pty only
        if self._tee is not None:
            self._tee.join(timeout=2.0)
        if self.qmp is not None:
            self.qmp.close()
        if self.log is not None:
            self.log.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        self.stopped_at = time.monotonic()
        _live.discard(self)

    def __enter__(self) -> "Qemu":
        if self.started_at is None and self.stopped_at is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Qemu pid={self.pid} {self.config.label} log={self.log_path}>"
