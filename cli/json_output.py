"""``--json`` on every command: the figures of the run (its ``metrics.json``, exactly as written) go
to stdout as one JSON document, for scripts and ``jq``; what the command prints for people goes to
stderr instead. Added to each command by :class:`cltk.cli.group.LazyGroup` when it is loaded, so
every command, present and future, has it with the same meaning."""
from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path

import click

HELP = "Print the run's metrics.json to stdout when done (everything else goes to stderr)."


def add_json_option(cmd: click.Command) -> click.Command:
    """Give ``cmd`` (and, for a group, each command below it that is already defined) a ``--json``
    flag. A command's output folder is its ``out_dir`` parameter, whose metrics.json is printed."""
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            add_json_option(sub)
        return cmd
    if cmd.callback is None or any(p.name == "json_out" for p in cmd.params):
        return cmd
    if not any(p.name == "out_dir" for p in cmd.params):
        return cmd
    cmd.params.append(click.Option(["--json", "json_out"], is_flag=True, help=HELP))
    callback = cmd.callback

    @functools.wraps(callback)
    def run(*args, json_out: bool = False, **kw):
        if not json_out:
            return callback(*args, **kw)
        with contextlib.redirect_stdout(sys.stderr):
            rv = callback(*args, **kw)
        metrics = Path(kw["out_dir"]) / "metrics.json"
        if metrics.is_file():  # a run that wrote nothing (proxy train, already finished) prints nothing
            click.echo(metrics.read_text(encoding="utf-8").rstrip("\n"))
        return rv

    cmd.callback = run
    return cmd
