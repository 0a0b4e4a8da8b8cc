"""The fit-scaling job: fit a loss-curve law on some curves, predict others, and return the outputs
of the benchmark contract (documented in docs/fit-scaling.md): metrics.json, law.json,
predictions.csv, PNG plots and report.html, written by :func:`cltk.analytics.result.write_result`."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from cltk.analytics.metrics import curve_metrics, mean_metrics
from cltk.analytics.report import Report, plt
from cltk.analytics.result import Result
from cltk.curves import Curve, trained_points, warmup_end
from cltk.errors import InputError
from cltk.laws import DEFAULT_LAW, LossLaw, get_law, paper_fit

INTERVAL_METHOD = ("percentiles of bootstrap refits (moving blocks of 10% of each curve's points), widened in "
                   "quadrature by the leave-one-curve-out relative error at the same level")

PROCEDURE_TEXT = {
    "converged": "Sobol screening with variable projection, then robust least squares to convergence",
    "paper": ("the procedure of Luo et al.'s released code: grid-seeded fit of a simplified law, then "
              f"AdamW early-stopped after {paper_fit.PATIENCE} steps without improvement "
              f"(at most {paper_fit.MAX_STEPS} steps)")}


def curve_figure(curve: Curve, pred: np.ndarray, role: str, band=None):
    """Loss (markers) with the law's prediction (line, and its band) above, the LR schedule below."""
    fig, (ax, ax_lr) = plt.subplots(2, 1, figsize=(7, 4.8), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    if len(curve.steps) > 2000:  # a per-step log: markers would merge into a blob
        ax.plot(curve.steps, curve.loss, "-", lw=0.4, color="0.55", label="logged loss")
    else:
        ax.plot(curve.steps, curve.loss, "o", ms=2.5, color="0.35", label="logged loss")
    color = "C3" if role == "heldout" else "C0"
    ax.plot(curve.steps, pred, "-", color=color, label=f"law ({role})")
    if band is not None:
        ax.fill_between(curve.steps, band[0], band[1], color=color, alpha=0.2, lw=0, label="prediction interval")
    ax.set_ylabel("loss")
    ax.set_title(curve.name)
    ax.legend(frameon=False)
    ax_lr.plot(np.arange(len(curve.lrs)), curve.lrs, color="C2")
    ax_lr.set_ylabel("lr")
    ax_lr.set_xlabel("step")
    fig.tight_layout()
    return fig


def run_fit_scaling(fit_curves: Sequence[Curve], heldout_curves: Sequence[Curve] = (), *,
                    law: str | LossLaw = DEFAULT_LAW, procedure: str = "converged", n_boot: int = 32,
                    level: float = 0.9, progress: Callable[[str], None] | None = None) -> Result:
    """Fit ``law`` jointly on ``fit_curves`` and predict every curve, with ``level`` prediction
    intervals from ``n_boot`` bootstrap refits unless ``n_boot`` is 0. Returns the Result whose
    ``metrics`` is the benchmark contract; goodness of fit as Luo et al. (2025, Sec. 4.2) report it."""
    if isinstance(law, str):
        law = get_law(law, procedure=procedure)
    dropped = {}
    fit_curves, heldout_curves = [list(map(trained_points, cs)) for cs in (fit_curves, heldout_curves)]
    for c, n in fit_curves + heldout_curves:
        if n:
            dropped[c.name] = n
    fit_curves = [c for c, _ in fit_curves]
    heldout_curves = [c for c, _ in heldout_curves]
    seen = {}
    for c in fit_curves + heldout_curves:
        if c.name in seen:
            raise InputError(f"{c.meta.get('source', c.name)} and {seen[c.name]} are both named '{c.name}': "
                             "curve names must be unique (rename one file)")
        seen[c.name] = c.meta.get("source", c.name)
    law.fit(fit_curves, progress=progress)
    if n_boot:
        law.bootstrap(fit_curves, n=n_boot, progress=progress)

    rows, frames, report_figs = [], [], []
    for role, curves in (("fit", fit_curves), ("heldout", heldout_curves)):
        for c in curves:
            pred = law.predict(c)
            row = {"name": c.name, "role": role, **curve_metrics(c.loss, pred), "final_loss_true": float(c.loss[-1]),
                   "final_loss_pred": float(pred[-1])}
            frame = {"curve": c.name, "role": role, "step": c.steps, "lr": c.lrs[c.steps], "loss": c.loss,
                     "pred": pred}
            band = law.predict_interval(c, level=level) if n_boot else None
            if band is not None:
                inside = (band[0] <= c.loss) & (c.loss <= band[1])
                row.update(final_lo=float(band[0][-1]), final_hi=float(band[1][-1]),
                           final_in_interval=bool(inside[-1]), band_coverage=float(inside.mean()))
                frame.update(pred_lo=band[0], pred_hi=band[1])
            rows.append(row)
            frames.append(pd.DataFrame(frame))
            report_figs.append((c, pred, role, band))
    metrics = {"law": law.name, "params": law.params_, "fit_seconds": float(law.fit_info_["seconds"]),
               "procedure": law.procedure, "curves": rows,
               "heldout": mean_metrics([r for r in rows if r["role"] == "heldout"]),
               "fit": mean_metrics([r for r in rows if r["role"] == "fit"]),
               "points_dropped_before_training": dropped,
               "interval": {"level": level, "n_boot": n_boot, "method": INTERVAL_METHOD} if n_boot else None}
    held = [r for r in rows if r["role"] == "heldout"]
    if n_boot and held:
        metrics["heldout"]["interval_final_coverage"] = float(np.mean([r["final_in_interval"] for r in held]))
        metrics["heldout"]["interval_band_coverage"] = float(np.mean([r["band_coverage"] for r in held]))
    # what the readers dropped (a cut-off last row) comes first: it changes what was fitted
    read_warnings = [w for c in fit_curves + heldout_curves for w in c.meta.get("warnings", [])]
    metrics["notes"] = read_warnings + caveats(law, fit_curves, metrics)
    result = Result(f"cltk fit-scaling: {law.name} law", metrics,
                    tables={"predictions": pd.concat(frames, ignore_index=True)},
                    files={"law.json": law.to_json()}, metrics_in_report=False, details={"law": law})
    _report(result.report, law, metrics, report_figs)
    return result


#: what a parameter on a bound of its range means, where the law says more than "not pinned down"
BOUND_MEANING = {
    ("poweranneal", "beta", "upper"): "the relaxation kernel is exponential, 1 - exp(-C x)",
    ("poweranneal", "delta", "lower"): "delta ~ 0: a drop buys as much late in training as early",
    ("poweranneal", "delta", "upper"): "delta = 0.5, the largest fading allowed: the fit curves pull it further",
    ("multipower", "beta", "lower"): "the relaxation is as slow as the law allows",
}


def caveats(law: LossLaw, fit_curves: Sequence[Curve], metrics: dict) -> list[str]:
    """What a reader of the fit must know, in words: block means, parameters on a bound, an
    unidentified annealing term, intervals too wide to separate the held-out curves."""
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
    anneals = [c.name for c in fit_curves if np.any(np.diff(c.lrs[warmup_end(c.lrs):]) < 0)]
    if not anneals and law.name != "cpt":
        notes.append("No fit curve lowers its learning rate after warmup: the annealing term is not identified, "
                     "so predictions of decaying schedules are guesses. Fit on at least one run that decays.")
    held = [r for r in metrics["curves"] if r["role"] == "heldout" and "final_lo" in r]
    if len(held) >= 2:
        width = float(np.mean([r["final_hi"] - r["final_lo"] for r in held]))
        spread = max(r["final_loss_true"] for r in held) - min(r["final_loss_true"] for r in held)
        if width >= spread:
            notes.append(f"The {metrics['interval']['level']:.0%} intervals of the held-out final losses (mean width "
                         f"{width:.4f}) are wider than the spread of those finals ({spread:.4f}): they cannot "
                         "separate these schedules; rank them with paired differences (cltk select-schedule).")
    return notes


def _report(rep: Report, law: LossLaw, metrics: dict, figs) -> None:
    rep.text(f"Fitted jointly on {len(law.fit_info_['curves'])} curve(s) ({', '.join(law.fit_info_['curves'])}) "
             f"in {metrics['fit_seconds']:.2f} s: {PROCEDURE_TEXT[metrics['procedure']]} "
             f"(Huber, delta = {law.huber_delta:g}, on log residuals). {law.__doc__.strip()}")
    if metrics["notes"]:
        rep.heading("Read this first")
        for note in metrics["notes"]:
            rep.text(note)
    rep.heading("Parameters").table([{"parameter": k, "value": v} for k, v in law.params_.items()])
    rep.heading("Metrics per curve")
    cols = ["name", "role", "r2", "mae", "rmse", "pred_e", "worst_e", "final_loss_true", "final_loss_pred",
            "final_lo", "final_hi", "band_coverage"]
    rep.table(metrics["curves"], cols)
    for key in ("fit", "heldout"):
        if metrics[key]:
            rep.text(f"Mean over {key} curves: " + ", ".join(f"{k} = {v:.5g}" for k, v in metrics[key].items()))
    if metrics["points_dropped_before_training"]:
        rep.text(f"Points logged before any LR area were left out: {metrics['points_dropped_before_training']}")
    rep.heading("Curves")
    if metrics["interval"]:
        rep.text(f"Prediction intervals ({metrics['interval']['level']:.0%}): {INTERVAL_METHOD}")
    for c, pred, role, band in figs:  # the report makes the PNG name safe and distinct
        rep.figure(curve_figure(c, pred, role, band), f"curve_{c.name}", f"{c.name} ({role})")
