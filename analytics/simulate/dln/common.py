"""Shared pieces of the deep-linear-network experiments: the torch setup, the :class:`Result`
every experiment returns (results.csv for the first table, NAME.csv for the others, results.json,
README.txt, curves.csv, PNGs and report.html, all written by :func:`write_result`) and small numeric
helpers."""
from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import torch

from cltk.analytics.result import Result, json_safe
from cltk.errors import InputError
from cltk.runtime import resolve_device

EXPERIMENTS = ("modes", "depth", "sequential", "critical-period", "rich-lazy")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def torch_setup(device: str, dtype: str) -> tuple[torch.device, torch.dtype]:
    """(device, dtype) of the simulator: ``device`` as :func:`cltk.runtime.resolve_device` takes it,
    ``dtype`` float32 or float64."""
    if dtype not in DTYPES:
        raise InputError(f"unknown dtype '{dtype}' (choose from {', '.join(DTYPES)})")
    return resolve_device(device), DTYPES[dtype]


def gd_batch(optimizer: str, batch_size: int) -> int | None:
    """None (full-batch GD on whitened inputs) or the SGD minibatch size."""
    if optimizer not in ("gd", "sgd"):
        raise InputError(f"unknown optimizer '{optimizer}' (choose gd or sgd)")
    return None if optimizer == "gd" else batch_size


def dln_result(experiment: str, title: str, summary: str, config: dict, metrics: dict, tables: dict,
               curves: pd.DataFrame, figures: list, *, started: float, device, notes=()) -> Result:
    """The Result of one experiment: ``tables`` (name -> DataFrame; the first is written as
    results.csv, the others as NAME.csv), ``curves`` (step, lr, loss, more loss_* columns),
    ``figures`` (name, matplotlib figure, caption). ``config`` gains the run's seconds (since
    ``started``) and device; results.json holds config, metrics and tables."""
    config = {**config, "seconds": round(time.perf_counter() - started, 2), "device": str(device)}
    names = list(tables)
    metrics = json_safe(metrics)
    tables_json = {k: json.loads(t.to_json(orient="records")) for k, t in tables.items()}
    curves = curves.copy()
    for c in curves.columns:
        if c.startswith("loss"):
            # the curve readers reject non-positive losses; exact zeros only arise from converged runs
            curves[c] = curves[c].clip(lower=1e-30)
    result = Result(title, metrics, tables={("results" if i == 0 else n): tables[n] for i, n in enumerate(names)},
                    curves=curves,
                    files={"results.json": {"experiment": experiment, "config": config, "metrics": metrics,
                                            "tables": tables_json},
                           "README.txt": f"cltk simulate dln {experiment}: see report.html; metrics.json holds "
                                         "the acceptance figures, results.csv the main table.\n"},
                    details={"experiment": experiment, "summary": summary, "config": config})
    rep = result.report
    rep.text(summary)
    rep.heading("Configuration").code(json.dumps(config, indent=1))
    for name, fig, caption in figures:
        rep.heading(caption.split(":")[0]).figure(fig, name, caption)
    for name in names:
        frame = tables[name]
        rep.heading(f"Table: {name}" + (" (first 60 rows)" if len(frame) > 60 else ""))
        rep.table(frame.head(60).to_dict("records"))
    for note in notes:
        rep.text(note)
    return result


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
