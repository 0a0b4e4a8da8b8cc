"""Demo of the loss-curve laws on curves the project makes itself: a multi-power law with known
parameters (of the size Luo et al. 2025 fit on a 25M model) generates noisy curves for six
schedules; three are written as CSV logs, read back, and used to fit the three laws, which predict the
other three. Because the truth is known, the report shows how well the fit recovers it."""
from __future__ import annotations

from pathlib import Path

from cltk.analytics.curve_files import read_curve, write_curve_csv
from cltk.analytics.demo_curves import FIT, HELDOUT, WARMUP, synthetic_curves
from cltk.analytics.fit_scaling.job import run_fit_scaling
from cltk.analytics.result import Result, write_result

LAWS = ("poweranneal", "multipower", "momentum")
NOISE = 1e-3  # relative Gaussian noise on every logged loss: the floor of any law's PredE


def demo_section(out_dir: Path) -> dict:
    """Write synthetic logs, fit the three laws on three curves, predict three; return headline figures."""
    out_dir = Path(out_dir)
    curves = synthetic_curves(noise=NOISE)
    paths = {}
    for name, c in curves.items():
        paths[name] = out_dir / "curves" / f"{name}.csv"
        write_curve_csv(c, paths[name])
    fit = [read_curve(paths[n], warmup_steps=WARMUP) for n in FIT]
    held = [read_curve(paths[n], warmup_steps=WARMUP) for n in HELDOUT]
    figures = {"heldout_curves": len(held), "noise": NOISE}
    index = Result("Loss-curve laws on synthetic curves with a known truth", figures)
    index.report.text(f"A multi-power law with known parameters generated noisy curves; each law was fitted on "
                      f"{', '.join(FIT)} and predicts {', '.join(HELDOUT)} (logs in curves/).")
    for law in LAWS:
        res = run_fit_scaling(fit, held, law=law)
        write_result(res, out_dir / law)
        m = res.metrics
        figures[f"{law}_heldout_pred_e"] = round(m["heldout"]["pred_e"], 6)
        figures[f"{law}_heldout_worst_e"] = round(m["heldout"]["worst_e"], 6)
        figures[f"{law}_fit_seconds"] = round(m["fit_seconds"], 3)
        index.report.link(f"{law}/report.html", f"{law} law: {law}/report.html")
    write_result(index, out_dir)
    return figures


def _best(figures: dict) -> str:
    return min(LAWS, key=lambda law: figures[f"{law}_heldout_pred_e"])


def demo_verdict(figures: dict) -> str:
    """The section in one sentence: the law with the lowest mean held-out PredE (Luo et al. 2025,
    Sec. 4.2: mean relative error of the predicted loss), the others, and the noise floor."""
    best = _best(figures)
    others = ", ".join(f"{law} {figures[f'{law}_heldout_pred_e']:.2g}" for law in LAWS if law != best)
    return (f"{best} predicts the {figures['heldout_curves']} held-out schedules best: mean PredE "
            f"{figures[f'{best}_heldout_pred_e']:.2g}, worst {figures[f'{best}_heldout_worst_e']:.2g} "
            f"({others}; the logs carry {figures['noise']:.1%} noise).")


def demo_figure(figures: dict) -> str:
    """The best law's report: its first figure is the section's main one."""
    return f"{_best(figures)}/report.html"
