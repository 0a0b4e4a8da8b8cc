"""Any table of step, LR and loss columns under common names: cltk's own ``step,lr,loss`` files
and logs of hand-written training loops (the fallback when no tool's layout is recognised)."""
from __future__ import annotations

from cltk.analytics.log_formats.base import LogFormat, choose_columns

#: optimizer-step columns, global-step names first (a W&B panel's ``Step`` is its ``_step``), ``_step``
# last: it counts log calls, not updates
STEP = ("train/global_step", "trainer/global_step", "global_step", "step", "Step", "iter", "iteration",
        "train/step", "_step")
LR = ("lr", "learning_rate", "train/lr", "train_lr", "train/learning_rate", "lr-AdamW", "optim/lr", "LR")
TRAIN = ("loss", "train/loss", "train_loss", "training_loss", "Metrics/loss", "train loss", "train/loss_step",
         "train_loss_step")
VAL = ("val/loss", "val_loss", "eval/loss", "eval_loss", "validation/loss", "valid/loss", "validation_loss",
       "val loss", "val_loss_epoch", "test/loss", "test_loss")


def choose(names, loss):
    return choose_columns(names, loss, step=STEP, train=TRAIN, val=VAL, lr=LR)


FORMAT = LogFormat("table", "cltk's step,lr,loss files and hand-written loops (common column names)",
                   detect=lambda probe: True, choose=choose)
