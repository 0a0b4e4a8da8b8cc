"""What a reader of a schedule choice must know about the law behind it: the fit's own caveats
(a parameter on a bound of its range, no convergence, failed refits, no annealing run among the
fit curves — :mod:`cltk.analytics.law_caveats`, reused) and one check that needs no fit
curves: a law that predicts that no cooldown at all is as good as every cooldown."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cltk.analytics.law_caveats import NO_ANNEAL_NOTE, annealing_curves, law_caveats
from cltk.curves import Curve
from cltk.laws import LossLaw
from cltk.schedules import constant, join, warmup


def law_notes(law: LossLaw, fit_curves: Sequence[Curve] | None = None) -> list[str]:
    """The caveats of ``law``'s fit, in words. With ``fit_curves`` (a law fitted here) the annealing
    term is judged from their LRs; a law file's recorded notes (``fit_info.notes``, written by
    fit-scaling) are used as they are; an older file without them gets the checks its
    ``fit_info`` allows (whether its fit curves anneal only where ``annealing_curves`` is recorded)."""
    info = getattr(law, "fit_info_", None) or {}
    if fit_curves is not None:
        return law_caveats(law, annealing_curves(fit_curves))
    if isinstance(info.get("notes"), list):
        return [str(n) for n in info["notes"]]
    anneals = info.get("annealing_curves")
    return law_caveats(law, anneals if isinstance(anneals, list) else None)


def unidentified_anneal_said(notes: Sequence[str]) -> bool:
    """Whether ``notes`` already say that the fit curves do not identify the annealing term."""
    return any(NO_ANNEAL_NOTE in n for n in notes)


def cooldown_note(law: LossLaw, chosen_final: float, total_steps: int, peak_lr: float, warmup_steps: int) -> str | None:
    """A sentence when the law predicts that holding the peak LR to the end is at least as good as
    the chosen schedule: every law of cltk says a cooldown lowers the loss (the annealing term of
    Tissue et al. 2024, Eq. 1; Luo et al. 2025, Eq. 1), so a fit that says otherwise has not
    identified that term (typically: fitted on constant-LR runs only) and its choice of cooldown
    is not a recommendation."""
    flat = constant(peak_lr, total_steps - warmup_steps)
    sched = join(warmup(peak_lr, warmup_steps), flat) if warmup_steps else constant(peak_lr, total_steps)
    const_final = float(law.predict(Curve.from_schedule("constant", sched, np.array([total_steps - 1])))[0])
    if const_final > chosen_final + 1e-12:
        return None
    return (f"The {law.name} law predicts that holding the peak LR to the end (final loss {const_final:.4f}) is "
            f"at least as good as the chosen schedule ({chosen_final:.4f}): its annealing term is not identified "
            "by the curves it was fitted on (fit on at least one run whose LR decays), so the cooldown it "
            "chooses is not a recommendation.")
