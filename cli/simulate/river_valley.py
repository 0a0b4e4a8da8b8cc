"""``cltk simulate river-valley``: LR schedules on a river-valley landscape (Wen et al. 2024)."""
from __future__ import annotations

import click

from cltk.cli.options import DEVICE, POSITIVE, FiniteFloat, NumberList, OutDir, schedule_options


@click.command("river-valley")
@schedule_options("cosine, WSD, WSD-S, cyclic cosine, two-stage (peak 0.5, 1000 steps)")
@click.option("--floor", type=POSITIVE, default=2.0, show_default=True, help="Loss at the river's end.")
@click.option("--amp", type=POSITIVE, default=1.0, show_default=True, help="River height above the floor at x=0.")
@click.option("--river-power", type=POSITIVE, default=1.0, show_default=True,
              help="River profile f(x) = floor + amp (1 + x/scale)^-power.")
@click.option("--scale", type=POSITIVE, default=1.0, show_default=True, help="River length scale.")
@click.option("--curv", type=NumberList(float, min=0, min_open=True), default="0.05,0.2,0.8", show_default=True,
              help="Hill curvatures.")
@click.option("--noise", type=NumberList(float, min=0), default="0.05", show_default=True,
              help="Hill gradient-noise variances (one value, or one per curvature).")
@click.option("--river-noise", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Gradient-noise variance along the river (> 0: Monte Carlo instead of exact).")
@click.option("--bend", type=FiniteFloat(), default=0.0, show_default=True,
              help="Valley bend g(x) = bend sin(x/scale) (non-zero: Monte Carlo instead of exact).")
@click.option("--sweep-lrs", type=NumberList(float, min=0, min_open=True), default=None,
              help="LRs of the hill-vs-LR sweep (default: 10..100% of peak).")
@click.option("--seeds", type=click.IntRange(min=1), default=256, show_default=True,
              help="SGD seeds (sweep and Monte Carlo).")
@click.option("--every", type=click.IntRange(min=1), default=10, show_default=True, help="Log every N steps.")
@click.option("--no-laws", is_flag=True, help="Skip fitting the loss laws to the simulated curves.")
@DEVICE
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Output directory.")
def river_valley(schedules, steps, floor, amp, river_power, scale, curv, noise, river_noise, bend, sweep_lrs, seeds,
                 every, no_laws, device, seed, out_dir):
    """River-valley landscape (Wen et al. 2024): river/hill loss decomposition under any schedule.

    Writes OUT/results.csv, curves.csv (+ curves/NAME.csv for cltk fit-scaling), hill_vs_lr.csv,
    law_*.json, metrics.json, PNG plots and report.html.
    """
    if len(noise) not in (1, len(curv)):
        raise click.BadParameter(f"give one value or one per curvature ({len(curv)}), got {len(noise)}",
                                 param_hint="'--noise'")
    from cltk.analytics.result import write_result
    from cltk.analytics.simulate.river_valley import make_valley, run_river_valley

    valley = make_valley(floor, amp, river_power, scale, curv, noise, river_noise, bend)
    from cltk.cli.progress import JobProgress

    with JobProgress() as progress:
        result = run_river_valley(schedules=schedules, steps=steps, valley=valley, seeds=seeds, every=every,
                                  seed=seed, sweep_lrs=sweep_lrs, fit_laws=not no_laws, device=device, log=progress)
    path = write_result(result, out_dir)
    m = result.metrics
    for k, v in m.items():
        if k.startswith("final_loss_"):
            click.echo(f"final loss {k[len('final_loss_'):]}: {v:.5f} (hill {m['final_hill_' + k[11:]]:.5f})")
    if m["wsd_above_cosine_stable_frac"] is not None:
        click.echo(f"WSD above cosine in the stable phase: {m['wsd_above_cosine_stable_frac']:.0%} of points; "
                   f"final cosine - WSD = {m['cosine_minus_wsd_final']:+.5f}")
    click.echo(f"hill excess vs LR: slope {m['hill_lr_slope']:.4g} (exact theory at the same LRs "
               f"{m['hill_lr_slope_theory']:.4g}; small-LR limit {m['hill_lr_slope_small_lr_theory']:.4g}), "
               f"R^2 {m['hill_lr_r2']:.4f}")
    if m["wsds_minus_wsd_same_decay_max"] is not None:
        click.echo("WSD-S minus a WSD run with the same decay length, worst budget: "
                   f"{m['wsds_minus_wsd_same_decay_max']:+.5f}")
    for law in ("momentum", "multipower"):
        if f"law_{law}_heldout_pred_e" in m:
            click.echo(f"{law} law fitted on {m['law_fit_curves']}: held-out PredE "
                       f"{m[f'law_{law}_heldout_pred_e']:.5f}, WorstE {m[f'law_{law}_heldout_worst_e']:.5f}")
    click.echo(f"wrote {path} ({m['seconds']} s)")
