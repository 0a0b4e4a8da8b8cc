"""FLOP/s of the batched deep-linear-network simulator against the machine's torch matmul FLOP/s.

Not a test: run it by hand, e.g.

    python benchmarks/bench_dln_flops.py --device auto --width 256 --depth 4 --members 64 --steps 20

It measures (1) the best FLOP/s of one large batched matmul (torch.bmm) on the device, the ceiling
for this workload, and (2) the FLOP/s of ``cltk.models.dln.train`` on an ensemble (full-batch GD on
whitened inputs, no recording), counting only the products of the forward chain, the backward chain
and the weight updates (``cltk.models.dln.train_flops``). Prints one JSON object; ``--out FILE`` also
writes it (atomically).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cltk.files import atomic_write_json
from cltk.models.dln import Task, init_weights, make_teacher, train, train_flops
from cltk.runtime import resolve_device


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def peak_matmul_flops(dev, dtype, n: int, batch: int, repeats: int = 5) -> float:
    """Best FLOP/s of torch.bmm on (batch, n, n) operands: 2 n^3 FLOPs per product."""
    a = torch.randn(batch, n, n, device=dev, dtype=dtype)
    b = torch.randn(batch, n, n, device=dev, dtype=dtype)
    out = torch.empty_like(a)
    torch.bmm(a, b, out=out)
    _sync(dev)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(4):
            torch.bmm(a, b, out=out)
        _sync(dev)
        best = min(best, (time.perf_counter() - t0) / 4)
    return 2.0 * n**3 * batch / best


def simulator_flops(dev, dtype, width: int, depth: int, members: int, steps: int,
                    repeats: int = 3) -> tuple[float, float]:
    teacher = make_teacher(width, width, [1.0] * min(8, width), seed=0)
    task = Task.from_numpy(teacher.matrix, device=dev, dtype=dtype)
    w = init_weights("orthogonal", [width] * (depth + 1), members, scale=1.0, seed=1, dtype=dtype, device=dev)
    lr = 0.01 / depth
    train(w, task, lr=lr, steps=2, record=False)  # warm-up (allocations, kernels)
    secs = float("inf")
    for _ in range(repeats):  # best of several: other processes share the machine
        _sync(dev)
        t0 = time.perf_counter()
        train(w, task, lr=lr, steps=steps, record=False)
        _sync(dev)
        secs = min(secs, time.perf_counter() - t0)
    return train_flops([width] * (depth + 1), members) * steps / secs, secs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--members", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    dev = resolve_device(args.device)
    dtype = getattr(torch, args.dtype)
    big = (1024, 4) if dev.type == "cpu" else (4096, 16)
    peak = peak_matmul_flops(dev, dtype, n=args.width, batch=args.members)
    peak_big = peak_matmul_flops(dev, dtype, *big)
    sim, secs = simulator_flops(dev, dtype, args.width, args.depth, args.members, args.steps)
    # measure the ceilings again afterwards and keep the best: load from other users varies
    peak = max(peak, peak_matmul_flops(dev, dtype, n=args.width, batch=args.members))
    peak_big = max(peak_big, peak_matmul_flops(dev, dtype, *big))
    ceiling = max(peak, peak_big)
    result = {"device": str(dev), "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
              "threads": torch.get_num_threads(), "dtype": args.dtype, "width": args.width, "depth": args.depth,
              "members": args.members, "steps": args.steps, "seconds": round(secs, 3),
              "matmul_flops_same_shape": peak, "matmul_flops_large": peak_big, "simulator_flops": sim,
              "fraction_of_peak": sim / ceiling, "fraction_of_same_shape_matmul": sim / peak}
    print(json.dumps(result, indent=1))
    if args.out:
        atomic_write_json(args.out, result)
    return result


if __name__ == "__main__":
    main()
