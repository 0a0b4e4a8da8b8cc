"""``cltk demo``: the main job. Runs every capability's demo section on data the project makes
itself (never files from ../shared) and writes reports/demo/ with one index page."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.cli.options import OutDir


@click.command()
@click.option("--out", "out_dir", type=OutDir(), default=Path("reports/demo"),
              show_default=True, help="Directory for the demo reports.")
def demo(out_dir: Path):
    """Run the demo of every capability and write OUT/report.html (a few minutes on CPU)."""
    from rich.console import Console

    from cltk.analytics.demo import SECTIONS, run_demo
    from cltk.analytics.result import write_result

    console = Console(stderr=True)
    status = console.status(f"demo: {SECTIONS[0].title}")
    titles = [s.title for s in SECTIONS]

    def done(title, folder, figures):
        console.print(f"[green]done[/green] {title} ({figures['seconds']} s) -> {folder / 'report.html'}")
        console.print(f"  {figures['verdict']}", highlight=False, markup=False)
        i = titles.index(title) + 1
        if i < len(titles):
            status.update(f"demo: {titles[i]}")

    with status:
        result = run_demo(out_dir, on_section=done)
    click.echo(f"wrote {write_result(result, out_dir)}")
