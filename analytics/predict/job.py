"""The predict job: a fitted law's predicted loss curves for schedules nobody has trained, their
final losses with intervals, and a ranking by paired differences against the best; its Result holds
predictions.csv, comparison.csv, a plot of the curves overlaid, report.html and metrics.json."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cltk.analytics.law_caveats import NO_ANNEAL_NOTE
from cltk.analytics.predict.report import write_report
from cltk.analytics.ranking import rank_by_final
from cltk.analytics.result import Result
from cltk.curves import Curve, warmup_end
from cltk.errors import InputError
from cltk.laws import LossLaw
from cltk.schedules import Schedule

#: points of a predicted curve when no steps are given (as LossLaw.predict spreads them)
DEFAULT_POINTS = 512
# a metrics.json beside a law file is read for its notes only up to this size
_MAX_METRICS_BYTES = 5_000_000


def prediction_steps(schedule: Schedule, steps=None) -> np.ndarray:
    """The steps a schedule is predicted at: ``steps`` (checked against its length), or
    :data:`DEFAULT_POINTS` steps spread from step 1 to its last step."""
    if steps is None:
        if schedule.steps is None:
            raise InputError(f"schedule '{schedule.spec}' is unbounded: give the steps to predict at")
        return np.unique(np.linspace(1, schedule.steps - 1, DEFAULT_POINTS).astype(np.int64))
    at = np.unique(np.asarray(steps, dtype=np.int64))
    if at[0] < 1:
        raise InputError(f"steps to predict must be >= 1 (the loss after the first update), got {int(at[0])}")
    if schedule.steps is not None and at[-1] >= schedule.steps:
        raise InputError(f"step {int(at[-1])} is beyond schedule '{schedule.spec}' ({schedule.steps} steps: "
                         f"0..{schedule.steps - 1})")
    return at


def fit_notes_beside(law_path, law: LossLaw) -> list[str] | None:
    """The notes of the fit that wrote ``law_path``: the ``notes`` of the ``metrics.json`` that
    ``cltk fit-scaling`` writes beside its ``law.json``, when that file holds this very law (same
    name and parameters); None when there is no such file (what the fit saw is then unknown)."""
    path = Path(law_path).with_name("metrics.json")
    try:
        if not path.is_file() or path.stat().st_size > _MAX_METRICS_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("law") != law.name or data.get("params") != law.params_:
        return None
    notes = data.get("notes")
    return [str(n) for n in notes] if isinstance(notes, list) else None


def _decays(schedule: Schedule, last: int) -> bool:
    """Whether the schedule lowers its LR after its warmup, up to step ``last``."""
    lrs = schedule.render(last + 1)
    return bool(np.any(np.diff(lrs[warmup_end(lrs):]) < 0))


def run_predict(law: LossLaw, schedules: dict[str, Schedule], *, steps=None, level: float = 0.9,
                fit_notes: list[str] | None = None, cpt_start: int | None = None, replay: float = 0.0) -> Result:
    """Predict each schedule's loss curve with a fitted law (e.g. the multi-power law of Luo et al.
    2025, Eq. 1, or the power-anneal law) and rank the schedules by predicted final loss (the loss
    at the last predicted step). With bootstrap replicates in the law, each final loss gets its
    ``level`` prediction interval (:meth:`LossLaw.predict_interval`) and each schedule its *paired*
    difference to the best one, replicate by replicate (:meth:`LossLaw.predict_replicates`): the
    misfit common to two schedules cancels, so the ranking is sharper than two intervals allow.
    ``fit_notes`` are the notes of the law's fit (None: unknown). A continual-pre-training law
    (:class:`cltk.laws.CPTLaw`, Wang et al. 2025, Eq. 3-5) needs ``cpt_start``, the first step of
    the continual phase of every schedule, and the ``replay`` share of old-domain data in it."""
    if not schedules:
        raise InputError("give at least one schedule to predict")
    law._check_fitted()
    if (law.name == "cpt") != (cpt_start is not None):
        raise InputError("cpt_start (the first continual step) is needed by a cpt law and only by it; "
                         f"this law is '{law.name}'")
    meta = {"cpt_start": int(cpt_start), "replay": float(replay)} if cpt_start is not None else {}
    boot = bool(getattr(law, "boot_params_", None))
    rows, frames, curves, finals_rep = [], [], {}, {}
    for name, sched in schedules.items():
        at = prediction_steps(sched, steps)
        target = Curve.from_schedule(name, sched, at, meta=meta)  # a curve carries the CPT switch step
        pred = law.predict(target, steps=at)
        frame = {"schedule": name, "step": at, "lr": sched(at.astype(np.float64)), "pred": pred}
        row = {"name": name, "spec": sched.spec, "final_step": int(at[-1]), "final_loss": float(pred[-1]),
               "final_lo": None, "final_hi": None}
        band = None
        if boot:
            band = law.predict_interval(target, steps=at, level=level)
            frame.update(pred_lo=band[0], pred_hi=band[1])
            row.update(final_lo=float(band[0][-1]), final_hi=float(band[1][-1]))
            finals_rep[name] = law.predict_replicates(target, steps=at[-1:])[:, 0]
        rows.append(row)
        frames.append(pd.DataFrame(frame))
        curves[name] = (at, pred, band)
    rows = rank_by_final(rows, finals_rep if boot else None, level)
    best = rows[0]
    notes = _notes(law, schedules, rows, fit_notes, boot, level)
    metrics = {"law": law.name, "law_params": law.params_, "fit_curves": law.fit_info_.get("curves"),
               "interval_level": level if boot else None, "n_replicates": len(law.boot_params_) if boot else 0,
               "cpt_start": meta.get("cpt_start"), "replay": meta.get("replay"), "n_schedules": len(rows),
               "best": best["name"], "best_final_loss": best["final_loss"],
               "schedules": rows, "notes": notes}
    columns = ["rank", "name", "final_step", "final_loss", "final_lo", "final_hi", "diff_vs_best", "diff_lo",
               "diff_hi", "diff_excludes_zero", "share_best_lower", "spec"]
    result = Result(f"cltk predict: {len(rows)} schedule(s), {law.name} law", metrics,
                    tables={"predictions": pd.concat(frames, ignore_index=True),
                            "comparison": pd.DataFrame(rows, columns=columns)},
                    metrics_in_report=False, details={"curves": curves})
    write_report(result.report, law, schedules, rows, curves, metrics)
    return result


def _notes(law: LossLaw, schedules: dict[str, Schedule], rows: list[dict], fit_notes, boot: bool,
           level: float) -> list[str]:
    """What a reader of the predictions must know, in words. The fit's notes are ``fit_notes`` (read
    beside the law file) or else those the law file records (``fit_info.notes``); whether the fit
    curves identified the annealing term is read from ``fit_info.annealing_curves`` (recorded by
    fit-scaling), else from those notes."""
    info = law.fit_info_ or {}
    if fit_notes is None and isinstance(info.get("notes"), list):
        fit_notes = [str(n) for n in info["notes"]]
    notes = [f"fit: {n}" for n in fit_notes or []]
    anneals = info.get("annealing_curves")
    if isinstance(anneals, list):
        unidentified, known = not anneals, True
    else:  # a law file written before fit-scaling recorded it
        known = fit_notes is not None
        unidentified = known and any(NO_ANNEAL_NOTE in n for n in fit_notes)
    # the CPT law's annealing terms are fitted on its own two-phase runs: fit-scaling's caveat is not its
    decaying = [r["name"] for r in rows if law.name != "cpt" and _decays(schedules[r["name"]], r["final_step"])]
    if unidentified and decaying and law.name != "cpt":
        notes.append(f"The law was fitted on no run that lowers its LR after warmup, so its predictions of the "
                     f"decaying schedule(s) {', '.join(decaying)} are guesses: the annealing term was not "
                     "measured. Fit on at least one run that decays before trusting this ranking.")
        flat = [r for r in rows if r["name"] not in decaying]
        raised = [r["name"] for r in rows if r["name"] in decaying and flat and r["final_loss"] > flat[0]["final_loss"]]
        if raised:
            notes.append(f"It predicts that decaying the LR ({', '.join(raised)}) ends above holding it "
                         f"({flat[0]['name']}): no measured run says so; this is the unidentified annealing term, "
                         "not evidence against a cooldown.")
    elif not known and decaying:
        notes.append("The law file does not record its fit curves, and no metrics.json of the fit lies beside it, "
                     "so whether the fit curves identified the annealing term is unknown: the predictions of "
                     "decaying schedules are only as good as the decaying runs the law was fitted on.")
    lr_max = info.get("fit_lr_max")
    if isinstance(lr_max, (int, float)):
        above = [r["name"] for r in rows
                 if schedules[r["name"]].render(r["final_step"] + 1).max() > lr_max * (1 + 1e-6)]
        if above:
            notes.append(f"{', '.join(above)} reach(es) an LR above every fit curve's (at most {lr_max:.3g}): the law "
                         "extrapolates in LR there, which the fit curves do not check.")
    if not boot:
        how = ("a CPT law from `cltk fit-cpt` or `cltk validate` has none" if law.name == "cpt"
               else "refit with `cltk fit-scaling --intervals N`")
        notes.append(f"The law file carries no bootstrap replicates: no intervals and no paired differences ({how}).")
    else:
        tied = [r["name"] for r in rows if r["diff_excludes_zero"] is False]
        if tied:
            notes.append(f"At the {level:.0%} level the law cannot tell {', '.join(tied)} from the best "
                         f"schedule ({rows[0]['name']}): their paired intervals include 0.")
    ends = {r["final_step"] for r in rows}
    if len(ends) > 1:
        notes.append("The schedules end at different steps: each final loss is at its own last step, so the "
                     "ranking mixes schedule and training length.")
    return notes
