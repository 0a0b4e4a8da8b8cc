"""Theory-guided schedule selection on a fitted loss-curve law.

``select_schedule(law, total_steps, peak_lr, family=...)`` scores every candidate of a schedule
family with the law's predicted loss and returns the best one, its predicted curve, a prediction
interval (when the law carries bootstrap replicates, see ``LossLaw.bootstrap``) and the table of
all candidates. Families:

- ``wsd``: warmup-stable-decay over cooldown fraction x shape (linear, 1-sqrt, exponential,
  cosine) x final LR (Hägele et al. 2024, Sec. 3); with the ``anytime`` objective the candidates
  are WSD-S schedules that decay before every checkpoint (Wen et al. 2024, Sec. 5).
- ``cosine``: cosine to a grid of final-LR ratios (Loshchilov & Hutter 2017).
- ``free``: the best non-increasing schedule after warmup, optimised directly on the law as Luo
  et al. (2025, Sec. 5) do, but with L-BFGS-B on a piecewise-linear schedule of ``n_knots``
  knots (multiplicative steps in [0, 1] keep it non-increasing and non-negative; gradients by
  torch autograd through the exact per-step law), started from the best WSD candidate so it is
  never worse than that candidate.

Objectives: ``final`` (loss at the last step) or ``anytime`` (mean loss over checkpoint steps).

``select_cpt(law_old, law_new, pretrain, cpt_steps, peaks, warmups, replays)`` chooses the re-warm
peak, re-warm length and replay fraction of continual pre-training that minimise a weighted sum of
the old- and new-domain losses predicted by two CPT laws (cltk.laws.cpt).
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from cltk.curves import Curve
from cltk.laws.base import LawError, LossLaw
from cltk.laws.intervals import paired_interval
from cltk.schedules import COOLDOWN_SHAPES, Schedule, cosine, join, piecewise, rewarm, warmup, wsd, wsd_s

FAMILIES = ("wsd", "cosine", "free")
OBJECTIVES = ("final", "anytime")
WSD_DECAYS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
FINAL_RATIOS = (0.0, 0.01, 0.1)
COSINE_RATIOS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


@dataclasses.dataclass
class Selection:
    """The chosen schedule and the evidence for it."""

    schedule: Schedule
    spec: str
    family: str
    objective: str
    score: float  # the objective's predicted value (lower is better)
    steps: np.ndarray  # where the predicted curve is evaluated
    predicted: np.ndarray  # predicted loss at ``steps``
    final_loss: float
    interval: tuple[float, float] | None  # prediction interval of the final loss (level ``level``)
    level: float
    candidates: list[dict]  # every candidate: spec, score, final_loss (sorted by score)
    seconds: float
    score_steps: np.ndarray | None = None  # the steps the objective averages the loss over


class SelectionError(LawError):
    """Invalid selection request (the message says which argument and why)."""


def _check_args(law, total_steps, peak_lr, family, warmup_steps, objective, checkpoints):
    if not isinstance(law, LossLaw) or not hasattr(law, "params_"):
        raise SelectionError("select_schedule needs a fitted law (fit() it or load it with load_law)")
    if family not in FAMILIES:
        raise SelectionError(f"unknown family '{family}' (choose from {', '.join(FAMILIES)})")
    if objective not in OBJECTIVES:
        raise SelectionError(f"unknown objective '{objective}' (choose from {', '.join(OBJECTIVES)})")
    if not peak_lr > 0:
        raise SelectionError(f"peak LR must be > 0, got {peak_lr}")
    if warmup_steps < 0 or total_steps <= warmup_steps + 1:
        raise SelectionError(f"steps ({total_steps}) must exceed warmup ({warmup_steps}) by more than one step")
    if checkpoints is not None and (min(checkpoints) <= warmup_steps or max(checkpoints) > total_steps):
        raise SelectionError(f"checkpoints must lie in ({warmup_steps}, {total_steps}]")


def _score_steps(total_steps, warmup_steps, objective, checkpoints):
    if objective == "final":
        return np.array([total_steps - 1])
    if checkpoints is None:
        checkpoints = [warmup_steps + round(f * (total_steps - warmup_steps)) for f in (0.25, 0.5, 0.75, 1.0)]
    return np.unique(np.asarray(checkpoints, dtype=np.int64) - 1)


def _candidates(family, total_steps, peak, w, objective, ckpts) -> list[Schedule]:
    out = []
    if family in ("wsd", "free"):
        for decay in WSD_DECAYS:
            for shape in COOLDOWN_SHAPES:
                for r in FINAL_RATIOS:
                    if shape == "exp" and r == 0:
                        continue
                    frac = decay * (total_steps - w) / total_steps
                    if objective == "anytime" and len(ckpts) > 1:
                        out.append(wsd_s(peak, [int(c) + 1 for c in ckpts], decay=frac, shape=shape,
                                         final=r * peak, warmup=w))
                    else:
                        out.append(wsd(peak, total_steps, decay=frac, shape=shape, final=r * peak, warmup=w))
    else:
        out = [cosine(peak, total_steps, final=r * peak, warmup=w) for r in COSINE_RATIOS]
    return out


def _row(law: LossLaw, sched: Schedule, score_steps: np.ndarray, total_steps: int) -> dict:
    """A candidate's objective (mean predicted loss at ``score_steps``) and predicted final loss,
    from one prediction at both."""
    steps = np.union1d(score_steps, [total_steps - 1])
    pred = law.predict(Curve.from_schedule(sched.spec, sched, steps))
    return {"spec": sched.spec, "score": float(np.mean(pred[np.isin(steps, score_steps)])),
            "final_loss": float(pred[-1])}


def _free(law, best: Schedule, total_steps, peak, w, score_steps, n_knots, max_iter) -> Schedule:
    """L-BFGS-B over multiplicative knot ratios u_j in [0, 1]: lr(knot_j) = peak * prod_{i<=j} u_i."""
    import torch
    from scipy.optimize import minimize

    knots = np.unique(np.linspace(w, total_steps - 1, n_knots).round().astype(np.int64))
    v0 = np.maximum(best(knots.astype(np.float64)), 1e-12 * peak)
    u0 = np.clip(v0[1:] / v0[:-1], 0.0, 1.0)
    grid = np.arange(w, total_steps)
    idx = np.clip(np.searchsorted(knots, grid, side="right") - 1, 0, len(knots) - 2)
    frac = torch.tensor((grid - knots[idx]) / (knots[idx + 1] - knots[idx]), dtype=torch.float64)
    idx_t = torch.tensor(idx)
    warm = torch.tensor(warmup(peak, w).render(w) if w > 0 else np.zeros(0), dtype=torch.float64)
    steps_t = torch.tensor(score_steps)

    def lr_tensor(u):
        v = peak * torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(u, 0)])
        return torch.cat([warm, v[idx_t] * (1 - frac) + v[idx_t + 1] * frac])

    def f(u_np):
        u = torch.tensor(u_np, dtype=torch.float64, requires_grad=True)
        loss = law.torch_loss(lr_tensor(u), steps_t, w).mean()
        loss.backward()
        return float(loss.detach()), u.grad.numpy().copy()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the tensors are small: thread start-up costs more than it saves
    try:
        res = minimize(f, u0, jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * len(u0),
                       options={"maxiter": max_iter, "ftol": 1e-13, "gtol": 1e-12})
        u = res.x if res.fun <= f(u0)[0] else u0
    finally:
        torch.set_num_threads(threads)
    v = peak * np.concatenate([[1.0], np.cumprod(u)])
    body = piecewise((knots - w).tolist(), v.tolist())
    return join(warmup(peak, w), body) if w > 0 else body


def select_schedule(law: LossLaw, total_steps: int, peak_lr: float, family: str = "wsd", warmup: int = 0,
                    objective: str = "final", checkpoints=None, level: float = 0.9, n_knots: int = 64,
                    max_iter: int = 500) -> Selection:
    """Choose the schedule of ``family`` that minimises the law's predicted ``objective``.

    Implements the schedule-selection use of the loss laws: Tissue et al. (2024, Sec. 5) and Luo
    et al. (2025, Sec. 5, the optimal-schedule search of their Eq. 4) — see the module docstring.
    """
    total_steps, warmup_steps = int(total_steps), int(warmup)
    _check_args(law, total_steps, peak_lr, family, warmup_steps, objective, checkpoints)
    t0 = time.perf_counter()
    score_steps = _score_steps(total_steps, warmup_steps, objective, checkpoints)
    final_step = np.array([total_steps - 1])
    scheds = {s.spec: s for s in _candidates(family, total_steps, peak_lr, warmup_steps, objective, score_steps)}
    rows = sorted((_row(law, s, score_steps, total_steps) for s in scheds.values()), key=lambda r: r["score"])
    chosen, best = scheds[rows[0]["spec"]], rows[0]
    if family == "free":
        chosen = _free(law, chosen, total_steps, peak_lr, warmup_steps, score_steps, n_knots, max_iter)
        best = _row(law, chosen, score_steps, total_steps)
        rows = sorted([best, *rows], key=lambda r: r["score"])
    steps = np.unique(np.linspace(max(warmup_steps, 1), total_steps - 1, 400).round().astype(np.int64))
    curve = Curve.from_schedule(chosen.spec, chosen, steps)
    predicted = law.predict(curve)
    interval = None
    if getattr(law, "boot_params_", None):
        lo, hi = law.predict_interval(Curve.from_schedule(chosen.spec, chosen, final_step), level=level)
        interval = (float(lo[0]), float(hi[0]))
    return Selection(chosen, chosen.spec, family, objective, best["score"], steps, predicted, best["final_loss"],
                     interval, level, rows, time.perf_counter() - t0, score_steps)


def compare_schedules(law: LossLaw, a: Schedule, b: Schedule, steps, level: float = 0.9) -> dict:
    """How much lower the law predicts ``a``'s loss than ``b``'s, averaged over ``steps`` (the last
    step for the final loss): ``margin`` = L(b) - L(a) from the fitted law (> 0: a is better) and,
    when the law carries bootstrap replicates, the ``level`` interval ``margin_lo``/``margin_hi`` of
    the *paired* differences (each replicate predicts both schedules) and ``share_a_better``, the
    share of replicates in which a is better. The misfit common to two similar schedules cancels in
    a paired difference, so no leave-one-curve-out term is added (unlike
    :meth:`cltk.laws.LossLaw.predict_interval`)."""
    steps = np.atleast_1d(np.asarray(steps, dtype=np.int64))
    last = int(steps.max()) + 1
    ca = Curve.from_schedule(a.spec, a, np.arange(last)) if a.steps is None or a.steps >= last else None
    cb = Curve.from_schedule(b.spec, b, np.arange(last)) if b.steps is None or b.steps >= last else None
    if ca is None or cb is None:
        raise SelectionError(f"compare_schedules: both schedules must last at least {last} steps")
    out = {"margin": float(np.mean(law.predict(cb, steps)) - np.mean(law.predict(ca, steps))),
           "margin_lo": None, "margin_hi": None, "share_a_better": None}
    if getattr(law, "boot_params_", None):
        d = law.predict_replicates(cb, steps).mean(axis=1) - law.predict_replicates(ca, steps).mean(axis=1)
        lo, hi = paired_interval(out["margin"], d, level)
        out.update(margin_lo=lo, margin_hi=hi, share_a_better=float(np.mean(d > 0)))
    return out


def spec_fields(spec: str) -> tuple[str, dict[str, str]]:
    """A one-part spec's family and its ``key=value`` fields as text (``("wsd", {"decay": "0.2", ...})``);
    a joined spec (``a + b``) is described by its last part, where the cooldown lives."""
    name, _, body = spec.split(" + ")[-1].partition(":")
    return name, dict(kv.partition("=")[::2] for kv in body.split(",") if "=" in kv)


def cooldown_of(schedule: Schedule, total_steps: int, warmup_steps: int = 0) -> dict:
    """How a schedule ends, for comparing recommendations in words: ``fraction`` of the run spent
    decaying (the spec's ``decay`` for WSD, else from the first step after warmup whose LR is
    below 99.9% of the post-warmup peak), ``final_ratio`` (last LR / peak), ``shape`` (the WSD
    cooldown shape, else the family: cosine, piecewise, ...) and ``words``, e.g. "a 22.75% linear
    cooldown to 0" (the WSD cooldown of Hägele et al. 2024, Sec. 3)."""
    lr = schedule.render(total_steps)[warmup_steps:]
    peak = float(lr.max())
    family, fields = spec_fields(schedule.spec)
    shape = fields.get("shape", family)
    if "decay" in fields and float(fields["decay"]) <= 1:
        fraction = float(fields["decay"])
    else:
        below = np.flatnonzero(lr < 0.999 * peak)
        fraction = (len(lr) - below[0] + 1) / total_steps if len(below) else 0.0
    # a WSD or cosine decay reaches its final LR one step after the run ends: its spec says where it goes
    last = float(fields["final"]) if "final" in fields else float(lr[-1])
    ratio = last / peak if peak > 0 else 0.0
    to = "0" if ratio == 0 else f"{ratio:.3g}x peak" if ratio >= 0.01 else f"{ratio:.2g}x peak"
    words = f"a {100 * fraction:.4g}% {'free-form' if shape == 'piecewise' else shape} cooldown to {to}"
    return {"fraction": fraction, "final_ratio": ratio, "shape": shape, "words": words}


