"""Rehearsal in the setting of Gandhi et al. (2024) with >= 20 paired seeds, plus sweeps of the
power-law exponent and of the budget (docs/simulate-models.md, "Paper setting"). Long: about 20
minutes on 2 CPU cores. Writes OUT/metrics.json (keys paper_power_minus_uniform_avg_acc[_ci95],
verdict, sweep_exponent_E_..., sweep_budget_B_...), runs.csv, sweep.csv and report.html.

    .venv/bin/python benchmarks/bench_rehearsal_paper.py reports/rehearsal_paper
"""
import sys

from cltk.analytics.result import write_result
from cltk.analytics.simulate.rehearsal_paper import run_paper
from cltk.runtime import torch_threads

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "reports/rehearsal_paper"
    with torch_threads(2):
        res = run_paper(seeds=20, exponents=(0.5, 3.0), budgets=(0.1, 1.0), sweep_seeds=10)
    print(write_result(res, out))
    m = res.metrics
    print(m["verdict"])
    for k, v in m.items():
        if "minus_uniform_avg_acc" in k or k.endswith("_avg_acc"):
            print(k, v)
