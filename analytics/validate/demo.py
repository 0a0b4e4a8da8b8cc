"""Demo of `cltk validate` on the CPU plan (cltk/configs/validate/cpu.toml): proxies trained on three
schedules and four continual-pre-training settings, laws fitted and checked."""
from __future__ import annotations

from pathlib import Path

from cltk import configs
from cltk.analytics.validate.job import run_validate
from cltk.analytics.validate.plan import load_plan
from cltk.analytics.validate.report import write_validate

CPU_PLAN = configs.path("validate/cpu.toml")


def demo_section(out_dir: Path) -> dict:
    plan = load_plan(CPU_PLAN)
    metrics, details = run_validate(plan, out_dir)
    write_validate(metrics, details, plan, out_dir)
    keep = ("runs_total", "runs_reused", "multipower_heldout_final_rel_err_mean", "momentum_heldout_final_rel_err_mean",
            "cpt_old_heldout_final_rel_err_mean", "cpt_new_heldout_final_rel_err_mean", "cpt_selected_is_real_best")
    return {k: metrics.get(k) for k in keep}
