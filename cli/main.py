"""The ``cltk`` command: a click group. Commands live in their own modules and are registered here.

Bad input of any kind (analytics.errors.InputError, or a toolkit ValueError subclass such as a bad
schedule spec or law file) is printed as one line ``error: ...`` and exits with code 2.
"""
from __future__ import annotations

import sys

import click

from analytics.errors import InputError
from toolkit import __version__
from toolkit.laws import LawError
from toolkit.schedules import ScheduleError

BAD_INPUT = (InputError, LawError, ScheduleError)


class Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BAD_INPUT as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cltk")
def cli():
    """cltk: theory of training dynamics and continual learning.

    Fit loss-curve laws to training curves and predict other LR schedules, simulate analytic
    models, and validate both on small-transformer proxies. Every command writes a report.
    """


# (module, attribute) of each top-level command; a capability whose module is not present yet is skipped
_COMMANDS = [("cli.demo", "demo"), ("cli.fit_scaling", "fit_scaling"), ("cli.simulate", "simulate"),
             ("cli.select_schedule", "select_schedule"), ("cli.proxy", "proxy"), ("cli.validate", "validate")]


def _register():
    import importlib

    for mod, attr in _COMMANDS:
        try:
            cli.add_command(getattr(importlib.import_module(mod), attr))
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise


_register()


def main():
    cli(prog_name="cltk")


if __name__ == "__main__":
    main()
