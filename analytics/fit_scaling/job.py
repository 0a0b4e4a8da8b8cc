"""The fit-scaling job: fit a loss-curve law on some curves, predict others, and return the outputs
of the benchmark contract (documented in docs/fit-scaling.md): metrics.json, law.json,
predictions.csv, PNG plots and report.html, written by :func:`cltk.analytics.result.write_result`."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from cltk.analytics import smoothing
from cltk.analytics.fit_scaling.report import INTERVAL_METHOD, curve_series, final_missed, shown_final, write_report
from cltk.analytics.law_caveats import BOUND_MEANING, caveats, law_caveats, record_identification
from cltk.analytics.metrics import curve_metrics, mean_metrics
from cltk.analytics.ranking import length_groups, rank_by_final
from cltk.analytics.result import Result
from cltk.curves import Curve, trained_points
from cltk.errors import InputError
from cltk.laws import DEFAULT_LAW, LossLaw, get_law, paper_fit

__all__ = ["BOUND_MEANING", "INTERVAL_METHOD", "PROCEDURE_TEXT", "caveats", "run_fit_scaling"]

PROCEDURE_TEXT = {
    "converged": "Sobol screening with variable projection, then robust least squares to convergence",
    "paper": ("the procedure of Luo et al.'s released code: grid-seeded fit of a simplified law, then "
              f"AdamW early-stopped after {paper_fit.PATIENCE} steps without improvement "
              f"(at most {paper_fit.MAX_STEPS} steps)")}


#: what a curve's reader recorded about where it came from (cltk.analytics.curve_files)
INPUT_KEYS = ("source", "format", "run", "columns", "loss_kind", "lr_source", "schedule", "warmup_steps")


def curve_input(c: Curve) -> dict:
    """Which file, layout, run and columns a curve was read from (saved per curve in metrics.json,
    so a reader can tell which loss was fitted)."""
    return {k: c.meta[k] for k in INPUT_KEYS if c.meta.get(k) is not None}


def run_fit_scaling(fit_curves: Sequence[Curve], heldout_curves: Sequence[Curve] = (), *,
                    law: str | LossLaw = DEFAULT_LAW, procedure: str = "converged", n_boot: int = 32,
                    level: float = 0.9, seed: int = 0, progress: Callable[[str], None] | None = None) -> Result:
    """Fit ``law`` jointly on ``fit_curves`` and predict every curve, with ``level`` prediction
    intervals from ``n_boot`` bootstrap refits unless ``n_boot`` is 0 (``seed``: the law's search and
    the refits' resampling, for a law given by name). Returns the Result whose ``metrics`` is the
    benchmark contract; goodness of fit as Luo et al. (2025, Sec. 4.2) report it."""
    if isinstance(law, str):
        law = get_law(law, procedure=procedure, seed=seed)
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

    rows, frames, series, finals_rep = [], [], [], {}
    for role, curves in (("fit", fit_curves), ("heldout", heldout_curves)):
        for c in curves:
            pred = law.predict(c)
            row = {"name": c.name, "role": role, **curve_metrics(c.loss, pred), "final_loss_true": float(c.loss[-1]),
                   "final_loss_true_smoothed": smoothing.smoothed_final(c.loss), "final_loss_pred": float(pred[-1]),
                   "final_step": int(c.steps[-1]), "input": curve_input(c)}
            frame = {"curve": c.name, "role": role, "step": c.steps, "lr": c.lrs[c.steps], "loss": c.loss,
                     "pred": pred}
            band = law.predict_interval(c, level=level) if n_boot else None
            if band is not None:
                inside = (band[0] <= c.loss) & (c.loss <= band[1])
                row.update(final_lo=float(band[0][-1]), final_hi=float(band[1][-1]),
                           final_in_interval=bool(inside[-1]), band_coverage=float(inside.mean()))
                if row["final_loss_true_smoothed"] is not None:
                    row["final_smoothed_in_interval"] = bool(band[0][-1] <= row["final_loss_true_smoothed"]
                                                             <= band[1][-1])
                frame.update(pred_lo=band[0], pred_hi=band[1])
                finals_rep[c.name] = law.predict_replicates(c, steps=c.steps[-1:])[:, 0]
            rows.append(row)
            frames.append(pd.DataFrame(frame))
            series.append(curve_series(c, pred, role, band, row))
    metrics = {"law": law.name, "params": law.params_, "fit_seconds": float(law.fit_info_["seconds"]),
               "procedure": law.procedure, "curves": rows,
               "heldout": mean_metrics([r for r in rows if r["role"] == "heldout"]),
               "fit": mean_metrics([r for r in rows if r["role"] == "fit"]),
               "points_dropped_before_training": dropped,
               "interval": {"level": level, "n_boot": n_boot, "method": INTERVAL_METHOD} if n_boot else None,
               "smoothing": smoothing.METHOD, "ranking": _ranking(rows, finals_rep, level)}
    held = [r for r in rows if r["role"] == "heldout"]
    if n_boot and held:
        metrics["heldout"]["interval_final_coverage"] = float(np.mean([r["final_in_interval"] for r in held]))
        metrics["heldout"]["interval_band_coverage"] = float(np.mean([r["band_coverage"] for r in held]))
    # what the readers dropped (a cut-off last row) comes first: it changes what was fitted
    read_warnings = [w for c in fit_curves + heldout_curves for w in c.meta.get("warnings", [])]
    metrics["notes"] = read_warnings + caveats(law, fit_curves, metrics)
    # law.json carries what a later prediction needs to judge itself (cltk predict, select-schedule):
    # the caveats of the law itself, not those about this run's files or held-out curves
    record_identification(law, fit_curves)
    law.fit_info_["notes"] = law_caveats(law, law.fit_info_["annealing_curves"])
    result = Result(f"cltk fit-scaling: {law.name} law", metrics,
                    tables={"predictions": pd.concat(frames, ignore_index=True)},
                    files={"law.json": law.to_json()}, metrics_in_report=False, details={"law": law, "series": series})
    write_report(result.report, law, metrics, series, PROCEDURE_TEXT[metrics["procedure"]])
    return result


def _ranking(rows: list[dict], finals_rep: dict, level: float) -> list[dict]:
    """The curves ranked by predicted final loss among the runs of the same length
    (:func:`cltk.analytics.ranking.length_groups`: a 72k-step run beats a 24k-step one whatever its
    schedule), longest runs first, with paired differences to each length's best where the law has
    bootstrap replicates (:func:`cltk.analytics.ranking.rank_by_final`) and the rank of the logged
    final (smoothed for a noisy log) among the same runs."""
    out = []
    for same in length_groups(rows):
        true_rank = {r["name"]: i for i, r in enumerate(sorted(same, key=shown_final), 1)}
        out += rank_by_final([{"name": r["name"], "role": r["role"], "final_step": r["final_step"],
                               "final_loss_pred": r["final_loss_pred"], "final_lo": r.get("final_lo"),
                               "final_hi": r.get("final_hi"), "final_loss_logged": shown_final(r),
                               "logged_rank": true_rank[r["name"]],
                               "final_inside": None if final_missed(r) is None else not final_missed(r)}
                              for r in same], finals_rep or None, level, key="final_loss_pred")
    return out
