"""``cltk simulate dln EXPERIMENT``: deep linear networks, theory vs batched simulation.

Options are parsed here and checked in analytics (one InputError line, exit code 2, for every bad
value); the experiments themselves live in cltk.analytics.simulate.dln.experiments and cltk.analytics.simulate.dln.continual."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.analytics.simulate.dln.common import EXPERIMENTS, Options, headline
from cltk.errors import InputError
from cltk.cli.options import number_list

_LISTS = {"depths": int, "inits": str, "singular_values": float, "similarities": float, "onsets": int,
          "mc_onsets": int, "scales": float, "ranks": int, "lr_grid": float}


@click.command("dln", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("experiment", metavar="EXPERIMENT")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory [default: reports/dln-EXPERIMENT].")
@click.option("--seeds", type=int, default=None, help="Networks per configuration (random seeds).")
@click.option("--seed", type=int, default=0, show_default=True, help="Base seed (teachers, inits, SGD).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N.")
@click.option("--dtype", default=None, help="float32 or float64 [default: float64 for modes, float32 otherwise].")
@click.option("--optimizer", default=None, help="gd (full batch, whitened) or sgd [default: gd; sgd for critical-period].")
@click.option("--batch-size", type=int, default=32, show_default=True, help="SGD minibatch size.")
@click.option("--lr", type=float, default=None, help="Learning rate (critical-period: the ODE step dt).")
@click.option("--steps", type=int, default=None, help="Steps (per phase for sequential; cap for depth).")
@click.option("--width", type=int, default=None, help="Hidden width (and input/output size where it applies).")
@click.option("--depths", default=None, help="Comma list of depths D = number of weight matrices (N_l = D + 1).")
@click.option("--inits", default=None, help="Comma list of inits: small, gaussian, orthogonal, balanced, lowrank.")
@click.option("--singular-values", default=None, help="Comma list of teacher singular values.")
@click.option("--init-scale", type=float, default=None, help="u0 (modes), K0 (critical-period), init std (sequential).")
@click.option("--similarities", default=None, help="sequential: comma list of teacher similarities c in [0, 1].")
@click.option("--input-rank", type=int, default=None, help="sequential: dimension of each task's input subspace.")
@click.option("--same-teacher", is_flag=True, help="sequential: one teacher, tasks differ only in input subspace.")
@click.option("--phases", default="ABA", show_default=True, help="sequential: task order.")
@click.option("--onsets", default=None, help="critical-period: comma list of deficit onsets (steps).")
@click.option("--deficit-length", type=int, default=150, show_default=True, help="critical-period: deficit steps.")
@click.option("--remove-output", is_flag=True, help="critical-period: also remove the deprived pathway's output.")
@click.option("--mc-size", type=int, default=50, show_default=True, help="Matrix completion size (0 skips it).")
@click.option("--mc-rank", type=int, default=3, show_default=True, help="Matrix completion target rank.")
@click.option("--mc-depth", type=int, default=3, show_default=True, help="Matrix completion depth.")
@click.option("--mc-steps", type=int, default=5000, show_default=True, help="Matrix completion steps.")
@click.option("--mc-deficit-length", type=int, default=1000, show_default=True, help="Matrix completion deficit steps.")
@click.option("--mc-onsets", default=None, help="Matrix completion deficit onsets [default: 0,1000,2000,3000].")
@click.option("--scales", default=None, help="rich-lazy: comma list of init scales g.")
@click.option("--ranks", default=None, help="rich-lazy: comma list of init ranks.")
@click.option("--lr-grid", default=None,
              help="depth: comma list of c (lr = c / (D lambda_max), optimised per depth) [default: 0.25,0.5,1,1.5,2].")
@click.option("--threshold", type=float, default=0.1, show_default=True,
              help="depth: learning time = steps until the excess loss is this fraction of the learnable loss.")
def dln(experiment, out_dir, **opts):
    """Deep linear networks: exact dynamics vs batched simulation.

    EXPERIMENT is one of: modes, depth, sequential, critical-period, rich-lazy. Writes results.csv,
    results.json, metrics.json (flat acceptance figures), curves.csv, PNG plots and report.html to
    --out.
    """
    if experiment not in EXPERIMENTS:
        raise InputError(f"unknown experiment '{experiment}' (choose from {', '.join(EXPERIMENTS)})")
    for name, kind in _LISTS.items():
        opts[name] = number_list(opts[name], "--" + name.replace("_", "-"), kind)
    options = Options(**opts)
    out_dir = out_dir or Path("reports") / f"dln-{experiment}"
    from cltk.analytics.simulate.dln.experiments import run_experiment

    res, metrics = run_experiment(experiment, out_dir, options)
    click.echo(f"{res.title} ({res.config['seconds']} s on {res.config['device']})")
    shown = headline(metrics)
    for k, v in shown:
        click.echo(f"  {k:<44} {v:.6g}" if isinstance(v, float) else f"  {k:<44} {v}")
    click.echo(f"  ({len(metrics)} figures in metrics.json)")
    click.echo(f"wrote {out_dir / 'report.html'}")
