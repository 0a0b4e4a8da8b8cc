"""README's `cltk fit-scaling` example, regenerated: runs the command the README shows (the
published 25M protocol, default law, default intervals) and writes its output between the markers
``<!-- fit-scaling-example:start -->`` / ``<!-- fit-scaling-example:end -->`` of README.md
(``--write``), or checks that README still shows what the command prints (``--check``, exit status
1 on drift; the fit time is wall-clock and not compared). tests/test_readme_figures.py runs the check.

    python benchmarks/readme_figures.py --check|--write [--data ../shared/data/loss-curves/mpl-25m]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from cltk.analytics.protocols import MPL_25M

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "loss-curves" / MPL_25M.folder
START, END = "<!-- fit-scaling-example:start -->", "<!-- fit-scaling-example:end -->"
COMMAND = ("$ D=../shared/data/loss-curves/mpl-25m\n"
           "$ cltk fit-scaling $D/cosine_24000.csv $D/constant_24000.csv $D/wsdcon_9.csv \\\n"
           "      --predict $D/constant_72000.csv $D/cosine_72000.csv $D/wsd_20000_24000.csv \\\n"
           "      $D/wsdld_20000_24000.csv $D/wsdcon_3.csv $D/wsdcon_18.csv --warmup-steps 2160 "
           "--out reports/fit-25m\n")


def generate(data: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([sys.executable, "-m", "cltk.cli.main", "fit-scaling", *MPL_25M.fit_scaling_args(data),
                            "--out", tmp], capture_output=True, text=True, env={"COLUMNS": "110", "PATH": ""},
                           check=True)
        out = r.stdout.replace(tmp, "reports/fit-25m")
    return "```\n" + COMMAND + out.rstrip() + "\n```"


def _comparable(block: str) -> str:
    return re.sub(r"fitted in [0-9.]+ s", "fitted in _ s", block)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--write", action="store_true")
    args = ap.parse_args()
    readme = (ROOT / "README.md").read_text()
    head, rest = readme.split(START, 1)
    current, tail = rest.split(END, 1)
    block = generate(args.data)
    if args.write:
        (ROOT / "README.md").write_text(f"{head}{START}\n{block}\n{END}{tail}")
        print("README.md: fit-scaling example rewritten")
        return 0
    if _comparable(current.strip()) != _comparable(block):
        print("README.md's fit-scaling example differs from what the command prints now; rerun with --write:")
        print(block)
        return 1
    print("README.md's fit-scaling example matches the command's output")
    return 0


if __name__ == "__main__":
    sys.exit(main())
