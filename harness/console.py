"""The kernel's serial shell, seen from the host.

The protocol (kernel side in kernel/ shell code):
  - boot messages, then a line `napilab: ready`, then the prompt `napilab> `
    with no newline after it;
  - a command is one line of words; the kernel echoes what it receives, so
    the reply is: the echoed command, a newline, the output lines, the next
    prompt at the start of a line;
  - an unknown command or bad argument answers with a line `error: ...`;
  - `stats` prints exactly one line of JSON;
  - a panic prints a line containing `KERNEL PANIC`, then the kernel ends
    QEMU through isa-debug-exit with status 33.

Every wait here watches for a panic and for QEMU ending, and either returns
what it waited for or raises one of the typed errors of harness.errors,
carrying the tail of the console log.
"""
from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Iterator, Optional, Pattern, Union

import pexpect

from .errors import (BootFail, CommandError, GuestDied, GuestError,
                     KernelPanic, ProtocolError, Timeout)

PROMPT = "napilab> "
READY = "napilab: ready"
PANIC_RE = re.compile(r"KERNEL PANIC[^\r\n]*")

# Exit statuses of QEMU: isa-debug-exit turns a write of X to port 0xf4
# into exit status (X << 1) | 1, so the kernel's own exits are odd.
EXIT_POWEROFF = 1   # kernel wrote 0 (poweroff)
EXIT_PANIC = 33     # kernel wrote 0x10 (panic)

DEFAULT_TIMEOUT = 10.0
BOOT_TIMEOUT = 90.0   # OVMF alone takes ~5 s under TCG; 2 busy cores, slower

_ANSI_RE = re.compile(r"\x1b(\[[0-9;=?]*[A-Za-z]|[()][A-Z0-9]|[A-Za-z])")

PatternLike = Union[str, Pattern[str]]


def describe_exit(status: Optional[int], signal: Optional[int] = None) -> str:
    """Say in words what a QEMU exit status means under our conventions."""
    if signal is not None:
        return f"QEMU killed by signal {signal}"
    if status is None:
        return "QEMU still running"
    if status == EXIT_POWEROFF:
        return "status 1: kernel powered off (isa-debug-exit 0)"
    if status == EXIT_PANIC:
        return "status 33: kernel panic (isa-debug-exit 0x10)"
    if status == 0:
        return ("status 0: QEMU ended by itself (triple fault with -no-reboot,"
                " QMP quit, or a QEMU error)")
    if status & 1:
        return f"status {status}: isa-debug-exit {status >> 1:#x}"
    return f"status {status}: QEMU error"


def clean(text: str) -> str:
    """Console text without ANSI escapes (OVMF draws with them) or CRs."""
    return _ANSI_RE.sub("", text).replace("\r", "")


class ConsoleLog:
    """Everything the guest printed: appended to a file and kept in memory.

    Used as pexpect's logfile_read and written by the terminal tee thread,
    hence the lock. Memory holds at most `keep` characters (the newest).
    """

    def __init__(self, path: Path, keep: int = 8 << 20):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = open(path, "w", encoding="utf-8", errors="replace")
        self._keep = keep
        self._text = ""
        self._lock = threading.Lock()

    def write(self, data: str) -> None:
        with self._lock:
            self._text += data
            if len(self._text) > 2 * self._keep:
                self._text = self._text[-self._keep:]
            if not self._file.closed:
                self._file.write(data)

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()

    def text(self) -> str:
        """All kept output, cleaned of escapes and carriage returns."""
        with self._lock:
            return clean(self._text)

    def tail(self, lines: int = 200) -> str:
        return "\n".join(self.text().splitlines()[-lines:])


