"""Proxy runs and sweeps: train through :func:`cltk.proxy.train`, turn the curve into flat
acceptance figures (``metrics.json``), and run lists of schedules in a local process pool.

Figures of a run (key names are stable; docs/readme_proxy.md lists them):
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
- instability signals (Wortsman et al. 2023, Sec. 3.1): max_attn_logit_final / _max, logit_norm_final / _max.
"""
from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing as mp
import os
from pathlib import Path

import numpy as np

from cltk.errors import InputError
from cltk.files import atomic_write_bytes, atomic_write_frame, atomic_write_json
from cltk.proxy import load_config, train
from cltk.schedules import ScheduleError, parse

__all__ = ["load_proxy_config", "run_metrics", "run_sweep", "run_train", "sweep_metrics"]


def load_proxy_config(path, overrides=()) -> dict:
    """:func:`cltk.proxy.load_config` of a TOML file with ``KEY=VALUE`` overrides."""
    return load_config(path, list(overrides))


def _evals(rows: list[dict], col: str) -> tuple[np.ndarray, np.ndarray]:
    pts = [(r["step"], r[col]) for r in rows if r.get(col) is not None]
    return (np.array([p[0] for p in pts], dtype=np.int64), np.array([p[1] for p in pts], dtype=np.float64))


def _at_or_before(steps: np.ndarray, vals: np.ndarray, step: int) -> float | None:
    i = np.searchsorted(steps, step, side="right") - 1
    return float(vals[i]) if i >= 0 else None


