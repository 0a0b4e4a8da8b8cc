"""``cltk simulate MODEL``: analytic models. Each model's subcommand lives in its own module."""
from __future__ import annotations

import importlib

import click

# (module, attribute) of each model's click command; a module not present yet is skipped
_MODELS = [("cli.simulate_dln", "dln"), ("cli.simulate_nqm", "nqm"),
           ("cli.simulate_river_valley", "river_valley"), ("cli.simulate_rehearsal", "rehearsal")]


@click.group()
def simulate():
    """Simulate analytic models of training dynamics (writes results, plots and report.html)."""


for _mod, _attr in _MODELS:
    try:
        simulate.add_command(getattr(importlib.import_module(_mod), _attr))
    except ModuleNotFoundError as e:
        if e.name != _mod:
            raise
