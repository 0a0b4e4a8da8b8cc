"""The proxy training loop, in one file: phases, schedules, eval, logging, checkpoint/resume, DDP.

One call, ``train(cfg, out_dir)``, runs every phase of a resolved config (see
:mod:`cltk.proxy.config`) and writes, beside the run:
- ``curves.csv``: one row per optimizer step (step, tokens, phase, lr, train_loss, grad_norm) and,
  every ``eval_every`` steps and at each phase end, ``val_loss_<domain>`` for every eval domain,
  ``loss`` (the val loss of the phase's primary domain, so ``cltk fit-scaling`` reads the file as
  is), ``max_attn_logit``, ``logit_norm`` and ``tokens_per_s``;
- ``config.toml`` (the resolved config), ``env.json`` (git sha, versions, device);
- ``checkpoint.pt``: model, optimizer, RNG states, data position, step and the curve so far. A run
  killed at any point and started again with the same config resumes from it and writes the same
  curve (bitwise on CPU; ``tokens_per_s`` is wall-clock and differs).

Row ``step = i`` follows the Curve convention of :mod:`cltk.curves`: ``lr`` is the LR of update
``i``, ``train_loss`` the loss of the batch that update ``i`` used, and the val losses are measured
after update ``i``. Optimizer: AdamW (Loshchilov & Hutter 2019, Alg. 2) with betas (0.9, 0.95),
weight decay independent of the LR (Wortsman et al. 2023, Sec. 3.2.2), no decay on gains, and
global-norm gradient clipping (Pascanu et al. 2013, Alg. 2). Multi-GPU: start the same command under
``torchrun``; DistributedDataParallel (Li et al. 2020) splits each batch's rows over ranks.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from cltk.files import atomic_write
from cltk.proxy import data as D
from cltk.proxy.config import ConfigError, dump_toml, phase_weights
from cltk.proxy.model import GPT, ModelConfig
from cltk.runtime import resolve_device
from cltk.schedules import parse

__all__ = ["CKPT", "CURVES", "CheckpointMismatchError", "environment", "make_optimizer", "train"]

CKPT, CURVES = "checkpoint.pt", "curves.csv"
_FIXED_COLS = ["step", "tokens", "phase", "lr", "loss", "train_loss", "grad_norm"]
_TAIL_COLS = ["max_attn_logit", "logit_norm", "tokens_per_s"]


def _load_checkpoint(path: Path) -> dict:
    """The checkpoint's dict; a truncated or foreign file (a run killed mid-write before atomic
    writes, a disk filled up) is one ConfigError naming it, not an unpickling traceback."""
    import pickle
    import zipfile

    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)  # RNG states must stay on the CPU
    except (pickle.UnpicklingError, EOFError, RuntimeError, zipfile.BadZipFile, OSError) as e:
        raise ConfigError(f"{path}: unreadable checkpoint ({' '.join(str(e).split())[:120]}); rerun with --fresh "
                          f"or delete it") from None
    keys = {"config", "model", "optim", "rng", "step", "rows", "elapsed"}
    missing = sorted(keys - set(ck)) if isinstance(ck, dict) else sorted(keys)
    if missing:
        raise ConfigError(f"{path}: not a cltk proxy checkpoint (lacks {missing}); rerun with --fresh or delete it")
    return ck


class CheckpointMismatchError(ConfigError):
    """The output folder holds the checkpoint of a run with another config (never overwritten)."""


def _dist() -> tuple[int, int, int]:
    """(rank, world size, local rank) from the torchrun environment; (0, 1, 0) without it."""
    if "WORLD_SIZE" not in os.environ:
        return 0, 1, 0
    return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", "0"))


def environment(device: torch.device) -> dict:
    """What produced the run: git commit of the code, package versions, device, command line."""
    repo = Path(__file__).resolve().parents[2]
    def git(*args) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10,
                              check=False).stdout.strip()

    try:
        sha = git("rev-parse", "HEAD") or None
        dirty = bool(git("status", "--porcelain", "--", "toolkit")) if sha else None
    except (OSError, subprocess.SubprocessError):
        sha, dirty = None, None
    env = {"git_sha": sha, "git_dirty_toolkit": dirty, "python": sys.version.split()[0], "torch": torch.__version__,
           "numpy": np.__version__, "platform": platform.platform(), "device": str(device),
           "threads": torch.get_num_threads(), "argv": sys.argv}
    if device.type == "cuda":
        env.update(gpu=torch.cuda.get_device_name(device), cuda=torch.version.cuda)
    return env


def make_optimizer(model: GPT, t: dict, peak_lr: float, device: torch.device) -> torch.optim.AdamW:
    """AdamW (Loshchilov & Hutter 2019, Alg. 2) with decay on matrices only and weight decay independent
    of the LR (Wortsman et al. 2023, Sec. 3.2.2): each step removes s_t * weight_decay of every weight,
    s_t = lr_t / peak. torch's AdamW removes lr_t * its weight_decay, hence the division by the peak."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": t["weight_decay"] / peak_lr},
              {"params": rest, "weight_decay": 0.0}]
    fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return torch.optim.AdamW(groups, lr=peak_lr, betas=(t["beta1"], t["beta2"]), eps=t["eps"], **fast)


