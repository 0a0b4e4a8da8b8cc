"""Shared pieces of the deep-linear-network experiments: options and their validation, the result
record, output writing (CSV/JSON/metrics/curves/PNG/report.html) and small numeric helpers."""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from analytics.errors import InputError
from analytics.io import atomic_write_frame, atomic_write_json, atomic_write_text
from analytics.report import Report
from toolkit.dln import resolve_device

EXPERIMENTS = ("modes", "depth", "sequential", "critical-period", "rich-lazy")


@dataclasses.dataclass
class Options:
    """Every option of ``cltk simulate dln``; None means the experiment's own default."""

    seeds: int | None = None
    seed: int = 0
    device: str = "auto"
    dtype: str | None = None
    optimizer: str | None = None
    batch_size: int = 32
    lr: float | None = None
    steps: int | None = None
    width: int | None = None
    depths: tuple | None = None
    inits: tuple | None = None
    singular_values: tuple | None = None
    init_scale: float | None = None
    similarities: tuple | None = None
    input_rank: int | None = None
    same_teacher: bool = False
    phases: str = "ABA"
    onsets: tuple | None = None
    deficit_length: int = 150
    remove_output: bool = False
    mc_size: int = 50
    mc_rank: int = 3
    mc_depth: int = 3
    mc_steps: int = 5000
    mc_deficit_length: int = 1000
    mc_onsets: tuple | None = None
    scales: tuple | None = None
    ranks: tuple | None = None
    lr_grid: tuple | None = None
    threshold: float = 0.1

    def torch_setup(self, default_dtype: str = "float32"):
        """(device, dtype) for the simulator; bad names are InputErrors."""
        try:
            dev = resolve_device(self.device)
        except (RuntimeError, ValueError) as e:
            raise InputError(f"--device: {e}") from None
        return dev, {"float32": torch.float32, "float64": torch.float64}[self.dtype or default_dtype]

    def gd_batch(self, default: str = "gd"):
        """None (full-batch GD) or the SGD batch size."""
        return None if (self.optimizer or default) == "gd" else self.batch_size


def validate(experiment: str, o: Options) -> None:
    """Check every option once, before any work: one InputError naming the option."""
    if experiment not in EXPERIMENTS:
        raise InputError(f"unknown experiment '{experiment}' (choose from {', '.join(EXPERIMENTS)})")

    def positive(name, v, integer=True):
        if v is not None and not (v >= 1 if integer else v > 0):
            raise InputError(f"{name}: must be {'a positive integer' if integer else 'positive'}, got {v}")

    for name, v in [("--seeds", o.seeds), ("--steps", o.steps), ("--width", o.width),
                    ("--batch-size", o.batch_size), ("--input-rank", o.input_rank),
                    ("--deficit-length", o.deficit_length), ("--mc-rank", o.mc_rank), ("--mc-depth", o.mc_depth),
                    ("--mc-steps", o.mc_steps), ("--mc-deficit-length", o.mc_deficit_length)]:
        positive(name, v)
    if o.mc_size < 0:
        raise InputError(f"--mc-size: must be >= 0 (0 skips matrix completion), got {o.mc_size}")
    for name, v in [("--lr", o.lr), ("--init-scale", o.init_scale), ("--threshold", o.threshold)]:
        positive(name, v, integer=False)
    for name, vals, integer in [("--depths", o.depths, True), ("--ranks", o.ranks, True),
                                ("--scales", o.scales, False), ("--singular-values", o.singular_values, False),
                                ("--lr-grid", o.lr_grid, False)]:
        for v in vals or ():
            if not (v >= 1 if integer else v > 0):
                what = "positive integers" if integer else "positive numbers"
                raise InputError(f"{name}: values must be {what}, got {v:g}")
    for v in o.similarities or ():
        if not 0 <= v <= 1:
            raise InputError(f"--similarities: values must lie in [0, 1], got {v:g}")
    for name, vals in [("--onsets", o.onsets), ("--mc-onsets", o.mc_onsets)]:
        for v in vals or ():
            if v < 0:
                raise InputError(f"{name}: onsets must be >= 0, got {v}")
    if o.optimizer not in (None, "gd", "sgd"):
        raise InputError(f"--optimizer: choose gd or sgd, got '{o.optimizer}'")
    if o.dtype not in (None, "float32", "float64"):
        raise InputError(f"--dtype: choose float32 or float64, got '{o.dtype}'")
    if not o.phases or set(o.phases) - {"A", "B"}:
        raise InputError(f"--phases: a sequence of the letters A and B, got '{o.phases}'")
    if o.threshold >= 1:
        raise InputError(f"--threshold: must be below 1 (a fraction of the learnable loss), got {o.threshold}")
    from toolkit.dln import INIT_KINDS

    for v in o.inits or ():
        if v not in INIT_KINDS:
            raise InputError(f"--inits: unknown init '{v}' (choose from {', '.join(INIT_KINDS)})")


