"""``cltk validate``: train proxies on a plan's schedules, fit the laws, predict the held-out runs."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.cli.options import NumberList, OutDir


@click.command("validate")
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Output directory (runs/, metrics.json, curves.csv, cpt_law_*.json, report.html).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Override the plan's worker count (local runs split the cores between the workers).")
@click.option("--seed", "seeds", type=NumberList(int, min=0, max=2**32 - 1), default=None, metavar="SEEDS",
              help="Seed(s) of every proxy run, comma-separated (default: the plan's 'seeds'); each seed "
                   "trains its own runs.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def validate(plan_file, out_dir, workers, seeds, quiet):
    """Check the laws' predictions on real proxy runs (PLAN_FILE: TOML, see toolkit/configs/validate/).

    Finished runs are reused by the hash of their config, so an interrupted validation resumes.
    """
    from cltk.analytics.result import write_result
    from cltk.analytics.validate.job import run_validate
    from cltk.analytics.validate.plan import load_plan
    from cltk.cli.progress import JobProgress

    plan = load_plan(plan_file)
    with JobProgress(quiet) as progress:
        progress(f"validate {plan['name']}: training missing proxy runs into {out_dir / 'runs'}")

        def on_done(name, err):
            if err:
                progress(f"run {name} failed ({type(err).__name__}: {err})")

        result = run_validate(plan, out_dir, workers=workers, seeds=seeds, on_done=on_done, progress=progress)
    path = write_result(result, out_dir, inputs=[plan_file])
    for k, v in result.metrics.items():
        click.echo(f"{k:45s} {v:.5g}" if isinstance(v, float) else f"{k:45s} {v}")
    click.echo(f"wrote {path}")
