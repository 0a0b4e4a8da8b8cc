"""The select-schedule job: choose a schedule on a fitted law; its Result holds selection.json,
candidates.csv, curves.csv (the chosen schedule's predicted curve, in the readers' format),
chosen_spec.txt, baseline curves, a PNG against common baselines, report.html and a flat
metrics.json. Several laws are compared in :mod:`cltk.analytics.select_schedule.compare`."""
from __future__ import annotations

import numpy as np
import pandas as pd

from cltk.analytics.report import Report
from cltk.analytics.result import Result
from cltk.analytics.select_schedule.figures import selection_figure
from cltk.analytics.select_schedule.notes import cooldown_note, law_notes, unidentified_anneal_said
from cltk.curves import Curve
from cltk.laws import LossLaw
from cltk.schedules import cosine, parse, wsd
from cltk.selection import Selection, compare_schedules, cooldown_of, select_schedule

#: specs longer than this are shortened in tables and in the terminal (a free schedule's is ~2 kB)
SPEC_WIDTH = 90


def short_spec(spec: str, width: int = SPEC_WIDTH) -> str:
    """``spec`` for a table cell: a piecewise part as its knot count and first/last LR, anything
    else cut at ``width`` characters; the full text is in chosen_spec.txt and candidates.csv."""
    if len(spec) <= width:
        return spec
    parts = []
    for part in spec.split(" + "):
        if part.startswith("piecewise:") and ",lr=" in part:
            lrs = part.split(",lr=", 1)[1].split("/")
            part = f"piecewise:{len(lrs)} knots,lr={lrs[0]}..{lrs[-1]}"
        parts.append(part)
    text = " + ".join(parts)
    return text if len(text) <= width else text[: width - 3] + "..."


def baselines(total_steps: int, peak: float, warmup: int) -> dict:
    """The common references: cosine to 10% of peak, WSD with a 20% linear cooldown to 0."""
    frac = 0.2 * (total_steps - warmup) / total_steps
    return {"cosine to 10%": cosine(peak, total_steps, final=0.1 * peak, warmup=warmup),
            "WSD 20% linear": wsd(peak, total_steps, decay=frac, shape="linear", final=0.0, warmup=warmup)}


def choose(law: LossLaw, *, total_steps: int, peak_lr: float, family: str = "wsd", warmup: int = 0,
           objective: str = "final", checkpoints=None, level: float = 0.9, fit_curves=None, seed: int = 0) -> dict:
    """One law's choice and its evidence: ``selection`` (:func:`cltk.selection.select_schedule`),
    flat ``metrics``, ``tables``, paired ``comparisons`` in words, the law's ``notes`` and the
    predicted curves of the ``baselines``."""
    sel = select_schedule(law, total_steps, peak_lr, family=family, warmup=warmup, objective=objective,
                          checkpoints=checkpoints, level=level)
    base_schedules = baselines(total_steps, peak_lr, warmup)
    base = {name: law.predict(Curve.from_schedule(name, s, sel.steps)) for name, s in base_schedules.items()}
    notes = law_notes(law, fit_curves)
    odd = None if unidentified_anneal_said(notes) else cooldown_note(law, sel.final_loss, total_steps, peak_lr, warmup)
    notes += [odd] if odd else []
    metrics = {"law": law.name, "family": family, "objective": objective, "steps": int(total_steps),
               "peak_lr": float(peak_lr), "warmup": int(warmup), "chosen_spec": sel.spec,
               "chosen_score": sel.score, "chosen_final_loss": sel.final_loss,
               "interval_level": level if sel.interval else None,
               "chosen_final_lo": sel.interval[0] if sel.interval else None,
               "chosen_final_hi": sel.interval[1] if sel.interval else None,
               "cooldown": cooldown_of(sel.schedule, total_steps, warmup)["words"], "seed": int(seed),
               "n_notes": len(notes), "n_candidates": len(sel.candidates), "selection_seconds": sel.seconds,
               "best_grid_final_loss": min(r["final_loss"] for r in sel.candidates if r["spec"] != sel.spec)
               if family == "free" else sel.final_loss}
    tables = {"candidates": pd.DataFrame(sel.candidates)}
    for name, pred in base.items():
        key = name.lower().replace(" ", "_").replace("%", "pct")
        metrics[f"baseline_{key}_final_loss"] = float(pred[-1])
        tables[f"baseline_{key}"] = pd.DataFrame(
            {"step": sel.steps, "lr": base_schedules[name](sel.steps.astype(float)), "loss": pred})
    comparisons = _compare(law, sel, total_steps, peak_lr, warmup, level, metrics)
    return {"law": law, "selection": sel, "metrics": metrics, "tables": tables, "comparisons": comparisons,
            "notes": notes, "base": base, "base_schedules": base_schedules,
            "finals": _finals(law, sel, base_schedules, level)}


def run_select_schedule(law: LossLaw, *, total_steps: int, peak_lr: float, family: str = "wsd", warmup: int = 0,
                        objective: str = "final", checkpoints=None, level: float = 0.9, fit_curves=None,
                        seed: int = 0) -> Result:
    """Run :func:`cltk.selection.select_schedule` (theory-guided selection on the fitted law, e.g. the
    multi-power law of Luo et al. 2025, Eq. 1) and return every output as a Result. ``fit_curves``
    (when the law was fitted here) lets every caveat of the fit be checked; ``seed`` is recorded
    (it seeded that fit: the selection itself is deterministic)."""
    c = choose(law, total_steps=total_steps, peak_lr=peak_lr, family=family, warmup=warmup, objective=objective,
               checkpoints=checkpoints, level=level, fit_curves=fit_curves, seed=seed)
    sel, metrics = c["selection"], c["metrics"]
    result = Result(f"cltk select-schedule: {sel.family} family, {sel.objective} objective", metrics,
                    tables=c["tables"],
                    curves=pd.DataFrame({"step": sel.steps, "lr": sel.schedule(sel.steps.astype(float)),
                                         "loss": sel.predicted}),
                    files={"selection.json": {**metrics, "notes": c["notes"], "candidates": sel.candidates},
                           "chosen_spec.txt": sel.spec + "\n"}, metrics_in_report=False,
                    details={"selection": sel, "comparisons": c["comparisons"], "notes": c["notes"]})
    report_choice(result.report, c)
    return result


