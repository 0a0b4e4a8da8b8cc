"""The standard continual-learning metrics, defined once for every model and job of the toolkit.

Two inputs, both "higher is better" scores (test accuracy for classifiers; for regression learners
the explained variance ``1 - L / L_ref``, which is *not* an accuracy: it is 1 at a perfect fit, 0 at
the reference predictor and negative below it -- callers say which one they pass):

- the **accuracy matrix** ``R[..., i, j]``: the score on task ``j`` after training on task ``i``
  (Lopez-Paz & Ranzato 2017, "Gradient Episodic Memory for Continual Learning", NeurIPS, Sec. 5);
- the **continual-evaluation curve** ``curve[..., n, j]``: the score on task ``j`` at evaluation
  ``n`` (every few updates; De Lange et al. 2023, "Continual evaluation for lifelong learning:
  identifying the stability gap", ICLR, Sec. 3).

Every function is vectorised over the leading axes (seeds, conditions, ...). Definitions, with
``K`` tasks and ``R`` indexed from 0:

================== ====================================================================== ==========================
name               definition                                                             source
================== ====================================================================== ==========================
average_accuracy   ACC = 1/K sum_j R[K-1, j]                                              Lopez-Paz & Ranzato, Eq. 2
backward_transfer  BWT = 1/(K-1) sum_{j<K-1} (R[K-1, j] - R[j, j])                        Lopez-Paz & Ranzato, Eq. 3
forward_transfer   FWT = 1/(K-1) sum_{j>0} (R[j-1, j] - b_j), b_j the score at init       Lopez-Paz & Ranzato, Eq. 4
forgetting         F = 1/(K-1) sum_{j<K-1} (max_{l<K-1} R[l, j] - R[K-1, j])               Chaudhry et al. 2018, Eq. 5
min_acc_per_task   min over all evaluations n > learned_at[j] of curve[n, j]             De Lange et al., Eq. 4
min_acc            mean of min_acc_per_task over the tasks with a later evaluation        De Lange et al., Eq. 4
wc_acc             1/K curve[-1, K-1] + (1 - 1/K) min_acc                                 De Lange et al., Eq. 5
worst_after_switch per switch s and task j: curve[s, j] and min over n in (s, s+window]  De Lange et al., Sec. 3
stability_gap      mean over (switch, old task) of curve[s, j] - min_{s<n<=s+w} curve[n, j] De Lange et al., Sec. 3
================== ====================================================================== ==========================

(Chaudhry et al. 2018, "Riemannian Walk for Incremental Learning: Understanding Forgetting and
Intransigence", ECCV, Eq. 5 takes the max over *every* earlier row ``l < K-1``, as here.)
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "accuracy_matrix",
    "average_accuracy",
    "backward_transfer",
    "forgetting",
    "forward_transfer",
    "min_acc",
    "min_acc_per_task",
    "stability_gap",
    "standard_metrics",
    "wc_acc",
    "worst_after_switch",
]


def _square(R) -> np.ndarray:
    R = np.asarray(R, dtype=np.float64)
    if R.ndim < 2 or R.shape[-1] != R.shape[-2] or R.shape[-1] < 2:
        raise ValueError(f"accuracy matrix must be (..., K, K) with K >= 2, got shape {R.shape}")
    return R


def accuracy_matrix(curve, task_ends) -> np.ndarray:
    """``R[..., i, j] = curve[..., task_ends[i], j]``: the rows of a continual-evaluation curve at the
    evaluation that ends the training of task ``i`` (Lopez-Paz & Ranzato 2017, Sec. 5)."""
    curve = np.asarray(curve, dtype=np.float64)
    ends = np.asarray(task_ends, dtype=np.int64)
    if ends.shape != (curve.shape[-1],):
        raise ValueError(f"need one end evaluation per task ({curve.shape[-1]}), got {ends.shape}")
    return curve[..., ends, :]


def average_accuracy(R) -> np.ndarray:
    """ACC: mean score over all tasks after the last task (Lopez-Paz & Ranzato 2017, Eq. 2)."""
    return _square(R)[..., -1, :].mean(-1)


def backward_transfer(R) -> np.ndarray:
    """BWT: mean over the first K-1 tasks of final minus just-learned score (Lopez-Paz & Ranzato
    2017, Eq. 3); negative is forgetting."""
    R = _square(R)
    diag = np.diagonal(R, axis1=-2, axis2=-1)[..., :-1]
    return (R[..., -1, :-1] - diag).mean(-1)


def forward_transfer(R, baseline) -> np.ndarray:
    """FWT: mean over tasks 1..K-1 of the score on task j just before training it minus ``baseline[j]``,
    the score of the initial (untrained) model (Lopez-Paz & Ranzato 2017, Eq. 4)."""
    R = _square(R)
    b = np.asarray(baseline, dtype=np.float64)
    K = R.shape[-1]
    before = np.diagonal(R, offset=1, axis1=-2, axis2=-1)  # R[j-1, j], j = 1..K-1
    return (before - b[..., 1:K]).mean(-1)


def forgetting(R) -> np.ndarray:
    """Average forgetting over the first K-1 tasks: best earlier score minus final (Chaudhry et al.
    2018, Eq. 5; the last task cannot have been forgotten and is left out)."""
    R = _square(R)
    best = R[..., :-1, :-1].max(-2)
    return (best - R[..., -1, :-1]).mean(-1)


def min_acc_per_task(curve, learned_at) -> np.ndarray:
    """Per task ``j``, the minimum score over every evaluation after ``learned_at[j]`` (the evaluation
    that ends its first training; De Lange et al. 2023, Eq. 4); NaN where none follows."""
    curve = np.asarray(curve, dtype=np.float64)
    la = np.asarray(learned_at, dtype=np.int64)
    after = np.arange(curve.shape[-2])[:, None] > la[None, :]  # (n_eval, K)
    worst = np.where(after, curve, np.inf).min(-2)
    return np.where(np.isfinite(worst), worst, np.nan)


def min_acc(curve, learned_at) -> np.ndarray:
    """min-ACC: the mean of :func:`min_acc_per_task` over the tasks evaluated after being learned
    (the first K-1 when the last task ends the run; De Lange et al. 2023, Eq. 4)."""
    per = min_acc_per_task(curve, learned_at)
    ok = np.isfinite(per)
    return np.where(ok, per, 0.0).sum(-1) / np.maximum(ok.sum(-1), 1)


def wc_acc(curve, learned_at) -> np.ndarray:
    """Worst-case accuracy at the end of training: ``1/K`` the final score on the last task plus
    ``1 - 1/K`` min-ACC of the others (De Lange et al. 2023, Eq. 5)."""
    curve = np.asarray(curve, dtype=np.float64)
    K = curve.shape[-1]
    return curve[..., -1, -1] / K + (1 - 1 / K) * min_acc(curve, learned_at)


def worst_after_switch(curve, switches, window: int) -> tuple[np.ndarray, np.ndarray]:
    """For every switch evaluation ``s`` (the last one before training moves to another task): the
    score at the switch and the worst score in the ``window`` evaluations after it, both shaped
    ``(..., S, K)`` (De Lange et al. 2023, Sec. 3: the stability gap's depth)."""
    curve = np.asarray(curve, dtype=np.float64)
    s = np.asarray(switches, dtype=np.int64)
    if window < 1 or (len(s) and s.max() + window >= curve.shape[-2]):
        raise ValueError("every switch needs `window` >= 1 evaluations after it")
    win = np.stack([curve[..., s + i, :] for i in range(1, window + 1)], axis=-1)
    return curve[..., s, :], win.min(-1)


def stability_gap(curve, switches, window: int, mask) -> np.ndarray:
    """Mean over the ``mask``-ed (switch, task) pairs (``mask[..., S, K]``: the old tasks at each
    switch) of the drop from the switch to the worst of the next ``window`` evaluations (De Lange et
    al. 2023, Sec. 3); 0 where nothing is masked."""
    at, worst = worst_after_switch(curve, switches, window)
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), at.shape)
    return np.where(mask, at - worst, 0.0).sum((-1, -2)) / np.maximum(mask.sum((-1, -2)), 1)


def standard_metrics(R, baseline=None, curve=None, learned_at=None) -> dict:
    """The metrics of the table above that the inputs allow, as a dict of arrays over the leading axes:
    ``avg_acc``, ``forgetting``, ``bwt`` (always), ``fwt`` (with ``baseline``), ``min_acc``, ``wc_acc``
    (with ``curve`` and ``learned_at``). Sources as in the module docstring."""
    out = {"avg_acc": average_accuracy(R), "forgetting": forgetting(R), "bwt": backward_transfer(R)}
    if baseline is not None:
        out["fwt"] = forward_transfer(R, baseline)
    if curve is not None and learned_at is not None:
        out["min_acc"] = min_acc(curve, learned_at)
        out["wc_acc"] = wc_acc(curve, learned_at)
    return out
