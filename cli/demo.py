"""``cltk demo``: the main job. Runs every capability's demo section on data the project makes
itself (never files from ../shared) and writes reports/demo/ with one index page."""
from __future__ import annotations

import importlib
import time
from pathlib import Path

import click
from rich.console import Console

from analytics.io import atomic_write_json
from analytics.report import Report

# (title, module, function): function(out_dir: Path) -> dict of headline figures for the index
SECTIONS = [
    ("Loss-curve laws: fit and predict (cltk fit-scaling)", "analytics.fit_demo", "demo_section"),
    ("Deep linear networks (cltk simulate dln)", "analytics.dln_experiments", "demo_section"),
    ("Schedules in the NQM and river valley; power-law rehearsal (cltk simulate)",
     "analytics.schedule_models", "demo_section"),
    ("Theory-guided schedule selection (cltk select-schedule)", "analytics.selection_demo", "demo_section"),
    ("Small-transformer proxy (cltk proxy)", "analytics.proxy_demo", "demo_section"),
    ("Proxies validate the theory (cltk validate)", "analytics.validate_demo", "demo_section"),
]


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/demo"),
              show_default=True, help="Directory for the demo reports.")
def demo(out_dir: Path):
    """Run the demo of every capability and write OUT/report.html (seconds to a few minutes on CPU)."""
    console = Console(stderr=True)
    index = Report("cltk demo")
    summary = {}
    for title, mod, fn in SECTIONS:
        section = getattr(importlib.import_module(mod), fn)
        sub = out_dir / mod.rsplit(".", 1)[-1]
        t0 = time.perf_counter()
        with console.status(f"demo: {title}"):
            figures = section(sub)
        figures["seconds"] = round(time.perf_counter() - t0, 2)
        summary[title] = figures
        console.print(f"[green]done[/green] {title} ({figures['seconds']} s) -> {sub / 'report.html'}")
        index.heading(title).text(f"Full report: {sub.name}/report.html")
        index.table([{"figure": k, "value": v} for k, v in figures.items()])
    atomic_write_json(out_dir / "metrics.json", summary)
    path = index.write(out_dir)
    click.echo(f"wrote {path}")
