"""The `flood` and `bench` commands.

flood: one boot; for each budget (set from the shell between runs) and each
offered rate, `repeats` runs; every run's accounting line printed as it
finishes, then the table, the files and the plots. Exit status 1 if any
run did not reconcile (or failed), so `make flood` fails loudly.

bench: per NIC model and interrupt mode, the maximum loss-free receive
rate (paced rates stepped up by half until the loss exceeds 0.1 %, then
bisected), the peak delivered rate under overload (paced rates above the
knee), and interrupts per 1000 packets at saturation. Saved as
build/results/bench.json; compared with the Linux 6.1 guest's bar.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from .. import accounting as acc
from .. import plots
from ..errors import GuestError
from ..flood import FloodError
from . import results, table
from .cli import NIC_MODES, NICS
from .core import Lab

LOSS_FREE_PCT = 0.1
# QEMU-FACTS.md: a stock Linux 6.1 guest on this kind of host.
LINUX_BAR = {"loss_free_pps": 80_000, "peak_pps": 115_000}
TARGET_FACTOR = 3.0


def progress(total: int, desc: str, disable: bool):
    """A tqdm bar on stderr (python3-tqdm); a no-op object without a tty."""
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="run", file=sys.stderr,
                disable=disable or not sys.stderr.isatty(), dynamic_ncols=True)


def failed_record(lab: Lab, rate: int, duration: float, repeat: int,
                  error: BaseException, budget: int = 0) -> acc.RunRecord:
    """A row for a run that could not be measured (guest died, generator
    failed): all counts 0, the error in problems, so it shows as ERROR."""
    return acc.RunRecord(
        mode=lab.mode, nic=lab.nic, napi=lab.napi, budget=budget, weight=0,
        offered_pps=rate, duration=duration, sent=0, delivered=0,
        dropped_guest={}, missed_nic=0, dropped_host=0, dropped_host_where="none",
        queued=0, unexplained=0, interrupts=0, polls=0, polls_full_weight=0,
        time_squeeze=0, ksoftirqd=0, steal_pct=0.0, repeat=repeat,
        problems=[f"run failed: {type(error).__name__}: "
                  f"{str(error).splitlines()[0] if str(error) else ''}"])


def measure_safely(lab: Lab, rate: int, duration: float, repeat: int,
                   settings: dict, write: Callable[[str], None]) -> acc.RunRecord:
    """lab.measure(), but a guest that dies or a generator that fails gives
    an error row and a fresh boot (settings re-applied) instead of ending
    the sweep."""
    try:
        return lab.measure(rate, duration, repeat=repeat, retry_noisy=True)
    except (GuestError, FloodError) as e:
        write(f"lab: ERROR at budget {settings.get('budget')} rate {rate}: "
              f"{str(e).splitlines()[0]}")
        rec = failed_record(lab, rate, duration, repeat, e, settings.get("budget", 0))
        try:
            lab.restart()
            lab.set_napi(**settings)
        except GuestError as e2:
            write(f"lab: re-boot failed: {str(e2).splitlines()[0]}")
            raise
        return rec


def sweep(lab: Lab, budgets: Iterable[int], rates: Iterable[int], duration: float,
          repeats: int, weight: Optional[int] = None, bar: Any = None,
          write: Callable[[str], None] = print) -> list[acc.RunRecord]:
    """budgets x rates x repeats on one booted lab."""
    records = []
    for b in budgets:
        settings = {"budget": b, "weight": weight}
        lab.set_napi(**settings)
        for rate in rates:
            for rep in range(repeats):
                rec = measure_safely(lab, rate, duration, rep, settings, write)
                records.append(rec)
                write(table.format_accounting(rec))
                if bar is not None:
                    bar.update(1)
    return records


def flood_summary(records: list[acc.RunRecord]) -> str:
    """Lines under the table: the best loss-free rate per budget, compared
    with the Linux bar."""
    pts = acc.summarize(records)
    lines = []
    for b in sorted({p.first.budget for p in pts}):
        best = acc.max_loss_free([p for p in pts if p.first.budget == b], LOSS_FREE_PCT)
        peak = max((p.median("delivered_pps") for p in pts if p.first.budget == b),
                   default=0.0)
        lf = f"{best.first.offered_pps:,} pps" if best else "none of the rates tried"
        lines.append(f"budget {b:>5}: max loss-free offered rate {lf}; "
                     f"peak delivered {peak:,.0f} pps "
                     f"(Linux 6.1 guest: {LINUX_BAR['loss_free_pps']:,} / "
                     f"{LINUX_BAR['peak_pps']:,})")
    unpaced = [p for p in pts if p.first.offered_pps == 0]
    if unpaced:
        lines.append("`max` rows are unpaced floods: they mostly measure the generator "
                     "competing with QEMU's main loop for one host core, not the guest.")
    return "\n".join(lines)


def cmd_flood(args) -> int:
    write = print
    lab = Lab(nic=args.nic, mode=args.mode, napi=args.napi, label="flood",
              size=args.size, steal_max=args.steal_max,
              cmdline={"weight": args.weight})
    total = len(args.budgets) * len(args.rates) * args.repeats
    t0 = time.time()
    print(f"lab: flood: {args.nic}, irq={args.mode}, napi={args.napi}, budgets "
          f"{args.budgets}, rates {[r or 'max' for r in args.rates]}, "
          f"{args.duration:g} s x {args.repeats} per point ({total} runs)", flush=True)
    with lab:
        bar = progress(total, "flood", args.no_progress)
        try:
            write = bar.write if not bar.disable else print
            records = sweep(lab, args.budgets, args.rates, args.duration,
                            args.repeats, args.weight, bar, write)
        finally:
            bar.close()
        meta = {"command": "flood", "nic": args.nic, "mode": args.mode,
                "napi": args.napi, "budgets": args.budgets, "rates": args.rates,
                "duration": args.duration, "repeats": args.repeats,
                "size": args.size, "started": t0, "wall_s": round(time.time() - t0, 1),
                "console_log": str(lab.guest.qemu.log_path) if lab.guest.qemu else None}
    pts = acc.summarize(records)
    print()
    print(table.format_flood_table(pts))
    print()
    print(flood_summary(records))
    out = results.write_flood(records, meta, Path(args.out) if args.out else results.RESULTS)
    print("\nwritten: " + ", ".join(str(p) for p in out.values()))
    bad = [r for r in records if not r.ok]
    if bad:
        print(f"\nlab: ERROR: {len(bad)} of {len(records)} runs did not reconcile "
              "or failed (rows marked ERROR above)", file=sys.stderr)
        return 1
    return 0


# ------------------------------------------------------------ bench

def bench_combos(nic: Optional[str], mode: Optional[str]) -> list[tuple[str, str]]:
    """(nic, mode) pairs to benchmark: the given ones, or every mode each
    model can do."""
    nics = [nic] if nic else list(NICS)
    out = []
    for n in nics:
        for m in NIC_MODES[n]:
            if mode is None or m == mode:
                out.append((n, m))
    return out


def _point(lab: Lab, rate: int, duration: float, repeats: int,
           records: list, write) -> acc.PointSummary:
    runs = []
    for rep in range(repeats):
        rec = lab.measure(rate, duration, repeat=rep, retry_noisy=True)
        write(table.format_accounting(rec))
        runs.append(rec)
        records.append(rec)
    return acc.PointSummary(acc.point_key(runs[0]), runs)


def find_loss_free(measure: Callable[[int], float], start: int = 50_000,
                   cap: int = 2_000_000, bisect_steps: int = 3,
                   threshold: float = LOSS_FREE_PCT,
                   confirm: bool = True) -> tuple[Optional[int], Optional[int]]:
    """Search over paced rates: step up by x1.5 from `start` while the loss
    (measure(rate) -> loss %) stays <= threshold, then bisect between the
    last good and the first bad rate. With confirm, a rate that lost is
    measured once more and the lower loss kept: a busy host only ever adds
    loss, so one lossy run is not yet a knee. Returns (best good rate,
    first bad rate); either may be None. Pure given `measure`."""
    raw = measure

    def measure(rate: int) -> float:   # noqa: F811 - the confirming wrapper
        loss = raw(rate)
        if confirm and loss > threshold:
            loss = min(loss, raw(rate))
        return loss

    good, bad = None, None
    rate = start
    while rate <= cap:
        if measure(rate) <= threshold:
            good = rate
            rate = int(rate * 1.5)
        else:
            bad = rate
            break
    if good is None and bad is not None:
        # even the start lost: look below it
        lo = max(1000, bad // 8)
        if measure(lo) <= threshold:
            good = lo
        else:
            return None, bad
    for _ in range(bisect_steps if bad is not None else 0):
        mid = (good + bad) // 2
        if bad - good < max(2000, good // 50):
            break
        if measure(mid) <= threshold:
            good = mid
        else:
            bad = mid
    return good, bad


def bench_one(lab: Lab, duration: float, repeats: int, write) -> dict[str, Any]:
    records: list[acc.RunRecord] = []
    points: dict[int, acc.PointSummary] = {}

    def loss(rate: int) -> float:
        p = _point(lab, rate, duration, repeats, records, write)
        points[rate] = p
        return p.median("loss_pct")

    good, bad = find_loss_free(loss)
    knee = good or bad or 50_000
    # Overload: paced rates above the knee (an unpaced flood measures the
    # host, not the guest).
    for f in (1.5, 2.0, 3.0):
        rate = int(knee * f)
        if rate not in points and rate <= 3_000_000:
            loss(rate)
    over = [p for r, p in points.items() if r > knee]
    peak = max((p.median("delivered_pps") for p in points.values()), default=0.0)
    sat = max(over, key=lambda p: p.first.offered_pps) if over else None
    return {
        "nic": lab.nic, "mode": lab.mode,
        "loss_free_pps": good, "first_lossy_pps": bad,
        "peak_delivered_pps": round(peak, 1),
        "saturation_offered_pps": sat.first.offered_pps if sat else None,
        "irqs_per_1000_pkts_at_saturation":
            round(sat.median("irqs_per_1000_pkts"), 4) if sat else None,
        "irqs_per_pkt_at_saturation":
            round(sat.median("irqs_per_1000_pkts") / 1000, 7) if sat else None,
        "vs_linux_loss_free": round(good / LINUX_BAR["loss_free_pps"], 2) if good else None,
        "vs_linux_peak": round(peak / LINUX_BAR["peak_pps"], 2),
        "meets_3x": bool(good and good >= TARGET_FACTOR * LINUX_BAR["loss_free_pps"]
                         and peak >= TARGET_FACTOR * LINUX_BAR["peak_pps"]),
        "all_reconciled": all(r.ok for r in records),
        "records": [r.as_dict() for r in records],
    }


def format_bench(rows: list[dict]) -> str:
    hdr = ("nic", "mode", "max loss-free pps", "peak delivered pps",
           "irq/1000 pkts at saturation", "x Linux (loss-free / peak)", "reconciled")
    body = []
    for r in rows:
        if "error" in r:
            body.append([r["nic"], r["mode"], "ERROR", r["error"][:60], "", "", ""])
            continue
        body.append([r["nic"], r["mode"],
                     f"{r['loss_free_pps']:,}" if r["loss_free_pps"] else "-",
                     f"{r['peak_delivered_pps']:,.0f}",
                     "-" if r["irqs_per_1000_pkts_at_saturation"] is None
                     else f"{r['irqs_per_1000_pkts_at_saturation']:.3f}",
                     f"{r['vs_linux_loss_free'] or 0:.1f} / {r['vs_linux_peak']:.1f}",
                     "yes" if r["all_reconciled"] else "NO"])
    return table.render(hdr, body, (False, False, True, True, True, True, False))


def cmd_bench(args) -> int:
    combos = bench_combos(args.nic, args.mode)
    out_dir = Path(args.out) if args.out else results.RESULTS
    rows = []
    print(f"lab: bench: {', '.join(f'{n}/{m}' for n, m in combos)}; "
          f"{args.duration:g} s per run, {args.repeats} run(s) per rate", flush=True)
    for nic, mode in combos:
        print(f"\nlab: bench {nic} irq={mode}", flush=True)
        lab = Lab(nic=nic, mode=mode, napi=args.napi, label=f"bench-{nic}-{mode}",
                  size=args.size, steal_max=args.steal_max,
                  cmdline={"weight": args.weight})
        try:
            with lab:
                if args.budgets_given:   # else the kernel's default budget
                    lab.set_napi(budget=args.budgets[-1])
                rows.append(bench_one(lab, args.duration, args.repeats, print))
        except (GuestError, FloodError) as e:
            rows.append({"nic": nic, "mode": mode, "error": str(e).splitlines()[0]})
    print()
    print(format_bench(rows))
    print(f"\nbar: Linux 6.1 guest ~{LINUX_BAR['loss_free_pps']:,} pps loss-free, "
          f"~{LINUX_BAR['peak_pps']:,} peak; target {TARGET_FACTOR:g}x that")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "bench.json"
    path.write_text(json.dumps({"linux_bar": LINUX_BAR, "results": rows,
                                "duration": args.duration, "repeats": args.repeats,
                                "time": time.strftime("%Y-%m-%d %H:%M:%S")},
                               indent=1) + "\n")
    ok_rows = [r for r in rows if "error" not in r]
    if ok_rows:
        png = plots.bars(out_dir / "bench.png",
                         [f"{r['nic']}\n{r['mode']}" for r in ok_rows],
                         {"max loss-free (offered pps)": [r["loss_free_pps"] or 0 for r in ok_rows],
                          "peak delivered (pps)": [r["peak_delivered_pps"] for r in ok_rows]},
                         "frames per second", "Receive benchmark per interrupt mode",
                         hlines={"Linux 6.1: loss-free 80k": LINUX_BAR["loss_free_pps"],
                                 "Linux 6.1: peak 115k": LINUX_BAR["peak_pps"]}, ky=True)
        print(f"written: {path}, {png}")
    bad = [r for r in rows if "error" in r or not r["all_reconciled"]]
    return 1 if bad else 0
