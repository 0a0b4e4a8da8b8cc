"""``cltk select-schedule``: choose an LR schedule with a fitted law."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.cli.options import POSITIVE, FiniteFloat, NumberList, OutDir
from cltk.selection import FAMILIES, OBJECTIVES


@click.command("select-schedule")
@click.argument("law_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--steps", type=click.IntRange(min=2), required=True, help="Total training steps.")
@click.option("--peak-lr", type=POSITIVE, required=True, help="Peak learning rate.")
@click.option("--family", type=click.Choice(FAMILIES), default="wsd", show_default=True,
              help="Schedule family: wsd grid, cosine grid, or free (optimised non-increasing).")
@click.option("--warmup", type=click.IntRange(min=0), default=0, show_default=True, help="Linear warmup steps.")
@click.option("--objective", type=click.Choice(OBJECTIVES), default="final", show_default=True,
              help="final: loss at the last step; anytime: mean loss over --checkpoints.")
@click.option("--checkpoints", type=NumberList(int, min=1), default=None,
              help="Comma-separated steps for --objective anytime "
              "(default: 25/50/75/100% of the post-warmup steps).")
@click.option("--level", type=FiniteFloat(min=0.5, max=0.999), default=0.9, show_default=True,
              help="Prediction-interval level (needs a law file with bootstrap replicates).")
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Output directory (metrics.json, selection.json, candidates.csv, curves.csv, PNG, report.html).")
def select_schedule(law_file, steps, peak_lr, family, warmup, objective, checkpoints, level, out_dir):
    """Choose the schedule of a family that minimises a fitted law's predicted loss.

    LAW_FILE is the law.json written by `cltk fit-scaling`.
    """
    if steps <= warmup + 1:
        raise click.BadParameter(f"{steps} must exceed --warmup {warmup} by more than one step", param_hint="--steps")
    if checkpoints and max(checkpoints) > steps:
        raise click.BadParameter(f"checkpoint {max(checkpoints)} is beyond the {steps} steps",
                                 param_hint="--checkpoints")
    from cltk.analytics.output_folder import check_out_dir
    from cltk.analytics.result import write_result

    check_out_dir(out_dir, [law_file])
    from cltk.analytics.select_schedule.job import run_select_schedule
    from cltk.laws import read_law

    result = run_select_schedule(read_law(law_file), total_steps=steps, peak_lr=peak_lr, family=family, warmup=warmup,
                                 objective=objective, checkpoints=list(checkpoints) if checkpoints else None,
                                 level=level)
    write_result(result, out_dir, inputs=[law_file])
    m = result.metrics
    click.echo(f"chosen ({family}, {objective}): {m['chosen_spec']}")
    iv = f"  [{m['chosen_final_lo']:.4f}, {m['chosen_final_hi']:.4f}]" if m["chosen_final_lo"] is not None else ""
    click.echo(f"predicted final loss {m['chosen_final_loss']:.4f}{iv}   "
               f"cosine to 10%: {m['baseline_cosine_to_10pct_final_loss']:.4f}   "
               f"WSD 20% linear: {m['baseline_wsd_20pct_linear_final_loss']:.4f}")
    for line in result.details["comparisons"][:1]:
        click.echo(line)
    click.echo(f"{m['n_candidates']} candidates in {m['selection_seconds']:.2f} s; wrote {out_dir / 'report.html'}")