def _load_domains(cfg: dict, weights: list[dict]) -> tuple[dict, list[str]]:
    used = sorted({d for w in weights for d in w})
    evals = cfg["train"]["eval_domains"] or used
    cache = Path(cfg["data"]["cache_dir"]).expanduser() if cfg["data"]["cache_dir"] else D.default_cache_dir()
    doms = {}
    for name in sorted(set(used) | set(evals)):
        doms[name] = D.load_domain(name, cfg["data"]["domains"].get(name), cache,
                                   stdlib_fraction=cfg["data"]["stdlib_fraction"],
                                   val_fraction=cfg["data"]["val_fraction"])
        D.check_domain(doms[name], cfg["model"]["seq_len"])
        if doms[name].vocab_size > cfg["model"]["vocab_size"]:
            raise D.DataError(f"domain '{name}' holds token ids up to {doms[name].vocab_size - 1}: "
                              f"set model.vocab_size >= {doms[name].vocab_size}")
    return doms, list(evals)


def _write_curves(path: Path, rows: list[dict], evals: list[str]) -> None:
    cols = _FIXED_COLS + [f"val_loss_{d}" for d in evals] + _TAIL_COLS
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else (repr(r[k]) if isinstance(r[k], float) else r[k])) for k in cols})
    atomic_write(path, lambda f: f.write(buf.getvalue().encode()))


def _rng_state(device: torch.device) -> dict:
    st = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if device.type == "cuda":
        st["cuda"] = torch.cuda.get_rng_state(device)
    return st


def _set_rng_state(st: dict, device: torch.device) -> None:
    torch.set_rng_state(st["torch"])
    random.setstate(st["python"])
    if device.type == "cuda" and "cuda" in st:
        torch.cuda.set_rng_state(st["cuda"], device)


@torch.no_grad()
def _evaluate(model: GPT, val: dict, amp) -> dict:
    """Mean val cross-entropy per domain (no z-loss) and the two instability signals, measured on
    the first domain's first batch (Wortsman et al. 2023, Sec. 3.1)."""
    model.eval()
    out = {}
    for i, (name, batches) in enumerate(val.items()):
        total = 0.0
        for j, b in enumerate(batches):
            with amp:
                _, _, parts = model(b[:, :-1], b[:, 1:], stats=(i == 0 and j == 0))
            total += float(parts["ce"])
            if i == 0 and j == 0:
                out.update(max_attn_logit=parts["max_attn_logit"], logit_norm=parts["logit_norm"])
        out[f"val_loss_{name}"] = total / len(batches)
    model.train()
    return out


