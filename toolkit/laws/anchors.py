"""Anchors for predicting long logs: beyond :data:`EXACT_POINTS` points a law is evaluated exactly at
anchor steps and interpolated linearly between them (evenly and log-spaced anchors, and every point
for a while after a sudden LR change, where the loss bends fastest); the error is measured by
benchmarks/bench_million_rows.py."""
from __future__ import annotations

import numpy as np

#: the most points a prediction evaluates exactly; longer logs are interpolated between anchors
EXACT_POINTS = 20_000
# after an LR change of more than this fraction of the peak between two logged points, the next
# points are all anchors (the loss relaxes over hundreds of steps after a sudden drop)
_JUMP, _AFTER_JUMP, _MAX_JUMPS = 1e-2, 512, 2000


def anchor_index(lrs: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Indices of ``steps`` at which a long prediction is evaluated exactly (all of them for
    at most :data:`EXACT_POINTS` points)."""
    n = len(steps)
    if n <= EXACT_POINTS:
        return np.arange(n)
    keep = np.zeros(n, dtype=bool)
    keep[np.linspace(0, n - 1, EXACT_POINTS // 2).round().astype(np.int64)] = True
    # and log-spaced ones: early in training the loss falls like a power of the LR area
    keep[np.geomspace(1, n, EXACT_POINTS // 4).astype(np.int64) - 1] = True
    lr_at = lrs[steps]
    jumps = np.flatnonzero(np.abs(np.diff(lr_at)) > _JUMP * max(lrs.max(), 1e-30)) + 1
    if len(jumps) > _MAX_JUMPS:  # a schedule of many sudden changes is not smooth between anchors
        return np.arange(n)
    if len(jumps):
        # every point just after a jump, then log-spaced: the loss relaxes like a power of the time since
        offsets = np.unique(np.r_[np.arange(-1, _AFTER_JUMP), np.geomspace(_AFTER_JUMP, n, 1024).astype(np.int64)])
        keep[np.clip((jumps[:, None] + offsets[None, :]).ravel(), 0, n - 1)] = True
    return np.flatnonzero(keep)
