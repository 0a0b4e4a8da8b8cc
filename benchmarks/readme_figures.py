"""README's `cltk fit-scaling` and `cltk predict` examples (and docs/predict.md's), regenerated:
runs the commands shown (the published 25M protocol, default law, default intervals; then predict
with the law that fit wrote) and writes each output between its markers ``<!-- NAME-example:start
-->`` / ``<!-- NAME-example:end -->`` (``--write``), or checks that the docs still show what the
commands print (``--check``, exit status 1 on drift; the fit time is wall-clock and not compared).
tests/test_readme_figures.py runs the check.

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
COMMAND = ("$ D=../shared/data/loss-curves/mpl-25m\n"
           "$ cltk fit-scaling $D/cosine_24000.csv $D/constant_24000.csv $D/wsdcon_9.csv \\\n"
           "      --predict $D/constant_72000.csv $D/cosine_72000.csv $D/wsd_20000_24000.csv \\\n"
           "      $D/wsdld_20000_24000.csv $D/wsdcon_3.csv $D/wsdcon_18.csv --warmup-steps 2160 "
           "--out reports/fit-25m\n")
#: the schedules of the `cltk predict` example (asked of the law the fit-scaling example writes)
PREDICT = [("wsd-exp", "wsd:peak=3e-4,steps=24000,decay=4000,shape=exp,final=3e-5,warmup=2160"),
           ("wsd-linear", "wsd:peak=3e-4,steps=24000,decay=4000,final=3e-5,warmup=2160"),
           ("wsd-sqrt", "wsd:peak=3e-4,steps=24000,decay=0.2,shape=sqrt,warmup=2160"),
           ("cosine", "cosine:peak=3e-4,steps=24000,final=3e-5,warmup=2160")]
PREDICT_COMMAND = ("$ cltk predict reports/fit-25m/law.json --out reports/predict-25m \\\n"
                   + " \\\n".join(f"      --schedule '{n}={s}'" for n, s in PREDICT) + "\n")
#: (file, example name): each block sits between <!-- NAME-example:start --> and <!-- NAME-example:end -->
PLACES = [("README.md", "fit-scaling"), ("README.md", "predict"), ("docs/predict.md", "predict")]
# the environment of the commands: a fixed terminal width, no PATH
ENV = {"COLUMNS": "110", "PATH": ""}


def _run(args: list[str], tmp: str, shown: str) -> str:
    r = subprocess.run([sys.executable, "-m", "cltk.cli.main", *args], capture_output=True, text=True, env=ENV,
                       check=True)
    return r.stdout.replace(tmp, shown)


def generate(data: Path) -> dict[str, str]:
    """Each example's block (command and output) by example name."""
    with tempfile.TemporaryDirectory() as tmp:
        fit = _run(["fit-scaling", *MPL_25M.fit_scaling_args(data), "--out", f"{tmp}/fit"], f"{tmp}/fit",
                   "reports/fit-25m")
        args = [a for n, s in PREDICT for a in ("--schedule", f"{n}={s}")]
        pred = _run(["predict", f"{tmp}/fit/law.json", *args, "--out", f"{tmp}/predict"], f"{tmp}/predict",
                    "reports/predict-25m")
    return {"fit-scaling": "```\n" + COMMAND + fit.rstrip() + "\n```",
            "predict": "```\n" + PREDICT_COMMAND + pred.rstrip() + "\n```"}


def _comparable(block: str) -> str:
    return re.sub(r"fitted in [0-9.]+ s", "fitted in _ s", block)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--write", action="store_true")
    args = ap.parse_args()
    blocks = generate(args.data)
    drift = 0
    for file, name in PLACES:
        path = ROOT / file
        text = path.read_text()
        start, end = f"<!-- {name}-example:start -->", f"<!-- {name}-example:end -->"
        head, rest = text.split(start, 1)
        current, tail = rest.split(end, 1)
        if args.write:
            path.write_text(f"{head}{start}\n{blocks[name]}\n{end}{tail}")
            print(f"{file}: {name} example rewritten")
        elif _comparable(current.strip()) != _comparable(blocks[name]):
            print(f"{file}'s {name} example differs from what the command prints now; rerun with --write:")
            print(blocks[name])
            drift = 1
        else:
            print(f"{file}'s {name} example matches the command's output")
    return drift


if __name__ == "__main__":
    sys.exit(main())
