"""PNG plots of flood-lab results, with matplotlib's Agg backend (no
display needed). Pure apart from writing the files: every function takes
records (harness.accounting.RunRecord) or plain numbers and a path, and
returns the path written.

Every plot has labelled axes with units, a title saying what was held
fixed, and a legend; the unpaced ("max") point is never drawn as if it
were a paced rate: it mostly measures the generator competing with QEMU's
main loop for one host core (QEMU-FACTS.md), so it is drawn apart and
labelled "unpaced".
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from .accounting import PointSummary, RunRecord, max_loss_free, summarize  # noqa: E402

# The bar to compare with (QEMU-FACTS.md, measured on this kind of host):
# a stock Linux 6.1 guest, e1000 driver, NAPI weight 64.
LINUX_LOSS_FREE_PPS = 80_000
LINUX_PEAK_PPS = 115_000

_kfmt = FuncFormatter(lambda v, _: f"{v / 1000:g}k" if abs(v) >= 1000 else f"{v:g}")


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _subtitle(points: Sequence[PointSummary]) -> str:
    if not points:
        return ""
    r = points[0].first
    reps = max(len(p.runs) for p in points)
    napi = "" if r.napi == "on" else ", no NAPI"
    return (f"{r.nic}, irq={r.mode}{napi}, weight {r.weight}, "
            f"{r.duration:.1f} s per run, {reps} run(s) per point (median, bars: min-max)")


def _err(p: PointSummary, attr: str) -> tuple[float, float]:
    med = p.median(attr)
    lo, hi = p.spread(attr)
    return (med - lo, hi - med)


def loss_vs_budget(records: Iterable[RunRecord], path: Path) -> Path:
    """Loss % against budget (log x), one line per offered rate."""
    points = summarize(records)
    rates = sorted({p.first.offered_pps for p in points}, key=lambda r: (r == 0, r))
    fig, ax = plt.subplots(figsize=(8, 5))
    for rate in rates:
        ps = sorted((p for p in points if p.first.offered_pps == rate),
                    key=lambda p: p.first.budget)
        if not ps:
            continue
        xs = [p.first.budget for p in ps]
        ys = [p.median("loss_pct") for p in ps]
        errs = list(zip(*[_err(p, "loss_pct") for p in ps]))
        label = ("unpaced (host-bound)" if rate == 0
                 else f"{rate / 1000:g}k pps offered")
        ax.errorbar(xs, ys, yerr=errs, marker="o", capsize=3,
                    linestyle="--" if rate == 0 else "-", label=label)
    ax.set_xscale("log")
    budgets = sorted({p.first.budget for p in points})
    ax.set_xticks(budgets)
    ax.set_xticklabels([str(b) for b in budgets])
    ax.set_xlabel("NET_RX budget (packets per softirq run)")
    ax.set_ylabel("loss (% of frames sent)")
    ax.set_ylim(bottom=-1)
    ax.set_title("Loss against poll budget\n" + _subtitle(points), fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(title="offered load", fontsize=8)
    return _save(fig, path)


def delivered_vs_offered(records: Iterable[RunRecord], path: Path,
                         threshold_pct: float = 0.1) -> Path:
    """Delivered pps against offered pps, one line per budget; y = x (no
    loss); the maximum loss-free rate of each budget marked; the Linux 6.1
    bar drawn for comparison; unpaced points drawn at their achieved rate
    with a hollow marker."""
    points = summarize(records)
    budgets = sorted({p.first.budget for p in points})
    fig, ax = plt.subplots(figsize=(8, 5.5))
    top = 1.0
    for b in budgets:
        ps = [p for p in points if p.first.budget == b]
        paced = sorted((p for p in ps if p.first.offered_pps > 0),
                       key=lambda p: p.first.offered_pps)
        line = None
        if paced:
            xs = [p.first.offered_pps for p in paced]
            ys = [p.median("delivered_pps") for p in paced]
            errs = list(zip(*[_err(p, "delivered_pps") for p in paced]))
            line = ax.errorbar(xs, ys, yerr=errs, marker="o", capsize=3,
                               label=f"budget {b}")
            top = max(top, max(xs), max(ys))
            best = max_loss_free(paced, threshold_pct)
            if best is not None:
                ax.plot([best.first.offered_pps], [best.median("delivered_pps")],
                        marker="*", markersize=16, color=line[0].get_color(),
                        markeredgecolor="black", linestyle="none")
        for p in ps:
            if p.first.offered_pps == 0:
                x = p.median("achieved_pps")
                y = p.median("delivered_pps")
                top = max(top, x, y)
                ax.plot([x], [y], marker="s", markersize=8, fillstyle="none",
                        color=line[0].get_color() if line else None,
                        linestyle="none")
    ax.plot([0, top * 1.05], [0, top * 1.05], color="gray", linestyle=":",
            label="delivered = offered (no loss)")
    ax.axhline(LINUX_LOSS_FREE_PPS, color="tab:red", linestyle="--", linewidth=1,
               label=f"Linux 6.1 guest: loss-free {LINUX_LOSS_FREE_PPS // 1000}k")
    ax.axhline(LINUX_PEAK_PPS, color="tab:red", linestyle="-.", linewidth=1,
               label=f"Linux 6.1 guest: peak {LINUX_PEAK_PPS // 1000}k")
    ax.plot([], [], marker="*", markersize=12, color="gray", markeredgecolor="black",
            linestyle="none", label=f"max loss-free rate (loss <= {threshold_pct:g} %)")
    ax.plot([], [], marker="s", fillstyle="none", color="gray", linestyle="none",
            label="unpaced flood (x = rate reached)")
    ax.xaxis.set_major_formatter(_kfmt)
    ax.yaxis.set_major_formatter(_kfmt)
    ax.set_xlim(0, top * 1.05)
    ax.set_ylim(0, top * 1.05)
    ax.set_xlabel("offered load (frames/s sent by the host)")
    ax.set_ylabel("delivered to the UDP sink (frames/s)")
    ax.set_title("Delivered against offered load\n" + _subtitle(points), fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, path)


def irqs_vs_load(records: Iterable[RunRecord], path: Path) -> Path:
    """Interrupts per 1000 delivered packets against offered load (log y),
    one line per budget."""
    points = summarize(records)
    budgets = sorted({p.first.budget for p in points})
    fig, ax = plt.subplots(figsize=(8, 5))
    any_pos = False
    for b in budgets:
        ps = sorted((p for p in points if p.first.budget == b and p.first.offered_pps > 0),
                    key=lambda p: p.first.offered_pps)
        if not ps:
            continue
        xs = [p.first.offered_pps for p in ps]
        ys = [p.median("irqs_per_1000_pkts") for p in ps]
        any_pos = any_pos or any(y > 0 for y in ys)
        ax.plot(xs, ys, marker="o", label=f"budget {b}")
    if any_pos:
        ax.set_yscale("log")
    ax.axhline(1000, color="gray", linestyle=":", label="one interrupt per packet")
    ax.xaxis.set_major_formatter(_kfmt)
    ax.set_xlabel("offered load (frames/s, paced)")
    ax.set_ylabel("interrupts per 1000 delivered frames")
    ax.set_title("Interrupt rate against load (NAPI keeps the device masked "
                 "while it polls)\n" + _subtitle(points), fontsize=10)
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path)


FLOOD_PLOTS = (("loss_vs_budget", loss_vs_budget),
               ("delivered_vs_offered", delivered_vs_offered),
               ("irqs_vs_load", irqs_vs_load))


def flood_plots(records: Sequence[RunRecord], stem: Path) -> list[Path]:
    """All three flood plots as STEM-<name>.png."""
    stem = Path(stem)
    return [fn(records, stem.with_name(f"{stem.name}-{name}.png"))
            for name, fn in FLOOD_PLOTS]


# ------------------------------------------------------------ generic

def lines(path: Path, series: dict[str, tuple[Sequence[float], Sequence[float]]],
          xlabel: str, ylabel: str, title: str, logx: bool = False,
          logy: bool = False, hlines: Optional[dict[str, float]] = None,
          kx: bool = False, ky: bool = False, markers: bool = True,
          secondary: Optional[dict[str, tuple[Sequence[float], Sequence[float]]]] = None,
          ylabel2: str = "") -> Path:
    """A line plot of named (xs, ys) series; optional second y axis."""
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, (xs, ys) in series.items():
        ax.plot(xs, ys, marker="o" if markers else None, label=name)
    for (name, y), style in zip((hlines or {}).items(), ("--", "-.", ":", (0, (5, 5)))):
        ax.axhline(y, linestyle=style, color="dimgray", linewidth=1, label=name)
    if logx:
        ax.set_xscale("log")
        xs_all = sorted({x for xs, _ in series.values() for x in xs if x > 0})
        if 0 < len(xs_all) <= 12:   # label the values measured, not decades
            ax.set_xticks(xs_all)
            ax.set_xticklabels([f"{x:g}" for x in xs_all])
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    if logy:
        ax.set_yscale("log")
    if kx:
        ax.xaxis.set_major_formatter(_kfmt)
    if ky:
        ax.yaxis.set_major_formatter(_kfmt)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if secondary:
        ax2 = ax.twinx()
        for name, (xs, ys) in secondary.items():
            ax2.plot(xs, ys, marker="s", linestyle="--", label=name,
                     color=f"C{len(handles) + len(ax2.lines)}")
        ax2.set_ylabel(ylabel2)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, fontsize=8)
    return _save(fig, path)


def bars(path: Path, groups: Sequence[str], series: dict[str, Sequence[float]],
         ylabel: str, title: str, logy: bool = False,
         hlines: Optional[dict[str, float]] = None, ky: bool = False) -> Path:
    """Grouped bars: one group per label in `groups`, one bar per series."""
    fig, ax = plt.subplots(figsize=(8, 5))
    n = max(len(series), 1)
    width = 0.8 / n
    for i, (name, ys) in enumerate(series.items()):
        xs = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, [0 if (y is None or (isinstance(y, float) and math.isnan(y))) else y
                    for y in ys], width, label=name)
    for (name, y), style in zip((hlines or {}).items(), ("--", "-.", ":", (0, (5, 5)))):
        ax.axhline(y, linestyle=style, color="dimgray", linewidth=1, label=name)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    if logy:
        ax.set_yscale("log")
    if ky:
        ax.yaxis.set_major_formatter(_kfmt)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    return _save(fig, path)


def timelines(path: Path, panels: Sequence[dict], title: str) -> Path:
    """Stacked panels sharing the time axis, one per run: frames QEMU read
    from the tap and frames the host dropped (both per second), with the
    stall (QEMU reading nothing) shaded. Each panel: {"title", "xs" (ms),
    "read", "dropped", "stall": (start_ms, end_ms) or None, "xmax"}."""
    n = max(len(panels), 1)
    fig, axes = plt.subplots(n, 1, figsize=(9, 2.4 * n + 0.8), sharex=True,
                             squeeze=False)
    for ax, p in zip(axes[:, 0], panels):
        ax.plot(p["xs"], p["read"], color="tab:blue", linewidth=1,
                label="read by QEMU from the tap")
        ax.plot(p["xs"], p["dropped"], color="tab:red", linewidth=1,
                label="dropped by the host (tun queue full)")
        if p.get("stall"):
            ax.axvspan(p["stall"][0], p["stall"][1], color="gray", alpha=0.2,
                       label="QEMU reads nothing (ring full)")
        ax.yaxis.set_major_formatter(_kfmt)
        ax.set_ylabel("frames/s")
        ax.set_title(p["title"], fontsize=9)
        ax.grid(True, alpha=0.3)
        if p.get("xmax"):
            ax.set_xlim(0, p["xmax"])
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("time since the flood started (ms; 5 ms bins)")
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)
