"""``cltk simulate rehearsal``: power-law vs uniform vs exponential rehearsal at equal budget."""
from __future__ import annotations

from pathlib import Path

import click

from analytics.errors import InputError


@click.command("rehearsal")
@click.option("--learner", "learners", multiple=True, metavar="NAME",
              help="linear, deep (two-layer deep linear) or mlp (permuted 8x8 digits); repeatable. Default: all.")
@click.option("--schedule", "specs", multiple=True, metavar="SPEC",
              help="The learners' LR schedule over the whole run (one spec). Default: constant 0.02 for the "
                   "regression learners, 0.1 for the MLP.")
@click.option("--tasks", "n_tasks", type=int, default=6, show_default=True, help="Number of tasks.")
@click.option("--blocks", "n_blocks", type=int, default=60, show_default=True, help="Number of blocks.")
@click.option("--block-steps", type=int, default=20, show_default=True, help="SGD steps per block.")
@click.option("--budget", type=float, default=0.3, show_default=True,
              help="Fraction of the eligible blocks that rehearse an old task (same for every kernel).")
@click.option("--exponent", type=float, default=0.5, show_default=True, help="Power-law recurrence exponent.")
@click.option("--tau", type=float, default=None, help="Exponential-kernel time scale in blocks (default: blocks/tasks).")
@click.option("--seeds", type=int, default=5, show_default=True, help="Seeds (confidence intervals over them).")
@click.option("--eval-every", type=int, default=2, show_default=True,
              help="Evaluate every task every N steps (must divide --block-steps).")
@click.option("--dim", type=int, default=32, show_default=True, help="Input dimension of the regression tasks.")
@click.option("--rank", type=int, default=16, show_default=True, help="Input subspace rank of each regression task.")
@click.option("--similarity", type=float, default=0.5, show_default=True, help="Shared part of the teachers.")
@click.option("--hidden", type=int, default=64, show_default=True, help="MLP hidden width.")
@click.option("--batch", type=int, default=32, show_default=True, help="MLP batch size.")
@click.option("--test-per-task", type=int, default=200, show_default=True, help="MLP test images per task.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output directory.")
def rehearsal(learners, specs, n_tasks, n_blocks, block_steps, budget, exponent, tau, seeds, eval_every, dim, rank,
              similarity, hidden, batch, test_per_task, seed, out_dir):
    """Power-law rehearsal environments (Anderson & Schooler 1991) vs uniform and exponential.

    Writes OUT/runs.csv (per-seed metrics), results.csv (accuracy curves with CIs), environment.csv,
    metrics.json, PNG plots and report.html.
    """
    from analytics.sm_rehearsal import LEARNERS, run_rehearsal, verdict

    if len(specs) > 1:
        raise InputError(f"--schedule: rehearsal takes one LR schedule, got {len(specs)}")
    m = run_rehearsal(out_dir, list(learners) or list(LEARNERS), specs[0] if specs else None, n_tasks, n_blocks,
                      block_steps, budget, exponent, tau, seeds, eval_every, dim, rank, similarity, hidden, batch,
                      test_per_task, seed, log=lambda s: click.echo(s, err=True))
    for ln in m["learners"].split(","):
        click.echo(f"{ln}: " + ", ".join(f"{k} final acc {m[f'{ln}_{k}_final_acc']:.3f} +- "
                                          f"{m[f'{ln}_{k}_final_acc_ci95']:.3f}"
                                          for k in ("power", "uniform", "exponential")))
        click.echo("  " + verdict(m, ln))
    click.echo(f"wrote {Path(out_dir) / 'report.html'} ({m['seconds']} s)")
