"""A click group that imports each subcommand's module only when that subcommand runs."""
from __future__ import annotations

import importlib
import os
import sys

import click

from cltk.errors import InputError


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs, and turns bad
    input raised anywhere below into one line and exit code 2."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str, str]] | None = None, **kw):
        super().__init__(*args, **kw)
        self.lazy = lazy or {}

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx, name):
        if name in self.lazy and name not in self.commands:
            from cltk.cli.json_output import add_json_option

            module, attr, _ = self.lazy[name]
            self.add_command(add_json_option(getattr(importlib.import_module(module), attr)), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx, formatter):
        rows = [(name, self.lazy[name][2] if name in self.lazy else _summary(self.commands[name]))
                for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """As click's, but every failure is one line on stderr: a usage error (bad flag value,
        missing option, unknown command) and bad input exit with code 2, an error of the file system
        (an unwritable --out) with 2 naming the path, anything unexpected with 1 and a hint to
        rerun with ``--debug`` (accepted anywhere on the line, or CLTK_DEBUG=1) for the traceback."""
        args = list(sys.argv[1:] if args is None else args)
        cut = args.index("--") if "--" in args else len(args)
        debug = "--debug" in args[:cut] or os.environ.get("CLTK_DEBUG", "") not in ("", "0")
        args = [a for a in args[:cut] if a != "--debug"] + args[cut:]
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as e:
            where = f"{e.ctx.command_path}: " if getattr(e, "ctx", None) is not None else ""
            _fail(f"{where}{' '.join(e.format_message().split())}", e.exit_code)
        except click.exceptions.Abort:
            _fail("aborted", 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except InputError as e:
            _fail(str(e), 2)
        except Exception as e:  # noqa: BLE001 - the one place an unexpected error becomes one line
            if debug:
                raise
            _fail(*_unexpected(e))
        sys.exit(rv if isinstance(rv, int) else 0)


def _summary(cmd: click.Command) -> str:
    """A command's line in its group's help: its short help, else the whole first paragraph of its
    help (click's default cuts that at the terminal width with "...", or at "et al.")."""
    if cmd.short_help:
        return cmd.short_help
    return " ".join((cmd.help or "").split("\n\n")[0].split())


def _unexpected(e: Exception) -> tuple[str, int]:
    """The one line and exit code of an error that is not bad input: the file system's (it names
    its path), running out of memory, or a bug."""
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror or e}", 2
    if isinstance(e, MemoryError):
        return "out of memory (the input or the options ask for more than this machine holds)", 1
    return (f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]} "
            "(a bug in cltk; rerun with --debug for the traceback and report it)", 1)


def _fail(message: str, code: int):
    """Print ``error: message`` as exactly one line (a file name with a newline or other control
    character is shown escaped) and exit with ``code``."""
    line = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)
    click.echo(f"error: {line}", err=True)
    sys.exit(code)
