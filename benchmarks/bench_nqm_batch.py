"""Benchmark: the NQM batch-size study of ``cltk simulate nqm`` (Zhang et al. 2019, Sec. 3-4) at a
larger dimension than the command's default, closer to the paper's 10^4 coordinates: steps to the
target vs batch size with the LR tuned per batch size, critical batch sizes and the time taken.

    python benchmarks/bench_nqm_batch.py [--dim 1000] [--target-frac 0.01] [--json FILE]

Same model as the command (h_i = i^-1, c_i = 0.1 h_i per example, x0 = 1) and the same grids (LR: 4
per octave below the stability limit; momentum 0.5 / 0.9 / 0.99; EMA 0.9 ... 0.995; P = H^-0.5).
This is a script, not a test: at --dim 1000 it takes about a minute or more on one core.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from cltk.models import nqm


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dim", type=int, default=1000)
    ap.add_argument("--target-frac", type=float, default=0.01)
    ap.add_argument("--max-batch-log2", type=int, default=14)
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    h, c = nqm.spectrum(args.dim)
    target = args.target_frac * 0.5 * h.sum()
    opts = ("sgd", "momentum", "precond", "ema")
    t0 = time.perf_counter()
    st = nqm.study_batch_sizes(h, c, 2.0 ** np.arange(args.max_batch_log2 + 1), target, optimizers=opts,
                               momenta=(0.5, 0.9, 0.99), emas=(0.9, 0.95, 0.98, 0.99, 0.995))
    sec = time.perf_counter() - t0
    out = {"dim": args.dim, "target": target, "seconds": round(sec, 2),
           "lr_at_grid_edge": int(st.best["at_edge"].sum())}
    print(f"dim {args.dim}, target {target:.4g} ({args.target_frac:g} of the initial loss), {sec:.1f} s")
    for o in opts:
        sel = st.best["optimizer"] == o
        steps = st.best["steps"][sel]
        out[o] = {"critical_batch": st.critical[o], "noise_scale": st.noise_scale[o],
                  "steps": dict(zip(map(int, st.best["batch"][sel]), map(float, steps)))}
        ratio = st.critical[o] / st.critical["sgd"]
        print(f"{o:9s} critical batch {st.critical[o]:8.2f} (x{ratio:.2f} SGD), E_min/S_min {st.noise_scale[o]:8.2f}, "
              f"steps at B=1 {steps[0]:.0f}, min steps {steps.min():.0f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
