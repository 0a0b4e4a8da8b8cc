"""``cltk simulate MODEL``: analytic models. Each model's subcommand lives in its own module and is
imported only when it runs."""
from __future__ import annotations

import click

from cltk.cli.group import LazyGroup

MODELS = {
    "dln": ("cltk.cli.simulate.dln", "dln",
            "Deep linear networks: modes, depth, rich vs lazy, sequential tasks, critical periods."),
    "nqm": ("cltk.cli.simulate.nqm", "nqm", "Noisy quadratic model (Zhang et al. 2019) under LR schedules."),
    "river-valley": ("cltk.cli.simulate.river_valley", "river_valley",
                     "River-valley landscape (Wen et al. 2024) under LR schedules."),
    "rehearsal": ("cltk.cli.simulate.rehearsal", "rehearsal",
                  "Power-law vs uniform vs exponential rehearsal environments."),
}


@click.group(cls=LazyGroup, lazy=MODELS)
def simulate():
    """Simulate analytic models of training dynamics (writes results, plots and report.html)."""
