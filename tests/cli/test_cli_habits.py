"""The habits every command shares (issue 15): complete and consistent help, ``--json``, ``--seed``
where a command draws random numbers, one ``--device`` type, ``python -m cltk``, and progress from
the one progress contract. The click tree is walked, so a new command is held to them the day it
is added."""
from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from cltk.cli.main import cli
from cltk.cli.options import DeviceName
from cltk.cli.progress import JobProgress


def _leaves():
    out = []

    def walk(cmd, path):
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for n in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, n), [*path, n])
        else:
            out.append((" ".join(path), cmd))

    walk(cli, [])
    return out


LEAVES = _leaves()
#: commands whose jobs draw random numbers (bootstrap refits, Monte Carlo, initialisation, data order)
RANDOM = {"fit-scaling", "select-schedule", "validate", "simulate nqm", "simulate river-valley",
          "simulate rehearsal", "proxy train", "proxy sweep"} | {p for p, _ in LEAVES if p.startswith("simulate dln ")}


def test_the_tree_holds_every_command():
    names = {p for p, _ in LEAVES}
    assert {"fit-scaling", "predict", "select-schedule", "select-cpt", "validate", "demo", "simulate nqm",
            "simulate dln modes", "proxy train"} <= names


@pytest.mark.parametrize("path,cmd", LEAVES, ids=[p for p, _ in LEAVES])
def test_help_is_complete_and_consistent(path, cmd):
    assert cmd.help and cmd.help.strip(), f"{path}: no help text"
    names = {p.name for p in cmd.params}
    assert "out_dir" in names, f"{path}: no --out"
    for p in cmd.params:
        if isinstance(p, click.Option) and not p.hidden:
            assert p.help and p.help.strip(), f"{path}: {p.opts[0]} has no help text"
            assert p.help.strip()[-1] in ".)", f"{path}: {p.opts[0]}'s help is not a sentence: {p.help!r}"
        if p.name == "device":
            assert isinstance(p.type, DeviceName), f"{path}: --device is not the shared device type"
    assert "json_out" in names, f"{path}: no --json"
    if path in RANDOM:
        assert names & {"seed", "seeds"}, f"{path}: draws random numbers but has no --seed"


@pytest.mark.parametrize("group", [[], ["simulate"], ["simulate", "dln"], ["proxy"]])
def test_group_help_lists_whole_sentences(group):
    r = CliRunner().invoke(cli, [*group, "--help"], terminal_width=80)
    assert r.exit_code == 0, r.output
    commands = r.output.split("Commands:")[1]
    assert "..." not in commands  # click cuts a long first sentence with "..." (and at "et al.")


def test_device_type_takes_every_torch_name_and_refuses_others():
    t = DeviceName()
    assert [t.convert(v, None, None) for v in ("auto", "CPU", "cuda", "cuda:1")] == ["auto", "cpu", "cuda", "cuda:1"]
    for bad in ("gpu", "cuda:", "cuda:x", "tpu"):
        with pytest.raises(click.BadParameter):
            t.convert(bad, None, None)


def test_json_prints_exactly_the_metrics_file_on_stdout(tmp_path):
    out = tmp_path / "rv"
    r = CliRunner().invoke(cli, ["simulate", "river-valley", "--steps", "60", "--seeds", "2", "--no-laws",
                                 "--sweep-lrs", "0.5,1", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == json.loads((out / "metrics.json").read_text())
    assert "wrote" in r.stderr  # what people read moved to stderr


def test_python_dash_m_cltk_is_the_command():
    r = subprocess.run([sys.executable, "-m", "cltk", "--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip().startswith("cltk, version")


def test_progress_counts_drive_bars_and_other_messages_print(capsys):
    from rich.console import Console

    console = Console(file=sys.stderr, force_terminal=False, width=100)
    with JobProgress(console=console) as p:
        p("stage one [not markup]")
        for k in range(1, 4):
            p(f"bootstrap refit {k}/3")
        assert list(p._tasks) == ["bootstrap refit"]
        assert p._progress.tasks[0].completed == 3 and p._progress.tasks[0].total == 3
    err = capsys.readouterr().err
    assert "stage one [not markup]" in err
    with JobProgress(quiet=True, console=console) as q:
        q("bootstrap refit 1/3")
        assert q._progress is None
