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


def demo_section(out_dir: Path) -> dict:
    """Write synthetic logs, fit the three laws on three curves, predict three; return headline figures."""
    out_dir = Path(out_dir)
    curves = synthetic_curves()
    paths = {}
    for name, c in curves.items():
        paths[name] = out_dir / "curves" / f"{name}.csv"
        write_curve_csv(c, paths[name])
    fit = [read_curve(paths[n], warmup_steps=WARMUP) for n in FIT]
    held = [read_curve(paths[n], warmup_steps=WARMUP) for n in HELDOUT]
    figures = {}
    index = Result("Loss-curve laws on synthetic curves with a known truth", figures)
    index.report.text(f"A multi-power law with known parameters generated noisy curves; each law was fitted on "
                      f"{', '.join(FIT)} and predict {', '.join(HELDOUT)} (logs in curves/).")
    for law in ("poweranneal", "multipower", "momentum"):
        res = run_fit_scaling(fit, held, law=law)
        write_result(res, out_dir / law)
        m = res.metrics
        figures[f"{law}_heldout_pred_e"] = round(m["heldout"]["pred_e"], 6)
        figures[f"{law}_heldout_worst_e"] = round(m["heldout"]["worst_e"], 6)
        figures[f"{law}_fit_seconds"] = round(m["fit_seconds"], 3)
        index.report.link(f"{law}/report.html", f"{law} law: {law}/report.html")
    write_result(index, out_dir)
    return figures
