"""``cltk proxy``: train the small-transformer proxy under any schedule and data mix, or sweep schedules."""
from __future__ import annotations

import os
from pathlib import Path

import click

from cltk.cli.group import LazyGroup
from cltk.cli.options import NumberList, OutDir, ScheduleSpec, device_option

_DEVICE = device_option(None, "training", " (default: the config's 'device')")
_SET = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                    help="Override a config key, e.g. --set train.batch_size=64 --set phases.0.steps=500.")


def _out(what: str):
    return click.option("--out", "out_dir", type=OutDir(), required=True,
                        help=what)


class NamedSchedule(click.ParamType):
    """``[NAME=]SPEC``: a run name (a folder name; default ``<index>-<kind>``) and a schedule spec,
    converted to ``(name or None, Schedule)``. A spec's own ``=`` comes after its ``:``."""

    name = "[NAME=]SPEC"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        head, eq, rest = str(value).partition("=")
        name, spec = (head.strip(), rest) if eq and ":" not in head and ":" in rest else (None, str(value))
        if name is not None and (not name or any(c in name for c in "/\\") or name.startswith(".")):
            self.fail(f"'{value}': run name '{name}' is not a valid folder name", param, ctx)
        return name, ScheduleSpec().convert(spec.strip(), param, ctx)


def _load(config: Path, overrides: tuple, **keys) -> dict:
    from cltk.proxy import load_config

    return load_config(config, list(overrides) + [f"{k}={v}" for k, v in keys.items() if v is not None])


@click.group(cls=LazyGroup)
def proxy():
    """Small-transformer proxy: train under any LR schedule and data mix, offline and resumable."""


def _progress(console):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=console, transient=False)


@proxy.command("train")
@click.argument("config", type=click.Path(path_type=Path))
@_SET
@_out("Run directory (curves.csv, metrics.json, report.html, config.toml, checkpoint.pt).")
@_DEVICE
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (overrides the config's 'seed').")
@click.option("--fresh", is_flag=True, help="Start over even if OUT holds a checkpoint (default: resume).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train_cmd(config, overrides, out_dir, device, seed, fresh, quiet):
    """Train one proxy run from a TOML CONFIG; resumes from OUT/checkpoint.pt when present.

    Under torchrun the same command trains with DDP on every rank (rank 0 writes the files).
    """
    from rich.console import Console

    from cltk.analytics.proxy.job import run_train
    from cltk.analytics.result import write_result
    from cltk.proxy import CheckpointMismatchError

    cfg = _load(config, overrides, device=device, seed=seed)
    rank0 = int(os.environ.get("RANK", "0")) == 0
    bar = _LazyBar(Console(stderr=True), "train", sum(p["steps"] for p in cfg["phases"]), rank0 and not quiet)
    last = {"val": ""}

    def on_step(step, total, row):
        if row.get("loss") is not None:
            last["val"] = f" val {row['loss']:.3f}"
        bar.update(step, f"lr {row['lr']:.2e}{last['val']}")

    try:
        result = run_train(cfg, out_dir, resume=not fresh, on_step=on_step)
    except CheckpointMismatchError as e:
        raise CheckpointMismatchError(f"{e} (use another --out, or --fresh to start over)") from None
    finally:
        bar.close()
    if result is not None:
        write_result(result, out_dir)
        _print(result.metrics, out_dir)


class _LazyBar:
    """A progress bar that appears at the first step, so errors found while loading the data print
    as one clean line instead of under an empty bar."""

    def __init__(self, console, name: str, total: int, show: bool):
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
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"proxy {what} {out_dir}")
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k, v in metrics.items():
        t.add_row(k, f"{v:.5g}" if isinstance(v, float) else str(v))
    console = Console(width=110)
    console.print(t)
    console.print(f"wrote {out_dir / 'report.html'}, {out_dir / 'metrics.json'}, {out_dir / 'curves.csv'}")


def _schedules_file(path: Path | None, param_type: NamedSchedule, ctx) -> list:
    """The ``[NAME=]SPEC`` lines of a schedules file (blank lines and # comments skipped)."""
    if path is None:
        return []
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                out.append(param_type.convert(line, None, ctx))
            except click.BadParameter as e:
                raise click.BadParameter(f"{path}, line {i}: {e.message}", ctx, param_hint="--schedules-file") from None
    return out


@proxy.command("sweep")
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--schedule", "schedules", multiple=True, type=NamedSchedule(),
              help="A schedule to run (repeat the option); it replaces the --phase phase's schedule.")
@click.option("--schedules-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A file with one [NAME=]SPEC per line (# comments allowed).")
@click.option("--phase", type=click.IntRange(min=0), default=None,
              help="Index of the phase whose schedule varies (default: last).")
@click.option("--seeds", type=NumberList(int, min=0), default=None,
              help="Comma-separated seeds; every schedule runs once per seed (default: the config's seed).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Parallel runs in the local process pool (default: 1 on CUDA, else half the CPU cores); "
                   "each gets an equal share of the cores unless the config sets train.threads.")
@_SET
@_out("Sweep directory (runs/NAME/, curves/NAME.csv, curves.csv, metrics.json, report.html).")
@_DEVICE
@click.pass_context
def sweep_cmd(ctx, config, schedules, schedules_file, phase, seeds, workers, overrides, out_dir, device):
    """Run CONFIG once per schedule (and seed) in a local process pool; write a comparison report."""
    from rich.console import Console

    from cltk.analytics.proxy.job import plan_sweep, run_sweep
    from cltk.analytics.result import write_result

    items = list(schedules) + _schedules_file(schedules_file, NamedSchedule(), ctx)
    if not items:
        raise click.UsageError("give at least one --schedule SPEC or a --schedules-file", ctx)
    cfg = _load(config, overrides, device=device)
    plan = plan_sweep(cfg, items, phase, seeds)
    if workers is None:
        workers = 1 if cfg["device"].startswith("cuda") else max(1, (os.cpu_count() or 2) // 2)
    with _progress(Console(stderr=True)) as prog:
        task = prog.add_task("sweep", total=len(plan), info="")

        def on_done(name, res, err):
            prog.update(task, advance=1, info=f"{name}: " + ("failed" if err else "done"))

        result = run_sweep(plan, out_dir, workers=min(workers, len(plan)), on_done=on_done)
    write_result(result, out_dir)
    _print(result.metrics, out_dir, "sweep")
    errors = result.details["errors"]
    for name, err in errors.items():
        click.echo(f"run {name} failed: {err}", err=True)
    if errors:
        raise SystemExit(1)
