"""The demo job (``cltk demo``): runs every capability's demo section on data the project makes
itself (never files from ../shared) and returns one index Result linking their reports.

Each section lives beside its job, in a module with three functions:

- ``demo_section(out_dir) -> dict``: run the section into ``out_dir`` (its own reports) and return
  its headline figures;
- ``demo_verdict(figures) -> str``: the section's result in one sentence, built from those figures;
- ``demo_figure(figures) -> str``: the report (relative to ``out_dir``) whose first figure is the
  section's main one, shown as a thumbnail on the index.

This module names them by import path only, so it imports no job package until it runs it."""
from __future__ import annotations

import base64
import importlib
import io
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from cltk.analytics.result import Result


class Section(NamedTuple):
    title: str
    folder: str  # sub-folder of the demo's output folder
    module: str  # defines demo_section, demo_verdict, demo_figure


SECTIONS = [
    Section("Loss-curve laws: fit and predict (cltk fit-scaling)", "fit_scaling", "cltk.analytics.fit_scaling.demo"),
    Section("Deep linear networks (cltk simulate dln)", "dln", "cltk.analytics.simulate.dln.demo"),
    Section("Schedules in the NQM and river valley; power-law rehearsal (cltk simulate)", "simulate",
            "cltk.analytics.simulate.demo"),
    Section("Theory-guided schedule selection (cltk select-schedule)", "select_schedule",
            "cltk.analytics.select_schedule.demo"),
    Section("Small-transformer proxy (cltk proxy)", "proxy", "cltk.analytics.proxy.demo"),
    Section("Proxies validate the theory (cltk validate)", "validate", "cltk.analytics.validate.demo"),
]

#: the thumbnail's box on the index (CSS px = image px: drawn at full size, never scaled)
THUMB_WIDTH, THUMB_HEIGHT = 560, 420
_FIRST_PNG = re.compile(r'<img\b[^>]*\bsrc="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def run_demo(out_dir: str | Path, *, sections: Sequence[Section] = SECTIONS,
             on_section: Callable[[str, Path, dict], None] | None = None) -> Result:
    """Run each section into ``out_dir/<folder>`` and return the index: per section its verdict in
    words, a thumbnail of its main figure and a link to its report; metrics.json maps each section's
    title to its headline figures, its seconds and its verdict."""
    out_dir = Path(out_dir)
    summary = {}
    result = Result("cltk demo", summary, metrics_in_report=False)
    rep = result.report
    rep.text("Every capability of cltk on data the demo makes itself. One line per section says what it "
             "found; the thumbnail is the section's main figure; its full report has the rest. The headline "
             "figures of every section are in metrics.json.")
    for s in sections:
        module = importlib.import_module(s.module)
        t0 = time.perf_counter()
        figures = module.demo_section(out_dir / s.folder)
        figures["seconds"] = round(time.perf_counter() - t0, 2)
        figures["verdict"] = module.demo_verdict(figures)
        summary[s.title] = figures
        rep.heading(s.title).text(figures["verdict"])
        source = f"{s.folder}/{module.demo_figure(figures)}"
        thumb = thumbnail(out_dir / source)
        if thumb is not None:
            rep.figure(thumb, f"{s.folder}_thumbnail", f"Main figure of {source}")
        rep.link(f"{s.folder}/report.html", f"Full report: {s.folder}/report.html ({figures['seconds']:g} s)")
        if on_section:
            on_section(s.title, out_dir / s.folder, figures)
    return result


def thumbnail(report: Path):
    """A matplotlib figure holding the first embedded PNG of ``report`` shrunk into the thumbnail
    box (aspect kept), or None when the report has no figure."""
    import matplotlib.image as mpimg

    from cltk.analytics.report import plt

    m = _FIRST_PNG.search(Path(report).read_text(encoding="utf-8"))
    if m is None:
        return None
    img = mpimg.imread(io.BytesIO(base64.b64decode(m.group(1))), format="png")
    h, w = img.shape[:2]
    scale = min(THUMB_WIDTH / w, THUMB_HEIGHT / h, 1.0)
    dpi = 110  # Report.figure saves at 110 dpi: one figure inch is 110 pixels of the PNG
    fig = plt.figure(figsize=(w * scale / dpi, h * scale / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(img, interpolation="antialiased")
    ax.set_axis_off()
    return fig
