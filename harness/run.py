"""Boot napilab interactively: `make run` and `make debug` call this.

    /usr/bin/python3 -m harness.run [--nic e1000|e1000e|none]
        [--mode level|edge|msi|msix] [--cmdline '...'] [--gdb] [--net]

The serial console is this terminal (Ctrl-C ends QEMU). The console is
also logged under build/logs/. With --net QEMU runs in a fresh network
namespace with a tap (root needed), removed afterwards. With --gdb QEMU
starts halted in the background (its output still shown here) and gdb
takes the terminal, attached to QEMU's stub with the kernel's symbols.

Exit status: 0 when the kernel powered off (or QEMU was quit or
interrupted by you), otherwise QEMU's status (33 = kernel panic).
"""
from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import sys
import termios
from typing import Optional

from .console import EXIT_POWEROFF, describe_exit
from .errors import HarnessError
from .netns import NetNs
from .paths import ESP, GDB_SCRIPT, KERNEL_ELF, REPO
from .qemu import MODE_KEY, MODES, NIC_MODELS, Qemu, QemuConfig, with_cmdline_key


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python3 -m harness.run",
                                description="Boot napilab in QEMU on this terminal.")
    p.add_argument("--nic", choices=NIC_MODELS, default="e1000",
                   help="NIC model (default e1000)")
    p.add_argument("--mode", choices=MODES,
                   help=f"interrupt mode, passed to the kernel as {MODE_KEY}=MODE")
    p.add_argument("--cmdline", help="kernel command line for this boot "
                   "(default: build/esp/cmdline.txt as it is)")
    p.add_argument("--gdb", action="store_true",
                   help="start halted (-s -S) and attach gdb")
    p.add_argument("--net", action="store_true",
                   help="put the NIC on a tap in a private network namespace (root)")
    p.add_argument("--txqueuelen", type=int, help="with --net: the tap's txqueuelen")
    return p.parse_args(argv)


def effective_cmdline(args: argparse.Namespace) -> Optional[str]:
    """The cmdline to give this boot, or None to leave cmdline.txt alone."""
    if args.cmdline is None and args.mode is None:
        return None
    if args.cmdline is not None:
        line = args.cmdline
    else:
        f = ESP / "cmdline.txt"
        line = f.read_text().strip() if f.is_file() else ""
    if args.mode:
        line = with_cmdline_key(line, MODE_KEY, args.mode)
    return line


@contextlib.contextmanager
def terminal_restored():
    """QEMU puts the terminal in raw mode; if it is killed it cannot undo
    that, so we put back what we saw."""
    saved = None
    if sys.stdin.isatty():
        saved = termios.tcgetattr(sys.stdin.fileno())
    try:
        yield
    finally:
        if saved is not None:
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


@contextlib.contextmanager
def sigint_noted():
    """Ctrl-C belongs to QEMU (or gdb), not to us: we must live to clean up.
    Yields a list that gets an entry for each Ctrl-C seen."""
    seen: list[int] = []
    old = signal.signal(signal.SIGINT, lambda signum, _frame: seen.append(signum))
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, old)


def run_gdb(ns: Optional[NetNs]) -> None:
    argv = ["gdb", str(KERNEL_ELF), "-ex", "target remote :1234"]
    if GDB_SCRIPT.is_file():
        argv += ["-x", str(GDB_SCRIPT)]
    if ns is not None:   # the stub listens on the namespace's loopback
        argv = ns.exec_argv(argv)
    subprocess.run(argv, cwd=REPO)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    # SIGTERM (e.g. from a supervisor) unwinds like an exception, so the
    # finally blocks below still stop QEMU and remove the namespace.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cfg = QemuConfig(nic=args.nic, cmdline=effective_cmdline(args),
                     gdb=args.gdb, label="gdb" if args.gdb else "run")
    ns: Optional[NetNs] = None
    qemu: Optional[Qemu] = None
    try:
        if args.net:
            if args.nic == "none":
                raise HarnessError("--net needs a NIC (not --nic none)")
            ns = NetNs(txqueuelen=args.txqueuelen).create()
            cfg.netns, cfg.tap = ns.name, ns.tap
            print(f"harness: namespace {ns.name}, {ns.tap} at {ns.host_addr}, "
                  f"guest {ns.guest_ip}", file=sys.stderr)
        qemu = Qemu(cfg)
        if args.gdb:
            qemu.start(console="background")
            print(f"harness: QEMU pid {qemu.pid} halted, gdb stub on :1234; "
                  f"serial output shown here and in {qemu.log_path}", file=sys.stderr)
            with sigint_noted():
                run_gdb(ns)
            return 0   # QEMU is stopped below
        with terminal_restored(), sigint_noted() as interrupted:
            qemu.start(console="terminal")
            qemu.wait()
        qemu.stop()
        status, sig = qemu.exitstatus, qemu.signalstatus
        why = "ended by Ctrl-C" if interrupted else describe_exit(status, sig)
        print(f"\nharness: {why}; log {qemu.log_path}", file=sys.stderr)
        if status == EXIT_POWEROFF or interrupted:
            return 0
        return status if status else 1
    except HarnessError as e:
        print(f"harness: {e}", file=sys.stderr)
        return 1
    finally:
        if qemu is not None:
            qemu.stop()
        if ns is not None:
            ns.destroy()


if __name__ == "__main__":
    sys.exit(main())