def cross_evaluate(laws: dict, schedules: dict, score_steps, level: float = 0.9) -> list[dict]:
    """Every recommended schedule scored by every law: one row per (schedule, law) with the
    objective ``score`` (mean predicted loss at ``score_steps``), its ``level`` interval when the
    law carries bootstrap replicates, and ``regret``, how much worse the schedule is than the
    law's own choice (``schedules`` and ``laws`` share keys: the law that chose each schedule) as a
    paired difference (:func:`compare_schedules`) with ``regret_lo``/``regret_hi`` and
    ``resolved`` (the interval excludes 0) where replicates exist. The check of one law's optimum
    under another is the cross-law robustness test of Luo et al. (2025, Sec. 5) and Tissue et al.
    (2024, Sec. 5) made explicit."""
    steps = np.atleast_1d(np.asarray(score_steps, dtype=np.int64))
    rows = []
    for who, sched in schedules.items():
        for judge, law in laws.items():
            curve = Curve.from_schedule(sched.spec, sched, np.arange(int(steps.max()) + 1))
            row = {"schedule_of": who, "law": judge, "score": float(np.mean(law.predict(curve, steps))),
                   "lo": None, "hi": None, "regret": 0.0, "regret_lo": None, "regret_hi": None, "resolved": None}
            if getattr(law, "boot_params_", None):
                lo, hi = law.predict_interval(curve, level=level, steps=steps)
                row.update(lo=float(np.mean(lo)), hi=float(np.mean(hi)))
            if who != judge:
                c = compare_schedules(law, schedules[judge], sched, steps, level)
                row.update(regret=c["margin"], regret_lo=c["margin_lo"], regret_hi=c["margin_hi"],
                           resolved=None if c["margin_lo"] is None else bool(c["margin_lo"] > 0 or c["margin_hi"] < 0))
            rows.append(row)
    return rows


