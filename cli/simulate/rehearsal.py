"""``cltk simulate rehearsal``: power-law vs uniform vs exponential rehearsal at equal budget."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.cli.options import POSITIVE, FiniteFloat, ScheduleSpec

#: the learners of cltk.analytics.simulate.rehearsal.LEARNERS (kept here so --help imports no numpy)
LEARNERS = ("linear", "deep", "mlp")


def _one_schedule(ctx, param, value):
    if len(value) > 1:
        raise click.BadParameter(f"rehearsal takes one LR schedule, got {len(value)}")
    return value[0] if value else None


@click.command("rehearsal")
@click.option("--learner", "learners", multiple=True, type=click.Choice(LEARNERS),
              help="linear, deep (two-layer deep linear) or mlp (permuted 8x8 digits); repeatable. Default: all.")
@click.option("--schedule", multiple=True, metavar="SPEC", type=ScheduleSpec(), callback=_one_schedule,
              help="The learners' LR schedule over the whole run (one spec). Default: constant 0.02 for the "
                   "regression learners, 0.1 for the MLP.")
@click.option("--tasks", "n_tasks", type=click.IntRange(min=2), default=6, show_default=True, help="Number of tasks.")
@click.option("--blocks", "n_blocks", type=click.IntRange(min=1), default=60, show_default=True,
              help="Number of blocks (at least one per task).")
@click.option("--block-steps", type=click.IntRange(min=1), default=20, show_default=True, help="SGD steps per block.")
@click.option("--budget", type=FiniteFloat(min=0, max=1), default=0.3, show_default=True,
              help="Fraction of the eligible blocks that rehearse an old task (same for every kernel).")
@click.option("--exponent", type=FiniteFloat(min=0), default=0.5, show_default=True,
              help="Power-law recurrence exponent.")
@click.option("--tau", type=POSITIVE, default=None,
              help="Exponential-kernel time scale in blocks (default: blocks/tasks).")
@click.option("--seeds", type=click.IntRange(min=2), default=5, show_default=True,
              help="Seeds (confidence intervals over them).")
@click.option("--eval-every", type=click.IntRange(min=1), default=2, show_default=True,
              help="Evaluate every task every N steps (must divide --block-steps).")
@click.option("--dim", type=click.IntRange(min=1), default=32, show_default=True,
              help="Input dimension of the regression tasks.")
@click.option("--rank", type=click.IntRange(min=1), default=16, show_default=True,
              help="Input subspace rank of each regression task (<= --dim).")
@click.option("--similarity", type=FiniteFloat(min=0, max=1), default=0.5, show_default=True,
              help="Shared part of the teachers.")
@click.option("--hidden", type=click.IntRange(min=1), default=64, show_default=True, help="MLP hidden width.")
@click.option("--batch", type=click.IntRange(min=1), default=32, show_default=True, help="MLP batch size.")
@click.option("--test-per-task", type=click.IntRange(min=1), default=200, show_default=True,
              help="MLP test images per task.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output directory.")
def rehearsal(learners, out_dir, **kw):
    """Power-law rehearsal environments (Anderson & Schooler 1991) vs uniform and exponential.

    Writes OUT/runs.csv (per-seed metrics), results.csv (accuracy curves with CIs), environment.csv,
    metrics.json, PNG plots and report.html.
    """
    from cltk.analytics.result import write_result
    from cltk.analytics.simulate.rehearsal import run_rehearsal, verdict

    result = run_rehearsal(learners=learners or LEARNERS, **kw, log=lambda s: click.echo(s, err=True))
    path = write_result(result, out_dir)
    m = result.metrics
    for ln in m["learners"].split(","):
        click.echo(f"{ln}: " + ", ".join(f"{k} final acc {m[f'{ln}_{k}_final_acc']:.3f} +- "
                                          f"{m[f'{ln}_{k}_final_acc_ci95']:.3f}"
                                          for k in ("power", "uniform", "exponential")))
        click.echo("  " + verdict(m, ln))
    click.echo(f"wrote {path} ({m['seconds']} s)")