def train(cfg: dict, out_dir: str | Path, *, resume: bool = True, on_step=None) -> dict:
    """Train the proxy described by the resolved config ``cfg``; returns a summary dict.

    ``on_step(step, total, row)`` is called after every step (rank 0 only), e.g. for a progress bar.
    With ``resume`` and a ``checkpoint.pt`` of the same config in ``out_dir``, training continues
    from it; a checkpoint of another config is an error rather than silently overwritten.
    """
    threads, determ = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    if cfg["train"]["threads"]:
        torch.set_num_threads(cfg["train"]["threads"])
    if cfg["train"]["deterministic"]:
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        return _train(cfg, Path(out_dir), resume, on_step)
    finally:  # the settings are process-wide: leave the caller's as they were
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(determ)


def _train(cfg: dict, out_dir: Path, resume: bool, on_step) -> dict:  # noqa: C901 - the loop stays one function
    rank, world, local_rank = _dist()
    device = resolve_device(cfg["device"], local_rank)
    t, mc = cfg["train"], ModelConfig(**cfg["model"])
    micro = t["batch_size"] // t["grad_accum"]
    if micro % world:
        raise ConfigError(f"train.batch_size / train.grad_accum = {micro} rows is not divisible by {world} ranks")
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True

    weights = phase_weights(cfg)
    doms, evals = _load_domains(cfg, weights)
    lengths = [ph["steps"] for ph in cfg["phases"]]
    bounds = np.cumsum([0] + lengths)
    lrs = np.concatenate([parse(ph["schedule"]).render(ph["steps"]) for ph in cfg["phases"]])
    peak = float(lrs.max())
    if not np.all(np.isfinite(lrs)) or peak <= 0:
        raise ConfigError("the phases' schedules never give a positive learning rate")
    total = int(bounds[-1])
    primary = [max(ph["mix"], key=lambda d: ph["mix"][d]) for ph in cfg["phases"]]

    torch.manual_seed(cfg["seed"])
    random.seed(cfg["seed"])
    model = GPT(mc).to(device)
    opt = make_optimizer(model, t, peak, device)
    run = model
    if t["compile"]:
        run = torch.compile(model)
    if world > 1:
        run = torch.nn.parallel.DistributedDataParallel(run, device_ids=[local_rank] if device.type == "cuda" else None)
    use_bf16 = t["dtype"] == "bfloat16" or (t["dtype"] == "auto" and device.type == "cuda")
    amp = torch.autocast(device.type, dtype=torch.bfloat16) if use_bf16 else contextlib.nullcontext()

    step, rows, elapsed = 0, [], 0.0
    ckpt_path = out_dir / CKPT
    if resume and ckpt_path.exists():
        ck = _load_checkpoint(ckpt_path)
        if ck["config"] != cfg:
            diff = next((k for k in cfg if ck["config"].get(k) != cfg[k]), "?")
            raise CheckpointMismatchError(f"{ckpt_path} belongs to a run with a different config (section "
                                          f"'{diff}' differs): train into another folder, or without resuming")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        _set_rng_state(ck["rng"], device)
        step, rows, elapsed = ck["step"], ck["rows"], ck["elapsed"]
    resumed_from = step

    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(out_dir / "config.toml", lambda f: f.write(dump_toml(cfg).encode()))
        atomic_write(out_dir / "env.json", lambda f: f.write(json.dumps(environment(device), indent=2).encode()))
    val = {d: [torch.from_numpy(b).to(device) for b in D.val_batches(doms[d], t["eval_batches"],
                                                                     micro, mc.seq_len)] for d in evals}
    tokens_per_step = t["batch_size"] * mc.seq_len
    pending: list[tuple[dict, torch.Tensor, torch.Tensor]] = []  # rows whose losses still live on device
    t_mark, tok_mark = time.perf_counter(), step * tokens_per_step

    def flush():
        """Move the pending per-step losses to the host in one transfer (no GPU sync per step)."""
        if pending:
            vals = torch.stack([torch.stack([lo, gn]) for _, lo, gn in pending]).float()
            if world > 1:
                torch.distributed.all_reduce(vals)
                vals /= world
            for (row, _, _), (lo, gn) in zip(pending, vals.tolist()):
                row.update(train_loss=lo, grad_norm=gn)
            pending.clear()

    while step < total:
        ph = int(np.searchsorted(bounds, step, side="right") - 1)
        lr = float(lrs[step])
        for g in opt.param_groups:
            g["lr"] = lr
        batch, _ = D.batch_at(doms, weights[ph], step, t["batch_size"], mc.seq_len, cfg["seed"])
        mine = torch.from_numpy(batch.reshape(t["grad_accum"], world, micro // world, -1)[:, rank]).to(device)
        loss_sum = torch.zeros((), device=device)
        for k in range(t["grad_accum"]):
            sync = contextlib.nullcontext() if world == 1 or k == t["grad_accum"] - 1 else run.no_sync()
            with sync, amp:
                _, loss, parts = run(mine[k, :, :-1], mine[k, :, 1:], z_loss=t["z_loss"])
            (loss / t["grad_accum"]).backward()
            loss_sum += parts["ce"] / t["grad_accum"]
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), t["grad_clip"] or float("inf"))
        opt.step()
        opt.zero_grad(set_to_none=True)
        row = {"step": step, "tokens": (step + 1) * tokens_per_step, "phase": cfg["phases"][ph]["name"] or str(ph),
               "lr": lr}
        rows.append(row)
        pending.append((row, loss_sum.detach(), gnorm.detach()))
        step += 1
        is_eval = step % t["eval_every"] == 0 or step in bounds[1:]
        is_ckpt = step % t["ckpt_every"] == 0 or step == total
        if is_eval or is_ckpt:
            flush()
        if is_eval and rank == 0:
            now = time.perf_counter()
            elapsed += now - t_mark
            row["tokens_per_s"] = (row["tokens"] - tok_mark) / max(now - t_mark, 1e-9)
            row.update(_evaluate(model, val, amp))
            row["loss"] = row[f"val_loss_{primary[ph]}"] if primary[ph] in evals else None
            _write_curves(out_dir / CURVES, rows, evals)
            t_mark, tok_mark = time.perf_counter(), row["tokens"]
        if is_ckpt and rank == 0:
            ck = {"format": 1, "config": cfg, "step": step, "model": model.state_dict(), "optim": opt.state_dict(),
                  "rng": _rng_state(device), "rows": rows, "elapsed": elapsed,
                  "data": {"next_step": step, "phase": ph, "weights": weights[ph]}}
            atomic_write(ckpt_path, lambda f, ck=ck: torch.save(ck, f))
        if on_step is not None and rank == 0:
            on_step(step, total, row)
    if world > 1:
        torch.distributed.barrier()
    fpt = model.flops_per_token()
    tps = [r["tokens_per_s"] for r in rows if r.get("tokens_per_s")]
    return {"out_dir": str(out_dir), "params": model.num_params(), "params_non_embedding": model.num_params(False),
            "flops_per_token": fpt, "steps": total, "tokens": total * tokens_per_step, "device": str(device),
            "world_size": world, "resumed_from_step": resumed_from, "train_seconds": elapsed,
            "tokens_per_s": float(np.median(tps)) if tps else None, "eval_domains": evals,
            "phases": [{"name": ph["name"] or str(i), "steps": ph["steps"], "weights": weights[i],
                        "primary": primary[i], "schedule": ph["schedule"]} for i, ph in enumerate(cfg["phases"])],
            "rows": rows}


def main(argv: list[str] | None = None) -> None:
    """``python -m cltk.proxy.train CONFIG OUT_DIR [KEY=VALUE ...]``: the bare loop (no report,
    no metrics.json; ``cltk proxy train`` adds those), e.g. under torchrun on a machine without the
    analytics dependencies. Prints the summary (without the curve) as one JSON line."""
    from cltk.proxy.config import load_config

    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        raise SystemExit("usage: python -m cltk.proxy.train CONFIG OUT_DIR [KEY=VALUE ...]")
    try:
        summary = train(load_config(args[0], args[2:]), args[1])
    except (ConfigError, D.DataError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    if _dist()[0] == 0:
        print(json.dumps({k: v for k, v in summary.items() if k != "rows"}))


if __name__ == "__main__":
    main()
