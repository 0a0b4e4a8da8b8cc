"""Schedule theory and rehearsal experiments: the noisy quadratic model (Zhang et al. 2019), the
river-valley landscape (Wen et al. 2024) and power-law rehearsal environments (Anderson & Schooler
1991; Gandhi et al. 2024). The experiments live in ``sm_nqm``, ``sm_river`` and ``sm_rehearsal``;
this module re-exports them and builds the ``cltk demo`` section."""
from __future__ import annotations

from pathlib import Path

from analytics.report import Report
from analytics.sm_nqm import run_nqm
from analytics.sm_rehearsal import run_rehearsal, verdict
from analytics.sm_river import make_valley, run_river_valley

__all__ = ["demo_section", "make_valley", "run_nqm", "run_rehearsal", "run_river_valley"]


def demo_section(out_dir: Path) -> dict:
    """The ``cltk demo`` section: NQM exact vs Monte Carlo (Zhang et al. 2019, Eq. 5-6), river valley
    under cosine / WSD / WSD-S / cyclic / two-stage (Wen et al. 2024), and a small power-law
    rehearsal comparison (Anderson & Schooler 1991). About 15-30 s on a 2-core CPU; reports under
    ``out_dir/{nqm,river_valley,rehearsal}`` and an index at ``out_dir/report.html``."""
    out_dir = Path(out_dir)
    quiet = lambda s: None  # the demo prints its own one-line summary
    n = run_nqm(out_dir / "nqm", seeds=10000, log=quiet)
    r = run_river_valley(out_dir / "river_valley", seeds=128, log=quiet)
    h = run_rehearsal(out_dir / "rehearsal", n_tasks=4, n_blocks=24, block_steps=10, seeds=5, eval_every=2,
                      log=quiet)
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
    rep = Report("Schedules in the NQM and the river valley; power-law rehearsal")
    for name, title in (("nqm", "Noisy quadratic model"), ("river_valley", "River valley"),
                        ("rehearsal", "Power-law rehearsal")):
        rep.heading(title).text(f"Full report: {name}/report.html")
    rep.table([{"figure": k, "value": v} for k, v in figures.items()])
    for ln in ("linear", "deep", "mlp"):
        rep.text(verdict(h, ln))
    rep.write(out_dir)
    return figures
