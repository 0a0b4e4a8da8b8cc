"""The job contract: every command's job returns a :class:`Result`, and :func:`write_result` — the
one writer — turns it into the job's output folder:

- ``metrics.json``: the flat (or, for fit-scaling, documented nested) figures that benchmarks read;
- ``<name>.csv`` for each table, ``curves.csv`` (and ``curves/<name>.csv`` for each curve, in the
  format ``cltk fit-scaling`` reads), and any other files the job names (``law.json``, ...);
- ``report.html`` (self-contained, PNGs embedded) and the PNGs beside it.

The set is written to a staging folder and moved into place as one piece, never over an input
(:mod:`cltk.analytics.output_folder`)."""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from cltk.analytics.output_folder import check_out_dir, commit
from cltk.analytics.report import Report
from cltk.files import atomic_write_bytes, atomic_write_frame, atomic_write_json, atomic_write_text

__all__ = ["Result", "json_safe", "write_result"]


@dataclasses.dataclass
class Result:
    """What a job returns.

    ``report`` starts as an empty :class:`Report` titled ``title``; the job adds its own sections
    (text, tables, figures), and the writer appends the metrics table (``metrics_in_report``).
    ``curves`` is either a DataFrame written as ``curves.csv`` or a list of :class:`cltk.curves.Curve`
    written by :func:`cltk.analytics.curve_files.write_curves`. ``files`` maps a file name to its
    content: ``str`` (text), ``bytes``, or anything else (written as JSON)."""

    title: str
    metrics: dict
    tables: dict = dataclasses.field(default_factory=dict)
    curves: object = None
    files: dict = dataclasses.field(default_factory=dict)
    report: Report | None = None
    metrics_in_report: bool = True
    details: dict = dataclasses.field(default_factory=dict)  # in-memory extras for callers (never written)

    def __post_init__(self):
        if self.report is None:
            self.report = Report(self.title)


def json_safe(v):
    """A JSON-safe copy: numpy scalars and arrays to Python, non-finite floats to None."""
    if isinstance(v, dict):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if isinstance(v, np.ndarray):
        return [json_safe(x) for x in v.tolist()]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    return v


def write_result(result: Result, out_dir: str | Path, inputs=()) -> Path:
    """Write every output of ``result`` into ``out_dir`` as one set (staged, then moved into place:
    :mod:`cltk.analytics.output_folder`); ``inputs`` are the job's input files, refused if they lie
    in ``out_dir``. Returns the path of report.html."""
    out_dir = Path(out_dir)
    check_out_dir(out_dir, inputs)
    commit(out_dir, lambda stage: _write_set(result, stage))
    return out_dir / "report.html"


def _write_set(result: Result, out_dir: Path) -> Path:
    metrics = json_safe(result.metrics)
    atomic_write_json(out_dir / "metrics.json", metrics)
    for name, frame in result.tables.items():
        atomic_write_frame(out_dir / f"{name}.csv", frame)
    if result.curves is not None:
        if isinstance(result.curves, list):
            from cltk.analytics.curve_files import write_curves

            write_curves(out_dir, result.curves)
        else:
            atomic_write_frame(out_dir / "curves.csv", result.curves)
    for name, content in result.files.items():
        if isinstance(content, bytes):
            atomic_write_bytes(out_dir / name, content)
        elif isinstance(content, str):
            atomic_write_text(out_dir / name, content)
        else:
            atomic_write_text(out_dir / name, json.dumps(json_safe(content), indent=2, allow_nan=False) + "\n")
    rep = result.report
    if result.metrics_in_report and isinstance(metrics, dict):
        flat = [{"figure": k, "value": "n/a" if v is None else v} for k, v in metrics.items()
                if not isinstance(v, (dict, list))]
        if flat:  # every figure, for the record: collapsed, so the verdicts and plots come first
            with rep.details(f"All {len(flat)} figures (metrics.json)"):
                rep.table(flat)
    return rep._write(out_dir)