@dataclasses.dataclass
class CPTSelection:
    """The chosen continual-pre-training setting and every candidate scored."""

    peak: float
    warmup: int
    replay: float
    schedule: Schedule  # the whole LR schedule (pre-training + re-warmed CPT phase)
    old_loss: float
    new_loss: float
    score: float
    candidates: list[dict]  # every setting scored, best first; "spec" is its schedule as text

    @property
    def spec(self) -> str:
        return self.schedule.spec


def cpt_rewarm(pretrain: Schedule, cpt_steps: int, peak: float, warmup: int, final_ratio: float = 0.1) -> Schedule:
    """The continual phase alone: re-warming from the pre-training's last LR to ``peak`` over
    ``warmup`` steps, then a cosine decay to ``final_ratio * peak`` over ``cpt_steps`` in all
    (Ibrahim et al. 2024, Sec. 5)."""
    start = float(pretrain(pretrain.steps - 1))
    return rewarm(start, peak, warmup, cpt_steps, final=final_ratio * peak)


def cpt_schedule(pretrain: Schedule, cpt_steps: int, peak: float, warmup: int, final_ratio: float = 0.1) -> Schedule:
    """Pre-training schedule, then its re-warmed continual phase (:func:`cpt_rewarm`)."""
    return join(pretrain, cpt_rewarm(pretrain, cpt_steps, peak, warmup, final_ratio))


