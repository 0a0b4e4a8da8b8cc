"""``cltk validate``: train proxies on a plan's schedules, fit the laws, predict the held-out runs."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.cli.options import OutDir


@click.command("validate")
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Output directory (runs/, metrics.json, curves.csv, cpt_law_*.json, report.html).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Override the plan's worker count (local runs split the cores between the workers).")
def validate(plan_file, out_dir, workers):
    """Check the laws' predictions on real proxy runs (PLAN_FILE: TOML, see toolkit/configs/validate/).

    Finished runs are reused by the hash of their config, so an interrupted validation resumes.
    """
    from cltk.analytics.result import write_result
    from cltk.analytics.validate.job import run_validate
    from cltk.analytics.validate.plan import load_plan

    plan = load_plan(plan_file)
    click.echo(f"validate {plan['name']}: training missing proxy runs into {out_dir / 'runs'} ...", err=True)

    def on_done(name, err):
        click.echo(f"  run {name}: " + (f"failed ({type(err).__name__}: {err})" if err else "done"), err=True)

    result = run_validate(plan, out_dir, workers=workers, on_done=on_done)
    path = write_result(result, out_dir, inputs=[plan_file])
    for k, v in result.metrics.items():
        click.echo(f"{k:45s} {v:.5g}" if isinstance(v, float) else f"{k:45s} {v}")
    click.echo(f"wrote {path}")
