"""Fuzzing every command's options (issue 12). Every option of every command (found by walking the
click tree, so a new option is fuzzed the day it is added) gets values a hostile or careless user
would type: NaN, infinities, negatives, huge and fractional numbers, text, empty strings, lists,
paths that are files or cannot be written. The contract: a clean run, or exactly one line
``error: ...`` with exit code 2 — never a traceback, never exit 1, never a NaN or infinity reaching
a job. The jobs themselves are replaced by a stub that checks what reached it and stops (their
own input checks are tested where they live); budgets as in tests/analytics/test_fuzz_curve_files.py."""
from __future__ import annotations

import importlib
import math
import os
import sys

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cltk import configs
from cltk.cli.main import cli
from cltk.laws import CPTLaw

FACTOR = float(os.environ.get("CLTK_FUZZ_EXAMPLES", "1"))
#: examples (one command line each) in the closing note's count
OPTION_EXAMPLES = 2500

# every module whose run_* functions a command calls: replaced by the stub below
JOB_MODULES = ["cltk.analytics.fit_scaling.job", "cltk.analytics.select_schedule.job", "cltk.analytics.select_cpt.job",
               "cltk.analytics.proxy.job", "cltk.analytics.validate.job", "cltk.analytics.simulate.nqm",
               "cltk.analytics.simulate.river_valley", "cltk.analytics.simulate.rehearsal",
               "cltk.analytics.simulate.dln.experiments", "cltk.analytics.simulate.dln.continual",
               "cltk.analytics.simulate.dln.critical_period", "cltk.analytics.predict.job",
               "cltk.analytics.fit_cpt.job"]

VALUES = ["nan", "NaN", "inf", "-inf", "-1", "0", "1", "2", "1.5", "1e9", "1e300", "-0.5", "abc", "", " ", "1,2",
          "1,nan", "0.5,0.5", ",", "x=y", "cosine:peak=1e-3", "wsd:peak=nan,steps=10", "cpu", "cuda", "auto",
          "\u00e9", "1e-400", "9" * 40]


class _Reached(Exception):
    pass


def _finite(v) -> bool:
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, (list, tuple)):
        return all(_finite(x) for x in v)
    if isinstance(v, dict):
        return all(_finite(x) for x in v.values())
    return True


def _stub(*args, **kwargs):
    assert _finite(list(args)) and _finite(kwargs), f"a non-finite value reached a job: {args} {kwargs}"
    raise SystemExit(0)


@pytest.fixture(scope="module")
def stubbed():
    saved = []
    for name in JOB_MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        for attr in dir(mod):
            if attr.startswith("run_") and callable(getattr(mod, attr)):
                saved.append((mod, attr, getattr(mod, attr)))
                setattr(mod, attr, _stub)
    yield
    for mod, attr, fn in saved:
        setattr(mod, attr, fn)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Valid inputs for each command's required arguments."""
    d = tmp_path_factory.mktemp("inputs")
    (d / "run.csv").write_text("step,lr,loss\n" + "".join(f"{s},{1e-3 if s < 60 else 1e-4},{3 + 10 / s}\n"
                                                          for s in range(10, 101, 10)))
    laws = []
    for dom in ("old", "new"):
        law = CPTLaw(domain=dom)
        law.params_ = {"L0": 2.0, "A": 0.8, "C1": 3.0, "C2": 3.0, "B": 0.3, "alpha": 0.4, "lam": 0.995, "E": 0.5,
                       "beta": 0.7, "rho": 2.0}
        law.fit_info_ = {}
        laws.append(d / f"cpt_law_{dom}.json")
        laws[-1].write_text(law.to_json())
    from cltk.analytics.curve_files import read_curve
    from cltk.laws import get_law

    fitted = get_law("momentum").fit([read_curve(d / "run.csv")])
    (d / "law.json").write_text(fitted.to_json())
    (d / "a_file").write_text("x")
    return {"csv": str(d / "run.csv"), "law": str(d / "law.json"), "old": str(laws[0]), "new": str(laws[1]),
            "file": str(d / "a_file"), "dir": d}


def _commands():
    out = []

    def walk(cmd, path):
        if isinstance(cmd, click.Group):
            for n in cmd.list_commands(click.Context(cli)):
                walk(cmd.get_command(click.Context(cli), n), [*path, n])
        elif path != ["demo"]:
            out.append((tuple(path), cmd))
    walk(cli, [])
    return out


