"""A kernel under test: QEMU + (optionally) its own network namespace,
booted to the shell prompt, re-booted on request if it died.

    with Guest(QemuConfig(nic="e1000e", cmdline="irqmode=msi"), net=True) as g:
        g.console.run("info")
        g.stats()["uptime_ms"]
        g.netns.tap_stats()

This is what the pytest fixtures hand to scenarios.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Optional

from .console import BOOT_TIMEOUT, DEFAULT_TIMEOUT, Console
from .errors import HarnessError
from .netns import NetNs
from .qemu import Qemu, QemuConfig


def default_boot_timeout() -> float:
    return float(os.environ.get("NAPILAB_BOOT_TIMEOUT", BOOT_TIMEOUT))


class Guest:
    """One kernel under test.

    config   what to boot (copied; its netns/tap are filled in if net)
    net      give the NIC a tap in a private namespace made for this guest
             (kept across re-boots, removed by close())
    netns    or use this existing NetNs (not removed by close())
    """

    def __init__(self, config: Optional[QemuConfig] = None, net: bool = False,
                 netns: Optional[NetNs] = None,
                 boot_timeout: Optional[float] = None,
                 txqueuelen: Optional[int] = None):
        self.config = dataclasses.replace(config or QemuConfig())
        self.net = net or netns is not None
        self.netns = netns
        self._own_netns = False
        self._txqueuelen = txqueuelen
        self.boot_timeout = boot_timeout or default_boot_timeout()
        self.qemu: Optional[Qemu] = None
        self.boots = 0

    # ------------------------------------------------------------ life
    def boot(self, wait: bool = True) -> Qemu:
        """Stop the current QEMU (if any), start a new one, and (if wait)
        wait for the prompt. Raises BootFail / KernelPanic with the console
        log. wait=False is for watching a boot that is meant to fail."""
        if self.qemu is not None:
            self.qemu.stop()
            self.qemu = None
        if self.net and self.netns is None:
            self.netns = NetNs(txqueuelen=self._txqueuelen).create()
            self._own_netns = True
        if self.netns is not None:
            self.config.netns, self.config.tap = self.netns.name, self.netns.tap
            if self.config.nic == "none":
                raise HarnessError("net=True needs a NIC (nic='none' given)")
        qemu = Qemu(self.config)
        self.qemu = qemu
        qemu.start()
        self.boots += 1
        assert qemu.console is not None
        if wait and not self.config.gdb:
            try:
                qemu.console.wait_ready(self.boot_timeout)
            except BaseException:
                qemu.stop()   # a hung guest is ended; its log stays
                raise
        return qemu

    def ensure(self) -> Qemu:
        """Boot unless a QEMU of ours is running. Call this at the start of
        a test, not in the middle: a guest that died during a test must
        fail that test, not be replaced silently."""
        if self.qemu is None or not self.qemu.alive:
            return self.boot()
        return self.qemu

    @property
    def alive(self) -> bool:
        return self.qemu is not None and self.qemu.alive

    @property
    def console(self) -> Console:
        """The running guest's console; boots on first use only."""
        if self.qemu is None:
            self.boot()
        assert self.qemu is not None and self.qemu.console is not None
        return self.qemu.console

    def close(self) -> None:
        """Stop QEMU and remove the namespace made for it. Safe to repeat."""
        try:
            if self.qemu is not None:
                self.qemu.stop()
        finally:
            if self._own_netns and self.netns is not None:
                self.netns.destroy()
                self.netns = None
                self._own_netns = False

    def __enter__(self) -> "Guest":
        self.ensure()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ shortcuts
    def run(self, cmd: str, timeout: float = DEFAULT_TIMEOUT, check: bool = True) -> str:
        return self.console.run(cmd, timeout, check)

    def stats(self, timeout: float = DEFAULT_TIMEOUT) -> dict:
        return self.console.stats(timeout)

    def poweroff(self, timeout: float = 30.0) -> int:
        return self.console.poweroff(timeout)

    def inject_nmi(self) -> None:
        if self.qemu is None:
            raise HarnessError("guest not booted")
        self.qemu.inject_nmi()

    def __repr__(self) -> str:
        return f"<Guest {self.qemu!r} netns={self.netns!r}>"
