"""``cltk validate``: train proxies on a plan's schedules, fit the laws, predict the held-out runs."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.analytics.validate.job import run_validate
from cltk.analytics.validate.plan import load_plan
from cltk.analytics.validate.report import write_validate


@click.command("validate")
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Override the plan's worker count.")
def validate(plan_file, out_dir, workers):
    """Check the laws' predictions on real proxy runs (PLAN_FILE: TOML, see toolkit/configs/validate/).

    Finished runs are reused by the hash of their config, so an interrupted validation resumes.
    """
    plan = load_plan(plan_file)
    if workers:
        plan["workers"] = workers
    click.echo(f"validate {plan['name']}: training missing proxy runs into {out_dir / 'runs'} ...", err=True)
    metrics, details = run_validate(plan, out_dir)
    path = write_validate(metrics, details, plan, out_dir)
    for k, v in metrics.items():
        click.echo(f"{k:45s} {v:.5g}" if isinstance(v, float) else f"{k:45s} {v}")
    click.echo(f"wrote {path}")
