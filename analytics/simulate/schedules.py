"""Helpers shared by the schedule-model experiments (NQM, river valley, rehearsal): schedules rendered
on a common step count, short names, and 95% confidence intervals over seeds."""
from __future__ import annotations

import math
import re

import numpy as np
from scipy import stats

from cltk.errors import InputError
from cltk.schedules import Schedule, parse


def parse_all(specs) -> list[Schedule]:
    """Schedules from text specs (``cltk.schedules.parse``); Schedule objects pass through."""
    return [s if isinstance(s, Schedule) else parse(s) for s in specs]


def schedule_names(scheds: list[Schedule]) -> list[str]:
    """Short unique names from the schedules' kinds: cosine, wsd, wsd_2, ..."""
    names, seen = [], {}
    for s in scheds:
        kind = re.sub(r"[^a-z0-9]+", "", s.spec.split(":", 1)[0].lower()) or "schedule"
        if "+" in s.spec:
            kind = "joined"
        seen[kind] = seen.get(kind, 0) + 1
        names.append(kind if seen[kind] == 1 else f"{kind}_{seen[kind]}")
    return names


def render_schedules(scheds: list[Schedule], steps: int | None):
    """Render the schedules on a common number of steps (``steps``, or the longest schedule).
    Returns (schedules, names, lrs of shape (schedules, steps), steps)."""
    scheds = list(scheds)
    if not scheds:
        raise InputError("no schedule to simulate")
    if steps is None:
        lengths = [s.steps for s in scheds if s.steps]
        if not lengths:
            raise InputError("no schedule has a length (steps=...) and no step count was given")
        steps = max(lengths)
    if steps < 2:
        raise InputError(f"need at least 2 steps to simulate, got {steps}")
    lrs = np.stack([s.render(steps) for s in scheds])
    if not np.all(np.isfinite(lrs)) or np.any(lrs < 0):
        bad = next(s.spec for s, lr in zip(scheds, lrs) if not np.all(np.isfinite(lr)) or np.any(lr < 0))
        raise InputError(f"schedule '{bad}' renders negative or non-finite learning rates")
    return scheds, schedule_names(scheds), lrs, int(steps)


def ci95(values, axis=-1) -> tuple[np.ndarray, np.ndarray]:
    """Mean and half-width of the 95% Student-t confidence interval over ``axis`` (seeds)."""
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[axis]
    mean = v.mean(axis)
    if n < 2:
        return mean, np.full_like(mean, np.nan)
    half = stats.t.ppf(0.975, n - 1) * v.std(axis, ddof=1) / math.sqrt(n)
    return mean, half
