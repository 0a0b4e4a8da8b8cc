"""Weights & Biases UI export: a line-plot panel's "Download CSV" (W&B web app, 2023-2025).

The first column is the panel's x axis (``Step``, W&B's ``_step``, unless another x axis was
chosen); each plotted run contributes ``<run> - <metric>`` and, for the min/max band of sampled or
grouped lines, ``<run> - <metric>__MIN`` and ``__MAX``; a grouped line is ``Group: <name> - ...``.
One file holds every run of the panel, with empty cells where a run logged nothing at a step.

Read as one table per run, named after the run, with the band columns dropped; the run's metric
names then go through the other adapters (an OLMo-core run exported this way is read as OLMo-core).
A run whose panel holds the loss but not the LR takes its LR from another given export file that
has the same run (``cltk fit-scaling loss.csv lr.csv``). Caveat: a panel plots a sample of a long
history; export ``run.history()`` (wandb-history) for every logged point."""
from __future__ import annotations

from cltk.analytics.log_formats.base import LogFormat, view

SEP = " - "
BAND = ("__MIN", "__MAX")


def _metric_columns(names):
    return [n for n in names[1:] if SEP in n and not n.endswith(BAND)]


def detect(probe) -> bool:
    names = list(probe.names or ())
    if len(names) < 2 or probe.head is None:  # a table read from text (not TensorBoard tags)
        return False
    rest = names[1:]
    return any(n.endswith(BAND) and SEP in n for n in rest) or len(_metric_columns(names)) == len(rest)


def split(table):
    x = table.names[0]
    runs: dict[str, dict[str, str]] = {}
    for col in _metric_columns(table.names):
        run, metric = col.rsplit(SEP, 1)
        runs.setdefault(run.strip(), {x: x})[metric.strip()] = col
    return [(run, view(table, mapping)) for run, mapping in runs.items()]


FORMAT = LogFormat("wandb-export", "W&B web app line-plot panel CSV export (2023-2025)", detect, split=split)
