"""``cltk simulate MODEL``: analytic models. Each model's subcommand lives in its own module."""
from __future__ import annotations

import click

from cli.simulate_dln import dln
from cli.simulate_nqm import nqm
from cli.simulate_rehearsal import rehearsal
from cli.simulate_river_valley import river_valley


@click.group()
def simulate():
    """Simulate analytic models of training dynamics (writes results, plots and report.html)."""


for _cmd in (dln, nqm, river_valley, rehearsal):
    simulate.add_command(_cmd)
