"""Demo of `cltk validate` on the CPU plan (cltk/configs/validate/cpu.toml): proxies trained on three
schedules and four continual-pre-training settings, laws fitted and checked."""
from __future__ import annotations

from pathlib import Path

from cltk import configs
from cltk.analytics.result import write_result
from cltk.analytics.validate.job import run_validate
from cltk.analytics.validate.plan import load_plan

CPU_PLAN = configs.path("validate/cpu.toml")
LAWS = ("poweranneal", "multipower", "momentum")
KEEP = ("runs_total", "runs_reused", *(f"{law}_heldout_final_rel_err_mean" for law in LAWS),
        "cpt_old_heldout_final_rel_err_mean", "cpt_new_heldout_final_rel_err_mean", "cpt_selected_is_real_best")


def demo_section(out_dir: Path) -> dict:
    """Validate the CPU plan into ``out_dir`` (runs under out_dir/runs); return the headline figures."""
    result = run_validate(load_plan(CPU_PLAN), out_dir)
    write_result(result, out_dir)
    return {k: result.metrics.get(k) for k in KEEP}


def demo_verdict(figures: dict) -> str:
    """The section in one sentence: each law's mean relative error on the held-out runs' final
    losses, the CPT law's (Wang et al. 2025) on both domains, and whether its choice is the real best."""
    laws = [f"{law} {figures[k]:.2%}" for law in LAWS
            if (k := f"{law}_heldout_final_rel_err_mean") in figures and figures[k] is not None]
    old, new = figures["cpt_old_heldout_final_rel_err_mean"], figures["cpt_new_heldout_final_rel_err_mean"]
    text = f"On {figures['runs_total']} proxy runs the laws predict held-out final losses within " + ", ".join(laws)
    if old is not None and new is not None:
        text += (f"; the CPT law within {old:.2%} (old domain) and {new:.2%} (new domain), and the setting it "
                 f"selects {'is' if figures['cpt_selected_is_real_best'] else 'is not'} the real best")
    return text + "."


def demo_figure(figures: dict) -> str:
    """The validation report: its first figure is predicted against real curves."""
    return "report.html"
