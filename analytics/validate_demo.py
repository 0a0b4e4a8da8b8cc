"""Demo of `cltk validate` on the CPU plan (configs/validate/cpu.toml): proxies trained on three
schedules and four continual-pre-training settings, laws fitted and checked."""
from __future__ import annotations

from pathlib import Path

from analytics.validate import run_validate
from analytics.validate_plan import load_plan
from analytics.validate_report import write_validate

CPU_PLAN = Path(__file__).resolve().parents[1] / "configs" / "validate" / "cpu.toml"


def demo_section(out_dir: Path) -> dict:
    plan = load_plan(CPU_PLAN)
    metrics, details = run_validate(plan, out_dir)
    write_validate(metrics, details, plan, out_dir)
    keep = ("runs_total", "runs_reused", "multipower_heldout_final_rel_err_mean", "momentum_heldout_final_rel_err_mean",
            "cpt_old_heldout_final_rel_err_mean", "cpt_new_heldout_final_rel_err_mean", "cpt_selected_is_real_best")
    return {k: metrics.get(k) for k in keep}
