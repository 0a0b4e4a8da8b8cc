"""The fit-cpt report: notes first, the fitted parameters of each domain side by side, the fit
quality per curve, and for each domain the whole runs and the continual phase zoomed in (logged
loss as markers, the law as lines, held-out runs in red), above the LR histories."""
from __future__ import annotations

import numpy as np

from cltk.analytics.report import Report, plt
from cltk.laws import CPTLaw

COLUMNS = ["domain", "name", "role", "replay", "points", "r2", "pred_e", "cpt_pred_e", "worst_e", "final_step",
           "final_loss_true", "final_loss_pred", "final_rel_err"]
#: colours of the fit runs: matplotlib's cycle without red, which marks the held-out runs
FIT_COLORS = ["C0", "C1", "C2", "C4", "C5", "C6", "C8", "C9"]


def report(rep: Report, laws: dict[str, CPTLaw], metrics: dict, figs: dict) -> None:
    """Fill ``rep`` from the job's laws, metrics and (curve, role, prediction) per domain."""
    first = next(iter(laws.values()))
    rep.text(f"The continual pre-training law was fitted per domain ({', '.join(laws)}) on "
             f"{len(first.fit_info_['curves'])} curve(s) ({', '.join(first.fit_info_['curves'])}): Sobol screening "
             "with variable projection, then robust least squares (Huber on log residuals). "
             f"{CPTLaw.__doc__.strip()}")
    rep.text("Each law file (cpt_law_old.json, cpt_law_new.json) is what `cltk select-cpt` reads to choose the "
             "re-warm peak, its length and the replay share.")
    if metrics["notes"]:
        rep.heading("Read this first")
        for note in metrics["notes"]:
            rep.text(note)
    rep.heading("Parameters")
    rep.table([{"parameter": k, **{d: law.params_[k] for d, law in laws.items()},
                "fixed (not fitted)": ", ".join(d for d, law in laws.items() if k in law.fixed)}
               for k in first.param_names])
    rep.heading("Runs").table(metrics["runs"], ["name", "role", "source", "replay", "switch_step", "cpt_start",
                                                "step_count", "last_step"])
    rep.heading("Fit quality per curve")
    rep.text("r2, pred_e (mean |y - yhat| / y) and worst_e over every logged point of the curve; cpt_pred_e over "
             "the points of the continual phase; steps in the whole run's count (pre-training and continual).")
    rep.table(metrics["curves"], COLUMNS)
    for d, law in metrics["laws"].items():
        for key in ("fit", "heldout"):
            if law[key]:
                rep.text(f"{d} domain, mean over {key} curves: " + ", ".join(f"{k} = {v:.5g}"
                                                                             for k, v in law[key].items()))
    rep.heading("Curves")
    rep.figure(_figure(figs), "cpt_fit", "Logged loss (markers) and the law (lines) per domain: whole runs (top), "
                                         "the continual phase from its first step (middle), LR (bottom)")


def _figure(figs: dict):
    doms = list(figs)
    fig, axes = plt.subplots(3, len(doms), figsize=(6.5 * len(doms), 9), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 3, 1.4]})
    for j, dom in enumerate(doms):
        ax, zoom, ax_lr = axes[:, j]
        runs = [x for x in figs[dom] if x[1] != "pretrain"]
        fit_colors = iter(FIT_COLORS * len(figs[dom]))
        for c, role, pred in figs[dom]:
            color = "0.3" if role == "pretrain" else "C3" if role == "heldout" else next(fit_colors)
            ls = "--" if role == "heldout" else "-"
            every = max(1, len(c.steps) // 300)  # a per-step log would merge into a blob
            ax.plot(c.steps[::every], c.loss[::every], "o", ms=2, color=color, alpha=0.5)
            ax.plot(c.steps, pred, ls, color=color, lw=1.2, label=f"{c.name} ({role})")
            t0 = c.meta["cpt_start"]
            if role != "pretrain":
                cpt = c.steps >= t0
                zoom.plot(c.steps[cpt][::every] - t0, c.loss[cpt][::every], "o", ms=2, color=color, alpha=0.5)
                zoom.plot(c.steps[cpt] - t0, pred[cpt], ls, color=color, lw=1.2)
                ax_lr.plot(np.arange(len(c.lrs)), c.lrs, ls, color=color, lw=1)
        if runs:
            ax.axvline(runs[0][0].meta["cpt_start"] - 0.5, color="0.6", ls=":", lw=1)
            ax_lr.axvline(runs[0][0].meta["cpt_start"] - 0.5, color="0.6", ls=":", lw=1)
        ax.set(title=f"{dom} domain", ylabel="loss")
        ax.legend(frameon=False, fontsize=7)
        zoom.set(xlabel="steps since the switch", ylabel="loss (continual phase)")
        ax_lr.set(xlabel="step", ylabel="lr")
    fig.tight_layout()
    return fig
