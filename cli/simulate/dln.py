"""``cltk simulate dln EXPERIMENT``: deep linear networks, theory vs batched simulation.

One subcommand per experiment, each with only the options it reads; click checks every value. The
experiments themselves live in cltk.analytics.simulate.dln.experiments, .continual and .critical_period."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.cli.group import LazyGroup
from cltk.cli.options import POSITIVE, FiniteFloat, NumberList, OutDir, device_option

#: the init kinds of cltk.models.dln.INIT_KINDS (kept here so that --help loads no torch)
INITS = ("small", "gaussian", "orthogonal", "balanced", "lowrank")

_DEPTHS = NumberList(int, min=1)
_POSITIVE_LIST = NumberList(float, min=0, min_open=True)
_COUNT = click.IntRange(min=1)


@click.group("dln", cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def dln():
    """Deep linear networks: exact dynamics vs batched simulation.

    Every experiment writes results.csv (main table; others as NAME.csv), results.json,
    metrics.json (flat acceptance figures), curves.csv, PNG plots and report.html to --out
    (default reports/dln-EXPERIMENT). D = number of weight matrices everywhere.
    """


def experiment(name: str, *, seeds: int, dtype: str = "float32", optimizer: str = "gd"):
    """Register a ``dln`` subcommand with the options every experiment takes: --out, --seeds,
    --seed, --device, --dtype, --optimizer and --batch-size (defaults per experiment)."""
    shared = [
        click.option("--out", "out_dir", type=OutDir(),
                     default=Path("reports") / f"dln-{name}", show_default=True, help="Output directory."),
        click.option("--seeds", type=_COUNT, default=seeds, show_default=True,
                     help="Networks per configuration (random seeds)."),
        click.option("--seed", type=int, default=0, show_default=True, help="Base seed (teachers, inits, SGD)."),
        device_option("auto", "the batched simulation"),
        click.option("--dtype", type=click.Choice(["float32", "float64"]), default=dtype, show_default=True,
                     help="Simulation precision."),
        click.option("--optimizer", type=click.Choice(["gd", "sgd"]), default=optimizer, show_default=True,
                     help="gd (full batch, whitened inputs) or sgd (Gaussian inputs, minibatches)."),
        click.option("--batch-size", type=_COUNT, default=32, show_default=True, help="SGD minibatch size."),
    ]

    def apply(f):
        for opt in reversed(shared):
            f = opt(f)
        return dln.command(name)(f)
    return apply


def _run(job, out_dir: Path, kw: dict) -> None:
    """Run one experiment, write its outputs and print the headline figures."""
    from cltk.analytics.result import write_result

    result = job(**kw)
    path = write_result(result, out_dir)
    config, metrics = result.details["config"], result.metrics
    click.echo(f"{result.title} ({config['seconds']} s on {config['device']})")
    for k, v in headline(metrics):
        click.echo(f"  {k:<44} {v:.6g}" if isinstance(v, float) else f"  {k:<44} {v}")
    click.echo(f"  ({len(metrics)} figures in metrics.json)")
    click.echo(f"wrote {path}")


_FIRST = ("err", "diff", "ratio", "closed_form", "matches_paper", "mc_damage", "_damage_dur", "_damage_onset")
_THEN = ("time_to", "onset0_", "onset400_", "onset750_", "_damage", "forgetting", "time_orthogonal",
         "time_gaussian")


def headline(metrics: dict, limit: int = 40) -> list:
    """The metrics worth printing on the terminal: errors and ratios first, then reference times,
    early/late deficits and forgetting; all of them are in metrics.json."""
    first = [(k, v) for k, v in metrics.items() if any(h in k for h in _FIRST)]
    then = [(k, v) for k, v in metrics.items() if any(h in k for h in _THEN) and (k, v) not in first]
    return (first + then or list(metrics.items()))[:limit]


def _phases(ctx, param, value: str) -> str:
    if not value or set(value) - {"A", "B"}:
        raise click.BadParameter(f"a sequence of the letters A and B, got '{value}'")
    return value


@experiment("modes", seeds=2, dtype="float64")
@click.option("--singular-values", type=_POSITIVE_LIST, default="3,2,1", show_default=True,
              help="Teacher singular values.")
@click.option("--init-scale", type=POSITIVE, default=1e-4, show_default=True, help="Initial mode strength u0.")
@click.option("--lr", type=POSITIVE, default=5e-4, show_default=True, help="Learning rate (t = step x lr).")
@click.option("--depths", type=_DEPTHS, default="2", show_default=True, help="Comma list of depths D.")
@click.option("--width", type=_COUNT, default=None, help="Network width [default: max(#singular values, 4)].")
@click.option("--steps", type=_COUNT, default=None, help="Steps [default: 1.1 x the slowest mode's convergence].")
def modes(out_dir, **kw):
    """Per-mode trajectories vs the closed form of Saxe et al. 2014 (balanced and small inits)."""
    from cltk.analytics.simulate.dln.experiments import run_modes

    _run(run_modes, out_dir, kw)


@experiment("depth", seeds=2)
@click.option("--depths", type=_DEPTHS, default="2,4,9,19,29,49", show_default=True, help="Comma list of depths D.")
@click.option("--inits", type=NumberList(str, choices=INITS), default="orthogonal,gaussian", show_default=True,
              help=f"Comma list of inits ({', '.join(INITS)}).")
@click.option("--width", type=_COUNT, default=64, show_default=True, help="Hidden width (digits: 64 -> width -> 10).")
@click.option("--lr-grid", type=_POSITIVE_LIST, default="0.25,0.5,1,1.5,2", show_default=True,
              help="Comma list of c: lr = c / (D lambda_max), the best chosen per depth.")
@click.option("--steps", type=_COUNT, default=1500, show_default=True, help="Step cap of each run.")
@click.option("--threshold", type=FiniteFloat(min=0, min_open=True, max=1, max_open=True), default=0.1,
              show_default=True,
              help="Learning time = steps until the excess loss is this fraction of the learnable loss.")
@click.option("--lr", type=POSITIVE, default=2e-3, show_default=True,
              help="Step of the reference-time simulations (depth-D mode ODE).")
def depth(out_dir, **kw):
    """Learning time vs depth: reference times, orthogonal vs Gaussian init (Saxe et al. 2014)."""
    from cltk.analytics.simulate.dln.experiments import run_depth

    _run(run_depth, out_dir, kw)


@experiment("sequential", seeds=2)
@click.option("--width", type=_COUNT, default=8, show_default=True, help="Input, hidden and output size.")
@click.option("--singular-values", type=_POSITIVE_LIST, default="2,1", show_default=True,
              help="Teacher singular values.")
@click.option("--similarities", type=NumberList(float, min=0, max=1), default="0,0.25,0.5,0.75,1",
              show_default=True, help="Comma list of teacher similarities c in [0, 1].")
@click.option("--depths", type=_DEPTHS, default="1,2", show_default=True, help="Comma list of depths D.")
@click.option("--steps", type=_COUNT, default=1500, show_default=True, help="Steps per phase.")
@click.option("--lr", type=POSITIVE, default=0.05, show_default=True, help="Learning rate.")
@click.option("--init-scale", type=POSITIVE, default=1e-3, show_default=True, help="Init standard deviation.")
@click.option("--input-rank", type=_COUNT, default=None,
              help="Dimension of each task's input subspace [default: full rank].")
@click.option("--same-teacher", is_flag=True, help="One teacher; tasks differ only in their input subspace.")
@click.option("--phases", default="ABA", show_default=True, callback=_phases, help="Task order (letters A, B).")
def sequential(out_dir, **kw):
    """Sequential tasks: forgetting and transfer vs teacher similarity, exact for D = 1."""
    from cltk.analytics.simulate.dln.continual import run_sequential

    _run(run_sequential, out_dir, kw)


@experiment("critical-period", seeds=2, optimizer="sgd")
@click.option("--depths", type=_DEPTHS, default="1,2,3,4", show_default=True, help="Comma list of depths D.")
@click.option("--onsets", type=NumberList(int, min=0), default="0,25,50,100,200,400,750", show_default=True,
              help="Comma list of onsets of a --deficit-length deficit (steps).")
@click.option("--strength", type=POSITIVE, default=10.0, show_default=True, help="Strength S of the shared mode.")
@click.option("--init-scale", type=POSITIVE, default=0.01, show_default=True, help="Initial pathway strength K0.")
@click.option("--lr", type=POSITIVE, default=0.01, show_default=True, help="ODE step dt (= the SGD learning rate).")
@click.option("--steps", type=_COUNT, default=1000, show_default=True, help="Steps of the onset sweep.")
@click.option("--deficit-length", type=_COUNT, default=150, show_default=True,
              help="Deficit length of the onset sweep (steps).")
@click.option("--durations", type=NumberList(int, min=0), default="0,5,10,20,30,50,100,150,300", show_default=True,
              help="Comma list of deficit durations from step 0 (the paper's protocol; 0 = control).")
@click.option("--after-steps", type=_COUNT, default=1000, show_default=True,
              help="Steps after the longest deficit of the duration sweep.")
@click.option("--remove-output", is_flag=True, help="Also remove the deprived pathway's output.")
@click.option("--width", type=_COUNT, default=4, show_default=True, help="Width of the SGD networks.")
@click.option("--mc-size", type=click.IntRange(min=0), default=50, show_default=True,
              help="Matrix completion size n (0 skips it).")
@click.option("--mc-rank", type=_COUNT, default=3, show_default=True, help="Matrix completion target rank.")
@click.option("--mc-deficits", type=NumberList(str, choices=("rank", "observations")), default="rank,observations",
              show_default=True, help="Matrix completion deficits: rank (switch from another matrix), observations.")
@click.option("--mc-deficit-rank", type=_COUNT, default=6, show_default=True,
              help="Rank of the matrix trained on during a rank deficit.")
@click.option("--mc-depth", type=_COUNT, default=3, show_default=True, help="Matrix completion depth.")
@click.option("--mc-lr", type=POSITIVE, default=0.2, show_default=True,
              help="Matrix completion learning rate (loss: 1/2 mean over observations).")
@click.option("--mc-init-scale", type=POSITIVE, default=1e-3, show_default=True,
              help="Matrix completion init: Gaussian, end-to-end Frobenius norm about this x sqrt(n).")
@click.option("--mc-observed", type=FiniteFloat(min=0, min_open=True, max=1, max_open=True), default=0.3,
              show_default=True, help="Fraction of the entries observed.")
@click.option("--mc-deficit-observed", type=FiniteFloat(min=0, min_open=True, max=1), default=0.12,
              show_default=True, help="Fraction of the entries observed during an observations deficit.")
@click.option("--mc-durations", type=NumberList(int, min=0), default="0,1000,3000,10000,20000", show_default=True,
              help="Matrix completion deficit durations from step 0 (0 = control).")
@click.option("--mc-steps", type=_COUNT, default=20000, show_default=True,
              help="Matrix completion steps after each deficit.")
@click.option("--mc-onsets", type=NumberList(int, min=0), default="20000", show_default=True,
              help="Onsets of late matrix completion deficits of --mc-deficit-length.")
@click.option("--mc-deficit-length", type=_COUNT, default=10000, show_default=True,
              help="Length of the late matrix completion deficits.")
@click.option("--mc-target-loss", type=POSITIVE, default=1e-2, show_default=True,
              help="Test loss whose time to reach after the deficit is reported.")
def critical_period(out_dir, **kw):
    """Critical learning periods: two-pathway ODE vs SGD, and deep matrix completion (Kleinman et al. 2024)."""
    from cltk.analytics.simulate.dln.critical_period import run_critical_period

    _run(run_critical_period, out_dir, kw)


@experiment("rich-lazy", seeds=3)
@click.option("--depth", type=_COUNT, default=2, show_default=True, help="Depth D.")
@click.option("--width", type=_COUNT, default=32, show_default=True, help="Hidden width (input/output size 8).")
@click.option("--singular-values", type=_POSITIVE_LIST, default="2,1.5,1,0.5", show_default=True,
              help="Teacher singular values.")
@click.option("--scales", type=_POSITIVE_LIST, default="0.01,0.03,0.1,0.3,1,3", show_default=True,
              help="Comma list of init scales g.")
@click.option("--ranks", type=NumberList(int, min=1), default=None,
              help="Comma list of init ranks [default: 1,4,full].")
@click.option("--steps", type=_COUNT, default=3000, show_default=True, help="Steps.")
@click.option("--lr", type=POSITIVE, default=0.05, show_default=True,
              help="Base learning rate (lowered per network for large inits).")
def rich_lazy(out_dir, **kw):
    """Rich vs lazy learning: weight and representation change vs init scale and rank."""
    from cltk.analytics.simulate.dln.experiments import run_rich_lazy

    _run(run_rich_lazy, out_dir, kw)
