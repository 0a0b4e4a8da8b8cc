"""Several laws fitted on the same curves, one schedule question: each law's choice
(:func:`cltk.analytics.select_schedule.job.choose`), every choice scored by every law
(:func:`cltk.selection.cross_evaluate`), and a sentence saying whether and by how much they
disagree. Outputs: comparison.csv, cross_evaluation.csv, candidates_<law>.csv,
chosen_spec_<law>.txt, curves/<law>.csv (each choice's predicted curve, readers' format),
comparison.json, comparison.png, one selection_<law>.png per law, report.html, flat metrics.json."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cltk.analytics.report import Report
from cltk.analytics.result import Result
from cltk.analytics.select_schedule.figures import comparison_figure
from cltk.analytics.select_schedule.job import choose, report_choice, short_spec
from cltk.curves import Curve
from cltk.selection import cooldown_of, cross_evaluate

#: choices closer than this (fraction of the run decaying, final LR / peak) count as the same
SAME_FRACTION, SAME_FINAL_RATIO = 0.01, 0.005


def law_keys(labels: list[str]) -> dict[str, str]:
    """A file- and key-safe name per label (``multipower``, ``momentum (fit-b)`` -> ``momentum_fit_b``)."""
    keys = {}
    for label in labels:
        key = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "law"
        while key in keys.values():
            key += "_"
        keys[label] = key
    return keys


def run_compare_laws(laws: dict, *, total_steps: int, peak_lr: float, family: str = "wsd", warmup: int = 0,
                     objective: str = "final", checkpoints=None, level: float = 0.9, fit_curves=None,
                     seed: int = 0) -> Result:
    """Choose a schedule with each of ``laws`` (label -> fitted law) and cross-evaluate the choices:
    the comparison of Luo et al.'s multi-power law (2025, Eq. 1) with the momentum law of Tissue
    et al. (2024, Eq. 1) that a user of either would make by hand."""
    labels, keys = list(laws), law_keys(list(laws))
    chosen = {who: choose(law, total_steps=total_steps, peak_lr=peak_lr, family=family, warmup=warmup,
                          objective=objective, checkpoints=checkpoints, level=level, fit_curves=fit_curves, seed=seed)
              for who, law in laws.items()}
    sels = {who: c["selection"] for who, c in chosen.items()}
    cross = cross_evaluate(laws, {w: s.schedule for w, s in sels.items()}, sels[labels[0]].score_steps, level)
    shapes = {who: cooldown_of(s.schedule, total_steps, warmup) for who, s in sels.items()}
    sentences = disagreement(labels, shapes, sels, cross, objective, level)
    fit_sets = {who: tuple(getattr(law, "fit_info_", {}).get("curves", ())) for who, law in laws.items()}
    if len(set(fit_sets.values())) > 1:
        sentences.append("The laws were not fitted on the same curves (" + "; ".join(
            f"{w}: {', '.join(v) or 'unknown'}" for w, v in fit_sets.items()) + "): their disagreement mixes "
            "the laws' forms with their data.")
    metrics = {"laws": ",".join(labels), "family": family, "objective": objective, "steps": int(total_steps),
               "peak_lr": float(peak_lr), "warmup": int(warmup), "level": level, "seed": int(seed),
               "agree": not any(_differ(shapes[a], shapes[b]) for a in labels for b in labels)}
    table = []
    for who in labels:
        m, k = chosen[who]["metrics"], keys[who]
        for field in ("chosen_spec", "chosen_final_loss", "chosen_final_lo", "chosen_final_hi", "cooldown", "n_notes"):
            metrics[f"{k}_{field}"] = m[field]
        table.append({"law": who, "recommended": m["cooldown"], "predicted final": m["chosen_final_loss"],
                      "interval": _iv(m), "warnings": m["n_notes"], "spec": short_spec(m["chosen_spec"], 60)})
    for r in cross:
        if r["law"] != r["schedule_of"]:
            pre = f"{keys[r['schedule_of']]}_choice_under_{keys[r['law']]}"
            metrics.update({f"{pre}_regret": r["regret"], f"{pre}_regret_lo": r["regret_lo"],
                            f"{pre}_regret_hi": r["regret_hi"], f"{pre}_resolved": r["resolved"]})
    metrics["max_regret"] = max(r["regret"] for r in cross)
    tables = {"comparison": pd.DataFrame([{**t, "spec": chosen[t["law"]]["metrics"]["chosen_spec"]} for t in table]),
              "cross_evaluation": pd.DataFrame(cross)}
    tables.update({f"candidates_{keys[w]}": c["tables"]["candidates"] for w, c in chosen.items()})
    curves = []
    for who, s in sels.items():
        c = Curve.from_schedule(keys[who], s.schedule, s.steps)
        c.loss = np.asarray(s.predicted, dtype=float)
        curves.append(c)
    files = {f"chosen_spec_{keys[w]}.txt": s.spec + "\n" for w, s in sels.items()}
    files["comparison.json"] = {**metrics, "sentences": sentences, "cross_evaluation": cross,
                                "notes": {w: c["notes"] for w, c in chosen.items()}}
    result = Result(f"cltk select-schedule: {len(labels)} laws compared ({family} family, {objective} objective)",
                    metrics, tables=tables, curves=curves, files=files, metrics_in_report=False,
                    details={"chosen": chosen, "cross": cross, "sentences": sentences, "table": table})
    _report(result.report, labels, keys, chosen, table, cross, sentences, total_steps)
    return result


def _iv(m: dict) -> str:
    return "n/a" if m["chosen_final_lo"] is None else f"[{m['chosen_final_lo']:.4f}, {m['chosen_final_hi']:.4f}]"


def _differ(a: dict, b: dict) -> bool:
    return (a["shape"] != b["shape"] or abs(a["fraction"] - b["fraction"]) >= SAME_FRACTION
            or abs(a["final_ratio"] - b["final_ratio"]) >= SAME_FINAL_RATIO)


def disagreement(labels, shapes, sels, cross, objective, level) -> list[str]:
    """In words: whether the laws recommend the same cooldown and, when not, how much worse each
    law predicts the other's choice than its own (a paired difference; resolved when its
    ``level`` interval excludes 0)."""
    what = "final loss" if objective == "final" else "mean loss over the checkpoints"
    if not any(_differ(shapes[a], shapes[b]) for a in labels for b in labels):
        return [f"The laws agree: all recommend {shapes[labels[0]]['words']} (within {SAME_FRACTION:.0%} of the "
                "run in cooldown length)."]
    out = ["The laws disagree: " + "; ".join(f"{w} recommends {shapes[w]['words']} (predicted {what} "
                                              f"{sels[w].score:.4f})" for w in labels) + "."]
    for r in cross:
        if r["law"] == r["schedule_of"]:
            continue
        worse = "worse" if r["regret"] >= 0 else "better"
        line = f"Under {r['law']}, the choice of {r['schedule_of']} is {abs(r['regret']):.4f} {worse} in predicted " \
               f"{what} than {r['law']}'s own choice"
        if r["regret_lo"] is not None:
            verdict = ("resolved: this law prefers its own choice" if r["regret_lo"] > 0 else
                       "resolved: this law prefers the other choice" if r["regret_hi"] < 0 else
                       "not resolved: the law cannot tell the two apart")
            line += f" ({level:.0%} paired interval [{r['regret_lo']:+.4f}, {r['regret_hi']:+.4f}]; {verdict})"
        out.append(line + ".")
    out.append("Predicted levels differ between laws; compare choices by these paired differences, each law "
               "judging both schedules.")
    return out


def _report(rep: Report, labels, keys, chosen, table, cross, sentences, total_steps) -> None:
    rep.table(table, ["law", "recommended", "predicted final", "interval", "warnings"])
    for s in sentences:
        rep.text(s)
    warnings = [(who, n) for who in labels for n in chosen[who]["notes"]]
    if warnings:
        rep.heading("Read this first: the laws' warnings")
        for who, note in warnings:
            rep.text(f"{who}: {note}")
    rows = [{"schedule of": r["schedule_of"], "judged by": r["law"], "predicted": r["score"],
             "interval": "n/a" if r["lo"] is None else f"[{r['lo']:.4f}, {r['hi']:.4f}]",
             "worse than the judge's own by": r["regret"],
             "paired interval": "n/a" if r["regret_lo"] is None else f"[{r['regret_lo']:+.4f}, {r['regret_hi']:+.4f}]",
             "resolved": "n/a" if r["resolved"] is None else ("yes" if r["resolved"] else "no")} for r in cross]
    rep.heading("Cross-evaluation: every choice under every law").table(rows)
    rep.figure(comparison_figure(labels, {w: c["selection"] for w, c in chosen.items()}, cross, total_steps),
               "comparison", "Left: each law's recommended LR schedule. Middle: each law's predicted loss for its "
               "own choice, zoomed on the steps where the choices differ. Right: how much worse each choice is "
               "than the judging law's own (bars: paired intervals).")
    for who in labels:
        rep.heading(f"The {who} law's choice")
        report_choice(rep, chosen[who], name=f"selection_{keys[who]}", spec_file=f"chosen_spec_{keys[who]}.txt")
