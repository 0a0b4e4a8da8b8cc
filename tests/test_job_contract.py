"""One job contract: every command's output folder is written by cltk.analytics.result.write_result.

Statically: no module but the writer (and Report, which only it calls) writes a metrics.json or a
report.html, or calls Report._write. Dynamically, for the fast commands (the slower ones are checked
in their own test modules: simulate, proxy, validate, select-cpt, demo): the folder holds
metrics.json and a report.html carrying the writer's mark."""
import ast
import json
from pathlib import Path

from click.testing import CliRunner

from cltk.analytics.report import GENERATOR
from cltk.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
WRITER = {ROOT / "analytics" / "result.py", ROOT / "analytics" / "report.py"}


def test_only_the_writer_writes_metrics_and_reports():
    offenders = []
    for top in ("toolkit", "analytics", "cli"):
        for path in (ROOT / top).rglob("*.py"):
            if path in WRITER:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr == "_write":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} calls _write")
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")).startswith(
                        ("atomic_write", "write_text", "open")):
                    text = ast.unparse(node)
                    if "metrics.json" in text or "report.html" in text:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {text[:60]}")
    assert not offenders, offenders


def test_fit_scaling_and_select_schedule_write_through_the_writer(tmp_path):
    from cltk.analytics.curve_files import write_curve_csv
    from cltk.analytics.demo_curves import FIT, HELDOUT, PEAK, STEPS, WARMUP, synthetic_curves

    curves = synthetic_curves()
    for name, c in curves.items():
        write_curve_csv(c, tmp_path / f"{name}.csv")
    r = CliRunner().invoke(cli, ["fit-scaling", *[str(tmp_path / f"{n}.csv") for n in FIT], "--predict",
                                 *[str(tmp_path / f"{n}.csv") for n in HELDOUT], "--warmup-steps", str(WARMUP),
                                 "--intervals", "4", "--out", str(tmp_path / "fit")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["select-schedule", str(tmp_path / "fit" / "law.json"), "--steps", str(STEPS),
                                 "--peak-lr", str(PEAK), "--warmup", str(WARMUP), "--out", str(tmp_path / "sel")])
    assert r.exit_code == 0, r.output
    assert "beats the runner-up candidate by" in r.output
    for out in (tmp_path / "fit", tmp_path / "sel"):
        assert GENERATOR in (out / "report.html").read_text()
        assert (out / "report.html").stat().st_mode & 0o044 == 0o044  # readable by others (umask 022)
        json.loads((out / "metrics.json").read_text())
    sel = json.loads((tmp_path / "sel" / "metrics.json").read_text())
    assert sel["margin_vs_runner_up_lo"] <= sel["margin_vs_runner_up_hi"]