@dataclasses.dataclass
class Result:
    """What an experiment returns; :func:`write_result` turns it into files."""

    experiment: str
    title: str
    summary: str
    config: dict
    metrics: dict
    tables: dict  # name -> DataFrame, written as name.csv (the first one is results.csv)
    curves: pd.DataFrame  # step, lr, loss (+ more loss_* columns)
    figures: list  # (name, matplotlib figure, caption)
    notes: list = dataclasses.field(default_factory=list)


def clean(v):
    """JSON-safe scalar: numpy types to Python, non-finite floats to None."""
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v


def write_result(res: Result, out_dir: Path) -> dict:
    """results.csv (+ other tables), results.json, metrics.json, curves.csv, PNGs and report.html."""
    out_dir = Path(out_dir)
    names = list(res.tables)
    paths = {}
    for i, name in enumerate(names):
        fname = "results.csv" if i == 0 else f"{name}.csv"
        paths[name] = atomic_write_frame(out_dir / fname, res.tables[name])
    metrics = {k: clean(v) for k, v in res.metrics.items()}
    atomic_write_json(out_dir / "metrics.json", metrics)
    tables_json = {k: json.loads(t.to_json(orient="records")) for k, t in res.tables.items()}
    atomic_write_json(out_dir / "results.json", {"experiment": res.experiment, "config": res.config,
                                                 "metrics": metrics, "tables": tables_json})
    curves = res.curves.copy()
    for c in curves.columns:
        if c.startswith("loss"):
            # the curve readers reject non-positive losses; exact zeros only arise from converged runs
            curves[c] = curves[c].clip(lower=1e-30)
    atomic_write_frame(out_dir / "curves.csv", curves)
    rep = Report(res.title)
    rep.text(res.summary)
    rep.heading("Configuration").code(json.dumps(res.config, indent=1))
    rep.heading("Acceptance figures (metrics.json)")
    rep.table([{"metric": k, "value": "n/a" if v is None else v} for k, v in metrics.items()])
    for name, fig, caption in res.figures:
        rep.heading(caption.split(":")[0]).figure(fig, name, caption)
    for name in names:
        frame = res.tables[name]
        rep.heading(f"Table: {name}" + (" (first 60 rows)" if len(frame) > 60 else ""))
        rep.table(frame.head(60).to_dict("records"))
    for note in res.notes:
        rep.text(note)
    rep.write(out_dir)
    atomic_write_text(out_dir / "README.txt", f"cltk simulate dln {res.experiment}: see report.html; "
                      "metrics.json holds the acceptance figures, results.csv the main table.\n")
    return metrics


_FIRST = ("err", "diff", "ratio", "closed_form", "mc_")
_THEN = ("time_to", "onset0_", "onset400_", "onset750_", "forgetting", "time_orthogonal", "time_gaussian")


def headline(metrics: dict, limit: int = 40) -> list:
    """The metrics worth printing on the terminal: errors and ratios first, then reference times,
    early/late deficits and forgetting; all of them are in metrics.json."""
    first = [(k, v) for k, v in metrics.items() if any(h in k for h in _FIRST)]
    then = [(k, v) for k, v in metrics.items() if any(h in k for h in _THEN) and (k, v) not in first]
    return (first + then or list(metrics.items()))[:limit]


def crossing_time(times: np.ndarray, values: np.ndarray, level, rising: bool = True) -> np.ndarray:
    """First time each row of ``values`` (..., R) crosses ``level`` (linear interpolation between
    records); NaN where it never does."""
    v = np.asarray(values, float)
    lvl = np.broadcast_to(np.asarray(level, float), v.shape[:-1])[..., None]
    above = v >= lvl if rising else v <= lvl
    idx = np.argmax(above, axis=-1)
    ok = above.any(axis=-1)
    i0 = np.clip(idx - 1, 0, v.shape[-1] - 1)
    v0, v1 = np.take_along_axis(v, i0[..., None], -1)[..., 0], np.take_along_axis(v, idx[..., None], -1)[..., 0]
    t0, t1 = times[i0], times[idx]
    lv = lvl[..., 0]
    frac = np.where(v1 != v0, (lv - v0) / np.where(v1 != v0, v1 - v0, 1.0), 0.0)
    t = np.where(idx == 0, times[0], t0 + np.clip(frac, 0, 1) * (t1 - t0))
    return np.where(ok, t, np.nan)


def key(x) -> str:
    """A number as it appears in metric names: 0.5 -> '0.5', 400.0 -> '400'."""
    return f"{x:g}"
