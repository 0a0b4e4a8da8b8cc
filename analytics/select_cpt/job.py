"""The select-cpt job: choose the re-warm peak, re-warm length and replay fraction of continual
pre-training with two fitted CPT laws (old and new domain; Wang et al. 2025's law as fitted by
``cltk validate``), over the grid of settings the user names. Its Result holds metrics.json,
candidates.csv, curves.csv (the chosen schedule, step and lr), a plot of every candidate's predicted
old- and new-domain loss, and report.html."""
from __future__ import annotations

import numpy as np
import pandas as pd

from cltk.analytics.report import plt
from cltk.analytics.result import Result
from cltk.laws import LossLaw
from cltk.schedules import Schedule
from cltk.selection import CPTSelection, select_cpt


def run_select_cpt(law_old: LossLaw, law_new: LossLaw, *, pretrain: Schedule, steps: int, peaks, warmups=(0,),
                   replays=(0.0,), final_ratio: float = 0.1, weight_old: float = 0.5) -> Result:
    """Score every (peak, warmup, replay) with :func:`cltk.selection.select_cpt` and return the
    choice, the candidates and the report."""
    sel = select_cpt(law_old, law_new, pretrain, steps, peaks, warmups, replays, final_ratio, weight_old)
    metrics = {"selected_peak": sel.peak, "selected_warmup": sel.warmup, "selected_replay": sel.replay,
               "selected_spec": sel.spec, "predicted_old_loss": sel.old_loss, "predicted_new_loss": sel.new_loss,
               "predicted_score": sel.score, "weight_old": weight_old, "n_candidates": len(sel.candidates)}
    grid = np.arange(pretrain.steps + steps)
    result = Result("cltk select-cpt: continual pre-training setting", metrics,
                    tables={"candidates": pd.DataFrame(sel.candidates)},
                    curves=pd.DataFrame({"step": grid, "lr": sel.schedule(grid.astype(float))}),
                    details={"selection": sel})
    _report(result, sel, pretrain, steps, weight_old)
    return result


def _report(result: Result, sel: CPTSelection, pretrain: Schedule, steps: int, weight_old: float) -> None:
    rep = result.report
    rep.text(f"{len(sel.candidates)} settings scored by weight_old * L_old + (1 - weight_old) * L_new at the end "
             f"of {steps} continual pre-training steps after {pretrain.steps} pre-training steps "
             f"(weight_old = {weight_old:g}); each loss is predicted by its domain's CPT law.")
    rep.heading("Choice").code(sel.spec)
    cands = pd.DataFrame(sel.candidates)
    fig, (ax, ax_lr) = plt.subplots(1, 2, figsize=(11, 4))
    sc = ax.scatter(cands["old_loss"], cands["new_loss"], c=cands["score"], cmap="viridis_r", s=28)
    ax.plot([sel.old_loss], [sel.new_loss], "o", mfc="none", mec="C3", ms=14, mew=2, label="chosen")
    ax.set(xlabel="predicted old-domain loss", ylabel="predicted new-domain loss")
    ax.legend(frameon=False)
    fig.colorbar(sc, ax=ax, label="score")
    grid = np.arange(pretrain.steps + steps, dtype=float)
    ax_lr.plot(grid, sel.schedule(grid), color="C3")
    ax_lr.axvline(pretrain.steps - 0.5, color="0.6", ls="--", lw=1)
    ax_lr.set(xlabel="step", ylabel="lr", title="chosen schedule (dashed: start of continual pre-training)")
    fig.tight_layout()
    rep.figure(fig, "selection", "Every candidate's predicted losses (left) and the chosen LR schedule (right)")
    spread = float(cands["score"].max() - cands["score"].min())
    if len(cands) > 1 and spread < 1e-3:
        rep.text(f"The candidates' scores differ by only {spread:.2g}: the laws hardly separate these settings.")
    rep.heading("Candidates (best 30)").table(sel.candidates[:30], ["peak", "warmup", "replay", "old_loss",
                                                                   "new_loss", "score"])
