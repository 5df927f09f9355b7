"""The lab's command line: `python3 -m harness.lab COMMAND [options]`.

    flood    sweep budgets x offered rates (make flood)
    bench    maximum loss-free rate, peak rate, interrupts per packet at
             saturation, per interrupt mode (make bench)
    exp      one experiment: irqoff | edge | livelock | budget | all
    report   run the experiments (scaled to minutes) and write
             build/report/index.html (make report)
    replot   redraw the table and plots of a saved flood JSON (no boot)

Every command takes the Makefile's LAB_ARGS (--budgets, --rates, --mode,
--nic, --duration, --repeats) so `make flood|bench|report VAR=...` works
the same way for each. Bad arguments print the usage and exit 2 (argparse's
convention, also used by build/flood).

Pure: parse() only parses and checks; harness.lab.__main__ runs things.
"""
from __future__ import annotations

import argparse
from typing import Optional, Sequence

NICS = ("e1000", "e1000e")
MODES = ("level", "edge", "msi", "msix")
# Interrupt modes each NIC model can do (QEMU-FACTS.md: the 82540EM has no
# MSI or MSI-X capability; the 82574L has both).
NIC_MODES = {"e1000": ("level", "edge"), "e1000e": MODES}
EXPERIMENTS = ("irqoff", "edge", "livelock", "budget")

DEFAULT_BUDGETS = (1, 4, 16, 64, 300)
# Around the knee: QEMU's model alone is nearly loss-free up to ~300k
# offered on this kind of host and peaks near 450k (QEMU-FACTS.md); a
# Linux guest's knee is ~80k. "max" is the unpaced point, which mostly
# measures host contention and is labelled so.
DEFAULT_RATES = (50_000, 100_000, 150_000, 200_000, 300_000, 400_000, 0)
DEFAULT_DURATION = 3.0
MAX_RATE = 5_000_000
MAX_BUDGET = 1_000_000          # the kernel's own bound (net/netctl.c)
MAX_DURATION = 120.0            # build/flood's own bound (harness.flood)


def parse_int_list(text: str, lo: int, hi: int, what: str) -> list[int]:
    """"1,4,16" -> [1, 4, 16]; each in [lo, hi]; no duplicates."""
    out: list[int] = []
    for word in text.split(","):
        word = word.strip().replace("_", "")
        if not word:
            raise argparse.ArgumentTypeError(f"empty item in {what} {text!r}")
        try:
            n = int(word)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{what}: {word!r} is not a whole number") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"{what}: {n} outside {lo}..{hi}")
        if n in out:
            raise argparse.ArgumentTypeError(f"{what}: {n} given twice")
        out.append(n)
    return out


def parse_budgets(text: str) -> list[int]:
    return parse_int_list(text, 1, MAX_BUDGET, "budgets")


def parse_rates(text: str) -> list[int]:
    """"50000,200k,max" -> [50000, 200000, 0] (0 = unpaced, "max")."""
    out: list[int] = []
    for word in text.split(","):
        w = word.strip().lower().replace("_", "")
        if w == "max":
            n = 0
        else:
            mult = 1
            if w.endswith("k"):
                w, mult = w[:-1], 1000
            elif w.endswith("m"):
                w, mult = w[:-1], 1_000_000
            try:
                n = int(float(w) * mult)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"rates: {word!r} is not a rate (pps, e.g. 50000, 200k, max)"
                ) from None
            if not 1 <= n <= MAX_RATE:
                raise argparse.ArgumentTypeError(f"rates: {n} outside 1..{MAX_RATE}"
                                                 " (use max for unpaced)")
        if n in out:
            raise argparse.ArgumentTypeError(f"rates: {word.strip()} given twice")
        out.append(n)
    if not out:
        raise argparse.ArgumentTypeError("rates: empty")
    return out


def _duration(text: str) -> float:
    try:
        d = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"duration: {text!r} is not seconds") from None
    if not 0.2 <= d <= MAX_DURATION:
        raise argparse.ArgumentTypeError(f"duration: {d:g} outside 0.2..{MAX_DURATION:g} s")
    return d


