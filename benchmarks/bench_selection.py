"""Benchmark: schedule selection and prediction intervals on the real 25M curves (issue 6).

Fits each law on cosine_24000, constant_24000, wsdcon_9 (with 32 bootstrap refits), then reports
1. predicted vs real ranking of final loss among constant_24000, cosine_24000, wsd_20000_24000,
   wsdld_20000_24000;
2. the `free` optimum for 24000 steps at peak 3e-4 (warmup 2160): seconds (target <= 5) and its
   predicted final loss against the best WSD candidate (target: no worse);
3. calibration of the 90% intervals on the six held-out curves: share of final losses inside,
   share of curve points inside.
Exit status 1 when a target is missed.

    python benchmarks/bench_selection.py [--data ../shared/data/loss-curves/mpl-25m]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from cltk.analytics.curve_files import read_curve
from cltk.analytics.protocols import MPL_25M
from cltk.laws import get_law
from cltk.selection import select_schedule

DATA_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "loss-curves"  # ../shared beside the checkout

FIT, HELDOUT, WARMUP = list(MPL_25M.fit), list(MPL_25M.heldout), MPL_25M.warmup_steps
RANKED = ["constant_24000", "cosine_24000", "wsd_20000_24000", "wsdld_20000_24000"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path,
                    default=DATA_ROOT / MPL_25M.folder)
    args = ap.parse_args()
    read = {n: read_curve(args.data / f"{n}.csv", warmup_steps=WARMUP) for n in FIT + HELDOUT}
    ok = True
    for name in ("multipower", "momentum"):
        fit = [read[n] for n in FIT]
        law = get_law(name).fit(fit).bootstrap(fit, n=32)
        pred = {n: float(law.predict(read[n])[-1]) for n in RANKED}
        real = {n: float(read[n].loss[-1]) for n in RANKED}
        order_p, order_r = sorted(RANKED, key=pred.get), sorted(RANKED, key=real.get)
        print(f"\n{name} law")
        print("  final loss ranking (best first)")
        for p, r in zip(order_p, order_r):
            print(f"    predicted {p:18s} {pred[p]:.4f}    real {r:18s} {real[r]:.4f}")
        same = order_p == order_r
        print(f"  ranking equal: {same}")
        wsd = select_schedule(law, 24000, 3e-4, family="wsd", warmup=WARMUP)
        free = select_schedule(law, 24000, 3e-4, family="free", warmup=WARMUP)
        print(f"  best WSD: {wsd.spec}  predicted final {wsd.final_loss:.5f}")
        print(f"  free: {free.seconds:.2f} s, predicted final {free.final_loss:.5f} "
              f"[{free.interval[0]:.4f}, {free.interval[1]:.4f}]")
        inside_final, inside_pts = [], []
        for n in HELDOUT:
            lo, hi = law.predict_interval(read[n], level=0.9)
            y = read[n].loss
            inside_final.append(lo[-1] <= y[-1] <= hi[-1])
            inside_pts.append(np.mean((lo <= y) & (y <= hi)))
            print(f"    {n:18s} final {y[-1]:.4f} in [{lo[-1]:.4f}, {hi[-1]:.4f}]: {inside_final[-1]}; "
                  f"points inside {inside_pts[-1]:.2f}")
        print(f"  90% interval calibration: final losses inside {np.mean(inside_final):.2f}, "
              f"curve points inside {np.mean(inside_pts):.2f}")
        if name == "multipower":
            ok &= same and free.seconds <= 5 and free.final_loss <= wsd.final_loss + 1e-12
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
