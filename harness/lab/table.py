"""Plain-text tables of flood results (pure; tested without a boot).

format_flood_table(points) is what `make flood` prints: one row per point
(median over its repeats, min-max when there were several), and the
points' problems listed under the table, so an unexplained frame can
never scroll by unnoticed.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

from ..accounting import PointSummary, RunRecord


def _fmt_num(v: float, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def _med_spread(p: PointSummary, attr: str, digits: int = 0) -> str:
    med = p.median(attr)
    if len(p.runs) == 1:
        return _fmt_num(med, digits)
    lo, hi = p.spread(attr)
    return f"{_fmt_num(med, digits)} [{_fmt_num(lo, digits)}-{_fmt_num(hi, digits)}]"


def render(headers: Sequence[str], rows: Sequence[Sequence[str]],
           right: Sequence[bool] = ()) -> str:
    """Columns padded to width; right-aligned where right[i]."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, c in enumerate(cells):
            r = right[i] if i < len(right) else False
            out.append(c.rjust(widths[i]) if r else c.ljust(widths[i]))
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep] + [line(r) for r in rows])


FLOOD_HEADERS = ("mode", "budget", "offered pps", "delivered pps", "loss %",
                 "where the losses happened", "irq/1000 pkts",
                 "full-weight polls", "time_squeeze", "steal %", "status")
FLOOD_RIGHT = (False, True, True, True, True, False, True, True, True, True, False)


def flood_row(p: PointSummary) -> list[str]:
    r = p.first
    offered = "max (host-bound)" if r.offered_pps == 0 else _fmt_num(r.offered_pps)
    status = "ok" if p.ok else "ERROR"
    if p.ok and any(x.retried for x in p.runs):
        status = "ok (retried)"
    mode = r.mode if r.napi == "on" else f"{r.mode}/no-napi"
    return [mode, str(r.budget), offered,
            _med_spread(p, "delivered_pps"), _med_spread(p, "loss_pct", 2),
            p.where_lost(), _med_spread(p, "irqs_per_1000_pkts", 2),
            _med_spread(p, "polls_full_weight"), _med_spread(p, "time_squeeze"),
            _fmt_num(max(x.steal_pct for x in p.runs), 1), status]


def format_flood_table(points: Iterable[PointSummary]) -> str:
    points = list(points)
    text = render(FLOOD_HEADERS, [flood_row(p) for p in points], FLOOD_RIGHT)
    problems = []
    for p in points:
        for r in p.runs:
            for msg in r.problems:
                problems.append(f"  ERROR budget={r.budget} offered="
                                f"{r.offered_label} run {r.repeat}: {msg}")
    if problems:
        text += "\n\nReconciliation errors (sent != delivered + dropped + " \
                "missed + host-dropped + queued):\n" + "\n".join(problems)
    return text


def format_accounting(r: RunRecord) -> str:
    """One line per run: the identity with its numbers."""
    guest = " + ".join(f"{n} {k}" for k, n in r.dropped_guest.items()) or "0"
    mark = "" if r.ok else "   <-- ERROR"
    return (f"budget {r.budget:>5} offered {r.offered_label:>7}: sent {r.sent} = "
            f"delivered {r.delivered} + guest-dropped ({guest}) + nic-missed "
            f"{r.missed_nic} + host-dropped {r.dropped_host} "
            f"({r.dropped_host_where}) + queued {r.queued} + unexplained "
            f"{r.unexplained}{mark}")
