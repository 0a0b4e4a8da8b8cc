"""Benchmark: critical periods by the protocol of Kleinman, Achille, Soatto 2024 ("Critical learning
periods emerge even in deep linear networks", ICLR), trained long enough to tell damage from delay.

    python benchmarks/bench_critical_period.py [--after 200000] [--seeds 2] [--size 50] [--out DIR]

Runs ``cltk simulate dln critical-period`` (its job, the command's defaults otherwise) with every
matrix-completion member trained ``--after`` steps past its deficit, writes the usual outputs to
``--out`` (default reports/bench-critical-period) and prints, for each deficit (rank switch, fewer
observations) and duration from step 0 (and the late deficit), the test loss (geometric mean over
seeds) at several numbers of steps after the deficit and its ratio to the no-deficit control at the
same number of steps: a ratio that keeps growing while the control improves is lasting damage; one
that falls back toward 1 is a delay. The pathway-model rows (ODE and SGD, D = 1..4) follow. The
figures of docs/simulate-dln.md's critical-period section come from this script. Tens of minutes on
the 2-core CPU (one thread).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from cltk.analytics.result import write_result
from cltk.analytics.simulate.dln.critical_period import run_critical_period
from cltk.runtime import torch_threads


def loss_after(curves, kind: str, tag: str, start: int, after: int) -> float:
    """The geometric-mean test loss of one member ``after`` steps past the end of its deficit (``start``)."""
    col = curves[f"test_loss_{kind}_{tag}"].to_numpy()
    ok = ~np.isnan(col)
    return float(np.exp(np.interp(start + after, curves.step.to_numpy()[ok], np.log(col[ok]))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--after", type=int, default=200000, help="Matrix-completion steps after each deficit.")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--size", type=int, default=50, help="Matrix-completion size n.")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("reports") / "bench-critical-period")
    args = ap.parse_args()
    with torch_threads(args.threads):
        res = run_critical_period(seeds=args.seeds, mc_size=args.size, mc_steps=args.after)
    write_result(res, args.out)
    m, cfg = res.metrics, res.details["config"]
    mc = cfg["matrix_completion"]
    curves = res.tables["matrix_completion_curves"]
    checkpoints = [a for a in (5000, 20000, 50000, 100000, 200000, 500000) if a < args.after] + [args.after]
    print(f"matrix completion n={mc['size']} rank {mc['rank']} D={mc['depth']} lr {mc['lr']} init {mc['init_scale']} "
          f"observed {mc['observed']} (deficit: {mc['deficit_observed']} observed / rank {mc['deficit_rank']}), "
          f"{args.seeds} seeds, {res.details['config']['seconds']} s")
    print("deficit       window          " + "".join(f"{'+' + str(a):>22}" for a in checkpoints))
    print(" " * 30 + "".join(f"{'loss / x control':>22}" for _ in checkpoints))
    table = {}
    for kind in mc["deficits"]:
        wins = [(0, d, f"dur{d}") for d in mc["durations"]]
        wins += [(o, mc["late_length"], f"onset{o}") for o in mc["late_onsets"]]
        for onset, dur, tag in wins:
            vals = [loss_after(curves, kind, tag, onset + dur, a) for a in checkpoints]
            ctrl = [loss_after(curves, kind, "dur0", 0, a) for a in checkpoints]
            table[f"{kind}_{tag}"] = {"loss": vals, "ratio": [v / c for v, c in zip(vals, ctrl)]}
            cells = "".join(f"{v:>11.3g} {v / c:>9.3g}x" for v, c in zip(vals, ctrl))
            print(f"{kind:<13} {onset:>6}+{dur:<8}{cells}")
        print(f"{kind}: matches the paper's curve (damage >= 10x at the longest early deficit, <= 2x late): "
              f"{m[f'mc_{kind}_matches_paper']}")
    print("\npathway model (S = 10, K0 = 0.01, dt = 0.01): damage 1 - K_b / K_b(no deficit), ODE / SGD")
    durs = cfg["durations"]
    print("D  " + "".join(f"{'dur ' + str(d):>15}" for d in durs))
    for depth in cfg["depths"]:
        cells = [f"{m[f'ode_D{depth}_dur{d}_damage']:>7.3f}/{m[f'sgd_D{depth}_dur{d}_damage']:<7.3f}" for d in durs]
        print(f"{depth}  " + "".join(cells))
    print("references: " + json.dumps({k: round(m[k], 4) for k in ("ode_D2_onset0_Ka", "ode_D2_onset0_Kb",
                                                                   "ode_D2_onset750_Ka", "ode_D2_onset750_Kb")}))
    (args.out / "bench_table.json").write_text(json.dumps({"checkpoints": checkpoints, "rows": table}, indent=1))


if __name__ == "__main__":
    main()