class Console:
    """Talks to the kernel's shell through a pexpect spawn of QEMU.

    The spawn must have been created with encoding set (str, not bytes) and
    logfile_read = a ConsoleLog. Nothing here knows about QEMU: a fake guest
    speaking the same protocol on stdio works too (the harness self-test).
    """

    newline = "\r"   # what Enter sends on a raw serial terminal

    def __init__(self, spawn: pexpect.spawn, log: ConsoleLog):
        self._spawn = spawn
        self.log = log
        self._watch_panic = True
        self.boot_text: Optional[str] = None   # set by wait_ready()
        self.before = ""   # console text before the last expect() match
        self._prompt_re = re.compile(r"\n" + re.escape(PROMPT))

    # ------------------------------------------------------------ state
    @property
    def alive(self) -> bool:
        return self._spawn.isalive()

    def exitstatus(self, wait: float = 5.0) -> Optional[int]:
        """QEMU's exit status once it has ended (None if still running or
        killed by a signal). Waits up to `wait` s for it to be reaped."""
        deadline = time.monotonic() + wait
        while self._spawn.isalive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._spawn.isalive():
            return None
        return self._spawn.exitstatus

    def _error(self, cls: type, message: str, **kw) -> GuestError:
        self.log.flush()
        return cls(message, self.log.tail(200), self.log.path, **kw)

    @contextlib.contextmanager
    def panic_expected(self) -> Iterator[None]:
        """Within this block a KERNEL PANIC line is not an error, so that a
        test which provokes one can expect() it and what follows."""
        old, self._watch_panic = self._watch_panic, False
        try:
            yield
        finally:
            self._watch_panic = old

    # ------------------------------------------------------------ waiting
    def expect(self, pattern: PatternLike,
               timeout: float = DEFAULT_TIMEOUT) -> re.Match:
        """Wait for `pattern` (a regex) in the console output.

        Returns the match; the text before it is in `self.before`. Raises
        Timeout, KernelPanic (a panic line came first) or GuestDied (QEMU
        ended first). Output already consumed by an earlier wait is not
        searched again.
        """
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        watched = [regex, pexpect.EOF, pexpect.TIMEOUT]
        if self._watch_panic:
            watched.append(PANIC_RE)
        try:
            i = self._spawn.expect(watched, timeout=timeout)
        except OSError as e:   # pty already closed
            raise self._error(GuestDied, f"console unreadable: {e}",
                              exitstatus=self.exitstatus(0))
        if i == 0:
            self.before = self._spawn.before
            return self._spawn.match
        if i == 3:
            line = self._spawn.match.group(0)
            self._drain(3.0)   # the panic report follows; QEMU then exits
            status = self.exitstatus(1.0)
            raise self._error(KernelPanic, f"{line.strip()} (while waiting "
                              f"for /{regex.pattern}/; {describe_exit(status)})")
        if i == 1:
            status = self.exitstatus()
            sig = self._spawn.signalstatus
            cls = KernelPanic if status == EXIT_PANIC else GuestDied
            kw = {} if cls is KernelPanic else {"exitstatus": status}
            raise self._error(cls, f"QEMU ended ({describe_exit(status, sig)})"
                              f" while waiting for /{regex.pattern}/", **kw)
        raise self._error(Timeout, f"no /{regex.pattern}/ on the console "
                          f"within {timeout:g} s")

    def _drain(self, timeout: float) -> None:
        """Read (into the log) until QEMU ends or `timeout` passes."""
        try:
            self._spawn.expect(pexpect.EOF, timeout=timeout)
        except (pexpect.TIMEOUT, OSError):
            pass

    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass while reading the console into the log (so
        QEMU never blocks on a full pty), raising KernelPanic or GuestDied
        if the guest panics or ends meanwhile. Output read here stays
        available to the next expect()."""
        watched = [pexpect.EOF, pexpect.TIMEOUT]
        if self._watch_panic:
            watched.append(PANIC_RE)
        try:
            i = self._spawn.expect(watched, timeout=seconds)
        except OSError:
            i = 0
        if i == 1:
            # TIMEOUT leaves everything read in the buffer; expect() of a
            # later pattern still sees it.
            return
        if i == 2:
            line = self._spawn.match.group(0)
            self._drain(3.0)
            raise self._error(KernelPanic, f"{line.strip()} (during sleep)")
        status = self.exitstatus()
        raise self._error(GuestDied, "QEMU ended during sleep: " + describe_exit(
            status, self._spawn.signalstatus), exitstatus=status)

    def wait_exit(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        """Wait for QEMU to end and return its exit status.

        A panic on the way raises KernelPanic unless inside panic_expected().
        Raises Timeout if QEMU is still running after `timeout` s, GuestDied
        if it was killed by a signal.
        """
        watched = [pexpect.EOF, pexpect.TIMEOUT]
        if self._watch_panic:
            watched.append(PANIC_RE)
        try:
            i = self._spawn.expect(watched, timeout=timeout)
        except OSError:
            i = 0
        if i == 2:
            line = self._spawn.match.group(0)
            self._drain(3.0)
            raise self._error(KernelPanic, line.strip())
        if i == 1:
            raise self._error(Timeout, f"QEMU still running after {timeout:g} s")
        status = self.exitstatus()
        if status is None:
            raise self._error(GuestDied, "QEMU ended: " + describe_exit(
                status, self._spawn.signalstatus), exitstatus=None)
        return status

    def wait_ready(self, timeout: float = BOOT_TIMEOUT) -> str:
        """Wait for `napilab: ready` and the first prompt.

        Returns (and keeps in self.boot_text) the console text up to the
        ready line, cleaned of escapes. A timeout or QEMU ending become
        BootFail; a panic stays KernelPanic.
        """
        deadline = time.monotonic() + timeout
        try:
            self.expect(re.escape(READY), timeout)
            boot = self.before
            self.expect(self._prompt_re, max(deadline - time.monotonic(), 1))
        except (Timeout, GuestDied) as e:
            raise self._error(BootFail, f"kernel did not reach its prompt: "
                              f"{e.message}") from e
        self.boot_text = clean(boot)
        return self.boot_text

    # ------------------------------------------------------------ commands
    def send_line(self, line: str) -> None:
        """Type one line (no waiting). Use run() to get its output."""
        if "\n" in line or "\r" in line:
            raise ValueError("one line at a time, without newlines")
        self._spawn.send(line + self.newline)

    def run(self, cmd: str, timeout: float = DEFAULT_TIMEOUT,
            check: bool = True) -> str:
        """Run one shell command and return its output.

        The output is the text between the kernel's echo of the command and
        the next prompt, with carriage returns removed and without the echo
        or a trailing newline. With check (the default) a line starting
        with `error:` raises CommandError; pass check=False to look at it.
        """
        deadline = time.monotonic() + timeout
        self.send_line(cmd)
        # The echo ends with the newline the kernel echoes for Enter; that
        # newline is left unread, as it is also the one before the prompt
        # when the command prints nothing.
        self.expect(re.escape(cmd) + r"(?=\r*\n)", timeout)
        self.expect(self._prompt_re, max(deadline - time.monotonic(), 0.1))
        out = self.before.replace("\r", "")
        if out.startswith("\n"):
            out = out[1:]
        if out.endswith("\n"):
            out = out[:-1]
        if check:
            for line in out.splitlines():
                if line.startswith("error:"):
                    raise self._error(CommandError, f"`{cmd}` answered: {line}")
        return out

    def stats(self, timeout: float = DEFAULT_TIMEOUT) -> dict:
        """Run `stats` and return its one line of JSON, decoded."""
        out = self.run("stats", timeout)
        lines = [l for l in out.splitlines() if l.strip()]
        if len(lines) != 1:
            raise self._error(ProtocolError, f"`stats` printed {len(lines)} "
                              f"lines, expected one line of JSON: {out!r}")
        try:
            value = json.loads(lines[0])
        except json.JSONDecodeError as e:
            raise self._error(ProtocolError,
                              f"`stats` is not JSON ({e}): {lines[0]!r}") from e
        if not isinstance(value, dict):
            raise self._error(ProtocolError, f"`stats` is not an object: {lines[0]!r}")
        return value

    def poweroff(self, timeout: float = 30.0) -> int:
        """Type `poweroff` and return QEMU's exit status (1 on success)."""
        self.send_line("poweroff")
        return self.wait_exit(timeout)
