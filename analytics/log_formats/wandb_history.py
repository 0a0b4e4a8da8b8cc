"""Weights & Biases run history, as ``run.history()`` / ``run.scan_history()`` return it (wandb
0.15-0.19) and saved with pandas ``to_csv`` or as JSON Lines: the metrics as logged plus W&B's
own ``_step`` (a count of ``wandb.log`` calls), ``_runtime`` and ``_timestamp``.

``_step`` is an optimizer step only when the training loop passed ``step=`` to ``wandb.log``
(torchtitan, OLMo-core); the Hugging Face Trainer logs ``train/global_step``, Lightning's
WandbLogger ``trainer/global_step``, nanoGPT ``iter``: those are read instead when present."""
from __future__ import annotations

from cltk.analytics.log_formats import generic
from cltk.analytics.log_formats.base import LogFormat, choose_columns

STEP = ("train/global_step", "trainer/global_step", "global_step", "step", "iter", "iteration", "_step")
#: the Hugging Face Trainer's names under W&B (its WandbCallback prefixes train/ and eval/)
LR = (*generic.LR, "train/learning_rate")


def detect(probe) -> bool:
    names = set(probe.names or ())
    return "_step" in names and bool(names & {"_runtime", "_timestamp"})


def choose(names, loss):
    return choose_columns(names, loss, step=STEP, train=generic.TRAIN, val=generic.VAL, lr=LR)


FORMAT = LogFormat("wandb-history", "wandb run.history() saved as CSV/JSONL (wandb 0.15-0.19)", detect, choose)
