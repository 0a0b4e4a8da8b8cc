"""The select-schedule job: choose a schedule on a fitted law; its Result holds selection.json,
candidates.csv, curves.csv (the chosen schedule's predicted curve, in the readers' format),
baseline curves, a PNG against common baselines, report.html and a flat metrics.json."""
from __future__ import annotations

import numpy as np
import pandas as pd

from cltk.analytics.report import Report, plt
from cltk.analytics.result import Result
from cltk.curves import Curve
from cltk.laws import LossLaw
from cltk.schedules import cosine, parse, wsd
from cltk.selection import Selection, compare_schedules, select_schedule


def baselines(total_steps: int, peak: float, warmup: int) -> dict:
    """The common references: cosine to 10% of peak, WSD with a 20% linear cooldown to 0."""
    frac = 0.2 * (total_steps - warmup) / total_steps
    return {"cosine to 10%": cosine(peak, total_steps, final=0.1 * peak, warmup=warmup),
            "WSD 20% linear": wsd(peak, total_steps, decay=frac, shape="linear", final=0.0, warmup=warmup)}


def run_select_schedule(law: LossLaw, *, total_steps: int, peak_lr: float, family: str = "wsd", warmup: int = 0,
                        objective: str = "final", checkpoints=None, level: float = 0.9) -> Result:
    """Run :func:`cltk.selection.select_schedule` (theory-guided selection on the fitted law, e.g. the
    multi-power law of Luo et al. 2025, Eq. 1) and return every output as a Result."""
    sel = select_schedule(law, total_steps, peak_lr, family=family, warmup=warmup, objective=objective,
                          checkpoints=checkpoints, level=level)
    base = {name: law.predict(Curve.from_schedule(name, s, sel.steps)) for name, s in
            baselines(total_steps, peak_lr, warmup).items()}
    metrics = {"law": law.name, "family": family, "objective": objective, "steps": int(total_steps),
               "peak_lr": float(peak_lr), "warmup": int(warmup), "chosen_spec": sel.spec,
               "chosen_score": sel.score, "chosen_final_loss": sel.final_loss,
               "interval_level": level if sel.interval else None,
               "chosen_final_lo": sel.interval[0] if sel.interval else None,
               "chosen_final_hi": sel.interval[1] if sel.interval else None,
               "n_candidates": len(sel.candidates), "selection_seconds": sel.seconds,
               "best_grid_final_loss": min(r["final_loss"] for r in sel.candidates if r["spec"] != sel.spec)
               if family == "free" else sel.final_loss}
    for name, pred in base.items():
        key = name.lower().replace(" ", "_").replace("%", "pct")
        metrics[f"baseline_{key}_final_loss"] = float(pred[-1])
    comparisons = _compare(law, sel, total_steps, peak_lr, warmup, level, metrics)
    tables = {"candidates": pd.DataFrame(sel.candidates)}
    for name, s in baselines(total_steps, peak_lr, warmup).items():
        safe = name.lower().replace(" ", "_").replace("%", "pct")
        tables[f"baseline_{safe}"] = pd.DataFrame(
            {"step": sel.steps, "lr": s(sel.steps.astype(float)), "loss": base[name]})
    result = Result(f"cltk select-schedule: {sel.family} family, {sel.objective} objective", metrics, tables=tables,
                    curves=pd.DataFrame({"step": sel.steps, "lr": sel.schedule(sel.steps.astype(float)),
                                         "loss": sel.predicted}),
                    files={"selection.json": {**metrics, "candidates": sel.candidates}}, metrics_in_report=False,
                    details={"selection": sel, "comparisons": comparisons})
    _report(result.report, sel, law, base, metrics, comparisons)
    return result


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


def _report(rep: Report, sel: Selection, law: LossLaw, base: dict, metrics: dict, comparisons: list[str]) -> None:
    fig, (ax, ax_lr) = plt.subplots(2, 1, figsize=(7.5, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    ax.plot(sel.steps, sel.predicted, color="C3", lw=2, label=f"chosen ({sel.family})")
    for i, (name, pred) in enumerate(base.items()):
        ax.plot(sel.steps, pred, color=f"C{i}", lw=1, label=name)
    if sel.interval:
        ax.errorbar([sel.steps[-1]], [sel.final_loss], yerr=[[sel.final_loss - sel.interval[0]],
                    [sel.interval[1] - sel.final_loss]], fmt="o", color="C3", capsize=4,
                    label=f"{int(sel.level * 100)}% interval")
    lo = min(float(np.min(p[len(p) // 3:])) for p in [sel.predicted, *base.values()])
    hi = max(float(np.max(p[len(p) // 3:])) for p in [sel.predicted, *base.values()])
    ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.4 * (hi - lo))
    ax.set_ylabel("predicted loss")
    ax.legend(frameon=False)
    grid = np.arange(sel.steps[-1] + 1, dtype=float)
    ax_lr.plot(grid, sel.schedule(grid), color="C3", lw=2)
    for i, s in enumerate(baselines(metrics["steps"], metrics["peak_lr"], metrics["warmup"]).values()):
        ax_lr.plot(grid, s(grid), color=f"C{i}", lw=1)
    ax_lr.set_ylabel("lr")
    ax_lr.set_xlabel("step")
    fig.tight_layout()
    rep.text(f"Law: {law.name} ({', '.join(f'{k}={v:.4g}' for k, v in law.params_.items())}). "
             f"{metrics['n_candidates']} candidates scored in {sel.seconds:.2f} s.")
    rep.heading("Choice").code(sel.spec)
    for line in comparisons:
        rep.text(line)
    rep.table([{"figure": k, "value": "n/a" if v is None else v} for k, v in metrics.items()
               if k not in ("chosen_spec", "runner_up_spec")])
    rep.figure(fig, "selection", "Chosen schedule and its predicted loss against common baselines")
    if sel.interval:
        rep.text("Interval: percentiles of the law's bootstrap replicates (moving blocks of "
                 "moving blocks of points) widened in quadrature by the leave-one-curve-out relative error "
                 "at the same level.")
    rep.heading("Candidates (best 30)").table(sel.candidates[:30])
