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


def _register():
    from cli.demo import demo
    from cli.fit_scaling import fit_scaling
    from cli.proxy import proxy
    from cli.select_cpt import select_cpt_cmd
    from cli.select_schedule import select_schedule
    from cli.simulate import simulate
    from cli.validate import validate

    for cmd in (demo, fit_scaling, select_schedule, select_cpt_cmd, simulate, proxy, validate):
        cli.add_command(cmd)


_register()


def main():
    cli(prog_name="cltk")


if __name__ == "__main__":
    main()
