"""Typed errors of the napilab harness.

Every error that comes from watching the guest carries the tail of its
console log (and the path of the whole log), so a failing test shows what
the kernel said without anyone having to look for a file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

# How many console lines an error's message quotes. The pytest hook in
# tests/scenarios/conftest.py attaches a longer tail to the failure report.
MESSAGE_TAIL_LINES = 30


class HarnessError(Exception):
    """Something the harness itself cannot do (set-up, missing build, QMP)."""


class BuildMissing(HarnessError):
    """build/esp/ lacks the loader or the kernel: run `make` first."""


class NetSetupError(HarnessError):
    """The network namespace or tap could not be created (root? /dev/net/tun?)."""


class QmpError(HarnessError):
    """QEMU's QMP socket answered with an error or not at all."""


class GuestError(HarnessError):
    """A wait on the guest ended without what it waited for.

    log_tail holds the last lines of the console (ANSI escapes and carriage
    returns removed); log_path the file with all of it.
    """

    def __init__(self, message: str, log_tail: str = "",
                 log_path: Optional[Path] = None):
        super().__init__(message)
        self.message = message
        self.log_tail = log_tail
        self.log_path = log_path

    def __str__(self) -> str:
        lines = self.log_tail.splitlines()[-MESSAGE_TAIL_LINES:]
        where = f" (whole log: {self.log_path})" if self.log_path else ""
        if not lines:
            return self.message + where
        return (f"{self.message}\n--- guest console, last {len(lines)} lines"
                f"{where} ---\n" + "\n".join(lines))


class Timeout(GuestError):
    """The guest did not print what was awaited within the time allowed."""


class BootFail(GuestError):
    """The guest did not reach its shell prompt."""


class KernelPanic(GuestError):
    """The kernel printed KERNEL PANIC (or exited with the panic status)."""


class GuestDied(GuestError):
    """QEMU ended while we were waiting (triple fault, poweroff, crash)."""

    def __init__(self, message: str, log_tail: str = "",
                 log_path: Optional[Path] = None,
                 exitstatus: Optional[int] = None):
        super().__init__(message, log_tail, log_path)
        self.exitstatus = exitstatus


class CommandError(GuestError):
    """A shell command answered with a line starting `error:`."""


class ProtocolError(GuestError):
    """The shell answered, but not in the documented form (e.g. bad JSON)."""
