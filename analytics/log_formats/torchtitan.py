"""torchtitan (pytorch/torchtitan, 2025) metrics: ``MetricsProcessor`` writes TensorBoard events
under ``<dump_folder>/tb/<YYYYmmdd-HHMM>/`` (or logs the same names to W&B):
``loss_metrics/global_avg_loss``, ``loss_metrics/global_max_loss``, ``grad_norm``, ``lr``,
``throughput(tps)``, ``mfu(%)``, ``memory/...``, and ``validation_metrics/loss``.

Conventions (read off ``torchtitan/train.py``): ``self.step`` is incremented before the step, the
LR is read with ``get_last_lr()`` before the update (update ``s``'s LR) and the loss is computed
before the update: a loss logged at step ``s`` was measured after ``s - 1`` updates (shifted by
-1). The global average loss is read, not the max over ranks. A run is named after its dump folder."""
from __future__ import annotations

import re
from pathlib import Path

from cltk.analytics.log_formats.base import LogFormat, choose_columns, folder_of

LOSS = "loss_metrics/global_avg_loss"


def detect(probe) -> bool:
    return LOSS in (probe.names or ())


def choose(names, loss):
    return choose_columns(names, loss, step=("step", "Step", "_step"), train=(LOSS,),
                          val=("validation_metrics/loss",), lr=("lr",), shifts={LOSS: -1})


def run_name(path: Path) -> str | None:
    if not (path.is_dir() or "tfevents" in path.name):
        return None
    folder = folder_of(path)
    while re.fullmatch(r"\d{8}-\d{4}|rank_\d+|replica_\d+|tb", folder.name) and folder.parent != folder:
        folder = folder.parent
    return folder.name or None


FORMAT = LogFormat("torchtitan", "torchtitan MetricsProcessor TensorBoard/W&B metrics (2025)", detect, choose,
                   run_name=run_name)
