"""Demo of `cltk validate` on the CPU plan (cltk/configs/validate/cpu.toml): proxies trained on three
schedules and four continual-pre-training settings, laws fitted and checked."""
from __future__ import annotations

from pathlib import Path

from cltk import configs
from cltk.analytics.result import write_result
from cltk.analytics.validate.job import run_validate
from cltk.analytics.validate.plan import load_plan

CPU_PLAN = configs.path("validate/cpu.toml")
KEEP = ("runs_total", "runs_reused", "multipower_heldout_final_rel_err_mean", "momentum_heldout_final_rel_err_mean",
        "cpt_old_heldout_final_rel_err_mean", "cpt_new_heldout_final_rel_err_mean", "cpt_selected_is_real_best")


def demo_section(out_dir: Path) -> dict:
    """Validate the CPU plan into ``out_dir`` (runs under out_dir/runs); return the headline figures."""
    result = run_validate(load_plan(CPU_PLAN), out_dir)
    write_result(result, out_dir)
    return {k: result.metrics.get(k) for k in KEEP}
