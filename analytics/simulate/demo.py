"""The ``cltk demo`` section of the schedule models: the noisy quadratic model (Zhang et al. 2019),
the river-valley landscape (Wen et al. 2024) and power-law rehearsal environments (Anderson &
Schooler 1991; Gandhi et al. 2024). The experiments live in ``nqm``, ``river_valley`` and
``rehearsal``; each sub-report and the index are written by :func:`write_result`."""
from __future__ import annotations

from pathlib import Path

from cltk.analytics.result import Result, write_result
from cltk.analytics.simulate.nqm import run_nqm
from cltk.analytics.simulate.rehearsal import run_rehearsal, verdict
from cltk.analytics.simulate.river_valley import run_river_valley

__all__ = ["demo_section"]


def demo_section(out_dir: Path) -> dict:
    """The ``cltk demo`` section: NQM exact vs Monte Carlo (Zhang et al. 2019, Eq. 5-6), river valley
    under cosine / WSD / WSD-S / cyclic / two-stage (Wen et al. 2024), and a small power-law
    rehearsal comparison (Anderson & Schooler 1991). About 15-30 s on a 2-core CPU; reports under
    ``out_dir/{nqm,river_valley,rehearsal}`` and an index at ``out_dir/report.html``."""
    out_dir = Path(out_dir)

    def quiet(line):  # the demo prints its own one-line summary
        pass

    runs = {"nqm": run_nqm(seeds=10000, log=quiet),
            "river_valley": run_river_valley(seeds=128, log=quiet),
            "rehearsal": run_rehearsal(n_tasks=4, n_blocks=24, block_steps=10, seeds=5, eval_every=2, log=quiet)}
    for name, result in runs.items():
        write_result(result, out_dir / name)
    n, r, h = (runs[k].metrics for k in ("nqm", "river_valley", "rehearsal"))
    figures = {
        "nqm_mc_max_rel_err": n["mc_max_rel_err"],
        "nqm_steady_state_theory": n["steady_state_theory"],
        "nqm_steady_state_recursion": n["steady_state_recursion"],
        "nqm_steady_state_mc": n["steady_state_mc"],
        "river_wsd_above_cosine_stable_frac": r["wsd_above_cosine_stable_frac"],
        "river_cosine_minus_wsd_final": r["cosine_minus_wsd_final"],
        "river_hill_lr_r2": r["hill_lr_r2"],
        "river_multipower_heldout_pred_e": r.get("law_multipower_heldout_pred_e"),
        "river_momentum_heldout_pred_e": r.get("law_momentum_heldout_pred_e"),
    }
    for ln in ("linear", "deep", "mlp"):
        figures[f"rehearsal_{ln}_best_final_acc"] = h[f"{ln}_best_final_acc"]
        figures[f"rehearsal_{ln}_power_minus_uniform_final_acc"] = h[f"{ln}_power_minus_uniform_final_acc"]
    index = Result("Schedules in the NQM and the river valley; power-law rehearsal", figures)
    for name, title in (("nqm", "Noisy quadratic model"), ("river_valley", "River valley"),
                        ("rehearsal", "Power-law rehearsal")):
        index.report.heading(title).link(f"{name}/report.html", f"Full report: {name}/report.html")
    index.report.heading("Rehearsal verdicts")
    for ln in ("linear", "deep", "mlp"):
        index.report.text(verdict(h, ln))
    write_result(index, out_dir)
    return figures


def demo_verdict(figures: dict) -> str:
    """The section in one sentence: the NQM's Monte Carlo against its exact expected loss (Zhang et
    al. 2019, Eq. 5-6), WSD against cosine in the river valley (Wen et al. 2024), and in how many
    learners power-law rehearsal beats uniform rehearsal (Anderson & Schooler 1991)."""
    learners = ("linear", "deep", "mlp")
    gains = {ln: figures[f"rehearsal_{ln}_power_minus_uniform_final_acc"] for ln in learners}
    wins = [ln for ln, g in gains.items() if g > 0]
    diff = figures["river_cosine_minus_wsd_final"]
    return (f"NQM: Monte Carlo within {figures['nqm_mc_max_rel_err']:.1%} of the exact loss; river valley: WSD ends "
            f"{abs(diff):.3g} {'below' if diff > 0 else 'above'} cosine; power-law rehearsal beats uniform in "
            f"{len(wins)} of {len(learners)} learners (final accuracy "
            + ", ".join(f"{g:+.3f} {ln}" for ln, g in gains.items()) + ").")


def demo_figure(figures: dict) -> str:
    """The river-valley report: its first figure shows the schedules' losses."""
    return "river_valley/report.html"
