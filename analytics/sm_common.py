"""Helpers shared by the schedule-model experiments (NQM, river valley, rehearsal): schedule specs
(with a ``cyclic:`` form), confidence intervals, curve files and plots."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analytics.errors import InputError
from analytics.io import atomic_write_frame
from toolkit import schedules
from toolkit.curves import Curve


def parse_schedule(spec: str) -> schedules.Schedule:
    """A schedule from its text spec (``toolkit.schedules.parse``; ``cyclic:`` included)."""
    return schedules.parse(spec)


def schedule_names(specs: list[str]) -> list[str]:
    """Short unique names from the specs' kinds: cosine, wsd, wsd_2, ..."""
    names, seen = [], {}
    for s in specs:
        kind = re.sub(r"[^a-z0-9]+", "", s.split(":", 1)[0].lower()) or "schedule"
        if "+" in s:
            kind = "joined"
        seen[kind] = seen.get(kind, 0) + 1
        names.append(kind if seen[kind] == 1 else f"{kind}_{seen[kind]}")
    return names


def render_schedules(specs: list[str], steps: int | None, option: str = "--schedule"):
    """Parse specs and render them on a common number of steps (``steps`` or the longest schedule)."""
    if not specs:
        raise InputError(f"{option}: give at least one schedule spec")
    scheds = [parse_schedule(s) for s in specs]
    if steps is None:
        lengths = [s.steps for s in scheds if s.steps]
        if not lengths:
            raise InputError(f"{option}: no schedule has a length (steps=...); give --steps")
        steps = max(lengths)
    if steps < 2:
        raise InputError(f"--steps: need at least 2 steps, got {steps}")
    lrs = np.stack([s.render(steps) for s in scheds])
    if not np.all(np.isfinite(lrs)) or np.any(lrs < 0):
        raise InputError(f"{option}: a schedule renders negative or non-finite learning rates")
    return scheds, schedule_names([s.spec for s in scheds]), lrs, int(steps)


def ci95(values, axis=-1) -> tuple[np.ndarray, np.ndarray]:
    """Mean and half-width of the 95% Student-t confidence interval over ``axis`` (seeds)."""
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[axis]
    mean = v.mean(axis)
    if n < 2:
        return mean, np.full_like(mean, np.nan)
    half = stats.t.ppf(0.975, n - 1) * v.std(axis, ddof=1) / math.sqrt(n)
    return mean, half


def _sparse_frame(c: Curve, lr_col: str = "lr", loss_col: str = "loss") -> pd.DataFrame:
    """One row per step 1..last (the LR of that update), loss only where it was logged: the
    W&B-style sparse rows the readers accept, which give them the exact LR history."""
    steps = np.arange(1, len(c.lrs))
    loss = np.full(len(steps), np.nan)
    loss[c.steps - 1] = c.loss
    return pd.DataFrame({"step": steps, lr_col: c.lrs[1:], loss_col: loss})


def write_curves(out_dir: Path, curves: list[Curve]) -> Path:
    """``curves/NAME.csv``: columns step, lr, loss (the readers' single-curve format, read by
    ``cltk fit-scaling`` with no options), and ``curves.csv``: all curves side by side as columns
    step, NAME/lr, NAME/loss (read one with ``--lr-col NAME/lr --loss-col NAME/loss``). Rows hold
    every step's LR; loss cells are empty between logged steps. Curve histories start with the
    LR 0 of "step 0" (see :func:`toolkit.river_valley.to_curves`), so row ``s`` is update ``s``."""
    wide = None
    for c in curves:
        atomic_write_frame(out_dir / "curves" / f"{c.name}.csv", _sparse_frame(c))
        f = _sparse_frame(c, f"{c.name}/lr", f"{c.name}/loss")
        wide = f if wide is None else wide.merge(f, on="step", how="outer")
    return atomic_write_frame(out_dir / "curves.csv", wide.sort_values("step"))


def finite(x) -> float | None:
    """A JSON-safe float (None for NaN / inf)."""
    x = float(x)
    return x if math.isfinite(x) else None


def check_positive(name: str, value, allow_zero: bool = False):
    ok = value >= 0 if allow_zero else value > 0
    if not ok or not math.isfinite(value):
        raise InputError(f"{name}: must be {'>= 0' if allow_zero else '> 0'}, got {value}")
