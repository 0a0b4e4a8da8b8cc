"""What a reader of a fit must know, in words, and what the law file records so that a later
prediction (``cltk predict``, ``cltk select-schedule``) can say the same without the fit curves:
``fit_info.annealing_curves`` (the fit curves that lower their LR after warmup: none means the
annealing term was never measured), ``fit_info.fit_lr_max`` (the largest LR any fit curve used)
and ``fit_info.notes`` (the notes below)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cltk.curves import Curve, warmup_end
from cltk.laws import LossLaw

#: what a parameter on a bound of its range means, where the law says more than "not pinned down"
BOUND_MEANING = {
    ("poweranneal", "beta", "upper"): "the relaxation kernel is exponential, 1 - exp(-C x)",
    ("poweranneal", "delta", "lower"): "delta ~ 0: a drop buys as much late in training as early",
    ("poweranneal", "delta", "upper"): "delta = 0.5, the largest fading allowed: the fit curves pull it further",
    ("multipower", "beta", "lower"): "the relaxation is as slow as the law allows",
}

#: the words of the note for a fit set with no annealing run (predict looks for them in old notes)
NO_ANNEAL_NOTE = "annealing term is not identified"


def annealing_curves(curves: Sequence[Curve]) -> list[str]:
    """The curves whose LR decreases somewhere after their warmup: the ones that identify the
    annealing term of every cltk law (Luo et al. 2025, Eq. 1; Tissue et al. 2024, Eq. 1)."""
    return [c.name for c in curves if np.any(np.diff(c.lrs[warmup_end(c.lrs):]) < 0)]


def record_identification(law: LossLaw, fit_curves: Sequence[Curve]) -> None:
    """Store in ``law.fit_info_`` (hence in law.json) what judging a prediction needs later: the
    annealing fit curves and the largest LR of the fit curves."""
    law.fit_info_["annealing_curves"] = annealing_curves(fit_curves)
    law.fit_info_["fit_lr_max"] = float(max(np.max(c.lrs) for c in fit_curves))


def law_caveats(law: LossLaw, anneals: Sequence[str] | None) -> list[str]:
    """The caveats a fitted law carries in its ``fit_info_``: block means, parameters on a bound,
    no convergence, failed refits, and (when ``anneals``, the annealing fit curves, is known and
    empty) an annealing term the fit curves do not identify."""
    notes = []
    for name, b in law.fit_info_.get("block_means", {}).items():
        notes.append(f"{name}: {b['points']} logged points were fitted as {b['blocks']} block means (consecutive "
                     "points averaged); the metrics use every logged point.")
    for entry in law.fit_info_.get("at_bounds", []):
        par, _, side = entry.partition(":")
        meaning = BOUND_MEANING.get((law.name, par, side))
        tail = (f" ({meaning})." if meaning else
                ": the fit curves do not pin it down, so predictions that depend on it are extrapolations.")
        notes.append(f"Parameter {par} = {law.params_[par]:.4g} ended on the {side or 'edge'} bound of its range{tail}")
    if law.fit_info_.get("converged") is False:
        notes.append(f"The fit stopped at its evaluation limit before converging ({law.fit_info_.get('status')}); "
                     "the parameters are the best found, not a verified optimum.")
    boot = law.fit_info_.get("bootstrap", {})
    if boot.get("failed") or boot.get("at_evaluation_limit"):
        notes.append(f"Bootstrap ({boot['replicates']} refits, plus one per left-out curve): {boot['failed']} failed "
                     f"and were left out of the intervals, {boot['at_evaluation_limit']} stopped at the evaluation "
                     "limit before converging and were kept.")
    if anneals is not None and not anneals and law.name != "cpt":
        notes.append(f"No fit curve lowers its learning rate after warmup: the {NO_ANNEAL_NOTE}, "
                     "so predictions of decaying schedules are guesses. Fit on at least one run that decays.")
    return notes


def caveats(law: LossLaw, fit_curves: Sequence[Curve], metrics: dict) -> list[str]:
    """What a reader of the fit must know, in words: the law's own caveats (:func:`law_caveats`,
    the annealing term judged from ``fit_curves``) and intervals too wide to separate the held-out
    curves of ``metrics``."""
    notes = law_caveats(law, annealing_curves(fit_curves))
    held = [r for r in metrics["curves"] if r["role"] == "heldout" and "final_lo" in r]
    if len(held) >= 2:
        width = float(np.mean([r["final_hi"] - r["final_lo"] for r in held]))
        spread = max(r["final_loss_true"] for r in held) - min(r["final_loss_true"] for r in held)
        if width >= spread:
            notes.append(f"The {metrics['interval']['level']:.0%} intervals of the held-out final losses (mean width "
                         f"{width:.4f}) are wider than the spread of those finals ({spread:.4f}): they cannot "
                         "separate these schedules; rank them with paired differences (cltk select-schedule).")
    return notes
