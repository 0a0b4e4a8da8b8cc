"""Hugging Face ``transformers`` Trainer: ``trainer_state.json`` (written in the output folder and
in every ``checkpoint-N`` folder), followed as transformers 4.51+ writes it.

The file is one JSON document whose ``log_history`` list holds a record per logging event:
training records ``{"step", "loss", "learning_rate", "grad_norm", "epoch"}``, evaluation records
``{"step", "eval_loss", ...}`` and a final summary whose ``train_loss`` is the mean over the whole
run (never read as a curve point). ``step`` is the optimizer step (``state.global_step``).

Conventions: ``loss`` is the mean training loss over the ``logging_steps`` updates up to the step
(cltk places it at the step); ``learning_rate`` is the LR of the update just done since
transformers 4.51 (PR #36973); earlier versions logged the next update's LR, one step late, which
a smooth schedule does not notice. The run is named after the output folder."""
from __future__ import annotations

import re
from pathlib import Path

from cltk.analytics.log_files import flatten, json_document, records_table
from cltk.analytics.log_formats.base import LogFormat, choose_columns
from cltk.errors import InputError

_KEY = re.compile(r'"log_history"\s*:\s*\[')


def detect(probe) -> bool:
    return probe.head is not None and probe.head.lstrip().startswith("{") and bool(_KEY.search(probe.head))


def read(path: Path, text: str):
    doc = json_document(path, text)
    history = doc.get("log_history") if isinstance(doc, dict) else None
    if not isinstance(history, list) or not all(isinstance(r, dict) for r in history):
        raise InputError(f"{path}: 'log_history' is not a list of objects (expected a Hugging Face trainer_state.json)")
    return records_table(path, [flatten(r) for r in history], [f"log_history[{i}]" for i in range(len(history))])


def choose(names, loss):
    return choose_columns(names, loss, step=("step",), train=("loss",), val=("eval_loss",), lr=("learning_rate",))


def run_name(path: Path) -> str | None:
    folder = path.parent
    if re.fullmatch(r"checkpoint-\d+", folder.name) and folder.parent.name:
        folder = folder.parent
    return folder.name or None


FORMAT = LogFormat("hf-trainer-state", "transformers Trainer trainer_state.json (4.51+)", detect, choose,
                   read=read, run_name=run_name)
