"""The demo job (``cltk demo``): runs every capability's demo section on data the project makes
itself (never files from ../shared) and returns one index Result linking their reports.

Each job package owns its demo section, ``demo_section(out_dir) -> dict`` of headline figures; this
module names them by import path only, so it imports no job package until it runs it."""
from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path

from cltk.analytics.result import Result

# (title, sub-folder, module with demo_section)
SECTIONS = [
    ("Loss-curve laws: fit and predict (cltk fit-scaling)", "fit_scaling", "cltk.analytics.fit_scaling.demo"),
    ("Deep linear networks (cltk simulate dln)", "dln", "cltk.analytics.simulate.dln.experiments"),
    ("Schedules in the NQM and river valley; power-law rehearsal (cltk simulate)", "simulate",
     "cltk.analytics.simulate.demo"),
    ("Theory-guided schedule selection (cltk select-schedule)", "select_schedule",
     "cltk.analytics.select_schedule.demo"),
    ("Small-transformer proxy (cltk proxy)", "proxy", "cltk.analytics.proxy.demo"),
    ("Proxies validate the theory (cltk validate)", "validate", "cltk.analytics.validate.demo"),
]


def run_demo(out_dir: str | Path, *, on_section: Callable[[str, Path, dict], None] | None = None) -> Result:
    """Run every section into ``out_dir/<folder>`` (each writes its own reports) and return the
    index: metrics.json maps each section's title to its headline figures and seconds."""
    out_dir = Path(out_dir)
    summary = {}
    result = Result("cltk demo", summary, metrics_in_report=False)
    for title, folder, module in SECTIONS:
        t0 = time.perf_counter()
        figures = importlib.import_module(module).demo_section(out_dir / folder)
        figures["seconds"] = round(time.perf_counter() - t0, 2)
        summary[title] = figures
        result.report.heading(title).link(f"{folder}/report.html", f"Full report: {folder}/report.html")
        result.report.table([{"figure": k, "value": v} for k, v in figures.items()])
        if on_section:
            on_section(title, out_dir / folder, figures)
    return result
