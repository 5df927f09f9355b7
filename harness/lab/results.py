"""Writing and reading the lab's result files (pure file I/O, no boot).

    build/results/flood-<timestamp>.csv    one row per run (CSV_FIELDS)
    build/results/flood-<timestamp>.json   {"meta": ..., "records": [...]}
    build/results/flood-<timestamp>-<plot>.png
    build/results/flood-latest.*           symlinks to the newest of each

A symlink is replaced atomically (made under a temporary name, then
renamed over the old one), so a reader never sees it missing.
"""
from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from .. import plots
from ..accounting import CSV_FIELDS, RunRecord
from ..paths import BUILD

RESULTS = BUILD / "results"


def timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def link_latest(target: Path, link: Path) -> None:
    """link -> target (relative), replacing link atomically."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)


def write_csv(records: Iterable[RunRecord], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(CSV_FIELDS))
        w.writeheader()
        for r in records:
            w.writerow(r.csv_row())
    return path


def write_json(records: Iterable[RunRecord], path: Path,
               meta: Optional[dict[str, Any]] = None, **more: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"meta": meta or {}, "records": [r.as_dict() for r in records]}
    doc.update(more)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=False, default=str) + "\n")
    os.replace(tmp, path)
    return path


def read_json(path: Path) -> tuple[dict[str, Any], list[RunRecord]]:
    doc = json.loads(Path(path).read_text())
    return doc.get("meta", {}), [RunRecord.from_dict(d) for d in doc["records"]]


def write_flood(records: Sequence[RunRecord], meta: dict[str, Any],
                outdir: Path = RESULTS, stamp: Optional[str] = None,
                prefix: str = "flood") -> dict[str, Path]:
    """CSV, JSON and the three plots, plus `<prefix>-latest.*` links.
    Returns {"csv": path, "json": path, "<plot name>": path, ...}."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stamp = stamp or timestamp()
    stem = outdir / f"{prefix}-{stamp}"
    out = {"csv": write_csv(records, stem.with_suffix(".csv")),
           "json": write_json(records, stem.with_suffix(".json"), meta)}
    if records:
        for (name, _), p in zip(plots.FLOOD_PLOTS, plots.flood_plots(records, stem)):
            out[name] = p
    for key, p in out.items():
        suffix = p.name[len(stem.name):]           # ".csv", "-loss_vs_budget.png"
        link_latest(p, outdir / f"{prefix}-latest{suffix}")
    return out
