"""``cltk simulate nqm``: exact expected loss of the noisy quadratic model, checked by Monte Carlo."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.cli.options import POSITIVE, FiniteFloat, NumberList, schedule_options


@click.command("nqm")
@schedule_options("constant, cosine and WSD at 0.5")
@click.option("--dim", type=click.IntRange(min=1), default=32, show_default=True, help="Number of coordinates.")
@click.option("--h-max", type=POSITIVE, default=1.0, show_default=True, help="Largest curvature.")
@click.option("--h-power", type=FiniteFloat(min=0), default=1.0, show_default=True,
              help="Spectrum h_i = h_max i^-power.")
@click.option("--noise", type=FiniteFloat(min=0), default=0.1, show_default=True, help="Gradient-noise scale c.")
@click.option("--noise-form", type=click.Choice(["constant", "hessian"]), default="constant", show_default=True,
              help="'constant' (c_i = c) or 'hessian' (c_i = c h_i, Zhang et al.).")
@click.option("--x0", type=FiniteFloat(), default=1.0, show_default=True, help="Initial value of every coordinate.")
@click.option("--seeds", type=click.IntRange(min=0), default=10000, show_default=True,
              help="Monte Carlo seeds (0: none).")
@click.option("--every", type=click.IntRange(min=1), default=5, show_default=True, help="Log every N steps.")
@click.option("--steady", type=NumberList(float, count=3, min=0), default="1,0.1,0.5", show_default=True,
              help="H,C,LR of the one-coordinate steady-state check (h > 0, 0 < lr h < 2).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output directory.")
def nqm(out_dir, **kw):
    """Noisy quadratic model (Zhang et al. 2019): exact expected loss for any schedule + Monte Carlo.

    Writes OUT/results.csv, curves.csv (+ curves/NAME.csv), metrics.json, PNG plots, report.html.
    """
    from cltk.analytics.result import write_result
    from cltk.analytics.simulate.nqm import run_nqm

    result = run_nqm(**kw, log=lambda s: click.echo(s, err=True))
    path = write_result(result, out_dir)
    m = result.metrics
    if "mc_max_rel_err" in m:
        click.echo(f"Monte Carlo ({m['mc_seeds']} seeds) vs exact: max rel. error {m['mc_max_rel_err']:.4%}, "
                   f"mean {m['mc_mean_rel_err']:.4%}")
    line = (f"steady state (h={m['steady_h']:g}, c={m['steady_c']:g}, lr={m['steady_lr']:g}): theory "
            f"{m['steady_state_theory']:.6f}, recursion {m['steady_state_recursion']:.6f}")
    if "steady_state_mc" in m:
        line += f", Monte Carlo {m['steady_state_mc']:.6f} +- {m['steady_state_mc_sem']:.6f}"
    click.echo(line)
    for k, v in m.items():
        if k.startswith("final_loss_exact_"):
            click.echo(f"final loss {k[len('final_loss_exact_'):]}: {v:.6g}")
    click.echo(f"wrote {path} ({m['seconds']} s)")