def _repeats(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"repeats: {text!r} is not a number") from None
    if not 1 <= n <= 50:
        raise argparse.ArgumentTypeError(f"repeats: {n} outside 1..50")
    return n


def _percent(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0 <= v <= 100:
        raise argparse.ArgumentTypeError(f"{v:g} outside 0..100")
    return v


def rate_label(pps: int) -> str:
    return "max" if pps == 0 else f"{pps}"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("lab options (LAB_ARGS of the Makefile)")
    g.add_argument("--budgets", type=parse_budgets, metavar="B,B,...",
                   help="NET_RX budgets to sweep (default "
                   + ",".join(map(str, DEFAULT_BUDGETS)) + ")")
    g.add_argument("--rates", type=parse_rates, metavar="R,R,...",
                   help="offered rates in packets/s, `max` = unpaced (default "
                   + ",".join(map(rate_label, DEFAULT_RATES)) + ")")
    g.add_argument("--mode", choices=MODES,
                   help="interrupt mode (default level; bench: every mode "
                   "the NIC can do)")
    g.add_argument("--nic", choices=NICS,
                   help="NIC model (default e1000; bench: both)")
    g.add_argument("--duration", type=_duration, metavar="S",
                   help=f"seconds per run (default {DEFAULT_DURATION:g})")
    g.add_argument("--repeats", type=_repeats, metavar="N",
                   help="runs per point; median and min-max reported (default 1)")
    g.add_argument("--weight", type=lambda t: parse_int_list(t, 1, 4096, "weight")[0],
                   metavar="W", help="NAPI weight (default: the kernel's, 64)")
    g.add_argument("--size", type=lambda t: parse_int_list(t, 64, 1518, "size")[0],
                   default=64, metavar="BYTES",
                   help="frame size on the wire incl. FCS (default 64)")
    g.add_argument("--steal-max", type=_percent, default=10.0, metavar="PCT",
                   help="retry a run once whose host CPU steal exceeds this "
                   "(default 10)")
    g.add_argument("--napi", choices=("on", "off"), default="on",
                   help="NAPI on, or the no-NAPI comparison mode (default on)")
    g.add_argument("--out", metavar="DIR",
                   help="results directory (default build/results)")
    g.add_argument("--no-progress", action="store_true",
                   help="no progress bar (also when stderr is not a terminal)")

    p = argparse.ArgumentParser(
        prog="python3 -m harness.lab",
        description="napilab flood lab: what happens to every packet the host sends.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser("flood", parents=[common], help="sweep budgets x rates (make flood)")
    sub.add_parser("bench", parents=[common],
                   help="max loss-free rate, peak rate, irqs/packet per mode (make bench)")
    e = sub.add_parser("exp", parents=[common], help="run one experiment")
    e.add_argument("name", choices=EXPERIMENTS + ("all",))
    e.add_argument("--scale", choices=("test", "full"), default="full",
                   help="test: seconds (pytest); full: the report's size")
    sub.add_parser("report", parents=[common],
                   help="run the experiments, write build/report/index.html")
    r = sub.add_parser("replot", parents=[common],
                       help="table and plots again from a saved flood JSON")
    r.add_argument("json", help="build/results/flood-*.json")
    return p


def parse(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse and check the arguments; exits 2 with the usage on error."""
    p = build_parser()
    a = p.parse_args(argv)
    if a.mode and a.nic and a.mode not in NIC_MODES[a.nic]:
        p.error(f"--mode {a.mode} needs an e1000e (the {a.nic} has INTx only); "
                f"add --nic e1000e")
    if a.mode in ("msi", "msix") and not a.nic:
        a.nic = "e1000e"   # the only model that can do it
    if a.command != "bench":
        a.nic = a.nic or "e1000"
        a.mode = a.mode or "level"
    a.budgets_given = a.budgets is not None
    a.duration_given = a.duration is not None
    a.rates_given = a.rates is not None
    a.budgets = a.budgets or list(DEFAULT_BUDGETS)
    a.rates = a.rates or list(DEFAULT_RATES)
    a.duration = a.duration or DEFAULT_DURATION
    a.repeats = a.repeats or 1
    return a
