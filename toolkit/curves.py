"""Loss curves: logged (step, loss) points plus the per-step learning-rate history that produced them.

The laws of :mod:`cltk.laws` read the LR *history* (one value per optimizer step from step 0),
not only the logged points, because their terms are sums over every step (Tissue et al. 2024,
Eq. 1; Luo et al. 2025, Eq. 4). :func:`lr_history_from_log` rebuilds that history from sparsely
logged LR values.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from cltk.errors import InputError
from cltk.schedules import Schedule

__all__ = ["Curve", "block_means", "forward_area", "lr_history_from_log", "trained_points", "warmup_end"]


@dataclasses.dataclass
class Curve:
    """One training run: ``loss[j]`` logged after step ``steps[j]``; ``lrs[i]`` is the LR of step ``i``.

    ``lrs`` covers steps ``0..steps[-1]``. ``meta`` records where the curve came from (file, columns).
    """

    name: str
    steps: np.ndarray
    loss: np.ndarray
    lrs: np.ndarray
    meta: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.steps = np.asarray(self.steps, dtype=np.int64)
        self.loss = np.asarray(self.loss, dtype=np.float64)
        self.lrs = np.asarray(self.lrs, dtype=np.float64)
        if self.steps.shape != self.loss.shape or self.steps.ndim != 1 or len(self.steps) == 0:
            raise ValueError(f"curve '{self.name}': steps and loss must be equal-length, non-empty 1-D arrays")
        if np.any(np.diff(self.steps) <= 0) or self.steps[0] < 0:
            raise ValueError(f"curve '{self.name}': steps must be non-negative and strictly increasing")
        if len(self.lrs) < self.steps[-1] + 1:
            raise ValueError(f"curve '{self.name}': LR history has {len(self.lrs)} steps, "
                             f"needs {self.steps[-1] + 1} (up to the last logged step)")
        self.lrs = self.lrs[: self.steps[-1] + 1]

    @classmethod
    def from_schedule(cls, name: str, schedule: Schedule, steps, loss=None, meta=None) -> Curve:
        """A curve whose LR history is rendered from ``schedule`` (loss NaN when not given)."""
        steps = np.asarray(steps, dtype=np.int64)
        loss = np.full(len(steps), np.nan) if loss is None else loss
        meta = {"schedule": schedule.spec, **(meta or {})}
        return cls(name, steps, loss, schedule.render(int(steps[-1]) + 1), meta)

    @property
    def peak_lr(self) -> float:
        return float(self.lrs.max())

    def to_frame(self):
        """The logged points as a pandas DataFrame with columns step, lr, loss (the readers' format)."""
        import pandas as pd

        return pd.DataFrame({"step": self.steps, "lr": self.lrs[self.steps], "loss": self.loss})


def forward_area(lrs: np.ndarray) -> np.ndarray:
    """S1(t) = sum_{i<=t} eta_i, the forward area of Tissue et al. (2024, Eq. 1), for every step t."""
    return np.cumsum(lrs)


def warmup_end(lrs: np.ndarray) -> int:
    """Index of the LR peak that ends the initial non-decreasing (warmup) prefix of ``lrs``.

    LR changes up to this step are warmup, which the annealing terms of the laws leave out
    (Luo et al. 2025, Sec. 3, count t after warmup; the warmup's area enters through S1)."""
    drops = np.flatnonzero(np.diff(lrs) < 0)
    return int(drops[0]) if len(drops) else len(lrs) - 1


def lr_history_from_log(log_steps: np.ndarray, log_lrs: np.ndarray, last_step: int,
                        warmup_steps: int | None = None) -> np.ndarray:
    """Per-step LR for steps ``0..last_step`` from LR values logged at ``log_steps``.

    Between logged steps the LR is interpolated linearly, except that a change between two flat
    stretches (a step schedule) is a jump at the step where the new value is first logged; after the last logged step
    the LR is held. Before the
    first logged step ``s0`` the LR is a linear warmup from 0: reaching the first logged value at
    ``warmup_steps`` (held from there to ``s0``) or, by default, at ``s0`` itself.
    """
    log_steps = np.asarray(log_steps, dtype=np.float64)
    log_lrs = np.asarray(log_lrs, dtype=np.float64)
    grid = np.arange(last_step + 1, dtype=np.float64)
    out = np.interp(grid, log_steps, log_lrs)
    # a change between two flat stretches is a step schedule (two-stage, step decay): the old value
    # is held until the step where the new one is first logged, instead of being smeared into a ramp
    flat = np.isclose(log_lrs[1:], log_lrs[:-1], rtol=1e-9, atol=0.0)
    jumps = np.flatnonzero(~flat[1:-1] & flat[:-2] & flat[2:]) + 1  # few: only true step changes
    for j in jumps:
        out[int(log_steps[j]) + 1: int(log_steps[j + 1])] = log_lrs[j]
    s0 = int(log_steps[0])
    w = s0 if warmup_steps is None else min(int(warmup_steps), s0)
    if s0 > 0:
        pre = np.full(s0, log_lrs[0])
        if w > 0:
            ramp = np.arange(min(w, s0)) / w
            pre[: len(ramp)] = log_lrs[0] * ramp
        out[:s0] = pre
    return out


def trained_points(curve: Curve) -> tuple[Curve, int]:
    """The curve without points logged before training: at step 0 (per-step logs record the loss of
    the batch before the first update there) or before any LR area (S1 = 0), which no law can
    describe; returns the curve and the number of points dropped."""
    keep = (np.cumsum(curve.lrs)[curve.steps] > 0) & (curve.steps >= 1)
    if keep.all():
        return curve, 0
    if not keep.any():
        raise InputError(f"{curve.meta.get('source', curve.name)}: every loss point is logged before training "
                         "starts (zero learning-rate area)")
    return Curve(curve.name, curve.steps[keep], curve.loss[keep], curve.lrs, curve.meta), int((~keep).sum())


def block_means(curve: Curve, max_points: int) -> tuple[Curve, np.ndarray]:
    """A long log reduced to at most ``max_points`` points for fitting: consecutive points are
    grouped into blocks of equal count and each block is represented by its middle logged step and
    its mean loss (averaging removes per-step noise; the laws are smooth on a block's scale). Returns
    the reduced curve and the number of points in each block. Curves with at most ``max_points``
    points come back unchanged (blocks of one)."""
    n = len(curve.steps)
    if n <= max_points:
        return curve, np.ones(n)
    edges = np.unique(np.linspace(0, n, max_points + 1).round().astype(np.int64))
    counts = np.diff(edges)
    mean_loss = np.add.reduceat(curve.loss, edges[:-1]) / counts
    mid = curve.steps[edges[:-1] + counts // 2]
    meta = {**curve.meta, "block_means": {"points": int(n), "blocks": int(len(counts))}}
    return Curve(curve.name, mid, mean_loss, curve.lrs, meta), counts.astype(np.float64)
