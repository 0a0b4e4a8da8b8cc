"""OLMo-core (ai2-olmo-core 2.x) metrics, as its W&B/Comet callbacks log them (saved from
``run.history()`` or a panel export) or as TensorBoard-style tags: ``train/CE loss``,
``optim/LR (group 0)``, ``optim/total grad norm``, in-loop evaluations
``eval/<task>/CE loss``, at ``step = trainer.global_step``.

Conventions (read off OLMo-core's trainer): ``global_step`` is incremented before the batch, the
LR is set for that update from ``global_step``, and the loss is computed before the update: a
training loss logged at step ``s`` was measured after ``s - 1`` updates (shifted by -1); the LR at
``s`` is update ``s``'s; evaluations run after the update (no shift)."""
from __future__ import annotations

import re

from cltk.analytics.log_formats.base import LogFormat, choose_columns

_LR = re.compile(r"^optim/LR \(group (\d+)\)$")
STEP = ("step", "Step", "global_step", "_step")


def detect(probe) -> bool:
    names = probe.names or ()
    return "train/CE loss" in names or any(_LR.match(n) for n in names)


def choose(names, loss):
    lrs = sorted((n for n in names if _LR.match(n)), key=lambda n: int(_LR.match(n).group(1)))
    evals = [n for n in names if n.startswith("eval/") and n.endswith("CE loss")]
    c = choose_columns(names, loss, step=STEP, train=("train/CE loss",), val=tuple(evals), lr=tuple(lrs),
                       shifts={"train/CE loss": -1})
    if loss == "val" and len(evals) > 1:
        c.notes.append(f"{len(evals)} evaluation losses; '{c.loss}' was read (another: --loss-col)")
    return c


FORMAT = LogFormat("olmo-core", "OLMo-core 2.x trainer metrics (train/CE loss, optim/LR (group N))", detect, choose)
