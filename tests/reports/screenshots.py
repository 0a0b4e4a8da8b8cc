"""Screenshots of every report for a person to look at, with the problems the tests check for.

    python -m tests.reports.screenshots OUT               # make every report (report_set.py), shoot it
    python -m tests.reports.screenshots OUT reports/demo  # shoot every report.html under given folders

Writes OUT/<name>.png (1400 px wide, full page) and OUT/problems.txt; prints one line per page and
exits 1 when any page has a problem (console error, clipped or sideways-scrolling content, an image
that did not load or is shrunk past readability, a table too wide without its scroll box)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a module or a script alike

from report_browser import Browser, find_chromium  # noqa: E402
from report_set import make_reports  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="folder for the screenshots (and the reports it makes)")
    ap.add_argument("folders", type=Path, nargs="*", help="check every report.html under these instead")
    args = ap.parse_args(argv)
    exe = find_chromium()
    if exe is None:
        print("no Chromium found: install the 'chromium' package or set CLTK_CHROMIUM", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    if args.folders:
        pages = {}
        for folder in args.folders:
            for rep in sorted(folder.rglob("report.html")):
                rel = rep.parent.relative_to(folder)
                pages["_".join((folder.name, *rel.parts))] = rep
    else:
        made = make_reports(args.out / "reports", log=lambda s: print(s, file=sys.stderr))
        pages = {name: folder / "report.html" for name, folder in made.items()}
        pages |= {f"demo_{'_'.join(p.parent.relative_to(made['demo']).parts)}": p
                  for p in sorted(made["demo"].rglob("*/report.html"))}
    lines, bad = [], 0
    with Browser(exe) as browser:
        for name, page in pages.items():
            check = browser.check(page, args.out / f"{name}.png")
            problems = check.all_problems()
            bad += bool(problems)
            lines.append(f"{name}: {check.stats['height']} px tall, {check.stats['images']} images, "
                         f"{check.stats['tables']} tables: {'ok' if not problems else f'{len(problems)} problem(s)'}")
            lines += [f"    {p}" for p in problems]
    text = "\n".join(lines) + "\n"
    (args.out / "problems.txt").write_text(text)
    print(text, end="")
    print(f"{len(pages)} pages, {bad} with problems; screenshots in {args.out}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
