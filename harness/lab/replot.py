"""`python3 -m harness.lab replot FILE.json`: the table, summary and plots
of a saved flood run again, without booting (e.g. after changing a plot)."""
from __future__ import annotations

from pathlib import Path

from .. import accounting as acc
from .. import plots
from . import results, table
from .sweep import flood_summary


def cmd_replot(args) -> int:
    path = Path(args.json)
    meta, records = results.read_json(path)
    print(table.format_flood_table(acc.summarize(records)))
    print()
    print(flood_summary(records))
    stem = path.with_suffix("")
    written = plots.flood_plots(records, stem)
    print("\nwritten: " + ", ".join(map(str, written)))
    return 0 if all(r.ok for r in records) else 1
