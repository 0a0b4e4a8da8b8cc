"""PyTorch Lightning (lightning 2.x; checked on 2.6.6): ``CSVLogger``'s ``metrics.csv`` in
``<save_dir>/<name>/version_N/`` (default ``lightning_logs/version_N/``), TensorBoardLogger tags,
and WandbLogger histories (``trainer/global_step``).

``metrics.csv`` has one column per logged name, sorted, and sparse rows: ``epoch``, ``step``
(``trainer.global_step`` when logged), the user's ``self.log`` names (``train_loss``, or
``train_loss_step``/``train_loss_epoch`` with ``on_epoch=True``; ``val_loss``) and
LearningRateMonitor's ``lr-<Optimizer>`` (``lr-AdamW``, ``lr-AdamW/pg1`` for more param groups).

Conventions (read off Lightning's loops): a training loss logged at step ``s`` was computed before
update ``s + 1`` (after ``s`` updates: cltk's step s); LearningRateMonitor logs, at step ``s``, the LR
that update ``s + 1`` uses; validation inside an epoch runs after update ``s + 1`` and is logged at
``s``. Both are shifted by one step to cltk's convention. A run is named after its version folder
(``version_N``), with its experiment name in front when that is not the default ``lightning_logs``."""
from __future__ import annotations

import re
from pathlib import Path

from cltk.analytics.log_formats import generic
from cltk.analytics.log_formats.base import LogFormat, choose_columns, folder_of, is_val

_LR = re.compile(r"^lr-[A-Za-z]\w*(/pg\d+)?$")
STEP = ("step", "trainer/global_step")
TRAIN = ("train_loss_step", "train_loss", "train/loss", "loss_step", "loss", "training_loss", "train/loss_step")


def detect(probe) -> bool:
    names = list(probe.names or ())
    if not any(s in names for s in STEP):
        return False
    if any(_LR.match(n) for n in names):
        return True
    # CSVLogger writes its keys sorted; "epoch" is added to every logged row
    return probe.head is not None and "epoch" in names and names == sorted(names) and "iter" not in names


def choose(names, loss):
    lrs = sorted((n for n in names if _LR.match(n)), key=lambda n: (n.count("/"), n))
    shifts = {n: 1 for n in names if _LR.match(n) or is_val(n)}
    return choose_columns(names, loss, step=STEP, train=TRAIN, val=generic.VAL, lr=(*lrs, *generic.LR),
                          shifts=shifts)


def run_name(path: Path) -> str | None:
    folder = folder_of(path)
    if not re.fullmatch(r"version_\d+", folder.name):
        return None
    exp = folder.parent.name
    return folder.name if exp in ("", "lightning_logs") else f"{exp}/{folder.name}"


FORMAT = LogFormat("lightning", "PyTorch Lightning 2.x CSVLogger/TensorBoard/W&B + LearningRateMonitor", detect,
                   choose, run_name=run_name)
