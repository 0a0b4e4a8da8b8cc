"""The ``cltk`` command: a click group whose commands live in their own modules and are imported
only when run (``cltk --help`` loads no numpy, torch, pandas or matplotlib).

Bad input of any kind raises :class:`cltk.errors.InputError` (or a subclass: a bad schedule spec,
law file, proxy config, ...); it is caught once, by :class:`cltk.cli.group.LazyGroup`, printed as one
line ``error: ...`` and the command exits with code 2; an unexpected error is one line and exit
code 1, with ``--debug`` for its traceback.
"""
from __future__ import annotations

import click

from cltk import __version__
from cltk.cli.group import LazyGroup

# command name -> (module, attribute, one-line help shown by `cltk --help` without importing it)
COMMANDS = {
    "demo": ("cltk.cli.demo", "demo", "Run the demo of every capability and write one report."),
    "fit-scaling": ("cltk.cli.fit_scaling", "fit_scaling",
                    "Fit a loss-curve law on training curves and predict held-out curves."),
    "fit-cpt": ("cltk.cli.fit_cpt", "fit_cpt",
                "Fit the continual pre-training law per domain on your own two-phase logs."),
    "select-schedule": ("cltk.cli.select_schedule", "select_schedule",
                        "Choose an LR schedule (WSD, cosine or free) with a fitted law."),
    "predict": ("cltk.cli.predict", "predict", "Predict and rank the loss curves of LR schedules with a fitted law."),
    "select-cpt": ("cltk.cli.select_cpt", "select_cpt",
                   "Choose a continual pre-training schedule (peak, warmup, replay) with CPT laws."),
    "simulate": ("cltk.cli.simulate", "simulate",
                 "Analytic models: deep linear networks, NQM, river valley, rehearsal."),
    "proxy": ("cltk.cli.proxy", "proxy", "Small-transformer proxy: train under any schedule and data mix, or sweep."),
    "validate": ("cltk.cli.validate", "validate", "Check the laws' predictions on real small-transformer runs."),
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cltk")
@click.option("--debug", is_flag=True, expose_value=False,
              help="Show the traceback of an unexpected error (also accepted after the command, or CLTK_DEBUG=1).")
def cli():
    """cltk: theory of training dynamics and continual learning.

    Fit loss-curve laws to training curves and predict other LR schedules, simulate analytic
    models, and validate both on small-transformer proxies. Every command writes a report.
    """


def main():
    cli(prog_name="cltk")


if __name__ == "__main__":
    main()
