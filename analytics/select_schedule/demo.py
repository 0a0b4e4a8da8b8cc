"""Demo of theory-guided schedule selection: fit the multi-power law (with bootstrap intervals) on
the demo's synthetic curves, then choose WSD, cosine and free schedules for a 12k-step run."""
from __future__ import annotations

from pathlib import Path

from cltk.analytics.demo_curves import FIT, PEAK, STEPS, WARMUP, synthetic_curves
from cltk.analytics.result import Result, write_result
from cltk.analytics.select_schedule.job import run_select_schedule
from cltk.laws import MultiPowerLaw

FAMILIES = ("wsd", "cosine", "free")


def demo_section(out_dir: Path) -> dict:
    curves = synthetic_curves()
    fit = [curves[n] for n in FIT]
    law = MultiPowerLaw().fit(fit).bootstrap(fit, n=16)
    figures = {}
    index = Result("Theory-guided schedule selection on the demo's fitted law", figures)
    index.report.text(f"The multi-power law fitted (with 16 bootstrap refits) on {', '.join(FIT)} chooses a "
                      f"{STEPS}-step schedule at peak LR {PEAK:g} in three families.")
    for family in FAMILIES:
        res = run_select_schedule(law, total_steps=STEPS, peak_lr=PEAK, family=family, warmup=WARMUP)
        write_result(res, Path(out_dir) / family)
        m = res.metrics
        figures[f"{family}_final_loss"] = round(m["chosen_final_loss"], 5)
        figures[f"{family}_spec"] = m["chosen_spec"] if family != "free" else "piecewise (see report)"
        figures[f"{family}_seconds"] = round(m["selection_seconds"], 2)
        index.report.link(f"{family}/report.html", f"{family} family: {family}/report.html")
    figures["cosine10_baseline_final_loss"] = round(m["baseline_cosine_to_10pct_final_loss"], 5)
    write_result(index, out_dir)
    return figures


def _best(figures: dict) -> str:
    return min(FAMILIES, key=lambda f: figures[f"{f}_final_loss"])


def demo_verdict(figures: dict) -> str:
    """The section in one sentence: the family whose chosen schedule the law predicts lowest, the
    other families' choices, and the common baseline (cosine to 10% of peak)."""
    best = _best(figures)
    others = ", ".join(f"{f} {figures[f'{f}_final_loss']:.4f}" for f in FAMILIES if f != best)
    gain = figures["cosine10_baseline_final_loss"] - figures[f"{best}_final_loss"]
    return (f"The best {best} schedule has the lowest predicted final loss, {figures[f'{best}_final_loss']:.4f} "
            f"({others}), {gain:.4f} below cosine to 10% of peak.")


def demo_figure(figures: dict) -> str:
    """The winning family's report: its first figure is the section's main one."""
    return f"{_best(figures)}/report.html"
