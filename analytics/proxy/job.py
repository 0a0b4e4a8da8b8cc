"""The proxy jobs: train one run (``cltk proxy train``) or a list of schedules in parallel
(``cltk proxy sweep``), each returning a :class:`Result` for :func:`write_result`.

A run's own figures come from :mod:`cltk.analytics.proxy_runs` (shared with ``cltk validate``);
a sweep adds, per run, ``final_loss.<run>`` and the LR sensitivity of Wortsman et al. (2023).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cltk.analytics.executors import LocalExecutor
from cltk.analytics.proxy.report import sweep_sections, train_sections
from cltk.analytics.proxy_runs import run_result, train_folder_job, train_run
from cltk.analytics.result import Result
from cltk.errors import InputError
from cltk.proxy import resolve
from cltk.schedules import Schedule

__all__ = ["plan_sweep", "run_sweep", "run_train", "sweep_metrics", "wide_curves"]


def run_train(cfg: dict, out_dir, *, resume: bool = True, on_step=None) -> Result | None:
    """Train the resolved config ``cfg`` into ``out_dir`` (the loop writes curves.csv, config.toml,
    env.json, checkpoint.pt there); returns the run's Result (figures and the loss / LR / instability
    report) for ``write_result(result, out_dir)``, or None on a DDP rank other than 0."""
    done = train_run(cfg, out_dir, resume=resume, on_step=on_step)
    if done is None:
        return None
    summary, metrics = done
    result = run_result(summary, metrics)
    train_sections(result.report, summary, pd.read_csv(Path(out_dir) / "curves.csv"))
    return result


def plan_sweep(cfg: dict, schedules: list[tuple[str | None, Schedule]], phase: int | None = None,
               seeds=None) -> list[tuple[str, dict]]:
    """One (run name, resolved config) per schedule and seed. Each ``(name, schedule)`` replaces the
    schedule of phase ``phase`` (default: the last), whose length becomes the schedule's when it has
    one; an unnamed schedule is called ``<index>-<kind>``. ``seeds`` default to the config's seed."""
    if not schedules:
        raise InputError("no schedules given: a sweep needs at least one schedule")
    n = len(cfg["phases"])
    phase = n - 1 if phase is None else phase
    if not 0 <= phase < n:
        raise InputError(f"phase index {phase} is out of range: the config has {n} phase(s)")
    seeds = list(seeds) if seeds else [cfg["seed"]]
    plan, names = [], set()
    for i, (name, sched) in enumerate(schedules):
        name = name or f"{i}-{sched.spec.partition(':')[0]}"
        if name in names:
            raise InputError(f"run name '{name}' is used twice in the sweep")
        names.add(name)
        for seed in seeds:
            c = {**cfg, "seed": seed, "phases": [dict(p) for p in cfg["phases"]]}
            c["phases"][phase]["schedule"] = sched.spec  # the config format stores the spec
            if sched.steps:
                c["phases"][phase]["steps"] = sched.steps
            plan.append((name if len(seeds) == 1 else f"{name}-seed{seed}", resolve(c)))
    return plan


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


def run_sweep(plan: list[tuple[str, dict]], out_dir, *, workers: int = 1, on_done=None) -> Result:
    """Train every (name, config) of ``plan`` into ``out_dir/runs/<name>`` (a run folder each, see
    :func:`cltk.analytics.proxy_runs.train_folder`) with ``workers`` local processes; a failed run
    is reported, not raised, and the others go on. ``on_done(name, figures | None, error | None)``
    follows each run. The Result holds metrics.json, curves.csv (every run, wide), curves/<name>.csv
    (one per run) and the comparison report; ``details["errors"]`` maps failed runs to their error."""
    out_dir = Path(out_dir)
    dirs = {name: out_dir / "runs" / name for name, _ in plan}

    def done(i: int, out) -> None:
        if on_done is None:
            return
        if isinstance(out, Exception):
            on_done(plan[i][0], None, _error(out))
        else:
            on_done(plan[i][0], out, None)

    outs = LocalExecutor(workers).map(train_folder_job, [(cfg, str(dirs[n])) for n, cfg in plan], on_done=done)
    results = {n: (None if isinstance(o, Exception) else o) for (n, _), o in zip(plan, outs)}
    errors = {n: _error(o) for (n, _), o in zip(plan, outs) if isinstance(o, Exception)}
    metrics = sweep_metrics(results, errors)
    ok = [n for n in results if results[n] is not None]
    frames = {n: pd.read_csv(dirs[n] / "curves.csv") for n in ok}
    result = Result(f"cltk proxy sweep: {out_dir.name}", metrics, curves=wide_curves(frames),
                    # named copies: `cltk fit-scaling` names curves by file, and every run's file is curves.csv
                    files={f"curves/{n}.csv": (dirs[n] / "curves.csv").read_bytes() for n in ok},
                    metrics_in_report=False, details={"errors": errors})
    sweep_sections(result.report, plan, results, errors, metrics, frames)
    return result


def _error(e: Exception) -> str:
    return f"{type(e).__name__}: {e}"


def wide_curves(curves: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every run's curve (its curves.csv frame) in one frame: ``step`` then ``<run>/lr``,
    ``<run>/loss`` (and its val losses); read one run with ``--lr-col <run>/lr --loss-col <run>/loss``."""
    frames = []
    for n, df in curves.items():
        keep = ["lr", "loss"] + [c for c in df.columns if c.startswith("val_loss_")]
        frames.append(df.set_index("step")[keep].rename(columns=lambda c, n=n: f"{n}/{c}"))
    if not frames:
        return pd.DataFrame({"step": []})
    return pd.concat(frames, axis=1).sort_index().reset_index()