COMMANDS = _commands()


def _baseline(path: tuple, inp: dict, out: str) -> list[str]:
    """A valid command line for ``path`` (the fuzzer then changes its options)."""
    tiny = str(configs.path("proxy/tiny_cpu.toml"))
    return {
        ("fit-scaling",): [inp["csv"], "--intervals", "0"],
        ("fit-cpt",): [inp["csv"], "--old-loss-col", "loss", "--switch-step", "60"],
        ("predict",): [inp["law"], "--schedule", "cosine:peak=1e-3,steps=200"],
        ("select-schedule",): [inp["law"], "--steps", "200", "--peak-lr", "1e-3"],
        ("select-cpt",): [inp["old"], inp["new"], "--pretrain", "cosine:peak=1e-3,steps=1000", "--steps", "500",
                          "--peaks", "1e-3"],
        ("proxy", "train"): [tiny],
        ("proxy", "sweep"): [tiny, "--schedule", "cosine:peak=1e-3,steps=40"],
        ("validate",): [str(configs.path("validate/cpu.toml"))],
    }.get(path, []) + ["--out", out]


@settings(max_examples=int(OPTION_EXAMPLES * FACTOR), deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(which=st.integers(0, len(COMMANDS) - 1), picks=st.lists(st.tuples(st.integers(0, 99),
                                                                           st.sampled_from(VALUES)), max_size=3),
       out_kind=st.sampled_from(["new", "new", "new", "file", "unwritable"]))
def test_fuzz_options_one_line_or_run(stubbed, inputs, tmp_path_factory, which, picks, out_kind):
    path, cmd = COMMANDS[which]
    out = {"new": str(tmp_path_factory.mktemp("out") / "o"), "file": inputs["file"],
           "unwritable": "/proc/cltk-fuzz/o"}[out_kind]
    args = _baseline(path, inputs, out)
    options = [p for p in cmd.params if isinstance(p, click.Option) and p.name not in ("help", "out_dir")]
    for k, value in picks:
        if options:
            opt = options[k % len(options)]
            args += [opt.opts[0]] if opt.is_flag else [opt.opts[0], value]
    r = CliRunner().invoke(cli, [*path, *args])
    if isinstance(r.exception, AssertionError):  # the stub saw a non-finite value
        raise r.exception
    err = r.stderr.strip()
    assert "Traceback" not in r.output + r.stderr, (path, args, r.stderr)
    assert r.exit_code in (0, 2), (path, args, r.exit_code, r.output, r.stderr, r.exc_info)
    if r.exit_code == 2:
        lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
        assert len(lines) == 1 and err.splitlines()[-1].startswith("error:"), (path, args, err)


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_every_baseline_reaches_its_job(stubbed, inputs, tmp_path, path):
    """The fuzzer's starting points are valid command lines (else it would only fuzz one error)."""
    r = CliRunner().invoke(cli, [*path, *_baseline(path, inputs, str(tmp_path / "o"))])
    assert r.exit_code == 0, (path, r.stderr)


def test_debug_shows_the_traceback_of_an_internal_error(monkeypatch, tmp_path):
    """An unexpected error is one line with a hint; --debug (anywhere on the line) shows the traceback."""
    import cltk.analytics.simulate.nqm as nqm

    def boom(**kw):
        raise RuntimeError("something broke")

    monkeypatch.setattr(nqm, "run_nqm", boom)
    r = CliRunner().invoke(cli, ["simulate", "nqm", "--out", str(tmp_path / "o")])
    assert r.exit_code == 1
    assert r.stderr.strip().count("\n") == 0 and "rerun with --debug" in r.stderr and "something broke" in r.stderr
    r = CliRunner().invoke(cli, ["simulate", "nqm", "--out", str(tmp_path / "o"), "--debug"])
    assert isinstance(r.exception, RuntimeError)


def test_file_names_with_control_characters_stay_on_one_line(tmp_path):
    bad = tmp_path / "a\nb.csv"
    bad.write_text("step,lr,loss\n1,0.1,nan\n")
    r = CliRunner().invoke(cli, ["fit-scaling", str(bad), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "a\\nb.csv" in r.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
