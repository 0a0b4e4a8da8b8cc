"""LitGPT pretraining (``litgpt pretrain``, litgpt 0.4-0.5, ``--logger_name csv``): Lightning
Fabric's CSVLogger writes ``<out_dir>/logs/csv/version_N/metrics.csv``.

litgpt logs with ``fabric.log_dict(metrics, step=iter_num - 1)`` and Fabric overwrites the
dict's own ``step`` (the optimizer step count) with that argument, so the file's ``step`` is the
iteration index from 0, beside ``iter`` (= step + 1), ``loss``, ``learning_rate``, ``iter_time``,
``tokens``... and rows of ``val_loss``/``val_ppl``.

Conventions (read off ``litgpt/pretrain.py``): the row ``step = s`` is iteration ``s``; its
``loss`` was computed before that iteration's update (cltk's step s), its ``learning_rate`` is
``get_lr(s)``, the LR of update ``s + 1`` (0 at s = 0 under warmup), and ``val_loss`` is measured
after that update. The LR and validation columns are shifted by one step; the step-0 row's loss,
logged before any update, is left out of fits like every point before training. Without gradient
accumulation an iteration is an optimizer step; with ``A`` accumulation iterations the steps read
are iterations (A per update), which rescales the LR area S1 by A alike for every run of a fit.
A run is named after its ``out_dir``."""
from __future__ import annotations

import re
from pathlib import Path

from cltk.analytics.log_formats.base import LogFormat, choose_columns

_SIGNS = {"iter_time", "remaining_time", "total_tokens"}


def detect(probe) -> bool:
    names = set(probe.names or ())
    return {"iter", "step", "loss", "learning_rate"} <= names and bool(names & _SIGNS)


def choose(names, loss):
    return choose_columns(names, loss, step=("step",), train=("loss",), val=("val_loss",), lr=("learning_rate",),
                          shifts={"learning_rate": 1, "val_loss": 1, "val_ppl": 1})


def run_name(path: Path) -> str | None:
    folder = path.parent
    m = re.fullmatch(r"version_(\d+)", folder.name)
    if m and folder.parent.name == "csv" and folder.parent.parent.name == "logs":
        out = folder.parent.parent.parent.name
        return out if m.group(1) == "0" else f"{out}/{folder.name}"
    return None


FORMAT = LogFormat("litgpt", "LitGPT pretrain CSV logger (litgpt 0.4-0.5, Lightning Fabric CSVLogger)", detect,
                   choose, run_name=run_name)