def _finals(law: LossLaw, sel: Selection, base_schedules: dict, level: float) -> list[dict]:
    """The final loss (and interval, with replicates) of the chosen schedule, the runner-up and
    the baselines, for the finals panel."""
    rows = [{"label": "chosen", "final": sel.final_loss, "lo": sel.interval and sel.interval[0],
             "hi": sel.interval and sel.interval[1]}]
    runner = next((r for r in sel.candidates if r["spec"] != sel.spec), None)
    others = ({"runner-up": parse(runner["spec"])} if runner else {}) | base_schedules
    last = np.array([sel.steps[-1]])
    for label, s in others.items():
        c = Curve.from_schedule(label, s, last)
        row = {"label": label, "final": float(law.predict(c)[0]), "lo": None, "hi": None}
        if getattr(law, "boot_params_", None):
            lo, hi = law.predict_interval(c, level=level)
            row.update(lo=float(lo[0]), hi=float(hi[0]))
        rows.append(row)
    return rows


def _compare(law: LossLaw, sel: Selection, total_steps: int, peak_lr: float, warmup: int, level: float,
             metrics: dict) -> list[str]:
    """Paired differences (:func:`cltk.selection.compare_schedules`) of the chosen schedule against the
    runner-up candidate and the baselines, into ``metrics``; returns one sentence per comparison."""
    others = {}
    runner = next((r for r in sel.candidates if r["spec"] != sel.spec), None)
    if runner is not None:
        others["runner_up"] = ("the runner-up candidate", parse(runner["spec"]))
        metrics["runner_up_spec"] = runner["spec"]
    for name, s in baselines(total_steps, peak_lr, warmup).items():
        others["baseline_" + name.lower().replace(" ", "_").replace("%", "pct")] = (name, s)
    lines = []
    for key, (label, other) in others.items():
        c = compare_schedules(law, sel.schedule, other, sel.score_steps, level)
        metrics[f"margin_vs_{key}"] = c["margin"]
        metrics[f"margin_vs_{key}_lo"], metrics[f"margin_vs_{key}_hi"] = c["margin_lo"], c["margin_hi"]
        what = "final loss" if sel.objective == "final" else "mean loss over the checkpoints"
        line = f"The chosen schedule beats {label} by {c['margin']:.4f} in predicted {what}"
        if c["margin_lo"] is not None:
            line += (f" ({level:.0%} paired interval [{c['margin_lo']:.4f}, {c['margin_hi']:.4f}]; better in "
                     f"{c['share_a_better']:.0%} of the bootstrap refits)")
            if c["margin_lo"] <= 0:
                line += ": the law cannot tell these two apart at this level"
        lines.append(line + ".")
    return lines


def report_choice(rep: Report, c: dict, name: str = "selection", spec_file: str = "chosen_spec.txt") -> None:
    """One law's choice (a :func:`choose` dict) as report sections: the choice and its scores
    first (they must be visible without scrolling), the law's warnings, the figure, the details."""
    sel, law, metrics, notes = c["selection"], c["law"], c["metrics"], c["notes"]
    iv = (f" ({int(sel.level * 100)}% interval [{sel.interval[0]:.4f}, {sel.interval[1]:.4f}])"
          if sel.interval else "")
    rep.text(f"Chosen ({sel.family} family, {sel.objective} objective): {metrics['cooldown']}; predicted final loss "
             f"{sel.final_loss:.4f}{iv}. Law: {law.name}; {metrics['n_candidates']} candidates scored in "
             f"{sel.seconds:.2f} s.")
    for line in c["comparisons"]:
        rep.text(line)
    if notes:
        rep.heading(f"Read this first: the {law.name} law's warnings")
        for note in notes:
            rep.text(note)
    rep.figure(selection_figure(sel, c["base"], c["base_schedules"], c["finals"]), name,
               "Left: the chosen schedule's predicted loss and LR against common baselines. Right: each "
               "schedule's predicted final above the best (symmetric-log axis, so 0.0001 and 0.04 both show; faint "
               "bars: separate intervals, which share most of the law's error) and the family's sweep (final loss "
               "per cooldown fraction and shape, chosen starred; the worst candidates are above the frame).")
    rep.heading("Choice").code(short_spec(sel.spec))
    if len(sel.spec) > SPEC_WIDTH:
        rep.link(spec_file, f"Full spec ({len(sel.spec)} characters): {spec_file}")
    rep.text(f"Law parameters: {', '.join(f'{k}={v:.4g}' for k, v in law.params_.items())}.")
    rep.table([{"figure": k, "value": "n/a" if v is None else v} for k, v in metrics.items()
               if k not in ("chosen_spec", "runner_up_spec")])
    if sel.interval:
        rep.text("Interval: percentiles of the law's bootstrap replicates (moving blocks of points) widened in "
                 "quadrature by the leave-one-curve-out relative error at the same level.")
    rep.heading("Candidates (best 30)").table([{**r, "spec": short_spec(r["spec"])} for r in sel.candidates[:30]])
