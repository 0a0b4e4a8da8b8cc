"""Benchmark: every law on every real curve set in ../shared/data, through the CLI as a user runs it.

For each curve-set folder with a protocol (cltk.analytics.protocols: the published 25M protocol of
Luo et al. 2025 and the 124M cooldown protocol of Schaipp et al. 2025, and their families:
other sizes, other peak LRs) and each law, runs
`cltk fit-scaling FIT... --predict HELDOUT... --law LAW --intervals 0` and prints one table:
held-out PredE and WorstE (and their ratio to the published multi-power-law figures where there are
any), mean relative error of the final loss, the cooldown the law predicts best among the held-out
curves against the real best (loss difference), and the fit seconds. Folders without a protocol are
listed and skipped. Targets (issue 11), checked on the default law: 25M PredE <= 0.8x and WorstE <=
0.7x of the published figures with a fit <= 5 s; 124M mean final-loss error <= 0.5% and a predicted
best cooldown within 0.005 of the real best. Exit status 1 when a target is missed.

    python benchmarks/bench_laws.py [--data ../shared/data/loss-curves] [--laws poweranneal,multipower,momentum]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from cltk.analytics.protocols import find_protocol
from cltk.laws import DEFAULT_LAW, LAWS

DATA_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "loss-curves"  # ../shared beside the checkout


def run(args: list[str], out: Path) -> dict:
    r = subprocess.run(["cltk", "fit-scaling", *args, "--intervals", "0", "--out", str(out)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise SystemExit(f"cltk fit-scaling failed: {r.stderr.strip()}")
    return json.loads((out / "metrics.json").read_text())


def figures(m: dict, published: dict | None) -> dict:
    held = [c for c in m["curves"] if c["role"] == "heldout"]
    final_err = sum(abs(c["final_loss_pred"] - c["final_loss_true"]) / c["final_loss_true"] for c in held) / len(held)
    pred_best = min(held, key=lambda c: c["final_loss_pred"])
    real_best = min(held, key=lambda c: c["final_loss_true"])
    out = {"pred_e": m["heldout"]["pred_e"], "worst_e": m["heldout"]["worst_e"], "final_err": final_err,
           "pick": pred_best["name"], "pick_gap": pred_best["final_loss_true"] - real_best["final_loss_true"],
           "seconds": m["fit_seconds"]}
    if published:
        out["pred_ratio"] = out["pred_e"] / published["pred_e"]
        out["worst_ratio"] = out["worst_e"] / published["worst_e"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA_ROOT)
    ap.add_argument("--laws", default=",".join(LAWS))
    args = ap.parse_args()
    laws = [x for x in args.laws.split(",") if x]
    ok = True
    print(f"{'set':<22} {'law':<12} {'PredE':>8} {'xMPL':>5} {'WorstE':>8} {'xMPL':>5} {'final err':>9} "
          f"{'picked best':<18} {'gap':>7} {'fit s':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for folder in sorted(p.name for p in args.data.iterdir() if p.is_dir()):
            proto = find_protocol(args.data / folder)
            if proto is None:
                print(f"{folder:<22} (no protocol: skipped)")
                continue
            for law in laws:
                f = figures(run([*proto.fit_scaling_args(args.data / folder), "--law", law], Path(tmp) / folder / law),
                            proto.published)
                pr, wr = (f"{f[k]:5.2f}" if k in f else "    -" for k in ("pred_ratio", "worst_ratio"))
                print(f"{folder:<22} {law:<12} {f['pred_e']:8.5f} {pr} {f['worst_e']:8.5f} "
                      f"{wr} {f['final_err']:9.3%} {f['pick']:<18} {f['pick_gap']:+7.4f} "
                      f"{f['seconds']:6.2f}")
                if law != DEFAULT_LAW:
                    continue
                if proto.published and not (f["pred_ratio"] <= 0.8 and f["worst_ratio"] <= 0.7 and f["seconds"] <= 5):
                    print(f"  TARGET MISSED ({folder}): PredE <= 0.8x, WorstE <= 0.7x of MPL, fit <= 5 s")
                    ok = False
                if folder.startswith("schaipp") and not (f["final_err"] <= 0.005 and f["pick_gap"] <= 0.005):
                    print(f"  TARGET MISSED ({folder}): final-loss error <= 0.5%, best cooldown within 0.005")
                    ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
