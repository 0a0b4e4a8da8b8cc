"""Benchmark: how long `cltk --help` takes (the whole process, as a user sees it), and which heavy
libraries the top-level command loads. Target (issue 13): median <= 0.5 s, and none of numpy,
torch, pandas, matplotlib, scipy imported. Exit status 1 when a target is missed.

    python benchmarks/bench_cli_startup.py [--repeat 11]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

HEAVY = ("numpy", "torch", "pandas", "matplotlib", "scipy")
TARGET_S = 0.5


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=11)
    args = ap.parse_args()
    exe = shutil.which("cltk")
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "cltk.cli.main", "--help"]
    subprocess.run(cmd, check=True, capture_output=True)  # warm the file cache
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    probe = ("import sys\nfrom cltk.cli.main import cli\ntry:\n    cli(['--help'], prog_name='cltk')\n"
             "except SystemExit:\n    pass\n"
             "print('LOADED:' + ','.join(m for m in " + repr(HEAVY) + " if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    loaded = next(ln for ln in loaded.splitlines() if ln.startswith("LOADED:"))[len("LOADED:"):]
    med = statistics.median(times)
    print(f"`{' '.join(cmd[-2:] if not exe else ['cltk', '--help'])}`: median {med:.3f} s, min {min(times):.3f} s, "
          f"max {max(times):.3f} s over {args.repeat} runs (target <= {TARGET_S} s)")
    print(f"heavy libraries loaded by the top-level help: {loaded or 'none'}")
    return 0 if med <= TARGET_S and not loaded else 1


if __name__ == "__main__":
    sys.exit(main())
