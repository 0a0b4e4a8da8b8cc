"""``cltk proxy``: train the small-transformer proxy under any schedule and data mix, or sweep schedules."""
from __future__ import annotations

import os
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from cltk.errors import InputError
from cltk.analytics.proxy.runs import load_proxy_config, plan_sweep, run_sweep, run_train

_DEVICE = click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None,
                       help="Device (overrides the config's 'device'; auto = CUDA when available).")
_SET = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                    help="Override a config key, e.g. --set train.batch_size=64 --set phases.0.steps=500.")
_OUT = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
                    help="Run directory (curves.csv, metrics.json, report.html, config.toml, checkpoint.pt).")


@click.group()
def proxy():
    """Small-transformer proxy: train under any LR schedule and data mix, offline and resumable."""


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=console, transient=False)


@proxy.command("train")
@click.argument("config", type=click.Path(path_type=Path))
@_SET
@_OUT
@_DEVICE
@click.option("--seed", type=int, default=None, help="Random seed (overrides the config's 'seed').")
@click.option("--fresh", is_flag=True, help="Start over even if OUT holds a checkpoint (default: resume).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train_cmd(config, overrides, out_dir, device, seed, fresh, quiet):
    """Train one proxy run from a TOML CONFIG; resumes from OUT/checkpoint.pt when present.

    Under torchrun the same command trains with DDP on every rank (rank 0 writes the files).
    """
    extra = [f"device={device}"] if device else []
    extra += [f"seed={seed}"] if seed is not None else []
    cfg = load_proxy_config(config, list(overrides) + extra)
    rank0 = int(os.environ.get("RANK", "0")) == 0
    bar = _LazyBar(Console(stderr=True), "train", sum(p["steps"] for p in cfg["phases"]), rank0 and not quiet)
    last = {"val": ""}

    def on_step(step, total, row):
        if row.get("loss") is not None:
            last["val"] = f" val {row['loss']:.3f}"
        bar.update(step, f"lr {row['lr']:.2e}{last['val']}")

    try:
        metrics = run_train(cfg, out_dir, resume=not fresh, on_step=on_step)
    finally:
        bar.close()
    if rank0:
        _print(metrics, out_dir)


class _LazyBar:
    """A progress bar that appears at the first step, so errors found while loading the data print
    as one clean line instead of under an empty bar."""

    def __init__(self, console: Console, name: str, total: int, show: bool):
        self.console, self.name, self.total, self.show = console, name, total, show
        self.prog = None

    def update(self, completed: int, info: str) -> None:
        if not self.show:
            return
        if self.prog is None:
            self.prog = _progress(self.console)
            self.prog.start()
            self.task = self.prog.add_task(self.name, total=self.total, info="")
        self.prog.update(self.task, completed=completed, info=info)

    def close(self) -> None:
        if self.prog is not None:
            self.prog.stop()


def _print(metrics: dict, out_dir: Path, what: str = "run") -> None:
    t = Table(title=f"proxy {what} {out_dir}")
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k, v in metrics.items():
        t.add_row(k, f"{v:.5g}" if isinstance(v, float) else str(v))
    console = Console(width=110)
    console.print(t)
    console.print(f"wrote {out_dir / 'report.html'}, {out_dir / 'metrics.json'}, {out_dir / 'curves.csv'}")


@proxy.command("sweep")
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--schedule", "schedules", multiple=True, metavar="[NAME=]SPEC",
              help="A schedule to run (repeat the option); it replaces the --phase phase's schedule.")
@click.option("--schedules-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A file with one [NAME=]SPEC per line (# comments allowed).")
@click.option("--phase", type=int, default=None, help="Index of the phase whose schedule varies (default: last).")
@click.option("--seeds", default="", help="Comma-separated seeds; every schedule runs once per seed "
                                          "(default: the config's seed).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Parallel runs in the local process pool (default: 1 on CUDA, else half the CPU cores).")
@_SET
@_OUT
@_DEVICE
def sweep_cmd(config, schedules, schedules_file, phase, seeds, workers, overrides, out_dir, device):
    """Run CONFIG once per schedule (and seed) in a local process pool; write a comparison report."""
    cfg = load_proxy_config(config, list(overrides) + ([f"device={device}"] if device else []))
    items = list(schedules)
    if schedules_file is not None:
        if not schedules_file.is_file():
            raise InputError(f"{schedules_file}: no such schedules file")
        items += [ln.strip() for ln in schedules_file.read_text().splitlines()
                  if ln.strip() and not ln.strip().startswith("#")]
    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()] or [cfg["seed"]]
    except ValueError:
        raise InputError(f"--seeds '{seeds}': expected comma-separated integers") from None
    plan = plan_sweep(cfg, items, phase, seed_list)
    if workers is None:
        workers = 1 if cfg["device"] == "cuda" else max(1, (os.cpu_count() or 2) // 2)
    console = Console(stderr=True)
    with _progress(console) as prog:
        task = prog.add_task("sweep", total=len(plan), info="")

        def on_done(name, res, err):
            prog.update(task, advance=1, info=f"{name}: " + ("failed" if err else "done"))

        out = run_sweep(plan, out_dir, workers=min(workers, len(plan)), on_done=on_done)
    _print(out["metrics"], out_dir, "sweep")
    for name, err in out["errors"].items():
        click.echo(f"run {name} failed: {err}", err=True)
    if out["errors"]:
        raise SystemExit(1)
