"""What a law predicts: a *target* and the steps to predict it at, checked and turned into one
:class:`cltk.curves.Curve` whose LR history the law reads.

A target is a :class:`cltk.curves.Curve`, a :class:`cltk.schedules.Schedule`, a schedule spec
string (:func:`cltk.schedules.parse`) or a 1-D array of per-step learning rates. The array follows
the convention of ``Curve.lrs``: ``lrs[i]`` is the LR of optimizer step ``i`` (from 0), and the loss
at step ``t`` depends on ``lrs[0..t]`` (its LR area S1(t) = sum_{i<=t} lrs[i], Tissue et al. 2024,
Eq. 1; Luo et al. 2025, Eq. 4). An array of ``n`` values can therefore be predicted at steps
``0..n-1``, exactly like ``schedule.render(n)`` of an ``n``-step schedule: both give the same
prediction. Steps past the end of a target are refused (no LR is made up for them), and so are
steps before any LR area (a warmup from 0 makes step 0 such a step), where a law has no loss.
"""
from __future__ import annotations

import numpy as np

from cltk.curves import Curve
from cltk.laws.errors import LawError
from cltk.schedules import MAX_SPEC_STEPS, Schedule, parse

#: points a schedule or LR array is predicted at when no steps are given (from its first trained step to its last)
DEFAULT_POINTS = 512
#: the name of the curve an LR array becomes (errors say it)
ARRAY_NAME = "the LR array"


def _short(spec: str, limit: int = 100) -> str:
    """A spec short enough for a one-line error (a free schedule's spec runs to kilobytes)."""
    return spec if len(spec) <= limit else spec[: limit - 3] + "..."


def _as_lrs(target, caller: str) -> np.ndarray:
    """``target`` as a 1-D float64 array of learning rates, else a one-line LawError."""
    what = f"{caller}: the target must be a Curve, a Schedule, a schedule spec string or a 1-D array of per-step LRs"
    try:
        lrs = np.asarray(target, dtype=np.float64)
    except (TypeError, ValueError):
        raise LawError(f"{what}, got {type(target).__name__}") from None
    if lrs.ndim != 1 or len(lrs) == 0:
        raise LawError(f"{what}, got an array of shape {lrs.shape}")
    return lrs


def _checked_steps(steps, n: int | None, where: str, caller: str) -> np.ndarray:
    """``steps`` as int64 step numbers, whole, >= 0 and before ``n`` (the target's length, None:
    unbounded); any order, repeats allowed."""
    raw = np.atleast_1d(np.asarray(steps))
    if raw.ndim != 1 or raw.size == 0:
        raise LawError(f"{caller}: steps must be a non-empty 1-D list of step numbers, got shape {raw.shape}")
    if raw.dtype.kind not in "iuf":
        raise LawError(f"{caller}: steps must be whole numbers, got {raw.dtype} values")
    if raw.dtype.kind == "f" and not np.all(np.isfinite(raw) & (raw == np.round(raw))):
        bad = raw[~(np.isfinite(raw) & (raw == np.round(raw)))][0]
        raise LawError(f"{caller}: steps must be whole numbers, got {float(bad):g}")
    if raw.min() < 0:
        raise LawError(f"{caller}: steps must be >= 0, got {float(raw.min()):g}")
    limit = MAX_SPEC_STEPS if n is None else n
    if raw.max() >= limit:
        end = (f"is unbounded; steps are limited to {MAX_SPEC_STEPS:.0e}" if n is None else
               f"has {n} steps (0..{n - 1}); a law never holds the last LR past the end")
        raise LawError(f"{caller}: step {int(raw.max())} is past the end of {where}, which {end}")
    return raw.astype(np.int64)


def _default_steps(lrs_area: np.ndarray) -> np.ndarray:
    """:data:`DEFAULT_POINTS` steps spread from the first step with LR area (at least step 1, the
    loss after the first update) to the last step of a target whose cumulative LR is ``lrs_area``."""
    first = max(1, int(np.argmax(lrs_area > 0)))
    return np.unique(np.linspace(first, len(lrs_area) - 1, DEFAULT_POINTS).astype(np.int64))


def prediction_target(target, steps=None, caller: str = "predict") -> tuple[Curve, np.ndarray]:
    """The curve a law predicts for ``target`` (see the module docstring) and the steps to predict
    at: ``steps`` if given, else a curve's logged steps, or :data:`DEFAULT_POINTS` steps spread over
    a schedule or array. Bad input is a one-line error naming ``caller`` and the target
    (:class:`cltk.schedules.ScheduleError` for a bad spec string, :class:`LawError` otherwise)."""
    if isinstance(target, str):
        target = parse(target)  # a ScheduleError names the spec
    if isinstance(target, Schedule):
        where = f"schedule '{_short(target.spec)}'"
        if steps is None:
            if target.steps is None:
                raise LawError(f"{caller}: {where} is unbounded: give the steps to predict at")
            if target.steps < 2:
                raise LawError(f"{caller}: {where} has {target.steps} step(s): nothing to predict after an update")
            at = None
        else:
            at = _checked_steps(steps, target.steps, where, caller)
        lrs = target.render(target.steps if at is None else int(at.max()) + 1)
        name, meta = target.spec, {"schedule": target.spec}
    elif isinstance(target, Curve):
        where, lrs, name, meta = f"the LR history of '{target.name}'", target.lrs, target.name, target.meta
        at = target.steps if steps is None else _checked_steps(steps, len(lrs), where, caller)
    else:
        lrs = _as_lrs(target, caller)
        where, name, meta = ARRAY_NAME, ARRAY_NAME, {}
        at = None if steps is None else _checked_steps(steps, len(lrs), where, caller)
    bad = ~np.isfinite(lrs) | (lrs < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise LawError(f"{caller}: the LR of step {i} in {where} is {float(lrs[i]):g}: learning rates must be finite "
                       "and >= 0")
    area = np.cumsum(lrs)
    if at is None:
        if len(lrs) < 2:
            raise LawError(f"{caller}: {where} has {len(lrs)} step(s): nothing to predict after an update")
        at = _default_steps(area)
    early = area[at] <= 0
    if early.any():
        raise LawError(f"{caller}: step {int(at[early][0])} of {where} comes before any LR area (every LR up to it "
                       "is 0), where a law has no loss; predict from the first step with a positive LR on")
    # a Curve's steps increase; the law predicts at ``at`` in the caller's order
    used = at if np.all(np.diff(at) > 0) else np.unique(at)
    return Curve(name, used, np.full(len(used), np.nan), lrs[: int(used[-1]) + 1], meta), at
