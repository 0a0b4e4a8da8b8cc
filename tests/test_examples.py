"""The Python examples of README.md and docs/ are the scripts in examples/: every ```python block of
the docs follows a line that names its script and ends with a colon (``examples/NAME.py:``), and is
that script byte for byte; every script is shown somewhere and runs to completion. So a shown
example cannot rot."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
LABEL = re.compile(r"examples/(\w+\.py)")


def _shown() -> list[tuple[str, str | None, str]]:
    """(doc, script name or None, code) for every ```python block of the docs."""
    out = []
    for doc in DOCS:
        text = doc.read_text()
        for m in BLOCK.finditer(text):
            before = [ln for ln in text[: m.start()].splitlines() if ln.strip()]
            label = LABEL.search(before[-1]) if before and before[-1].rstrip().endswith(":") else None
            out.append((doc.name, label.group(1) if label else None, m.group(1)))
    return out


def test_examples_exist():
    assert len(EXAMPLES) >= 5, "examples/ lost its scripts"


@pytest.mark.parametrize("doc, name, code", _shown(), ids=[f"{d}:{n}" for d, n, _ in _shown()])
def test_doc_block_is_an_example_script(doc, name, code):
    assert name, f"{doc}: a ```python block without an 'examples/NAME.py:' line above it"
    script = ROOT / "examples" / name
    assert script.is_file(), f"{doc} shows examples/{name}, which does not exist"
    assert code == script.read_text(), f"{doc}: the block shown for examples/{name} differs from the script"


def test_every_example_is_shown():
    shown = {name for _, name, _ in _shown()}
    assert {p.name for p in EXAMPLES} <= shown, "an examples/ script that no doc shows"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    # run from an empty folder with TMPDIR inside it: an example must need no repository files
    # and write nothing outside a temporary directory
    env = {**os.environ, "TMPDIR": str(tmp_path), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert proc.stdout.strip(), f"{script.name} printed nothing"
    left = [p.name for p in tmp_path.iterdir() if not p.name.startswith("torchinductor_")]  # torch's own cache
    assert not left, f"{script.name} left files behind: {left}"