def select_cpt(law_old: LossLaw, law_new: LossLaw, pretrain: Schedule, cpt_steps: int, peaks, warmups=(0,),
               replays=(0.0,), final_ratio: float = 0.1, weight_old: float = 0.5) -> CPTSelection:
    """Choose the re-warm peak, re-warm length and replay fraction that minimise
    ``weight_old * L_old + (1 - weight_old) * L_new`` at the end of continual pre-training, as
    predicted by two fitted CPT laws (Wang et al. 2025; see cltk.laws.cpt)."""
    for law, dom in ((law_old, "old"), (law_new, "new")):
        if getattr(law, "name", None) != "cpt" or getattr(law, "domain", None) != dom or not hasattr(law, "params_"):
            raise SelectionError(f"select_cpt needs a fitted CPT law of the {dom} domain as law_{dom}")
    if pretrain.steps is None or cpt_steps < 2 or not 0 <= weight_old <= 1:
        raise SelectionError("select_cpt: need a finite pre-training schedule, cpt_steps >= 2, 0 <= weight_old <= 1")
    if any(not 0 <= r <= 1 for r in replays) or any(p <= 0 for p in peaks) or any(w >= cpt_steps for w in warmups):
        raise SelectionError("select_cpt: replays must be in [0, 1], peaks > 0, warmups < cpt_steps")
    end = np.array([pretrain.steps + cpt_steps - 1])
    rows, schedules = [], {}
    for peak in peaks:
        for w in warmups:
            sched = cpt_schedule(pretrain, cpt_steps, peak, w, final_ratio)
            schedules[sched.spec] = sched
            for r in replays:
                meta = {"cpt_start": pretrain.steps, "replay": float(r)}
                c = Curve.from_schedule(sched.spec, sched, end, meta=meta)
                old, new = float(law_old.predict(c)[0]), float(law_new.predict(c)[0])
                rows.append({"peak": float(peak), "warmup": int(w), "replay": float(r), "old_loss": old,
                             "new_loss": new, "score": weight_old * old + (1 - weight_old) * new,
                             "spec": sched.spec})
    rows.sort(key=lambda r: r["score"])
    b = rows[0]
    return CPTSelection(b["peak"], b["warmup"], b["replay"], schedules[b["spec"]], b["old_loss"], b["new_loss"],
                        b["score"], rows)