def _finite(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def run_metrics(summary: dict) -> dict:
    """The flat acceptance figures of one run (see the module docstring) from train()'s summary."""
    rows = summary["rows"]
    m = {k: summary[k] for k in ("params", "params_non_embedding", "steps", "tokens", "tokens_per_s",
                                 "flops_per_token", "train_seconds", "device", "world_size", "resumed_from_step")}
    m["achieved_flops_per_s"] = summary["tokens_per_s"] * summary["flops_per_token"] if summary["tokens_per_s"] else None
    tl = [r["train_loss"] for r in rows[-10:] if r.get("train_loss") is not None]
    m["final_train_loss"] = float(np.mean(tl)) if tl else None
    for d in summary["eval_domains"]:
        s, v = _evals(rows, f"val_loss_{d}")
        if len(v):
            m.update({f"first_val_loss_{d}": float(v[0]), f"final_val_loss_{d}": float(v[-1]),
                      f"best_val_loss_{d}": float(v.min()), f"val_loss_decrease_{d}": float(v[0] - v[-1])})
    phases = summary["phases"]
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
    for col in ("max_attn_logit", "logit_norm"):
        _, v = _evals(rows, col)
        if len(v):
            m[f"{col}_final"], m[f"{col}_max"] = float(v[-1]), float(v.max())
    m["primary_domain"] = phases[-1]["primary"]
    m["schedule"] = " + ".join(p["schedule"] for p in phases)
    return {k: _finite(v) for k, v in m.items()}


def run_train(cfg: dict, out_dir, *, resume: bool = True, on_step=None, report: bool = True) -> dict:
    """Train one run into ``out_dir`` and write metrics.json (+ report.html); returns the metrics."""
    out_dir = Path(out_dir)
    summary = train(cfg, out_dir, resume=resume, on_step=on_step)
    if int(os.environ.get("RANK", "0")) != 0:
        return {}
    metrics = run_metrics(summary)
    atomic_write_json(out_dir / "metrics.json", metrics)
    if report:
        from cltk.analytics.proxy.report import train_report

        train_report(summary, metrics, out_dir)
    return metrics


def _named(item: str, i: int) -> tuple[str, str]:
    """``NAME=SPEC`` or a bare SPEC (named ``<i>-<kind>``); a spec's own ``=`` follows its ``:``."""
    head, eq, rest = item.partition("=")
    if eq and ":" not in head and ":" in rest:
        name, spec = head.strip(), rest.strip()
    else:
        name, spec = f"{i}-{item.split(':', 1)[0].strip()}", item.strip()
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise InputError(f"--schedule '{item}': run name '{name}' is not a valid folder name")
    return name, spec


def plan_sweep(cfg: dict, schedules: list[str], phase: int | None, seeds: list[int]) -> list[tuple[str, dict]]:
    """One (name, config) per schedule and seed: the schedule replaces phase ``phase``'s (default:
    the last phase) and the phase's length becomes the schedule's when the spec gives one."""
    if not schedules:
        raise InputError("no schedules given (use --schedule SPEC, several times, or --schedules-file)")
    phase = len(cfg["phases"]) - 1 if phase is None else phase
    if not 0 <= phase < len(cfg["phases"]):
        raise InputError(f"--phase {phase}: the config has {len(cfg['phases'])} phase(s)")
    plan, names = [], set()
    for i, item in enumerate(schedules):
        name, spec = _named(item, i)
        if name in names:
            raise InputError(f"--schedule '{item}': run name '{name}' is used twice")
        names.add(name)
        try:
            sched = parse(spec)
        except ScheduleError as e:
            raise InputError(f"--schedule '{item}': {e}") from None
        for seed in seeds:
            c = {**cfg, "seed": seed, "phases": [dict(p) for p in cfg["phases"]]}
            c["phases"][phase]["schedule"] = spec
            if sched.steps:
                c["phases"][phase]["steps"] = sched.steps
            plan.append((name if len(seeds) == 1 else f"{name}-seed{seed}", load_config_dict(c)))
    return plan


def load_config_dict(cfg: dict) -> dict:
    from cltk.proxy import resolve

    return resolve(cfg)


def _worker(name: str, cfg: dict, out_dir: str) -> tuple[str, dict | None, str | None]:
    try:
        return name, run_train(cfg, out_dir, report=False), None
    except Exception as e:  # noqa: BLE001 - one failed run must not sink the sweep; its error is reported
        return name, None, f"{type(e).__name__}: {e}"


def sweep_metrics(results: dict[str, dict | None], errors: dict[str, str]) -> dict:
    """Flat sweep figures: per run ``final_loss.<run>`` (val loss of the last phase's primary domain)
    and ``final_val_loss_<d>.<run>``, the best run, and ``mean_excess_loss`` = mean over runs of
    (final loss - best final loss), the LR sensitivity of Wortsman et al. (2023, Sec. 2.3) when the
    runs differ only in LR."""
    m: dict = {"runs": len(results), "failed_runs": len(errors)}
    finals = {}
    for name, r in results.items():
        if r is None:
            continue
        for k in (k for k in r if k.startswith("final_val_loss_")):
            m[f"{k}.{name}"] = r[k]
        finals[name] = r.get(f"final_val_loss_{r['primary_domain']}")
        m[f"final_loss.{name}"] = finals[name]
        m[f"tokens_per_s.{name}"] = r.get("tokens_per_s")
    ok = {k: v for k, v in finals.items() if v is not None}
    if ok:
        best = min(ok, key=ok.get)
        m.update(best_run=best, best_final_loss=ok[best],
                 mean_excess_loss=float(np.mean([v - ok[best] for v in ok.values()])))
    return m


def run_sweep(plan: list[tuple[str, dict]], out_dir, *, workers: int = 1, on_done=None) -> dict:
    """Run every (name, config) of ``plan`` into ``out_dir/runs/<name>`` in a pool of ``workers``
    processes (spawned: torch state is not fork-safe); write metrics.json, curves.csv (every run,
    wide), curves/<name>.csv (one file per run) and report.html."""
    out_dir = Path(out_dir)
    results: dict[str, dict | None] = {}
    errors: dict[str, str] = {}
    if workers > 1:  # split the cores instead of letting every worker's torch take all of them
        per = max(1, (os.cpu_count() or 1) // workers)
        plan = [(n, {**c, "train": {**c["train"], "threads": c["train"]["threads"] or per}}) for n, c in plan]
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx) as pool:
        futs = [pool.submit(_worker, n, c, str(out_dir / "runs" / n)) for n, c in plan]
        for fut in cf.as_completed(futs):
            name, res, err = fut.result()
            results[name] = res
            if err:
                errors[name] = err
            if on_done:
                on_done(name, res, err)
    results = {n: results[n] for n, _ in plan}
    metrics = sweep_metrics(results, errors)
    atomic_write_json(out_dir / "metrics.json", metrics)
    done = [n for n, _ in plan if results[n]]
    atomic_write_frame(out_dir / "curves.csv", wide_curves(out_dir, done))
    for n in done:  # named copies: `cltk fit-scaling` names curves by file, and every run's file is curves.csv
        atomic_write_bytes(out_dir / "curves" / f"{n}.csv", (out_dir / "runs" / n / "curves.csv").read_bytes())
    from cltk.analytics.proxy.report import sweep_report

    sweep_report(plan, results, errors, metrics, out_dir)
    return {"metrics": metrics, "errors": errors}


def wide_curves(out_dir: Path, names: list[str]):
    """Every run's curve in one CSV: ``step`` then ``<run>/lr``, ``<run>/loss`` (and its val losses);
    read one run with ``--lr-col <run>/lr --loss-col <run>/loss``."""
    import pandas as pd

    frames = []
    for n in names:
        df = pd.read_csv(out_dir / "runs" / n / "curves.csv")
        keep = ["lr", "loss"] + [c for c in df.columns if c.startswith("val_loss_")]
        frames.append(df.set_index("step")[keep].rename(columns=lambda c, n=n: f"{n}/{c}"))
    if not frames:
        return pd.DataFrame({"step": []})
    return pd.concat(frames, axis=1).sort_index().reset_index()
