"""napilab host harness: boot the kernel in QEMU and talk to its shell.

    harness.qemu     QemuConfig, qemu_argv(), Qemu (process, QMP, log)
    harness.console  Console (expect/run/stats/poweroff over the serial port)
    harness.netns    NetNs (private namespace + tap, counters)
    harness.guest    Guest (a booted kernel, what the pytest fixtures give)
    harness.run      `python3 -m harness.run`: interactive boot / gdb
    harness.errors   HarnessError and the typed guest errors

Run with Debian's /usr/bin/python3 (python3-pexpect).
"""
from .console import (EXIT_PANIC, EXIT_POWEROFF, PROMPT, READY, Console,
                      describe_exit)
from .errors import (BootFail, BuildMissing, CommandError, GuestDied,
                     GuestError, HarnessError, KernelPanic, NetSetupError,
                     ProtocolError, QmpError, Timeout)
from .guest import Guest
from .netns import NetNs
from .paths import check_build
from .qemu import MODE_KEY, MODES, Qemu, QemuConfig, qemu_argv, with_cmdline_key

__all__ = [
    "Console", "describe_exit", "EXIT_PANIC", "EXIT_POWEROFF", "PROMPT", "READY",
    "BootFail", "BuildMissing", "CommandError", "GuestDied", "GuestError",
    "HarnessError", "KernelPanic", "NetSetupError", "ProtocolError", "QmpError",
    "Timeout", "Guest", "NetNs", "check_build", "MODE_KEY", "MODES", "Qemu",
    "QemuConfig", "qemu_argv", "with_cmdline_key",
]
