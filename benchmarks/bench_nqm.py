"""Benchmark: the exact NQM expected-loss recursion (Zhang et al. 2019, Eq. 5-6) for 10^4
coordinates x 10^5 steps x 8 schedules, in seconds and as a fraction of memory bandwidth.

    python benchmarks/bench_nqm.py [--dim 10000] [--steps 100000] [--threads 1] [--dtype float64]

Traffic model: each step must read and write the state u (schedules x dim) once, i.e.
2 * 8 * S * D bytes in float64 (h, c and the LR column are tiny or cache-resident). The torch
kernels actually stream 8 such passes per step (write f = 1 - a h; square it in place; u *= f;
u += a^2 c), reported as "kernel traffic". Memory
bandwidth is measured here with a large out-of-cache copy (read + write, like STREAM "copy").
The state (8 x 10^4 doubles = 640 KB) fits in the L2/L3 caches, so the fraction can exceed 1: it
says how close the recursion runs to the DRAM limit that a non-cached sweep would face.
This is a script, not a test: it takes tens of seconds.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from cltk.models import nqm
from cltk.runtime import torch_threads
from cltk.schedules import parse


def copy_bandwidth(n_bytes: int = 512 * 2 ** 20, repeats: int = 5, threads: int = 1) -> float:
    """Bytes per second of a large tensor copy (read + write counted), best of ``repeats``."""
    with torch_threads(threads):
        a = torch.ones(n_bytes // 8, dtype=torch.float64)
        b = torch.empty_like(a)
        best = np.inf
        for _ in range(repeats):
            t = time.perf_counter()
            b.copy_(a)
            best = min(best, time.perf_counter() - t)
    return 2 * n_bytes / best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dim", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--every", type=int, default=100, help="log the loss every N steps")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    T, D = args.steps, args.dim
    specs = [f"constant:lr=0.5,steps={T}", f"cosine:peak=0.5,steps={T}", f"cosine:peak=0.5,steps={T},final=0.05",
             f"wsd:peak=0.5,steps={T},decay=0.2", f"wsd:peak=0.5,steps={T},decay=0.2,shape=sqrt",
             f"twostage:peak=0.5,low=0.1,switch={T // 2},steps={T}", f"invsqrt:peak=0.5,warmup={T // 100},steps={T}",
             f"wsds:peak=0.5,budgets={T // 4}/{T // 2}/{T},decay=0.1"]
    lrs = np.stack([parse(s).render(T) for s in specs])
    S = len(specs)
    h, c = nqm.spectrum(D, 1.0, 1.0, 0.1, "hessian")
    dtype = getattr(torch, args.dtype)
    itemsize = torch.tensor([], dtype=dtype).element_size()
    nqm.expected_loss(h, c, lrs[:, :200], every=args.every, backend="torch", dtype=dtype, threads=args.threads)
    t = time.perf_counter()
    _, loss = nqm.expected_loss(h, c, lrs, every=args.every, backend="torch", dtype=dtype, threads=args.threads)
    sec = time.perf_counter() - t
    bw = copy_bandwidth(threads=args.threads)
    moved = 2.0 * itemsize * S * D * T
    out = {"dim": D, "steps": T, "schedules": S, "dtype": args.dtype, "threads": args.threads, "seconds": sec,
           "coordinate_steps_per_second": S * D * T / sec, "state_bytes": S * D * itemsize,
           "effective_bandwidth_gb_s": moved / sec / 1e9, "copy_bandwidth_gb_s": bw / 1e9,
           "bandwidth_fraction": moved / sec / bw, "kernel_traffic_gb_s": 4 * moved / sec / 1e9,
           "kernel_traffic_fraction": 4 * moved / sec / bw, "final_loss": dict(zip([s.split(",")[0] for s in specs],
                                                                           loss[:, -1].tolist()))}
    print(f"exact NQM recursion: {D} coordinates x {T} steps x {S} schedules ({args.dtype}, {args.threads} thread(s))")
    print(f"  {sec:.2f} s   {out['coordinate_steps_per_second'] / 1e9:.2f} G coordinate-steps/s")
    print(f"  state traffic {out['effective_bandwidth_gb_s']:.1f} GB/s vs copy bandwidth "
          f"{out['copy_bandwidth_gb_s']:.1f} GB/s -> fraction {out['bandwidth_fraction']:.2f}")
    print(f"  kernel traffic (8 passes/step) {out['kernel_traffic_gb_s']:.1f} GB/s -> fraction "
          f"{out['kernel_traffic_fraction']:.2f} (the state is cache-resident)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
