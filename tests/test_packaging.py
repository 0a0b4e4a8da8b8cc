"""The package as users install it: one top-level package ``cltk`` (toolkit/ -> cltk, analytics/ ->
cltk.analytics, cli/ -> cltk.cli), complete (every package folder listed, configs shipped), working
from a regular (non-editable) install in another folder, and a top-level command that starts
without numpy, torch, pandas or matplotlib. Also the layer rules of the import graph."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAP = {"toolkit": "cltk", "analytics": "cltk.analytics", "cli": "cltk.cli"}


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for top, name in MAP.items():
        for init in (ROOT / top).rglob("__init__.py"):
            found.add(".".join([name, *init.parent.relative_to(ROOT / top).parts]))
    assert found == listed


def test_import_graph_keeps_the_layer_rules():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "import_graph.py")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_top_level_help_loads_no_heavy_library():
    probe = ("import sys\nfrom cltk.cli.main import cli\ntry:\n    cli(['--help'], prog_name='cltk')\n"
             "except SystemExit:\n    pass\nheavy = ('numpy', 'torch', 'pandas', 'matplotlib', 'scipy')\n"
             "print('LOADED:' + ','.join(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "LOADED:\n" in out or out.rstrip().endswith("LOADED:")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A wheel built from the checkout and installed (no dependencies: they come from this
    environment) into a folder of its own, as a regular install."""
    tmp = tmp_path_factory.mktemp("pkg")
    # build from a clean copy: setuptools reuses an in-tree build/ folder, stale modules included
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                             "reports", ".pytest_cache", ".ruff_cache"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(src)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"building the wheel failed: {r.stderr[-2000:]}")
    wheel = next((tmp / "dist").glob("cltk-*.whl"))
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(tmp / "site"),
                        str(wheel)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    return wheel, tmp / "site"


def test_wheel_holds_one_package_with_its_configs(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"cltk"}
    for needed in ("cltk/py.typed", "cltk/configs/validate/cpu.toml", "cltk/configs/proxy/tiny_cpu.toml",
                   "cltk/analytics/result.py", "cltk/cli/main.py", "cltk/models/dln/__init__.py",
                   "cltk/models/rehearsal/__init__.py"):
        assert needed in names


def test_regular_install_works_from_another_folder(installed, tmp_path):
    _, site = installed
    env = {**os.environ, "PYTHONPATH": str(site)}
    script = ("import cltk\nfrom cltk.laws import MultiPowerLaw\nfrom cltk import configs\n"
              "from cltk.analytics.demo_curves import FIT, HELDOUT, synthetic_curves\n"
              "from cltk.analytics.curve_files import write_curve_csv\n"
              "assert cltk.__file__.startswith(" + repr(str(site)) + "), cltk.__file__\n"
              "assert configs.path('validate/cpu.toml').is_file()\n"
              "for name, c in synthetic_curves().items():\n    write_curve_csv(c, name + '.csv')\n"
              "print(cltk.__version__, ' '.join(FIT), '|', ' '.join(HELDOUT))\n")
    r = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    fit, held = (part.split() for part in r.stdout.split(" ", 1)[1].split("|"))
    cmd = [sys.executable, "-m", "cltk.cli.main", "fit-scaling", *[f"{n}.csv" for n in fit], "--predict",
           *[f"{n}.csv" for n in held], "--warmup-steps", "500", "--intervals", "0", "--out", "out"]
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "out" / "report.html").is_file() and (tmp_path / "out" / "metrics.json").is_file()
