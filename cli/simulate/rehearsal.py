"""``cltk simulate rehearsal``: power-law vs uniform vs exponential rehearsal at equal budget."""
from __future__ import annotations

import click

from cltk.cli.options import DEVICE, POSITIVE, FiniteFloat, OutDir, ScheduleSpec

#: the learners of cltk.analytics.simulate.rehearsal.LEARNERS (kept here so --help imports no numpy)
LEARNERS = ("linear", "deep", "mlp")


def _one_schedule(ctx, param, value):
    if len(value) > 1:
        raise click.BadParameter(f"rehearsal takes one LR schedule, got {len(value)}")
    return value[0] if value else None


#: defaults per setting: the block environment, and the phase mixtures of Gandhi et al. (2024)
DEFAULTS = {"blocks": {"n_tasks": 6, "budget": 0.3, "exponent": 0.5, "seeds": 5, "hidden": 64},
            "paper": {"n_tasks": 10, "budget": 0.5, "exponent": 1.5, "seeds": 20, "hidden": 100, "tau": 1.0}}


@click.command("rehearsal")
@click.option("--setting", type=click.Choice(("blocks", "paper")), default="blocks", show_default=True,
              help="blocks: whole-block rehearsal, linear/deep/mlp learners; paper: the phase mixtures of Gandhi et "
                   "al. 2024 (MLP on permuted digits, replay buffers, no/full baselines; see docs).")
@click.option("--epochs", type=click.IntRange(min=1), default=3, show_default=True,
              help="paper: passes over each phase's mixture.")
@click.option("--memory-size", type=click.IntRange(min=1), default=200, show_default=True,
              help="paper: examples held by the reservoir and class-balanced buffers.")
@click.option("--learner", "learners", multiple=True, type=click.Choice(LEARNERS),
              help="linear, deep (two-layer deep linear) or mlp (permuted 8x8 digits); repeatable. Default: all.")
@click.option("--schedule", multiple=True, metavar="SPEC", type=ScheduleSpec(), callback=_one_schedule,
              help="The learners' LR schedule over the whole run (one spec). Default: constant 0.02 for the "
                   "regression learners, 0.1 for the MLP.")
@click.option("--tasks", "n_tasks", type=click.IntRange(min=2), default=None,
              help="Number of tasks [default: 6; paper: 10].")
@click.option("--blocks", "n_blocks", type=click.IntRange(min=1), default=60, show_default=True,
              help="Number of blocks (at least one per task).")
@click.option("--block-steps", type=click.IntRange(min=1), default=20, show_default=True, help="SGD steps per block.")
@click.option("--budget", type=FiniteFloat(min=0, max=1), default=None,
              help="Fraction of the eligible blocks that rehearse an old task; paper: replayed examples per phase "
                   "over new ones (same for every kernel) [default: 0.3; paper: 0.5].")
@click.option("--exponent", type=FiniteFloat(min=0), default=None,
              help="Power-law recurrence exponent [default: 0.5; paper: 1.5].")
@click.option("--tau", type=POSITIVE, default=None,
              help="Exponential-kernel time scale in blocks (default: blocks/tasks).")
@click.option("--seeds", type=click.IntRange(min=2), default=None,
              help="Seeds (confidence intervals over them) [default: 5; paper: 20].")
@click.option("--eval-every", type=click.IntRange(min=1), default=2, show_default=True,
              help="Evaluate every task every N steps (must divide --block-steps).")
@click.option("--dim", type=click.IntRange(min=1), default=32, show_default=True,
              help="Input dimension of the regression tasks.")
@click.option("--rank", type=click.IntRange(min=1), default=16, show_default=True,
              help="Input subspace rank of each regression task (<= --dim).")
@click.option("--similarity", type=FiniteFloat(min=0, max=1), default=0.5, show_default=True,
              help="Shared part of the teachers.")
@click.option("--hidden", type=click.IntRange(min=1), default=None,
              help="MLP hidden width [default: 64; paper: 100, two hidden layers].")
@click.option("--batch", type=click.IntRange(min=1), default=32, show_default=True, help="MLP batch size.")
@click.option("--test-per-task", type=click.IntRange(min=1), default=200, show_default=True,
              help="MLP test images per task.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@DEVICE
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Output directory.")
def rehearsal(learners, out_dir, setting, epochs, memory_size, device, **kw):
    """Power-law rehearsal environments (Anderson & Schooler 1991) vs uniform and exponential.

    Writes OUT/runs.csv (per-seed metrics), results.csv (accuracy curves with CIs), environment.csv,
    metrics.json, PNG plots and report.html.
    """
    from cltk.analytics.result import write_result

    for k, v in DEFAULTS[setting].items():
        if kw.get(k) is None:
            kw[k] = v
    if setting == "paper":
        _paper(learners, out_dir, epochs, memory_size, device, kw)
        return
    if device != "cpu":  # the block setting's learners are small numpy/torch loops run on the CPU
        raise click.BadParameter("the blocks setting runs on the CPU; --device applies to --setting paper",
                                 param_hint="--device")
    from cltk.analytics.simulate.rehearsal import run_rehearsal, verdict
    from cltk.cli.progress import JobProgress

    with JobProgress() as progress:
        result = run_rehearsal(learners=learners or LEARNERS, **kw, log=progress)
    path = write_result(result, out_dir)
    m = result.metrics
    for ln in m["learners"].split(","):
        click.echo(f"{ln}: " + ", ".join(f"{k} final acc {m[f'{ln}_{k}_final_acc']:.3f} +- "
                                          f"{m[f'{ln}_{k}_final_acc_ci95']:.3f}"
                                          for k in ("power", "uniform", "exponential")))
        click.echo("  " + verdict(m, ln))
    click.echo(f"wrote {path} ({m['seconds']} s)")


def _paper(learners, out_dir, epochs, memory_size, device, kw):
    from cltk.analytics.result import write_result
    from cltk.analytics.simulate.rehearsal_paper import run_paper
    from cltk.runtime import resolve_device

    if set(learners) - {"mlp"}:
        raise click.UsageError("--setting paper trains the MLP only (drop --learner or pass --learner mlp)")
    if kw["schedule"] is not None:
        raise click.UsageError("--setting paper uses a constant LR (0.1); --schedule is for --setting blocks")
    from cltk.cli.progress import JobProgress

    with JobProgress() as progress:
        result = run_paper(tasks=kw["n_tasks"], budget=kw["budget"], exponent=kw["exponent"], tau=kw["tau"],
                           seeds=kw["seeds"], epochs=epochs, hidden=(kw["hidden"], kw["hidden"]), batch=kw["batch"],
                           memory_size=memory_size, test_per_task=kw["test_per_task"], seed=kw["seed"],
                           device=str(resolve_device(device)), log=progress)
    path = write_result(result, out_dir)
    click.echo(result.metrics["verdict"])
    click.echo(f"wrote {path} ({result.metrics['seconds']} s)")
