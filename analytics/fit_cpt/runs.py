"""Two-phase curves from a user's own logs: a continual-pre-training (CPT) run's log, with the
pre-training run's log or without it, becomes one :class:`cltk.curves.Curve` in one step count with
``meta["cpt_start"]`` and ``meta["replay"]``, the curve the CPT law (Wang et al. 2025, Eq. 3-5;
:class:`cltk.laws.CPTLaw`) is fitted on.

Step counts (``switch`` is the step, in the continual log's own count, of its first continual update):

- no pre-training log: the continual log holds the whole history, pre-training rows included; the
  continual phase starts at ``switch`` and the points before it are pre-training points;
- with the pre-training log (last step P): a ``switch`` after P means the continual log continues
  the pre-training count (its step s is step s of the whole run; the LR of any steps P+1..switch-1
  the pre-training log does not cover is held at its last value); a ``switch`` at or before P means
  the count restarted (its step s is step P + 1 + s - switch). Its points before ``switch`` are
  dropped: the pre-training log gives that phase, once, as a curve of its own.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from cltk.curves import Curve
from cltk.errors import InputError


@dataclasses.dataclass
class CPTLog:
    """One continual run as read: its curve per domain ("old", "new") in the log's own step count,
    the step of its first continual update in that count (None: right after the pre-training log)
    and the share of old-domain data in its continual batches."""

    name: str
    source: str
    logs: dict[str, Curve]
    switch: int | None = None
    replay: float = 0.0


def pretrain_curve(log: Curve) -> Curve:
    """The pre-training run's own curve for the CPT law: its continual phase would start one step
    after its last step, so only the pre-training terms act on it."""
    return Curve(log.name, log.steps, log.loss, log.lrs, {**log.meta, "cpt_start": len(log.lrs), "replay": 0.0,
                                                            "step_offset": 0})


def two_phase(run: CPTLog, domain: str, pre_lrs: np.ndarray | None) -> tuple[Curve, dict]:
    """The whole-history curve of ``run`` on ``domain`` (``meta["step_offset"]``: its steps minus the
    log's own) and what was done to build it (``dropped``: points before the switch left out;
    ``held``: pre-training steps whose LR was held at the pre-training log's last value).
    ``pre_lrs`` is the pre-training run's LR history (steps 0..P), None without its log."""
    log, src = run.logs[domain], run.source
    if not 0 <= run.replay <= 1:
        raise InputError(f"{src}: replay {run.replay:g} is not a share in [0, 1]")
    if pre_lrs is None:
        return _whole_log(run, log)
    last = len(pre_lrs) - 1
    switch = last + 1 if run.switch is None else int(run.switch)
    if switch < 1:
        raise InputError(f"{src}: switch step {switch} must be >= 1 (the first continual update)")
    keep = log.steps >= switch
    if not keep.any():
        hint = " (if its step count restarts at the switch, the switch step is 1)" if switch > last else ""
        raise InputError(f"{src}: no loss logged at or after the switch step {switch}, the first continual "
                         f"update{hint}")
    first_lr = int(log.meta.get("warmup_steps", 0))  # the first logged LR (before it: an assumed warmup)
    if switch <= last < first_lr:
        raise InputError(f"{src}: switch step {switch} reads its step count as restarted at the switch, but its "
                         f"first learning rate is logged at step {first_lr}, after the pre-training log's last step "
                         f"{last}: if its count continues the pre-training's, the switch step is {last + 1}")
    held = switch - last - 1 if switch > last else 0
    offset = 0 if switch > last else last + 1 - switch
    lrs = np.concatenate([pre_lrs, np.full(held, pre_lrs[-1]), log.lrs[switch:]])
    meta = {"source": src, "cpt_start": last + 1 + held, "replay": float(run.replay), "switch_step": switch,
            "count": "continued" if switch > last else "restarted", "step_offset": offset,
            **{k: log.meta[k] for k in ("loss_column", "lr_column", "step_column", "warnings") if k in log.meta}}
    curve = Curve(run.name, log.steps[keep] + offset, log.loss[keep], lrs, meta)
    return curve, {"dropped": int((~keep).sum()), "held": held}


def _whole_log(run: CPTLog, log: Curve) -> tuple[Curve, dict]:
    src, switch = run.source, run.switch
    if switch is None:
        raise InputError(f"{src}: the switch step (first continual update) is not given, and there is no "
                         "pre-training log to start the continual phase after")
    if not 1 <= switch <= log.steps[-1]:
        raise InputError(f"{src}: switch step {switch} is outside the logged steps {int(log.steps[0])}.."
                         f"{int(log.steps[-1])} (no loss logged in the continual phase)")
    first_lr = int(log.meta.get("warmup_steps", 0))
    if first_lr >= switch:
        raise InputError(f"{src}: no learning rate logged before the switch step {switch}: the log holds only "
                         "the continual phase, so the pre-training LR history is unknown (give the pre-training "
                         "run's log)")
    meta = {**log.meta, "source": src, "cpt_start": int(switch), "replay": float(run.replay),
            "switch_step": int(switch), "count": "whole run", "step_offset": 0}
    return Curve(run.name, log.steps, log.loss, log.lrs, meta), {"dropped": 0, "held": 0}
