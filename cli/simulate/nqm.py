"""``cltk simulate nqm``: exact expected loss of the noisy quadratic model, checked by Monte Carlo, and
the batch-size study (steps to target vs batch size, critical batch sizes)."""
from __future__ import annotations

import click

from cltk.cli.options import DEVICE, POSITIVE, FiniteFloat, NumberList, OutDir, schedule_options

#: cltk.models.nqm.OPTIMIZERS and the defaults of cltk.models.nqm.DEFAULT_SPECTRUM, kept here so that
#: --help imports no numpy (tests/cli check they agree)
OPTIMIZERS = ("sgd", "momentum", "precond", "precond_momentum", "ema")
BATCHES = ",".join(str(2 ** k) for k in range(15))


@click.command("nqm")
@schedule_options("constant, cosine and WSD at 0.5")
@click.option("--dim", type=click.IntRange(min=1), default=32, show_default=True, help="Number of coordinates.")
@click.option("--h-max", type=POSITIVE, default=1.0, show_default=True, help="Largest curvature.")
@click.option("--h-power", type=FiniteFloat(min=0), default=1.0, show_default=True,
              help="Spectrum h_i = h_max i^-power.")
@click.option("--noise", type=FiniteFloat(min=0), default=0.1, show_default=True,
              help="Gradient-noise scale c of one example (a batch of B sees c / B).")
@click.option("--noise-form", type=click.Choice(["hessian", "constant"]), default="hessian", show_default=True,
              help="'hessian' (c_i = c h_i, Zhang et al.'s C = H; also the Python API's default) or "
                   "'constant' (c_i = c).")
@click.option("--x0", type=FiniteFloat(), default=1.0, show_default=True, help="Initial value of every coordinate.")
@click.option("--seeds", type=click.IntRange(min=0), default=10000, show_default=True,
              help="Monte Carlo seeds (0: none).")
@click.option("--every", type=click.IntRange(min=1), default=5, show_default=True, help="Log every N steps.")
@click.option("--steady", type=NumberList(float, count=3, min=0), default="1,0.1,0.5", show_default=True,
              help="H,C,LR of the one-coordinate steady-state check (h > 0, 0 < lr h < 2).")
@click.option("--batch-sizes", type=NumberList(float, min=0, min_open=True), default=BATCHES, show_default=True,
              help="Batch sizes of the steps-to-target study.")
@click.option("--no-batch-study", is_flag=True, help="Skip the batch-size study.")
@click.option("--target-frac", type=FiniteFloat(min=0, max=1, min_open=True, max_open=True), default=0.01,
              show_default=True, help="Target loss of the study, as a fraction of the initial expected loss.")
@click.option("--optimizers", type=NumberList(str, choices=OPTIMIZERS), default="sgd,momentum,precond,ema",
              show_default=True, help=f"Optimizers of the study ({', '.join(OPTIMIZERS)}).")
@click.option("--momenta", type=NumberList(float, min=0, max=1), default="0.5,0.9,0.99", show_default=True,
              help="Heavy-ball momenta tuned over (each < 1).")
@click.option("--emas", type=NumberList(float, min=0, max=1), default="0.9,0.95,0.98,0.99,0.995", show_default=True,
              help="EMA decays tuned over (each < 1).")
@click.option("--precond-power", type=FiniteFloat(), default=0.5, show_default=True,
              help="Preconditioner P = H^-p (0.5: Adam-like, 1: Newton-like).")
@click.option("--lr-per-octave", type=click.IntRange(min=1), default=4, show_default=True,
              help="Density of the geometric LR grid tuned per batch size.")
@DEVICE
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Output directory.")
def nqm(out_dir, no_batch_study, batch_sizes, **kw):
    """Noisy quadratic model (Zhang et al. 2019): exact expected loss for any schedule + Monte Carlo, and
    steps to a target vs batch size for SGD, momentum, preconditioning and EMA (critical batch sizes).

    Writes OUT/results.csv, curves.csv (+ curves/NAME.csv), batch_sizes.csv, batch_grid.csv,
    metrics.json, PNG plots, report.html.
    """
    from cltk.analytics.result import write_result
    from cltk.analytics.simulate.nqm import run_nqm
    from cltk.analytics.simulate.nqm_batch import mc_line, verdict_lines
    from cltk.cli.progress import JobProgress

    with JobProgress() as progress:
        result = run_nqm(**kw, batch_sizes=() if no_batch_study else batch_sizes, log=progress)
    path = write_result(result, out_dir)
    m = result.metrics
    if "mc_max_rel_err" in m:
        click.echo(f"Monte Carlo ({m['mc_seeds']} seeds) vs exact: max rel. error {m['mc_max_rel_err']:.4%}, "
                   f"mean {m['mc_mean_rel_err']:.4%}, max |z| {m['mc_max_abs_z']:.2f}")
    line = (f"steady state (h={m['steady_h']:g}, c={m['steady_c']:g}, lr={m['steady_lr']:g}): theory "
            f"{m['steady_state_theory']:.6f}, recursion {m['steady_state_recursion']:.6f}")
    if "steady_state_mc" in m:
        line += f", Monte Carlo {m['steady_state_mc']:.6f} +- {m['steady_state_mc_sem']:.6f}"
    click.echo(line)
    for k, v in m.items():
        if k.startswith("final_loss_exact_"):
            click.echo(f"final loss {k[len('final_loss_exact_'):]}: {v:.6g}")
    if "batch_optimizers" in m:
        opts = m["batch_optimizers"].split(",")
        click.echo("critical batch size: " + ", ".join(f"{o} {m[f'critical_batch_{o}']:.4g}" for o in opts))
        for line in verdict_lines(m, opts):
            click.echo(line)
        if "batch_mc_max_abs_z" in m:
            click.echo("batch study: " + mc_line(m))
    click.echo(f"wrote {path} ({m['seconds']} s)")
