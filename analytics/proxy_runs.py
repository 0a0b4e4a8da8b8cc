"""One proxy run as the jobs use it (shelf module of ``cltk proxy`` and ``cltk validate``): train
through :func:`cltk.proxy.train` into a folder, turn the curve into flat acceptance figures, and
write the run folder's ``metrics.json`` and ``report.html`` through :func:`write_result`.

Figures of a run (key names are stable; docs/proxy.md lists them):
- size and speed: params, params_non_embedding, steps, tokens, tokens_per_s, flops_per_token,
  achieved_flops_per_s, train_seconds, device, world_size, resumed_from_step;
- per eval domain d: first_val_loss_<d> (first eval), final_val_loss_<d>, best_val_loss_<d>,
  val_loss_decrease_<d> = first - final; final_train_loss (mean of the last 10 steps);
- per phase switch from old primary domain A to new primary domain B (Ibrahim et al. 2024;
  De Lange et al. 2023, "Continual evaluation for lifelong learning: identifying the stability
  gap", Sec. 3), with a ``<phase>_`` prefix when the run has more than one switch:
  forgetting_<A> = L_A(end of B) - L_A(end of A), worst_forgetting_<A> = max over B of L_A - L_A(end of A),
  stability_gap_<A> = max over B of L_A - L_A(end of B) (the transient part that recovers),
  stability_gap_step_<A> (steps after the switch where L_A peaks), new_domain_rise_<B> =
  max(0, max over B of L_B - L_B(end of A));
- instability signals (Wortsman et al. 2023, Sec. 3.1): max_attn_logit_final / _max, logit_norm_final / _max;
- primary_domain (the last phase's) and schedule (the phases' specs joined with " + ").

Configs are loaded with :func:`cltk.proxy.load_config` / :func:`cltk.proxy.resolve` (toolkit).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from cltk.analytics.result import Result, write_result
from cltk.proxy import train

__all__ = ["run_metrics", "run_result", "train_folder", "train_folder_job", "train_run"]


def _evals(rows: list[dict], col: str) -> tuple[np.ndarray, np.ndarray]:
    pts = [(r["step"], r[col]) for r in rows if r.get(col) is not None]
    return (np.array([p[0] for p in pts], dtype=np.int64), np.array([p[1] for p in pts], dtype=np.float64))


def _at_or_before(steps: np.ndarray, vals: np.ndarray, step: int) -> float | None:
    i = np.searchsorted(steps, step, side="right") - 1
    return float(vals[i]) if i >= 0 else None


def _finite(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def _switch_metrics(rows: list[dict], phases: list[dict]) -> dict:
    """Forgetting, stability gap and new-domain rise at every change of primary domain."""
    m = {}
    ends = np.cumsum([p["steps"] for p in phases]) - 1  # last step of each phase
    for p in range(1, len(phases)):
        a, b = phases[p - 1]["primary"], phases[p]["primary"]
        if a == b:
            continue
        pre = "" if len(phases) == 2 else f"{phases[p]['name']}_"
        s, v = _evals(rows, f"val_loss_{a}")
        inside = (s > ends[p - 1]) & (s <= ends[p])
        before, after = _at_or_before(s, v, ends[p - 1]), _at_or_before(s, v, ends[p])
        if before is not None and after is not None and inside.any():
            worst_i = int(np.argmax(np.where(inside, v, -np.inf)))
            m[f"{pre}forgetting_{a}"] = after - before
            m[f"{pre}worst_forgetting_{a}"] = float(v[worst_i]) - before
            m[f"{pre}stability_gap_{a}"] = float(v[worst_i]) - after
            m[f"{pre}stability_gap_step_{a}"] = int(s[worst_i] - ends[p - 1])
        s, v = _evals(rows, f"val_loss_{b}")
        inside = (s > ends[p - 1]) & (s <= ends[p])
        start = _at_or_before(s, v, ends[p - 1])
        if start is not None and inside.any():
            m[f"{pre}new_domain_rise_{b}"] = max(0.0, float(v[inside].max()) - start)
    return m


def run_metrics(summary: dict) -> dict:
    """The flat acceptance figures of one run (see the module docstring) from train()'s summary."""
    rows = summary["rows"]
    m = {k: summary[k] for k in ("params", "params_non_embedding", "steps", "tokens", "tokens_per_s",
                                 "flops_per_token", "train_seconds", "device", "world_size", "resumed_from_step")}
    tps = summary["tokens_per_s"]
    m["achieved_flops_per_s"] = tps * summary["flops_per_token"] if tps else None
    tl = [r["train_loss"] for r in rows[-10:] if r.get("train_loss") is not None]
    m["final_train_loss"] = float(np.mean(tl)) if tl else None
    for d in summary["eval_domains"]:
        s, v = _evals(rows, f"val_loss_{d}")
        if len(v):
            m.update({f"first_val_loss_{d}": float(v[0]), f"final_val_loss_{d}": float(v[-1]),
                      f"best_val_loss_{d}": float(v.min()), f"val_loss_decrease_{d}": float(v[0] - v[-1])})
    m.update(_switch_metrics(rows, summary["phases"]))
    for col in ("max_attn_logit", "logit_norm"):
        _, v = _evals(rows, col)
        if len(v):
            m[f"{col}_final"], m[f"{col}_max"] = float(v[-1]), float(v.max())
    m["primary_domain"] = summary["phases"][-1]["primary"]
    m["schedule"] = " + ".join(p["schedule"] for p in summary["phases"])
    return {k: _finite(v) for k, v in m.items()}


def train_run(cfg: dict, out_dir, *, resume: bool = True, on_step=None) -> tuple[dict, dict] | None:
    """Train the resolved proxy config ``cfg`` into ``out_dir`` (curves.csv, config.toml, env.json,
    checkpoint.pt; resumes from the checkpoint when ``resume``); returns (summary, figures), or None
    on a DDP rank other than 0 (rank 0 owns the files)."""
    summary = train(cfg, Path(out_dir), resume=resume, on_step=on_step)
    if int(os.environ.get("RANK", "0")) != 0:
        return None
    return summary, run_metrics(summary)


def run_result(summary: dict, metrics: dict) -> Result:
    """The Result of one run folder: its figures (metrics.json) and a report that says what ran.
    The training loop has already written the run's curves.csv, so the Result carries no curves."""
    out_dir = Path(summary["out_dir"])
    res = Result(f"cltk proxy run: {out_dir.name}", metrics)
    phases = ", ".join(f"{p['name']} ({p['steps']} steps, mix {p['weights']}, {p['schedule']})"
                       for p in summary["phases"])
    res.report.text(f"{metrics['params']:,} parameters, {metrics['tokens']:,} tokens on {metrics['device']}. "
                    f"Phases: {phases}.")
    res.report.text("Files: curves.csv (readable by cltk fit-scaling; 'loss' is the val loss of each phase's "
                    "primary domain), config.toml (re-runnable), env.json, checkpoint.pt (resume).")
    return res


def train_folder(cfg: dict, out_dir, resume: bool = True) -> dict:
    """Train one run and write its folder (metrics.json, report.html beside the loop's files);
    returns the run's figures ({} on DDP ranks other than 0)."""
    done = train_run(cfg, out_dir, resume=resume)
    if done is None:
        return {}
    write_result(run_result(*done), out_dir)
    return done[1]


def train_folder_job(job: tuple[dict, str]) -> dict:
    """:func:`train_folder` of a ``(config, out_dir)`` pair: the job executors run (module level,
    so process pools and submitit can pickle it)."""
    cfg, out_dir = job
    return train_folder(cfg, out_dir)
