"""Every command's report.html as a reader sees it: loaded in headless Chromium at 1400 px, with no
console errors, nothing sticking out past the right edge or cut off, every image decoded, figures
not shrunk past readability, tables that fit or scroll in their own box, every relative link
resolving, and a full-page screenshot that is not blank (kept under the session's temp folder;
``python -m tests.reports.screenshots OUT`` writes them where a person can look at them).

The reports are made once per session through the CLI at the smallest sizes it allows
(report_set.py); one browser checks them all (report_browser.py)."""
import json
import re
from html import escape
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from report_browser import WIDTH, Browser, find_chromium
from report_set import make_reports

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not found: install the 'chromium' package (.ci/run does) or set "
                             "CLTK_CHROMIUM to a Chromium or Chrome executable")

COMMANDS = ["fit-scaling", "predict", "select-schedule-wsd", "select-schedule-free", "select-cpt", "simulate-nqm",
            "simulate-river-valley", "simulate-rehearsal", "simulate-dln", "proxy-train", "validate"]
# the demo index and the reports of its section (a section links its sub-reports)
DEMO_PAGES = ["demo", "demo/dln", "demo/dln/modes", "demo/dln/critical-period"]


@pytest.fixture(scope="session")
def reports(tmp_path_factory) -> dict[str, Path]:
    return make_reports(tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="session")
def browser():
    with Browser(CHROMIUM) as b:
        yield b


@pytest.fixture(scope="session")
def checked(reports, browser, tmp_path_factory):
    """{page name: PageCheck} for every report, one browser for all; screenshots in shots/."""
    shots = tmp_path_factory.mktemp("shots")
    root = reports["demo"].parent
    pages = {name: reports[name] for name in COMMANDS} | {name: root / name for name in DEMO_PAGES}
    return {name: browser.check(folder / "report.html", shots / f"{name.replace('/', '_')}.png")
            for name, folder in pages.items()}


def _png(width: int, height: int) -> str:
    import base64
    import io

    buf = io.BytesIO()
    mpimg.imsave(buf, np.zeros((height, width, 3)), format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_the_checks_catch_each_fault(browser, tmp_path):
    """A page with one of each fault the checks look for; then the same page without them."""
    faults = {
        "console": "<script>console.error('boom')</script>",
        "exception": "<script>undefinedFunction()</script>",
        "wide table": "<table><tr><td>" + "x" * 400 + "</td></tr></table>",
        "cut": "<div style='width:100px;overflow:hidden;white-space:nowrap'>" + "y" * 100 + "</div>",
        "broken image": "<img alt='broken' src='data:image/png;base64,AAAA'>",
        "shrunk figure": f"<img alt='shrunk' style='width:300px' src='{_png(1000, 50)}'>",
    }
    page = tmp_path / "bad.html"
    page.write_text("<!doctype html><html><body>" + "".join(faults.values()) + "</body></html>")
    got = browser.check(page, tmp_path / "bad.png")
    text = "\n".join(got.all_problems())
    assert "console: boom" in text and "undefinedFunction" in text
    assert "the page scrolls sideways" in text and "is wider than the viewport and not in a scroll box" in text
    assert "cuts its content" in text
    assert 'img[alt="broken"] did not load' in text
    assert 'img[alt="shrunk"] is drawn at 0.30 of its 1000 px width' in text
    good = tmp_path / "good.html"
    good.write_text("<!doctype html><html><body><div style='overflow-x:auto'>" + faults["wide table"] + "</div>"
                    f"<img alt='fig' src='{_png(800, 400)}'><p>text</p></body></html>")
    ok = browser.check(good, tmp_path / "good.png")
    assert ok.all_problems() == [] and ok.stats["images"] == 1 and ok.stats["tables"] == 1


@pytest.mark.parametrize("name", COMMANDS + DEMO_PAGES)
def test_report_reads_at_1400px(reports, checked, name):
    page = checked[name]
    raw_tex = json.loads((reports["demo"].parent / "raw_tex.json").read_text())[name.split("/")[0]]
    problems = page.all_problems() + raw_tex
    assert problems == [], f"{page.path} (screenshot {page.screenshot}):\n" + "\n".join(problems)
    shot = mpimg.imread(page.screenshot)
    assert shot.shape[1] == WIDTH and shot.shape[0] >= 300, shot.shape
    # not blank: a real page has text and figures, thousands of pixels far from the background
    ink = np.abs(shot[..., :3] - shot[0, 0, :3]).max(-1) > 0.25
    assert ink.sum() > 5000, f"{page.screenshot} looks blank ({ink.sum()} inked pixels)"
    for href in page.stats["links"]:
        if not re.match(r"^[a-z]+:|^#", href):
            assert (page.path.parent / href).is_file(), f"{page.path}: link {href} points to no file"


def test_reports_embed_their_figures(checked):
    """Self-contained pages: every image is a data: URI, none points to a file or the network."""
    for name, page in checked.items():
        html = page.path.read_text()
        assert page.stats["images"] == len(re.findall(r'<img\b[^>]*src="data:image/png;base64,', html)), name


def test_demo_index_has_a_verdict_thumbnail_and_link_per_section(reports, checked):
    from cltk.analytics.demo import THUMB_HEIGHT, THUMB_WIDTH

    index = reports["demo"]
    summary = json.loads((index / "metrics.json").read_text())
    html = (index / "report.html").read_text()
    assert list(summary) == ["Deep linear networks (cltk simulate dln)"]
    figures = summary["Deep linear networks (cltk simulate dln)"]
    # the verdict is on the page, in words, with the section's own figures in it
    assert f"<p>{escape(figures['verdict'])}</p>" in html
    assert f"{figures['modes_max_rel_err']:.2%}" in figures["verdict"]
    assert f"{figures['sgd_ode_max_abs_diff']:.3g}" in figures["verdict"]
    assert checked["demo"].stats["links"] == ["dln/report.html"] and (index / "dln" / "report.html").is_file()
    # the thumbnail: the first figure of the modes report, shrunk into the thumbnail box
    assert checked["demo"].stats["images"] == 1
    thumb = mpimg.imread(index / "dln_thumbnail.png")
    pad = 2 * 11  # savefig's bbox_inches="tight" pads 0.1 inch at 110 dpi on each side
    assert thumb.shape[1] <= THUMB_WIDTH + pad and thumb.shape[0] <= THUMB_HEIGHT + pad
    assert max(thumb.shape[1] - pad, thumb.shape[0] - pad) >= min(THUMB_WIDTH, THUMB_HEIGHT) - 2
    assert "Main figure of dln/modes/report.html" in html
