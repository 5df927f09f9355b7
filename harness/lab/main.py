"""Run a parsed lab command; turn the host's refusals into clear messages.

Exit status: 0 everything reconciled; 1 a run did not reconcile, an
experiment's expectation failed, or the lab could not run here (not root,
no /dev/net/tun, no build); 2 bad arguments (cli.parse); 130 interrupted.
Ctrl-C and SIGTERM unwind through the Lab's cleanup: QEMU and the flood
generator are ended by PID, the namespace and tap removed.
"""
from __future__ import annotations

import signal
import sys

from ..errors import BuildMissing, HarnessError, NetSetupError


def _on_term(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def run(args) -> int:
    signal.signal(signal.SIGTERM, _on_term)
    try:
        if args.command == "flood":
            from .sweep import cmd_flood
            return cmd_flood(args)
        if args.command == "bench":
            from .sweep import cmd_bench
            return cmd_bench(args)
        if args.command == "exp":
            from .experiments import cmd_exp
            return cmd_exp(args)
        if args.command == "report":
            from ..report import cmd_report
            return cmd_report(args)
        if args.command == "replot":
            from .replot import cmd_replot
            return cmd_replot(args)
        raise AssertionError(args.command)
    except NetSetupError as e:
        print(f"lab: cannot run here: {e}", file=sys.stderr)
        return 1
    except BuildMissing as e:
        print(f"lab: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nlab: interrupted; QEMU, the generator and the namespace were "
              "cleaned up", file=sys.stderr)
        return 130
    except HarnessError as e:
        print(f"lab: ERROR: {e}", file=sys.stderr)
        return 1
