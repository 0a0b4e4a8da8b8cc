"""Proxy training throughput against a plain nanoGPT-style baseline of the same size, same process.

The baseline below is written for this benchmark in the style of Karpathy's nanoGPT (learned
position embeddings, LayerNorm and Linear layers with biases, exact GELU, fused attention, tied
embeddings, ``torch.optim.AdamW`` with the defaults nanoGPT passes, clip 1.0). Both models train on
the same random batches; their timed windows are interleaved so a busy machine slows both alike,
and the throughput ratio is the median over repeats of the per-pair time ratio. Also reported:
achieved FLOP/s (6N + 12LdT per token,
Chowdhery et al. 2022, App. B) as a fraction of the measured FLOP/s of a large square matmul, and on
CUDA the MFU against the GPU's nominal dense bf16 peak.

    python benchmarks/bench_proxy_throughput.py --size 1m --out reports/bench-proxy      # CPU
    python benchmarks/bench_proxy_throughput.py --size 50m --device cuda --compile --out reports/bench-proxy-gpu

Writes OUT/metrics.json (flat): tokens_per_s_proxy, tokens_per_s_baseline, throughput_ratio,
achieved_flops_per_s, matmul_flops_per_s, flops_fraction, mfu (CUDA, when the peak is known), ...
"""
from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from cltk.files import atomic_write_json
from cltk.proxy import GPT, ModelConfig
from cltk.proxy.train import make_optimizer

SIZES = {"1m": {"d_model": 128, "n_layer": 5, "n_head": 4, "seq_len": 256, "batch": 16},
         "50m": {"d_model": 576, "n_layer": 12, "n_head": 9, "seq_len": 1024, "batch": 32}}
# nominal dense bf16 tensor-core peaks (vendor data sheets), for MFU
PEAKS = {"H100": 989.4e12, "H200": 989.4e12, "A100": 312e12, "L4": 121e12}


class _NanoBlock(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.c_fc, self.mlp_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.gelu = nn.GELU()

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(self.gelu(self.c_fc(self.ln_2(x))))


class NanoGPT(nn.Module):
    """The baseline: a GPT-2-style model as nanoGPT writes it (biases on, learned positions)."""

    def __init__(self, vocab, d, n_layer, h, seq_len):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(seq_len, d)
        self.h = nn.ModuleList(_NanoBlock(d, h) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.wte.weight = self.lm_head.weight
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, idx, targets):
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for b in self.h:
            x = b(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def _nano_optimizer(model, device):
    """nanoGPT's configure_optimizers: decay on >= 2-D params, fused AdamW only on CUDA."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                             lr=1e-3, betas=(0.9, 0.95), fused=device.type == "cuda")


def _step_fn(model, opt, loss_fn, amp):
    def step(x, y):
        with amp:
            loss = loss_fn(model, x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss
    return step


def _time(step, batches, device, clock=time.perf_counter) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = clock()
    for x, y in batches:
        loss = step(x, y)
    loss.detach().item()  # wait for the device
    return clock() - t0


def matmul_flops(device, dtype, n: int, reps: int = 10) -> float:
    """Best FLOP/s of an n x n x n matmul (2 n^3 FLOPs) over a few repeats."""
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    best = math.inf
    for _ in range(reps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(5):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - t0) / 5)
    return 2 * n ** 3 / best


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=list(SIZES), default="1m")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--steps", type=int, default=2, help="timed steps per window")
    ap.add_argument("--repeats", type=int, default=15, help="interleaved windows per model")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: this thread's CPU time (needs --threads 1), immune to other processes' load")
    ap.add_argument("--compile", action="store_true", help="torch.compile both models")
    ap.add_argument("--qk-norm", action="store_true", help="measure the proxy with qk-layernorm on")
    ap.add_argument("--out", type=Path, default=Path("reports/bench-proxy"))
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.clock == "cpu" and (args.device != "cpu" or torch.get_num_threads() != 1):
        ap.error("--clock cpu measures one thread: use it with --device cpu --threads 1")
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    device = torch.device(args.device)
    s = SIZES[args.size]
    torch.manual_seed(0)
    cfg = ModelConfig(d_model=s["d_model"], n_layer=s["n_layer"], n_head=s["n_head"], seq_len=s["seq_len"],
                      qk_norm=args.qk_norm)
    ours = GPT(cfg).to(device)
    base = NanoGPT(256, s["d_model"], s["n_layer"], s["n_head"], s["seq_len"]).to(device)
    # independent decay 1e-4 at peak LR 1e-3 removes what nanoGPT's coupled 0.1 x lr 1e-3 removes
    opt_ours = make_optimizer(ours, {"weight_decay": 1e-4, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8}, 1e-3, device)
    amp = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
           else torch.autocast("cpu", enabled=False))
    run_ours, run_base = (torch.compile(ours), torch.compile(base)) if args.compile else (ours, base)
    steps = {"proxy": _step_fn(run_ours, opt_ours, lambda m, x, y: m(x, y, z_loss=1e-4)[1], amp),
             "baseline": _step_fn(run_base, _nano_optimizer(base, device), lambda m, x, y: m(x, y), amp)}
    g = torch.Generator().manual_seed(0)
    data = torch.randint(0, 256, (args.steps, s["batch"], s["seq_len"] + 1), generator=g).to(device)
    batches = [(b[:, :-1].contiguous(), b[:, 1:].contiguous()) for b in data]  # as nanoGPT get_batch makes them
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    mm_n = 8192 if device.type == "cuda" else 1024
    mm = matmul_flops(device, dtype, mm_n)
    for fn in steps.values():  # warm up (and compile)
        _time(fn, batches[:3], device)
    times = {k: [] for k in steps}
    for r in range(args.repeats):  # back-to-back pairs, order alternating: load drifts hit both alike
        for k in (list(steps) if r % 2 == 0 else list(steps)[::-1]):
            times[k].append(_time(steps[k], batches, device, clock))
    tokens = args.steps * s["batch"] * s["seq_len"]
    tps = {k: tokens / statistics.median(v) for k, v in times.items()}
    ratio = statistics.median(b / a for a, b in zip(times["proxy"], times["baseline"]))
    mm = max(mm, matmul_flops(device, dtype, mm_n))  # before and after: the best is the machine's rate
    achieved = tps["proxy"] * ours.flops_per_token()
    m = {"size": args.size, "device": str(device), "threads": torch.get_num_threads(), "clock": args.clock,
         "compile": args.compile,
         "params_proxy": ours.num_params(), "params_baseline": sum(p.numel() for p in base.parameters()),
         "tokens_per_step": s["batch"] * s["seq_len"], "tokens_per_s_proxy": tps["proxy"],
         "tokens_per_s_baseline": tps["baseline"], "throughput_ratio": ratio,
         "throughput_ratio_best": min(times["baseline"]) / min(times["proxy"]), "repeats": args.repeats,
         "flops_per_token": ours.flops_per_token(), "achieved_flops_per_s": achieved,
         "matmul_flops_per_s": mm, "flops_fraction": achieved / mm}
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        peak = next((v for k, v in PEAKS.items() if k in name), None)
        m.update(gpu=name, mfu=achieved / peak if peak else None, peak_flops_per_s=peak)
    atomic_write_json(args.out / "metrics.json", m)
    for k, v in m.items():
        print(f"{k:24s} {v:.4g}" if isinstance(v, float) else f"{k:24s} {v}")
    return m


if __name__ == "__main__":
    main()
