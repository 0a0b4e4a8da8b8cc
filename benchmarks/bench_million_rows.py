"""Benchmark (issue 12): a 10^6-row CSV log through `cltk fit-scaling`, and the accuracy of the
anchored predictions that make it fast.

1. Writes a per-step log of 10^6 steps (cosine to 10% after a 1,000-step warmup, 1% noise) and a
   34k-row one, runs `cltk fit-scaling FILE --intervals 0` on each in a subprocess, and reports wall
   time and the child's peak resident memory. Targets: 10^6 rows under 60 s and 2 GiB; 34k rows
   under 15 s.
2. Predictions of more than 20,000 points are evaluated exactly at anchors and interpolated
   (cltk.laws.anchors.EXACT_POINTS); for the cosine log and for a two-stage (step) schedule, compares
   them with the exact law at 20,000 points. Target: max relative error < 1e-5 (per-step noise of
   a real log is ~1e-2).
Exit status 1 when a target is missed.

    python benchmarks/bench_million_rows.py [--rows 1000000] [--intervals 0]
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import cltk.laws.anchors as law_base
from cltk.curves import Curve
from cltk.laws import PowerAnnealLaw

TRUTH = {"L0": 2.9555, "A": 0.8702, "B": 0.2919, "alpha": 0.458, "C": 4.2145, "beta": 50.0, "rho": 0.5465,
         "delta": 0.05}


def _cosine(n: int) -> np.ndarray:
    s = np.arange(n + 1)
    lr = np.where(s < 1000, 3e-4 * s / 1000, 3e-5 + 2.7e-4 * 0.5 * (1 + np.cos(np.pi * (s - 1000) / (n - 1000))))
    lr[0] = 0.0
    return lr


def _two_stage(n: int) -> np.ndarray:
    lr = np.full(n + 1, 6e-4)
    lr[: 1001] = np.linspace(0, 6e-4, 1001)
    lr[int(0.7 * n):] = 1.8e-4
    return lr


def _law(n: int) -> PowerAnnealLaw:
    law = PowerAnnealLaw(eta_ref=3e-4, s_ref=3e-4 * n)  # references as bench_long_logs.py sets them
    law.params_ = dict(TRUTH)
    return law


def write_log(path: Path, n: int, seed: int = 0) -> None:
    lr = _cosine(n)
    steps = np.arange(1, n + 1)
    clean = _law(n).predict(Curve("c", steps, np.ones(n), lr))
    loss = clean * (1 + 0.01 * np.random.default_rng(seed).standard_normal(n))
    with open(path, "w") as f:
        f.write("step,lr,loss\n")
        np.savetxt(f, np.c_[steps, lr[1:], loss], fmt=["%d", "%.8e", "%.6f"], delimiter=",")


def run_command(path: Path, out: Path, intervals: int) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "cltk.cli.main", "fit-scaling", str(path), "--intervals",
                        str(intervals), "--out", str(out)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    rss_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    if r.returncode:
        print(r.stderr)
    return wall, rss_gib, r.returncode


def interpolation_error(n: int) -> dict[str, float]:
    law = _law(n)
    steps = np.arange(1, n + 1)
    errs = {}
    for name, lr in (("cosine", _cosine(n)), ("two_stage", _two_stage(n))):
        c = Curve(name, steps, np.ones(n), lr)
        anchored = law.predict(c)
        jump = int(0.7 * n)
        sub = np.unique(np.r_[np.linspace(0, n - 1, 20000).astype(int), np.arange(jump - 5, jump + 600)])
        saved, law_base.EXACT_POINTS = law_base.EXACT_POINTS, 10**9
        try:
            exact = law._predict_target([law.params_], c, steps[sub])[0]
        finally:
            law_base.EXACT_POINTS = saved
        errs[name] = float((np.abs(exact - anchored[sub]) / exact).max())
    return errs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10**6)
    ap.add_argument("--intervals", type=int, default=0)
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for n, limit in ((34_000, 15.0), (args.rows, 60.0)):
            path = Path(tmp) / f"log_{n}.csv"
            write_log(path, n)
            wall, rss, rc = run_command(path, Path(tmp) / f"out_{n}", args.intervals)
            hit = rc == 0 and wall < limit and rss < 2.0
            ok &= hit
            print(f"{n:>9} rows: cltk fit-scaling --intervals {args.intervals}: {wall:6.1f} s, peak RSS {rss:.2f} GiB "
                  f"(targets < {limit:.0f} s, < 2 GiB) {'ok' if hit else 'MISSED'}")
    errs = interpolation_error(args.rows)
    for name, e in errs.items():
        hit = e < 1e-5
        ok &= hit
        print(f"anchored vs exact prediction, {name}, {args.rows} points: max relative error {e:.2e} "
              f"(target < 1e-5) {'ok' if hit else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
